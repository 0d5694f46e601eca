# Client ID Metadata Documents of the built-in authorization server
# (docs/authorization-server.md "Client ID Metadata Documents", and
# docs/directives.md mcp_oauth_client_metadata_request / _cache / _private,
# $mcp_oauth_client_metadata_url): a client_id that is an https URL is
# fetched through the mcp_oauth_client_metadata_request location and used as
# a public client: the consent page, the whole code flow with PKCE and no
# secret, the cache; documents refused with a 400 page and never a redirect
# (client_id not the URL, no "none" method, redirect not listed or outside
# mcp_oauth_redirect_uri_allow, a failed fetch, not a JSON object, larger
# than subrequest_output_buffer_size); URLs refused before any fetch
# (private hosts, no path, user info) unless mcp_oauth_client_metadata_private
# on (hosts only); no documents without the directive; the metadata flag.
#
# The documents are served by the block's own nginx: an http-level map from
# $mcp_oauth_client_metadata_url to the document text, answered by the
# internal fetch location /_cimd (404 for a URL the map does not know).  That
# location logs each fetch to logs/cimd.log (log_subrequest on), whose lines
# the flows count ("fetched N": fetches since the flow began).  Flows
# (response_body_filters, t/lib/McpOAuth.pm) print one line per step:
# "400 page" is a 400 text/html answer without Location (anything but an
# HTML page shows its Content-Type in parentheses), a redirect is shown by
# McpOAuth::redir.

use strict;
use warnings;
use lib 't/lib';
use Test::Nginx::Socket 'no_plan';
use McpOAuth qw(:DEFAULT :as);

McpOAuth::setup();
no_shuffle();
log_level('info');

our $U  = 'https://app.example/oauth/client.json';
our $CB = 'https://app.example/cb';
# 500 scopes that each need escaping in a page
our $ESCAPING = CORE::join ' ', (map { "&$_" } 1 .. 250), (map { "<$_" } 1 .. 250);

# ---- documents and config

# a document as JSON text: the ChatGPT-like one (private_key_jwt preferred,
# "none" allowed), members replaced by %o (undef: left out)
sub doc {
    my (%o) = @_;
    my %d = (client_id => $U, client_name => 'CIMD App', redirect_uris => [$CB],
             token_endpoint_auth_methods_supported => ['private_key_jwt', 'none'], %o);
    delete $d{$_} for grep { !defined $d{$_} } keys %d;
    return JSON::PP->new->canonical->encode(\%d);
}

