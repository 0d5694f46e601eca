# mcp_oauth_metrics (docs/observability.md): the Prometheus text format of
# what the module decided, counted in shared memory by every worker (two
# here), across a reload, while scraped under concurrent traffic; and
# $mcp_oauth_decision / $mcp_oauth_error in a JSON audit log.  The flows
# (McpOAuth.pm "Authorization server flows") send known requests, scrape
# /metrics and print the series they expect, sorted.

use strict;
use warnings;
use lib 't/lib';
use Test::Nginx::Socket 'no_plan';
use POSIX ();
use Time::HiRes ();
use McpOAuth qw(:DEFAULT :as);

McpOAuth::setup();
master_on();
workers(2);
no_shuffle();
log_level('info');

our $RS = <<'_EOC_';
    mcp_oauth_resource https://mcp.example.com/mcp;
    mcp_oauth_issuer https://auth.example.com;
    mcp_oauth_jwks $TEST_NGINX_DATA/jwks/main.json;
    location = /metrics { mcp_oauth_metrics; }
    location = /echo { return 200 "ok\n"; }
    location /mcp {
        mcp_oauth on;
        mcp_oauth_scope admin_* admin;
        mcp_oauth_scope get_weather mcp:tools;
        proxy_pass http://127.0.0.1:$TEST_NGINX_SERVER_PORT/echo;
    }
_EOC_

sub rpc {
    my ($tok, $body) = @_;
    return McpOAuth::req(POST => '/mcp', body => $body, type => 'application/json',
                         headers => { Authorization => "Bearer $tok",
                                      Accept => 'application/json, text/event-stream' })->{status};
}

