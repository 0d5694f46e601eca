#!/usr/bin/env node
// SSE no-hold-back check for bench/run.sh (not timed): no event is held back
// waiting for more bytes than it needs.
//
//   node bench/lib/sse-check.mjs --upstream-port UP --port P --token-file F
//        --body-file F --tools-file F PATH:TOOLS [PATH:TOOLS...]
//
// Runs an SSE upstream on 127.0.0.1:UP (node:http) and, for each PATH of the
// nginx on 127.0.0.1:P (a location proxying to UP, with proxy_buffering off),
// POSTs the body (a tools/list request) with the token.  The upstream sends
// its events one at a time and sends the next one only once the client has
// received the previous one whole: an event the proxy (or the filter) holds
// back waiting for more bytes makes the check fail after TIMEOUT_MS (2000).
// The events: progress notifications, one split in two writes with a pause,
// one with CRLF line endings, a comment-only event, the tools/list answer
// (the 50 tools of --tools-file; the client must get TOOLS of them), then
// more progress after the answer, one split right between its two newlines.
// Prints one line per PATH and a summary line; exit 1 on failure.

import { createServer } from 'node:http';
import { connect } from 'node:net';
import { readFileSync } from 'node:fs';

const argv = process.argv.slice(2);
const opt = {};
const paths = [];
for (let i = 0; i < argv.length; i++) {
    if (argv[i].startsWith('--')) {
        opt[argv[i].slice(2).replace(/-(.)/g, (_, c) => c.toUpperCase())] = argv[++i];
    } else {
        const [path, tools] = argv[i].split(':');
        paths.push({ path, tools: Number(tools) });
    }
}
if (!opt.upstreamPort || !opt.port || !opt.tokenFile || !opt.bodyFile || !opt.toolsFile || !paths.length) {
    process.stderr.write('usage: sse-check.mjs --upstream-port UP --port P --token-file F --body-file F '
                         + '--tools-file F PATH:TOOLS...\n');
    process.exit(2);
}
const TIMEOUT_MS = Number(process.env.TIMEOUT_MS || 2000);
const PAUSE_MS = 150;
const token = readFileSync(opt.tokenFile, 'utf8').trim();
const body = readFileSync(opt.bodyFile);
const tools50 = readFileSync(opt.toolsFile, 'utf8');
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

const progress = (n, nl = '\n') => `event: message${nl}data: ${JSON.stringify({
    jsonrpc: '2.0', method: 'notifications/progress', params: { progressToken: 'check', progress: n, total: 9 } })}${nl}${nl}`;
// each step: the event's text, in one or more writes (a pause between them)
const steps = [
    { what: 'progress 1', writes: [progress(1)] },
    { what: 'progress 2', writes: [progress(2)] },
    { what: 'progress 3, split in two writes', writes: [progress(3).slice(0, 25), progress(3).slice(25)] },
    { what: 'progress 4, CRLF line endings', writes: [progress(4, '\r\n')] },
    { what: 'a comment-only event', writes: [': keep-alive\n\n'] },
    { what: 'the tools/list answer', writes: [`event: message\ndata: ${tools50}\n\n`], answer: true },
    { what: 'progress 5, after the answer', writes: [progress(5)] },
    { what: 'progress 6, split between its two newlines', writes: [progress(6).slice(0, -1), '\n'] },
    { what: 'progress 7, the last', writes: [progress(7)] },
];

