#!/usr/bin/env bash
# ngx_mcp_oauth_module demo: a real MCP server (server.mjs, 127.0.0.1:8081)
# behind nginx + the module (127.0.0.1:8080) acting as an OAuth 2.1
# protected resource.
#
#   bash examples/demo/run.sh                 start, print how to try it, wait for Ctrl-C
#   DEMO_NO_WAIT=1 bash examples/demo/run.sh  start, self-check, stop; exit 1 on failure
#
# Environment:
#   MCP_OAUTH_MODULE  module .so   (default: <repo>/build/ngx_http_mcp_oauth_module.so)
#   NGINX             nginx binary (default: /usr/sbin/nginx)
#   DEMO_JWT_ALG      signing alg of the demo issuer key (default: ES256; RS256, PS256, EdDSA...)
#
# Everything it writes goes to examples/demo/run/ (recreated on every start):
# nginx.conf, jwks.json, signing-key.jwk.json, token.txt, pid, logs, temp dirs.
# shellcheck disable=SC2317  # functions are called via traps and run_check
set -euo pipefail

DEMO_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT_DIR=$(cd "$DEMO_DIR/../.." && pwd)
RUN_DIR=$DEMO_DIR/run
MODULE=${MCP_OAUTH_MODULE:-$ROOT_DIR/build/ngx_http_mcp_oauth_module.so}
NGINX=${NGINX:-/usr/sbin/nginx}
NO_WAIT=${DEMO_NO_WAIT:-0}
[ "$NO_WAIT" = 0 ] && NO_WAIT= || NO_WAIT=1

NGINX_PORT=8080
MCP_PORT=8081
MCP_URL=http://127.0.0.1:$NGINX_PORT/mcp
PRM_URL=http://127.0.0.1:$NGINX_PORT/.well-known/oauth-protected-resource/mcp
UPSTREAM_URL=http://127.0.0.1:$MCP_PORT/mcp
TOOLS_LIST='{"jsonrpc":"2.0","id":1,"method":"tools/list","params":{}}'
WHOAMI='{"jsonrpc":"2.0","id":2,"method":"tools/call","params":{"name":"whoami","arguments":{}}}'
EXPECTED_TOOLS="whoami list_apps create_app"   # admin_reset needs "admin"

say() { printf 'demo: %s\n' "$*"; }
die() { printf 'demo: error: %s\n' "$*" >&2; exit 1; }

# ------------------------------------------------------------ children ----
PIDS=()
NODE_PID=
NGINX_PID=

