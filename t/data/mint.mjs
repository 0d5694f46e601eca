#!/usr/bin/env node
// Mint a compact JWS for tests (CLI + importable helpers).
//
// CLI (run from anywhere; keys are read from this script's keys/ directory):
//   node t/data/mint.mjs --key rsa1 [--alg RS256] [--claims '{"scope":"a b"}']
//        [--exp-in SECONDS|none] [--nbf-in SECONDS] [--iat-in SECONDS]
//        [--header '{"typ":"at+jwt"}'] [--now EPOCH]
// Prints the token followed by a newline.
//
// Import:
//   import { mint } from './mint.mjs';
//   const tok = mint({ key: 'rsa1', alg: 'PS256', claims: {...}, header: {...},
//                      expIn: 60, nbfIn: 10, iatIn: 0 });
//
// Semantics:
//   * payload = defaults (iss, sub, aud, client_id, scope, iat, [nbf], exp)
//     with --claims merged on top; a claim whose value is null is deleted.
//     iat = now + iatIn (default 0), exp = now + expIn (default 3600; "none"
//     or null omits exp), nbf = now + nbfIn (only when given).
//     Explicit --claims values win over the time options.
//   * header = {alg, kid (from the key), typ:"JWT"} with --header merged on
//     top; null deletes a member. The token is signed with --alg (or the
//     key's default alg); overriding "alg" through --header changes only the
//     header, not how it is signed (useful for key/alg mismatch tests).
//   * --alg none produces an unsecured token (empty signature); --key is
//     then optional.
//   * --alg HS* with a non-oct key uses that key's public SPKI PEM text as
//     the HMAC secret (the classic algorithm-confusion attack).

