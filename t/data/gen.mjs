#!/usr/bin/env node
// Regenerate all test fixtures under t/data/{keys,jwks,tokens}.
//   cd t && npm ci && node data/gen.mjs      (or: node t/data/gen.mjs)
// New random keys on every run; the set of files and their structure are
// fixed. Outputs are overwritten. Ends by running check.mjs (jose-based
// self-check); a failing check exits non-zero.

import { generateKeyPairSync, randomBytes, createPublicKey } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { CompactEncrypt, importJWK } from 'jose';
import {
    DATA_DIR, DEFAULT_ISS, DEFAULT_AUD, b64u, segment, signBytes, compactSign,
    publicPem, mergeNullDeletes,
} from './mint.mjs';
import { runChecks } from './check.mjs';

const KEYS = join(DATA_DIR, 'keys');
const JWKS = join(DATA_DIR, 'jwks');
const TOKENS = join(DATA_DIR, 'tokens');
for (const d of [KEYS, JWKS, TOKENS]) mkdirSync(d, { recursive: true });

const NOW = Math.floor(Date.now() / 1000);
const EXP = 4102444800; // 2100-01-01T00:00:00Z

const json = (o) => JSON.stringify(o, null, 2) + '\n';

// ---------------------------------------------------------------- keys

const KEY_SPECS = [
    { name: 'rsa1', kid: 'rsa-1', type: 'rsa', bits: 2048 },
    { name: 'rsa2', kid: 'rsa-2', type: 'rsa', bits: 2048 },
    { name: 'rsa-evil', kid: 'rsa-1', type: 'rsa', bits: 2048 },
    { name: 'rsa-rs-only', kid: 'rsa-rs', type: 'rsa', bits: 2048, alg: 'RS256' },
    { name: 'rsa1024', kid: 'rsa-small', type: 'rsa', bits: 1024 },
    { name: 'ec256', kid: 'ec-256', type: 'ec', crv: 'P-256' },
    { name: 'ec384', kid: 'ec-384', type: 'ec', crv: 'P-384' },
    { name: 'ec521', kid: 'ec-521', type: 'ec', crv: 'P-521' },
    { name: 'ed25519', kid: 'ed-1', type: 'ed25519' },
    { name: 'oct', kid: 'hs-1', type: 'oct' },
];

const PUBLIC_MEMBERS = { RSA: ['n', 'e'], EC: ['crv', 'x', 'y'], OKP: ['crv', 'x'], oct: ['k'] };
const PRIVATE_MEMBERS = {
    RSA: ['n', 'e', 'd', 'p', 'q', 'dp', 'dq', 'qi'], EC: ['crv', 'x', 'y', 'd'], OKP: ['crv', 'x', 'd'], oct: ['k'],
};

// Ordered JWK: kty, kid, use, [alg], key members.
function orderedJwk(raw, { kid, alg, members, withKid = true }) {
    const o = { kty: raw.kty };
    if (withKid && kid !== undefined) o.kid = kid;
    o.use = 'sig';
    if (alg) o.alg = alg;
    for (const m of members) o[m] = raw[m];
    return o;
}

const keys = {}; // name -> { spec, priv (JWK), pub (JWK) }
for (const spec of KEY_SPECS) {
    let raw;
    let pem = null;
    let pubPem = null;
    if (spec.type === 'oct') {
        raw = { kty: 'oct', k: b64u(randomBytes(32)) };
    } else {
        const { privateKey, publicKey } = spec.type === 'rsa'
            ? generateKeyPairSync('rsa', { modulusLength: spec.bits, publicExponent: 65537 })
            : spec.type === 'ec'
                ? generateKeyPairSync('ec', { namedCurve: spec.crv })
                : generateKeyPairSync('ed25519');
        raw = privateKey.export({ format: 'jwk' });
        pem = privateKey.export({ type: 'pkcs8', format: 'pem' });
        pubPem = publicKey.export({ type: 'spki', format: 'pem' });
    }
    const priv = orderedJwk(raw, { kid: spec.kid, alg: spec.alg, members: PRIVATE_MEMBERS[raw.kty] });
    const pub = orderedJwk(raw, { kid: spec.kid, alg: spec.alg, members: PUBLIC_MEMBERS[raw.kty] });
    keys[spec.name] = { spec, priv, pub };
    writeFileSync(join(KEYS, `${spec.name}.private.jwk`), json(priv));
    if (pem) {
        writeFileSync(join(KEYS, `${spec.name}.private.pem`), pem);
        writeFileSync(join(KEYS, `${spec.name}.public.pem`), pubPem);
        writeFileSync(join(KEYS, `${spec.name}.public.jwk`), json(pub));
    }
}

