// The user's browser in the demo's --iam variant, over HTTP (used by
// client.mjs when DEMO_IAM_LOGIN is set): from nginx's /authorize URL to
// nginx's redirect back to the MCP client, through
//
//   1. nginx's consent page: it sets the mcp_oauth_bridge cookie; the form's
//      hidden fields (csrf_token...) are posted back with decision=approve,
//      and nginx redirects to the IAM (iam.mjs) as its client mcp-gateway;
//   2. the IAM's dev login page (any login, any password: the login becomes
//      the subject) and its consent page ("authorize the gateway");
//   3. the IAM's redirect to nginx's /callback, sent with the cookie: nginx
//      exchanges the IAM's code and redirects to the MCP client with its own.
//
// bridgeConsent() resolves with that last response (a 302 to the client's
// redirect URI), for client.mjs to take the code from.

const ENTITIES = { amp: '&', lt: '<', gt: '>', quot: '"', apos: "'" };
function htmlDecode(s) {
    return s.replace(/&(#x[0-9a-f]+|#[0-9]+|[a-z]+);/gi, (m, e) => {
        if (e[0] === '#') {
            return String.fromCodePoint(e[1] === 'x' || e[1] === 'X' ? parseInt(e.slice(2), 16) : parseInt(e.slice(1), 10));
        }
        return ENTITIES[e.toLowerCase()] ?? m;
    });
}

function attributes(tag) {
    const attrs = {};
    const body = tag.replace(/^<\s*[a-z]+/i, '').replace(/\/?>$/, '');
    for (const m of body.matchAll(/([^\s=/>"']+)(?:\s*=\s*(?:"([^"]*)"|'([^']*)'|([^\s>"']+)))?/g)) {
        attrs[m[1].toLowerCase()] = htmlDecode(m[2] ?? m[3] ?? m[4] ?? '');
    }
    return attrs;
}

/** The first form of a page: action (absolute), method, inputs [{name, type, value, ticked}]. */
function firstForm(html, pageUrl) {
    const form = html.match(/<form\b[^>]*>[\s\S]*?<\/form>/i);
    if (!form) return undefined;
    const open = attributes(form[0].match(/<form\b[^>]*>/i)[0]);
    const inputs = [...form[0].matchAll(/<input\b[^>]*>/gi)]
        .map(([t]) => attributes(t))
        .filter((a) => a.name)
        .map((a) => ({ name: a.name, type: (a.type || 'text').toLowerCase(), value: a.value ?? '',
                       ticked: 'checked' in a && !('disabled' in a) }));
    return {
        action: new URL(open.action ?? '', pageUrl).href,
        method: (open.method || 'GET').toUpperCase(),
        inputs,
        html: form[0],
    };
}

/** Cookies by host and name (a browser shares them between the ports of a host). */
class CookieJar {
    constructor() { this.cookies = new Map(); }

    store(url, res) {
        const host = new URL(url).hostname;
        for (const line of res.headers.getSetCookie()) {
            const [pair, ...attrs] = line.split(';').map((s) => s.trim());
            const eq = pair.indexOf('=');
            const name = pair.slice(0, eq);
            const expired = attrs.some((a) => /^max-age=0$/i.test(a))
                || attrs.some((a) => /^expires=/i.test(a) && Date.parse(a.slice(8)) <= Date.now());
            const path = (attrs.find((a) => /^path=/i.test(a)) || 'path=/').slice(5);
            const key = `${host};${path};${name}`;
            if (expired) this.cookies.delete(key);
            else this.cookies.set(key, { host, path, name, value: pair.slice(eq + 1) });
        }
    }

    header(url) {
        const u = new URL(url);
        const out = [...this.cookies.values()]
            .filter((c) => c.host === u.hostname && (u.pathname === c.path
                || u.pathname.startsWith(c.path.endsWith('/') ? c.path : `${c.path}/`)))
            .map((c) => `${c.name}=${c.value}`);
        return out.length ? out.join('; ') : undefined;
    }

    async fetch(url, init = {}) {
        const headers = new Headers(init.headers || {});
        const cookie = this.header(url);
        if (cookie) headers.set('Cookie', cookie);
        const res = await fetch(url, { ...init, headers, redirect: 'manual' });
        this.store(url, res);
        return res;
    }
}

