// End-to-end: the built-in OAuth authorization server
// (docs/authorization-server.md) driven by real clients, with nginx +
// ngx_mcp_oauth_module as both the authorization server and the resource
// server in front of the SDK MCP server (e2e/mcp-server.mjs).
//
//   cd t && npm ci && node --test e2e/as.test.mjs
//
// 1. the MCP SDK client (StreamableHTTPClientTransport + an OAuthClientProvider):
//    401 -> protected resource metadata -> AS metadata -> DCR -> /authorize
//    (consent over HTTP) -> /token -> tools through nginx; then, past a short
//    mcp_oauth_token_ttl, the SDK refreshes on the 401 and the call succeeds.
// 2. openid-client v6: discovery, DCR, PKCE S256 + state + resource,
//    authorizationCodeGrant (checks `iss`), the token on /mcp, a refresh.
// 3. headless Chromium (playwright-core, Debian's /usr/bin/chromium): the
//    consent page renders with the client and the scopes, Approve redirects
//    to a loopback callback with code, state and iss.
//
// The user signs in to /authorize with auth_basic (alice / wonderland); the
// module takes it from $remote_user (the default mcp_oauth_user).

import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import { execFileSync } from 'node:child_process';
import { createHash, createPublicKey, randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import * as jose from 'jose';
import * as oidc from 'openid-client';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { UnauthorizedError } from '@modelcontextprotocol/sdk/client/auth.js';
import { LATEST_PROTOCOL_VERSION } from '@modelcontextprotocol/sdk/types.js';
import { E2E_DIR, Harness, freePorts, httpConf, AS_ENDPOINTS, MCP_PROXY, recordingFetch } from './lib.mjs';

const CHROMIUM = process.env.CHROMIUM_PATH || '/usr/bin/chromium';
const ARTIFACTS = join(E2E_DIR, 'artifacts');

const USER = 'alice';
const PASSWORD = 'wonderland';
const BASIC = `Basic ${Buffer.from(`${USER}:${PASSWORD}`).toString('base64')}`;
const ALL_SCOPES = ['mcp:tools', 'read:application', 'write:application'];

const NGINX_CONF = httpConf(`
    server {
        listen 127.0.0.1:{{PORT}};
        server_name localhost;

        # the authorization server
        mcp_oauth_issuer http://127.0.0.1:{{PORT}};
        mcp_oauth_signing_key {{SIGNING_KEY}};
        mcp_oauth_scopes_supported mcp:tools read:application write:application;
        mcp_oauth_token_ttl {{TOKEN_TTL}};

        # the resource server, verifying the tokens issued above
        mcp_oauth_resource http://127.0.0.1:{{PORT}}/mcp;

        location = /.well-known/oauth-protected-resource/mcp { mcp_oauth_metadata; }
        location = /.well-known/oauth-authorization-server   { mcp_oauth_server_metadata; }
        location = /.well-known/openid-configuration         { mcp_oauth_server_metadata; }

${AS_ENDPOINTS}
        location /mcp {
            mcp_oauth on;
            mcp_oauth_leeway 0;
            mcp_oauth_required_scope mcp:tools;
            mcp_oauth_scope create_app write:application;

${MCP_PROXY}
        }
    }
`);

// ------------------------------------------------------------- fixtures --

/**
 * One authorization server (nginx) + the MCP server behind it, with a fresh
 * EC P-256 signing key and htpasswd in a temp dir. Registers before/after.
 */
function authorizationServer({ tokenTtl = '1h', json = true } = {}) {
    const h = new Harness();
    const env = { h };
    let tmp;

    before(async () => {
        tmp = mkdtempSync(join(tmpdir(), 'mcp-e2e-as-'));
        env.keyPath = join(tmp, 'signing.pem');
        execFileSync('openssl', ['genpkey', '-algorithm', 'EC', '-pkeyopt', 'ec_paramgen_curve:P-256',
            '-out', env.keyPath], { stdio: ['ignore', 'ignore', 'pipe'] });
        const htpasswd = join(tmp, 'htpasswd');
        writeFileSync(htpasswd, `${USER}:{PLAIN}${PASSWORD}\n`);

        const [port, upstreamPort] = await freePorts(2);
        env.port = port;
        env.issuer = `http://127.0.0.1:${port}`;
        env.resource = `${env.issuer}/mcp`;
        env.prmUrl = `${env.issuer}/.well-known/oauth-protected-resource/mcp`;
        env.upstream = await h.mcpServer({ port: upstreamPort, json });
        env.ngx = await h.nginx({
            template: NGINX_CONF,
            vars: { PORT: port, UPSTREAM_PORT: upstreamPort, SIGNING_KEY: env.keyPath, HTPASSWD: htpasswd, TOKEN_TTL: tokenTtl },
        });
        const jwk = createPublicKey(readFileSync(env.keyPath)).export({ format: 'jwk' });
        env.kid = await jose.calculateJwkThumbprint(jwk, 'sha256');
    });

    after(async () => {
        await h.stop();
        if (tmp) rmSync(tmp, { recursive: true, force: true });
    });

    return env;
}

function assertNoCrash(env) {
    assert.equal(env.ngx.child.exitCode, null, 'nginx is still running');
    assert.equal(env.ngx.child.signalCode, null, 'nginx is still running');
    const bad = env.ngx.errorLog().split('\n').filter((l) => /\[(alert|crit|emerg)\]/.test(l));
    assert.deepEqual(bad, []);
}

/** The last lines of the nginx error log, for assertion messages. */
function logTail(env, n = 15) {
    return `\n--- nginx error.log (tail):\n${env.ngx.errorLog().split('\n').slice(-n).join('\n')}`;
}

// ---------------------------------------------------------------- helpers --

function b64url(buf) {
    return Buffer.from(buf).toString('base64url');
}

function pkce() {
    const verifier = b64url(randomBytes(32));
    const challenge = b64url(createHash('sha256').update(verifier).digest());
    return { verifier, challenge };
}

function decodeEntities(s) {
    return s.replace(/&(#x[0-9a-f]+|#[0-9]+|amp|lt|gt|quot|apos);/gi, (m, e) => {
        const l = e.toLowerCase();
        if (l === 'amp') return '&';
        if (l === 'lt') return '<';
        if (l === 'gt') return '>';
        if (l === 'quot') return '"';
        if (l === 'apos') return "'";
        if (l.startsWith('#x')) return String.fromCodePoint(parseInt(l.slice(2), 16));
        return String.fromCodePoint(parseInt(l.slice(1), 10));
    });
}

function attributes(tag) {
    const attrs = {};
    const body = tag.replace(/^<\s*[a-z]+/i, '').replace(/\/?>$/, '');
    for (const m of body.matchAll(/([^\s=/>"']+)(?:\s*=\s*(?:"([^"]*)"|'([^']*)'|([^\s>"']+)))?/g)) {
        attrs[m[1].toLowerCase()] = decodeEntities(m[2] ?? m[3] ?? m[4] ?? '');
    }
    return attrs;
}

