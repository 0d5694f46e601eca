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
    sleep 2;
    my ($v2, $ch2) = pkce();
    my $again = authorize(%p, code_challenge => $ch2);
    say_('after the code ttl', redir($again));
    say_('token', tok(redeem($c, $again->{query}{code}, $v2, redirect_uri => $p{redirect_uri})));
}

run_tests();

__DATA__

=== TEST 1: a full zone: temporarily_unavailable with state and iss, logged; after the code ttl /authorize and /token work again
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
the first code, redeemed while full (?:redeemed|temporarily_unavailable)
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
