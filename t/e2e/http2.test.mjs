// End-to-end over HTTP/2 (TLS, ALPN h2): what browsers and most MCP clients
// speak to nginx. The same rules as over HTTP/1.1 must hold: the scope rules
// of each tool, the 403 step-up challenge and its JSON-RPC body, the
// tools/list filter (JSON and SSE upstream answers), the Mcp-Method and
// Mcp-Name checks, and a body sent as DATA frames without a content-length.
//
//   cd t && npm ci && node --test e2e/http2.test.mjs
//
// The certificate is self-signed, made at the start with openssl. nginx
// before 1.25.1 enables HTTP/2 with "listen ... ssl http2", later ones with
// "http2 on" (the listen parameter is deprecated there): the config is
// chosen from `nginx -v`.

import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import http2 from 'node:http2';
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { LATEST_PROTOCOL_VERSION } from '@modelcontextprotocol/sdk/types.js';
import { mint } from '../data/mint.mjs';
import { Harness, freePorts, NGINX_BIN } from './lib.mjs';

function versionOf() {
    // nginx -v prints on stderr
    const text = spawnSync(NGINX_BIN, ['-v'], { encoding: 'utf8' }).stderr || '';
    const m = /nginx\/(\d+)\.(\d+)\.(\d+)/.exec(text);
    if (!m) throw new Error(`cannot tell the version of ${NGINX_BIN}: ${text}`);
    return m.slice(1).map(Number);
}

function http2Listen() {
    const [a, b, c] = versionOf();
    const modern = a > 1 || b > 25 || (b === 25 && c >= 1);
    return modern ? { LISTEN: 'ssl', HTTP2: 'http2 on;' } : { LISTEN: 'ssl http2', HTTP2: '' };
}

const NGINX_CONF = `
load_module {{MODULE}};

daemon off;
master_process off;
worker_processes 1;
pid {{PREFIX}}/nginx.pid;
error_log {{PREFIX}}/error.log info;

events {
    worker_connections 128;
}

http {
    default_type application/octet-stream;
    log_format proto '$request_method $uri $server_protocol $status';
    access_log {{PREFIX}}/access.log proto;

    client_body_temp_path {{PREFIX}}/client_body_temp;
    proxy_temp_path       {{PREFIX}}/proxy_temp;
    fastcgi_temp_path     {{PREFIX}}/fastcgi_temp;
    uwsgi_temp_path       {{PREFIX}}/uwsgi_temp;
    scgi_temp_path        {{PREFIX}}/scgi_temp;

    server {
        listen 127.0.0.1:{{PORT}} {{LISTEN}};
        {{HTTP2}}
        server_name localhost;
        ssl_certificate     {{CERTS}}/cert.pem;
        ssl_certificate_key {{CERTS}}/key.pem;

        mcp_oauth_resource https://127.0.0.1:{{PORT}}/mcp;
        mcp_oauth_issuer   https://auth.example.com;
        mcp_oauth_jwks     {{DATA}}/jwks/main.json;

        location /mcp {
            mcp_oauth on;
            mcp_oauth_required_scope mcp:tools;
            mcp_oauth_scope list_apps   read:application;
            mcp_oauth_scope create_app  write:application;
            mcp_oauth_scope admin_*     admin;
            mcp_oauth_filter_tools on;

            proxy_set_header X-Mcp-User $mcp_oauth_sub;
            proxy_http_version 1.1;
            proxy_set_header Connection "";
            proxy_buffering off;
            proxy_pass http://127.0.0.1:{{UPSTREAM_PORT}};
        }

        location /sse {
            mcp_oauth on;
            mcp_oauth_required_scope mcp:tools;
            mcp_oauth_scope list_apps   read:application;
            mcp_oauth_scope create_app  write:application;
            mcp_oauth_scope admin_*     admin;
            mcp_oauth_filter_tools on;

            proxy_set_header X-Mcp-User $mcp_oauth_sub;
            proxy_http_version 1.1;
            proxy_set_header Connection "";
            proxy_buffering off;
            proxy_pass http://127.0.0.1:{{SSE_PORT}}/mcp;
        }
    }
}
`;

const READER = 'mcp:tools read:application';

