# Dynamic Client Registration (RFC 7591) at the built-in authorization
# server's /register (docs/authorization-server.md "/register"): the 201
# answer and its members (no null anywhere; a secret only for confidential
# clients, with client_secret_expires_at 0); which redirect URIs are
# accepted (https, http loopback, mcp_oauth_redirect_uri_allow patterns) and
# the invalid_redirect_uri / invalid_client_metadata refusals; and that a
# registration is stateless: a client registered on one nginx works on
# another with the same signing key (and not on one with another key).
#
# Answers are read with response_body_filters subs: main::dcr prints every
# member of a registration answer in a fixed form (random values as
# "string" / "now"), McpOAuth::pick('error') the error code of a refusal.
# Multi-step flows (t/lib/McpOAuth.pm, "Authorization server flows") print
# one line per step.

use strict;
use warnings;
use lib 't/lib';
use Test::Nginx::Socket 'no_plan';
use McpOAuth qw(:DEFAULT :as);

McpOAuth::setup();
no_shuffle();
log_level('info');

# two more servers in the same nginx (the "other nodes" of TEST 16)
$ENV{TEST_NGINX_AS_PORT2} ||= McpOAuth::port() + 1;
$ENV{TEST_NGINX_AS_PORT3} ||= McpOAuth::port() + 2;

my %Known = map { $_ => 1 } qw(client_id client_id_issued_at client_name client_secret
    client_secret_expires_at grant_types redirect_uris response_types scope
    token_endpoint_auth_method);

sub nulls {
    my ($d, $path) = @_;
    return ($path) unless defined $d;
    return map { nulls($d->{$_}, "$path.$_") } sort keys %$d if ref $d eq 'HASH';
    return map { nulls($d->[$_], "$path\[$_]") } 0 .. $#$d if ref $d eq 'ARRAY';
    return ();
}

# a registration answer, member by member
sub dcr {
    my ($body) = @_;
    my $d = eval { JSON::PP->new->decode($body) };
    return "not JSON: $body" unless ref $d eq 'HASH';
    my $j = JSON::PP->new->canonical->allow_nonref;
    my $out = '';
    for my $k (sort keys %Known) {
        my $v = $d->{$k};
        my $s = !exists $d->{$k} ? '(absent)'
              : ($k eq 'client_id' || $k eq 'client_secret')
                  ? (defined $v && !ref $v && length $v ? 'string' : $j->encode($v))
              : $k eq 'client_id_issued_at'
                  ? (defined $v && $v =~ /^\d+$/ && abs($v - time) < 300 ? 'now' : $j->encode($v))
              : $j->encode($v);
        $out .= "$k: $s\n";
    }
    my @other = grep { !$Known{$_} } sort keys %$d;
    my @nulls = nulls($d, '');
    $out .= 'other: ' . (@other ? "@other" : 'none') . "\n";
    $out .= 'nulls: ' . (@nulls ? "@nulls" : 'none') . "\n";
    return $out;
}

# register on the first server, use the client on the second (same signing
# key, its own zone) and the third (another signing key)
sub other_node {
    my $c = register()->{json};
    say_('register on node 1', $c->{client_id} ? 'client_id' : 'no client_id');
    my ($v, $ch) = pkce();
    my %p = (client_id => $c->{client_id}, redirect_uri => 'https://client.example.com/cb',
             code_challenge => $ch, state => 's1', scope => 'mcp:tools', user => 'alice');
    my $page = authorize(%p, port => $ENV{TEST_NGINX_AS_PORT2});
    say_('node 2 authorize', $page->{status}, $page->{form}{csrf_token} ? 'consent form' : 'no form');
    my $r = approve($page, user => 'alice', port => $ENV{TEST_NGINX_AS_PORT2});
    say_('node 2 approve', $r->{status}, $r->{query}{code} ? 'code' : 'no code',
         "state=$r->{query}{state}");
    my $t = redeem($c->{client_id}, $r->{query}{code}, $v,
                   redirect_uri => 'https://client.example.com/cb',
                   port => $ENV{TEST_NGINX_AS_PORT2});
    say_('node 2 token', $t->{status}, $t->{json}{token_type});
    my $m = bearer($t->{json}{access_token}, port => $ENV{TEST_NGINX_AS_PORT2});
    say_('node 2 protected', $m->{status}, $m->{content} =~ /sub=\[alice\]/ ? 'sub=alice' : $m->{content});
    my $x = authorize(%p, port => $ENV{TEST_NGINX_AS_PORT3});
    say_('node 3 (other key) authorize', $x->{status}, $x->{location} ? 'redirect' : 'page');
    my $y = redeem($c->{client_id}, 'whatever', $v, redirect_uri => 'https://client.example.com/cb',
                   port => $ENV{TEST_NGINX_AS_PORT3});
    say_('node 3 token', err($y));
}