// ---------------------------------------------------------------- JWKS

const pubOf = (name, opts = {}) => {
    const { priv, spec } = keys[name];
    return orderedJwk(priv, {
        kid: spec.kid, alg: spec.alg, members: PUBLIC_MEMBERS[priv.kty], withKid: opts.withKid ?? true,
    });
};
const set = (...ks) => ({ keys: ks });

// A P-256 point that is not on the curve: take a real x and tweak y.
function notOnCurve() {
    const base = keys.ec256.priv;
    const y = Buffer.from(base.y, 'base64url');
    for (let i = 1; i < 256; i++) {
        const y2 = Buffer.from(y);
        y2[31] ^= i;
        const cand = { kty: 'EC', crv: 'P-256', x: base.x, y: b64u(y2) };
        try {
            createPublicKey({ key: cand, format: 'jwk' });
        } catch {
            return { kty: 'EC', kid: 'ec-bad', use: 'sig', crv: 'P-256', x: cand.x, y: cand.y };
        }
    }
    throw new Error('could not build an off-curve point');
}

const JWKS_FILES = {
    'main.json': json(set(pubOf('rsa1'), pubOf('rsa-rs-only'), pubOf('ec256'), pubOf('ec384'),
        pubOf('ec521'), pubOf('ed25519'))),
    'rsa1.json': json(set(pubOf('rsa1'))),
    'rotated.json': json(set(pubOf('rsa1'), pubOf('rsa2'))),
    'rsa2.json': json(set(pubOf('rsa2'))),
    'oct.json': json(set({ kty: 'oct', kid: 'hs-1', k: keys.oct.priv.k })),
    'nokid.json': json(set(pubOf('rsa1', { withKid: false }), pubOf('ec256', { withKid: false }))),
    'weak.json': json(set(pubOf('rsa1024'))),
    'bad-json.json': '{"keys": [',
    'no-keys.json': '{"keys":[]}\n',
    'not-a-set.json': '{"kty":"RSA"}\n',
    'bad-key.json': json(set({ kty: 'RSA', kid: 'bad', use: 'sig', n: '!!!', e: 'AQAB' })),
    'unsupported.json': json(set({ kty: 'foo', kid: 'x' })),
    'ec-not-on-curve.json': json(set(notOnCurve())),
};
for (const [f, text] of Object.entries(JWKS_FILES)) writeFileSync(join(JWKS, f), text);

// ---------------------------------------------------------------- tokens

const baseClaims = () => ({
    iss: DEFAULT_ISS, sub: 'user-1', aud: DEFAULT_AUD, client_id: 'client-1', scope: 'mcp:tools',
    iat: NOW, exp: EXP,
});

// Standard token: key name, alg, header/claims overrides (null deletes).
function tok(keyName, { alg, header = {}, claims = {} } = {}) {
    const k = keys[keyName];
    const a = alg ?? k.spec.alg ?? {
        rsa: 'RS256', ed25519: 'EdDSA', oct: 'HS256',
        ec: { 'P-256': 'ES256', 'P-384': 'ES384', 'P-521': 'ES512' }[k.spec.crv],
    }[k.spec.type];
    const hdr = mergeNullDeletes({ alg: a, kid: k.spec.kid, typ: 'JWT' }, header);
    const payload = mergeNullDeletes(baseClaims(), claims);
    return compactSign({ header: hdr, payload, alg: a, jwk: k.priv }).token;
}

// Sign a literal "header.payload" text with a key/alg.
function signText(keyName, alg, input) {
    return `${input}.${b64u(signBytes(alg, keys[keyName].priv, input))}`;
}

function rawToDer(raw) {
    const half = raw.length / 2;
    const int = (b) => {
        let i = 0;
        while (i < b.length - 1 && b[i] === 0) i++;
        let v = b.subarray(i);
        if (v[0] & 0x80) v = Buffer.concat([Buffer.from([0]), v]);
        return Buffer.concat([Buffer.from([0x02, v.length]), v]);
    };
    const body = Buffer.concat([int(raw.subarray(0, half)), int(raw.subarray(half))]);
    if (body.length >= 128) throw new Error('DER length > 127 not handled');
    return Buffer.concat([Buffer.from([0x30, body.length]), body]);
}

