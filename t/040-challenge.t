# What a client that is not let through gets (RFC 6750 §3, RFC 9728 §5.1):
# exactly one WWW-Authenticate header, CORS headers a browser can read, a
# JSON body; and what a client that is let through leaves behind (no token
# upstream, every other header intact), across satisfy, CORS preflights,
# keepalive, HEAD and internal redirects.

use strict;
use warnings;
use lib 't/lib';
use Test::Nginx::Socket 'no_plan';
use McpOAuth;

McpOAuth::setup();
no_shuffle();
log_level('info');
repeat_each(2);

run_tests();

__DATA__

=== TEST 1: no token: 401, one challenge with the scope hint, CORS, JSON body
--- config
    mcp_oauth_resource https://mcp.example.com/mcp;
    mcp_oauth_issuer https://auth.example.com;
    mcp_oauth_jwks $TEST_NGINX_DATA/jwks/main.json;

    location = /mcp {
        mcp_oauth on;
        mcp_oauth_required_scope mcp:tools;
        proxy_pass http://127.0.0.1:$TEST_NGINX_SERVER_PORT/backend;
    }

    location = /backend {
        return 200 "backend\n";
    }
--- request
GET /mcp
--- error_code: 401
--- response_headers
WWW-Authenticate: Bearer resource_metadata="https://mcp.example.com/.well-known/oauth-protected-resource/mcp", scope="mcp:tools"
Access-Control-Expose-Headers: WWW-Authenticate
Access-Control-Allow-Origin: *
Content-Type: application/json
--- raw_response_headers_unlike: (?im)^www-authenticate:.*^www-authenticate:
--- response_body chomp
{"error":"unauthorized","error_description":"no bearer token"}
--- error_log
mcp_oauth: no bearer token
--- no_error_log
[error]



=== TEST 2: no token, no mcp_oauth_required_scope: no scope attribute
--- config
    mcp_oauth_resource https://mcp.example.com/mcp;
    mcp_oauth_issuer https://auth.example.com;
    mcp_oauth_jwks $TEST_NGINX_DATA/jwks/main.json;

    location = /mcp {
        mcp_oauth on;
        proxy_pass http://127.0.0.1:$TEST_NGINX_SERVER_PORT/backend;
    }

    location = /backend {
        return 200 "backend\n";
    }
--- request
GET /mcp
--- error_code: 401
--- response_headers
WWW-Authenticate: Bearer resource_metadata="https://mcp.example.com/.well-known/oauth-protected-resource/mcp"
--- raw_response_headers_unlike: (?im)^www-authenticate:.*^www-authenticate:



=== TEST 3: two required scopes: the hint names both, space-separated
--- config
    mcp_oauth_resource https://mcp.example.com/mcp;
    mcp_oauth_issuer https://auth.example.com;
    mcp_oauth_jwks $TEST_NGINX_DATA/jwks/main.json;

    location = /mcp {
        mcp_oauth on;
        mcp_oauth_required_scope mcp:tools read:application;
        proxy_pass http://127.0.0.1:$TEST_NGINX_SERVER_PORT/backend;
    }

    location = /backend {
        return 200 "backend\n";
    }
--- request
GET /mcp
--- error_code: 401
--- response_headers
WWW-Authenticate: Bearer resource_metadata="https://mcp.example.com/.well-known/oauth-protected-resource/mcp", scope="mcp:tools read:application"
--- raw_response_headers_unlike: (?im)^www-authenticate:.*^www-authenticate:



=== TEST 4: Authorization with another scheme counts as no bearer token (RFC 6750 §3.1)
--- config
    mcp_oauth_resource https://mcp.example.com/mcp;
    mcp_oauth_issuer https://auth.example.com;
    mcp_oauth_jwks $TEST_NGINX_DATA/jwks/main.json;

    location = /mcp {
        mcp_oauth on;
        mcp_oauth_required_scope mcp:tools;
        proxy_pass http://127.0.0.1:$TEST_NGINX_SERVER_PORT/backend;
    }

    location = /backend {
        return 200 "backend\n";
    }
