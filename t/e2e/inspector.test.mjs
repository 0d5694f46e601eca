// End-to-end: the MCP Inspector (@modelcontextprotocol/inspector, its CLI
// mode) against nginx + ngx_mcp_oauth_module as the built-in authorization
// server and the resource server in front of the SDK MCP server
// (e2e/mcp-server.mjs, SSE answers).
//
//   cd t && npm ci && node --test e2e/inspector.test.mjs
//
// 1. the CORS preflights the Inspector's browser mode sends (its origin is
//    http://localhost:6274): the metadata documents, /register, /token,
//    /revoke, /jwks answer 204 with Access-Control-Allow-Origin; /mcp's
//    preflight is not refused by the module (it goes to the upstream).
// 2. a token by the real flow over HTTP, as the browser Inspector gets it:
//    DCR with its callback http://localhost:6274/oauth/callback, /authorize
//    (auth_basic) and the consent form's Approve, /token with PKCE.
// 3. the Inspector CLI (`--cli URL --transport http --header "Authorization:
//    Bearer ..."`) through nginx: tools/list shows only what the token may
//    call (mcp_oauth_filter_tools), tools/call whoami shows the signed-in user,
//    create_app (write:application) fails for a token without that scope
//    (hidden: the CLI finds no such tool; on a location that does not filter:
//    403 insufficient_scope from nginx, the tool never runs), succeeds with a
//    --tool-arg for a token with it; without the header: 401, the CLI fails
//    with auth_required.
// 4. the Inspector's own OAuth client (MCP_AUTO_OPEN_ENABLED=true, its
//    loopback callback listener --callback-url): 401 -> discovery -> DCR ->
//    the authorization URL it prints, consented over HTTP -> its callback ->
//    /token -> whoami; then --stored-auth-only reuses the stored token.
//
// The Inspector keeps its state under $HOME/.mcp-inspector: each run gets a
// temporary HOME. The v2 Inspector declares Node >= 22.19; its CLI runs on
// the Node 20 of this project's machines.

