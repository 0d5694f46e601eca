// End-to-end: a fleet of nginx nodes acting as one authorization server,
// their state in Redis (mcp_oauth_state_request + mcp_oauth_redis_pass,
// docs/fleet.md), with real components started and stopped here:
//
//   redis-server (AOF) <- nodes a, b, c (the module; the same issuer, key
//   and config; each its own zone; X-Node: a|b|c on every answer)
//   <- a plain round-robin nginx balancer (no module), and behind the
//   nodes' /mcp the SDK MCP server (e2e/mcp-server.mjs); oidc-provider as
//   the IAM of the nodes' bridge servers.
//
//   cd t && npm ci && node --test e2e/fleet.test.mjs
//
// Each node has two servers: the built-in AS (auth_basic users) whose
// issuer is the balancer's http://127.0.0.1:LB, and the bridge (the IAM
// signs users in) whose issuer is the balancer's http://127.0.0.1:LB_BR.
// Requests that must land on a chosen node go to its own port with the
// issuer's path and query (the module builds every URL from the issuer).
//
// The cases: the MCP SDK client's whole flow through the balancer (every
// node serves a step, the code redeemed on another node than its issuer's,
// a refresh past the TTL); a consent remembered across nodes; a code
// replayed on another node; one code redeemed on two nodes at once; a
// rotated refresh token reused on another node; a revocation seen by
// another node within sync + 1 s (measured, printed); the bridge across
// nodes; an anonymous flood that stores nothing, during a real flow;
// kill -9 of a node mid-flow; a Redis restart (AOF); Redis down and back;
// Redis frozen (the read timeout).

import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import * as jose from 'jose';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { UnauthorizedError } from '@modelcontextprotocol/sdk/client/auth.js';
import { LATEST_PROTOCOL_VERSION } from '@modelcontextprotocol/sdk/types.js';
import { DATA_DIR, Harness, freePorts, httpConf, MCP_PROXY, recordingFetch } from './lib.mjs';
import { startOidcProvider, CookieJar, jarFetch, parseForms, posted, browse, LOGIN } from './oidc-provider.mjs';

const NODES = ['a', 'b', 'c'];
const USER = 'alice';
const BASIC = `Basic ${Buffer.from(`${USER}:alice-pw`).toString('base64')}`;
const TOKEN_TTL = 6;          // short, for the SDK's refresh past expiry
const SYNC_MS = 1000;         // mcp_oauth_state_request sync=1s
const BOUND_MS = SYNC_MS + 1000;
const IAM_CLIENT_ID = 'mcp-gateway';
const IAM_SECRET = randomBytes(24).toString('base64url');

// ---------------------------------------------------------- nginx configs --

const MCP_LOCATION = `
        location /mcp {
            mcp_oauth on;
            mcp_oauth_leeway 0;
            mcp_oauth_required_scope mcp:tools;
${MCP_PROXY}
        }
`;

// the state in Redis, and the endpoints every AS has
const AS_COMMON = `
        mcp_oauth_signing_key ${join(DATA_DIR, 'signing', 'ec.pem')};
        mcp_oauth_scopes_supported mcp:tools read:application write:application;
        mcp_oauth_token_ttl ${TOKEN_TTL}s;

        mcp_oauth_state_request /_mcp_state sync=${SYNC_MS}ms;
        location = /_mcp_state {
            internal;
            mcp_oauth_redis_pass mcp_state;
            mcp_oauth_redis_connect_timeout 500ms;
            mcp_oauth_redis_read_timeout 1s;
        }

        location = /.well-known/oauth-protected-resource/mcp { mcp_oauth_metadata; }
        location = /.well-known/oauth-authorization-server   { mcp_oauth_server_metadata; }
        location = /token    { mcp_oauth_token; }
        location = /register { mcp_oauth_register; }
        location = /revoke   { mcp_oauth_revoke; }
        location = /jwks     { mcp_oauth_jwks_publish; }
${MCP_LOCATION}`;

const NODE_CONF = httpConf(`
    upstream mcp_state {
        server 127.0.0.1:{{REDIS_PORT}};
        keepalive 8;
    }

    # the built-in AS, its users signed in by auth_basic
    server {
        listen 127.0.0.1:{{PORT}};
        server_name localhost;
        add_header X-Node {{NODE}} always;

        mcp_oauth_zone as_{{NODE}}:1m;
        mcp_oauth_issuer http://127.0.0.1:{{LB_PORT}};
        mcp_oauth_resource http://127.0.0.1:{{LB_PORT}}/mcp;
${AS_COMMON}
        location = /authorize {
            auth_basic "MCP";
            auth_basic_user_file ${join(DATA_DIR, 'signing', 'htpasswd')};
            mcp_oauth_authorize;
        }
    }

    # the bridge: the IAM signs users in
    server {
        listen 127.0.0.1:{{BR_PORT}};
        server_name localhost;
        add_header X-Node {{NODE}} always;

        mcp_oauth_zone br_{{NODE}}:1m;
        mcp_oauth_issuer http://127.0.0.1:{{LB_BR_PORT}};
        mcp_oauth_resource http://127.0.0.1:{{LB_BR_PORT}}/mcp;

        mcp_oauth_iam_authorize_url {{IAM_AUTHORIZE}};
        mcp_oauth_iam_token_request /_iam/token;
        mcp_oauth_iam_client ${IAM_CLIENT_ID} secret=${IAM_SECRET};
        mcp_oauth_iam_scope "openid offline_access";
        mcp_oauth_iam_param resource http://127.0.0.1:{{LB_BR_PORT}}/mcp;
        mcp_oauth_iam_param prompt consent;
        mcp_oauth_iam_token mint;
${AS_COMMON}
        location = /authorize { mcp_oauth_authorize; }
        location = /callback  { mcp_oauth_iam_callback; }
        location = /_iam/token {
            internal;
            proxy_pass {{IAM_TOKEN_URL}};
            proxy_connect_timeout 3s;
            proxy_read_timeout 5s;
        }
    }
`, { workerConnections: 1024 });