--- request
GET /mcp
--- more_headers
Authorization: Basic dXNlcjpwYXNz
--- error_code: 401
--- response_headers
WWW-Authenticate: Bearer resource_metadata="https://mcp.example.com/.well-known/oauth-protected-resource/mcp", scope="mcp:tools"
--- raw_response_headers_unlike: (?im)^www-authenticate:.*^www-authenticate:
--- error_log
mcp_oauth: no bearer token



=== TEST 5: a token in the query string counts as no bearer token (header method only)
--- config
    mcp_oauth_resource https://mcp.example.com/mcp;
    mcp_oauth_issuer https://auth.example.com;
    mcp_oauth_jwks $TEST_NGINX_DATA/jwks/main.json;

    location = /mcp {
        mcp_oauth on;
        mcp_oauth_required_scope mcp:tools;
        proxy_pass http://127.0.0.1:$TEST_NGINX_SERVER_PORT/backend;
    }

    location = /backend {
        return 200 "backend\n";
    }
--- request eval
"GET /mcp?access_token=" . token('rs256')
--- error_code: 401
--- response_headers
WWW-Authenticate: Bearer resource_metadata="https://mcp.example.com/.well-known/oauth-protected-resource/mcp", scope="mcp:tools"
--- raw_response_headers_unlike: (?im)^www-authenticate:.*^www-authenticate:
--- error_log
mcp_oauth: no bearer token



=== TEST 6: expired token: invalid_token with the reason, CORS, JSON body
--- config
    mcp_oauth_resource https://mcp.example.com/mcp;
    mcp_oauth_issuer https://auth.example.com;
    mcp_oauth_jwks $TEST_NGINX_DATA/jwks/main.json;

    location = /mcp {
        mcp_oauth on;
        mcp_oauth_required_scope mcp:tools;
        proxy_pass http://127.0.0.1:$TEST_NGINX_SERVER_PORT/backend;
    }

    location = /backend {
        return 200 "backend\n";
    }
--- request
GET /mcp
--- more_headers eval
"Authorization: Bearer " . token('expired')
--- error_code: 401
--- response_headers
WWW-Authenticate: Bearer error="invalid_token", error_description="token expired", resource_metadata="https://mcp.example.com/.well-known/oauth-protected-resource/mcp"
Access-Control-Expose-Headers: WWW-Authenticate
Access-Control-Allow-Origin: *
Content-Type: application/json
--- raw_response_headers_unlike: (?im)^www-authenticate:.*^www-authenticate:
--- response_body chomp
{"error":"invalid_token","error_description":"token expired"}
--- error_log
mcp_oauth: token expired



=== TEST 7: bad signature: invalid_token
--- config
    mcp_oauth_resource https://mcp.example.com/mcp;
    mcp_oauth_issuer https://auth.example.com;
    mcp_oauth_jwks $TEST_NGINX_DATA/jwks/main.json;

    location = /mcp {
        mcp_oauth on;
        mcp_oauth_required_scope mcp:tools;
        proxy_pass http://127.0.0.1:$TEST_NGINX_SERVER_PORT/backend;
    }

    location = /backend {
        return 200 "backend\n";
    }
--- request
GET /mcp
--- more_headers eval
"Authorization: Bearer " . token('wrong-sig')
--- error_code: 401
--- response_headers
WWW-Authenticate: Bearer error="invalid_token", error_description="signature verification failed", resource_metadata="https://mcp.example.com/.well-known/oauth-protected-resource/mcp"
--- raw_response_headers_unlike: (?im)^www-authenticate:.*^www-authenticate:
--- error_log
mcp_oauth: signature verification failed



=== TEST 8: a bearer token that is not a JWT: invalid_token
--- config
    mcp_oauth_resource https://mcp.example.com/mcp;
    mcp_oauth_issuer https://auth.example.com;
    mcp_oauth_jwks $TEST_NGINX_DATA/jwks/main.json;

    location = /mcp {
        mcp_oauth on;
        proxy_pass http://127.0.0.1:$TEST_NGINX_SERVER_PORT/backend;
    }

    location = /backend {
        return 200 "backend\n";
    }
--- request
GET /mcp
--- more_headers
Authorization: Bearer opaque-token
--- error_code: 401
--- response_headers
WWW-Authenticate: Bearer error="invalid_token", error_description="malformed token (not a JWS compact serialization)", resource_metadata="https://mcp.example.com/.well-known/oauth-protected-resource/mcp"
--- raw_response_headers_unlike: (?im)^www-authenticate:.*^www-authenticate:
--- error_log
mcp_oauth: malformed token (not a JWS compact serialization)



