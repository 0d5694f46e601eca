#!/usr/bin/env bash
# ngx_mcp_oauth_module demo: a real MCP server (server.mjs, 127.0.0.1:8081)
# behind nginx + the module (127.0.0.1:8080), which is both the OAuth 2.1
# authorization server (metadata, Dynamic Client Registration, a consent page
# behind auth_basic, tokens, revocation, JWKS) and the protected resource that
# verifies the tokens it issued.
#
#   bash examples/demo/run.sh                 start, print how to try it, wait for Ctrl-C
#   DEMO_NO_WAIT=1 bash examples/demo/run.sh  start, self-check, stop; exit 1 on failure
#
#   --iam  the IAM variant (docs/iam-proxy.md, "Bridge"): users sign in at a
#          real OpenID provider, oidc-provider (iam.mjs) on 127.0.0.1:8082, and
#          nginx (nginx.iam.conf.in) bridges to it as one static client
#          (mcp_oauth_iam_*) instead of asking for a password itself.
#
# Environment:
#   MCP_OAUTH_MODULE  module .so   (default: <repo>/build/ngx_http_mcp_oauth_module.so)
#   NGINX             nginx binary (default: /usr/sbin/nginx)
#   DEMO_WORKER_USER  the user nginx's workers run as when started by root
#                     (default: root itself, so a checkout under a 0700 home
#                     directory works; any other user must be able to read
#                     run/, which the start checks)
#
# Everything it writes goes to examples/demo/run/ (recreated on every start):
# nginx.conf, signing-key.pem (a new EC P-256 key each start), htpasswd (the
# demo users demo/demo and admin/admin), pid, logs, temp dirs, check/.
# shellcheck disable=SC2317,SC2016  # functions called via traps and run_check; JS in single quotes
set -euo pipefail

DEMO_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT_DIR=$(cd "$DEMO_DIR/../.." && pwd)
RUN_DIR=$DEMO_DIR/run
MODULE=${MCP_OAUTH_MODULE:-$ROOT_DIR/build/ngx_http_mcp_oauth_module.so}
NGINX=${NGINX:-/usr/sbin/nginx}
NO_WAIT=${DEMO_NO_WAIT:-0}
[ "$NO_WAIT" = 0 ] && NO_WAIT= || NO_WAIT=1
IAM=
for arg in "$@"; do
    case $arg in
        --iam) IAM=1 ;;
        *) printf 'usage: %s [--iam]\n' "$0" >&2; exit 2 ;;
    esac
done

NGINX_PORT=8080
MCP_PORT=8081
MCP_URL=http://127.0.0.1:$NGINX_PORT/mcp
ISSUER=http://127.0.0.1:$NGINX_PORT
PRM_URL=$ISSUER/.well-known/oauth-protected-resource/mcp
AS_META_URL=$ISSUER/.well-known/oauth-authorization-server
OIDC_META_URL=$ISSUER/.well-known/openid-configuration
AUTHORIZE_URL=$ISSUER/authorize
UPSTREAM_URL=http://127.0.0.1:$MCP_PORT/mcp
TOOLS_LIST='{"jsonrpc":"2.0","id":1,"method":"tools/list","params":{}}'
WHOAMI='{"jsonrpc":"2.0","id":2,"method":"tools/call","params":{"name":"whoami","arguments":{}}}'
CREATE_APP='{"jsonrpc":"2.0","id":3,"method":"tools/call","params":{"name":"create_app","arguments":{"name":"from-curl"}}}'
DEMO_USER="demo"
DEMO_PASSWORD="demo"
ADMIN_USER="admin"
ADMIN_PASSWORD="admin"
WRITE_SCOPE="mcp:tools read:application write:application"
IAM_PORT=8082
IAM_ISSUER=http://127.0.0.1:$IAM_PORT
IAM_CLIENT_ID=mcp-gateway
if [ -n "$IAM" ]; then
    # the IAM's dev login takes any login (and password): these become the subjects
    DEMO_USER="alice"
    ADMIN_USER="bob"
fi

say() { printf 'demo: %s\n' "$*"; }
die() { printf 'demo: error: %s\n' "$*" >&2; exit 1; }

# ------------------------------------------------------------ children ----
PIDS=()
NODE_PID=
NGINX_PID=
IAM_PID=

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
        say "stopping nginx${IAM:+, the IAM} and the MCP server"
        stop_children
    fi
    exit "$rc"
}
trap cleanup EXIT
trap 'echo; exit 130' INT
trap 'exit 143' TERM