const LB_PROXY = `
            proxy_set_header Host $http_host;
            proxy_next_upstream error timeout;
            proxy_connect_timeout 300ms;
            proxy_http_version 1.1;
            proxy_set_header Connection "";
            proxy_buffering off;
            proxy_read_timeout 60s;
`;

// a plain round-robin balancer: no module
const LB_CONF = httpConf(`
    upstream nodes_as {
        server 127.0.0.1:{{A}};
        server 127.0.0.1:{{B}};
        server 127.0.0.1:{{C}};
    }
    upstream nodes_br {
        server 127.0.0.1:{{A_BR}};
        server 127.0.0.1:{{B_BR}};
        server 127.0.0.1:{{C_BR}};
    }
    server {
        listen 127.0.0.1:{{PORT}};
        location / {
            proxy_pass http://nodes_as;
${LB_PROXY}
        }
    }
    server {
        listen 127.0.0.1:{{LB_BR_PORT}};
        location / {
            proxy_pass http://nodes_br;
${LB_PROXY}
        }
    }
`, { module: false, workerConnections: 1024 });

// ---------------------------------------------------------------- fixture --

const h = new Harness();
const env = { nodes: {}, br: {} };

async function startNode(name) {
    env.nodes[name] = await h.nginx({
        template: NODE_CONF,
        vars: {
            NODE: name, PORT: env.ports[name], BR_PORT: env.brPorts[name],
            REDIS_PORT: env.redis.port, LB_PORT: env.lbPort, LB_BR_PORT: env.lbBrPort,
            UPSTREAM_PORT: env.upstream.port,
            IAM_AUTHORIZE: env.iam.metadata.authorization_endpoint,
            IAM_TOKEN_URL: env.iam.metadata.token_endpoint,
        },
    });
    env.br[name] = `http://127.0.0.1:${env.brPorts[name]}`;
    return env.nodes[name];
}

/** The base URL of node `name`'s AS server. */
const node = (name) => `http://127.0.0.1:${env.ports[name]}`;

/** `url` (an issuer's URL) sent to `base` instead, the path and query kept. */
function at(base, url) {
    const u = new URL(String(url));
    return `${base}${u.pathname}${u.search}`;
}

function logTail(n = 12) {
    return Object.entries(env.nodes).map(([name, ngx]) =>
        `\n--- node ${name} error.log (tail):\n${ngx.errorLog().split('\n').slice(-n).join('\n')}`).join('');
}

const dbsize = () => env.redis.command('DBSIZE');
const keys = async () => new Set(await env.redis.command('KEYS', '*'));
const added = (before, after) => [...after].filter((k) => !before.has(k));

// ---------------------------------------------------------------- helpers --

function pkce() {
    const verifier = randomBytes(32).toString('base64url');
    const challenge = createHash('sha256').update(verifier).digest('base64url');
    return { verifier, challenge };
}

async function register(base, redirectUri, name = 'fleet e2e client') {
    const res = await fetch(`${base}/register`, {
        method: 'POST',
        headers: { 'Content-Type': 'application/json' },
        body: JSON.stringify({
            client_name: name, redirect_uris: [redirectUri],
            grant_types: ['authorization_code', 'refresh_token'],
            response_types: ['code'], token_endpoint_auth_method: 'none',
        }),
    });
    const text = await res.text();
    assert.equal(res.status, 201, `POST ${base}/register: ${text}${logTail()}`);
    return JSON.parse(text);
}

/** What a browser posts of the consent form of `html`, and its action. */
function consentForm(html, pageUrl) {
    const form = parseForms(html, pageUrl).find((f) => f.buttons.some((b) => b.name === 'decision')
        || f.inputs.some((x) => x.name === 'decision'));
    assert.ok(form, `no consent form in:\n${html}`);
    return { action: form.action, hidden: posted(form) };
}

function authorizeUrl(issuer, client, challenge, state = randomBytes(8).toString('base64url')) {
    const u = new URL(`${issuer}/authorize`);
    for (const [k, v] of Object.entries({
        response_type: 'code', client_id: client.client_id, redirect_uri: client.redirect_uris[0],
        code_challenge: challenge, code_challenge_method: 'S256', state, scope: 'mcp:tools',
        resource: `${issuer}/mcp`,
    })) u.searchParams.set(k, v);
    return u;
}

/**
 * /authorize signed in as alice: the page GET on `pageAt`, the approval
 * POSTed to `postAt` (a base, or a function of the node that served the
 * page; by default where the page came from); a remembered consent answers
 * the GET at once.
 * Resolves with { code, pageNode, postNode } (the nodes that answered).
 */
