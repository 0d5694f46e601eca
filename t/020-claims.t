# Claims checks (RFC 9068 §4, RFC 7519 §4.1): audience, issuer (exact
# match), typ and crit header members, exp/nbf/iat with the leeway, and the
# variables that hand the verified claims to the upstream.

use strict;
use warnings;
use lib 't/lib';
use Test::Nginx::Socket 'no_plan';
use McpOAuth;

McpOAuth::setup();
no_shuffle();
log_level('info');

# The protected location /mcp (resource https://mcp.example.com/mcp, keys
# jwks/main.json) in front of an echo of what the upstream receives.
#   main::conf()                                     issuer https://auth.example.com
#   main::conf(issuers => [URL, ...])                other trusted issuers
#   main::conf(extra => 'mcp_oauth_leeway 0;')       more directives for /mcp
sub main::conf {
    my (%o) = @_;
    my $issuers = join '', map { "        mcp_oauth_issuer $_;\n" }
                               @{ $o{issuers} || ['https://auth.example.com'] };
    my $extra = $o{extra} ? "        $o{extra}\n" : '';
    my $conf = <<'_EOC_';
    location = /echo {
        return 200 "sub=[$http_x_sub] scope=[$http_x_scope] client=[$http_x_client] auth=[$http_authorization]\n";
    }

    location /mcp {
        mcp_oauth on;
        mcp_oauth_resource https://mcp.example.com/mcp;
%ISSUERS%        mcp_oauth_jwks $TEST_NGINX_DATA/jwks/main.json;
%EXTRA%        proxy_set_header X-Sub $mcp_oauth_sub;
        proxy_set_header X-Scope $mcp_oauth_scope;
        proxy_set_header X-Client $mcp_oauth_client_id;
        proxy_pass http://127.0.0.1:$TEST_NGINX_SERVER_PORT/echo;
    }
_EOC_
    $conf =~ s/%ISSUERS%/$issuers/;
    $conf =~ s/%EXTRA%/$extra/;
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

=== TEST 1: leeway: a token expired 30s ago is accepted with the default 60s leeway
Minted tokens are made when the file is read: the time-sensitive blocks come first.
--- more_headers eval
"Authorization: Bearer " . McpOAuth::mint(key => 'rsa1', 'exp-in' => -30)
--- error_code: 200
--- response_headers
!WWW-Authenticate
--- response_body
sub=[user-1] scope=[mcp:tools] client=[client-1] auth=[]
--- no_error_log
mcp_oauth:
[error]



=== TEST 2: leeway: a token expired 90s ago is rejected with the default 60s leeway
--- more_headers eval
"Authorization: Bearer " . McpOAuth::mint(key => 'rsa1', 'exp-in' => -90)
--- error_code: 401
--- response_headers
WWW-Authenticate: Bearer error="invalid_token", error_description="token expired", resource_metadata="https://mcp.example.com/.well-known/oauth-protected-resource/mcp"
Content-Type: application/json
--- response_body chomp
{"error":"invalid_token","error_description":"token expired"}
--- error_log eval
qr/\[info\] .*mcp_oauth: token expired, client: /
--- no_error_log
[error]



=== TEST 3: leeway: with "mcp_oauth_leeway 0" a token expired 5s ago is rejected
--- config eval
main::conf(extra => 'mcp_oauth_leeway 0;')
--- more_headers eval
"Authorization: Bearer " . McpOAuth::mint(key => 'rsa1', 'exp-in' => -5)
--- error_code: 401
--- response_headers
WWW-Authenticate: Bearer error="invalid_token", error_description="token expired", resource_metadata="https://mcp.example.com/.well-known/oauth-protected-resource/mcp"
--- response_body chomp
{"error":"invalid_token","error_description":"token expired"}
--- error_log eval
qr/\[info\] .*mcp_oauth: token expired, client: /
--- no_error_log
[error]



=== TEST 4: leeway: with "mcp_oauth_leeway 5m" a token expired 200s ago is accepted
--- config eval
main::conf(extra => 'mcp_oauth_leeway 5m;')
--- more_headers eval
"Authorization: Bearer " . McpOAuth::mint(key => 'rsa1', 'exp-in' => -200)
--- error_code: 200
--- response_headers
!WWW-Authenticate
--- response_body
sub=[user-1] scope=[mcp:tools] client=[client-1] auth=[]
--- no_error_log
mcp_oauth:
[error]



=== TEST 5: leeway: with "mcp_oauth_leeway 5m" a token expired 400s ago is rejected
--- config eval
main::conf(extra => 'mcp_oauth_leeway 5m;')
--- more_headers eval
"Authorization: Bearer " . McpOAuth::mint(key => 'rsa1', 'exp-in' => -400)
--- error_code: 401
--- response_headers
WWW-Authenticate: Bearer error="invalid_token", error_description="token expired", resource_metadata="https://mcp.example.com/.well-known/oauth-protected-resource/mcp"
--- response_body chomp
{"error":"invalid_token","error_description":"token expired"}
--- error_log eval
qr/\[info\] .*mcp_oauth: token expired, client: /
--- no_error_log
[error]



=== TEST 6: leeway: nbf 30s ahead is accepted with the default 60s leeway
--- more_headers eval
"Authorization: Bearer " . McpOAuth::mint(key => 'rsa1', 'nbf-in' => 30)
--- error_code: 200
--- response_headers
!WWW-Authenticate
--- response_body
sub=[user-1] scope=[mcp:tools] client=[client-1] auth=[]
--- no_error_log
mcp_oauth:
[error]



=== TEST 7: leeway: nbf 120s ahead is rejected with the default 60s leeway
--- more_headers eval
"Authorization: Bearer " . McpOAuth::mint(key => 'rsa1', 'nbf-in' => 120)
--- error_code: 401
--- response_headers
WWW-Authenticate: Bearer error="invalid_token", error_description="token not yet valid (nbf)", resource_metadata="https://mcp.example.com/.well-known/oauth-protected-resource/mcp"
Content-Type: application/json
--- response_body chomp
{"error":"invalid_token","error_description":"token not yet valid (nbf)"}
--- error_log eval
qr/\[info\] .*mcp_oauth: token not yet valid \(nbf\), client: /
--- no_error_log
[error]



=== TEST 8: leeway: iat 30s ahead is accepted with the default 60s leeway
--- more_headers eval
"Authorization: Bearer " . McpOAuth::mint(key => 'rsa1', 'iat-in' => 30)
--- error_code: 200
--- response_headers
!WWW-Authenticate
--- response_body
sub=[user-1] scope=[mcp:tools] client=[client-1] auth=[]
--- no_error_log
mcp_oauth:
[error]



=== TEST 9: leeway: iat 120s ahead is rejected with the default 60s leeway
--- more_headers eval
"Authorization: Bearer " . McpOAuth::mint(key => 'rsa1', 'iat-in' => 120)
--- error_code: 401
--- response_headers
WWW-Authenticate: Bearer error="invalid_token", error_description="token issued in the future (iat)", resource_metadata="https://mcp.example.com/.well-known/oauth-protected-resource/mcp"
Content-Type: application/json
--- response_body chomp
{"error":"invalid_token","error_description":"token issued in the future (iat)"}
--- error_log eval
qr/\[info\] .*mcp_oauth: token issued in the future \(iat\), client: /
--- no_error_log
[error]



=== TEST 10: aud as a string naming the resource is accepted
--- more_headers eval
"Authorization: Bearer " . McpOAuth::token('rs256')
--- error_code: 200
--- response_headers
!WWW-Authenticate
--- response_body
sub=[user-1] scope=[mcp:tools] client=[client-1] auth=[]
--- no_error_log
mcp_oauth:
[error]



=== TEST 11: aud as an array that holds the resource is accepted
--- more_headers eval
"Authorization: Bearer " . McpOAuth::token('aud-array')
--- error_code: 200
--- response_headers
!WWW-Authenticate
--- response_body
sub=[user-1] scope=[mcp:tools] client=[client-1] auth=[]
--- no_error_log
mcp_oauth:
[error]



=== TEST 12: aud as an array without the resource is rejected
--- more_headers eval
"Authorization: Bearer " . McpOAuth::token('aud-array-wrong')
--- error_code: 401
--- response_headers
WWW-Authenticate: Bearer error="invalid_token", error_description="token not issued for this resource", resource_metadata="https://mcp.example.com/.well-known/oauth-protected-resource/mcp"
Content-Type: application/json
--- response_body chomp
{"error":"invalid_token","error_description":"token not issued for this resource"}
--- error_log eval
qr/\[info\] .*mcp_oauth: token not issued for this resource, client: /
--- no_error_log eval
main::quiet_log(McpOAuth::token('aud-array-wrong'))



=== TEST 13: aud naming another resource is rejected
--- more_headers eval
"Authorization: Bearer " . McpOAuth::token('wrong-aud')
--- error_code: 401
--- response_headers
WWW-Authenticate: Bearer error="invalid_token", error_description="token not issued for this resource", resource_metadata="https://mcp.example.com/.well-known/oauth-protected-resource/mcp"
Content-Type: application/json
--- response_body chomp
{"error":"invalid_token","error_description":"token not issued for this resource"}
--- error_log eval
qr/\[info\] .*mcp_oauth: token not issued for this resource, client: /
--- no_error_log eval
main::quiet_log(McpOAuth::token('wrong-aud'))



=== TEST 14: a token without aud is rejected
--- more_headers eval
"Authorization: Bearer " . McpOAuth::token('no-aud')
--- error_code: 401
--- response_headers
WWW-Authenticate: Bearer error="invalid_token", error_description="token has no aud", resource_metadata="https://mcp.example.com/.well-known/oauth-protected-resource/mcp"
Content-Type: application/json
--- response_body chomp
{"error":"invalid_token","error_description":"token has no aud"}
--- error_log eval
qr/\[info\] .*mcp_oauth: token has no aud, client: /
--- no_error_log
[error]



=== TEST 15: scp as an array gives $mcp_oauth_scope
--- more_headers eval
"Authorization: Bearer " . McpOAuth::token('scp-array')
--- error_code: 200
--- response_body
sub=[user-1] scope=[mcp:tools read:application] client=[client-1] auth=[]
--- no_error_log
mcp_oauth:
[error]



=== TEST 16: scp as a space-separated string gives $mcp_oauth_scope
--- more_headers eval
"Authorization: Bearer " . McpOAuth::token('scp-string')
--- error_code: 200
--- response_body
sub=[user-1] scope=[mcp:tools read:application] client=[client-1] auth=[]
--- no_error_log
mcp_oauth:
[error]



=== TEST 17: several scopes in "scope" are all in $mcp_oauth_scope
--- more_headers eval
"Authorization: Bearer " . McpOAuth::token('scope-multi')
--- error_code: 200
--- response_body
sub=[user-1] scope=[mcp:tools read:application write:application] client=[client-1] auth=[]
--- no_error_log
mcp_oauth:
[error]



=== TEST 18: a token without scope is accepted (no required scope) and $mcp_oauth_scope is empty
--- more_headers eval
"Authorization: Bearer " . McpOAuth::token('no-scope')
--- error_code: 200
--- response_body
sub=[user-1] scope=[] client=[client-1] auth=[]
--- no_error_log
mcp_oauth:
[error]



=== TEST 19: typ "at+jwt" (RFC 9068) is accepted
--- more_headers eval
"Authorization: Bearer " . McpOAuth::token('typ-at-jwt')
--- error_code: 200
--- response_headers
!WWW-Authenticate
--- response_body
sub=[user-1] scope=[mcp:tools] client=[client-1] auth=[]
--- no_error_log
mcp_oauth:
[error]



=== TEST 20: typ "application/at+jwt" is accepted
--- more_headers eval
"Authorization: Bearer " . McpOAuth::token('typ-app-at-jwt')
--- error_code: 200
--- response_headers
!WWW-Authenticate
--- response_body
sub=[user-1] scope=[mcp:tools] client=[client-1] auth=[]
--- no_error_log
mcp_oauth:
[error]



=== TEST 21: typ "AT+JWT" is accepted (typ is case-insensitive)
--- more_headers eval
"Authorization: Bearer " . McpOAuth::token('typ-upper')
--- error_code: 200
--- response_headers
!WWW-Authenticate
--- response_body
sub=[user-1] scope=[mcp:tools] client=[client-1] auth=[]
--- no_error_log
mcp_oauth:
[error]



=== TEST 22: a token without typ is accepted
--- more_headers eval
"Authorization: Bearer " . McpOAuth::token('no-typ')
--- error_code: 200
--- response_headers
!WWW-Authenticate
--- response_body
sub=[user-1] scope=[mcp:tools] client=[client-1] auth=[]
--- no_error_log
mcp_oauth:
[error]



=== TEST 23: typ "dpop+jwt" is rejected
--- more_headers eval
"Authorization: Bearer " . McpOAuth::token('bad-typ')
--- error_code: 401
--- response_headers
WWW-Authenticate: Bearer error="invalid_token", error_description="unexpected typ in token header", resource_metadata="https://mcp.example.com/.well-known/oauth-protected-resource/mcp"
Content-Type: application/json
--- response_body chomp
{"error":"invalid_token","error_description":"unexpected typ in token header"}
--- error_log eval
qr/\[info\] .*mcp_oauth: unexpected typ in token header, client: /
--- no_error_log eval
main::quiet_log(McpOAuth::token('bad-typ'))



=== TEST 24: typ as a JSON number is rejected
--- more_headers eval
"Authorization: Bearer " . McpOAuth::token('typ-number')
--- error_code: 401
--- response_headers
WWW-Authenticate: Bearer error="invalid_token", error_description="unexpected typ in token header", resource_metadata="https://mcp.example.com/.well-known/oauth-protected-resource/mcp"
Content-Type: application/json
--- response_body chomp
{"error":"invalid_token","error_description":"unexpected typ in token header"}
--- error_log eval
qr/\[info\] .*mcp_oauth: unexpected typ in token header, client: /
--- no_error_log
[error]



=== TEST 25: a crit header member is rejected (no extension is understood)
--- more_headers eval
"Authorization: Bearer " . McpOAuth::token('crit')
--- error_code: 401
--- response_headers
WWW-Authenticate: Bearer error="invalid_token", error_description="unsupported critical header parameter", resource_metadata="https://mcp.example.com/.well-known/oauth-protected-resource/mcp"
Content-Type: application/json
--- response_body chomp
{"error":"invalid_token","error_description":"unsupported critical header parameter"}
--- error_log eval
qr/\[info\] .*mcp_oauth: unsupported critical header parameter, client: /
--- no_error_log eval
main::quiet_log(McpOAuth::token('crit'))



=== TEST 26: issuer "https://tenant.auth0.com/" accepts iss "https://tenant.auth0.com/"
--- config eval
main::conf(issuers => ['https://tenant.auth0.com/'])
--- more_headers eval
"Authorization: Bearer " . McpOAuth::token('iss-auth0')
--- error_code: 200
--- response_headers
!WWW-Authenticate
--- response_body
sub=[user-1] scope=[mcp:tools] client=[client-1] auth=[]
--- no_error_log
mcp_oauth:
[error]



=== TEST 27: issuer "https://tenant.auth0.com/" rejects iss "https://tenant.auth0.com" (exact match)
--- config eval
main::conf(issuers => ['https://tenant.auth0.com/'])
--- more_headers eval
"Authorization: Bearer " . McpOAuth::token('iss-auth0-noslash')
--- error_code: 401
--- response_headers
WWW-Authenticate: Bearer error="invalid_token", error_description="untrusted issuer", resource_metadata="https://mcp.example.com/.well-known/oauth-protected-resource/mcp"
Content-Type: application/json
--- response_body chomp
{"error":"invalid_token","error_description":"untrusted issuer"}
--- error_log eval
qr/\[info\] .*mcp_oauth: untrusted issuer, client: /
--- no_error_log
[error]



=== TEST 28: issuer "https://tenant.auth0.com" accepts iss "https://tenant.auth0.com"
--- config eval
main::conf(issuers => ['https://tenant.auth0.com'])
--- more_headers eval
"Authorization: Bearer " . McpOAuth::token('iss-auth0-noslash')
--- error_code: 200
--- response_headers
!WWW-Authenticate
--- response_body
sub=[user-1] scope=[mcp:tools] client=[client-1] auth=[]
--- no_error_log
mcp_oauth:
[error]



=== TEST 29: issuer "https://tenant.auth0.com" rejects iss "https://tenant.auth0.com/" (exact match)
--- config eval
main::conf(issuers => ['https://tenant.auth0.com'])
--- more_headers eval
"Authorization: Bearer " . McpOAuth::token('iss-auth0')
--- error_code: 401
--- response_headers
WWW-Authenticate: Bearer error="invalid_token", error_description="untrusted issuer", resource_metadata="https://mcp.example.com/.well-known/oauth-protected-resource/mcp"
Content-Type: application/json
--- response_body chomp
{"error":"invalid_token","error_description":"untrusted issuer"}
--- error_log eval
qr/\[info\] .*mcp_oauth: untrusted issuer, client: /
--- no_error_log
[error]



=== TEST 30: two mcp_oauth_issuer directives trust both issuers, and only them
--- config eval
main::conf(issuers => ['https://auth.example.com', 'https://second.example.com'])
--- request eval
["GET /mcp", "GET /mcp", "GET /mcp"]
--- more_headers eval
["Authorization: Bearer " . McpOAuth::token('rs256'),
 "Authorization: Bearer " . McpOAuth::token('iss-second'),
 "Authorization: Bearer " . McpOAuth::token('iss-auth0')]
--- error_code eval
[200, 200, 401]
--- response_body eval
["sub=[user-1] scope=[mcp:tools] client=[client-1] auth=[]\n",
 "sub=[user-1] scope=[mcp:tools] client=[client-1] auth=[]\n",
 '{"error":"invalid_token","error_description":"untrusted issuer"}']
--- no_error_log
[error]



=== TEST 31: iss of another issuer is rejected
--- more_headers eval
"Authorization: Bearer " . McpOAuth::token('wrong-iss')
--- error_code: 401
--- response_headers
WWW-Authenticate: Bearer error="invalid_token", error_description="untrusted issuer", resource_metadata="https://mcp.example.com/.well-known/oauth-protected-resource/mcp"
Content-Type: application/json
--- response_body chomp
{"error":"invalid_token","error_description":"untrusted issuer"}
--- error_log eval
qr/\[info\] .*mcp_oauth: untrusted issuer, client: /
--- no_error_log eval
main::quiet_log(McpOAuth::token('wrong-iss'))



=== TEST 32: a token without iss is rejected
--- more_headers eval
"Authorization: Bearer " . McpOAuth::mint(key => 'rsa1', claims => '{"iss":null}')
--- error_code: 401
--- response_headers
WWW-Authenticate: Bearer error="invalid_token", error_description="token has no iss", resource_metadata="https://mcp.example.com/.well-known/oauth-protected-resource/mcp"
Content-Type: application/json
--- response_body chomp
{"error":"invalid_token","error_description":"token has no iss"}
--- error_log eval
qr/\[info\] .*mcp_oauth: token has no iss, client: /
--- no_error_log
[error]



=== TEST 33: an expired token (2000-01-01) is rejected
--- more_headers eval
"Authorization: Bearer " . McpOAuth::token('expired')
--- error_code: 401
--- response_headers
WWW-Authenticate: Bearer error="invalid_token", error_description="token expired", resource_metadata="https://mcp.example.com/.well-known/oauth-protected-resource/mcp"
Content-Type: application/json
--- response_body chomp
{"error":"invalid_token","error_description":"token expired"}
--- error_log eval
qr/\[info\] .*mcp_oauth: token expired, client: /
--- no_error_log eval
main::quiet_log(McpOAuth::token('expired'))



=== TEST 34: a token without exp is rejected
--- more_headers eval
"Authorization: Bearer " . McpOAuth::token('missing-exp')
--- error_code: 401
--- response_headers
WWW-Authenticate: Bearer error="invalid_token", error_description="token has no exp", resource_metadata="https://mcp.example.com/.well-known/oauth-protected-resource/mcp"
Content-Type: application/json
--- response_body chomp
{"error":"invalid_token","error_description":"token has no exp"}
--- error_log eval
qr/\[info\] .*mcp_oauth: token has no exp, client: /
--- no_error_log
[error]



=== TEST 35: exp as a string is rejected
--- more_headers eval
"Authorization: Bearer " . McpOAuth::token('exp-string')
--- error_code: 401
--- response_headers
WWW-Authenticate: Bearer error="invalid_token", error_description="exp is not a number", resource_metadata="https://mcp.example.com/.well-known/oauth-protected-resource/mcp"
Content-Type: application/json
--- response_body chomp
{"error":"invalid_token","error_description":"exp is not a number"}
--- error_log eval
qr/\[info\] .*mcp_oauth: exp is not a number, client: /
--- no_error_log
[error]



=== TEST 36: nbf far in the future is rejected
--- more_headers eval
"Authorization: Bearer " . McpOAuth::token('nbf-future')
--- error_code: 401
--- response_headers
WWW-Authenticate: Bearer error="invalid_token", error_description="token not yet valid (nbf)", resource_metadata="https://mcp.example.com/.well-known/oauth-protected-resource/mcp"
Content-Type: application/json
--- response_body chomp
{"error":"invalid_token","error_description":"token not yet valid (nbf)"}
--- error_log eval
qr/\[info\] .*mcp_oauth: token not yet valid \(nbf\), client: /
--- no_error_log
[error]



=== TEST 37: iat far in the future is rejected
--- more_headers eval
"Authorization: Bearer " . McpOAuth::token('iat-future')
--- error_code: 401
--- response_headers
WWW-Authenticate: Bearer error="invalid_token", error_description="token issued in the future (iat)", resource_metadata="https://mcp.example.com/.well-known/oauth-protected-resource/mcp"
Content-Type: application/json
--- response_body chomp
{"error":"invalid_token","error_description":"token issued in the future (iat)"}
--- error_log eval
qr/\[info\] .*mcp_oauth: token issued in the future \(iat\), client: /
--- no_error_log
[error]



=== TEST 38: nbf as a string is rejected
--- more_headers eval
"Authorization: Bearer " . McpOAuth::mint(key => 'rsa1', claims => '{"nbf":"0"}')
--- error_code: 401
--- response_headers
WWW-Authenticate: Bearer error="invalid_token", error_description="nbf is not a number", resource_metadata="https://mcp.example.com/.well-known/oauth-protected-resource/mcp"
--- response_body chomp
{"error":"invalid_token","error_description":"nbf is not a number"}
--- error_log eval
qr/\[info\] .*mcp_oauth: nbf is not a number, client: /
--- no_error_log
[error]



=== TEST 39: iat as a string is rejected
--- more_headers eval
"Authorization: Bearer " . McpOAuth::mint(key => 'rsa1', claims => '{"iat":"0"}')
--- error_code: 401
--- response_headers
WWW-Authenticate: Bearer error="invalid_token", error_description="iat is not a number", resource_metadata="https://mcp.example.com/.well-known/oauth-protected-resource/mcp"
--- response_body chomp
{"error":"invalid_token","error_description":"iat is not a number"}
--- error_log eval
qr/\[info\] .*mcp_oauth: iat is not a number, client: /
--- no_error_log
[error]



=== TEST 40: claim variables: strings raw, other JSON values compact, a missing claim empty
--- config
    location = /echo {
        return 200 "email=[$http_x_email] verified=[$http_x_verified] tenant=[$http_x_tenant] groups=[$http_x_groups] num=[$http_x_num] missing=[$http_x_missing] client=[$http_x_client] sub=[$http_x_sub]\n";
    }

    location /mcp {
        mcp_oauth on;
        mcp_oauth_resource https://mcp.example.com/mcp;
        mcp_oauth_issuer https://auth.example.com;
        mcp_oauth_jwks $TEST_NGINX_DATA/jwks/main.json;
        proxy_set_header X-Email $mcp_oauth_claim_email;
        proxy_set_header X-Verified $mcp_oauth_claim_email_verified;
        proxy_set_header X-Tenant $mcp_oauth_claim_tenant;
        proxy_set_header X-Groups $mcp_oauth_claim_groups;
        proxy_set_header X-Num $mcp_oauth_claim_num;
        proxy_set_header X-Missing "<$mcp_oauth_claim_nope>";
        proxy_set_header X-Client $mcp_oauth_client_id;
        proxy_set_header X-Sub $mcp_oauth_sub;
        proxy_pass http://127.0.0.1:$TEST_NGINX_SERVER_PORT/echo;
    }
--- more_headers eval
"Authorization: Bearer " . McpOAuth::token('claims-rich')
--- error_code: 200
--- response_body
email=[a@example.com] verified=[true] tenant=[{"id":7}] groups=[["a","b"]] num=[42] missing=[<>] client=[client-1] sub=[user-1]
--- no_error_log
mcp_oauth:
[error]



=== TEST 41: claim variables are empty when the token is rejected
--- config
    location = /echo {
        return 200 "never\n";
    }

    location /mcp {
        mcp_oauth on;
        mcp_oauth_resource https://mcp.example.com/mcp;
        mcp_oauth_issuer https://auth.example.com;
        mcp_oauth_jwks $TEST_NGINX_DATA/jwks/main.json;
        add_header X-Email "<$mcp_oauth_claim_email>" always;
        add_header X-Sub "<$mcp_oauth_sub>" always;
        add_header X-Scope "<$mcp_oauth_scope>" always;
        proxy_pass http://127.0.0.1:$TEST_NGINX_SERVER_PORT/echo;
    }
--- more_headers eval
"Authorization: Bearer " . McpOAuth::token('wrong-aud')
--- error_code: 401
--- response_headers
X-Email: <>
X-Sub: <>
X-Scope: <>
--- response_body chomp
{"error":"invalid_token","error_description":"token not issued for this resource"}
--- error_log eval
qr/\[info\] .*mcp_oauth: token not issued for this resource, client: /



=== TEST 42: $mcp_oauth_client_id falls back to azp when the token has no client_id
--- more_headers eval
"Authorization: Bearer " . McpOAuth::mint(key => 'rsa1', claims => '{"client_id":null,"azp":"app-9"}')
--- error_code: 200
--- response_body
sub=[user-1] scope=[mcp:tools] client=[app-9] auth=[]
--- no_error_log
mcp_oauth:
[error]



=== TEST 43: $mcp_oauth_client_id prefers client_id over azp
--- more_headers eval
"Authorization: Bearer " . McpOAuth::mint(key => 'rsa1', claims => '{"azp":"app-9"}')
--- error_code: 200
--- response_body
sub=[user-1] scope=[mcp:tools] client=[client-1] auth=[]
--- no_error_log
mcp_oauth:
[error]



=== TEST 44: a claim with a newline never reaches the upstream or the client as a raw line break
--- config
    location = /echo {
        return 200 "nick=[$http_x_nick] after=[$http_x_after]\n";
    }

    location /mcp {
        mcp_oauth on;
        mcp_oauth_resource https://mcp.example.com/mcp;
        mcp_oauth_issuer https://auth.example.com;
        mcp_oauth_jwks $TEST_NGINX_DATA/jwks/main.json;
        proxy_set_header X-Nick $mcp_oauth_claim_nick;
        proxy_set_header X-After after;
        add_header X-Nick $mcp_oauth_claim_nick;
        proxy_pass http://127.0.0.1:$TEST_NGINX_SERVER_PORT/echo;
    }
--- more_headers eval
"Authorization: Bearer " . McpOAuth::mint(key => 'rsa1', claims => '{"nick":"a\nb"}')
--- error_code: 200
--- response_headers
X-Nick: "a\nb"
--- raw_response_headers_unlike eval
qr/\r\nb"?\r\n/
--- response_body
nick=["a\nb"] after=[after]
--- no_error_log
mcp_oauth:
[error]



=== TEST 45: a numeric sub is refused (issue 18 item 17)
--- more_headers eval
"Authorization: Bearer " . McpOAuth::mint(key => 'rsa1', claims => '{"sub":42}')
--- error_code: 401
--- response_headers
WWW-Authenticate: Bearer error="invalid_token", error_description="sub is not a string", resource_metadata="https://mcp.example.com/.well-known/oauth-protected-resource/mcp"
--- response_body chomp
{"error":"invalid_token","error_description":"sub is not a string"}
--- error_log eval
qr/\[info\] .*mcp_oauth: sub is not a string, client: /
--- no_error_log
[error]



=== TEST 46: a sub with a control character (U+0001) is refused (issue 18 item 17)
--- more_headers eval
"Authorization: Bearer " . McpOAuth::mint(key => 'rsa1', claims => '{"sub":"demo\u0001"}')
--- error_code: 401
--- response_headers
WWW-Authenticate: Bearer error="invalid_token", error_description="sub holds a control character", resource_metadata="https://mcp.example.com/.well-known/oauth-protected-resource/mcp"
--- response_body chomp
{"error":"invalid_token","error_description":"sub holds a control character"}
--- error_log eval
qr/\[info\] .*mcp_oauth: sub holds a control character, client: /
--- no_error_log
[error]



=== TEST 47: the printable 12-character sub "demo\u0001" (quotes and backslash included) passes as it is: one identity, one spelling
--- more_headers eval
"Authorization: Bearer " . McpOAuth::mint(key => 'rsa1', claims => '{"sub":"\"demo\\\\u0001\""}')
--- error_code: 200
--- response_body
sub=["demo\u0001"] scope=[mcp:tools] client=[client-1] auth=[]
--- no_error_log
mcp_oauth:
[error]



=== TEST 48: sub as an object, client_id as a number or with U+007F, azp (no client_id) as an array are refused (issue 18 item 17)
--- pipelined_requests eval
["GET /mcp", "GET /mcp", "GET /mcp", "GET /mcp", "GET /mcp"]
--- more_headers eval
[
    "Authorization: Bearer " . McpOAuth::mint(key => 'rsa1', claims => '{"sub":{"id":"user-1"}}'),
    "Authorization: Bearer " . McpOAuth::mint(key => 'rsa1', claims => '{"client_id":7}'),
    "Authorization: Bearer " . McpOAuth::mint(key => 'rsa1', claims => '{"client_id":"client-1\u007f"}'),
    "Authorization: Bearer " . McpOAuth::mint(key => 'rsa1', claims => '{"client_id":null,"azp":["app-9"]}'),
    # control: a string client_id wins, azp is not looked at
    "Authorization: Bearer " . McpOAuth::mint(key => 'rsa1', claims => '{"azp":7}'),
]
--- error_code eval
[401, 401, 401, 401, 200]
--- response_body eval
[
    '{"error":"invalid_token","error_description":"sub is not a string"}',
    '{"error":"invalid_token","error_description":"client_id is not a string"}',
    '{"error":"invalid_token","error_description":"client_id holds a control character"}',
    '{"error":"invalid_token","error_description":"azp is not a string"}',
    "sub=[user-1] scope=[mcp:tools] client=[client-1] auth=[]\n",
]
--- no_error_log
[error]



=== TEST 49: a valid payload jansson cannot hold (a string with U+0000, a lone surrogate): the token is accepted, the claim variables are empty and the error log says why (they used to go empty silently)
--- config
    location = /echo {
        return 200 "email=[$http_x_email] sub=[$http_x_sub]\n";
    }

    location /mcp {
        mcp_oauth on;
        mcp_oauth_resource https://mcp.example.com/mcp;
        mcp_oauth_issuer https://auth.example.com;
        mcp_oauth_jwks $TEST_NGINX_DATA/jwks/main.json;
        proxy_set_header X-Email $mcp_oauth_claim_email;
        proxy_set_header X-Sub $mcp_oauth_sub;
        proxy_pass http://127.0.0.1:$TEST_NGINX_SERVER_PORT/echo;
    }
--- request eval
["GET /mcp", "GET /mcp"]
--- more_headers eval
["Authorization: Bearer " . McpOAuth::mint(key => 'rsa1', claims => '{"email":"a@example.com","nick":"a\\u0000b"}'),
 "Authorization: Bearer " . McpOAuth::mint(key => 'rsa1', claims => '{"email":"a@example.com","nick":"\\ud800"}')]
--- error_code eval
[200, 200]
--- response_body eval
["email=[] sub=[user-1]\n", "email=[] sub=[user-1]\n"]
--- error_log eval
[qr/\[warn\] .*mcp_oauth: the token's claims cannot be read for \$mcp_oauth_claim_\* \(.*\): they are empty for this request/]
