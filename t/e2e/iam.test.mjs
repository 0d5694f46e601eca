// End-to-end: nginx + ngx_mcp_oauth_module in front of an IAM
// (docs/iam-proxy.md), the IAM being a real OpenID provider (oidc-provider,
// e2e/oidc-provider.mjs) in this process, the MCP server behind nginx being
// e2e/mcp-server.mjs, and the clients the MCP SDK client and plain HTTP with
// a cookie jar (the user's browser).
//
//   cd t && npm ci && node --test e2e/iam.test.mjs
//
// 1. pass-through: the IAM is the authorization server, nginx only validates
//    its JWTs (mcp_oauth_issuer + mcp_oauth_jwks_request); the SDK client
//    discovers the IAM from the PRM, registers there (DCR), signs in, calls
//    tools through nginx, and refreshes at the IAM.
// 2. bridge, mcp_oauth_iam_token mint: nginx is the AS, the IAM signs the user
//    in with one static client; the SDK client registers at nginx, consents
//    at nginx, signs in at the IAM, and gets nginx's own tokens (sub from the
//    IAM); refresh is nginx's own.
// 3. bridge, mcp_oauth_iam_token pass: the SDK client gets the IAM's access
//    token; /mcp trusts the IAM's issuer and keys; a refresh at nginx
//    refreshes at the IAM.
//    Without `mcp_oauth_iam_param resource`, the IAM's token is not for the
//    resource: the MCP client gets server_error.
// 4. bridge: the callback's state (unknown, replayed, another browser's),
//    Deny, the consent form posted from another browser (CSRF), an error
//    from the IAM, the IAM down during the code exchange.
// 5. mcp_oauth_iam_metadata: the IAM's metadata, corrected (scopes, S256
//    with pkce, other members kept as the same JSON values, cache, IAM down: 503).

