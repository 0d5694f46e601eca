// End-to-end: per-tool scopes (mcp_oauth_scope + mcp_oauth_filter_tools)
// with a real MCP SDK client, nginx + ngx_mcp_oauth_module and a real MCP
// server, once with application/json upstream answers and once with SSE.
//
//   cd t && npm ci && node --test e2e/
//
// Rules under test (see NGINX_CONF): baseline mcp:tools for everything,
// list_apps -> read:application, create_app -> write:application,
// admin_* -> admin, whoami -> baseline only.

import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import {
    StreamableHTTPClientTransport,
    StreamableHTTPError,
} from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { LATEST_PROTOCOL_VERSION } from '@modelcontextprotocol/sdk/types.js';
import { mint } from '../data/mint.mjs';
import { Harness, freePorts, httpConf, MCP_PROXY } from './lib.mjs';

const NGINX_CONF = httpConf(`
    server {
        listen 127.0.0.1:{{PORT}};
        server_name localhost;

        mcp_oauth_resource http://127.0.0.1:{{PORT}}/mcp;
        mcp_oauth_issuer   https://auth.example.com;
        mcp_oauth_jwks     {{DATA}}/jwks/main.json;

        location = /.well-known/oauth-protected-resource/mcp { mcp_oauth_metadata; }

        location /mcp {
            mcp_oauth on;
            mcp_oauth_required_scope mcp:tools;
            mcp_oauth_scope list_apps   read:application;
            mcp_oauth_scope create_app  write:application;
            mcp_oauth_scope admin_*     admin;
            mcp_oauth_filter_tools on;

${MCP_PROXY}
        }
    }
`);

const READER_SCOPE = 'mcp:tools read:application';
const WRITER_SCOPE = 'mcp:tools read:application write:application';