function padSeg(text) {
    return text + '='.repeat((4 - (text.length % 4)) % 4);
}

// JSON text whose length is not a multiple of 3, so its base64 needs padding.
function jsonNeedingPad(obj) {
    let t = JSON.stringify(obj);
    while (t.length % 3 === 0) t = t.slice(0, -1) + ' }';
    return t;
}

const HDR_RSA1 = { alg: 'RS256', kid: 'rsa-1', typ: 'JWT' };
const pad = (n) => 'x'.repeat(n);

// expect: accept | reject.  verify: JWKS file (+ issuer) a correct verifier
// accepts it with (accept) or would be configured with (reject).
// sig: for rejects whose signature IS valid over the literal bytes, the key
// (and alg) it verifies with; sig:false means the signature is wrong/absent.
const T = [];
const add = (name, desc, expect, build, extra = {}) => T.push({ name, desc, expect, build, jwks: 'main.json', ...extra });
const ok = (name, desc, build, extra) => add(name, desc, 'accept', build, extra);
const bad = (name, desc, build, extra) => add(name, desc, 'reject', build, extra);
const sigOk = (key, alg) => ({ sig: { key, alg } });

// --- valid
for (const a of ['RS256', 'RS384', 'RS512', 'PS256', 'PS384', 'PS512']) {
    ok(`${a.toLowerCase()}.jwt`, `${a}, rsa1 (kid rsa-1)`, () => tok('rsa1', { alg: a }));
}
ok('es256.jwt', 'ES256, ec256 (kid ec-256)', () => tok('ec256'));
ok('es384.jwt', 'ES384, ec384 (kid ec-384)', () => tok('ec384'));
ok('es512.jwt', 'ES512, ec521 P-521 (kid ec-521)', () => tok('ec521'));
ok('eddsa.jwt', 'EdDSA, ed25519 (kid ed-1)', () => tok('ed25519'));
ok('hs256.jwt', 'HS256, oct secret (kid hs-1); verify with jwks/oct.json', () => tok('oct'), { jwks: 'oct.json' });
ok('rs256-rotated.jwt', 'RS256, rsa2 (kid rsa-2); verify with rotated.json / rsa2.json', () => tok('rsa2'), { jwks: 'rotated.json' });
ok('rs256-nokid.jwt', 'RS256, rsa1, no kid header member', () => tok('rsa1', { header: { kid: null } }), { jwks: 'nokid.json' });
ok('es256-nokid.jwt', 'ES256, ec256, no kid header member', () => tok('ec256', { header: { kid: null } }), { jwks: 'nokid.json' });
ok('aud-array.jwt', 'aud ["https://other.example.com","https://mcp.example.com/mcp"]',
    () => tok('rsa1', { claims: { aud: ['https://other.example.com', DEFAULT_AUD] } }));
ok('scp-array.jwt', 'no scope; scp ["mcp:tools","read:application"]',
    () => tok('rsa1', { claims: { scope: null, scp: ['mcp:tools', 'read:application'] } }));
ok('scp-string.jwt', 'no scope; scp "mcp:tools read:application"',
    () => tok('rsa1', { claims: { scope: null, scp: 'mcp:tools read:application' } }));
ok('scope-multi.jwt', 'scope "mcp:tools read:application write:application"',
    () => tok('rsa1', { claims: { scope: 'mcp:tools read:application write:application' } }));
ok('no-scope.jwt', 'no scope/scp claim at all (valid signature; scope policy decides)',
    () => tok('rsa1', { claims: { scope: null } }));
ok('typ-at-jwt.jwt', 'header typ "at+jwt" (RFC 9068)', () => tok('rsa1', { header: { typ: 'at+jwt' } }));
ok('typ-app-at-jwt.jwt', 'header typ "application/at+jwt"', () => tok('rsa1', { header: { typ: 'application/at+jwt' } }));
ok('typ-upper.jwt', 'header typ "AT+JWT" (typ is case-insensitive)', () => tok('rsa1', { header: { typ: 'AT+JWT' } }));
ok('no-typ.jwt', 'no typ header member', () => tok('rsa1', { header: { typ: null } }));
ok('iss-auth0.jwt', 'iss "https://tenant.auth0.com/" (trailing slash)',
    () => tok('rsa1', { claims: { iss: 'https://tenant.auth0.com/' } }), { iss: 'https://tenant.auth0.com/' });
