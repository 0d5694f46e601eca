# The device authorization grant of the built-in authorization server
# (RFC 8628; docs/authorization-server.md "Device flow"): /device_authorization
# answers the codes; the verification page /device, behind the same sign-in
# as /authorize, takes the code (typed in any case, with or without the
# hyphen, or from verification_uri_complete) and shows the consent of
# /authorize; /token answers authorization_pending, slow_down (and the
# interval grows by 5 s), access_denied, expired_token, invalid_grant for an
# unknown code, a code of another client and a second use (which revokes
# what the first one gave); wrong codes and attempts are limited; the
# metadata advertises the flow only when it is configured; nginx -t refuses
# half a configuration.
#
# The codes are random, so the blocks are flows (t/README.md): a scripted
# user signs in with the X-Test-User header, reads the consent form and
# posts it back with its CSRF token, while the test is the polling client.

use strict;
use warnings;
use lib 't/lib';
use Test::Nginx::Socket 'no_plan';
use McpOAuth qw(:DEFAULT :as);
use Time::HiRes ();

McpOAuth::setup();
no_shuffle();
log_level('info');

our $Device = <<'_EOC_';
mcp_oauth_client cli "name=Acme CLI" device;
    mcp_oauth_client cliconf secret=cliconf-secret-0123456789 "name=Conf CLI" device;
    mcp_oauth_device_interval 1s;
    location = /device_authorization { mcp_oauth_device_authorization; }
    location = /device { mcp_oauth_device_verify; }
_EOC_

our $Grant = 'urn:ietf:params:oauth:grant-type:device_code';
our $Alphabet = 'BCDFGHJKMNPQRSTVWXZ';

# POST /device_authorization for CLIENT (an id, or {client_id, client_secret})
sub start {
    my ($client, %f) = @_;
    my %o = (McpOAuth::client_auth($client), %f);
    my %x = map { $_ => delete $o{$_} } grep { exists $o{$_} } qw(basic port);
    return req(POST => '/device_authorization', form => \%o, %x);
}

sub poll {
    my ($client, $dc, %f) = @_;
    return McpOAuth::token_req(grant_type => $Grant, device_code => $dc,
                               McpOAuth::client_auth($client), %f);
}

