// Harness for the end-to-end suites: start nginx (with the built module) and
// the MCP server (e2e/mcp-server.mjs) as child processes, wait for their
// ports, and stop everything afterwards.
//
//   const h = new Harness();
//   after(() => h.stop());                      // registered BEFORE starting
//   before(async () => {
//       const [port, upstreamPort] = await freePorts(2);
//       await h.mcpServer({ port: upstreamPort, json: true });
//       await h.nginx({ template: CONF, vars: { PORT: port, UPSTREAM_PORT: upstreamPort } });
//   });
//
// Ports come from 18700-18799 only, on 127.0.0.1 only. Children are also
// killed (SIGKILL) if this process exits or is signalled without h.stop().
// MCP_E2E_KEEP=1 keeps the nginx prefix directories (config, logs) for
// inspection; their paths are printed to stderr.
//
// h.redis({ port }) starts Debian's redis-server (AOF on, no RDB snapshots,
// its data in a temp dir kept across its own stop()/start()); httpConf(body)
// is the nginx main and http head the suites share, around `body`;
// h.process({ cmd, args, port }) starts any other server (Prometheus);
// AS_ENDPOINTS the authorization server's locations, MCP_PROXY the /mcp
// proxying; recordingFetch() logs requests and answers.

import { spawn } from 'node:child_process';
import { mkdtempSync, writeFileSync, readFileSync, rmSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import net from 'node:net';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { setTimeout as sleep } from 'node:timers/promises';

export const E2E_DIR = dirname(fileURLToPath(import.meta.url));
export const T_DIR = resolve(E2E_DIR, '..');
export const ROOT = resolve(T_DIR, '..');
export const DATA_DIR = join(T_DIR, 'data');
export const MODULE_PATH = process.env.TEST_NGINX_MODULE || join(ROOT, 'build', 'ngx_http_mcp_oauth_module.so');
export const NGINX_BIN = process.env.TEST_NGINX_BINARY || '/usr/sbin/nginx';
export const MCP_SERVER = join(E2E_DIR, 'mcp-server.mjs');

// TEST_E2E_PORT_MIN / _MAX: another range, for runs side by side
export const PORT_MIN = Number(process.env.TEST_E2E_PORT_MIN || 18700);
export const PORT_MAX = Number(process.env.TEST_E2E_PORT_MAX || 18799);
export const HOST = '127.0.0.1';

// ------------------------------------------------------------------ ports --

const handedOut = new Set();

function canListen(port) {
    return new Promise((res) => {
        const srv = net.createServer();
        srv.unref();
        srv.once('error', () => res(false));
        srv.listen({ port, host: HOST, exclusive: true }, () => srv.close(() => res(true)));
    });
}

/**
 * `n` distinct ports of 18700-18799 that nobody listens on now, starting
 * from a random place so that two runs at once rarely probe the same ones.
 */
export async function freePorts(n) {
    const span = PORT_MAX - PORT_MIN + 1;
    const start = Math.floor(Math.random() * span);
    const got = [];
    for (let i = 0; i < span && got.length < n; i++) {
        const port = PORT_MIN + ((start + i) % span);
        if (handedOut.has(port)) continue;
        if (await canListen(port)) {
            handedOut.add(port);
            got.push(port);
        }
    }
    if (got.length < n) throw new Error(`no ${n} free ports in ${PORT_MIN}-${PORT_MAX}`);
    return got;
}

/** Resolves once something accepts TCP connections on HOST:port. */
export async function waitForPort(port, { timeoutMs = 10000, child } = {}) {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
        if (child && child.exitCode !== null) {
            throw new Error(`${child.label} exited (code ${child.exitCode}) before port ${port} accepted connections`);
        }
        if (child && child.signalCode !== null) {
            throw new Error(`${child.label} killed by ${child.signalCode} before port ${port} accepted connections`);
        }
        const ok = await new Promise((res) => {
            const s = net.connect({ port, host: HOST });
            s.once('connect', () => { s.destroy(); res(true); });
            s.once('error', () => { s.destroy(); res(false); });
        });
        if (ok) return;
        if (Date.now() > deadline) throw new Error(`port ${port} did not accept connections within ${timeoutMs} ms`);
        await sleep(50);
    }
}

// -------------------------------------------------------------- templates --

/** Replaces {{NAME}} with vars.NAME; an unknown name is an error. */
export function render(template, vars) {
    return template.replace(/\{\{([A-Z0-9_]+)\}\}/g, (_, name) => {
        if (!(name in vars)) throw new Error(`template variable {{${name}}} has no value`);
        return String(vars[name]);
    });
}