=== TEST 9: valid token without any scope: 403 insufficient_scope naming what is needed
--- config
    mcp_oauth_resource https://mcp.example.com/mcp;
    mcp_oauth_issuer https://auth.example.com;
    mcp_oauth_jwks $TEST_NGINX_DATA/jwks/main.json;

    location = /mcp {
        mcp_oauth on;
        mcp_oauth_required_scope mcp:tools read:application;
        proxy_pass http://127.0.0.1:$TEST_NGINX_SERVER_PORT/backend;
    }

    location = /backend {
        return 200 "backend\n";
    }
--- request
GET /mcp
--- more_headers eval
"Authorization: Bearer " . token('no-scope')
--- error_code: 403
--- response_headers
WWW-Authenticate: Bearer error="insufficient_scope", scope="mcp:tools read:application", resource_metadata="https://mcp.example.com/.well-known/oauth-protected-resource/mcp"
Access-Control-Expose-Headers: WWW-Authenticate
Access-Control-Allow-Origin: *
Content-Type: application/json
--- raw_response_headers_unlike: (?im)^www-authenticate:.*^www-authenticate:
--- response_body chomp
{"error":"insufficient_scope","error_description":"insufficient scope"}
--- error_log
mcp_oauth: insufficient scope



=== TEST 10: valid token with only one of two required scopes: 403
--- config
    mcp_oauth_resource https://mcp.example.com/mcp;
    mcp_oauth_issuer https://auth.example.com;
    mcp_oauth_jwks $TEST_NGINX_DATA/jwks/main.json;

    location = /mcp {
        mcp_oauth on;
        mcp_oauth_required_scope mcp:tools read:application;
        proxy_pass http://127.0.0.1:$TEST_NGINX_SERVER_PORT/backend;
    }

    location = /backend {
        return 200 "backend\n";
    }
--- request
GET /mcp
--- more_headers eval
"Authorization: Bearer " . token('rs256')
--- error_code: 403
--- response_headers
WWW-Authenticate: Bearer error="insufficient_scope", scope="mcp:tools read:application", resource_metadata="https://mcp.example.com/.well-known/oauth-protected-resource/mcp"
--- raw_response_headers_unlike: (?im)^www-authenticate:.*^www-authenticate:
--- error_log
mcp_oauth: insufficient scope



=== TEST 11: valid token with every required scope (and more): let through
--- config
    mcp_oauth_resource https://mcp.example.com/mcp;
    mcp_oauth_issuer https://auth.example.com;
    mcp_oauth_jwks $TEST_NGINX_DATA/jwks/main.json;

    location = /mcp {
        mcp_oauth on;
        mcp_oauth_required_scope mcp:tools read:application;
        proxy_pass http://127.0.0.1:$TEST_NGINX_SERVER_PORT/backend;
    }

    location = /backend {
        return 200 "backend\n";
    }
--- request
GET /mcp
--- more_headers eval
"Authorization: Bearer " . token('scope-multi')
--- response_body
backend



=== TEST 12: resource_metadata for https://mcp.example.com/mcp
--- config
    mcp_oauth_resource https://mcp.example.com/mcp;
    mcp_oauth_issuer https://auth.example.com;
    mcp_oauth_jwks $TEST_NGINX_DATA/jwks/main.json;

    location = /mcp {
        mcp_oauth on;
        proxy_pass http://127.0.0.1:$TEST_NGINX_SERVER_PORT/backend;
    }

    location = /backend {
        return 200 "backend\n";
    }
--- request
GET /mcp
--- error_code: 401
--- response_headers
WWW-Authenticate: Bearer resource_metadata="https://mcp.example.com/.well-known/oauth-protected-resource/mcp"
--- raw_response_headers_unlike: (?im)^www-authenticate:.*^www-authenticate:



=== TEST 13: resource_metadata for https://mcp.example.com/ (the slash after the host goes)
--- config
    mcp_oauth_resource https://mcp.example.com/;
    mcp_oauth_issuer https://auth.example.com;
    mcp_oauth_jwks $TEST_NGINX_DATA/jwks/main.json;

    location = /mcp {
        mcp_oauth on;
        proxy_pass http://127.0.0.1:$TEST_NGINX_SERVER_PORT/backend;
    }

    location = /backend {
        return 200 "backend\n";
    }
