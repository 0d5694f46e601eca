# /authorize of the built-in authorization server
# (docs/authorization-server.md "/authorize"): the consent page and its
# anti-framing headers; client and redirect URI checks that answer a 400
# page and never redirect (an open redirector otherwise); loopback redirects
# on any port (RFC 8252 7.3); the errors that do redirect, with state and
# iss (PKCE S256 only, scopes, resource, response type); the user from
# mcp_oauth_user (401 without one); the CSRF token of the consent form
# (missing, altered parameter, other user: 403); deny and approve; the
# remembered consent and mcp_oauth_consent_ttl 0.
#
# Most blocks use the static public client "app" of McpOAuth::as_config
# (redirects https://app.example.com/cb and http://127.0.0.1:1234/cb; the
# user is the X-Test-User header) with fixed requests; $::Q is its usual
# query (PKCE with the RFC 7636 appendix B challenge, state=xyz).  Redirects
# are matched with McpOAuth::redirect_like (the exact set of parameters,
# values raw or percent-encoded).  The consent form needs the page's hidden
# fields, so the CSRF, deny/approve and remembered-consent blocks are flows
# (response_body_filters, t/lib/McpOAuth.pm) printing one line per step.

use strict;
use warnings;
use lib 't/lib';
use Test::Nginx::Socket 'no_plan';
use McpOAuth qw(:DEFAULT :as);

McpOAuth::setup();
no_shuffle();
log_level('info');

our $CB = 'https%3A%2F%2Fapp.example.com%2Fcb';
our $Q = "response_type=code&client_id=app&redirect_uri=$CB"
       . "&code_challenge=$McpOAuth::CHALLENGE&code_challenge_method=S256&state=xyz";
our $ISS = McpOAuth::base();

# the usual request of the static client, as authorize() parameters
my %App = (client_id => 'app', redirect_uri => 'https://app.example.com/cb',
           code_challenge => $McpOAuth::CHALLENGE, state => 'xyz',
           scope => 'mcp:tools read:application');

# the CSRF token: missing, altered, other user, then the genuine form
sub csrf {
    my %who = @_;
    my $page = authorize(%App, %who);
    say_('authorize', $page->{status}, $page->{form}{csrf_token} ? 'csrf_token' : 'no csrf_token');
    say_('no csrf_token', redir(approve($page, %who, drop => ['csrf_token'])));
    say_('empty csrf_token', redir(approve($page, %who, set => { csrf_token => '' })));
    my $t = $page->{form}{csrf_token} // '';
    substr($t, 3, 1) = substr($t, 3, 1) eq 'A' ? 'B' : 'A' if length $t > 3;
    say_('altered csrf_token', redir(approve($page, %who, set => { csrf_token => $t })));
    say_('scope widened', redir(approve($page, %who,
        set => { scope => 'mcp:tools read:application write:application' })));
    say_('redirect_uri changed', redir(approve($page, %who,
        set => { redirect_uri => 'http://127.0.0.1:1234/cb' })));
    say_('client changed', redir(approve($page, %who, set => { client_id => 'conf',
        redirect_uri => 'https://conf.example.com/cb', scope => 'mcp:tools' })));
    say_('challenge changed', redir(approve($page, %who,
        set => { code_challenge => (pkce())[1] })));
    say_('state changed', redir(approve($page, %who, set => { state => 'other' })));
    say_('posted by bob', redir(approve($page, $who{basic} ? (basic => ['bob', 'bob-pw'])
                                                          : (user => 'bob'))));
    say_('posted by nobody', redir(approve($page)));
    say_('genuine', redir(approve($page, %who)));
}

sub csrf_header { csrf(user => 'alice') }
sub csrf_basic { csrf(basic => ['alice', 'alice-pw']) }

sub deny_flow {
    my $page = authorize(%App, user => 'alice');
    say_('authorize', $page->{status});
    say_('deny', redir(deny($page, user => 'alice')));
    say_('ask again', redir(authorize(%App, user => 'alice')));
}

sub approve_flow {
    my $page = authorize(%App, user => 'alice', state => 'a b&c=d/e');
    say_('authorize', $page->{status});
    say_('approve', redir(approve($page, user => 'alice')));
}