import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, execFileSync } from 'node:child_process';
import { createHash, createPublicKey, randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as jose from 'jose';
import { AS_ENDPOINTS, Harness, T_DIR, freePorts, httpConf } from './lib.mjs';

const USER = 'alice';
const PASSWORD = 'wonderland';
const BASIC = `Basic ${Buffer.from(`${USER}:${PASSWORD}`).toString('base64')}`;
const INSPECTOR_ORIGIN = 'http://localhost:6274';
const INSPECTOR_CALLBACK = `${INSPECTOR_ORIGIN}/oauth/callback`;
const ALL_SCOPES = ['mcp:tools', 'read:application', 'write:application', 'admin'];
// the tools of e2e/mcp-server.mjs and the scope each needs besides mcp:tools
const TOOL_SCOPE = { whoami: null, list_apps: 'read:application', create_app: 'write:application', admin_reset: 'admin' };

const INSPECTOR_DIR = join(T_DIR, 'node_modules', '@modelcontextprotocol', 'inspector');
const INSPECTOR_BIN = join(INSPECTOR_DIR,
    JSON.parse(readFileSync(join(INSPECTOR_DIR, 'package.json'), 'utf8')).bin['mcp-inspector']);

const NGINX_CONF = httpConf(`
    server {
        listen 127.0.0.1:{{PORT}};
        server_name localhost;

        mcp_oauth_issuer http://127.0.0.1:{{PORT}};
        mcp_oauth_signing_key {{SIGNING_KEY}};
        mcp_oauth_scopes_supported ${ALL_SCOPES.join(' ')};
        mcp_oauth_redirect_uri_allow loopback;
        mcp_oauth_resource http://127.0.0.1:{{PORT}}/mcp;

        location = /.well-known/oauth-protected-resource/mcp { mcp_oauth_metadata; }
        location = /.well-known/oauth-protected-resource     { mcp_oauth_metadata; }
        location = /.well-known/oauth-authorization-server   { mcp_oauth_server_metadata; }
        location = /.well-known/openid-configuration         { mcp_oauth_server_metadata; }

${AS_ENDPOINTS}
        # as in examples/demo: tools/list shows what the token may call
        location /mcp {
            mcp_oauth on;
            mcp_oauth_required_scope mcp:tools;
            mcp_oauth_scope list_apps  read:application;
            mcp_oauth_scope create_app write:application;
            mcp_oauth_scope admin_*    admin;
            mcp_oauth_filter_tools on;
{{MCP_PROXY}}
            proxy_pass http://127.0.0.1:{{UPSTREAM_PORT}};
        }

        # the same resource, every tool listed: a call is checked by scope only
        location = /unfiltered/mcp {
            mcp_oauth on;
            mcp_oauth_required_scope mcp:tools;
            mcp_oauth_scope list_apps  read:application;
            mcp_oauth_scope create_app write:application;
            mcp_oauth_scope admin_*    admin;
{{MCP_PROXY}}
            proxy_pass http://127.0.0.1:{{UPSTREAM_PORT}}/mcp;
        }
    }
`);

const MCP_PROXY = `
            proxy_set_header X-Mcp-User $mcp_oauth_sub;
            proxy_http_version 1.1;
            proxy_set_header Connection "";
            proxy_buffering off;
            proxy_read_timeout 60s;`;

// ---------------------------------------------------------------- helpers --

function b64url(buf) {
    return Buffer.from(buf).toString('base64url');
}

function pkce() {
    const verifier = b64url(randomBytes(32));
    return { verifier, challenge: b64url(createHash('sha256').update(verifier).digest()) };
}

function decodeEntities(s) {
    return s.replace(/&(#x[0-9a-f]+|#[0-9]+|amp|lt|gt|quot|apos);/gi, (m, e) => {
        const l = e.toLowerCase();
        const named = { amp: '&', lt: '<', gt: '>', quot: '"', apos: "'" };
        if (named[l]) return named[l];
        return String.fromCodePoint(l.startsWith('#x') ? parseInt(l.slice(2), 16) : parseInt(l.slice(1), 10));
    });
}

function attr(tag, name) {
    const m = tag.match(new RegExp(`\\s${name}\\s*=\\s*"([^"]*)"`, 'i'));
    return m ? decodeEntities(m[1]) : undefined;
}

function logTail(env, n = 15) {
    return `\n--- nginx error.log (tail):\n${env.ngx?.errorLog().split('\n').slice(-n).join('\n')}`;
}

/**
 * The user at the consent page: GET the authorization URL with basic auth,
 * post the form's hidden fields and ticked boxes back with decision=approve. Resolves with
 * the redirect's Location (not followed).
 */
async function approve(env, authorizationUrl) {
    const page = await fetch(authorizationUrl, { headers: { Authorization: BASIC }, redirect: 'manual' });
    const html = await page.text();
    assert.equal(page.status, 200, `GET ${authorizationUrl}: ${page.status}\n${html}${logTail(env)}`);
    const form = html.match(/<form\b[^>]*>/i);
    assert.ok(form, `a consent form:\n${html}`);
    const fields = new URLSearchParams();
    for (const [tag] of html.matchAll(/<input\b[^>]*>/gi)) {
        const type = (attr(tag, 'type') || '').toLowerCase();
        // what a browser posts: hidden fields and the ticked checkboxes
        const ticked = type === 'checkbox' && /\schecked\b/i.test(tag) && !/\sdisabled\b/i.test(tag);
        if ((type === 'hidden' || ticked) && attr(tag, 'name')) {
            fields.append(attr(tag, 'name'), attr(tag, 'value') ?? '');
        }
    }
    assert.ok(fields.has('csrf_token'), `the consent form has a csrf_token:\n${html}`);
    fields.set('decision', 'approve');
    const res = await fetch(new URL(attr(form[0], 'action') || '/authorize', authorizationUrl), {
        method: 'POST',
        headers: { Authorization: BASIC, 'Content-Type': 'application/x-www-form-urlencoded' },
        body: fields,
        redirect: 'manual',
    });
    const body = await res.text();
    assert.equal(res.status, 302, `POST /authorize (approve): ${res.status}\n${body}${logTail(env)}`);
    return new URL(res.headers.get('location'));
}

/**
 * What the browser Inspector does, over HTTP: DCR with its callback (from its
 * origin), /authorize + consent, /token with PKCE (from its origin).
 */
async function inspectorToken(env, scope) {
    const reg = await fetch(`${env.issuer}/register`, {
        method: 'POST',
        headers: { 'Content-Type': 'application/json', Accept: 'application/json', Origin: INSPECTOR_ORIGIN },
        body: JSON.stringify({
            client_name: 'MCP Inspector',
            redirect_uris: [INSPECTOR_CALLBACK],
            grant_types: ['authorization_code', 'refresh_token'],
            response_types: ['code'],
            token_endpoint_auth_method: 'none',
        }),
    });
    const regText = await reg.text();
    assert.equal(reg.status, 201, `POST /register: ${regText}${logTail(env)}`);
    assert.equal(reg.headers.get('access-control-allow-origin'), '*');
    const client = JSON.parse(regText);
    assert.deepEqual(client.redirect_uris, [INSPECTOR_CALLBACK]);
    assert.equal(client.token_endpoint_auth_method, 'none');

    const { verifier, challenge } = pkce();
    const state = b64url(randomBytes(16));
    const az = new URL(`${env.issuer}/authorize`);
    for (const [k, v] of Object.entries({
        response_type: 'code', client_id: client.client_id, redirect_uri: INSPECTOR_CALLBACK,
        code_challenge: challenge, code_challenge_method: 'S256', state, scope, resource: env.resource,
    })) az.searchParams.set(k, v);
    const location = await approve(env, az);
    assert.equal(`${location.origin}${location.pathname}`, INSPECTOR_CALLBACK);
    assert.equal(location.searchParams.get('error'), null, `authorization error: ${location}`);
    assert.equal(location.searchParams.get('state'), state);
    assert.equal(location.searchParams.get('iss'), env.issuer);

    const tok = await fetch(`${env.issuer}/token`, {
        method: 'POST',
        headers: { 'Content-Type': 'application/x-www-form-urlencoded', Origin: INSPECTOR_ORIGIN },
        body: new URLSearchParams({
            grant_type: 'authorization_code', code: location.searchParams.get('code'),
            redirect_uri: INSPECTOR_CALLBACK, code_verifier: verifier, client_id: client.client_id,
            resource: env.resource,
        }),
    });
    const tokText = await tok.text();
    assert.equal(tok.status, 200, `POST /token: ${tokText}${logTail(env)}`);
    assert.equal(tok.headers.get('access-control-allow-origin'), '*');
    const tokens = JSON.parse(tokText);
    assert.equal(tokens.token_type.toLowerCase(), 'bearer');
    assert.equal(tokens.scope, scope);
    const { payload } = await jose.jwtVerify(tokens.access_token, env.publicKey,
        { issuer: env.issuer, audience: env.resource, typ: 'at+jwt' });
    assert.equal(payload.sub, USER);
    assert.equal(payload.client_id, client.client_id);
    return { client, tokens };
}

/**
 * Runs the Inspector CLI: `mcp-inspector --cli URL --transport http ARGS...`
 * with a private HOME. Resolves with { code, stdout, stderr, json } (json:
 * stdout or the error envelope on stderr, parsed, with --format json).
 * `onStderr(text so far, child)` sees stderr as it comes.
 */
function inspector(env, args, { url = env.resource, home = env.home, extraEnv = {}, onStderr, timeoutMs = 60000 } = {}) {
    const argv = [INSPECTOR_BIN, '--cli', url, '--transport', 'http', '--format', 'json',
        '--connect-timeout', '10000', ...args];
    return new Promise((resolve, reject) => {
        const child = spawn(process.execPath, argv, {
            cwd: T_DIR,
            stdio: ['ignore', 'pipe', 'pipe'],
            env: {
                PATH: process.env.PATH,
                HOME: home,
                NO_COLOR: '1',
                // xdg-open, if the CLI tries to open the authorization URL: do nothing
                BROWSER: 'true',
                // its OAuth state in $HOME/.mcp-inspector, not in a keychain or in memory
                MCP_INSPECTOR_SECRET_STORE: 'file',
                ...extraEnv,
            },
        });
        let stdout = '';
        let stderr = '';
        const timer = setTimeout(() => {
            child.kill('SIGKILL');
            reject(new Error(`inspector ${args.join(' ')}: no exit within ${timeoutMs} ms\n` +
                `stdout: ${stdout}\nstderr: ${stderr}${logTail(env)}`));
        }, timeoutMs);
        child.stdout.setEncoding('utf8').on('data', (d) => { stdout += d; });
        child.stderr.setEncoding('utf8').on('data', (d) => {
            stderr += d;
            onStderr?.(stderr, child);
        });
        child.once('error', (e) => { clearTimeout(timer); reject(e); });
        child.once('close', (code) => {
            clearTimeout(timer);
            let json;
            for (const text of [stdout, stderr]) {
                const line = text.trim().split('\n').reverse().find((l) => l.startsWith('{'));
                if (line && json === undefined) {
                    try { json = JSON.parse(line); } catch { /* not JSON */ }
                }
            }
            resolve({ code, stdout, stderr, json });
        });
    });
}

function bearer(token) {
    return ['--header', `Authorization: Bearer ${token}`];
}

/** The text of a tools/call result, parsed (mcp-server.mjs answers JSON text). */
function toolOutput(r) {
    assert.equal(r.code, 0, `inspector exit ${r.code}\nstdout: ${r.stdout}\nstderr: ${r.stderr}`);
    const result = r.json?.result;
    assert.ok(result, `a result: ${r.stdout}`);
    assert.notEqual(result.isError, true, `tool error: ${r.stdout}`);
    return JSON.parse(result.content.find((c) => c.type === 'text').text);
}

/** access.log lines of requests to `path`, as "METHOD status". */
function accessLog(env, path) {
    return env.ngx.accessLog().split('\n')
        .map((l) => l.match(/"([A-Z]+) (\S+) HTTP\/[\d.]+" (\d{3})/))
        .filter((m) => m && m[2].split('?')[0] === path)
        .map((m) => `${m[1]} ${m[3]}`);
}

// --------------------------------------------------------------- fixture --

describe('MCP Inspector (CLI) through nginx, the built-in authorization server', { timeout: 240000 }, () => {
    const h = new Harness();
    const env = {};
    let tmp;

    before(async () => {
        tmp = mkdtempSync(join(tmpdir(), 'mcp-e2e-inspector-'));
        env.home = join(tmp, 'home');
        env.keyPath = join(tmp, 'signing.pem');
        execFileSync('openssl', ['genpkey', '-algorithm', 'EC', '-pkeyopt', 'ec_paramgen_curve:P-256',
            '-out', env.keyPath], { stdio: ['ignore', 'ignore', 'pipe'] });
        env.publicKey = createPublicKey(readFileSync(env.keyPath));
        const htpasswd = join(tmp, 'htpasswd');
        writeFileSync(htpasswd, `${USER}:{PLAIN}${PASSWORD}\n`);

        const [port, upstreamPort] = await freePorts(2);
        env.issuer = `http://127.0.0.1:${port}`;
        env.resource = `${env.issuer}/mcp`;
        env.unfiltered = `${env.issuer}/unfiltered/mcp`;
        env.upstream = await h.mcpServer({ port: upstreamPort });
        env.ngx = await h.nginx({
            template: NGINX_CONF,
            vars: { PORT: port, UPSTREAM_PORT: upstreamPort, SIGNING_KEY: env.keyPath, HTPASSWD: htpasswd, MCP_PROXY },
        });
    });

    after(async () => {
        await h.stop();
        if (tmp) rmSync(tmp, { recursive: true, force: true });
    });

    it('the CORS preflights of the browser Inspector (origin http://localhost:6274) answer 204 with Access-Control-Allow-Origin', async () => {
        const preflights = [
            ['/.well-known/oauth-protected-resource/mcp', 'GET', 'mcp-protocol-version'],
            ['/.well-known/oauth-protected-resource', 'GET', 'mcp-protocol-version'],
            ['/.well-known/oauth-authorization-server', 'GET', 'mcp-protocol-version'],
            ['/.well-known/openid-configuration', 'GET', 'mcp-protocol-version'],
            ['/register', 'POST', 'content-type'],
            ['/token', 'POST', 'content-type'],
            ['/revoke', 'POST', 'content-type'],
            ['/jwks', 'GET', 'mcp-protocol-version'],
        ];
        for (const [path, method, headers] of preflights) {
            const res = await fetch(`${env.issuer}${path}`, {
                method: 'OPTIONS',
                headers: {
                    Origin: INSPECTOR_ORIGIN,
                    'Access-Control-Request-Method': method,
                    'Access-Control-Request-Headers': headers,
                },
            });
            await res.body?.cancel();
            const what = `OPTIONS ${path} (${method}, ${headers})`;
            assert.equal(res.status, 204, `${what}: ${res.status}${logTail(env)}`);
            const acao = res.headers.get('access-control-allow-origin');
            assert.ok(acao === '*' || acao === INSPECTOR_ORIGIN, `${what}: Access-Control-Allow-Origin ${acao}`);
            const methods = (res.headers.get('access-control-allow-methods') || '').toUpperCase();
            assert.ok(methods.split(/\s*,\s*/).includes(method), `${what}: Access-Control-Allow-Methods "${methods}"`);
            const allowed = (res.headers.get('access-control-allow-headers') || '').toLowerCase();
            assert.ok(allowed === '*' || allowed.split(/\s*,\s*/).includes(headers),
                `${what}: Access-Control-Allow-Headers "${allowed}"`);
        }

        // the documents themselves, fetched from that origin
        for (const path of ['/.well-known/oauth-protected-resource/mcp', '/.well-known/oauth-authorization-server']) {
            const res = await fetch(`${env.issuer}${path}`, { headers: { Origin: INSPECTOR_ORIGIN } });
            assert.equal(res.status, 200);
            assert.equal(res.headers.get('access-control-allow-origin'), '*', `GET ${path}`);
            await res.json();
        }

        // /mcp: the module lets the preflight through (no token asked); the upstream answers it
        const res = await fetch(env.resource, {
            method: 'OPTIONS',
            headers: {
                Origin: INSPECTOR_ORIGIN,
                'Access-Control-Request-Method': 'POST',
                'Access-Control-Request-Headers': 'authorization, content-type, mcp-protocol-version',
            },
        });
        await res.body?.cancel();
        assert.notEqual(res.status, 401, `OPTIONS /mcp: ${res.status} ${res.headers.get('www-authenticate')}`);
        assert.equal(res.headers.get('www-authenticate'), null);
    });

    it('a token by the browser Inspector\'s flow over HTTP: DCR with its callback, consent, /token with PKCE', async () => {
        env.read = await inspectorToken(env, 'mcp:tools read:application');
        env.write = await inspectorToken(env, 'mcp:tools read:application write:application');
    });

    it('tools/list through nginx shows only the tools the token may call', async () => {
        const r = await inspector(env, [...bearer(env.read.tokens.access_token), '--method', 'tools/list']);
        assert.equal(r.code, 0, `exit ${r.code}\n${r.stdout}\n${r.stderr}${logTail(env)}`);
        assert.deepEqual(r.json.result.tools.map((t) => t.name).sort(), ['list_apps', 'whoami']);

        const w = await inspector(env, [...bearer(env.write.tokens.access_token), '--method', 'tools/list']);
        assert.equal(w.code, 0, `exit ${w.code}\n${w.stdout}\n${w.stderr}`);
        assert.deepEqual(w.json.result.tools.map((t) => t.name).sort(), ['create_app', 'list_apps', 'whoami']);

        // the unfiltered location lists every tool, whatever the scope
        const u = await inspector(env, [...bearer(env.read.tokens.access_token), '--method', 'tools/list'],
            { url: env.unfiltered });
        assert.equal(u.code, 0, `exit ${u.code}\n${u.stdout}\n${u.stderr}`);
        assert.deepEqual(u.json.result.tools.map((t) => t.name).sort(), ['admin_reset', 'create_app', 'list_apps', 'whoami']);
    });

    it('tools/call whoami shows the signed-in user; list_apps with read:application', async () => {
        const before = env.upstream.toolCalls('whoami').length;
        const who = toolOutput(await inspector(env,
            [...bearer(env.read.tokens.access_token), '--method', 'tools/call', '--tool-name', 'whoami']));
        assert.deepEqual(who, { user: USER });
        assert.deepEqual(env.upstream.toolCalls('whoami').slice(before), [`tool whoami user=${USER}`]);

        const apps = toolOutput(await inspector(env,
            [...bearer(env.read.tokens.access_token), '--method', 'tools/call', '--tool-name', 'list_apps']));
        assert.ok(Array.isArray(apps.applications) && apps.applications.length > 0, JSON.stringify(apps));
    });

    it('tools/call of a tool needing a scope the token lacks fails; with the scope it runs (--tool-arg)', async () => {
        const token = env.read.tokens.access_token;
        const ran = () => env.upstream.toolCalls('create_app').length;
        const before = ran();

        // filtered /mcp: the Inspector lists the tools first and does not find it
        const hidden = await inspector(env, [...bearer(token), '--method', 'tools/call',
            '--tool-name', 'create_app', '--tool-arg', 'name=from-inspector']);
        assert.notEqual(hidden.code, 0, `create_app must fail:\n${hidden.stdout}\n${hidden.stderr}`);
        assert.equal(hidden.json?.error?.code, 'tool_not_found', `${hidden.stdout}\n${hidden.stderr}`);

        // unfiltered: listed, the call reaches nginx, which answers 403 insufficient_scope
        const posts = accessLog(env, '/unfiltered/mcp').length;
        const denied = await inspector(env, [...bearer(token), '--method', 'tools/call',
            '--tool-name', 'create_app', '--tool-arg', 'name=from-inspector'], { url: env.unfiltered });
        assert.notEqual(denied.code, 0, `create_app must fail:\n${denied.stdout}\n${denied.stderr}`);
        assert.ok(accessLog(env, '/unfiltered/mcp').slice(posts).includes('POST 403'),
            `nginx answered 403: ${accessLog(env, '/unfiltered/mcp').slice(posts).join(', ')}`);
        // (a header-supplied token: the Inspector reports the challenge, no step-up)
        assert.match(denied.json?.error?.message || '', /Insufficient scope: required "mcp:tools write:application"/,
            `the Inspector reports the scope nginx asked for:\n${denied.stdout}\n${denied.stderr}`);
        assert.equal(ran(), before, 'create_app never ran upstream');

        // the 403's challenge, as nginx sent it
        const raw = await fetch(env.unfiltered, {
            method: 'POST',
            headers: {
                Authorization: `Bearer ${token}`,
                'Content-Type': 'application/json',
                Accept: 'application/json, text/event-stream',
            },
            body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'tools/call',
                params: { name: 'create_app', arguments: { name: 'x' } } }),
        });
        await raw.body?.cancel();
        assert.equal(raw.status, 403);
        assert.match(raw.headers.get('www-authenticate'), /error="insufficient_scope"/);
        assert.match(raw.headers.get('www-authenticate'), /scope="mcp:tools write:application"/);

        // with write:application the same call runs, owned by the signed-in user
        const created = toolOutput(await inspector(env, [...bearer(env.write.tokens.access_token),
            '--method', 'tools/call', '--tool-name', 'create_app', '--tool-arg', 'name=from-inspector']));
        assert.equal(created.created.name, 'from-inspector');
        assert.equal(created.created.owner, USER);
        assert.deepEqual(env.upstream.toolCalls('create_app').slice(before), [`tool create_app user=${USER}`]);
    });

    it('without the Authorization header: nginx answers 401, the Inspector fails with auth_required', async () => {
        const before = accessLog(env, '/mcp').length;
        const r = await inspector(env, ['--stored-auth-only', '--method', 'tools/list']);
        assert.equal(r.code, 3, `exit ${r.code} (3: auth required)\n${r.stdout}\n${r.stderr}`);
        assert.equal(r.json?.error?.code, 'auth_required', r.stderr);
        assert.match(r.json.error.message, /no bearer token/);
        assert.deepEqual(accessLog(env, '/mcp').slice(before), ['POST 401']);

        // without --stored-auth-only and no terminal: it would start OAuth, and refuses to
        const i = await inspector(env, ['--method', 'tools/list']);
        assert.equal(i.code, 3, `exit ${i.code}\n${i.stdout}\n${i.stderr}`);
        assert.equal(i.json?.error?.code, 'auth_required');

        // a token nginx did not issue
        const bad = await inspector(env, ['--stored-auth-only', ...bearer('not-a-token'), '--method', 'tools/list']);
        assert.equal(bad.code, 3, `exit ${bad.code}\n${bad.stdout}\n${bad.stderr}`);
        assert.match(bad.json?.error?.message || '', /invalid_token/);

        // what the CLI saw
        const res = await fetch(env.resource, {
            method: 'POST',
            headers: { 'Content-Type': 'application/json', Accept: 'application/json, text/event-stream' },
            body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'tools/list' }),
        });
        await res.body?.cancel();
        assert.equal(res.status, 401);
        assert.match(res.headers.get('www-authenticate'),
            new RegExp(`^Bearer .*resource_metadata="${env.issuer}/.well-known/oauth-protected-resource/mcp"`));
    });

    it('the Inspector\'s own OAuth: 401, discovery, DCR, the authorization URL consented, its callback, /token; then stored auth', async () => {
        const [cbPort] = await freePorts(1);
        const callbackUrl = `http://127.0.0.1:${cbPort}/oauth/callback`;
        const home = join(tmp, 'home-oauth');
        const logged = { register: accessLog(env, '/register').length, token: accessLog(env, '/token').length };
        let consented;
        const r = await inspector(env, ['--callback-url', callbackUrl, '--method', 'tools/call', '--tool-name', 'whoami'], {
            home,
            extraEnv: { MCP_AUTO_OPEN_ENABLED: 'true' },
            // the "browser": the URL the CLI prints, approved over HTTP, then its callback
            onStderr(text) {
                if (consented) return;
                const m = text.match(/Please navigate to: (\S+)/);
                if (!m) return;
                consented = (async () => {
                    const az = new URL(m[1]);
                    assert.equal(`${az.origin}${az.pathname}`, `${env.issuer}/authorize`);
                    assert.equal(az.searchParams.get('code_challenge_method'), 'S256');
                    assert.equal(az.searchParams.get('resource'), env.resource);
                    assert.equal(az.searchParams.get('redirect_uri'), callbackUrl);
                    const location = await approve(env, az);
                    assert.equal(`${location.origin}${location.pathname}`, callbackUrl);
                    const cb = await fetch(location, { redirect: 'manual' });
                    await cb.body?.cancel();
                    return { az, location, status: cb.status };
                })();
                consented.catch(() => {});
            },
        });
        assert.ok(consented, `the CLI printed an authorization URL:\n${r.stderr}${logTail(env)}`);
        const { az, location, status } = await consented;
        assert.ok(status < 400, `the CLI's callback answered ${status}`);
        assert.equal(location.searchParams.get('iss'), env.issuer);
        assert.deepEqual(toolOutput(r), { user: USER });

        // it registered itself (DCR) and redeemed the code. The scope it asked
        // for: none (v2.12 does not use the 401's scope hint, nor registers a
        // scope), so nginx grants every scope of scopes_supported
        // (docs/authorization-server.md: the registered scope, else all).
        const asked = az.searchParams.get('scope');
        const granted = asked ? asked.split(' ') : ALL_SCOPES;
        const visible = Object.keys(TOOL_SCOPE).filter((t) => !TOOL_SCOPE[t] || granted.includes(TOOL_SCOPE[t]));
        assert.deepEqual(accessLog(env, '/register').slice(logged.register), ['POST 201']);
        assert.deepEqual(accessLog(env, '/token').slice(logged.token), ['POST 200']);

        // the stored token is used without any OAuth
        const again = await inspector(env, ['--stored-auth-only', '--method', 'tools/list'], { home });
        assert.equal(again.code, 0, `exit ${again.code}\n${again.stdout}\n${again.stderr}`);
        assert.deepEqual(again.json.result.tools.map((t) => t.name).sort(), [...visible].sort());
    });

    it('nginx logged no alert, crit or emerg (no crash)', () => {
        assert.equal(env.ngx.child.exitCode, null, 'nginx is still running');
        const bad = env.ngx.errorLog().split('\n').filter((l) => /\[(alert|crit|emerg)\]/.test(l));
        assert.deepEqual(bad, []);
    });
});