ok('iss-auth0-noslash.jwt', 'iss "https://tenant.auth0.com" (no trailing slash)',
    () => tok('rsa1', { claims: { iss: 'https://tenant.auth0.com' } }), { iss: 'https://tenant.auth0.com' });
ok('iss-second.jwt', 'iss "https://second.example.com" (for multi-issuer configs)',
    () => tok('rsa1', { claims: { iss: 'https://second.example.com' } }), { iss: 'https://second.example.com' });
ok('claims-rich.jwt', 'extra claims email, email_verified:true, tenant:{"id":7}, groups:["a","b"], num:42',
    () => tok('rsa1', {
        claims: { email: 'a@example.com', email_verified: true, tenant: { id: 7 }, groups: ['a', 'b'], num: 42 },
    }));
ok('rs-only-key-rs256.jwt', 'RS256 with rsa-rs-only (kid rsa-rs, JWK "alg":"RS256")', () => tok('rsa-rs-only', { alg: 'RS256' }));
ok('big-ok.jwt', 'valid RS256, ~8 KB (claim "pad" of 6000 chars) - must be accepted',
    () => tok('rsa1', { claims: { pad: pad(6000) } }));

// --- invalid
bad('rs-only-key-ps256.jwt', 'PS256 with rsa-rs-only: JWK restricts alg to RS256', () => tok('rsa-rs-only', { alg: 'PS256' }),
    sigOk('rsa-rs-only', 'PS256'));
bad('alg-none.jwt', 'header {"alg":"none","typ":"JWT"}, empty signature',
    () => `${segment({ alg: 'none', typ: 'JWT' })}.${segment(baseClaims())}.`, { sig: false });
bad('alg-none-kid.jwt', 'alg none with kid "rsa-1", empty signature',
    () => `${segment({ alg: 'none', kid: 'rsa-1', typ: 'JWT' })}.${segment(baseClaims())}.`, { sig: false });
bad('hs256-rsa-pem.jwt', 'HS256, kid rsa-1, HMAC secret = rsa1 public SPKI PEM text (keys/rsa1.public.pem): alg confusion',
    () => tok('rsa1', { alg: 'HS256' }), { sig: false });
bad('unknown-kid.jwt', 'signed by rsa1 but kid "nope" (no such key)', () => tok('rsa1', { header: { kid: 'nope' } }),
    sigOk('rsa1', 'RS256'));
bad('kid-number.jwt', 'kid 123 (JSON number), signed by rsa1', () => tok('rsa1', { header: { kid: 123 } }), sigOk('rsa1', 'RS256'));
bad('kid-null.jwt', 'kid null, signed by rsa1', () => compactSign({
    header: { alg: 'RS256', kid: null, typ: 'JWT' }, payload: baseClaims(), alg: 'RS256', jwk: keys.rsa1.priv,
}).token, sigOk('rsa1', 'RS256'));
bad('kid-array.jwt', 'kid ["rsa-1"], signed by rsa1', () => tok('rsa1', { header: { kid: ['rsa-1'] } }), sigOk('rsa1', 'RS256'));
bad('expired.jwt', 'exp 946684800 (2000-01-01), iat 946681200', () => tok('rsa1', { claims: { iat: 946681200, exp: 946684800 } }),
    sigOk('rsa1', 'RS256'));
bad('nbf-future.jwt', 'nbf 4102444700 (far future)', () => tok('rsa1', { claims: { nbf: 4102444700 } }), sigOk('rsa1', 'RS256'));
bad('iat-future.jwt', 'iat 4102444000 (far future)', () => tok('rsa1', { claims: { iat: 4102444000 } }), sigOk('rsa1', 'RS256'));
bad('wrong-iss.jwt', 'iss "https://evil.example.com"', () => tok('rsa1', { claims: { iss: 'https://evil.example.com' } }),
    sigOk('rsa1', 'RS256'));
bad('wrong-aud.jwt', 'aud "https://other.example.com"', () => tok('rsa1', { claims: { aud: 'https://other.example.com' } }),
    sigOk('rsa1', 'RS256'));
bad('aud-array-wrong.jwt', 'aud ["https://a.example.com","https://b.example.com"]',
    () => tok('rsa1', { claims: { aud: ['https://a.example.com', 'https://b.example.com'] } }), sigOk('rsa1', 'RS256'));
