# The authorization server's state in Redis (docs/fleet.md,
# docs/directives.md "A fleet"): mcp_oauth_state_request and the RESP
# upstream handler (mcp_oauth_redis_pass), against a real redis-server this
# file starts (TEST_NGINX_REDIS_PORT, default 6390; data in a temporary
# folder, appendonly).  Two servers of the block's nginx, each with its own
# zone, are two nodes of one fleet: the same issuer, key and Redis.  Node A
# is the block's server, node B listens on TEST_NGINX_NODE_B_PORT (default
# the block's port + 10).  The flows print one line per step (McpOAuth.pm
# "Authorization server flows").

use strict;
use warnings;
use lib 't/lib';
use Test::Nginx::Socket 'no_plan';
use POSIX ();
use Time::HiRes ();
use McpOAuth qw(:DEFAULT :as);
use McpOAuth::Redis;

# this file's own redis-server, whatever TEST_NGINX_STATE says
delete $ENV{TEST_NGINX_STATE};

our $RP = $ENV{TEST_NGINX_REDIS_PORT} // 6390;
our $B = $ENV{TEST_NGINX_NODE_B_PORT} // McpOAuth::port() + 10;
$ENV{TEST_NGINX_REDIS_PORT} = $RP;
$ENV{TEST_NGINX_NODE_B_PORT} = $B;

McpOAuth::Redis::start(port => $RP, appendonly => 1,
                       args => ['--enable-debug-command', 'yes']);
McpOAuth::setup();
no_shuffle();
log_level('info');

our $Block;

# the server-level configuration of a node: its zone, the fleet's state
sub node {
    my (%o) = @_;
    my $loc = $o{location} // '';
    return McpOAuth::as_config(extra =>
          "mcp_oauth_zone $o{zone}:1m;\n"
        . "    mcp_oauth_state_request /_mcp_state prefix=$o{prefix} sync=1s;\n"
        . "    location = /_mcp_state { internal; $loc"
        . "mcp_oauth_redis_pass 127.0.0.1:\$TEST_NGINX_REDIS_PORT; }\n"
        . "    location = /metrics { mcp_oauth_metrics; }");
}

# the block's two nodes, keys under "t190:PID:BLOCK:": (config, http_config)
sub fleet {
    my ($block, %o) = @_;
    my $prefix = "t190:$$:$block:";
    my $a = node(zone => 'a', prefix => $prefix, %o);
    my $b = node(zone => 'b', prefix => $prefix, %o);
    return ($a, "server {\n    listen 127.0.0.1:\$TEST_NGINX_NODE_B_PORT;\n"
                . "    server_name b;\n$b\n}\n");
}

sub prefix { "t190:$$:$Block:" }

# the flow of block N (its keys' prefix)
sub in_block {
    my ($n, $code) = @_;
    return McpOAuth::flow(sub { local $Block = $n; $code->(@_) });
}

sub keys_of_block { McpOAuth::Redis::command('KEYS', prefix() . '*') }