--- request
GET /mcp
--- error_code: 401
--- response_headers
WWW-Authenticate: Bearer resource_metadata="https://mcp.example.com/.well-known/oauth-protected-resource"
--- raw_response_headers_unlike: (?im)^www-authenticate:.*^www-authenticate:



=== TEST 14: resource_metadata for https://mcp.example.com (no path)
--- config
    mcp_oauth_resource https://mcp.example.com;
    mcp_oauth_issuer https://auth.example.com;
    mcp_oauth_jwks $TEST_NGINX_DATA/jwks/main.json;

    location = /mcp {
        mcp_oauth on;
        proxy_pass http://127.0.0.1:$TEST_NGINX_SERVER_PORT/backend;
    }

    location = /backend {
        return 200 "backend\n";
    }
--- request
GET /mcp
--- error_code: 401
--- response_headers
WWW-Authenticate: Bearer resource_metadata="https://mcp.example.com/.well-known/oauth-protected-resource"
--- raw_response_headers_unlike: (?im)^www-authenticate:.*^www-authenticate:



=== TEST 15: resource_metadata for https://mcp.example.com/api/v1/mcp/ (path kept verbatim)
--- config
    mcp_oauth_resource https://mcp.example.com/api/v1/mcp/;
    mcp_oauth_issuer https://auth.example.com;
    mcp_oauth_jwks $TEST_NGINX_DATA/jwks/main.json;

    location = /mcp {
        mcp_oauth on;
        proxy_pass http://127.0.0.1:$TEST_NGINX_SERVER_PORT/backend;
    }

    location = /backend {
        return 200 "backend\n";
    }
--- request
GET /mcp
--- error_code: 401
--- response_headers
WWW-Authenticate: Bearer resource_metadata="https://mcp.example.com/.well-known/oauth-protected-resource/api/v1/mcp/"
--- raw_response_headers_unlike: (?im)^www-authenticate:.*^www-authenticate:



=== TEST 16: resource_metadata for http://127.0.0.1:8080/mcp (port kept)
--- config
    mcp_oauth_resource http://127.0.0.1:8080/mcp;
    mcp_oauth_issuer https://auth.example.com;
    mcp_oauth_jwks $TEST_NGINX_DATA/jwks/main.json;

    location = /mcp {
        mcp_oauth on;
        proxy_pass http://127.0.0.1:$TEST_NGINX_SERVER_PORT/backend;
    }

    location = /backend {
        return 200 "backend\n";
    }
--- request
GET /mcp
--- error_code: 401
--- response_headers
WWW-Authenticate: Bearer resource_metadata="http://127.0.0.1:8080/.well-known/oauth-protected-resource/mcp"
--- raw_response_headers_unlike: (?im)^www-authenticate:.*^www-authenticate:



=== TEST 17: Authorization removed before proxying; the headers around it arrive intact
--- config
    mcp_oauth_resource https://mcp.example.com/mcp;
    mcp_oauth_issuer https://auth.example.com;
    mcp_oauth_jwks $TEST_NGINX_DATA/jwks/main.json;

    location = /mcp {
        mcp_oauth on;
        # read here, after the header list was changed
        proxy_set_header X-Front-UA $http_user_agent;
        proxy_set_header X-Front-Cookie $http_cookie;
        proxy_set_header X-Front-Other $http_x_other;
        proxy_pass http://127.0.0.1:$TEST_NGINX_SERVER_PORT/backend;
    }

    location = /backend {
        return 200 "authorization=[$http_authorization]
x-a=$http_x_a x-b=$http_x_b x-c=$http_x_c
x-other=$http_x_other x-d=$http_x_d x-e=$http_x_e x-last=$http_x_last
ua=$http_user_agent
cookie=$http_cookie
accept=$http_accept
session=$http_mcp_session_id
front: ua=$http_x_front_ua cookie=$http_x_front_cookie other=$http_x_front_other
";
    }