import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import { execFileSync } from 'node:child_process';
import { createHash, createPublicKey, randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import * as jose from 'jose';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { UnauthorizedError } from '@modelcontextprotocol/sdk/client/auth.js';
import { LATEST_PROTOCOL_VERSION } from '@modelcontextprotocol/sdk/types.js';
import { Harness, freePorts, httpConf, MCP_PROXY, recordingFetch } from './lib.mjs';
import { startOidcProvider, CookieJar, jarFetch, parseForms, posted, browse, LOGIN } from './oidc-provider.mjs';

const IAM_CLIENT_ID = 'mcp-gateway';
const ALL_SCOPES = ['mcp:tools', 'read:application', 'write:application'];

// ---------------------------------------------------------- nginx configs --

const JWKS_LOCATION = `
        location = /_jwks {
            internal;
            proxy_pass {{IAM_JWKS}};
            proxy_connect_timeout 3s;
            proxy_read_timeout 5s;
            subrequest_output_buffer_size 64k;
        }
`;

// 1. pass-through: the IAM is the AS, nginx validates its tokens
const PASS_THROUGH_CONF = httpConf(`    server {
        listen 127.0.0.1:{{PORT}};
        server_name localhost;

        mcp_oauth_issuer {{IAM_ISSUER}};
        mcp_oauth_resource http://127.0.0.1:{{PORT}}/mcp;
        mcp_oauth_jwks_request /_jwks;

        location = /.well-known/oauth-protected-resource/mcp { mcp_oauth_metadata; }
        location = /.well-known/oauth-protected-resource     { mcp_oauth_metadata; }
${JWKS_LOCATION}
        location /mcp {
            mcp_oauth on;
            mcp_oauth_leeway 0;
            mcp_oauth_required_scope mcp:tools;
${MCP_PROXY}
        }
    }
`);

// 2-4. the bridge: nginx is the AS, the IAM signs users in
const BRIDGE_CONF = httpConf(`    server {
        listen 127.0.0.1:{{PORT}};
        server_name localhost;

        mcp_oauth_issuer http://127.0.0.1:{{PORT}};
        mcp_oauth_resource http://127.0.0.1:{{PORT}}/mcp;
        mcp_oauth_signing_key {{SIGNING_KEY}};
        mcp_oauth_scopes_supported mcp:tools read:application write:application;
        mcp_oauth_token_ttl {{TOKEN_TTL}};

        mcp_oauth_iam_authorize_url {{IAM_AUTHORIZE}};
        mcp_oauth_iam_token_request /_iam/token;
        mcp_oauth_iam_client ${IAM_CLIENT_ID} secret={{IAM_SECRET}};
        mcp_oauth_iam_scope "{{IAM_SCOPE}}";
{{IAM_RESOURCE_PARAM}}
        mcp_oauth_iam_param prompt consent;
        mcp_oauth_iam_token {{IAM_TOKEN}};

        location = /.well-known/oauth-protected-resource/mcp { mcp_oauth_metadata; }
        location = /.well-known/oauth-authorization-server   { mcp_oauth_server_metadata; }
        location = /.well-known/openid-configuration         { mcp_oauth_server_metadata; }

        location = /authorize { mcp_oauth_authorize; }
        location = /callback  { mcp_oauth_iam_callback; }
        location = /token     { mcp_oauth_token; }
        location = /register  { mcp_oauth_register; }
        location = /revoke    { mcp_oauth_revoke; }
        location = /jwks      { mcp_oauth_jwks_publish; }

        location = /_iam/token {
            internal;
            proxy_pass {{IAM_TOKEN_URL}};
            proxy_connect_timeout 3s;
            proxy_read_timeout 5s;
        }
${JWKS_LOCATION}
        location /mcp {
            mcp_oauth on;
            mcp_oauth_leeway 0;
            mcp_oauth_required_scope mcp:tools;
{{MCP_TRUST}}
${MCP_PROXY}
        }
    }
`);

// 5. the IAM's metadata, corrected (pass-through)
const METADATA_CONF = httpConf(`    server {
        listen 127.0.0.1:{{PORT}};
        server_name localhost;

        mcp_oauth_issuer {{IAM_ISSUER}};
        mcp_oauth_resource http://127.0.0.1:{{PORT}}/mcp;
        mcp_oauth_scopes_supported mcp:tools read:application;

        location = /.well-known/oauth-authorization-server {
            mcp_oauth_iam_metadata /_iam/metadata pkce;
        }
        location = /bare/pkce {
            mcp_oauth_iam_metadata /_iam/bare pkce;
        }
        location = /bare/plain {
            mcp_oauth_iam_metadata /_iam/bare-plain;
        }
        location = /bare/shared {
            mcp_oauth_iam_metadata /_iam/bare;
        }
        location = /cached {
            mcp_oauth_iam_metadata /_iam/counted cache=1h;
        }
        location = /down {
            mcp_oauth_iam_metadata /_iam/down pkce;
        }

        location = /_iam/metadata {
            internal;
            proxy_pass {{IAM_ISSUER}}/.well-known/openid-configuration;
            proxy_read_timeout 3s;
        }
        location = /_iam/bare {
            internal;
            proxy_pass http://127.0.0.1:{{DOC_PORT}}/bare;
            proxy_read_timeout 3s;
        }
        location = /_iam/bare-plain {
            internal;
            proxy_pass http://127.0.0.1:{{DOC_PORT}}/bare;
            proxy_read_timeout 3s;
        }
        location = /_iam/counted {
            internal;
            proxy_pass http://127.0.0.1:{{DOC_PORT}}/counted;
            proxy_read_timeout 3s;
        }
        location = /_iam/down {
            internal;
            proxy_pass http://127.0.0.1:{{CLOSED_PORT}}/.well-known/openid-configuration;
            proxy_connect_timeout 2s;
            proxy_read_timeout 2s;
        }
    }
`);

// ---------------------------------------------------------------- helpers --

function b64url(buf) {
    return Buffer.from(buf).toString('base64url');
}

function pkce() {
    const verifier = b64url(randomBytes(32));
    const challenge = b64url(createHash('sha256').update(verifier).digest());
    return { verifier, challenge };
}

function assertNoCrash(env) {
    assert.equal(env.ngx.child.exitCode, null, 'nginx is still running');
    assert.equal(env.ngx.child.signalCode, null, 'nginx is still running');
    const bad = env.ngx.errorLog().split('\n').filter((l) => /\[(alert|crit|emerg)\]/.test(l));
    assert.deepEqual(bad, []);
}

/** The last lines of the nginx error log, for assertion messages. */
function logTail(env, n = 20) {
    return `\n--- nginx error.log (tail):\n${env.ngx?.errorLog().split('\n').slice(-n).join('\n')}`;
}

function toolJson(result) {
    assert.equal(result.isError, undefined, `tool error: ${JSON.stringify(result)}`);
    return JSON.parse(result.content[0].text);
}

/** A raw JSON-RPC POST to /mcp, as an MCP client sends it. */
function mcpPost(env, body, { token } = {}) {
    const headers = {
        'Content-Type': 'application/json',
        Accept: 'application/json, text/event-stream',
        'MCP-Protocol-Version': LATEST_PROTOCOL_VERSION,
    };
    if (token) headers.Authorization = `Bearer ${token}`;
    return fetch(env.resource, { method: 'POST', headers, body: JSON.stringify(body) });
}

function jwtParts(token) {
    assert.equal(typeof token, 'string');
    const parts = token.split('.');
    assert.equal(parts.length, 3, 'the access token is a JWS (three parts)');
    return { header: jose.decodeProtectedHeader(token), claims: jose.decodeJwt(token) };
}

/** Mints the signing key and reads its RFC 7638 thumbprint. */
async function signingKey(dir) {
    const keyPath = join(dir, 'signing.pem');
    execFileSync('openssl', ['genpkey', '-algorithm', 'EC', '-pkeyopt', 'ec_paramgen_curve:P-256',
        '-out', keyPath], { stdio: ['ignore', 'ignore', 'pipe'] });
    const jwk = createPublicKey(readFileSync(keyPath)).export({ format: 'jwk' });
    return { keyPath, kid: await jose.calculateJwkThumbprint(jwk, 'sha256') };
}

/** nginx's own access token (mint), checked against the spec and verified with /jwks. */
async function checkMintedToken(env, token, { clientId, scope, ttl }) {
    const { header, claims } = jwtParts(token);
    assert.equal(header.typ, 'at+jwt');
    assert.equal(header.alg, 'ES256');
    assert.equal(header.kid, env.kid, 'signed by nginx, not by the IAM');
    assert.equal(claims.iss, env.issuer);
    assert.equal(claims.sub, LOGIN, 'the subject is the IAM\'s');
    assert.equal(claims.aud, env.resource);
    assert.equal(claims.client_id, clientId);
    assert.equal(claims.scope, scope);
    assert.equal(claims.exp - claims.iat, ttl);
    const jwks = await (await fetch(`${env.issuer}/jwks`)).json();
    await jose.jwtVerify(token, jose.createLocalJWKSet(jwks), {
        issuer: env.issuer, audience: env.resource, typ: 'at+jwt', currentDate: new Date(claims.iat * 1000),
    });
    return claims;
}

/** An access token of the IAM, checked and verified with the IAM's keys. */
async function checkIamToken(env, token) {
    const { header, claims } = jwtParts(token);
    assert.equal(header.typ, 'at+jwt');
    assert.equal(header.alg, 'RS256');
    assert.equal(header.kid, env.iam.jwk.kid, 'signed by the IAM');
    assert.equal(claims.iss, env.iam.issuer);
    assert.equal(claims.sub, LOGIN);
    assert.deepEqual([claims.aud].flat(), [env.resource]);
    await jose.jwtVerify(token, jose.createLocalJWKSet(env.iam.jwks), {
        issuer: env.iam.issuer, audience: env.resource, typ: 'at+jwt', currentDate: new Date(claims.iat * 1000),
    });
    return claims;
}

/** A registration by DCR at nginx (RFC 7591), checked. */
async function register(env, redirectUri, name = 'e2e bridge client') {
    const res = await fetch(`${env.issuer}/register`, {
        method: 'POST',
        headers: { 'Content-Type': 'application/json', Accept: 'application/json' },
        body: JSON.stringify({
            client_name: name,
            redirect_uris: [redirectUri],
            grant_types: ['authorization_code', 'refresh_token'],
            response_types: ['code'],
            token_endpoint_auth_method: 'none',
        }),
    });
    const text = await res.text();
    assert.equal(res.status, 201, `POST /register: ${text}${logTail(env)}`);
    return JSON.parse(text);
}

function authorizeUrl(env, params) {
    const u = new URL(`${env.issuer}/authorize`);
    for (const [k, v] of Object.entries(params)) u.searchParams.set(k, v);
    return u;
}

// ----------------------------------------------------- the bridge, by HTTP --

/**
 * The gateway's consent page in the user's browser (jar): checks the page
 * and its cookie, then posts the form with `decision`. Resolves with the
 * redirect's Location (to the IAM on approve) and the cookie.
 */
async function gatewayConsent(env, url, jar, { decision = 'approve', clientName } = {}) {
    const page = await jarFetch(jar, String(url));
    const html = await page.text();
    if (clientName) {
        const text = html.replace(/<[^>]*>/g, ' ');
        assert.ok(text.includes(clientName), `the consent page names the client:\n${html}`);
        assert.ok(text.includes('127.0.0.1'), `the consent page names the redirect host:\n${html}`);
        for (const sc of new URL(String(url)).searchParams.get('scope').split(' ')) {
            assert.ok(text.includes(sc), `the consent page names the scope ${sc}:\n${html}`);
        }
    }
    assert.equal(page.status, 200, `GET ${url}: consent page expected, got ${page.status}:\n${html}${logTail(env)}`);
    assert.equal((page.headers.get('content-type') || '').split(';')[0].trim(), 'text/html');
    assert.equal(page.headers.get('x-frame-options'), 'DENY');
    assert.match(page.headers.get('content-security-policy') || '', /frame-ancestors 'none'/);
    assert.match(page.headers.get('cache-control') || '', /no-store/);

    // the cookie that binds the flow to this browser (http issuer: no __Host-)
    const cookies = page.headers.getSetCookie();
    const line = cookies.find((c) => c.startsWith('mcp_oauth_bridge='));
    assert.ok(line, `Set-Cookie mcp_oauth_bridge on the consent page; got ${JSON.stringify(cookies)}${logTail(env)}`);
    const attrs = line.split(';').slice(1).map((a) => a.trim().toLowerCase());
    assert.ok(attrs.includes('httponly'), `HttpOnly: ${line}`);
    assert.ok(attrs.includes('samesite=lax'), `SameSite=Lax: ${line}`);
    const maxAge = attrs.find((a) => a.startsWith('max-age='));
    const expires = line.match(/;\s*expires=([^;]+)/i);
    assert.ok(maxAge || expires, `the cookie expires (10 minutes): ${line}`);
    if (maxAge) assert.equal(maxAge, 'max-age=600', line);
    else {
        const left = (Date.parse(expires[1]) - Date.now()) / 1000;
        assert.ok(left > 540 && left <= 601, `expires in 10 minutes: ${line}`);
    }

    const form = parseForms(html, String(url)).find((f) => f.buttons.some((b) => b.name === 'decision')
        || f.inputs.some((x) => x.name === 'decision'));
    assert.ok(form, `no form with a "decision" control in the consent page:\n${html}`);
    assert.equal(form.method, 'POST');
    assert.equal(form.action, `${env.issuer}/authorize`);
    const decisions = [...form.buttons, ...form.inputs].filter((b) => b.name === 'decision').map((b) => b.value);
    assert.deepEqual([...decisions].sort(), ['approve', 'deny']);
    const hidden = form.inputs.filter((x) => x.type === 'hidden').map((x) => [x.name, x.value]);
    assert.ok(hidden.some(([n]) => n === 'csrf_token'), `hidden inputs: ${hidden.map(([n]) => n).join(', ')}`);

    const body = new URLSearchParams(posted(form));
    body.append('decision', decision);
    const res = await jarFetch(jar, form.action, {
        method: 'POST',
        headers: { 'Content-Type': 'application/x-www-form-urlencoded' },
        body,
    });
    const text = await res.text();
    assert.ok([302, 303].includes(res.status), `POST ${form.action}: redirect expected, got ${res.status}:\n${text}${logTail(env)}`);
    return { location: new URL(res.headers.get('location'), form.action), cookie: line, html, form };
}

/** Checks the redirect from nginx to the IAM's authorization endpoint (docs/iam-proxy.md, step 3). */
function checkIamRedirect(env, location) {
    assert.equal(`${location.origin}${location.pathname}`, env.iam.metadata.authorization_endpoint,
        `the approval sends the browser to the IAM: ${location}`);
    const q = location.searchParams;
    assert.equal(q.get('response_type'), 'code');
    assert.equal(q.get('client_id'), IAM_CLIENT_ID);
    assert.equal(q.get('redirect_uri'), `${env.issuer}/callback`);
    assert.equal(q.get('scope'), env.iamScope);
    assert.ok(q.get('state') && q.get('state').length >= 16, `a random state: ${q.get('state')}`);
    assert.equal(q.get('code_challenge_method'), 'S256');
    assert.match(q.get('code_challenge') || '', /^[A-Za-z0-9_-]{43}$/);
    assert.equal(q.get('resource'), env.resourceParam ? env.resource : null, 'mcp_oauth_iam_param resource');
    assert.equal(q.get('prompt'), 'consent', 'mcp_oauth_iam_param prompt');
}

/**
 * From an authorization URL at nginx to the IAM's redirect to nginx's
 * /callback (not followed): nginx's consent (approve), the IAM's login and
 * consent. Resolves with { callback (URL), iamRedirect (URL) }.
 */
async function toCallback(env, url, jar, { abort = false, clientName } = {}) {
    const { location: iamRedirect } = await gatewayConsent(env, url, jar, { clientName });
    checkIamRedirect(env, iamRedirect);
    const { location: callback } = await browse(iamRedirect, jar, {
        abort,
        stopAt: (u) => u.origin === env.issuer && u.pathname === '/callback',
    });
    assert.equal(callback.searchParams.get('state'), iamRedirect.searchParams.get('state'), 'the IAM returns the state');
    return { callback, iamRedirect };
}

/**
 * OAuthClientProvider kept in memory: a public client with a loopback
 * redirect; the "redirect" to the authorization URL is the user's browser
 * over HTTP (a cookie jar): nginx's consent, the IAM's login and consent,
 * the IAM's redirect to nginx's callback, nginx's redirect to us.
 */
class BridgeBrowserProvider {
    constructor(env, redirectUrl) {
        this.env = env;
        this._redirectUrl = redirectUrl;
        this._client = undefined;
        this._tokens = undefined;
        this._verifier = undefined;
        this.tokenHistory = [];
        this.authorizationUrls = [];
        this.iamRedirects = [];
        this.callbacks = [];
        this.states = [];
        this.code = undefined;
    }

    get redirectUrl() { return this._redirectUrl; }

    get clientMetadata() {
        return {
            client_name: 'e2e MCP SDK client (bridge)',
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
        const env = this.env;
        this.authorizationUrls.push(new URL(url));
        const jar = new CookieJar();
        const { callback, iamRedirect } = await toCallback(env, url, jar, { clientName: this.clientMetadata.client_name });
        this.iamRedirects.push(iamRedirect);
        this.callbacks.push(callback);
        assert.ok(callback.searchParams.get('code'), `the IAM sent a code: ${callback}`);

        const res = await jarFetch(jar, callback.href);
        const text = await res.text();
        assert.equal(res.status, 302, `GET ${callback}: redirect to the MCP client expected, got ${res.status}:\n${text}${logTail(env)}`);
        const location = new URL(res.headers.get('location'));
        assert.equal(`${location.origin}${location.pathname}`, this._redirectUrl, 'redirected to the MCP client');
        const q = location.searchParams;
        assert.equal(q.get('error'), null, `authorization error: ${location}${logTail(env)}`);
        assert.equal(q.get('state'), this.states.at(-1), 'the MCP client\'s state comes back');
        assert.equal(q.get('iss'), env.issuer, 'iss (RFC 9207) is nginx');
        assert.ok(q.get('code'), 'a code');
        assert.notEqual(q.get('code'), callback.searchParams.get('code'), 'nginx\'s own code, not the IAM\'s');
        this.code = q.get('code');
    }
}

// --------------------------------------------------------------- fixtures --

/**
 * The IAM (oidc-provider) + the MCP server + nginx in front, for one
 * `describe`. mode: 'pass-through' | 'mint' | 'pass'.
 */
function gateway({ mode, tokenTtl = '1h', iamAccessTokenTtl = 3600, resourceParam = true }) {
    const h = new Harness();
    const env = { h, mode };
    let tmp;

    before(async () => {
        tmp = mkdtempSync(join(tmpdir(), 'mcp-e2e-iam-'));
        const [port, upstreamPort, iamPort] = await freePorts(3);
        env.port = port;
        env.issuer = `http://127.0.0.1:${port}`;
        env.resource = `${env.issuer}/mcp`;
        env.iamSecret = b64url(randomBytes(24));
        const bridge = mode !== 'pass-through';
        env.iamScope = mode === 'pass' ? 'openid offline_access mcp:tools' : 'openid offline_access';
        env.resourceParam = resourceParam;
        env.iam = await startOidcProvider({
            port: iamPort,
            resources: [env.resource],
            registration: !bridge,
            alwaysRefresh: !bridge,
            accessTokenTtl: iamAccessTokenTtl,
            clients: bridge ? [{
                client_id: IAM_CLIENT_ID,
                client_secret: env.iamSecret,
                redirect_uris: [`${env.issuer}/callback`],
                grant_types: ['authorization_code', 'refresh_token'],
                response_types: ['code'],
                token_endpoint_auth_method: 'client_secret_basic',
            }] : [],
        });
        env.iamRefreshTokens = new Set();
        env.iamAccessTokens = new Set();
        env.iam.provider.on('refresh_token.saved', (t) => env.iamRefreshTokens.add(t.jti));
        env.iam.provider.on('access_token.issued', (t) => env.iamAccessTokens.add(t.jti));
        env.upstream = await h.mcpServer({ port: upstreamPort, json: true });

        const vars = {
            PORT: port, UPSTREAM_PORT: upstreamPort,
            IAM_ISSUER: env.iam.issuer, IAM_JWKS: env.iam.metadata.jwks_uri,
        };
        if (bridge) {
            const key = await signingKey(tmp);
            env.kid = key.kid;
            Object.assign(vars, {
                SIGNING_KEY: key.keyPath,
                TOKEN_TTL: tokenTtl,
                IAM_AUTHORIZE: env.iam.metadata.authorization_endpoint,
                IAM_TOKEN_URL: env.iam.metadata.token_endpoint,
                IAM_SECRET: env.iamSecret,
                IAM_SCOPE: env.iamScope,
                IAM_TOKEN: mode,
                IAM_RESOURCE_PARAM: resourceParam
                    ? `        mcp_oauth_iam_param resource ${env.resource};` : '',
                MCP_TRUST: mode === 'pass'
                    ? `            mcp_oauth_issuer ${env.iam.issuer};\n            mcp_oauth_jwks_request /_jwks;`
                    : '',
            });
        }
        env.ngx = await h.nginx({ template: bridge ? BRIDGE_CONF : PASS_THROUGH_CONF, vars });
    });

    after(async () => {
        await h.stop();
        await env.iam?.close();
        if (tmp) rmSync(tmp, { recursive: true, force: true });
    });

    return env;
}

/** Waits until a token whose claims are `claims` has expired (exp + 1.5 s). */
async function pastExpiry(claims) {
    const waitMs = claims.exp * 1000 + 1500 - Date.now();
    if (waitMs > 0) await sleep(waitMs);
}

// ================================================================= suites --

describe('IAM pass-through: the IAM is the AS, nginx validates its JWTs (MCP SDK client)', { timeout: 180000 }, () => {
    const IAM_TTL = 5;
    const env = gateway({ mode: 'pass-through', iamAccessTokenTtl: IAM_TTL });
    const clients = [];
    after(async () => { await Promise.allSettled(clients.splice(0).map((c) => c.close())); });

    it('401 -> PRM -> the IAM\'s metadata -> DCR at the IAM -> sign-in -> a JWT for the resource -> tools; then a refresh at the IAM', async () => {
        const [cbPort] = await freePorts(1);
        const redirectUrl = `http://127.0.0.1:${cbPort}/callback`;
        const rec = recordingFetch();
        let code;
        const states = [];
        const authorizationUrls = [];
        let client, tokens, verifier;
        const tokenHistory = [];
        const provider = {
            get redirectUrl() { return redirectUrl; },
            get clientMetadata() {
                return {
                    client_name: 'e2e MCP SDK client (pass-through)',
                    redirect_uris: [redirectUrl],
                    grant_types: ['authorization_code', 'refresh_token'],
                    response_types: ['code'],
                    token_endpoint_auth_method: 'none',
                };
            },
            state() { const s = b64url(randomBytes(16)); states.push(s); return s; },
            clientInformation: () => client,
            saveClientInformation: (i) => { client = i; },
            tokens: () => tokens,
            saveTokens: (t) => { tokens = t; tokenHistory.push(t); },
            saveCodeVerifier: (v) => { verifier = v; },
            codeVerifier: () => verifier,
            async redirectToAuthorization(url) {
                authorizationUrls.push(new URL(url));
                const { location } = await browse(url, new CookieJar(),
                    { stopAt: (u) => u.href.startsWith(redirectUrl) });
                const q = location.searchParams;
                assert.equal(q.get('error'), null, `authorization error: ${location}`);
                assert.equal(q.get('state'), states.at(-1));
                assert.equal(q.get('iss'), env.iam.issuer);
                code = q.get('code');
                assert.ok(code);
            },
        };

        // --- the PRM names the IAM verbatim
        const prm = await (await fetch(`${env.issuer}/.well-known/oauth-protected-resource/mcp`)).json();
        assert.equal(prm.resource, env.resource);
        assert.deepEqual(prm.authorization_servers, [env.iam.issuer]);

        // --- 1. bare connect: 401, discovery (nginx, then the IAM), DCR at the IAM, authorization
        const c1 = new Client({ name: 'e2e-iam-pass-through', version: '0.0.0' });
        clients.push(c1);
        const t1 = new StreamableHTTPClientTransport(new URL(env.resource), { authProvider: provider, fetch: rec });
        await assert.rejects(c1.connect(t1), (err) => {
            assert.ok(err instanceof UnauthorizedError, `UnauthorizedError expected, got ${err?.stack || err}${logTail(env)}`);
            return true;
        });
        const where = (e) => (e.origin === env.issuer ? 'nginx' : e.origin === env.iam.issuer ? 'iam' : e.origin);
        const seq = rec.log.map((e) => `${e.method} ${where(e)} ${e.path} ${e.status}`);
        assert.deepEqual(seq.slice(0, 2), [
            'POST nginx /mcp 401',
            'GET nginx /.well-known/oauth-protected-resource/mcp 200',
        ]);
        assert.ok(seq.includes('GET iam /.well-known/oauth-authorization-server 200')
            || seq.includes('GET iam /.well-known/openid-configuration 200'), `the IAM's metadata:\n${seq.join('\n')}`);
        assert.equal(seq.at(-1), 'POST iam /reg 201', seq.join('\n'));
        assert.ok(client?.client_id, 'registered at the IAM');
        assert.equal(authorizationUrls.length, 1);
        const az = authorizationUrls[0];
        assert.equal(`${az.origin}${az.pathname}`, env.iam.metadata.authorization_endpoint);
        assert.equal(az.searchParams.get('resource'), env.resource);
        assert.equal(az.searchParams.get('scope'), 'mcp:tools', 'the scope of the 401 challenge');
        assert.equal(az.searchParams.get('code_challenge_method'), 'S256');

        // --- 2. the code at the IAM's token endpoint: a JWT for the resource
        await t1.finishAuth(code);
        const first = tokens;
        assert.equal(typeof first.refresh_token, 'string');
        const firstClaims = await checkIamToken(env, first.access_token);
        assert.equal(firstClaims.client_id, client.client_id);
        assert.equal(firstClaims.scope, 'mcp:tools');

        // --- 3. tools through nginx, which validated the IAM's token
        const c2 = new Client({ name: 'e2e-iam-pass-through', version: '0.0.0' });
        clients.push(c2);
        const t2 = new StreamableHTTPClientTransport(new URL(env.resource), { authProvider: provider, fetch: rec });
        await c2.connect(t2);
        const whoBefore = env.upstream.toolCalls('whoami').length;
        assert.deepEqual(toolJson(await c2.callTool({ name: 'whoami', arguments: {} })), { user: LOGIN });
        assert.deepEqual(env.upstream.toolCalls('whoami').slice(whoBefore), [`tool whoami user=${LOGIN}`]);

        // nginx checks the IAM's signature
        const badSig = await mcpPost(env, { jsonrpc: '2.0', id: 7, method: 'tools/list' },
            { token: first.access_token.replace(/\.[^.]+$/, '.AAAA') });
        assert.equal(badSig.status, 401, 'a bad signature is refused');
        await badSig.body?.cancel();

        // --- 4. past the IAM's TTL: 401, the SDK refreshes at the IAM, the call succeeds
        await pastExpiry(firstClaims);
        const calls = rec.log.length;
        assert.deepEqual(toolJson(await c2.callTool({ name: 'whoami', arguments: {} })), { user: LOGIN });
        const since = rec.log.slice(calls).map((e) => `${e.method} ${where(e)} ${e.path} ${e.status}`);
        assert.equal(since[0], 'POST nginx /mcp 401', since.join(', '));
        assert.ok(since.includes('POST iam /token 200'), `a refresh at the IAM: ${since.join(', ')}`);
        assert.equal(since.at(-1), 'POST nginx /mcp 200');
        const refreshReq = new URLSearchParams(rec.log.filter((e) => e.path === '/token').at(-1).body);
        assert.equal(refreshReq.get('grant_type'), 'refresh_token');
        const second = tokens;
        assert.equal(tokenHistory.length, 2);
        assert.notEqual(second.access_token, first.access_token);
        const secondClaims = await checkIamToken(env, second.access_token);
        assert.ok(secondClaims.exp > firstClaims.exp);
    });

    it('nginx logged no alert, crit or emerg (no crash)', () => assertNoCrash(env));
});

/**
 * The bridge with the MCP SDK client: bare 401 -> PRM -> nginx's AS
 * metadata -> DCR at nginx -> nginx's consent -> the IAM -> nginx's
 * callback -> the client's redirect -> /token -> tools; then a refresh.
 */
async function bridgeSdkFlow(env, clients) {
    const [cbPort] = await freePorts(1);
    const redirectUrl = `http://127.0.0.1:${cbPort}/callback`;
    const provider = new BridgeBrowserProvider(env, redirectUrl);
    const rec = recordingFetch();

    const c1 = new Client({ name: `e2e-iam-${env.mode}`, version: '0.0.0' });
    clients.push(c1);
    const t1 = new StreamableHTTPClientTransport(new URL(env.resource), { authProvider: provider, fetch: rec });
    await assert.rejects(c1.connect(t1), (err) => {
        assert.ok(err instanceof UnauthorizedError, `UnauthorizedError expected, got ${err?.stack || err}${logTail(env)}`);
        return true;
    });
    assert.deepEqual(rec.log.map((e) => `${e.method} ${e.path} ${e.status}`), [
        'POST /mcp 401',
        'GET /.well-known/oauth-protected-resource/mcp 200',
        'GET /.well-known/oauth-authorization-server 200',
        'POST /register 201',
    ]);
    assert.ok(rec.log.every((e) => e.origin === env.issuer), 'the MCP client only talks to nginx');
    const client = provider.clientInformation();
    assert.ok(client?.client_id, 'registered at nginx');
    assert.equal(provider.authorizationUrls.length, 1);
    const az = provider.authorizationUrls[0];
    assert.equal(`${az.origin}${az.pathname}`, `${env.issuer}/authorize`);
    assert.equal(az.searchParams.get('scope'), 'mcp:tools');
    assert.equal(az.searchParams.get('resource'), env.resource);
    assert.ok(provider.code, 'the browser brought back nginx\'s code');

    // the IAM exchanged its code for the gateway, server-side, with the client's secret
    const exchanges = env.iam.grants.filter((g) => g.grant_type === 'authorization_code');
    assert.equal(exchanges.length, 1, JSON.stringify(env.iam.grants));
    assert.equal(exchanges[0].ok, true, JSON.stringify(exchanges[0]));
    assert.equal(exchanges[0].client_id, IAM_CLIENT_ID);

    await t1.finishAuth(provider.code);
    const tokenCalls = rec.log.filter((e) => e.path === '/token');
    assert.equal(tokenCalls.length, 1);
    assert.equal(tokenCalls[0].status, 200, logTail(env));
    assert.equal(tokenCalls[0].origin, env.issuer);

    const c2 = new Client({ name: `e2e-iam-${env.mode}`, version: '0.0.0' });
    clients.push(c2);
    const t2 = new StreamableHTTPClientTransport(new URL(env.resource), { authProvider: provider, fetch: rec });
    await c2.connect(t2);
    const whoBefore = env.upstream.toolCalls('whoami').length;
    assert.deepEqual(toolJson(await c2.callTool({ name: 'whoami', arguments: {} })), { user: LOGIN },
        'whoami is the IAM\'s subject');
    assert.deepEqual(env.upstream.toolCalls('whoami').slice(whoBefore), [`tool whoami user=${LOGIN}`]);
    return { provider, rec, client, c2 };
}

describe('IAM bridge, mcp_oauth_iam_token mint: nginx\'s own tokens, the IAM\'s subject (MCP SDK client)', { timeout: 180000 }, () => {
    const TTL = 5;
    const env = gateway({ mode: 'mint', tokenTtl: `${TTL}s` });
    const clients = [];
    after(async () => { await Promise.allSettled(clients.splice(0).map((c) => c.close())); });

    it('401 -> DCR at nginx -> consent at nginx -> login at the IAM -> callback -> nginx\'s token; whoami is the IAM\'s subject; a refresh past the TTL', async () => {
        const { provider, rec, client, c2 } = await bridgeSdkFlow(env, clients);
        const first = provider.tokens();
        assert.equal(first.token_type.toLowerCase(), 'bearer');
        assert.equal(first.scope, 'mcp:tools');
        assert.equal(first.expires_in, TTL);
        assert.equal(typeof first.refresh_token, 'string');
        const firstClaims = await checkMintedToken(env, first.access_token, { clientId: client.client_id, scope: 'mcp:tools', ttl: TTL });
        // no token passthrough: none of the IAM's tokens reached the client
        assert.ok(!env.iamAccessTokens.has(firstClaims.jti));
        assert.ok(!env.iamRefreshTokens.has(first.refresh_token), 'the refresh token is nginx\'s');

        // past the TTL: 401, the SDK refreshes at nginx (nginx's own refresh: the IAM is not asked)
        const iamGrants = env.iam.grants.length;
        await pastExpiry(firstClaims);
        const calls = rec.log.length;
        assert.deepEqual(toolJson(await c2.callTool({ name: 'whoami', arguments: {} })), { user: LOGIN });
        const since = rec.log.slice(calls).map((e) => `${e.method} ${e.path} ${e.status}`);
        assert.equal(since[0], 'POST /mcp 401', since.join(', '));
        assert.ok(since.includes('POST /token 200'), `a refresh at nginx: ${since.join(', ')}${logTail(env)}`);
        assert.equal(since.at(-1), 'POST /mcp 200');
        assert.equal(env.iam.grants.length, iamGrants, 'mint: the refresh does not go to the IAM');
        const second = provider.tokens();
        assert.notEqual(second.access_token, first.access_token);
        assert.notEqual(second.refresh_token, first.refresh_token, 'the refresh token rotated');
        const secondClaims = await checkMintedToken(env, second.access_token, { clientId: client.client_id, scope: 'mcp:tools', ttl: TTL });
        assert.equal(secondClaims.sid, firstClaims.sid, 'the same grant');
    });

    it('nginx logged no alert, crit or emerg (no crash)', () => assertNoCrash(env));
});

describe('IAM bridge, mcp_oauth_iam_token pass: the IAM\'s access token (MCP SDK client)', { timeout: 180000 }, () => {
    const IAM_TTL = 6;
    const env = gateway({ mode: 'pass', iamAccessTokenTtl: IAM_TTL });
    const clients = [];
    after(async () => { await Promise.allSettled(clients.splice(0).map((c) => c.close())); });

    it('the client gets the IAM\'s JWT for the resource; tools work; a refresh at nginx refreshes at the IAM', async () => {
        const { provider, rec, c2 } = await bridgeSdkFlow(env, clients);
        const first = provider.tokens();
        assert.equal(first.token_type.toLowerCase(), 'bearer');
        assert.equal(typeof first.refresh_token, 'string', 'nginx gives the client a refresh token');
        const firstClaims = await checkIamToken(env, first.access_token);
        assert.equal(firstClaims.client_id, IAM_CLIENT_ID);
        assert.ok(env.iamAccessTokens.has(firstClaims.jti), 'the very token the IAM issued');
        assert.ok(!env.iamRefreshTokens.has(first.refresh_token), 'nginx keeps the IAM\'s refresh token');
        assert.ok(env.iamRefreshTokens.size >= 1, 'the IAM issued a refresh token to nginx');

        // past the IAM token's expiry: 401, the SDK refreshes at nginx, nginx at the IAM
        const iamRefreshes = () => env.iam.grants.filter((g) => g.grant_type === 'refresh_token');
        assert.equal(iamRefreshes().length, 0);
        await pastExpiry(firstClaims);
        const calls = rec.log.length;
        assert.deepEqual(toolJson(await c2.callTool({ name: 'whoami', arguments: {} })), { user: LOGIN });
        const since = rec.log.slice(calls).map((e) => `${e.method} ${e.path} ${e.status}`);
        assert.equal(since[0], 'POST /mcp 401', since.join(', '));
        assert.ok(since.includes('POST /token 200'), `a refresh at nginx: ${since.join(', ')}${logTail(env)}`);
        assert.equal(since.at(-1), 'POST /mcp 200');
        assert.deepEqual(iamRefreshes().map((g) => [g.ok, g.client_id]), [[true, IAM_CLIENT_ID]],
            `nginx refreshed at the IAM: ${JSON.stringify(env.iam.grants)}`);
        const second = provider.tokens();
        assert.notEqual(second.access_token, first.access_token);
        const secondClaims = await checkIamToken(env, second.access_token);
        assert.notEqual(secondClaims.jti, firstClaims.jti);
        assert.ok(env.iamAccessTokens.has(secondClaims.jti), 'a new token of the IAM');
        assert.ok(secondClaims.exp > firstClaims.exp);
        assert.ok(!env.iamRefreshTokens.has(second.refresh_token ?? ''), 'still nginx\'s refresh token');
    });

    it('nginx logged no alert, crit or emerg (no crash)', () => assertNoCrash(env));
});

describe('IAM bridge, mcp_oauth_iam_token pass: an IAM token whose aud is not the resource', { timeout: 120000 }, () => {
    // no mcp_oauth_iam_param resource: the IAM's access token is not for the resource
    const env = gateway({ mode: 'pass', resourceParam: false });

    it('the exchange fails with server_error to the MCP client; no token is issued', async () => {
        const [cbPort] = await freePorts(1);
        const redirectUri = `http://127.0.0.1:${cbPort}/callback`;
        const reg = await register(env, redirectUri);
        const { challenge } = pkce();
        const state = b64url(randomBytes(12));
        const url = authorizeUrl(env, {
            response_type: 'code', client_id: reg.client_id, redirect_uri: redirectUri,
            code_challenge: challenge, code_challenge_method: 'S256', state,
            scope: 'mcp:tools', resource: env.resource,
        });
        const jar = new CookieJar();
        const { callback } = await toCallback(env, url, jar);
        const res = await jarFetch(jar, callback.href);
        const text = await res.text();
        assert.equal(res.status, 302, `${text}${logTail(env)}`);
        const location = new URL(res.headers.get('location'));
        assert.equal(`${location.origin}${location.pathname}`, redirectUri);
        assert.equal(location.searchParams.get('error'), 'server_error', `${location}${logTail(env)}`);
        assert.equal(location.searchParams.get('code'), null);
        assert.equal(location.searchParams.get('state'), state);
        assert.equal(location.searchParams.get('iss'), env.issuer);
        const exchanges = env.iam.grants.filter((g) => g.grant_type === 'authorization_code');
        assert.deepEqual(exchanges.map((g) => g.ok), [true], 'the IAM did answer the exchange');
    });

    it('nginx logged no alert, crit or emerg (no crash)', () => assertNoCrash(env));
});

describe('IAM bridge: the callback\'s state and the IAM\'s failures (HTTP)', { timeout: 180000 }, () => {
    const env = gateway({ mode: 'mint' });
    let reg, redirectUri;

    before(async () => {
        const [cbPort] = await freePorts(1);
        redirectUri = `http://127.0.0.1:${cbPort}/callback`;
        reg = await register(env, redirectUri);
    });

    /** An authorization request of the MCP client at nginx. */
    function request(state = b64url(randomBytes(12))) {
        const { verifier, challenge } = pkce();
        const url = authorizeUrl(env, {
            response_type: 'code', client_id: reg.client_id, redirect_uri: redirectUri,
            code_challenge: challenge, code_challenge_method: 'S256', state,
            scope: 'mcp:tools', resource: env.resource,
        });
        return { url, state, verifier };
    }

    async function expect400(res, what) {
        const text = await res.text();
        assert.equal(res.status, 400, `${what}: 400 expected, got ${res.status} ${res.headers.get('location') || ''}\n${text}${logTail(env)}`);
        assert.equal(res.headers.get('location'), null, `${what}: never a redirect`);
        assert.equal((res.headers.get('content-type') || '').split(';')[0].trim(), 'text/html', what);
    }

    it('an unknown state is a 400 page, with or without the bridge cookie', async () => {
        await expect400(await fetch(`${env.issuer}/callback?code=abc&state=${b64url(randomBytes(16))}`, { redirect: 'manual' }),
            'no cookie');
        const jar = new CookieJar();
        const { url } = request();
        const page = await jarFetch(jar, url.href);
        await page.body?.cancel();
        assert.ok(jar.names().includes('mcp_oauth_bridge'), `the consent page set the cookie: ${jar.names()}`);
        await expect400(await jarFetch(jar, `${env.issuer}/callback?code=abc&state=${b64url(randomBytes(16))}`),
            'with the cookie');
        await expect400(await jarFetch(jar, `${env.issuer}/callback?code=abc`), 'no state');
    });

    it('the redirect to the MCP client carries nginx\'s code, state and iss; the code redeems; the same state twice is a 400', async () => {
        const jar = new CookieJar();
        const { url, state, verifier } = request();
        const { callback } = await toCallback(env, url, jar);
        const res = await jarFetch(jar, callback.href);
        const text = await res.text();
        assert.equal(res.status, 302, `${text}${logTail(env)}`);
        const location = new URL(res.headers.get('location'));
        assert.equal(`${location.origin}${location.pathname}`, redirectUri);
        assert.equal(location.searchParams.get('state'), state);
        assert.equal(location.searchParams.get('iss'), env.issuer);
        const code = location.searchParams.get('code');
        assert.ok(code);

        const tok = await fetch(`${env.issuer}/token`, {
            method: 'POST',
            headers: { 'Content-Type': 'application/x-www-form-urlencoded' },
            body: new URLSearchParams({
                grant_type: 'authorization_code', code, redirect_uri: redirectUri,
                code_verifier: verifier, client_id: reg.client_id, resource: env.resource,
            }),
        });
        const body = await tok.text();
        assert.equal(tok.status, 200, `POST /token: ${body}${logTail(env)}`);
        await checkMintedToken(env, JSON.parse(body).access_token, { clientId: reg.client_id, scope: 'mcp:tools', ttl: 3600 });

        await expect400(await jarFetch(jar, callback.href), 'the same state again');
    });

    it('a state from another browser is a 400 page', async () => {
        const jar = new CookieJar();
        const { url } = request();
        const { callback } = await toCallback(env, url, jar);

        // another browser, which has a bridge cookie of its own
        const other = new CookieJar();
        const page = await jarFetch(other, request().url.href);
        await page.body?.cancel();
        assert.ok(other.names().includes('mcp_oauth_bridge'));
        assert.notEqual(other.header(env.issuer), jar.header(env.issuer));
        await expect400(await jarFetch(other, callback.href), 'another browser\'s cookie');
        // and a browser without any cookie
        await expect400(await fetch(callback.href, { redirect: 'manual' }), 'no cookie');
    });

    it('Deny on nginx\'s consent page: access_denied to the MCP client, the IAM is never visited', async () => {
        const jar = new CookieJar();
        const { url, state } = request();
        const requests = env.iam.requests.length;
        const { location } = await gatewayConsent(env, url, jar, { decision: 'deny' });
        assert.equal(`${location.origin}${location.pathname}`, redirectUri);
        assert.equal(location.searchParams.get('error'), 'access_denied');
        assert.equal(location.searchParams.get('code'), null);
        assert.equal(location.searchParams.get('state'), state);
        assert.equal(location.searchParams.get('iss'), env.issuer);
        assert.equal(env.iam.requests.length, requests);
    });

    it('the consent form posted from another browser (another cookie, or none) is refused with 403', async () => {
        const jar = new CookieJar();
        const { url } = request();
        const page = await jarFetch(jar, url.href);
        const html = await page.text();
        assert.equal(page.status, 200);
        const form = parseForms(html, url.href).find((f) => f.buttons.some((b) => b.name === 'decision')
            || f.inputs.some((x) => x.name === 'decision'));
        const body = new URLSearchParams(posted(form));
        body.append('decision', 'approve');

        const other = new CookieJar();
        const otherPage = await jarFetch(other, request().url.href);
        await otherPage.body?.cancel();
        assert.ok(other.names().includes('mcp_oauth_bridge'));
        for (const [what, j] of [['another browser', other], ['no cookie', new CookieJar()]]) {
            const res = await jarFetch(j, form.action, {
                method: 'POST', headers: { 'Content-Type': 'application/x-www-form-urlencoded' }, body,
            });
            const text = await res.text();
            assert.equal(res.status, 403, `${what}: 403 expected, got ${res.status} ${res.headers.get('location') || ''}\n${text}${logTail(env)}`);
            assert.equal(res.headers.get('location'), null);
        }
        // the browser that got the page can still approve
        const ok = await jarFetch(jar, form.action, {
            method: 'POST', headers: { 'Content-Type': 'application/x-www-form-urlencoded' }, body,
        });
        await ok.body?.cancel();
        assert.equal(ok.status, 302, logTail(env));
        checkIamRedirect(env, new URL(ok.headers.get('location')));
    });

    it('an error from the IAM (the user cancels at the IAM) reaches the MCP client as access_denied', async () => {
        const jar = new CookieJar();
        const { url, state } = request();
        const { callback } = await toCallback(env, url, jar, { abort: true });
        assert.equal(callback.searchParams.get('error'), 'access_denied', `${callback}`);
        const res = await jarFetch(jar, callback.href);
        const text = await res.text();
        assert.equal(res.status, 302, `${text}${logTail(env)}`);
        const location = new URL(res.headers.get('location'));
        assert.equal(`${location.origin}${location.pathname}`, redirectUri);
        assert.equal(location.searchParams.get('error'), 'access_denied');
        assert.equal(location.searchParams.get('code'), null);
        assert.equal(location.searchParams.get('state'), state);
        assert.equal(location.searchParams.get('iss'), env.issuer);
    });

    it('the IAM down during the exchange: the MCP client gets temporarily_unavailable; the state is used up only by a sign-in', async () => {
        const jar = new CookieJar();
        const { url, state } = request();
        const { callback } = await toCallback(env, url, jar);
        const grants = env.iam.grants.length;
        await env.iam.stop();
        try {
            const t0 = Date.now();
            const res = await jarFetch(jar, callback.href);
            const elapsed = Date.now() - t0;
            const text = await res.text();
            assert.equal(res.status, 302, `${text}${logTail(env)}`);
            assert.ok(elapsed < 9000, `answered within the proxy timeouts (connect 3 s, read 5 s): ${elapsed} ms`);
            const location = new URL(res.headers.get('location'));
            assert.equal(`${location.origin}${location.pathname}`, redirectUri);
            assert.equal(location.searchParams.get('error'), 'temporarily_unavailable', `${location}${logTail(env)}`);
            assert.equal(location.searchParams.get('code'), null);
            assert.equal(location.searchParams.get('state'), state);
            assert.equal(location.searchParams.get('iss'), env.issuer);
        } finally {
            await env.iam.start();
        }
        assert.equal(env.iam.grants.length, grants, 'the IAM never got the exchange');
        // a failed exchange records nothing: with the IAM back, the same
        // answer signs the user in, once
        const again = await jarFetch(jar, callback.href);
        assert.equal(again.status, 302, `${await again.text()}${logTail(env)}`);
        const back = new URL(again.headers.get('location'));
        assert.ok(back.searchParams.get('code'), `the retry gives a code: ${back}`);
        assert.equal(back.searchParams.get('state'), state);
        await expect400(await jarFetch(jar, callback.href), 'the state after a sign-in');
    });

    it('nginx logged no alert, crit or emerg (no crash)', () => assertNoCrash(env));
});

describe('IAM pass-through: mcp_oauth_iam_metadata corrects the IAM\'s metadata', { timeout: 120000 }, () => {
    const h = new Harness();
    const env = {};
    let docServer;
    const docHits = { bare: 0, counted: 0 };
    // a bare IAM document: no code_challenge_methods_supported, an issuer with
    // a trailing slash, escapes that a re-serialisation would change
    const BARE = '{"issuer":"https:\\/\\/tenant.example-iam.com\\/",'
        + '"authorization_endpoint":"https://tenant.example-iam.com/authorize",'
        + '"token_endpoint":"https://tenant.example-iam.com/oauth/token",'
        + '"jwks_uri":"https://tenant.example-iam.com/.well-known/jwks.json",'
        + '"scopes_supported":["openid","profile","email","offline_access","read:application","mcp:tools","write:everything"],'
        + '"response_types_supported":["code","token","id_token"],'
        + '"subject_types_supported":["public"],'
        + '"id_token_signing_alg_values_supported":["RS256"],'
        + '"op_policy_note":"caf\\u00e9 \\u2014 \\"quoted\\"",'
        + '"x_numbers":[1.50,2e3],"x_nested":{"a":[true,false,null],"b":{}}}';

    before(async () => {
        const [port, iamPort, docPort, closedPort] = await freePorts(4);
        env.port = port;
        env.issuer = `http://127.0.0.1:${port}`;
        env.iam = await startOidcProvider({ port: iamPort, resources: [`${env.issuer}/mcp`] });
        docServer = http.createServer((req, res) => {
            const name = req.url.replace(/^\//, '');
            if (!(name in docHits)) { res.writeHead(404); res.end(); return; }
            docHits[name]++;
            res.writeHead(200, { 'Content-Type': 'application/json' });
            res.end(BARE);
        });
        await new Promise((r) => docServer.listen(docPort, '127.0.0.1', r));
        env.ngx = await h.nginx({
            template: METADATA_CONF,
            vars: { PORT: port, IAM_ISSUER: env.iam.issuer, DOC_PORT: docPort, CLOSED_PORT: closedPort },
        });
    });

    after(async () => {
        await h.stop();
        await env.iam?.close();
        if (docServer) await new Promise((r) => { docServer.closeAllConnections(); docServer.close(() => r()); });
    });

    async function getDoc(path) {
        const res = await fetch(`${env.issuer}${path}`);
        const text = await res.text();
        assert.equal(res.status, 200, `GET ${path}: ${text}${logTail(env)}`);
        assert.equal((res.headers.get('content-type') || '').split(';')[0].trim(), 'application/json');
        return { text, doc: JSON.parse(text), res };
    }

    it('the IAM\'s document: issuer verbatim, scopes_supported replaced, everything else kept', async () => {
        const { doc } = await getDoc('/.well-known/oauth-authorization-server');
        const orig = env.iam.metadata;
        assert.equal(doc.issuer, env.iam.issuer, 'issuer verbatim');
        assert.deepEqual(doc.scopes_supported, ['mcp:tools', 'read:application'], 'mcp_oauth_scopes_supported');
        assert.deepEqual(doc.code_challenge_methods_supported, ['S256']);
        assert.deepEqual(Object.keys(doc).sort(), Object.keys(orig).sort(), 'no member added or dropped');
        for (const [k, v] of Object.entries(orig)) {
            if (k === 'scopes_supported') continue;
            assert.deepEqual(doc[k], v, `member ${k} kept`);
        }
    });

    it('with pkce, S256 is added to a document without code_challenge_methods_supported; the rest is kept', async () => {
        const { text, doc } = await getDoc('/bare/pkce');
        const bare = JSON.parse(BARE);
        assert.deepEqual(doc.code_challenge_methods_supported, ['S256']);
        assert.deepEqual(doc.scopes_supported, ['mcp:tools', 'read:application']);
        assert.equal(doc.issuer, 'https://tenant.example-iam.com/', 'the trailing slash stays');
        for (const [k, v] of Object.entries(bare)) {
            if (k === 'scopes_supported') continue;
            assert.deepEqual(doc[k], v, `member ${k} kept:\n${text}`);
        }
        assert.deepEqual(Object.keys(doc).sort(), [...Object.keys(bare), 'code_challenge_methods_supported'].sort());
    });

    it('without pkce, no code_challenge_methods_supported is made up', async () => {
        const { doc, text } = await getDoc('/bare/plain');
        assert.equal(doc.code_challenge_methods_supported, undefined, `no pkce, no S256 added:\n${text}`);
        assert.deepEqual(doc.scopes_supported, ['mcp:tools', 'read:application']);
        assert.equal(doc.issuer, 'https://tenant.example-iam.com/');
    });

    it('without pkce, on the same IAM uri as a location with pkce (fetched before): still no S256', async () => {
        await getDoc('/bare/pkce');
        const { doc, text } = await getDoc('/bare/shared');
        assert.equal(doc.code_challenge_methods_supported, undefined,
            `/bare/shared has no pkce, /bare/pkce has; both fetch /_iam/bare:\n${text}`);
    });

    it('the document is cached (cache=1h): a second request does not reach the IAM', async () => {
        const before = docHits.counted;
        const a = await getDoc('/cached');
        const b = await getDoc('/cached');
        assert.equal(docHits.counted - before, 1, 'fetched once');
        assert.equal(b.text, a.text);
    });

    it('the IAM unreachable and nothing cached: 503 temporarily_unavailable', async () => {
        const t0 = Date.now();
        const res = await fetch(`${env.issuer}/down`);
        const text = await res.text();
        assert.ok(Date.now() - t0 < 8000, 'within the proxy timeouts');
        assert.equal(res.status, 503, `${text}${logTail(env)}`);
        assert.equal(JSON.parse(text).error, 'temporarily_unavailable');
    });

    it('nginx logged no alert, crit or emerg (no crash)', () => assertNoCrash(env));
});