for (const mode of ['json', 'sse']) {
    describe(`per-tool scopes, upstream answers ${mode === 'json' ? 'application/json' : 'text/event-stream (SSE)'}`,
        { timeout: 60000 }, () => {
            const h = new Harness();
            let port, base, resource, metadataUrl, upstream, ngx;
            const clients = [];

            before(async () => {
                let upstreamPort;
                [port, upstreamPort] = await freePorts(2);
                base = `http://127.0.0.1:${port}`;
                resource = `${base}/mcp`;
                metadataUrl = `${base}/.well-known/oauth-protected-resource/mcp`;
                upstream = await h.mcpServer({ port: upstreamPort, json: mode === 'json' });
                ngx = await h.nginx({ template: NGINX_CONF, vars: { PORT: port, UPSTREAM_PORT: upstreamPort } });
            });

            after(async () => {
                // clients first (their GET streams), then nginx and the server
                await Promise.allSettled(clients.splice(0).map((c) => c.close()));
                await h.stop();
            });

            function token(scope, sub) {
                return mint({
                    key: 'rsa1',
                    claims: { aud: resource, scope, ...(sub ? { sub } : {}) },
                });
            }

            /** A connected SDK client that presents `tok` (and tries to spoof X-Mcp-User). */
            async function connect(tok) {
                const client = new Client({ name: `e2e-${mode}`, version: '0.0.0' });
                const transport = new StreamableHTTPClientTransport(new URL(resource), {
                    requestInit: {
                        headers: { Authorization: `Bearer ${tok}`, 'X-Mcp-User': 'mallory' },
                    },
                });
                clients.push(client);
                await client.connect(transport);
                return { client, transport };
            }

            /** A raw JSON-RPC POST to /mcp, as an MCP client sends it. */
            function post(body, { tok, sessionId } = {}) {
                const headers = {
                    'Content-Type': 'application/json',
                    Accept: 'application/json, text/event-stream',
                    'MCP-Protocol-Version': LATEST_PROTOCOL_VERSION,
                };
                if (tok) headers.Authorization = `Bearer ${tok}`;
                if (sessionId) headers['Mcp-Session-Id'] = sessionId;
                return fetch(resource, { method: 'POST', headers, body: JSON.stringify(body) });
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

            function parseText(result) {
                assert.equal(result.isError, undefined, `tool error: ${JSON.stringify(result)}`);
                assert.equal(result.content?.[0]?.type, 'text', JSON.stringify(result));
                return JSON.parse(result.content[0].text);
            }

            it('upstream really answers in the configured format', async () => {
                // straight to the MCP server (not through nginx): the mode is real
                const res = await fetch(`http://127.0.0.1:${upstream.port}/mcp`, {
                    method: 'POST',
                    headers: {
                        'Content-Type': 'application/json',
                        Accept: 'application/json, text/event-stream',
                        'MCP-Protocol-Version': LATEST_PROTOCOL_VERSION,
                    },
                    body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'tools/list', params: {} }),
                });
                assert.equal(res.status, 200);
                assert.equal(res.headers.get('content-type').split(';')[0],
                    mode === 'json' ? 'application/json' : 'text/event-stream');
                const [msg] = await rpcMessages(res);
                assert.deepEqual(msg.result.tools.map((t) => t.name).sort(),
                    ['admin_reset', 'create_app', 'list_apps', 'whoami']);
            });

            it('1. tools/list with mcp:tools read:application hides create_app and admin_reset', async () => {
                const { client } = await connect(token(READER_SCOPE));
                const { tools } = await client.listTools();
                const names = tools.map((t) => t.name).sort();
                assert.deepEqual(names, ['list_apps', 'whoami']);
                // the surviving tools are intact (schema etc. came through the rewrite)
                const whoami = tools.find((t) => t.name === 'whoami');
                assert.equal(whoami.inputSchema.type, 'object');

                // and they can be called
                const apps = parseText(await client.callTool({ name: 'list_apps', arguments: {} }));
                assert.deepEqual(apps.applications.map((a) => a.id), ['app-1001', 'app-1002']);
                const me = parseText(await client.callTool({ name: 'whoami', arguments: {} }));
                assert.equal(me.user, 'user-1', 'whoami must see the token sub, not the client\'s X-Mcp-User');
            });

            it('1b. the raw tools/list answer is filtered and keeps its content type', async () => {
                const { transport } = await connect(token(READER_SCOPE));
                const res = await post({ jsonrpc: '2.0', id: 'list-1', method: 'tools/list', params: {} },
                    { tok: token(READER_SCOPE), sessionId: transport.sessionId });
                assert.equal(res.status, 200);
                assert.equal(res.headers.get('content-type').split(';')[0],
                    mode === 'json' ? 'application/json' : 'text/event-stream');
                const msgs = await rpcMessages(res);
                assert.equal(msgs.length, 1, JSON.stringify(msgs));
                assert.equal(msgs[0].id, 'list-1');
                assert.deepEqual(msgs[0].result.tools.map((t) => t.name).sort(), ['list_apps', 'whoami']);
            });

            it('2. calling create_app without write:application: the SDK surfaces HTTP 403', async () => {
                const { client } = await connect(token(READER_SCOPE));
                const callsBefore = upstream.toolCalls('create_app').length;
                await assert.rejects(
                    client.callTool({ name: 'create_app', arguments: { name: 'forbidden-app' } }),
                    (err) => {
                        assert.ok(err instanceof StreamableHTTPError,
                            `expected StreamableHTTPError, got ${err?.constructor?.name}: ${err?.message}`);
                        assert.equal(err.code, 403);
                        assert.match(err.message, /insufficient scope/);
                        assert.match(err.message, /write:application/);
                        return true;
                    },
                );
                assert.equal(upstream.toolCalls('create_app').length, callsBefore,
                    'the denied call must not reach the MCP server');
                // the session is still usable for what the token allows
                const me = parseText(await client.callTool({ name: 'whoami', arguments: {} }));
                assert.equal(me.user, 'user-1');
            });

            it('2b. the 403 on the wire: status, WWW-Authenticate and JSON-RPC error with the request id', async () => {
                const tok = token(READER_SCOPE);
                const { transport } = await connect(tok);
                const callsBefore = upstream.toolCalls('create_app').length;
                for (const id of [42, 'call-7']) {
                    const res = await post({
                        jsonrpc: '2.0', id, method: 'tools/call',
                        params: { name: 'create_app', arguments: { name: 'forbidden-app' } },
                    }, { tok, sessionId: transport.sessionId });
                    assert.equal(res.status, 403);
                    assert.equal(res.headers.get('www-authenticate'),
                        'Bearer error="insufficient_scope", scope="mcp:tools write:application", ' +
                        `resource_metadata="${metadataUrl}"`);
                    assert.equal(res.headers.get('content-type').split(';')[0], 'application/json');
                    assert.deepEqual(await res.json(), {
                        jsonrpc: '2.0',
                        id,
                        error: {
                            code: -32003,
                            message: 'insufficient scope',
                            data: { scope: 'mcp:tools write:application' },
                        },
                    });
                }
                assert.equal(upstream.toolCalls('create_app').length, callsBefore,
                    'the denied calls must not reach the MCP server');
                assert.match(ngx.errorLog(), /\[info\] .*mcp_oauth: insufficient scope, client: 127\.0\.0\.1/);

                // next to it, the same request for an allowed tool goes through
                const ok = await post({ jsonrpc: '2.0', id: 43, method: 'tools/call',
                    params: { name: 'list_apps', arguments: {} } }, { tok, sessionId: transport.sessionId });
                assert.equal(ok.status, 200);
                assert.equal(ok.headers.get('www-authenticate'), null);
                const [msg] = await rpcMessages(ok);
                assert.equal(msg.id, 43);
                assert.equal(JSON.parse(msg.result.content[0].text).applications.length, 2);
            });

            it('3. with write:application a new client sees and calls create_app; whoami returns the sub', async () => {
                const sub = `writer-${mode}`;
                const { client } = await connect(token(WRITER_SCOPE, sub));
                const { tools } = await client.listTools();
                assert.deepEqual(tools.map((t) => t.name).sort(), ['create_app', 'list_apps', 'whoami']);
                const createApp = tools.find((t) => t.name === 'create_app');
                assert.deepEqual(createApp.inputSchema.required, ['name']);

                const callsBefore = upstream.toolCalls('create_app').length;
                const res = parseText(await client.callTool({ name: 'create_app', arguments: { name: 'e2e-app' } }));
                assert.equal(res.created.name, 'e2e-app');
                assert.equal(res.created.owner, sub);
                assert.match(res.created.id, /^app-[0-9a-f]{8}$/);
                assert.deepEqual(upstream.toolCalls('create_app').slice(callsBefore), [`tool create_app user=${sub}`]);

                const me = parseText(await client.callTool({ name: 'whoami', arguments: {} }));
                assert.equal(me.user, sub);

                // admin_* still needs admin: hidden above, and refused on call
                await assert.rejects(client.callTool({ name: 'admin_reset', arguments: {} }), (err) => {
                    assert.ok(err instanceof StreamableHTTPError, String(err));
                    assert.equal(err.code, 403);
                    assert.match(err.message, /"scope":"mcp:tools admin"/);
                    return true;
                });
                assert.equal(upstream.toolCalls('admin_reset').length, 0);
            });

            it('4. no token: 401 with the resource_metadata challenge; the metadata names the resource', async () => {
                const res = await post({
                    jsonrpc: '2.0', id: 1, method: 'initialize',
                    params: {
                        protocolVersion: LATEST_PROTOCOL_VERSION,
                        capabilities: {},
                        clientInfo: { name: 'raw', version: '0' },
                    },
                });
                assert.equal(res.status, 401);
                assert.equal(res.headers.get('www-authenticate'),
                    `Bearer resource_metadata="${metadataUrl}", scope="mcp:tools"`);
                assert.deepEqual(await res.json(), { error: 'unauthorized', error_description: 'no bearer token' });
                assert.match(ngx.errorLog(), /\[info\] .*mcp_oauth: no bearer token, client: 127\.0\.0\.1/);

                const meta = await fetch(metadataUrl);
                assert.equal(meta.status, 200);
                assert.equal(meta.headers.get('content-type').split(';')[0], 'application/json');
                const doc = await meta.json();
                assert.equal(doc.resource, resource);

                // an SDK client without a token (and without an auth provider) gets the 401
                const client = new Client({ name: 'e2e-anon', version: '0.0.0' });
                clients.push(client);
                await assert.rejects(client.connect(new StreamableHTTPClientTransport(new URL(resource))),
                    (err) => {
                        assert.ok(err instanceof StreamableHTTPError, String(err));
                        assert.equal(err.code, 401);
                        return true;
                    });
            });

            it('nginx logged no alert, crit or emerg (no crash)', () => {
                assert.equal(ngx.child.exitCode, null, 'nginx is still running');
                assert.equal(ngx.child.signalCode, null, 'nginx is still running');
                const bad = ngx.errorLog().split('\n').filter((l) => /\[(alert|crit|emerg)\]/.test(l));
                assert.deepEqual(bad, []);
            });
        });
}
