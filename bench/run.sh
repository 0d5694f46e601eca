#!/usr/bin/env bash
# Benchmark harness for ngx_mcp_oauth_module. See bench/README.md.
#
#   bench/run.sh            throughput table (wrk), writes bench/results.md
#   bench/run.sh rss        worker RSS before/after 1,000,000 rules+body requests
#   bench/run.sh callgrind  instructions per request (valgrind --tool=callgrind),
#                           writes bench/callgrind-rs256.txt
#   bench/run.sh soak       SOAK_REQUESTS (1,000,000) valid/invalid/denied requests
#                           from 3 concurrent wrk; worker RSS sampled; appends
#                           to bench/results-soak.md; fails on a wrong status
#                           or RSS growth above SOAK_RSS_BOUND_KB
#
# Environment: DURATION (5) seconds per wrk run, ROUNDS (5), SLICES (1: a
# round runs each case in SLICES turns of DURATION / SLICES s), CONNS (50),
# SERVER_CPU (0), CLIENT_CPU (1), NGINX (/usr/sbin/nginx), UNIQUE_TOKENS
# (default: sized from a calibration run), METRICS (on: a mcp_oauth_metrics
# location, every decision counted), TOKEN_CACHE (unset: the module's
# default; "off" or a size sets mcp_oauth_token_cache), RSS_REQUESTS (1000000),
# RSS_MIX (the cases rss rotates through), RSS_UNIQUE (5000 tokens per unique case
# of the mix), CG_WARMUP (2000), CG_REQUESTS (10000), CG_CASES ("plain rs256";
# "all": every case but the *_unique ones, which can be named; "targets": the
# issue-13 target cases and their baselines), VERIFY_SPEED (on: openssl speed of the three verifies),
# SOAK_REQUESTS (1000000), SOAK_WARMUP (50000),
# SOAK_RSS_BOUND_KB (2048), SOAK_WORKERS (2), SOAK_CONNS (16: invalid, denied),
# SOAK_CONNS_VALID (48),
# SOAK_SAMPLE (2 s), SOAK_MAX_SECONDS (1800), SOAK_NOCACHE_REQUESTS (200000;
# 0: no second pass with mcp_oauth_token_cache off),
# KEEP_TMP=1 keeps the temp dir.
# Ports (127.0.0.1): bench 18600/18601, rss and soak 18602/18603, callgrind
# 18604/18605, the SSE no-hold-back check's node upstream 18609 (bench).
set -euo pipefail

# settings given by the caller, for the command line shown in the results
declare -A ORIG_ENV=()
for v in DURATION ROUNDS SLICES CONNS SERVER_CPU CLIENT_CPU UNIQUE_TOKENS TOKEN_CACHE METRICS RSS_REQUESTS RSS_MIX RSS_UNIQUE CG_WARMUP CG_REQUESTS CG_CASES VERIFY_SPEED NGINX \
         SOAK_REQUESTS SOAK_WARMUP SOAK_RSS_BOUND_KB SOAK_WORKERS SOAK_CONNS SOAK_CONNS_VALID SOAK_SAMPLE SOAK_MAX_SECONDS SOAK_NOCACHE_REQUESTS; do
    if [[ -n ${!v+x} ]]; then ORIG_ENV[$v]=1; fi
done

BENCH=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(dirname "$BENCH")
MODULE=$ROOT/build/ngx_http_mcp_oauth_module.so
NGINX=${NGINX:-/usr/sbin/nginx}
DURATION=${DURATION:-5}
ROUNDS=${ROUNDS:-5}
SLICES=${SLICES:-1}
CONNS=${CONNS:-50}
SERVER_CPU=${SERVER_CPU:-0}
CLIENT_CPU=${CLIENT_CPU:-1}
RSS_REQUESTS=${RSS_REQUESTS:-1000000}
RSS_MIX=${RSS_MIX:-rs256 es256 eddsa rs256_rules_body rs256_rules1000_body rs256_body16k filter50 filter50_sse filter_sse1000 es256_unique}
RSS_UNIQUE=${RSS_UNIQUE:-5000}
VERIFY_SPEED=${VERIFY_SPEED:-on}
SSE_PORT=18609   # bench: the node upstream of the SSE no-hold-back check
CG_WARMUP=${CG_WARMUP:-2000}
CG_REQUESTS=${CG_REQUESTS:-10000}
CG_CASES=${CG_CASES:-plain rs256}
SOAK_REQUESTS=${SOAK_REQUESTS:-1000000}
SOAK_WARMUP=${SOAK_WARMUP:-50000}
SOAK_RSS_BOUND_KB=${SOAK_RSS_BOUND_KB:-2048}
SOAK_WORKERS=${SOAK_WORKERS:-2}
SOAK_CONNS=${SOAK_CONNS:-16}
SOAK_CONNS_VALID=${SOAK_CONNS_VALID:-48}
SOAK_SAMPLE=${SOAK_SAMPLE:-2}
SOAK_MAX_SECONDS=${SOAK_MAX_SECONDS:-1800}
SOAK_NOCACHE_REQUESTS=${SOAK_NOCACHE_REQUESTS:-200000}
[[ $SLICES =~ ^[1-9][0-9]*$ ]] && ((DURATION % SLICES == 0)) \
    || { echo "bench: SLICES ($SLICES) must divide DURATION ($DURATION)" >&2; exit 2; }
MODE=${1:-bench}
MODE_ARG=${1:-}

case $MODE in
    bench)     PORT=18600 ;;
    rss)       PORT=18602 ;;
    callgrind) PORT=18604 ;;
    soak)      PORT=18602 ;;   # shares the rss ports: run the two one after the other
    -h|--help|help) sed -n '2,30p' "${BASH_SOURCE[0]}"; exit 0 ;;
    *) echo "usage: $0 [bench|rss|callgrind|soak]" >&2; exit 2 ;;
esac
UPORT=$((PORT + 1))

log()  { printf '==> %s\n' "$*" >&2; }
warn() { printf 'bench: WARNING: %s\n' "$*" >&2; }
die()  { printf 'bench: ERROR: %s\n' "$*" >&2; exit 1; }

# --------------------------------------------------------------------------
# processes we start, and cleanup

T=
NGINX_PID=     # nginx master (bench, rss) or valgrind+nginx (callgrind)
NGINX_BG=0     # 1 when NGINX_PID is a child of this shell (callgrind)
WRK_PID=       # wrk running in the background (rss)
SOAK_WRK_PIDS=()   # the three wrk of a soak pass

stop_nginx() {
    [[ -n $NGINX_PID ]] || return 0
    if kill -0 "$NGINX_PID" 2>/dev/null; then
        kill -QUIT "$NGINX_PID" 2>/dev/null || true
        local i
        for ((i = 0; i < 600; i++)); do   # valgrind needs time to write its output
            kill -0 "$NGINX_PID" 2>/dev/null || break
            sleep 0.1
        done
        if kill -0 "$NGINX_PID" 2>/dev/null; then
            warn "nginx $NGINX_PID did not stop on SIGQUIT, killing it"
            kill -KILL "$NGINX_PID" 2>/dev/null || true
        fi
    fi
    if ((NGINX_BG)); then wait "$NGINX_PID" 2>/dev/null || true; fi
    NGINX_PID=
    NGINX_BG=0
}

