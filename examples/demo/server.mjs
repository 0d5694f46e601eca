// Demo MCP server (the protected upstream behind nginx + ngx_mcp_oauth_module).
//
// A real MCP server built with @modelcontextprotocol/sdk: McpServer +
// StreamableHTTPServerTransport on plain node:http, path /mcp,
// 127.0.0.1:${PORT:-8081}.
//
// It does NO authentication itself: nginx validates the bearer JWT and passes
// the verified subject in the X-Mcp-User header (proxy_set_header X-Mcp-User
// $mcp_oauth_sub). Never expose this port directly; it listens on loopback only.
//
// Transport modes (both are Streamable HTTP, spec 2025-03-26 and later):
//   * stateful sessions: a POST `initialize` without Mcp-Session-Id creates a
//     session (Mcp-Session-Id response header); later POSTs answer as SSE
//     streams, GET opens the standalone SSE stream, DELETE ends the session.
//     This is what SDK clients and the MCP Inspector use. A session is bound
//     to the X-Mcp-User that created it: another user presenting its id gets 404.
//   * stateless one-shot: any other POST without Mcp-Session-Id (e.g. a bare
//     `tools/list` from curl) is served by a fresh server+transport with a
//     plain JSON response, as in the SDK's stateless example.
//
// One log line per HTTP request goes to stdout when the response ends.

import http from 'node:http';
import { randomUUID } from 'node:crypto';
import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { StreamableHTTPServerTransport } from '@modelcontextprotocol/sdk/server/streamableHttp.js';
import { isInitializeRequest } from '@modelcontextprotocol/sdk/types.js';
import * as z from 'zod';

const HOST = process.env.HOST || '127.0.0.1';
const PORT = Number(process.env.PORT || 8081);
const MCP_PATH = '/mcp';
const MAX_BODY = 1024 * 1024;
const SESSION_IDLE_MS = 30 * 60 * 1000;

const FAKE_APPS = [
  { id: 'app-1001', name: 'billing-dashboard', owner: 'alice', status: 'running' },
  { id: 'app-1002', name: 'inventory-sync', owner: 'bob', status: 'stopped' },
  { id: 'app-1003', name: 'support-chatbot', owner: 'demo', status: 'running' },
];

function log(msg) {
  process.stdout.write(`${new Date().toISOString()} ${msg}\n`);
}

/** The verified user, as set by nginx from the validated token's `sub`. */
function userOf(headers) {
  const v = headers?.['x-mcp-user'];
  return typeof v === 'string' && v !== '' ? v : undefined;
}

function text(value) {
  return { content: [{ type: 'text', text: typeof value === 'string' ? value : JSON.stringify(value, null, 2) }] };
}

/** A new McpServer with the demo tools. One per session or per stateless request. */
function buildServer() {
  const server = new McpServer(
    { name: 'ngx-mcp-oauth-demo', version: '0.1.0' },
    { capabilities: { logging: {} } },
  );

  // Needs mcp:tools, the baseline of every call (mcp_oauth_required_scope).
  server.registerTool(
    'whoami',
    {
      title: 'Who am I',
      description: 'Returns the verified user (token `sub`) that nginx passed in the X-Mcp-User header.',
      inputSchema: {},
      annotations: { readOnlyHint: true },
    },
    async (_args, extra) => {
      const user = userOf(extra.requestInfo?.headers);
      return text({
        user: user ?? null,
        source: user
          ? 'X-Mcp-User header set by nginx after validating the bearer token'
          : 'no X-Mcp-User header: request did not come through the nginx OAuth gate',
      });
    },
  );

  // Needs read:application (mcp_oauth_scope list_apps read:application).
  server.registerTool(
    'list_apps',
    {
      title: 'List applications',
      description: 'Lists the (fake) applications.',
      inputSchema: {},
      annotations: { readOnlyHint: true },
    },
    async () => text({ applications: FAKE_APPS }),
  );

  // Needs write:application (mcp_oauth_scope create_app write:application).
  server.registerTool(
    'create_app',
    {
      title: 'Create application',
      description: 'Creates a (fake) application and returns the created record.',
      inputSchema: {
        name: z.string().min(1).max(64).describe('Name of the application to create'),
      },
      annotations: { readOnlyHint: false, destructiveHint: false },
    },
    async ({ name }, extra) =>
      text({
        created: {
          id: `app-${randomUUID().slice(0, 8)}`,
          name,
          owner: userOf(extra.requestInfo?.headers) ?? null,
          status: 'provisioning',
          created_at: new Date().toISOString(),
        },
      }),
  );

  // Needs admin (mcp_oauth_scope admin_* admin).
  server.registerTool(
    'admin_reset',
    {
      title: 'Admin reset',
      description: 'Resets the (fake) application store. Administrative.',
      inputSchema: {},
      annotations: { readOnlyHint: false, destructiveHint: true },
    },
    async () => text('reset done'),
  );

  return server;
}

