// Demo MCP client: the whole OAuth flow against nginx's built-in authorization
// server, with @modelcontextprotocol/sdk's auth, then a few MCP calls.
//
//   1. connect: /mcp answers 401 with WWW-Authenticate resource_metadata and
//      scope="mcp:tools"; the SDK reads the protected resource metadata, then
//      the authorization server metadata, registers a public client (DCR,
//      token_endpoint_auth_method none, redirect http://127.0.0.1:8085/callback)
//      and calls redirectToAuthorization() with the /authorize URL (PKCE S256).
//   2. redirectToAuthorization() plays the browser: GET /authorize with basic
//      auth as the demo user, read the consent form's hidden fields (request
//      parameters + csrf_token), POST them back with decision=approve, and take
//      `code` from the 302 Location. Nothing listens on the redirect URI.
//   3. transport.finishAuth(code) redeems the code at /token; connect again.
//   4. checks the access token (an RFC 9068 JWT: typ at+jwt, iss, aud, sub,
//      scope; signature against the server's /jwks), tools/list, whoami,
//      list_apps (when the token may call it), then ends the session (DELETE).
//
// Usage: node client.mjs [URL]
//   URL            default $MCP_URL or http://127.0.0.1:8080/mcp
//   DEMO_USER      who signs in at /authorize (default demo)
//   DEMO_PASSWORD  their password (default demo)
//   MCP_SCOPE      scopes to ask for, e.g. "mcp:tools read:application write:application".
//                  Default: none set, the SDK asks for the 401's scope hint (mcp:tools).
//   MCP_REDIRECT_URI  default http://127.0.0.1:8085/callback
//   DEMO_IAM_LOGIN the --iam variant (run.sh --iam): no basic auth; the browser goes
//                  through nginx's consent, then signs in at the IAM with this login
//                  (iam-browser.mjs); it is the expected sub. DEMO_USER is not used.
//   EXPECT_USER    exit 1 unless whoami (and the token's sub) is exactly this user
//   EXPECT_TOOLS   exit 1 unless tools/list shows exactly these tools (space separated)
//   SAVE_TOKENS    write {client_id, access_token, refresh_token, scope} as JSON to this file
//
// Exit status: 0 ok, 1 failure.

import { writeFileSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { auth, UnauthorizedError } from '@modelcontextprotocol/sdk/client/auth.js';
import { createRemoteJWKSet, decodeProtectedHeader, jwtVerify } from 'jose';

const url = new URL(process.argv[2] || process.env.MCP_URL || 'http://127.0.0.1:8080/mcp');
const IAM_LOGIN = process.env.DEMO_IAM_LOGIN;
const USER = IAM_LOGIN || process.env.DEMO_USER || 'demo';
const PASSWORD = process.env.DEMO_PASSWORD ?? 'demo';
const SCOPE = (process.env.MCP_SCOPE || '').trim();
const REDIRECT_URI = process.env.MCP_REDIRECT_URI || 'http://127.0.0.1:8085/callback';
const EXPECT_USER = process.env.EXPECT_USER;
const EXPECT_TOOLS = process.env.EXPECT_TOOLS;

const log = (msg) => console.log(`client: ${msg}`);
const short = (s, n = 24) => (s && s.length > n ? `${s.slice(0, n)}...` : s);

// ------------------------------------------------------------- consent ----

const ENTITIES = { amp: '&', lt: '<', gt: '>', quot: '"', apos: "'" };
function htmlDecode(s) {
  return s.replace(/&(#x[0-9a-f]+|#[0-9]+|[a-z]+);/gi, (m, e) => {
    if (e[0] === '#') {
      const n = e[1] === 'x' || e[1] === 'X' ? parseInt(e.slice(2), 16) : parseInt(e.slice(1), 10);
      return String.fromCodePoint(n);
    }
    return ENTITIES[e.toLowerCase()] ?? m;
  });
}

function attr(tag, name) {
  const m = tag.match(new RegExp(`\\s${name}\\s*=\\s*"([^"]*)"`, 'i'));
  return m ? htmlDecode(m[1]) : undefined;
}

/** The consent form of the page: its action and hidden fields. */
function parseConsentForm(html, pageUrl) {
  const form = html.match(/<form\b[^>]*>/i);
  if (!form) throw new Error('consent page has no <form>');
  const action = new URL(attr(form[0], 'action') || pageUrl.pathname, pageUrl);
  const fields = new URLSearchParams();
  for (const [tag] of html.matchAll(/<input\b[^>]*>/gi)) {
    const type = (attr(tag, 'type') || '').toLowerCase();
    // a browser posts the hidden fields and the ticked checkboxes (scopes)
    const ticked = type === 'checkbox' && /\schecked\b/i.test(tag) && !/\sdisabled\b/i.test(tag);
    if (type !== 'hidden' && !ticked) continue;
    const name = attr(tag, 'name');
    if (name) fields.append(name, attr(tag, 'value') ?? '');
  }
  if (!fields.has('csrf_token')) throw new Error('consent form has no csrf_token');
  if (!/<button\b[^>]*name="decision"[^>]*value="approve"/i.test(html)) {
    throw new Error('consent form has no approve button');
  }
  const scopes = [...html.matchAll(/<li class="scope"><label>(?:<input[^>]*> )?<code>([^<]*)<\/code>/g)].map((m) => htmlDecode(m[1]));
  return { action, fields, scopes };
}

/** The authorization response in a 302 Location: the code, after checking state and iss. */
function codeFromRedirect(res, expect) {
  const location = res.headers.get('location');
  if (res.status !== 302 || !location) {
    throw new Error(`expected a 302 to ${REDIRECT_URI}, got HTTP ${res.status}`);
  }
  const to = new URL(location);
  if (`${to.origin}${to.pathname}` !== new URL(REDIRECT_URI).href) {
    throw new Error(`redirected to ${location}, not to ${REDIRECT_URI}`);
  }
  const p = to.searchParams;
  if (p.get('error')) {
    throw new Error(`authorization error ${p.get('error')}: ${p.get('error_description') || ''}`);
  }
  if (p.get('state') !== expect.state) throw new Error(`state mismatch in ${location}`);
  if (expect.issuer && p.get('iss') !== expect.issuer) {
    throw new Error(`iss ${p.get('iss')} in the redirect is not the issuer ${expect.issuer} (RFC 9207)`);
  }
  if (!p.get('code')) throw new Error(`no code in ${location}`);
  return p.get('code');
}

/**
 * What a browser and the user would do: sign in (basic auth) at /authorize,
 * look at the consent page, press Approve. Returns the authorization code.
 */
async function consent(authorizationUrl, issuer) {
  const basic = `Basic ${Buffer.from(`${USER}:${PASSWORD}`).toString('base64')}`;
  const state = authorizationUrl.searchParams.get('state');
  log(`authorize: GET ${authorizationUrl.origin}${authorizationUrl.pathname} as ${USER} ` +
      `(scope="${authorizationUrl.searchParams.get('scope') ?? ''}", ` +
      `resource=${authorizationUrl.searchParams.get('resource')}, PKCE S256)`);
  const page = await fetch(authorizationUrl, { headers: { Authorization: basic }, redirect: 'manual' });
  if (page.status === 302) {
    log('authorize: consent remembered, redirected at once');
    return codeFromRedirect(page, { state, issuer });
  }
  const html = await page.text();
  if (page.status === 401) {
    throw new Error(`/authorize: 401, sign-in failed for ${USER} (DEMO_USER / DEMO_PASSWORD)`);
  }
  if (page.status !== 200) {
    throw new Error(`/authorize: HTTP ${page.status}: ${html.replace(/<[^>]*>/g, ' ').replace(/\s+/g, ' ').trim().slice(0, 200)}`);
  }
  const { action, fields, scopes } = parseConsentForm(html, authorizationUrl);
  log(`authorize: consent page asks for [${scopes.join(', ')}]; ` +
      `hidden fields: ${[...fields.keys()].join(', ')}`);
  fields.set('decision', 'approve');
  const res = await fetch(action, {
    method: 'POST',
    headers: { Authorization: basic, 'Content-Type': 'application/x-www-form-urlencoded' },
    body: fields.toString(),
    redirect: 'manual',
  });
  const code = codeFromRedirect(res, { state, issuer });
  log(`authorize: POST decision=approve -> 302 ${REDIRECT_URI}?code=${short(code, 12)}&state=...&iss=...`);
  return code;
}

// ------------------------------------------------------------ provider ----

/** An OAuthClientProvider that keeps everything in memory, for one run. */
class DemoAuthProvider {
  constructor() {
    this._client = undefined;
    this._tokens = undefined;
    this._verifier = undefined;
    this._discovery = undefined;
    this._state = undefined;
    this.code = undefined;
  }

  get redirectUrl() { return REDIRECT_URI; }

  get clientMetadata() {
    return {
      client_name: 'ngx_mcp_oauth demo client',
      redirect_uris: [REDIRECT_URI],
      grant_types: ['authorization_code', 'refresh_token'],
      response_types: ['code'],
      token_endpoint_auth_method: 'none',
    };
  }

  state() {
    this._state = randomBytes(16).toString('base64url');
    return this._state;
  }

  clientInformation() { return this._client; }

  saveClientInformation(info) {
    if (!this._client || this._client.client_id !== info.client_id) {
      log(`register: DCR -> client_id=${short(info.client_id)} ` +
          `(token_endpoint_auth_method=${info.token_endpoint_auth_method}, scope="${info.scope ?? ''}")`);
    }
    this._client = info;
  }

  tokens() { return this._tokens; }

  saveTokens(tokens) {
    log(`token: ${tokens.token_type} access token, expires_in=${tokens.expires_in}, ` +
        `scope="${tokens.scope}", refresh_token ${tokens.refresh_token ? 'yes' : 'no'}`);
    this._tokens = tokens;
  }

  saveCodeVerifier(v) { this._verifier = v; }
  codeVerifier() { return this._verifier; }

  saveDiscoveryState(s) {
    if (!this._discovery) {
      log(`discovery: resource ${s.resourceMetadata?.resource} -> authorization server ` +
          `${s.authorizationServerUrl} (registration ${s.authorizationServerMetadata?.registration_endpoint})`);
    }
    this._discovery = s;
  }
  discoveryState() { return this._discovery; }

  invalidateCredentials(what) {
    if (what === 'all' || what === 'client') this._client = undefined;
    if (what === 'all' || what === 'tokens') this._tokens = undefined;
    if (what === 'all' || what === 'verifier') this._verifier = undefined;
    if (what === 'all' || what === 'discovery') this._discovery = undefined;
  }

  async redirectToAuthorization(authorizationUrl) {
    const issuer = this._discovery?.authorizationServerMetadata?.issuer;
    if (IAM_LOGIN) {
      const { bridgeConsent } = await import('./iam-browser.mjs');
      log(`authorize: GET ${authorizationUrl.origin}${authorizationUrl.pathname} ` +
          `(scope="${authorizationUrl.searchParams.get('scope') ?? ''}", PKCE S256), no sign-in at nginx`);
      const res = await bridgeConsent(authorizationUrl, { login: IAM_LOGIN, redirectUri: REDIRECT_URI, log });
      this.code = codeFromRedirect(res, { state: authorizationUrl.searchParams.get('state'), issuer });
      log(`authorize: nginx /callback -> 302 ${REDIRECT_URI}?code=${short(this.code, 12)}&state=...&iss=...`);
      return;
    }
    this.code = await consent(authorizationUrl, issuer);
  }
}

// ---------------------------------------------------------------- token ---

/** The access token is an RFC 9068 JWT of this server: check it like a resource server would. */
async function checkAccessToken(token, provider) {
  const as = provider._discovery?.authorizationServerMetadata;
  const resource = provider._discovery?.resourceMetadata?.resource;
  if (!as?.jwks_uri || !resource) throw new Error('no discovery state to check the token against');
  const header = decodeProtectedHeader(token);
  const { payload } = await jwtVerify(token, createRemoteJWKSet(new URL(as.jwks_uri)), {
    issuer: as.issuer,
    audience: resource,
    typ: 'at+jwt',
  });
  log(`jwt: header typ=${header.typ} alg=${header.alg} kid=${short(header.kid, 12)}; ` +
      `signature ok with ${as.jwks_uri}`);
  log(`jwt: iss=${payload.iss} aud=${JSON.stringify(payload.aud)} sub=${payload.sub} ` +
      `client_id=${short(payload.client_id)} scope="${payload.scope}" ttl=${payload.exp - payload.iat}s ` +
      `jti=${short(payload.jti, 8)} sid=${short(payload.sid, 8)}`);
  const problems = [];
  if (payload.sub !== USER) problems.push(`sub ${payload.sub} is not the signed-in user ${USER}`);
  if (payload.client_id !== provider._client?.client_id) problems.push('client_id is not the registered client');
  if (payload.scope !== provider._tokens?.scope) problems.push(`scope "${payload.scope}" differs from the token response's`);
  for (const c of ['exp', 'iat', 'jti']) if (payload[c] === undefined) problems.push(`no ${c} claim`);
  return problems;
}

// ----------------------------------------------------------------- main ---

function textOf(result) {
  return (result.content || []).filter((c) => c.type === 'text').map((c) => c.text).join('\n');
}

async function connect(provider) {
  const client = new Client({ name: 'ngx-mcp-oauth-demo-client', version: '0.2.0' });
  const transport = new StreamableHTTPClientTransport(url, { authProvider: provider });
  await client.connect(transport);
  return { client, transport };
}

async function main() {
  const provider = new DemoAuthProvider();
  let conn;

  if (SCOPE) {
    // More than the 401's hint: start the SDK's flow ourselves with these
    // scopes (DCR registers the client for them, /authorize asks for them).
    log(`connecting to ${url.href}: authorizing first, for scope="${SCOPE}"`);
    const r = await auth(provider, { serverUrl: url, scope: SCOPE });
    if (r === 'REDIRECT') await new StreamableHTTPClientTransport(url, { authProvider: provider }).finishAuth(provider.code);
    conn = await connect(provider);
  } else {
    log(`connecting to ${url.href} without a token`);
    try {
      conn = await connect(provider);
    } catch (err) {
      if (!(err instanceof UnauthorizedError) || !provider.code) throw err;
      // The SDK met the 401, registered and sent us through consent: redeem
      // the code, then connect again with a new transport.
      const transport = new StreamableHTTPClientTransport(url, { authProvider: provider });
      await transport.finishAuth(provider.code);
      conn = await connect(provider);
    }
  }
  const { client, transport } = conn;
  log(`connected, server=${JSON.stringify(client.getServerVersion())}, session=${transport.sessionId ?? '(stateless)'}`);

  let ok = true;
  const fail = (msg) => { console.error(`client: FAIL ${msg}`); ok = false; };

  const tokens = provider.tokens();
  for (const p of await checkAccessToken(tokens.access_token, provider)) fail(`jwt: ${p}`);
  if (process.env.SAVE_TOKENS) {
    writeFileSync(process.env.SAVE_TOKENS, JSON.stringify({
      client_id: provider.clientInformation().client_id,
      access_token: tokens.access_token,
      refresh_token: tokens.refresh_token,
      scope: tokens.scope,
    }) + '\n', { mode: 0o600 });
  }

  const { tools } = await client.listTools();
  const names = tools.map((t) => t.name);
  log(`tools/list -> ${names.join(', ')}`);
  if (EXPECT_TOOLS !== undefined) {
    const want = EXPECT_TOOLS.split(/\s+/).filter(Boolean).sort();
    if (want.join(' ') !== [...names].sort().join(' ')) {
      fail(`tools/list shows [${names.join(', ')}], expected exactly [${want.join(', ')}]`);
    }
  }

  const who = await client.callTool({ name: 'whoami', arguments: {} });
  const whoText = textOf(who);
  let user;
  try { user = JSON.parse(whoText).user; } catch { /* leave undefined */ }
  log(`whoami -> user=${user}`);
  if (EXPECT_USER !== undefined && user !== EXPECT_USER) {
    fail(`whoami user=${JSON.stringify(user)}, expected ${JSON.stringify(EXPECT_USER)}`);
  }

  if (names.includes('list_apps')) {
    const apps = await client.callTool({ name: 'list_apps', arguments: {} });
    if (apps.isError) fail(`list_apps -> error: ${textOf(apps)}`);
    else log(`list_apps -> ${JSON.parse(textOf(apps)).applications?.length} applications`);
  } else {
    log('list_apps is not offered to this token (needs read:application): ' +
        'MCP_SCOPE="mcp:tools read:application write:application" node client.mjs');
  }

  if (transport.sessionId) {
    await transport.terminateSession(); // HTTP DELETE through the proxy
    log('session terminated (DELETE)');
  }
  await client.close();
  return ok;
}

main().then(
  (ok) => process.exit(ok ? 0 : 1),
  (err) => {
    console.error(`client: FAIL ${err?.message || err}`);
    process.exit(1);
  },
);
