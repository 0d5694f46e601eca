// End-to-end: the module's metrics (docs/observability.md) scraped by a real
// Prometheus (Debian's `prometheus`, its config, data and port of its own,
// scrape_interval 1s, examples/prometheus-rules.yml loaded).
//
//   cd t && npm ci && node --test e2e/metrics.test.mjs
//
// nginx is the authorization server and the resource server (its keys
// fetched from its own /jwks through mcp_oauth_jwks_request), with a second
// server whose state is in a Redis nobody listens on. A scripted mix of
// allowed, refused (no token, malformed, expired, bad signature, a parse
// error), step-up (403 insufficient scope) and authorization server requests
// (registrations, consents, codes, a refresh, a replayed code, a state
// error) is sent; Prometheus' HTTP API must then answer the counts that the
// answers imply, exactly. Every PromQL expression of
// examples/grafana-dashboard.json and examples/prometheus-rules.yml is
// evaluated against it (the dashboard's must return data), the alerts the
// mix causes must fire, `promtool check rules` must pass, and Prometheus'
// graph of the decisions is screenshot to docs/images/prometheus-decisions.png.

import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { createHash, createPublicKey, generateKeyPairSync, randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import * as jose from 'jose';
import { LATEST_PROTOCOL_VERSION } from '@modelcontextprotocol/sdk/types.js';
import { Harness, ROOT, freePorts, httpConf, AS_ENDPOINTS, MCP_PROXY } from './lib.mjs';

const PROMETHEUS = process.env.PROMETHEUS_PATH || '/usr/bin/prometheus';
const PROMTOOL = process.env.PROMTOOL_PATH || '/usr/bin/promtool';
const CHROMIUM = process.env.CHROMIUM_PATH || '/usr/bin/chromium';
const RULES = join(ROOT, 'examples', 'prometheus-rules.yml');
const DASHBOARD = join(ROOT, 'examples', 'grafana-dashboard.json');
const SCREENSHOT = join(ROOT, 'docs', 'images', 'prometheus-decisions.png');

const USER = 'alice';
const PASSWORD = 'wonderland';
const BASIC = `Basic ${Buffer.from(`${USER}:${PASSWORD}`).toString('base64')}`;

const NGINX_CONF = httpConf(`
    server {
        listen 127.0.0.1:{{PORT}};
        server_name localhost;

        mcp_oauth_issuer http://127.0.0.1:{{PORT}};
        mcp_oauth_signing_key {{SIGNING_KEY}};
        mcp_oauth_scopes_supported mcp:tools write:application;
        mcp_oauth_resource http://127.0.0.1:{{PORT}}/mcp;

        location = /metrics {
            mcp_oauth_metrics;
            allow 127.0.0.1;
            deny all;
        }

        location = /.well-known/oauth-protected-resource/mcp { mcp_oauth_metadata; }
        location = /.well-known/oauth-authorization-server   { mcp_oauth_server_metadata; }
${AS_ENDPOINTS}
        # the resource server takes the keys from /jwks as from any issuer
        location = /_jwks {
            internal;
            proxy_pass http://127.0.0.1:{{PORT}}/jwks;
        }

        location /mcp {
            mcp_oauth on;
            mcp_oauth_jwks_request /_jwks;
            mcp_oauth_leeway 0;
            mcp_oauth_required_scope mcp:tools;
            mcp_oauth_scope whoami mcp:tools;
            mcp_oauth_scope create_app write:application;
${MCP_PROXY}
        }
    }

    # an authorization server whose state is in a Redis that is down
    server {
        listen 127.0.0.1:{{DOWN_PORT}};
        mcp_oauth_issuer http://127.0.0.1:{{DOWN_PORT}};
        mcp_oauth_signing_key {{SIGNING_KEY}};
        mcp_oauth_resource http://127.0.0.1:{{DOWN_PORT}}/mcp;
        mcp_oauth_zone down:1m;
        mcp_oauth_state_request /_mcp_state;
        location = /_mcp_state { internal; mcp_oauth_redis_pass 127.0.0.1:{{REDIS_PORT}}; }
        location = /token    { mcp_oauth_token; }
        location = /register { mcp_oauth_register; }
    }
`);

// ---------------------------------------------------------------- helpers --

const b64url = (buf) => Buffer.from(buf).toString('base64url');

/** Adds 1 to counts[key]. */
function bump(counts, key, n = 1) {
    counts[key] = (counts[key] ?? 0) + n;
}

/**
 * The reason of a refusal as its body gives it: the error_description of a
 * 401, the JSON-RPC error's message of a 400 or of a tools/call's 403.
 */
function refusalReason(text) {
    const body = [JSON.parse(text)].flat()[0];
    return body.error_description ?? body.error.message;
}

const DECISIONS = { 200: 'allowed', 202: 'allowed', 400: 'bad_request', 401: 'unauthorized', 403: 'forbidden' };

/**
 * The resource server's side of the mix: each request sent, its answer
 * turned into the counts the metrics must show (the decision and the reason
 * from the answer itself: its status and body).
 */
class Mix {
    constructor(resource) {
        this.resource = resource;
        this.requests = {};   // "decision|reason"
        this.methods = {};    // method
        this.tools = {};      // "tool|decision"
        this.cache = {};      // result: a token verified before is a hit
        this.verified = new Set();
    }

    async post(body, { token, raw, tool } = {}) {
        const headers = {
            'Content-Type': 'application/json',
            Accept: 'application/json, text/event-stream',
            'MCP-Protocol-Version': LATEST_PROTOCOL_VERSION,
        };
        if (token) headers.Authorization = `Bearer ${token}`;
        if (this.session) headers['Mcp-Session-Id'] = this.session;
        const res = await fetch(this.resource, { method: 'POST', headers, body: raw ?? JSON.stringify(body) });
        const text = await res.text();
        const decision = DECISIONS[res.status];
        assert.ok(decision, `POST /mcp: unexpected ${res.status}: ${text}`);
        const reason = decision === 'allowed' ? '' : refusalReason(text);
        bump(this.requests, `${decision}|${reason}`);
        // methods and tool calls are counted for messages the module read
        if (body && (decision === 'allowed' || decision === 'forbidden')) {
            bump(this.methods, body.method);
            if (body.method === 'tools/call') bump(this.tools, `${tool}|${decision}`);
        }
        if (token) {
            bump(this.cache, this.verified.has(token) ? 'hit' : 'miss');
            if (decision !== 'unauthorized') this.verified.add(token);
        }
        if (res.headers.get('mcp-session-id')) this.session = res.headers.get('mcp-session-id');
        return res;
    }

    call(token, name, tool = name) {
        return this.post({ jsonrpc: '2.0', id: 3, method: 'tools/call', params: { name, arguments: {} } },
            { token, tool });
    }
}

/** Registers a public client at `issuer`; returns its client_id. */
async function register(issuer, redirectUri) {
    const res = await fetch(`${issuer}/register`, {
        method: 'POST',
        headers: { 'Content-Type': 'application/json' },
        body: JSON.stringify({
            client_name: 'metrics e2e', redirect_uris: [redirectUri],
            grant_types: ['authorization_code', 'refresh_token'], token_endpoint_auth_method: 'none',
        }),
    });
    const text = await res.text();
    assert.equal(res.status, 201, `POST /register: ${text}`);
    return JSON.parse(text).client_id;
}

/**
 * /authorize as the signed-in user: the consent page, then `decision`;
 * returns the redirect's query (code or error).
 */
async function authorize(issuer, clientId, redirectUri, { scope, challenge, decision = 'approve' }) {
    const url = new URL(`${issuer}/authorize`);
    for (const [k, v] of Object.entries({
        response_type: 'code', client_id: clientId, redirect_uri: redirectUri, scope,
        code_challenge: challenge, code_challenge_method: 'S256', state: b64url(randomBytes(8)),
        resource: `${issuer}/mcp`,
    })) url.searchParams.set(k, v);
    const page = await fetch(url, { headers: { Authorization: BASIC }, redirect: 'manual' });
    const html = await page.text();
    assert.equal(page.status, 200, `GET /authorize: the consent page expected:\n${html}`);
    const form = new URLSearchParams();
    // what a browser posts: the hidden fields and the ticked scopes
    for (const m of html.matchAll(/<input\b[^>]*type="(?:hidden|checkbox)"[^>]*>/gi)) {
        if (/type="checkbox"/.test(m[0]) && !/ checked>$/.test(m[0])) continue;
        const name = /name="([^"]*)"/.exec(m[0])[1];
        const value = /value="([^"]*)"/.exec(m[0])?.[1] ?? '';
        form.append(name, value.replace(/&amp;/g, '&').replace(/&quot;/g, '"').replace(/&#39;/g, "'")
            .replace(/&lt;/g, '<').replace(/&gt;/g, '>'));
    }
    form.append('decision', decision);
    const res = await fetch(`${issuer}/authorize`, {
        method: 'POST',
        headers: { Authorization: BASIC, 'Content-Type': 'application/x-www-form-urlencoded' },
        body: form,
        redirect: 'manual',
    });
    await res.text();
    assert.ok([302, 303].includes(res.status), `POST /authorize: a redirect expected, got ${res.status}`);
    return new URL(res.headers.get('location')).searchParams;
}

