# mcp_oauth_metadata: OAuth 2.0 Protected Resource Metadata (RFC 9728),
# path-suffixed and at the root, readable by browser clients (CORS), with
# only the baseline scopes published (CLIENTS.md: MCP clients and ChatGPT
# request every scope listed in scopes_supported).

use strict;
use warnings;
use lib 't/lib';
use Test::Nginx::Socket 'no_plan';
use McpOAuth;

McpOAuth::setup();
no_shuffle();
log_level('info');
repeat_each(2);

# the document for the usual server-level configuration
our $PRM = '{"resource":"https://mcp.example.com/mcp",'
         . '"authorization_servers":["https://auth.example.com"],'
         . '"scopes_supported":["mcp:tools"],'
         . '"bearer_methods_supported":["header"]}';

run_tests();

__DATA__

=== TEST 1: the document at /.well-known/oauth-protected-resource/mcp
--- config
    mcp_oauth_resource https://mcp.example.com/mcp;
    mcp_oauth_issuer https://auth.example.com;
    mcp_oauth_required_scope mcp:tools;

    location = /.well-known/oauth-protected-resource/mcp {
        mcp_oauth_metadata;
    }

    location = /.well-known/oauth-protected-resource {
        mcp_oauth_metadata;
    }
--- request
GET /.well-known/oauth-protected-resource/mcp
--- response_headers
Content-Type: application/json
Access-Control-Allow-Origin: *
Cache-Control: public, max-age=3600
--- response_body eval
$main::PRM



=== TEST 2: the same document at the root /.well-known/oauth-protected-resource
--- config
    mcp_oauth_resource https://mcp.example.com/mcp;
    mcp_oauth_issuer https://auth.example.com;
    mcp_oauth_required_scope mcp:tools;

    location = /.well-known/oauth-protected-resource/mcp {
        mcp_oauth_metadata;
    }

    location = /.well-known/oauth-protected-resource {
        mcp_oauth_metadata;
    }
--- request
GET /.well-known/oauth-protected-resource
--- response_headers
Content-Type: application/json
Access-Control-Allow-Origin: *
Cache-Control: public, max-age=3600
--- response_body eval
$main::PRM



=== TEST 3: the document read loosely: every member there, in any order, nothing else
--- config
    mcp_oauth_resource https://mcp.example.com/mcp;
    mcp_oauth_issuer https://auth.example.com;
    mcp_oauth_required_scope mcp:tools;

    location = /.well-known/oauth-protected-resource/mcp {
        mcp_oauth_metadata;
    }
