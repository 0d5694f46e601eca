// End-to-end: the consent page made for people (docs/authorization-server.md
// "The consent page"), in headless Chromium (playwright-core, Debian's
// /usr/bin/chromium), against one nginx with two authorization servers:
//
//   plain      the built-in look, scope descriptions, the tool rules of its
//              /mcp (what each scope unlocks), mcp:tools required;
//   templated  the same with examples/consent.html, examples/consent-logo.svg
//              and a product name.
//
// Each page is screenshot to docs/images/consent-plain.png and
// docs/images/consent-templated.png (committed, shown in the docs) after the
// checks that it shows the descriptions, what the scopes unlock, the
// client's own name marked "unverified" and the redirect host.  Then the
// person unticks write:application in the browser and approves: the token
// carries only what was left ticked, and a tool of the unticked scope is
// refused at /mcp (403 insufficient_scope) while one of a ticked scope
// passes the scope check.
//
//   cd t && npm ci && node --test e2e/consent.test.mjs

import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import { execFileSync } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ROOT, Harness, freePorts, httpConf, AS_ENDPOINTS, MCP_PROXY } from './lib.mjs';

const CHROMIUM = process.env.CHROMIUM_PATH || '/usr/bin/chromium';
const IMAGES = join(ROOT, 'docs', 'images');
const USER = 'alice';
const PASSWORD = 'wonderland';
const ALL = ['mcp:tools', 'read:application', 'write:application'];

const DESCRIPTIONS = {
    'mcp:tools': 'Use the tools of this MCP server',
    'read:application': 'See your applications and their settings',
    'write:application': 'Create, update and delete applications',
};

function server(port, look) {
    return `
    server {
        listen 127.0.0.1:${port};
        server_name localhost;

        mcp_oauth_issuer http://127.0.0.1:${port};
        mcp_oauth_signing_key {{SIGNING_KEY}};
        mcp_oauth_scopes_supported ${ALL.join(' ')};
        mcp_oauth_resource http://127.0.0.1:${port}/mcp;

        # what the person sees
        mcp_oauth_scope_description mcp:tools "${DESCRIPTIONS['mcp:tools']}";
        mcp_oauth_scope_description read:application "${DESCRIPTIONS['read:application']}";
        mcp_oauth_scope_description write:application "${DESCRIPTIONS['write:application']}";
        mcp_oauth_consent_required_scope mcp:tools;
${look}
        location = /.well-known/oauth-protected-resource/mcp { mcp_oauth_metadata; }
        location = /.well-known/oauth-authorization-server   { mcp_oauth_server_metadata; }
${AS_ENDPOINTS}
        location /mcp {
            mcp_oauth on;
            mcp_oauth_required_scope mcp:tools;
            mcp_oauth_scope list_apps read:application;
            mcp_oauth_scope "create_*" write:application;
            mcp_oauth_scope delete_app write:application;
${MCP_PROXY}
        }
    }
`;
}

const LOOK = `
        mcp_oauth_page_template ${join(ROOT, 'examples', 'consent.html')};
        mcp_oauth_page_logo ${join(ROOT, 'examples', 'consent-logo.svg')};
        mcp_oauth_page_product "Acme MCP Gateway";
`;

function pkce() {
    const verifier = randomBytes(32).toString('base64url');
    return { verifier, challenge: createHash('sha256').update(verifier).digest('base64url') };
}

function claims(jwt) {
    return JSON.parse(Buffer.from(jwt.split('.')[1], 'base64url').toString());
}

