# /revoke of the built-in authorization server (RFC 7009,
# docs/authorization-server.md "/revoke"): revoking a refresh token or an
# access token revokes the grant it belongs to (its refresh token family and
# the access tokens issued in it; this nginx then answers
# 401 invalid_token "token revoked" on its mcp_oauth locations); other
# grants are untouched; unknown tokens get 200 (RFC 7009 2.2); a client
# cannot revoke another client's tokens; clients authenticate as at /token.
#
# Flows (response_body_filters, t/lib/McpOAuth.pm "Authorization server
# flows") print one line per step; McpOAuth::tok prints a /token answer,
# McpOAuth::prot a call to the protected /mcp.

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

sub revoke_refresh {
    my $g = grant(scope => 'mcp:tools');
    my $other = grant(client => $g->{client}, scope => 'mcp:tools read:application');
    say_('access token before', prot($g->{at}));
    my $r = revoke($g->{client}, $g->{rt}, token_type_hint => 'refresh_token');
    say_('revoke refresh token', $r->{status}, 'body=' . ($r->{content} eq '' ? 'empty' : $r->{content}));
    say_('refresh', tok(refresh($g->{client}, $g->{rt})));
    say_('access token of the grant', prot($g->{at}));
    say_('another grant, access', prot($other->{at}));
    say_('another grant, refresh', tok(refresh($other->{client}, $other->{rt})));
}

sub revoke_access {
    my $g = grant(scope => 'mcp:tools');
    my $r1 = refresh($g->{client}, $g->{rt});
    say_('rotated', tok($r1));
    my $r = revoke($g->{client}, $g->{at}, token_type_hint => 'access_token');
    say_('revoke first access token', $r->{status});
    say_('first access token', prot($g->{at}));
    say_('access token from the rotation', prot($r1->{json}{access_token}));
    say_('current refresh token', tok(refresh($g->{client}, $r1->{json}{refresh_token})));
}

# a wrong token_type_hint does not stop the revocation
sub wrong_hint {
    my $g = grant(scope => 'mcp:tools');
    say_('revoke access token hinted as refresh_token',
         revoke($g->{client}, $g->{at}, token_type_hint => 'refresh_token')->{status});
    say_('access token', prot($g->{at}));
    my $g2 = grant(scope => 'mcp:tools');
    say_('revoke refresh token hinted as access_token',
         revoke($g2->{client}, $g2->{rt}, token_type_hint => 'access_token')->{status});
    say_('refresh', tok(refresh($g2->{client}, $g2->{rt})));
}

sub unknown_tokens {
    my $c = register()->{json};
    say_('unknown opaque token', revoke($c, 'no-such-token')->{status});
    say_('unknown JWT', revoke($c, McpOAuth::token('rs256'))->{status});
    my $g = grant(scope => 'mcp:tools');
    say_('revoked twice', revoke($g->{client}, $g->{rt})->{status},
         revoke($g->{client}, $g->{rt})->{status});
}

# a client cannot revoke what another client holds
sub other_client {
    my $g = grant(scope => 'mcp:tools');
    my $mallory = register()->{json};
    my $r = revoke($mallory, $g->{rt});
    say_('revoke by another client', $r->{status} =~ /^(?:200|400|401|403)$/ ? 'answered' : $r->{status});
    $r = revoke($mallory, $g->{at});
    say_('revoke access token by another client', $r->{status} =~ /^(?:200|400|401|403)$/ ? 'answered' : $r->{status});
    say_('access token', prot($g->{at}));
    say_('refresh token', tok(refresh($g->{client}, $g->{rt})));
}

sub confidential {
    my $g = grant(client => \%Conf, scope => 'mcp:tools');
    say_('wrong secret', err(revoke(undef, $g->{rt}, basic => ['conf', 'wrong'])));
    say_('no secret', err(revoke('conf', $g->{rt})));
    say_('refresh still works', tok(refresh(\%Conf, $g->{rt})) =~ /^200 / ? 'yes' : 'no');
    my $g2 = grant(client => \%Conf, scope => 'mcp:tools');
    say_('client_secret_post', revoke(undef, $g2->{at}, client_id => 'conf',
                                      client_secret => 'conf-secret-0123456789')->{status});
    say_('access token', prot($g2->{at}));
    my $cc = token_req(grant_type => 'client_credentials', basic => ['conf', 'conf-secret-0123456789']);
    say_('client_credentials token', prot($cc->{json}{access_token}));
    say_('revoke it', revoke(\%Conf, $cc->{json}{access_token})->{status});
    say_('client_credentials token', prot($cc->{json}{access_token}));
}