bad('no-aud.jwt', 'no aud claim', () => tok('rsa1', { claims: { aud: null } }), sigOk('rsa1', 'RS256'));
bad('missing-exp.jwt', 'no exp claim', () => tok('rsa1', { claims: { exp: null } }), sigOk('rsa1', 'RS256'));
bad('exp-string.jwt', 'exp "4102444800" (string, not a number)', () => tok('rsa1', { claims: { exp: String(EXP) } }),
    sigOk('rsa1', 'RS256'));
bad('bad-typ.jwt', 'header typ "dpop+jwt"', () => tok('rsa1', { header: { typ: 'dpop+jwt' } }), sigOk('rsa1', 'RS256'));
bad('typ-number.jwt', 'header typ 1 (number)', () => tok('rsa1', { header: { typ: 1 } }), sigOk('rsa1', 'RS256'));
bad('crit.jwt', 'header crit ["exp"] + header member "exp": unknown critical extension',
    () => tok('rsa1', { header: { crit: ['exp'], exp: EXP } }), sigOk('rsa1', 'RS256'));
bad('jwe.jwt', 'compact JWE (5 parts), RSA-OAEP-256/A256GCM to rsa1 public key, kid rsa-1', null, { sig: false, async: true });
bad('bad-b64-header.jwt', 'header segment contains "*" (not base64url); signature valid over the literal text',
    () => {
        const h = segment(HDR_RSA1);
        const hs = h.slice(0, 10) + '*' + h.slice(11);
        return signText('rsa1', 'RS256', `${hs}.${segment(baseClaims())}`);
    }, sigOk('rsa1', 'RS256'));
bad('bad-b64-sig.jwt', 'signature segment contains "*" (not base64url)', () => {
    const t = tok('rsa1').split('.');
    const s = t[2];
    t[2] = s.slice(0, 100) + '*' + s.slice(101);
    return t.join('.');
}, { sig: false });
bad('b64-padded.jwt', 'all three segments carry "=" padding (non-canonical base64url); signature over the literal padded text',
    () => {
        const hs = padSeg(b64u(jsonNeedingPad(HDR_RSA1)));
        const ps = padSeg(b64u(jsonNeedingPad(baseClaims())));
        const input = `${hs}.${ps}`;
        const sig = padSeg(b64u(signBytes('RS256', keys.rsa1.priv, input)));
        const t = `${input}.${sig}`;
        if (t.split('.').some((x) => !x.endsWith('='))) throw new Error('b64-padded: a segment lacks padding');
        return t;
    }, sigOk('rsa1', 'RS256'));
bad('bad-json-header.jwt', 'header = b64url(\'{"alg":"RS256",\') (truncated JSON), signed by rsa1',
    () => compactSign({ header: Buffer.from('{"alg":"RS256",'), payload: baseClaims(), alg: 'RS256', jwk: keys.rsa1.priv }).token,
    sigOk('rsa1', 'RS256'));
bad('bad-json-payload.jwt', 'payload = b64url(\'{"sub":\') (truncated JSON), signed by rsa1',
    () => compactSign({ header: HDR_RSA1, payload: Buffer.from('{"sub":'), alg: 'RS256', jwk: keys.rsa1.priv }).token,
    sigOk('rsa1', 'RS256'));
bad('header-not-object.jwt', 'header = b64url(\'["RS256"]\'), signed by rsa1',
    () => compactSign({ header: Buffer.from('["RS256"]'), payload: baseClaims(), alg: 'RS256', jwk: keys.rsa1.priv }).token,
    sigOk('rsa1', 'RS256'));
bad('payload-not-object.jwt', 'payload = b64url(\'"x"\'), signed by rsa1',
    () => compactSign({ header: HDR_RSA1, payload: Buffer.from('"x"'), alg: 'RS256', jwk: keys.rsa1.priv }).token,
    sigOk('rsa1', 'RS256'));
bad('wrong-sig.jwt', 'signed by rsa-evil with kid rsa-1 (signature does not verify)', () => tok('rsa-evil'), { sig: false });
bad('es256-der.jwt', 'ES256 (ec256) with DER-encoded (r,s) signature instead of raw r||s', () => {
    const { h, p, sig } = compactSign({
        header: { alg: 'ES256', kid: 'ec-256', typ: 'JWT' }, payload: baseClaims(), alg: 'ES256', jwk: keys.ec256.priv,
    });
    return `${h}.${p}.${b64u(rawToDer(sig))}`;
}, { sig: false, derOf: { key: 'ec256', alg: 'ES256' } });
bad('es256-as-es384.jwt', 'header alg ES384, kid ec-256; signed by the P-256 key (SHA-384, 64-byte r||s): key/alg mismatch',
    () => {
        const { h, p } = compactSign({
            header: { alg: 'ES384', kid: 'ec-256', typ: 'JWT' }, payload: baseClaims(), alg: 'ES256', jwk: keys.ec256.priv,
        });
        return signText('ec256', 'ES384', `${h}.${p}`);
    }, { sig: false });