cleanup() {
    local rc=$?
    trap '' INT TERM
    trap - EXIT
    if [[ -n $WRK_PID ]]; then kill "$WRK_PID" 2>/dev/null || true; wait "$WRK_PID" 2>/dev/null || true; fi
    local p
    for p in "${SOAK_WRK_PIDS[@]}"; do kill "$p" 2>/dev/null || true; wait "$p" 2>/dev/null || true; done
    stop_nginx
    if [[ -n $T && -d $T ]]; then
        if [[ ${KEEP_TMP:-0} == 1 ]]; then log "temp dir kept: $T"; else rm -rf "$T"; fi
    fi
    exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# --------------------------------------------------------------------------
# preconditions

for tool in "$NGINX" node curl taskset ss; do
    command -v "$tool" >/dev/null || die "$tool not found"
done
if [[ $MODE == callgrind ]]; then
    for tool in valgrind callgrind_annotate; do command -v "$tool" >/dev/null || die "$tool not found"; done
else
    command -v wrk >/dev/null || die "wrk not found"
fi
ports=("$PORT" "$UPORT")
[[ $MODE != bench ]] || ports+=("$SSE_PORT")
for p in "${ports[@]}"; do
    ((p >= 18600 && p <= 18699)) || die "port $p outside 18600-18699"
    if ss -Htln "sport = :$p" | grep -q .; then die "port 127.0.0.1:$p is in use"; fi
done
ncpu=$(nproc)
((SERVER_CPU < ncpu && CLIENT_CPU < ncpu)) || die "SERVER_CPU/CLIENT_CPU must be below $ncpu"
[[ $SERVER_CPU != "$CLIENT_CPU" ]] || warn "server and client share CPU $SERVER_CPU"

if [[ ! -f $MODULE ]]; then
    log "module missing, building it"
    (cd "$ROOT" && ./build.sh) || die "build failed"
fi

T=$(mktemp -d /tmp/mcp-oauth-bench.XXXXXX)
chmod 755 "$T"      # the nginx worker runs as nobody
mkdir -p "$T"/tmp/{client_body,proxy,fastcgi,uwsgi,scgi}

# nginx loads a private copy: a concurrent ./build.sh rewrites build/*.so in
# place, which would change the code under a running nginx (SIGILL) and mix
# two builds in one set of results
cp "$MODULE" "$T/ngx_http_mcp_oauth_module.so"
MODULE_SHA=$(sha256sum "$T/ngx_http_mcp_oauth_module.so" | cut -c1-12)
MODULE_DATE=$(date -u -r "$MODULE" '+%Y-%m-%d %H:%M:%S UTC')

log "fixtures in $T"
node "$BENCH/lib/fixtures.mjs" "$T" >&2

# --------------------------------------------------------------------------
# nginx configuration

affinity=
for ((i = ncpu - 1; i >= 0; i--)); do
    if ((i == SERVER_CPU)); then affinity+=1; else affinity+=0; fi
done
# TOKEN_CACHE=off (or a size) sets mcp_oauth_token_cache; unset: module default
cache_conf=
if [[ -n ${TOKEN_CACHE:-} ]]; then cache_conf="mcp_oauth_token_cache $TOKEN_CACHE;"; fi
# METRICS=on adds a mcp_oauth_metrics location: every decision is counted
metrics_conf=
if [[ ${METRICS:-} == on ]]; then metrics_conf="location = /metrics { mcp_oauth_metrics; }"; fi

write_conf() {   # FILE bench|callgrind|soak
    local file=$1 kind=$2 proc soak_loc=
    # nginx keeps what a keep-alive connection's requests allocate from the
    # connection until it closes (the keepalive_requests documentation says
    # so): a million requests on one connection grow any worker by ~100 bytes
    # each, module or not; rss and soak measure with nginx's default, 1000
    local keepalive_requests=1000000
    [[ $MODE != rss && $MODE != soak ]] || keepalive_requests=${KEEPALIVE_REQUESTS:-1000}
    if [[ $kind == callgrind ]]; then
        proc=$'master_process off;\ndaemon off;'
    elif [[ $kind == soak ]]; then
        # several workers, not pinned: they share the token cache zone
        proc="worker_processes $SOAK_WORKERS;"
        soak_loc="location /soak {
            mcp_oauth on;
            mcp_oauth_required_scope mcp:tools;
            mcp_oauth_scope create_app write:application;
            proxy_http_version 1.1; proxy_set_header Connection \"\";
            proxy_pass http://upstream_mcp;
        }"
    else
        proc="worker_processes 1;"$'\n'"worker_cpu_affinity $affinity;"
    fi
    local px='proxy_http_version 1.1; proxy_set_header Connection "";'
    # as root, the workers would be "nobody", who may not reach the checkout
    local user=
    [[ $(id -u) != 0 ]] || user="user root;"
    cat >"$file" <<EOF
# generated by bench/run.sh
load_module $T/ngx_http_mcp_oauth_module.so;
$user
$proc
pid $T/nginx-$kind.pid;
lock_file $T/nginx.lock;
error_log $T/error-$kind.log warn;

events { worker_connections 1024; }

http {
    $cache_conf
    access_log off;
    sendfile off;
    keepalive_timeout 75s;
    keepalive_requests $keepalive_requests;
    client_body_temp_path $T/tmp/client_body;
    proxy_temp_path $T/tmp/proxy;
    fastcgi_temp_path $T/tmp/fastcgi;
    uwsgi_temp_path $T/tmp/uwsgi;
    scgi_temp_path $T/tmp/scgi;

    upstream upstream_mcp {
        server 127.0.0.1:$UPORT;
        keepalive 32;
        keepalive_requests $keepalive_requests;
    }

    # the protected server
    server {
        listen 127.0.0.1:$PORT;
        mcp_oauth_resource https://mcp.example.com/mcp;
        mcp_oauth_issuer   https://auth.example.com;
        mcp_oauth_jwks     $ROOT/t/data/jwks/main.json;

        $metrics_conf

        # baselines: the same proxying without the module
        location /plain         { $px proxy_pass http://upstream_mcp; }
        location /plain_tools50 { $px proxy_pass http://upstream_mcp/tools50; }
        location /plain_tools50_vary { $px proxy_pass http://upstream_mcp/tools50_vary; }

        location /mcp {
            mcp_oauth on;
            mcp_oauth_required_scope mcp:tools;
            $px proxy_pass http://upstream_mcp;
        }

        location /rules {
            mcp_oauth on;
            mcp_oauth_required_scope mcp:tools;
            include $T/rules.conf;
            $px proxy_pass http://upstream_mcp;
        }

        # 16 KB and 256 KB bodies: kept in memory (not spilled to a temp
        # file) by the baseline and the module alike
        location /plain_big {
            client_body_buffer_size 512k;
            $px proxy_pass http://upstream_mcp;
        }

        location /rules_big {
            client_body_buffer_size 512k;
            mcp_oauth on;
            mcp_oauth_required_scope mcp:tools;
            include $T/rules.conf;
            $px proxy_pass http://upstream_mcp;
        }

        location /filter {
            mcp_oauth on;
            mcp_oauth_required_scope mcp:tools;
            mcp_oauth_filter_tools on;
            include $T/filter.conf;
            $px proxy_pass http://upstream_mcp/tools50;
        }

        # the same, the upstream's result different every time
        location /filter_vary {
            mcp_oauth on;
            mcp_oauth_required_scope mcp:tools;
            mcp_oauth_filter_tools on;
            include $T/filter.conf;
            $px proxy_pass http://upstream_mcp/tools50_vary;
        }

        # 1,000 exact rules and 50 prefix* rules
        location /rules1000 {
            mcp_oauth on;
            mcp_oauth_required_scope mcp:tools;
            include $T/rules1000.conf;
            $px proxy_pass http://upstream_mcp;
        }

        # SSE answers (text/event-stream), passed on as they come
        # (proxy_buffering off, as an SSE deployment would), baseline and
        # module alike
        location /plain_tools50_sse { $px proxy_buffering off; proxy_pass http://upstream_mcp/tools50_sse; }
        location /plain_sse1000     { $px proxy_buffering off; proxy_pass http://upstream_mcp/sse1000; }
        location /filter_sse {
            mcp_oauth on;
            mcp_oauth_required_scope mcp:tools;
            mcp_oauth_filter_tools on;
            include $T/filter.conf;
            $px proxy_buffering off; proxy_pass http://upstream_mcp/tools50_sse;
        }
        location /filter_sse1000 {
            mcp_oauth on;
            mcp_oauth_required_scope mcp:tools;
            mcp_oauth_filter_tools on;
            include $T/filter.conf;
            $px proxy_buffering off; proxy_pass http://upstream_mcp/sse1000;
        }

        # the SSE no-hold-back check (bench/lib/sse-check.mjs): a node
        # upstream sending events with pauses
        location /sse_slow_plain { $px proxy_buffering off; proxy_pass http://127.0.0.1:$SSE_PORT; }
        location /sse_slow_filter {
            mcp_oauth on;
            mcp_oauth_required_scope mcp:tools;
            mcp_oauth_filter_tools on;
            include $T/filter.conf;
            $px proxy_buffering off; proxy_pass http://127.0.0.1:$SSE_PORT;
        }

        $soak_loc
    }

    # the upstream, answering like an MCP server
    server {
        listen 127.0.0.1:$UPORT;
        location / {
            default_type application/json;
            return 200 '{"jsonrpc":"2.0","id":1,"result":{"content":[{"type":"text","text":"ok"}]}}';
        }
        location /tools50 {
            default_type application/json;
            include $T/tools50.conf;
        }
        location /tools50_vary {
            default_type application/json;
            include $T/tools50_vary.conf;
        }
        location /tools50_sse {
            default_type text/event-stream;
            include $T/tools50_sse.conf;
        }
        location /sse1000 {
            default_type text/event-stream;
            include $T/sse1000.conf;
        }
    }
}
EOF
    local out
    out=$("$NGINX" -t -q -p "$T/" -e "$T/error-$kind.log" -c "$file" 2>&1) \
        || die "nginx -t failed for $file:"$'\n'"$out"
}

start_nginx() {   # [bench|soak]: daemonized master + 1 worker (soak: SOAK_WORKERS)
    local kind=${1:-bench} nw=1
    [[ $kind == soak ]] && nw=$SOAK_WORKERS
    write_conf "$T/nginx.conf" "$kind"
    rm -f "$T/nginx-$kind.pid"
    "$NGINX" -p "$T/" -e "$T/error-$kind.log" -c "$T/nginx.conf" || die "nginx did not start"
    local i
    for ((i = 0; i < 50; i++)); do
        [[ -s $T/nginx-$kind.pid ]] && break
        sleep 0.1
    done
    NGINX_PID=$(cat "$T/nginx-$kind.pid")
    WORKER_PIDS=()
    for ((i = 0; i < 50; i++)); do
        mapfile -t WORKER_PIDS < <(ps -o pid= --ppid "$NGINX_PID" | tr -d ' ' | sort -n)
        ((${#WORKER_PIDS[@]} >= nw)) && break
        sleep 0.1
    done
    ((${#WORKER_PIDS[@]} == nw)) || die "expected $nw nginx worker(s), found ${#WORKER_PIDS[@]}"
    WORKER_PID=${WORKER_PIDS[0]}
    if [[ $kind == soak ]]; then
        log "nginx master $NGINX_PID, workers ${WORKER_PIDS[*]}, 127.0.0.1:$PORT"
    else
        log "nginx master $NGINX_PID, worker $WORKER_PID (CPU $SERVER_CPU), 127.0.0.1:$PORT"
    fi
}

# --------------------------------------------------------------------------
# cases

CASES=(plain rs256 es256 eddsa rs256_unique es256_unique eddsa_unique
       plain_body rs256_rules_body rs256_rules1000_body plain_body16k rs256_body16k
       plain_body256k rs256_body256k plain_tools50 filter50 plain_tools50_vary filter50_vary
       plain_tools50_sse filter50_sse plain_sse1000 filter_sse1000)
declare -A C_PATH=(
    [plain]=/plain [rs256]=/mcp [es256]=/mcp [eddsa]=/mcp
    [rs256_unique]=/mcp [es256_unique]=/mcp [eddsa_unique]=/mcp
    [plain_body]=/plain [rs256_rules_body]=/rules [rs256_rules1000_body]=/rules1000
    [plain_body16k]=/plain_big [rs256_body16k]=/rules_big
    [plain_body256k]=/plain_big [rs256_body256k]=/rules_big
    [plain_tools50]=/plain_tools50 [filter50]=/filter
    [plain_tools50_vary]=/plain_tools50_vary [filter50_vary]=/filter_vary
    [plain_tools50_sse]=/plain_tools50_sse [filter50_sse]=/filter_sse
    [plain_sse1000]=/plain_sse1000 [filter_sse1000]=/filter_sse1000)
declare -A C_METHOD=(
    [plain]=GET [rs256]=GET [es256]=GET [eddsa]=GET
    [rs256_unique]=GET [es256_unique]=GET [eddsa_unique]=GET
    [plain_body]=POST [rs256_rules_body]=POST [rs256_rules1000_body]=POST
    [plain_body16k]=POST [rs256_body16k]=POST [plain_body256k]=POST [rs256_body256k]=POST
    [plain_tools50]=POST [filter50]=POST [plain_tools50_sse]=POST [filter50_sse]=POST
    [plain_tools50_vary]=POST [filter50_vary]=POST
    [plain_sse1000]=POST [filter_sse1000]=POST)
declare -A C_TOKEN=(
    [plain]=rs256.jwt [rs256]=rs256.jwt [es256]=es256.jwt [eddsa]=eddsa.jwt
    [rs256_unique]=unique.txt [es256_unique]=unique-es256.txt [eddsa_unique]=unique-eddsa.txt
    [plain_body]=rules.jwt [rs256_rules_body]=rules.jwt [rs256_rules1000_body]=rules.jwt
    [plain_body16k]=rules.jwt [rs256_body16k]=rules.jwt
    [plain_body256k]=rules.jwt [rs256_body256k]=rules.jwt
    [plain_tools50]=filter.jwt [filter50]=filter.jwt
    [plain_tools50_vary]=filter.jwt [filter50_vary]=filter.jwt
    [plain_tools50_sse]=filter.jwt [filter50_sse]=filter.jwt
    [plain_sse1000]=filter.jwt [filter_sse1000]=filter.jwt)
declare -A C_BODY=(
    [plain_body]=rules_body.json [rs256_rules_body]=rules_body.json
    [rs256_rules1000_body]=rules_body.json
    [plain_body16k]=body16k.json [rs256_body16k]=body16k.json
    [plain_body256k]=body256k.json [rs256_body256k]=body256k.json
    [plain_tools50]=tools_list.json [filter50]=tools_list.json
    [plain_tools50_vary]=tools_list.json [filter50_vary]=tools_list.json
    [plain_tools50_sse]=tools_list.json [filter50_sse]=tools_list.json
    [plain_sse1000]=tools_list.json [filter_sse1000]=tools_list.json)
declare -A C_BASE=(
    [rs256]=plain [es256]=plain [eddsa]=plain
    [rs256_unique]=plain [es256_unique]=plain [eddsa_unique]=plain
    [rs256_rules_body]=plain_body [rs256_rules1000_body]=plain_body
    [rs256_body16k]=plain_body16k [rs256_body256k]=plain_body256k
    [filter50]=plain_tools50 [filter50_vary]=plain_tools50_vary [filter50_sse]=plain_tools50_sse [filter_sse1000]=plain_sse1000)
# the cases whose token changes on every request, and its algorithm
declare -A C_UNIQUE_ALG=([rs256_unique]=RS256 [es256_unique]=ES256 [eddsa_unique]=EdDSA)
is_unique() { [[ -n ${C_UNIQUE_ALG[$1]:-} ]]; }
# issue 13's targets: the ratio to the baseline (bench), "measured" = no target
declare -A C_TARGET=(
    [rs256_rules_body]=0.95 [rs256_rules1000_body]=0.95 [rs256_body16k]=0.95 [rs256_body256k]=0.95
    [rs256_unique]=0.55 [es256_unique]=measured [eddsa_unique]=measured
    [filter50]=0.85 [filter50_vary]=measured [filter50_sse]=0.85 [filter_sse1000]=0.85)
TARGET_CASES=(rs256_rules_body rs256_rules1000_body rs256_body16k rs256_body256k
              rs256_unique es256_unique eddsa_unique filter50 filter50_vary filter50_sse filter_sse1000)
# the answers' tools (ftool_NN) and notifications/progress events expected
declare -A C_TOOLS=([plain_tools50]=50 [filter50]=25 [plain_tools50_vary]=50 [filter50_vary]=25
                    [plain_tools50_sse]=50 [filter50_sse]=25
                    [plain_sse1000]=50 [filter_sse1000]=25)
declare -A C_EVENTS=([plain_sse1000]=1000 [filter_sse1000]=1000)
# the filter cases' upstream answer (callgrind: Ir per answer byte)
declare -A C_ANSWER=([filter50]=tools50.json [filter50_vary]=tools50_vary.json [filter50_sse]=tools50_sse.txt [filter_sse1000]=sse1000.txt)
# callgrind request counts where the default (CG_WARMUP, CG_REQUESTS) would
# take too long under valgrind: the counts per request are exact either way
declare -A C_CG_DIV=([plain_body256k]=10 [rs256_body256k]=10 [plain_sse1000]=10 [filter_sse1000]=10)
declare -A C_DESC=(
    [plain]='GET, proxy only (baseline)'
    [rs256]='GET, RS256 token (same token)'
    [es256]='GET, ES256 token (same token)'
    [eddsa]='GET, EdDSA token (same token)'
    [plain_body]='POST 1 KB tools/call, proxy only (baseline)'
    [rs256_rules_body]='POST 1 KB tools/call, RS256, 100 rules'
    [plain_body16k]='POST 16 KB tools/call (a file as argument), proxy only (baseline)'
    [rs256_body16k]='POST 16 KB tools/call (a file as argument), RS256, 100 rules'
    [plain_body256k]='POST 256 KB tools/call (a file as argument), proxy only (baseline)'
    [rs256_body256k]='POST 256 KB tools/call (a file as argument), RS256, 100 rules'
    [rs256_unique]='GET, RS256, a new token per request'
    [es256_unique]='GET, ES256, a new token per request'
    [eddsa_unique]='GET, EdDSA, a new token per request'
    [rs256_rules1000_body]='POST 1 KB tools/call, RS256, 1,000 rules + 50 prefix* rules'
    [plain_tools50]='POST tools/list, 50-tool answer, proxy only (baseline)'
    [filter50]='POST tools/list, 50-tool answer filtered to 25'
    [plain_tools50_vary]='POST tools/list, 50-tool answer, its result different every time, proxy only (baseline)'
    [filter50_vary]='POST tools/list, 50-tool answer, its result different every time, filtered to 25'
    [plain_tools50_sse]='POST tools/list, 50-tool answer as one SSE event, proxy only (baseline)'
    [filter50_sse]='POST tools/list, 50-tool answer as one SSE event, filtered to 25'
    [plain_sse1000]='POST tools/list, SSE: 1,000 progress events + the 50-tool answer, proxy only (baseline)'
    [filter_sse1000]='POST tools/list, SSE: 1,000 progress events + the 50-tool answer, filtered to 25')

# one request with curl: prints the status, keeps the body in $T/check-CASE.out
curl_case() {   # CASE [TOKEN_FILE] [PATH]
    local c=$1 tokf=${2:-$T/${C_TOKEN[$1]}} path=${3:-${C_PATH[$1]}}
    local args=(-sS -o "$T/check-$c.out" -w '%{http_code}' -X "${C_METHOD[$c]}"
                -H 'Accept: application/json, text/event-stream')
    [[ $tokf == none ]] || args+=(-H "Authorization: Bearer $(head -1 "$tokf")")
    if [[ -n ${C_BODY[$c]:-} ]]; then
        args+=(-H 'Content-Type: application/json' --data-binary "@$T/${C_BODY[$c]}")
    fi
    curl "${args[@]}" "http://127.0.0.1:$PORT$path" || echo "curl-failed"
}

check_case() {   # CASE: abort unless 2xx
    local c=$1 tokf=$T/${C_TOKEN[$1]} code
    code=$(curl_case "$c" "$tokf")
    if [[ $code != 2?? ]]; then
        die "case $c: ${C_METHOD[$c]} ${C_PATH[$c]} answered $code, not 2xx" \
            "(401/403: a token or configuration mistake)."$'\n'"body: $(head -c 400 "$T/check-$c.out" 2>/dev/null)"$'\n'"error log:"$'\n'"$(tail -5 "$T"/error-*.log 2>/dev/null)"
    fi
    local tools events
    if [[ -n ${C_TOOLS[$c]:-} ]]; then
        tools=$(grep -o '"name":"ftool_[0-9]*"' "$T/check-$c.out" | wc -l)
        ((tools == C_TOOLS[$c])) || die "case $c: answer lists $tools tools, expected ${C_TOOLS[$c]}"
    fi
    if [[ -n ${C_EVENTS[$c]:-} ]]; then
        events=$(grep -c '^data: {"jsonrpc":"2.0","method":"notifications/progress"' "$T/check-$c.out" || true)
        ((events == C_EVENTS[$c])) || die "case $c: answer has $events progress events, expected ${C_EVENTS[$c]}"
    fi
    printf '    %-18s %s %-14s -> %s\n' "$c" "${C_METHOD[$c]}" "${C_PATH[$c]}" "$code" >&2
}

check_module_active() {   # the module must refuse what it should refuse
    local code
    code=$(curl_case rs256 none)
    [[ $code == 401 ]] || die "GET /mcp without a token answered $code, expected 401: is the module active?"
    code=$(curl_case rs256_rules_body "$T/rs256.jwt")
    [[ $code == 403 ]] || die "POST /rules (tool_042) without scope_042 answered $code, expected 403"
    printf '    %-18s GET  /mcp without token -> 401; /rules without scope_042 -> 403\n' "module" >&2
}

# --------------------------------------------------------------------------
# wrk

# per unique case: the next token's index (line 1 was used by the curl
# check), tokens used and list wraps; tokens generated
declare -A U_OFFSET=() U_USED=() U_WRAPS=() U_NTOK=()
for c in "${!C_UNIQUE_ALG[@]}"; do U_OFFSET[$c]=1; U_USED[$c]=0; U_WRAPS[$c]=0; U_NTOK[$c]=0; done

run_wrk() {   # CASE DURATION OUTFILE [VAR=VALUE...]
    local c=$1 d=$2 out=$3
    shift 3
    local envs=(BENCH_METHOD="${C_METHOD[$c]:-GET}") script=$BENCH/wrk/static.lua
    local url=http://127.0.0.1:$PORT${C_PATH[$c]:-/}
    if [[ $c == mixed ]]; then
        script=$BENCH/wrk/mixed.lua
        envs+=(BENCH_MIX="$T/mix.txt")
    elif is_unique "$c"; then
        script=$BENCH/wrk/unique.lua
        envs+=(BENCH_TOKENS="$T/${C_TOKEN[$c]}" BENCH_TOKEN_OFFSET="${U_OFFSET[$c]}")
    else
        envs+=(BENCH_TOKEN="$T/${C_TOKEN[$c]}")
    fi
    [[ -z ${C_BODY[$c]:-} ]] || envs+=(BENCH_BODY="$T/${C_BODY[$c]}")
    local cmd=(env "${envs[@]}" "$@" taskset -c "$CLIENT_CPU"
               wrk -t1 -c"$CONNS" -d"${d}s" --latency -s "$script" "$url")
    if [[ " $* " == *" BENCH_STOP_AFTER="* ]]; then
        # the Lua script stops its thread after N answers and creates the
        # marker file; wrk's main thread would still sleep until -d is over,
        # so it is ended with SIGINT (wrk then reports the time actually run)
        local marker=$T/wrk-stopped
        rm -f "$marker"
        BENCH_STOP_FILE=$marker "${cmd[@]}" >"$out" 2>&1 &
        WRK_PID=$!
        while kill -0 "$WRK_PID" 2>/dev/null && [[ ! -e $marker ]]; do sleep 0.2; done
        kill -INT "$WRK_PID" 2>/dev/null || true
        local rc=0
        wait "$WRK_PID" || rc=$?
        WRK_PID=
        ((rc == 0)) || die "wrk failed for $c:"$'\n'"$(cat "$out")"
    elif ! "${cmd[@]}" >"$out" 2>&1; then
        die "wrk failed for $c:"$'\n'"$(cat "$out")"
    fi
    if is_unique "$c"; then
        local used total wraps
        read -r used total wraps < <(sed -n 's/^tokens: used=\([0-9]*\) total=\([0-9]*\) offset=[0-9]* wraps=\([0-9]*\)$/\1 \2 \3/p' "$out")
        [[ -n ${used:-} ]] || die "no token count in the wrk output of $c"
        if ((wraps > 0)); then
            warn "$c: the token list wrapped ($wraps x) after $total tokens: some tokens were used twice; set UNIQUE_TOKENS higher"
            U_WRAPS[$c]=$((U_WRAPS[$c] + wraps))
        fi
        U_USED[$c]=$((U_USED[$c] + used))
        U_OFFSET[$c]=$(((U_OFFSET[$c] + used) % total))
    fi
}

wrk_rps()      { awk '/^Requests\/sec:/ {print $2}' "$1"; }
wrk_requests() { awk '/ requests in / {print $1}' "$1"; }
wrk_seconds()  { awk '/ requests in / {t = $4; sub(/,$/, "", t); f = 1
                   if (t ~ /ms$/) f = 0.001; else if (t ~ /m$/) f = 60
                   sub(/[a-z]+$/, "", t); print t * f}' "$1"; }
wrk_non2xx()   { awk '/Non-2xx or 3xx responses:/ {n = $NF} END {print n + 0}' "$1"; }
wrk_sockerr()  {
    awk '/Socket errors:/ {gsub(/,/, ""); n = $4 + $6 + $8 + $10} END {print n + 0}' "$1"
}
wrk_p99_ms()   {   # wrk prints 850.00us, 2.31ms, 1.02s, 1.50m
    awk '$1 == "99%" {
        v = $2; u = v; sub(/^[0-9.]+/, "", u); sub(/[a-z]+$/, "", v)
        f = (u == "us") ? 0.001 : (u == "ms") ? 1 : (u == "s") ? 1000 : (u == "m") ? 60000 : 3600000
        printf "%.2f\n", v * f
    }' "$1"
}
median() { printf '%s\n' "$@" | sort -g | awk '{a[NR] = $1} END {
    if (NR == 0) print "nan"; else if (NR % 2) print a[(NR + 1) / 2]; else print (a[NR / 2] + a[NR / 2 + 1]) / 2 }'; }

env_cmd() {   # the command line, with the settings that were given
    local s=() v
    for v in DURATION ROUNDS SLICES CONNS SERVER_CPU CLIENT_CPU UNIQUE_TOKENS TOKEN_CACHE METRICS RSS_REQUESTS RSS_MIX RSS_UNIQUE CG_WARMUP CG_REQUESTS CG_CASES VERIFY_SPEED NGINX \
         SOAK_REQUESTS SOAK_WARMUP SOAK_RSS_BOUND_KB SOAK_WORKERS SOAK_CONNS SOAK_CONNS_VALID SOAK_SAMPLE SOAK_MAX_SECONDS SOAK_NOCACHE_REQUESTS; do
        if [[ -n ${ORIG_ENV[$v]:-} ]]; then s+=("$v=$(printf '%q' "${!v}")"); fi
    done
    printf '%s' "${s[*]:+${s[*]} }bench/run.sh${MODE_ARG:+ $MODE_ARG}"
}

cpu_model() { lscpu | sed -n 's/^Model name:[[:space:]]*//p' | head -1; }

# --------------------------------------------------------------------------
# bench: the throughput table

# --------------------------------------------------------------------------
# issue 13: targets, the signature verify's own cost, the SSE check

unique_summary() {   # "case: N generated, U used, wrapped W times; ..."
    local c out=()
    for c in "${CASES[@]}"; do
        is_unique "$c" || continue
        out+=("$c ${U_NTOK[$c]} generated, ${U_USED[$c]} used, wrapped ${U_WRAPS[$c]} times")
    done
    local IFS=';'
    printf '%s' "${out[*]}" | sed 's/;/; /g'
}

# the verify alone: openssl speed on the worker's CPU, µs per verification
declare -A VERIFY_US=()
declare -A VERIFY_NAME=([RS256]=RSA-2048 [ES256]='ECDSA P-256' [EdDSA]=Ed25519)
verify_speed() {
    [[ $VERIFY_SPEED == on ]] || return 0
    if ! command -v openssl >/dev/null; then warn "openssl not found: the verify cost is not measured"; return 0; fi
    log "the verifies alone: taskset -c $SERVER_CPU openssl speed -mr -seconds 1 rsa2048 ecdsap256 ed25519"
    taskset -c "$SERVER_CPU" openssl speed -mr -seconds 1 rsa2048 ecdsap256 ed25519 >"$T/openssl-speed.txt" 2>&1 \
        || { warn "openssl speed failed: $(tail -3 "$T/openssl-speed.txt")"; return 0; }
    local a v
    # -mr: +F2:i:2048:sign/s:verify/s (RSA), +F4:i:256:sign/s:verify/s (ECDSA),
    # +F6:i:253:Ed25519:sign/s:verify/s (EdDSA)
    for a in RS256 ES256 EdDSA; do
        v=$(awk -F: -v a="$a" '
            a == "RS256" && $1 == "+F2" && $3 == 2048 { v = $5 }
            a == "ES256" && $1 == "+F4" && $3 == 256  { v = $5 }
            a == "EdDSA" && $1 == "+F6" && $4 == "Ed25519" { v = $6 }
            END { if (v > 0) printf "%.1f", 1e6 / v }' "$T/openssl-speed.txt")
        if [[ -n $v ]]; then VERIFY_US[$a]=$v; else warn "no $a verify figure in the openssl speed output"; fi
    done
    log "verify alone: RSA-2048 ${VERIFY_US[RS256]:-?} us, ECDSA P-256 ${VERIFY_US[ES256]:-?} us, Ed25519 ${VERIFY_US[EdDSA]:-?} us"
}

targets_table() {   # TROWS, TMET, TCOUNT, VERIFY_LINES from M_RATIO, M_US, M_DUS
    TROWS=() TMET=0 TCOUNT=0 VERIFY_LINES=()
    local c t met r
    for c in "${TARGET_CASES[@]}"; do
        t=${C_TARGET[$c]}; r=${M_RATIO[$c]}
        if [[ $t == measured ]]; then
            met=-
        else
            TCOUNT=$((TCOUNT + 1))
            if awk -v r="$r" -v t="$t" 'BEGIN { exit !(r >= t) }'; then met=yes; TMET=$((TMET + 1)); else met=no; fi
            t=">= $t"
        fi
        TROWS+=("$c|${C_BASE[$c]}|$r|$t|$met|${M_PER[$c]:-}")
    done
    local a b v d lim
    for c in "${TARGET_CASES[@]}"; do
        is_unique "$c" || continue
        a=${C_UNIQUE_ALG[$c]}; b=${C_BASE[$c]}; v=${VERIFY_US[$a]:-}; d=${M_DUS[$c]}
        if [[ -z $v ]]; then
            VERIFY_LINES+=("$c: ratio ${M_RATIO[$c]}, $d µs/req of worker CPU over $b (${M_US[$b]} µs/req); the ${VERIFY_NAME[$a]} verify alone was not measured (VERIFY_SPEED=$VERIFY_SPEED)")
            continue
        fi
        lim=$(awk -v b="${M_US[$b]}" -v v="$v" 'BEGIN { printf "%.3f", b / (b + v) }')
        VERIFY_LINES+=("$(awk -v c="$c" -v n="${VERIFY_NAME[$a]}" -v r="${M_RATIO[$c]}" -v d="$d" -v b="${M_US[$b]}" \
            -v base="$b" -v v="$v" -v lim="$lim" -v cpu="$SERVER_CPU" 'BEGIN {
            printf "%s: ratio %s; the module adds %+.1f µs/req of worker CPU over %s (%.1f µs/req); the %s verify alone takes %.1f µs (openssl speed, CPU %s), so the module'"'"'s other work on this path is %+.1f µs/req; if the verify were all it did, the ratio would be %s: this run is at %.0f%% of that limit",
                c, r, d, base, b, n, v, cpu, d - v, lim, 100 * r / lim
            if (d < v) printf " (the module verifies RSA-2048 with its own AVX-512 IFMA code on a CPU that has it, faster than OpenSSL; see docs/performance.md)" }')")
    done
}

# SSE: no event is held back waiting for more bytes than it needs. A node
# upstream sends events one at a time and sends the next only once the
# client has the previous one (bench/lib/sse-check.mjs); through the filter
# and without the module
SSE_CHECK_LINE="SSE no-hold-back check: not run"
sse_check() {
    local out
    log "SSE no-hold-back check (node upstream on 127.0.0.1:$SSE_PORT)"
    if ! out=$(node "$BENCH/lib/sse-check.mjs" --upstream-port "$SSE_PORT" --port "$PORT" \
            --token-file "$T/filter.jwt" --body-file "$T/tools_list.json" \
            --tools-file "$T/tools50.json" /sse_slow_plain:50 /sse_slow_filter:25 2>&1); then
        die "SSE no-hold-back check failed:"$'\n'"$out"$'\n'"error log:"$'\n'"$(tail -5 "$T/error-bench.log")"
    fi
    printf '    %s\n' "${out//$'\n'/$'\n'    }" >&2
    SSE_CHECK_LINE="SSE no-hold-back check (not timed): $(tail -1 <<<"$out")"
}

mode_bench() {
    LOAD_BEFORE=$(cut -d' ' -f1-3 /proc/loadavg)
    start_nginx
    log "checking every case answers 2xx"
    local c
    for c in "${CASES[@]}"; do
        is_unique "$c" || check_case "$c"
    done
    check_module_active
    sse_check

    # unique tokens, per unique case: a first batch, a 1 s calibration run on
    # it (which also warms that case up), then as many more as the rounds need
    local ntok alg
    for c in "${CASES[@]}"; do
        is_unique "$c" || continue
        alg=${C_UNIQUE_ALG[$c]}
        ntok=${UNIQUE_TOKENS:-20000}
        log "$c: generating $ntok distinct $alg tokens"
        node "$BENCH/lib/unique-tokens.mjs" "$T/${C_TOKEN[$c]}" "$ntok" 0 "$alg" >&2
        check_case "$c"
        if [[ -z ${UNIQUE_TOKENS:-} ]]; then
            run_wrk "$c" 1 "$T/wrk-calibrate-$c.txt"
            local cal need more
            cal=$(wrk_rps "$T/wrk-calibrate-$c.txt")
            need=$(awk -v r="$cal" -v d="$DURATION" -v n="$ROUNDS" 'BEGIN { printf "%d", r * 1.3 * d * n + 1000 }')
            more=$((need - (ntok - U_OFFSET[$c])))
            log "$c ~${cal%.*} req/s: $ROUNDS x ${DURATION}s need ~$need tokens (+30%)"
            if ((more > 0)); then
                log "$c: generating $more more tokens"
                node "$BENCH/lib/unique-tokens.mjs" "$T/unique-more.txt" "$more" 0 "$alg" >&2
                cat "$T/unique-more.txt" >>"$T/${C_TOKEN[$c]}"
                rm -f "$T/unique-more.txt"
                ntok=$((ntok + more))
            fi
        fi
        U_NTOK[$c]=$ntok
    done

    verify_speed

    log "warm-up: 1 s per case"
    for c in "${CASES[@]}"; do
        is_unique "$c" && [[ -z ${UNIQUE_TOKENS:-} ]] && continue   # warmed up by the calibration
        run_wrk "$c" 1 "$T/wrk-warmup-$c.txt"
    done

    # A round runs every case for DURATION seconds. With SLICES > 1 it runs
    # them SLICES times in turn, DURATION / SLICES seconds each, so that a
    # case and its baseline share the same stretches of the machine's load;
    # a case's figures for the round are then its slices' sums (p99: their
    # median). Unique-token cases run whole in the first pass: wrk reads
    # their token file at every start.
    declare -gA RPS P99 NON2XX SOCKERR USREQ CPUPCT
    local r out t0 t1 e0 e1 sl d
    local -A n_req n_sec n_tick n_ns n_non2 n_serr p99_list
    for ((r = 1; r <= ROUNDS; r++)); do
        log "round $r/$ROUNDS"
        n_req=() n_sec=() n_tick=() n_ns=() n_non2=() n_serr=() p99_list=()
        for ((sl = 1; sl <= SLICES; sl++)); do
            for c in "${CASES[@]}"; do
                d=$((DURATION / SLICES))
                if is_unique "$c"; then ((sl == 1)) || continue; d=$DURATION; fi
                out=$T/wrk-$c-$r-$sl.txt
                t0=$(worker_ticks); e0=$(date +%s%N)
                run_wrk "$c" "$d" "$out"
                t1=$(worker_ticks); e1=$(date +%s%N)
                n_req[$c]=$(( ${n_req[$c]:-0} + $(wrk_requests "$out") ))
                n_sec[$c]=$(awk -v a="${n_sec[$c]:-0}" -v b="$(wrk_seconds "$out")" 'BEGIN { print a + b }')
                n_tick[$c]=$(( ${n_tick[$c]:-0} + t1 - t0 ))
                n_ns[$c]=$(( ${n_ns[$c]:-0} + e1 - e0 ))
                n_non2[$c]=$(( ${n_non2[$c]:-0} + $(wrk_non2xx "$out") ))
                n_serr[$c]=$(( ${n_serr[$c]:-0} + $(wrk_sockerr "$out") ))
                p99_list[$c]="${p99_list[$c]:-} $(wrk_p99_ms "$out")"
            done
        done
        for c in "${CASES[@]}"; do
            RPS[$c,$r]=$(awk -v n="${n_req[$c]}" -v t="${n_sec[$c]}" 'BEGIN { printf "%.2f", n / t }')
            # worker CPU time (utime + stime) per answered request, and the
            # share of the wall time the worker was on a CPU: with other load
            # on the machine req/s drops, CPU time per request much less
            USREQ[$c,$r]=$(awk -v t="${n_tick[$c]}" -v hz="$CLK_TCK" -v n="${n_req[$c]}" \
                'BEGIN { printf "%.2f", t / hz * 1e6 / n }')
            CPUPCT[$c,$r]=$(awk -v t="${n_tick[$c]}" -v hz="$CLK_TCK" -v ns="${n_ns[$c]}" \
                'BEGIN { printf "%.0f", 100 * t / hz / (ns / 1e9) }')
            # shellcheck disable=SC2086
            P99[$c,$r]=$(printf '%.2f' "$(median ${p99_list[$c]})")
            NON2XX[$c,$r]=${n_non2[$c]}
            SOCKERR[$c,$r]=${n_serr[$c]}
            printf '    %-18s %10s req/s  p99 %8s ms  worker %3s%% CPU %7s us/req  non-2xx %s  socket errors %s\n' \
                "$c" "${RPS[$c,$r]}" "${P99[$c,$r]}" "${CPUPCT[$c,$r]}" "${USREQ[$c,$r]}" \
                "${NON2XX[$c,$r]}" "${SOCKERR[$c,$r]}" >&2
        done
    done

    # table
    local rows=() b rps_list ratios p99s non2 serr med ratio p99 per us uss pcts dus duss
    declare -gA M_RATIO=() M_US=() M_DUS=() M_PER=()
    for c in "${CASES[@]}"; do
        b=${C_BASE[$c]:-}
        rps_list=() ratios=() p99s=() non2=0 serr=0 uss=() pcts=() duss=()
        for ((r = 1; r <= ROUNDS; r++)); do
            rps_list+=("${RPS[$c,$r]}")
            p99s+=("${P99[$c,$r]}")
            uss+=("${USREQ[$c,$r]}")
            pcts+=("${CPUPCT[$c,$r]}")
            if [[ -n $b ]]; then
                duss+=("$(awk -v a="${USREQ[$c,$r]}" -v b="${USREQ[$b,$r]}" 'BEGIN { printf "%.2f", a - b }')")
            fi
            non2=$((non2 + NON2XX[$c,$r]))
            serr=$((serr + SOCKERR[$c,$r]))
            if [[ -n $b ]]; then
                ratios+=("$(awk -v a="${RPS[$c,$r]}" -v b="${RPS[$b,$r]}" 'BEGIN { printf "%.4f", a / b }')")
            fi
        done
        med=$(median "${rps_list[@]}")
        if [[ -n $b ]]; then ratio=$(printf '%.3f' "$(median "${ratios[@]}")"); else ratio=1; b=-; fi
        p99=$(printf '%.2f' "$(median "${p99s[@]}")")
        per=$(printf '%.0f/' "${rps_list[@]}"); per=${per%/}
        us=$(printf '%.1f' "$(median "${uss[@]}")")
        if [[ $b != - ]]; then dus=$(printf '%+.1f' "$(median "${duss[@]}")"); else dus=-; fi
        rows+=("$c|$b|$(printf '%.0f' "$med")|$ratio|$p99|$(median "${pcts[@]}")|$us|$dus|$non2|$serr|$per")
        M_RATIO[$c]=$ratio; M_US[$c]=$us; M_DUS[$c]=$dus
        if [[ $b != - ]]; then M_PER[$c]=$(printf '%.2f/' "${ratios[@]}"); M_PER[$c]=${M_PER[$c]%/}; fi
    done
    targets_table

    local now nginx_v cpu cmd commit
    now=$(date -u '+%Y-%m-%d %H:%M:%S UTC')
    nginx_v=$("$NGINX" -v 2>&1 | sed 's/^nginx version: //')
    cpu=$(cpu_model)
    cmd=$(env_cmd)
    commit=$(git -C "$ROOT" rev-parse --short HEAD 2>/dev/null || echo unknown)

    echo
    echo "ngx_mcp_oauth_module benchmark: $now, $nginx_v, $cpu ($ncpu CPUs)"
    echo "nginx 1 worker on CPU $SERVER_CPU; wrk -t1 -c$CONNS -d${DURATION}s on CPU $CLIENT_CPU; $ROUNDS rounds interleaved"
    local fmt='%-21s %-17s %7s %6s %8s %5s %7s %7s %7s %7s  %s\n'
    # shellcheck disable=SC2059
    printf "$fmt" case baseline 'req/s' ratio 'p99 ms' cpu% 'us/req' '+us/req' non-2xx sockerr 'req/s per round'
    local row f
    for row in "${rows[@]}"; do
        IFS='|' read -r -a f <<<"$row"
        # shellcheck disable=SC2059
        printf "$fmt" "${f[@]}"
    done
    echo "unique tokens: $(unique_summary)"
    echo "req/s: median of $ROUNDS runs; ratio: median over rounds of case/baseline in the same round; p99: median of the runs' p99"
    echo "cpu%, us/req: the nginx worker's CPU time (utime+stime) share of the run and per request (medians); +us/req: minus the baseline's, same round (median)"
    echo
    echo "Targets (issue 13): ratio to the baseline in the same run"
    local tfmt='%-21s %-17s %6s %9s %-4s  %s\n'
    # shellcheck disable=SC2059
    printf "$tfmt" case baseline ratio target met 'ratio per round'
    for row in "${TROWS[@]}"; do
        IFS='|' read -r -a f <<<"$row"
        # shellcheck disable=SC2059
        printf "$tfmt" "${f[0]}" "${f[1]}" "${f[2]}" "${f[3]}" "${f[4]}" "${f[5]}"
    done
    echo "targets met: $TMET of $TCOUNT"
    printf '%s\n' "${VERIFY_LINES[@]}"
    echo "$SSE_CHECK_LINE"

    {
        echo "# ngx_mcp_oauth_module benchmark results"
        echo
        echo "- date: $now"
        echo "- nginx: $nginx_v ($NGINX), module built from commit $commit"
        echo "- CPU: $cpu, $ncpu CPUs (lscpu); loopback"
        echo "- command: \`$cmd\`"
        echo "- nginx: 1 worker pinned to CPU $SERVER_CPU; client: \`taskset -c $CLIENT_CPU wrk -t1 -c$CONNS -d${DURATION}s --latency\`;" \
             "$ROUNDS rounds, each running every case once, in the order of the table$( ((SLICES == 1)) || echo " and in $SLICES turns of $((DURATION / SLICES)) s (the new-token cases: one turn of $DURATION s)")"
        echo "- unique tokens: $(unique_summary)"
        echo "- module: sha256 $MODULE_SHA..., built $MODULE_DATE; token cache: ${TOKEN_CACHE:-module default}"
        echo "- load average before / after: $LOAD_BEFORE / $(cut -d' ' -f1-3 /proc/loadavg) (other processes share the 2 CPUs)"
        echo
        echo "| case | what | baseline | req/s (median) | ratio to baseline | p99 ms | worker CPU % | worker µs/req | +µs/req vs baseline | non-2xx | socket errors | req/s per round |"
        echo "|---|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---|"
        for row in "${rows[@]}"; do
            IFS='|' read -r -a f <<<"$row"
            echo "| ${f[0]} | ${C_DESC[${f[0]}]} | ${f[1]} | ${f[2]} | ${f[3]} | ${f[4]} | ${f[5]} | ${f[6]} | ${f[7]} | ${f[8]} | ${f[9]} | ${f[10]} |"
        done
        echo
        echo "req/s is the median of the $ROUNDS runs of a case. The ratio is computed per round"
        echo "(case req/s divided by its baseline's req/s in the same round) and the median of"
        echo "those is shown. p99 is the median of the runs' 99th-percentile latency."
        echo "Worker CPU % is the nginx worker's CPU time (utime + stime, /proc) over the run's"
        echo "wall time: below ~95% the worker was not alone on its CPU or not saturated. Worker"
        echo "µs/req is that CPU time per answered request, which other load on the machine"
        echo "moves much less than req/s; +µs/req is the case's minus its baseline's in the same"
        echo "round (median): the module's CPU cost per request."
        echo "Throughput on 2 shared cores is noisy (a few %); \`bench/run.sh callgrind\` gives"
        echo "the stable per-request cost. See bench/README.md."
        echo
        echo "## Targets (issue 13)"
        echo
        echo "Ratio to the plain proxy of the same request, in the same run (median over the $ROUNDS interleaved rounds)."
        echo
        echo "| case | what | baseline | ratio | target | met | ratio per round |"
        echo "|---|---|---|---:|---:|---|---|"
        for row in "${TROWS[@]}"; do
            IFS='|' read -r -a f <<<"$row"
            echo "| ${f[0]} | ${C_DESC[${f[0]}]} | ${f[1]} | ${f[2]} | ${f[3]} | ${f[4]} | ${f[5]} |"
        done
        echo
        echo "Targets met: $TMET of $TCOUNT. The worker RSS target (< 1 MB over 1M mixed requests) is"
        echo "\`bench/run.sh rss\`'s, the instruction targets \`CG_CASES=targets bench/run.sh callgrind\`'s."
        echo
        printf -- '- %s\n' "${VERIFY_LINES[@]}"
        echo "- $SSE_CHECK_LINE"
    } >"$BENCH/results.md"
    log "wrote $BENCH/results.md"
}

# --------------------------------------------------------------------------
# rss: worker memory before/after RSS_REQUESTS requests of rs256_rules_body

CLK_TCK=$(getconf CLK_TCK)
worker_ticks() {   # utime + stime of the worker, in clock ticks
    awk '{print $14 + $15}' "/proc/$WORKER_PID/stat"
}

worker_mem() {   # prints "VmRSS VmHWM" in kB
    awk '/^VmRSS:/ {r = $2} /^VmHWM:/ {h = $2} END {print r, h}' "/proc/$WORKER_PID/status"
}

worker_mem_split() {   # prints "RssAnon RssShmem" in kB (private memory, the shared zones' touched pages)
    awk '/^RssAnon:/ {a = $2} /^RssShmem:/ {s = $2} END {print a + 0, s + 0}' "/proc/$WORKER_PID/status"
}

mode_rss() {
    # the mix: RSS_MIX's cases one after the other (bench/wrk/mixed.lua); a
    # unique case takes the next of its RSS_UNIQUE tokens each time
    local mix=() c nuniq=0
    read -r -a mix <<<"$RSS_MIX"
    ((${#mix[@]} > 0)) || die "RSS_MIX is empty"
    start_nginx
    : >"$T/mix.txt"
    for c in "${mix[@]}"; do
        [[ -n ${C_PATH[$c]:-} ]] || die "RSS_MIX: unknown case $c"
        if is_unique "$c" && [[ ! -s $T/${C_TOKEN[$c]} ]]; then
            log "$c: generating $RSS_UNIQUE distinct ${C_UNIQUE_ALG[$c]} tokens"
            node "$BENCH/lib/unique-tokens.mjs" "$T/${C_TOKEN[$c]}" "$RSS_UNIQUE" 0 "${C_UNIQUE_ALG[$c]}" >&2
        fi
        is_unique "$c" && nuniq=1
        check_case "$c"
        printf '%s %s %s %s %s\n' "${C_METHOD[$c]}" "${C_PATH[$c]}" "$T/${C_TOKEN[$c]}" \
            "${C_BODY[$c]:+$T/${C_BODY[$c]}}" "$(is_unique "$c" && echo 1 || echo 0)" \
            | sed 's/  / - /' >>"$T/mix.txt"
    done
    check_module_active
    # warm-up: 20,000 requests, or enough for every unique token to have been
    # used once (the token cache zone filled: its pages are part of the RSS)
    local warmup=20000
    ((nuniq == 0 || ${#mix[@]} * RSS_UNIQUE <= warmup)) || warmup=$((${#mix[@]} * RSS_UNIQUE))
    local start warm after rps out n split0 split1
    read -r -a start < <(worker_mem)
    log "warm-up: $warmup mixed requests (${mix[*]})"
    run_wrk mixed 300 "$T/wrk-rss-warmup.txt" BENCH_STOP_AFTER=$warmup
    read -r -a warm < <(worker_mem)
    read -r -a split0 < <(worker_mem_split)
    rps=$(wrk_rps "$T/wrk-rss-warmup.txt")
    log "$RSS_REQUESTS mixed requests (~$(awk -v n="$RSS_REQUESTS" -v r="$rps" 'BEGIN{printf "%d", n / r}') s at ${rps%.*} req/s)"
    out=$T/wrk-rss.txt
    run_wrk mixed "$(awk -v n="$RSS_REQUESTS" -v r="$rps" 'BEGIN{printf "%d", n / r * 3 + 60}')" "$out" \
        BENCH_STOP_AFTER="$RSS_REQUESTS"
    read -r -a after < <(worker_mem)
    read -r -a split1 < <(worker_mem_split)
    n=$(wrk_requests "$out")
    ((n >= RSS_REQUESTS)) || die "only $n requests done (wrk duration too short)"
    local non2 serr growth met=yes
    non2=$(wrk_non2xx "$out"); serr=$(wrk_sockerr "$out")
    growth=$((after[0] - warm[0]))
    ((growth < 1024)) || met=no

    local report
    report=$(
        echo "worker RSS, mixed requests, worker pid $WORKER_PID: ${#mix[@]} kinds one after the other: ${mix[*]}$(
            ((nuniq == 0)) || printf ' (%s: a new token each time, %d in rotation)' \
                "$(for c in "${mix[@]}"; do is_unique "$c" && printf '%s ' "$c"; done | sed 's/ $//')" "$RSS_UNIQUE")"
        printf '%-34s %10s %10s\n' '' 'VmRSS kB' 'VmHWM kB'
        printf '%-34s %10s %10s\n' "start (after ${#mix[@]}+2 check requests)" "${start[0]}" "${start[1]}"
        printf '%-34s %10s %10s\n' "after $warmup warm-up requests" "${warm[0]}" "${warm[1]}"
        printf '%-34s %10s %10s\n' "after $n more requests" "${after[0]}" "${after[1]}"
        printf 'growth over the %s requests: VmRSS %+d kB, VmHWM %+d kB\n' "$n" \
            "$growth" $((after[1] - warm[1]))
        printf 'growth since start:             VmRSS %+d kB, VmHWM %+d kB\n' \
            $((after[0] - start[0])) $((after[1] - start[1]))
        printf 'of the growth: private (RssAnon) %+d kB, shared zones touched (RssShmem) %+d kB\n' \
            $((split1[0] - split0[0])) $((split1[1] - split0[1]))
        printf 'target (issue 13): VmRSS growth over the %s requests < 1 MB (1024 kB): %+d kB, met: %s\n' "$n" "$growth" "$met"
        echo "wrk: $(wrk_rps "$out") req/s, non-2xx $non2, socket errors $serr"
    )
    echo
    echo "$report"
    {
        echo "# ngx_mcp_oauth_module worker memory"
        echo
        echo "- date: $(date -u '+%Y-%m-%d %H:%M:%S UTC')"
        echo "- nginx: $("$NGINX" -v 2>&1 | sed 's/^nginx version: //'); CPU: $(cpu_model)"
        echo "- command: \`$(env_cmd)\`"
        echo "- module: sha256 $MODULE_SHA..., built $MODULE_DATE; token cache: ${TOKEN_CACHE:-module default}"
        echo
        echo '```'
        echo "$report"
        echo '```'
    } >"$BENCH/results-rss.md"
    log "wrote $BENCH/results-rss.md"
    ((non2 == 0)) || die "$non2 non-2xx answers during the RSS run"
}

# --------------------------------------------------------------------------
# callgrind: instructions per request

cg_total() {   # total Ir of a callgrind output file
    awk '/^(summary|totals):/ {print $2; exit}' "$1"
}

cg_run() {   # NAME CASE REQUESTS: nginx under callgrind, REQUESTS sequential keep-alive requests
    local name=$1 c=$2 n=$3
    local outf=$T/cg-$name.out
    rm -f "$T/nginx-callgrind.pid"
    taskset -c "$SERVER_CPU" valgrind --tool=callgrind --callgrind-out-file="$outf" ${CG_VALGRIND_ARGS:-} \
        --log-file="$T/cg-$name.log" \
        "$NGINX" -p "$T/" -e "$T/error-callgrind.log" -c "$T/nginx-cg.conf" &
    NGINX_PID=$!
    NGINX_BG=1
    local i
    for ((i = 0; i < 1200; i++)); do   # wait for the listener without connecting to it
        ss -Htln "sport = :$PORT" | grep -q . && break
        kill -0 "$NGINX_PID" 2>/dev/null || die "nginx under valgrind exited: $(tail -20 "$T/cg-$name.log")"
        sleep 0.1
    done
    ss -Htln "sport = :$PORT" | grep -q . || die "nginx under valgrind did not listen in 120 s"
    local args=(--port "$PORT" --path "${C_PATH[$c]}" --n "$n" --method "${C_METHOD[$c]}")
    if is_unique "$c"; then
        args+=(--token-lines "$T/${C_TOKEN[$c]}")
    else
        args+=(--token-file "$T/${C_TOKEN[$c]}")
    fi
    [[ -z ${C_BODY[$c]:-} ]] || args+=(--body-file "$T/${C_BODY[$c]}")
    local t0=$SECONDS
    taskset -c "$CLIENT_CPU" node "$BENCH/lib/client.mjs" "${args[@]}" >/dev/null \
        || die "client failed in callgrind run $name"
    stop_nginx
    [[ -s $outf ]] || die "no callgrind output for $name: $(tail -20 "$T/cg-$name.log")"
    printf '    %-12s %6d requests of %-6s total Ir %15s  (%d s)\n' \
        "$name" "$n" "$c" "$(cg_total "$outf")" $((SECONDS - t0)) >&2
}

cg_functions() {   # OUT-FILE: "Ir<TAB>function [object]" for every function
    callgrind_annotate --inclusive=no --threshold=100 "$1" 2>/dev/null \
        | awk '/^ *[0-9,]+ +\( *[0-9.]+%\) / && !/PROGRAM TOTALS/ {
                ir = $1; gsub(/,/, "", ir); name = $0
                sub(/^ *[0-9,]+ +\( *[0-9.]+%\) +/, "", name)
                print ir "\t" name }'
}

cg_diff() {   # W.tsv WN.tsv N: "Ir/request<TAB>share %<TAB>function", largest first
    awk -F'\t' -v n="$3" 'NR == FNR { w[$2] += $1; next }
        { d[$2] += $1 }
        END {
            for (f in d) { x = d[f] - w[f]; if (x > 0) { t += x; pos[f] = x } }
            for (f in pos) printf "%.1f\t%.2f\t%s\n", pos[f] / n, 100 * pos[f] / t, f
        }' "$1" "$2" | sort -t$'\t' -k1,1 -rn
}

cg_targets() {   # issue 13's instruction targets, from PER (and the cases run)
    local met=0 count=0 d b100 noise v c
    cg_verdict() {   # LABEL VALUE OK(0/1)
        count=$((count + 1))
        if (($3)); then met=$((met + 1)); printf 'target %s: yes\n' "$1 ($2)"; else printf 'target %s: NO\n' "$1 ($2)"; fi
    }
    if [[ -n ${PER[rs256_rules_body]:-} && -n ${PER[plain_body]:-} ]]; then
        d=$((PER[rs256_rules_body] - PER[plain_body]))
        cg_verdict "rs256_rules_body: module cost <= 3000 Ir/request" "$d Ir; in module.so itself ${MODSO[rs256_rules_body]}" $((d <= 3000))
        if [[ -n ${PER[rs256_rules1000_body]:-} ]]; then
            # "within noise" of the 100-rule case: the module's own share
            # (module.so, which short runs leave much steadier than the
            # difference of two totals) no more than 1 % of the plain POST's
            # Ir above the 100-rule case's
            noise=$((PER[plain_body] / 100))
            v=$((MODSO[rs256_rules1000_body] - MODSO[rs256_rules_body]))
            cg_verdict "rs256_rules1000_body: module.so share within $noise Ir (1 % of plain_body) of the 100-rule case's ${MODSO[rs256_rules_body]}" \
                "${MODSO[rs256_rules1000_body]} Ir, $(printf '%+d' "$v"); module cost $((PER[rs256_rules1000_body] - PER[plain_body])) Ir" $((v <= noise))
        fi
    fi
    for c in rs256_body16k rs256_body256k; do
        [[ -n ${PER[$c]:-} && -n ${PER[${C_BASE[$c]}]:-} ]] || continue
        v=$(awk -v a="${PER[$c]}" -v b="${PER[${C_BASE[$c]}]}" -v n="$(stat -c %s "$T/${C_BODY[$c]}")" 'BEGIN { printf "%.2f", (a - b) / n }')
        cg_verdict "$c: Ir per body byte <= 0.5" "$v" "$(awk -v v="$v" 'BEGIN { print (v <= 0.5) }')"
    done
    if ((count)); then
        echo "callgrind targets met: $met of $count (the ratio targets are bench/run.sh's, the RSS target bench/run.sh rss's)"
    else
        echo "callgrind targets: none of their cases run (CG_CASES=targets runs them all)"
    fi
}

mode_callgrind() {
    local cases=() c
    if [[ $CG_CASES == all ]]; then
        for c in "${CASES[@]}"; do is_unique "$c" || cases+=("$c"); done
    elif [[ $CG_CASES == targets ]]; then
        # the target cases (but the unique ones), each after its baseline
        for c in "${CASES[@]}"; do
            is_unique "$c" && continue
            local t
            for t in "${TARGET_CASES[@]}"; do
                if [[ $c == "$t" || $c == "${C_BASE[$t]}" ]]; then cases+=("$c"); break; fi
            done
        done
    else
        read -r -a cases <<<"$CG_CASES"
    fi
    for c in "${cases[@]}"; do
        [[ -n ${C_PATH[$c]:-} ]] || die "CG_CASES: unknown case $c"
    done
    local W=$CG_WARMUP N=$CG_REQUESTS
    for c in "${cases[@]}"; do
        # a new token per request: as many as the longer run sends, each
        # used once (the cache starts empty in every run)
        is_unique "$c" || continue
        log "$c: generating $((W + N)) distinct ${C_UNIQUE_ALG[$c]} tokens"
        node "$BENCH/lib/unique-tokens.mjs" "$T/${C_TOKEN[$c]}" $((W + N)) 0 "${C_UNIQUE_ALG[$c]}" >&2
    done
    write_conf "$T/nginx-cg.conf" callgrind
    # the checks run against a normal nginx first (valgrind would count them)
    start_nginx
    for c in "${cases[@]}"; do check_case "$c"; done
    check_module_active
    stop_nginx

    log "callgrind runs: one with 0 requests; per case one with $W (warm-up) and one with $W + $N requests"
    cg_run zero plain 0
    declare -A CW CN
    for c in "${cases[@]}"; do
        CW[$c]=$((W / ${C_CG_DIV[$c]:-1})); CN[$c]=$((N / ${C_CG_DIV[$c]:-1}))
        cg_run "$c-w" "$c" "${CW[$c]}"
        cg_run "$c-wn" "$c" $((CW[$c] + CN[$c]))
    done

    # steady-state per-function difference of the two runs of every case,
    # and the module's own share of it (ngx_http_mcp_oauth_module.so)
    declare -A MODSO
    for c in "${cases[@]}"; do
        cg_functions "$T/cg-$c-w.out" >"$T/cg-$c-w.tsv"
        cg_functions "$T/cg-$c-wn.out" >"$T/cg-$c-wn.tsv"
        cg_diff "$T/cg-$c-w.tsv" "$T/cg-$c-wn.tsv" "${CN[$c]}" >"$T/cg-$c-diff.tsv"
        MODSO[$c]=$(awk -F'\t' '$3 ~ /ngx_http_mcp_oauth_module\.so\]$/ { s += $1 } END { printf "%.0f", s }' "$T/cg-$c-diff.tsv")
    done

    local z report
    z=$(cg_total "$T/cg-zero.out")
    declare -A PER PER0
    report=$(
        echo "instructions (Ir) per request: nginx + module + the upstream server block, valgrind --tool=callgrind"
        printf '%-21s %15s %15s %15s %12s %14s %10s\n' case 'Ir(0 req)' 'Ir(W)' 'Ir(W+N)' '(W+N - W)/N' '(W+N - 0)/(W+N)' 'module.so'
        for c in "${cases[@]}"; do
            local w wn
            w=$(cg_total "$T/cg-$c-w.out"); wn=$(cg_total "$T/cg-$c-wn.out")
            PER[$c]=$(awk -v a="$wn" -v b="$w" -v n="${CN[$c]}" 'BEGIN { printf "%.0f", (a - b) / n }')
            PER0[$c]=$(awk -v a="$wn" -v b="$z" -v n=$((CW[$c] + CN[$c])) 'BEGIN { printf "%.0f", (a - b) / n }')
            printf '%-21s %15s %15s %15s %12s %14s %10s\n' "$c" "$z" "$w" "$wn" "${PER[$c]}" "${PER0[$c]}" "${MODSO[$c]}"
        done
        echo "module.so: the steady-state self Ir per request in ngx_http_mcp_oauth_module.so itself (what it calls in nginx, libc, libcrypto not included)"
        echo "W = $W warm-up requests, N = $N measured requests, sequential on one keep-alive connection$(
            for c in "${cases[@]}"; do
                [[ -z ${C_CG_DIV[$c]:-} ]] || printf '; %s: W = %d, N = %d' "$c" "${CW[$c]}" "${CN[$c]}"
            done)"
        for c in "${cases[@]}"; do
            local b=${C_BASE[$c]:-}
            [[ -n $b && -n ${PER[$b]:-} ]] || continue
            printf 'module cost %-16s (%s - %s): %d Ir/request steady state (%.2fx %s), %d Ir/request with warm-up\n' \
                "$c" "$c" "$b" $((PER[$c] - PER[$b])) \
                "$(awk -v a="${PER[$c]}" -v b="${PER[$b]}" 'BEGIN { print a / b }')" "$b" \
                $((PER0[$c] - PER0[$b]))
        done
        # what the module costs per byte of the body: the scanner's share
        for c in "${cases[@]}"; do
            local b=${C_BASE[$c]:-} bytes
            # (a filter case's cost is its answer's, not its 58-byte request's)
            [[ -n $b && -n ${PER[$b]:-} && -z ${C_ANSWER[$c]:-} && -n ${C_BODY[$c]:-} ]] || continue
            bytes=$(stat -c %s "$T/${C_BODY[$c]}")
            printf 'Ir per body byte %-16s ((%s - %s) / %d bytes): %.2f\n' "$c" "$c" "$b" "$bytes" \
                "$(awk -v a="${PER[$c]}" -v b="${PER[$b]}" -v n="$bytes" 'BEGIN { print (a - b) / n }')"
        done
        for c in "${cases[@]}"; do
            local b=${C_BASE[$c]:-} bytes
            [[ -n $b && -n ${PER[$b]:-} && -n ${C_ANSWER[$c]:-} ]] || continue
            bytes=$(stat -c %s "$T/${C_ANSWER[$c]}")
            printf 'Ir per answer byte %-14s ((%s - %s) / %d bytes): %.2f\n' "$c" "$c" "$b" "$bytes" \
                "$(awk -v a="${PER[$c]}" -v b="${PER[$b]}" -v n="$bytes" 'BEGIN { print (a - b) / n }')"
        done
        cg_targets
        echo "token cache: ${TOKEN_CACHE:-module default}; module copy sha256 $MODULE_SHA (built $MODULE_DATE)"
    )
    echo
    echo "$report"

    for c in "${cases[@]}"; do
        [[ -n ${C_BASE[$c]:-} ]] || continue    # baselines get no annotation
        local ann=$BENCH/callgrind-$c.txt
        {
            echo "# callgrind, case $c (${C_DESC[$c]}): $((CW[$c] + CN[$c])) requests, startup and shutdown included"
            echo "# $(date -u '+%Y-%m-%d %H:%M:%S UTC'); $("$NGINX" -v 2>&1 | sed 's/^nginx version: //'); $(cpu_model)"
            echo "# command: $(env_cmd)"
            echo "#"
            while IFS= read -r line; do echo "# $line"; done <<<"$report"
            echo
            echo "== Steady state: self Ir per request by function, (Ir(W+N) - Ir(W)) / N, top 15 =="
            echo
            printf '%12s %7s  %s\n' 'Ir/request' share function
            head -15 "$T/cg-$c-diff.tsv" | awk -F'\t' '{printf "%12.1f %6.2f%%  %s\n", $1, $2, $3}'
            echo
            echo "== Steady state: self Ir per request by object file =="
            echo
            awk -F'\t' '{obj = "(object not given)"
                         if ($3 ~ /\]$/) { obj = $3; sub(/.*\[/, "", obj); sub(/\]$/, "", obj); sub(/.*\//, "", obj) }
                         s[obj] += $1; t += $1}
                END { for (o in s) printf "%12.1f %6.2f%%  %s\n", s[o], 100 * s[o] / t, o }' \
                "$T/cg-$c-diff.tsv" | sort -rn
            echo
            echo "== callgrind_annotate --inclusive=no of the whole W+N run (startup and warm-up included), top 15 =="
            echo
            callgrind_annotate --inclusive=no "$T/cg-$c-wn.out" 2>/dev/null \
                | awk 'done { next }
                       /PROGRAM TOTALS/ { print; next }
                       /^ *[0-9,]+ +\(/ && seen { print; if (++n == 15) done = 1; next }
                       /^-+$/ { dash++; if (dash == 4) seen = 1 }'
        } | sed "s|$T/|<tmp>/|g" >"$ann"
        log "wrote $ann"
    done
    {
        echo "# ngx_mcp_oauth_module instructions per request"
        echo
        echo "- date: $(date -u '+%Y-%m-%d %H:%M:%S UTC')"
        echo "- nginx: $("$NGINX" -v 2>&1 | sed 's/^nginx version: //'); CPU: $(cpu_model); valgrind $(valgrind --version | sed 's/^valgrind-//')"
        echo "- command: \`$(env_cmd)\`"
        echo
        echo '```'
        echo "$report"
        echo '```'
        echo
        echo "Top functions: callgrind-<case>.txt next to this file."
    } >"$BENCH/results-callgrind.md"
    log "wrote $BENCH/results-callgrind.md"
}

# --------------------------------------------------------------------------
# soak: valid, invalid and denied requests at the same time from three wrk,
# SOAK_REQUESTS in all; the RSS of every worker sampled before, during, after

SOAK_KINDS=(valid invalid denied)
declare -A SK_EXPECT=([valid]=200 [invalid]=401 [denied]=403)
declare -A SK_TOKENS=([valid]=soak-valid.jwt [invalid]=soak-invalid.txt [denied]=soak-denied.jwt)
declare -A SK_BODY=([valid]=soak-call.json [invalid]=soak-call.json [denied]=soak-create.json)
# shellcheck disable=SC2016  # backquotes: markdown
declare -A SK_DESC=(
    [valid]='tools/call `search`, valid token with `mcp:tools`'
    [invalid]='tools/call `search`, rotating: bad signature / expired / wrong audience'
    [denied]='tools/call `create_app`, valid token without `write:application`')
SOAK_FAILS=()
SOAK_MD=()      # markdown lines of the report, per pass

pid_mem() {   # PID: "VmRSS VmHWM" in kB
    awk '/^VmRSS:/ {r = $2} /^VmHWM:/ {h = $2} END {print r + 0, h + 0}' "/proc/$1/status" 2>/dev/null || echo "0 0"
}
pid_ticks() { awk '{print $14 + $15}' "/proc/$1/stat" 2>/dev/null || echo 0; }

soak_curl() {   # TOKEN BODY-FILE OUT: prints the status; headers in OUT.h
    curl -sS -o "$3" -D "$3.h" -w '%{http_code}' -X POST \
        -H 'Accept: application/json, text/event-stream' -H 'Content-Type: application/json' \
        -H "Authorization: Bearer $1" --data-binary "@$2" "http://127.0.0.1:$PORT/soak" || echo curl-failed
}

soak_check() {   # every token of every kind answers the expected status once
    local k tok code n www
    for k in "${SOAK_KINDS[@]}"; do
        n=0
        while IFS= read -r tok; do
            [[ -n $tok ]] || continue
            n=$((n + 1))
            code=$(soak_curl "$tok" "$T/${SK_BODY[$k]}" "$T/check-soak-$k-$n.out")
            www=$(tr -d '\r' <"$T/check-soak-$k-$n.out.h" | sed -n 's/^[Ww][Ww][Ww]-[Aa]uthenticate: //p')
            [[ $code == "${SK_EXPECT[$k]}" ]] || die "soak $k token $n: answered $code, expected ${SK_EXPECT[$k]}"$'\n'"body: $(head -c 400 "$T/check-soak-$k-$n.out")"$'\n'"error log:"$'\n'"$(tail -5 "$T/error-soak.log")"
            printf '    %-8s token %d -> %s %s\n' "$k" "$n" "$code" "${www:+($www)}" >&2
        done <"$T/${SK_TOKENS[$k]}"
    done
}

soak_progress() {   # PASS: "total valid invalid denied unexpected" from the progress files
    local pass=$1 k f a u tot=0 unexp=0 per=()
    for k in "${SOAK_KINDS[@]}"; do
        local sum=0
        for f in "$T/soak-$pass-$k.progress".*; do
            [[ -f $f && $f != *.tmp ]] || continue
            read -r a u <"$f" || continue
            sum=$((sum + ${a:-0})); unexp=$((unexp + ${u:-0}))
        done
        per+=("$sum"); tot=$((tot + sum))
    done
    echo "$tot ${per[*]} $unexp"
}

soak_pass() {   # PASS REQUESTS CACHE-CONF LABEL
    local pass=$1 want=$2 label=$4
    cache_conf=$3
    start_nginx soak
    soak_check
    local w
    declare -A m_start m_warm m_end m_max m_hwm t_start t_end
    for w in "${WORKER_PIDS[@]}"; do
        read -r "m_start[$w]" _ < <(pid_mem "$w")
        m_max[$w]=${m_start[$w]}
        t_start[$w]=$(pid_ticks "$w")
    done
    local load_before
    load_before=$(cut -d' ' -f1-3 /proc/loadavg)

    # each kind runs until it has its third of the requests: the three run at
    # the same time, the kind that is done first stops first (a proxied 200
    # costs more than a 401/403 nginx answers itself, so valid gets more
    # connections, SOAK_CONNS_VALID, to keep the three close to each other)
    local quota=$(((want + 2) / 3)) k i
    declare -A conns=([valid]=$SOAK_CONNS_VALID [invalid]=$SOAK_CONNS [denied]=$SOAK_CONNS)
    log "pass $pass ($label): $want requests, $quota per kind, from 3 wrk (-t1, valid -c$SOAK_CONNS_VALID, invalid and denied -c$SOAK_CONNS) on 127.0.0.1:$PORT/soak"
    SOAK_WRK_PIDS=()
    for k in "${SOAK_KINDS[@]}"; do
        env SOAK_KIND="$k" SOAK_EXPECT="${SK_EXPECT[$k]}" SOAK_TOKENS="$T/${SK_TOKENS[$k]}" \
            SOAK_BODY="$T/${SK_BODY[$k]}" SOAK_PROGRESS="$T/soak-$pass-$k.progress" \
            wrk -t1 -c"${conns[$k]}" -d"${SOAK_MAX_SECONDS}s" --timeout 5s -s "$BENCH/wrk/soak.lua" \
            "http://127.0.0.1:$PORT/soak" >"$T/wrk-soak-$pass-$k.txt" 2>&1 &
        SOAK_WRK_PIDS+=($!)
    done

    local samples=$T/soak-$pass-samples.tsv t0=$SECONDS last=-999 warm_n='' tot rest v pp running
    declare -A ksecs=()
    : >"$samples"
    while :; do
        sleep 0.5
        read -r tot rest < <(soak_progress "$pass")
        read -r -a pp <<<"$rest"
        running=0
        for i in 0 1 2; do
            k=${SOAK_KINDS[$i]}
            [[ -z ${ksecs[$k]:-} ]] || continue
            if ((pp[i] >= quota)); then
                kill -INT "${SOAK_WRK_PIDS[$i]}" 2>/dev/null || true
                ksecs[$k]=$((SECONDS - t0))
                log "$k: $quota answers after ${ksecs[$k]} s, its wrk stopped"
            elif ! kill -0 "${SOAK_WRK_PIDS[$i]}" 2>/dev/null; then
                die "the $k wrk of pass $pass ended early (after $((SECONDS - t0)) s; SOAK_MAX_SECONDS=$SOAK_MAX_SECONDS):"$'\n'"$(tail -n 20 "$T/wrk-soak-$pass-$k.txt")"
            else
                running=$((running + 1))
            fi
        done
        if [[ -z $warm_n ]] && ((tot >= SOAK_WARMUP)); then
            warm_n=$tot
            for w in "${WORKER_PIDS[@]}"; do read -r "m_warm[$w]" _ < <(pid_mem "$w"); done
            log "warm-up done at $tot requests: RSS $(for w in "${WORKER_PIDS[@]}"; do printf '%s:%s kB ' "$w" "${m_warm[$w]}"; done)"
        fi
        if ((SECONDS - last >= SOAK_SAMPLE || running == 0)); then
            last=$SECONDS
            local line="$((SECONDS - t0))	$tot"
            for w in "${WORKER_PIDS[@]}"; do
                read -r v _ < <(pid_mem "$w")
                ((v > m_max[$w])) && m_max[$w]=$v
                line+="	$v"
            done
            echo "$line" >>"$samples"
            printf '    %4ds %8d requests (valid %d, invalid %d, denied %d), unexpected %d, RSS kB %s\n' \
                $((SECONDS - t0)) "$tot" "${pp[0]}" "${pp[1]}" "${pp[2]}" "${pp[3]}" \
                "$(cut -f3- <<<"$line" | tr '\t' ' ')" >&2
        fi
        ((running > 0)) || break
    done
    local secs=$((SECONDS - t0)) p rc
    for p in "${SOAK_WRK_PIDS[@]}"; do
        rc=0; wait "$p" || rc=$?
        ((rc == 0)) || die "wrk $p failed (rc $rc):"$'\n'"$(tail -n 20 "$T"/wrk-soak-"$pass"-*.txt)"
    done
    SOAK_WRK_PIDS=()
    sleep 1
    local now_workers
    now_workers=$(ps -o pid= --ppid "$NGINX_PID" | tr -d ' ' | sort -n | tr '\n' ' ')
    for w in "${WORKER_PIDS[@]}"; do
        read -r "m_end[$w]" "m_hwm[$w]" < <(pid_mem "$w")
        t_end[$w]=$(pid_ticks "$w")
    done
    [[ ${now_workers% } == "${WORKER_PIDS[*]}" ]] \
        || SOAK_FAILS+=("pass $pass: workers changed during the run (${WORKER_PIDS[*]} -> ${now_workers% }): a worker died")
    stop_nginx
    mv "$T/error-soak.log" "$T/error-soak-$pass.log"

    # per kind
    local total=0 out answers unexp statuses rps serr kinds_rows=()
    for k in "${SOAK_KINDS[@]}"; do
        out=$T/wrk-soak-$pass-$k.txt
        read -r answers unexp statuses < <(sed -n 's/^soak: kind=[a-z]* expect=[0-9]* answers=\([0-9]*\) unexpected=\([0-9]*\) statuses=\(.*\)$/\1 \2 \3/p' "$out")
        [[ -n ${answers:-} ]] || die "no soak summary in $out:"$'\n'"$(cat "$out")"
        rps=$(wrk_rps "$out"); serr=$(wrk_sockerr "$out")
        local serr_detail
        serr_detail=$(sed -n 's/^ *Socket errors: //p' "$out")
        total=$((total + answers))
        ((unexp == 0)) || SOAK_FAILS+=("pass $pass: $unexp $k answers were not ${SK_EXPECT[$k]} ($statuses)")
        ((serr == 0)) || warn "pass $pass, $k: socket errors: $serr_detail"
        kinds_rows+=("| $pass | $k | ${SK_DESC[$k]} | ${conns[$k]} | ${SK_EXPECT[$k]} | $answers | ${ksecs[$k]} | ${rps%.*} | **$unexp** | ${statuses//,/, } | $serr${serr_detail:+ ($serr_detail)} |")
    done
    # per worker
    local worker_rows=() growth per100k cpu_ticks=0 bound_ok
    for w in "${WORKER_PIDS[@]}"; do
        cpu_ticks=$((cpu_ticks + t_end[$w] - t_start[$w]))
        growth=$((m_end[$w] - m_warm[$w]))
        per100k=$(awk -v g="$growth" -v n=$((total - warm_n)) 'BEGIN { printf "%+.1f", (n > 0 ? g * 100000 / n : 0) }')
        bound_ok=yes
        if ((growth > SOAK_RSS_BOUND_KB)); then
            bound_ok=NO
            SOAK_FAILS+=("pass $pass: worker $w RSS grew $growth kB after the warm-up (bound $SOAK_RSS_BOUND_KB kB)")
        fi
        worker_rows+=("| $pass | $w | ${m_start[$w]} | ${m_warm[$w]} | ${m_max[$w]} | ${m_hwm[$w]} | ${m_end[$w]} | $(printf '%+d' "$growth") | $per100k | $bound_ok |")
    done
    local us_req
    us_req=$(awk -v t="$cpu_ticks" -v hz="$CLK_TCK" -v n="$total" 'BEGIN { printf "%.1f", t / hz * 1e6 / n }')

    # RSS trace: about 10 rows of the samples
    local nsamp trace
    nsamp=$(wc -l <"$samples")
    trace=$(awk -v n="$nsamp" -F'\t' 'BEGIN { step = n > 10 ? n / 10 : 1 }
        NR == 1 || NR == n || NR >= next_row { printf "| %s | %s |", $1, $2; for (i = 3; i <= NF; i++) printf " %s |", $i; print ""; next_row = NR + step }' "$samples")
    local err_summary
    err_summary=$(awk '{ if (match($0, /\[[a-z]+\]/)) c[substr($0, RSTART + 1, RLENGTH - 2)]++ }
        END { for (l in c) printf "%s%s: %d", (s++ ? ", " : ""), l, c[l] }' "$T/error-soak-$pass.log")
    if grep -Eq '\[(alert|crit|emerg)\]' "$T/error-soak-$pass.log"; then
        SOAK_FAILS+=("pass $pass: alert/crit/emerg in the error log: $(grep -E '\[(alert|crit|emerg)\]' "$T/error-soak-$pass.log" | head -3)")
    fi

    SOAK_MD+=("" "### Pass $pass: $label" ""
        "$total requests in $secs s: 3 \`wrk -t1 --timeout 5s\` at the same time, each stopped once its kind had $quota answers;" \
        "nginx $SOAK_WORKERS workers (not pinned), worker CPU $(awk -v t="$cpu_ticks" -v hz="$CLK_TCK" 'BEGIN { printf "%.1f", t / hz }') s in all = $us_req µs/request;" \
        "load average before / after: $load_before / $(cut -d' ' -f1-3 /proc/loadavg); error log (level warn): ${err_summary:-empty}." ""
        "| pass | kind | request | connections | expected | answers | s | req/s | unexpected | statuses | socket errors |"
        "|---|---|---|---:|---:|---:|---:|---:|---:|---|---|"
        "${kinds_rows[@]}" ""
        "Worker memory (kB, \`/proc/<pid>/status\`); warm-up = the first $warm_n requests; growth = end − after warm-up, bound $SOAK_RSS_BOUND_KB kB:" ""
        "| pass | worker | VmRSS start | after warm-up | max sampled | peak (VmHWM) | end | growth | per 100k requests | within bound |"
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|---|"
        "${worker_rows[@]}" ""
        "<details><summary>RSS samples (every ${SOAK_SAMPLE} s), pass $pass</summary>" ""
        "| s | requests |$(for w in "${WORKER_PIDS[@]}"; do printf ' %s kB |' "$w"; done)"
        "|---:|---:|$(for w in "${WORKER_PIDS[@]}"; do printf -- '---:|'; done)"
        "$trace" "" "</details>")
}

mode_soak() {
    ((SOAK_WARMUP < SOAK_REQUESTS)) || die "SOAK_WARMUP ($SOAK_WARMUP) must be below SOAK_REQUESTS ($SOAK_REQUESTS)"
    if ((SOAK_NOCACHE_REQUESTS > 0 && SOAK_WARMUP >= SOAK_NOCACHE_REQUESTS)); then
        die "SOAK_WARMUP ($SOAK_WARMUP) must be below SOAK_NOCACHE_REQUESTS ($SOAK_NOCACHE_REQUESTS), or set that to 0"
    fi
    local load0
    load0=$(cut -d' ' -f1-3 /proc/loadavg)
    soak_pass 1 "$SOAK_REQUESTS" "$cache_conf" "token cache ${TOKEN_CACHE:-on (module default, 4m)}"
    if ((SOAK_NOCACHE_REQUESTS > 0)) && [[ ${TOKEN_CACHE:-} != off ]]; then
        soak_pass 2 "$SOAK_NOCACHE_REQUESTS" "mcp_oauth_token_cache off;" "mcp_oauth_token_cache off"
    fi
    local verdict=PASS
    ((${#SOAK_FAILS[@]} == 0)) || verdict=FAIL
    local report
    report=$(
        echo "## Soak $(date -u '+%Y-%m-%d %H:%M:%S UTC'): $verdict"
        echo
        echo "- nginx: $("$NGINX" -v 2>&1 | sed 's/^nginx version: //'); CPU: $(cpu_model), $(nproc) CPUs shared by nginx, the three wrk and whatever else runs"
        echo "- command: \`$(env_cmd)\`"
        echo "- module: sha256 $MODULE_SHA..., built $MODULE_DATE; load average at the start: $load0"
        echo "- location: \`mcp_oauth on; mcp_oauth_required_scope mcp:tools; mcp_oauth_scope create_app write:application;\` in front of the benchmark upstream"
        printf '%s\n' "${SOAK_MD[@]}"
        echo
        if [[ $verdict == PASS ]]; then
            echo "Verdict: PASS (every answer had the expected status; no worker grew more than $SOAK_RSS_BOUND_KB kB after the warm-up; no worker died)."
        else
            echo "Verdict: FAIL"
            printf -- '- %s\n' "${SOAK_FAILS[@]}"
        fi
    )
    echo
    echo "$report"
    local res=$BENCH/results-soak.md
    if [[ ! -s $res ]]; then
        printf '%s\n\n%s\n' "# ngx_mcp_oauth_module soak results" \
            "Appended by \`bench/run.sh soak\`, newest last; see bench/README.md (Soak)." >"$res"
    fi
    printf '\n%s\n' "$report" >>"$res"
    log "appended to $res"
    ((${#SOAK_FAILS[@]} == 0)) || die "soak failed: ${SOAK_FAILS[*]}"
}

"mode_$MODE"