--- request
GET /.well-known/oauth-protected-resource/mcp
--- response_body_like eval
qr/\A\{
    (?=.*"resource":"https:\/\/mcp\.example\.com\/mcp"[,}])
    (?=.*"authorization_servers":\["https:\/\/auth\.example\.com"\][,}])
    (?=.*"scopes_supported":\["mcp:tools"\][,}])
    (?=.*"bearer_methods_supported":\["header"\][,}])
    (?:"[a-z_]+":(?:"[^"]*"|\[[^\]]*\])[,}]){4}
\z/xs



=== TEST 4: two issuers, listed verbatim (Auth0's trailing slash kept)
--- config
    mcp_oauth_resource https://mcp.example.com/mcp;
    mcp_oauth_issuer https://auth.example.com;
    mcp_oauth_issuer https://tenant.auth0.com/;
    mcp_oauth_required_scope mcp:tools;

    location = /.well-known/oauth-protected-resource/mcp {
        mcp_oauth_metadata;
    }
--- request
GET /.well-known/oauth-protected-resource/mcp
--- response_body chomp
{"resource":"https://mcp.example.com/mcp","authorization_servers":["https://auth.example.com","https://tenant.auth0.com/"],"scopes_supported":["mcp:tools"],"bearer_methods_supported":["header"]}



=== TEST 5: no mcp_oauth_required_scope: no scopes_supported
--- config
    mcp_oauth_resource https://mcp.example.com/mcp;
    mcp_oauth_issuer https://auth.example.com;

    location = /.well-known/oauth-protected-resource/mcp {
        mcp_oauth_metadata;
    }
--- request
GET /.well-known/oauth-protected-resource/mcp
--- response_body chomp
{"resource":"https://mcp.example.com/mcp","authorization_servers":["https://auth.example.com"],"bearer_methods_supported":["header"]}



=== TEST 6: resource_name and resource_documentation, JSON-escaped, UTF-8 kept
--- config eval
'    mcp_oauth_resource https://mcp.example.com/mcp;
    mcp_oauth_issuer https://auth.example.com;
    mcp_oauth_required_scope mcp:tools read:application;
    mcp_oauth_resource_name "Hanzo \\"MCP\\" caf' . "\xc3\xa9" . '";
    mcp_oauth_resource_documentation https://docs.example.com/mcp;

    location = /.well-known/oauth-protected-resource/mcp {
        mcp_oauth_metadata;
    }
'
--- request
GET /.well-known/oauth-protected-resource/mcp
--- response_body eval
'{"resource":"https://mcp.example.com/mcp","authorization_servers":["https://auth.example.com"],"scopes_supported":["mcp:tools","read:application"],"bearer_methods_supported":["header"],"resource_name":"Hanzo \\"MCP\\" caf' . "\xc3\xa9" . '","resource_documentation":"https://docs.example.com/mcp"}'



=== TEST 7: only the baseline scopes are published, not a location's extra ones
--- config
    mcp_oauth_resource https://mcp.example.com/mcp;
    mcp_oauth_issuer https://auth.example.com;
    mcp_oauth_jwks $TEST_NGINX_DATA/jwks/main.json;
    mcp_oauth_required_scope mcp:tools;

    location = /.well-known/oauth-protected-resource/mcp {
        mcp_oauth_metadata;
    }

    location = /mcp {
        mcp_oauth on;
        mcp_oauth_required_scope mcp:tools write:application;
        proxy_pass http://127.0.0.1:$TEST_NGINX_SERVER_PORT/backend;
    }

    location = /backend {
        return 200 "backend\n";
    }
--- request eval
["GET /.well-known/oauth-protected-resource/mcp", "GET /mcp"]
--- more_headers eval
["", "Authorization: Bearer " . token('rs256')]
--- error_code eval
[200, 403]
--- response_body eval
[$main::PRM, '{"error":"insufficient_scope","error_description":"insufficient scope"}']



=== TEST 8: OPTIONS preflight: 204 with the CORS headers
--- config
    mcp_oauth_resource https://mcp.example.com/mcp;
    mcp_oauth_issuer https://auth.example.com;

    location = /.well-known/oauth-protected-resource/mcp {
        mcp_oauth_metadata;
    }
--- request
OPTIONS /.well-known/oauth-protected-resource/mcp
--- more_headers
Origin: http://localhost:6274
Access-Control-Request-Method: GET
Access-Control-Request-Headers: mcp-protocol-version
--- error_code: 204
--- response_headers
Access-Control-Allow-Origin: *
Access-Control-Allow-Methods: GET, HEAD, OPTIONS
Access-Control-Allow-Headers: Authorization, Content-Type, MCP-Protocol-Version
Access-Control-Max-Age: 86400
--- response_body



=== TEST 9: POST: 405 with Allow
--- config
    mcp_oauth_resource https://mcp.example.com/mcp;
    mcp_oauth_issuer https://auth.example.com;

    location = /.well-known/oauth-protected-resource/mcp {
        mcp_oauth_metadata;
    }
--- request
POST /.well-known/oauth-protected-resource/mcp
{}
--- error_code: 405
--- response_headers
Allow: GET, HEAD, OPTIONS



=== TEST 10: HEAD: 200, the headers of the document, no body
--- config
    mcp_oauth_resource https://mcp.example.com/mcp;
    mcp_oauth_issuer https://auth.example.com;
    mcp_oauth_required_scope mcp:tools;

    location = /.well-known/oauth-protected-resource/mcp {
        mcp_oauth_metadata;
    }
--- request
HEAD /.well-known/oauth-protected-resource/mcp
--- response_headers eval
"Content-Type: application/json\nContent-Length: " . length($main::PRM)
--- response_body



=== TEST 11: mcp_oauth on in the protected location only: the document needs no token
--- config
    mcp_oauth_resource https://mcp.example.com/mcp;
    mcp_oauth_issuer https://auth.example.com;
    mcp_oauth_jwks $TEST_NGINX_DATA/jwks/main.json;
    mcp_oauth_required_scope mcp:tools;

    location = /.well-known/oauth-protected-resource/mcp {
        mcp_oauth_metadata;
    }

    location = /mcp {
        mcp_oauth on;
        proxy_pass http://127.0.0.1:$TEST_NGINX_SERVER_PORT/backend;
    }

    location = /backend {
        return 200 "backend\n";
    }
--- request eval
["GET /.well-known/oauth-protected-resource/mcp", "GET /mcp"]
--- error_code eval
[200, 401]
--- response_body eval
[$main::PRM, '{"error":"unauthorized","error_description":"no bearer token"}']



=== TEST 12: mcp_oauth on at server level is inherited by the metadata location: token demanded
--- config
    mcp_oauth on;
    mcp_oauth_resource https://mcp.example.com/mcp;
    mcp_oauth_issuer https://auth.example.com;
    mcp_oauth_jwks $TEST_NGINX_DATA/jwks/main.json;
    mcp_oauth_required_scope mcp:tools;

    location = /.well-known/oauth-protected-resource/mcp {
        mcp_oauth_metadata;
    }
--- request eval
["GET /.well-known/oauth-protected-resource/mcp",
 "OPTIONS /.well-known/oauth-protected-resource/mcp"]
--- more_headers eval
["", "Origin: http://localhost:6274\nAccess-Control-Request-Method: GET"]
--- error_code eval
[401, 204]
--- response_headers eval
['WWW-Authenticate: Bearer resource_metadata="https://mcp.example.com/.well-known/oauth-protected-resource/mcp", scope="mcp:tools"',
 "Access-Control-Allow-Origin: *"]



=== TEST 13: mcp_oauth on at server level: the metadata location says mcp_oauth off
--- config
    mcp_oauth on;
    mcp_oauth_resource https://mcp.example.com/mcp;
    mcp_oauth_issuer https://auth.example.com;
    mcp_oauth_jwks $TEST_NGINX_DATA/jwks/main.json;
    mcp_oauth_required_scope mcp:tools;

    location = /.well-known/oauth-protected-resource/mcp {
        mcp_oauth off;
        mcp_oauth_metadata;
    }

    location = /mcp {
        proxy_pass http://127.0.0.1:$TEST_NGINX_SERVER_PORT/backend;
    }

    location = /backend {
        mcp_oauth off;
        return 200 "backend\n";
    }
--- request eval
["GET /.well-known/oauth-protected-resource/mcp", "GET /mcp"]
--- error_code eval
[200, 401]
--- response_body eval
[$main::PRM, '{"error":"unauthorized","error_description":"no bearer token"}']



=== TEST 14: a resource with a trailing slash is published exactly as configured
--- config
    mcp_oauth_resource https://mcp.example.com/mcp/;
    mcp_oauth_issuer https://auth.example.com;
    mcp_oauth_jwks $TEST_NGINX_DATA/jwks/main.json;

    location = /.well-known/oauth-protected-resource/mcp/ {
        mcp_oauth_metadata;
    }

    location = /mcp/ {
        mcp_oauth on;
        proxy_pass http://127.0.0.1:$TEST_NGINX_SERVER_PORT/backend;
    }

    location = /backend {
        return 200 "backend\n";
    }
--- request eval
["GET /.well-known/oauth-protected-resource/mcp/", "GET /mcp/"]
--- error_code eval
[200, 401]
--- response_headers eval
["Content-Type: application/json",
 'WWW-Authenticate: Bearer resource_metadata="https://mcp.example.com/.well-known/oauth-protected-resource/mcp/"']
--- response_body eval
['{"resource":"https://mcp.example.com/mcp/","authorization_servers":["https://auth.example.com"],"bearer_methods_supported":["header"]}',
 '{"error":"unauthorized","error_description":"no bearer token"}']



=== TEST 15: a root resource https://mcp.example.com/ is published verbatim, at the root
--- config
    mcp_oauth_resource https://mcp.example.com/;
    mcp_oauth_issuer https://auth.example.com;
    mcp_oauth_jwks $TEST_NGINX_DATA/jwks/main.json;

    location = /.well-known/oauth-protected-resource {
        mcp_oauth_metadata;
    }

    location = / {
        mcp_oauth on;
        proxy_pass http://127.0.0.1:$TEST_NGINX_SERVER_PORT/backend;
    }

    location = /backend {
        return 200 "backend\n";
    }
--- request eval
["GET /.well-known/oauth-protected-resource", "GET /"]
--- error_code eval
[200, 401]
--- response_body eval
['{"resource":"https://mcp.example.com/","authorization_servers":["https://auth.example.com"],"bearer_methods_supported":["header"]}',
 '{"error":"unauthorized","error_description":"no bearer token"}']



=== TEST 16: a resource_name that is not UTF-8 is refused at start, not dropped
--- config eval
"    mcp_oauth_resource https://mcp.example.com/mcp;
    mcp_oauth_issuer https://auth.example.com;
    mcp_oauth_resource_name \"caf\xe9\";

    location = /.well-known/oauth-protected-resource/mcp {
        mcp_oauth_metadata;
    }
"
--- must_die
--- error_log eval
qr/\[emerg\] .*: "mcp_oauth_metadata": cannot build the document \(invalid UTF-8 in a value\?\) in \S+:\d+$/
