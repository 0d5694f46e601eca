# Tokens of the wrong form (t/data/tokens/README.md: the "reject" fixtures
# about the token's form, not its claims) and the forms of the Authorization
# header (RFC 6750 §2.1).  Each rejection is checked for the exact status,
# the exact WWW-Authenticate challenge, the JSON body and the info-level
# "mcp_oauth: <reason>" line, and the error log must never hold the token.

use strict;
use warnings;
use lib 't/lib';
use Test::Nginx::Socket 'no_plan';
use McpOAuth;

McpOAuth::setup();
no_shuffle();
log_level('info');

# The protected location /mcp (resource https://mcp.example.com/mcp, issuer
# https://auth.example.com, keys jwks/main.json) in front of an echo of what
# the upstream receives.
#   main::conf()                                 the default
#   main::conf(location => 'directive;')         more directives for /mcp
#   main::conf(server => 'directive;')           more directives for the server
sub main::conf {
    my (%o) = @_;
    my $server = $o{server} ? "    $o{server}\n\n" : '';
    my $location = $o{location} ? "        $o{location}\n" : '';
    my $conf = <<'_EOC_';
%SERVER%    location = /echo {
        return 200 "sub=[$http_x_sub] auth=[$http_authorization] args=[$args]\n";
    }

    location /mcp {
        mcp_oauth on;
        mcp_oauth_resource https://mcp.example.com/mcp;
        mcp_oauth_issuer https://auth.example.com;
        mcp_oauth_jwks $TEST_NGINX_DATA/jwks/main.json;
%LOCATION%        proxy_set_header X-Sub $mcp_oauth_sub;
        proxy_pass http://127.0.0.1:$TEST_NGINX_SERVER_PORT/echo;
    }
_EOC_
    $conf =~ s/%SERVER%/$server/;
    $conf =~ s/%LOCATION%/$location/;
    return $conf;
}

add_block_preprocessor(sub {
    my $block = shift;
    $block->set_value('config', main::conf()) unless defined $block->config;
    $block->set_value('request', "GET /mcp\n")
        unless defined $block->request || defined $block->raw_request;
});

# what the error log must never hold for a rejected token: error-level
# lines, the token, or any sizeable part of it
sub main::quiet_log {
    my ($token) = @_;
    return ['[error]', '[alert]', '[crit]', '[emerg]',
            grep { length >= 16 } $token, split /\./, $token];
}

run_tests();

__DATA__

=== TEST 1: alg "none" is rejected
--- more_headers eval
"Authorization: Bearer " . McpOAuth::token('alg-none')
--- error_code: 401
--- response_headers
WWW-Authenticate: Bearer error="invalid_token", error_description="unsupported alg (alg none is never accepted)", resource_metadata="https://mcp.example.com/.well-known/oauth-protected-resource/mcp"
Content-Type: application/json
Access-Control-Expose-Headers: WWW-Authenticate
Access-Control-Allow-Origin: *
--- raw_response_headers_unlike eval
qr/^WWW-Authenticate:.*^WWW-Authenticate:/ms
--- response_body chomp
{"error":"invalid_token","error_description":"unsupported alg (alg none is never accepted)"}
--- error_log eval
qr/\[info\] .*mcp_oauth: \Qunsupported alg (alg none is never accepted)\E, client: /
--- no_error_log eval
main::quiet_log(McpOAuth::token('alg-none'))



=== TEST 2: alg "none" with the kid of a real key is rejected
--- more_headers eval
"Authorization: Bearer " . McpOAuth::token('alg-none-kid')
--- error_code: 401
--- response_headers
WWW-Authenticate: Bearer error="invalid_token", error_description="unsupported alg (alg none is never accepted)", resource_metadata="https://mcp.example.com/.well-known/oauth-protected-resource/mcp"
Content-Type: application/json
--- response_body chomp
{"error":"invalid_token","error_description":"unsupported alg (alg none is never accepted)"}
--- error_log eval
qr/\[info\] .*mcp_oauth: \Qunsupported alg (alg none is never accepted)\E, client: /
--- no_error_log eval
main::quiet_log(McpOAuth::token('alg-none-kid'))



