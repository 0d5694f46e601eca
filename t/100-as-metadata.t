# The built-in authorization server (docs/authorization-server.md): its
# metadata (RFC 8414 / OpenID discovery) at both well-known paths and, for an
# issuer with a path, at the path-suffixed ones; the exact issuer;
# scopes_supported exactly as configured (ChatGPT asks for all of them); the
# alg of the signing key; CORS on every endpoint but /authorize; the public
# key at /jwks with its RFC 7638 thumbprint as kid, for the three key types;
# signing keys nginx must refuse.
#
# The metadata is compared whole: a response_body_filters sub re-encodes the
# JSON with sorted keys (McpOAuth::json_canon), so member order is free but
# every member, value and array order is checked, and nothing else may be
# there.  Configs come from McpOAuth::as_config (t/lib/McpOAuth.pm: issuer
# http://127.0.0.1:$TEST_NGINX_SERVER_PORT, resource .../mcp, key
# t/data/signing/ec.pem, scopes mcp:tools read:application
# write:application, every endpoint at its path) unless a block needs its
# own.

use strict;
use warnings;
use lib 't/lib';
use Test::Nginx::Socket 'no_plan';
use McpOAuth qw(:DEFAULT :as);

McpOAuth::setup();
no_shuffle();
log_level('info');

