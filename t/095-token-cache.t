# The verified-token cache (mcp_oauth_token_cache size | off; http level,
# default 4m): the SHA-256 of a token maps to the claims its verification
# found.  A hit skips decoding and the signature; the location's checks (exp
# with its leeway, nbf, iat, iss, aud, scopes) run on every request; an entry
# only serves the keys that verified it (the mcp_oauth_jwks file, the fetched
# key set and its generation).
#
# Hits and misses are seen in the debug log (nginx is built --with-debug):
#
#   mcp_oauth: token found in the cache      a hit
#   mcp_oauth: token verified, scope "..."   after every successful check
#
# so a first request logs "token verified" and a hit logs "token found in
# the cache" then "token verified".  Blocks that look at them run with
# --- log_level: debug and assert the exact sequence with --- grep_error_log.
#
# The helper server of t/lib/McpOAuth/Server.pm (McpOAuth::Server::idp),
# forked by this file on 127.0.0.1:$TEST_NGINX_CACHE_IDP_PORT (default 19951),
# plays the identity provider and the clock:
#
#   GET /jwks                 the JWK Set of the current mode (counted)
#   GET /admin/mode?m=MODE    sets the mode (rsa1, rsa2, rotated: the files
#                             in t/data/jwks), resets the counter; "ok"
#   GET /admin/count          /jwks requests since the last reset
#   GET /admin/sleep?s=N      answers "ok" after N seconds
#
# Every block's nginx has /admin/ (proxied to it) and /echo (the upstream of
# the protected locations, reflecting the identity variables), and is
# restarted for every block, so each block starts with an empty cache.  The
# steps of a block go as --- pipelined_requests on one keep-alive
# connection; with check_accum_error_log every log check sees the whole log.
#
# nginx runs with a master process here: TEST 16 reloads it (SIGHUP) in the
# middle of a block, from a response body check, to show that entries made
# under one configuration do not serve the next one.

use strict;
use warnings;
use lib 't/lib';
use Test::Nginx::Socket 'no_plan';
use McpOAuth;
use McpOAuth::Server;
use JSON::PP ();
use Time::HiRes ();

McpOAuth::setup();
no_shuffle();
log_level('info');
check_accum_error_log();
master_on();    # a reload (TEST 16) needs a master process

$ENV{TEST_NGINX_HTML_DIR} ||= html_dir();

# ------------------------------------------------------------------ the IdP

my %Doc = map {
    my $f = "$ENV{TEST_NGINX_DATA}/jwks/$_.json";
    open my $fh, '<', $f or die "cannot open $f: $!";
    local $/;
    ($_ => [200, 'application/json', scalar <$fh>]);
} qw(rsa1 rsa2 rotated);

McpOAuth::Server::start(name => 'IdP', port_env => 'TEST_NGINX_CACHE_IDP_PORT',
                        default_port => 19951,
                        handler => McpOAuth::Server::idp(docs => \%Doc, mode => 'rsa1'));

# -------------------------------------------------------- block helpers

our $Meta = 'https://mcp.example.com/.well-known/oauth-protected-resource/mcp';

sub bearer { "Authorization: Bearer " . McpOAuth::token($_[0]) }
sub auth   { "Authorization: Bearer $_[0]" }