--- request
GET /mcp
--- more_headers eval
CORE::join "\n",
    "X-A: 1",
    "X-B: 2",
    "Cookie: a=1",
    "X-C: 3",
    "Authorization: Bearer " . token('rs256'),
    "X-Other: after-the-token",
    "User-Agent: agent/1.0",
    "Cookie: b=2",
    "X-D: 4",
    "Accept: application/json, text/event-stream",
    "X-E: 5",
    "Mcp-Session-Id: sess-1",
    "X-Last: last";
--- response_body
authorization=[]
x-a=1 x-b=2 x-c=3
x-other=after-the-token x-d=4 x-e=5 x-last=last
ua=agent/1.0
cookie=a=1; b=2
accept=application/json, text/event-stream
session=sess-1
front: ua=agent/1.0 cookie=a=1; b=2 other=after-the-token



=== TEST 18: Authorization removed when the request has more headers than one list part
--- config
    mcp_oauth_resource https://mcp.example.com/mcp;
    mcp_oauth_issuer https://auth.example.com;
    mcp_oauth_jwks $TEST_NGINX_DATA/jwks/main.json;

    location = /mcp {
        mcp_oauth on;
        proxy_set_header X-Front-UA $http_user_agent;
        proxy_pass http://127.0.0.1:$TEST_NGINX_SERVER_PORT/backend;
    }

    location = /backend {
        return 200 "authorization=[$http_authorization] ua=$http_user_agent front-ua=$http_x_front_ua h1=$http_x_h1 h9=$http_x_h9 h10=$http_x_h10 h17=$http_x_h17 h18=$http_x_h18 h30=$http_x_h30
";
    }
--- request
GET /mcp
--- more_headers eval
CORE::join "\n",
    (map { "X-H$_: v$_" } 1 .. 9),
    "Authorization: Bearer " . token('rs256'),
    "User-Agent: agent/2.0",
    (map { "X-H$_: v$_" } 10 .. 30);
--- response_body
authorization=[] ua=agent/2.0 front-ua=agent/2.0 h1=v1 h9=v9 h10=v10 h17=v17 h18=v18 h30=v30



=== TEST 19: mcp_oauth_pass_token on forwards the Authorization header
--- config
    mcp_oauth_resource https://mcp.example.com/mcp;
    mcp_oauth_issuer https://auth.example.com;
    mcp_oauth_jwks $TEST_NGINX_DATA/jwks/main.json;

    location = /mcp {
        mcp_oauth on;
        mcp_oauth_pass_token on;
        proxy_pass http://127.0.0.1:$TEST_NGINX_SERVER_PORT/backend;
    }

    location = /backend {
        return 200 "authorization=[$http_authorization] x-other=$http_x_other\n";
    }
--- request
GET /mcp
--- more_headers eval
"Authorization: Bearer " . token('rs256') . "\nX-Other: kept"
--- response_body eval
"authorization=[Bearer " . token('rs256') . "] x-other=kept\n"



=== TEST 20: an unprotected location is never challenged and leaves Authorization alone
--- config
    mcp_oauth_resource https://mcp.example.com/mcp;
    mcp_oauth_issuer https://auth.example.com;
    mcp_oauth_jwks $TEST_NGINX_DATA/jwks/main.json;

    location = /mcp {
        mcp_oauth on;
        proxy_pass http://127.0.0.1:$TEST_NGINX_SERVER_PORT/backend;
    }

    location = /public {
        proxy_pass http://127.0.0.1:$TEST_NGINX_SERVER_PORT/backend;
    }

    location = /backend {
        return 200 "authorization=[$http_authorization]\n";
    }
--- request
GET /public
--- more_headers
Authorization: Bearer not-even-a-jwt
--- response_body
authorization=[Bearer not-even-a-jwt]



=== TEST 21: $mcp_oauth_error in add_header ... always
--- config
    mcp_oauth_resource https://mcp.example.com/mcp;
    mcp_oauth_issuer https://auth.example.com;
    mcp_oauth_jwks $TEST_NGINX_DATA/jwks/main.json;

    location = /mcp {
        mcp_oauth on;
        add_header X-Err $mcp_oauth_error always;
        proxy_pass http://127.0.0.1:$TEST_NGINX_SERVER_PORT/backend;
    }

    location = /backend {
        return 200 "backend\n";
    }
