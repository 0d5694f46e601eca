#!/usr/bin/env node
// The demo's enterprise side (docs/authorization-server.md
// "Enterprise-Managed Authorization (ID-JAG)" and "private_key_jwt"):
//
//   node enterprise.mjs keys RUN_DIR     the demo IdP's key pair and the
//                                        machine client "robot"'s (run.sh)
//   node enterprise.mjs id-jag [USER]    an ID-JAG the demo IdP signs for USER
//                                        (default alice), for the client
//                                        enterprise-app: what a company IdP's
//                                        token exchange (RFC 8693) would give
//   node enterprise.mjs token [USER]     the same, presented at nginx's /token
//                                        (jwt-bearer grant): prints the answer
//   node enterprise.mjs robot            the MCP SDK's PrivateKeyJwtProvider:
//                                        client_credentials with private_key_jwt,
//                                        then tools/call whoami
//   node enterprise.mjs check            the self-check of run.sh (exit 1 on failure)
//
// The demo IdP is a key pair only (run/demo-idp.pem): nginx trusts its
// issuer https://idp.demo.example with run/demo-idp.jwks.json.

import { generateKeyPairSync, randomBytes, createPrivateKey } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as jose from 'jose';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { PrivateKeyJwtProvider } from '@modelcontextprotocol/sdk/client/auth-extensions.js';

const DEMO_DIR = dirname(fileURLToPath(import.meta.url));
const RUN_DIR = process.env.RUN_DIR || join(DEMO_DIR, 'run');
const ISSUER = process.env.ISSUER || 'http://127.0.0.1:8080';
const RESOURCE = `${ISSUER}/mcp`;
export const IDP = 'https://idp.demo.example';
const APP = 'enterprise-app';
const APP_SECRET = 'enterprise-app-secret-0123';

function keyPair(dir, name, type, opts) {
    const { publicKey, privateKey } = generateKeyPairSync(type, opts);
    writeFileSync(join(dir, `${name}.pem`), privateKey.export({ type: 'pkcs8', format: 'pem' }),
        { mode: 0o600 });
    const jwk = { ...publicKey.export({ format: 'jwk' }), use: 'sig', kid: `${name}-1` };
    writeFileSync(join(dir, `${name}.jwks.json`), JSON.stringify({ keys: [jwk] }, null, 2));
}

export async function idJag(user = 'alice', { scope = 'mcp:tools read:application' } = {}) {
    const key = createPrivateKey(readFileSync(join(RUN_DIR, 'demo-idp.pem')));
    return new jose.SignJWT({ resource: RESOURCE, client_id: APP, scope })
        .setProtectedHeader({ alg: 'RS256', kid: 'demo-idp-1', typ: 'oauth-id-jag+jwt' })
        .setIssuer(IDP).setSubject(user).setAudience(ISSUER)
        .setIssuedAt().setExpirationTime('5m')
        .setJti(randomBytes(16).toString('base64url'))
        .sign(key);
}

export async function token(assertion) {
    const res = await fetch(`${ISSUER}/token`, {
        method: 'POST',
        headers: {
            'Content-Type': 'application/x-www-form-urlencoded',
            Authorization: 'Basic ' + Buffer.from(`${APP}:${APP_SECRET}`).toString('base64'),
        },
        body: new URLSearchParams({ grant_type: 'urn:ietf:params:oauth:grant-type:jwt-bearer', assertion }),
    });
    return { status: res.status, json: await res.json() };
}

async function whoami(opts) {
    const client = new Client({ name: 'demo-enterprise', version: '0.0.0' });
    await client.connect(new StreamableHTTPClientTransport(new URL(RESOURCE), opts));
    const r = await client.callTool({ name: 'whoami', arguments: {} });
    await client.close();
    return JSON.parse(r.content[0].text).user;
}

async function robot() {
    const provider = new PrivateKeyJwtProvider({
        clientId: 'robot', privateKey: readFileSync(join(RUN_DIR, 'robot.pem'), 'utf8'),
        algorithm: 'ES256', expectedIssuer: ISSUER,
    });
    return whoami({ authProvider: provider });
}

async function check() {
    let ok = true;
    const say = (good, what) => { console.log(`    ${good ? 'ok' : 'FAIL'}: ${what}`); ok &&= good; };
    const jag = await idJag('alice');
    const t = await token(jag);
    say(t.status === 200 && !t.json.refresh_token,
        `ID-JAG of ${IDP} for alice -> /token ${t.status} scope="${t.json.scope}"`);
    if (t.status === 200) {
        const user = await whoami({ requestInit: { headers: { Authorization: `Bearer ${t.json.access_token}` } } });
        say(user === 'demo-idp:alice', `whoami with that token: ${user}`);
    }
    const replay = await token(jag);
    say(replay.status === 400 && replay.json.error === 'invalid_grant', `the same ID-JAG again: ${replay.status} ${replay.json.error}`);
    const wide = await token(await idJag('alice', { scope: 'mcp:tools admin' }));
    say(wide.status === 400 && wide.json.error === 'invalid_scope', `an ID-JAG with admin (beyond the IdP's scope=): ${wide.status} ${wide.json.error}`);
    const who = await robot();
    say(who === 'robot', `PrivateKeyJwtProvider (robot, private_key_jwt) -> whoami ${who}`);
    process.exit(ok ? 0 : 1);
}

const [cmd, arg] = process.argv.slice(2);
switch (cmd) {
case 'keys':
    keyPair(arg || RUN_DIR, 'demo-idp', 'rsa', { modulusLength: 2048 });
    keyPair(arg || RUN_DIR, 'robot', 'ec', { namedCurve: 'P-256' });
    break;
case 'id-jag':
    console.log(await idJag(arg));
    break;
case 'token':
    console.log(JSON.stringify((await token(await idJag(arg))).json, null, 2));
    break;
case 'robot':
    console.log(`whoami: ${await robot()}`);
    break;
case 'check':
    await check();
    break;
default:
    console.error('usage: node enterprise.mjs keys RUN_DIR | id-jag [USER] | token [USER] | robot | check');
    process.exit(2);
}