async function token(issuer, params) {
    const res = await fetch(`${issuer}/token`, {
        method: 'POST',
        headers: { 'Content-Type': 'application/x-www-form-urlencoded' },
        body: new URLSearchParams(params),
    });
    return { status: res.status, body: await res.json() };
}

function pkce() {
    const verifier = b64url(randomBytes(32));
    return { verifier, challenge: b64url(createHash('sha256').update(verifier).digest()) };
}

/** Prometheus' HTTP API: an instant query; the whole answer ({ status, data }). */
async function promQuery(port, query) {
    const res = await fetch(`http://127.0.0.1:${port}/api/v1/query?${new URLSearchParams({ query })}`);
    return res.json();
}

/** An instant query's vector as { "label|label": value }, by `labels`. */
async function promVector(port, query, labels) {
    const answer = await promQuery(port, query);
    assert.equal(answer.status, 'success', `${query}: ${JSON.stringify(answer)}`);
    const out = {};
    for (const s of answer.data.result) out[labels.map((l) => s.metric[l] ?? '').join('|')] = Number(s.value[1]);
    return out;
}

/** Polls `query` until it equals `expected` (Prometheus scrapes every second); asserts the last answer. */
async function promEventually(port, query, labels, expected, timeoutMs = 15000) {
    const deadline = Date.now() + timeoutMs;
    let got;
    for (;;) {
        got = await promVector(port, query, labels);
        try {
            assert.deepEqual(got, expected);
            return got;
        } catch (e) {
            if (Date.now() > deadline) {
                e.message = `${query}\n${e.message}`;
                throw e;
            }
        }
        await sleep(250);
    }
}

