// End-to-end: the device authorization grant (RFC 8628) of the built-in
// authorization server (docs/authorization-server.md "Device flow").
//
//   cd t && npm ci && node --test e2e/device.test.mjs
//
// A CLI-like client asks /device_authorization for the codes and polls
// /token as RFC 8628 §3.5 says (the interval, 5 s more on slow_down) while
// headless Chromium (playwright-core, Debian's /usr/bin/chromium) plays the
// user: signs in (auth_basic), opens verification_uri, types the user code
// into the form, sees the consent page with the client and the same code,
// approves.  The token the poll gets then calls a tool through nginx with the
// MCP SDK client.  The device page's screenshot goes to
// e2e/artifacts/device.png (not committed), taken once the code form is seen.

import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { E2E_DIR, Harness, freePorts, httpConf, MCP_PROXY } from './lib.mjs';

const CHROMIUM = process.env.CHROMIUM_PATH || '/usr/bin/chromium';
const ARTIFACTS = join(E2E_DIR, 'artifacts');
const USER = 'alice';
const PASSWORD = 'wonderland';
const GRANT = 'urn:ietf:params:oauth:grant-type:device_code';

const NGINX_CONF = httpConf(`
    server {
        listen 127.0.0.1:{{PORT}};
        server_name localhost;

        mcp_oauth_issuer http://127.0.0.1:{{PORT}};
        mcp_oauth_signing_key {{SIGNING_KEY}};
        mcp_oauth_scopes_supported mcp:tools read:application;
        mcp_oauth_resource http://127.0.0.1:{{PORT}}/mcp;

        mcp_oauth_client acme-cli "name=Acme CLI" device;
        mcp_oauth_device_interval 1s;

        location = /.well-known/oauth-protected-resource/mcp { mcp_oauth_metadata; }
        location = /.well-known/oauth-authorization-server   { mcp_oauth_server_metadata; }
        location = /token { mcp_oauth_token; }
        location = /device_authorization { mcp_oauth_device_authorization; }
        location = /device {
            auth_basic "MCP";
            auth_basic_user_file {{HTPASSWD}};
            mcp_oauth_device_verify;
        }

        location /mcp {
            mcp_oauth on;
            mcp_oauth_required_scope mcp:tools;
${MCP_PROXY}
        }
    }
`);

function form(body) {
    return { method: 'POST', headers: { 'Content-Type': 'application/x-www-form-urlencoded' },
             body: new URLSearchParams(body).toString() };
}

/**
 * The CLI's side: poll /token until the answer is not pending, waiting the
 * interval between polls and 5 s more after each slow_down (RFC 8628 §3.5).
 * Returns the token answer and every error seen, in order.
 */
async function pollForToken(issuer, codes, { clientId, deadlineMs }) {
    let interval = codes.interval;
    const seen = [];
    while (Date.now() < deadlineMs) {
        await sleep(interval * 1000);
        const res = await fetch(`${issuer}/token`, form({
            grant_type: GRANT, device_code: codes.device_code, client_id: clientId,
        }));
        const body = await res.json();
        if (res.status === 200) return { token: body, seen };
        seen.push(body.error);
        if (body.error === 'slow_down') interval += 5;
        else if (body.error !== 'authorization_pending') return { error: body, seen };
    }
    throw new Error(`no token before the deadline; errors: ${seen.join(', ')}`);
}