=== TEST 3: algorithm confusion: HS256 keyed with the RSA key's public PEM is never accepted
--- more_headers eval
"Authorization: Bearer " . McpOAuth::token('hs256-rsa-pem')
--- error_code: 401
--- response_headers
WWW-Authenticate: Bearer error="invalid_token", error_description="alg not allowed for the key", resource_metadata="https://mcp.example.com/.well-known/oauth-protected-resource/mcp"
Content-Type: application/json
Access-Control-Expose-Headers: WWW-Authenticate
Access-Control-Allow-Origin: *
--- response_body chomp
{"error":"invalid_token","error_description":"alg not allowed for the key"}
--- error_log eval
qr/\[info\] .*mcp_oauth: alg not allowed for the key, client: /
--- no_error_log eval
main::quiet_log(McpOAuth::token('hs256-rsa-pem'))



=== TEST 4: a kid that names no key is rejected
--- more_headers eval
"Authorization: Bearer " . McpOAuth::token('unknown-kid')
--- error_code: 401
--- response_headers
WWW-Authenticate: Bearer error="invalid_token", error_description="unknown kid", resource_metadata="https://mcp.example.com/.well-known/oauth-protected-resource/mcp"
Content-Type: application/json
--- response_body chomp
{"error":"invalid_token","error_description":"unknown kid"}
--- error_log eval
qr/\[info\] .*mcp_oauth: unknown kid, client: /
--- no_error_log eval
main::quiet_log(McpOAuth::token('unknown-kid'))



=== TEST 5: kid as a JSON number is rejected
--- more_headers eval
"Authorization: Bearer " . McpOAuth::token('kid-number')
--- error_code: 401
--- response_headers
WWW-Authenticate: Bearer error="invalid_token", error_description="kid is not a string", resource_metadata="https://mcp.example.com/.well-known/oauth-protected-resource/mcp"
Content-Type: application/json
--- response_body chomp
{"error":"invalid_token","error_description":"kid is not a string"}
--- error_log eval
qr/\[info\] .*mcp_oauth: kid is not a string, client: /
--- no_error_log eval
main::quiet_log(McpOAuth::token('kid-number'))



=== TEST 6: kid null is rejected
--- more_headers eval
"Authorization: Bearer " . McpOAuth::token('kid-null')
--- error_code: 401
--- response_headers
WWW-Authenticate: Bearer error="invalid_token", error_description="kid is not a string", resource_metadata="https://mcp.example.com/.well-known/oauth-protected-resource/mcp"
Content-Type: application/json
--- response_body chomp
{"error":"invalid_token","error_description":"kid is not a string"}
--- error_log eval
qr/\[info\] .*mcp_oauth: kid is not a string, client: /
--- no_error_log eval
main::quiet_log(McpOAuth::token('kid-null'))



=== TEST 7: kid as an array is rejected
--- more_headers eval
"Authorization: Bearer " . McpOAuth::token('kid-array')
--- error_code: 401
--- response_headers
WWW-Authenticate: Bearer error="invalid_token", error_description="kid is not a string", resource_metadata="https://mcp.example.com/.well-known/oauth-protected-resource/mcp"
Content-Type: application/json
--- response_body chomp
{"error":"invalid_token","error_description":"kid is not a string"}
--- error_log eval
qr/\[info\] .*mcp_oauth: kid is not a string, client: /
--- no_error_log eval
main::quiet_log(McpOAuth::token('kid-array'))