bad('rs256-with-ec-kid.jwt', 'header alg RS256, kid "ec-256", signed by rsa1', () => tok('rsa1', { header: { kid: 'ec-256' } }),
    { sig: false });
bad('two-parts.jwt', 'only "header.payload" (2 segments)', () => tok('rsa1').split('.').slice(0, 2).join('.'), { sig: false });
bad('four-parts.jwt', 'valid rs256 token plus a 4th segment ".AAAA"', () => `${tok('rsa1')}.AAAA`, { sig: false });
bad('empty.jwt', 'empty file', () => '', { sig: false });
bad('huge.jwt', 'validly signed RS256 over 16 KB (claim "pad" of 17000 chars): size limit',
    () => tok('rsa1', { claims: { pad: pad(17000) } }), sigOk('rsa1', 'RS256'));
bad('weak-key.jwt', 'RS256 by rsa1024 (kid rsa-small); jwks/weak.json must be refused', () => tok('rsa1024'),
    { ...sigOk('rsa1024', 'RS256'), jwks: 'weak.json' });

async function buildJwe() {
    const pub = await importJWK({ ...keys.rsa1.pub, alg: 'RSA-OAEP-256', use: undefined }, 'RSA-OAEP-256');
    return new CompactEncrypt(new TextEncoder().encode(JSON.stringify(baseClaims())))
        .setProtectedHeader({ alg: 'RSA-OAEP-256', enc: 'A256GCM', kid: 'rsa-1', typ: 'JWT' })
        .encrypt(pub);
}

const manifest = {};
for (const t of T) {
    const token = t.async ? await buildJwe() : t.build();
    t.token = token;
    writeFileSync(join(TOKENS, t.name), token);
    manifest[t.name] = {
        expect: t.expect, desc: t.desc, jwks: t.jwks, iss: t.iss ?? DEFAULT_ISS,
        ...(t.sig ? { sig: t.sig } : {}), ...(t.derOf ? { derOf: t.derOf } : {}),
    };
}
writeFileSync(join(TOKENS, 'manifest.json'), json({
    generated_at: NOW, aud: DEFAULT_AUD, default_iss: DEFAULT_ISS, default_exp: EXP, tokens: manifest,
}));

// README table
const esc = (s) => s.replace(/\|/g, '\\|');
let md = '# Test tokens\n\n'
    + 'Generated by `t/data/gen.mjs` (do not edit by hand). Unless stated: iss `https://auth.example.com`, '
    + 'aud `https://mcp.example.com/mcp`, sub `user-1`, client_id `client-1`, scope `mcp:tools`, '
    + 'iat = generation time, exp = 4102444800 (2100-01-01), header typ `JWT` and the kid of the signing key. '
    + 'Files have no trailing newline. `manifest.json` holds the same data in machine-readable form.\n\n'
    + '"JWKS" is the key set a correct verifier is configured with (in `t/data/jwks/`); '
    + '`main.json` = rsa1, rsa-rs-only, ec256, ec384, ec521, ed25519.\n\n'
    + '| file | expect | JWKS | contents / what it tests |\n|---|---|---|---|\n';
for (const t of T) md += `| \`${t.name}\` | ${t.expect} | ${t.jwks} | ${esc(t.desc)} |\n`;
writeFileSync(join(TOKENS, 'README.md'), md);

// JWK validation fixtures derived from the new rsa1/ec256 (gen-jwk-checks.mjs)
await import('./gen-jwk-checks.mjs');
// RS256 signatures at the edges of PKCS #1 v1.5 (gen-rsa-edges.mjs)
await import('./gen-rsa-edges.mjs');

// ---------------------------------------------------------------- self-check
const failures = await runChecks({ quiet: process.argv.includes('--quiet') });
if (failures > 0) {
    process.stderr.write(`gen.mjs: ${failures} self-check failure(s)\n`);
    process.exit(1);
}
console.log(`gen.mjs: wrote ${KEY_SPECS.length} keys, ${Object.keys(JWKS_FILES).length} JWKS files, ${T.length} tokens`);