async function authorize(url, { pageAt, postAt = pageAt, f = fetch } = {}) {
    const page = await f(pageAt ? at(pageAt, url) : String(url), { headers: { Authorization: BASIC }, redirect: 'manual' });
    let res = page;
    if (page.status === 200) {
        const { action, hidden } = consentForm(await page.text(), String(url));
        const body = new URLSearchParams(hidden);
        body.append('decision', 'approve');
        const to = typeof postAt === 'function' ? postAt(page.headers.get('x-node')) : postAt;
        res = await f(to ? at(to, action) : action, {
            method: 'POST', body, redirect: 'manual',
            headers: { Authorization: BASIC, 'Content-Type': 'application/x-www-form-urlencoded' },
        });
    }
    const text = await res.text();
    assert.equal(res.status, 302, `authorize: redirect expected, got ${res.status}:\n${text}${logTail()}`);
    const loc = new URL(res.headers.get('location'));
    assert.equal(loc.searchParams.get('error'), null, `authorization error: ${loc}`);
    assert.ok(loc.searchParams.get('code'), `a code: ${loc}`);
    return { code: loc.searchParams.get('code'), location: loc, pageNode: page.headers.get('x-node'), postNode: res.headers.get('x-node') };
}

function tokenRequest(base, form) {
    return fetch(`${base}/token`, {
        method: 'POST',
        headers: { 'Content-Type': 'application/x-www-form-urlencoded' },
        body: new URLSearchParams(form),
    });
}

function redeem(base, client, code, verifier, issuer = env.issuer) {
    return tokenRequest(base, {
        grant_type: 'authorization_code', code, redirect_uri: client.redirect_uris[0],
        code_verifier: verifier, client_id: client.client_id, resource: `${issuer}/mcp`,
    });
}

function refresh(base, client, refreshToken) {
    return tokenRequest(base, { grant_type: 'refresh_token', refresh_token: refreshToken, client_id: client.client_id });
}

/** A /token answer: { status, json, node }. */
async function answer(res) {
    const text = await res.text();
    let json;
    try { json = JSON.parse(text); } catch { json = { text }; }
    return { status: res.status, json, node: res.headers.get('x-node') };
}

async function okTokens(res, what) {
    const a = await answer(res);
    assert.equal(a.status, 200, `${what}: ${JSON.stringify(a.json)}${logTail()}`);
    assert.equal(typeof a.json.access_token, 'string');
    return a.json;
}

async function invalidGrant(res, what) {
    const a = await answer(res);
    assert.equal(a.status, 400, `${what}: invalid_grant expected, got ${a.status} ${JSON.stringify(a.json)}${logTail()}`);
    assert.equal(a.json.error, 'invalid_grant', what);
}

/** A fresh grant on the AS: registered at, authorized and redeemed at the nodes given. */
async function grant({ registerAt = 'a', pageAt = 'a', postAt = pageAt, redeemAt = 'a' } = {}) {
    const client = await register(node(registerAt), `http://127.0.0.1:${env.cbPort}/cb/${randomBytes(4).toString('hex')}`);
    const { verifier, challenge } = pkce();
    const { code } = await authorize(authorizeUrl(env.issuer, client, challenge), { pageAt: node(pageAt), postAt: node(postAt) });
    const tokens = redeemAt ? await okTokens(await redeem(node(redeemAt), client, code, verifier), 'redeem') : undefined;
    return { client, code, verifier, challenge, tokens };
}

/** tools/call whoami on `base` with `token`, stateless: { status, challenge, user }. */
async function whoami(base, token) {
    const res = await fetch(`${base}/mcp`, {
        method: 'POST',
        headers: {
            'Content-Type': 'application/json', Accept: 'application/json, text/event-stream',
            'MCP-Protocol-Version': LATEST_PROTOCOL_VERSION, Authorization: `Bearer ${token}`,
        },
        body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'tools/call', params: { name: 'whoami', arguments: {} } }),
    });
    const text = await res.text();
    let user;
    if (res.status === 200) user = JSON.parse(JSON.parse(text).result.content[0].text).user;
    return { status: res.status, challenge: res.headers.get('www-authenticate') || '', user, node: res.headers.get('x-node') };
}

/**
 * Polls whoami on `base` until the token is refused as revoked; resolves
 * with the milliseconds from `since`. Fails past `limitMs`.
 */
async function refusedWithin(base, token, since, limitMs) {
    for (;;) {
        const r = await whoami(base, token);
        const ms = Date.now() - since;
        if (r.status === 401) {
            assert.match(r.challenge, /revoked/, `refused as revoked (not expired): ${r.challenge}`);
            return ms;
        }
        assert.equal(r.status, 200, `still accepted or refused: ${JSON.stringify(r)}`);
        if (ms > limitMs) assert.fail(`still accepted ${ms} ms after the revocation${logTail()}`);
        await sleep(20);
    }
}

function toolJson(result) {
    assert.equal(result.isError, undefined, `tool error: ${JSON.stringify(result)}`);
    return JSON.parse(result.content[0].text);
}

/** The SDK's OAuthClientProvider, the consent over HTTP through `f` (recorded). */
class FleetProvider {
    constructor(redirectUrl, f) {
        this._redirectUrl = redirectUrl;
        this.f = f;
        this.tokenHistory = [];
        this.states = [];
    }

    get redirectUrl() { return this._redirectUrl; }

    get clientMetadata() {
        return {
            client_name: 'fleet MCP SDK client', redirect_uris: [this._redirectUrl],
            grant_types: ['authorization_code', 'refresh_token'], response_types: ['code'],
            token_endpoint_auth_method: 'none',
        };
    }

    state() { const s = randomBytes(16).toString('base64url'); this.states.push(s); return s; }
    clientInformation() { return this._client; }
    saveClientInformation(info) { this._client = info; }
    tokens() { return this._tokens; }
    saveTokens(t) { this._tokens = t; this.tokenHistory.push(t); }
    saveCodeVerifier(v) { this._verifier = v; }
    codeVerifier() { return this._verifier; }