/**
 * An nginx config: the module loaded, one foreground process, logs and
 * temp paths in the prefix, and `body` (servers, upstreams) in http {}.
 */
export function httpConf(body, { module = true, workerConnections = 128 } = {}) {
    return `${module ? 'load_module {{MODULE}};\n' : ''}
daemon off;
master_process off;
worker_processes 1;
pid {{PREFIX}}/nginx.pid;
error_log {{PREFIX}}/error.log info;

events {
    worker_connections ${workerConnections};
}

http {
    default_type application/octet-stream;
    access_log {{PREFIX}}/access.log;

    client_body_temp_path {{PREFIX}}/client_body_temp;
    proxy_temp_path       {{PREFIX}}/proxy_temp;
    fastcgi_temp_path     {{PREFIX}}/fastcgi_temp;
    uwsgi_temp_path       {{PREFIX}}/uwsgi_temp;
    scgi_temp_path        {{PREFIX}}/scgi_temp;
${body}
}
`;
}

/**
 * The built-in authorization server's endpoints (with mcp_oauth_issuer and
 * mcp_oauth_signing_key in the server); the user signs in to /authorize
 * with auth_basic, the users in {{HTPASSWD}}.
 */
export const AS_ENDPOINTS = `
        location = /authorize {
            auth_basic "MCP";
            auth_basic_user_file {{HTPASSWD}};
            mcp_oauth_authorize;
        }
        location = /token    { mcp_oauth_token; }
        location = /register { mcp_oauth_register; }
        location = /revoke   { mcp_oauth_revoke; }
        location = /jwks     { mcp_oauth_jwks_publish; }
`;

/** A /mcp location's proxying to the MCP server on {{UPSTREAM_PORT}}, the verified sub as X-Mcp-User. */
export const MCP_PROXY = `
            proxy_set_header X-Mcp-User $mcp_oauth_sub;
            proxy_http_version 1.1;
            proxy_set_header Connection "";
            proxy_buffering off;
            proxy_read_timeout 60s;
            proxy_pass http://127.0.0.1:{{UPSTREAM_PORT}};
`;

/**
 * A fetch that records what it sent and got in `f.log` (or `log`): method,
 * origin, path, url, status, the answering node's X-Node, the body sent.
 */
export function recordingFetch(log = []) {
    const f = async (url, init = {}) => {
        const res = await fetch(url, init);
        const u = new URL(String(url instanceof Request ? url.url : url));
        log.push({
            method: (init.method || 'GET').toUpperCase(),
            origin: u.origin,
            path: u.pathname,
            url: u.href,
            status: res.status,
            node: res.headers.get('x-node'),
            body: init.body === undefined ? undefined : String(init.body),
        });
        return res;
    };
    f.log = log;
    return f;
}

// ------------------------------------------------------------------ redis --

export const REDIS_BIN = process.env.REDIS_SERVER || '/usr/bin/redis-server';

/** Reads one RESP reply from `buf` at `at`: [value, next] or undefined (incomplete). */
function respParse(buf, at) {
    const eol = buf.indexOf('\r\n', at);
    if (eol < 0) return undefined;
    const type = String.fromCharCode(buf[at]);
    const line = buf.toString('utf8', at + 1, eol);
    const next = eol + 2;
    if (type === '+') return [line, next];
    if (type === '-') return [new Error(line), next];
    if (type === ':') return [Number(line), next];
    if (type === '$') {
        const n = Number(line);
        if (n < 0) return [null, next];
        if (buf.length < next + n + 2) return undefined;
        return [buf.toString('utf8', next, next + n), next + n + 2];
    }
    if (type === '*') {
        const n = Number(line);
        if (n < 0) return [null, next];
        const out = [];
        let p = next;
        for (let i = 0; i < n; i++) {
            const r = respParse(buf, p);
            if (!r) return undefined;
            out.push(r[0]);
            p = r[1];
        }
        return [out, p];
    }
    throw new Error(`RESP: unexpected type byte ${JSON.stringify(type)}`);
}

/**
 * One command to the redis-server on HOST:port over a fresh connection;
 * resolves with its reply (string, number, null, array); an error reply
 * rejects.
 */