--- request eval
["GET /mcp", "GET /mcp", "GET /mcp"]
--- more_headers eval
["", "Authorization: Bearer " . token('expired'),
 "Authorization: Bearer " . token('rs256')]
--- error_code eval
[401, 401, 200]
--- response_headers eval
["X-Err: no bearer token", "X-Err: token expired", "!X-Err"]
--- response_body eval
['{"error":"unauthorized","error_description":"no bearer token"}',
 '{"error":"invalid_token","error_description":"token expired"}',
 "backend\n"]



=== TEST 22: satisfy any, allow 127.0.0.1: let through without a token, no challenge left over
--- config
    mcp_oauth_resource https://mcp.example.com/mcp;
    mcp_oauth_issuer https://auth.example.com;
    mcp_oauth_jwks $TEST_NGINX_DATA/jwks/main.json;

    location = /mcp {
        satisfy any;
        allow 127.0.0.1;
        deny all;
        mcp_oauth on;
        proxy_pass http://127.0.0.1:$TEST_NGINX_SERVER_PORT/backend;
    }

    location = /backend {
        return 200 "backend\n";
    }
--- request
GET /mcp
--- response_headers
!WWW-Authenticate
--- response_body
backend



=== TEST 23: satisfy any, allow 127.0.0.1: no CORS header of the failed token check reaches the backend's answer
--- config
    mcp_oauth_resource https://mcp.example.com/mcp;
    mcp_oauth_issuer https://auth.example.com;
    mcp_oauth_jwks $TEST_NGINX_DATA/jwks/main.json;

    location = /mcp {
        satisfy any;
        allow 127.0.0.1;
        deny all;
        mcp_oauth on;
        proxy_pass http://127.0.0.1:$TEST_NGINX_SERVER_PORT/backend;
    }

    location = /backend {
        return 200 "backend\n";
    }
--- request
GET /mcp
--- response_headers
!Access-Control-Allow-Origin
!Access-Control-Expose-Headers



=== TEST 24: satisfy any, deny all, no token: 401 with the challenge
--- config
    mcp_oauth_resource https://mcp.example.com/mcp;
    mcp_oauth_issuer https://auth.example.com;
    mcp_oauth_jwks $TEST_NGINX_DATA/jwks/main.json;

    location = /mcp {
        satisfy any;
        deny all;
        mcp_oauth on;
        mcp_oauth_required_scope mcp:tools;
        proxy_pass http://127.0.0.1:$TEST_NGINX_SERVER_PORT/backend;
    }

    location = /backend {
        return 200 "backend\n";
    }
--- request
GET /mcp
--- error_code: 401
--- response_headers
WWW-Authenticate: Bearer resource_metadata="https://mcp.example.com/.well-known/oauth-protected-resource/mcp", scope="mcp:tools"
Access-Control-Expose-Headers: WWW-Authenticate
--- raw_response_headers_unlike: (?im)^www-authenticate:.*^www-authenticate:



=== TEST 25: satisfy any, deny all, valid token: let through
--- config
    mcp_oauth_resource https://mcp.example.com/mcp;
    mcp_oauth_issuer https://auth.example.com;
    mcp_oauth_jwks $TEST_NGINX_DATA/jwks/main.json;

    location = /mcp {
        satisfy any;
        deny all;
        mcp_oauth on;
        proxy_set_header X-Sub $mcp_oauth_sub;
        proxy_pass http://127.0.0.1:$TEST_NGINX_SERVER_PORT/backend;
    }

    location = /backend {
        return 200 "sub=$http_x_sub authorization=[$http_authorization]\n";
    }
--- request
GET /mcp
--- more_headers eval
"Authorization: Bearer " . token('rs256')
--- response_body
sub=user-1 authorization=[]



=== TEST 26: CORS preflight (OPTIONS + Access-Control-Request-Method) passes without a token
--- config
    mcp_oauth_resource https://mcp.example.com/mcp;
    mcp_oauth_issuer https://auth.example.com;
    mcp_oauth_jwks $TEST_NGINX_DATA/jwks/main.json;

    location = /mcp {
        mcp_oauth on;
        proxy_pass http://127.0.0.1:$TEST_NGINX_SERVER_PORT/backend;
    }

    location = /backend {
        return 200 "backend $request_method origin=$http_origin acrm=$http_access_control_request_method\n";
    }