show_logs() {
    local f
    for f in nginx.out error.log server.log iam.log; do
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
command -v openssl >/dev/null || die "openssl not found (it makes the signing key)"
[ -x "$NGINX" ] || die "nginx not found at $NGINX (apt-get install nginx, or set NGINX=)"
[ -f "$MODULE" ] || die "module not found: $MODULE (build it first: ./build.sh)"
MODULE=$(cd "$(dirname "$MODULE")" && pwd)/$(basename "$MODULE")
case "$RUN_DIR$MODULE" in
    *[[:space:]\;\"\'\{\}]*) die "paths with spaces, quotes, ';' or braces are not supported in nginx.conf: $RUN_DIR, $MODULE" ;;
esac
for p in $NGINX_PORT $MCP_PORT ${IAM:+$IAM_PORT}; do
    if port_busy "$p"; then
        die "127.0.0.1:$p is already in use (an earlier demo still running? see $RUN_DIR/nginx.pid)"
    fi
done

if [ ! -d "$DEMO_DIR/node_modules/@modelcontextprotocol/sdk" ] || [ ! -d "$DEMO_DIR/node_modules/jose" ] \
   || { [ -n "$IAM" ] && [ ! -d "$DEMO_DIR/node_modules/oidc-provider" ]; }; then
    say "node_modules missing: npm ci"
    (cd "$DEMO_DIR" && npm ci --no-audit --no-fund)
fi

# ------------------------------------------------------------ keys, conf --
rm -rf "$RUN_DIR"
mkdir -p "$RUN_DIR/tmp"

# The authorization server's signing key: ES256, new on every start (tokens
# and registered clients of an earlier run are void).
(umask 077 && openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 \
    -out "$RUN_DIR/signing-key.pem" 2>"$RUN_DIR/openssl.err") \
    || { cat "$RUN_DIR/openssl.err" >&2; die "openssl genpkey failed"; }
rm -f "$RUN_DIR/openssl.err"
say "new EC P-256 signing key: run/signing-key.pem"

# --- Enterprise-Managed Authorization and private_key_jwt (enterprise.mjs)
# The demo IdP's key pair and the machine client robot's, new on every start.
if [ -z "$IAM" ]; then
    node "$DEMO_DIR/enterprise.mjs" keys "$RUN_DIR" \
        || die "enterprise.mjs keys failed"
    say "demo IdP key: run/demo-idp.pem; robot's key: run/robot.pem"
fi
# --- end of Enterprise-Managed Authorization and private_key_jwt

if [ -n "$IAM" ]; then
    # The secret of nginx's client at the IAM, new on every start.
    IAM_CLIENT_SECRET=$(openssl rand -hex 24)
    CONF_IN=$DEMO_DIR/nginx.iam.conf.in
else
    # The users of the consent page (auth_basic; nginx reads {PLAIN} passwords).
    # The workers read it on each request: it stays readable (demo passwords).
    printf '%s:{PLAIN}%s\n' "$DEMO_USER" "$DEMO_PASSWORD" "$ADMIN_USER" "$ADMIN_PASSWORD" \
        > "$RUN_DIR/htpasswd"
    IAM_CLIENT_SECRET=
    CONF_IN=$DEMO_DIR/nginx.conf.in
fi

# The workers read run/ on every request (htpasswd, the temp dirs). Started
# by root without a "user" directive, nginx would switch them to "nobody",
# who cannot reach a checkout under a 0700 home directory: the generated
# config runs them as the user who started the demo instead (as root, that
# is root, or DEMO_WORKER_USER). Started by anyone else, nginx cannot switch.
WORKER_USER=$(id -un)
if [ "$(id -u)" = 0 ]; then
    WORKER_USER=${DEMO_WORKER_USER:-$WORKER_USER}
    id -u "$WORKER_USER" >/dev/null 2>&1 || die "DEMO_WORKER_USER=$WORKER_USER: no such user"
    USER_LINE="user $WORKER_USER $(id -gn "$WORKER_USER");"
    # refuse now, naming the file, rather than answer 500 at the first sign-in
    read_files=("$RUN_DIR/tmp")
    [ -n "$IAM" ] || read_files+=("$RUN_DIR/htpasswd")
    for f in "${read_files[@]}"; do
        runuser -u "$WORKER_USER" -- test -r "$f" && continue
        # the blocker is the first directory from / down it cannot enter
        why="it is not readable by $WORKER_USER" d=
        IFS=/ read -ra parts <<< "${f#/}"
        for part in "${parts[@]:0:${#parts[@]}-1}"; do
            d=$d/$part
            runuser -u "$WORKER_USER" -- test -x "$d" && continue
            why="$d (mode $(stat -c %a "$d")) is not searchable by $WORKER_USER"
            break
        done
        die "$f: the workers (user $WORKER_USER) cannot read it: $why;" \
            "unset DEMO_WORKER_USER, or clone where $WORKER_USER can read"
    done
else
    USER_LINE="# workers run as $WORKER_USER (nginx was not started by root)"
fi

sed_escape() { printf '%s' "$1" | sed -e 's/[\\&|]/\\&/g'; }
sed -e "s|@MODULE_PATH@|$(sed_escape "$MODULE")|g" \
    -e "s|@USER@|$(sed_escape "$USER_LINE")|g" \
    -e "s|@RUN_DIR@|$(sed_escape "$RUN_DIR")|g" \
    -e "s|@IAM_CLIENT_SECRET@|$IAM_CLIENT_SECRET|g" \
    "$CONF_IN" > "$RUN_DIR/nginx.conf"
if grep -qE '@[A-Z_]+@' "$RUN_DIR/nginx.conf"; then
    die "unrendered placeholder in run/nginx.conf: $(grep -oE '@[A-Z_]+@' "$RUN_DIR/nginx.conf" | head -1)"
fi

NGINX_ARGS=(-p "$RUN_DIR/" -c "$RUN_DIR/nginx.conf" -e "$RUN_DIR/error.log")
if ! out=$("$NGINX" -t "${NGINX_ARGS[@]}" 2>&1); then
    printf '%s\n' "$out" >&2
    die "nginx -t failed for run/nginx.conf"
fi
say "nginx -t: configuration ok"
# surface warnings, if any
printf '%s\n' "$out" | grep -vE 'syntax is ok|test is successful' | sed 's/^/demo: nginx -t: /' || true

# ------------------------------------------------------------ start -------
PORT=$MCP_PORT HOST=127.0.0.1 node "$DEMO_DIR/server.mjs" >>"$RUN_DIR/server.log" 2>&1 &
NODE_PID=$!
PIDS+=("$NODE_PID")
wait_http "$UPSTREAM_URL" "MCP server (node)" "$NODE_PID"
say "MCP server up on $UPSTREAM_URL (pid $NODE_PID)"

if [ -n "$IAM" ]; then
    PORT=$IAM_PORT GATEWAY=$ISSUER IAM_CLIENT_ID=$IAM_CLIENT_ID IAM_CLIENT_SECRET=$IAM_CLIENT_SECRET \
        node "$DEMO_DIR/iam.mjs" >>"$RUN_DIR/iam.log" 2>&1 &
    IAM_PID=$!
    PIDS+=("$IAM_PID")
    wait_http "$IAM_ISSUER/.well-known/openid-configuration" "IAM (oidc-provider)" "$IAM_PID"
    say "IAM (oidc-provider) up on $IAM_ISSUER (pid $IAM_PID)"
fi

"$NGINX" "${NGINX_ARGS[@]}" >>"$RUN_DIR/nginx.out" 2>&1 &
NGINX_PID=$!
PIDS+=("$NGINX_PID")
wait_http "$PRM_URL" "nginx" "$NGINX_PID"
say "nginx up on http://127.0.0.1:$NGINX_PORT (master pid $NGINX_PID)"

# ------------------------------------------------------------ banner ------
if [ -n "$IAM" ]; then
cat <<EOF

============ ngx_mcp_oauth_module demo: nginx in front of an IAM ============
MCP endpoint (OAuth-protected)     $MCP_URL
Protected resource metadata        $PRM_URL
Authorization server (nginx)       $AS_META_URL
Consent page (nginx, no password)  $AUTHORIZE_URL  -> then the IAM
IAM's way back (nginx)             $ISSUER/callback
Token, DCR, revocation, JWKS       $ISSUER/token  /register  /revoke  /jwks
IAM (oidc-provider, iam.mjs)       $IAM_ISSUER   ($IAM_ISSUER/.well-known/openid-configuration)
  nginx's client there             $IAM_CLIENT_ID (secret in run/nginx.conf, new each start)
  sign-in                          its dev login page takes ANY login and any password;
                                   the login is the token's sub
Upstream MCP server (no auth)      $UPSTREAM_URL   (loopback only)
Logs                               $RUN_DIR/{error.log,access.log,server.log,iam.log}

# 1. an MCP SDK client, the whole flow: 401 -> metadata -> DCR at nginx ->
#    nginx's consent (Approve) -> the IAM's login as $DEMO_USER and its consent ->
#    nginx's /callback -> code -> nginx's token (sub $DEMO_USER) -> tools/list, whoami:
DEMO_IAM_LOGIN=$DEMO_USER node $DEMO_DIR/client.mjs
#    more scopes, or another login:
DEMO_IAM_LOGIN=$DEMO_USER MCP_SCOPE="$WRITE_SCOPE" node $DEMO_DIR/client.mjs
DEMO_IAM_LOGIN=$ADMIN_USER MCP_SCOPE="mcp:tools admin" node $DEMO_DIR/client.mjs

# 2. no token: 401 + WWW-Authenticate naming the metadata:
curl -sS -i -X POST $MCP_URL -H 'Content-Type: application/json' -H 'Accept: application/json, text/event-stream' -d '$TOOLS_LIST'

# 3. the MCP Inspector (browser): npx @modelcontextprotocol/inspector
#    Transport Type "Streamable HTTP", URL $MCP_URL, Connect: nginx's consent
#    page (Approve), then the IAM's login (any login and password) and consent.
==========================================================================

EOF
else
cat <<EOF

==================== ngx_mcp_oauth_module demo ====================
MCP endpoint (OAuth-protected)     $MCP_URL
Protected resource metadata        $PRM_URL
Authorization server metadata      $AS_META_URL
                                   (and $OIDC_META_URL)
Consent page (auth_basic)          $AUTHORIZE_URL
Token, DCR, revocation, JWKS       $ISSUER/token  /register  /revoke  /jwks
Demo users                         $DEMO_USER / $DEMO_PASSWORD   and   $ADMIN_USER / $ADMIN_PASSWORD
Upstream MCP server (no auth)      $UPSTREAM_URL   (loopback only)
Logs                               $RUN_DIR/{error.log,access.log,server.log}

# 1. an MCP SDK client, the whole flow: 401 -> metadata -> DCR -> consent as
#    $DEMO_USER (basic auth, Approve) -> code -> token (an RFC 9068 JWT it checks
#    against /jwks) -> tools/list, whoami:
node $DEMO_DIR/client.mjs
#    more scopes than the 401's hint (mcp:tools), or another user:
MCP_SCOPE="$WRITE_SCOPE" node $DEMO_DIR/client.mjs
DEMO_USER=$ADMIN_USER DEMO_PASSWORD=$ADMIN_PASSWORD MCP_SCOPE="mcp:tools admin" node $DEMO_DIR/client.mjs

# 2. where every client starts: no token, 401 + WWW-Authenticate naming the metadata:
curl -sS -i -X POST $MCP_URL -H 'Content-Type: application/json' -H 'Accept: application/json, text/event-stream' -d '$TOOLS_LIST'

# 3. the metadata documents (RFC 9728, RFC 8414):
curl -sS $PRM_URL
curl -sS $AS_META_URL

# 5. the device flow (RFC 8628), a CLI without a browser: get the codes, open
#    the verification URL in a browser (sign in as $DEMO_USER / $DEMO_PASSWORD), enter
#    the user code, Approve; meanwhile poll /token every 2 s until the token comes:
curl -sS -d client_id=demo-cli $ISSUER/device_authorization
curl -sS -d grant_type=urn:ietf:params:oauth:grant-type:device_code -d client_id=demo-cli -d device_code=DEVICE_CODE $ISSUER/token

# 4. Enterprise-Managed Authorization: the demo IdP (https://idp.demo.example,
#    a key pair in run/) signs an ID-JAG for alice; enterprise-app trades it at
#    /token (jwt-bearer grant) for a token whose sub is demo-idp:alice:
node $DEMO_DIR/enterprise.mjs token alice
#    and a machine client with private_key_jwt (the SDK's PrivateKeyJwtProvider):
node $DEMO_DIR/enterprise.mjs robot

# 5. the MCP Inspector (browser): npx @modelcontextprotocol/inspector
#    Transport Type "Streamable HTTP", URL $MCP_URL, no token, Connect.
#    It registers itself (DCR, redirect http://localhost:6274/oauth/callback),
#    opens the consent page: sign in as $DEMO_USER / $DEMO_PASSWORD, Approve; then List Tools.
#    (Open Auth Settings > Quick OAuth Flow shows each step.)
====================================================================

EOF
fi

# ------------------------------------------------------------ self-check --
PASS=0
FAIL=0
CHECK_DIR=$RUN_DIR/check
mkdir -p "$CHECK_DIR"

# Reads JSON (or a JSON-RPC response as SSE) from file $1, runs JS expression $2 on it (as m).
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

# http NAME URL [curl args...]: any request, same files; prints the HTTP status.
http() {
    local name=$1 url=$2; shift 2
    curl -sS --max-time 10 -D "$CHECK_DIR/$name.hdr" -o "$CHECK_DIR/$name.body" \
        -w '%{http_code}' "$@" "$url" || true
}

www_auth() { grep -i '^WWW-Authenticate:' "$CHECK_DIR/$1.hdr" | tr -d '\r' || true; }

# saved NAME FIELD: a field of the tokens client.mjs saved (SAVE_TOKENS)
saved() { rpc_eval "$CHECK_DIR/$1.tokens.json" "m.$2"; }

# client NAME [VAR=value...]: client.mjs through nginx, its tokens saved in NAME.tokens.json
# (--iam: it signs in at the IAM as DEMO_IAM_LOGIN, by default $DEMO_USER)
client() {
    local name=$1; shift
    env ${IAM:+DEMO_IAM_LOGIN="$DEMO_USER"} "$@" SAVE_TOKENS="$CHECK_DIR/$name.tokens.json" \
        node "$DEMO_DIR/client.mjs" "$MCP_URL" 2>&1 | sed 's/^/    /'
    return "${PIPESTATUS[0]}"
}

check_metadata() {
    local code v u
    code=$(http prm "$PRM_URL")
    [ "$code" = 200 ] || { echo "    GET $PRM_URL -> HTTP $code"; return 1; }
    v=$(rpc_eval "$CHECK_DIR/prm.body" 'm.resource + " " + JSON.stringify(m.authorization_servers)') || return 1
    echo "    PRM: resource authorization_servers = $v"
    [ "$v" = "$MCP_URL [\"$ISSUER\"]" ] || return 1
    for u in "$AS_META_URL" "$OIDC_META_URL"; do
        code=$(http asmeta "$u")
        [ "$code" = 200 ] || { echo "    GET $u -> HTTP $code"; return 1; }
        v=$(ISSUER=$ISSUER rpc_eval "$CHECK_DIR/asmeta.body" '[
            m.issuer === process.env.ISSUER || `issuer ${m.issuer}`,
            ...Object.entries({ authorization_endpoint: "/authorize", token_endpoint: "/token",
                                registration_endpoint: "/register", revocation_endpoint: "/revoke",
                                jwks_uri: "/jwks" })
                .map(([k, path]) => m[k] === process.env.ISSUER + path || `${k} ${m[k]}`),
            (m.code_challenge_methods_supported || []).includes("S256") || "no S256 in code_challenge_methods_supported",
            (m.scopes_supported || []).join(" ") === "mcp:tools read:application write:application admin"
                || `scopes_supported ${m.scopes_supported}`,
        ].filter((x) => x !== true).join("; ")') || return 1
        [ -z "$v" ] || { echo "    $u: $v"; return 1; }
    done
    echo "    AS metadata (both paths): issuer $ISSUER, endpoints /authorize /token /register /revoke /jwks, S256, scopes_supported"
}

check_no_token() {
    local code www
    code=$(http_post notoken -d "$TOOLS_LIST")
    www=$(www_auth notoken)
    echo "    HTTP $code; $www"
    [ "$code" = 401 ] || return 1
    case "$www" in
        *Bearer*"resource_metadata=\"$PRM_URL\""*) return 0 ;;
        *) echo "    WWW-Authenticate lacks Bearer resource_metadata=\"$PRM_URL\""; return 1 ;;
    esac
}

