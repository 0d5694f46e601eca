// Demo MCP client: connects through nginx with the bearer token, lists the
// tools, calls whoami (and list_apps), then ends the session (HTTP DELETE).
//
// Usage: node client.mjs [URL]
//   URL          default $MCP_URL or http://127.0.0.1:8080/mcp
//   MCP_TOKEN    bearer token; default: contents of run/token.txt (if present)
//                set MCP_TOKEN= (empty) to send no Authorization header,
//                e.g. straight to the upstream: node client.mjs http://127.0.0.1:8081/mcp
//   EXPECT_USER  if set, exit 1 unless whoami reports exactly this user
//
// Exit status: 0 ok, 1 failure (401, wrong user, missing tools, ...).

import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { dirname, join } from 'node:path';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';

const here = dirname(fileURLToPath(import.meta.url));
const url = new URL(process.argv[2] || process.env.MCP_URL || 'http://127.0.0.1:8080/mcp');

let token = process.env.MCP_TOKEN;
if (token === undefined) {
  try {
    token = readFileSync(join(here, 'run', 'token.txt'), 'utf8').trim();
  } catch {
    token = '';
  }
}

// Through nginx, tools/list only shows what the token may call (EXPECT_TOOLS).
const EXPECTED_TOOLS = (process.env.EXPECT_TOOLS || 'whoami list_apps create_app admin_reset').split(/\s+/);

function textOf(result) {
  return (result.content || []).filter((c) => c.type === 'text').map((c) => c.text).join('\n');
}

async function main() {
  const headers = token ? { Authorization: `Bearer ${token}` } : {};
  const transport = new StreamableHTTPClientTransport(url, { requestInit: { headers } });
  const client = new Client({ name: 'ngx-mcp-oauth-demo-client', version: '0.1.0' });

  console.log(`client: connecting to ${url.href} (${token ? 'with bearer token' : 'no token'})`);
  await client.connect(transport);
  console.log(`client: connected, server=${JSON.stringify(client.getServerVersion())}, ` +
              `session=${transport.sessionId ?? '(stateless)'}`);

  let ok = true;
  const { tools } = await client.listTools();
  console.log(`client: tools/list -> ${tools.map((t) => t.name).join(', ')}`);
  const missing = EXPECTED_TOOLS.filter((n) => !tools.some((t) => t.name === n));
  if (missing.length) {
    console.error(`client: FAIL missing tools: ${missing.join(', ')}`);
    ok = false;
  }

  const who = await client.callTool({ name: 'whoami', arguments: {} });
  const whoText = textOf(who);
  console.log(`client: whoami -> ${whoText.replace(/\s+/g, ' ')}`);
  if (process.env.EXPECT_USER) {
    let user;
    try { user = JSON.parse(whoText).user; } catch { /* leave undefined */ }
    if (user !== process.env.EXPECT_USER) {
      console.error(`client: FAIL whoami user=${JSON.stringify(user)}, expected ${JSON.stringify(process.env.EXPECT_USER)}`);
      ok = false;
    }
  }

  const apps = await client.callTool({ name: 'list_apps', arguments: {} });
  if (apps.isError) {
    console.log(`client: list_apps -> error: ${textOf(apps)}`);
  } else {
    const n = JSON.parse(textOf(apps)).applications?.length;
    console.log(`client: list_apps -> ${n} applications`);
  }

  if (transport.sessionId) {
    await transport.terminateSession(); // HTTP DELETE through the proxy
    console.log('client: session terminated (DELETE)');
  }
  await client.close();
  return ok;
}

main().then(
  (ok) => process.exit(ok ? 0 : 1),
  (err) => {
    const msg = err?.message || String(err);
    console.error(`client: FAIL ${msg}`);
    if (/401|Unauthorized/i.test(msg)) {
      console.error('client: the gate rejected the request: is the token valid (run/token.txt, MCP_TOKEN)?');
    }
    process.exit(1);
  },
);