describe('consent page: descriptions, unlocks, unverified names and the choice, in Chromium', { timeout: 120000 }, () => {
    const h = new Harness();
    const env = {};
    let tmp, browser, callback;
    const codes = new Map();

    before(async () => {
        tmp = mkdtempSync(join(tmpdir(), 'mcp-e2e-consent-'));
        env.key = join(tmp, 'signing.pem');
        execFileSync('openssl', ['genpkey', '-algorithm', 'EC', '-pkeyopt', 'ec_paramgen_curve:P-256',
            '-out', env.key], { stdio: ['ignore', 'ignore', 'pipe'] });
        const htpasswd = join(tmp, 'htpasswd');
        writeFileSync(htpasswd, `${USER}:{PLAIN}${PASSWORD}\n`);

        const [plain, templated, upstream, cb] = await freePorts(4);
        env.plain = `http://127.0.0.1:${plain}`;
        env.templated = `http://127.0.0.1:${templated}`;
        env.callback = `http://127.0.0.1:${cb}/callback`;
        await h.mcpServer({ port: upstream, json: true });
        env.ngx = await h.nginx({
            template: httpConf(server(plain, '') + server(templated, LOOK)),
            vars: { PORT: plain, UPSTREAM_PORT: upstream, SIGNING_KEY: env.key, HTPASSWD: htpasswd },
        });

        // the client's redirect URI: a loopback page that shows it got a code
        callback = http.createServer((req, res) => {
            const u = new URL(req.url, env.callback);
            codes.set(u.searchParams.get('state'), u);
            res.writeHead(200, { 'Content-Type': 'text/html' });
            res.end('<!doctype html><title>done</title><p id="done">done</p>');
        });
        await new Promise((r) => callback.listen(cb, '127.0.0.1', r));

        assert.ok(existsSync(CHROMIUM), `${CHROMIUM} is missing: apt-get install chromium (./build.sh deps)`);
        const { chromium } = await import('playwright-core');
        browser = await chromium.launch({ executablePath: CHROMIUM, headless: true,
                                          args: ['--no-sandbox', '--disable-background-networking'] });
    });

    after(async () => {
        await browser?.close().catch(() => {});
        if (callback) await new Promise((r) => { callback.closeAllConnections(); callback.close(() => r()); });
        await h.stop();
        if (tmp) rmSync(tmp, { recursive: true, force: true });
    });

    /** A DCR client of `issuer` that calls itself "Acme Assistant", and its consent page in Chromium. */
    async function consentPage(issuer) {
        const reg = await fetch(`${issuer}/register`, {
            method: 'POST', headers: { 'Content-Type': 'application/json' },
            body: JSON.stringify({ client_name: 'Acme Assistant', redirect_uris: [env.callback],
                                   token_endpoint_auth_method: 'none' }),
        });
        const client = await reg.json();
        assert.equal(reg.status, 201, JSON.stringify(client));
        const { verifier, challenge } = pkce();
        const state = randomBytes(8).toString('base64url');
        const url = new URL(`${issuer}/authorize`);
        for (const [k, v] of Object.entries({
            response_type: 'code', client_id: client.client_id, redirect_uri: env.callback, state,
            code_challenge: challenge, code_challenge_method: 'S256', scope: ALL.join(' '),
            resource: `${issuer}/mcp`,
        })) url.searchParams.set(k, v);
        const context = await browser.newContext({ httpCredentials: { username: USER, password: PASSWORD },
                                                   viewport: { width: 760, height: 900 } });
        const page = await context.newPage();
        const res = await page.goto(url.href);
        assert.equal(res.status(), 200, await res.text());
        return { client, verifier, state, context, page };
    }

    /** What every consent page must show a person. */
    async function checkPage(page) {
        const text = await page.locator('body').innerText();
        for (const s of ALL) {
            assert.ok(text.includes(s), `scope ${s} is on the page:\n${text}`);
            assert.ok(await page.getByText(DESCRIPTIONS[s]).isVisible(), `the description of ${s} is shown`);
            const box = page.locator(`input[type=checkbox][value="${s}"]`);
            assert.equal(await box.isChecked(), true, `${s} is ticked`);
            assert.equal(await box.isDisabled(), s === 'mcp:tools', `only the required scope is disabled (${s})`);
        }
        const mark = page.locator('h1 .unverified');
        assert.equal(await mark.innerText(), 'unverified', 'the name the client gave itself is marked');
        assert.ok(await mark.isVisible());
        assert.match(await page.locator('h1').innerText(), /Acme Assistant/);
        assert.equal(await page.locator('p.host').innerText(), '127.0.0.1:' + new URL(env.callback).port);
        // what the scopes unlock at /mcp (its mcp_oauth_scope rules)
        const unlocks = await page.locator('li.scope', { hasText: 'write:application' }).locator('ul.unlocks').innerText();
        assert.match(unlocks, /tools create_\*/);
        assert.match(unlocks, /tool delete_app/);
        assert.match(await page.locator('li.scope', { hasText: 'read:application' }).innerText(), /tool list_apps/);
    }

    it('the built-in page: descriptions, what each scope unlocks, the unverified name and the redirect host (docs/images/consent-plain.png)', async () => {
        const { context, page } = await consentPage(env.plain);
        try {
            await checkPage(page);
            mkdirSync(IMAGES, { recursive: true });
            await page.screenshot({ path: join(IMAGES, 'consent-plain.png'), fullPage: true });
        } finally {
            await context.close();
        }
    });

    it('the operator\'s template, logo and product name frame the same page (docs/images/consent-templated.png)', async () => {
        const { context, page } = await consentPage(env.templated);
        try {
            await checkPage(page);
            assert.equal(await page.locator('.bar span').innerText(), 'Acme MCP Gateway');
            assert.match(await page.title(), /^Authorize Acme Assistant · Acme MCP Gateway$/);
            const logo = page.locator('.bar img.logo');
            assert.match(await logo.getAttribute('src'), /^data:image\/svg\+xml;base64,/);
            assert.ok(await logo.evaluate((img) => img.complete && img.naturalWidth > 0), 'the logo is drawn');
            await page.screenshot({ path: join(IMAGES, 'consent-templated.png'), fullPage: true });
        } finally {
            await context.close();
        }
    });

    it('unticking write:application in the browser: the token carries the rest, its tools are refused', async () => {
        const { client, verifier, state, context, page } = await consentPage(env.plain);
        try {
            await page.locator('input[type=checkbox][value="write:application"]').uncheck();
            await Promise.all([
                page.waitForURL((u) => u.href.startsWith(env.callback), { timeout: 15000 }),
                page.locator('[name="decision"][value="approve"]').click(),
            ]);
        } finally {
            await context.close();
        }
        const cb = codes.get(state);
        assert.ok(cb?.searchParams.get('code'), `a code came back: ${cb}`);
        const tok = await fetch(`${env.plain}/token`, {
            method: 'POST', headers: { 'Content-Type': 'application/x-www-form-urlencoded' },
            body: new URLSearchParams({ grant_type: 'authorization_code', code: cb.searchParams.get('code'),
                                        redirect_uri: env.callback, code_verifier: verifier,
                                        client_id: client.client_id }),
        });
        const tokens = await tok.json();
        assert.equal(tok.status, 200, JSON.stringify(tokens));
        assert.equal(tokens.scope, 'mcp:tools read:application');
        assert.equal(claims(tokens.access_token).scope, 'mcp:tools read:application');

        const call = (name) => fetch(`${env.plain}/mcp`, {
            method: 'POST',
            headers: { Authorization: `Bearer ${tokens.access_token}`, 'Content-Type': 'application/json',
                       Accept: 'application/json, text/event-stream' },
            body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'tools/call', params: { name, arguments: {} } }),
        });
        const refused = await call('create_app');
        assert.equal(refused.status, 403);
        assert.match(refused.headers.get('www-authenticate'), /error="insufficient_scope".*scope="[^"]*write:application/);
        const allowed = await call('list_apps');
        assert.notEqual(allowed.status, 403, 'list_apps passes the scope check');
        assert.notEqual(allowed.status, 401);
    });

    it('nginx logged no alert, crit or emerg', () => {
        const bad = env.ngx.errorLog().split('\n').filter((l) => /\[(alert|crit|emerg)\]/.test(l));
        assert.deepEqual(bad, []);
    });
});