// --- the client: one request, the answer's events as they come -----------
function client(path) {
    const c = { events: [], waiters: [], error: null, status: 0, ended: false };
    let raw = Buffer.alloc(0), head = null, chunked = false, text = '', chunkLeft = -1;
    const wake = () => {
        c.waiters = c.waiters.filter((w) => {
            if (c.events.length >= w.n || c.error || c.ended) { w.resolve(); return false; }
            return true;
        });
    };
    const sse = (s) => {
        text += s;
        for (;;) {
            const m = /\r?\n\r?\n/.exec(text);
            if (!m) break;
            c.events.push({ text: text.slice(0, m.index + m[0].length), at: Date.now() });
            text = text.slice(m.index + m[0].length);
        }
        wake();
    };
    const sock = connect({ host: '127.0.0.1', port: Number(opt.port) });
    sock.setNoDelay(true);
    sock.on('connect', () => {
        sock.write([`POST ${path} HTTP/1.1`, `Host: 127.0.0.1:${opt.port}`,
                    'Accept: application/json, text/event-stream', `Authorization: Bearer ${token}`,
                    'Content-Type: application/json', `Content-Length: ${body.length}`, 'Connection: close',
                    '', ''].join('\r\n'));
        sock.write(body);
    });
    sock.on('error', (e) => { c.error = e.message; wake(); });
    sock.on('close', () => { c.ended = true; wake(); });
    sock.on('data', (chunk) => {
        raw = Buffer.concat([raw, chunk]);
        if (!head) {
            const end = raw.indexOf('\r\n\r\n');
            if (end < 0) return;
            head = raw.subarray(0, end).toString('latin1');
            c.status = Number(head.slice(9, 12));
            c.type = (/\r\ncontent-type:\s*([^\r]*)/i.exec(head) || [])[1];
            chunked = /\r\ntransfer-encoding:\s*chunked/i.test(head);
            raw = raw.subarray(end + 4);
        }
        if (!chunked) { sse(raw.toString('utf8')); raw = Buffer.alloc(0); return; }
        for (;;) {       // chunked: pass on each chunk's bytes as they come
            if (chunkLeft < 0) {
                const e = raw.indexOf('\r\n');
                if (e < 0) return;
                chunkLeft = parseInt(raw.subarray(0, e).toString('latin1'), 16);
                raw = raw.subarray(e + 2);
                if (chunkLeft === 0) { chunkLeft = -2; return; }
            }
            if (chunkLeft === -2) return;
            if (chunkLeft > 0) {
                const take = Math.min(chunkLeft, raw.length);
                if (take === 0) return;
                sse(raw.subarray(0, take).toString('latin1'));
                raw = raw.subarray(take);
                chunkLeft -= take;
            }
            if (chunkLeft === 0) {
                if (raw.length < 2) return;
                raw = raw.subarray(2);
                chunkLeft = -1;
            }
        }
    });
    c.waitFor = (n, ms) => new Promise((resolve) => {
        const w = { n, resolve };
        c.waiters.push(w);
        setTimeout(resolve, ms);
        wake();
    });
    c.close = () => sock.destroy();
    return c;
}

// --- the upstream: sends the steps, each once the client has the previous --
let current = null;      // { client, done(result) }
const server = createServer((req, res) => {
    req.resume();
    req.on('end', async () => {
        const run = current;
        res.writeHead(200, { 'Content-Type': 'text/event-stream', 'Cache-Control': 'no-cache' });
        let slowest = 0;
        try {
            for (let i = 0; i < steps.length; i++) {
                const st = steps[i];
                for (let k = 0; k < st.writes.length; k++) {
                    if (k > 0) await sleep(PAUSE_MS);
                    res.write(st.writes[k]);
                }
                const sent = Date.now();
                await run.client.waitFor(i + 1, TIMEOUT_MS);
                if (run.client.events.length < i + 1) {
                    throw new Error(`event ${i + 1} (${st.what}) held back: not at the client ${TIMEOUT_MS} ms after `
                        + `its last byte was sent (client has ${run.client.events.length} events`
                        + `${run.client.error ? `, error ${run.client.error}` : ''}, status ${run.client.status})`);
                }
                slowest = Math.max(slowest, run.client.events[i].at - sent);
            }
            res.end();
            run.done({ slowest });
        } catch (e) {
            res.destroy();
            run.done({ error: e.message });
        }
    });
});
await new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(Number(opt.upstreamPort), '127.0.0.1', resolve);
});

let failed = 0;
const results = [];
for (const { path, tools } of paths) {
    const r = await new Promise((resolve) => {
        current = { client: client(path), done: resolve };
        setTimeout(() => resolve({ error: `no answer in ${TIMEOUT_MS * 10} ms (status ${current.client.status})` }),
                   TIMEOUT_MS * 10);
    });
    const c = current.client;
    await c.waitFor(Infinity, 500);     // the end of the stream
    c.close();
    let msg = r.error;
    if (!msg && c.status !== 200) msg = `status ${c.status}`;
    if (!msg && !/^text\/event-stream/.test(c.type || '')) msg = `content type ${c.type}`;
    if (!msg) {
        const ai = steps.findIndex((s) => s.answer);
        const got = (c.events[ai].text.match(/"name":"ftool_\d+"/g) || []).length;
        if (got !== tools) msg = `the tools/list answer lists ${got} tools, expected ${tools}`;
        else if (c.events.length !== steps.length) msg = `${c.events.length} events, expected ${steps.length}`;
        for (let i = 0; !msg && i < steps.length; i++) {
            if (steps[i].answer) continue;
            if (c.events[i].text !== steps[i].writes.join('')) msg = `event ${i + 1} (${steps[i].what}) changed`;
        }
    }
    if (msg) {
        failed++;
        process.stdout.write(`${path}: FAIL: ${msg}\n`);
    } else {
        process.stdout.write(`${path}: ${steps.length} events, each at the client before the next was sent `
            + `(slowest ${r.slowest} ms after its last byte); the answer listed ${tools} tools\n`);
    }
    results.push(msg ? `${path} FAIL` : `${path} ok (slowest ${r.slowest} ms)`);
}
server.close();
process.stdout.write(`${failed ? 'FAIL' : 'pass'}: ${results.join(', ')}; ${steps.length} events each, `
    + `the next sent only once the previous had arrived (timeout ${TIMEOUT_MS} ms)\n`);
process.exit(failed ? 1 : 0);
