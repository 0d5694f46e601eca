// The authorization server's state in Redis against the shared-memory
// zone, in the same run (docs/fleet.md):
//
//   node bench/state.mjs            -> bench/results-state.md
//
// One nginx (worker_processes 1, pinned to SERVER_CPU) with two servers of
// the same configuration, one keeping its state in its zone (port 18606),
// one in a redis-server this script starts (port 18607; redis on 18608,
// pinned to REDIS_CPU, no persistence).  Cases, each as requests per
// second, median of ROUNDS interleaved rounds of DURATION seconds:
//   - /token, refresh grant: CONNS clients each rotating its own grant's
//     refresh token in a loop (every request reads the grant and swaps it);
//   - the resource server: GET /mcp with a valid access token of the
//     server's own issuer (the revocation check, and with Redis the sync
//     at most once per interval), by wrk with CONNS connections.
// Environment: DURATION (5), ROUNDS (5), CONNS (16), SERVER_CPU (0),
// REDIS_CPU (1), CLIENT_CPU (1), NGINX (/usr/sbin/nginx), KEEP_TMP=1.

import { spawn, spawnSync, execFileSync } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync, readFileSync } from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { setTimeout as sleep } from 'node:timers/promises';

const BENCH = dirname(fileURLToPath(import.meta.url));
const ROOT = resolve(BENCH, '..');
const MODULE = join(ROOT, 'build', 'ngx_http_mcp_oauth_module.so');
const NGINX = process.env.NGINX || '/usr/sbin/nginx';
const DURATION = Number(process.env.DURATION || 5);
const ROUNDS = Number(process.env.ROUNDS || 5);
const CONNS = Number(process.env.CONNS || 16);
const SERVER_CPU = process.env.SERVER_CPU || '0';
const REDIS_CPU = process.env.REDIS_CPU || '1';
const CLIENT_CPU = process.env.CLIENT_CPU || '1';
const ZONE_PORT = 18606, REDIS_AS_PORT = 18607, REDIS_PORT = 18608;

const tmp = mkdtempSync(join(tmpdir(), 'mcp-oauth-bench-state.'));
const children = [];

function stopAll() {
    // nginx's master stops its worker on SIGTERM; SIGKILL would orphan it
    for (const c of children) {
        try { c.kill('SIGTERM'); } catch { /* gone */ }
    }
    spawnSync('sleep', ['0.3']);
    if (!process.env.KEEP_TMP) rmSync(tmp, { recursive: true, force: true });
}
process.on('exit', stopAll);
for (const s of ['SIGINT', 'SIGTERM']) process.on(s, () => process.exit(130));

function waitPort(port) {
    return new Promise((res, rej) => {
        const t0 = Date.now();
        const tryOnce = () => {
            const s = net.connect(port, '127.0.0.1', () => { s.end(); res(); });
            s.on('error', () => Date.now() - t0 > 10000 ? rej(new Error(`port ${port}`)) : setTimeout(tryOnce, 50));
        };
        tryOnce();
    });
}

function server(port, redis) {
    return `
    server {
        listen 127.0.0.1:${port};
        mcp_oauth_issuer http://127.0.0.1:${port};
        mcp_oauth_resource http://127.0.0.1:${port}/mcp;
        mcp_oauth_signing_key ${ROOT}/t/data/signing/ec.pem;
        mcp_oauth_scopes_supported mcp:tools;
        mcp_oauth_user $http_x_test_user;
        mcp_oauth_zone z${port}:16m;
        ${redis ? `mcp_oauth_state_request /_mcp_state;
        location = /_mcp_state { internal; mcp_oauth_redis_pass redis; }` : ''}
        location = /authorize { mcp_oauth_authorize; }
        location = /token { mcp_oauth_token; }
        location = /register { mcp_oauth_register; }
        location = /echo { return 200 "ok\\n"; }
        location /mcp {
            mcp_oauth on;
            proxy_pass http://127.0.0.1:${port}/echo;
        }
    }`;
}