=== TEST 8: a compact JWE (5 parts) is rejected
--- more_headers eval
"Authorization: Bearer " . McpOAuth::token('jwe')
--- error_code: 401
--- response_headers
WWW-Authenticate: Bearer error="invalid_token", error_description="encrypted tokens (JWE) are not accepted", resource_metadata="https://mcp.example.com/.well-known/oauth-protected-resource/mcp"
Content-Type: application/json
--- response_body chomp
{"error":"invalid_token","error_description":"encrypted tokens (JWE) are not accepted"}
--- error_log eval
qr/\[info\] .*mcp_oauth: \Qencrypted tokens (JWE) are not accepted\E, client: /
--- no_error_log eval
main::quiet_log(McpOAuth::token('jwe'))



=== TEST 9: "*" in the header segment is outside b64token: malformed bearer token
--- more_headers eval
"Authorization: Bearer " . McpOAuth::token('bad-b64-header')
--- error_code: 401
--- response_headers
WWW-Authenticate: Bearer error="invalid_token", error_description="malformed bearer token", resource_metadata="https://mcp.example.com/.well-known/oauth-protected-resource/mcp"
Content-Type: application/json
--- response_body chomp
{"error":"invalid_token","error_description":"malformed bearer token"}
--- error_log eval
qr/\[info\] .*mcp_oauth: malformed bearer token, client: /
--- no_error_log eval
main::quiet_log(McpOAuth::token('bad-b64-header'))



=== TEST 10: "*" in the signature segment is outside b64token: malformed bearer token
--- more_headers eval
"Authorization: Bearer " . McpOAuth::token('bad-b64-sig')
--- error_code: 401
--- response_headers
WWW-Authenticate: Bearer error="invalid_token", error_description="malformed bearer token", resource_metadata="https://mcp.example.com/.well-known/oauth-protected-resource/mcp"
Content-Type: application/json
--- response_body chomp
{"error":"invalid_token","error_description":"malformed bearer token"}
--- error_log eval
qr/\[info\] .*mcp_oauth: malformed bearer token, client: /
--- no_error_log eval
main::quiet_log(McpOAuth::token('bad-b64-sig'))



=== TEST 11: "=" padded segments are not base64url: rejected at the header
--- more_headers eval
"Authorization: Bearer " . McpOAuth::token('b64-padded')
--- error_code: 401
--- response_headers
WWW-Authenticate: Bearer error="invalid_token", error_description="malformed token header (not base64url JSON object)", resource_metadata="https://mcp.example.com/.well-known/oauth-protected-resource/mcp"
Content-Type: application/json
--- response_body chomp
{"error":"invalid_token","error_description":"malformed token header (not base64url JSON object)"}
--- error_log eval
qr/\[info\] .*mcp_oauth: \Qmalformed token header (not base64url JSON object)\E, client: /
--- no_error_log eval
main::quiet_log(McpOAuth::token('b64-padded'))



=== TEST 12: a header that is not valid JSON is rejected
--- more_headers eval
"Authorization: Bearer " . McpOAuth::token('bad-json-header')
--- error_code: 401
--- response_headers
WWW-Authenticate: Bearer error="invalid_token", error_description="malformed token header (not base64url JSON object)", resource_metadata="https://mcp.example.com/.well-known/oauth-protected-resource/mcp"
Content-Type: application/json
--- response_body chomp
{"error":"invalid_token","error_description":"malformed token header (not base64url JSON object)"}
--- error_log eval
qr/\[info\] .*mcp_oauth: \Qmalformed token header (not base64url JSON object)\E, client: /
--- no_error_log eval
main::quiet_log(McpOAuth::token('bad-json-header'))



=== TEST 13: a payload that is not valid JSON is rejected
--- more_headers eval
"Authorization: Bearer " . McpOAuth::token('bad-json-payload')
--- error_code: 401
--- response_headers
WWW-Authenticate: Bearer error="invalid_token", error_description="malformed token payload (not base64url JSON object)", resource_metadata="https://mcp.example.com/.well-known/oauth-protected-resource/mcp"
Content-Type: application/json
--- response_body chomp
{"error":"invalid_token","error_description":"malformed token payload (not base64url JSON object)"}
--- error_log eval
qr/\[info\] .*mcp_oauth: \Qmalformed token payload (not base64url JSON object)\E, client: /
--- no_error_log eval
main::quiet_log(McpOAuth::token('bad-json-payload'))