    /*
     * The page through the balancer, the approval sent to another node
     * than the page's: the SDK's next three requests (the two metadata
     * documents again, then /token) go round robin back to the page's node,
     * so the code is redeemed on another node than the one that issued it.
     */
    async redirectToAuthorization(url) {
        const other = (name) => node(NODES[(NODES.indexOf(name) + 1) % NODES.length]);
        const { location } = await authorize(url, { f: this.f, postAt: other });
        assert.equal(location.searchParams.get('state'), this.states.at(-1));
        assert.equal(location.searchParams.get('iss'), env.issuer);
        this.code = location.searchParams.get('code');
    }
}

/** The SDK client's whole flow through `resource`, recording into `log`. */
async function sdkFlow(log, { between } = {}) {
    const f = recordingFetch(log);
    const provider = new FleetProvider(`http://127.0.0.1:${env.cbPort}/sdk`, f);
    const clients = [];
    try {
        const c1 = new Client({ name: 'fleet-sdk', version: '0' });
        clients.push(c1);
        const t1 = new StreamableHTTPClientTransport(new URL(env.resource), { authProvider: provider, fetch: f });
        await assert.rejects(c1.connect(t1), (err) => {
            assert.ok(err instanceof UnauthorizedError, `UnauthorizedError expected: ${err?.stack || err}${logTail()}`);
            return true;
        });
        if (between) await between();
        await t1.finishAuth(provider.code);
        const c2 = new Client({ name: 'fleet-sdk', version: '0' });
        clients.push(c2);
        await c2.connect(new StreamableHTTPClientTransport(new URL(env.resource), { authProvider: provider, fetch: f }));
        assert.deepEqual(toolJson(await c2.callTool({ name: 'whoami', arguments: {} })), { user: USER });
        return { provider, client: c2 };
    } catch (e) {
        await Promise.allSettled(clients.map((c) => c.close()));
        throw e;
    } finally {
        clients.pop();
        await Promise.allSettled(clients.map((c) => c.close()));
    }
}

// ------------------------------------------------------------ the bridge --

/**
 * A bridge flow up to the IAM's redirect to the callback (not followed):
 * the consent page and its approval on `consentAt`, the IAM's sign-in
 * (oidc-provider). Resolves with { callback (URL), jar, client, verifier, nodes }.
 */
async function bridgeToCallback({ consentAt }) {
    const issuer = env.brIssuer;
    const client = await register(env.br[consentAt], `http://127.0.0.1:${env.cbPort}/br`, 'fleet bridge client');
    const { verifier, challenge } = pkce();
    const url = authorizeUrl(issuer, client, challenge);
    const jar = new CookieJar();
    const page = await jarFetch(jar, at(env.br[consentAt], url));
    const html = await page.text();
    assert.equal(page.status, 200, `bridge consent page: ${html}${logTail()}`);
    const { action, hidden } = consentForm(html, url.href);
    const body = new URLSearchParams(hidden);
    body.append('decision', 'approve');
    const post = await jarFetch(jar, at(env.br[consentAt], action), {
        method: 'POST', body, headers: { 'Content-Type': 'application/x-www-form-urlencoded' },
    });
    await post.text();
    assert.equal(post.status, 302, `bridge consent POST${logTail()}`);
    const toIam = new URL(post.headers.get('location'));
    assert.equal(`${toIam.origin}${toIam.pathname}`, env.iam.metadata.authorization_endpoint);
    const { location: callback } = await browse(toIam, jar, {
        stopAt: (u) => u.origin === issuer && u.pathname === '/callback',
    });
    return { callback, jar, client, verifier, nodes: { consent: page.headers.get('x-node'), approve: post.headers.get('x-node') } };
}

/**
 * One bridge flow: bridgeToCallback(), the IAM's callback on `callbackAt`,
 * the code redeemed on `redeemAt`. Resolves with the tokens and the nodes.
 */
async function bridgeFlow({ consentAt, callbackAt, redeemAt }) {
    const { callback, jar, client, verifier, nodes } = await bridgeToCallback({ consentAt });
    const cb = await jarFetch(jar, at(env.br[callbackAt], callback));
    const cbText = await cb.text();
    assert.equal(cb.status, 302, `GET /callback on ${callbackAt}: ${cb.status} ${cbText}${logTail()}`);
    const back = new URL(cb.headers.get('location'));
    assert.equal(back.searchParams.get('error'), null, `bridge error: ${back}${logTail()}`);
    assert.equal(back.searchParams.get('iss'), env.brIssuer);
    const tokens = await okTokens(await redeem(env.br[redeemAt], client, back.searchParams.get('code'), verifier, env.brIssuer),
        'bridge code');
    return { tokens, client, nodes: { ...nodes, callback: cb.headers.get('x-node') } };
}

/**
 * What an anonymous crowd sends the bridge: consent pages, approvals (each
 * with the cookie its page set), callbacks with random states, and
 * callbacks with a real sealed state but a made-up IAM code; and the AS's
 * /authorize with no user. `n` requests in all, `width` at once.
 */
