// Demo "issuer": key pair, JWKS and access tokens for the nginx OAuth gate.
//
//   node keys.mjs [init] [--dir DIR] [--alg ES256|RS256|PS256|EdDSA|...]
//       New key pair. Writes DIR/jwks.json (public JWKS, with kid, read by
//       nginx's mcp_oauth_jwks), DIR/signing-key.jwk.json (private, mode 0600)
//       and DIR/token.txt (the default demo access token, valid 24 h).
//       DIR defaults to ./run next to this file; alg to $DEMO_JWT_ALG or ES256.
//
//   node keys.mjs mint [--dir DIR] [--sub S] [--scope "a b"] [--aud A]
//                      [--iss I] [--client-id C] [--exp SECONDS] [--typ T]
//                      [--kid K] [--no-exp]
//       Prints another token signed with DIR/signing-key.jwk.json (e.g. other
//       scopes, another user, --exp=-60 for an expired one, a wrong --aud).
//       --exp is relative to now, in seconds (default 86400).
//
// Default claims (RFC 9068 JWT access token, header typ "at+jwt"):
//   iss http://127.0.0.1:8080/demo-issuer   aud http://127.0.0.1:8080/mcp
//   sub demo-user   client_id demo-client
//   scope "mcp:tools read:application write:application"

import { mkdirSync, readFileSync, writeFileSync, chmodSync } from 'node:fs';
import { randomUUID } from 'node:crypto';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { generateKeyPair, exportJWK, importJWK, calculateJwkThumbprint, SignJWT } from 'jose';

const here = dirname(fileURLToPath(import.meta.url));

export const DEFAULTS = {
  iss: 'http://127.0.0.1:8080/demo-issuer',
  aud: 'http://127.0.0.1:8080/mcp',
  sub: 'demo-user',
  clientId: 'demo-client',
  scope: 'mcp:tools read:application write:application',
  expSeconds: 24 * 60 * 60,
  typ: 'at+jwt',
};

export async function initKeys(dir, alg = 'ES256') {
  mkdirSync(dir, { recursive: true });
  const { publicKey, privateKey } = await generateKeyPair(alg, { extractable: true });
  const pub = await exportJWK(publicKey);
  const kid = await calculateJwkThumbprint(pub);
  const priv = { ...(await exportJWK(privateKey)), kid, alg, use: 'sig' };
  const jwks = { keys: [{ ...pub, kid, alg, use: 'sig' }] };

  writeFileSync(join(dir, 'jwks.json'), JSON.stringify(jwks, null, 2) + '\n');
  const keyFile = join(dir, 'signing-key.jwk.json');
  writeFileSync(keyFile, JSON.stringify(priv) + '\n', { mode: 0o600 });
  chmodSync(keyFile, 0o600);
  return priv;
}

export async function mintToken(privJwk, opts = {}) {
  const o = { ...DEFAULTS, ...opts };
  const key = await importJWK(privJwk, privJwk.alg);
  const now = Math.floor(Date.now() / 1000);
  const claims = { client_id: o.clientId, scope: o.scope };
  const jwt = new SignJWT(claims)
    .setProtectedHeader({ alg: privJwk.alg, kid: o.kid ?? privJwk.kid, typ: o.typ })
    .setIssuer(o.iss)
    .setAudience(o.aud)
    .setSubject(o.sub)
    .setIssuedAt(now)
    .setJti(randomUUID());
  if (!o.noExp) jwt.setExpirationTime(now + Number(o.expSeconds));
  return jwt.sign(key);
}

async function main() {
  const { values, positionals } = parseArgs({
    allowPositionals: true,
    options: {
      dir: { type: 'string', default: join(here, 'run') },
      alg: { type: 'string', default: process.env.DEMO_JWT_ALG || 'ES256' },
      sub: { type: 'string' },
      scope: { type: 'string' },
      aud: { type: 'string' },
      iss: { type: 'string' },
      'client-id': { type: 'string' },
      exp: { type: 'string' },
      'no-exp': { type: 'boolean', default: false },
      typ: { type: 'string' },
      kid: { type: 'string' },
    },
  });
  const dir = resolve(values.dir);
  const cmd = positionals[0] || 'init';

  if (cmd === 'init') {
    const priv = await initKeys(dir, values.alg);
    const token = await mintToken(priv);
    writeFileSync(join(dir, 'token.txt'), token + '\n');
    console.log(`keys: ${values.alg} key kid=${priv.kid}; wrote ${join(dir, 'jwks.json')} and ${join(dir, 'token.txt')}`);
    return;
  }
  if (cmd === 'mint') {
    const priv = JSON.parse(readFileSync(join(dir, 'signing-key.jwk.json'), 'utf8'));
    const opts = {};
    if (values.sub !== undefined) opts.sub = values.sub;
    if (values.scope !== undefined) opts.scope = values.scope;
    if (values.aud !== undefined) opts.aud = values.aud;
    if (values.iss !== undefined) opts.iss = values.iss;
    if (values['client-id'] !== undefined) opts.clientId = values['client-id'];
    if (values.exp !== undefined) opts.expSeconds = Number(values.exp);
    if (values.typ !== undefined) opts.typ = values.typ;
    if (values.kid !== undefined) opts.kid = values.kid;
    opts.noExp = values['no-exp'];
    process.stdout.write((await mintToken(priv, opts)) + '\n');
    return;
  }
  throw new Error(`unknown command ${cmd} (init | mint)`);
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  main().catch((err) => {
    console.error(`keys: ${err?.message || err}`);
    process.exit(1);
  });
}