check_client_basic() {
    client basic EXPECT_USER="$DEMO_USER" EXPECT_TOOLS="whoami" MCP_SCOPE= \
        DEMO_USER="$DEMO_USER" DEMO_PASSWORD="$DEMO_PASSWORD"
}

check_client_write() {
    client write EXPECT_USER="$DEMO_USER" EXPECT_TOOLS="whoami list_apps create_app" \
        MCP_SCOPE="$WRITE_SCOPE" DEMO_USER="$DEMO_USER" DEMO_PASSWORD="$DEMO_PASSWORD"
}

check_insufficient_scope() {
    local code www token
    token=$(saved basic access_token) || return 1
    code=$(http_post create_basic -H "Authorization: Bearer $token" -d "$CREATE_APP")
    www=$(www_auth create_basic)
    echo "    mcp:tools token: HTTP $code; $www"
    [ "$code" = 403 ] || return 1
    case $www in *'error="insufficient_scope", scope="mcp:tools write:application"'*) ;; *) return 1 ;; esac
    token=$(saved write access_token) || return 1
    code=$(http_post create_write -H "Authorization: Bearer $token" -d "$CREATE_APP")
    [ "$code" = 200 ] || { echo "    write:application token: HTTP $code: $(head -c 300 "$CHECK_DIR/create_write.body")"; return 1; }
    echo "    write:application token: HTTP 200, $(rpc_eval "$CHECK_DIR/create_write.body" 'JSON.parse(m.result.content[0].text).created.owner') created an app"
}

