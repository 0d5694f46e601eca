#!/usr/bin/env node
// Fixtures for the JWK validation checks (issue 18 item 7), derived from
// keys/rsa1 and keys/ec256 so that they survive without regenerating the
// rest; gen.mjs runs this after writing new keys.
//   node t/data/gen-jwk-checks.mjs
//
//   jwks/rsa-e1.json          rsa1's modulus with e = 1 (kid rsa-e1) + ec256
//   jwks/rsa-e1-only.json     only the e = 1 key
//   jwks/rsa-bad.json         e = 65538 (kid rsa-even), an even modulus with
//                             e = 65537 (kid rsa-n-even), ec256
//   jwks/key-ops-encrypt.json rsa1 with "key_ops": ["encrypt"] (kid rsa-1) + ec256
//   jwks/key-ops-verify.json  rsa1 with "key_ops": ["verify"] (kid rsa-1)
//   tokens/rsa-e1-forged.jwt  RS256, kid rsa-e1, "signed" without any private
//                             key: the signature is the EMSA-PKCS1-v1_5
//                             encoding of the SHA-256 digest (s^1 mod n = s)

import { createHash } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { DATA_DIR, DEFAULT_ISS, DEFAULT_AUD, b64u, segment } from './mint.mjs';

const json = (o) => JSON.stringify(o, null, 2) + '\n';
const pub = (name) => JSON.parse(readFileSync(join(DATA_DIR, 'keys', `${name}.public.jwk`), 'utf8'));

const rsa1 = pub('rsa1');
const ec256 = pub('ec256');
const { use, ...rsa1NoUse } = rsa1;

const e1 = { kty: 'RSA', kid: 'rsa-e1', use: 'sig', n: rsa1.n, e: 'AQ' };
const even = { kty: 'RSA', kid: 'rsa-even', use: 'sig', n: rsa1.n, e: b64u(Buffer.from([0x01, 0x00, 0x02])) };

const nb = Buffer.from(rsa1.n, 'base64url');
nb[nb.length - 1] &= 0xfe;
const evenN = { kty: 'RSA', kid: 'rsa-n-even', use: 'sig', n: b64u(nb), e: 'AQAB' };

const files = {
    'rsa-bad.json': { keys: [even, evenN, ec256] },
    'rsa-e1.json': { keys: [e1, ec256] },
    'rsa-e1-only.json': { keys: [e1] },
    'key-ops-encrypt.json': { keys: [{ ...rsa1NoUse, key_ops: ['encrypt'] }, ec256] },
    'key-ops-verify.json': { keys: [{ ...rsa1NoUse, key_ops: ['verify'] }] },
};
for (const [f, o] of Object.entries(files)) writeFileSync(join(DATA_DIR, 'jwks', f), json(o));

// RFC 8017 §9.2 with SHA-256, k = the modulus length
const k = Buffer.from(rsa1.n, 'base64url').length;
const input = `${segment({ alg: 'RS256', kid: 'rsa-e1', typ: 'JWT' })}.${segment({
    iss: DEFAULT_ISS, sub: 'user-1', aud: DEFAULT_AUD, client_id: 'client-1', scope: 'mcp:tools',
    iat: 1700000000, exp: 4102444800,
})}`;
const digestInfo = Buffer.concat([
    Buffer.from('3031300d060960864801650304020105000420', 'hex'),
    createHash('sha256').update(input).digest(),
]);
const em = Buffer.concat([
    Buffer.from([0x00, 0x01]), Buffer.alloc(k - 3 - digestInfo.length, 0xff), Buffer.from([0x00]), digestInfo,
]);
writeFileSync(join(DATA_DIR, 'tokens', 'rsa-e1-forged.jwt'), `${input}.${b64u(em)}`);