# the public JWK of t/data/signing/NAME.pem as /jwks must publish it:
# "kid=thumbprint" when the kid is the RFC 7638 thumbprint of the published
# members, "key=NAME" when they are the fixture's public key, and the
# private members found (there must be none)
sub jwks_of {
    my ($name) = @_;
    return sub {
        my $set = eval { JSON::PP->new->decode($_[0]) };
        return "not JSON: $_[0]" unless ref $set eq 'HASH' && ref $set->{keys} eq 'ARRAY';
        my $file = "$ENV{TEST_NGINX_DATA}/signing/$name.public.jwk";
        open my $fh, '<', $file or die "$file: $!";
        my $want = JSON::PP->new->decode(do { local $/; <$fh> });
        my $out = 'keys=' . @{ $set->{keys} } . "\n";
        for my $k (@{ $set->{keys} }) {
            my @pub = grep { $_ ne 'kid' } sort keys %$want;
            my $same = !grep { ($k->{$_} // '') ne $want->{$_} } @pub;
            my @priv = grep { exists $k->{$_} } qw(d p q dp dq qi k);
            $out .= "kty=$k->{kty}"
                . ' kid=' . (($k->{kid} // '') eq thumbprint($k) ? 'thumbprint' : 'other')
                . ' key=' . ($same ? $name : 'other')
                . ' private=' . (@priv ? join(',', @priv) : 'none') . "\n";
        }
        return $out;
    };
}

run_tests();

__DATA__

=== TEST 1: the metadata at /.well-known/oauth-authorization-server: every member of the spec, exactly
--- config eval
McpOAuth::as_config(extra => 'mcp_oauth_client_metadata_request /_cimd;')
--- request
GET /.well-known/oauth-authorization-server
--- response_headers
Content-Type: application/json
Access-Control-Allow-Origin: *
--- response_body_filters eval
\&McpOAuth::json_canon
--- response_body
{
   "authorization_endpoint" : "http://127.0.0.1:$ServerPort/authorize",
   "authorization_response_iss_parameter_supported" : true,
   "client_id_metadata_document_supported" : true,
   "code_challenge_methods_supported" : [
      "S256"
   ],
   "grant_types_supported" : [
      "authorization_code",
      "refresh_token",
      "client_credentials"
   ],
   "id_token_signing_alg_values_supported" : [
      "ES256"
   ],
   "issuer" : "http://127.0.0.1:$ServerPort",
   "jwks_uri" : "http://127.0.0.1:$ServerPort/jwks",
   "registration_endpoint" : "http://127.0.0.1:$ServerPort/register",
   "response_modes_supported" : [
      "query"
   ],
   "response_types_supported" : [
      "code"
   ],
   "revocation_endpoint" : "http://127.0.0.1:$ServerPort/revoke",
   "revocation_endpoint_auth_methods_supported" : [
      "none",
      "client_secret_basic",
      "client_secret_post",
      "private_key_jwt"
   ],
   "revocation_endpoint_auth_signing_alg_values_supported" : [
      "RS256",
      "RS384",
      "RS512",
      "PS256",
      "PS384",
      "PS512",
      "ES256",
      "ES384",
      "ES512",
      "EdDSA"
   ],
   "scopes_supported" : [
      "mcp:tools",
      "read:application",
      "write:application"
   ],
   "subject_types_supported" : [
      "public"
   ],
   "token_endpoint" : "http://127.0.0.1:$ServerPort/token",
   "token_endpoint_auth_methods_supported" : [
      "none",
      "client_secret_basic",
      "client_secret_post",
      "private_key_jwt"
   ],
   "token_endpoint_auth_signing_alg_values_supported" : [
      "RS256",
      "RS384",
      "RS512",
      "PS256",
      "PS384",
      "PS512",
      "ES256",
      "ES384",
      "ES512",
      "EdDSA"
   ]
}
--- no_error_log
[error]



=== TEST 2: the same document at /.well-known/openid-configuration
--- config eval
McpOAuth::as_config()
--- request
GET /.well-known/openid-configuration
--- response_headers
Content-Type: application/json
Access-Control-Allow-Origin: *
--- response_body_filters eval
McpOAuth::pick(qw(issuer authorization_endpoint token_endpoint jwks_uri
                  subject_types_supported id_token_signing_alg_values_supported))
--- response_body
issuer: "http://127.0.0.1:$ServerPort"
authorization_endpoint: "http://127.0.0.1:$ServerPort/authorize"
token_endpoint: "http://127.0.0.1:$ServerPort/token"
jwks_uri: "http://127.0.0.1:$ServerPort/jwks"
subject_types_supported: ["public"]
id_token_signing_alg_values_supported: ["ES256"]



=== TEST 3: the document is served raw JSON, with nothing null in it
--- config eval
McpOAuth::as_config()
--- request
GET /.well-known/oauth-authorization-server
--- response_body_unlike chomp
(?:null|\A\s*[^{\s])



=== TEST 4: an issuer with a path: the endpoints are under the path, the document at the path-suffixed well-known URLs
--- config
    mcp_oauth_issuer http://127.0.0.1:$TEST_NGINX_SERVER_PORT/tenant;
    mcp_oauth_resource http://127.0.0.1:$TEST_NGINX_SERVER_PORT/mcp;
    mcp_oauth_signing_key $TEST_NGINX_DATA/signing/ec.pem;
    mcp_oauth_scopes_supported mcp:tools;

    location = /.well-known/oauth-authorization-server/tenant { mcp_oauth_server_metadata; }
    location = /.well-known/openid-configuration/tenant { mcp_oauth_server_metadata; }
    location = /tenant/.well-known/openid-configuration { mcp_oauth_server_metadata; }
    location = /tenant/authorize { mcp_oauth_authorize; }
    location = /tenant/token { mcp_oauth_token; }
    location = /tenant/register { mcp_oauth_register; }
    location = /tenant/revoke { mcp_oauth_revoke; }
    location = /tenant/jwks { mcp_oauth_jwks_publish; }
--- request eval
["GET /.well-known/oauth-authorization-server/tenant",
 "GET /.well-known/openid-configuration/tenant",
 "GET /tenant/.well-known/openid-configuration"]
--- response_body_filters eval
McpOAuth::pick(qw(issuer authorization_endpoint token_endpoint registration_endpoint
                  revocation_endpoint jwks_uri))
--- response_body eval
[(<<'_EOS_') x 3]
issuer: "http://127.0.0.1:$ServerPort/tenant"
authorization_endpoint: "http://127.0.0.1:$ServerPort/tenant/authorize"
token_endpoint: "http://127.0.0.1:$ServerPort/tenant/token"
registration_endpoint: "http://127.0.0.1:$ServerPort/tenant/register"
revocation_endpoint: "http://127.0.0.1:$ServerPort/tenant/revoke"
jwks_uri: "http://127.0.0.1:$ServerPort/tenant/jwks"
_EOS_



=== TEST 5: the issuer is the server's first mcp_oauth_issuer, verbatim; a second (trusted) issuer is not published
--- config
    mcp_oauth_issuer https://Auth.Example.com:8443;
    mcp_oauth_issuer https://other-idp.example.com;
    mcp_oauth_resource https://mcp.example.com/mcp;
    mcp_oauth_signing_key $TEST_NGINX_DATA/signing/ec.pem;
    mcp_oauth_scopes_supported mcp:tools;
    location = /.well-known/oauth-authorization-server { mcp_oauth_server_metadata; }
--- request
GET /.well-known/oauth-authorization-server
--- response_body_filters eval
McpOAuth::pick(qw(issuer authorization_endpoint jwks_uri))
--- response_body
issuer: "https://Auth.Example.com:8443"
authorization_endpoint: "https://Auth.Example.com:8443/authorize"
jwks_uri: "https://Auth.Example.com:8443/jwks"



=== TEST 6: scopes_supported is exactly mcp_oauth_scopes_supported, in its order, and nothing from the location rules
--- config
    mcp_oauth_issuer http://127.0.0.1:$TEST_NGINX_SERVER_PORT;
    mcp_oauth_resource http://127.0.0.1:$TEST_NGINX_SERVER_PORT/mcp;
    mcp_oauth_signing_key $TEST_NGINX_DATA/signing/ec.pem;
    mcp_oauth_scopes_supported write:application mcp:tools;
    location = /.well-known/oauth-authorization-server { mcp_oauth_server_metadata; }
    location /mcp {
        mcp_oauth on;
        mcp_oauth_required_scope mcp:tools admin:all;
        mcp_oauth_scope create_app read:application;
        proxy_pass http://127.0.0.1:$TEST_NGINX_SERVER_PORT/echo;
    }
--- request
GET /.well-known/oauth-authorization-server
--- response_body_filters eval
McpOAuth::pick('scopes_supported')
--- response_body
scopes_supported: ["write:application","mcp:tools"]



=== TEST 7: without mcp_oauth_scopes_supported, the scopes named by the server's mcp_oauth_required_scope and mcp_oauth_scope rules
--- config
    mcp_oauth_issuer http://127.0.0.1:$TEST_NGINX_SERVER_PORT;
    mcp_oauth_resource http://127.0.0.1:$TEST_NGINX_SERVER_PORT/mcp;
    mcp_oauth_signing_key $TEST_NGINX_DATA/signing/ec.pem;
    location = /.well-known/oauth-authorization-server { mcp_oauth_server_metadata; }
    location /mcp {
        mcp_oauth on;
        mcp_oauth_required_scope mcp:tools;
        mcp_oauth_scope create_app write:application;
        proxy_pass http://127.0.0.1:$TEST_NGINX_SERVER_PORT/echo;
    }
--- request
GET /.well-known/oauth-authorization-server
--- response_body_filters eval
McpOAuth::pick('scopes_supported')
--- response_body_like chomp
\Ascopes_supported: \[(?:"mcp:tools","write:application"|"write:application","mcp:tools")\]\n\z



=== TEST 8: an RSA signing key: RS256 is the alg
--- config eval
McpOAuth::as_config(key => 'rsa')
--- request
GET /.well-known/openid-configuration
--- response_body_filters eval
McpOAuth::pick('id_token_signing_alg_values_supported')
--- response_body
id_token_signing_alg_values_supported: ["RS256"]



=== TEST 9: an Ed25519 signing key: EdDSA is the alg
--- config eval
McpOAuth::as_config(key => 'ed25519')
--- request
GET /.well-known/openid-configuration
--- response_body_filters eval
McpOAuth::pick('id_token_signing_alg_values_supported')
--- response_body
id_token_signing_alg_values_supported: ["EdDSA"]



=== TEST 10: CORS preflight: 204 with Access-Control-Allow-Origin on metadata, token, register, revoke and jwks
--- config eval
McpOAuth::as_config()
--- request eval
["OPTIONS /.well-known/oauth-authorization-server",
 "OPTIONS /token", "OPTIONS /register", "OPTIONS /revoke", "OPTIONS /jwks"]
--- more_headers
Origin: https://inspector.example.com
Access-Control-Request-Method: POST
Access-Control-Request-Headers: content-type, authorization
--- error_code eval
[204, 204, 204, 204, 204]
--- response_headers eval
[("Access-Control-Allow-Origin: *") x 5]
--- response_body eval
["", "", "", "", ""]



=== TEST 11: /authorize is a browser page, not a CORS endpoint: no preflight answer, no Access-Control-Allow-Origin
--- config eval
McpOAuth::as_config()
--- request
OPTIONS /authorize
--- more_headers
Origin: https://evil.example.com
Access-Control-Request-Method: POST
X-Test-User: alice
--- error_code_like: ^4\d\d$
--- response_headers
!Access-Control-Allow-Origin



=== TEST 12: the answers themselves carry Access-Control-Allow-Origin too (JWKS, and an error from /token)
--- config eval
McpOAuth::as_config()
--- request eval
["GET /jwks", "POST /token\ngrant_type=authorization_code&client_id=app"]
--- more_headers
Origin: https://inspector.example.com
Content-Type: application/x-www-form-urlencoded
--- error_code eval
[200, 400]
--- response_headers eval
["Access-Control-Allow-Origin: *", "Access-Control-Allow-Origin: *"]
--- no_error_log
[alert]



=== TEST 13: /jwks with an EC P-256 key: the public key, kid = its RFC 7638 thumbprint, no private member
--- config eval
McpOAuth::as_config(key => 'ec')
--- request
GET /jwks
--- response_headers_like
Content-Type: application/(?:jwk-set\+)?json
--- response_body_filters eval
main::jwks_of('ec')
--- response_body
keys=1
kty=EC kid=thumbprint key=ec private=none



=== TEST 14: /jwks with an RSA key
--- config eval
McpOAuth::as_config(key => 'rsa')
--- request
GET /jwks
--- response_body_filters eval
main::jwks_of('rsa')
--- response_body
keys=1
kty=RSA kid=thumbprint key=rsa private=none



=== TEST 15: /jwks with an Ed25519 key
--- config eval
McpOAuth::as_config(key => 'ed25519')
--- request
GET /jwks
--- response_body_filters eval
main::jwks_of('ed25519')
--- response_body
keys=1
kty=OKP kid=thumbprint key=ed25519 private=none



=== TEST 16: a signing key file that does not exist: nginx refuses the configuration
--- config
    mcp_oauth_issuer http://127.0.0.1:$TEST_NGINX_SERVER_PORT;
    mcp_oauth_signing_key $TEST_NGINX_DATA/signing/missing.pem;
    location = /token { mcp_oauth_token; }
--- must_die
--- error_log eval
qr/\[emerg\].*mcp_oauth_signing_key.*missing\.pem/



=== TEST 17: an RSA key shorter than 2048 bits is refused
--- config
    mcp_oauth_issuer http://127.0.0.1:$TEST_NGINX_SERVER_PORT;
    mcp_oauth_signing_key $TEST_NGINX_DATA/keys/rsa1024.private.pem;
    location = /token { mcp_oauth_token; }
--- must_die
--- error_log eval
qr/\[emerg\].*mcp_oauth_signing_key/



=== TEST 18: an EC key on another curve than P-256 (P-384) is refused
--- config
    mcp_oauth_issuer http://127.0.0.1:$TEST_NGINX_SERVER_PORT;
    mcp_oauth_signing_key $TEST_NGINX_DATA/keys/ec384.private.pem;
    location = /token { mcp_oauth_token; }
--- must_die
--- error_log eval
qr/\[emerg\].*mcp_oauth_signing_key/



=== TEST 19: without mcp_oauth_client_metadata_request, metadata documents are not advertised
--- config eval
McpOAuth::as_config()
--- request
GET /.well-known/oauth-authorization-server
--- response_body_unlike: client_id_metadata_document_supported
--- error_code: 200