async function flood(n, width = 16) {
    const client = env.floodClient;
    const statuses = {};
    const count = (k) => { statuses[k] = (statuses[k] || 0) + 1; };
    const bases = [...NODES.map((x) => env.br[x]), env.brIssuer];
    let sent = 0;
    const one = async (i) => {
        const base = bases[i % bases.length];
        const kind = i % 5;
        if (kind === 0) {
            const r = await fetch(`${base}/callback?state=${randomBytes(24).toString('base64url')}&code=${randomBytes(16).toString('hex')}`);
            await r.text();
            count(`callback(random state) ${r.status}`);
            sent += 1;
        } else if (kind === 1) {
            const r = await fetch(at(node(NODES[i % 3]), authorizeUrl(env.issuer, env.asFloodClient, pkce().challenge)),
                { redirect: 'manual' });
            await r.text();
            count(`as authorize(no user) ${r.status}`);
            sent += 1;
        } else {
            const jar = new CookieJar();
            const url = authorizeUrl(env.brIssuer, client, pkce().challenge);
            const page = await jarFetch(jar, at(base, url));
            const html = await page.text();
            count(`bridge authorize ${page.status}`);
            sent += 1;
            if (kind === 2 || page.status !== 200) return;
            const { action, hidden } = consentForm(html, url.href);
            const body = new URLSearchParams(hidden);
            body.append('decision', 'approve');
            const post = await jarFetch(jar, at(base, action), {
                method: 'POST', body, headers: { 'Content-Type': 'application/x-www-form-urlencoded' },
            });
            await post.text();
            count(`bridge approve ${post.status}`);
            sent += 1;
            if (kind === 3 || post.status !== 302) return;
            const state = new URL(post.headers.get('location')).searchParams.get('state');
            const cb = await jarFetch(jar, `${bases[(i + 1) % bases.length]}/callback?state=${encodeURIComponent(state)}&code=made-up-${i}`);
            await cb.text();
            count(`callback(sealed state, made-up code) ${cb.status}`);
            sent += 1;
        }
    };
    let next = 0;
    await Promise.all(Array.from({ length: width }, async () => {
        while (sent < n) await one(next++);
    }));
    return { sent, statuses };
}

// ================================================================= suite --

