#!/usr/bin/env node
// RS256 tokens by keys/rsa1 (kid rsa-1) at the edges of RSASSA-PKCS1-v1_5
// verification (RFC 8017 §8.2.2), for the module's own RSA-2048 code and
// OpenSSL's alike.  Each signature is the private-key operation on an
// encoding written here (s = EM^d mod n), so the encodings can be wrong.
//   node t/data/gen-rsa-edges.mjs
//
//   tokens/rs256-leading-zero.jwt    valid; its signature starts with a 0 byte
//   tokens/rs256-padding-fe.jwt      one FF of the padding is FE
//   tokens/rs256-padding-short.jwt   8 FF bytes, then 00 and the DigestInfo
//                                    after some garbage (no exact encoding)
//   tokens/rs256-digestinfo-nonull.jwt  the DigestInfo without its NULL
//                                    parameters (a legacy form, refused)
//   tokens/rs256-digestinfo-sha384.jwt  the SHA-384 DigestInfo over the
//                                    SHA-256 digest's place
//   tokens/rs256-sig-n.jwt           the signature is the modulus itself
//   tokens/rs256-sig-zero.jwt        256 zero bytes
//   tokens/rs256-sig-short.jwt       a valid signature without its first byte

import { constants, createHash, createPrivateKey, privateEncrypt } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { DATA_DIR, DEFAULT_ISS, DEFAULT_AUD, b64u, segment } from './mint.mjs';

const jwk = JSON.parse(readFileSync(join(DATA_DIR, 'keys', 'rsa1.private.jwk'), 'utf8'));
const key = createPrivateKey({ key: jwk, format: 'jwk' });
const n = Buffer.from(jwk.n, 'base64url');
const k = n.length;

const SHA256 = Buffer.from('3031300d060960864801650304020105000420', 'hex');

const signingInput = (jti) => `${segment({ alg: 'RS256', kid: 'rsa-1', typ: 'JWT' })}.${segment({
    iss: DEFAULT_ISS, sub: 'user-1', aud: DEFAULT_AUD, client_id: 'client-1', scope: 'mcp:tools',
    iat: 1700000000, exp: 4102444800, jti,
})}`;

const digest = (input) => createHash('sha256').update(input).digest();

// 00 01 FF..FF 00 T, k bytes
const encode = (t, ff = k - 3 - t.length) =>
    Buffer.concat([Buffer.from([0x00, 0x01]), Buffer.alloc(ff, 0xff), Buffer.from([0x00]), t]);

const raw = (em) => privateEncrypt({ key, padding: constants.RSA_NO_PADDING }, em);

const write = (name, input, sig) =>
    writeFileSync(join(DATA_DIR, 'tokens', `${name}.jwt`), `${input}.${b64u(sig)}\n`);

// valid, with a signature below 2^2040: try jti values until one is
let i = 0;
for (;; i++) {
    const input = signingInput(`leading-zero-${i}`);
    const sig = raw(encode(Buffer.concat([SHA256, digest(input)])));
    if (sig[0] === 0) {
        write('rs256-leading-zero', input, sig);
        break;
    }
}

{
    const input = signingInput('padding-fe');
    const em = encode(Buffer.concat([SHA256, digest(input)]));
    em[100] = 0xfe;
    write('rs256-padding-fe', input, raw(em));
}

{
    const input = signingInput('padding-short');
    const t = Buffer.concat([SHA256, digest(input)]);
    const em = Buffer.concat([Buffer.from([0x00, 0x01]), Buffer.alloc(8, 0xff), Buffer.from([0x00]),
                              Buffer.alloc(k - 11 - t.length, 0x41), t]);
    write('rs256-padding-short', input, raw(em));
}

{
    const input = signingInput('digestinfo-nonull');
    const t = Buffer.concat([Buffer.from('302f300b0609608648016503040201' + '0420', 'hex'), digest(input)]);
    write('rs256-digestinfo-nonull', input, raw(encode(t)));
}

{
    const input = signingInput('digestinfo-sha384');
    const t = Buffer.concat([Buffer.from('3031300d060960864801650304020205000420', 'hex'), digest(input)]);
    write('rs256-digestinfo-sha384', input, raw(encode(t)));
}

{
    const input = signingInput('sig-n');
    write('rs256-sig-n', input, n);
    write('rs256-sig-zero', signingInput('sig-zero'), Buffer.alloc(k));
    const valid = raw(encode(Buffer.concat([SHA256, digest(signingInput('sig-short'))])));
    write('rs256-sig-short', signingInput('sig-short'), valid.subarray(1));
}