/** Every PromQL expression of the dashboard (rows' panels too), Grafana's variables filled in. */
function dashboardExprs() {
    const dash = JSON.parse(readFileSync(DASHBOARD, 'utf8'));
    const exprs = [];
    const walk = (panels) => {
        for (const p of panels ?? []) {
            for (const t of p.targets ?? []) exprs.push({ panel: p.title, expr: t.expr });
            walk(p.panels);
        }
    };
    walk(dash.panels);
    return { dash, exprs };
}

function grafanaVars(expr) {
    return expr.replaceAll('$__rate_interval', '1m').replaceAll('$__interval', '15s')
        .replaceAll('$__range', '5m').replaceAll('$instance', '.+');
}

/** Every `expr` of the rules file, with its alert's name (a YAML subset: `- alert:`, `expr:` plain or `|`). */
function ruleExprs() {
    const lines = readFileSync(RULES, 'utf8').split('\n');
    const rules = [];
    for (let i = 0; i < lines.length; i++) {
        const alert = /^\s*- alert:\s*(\S+)/.exec(lines[i]);
        if (alert) rules.push({ alert: alert[1] });
        const m = /^(\s*)expr:\s*(.*)$/.exec(lines[i]);
        if (!m) continue;
        let expr = m[2];
        if (expr === '|') {
            const block = [];
            while (i + 1 < lines.length && (lines[i + 1].trim() === ''
                || lines[i + 1].search(/\S/) > m[1].length)) block.push(lines[++i].trim());
            expr = block.join('\n').trim();
        }
        rules.at(-1).expr = expr;
    }
    return rules;
}