# the approval is remembered for the user, client, scopes and resource
sub remembered {
    my $page = authorize(%App, user => 'alice');
    say_('first', $page->{status});
    say_('approve', redir(approve($page, user => 'alice')));
    say_('again', redir(authorize(%App, user => 'alice')));
    say_('again, other state and challenge', redir(authorize(%App, user => 'alice', state => 's2',
                                                               code_challenge => (pkce())[1])));
    say_('wider scope', redir(authorize(%App, user => 'alice',
                                        scope => 'mcp:tools read:application write:application')));
    say_('other user', redir(authorize(%App, user => 'bob')));
    say_('other client', redir(authorize(%App, user => 'alice', client_id => 'conf',
                                         redirect_uri => 'https://conf.example.com/cb')));
}

sub not_remembered {
    my $page = authorize(%App, user => 'alice');
    say_('first', $page->{status});
    say_('approve', redir(approve($page, user => 'alice')));
    say_('again', redir(authorize(%App, user => 'alice')));
}

# denying is not remembered, and a deny does not forget an approval either
sub deny_not_remembered {
    my $page = authorize(%App, user => 'alice');
    say_('deny', redir(deny($page, user => 'alice')));
    $page = authorize(%App, user => 'alice');
    say_('asked again', $page->{status});
}

# a client name and a redirect host are text on the page, never markup
sub escaped_name {
    my $c = register(client_name => '<script>alert(1)</script>"><img src=x>',
                     redirect_uris => ['https://client.example.com/cb'])->{json};
    my $r = authorize(client_id => $c->{client_id}, redirect_uri => 'https://client.example.com/cb',
                      code_challenge => $McpOAuth::CHALLENGE, state => 'x', user => 'alice');
    say_('authorize', $r->{status});
    say_('raw markup', $r->{content} =~ /<script|<img/i ? 'present' : 'absent');
    say_('escaped name', $r->{content} =~ /&lt;script&gt;alert\(1\)&lt;\/script&gt;/ ? 'shown' : 'missing');
}

# the loopback redirect of a registered client, on another port
sub dcr_loopback {
    my $c = register(redirect_uris => ['http://127.0.0.1:33418/callback'])->{json};
    for my $uri ('http://127.0.0.1:50001/callback', 'http://127.0.0.1/callback',
                 'http://127.0.0.1:50001/other', 'http://127.0.0.2:33418/callback') {
        my $r = authorize(client_id => $c->{client_id}, redirect_uri => $uri,
                          code_challenge => $McpOAuth::CHALLENGE, state => 'x', user => 'alice');
        say_($uri, redir($r));
    }
}

run_tests();

__DATA__

