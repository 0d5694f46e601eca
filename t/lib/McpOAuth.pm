package McpOAuth;

# Shared helpers for the Test::Nginx suites: loads the module into every
# block's nginx.conf and reads or mints test tokens (t/data, see README there);
# for the authorization server suites (t/100-140), the standard server config
# and an HTTP client that drives multi-step OAuth flows (see "Authorization
# server flows" below).

use strict;
use warnings;
use Cwd qw(abs_path);
use File::Basename qw(dirname);
use Exporter 'import';

our @EXPORT = qw(token mint);

# "--- section eval" code runs in Test::Base::Filter: the helpers are there too
{
    no strict 'refs';
    *{"Test::Base::Filter::$_"} = \&{$_} for @EXPORT;
}

my $root = abs_path(dirname(__FILE__) . '/../..');

$ENV{TEST_NGINX_MODULE} ||= "$root/build/ngx_http_mcp_oauth_module.so";
$ENV{TEST_NGINX_DATA}   ||= "$root/t/data";
$ENV{TEST_NGINX_BINARY} ||= '/usr/sbin/nginx';

# the compiled module is loaded ahead of each block's own main_config
# TEST_NGINX_STATE=redis: the authorization server of as_config() keeps
# its state in a redis-server of the suite's own (TEST_NGINX_REDIS_PORT)
sub redis_state { return ($ENV{TEST_NGINX_STATE} // '') eq 'redis' }

sub setup {
    if (redis_state()) {
        require McpOAuth::Redis;
        McpOAuth::Redis::start(port => $ENV{TEST_NGINX_REDIS_PORT} // 6390);
    }
    Test::Nginx::Socket::add_block_preprocessor(sub {
        my $block = shift;
        my $main = $block->main_config // '';
        $block->set_value('main_config',
                          "load_module $ENV{TEST_NGINX_MODULE};\n$main");
    });
}

# a fixture token from t/data/tokens/NAME.jwt
sub token {
    my ($name) = @_;
    my $file = "$ENV{TEST_NGINX_DATA}/tokens/$name.jwt";
    open my $fh, '<', $file or die "cannot open $file: $!";
    local $/;
    my $t = <$fh>;
    close $fh;
    $t =~ s/\s+\z//;
    return $t;
}

# a token minted now (t/data/mint.mjs), for times relative to the test run:
#   mint(key => 'rsa1', 'exp-in' => -30, claims => '{"scope":"a b"}')
sub mint {
    my (%a) = @_;
    my @args = ("$ENV{TEST_NGINX_DATA}/mint.mjs");
    for my $k (sort keys %a) {
        push @args, "--$k", $a{$k};
    }
    open my $fh, '-|', 'node', @args or die "cannot run node: $!";
    local $/;
    my $t = <$fh>;
    close $fh;
    die "mint.mjs failed: @args" if $? != 0;
    $t =~ s/\s+\z//;
    return $t;
}

# ------------------------------------------------- authorization server flows
#
# Codes, client ids and tokens are random, so a multi-step flow cannot be a
# list of fixed requests.  A block sends one harmless request and names a
# flow in "--- response_body_filters eval" (the real Test::Nginx::Socket
# section: each filter gets the response body and returns the new one, while
# the block's nginx is still up):
#
#   --- response_body_filters eval
#   McpOAuth::flow(\&main::code_replay)
#
# The flow ignores the body, talks to the block's nginx with HTTP::Tiny and
# reports what it saw with say(), one line per step and never a random
# value; "--- response_body" compares the transcript.  A flow that dies
# leaves "died: <why>" as its last line.

use HTTP::Tiny ();
use JSON::PP ();
use Digest::SHA ();
use MIME::Base64 ();

our @EXPORT_OK = qw(say_ flow port base req pkce register authorize consent
    approve deny code_for token_req redeem refresh revoke bearer jwt_parts
    thumbprint json_canon pick www_error qs err redir grant tok prot);
our %EXPORT_TAGS = (as => \@EXPORT_OK);

# the RFC 7636 appendix B pair, for fixed requests
our $VERIFIER  = 'dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk';
our $CHALLENGE = 'E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM';

# the block's nginx (TEST_NGINX_SERVER_PORT is only set by the real runner
# once it runs; it follows TEST_NGINX_PORT, default 1984)
sub port { $ENV{TEST_NGINX_SERVER_PORT} || $ENV{TEST_NGINX_PORT} || 1984 }
sub base { 'http://127.0.0.1:' . ($_[0] || port()) }

# The usual authorization server, as the "--- config" of a block:
#   --- config eval
#   McpOAuth::as_config(extra => 'mcp_oauth_consent_ttl 0;')
# key: signing key in t/data/signing (ec | rsa | ed25519, default ec);
# login: 'header' (default: the user is the X-Test-User request header) or
# 'basic' (auth_basic with t/data/signing/htpasswd, mcp_oauth_user left at
# its default $remote_user); scopes: mcp_oauth_scopes_supported (undef: no
# directive); extra: more server-level directives.  Static clients:
#   app   public, "Static App", https://app.example.com/cb and the loopback
#         http://127.0.0.1:1234/cb
#   conf  confidential (secret conf-secret-0123456789), "Conf App", registered scope
#         "mcp:tools read:application", https://conf.example.com/cb
# /mcp is protected (mcp_oauth on, required scope mcp:tools) and proxies to
# /echo, which shows the identity the module passed on.
sub as_config {
    my (%o) = @_;
    my $key = $o{key} // 'ec';
    my $scopes = exists $o{scopes} ? $o{scopes}
                                   : 'mcp:tools read:application write:application';
    my $login = ($o{login} // 'header') eq 'basic'
        ? "auth_basic \"MCP\";\n        auth_basic_user_file \$TEST_NGINX_DATA/signing/htpasswd;\n        "
        : '';
    my $user = $login ? '' : "    mcp_oauth_user \$http_x_test_user;\n";
    my $c = '';
    $c .= "    mcp_oauth_issuer http://127.0.0.1:\$TEST_NGINX_SERVER_PORT;\n";
    $c .= "    mcp_oauth_resource http://127.0.0.1:\$TEST_NGINX_SERVER_PORT/mcp;\n";
    $c .= "    mcp_oauth_signing_key \$TEST_NGINX_DATA/signing/$key.pem;\n";
    $c .= "    mcp_oauth_scopes_supported $scopes;\n" if defined $scopes;
    $c .= $user;
    $c .= <<'_EOC_';
    mcp_oauth_client app "name=Static App"
        https://app.example.com/cb http://127.0.0.1:1234/cb;
    mcp_oauth_client conf secret=conf-secret-0123456789 "name=Conf App"
        "scope=mcp:tools read:application" https://conf.example.com/cb;
_EOC_
    $c .= "    $o{extra}\n" if defined $o{extra};
    if (redis_state()) {
        # a prefix per block: nothing remembered from the block before
        our $Block;
        $Block++;
        my $port = $ENV{TEST_NGINX_REDIS_PORT} // 6390;
        $c .= "    mcp_oauth_state_request /_mcp_state prefix=t$$:$Block:;\n";
        $c .= "    location = /_mcp_state { internal; "
            . "mcp_oauth_redis_pass 127.0.0.1:$port; }\n";
    }
    $c .= <<"_EOC_";

    location = /.well-known/oauth-authorization-server { mcp_oauth_server_metadata; }
    location = /.well-known/openid-configuration { mcp_oauth_server_metadata; }
    location = /authorize {
        ${login}mcp_oauth_authorize;
    }
    location = /token { mcp_oauth_token; }
    location = /register { mcp_oauth_register; }
    location = /revoke { mcp_oauth_revoke; }
    location = /jwks { mcp_oauth_jwks_publish; }
_EOC_
    $c .= <<'_EOC_';
    location = /echo {
        return 200 "sub=[$http_x_sub] client=[$http_x_client] scope=[$http_x_scope] auth=[$http_authorization]\n";
    }
    location /mcp {
        mcp_oauth on;
        mcp_oauth_required_scope mcp:tools;
        proxy_set_header X-Sub $mcp_oauth_sub;
        proxy_set_header X-Client $mcp_oauth_client_id;
        proxy_set_header X-Scope $mcp_oauth_scope;
        proxy_pass http://127.0.0.1:$TEST_NGINX_SERVER_PORT/echo;
    }
_EOC_
    return $c;
}

# ---- transcript

our @Transcript;

sub say_ { push @Transcript, join ' ', map { $_ // '(none)' } @_ }

# a response_body_filters code ref running CODE (which calls say_) and
# returning the transcript
sub flow {
    my ($code) = @_;
    return sub {
        local @Transcript;
        eval { $code->(@_); 1 } or do {
            (my $e = $@ // 'unknown') =~ s/\s+\z//;
            say_("died: $e");
        };
        return join '', map { "$_\n" } @Transcript;
    };
}

# ---- HTTP

sub qs {
    my ($s) = @_;
    my %q;
    for my $kv (split /&/, $s // '') {
        my ($k, $v) = split /=/, $kv, 2;
        next unless defined $k && length $k;
        for ($k, $v) {
            next unless defined;
            tr/+/ /;
            s/%([0-9A-Fa-f]{2})/chr hex $1/ge;
        }
        $q{$k} //= $v // '';
    }
    return \%q;
}

sub html_unescape {
    my ($s) = @_;
    $s =~ s/&#x([0-9A-Fa-f]+);/chr hex $1/ge;
    $s =~ s/&#([0-9]+);/chr $1/ge;
    my %e = (amp => '&', lt => '<', gt => '>', quot => '"', apos => "'");
    $s =~ s/&(amp|lt|gt|quot|apos);/$e{$1}/g;
    return $s;
}

# what a browser posts of an HTML form, attribute order and quoting free:
# its hidden inputs, and its ticked checkboxes that are not disabled (the
# consent page's granted_scope: an array ref of their values)
sub hidden_inputs {
    my ($html) = @_;
    my %f;
    while ($html =~ /<input\b([^>]*)>/gis) {
        my $tag = $1;
        my %a;
        while ($tag =~ /([\w-]+)\s*=\s*(?:"([^"]*)"|'([^']*)'|([^\s"'>]+))/g) {
            $a{lc $1} = html_unescape($2 // $3 // $4);
        }
        my $type = lc($a{type} // '');
        next unless defined $a{name};
        if ($type eq 'checkbox') {
            my $bare = $tag =~ s/"[^"]*"|'[^']*'//gr;
            push @{ $f{$a{name}} }, $a{value} // 'on'
                if $bare =~ /\bchecked\b/i && $bare !~ /\bdisabled\b/i;
            next;
        }
        next unless $type eq 'hidden';
        $f{$a{name}} = $a{value} // '';
    }
    return \%f;
}

# req(METHOD, PATH, ...) -> {status, headers (lower-case names), content,
# json (decoded body or undef), location, query (of the Location), form
# (hidden inputs of an HTML body)}.  Options: port, headers => {...},
# user => NAME (X-Test-User), basic => [USER, PASS] (Authorization: Basic),
# form => {...} or [k, v, ...] (x-www-form-urlencoded body), json => DATA,
# body => RAW with type => CONTENT-TYPE, jar => {} (a browser's cookies:
# sent as Cookie, and each Set-Cookie name=value kept in it; Max-Age=0
# removes).
sub req {
    my ($method, $path, %o) = @_;
    my %h = %{ $o{headers} || {} };
    $h{'X-Test-User'} = $o{user} if defined $o{user};
    $h{Cookie} //= join '; ', map { "$_=$o{jar}{$_}" } sort keys %{ $o{jar} }
        if $o{jar} && %{ $o{jar} };
    $h{Authorization} = 'Basic ' . MIME::Base64::encode_base64(join(':', @{ $o{basic} }), '')
        if $o{basic};
    my $content;
    if ($o{form}) {
        $content = HTTP::Tiny->www_form_urlencode($o{form});
        $h{'Content-Type'} //= 'application/x-www-form-urlencoded';
    } elsif (exists $o{json}) {
        $content = JSON::PP->new->canonical->encode($o{json});
        $h{'Content-Type'} //= 'application/json';
    } elsif (defined $o{body}) {
        $content = $o{body};
        $h{'Content-Type'} //= $o{type} if defined $o{type};
    }
    my $ua = HTTP::Tiny->new(max_redirect => 0, timeout => 10, keep_alive => 0,
                             proxy => undef, http_proxy => undef, https_proxy => undef);
    my $r = $ua->request($method, base($o{port}) . $path,
                         { headers => \%h, defined $content ? (content => $content) : () });
    die "$method $path: $r->{content}\n" if $r->{status} == 599;
    if ($o{jar}) {
        my $sc = $r->{headers}{'set-cookie'} // [];
        for my $c (ref $sc ? @$sc : $sc) {
            my ($n, $v) = $c =~ /^\s*([^=;\s]+)=([^;]*)/ or next;
            if ($c =~ /;\s*Max-Age=0+(?:;|$)/i) { delete $o{jar}{$n} } else { $o{jar}{$n} = $v }
        }
    }
    my $res = { status => $r->{status}, headers => $r->{headers}, content => $r->{content} // '' };
    $res->{json} = eval { JSON::PP->new->decode($res->{content}) };
    if (defined(my $loc = $r->{headers}{location})) {
        $res->{location} = $loc;
        $res->{query} = qs($loc =~ /\?([^#]*)/ ? $1 : '');
    }
    $res->{form} = hidden_inputs($res->{content})
        if ($r->{headers}{'content-type'} // '') =~ m{text/html};
    return $res;
}

# "STATUS error" of a JSON error answer (or just STATUS)
sub err {
    my ($r) = @_;
    my $e = ref $r->{json} eq 'HASH' ? $r->{json}{error} : undef;
    return defined $e ? "$r->{status} $e" : "$r->{status}";
}

# the error and error_description of a WWW-Authenticate header
sub www_error {
    my ($r) = @_;
    my $w = $r->{headers}{'www-authenticate'} // '';
    my ($e) = $w =~ /\berror="([^"]*)"/;
    my ($d) = $w =~ /\berror_description="([^"]*)"/;
    return join ' ', grep { defined } $e, $d;
}

# a redirect in one line, without random values: "302 TARGET" and its
# query parameters by name: code (present), iss (when it is this issuer,
# else iss=VALUE), error_description (present), others as name=value;
# anything but a redirect is "STATUS page"
sub redir {
    my ($r) = @_;
    return "$r->{status} page" unless defined $r->{location} && $r->{status} =~ /^30[1237]$/;
    my ($target) = $r->{location} =~ /^([^?#]*)/;
    my $q = $r->{query};
    my @p = map {
        $_ eq 'code' || $_ eq 'error_description' ? $_
          : $_ eq 'iss' && $q->{iss} eq base() ? 'iss'
          : "$_=$q->{$_}"
    } sort keys %$q;
    return join ' ', $r->{status}, $target, @p;
}

# ---- OAuth steps

# (verifier, S256 challenge)
sub pkce {
    my $v = MIME::Base64::encode_base64url(join '', map { chr int rand 256 } 1 .. 32);
    return ($v, MIME::Base64::encode_base64url(Digest::SHA::sha256($v)));
}

# POST /register with the metadata (default: a public client of
# https://client.example.com/cb named "Test Client")
sub register {
    my (%meta) = @_;
    my $port = delete $meta{port};
    %meta = (redirect_uris => ['https://client.example.com/cb'],
             token_endpoint_auth_method => 'none',
             client_name => 'Test Client', %meta);
    delete $meta{$_} for grep { !defined $meta{$_} } keys %meta;
    return req(POST => '/register', json => \%meta, port => $port);
}

# GET /authorize.  Parameters: response_type (default code), client_id,
# redirect_uri, code_challenge, code_challenge_method (default S256 when
# there is a challenge), state, scope, resource (undef leaves one out);
# extra => 'k=v&...' appended raw; options user, basic, port, jar.
sub authorize {
    my (%p) = @_;
    my %o = map { $_ => delete $p{$_} } grep { exists $p{$_} } qw(user basic port extra jar);
    %p = (response_type => 'code', %p);
    $p{code_challenge_method} //= 'S256'
        if defined $p{code_challenge} && !exists $p{code_challenge_method};
    my @pairs = map { ($_, $p{$_}) } grep { defined $p{$_} } sort keys %p;
    my $q = HTTP::Tiny->www_form_urlencode(\@pairs);
    $q .= "&$o{extra}" if defined $o{extra};
    return req(GET => "/authorize?$q", %o);
}

# POST the consent form of an /authorize answer back with a decision.
# Options: user, basic, port, jar; set => {field => value} (alter or add
# fields), drop => [fields] (leave out).
sub consent {
    my ($page, $decision, %o) = @_;
    my %f = %{ $page->{form} || {} };
    %f = (%f, %{ $o{set} || {} });
    delete @f{ @{ $o{drop} || [] } };
    $f{decision} = $decision if defined $decision;
    return req(POST => '/authorize', form => \%f,
               map { $_ => $o{$_} } grep { exists $o{$_} } qw(user basic port jar));
}
sub approve { consent($_[0], 'approve', @_[1 .. $#_]) }
sub deny    { consent($_[0], 'deny', @_[1 .. $#_]) }

# authorize and, when a consent page comes, approve it: the final answer
# (a redirect; its query has code, state, iss)
sub code_for {
    my (%p) = @_;
    my $r = authorize(%p);
    return $r unless $r->{status} == 200;
    return approve($r, map { $_ => $p{$_} } grep { exists $p{$_} } qw(user basic port jar));
}

# POST /token (token_req: token() reads a fixture token).  Options: basic => [ID, SECRET] (client_secret_basic), port;
# the rest are form fields (client_secret for client_secret_post).
sub token_req {
    my (%f) = @_;
    my %o = map { $_ => delete $f{$_} } grep { exists $f{$_} } qw(basic port);
    delete $f{$_} for grep { !defined $f{$_} } keys %f;
    return req(POST => '/token', form => \%f, %o);
}

# authorization_code grant for CLIENT (a client_id, or a registration
# answer's JSON: a secret goes as client_secret_basic)
sub redeem {
    my ($client, $code, $verifier, %f) = @_;
    return token_req(grant_type => 'authorization_code', code => $code,
                 code_verifier => $verifier, client_auth($client), %f);
}

sub refresh {
    my ($client, $rt, %f) = @_;
    return token_req(grant_type => 'refresh_token', refresh_token => $rt,
                 client_auth($client), %f);
}

sub client_auth {
    my ($c) = @_;
    return () unless defined $c;
    return (client_id => $c) unless ref $c;
    return (client_id => $c->{client_id}) unless defined $c->{client_secret};
    return (basic => [$c->{client_id}, $c->{client_secret}]);
}

# POST /revoke (client authentication as at /token)
sub revoke {
    my ($client, $tok, %f) = @_;
    my %o = (client_auth($client), token => $tok, %f);
    my %x = map { $_ => delete $o{$_} } grep { exists $o{$_} } qw(basic port);
    return req(POST => '/revoke', form => \%o, %x);
}

# a whole grant: CLIENT (default: a newly registered public client; a
# client_id string; or a registration answer, whose secret is used) gets a
# code for USER (default alice) through the consent page and redeems it.
# Options: client, user, scope, resource, redirect_uri, port.  Returns
# {client, client_id, verifier, redirect_uri, code, res (the /token
# answer), at, rt}.
sub grant {
    my (%o) = @_;
    my $c = $o{client} // register(port => $o{port})->{json};
    my $cid = ref $c ? $c->{client_id} : $c;
    my $cb = $o{redirect_uri} // (ref $c ? $c->{redirect_uris}[0] : 'https://app.example.com/cb');
    my ($v, $ch) = pkce();
    my $r = code_for(client_id => $cid, redirect_uri => $cb, code_challenge => $ch,
                     state => 'st', user => $o{user} // 'alice', scope => $o{scope},
                     resource => $o{resource}, port => $o{port});
    my $code = $r->{query}{code} // die 'no code: ' . redir($r) . "\n";
    my $t = redeem($c, $code, $v, redirect_uri => $cb, port => $o{port});
    return { client => $c, client_id => $cid, verifier => $v, redirect_uri => $cb,
             code => $code, res => $t, at => $t->{json}{access_token},
             rt => $t->{json}{refresh_token} };
}

# a /token answer in one line: "200 Bearer expires_in=N scope=S refresh"
# (refresh when there is a refresh_token), or the error
sub tok {
    my ($r) = @_;
    my $j = $r->{json};
    return err($r) unless $r->{status} == 200 && ref $j eq 'HASH' && defined $j->{access_token};
    return join ' ', 200, $j->{token_type} // '(no token_type)',
        'expires_in=' . ($j->{expires_in} // '(none)'), 'scope=' . ($j->{scope} // '(none)'),
        defined $j->{refresh_token} ? 'refresh' : ();
}

# the protected location in one line: "200 sub=S scope=S" or
# "401 invalid_token <description>"
sub prot {
    my ($tok, %o) = @_;
    my $r = bearer($tok, %o);
    if ($r->{status} == 200) {
        my ($sub) = $r->{content} =~ /sub=\[([^\]]*)\]/;
        my ($scope) = $r->{content} =~ /scope=\[([^\]]*)\]/;
        return "200 sub=" . ($sub // '') . " scope=" . ($scope // '');
    }
    return join ' ', $r->{status}, www_error($r);
}

# GET the protected location with a bearer token
sub bearer {
    my ($tok, %o) = @_;
    my $path = delete $o{path} // '/mcp';
    return req(GET => $path, headers => { Authorization => "Bearer $tok" }, %o);
}

# (header, payload) of a compact JWS, decoded
sub jwt_parts {
    my ($jwt) = @_;
    my @p = split /\./, $jwt // '', -1;
    die "not a compact JWS\n" unless @p == 3;
    return map { JSON::PP->new->decode(MIME::Base64::decode_base64url($_)) } @p[0, 1];
}

# RFC 7638 thumbprint of a public JWK
sub thumbprint {
    my ($jwk) = @_;
    my %req = (RSA => [qw(e kty n)], EC => [qw(crv kty x y)], OKP => [qw(crv kty x)]);
    my $members = $req{ $jwk->{kty} // '' } or return '(unknown kty)';
    my $canon = '{' . join(',', map { qq("$_":") . ($jwk->{$_} // '') . '"' } @$members) . '}';
    return MIME::Base64::encode_base64url(Digest::SHA::sha256($canon));
}

# a response_body_filters sub: the JSON body re-encoded with sorted keys,
# pretty (or "not JSON: BODY")
sub json_canon {
    my ($body) = @_;
    my $d = eval { JSON::PP->new->decode($body) };
    return "not JSON: $body" unless defined $d;
    return JSON::PP->new->canonical->pretty->encode($d);
}

# a response_body_filters sub: "key: VALUE" lines (VALUE as compact JSON,
# "(absent)" when missing) for the given top-level members of a JSON body
sub pick {
    my (@keys) = @_;
    return sub {
        my $d = eval { JSON::PP->new->decode($_[0]) };
        return "not JSON: $_[0]" unless ref $d eq 'HASH';
        my $j = JSON::PP->new->canonical->allow_nonref;
        return join '', map { "$_: " . (exists $d->{$_} ? $j->encode($d->{$_}) : '(absent)') . "\n" } @keys;
    };
}

# a response_headers_like pattern for a redirect to URL whose query has
# exactly the given parameters, in any order, each value raw or
# percent-encoded (a space also as "+"); a qr// value is a pattern
sub redirect_like {
    my ($url, %p) = @_;
    my $re = quotemeta($url) . '\?';
    for my $k (sort keys %p) {
        my $v = $p{$k};
        my $vr = ref $v ? "(?:$v)" : join '', map {
            my $o = ord $_;
            /[A-Za-z0-9._~-]/ ? quotemeta($_)
                : '(?:' . quotemeta($_) . sprintf('|%%%02X|%%%02x', $o, $o)
                  . ($_ eq ' ' ? '|\+' : '') . ')'
        } split //, $v;
        $re .= "(?=(?:.*&)?\Q$k\E=$vr(?:&|\$))";
    }
    my $n = keys %p;    # and no other parameter
    $re .= '[^&]*' . ('&[^&]*' x ($n - 1)) if $n;
    return "Location: $re";
}

1;