check_jwt() {
    # the saved token, verified with the public half of run/signing-key.pem
    # (not /jwks): signed by this nginx, RFC 9068 header and claims
    (cd "$DEMO_DIR" && ISSUER=$ISSUER MCP_URL=$MCP_URL DEMO_USER=$DEMO_USER node --input-type=module -e '
        import { readFileSync } from "node:fs";
        import { createPublicKey } from "node:crypto";
        import { jwtVerify, calculateJwkThumbprint, exportJWK } from "jose";
        const [tokFile, keyFile] = process.argv.slice(1);
        const t = JSON.parse(readFileSync(tokFile, "utf8"));
        const key = createPublicKey(readFileSync(keyFile));
        const { payload: c, protectedHeader: h } = await jwtVerify(t.access_token, key, {
            issuer: process.env.ISSUER, audience: process.env.MCP_URL, typ: "at+jwt", algorithms: ["ES256"] });
        const kid = await calculateJwkThumbprint(await exportJWK(key));
        const bad = [];
        if (h.kid !== kid) bad.push(`kid ${h.kid} is not the key thumbprint ${kid}`);
        if (c.sub !== process.env.DEMO_USER) bad.push(`sub ${c.sub}`);
        if (c.scope !== t.scope) bad.push(`scope ${c.scope} vs ${t.scope}`);
        if (c.client_id !== t.client_id) bad.push("client_id is not the registered client");
        for (const k of ["exp", "iat", "jti", "sid"]) if (c[k] === undefined) bad.push(`no ${k}`);
        console.log(`    header ${JSON.stringify(h)}`);
        console.log(`    claims iss=${c.iss} aud=${c.aud} sub=${c.sub} scope="${c.scope}" exp-iat=${c.exp - c.iat}s`);
        if (bad.length) { console.log("    " + bad.join("; ")); process.exit(1); }
    ' "$CHECK_DIR/write.tokens.json" "$RUN_DIR/signing-key.pem")
}

check_tampered() {
    local code bad token
    token=$(saved basic access_token) || return 1
    # same header and signature, payload changed to sub=admin and more scope: must not verify
    bad=$(node -e '
        const [h, p, s] = process.argv[1].split(".");
        const claims = JSON.parse(Buffer.from(p, "base64url"));
        claims.sub = "admin";
        claims.scope = "mcp:tools admin";
        console.log([h, Buffer.from(JSON.stringify(claims)).toString("base64url"), s].join("."));
    ' "$token") || return 1
    code=$(http_post tampered -H "Authorization: Bearer $bad" -d "$TOOLS_LIST")
    echo "    HTTP $code; $(www_auth tampered)"
    [ "$code" = 401 ]
}

check_whoami_spoof() {
    local code user token
    token=$(saved write access_token) || return 1
    code=$(http_post whoami -H "Authorization: Bearer $token" -H 'X-Mcp-User: mallory' -d "$WHOAMI")
    [ "$code" = 200 ] || { echo "    HTTP $code: $(head -c 300 "$CHECK_DIR/whoami.body")"; return 1; }
    user=$(rpc_eval "$CHECK_DIR/whoami.body" 'JSON.parse(m.result.content[0].text).user') || return 1
    echo "    client sent X-Mcp-User: mallory; server saw user=$user"
    [ "$user" = "$DEMO_USER" ]
}

check_other_user() {
    local code
    code=$(http badpw "$AUTHORIZE_URL" -u "$DEMO_USER:wrong")
    echo "    $DEMO_USER with a wrong password at /authorize: HTTP $code"
    [ "$code" = 401 ] || return 1
    client admin EXPECT_USER="$ADMIN_USER" EXPECT_TOOLS="whoami admin_reset" \
        MCP_SCOPE="mcp:tools admin" DEMO_USER="$ADMIN_USER" DEMO_PASSWORD="$ADMIN_PASSWORD"
}

check_refresh_revoke() {
    local code client_id refresh access
    client_id=$(saved write client_id) && refresh=$(saved write refresh_token) || return 1
    code=$(http refresh "$ISSUER/token" -d grant_type=refresh_token \
        --data-urlencode "refresh_token=$refresh" --data-urlencode "client_id=$client_id")
    [ "$code" = 200 ] || { echo "    refresh: HTTP $code $(cat "$CHECK_DIR/refresh.body")"; return 1; }
    access=$(rpc_eval "$CHECK_DIR/refresh.body" 'm.access_token') || return 1
    echo "    refresh_token grant: HTTP 200, scope=\"$(rpc_eval "$CHECK_DIR/refresh.body" 'm.scope')\", $(OLD=$refresh rpc_eval "$CHECK_DIR/refresh.body" 'm.refresh_token && m.refresh_token !== process.env.OLD ? "a new refresh token" : "NO new refresh token"')"
    code=$(http_post refreshed -H "Authorization: Bearer $access" -d "$TOOLS_LIST")
    echo "    new access token on /mcp: HTTP $code"
    [ "$code" = 200 ] || return 1
    code=$(http revoke "$ISSUER/revoke" --data-urlencode "token=$access" --data-urlencode "client_id=$client_id")
    echo "    POST /revoke: HTTP $code"
    [ "$code" = 200 ] || return 1
    code=$(http_post revoked -H "Authorization: Bearer $access" -d "$TOOLS_LIST")
    echo "    revoked token on /mcp: HTTP $code; $(www_auth revoked)"
    [ "$code" = 401 ] && case $(www_auth revoked) in *'token revoked'*) ;; *) false ;; esac
}