# the http_config: the map URL => document text (a plain string is served
# as is)
sub cimd_map {
    my (@pairs) = @_;
    my $m = "map \$mcp_oauth_client_metadata_url \$cimd_doc {\n";
    while (my ($url, $text) = splice @pairs, 0, 2) {
        die "no quote or dollar in a served document: $text" if $text =~ /['\$]/;
        $m .= qq{    "$url" '$text';\n};
    }
    return $m . "    default \"\";\n}\n";
}

# the server: McpOAuth::as_config with mcp_oauth_client_metadata_request
# /_cimd (request => 0: without it), EXTRA server-level directives, and the
# fetch location (buffer: its subrequest_output_buffer_size)
sub cimd_config {
    my (%o) = @_;
    my @extra;
    push @extra, 'mcp_oauth_client_metadata_request /_cimd;' if $o{request} // 1;
    push @extra, $o{extra} if defined $o{extra};
    my $buf = $o{buffer} ? "subrequest_output_buffer_size $o{buffer};\n        " : '';
    push @extra, <<"_EOC_";
location = /_cimd {
        internal;
        log_subrequest on;
        access_log logs/cimd.log;
        ${buf}if (\$cimd_doc = "") { return 404; }
        default_type application/json;
        return 200 \$cimd_doc;
    }
_EOC_
    return McpOAuth::as_config(extra => join("\n    ", @extra),
                               exists $o{scopes} ? (scopes => $o{scopes}) : ());
}

# an /authorize query for fixed requests
sub enc {
    my ($s) = @_;
    $s =~ s/([^A-Za-z0-9._~-])/sprintf '%%%02X', ord $1/ge;
    return $s;
}

sub aq {
    my ($cid, $cb) = @_;
    return 'GET /authorize?response_type=code&client_id=' . enc($cid)
         . '&redirect_uri=' . enc($cb // $CB)
         . "&code_challenge=$McpOAuth::CHALLENGE&code_challenge_method=S256"
         . '&state=xyz&scope=mcp%3Atools';
}

# ---- flow helpers

# fetches logged by /_cimd so far (the server root of the real
# Test::Nginx, or of t/compat)
sub cimd_lines {
    no warnings 'once';
    my $root = $Test::Nginx::Util::ServRoot // $ENV{TEST_NGINX_SERVER_ROOT}
               // $ENV{TEST_NGINX_SERVROOT} // 't/servroot';
    open my $fh, '<', "$root/logs/cimd.log" or return 0;
    my @l = <$fh>;
    return scalar @l;
}

my $Base = 0;
sub fetch_reset { $Base = cimd_lines() }
sub fetched { 'fetched ' . (cimd_lines() - $Base) }

# an answer in one line: "400 page" (HTML, no Location), "200 page", a
# redirect (McpOAuth::redir); other content types in parentheses
sub pg {
    my ($r) = @_;
    my $s = redir($r);
    my $ct = $r->{headers}{'content-type'} // '(none)';
    $s .= " ($ct)" if $s =~ /page$/ && $ct !~ m{^text/html};
    return $s;
}

# GET /authorize for client CID (default the document URL) and redirect CB
sub az {
    my ($cid, $cb, %o) = @_;
    return authorize(client_id => $cid // $U, redirect_uri => $cb // $CB,
                     code_challenge => $McpOAuth::CHALLENGE, state => 'xyz',
                     scope => 'mcp:tools', user => 'alice', %o);
}

# one /authorize per [label, client_id, redirect]: "label: answer fetched N"
sub try_all {
    my (@cases) = @_;
    for my $c (@cases) {
        my ($label, $cid, $cb) = @$c;
        say_("$label:", pg(az($cid, $cb)), fetched());
    }
}

# ---- flows

# the whole flow: consent, code, /token without a secret, the token
sub whole_flow {
    fetch_reset();
    my ($v, $ch) = pkce();
    my $page = az($U, $CB, code_challenge => $ch, state => 'st');
    say_('authorize', pg($page));
    my $r = approve($page, user => 'alice');
    say_('approve', redir($r));
    my $code = $r->{query}{code} // die "no code\n";
    my $t = redeem($U, $code, $v, redirect_uri => $CB);
    say_('token', tok($t));
    my $at = $t->{json}{access_token} // die "no access token\n";
    my (undef, $p) = jwt_parts($at);
    say_('client_id claim', ($p->{client_id} // '') eq $U ? 'the document URL' : $p->{client_id});
    say_('sub', $p->{sub});
    say_('protected', prot($at));
    my $e = bearer($at);
    say_('client passed on', $e->{content} =~ /client=\[\Q$U\E\]/ ? 'the document URL' : $e->{content});
    say_('refresh', tok(refresh($U, $t->{json}{refresh_token})));

    # PKCE and the client binding of the code, for the document's client
    ($v, $ch) = pkce();
    $r = code_for(client_id => $U, redirect_uri => $CB, code_challenge => $ch,
                  state => 'st', scope => 'mcp:tools', user => 'alice');
    $code = $r->{query}{code} // die "no second code\n";
    say_('wrong verifier', tok(redeem($U, $code, (pkce())[0], redirect_uri => $CB)));
    ($v, $ch) = pkce();
    $r = code_for(client_id => $U, redirect_uri => $CB, code_challenge => $ch,
                  state => 'st', scope => 'mcp:tools', user => 'alice');
    $code = $r->{query}{code} // die "no third code\n";
    say_('redeemed by client app', tok(redeem('app', $code, $v, redirect_uri => $CB)));
}

# a document's scope goes through the check every client scope does
sub doc_scope {
    say_('admin declared:', pg(az('https://app.example/s/admin.json', $CB, scope => undef)));
    say_('a name of 201 bytes:', pg(az('https://app.example/s/name.json', $CB)));
    my $d = 'https://app.example/s/twice.json';
    my ($v, $ch) = pkce();
    my $r = code_for(client_id => $d, redirect_uri => $CB, code_challenge => $ch,
                     state => 'st', user => 'alice');
    my $code = $r->{query}{code} // die "no code: $r->{status}\n";
    say_('declared twice, asked none:', tok(redeem($d, $code, $v, redirect_uri => $CB)));
}

# anonymous /token requests naming 300 metadata documents: the cache of
# documents gives way, sign-ins still work
sub anonymous_documents {
    my %codes;
    for my $i (1 .. 300) {
        my $r = token_req(grant_type => 'authorization_code', code => 'x', code_verifier => 'y' x 43,
                          client_id => "https://app.example/d/$i.json");
        $codes{err($r)}++;
    }
    say_('300 documents at /token:', join ', ', map { "$codes{$_} x $_" } sort keys %codes);
    my ($v, $ch) = pkce();
    my $r = code_for(client_id => $U, redirect_uri => $CB, code_challenge => $ch,
                     state => 'st', scope => 'mcp:tools', user => 'alice');
    say_('then a sign-in', tok(redeem($U, $r->{query}{code} // 'none', $v, redirect_uri => $CB)));
}

sub cached {
    fetch_reset();
    say_('first', pg(az()), fetched());
    say_('second', pg(az()), fetched());
    say_('third, other state', pg(az(undef, undef, state => 'other')), fetched());
    say_('another document', pg(az('https://app.example/oauth/other.json')), fetched());
    say_('that one again', pg(az('https://app.example/oauth/other.json')), fetched());
}

sub cache_expires {
    # a live grant older than the document: the zone's quick expiry pass
    # stops at it, and the expired document must not block its own key
    my ($v, $ch) = pkce();
    my $r = code_for(client_id => 'app', redirect_uri => 'https://app.example.com/cb',
                     code_challenge => $ch, state => 'st', scope => 'mcp:tools', user => 'alice');
    say_('a grant first', tok(redeem('app', $r->{query}{code} // 'none', $v,
                                     redirect_uri => 'https://app.example.com/cb')));
    fetch_reset();
    say_('first', pg(az()), fetched());
    say_('at once', pg(az()), fetched());
    sleep 3;
    say_('3 s later', pg(az()), fetched());
    say_('then cached again', pg(az()), fetched());
}

sub client_id_mismatch {
    fetch_reset();
    try_all(['other URL as client_id', 'https://app.example/oauth/a.json'],
            ['client_id with a trailing slash', 'https://app.example/oauth/b.json'],
            ['client_id in another case', 'https://app.example/oauth/c.json'],
            ['no client_id', 'https://app.example/oauth/d.json'],
            ['the genuine document', $U]);
}

sub auth_methods {
    fetch_reset();
    try_all(['only private_key_jwt', 'https://app.example/m/pkj.json'],
            ['token_endpoint_auth_method client_secret_basic', 'https://app.example/m/basic.json'],
            ['token_endpoint_auth_method none', 'https://app.example/m/none.json'],
            ['private_key_jwt and none', $U]);
}

sub redirect_listed {
    fetch_reset();
    try_all(['other path', $U, 'https://app.example/other'],
            ['longer path', $U, 'https://app.example/cb/more'],
            ['other host', $U, 'https://evil.example/cb'],
            ['with a query', $U, 'https://app.example/cb?x=1'],
            ['the listed one', $U, $CB]);
}

sub redirect_allow {
    fetch_reset();
    try_all(['only an outside redirect', 'https://app.example/r/out.json', 'https://evil.example/cb'],
            ['an allowed and an outside one, allowed asked', 'https://app.example/r/mixed.json', $CB],
            ['an allowed one', $U, $CB]);
}

sub bad_fetch {
    fetch_reset();
    try_all(['404', 'https://app.example/f/missing.json'],
            ['not JSON', 'https://app.example/f/text.json'],
            ['a JSON array', 'https://app.example/f/array.json'],
            ['a JSON string', 'https://app.example/f/string.json'],
            ['larger than the buffer', 'https://app.example/f/large.json'],
            ['a good one after these', $U]);
    say_('metadata', req(GET => '/.well-known/oauth-authorization-server')->{status});
}

sub private_refused {
    fetch_reset();
    try_all(map { [$_, $_] }
            'https://127.0.0.1/c.json', 'https://10.0.0.1/c.json', 'https://192.168.1.5/c.json',
            'https://169.254.169.254/c.json', 'https://localhost/c.json',
            'https://foo.localhost/c.json', 'https://printer.local/c.json',
            'https://foo.internal/c.json', 'https://[::1]/c.json',
            'https://app.example', 'https://u@app.example/c.json',
            'http://app.example/c.json');
    try_all(['the public one', $U]);
}

sub private_allowed {
    fetch_reset();
    try_all(['https://127.0.0.1/c.json', 'https://127.0.0.1/c.json'],
            ['https://foo.internal/c.json', 'https://foo.internal/c.json'],
            ['https://app.example (no path)', 'https://app.example'],
            ['https://u@app.example/c.json', 'https://u@app.example/c.json']);
}

sub no_request {
    fetch_reset();
    try_all(['the document URL', $U]);
}

run_tests();

__DATA__

=== TEST 1: a ChatGPT-like document (private_key_jwt and none): the consent page names the client and the redirect host
--- http_config eval
::cimd_map($::U => ::doc())
--- config eval
::cimd_config()
--- request eval
::aq($::U)
--- more_headers
X-Test-User: alice
--- error_code: 200
--- response_headers_like
Content-Type: text/html.*
X-Frame-Options: DENY
--- raw_response_headers_unlike eval
qr/^Location:/mi
--- response_body_like chomp
\A(?=.*CIMD App)(?=.*app\.example)(?=.*mcp:tools)(?i:(?=.*<form[^>]*method=["']?post))
--- no_error_log
[error]



=== TEST 2: the whole flow: approve, /token with client_id = the URL, no secret, PKCE; the token's client_id is the URL
--- http_config eval
::cimd_map($::U => ::doc())
--- config eval
::cimd_config()
--- request
GET /.well-known/oauth-authorization-server
--- response_body_filters eval
McpOAuth::flow(\&main::whole_flow)
--- response_body
authorize 200 page
approve 302 https://app.example/cb code iss state=st
token 200 Bearer expires_in=3600 scope=mcp:tools refresh
client_id claim the document URL
sub alice
protected 200 sub=alice scope=mcp:tools
client passed on the document URL
refresh 200 Bearer expires_in=3600 scope=mcp:tools refresh
wrong verifier 400 invalid_grant
redeemed by client app 400 invalid_grant
--- no_error_log
[error]



=== TEST 3: a document is fetched once, then read from the cache (within mcp_oauth_client_metadata_cache), per URL
--- http_config eval
::cimd_map($::U => ::doc(),
           'https://app.example/oauth/other.json' => ::doc(client_id => 'https://app.example/oauth/other.json',
                                                           client_name => 'Other'))
--- config eval
::cimd_config()
--- request
GET /.well-known/oauth-authorization-server
--- response_body_filters eval
McpOAuth::flow(\&main::cached)
--- response_body
first 200 page fetched 1
second 200 page fetched 1
third, other state 200 page fetched 1
another document 200 page fetched 2
that one again 200 page fetched 2
--- no_error_log
[error]



=== TEST 4: mcp_oauth_client_metadata_cache 1s: fetched again once it expired, then cached again (an expired entry behind a live one used to block its key)
--- http_config eval
::cimd_map($::U => ::doc())
--- config eval
::cimd_config(extra => 'mcp_oauth_client_metadata_cache 1s;')
--- request
GET /.well-known/oauth-authorization-server
--- timeout: 10
--- response_body_filters eval
McpOAuth::flow(\&main::cache_expires)
--- response_body
a grant first 200 Bearer expires_in=3600 scope=mcp:tools refresh
first 200 page fetched 1
at once 200 page fetched 1
3 s later 200 page fetched 2
then cached again 200 page fetched 2
--- no_error_log
[error]



=== TEST 5: a document whose client_id is not its URL: 400 page, never a redirect
--- http_config eval
::cimd_map($::U => ::doc(),
           'https://app.example/oauth/a.json' => ::doc(),
           'https://app.example/oauth/b.json' => ::doc(client_id => 'https://app.example/oauth/b.json/'),
           'https://app.example/oauth/c.json' => ::doc(client_id => 'https://APP.example/oauth/c.json'),
           'https://app.example/oauth/d.json' => ::doc(client_id => undef))
--- config eval
::cimd_config()
--- request
GET /.well-known/oauth-authorization-server
--- response_body_filters eval
McpOAuth::flow(\&main::client_id_mismatch)
--- response_body
other URL as client_id: 400 page fetched 1
client_id with a trailing slash: 400 page fetched 2
client_id in another case: 400 page fetched 3
no client_id: 400 page fetched 4
the genuine document: 200 page fetched 5
--- error_log eval
[qr{client metadata document "https://app\.example/oauth/a\.json": its client_id is not its URL},
 qr{client metadata document "https://app\.example/oauth/b\.json": its client_id is not its URL},
 qr{client metadata document "https://app\.example/oauth/c\.json": its client_id is not its URL},
 qr{client metadata document "https://app\.example/oauth/d\.json": its client_id is not its URL}]
--- no_error_log
[error]



=== TEST 6: a document without the "none" method (only private_key_jwt, or client_secret_basic): 400 page; "none" in either member is accepted
--- http_config eval
::cimd_map($::U => ::doc(),
           'https://app.example/m/pkj.json' => ::doc(client_id => 'https://app.example/m/pkj.json',
                                                     token_endpoint_auth_methods_supported => ['private_key_jwt']),
           'https://app.example/m/basic.json' => ::doc(client_id => 'https://app.example/m/basic.json',
                                                       token_endpoint_auth_methods_supported => undef,
                                                       token_endpoint_auth_method => 'client_secret_basic'),
           'https://app.example/m/none.json' => ::doc(client_id => 'https://app.example/m/none.json',
                                                      token_endpoint_auth_methods_supported => undef,
                                                      token_endpoint_auth_method => 'none'))
--- config eval
::cimd_config()
--- request
GET /.well-known/oauth-authorization-server
--- response_body_filters eval
McpOAuth::flow(\&main::auth_methods)
--- response_body
only private_key_jwt: 400 page fetched 1
token_endpoint_auth_method client_secret_basic: 400 page fetched 2
token_endpoint_auth_method none: 200 page fetched 3
private_key_jwt and none: 200 page fetched 4
--- error_log eval
[qr{client metadata document "https://app\.example/m/pkj\.json" does not allow the "none" authentication method},
 qr{client metadata document "https://app\.example/m/basic\.json" does not allow the "none" authentication method}]
--- no_error_log
[error]



=== TEST 7: a redirect_uri the document does not list: 400 page, no redirect
--- http_config eval
::cimd_map($::U => ::doc())
--- config eval
::cimd_config()
--- request
GET /.well-known/oauth-authorization-server
--- response_body_filters eval
McpOAuth::flow(\&main::redirect_listed)
--- response_body
other path: 400 page fetched 1
longer path: 400 page fetched 1
other host: 400 page fetched 1
with a query: 400 page fetched 1
the listed one: 200 page fetched 1
--- error_log eval
[qr{authorize: redirect_uri "https://app\.example/other" is not registered},
 qr{authorize: redirect_uri "https://evil\.example/cb" is not registered}]
--- no_error_log
[error]



=== TEST 8: a redirect URI in the document outside mcp_oauth_redirect_uri_allow: 400 page
--- http_config eval
::cimd_map($::U => ::doc(),
           'https://app.example/r/out.json' => ::doc(client_id => 'https://app.example/r/out.json',
                                                     redirect_uris => ['https://evil.example/cb']),
           'https://app.example/r/mixed.json' => ::doc(client_id => 'https://app.example/r/mixed.json',
                                                       redirect_uris => [$::CB, 'https://evil.example/cb']))
--- config eval
::cimd_config(extra => 'mcp_oauth_redirect_uri_allow loopback https://app.example/cb https://conf.example.com/*;')
--- request
GET /.well-known/oauth-authorization-server
--- response_body_filters eval
McpOAuth::flow(\&main::redirect_allow)
--- response_body
only an outside redirect: 400 page fetched 1
an allowed and an outside one, allowed asked: 400 page fetched 2
an allowed one: 200 page fetched 3
--- error_log eval
[qr{client metadata document "https://app\.example/r/out\.json": redirect URI "https://evil\.example/cb" is not allowed},
 qr{client metadata document "https://app\.example/r/mixed\.json": redirect URI "https://evil\.example/cb" is not allowed}]
--- no_error_log
[error]



=== TEST 9: a failed fetch (404), not JSON, a JSON array or string, larger than subrequest_output_buffer_size: 400 page; nginx keeps serving
--- http_config eval
::cimd_map($::U => ::doc(),
           'https://app.example/f/text.json' => 'hello, not JSON',
           'https://app.example/f/array.json' => '[' . ::doc(client_id => 'https://app.example/f/array.json') . ']',
           'https://app.example/f/string.json' => '"https://app.example/f/string.json"',
           'https://app.example/f/large.json' => ::doc(client_id => 'https://app.example/f/large.json',
                                                       client_name => 'L' x 1500))
--- config eval
::cimd_config(buffer => '1k')
--- request
GET /.well-known/oauth-authorization-server
--- response_body_filters eval
McpOAuth::flow(\&main::bad_fetch)
--- response_body
404: 400 page fetched 1
not JSON: 400 page fetched 2
a JSON array: 400 page fetched 3
a JSON string: 400 page fetched 4
larger than the buffer: 400 page fetched 5
a good one after these: 200 page fetched 6
metadata 200
--- error_log eval
[qr{client metadata document "https://app\.example/f/missing\.json" could not be fetched},
 qr{client metadata document "https://app\.example/f/large\.json" could not be fetched}]
--- no_error_log
[alert]
[crit]
[emerg]



=== TEST 10: private hosts, no path, user info, plain http: refused without a fetch (each one served a valid document)
--- http_config eval
::cimd_map($::U => ::doc(),
           map { ($_ => ::doc(client_id => $_)) }
           'https://127.0.0.1/c.json', 'https://10.0.0.1/c.json', 'https://192.168.1.5/c.json',
           'https://169.254.169.254/c.json', 'https://localhost/c.json',
           'https://foo.localhost/c.json', 'https://printer.local/c.json',
           'https://foo.internal/c.json', 'https://[::1]/c.json',
           'https://app.example', 'https://u@app.example/c.json',
           'http://app.example/c.json')
--- config eval
::cimd_config()
--- request
GET /.well-known/oauth-authorization-server
--- response_body_filters eval
McpOAuth::flow(\&main::private_refused)
--- response_body
https://127.0.0.1/c.json: 400 page fetched 0
https://10.0.0.1/c.json: 400 page fetched 0
https://192.168.1.5/c.json: 400 page fetched 0
https://169.254.169.254/c.json: 400 page fetched 0
https://localhost/c.json: 400 page fetched 0
https://foo.localhost/c.json: 400 page fetched 0
https://printer.local/c.json: 400 page fetched 0
https://foo.internal/c.json: 400 page fetched 0
https://[::1]/c.json: 400 page fetched 0
https://app.example: 400 page fetched 0
https://u@app.example/c.json: 400 page fetched 0
http://app.example/c.json: 400 page fetched 0
the public one: 200 page fetched 1
--- error_log eval
[qr{client metadata document URL "https://127\.0\.0\.1/c\.json" refused},
 qr{client metadata document URL "https://10\.0\.0\.1/c\.json" refused},
 qr{client metadata document URL "https://localhost/c\.json" refused},
 qr{client metadata document URL "https://foo\.internal/c\.json" refused},
 qr{client metadata document URL "https://\[::1\]/c\.json" refused},
 qr{client metadata document URL "https://app\.example" refused},
 qr{client metadata document URL "https://u\@app\.example/c\.json" refused}]
--- no_error_log
[error]



=== TEST 11: mcp_oauth_client_metadata_private on: a loopback or .internal host is fetched and accepted; no path and user info are still refused
--- http_config eval
::cimd_map(map { ($_ => ::doc(client_id => $_)) }
           'https://127.0.0.1/c.json', 'https://foo.internal/c.json',
           'https://app.example', 'https://u@app.example/c.json')
--- config eval
::cimd_config(extra => 'mcp_oauth_client_metadata_private on;')
--- request
GET /.well-known/oauth-authorization-server
--- response_body_filters eval
McpOAuth::flow(\&main::private_allowed)
--- response_body
https://127.0.0.1/c.json: 200 page fetched 1
https://foo.internal/c.json: 200 page fetched 2
https://app.example (no path): 400 page fetched 2
https://u@app.example/c.json: 400 page fetched 2
--- error_log eval
[qr{client metadata document URL "https://app\.example" refused},
 qr{client metadata document URL "https://u\@app\.example/c\.json" refused}]
--- no_error_log
[error]



=== TEST 12: without mcp_oauth_client_metadata_request an https client_id is an unknown client: 400 page, nothing fetched
--- http_config eval
::cimd_map($::U => ::doc())
--- config eval
::cimd_config(request => 0)
--- request
GET /.well-known/oauth-authorization-server
--- response_body_filters eval
McpOAuth::flow(\&main::no_request)
--- response_body
the document URL: 400 page fetched 0
--- error_log eval
[qr{client id "https://app\.example/oauth/client\.json" is a metadata document URL, and mcp_oauth_client_metadata_request is not set},
 qr{authorize: unknown client}]
--- no_error_log
[error]



=== TEST 13: the metadata advertises client_id_metadata_document_supported: true with mcp_oauth_client_metadata_request
--- http_config eval
::cimd_map($::U => ::doc())
--- config eval
::cimd_config()
--- request
GET /.well-known/oauth-authorization-server
--- error_code: 200
--- response_body_filters eval
McpOAuth::pick('client_id_metadata_document_supported')
--- response_body
client_id_metadata_document_supported: true



=== TEST 14: without mcp_oauth_client_metadata_request it does not (absent, or false)
--- http_config eval
::cimd_map($::U => ::doc())
--- config eval
::cimd_config(request => 0)
--- request
GET /.well-known/oauth-authorization-server
--- error_code: 200
--- response_body_filters eval
McpOAuth::pick('client_id_metadata_document_supported')
--- response_body_like chomp
\Aclient_id_metadata_document_supported: (?:\(absent\)|false)\n\z



=== TEST 15: a document whose scope is 500 tokens that need escaping: the consent page is written whole (it used to overrun its buffer and kill the worker)
--- http_config eval
::cimd_map($::U => ::doc(scope => $::ESCAPING))
--- config eval
::cimd_config(scopes => $::ESCAPING)
--- request eval
'GET /authorize?response_type=code&client_id=' . ::enc($::U)
. '&redirect_uri=' . ::enc($::CB)
. "&code_challenge=$McpOAuth::CHALLENGE&code_challenge_method=S256&state=xyz"
--- more_headers
X-Test-User: alice
--- error_code: 200
--- response_body_like chomp
\A<!DOCTYPE html>.*<li class="scope">.*<code>&amp;1</code></label></li>.*<code>&lt;250</code></label></li>.*</html>\n\z
--- no_error_log
[alert]
exited on signal



=== TEST 16: a document is checked like a registration: a scope the server does not grant refuses it (it was granted), a repeated one is kept once, a client_name over 200 bytes refuses it
--- http_config eval
::cimd_map('https://app.example/s/admin.json' => ::doc(client_id => 'https://app.example/s/admin.json',
                                                       scope => 'mcp:tools admin'),
           'https://app.example/s/twice.json' => ::doc(client_id => 'https://app.example/s/twice.json',
                                                       scope => 'mcp:tools  mcp:tools read:application'),
           'https://app.example/s/name.json' => ::doc(client_id => 'https://app.example/s/name.json',
                                                      client_name => 'N' x 201))
--- config eval
::cimd_config()
--- request
GET /.well-known/oauth-authorization-server
--- response_body_filters eval
McpOAuth::flow(\&main::doc_scope)
--- response_body
admin declared: 400 page
a name of 201 bytes: 400 page
declared twice, asked none: 200 Bearer expires_in=3600 scope=mcp:tools read:application refresh
--- error_log
client metadata document "https://app.example/s/admin.json": its scope "mcp:tools admin" names a scope this server does not grant
--- no_error_log
[error]



=== TEST 17: metadata documents fetched for anonymous requests hold a quarter of the zone at most and give way to grants: 300 documents through /token in a 32k zone (they used to fill it and deny every sign-in for 10 minutes), then a sign-in works
--- http_config eval
::cimd_map((map { ("https://app.example/d/$_.json"
                   => ::doc(client_id => "https://app.example/d/$_.json", client_name => 'N' x 150)) } 1 .. 300),
           $::U => ::doc())
--- config eval
::cimd_config(extra => 'mcp_oauth_zone small:32k;')
--- request
GET /.well-known/oauth-authorization-server
--- response_body_filters eval
McpOAuth::flow(\&main::anonymous_documents)
--- response_body
300 documents at /token: 300 x 400 invalid_grant
then a sign-in 200 Bearer expires_in=3600 scope=mcp:tools refresh
--- no_error_log
is full
[alert]
--- timeout: 60