async function startAll() {
    const redis = spawn('taskset', ['-c', REDIS_CPU, 'redis-server', '--port', String(REDIS_PORT),
        '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--dir', tmp], { stdio: 'ignore' });
    children.push(redis);
    await waitPort(REDIS_PORT);

    writeFileSync(join(tmp, 'nginx.conf'), `
load_module ${MODULE};
worker_processes 1;
worker_cpu_affinity ${'0'.repeat(Math.max(0, 15 - Number(SERVER_CPU)))}1${'0'.repeat(Number(SERVER_CPU))};
daemon off;
master_process on;
pid ${tmp}/nginx.pid;
error_log ${tmp}/error.log warn;
events { worker_connections 1024; }
http {
    access_log off;
    keepalive_requests 1000000;
    upstream redis { server 127.0.0.1:${REDIS_PORT}; keepalive 16; }
    ${server(ZONE_PORT, false)}
    ${server(REDIS_AS_PORT, true)}
}
`);
    const ngx = spawn(NGINX, ['-p', tmp, '-c', join(tmp, 'nginx.conf')], { stdio: 'inherit' });
    children.push(ngx);
    await waitPort(ZONE_PORT);
    await waitPort(REDIS_AS_PORT);
}

const agent = new http.Agent({ keepAlive: true, maxSockets: CONNS * 2 });

function request(port, method, path, { headers = {}, body } = {}) {
    return new Promise((res, rej) => {
        const req = http.request({ host: '127.0.0.1', port, method, path, agent,
                                   headers: { ...headers, ...(body ? { 'content-length': Buffer.byteLength(body) } : {}) } },
            (r) => {
                const chunks = [];
                r.on('data', (c) => chunks.push(c));
                r.on('end', () => res({ status: r.statusCode, headers: r.headers, body: Buffer.concat(chunks).toString() }));
            });
        req.on('error', rej);
        if (body) req.write(body);
        req.end();
    });
}

const form = (o) => new URLSearchParams(o).toString();
const FORM = { 'content-type': 'application/x-www-form-urlencoded' };

// a grant of a newly registered public client: its client id and tokens
async function grant(port) {
    const reg = await request(port, 'POST', '/register', {
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ redirect_uris: ['https://client.example.com/cb'], token_endpoint_auth_method: 'none' }) });
    const client = JSON.parse(reg.body).client_id;
    const verifier = randomBytes(32).toString('base64url');
    const challenge = createHash('sha256').update(verifier).digest('base64url');
    const q = form({ response_type: 'code', client_id: client, redirect_uri: 'https://client.example.com/cb',
                     code_challenge: challenge, code_challenge_method: 'S256', state: 's', scope: 'mcp:tools' });
    const page = await request(port, 'GET', `/authorize?${q}`, { headers: { 'x-test-user': 'alice' } });
    // what a browser posts: the hidden fields and the ticked scope (one)
    const hidden = {};
    for (const m of page.body.matchAll(/<input type="(?:hidden|checkbox)" name="([^"]+)" value="([^"]*)"(?: checked>|>)/g)) {
        hidden[m[1]] = m[2].replace(/&amp;/g, '&').replace(/&quot;/g, '"').replace(/&lt;/g, '<').replace(/&gt;/g, '>');
    }
    const ok = await request(port, 'POST', '/authorize', { headers: { ...FORM, 'x-test-user': 'alice' },
                                                           body: form({ ...hidden, decision: 'approve' }) });
    const code = new URL(ok.headers.location).searchParams.get('code');
    if (!code) throw new Error(`no code from ${port}: ${ok.status} ${ok.body.slice(0, 200)}`);
    const tok = await request(port, 'POST', '/token', { headers: FORM, body: form({
        grant_type: 'authorization_code', code, code_verifier: verifier, client_id: client,
        redirect_uri: 'https://client.example.com/cb' }) });
    const t = JSON.parse(tok.body);
    return { client, at: t.access_token, rt: t.refresh_token };
}