export function redisCommand(port, ...args) {
    return new Promise((resolve, reject) => {
        const s = net.connect({ port, host: HOST });
        let buf = Buffer.alloc(0);
        s.setTimeout(3000, () => { s.destroy(); reject(new Error(`redis ${args[0]}: timeout`)); });
        s.once('error', reject);
        s.on('data', (d) => {
            buf = Buffer.concat([buf, d]);
            let r;
            try { r = respParse(buf, 0); } catch (e) { s.destroy(); reject(e); return; }
            if (!r) return;
            s.end();
            if (r[0] instanceof Error) reject(r[0]);
            else resolve(r[0]);
        });
        const parts = args.map(String);
        s.write(`*${parts.length}\r\n${parts.map((a) => `$${Buffer.byteLength(a)}\r\n${a}\r\n`).join('')}`);
    });
}

// -------------------------------------------------------------- processes --

const live = new Set();

function killAllNow() {
    for (const c of live) {
        try { c.kill('SIGKILL'); } catch { /* gone */ }
    }
    live.clear();
}

process.once('exit', killAllNow);
for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP']) {
    process.once(sig, () => {
        killAllNow();
        process.kill(process.pid, sig);
    });
}

function exited(child) {
    if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
    return new Promise((res) => child.once('exit', () => res()));
}

async function stopChild(child, timeoutMs = 5000) {
    if (child.exitCode === null && child.signalCode === null) {
        child.kill('SIGTERM');
        const timer = new AbortController();
        const done = await Promise.race([
            exited(child).then(() => true),
            sleep(timeoutMs, false, { signal: timer.signal }).catch(() => false),
        ]);
        timer.abort();
        if (!done) {
            child.kill('SIGKILL');
            await exited(child);
        }
    }
    live.delete(child);
}

function track(child, label) {
    child.label = label;
    child.out = '';
    child.err = '';
    child.stdout?.setEncoding('utf8').on('data', (d) => { child.out += d; });
    child.stderr?.setEncoding('utf8').on('data', (d) => { child.err += d; });
    child.once('exit', () => live.delete(child));
    live.add(child);
    return child;
}

export class Harness {
    constructor() {
        this.children = [];
        this.dirs = [];
        this.redises = [];
    }

    /**
     * Start nginx from a config template. The template's {{PREFIX}} (the
     * fresh prefix directory), {{MODULE}} (the built .so), {{DATA}} (t/data)
     * and {{ROOT}} are provided; anything else comes from `vars`.
     * nginx runs in the foreground (daemon off) as one process
     * (master_process off), so stopping the child stops all of it.
     */
    async nginx({ template, vars = {}, port = vars.PORT, timeoutMs = 10000 }) {
        if (!existsSync(MODULE_PATH)) {
            throw new Error(`${MODULE_PATH} is missing: build it with ./build.sh`);
        }
        const prefix = mkdtempSync(join(tmpdir(), 'mcp-e2e-nginx-'));
        this.dirs.push(prefix);
        let conf = render(template, { PREFIX: prefix, MODULE: MODULE_PATH, DATA: DATA_DIR, ROOT, ...vars });
        // Started by root, nginx switches its workers to "nobody", who cannot
        // read t/data in a checkout under a 0700 home directory: run them as
        // root, as Test::Nginx does.
        if (process.getuid() === 0 && !/^\s*user\s/m.test(conf)) {
            conf = `user root;\n${conf}`;
        }
        const confPath = join(prefix, 'nginx.conf');
        const errorLog = join(prefix, 'error.log');
        writeFileSync(confPath, conf);
        const child = track(spawn(NGINX_BIN, ['-p', prefix + '/', '-c', confPath, '-e', errorLog], {
            stdio: ['ignore', 'pipe', 'pipe'],
        }), `nginx (${prefix})`);
        this.children.push(child);
        const n = {
            child, prefix, port, confPath,
            errorLog: () => (existsSync(errorLog) ? readFileSync(errorLog, 'utf8') : ''),
            accessLog: () => {
                const p = join(prefix, 'access.log');
                return existsSync(p) ? readFileSync(p, 'utf8') : '';
            },
        };
        try {
            await waitForPort(port, { timeoutMs, child });
        } catch (e) {
            e.message += `\n--- nginx stderr:\n${child.err}\n--- ${errorLog}:\n${n.errorLog()}`;
            throw e;
        }
        return n;
    }