sub call { rpc($_[0], qq({"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"$_[1]"}})) }

# the series of the metrics named by the regex, sorted
sub scrape {
    my ($re) = @_;
    my $r = McpOAuth::req(GET => '/metrics');
    die "metrics: $r->{status}" unless $r->{status} == 200;
    return sort grep { /^nginx_mcp_oauth_(?:$re)/ } split /\n/, $r->{content};
}

sub mix {
    my $t = McpOAuth::token('rs256');
    my @s;
    push @s, McpOAuth::req(GET => '/mcp')->{status};
    push @s, McpOAuth::bearer('x.y.z')->{status};
    push @s, McpOAuth::bearer(McpOAuth::token('expired'))->{status};
    push @s, McpOAuth::bearer($t)->{status} for 1 .. 3;
    push @s, call($t, 'get_weather'), call($t, 'get_weather'), call($t, 'admin_delete');
    push @s, call($t, 'search');
    push @s, rpc($t, '{"jsonrpc":"2.0","id":1,"method":"tools/list"}');
    push @s, rpc($t, '{"jsonrpc":"2.0","id":1,"method":"tools/call"');
    return @s;
}

sub known_requests {
    say_('statuses', mix());
    say_($_) for scrape('requests|jsonrpc|tool_calls|token_cache|zone_size');
}

sub after_reload {
    mix();
    my $pidfile = "$ENV{TEST_NGINX_SERVER_ROOT}/logs/nginx.pid";
    open my $pf, '<', $pidfile or die "$pidfile: $!";
    chomp(my $pid = <$pf>);
    close $pf;
    kill 'HUP', $pid or die "HUP: $!";
    Time::HiRes::sleep(1.0);
    mix();
    say_($_) for scrape('requests_total\{decision="allowed"|tool_calls');
}

sub concurrent {
    my $t = McpOAuth::token('rs256');
    my @kids;
    for my $k (1 .. 3) {
        my $pid = fork // die "fork: $!";
        if ($pid == 0) {
            call($t, 'get_weather') for 1 .. 100;
            POSIX::_exit(0);
        }
        push @kids, $pid;
    }
    my ($ok, $scrapes) = (0, 0);
    while (waitpid(-1, POSIX::WNOHANG()) >= 0 && $scrapes < 500) {
        $scrapes++;
        $ok++ if McpOAuth::req(GET => '/metrics')->{status} == 200;
        last unless grep { kill 0, $_ } @kids;
    }
    waitpid $_, 0 for @kids;
    say_('every scrape answered', $ok == $scrapes ? 'yes' : "no ($ok of $scrapes)");
    say_($_) for scrape('tool_calls');
}

sub as_flow {
    my $g = grant(scope => 'mcp:tools');
    my $r = refresh($g->{client}, $g->{rt});
    my $again = redeem($g->{client}, $g->{code}, $g->{verifier},
                       redirect_uri => $g->{redirect_uri});
    say_('replay', err($again));
    say_($_) for scrape('authorizations|tokens_issued|token_errors|replays|revocations|registrations');
}

sub audit {
    my $t = McpOAuth::token('rs256');
    call($t, 'get_weather');
    call($t, 'admin_delete');
    McpOAuth::req(GET => '/mcp');
    Time::HiRes::sleep(0.3);
    my $log = "$ENV{TEST_NGINX_SERVER_ROOT}/logs/audit.log";
    open my $fh, '<', $log or die "$log: $!";
    # sorted: nginx logs a request after its answer is sent, so a slow worker
    # may write a line after the next request's
    my @lines;
    for my $line (<$fh>) {
        my $j = JSON::PP->new->decode($line);
        push @lines, join ' ', map { "$_=" . ($j->{$_} // '') } qw(sub client method tool decision reason status);
    }
    say_($_) for sort @lines;
}

sub remote_keys {
    my $t = McpOAuth::token('rs256');
    say_('statuses', map { McpOAuth::bearer($t)->{status} } 1 .. 3);
    say_($_) for scrape('token_cache|jwks_fetches');
}

$ENV{TEST_NGINX_SERVER_ROOT} //= Test::Nginx::Util::server_root()
    if defined &Test::Nginx::Util::server_root;
$ENV{TEST_NGINX_SERVER_ROOT} //= File::Spec->rel2abs('t/servroot');

run_tests();

__DATA__

=== TEST 1: known requests, answered by two workers: the decisions by reason, the methods and the tool calls by rule are counted once each
--- config eval
$main::RS
--- request
GET /metrics
--- response_body_filters eval
McpOAuth::flow(\&main::known_requests)
--- response_body
statuses 401 401 401 200 200 200 200 200 403 200 200 400
nginx_mcp_oauth_jsonrpc_messages_total{method="tools/call"} 4
nginx_mcp_oauth_jsonrpc_messages_total{method="tools/list"} 1
nginx_mcp_oauth_requests_total{decision="allowed",reason=""} 7
nginx_mcp_oauth_requests_total{decision="bad_request",reason="Parse error"} 1
nginx_mcp_oauth_requests_total{decision="forbidden",reason="insufficient scope"} 1
nginx_mcp_oauth_requests_total{decision="unauthorized",reason="malformed token header (not base64url JSON object)"} 1
nginx_mcp_oauth_requests_total{decision="unauthorized",reason="no bearer token"} 1
nginx_mcp_oauth_requests_total{decision="unauthorized",reason="token expired"} 1
nginx_mcp_oauth_token_cache_lookups_total{result="hit"} 8
nginx_mcp_oauth_token_cache_lookups_total{result="miss"} 3
nginx_mcp_oauth_tool_calls_total{tool="admin_*",decision="forbidden"} 1
nginx_mcp_oauth_tool_calls_total{tool="get_weather",decision="allowed"} 2
nginx_mcp_oauth_tool_calls_total{tool="other",decision="allowed"} 1
nginx_mcp_oauth_zone_size_bytes{zone="mcp_oauth_token_cache",kind="token_cache"} 4194304



=== TEST 2: the counters carry on across a reload
--- config eval
$main::RS
--- request
GET /metrics
--- response_body_filters eval
McpOAuth::flow(\&main::after_reload)
--- response_body
nginx_mcp_oauth_requests_total{decision="allowed",reason=""} 14
nginx_mcp_oauth_tool_calls_total{tool="admin_*",decision="forbidden"} 2
nginx_mcp_oauth_tool_calls_total{tool="get_weather",decision="allowed"} 4
nginx_mcp_oauth_tool_calls_total{tool="other",decision="allowed"} 2



=== TEST 3: scraped while three clients call tools: every scrape answers, no call is lost
--- config eval
$main::RS
--- request
GET /metrics
--- response_body_filters eval
McpOAuth::flow(\&main::concurrent)
--- response_body
every scrape answered yes
nginx_mcp_oauth_tool_calls_total{tool="get_weather",decision="allowed"} 300
--- timeout: 60



=== TEST 4: the authorization server: a consent, a code, a refresh, a replayed code (the grant is revoked)
--- config eval
McpOAuth::as_config() . "    location = /metrics { mcp_oauth_metrics; }\n"
--- request
GET /metrics
--- response_body_filters eval
McpOAuth::flow(\&main::as_flow)
--- response_body
replay 400 invalid_grant
nginx_mcp_oauth_authorizations_total{result="code_issued"} 1
nginx_mcp_oauth_authorizations_total{result="consent_asked"} 1
nginx_mcp_oauth_registrations_total{result="ok"} 1
nginx_mcp_oauth_replays_total{credential="code"} 1
nginx_mcp_oauth_revocations_total 1
nginx_mcp_oauth_token_errors_total{error="invalid_grant"} 1
nginx_mcp_oauth_tokens_issued_total{grant_type="authorization_code"} 1
nginx_mcp_oauth_tokens_issued_total{grant_type="refresh_token"} 1



=== TEST 5: a JSON audit log with the subject, client, method, tool, decision and reason of each request
--- http_config
    log_format mcp_audit escape=json '{"time":"$time_iso8601","sub":"$mcp_oauth_sub",'
        '"client":"$mcp_oauth_client_id","method":"$mcp_oauth_method",'
        '"tool":"$mcp_oauth_tool","decision":"$mcp_oauth_decision",'
        '"reason":"$mcp_oauth_error","status":"$status"}';
--- config eval
$main::RS . "    access_log logs/audit.log mcp_audit if=\$mcp_oauth_decision;\n"
--- request
GET /metrics
--- response_body_filters eval
McpOAuth::flow(\&main::audit)
--- response_body
sub= client= method= tool= decision=unauthorized reason=no bearer token status=401
sub=user-1 client=client-1 method=tools/call tool=admin_delete decision=forbidden reason=insufficient scope status=403
sub=user-1 client=client-1 method=tools/call tool=get_weather decision=allowed reason= status=200



=== TEST 6: the metrics are text/plain in the exposition format, with HELP and TYPE for each metric
--- config eval
$main::RS
--- request
GET /metrics
--- response_headers
Content-Type: text/plain; version=0.0.4; charset=utf-8
--- response_body_like
\A# HELP nginx_mcp_oauth_requests_total Requests to mcp_oauth locations by decision and reason\.
# TYPE nginx_mcp_oauth_requests_total counter
(?:.*\n)*# TYPE nginx_mcp_oauth_jwks_last_success_timestamp_seconds gauge
(?:.*\n)*nginx_mcp_oauth_revocations_total 0



=== TEST 7: keys fetched by mcp_oauth_jwks_request: the request that waited for them is one cache lookup, not two
--- config
    mcp_oauth_resource https://mcp.example.com/mcp;
    mcp_oauth_issuer https://auth.example.com;
    location = /metrics { mcp_oauth_metrics; }
    location = /echo { return 200 "ok\n"; }
    location = /keys { alias $TEST_NGINX_DATA/jwks/main.json; }
    location = /_jwks { internal; proxy_pass http://127.0.0.1:$TEST_NGINX_SERVER_PORT/keys; }
    location /mcp {
        mcp_oauth on;
        mcp_oauth_jwks_request /_jwks;
        proxy_pass http://127.0.0.1:$TEST_NGINX_SERVER_PORT/echo;
    }
--- request
GET /metrics
--- response_body_filters eval
McpOAuth::flow(\&main::remote_keys)
--- response_body
statuses 200 200 200
nginx_mcp_oauth_jwks_fetches_total{source="/_jwks",result="ok"} 1
nginx_mcp_oauth_token_cache_lookups_total{result="hit"} 2
nginx_mcp_oauth_token_cache_lookups_total{result="miss"} 1