function pageText(html) {
    return html.replace(/<[^>]*>/g, ' ').replace(/\s+/g, ' ').trim().slice(0, 300);
}

/**
 * From nginx's authorization URL to nginx's redirect to the MCP client.
 * `login` is typed into the IAM's login page. Resolves with the final
 * Response (302 to redirectUri, not followed).
 */
export async function bridgeConsent(authorizationUrl, { login, redirectUri, log = () => {} }) {
    const jar = new CookieJar();
    const gateway = new URL(authorizationUrl).origin;

    // 1. nginx's consent page
    const page = await jar.fetch(String(authorizationUrl));
    const html = await page.text();
    if (page.status !== 200) throw new Error(`nginx /authorize: HTTP ${page.status}: ${pageText(html)}`);
    const consent = firstForm(html, String(authorizationUrl));
    if (!consent || !consent.inputs.some((x) => x.name === 'csrf_token')) {
        throw new Error('nginx /authorize: no consent form with a csrf_token');
    }
    const scopes = [...html.matchAll(/<li class="scope"><label>(?:<input[^>]*> )?<code>([^<]*)<\/code>/g)].map((m) => htmlDecode(m[1]));
    log(`authorize: nginx's consent page asks for [${scopes.join(', ')}]; Approve`);
    // what a browser posts: the hidden fields and the ticked scopes
    const body = new URLSearchParams(consent.inputs
        .filter((x) => x.type === 'hidden' || (x.type === 'checkbox' && x.ticked))
        .map((x) => [x.name, x.value]));
    body.set('decision', 'approve');
    const approved = await jar.fetch(consent.action, {
        method: 'POST',
        headers: { 'Content-Type': 'application/x-www-form-urlencoded' },
        body,
    });
    await approved.body?.cancel();
    if (![302, 303].includes(approved.status)) throw new Error(`nginx consent: HTTP ${approved.status}, not a redirect to the IAM`);
    let next = new URL(approved.headers.get('location'), consent.action);
    log(`authorize: nginx -> the IAM ${next.origin}${next.pathname} ` +
        `(client_id=${next.searchParams.get('client_id')}, scope="${next.searchParams.get('scope')}", PKCE S256)`);

    // 2. the IAM: redirects, its login page, its consent page; until it sends
    //    the browser back to nginx's /callback
    let init = { method: 'GET' };
    for (let step = 0; step < 16; step++) {
        const res = await jar.fetch(next.href, init);
        if (res.status >= 300 && res.status < 400) {
            await res.body?.cancel();
            const to = new URL(res.headers.get('location'), next);
            if (to.origin === gateway && to.pathname === '/callback') {
                if (to.searchParams.get('error')) {
                    throw new Error(`the IAM answered ${to.searchParams.get('error')}: ${to.searchParams.get('error_description') || ''}`);
                }
                log(`iam: redirect to nginx ${to.pathname}?code=...&state=...`);
                // 3. nginx's callback, with the cookie of step 1
                const back = await jar.fetch(to.href);
                await back.body?.cancel();
                if (back.status === 302 && !String(back.headers.get('location')).startsWith(redirectUri)) {
                    throw new Error(`nginx /callback redirected to ${back.headers.get('location')}, not to ${redirectUri}`);
                }
                return back;
            }
            next = to;
            init = { method: 'GET' };
            continue;
        }
        const text = await res.text();
        if (res.status !== 200) throw new Error(`${next.origin}${next.pathname}: HTTP ${res.status}: ${pageText(text)}`);
        const form = firstForm(text, next.href);
        const prompt = form?.inputs.find((x) => x.name === 'prompt')?.value;
        if (!form || !prompt) throw new Error(`${next.href}: neither the IAM's login nor its consent page: ${pageText(text)}`);
        const fields = new URLSearchParams();
        for (const x of form.inputs) {
            if (x.name === 'login') fields.append('login', login);
            else if (x.name === 'password') fields.append('password', 'any password');
            else fields.append(x.name, x.value);
        }
        log(prompt === 'login'
            ? `iam: login page: signing in as ${login} (the dev login takes any login and password)`
            : `iam: ${prompt} page: authorizing the gateway`);
        next = new URL(form.action);
        init = { method: form.method, body: fields, headers: { 'Content-Type': 'application/x-www-form-urlencoded' } };
    }
    throw new Error('the IAM did not send the browser back to nginx /callback');
}
