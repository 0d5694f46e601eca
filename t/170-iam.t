# In front of an IAM (docs/iam-proxy.md): pass-through and the bridge.
#
# Pass-through: mcp_oauth_iam_metadata serves the IAM's metadata with
# scopes_supported replaced by mcp_oauth_scopes_supported, S256 added only
# with "pkce" and only when the IAM lists no method, the issuer (with and
# without its trailing slash) and every other member kept; 503
# temporarily_unavailable when the IAM cannot be reached and nothing is
# cached; the IAM's document cached for cache= (a second request does not
# reach the IAM, a later one after cache= does) and corrected per location.
#
# Bridge: the consent page sets the mcp_oauth_bridge cookie (http issuer;
# __Host-mcp_oauth_bridge with Secure on an https issuer, where the
# unprefixed name is refused); approve without it, or with another
# browser's, is a 403 page; approve
# redirects to mcp_oauth_iam_authorize_url with response_type, client_id,
# redirect_uri (issuer + /callback), scope (default openid), state, an S256
# code_challenge and each mcp_oauth_iam_param; the callback's state must be
# known, unused and this browser's, else a 400 page (never a redirect); an
# error from the IAM goes to the MCP client (access_denied, or
# temporarily_unavailable as the IAM said); the exchange (POST, form body,
# client_secret_basic or auth=post, grant_type, code, redirect_uri, our
# code_verifier, resource) and its failures (IAM 5xx or down:
# temporarily_unavailable; an IAM error, not JSON, no subject, in "pass" an
# access token not for the resource: server_error), each with the MCP
# client's state and iss; "mint" (the gateway's own token, sub from the
# IAM's id_token, the IAM's tokens never given out) and "pass" (the IAM's
# access token, refreshed at the IAM through the gateway's refresh token);
# three configuration errors.  An expired state (10 minutes) is not tested: the suite cannot wait that
# long.
#
# The IAM lives in the block's own nginx.  The test picks its answers
# through the request it sends: the location of the main request copies an
# argument into a variable with "set", and the module's subrequest to the
# IAM sees it (a subrequest shares its parent's variables); no regex in the
# configs (nginx's PCRE2 context would show as a leak under valgrind).  The
# IAM's metadata is an internal location ("return"; ?v=2, ?a=500 ...).  Its
# token endpoint: /_iam/token (mcp_oauth_iam_token_request) proxies to
# /iam/NAME on this server (or to 127.0.0.1:1, closed, for "down"), which
# logs what the gateway sent (logs/iam.log: method, Content-Type,
# Authorization, body) and proxies to /answer/NAME, a fixed answer.  NAME is
# the browser's callback's code (the tests choose it: code=NAME) or, for a
# refresh at the gateway, "refresh" (or NAME of /token?iam=NAME).  The
# IAM's authorization endpoint is never visited: the flows read the state
# from the redirect and call /callback themselves, with the browser's
# cookies (McpOAuth::req jar).

use strict;
use warnings;
use lib 't/lib';
use Test::Nginx::Socket 'no_plan';
use McpOAuth qw(:DEFAULT :as);
use MIME::Base64 ();
use Digest::SHA ();

McpOAuth::setup();
no_shuffle();
log_level('info');

our $CB = 'https://app.example.com/cb';
$ENV{TEST_NGINX_IAM_PORT2} ||= McpOAuth::port() + 5;

