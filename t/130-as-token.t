# /token of the built-in authorization server
# (docs/authorization-server.md "/token"): the authorization_code grant and
# the RFC 9068 access token it returns (header and every claim, decoded
# here), which the same nginx accepts on its mcp_oauth locations; a code
# works once and its replay revokes what it gave; PKCE, redirect_uri and
# client binding of the code; client authentication (unknown client, wrong
# secret by client_secret_basic and client_secret_post: 401
# invalid_client); refresh token rotation, reuse detection (the family is
# revoked) and scope narrowing; client_credentials for confidential clients
# only; unsupported_grant_type and invalid_target.
#
# Codes and tokens are random, so almost every block is a flow
# (response_body_filters, t/lib/McpOAuth.pm "Authorization server flows"):
# one harmless request, then the flow drives register / authorize / approve /
# token / the protected /mcp with HTTP::Tiny and prints one line per step
# (McpOAuth::tok and McpOAuth::prot print a /token answer and a call to /mcp
# without random values).

use strict;
use warnings;
use lib 't/lib';
use Test::Nginx::Socket 'no_plan';
use McpOAuth qw(:DEFAULT :as);

McpOAuth::setup();
no_shuffle();
log_level('info');

my %Conf = (client_id => 'conf', client_secret => 'conf-secret-0123456789',
            redirect_uris => ['https://conf.example.com/cb']);

sub happy {
    my $g = grant(scope => 'mcp:tools read:application');
    say_('token', tok($g->{res}));
    say_('cache-control', $g->{res}{headers}{'cache-control'});
    say_('content-type', $g->{res}{headers}{'content-type'});
    say_('refresh token differs from access token', $g->{rt} ne $g->{at} ? 'yes' : 'no');
    say_('protected', prot($g->{at}));
    my $r = bearer($g->{at});
    say_('client_id passed on', $r->{content} =~ /client=\[\Q$g->{client_id}\E\]/ ? 'yes' : 'no');
}

