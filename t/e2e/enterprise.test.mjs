// End-to-end: Enterprise-Managed Authorization and machine clients at the
// built-in authorization server (docs/authorization-server.md
// "Enterprise-Managed Authorization" and "private_key_jwt").
//
//   cd t && npm ci && node --test e2e/enterprise.test.mjs
//
// 1. An enterprise IdP (oidc-provider, a real OpenID provider: the
//    company's Okta or Entra) signs a user in with the authorization code
//    flow (its login page, PKCE) and gives the MCP client an ID token.
//    The IdP's token exchange (RFC 8693, requested_token_type id-jag) is
//    this test's own step: oidc-provider has no ID-JAG issuance, so the
//    test mints the ID-JAG with the IdP's own signing key, for the user of
//    the verified ID token.  The client presents it at nginx's /token
//    (jwt-bearer grant, client_secret_basic), gets nginx's access token
//    for the user (sub mapped with the IdP's prefix) and calls a tool
//    through nginx with the MCP SDK; the same ID-JAG again is refused.
//    nginx fetches the IdP's keys through jwks_request (the IdP's jwks_uri).
// 2. The MCP SDK's own PrivateKeyJwtProvider (private_key_jwt, ES256) and
//    ClientCredentialsProvider (client_secret_basic) do client_credentials
//    end to end: 401, discovery, /token, tools/call.

import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { generateKeyPairSync, randomBytes, createHash } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execFileSync } from 'node:child_process';
import * as jose from 'jose';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { PrivateKeyJwtProvider, ClientCredentialsProvider } from '@modelcontextprotocol/sdk/client/auth-extensions.js';
import { Harness, freePorts, httpConf, MCP_PROXY } from './lib.mjs';
import { startOidcProvider, CookieJar, browse, LOGIN } from './oidc-provider.mjs';

const JWT_BEARER = 'urn:ietf:params:oauth:grant-type:jwt-bearer';
const APP = 'enterprise-app';
const APP_SECRET = 'enterprise-app-secret-0123';
const MACHINE_SECRET = 'machine-secret-0123456789';

const NGINX_CONF = httpConf(`    server {
        listen 127.0.0.1:{{PORT}};
        server_name localhost;

        mcp_oauth_issuer http://127.0.0.1:{{PORT}};
        mcp_oauth_signing_key {{SIGNING_KEY}};
        mcp_oauth_scopes_supported mcp:tools read:application write:application;
        mcp_oauth_resource http://127.0.0.1:{{PORT}}/mcp;

        # the company's IdP: its ID-JAGs, for one client, read-only scopes
        mcp_oauth_trusted_idp {{IDP_ISSUER}} jwks_request=/_idp_jwks
            clients=${APP} "scope=mcp:tools read:application"
            subject_prefix=acme:;
        mcp_oauth_client ${APP} secret=${APP_SECRET};

        # machine clients (client_credentials)
        mcp_oauth_client robot jwks={{ROBOT_JWKS}} "scope=mcp:tools read:application";
        mcp_oauth_client machine secret=${MACHINE_SECRET} "scope=mcp:tools";

        location = /_idp_jwks {
            internal;
            proxy_pass {{IDP_JWKS}};
        }

        location = /.well-known/oauth-protected-resource/mcp { mcp_oauth_metadata; }
        location = /.well-known/oauth-authorization-server   { mcp_oauth_server_metadata; }
        location = /token  { mcp_oauth_token; }
        location = /revoke { mcp_oauth_revoke; }
        location = /jwks   { mcp_oauth_jwks_publish; }

        location /mcp {
            mcp_oauth on;
            mcp_oauth_required_scope mcp:tools;
            mcp_oauth_scope create_app write:application;
${MCP_PROXY}
        }
    }
`);

function b64url(buf) {
    return Buffer.from(buf).toString('base64url');
}

function toolJson(r) {
    return JSON.parse(r.content[0].text);
}