# what /echo answers for an allowed request
sub seen {
    my ($sub, $scope) = @_;
    return "sub=[$sub] scope=[" . ($scope // 'mcp:tools') . "] auth=[]\n";
}

sub invalid_body {
    return "{\"error\":\"invalid_token\",\"error_description\":\"$_[0]\"}";
}

sub invalid {
    my ($reason, $meta) = @_;
    return "WWW-Authenticate: Bearer error=\"invalid_token\", "
         . "error_description=\"$reason\", resource_metadata=\"" . ($meta // $Meta) . "\"";
}

# two tokens that differ only in sub and scope
our $UserA = McpOAuth::mint(key => 'rsa1',
                            claims => '{"sub":"user-a","scope":"mcp:tools admin"}');
our $UserB = McpOAuth::mint(key => 'rsa1',
                            claims => '{"sub":"user-b","scope":"mcp:tools"}');

# 60 distinct tokens, each with a 600-byte claim so that few fit in 32k
our @Many = map {
    McpOAuth::mint(key => 'rsa1',
                   claims => "{\"sub\":\"many-$_\",\"pad\":\"" . ('p' x 600) . "\"}")
} 1 .. 60;

# a JWK Set with the rsa-evil public key under rsa1's kid "rsa-1"
our $EvilJwks = do {
    my $f = "$ENV{TEST_NGINX_DATA}/keys/rsa-evil.public.jwk";
    open my $fh, '<', $f or die "cannot open $f: $!";
    local $/;
    my $jwk = JSON::PP->new->decode(scalar <$fh>);
    die "rsa-evil must have kid rsa-1" unless $jwk->{kid} eq 'rsa-1';
    JSON::PP->new->canonical->encode({ keys => [$jwk] });
};

# the rsa1 JWK Set, and a token signed by rsa-evil (kid "rsa-1" too)
our $Rsa1Jwks = do {
    my $f = "$ENV{TEST_NGINX_DATA}/jwks/rsa1.json";
    open my $fh, '<', $f or die "cannot open $f: $!";
    local $/;
    scalar <$fh>;
};
our $Evil = McpOAuth::mint(key => 'rsa-evil');

# blocks named "... after reloads ...": once their first response is in,
# the key file html/keys.json gets $EvilJwks and nginx reloads twice (SIGHUP
# to the master process; the new worker has the new configuration)
add_response_body_check(sub {
    my ($block, $body, $req_idx) = @_;
    return unless $block->name =~ /after reloads/ && $req_idx == 0;

    my $root = $ENV{TEST_NGINX_SERVER_ROOT} // server_root();
    my $log = "$root/logs/error.log";
    my $reloads = sub {
        open my $fh, '<', $log or return 0;
        local $/;
        my $text = <$fh> // '';
        return scalar(() = $text =~ /: start worker process /g);
    };
    my $before = $reloads->();

    open my $out, '>', "$root/html/keys.json" or die "keys.json: $!";
    print $out $EvilJwks;
    close $out;

    open my $pf, '<', "$root/logs/nginx.pid" or die "nginx.pid: $!";
    chomp(my $pid = <$pf> // '');
    close $pf;

    # twice: the second configuration is loaded while the first one still
    # exists, the third may get the first one's addresses
    for my $n (1, 2) {
        kill 'HUP', $pid or die "cannot signal nginx ($pid): $!";
        for (1 .. 50) {
            last if $reloads->() >= $before + $n;
            Time::HiRes::sleep(0.1);
        }
        Time::HiRes::sleep(0.3);    # the old worker stops accepting
    }
});

# the cache's debug lines and the reasons of the decisions around them
our $CacheLines = qr/mcp_oauth: (?:token found in the cache|token verified|token expired|token not yet valid \(nbf\)|token issued in the future \(iat\)|token not issued for this resource|untrusted issuer|unknown kid|signature verification failed|insufficient scope|JWKS from "\/_jwks" updated, \d+ keys)/;

# every block: its name as a comment (nginx restarts for every block, so
# each starts with an empty cache), the resource and issuer at server level,
# the keys unless the block chooses its own, the IdP's admin interface and
# the echo upstream
add_block_preprocessor(sub {
    my $block = shift;
    my $config = $block->config;
    return unless defined $config;
    my $head = "    # " . $block->name . "\n" . <<'_EOC_';
    mcp_oauth_resource https://mcp.example.com/mcp;
    mcp_oauth_issuer https://auth.example.com;
_EOC_
    $head .= "    mcp_oauth_jwks \$TEST_NGINX_DATA/jwks/main.json;\n"
        unless $config =~ /mcp_oauth_jwks/;
    $block->set_value(config => $head . $config . <<'_EOC_');
    location /admin/ {
        proxy_pass http://127.0.0.1:$TEST_NGINX_CACHE_IDP_PORT;
    }
    location = /echo {
        return 200 "sub=[$http_x_user] scope=[$http_x_scope] auth=[$http_authorization]\n";
    }
_EOC_
});

# a protected location proxying to /echo: PATH, then extra directives
sub loc {
    my ($path, @more) = @_;
    return "    location $path {\n"
         . "        mcp_oauth on;\n"
         . join('', map { "        $_\n" } @more)
         . "        proxy_set_header X-User \$mcp_oauth_sub;\n"
         . "        proxy_set_header X-Scope \$mcp_oauth_scope;\n"
         . "        proxy_pass http://127.0.0.1:\$TEST_NGINX_SERVER_PORT/echo;\n"
         . "    }\n";
}

run_tests();

__DATA__

=== TEST 1: a token is verified once, then served from the cache
--- config eval: ::loc('/mcp')
--- log_level: debug
--- pipelined_requests eval
["GET /mcp", "GET /mcp", "GET /mcp"]
--- more_headers eval
[::bearer('rs256'), ::bearer('rs256'), ::bearer('rs256')]
--- error_code eval
[200, 200, 200]
--- response_body eval
[::seen('user-1'), ::seen('user-1'), ::seen('user-1')]
--- grep_error_log eval: qr/mcp_oauth: (?:token found in the cache|token verified)/
--- grep_error_log_out
mcp_oauth: token verified
mcp_oauth: token found in the cache
mcp_oauth: token verified
mcp_oauth: token found in the cache
mcp_oauth: token verified
--- no_error_log
[error]
[warn]



=== TEST 2: a cached token is never accepted past exp (+ the location's leeway)
--- config eval
::loc('/mcp', 'mcp_oauth_leeway 0;') . ::loc('/lenient', 'mcp_oauth_leeway 60s;')
--- log_level: debug
--- pipelined_requests eval
[
    "GET /mcp",                 # exp in 15 s: verified and cached
    "GET /mcp",                 # a hit
    "GET /admin/sleep?s=16",    # now past exp
    "GET /mcp",                 # a hit, but expired
    "GET /lenient",             # a hit, within this location's leeway
    "GET /mcp",
]
--- more_headers eval
# 15 s: nginx under valgrind takes seconds to start
my $t = McpOAuth::mint(key => 'rsa1', 'exp-in' => 15);
[::auth($t), ::auth($t), "", ::auth($t), ::auth($t), ::auth($t)]
--- error_code eval
[200, 200, 200, 401, 200, 401]
--- response_headers eval
["", "", "", ::invalid('token expired'), "", ::invalid('token expired')]
--- response_body eval
[
    ::seen('user-1'),
    ::seen('user-1'),
    "ok",
    ::invalid_body('token expired'),
    ::seen('user-1'),
    ::invalid_body('token expired'),
]
--- timeout: 25
--- grep_error_log eval: $::CacheLines
--- grep_error_log_out
mcp_oauth: token verified
mcp_oauth: token found in the cache
mcp_oauth: token verified
mcp_oauth: token found in the cache
mcp_oauth: token expired
mcp_oauth: token found in the cache
mcp_oauth: token verified
mcp_oauth: token found in the cache
mcp_oauth: token expired
--- no_error_log
[error]
[warn]



=== TEST 3: two tokens that differ only in sub and scope each keep their own claims
--- config eval
::loc('/mcp') . ::loc('/admin-tools', 'mcp_oauth_required_scope admin;')
--- log_level: debug
--- pipelined_requests eval
[
    "GET /mcp",
    "GET /mcp",
    "GET /mcp",
    "GET /admin-tools",
    "GET /admin-tools",
    "GET /mcp",
]
--- more_headers eval
[
    ::auth($::UserA),
    ::auth($::UserB),
    ::auth($::UserA),
    ::auth($::UserA),
    ::auth($::UserB),
    ::auth($::UserB),
]
--- error_code eval
[200, 200, 200, 200, 403, 200]
--- response_headers eval
[
    "", "", "", "",
    "WWW-Authenticate: Bearer error=\"insufficient_scope\", scope=\"admin\", resource_metadata=\"$::Meta\"",
    "",
]
--- response_body eval
[
    ::seen('user-a', 'mcp:tools admin'),
    ::seen('user-b', 'mcp:tools'),
    ::seen('user-a', 'mcp:tools admin'),
    ::seen('user-a', 'mcp:tools admin'),
    '{"error":"insufficient_scope","error_description":"insufficient scope"}',
    ::seen('user-b', 'mcp:tools'),
]
--- grep_error_log eval: $::CacheLines
--- grep_error_log_out
mcp_oauth: token verified
mcp_oauth: token verified
mcp_oauth: token found in the cache
mcp_oauth: token verified
mcp_oauth: token found in the cache
mcp_oauth: token verified
mcp_oauth: token found in the cache
mcp_oauth: token verified
mcp_oauth: insufficient scope
mcp_oauth: token found in the cache
mcp_oauth: token verified
--- no_error_log
[error]
[warn]



=== TEST 4: on a hit the location's own resource (aud) and issuers are checked
--- config eval
::loc('/mcp')
. ::loc('/other', 'mcp_oauth_resource https://other.example.com/mcp;')
. ::loc('/iss', 'mcp_oauth_issuer https://second.example.com;')
--- log_level: debug
--- pipelined_requests eval
["GET /mcp", "GET /other", "GET /iss", "GET /mcp"]
--- more_headers eval
[::bearer('rs256'), ::bearer('rs256'), ::bearer('rs256'), ::bearer('rs256')]
--- error_code eval
[200, 401, 401, 200]
--- response_headers eval
[
    "",
    ::invalid('token not issued for this resource',
              'https://other.example.com/.well-known/oauth-protected-resource/mcp'),
    ::invalid('untrusted issuer'),
    "",
]
--- response_body eval
[
    ::seen('user-1'),
    ::invalid_body('token not issued for this resource'),
    ::invalid_body('untrusted issuer'),
    ::seen('user-1'),
]
--- grep_error_log eval: $::CacheLines
--- grep_error_log_out
mcp_oauth: token verified
mcp_oauth: token found in the cache
mcp_oauth: token not issued for this resource
mcp_oauth: token found in the cache
mcp_oauth: untrusted issuer
mcp_oauth: token found in the cache
mcp_oauth: token verified
--- no_error_log
[error]
[warn]



=== TEST 5: on a hit nbf and iat are checked with the location's leeway
--- config eval
::loc('/mcp') . ::loc('/strict', 'mcp_oauth_leeway 0;')
--- log_level: debug
--- pipelined_requests eval
["GET /mcp", "GET /strict", "GET /mcp", "GET /strict", "GET /mcp"]
--- more_headers eval
# valid within the default leeway (60 s), not without one; minted when the
# block runs, 55 s ahead: under valgrind a block takes tens of seconds
my $nbf = McpOAuth::mint(key => 'rsa1', 'nbf-in' => 55);
my $iat = McpOAuth::mint(key => 'rsa1', 'iat-in' => 55);
[::auth($nbf), ::auth($nbf), ::auth($iat), ::auth($iat), ::auth($nbf)]
--- error_code eval
[200, 401, 200, 401, 200]
--- response_headers eval
["", ::invalid('token not yet valid (nbf)'), "", ::invalid('token issued in the future (iat)'), ""]
--- response_body eval
[
    ::seen('user-1'),
    ::invalid_body('token not yet valid (nbf)'),
    ::seen('user-1'),
    ::invalid_body('token issued in the future (iat)'),
    ::seen('user-1'),
]
--- grep_error_log eval: $::CacheLines
--- grep_error_log_out
mcp_oauth: token verified
mcp_oauth: token found in the cache
mcp_oauth: token not yet valid (nbf)
mcp_oauth: token verified
mcp_oauth: token found in the cache
mcp_oauth: token issued in the future (iat)
mcp_oauth: token found in the cache
mcp_oauth: token verified
--- no_error_log
[error]
[warn]



=== TEST 6: an entry serves only the key file that verified it
--- user_files eval
[['evil.json', $::EvilJwks]]
--- config eval
::loc('/mcp', 'mcp_oauth_jwks $TEST_NGINX_DATA/jwks/main.json;')
. ::loc('/rsa2', 'mcp_oauth_jwks $TEST_NGINX_DATA/jwks/rsa2.json;')
. ::loc('/evil', 'mcp_oauth_jwks $TEST_NGINX_HTML_DIR/evil.json;')
--- log_level: debug
--- pipelined_requests eval
["GET /mcp", "GET /mcp", "GET /rsa2", "GET /evil", "GET /mcp", "GET /rsa2"]
--- more_headers eval
[
    ::bearer('rs256'),
    ::bearer('rs256'),
    ::bearer('rs256'),
    ::bearer('rs256'),
    ::bearer('rs256'),
    ::bearer('rs256-rotated'),
]
--- error_code eval
[200, 200, 401, 401, 200, 200]
--- response_headers eval
["", "", ::invalid('unknown kid'), ::invalid('signature verification failed'), "", ""]
--- response_body eval
[
    ::seen('user-1'),
    ::seen('user-1'),
    ::invalid_body('unknown kid'),
    ::invalid_body('signature verification failed'),
    ::seen('user-1'),
    ::seen('user-1'),
]
--- grep_error_log eval: $::CacheLines
--- grep_error_log_out eval
# /rsa2 and /evil find the entry of /mcp but may not use it (this module
# drops it: the token is verified again at /mcp)
qr/\Amcp_oauth: token verified
mcp_oauth: token found in the cache
mcp_oauth: token verified
mcp_oauth: unknown kid
mcp_oauth: signature verification failed
(?:mcp_oauth: token found in the cache\n)?mcp_oauth: token verified
mcp_oauth: token verified
\z/
--- no_error_log
[error]
[warn]



=== TEST 7: fetched keys: a cached token stops being accepted once the refreshed key set lacks its key
--- config eval
::loc('/mcp', 'mcp_oauth_jwks_request /_jwks;', 'mcp_oauth_jwks_cache 1s;') . <<'_EOC_'
    location = /_jwks {
        internal;
        proxy_pass http://127.0.0.1:$TEST_NGINX_CACHE_IDP_PORT/jwks;
    }
_EOC_
--- log_level: debug
--- pipelined_requests eval
[
    "GET /admin/mode?m=rsa1",
    "GET /mcp",                 # cold start: fetch, verify, cache
    "GET /mcp",                 # a hit
    "GET /admin/count",
    "GET /admin/mode?m=rsa2",   # the IdP drops rsa-1
    "GET /admin/sleep?s=2",     # the fetched keys are older than 1 s
    "GET /mcp",                 # stale keys: no hit, verified with them,
                                # a background refresh gets rsa-2 only
    "GET /admin/count",
    "GET /mcp",                 # new generation: no hit; rsa-1 is unknown
                                # (one refetch for the unknown kid)
    "GET /admin/count",
    "GET /mcp",                 # still unknown, no refetch within 30 s
    "GET /mcp",                 # rsa-2 is accepted
    "GET /admin/count",
]
--- more_headers eval
[
    "",
    ::bearer('rs256'),
    ::bearer('rs256'),
    "",
    "",
    "",
    ::bearer('rs256'),
    "",
    ::bearer('rs256'),
    "",
    ::bearer('rs256'),
    ::bearer('rs256-rotated'),
    "",
]
--- error_code eval
[200, 200, 200, 200, 200, 200, 200, 200, 401, 200, 401, 200, 200]
--- response_headers eval
["", "", "", "", "", "", "", "", ::invalid('unknown kid'), "", ::invalid('unknown kid'), "", ""]
--- response_body eval
[
    "ok",
    ::seen('user-1'),
    ::seen('user-1'),
    "1",
    "ok",
    "ok",
    ::seen('user-1'),
    "1",
    ::invalid_body('unknown kid'),
    "2",
    ::invalid_body('unknown kid'),
    ::seen('user-1'),
    "2",
]
--- timeout: 10
--- grep_error_log eval: $::CacheLines
--- grep_error_log_out
mcp_oauth: JWKS from "/_jwks" updated, 1 keys
mcp_oauth: token verified
mcp_oauth: token found in the cache
mcp_oauth: token verified
mcp_oauth: token verified
mcp_oauth: JWKS from "/_jwks" updated, 1 keys
mcp_oauth: JWKS from "/_jwks" updated, 1 keys
mcp_oauth: unknown kid
mcp_oauth: unknown kid
mcp_oauth: token verified
--- no_error_log
[error]
[warn]



=== TEST 8: mcp_oauth_token_cache off: every request is verified
--- http_config
    mcp_oauth_token_cache off;
--- config eval: ::loc('/mcp')
--- log_level: debug
--- pipelined_requests eval
["GET /mcp", "GET /mcp", "GET /mcp"]
--- more_headers eval
[::bearer('rs256'), ::bearer('rs256'), ::bearer('rs256')]
--- error_code eval
[200, 200, 200]
--- response_body eval
[::seen('user-1'), ::seen('user-1'), ::seen('user-1')]
--- grep_error_log eval: qr/mcp_oauth: (?:token found in the cache|token verified)/
--- grep_error_log_out
mcp_oauth: token verified
mcp_oauth: token verified
mcp_oauth: token verified
--- no_error_log
[error]
[warn]
mcp_oauth: token found in the cache



=== TEST 9: mcp_oauth_token_cache with an explicit size works like the default
--- http_config
    mcp_oauth_token_cache 64m;
--- config eval: ::loc('/mcp') . "    # 64m\n"
--- log_level: debug
--- pipelined_requests eval
["GET /mcp", "GET /mcp"]
--- more_headers eval
[::bearer('rs256'), ::bearer('rs256')]
--- error_code eval
[200, 200]
--- response_body eval
[::seen('user-1'), ::seen('user-1')]
--- grep_error_log eval: qr/mcp_oauth: (?:token found in the cache|token verified)/
--- grep_error_log_out
mcp_oauth: token verified
mcp_oauth: token found in the cache
mcp_oauth: token verified
--- no_error_log
[error]
[warn]



=== TEST 10: config error: mcp_oauth_token_cache smaller than 8 pages
--- http_config
    mcp_oauth_token_cache 1k;
--- config eval: ::loc('/mcp')
--- must_die
--- error_log eval
qr/\[emerg\] .*"mcp_oauth_token_cache" takes "off" or a size of at least \d+, not "1k"/



=== TEST 11: config error: mcp_oauth_token_cache one byte under the minimum (32k with 4 KB pages)
--- http_config
    mcp_oauth_token_cache 32767;
--- config eval: ::loc('/mcp')
--- must_die
--- error_log eval
qr/\[emerg\] .*"mcp_oauth_token_cache" takes "off" or a size of at least \d+, not "32767"/



=== TEST 12: config error: mcp_oauth_token_cache that is no size
--- http_config
    mcp_oauth_token_cache abc;
--- config eval: ::loc('/mcp')
--- must_die
--- error_log eval
qr/\[emerg\] .*"mcp_oauth_token_cache" takes "off" or a size of at least \d+, not "abc"/



=== TEST 13: config error: mcp_oauth_token_cache in a server block
--- config eval
"    mcp_oauth_token_cache 4m;\n" . ::loc('/mcp')
--- must_die
--- error_log eval
qr/\[emerg\] .*"mcp_oauth_token_cache" directive is not allowed here/



=== TEST 14: config error: mcp_oauth_token_cache twice
--- http_config
    mcp_oauth_token_cache 4m;
    mcp_oauth_token_cache off;
--- config eval: ::loc('/mcp')
--- must_die
--- error_log eval
qr/\[emerg\] .*"mcp_oauth_token_cache" directive is duplicate/



=== TEST 15: a full cache (32k, the minimum) evicts the least recently used entries instead of failing
--- http_config
    mcp_oauth_token_cache 32k;
--- config eval: ::loc('/mcp')
--- log_level: debug
--- pipelined_requests eval
[("GET /mcp") x 62]
--- more_headers eval
[(map { ::auth($_) } @::Many), ::auth($::Many[-1]), ::auth($::Many[0])]
--- error_code eval
[(200) x 62]
--- response_body eval
[(map { ::seen("many-$_") } 1 .. 60), ::seen('many-60'), ::seen('many-1')]
--- timeout: 10
--- grep_error_log eval: qr/mcp_oauth: (?:token found in the cache|token verified)/
--- grep_error_log_out eval
# the 60 tokens are verified; the last one is still cached, the first
# one was evicted long ago
("mcp_oauth: token verified\n" x 60)
. "mcp_oauth: token found in the cache\nmcp_oauth: token verified\n"
. "mcp_oauth: token verified\n"
--- no_error_log
[error]
[crit]
[alert]
no memory



=== TEST 16: after reloads with other keys in the same file, a token cached before is verified again
--- user_files eval
[['keys.json', $::Rsa1Jwks]]
--- config eval: ::loc('/mcp', 'mcp_oauth_jwks $TEST_NGINX_HTML_DIR/keys.json;')
--- request eval
# the reloads happen after the first response
["GET /mcp", "GET /mcp", "GET /mcp"]
--- more_headers eval
[::bearer('rs256'), ::bearer('rs256'), ::auth($::Evil)]
--- error_code eval
[200, 401, 200]
--- response_headers eval
["", ::invalid('signature verification failed'), ""]
--- response_body eval
[::seen('user-1'), ::invalid_body('signature verification failed'), ::seen('user-1')]
--- timeout: 10
--- no_error_log
[error]
[alert]
[crit]