stop_children() {
    local pid alive
    [ ${#PIDS[@]} -eq 0 ] && return 0
    for pid in "${PIDS[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
    for _ in $(seq 1 50); do
        alive=
        for pid in "${PIDS[@]}"; do kill -0 "$pid" 2>/dev/null && alive=1; done
        [ -z "$alive" ] && break
        sleep 0.1
    done
    for pid in "${PIDS[@]}"; do kill -KILL "$pid" 2>/dev/null || true; done
    for pid in "${PIDS[@]}"; do wait "$pid" 2>/dev/null || true; done
    PIDS=()
}

cleanup() {
    local rc=$?
    trap - EXIT INT TERM
    if [ ${#PIDS[@]} -gt 0 ]; then
        say "stopping nginx and the MCP server"
        stop_children
    fi
    exit "$rc"
}
trap cleanup EXIT
trap 'echo; exit 130' INT
trap 'exit 143' TERM

show_logs() {
    local f
    for f in nginx.out error.log server.log; do
        [ -s "$RUN_DIR/$f" ] || continue
        echo "----- run/$f (last 25 lines) -----" >&2
        tail -n 25 "$RUN_DIR/$f" >&2
    done
}

port_busy() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

# wait_http URL NAME PID: until URL answers at all (any HTTP status)
wait_http() {
    local url=$1 name=$2 pid=$3 code
    for _ in $(seq 1 100); do
        if ! kill -0 "$pid" 2>/dev/null; then
            show_logs
            die "$name exited during startup"
        fi
        code=$(curl -s -o /dev/null -w '%{http_code}' --max-time 2 "$url" 2>/dev/null || true)
        if [ -n "$code" ] && [ "$code" != 000 ]; then return 0; fi
        sleep 0.1
    done
    show_logs
    die "$name did not answer on $url within 10s"
}

# ------------------------------------------------------------ preflight ---
command -v node >/dev/null || die "node not found (Node.js >= 20 is needed)"
command -v curl >/dev/null || die "curl not found"
[ -x "$NGINX" ] || die "nginx not found at $NGINX (apt-get install nginx, or set NGINX=)"
[ -f "$MODULE" ] || die "module not found: $MODULE (build it first: ./build.sh)"
MODULE=$(cd "$(dirname "$MODULE")" && pwd)/$(basename "$MODULE")
case "$RUN_DIR$MODULE" in
    *[[:space:]\;\"\'\{\}]*) die "paths with spaces, quotes, ';' or braces are not supported in nginx.conf: $RUN_DIR, $MODULE" ;;
esac
for p in $NGINX_PORT $MCP_PORT; do
    if port_busy "$p"; then
        die "127.0.0.1:$p is already in use (an earlier demo still running? see $RUN_DIR/nginx.pid)"
    fi
done

if [ ! -d "$DEMO_DIR/node_modules/@modelcontextprotocol/sdk" ] || [ ! -d "$DEMO_DIR/node_modules/jose" ]; then
    say "node_modules missing: npm ci"
    (cd "$DEMO_DIR" && npm ci --no-audit --no-fund)
fi

# ------------------------------------------------------------ keys, conf --
rm -rf "$RUN_DIR"
mkdir -p "$RUN_DIR/tmp"

node "$DEMO_DIR/keys.mjs" init --dir "$RUN_DIR" | sed 's/^/demo: /'
TOKEN=$(cat "$RUN_DIR/token.txt")
[ -n "$TOKEN" ] || die "no token minted"

sed_escape() { printf '%s' "$1" | sed -e 's/[\\&|]/\\&/g'; }
sed -e "s|@MODULE_PATH@|$(sed_escape "$MODULE")|g" \
    -e "s|@RUN_DIR@|$(sed_escape "$RUN_DIR")|g" \
    -e "s|@JWKS_PATH@|$(sed_escape "$RUN_DIR/jwks.json")|g" \
    "$DEMO_DIR/nginx.conf.in" > "$RUN_DIR/nginx.conf"
if grep -qE '@[A-Z_]+@' "$RUN_DIR/nginx.conf"; then
    die "unrendered placeholder in run/nginx.conf: $(grep -oE '@[A-Z_]+@' "$RUN_DIR/nginx.conf" | head -1)"
fi

NGINX_ARGS=(-p "$RUN_DIR/" -c "$RUN_DIR/nginx.conf" -e "$RUN_DIR/error.log")
if ! out=$("$NGINX" -t "${NGINX_ARGS[@]}" 2>&1); then
    printf '%s\n' "$out" >&2
    die "nginx -t failed for run/nginx.conf"
fi
say "nginx -t: configuration ok"
# surface warnings (e.g. JWKS keys the module skipped)
printf '%s\n' "$out" | grep -vE 'syntax is ok|test is successful' | sed 's/^/demo: nginx -t: /' || true

# ------------------------------------------------------------ start -------
PORT=$MCP_PORT HOST=127.0.0.1 node "$DEMO_DIR/server.mjs" >>"$RUN_DIR/server.log" 2>&1 &
NODE_PID=$!
PIDS+=("$NODE_PID")
wait_http "$UPSTREAM_URL" "MCP server (node)" "$NODE_PID"
say "MCP server up on $UPSTREAM_URL (pid $NODE_PID)"

"$NGINX" "${NGINX_ARGS[@]}" >>"$RUN_DIR/nginx.out" 2>&1 &
NGINX_PID=$!
PIDS+=("$NGINX_PID")
wait_http "$PRM_URL" "nginx" "$NGINX_PID"
say "nginx up on http://127.0.0.1:$NGINX_PORT (master pid $NGINX_PID)"

# ------------------------------------------------------------ banner ------
cat <<EOF

==================== ngx_mcp_oauth_module demo ====================
MCP endpoint (OAuth-protected)   $MCP_URL
Protected resource metadata      $PRM_URL
Upstream MCP server (no auth)    $UPSTREAM_URL   (loopback only)
Logs                             $RUN_DIR/{error.log,access.log,server.log}

Access token (demo issuer, sub=demo-user, client_id=demo-client,
scope="mcp:tools read:application write:application", valid 24 h):
$TOKEN

# 1. tools/list through nginx with the token (plain JSON response):
export TOKEN='$TOKEN'
curl -sS -X POST $MCP_URL -H "Authorization: Bearer \$TOKEN" -H 'Content-Type: application/json' -H 'Accept: application/json, text/event-stream' -d '$TOOLS_LIST'

# 2. the same without a token: 401 + WWW-Authenticate pointing at the metadata:
curl -sS -i -X POST $MCP_URL -H 'Content-Type: application/json' -H 'Accept: application/json, text/event-stream' -d '$TOOLS_LIST'

# 3. protected resource metadata (RFC 9728):
curl -sS $PRM_URL

# 4. an MCP SDK client (initialize, SSE, tools/list, whoami, DELETE):
node $DEMO_DIR/client.mjs

# 5. other tokens (other scopes/users, expired, wrong audience), same key:
node $DEMO_DIR/keys.mjs mint --sub alice --scope 'mcp:tools read:application'
node $DEMO_DIR/keys.mjs mint --exp=-60

MCP Inspector:  npx @modelcontextprotocol/inspector
  Transport Type "Streamable HTTP", URL $MCP_URL,
  Authentication: header "Authorization" = "Bearer <token above>"
  (or paste the token into the Bearer Token field), Connect, List Tools.
  Without a token the Inspector follows the 401 to the metadata and tries
  the demo issuer, which is not a real authorization server.
====================================================================

EOF

# ------------------------------------------------------------ self-check --
PASS=0
FAIL=0
CHECK_DIR=$RUN_DIR/check
mkdir -p "$CHECK_DIR"

# Reads a JSON-RPC response (JSON or SSE) from file $1, runs JS expression $2 on it (as m).
rpc_eval() {
    node -e '
        const fs = require("fs");
        const t = fs.readFileSync(process.argv[1], "utf8");
        let m;
        try { m = JSON.parse(t); } catch {
            const d = t.split(/\r?\n/).filter(l => l.startsWith("data:")).map(l => l.slice(5).trim()).filter(Boolean);
            m = JSON.parse(d[d.length - 1]);
        }
        const v = (0, eval)("(m) => " + process.argv[2])(m);
        if (v !== undefined) console.log(typeof v === "string" ? v : JSON.stringify(v));
    ' "$1" "$2"
}

# http_post NAME [curl args...]: POST to the MCP endpoint, body in $CHECK_DIR/NAME.body,
# headers in NAME.hdr; prints the HTTP status.
http_post() {
    local name=$1; shift
    curl -sS --max-time 10 -X POST "$MCP_URL" \
        -H 'Content-Type: application/json' -H 'Accept: application/json, text/event-stream' \
        -D "$CHECK_DIR/$name.hdr" -o "$CHECK_DIR/$name.body" -w '%{http_code}' "$@" || true
}

check_prm() {
    local code res
    code=$(curl -sS --max-time 10 -o "$CHECK_DIR/prm.body" -w '%{http_code}' "$PRM_URL" || true)
    [ "$code" = 200 ] || { echo "    GET $PRM_URL -> HTTP $code"; return 1; }
    res=$(rpc_eval "$CHECK_DIR/prm.body" 'm.resource') || return 1
    echo "    resource=$res"
    [ "$res" = "$MCP_URL" ]
}

check_no_token() {
    local code www
    code=$(http_post notoken -d "$TOOLS_LIST")
    www=$(grep -i '^WWW-Authenticate:' "$CHECK_DIR/notoken.hdr" | tr -d '\r' || true)
    echo "    HTTP $code; $www"
    [ "$code" = 401 ] || return 1
    case "$www" in
        *Bearer*"resource_metadata=\"$PRM_URL\""*) return 0 ;;
        *) echo "    WWW-Authenticate lacks Bearer resource_metadata=\"$PRM_URL\""; return 1 ;;
    esac
}

check_tampered() {
    local code bad
    # same header and signature, payload changed to sub=admin: must not verify
    bad=$(node -e '
        const [h, p, s] = process.argv[1].split(".");
        const claims = JSON.parse(Buffer.from(p, "base64url"));
        claims.sub = "admin";
        console.log([h, Buffer.from(JSON.stringify(claims)).toString("base64url"), s].join("."));
    ' "$TOKEN") || return 1
    code=$(http_post tampered -H "Authorization: Bearer $bad" -d "$TOOLS_LIST")
    echo "    HTTP $code"
    [ "$code" = 401 ]
}

check_tools_list() {
    local code names t
    code=$(http_post tools -H "Authorization: Bearer $TOKEN" -d "$TOOLS_LIST")
    if [ "$code" != 200 ]; then
        echo "    HTTP $code: $(head -c 300 "$CHECK_DIR/tools.body")"
        return 1
    fi
    names=$(rpc_eval "$CHECK_DIR/tools.body" 'm.result.tools.map(t => t.name).join(" ")') || return 1
    echo "    HTTP 200; tools: $names"
    for t in $EXPECTED_TOOLS; do
        case " $names " in *" $t "*) ;; *) echo "    missing tool $t"; return 1 ;; esac
    done
    case " $names " in *" admin_reset "*) echo "    admin_reset listed"; return 1 ;; esac
}

check_step_up() {
    local code www
    code=$(http_post admin -H "Authorization: Bearer $TOKEN" \
        -d '{"jsonrpc":"2.0","id":9,"method":"tools/call","params":{"name":"admin_reset","arguments":{}}}')
    www=$(grep -i '^WWW-Authenticate:' "$CHECK_DIR/admin.hdr" | tr -d '\r')
    echo "    HTTP $code; $www"
    [ "$code" = 403 ] && case $www in *'error="insufficient_scope", scope="mcp:tools admin"'*) ;; *) false ;; esac
}