# two servers, each with its own IAM behind the same /_iam/metadata
sub two_servers {
    for my $round (1, 2) {
        for my $port (McpOAuth::port(), $ENV{TEST_NGINX_IAM_PORT2}) {
            my $r = req(GET => '/.well-known/oauth-authorization-server', port => $port);
            say_("round $round", $port == McpOAuth::port() ? 'server 1' : 'server 2',
                 $r->{status}, $r->{json}{issuer} // '(none)');
        }
    }
}

# ------------------------------------------------------------ the fake IAM

sub b64j { MIME::Base64::encode_base64url($_[0]) }

# an id_token as the IAM's token endpoint sends it (its signature is not
# checked: it comes over the back channel)
sub id_token {
    my ($claims) = @_;
    return join '.', b64j('{"alg":"RS256","typ":"JWT","kid":"iam-1"}'), b64j($claims), 'c2lnbmF0dXJl';
}

# the token endpoint's answers, by name
sub answers {
    my $id = id_token('{"iss":"https://iam.example.com","sub":"iam-user-7","aud":"mcp-gateway","exp":4102444800}');
    my $rs = McpOAuth::token('rs256');          # aud https://mcp.example.com/mcp, sub user-1
    my $wrong = McpOAuth::token('wrong-aud');   # aud https://other.example.com
    my $es = McpOAuth::token('es256');
    my $nosub = id_token('{"iss":"https://iam.example.com","sub":""}');
    return (
        ok       => qq{200 '{"access_token":"iam-opaque-at","token_type":"Bearer","expires_in":300,"refresh_token":"iam-rt","id_token":"$id"}'},
        pass     => qq{200 '{"access_token":"$rs","token_type":"Bearer","expires_in":300,"refresh_token":"iam-rt","id_token":"$id"}'},
        wrongaud => qq{200 '{"access_token":"$wrong","token_type":"Bearer","expires_in":300,"refresh_token":"iam-rt","id_token":"$id"}'},
        jwtat    => qq{200 '{"access_token":"$rs","token_type":"Bearer","expires_in":300}'},
        opaque   => qq{200 '{"access_token":"iam-opaque-at","token_type":"Bearer","expires_in":300}'},
        emptysub => qq{200 '{"access_token":"iam-opaque-at","token_type":"Bearer","id_token":"$nosub"}'},
        refresh  => qq{200 '{"access_token":"$es","token_type":"Bearer","expires_in":600,"refresh_token":"iam-rt-2"}'},
        e500     => qq{500 '{"error":"server_error"}'},
        e503     => qq{503 'busy'},
        bad400   => qq{400 '{"error":"invalid_grant","error_description":"bad code"}'},
        notjson  => qq{200 'not json'},
    );
}

# the IAM's token endpoint and the request log, as "--- http_config"
sub iam_http {
    return <<'_EOC_';
log_format iam_req 'method=$request_method ct=[$content_type] auth=[$http_authorization] body=[$request_body]';
map $arg_iam $iam_refresh {
    ""       refresh;
    default  $arg_iam;
}
map $iam_sel $iam_host {
    down     127.0.0.1:1;
    default  127.0.0.1:$TEST_NGINX_SERVER_PORT;
}
_EOC_
}

# the bridge, as "--- config".  Options: auth (basic | post), pass (1:
# mcp_oauth_iam_token pass, resource https://mcp.example.com/mcp as in the
# fixture tokens, /mcp verifies them with jwks/main.json), issuer (default
# http://127.0.0.1:$TEST_NGINX_SERVER_PORT), authorize_url
# (default https://iam.example.com/authorize), extra (more server
# directives)
sub bridge {
    my (%o) = @_;
    my %a = answers();
    my $resource = $o{pass} ? 'https://mcp.example.com/mcp'
                            : 'http://127.0.0.1:$TEST_NGINX_SERVER_PORT/mcp';
    my $auth = $o{auth} ? " auth=$o{auth}" : '';
    my $url = $o{authorize_url} // 'https://iam.example.com/authorize';
    my $issuer = $o{issuer} // 'http://127.0.0.1:$TEST_NGINX_SERVER_PORT';
    my $c = <<"_EOC_";
    mcp_oauth_issuer $issuer;
    mcp_oauth_resource $resource;
    mcp_oauth_signing_key \$TEST_NGINX_DATA/signing/ec.pem;
    mcp_oauth_scopes_supported mcp:tools read:application;
    mcp_oauth_client app "name=Static App" $CB;
    mcp_oauth_iam_authorize_url "$url";
    mcp_oauth_iam_token_request /_iam/token;
    mcp_oauth_iam_client mcp-gateway secret=gw-secret$auth;
_EOC_
    $c .= "    mcp_oauth_iam_token pass;\n" if $o{pass};
    $c .= "    $o{extra}\n" if defined $o{extra};
    $c .= <<'_EOC_';

    location = /.well-known/oauth-authorization-server { mcp_oauth_server_metadata; }
    location = /authorize { mcp_oauth_authorize; }
    location = /callback {
        set $iam_sel $arg_code;
        mcp_oauth_iam_callback;
    }
    location = /token {
        set $iam_sel $iam_refresh;
        mcp_oauth_token;
    }
    location = /register { mcp_oauth_register; }

    location = /_iam/token {
        internal;
        proxy_connect_timeout 2s;
        proxy_read_timeout 3s;
        proxy_pass http://$iam_host/iam/$iam_sel;
    }
    location /iam/ {
        access_log logs/iam.log iam_req;
        proxy_pass http://127.0.0.1:$TEST_NGINX_SERVER_PORT/answer/;
    }
_EOC_
    $c .= "    location = /answer/$_ { default_type application/json; return $a{$_}; }\n"
        for sort keys %a;
    my $verify = $o{pass}
        ? "mcp_oauth_issuer https://auth.example.com;\n        mcp_oauth_jwks \$TEST_NGINX_DATA/jwks/main.json;\n        "
        : '';
    $c .= <<"_EOC_";
    location = /echo {
        return 200 "sub=[\$http_x_sub] client=[\$http_x_client] scope=[\$http_x_scope]\\n";
    }
    location /mcp {
        mcp_oauth on;
        ${verify}mcp_oauth_required_scope mcp:tools;
        proxy_set_header X-Sub \$mcp_oauth_sub;
        proxy_set_header X-Client \$mcp_oauth_client_id;
        proxy_set_header X-Scope \$mcp_oauth_scope;
        proxy_pass http://127.0.0.1:\$TEST_NGINX_SERVER_PORT/echo;
    }
_EOC_
    return $c;
}

# ------------------------------------------------------------- the flows

# what the IAM's token endpoint received since MARK (a byte offset of
# logs/iam.log): a list of {method, ct, auth, raw (body), body (decoded
# fields), names (in order)}.  nginx writes an access log line when the
# request is finalized, which may come a moment after the gateway has the
# answer: wait (up to 5 s) for WANT lines, then until the log is still.
sub iam_log_file { server_root() . '/logs/iam.log' }
sub iam_size { -s iam_log_file() // 0 }
sub iam_settle {
    my ($mark, $want) = @_;
    my $deadline = time + 5;
    while ($want && iam_lines($mark) < $want && time < $deadline) {
        select undef, undef, undef, 0.05;
    }
    my $size = iam_size();
    for (1 .. 100) {
        select undef, undef, undef, 0.1;
        my $now = iam_size();
        last if $now == $size;
        $size = $now;
    }
}
sub iam_lines {
    my ($mark) = @_;
    open my $fh, '<', iam_log_file() or return 0;
    seek $fh, $mark, 0;
    my $n = () = <$fh>;
    return $n;
}
sub iam_mark { iam_settle(0, 0); iam_size() }
sub iam_seen {
    my ($mark, $want) = @_;
    iam_settle($mark, $want // 0);
    open my $fh, '<', iam_log_file() or return ();
    seek $fh, $mark, 0;
    my @r;
    while (my $l = <$fh>) {
        my ($m, $ct, $auth, $body) = $l =~ /^method=(\S*) ct=\[(.*?)\] auth=\[(.*?)\] body=\[(.*)\]$/ or next;
        $_ = ($_ eq '-' ? '' : $_) for $ct, $auth, $body;
        push @r, { method => $m, ct => $ct, auth => $auth, raw => $body, body => McpOAuth::qs($body),
                   names => [map { (split /=/)[0] } split /&/, $body] };
    }
    return @r;
}

# a value without what changes between runs
sub mask {
    my ($v) = @_;
    return '(none)' unless defined $v;
    my $b = base();
    $v =~ s/\Q$b\E/ISSUER/g;
    return $v;
}

# the redirect to the IAM in one line: "302 URL" and its parameters in
# order; state and code_challenge shown as "(43 base64url)", the bridge's
# state (the MCP request sealed) as "(sealed)"
sub iam_redir {
    my ($r) = @_;
    return "$r->{status} page" unless defined $r->{location} && $r->{status} == 302;
    my ($url, $q) = $r->{location} =~ /^([^?#]*)\??([^#]*)/;
    my @p;
    for my $kv (split /&/, $q) {
        my ($k, $v) = map { my $s = $_ // ''; $s =~ tr/+/ /; $s =~ s/%([0-9A-Fa-f]{2})/chr hex $1/ge; $s } split /=/, $kv, 2;
        $v = '(43 base64url)' if $k =~ /^(?:state|code_challenge)$/ && $v =~ /^[A-Za-z0-9_-]{43}$/;
        $v = '(sealed)' if $k eq 'state' && $v =~ /^[A-Za-z0-9_-]{200,}$/;
        push @p, "$k=" . mask($v);
    }
    return join ' ', $r->{status}, $url, @p;
}

# the browser's cookie as it was set, its value masked
sub set_cookie {
    my ($r) = @_;
    my $sc = $r->{headers}{'set-cookie'};
    return '(none)' unless defined $sc;
    return join ' | ', map { (my $c = $_) =~ s/^([^=]+)=([A-Za-z0-9_-]{43});/$1=(43 base64url);/; $c } ref $sc ? @$sc : $sc;
}

# the MCP client's authorization request in a browser: the consent page.
# Returns {jar, page, v (the MCP client's verifier)}
sub start {
    my (%o) = @_;
    my $jar = $o{jar} // {};
    my ($v, $ch) = pkce();
    my $page = authorize(client_id => 'app', redirect_uri => $CB, code_challenge => $ch,
                         state => 'mcp-st', scope => 'mcp:tools', jar => $jar);
    return { jar => $jar, page => $page, v => $v, challenge => $ch };
}

# ... approved: the redirect to the IAM ("iam") and its state
sub to_iam {
    my $f = start(@_);
    $f->{iam} = approve($f->{page}, jar => $f->{jar});
    $f->{state} = $f->{iam}{query}{state} // 'none';
    return $f;
}

# the IAM sends the browser back: GET /callback?QUERY&state=STATE; options
# jar (another browser), state (another state)
sub callback {
    my ($f, $query, %o) = @_;
    my $state = exists $o{state} ? $o{state} : $f->{state};
    my $q = join '&', grep { defined && length } $query, defined $state ? "state=$state" : undef;
    return req(GET => "/callback?$q", jar => exists $o{jar} ? $o{jar} : $f->{jar});
}

# a whole bridged sign-in with the IAM answering NAME, and the MCP client's
# redemption: {f, cb (the callback's answer), res (/token), at, rt}
sub bridged {
    my ($name) = @_;
    my $f = to_iam();
    my $cb = callback($f, "code=$name");
    my $code = $cb->{query}{code} // die 'no code: ' . redir($cb) . "\n";
    my $t = redeem('app', $code, $f->{v}, redirect_uri => $CB);
    return { f => $f, cb => $cb, res => $t, at => $t->{json}{access_token},
             rt => $t->{json}{refresh_token} };
}

# the pages say what went wrong; print the title
sub page {
    my ($r) = @_;
    return redir($r) unless $r->{status} =~ /^[45]/;
    my ($t) = $r->{content} =~ m{<title>([^<]*)</title>}i;
    return join ' ', $r->{status}, ($r->{headers}{'content-type'} // '') =~ m{^text/html} ? 'html' : 'not-html',
        defined $r->{location} ? 'location' : 'no-location', 'title=' . ($t // '(none)');
}

# ---- pass-through metadata

sub meta_cache_expiry {
    my $r = req(GET => '/.well-known/oauth-authorization-server?v=1');
    say_('first', $r->{status}, 'v=' . ($r->{json}{x_version} // '(none)'));
    $r = req(GET => '/.well-known/oauth-authorization-server?v=2');
    say_('within cache=', $r->{status}, 'v=' . ($r->{json}{x_version} // '(none)'));
    sleep 3;
    $r = req(GET => '/.well-known/oauth-authorization-server?v=2');
    say_('after cache=', $r->{status}, 'v=' . ($r->{json}{x_version} // '(none)'));
    $r = req(GET => '/.well-known/oauth-authorization-server?v=1');
    say_('then cached again', $r->{status}, 'v=' . ($r->{json}{x_version} // '(none)'));
}

# ---- bridge: consent and the redirect to the IAM

sub consent_cookie {
    my $f = start();
    say_('consent page', $f->{page}{status}, $f->{page}{headers}{'content-type'});
    say_('set-cookie', set_cookie($f->{page}));
    say_('names the client', $f->{page}{content} =~ /Static App/ ? 'yes' : 'no');
    say_('csrf_token', $f->{page}{form}{csrf_token} ? 'yes' : 'no');
    say_('cookie in the jar', join ',', sort keys %{ $f->{jar} });
}

# an https issuer: the cookie is __Host-mcp_oauth_bridge, Secure; the same
# value under the http name (which a sibling host could set) is not enough
sub https_cookie {
    my $f = start();
    my $https = sub { (my $x = $_[0]) =~ s{https://127\.0\.0\.1:\d+}{HTTPS-ISSUER}g; $x };
    say_('set-cookie', set_cookie($f->{page}));
    my ($value) = values %{ $f->{jar} };
    my %plain = (mcp_oauth_bridge => $value // '');
    say_('approve with the cookie under the http name', page(approve($f->{page}, jar => \%plain)));
    $f->{iam} = approve($f->{page}, jar => $f->{jar});
    $f->{state} = $f->{iam}{query}{state};
    say_('approve', $https->(iam_redir($f->{iam})));
    say_('callback with the cookie under the http name', page(callback($f, 'code=ok', jar => \%plain)));
    say_('callback', $https->(redir(callback($f, 'code=ok'))));
}

sub approve_redirect {
    my $f = to_iam();
    say_('approve', iam_redir($f->{iam}));
    my $g = to_iam();
    say_('another approval, another state', $g->{state} ne $f->{state} ? 'yes' : 'no');
    say_('another approval, another challenge',
         ($g->{iam}{query}{code_challenge} // '') ne ($f->{iam}{query}{code_challenge} // '') ? 'yes' : 'no');
    say_("the MCP client's challenge is not sent to the IAM",
         ($f->{iam}{query}{code_challenge} // '') ne $f->{challenge} ? 'yes' : 'no');
}

sub approve_checks {
    my $f = start();
    my $other = start();
    say_('no cookie', page(approve($f->{page})));
    say_("another browser's cookie", page(approve($f->{page}, jar => $other->{jar})));
    say_('altered cookie', page(approve($f->{page}, jar => { mcp_oauth_bridge => 'A' x 43 })));
    say_('deny', redir(deny($f->{page}, jar => $f->{jar})));
    say_('this browser', iam_redir(approve($f->{page}, jar => $f->{jar})) =~ /^302 https:\/\/iam\.example\.com\/authorize / ? '302 to the IAM' : 'other');
}

# ---- bridge: the callback's state

sub callback_unknown {
    my $f = to_iam();
    say_('no state', page(callback($f, 'code=ok', state => undef)));
    say_('empty state', page(callback($f, 'code=ok', state => '')));
    say_('unknown state', page(callback($f, 'code=ok', state => 'B' x 43)));
    say_('altered state', page(callback($f, 'code=ok', state => substr($f->{state}, 0, 42) . ($f->{state} =~ /A$/ ? 'B' : 'A'))));
    say_('then the real one', redir(callback($f, 'code=ok')));
}

sub callback_other_browser {
    my $f = to_iam();
    my $other = start();
    my $mark = iam_mark();
    say_('no cookie', page(callback($f, 'code=ok', jar => undef)));
    say_("another browser's cookie", page(callback($f, 'code=ok', jar => $other->{jar})));
    say_('IAM token requests', scalar iam_seen($mark));
    say_('this browser', redir(callback($f, 'code=ok')));
    say_('IAM token requests', scalar iam_seen($mark, 1));
}

sub callback_twice {
    my $f = to_iam();
    say_('first', redir(callback($f, 'code=ok')));
    my $mark = iam_mark();
    say_('second', page(callback($f, 'code=ok')));
    say_('IAM token requests', scalar iam_seen($mark));
    my $g = to_iam();
    say_('error first', redir(callback($g, 'error=access_denied')));
    say_('then a code', page(callback($g, 'code=ok')));
}

# the consent form replayed: each approval used to store the MCP request
# (up to 14 KB of state) for 10 minutes
sub replayed_approvals {
    my $f = start();
    my ($n, $bad) = (0);
    while ($n < 400) {
        my $r = approve($f->{page}, jar => $f->{jar});
        if (($r->{query}{state} // '') eq '') { $bad = $r; last }
        # and back without signing in: that stores nothing either
        my $cb = callback($f, 'error=access_denied', state => $r->{query}{state});
        if (($cb->{query}{error} // '') ne 'access_denied') { $bad = $cb; last }
        $n++;
    }
    say_('approvals of one form, each back with an error', $n,
         $bad ? 'then ' . redir($bad) : 'all to the IAM and back');
    my $b = bridged('ok');
    say_('then a sign-in', tok($b->{res}));
    my $long = authorize(client_id => 'app', redirect_uri => $CB, code_challenge => $f->{challenge},
                         state => 'x' x 1025, scope => 'mcp:tools', jar => {});
    say_('a state of 1025 bytes', page($long));
}

sub callback_errors {
    my $mark = iam_mark();
    for my $e ('access_denied', 'login_required', 'temporarily_unavailable', 'server_error') {
        my $f = to_iam();
        say_("IAM error=$e", redir(callback($f, "error=$e&error_description=x")));
    }
    say_('IAM token requests', scalar iam_seen($mark));
}

# ---- bridge: the exchange

sub mint_happy {
    my $mark = iam_mark();
    my $b = bridged('ok');
    say_('callback', redir($b->{cb}));
    say_('token', tok($b->{res}));
    my ($h, $p) = jwt_parts($b->{at});
    say_('header', "typ=$h->{typ}", "alg=$h->{alg}");
    say_('claims', 'iss=' . mask($p->{iss}), "sub=$p->{sub}", 'aud=' . mask($p->{aud}),
         "client_id=$p->{client_id}", "scope=$p->{scope}");
    my $body = $b->{res}{content};
    say_("the IAM's tokens in the answer",
         join(',', grep { index($body, $_) >= 0 } 'iam-opaque-at', 'iam-rt', 'id_token', (split /\./, id_token('{}'))[0]) || 'none');
    say_('protected', prot($b->{at}));
    say_('IAM token requests', scalar iam_seen($mark, 1));
    $mark = iam_mark();
    my $r = refresh('app', $b->{rt});
    say_('refresh', tok($r));
    my (undef, $p2) = jwt_parts($r->{json}{access_token});
    say_('refreshed sub', $p2->{sub});
    say_('IAM token requests for the refresh', scalar iam_seen($mark));
}

sub token_request {
    my $mark = iam_mark();
    my $b = bridged('ok');
    my @s = iam_seen($mark, 1);
    say_('IAM token requests', scalar @s);
    my $s = $s[0] or return;
    say_('method', $s->{method});
    say_('content-type', $s->{ct});
    my $auth = $s->{auth};
    $auth =~ s/^Basic (\S+)$/'Basic ' . MIME::Base64::decode_base64($1)/e;
    say_('authorization', $auth || '(none)');
    say_('fields', join ',', @{ $s->{names} });
    my $q = $s->{body};
    say_('grant_type', $q->{grant_type});
    say_('code', $q->{code});
    say_('redirect_uri', mask($q->{redirect_uri}));
    say_('redirect_uri as sent to the authorization endpoint',
         ($q->{redirect_uri} // '') eq ($b->{f}{iam}{query}{redirect_uri} // 'x') ? 'yes' : 'no');
    my $v = $q->{code_verifier} // '';
    say_('code_verifier', $v =~ /^[A-Za-z0-9._~-]{43,128}$/ ? 'well formed' : "malformed: $v");
    say_('S256(code_verifier) = code_challenge sent to the IAM',
         MIME::Base64::encode_base64url(Digest::SHA::sha256($v)) eq ($b->{f}{iam}{query}{code_challenge} // '') ? 'yes' : 'no');
    say_('client_id', $q->{client_id});
    say_('client_secret', $q->{client_secret});
    say_('resource', $q->{resource});
}

sub exchange_unavailable {
    for my $name ('e500', 'e503', 'down') {
        my $f = to_iam();
        say_("IAM $name", redir(callback($f, "code=$name")));
        say_('the same state, a new code', redir(callback($f, "code=ok")));
        say_('then used up', page(callback($f, "code=ok")));
    }
}

sub exchange_bad_answer {
    for my $name ('bad400', 'notjson', 'opaque', 'emptysub') {
        my $f = to_iam();
        say_("IAM $name", redir(callback($f, "code=$name")));
        say_('the same state, a new code', redir(callback($f, "code=ok")));
        say_('then used up', page(callback($f, "code=ok")));
    }
}

sub subject_from_access_token {
    my $b = bridged('jwtat');
    say_('callback', redir($b->{cb}));
    say_('token', tok($b->{res}));
    my (undef, $p) = jwt_parts($b->{at});
    say_('sub', $p->{sub}, 'iss=' . mask($p->{iss}));
    say_('protected', prot($b->{at}));
}

# ---- bridge "pass"

sub pass_happy {
    my $b = bridged('pass');
    say_('callback', redir($b->{cb}));
    say_('token', tok($b->{res}));
    say_("access token is the IAM's", ($b->{at} // '') eq McpOAuth::token('rs256') ? 'yes' : 'no');
    say_("refresh token is the IAM's", ($b->{rt} // '') eq 'iam-rt' ? 'yes' : 'no');
    say_('id_token in the answer', $b->{res}{content} =~ /id_token/ ? 'yes' : 'no');
    say_('protected', prot($b->{at}));
}

sub pass_refresh {
    my $b = bridged('pass');
    my $mark = iam_mark();
    my $r = refresh('app', $b->{rt});
    say_('refresh', tok($r));
    say_("access token is the IAM's new one",
         ($r->{json}{access_token} // '') eq McpOAuth::token('es256') ? 'yes' : 'no');
    my $rt1 = $r->{json}{refresh_token} // '';
    say_('new refresh token', $rt1 ne $b->{rt} ? 'yes' : 'no', $rt1 =~ /^iam-rt/ ? "(the IAM's)" : '(ours)');
    my @s = iam_seen($mark, 1);
    say_('IAM token requests', scalar @s);
    for my $s (@s) {
        (my $auth = $s->{auth}) =~ s/^Basic (\S+)$/'Basic ' . MIME::Base64::decode_base64($1)/e;
        say_('IAM got', $s->{method}, $s->{ct}, $auth, $s->{raw});
    }
    say_('protected', prot($r->{json}{access_token}));
    $mark = iam_mark();
    my $r2 = refresh('app', $rt1);
    say_('refresh again', tok($r2));
    say_('IAM got', map { $_->{raw} } iam_seen($mark, 1));
    $mark = iam_mark();
    say_('the first refresh token again', tok(refresh('app', $b->{rt})));
    say_('IAM token requests', scalar iam_seen($mark));
}

sub pass_refresh_failures {
    my $b = bridged('pass');
    my %f = (grant_type => 'refresh_token', client_id => 'app', refresh_token => $b->{rt});
    say_('IAM down', tok(req(POST => '/token?iam=down', form => \%f)));
    say_('IAM 500', tok(req(POST => '/token?iam=e500', form => \%f)));
    say_('IAM invalid_grant', tok(req(POST => '/token?iam=bad400', form => \%f)));
    say_('IAM token for another audience', tok(req(POST => '/token?iam=wrongaud', form => \%f)));
    my $r = refresh('app', $b->{rt});
    say_('IAM back', tok($r));
}

sub pass_wrong_audience {
    for my $name ('wrongaud', 'ok') {
        my $f = to_iam();
        say_("IAM access token $name", redir(callback($f, "code=$name")));
    }
    my $b = bridged('pass');
    say_('IAM access token for the resource', tok($b->{res}));
}

run_tests();

__DATA__

=== TEST 1: metadata: scopes_supported becomes ours, pkce adds S256 (the IAM lists none), the issuer keeps its trailing slash, every other member is kept
--- config
    mcp_oauth_issuer https://tenant.example-iam.com/;
    mcp_oauth_resource https://mcp.example.com/mcp;
    mcp_oauth_scopes_supported mcp:tools read:application;
    location = /.well-known/oauth-authorization-server {
        mcp_oauth_iam_metadata /_iam/metadata pkce;
    }
    location = /_iam/metadata {
        internal;
        default_type application/json;
        return 200 '{"issuer":"https://tenant.example-iam.com/","authorization_endpoint":"https://tenant.example-iam.com/authorize","token_endpoint":"https://tenant.example-iam.com/oauth/token","jwks_uri":"https://tenant.example-iam.com/.well-known/jwks.json","registration_endpoint":"https://tenant.example-iam.com/oidc/register","scopes_supported":["openid","profile","email","offline_access"],"response_types_supported":["code","token id_token"],"grant_types_supported":["authorization_code","refresh_token"],"token_endpoint_auth_methods_supported":["client_secret_basic","client_secret_post"],"claims_supported":["sub","email"],"request_uri_parameter_supported":false,"x_number":42,"x_float":0.5,"x_nested":{"a":[1,2,{"b":null}],"c":"\u0041\/b"}}';
    }
--- request
GET /.well-known/oauth-authorization-server
--- error_code: 200
--- response_headers
Content-Type: application/json
--- response_body_filters eval
\&McpOAuth::json_canon
--- response_body
{
   "authorization_endpoint" : "https://tenant.example-iam.com/authorize",
   "claims_supported" : [
      "sub",
      "email"
   ],
   "code_challenge_methods_supported" : [
      "S256"
   ],
   "grant_types_supported" : [
      "authorization_code",
      "refresh_token"
   ],
   "issuer" : "https://tenant.example-iam.com/",
   "jwks_uri" : "https://tenant.example-iam.com/.well-known/jwks.json",
   "registration_endpoint" : "https://tenant.example-iam.com/oidc/register",
   "request_uri_parameter_supported" : false,
   "response_types_supported" : [
      "code",
      "token id_token"
   ],
   "scopes_supported" : [
      "mcp:tools",
      "read:application"
   ],
   "token_endpoint" : "https://tenant.example-iam.com/oauth/token",
   "token_endpoint_auth_methods_supported" : [
      "client_secret_basic",
      "client_secret_post"
   ],
   "x_float" : 0.5,
   "x_nested" : {
      "a" : [
         1,
         2,
         {
            "b" : null
         }
      ],
      "c" : "A/b"
   },
   "x_number" : 42
}
--- no_error_log
[error]



=== TEST 2: metadata: an issuer without trailing slash is kept as is; the IAM's own code_challenge_methods_supported is kept with pkce
--- config
    mcp_oauth_issuer https://iam.example.com;
    mcp_oauth_resource https://mcp.example.com/mcp;
    mcp_oauth_scopes_supported mcp:tools;
    location = /.well-known/oauth-authorization-server {
        mcp_oauth_iam_metadata /_iam/metadata pkce;
    }
    location = /_iam/metadata {
        internal;
        return 200 '{"issuer":"https://iam.example.com","authorization_endpoint":"https://iam.example.com/a","code_challenge_methods_supported":["plain","S256"],"scopes_supported":["openid"]}';
    }
--- request
GET /.well-known/oauth-authorization-server
--- error_code: 200
--- response_body_filters eval
McpOAuth::pick(qw(issuer authorization_endpoint code_challenge_methods_supported scopes_supported))
--- response_body
issuer: "https://iam.example.com"
authorization_endpoint: "https://iam.example.com/a"
code_challenge_methods_supported: ["plain","S256"]
scopes_supported: ["mcp:tools"]
--- no_error_log
[error]



=== TEST 3: metadata: without pkce no code_challenge_methods_supported is added
--- config
    mcp_oauth_issuer https://iam.example.com/;
    mcp_oauth_resource https://mcp.example.com/mcp;
    mcp_oauth_scopes_supported mcp:tools;
    location = /.well-known/oauth-authorization-server {
        mcp_oauth_iam_metadata /_iam/metadata;
    }
    location = /_iam/metadata {
        internal;
        return 200 '{"issuer":"https://iam.example.com/","scopes_supported":["openid","profile"]}';
    }
--- request
GET /.well-known/oauth-authorization-server
--- error_code: 200
--- response_body_filters eval
McpOAuth::pick(qw(issuer code_challenge_methods_supported scopes_supported))
--- response_body
issuer: "https://iam.example.com/"
code_challenge_methods_supported: (absent)
scopes_supported: ["mcp:tools"]
--- no_error_log
[error]



=== TEST 4: metadata: the IAM cannot be reached and nothing is cached: 503 temporarily_unavailable
--- config
    mcp_oauth_issuer https://iam.example.com/;
    mcp_oauth_resource https://mcp.example.com/mcp;
    mcp_oauth_scopes_supported mcp:tools;
    location = /.well-known/oauth-authorization-server {
        mcp_oauth_iam_metadata /_iam/metadata pkce;
    }
    location = /_iam/metadata {
        internal;
        proxy_connect_timeout 2s;
        proxy_pass http://127.0.0.1:1/.well-known/openid-configuration;
    }
--- request
GET /.well-known/oauth-authorization-server
--- error_code: 503
--- response_headers
Content-Type: application/json
--- response_body_filters eval
McpOAuth::pick(qw(error))
--- response_body
error: "temporarily_unavailable"
--- error_log
mcp_oauth: the IAM's metadata from "/_iam/metadata" is not available



=== TEST 5: metadata: an IAM answering 500, text, or a JSON array: 503 and nothing cached (a good answer afterwards is served)
--- http_config
map $meta_sel $meta_doc {
    text      'not json';
    array     '["issuer"]';
    default   '{"issuer":"https://iam.example.com/","scopes_supported":["openid"]}';
}
--- config
    mcp_oauth_issuer https://iam.example.com/;
    mcp_oauth_resource https://mcp.example.com/mcp;
    mcp_oauth_scopes_supported mcp:tools;
    location = /.well-known/oauth-authorization-server {
        set $meta_sel $arg_a;
        mcp_oauth_iam_metadata /_iam/metadata pkce;
    }
    location = /_iam/metadata {
        internal;
        if ($meta_sel = 500) {
            return 500 '{"issuer":"https://iam.example.com/bad"}';
        }
        return 200 $meta_doc;
    }
--- request eval
["GET /.well-known/oauth-authorization-server?a=500",
 "GET /.well-known/oauth-authorization-server?a=text",
 "GET /.well-known/oauth-authorization-server?a=array",
 "GET /.well-known/oauth-authorization-server?a=ok"]
--- error_code eval
[503, 503, 503, 200]
--- response_body_filters eval
McpOAuth::pick(qw(error issuer))
--- response_body eval
["error: \"temporarily_unavailable\"\nissuer: (absent)\n",
 "error: \"temporarily_unavailable\"\nissuer: (absent)\n",
 "error: \"temporarily_unavailable\"\nissuer: (absent)\n",
 "error: (absent)\nissuer: \"https://iam.example.com/\"\n"]



=== TEST 6: metadata: a second request within cache= is served from the zone, also when the IAM is down by then
--- http_config
map $meta_sel $meta_doc {
    2         '{"issuer":"https://iam.example.com/","x_version":2}';
    default   '{"issuer":"https://iam.example.com/","x_version":1}';
}
--- config
    mcp_oauth_issuer https://iam.example.com/;
    mcp_oauth_resource https://mcp.example.com/mcp;
    mcp_oauth_scopes_supported mcp:tools;
    location = /.well-known/oauth-authorization-server {
        set $meta_sel $arg_v;
        mcp_oauth_iam_metadata /_iam/metadata pkce cache=1h;
    }
    location = /_iam/metadata {
        internal;
        if ($meta_sel = down) {
            return 502;
        }
        return 200 $meta_doc;
    }
--- request eval
["GET /.well-known/oauth-authorization-server?v=1",
 "GET /.well-known/oauth-authorization-server?v=2",
 "GET /.well-known/oauth-authorization-server?v=down"]
--- error_code eval
[200, 200, 200]
--- response_body_filters eval
McpOAuth::pick(qw(x_version scopes_supported code_challenge_methods_supported))
--- response_body eval
["x_version: 1\nscopes_supported: [\"mcp:tools\"]\ncode_challenge_methods_supported: [\"S256\"]\n",
 "x_version: 1\nscopes_supported: [\"mcp:tools\"]\ncode_challenge_methods_supported: [\"S256\"]\n",
 "x_version: 1\nscopes_supported: [\"mcp:tools\"]\ncode_challenge_methods_supported: [\"S256\"]\n"]
--- no_error_log
[error]



=== TEST 7: metadata: after cache= the IAM is asked again
--- http_config
map $meta_sel $meta_doc {
    2         '{"issuer":"https://iam.example.com/","x_version":2}';
    default   '{"issuer":"https://iam.example.com/","x_version":1}';
}
--- config
    mcp_oauth_issuer https://iam.example.com/;
    mcp_oauth_resource https://mcp.example.com/mcp;
    location = /.well-known/oauth-authorization-server {
        set $meta_sel $arg_v;
        mcp_oauth_iam_metadata /_iam/metadata cache=1s;
    }
    location = /_iam/metadata {
        internal;
        return 200 $meta_doc;
    }
--- request
GET /.well-known/oauth-authorization-server?v=1
--- timeout: 10
--- response_body_filters eval
McpOAuth::flow(\&main::meta_cache_expiry)
--- response_body
first 200 v=1
within cache= 200 v=1
after cache= 200 v=2
then cached again 200 v=2
--- no_error_log
[error]



=== TEST 8: metadata: two locations share the IAM's cached document, each with its own correction (pkce does not leak)
--- config
    mcp_oauth_issuer https://iam.example.com/;
    mcp_oauth_resource https://mcp.example.com/mcp;
    mcp_oauth_scopes_supported mcp:tools;
    location = /.well-known/oauth-authorization-server {
        mcp_oauth_iam_metadata /_iam/metadata pkce;
    }
    location = /.well-known/openid-configuration {
        mcp_oauth_iam_metadata /_iam/metadata;
    }
    location = /_iam/metadata {
        internal;
        return 200 '{"issuer":"https://iam.example.com/"}';
    }
--- request eval
["GET /.well-known/oauth-authorization-server",
 "GET /.well-known/openid-configuration",
 "GET /.well-known/oauth-authorization-server"]
--- error_code eval
[200, 200, 200]
--- response_body_filters eval
McpOAuth::pick(qw(issuer code_challenge_methods_supported))
--- response_body eval
["issuer: \"https://iam.example.com/\"\ncode_challenge_methods_supported: [\"S256\"]\n",
 "issuer: \"https://iam.example.com/\"\ncode_challenge_methods_supported: (absent)\n",
 "issuer: \"https://iam.example.com/\"\ncode_challenge_methods_supported: [\"S256\"]\n"]
--- no_error_log
[error]



=== TEST 9: bridge: the consent page sets the mcp_oauth_bridge cookie (http issuer: no __Host- prefix, no Secure), HttpOnly, SameSite=Lax, 10 minutes
--- http_config eval
main::iam_http()
--- config eval
main::bridge()
--- request
GET /.well-known/oauth-authorization-server
--- response_body_filters eval
McpOAuth::flow(\&main::consent_cookie)
--- response_body
consent page 200 text/html; charset=utf-8
set-cookie mcp_oauth_bridge=(43 base64url); Path=/; Max-Age=600; HttpOnly; SameSite=Lax
names the client yes
csrf_token yes
cookie in the jar mcp_oauth_bridge
--- no_error_log
[error]



=== TEST 10: bridge with an https issuer: the cookie is __Host-mcp_oauth_bridge with Secure; the same value as mcp_oauth_bridge is refused at approve and at the callback
--- http_config eval
main::iam_http()
--- config eval
main::bridge(issuer => 'https://127.0.0.1:$TEST_NGINX_SERVER_PORT')
--- request
GET /.well-known/oauth-authorization-server
--- response_body_filters eval
McpOAuth::flow(\&main::https_cookie)
--- response_body
set-cookie __Host-mcp_oauth_bridge=(43 base64url); Path=/; Max-Age=600; HttpOnly; SameSite=Lax; Secure
approve with the cookie under the http name 403 html no-location title=Request expired
approve 302 https://iam.example.com/authorize response_type=code client_id=mcp-gateway redirect_uri=HTTPS-ISSUER/callback scope=openid state=(sealed) code_challenge=(43 base64url) code_challenge_method=S256
callback with the cookie under the http name 400 html no-location title=Sign-in not started here
callback 302 https://app.example.com/cb code iss=HTTPS-ISSUER state=mcp-st
--- no_error_log
[error]



=== TEST 11: bridge: approve redirects to the IAM with response_type, client_id, redirect_uri (issuer + /callback), scope openid, state and an S256 challenge of ours
--- http_config eval
main::iam_http()
--- config eval
main::bridge()
--- request
GET /.well-known/oauth-authorization-server
--- response_body_filters eval
McpOAuth::flow(\&main::approve_redirect)
--- response_body
approve 302 https://iam.example.com/authorize response_type=code client_id=mcp-gateway redirect_uri=ISSUER/callback scope=openid state=(sealed) code_challenge=(43 base64url) code_challenge_method=S256
another approval, another state yes
another approval, another challenge yes
the MCP client's challenge is not sent to the IAM yes
--- error_log
mcp_oauth: authorize: approved, the user signs in at the IAM
--- no_error_log
[error]



=== TEST 12: bridge: mcp_oauth_iam_scope and each mcp_oauth_iam_param are on the redirect, encoded; an authorize URL with a query gets the parameters after "&"
--- http_config eval
main::iam_http()
--- config eval
main::bridge(authorize_url => 'https://iam.example.com/t/authorize?tenant=a',
             extra => 'mcp_oauth_iam_scope "openid profile email";
    mcp_oauth_iam_param audience https://mcp.example.com/mcp;
    mcp_oauth_iam_param prompt "select_account consent";')
--- request
GET /.well-known/oauth-authorization-server
--- response_body_filters eval
McpOAuth::flow(\&main::approve_redirect)
--- response_body
approve 302 https://iam.example.com/t/authorize tenant=a response_type=code client_id=mcp-gateway redirect_uri=ISSUER/callback scope=openid profile email state=(sealed) code_challenge=(43 base64url) code_challenge_method=S256 audience=https://mcp.example.com/mcp prompt=select_account consent
another approval, another state yes
another approval, another challenge yes
the MCP client's challenge is not sent to the IAM yes
--- no_error_log
[error]



=== TEST 13: bridge: approve without the cookie, with another browser's, or with an altered one: 403 page; deny: access_denied to the MCP client; this browser: to the IAM
--- http_config eval
main::iam_http()
--- config eval
main::bridge()
--- request
GET /.well-known/oauth-authorization-server
--- response_body_filters eval
McpOAuth::flow(\&main::approve_checks)
--- response_body
no cookie 403 html no-location title=Request expired
another browser's cookie 403 html no-location title=Request expired
altered cookie 403 html no-location title=Request expired
deny 302 https://app.example.com/cb error=access_denied error_description iss state=mcp-st
this browser 302 to the IAM
--- error_log
mcp_oauth: authorize: the consent form came without its cookie
--- no_error_log
[error]



=== TEST 14: bridge callback: no, empty, unknown or altered state: a 400 page, never a redirect, and the IAM is not asked; the real state still works
--- http_config eval
main::iam_http()
--- config eval
main::bridge()
--- request
GET /.well-known/oauth-authorization-server
--- response_body_filters eval
McpOAuth::flow(\&main::callback_unknown)
--- response_body
no state 400 html no-location title=Invalid sign-in answer
empty state 400 html no-location title=Invalid sign-in answer
unknown state 400 html no-location title=Sign-in expired
altered state 400 html no-location title=Sign-in expired
then the real one 302 https://app.example.com/cb code iss state=mcp-st
--- error_log
mcp_oauth: callback: unknown or expired state
--- no_error_log
[error]



=== TEST 15: bridge callback: the state with no cookie or with another browser's cookie: 400 page, the IAM is not asked; this browser then signs in
--- http_config eval
main::iam_http()
--- config eval
main::bridge()
--- request
GET /.well-known/oauth-authorization-server
--- response_body_filters eval
McpOAuth::flow(\&main::callback_other_browser)
--- response_body
no cookie 400 html no-location title=Sign-in not started here
another browser's cookie 400 html no-location title=Sign-in not started here
IAM token requests 0
this browser 302 https://app.example.com/cb code iss state=mcp-st
IAM token requests 1
--- error_log
mcp_oauth: callback: the state belongs to another browser
--- no_error_log
[error]



=== TEST 16: bridge callback: a state signs in once (the second callback is a 400 page and does not reach the IAM); an IAM error records nothing, so the state can still sign in
--- http_config eval
main::iam_http()
--- config eval
main::bridge()
--- request
GET /.well-known/oauth-authorization-server
--- response_body_filters eval
McpOAuth::flow(\&main::callback_twice)
--- response_body
first 302 https://app.example.com/cb code iss state=mcp-st
second 400 html no-location title=Sign-in already used
IAM token requests 0
error first 302 https://app.example.com/cb error=access_denied error_description iss state=mcp-st
then a code 302 https://app.example.com/cb code iss state=mcp-st
--- no_error_log
[error]



=== TEST 17: bridge callback: the IAM's error goes to the MCP client with its state and iss: access_denied, or temporarily_unavailable as the IAM said; no token request
--- http_config eval
main::iam_http()
--- config eval
main::bridge()
--- request
GET /.well-known/oauth-authorization-server
--- response_body_filters eval
McpOAuth::flow(\&main::callback_errors)
--- response_body
IAM error=access_denied 302 https://app.example.com/cb error=access_denied error_description iss state=mcp-st
IAM error=login_required 302 https://app.example.com/cb error=access_denied error_description iss state=mcp-st
IAM error=temporarily_unavailable 302 https://app.example.com/cb error=temporarily_unavailable error_description iss state=mcp-st
IAM error=server_error 302 https://app.example.com/cb error=access_denied error_description iss state=mcp-st
IAM token requests 0
--- error_log
mcp_oauth: callback: the IAM answered "access_denied"
--- no_error_log
[error]



=== TEST 18: bridge mint: the gateway's code redeems for the gateway's own token, sub from the IAM's id_token; none of the IAM's tokens in the answer; refresh stays at the gateway
--- http_config eval
main::iam_http()
--- config eval
main::bridge()
--- request
GET /.well-known/oauth-authorization-server
--- response_body_filters eval
McpOAuth::flow(\&main::mint_happy)
--- response_body
callback 302 https://app.example.com/cb code iss state=mcp-st
token 200 Bearer expires_in=3600 scope=mcp:tools refresh
header typ=at+jwt alg=ES256
claims iss=ISSUER sub=iam-user-7 aud=ISSUER/mcp client_id=app scope=mcp:tools
the IAM's tokens in the answer none
protected 200 sub=iam-user-7 scope=mcp:tools
IAM token requests 1
refresh 200 Bearer expires_in=3600 scope=mcp:tools refresh
refreshed sub iam-user-7
IAM token requests for the refresh 0
--- error_log
mcp_oauth: callback: the IAM signed in "iam-user-7"
--- no_error_log
[error]



=== TEST 19: bridge exchange (client_secret_basic): POST, form-encoded, Basic credentials, grant_type, the IAM's code, the callback, our verifier; no secret in the body
--- http_config eval
main::iam_http()
--- config eval
main::bridge()
--- request
GET /.well-known/oauth-authorization-server
--- response_body_filters eval
McpOAuth::flow(\&main::token_request)
--- response_body
IAM token requests 1
method POST
content-type application/x-www-form-urlencoded
authorization Basic mcp-gateway:gw-secret
fields grant_type,code,redirect_uri,code_verifier
grant_type authorization_code
code ok
redirect_uri ISSUER/callback
redirect_uri as sent to the authorization endpoint yes
code_verifier well formed
S256(code_verifier) = code_challenge sent to the IAM yes
client_id (none)
client_secret (none)
resource (none)
--- no_error_log
[error]



=== TEST 20: bridge exchange (auth=post, and an mcp_oauth_iam_param resource): client_id and client_secret in the body, no Authorization, the resource sent too
--- http_config eval
main::iam_http()
--- config eval
main::bridge(auth => 'post', extra => 'mcp_oauth_iam_param resource https://api.example.com/;')
--- request
GET /.well-known/oauth-authorization-server
--- response_body_filters eval
McpOAuth::flow(\&main::token_request)
--- response_body
IAM token requests 1
method POST
content-type application/x-www-form-urlencoded
authorization (none)
fields grant_type,client_id,client_secret,resource,code,redirect_uri,code_verifier
grant_type authorization_code
code ok
redirect_uri ISSUER/callback
redirect_uri as sent to the authorization endpoint yes
code_verifier well formed
S256(code_verifier) = code_challenge sent to the IAM yes
client_id mcp-gateway
client_secret gw-secret
resource https://api.example.com/
--- no_error_log
[error]



=== TEST 21: bridge exchange: the IAM answers 500 or 503, or cannot be reached: temporarily_unavailable to the MCP client with its state and iss; a failed exchange records nothing (the same state takes a new code once), a successful one uses the state up
--- http_config eval
main::iam_http()
--- config eval
main::bridge()
--- request
GET /.well-known/oauth-authorization-server
--- timeout: 10
--- response_body_filters eval
McpOAuth::flow(\&main::exchange_unavailable)
--- response_body
IAM e500 302 https://app.example.com/cb error=temporarily_unavailable error_description iss state=mcp-st
the same state, a new code 302 https://app.example.com/cb code iss state=mcp-st
then used up 400 html no-location title=Sign-in already used
IAM e503 302 https://app.example.com/cb error=temporarily_unavailable error_description iss state=mcp-st
the same state, a new code 302 https://app.example.com/cb code iss state=mcp-st
then used up 400 html no-location title=Sign-in already used
IAM down 302 https://app.example.com/cb error=temporarily_unavailable error_description iss state=mcp-st
the same state, a new code 302 https://app.example.com/cb code iss state=mcp-st
then used up 400 html no-location title=Sign-in already used
--- error_log
mcp_oauth: the IAM's token endpoint failed (status 500)
mcp_oauth: the IAM's token endpoint failed (status 503)
mcp_oauth: the IAM's token endpoint failed (status 502)



=== TEST 22: bridge exchange: an IAM error (400 invalid_grant), a 200 that is not JSON, an opaque access token without id_token, an empty sub: server_error with state and iss; a failed exchange records nothing (the same state takes a new code once), a successful one uses the state up
--- http_config eval
main::iam_http()
--- config eval
main::bridge()
--- request
GET /.well-known/oauth-authorization-server
--- response_body_filters eval
McpOAuth::flow(\&main::exchange_bad_answer)
--- response_body
IAM bad400 302 https://app.example.com/cb error=server_error error_description iss state=mcp-st
the same state, a new code 302 https://app.example.com/cb code iss state=mcp-st
then used up 400 html no-location title=Sign-in already used
IAM notjson 302 https://app.example.com/cb error=server_error error_description iss state=mcp-st
the same state, a new code 302 https://app.example.com/cb code iss state=mcp-st
then used up 400 html no-location title=Sign-in already used
IAM opaque 302 https://app.example.com/cb error=server_error error_description iss state=mcp-st
the same state, a new code 302 https://app.example.com/cb code iss state=mcp-st
then used up 400 html no-location title=Sign-in already used
IAM emptysub 302 https://app.example.com/cb error=server_error error_description iss state=mcp-st
the same state, a new code 302 https://app.example.com/cb code iss state=mcp-st
then used up 400 html no-location title=Sign-in already used
--- error_log
mcp_oauth: the IAM's token endpoint answered status 400, error "invalid_grant"
mcp_oauth: the IAM's token endpoint answered status 200, error "(none)"
mcp_oauth: callback: the IAM's answer names no subject



=== TEST 23: bridge exchange: without an id_token, the sub of the IAM's access token when it is a JWT
--- http_config eval
main::iam_http()
--- config eval
main::bridge()
--- request
GET /.well-known/oauth-authorization-server
--- response_body_filters eval
McpOAuth::flow(\&main::subject_from_access_token)
--- response_body
callback 302 https://app.example.com/cb code iss state=mcp-st
token 200 Bearer expires_in=3600 scope=mcp:tools refresh
sub user-1 iss=ISSUER
protected 200 sub=user-1 scope=mcp:tools
--- error_log
mcp_oauth: callback: the IAM signed in "user-1"
--- no_error_log
[error]



=== TEST 24: bridge pass: the MCP client gets the IAM's access token (aud = the resource, its expires_in), a refresh token of the gateway's, no id_token; the resource accepts it
--- http_config eval
main::iam_http()
--- config eval
main::bridge(pass => 1)
--- request
GET /.well-known/oauth-authorization-server
--- response_body_filters eval
McpOAuth::flow(\&main::pass_happy)
--- response_body
callback 302 https://app.example.com/cb code iss state=mcp-st
token 200 Bearer expires_in=300 scope=mcp:tools refresh
access token is the IAM's yes
refresh token is the IAM's no
id_token in the answer no
protected 200 sub=user-1 scope=mcp:tools
--- no_error_log
[error]



=== TEST 25: bridge pass: a refresh at the gateway refreshes at the IAM with the IAM's refresh token and returns the IAM's new access token; a replayed refresh token never reaches the IAM
--- http_config eval
main::iam_http()
--- config eval
main::bridge(pass => 1)
--- request
GET /.well-known/oauth-authorization-server
--- response_body_filters eval
McpOAuth::flow(\&main::pass_refresh)
--- response_body
refresh 200 Bearer expires_in=600 scope=mcp:tools refresh
access token is the IAM's new one yes
new refresh token yes (ours)
IAM token requests 1
IAM got POST application/x-www-form-urlencoded Basic mcp-gateway:gw-secret grant_type=refresh_token&refresh_token=iam-rt
protected 200 sub=user-1 scope=mcp:tools
refresh again 200 Bearer expires_in=600 scope=mcp:tools refresh
IAM got grant_type=refresh_token&refresh_token=iam-rt-2
the first refresh token again 400 invalid_grant
IAM token requests 0
--- no_error_log
[error]



=== TEST 26: bridge pass: a refresh while the IAM is down: 503 temporarily_unavailable; an IAM error or a token for another audience: invalid_grant; the refresh token still works afterwards
--- http_config eval
main::iam_http()
--- config eval
main::bridge(pass => 1)
--- request
GET /.well-known/oauth-authorization-server
--- timeout: 10
--- response_body_filters eval
McpOAuth::flow(\&main::pass_refresh_failures)
--- response_body
IAM down 503 temporarily_unavailable
IAM 500 503 temporarily_unavailable
IAM invalid_grant 400 invalid_grant
IAM token for another audience 400 invalid_grant
IAM back 200 Bearer expires_in=600 scope=mcp:tools refresh



=== TEST 27: bridge pass: an IAM access token whose aud is not the resource (or that is not a JWT): server_error at the callback; one for the resource: the token
--- http_config eval
main::iam_http()
--- config eval
main::bridge(pass => 1)
--- request
GET /.well-known/oauth-authorization-server
--- response_body_filters eval
McpOAuth::flow(\&main::pass_wrong_audience)
--- response_body
IAM access token wrongaud 302 https://app.example.com/cb error=server_error error_description iss state=mcp-st
IAM access token ok 302 https://app.example.com/cb error=server_error error_description iss state=mcp-st
IAM access token for the resource 200 Bearer expires_in=300 scope=mcp:tools refresh
--- error_log
mcp_oauth: the IAM's access token is not a JWT whose aud is "https://mcp.example.com/mcp" (mcp_oauth_iam_token pass)



=== TEST 28: config: mcp_oauth_iam_authorize_url without mcp_oauth_iam_token_request
--- config
    mcp_oauth_issuer http://127.0.0.1:$TEST_NGINX_SERVER_PORT;
    mcp_oauth_resource http://127.0.0.1:$TEST_NGINX_SERVER_PORT/mcp;
    mcp_oauth_signing_key $TEST_NGINX_DATA/signing/ec.pem;
    mcp_oauth_iam_authorize_url https://iam.example.com/authorize;
    mcp_oauth_iam_client mcp-gateway secret=gw-secret;
    location = /authorize { mcp_oauth_authorize; }
--- must_die
--- error_log eval
qr/\[emerg\] .*"mcp_oauth_iam_authorize_url" requires "mcp_oauth_iam_token_request" and "mcp_oauth_iam_client"/



=== TEST 29: config: mcp_oauth_iam_metadata needs a local URI
--- config
    location = /.well-known/oauth-authorization-server {
        mcp_oauth_iam_metadata https://iam.example.com/.well-known/openid-configuration;
    }
--- must_die
--- error_log eval
qr{\[emerg\] .*"mcp_oauth_iam_metadata" needs a local URI starting with "/", not "https://iam\.example\.com/\.well-known/openid-configuration"}



=== TEST 30: config: mcp_oauth_iam_token is mint or pass
--- config
    mcp_oauth_iam_token copy;
--- must_die
--- error_log eval
qr/\[emerg\] .*invalid value "copy"/



=== TEST 31: metadata: two servers with the same metadata location each serve their own IAM's document (the cache is per server, it was per location URI)
--- http_config eval
<<"_EOC_";
server {
    listen 127.0.0.1:$ENV{TEST_NGINX_IAM_PORT2};
    mcp_oauth_issuer https://two.example.com/;
    mcp_oauth_resource https://two.example.com/mcp;
    mcp_oauth_scopes_supported mcp:tools;
    location = /.well-known/oauth-authorization-server {
        mcp_oauth_iam_metadata /_iam/metadata;
    }
    location = /_iam/metadata {
        internal;
        return 200 '{"issuer":"https://iam-two.example.com/"}';
    }
}
_EOC_
--- config
    mcp_oauth_issuer https://iam.example.com/;
    mcp_oauth_resource https://mcp.example.com/mcp;
    mcp_oauth_scopes_supported mcp:tools;
    location = /.well-known/oauth-authorization-server {
        mcp_oauth_iam_metadata /_iam/metadata;
    }
    location = /_iam/metadata {
        internal;
        return 200 '{"issuer":"https://iam.example.com/"}';
    }
--- request
GET /.well-known/oauth-authorization-server
--- response_body_filters eval
McpOAuth::flow(\&main::two_servers)
--- response_body
round 1 server 1 200 https://iam.example.com/
round 1 server 2 200 https://iam-two.example.com/
round 2 server 1 200 https://iam.example.com/
round 2 server 2 200 https://iam-two.example.com/
--- no_error_log
[error]



=== TEST 32: bridge: approvals and callbacks without a sign-in store nothing (the MCP request is sealed into the IAM's state, its use recorded after the IAM signed the user in): 400 replays of one consent form, each back with an error, in a 32k zone, then a sign-in works; a client state over 1024 bytes is refused
--- http_config eval
main::iam_http()
--- config eval
main::bridge(extra => 'mcp_oauth_zone small:32k;')
--- request
GET /.well-known/oauth-authorization-server
--- response_body_filters eval
McpOAuth::flow(\&main::replayed_approvals)
--- response_body
approvals of one form, each back with an error 400 all to the IAM and back
then a sign-in 200 Bearer expires_in=3600 scope=mcp:tools refresh
a state of 1025 bytes 400 html no-location title=Invalid request
--- no_error_log
is full
[alert]
--- timeout: 60
