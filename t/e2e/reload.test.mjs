// nginx -s reload (SIGHUP to the master) while wrk sends authenticated
// traffic: no request may fail, and the authorization server's state lives
// on in its zone: a client registered, a code issued and a refresh token
// issued before the reloads all still work after them.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { Harness, freePorts } from './lib.mjs';

const CONF = `
load_module {{MODULE}};
worker_processes 2;
daemon off;
pid {{PREFIX}}/nginx.pid;
events { worker_connections 512; }
http {
    access_log off;
    client_body_temp_path {{PREFIX}}/body;
    proxy_temp_path {{PREFIX}}/proxy;
    upstream echo { server 127.0.0.1:{{PORT}}; keepalive 16; }
    server {
        listen 127.0.0.1:{{PORT}};
        mcp_oauth_issuer http://127.0.0.1:{{PORT}};
        mcp_oauth_resource http://127.0.0.1:{{PORT}}/mcp;
        mcp_oauth_signing_key {{DATA}}/signing/ec.pem;
        mcp_oauth_scopes_supported mcp:tools;
        mcp_oauth_zone reload_test:1m;
        mcp_oauth_user $http_x_user;

        location = /authorize { mcp_oauth_authorize; }
        location = /token { mcp_oauth_token; }
        location = /register { mcp_oauth_register; }
        location /mcp {
            mcp_oauth on;
            mcp_oauth_required_scope mcp:tools;
            proxy_http_version 1.1;
            proxy_set_header Connection "";
            proxy_pass http://echo/echo;
        }
        location = /echo { return 200 "ok\\n"; }
    }
}
`;

const h = new Harness();
let base;
let nginx;

after(() => h.stop());

before(async () => {
    const [port] = await freePorts(1);
    base = `http://127.0.0.1:${port}`;
    nginx = await h.nginx({ template: CONF, vars: { PORT: port } });
});

const b64url = (buf) => buf.toString('base64url');

async function register() {
    const res = await fetch(`${base}/register`, {
        method: 'POST',
        headers: { 'Content-Type': 'application/json' },
        body: JSON.stringify({
            client_name: 'reload test',
            redirect_uris: ['http://127.0.0.1:9/cb'],
            token_endpoint_auth_method: 'none',
        }),
    });
    assert.equal(res.status, 201);
    return (await res.json()).client_id;
}

// a code for the user, through the consent page (or a remembered consent)
async function authorize(clientId) {
    const verifier = b64url(randomBytes(32));
    const query = new URLSearchParams({
        response_type: 'code',
        client_id: clientId,
        redirect_uri: 'http://127.0.0.1:9/cb',
        code_challenge: b64url(createHash('sha256').update(verifier).digest()),
        code_challenge_method: 'S256',
        state: 'st',
        scope: 'mcp:tools',
    });
    let res = await fetch(`${base}/authorize?${query}`, {
        headers: { 'X-User': 'alice' }, redirect: 'manual',
    });
    if (res.status === 200) {
        const form = new URLSearchParams();
        // what a browser posts: the hidden fields and the ticked scopes
        for (const m of (await res.text()).matchAll(/<input type="(?:hidden|checkbox)" name="([^"]+)" value="([^"]*)"(?: checked)?>/g)) {
            form.append(m[1], m[2].replace(/&quot;/g, '"').replace(/&#39;/g, "'")
                .replace(/&lt;/g, '<').replace(/&gt;/g, '>').replace(/&amp;/g, '&'));
        }
        form.append('decision', 'approve');
        res = await fetch(`${base}/authorize`, {
            method: 'POST', body: form, headers: { 'X-User': 'alice' }, redirect: 'manual',
        });
    }
    assert.equal(res.status, 302);
    const code = new URL(res.headers.get('location')).searchParams.get('code');
    assert.ok(code, res.headers.get('location'));
    return { code, verifier };
}

async function token(params) {
    const res = await fetch(`${base}/token`, { method: 'POST', body: new URLSearchParams(params) });
    return { status: res.status, body: await res.json() };
}

function wrk(args) {
    return new Promise((resolve, reject) => {
        const child = spawn('wrk', args);
        let out = '';
        child.stdout.on('data', (d) => { out += d; });
        child.stderr.on('data', (d) => { out += d; });
        child.on('error', reject);
        child.on('exit', (code) => resolve({ code, out }));
    });
}

test('reloads under authenticated load fail no request and keep the AS state', async () => {
    const clientId = await register();
    const first = await authorize(clientId);
    const got = await token({
        grant_type: 'authorization_code', code: first.code, code_verifier: first.verifier,
        redirect_uri: 'http://127.0.0.1:9/cb', client_id: clientId,
    });
    assert.equal(got.status, 200, JSON.stringify(got.body));

    // a code issued before the reloads, redeemed after them
    const pending = await authorize(clientId);

    // one request per connection: an idle keep-alive connection that an old
    // worker closes as the client reuses it is lost by any nginx reload, with
    // or without this module, and real clients retry it
    const load = wrk(['-t2', '-c16', '-d6s', '-H', 'Connection: close',
                      '-H', `Authorization: Bearer ${got.body.access_token}`, `${base}/mcp`]);
    for (let i = 0; i < 3; i++) {
        await sleep(1500);
        nginx.child.kill('SIGHUP');
    }
    const { code, out } = await load;
    assert.equal(code, 0, out);

    const requests = Number(/(\d+) requests in/.exec(out)?.[1]);
    assert.ok(requests > 1000, `wrk made ${requests} requests:\n${out}`);
    assert.doesNotMatch(out, /Non-2xx or 3xx responses/, out);
    assert.doesNotMatch(out, /Socket errors/, out);

    const redeemed = await token({
        grant_type: 'authorization_code', code: pending.code, code_verifier: pending.verifier,
        redirect_uri: 'http://127.0.0.1:9/cb', client_id: clientId,
    });
    assert.equal(redeemed.status, 200, JSON.stringify(redeemed.body));

    const refreshed = await token({
        grant_type: 'refresh_token', refresh_token: got.body.refresh_token, client_id: clientId,
    });
    assert.equal(refreshed.status, 200, JSON.stringify(refreshed.body));
    assert.notEqual(refreshed.body.refresh_token, got.body.refresh_token);

    // the consent given before the reloads is still remembered
    const again = await fetch(`${base}/authorize?${new URLSearchParams({
        response_type: 'code', client_id: clientId, redirect_uri: 'http://127.0.0.1:9/cb',
        code_challenge: b64url(createHash('sha256').update('x'.repeat(43)).digest()),
        code_challenge_method: 'S256', scope: 'mcp:tools',
    })}`, { headers: { 'X-User': 'alice' }, redirect: 'manual' });
    assert.equal(again.status, 302);
    assert.match(again.headers.get('location'), /[?&]code=/);

    assert.doesNotMatch(nginx.errorLog(), /\[(alert|crit|emerg)\]/);
});
