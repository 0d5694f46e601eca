// A real identity provider for the IAM suites (e2e/iam.test.mjs): panva's
// oidc-provider (a certified OpenID provider) on 127.0.0.1:<port>, in the
// test process, plus what a browser does with it over HTTP: a cookie jar,
// forms, its dev login and consent pages.
//
//   const iam = await startOidcProvider({ port, resources: [resource], ... });
//   after(() => iam.close());
//   const jar = new CookieJar();
//   const { location } = await browse(url, jar, { stopAt: (u) => u.href.startsWith(cb) });
//
// The provider: devInteractions (its built-in login page accepts any login
// and password; the login becomes the subject), PKCE S256 required,
// resourceIndicators (a `resource` of `resources` gets a JWT access token,
// RFC 9068, whose `aud` is the resource; `useGrantedResource` so that a token
// request without `resource` gets one for the resource of the grant),
// refresh tokens (by default, as in oidc-provider, only with offline_access
// and prompt=consent; `alwaysRefresh` issues them to any client allowed the
// refresh_token grant), DCR when `registration`, static `clients`.
// `requests` lists every HTTP request it answered and `grants` every token
// endpoint success and failure; `stop()` closes the listener (the provider
// is "down", its state is kept) and `start()` opens it again on the same port.

import http from 'node:http';
import { generateKeyPair, exportJWK, calculateJwkThumbprint } from 'jose';
import Provider, { errors } from 'oidc-provider';

export const LOGIN = 'alice';
export const PASSWORD = 'any password';

/**
 * Starts oidc-provider on http://127.0.0.1:<port>. Resolves with
 * { issuer, port, provider, metadata, jwks, requests, grants, stop, start, close }.
 */
export async function startOidcProvider({
    port,
    resources = [],
    resourceScope = 'mcp:tools read:application write:application',
    scopes = ['openid', 'offline_access', 'mcp:tools', 'read:application', 'write:application'],
    registration = false,
    clients = [],
    accessTokenTtl = 3600,
    alwaysRefresh = false,
} = {}) {
    const issuer = `http://127.0.0.1:${port}`;
    const { privateKey } = await generateKeyPair('RS256', { extractable: true });
    const jwk = { ...(await exportJWK(privateKey)), alg: 'RS256', use: 'sig' };
    jwk.kid = await calculateJwkThumbprint(jwk);

    const configuration = {
        clients,
        jwks: { keys: [jwk] },
        cookies: { keys: ['e2e cookie key, not a secret'] },
        scopes,
        claims: { openid: ['sub'] },
        pkce: { required: () => true },
        features: {
            devInteractions: { enabled: true },
            registration: { enabled: registration },
            revocation: { enabled: true },
            resourceIndicators: {
                enabled: true,
                defaultResource: async (_ctx, _client, oneOf) => oneOf,
                useGrantedResource: async () => true,
                getResourceServerInfo: async (_ctx, resourceIndicator) => {
                    if (!resources.includes(resourceIndicator)) throw new errors.InvalidTarget();
                    return {
                        scope: resourceScope,
                        audience: resourceIndicator,
                        accessTokenTTL: accessTokenTtl,
                        accessTokenFormat: 'jwt',
                        jwt: { sign: { alg: 'RS256' } },
                    };
                },
            },
        },
        findAccount: async (_ctx, sub) => ({
            accountId: sub,
            claims: async () => ({ sub }),
        }),
        ttl: {
            AccessToken: accessTokenTtl,
            AuthorizationCode: 60,
            IdToken: 3600,
            RefreshToken: 24 * 3600,
            Interaction: 600,
            Session: 3600,
            Grant: 24 * 3600,
        },
        renderError: async (ctx, out) => {
            ctx.type = 'html';
            ctx.body = `<!doctype html><title>oops</title><pre id="error">${JSON.stringify(out)}</pre>`;
        },
    };
    if (alwaysRefresh) {
        configuration.issueRefreshToken = async (_ctx, client) => client.grantTypeAllowed('refresh_token');
    }

    const provider = new Provider(issuer, configuration);
    const requests = [];
    const grants = [];
    const problems = [];
    provider.on('grant.success', (ctx) => {
        grants.push({ ok: true, grant_type: ctx.oidc.params?.grant_type, client_id: ctx.oidc.client?.clientId });
    });
    provider.on('grant.error', (ctx, err) => {
        grants.push({ ok: false, grant_type: ctx.oidc.params?.grant_type, error: err.error, description: err.error_description });
    });
    for (const ev of ['server_error', 'authorization.error', 'registration_create.error']) {
        provider.on(ev, (_ctx, err) => problems.push(`${ev}: ${err?.error || ''} ${err?.error_description || err?.message || ''}`));
    }

    const handler = provider.callback();
    let server;
    const iam = {
        issuer, port, provider, jwk, requests, grants, problems,
        async start() {
            server = http.createServer((req, res) => {
                const entry = { method: req.method, path: req.url.split('?')[0], url: req.url };
                requests.push(entry);
                res.on('finish', () => { entry.status = res.statusCode; });
                handler(req, res);
            });
            await new Promise((resolve, reject) => {
                server.once('error', reject);
                server.listen(port, '127.0.0.1', () => { server.off('error', reject); resolve(); });
            });
        },
        async stop() {
            if (!server) return;
            const s = server;
            server = undefined;
            await new Promise((resolve) => { s.close(() => resolve()); s.closeAllConnections(); });
        },
        close() { return iam.stop(); },
    };
    await iam.start();
    const res = await fetch(`${issuer}/.well-known/openid-configuration`);
    if (res.status !== 200) throw new Error(`oidc-provider discovery: ${res.status} ${await res.text()}`);
    iam.metadata = await res.json();
    iam.jwks = await (await fetch(iam.metadata.jwks_uri)).json();
    return iam;
}