=== TEST 14: a header that is a JSON array, not an object, is rejected
--- more_headers eval
"Authorization: Bearer " . McpOAuth::token('header-not-object')
--- error_code: 401
--- response_headers
WWW-Authenticate: Bearer error="invalid_token", error_description="malformed token header (not base64url JSON object)", resource_metadata="https://mcp.example.com/.well-known/oauth-protected-resource/mcp"
Content-Type: application/json
--- response_body chomp
{"error":"invalid_token","error_description":"malformed token header (not base64url JSON object)"}
--- error_log eval
qr/\[info\] .*mcp_oauth: \Qmalformed token header (not base64url JSON object)\E, client: /
--- no_error_log eval
main::quiet_log(McpOAuth::token('header-not-object'))



=== TEST 15: a payload that is a JSON string, not an object, is rejected
--- more_headers eval
"Authorization: Bearer " . McpOAuth::token('payload-not-object')
--- error_code: 401
--- response_headers
WWW-Authenticate: Bearer error="invalid_token", error_description="malformed token payload (not base64url JSON object)", resource_metadata="https://mcp.example.com/.well-known/oauth-protected-resource/mcp"
Content-Type: application/json
--- response_body chomp
{"error":"invalid_token","error_description":"malformed token payload (not base64url JSON object)"}
--- error_log eval
qr/\[info\] .*mcp_oauth: \Qmalformed token payload (not base64url JSON object)\E, client: /
--- no_error_log eval
main::quiet_log(McpOAuth::token('payload-not-object'))



=== TEST 16: a signature by another key with the same kid is rejected
--- more_headers eval
"Authorization: Bearer " . McpOAuth::token('wrong-sig')
--- error_code: 401
--- response_headers
WWW-Authenticate: Bearer error="invalid_token", error_description="signature verification failed", resource_metadata="https://mcp.example.com/.well-known/oauth-protected-resource/mcp"
Content-Type: application/json
Access-Control-Expose-Headers: WWW-Authenticate
Access-Control-Allow-Origin: *
--- raw_response_headers_unlike eval
qr/^WWW-Authenticate:.*^WWW-Authenticate:/ms
--- response_body chomp
{"error":"invalid_token","error_description":"signature verification failed"}
--- error_log eval
qr/\[info\] .*mcp_oauth: signature verification failed, client: /
--- no_error_log eval
main::quiet_log(McpOAuth::token('wrong-sig'))



=== TEST 17: an ES256 signature in DER instead of raw r||s is rejected
--- more_headers eval
"Authorization: Bearer " . McpOAuth::token('es256-der')
--- error_code: 401
--- response_headers
WWW-Authenticate: Bearer error="invalid_token", error_description="signature verification failed", resource_metadata="https://mcp.example.com/.well-known/oauth-protected-resource/mcp"
Content-Type: application/json
--- response_body chomp
{"error":"invalid_token","error_description":"signature verification failed"}
--- error_log eval
qr/\[info\] .*mcp_oauth: signature verification failed, client: /
--- no_error_log eval
main::quiet_log(McpOAuth::token('es256-der'))



=== TEST 18: ES384 in the header with the kid of the P-256 key is rejected
--- more_headers eval
"Authorization: Bearer " . McpOAuth::token('es256-as-es384')
--- error_code: 401
--- response_headers
WWW-Authenticate: Bearer error="invalid_token", error_description="alg not allowed for the key", resource_metadata="https://mcp.example.com/.well-known/oauth-protected-resource/mcp"
Content-Type: application/json
--- response_body chomp
{"error":"invalid_token","error_description":"alg not allowed for the key"}
--- error_log eval
qr/\[info\] .*mcp_oauth: alg not allowed for the key, client: /
--- no_error_log eval
main::quiet_log(McpOAuth::token('es256-as-es384'))



