#!/bin/sh
# Worker RSS while the tools/list filter streams a large SSE answer (issue 18
# item 8): a batch [tools/list, tools/call] whose answer is the tools/list
# event and then MB megabytes of other events, through a filtered location
# and through one without the module.  Prints the worker's RSS before and
# after each stream and the ratio of the growths.
#   bench/sse-rss.sh [MB]          (default 100; ports 24005-24006)
#   MODULE=/path/to/other.so bench/sse-rss.sh    (another build, to compare)
set -eu
ROOT=$(cd "$(dirname "$0")/.." && pwd)
MB=${1:-100}
NGINX=${NGINX:-/usr/sbin/nginx}
PORT=${PORT:-24005}
UP=$((PORT + 1))
TMP=$(mktemp -d /tmp/mcp-oauth-sse-rss.XXXXXX)
MODULE=${MODULE:-$ROOT/build/ngx_http_mcp_oauth_module.so}
[ -f "$MODULE" ] || "$ROOT/build.sh" build
cp "$MODULE" "$TMP/module.so"

cat > "$TMP/up.mjs" <<'_JS_'
import { createServer } from 'node:http';
const [port, mb] = process.argv.slice(2).map(Number);
const tools = '{"jsonrpc":"2.0","id":1,"result":{"tools":[{"name":"echo"},{"name":"admin_drop"}]}}';
const ev = 'data: {"jsonrpc":"2.0","method":"notifications/message","params":{"data":"'
    + 'x'.repeat(65000) + '"}}\n\n';
createServer((req, res) => {
    req.resume();
    req.on('end', () => {
        res.writeHead(200, { 'Content-Type': 'text/event-stream' });
        res.write(`data: ${tools}\n\n`);
        let n = Math.ceil(mb * 1048576 / ev.length);
        const more = () => {
            while (n > 0) { n--; if (!res.write(ev)) { res.once('drain', more); return; } }
            res.end('data: {"jsonrpc":"2.0","id":2,"result":{}}\n\n');
        };
        more();
    });
}).listen(port, '127.0.0.1');
_JS_

cat > "$TMP/nginx.conf" <<_EOC_
load_module $TMP/module.so;
worker_processes 1;
daemon off;
error_log $TMP/error.log warn;
pid $TMP/nginx.pid;
events { worker_connections 64; }
http {
    access_log off;
    client_body_temp_path $TMP;
    proxy_temp_path $TMP;
    server {
        listen 127.0.0.1:$PORT;
        mcp_oauth_resource https://mcp.example.com/mcp;
        mcp_oauth_issuer https://auth.example.com;
        mcp_oauth_jwks $ROOT/t/data/jwks/main.json;
        mcp_oauth_scope admin_* admin;
        location /mcp {
            mcp_oauth on;
            mcp_oauth_filter_tools on;
            proxy_buffering off;
            proxy_pass http://127.0.0.1:$UP;
        }
        location /plain {
            proxy_buffering off;
            proxy_pass http://127.0.0.1:$UP;
        }
    }
}
_EOC_

node "$TMP/up.mjs" "$UP" "$MB" & UPPID=$!
"$NGINX" -p "$TMP" -c "$TMP/nginx.conf" & NGXPID=$!
trap 'kill $NGXPID $UPPID 2>/dev/null; wait 2>/dev/null; rm -rf "$TMP"' EXIT INT TERM
sleep 1
TOKEN=$(node "$ROOT/t/data/mint.mjs" --key rsa1)
BODY='[{"jsonrpc":"2.0","id":1,"method":"tools/list"},{"jsonrpc":"2.0","id":2,"method":"tools/call","params":{"name":"echo"}}]'
worker() { pgrep -P "$NGXPID" | head -1; }
rss() { awk '/^VmRSS/ { print $2 }' "/proc/$(worker)/status"; }

run() {
    before=$(rss)
    bytes=$(curl -s -o /dev/null -w '%{size_download}' -H "Authorization: Bearer $TOKEN" \
        -H 'Content-Type: application/json' -H 'Accept: application/json, text/event-stream' \
        --data "$BODY" "http://127.0.0.1:$PORT$1")
    after=$(rss)
    echo "$1: $bytes bytes, worker RSS $before kB -> $after kB (+$((after - before)) kB)"
    eval "$2=$((after - before))"
}

run /plain/ plain
run /mcp/ filtered
echo "growth filtered/unfiltered: $filtered kB / $plain kB"