// ------------------------------------------------------------ cookie jar --

/**
 * What a browser keeps: cookies by host (not port: a browser shares them
 * between ports of one host), name and path; sent on requests whose path
 * is under the cookie's. Expired and deleted cookies go away.
 */
export class CookieJar {
    constructor() { this.cookies = new Map(); }

    /** Takes the Set-Cookie headers of a response to `url`; returns them parsed. */
    store(url, res) {
        const u = new URL(url);
        const got = [];
        for (const line of res.headers.getSetCookie()) {
            const [pair, ...attrs] = line.split(';').map((s) => s.trim());
            const eq = pair.indexOf('=');
            const c = { name: pair.slice(0, eq), value: pair.slice(eq + 1), host: u.hostname, path: null, attrs: {}, raw: line };
            for (const a of attrs) {
                const i = a.indexOf('=');
                const k = (i < 0 ? a : a.slice(0, i)).toLowerCase();
                c.attrs[k] = i < 0 ? true : a.slice(i + 1);
            }
            c.path = typeof c.attrs.path === 'string' && c.attrs.path.startsWith('/') ? c.attrs.path
                : u.pathname.replace(/\/[^/]*$/, '') || '/';
            if (c.attrs['max-age'] !== undefined) c.expires = Date.now() + Number(c.attrs['max-age']) * 1000;
            else if (c.attrs.expires) c.expires = Date.parse(c.attrs.expires);
            const key = `${c.host};${c.path};${c.name}`;
            if (c.expires !== undefined && c.expires <= Date.now()) this.cookies.delete(key);
            else this.cookies.set(key, c);
            got.push(c);
        }
        return got;
    }

    /** The Cookie header for `url`, or undefined. */
    header(url) {
        const u = new URL(url);
        const now = Date.now();
        const out = [];
        for (const c of this.cookies.values()) {
            if (c.host !== u.hostname) continue;
            if (c.expires !== undefined && c.expires <= now) continue;
            const p = c.path;
            if (!(u.pathname === p || u.pathname.startsWith(p.endsWith('/') ? p : `${p}/`))) continue;
            out.push(`${c.name}=${c.value}`);
        }
        return out.length ? out.join('; ') : undefined;
    }

    names() { return [...this.cookies.values()].map((c) => c.name); }
}

/** fetch with the jar's cookies, no redirect following; stores Set-Cookie. */
export async function jarFetch(jar, url, init = {}) {
    const headers = new Headers(init.headers || {});
    const cookie = jar.header(url);
    if (cookie) headers.set('Cookie', cookie);
    const res = await fetch(url, { ...init, headers, redirect: 'manual' });
    jar.store(url, res);
    return res;
}

// ------------------------------------------------------------------ forms --

export function decodeEntities(s) {
    return s.replace(/&(#x[0-9a-f]+|#[0-9]+|amp|lt|gt|quot|apos);/gi, (m, e) => {
        const l = e.toLowerCase();
        if (l === 'amp') return '&';
        if (l === 'lt') return '<';
        if (l === 'gt') return '>';
        if (l === 'quot') return '"';
        if (l === 'apos') return "'";
        if (l.startsWith('#x')) return String.fromCodePoint(parseInt(l.slice(2), 16));
        return String.fromCodePoint(parseInt(l.slice(1), 10));
    });
}

