#!/usr/bin/env node
// Write COUNT distinct tokens (scope mcp:tools, one-year expiry, a distinct
// jti each) to FILE, one per line.
//
//   node bench/lib/unique-tokens.mjs FILE COUNT [WORKERS] [ALG]
//
// ALG: RS256 (default; key rsa1, kid rsa-1), ES256 (key ec256, P-256) or
// EdDSA (key ed25519).  Signing is the cost (~1.4k RSA-2048 signatures/s per
// core; ES256 and EdDSA are ~20x faster), so the work is split over WORKERS
// worker threads (default: the number of CPUs; 0 also means that).

import { createPrivateKey, sign, randomBytes } from 'node:crypto';
import { readFileSync, openSync, writeSync, closeSync } from 'node:fs';
import { cpus } from 'node:os';
import { Worker, isMainThread, parentPort, workerData } from 'node:worker_threads';
import { fileURLToPath } from 'node:url';
import { dirname, join } from 'node:path';

const KEYS = join(dirname(fileURLToPath(import.meta.url)), '../../t/data/keys');

const ALGS = {
    RS256: { key: 'rsa1', sign: (data, key) => sign('sha256', data, key) },
    ES256: { key: 'ec256', sign: (data, key) => sign('sha256', data, { key, dsaEncoding: 'ieee-p1363' }) },
    EdDSA: { key: 'ed25519', sign: (data, key) => sign(null, data, key) },
};

function generate({ from, to, now, run, alg }) {
    const a = ALGS[alg];
    const jwk = JSON.parse(readFileSync(join(KEYS, `${a.key}.private.jwk`), 'utf8'));
    const key = createPrivateKey({ key: jwk, format: 'jwk' });
    const h = Buffer.from(JSON.stringify({ alg, kid: jwk.kid, typ: 'JWT' })).toString('base64url');
    const lines = [];
    for (let i = from; i < to; i++) {
        const payload = {
            iss: 'https://auth.example.com', sub: `user-${i % 1000}`,
            aud: 'https://mcp.example.com/mcp', client_id: 'client-1', scope: 'mcp:tools',
            iat: now, exp: now + 86400 * 365, jti: `${run}-${i}`,
        };
        const input = `${h}.${Buffer.from(JSON.stringify(payload)).toString('base64url')}`;
        lines.push(`${input}.${a.sign(Buffer.from(input), key).toString('base64url')}`);
    }
    return lines.join('\n') + '\n';
}

if (isMainThread) {
    const [file, countArg, workersArg, alg = 'RS256'] = process.argv.slice(2);
    const count = Number(countArg);
    if (!file || !Number.isInteger(count) || count <= 0 || !ALGS[alg]) {
        process.stderr.write('usage: unique-tokens.mjs FILE COUNT [WORKERS] [RS256|ES256|EdDSA]\n');
        process.exit(2);
    }
    const nw = Math.max(1, Math.min(Number(workersArg) || cpus().length, count));
    const now = Math.floor(Date.now() / 1000);
    const run = randomBytes(6).toString('hex');
    const per = Math.ceil(count / nw);
    const jobs = [];
    for (let w = 0; w < nw; w++) {
        const from = w * per, to = Math.min(count, from + per);
        if (from >= to) break;
        jobs.push(new Promise((resolve, reject) => {
            const wk = new Worker(fileURLToPath(import.meta.url), { workerData: { from, to, now, run, alg } });
            wk.once('message', resolve);
            wk.once('error', reject);
        }));
    }
    const t0 = Date.now();
    const parts = await Promise.all(jobs);
    const fd = openSync(file, 'w');
    for (const p of parts) writeSync(fd, p);
    closeSync(fd);
    process.stdout.write(`unique ${alg} tokens: ${count} in ${((Date.now() - t0) / 1000).toFixed(1)} s with ${jobs.length} threads\n`);
} else {
    parentPort.postMessage(generate(workerData));
}
