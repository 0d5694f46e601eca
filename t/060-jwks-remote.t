# Remote JWKS: keys fetched by subrequest (mcp_oauth_jwks_request).
#
# The identity provider (IdP) is the helper server of t/lib/McpOAuth/Server.pm
# (McpOAuth::Server::idp), forked by this file on 127.0.0.1:$TEST_NGINX_IDP_PORT
# (default 19850).  It serves the JWK Set of its current "mode" on GET /jwks,
# counts the /jwks requests and records what the last one looked like:
#
#   GET /jwks                 the document of the current mode (counted)
#   GET /admin/mode?m=MODE    sets the mode, resets the counter; "ok"
#   GET /admin/count          /jwks requests since the last reset
#   GET /admin/headers        header names of the last /jwks request
#                             (lowercase, one per line, in order)
#   GET /admin/request        method and target of the last /jwks request
#   GET /admin/sleep?s=N      answers "ok" after N seconds
#
# Modes: rsa1, rotated, oct (t/data/jwks/*.json); mixed (rsa1 plus the oct
# key); badkeys (an RSA key with e = 1, rsa1 with "key_ops": ["encrypt"],
# ec256); garbage ("not json"); down (HTTP 500); big (rotated.json padded past
# 100 KB with an unused member); huge (the same padded to 10 MB); slow (rsa1
# after 3 s).
#
# Every block's nginx exposes /admin/ (proxied to the IdP), so a block drives
# the IdP with ordinary requests.  The steps of a block go as
# --- pipelined_requests on one keep-alive connection: nginx still handles
# them one after the other, and every error-log check of the block sees the
# whole log (check_accum_error_log), so the log lines of all the steps can be
# asserted in order with --- grep_error_log.  (With a --- request array,
# Test::Nginx checks --- error_log / --- grep_error_log_out after *each*
# request against only the lines logged since the previous check.)
#
# nginx is restarted for every block: each block starts with an empty
# shared zone, i.e. with no keys.
#
# Concurrency (TEST 18): an SSI page includes /p1 and /p2, which proxy to
# /mcp; nginx runs both includes at once, so two client requests reach /mcp
# over their own connections while the IdP takes 3 s to answer.

use strict;
use warnings;
use lib 't/lib';
use Test::Nginx::Socket 'no_plan';
use McpOAuth;
use McpOAuth::Server;
use JSON::PP ();

McpOAuth::setup();
no_shuffle();
log_level('info');
check_accum_error_log();

# ------------------------------------------------------------------ the IdP

my %Doc;    # mode => [status, content type, body, delay]
{
    my $slurp = sub {
        my $f = "$ENV{TEST_NGINX_DATA}/jwks/$_[0].json";
        open my $fh, '<', $f or die "cannot open $f: $!";
        local $/;
        return scalar <$fh>;
    };
    my $json = JSON::PP->new->canonical;
    my $rsa1 = $json->decode($slurp->('rsa1'));
    my $oct  = $json->decode($slurp->('oct'));
    my $rotated = $json->decode($slurp->('rotated'));
    my $e1 = $json->decode($slurp->('rsa-e1'));
    my $ops = $json->decode($slurp->('key-ops-encrypt'));

    %Doc = (
        rsa1    => [200, 'application/json', $slurp->('rsa1')],
        rotated => [200, 'application/json', $slurp->('rotated')],
        oct     => [200, 'application/json', $slurp->('oct')],
        mixed   => [200, 'application/json', $json->encode(
                       { keys => [@{ $rsa1->{keys} }, @{ $oct->{keys} }] })],
        garbage => [200, 'text/plain', "not json"],
        down    => [500, 'text/plain', "internal error\n"],
        big     => [200, 'application/json', $json->encode(
                       { keys => $rotated->{keys}, 'x-padding' => 'x' x 120_000 })],
        slow    => [200, 'application/json', $slurp->('rsa1'), 3],
        badkeys => [200, 'application/json', $json->encode(
                       { keys => [$e1->{keys}[0], @{ $ops->{keys} }] })],
        huge    => [200, 'application/json', $json->encode(
                       { keys => $rotated->{keys}, 'x-padding' => 'x' x 10_000_000 })],
    );
}

McpOAuth::Server::start(name => 'IdP', port_env => 'TEST_NGINX_IDP_PORT',
                        default_port => 19850,
                        handler => McpOAuth::Server::idp(docs => \%Doc, mode => 'rsa1'));

# -------------------------------------------------------- block helpers

# the request headers of a step with this fixture token
sub bearer { "Authorization: Bearer " . McpOAuth::token($_[0]) }

# signed by rsa1 with a kid that no JWK Set has (t/data has only "nope")
our $OtherKid = "Authorization: Bearer "
              . McpOAuth::mint(key => 'rsa1', header => '{"kid":"other"}');

our $Ok = "sub=[user-1] auth=[]\n";
our $Unavailable = '{"error":"temporarily_unavailable",'
                 . '"error_description":"signing keys are not available"}';
our $UnknownKid = '{"error":"invalid_token","error_description":"unknown kid"}';
our $UnknownKidChallenge = 'WWW-Authenticate: Bearer error="invalid_token", '
    . 'error_description="unknown kid", resource_metadata='
    . '"https://mcp.example.com/.well-known/oauth-protected-resource/mcp"';
our $UnavailableHeaders = "Retry-After: 5\nContent-Type: application/json\n"
                        . "!WWW-Authenticate";

