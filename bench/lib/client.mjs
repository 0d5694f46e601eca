#!/usr/bin/env node
// Tiny HTTP/1.1 client for bench/run.sh callgrind: sends exactly N requests,
// one after the other, on a single keep-alive connection, and checks that
// every answer is 2xx. (curl in a loop is too slow, and wrk cannot stop after
// an exact number of requests.)
//
//   node bench/lib/client.mjs --port P --path /mcp --n N
//        [--method GET|POST] [--token-file F] [--token-lines F] [--body-file F]
//
// --token-lines: a file of tokens, one a line, each request the next one
// (the cases with a new token per request).
//
// Answers carry Content-Length (nginx's return and proxied answers do) or
// come chunked (an SSE answer the tools/list filter rewrote as it streamed).

import { connect } from 'node:net';
import { readFileSync } from 'node:fs';

const opt = { method: 'GET', n: 0 };
const argv = process.argv.slice(2);
for (let i = 0; i < argv.length; i += 2) opt[argv[i].replace(/^--/, '').replace(/-(.)/g, (_, c) => c.toUpperCase())] = argv[i + 1];
const n = Number(opt.n);
if (!opt.port || !opt.path || !Number.isInteger(n) || n < 0) {
    process.stderr.write('usage: client.mjs --port P --path PATH --n N [--method M] [--token-file F] [--body-file F]\n');
    process.exit(2);
}
if (n === 0) process.exit(0);

const body = opt.bodyFile ? readFileSync(opt.bodyFile) : null;
const lines = [`${opt.method} ${opt.path} HTTP/1.1`, `Host: 127.0.0.1:${opt.port}`,
               'Accept: application/json, text/event-stream'];
if (opt.tokenFile) lines.push(`Authorization: Bearer ${readFileSync(opt.tokenFile, 'utf8').trim()}`);
if (body) lines.push('Content-Type: application/json', `Content-Length: ${body.length}`);
const tokens = opt.tokenLines ? readFileSync(opt.tokenLines, 'utf8').split('\n').filter(Boolean) : null;
const request = (i) => Buffer.concat([
    Buffer.from([...lines, ...(tokens ? [`Authorization: Bearer ${tokens[i]}`] : [])].join('\r\n') + '\r\n\r\n'),
    body ?? Buffer.alloc(0)]);
const req = tokens ? null : request(0);

let sent = 0, done = 0, buf = Buffer.alloc(0), need = -1, status = 0, chunked = false;
const sock = connect({ host: '127.0.0.1', port: Number(opt.port) });
sock.setNoDelay(true);
const fail = (msg) => { process.stderr.write(`client.mjs: ${msg}\n`); process.exit(1); };
if (tokens && tokens.length < n) fail(`${opt.tokenLines}: ${tokens.length} tokens for ${n} requests`);
const send = () => { sock.write(req ?? request(sent)); sent++; };
sock.on('connect', send);
sock.on('error', (e) => fail(e.message));
sock.on('close', () => { if (done < n) fail(`connection closed after ${done} of ${n} answers`); });
sock.on('data', (chunk) => {
    buf = buf.length ? Buffer.concat([buf, chunk]) : chunk;
    for (;;) {
        if (need < 0) {
            const end = buf.indexOf('\r\n\r\n');
            if (end < 0) return;
            const head = buf.subarray(0, end).toString('latin1');
            status = Number(head.slice(9, 12));
            const m = /\r\ncontent-length:\s*(\d+)/i.exec(head);
            chunked = !m && /\r\ntransfer-encoding:\s*chunked/i.test(head);
            if (!m && !chunked) fail(`answer without Content-Length or chunked encoding:\n${head}`);
            buf = buf.subarray(end + 4);
            need = chunked ? 0 : Number(m[1]);
        }
        if (chunked) {
            // chunk by chunk: "size\r\n" data "\r\n", up to the 0-size one
            // and its empty trailer (need: bytes of the current chunk left)
            let last = false;
            for (;;) {
                if (need > 0) {
                    if (buf.length < need + 2) return;
                    buf = buf.subarray(need + 2);
                    need = 0;
                }
                const e = buf.indexOf('\r\n');
                if (e < 0) return;
                const size = parseInt(buf.subarray(0, e).toString('latin1'), 16);
                if (size === 0) {
                    if (buf.length < e + 4) return;
                    buf = buf.subarray(e + 4);
                    last = true;
                    break;
                }
                buf = buf.subarray(e + 2);
                need = size;
            }
            if (!last) return;
        } else {
            if (buf.length < need) return;
            buf = buf.subarray(need);
        }
        need = -1;
        if (status < 200 || status > 299) fail(`answer ${done + 1}: status ${status}`);
        if (++done === n) {
            process.stdout.write(`client: ${done} answers, all 2xx\n`);
            sock.end();
            return;
        }
        send();
    }
});
