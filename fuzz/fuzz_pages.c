
/*
 * libFuzzer harness: the authorization server's page and redirect renderers
 * (ngx_http_mcp_oauth_page.c) with any client name, user, resource, host,
 * scopes, form fields, state and issuer.
 *
 * The input is split at 0xff bytes into up to 12 fields: name, user,
 * resource, host, scope, action, csrf, state, issuer, and three form field
 * values; the first byte's low bits choose the bridge form, the error
 * redirect, the consent's checkboxes and the client's origin.  The name is
 * also parsed as an mcp_oauth_page_template and, when it parses, frames a
 * message page with the user as the product name.
 *
 * Checked beyond "no sanitizer report":
 *  - every render succeeds: it measures what it then writes, exactly
 *    (ngx_http_mcp_oauth_render() refuses a disagreement);
 *  - HTML pages (consent, message, the device flow's code page): the
 *    fields add no markup.  The page rendered from the
 *    fields and the page rendered from "skeleton" fields (each byte that
 *    HTML escapes replaced by 'x', spaces kept, so the scopes split the
 *    same) have the same number of '<', '>' and '"';
 *  - the consent page has one list item per non-empty scope (and one
 *    checkbox per scope with the choice);
 *  - a template that parses frames a page: measured and written alike,
 *    the product name adds no markup;
 *  - redirects: the URI comes first, unchanged, then only
 *    "?"/"&", names, "=" and percent-encoded or unreserved bytes, with
 *    exactly one "iss=" and at most one "state=" parameter.
 */

#include "fuzz_common.h"
#include "ngx_http_mcp_oauth_page.h"


#define FIELDS  12


static ngx_str_t  field_names[3] = {
    ngx_string("client_id"), ngx_string("redirect_uri"), ngx_string("state")
};


static size_t
count(ngx_str_t *s, u_char c)
{
    size_t  i, n;

    for (i = 0, n = 0; i < s->len; i++) {
        n += (s->data[i] == c);
    }

    return n;
}


static size_t
occurrences(ngx_str_t *s, const char *what)
{
    size_t  i, n, len;

    len = strlen(what);

    for (i = 0, n = 0; i + len <= s->len; i++) {
        n += (memcmp(s->data + i, what, len) == 0);
    }

    return n;
}


/* the same field with what HTML escapes taken out */

static ngx_str_t
skeleton(ngx_pool_t *pool, ngx_str_t *s)
{
    size_t     i;
    ngx_str_t  k;

    k.len = s->len;
    k.data = ngx_pnalloc(pool, s->len + 1);
    if (k.data == NULL) {
        abort();
    }

    for (i = 0; i < s->len; i++) {
        k.data[i] = (s->data[i] == ' ') ? ' ' : 'x';
    }

    return k;
}


static void
check_markup(const char *what, ngx_str_t *page, ngx_str_t *plain)
{
    static const u_char  marks[] = { '<', '>', '"' };
    size_t               i;

    for (i = 0; i < sizeof(marks); i++) {
        MCP_FUZZ_CHECK(count(page, marks[i]) == count(plain, marks[i]),
                       "%s: a field added '%c' (%zu, skeleton %zu)", what,
                       marks[i], count(page, marks[i]),
                       count(plain, marks[i]));
    }
}


static ngx_str_t
render(ngx_pool_t *pool, ngx_http_mcp_oauth_render_pt r, void *data,
    const char *what)
{
    ngx_str_t  text;

    MCP_FUZZ_CHECK(ngx_http_mcp_oauth_render(pool, r, data, &text) == NGX_OK,
                   "%s: measured and written sizes differ", what);

    return text;
}