=== TEST 19: RS256 in the header with the kid of an EC key is rejected
--- more_headers eval
"Authorization: Bearer " . McpOAuth::token('rs256-with-ec-kid')
--- error_code: 401
--- response_headers
WWW-Authenticate: Bearer error="invalid_token", error_description="alg not allowed for the key", resource_metadata="https://mcp.example.com/.well-known/oauth-protected-resource/mcp"
Content-Type: application/json
--- response_body chomp
{"error":"invalid_token","error_description":"alg not allowed for the key"}
--- error_log eval
qr/\[info\] .*mcp_oauth: alg not allowed for the key, client: /
--- no_error_log eval
main::quiet_log(McpOAuth::token('rs256-with-ec-kid'))



=== TEST 20: a token of two parts is rejected
--- more_headers eval
"Authorization: Bearer " . McpOAuth::token('two-parts')
--- error_code: 401
--- response_headers
WWW-Authenticate: Bearer error="invalid_token", error_description="malformed token (not a JWS compact serialization)", resource_metadata="https://mcp.example.com/.well-known/oauth-protected-resource/mcp"
Content-Type: application/json
--- response_body chomp
{"error":"invalid_token","error_description":"malformed token (not a JWS compact serialization)"}
--- error_log eval
qr/\[info\] .*mcp_oauth: \Qmalformed token (not a JWS compact serialization)\E, client: /
--- no_error_log eval
main::quiet_log(McpOAuth::token('two-parts'))



=== TEST 21: a valid token with a fourth part is rejected
--- more_headers eval
"Authorization: Bearer " . McpOAuth::token('four-parts')
--- error_code: 401
--- response_headers
WWW-Authenticate: Bearer error="invalid_token", error_description="malformed token (not a JWS compact serialization)", resource_metadata="https://mcp.example.com/.well-known/oauth-protected-resource/mcp"
Content-Type: application/json
--- response_body chomp
{"error":"invalid_token","error_description":"malformed token (not a JWS compact serialization)"}
--- error_log eval
qr/\[info\] .*mcp_oauth: \Qmalformed token (not a JWS compact serialization)\E, client: /
--- no_error_log eval
main::quiet_log(McpOAuth::token('four-parts'))



=== TEST 22: a token of more than five parts is rejected
--- more_headers eval
"Authorization: Bearer " . McpOAuth::token('rs256') . ".AAAA.AAAA.AAAA"
--- error_code: 401
--- response_headers
WWW-Authenticate: Bearer error="invalid_token", error_description="malformed token", resource_metadata="https://mcp.example.com/.well-known/oauth-protected-resource/mcp"
Content-Type: application/json
--- response_body chomp
{"error":"invalid_token","error_description":"malformed token"}
--- error_log eval
qr/\[info\] .*mcp_oauth: malformed token, client: /
--- no_error_log eval
main::quiet_log(McpOAuth::token('rs256'))



=== TEST 23: a validly signed token over 16 KB is rejected as too large
--- config eval
main::conf(server => 'large_client_header_buffers 4 64k;')
--- more_headers eval
"Authorization: Bearer " . McpOAuth::token('huge')
--- error_code: 401
--- response_headers
WWW-Authenticate: Bearer error="invalid_token", error_description="token too large", resource_metadata="https://mcp.example.com/.well-known/oauth-protected-resource/mcp"
Content-Type: application/json
--- response_body chomp
{"error":"invalid_token","error_description":"token too large"}
--- error_log eval
qr/\[info\] .*mcp_oauth: token too large, client: /
--- no_error_log eval
main::quiet_log(McpOAuth::token('huge'))



