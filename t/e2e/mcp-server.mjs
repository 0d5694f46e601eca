#!/usr/bin/env node
// MCP server used by the end-to-end suites: the protected upstream behind
// nginx + ngx_mcp_oauth_module.
//
// A real MCP server (@modelcontextprotocol/sdk McpServer +
// StreamableHTTPServerTransport) on plain node:http, path /mcp, 127.0.0.1.
//
//   node e2e/mcp-server.mjs --port 18711 [--json]
//   (or MCP_E2E_PORT=18711 MCP_E2E_JSON=1 node e2e/mcp-server.mjs)
//
// Response mode (the two configurations the suites run against):
//   default   answers to POSTed requests are text/event-stream (SSE) streams
//   --json    answers are plain application/json (enableJsonResponse: true)
//
// Sessions: a POST `initialize` without Mcp-Session-Id opens a stateful
// session (what SDK clients do); any other POST without a session id is
// served statelessly by a one-shot server+transport in the same response
// mode. A session belongs to the X-Mcp-User that opened it.
//
// It does no authentication of its own: nginx validates the bearer token and
// sends the verified `sub` as X-Mcp-User.
//
// stdout, one line each (the harness reads them):
//   listening <port> <json|sse>
//   http <METHOD> <status> <content-type> user=<user>
//   tool <name> user=<user>          every tool handler that actually ran

import http from 'node:http';
import { randomUUID } from 'node:crypto';
import { parseArgs } from 'node:util';
import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { StreamableHTTPServerTransport } from '@modelcontextprotocol/sdk/server/streamableHttp.js';
import { isInitializeRequest } from '@modelcontextprotocol/sdk/types.js';
import * as z from 'zod';

const { values: opts } = parseArgs({
    options: {
        port: { type: 'string' },
        json: { type: 'boolean' },
        host: { type: 'string' },
    },
});

const HOST = opts.host || process.env.MCP_E2E_HOST || '127.0.0.1';
const PORT = Number(opts.port || process.env.MCP_E2E_PORT);
const JSON_RESPONSE = Boolean(opts.json) || /^(1|true|yes)$/i.test(process.env.MCP_E2E_JSON || '');
const MCP_PATH = '/mcp';
const MAX_BODY = 1024 * 1024;

if (!Number.isInteger(PORT) || PORT <= 0 || PORT > 65535) {
    process.stderr.write('usage: mcp-server.mjs --port N [--json]\n');
    process.exit(2);
}

const APPS = [
    { id: 'app-1001', name: 'billing-dashboard', status: 'running' },
    { id: 'app-1002', name: 'inventory-sync', status: 'stopped' },
];

function out(line) {
    process.stdout.write(line + '\n');
}

function userOf(headers) {
    const v = headers?.['x-mcp-user'];
    return typeof v === 'string' && v !== '' ? v : null;
}

function jsonText(value) {
    return { content: [{ type: 'text', text: JSON.stringify(value) }] };
}

function buildServer() {
    const server = new McpServer({ name: 'ngx-mcp-oauth-e2e', version: '0.0.0' });

    server.registerTool('whoami', {
        description: 'The verified user (token sub) nginx passed in X-Mcp-User.',
        inputSchema: {},
        annotations: { readOnlyHint: true },
    }, async (_args, extra) => {
        const user = userOf(extra.requestInfo?.headers);
        out(`tool whoami user=${user ?? '-'}`);
        return jsonText({ user });
    });

    server.registerTool('list_apps', {
        description: 'Lists the applications.',
        inputSchema: {},
        annotations: { readOnlyHint: true },
    }, async (_args, extra) => {
        out(`tool list_apps user=${userOf(extra.requestInfo?.headers) ?? '-'}`);
        return jsonText({ applications: APPS });
    });

    server.registerTool('create_app', {
        description: 'Creates an application.',
        inputSchema: { name: z.string().min(1).max(64).describe('Application name') },
        annotations: { readOnlyHint: false },
    }, async ({ name }, extra) => {
        const user = userOf(extra.requestInfo?.headers);
        out(`tool create_app user=${user ?? '-'}`);
        return jsonText({ created: { id: `app-${randomUUID().slice(0, 8)}`, name, owner: user } });
    });

    server.registerTool('admin_reset', {
        description: 'Resets the application store (administrative).',
        inputSchema: {},
        annotations: { destructiveHint: true },
    }, async (_args, extra) => {
        out(`tool admin_reset user=${userOf(extra.requestInfo?.headers) ?? '-'}`);
        return jsonText({ reset: true });
    });

    return server;
}

/** sessionId -> { transport, server, user } */
const sessions = new Map();

function sendJson(res, status, body, headers = {}) {
    if (res.headersSent) return;
    res.writeHead(status, { 'Content-Type': 'application/json', ...headers });
    res.end(JSON.stringify(body));
}