--- request
OPTIONS /mcp
--- more_headers
Origin: http://localhost:6274
Access-Control-Request-Method: POST
Access-Control-Request-Headers: authorization, content-type
--- response_body
backend OPTIONS origin=http://localhost:6274 acrm=POST



=== TEST 27: OPTIONS without Access-Control-Request-Method is not a preflight: token needed
--- config
    mcp_oauth_resource https://mcp.example.com/mcp;
    mcp_oauth_issuer https://auth.example.com;
    mcp_oauth_jwks $TEST_NGINX_DATA/jwks/main.json;

    location = /mcp {
        mcp_oauth on;
        proxy_pass http://127.0.0.1:$TEST_NGINX_SERVER_PORT/backend;
    }

    location = /backend {
        return 200 "backend $request_method\n";
    }
--- request eval
["OPTIONS /mcp", "OPTIONS /mcp"]
--- more_headers eval
["Origin: http://localhost:6274",
 "Origin: http://localhost:6274\nAuthorization: Bearer " . token('rs256')]
--- error_code eval
[401, 200]
--- response_body eval
['{"error":"unauthorized","error_description":"no bearer token"}', "backend OPTIONS\n"]



=== TEST 28: POST with a body and a bad token: 401, and the connection serves the next request
--- config
    mcp_oauth_resource https://mcp.example.com/mcp;
    mcp_oauth_issuer https://auth.example.com;
    mcp_oauth_jwks $TEST_NGINX_DATA/jwks/main.json;

    location = /mcp {
        mcp_oauth on;
        proxy_set_header X-Sub $mcp_oauth_sub;
        proxy_pass http://127.0.0.1:$TEST_NGINX_SERVER_PORT/backend;
    }

    location = /backend {
        return 200 "backend $request_method sub=$http_x_sub\n";
    }
--- pipelined_requests eval
['POST /mcp
{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"echo","arguments":{"text":"GET /mcp HTTP/1.1"}}}',
 "GET /mcp"]
--- more_headers eval
["Content-Type: application/json\nAuthorization: Bearer " . token('wrong-sig'),
 "Authorization: Bearer " . token('rs256')]
--- error_code eval
[401, 200]
--- response_body eval
['{"error":"invalid_token","error_description":"signature verification failed"}',
 "backend GET sub=user-1\n"]



=== TEST 29: POST with a 100 KB body and a bad token: body discarded, connection kept
--- config
    mcp_oauth_resource https://mcp.example.com/mcp;
    mcp_oauth_issuer https://auth.example.com;
    mcp_oauth_jwks $TEST_NGINX_DATA/jwks/main.json;

    location = /mcp {
        mcp_oauth on;
        proxy_set_header X-Sub $mcp_oauth_sub;
        proxy_pass http://127.0.0.1:$TEST_NGINX_SERVER_PORT/backend;
    }

    location = /backend {
        return 200 "backend $request_method sub=$http_x_sub\n";
    }
--- pipelined_requests eval
["POST /mcp\n" . ("x" x 102400), "GET /mcp"]
--- more_headers eval
["Authorization: Bearer " . token('expired'),
 "Authorization: Bearer " . token('rs256')]
--- error_code eval
[401, 200]
--- response_body eval
['{"error":"invalid_token","error_description":"token expired"}',
 "backend GET sub=user-1\n"]



=== TEST 30: HEAD without a token: 401 with the challenge and no body
--- config
    mcp_oauth_resource https://mcp.example.com/mcp;
    mcp_oauth_issuer https://auth.example.com;
    mcp_oauth_jwks $TEST_NGINX_DATA/jwks/main.json;

    location = /mcp {
        mcp_oauth on;
        mcp_oauth_required_scope mcp:tools;
        proxy_pass http://127.0.0.1:$TEST_NGINX_SERVER_PORT/backend;
    }

    location = /backend {
        return 200 "backend\n";
    }
--- request
HEAD /mcp
--- error_code: 401
--- response_headers
WWW-Authenticate: Bearer resource_metadata="https://mcp.example.com/.well-known/oauth-protected-resource/mcp", scope="mcp:tools"
Content-Type: application/json
--- raw_response_headers_unlike: (?im)^www-authenticate:.*^www-authenticate:
--- response_body