describe('a fleet: three nodes, one authorization server, its state in Redis', { timeout: 120000 }, () => {
    before(async () => {
        const ports = await freePorts(12);
        const take = () => ports.shift();
        env.ports = { a: take(), b: take(), c: take() };
        env.brPorts = { a: take(), b: take(), c: take() };
        env.lbPort = take();
        env.lbBrPort = take();
        env.cbPort = take();
        env.issuer = `http://127.0.0.1:${env.lbPort}`;
        env.resource = `${env.issuer}/mcp`;
        env.brIssuer = `http://127.0.0.1:${env.lbBrPort}`;
        const [redisPort, upstreamPort, iamPort] = [take(), take(), take()];

        env.redis = await h.redis({ port: redisPort });
        env.upstream = await h.mcpServer({ port: upstreamPort, json: true });
        env.iam = await startOidcProvider({
            port: iamPort,
            resources: [`${env.brIssuer}/mcp`],
            clients: [{
                client_id: IAM_CLIENT_ID, client_secret: IAM_SECRET,
                redirect_uris: [`${env.brIssuer}/callback`],
                grant_types: ['authorization_code', 'refresh_token'], response_types: ['code'],
                token_endpoint_auth_method: 'client_secret_basic',
            }],
        });
        await Promise.all(NODES.map(startNode));
        env.lb = await h.nginx({
            template: LB_CONF,
            vars: {
                PORT: env.lbPort, LB_BR_PORT: env.lbBrPort,
                A: env.ports.a, B: env.ports.b, C: env.ports.c,
                A_BR: env.brPorts.a, B_BR: env.brPorts.b, C_BR: env.brPorts.c,
            },
        });
        const jwk = JSON.parse(readFileSync(join(DATA_DIR, 'signing', 'ec.public.jwk'), 'utf8'));
        env.kid = jwk.kid;
    });

    after(async () => {
        await h.stop();
        await env.iam?.close();
    });

    it('the MCP SDK client\'s whole flow through the balancer is served by every node', async () => {
        const log = [];
        const { provider, client } = await sdkFlow(log);
        try {
            const seq = log.map((e) => `${e.method} ${e.path} ${e.status} ${e.node}`);
            const first = (method, path, pred = () => true) => log.find((e) => e.method === method && e.path === path && pred(e));
            assert.equal(seq[0].replace(/ [abc]$/, ''), 'POST /mcp 401', seq.join('\n'));
            const consent = first('POST', '/authorize');
            const codeGrant = first('POST', '/token', (e) => /grant_type=authorization_code/.test(e.body));
            const mcp = first('POST', '/mcp', (e) => e.status === 200);
            assert.ok(consent && codeGrant && mcp, seq.join('\n'));
            assert.notEqual(consent.origin, env.issuer, 'the approval went to a node directly');
            assert.notEqual(consent.node, codeGrant.node, `the code was issued on one node and redeemed on another:\n${seq.join('\n')}`);
            assert.ok(new Set([consent.node, codeGrant.node, mcp.node]).size >= 2, seq.join('\n'));
            assert.deepEqual([...new Set(log.map((e) => e.node))].sort(), NODES, `every node served a step:\n${seq.join('\n')}`);

            // past the access token's life: a 401, the SDK refreshes (another node), the call succeeds
            const claims = jose.decodeJwt(provider.tokens().access_token);
            assert.equal(jose.decodeProtectedHeader(provider.tokens().access_token).kid, env.kid);
            assert.equal(claims.iss, env.issuer);
            const waitMs = claims.exp * 1000 + 1200 - Date.now();
            if (waitMs > 0) await sleep(waitMs);
            const mark = log.length;
            assert.deepEqual(toolJson(await client.callTool({ name: 'whoami', arguments: {} })), { user: USER });
            const since = log.slice(mark);
            const ref = since.find((e) => e.path === '/token');
            assert.ok(ref && ref.status === 200 && /grant_type=refresh_token/.test(ref.body),
                `a refresh: ${since.map((e) => `${e.method} ${e.path} ${e.status} ${e.node}`).join(', ')}${logTail()}`);
            assert.equal(provider.tokenHistory.length, 2);
            assert.equal(jose.decodeJwt(provider.tokens().access_token).sid, claims.sid, 'the same grant');
            process.stderr.write(`sdk flow: ${log.map((e) => `${e.method} ${e.path} ${e.status}@${e.node}`).join(', ')}\n`);
        } finally {
            await client.close();
        }
    });

    it('a consent given on a is remembered on b and c (no page: a code at once)', async () => {
        const g = await grant({ pageAt: 'a', redeemAt: null });
        for (const name of ['b', 'c']) {
            const { verifier, challenge } = pkce();
            const res = await fetch(at(node(name), authorizeUrl(env.issuer, g.client, challenge)),
                { headers: { Authorization: BASIC }, redirect: 'manual' });
            await res.text();
            assert.equal(res.status, 302, `GET /authorize on ${name}: the remembered consent${logTail()}`);
            const code = new URL(res.headers.get('location')).searchParams.get('code');
            await okTokens(await redeem(node(name), g.client, code, verifier), `the code of ${name}`);
        }
    });

    it('a code redeemed on a, replayed on b: invalid_grant, and a\'s tokens are refused on c within the bound', async () => {
        const g = await grant({ pageAt: 'c', postAt: 'c', redeemAt: 'a' });
        assert.equal((await whoami(node('c'), g.tokens.access_token)).status, 200, 'accepted on c first');
        const t0 = Date.now();
        await invalidGrant(await redeem(node('b'), g.client, g.code, g.verifier), 'the code replayed on b');
        const ms = await refusedWithin(node('c'), g.tokens.access_token, t0, BOUND_MS);
        process.stderr.write(`code replay on b: a's access token refused on c after ${ms} ms\n`);
        await invalidGrant(await refresh(node('a'), g.client, g.tokens.refresh_token), 'the refresh token of the replayed code');
    });

    it('one code redeemed on a and b at once: exactly one 200, the other invalid_grant', async () => {
        for (let i = 0; i < 3; i++) {
            const g = await grant({ redeemAt: null });
            const both = await Promise.all([
                redeem(node('a'), g.client, g.code, g.verifier).then(answer),
                redeem(node('b'), g.client, g.code, g.verifier).then(answer),
            ]);
            const statuses = both.map((x) => x.status).sort();
            assert.deepEqual(statuses, [200, 400], `race ${i}: ${JSON.stringify(both)}${logTail()}`);
            const lost = both.find((x) => x.status === 400);
            assert.equal(lost.json.error, 'invalid_grant');
            // the loser revoked the grant: the winner's tokens die too
            const won = both.find((x) => x.status === 200).json;
            await refusedWithin(node('c'), won.access_token, Date.now(), BOUND_MS + 1000);
        }
    });

    it('a refresh token rotated on a and reused on b: invalid_grant, and the new one no longer works', async () => {
        const g = await grant({ redeemAt: 'c' });
        const rotated = await okTokens(await refresh(node('a'), g.client, g.tokens.refresh_token), 'rotation on a');
        assert.notEqual(rotated.refresh_token, g.tokens.refresh_token);
        assert.equal((await whoami(node('c'), rotated.access_token)).status, 200);
        const t0 = Date.now();
        await invalidGrant(await refresh(node('b'), g.client, g.tokens.refresh_token), 'the old refresh token on b');
        await invalidGrant(await refresh(node('c'), g.client, rotated.refresh_token), 'the rotated refresh token on c');
        const ms = await refusedWithin(node('c'), rotated.access_token, t0, BOUND_MS);
        process.stderr.write(`refresh reuse on b: the new access token refused on c after ${ms} ms\n`);
    });

    it(`a revocation on a is refused on b within sync + 1 s (sync=${SYNC_MS}ms)`, async () => {
        const times = [];
        for (let i = 0; i < 3; i++) {
            const g = await grant({ redeemAt: 'b' });
            // b has verified (and cached) the token
            assert.equal((await whoami(node('b'), g.tokens.access_token)).status, 200);
            assert.equal((await whoami(node('b'), g.tokens.access_token)).status, 200);
            const t0 = Date.now();
            const res = await fetch(`${node('a')}/revoke`, {
                method: 'POST', headers: { 'Content-Type': 'application/x-www-form-urlencoded' },
                body: new URLSearchParams({ token: g.tokens.access_token, client_id: g.client.client_id }),
            });
            await res.text();
            assert.equal(res.status, 200);
            assert.equal(res.headers.get('x-node'), 'a');
            times.push(await refusedWithin(node('b'), g.tokens.access_token, t0, BOUND_MS));
            await invalidGrant(await refresh(node('c'), g.client, g.tokens.refresh_token), 'a revoked grant\'s refresh token on c');
        }
        process.stderr.write(`revocation on a -> refused on b after ${times.join(', ')} ms (bound ${BOUND_MS} ms)\n`);
        for (const t of times) assert.ok(t < BOUND_MS, `${t} ms`);
    });

    it('the bridge across nodes: consent on a, the IAM\'s callback on b, the code redeemed on c', async () => {
        const r = await bridgeFlow({ consentAt: 'a', callbackAt: 'b', redeemAt: 'c' });
        assert.deepEqual(r.nodes, { consent: 'a', approve: 'a', callback: 'b' });
        const claims = jose.decodeJwt(r.tokens.access_token);
        assert.equal(claims.iss, env.brIssuer);
        assert.equal(claims.sub, LOGIN, 'the IAM\'s user');
        const who = await whoami(env.br.a, r.tokens.access_token);
        assert.equal(who.status, 200);
        assert.equal(who.user, LOGIN);
        // the refresh is the fleet's own
        const rotated = await okTokens(await refresh(env.br.b, r.client, r.tokens.refresh_token), 'bridge refresh on b');
        await invalidGrant(await refresh(env.br.a, r.client, r.tokens.refresh_token), 'the bridge\'s old refresh token on a');
        assert.ok(rotated.access_token);
    });

    it('an anonymous flood of the bridge and of /authorize stores nothing in Redis, and a real flow completes during it', async () => {
        env.floodClient = await register(env.br.a, `http://127.0.0.1:${env.cbPort}/flood`, 'flood target');
        env.asFloodClient = await register(node('a'), `http://127.0.0.1:${env.cbPort}/flood`, 'flood target');
        const before0 = await keys();
        const t0 = Date.now();
        const alone = await flood(300);
        const afterAlone = await keys();
        process.stderr.write(`flood alone: ${alone.sent} requests in ${Date.now() - t0} ms ${JSON.stringify(alone.statuses)}; `
            + `DBSIZE ${before0.size} -> ${afterAlone.size}\n`);
        assert.deepEqual(added(before0, afterAlone), [], 'the anonymous flood stored nothing in Redis');
        assert.ok(!Object.keys(alone.statuses).some((k) => / 5\d\d$/.test(k)), JSON.stringify(alone.statuses));

        // one real flow alone, then one during the flood: as many keys added
        const before1 = await keys();
        await bridgeFlow({ consentAt: 'b', callbackAt: 'c', redeemAt: 'a' });
        const realKeys = added(before1, await keys()).length;
        const before2 = await keys();
        const [during, real] = await Promise.all([
            flood(300),
            (async () => { await sleep(100); return bridgeFlow({ consentAt: 'c', callbackAt: 'a', redeemAt: 'b' }); })(),
        ]);
        const grown = added(before2, await keys()).length;
        process.stderr.write(`flood during a real flow: ${during.sent} requests; a real flow adds ${realKeys} keys, with the flood ${grown}; `
            + `DBSIZE ${await dbsize()}\n`);
        assert.equal((await whoami(env.br.a, real.tokens.access_token)).status, 200);
        assert.equal(grown, realKeys, 'only the real flow stored anything');
    });

    it('kill -9 of a node mid-flow: the flow completes through the others', async () => {
        const log = [];
        let killed;
        try {
            const { client } = await sdkFlow(log, {
                between: async () => {
                    // the next request of round robin goes to the node after the last one
                    const last = log.filter((e) => e.origin === env.issuer).at(-1).node;
                    killed = NODES[(NODES.indexOf(last) + 1) % 3];
                    env.nodes[killed].child.kill('SIGKILL');
                    await new Promise((r) => (env.nodes[killed].child.exitCode !== null || env.nodes[killed].child.signalCode !== null
                        ? r() : env.nodes[killed].child.once('exit', r)));
                    log.push({ method: 'kill -9', path: 'node', status: '', node: killed });
                },
            });
            await client.close();
            const after = log.slice(log.findIndex((e) => e.method === 'kill -9') + 1);
            const seq = log.map((e) => `${e.method} ${e.path} ${e.status} ${e.node}`).join('\n');
            assert.ok(after.some((e) => e.path === '/token' && e.status === 200), seq);
            assert.ok(after.every((e) => e.node !== killed), `nothing from the killed node:\n${seq}`);
            assert.ok(after.every((e) => e.status < 500), seq);
            assert.match(env.lb.errorLog(), new RegExp(`connect\\(\\) failed .*upstream: "http://127\\.0\\.0\\.1:${env.ports[killed]}/`),
                'the balancer tried the killed node and went on');
            process.stderr.write(`kill -9 of ${killed}: ${log.map((e) => `${e.method} ${e.path} ${e.status}@${e.node}`).join(', ')}\n`);
        } finally {
            // it comes back (a fresh zone: it learns the fleet's revocations from Redis)
            if (killed) await startNode(killed);
        }
    });

    it('a Redis restart mid-flow: a code and a refresh token issued before it still work (AOF)', async () => {
        const g = await grant({ redeemAt: 'a' });
        const pending = await grant({ redeemAt: null });
        const keys = await dbsize();
        const t0 = Date.now();
        await env.redis.stop();
        await env.redis.start();
        process.stderr.write(`redis restarted in ${Date.now() - t0} ms; DBSIZE ${keys} -> ${await dbsize()}\n`);
        assert.equal(await dbsize(), keys, 'the AOF kept every key');
        await okTokens(await redeem(node('b'), pending.client, pending.code, pending.verifier), 'a code from before the restart');
        const rotated = await okTokens(await refresh(node('c'), g.client, g.tokens.refresh_token), 'a refresh token from before');
        assert.equal((await whoami(node('a'), rotated.access_token)).status, 200);
        await invalidGrant(await refresh(node('b'), g.client, g.tokens.refresh_token), 'reuse detection survived the restart');
    });

    it('Redis down: /token 503 temporarily_unavailable, the consent POST a 503 page, /mcp still 200; back: /token works, no nginx restart', async () => {
        const g = await grant({ redeemAt: 'a' });
        const pending = await grant({ redeemAt: null });
        // a consent form for a new client, shown while Redis is up
        const client = await register(node('b'), `http://127.0.0.1:${env.cbPort}/down`);
        const url = authorizeUrl(env.issuer, client, pkce().challenge);
        const page = await fetch(at(node('b'), url), { headers: { Authorization: BASIC } });
        const { action, hidden } = consentForm(await page.text(), url.href);

        await env.redis.stop();
        let bridge;
        try {
            // the bridge's consent and the IAM's sign-in need no state; the callback does
            bridge = await bridgeToCallback({ consentAt: 'a' });
            const cb = await jarFetch(bridge.jar, at(env.br.b, bridge.callback));
            const cbHtml = await cb.text();
            assert.equal(cb.status, 503, `the bridge callback with Redis down: ${cb.status} ${cbHtml}${logTail()}`);
            assert.equal(cb.headers.get('location'), null, 'no redirect with a code');
            assert.match(cb.headers.get('content-type') || '', /text\/html/);

            for (const name of NODES) {
                const a = await answer(await refresh(node(name), g.client, g.tokens.refresh_token));
                assert.equal(a.status, 503, `refresh on ${name} with Redis down: ${JSON.stringify(a.json)}${logTail()}`);
                assert.equal(a.json.error, 'temporarily_unavailable');
                assert.equal(a.node, name);
            }
            const code = await answer(await redeem(node('c'), pending.client, pending.code, pending.verifier));
            assert.equal(code.status, 503, JSON.stringify(code.json));
            assert.equal(code.json.error, 'temporarily_unavailable');

            const body = new URLSearchParams(hidden);
            body.append('decision', 'approve');
            const post = await fetch(at(node('b'), action), {
                method: 'POST', body, redirect: 'manual',
                headers: { Authorization: BASIC, 'Content-Type': 'application/x-www-form-urlencoded' },
            });
            const html = await post.text();
            assert.equal(post.status, 503, `the consent POST with Redis down: ${post.status} ${html}${logTail()}`);
            assert.equal(post.headers.get('location'), null, 'no redirect with a code');
            assert.match(post.headers.get('content-type') || '', /text\/html/);

            for (const name of NODES) {
                const who = await whoami(node(name), g.tokens.access_token);
                assert.equal(who.status, 200, `/mcp on ${name} with Redis down: ${JSON.stringify(who)}${logTail()}`);
            }
            const said = NODES.map((n) => env.nodes[n].errorLog()).join('\n');
            assert.match(said, /mcp_oauth.*(redis|state)/i, 'an error log line names the cause');
        } finally {
            await env.redis.start();
        }
        // back: the same nginx processes answer again
        const rotated = await okTokens(await refresh(node('a'), g.client, g.tokens.refresh_token), 'refresh with Redis back');
        await okTokens(await redeem(node('b'), pending.client, pending.code, pending.verifier), 'the pending code with Redis back');
        const body = new URLSearchParams(hidden);
        body.append('decision', 'approve');
        const post = await fetch(at(node('c'), action), {
            method: 'POST', body, redirect: 'manual',
            headers: { Authorization: BASIC, 'Content-Type': 'application/x-www-form-urlencoded' },
        });
        await post.text();
        assert.equal(post.status, 302, `the consent POST with Redis back${logTail()}`);
        assert.ok(new URL(post.headers.get('location')).searchParams.get('code'));
        assert.equal((await whoami(node('c'), rotated.access_token)).status, 200);
        // the callback refused while Redis was down works now (the IAM's code was not spent)
        const cb = await jarFetch(bridge.jar, at(env.br.c, bridge.callback));
        await cb.text();
        assert.equal(cb.status, 302, `the bridge callback with Redis back${logTail()}`);
        const back = new URL(cb.headers.get('location'));
        assert.equal(back.searchParams.get('error'), null, `${back}`);
        await okTokens(await redeem(env.br.a, bridge.client, back.searchParams.get('code'), bridge.verifier, env.brIssuer),
            'the bridge code with Redis back');
    });

    it('Redis frozen (accepts, never answers): /token 503 after the read timeout, /mcp still 200; thawed: /token works', async () => {
        const g = await grant({ redeemAt: 'a' });
        env.redis.signal('SIGSTOP');
        try {
            const t0 = Date.now();
            const a = await answer(await refresh(node('b'), g.client, g.tokens.refresh_token));
            const ms = Date.now() - t0;
            assert.equal(a.status, 503, `refresh with Redis frozen: ${JSON.stringify(a.json)}${logTail()}`);
            assert.equal(a.json.error, 'temporarily_unavailable');
            assert.ok(ms >= 900 && ms < 3000, `answered after the read timeout (1s): ${ms} ms`);
            // a sync is due on c: the requests that come then wait for it (the read timeout), once
            await sleep(SYNC_MS);
            const timed = async () => {
                const m = Date.now();
                const who = await whoami(node('c'), g.tokens.access_token);
                assert.equal(who.status, 200, `/mcp with Redis frozen: ${JSON.stringify(who)}${logTail()}`);
                return Date.now() - m;
            };
            const due = await Promise.all(Array.from({ length: 5 }, timed));
            const later = [await timed(), await timed()];
            process.stderr.write(`redis frozen: /token 503 after ${ms} ms; /mcp 200 after ${due.join(', ')} ms (5 at once, a sync due), `
                + `then ${later.join(', ')} ms\n`);
            for (const t of later) assert.ok(t < 500, `a failed sync is not retried at once: ${t} ms`);
            assert.match(env.nodes.b.errorLog(), /timed out/, 'the error log says Redis timed out');
        } finally {
            env.redis.signal('SIGCONT');
        }
        await okTokens(await refresh(node('b'), g.client, g.tokens.refresh_token), 'refresh with Redis thawed');
    });

    it('no node logged an alert, crit or emerg', () => {
        for (const [name, ngx] of [...Object.entries(env.nodes), ['lb', env.lb]]) {
            assert.equal(ngx.child.exitCode, null, `${name} is running`);
            const bad = ngx.errorLog().split('\n').filter((l) => /\[(alert|crit|emerg)\]/.test(l));
            assert.deepEqual(bad, [], `node ${name}`);
        }
    });
});