static void
check_consent(ngx_pool_t *pool, ngx_str_t *f, ngx_uint_t flags)
{
    size_t                        scopes, i;
    ngx_str_t                     page, plain, values[3], kvalues[3];
    ngx_http_mcp_oauth_consent_t  c, k;

    ngx_memzero(&c, sizeof(ngx_http_mcp_oauth_consent_t));
    c.name = f[0];
    c.user = f[1];
    c.resource = f[2];
    c.host = f[3];
    c.scope = f[4];
    c.action = f[5];
    c.csrf = f[6];
    values[0] = f[9];
    values[1] = f[10];
    values[2] = f[11];
    c.field_names = field_names;
    c.field_values = values;
    c.nfields = 3;
    c.bridge = (flags & 1) != 0;
    c.choice = (flags & 4) != 0;
    c.origin = (flags >> 3) % 3;
    c.verified = f[8];

    k = c;
    k.name = skeleton(pool, &c.name);
    k.user = skeleton(pool, &c.user);
    k.resource = skeleton(pool, &c.resource);
    k.host = skeleton(pool, &c.host);
    k.scope = skeleton(pool, &c.scope);
    k.action = skeleton(pool, &c.action);
    k.csrf = skeleton(pool, &c.csrf);
    k.verified = skeleton(pool, &c.verified);

    for (i = 0; i < 3; i++) {
        kvalues[i] = skeleton(pool, &values[i]);
    }

    k.field_values = kvalues;

    page = render(pool, ngx_http_mcp_oauth_consent_render, &c, "consent");
    plain = render(pool, ngx_http_mcp_oauth_consent_render, &k, "consent");

    check_markup("consent", &page, &plain);

    /* one <li> per non-empty scope */

    for (i = 0, scopes = 0; i < c.scope.len; i++) {
        if (c.scope.data[i] != ' '
            && (i + 1 == c.scope.len || c.scope.data[i + 1] == ' '))
        {
            scopes++;
        }
    }

    MCP_FUZZ_CHECK(occurrences(&page, "<li class=\"scope\">") == scopes,
                   "consent: %zu list items for %zu scopes",
                   occurrences(&page, "<li class=\"scope\">"), scopes);

    MCP_FUZZ_CHECK(occurrences(&page, "type=\"checkbox\"")
                   == (c.choice ? scopes : 0),
                   "consent: %zu checkboxes for %zu scopes",
                   occurrences(&page, "type=\"checkbox\""), scopes);
}


/* any text as a template: refused with a reason, or it frames a page */

static void
check_template(ngx_pool_t *pool, ngx_str_t *f)
{
    ngx_str_t                     page, plain, bad;
    ngx_http_mcp_oauth_doc_t      doc, kdoc;
    ngx_http_mcp_oauth_look_t     look, klook;
    ngx_http_mcp_oauth_message_t  m;

    ngx_memzero(&look, sizeof(ngx_http_mcp_oauth_look_t));

    if (ngx_http_mcp_oauth_template_parse(pool, &f[0], &look, &bad)) {
        MCP_FUZZ_CHECK(bad.len > 0 && bad.len <= f[0].len + 11,
                       "template: a bad placeholder of %zu bytes", bad.len);
        return;
    }

    m.title = f[2];
    m.message = f[3];
    look.product = f[1];

    doc.look = &look;
    doc.title = m.title;
    doc.content = ngx_http_mcp_oauth_message_render;
    doc.data = &m;

    klook = look;
    klook.product = skeleton(pool, &f[1]);
    kdoc = doc;
    kdoc.look = &klook;

    page = render(pool, ngx_http_mcp_oauth_doc_render, &doc, "template");
    plain = render(pool, ngx_http_mcp_oauth_doc_render, &kdoc, "template");

    check_markup("template", &page, &plain);
}


static void
check_message(ngx_pool_t *pool, ngx_str_t *f)
{
    ngx_str_t                     page, plain;
    ngx_http_mcp_oauth_message_t  m, k;

    m.title = f[0];
    m.message = f[1];
    k.title = skeleton(pool, &m.title);
    k.message = skeleton(pool, &m.message);

    page = render(pool, ngx_http_mcp_oauth_message_render, &m, "message");
    plain = render(pool, ngx_http_mcp_oauth_message_render, &k, "message");

    check_markup("message", &page, &plain);
}