describe('enterprise-managed authorization and machine clients', () => {
    const h = new Harness();
    const env = {};
    let tmp;

    before(async () => {
        tmp = mkdtempSync(join(tmpdir(), 'mcp-e2e-enterprise-'));
        const [port, upstreamPort, idpPort] = await freePorts(3);
        env.issuer = `http://127.0.0.1:${port}`;
        env.resource = `${env.issuer}/mcp`;
        env.callback = `http://127.0.0.1:${port}/app-callback`;

        // the enterprise IdP, where the MCP client is a pre-registered client
        env.idp = await startOidcProvider({
            port: idpPort,
            clients: [{
                client_id: 'mcp-client-at-idp',
                client_secret: 'idp-side-secret-0123456789',
                redirect_uris: [env.callback],
                grant_types: ['authorization_code'],
                response_types: ['code'],
                token_endpoint_auth_method: 'client_secret_basic',
            }],
        });

        const keyPath = join(tmp, 'signing.pem');
        execFileSync('openssl', ['genpkey', '-algorithm', 'EC', '-pkeyopt', 'ec_paramgen_curve:P-256',
            '-out', keyPath], { stdio: ['ignore', 'ignore', 'pipe'] });

        // the machine client's key pair: nginx has its public JWK Set
        const { publicKey, privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
        env.robotPem = privateKey.export({ type: 'pkcs8', format: 'pem' });
        const jwk = { ...publicKey.export({ format: 'jwk' }), use: 'sig', kid: 'robot-1' };
        const robotJwks = join(tmp, 'robot.jwks.json');
        writeFileSync(robotJwks, JSON.stringify({ keys: [jwk] }));

        env.upstream = await h.mcpServer({ port: upstreamPort, json: true });
        env.ngx = await h.nginx({
            template: NGINX_CONF,
            vars: {
                PORT: port, UPSTREAM_PORT: upstreamPort, SIGNING_KEY: keyPath,
                IDP_ISSUER: env.idp.issuer, IDP_JWKS: env.idp.metadata.jwks_uri,
                ROBOT_JWKS: robotJwks,
            },
        });
    });

    after(async () => {
        await h.stop();
        await env.idp?.close();
        if (tmp) rmSync(tmp, { recursive: true, force: true });
    });

    /** The user signs in at the IdP (its login page, PKCE): a verified ID token. */
    async function signIn() {
        const verifier = b64url(randomBytes(32));
        const challenge = b64url(createHash('sha256').update(verifier).digest());
        const auth = new URL(env.idp.metadata.authorization_endpoint);
        auth.search = new URLSearchParams({
            response_type: 'code', client_id: 'mcp-client-at-idp', redirect_uri: env.callback,
            scope: 'openid', state: 'st', code_challenge: challenge, code_challenge_method: 'S256',
        }).toString();
        const { location } = await browse(auth, new CookieJar(),
            { stopAt: (u) => u.href.startsWith(env.callback) });
        const code = location.searchParams.get('code');
        assert.ok(code, `no code from the IdP: ${location}`);
        const res = await fetch(env.idp.metadata.token_endpoint, {
            method: 'POST',
            headers: {
                'Content-Type': 'application/x-www-form-urlencoded',
                Authorization: 'Basic ' + Buffer.from('mcp-client-at-idp:idp-side-secret-0123456789').toString('base64'),
            },
            body: new URLSearchParams({ grant_type: 'authorization_code', code, redirect_uri: env.callback,
                code_verifier: verifier }),
        });
        const t = await res.json();
        assert.equal(res.status, 200, JSON.stringify(t));
        const jwks = jose.createLocalJWKSet(env.idp.jwks);
        const { payload } = await jose.jwtVerify(t.id_token, jwks,
            { issuer: env.idp.issuer, audience: 'mcp-client-at-idp' });
        return payload;
    }

    /**
     * The IdP's token exchange (RFC 8693, requested_token_type id-jag),
     * played by the test: oidc-provider does not issue ID-JAGs.  Signed with
     * the IdP's own key, for the user of the ID token.
     */
    async function tokenExchange(idToken, { scope = 'mcp:tools read:application' } = {}) {
        const key = await jose.importJWK(env.idp.jwk, 'RS256');
        return new jose.SignJWT({ resource: env.resource, client_id: APP, scope })
            .setProtectedHeader({ alg: 'RS256', kid: env.idp.jwk.kid, typ: 'oauth-id-jag+jwt' })
            .setIssuer(env.idp.issuer)
            .setSubject(idToken.sub)
            .setAudience(env.issuer)
            .setIssuedAt()
            .setExpirationTime('5m')
            .setJti(b64url(randomBytes(16)))
            .sign(key);
    }

    async function jwtBearer(assertion) {
        const res = await fetch(`${env.issuer}/token`, {
            method: 'POST',
            headers: {
                'Content-Type': 'application/x-www-form-urlencoded',
                Authorization: 'Basic ' + Buffer.from(`${APP}:${APP_SECRET}`).toString('base64'),
            },
            body: new URLSearchParams({ grant_type: JWT_BEARER, assertion }),
        });
        return { status: res.status, json: await res.json() };
    }

    async function mcpClient(opts) {
        const client = new Client({ name: 'enterprise-e2e', version: '0.0.0' });
        await client.connect(new StreamableHTTPClientTransport(new URL(env.resource), opts));
        return client;
    }

    it('the metadata advertises the jwt-bearer grant and private_key_jwt', async () => {
        const m = await (await fetch(`${env.issuer}/.well-known/oauth-authorization-server`)).json();
        assert.ok(m.grant_types_supported.includes(JWT_BEARER));
        assert.ok(m.grant_types_supported.includes('client_credentials'));
        assert.ok(m.token_endpoint_auth_methods_supported.includes('private_key_jwt'));
    });

    it('a user signed in at the IdP calls a tool with the ID-JAG the IdP signed', async () => {
        const idToken = await signIn();
        assert.equal(idToken.sub, LOGIN);
        const jag = await tokenExchange(idToken);

        const t = await jwtBearer(jag);
        assert.equal(t.status, 200, JSON.stringify(t.json));
        assert.equal(t.json.token_type, 'Bearer');
        assert.equal(t.json.scope, 'mcp:tools read:application');
        assert.equal(t.json.refresh_token, undefined, 'no refresh token without refresh=on');
        const claims = jose.decodeJwt(t.json.access_token);
        assert.equal(claims.sub, `acme:${LOGIN}`);
        assert.equal(claims.client_id, APP);
        assert.equal(claims.aud, env.resource);
        assert.equal(claims.iss, env.issuer);

        const client = await mcpClient({ requestInit: { headers: { Authorization: `Bearer ${t.json.access_token}` } } });
        assert.deepEqual(toolJson(await client.callTool({ name: 'whoami', arguments: {} })), { user: `acme:${LOGIN}` });
        // the IdP allowed read scopes only: create_app needs write:application
        const denied = await client.callTool({ name: 'create_app', arguments: { name: 'x' } }).catch((e) => e);
        assert.ok(denied instanceof Error, 'create_app must be refused');
        await client.close();

        const replay = await jwtBearer(jag);
        assert.equal(replay.status, 400);
        assert.equal(replay.json.error, 'invalid_grant');
        assert.match(replay.json.error_description, /already used/);
    });

    it('an ID-JAG asking for more than the IdP may grant is refused', async () => {
        const jag = await tokenExchange(await signIn(), { scope: 'mcp:tools write:application' });
        const t = await jwtBearer(jag);
        assert.equal(t.status, 400);
        assert.equal(t.json.error, 'invalid_scope');
    });

    it("the SDK's PrivateKeyJwtProvider: client_credentials with private_key_jwt, then tools/call", async () => {
        const provider = new PrivateKeyJwtProvider({
            clientId: 'robot', privateKey: env.robotPem, algorithm: 'ES256', expectedIssuer: env.issuer,
        });
        const client = await mcpClient({ authProvider: provider });
        assert.deepEqual(toolJson(await client.callTool({ name: 'whoami', arguments: {} })), { user: 'robot' });
        const tokens = provider.tokens();
        assert.equal(jose.decodeJwt(tokens.access_token).client_id, 'robot');
        await client.close();
    });

    it("the SDK's ClientCredentialsProvider: client_credentials with a secret, then tools/call", async () => {
        const provider = new ClientCredentialsProvider({
            clientId: 'machine', clientSecret: MACHINE_SECRET, expectedIssuer: env.issuer,
        });
        const client = await mcpClient({ authProvider: provider });
        assert.deepEqual(toolJson(await client.callTool({ name: 'whoami', arguments: {} })), { user: 'machine' });
        await client.close();
    });
});