function rpcError(res, status, code, message, headers) {
    sendJson(res, status, { jsonrpc: '2.0', error: { code, message }, id: null }, headers);
}

function readBody(req) {
    return new Promise((resolve, reject) => {
        const chunks = [];
        let size = 0;
        req.on('data', (c) => {
            size += c.length;
            if (size > MAX_BODY) {
                reject(Object.assign(new Error('body too large'), { status: 413 }));
                req.destroy();
                return;
            }
            chunks.push(c);
        });
        req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
        req.on('error', reject);
    });
}

async function handleStateless(req, res, body) {
    const server = buildServer();
    const transport = new StreamableHTTPServerTransport({
        sessionIdGenerator: undefined,
        enableJsonResponse: JSON_RESPONSE,
    });
    res.on('close', () => {
        void transport.close();
        void server.close();
    });
    await server.connect(transport);
    await transport.handleRequest(req, res, body);
}

async function handleNewSession(req, res, body, user) {
    const server = buildServer();
    const transport = new StreamableHTTPServerTransport({
        sessionIdGenerator: () => randomUUID(),
        enableJsonResponse: JSON_RESPONSE,
        onsessioninitialized: (id) => sessions.set(id, { transport, server, user }),
        onsessionclosed: (id) => { sessions.delete(id); },
    });
    transport.onclose = () => {
        if (transport.sessionId) sessions.delete(transport.sessionId);
    };
    await server.connect(transport);
    await transport.handleRequest(req, res, body);
}

async function route(req, res) {
    const url = new URL(req.url, `http://${HOST}:${PORT}`);
    if (url.pathname !== MCP_PATH) return sendJson(res, 404, { error: 'not_found' });
    if (!['POST', 'GET', 'DELETE'].includes(req.method)) {
        return rpcError(res, 405, -32000, 'Method not allowed.', { Allow: 'GET, POST, DELETE' });
    }
    const user = userOf(req.headers);
    const sid = req.headers['mcp-session-id'];

    let body;
    if (req.method === 'POST') {
        let raw;
        try {
            raw = await readBody(req);
        } catch (e) {
            return rpcError(res, e.status || 400, -32000, e.message);
        }
        try {
            body = JSON.parse(raw);
        } catch {
            return rpcError(res, 400, -32700, 'Parse error: Invalid JSON');
        }
    }

    if (sid !== undefined) {
        const s = sessions.get(sid);
        if (!s || s.user !== user) return rpcError(res, 404, -32001, 'Session not found');
        return s.transport.handleRequest(req, res, body);
    }
    if (req.method === 'POST') {
        const isInit = Array.isArray(body) ? body.some(isInitializeRequest) : isInitializeRequest(body);
        return isInit ? handleNewSession(req, res, body, user) : handleStateless(req, res, body);
    }
    if (req.method === 'GET') {
        return rpcError(res, 405, -32000, 'Method not allowed: GET needs an Mcp-Session-Id', { Allow: 'POST' });
    }
    return rpcError(res, 400, -32000, 'Bad Request: Mcp-Session-Id header is required');
}

/** Content-Type given to res.writeHead(status, [reason,] headers), if any. */
function writtenContentType(args) {
    const h = args.find((x) => x && typeof x === 'object');
    if (!h) return undefined;
    const pairs = Array.isArray(h) ? (Array.isArray(h[0]) ? h : []) : Object.entries(h);
    for (const [k, v] of pairs) if (String(k).toLowerCase() === 'content-type') return v;
    return undefined;
}

const httpServer = http.createServer((req, res) => {
    let ctypeWritten;
    const writeHead = res.writeHead;
    res.writeHead = function (...args) {
        ctypeWritten = writtenContentType(args.slice(1));
        return writeHead.apply(this, args);
    };
    res.on('finish', () => {
        const ctype = String(ctypeWritten ?? res.getHeader('content-type') ?? '-').split(';')[0];
        out(`http ${req.method} ${res.statusCode} ${ctype} user=${userOf(req.headers) ?? '-'}`);
    });
    route(req, res).catch((err) => {
        process.stderr.write(`error: ${err?.stack || err}\n`);
        rpcError(res, 500, -32603, 'Internal server error');
    });
});

httpServer.listen(PORT, HOST, () => out(`listening ${PORT} ${JSON_RESPONSE ? 'json' : 'sse'}`));

function shutdown() {
    for (const s of sessions.values()) {
        void s.transport.close().catch(() => {});
        void s.server.close().catch(() => {});
    }
    sessions.clear();
    httpServer.close(() => process.exit(0));
    httpServer.closeAllConnections();
    setTimeout(() => process.exit(0), 1000).unref();
}
process.on('SIGTERM', shutdown);
process.on('SIGINT', shutdown);
// the harness holds our stdin open: if it dies without stopping us, stop anyway
process.stdin.on('end', shutdown);
process.stdin.on('error', shutdown);
process.stdin.resume();
