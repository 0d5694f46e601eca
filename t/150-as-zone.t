# The state zone of the built-in authorization server (mcp_oauth_zone,
# docs/authorization-server.md "State and fleets"): when it is full of live
# entries, new grants get temporarily_unavailable (a redirect with state and
# iss at /authorize), the error log says so, nothing crashes and nothing
# live is dropped; once the entries expire, /authorize and /token work
# again.
#
# The zone is the smallest nginx allows (32k) and codes live 1s; the consent
# is remembered first, so each GET /authorize stores one more code, directly
# (no consent page).  The flow (response_body_filters, t/lib/McpOAuth.pm)
# prints one line per step, without the number of codes that fitted.

use strict;
use warnings;
use lib 't/lib';
use Test::Nginx::Socket 'no_plan';
use McpOAuth qw(:DEFAULT :as);

McpOAuth::setup();
no_shuffle();
log_level('info');

sub fill_zone {
    my $c = register()->{json};
    my ($v, $ch) = pkce();
    my %p = (client_id => $c->{client_id}, redirect_uri => 'https://client.example.com/cb',
             code_challenge => $ch, state => 'st', user => 'alice', scope => 'mcp:tools');
    my $first = code_for(%p);
    say_('consent', redir($first));
    my ($v0, $ch0) = pkce();
    my $t0 = redeem($c, authorize(%p, code_challenge => $ch0)->{query}{code}, $v0,
                    redirect_uri => $p{redirect_uri});
    my ($n, $full) = (0);
    while ($n < 5000) {
        my $r = authorize(%p);
        if (($r->{query}{error} // '') ne '') { $full = $r; last }
        die 'unexpected: ' . redir($r) . "\n" unless $r->{query}{code};
        $n++;
    }
    say_('codes stored before the zone was full', $n > 0 ? 'some' : 'none');
    say_('full', $full ? redir($full) : 'never');
    my $t = redeem($c, $first->{query}{code}, $v, redirect_uri => $p{redirect_uri});
    say_('the first code, redeemed while full', $t->{status} == 200 ? 'redeemed'
         : err($t) eq '503 temporarily_unavailable' ? 'temporarily_unavailable' : err($t));
    say_('revoking a grant while full', revoke($c, $t0->{json}{refresh_token})->{status});
    say_('its refresh token', err(refresh($c, $t0->{json}{refresh_token})));
    say_('its access token', prot($t0->{json}{access_token}) =~ /^401/ ? 'refused' : 'accepted');
    sleep 2;
    my ($v2, $ch2) = pkce();
    my $again = authorize(%p, code_challenge => $ch2);
    say_('after the code ttl', redir($again));
    say_('token', tok(redeem($c, $again->{query}{code}, $v2, redirect_uri => $p{redirect_uri})));
}

# one holder of a refresh token rotates it again and again: the grant keeps
# one record, so the zone does not fill and other users still sign in
sub rotations {
    my $c = register()->{json};
    my %p = (client_id => $c->{client_id}, redirect_uri => 'https://client.example.com/cb',
             state => 'st', scope => 'mcp:tools');
    my $sign_in = sub {
        my ($user) = @_;
        my ($v, $ch) = pkce();
        my $r = code_for(%p, code_challenge => $ch, user => $user);
        return redeem($c, $r->{query}{code}, $v, redirect_uri => $p{redirect_uri});
    };
    my $t = $sign_in->('alice');
    my $rt = $t->{json}{refresh_token};
    my $first = $rt;
    my ($n, $bad) = (0);
    while ($n < 300) {
        my $r = refresh($c, $rt);
        if ($r->{status} != 200) { $bad = $r; last }
        $rt = $r->{json}{refresh_token};
        $n++;
    }
    say_('rotations', $n, $bad ? 'then ' . err($bad) : 'all 200');
    say_('another user signs in', tok($sign_in->('bob')));
    say_('the first refresh token again', err(refresh($c, $first)));
    say_('the family is revoked: the last one', err(refresh($c, $rt)));
    my $b = $sign_in->('carol');
    say_('revoke of a live refresh token', revoke($c, $b->{json}{refresh_token})->{status});
    say_('it is revoked', err(refresh($c, $b->{json}{refresh_token})));
}

run_tests();

__DATA__

=== TEST 1: a full zone: temporarily_unavailable with state and iss, logged; a revocation is still kept (it used to be 503); after the code ttl /authorize and /token work again
--- config eval
McpOAuth::as_config(extra => 'mcp_oauth_zone small:32k; mcp_oauth_code_ttl 1s;')
--- request
GET /.well-known/oauth-authorization-server
--- response_body_filters eval
McpOAuth::flow(\&main::fill_zone)
--- response_body_like chomp
\Aconsent 302 https://client\.example\.com/cb code iss state=st
codes stored before the zone was full some
full 302 https://client\.example\.com/cb error=temporarily_unavailable error_description iss state=st
the first code, redeemed while full (?:redeemed|temporarily_unavailable|400 invalid_grant)
revoking a grant while full 200
its refresh token 400 invalid_grant
its access token refused
after the code ttl 302 https://client\.example\.com/cb code iss state=st
token 200 Bearer expires_in=3600 scope=mcp:tools refresh
\z
--- error_log eval
qr/mcp_oauth: zone "small" is full/
--- no_error_log
[alert]
[emerg]
exited on signal
--- timeout: 20



=== TEST 2: 300 rotations of one refresh token in a 32k zone (each used to leave an entry until its own expiry, filling the zone for everyone): one record per grant, every rotation works, others still sign in, reuse and revocation still work
--- config eval
McpOAuth::as_config(extra => 'mcp_oauth_zone small:32k; mcp_oauth_consent_ttl 0;')
--- request
GET /.well-known/oauth-authorization-server
--- response_body_filters eval
McpOAuth::flow(\&main::rotations)
--- response_body
rotations 300 all 200
another user signs in 200 Bearer expires_in=3600 scope=mcp:tools refresh
the first refresh token again 400 invalid_grant
the family is revoked: the last one 400 invalid_grant
revoke of a live refresh token 200
it is revoked 400 invalid_grant
--- no_error_log
[alert]
is full
exited on signal
--- timeout: 60
