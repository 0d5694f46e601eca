#!/usr/bin/env node
// Self-check of the generated fixtures using jose (and node:crypto for raw
// signature checks). Run automatically at the end of gen.mjs, or alone:
//   node t/data/check.mjs
// Asserts:
//   * every "accept" token passes jose jwtVerify against its JWKS
//     (issuer + audience checked);
//   * every "reject" token with a recorded signing key has a signature that
//     IS valid over its literal bytes (so only the intended defect is wrong);
//   * every "reject" token without a valid signature is rejected by jose,
//     and its construction is what it claims to be (DER sig, alg confusion...).
// For the remaining rejects, jose's verdict is printed for information only
// (jose does not police typ, iat-in-future, missing exp, ...).

import { createHmac, createPublicKey, verify as cryptoVerify, constants } from 'node:crypto';
import { readFileSync, realpathSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { join } from 'node:path';
import { createLocalJWKSet, jwtVerify } from 'jose';
import { DATA_DIR } from './mint.mjs';

const HASH = { 256: 'sha256', 384: 'sha384', 512: 'sha512' };

function readJson(...p) { return JSON.parse(readFileSync(join(DATA_DIR, ...p), 'utf8')); }

function b64uDecodeLenient(s) { return Buffer.from(s.replace(/=+$/, ''), 'base64url'); }

// Raw JWS signature check over the literal "h.p" text.
function rawVerify(alg, keyName, input, sig, dsaEncoding = 'ieee-p1363') {
    const priv = readJson('keys', `${keyName}.private.jwk`);
    const m = /^(RS|PS|ES|HS)(256|384|512)$/.exec(alg);
    if (m && m[1] === 'HS') {
        const secret = Buffer.from(priv.k, 'base64url');
        return createHmac(HASH[m[2]], secret).update(input).digest().equals(sig);
    }
    const key = createPublicKey({ key: priv, format: 'jwk' });
    if (alg === 'EdDSA') return cryptoVerify(null, Buffer.from(input), key, sig);
    const hash = HASH[m[2]];
    const opts = { key };
    if (m[1] === 'RS') opts.padding = constants.RSA_PKCS1_PADDING;
    if (m[1] === 'PS') { opts.padding = constants.RSA_PKCS1_PSS_PADDING; opts.saltLength = Number(m[2]) / 8; }
    if (m[1] === 'ES') opts.dsaEncoding = dsaEncoding;
    return cryptoVerify(hash, Buffer.from(input), opts, sig);
}

async function joseVerify(token, jwksFile, iss, aud) {
    try {
        const jwks = readJson('jwks', jwksFile);
        // jose's JWKS helper only handles asymmetric keys: resolve HS* by kid.
        const resolver = async (hdr) => {
            if (typeof hdr.alg === 'string' && hdr.alg.startsWith('HS')) {
                const k = (jwks.keys || []).find((j) => j.kty === 'oct' && (hdr.kid === undefined || j.kid === hdr.kid));
                if (!k) throw Object.assign(new Error('no oct key for kid'), { code: 'ERR_JWKS_NO_MATCHING_KEY' });
                return Buffer.from(k.k, 'base64url');
            }
            return createLocalJWKSet(jwks)(hdr);
        };
        const r = await jwtVerify(token, resolver, { issuer: iss, audience: aud });
        return { ok: true, alg: r.protectedHeader.alg };
    } catch (e) {
        return { ok: false, code: e.code || e.name, msg: e.message };
    }
}

// Extra construction checks for specific tokens.
const SPECIAL = {
    'hs256-rsa-pem.jwt': (parts) => {
        const pem = readFileSync(join(DATA_DIR, 'keys', 'rsa1.public.pem'));
        const mac = createHmac('sha256', pem).update(`${parts[0]}.${parts[1]}`).digest();
        return mac.equals(b64uDecodeLenient(parts[2])) || 'HMAC(rsa1.public.pem) does not match';
    },
    'es256-der.jwt': (parts) => {
        const sig = b64uDecodeLenient(parts[2]);
        if (sig[0] !== 0x30) return 'signature is not a DER SEQUENCE';
        return rawVerify('ES256', 'ec256', `${parts[0]}.${parts[1]}`, sig, 'der') || 'DER signature does not verify';
    },
    'es256-as-es384.jwt': (parts) => {
        const h = JSON.parse(b64uDecodeLenient(parts[0]));
        if (h.alg !== 'ES384' || h.kid !== 'ec-256') return 'header not ES384/ec-256';
        return rawVerify('ES384', 'ec256', `${parts[0]}.${parts[1]}`, b64uDecodeLenient(parts[2]))
            || 'P-256 + SHA-384 signature does not verify';
    },
    'wrong-sig.jwt': (parts) => !rawVerify('RS256', 'rsa1', `${parts[0]}.${parts[1]}`, b64uDecodeLenient(parts[2]))
        || 'verifies with rsa1?!',
    'jwe.jwt': (parts) => parts.length === 5 || `JWE has ${parts.length} parts`,
    'huge.jwt': (_p, tok) => tok.length > 16384 || `only ${tok.length} bytes`,
    'big-ok.jwt': (_p, tok) => (tok.length > 7000 && tok.length < 16384) || `${tok.length} bytes`,
    'two-parts.jwt': (parts) => parts.length === 2 || 'not 2 parts',
    'four-parts.jwt': (parts) => parts.length === 4 || 'not 4 parts',
    'empty.jwt': (_p, tok) => tok.length === 0 || 'not empty',
    'alg-none.jwt': (parts) => parts.length === 3 && parts[2] === '' || 'signature not empty',
    'alg-none-kid.jwt': (parts) => parts.length === 3 && parts[2] === '' || 'signature not empty',
    'b64-padded.jwt': (parts) => parts.every((p) => p.endsWith('=')) || 'a segment is not padded',
};

// Rejects that jose itself must also reject (signature / key-selection level).
const JOSE_MUST_REJECT = new Set(['rs-only-key-ps256.jwt', 'weak-key.jwt', 'expired.jwt', 'nbf-future.jwt',
    'wrong-iss.jwt', 'wrong-aud.jwt', 'aud-array-wrong.jwt', 'no-aud.jwt', 'exp-string.jwt', 'crit.jwt']);

export async function runChecks({ quiet = false } = {}) {
    const m = readJson('tokens', 'manifest.json');
    let failures = 0;
    const log = (s) => { if (!quiet) console.log(s); };
    for (const [name, t] of Object.entries(m.tokens)) {
        const tok = readFileSync(join(DATA_DIR, 'tokens', name), 'utf8');
        const parts = tok.split('.');
        const problems = [];
        const jose = await joseVerify(tok, t.jwks, t.iss, m.aud);
        if (t.expect === 'accept') {
            if (!jose.ok) problems.push(`jose rejected: ${jose.code} ${jose.msg}`);
            if (tok.endsWith('\n')) problems.push('trailing newline');
        } else {
            if (t.sig) {
                const h = parts.length === 3 ? parts : null;
                if (!h || !rawVerify(t.sig.alg, t.sig.key, `${parts[0]}.${parts[1]}`, b64uDecodeLenient(parts[2]))) {
                    problems.push(`signature does not verify with ${t.sig.key}/${t.sig.alg}`);
                }
            } else if (jose.ok) {
                problems.push('jose ACCEPTED a token whose signature must be invalid');
            }
            if (JOSE_MUST_REJECT.has(name) && jose.ok) problems.push('jose accepted it');
        }
        if (SPECIAL[name]) {
            const r = SPECIAL[name](parts, tok);
            if (r !== true) problems.push(`construction: ${r}`);
        }
        const verdict = jose.ok ? `jose: ok (${jose.alg})` : `jose: ${jose.code}`;
        log(`${problems.length ? 'FAIL' : 'ok  '} ${t.expect.padEnd(6)} ${name.padEnd(26)} ${verdict}${problems.length ? '  <- ' + problems.join('; ') : ''}`);
        failures += problems.length ? 1 : 0;
    }
    // rotated token must also verify with rsa2.json alone and fail with rsa1.json
    const rot = readFileSync(join(DATA_DIR, 'tokens', 'rs256-rotated.jwt'), 'utf8');
    const r2 = await joseVerify(rot, 'rsa2.json', m.default_iss, m.aud);
    const r1 = await joseVerify(rot, 'rsa1.json', m.default_iss, m.aud);
    if (!r2.ok || r1.ok) { failures++; log('FAIL rotation: rsa2.json/rsa1.json verdicts wrong'); }
    // hs256 must not verify against main.json; rs256 must verify against rsa1.json
    const hs = await joseVerify(readFileSync(join(DATA_DIR, 'tokens', 'hs256.jwt'), 'utf8'), 'main.json', m.default_iss, m.aud);
    if (hs.ok) { failures++; log('FAIL hs256.jwt verified with main.json'); }
    const rs = await joseVerify(readFileSync(join(DATA_DIR, 'tokens', 'rs256.jwt'), 'utf8'), 'rsa1.json', m.default_iss, m.aud);
    if (!rs.ok) { failures++; log('FAIL rs256.jwt vs rsa1.json'); }
    log(failures ? `check: ${failures} failure(s)` : 'check: all fixtures OK');
    return failures;
}

const isMain = (() => {
    try { return realpathSync(process.argv[1]) === realpathSync(fileURLToPath(import.meta.url)); } catch { return false; }
})();
if (isMain) process.exit((await runChecks()) ? 1 : 0);