check_whoami_spoof() {
    local code user
    code=$(http_post whoami -H "Authorization: Bearer $TOKEN" -H 'X-Mcp-User: mallory' -d "$WHOAMI")
    [ "$code" = 200 ] || { echo "    HTTP $code: $(head -c 300 "$CHECK_DIR/whoami.body")"; return 1; }
    user=$(rpc_eval "$CHECK_DIR/whoami.body" 'JSON.parse(m.result.content[0].text).user') || return 1
    echo "    client sent X-Mcp-User: mallory; server saw user=$user"
    [ "$user" = demo-user ]
}

check_sdk_client() {
    MCP_TOKEN=$TOKEN EXPECT_USER=demo-user EXPECT_TOOLS=$EXPECTED_TOOLS \
        node "$DEMO_DIR/client.mjs" "$MCP_URL" 2>&1 | sed 's/^/    /'
    return "${PIPESTATUS[0]}"
}

run_check() {
    local desc=$1; shift
    if "$@"; then
        PASS=$((PASS + 1)); say "ok   - $desc"
    else
        FAIL=$((FAIL + 1)); say "FAIL - $desc"
    fi
}

if [ -n "$NO_WAIT" ]; then
    say "self-check (DEMO_NO_WAIT=1)"
    run_check "protected resource metadata names the resource" check_prm
    run_check "no token -> 401 with WWW-Authenticate resource_metadata" check_no_token
    run_check "tampered token (sub changed, old signature) -> 401" check_tampered
    run_check "tools/list through nginx with the token" check_tools_list
    run_check "admin_reset without the admin scope -> 403 insufficient_scope" check_step_up
    run_check "whoami sees the verified sub, not a client-sent X-Mcp-User" check_whoami_spoof
    run_check "MCP SDK client through nginx (initialize, SSE, whoami, DELETE)" check_sdk_client
    echo "demo: $PASS passed, $FAIL failed"
    if [ "$FAIL" -ne 0 ]; then
        show_logs
        exit 1
    fi
    exit 0
fi

say "running; MCP server requests are logged below (nginx: run/access.log). Ctrl-C to stop."
tail -n +1 -F "$RUN_DIR/server.log" 2>/dev/null &
PIDS+=("$!")
wait -n "$NODE_PID" "$NGINX_PID" || true
show_logs
die "nginx or the MCP server exited unexpectedly"