// ================================================================= suite --

describe('metrics: a real Prometheus scrapes the module', { timeout: 60000 }, () => {
    const h = new Harness();
    const env = {};
    let tmp;

    after(async () => {
        await h.stop();
        if (tmp) rmSync(tmp, { recursive: true, force: true });
    });

    before(async () => {
        assert.ok(existsSync(PROMETHEUS), `${PROMETHEUS} is missing: apt-get install prometheus (./build.sh deps)`);
        tmp = mkdtempSync(join(tmpdir(), 'mcp-e2e-metrics-'));
        env.keyPath = join(tmp, 'signing.pem');
        execFileSync('openssl', ['genpkey', '-algorithm', 'EC', '-pkeyopt', 'ec_paramgen_curve:P-256',
            '-out', env.keyPath], { stdio: ['ignore', 'ignore', 'pipe'] });
        const htpasswd = join(tmp, 'htpasswd');
        writeFileSync(htpasswd, `${USER}:{PLAIN}${PASSWORD}\n`);

        const [port, downPort, redisPort, upstreamPort, promPort] = await freePorts(5);
        Object.assign(env, { port, downPort, promPort });
        env.issuer = `http://127.0.0.1:${port}`;
        env.resource = `${env.issuer}/mcp`;
        await h.mcpServer({ port: upstreamPort, json: true });
        env.ngx = await h.nginx({
            template: NGINX_CONF,
            vars: { PORT: port, DOWN_PORT: downPort, REDIS_PORT: redisPort, UPSTREAM_PORT: upstreamPort,
                SIGNING_KEY: env.keyPath, HTPASSWD: htpasswd },
        });

        writeFileSync(join(tmp, 'prometheus.yml'), [
            'global:',
            '  scrape_interval: 1s',
            '  evaluation_interval: 1s',
            'rule_files:',
            `  - ${RULES}`,
            'scrape_configs:',
            '  - job_name: nginx-mcp-oauth',
            '    metrics_path: /metrics',
            '    static_configs:',
            `      - targets: ['127.0.0.1:${port}']`,
            '',
        ].join('\n'));
        env.prom = await h.process({
            label: `prometheus (${promPort})`,
            cmd: PROMETHEUS,
            cwd: tmp,
            port: promPort,
            args: [`--config.file=${join(tmp, 'prometheus.yml')}`, `--storage.tsdb.path=${join(tmp, 'data')}`,
                `--web.listen-address=127.0.0.1:${promPort}`, '--log.level=warn'],
        });
    });

    it('promtool check rules accepts examples/prometheus-rules.yml', () => {
        const out = execFileSync(PROMTOOL, ['check', 'rules', RULES], { encoding: 'utf8' });
        assert.match(out, /SUCCESS: \d+ rules found/);
    });

    it('the mix of requests is counted exactly, as Prometheus answers', async () => {
        const redirectUri = 'http://127.0.0.1:1/callback';
        const as = {
            authorizations: {}, tokens: {}, registrations: {}, errors: {}, replays: {}, revocations: 0,
        };

        /** A registered client's consent and code: the parameters that redeem it at /token. */
        const grant = async (clientId) => {
            const p = pkce();
            const q = await authorize(env.issuer, clientId, redirectUri, { scope: 'mcp:tools', challenge: p.challenge });
            bump(as.authorizations, 'consent_asked');
            bump(as.authorizations, 'code_issued');
            return {
                grant_type: 'authorization_code', code: q.get('code'), redirect_uri: redirectUri,
                code_verifier: p.verifier, client_id: clientId, resource: env.resource,
            };
        };

        // --- the authorization server: a grant (consent, code, token, refresh)
        const clientId = await register(env.issuer, redirectUri);
        bump(as.registrations, 'ok');
        const t1 = await token(env.issuer, await grant(clientId));
        assert.equal(t1.status, 200, JSON.stringify(t1.body));
        bump(as.tokens, 'authorization_code');
        const t2 = await token(env.issuer, {
            grant_type: 'refresh_token', refresh_token: t1.body.refresh_token, client_id: clientId,
        });
        assert.equal(t2.status, 200, JSON.stringify(t2.body));
        bump(as.tokens, 'refresh_token');

        // --- the resource server: refused, allowed, step-up
        const mix = new Mix(env.resource);
        const kid = await jose.calculateJwkThumbprint(
            createPublicKey(readFileSync(env.keyPath)).export({ format: 'jwk' }), 'sha256');
        const claims = { iss: env.issuer, aud: env.resource, sub: USER, client_id: clientId, scope: 'mcp:tools' };
        const now = Math.floor(Date.now() / 1000);
        const expired = await new jose.SignJWT(claims)
            .setProtectedHeader({ alg: 'ES256', typ: 'at+jwt', kid })
            .setIssuedAt(now - 7200).setExpirationTime(now - 3600)
            .sign(await jose.importPKCS8(readFileSync(env.keyPath, 'utf8'), 'ES256'));
        const other = generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey;
        const forged = await new jose.SignJWT(claims)
            .setProtectedHeader({ alg: 'ES256', typ: 'at+jwt', kid })
            .setIssuedAt(now).setExpirationTime(now + 600)
            .sign(other);
        const init = {
            jsonrpc: '2.0', id: 1, method: 'initialize',
            params: { protocolVersion: LATEST_PROTOCOL_VERSION, capabilities: {}, clientInfo: { name: 'm', version: '0' } },
        };
        const at = t1.body.access_token;

        assert.equal((await mix.post(init)).status, 401);
        assert.equal((await mix.post(init, { token: 'x.y.z' })).status, 401);
        assert.equal((await mix.post(init, { token: expired })).status, 401);
        assert.equal((await mix.post(init, { token: forged })).status, 401);
        assert.equal((await mix.post(init, { token: at })).status, 200);
        assert.equal((await mix.post({ jsonrpc: '2.0', method: 'notifications/initialized' }, { token: at })).status, 202);
        assert.equal((await mix.post({ jsonrpc: '2.0', id: 2, method: 'tools/list' }, { token: at })).status, 200);
        for (let i = 0; i < 3; i++) assert.equal((await mix.call(at, 'whoami')).status, 200);
        assert.equal((await mix.call(at, 'list_apps', 'other')).status, 200);
        const stepUp = await mix.call(at, 'create_app');
        assert.equal(stepUp.status, 403);
        assert.match(stepUp.headers.get('www-authenticate'), /error="insufficient_scope"/);
        assert.equal((await mix.call(t2.body.access_token, 'whoami')).status, 200);
        assert.equal((await mix.post(null, { token: at, raw: '{"jsonrpc":"2.0","id":9,"method":"tools/call"' })).status, 400);

        // --- a denied consent, a second grant whose code is replayed
        const pd = pkce();
        const qd = await authorize(env.issuer, clientId, redirectUri,
            { scope: 'mcp:tools write:application', challenge: pd.challenge, decision: 'deny' });
        assert.equal(qd.get('error'), 'access_denied');
        bump(as.authorizations, 'consent_asked');
        bump(as.authorizations, 'denied');
        const client2 = await register(env.issuer, redirectUri);
        bump(as.registrations, 'ok');
        const redeem = await grant(client2);
        assert.equal((await token(env.issuer, redeem)).status, 200);
        bump(as.tokens, 'authorization_code');
        const replay = await token(env.issuer, redeem);
        assert.equal(replay.status, 400);
        assert.equal(replay.body.error, 'invalid_grant');
        bump(as.errors, 'invalid_grant');
        bump(as.replays, 'code');
        as.revocations += 1;

        // --- the state in a Redis that is down: a refresh (the same signing
        // key: the client and the token are recognised) answers 503
        env.downAnswer = await token(`http://127.0.0.1:${env.downPort}`, {
            grant_type: 'refresh_token', refresh_token: t2.body.refresh_token, client_id: clientId,
        });

        // --- Prometheus has it all, exactly
        const p = env.promPort;
        await promEventually(p, 'sum by (decision, reason) (nginx_mcp_oauth_requests_total)', ['decision', 'reason'], mix.requests);
        const byDecision = {};
        for (const [k, v] of Object.entries(mix.requests)) bump(byDecision, k.split('|')[0], v);
        assert.deepEqual(byDecision, { allowed: 8, unauthorized: 4, forbidden: 1, bad_request: 1 });
        await promEventually(p, 'sum by (decision) (nginx_mcp_oauth_requests_total)', ['decision'], byDecision);
        await promEventually(p, 'sum by (method) (nginx_mcp_oauth_jsonrpc_messages_total)', ['method'], mix.methods);
        await promEventually(p, 'sum by (tool, decision) (nginx_mcp_oauth_tool_calls_total)', ['tool', 'decision'], mix.tools);
        await promEventually(p, 'sum by (result) (nginx_mcp_oauth_authorizations_total)', ['result'], as.authorizations);
        await promEventually(p, 'sum by (grant_type) (nginx_mcp_oauth_tokens_issued_total)', ['grant_type'], as.tokens);
        await promEventually(p, 'sum by (result) (nginx_mcp_oauth_registrations_total)', ['result'], as.registrations);
        await promEventually(p, 'sum by (credential) (nginx_mcp_oauth_replays_total)', ['credential'], as.replays);
        await promEventually(p, 'sum(nginx_mcp_oauth_revocations_total)', [], { '': as.revocations });
        env.mix = mix;
        env.token = at;
    });

    it('the state error, the keys and the token cache are counted', async () => {
        const p = env.promPort;
        assert.equal(env.downAnswer.status, 503, JSON.stringify(env.downAnswer.body));
        assert.equal(env.downAnswer.body.error, 'temporarily_unavailable');
        await promEventually(p, 'sum by (backend) (nginx_mcp_oauth_state_errors_total)', ['backend'], { redis: 1 });
        await promEventually(p, 'sum by (error) (nginx_mcp_oauth_token_errors_total)', ['error'],
            { invalid_grant: 1, temporarily_unavailable: 1 });
        await promEventually(p, 'sum by (source, result) (nginx_mcp_oauth_jwks_fetches_total)', ['source', 'result'],
            { '/_jwks|ok': 1 });
        const age = await promVector(p, 'time() - nginx_mcp_oauth_jwks_last_success_timestamp_seconds', ['source']);
        assert.deepEqual(Object.keys(age), ['/_jwks']);
        assert.ok(age['/_jwks'] >= 0 && age['/_jwks'] < 60, `the keys are ${age['/_jwks']} s old`);
        const cache = await promVector(p, 'sum by (result) (nginx_mcp_oauth_token_cache_lookups_total)', ['result']);
        // each request once, the first one that waited for the keys too
        assert.deepEqual(cache, env.mix.cache);
        assert.deepEqual(cache, { hit: 8, miss: 5 });
    });

    it('every PromQL expression of the dashboard is accepted and returns data', async () => {
        const { dash, exprs } = dashboardExprs();
        assert.equal(dash.schemaVersion, 39);
        assert.ok(exprs.length >= 15, `${exprs.length} expressions`);
        for (const panel of ['Decisions', 'Refusals by reason', 'Tool calls', 'Key freshness', 'Token cache hit ratio',
            'Tokens issued', 'Authorizations', 'Registrations and errors', 'Replays', 'Revocations', 'State errors']) {
            assert.ok(exprs.some((e) => e.panel === panel), `a panel "${panel}"`);
        }
        // rate() needs two samples of each series in its window
        const deadline = Date.now() + 10000;
        for (const { panel, expr } of exprs) {
            const q = grafanaVars(expr);
            assert.doesNotMatch(q, /\$/, `${panel}: a Grafana variable is left in ${q}`);
            for (;;) {
                const answer = await promQuery(env.promPort, q);
                assert.equal(answer.status, 'success', `${panel}: ${q}: ${JSON.stringify(answer)}`);
                if (answer.data.result.length > 0) break;
                assert.ok(Date.now() < deadline, `${panel}: ${q} returned no data`);
                await sleep(250);
            }
        }
    });

    it('every rule of examples/prometheus-rules.yml is valid; the replay and the state error fire', async () => {
        const rules = ruleExprs();
        assert.ok(rules.length >= 5);
        for (const { alert, expr } of rules) {
            assert.ok(expr, `${alert} has an expr`);
            const answer = await promQuery(env.promPort, expr);
            assert.equal(answer.status, 'success', `${alert}: ${expr}: ${JSON.stringify(answer)}`);
            const data = answer.data.result.length > 0;
            if (['McpOAuthCredentialReplay', 'McpOAuthStateErrors'].includes(alert)) {
                assert.ok(data, `${alert} returns data: ${expr}`);
            } else if (alert !== 'McpOAuthRefusalSpike') {
                assert.ok(!data, `${alert} does not alarm: ${JSON.stringify(answer.data.result)}`);
            }
        }
        // Prometheus loaded them, evaluates them, and the two alerts fire
        const deadline = Date.now() + 10000;
        for (;;) {
            const res = await (await fetch(`http://127.0.0.1:${env.promPort}/api/v1/rules`)).json();
            const loaded = res.data.groups.flatMap((g) => g.rules);
            assert.deepEqual(loaded.map((r) => r.name).sort(), rules.map((r) => r.alert).sort());
            for (const r of loaded) assert.equal(r.health === 'err' ? r.lastError : 'ok', 'ok', r.name);
            const firing = loaded.filter((r) => r.state === 'firing').map((r) => r.name).sort();
            if (firing.includes('McpOAuthCredentialReplay') && firing.includes('McpOAuthStateErrors')) break;
            assert.ok(Date.now() < deadline, `firing: ${firing.join(', ')}`);
            await sleep(250);
        }
    });

    it("Prometheus' graph of the decisions (docs/images/prometheus-decisions.png)", async () => {
        assert.ok(existsSync(CHROMIUM), `${CHROMIUM} is missing: apt-get install chromium (./build.sh deps)`);
        // a few more rounds, one a second, for the graph to rise
        for (let i = 0; i < 6; i++) {
            for (let j = 0; j <= i; j++) await env.mix.call(env.token, 'whoami');
            await env.mix.post({ jsonrpc: '2.0', id: 1, method: 'tools/list' });
            if (i % 2) await env.mix.call(env.token, 'create_app');
            await sleep(1000);
        }
        await promEventually(env.promPort, 'sum by (decision, reason) (nginx_mcp_oauth_requests_total)',
            ['decision', 'reason'], env.mix.requests);
        const { chromium } = await import('playwright-core');
        const browser = await chromium.launch({
            executablePath: CHROMIUM, headless: true, args: ['--no-sandbox', '--disable-background-networking'],
        });
        try {
            const page = await browser.newPage({ viewport: { width: 1280, height: 720 } });
            const q = new URLSearchParams({
                'g0.expr': 'sum by (decision) (nginx_mcp_oauth_requests_total)',
                'g0.tab': '0', 'g0.range_input': '30s', 'g0.stacked': '0',
            });
            await page.goto(`http://127.0.0.1:${env.promPort}/graph?${q}`);
            await page.locator('.graph_area svg, .graph svg, canvas').first().waitFor({ timeout: 10000 });
            await sleep(500);
            const text = await page.locator('body').innerText();
            for (const d of ['allowed', 'unauthorized', 'forbidden', 'bad_request']) {
                assert.ok(text.includes(d), `the legend names ${d}`);
            }
            mkdirSync(join(ROOT, 'docs', 'images'), { recursive: true });
            await page.screenshot({ path: SCREENSHOT, fullPage: true });
        } finally {
            await browser.close();
        }
    });

    it('nginx logged no alert, crit or emerg (no crash)', () => {
        assert.equal(env.ngx.child.exitCode, null, 'nginx is still running');
        const bad = env.ngx.errorLog().split('\n').filter((l) => /\[(alert|crit|emerg)\]/.test(l));
        assert.deepEqual(bad, []);
    });
});