run_tests();

__DATA__

=== TEST 1: revoking a refresh token: 200, the refresh token and the grant's access token stop working, another grant does not
--- config eval
McpOAuth::as_config()
--- request
GET /.well-known/oauth-authorization-server
--- response_body_filters eval
McpOAuth::flow(\&main::revoke_refresh)
--- response_body
access token before 200 sub=alice scope=mcp:tools
revoke refresh token 200 body=empty
refresh 400 invalid_grant
access token of the grant 401 invalid_token token revoked
another grant, access 200 sub=alice scope=mcp:tools read:application
another grant, refresh 200 Bearer expires_in=3600 scope=mcp:tools read:application refresh
--- no_error_log
[error]



=== TEST 2: revoking an access token: the protected location answers 401 invalid_token "token revoked", for every access token of the grant; its refresh token fails
--- config eval
McpOAuth::as_config()
--- request
GET /.well-known/oauth-authorization-server
--- response_body_filters eval
McpOAuth::flow(\&main::revoke_access)
--- response_body
rotated 200 Bearer expires_in=3600 scope=mcp:tools refresh
revoke first access token 200
first access token 401 invalid_token token revoked
access token from the rotation 401 invalid_token token revoked
current refresh token 400 invalid_grant
--- error_log
mcp_oauth: token revoked



=== TEST 3: a wrong token_type_hint does not prevent the revocation
--- config eval
McpOAuth::as_config()
--- request
GET /.well-known/oauth-authorization-server
--- response_body_filters eval
McpOAuth::flow(\&main::wrong_hint)
--- response_body
revoke access token hinted as refresh_token 200
access token 401 invalid_token token revoked
revoke refresh token hinted as access_token 200
refresh 400 invalid_grant



=== TEST 4: unknown tokens (opaque, a JWT of another issuer) and a second revocation: 200 (RFC 7009 2.2)
--- config eval
McpOAuth::as_config()
--- request
GET /.well-known/oauth-authorization-server
--- response_body_filters eval
McpOAuth::flow(\&main::unknown_tokens)
--- response_body
unknown opaque token 200
unknown JWT 200
revoked twice 200 200



=== TEST 5: a client cannot revoke another client's tokens
--- config eval
McpOAuth::as_config()
--- request
GET /.well-known/oauth-authorization-server
--- response_body_filters eval
McpOAuth::flow(\&main::other_client)
--- response_body
revoke by another client answered
revoke access token by another client answered
access token 200 sub=alice scope=mcp:tools
refresh token 200 Bearer expires_in=3600 scope=mcp:tools refresh



=== TEST 6: a confidential client authenticates at /revoke: wrong or no secret 401 invalid_client (nothing revoked); client_secret_post works; a client_credentials token can be revoked
--- config eval
McpOAuth::as_config()
--- request
GET /.well-known/oauth-authorization-server
--- response_body_filters eval
McpOAuth::flow(\&main::confidential)
--- response_body
wrong secret 401 invalid_client
no secret 401 invalid_client
refresh still works yes
client_secret_post 200
access token 401 invalid_token token revoked
client_credentials token 200 sub=conf scope=mcp:tools read:application
revoke it 200
client_credentials token 401 invalid_token token revoked
--- no_error_log
[alert]



=== TEST 7: a revocation request without a token: 400 invalid_request
--- config eval
McpOAuth::as_config()
--- request
POST /revoke
client_id=app
--- more_headers
Content-Type: application/x-www-form-urlencoded
--- error_code: 400
--- response_headers
Access-Control-Allow-Origin: *
--- response_body_filters eval
McpOAuth::pick('error')
--- response_body
error: "invalid_request"
