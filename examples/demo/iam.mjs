// The IAM of the demo's --iam variant: panva's oidc-provider (a certified
// OpenID provider) on 127.0.0.1:${PORT:-8082}, standing in for Auth0,
// Keycloak, Okta... nginx (127.0.0.1:8080) is the MCP clients' authorization
// server and sends their users here to sign in, as ONE client registered by
// hand (docs/iam-proxy.md, "Bridge").
//
//   IAM_CLIENT_SECRET=... node iam.mjs      (run.sh --iam starts it)
//
// Environment:
//   PORT               default 8082
//   GATEWAY            nginx's issuer, default http://127.0.0.1:8080: the client's
//                      redirect URI is GATEWAY/callback, the resource GATEWAY/mcp
//   IAM_CLIENT_ID      default mcp-gateway
//   IAM_CLIENT_SECRET  required: the static client's secret (client_secret_basic)
//
// What it is:
//   - devInteractions: oidc-provider's built-in login page accepts ANY login
//     and any password; the login becomes the subject (`sub`), then its
//     consent page asks to authorize the gateway;
//   - PKCE S256 required, authorization code + refresh token grants;
//   - resource indicators (RFC 8707): with resource=GATEWAY/mcp the access
//     token is an RFC 9068 JWT for that audience; ID tokens carry the `sub`
//     nginx takes;
//   - in memory: everything is gone when it stops. New keys on every start.
//
// One line per HTTP request goes to stdout.

import http from 'node:http';
import { randomBytes } from 'node:crypto';
import { generateKeyPair, exportJWK, calculateJwkThumbprint } from 'jose';
import Provider, { errors } from 'oidc-provider';

const HOST = '127.0.0.1';
const PORT = Number(process.env.PORT || 8082);
const GATEWAY = (process.env.GATEWAY || 'http://127.0.0.1:8080').replace(/\/$/, '');
const CLIENT_ID = process.env.IAM_CLIENT_ID || 'mcp-gateway';
const CLIENT_SECRET = process.env.IAM_CLIENT_SECRET;
const RESOURCE = `${GATEWAY}/mcp`;
const ISSUER = `http://${HOST}:${PORT}`;

if (!CLIENT_SECRET) {
    process.stderr.write('iam.mjs: IAM_CLIENT_SECRET is not set\n');
    process.exit(2);
}

function log(msg) {
    process.stdout.write(`${new Date().toISOString()} ${msg}\n`);
}

const { privateKey } = await generateKeyPair('RS256', { extractable: true });
const jwk = { ...(await exportJWK(privateKey)), alg: 'RS256', use: 'sig' };
jwk.kid = await calculateJwkThumbprint(jwk);

const provider = new Provider(ISSUER, {
    clients: [{
        client_id: CLIENT_ID,
        client_secret: CLIENT_SECRET,
        client_name: 'MCP gateway (nginx)',
        redirect_uris: [`${GATEWAY}/callback`],
        grant_types: ['authorization_code', 'refresh_token'],
        response_types: ['code'],
        token_endpoint_auth_method: 'client_secret_basic',
    }],
    jwks: { keys: [jwk] },
    cookies: { keys: [randomBytes(32).toString('base64url')] },
    scopes: ['openid', 'offline_access', 'mcp:tools'],
    claims: { openid: ['sub'] },
    pkce: { required: () => true },
    features: {
        devInteractions: { enabled: true },
        revocation: { enabled: true },
        resourceIndicators: {
            enabled: true,
            defaultResource: async (_ctx, _client, oneOf) => oneOf,
            useGrantedResource: async () => true,
            getResourceServerInfo: async (_ctx, resourceIndicator) => {
                if (resourceIndicator !== RESOURCE) throw new errors.InvalidTarget();
                return {
                    scope: 'mcp:tools',
                    audience: RESOURCE,
                    accessTokenTTL: 3600,
                    accessTokenFormat: 'jwt',
                    jwt: { sign: { alg: 'RS256' } },
                };
            },
        },
    },
    findAccount: async (_ctx, sub) => ({ accountId: sub, claims: async () => ({ sub }) }),
    ttl: {
        AccessToken: 3600,
        AuthorizationCode: 60,
        IdToken: 3600,
        RefreshToken: 24 * 3600,
        Interaction: 600,
        Session: 3600,
        Grant: 24 * 3600,
    },
});

provider.on('grant.success', (ctx) => {
    log(`token: ${ctx.oidc.params?.grant_type} for client ${ctx.oidc.client?.clientId} ok`);
});
provider.on('grant.error', (ctx, err) => {
    log(`token: ${ctx.oidc.params?.grant_type} failed: ${err.error} ${err.error_description || ''}`);
});
for (const ev of ['authorization.error', 'server_error']) {
    provider.on(ev, (_ctx, err) => log(`${ev}: ${err?.error || ''} ${err?.error_description || err?.message || ''}`));
}

const handler = provider.callback();
const server = http.createServer((req, res) => {
    res.on('finish', () => log(`${req.method} ${req.url.split('?')[0]} ${res.statusCode}`));
    handler(req, res);
});
server.listen(PORT, HOST, () => {
    log(`IAM (oidc-provider) at ${ISSUER}: client ${CLIENT_ID}, redirect ${GATEWAY}/callback, resource ${RESOURCE}`);
});

function shutdown(sig) {
    log(`${sig}: shutting down`);
    server.close(() => process.exit(0));
    server.closeAllConnections?.();
    setTimeout(() => process.exit(0), 2000).unref();
}
process.on('SIGINT', () => shutdown('SIGINT'));
process.on('SIGTERM', () => shutdown('SIGTERM'));