sub page {
    my ($code, %o) = @_;
    my $q = defined $code ? '?user_code=' . $code : '';
    return req(GET => "/device$q", user => $o{user} // 'alice');
}

sub decide {
    my ($page, $decision, %o) = @_;
    my %f = (%{ $page->{form} || {} }, %{ $o{set} || {} }, decision => $decision);
    return req(POST => '/device', form => \%f, user => $o{user} // 'alice');
}

sub wait_interval { Time::HiRes::sleep($_[0] // 1.1) }

# a page in one line: status, title, and whether it has the code form or a
# consent form
sub shown {
    my ($r) = @_;
    my ($t) = $r->{content} =~ m{<h1>(.*?)</h1>}s;
    my $what = $r->{content} =~ /name="user_code" required/ ? 'code-form'
             : $r->{content} =~ /name="decision" value="approve"/ ? 'consent'
             : 'message';
    return join ' ', $r->{status}, $what, $t // '(no title)';
}

sub codes {
    my $s = start('cli', @_);
    die 'start: ' . McpOAuth::err($s) . "\n" unless $s->{status} == 200;
    return $s->{json};
}

sub whole_flow {
    my $s = start('cli');
    my $j = $s->{json};
    say_('start', $s->{status}, $s->{headers}{'content-type'}, $s->{headers}{'cache-control'});
    say_('keys', join ',', sort keys %$j);
    say_('user_code', $j->{user_code} =~ /^[$Alphabet]{4}-[$Alphabet]{4}$/ ? 'XXXX-XXXX' : $j->{user_code});
    say_('device_code long', length $j->{device_code} >= 43 ? 'yes' : 'no',
         'differs', $j->{device_code} ne $j->{user_code} ? 'yes' : 'no');
    say_('verification_uri', $j->{verification_uri} eq base() . '/device' ? 'the page' : $j->{verification_uri});
    say_('complete', $j->{verification_uri_complete} eq "$j->{verification_uri}?user_code=$j->{user_code}"
         ? 'the page with the code' : $j->{verification_uri_complete});
    say_('expires_in', $j->{expires_in}, 'interval', $j->{interval});
    say_('poll', tok(poll('cli', $j->{device_code})));
    say_('page', shown(page(undef)));
    # typed in lower case without the hyphen
    (my $typed = lc $j->{user_code}) =~ s/-//;
    my $c = page($typed);
    say_('code typed', shown($c));
    say_('consent names', $c->{content} =~ /Acme CLI/ ? 'the client' : 'no client',
         $c->{content} =~ /\Q$j->{user_code}\E/ ? 'the code' : 'no code',
         $c->{content} =~ /<code>mcp:tools<\/code>/ ? 'the scopes' : 'no scopes');
    say_('hidden', join ',', sort keys %{ $c->{form} });
    wait_interval();
    say_('poll', tok(poll('cli', $j->{device_code})));
    say_('approve', shown(decide($c, 'approve')));
    wait_interval();
    my $t = poll('cli', $j->{device_code});
    say_('poll', tok($t));
    my $at = $t->{json}{access_token};
    say_('protected', prot($at));
    my (undef, $p) = jwt_parts($at);
    say_('claims', "sub=$p->{sub}", "client_id=$p->{client_id}");
    wait_interval();
    say_('poll again', tok(poll('cli', $j->{device_code})));
    say_('the first token', prot($at));
    say_('refresh of the first', tok(McpOAuth::refresh('cli', $t->{json}{refresh_token})));
    say_('page again', shown(page($j->{user_code})));
}

sub denied {
    my $j = codes();
    say_('deny', shown(decide(page($j->{user_code}), 'deny')));
    say_('poll', tok(poll('cli', $j->{device_code})));
    wait_interval();
    say_('poll', tok(poll('cli', $j->{device_code})));
}

sub slow_down {
    my $j = codes();
    say_('poll', tok(poll('cli', $j->{device_code})));
    say_('at once', tok(poll('cli', $j->{device_code})));
    # the interval is 6 s now: a second later is too fast again
    wait_interval();
    say_('a second later', tok(poll('cli', $j->{device_code})));
    my $r = poll('cli', $j->{device_code});
    say_('description', $r->{json}{error_description});
}

sub expired {
    my $j = codes();
    say_('poll', tok(poll('cli', $j->{device_code})));
    wait_interval(2.2);
    say_('poll', tok(poll('cli', $j->{device_code})));
    say_('page', shown(page($j->{user_code})));
}

sub clients {
    my $j = codes();
    say_('other client', tok(poll({ client_id => 'cliconf', client_secret => 'cliconf-secret-0123456789' },
                                  $j->{device_code})));
    say_('client without the grant', tok(poll('app', $j->{device_code})));
    say_('start without the grant', McpOAuth::err(start('app')));
    say_('confidential, wrong secret', McpOAuth::err(start({ client_id => 'cliconf', client_secret => 'wrong-secret-0123456789' })));
    say_('confidential, no secret', McpOAuth::err(start('cliconf')));
    say_('unknown client', McpOAuth::err(start('nobody')));
    my $cj = start({ client_id => 'cliconf', client_secret => 'cliconf-secret-0123456789' });
    say_('confidential', $cj->{status});
    say_('its poll without a secret', McpOAuth::err(poll('cliconf', $cj->{json}{device_code})));
    say_('unknown device code', tok(poll('cli', 'x' x 43)));
    say_('no device code', tok(poll('cli', undef)));
    say_('still pending for its client', tok(poll('cli', $j->{device_code})));
}

sub scopes {
    say_('unknown scope', McpOAuth::err(start('cli', scope => 'mcp:tools admin')));
    say_('unknown resource', McpOAuth::err(start('cli', resource => 'https://other.example.com/mcp')));
    say_('GET', req(GET => '/device_authorization')->{status});
    my $j = codes(scope => 'mcp:tools');
    my $c = page($j->{user_code});
    say_('consent lists', join ' ', $c->{content} =~ /name="granted_scope" value="([^"]+)"/g);
    say_('approve', shown(decide($c, 'approve')));
    wait_interval();
    my $t = poll('cli', $j->{device_code});
    say_('poll', tok($t));
    say_('protected', prot($t->{json}{access_token}));
}

# the person chooses on the device's consent as on /authorize's: unticked
# scopes are not granted, a form may not add one, nothing ticked denies
sub choose {
    my $j = codes(scope => 'mcp:tools read:application write:application');
    my $c = page($j->{user_code});
    say_('offered', join ' ', @{ $c->{form}{granted_scope} || [] });
    say_('widened', shown(decide($c, 'approve', set => { granted_scope =>
         ['mcp:tools', 'read:application', 'write:application', 'admin'] })));
    say_('write unticked', shown(decide($c, 'approve', set => { granted_scope =>
         ['mcp:tools', 'read:application'] })));
    wait_interval();
    my $t = poll('cli', $j->{device_code});
    say_('poll', tok($t));
    say_('protected', prot($t->{json}{access_token}));
    my $k = codes(scope => 'read:application');
    my $d = page($k->{user_code});
    say_('nothing ticked', shown(decide($d, 'approve', set => { granted_scope => [] })));
    wait_interval();
    say_('its poll', tok(poll('cli', $k->{device_code})));
}

sub csrf {
    my $j = codes(scope => 'mcp:tools');
    my $c = page($j->{user_code});
    say_('other user', shown(decide($c, 'approve', user => 'mallory')));
    say_('no token', shown(decide($c, 'approve', set => { csrf_token => '' })));
    say_('other code posted', shown(decide($c, 'approve', set => { user_code => 'BBBB-BBBB' })));
    say_('poll', tok(poll('cli', $j->{device_code})));
    # the code's record has the scope: what the form posts is not believed
    say_('wider scope posted', shown(decide($c, 'approve', set => { scope => 'mcp:tools write:application' })));
    wait_interval();
    say_('poll', tok(poll('cli', $j->{device_code})));
    say_('the form again', shown(decide($c, 'approve')));
}

sub attempts {
    my $j = codes();
    say_('signed out', shown(req(GET => "/device?user_code=$j->{user_code}")));
    say_('wrong code', shown(page('BCDF-GHJK')));
    my $w = page('0000-1111');
    say_('malformed code', shown($w));
    say_('message', $w->{content} =~ /That code is not valid/ ? 'not valid' : 'none',
         'kept in the form', $w->{content} =~ /value="0000-1111"/ ? 'yes' : 'no');
    say_('third wrong code', shown(page('ZZZZ-ZZZZ')));
    say_('then the right code', shown(page($j->{user_code})));
    say_('another user', shown(page($j->{user_code}, user => 'bob')));
    say_('bob again', shown(page($j->{user_code}, user => 'bob')));
    say_('bob a third time', shown(page($j->{user_code}, user => 'bob')));
    say_('carol, the code tried 3 times', shown(page($j->{user_code}, user => 'carol')));
    my $k = codes();
    say_('carol, another code', shown(page($k->{user_code}, user => 'carol')));
}

sub metadata {
    my $m = req(GET => '/.well-known/oauth-authorization-server')->{json};
    my $e = $m->{device_authorization_endpoint};
    say_('device_authorization_endpoint', !defined $e ? '(absent)'
         : $e eq base() . '/device_authorization' ? 'under the issuer' : $e);
    say_('grant', (grep { $_ eq $Grant } @{ $m->{grant_types_supported} }) ? 'advertised' : 'absent');
}

sub registered {
    my $r = McpOAuth::register(grant_types => ['authorization_code', $Grant]);
    say_('register', $r->{status}, join ',', @{ $r->{json}{grant_types} || [] });
    my $s = start($r->{json}{client_id});
    say_('start', $s->{status});
    my $c = page($s->{json}{user_code});
    say_('consent', shown($c), $c->{content} =~ /Test Client/ ? 'named' : 'unnamed');
    say_('approve', shown(decide($c, 'approve')));
    wait_interval();
    say_('poll', tok(poll($r->{json}{client_id}, $s->{json}{device_code})));
    say_('without the grant', McpOAuth::err(start(McpOAuth::register()->{json}{client_id})));
}

run_tests();

__DATA__

=== TEST 1: the whole flow: codes, pending, the page and the consent, the token once; a second use revokes what the first gave
--- config eval
McpOAuth::as_config(extra => $main::Device)
--- request
GET /.well-known/oauth-authorization-server
--- response_body_filters eval
McpOAuth::flow(\&main::whole_flow)
--- response_body
start 200 application/json no-store
keys device_code,expires_in,interval,user_code,verification_uri,verification_uri_complete
user_code XXXX-XXXX
device_code long yes differs yes
verification_uri the page
complete the page with the code
expires_in 600 interval 1
poll 400 authorization_pending
page 200 code-form Connect a device
code typed 200 consent Authorize Acme CLI?
consent names the client the code the scopes
hidden client_id,csrf_token,granted_scope,resource,scope,user_code
poll 400 authorization_pending
approve 200 message Device connected
poll 200 Bearer expires_in=3600 scope=mcp:tools read:application write:application refresh
protected 200 sub=alice scope=mcp:tools read:application write:application
claims sub=alice client_id=cli
poll again 400 invalid_grant
the first token 401 invalid_token token revoked
refresh of the first 400 invalid_grant
page again 400 message Code already used
--- error_log
mcp_oauth: device authorization started, user code
mcp_oauth: device: the user "alice" approved the code
mcp_oauth: token: the device code was already used, grant
--- no_error_log
[error]



=== TEST 2: the user denies: access_denied, and it stays so
--- config eval
McpOAuth::as_config(extra => $main::Device)
--- request
GET /.well-known/oauth-authorization-server
--- response_body_filters eval
McpOAuth::flow(\&main::denied)
--- response_body
deny 200 message Request denied
poll 400 access_denied
poll 400 access_denied
--- error_log
mcp_oauth: device: the user "alice" denied the code



=== TEST 3: polling faster than the interval: slow_down, and the interval grows by 5 seconds
--- config eval
McpOAuth::as_config(extra => $main::Device)
--- request
GET /.well-known/oauth-authorization-server
--- response_body_filters eval
McpOAuth::flow(\&main::slow_down)
--- response_body
poll 400 authorization_pending
at once 400 slow_down
a second later 400 slow_down
description polling faster than the interval, which grows by 5 seconds
--- error_log
device code polled too fast, interval now 6 s
device code polled too fast, interval now 11 s



=== TEST 4: mcp_oauth_device_code_ttl: a code past it gets expired_token at /token and "Code expired" on the page
--- config eval
McpOAuth::as_config(extra => $main::Device . 'mcp_oauth_device_code_ttl 2s;')
--- request
GET /.well-known/oauth-authorization-server
--- response_body_filters eval
McpOAuth::flow(\&main::expired)
--- response_body
poll 400 authorization_pending
poll 400 expired_token
page 400 message Code expired



=== TEST 5: clients: the code is its client's; the grant needs "device"; confidential clients authenticate as at /token
--- config eval
McpOAuth::as_config(extra => $main::Device)
--- request
GET /.well-known/oauth-authorization-server
--- response_body_filters eval
McpOAuth::flow(\&main::clients)
--- response_body
other client 400 invalid_grant
client without the grant 400 unauthorized_client
start without the grant 400 unauthorized_client
confidential, wrong secret 401 invalid_client
confidential, no secret 401 invalid_client
unknown client 401 invalid_client
confidential 200
its poll without a secret 401 invalid_client
unknown device code 400 invalid_grant
no device code 400 invalid_request
still pending for its client 400 authorization_pending



=== TEST 6: scope and resource are checked as at /authorize, and the token carries the scope asked
--- config eval
McpOAuth::as_config(extra => $main::Device)
--- request
GET /.well-known/oauth-authorization-server
--- response_body_filters eval
McpOAuth::flow(\&main::scopes)
--- response_body
unknown scope 400 invalid_scope
unknown resource 400 invalid_target
GET 405
consent lists mcp:tools
approve 200 message Device connected
poll 200 Bearer expires_in=3600 scope=mcp:tools refresh
protected 200 sub=alice scope=mcp:tools



=== TEST 7: the consent form is bound to its user and to the code's scope and code (CSRF)
--- config eval
McpOAuth::as_config(extra => $main::Device)
--- request
GET /.well-known/oauth-authorization-server
--- response_body_filters eval
McpOAuth::flow(\&main::csrf)
--- response_body
other user 403 message Request expired
no token 403 message Request expired
other code posted 400 code-form Connect a device
poll 400 authorization_pending
wider scope posted 200 message Device connected
poll 200 Bearer expires_in=3600 scope=mcp:tools refresh
the form again 400 message Code already used



=== TEST 8: mcp_oauth_device_attempts: wrong codes per user, attempts per code, then 429
--- config eval
McpOAuth::as_config(extra => $main::Device . 'mcp_oauth_device_attempts 3 10m;')
--- request
GET /.well-known/oauth-authorization-server
--- response_body_filters eval
McpOAuth::flow(\&main::attempts)
--- response_body
signed out 401 message Sign-in required
wrong code 400 code-form Connect a device
malformed code 400 code-form Connect a device
message not valid kept in the form yes
third wrong code 400 code-form Connect a device
then the right code 429 message Too many attempts
another user 200 consent Authorize Acme CLI?
bob again 200 consent Authorize Acme CLI?
bob a third time 200 consent Authorize Acme CLI?
carol, the code tried 3 times 429 message Too many attempts
carol, another code 200 consent Authorize Acme CLI?
--- error_log
mcp_oauth: device: the user "alice" entered an unknown code
mcp_oauth: device: too many attempts by the user "alice"



=== TEST 9: the metadata advertises the device flow when it is configured
--- config eval
McpOAuth::as_config(extra => $main::Device)
--- request
GET /.well-known/oauth-authorization-server
--- response_body_filters eval
McpOAuth::flow(\&main::metadata)
--- response_body
device_authorization_endpoint under the issuer
grant advertised



=== TEST 10: ... and not without it
--- config eval
McpOAuth::as_config()
--- request
GET /.well-known/oauth-authorization-server
--- response_body_filters eval
McpOAuth::flow(\&main::metadata)
--- response_body
device_authorization_endpoint (absent)
grant absent



=== TEST 11: a registered client may ask for the device grant, and only then use it
--- config eval
McpOAuth::as_config(extra => $main::Device)
--- request
GET /.well-known/oauth-authorization-server
--- response_body_filters eval
McpOAuth::flow(\&main::registered)
--- response_body
register 201 authorization_code,urn:ietf:params:oauth:grant-type:device_code
start 200
consent 200 consent Authorize Test Client? <span class="unverified">unverified</span> named
approve 200 message Device connected
poll 200 Bearer expires_in=3600 scope=mcp:tools read:application write:application
without the grant 400 unauthorized_client



=== TEST 12: ... not where the device flow is not offered
--- config eval
McpOAuth::as_config()
--- request eval
"POST /register\n" . '{"redirect_uris":["https://client.example.com/cb"],"token_endpoint_auth_method":"none","grant_types":["urn:ietf:params:oauth:grant-type:device_code"]}'
--- more_headers
Content-Type: application/json
--- error_code: 400
--- response_body_like: "error":"invalid_client_metadata"



=== TEST 13: the device_code grant where the flow is not offered: unsupported_grant_type
--- config eval
McpOAuth::as_config(extra => 'mcp_oauth_client cli "name=Acme CLI" device;')
--- request
POST /token
grant_type=urn%3Aietf%3Aparams%3Aoauth%3Agrant-type%3Adevice_code&device_code=abc&client_id=cli
--- more_headers
Content-Type: application/x-www-form-urlencoded
--- error_code: 400
--- response_body_like: ^\{"error":"unsupported_grant_type","error_description":"grant_type is not supported"\}$



=== TEST 14: /device_authorization answers CORS preflights
--- config eval
McpOAuth::as_config(extra => $main::Device)
--- request
OPTIONS /device_authorization
--- more_headers
Origin: http://localhost:6274
Access-Control-Request-Method: POST
--- error_code: 204
--- response_headers
Access-Control-Allow-Origin: *



=== TEST 15: nginx -t: the endpoint without the page is refused
--- config eval
McpOAuth::as_config(extra => 'location = /device_authorization { mcp_oauth_device_authorization; }')
--- must_die
--- error_log eval
qr/\[emerg\] .*the device flow needs both "mcp_oauth_device_authorization" and "mcp_oauth_device_verify"/



=== TEST 16: nginx -t: the page without the endpoint is refused
--- config eval
McpOAuth::as_config(extra => 'location = /device { mcp_oauth_device_verify; }')
--- must_die
--- error_log eval
qr/\[emerg\] .*the device flow needs both/



=== TEST 17: nginx -t: an interval as long as the codes live is refused
--- config eval
McpOAuth::as_config(extra => $main::Device . 'mcp_oauth_device_code_ttl 1s;')
--- must_die
--- error_log eval
qr/\[emerg\] .*"mcp_oauth_device_interval" must be positive and shorter than "mcp_oauth_device_code_ttl"/



=== TEST 18: nginx -t: mcp_oauth_device_attempts takes a positive number and a time
--- config eval
McpOAuth::as_config(extra => $main::Device . 'mcp_oauth_device_attempts 0;')
--- must_die
--- error_log eval
qr/\[emerg\] .*"mcp_oauth_device_attempts": the number of attempts must be a positive integer, not "0"/



=== TEST 19: ... and a valid window
--- config eval
McpOAuth::as_config(extra => $main::Device . 'mcp_oauth_device_attempts 5 soon;')
--- must_die
--- error_log eval
qr/\[emerg\] .*"mcp_oauth_device_attempts": invalid window "soon"/



=== TEST 20: nginx -t: a static client with "device" needs no redirect URI, one without anything is refused
--- config eval
McpOAuth::as_config(extra => $main::Device . 'mcp_oauth_client bare "name=Bare";')
--- must_die
--- error_log eval
qr/\[emerg\] .*client "bare" has neither redirect URIs, a secret, keys, nor "device"/



=== TEST 21: the device consent's checkboxes: the token carries only the ticked scopes; a form adding one is refused; nothing ticked is a denial
--- config eval
McpOAuth::as_config(extra => $main::Device)
--- request
GET /.well-known/oauth-authorization-server
--- response_body_filters eval
McpOAuth::flow(\&main::choose)
--- response_body
offered mcp:tools read:application write:application
widened 400 message Invalid consent
write unticked 200 message Device connected
poll 200 Bearer expires_in=3600 scope=mcp:tools read:application refresh
protected 200 sub=alice scope=mcp:tools read:application
nothing ticked 200 message Request denied
its poll 400 access_denied
--- no_error_log
[alert]