/* the device flow's code page: the user, the action, the code, a message */

static void
check_device(ngx_pool_t *pool, ngx_str_t *f)
{
    ngx_str_t                         page, plain;
    ngx_http_mcp_oauth_device_form_t  d, k;

    d.user = f[0];
    d.action = f[1];
    d.code = f[2];
    d.message = f[3];
    k.user = skeleton(pool, &d.user);
    k.action = skeleton(pool, &d.action);
    k.code = skeleton(pool, &d.code);
    k.message = skeleton(pool, &d.message);

    page = render(pool, ngx_http_mcp_oauth_device_render, &d, "device");
    plain = render(pool, ngx_http_mcp_oauth_device_render, &k, "device");

    check_markup("device", &page, &plain);
}


static int
query_byte(u_char c)
{
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z')
           || (c >= '0' && c <= '9') || c == '-' || c == '.' || c == '_'
           || c == '~' || c == '%' || c == '&' || c == '=';
}


static size_t
params(ngx_str_t *q, const char *name)
{
    size_t  i, n, len;

    len = strlen(name);

    for (i = 0, n = 0; i + len <= q->len; i++) {
        if ((i == 0 || q->data[i - 1] == '&')
            && memcmp(q->data + i, name, len) == 0)
        {
            n++;
        }
    }

    return n;
}


static void
check_redirect(ngx_pool_t *pool, ngx_str_t *f, ngx_uint_t error)
{
    size_t                         i;
    ngx_str_t                      url, q;
    ngx_http_mcp_oauth_redirect_t  rd;

    ngx_memzero(&rd, sizeof(ngx_http_mcp_oauth_redirect_t));
    rd.uri = f[3];
    rd.name = error ? f[0] : (ngx_str_t) ngx_string("code");
    rd.value = f[1];
    rd.state = f[7];
    rd.issuer = f[8];
    rd.error = error;

    url = render(pool, ngx_http_mcp_oauth_redirect_render, &rd, "redirect");

    MCP_FUZZ_CHECK(url.len > rd.uri.len
                   && memcmp(url.data, rd.uri.data, rd.uri.len) == 0
                   && (url.data[rd.uri.len] == '?'
                       || url.data[rd.uri.len] == '&'),
                   "redirect: the URI is not the start");

    q.data = url.data + rd.uri.len + 1;
    q.len = url.len - rd.uri.len - 1;

    for (i = 0; i < q.len; i++) {
        MCP_FUZZ_CHECK(query_byte(q.data[i]),
                       "redirect: byte 0x%02x at %zu is not encoded",
                       q.data[i], i);
    }

    MCP_FUZZ_CHECK(params(&q, "iss=") == 1, "redirect: %zu iss parameters",
                   params(&q, "iss="));
    MCP_FUZZ_CHECK(params(&q, "state=") == (rd.state.len ? 1 : 0),
                   "redirect: %zu state parameters", params(&q, "state="));
}


int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    u_char      *in, *p, *last, *sep, flags;
    ngx_str_t    f[FIELDS];
    ngx_uint_t   i;
    ngx_pool_t  *pool;

    mcp_fuzz_init(NGX_LOG_DEBUG);

    if (size == 0) {
        return 0;
    }

    pool = mcp_fuzz_pool();
    in = mcp_fuzz_input(data, size);

    flags = in[0];
    p = in + 1;
    last = in + size;

    for (i = 0; i < FIELDS; i++) {
        sep = p < last ? memchr(p, 0xff, last - p) : NULL;
        f[i].data = p;
        f[i].len = (sep ? sep : last) - p;
        p = sep ? sep + 1 : last;
    }

    check_consent(pool, f, flags);
    check_message(pool, f);
    check_device(pool, f);
    check_template(pool, f);
    check_redirect(pool, f, (flags & 2) != 0);

    ngx_destroy_pool(pool);
    mcp_fuzz_input_done(in, data, size);

    return 0;
}
