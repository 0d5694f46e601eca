# JWT assertions at the built-in authorization server (docs/authorization-
# server.md "Enterprise-Managed Authorization" and "private_key_jwt"):
# the jwt-bearer grant (RFC 7523 §2.1) with an identity provider's ID-JAG
# (mcp_oauth_trusted_idp, draft-ietf-oauth-identity-assertion-authz-grant),
# and private_key_jwt client authentication (RFC 7523 §2.2) at /token and
# /revoke, for static (mcp_oauth_client ... jwks=) and registered clients.
# Every rejection has its case: a replayed jti (also with the state in
# Redis: TEST_NGINX_STATE=redis), another resource, another client, an
# unknown IdP, typ JWT, a bad signature, an alg the key does not allow,
# expired, no jti / iat / exp, a lifetime too long, a scope beyond the
# IdP's allowance; for client assertions a wrong aud, iss != sub, an
# unknown key, a replay.
#
# Assertions are minted at test time (t/data/mint.mjs): the IdP
# https://idp.example.com signs with rsa1 (its keys: jwks/main.json), the
# IdP https://idp2.example.com with rsa2 (fetched through /_idp2_jwks), the
# static client "robot" with ec256 (its keys: jwks/main.json).

use strict;
use warnings;
use lib 't/lib';
use Test::Nginx::Socket 'no_plan';
use McpOAuth qw(:DEFAULT :as);

McpOAuth::setup();
no_shuffle();
log_level('info');

my $JB = 'urn:ietf:params:oauth:grant-type:jwt-bearer';
my $CAT = 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer';
my @CONF = (basic => ['conf', 'conf-secret-0123456789']);
my $N = 0;

sub enc { JSON::PP->new->canonical->encode($_[0]) }
sub jti { "j-$$-" . ++$N . '-' . time }