describe('over HTTP/2 (TLS, h2)', { timeout: 60000 }, () => {
    const h = new Harness();
    let port, resource, session, certs, ngx;

    before(async () => {
        let json, sse;
        [port, json, sse] = await freePorts(3);
        resource = `https://127.0.0.1:${port}/mcp`;
        certs = mkdtempSync(join(tmpdir(), 'mcp-e2e-h2-'));
        execFileSync('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256',
            '-nodes', '-subj', '/CN=127.0.0.1', '-days', '1',
            '-keyout', join(certs, 'key.pem'), '-out', join(certs, 'cert.pem')], { stdio: 'ignore' });
        await h.mcpServer({ port: json, json: true });
        await h.mcpServer({ port: sse });
        ngx = await h.nginx({
            template: NGINX_CONF,
            vars: { PORT: port, UPSTREAM_PORT: json, SSE_PORT: sse, CERTS: certs, ...http2Listen() },
        });
        session = http2.connect(`https://127.0.0.1:${port}`, { rejectUnauthorized: false });
        await new Promise((res, rej) => session.once('connect', res).once('error', rej));
    });

    after(async () => {
        session?.close();
        await h.stop();
        if (certs) rmSync(certs, { recursive: true, force: true });
    });

    const token = (scope) => mint({ key: 'rsa1', claims: { aud: resource, scope } });

    /**
     * One request on the HTTP/2 connection. The body goes as DATA frames in
     * pieces, with no content-length unless `length` is set.
     */
    function request({ path = '/mcp', method = 'POST', body, tok, headers = {}, length = false }) {
        return new Promise((resolve, reject) => {
            const h2 = {
                ':method': method,
                ':path': path,
                'content-type': 'application/json',
                accept: 'application/json, text/event-stream',
                'mcp-protocol-version': LATEST_PROTOCOL_VERSION,
                ...headers,
            };
            const text = body === undefined ? undefined : JSON.stringify(body);
            if (tok) h2.authorization = `Bearer ${tok}`;
            if (length && text !== undefined) h2['content-length'] = Buffer.byteLength(text);
            const stream = session.request(h2, { endStream: text === undefined });
            let status, head, data = '';
            stream.setEncoding('utf8');
            stream.on('response', (hd) => { head = hd; status = hd[':status']; });
            stream.on('data', (d) => { data += d; });
            stream.on('end', () => resolve({ status, headers: head, body: data }));
            stream.on('error', reject);
            if (text !== undefined) {
                // three DATA frames, the last one ending the stream
                const a = Math.floor(text.length / 3), b = Math.floor((2 * text.length) / 3);
                stream.write(text.slice(0, a));
                setTimeout(() => { stream.write(text.slice(a, b)); stream.end(text.slice(b)); }, 20);
            }
        });
    }

    function messages(res) {
        const type = String(res.headers['content-type'] || '').split(';')[0].trim();
        if (type === 'application/json') return [JSON.parse(res.body)].flat();
        assert.equal(type, 'text/event-stream', `content type ${type}: ${res.body}`);
        return res.body.split(/\r?\n\r?\n/).map((e) => e.split(/\r?\n/)
            .filter((l) => l.startsWith('data:')).map((l) => l.slice(5).trim()).join('\n'))
            .filter(Boolean).map((d) => JSON.parse(d));
    }

    const call = (name, id = 1) => ({ jsonrpc: '2.0', id, method: 'tools/call', params: { name, arguments: {} } });

    it('really is HTTP/2', async () => {
        const res = await request({ body: call('whoami'), tok: token(READER) });
        assert.equal(res.status, 200, res.body);
        assert.equal(session.alpnProtocol, 'h2');
        // nginx logs the stream when it closes, which may come after the
        // client has the whole answer: the line is waited for (2 s at most)
        const line = /^POST \/mcp HTTP\/2\.0 200$/m;
        let log = ngx.accessLog();
        for (let i = 0; i < 40 && !line.test(log); i++) {
            await new Promise((r) => setTimeout(r, 50));
            log = ngx.accessLog();
        }
        assert.match(log, line);
    });

    it('a tool within the token\'s scopes runs; its body came without content-length', async () => {
        const res = await request({ body: call('list_apps', 7), tok: token(READER) });
        assert.equal(res.status, 200, res.body);
        const [msg] = messages(res);
        assert.equal(msg.id, 7);
        assert.match(msg.result.content[0].text, /app-1001/);
    });

    it('a tool beyond them: 403 insufficient_scope naming every scope needed, a JSON-RPC error with the id', async () => {
        for (const length of [false, true]) {
            const res = await request({ body: call('create_app', 'c-1'), tok: token(READER), length });
            assert.equal(res.status, 403, res.body);
            const www = String(res.headers['www-authenticate']);
            assert.match(www, /^Bearer /);
            assert.match(www, /error="insufficient_scope"/);
            assert.match(www, /scope="mcp:tools write:application"/);
            const body = JSON.parse(res.body);
            assert.equal(body.jsonrpc, '2.0');
            assert.equal(body.id, 'c-1');
            assert.equal(typeof body.error.code, 'number');
        }
    });

    it('no token: 401 with the resource metadata challenge', async () => {
        const res = await request({ body: call('whoami') });
        assert.equal(res.status, 401);
        assert.match(String(res.headers['www-authenticate']), /resource_metadata="/);
    });

    it('tools/list is filtered, JSON and SSE upstream answers alike', async () => {
        for (const path of ['/mcp', '/sse']) {
            const res = await request({ path, body: { jsonrpc: '2.0', id: 'l', method: 'tools/list', params: {} },
                tok: token(READER) });
            assert.equal(res.status, 200, `${path}: ${res.body}`);
            const msgs = messages(res);
            const list = msgs.find((m) => m.id === 'l');
            assert.ok(list, `${path}: ${res.body}`);
            assert.deepEqual(list.result.tools.map((t) => t.name).sort(), ['list_apps', 'whoami'], path);
        }
    });

    it('Mcp-Method or Mcp-Name that disagree with the body are refused before the upstream', async () => {
        const method = await request({ body: call('whoami', 'm'), tok: token(READER),
            headers: { 'mcp-method': 'tools/list' } });
        assert.equal(method.status, 400, method.body);
        assert.equal(JSON.parse(method.body).error.code, -32020);
        const name = await request({ body: call('create_app', 'n'), tok: token(READER + ' write:application'),
            headers: { 'mcp-method': 'tools/call', 'mcp-name': 'whoami' } });
        assert.equal(name.status, 400, name.body);
        assert.equal(JSON.parse(name.body).error.code, -32020);
    });
});