import { createHmac, createPrivateKey, createPublicKey, sign as cryptoSign, constants } from 'node:crypto';
import { readFileSync, realpathSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const DATA_DIR = dirname(fileURLToPath(import.meta.url));
export const KEYS_DIR = join(DATA_DIR, 'keys');

export const DEFAULT_ISS = 'https://auth.example.com';
export const DEFAULT_AUD = 'https://mcp.example.com/mcp';

export function defaultClaims(now) {
    return {
        iss: DEFAULT_ISS,
        sub: 'user-1',
        aud: DEFAULT_AUD,
        client_id: 'client-1',
        scope: 'mcp:tools',
        iat: now,
        exp: now + 3600,
    };
}

// Merge `over` into `base` (shallow); null values delete members.
export function mergeNullDeletes(base, over) {
    const out = { ...base };
    for (const [k, v] of Object.entries(over || {})) {
        if (v === null) delete out[k];
        else out[k] = v;
    }
    return out;
}

export function b64u(data) {
    return Buffer.from(data).toString('base64url');
}

// A segment is either a Buffer (used verbatim as the decoded bytes) or a
// JSON value (serialised with JSON.stringify).
export function segment(value) {
    if (Buffer.isBuffer(value)) return b64u(value);
    return b64u(JSON.stringify(value));
}

export function defaultAlgForJwk(jwk) {
    if (typeof jwk.alg === 'string') return jwk.alg;
    switch (jwk.kty) {
        case 'RSA': return 'RS256';
        case 'EC':
            return { 'P-256': 'ES256', 'P-384': 'ES384', 'P-521': 'ES512' }[jwk.crv]
                ?? (() => { throw new Error(`unsupported EC curve ${jwk.crv}`); })();
        case 'OKP':
            if (jwk.crv === 'Ed25519') return 'EdDSA';
            throw new Error(`unsupported OKP curve ${jwk.crv}`);
        case 'oct': return 'HS256';
        default: throw new Error(`unsupported kty ${jwk.kty}`);
    }
}

export function loadKey(name) {
    return JSON.parse(readFileSync(join(KEYS_DIR, `${name}.private.jwk`), 'utf8'));
}

function resolveJwk(key) {
    if (key === undefined || key === null) return null;
    if (typeof key === 'string') return loadKey(key);
    return key; // already a JWK object
}

const HASH = { 256: 'sha256', 384: 'sha384', 512: 'sha512' };

// Sign `data` (string/Buffer) with private JWK `jwk` using JWS alg `alg`.
// Returns the raw signature bytes (JWS encoding: ECDSA is r||s).
export function signBytes(alg, jwk, data) {
    const input = Buffer.from(data);
    if (alg === 'none') return Buffer.alloc(0);
    const m = /^(RS|PS|ES|HS)(256|384|512)$/.exec(alg);
    if (m) {
        const [, fam, bits] = m;
        const hash = HASH[bits];
        if (fam === 'HS') {
            let secret;
            if (jwk.kty === 'oct') secret = Buffer.from(jwk.k, 'base64url');
            else secret = Buffer.from(publicPem(jwk)); // alg confusion
            return createHmac(hash, secret).update(input).digest();
        }
        const key = createPrivateKey({ key: jwk, format: 'jwk' });
        if (fam === 'RS') {
            return cryptoSign(hash, input, { key, padding: constants.RSA_PKCS1_PADDING });
        }
        if (fam === 'PS') {
            return cryptoSign(hash, input, {
                key, padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: Number(bits) / 8,
            });
        }
        // ES*: raw r||s (IEEE P1363) as JWS requires
        return cryptoSign(hash, input, { key, dsaEncoding: 'ieee-p1363' });
    }
    if (alg === 'EdDSA' || alg === 'Ed25519') {
        const key = createPrivateKey({ key: jwk, format: 'jwk' });
        return cryptoSign(null, input, key);
    }
    throw new Error(`unsupported alg ${alg}`);
}

// Public SPKI PEM text of an asymmetric private or public JWK.
export function publicPem(jwk) {
    return createPublicKey({ key: jwk, format: 'jwk' }).export({ type: 'spki', format: 'pem' });
}

// Build a compact JWS. header/payload: JSON values or Buffers (raw bytes).
// opts.headerSeg / opts.payloadSeg override the encoded segment text
// (the signature is computed over exactly the text that appears).
export function compactSign({ header, payload, alg, jwk, headerSeg, payloadSeg }) {
    const h = headerSeg ?? segment(header);
    const p = payloadSeg ?? segment(payload);
    const input = `${h}.${p}`;
    const sig = signBytes(alg, jwk, input);
    return { token: `${input}.${b64u(sig)}`, input, sig, h, p };
}

export function mint({
    key, alg, claims = {}, header = {}, expIn = 3600, nbfIn, iatIn = 0,
    now = Math.floor(Date.now() / 1000),
} = {}) {
    const jwk = resolveJwk(key);
    const signAlg = alg ?? (jwk ? defaultAlgForJwk(jwk) : null);
    if (!signAlg) throw new Error('mint: --key is required (or --alg none)');
    if (!jwk && signAlg !== 'none') throw new Error(`mint: alg ${signAlg} needs a key`);

    let payload = defaultClaims(now);
    payload.iat = now + Number(iatIn);
    if (expIn === 'none' || expIn === null) delete payload.exp;
    else payload.exp = now + Number(expIn);
    if (nbfIn !== undefined && nbfIn !== null) {
        // keep nbf before exp for readability
        const { exp, ...rest } = payload;
        payload = { ...rest, nbf: now + Number(nbfIn) };
        if (exp !== undefined) payload.exp = exp;
    }
    payload = mergeNullDeletes(payload, claims);

    let hdr = { alg: signAlg };
    if (jwk && typeof jwk.kid === 'string') hdr.kid = jwk.kid;
    hdr.typ = 'JWT';
    hdr = mergeNullDeletes(hdr, header);

    return compactSign({ header: hdr, payload, alg: signAlg, jwk }).token;
}

function usage(msg) {
    if (msg) process.stderr.write(`mint.mjs: ${msg}\n`);
    process.stderr.write(
        'usage: node t/data/mint.mjs --key NAME [--alg ALG] [--claims JSON] ' +
        '[--exp-in SECONDS|none] [--nbf-in SECONDS] [--iat-in SECONDS] ' +
        '[--header JSON] [--now EPOCH]\n');
    process.exit(2);
}

function parseArgs(argv) {
    const opts = {};
    const map = {
        '--key': 'key', '--alg': 'alg', '--claims': 'claims', '--header': 'header',
        '--exp-in': 'expIn', '--nbf-in': 'nbfIn', '--iat-in': 'iatIn', '--now': 'now',
    };
    for (let i = 0; i < argv.length; i++) {
        let a = argv[i];
        let v;
        const eq = a.indexOf('=');
        if (a.startsWith('--') && eq > 0) { v = a.slice(eq + 1); a = a.slice(0, eq); }
        if (a === '-h' || a === '--help') usage();
        const name = map[a];
        if (!name) usage(`unknown option ${a}`);
        if (v === undefined) {
            if (i + 1 >= argv.length) usage(`${a} needs a value`);
            v = argv[++i];
        }
        opts[name] = v;
    }
    for (const j of ['claims', 'header']) {
        if (opts[j] !== undefined) {
            try { opts[j] = JSON.parse(opts[j]); } catch (e) { usage(`--${j}: bad JSON: ${e.message}`); }
            if (typeof opts[j] !== 'object' || Array.isArray(opts[j]) || opts[j] === null) {
                usage(`--${j} must be a JSON object`);
            }
        }
    }
    for (const n of ['nbfIn', 'iatIn', 'now']) {
        if (opts[n] !== undefined && !/^-?\d+$/.test(opts[n])) usage(`bad number for ${n}: ${opts[n]}`);
        if (opts[n] !== undefined) opts[n] = Number(opts[n]);
    }
    if (opts.expIn !== undefined && opts.expIn !== 'none') {
        if (!/^-?\d+$/.test(opts.expIn)) usage(`bad --exp-in: ${opts.expIn}`);
        opts.expIn = Number(opts.expIn);
    }
    return opts;
}

function isMain() {
    if (!process.argv[1]) return false;
    try {
        return realpathSync(process.argv[1]) === realpathSync(fileURLToPath(import.meta.url));
    } catch {
        return false;
    }
}

if (isMain()) {
    try {
        process.stdout.write(mint(parseArgs(process.argv.slice(2))) + '\n');
    } catch (e) {
        process.stderr.write(`mint.mjs: ${e.message}\n`);
        process.exit(1);
    }
}