# --- the device flow (RFC 8628) ---
# the codes; a poll is pending; the user (curl with basic auth) enters the code
# in lower case without the hyphen and approves the consent with its CSRF token;
# the next poll, an interval later, has the token; whoami is the user; the code
# is then spent
check_device() {
    local code user_code device_code interval fields user
    code=$(http device "$ISSUER/device_authorization" -d client_id=demo-cli)
    [ "$code" = 200 ] || { echo "    /device_authorization: HTTP $code $(cat "$CHECK_DIR/device.body")"; return 1; }
    user_code=$(rpc_eval "$CHECK_DIR/device.body" 'm.user_code') &&
        device_code=$(rpc_eval "$CHECK_DIR/device.body" 'm.device_code') &&
        interval=$(rpc_eval "$CHECK_DIR/device.body" 'm.interval') || return 1
    echo "    /device_authorization: user_code $user_code, interval $interval s, verification_uri $(rpc_eval "$CHECK_DIR/device.body" 'm.verification_uri')"
    device_poll() {
        http "$1" "$ISSUER/token" -d grant_type=urn:ietf:params:oauth:grant-type:device_code \
            -d client_id=demo-cli --data-urlencode "device_code=$device_code" >/dev/null
        rpc_eval "$CHECK_DIR/$1.body" 'm.error || "token"'
    }
    [ "$(device_poll device-poll1)" = authorization_pending ] || { echo "    first poll: $(cat "$CHECK_DIR/device-poll1.body")"; return 1; }
    echo "    poll: authorization_pending"
    code=$(http device-page "$ISSUER/device?user_code=$(echo "${user_code/-/}" | tr A-Z a-z)" -u "$DEMO_USER:$DEMO_PASSWORD")
    [ "$code" = 200 ] && grep -q "$user_code" "$CHECK_DIR/device-page.body" || { echo "    the consent page: HTTP $code"; return 1; }
    fields=$(node -e '
        const t = require("fs").readFileSync(process.argv[1], "utf8");
        const p = new URLSearchParams();
        for (const m of t.matchAll(/<input type="hidden" name="([^"]*)" value="([^"]*)">/g)) p.append(m[1], m[2].replace(/&amp;/g, "&"));
        p.append("decision", "approve");
        console.log(p.toString());' "$CHECK_DIR/device-page.body") || return 1
    code=$(http device-approve "$ISSUER/device" -u "$DEMO_USER:$DEMO_PASSWORD" --data "$fields")
    echo "    $DEMO_USER approves on the consent page of /device: HTTP $code"
    grep -q 'Device connected' "$CHECK_DIR/device-approve.body" || return 1
    sleep "$interval.2"
    [ "$(device_poll device-poll2)" = token ] || { echo "    poll: $(cat "$CHECK_DIR/device-poll2.body")"; return 1; }
    code=$(http_post device-whoami -H "Authorization: Bearer $(rpc_eval "$CHECK_DIR/device-poll2.body" 'm.access_token')" -d "$WHOAMI")
    user=$(rpc_eval "$CHECK_DIR/device-whoami.body" 'JSON.parse(m.result.content[0].text).user') || return 1
    echo "    poll: a token; whoami with it: HTTP $code, user=$user"
    [ "$user" = "$DEMO_USER" ] || return 1
    sleep "$interval.2"
    [ "$(device_poll device-poll3)" = invalid_grant ] || { echo "    the spent code: $(cat "$CHECK_DIR/device-poll3.body")"; return 1; }
    echo "    the code again: invalid_grant"
}
# --- end of the device flow ---

check_inspector() {
    local code acao
    code=$(http reg_inspector "$ISSUER/register" -H 'Content-Type: application/json' \
        -H 'Origin: http://localhost:6274' \
        -d '{"client_name":"MCP Inspector","redirect_uris":["http://localhost:6274/oauth/callback"],"token_endpoint_auth_method":"none","grant_types":["authorization_code","refresh_token"],"response_types":["code"]}')
    acao=$(grep -i '^Access-Control-Allow-Origin:' "$CHECK_DIR/reg_inspector.hdr" | tr -d '\r' || true)
    echo "    DCR with http://localhost:6274/oauth/callback: HTTP $code; $acao"
    [ "$code" = 201 ] || { cat "$CHECK_DIR/reg_inspector.body"; return 1; }
    [ -n "$acao" ] || return 1
    code=$(http preflight "$ISSUER/token" -X OPTIONS -H 'Origin: http://localhost:6274' \
        -H 'Access-Control-Request-Method: POST' -H 'Access-Control-Request-Headers: content-type')
    echo "    CORS preflight OPTIONS /token: HTTP $code"
    [ "$code" = 204 ] || return 1
    code=$(http reg_evil "$ISSUER/register" -H 'Content-Type: application/json' \
        -d '{"redirect_uris":["https://attacker.example/callback"],"token_endpoint_auth_method":"none"}')
    echo "    DCR with https://attacker.example/callback: HTTP $code $(rpc_eval "$CHECK_DIR/reg_evil.body" 'm.error' 2>/dev/null)"
    [ "$code" = 400 ]
}

# --iam: the IAM's discovery document, the client nginx uses there
check_iam() {
    local code v
    code=$(http iammeta "$IAM_ISSUER/.well-known/openid-configuration")
    [ "$code" = 200 ] || { echo "    GET $IAM_ISSUER/.well-known/openid-configuration -> HTTP $code"; return 1; }
    v=$(rpc_eval "$CHECK_DIR/iammeta.body" 'm.issuer + " " + m.authorization_endpoint + " " + m.token_endpoint + " " + m.code_challenge_methods_supported') || return 1
    echo "    IAM: $v"
    [ "$v" = "$IAM_ISSUER $IAM_ISSUER/auth $IAM_ISSUER/token S256" ] || return 1
    # nginx's config names the IAM's endpoints and its client
    grep -q "mcp_oauth_iam_authorize_url $IAM_ISSUER/auth;" "$RUN_DIR/nginx.conf" \
        && grep -q "proxy_pass $IAM_ISSUER/token;" "$RUN_DIR/nginx.conf" \
        && grep -q "mcp_oauth_iam_client $IAM_CLIENT_ID secret=" "$RUN_DIR/nginx.conf"
}

# --iam: the sub is the IAM's login, whatever the client says; the callback is not a way in
check_iam_other_user() {
    local code
    client bob EXPECT_USER="$ADMIN_USER" EXPECT_TOOLS="whoami admin_reset" \
        MCP_SCOPE="mcp:tools admin" DEMO_IAM_LOGIN="$ADMIN_USER" || return 1
    code=$(http forged "$ISSUER/callback?code=forged&state=forged")
    echo "    GET /callback with a state nginx never issued: HTTP $code"
    [ "$code" = 400 ]
}

# ---- the consent page made for people: descriptions, checkboxes, the
# unverified name, the look (docs/authorization-server.md "The consent page")
check_consent() {
    local code cid q page
    code=$(http reg_consent "$ISSUER/register" -H 'Content-Type: application/json' \
        -d '{"client_name":"Demo Consent Check","redirect_uris":["http://127.0.0.1:8085/callback"],"token_endpoint_auth_method":"none"}')
    [ "$code" = 201 ] || { cat "$CHECK_DIR/reg_consent.body"; return 1; }
    cid=$(rpc_eval "$CHECK_DIR/reg_consent.body" 'm.client_id') || return 1
    q="response_type=code&client_id=$cid&redirect_uri=http%3A%2F%2F127.0.0.1%3A8085%2Fcallback"
    q="$q&code_challenge=E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM&code_challenge_method=S256"
    q="$q&state=s&scope=mcp%3Atools%20write%3Aapplication"
    code=$(http consent "$ISSUER/authorize?$q" -u "$DEMO_USER:$DEMO_PASSWORD")
    page="$CHECK_DIR/consent.body"
    echo "    GET /authorize as $DEMO_USER: HTTP $code"
    [ "$code" = 200 ] || return 1
    grep -q 'Create applications' "$page" && echo "    write:application described" || return 1
    grep -q 'tool <code>create_app</code>' "$page" && echo "    ... and it unlocks create_app" || return 1
    grep -q 'value="mcp:tools" checked disabled' "$page" && echo "    mcp:tools required" || return 1
    grep -q 'class="unverified"' "$page" && echo "    the client's own name marked unverified" || return 1
    grep -q '<span>MCP demo</span>' "$page" && echo "    in the look of examples/consent.html"
}
# ---- end of the consent page checks

# --- Enterprise-Managed Authorization and private_key_jwt (enterprise.mjs)
check_enterprise() {
    RUN_DIR=$RUN_DIR ISSUER=$ISSUER node "$DEMO_DIR/enterprise.mjs" check
}
# --- end of Enterprise-Managed Authorization and private_key_jwt

run_check() {
    local desc=$1; shift
    if "$@"; then
        PASS=$((PASS + 1)); say "ok   - $desc"
    else
        FAIL=$((FAIL + 1)); say "FAIL - $desc"
    fi
}

if [ -n "$NO_WAIT" ] && [ -n "$IAM" ]; then
    say "self-check (DEMO_NO_WAIT=1, --iam)"
    run_check "metadata: protected resource (RFC 9728) and authorization server (RFC 8414, OpenID)" check_metadata
    run_check "no token -> 401 with WWW-Authenticate resource_metadata" check_no_token
    run_check "the IAM (oidc-provider) answers its discovery; nginx bridges to it as $IAM_CLIENT_ID" check_iam
    run_check "SDK client: DCR at nginx, nginx's consent, the IAM's login as $DEMO_USER and consent, /callback, token; only whoami; whoami=$DEMO_USER" check_client_basic
    run_check "SDK client with MCP_SCOPE=\"$WRITE_SCOPE\": list_apps and create_app listed" check_client_write
    run_check "create_app with only mcp:tools -> 403 insufficient_scope; with write:application -> 200" check_insufficient_scope
    run_check "the token is nginx's RFC 9068 JWT (signed with run/signing-key.pem), its sub the IAM's" check_jwt
    run_check "tampered token (sub and scope changed, old signature) -> 401" check_tampered
    run_check "whoami sees the token's sub, not a client-sent X-Mcp-User" check_whoami_spoof
    run_check "IAM login $ADMIN_USER with mcp:tools admin sees admin_reset, whoami=$ADMIN_USER; a forged /callback -> 400" check_iam_other_user
    run_check "refresh token rotates (nginx's own); /revoke -> the access token gets 401 token revoked" check_refresh_revoke
    run_check "MCP Inspector: DCR with its loopback callback, CORS; other redirect URIs refused" check_inspector
    echo "demo: $PASS passed, $FAIL failed"
    if [ "$FAIL" -ne 0 ]; then
        show_logs
        exit 1
    fi
    exit 0
fi

if [ -n "$NO_WAIT" ]; then
    say "self-check (DEMO_NO_WAIT=1)"
    run_check "metadata: protected resource (RFC 9728) and authorization server (RFC 8414, OpenID)" check_metadata
    run_check "no token -> 401 with WWW-Authenticate resource_metadata" check_no_token
    run_check "SDK client: 401, discovery, DCR, consent as $DEMO_USER, token; JWT checked; only whoami listed; whoami=$DEMO_USER" check_client_basic
    run_check "SDK client with MCP_SCOPE=\"$WRITE_SCOPE\": list_apps and create_app listed" check_client_write
    run_check "create_app with only mcp:tools -> 403 insufficient_scope; with write:application -> 200" check_insufficient_scope
    run_check "the token is an RFC 9068 JWT (typ at+jwt, iss, aud, kid) signed with run/signing-key.pem" check_jwt
    run_check "tampered token (sub and scope changed, old signature) -> 401" check_tampered
    run_check "whoami sees the token's sub, not a client-sent X-Mcp-User" check_whoami_spoof
    run_check "wrong password -> 401 at /authorize; $ADMIN_USER with mcp:tools admin sees admin_reset, whoami=$ADMIN_USER" check_other_user
    run_check "refresh token rotates; /revoke -> the access token gets 401 token revoked" check_refresh_revoke
    run_check "MCP Inspector: DCR with its loopback callback, CORS; other redirect URIs refused" check_inspector
    run_check "device flow (RFC 8628): codes, pending, $DEMO_USER enters the code and approves, the token calls whoami, the code is spent" check_device
    run_check "consent page: descriptions, what a scope unlocks, mcp:tools required, the unverified name, the look" check_consent
    run_check "enterprise: the demo IdP's ID-JAG -> token for demo-idp:alice, once only, scope bounded; robot by private_key_jwt" check_enterprise
    echo "demo: $PASS passed, $FAIL failed"
    if [ "$FAIL" -ne 0 ]; then
        show_logs
        exit 1
    fi
    exit 0
fi

say "running; MCP server${IAM:+ and IAM} requests are logged below (nginx: run/access.log). Ctrl-C to stop."
tail -n +1 -F "$RUN_DIR/server.log" ${IAM:+"$RUN_DIR/iam.log"} 2>/dev/null &
PIDS+=("$!")
wait -n "$NODE_PID" "$NGINX_PID" ${IAM_PID:+"$IAM_PID"} || true
show_logs
die "nginx${IAM:+, the IAM} or the MCP server exited unexpectedly"