/**
 * The consent form of a page: its action (absolute), method, hidden inputs
 * (in order), ticked checkboxes and the decision buttons' values.
 */
function parseConsentForm(html, pageUrl) {
    const forms = [...html.matchAll(/<form\b[^>]*>[\s\S]*?<\/form>/gi)].map((m) => m[0]);
    const form = forms.find((f) => /name\s*=\s*["']?decision/i.test(f));
    assert.ok(form, `no form with a "decision" control in the consent page:\n${html}`);
    const open = attributes(form.match(/<form\b[^>]*>/i)[0]);
    const hidden = [];
    const ticked = [];
    for (const m of form.matchAll(/<input\b[^>]*>/gi)) {
        const a = attributes(m[0]);
        const type = (a.type || '').toLowerCase();
        if (type === 'hidden' && a.name) hidden.push([a.name, a.value ?? '']);
        // and what a browser posts with them: the ticked checkboxes
        if (type === 'checkbox' && a.name && 'checked' in a && !('disabled' in a)) ticked.push([a.name, a.value ?? 'on']);
    }
    const decisions = [];
    for (const m of form.matchAll(/<(?:button|input)\b[^>]*>/gi)) {
        const a = attributes(m[0]);
        if (a.name === 'decision') decisions.push(a.value);
    }
    return {
        action: new URL(open.action ?? '', pageUrl).href,
        method: (open.method || 'GET').toUpperCase(),
        hidden,
        ticked,
        decisions,
    };
}

/**
 * The consent over HTTP, as the user's browser would do it: GET the
 * authorization URL signed in, parse the form, POST its hidden inputs with
 * `decision`, and return the redirect's Location (a URL) and the pieces.
 */
async function consentOverHttp(authorizationUrl, { issuer, decision = 'approve', auth = BASIC } = {}) {
    const url = String(authorizationUrl);
    const page = await fetch(url, { headers: { Authorization: auth }, redirect: 'manual' });
    const html = await page.text();
    assert.equal(page.status, 200, `GET ${url}: consent page expected, got ${page.status}:\n${html}`);
    assert.equal((page.headers.get('content-type') || '').split(';')[0].trim(), 'text/html');
    assert.equal(page.headers.get('x-frame-options'), 'DENY');
    assert.match(page.headers.get('content-security-policy') || '', /frame-ancestors 'none'/);
    assert.match(page.headers.get('cache-control') || '', /no-store/);

    const form = parseConsentForm(html, url);
    assert.equal(form.method, 'POST');
    assert.equal(form.action, `${issuer}/authorize`);
    assert.deepEqual([...form.decisions].sort(), ['approve', 'deny']);
    const names = form.hidden.map(([n]) => n);
    assert.ok(names.includes('csrf_token'), `hidden inputs: ${names.join(', ')}`);
    // the request's parameters come back as hidden fields
    const req = new URL(url).searchParams;
    for (const [k, v] of req) {
        const got = form.hidden.find(([n]) => n === k);
        assert.ok(got, `the consent form lacks the request parameter ${k}`);
        assert.equal(got[1], v, `hidden ${k}`);
    }

    const body = new URLSearchParams([...form.hidden, ...form.ticked]);
    body.append('decision', decision);
    const res = await fetch(form.action, {
        method: 'POST',
        headers: { Authorization: auth, 'Content-Type': 'application/x-www-form-urlencoded' },
        body,
        redirect: 'manual',
    });
    const text = await res.text();
    assert.ok([302, 303].includes(res.status), `POST ${form.action}: redirect expected, got ${res.status}:\n${text}`);
    const location = res.headers.get('location');
    assert.ok(location, 'the redirect has a Location');
    return { location: new URL(location), form, html };
}

/** A registration by DCR (RFC 7591), checked. */
async function register(env, metadata) {
    const res = await fetch(`${env.issuer}/register`, {
        method: 'POST',
        headers: { 'Content-Type': 'application/json', Accept: 'application/json' },
        body: JSON.stringify(metadata),
    });
    const text = await res.text();
    assert.equal(res.status, 201, `POST /register: ${text}${logTail(env)}`);
    const reg = JSON.parse(text);
    assert.equal(typeof reg.client_id, 'string');
    assert.ok(reg.client_id.length > 0);
    assert.deepEqual(reg.redirect_uris, metadata.redirect_uris);
    for (const [k, v] of Object.entries(reg)) assert.notEqual(v, null, `registration member ${k} is null`);
    return reg;
}

function jwtParts(token) {
    assert.equal(typeof token, 'string');
    const parts = token.split('.');
    assert.equal(parts.length, 3, 'the access token is a JWS (three parts)');
    return { header: jose.decodeProtectedHeader(token), claims: jose.decodeJwt(token) };
}

/** Checks an issued access token against docs/authorization-server.md (RFC 9068). */
async function checkAccessToken(env, token, { clientId, scope, ttl }) {
    const { header, claims } = jwtParts(token);
    assert.equal(header.typ, 'at+jwt');
    assert.equal(header.alg, 'ES256');
    assert.equal(header.kid, env.kid, 'kid is the RFC 7638 thumbprint of the signing key');
    assert.equal(claims.iss, env.issuer);
    assert.equal(claims.sub, USER);
    assert.equal(claims.aud, env.resource);
    assert.equal(claims.client_id, clientId);
    assert.equal(claims.scope, scope);
    assert.equal(typeof claims.jti, 'string');
    assert.equal(typeof claims.sid, 'string');
    assert.equal(typeof claims.iat, 'number');
    assert.equal(claims.exp - claims.iat, ttl);
    assert.ok(Math.abs(claims.iat - Date.now() / 1000) < 30, 'iat is now');

    // the signature verifies with the published JWK Set
    const jwksRes = await fetch(`${env.issuer}/jwks`);
    assert.equal(jwksRes.status, 200);
    const jwks = await jwksRes.json();
    const { payload, protectedHeader } = await jose.jwtVerify(token, jose.createLocalJWKSet(jwks), {
        issuer: env.issuer, audience: env.resource, typ: 'at+jwt', currentDate: new Date(claims.iat * 1000),
    });
    assert.equal(protectedHeader.kid, env.kid);
    return payload;
}

/** A raw JSON-RPC POST to /mcp, as an MCP client sends it. */
function mcpPost(env, body, { token, sessionId } = {}) {
    const headers = {
        'Content-Type': 'application/json',
        Accept: 'application/json, text/event-stream',
        'MCP-Protocol-Version': LATEST_PROTOCOL_VERSION,
    };
    if (token) headers.Authorization = `Bearer ${token}`;
    if (sessionId) headers['Mcp-Session-Id'] = sessionId;
    return fetch(env.resource, { method: 'POST', headers, body: JSON.stringify(body) });
}

/** The JSON-RPC messages of a response, whichever content type it has. */
async function rpcMessages(res) {
    const text = await res.text();
    const type = (res.headers.get('content-type') || '').split(';')[0].trim();
    if (type === 'application/json') return [JSON.parse(text)].flat();
    assert.equal(type, 'text/event-stream', `unexpected content type; body: ${text}`);
    const msgs = [];
    for (const event of text.split(/\r?\n\r?\n/)) {
        const data = event.split(/\r?\n/).filter((l) => l.startsWith('data:'))
            .map((l) => l.slice(5).replace(/^ /, '')).join('\n');
        if (data) msgs.push(JSON.parse(data));
    }
    return msgs;
}

function toolJson(result) {
    assert.equal(result.isError, undefined, `tool error: ${JSON.stringify(result)}`);
    return JSON.parse(result.content[0].text);
}

/**
 * OAuthClientProvider kept in memory: a public client (token_endpoint_auth_method
 * none) with a loopback redirect; the "redirect" to the authorization URL is
 * the consent over HTTP, and the code it brings back waits in `code`.
 */
class InMemoryProvider {
    constructor(env, redirectUrl) {
        this.env = env;
        this._redirectUrl = redirectUrl;
        this._client = undefined;
        this._tokens = undefined;
        this._verifier = undefined;
        this.tokenHistory = [];
        this.authorizationUrls = [];
        this.states = [];
        this.code = undefined;
    }

    get redirectUrl() { return this._redirectUrl; }

    get clientMetadata() {
        return {
            client_name: 'e2e MCP SDK client',
            redirect_uris: [this._redirectUrl],
            grant_types: ['authorization_code', 'refresh_token'],
            response_types: ['code'],
            token_endpoint_auth_method: 'none',
        };
    }

    state() {
        const s = b64url(randomBytes(16));
        this.states.push(s);
        return s;
    }

    clientInformation() { return this._client; }
    saveClientInformation(info) { this._client = info; }
    tokens() { return this._tokens; }
    saveTokens(tokens) { this._tokens = tokens; this.tokenHistory.push(tokens); }
    saveCodeVerifier(v) { this._verifier = v; }
    codeVerifier() {
        if (!this._verifier) throw new Error('no code verifier saved');
        return this._verifier;
    }

    async redirectToAuthorization(url) {
        this.authorizationUrls.push(new URL(url));
        const { location } = await consentOverHttp(url, { issuer: this.env.issuer });
        assert.equal(`${location.origin}${location.pathname}`, this._redirectUrl, 'redirected to the redirect URI');
        const q = location.searchParams;
        assert.equal(q.get('error'), null, `authorization error: ${location}`);
        assert.equal(q.get('state'), this.states.at(-1), 'state comes back');
        assert.equal(q.get('iss'), this.env.issuer, 'iss (RFC 9207)');
        assert.ok(q.get('code'), 'a code');
        this.code = q.get('code');
    }
}

// ================================================================= suites --

describe('built-in AS: MCP SDK client (discovery, DCR, consent, tokens, refresh)', { timeout: 90000 }, () => {
    const TTL = 5;
    const env = authorizationServer({ tokenTtl: `${TTL}s` });
    const clients = [];
    after(async () => {
        await Promise.allSettled(clients.splice(0).map((c) => c.close()));
    });

    it('a bare connect gets 401, discovers, registers, authorizes; the client then calls tools; past the TTL it refreshes', async () => {
        const [cbPort] = await freePorts(1);
        const redirectUrl = `http://127.0.0.1:${cbPort}/callback`;
        const provider = new InMemoryProvider(env, redirectUrl);
        const rec = recordingFetch();

        // --- 1. bare connect: 401, discovery, DCR, the authorization request
        const c1 = new Client({ name: 'e2e-as-sdk', version: '0.0.0' });
        clients.push(c1);
        const t1 = new StreamableHTTPClientTransport(new URL(env.resource), { authProvider: provider, fetch: rec });
        await assert.rejects(c1.connect(t1), (err) => {
            assert.ok(err instanceof UnauthorizedError, `UnauthorizedError expected, got ${err?.stack || err}${logTail(env)}`);
            return true;
        });
        const seq = rec.log.map((e) => `${e.method} ${e.path} ${e.status}`);
        assert.deepEqual(seq, [
            'POST /mcp 401',
            'GET /.well-known/oauth-protected-resource/mcp 200',
            'GET /.well-known/oauth-authorization-server 200',
            'POST /register 201',
        ]);

        const client = provider.clientInformation();
        assert.ok(client?.client_id, 'registered');
        assert.equal(client.client_secret, undefined, 'a public client has no secret');
        assert.equal(client.token_endpoint_auth_method, 'none');
        assert.equal(client.client_name, 'e2e MCP SDK client');
        assert.deepEqual(client.redirect_uris, [redirectUrl]);

        assert.equal(provider.authorizationUrls.length, 1);
        const az = provider.authorizationUrls[0];
        assert.equal(`${az.origin}${az.pathname}`, `${env.issuer}/authorize`);
        assert.equal(az.searchParams.get('response_type'), 'code');
        assert.equal(az.searchParams.get('client_id'), client.client_id);
        assert.equal(az.searchParams.get('code_challenge_method'), 'S256');
        assert.equal(az.searchParams.get('resource'), env.resource);
        assert.equal(az.searchParams.get('scope'), 'mcp:tools', 'the scope of the 401 challenge');
        assert.ok(provider.code, 'the consent brought back a code');

        // --- 2. the code at /token
        await t1.finishAuth(provider.code);
        const tokenCalls = () => rec.log.filter((e) => e.path === '/token');
        assert.equal(tokenCalls().length, 1);
        assert.equal(tokenCalls()[0].status, 200);
        const tokenReq = new URLSearchParams(tokenCalls()[0].body);
        assert.equal(tokenReq.get('grant_type'), 'authorization_code');
        assert.equal(tokenReq.get('resource'), env.resource);
        const first = provider.tokens();
        assert.equal(first.token_type.toLowerCase(), 'bearer');
        assert.equal(first.scope, 'mcp:tools');
        assert.equal(first.expires_in, TTL);
        assert.equal(typeof first.refresh_token, 'string');
        const firstClaims = await checkAccessToken(env, first.access_token,
            { clientId: client.client_id, scope: 'mcp:tools', ttl: TTL });

        // --- 3. reconnect with the token: tools through nginx to the SDK server
        const c2 = new Client({ name: 'e2e-as-sdk', version: '0.0.0' });
        clients.push(c2);
        const t2 = new StreamableHTTPClientTransport(new URL(env.resource), { authProvider: provider, fetch: rec });
        await c2.connect(t2);
        const { tools } = await c2.listTools();
        assert.deepEqual(tools.map((t) => t.name).sort(), ['admin_reset', 'create_app', 'list_apps', 'whoami']);
        const whoBefore = env.upstream.toolCalls('whoami').length;
        assert.deepEqual(toolJson(await c2.callTool({ name: 'whoami', arguments: {} })), { user: USER });
        assert.deepEqual(env.upstream.toolCalls('whoami').slice(whoBefore), [`tool whoami user=${USER}`]);
        assert.equal(tokenCalls().length, 1, 'no second token request while the first token is valid');

        // --- 4. past the TTL: 401, the SDK refreshes, the call succeeds
        const waitMs = firstClaims.exp * 1000 + 1500 - Date.now();
        if (waitMs > 0) await sleep(waitMs);
        const expired = await mcpPost(env, { jsonrpc: '2.0', id: 99, method: 'tools/list' }, { token: first.access_token });
        assert.equal(expired.status, 401, 'the first access token has expired');
        await expired.body?.cancel();

        const calls = rec.log.length;
        assert.deepEqual(toolJson(await c2.callTool({ name: 'whoami', arguments: {} })), { user: USER });
        const since = rec.log.slice(calls).map((e) => `${e.method} ${e.path} ${e.status}`);
        assert.equal(since[0], 'POST /mcp 401', `the expired token is refused first: ${since.join(', ')}`);
        assert.ok(since.includes('POST /token 200'), `a refresh at /token: ${since.join(', ')}${logTail(env)}`);
        assert.equal(since.at(-1), 'POST /mcp 200');
        assert.equal(tokenCalls().length, 2);
        const refreshReq = new URLSearchParams(tokenCalls()[1].body);
        assert.equal(refreshReq.get('grant_type'), 'refresh_token');
        assert.equal(refreshReq.get('refresh_token'), first.refresh_token);
        assert.equal(refreshReq.get('client_id'), client.client_id);

        const second = provider.tokens();
        assert.equal(provider.tokenHistory.length, 2);
        assert.notEqual(second.access_token, first.access_token);
        assert.equal(typeof second.refresh_token, 'string', 'rotation: a new refresh token');
        assert.notEqual(second.refresh_token, first.refresh_token, 'the refresh token rotated');
        assert.equal(second.scope, 'mcp:tools');
        const secondClaims = await checkAccessToken(env, second.access_token,
            { clientId: client.client_id, scope: 'mcp:tools', ttl: TTL });
        assert.notEqual(secondClaims.jti, firstClaims.jti);
        assert.equal(secondClaims.sid, firstClaims.sid, 'the refreshed token belongs to the same grant');
        assert.ok(secondClaims.exp > firstClaims.exp);
    });

    it('nginx logged no alert, crit or emerg (no crash)', () => assertNoCrash(env));
});

describe('built-in AS: openid-client v6 (discovery, DCR, PKCE, iss, tokens)', { timeout: 60000 }, () => {
    const env = authorizationServer();

    it('discovers the AS, gets tokens by the authorization code grant, calls /mcp, refreshes', async () => {
        const [cbPort] = await freePorts(1);
        const redirectUri = `http://127.0.0.1:${cbPort}/callback`;
        const reg = await register(env, {
            client_name: 'openid-client e2e',
            redirect_uris: [redirectUri],
            grant_types: ['authorization_code', 'refresh_token'],
            response_types: ['code'],
            token_endpoint_auth_method: 'none',
        });
        assert.equal(reg.token_endpoint_auth_method, 'none');
        assert.equal(reg.client_secret, undefined);
        assert.deepEqual(reg.grant_types, ['authorization_code', 'refresh_token']);
        assert.deepEqual(reg.response_types, ['code']);
        assert.equal(reg.client_name, 'openid-client e2e');
        assert.equal(typeof reg.client_id_issued_at, 'number');

        // OpenID discovery (the default) and RFC 8414 discovery both accept the documents
        const execute = [oidc.allowInsecureRequests];
        const config = await oidc.discovery(new URL(env.issuer), reg.client_id,
            { redirect_uris: [redirectUri], token_endpoint_auth_method: 'none' }, oidc.None(), { execute });
        const oauth2 = await oidc.discovery(new URL(env.issuer), reg.client_id, undefined, oidc.None(),
            { execute, algorithm: 'oauth2' });
        for (const c of [config, oauth2]) {
            const m = c.serverMetadata();
            assert.equal(m.issuer, env.issuer);
            assert.equal(m.authorization_endpoint, `${env.issuer}/authorize`);
            assert.equal(m.token_endpoint, `${env.issuer}/token`);
            assert.equal(m.registration_endpoint, `${env.issuer}/register`);
            assert.equal(m.revocation_endpoint, `${env.issuer}/revoke`);
            assert.equal(m.jwks_uri, `${env.issuer}/jwks`);
            assert.deepEqual(m.scopes_supported, ALL_SCOPES);
            assert.deepEqual(m.code_challenge_methods_supported, ['S256']);
            assert.deepEqual(m.response_types_supported, ['code']);
            assert.equal(m.authorization_response_iss_parameter_supported, true);
            assert.ok(m.grant_types_supported.includes('authorization_code'));
            assert.ok(m.grant_types_supported.includes('refresh_token'));
            assert.ok(m.token_endpoint_auth_methods_supported.includes('none'));
        }

        const verifier = oidc.randomPKCECodeVerifier();
        const challenge = await oidc.calculatePKCECodeChallenge(verifier);
        const state = oidc.randomState();
        const scope = 'mcp:tools read:application';
        const url = oidc.buildAuthorizationUrl(config, {
            redirect_uri: redirectUri,
            scope,
            code_challenge: challenge,
            code_challenge_method: 'S256',
            state,
            resource: env.resource,
        });
        assert.equal(`${url.origin}${url.pathname}`, `${env.issuer}/authorize`);

        const { location } = await consentOverHttp(url, { issuer: env.issuer });
        assert.equal(`${location.origin}${location.pathname}`, redirectUri);
        assert.equal(location.searchParams.get('iss'), env.issuer);
        assert.equal(location.searchParams.get('state'), state);

        let tokens;
        try {
            tokens = await oidc.authorizationCodeGrant(config, location,
                { pkceCodeVerifier: verifier, expectedState: state }, { resource: env.resource });
        } catch (e) {
            e.message += ` (cause: ${JSON.stringify(e.cause ?? null)})${logTail(env)}`;
            throw e;
        }
        assert.equal(typeof tokens.access_token, 'string');
        assert.equal(tokens.token_type.toLowerCase(), 'bearer');
        assert.equal(tokens.scope, scope);
        assert.equal(tokens.expires_in, 3600);
        assert.equal(typeof tokens.refresh_token, 'string');
        assert.equal(tokens.id_token, undefined, 'no ID token is issued');
        const claims = await checkAccessToken(env, tokens.access_token, { clientId: reg.client_id, scope, ttl: 3600 });

        // the token opens /mcp: initialize, then tools/list in the session
        const init = await mcpPost(env, {
            jsonrpc: '2.0', id: 1, method: 'initialize',
            params: { protocolVersion: LATEST_PROTOCOL_VERSION, capabilities: {}, clientInfo: { name: 'oidc', version: '0' } },
        }, { token: tokens.access_token });
        assert.notEqual(init.status, 401, `initialize refused: ${init.headers.get('www-authenticate')}${logTail(env)}`);
        assert.equal(init.status, 200);
        const sessionId = init.headers.get('mcp-session-id');
        const [initMsg] = await rpcMessages(init);
        assert.equal(initMsg.result.serverInfo.name, 'ngx-mcp-oauth-e2e');
        const inited = await mcpPost(env, { jsonrpc: '2.0', method: 'notifications/initialized' },
            { token: tokens.access_token, sessionId });
        assert.equal(inited.status, 202);
        await inited.body?.cancel();
        const list = await mcpPost(env, { jsonrpc: '2.0', id: 2, method: 'tools/list' },
            { token: tokens.access_token, sessionId });
        assert.equal(list.status, 200);
        const [listMsg] = await rpcMessages(list);
        assert.ok(listMsg.result.tools.some((t) => t.name === 'whoami'));

        // a refresh with openid-client: a new, rotated refresh token in the same grant
        const refreshed = await oidc.refreshTokenGrant(config, tokens.refresh_token, { resource: env.resource });
        assert.notEqual(refreshed.access_token, tokens.access_token);
        assert.equal(typeof refreshed.refresh_token, 'string');
        assert.notEqual(refreshed.refresh_token, tokens.refresh_token);
        assert.equal(refreshed.scope, scope);
        const rclaims = await checkAccessToken(env, refreshed.access_token, { clientId: reg.client_id, scope, ttl: 3600 });
        assert.equal(rclaims.sid, claims.sid);
    });

    it('Deny redirects with access_denied, state and iss; openid-client reports access_denied', async () => {
        const [cbPort] = await freePorts(1);
        const redirectUri = `http://127.0.0.1:${cbPort}/callback`;
        const reg = await register(env, {
            client_name: 'openid-client deny',
            redirect_uris: [redirectUri],
            token_endpoint_auth_method: 'none',
        });
        const config = await oidc.discovery(new URL(env.issuer), reg.client_id, undefined, oidc.None(),
            { execute: [oidc.allowInsecureRequests] });
        const verifier = oidc.randomPKCECodeVerifier();
        const state = oidc.randomState();
        const url = oidc.buildAuthorizationUrl(config, {
            redirect_uri: redirectUri,
            scope: 'mcp:tools',
            code_challenge: await oidc.calculatePKCECodeChallenge(verifier),
            code_challenge_method: 'S256',
            state,
            resource: env.resource,
        });
        const { location } = await consentOverHttp(url, { issuer: env.issuer, decision: 'deny' });
        assert.equal(`${location.origin}${location.pathname}`, redirectUri);
        assert.equal(location.searchParams.get('error'), 'access_denied');
        assert.equal(location.searchParams.get('code'), null);
        assert.equal(location.searchParams.get('state'), state);
        assert.equal(location.searchParams.get('iss'), env.issuer);
        await assert.rejects(
            oidc.authorizationCodeGrant(config, location, { pkceCodeVerifier: verifier, expectedState: state }),
            (err) => {
                assert.ok(err instanceof oidc.AuthorizationResponseError, `${err?.constructor?.name}: ${err?.message}`);
                assert.equal(err.error, 'access_denied');
                return true;
            });
    });

    it('nginx logged no alert, crit or emerg (no crash)', () => assertNoCrash(env));
});

describe('built-in AS: consent in headless Chromium (playwright-core)', { timeout: 90000 }, () => {
    const env = authorizationServer();
    let browser, callbackServer;
    const callbacks = [];
    let onCallback;

    before(async () => {
        assert.ok(existsSync(CHROMIUM), `${CHROMIUM} is missing: apt-get install chromium (./build.sh deps)`);
        const { chromium } = await import('playwright-core');
        browser = await chromium.launch({
            executablePath: CHROMIUM,
            headless: true,
            args: ['--no-sandbox', '--disable-background-networking'],
        });
    });

    after(async () => {
        await browser?.close().catch(() => {});
        if (callbackServer) await new Promise((r) => { callbackServer.closeAllConnections(); callbackServer.close(() => r()); });
    });

    it('the consent page names the client and each scope; Approve redirects to the loopback callback with code, state and iss', async () => {
        const [cbPort] = await freePorts(1);
        const redirectUri = `http://127.0.0.1:${cbPort}/callback`;
        const got = new Promise((resolve) => { onCallback = resolve; });
        callbackServer = http.createServer((req, res) => {
            const u = new URL(req.url, `http://127.0.0.1:${cbPort}`);
            if (u.pathname === '/callback') {
                callbacks.push(u);
                onCallback?.(u);
            }
            res.writeHead(200, { 'Content-Type': 'text/html' });
            res.end('<!doctype html><title>done</title><p id="done">signed in, you may close this window</p>');
        });
        await new Promise((r) => callbackServer.listen(cbPort, '127.0.0.1', r));

        const clientName = 'Playwright E2E Client';
        const reg = await register(env, {
            client_name: clientName,
            redirect_uris: [redirectUri],
            grant_types: ['authorization_code', 'refresh_token'],
            response_types: ['code'],
            token_endpoint_auth_method: 'none',
        });

        const { verifier, challenge } = pkce();
        const state = b64url(randomBytes(16));
        const scope = ALL_SCOPES.join(' ');
        const authorize = new URL(`${env.issuer}/authorize`);
        for (const [k, v] of Object.entries({
            response_type: 'code', client_id: reg.client_id, redirect_uri: redirectUri,
            code_challenge: challenge, code_challenge_method: 'S256', state, scope, resource: env.resource,
        })) authorize.searchParams.set(k, v);

        const context = await browser.newContext({ httpCredentials: { username: USER, password: PASSWORD } });
        try {
            const page = await context.newPage();
            const res = await page.goto(authorize.href);
            assert.equal(res.status(), 200, `consent page: ${await res.text()}${logTail(env)}`);
            const headers = res.headers();
            assert.equal(headers['x-frame-options'], 'DENY');
            assert.match(headers['content-security-policy'] || '', /frame-ancestors 'none'/);
            assert.match(headers['cache-control'] || '', /no-store/);

            const text = await page.locator('body').innerText();
            assert.ok(text.includes(clientName), `the client name is on the page:\n${text}`);
            for (const s of ALL_SCOPES) assert.ok(text.includes(s), `scope ${s} is on the page:\n${text}`);
            assert.ok(text.includes('127.0.0.1'), `the redirect host is on the page:\n${text}`);
            for (const s of [clientName, ...ALL_SCOPES]) {
                assert.ok(await page.getByText(s, { exact: false }).first().isVisible(), `${s} is visible`);
            }
            const approve = page.locator('[name="decision"][value="approve"]');
            const deny = page.locator('[name="decision"][value="deny"]');
            assert.equal(await approve.count(), 1);
            assert.equal(await deny.count(), 1);
            assert.ok(await approve.isVisible());
            assert.ok(await deny.isVisible());

            mkdirSync(ARTIFACTS, { recursive: true });
            await page.screenshot({ path: join(ARTIFACTS, 'consent.png'), fullPage: true });

            await Promise.all([
                page.waitForURL((u) => u.href.startsWith(redirectUri), { timeout: 15000 }),
                approve.click(),
            ]);
            const cb = await Promise.race([got, sleep(15000).then(() => { throw new Error('no callback'); })]);
            assert.equal(cb.searchParams.get('error'), null, `authorization error: ${cb}`);
            assert.ok(cb.searchParams.get('code'), 'code');
            assert.equal(cb.searchParams.get('state'), state);
            assert.equal(cb.searchParams.get('iss'), env.issuer);
            assert.equal(await page.locator('#done').innerText(), 'signed in, you may close this window');
            assert.equal(callbacks.length, 1);

            // the code is real: it redeems once at /token
            const tok = await fetch(`${env.issuer}/token`, {
                method: 'POST',
                headers: { 'Content-Type': 'application/x-www-form-urlencoded' },
                body: new URLSearchParams({
                    grant_type: 'authorization_code', code: cb.searchParams.get('code'), redirect_uri: redirectUri,
                    code_verifier: verifier, client_id: reg.client_id, resource: env.resource,
                }),
            });
            const body = await tok.text();
            assert.equal(tok.status, 200, `POST /token: ${body}${logTail(env)}`);
            const tokens = JSON.parse(body);
            assert.equal(tokens.scope, scope);
            await checkAccessToken(env, tokens.access_token, { clientId: reg.client_id, scope, ttl: 3600 });
        } finally {
            await context.close();
        }
    });

    it('nginx logged no alert, crit or emerg (no crash)', () => assertNoCrash(env));
});