    /** Start e2e/mcp-server.mjs on `port`; json selects application/json answers, else SSE. */
    async mcpServer({ port, json = false, timeoutMs = 10000 }) {
        const args = [MCP_SERVER, '--port', String(port)];
        if (json) args.push('--json');
        const child = track(spawn(process.execPath, args, {
            cwd: T_DIR,
            // stdin stays open: the server stops by itself when it closes
            stdio: ['pipe', 'pipe', 'pipe'],
        }), `mcp-server (${port}${json ? ' json' : ' sse'})`);
        this.children.push(child);
        const s = {
            child, port,
            /** stdout lines so far, e.g. "tool create_app user=user-1" */
            lines: () => child.out.split('\n').filter(Boolean),
            toolCalls: (name) => child.out.split('\n').filter((l) => l.startsWith(`tool ${name} `)),
        };
        try {
            await waitForPort(port, { timeoutMs, child });
        } catch (e) {
            e.message += `\n--- mcp-server stdout:\n${child.out}\n--- stderr:\n${child.err}`;
            throw e;
        }
        return s;
    }

    /**
     * Start any program (`cmd` with `args`) that listens on HOST:port, e.g.
     * Prometheus; stopped with the rest by stop(). Resolves with the child
     * (`child.out`, `child.err`: what it printed so far).
     */
    async process({ label, cmd, args = [], port, cwd, timeoutMs = 15000 }) {
        const child = track(spawn(cmd, args, { cwd, stdio: ['ignore', 'pipe', 'pipe'] }), label || cmd);
        this.children.push(child);
        try {
            await waitForPort(port, { timeoutMs, child });
        } catch (e) {
            e.message += `\n--- ${child.label} stdout:\n${child.out}\n--- stderr:\n${child.err}`;
            throw e;
        }
        return child;
    }

    /**
     * Start redis-server on HOST:port, its data (appendonly.aof) in `dir`
     * (a fresh temp dir by default, removed by stop()). Resolves with
     * { port, dir, command(...args), stop(), start(), kill(), signal(sig),
     * running() }: stop() is a clean shutdown (SIGTERM: the AOF is flushed),
     * kill() a SIGKILL, signal('SIGSTOP') / ('SIGCONT') freezes and thaws it
     * (a Redis that accepts but does not answer); start() starts it again on
     * the same port and dir.
     */
    async redis({ port, dir, args = [], timeoutMs = 10000 }) {
        if (!existsSync(REDIS_BIN)) throw new Error(`${REDIS_BIN} is missing: apt-get install redis-server`);
        if (!dir) {
            dir = mkdtempSync(join(tmpdir(), 'mcp-e2e-redis-'));
            this.dirs.push(dir);
        }
        const argv = ['--port', String(port), '--bind', HOST, '--dir', dir,
            '--appendonly', 'yes', '--save', '', '--daemonize', 'no',
            '--logfile', join(dir, 'redis.log'), ...args];
        let child;
        const r = {
            port, dir,
            command: (...a) => redisCommand(port, ...a),
            running: () => Boolean(child && child.exitCode === null && child.signalCode === null),
            log: () => (existsSync(join(dir, 'redis.log')) ? readFileSync(join(dir, 'redis.log'), 'utf8') : ''),
            async start() {
                if (r.running()) return r;
                child = track(spawn(REDIS_BIN, argv, { stdio: ['ignore', 'pipe', 'pipe'] }), `redis-server (${port})`);
                try {
                    await waitForPort(port, { timeoutMs, child });
                    // accepting connections is not serving: wait for the AOF to be loaded
                    const deadline = Date.now() + timeoutMs;
                    for (;;) {
                        try {
                            if (await redisCommand(port, 'PING') === 'PONG') break;
                        } catch (e) {
                            if (Date.now() > deadline) throw e;
                        }
                        await sleep(25);
                    }
                } catch (e) {
                    e.message += `\n--- ${join(dir, 'redis.log')}:\n${r.log()}`;
                    throw e;
                }
                return r;
            },
            signal(sig) { if (r.running()) child.kill(sig); },
            async stop() {
                if (!child) return;
                child.kill('SIGCONT');
                await stopChild(child);
            },
            async kill() {
                if (!child) return;
                child.kill('SIGKILL');
                await exited(child);
                live.delete(child);
            },
        };
        this.redises.push(r);
        return r.start();
    }

    /** Stop every child (SIGTERM, then SIGKILL) and remove the prefixes. */
    async stop() {
        const children = this.children.splice(0).reverse();
        await Promise.all(children.map((c) => stopChild(c)));
        await Promise.all(this.redises.splice(0).map((r) => r.stop()));
        for (const d of this.dirs.splice(0)) {
            if (process.env.MCP_E2E_KEEP) process.stderr.write(`kept ${d}\n`);
            else rmSync(d, { recursive: true, force: true });
        }
    }
}