sub flow_keys {
    my $g = grant(scope => 'mcp:tools');
    say_('grant', tok($g->{res}));
    my $r = refresh($g->{client}, $g->{rt});
    say_('refresh', tok($r));
    my $keys = keys_of_block();
    my $p = quotemeta prefix();
    say_('keys', scalar(@$keys) > 0 ? 'some' : 'none');
    say_('every key is the prefix and a SHA-256',
         (grep { !/^$p[0-9a-f]{64}\z/ } @$keys) ? 'no' : 'yes');
    my @secrets = ($g->{code}, $g->{rt}, $r->{json}{refresh_token});
    my $clear = 0;
    for my $k (@$keys) {
        my $v = McpOAuth::Redis::command('GET', $k) // '';
        $clear += grep { index($v, $_) >= 0 || index($k, $_) >= 0 } @secrets;
        my $ttl = McpOAuth::Redis::command('TTL', $k);
        say_('a key without expiry') if $ttl < 0;
    }
    say_('codes and refresh tokens in clear', $clear);
    my $rv = revoke($g->{client}, $r->{json}{refresh_token});
    say_('revoke', $rv->{status});
    say_('revocations kept', McpOAuth::Redis::command('ZCARD', prefix() . 'revoked'));
    my ($counted) = McpOAuth::req(GET => '/metrics')->{content}
        =~ /^nginx_mcp_oauth_revocations_total (\d+)$/m;
    say_('revocations counted', $counted // 'none');
    say_('access token', prot($r->{json}{access_token}));
}

sub code_on_b {
    my $c = register()->{json};
    my ($v, $ch) = pkce();
    my $cb = $c->{redirect_uris}[0];
    my $r = code_for(client_id => $c->{client_id}, redirect_uri => $cb,
                     code_challenge => $ch, state => 'st', user => 'alice',
                     scope => 'mcp:tools');
    my $code = $r->{query}{code} // die 'no code: ' . redir($r) . "\n";
    say_('code issued by A', redir($r));
    my $t = redeem($c, $code, $v, redirect_uri => $cb, port => $main::B);
    say_('redeemed on B', tok($t));
    my $at = $t->{json}{access_token};
    say_('access token on B', prot($at, port => $main::B));
    my $again = redeem($c, $code, $v, redirect_uri => $cb);
    say_('replayed on A', err($again), $again->{json}{error_description});
    say_('access token on A', prot($at));
    Time::HiRes::sleep(1.3);
    say_('access token on B after the sync interval', prot($at, port => $main::B));
    say_('refresh on B', tok(refresh($c, $t->{json}{refresh_token}, port => $main::B)));
}

sub refresh_reuse {
    my $g = grant(scope => 'mcp:tools');
    my $r1 = refresh($g->{client}, $g->{rt});
    say_('rotated on A', tok($r1));
    my $old = refresh($g->{client}, $g->{rt}, port => $main::B);
    say_('the old one on B', err($old), $old->{json}{error_description});
    say_('the new one on A', tok(refresh($g->{client}, $r1->{json}{refresh_token})));
}

sub revoke_across {
    my $g = grant(scope => 'mcp:tools');
    say_('access token on A', prot($g->{at}));
    say_('revoke on B', revoke($g->{client}, $g->{at}, port => $main::B)->{status});
    say_('access token on B', prot($g->{at}, port => $main::B));
    Time::HiRes::sleep(1.3);
    say_('access token on A after the sync interval', prot($g->{at}));
    say_('refresh on A', tok(refresh($g->{client}, $g->{rt})));
}

sub redis_down {
    my $g = grant(scope => 'mcp:tools');
    McpOAuth::Redis::stop();
    say_('redis stopped');
    say_('refresh', err(refresh($g->{client}, $g->{rt})));
    my $c = register()->{json};
    my ($v, $ch) = pkce();
    my $r = code_for(client_id => $c->{client_id},
                     redirect_uri => $c->{redirect_uris}[0],
                     code_challenge => $ch, state => 'st', user => 'alice',
                     scope => 'mcp:tools');
    say_('consent approved', redir($r),
         $r->{content} =~ /Temporarily unavailable/ ? 'unavailable' : 'other page');
    say_('access token', prot($g->{at}));
    McpOAuth::Redis::start();
    say_('redis started again');
    say_('refresh (the grant came back from the AOF)', tok(refresh($g->{client}, $g->{rt})));
}

sub redis_slow {
    my $g = grant(scope => 'mcp:tools');
    my $pid = fork // die "fork: $!";
    if ($pid == 0) {
        eval { McpOAuth::Redis::command('DEBUG', 'SLEEP', '1.5') };
        POSIX::_exit(0);
    }
    Time::HiRes::sleep(0.3);
    say_('refresh while redis sleeps', err(refresh($g->{client}, $g->{rt})));
    waitpid $pid, 0;
    say_('refresh after', tok(refresh($g->{client}, $g->{rt})));
}

sub redis_auth {
    McpOAuth::Redis::command('CONFIG', 'SET', 'requirepass', 'right-password');
    local $McpOAuth::Redis::Password = 'right-password';
    my $c = register()->{json};
    my ($v, $ch) = pkce();
    my $cb = $c->{redirect_uris}[0];
    my $r = code_for(client_id => $c->{client_id}, redirect_uri => $cb,
                     code_challenge => $ch, state => 'st', user => 'alice',
                     scope => 'mcp:tools');
    say_('with the password (node A)', redir($r));
    my $t = redeem($c, $r->{query}{code}, $v, redirect_uri => $cb, port => $main::B);
    say_('with a wrong password (node B)', err($t));
    McpOAuth::Redis::command('CONFIG', 'SET', 'requirepass', '');
}

sub database {
    my $g = grant(scope => 'mcp:tools');
    say_('grant', tok($g->{res}));
    my $info = McpOAuth::Redis::command('INFO', 'keyspace');
    say_('keys in database 3', $info =~ /^db3:keys=[1-9]/m ? 'yes' : 'no');
}

# the revocation sync of a resource server when redis is gone: the known
# revocations apply, new tokens are verified
sub sync_down {
    my $g = grant(scope => 'mcp:tools');
    my $g2 = grant(scope => 'mcp:tools');
    say_('revoke on A', revoke($g->{client}, $g->{at})->{status});
    McpOAuth::Redis::stop();
    Time::HiRes::sleep(1.2);
    say_('revoked token on A', prot($g->{at}));
    say_('another token on A', prot($g2->{at}));
    say_('another token on B', prot($g2->{at}, port => $main::B));
    McpOAuth::Redis::start();
}

run_tests();

__DATA__

=== TEST 1: a grant, its refresh and its revocation in Redis: keys are the prefix and a hash, each with an expiry, no code or refresh token is readable
--- config eval
(main::fleet(1))[0]
--- http_config eval
(main::fleet(1))[1]
--- request
GET /.well-known/oauth-authorization-server
--- response_body_filters eval
main::in_block(1, \&main::flow_keys)
--- response_body
grant 200 Bearer expires_in=3600 scope=mcp:tools refresh
refresh 200 Bearer expires_in=3600 scope=mcp:tools refresh
keys some
every key is the prefix and a SHA-256 yes
codes and refresh tokens in clear 0
revoke 200
revocations kept 1
revocations counted 1
access token 401 invalid_token token revoked
--- no_error_log
[error]



=== TEST 2: a code issued by node A is redeemed on node B; replayed on A it is refused and revokes the grant, which B refuses within the sync interval
--- config eval
(main::fleet(2))[0]
--- http_config eval
(main::fleet(2))[1]
--- request
GET /.well-known/oauth-authorization-server
--- response_body_filters eval
main::in_block(2, \&main::code_on_b)
--- response_body
code issued by A 302 https://client.example.com/cb code iss state=st
redeemed on B 200 Bearer expires_in=3600 scope=mcp:tools refresh
access token on B 200 sub=alice scope=mcp:tools
replayed on A 400 invalid_grant the code was already used
access token on A 401 invalid_token token revoked
access token on B after the sync interval 401 invalid_token token revoked
refresh on B 400 invalid_grant
--- error_log
the code was already used, grant



=== TEST 3: a refresh token rotated on node A and reused on node B: invalid_grant, and the grant's new refresh token no longer works
--- config eval
(main::fleet(3))[0]
--- http_config eval
(main::fleet(3))[1]
--- request
GET /.well-known/oauth-authorization-server
--- response_body_filters eval
main::in_block(3, \&main::refresh_reuse)
--- response_body
rotated on A 200 Bearer expires_in=3600 scope=mcp:tools refresh
the old one on B 400 invalid_grant the refresh token was already used
the new one on A 400 invalid_grant



=== TEST 4: a revocation on node B: B refuses the token at once, A within the sync interval, and the refresh token is dead everywhere
--- config eval
(main::fleet(4))[0]
--- http_config eval
(main::fleet(4))[1]
--- request
GET /.well-known/oauth-authorization-server
--- response_body_filters eval
main::in_block(4, \&main::revoke_across)
--- response_body
access token on A 200 sub=alice scope=mcp:tools
revoke on B 200
access token on B 401 invalid_token token revoked
access token on A after the sync interval 401 invalid_token token revoked
refresh on A 400 invalid_grant



=== TEST 5: Redis stopped: /token answers 503 temporarily_unavailable, the consent's approval a 503 page and no code, tokens are still verified; Redis back: it works again
--- config eval
(main::fleet(5))[0]
--- http_config eval
(main::fleet(5))[1]
--- request
GET /.well-known/oauth-authorization-server
--- response_body_filters eval
main::in_block(5, \&main::redis_down)
--- response_body
redis stopped
refresh 503 temporarily_unavailable
consent approved 503 page unavailable
access token 200 sub=alice scope=mcp:tools
redis started again
refresh (the grant came back from the AOF) 200 Bearer expires_in=3600 scope=mcp:tools refresh
--- error_log eval
[qr/connect\(\) failed \(111: Connection refused\) while connecting to upstream/,
 qr/mcp_oauth: the state at "\/_mcp_state" is unavailable/]



=== TEST 6: Redis slower than mcp_oauth_redis_read_timeout: 503 temporarily_unavailable, then it works again
--- config eval
(main::fleet(6, location => 'mcp_oauth_redis_read_timeout 300ms; '))[0]
--- http_config eval
(main::fleet(6, location => 'mcp_oauth_redis_read_timeout 300ms; '))[1]
--- request
GET /.well-known/oauth-authorization-server
--- response_body_filters eval
main::in_block(6, \&main::redis_slow)
--- response_body
refresh while redis sleeps 503 temporarily_unavailable
refresh after 200 Bearer expires_in=3600 scope=mcp:tools refresh
--- error_log
upstream timed out



=== TEST 7: mcp_oauth_redis_auth: the right password works, a wrong one is logged and answers 503
--- config eval
McpOAuth::as_config(extra => "mcp_oauth_zone a:1m;
    mcp_oauth_state_request /_mcp_state prefix=t190:auth: sync=1s;
    location = /_mcp_state { internal; mcp_oauth_redis_auth right-password;
        mcp_oauth_redis_pass 127.0.0.1:\$TEST_NGINX_REDIS_PORT; }")
--- http_config
server {
    listen 127.0.0.1:$TEST_NGINX_NODE_B_PORT;
    mcp_oauth_issuer http://127.0.0.1:$TEST_NGINX_SERVER_PORT;
    mcp_oauth_resource http://127.0.0.1:$TEST_NGINX_SERVER_PORT/mcp;
    mcp_oauth_signing_key $TEST_NGINX_DATA/signing/ec.pem;
    mcp_oauth_zone b:1m;
    mcp_oauth_state_request /_mcp_state prefix=t190:auth: sync=1s;
    location = /_mcp_state { internal; mcp_oauth_redis_auth default wrong-password;
        mcp_oauth_redis_pass 127.0.0.1:$TEST_NGINX_REDIS_PORT; }
    location = /token { mcp_oauth_token; }
}
--- request
GET /.well-known/oauth-authorization-server
--- response_body_filters eval
main::in_block(7, \&main::redis_auth)
--- response_body
with the password (node A) 302 https://client.example.com/cb code iss state=st
with a wrong password (node B) 503 temporarily_unavailable
--- error_log eval
qr/mcp_oauth: redis answered AUTH or SELECT: "WRONGPASS/



=== TEST 8: mcp_oauth_redis_database 3: the state is in database 3
--- config eval
(main::fleet(8, location => 'mcp_oauth_redis_database 3; '))[0]
--- http_config eval
(main::fleet(8, location => 'mcp_oauth_redis_database 3; '))[1]
--- request
GET /.well-known/oauth-authorization-server
--- response_body_filters eval
main::in_block(8, \&main::database)
--- response_body
grant 200 Bearer expires_in=3600 scope=mcp:tools refresh
keys in database 3 yes



=== TEST 9: Redis gone for the resource servers: the revocations known still apply, other tokens are verified on both nodes
--- config eval
(main::fleet(9))[0]
--- http_config eval
(main::fleet(9))[1]
--- request
GET /.well-known/oauth-authorization-server
--- response_body_filters eval
main::in_block(9, \&main::sync_down)
--- response_body
revoke on A 200
revoked token on A 401 invalid_token token revoked
another token on A 200 sub=alice scope=mcp:tools
another token on B 200 sub=alice scope=mcp:tools
--- error_log
the fleet's revocations were not read, the ones known apply



=== TEST 10: a client request to the Redis location (not internal) gets 404: only the module's state requests reach Redis
--- config
    location = /_mcp_state { mcp_oauth_redis_pass 127.0.0.1:$TEST_NGINX_REDIS_PORT; }
--- request
POST /_mcp_state
*1\r\n$8\r\nFLUSHALL\r\n
--- error_code: 404
--- error_log
"mcp_oauth_redis_pass" serves only the module's state requests



=== TEST 11: mcp_oauth_state_request naming a URI no location passes to Redis: nginx -t names the directive's line
--- config
    mcp_oauth_issuer http://127.0.0.1:$TEST_NGINX_SERVER_PORT;
    mcp_oauth_resource http://127.0.0.1:$TEST_NGINX_SERVER_PORT/mcp;
    mcp_oauth_signing_key $TEST_NGINX_DATA/signing/ec.pem;
    mcp_oauth_state_request /_mcp_state;
    location = /_other { internal; mcp_oauth_redis_pass 127.0.0.1:$TEST_NGINX_REDIS_PORT; }
    location = /token { mcp_oauth_token; }
--- must_die
--- error_log eval
qr/\[emerg\].*"mcp_oauth_state_request" "\/_mcp_state": no location of this server has "mcp_oauth_redis_pass" for it .* in \S+nginx\.conf:\d+/



=== TEST 12: mcp_oauth_state_request without mcp_oauth_signing_key is refused
--- config
    mcp_oauth_state_request /_mcp_state;
    location = /_mcp_state { internal; mcp_oauth_redis_pass 127.0.0.1:$TEST_NGINX_REDIS_PORT; }
--- must_die
--- error_log eval
qr/\[emerg\].*"mcp_oauth_state_request" requires "mcp_oauth_signing_key"/



=== TEST 13: unknown or invalid parameters of the fleet's directives are refused
--- config
    mcp_oauth_issuer http://127.0.0.1:$TEST_NGINX_SERVER_PORT;
    mcp_oauth_resource http://127.0.0.1:$TEST_NGINX_SERVER_PORT/mcp;
    mcp_oauth_signing_key $TEST_NGINX_DATA/signing/ec.pem;
    mcp_oauth_state_request /_mcp_state sync=never;
    location = /_mcp_state { internal; mcp_oauth_redis_pass 127.0.0.1:$TEST_NGINX_REDIS_PORT; }
--- must_die
--- error_log eval
qr/\[emerg\].*"mcp_oauth_state_request": invalid "sync=never"/



=== TEST 14: a Redis upstream that names no server: nginx -t refuses it
--- http_config
    upstream mcp_state { server 127.0.0.1:$TEST_NGINX_REDIS_PORT; }
--- config
    location = /_mcp_state { internal; mcp_oauth_redis_pass mcp_stat; }
--- must_die
--- error_log eval
qr/\[emerg\].*mcp_stat/
