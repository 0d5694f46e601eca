#!/usr/bin/env node
// Benchmark fixtures for bench/run.sh.
//
//   node bench/lib/fixtures.mjs OUTDIR
//
// Writes into OUTDIR:
//   rs256.jwt es256.jwt eddsa.jwt  scope "mcp:tools" (GET cases, plain baseline)
//   rules.jwt                      RS256, scope "mcp:tools scope_042" (/rules, plain_body)
//   filter.jwt                     RS256, mcp:tools + fscope_NN for even NN only (/filter)
//   rules_body.json                ~1 KB tools/call of tool_042
//   body16k.json body256k.json     16 KB and 256 KB tools/call of tool_042 whose
//                                  "content" argument is a text file (lines of
//                                  ~60 bytes: a \n escape per line, a few \")
//   tools_list.json                tools/list request
//   tools50.json                   the upstream's tools/list answer (50 tools)
//   rules.conf                     100 mcp_oauth_scope rules (90 exact, 10 prefix*)
//   rules1000.conf                 1,050 rules: 1,000 exact (tool_000..tool_999) + 50 prefix*
//   filter.conf                    50 mcp_oauth_scope rules, one per tool of tools50
//   tools50.conf                   nginx directives answering tools50.json with `return`
//                                  (split over `set` variables: one nginx config
//                                  token is limited to 4 KB)
//   tools50_vary.json, .conf       the same with "_meta":{"request":$request_id}
//                                  at the end of the result (.json: 32 zeros)
//   tools50_sse.txt, .conf         the same answer as one SSE event
//                                  (`event: message` / `data: {...}`)
//   sse1000.conf                   an SSE stream: 1,000 notifications/progress
//                                  events, then the 50-tool answer as the last event
//   sse1000.txt                    that stream's bytes (for reference)
//   soak-valid.jwt                 RS256, scope "mcp:tools" (soak: 200)
//   soak-denied.jwt                RS256, scope "mcp:tools read:application", no
//                                  write:application (soak: create_app -> 403)
//   soak-invalid.txt               3 RS256 tokens, one a line, that must fail (401):
//                                  bad signature (rsa-evil, kid rsa-1), expired an
//                                  hour ago, wrong audience
//   soak-call.json                 tools/call of "search" (needs mcp:tools only)
//   soak-create.json               tools/call of "create_app" (needs write:application)
// Tokens expire in a year. Only node:crypto is needed (t/data/mint.mjs).

import { writeFileSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { mint } from '../../t/data/mint.mjs';

const out = process.argv[2];
if (!out) {
    process.stderr.write('usage: fixtures.mjs OUTDIR\n');
    process.exit(2);
}
mkdirSync(out, { recursive: true });
const w = (name, text) => writeFileSync(join(out, name), text);
const YEAR = 86400 * 365;
const pad = (n, w) => String(n).padStart(w, '0');

// --- tokens -----------------------------------------------------------
w('rs256.jwt', mint({ key: 'rsa1', claims: { scope: 'mcp:tools' }, expIn: YEAR }) + '\n');
w('es256.jwt', mint({ key: 'ec256', claims: { scope: 'mcp:tools' }, expIn: YEAR }) + '\n');
w('eddsa.jwt', mint({ key: 'ed25519', claims: { scope: 'mcp:tools' }, expIn: YEAR }) + '\n');
w('rules.jwt', mint({ key: 'rsa1', claims: { scope: 'mcp:tools scope_042' }, expIn: YEAR }) + '\n');
const fscopes = [];
for (let i = 0; i < 50; i += 2) fscopes.push(`fscope_${pad(i, 2)}`);
w('filter.jwt', mint({ key: 'rsa1', claims: { scope: ['mcp:tools', ...fscopes].join(' ') }, expIn: YEAR }) + '\n');

// --- soak (bench/run.sh soak) ------------------------------------------
w('soak-valid.jwt', mint({ key: 'rsa1', claims: { sub: 'soak-valid', scope: 'mcp:tools' }, expIn: YEAR }) + '\n');
w('soak-denied.jwt', mint({ key: 'rsa1', claims: { sub: 'soak-denied', scope: 'mcp:tools read:application' },
                            expIn: YEAR }) + '\n');
w('soak-invalid.txt', [
    // genuine RS256 signature by another key that claims kid rsa-1
    mint({ key: 'rsa-evil', claims: { sub: 'soak-badsig' }, expIn: YEAR }),
    // correctly signed, expired an hour ago (far beyond any leeway)
    mint({ key: 'rsa1', claims: { sub: 'soak-expired' }, iatIn: -7200, expIn: -3600 }),
    // correctly signed, for another resource
    mint({ key: 'rsa1', claims: { sub: 'soak-wrongaud', aud: 'https://other.example.com/mcp' }, expIn: YEAR }),
].join('\n') + '\n');
const soakCall = (name, args) => JSON.stringify({
    jsonrpc: '2.0', id: 7, method: 'tools/call', params: { name, arguments: args } });
w('soak-call.json', soakCall('search', { query: 'soak test', limit: 5 }));
w('soak-create.json', soakCall('create_app', { name: 'soak-app', region: 'eu' }));

// --- /rules: 100 rules, body ~1 KB tools/call of tool_042 ---------------
const rules = [];
for (let i = 0; i < 90; i++) rules.push(`mcp_oauth_scope tool_${pad(i, 3)} scope_${pad(i, 3)};`);
for (const p of ['admin_', 'billing_', 'db_', 'fs_read_', 'fs_write_', 'git_', 'k8s_',
                 'net_', 'search_', 'tool_9']) {
    rules.push(`mcp_oauth_scope ${p}* scope_${p}all;`);
}
if (rules.length !== 100) throw new Error('expected 100 rules');
w('rules.conf', rules.join('\n') + '\n');

// --- /rules1000: 1,000 exact rules and 50 prefix* rules -----------------
// tool_042 is among the exact names (scope_042, held by rules.jwt); no prefix
// matches it: 40 of other namespaces, of 4 to 13 characters, and 10 that start
// like it ("tool_NNN_", longer than the name) so the prefix check has to look
const rules1000 = [];
for (let i = 0; i < 1000; i++) rules1000.push(`mcp_oauth_scope tool_${pad(i, 3)} scope_${pad(i, 3)};`);
for (let i = 0; i < 40; i++) {
    const p = `p${pad(i, 2)}_${'x'.repeat(i % 10)}`;
    rules1000.push(`mcp_oauth_scope ${p}* scope_${p}all;`);
}
for (let i = 0; i < 10; i++) {
    const p = `tool_${pad(i * 97 + 3, 3)}_`;
    rules1000.push(`mcp_oauth_scope ${p}* scope_${p}all;`);
}
if (rules1000.length !== 1050) throw new Error('expected 1050 rules');
w('rules1000.conf', rules1000.join('\n') + '\n');

const call = {
    jsonrpc: '2.0', id: 1, method: 'tools/call',
    params: { name: 'tool_042', arguments: { query: 'benchmark', limit: 10, padding: '' } },
};
const base = JSON.stringify(call).length;
call.params.arguments.padding = 'x'.repeat(1024 - base);
const body = JSON.stringify(call);
if (body.length !== 1024) throw new Error(`rules body is ${body.length} bytes`);
w('rules_body.json', body);

// --- /rules_big: the same call carrying a file's contents ----------------
const fileCall = (size) => {
    const c = { jsonrpc: '2.0', id: 1, method: 'tools/call',
                params: { name: 'tool_042', arguments: { path: 'src/bench.c', content: '' } } };
    const line = (i) => `    ngx_log_debug1(NGX_LOG_DEBUG_HTTP, log, 0, "line %d", ${i});`;
    const lines = [];
    for (let i = 0, n = JSON.stringify(c).length; n < size; i++) {
        lines.push(line(i));
        n += JSON.stringify(line(i)).length - 2 + 2;   // + the \n escape
    }
    let text = lines.join('\n');
    c.params.arguments.content = text;
    let json = JSON.stringify(c);
    while (json.length > size) {       // trim to the exact size
        text = text.slice(0, text.length - (json.length - size));
        c.params.arguments.content = text.replace(/\\$/, '');
        json = JSON.stringify(c);
    }
    c.params.arguments.content += ' '.repeat(size - json.length);
    json = JSON.stringify(c);
    if (json.length !== size) throw new Error(`file body is ${json.length} bytes, not ${size}`);
    return json;
};
w('body16k.json', fileCall(16384));
w('body256k.json', fileCall(262144));

// --- /filter: 50 tools, token holds the scopes of the even ones ---------
const frules = [];
const tools = [];
for (let i = 0; i < 50; i++) {
    const n = pad(i, 2);
    frules.push(`mcp_oauth_scope ftool_${n} fscope_${n};`);
    tools.push({
        name: `ftool_${n}`,
        description: `Benchmark tool ${n}: looks up records matching a query in data set ${n} and returns them as text.`,
        inputSchema: {
            type: 'object',
            properties: {
                query: { type: 'string', description: 'what to look for' },
                limit: { type: 'integer', minimum: 1, maximum: 100, description: 'largest number of results' },
            },
            required: ['query'],
        },
    });
}
w('filter.conf', frules.join('\n') + '\n');
w('tools_list.json', JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'tools/list', params: {} }));
const answer = JSON.stringify({ jsonrpc: '2.0', id: 1, result: { tools } });
w('tools50.json', answer);
if (/['\\$]/.test(answer)) throw new Error('tools50 answer must not contain quote, backslash or $');
// an nginx `return` of TEXT over `set` variables of 3000 bytes (one config
// token is limited to 4 KB); newlines written as \n escapes
const returnConf = (text, v) => {
    if (/['\\$\r]/.test(text)) throw new Error('return text must not contain quote, backslash, $ or CR');
    const esc = (t) => t.replace(/\n/g, '\\n');
    const parts = [];
    for (let i = 0; i < text.length; i += 3000) parts.push(text.slice(i, i + 3000));
    const conf = parts.map((p, i) => `set $${v}_${i} '${esc(p)}';`);
    conf.push(`return 200 '${parts.map((_, i) => `$${v}_${i}`).join('')}';`);
    return conf.join('\n') + '\n';
};
w('tools50.conf', returnConf(answer, 'bench_t50'));

// the same answer with a result that differs on every request (the
// request's $request_id at its end): the filter cannot reuse a result
const varyHead = answer.slice(0, -2) + ',"_meta":{"request":"';
w('tools50_vary.json', varyHead + '0'.repeat(32) + '"}}}');
w('tools50_vary.conf', returnConf(varyHead, 'bench_t50v')
    .replace(/';\n$/, '$request_id"}}}\';\n'));

// --- SSE: the same answer as one event; a stream of 1,000 small events ----
const sseEvent = (json) => `event: message\ndata: ${json}\n\n`;
w('tools50_sse.txt', sseEvent(answer));
w('tools50_sse.conf', returnConf(sseEvent(answer), 'bench_t50s'));
let stream = '';
for (let i = 1; i <= 1000; i++) {
    stream += sseEvent(JSON.stringify({ jsonrpc: '2.0', method: 'notifications/progress',
        params: { progressToken: 'bench-1', progress: i, total: 1000 } }));
}
stream += sseEvent(answer);
w('sse1000.txt', stream);
w('sse1000.conf', returnConf(stream, 'bench_s1k'));

process.stdout.write(`fixtures: rules body ${body.length} B, tools50 answer ${answer.length} B, `
                     + `SSE stream of 1,001 events ${stream.length} B\n`);