# a client id altered by one character is not a client
sub altered_id {
    my $c = register()->{json};
    my $id = $c->{client_id} // '';
    my $i = int(length($id) / 2);
    substr($id, $i, 1) = substr($id, $i, 1) eq 'A' ? 'B' : 'A';
    my ($v, $ch) = pkce();
    my $r = authorize(client_id => $id, redirect_uri => 'https://client.example.com/cb',
                      code_challenge => $ch, state => 's1', user => 'alice');
    say_('authorize', $r->{status}, $r->{location} ? 'redirect' : 'page');
    say_('token', err(redeem($id, 'x', $v, redirect_uri => 'https://client.example.com/cb')));

    # the decoder stops at "=": the id with anything after one is another id
    my $padded = ($c->{client_id} // '') . '=anything';
    $r = authorize(client_id => $padded, redirect_uri => 'https://client.example.com/cb',
                   code_challenge => $ch, state => 's1', user => 'alice');
    say_('"=anything" appended: authorize', $r->{status}, $r->{location} ? 'redirect' : 'page');
    say_('"=anything" appended: token', err(redeem($padded, 'x', $v,
                                               redirect_uri => 'https://client.example.com/cb')));
}

# a registration whose sealed id would be too long for /token to read
sub too_large {
    my @uris = map { "https://client.example.com/cb/$_/" . ('a' x 420) } 1 .. 16;
    my $r = register(redirect_uris => \@uris);
    say_('16 redirect URIs of 450 bytes', err($r), $r->{json}{error_description} // '');
    $r = register(redirect_uris => [@uris[0 .. 3]]);
    my $id = $r->{json}{client_id} // '';
    say_('4 of them', $r->{status}, 'client id of', length($id) > 2000 ? 'over 2000' : length($id), 'bytes');
    my ($v, $ch) = pkce();
    $r = authorize(client_id => $id, redirect_uri => $uris[3], code_challenge => $ch,
                   state => 's1', user => 'alice');
    say_('4 of them: authorize', $r->{status}, $r->{location} ? 'redirect' : 'page');
}

run_tests();

__DATA__

=== TEST 1: a public client (token_endpoint_auth_method none): 201, its metadata, no secret, no null
--- config eval
McpOAuth::as_config()
--- request
POST /register
{"redirect_uris":["https://client.example.com/cb"],"token_endpoint_auth_method":"none","client_name":"Test Client","grant_types":["authorization_code","refresh_token"],"response_types":["code"]}
--- more_headers
Content-Type: application/json
--- error_code: 201
--- response_headers
Content-Type: application/json
Access-Control-Allow-Origin: *
Cache-Control: no-store
--- response_body_filters eval
\&main::dcr
--- response_body
client_id: string
client_id_issued_at: now
client_name: "Test Client"
client_secret: (absent)
client_secret_expires_at: (absent)
grant_types: ["authorization_code","refresh_token"]
redirect_uris: ["https://client.example.com/cb"]
response_types: ["code"]
scope: (absent)
token_endpoint_auth_method: "none"
other: none
nulls: none
--- no_error_log
[error]



=== TEST 2: the least a client sends (redirect_uris, method none): the defaults are filled in, client_name left out, unknown metadata not echoed
--- config eval
McpOAuth::as_config()
--- request
POST /register
{"redirect_uris":["https://client.example.com/cb"],"token_endpoint_auth_method":"none","logo_uri":"https://client.example.com/logo.png","software_id":"x"}
--- more_headers
Content-Type: application/json
--- error_code: 201
--- response_body_filters eval
\&main::dcr
--- response_body
client_id: string
client_id_issued_at: now
client_name: (absent)
client_secret: (absent)
client_secret_expires_at: (absent)
grant_types: ["authorization_code","refresh_token"]
redirect_uris: ["https://client.example.com/cb"]
response_types: ["code"]
scope: (absent)
token_endpoint_auth_method: "none"
other: none
nulls: none



=== TEST 3: a confidential client (client_secret_basic): client_secret and client_secret_expires_at 0; the scope is echoed in normal form
--- config eval
McpOAuth::as_config()
--- request
POST /register
{"redirect_uris":["https://client.example.com/cb"],"token_endpoint_auth_method":"client_secret_basic","client_name":"Backend","scope":"mcp:tools  read:application mcp:tools","grant_types":["authorization_code","refresh_token"]}
--- more_headers
Content-Type: application/json
--- error_code: 201
--- response_body_filters eval
\&main::dcr
--- response_body
client_id: string
client_id_issued_at: now
client_name: "Backend"
client_secret: string
client_secret_expires_at: 0
grant_types: ["authorization_code","refresh_token"]
redirect_uris: ["https://client.example.com/cb"]
response_types: ["code"]
scope: "mcp:tools read:application"
token_endpoint_auth_method: "client_secret_basic"
other: none
nulls: none



=== TEST 4: no token_endpoint_auth_method: client_secret_basic, the RFC 7591 default, so a secret
--- config eval
McpOAuth::as_config()
--- request
POST /register
{"redirect_uris":["https://client.example.com/cb"]}
--- more_headers
Content-Type: application/json
--- error_code: 201
--- response_body_filters eval
McpOAuth::pick(qw(token_endpoint_auth_method client_secret_expires_at))
--- response_body
token_endpoint_auth_method: "client_secret_basic"
client_secret_expires_at: 0



=== TEST 5: client_secret_post is a confidential client too
--- config eval
McpOAuth::as_config()
--- request
POST /register
{"redirect_uris":["https://client.example.com/cb"],"token_endpoint_auth_method":"client_secret_post"}
--- more_headers
Content-Type: application/json
--- error_code: 201
--- response_body_filters eval
McpOAuth::pick(qw(token_endpoint_auth_method client_secret_expires_at))
--- response_body
token_endpoint_auth_method: "client_secret_post"
client_secret_expires_at: 0



=== TEST 6: http loopback redirect URIs (127.0.0.1 with a port, [::1], localhost) are accepted
--- config eval
McpOAuth::as_config()
--- request
POST /register
{"redirect_uris":["http://127.0.0.1:8976/callback","http://[::1]:3000/cb","http://localhost/oauth/callback"],"token_endpoint_auth_method":"none"}
--- more_headers
Content-Type: application/json
--- error_code: 201
--- response_body_filters eval
McpOAuth::pick('redirect_uris')
--- response_body
redirect_uris: ["http://127.0.0.1:8976/callback","http://[::1]:3000/cb","http://localhost/oauth/callback"]



=== TEST 7: an http redirect URI that is not loopback is refused: invalid_redirect_uri
--- config eval
McpOAuth::as_config()
--- request eval
['POST /register
{"redirect_uris":["http://client.example.com/cb"],"token_endpoint_auth_method":"none"}',
'POST /register
{"redirect_uris":["https://client.example.com/cb","http://192.168.1.10/cb"],"token_endpoint_auth_method":"none"}',
'POST /register
{"redirect_uris":["http://127.0.0.1.evil.example.com/cb"],"token_endpoint_auth_method":"none"}']
--- more_headers
Content-Type: application/json
--- error_code eval
[400, 400, 400]
--- response_headers eval
[("Content-Type: application/json") x 3]
--- response_body_filters eval
McpOAuth::pick('error')
--- response_body eval
[("error: \"invalid_redirect_uri\"\n") x 3]



=== TEST 8: redirect URIs that are not absolute https/http URLs, or have a fragment, are refused
--- config eval
McpOAuth::as_config()
--- request eval
['POST /register
{"redirect_uris":["/cb"],"token_endpoint_auth_method":"none"}',
'POST /register
{"redirect_uris":["https://client.example.com/cb#frag"],"token_endpoint_auth_method":"none"}',
'POST /register
{"redirect_uris":["javascript:alert(1)"],"token_endpoint_auth_method":"none"}']
--- more_headers
Content-Type: application/json
--- error_code eval
[400, 400, 400]
--- response_body_filters eval
McpOAuth::pick('error')
--- response_body eval
[("error: \"invalid_redirect_uri\"\n") x 3]



=== TEST 9: redirect_uris missing, empty, or not an array of strings: invalid_redirect_uri
--- config eval
McpOAuth::as_config()
--- request eval
['POST /register
{"client_name":"x","token_endpoint_auth_method":"none"}',
'POST /register
{"redirect_uris":[],"token_endpoint_auth_method":"none"}',
'POST /register
{"redirect_uris":"https://client.example.com/cb","token_endpoint_auth_method":"none"}']
--- more_headers
Content-Type: application/json
--- error_code eval
[400, 400, 400]
--- response_body_filters eval
McpOAuth::pick('error')
--- response_body_like eval
["\\Aerror: \"invalid_redirect_uri\"\\n\\z",
 "\\Aerror: \"invalid_redirect_uri\"\\n\\z",
 "\\Aerror: \"invalid_(?:redirect_uri|client_metadata)\"\\n\\z"]



=== TEST 10: with mcp_oauth_redirect_uri_allow: exact URLs, prefixes ending in * and loopback are accepted
--- config eval
McpOAuth::as_config(extra => 'mcp_oauth_redirect_uri_allow loopback
        https://claude.ai/api/mcp/auth_callback
        https://chatgpt.com/connector/oauth/*;')
--- request eval
['POST /register
{"redirect_uris":["https://claude.ai/api/mcp/auth_callback"],"token_endpoint_auth_method":"none"}',
'POST /register
{"redirect_uris":["https://chatgpt.com/connector/oauth/abc123"],"token_endpoint_auth_method":"none"}',
'POST /register
{"redirect_uris":["http://127.0.0.1:33418/callback","https://claude.ai/api/mcp/auth_callback"],"token_endpoint_auth_method":"none"}']
--- more_headers
Content-Type: application/json
--- error_code eval
[201, 201, 201]



=== TEST 11: with mcp_oauth_redirect_uri_allow: a URI outside every pattern is refused (an exact one is not a prefix; a prefix is matched whole)
--- config eval
McpOAuth::as_config(extra => 'mcp_oauth_redirect_uri_allow loopback
        https://claude.ai/api/mcp/auth_callback
        https://chatgpt.com/connector/oauth/*;')
--- request eval
['POST /register
{"redirect_uris":["https://evil.example.com/cb"],"token_endpoint_auth_method":"none"}',
'POST /register
{"redirect_uris":["https://claude.ai/api/mcp/auth_callback/evil"],"token_endpoint_auth_method":"none"}',
'POST /register
{"redirect_uris":["https://chatgpt.com/connector/other"],"token_endpoint_auth_method":"none"}',
'POST /register
{"redirect_uris":["https://claude.ai/api/mcp/auth_callback","https://evil.example.com/cb"],"token_endpoint_auth_method":"none"}']
--- more_headers
Content-Type: application/json
--- error_code eval
[400, 400, 400, 400]
--- response_body_filters eval
McpOAuth::pick('error')
--- response_body eval
[("error: \"invalid_redirect_uri\"\n") x 4]



=== TEST 12: the loopback pattern is needed for loopback URIs once mcp_oauth_redirect_uri_allow is set
--- config eval
McpOAuth::as_config(extra => 'mcp_oauth_redirect_uri_allow https://claude.ai/api/mcp/auth_callback;')
--- request
POST /register
{"redirect_uris":["http://127.0.0.1:33418/callback"],"token_endpoint_auth_method":"none"}
--- more_headers
Content-Type: application/json
--- error_code: 400
--- response_body_filters eval
McpOAuth::pick('error')
--- response_body
error: "invalid_redirect_uri"



=== TEST 13: unsupported metadata values: invalid_client_metadata (auth method, grant type, response type, client_credentials for a public or a confidential client: tokens without a user are only for configured clients)
--- config eval
McpOAuth::as_config()
--- request eval
['POST /register
{"redirect_uris":["https://client.example.com/cb"],"token_endpoint_auth_method":"private_key_jwt"}',
'POST /register
{"redirect_uris":["https://client.example.com/cb"],"token_endpoint_auth_method":"none","grant_types":["implicit"]}',
'POST /register
{"redirect_uris":["https://client.example.com/cb"],"token_endpoint_auth_method":"none","grant_types":["authorization_code","password"]}',
'POST /register
{"redirect_uris":["https://client.example.com/cb"],"token_endpoint_auth_method":"none","response_types":["token"]}',
'POST /register
{"redirect_uris":["https://client.example.com/cb"],"token_endpoint_auth_method":"none","grant_types":["client_credentials"]}',
'POST /register
{"redirect_uris":["https://client.example.com/cb"],"token_endpoint_auth_method":"client_secret_basic","grant_types":["client_credentials"]}',
'POST /register
{"redirect_uris":["https://client.example.com/cb"],"token_endpoint_auth_method":"client_secret_post","grant_types":["authorization_code","client_credentials"]}']
--- more_headers
Content-Type: application/json
--- error_code eval
[400, 400, 400, 400, 400, 400, 400]
--- response_body_filters eval
McpOAuth::pick('error')
--- response_body eval
[("error: \"invalid_client_metadata\"\n") x 7]



=== TEST 14: a body that is not a JSON object: invalid_client_metadata
--- config eval
McpOAuth::as_config()
--- request eval
['POST /register
{"redirect_uris":["https://client.example.com/cb"],',
'POST /register
["https://client.example.com/cb"]',
'POST /register
redirect_uris=https://client.example.com/cb']
--- more_headers
Content-Type: application/json
--- error_code eval
[400, 400, 400]
--- response_body_filters eval
McpOAuth::pick('error')
--- response_body eval
[("error: \"invalid_client_metadata\"\n") x 3]



=== TEST 15: valid JSON sent with another Content-Type is refused; application/json with a charset is fine
--- config eval
McpOAuth::as_config()
--- request eval
['POST /register
{"redirect_uris":["https://client.example.com/cb"],"token_endpoint_auth_method":"none"}',
'POST /register
{"redirect_uris":["https://client.example.com/cb"],"token_endpoint_auth_method":"none"}',
'POST /register
{"redirect_uris":["https://client.example.com/cb"],"token_endpoint_auth_method":"none"}']
--- more_headers eval
["Content-Type: text/plain", "Content-Type: application/x-www-form-urlencoded",
 "Content-Type: application/json; charset=utf-8"]
--- error_code eval
[400, 400, 201]
--- response_body_filters eval
[[McpOAuth::pick('error')], [McpOAuth::pick('error')], [McpOAuth::pick('token_endpoint_auth_method')]]
--- response_body eval
["error: \"invalid_client_metadata\"\n", "error: \"invalid_client_metadata\"\n",
 "token_endpoint_auth_method: \"none\"\n"]



=== TEST 16: a client registered on one nginx works on another with the same signing key, not on one with another key
--- http_config eval
"server {\n    listen $ENV{TEST_NGINX_AS_PORT2};\n"
. McpOAuth::as_config(extra => 'mcp_oauth_zone node2:1m;')
. "}\nserver {\n    listen $ENV{TEST_NGINX_AS_PORT3};\n"
. McpOAuth::as_config(key => 'rsa', extra => 'mcp_oauth_zone node3:1m;')
. "}\n"
--- config eval
McpOAuth::as_config()
--- request
GET /.well-known/oauth-authorization-server
--- response_body_filters eval
McpOAuth::flow(\&main::other_node)
--- response_body
register on node 1 client_id
node 2 authorize 200 consent form
node 2 approve 302 code state=s1
node 2 token 200 Bearer
node 2 protected 200 sub=alice
node 3 (other key) authorize 400 page
node 3 token 401 invalid_client
--- no_error_log
[alert]



=== TEST 17: a registered client id altered by one character, or with "=anything" appended, is an unknown client (400 page, invalid_client)
--- config eval
McpOAuth::as_config()
--- request
GET /.well-known/oauth-authorization-server
--- response_body_filters eval
McpOAuth::flow(\&main::altered_id)
--- response_body
authorize 400 page
token 401 invalid_client
"=anything" appended: authorize 400 page
"=anything" appended: token 401 invalid_client
--- no_error_log
[alert]



=== TEST 18: a registration larger than 16 KB is refused
--- config eval
McpOAuth::as_config()
--- request eval
'POST /register
{"redirect_uris":["https://client.example.com/cb"],"token_endpoint_auth_method":"none","client_name":"' . ('x' x 17000) . '"}'
--- more_headers
Content-Type: application/json
--- error_code_like: ^4(?:00|13)$
--- no_error_log
[alert]



=== TEST 19: a registration whose client id would be longer than /token reads (8 KB sealed) is refused with invalid_client_metadata, not answered with an id that never works
--- config eval
McpOAuth::as_config()
--- request
GET /.well-known/oauth-authorization-server
--- response_body_filters eval
McpOAuth::flow(\&main::too_large)
--- response_body
16 redirect URIs of 450 bytes 400 invalid_client_metadata the registration is too large for a client id: fewer or shorter redirect URIs, name or scope
4 of them 201 client id of over 2000 bytes
4 of them: authorize 200 page
--- no_error_log
[alert]



=== TEST 20: dot segments and encoded dots or slashes in a redirect path are refused, with or without an allow-list: "https://chatgpt.com/connector/oauth/../../attacker/page" matched the prefix and sent the code to /attacker/page
--- config eval
McpOAuth::as_config(extra => 'mcp_oauth_redirect_uri_allow loopback
        https://chatgpt.com/connector/oauth/*;')
--- request eval
[map { 'POST /register
{"redirect_uris":["' . $_ . '"],"token_endpoint_auth_method":"none"}' }
 'https://chatgpt.com/connector/oauth/../../attacker/page',
 'https://chatgpt.com/connector/oauth/%2e%2e/%2E%2E/attacker/page',
 'https://chatgpt.com/connector/oauth/.%2e/x',
 'https://chatgpt.com/connector/oauth/a%2fb',
 'https://chatgpt.com/connector/oauth/a%5C..%5Cb',
 'https://chatgpt.com/connector/oauth/./cb',
 'https://chatgpt.com/connector/oauth/cb/..',
 'http://127.0.0.1:4000/a/../cb',
 'https://chatgpt.com/connector/oauth/cb.v2/..x/x..?next=../y']
--- more_headers
Content-Type: application/json
--- error_code eval
[400, 400, 400, 400, 400, 400, 400, 400, 201]
--- response_body_filters eval
McpOAuth::pick('error')
--- response_body eval
[("error: \"invalid_redirect_uri\"\n") x 8, "error: (absent)\n"]



=== TEST 21: the same without an allow-list
--- config eval
McpOAuth::as_config()
--- request eval
[map { 'POST /register
{"redirect_uris":["' . $_ . '"],"token_endpoint_auth_method":"none"}' }
 'https://app.example.com/cb/../../other',
 'https://app.example.com/%2E%2E/other',
 'https://app.example.com/cb']
--- more_headers
Content-Type: application/json
--- error_code eval
[400, 400, 201]



=== TEST 22: a prefix pattern without a path ("https://app.example.com*" also matches "https://app.example.com.evil.com/") is refused at nginx -t
--- config eval
McpOAuth::as_config(extra => 'mcp_oauth_redirect_uri_allow https://app.example.com*;')
--- must_die
--- error_log eval
qr/\[emerg\] .*"mcp_oauth_redirect_uri_allow": the prefix "https:\/\/app\.example\.com\*" must end its host with a path \("\/" at least\) before the "\*"/



=== TEST 23: a pattern with a dot segment is refused at nginx -t
--- config eval
McpOAuth::as_config(extra => 'mcp_oauth_redirect_uri_allow https://app.example.com/oauth/../*;')
--- must_die
--- error_log eval
qr/\[emerg\] .*"mcp_oauth_redirect_uri_allow": "https:\/\/app\.example\.com\/oauth\/\.\.\/\*" has a "\." or "\.\." segment or an encoded dot or slash/
