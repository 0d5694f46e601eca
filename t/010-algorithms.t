# Signature algorithms and key selection: every JWS algorithm the module
# supports is accepted with the fixture tokens (t/data/tokens/README.md), and
# a key is only ever used with the algorithms its type, curve and JWK "alg"
# allow.  A token that gets through reaches the echo backend without its
# Authorization header and with the verified "sub" in X-Sub.

use strict;
use warnings;
use lib 't/lib';
use Test::Nginx::Socket 'no_plan';
use McpOAuth;

McpOAuth::setup();
no_shuffle();
log_level('info');

# the usual protected location, verified against jwks/main.json
our $MainConfig = <<'_EOC_';
    location = /echo {
        return 200 "sub=[$http_x_sub] auth=[$http_authorization]\n";
    }

    location /mcp {
        mcp_oauth on;
        mcp_oauth_resource https://mcp.example.com/mcp;
        mcp_oauth_issuer https://auth.example.com;
        mcp_oauth_jwks $TEST_NGINX_DATA/jwks/main.json;
        proxy_set_header X-Sub $mcp_oauth_sub;
        proxy_pass http://127.0.0.1:$TEST_NGINX_SERVER_PORT/echo;
    }
_EOC_

add_block_preprocessor(sub {
    my $block = shift;
    $block->set_value('config', $MainConfig) unless defined $block->config;
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

=== TEST 1: RS256 token is accepted, the upstream sees the sub and no token
--- more_headers eval
"Authorization: Bearer " . McpOAuth::token('rs256')
--- error_code: 200
--- response_headers
!WWW-Authenticate
--- response_body
sub=[user-1] auth=[]
--- no_error_log
mcp_oauth:
[error]



=== TEST 2: RS384 token is accepted
--- more_headers eval
"Authorization: Bearer " . McpOAuth::token('rs384')
--- error_code: 200
--- response_headers
!WWW-Authenticate
--- response_body
sub=[user-1] auth=[]
--- no_error_log
mcp_oauth:
[error]



=== TEST 3: RS512 token is accepted
--- more_headers eval
"Authorization: Bearer " . McpOAuth::token('rs512')
--- error_code: 200
--- response_headers
!WWW-Authenticate
--- response_body
sub=[user-1] auth=[]
--- no_error_log
mcp_oauth:
[error]



=== TEST 4: PS256 token is accepted
--- more_headers eval
"Authorization: Bearer " . McpOAuth::token('ps256')
--- error_code: 200
--- response_headers
!WWW-Authenticate
--- response_body
sub=[user-1] auth=[]
--- no_error_log
mcp_oauth:
[error]



=== TEST 5: PS384 token is accepted
--- more_headers eval
"Authorization: Bearer " . McpOAuth::token('ps384')
--- error_code: 200
--- response_headers
!WWW-Authenticate
--- response_body
sub=[user-1] auth=[]
--- no_error_log
mcp_oauth:
[error]



=== TEST 6: PS512 token is accepted
--- more_headers eval
"Authorization: Bearer " . McpOAuth::token('ps512')
--- error_code: 200
--- response_headers
!WWW-Authenticate
--- response_body
sub=[user-1] auth=[]
--- no_error_log
mcp_oauth:
[error]



=== TEST 7: ES256 token (P-256) is accepted
--- more_headers eval
"Authorization: Bearer " . McpOAuth::token('es256')
--- error_code: 200
--- response_headers
!WWW-Authenticate
--- response_body
sub=[user-1] auth=[]
--- no_error_log
mcp_oauth:
[error]



=== TEST 8: ES384 token (P-384) is accepted
--- more_headers eval
"Authorization: Bearer " . McpOAuth::token('es384')
--- error_code: 200
--- response_headers
!WWW-Authenticate
--- response_body
sub=[user-1] auth=[]
--- no_error_log
mcp_oauth:
[error]



=== TEST 9: ES512 token (P-521) is accepted
--- more_headers eval
"Authorization: Bearer " . McpOAuth::token('es512')
--- error_code: 200
--- response_headers
!WWW-Authenticate
--- response_body
sub=[user-1] auth=[]
--- no_error_log
mcp_oauth:
[error]



=== TEST 10: EdDSA token (Ed25519) is accepted
--- more_headers eval
"Authorization: Bearer " . McpOAuth::token('eddsa')
--- error_code: 200
--- response_headers
!WWW-Authenticate
--- response_body
sub=[user-1] auth=[]
--- no_error_log
mcp_oauth:
[error]



=== TEST 11: HS256 token is accepted with the oct key of the operator's own JWKS file
--- config
    location = /echo {
        return 200 "sub=[$http_x_sub] auth=[$http_authorization]\n";
    }

    location /mcp {
        mcp_oauth on;
        mcp_oauth_resource https://mcp.example.com/mcp;
        mcp_oauth_issuer https://auth.example.com;
        mcp_oauth_jwks $TEST_NGINX_DATA/jwks/oct.json;
        proxy_set_header X-Sub $mcp_oauth_sub;
        proxy_pass http://127.0.0.1:$TEST_NGINX_SERVER_PORT/echo;
    }
--- more_headers eval
"Authorization: Bearer " . McpOAuth::token('hs256')
--- error_code: 200
--- response_headers
!WWW-Authenticate
--- response_body
sub=[user-1] auth=[]
--- no_error_log
mcp_oauth:
[error]



=== TEST 12: HS256 token is rejected when only RSA/EC/OKP keys are configured
--- more_headers eval
"Authorization: Bearer " . McpOAuth::token('hs256')
--- error_code: 401
--- response_headers
WWW-Authenticate: Bearer error="invalid_token", error_description="unknown kid", resource_metadata="https://mcp.example.com/.well-known/oauth-protected-resource/mcp"
Content-Type: application/json
--- response_body chomp
{"error":"invalid_token","error_description":"unknown kid"}
--- error_log eval
qr/\[info\] .*mcp_oauth: unknown kid, client: /
--- no_error_log eval
main::quiet_log(McpOAuth::token('hs256'))



=== TEST 13: HS256 token without kid finds no key when only RSA/EC/OKP keys are configured
--- more_headers eval
"Authorization: Bearer " . McpOAuth::mint(key => 'oct', header => '{"kid":null}')
--- error_code: 401
--- response_headers
WWW-Authenticate: Bearer error="invalid_token", error_description="no key for the token's alg", resource_metadata="https://mcp.example.com/.well-known/oauth-protected-resource/mcp"
Content-Type: application/json
--- response_body chomp
{"error":"invalid_token","error_description":"no key for the token's alg"}
--- error_log eval
qr/\[info\] .*mcp_oauth: no key for the token's alg, client: /
--- no_error_log
[error]



=== TEST 14: RS256 token is rejected by a location that only has the oct key
--- config
    location = /echo {
        return 200 "sub=[$http_x_sub] auth=[$http_authorization]\n";
    }

    location /mcp {
        mcp_oauth on;
        mcp_oauth_resource https://mcp.example.com/mcp;
        mcp_oauth_issuer https://auth.example.com;
        mcp_oauth_jwks $TEST_NGINX_DATA/jwks/oct.json;
        proxy_set_header X-Sub $mcp_oauth_sub;
        proxy_pass http://127.0.0.1:$TEST_NGINX_SERVER_PORT/echo;
    }
--- more_headers eval
"Authorization: Bearer " . McpOAuth::token('rs256')
--- error_code: 401
--- response_headers
WWW-Authenticate: Bearer error="invalid_token", error_description="unknown kid", resource_metadata="https://mcp.example.com/.well-known/oauth-protected-resource/mcp"
--- response_body chomp
{"error":"invalid_token","error_description":"unknown kid"}
--- error_log eval
qr/\[info\] .*mcp_oauth: unknown kid, client: /
--- no_error_log
[error]



=== TEST 15: RS256 token without kid is accepted with a JWKS whose keys have no kid
--- config
    location = /echo {
        return 200 "sub=[$http_x_sub] auth=[$http_authorization]\n";
    }

    location /mcp {
        mcp_oauth on;
        mcp_oauth_resource https://mcp.example.com/mcp;
        mcp_oauth_issuer https://auth.example.com;
        mcp_oauth_jwks $TEST_NGINX_DATA/jwks/nokid.json;
        proxy_set_header X-Sub $mcp_oauth_sub;
        proxy_pass http://127.0.0.1:$TEST_NGINX_SERVER_PORT/echo;
    }
--- more_headers eval
"Authorization: Bearer " . McpOAuth::token('rs256-nokid')
--- error_code: 200
--- response_headers
!WWW-Authenticate
--- response_body
sub=[user-1] auth=[]
--- no_error_log
mcp_oauth:
[error]



=== TEST 16: ES256 token without kid is accepted with a JWKS whose keys have no kid
--- config
    location = /echo {
        return 200 "sub=[$http_x_sub] auth=[$http_authorization]\n";
    }

    location /mcp {
        mcp_oauth on;
        mcp_oauth_resource https://mcp.example.com/mcp;
        mcp_oauth_issuer https://auth.example.com;
        mcp_oauth_jwks $TEST_NGINX_DATA/jwks/nokid.json;
        proxy_set_header X-Sub $mcp_oauth_sub;
        proxy_pass http://127.0.0.1:$TEST_NGINX_SERVER_PORT/echo;
    }
--- more_headers eval
"Authorization: Bearer " . McpOAuth::token('es256-nokid')
--- error_code: 200
--- response_headers
!WWW-Authenticate
--- response_body
sub=[user-1] auth=[]
--- no_error_log
mcp_oauth:
[error]



=== TEST 17: RS256 token signed by the key whose JWK restricts "alg" to RS256 is accepted
--- more_headers eval
"Authorization: Bearer " . McpOAuth::token('rs-only-key-rs256')
--- error_code: 200
--- response_headers
!WWW-Authenticate
--- response_body
sub=[user-1] auth=[]
--- no_error_log
mcp_oauth:
[error]



=== TEST 18: PS256 token for the key whose JWK restricts "alg" to RS256 is rejected
--- more_headers eval
"Authorization: Bearer " . McpOAuth::token('rs-only-key-ps256')
--- error_code: 401
--- response_headers
WWW-Authenticate: Bearer error="invalid_token", error_description="alg not allowed for the key", resource_metadata="https://mcp.example.com/.well-known/oauth-protected-resource/mcp"
Content-Type: application/json
--- response_body chomp
{"error":"invalid_token","error_description":"alg not allowed for the key"}
--- error_log eval
qr/\[info\] .*mcp_oauth: alg not allowed for the key, client: /
--- no_error_log eval
main::quiet_log(McpOAuth::token('rs-only-key-ps256'))



=== TEST 19: ES256 token without kid finds no key in a JWKS that only holds an RSA key
--- config
    location = /echo {
        return 200 "sub=[$http_x_sub] auth=[$http_authorization]\n";
    }

    location /mcp {
        mcp_oauth on;
        mcp_oauth_resource https://mcp.example.com/mcp;
        mcp_oauth_issuer https://auth.example.com;
        mcp_oauth_jwks $TEST_NGINX_DATA/jwks/rsa1.json;
        proxy_set_header X-Sub $mcp_oauth_sub;
        proxy_pass http://127.0.0.1:$TEST_NGINX_SERVER_PORT/echo;
    }
--- more_headers eval
"Authorization: Bearer " . McpOAuth::token('es256-nokid')
--- error_code: 401
--- response_headers
WWW-Authenticate: Bearer error="invalid_token", error_description="no key for the token's alg", resource_metadata="https://mcp.example.com/.well-known/oauth-protected-resource/mcp"
Content-Type: application/json
--- response_body chomp
{"error":"invalid_token","error_description":"no key for the token's alg"}
--- error_log eval
qr/\[info\] .*mcp_oauth: no key for the token's alg, client: /
--- no_error_log
[error]



=== TEST 20: ES256 token with kid ec-256 is an unknown kid for a JWKS that only holds rsa-1
--- config
    location = /echo {
        return 200 "sub=[$http_x_sub] auth=[$http_authorization]\n";
    }

    location /mcp {
        mcp_oauth on;
        mcp_oauth_resource https://mcp.example.com/mcp;
        mcp_oauth_issuer https://auth.example.com;
        mcp_oauth_jwks $TEST_NGINX_DATA/jwks/rsa1.json;
        proxy_set_header X-Sub $mcp_oauth_sub;
        proxy_pass http://127.0.0.1:$TEST_NGINX_SERVER_PORT/echo;
    }
--- more_headers eval
"Authorization: Bearer " . McpOAuth::token('es256')
--- error_code: 401
--- response_headers
WWW-Authenticate: Bearer error="invalid_token", error_description="unknown kid", resource_metadata="https://mcp.example.com/.well-known/oauth-protected-resource/mcp"
Content-Type: application/json
--- response_body chomp
{"error":"invalid_token","error_description":"unknown kid"}
--- error_log eval
qr/\[info\] .*mcp_oauth: unknown kid, client: /
--- no_error_log
[error]



=== TEST 21: token of the rotated key (kid rsa-2) is an unknown kid for main.json
--- more_headers eval
"Authorization: Bearer " . McpOAuth::token('rs256-rotated')
--- error_code: 401
--- response_headers
WWW-Authenticate: Bearer error="invalid_token", error_description="unknown kid", resource_metadata="https://mcp.example.com/.well-known/oauth-protected-resource/mcp"
Content-Type: application/json
--- response_body chomp
{"error":"invalid_token","error_description":"unknown kid"}
--- error_log eval
qr/\[info\] .*mcp_oauth: unknown kid, client: /
--- no_error_log eval
main::quiet_log(McpOAuth::token('rs256-rotated'))



=== TEST 22: during a rotation (rotated.json) tokens of the old and the new key are both accepted
--- config
    location = /echo {
        return 200 "sub=[$http_x_sub] auth=[$http_authorization]\n";
    }

    location /mcp {
        mcp_oauth on;
        mcp_oauth_resource https://mcp.example.com/mcp;
        mcp_oauth_issuer https://auth.example.com;
        mcp_oauth_jwks $TEST_NGINX_DATA/jwks/rotated.json;
        proxy_set_header X-Sub $mcp_oauth_sub;
        proxy_pass http://127.0.0.1:$TEST_NGINX_SERVER_PORT/echo;
    }
--- request eval
["GET /mcp", "GET /mcp"]
--- more_headers eval
["Authorization: Bearer " . McpOAuth::token('rs256-rotated'),
 "Authorization: Bearer " . McpOAuth::token('rs256')]
--- error_code eval
[200, 200]
--- response_body eval
["sub=[user-1] auth=[]\n", "sub=[user-1] auth=[]\n"]
--- no_error_log
mcp_oauth:
[error]



=== TEST 23: two locations with different JWKS in one server each trust only their own key
--- config
    location = /echo {
        return 200 "sub=[$http_x_sub] auth=[$http_authorization]\n";
    }

    location /a {
        mcp_oauth on;
        mcp_oauth_resource https://mcp.example.com/mcp;
        mcp_oauth_issuer https://auth.example.com;
        mcp_oauth_jwks $TEST_NGINX_DATA/jwks/rsa1.json;
        proxy_set_header X-Sub $mcp_oauth_sub;
        proxy_pass http://127.0.0.1:$TEST_NGINX_SERVER_PORT/echo;
    }

    location /b {
        mcp_oauth on;
        mcp_oauth_resource https://mcp.example.com/mcp;
        mcp_oauth_issuer https://auth.example.com;
        mcp_oauth_jwks $TEST_NGINX_DATA/jwks/rsa2.json;
        proxy_set_header X-Sub $mcp_oauth_sub;
        proxy_pass http://127.0.0.1:$TEST_NGINX_SERVER_PORT/echo;
    }
--- request eval
["GET /a", "GET /a", "GET /b", "GET /b"]
--- more_headers eval
["Authorization: Bearer " . McpOAuth::token('rs256'),
 "Authorization: Bearer " . McpOAuth::token('rs256-rotated'),
 "Authorization: Bearer " . McpOAuth::token('rs256-rotated'),
 "Authorization: Bearer " . McpOAuth::token('rs256')]
--- error_code eval
[200, 401, 200, 401]
--- response_body eval
["sub=[user-1] auth=[]\n",
 '{"error":"invalid_token","error_description":"unknown kid"}',
 "sub=[user-1] auth=[]\n",
 '{"error":"invalid_token","error_description":"unknown kid"}']
--- no_error_log
[error]



=== TEST 24: an RSA JWK with e = 1 is skipped: a token "signed" with the bare PKCS#1 digest encoding is refused
--- config
    location = /echo {
        return 200 "sub=[$http_x_sub] auth=[$http_authorization]\n";
    }

    location /mcp {
        mcp_oauth on;
        mcp_oauth_resource https://mcp.example.com/mcp;
        mcp_oauth_issuer https://auth.example.com;
        mcp_oauth_jwks $TEST_NGINX_DATA/jwks/rsa-e1.json;
        proxy_set_header X-Sub $mcp_oauth_sub;
        proxy_pass http://127.0.0.1:$TEST_NGINX_SERVER_PORT/echo;
    }
--- request eval
["GET /mcp", "GET /mcp"]
--- more_headers eval
["Authorization: Bearer " . McpOAuth::token('rsa-e1-forged'),
 "Authorization: Bearer " . McpOAuth::token('es256')]
--- error_code eval
[401, 200]
--- response_headers eval
['WWW-Authenticate: Bearer error="invalid_token", error_description="unknown kid", resource_metadata="https://mcp.example.com/.well-known/oauth-protected-resource/mcp"',
 '!WWW-Authenticate']
--- response_body eval
['{"error":"invalid_token","error_description":"unknown kid"}',
 "sub=[user-1] auth=[]\n"]
--- no_error_log
[error]



=== TEST 25: a JWKS file whose only key has e = 1 fails nginx -t, naming the directive
--- config
    location /mcp {
        mcp_oauth on;
        mcp_oauth_resource https://mcp.example.com/mcp;
        mcp_oauth_issuer https://auth.example.com;
        mcp_oauth_jwks $TEST_NGINX_DATA/jwks/rsa-e1-only.json;
        proxy_pass http://127.0.0.1:$TEST_NGINX_SERVER_PORT/echo;
    }
--- must_die
--- error_log eval
[
    qr/\[warn\] .*: mcp_oauth: JWK #0 "rsa-e1" skipped: RSA public exponent is not odd and at least 3$/,
    qr{\[emerg\] .*: "mcp_oauth_jwks": invalid JWKS file "\S+/jwks/rsa-e1-only\.json": no usable key in the JWK Set in \S+:\d+$},
]



=== TEST 26: RSA JWKs with an even e or failing the public key check (even n) are skipped, the other keys are used
--- config
    location = /echo {
        return 200 "sub=[$http_x_sub] auth=[$http_authorization]\n";
    }

    location /mcp {
        mcp_oauth on;
        mcp_oauth_resource https://mcp.example.com/mcp;
        mcp_oauth_issuer https://auth.example.com;
        mcp_oauth_jwks $TEST_NGINX_DATA/jwks/rsa-bad.json;
        proxy_set_header X-Sub $mcp_oauth_sub;
        proxy_pass http://127.0.0.1:$TEST_NGINX_SERVER_PORT/echo;
    }
--- more_headers eval
"Authorization: Bearer " . McpOAuth::token('es256')
--- error_code: 200
--- response_body
sub=[user-1] auth=[]
--- error_log eval
[
    qr/\[warn\] .*: mcp_oauth: JWK #0 "rsa-even" skipped: RSA public exponent is not odd and at least 3$/,
    qr/\[warn\] .*: mcp_oauth: JWK #1 "rsa-n-even" skipped: invalid RSA key \(fails the public key check\)$/,
]
--- no_error_log
[error]



=== TEST 27: a JWK with "key_ops": ["encrypt"] is not used to verify: its token is refused
--- config
    location = /echo {
        return 200 "sub=[$http_x_sub] auth=[$http_authorization]\n";
    }

    location /mcp {
        mcp_oauth on;
        mcp_oauth_resource https://mcp.example.com/mcp;
        mcp_oauth_issuer https://auth.example.com;
        mcp_oauth_jwks $TEST_NGINX_DATA/jwks/key-ops-encrypt.json;
        proxy_set_header X-Sub $mcp_oauth_sub;
        proxy_pass http://127.0.0.1:$TEST_NGINX_SERVER_PORT/echo;
    }
--- more_headers eval
"Authorization: Bearer " . McpOAuth::token('rs256')
--- error_code: 401
--- response_headers
WWW-Authenticate: Bearer error="invalid_token", error_description="unknown kid", resource_metadata="https://mcp.example.com/.well-known/oauth-protected-resource/mcp"
--- response_body chomp
{"error":"invalid_token","error_description":"unknown kid"}
--- error_log eval
qr/\[warn\] .*: mcp_oauth: JWK #0 "rsa-1" skipped: "key_ops" does not include "verify"$/
--- no_error_log
[error]



=== TEST 28: a JWK with "key_ops": ["verify"] (and no "use") verifies as usual
--- config
    location = /echo {
        return 200 "sub=[$http_x_sub] auth=[$http_authorization]\n";
    }

    location /mcp {
        mcp_oauth on;
        mcp_oauth_resource https://mcp.example.com/mcp;
        mcp_oauth_issuer https://auth.example.com;
        mcp_oauth_jwks $TEST_NGINX_DATA/jwks/key-ops-verify.json;
        proxy_set_header X-Sub $mcp_oauth_sub;
        proxy_pass http://127.0.0.1:$TEST_NGINX_SERVER_PORT/echo;
    }
--- more_headers eval
"Authorization: Bearer " . McpOAuth::token('rs256')
--- error_code: 200
--- response_body
sub=[user-1] auth=[]
--- no_error_log
skipped
[error]



=== TEST 29: RS256 signatures at the edges of PKCS #1 v1.5 (the module's RSA-2048 code on a CPU with AVX-512 IFMA, OpenSSL's elsewhere): a signature with a leading zero byte verifies; a wrong padding or DigestInfo, the modulus, zero and a signature a byte short do not
--- request eval
[("GET /mcp") x 8]
--- more_headers eval
[map { "Authorization: Bearer " . McpOAuth::token($_) }
 qw(rs256-leading-zero rs256-padding-fe rs256-padding-short rs256-digestinfo-nonull
    rs256-digestinfo-sha384 rs256-sig-n rs256-sig-zero rs256-sig-short)]
--- error_code eval
[200, (401) x 7]
--- response_headers eval
['!WWW-Authenticate',
 ('WWW-Authenticate: Bearer error="invalid_token", error_description="signature verification failed", resource_metadata="https://mcp.example.com/.well-known/oauth-protected-resource/mcp"') x 7]
--- response_body eval
["sub=[user-1] auth=[]\n",
 ('{"error":"invalid_token","error_description":"signature verification failed"}') x 7]
--- no_error_log
[error]