=== TEST 24: a valid token of about 8 KB is accepted
--- config eval
main::conf(server => 'large_client_header_buffers 4 64k;')
--- more_headers eval
"Authorization: Bearer " . McpOAuth::token('big-ok')
--- error_code: 200
--- response_headers
!WWW-Authenticate
--- response_body
sub=[user-1] auth=[] args=[]
--- no_error_log
mcp_oauth:
[error]



=== TEST 25: a token signed by a 1024-bit key is an unknown kid for main.json
--- more_headers eval
"Authorization: Bearer " . McpOAuth::token('weak-key')
--- error_code: 401
--- response_headers
WWW-Authenticate: Bearer error="invalid_token", error_description="unknown kid", resource_metadata="https://mcp.example.com/.well-known/oauth-protected-resource/mcp"
Content-Type: application/json
--- response_body chomp
{"error":"invalid_token","error_description":"unknown kid"}
--- error_log eval
qr/\[info\] .*mcp_oauth: unknown kid, client: /
--- no_error_log eval
main::quiet_log(McpOAuth::token('weak-key'))



=== TEST 26: "Bearer" alone is an empty bearer token
--- more_headers
Authorization: Bearer
--- error_code: 401
--- response_headers
WWW-Authenticate: Bearer error="invalid_token", error_description="empty bearer token", resource_metadata="https://mcp.example.com/.well-known/oauth-protected-resource/mcp"
Content-Type: application/json
Access-Control-Expose-Headers: WWW-Authenticate
Access-Control-Allow-Origin: *
--- response_body chomp
{"error":"invalid_token","error_description":"empty bearer token"}
--- error_log eval
qr/\[info\] .*mcp_oauth: empty bearer token, client: /
--- no_error_log
[error]



=== TEST 27: "Bearer" followed by spaces only is an empty bearer token
--- raw_request eval
"GET /mcp HTTP/1.1\r\nHost: localhost\r\nAuthorization: Bearer    \r\nConnection: close\r\n\r\n"
--- error_code: 401
--- response_headers
WWW-Authenticate: Bearer error="invalid_token", error_description="empty bearer token", resource_metadata="https://mcp.example.com/.well-known/oauth-protected-resource/mcp"
Content-Type: application/json
--- response_body chomp
{"error":"invalid_token","error_description":"empty bearer token"}
--- error_log eval
qr/\[info\] .*mcp_oauth: empty bearer token, client: /
--- no_error_log
[error]



=== TEST 28: the empty fixture token is an empty bearer token
--- more_headers eval
"Authorization: Bearer " . McpOAuth::token('empty')
--- error_code: 401
--- response_headers
WWW-Authenticate: Bearer error="invalid_token", error_description="empty bearer token", resource_metadata="https://mcp.example.com/.well-known/oauth-protected-resource/mcp"
Content-Type: application/json
--- response_body chomp
{"error":"invalid_token","error_description":"empty bearer token"}
--- error_log eval
qr/\[info\] .*mcp_oauth: empty bearer token, client: /
--- no_error_log
[error]



=== TEST 29: the scheme is case-insensitive: "bearer <token>" is accepted
--- more_headers eval
"Authorization: bearer " . McpOAuth::token('rs256')
--- error_code: 200
--- response_headers
!WWW-Authenticate
--- response_body
sub=[user-1] auth=[] args=[]
--- no_error_log
mcp_oauth:
[error]



=== TEST 30: the scheme is case-insensitive: "BEARER <token>" is accepted
--- more_headers eval
"Authorization: BEARER " . McpOAuth::token('rs256')
--- error_code: 200
--- response_headers
!WWW-Authenticate
--- response_body
sub=[user-1] auth=[] args=[]
--- no_error_log
mcp_oauth:
[error]



=== TEST 31: extra spaces between the scheme and the token are accepted
--- more_headers eval
"Authorization: Bearer    " . McpOAuth::token('rs256')
--- error_code: 200
--- response_headers
!WWW-Authenticate
--- response_body
sub=[user-1] auth=[] args=[]
--- no_error_log
mcp_oauth:
[error]