=== TEST 31: error_page to a protected named location: the same token is checked again there
--- config
    mcp_oauth_resource https://mcp.example.com/mcp;
    mcp_oauth_issuer https://auth.example.com;
    mcp_oauth_jwks $TEST_NGINX_DATA/jwks/main.json;

    location = /mcp {
        mcp_oauth on;
        proxy_intercept_errors on;
        error_page 404 = @fallback;
        proxy_pass http://127.0.0.1:$TEST_NGINX_SERVER_PORT/missing;
    }

    location @fallback {
        mcp_oauth on;
        proxy_set_header X-Sub $mcp_oauth_sub;
        # a URI part needs variables in a named location
        proxy_pass http://127.0.0.1:$TEST_NGINX_SERVER_PORT/fallback$is_args$args;
    }

    location = /missing {
        return 404;
    }

    location = /fallback {
        return 200 "fallback sub=$http_x_sub authorization=[$http_authorization]\n";
    }
--- request
GET /mcp
--- more_headers eval
"Authorization: Bearer " . token('rs256')
--- response_body
fallback sub=user-1 authorization=[]



=== TEST 32: error_page to a protected URI: the same token is checked again there
--- config
    mcp_oauth_resource https://mcp.example.com/mcp;
    mcp_oauth_issuer https://auth.example.com;
    mcp_oauth_jwks $TEST_NGINX_DATA/jwks/main.json;

    location = /mcp {
        mcp_oauth on;
        proxy_intercept_errors on;
        error_page 404 = /mcp-fallback;
        proxy_pass http://127.0.0.1:$TEST_NGINX_SERVER_PORT/missing;
    }

    location = /mcp-fallback {
        internal;
        mcp_oauth on;
        proxy_set_header X-Sub $mcp_oauth_sub;
        proxy_pass http://127.0.0.1:$TEST_NGINX_SERVER_PORT/fallback;
    }

    location = /missing {
        return 404;
    }

    location = /fallback {
        return 200 "fallback sub=$http_x_sub authorization=[$http_authorization]\n";
    }
--- request
GET /mcp
--- more_headers eval
"Authorization: Bearer " . token('rs256')
--- response_body
fallback sub=user-1 authorization=[]



=== TEST 33: after an internal redirect the new location's scopes apply to the same token
--- config
    mcp_oauth_resource https://mcp.example.com/mcp;
    mcp_oauth_issuer https://auth.example.com;
    mcp_oauth_jwks $TEST_NGINX_DATA/jwks/main.json;

    location = /mcp {
        mcp_oauth on;
        proxy_intercept_errors on;
        error_page 404 = /mcp-fallback;
        proxy_pass http://127.0.0.1:$TEST_NGINX_SERVER_PORT/missing;
    }

    location = /mcp-fallback {
        internal;
        mcp_oauth on;
        mcp_oauth_required_scope write:application;
        proxy_pass http://127.0.0.1:$TEST_NGINX_SERVER_PORT/fallback;
    }

    location = /missing {
        return 404;
    }

    location = /fallback {
        return 200 "fallback\n";
    }
--- request
GET /mcp
--- more_headers eval
"Authorization: Bearer " . token('rs256')
--- error_code: 403
--- response_headers
WWW-Authenticate: Bearer error="insufficient_scope", scope="write:application", resource_metadata="https://mcp.example.com/.well-known/oauth-protected-resource/mcp"
--- raw_response_headers_unlike: (?im)^www-authenticate:.*^www-authenticate:



=== TEST 34: the token is never written to the log
--- config
    mcp_oauth_resource https://mcp.example.com/mcp;
    mcp_oauth_issuer https://auth.example.com;
    mcp_oauth_jwks $TEST_NGINX_DATA/jwks/main.json;

    location = /mcp {
        mcp_oauth on;
        proxy_pass http://127.0.0.1:$TEST_NGINX_SERVER_PORT/backend;
    }

    location = /backend {
        return 200 "backend\n";
    }
--- request
GET /mcp
--- more_headers eval
"Authorization: Bearer " . token('expired')
--- error_code: 401
--- error_log
mcp_oauth: token expired
--- no_error_log eval
[(split /\./, token('expired'))[2], "[error]"]