// ---------------------------------------------------------------- sessions --

/** sessionId -> { transport, server, user, lastSeen } */
const sessions = new Map();

async function closeSession(id, why) {
  const s = sessions.get(id);
  if (!s) return;
  sessions.delete(id);
  log(`session ${id} closed (${why})`);
  try { await s.transport.close(); } catch { /* ignore */ }
  try { await s.server.close(); } catch { /* ignore */ }
}

setInterval(() => {
  const now = Date.now();
  for (const [id, s] of sessions) {
    if (now - s.lastSeen > SESSION_IDLE_MS) void closeSession(id, 'idle');
  }
}, 60 * 1000).unref();

// ------------------------------------------------------------------- http --

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
    enableJsonResponse: true,
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
    onsessioninitialized: (id) => {
      sessions.set(id, { transport, server, user, lastSeen: Date.now() });
      log(`session ${id} opened for user=${user ?? '-'}`);
    },
    onsessionclosed: (id) => {
      // DELETE from the client: the transport closes itself afterwards.
      if (sessions.delete(id)) log(`session ${id} closed (DELETE)`);
    },
  });
  transport.onclose = () => {
    if (transport.sessionId && sessions.has(transport.sessionId)) {
      sessions.delete(transport.sessionId);
    }
  };
  await server.connect(transport);
  await transport.handleRequest(req, res, body);
}

async function route(req, res) {
  const url = new URL(req.url, `http://${req.headers.host || `${HOST}:${PORT}`}`);
  if (url.pathname !== MCP_PATH) {
    return sendJson(res, 404, { error: 'not_found', path: url.pathname });
  }
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
    if (!s || s.user !== user) {
      if (s) log(`session ${sid} presented by user=${user ?? '-'} but owned by user=${s.user ?? '-'}: rejected`);
      return rpcError(res, 404, -32001, 'Session not found');
    }
    s.lastSeen = Date.now();
    return s.transport.handleRequest(req, res, body);
  }

  if (req.method === 'POST') {
    const isInit = Array.isArray(body) ? body.some(isInitializeRequest) : isInitializeRequest(body);
    return isInit ? handleNewSession(req, res, body, user) : handleStateless(req, res, body);
  }
  if (req.method === 'GET') {
    // No session, no standalone SSE stream to offer (allowed by the spec).
    return rpcError(res, 405, -32000, 'Method not allowed: GET needs an Mcp-Session-Id', { Allow: 'POST' });
  }
  return rpcError(res, 400, -32000, 'Bad Request: Mcp-Session-Id header is required');
}

/** Headers passed to res.writeHead (object, [[k, v], ...] or [k, v, ...]) as a lower-cased object. */
function headerObject(h) {
  const out = {};
  if (Array.isArray(h)) {
    if (Array.isArray(h[0])) for (const [k, v] of h) out[String(k).toLowerCase()] = v;
    else for (let i = 0; i + 1 < h.length; i += 2) out[String(h[i]).toLowerCase()] = h[i + 1];
  } else if (h && typeof h === 'object') {
    for (const [k, v] of Object.entries(h)) out[k.toLowerCase()] = v;
  }
  return out;
}

const httpServer = http.createServer((req, res) => {
  const t0 = process.hrtime.bigint();
  let written = {};
  const writeHead = res.writeHead;
  res.writeHead = function (status, ...rest) {
    written = headerObject(rest.find((x) => x && typeof x === 'object'));
    return writeHead.call(this, status, ...rest);
  };
  res.on('close', () => {
    const ms = Number(process.hrtime.bigint() - t0) / 1e6;
    const hdr = (n) => written[n] ?? res.getHeader(n);
    const sid = req.headers['mcp-session-id'] || hdr('mcp-session-id') || '-';
    const ctype = String(hdr('content-type') || '-').split(';')[0];
    log(`${req.method} ${req.url} ${res.statusCode} ${ctype} ` +
        `user=${userOf(req.headers) ?? '-'} session=${sid} ${ms.toFixed(1)}ms`);
  });
  route(req, res).catch((err) => {
    log(`error: ${err?.stack || err}`);
    rpcError(res, 500, -32603, 'Internal server error');
  });
});

httpServer.listen(PORT, HOST, () => {
  log(`MCP demo server listening on http://${HOST}:${PORT}${MCP_PATH}`);
});

function shutdown(sig) {
  log(`${sig}: shutting down`);
  for (const id of [...sessions.keys()]) void closeSession(id, 'shutdown');
  httpServer.close(() => process.exit(0));
  httpServer.closeAllConnections?.();
  setTimeout(() => process.exit(0), 2000).unref();
}
process.on('SIGINT', () => shutdown('SIGINT'));
process.on('SIGTERM', () => shutdown('SIGTERM'));