=== TEST 1: the consent page: 200, framing forbidden, not cached, names the client, the redirect host and each scope asked for
--- config eval
McpOAuth::as_config()
--- request eval
"GET /authorize?$::Q&scope=mcp%3Atools%20read%3Aapplication"
--- more_headers
X-Test-User: alice
--- error_code: 200
--- response_headers_like
Content-Type: text/html.*
X-Frame-Options: DENY
Content-Security-Policy: .*frame-ancestors 'none'.*
Cache-Control: .*no-store.*
--- response_body_like chomp
\A(?=.*Static App)(?=.*app\.example\.com)(?=.*mcp:tools)(?=.*read:application)(?!.*write:application)(?=.*name=["']?csrf_token)(?i:(?=.*<form[^>]*method=["']?post))
--- no_error_log
[error]



=== TEST 2: the consent page is a plain form: no script, no external asset, posts to /authorize with approve and deny
--- config eval
McpOAuth::as_config()
--- request eval
"GET /authorize?$::Q&scope=mcp%3Atools"
--- more_headers
X-Test-User: alice
--- response_body_like chomp
\A(?i)(?!.*<script)(?!.*\bsrc=)(?!.*<link)(?!.*\bon[a-z]+=)(?=.*action=["']?(?:/authorize|http://127\.0\.0\.1:\d+/authorize)["'\s>])(?=.*name=["']?decision["']?[^>]*value=["']?approve|.*value=["']?approve["']?[^>]*name=["']?decision)(?=.*name=["']?decision["']?[^>]*value=["']?deny|.*value=["']?deny["']?[^>]*name=["']?decision)



=== TEST 3: without scope, the page asks for every scope of scopes_supported (the client registered none)
--- config eval
McpOAuth::as_config()
--- request eval
"GET /authorize?$::Q"
--- more_headers
X-Test-User: alice
--- response_body_like chomp
\A(?=.*mcp:tools)(?=.*read:application)(?=.*write:application)



=== TEST 4: a client name and redirect host are escaped on the page (a registered name holding markup)
--- config eval
McpOAuth::as_config()
--- request
GET /.well-known/oauth-authorization-server
--- response_body_filters eval
McpOAuth::flow(\&main::escaped_name)
--- response_body
authorize 200
raw markup absent
escaped name shown



=== TEST 5: an unknown client: 400 HTML page, no redirect (even with a valid-looking redirect_uri)
--- config eval
McpOAuth::as_config()
--- request eval
"GET /authorize?response_type=code&client_id=nobody&redirect_uri=$::CB&code_challenge=$McpOAuth::CHALLENGE&code_challenge_method=S256&state=xyz"
--- more_headers
X-Test-User: alice
--- error_code: 400
--- response_headers_like
Content-Type: text/html.*
--- response_headers
!Location



=== TEST 6: a redirect_uri the client did not register: 400 page, no redirect (not an open redirector)
--- config eval
McpOAuth::as_config()
--- request eval
["GET /authorize?response_type=code&client_id=app&redirect_uri=https%3A%2F%2Fevil.example.com%2Fcb&code_challenge=$McpOAuth::CHALLENGE&code_challenge_method=S256&state=xyz",
 "GET /authorize?response_type=code&client_id=app&redirect_uri=https%3A%2F%2Fapp.example.com%2Fcb%2Fmore&code_challenge=$McpOAuth::CHALLENGE&code_challenge_method=S256&state=xyz",
 "GET /authorize?response_type=code&client_id=app&redirect_uri=https%3A%2F%2Fapp.example.com%3A8443%2Fcb&code_challenge=$McpOAuth::CHALLENGE&code_challenge_method=S256&state=xyz",
 "GET /authorize?response_type=code&client_id=app&redirect_uri=https%3A%2F%2Fapp.example.com%2Fcb%3Fx%3D1&code_challenge=$McpOAuth::CHALLENGE&code_challenge_method=S256&state=xyz"]
--- more_headers
X-Test-User: alice
--- error_code eval
[400, 400, 400, 400]
--- response_headers eval
[("!Location") x 4]



=== TEST 7: redirect_uri left out: a 400 page when the client registered two, the consent page when it registered one
--- config eval
McpOAuth::as_config()
--- request eval
["GET /authorize?response_type=code&client_id=app&code_challenge=$McpOAuth::CHALLENGE&code_challenge_method=S256&state=xyz",
 "GET /authorize?response_type=code&client_id=conf&code_challenge=$McpOAuth::CHALLENGE&code_challenge_method=S256&state=xyz&scope=mcp%3Atools"]
--- more_headers
X-Test-User: alice
--- error_code eval
[400, 200]
--- response_headers eval
["!Location", "!Location"]
--- response_body_like eval
["", "Conf App"]



=== TEST 8: a bad client_id and another problem: still the 400 page, never a redirect with the error
--- config eval
McpOAuth::as_config()
--- request eval
"GET /authorize?response_type=token&client_id=nobody&redirect_uri=$::CB&state=xyz"
--- more_headers
X-Test-User: alice
--- error_code: 400
--- response_headers
!Location



=== TEST 9: a loopback redirect registered as http://127.0.0.1:1234/cb matches on any port (RFC 8252 7.3)
--- config eval
McpOAuth::as_config()
--- request eval
["GET /authorize?response_type=code&client_id=app&redirect_uri=http%3A%2F%2F127.0.0.1%3A5555%2Fcb&code_challenge=$McpOAuth::CHALLENGE&code_challenge_method=S256&state=xyz&scope=mcp%3Atools",
 "GET /authorize?response_type=code&client_id=app&redirect_uri=http%3A%2F%2F127.0.0.1%2Fcb&code_challenge=$McpOAuth::CHALLENGE&code_challenge_method=S256&state=xyz&scope=mcp%3Atools"]
--- more_headers
X-Test-User: alice
--- error_code eval
[200, 200]



=== TEST 10: ... but only the port is free: another path, another loopback address, or https is refused with a page
--- config eval
McpOAuth::as_config()
--- request eval
["GET /authorize?response_type=code&client_id=app&redirect_uri=http%3A%2F%2F127.0.0.1%3A5555%2Fother&code_challenge=$McpOAuth::CHALLENGE&code_challenge_method=S256&state=xyz",
 "GET /authorize?response_type=code&client_id=app&redirect_uri=http%3A%2F%2F127.0.0.2%3A1234%2Fcb&code_challenge=$McpOAuth::CHALLENGE&code_challenge_method=S256&state=xyz",
 "GET /authorize?response_type=code&client_id=app&redirect_uri=http%3A%2F%2F127.0.0.1.evil.example.com%3A1234%2Fcb&code_challenge=$McpOAuth::CHALLENGE&code_challenge_method=S256&state=xyz"]
--- more_headers
X-Test-User: alice
--- error_code eval
[400, 400, 400]
--- response_headers eval
[("!Location") x 3]



=== TEST 11: the same for a dynamically registered loopback redirect
--- config eval
McpOAuth::as_config()
--- request
GET /.well-known/oauth-authorization-server
--- response_body_filters eval
McpOAuth::flow(\&main::dcr_loopback)
--- response_body
http://127.0.0.1:50001/callback 200 page
http://127.0.0.1/callback 200 page
http://127.0.0.1:50001/other 400 page
http://127.0.0.2:33418/callback 400 page



=== TEST 12: PKCE plain is refused: redirect with error=invalid_request, state and iss
--- config eval
McpOAuth::as_config()
--- request eval
"GET /authorize?response_type=code&client_id=app&redirect_uri=$::CB&code_challenge=$McpOAuth::VERIFIER&code_challenge_method=plain&state=xyz"
--- more_headers
X-Test-User: alice
--- error_code: 302
--- response_headers_like eval
McpOAuth::redirect_like('https://app.example.com/cb', error => 'invalid_request',
    error_description => qr/[^&]+/, state => 'xyz', iss => $::ISS)



=== TEST 13: no code_challenge is refused the same way (PKCE is required)
--- config eval
McpOAuth::as_config()
--- request eval
"GET /authorize?response_type=code&client_id=app&redirect_uri=$::CB&state=xyz"
--- more_headers
X-Test-User: alice
--- error_code: 302
--- response_headers_like eval
McpOAuth::redirect_like('https://app.example.com/cb', error => 'invalid_request',
    error_description => qr/[^&]+/, state => 'xyz', iss => $::ISS)



=== TEST 14: a challenge without code_challenge_method (plain by RFC 7636 default), or a malformed challenge: invalid_request
--- config eval
McpOAuth::as_config()
--- request eval
["GET /authorize?response_type=code&client_id=app&redirect_uri=$::CB&code_challenge=$McpOAuth::CHALLENGE&state=xyz",
 "GET /authorize?response_type=code&client_id=app&redirect_uri=$::CB&code_challenge=short&code_challenge_method=S256&state=xyz",
 "GET /authorize?response_type=code&client_id=app&redirect_uri=$::CB&code_challenge=" . ('%21' x 43) . "&code_challenge_method=S256&state=xyz"]
--- more_headers
X-Test-User: alice
--- error_code eval
[302, 302, 302]
--- response_headers_like eval
[(McpOAuth::redirect_like('https://app.example.com/cb', error => 'invalid_request',
    error_description => qr/[^&]+/, state => 'xyz', iss => $::ISS)) x 3]



=== TEST 15: a repeated parameter: invalid_request
--- config eval
McpOAuth::as_config()
--- request eval
"GET /authorize?$::Q&scope=mcp%3Atools&scope=write%3Aapplication"
--- more_headers
X-Test-User: alice
--- error_code: 302
--- response_headers_like eval
McpOAuth::redirect_like('https://app.example.com/cb', error => 'invalid_request',
    error_description => qr/[^&]+/, state => 'xyz', iss => $::ISS)



=== TEST 16: a scope outside scopes_supported: invalid_scope
--- config eval
McpOAuth::as_config()
--- request eval
"GET /authorize?$::Q&scope=mcp%3Atools%20admin%3Aall"
--- more_headers
X-Test-User: alice
--- error_code: 302
--- response_headers_like eval
McpOAuth::redirect_like('https://app.example.com/cb', error => 'invalid_scope',
    error_description => qr/[^&]+/, state => 'xyz', iss => $::ISS)



=== TEST 17: a supported scope outside the client's registered scope: invalid_scope; inside it: the consent page
--- config eval
McpOAuth::as_config()
--- request eval
["GET /authorize?response_type=code&client_id=conf&redirect_uri=https%3A%2F%2Fconf.example.com%2Fcb&code_challenge=$McpOAuth::CHALLENGE&code_challenge_method=S256&state=xyz&scope=mcp%3Atools%20write%3Aapplication",
 "GET /authorize?response_type=code&client_id=conf&redirect_uri=https%3A%2F%2Fconf.example.com%2Fcb&code_challenge=$McpOAuth::CHALLENGE&code_challenge_method=S256&state=xyz&scope=read%3Aapplication"]
--- more_headers
X-Test-User: alice
--- error_code eval
[302, 200]
--- response_headers_like eval
[McpOAuth::redirect_like('https://conf.example.com/cb', error => 'invalid_scope',
    error_description => qr/[^&]+/, state => 'xyz', iss => $::ISS),
 "X-Frame-Options: DENY"]



=== TEST 18: a resource that is not this server's mcp_oauth_resource: invalid_target; the server's own: the consent page
--- config eval
McpOAuth::as_config()
--- request eval
["GET /authorize?$::Q&scope=mcp%3Atools&resource=https%3A%2F%2Fother.example.com%2Fmcp",
 "GET /authorize?$::Q&scope=mcp%3Atools&resource=" . ($::ISS =~ s/([^A-Za-z0-9.])/sprintf('%%%02X', ord $1)/ger) . "%2Fmcp"]
--- more_headers
X-Test-User: alice
--- error_code eval
[302, 200]
--- response_headers_like eval
[McpOAuth::redirect_like('https://app.example.com/cb', error => 'invalid_target',
    error_description => qr/[^&]+/, state => 'xyz', iss => $::ISS),
 "X-Frame-Options: DENY"]



=== TEST 19: response_type other than code: unsupported_response_type
--- config eval
McpOAuth::as_config()
--- request eval
"GET /authorize?response_type=token&client_id=app&redirect_uri=$::CB&code_challenge=$McpOAuth::CHALLENGE&code_challenge_method=S256&state=xyz"
--- more_headers
X-Test-User: alice
--- error_code: 302
--- response_headers_like eval
McpOAuth::redirect_like('https://app.example.com/cb', error => 'unsupported_response_type',
    error_description => qr/[^&]+/, state => 'xyz', iss => $::ISS)



=== TEST 20: without state, the error redirect has no state either
--- config eval
McpOAuth::as_config()
--- request eval
"GET /authorize?response_type=code&client_id=app&redirect_uri=$::CB"
--- more_headers
X-Test-User: alice
--- error_code: 302
--- response_headers_like eval
McpOAuth::redirect_like('https://app.example.com/cb', error => 'invalid_request',
    error_description => qr/[^&]+/, iss => $::ISS)



=== TEST 21: no user (mcp_oauth_user is empty): 401, no consent page, no redirect
--- config eval
McpOAuth::as_config()
--- request eval
["GET /authorize?$::Q&scope=mcp%3Atools", "GET /authorize?$::Q&scope=mcp%3Atools"]
--- more_headers eval
["", "X-Test-User: "]
--- error_code eval
[401, 401]
--- response_headers eval
["!Location", "!Location"]
--- response_body_unlike eval
["csrf_token", "csrf_token"]



=== TEST 22: with auth_basic: 401 and the Basic challenge without credentials, the consent page for alice
--- config eval
McpOAuth::as_config(login => 'basic')
--- request eval
["GET /authorize?$::Q&scope=mcp%3Atools", "GET /authorize?$::Q&scope=mcp%3Atools",
 "GET /authorize?$::Q&scope=mcp%3Atools"]
--- more_headers eval
["", "Authorization: Basic " . MIME::Base64::encode_base64('alice:wrong', ''),
 "Authorization: Basic " . MIME::Base64::encode_base64('alice:alice-pw', '')]
--- error_code eval
[401, 401, 200]
--- response_headers_like eval
['WWW-Authenticate: Basic realm="MCP"', 'WWW-Authenticate: Basic realm="MCP"', 'X-Frame-Options: DENY']



=== TEST 23: the CSRF token: missing, altered, or for altered parameters, or posted by another user: 403; the genuine form: the code
--- config eval
McpOAuth::as_config()
--- request
GET /.well-known/oauth-authorization-server
--- response_body_filters eval
McpOAuth::flow(\&main::csrf_header)
--- response_body
authorize 200 csrf_token
no csrf_token 403 page
empty csrf_token 403 page
altered csrf_token 403 page
scope widened 403 page
redirect_uri changed 403 page
client changed 403 page
challenge changed 403 page
state changed 403 page
posted by bob 403 page
posted by nobody 401 page
genuine 302 https://app.example.com/cb code iss state=xyz



=== TEST 24: the same with auth_basic users (the CSRF token is bound to $remote_user)
--- config eval
McpOAuth::as_config(login => 'basic')
--- request
GET /.well-known/oauth-authorization-server
--- response_body_filters eval
McpOAuth::flow(\&main::csrf_basic)
--- response_body
authorize 200 csrf_token
no csrf_token 403 page
empty csrf_token 403 page
altered csrf_token 403 page
scope widened 403 page
redirect_uri changed 403 page
client changed 403 page
challenge changed 403 page
state changed 403 page
posted by bob 403 page
posted by nobody 401 page
genuine 302 https://app.example.com/cb code iss state=xyz



=== TEST 25: deny: redirect with error=access_denied, state and iss, no code; nothing remembered
--- config eval
McpOAuth::as_config()
--- request
GET /.well-known/oauth-authorization-server
--- response_body_filters eval
McpOAuth::flow(\&main::deny_flow)
--- response_body
authorize 200
deny 302 https://app.example.com/cb error=access_denied error_description iss state=xyz
ask again 200 page



=== TEST 26: approve: redirect with code, state (as sent, any characters) and iss, nothing else
--- config eval
McpOAuth::as_config()
--- request
GET /.well-known/oauth-authorization-server
--- response_body_filters eval
McpOAuth::flow(\&main::approve_flow)
--- response_body
authorize 200
approve 302 https://app.example.com/cb code iss state=a b&c=d/e



=== TEST 27: an approval is remembered for the same user, client and scopes: a direct redirect; a wider scope, another user or client asks again
--- config eval
McpOAuth::as_config()
--- request
GET /.well-known/oauth-authorization-server
--- response_body_filters eval
McpOAuth::flow(\&main::remembered)
--- response_body
first 200
approve 302 https://app.example.com/cb code iss state=xyz
again 302 https://app.example.com/cb code iss state=xyz
again, other state and challenge 302 https://app.example.com/cb code iss state=s2
wider scope 200 page
other user 200 page
other client 200 page



=== TEST 28: mcp_oauth_consent_ttl 0: the user is asked every time
--- config eval
McpOAuth::as_config(extra => 'mcp_oauth_consent_ttl 0;')
--- request
GET /.well-known/oauth-authorization-server
--- response_body_filters eval
McpOAuth::flow(\&main::not_remembered)
--- response_body
first 200
approve 302 https://app.example.com/cb code iss state=xyz
again 200 page



=== TEST 29: a deny is not remembered
--- config eval
McpOAuth::as_config()
--- request
GET /.well-known/oauth-authorization-server
--- response_body_filters eval
McpOAuth::flow(\&main::deny_not_remembered)
--- response_body
deny 302 https://app.example.com/cb error=access_denied error_description iss state=xyz
asked again 200



=== TEST 30: a scope repeated in the request is one scope: the consent page lists each scope once
--- config eval
McpOAuth::as_config()
--- request eval
"GET /authorize?$::Q&scope=mcp%3Atools%20mcp%3Atools+read%3Aapplication%20%20mcp%3Atools"
--- more_headers
X-Test-User: alice
--- error_code: 200
--- response_body_like chomp
\A(?=.*<li class="scope">.*<code>mcp:tools</code>)(?=.*<li class="scope">.*<code>read:application</code>)(?!.*<code>mcp:tools</code>.*<code>mcp:tools</code>)
--- no_error_log
[error]