export function attributes(tag) {
    const attrs = {};
    const body = tag.replace(/^<\s*[a-z]+/i, '').replace(/\/?>$/, '');
    for (const m of body.matchAll(/([^\s=/>"']+)(?:\s*=\s*(?:"([^"]*)"|'([^']*)'|([^\s>"']+)))?/g)) {
        attrs[m[1].toLowerCase()] = decodeEntities(m[2] ?? m[3] ?? m[4] ?? '');
    }
    return attrs;
}

/**
 * The forms of a page: action (absolute), method, inputs [{name, type,
 * value, checked, disabled}] in order, and buttons [{name, value}].
 */
export function parseForms(html, pageUrl) {
    return [...html.matchAll(/<form\b[^>]*>[\s\S]*?<\/form>/gi)].map(([form]) => {
        const open = attributes(form.match(/<form\b[^>]*>/i)[0]);
        const inputs = [];
        for (const m of form.matchAll(/<input\b[^>]*>/gi)) {
            const a = attributes(m[0]);
            if (a.name) {
                inputs.push({ name: a.name, type: (a.type || 'text').toLowerCase(), value: a.value ?? '',
                              checked: 'checked' in a, disabled: 'disabled' in a });
            }
        }
        const buttons = [];
        for (const m of form.matchAll(/<button\b[^>]*>/gi)) {
            const a = attributes(m[0]);
            buttons.push({ name: a.name, value: a.value ?? '' });
        }
        return {
            html: form,
            action: new URL(open.action ?? '', pageUrl).href,
            method: (open.method || 'GET').toUpperCase(),
            inputs,
            buttons,
        };
    });
}

/**
 * What a browser posts of a form of parseForms(), before the clicked
 * button: its hidden inputs and its ticked checkboxes that are not
 * disabled (the consent page's granted_scope), as [name, value] pairs.
 */
export function posted(form) {
    return form.inputs
        .filter((x) => x.type === 'hidden' || (x.type === 'checkbox' && x.checked && !x.disabled))
        .map((x) => [x.name, x.value]);
}

// --------------------------------------------------------------- browsing --

/**
 * Browses from `url` as a user at the provider would: follows redirects with
 * the jar, signs in on the login page (`login`, any password) and approves
 * the consent page, until a redirect whose target `stopAt(URL)` accepts.
 * Resolves with { location (URL, not followed), trail: ["GET url 303", ...] }.
 * With `abort`, the login page is left by the provider's abort link (the
 * user cancels: the provider redirects with error=access_denied).
 * A page that is neither a login nor a consent form is an error.
 */
export async function browse(url, jar, { stopAt, login = LOGIN, password = PASSWORD, abort = false, maxSteps = 16 } = {}) {
    let next = { url: String(url), init: { method: 'GET' } };
    const trail = [];
    for (let i = 0; i < maxSteps; i++) {
        const res = await jarFetch(jar, next.url, next.init);
        trail.push(`${next.init.method} ${next.url} ${res.status}`);
        if (res.status >= 300 && res.status < 400) {
            await res.body?.cancel();
            const loc = new URL(res.headers.get('location'), next.url);
            if (stopAt(loc)) return { location: loc, trail };
            next = { url: loc.href, init: { method: 'GET' } };
            continue;
        }
        const html = await res.text();
        if (res.status !== 200) {
            throw new Error(`${next.init.method} ${next.url}: ${res.status}\n${html}\n--- trail:\n${trail.join('\n')}`);
        }
        const form = parseForms(html, next.url).find((f) => f.inputs.some((x) => x.name === 'prompt'));
        if (!form) throw new Error(`${next.url}: no login or consent form\n${html}\n--- trail:\n${trail.join('\n')}`);
        if (abort) {
            const link = html.match(/<a\b[^>]*href\s*=\s*"([^"]*\/abort)"/i);
            if (!link) throw new Error(`${next.url}: no abort link\n${html}`);
            next = { url: new URL(decodeEntities(link[1]), next.url).href, init: { method: 'GET' } };
            continue;
        }
        const body = new URLSearchParams();
        for (const x of form.inputs) {
            if (x.name === 'login') body.append('login', login);
            else if (x.name === 'password') body.append('password', password);
            else body.append(x.name, x.value);
        }
        next = {
            url: form.action,
            init: { method: form.method, body, headers: { 'Content-Type': 'application/x-www-form-urlencoded' } },
        };
    }
    throw new Error(`no redirect to the expected place after ${maxSteps} steps:\n${trail.join('\n')}`);
}