# the access token, decoded; KEY is the signing key's fixture name
sub claims {
    my ($key, $ttl) = @_;
    my $g = grant(scope => 'mcp:tools read:application');
    my ($h, $p) = jwt_parts($g->{at});
    open my $fh, '<', "$ENV{TEST_NGINX_DATA}/signing/$key.public.jwk" or die $!;
    my $kid = JSON::PP->new->decode(do { local $/; <$fh> })->{kid};
    say_('header', "typ=$h->{typ}", "alg=$h->{alg}",
         'kid=' . (($h->{kid} // '') eq $kid ? 'thumbprint' : $h->{kid}),
         'other=' . (join(',', grep { !/^(typ|alg|kid)$/ } sort keys %$h) || 'none'));
    say_('iss', $p->{iss} eq base() ? 'issuer' : $p->{iss});
    say_('aud', (ref $p->{aud} ? JSON::PP->new->encode($p->{aud}) : $p->{aud}) eq base() . '/mcp'
                ? 'resource' : JSON::PP->new->allow_nonref->encode($p->{aud}));
    say_('sub', $p->{sub});
    say_('client_id', ($p->{client_id} // '') eq $g->{client_id} ? 'the client' : $p->{client_id});
    say_('scope', $p->{scope});
    say_('iat', abs(($p->{iat} // 0) - time) < 60 ? 'now' : $p->{iat});
    say_('exp - iat', ($p->{exp} // 0) - ($p->{iat} // 0));
    say_('expires_in', $g->{res}{json}{expires_in});
    say_('jti', defined $p->{jti} && length $p->{jti} ? 'string' : 'missing');
    say_('sid', defined $p->{sid} && length $p->{sid} ? 'string' : 'missing');
    my $g2 = grant(client => $g->{client}, scope => 'mcp:tools');
    my (undef, $p2) = jwt_parts($g2->{at});
    say_('second grant', $p2->{jti} ne $p->{jti} ? 'new jti' : 'same jti',
         $p2->{sid} ne $p->{sid} ? 'new sid' : 'same sid');
    say_('protected', prot($g->{at}));
}

sub code_replay {
    my $g = grant(scope => 'mcp:tools');
    say_('token', tok($g->{res}));
    say_('protected', prot($g->{at}));
    say_('replay', tok(redeem($g->{client}, $g->{code}, $g->{verifier},
                              redirect_uri => $g->{redirect_uri})));
    say_('first access token', prot($g->{at}));
    say_('first refresh token', tok(refresh($g->{client}, $g->{rt})));
}

# a code, not redeemed yet, for a new public client
sub fresh_code {
    my (%o) = @_;
    my $c = $o{client} // register()->{json};
    my $cid = ref $c ? $c->{client_id} : $c;
    my $cb = ref $c ? $c->{redirect_uris}[0] : 'https://app.example.com/cb';
    my ($v, $ch) = pkce();
    my $r = code_for(client_id => $cid, redirect_uri => $cb, code_challenge => $ch,
                     state => 'st', user => 'alice', scope => 'mcp:tools');
    return ($c, $r->{query}{code}, $v, $cb);
}

sub code_binding {
    my ($c, $code, $v, $cb) = fresh_code();
    say_('wrong verifier', tok(redeem($c, $code, (pkce())[0], redirect_uri => $cb)));
    ($c, $code, $v, $cb) = fresh_code();
    say_('other redirect_uri', tok(redeem($c, $code, $v, redirect_uri => 'https://client.example.com/other')));
    ($c, $code, $v, $cb) = fresh_code();
    my $other = register()->{json};
    say_('other client', tok(redeem($other, $code, $v, redirect_uri => $cb)));
    ($c, $code, $v, $cb) = fresh_code();
    say_('unknown code', tok(redeem($c, $code . 'x', $v, redirect_uri => $cb)));
    say_('right code after all that', tok(redeem($c, $code, $v, redirect_uri => $cb)));
}

sub client_auth_checks {
    my ($c, $code, $v, $cb) = fresh_code();
    say_('unknown client', tok(redeem('no-such-client', $code, $v, redirect_uri => $cb)));
    my %ac = (grant_type => 'authorization_code', code_verifier => 'x' x 43,
              redirect_uri => 'https://conf.example.com/cb');
    # static confidential client (the code is never valid: authentication comes first)
    say_('conf, wrong secret (basic)', tok(token_req(%ac, code => 'x', basic => ['conf', 'wrong'])));
    say_('conf, wrong secret (post)', tok(token_req(%ac, code => 'x', client_id => 'conf',
                                                    client_secret => 'wrong')));
    say_('conf, no secret', tok(token_req(%ac, code => 'x', client_id => 'conf')));
    ($c, $code, $v, $cb) = fresh_code(client => \%Conf);
    say_('conf, right secret (basic)', tok(redeem(\%Conf, $code, $v, redirect_uri => $cb)));
    ($c, $code, $v, $cb) = fresh_code(client => \%Conf);
    say_('conf, right secret (post)', tok(token_req(%ac, code => $code, code_verifier => $v,
        client_id => 'conf', client_secret => $Conf{client_secret})));
    # registered confidential clients
    my $b = register(token_endpoint_auth_method => 'client_secret_basic')->{json};
    say_('registered basic, wrong secret', tok(token_req(%ac, code => 'x',
        basic => [$b->{client_id}, $b->{client_secret} . 'x'])));
    ($c, $code, $v, $cb) = fresh_code(client => $b);
    say_('registered basic, right secret', tok(redeem($b, $code, $v, redirect_uri => $cb)));
    my $p = register(token_endpoint_auth_method => 'client_secret_post')->{json};
    say_('registered post, wrong secret', tok(token_req(%ac, code => 'x',
        client_id => $p->{client_id}, client_secret => 'x' . $p->{client_secret})));
    ($c, $code, $v, $cb) = fresh_code(client => $p);
    say_('registered post, right secret', tok(token_req(%ac, code => $code, code_verifier => $v,
        redirect_uri => $cb, client_id => $p->{client_id}, client_secret => $p->{client_secret})));
    say_('secret of another client', tok(token_req(grant_type => 'client_credentials',
        basic => [$b->{client_id}, $p->{client_secret}])));
}

# a request that fails client authentication is not a redemption: it must
# not use up the code (else anyone holding a stolen code can burn it)
sub failed_auth_keeps_code {
    my ($c, $code, $v, $cb) = fresh_code(client => \%Conf);
    my %ac = (grant_type => 'authorization_code', code => $code, code_verifier => $v,
              redirect_uri => $cb);
    say_('wrong secret', tok(token_req(%ac, basic => ['conf', 'wrong'])));
    say_('no secret', tok(token_req(%ac, client_id => 'conf')));
    say_('then the right secret', tok(token_req(%ac, basic => ['conf', $Conf{client_secret}])));
}

sub invalid_client_headers {
    my ($c, $code, $v, $cb) = fresh_code(client => \%Conf);
    my $r = token_req(grant_type => 'authorization_code', code => $code, code_verifier => $v,
                      redirect_uri => $cb, basic => ['conf', 'wrong']);
    say_('wrong secret (basic)', err($r), 'www-authenticate=' . ($r->{headers}{'www-authenticate'} // '(none)'));
}

sub rotation {
    my $g = grant(scope => 'mcp:tools read:application');
    my $r1 = refresh($g->{client}, $g->{rt});
    say_('refresh', tok($r1));
    my $rt1 = $r1->{json}{refresh_token} // '';
    say_('new refresh token', $rt1 ne $g->{rt} ? 'yes' : 'no');
    say_('new access token', prot($r1->{json}{access_token}));
    my $r2 = refresh($g->{client}, $rt1);
    say_('refresh again', tok($r2));
    my $rt2 = $r2->{json}{refresh_token} // '';
    say_('old refresh token reused', tok(refresh($g->{client}, $g->{rt})));
    say_('newest refresh token', tok(refresh($g->{client}, $rt2)));
    say_('newest access token', prot($r2->{json}{access_token}));
}

sub refresh_checks {
    my $g = grant(scope => 'mcp:tools read:application');
    my $n = refresh($g->{client}, $g->{rt}, scope => 'mcp:tools');
    say_('narrowed', tok($n));
    my (undef, $p) = jwt_parts($n->{json}{access_token});
    say_('claim scope', $p->{scope});
    say_('protected', prot($n->{json}{access_token}));
    say_('wider than the grant', tok(refresh($g->{client}, $n->{json}{refresh_token},
                                             scope => 'mcp:tools write:application')));
    my $g2 = grant(scope => 'mcp:tools');
    my $other = register()->{json};
    say_('refresh token of another client', tok(refresh($other, $g2->{rt})));
    say_('unknown refresh token', tok(refresh($g2->{client}, $g2->{rt} . 'x')));
    say_('other resource', tok(refresh($g2->{client}, $g2->{rt}, resource => 'https://other.example.com/mcp')));
    say_('own resource', tok(refresh($g2->{client}, $g2->{rt}, resource => base() . '/mcp')));
}

sub client_credentials {
    my $r = token_req(grant_type => 'client_credentials', basic => ['conf', 'conf-secret-0123456789']);
    say_('static confidential', tok($r));
    my (undef, $p) = jwt_parts($r->{json}{access_token});
    say_('claims', "sub=$p->{sub}", "client_id=$p->{client_id}", "scope=$p->{scope}");
    say_('protected', prot($r->{json}{access_token}));
    say_('narrower scope', tok(token_req(grant_type => 'client_credentials', scope => 'mcp:tools',
                                         basic => ['conf', 'conf-secret-0123456789'])));
    say_('scope repeated', tok(token_req(grant_type => 'client_credentials', scope => 'mcp:tools mcp:tools',
                                         basic => ['conf', 'conf-secret-0123456789'])));
    say_('scope not registered', tok(token_req(grant_type => 'client_credentials',
        scope => 'mcp:tools write:application', basic => ['conf', 'conf-secret-0123456789'])));
    say_('other resource', tok(token_req(grant_type => 'client_credentials',
        resource => 'https://other.example.com/mcp', basic => ['conf', 'conf-secret-0123456789'])));
    say_('wrong secret', tok(token_req(grant_type => 'client_credentials', basic => ['conf', 'x'])));
    my $pub = token_req(grant_type => 'client_credentials', client_id => 'app');
    say_('static public', err($pub) =~ /^(?:400 unauthorized_client|401 invalid_client)$/
                           ? 'refused' : tok($pub));
    my $dp = register()->{json};
    $pub = token_req(grant_type => 'client_credentials', client_id => $dp->{client_id});
    say_('registered public', err($pub) =~ /^(?:400 unauthorized_client|401 invalid_client)$/
                               ? 'refused' : tok($pub));
    my $dc = register(token_endpoint_auth_method => 'client_secret_basic',
                      grant_types => ['client_credentials']);
    say_('registering with client_credentials', err($dc));
    my $dn = register(token_endpoint_auth_method => 'client_secret_basic')->{json};
    say_('registered without client_credentials', tok(token_req(grant_type => 'client_credentials',
        basic => [$dn->{client_id}, $dn->{client_secret}])));
}

sub code_resource {
    my $c = register()->{json};
    my ($v, $ch) = pkce();
    my %p = (client_id => $c->{client_id}, redirect_uri => $c->{redirect_uris}[0],
             code_challenge => $ch, state => 'st', user => 'alice', scope => 'mcp:tools');
    my $code = code_for(%p, resource => base() . '/mcp')->{query}{code};
    say_('other resource at /token', tok(redeem($c, $code, $v, redirect_uri => $p{redirect_uri},
                                                 resource => 'https://other.example.com/mcp')));
    ($v, $ch) = pkce();
    $code = code_for(%p, code_challenge => $ch, resource => base() . '/mcp')->{query}{code};
    my $t = redeem($c, $code, $v, redirect_uri => $p{redirect_uri}, resource => base() . '/mcp');
    say_('same resource at /token', tok($t));
    my (undef, $pl) = jwt_parts($t->{json}{access_token});
    say_('aud', $pl->{aud} eq base() . '/mcp' ? 'resource' : $pl->{aud});
}

sub code_expiry {
    my ($c, $code, $v, $cb) = fresh_code();
    sleep 3;
    say_('after the code ttl', tok(redeem($c, $code, $v, redirect_uri => $cb)));
}

run_tests();

__DATA__

=== TEST 1: authorization_code: 200 Bearer with the granted scope and a refresh token, not cached; the token works on /mcp
--- config eval
McpOAuth::as_config()
--- request
GET /.well-known/oauth-authorization-server
--- response_body_filters eval
McpOAuth::flow(\&main::happy)
--- response_body
token 200 Bearer expires_in=3600 scope=mcp:tools read:application refresh
cache-control no-store
content-type application/json
refresh token differs from access token yes
protected 200 sub=alice scope=mcp:tools read:application
client_id passed on yes
--- no_error_log
[error]



=== TEST 2: the access token (EC key): typ at+jwt, ES256, kid the key's thumbprint; iss, aud, sub, client_id, scope, exp - iat = token ttl, jti, sid
--- config eval
McpOAuth::as_config(key => 'ec')
--- request
GET /.well-known/oauth-authorization-server
--- response_body_filters eval
McpOAuth::flow(sub { main::claims('ec') })
--- response_body
header typ=at+jwt alg=ES256 kid=thumbprint other=none
iss issuer
aud resource
sub alice
client_id the client
scope mcp:tools read:application
iat now
exp - iat 3600
expires_in 3600
jti string
sid string
second grant new jti new sid
protected 200 sub=alice scope=mcp:tools read:application



=== TEST 3: the access token with an RSA key: RS256, and the same nginx verifies it
--- config eval
McpOAuth::as_config(key => 'rsa')
--- request
GET /.well-known/oauth-authorization-server
--- response_body_filters eval
McpOAuth::flow(sub { main::claims('rsa') })
--- response_body
header typ=at+jwt alg=RS256 kid=thumbprint other=none
iss issuer
aud resource
sub alice
client_id the client
scope mcp:tools read:application
iat now
exp - iat 3600
expires_in 3600
jti string
sid string
second grant new jti new sid
protected 200 sub=alice scope=mcp:tools read:application



=== TEST 4: the access token with an Ed25519 key: EdDSA; and mcp_oauth_token_ttl sets exp and expires_in
--- config eval
McpOAuth::as_config(key => 'ed25519', extra => 'mcp_oauth_token_ttl 10m;')
--- request
GET /.well-known/oauth-authorization-server
--- response_body_filters eval
McpOAuth::flow(sub { main::claims('ed25519') })
--- response_body
header typ=at+jwt alg=EdDSA kid=thumbprint other=none
iss issuer
aud resource
sub alice
client_id the client
scope mcp:tools read:application
iat now
exp - iat 600
expires_in 600
jti string
sid string
second grant new jti new sid
protected 200 sub=alice scope=mcp:tools read:application



=== TEST 5: a code works once: the replay gets invalid_grant and revokes the tokens the code gave
--- config eval
McpOAuth::as_config()
--- request
GET /.well-known/oauth-authorization-server
--- response_body_filters eval
McpOAuth::flow(\&main::code_replay)
--- response_body
token 200 Bearer expires_in=3600 scope=mcp:tools refresh
protected 200 sub=alice scope=mcp:tools
replay 400 invalid_grant
first access token 401 invalid_token token revoked
first refresh token 400 invalid_grant



=== TEST 6: a code is bound to its PKCE verifier, redirect_uri and client: invalid_grant otherwise
--- config eval
McpOAuth::as_config()
--- request
GET /.well-known/oauth-authorization-server
--- response_body_filters eval
McpOAuth::flow(\&main::code_binding)
--- response_body
wrong verifier 400 invalid_grant
other redirect_uri 400 invalid_grant
other client 400 invalid_grant
unknown code 400 invalid_grant
right code after all that 200 Bearer expires_in=3600 scope=mcp:tools refresh



=== TEST 7: client authentication: unknown client and wrong or missing secrets (basic and post) get 401 invalid_client; right ones work
--- config eval
McpOAuth::as_config()
--- request
GET /.well-known/oauth-authorization-server
--- response_body_filters eval
McpOAuth::flow(\&main::client_auth_checks)
--- response_body
unknown client 401 invalid_client
conf, wrong secret (basic) 401 invalid_client
conf, wrong secret (post) 401 invalid_client
conf, no secret 401 invalid_client
conf, right secret (basic) 200 Bearer expires_in=3600 scope=mcp:tools refresh
conf, right secret (post) 200 Bearer expires_in=3600 scope=mcp:tools refresh
registered basic, wrong secret 401 invalid_client
registered basic, right secret 200 Bearer expires_in=3600 scope=mcp:tools refresh
registered post, wrong secret 401 invalid_client
registered post, right secret 200 Bearer expires_in=3600 scope=mcp:tools refresh
secret of another client 401 invalid_client
--- no_error_log
[alert]



=== TEST 8: a request failing client authentication does not use up the code
--- config eval
McpOAuth::as_config()
--- request
GET /.well-known/oauth-authorization-server
--- response_body_filters eval
McpOAuth::flow(\&main::failed_auth_keeps_code)
--- response_body
wrong secret 401 invalid_client
no secret 401 invalid_client
then the right secret 200 Bearer expires_in=3600 scope=mcp:tools refresh
--- no_error_log
[alert]



=== TEST 9: a wrong client_secret_basic secret: 401 with a Basic challenge (RFC 6749 5.2)
--- config eval
McpOAuth::as_config()
--- request
GET /.well-known/oauth-authorization-server
--- response_body_filters eval
McpOAuth::flow(\&main::invalid_client_headers)
--- response_body_like chomp
\Awrong secret \(basic\) 401 invalid_client www-authenticate=Basic\b.*\n\z
--- no_error_log
[alert]



=== TEST 10: refresh tokens rotate; reusing a used one gets invalid_grant and revokes the whole family
--- config eval
McpOAuth::as_config()
--- request
GET /.well-known/oauth-authorization-server
--- response_body_filters eval
McpOAuth::flow(\&main::rotation)
--- response_body
refresh 200 Bearer expires_in=3600 scope=mcp:tools read:application refresh
new refresh token yes
new access token 200 sub=alice scope=mcp:tools read:application
refresh again 200 Bearer expires_in=3600 scope=mcp:tools read:application refresh
old refresh token reused 400 invalid_grant
newest refresh token 400 invalid_grant
newest access token 401 invalid_token token revoked



=== TEST 11: refresh: a narrower scope is granted, a wider one is invalid_scope; another client's or an unknown token is invalid_grant; resource checked
--- config eval
McpOAuth::as_config()
--- request
GET /.well-known/oauth-authorization-server
--- response_body_filters eval
McpOAuth::flow(\&main::refresh_checks)
--- response_body
narrowed 200 Bearer expires_in=3600 scope=mcp:tools refresh
claim scope mcp:tools
protected 200 sub=alice scope=mcp:tools
wider than the grant 400 invalid_scope
refresh token of another client 400 invalid_grant
unknown refresh token 400 invalid_grant
other resource 400 invalid_target
own resource 200 Bearer expires_in=3600 scope=mcp:tools refresh



=== TEST 12: client_credentials: a configured confidential client gets a token for itself (no refresh token); public and registered clients are refused (self-registered ones could mint tokens without a user)
--- config eval
McpOAuth::as_config()
--- request
GET /.well-known/oauth-authorization-server
--- response_body_filters eval
McpOAuth::flow(\&main::client_credentials)
--- response_body
static confidential 200 Bearer expires_in=3600 scope=mcp:tools read:application
claims sub=conf client_id=conf scope=mcp:tools read:application
protected 200 sub=conf scope=mcp:tools read:application
narrower scope 200 Bearer expires_in=3600 scope=mcp:tools
scope repeated 200 Bearer expires_in=3600 scope=mcp:tools
scope not registered 400 invalid_scope
other resource 400 invalid_target
wrong secret 401 invalid_client
static public refused
registered public refused
registering with client_credentials 400 invalid_client_metadata
registered without client_credentials 400 unauthorized_client



=== TEST 13: the code's resource: another one at /token is invalid_target; the same one works and is the token's aud
--- config eval
McpOAuth::as_config()
--- request
GET /.well-known/oauth-authorization-server
--- response_body_filters eval
McpOAuth::flow(\&main::code_resource)
--- response_body
other resource at /token 400 invalid_target
same resource at /token 200 Bearer expires_in=3600 scope=mcp:tools refresh
aud resource



=== TEST 14: a code expires after mcp_oauth_code_ttl
--- config eval
McpOAuth::as_config(extra => 'mcp_oauth_code_ttl 1s;')
--- request
GET /.well-known/oauth-authorization-server
--- response_body_filters eval
McpOAuth::flow(\&main::code_expiry)
--- response_body
after the code ttl 400 invalid_grant
--- timeout: 10



=== TEST 15: an unknown grant_type: unsupported_grant_type; none at all: invalid_request; no client: 401 invalid_client (JSON, no-store, CORS, cleanly sent)
--- config eval
McpOAuth::as_config()
--- request eval
["POST /token\ngrant_type=password&username=alice&password=alice-pw&client_id=app",
 "POST /token\nclient_id=app&code=x",
 "POST /token\ngrant_type=authorization_code&code=x&code_verifier=y"]
--- more_headers
Content-Type: application/x-www-form-urlencoded
--- error_code eval
[400, 400, 401]
--- response_headers eval
[("Content-Type: application/json\nCache-Control: no-store\nAccess-Control-Allow-Origin: *") x 3]
--- response_body_filters eval
McpOAuth::pick('error')
--- response_body eval
["error: \"unsupported_grant_type\"\n", "error: \"invalid_request\"\n",
 "error: \"invalid_client\"\n"]
--- no_error_log
[alert]



=== TEST 16: a token request that is not a form POST is refused
--- config eval
McpOAuth::as_config()
--- request eval
["POST /token\n{\"grant_type\":\"client_credentials\",\"client_id\":\"conf\",\"client_secret\":\"conf-secret-0123456789\"}",
 "GET /token?grant_type=client_credentials&client_id=conf&client_secret=conf-secret-0123456789"]
--- more_headers eval
["Content-Type: application/json", ""]
--- error_code_like eval
["^4\\d\\d\$", "^4\\d\\d\$"]
--- response_body_unlike eval
["access_token", "access_token"]