=== TEST 32: no Authorization header: 401 without error attribute
--- error_code: 401
--- response_headers
WWW-Authenticate: Bearer resource_metadata="https://mcp.example.com/.well-known/oauth-protected-resource/mcp"
Content-Type: application/json
Access-Control-Expose-Headers: WWW-Authenticate
Access-Control-Allow-Origin: *
--- raw_response_headers_unlike eval
qr/^WWW-Authenticate:.*^WWW-Authenticate:/ms
--- response_body chomp
{"error":"unauthorized","error_description":"no bearer token"}
--- error_log eval
qr/\[info\] .*mcp_oauth: no bearer token, client: /
--- no_error_log
[error]



=== TEST 33: Basic credentials: 401 without error attribute
--- more_headers
Authorization: Basic dXNlcjpwYXNz
--- error_code: 401
--- response_headers
WWW-Authenticate: Bearer resource_metadata="https://mcp.example.com/.well-known/oauth-protected-resource/mcp"
Content-Type: application/json
--- raw_response_headers_unlike eval
qr/^WWW-Authenticate:.*^WWW-Authenticate:/ms
--- response_body chomp
{"error":"unauthorized","error_description":"no bearer token"}
--- error_log eval
qr/\[info\] .*mcp_oauth: no bearer token, client: /
--- no_error_log
[error]
dXNlcjpwYXNz



=== TEST 34: Basic credentials with a required scope: the challenge carries the scope hint
--- config eval
main::conf(location => 'mcp_oauth_required_scope mcp:tools read:application;')
--- more_headers
Authorization: Basic dXNlcjpwYXNz
--- error_code: 401
--- response_headers
WWW-Authenticate: Bearer resource_metadata="https://mcp.example.com/.well-known/oauth-protected-resource/mcp", scope="mcp:tools read:application"
Content-Type: application/json
--- response_body chomp
{"error":"unauthorized","error_description":"no bearer token"}
--- error_log eval
qr/\[info\] .*mcp_oauth: no bearer token, client: /
--- no_error_log
[error]



=== TEST 35: two tokens after "Bearer" are a malformed bearer token
--- more_headers
Authorization: Bearer a b
--- error_code: 401
--- response_headers
WWW-Authenticate: Bearer error="invalid_token", error_description="malformed bearer token", resource_metadata="https://mcp.example.com/.well-known/oauth-protected-resource/mcp"
Content-Type: application/json
--- response_body chomp
{"error":"invalid_token","error_description":"malformed bearer token"}
--- error_log eval
qr/\[info\] .*mcp_oauth: malformed bearer token, client: /
--- no_error_log
[error]



=== TEST 36: a token only in the query string is not a credential: 401 without error attribute
--- request eval
"GET /mcp?access_token=" . McpOAuth::token('rs256')
--- error_code: 401
--- response_headers
WWW-Authenticate: Bearer resource_metadata="https://mcp.example.com/.well-known/oauth-protected-resource/mcp"
Content-Type: application/json
--- response_body chomp
{"error":"unauthorized","error_description":"no bearer token"}
--- error_log eval
qr/\[info\] .*mcp_oauth: no bearer token, client: /
--- no_error_log
[error]



=== TEST 37: "BearerX <token>" is another scheme: no bearer token
--- more_headers eval
"Authorization: BearerX " . McpOAuth::token('rs256')
--- error_code: 401
--- response_headers
WWW-Authenticate: Bearer resource_metadata="https://mcp.example.com/.well-known/oauth-protected-resource/mcp"
Content-Type: application/json
--- response_body chomp
{"error":"unauthorized","error_description":"no bearer token"}
--- error_log eval
qr/\[info\] .*mcp_oauth: no bearer token, client: /
--- no_error_log eval
main::quiet_log(McpOAuth::token('rs256'))