describe('device flow: a CLI polls while Chromium plays the user, then the token calls a tool', { timeout: 120000 }, () => {
    const h = new Harness();
    let env, tmp, browser;

    before(async () => {
        assert.ok(existsSync(CHROMIUM), `${CHROMIUM} is missing: apt-get install chromium (./build.sh deps)`);
        tmp = mkdtempSync(join(tmpdir(), 'mcp-e2e-device-'));
        const keyPath = join(tmp, 'signing.pem');
        execFileSync('openssl', ['genpkey', '-algorithm', 'EC', '-pkeyopt', 'ec_paramgen_curve:P-256',
            '-out', keyPath], { stdio: ['ignore', 'ignore', 'pipe'] });
        const htpasswd = join(tmp, 'htpasswd');
        writeFileSync(htpasswd, `${USER}:{PLAIN}${PASSWORD}\n`);
        const [port, upstreamPort] = await freePorts(2);
        env = { issuer: `http://127.0.0.1:${port}` };
        env.upstream = await h.mcpServer({ port: upstreamPort, json: true });
        env.ngx = await h.nginx({
            template: NGINX_CONF,
            vars: { PORT: port, UPSTREAM_PORT: upstreamPort, SIGNING_KEY: keyPath, HTPASSWD: htpasswd },
        });
        const { chromium } = await import('playwright-core');
        browser = await chromium.launch({ executablePath: CHROMIUM, headless: true,
                                          args: ['--no-sandbox', '--disable-background-networking'] });
    });

    after(async () => {
        await browser?.close().catch(() => {});
        await h.stop();
        if (tmp) rmSync(tmp, { recursive: true, force: true });
    });

    it('the metadata advertises the device flow', async () => {
        const m = await (await fetch(`${env.issuer}/.well-known/oauth-authorization-server`)).json();
        assert.equal(m.device_authorization_endpoint, `${env.issuer}/device_authorization`);
        assert.ok(m.grant_types_supported.includes(GRANT), JSON.stringify(m.grant_types_supported));
    });

    it('codes, the user approves in the browser while the CLI polls, the token calls whoami', async () => {
        const res = await fetch(`${env.issuer}/device_authorization`, form({ client_id: 'acme-cli', scope: 'mcp:tools' }));
        assert.equal(res.status, 200);
        const codes = await res.json();
        assert.match(codes.user_code, /^[BCDFGHJKMNPQRSTVWXZ]{4}-[BCDFGHJKMNPQRSTVWXZ]{4}$/);
        assert.equal(codes.verification_uri, `${env.issuer}/device`);
        assert.equal(codes.verification_uri_complete, `${env.issuer}/device?user_code=${codes.user_code}`);
        assert.equal(codes.interval, 1);

        // the CLI polls at once, before the user does anything, then every interval
        const first = await fetch(`${env.issuer}/token`, form({
            grant_type: GRANT, device_code: codes.device_code, client_id: 'acme-cli',
        }));
        assert.equal(first.status, 400);
        assert.equal((await first.json()).error, 'authorization_pending');
        const polled = pollForToken(env.issuer, codes, { clientId: 'acme-cli', deadlineMs: Date.now() + 60000 });

        const context = await browser.newContext({ httpCredentials: { username: USER, password: PASSWORD } });
        try {
            const page = await context.newPage();
            const entry = await page.goto(codes.verification_uri);
            assert.equal(entry.status(), 200);
            assert.equal(entry.headers()['x-frame-options'], 'DENY');
            const input = page.locator('input[name="user_code"]');
            await input.waitFor({ state: 'visible' });
            assert.ok(await page.getByRole('button', { name: 'Continue' }).isVisible());
            assert.match(await page.locator('body').innerText(), new RegExp(`signed in as ${USER}`));
            mkdirSync(ARTIFACTS, { recursive: true });
            const shot = join(ARTIFACTS, 'device.png');
            await page.screenshot({ path: shot, fullPage: true });
            const png = readFileSync(shot);
            assert.equal(png.subarray(1, 4).toString(), 'PNG', 'a PNG screenshot');
            assert.ok(png.readUInt32BE(16) > 100 && png.readUInt32BE(20) > 100, 'of a page-sized image');

            // typed as a person would: lower case, without the hyphen
            await input.fill(codes.user_code.replace('-', '').toLowerCase());
            await Promise.all([page.waitForURL(/user_code=/), page.getByRole('button', { name: 'Continue' }).click()]);
            const consent = await page.locator('body').innerText();
            assert.ok(consent.includes('Acme CLI'), `the client is named:\n${consent}`);
            assert.ok(consent.includes(codes.user_code), `the code to compare is shown:\n${consent}`);
            assert.ok(consent.includes('mcp:tools'), `the scope is listed:\n${consent}`);
            await page.screenshot({ path: join(ARTIFACTS, 'device-consent.png'), fullPage: true });

            await Promise.all([page.waitForLoadState('load'),
                               page.locator('[name="decision"][value="approve"]').click()]);
            await page.getByText('Device connected').waitFor();
        } finally {
            await context.close();
        }

        const { token, seen, error } = await polled;
        assert.equal(error, undefined, `the poll ended with ${JSON.stringify(error)}`);
        // the browser may be done before the next poll: then there is none
        assert.ok(seen.every((e) => e === 'authorization_pending'),
                  `pending while the user decided, never slow_down: ${seen.join(', ')}`);
        assert.equal(token.token_type, 'Bearer');
        assert.equal(token.scope, 'mcp:tools');

        const client = new Client({ name: 'device-cli', version: '1.0.0' });
        const transport = new StreamableHTTPClientTransport(new URL(`${env.issuer}/mcp`), {
            requestInit: { headers: { Authorization: `Bearer ${token.access_token}` } },
        });
        await client.connect(transport);
        try {
            const before = env.upstream.toolCalls('whoami').length;
            const result = await client.callTool({ name: 'whoami', arguments: {} });
            assert.equal(result.isError, undefined, JSON.stringify(result));
            assert.deepEqual(JSON.parse(result.content[0].text), { user: USER });
            assert.deepEqual(env.upstream.toolCalls('whoami').slice(before), [`tool whoami user=${USER}`]);
        } finally {
            await client.close();
        }

        // the device code is spent: the next poll (in time) is refused
        await sleep(codes.interval * 1000 + 100);
        const again = await fetch(`${env.issuer}/token`, form({
            grant_type: GRANT, device_code: codes.device_code, client_id: 'acme-cli',
        }));
        assert.equal(again.status, 400);
        assert.equal((await again.json()).error, 'invalid_grant');

        const bad = env.ngx.errorLog().split('\n').filter((l) => /\[(alert|crit|emerg)\]/.test(l));
        assert.deepEqual(bad, []);
    });
});