# the module's lines about fetches and the decisions that depend on them
our $JwksLines = qr/mcp_oauth: (?:JWKS (?:fetch )?from "\/_jwks" (?:updated, \d+ keys|failed \(status \d+\): [^;]+; keeping the keys there are)|unknown kid|no signing keys available to verify the token|JWK #\d+ "[^"]*" skipped: [^,]+?(?= while |,))/;

# every block: the IdP's admin interface and the upstream of /mcp
add_block_preprocessor(sub {
    my $block = shift;
    my $config = $block->config;
    return unless defined $config;
    $block->set_value(config => $config . <<'_EOC_');
    location /admin/ {
        proxy_pass http://127.0.0.1:$TEST_NGINX_IDP_PORT;
    }
    location = /echo {
        return 200 "sub=[$http_x_user] auth=[$http_authorization]\n";
    }
_EOC_
});

run_tests();

__DATA__

=== TEST 1: cold start: the first request fetches the keys, the next ones use the cache
--- config
    location /mcp {
        mcp_oauth on;
        mcp_oauth_resource https://mcp.example.com/mcp;
        mcp_oauth_issuer https://auth.example.com;
        mcp_oauth_jwks_request /_jwks;
        proxy_set_header X-User $mcp_oauth_sub;
        proxy_pass http://127.0.0.1:$TEST_NGINX_SERVER_PORT/echo;
    }
    location = /_jwks {
        internal;
        proxy_pass http://127.0.0.1:$TEST_NGINX_IDP_PORT/jwks;
    }
--- pipelined_requests eval
[
    "GET /admin/mode?m=rsa1",
    "GET /mcp",                 # no keys yet: fetches and waits
    "GET /admin/count",
    "GET /mcp",                 # cached
    "GET /admin/count",
]
--- more_headers eval
[
    "",
    ::bearer('rs256'),
    "",
    ::bearer('rs256'),
    "",
]
--- error_code eval
[200, 200, 200, 200, 200]
--- response_body eval
[
    "ok",
    $::Ok,
    "1",
    $::Ok,
    "1",
]
--- grep_error_log eval: $::JwksLines
--- grep_error_log_out
mcp_oauth: JWKS from "/_jwks" updated, 1 keys
--- error_log eval
qr/\[info\] .*mcp_oauth: JWKS from "\/_jwks" updated, 1 keys/
--- no_error_log
[error]
[warn]



=== TEST 2: key rotation: a token with a new kid is accepted after exactly one refetch
--- config
    location /mcp {
        mcp_oauth on;
        mcp_oauth_resource https://mcp.example.com/mcp;
        mcp_oauth_issuer https://auth.example.com;
        mcp_oauth_jwks_request /_jwks;
        proxy_set_header X-User $mcp_oauth_sub;
        proxy_pass http://127.0.0.1:$TEST_NGINX_SERVER_PORT/echo;
    }
    location = /_jwks {
        internal;
        proxy_pass http://127.0.0.1:$TEST_NGINX_IDP_PORT/jwks;
    }
--- pipelined_requests eval
[
    "GET /admin/mode?m=rsa1",
    "GET /mcp",                     # rsa-1: cold start, 1 fetch
    "GET /admin/count",
    "GET /admin/mode?m=rotated",    # the IdP now has rsa-1 and rsa-2
    "GET /mcp",                     # rsa-2 is unknown: refetch
    "GET /admin/count",
    "GET /mcp",                     # rsa-1 still accepted
    "GET /mcp",                     # rsa-2 now known: no fetch
    "GET /admin/count",
]
--- more_headers eval
[
    "",
    ::bearer('rs256'),
    "",
    "",
    ::bearer('rs256-rotated'),
    "",
    ::bearer('rs256'),
    ::bearer('rs256-rotated'),
    "",
]
--- error_code eval
[200, 200, 200, 200, 200, 200, 200, 200, 200]
--- response_body eval
["ok", $::Ok, "1", "ok", $::Ok, "1", $::Ok, $::Ok, "1"]
--- grep_error_log eval: $::JwksLines
--- grep_error_log_out
mcp_oauth: JWKS from "/_jwks" updated, 1 keys
mcp_oauth: JWKS from "/_jwks" updated, 2 keys
--- no_error_log
[error]
[warn]



=== TEST 3: unknown kids refetch at most once per 30 s
--- config
    location /mcp {
        mcp_oauth on;
        mcp_oauth_resource https://mcp.example.com/mcp;
        mcp_oauth_issuer https://auth.example.com;
        mcp_oauth_jwks_request /_jwks;
        proxy_set_header X-User $mcp_oauth_sub;
        proxy_pass http://127.0.0.1:$TEST_NGINX_SERVER_PORT/echo;
    }
    location = /_jwks {
        internal;
        proxy_pass http://127.0.0.1:$TEST_NGINX_IDP_PORT/jwks;
    }
--- pipelined_requests eval
[
    "GET /admin/mode?m=rsa1",
    "GET /mcp",                 # cold start: fetch 1
    "GET /mcp",                 # kid "nope": one refetch allowed (fetch 2)
    "GET /admin/count",
    "GET /mcp",                 # kid "other": within 30 s, no fetch
    "GET /admin/count",
    "GET /mcp",                 # kid "nope" again: no fetch either
    "GET /mcp",                 # the known key still works
    "GET /admin/count",
]
--- more_headers eval
[
    "",
    ::bearer('rs256'),
    ::bearer('unknown-kid'),
    "",
    $::OtherKid,
    "",
    ::bearer('unknown-kid'),
    ::bearer('rs256'),
    "",
]
--- error_code eval
[200, 200, 401, 200, 401, 200, 401, 200, 200]
--- response_body eval
["ok", $::Ok, $::UnknownKid, "2", $::UnknownKid, "2", $::UnknownKid, $::Ok, "2"]
--- response_headers eval
["", "", $::UnknownKidChallenge, "", $::UnknownKidChallenge, "",
 $::UnknownKidChallenge, "", ""]
--- grep_error_log eval: $::JwksLines
--- grep_error_log_out
mcp_oauth: JWKS from "/_jwks" updated, 1 keys
mcp_oauth: JWKS from "/_jwks" updated, 1 keys
mcp_oauth: unknown kid
mcp_oauth: unknown kid
mcp_oauth: unknown kid
--- no_error_log
[error]
[warn]



=== TEST 4: IdP answers 500 after keys were cached: the keys are kept, the failure is logged
--- config
    location /mcp {
        mcp_oauth on;
        mcp_oauth_resource https://mcp.example.com/mcp;
        mcp_oauth_issuer https://auth.example.com;
        mcp_oauth_jwks_request /_jwks;
        proxy_set_header X-User $mcp_oauth_sub;
        proxy_pass http://127.0.0.1:$TEST_NGINX_SERVER_PORT/echo;
    }
    location = /_jwks {
        internal;
        proxy_pass http://127.0.0.1:$TEST_NGINX_IDP_PORT/jwks;
    }
--- pipelined_requests eval
[
    "GET /admin/mode?m=rsa1",
    "GET /mcp",                 # cold start: keys cached
    "GET /admin/mode?m=down",
    "GET /mcp",                 # unknown kid: the refetch fails
    "GET /admin/count",
    "GET /mcp",                 # the cached keys still serve
    "GET /admin/count",
]
--- more_headers eval
[
    "",
    ::bearer('rs256'),
    "",
    ::bearer('rs256-rotated'),
    "",
    ::bearer('rs256'),
    "",
]
--- error_code eval
[200, 200, 200, 401, 200, 200, 200]
--- response_body eval
["ok", $::Ok, "ok", $::UnknownKid, "1", $::Ok, "1"]
--- response_headers eval
["", "", "", $::UnknownKidChallenge, "", "", ""]
--- grep_error_log eval: $::JwksLines
--- grep_error_log_out
mcp_oauth: JWKS from "/_jwks" updated, 1 keys
mcp_oauth: JWKS fetch from "/_jwks" failed (status 500): no 200 response; keeping the keys there are
mcp_oauth: unknown kid
--- error_log eval
qr/\[error\] .*mcp_oauth: JWKS fetch from "\/_jwks" failed \(status 500\)/
--- no_error_log
[warn]



=== TEST 5: IdP answers garbage after keys were cached: the keys are kept, the failure is logged
--- config
    location /mcp {
        mcp_oauth on;
        mcp_oauth_resource https://mcp.example.com/mcp;
        mcp_oauth_issuer https://auth.example.com;
        mcp_oauth_jwks_request /_jwks;
        proxy_set_header X-User $mcp_oauth_sub;
        proxy_pass http://127.0.0.1:$TEST_NGINX_SERVER_PORT/echo;
    }
    location = /_jwks {
        internal;
        proxy_pass http://127.0.0.1:$TEST_NGINX_IDP_PORT/jwks;
    }
--- pipelined_requests eval
[
    "GET /admin/mode?m=rsa1",
    "GET /mcp",
    "GET /admin/mode?m=garbage",
    "GET /mcp",                 # unknown kid: the refetch gets "not json"
    "GET /admin/count",
    "GET /mcp",
    "GET /admin/count",
]
--- more_headers eval
[
    "",
    ::bearer('rs256'),
    "",
    ::bearer('rs256-rotated'),
    "",
    ::bearer('rs256'),
    "",
]
--- error_code eval
[200, 200, 200, 401, 200, 200, 200]
--- response_body eval
["ok", $::Ok, "ok", $::UnknownKid, "1", $::Ok, "1"]
--- response_headers eval
["", "", "", $::UnknownKidChallenge, "", "", ""]
--- grep_error_log eval: $::JwksLines
--- grep_error_log_out
mcp_oauth: JWKS from "/_jwks" updated, 1 keys
mcp_oauth: JWKS fetch from "/_jwks" failed (status 200): not valid JSON; keeping the keys there are
mcp_oauth: unknown kid
--- error_log eval
qr/\[error\] .*mcp_oauth: JWKS fetch from "\/_jwks" failed \(status 200\): not valid JSON/
--- no_error_log
[warn]



=== TEST 6: a JWK Set larger than the default subrequest_output_buffer_size: fetch fails, keys kept
--- config
    location /mcp {
        mcp_oauth on;
        mcp_oauth_resource https://mcp.example.com/mcp;
        mcp_oauth_issuer https://auth.example.com;
        mcp_oauth_jwks_request /_jwks;
        proxy_set_header X-User $mcp_oauth_sub;
        proxy_pass http://127.0.0.1:$TEST_NGINX_SERVER_PORT/echo;
    }
    location = /_jwks {
        internal;
        proxy_pass http://127.0.0.1:$TEST_NGINX_IDP_PORT/jwks;
    }
--- pipelined_requests eval
[
    "GET /admin/mode?m=rsa1",
    "GET /mcp",
    "GET /admin/mode?m=big",    # rsa-1 and rsa-2, but > 100 KB
    "GET /mcp",                 # rsa-2 unknown: the refetch is too large
    "GET /admin/count",
    "GET /mcp",
    "GET /admin/count",
]
--- more_headers eval
[
    "",
    ::bearer('rs256'),
    "",
    ::bearer('rs256-rotated'),
    "",
    ::bearer('rs256'),
    "",
]
--- error_code eval
[200, 200, 200, 401, 200, 200, 200]
--- response_body eval
["ok", $::Ok, "ok", $::UnknownKid, "1", $::Ok, "1"]
--- response_headers eval
["", "", "", $::UnknownKidChallenge, "", "", ""]
--- grep_error_log eval: $::JwksLines
--- grep_error_log_out eval
qr/\Amcp_oauth: JWKS from "\/_jwks" updated, 1 keys
mcp_oauth: JWKS fetch from "\/_jwks" failed \(status \d+\): [^\n]+; keeping the keys there are
mcp_oauth: unknown kid
\z/
--- error_log eval
qr/\[error\] .*mcp_oauth: JWKS fetch from "\/_jwks" failed \(status 200\): document larger than subrequest_output_buffer_size/
--- no_error_log eval
qr/\[warn\] .*mcp_oauth: /



=== TEST 7: a background refresh that gets a too-large JWK Set: valid tokens are still served
--- config
    location /mcp {
        mcp_oauth on;
        mcp_oauth_resource https://mcp.example.com/mcp;
        mcp_oauth_issuer https://auth.example.com;
        mcp_oauth_jwks_request /_jwks;
        mcp_oauth_jwks_cache 1s;
        proxy_set_header X-User $mcp_oauth_sub;
        proxy_pass http://127.0.0.1:$TEST_NGINX_SERVER_PORT/echo;
    }
    location = /_jwks {
        internal;
        proxy_pass http://127.0.0.1:$TEST_NGINX_IDP_PORT/jwks;
    }
--- pipelined_requests eval
[
    "GET /admin/mode?m=rsa1",
    "GET /mcp",
    "GET /admin/mode?m=big",
    "GET /admin/sleep?s=2",     # cache expired
    "GET /mcp",                 # stale keys serve; the refresh is too large
    "GET /admin/count",         # (same keep-alive connection)
]
--- more_headers eval
["", ::bearer('rs256'), "", "", ::bearer('rs256'), ""]
--- error_code eval
[200, 200, 200, 200, 200, 200]
--- response_body eval
["ok", $::Ok, "ok", "ok", $::Ok, "1"]
--- timeout: 10
--- grep_error_log eval: $::JwksLines
--- grep_error_log_out eval
qr/\Amcp_oauth: JWKS from "\/_jwks" updated, 1 keys
mcp_oauth: JWKS fetch from "\/_jwks" failed \(status \d+\): [^\n]+; keeping the keys there are
\z/
--- error_log eval
qr/\[error\] .*mcp_oauth: JWKS fetch from "\/_jwks" failed \(status 200\): document larger than subrequest_output_buffer_size/
--- no_error_log eval
qr/\[warn\] .*mcp_oauth: /



=== TEST 8: the same large JWK Set works from a cold start with subrequest_output_buffer_size 256k
--- config
    location /mcp {
        mcp_oauth on;
        mcp_oauth_resource https://mcp.example.com/mcp;
        mcp_oauth_issuer https://auth.example.com;
        mcp_oauth_jwks_request /_jwks;
        proxy_set_header X-User $mcp_oauth_sub;
        proxy_pass http://127.0.0.1:$TEST_NGINX_SERVER_PORT/echo;
    }
    location = /_jwks {
        internal;
        subrequest_output_buffer_size 256k;
        proxy_pass http://127.0.0.1:$TEST_NGINX_IDP_PORT/jwks;
    }
--- pipelined_requests eval
[
    "GET /admin/mode?m=big",
    "GET /mcp",                 # rsa-2
    "GET /mcp",                 # rsa-1
    "GET /admin/count",
]
--- more_headers eval
["", ::bearer('rs256-rotated'), ::bearer('rs256'), ""]
--- error_code eval
[200, 200, 200, 200]
--- response_body eval
["ok", $::Ok, $::Ok, "1"]
--- grep_error_log eval: $::JwksLines
--- grep_error_log_out
mcp_oauth: JWKS from "/_jwks" updated, 2 keys
--- no_error_log
[error]
[warn]



=== TEST 9: cold start with the IdP down: 503 + Retry-After, no new fetch for 5 s, then keys
--- config
    location /mcp {
        mcp_oauth on;
        mcp_oauth_resource https://mcp.example.com/mcp;
        mcp_oauth_issuer https://auth.example.com;
        mcp_oauth_jwks_request /_jwks;
        proxy_set_header X-User $mcp_oauth_sub;
        proxy_pass http://127.0.0.1:$TEST_NGINX_SERVER_PORT/echo;
    }
    location = /_jwks {
        internal;
        proxy_pass http://127.0.0.1:$TEST_NGINX_IDP_PORT/jwks;
    }
--- pipelined_requests eval
[
    "GET /admin/mode?m=down",
    "GET /mcp",                 # no keys, the fetch fails: 503
    "GET /admin/count",
    "GET /admin/mode?m=rsa1",
    "GET /mcp",                 # within 5 s of the failure: no fetch, 503
    "GET /admin/count",
    "GET /admin/sleep?s=6",
    "GET /mcp",                 # retry window over: fetch, 200
    "GET /admin/count",
]
--- more_headers eval
[
    "",
    ::bearer('rs256'),
    "",
    "",
    ::bearer('rs256'),
    "",
    "",
    ::bearer('rs256'),
    "",
]
--- error_code eval
[200, 503, 200, 200, 503, 200, 200, 200, 200]
--- response_body eval
["ok", $::Unavailable, "1", "ok", $::Unavailable, "0", "ok", $::Ok, "1"]
--- response_headers eval
["", $::UnavailableHeaders, "", "", $::UnavailableHeaders, "", "", "", ""]
--- timeout: 20
--- grep_error_log eval: $::JwksLines
--- grep_error_log_out
mcp_oauth: JWKS fetch from "/_jwks" failed (status 500): no 200 response; keeping the keys there are
mcp_oauth: no signing keys available to verify the token
mcp_oauth: no signing keys available to verify the token
mcp_oauth: JWKS from "/_jwks" updated, 1 keys
--- error_log eval
qr/\[error\] .*mcp_oauth: JWKS fetch from "\/_jwks" failed \(status 500\)/
--- no_error_log
[warn]



=== TEST 10: cold start with the IdP unreachable (connection refused): 503, no hang
--- config
    location /mcp {
        mcp_oauth on;
        mcp_oauth_resource https://mcp.example.com/mcp;
        mcp_oauth_issuer https://auth.example.com;
        mcp_oauth_jwks_request /_jwks;
        proxy_set_header X-User $mcp_oauth_sub;
        proxy_pass http://127.0.0.1:$TEST_NGINX_SERVER_PORT/echo;
    }
    location = /_jwks {
        internal;
        proxy_pass http://127.0.0.1:1/jwks;
    }
--- pipelined_requests eval
["GET /mcp", "GET /mcp"]
--- more_headers eval
[::bearer('rs256'), ::bearer('rs256')]
--- error_code eval
[503, 503]
--- response_body eval
[$::Unavailable, $::Unavailable]
--- response_headers eval
[$::UnavailableHeaders, $::UnavailableHeaders]
--- grep_error_log eval: $::JwksLines
--- grep_error_log_out
mcp_oauth: JWKS fetch from "/_jwks" failed (status 502): no 200 response; keeping the keys there are
mcp_oauth: no signing keys available to verify the token
mcp_oauth: no signing keys available to verify the token
--- error_log eval
[
    qr/\[error\] .*connect\(\) failed \(111: Connection refused\)/,
    qr/\[error\] .*mcp_oauth: JWKS fetch from "\/_jwks" failed/,
]
--- no_error_log
[warn]



=== TEST 11: mcp_oauth_jwks_cache expiry: stale keys serve while a background refresh runs
--- config
    location /mcp {
        mcp_oauth on;
        mcp_oauth_resource https://mcp.example.com/mcp;
        mcp_oauth_issuer https://auth.example.com;
        mcp_oauth_jwks_request /_jwks;
        mcp_oauth_jwks_cache 1s;
        proxy_set_header X-User $mcp_oauth_sub;
        proxy_pass http://127.0.0.1:$TEST_NGINX_SERVER_PORT/echo;
    }
    location = /_jwks {
        internal;
        proxy_pass http://127.0.0.1:$TEST_NGINX_IDP_PORT/jwks;
    }
--- pipelined_requests eval
[
    "GET /admin/mode?m=rsa1",
    "GET /mcp",                 # cold start: fetch 1
    "GET /admin/count",
    "GET /admin/sleep?s=2",     # the cached keys are now older than 1 s
    "GET /mcp",                 # stale keys serve; background refresh
    "GET /admin/count",
]
--- more_headers eval
["", ::bearer('rs256'), "", "", ::bearer('rs256'), ""]
--- error_code eval
[200, 200, 200, 200, 200, 200]
--- response_body eval
["ok", $::Ok, "1", "ok", $::Ok, "2"]
--- timeout: 10
--- grep_error_log eval: $::JwksLines
--- grep_error_log_out
mcp_oauth: JWKS from "/_jwks" updated, 1 keys
mcp_oauth: JWKS from "/_jwks" updated, 1 keys
--- no_error_log
[error]
[warn]



=== TEST 12: a failed background refresh keeps serving the stale keys and is not retried for 5 s
--- config
    location /mcp {
        mcp_oauth on;
        mcp_oauth_resource https://mcp.example.com/mcp;
        mcp_oauth_issuer https://auth.example.com;
        mcp_oauth_jwks_request /_jwks;
        mcp_oauth_jwks_cache 1s;
        proxy_set_header X-User $mcp_oauth_sub;
        proxy_pass http://127.0.0.1:$TEST_NGINX_SERVER_PORT/echo;
    }
    location = /_jwks {
        internal;
        proxy_pass http://127.0.0.1:$TEST_NGINX_IDP_PORT/jwks;
    }
--- pipelined_requests eval
[
    "GET /admin/mode?m=rsa1",
    "GET /mcp",                 # cold start
    "GET /admin/mode?m=down",
    "GET /admin/sleep?s=2",     # cache expired
    "GET /mcp",                 # stale keys serve; the refresh fails
    "GET /mcp",                 # within 5 s of the failure: no fetch
    "GET /admin/count",
]
--- more_headers eval
["", ::bearer('rs256'), "", "", ::bearer('rs256'), ::bearer('rs256'), ""]
--- error_code eval
[200, 200, 200, 200, 200, 200, 200]
--- response_body eval
["ok", $::Ok, "ok", "ok", $::Ok, $::Ok, "1"]
--- timeout: 10
--- grep_error_log eval: $::JwksLines
--- grep_error_log_out
mcp_oauth: JWKS from "/_jwks" updated, 1 keys
mcp_oauth: JWKS fetch from "/_jwks" failed (status 500): no 200 response; keeping the keys there are
--- no_error_log
[warn]



=== TEST 13: the JWKS subrequest is a bare GET: no client headers, no body
--- config
    location /mcp {
        mcp_oauth on;
        mcp_oauth_resource https://mcp.example.com/mcp;
        mcp_oauth_issuer https://auth.example.com;
        mcp_oauth_jwks_request /_jwks;
        proxy_set_header X-User $mcp_oauth_sub;
        proxy_pass http://127.0.0.1:$TEST_NGINX_SERVER_PORT/echo;
    }
    location = /_jwks {
        internal;
        proxy_pass http://127.0.0.1:$TEST_NGINX_IDP_PORT/jwks;
    }
--- pipelined_requests eval
[
    "GET /admin/mode?m=rsa1",
    qq{POST /mcp\n{"jsonrpc":"2.0","id":1,"method":"ping"}},
    "GET /admin/headers",
    "GET /admin/request",
    "GET /admin/count",
]
--- more_headers eval
[
    "",
    ::bearer('rs256') . "\nCookie: a=b\nX-Secret: s\nContent-Type: application/json",
    "",
    "",
    "",
]
--- error_code eval
[200, 200, 200, 200, 200]
--- response_body eval
["ok", $::Ok, "host\n", "GET /jwks\n", "1"]
--- grep_error_log eval: $::JwksLines
--- grep_error_log_out
mcp_oauth: JWKS from "/_jwks" updated, 1 keys
--- no_error_log
[error]
[warn]



=== TEST 14: an oct-only JWK Set fetched after keys were cached: no usable key, HS256 token refused
--- config
    location /mcp {
        mcp_oauth on;
        mcp_oauth_resource https://mcp.example.com/mcp;
        mcp_oauth_issuer https://auth.example.com;
        mcp_oauth_jwks_request /_jwks;
        proxy_set_header X-User $mcp_oauth_sub;
        proxy_pass http://127.0.0.1:$TEST_NGINX_SERVER_PORT/echo;
    }
    location = /_jwks {
        internal;
        proxy_pass http://127.0.0.1:$TEST_NGINX_IDP_PORT/jwks;
    }
--- pipelined_requests eval
[
    "GET /admin/mode?m=rsa1",
    "GET /mcp",
    "GET /admin/mode?m=oct",
    "GET /mcp",                 # kid hs-1 unknown: refetch, oct skipped
    "GET /admin/count",
    "GET /mcp",
]
--- more_headers eval
["", ::bearer('rs256'), "", ::bearer('hs256'), "", ::bearer('rs256')]
--- error_code eval
[200, 200, 200, 401, 200, 200]
--- response_body eval
["ok", $::Ok, "ok", $::UnknownKid, "1", $::Ok]
--- response_headers eval
["", "", "", $::UnknownKidChallenge, "", ""]
--- grep_error_log eval: $::JwksLines
--- grep_error_log_out
mcp_oauth: JWKS from "/_jwks" updated, 1 keys
mcp_oauth: JWK #0 "hs-1" skipped: symmetric keys are accepted only from mcp_oauth_jwks files
mcp_oauth: JWKS fetch from "/_jwks" failed (status 200): no usable key in the JWK Set; keeping the keys there are
mcp_oauth: unknown kid
--- error_log eval
[
    qr/\[warn\] .*mcp_oauth: JWK #0 "hs-1" skipped: symmetric keys are accepted only from mcp_oauth_jwks files/,
    qr/\[error\] .*mcp_oauth: JWKS fetch from "\/_jwks" failed \(status 200\): no usable key in the JWK Set/,
]



=== TEST 15: oct keys in a fetched set are skipped, the other keys are used
--- config
    location /mcp {
        mcp_oauth on;
        mcp_oauth_resource https://mcp.example.com/mcp;
        mcp_oauth_issuer https://auth.example.com;
        mcp_oauth_jwks_request /_jwks;
        proxy_set_header X-User $mcp_oauth_sub;
        proxy_pass http://127.0.0.1:$TEST_NGINX_SERVER_PORT/echo;
    }
    location = /_jwks {
        internal;
        proxy_pass http://127.0.0.1:$TEST_NGINX_IDP_PORT/jwks;
    }
--- pipelined_requests eval
[
    "GET /admin/mode?m=mixed",  # rsa-1 and the oct key hs-1
    "GET /mcp",                 # cold start (the fetch was just done for
                                # this request: no unknown-kid refetch)
    "GET /mcp",
    "GET /admin/count",
]
--- more_headers eval
["", ::bearer('hs256'), ::bearer('rs256'), ""]
--- error_code eval
[200, 401, 200, 200]
--- response_body eval
["ok", $::UnknownKid, $::Ok, "1"]
--- response_headers eval
["", $::UnknownKidChallenge, "", ""]
--- grep_error_log eval: $::JwksLines
--- grep_error_log_out
mcp_oauth: JWK #1 "hs-1" skipped: symmetric keys are accepted only from mcp_oauth_jwks files
mcp_oauth: JWKS from "/_jwks" updated, 1 keys
mcp_oauth: unknown kid
--- error_log eval
qr/\[warn\] .*mcp_oauth: JWK #1 "hs-1" skipped: symmetric keys are accepted only from mcp_oauth_jwks files/
--- no_error_log
[error]



=== TEST 16: cold start with an oct-only JWK Set: no usable key at all, 503
--- config
    location /mcp {
        mcp_oauth on;
        mcp_oauth_resource https://mcp.example.com/mcp;
        mcp_oauth_issuer https://auth.example.com;
        mcp_oauth_jwks_request /_jwks;
        proxy_set_header X-User $mcp_oauth_sub;
        proxy_pass http://127.0.0.1:$TEST_NGINX_SERVER_PORT/echo;
    }
    location = /_jwks {
        internal;
        proxy_pass http://127.0.0.1:$TEST_NGINX_IDP_PORT/jwks;
    }
--- pipelined_requests eval
["GET /admin/mode?m=oct", "GET /mcp", "GET /admin/count"]
--- more_headers eval
["", ::bearer('hs256'), ""]
--- error_code eval
[200, 503, 200]
--- response_body eval
["ok", $::Unavailable, "1"]
--- response_headers eval
["", $::UnavailableHeaders, ""]
--- grep_error_log eval: $::JwksLines
--- grep_error_log_out
mcp_oauth: JWK #0 "hs-1" skipped: symmetric keys are accepted only from mcp_oauth_jwks files
mcp_oauth: JWKS fetch from "/_jwks" failed (status 200): no usable key in the JWK Set; keeping the keys there are
mcp_oauth: no signing keys available to verify the token



=== TEST 17: a slow IdP on cold start: the user's proxy_read_timeout ends the fetch, 503, no hang
--- config
    location /mcp {
        mcp_oauth on;
        mcp_oauth_resource https://mcp.example.com/mcp;
        mcp_oauth_issuer https://auth.example.com;
        mcp_oauth_jwks_request /_jwks;
        proxy_set_header X-User $mcp_oauth_sub;
        proxy_pass http://127.0.0.1:$TEST_NGINX_SERVER_PORT/echo;
    }
    location = /_jwks {
        internal;
        proxy_read_timeout 1s;
        proxy_pass http://127.0.0.1:$TEST_NGINX_IDP_PORT/jwks;
    }
--- pipelined_requests eval
[
    "GET /admin/mode?m=slow",   # the IdP answers after 3 s
    "GET /mcp",
    "GET /admin/count",         # waits until the IdP is done sleeping
]
--- more_headers eval
["", ::bearer('rs256'), ""]
--- error_code eval
[200, 503, 200]
--- response_body eval
["ok", $::Unavailable, "1"]
--- response_headers eval
["", $::UnavailableHeaders, ""]
--- timeout: 10
--- grep_error_log eval: $::JwksLines
--- grep_error_log_out
mcp_oauth: JWKS fetch from "/_jwks" failed (status 504): no 200 response; keeping the keys there are
mcp_oauth: no signing keys available to verify the token
--- error_log eval
[
    qr/\[error\] .*upstream timed out \(110: Connection timed out\) while reading response header from upstream/,
    qr/\[error\] .*mcp_oauth: JWKS fetch from "\/_jwks" failed/,
]



=== TEST 18: concurrent requests on cold start wait for one fetch (two parallel SSI includes)
--- config
    location /mcp {
        mcp_oauth on;
        mcp_oauth_resource https://mcp.example.com/mcp;
        mcp_oauth_issuer https://auth.example.com;
        mcp_oauth_jwks_request /_jwks;
        # how long the request waited for the keys
        proxy_set_header X-User "$mcp_oauth_sub waited=$request_time";
        proxy_pass http://127.0.0.1:$TEST_NGINX_SERVER_PORT/echo;
    }
    location = /_jwks {
        internal;
        proxy_pass http://127.0.0.1:$TEST_NGINX_IDP_PORT/jwks;
    }
    # two client requests to /mcp at the same time, over their own
    # connections, with the client's Authorization header
    location = /both {
        ssi on;
        ssi_types *;
        alias $TEST_NGINX_SERVER_ROOT/html/both.html;
    }
    location = /p1 {
        proxy_pass http://127.0.0.1:$TEST_NGINX_SERVER_PORT/mcp;
    }
    location = /p2 {
        proxy_pass http://127.0.0.1:$TEST_NGINX_SERVER_PORT/mcp;
    }
--- user_files
>>> both.html
<!--# include virtual="/p1" --><!--# include virtual="/p2" -->
--- pipelined_requests eval
[
    "GET /admin/mode?m=slow",   # the fetch takes 3 s
    "GET /both",
    "GET /admin/count",
]
--- more_headers eval
["", ::bearer('rs256'), ""]
--- error_code eval
[200, 200, 200]
--- response_body_like eval
[
    qr/\Aok\z/,
    # the second request came while the first one's fetch was running, and
    # waited for it: both took the 3 s of the fetch
    qr/\Asub=\[user-1 waited=[2-9]\.\d+\] auth=\[\]\nsub=\[user-1 waited=[2-9]\.\d+\] auth=\[\]\n\n\z/,
    qr/\A1\z/,
]
--- timeout: 10
--- grep_error_log eval: $::JwksLines
--- grep_error_log_out
mcp_oauth: JWKS from "/_jwks" updated, 1 keys
--- no_error_log
[error]
[warn]



=== TEST 19: a background refresh from an IdP slower than proxy_read_timeout: the cached keys keep serving, nothing waits for it
--- config
    location /mcp {
        mcp_oauth on;
        mcp_oauth_resource https://mcp.example.com/mcp;
        mcp_oauth_issuer https://auth.example.com;
        mcp_oauth_jwks_request /_jwks;
        mcp_oauth_jwks_cache 1s;
        proxy_set_header X-User $mcp_oauth_sub;
        proxy_pass http://127.0.0.1:$TEST_NGINX_SERVER_PORT/echo;
    }
    location = /_jwks {
        internal;
        proxy_read_timeout 1s;
        proxy_pass http://127.0.0.1:$TEST_NGINX_IDP_PORT/jwks;
    }
--- pipelined_requests eval
[
    "GET /admin/mode?m=rsa1",
    "GET /mcp",                 # cold start
    "GET /admin/mode?m=slow",
    "GET /admin/sleep?s=2",     # cache expired
    "GET /mcp",                 # stale keys serve; the refresh starts
    "GET /mcp",                 # and again, while the IdP sleeps
    "GET /admin/sleep?s=1",     # (the IdP answers in turn: after its 3 s)
    "GET /mcp",                 # the refresh timed out: stale keys still
]
--- more_headers eval
["", ::bearer('rs256'), "", "", ::bearer('rs256'), ::bearer('rs256'), "", ::bearer('rs256')]
--- error_code eval
[200, 200, 200, 200, 200, 200, 200, 200]
--- response_body eval
["ok", $::Ok, "ok", "ok", $::Ok, $::Ok, "ok", $::Ok]
--- timeout: 15
--- error_log eval
qr/\[error\] .*mcp_oauth: JWKS fetch from "\/_jwks" failed/
--- no_error_log
[alert]



=== TEST 20: a 10 MB JWK Set fetched after keys were cached: the fetch fails, the keys are kept, valid tokens still pass
--- config
    location /mcp {
        mcp_oauth on;
        mcp_oauth_resource https://mcp.example.com/mcp;
        mcp_oauth_issuer https://auth.example.com;
        mcp_oauth_jwks_request /_jwks;
        mcp_oauth_jwks_cache 1s;
        proxy_set_header X-User $mcp_oauth_sub;
        proxy_pass http://127.0.0.1:$TEST_NGINX_SERVER_PORT/echo;
    }
    location = /_jwks {
        internal;
        proxy_pass http://127.0.0.1:$TEST_NGINX_IDP_PORT/jwks;
    }
--- pipelined_requests eval
[
    "GET /admin/mode?m=rsa1",
    "GET /mcp",
    "GET /admin/mode?m=huge",
    "GET /admin/sleep?s=2",     # cache expired
    "GET /mcp",                 # stale keys serve; the refresh gets 10 MB
    "GET /admin/sleep?s=1",
    "GET /mcp",
    "GET /admin/count",
]
--- more_headers eval
["", ::bearer('rs256'), "", "", ::bearer('rs256'), "", ::bearer('rs256'), ""]
--- error_code eval
[200, 200, 200, 200, 200, 200, 200, 200]
--- response_body eval
["ok", $::Ok, "ok", "ok", $::Ok, "ok", $::Ok, "1"]
--- timeout: 20
--- error_log eval
qr/\[error\] .*mcp_oauth: JWKS fetch from "\/_jwks" failed \(status 200\): document larger than subrequest_output_buffer_size/
--- no_error_log
[alert]




=== TEST 21: a fetched set's RSA key with e = 1 and a key with "key_ops": ["encrypt"] are skipped, the forged token is refused
--- config
    location /mcp {
        mcp_oauth on;
        mcp_oauth_resource https://mcp.example.com/mcp;
        mcp_oauth_issuer https://auth.example.com;
        mcp_oauth_jwks_request /_jwks;
        proxy_set_header X-User $mcp_oauth_sub;
        proxy_pass http://127.0.0.1:$TEST_NGINX_SERVER_PORT/echo;
    }
    location = /_jwks {
        internal;
        proxy_pass http://127.0.0.1:$TEST_NGINX_IDP_PORT/jwks;
    }
--- pipelined_requests eval
[
    "GET /admin/mode?m=badkeys",
    "GET /mcp",                 # cold start: the e = 1 key is not loaded
    "GET /mcp",                 # rsa-1 unknown: one refetch, still skipped
    "GET /mcp",
    "GET /admin/count",
]
--- more_headers eval
["", ::bearer('rsa-e1-forged'), ::bearer('rs256'), ::bearer('es256'), ""]
--- error_code eval
[200, 401, 401, 200, 200]
--- response_body eval
["ok", $::UnknownKid, $::UnknownKid, $::Ok, "2"]
--- response_headers eval
["", $::UnknownKidChallenge, $::UnknownKidChallenge, "", ""]
--- grep_error_log eval: $::JwksLines
--- grep_error_log_out
mcp_oauth: JWK #0 "rsa-e1" skipped: RSA public exponent is not odd and at least 3
mcp_oauth: JWK #1 "rsa-1" skipped: "key_ops" does not include "verify"
mcp_oauth: JWKS from "/_jwks" updated, 1 keys
mcp_oauth: unknown kid
mcp_oauth: JWK #0 "rsa-e1" skipped: RSA public exponent is not odd and at least 3
mcp_oauth: JWK #1 "rsa-1" skipped: "key_ops" does not include "verify"
mcp_oauth: JWKS from "/_jwks" updated, 1 keys
mcp_oauth: unknown kid
--- no_error_log
[error]