# an ID-JAG: CLAIMS over the defaults (undef deletes), HEADER over typ
sub jag {
    my (%o) = @_;
    my %c = (iss => 'https://idp.example.com', sub => 'u-42', aud => base(),
             resource => base() . '/mcp', client_id => 'conf', jti => jti(),
             scope => 'mcp:tools');
    my %x = (%c, %{ $o{claims} // {} });
    return mint(key => $o{key} // 'rsa1', 'exp-in' => $o{exp} // 300,
                claims => enc(\%x),
                header => enc({ typ => 'oauth-id-jag+jwt', %{ $o{header} // {} } }),
                $o{alg} ? (alg => $o{alg}) : ());
}

# the jwt-bearer grant, the client "conf" authenticated (client_secret_basic)
sub jb {
    my ($a, %f) = @_;
    return token_req(grant_type => $JB, assertion => $a, @CONF, %f);
}

# a client assertion of "robot" (or CLAIMS' iss/sub), signed with ec256
sub cas {
    my (%o) = @_;
    my %c = (iss => 'robot', sub => 'robot', aud => base(), jti => jti(),
             client_id => undef, scope => undef);
    my %x = (%c, %{ $o{claims} // {} });
    return mint(key => $o{key} // 'ec256', 'exp-in' => $o{exp} // 120,
                claims => enc(\%x), $o{header} ? (header => enc($o{header})) : ());
}

sub cc {
    my ($a, %f) = @_;
    return token_req(grant_type => 'client_credentials', client_assertion_type => $CAT,
                     client_assertion => $a, %f);
}

sub config {
    my (%o) = @_;
    return McpOAuth::as_config(extra => join "\n    ",
        'mcp_oauth_trusted_idp https://idp.example.com jwks=$TEST_NGINX_DATA/jwks/main.json clients=conf,robot "scope=mcp:tools read:application" subject_prefix=idp1|;',
        'mcp_oauth_trusted_idp https://idp2.example.com jwks_request=/_idp2_jwks clients=* subject_prefix=idp2| refresh=on;',
        'mcp_oauth_client robot jwks=$TEST_NGINX_DATA/jwks/main.json "scope=mcp:tools read:application";',
        'location = /_idp2_jwks { internal; log_subrequest on; access_log logs/idp2.log; default_type application/json; alias $TEST_NGINX_DATA/jwks/rsa2.json; }',
        $o{extra} // ());
}

sub fetches {
    no warnings 'once';
    my $root = $Test::Nginx::Util::ServRoot // $ENV{TEST_NGINX_SERVER_ROOT}
               // $ENV{TEST_NGINX_SERVROOT} // 't/servroot';
    open my $fh, '<', "$root/logs/idp2.log" or return 0;
    my @l = <$fh>;
    return scalar @l;
}

sub metadata {
    my $m = req(GET => '/.well-known/oauth-authorization-server')->{json};
    say_('grant types', join ',', @{ $m->{grant_types_supported} });
    say_('auth methods', join ',', @{ $m->{token_endpoint_auth_methods_supported} });
    say_('revoke auth methods', join ',', @{ $m->{revocation_endpoint_auth_methods_supported} });
    say_('signing algs', join ',', @{ $m->{token_endpoint_auth_signing_alg_values_supported} });
}

sub happy {
    my $a = jag();
    my $t = jb($a);
    say_('token', tok($t));
    my (undef, $p) = jwt_parts($t->{json}{access_token});
    say_('iss', $p->{iss} eq base() ? 'issuer' : $p->{iss});
    say_('aud', $p->{aud} eq base() . '/mcp' ? 'resource' : $p->{aud});
    say_('sub', $p->{sub}, 'client_id', $p->{client_id});
    say_('protected', prot($t->{json}{access_token}));
    say_('replay', tok(jb($a)));
    say_('narrower scope', tok(jb(jag(claims => { scope => 'mcp:tools read:application' }),
                                  scope => 'read:application')));
    say_('no scope in the assertion', tok(jb(jag(claims => { scope => undef }))));
    say_('resource given, the same', tok(jb(jag(), resource => base() . '/mcp')));
}

sub rejections {
    my $b = base();
    say_('another resource', tok(jb(jag(claims => { resource => 'https://other.example.com/mcp' }))));
    say_('no resource', tok(jb(jag(claims => { resource => undef }))));
    say_('another client', tok(jb(jag(claims => { client_id => 'robot' }))));
    say_('unknown IdP', tok(jb(jag(claims => { iss => 'https://evil.example.com' }))));
    say_('typ JWT', tok(jb(jag(header => { typ => 'JWT' }))));
    say_('no typ', tok(jb(jag(header => { typ => undef }))));
    say_('bad signature', tok(jb(jag(key => 'rsa2', header => { kid => 'rsa-1' }))));
    say_('alg not allowed for the key', tok(jb(jag(key => 'rsa-rs-only', alg => 'PS256'))));
    say_('HS256 with the public key', tok(jb(jag(alg => 'HS256'))));
    say_('expired', tok(jb(jag(exp => -120))));
    say_('no exp', tok(jb(jag(exp => 'none'))));
    say_('no iat', tok(jb(jag(claims => { iat => undef }))));
    say_('no jti', tok(jb(jag(claims => { jti => undef }))));
    say_('exp an hour away', tok(jb(jag(exp => 3600))));
    say_('aud the resource', tok(jb(jag(claims => { aud => "$b/mcp" }))));
    say_('no sub', tok(jb(jag(claims => { sub => undef }))));
    say_('scope beyond the IdP', tok(jb(jag(claims => { scope => 'mcp:tools write:application' }))));
    say_('scope wider than the assertion', tok(jb(jag(), scope => 'mcp:tools read:application')));
    say_('resource not the assertion', tok(jb(jag(), resource => "$b/other")));
    say_('no assertion', tok(token_req(grant_type => $JB, @CONF)));
    say_('wrong secret', tok(token_req(grant_type => $JB, assertion => jag(),
                                       basic => ['conf', 'wrong'])));
    say_('public client', tok(token_req(grant_type => $JB, client_id => 'app',
                                        assertion => jag(claims => { client_id => 'app' }))));
    my $reg = register(token_endpoint_auth_method => 'client_secret_basic')->{json};
    say_('a client the IdP may not name', tok(token_req(grant_type => $JB,
        basic => [$reg->{client_id}, $reg->{client_secret}],
        assertion => jag(claims => { client_id => $reg->{client_id} }))));
    say_('an ID-JAG as an access token', prot(jag()));
    say_('still fine', tok(jb(jag())));
}

sub fetched_idp {
    my $jag2 = sub { jag(key => 'rsa2', claims => { iss => 'https://idp2.example.com', sub => 'u-7', @_ }) };
    my $t = jb($jag2->());
    say_('idp2', tok($t));
    my (undef, $p) = jwt_parts($t->{json}{access_token});
    say_('sub', $p->{sub});
    say_('again', tok(jb($jag2->())));
    say_('keys fetched', fetches());
    say_('the refresh token', tok(refresh({ client_id => 'conf', client_secret => 'conf-secret-0123456789' },
                                          $t->{json}{refresh_token})));
    say_('signed with the other IdP key', tok(jb(jag(key => 'rsa1', claims => { iss => 'https://idp2.example.com' }))));
}

sub pkjwt {
    my $a = cas();
    my $t = cc($a);
    say_('client_credentials', tok($t));
    say_('protected', prot($t->{json}{access_token}));
    say_('replay', tok(cc($a)));
    say_('aud the token endpoint', tok(cc(cas(claims => { aud => base() . '/token' }))));
    say_('with client_id', tok(cc(cas(), client_id => 'robot')));
    say_('another client_id', tok(cc(cas(), client_id => 'conf')));
    say_('wrong aud', tok(cc(cas(claims => { aud => 'https://other.example.com' }))));
    say_('iss not sub', tok(cc(cas(claims => { iss => 'conf' }))));
    say_('unknown key', tok(cc(cas(key => 'rsa2'))));
    say_('expired', tok(cc(cas(exp => -120))));
    say_('an hour long', tok(cc(cas(exp => 3600))));
    say_('no jti', tok(cc(cas(claims => { jti => undef }))));
    say_('typ oauth-id-jag+jwt', tok(cc(cas(header => { typ => 'oauth-id-jag+jwt' }))));
    say_('unknown assertion type', tok(token_req(grant_type => 'client_credentials',
        client_assertion_type => 'urn:x', client_assertion => cas())));
    say_('with a secret too', tok(cc(cas(), client_secret => 'conf-secret-0123456789')));
    say_('a secret for robot', tok(token_req(grant_type => 'client_credentials',
                                            basic => ['robot', 'whatever-secret-0123'])));
    say_('conf by assertion', tok(cc(cas(claims => { iss => 'conf', sub => 'conf' }))));
    # /revoke with private_key_jwt
    my $t2 = cc(cas());
    my $r = req(POST => '/revoke', form => { token => $t2->{json}{access_token},
        client_assertion_type => $CAT, client_assertion => cas() });
    say_('revoke', $r->{status});
    say_('revoked token', prot($t2->{json}{access_token}));
    $r = req(POST => '/revoke', form => { token => $t->{json}{access_token},
        client_assertion_type => $CAT, client_assertion => $a });
    say_('revoke with a used assertion', err($r));
    # the ID-JAG of a private_key_jwt client
    $t = token_req(grant_type => $JB, client_assertion_type => $CAT, client_assertion => cas(),
                   assertion => jag(claims => { client_id => 'robot', sub => 'u-9' }));
    say_('jwt-bearer, private_key_jwt', tok($t));
    say_('protected', prot($t->{json}{access_token}));
}

sub registered {
    open my $fh, '<', "$ENV{TEST_NGINX_DATA}/keys/ec256.public.jwk" or die $!;
    my $jwk = JSON::PP->new->decode(do { local $/; <$fh> });
    my $r = register(token_endpoint_auth_method => 'private_key_jwt', jwks => { keys => [$jwk] });
    say_('register', $r->{status}, 'method', $r->{json}{token_endpoint_auth_method},
         'secret', defined $r->{json}{client_secret} ? 'yes' : 'no',
         'jwks', ref $r->{json}{jwks} eq 'HASH' ? 'yes' : 'no');
    my $id = $r->{json}{client_id};
    my $t = token_req(grant_type => $JB, client_assertion_type => $CAT,
                      client_assertion => cas(claims => { iss => $id, sub => $id }),
                      assertion => jag(key => 'rsa2', claims => { iss => 'https://idp2.example.com', client_id => $id }));
    say_('jwt-bearer', tok($t));
    say_('protected', prot($t->{json}{access_token}));
    say_('wrong key', tok(token_req(grant_type => $JB, client_assertion_type => $CAT,
        client_assertion => cas(key => 'rsa1', claims => { iss => $id, sub => $id }),
        assertion => jag(key => 'rsa2', claims => { iss => 'https://idp2.example.com', client_id => $id }))));
    say_('client_credentials', tok(cc(cas(claims => { iss => $id, sub => $id }))));
    say_('no keys', err(register(token_endpoint_auth_method => 'private_key_jwt')));
    say_('both', err(register(token_endpoint_auth_method => 'private_key_jwt',
                              jwks => { keys => [$jwk] }, jwks_uri => 'https://app.example.com/jwks')));
    say_('a shared secret', err(register(token_endpoint_auth_method => 'private_key_jwt',
                                         jwks => { keys => [{ kty => 'oct', k => 'c2VjcmV0c2VjcmV0c2VjcmV0' }] })));
    say_('jwks_uri without metadata fetches', err(register(token_endpoint_auth_method => 'private_key_jwt',
                                                           jwks_uri => 'https://app.example.com/jwks')));
}

# a metadata document client (ChatGPT's way: "none" and "private_key_jwt"),
# its document and its jwks_uri fetched through /_cimd (the map is volatile:
# subrequests share the variables of their request, and here two ask)
my $DOC = 'https://app.example/oauth/client.json';
my $DOC_JWKS = 'https://app.example/oauth/jwks.json';

sub cimd_extra {
    return join "\n    ",
        'mcp_oauth_client_metadata_request /_cimd;',
        'location = /_cimd { internal; log_subrequest on; access_log logs/cimd.log; '
        . 'if ($cimd_doc = "") { return 404; } default_type application/json; return 200 $cimd_doc; }';
}

sub document {
    my $cb = 'https://app.example/cb';
    my $doc = sub { cas(claims => { iss => $DOC, sub => $DOC, @_ }) };
    my $ja = sub { jag(key => 'rsa2', claims => { iss => 'https://idp2.example.com', client_id => $DOC, @_ }) };
    my $t = token_req(grant_type => $JB, client_assertion_type => $CAT,
                      client_assertion => $doc->(), assertion => $ja->());
    say_('jwt-bearer, private_key_jwt', tok($t));
    say_('protected', prot($t->{json}{access_token}));
    say_('again, keys cached', tok(token_req(grant_type => $JB, client_assertion_type => $CAT,
        client_assertion => $doc->(), assertion => $ja->())));
    say_('another key', tok(token_req(grant_type => $JB, client_assertion_type => $CAT,
        client_assertion => cas(key => 'rsa1', claims => { iss => $DOC, sub => $DOC }),
        assertion => $ja->())));
    say_('as a public client', tok(token_req(grant_type => $JB, client_id => $DOC, assertion => $ja->())));
}

run_tests();

__DATA__

=== TEST 1: the metadata advertises the jwt-bearer grant and private_key_jwt
--- config eval
main::config()
--- request
GET /.well-known/oauth-authorization-server
--- response_body_filters eval
McpOAuth::flow(\&main::metadata)
--- response_body
grant types authorization_code,refresh_token,urn:ietf:params:oauth:grant-type:jwt-bearer,client_credentials
auth methods none,client_secret_basic,client_secret_post,private_key_jwt
revoke auth methods none,client_secret_basic,client_secret_post,private_key_jwt
signing algs RS256,RS384,RS512,PS256,PS384,PS512,ES256,ES384,ES512,EdDSA
--- no_error_log
[error]



=== TEST 2: an ID-JAG of a trusted IdP: our access token for its user (sub mapped), no refresh token; once only
--- config eval
main::config()
--- request
GET /.well-known/oauth-authorization-server
--- response_body_filters eval
McpOAuth::flow(\&main::happy)
--- response_body
token 200 Bearer expires_in=3600 scope=mcp:tools
iss issuer
aud resource
sub idp1|u-42 client_id conf
protected 200 sub=idp1|u-42 scope=mcp:tools
replay 400 invalid_grant
narrower scope 200 Bearer expires_in=3600 scope=read:application
no scope in the assertion 200 Bearer expires_in=3600 scope=mcp:tools read:application
resource given, the same 200 Bearer expires_in=3600 scope=mcp:tools
--- error_log
id_jag of "https://idp.example.com" presented again (jti)



=== TEST 3: every ID-JAG that is not one for us is refused, with its reason
--- config eval
main::config()
--- request
GET /.well-known/oauth-authorization-server
--- response_body_filters eval
McpOAuth::flow(\&main::rejections)
--- response_body
another resource 400 invalid_grant
no resource 400 invalid_grant
another client 400 invalid_grant
unknown IdP 400 invalid_grant
typ JWT 400 invalid_grant
no typ 400 invalid_grant
bad signature 400 invalid_grant
alg not allowed for the key 400 invalid_grant
HS256 with the public key 400 invalid_grant
expired 400 invalid_grant
no exp 400 invalid_grant
no iat 400 invalid_grant
no jti 400 invalid_grant
exp an hour away 400 invalid_grant
aud the resource 400 invalid_grant
no sub 400 invalid_grant
scope beyond the IdP 400 invalid_scope
scope wider than the assertion 400 invalid_scope
resource not the assertion 400 invalid_target
no assertion 400 invalid_request
wrong secret 401 invalid_client
public client 400 unauthorized_client
a client the IdP may not name 400 invalid_grant
an ID-JAG as an access token 401 invalid_token unexpected typ in token header
still fine 200 Bearer expires_in=3600 scope=mcp:tools
--- error_log eval
[qr/invalid_grant: the assertion is not for a resource of this server/,
 qr/invalid_grant: the assertion was issued to another client/,
 qr/invalid_grant: the issuer is not a trusted identity provider/,
 qr/invalid_grant: unexpected typ in token header/,
 qr/invalid_grant: signature verification failed/,
 qr/invalid_grant: alg not allowed for the key/,
 qr/invalid_grant: token expired/,
 qr/invalid_grant: token has no exp/,
 qr/invalid_grant: iat and jti are required/,
 qr/invalid_grant: exp is more than 10 minutes away/,
 qr/invalid_grant: aud is not this authorization server/,
 qr/invalid_grant: the identity provider may not name this client/]



=== TEST 4: an IdP's keys fetched through jwks_request, cached; its grants come with a refresh token (refresh=on)
--- config eval
main::config()
--- request
GET /.well-known/oauth-authorization-server
--- response_body_filters eval
McpOAuth::flow(\&main::fetched_idp)
--- response_body
idp2 200 Bearer expires_in=3600 scope=mcp:tools refresh
sub idp2|u-7
again 200 Bearer expires_in=3600 scope=mcp:tools refresh
keys fetched 1
the refresh token 200 Bearer expires_in=3600 scope=mcp:tools refresh
signed with the other IdP key 400 invalid_grant
--- no_error_log
[error]



=== TEST 5: private_key_jwt: a static client's assertion at /token and /revoke; iss = sub, aud, short exp, jti once, its key only
--- config eval
main::config()
--- request
GET /.well-known/oauth-authorization-server
--- response_body_filters eval
McpOAuth::flow(\&main::pkjwt)
--- response_body
client_credentials 200 Bearer expires_in=3600 scope=mcp:tools read:application
protected 200 sub=robot scope=mcp:tools read:application
replay 401 invalid_client
aud the token endpoint 200 Bearer expires_in=3600 scope=mcp:tools read:application
with client_id 200 Bearer expires_in=3600 scope=mcp:tools read:application
another client_id 401 invalid_client
wrong aud 401 invalid_client
iss not sub 401 invalid_client
unknown key 401 invalid_client
expired 401 invalid_client
an hour long 401 invalid_client
no jti 401 invalid_client
typ oauth-id-jag+jwt 401 invalid_client
unknown assertion type 401 invalid_client
with a secret too 401 invalid_client
a secret for robot 401 invalid_client
conf by assertion 401 invalid_client
revoke 200
revoked token 401 invalid_token token revoked
revoke with a used assertion 401 invalid_client
jwt-bearer, private_key_jwt 200 Bearer expires_in=3600 scope=mcp:tools
protected 200 sub=idp1|u-9 scope=mcp:tools
--- error_log eval
[qr/client assertion of "robot" refused: aud is not this authorization server/,
 qr/client assertion of "robot" refused: iss and sub must be the client id/,
 qr/client assertion of "robot" refused: unknown kid/,
 qr/client assertion of "robot" refused: exp is more than 10 minutes away/,
 qr/client_assertion of "robot" presented again \(jti\)/,
 qr/client assertion of "conf" refused: the client does not authenticate with private_key_jwt/]



=== TEST 6: a registered private_key_jwt client (RFC 7591 jwks): its keys in its client id; no secret
--- config eval
main::config()
--- request
GET /.well-known/oauth-authorization-server
--- response_body_filters eval
McpOAuth::flow(\&main::registered)
--- response_body
register 201 method private_key_jwt secret no jwks yes
jwt-bearer 200 Bearer expires_in=3600 scope=mcp:tools refresh
protected 200 sub=idp2|u-42 scope=mcp:tools
wrong key 401 invalid_client
client_credentials 400 unauthorized_client
no keys 400 invalid_client_metadata
both 400 invalid_client_metadata
a shared secret 400 invalid_client_metadata
jwks_uri without metadata fetches 400 invalid_client_metadata
--- no_error_log
[error]



=== TEST 7: mcp_oauth_trusted_idp needs clients=
--- config
mcp_oauth_trusted_idp https://idp.example.com jwks=$TEST_NGINX_DATA/jwks/rsa1.json;
--- must_die
--- error_log eval
qr/\[emerg\] .*"mcp_oauth_trusted_idp" directive needs clients=ID\[,ID\.\.\.\], or clients=\* for any client/



=== TEST 8: mcp_oauth_trusted_idp needs keys
--- config
mcp_oauth_trusted_idp https://idp.example.com clients=*;
--- must_die
--- error_log eval
qr/\[emerg\] .*"mcp_oauth_trusted_idp" directive needs either jwks=PATH or jwks_request=URI/



=== TEST 9: two IdPs with the same subject_prefix are refused (their users would collide)
--- config eval
McpOAuth::as_config(extra => 'mcp_oauth_trusted_idp https://a.example.com jwks=$TEST_NGINX_DATA/jwks/rsa1.json clients=*; mcp_oauth_trusted_idp https://b.example.com jwks=$TEST_NGINX_DATA/jwks/rsa2.json clients=*;')
--- must_die
--- error_log eval
qr/\[emerg\] .*"mcp_oauth_trusted_idp" https:\/\/a\.example\.com and https:\/\/b\.example\.com have the same subject_prefix/



=== TEST 10: an IdP's scope= must be one the server grants; a symmetric key is not an IdP's
--- config eval
McpOAuth::as_config(extra => 'mcp_oauth_trusted_idp https://a.example.com jwks=$TEST_NGINX_DATA/jwks/rsa1.json clients=* scope=admin;')
--- must_die
--- error_log eval
qr/\[emerg\] .*"mcp_oauth_trusted_idp" https:\/\/a\.example\.com: scope= names a scope the server does not grant/



=== TEST 11: an IdP's JWK Set with only a shared secret is refused
--- config
mcp_oauth_trusted_idp https://idp.example.com jwks=$TEST_NGINX_DATA/jwks/oct.json clients=*;
--- must_die
--- error_log eval
qr/\[emerg\] .*"mcp_oauth_trusted_idp": invalid JWKS file/



=== TEST 12: a metadata document client with "none" and "private_key_jwt": its jwks_uri fetched through the metadata location, its assertion verified
--- http_config
map $mcp_oauth_client_metadata_url $cimd_doc {
    volatile;
    default "";
    "https://app.example/oauth/client.json" '{"client_id":"https://app.example/oauth/client.json","client_name":"Doc App","redirect_uris":["https://app.example/cb"],"token_endpoint_auth_methods_supported":["none","private_key_jwt"],"jwks_uri":"https://app.example/oauth/jwks.json"}';
    "https://app.example/oauth/jwks.json" '{"keys":[{"kty":"EC","kid":"ec-256","use":"sig","crv":"P-256","x":"un9bwAT8waiQtxv7abVsTytbPoiKyiZq7uiFCGN-_qw","y":"7Hr3u6Z2tIw2ElMRd3fLZe9Sv5HvixtTVyb7WX9egs4"}]}';
}
--- config eval
main::config(extra => main::cimd_extra())
--- request
GET /.well-known/oauth-authorization-server
--- response_body_filters eval
McpOAuth::flow(\&main::document)
--- response_body
jwt-bearer, private_key_jwt 200 Bearer expires_in=3600 scope=mcp:tools refresh
protected 200 sub=idp2|u-42 scope=mcp:tools
again, keys cached 200 Bearer expires_in=3600 scope=mcp:tools refresh
another key 401 invalid_client
as a public client 400 unauthorized_client
--- no_error_log
[error]



=== TEST 13: a static client with both a secret and keys is refused (one way to authenticate)
--- config eval
McpOAuth::as_config(extra => 'mcp_oauth_client both secret=both-secret-0123456789 jwks=$TEST_NGINX_DATA/jwks/main.json;')
--- must_die
--- error_log eval
qr/\[emerg\] .*"mcp_oauth_client": client "both" has both a secret and keys: one way to authenticate/