// CONNS loops, each rotating its own grant, for DURATION seconds
async function refreshRound(port, grants) {
    let n = 0, bad = 0;
    const end = Date.now() + DURATION * 1000;
    await Promise.all(grants.map(async (g) => {
        while (Date.now() < end) {
            const r = await request(port, 'POST', '/token', { headers: FORM,
                body: form({ grant_type: 'refresh_token', refresh_token: g.rt, client_id: g.client }) });
            if (r.status !== 200) { bad++; continue; }
            g.rt = JSON.parse(r.body).refresh_token;
            n++;
        }
    }));
    if (bad) throw new Error(`${bad} refreshes failed on ${port}`);
    return n / DURATION;
}

function wrkRound(port, at) {
    const out = execFileSync('taskset', ['-c', CLIENT_CPU, 'wrk', '-t1', `-c${CONNS}`, `-d${DURATION}s`,
        '-H', `Authorization: Bearer ${at}`, `http://127.0.0.1:${port}/mcp`]).toString();
    if (/Non-2xx/.test(out)) throw new Error(`wrk on ${port}: non-2xx answers\n${out}`);
    return Number(out.match(/Requests\/sec:\s+([\d.]+)/)[1]);
}

const median = (a) => [...a].sort((x, y) => x - y)[Math.floor(a.length / 2)];

async function main() {
    await startAll();
    const zoneGrants = [], redisGrants = [];
    for (let i = 0; i < CONNS; i++) {
        zoneGrants.push(await grant(ZONE_PORT));
        redisGrants.push(await grant(REDIS_AS_PORT));
    }
    const rows = { refreshZone: [], refreshRedis: [], rsZone: [], rsRedis: [] };
    for (let r = 0; r < ROUNDS; r++) {
        // interleaved, the order alternating
        const pair = r % 2 ? [['refreshRedis', REDIS_AS_PORT, redisGrants], ['refreshZone', ZONE_PORT, zoneGrants]]
                           : [['refreshZone', ZONE_PORT, zoneGrants], ['refreshRedis', REDIS_AS_PORT, redisGrants]];
        for (const [k, port, g] of pair) rows[k].push(await refreshRound(port, g));
        const rs = r % 2 ? [['rsRedis', REDIS_AS_PORT, redisGrants], ['rsZone', ZONE_PORT, zoneGrants]]
                         : [['rsZone', ZONE_PORT, zoneGrants], ['rsRedis', REDIS_AS_PORT, redisGrants]];
        for (const [k, port, g] of rs) rows[k].push(wrkRound(port, g[0].at));
    }
    const m = Object.fromEntries(Object.entries(rows).map(([k, v]) => [k, median(v)]));
    const nginxV = spawnSync(NGINX, ['-v']).stderr.toString().trim();
    const redisV = execFileSync('redis-server', ['--version']).toString().trim().split(' ')[2];
    const md = `# The state in Redis against the zone (bench/state.mjs)

${new Date().toISOString().slice(0, 10)}, ${nginxV.replace('nginx version: ', '')}, Redis ${redisV.replace('v=', '')},
\`DURATION=${DURATION} ROUNDS=${ROUNDS} CONNS=${CONNS}\`; nginx 1 worker on CPU ${SERVER_CPU},
redis on CPU ${REDIS_CPU}, the clients on CPU ${CLIENT_CPU} (a 2-core machine: the
client shares a CPU with redis). Requests per second, median of ${ROUNDS} interleaved rounds.

| case | zone | Redis | Redis / zone |
|---|---:|---:|---:|
| /token, refresh grant (read + compare-and-swap of the grant, ES256 signature) | ${m.refreshZone.toFixed(0)} | ${m.refreshRedis.toFixed(0)} | ${(m.refreshRedis / m.refreshZone).toFixed(3)} |
| resource server, GET /mcp with a valid token of the server's issuer | ${m.rsZone.toFixed(0)} | ${m.rsRedis.toFixed(0)} | ${(m.rsRedis / m.rsZone).toFixed(3)} |

Rounds: ${Object.entries(rows).map(([k, v]) => `${k} ${v.map((x) => x.toFixed(0)).join(' ')}`).join('; ')}.
`;
    writeFileSync(join(BENCH, 'results-state.md'), md);
    process.stdout.write(md);
}

main().then(() => process.exit(0), (e) => { console.error(e); process.exit(1); });
