
/*
 * The authorization server's form parameters and what the endpoints do
 * with their values (ngx_http_mcp_oauth_as_parse.c), no request:
 *
 *  - ngx_http_mcp_oauth_params_parse() on the input, an
 *    application/x-www-form-urlencoded query string or body (/authorize,
 *    /token, /revoke);
 *  - then on every decoded value: ngx_http_mcp_oauth_scope_subset() and
 *    ngx_http_mcp_oauth_scope_intersect() against a fixed scopes_supported,
 *    against itself and against every other value;
 *    ngx_http_mcp_oauth_b64url_check() (43..43 as for code_challenge,
 *    43..128, 0..2048); ngx_http_mcp_oauth_loopback();
 *    ngx_http_mcp_oauth_redirect_check() without a server, without
 *    mcp_oauth_redirect_uri_allow, with the allow-list of
 *    docs/authorization-server.md (loopback, exact and prefix* URLs) and
 *    with one made of the decoded state/resource/token values;
 *    ngx_http_mcp_oauth_redirect_match() for a client registered with every
 *    decoded value and for one registered with those that pass
 *    redirect_check (as registration makes them).
 *
 * Input: the form text, as is (e.g. "response_type=code&client_id=...").
 *
 * Checked beyond "no sanitizer report":
 *  - the input is not written to;
 *  - differential against an independent form parser: the same result, the
 *    same "present" and "repeated" bits (present only for a non-empty
 *    value, repeated only when present), each value the decoding of the
 *    last non-empty occurrence, inside one pool allocation; granted_scope
 *    (one per ticked checkbox) is never repeated: its values space-joined;
 *  - scope_subset(x, x) is NGX_OK; scope_subset() is the set inclusion of
 *    space-separated tokens, compared byte for byte;
 *  - ngx_http_mcp_oauth_scope_intersect() of every value with the fixed
 *    scopes and with every value: the tokens of x that are in "of", in
 *    order, single spaces, inside one pool allocation, a subset of both,
 *    and the same when applied again;
 *  - b64url_check, loopback (and its "rest" inside the URI),
 *    redirect_check and redirect_match equal independent implementations
 *    of what their comments and the documentation say; an accepted
 *    redirect has no byte <= 0x20 or >= 0x7f, no '#', and starts with
 *    https://<something> without '@', or is loopback http; an allow-list
 *    only takes URIs away; redirect_match(c, u) is NGX_OK whenever u is one
 *    of c's URIs.
 */


#include "fuzz_common.h"
#include <ngx_http.h>

#include "ngx_http_mcp_oauth_module.h"
#include "ngx_http_mcp_oauth_as.h"
#include "fuzz_as_ref.h"


#define NP         NGX_HTTP_MCP_OAUTH_P_N

/*
 * The names, in the order of the enum of ngx_http_mcp_oauth_as.h (only its
 * first NGX_HTTP_MCP_OAUTH_P_N are used: a name may be listed ahead of the
 * module); a new parameter of the module fails the build until it is here.
 */

static const char  *pnames[] = {
    "response_type", "client_id", "redirect_uri", "code_challenge",
    "code_challenge_method", "state", "scope", "resource", "decision",
    "csrf_token", "grant_type", "code", "code_verifier", "refresh_token",
    "client_secret", "token", "token_type_hint", "error", "device_code",
    "user_code", "granted_scope", "assertion", "client_assertion",
    "client_assertion_type"
};

/* the one parameter whose repeats add up (the consent form's checkboxes) */
#define GRANTED    NGX_HTTP_MCP_OAUTH_P_GRANTED_SCOPE

_Static_assert(NP <= sizeof(pnames) / sizeof(pnames[0]),
               "a parameter of ngx_http_mcp_oauth_as.h is missing in pnames");
_Static_assert(NP < 32, "present/repeated are 32-bit masks");

static ngx_str_t  supported = ngx_string(
    "mcp:tools read:application write:application");


/* ---- the reference ----------------------------------------------------- */

typedef struct {
    u_char      *v[NP];        /* malloc()ed, freed by ref_free() */
    size_t       len[NP];
    uint32_t     present;
    uint32_t     repeated;
} ref_params_t;


static int
hexval(u_char c)
{
    if (c >= '0' && c <= '9') {
        return c - '0';
    }

    if (c >= 'a' && c <= 'f') {
        return c - 'a' + 10;
    }

    if (c >= 'A' && c <= 'F') {
        return c - 'A' + 10;
    }

    return -1;
}


/* -1: a '%' without two hex digits */

static ssize_t
ref_decode(const u_char *s, size_t n, u_char *out)
{
    size_t  i, o;
    int     h, l;

    for (i = 0, o = 0; i < n; i++) {
        if (s[i] == '+') {
            out[o++] = ' ';

        } else if (s[i] != '%') {
            out[o++] = s[i];

        } else {
            if (n - i < 3) {
                return -1;
            }

            h = hexval(s[i + 1]);
            l = hexval(s[i + 2]);

            if (h < 0 || l < 0) {
                return -1;
            }

            out[o++] = (u_char) (h * 16 + l);
            i += 2;
        }
    }

    return o;
}


static ngx_int_t
ref_parse(const u_char *in, size_t size, ref_params_t *rp)
{
    size_t   s, e, eq, k;
    ssize_t  n;
    u_char  *buf;

    memset(rp, 0, sizeof(ref_params_t));

    for (s = 0; s < size; s = e + 1) {
        for (e = s; e < size && in[e] != '&'; e++) { /* void */ }
        for (eq = s; eq < e && in[eq] != '='; eq++) { /* void */ }

        if (eq == e || eq + 1 == e) {
            continue;               /* no value, or an empty one */
        }

        for (k = 0; k < NP; k++) {
            if (strlen(pnames[k]) == eq - s
                && memcmp(pnames[k], in + s, eq - s) == 0)
            {
                break;
            }
        }

        if (k == NP) {
            continue;
        }

        buf = malloc(e - eq);
        if (buf == NULL) {
            abort();
        }

        n = ref_decode(in + eq + 1, e - eq - 1, buf);

        if (n < 0) {
            free(buf);
            return NGX_DECLINED;
        }

        if (k == GRANTED && (rp->present & (1u << k))) {
            /* space-joined: the earlier values, a space, this one */
            rp->v[k] = realloc(rp->v[k], rp->len[k] + 1 + n + 1);
            if (rp->v[k] == NULL) {
                abort();
            }

            rp->v[k][rp->len[k]] = ' ';
            memcpy(rp->v[k] + rp->len[k] + 1, buf, n);
            rp->len[k] += 1 + n;
            free(buf);

        } else {
            free(rp->v[k]);
            rp->v[k] = buf;
            rp->len[k] = n;

            if (rp->present & (1u << k)) {
                rp->repeated |= 1u << k;
            }
        }

        rp->present |= 1u << k;
    }

    return NGX_OK;
}


static void
ref_free(ref_params_t *rp)
{
    ngx_uint_t  k;

    for (k = 0; k < NP; k++) {
        free(rp->v[k]);
    }
}


static ngx_int_t
ref_b64url(ngx_str_t *s, size_t min, size_t max)
{
    size_t  i;
    u_char  c;

    if (s->len < min || s->len > max) {
        return NGX_DECLINED;
    }

    for (i = 0; i < s->len; i++) {
        c = s->data[i];

        if (!isalnum(c) || c >= 0x80) {
            if (c != '-' && c != '_') {
                return NGX_DECLINED;
            }
        }
    }

    return NGX_OK;
}


static ngx_int_t
ref_redirect_match(ngx_array_t *regs, ngx_str_t *uri)
{
    size_t       rr, ur, rh, uh, i;
    ngx_str_t   *reg;
    ngx_uint_t   k;

    reg = regs->elts;

    for (k = 0; k < regs->nelts; k++) {
        if (reg[k].len == uri->len
            && (uri->len == 0
                || memcmp(reg[k].data, uri->data, uri->len) == 0))
        {
            return NGX_OK;
        }

        if (ref_loopback(&reg[k], &rr, &rh) != NGX_OK
            || ref_loopback(uri, &ur, &uh) != NGX_OK
            || rh != uh
            || reg[k].len - rr != uri->len - ur
            || memcmp(reg[k].data + rr, uri->data + ur, uri->len - ur) != 0)
        {
            continue;
        }

        /* the same host, whatever its case, on any port */

        for (i = 0; i < uh; i++) {
            if (tolower(reg[k].data[i]) != tolower(uri->data[i])) {
                break;
            }
        }

        if (i == uh) {
            return NGX_OK;
        }
    }

    return NGX_DECLINED;
}


/* ---- the checks -------------------------------------------------------- */

static void
check_params(ngx_int_t rc, ngx_http_mcp_oauth_params_t *p, ngx_int_t ref,
    ref_params_t *rp, ngx_pool_t *pool, size_t size)
{
    ngx_uint_t  k;

    MCP_FUZZ_CHECK(rc == NGX_OK || rc == NGX_DECLINED,
                   "params_parse returned %ld", (long) rc);

    MCP_FUZZ_CHECK((p->repeated & ~p->present) == 0,
                   "repeated 0x%x without present 0x%x", p->repeated,
                   p->present);
    MCP_FUZZ_CHECK((p->present >> NP) == 0, "present bits 0x%x past the "
                   "parameters", p->present);

    MCP_FUZZ_CHECK(rc == ref, "params_parse returned %ld, expected %ld",
                   (long) rc, (long) ref);

    if (rc == NGX_DECLINED) {
        /* the bits are those of the parameters before the bad one */
        MCP_FUZZ_CHECK(p->present == rp->present
                       && p->repeated == rp->repeated,
                       "declined: present 0x%x/0x%x repeated 0x%x/0x%x",
                       p->present, rp->present, p->repeated, rp->repeated);
        return;
    }

    MCP_FUZZ_CHECK(p->present == rp->present, "present 0x%x, expected 0x%x",
                   p->present, rp->present);
    MCP_FUZZ_CHECK(p->repeated == rp->repeated,
                   "repeated 0x%x, expected 0x%x", p->repeated, rp->repeated);

    for (k = 0; k < NP; k++) {
        if (!(p->present & (1u << k))) {
            MCP_FUZZ_CHECK(p->v[k].len == 0 && p->v[k].data == NULL,
                           "%s: a value without the present bit", pnames[k]);
            continue;
        }

        MCP_FUZZ_CHECK(p->v[k].len > 0, "%s: present and empty", pnames[k]);
        MCP_FUZZ_CHECK(p->v[k].len <= size, "%s: %zu bytes from %zu",
                       pnames[k], (size_t) p->v[k].len, size);
        mcp_fuzz_check_str(pnames[k], &p->v[k], pool, NULL, 0);

        MCP_FUZZ_CHECK(p->v[k].len == rp->len[k]
                       && memcmp(p->v[k].data, rp->v[k], rp->len[k]) == 0,
                       "%s: \"%.*s\", expected \"%.*s\"", pnames[k],
                       (int) p->v[k].len, p->v[k].data, (int) rp->len[k],
                       rp->v[k]);
    }
}


static void
check_scope(ngx_str_t *x, ngx_str_t *vals, ngx_uint_t n)
{
    ngx_int_t   rc, ref;
    ngx_uint_t  j;

    MCP_FUZZ_CHECK(ngx_http_mcp_oauth_scope_subset(x, x) == NGX_OK,
                   "scope_subset(x, x) for \"%.*s\"", (int) x->len, x->data);

    rc = ngx_http_mcp_oauth_scope_subset(x, &supported);
    MCP_FUZZ_CHECK(rc == ref_subset(x, &supported),
                   "scope_subset(\"%.*s\", supported) = %ld", (int) x->len,
                   x->data, (long) rc);

    for (j = 0; j < n; j++) {
        rc = ngx_http_mcp_oauth_scope_subset(x, &vals[j]);
        ref = ref_subset(x, &vals[j]);

        /*
         * ngx_strncmp() stops at a NUL byte: tokens that only differ after
         * a NUL both have match.  "of" is always scopes_supported, a static
         * client's scope=, or a scope that passed one of them: no NUL.
         */

        if (has_nul(&vals[j])) {
            MCP_FUZZ_CHECK(ref == NGX_DECLINED || rc == NGX_OK,
                           "scope_subset refused a subset (NUL in of)");
            continue;
        }

        MCP_FUZZ_CHECK(rc == ref, "scope_subset(\"%.*s\", \"%.*s\") = %ld",
                       (int) x->len, x->data, (int) vals[j].len,
                       vals[j].data, (long) rc);
    }
}


/* the scopes of x that are in of, in x's order, one space apart */

static void
check_intersect(ngx_pool_t *pool, ngx_str_t *x, ngx_str_t *of)
{
    u_char     *exp;
    size_t      s, e, n;
    ngx_int_t   rc;
    ngx_str_t   r, again;

    r = *x;
    rc = ngx_http_mcp_oauth_scope_intersect(pool, &r, of);

    MCP_FUZZ_CHECK(rc == NGX_OK, "scope_intersect returned %ld", (long) rc);
    MCP_FUZZ_CHECK(r.data != NULL && r.len <= x->len,
                   "scope_intersect: %zu bytes from %zu", (size_t) r.len,
                   (size_t) x->len);
    mcp_fuzz_check_str("scope_intersect", &r, pool, NULL, 0);

    MCP_FUZZ_CHECK(ngx_http_mcp_oauth_scope_subset(&r, x) == NGX_OK
                   && ngx_http_mcp_oauth_scope_subset(&r, of) == NGX_OK,
                   "scope_intersect: \"%.*s\" is not in both",
                   (int) r.len, r.data);

    if (has_nul(of)) {
        return;                 /* see check_scope() */
    }

    exp = malloc(x->len + 1);
    if (exp == NULL) {
        abort();
    }

    n = 0;

    for (s = 0; s < x->len; s = e + 1) {
        for (e = s; e < x->len && x->data[e] != ' '; e++) { /* void */ }

        if (e > s && ref_token_in(x->data + s, e - s, of)) {
            if (n) {
                exp[n++] = ' ';
            }

            memcpy(exp + n, x->data + s, e - s);
            n += e - s;
        }
    }

    MCP_FUZZ_CHECK(r.len == n && (n == 0 || memcmp(r.data, exp, n) == 0),
                   "scope_intersect(\"%.*s\", \"%.*s\") = \"%.*s\", "
                   "expected \"%.*s\"", (int) x->len, x->data,
                   (int) of->len, of->data, (int) r.len, r.data, (int) n,
                   exp);

    free(exp);

    /* once is enough */

    again = r;

    MCP_FUZZ_CHECK(ngx_http_mcp_oauth_scope_intersect(pool, &again, of)
                   == NGX_OK
                   && again.len == r.len
                   && (r.len == 0 || memcmp(again.data, r.data, r.len) == 0),
                   "scope_intersect twice differs from once");
}


static void
check_b64url(ngx_str_t *x)
{
    static const size_t  ranges[][2] = { {43, 43}, {43, 128}, {0, 2048} };
    ngx_uint_t           i;
    ngx_int_t            rc;

    for (i = 0; i < 3; i++) {
        rc = ngx_http_mcp_oauth_b64url_check(x, ranges[i][0], ranges[i][1]);
        MCP_FUZZ_CHECK(rc == ref_b64url(x, ranges[i][0], ranges[i][1]),
                       "b64url_check(\"%.*s\", %zu, %zu) = %ld",
                       (int) x->len, x->data, ranges[i][0], ranges[i][1],
                       (long) rc);
    }
}


static void
check_loopback(ngx_str_t *x)
{
    size_t     rest, hlen;
    ngx_int_t  rc, ref;
    ngx_str_t  r;

    r.data = NULL;
    r.len = 0;

    rc = ngx_http_mcp_oauth_loopback(x, &r);
    ref = ref_loopback(x, &rest, &hlen);

    MCP_FUZZ_CHECK(rc == ref, "loopback(\"%.*s\") = %ld", (int) x->len,
                   x->data, (long) rc);

    if (rc == NGX_OK) {
        MCP_FUZZ_CHECK(r.data == x->data + rest && r.len == x->len - rest,
                       "loopback rest at %zu+%zu, expected %zu",
                       (size_t) (r.data - x->data), (size_t) r.len, rest);
    }
}


static ngx_int_t
check_redirect(ngx_http_mcp_oauth_srv_conf_t *ascf, ngx_str_t *x)
{
    size_t       i, rest, hlen;
    ngx_int_t    rc, ref;
    ngx_array_t *allow;

    rc = ngx_http_mcp_oauth_redirect_check(ascf, x);
    allow = ascf ? ascf->redirect_allow : NULL;
    ref = ref_redirect_check(allow, x);

    MCP_FUZZ_CHECK(rc == ref, "redirect_check(%s, \"%.*s\") = %ld",
                   allow ? "allow-list" : "-", (int) x->len, x->data,
                   (long) rc);

    if (rc != NGX_OK) {
        return rc;
    }

    for (i = 0; i < x->len; i++) {
        MCP_FUZZ_CHECK(x->data[i] > 0x20 && x->data[i] < 0x7f
                       && x->data[i] != '#',
                       "accepted redirect with byte 0x%02x", x->data[i]);
    }

    MCP_FUZZ_CHECK(ref_loopback(x, &rest, &hlen) == NGX_OK
                   || (x->len > 8 && memcmp(x->data, "https://", 8) == 0
                       && memchr(x->data, '@', x->len) == NULL),
                   "accepted redirect \"%.*s\" is neither https nor "
                   "loopback http", (int) x->len, x->data);

    if (allow) {
        MCP_FUZZ_CHECK(ngx_http_mcp_oauth_redirect_check(NULL, x) == NGX_OK,
                       "the allow-list let in what is refused without it");
    }

    return rc;
}


static void
check_match(ngx_http_mcp_oauth_client_t *c, ngx_str_t *x, int strict)
{
    ngx_int_t    rc, ref;
    ngx_str_t   *reg;
    ngx_uint_t   k;

    rc = ngx_http_mcp_oauth_redirect_match(c, x);

    reg = c->redirect_uris->elts;

    for (k = 0; k < c->redirect_uris->nelts; k++) {
        if (reg[k].len == x->len
            && memcmp(reg[k].data, x->data, x->len) == 0)
        {
            MCP_FUZZ_CHECK(rc == NGX_OK, "redirect_match refused its own "
                           "redirect URI \"%.*s\"", (int) x->len, x->data);
        }
    }

    if (!strict) {
        return;
    }

    ref = ref_redirect_match(c->redirect_uris, x);

    MCP_FUZZ_CHECK(rc == ref, "redirect_match(\"%.*s\") = %ld",
                   (int) x->len, x->data, (long) rc);
}


/* an allow-list pattern as the directive keeps it: NUL-terminated */

static int
push_pattern(ngx_pool_t *pool, ngx_array_t *a, ngx_str_t *v)
{
    ngx_str_t  *s;

    if (v->len == 0 || has_nul(v)
        || !((v->len == 8 && memcmp(v->data, "loopback", 8) == 0)
             || (v->len >= 8 && memcmp(v->data, "https://", 8) == 0)
             || (v->len >= 7 && memcmp(v->data, "http://", 7) == 0)))
    {
        return 0;
    }

    s = ngx_array_push(a);
    if (s == NULL) {
        abort();
    }

    s->len = v->len;
    s->data = ngx_pnalloc(pool, v->len + 1);
    if (s->data == NULL) {
        abort();
    }

    ngx_memcpy(s->data, v->data, v->len);
    s->data[v->len] = '\0';

    return 1;
}


int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    u_char                         *in;
    ngx_int_t                       rc;
    ngx_str_t                       form, vals[NP], *s;
    ngx_uint_t                      i, k, n, npat;
    ngx_pool_t                     *pool;
    ref_params_t                    rp;
    ngx_array_t                    *allow_d, *allow_v;
    ngx_http_mcp_oauth_params_t     p;
    ngx_http_mcp_oauth_client_t     all, good;
    ngx_http_mcp_oauth_srv_conf_t   none, doc, own;

    mcp_fuzz_init(NGX_LOG_DEBUG);

    pool = mcp_fuzz_pool();
    in = mcp_fuzz_input(data, size);

    form.data = in;
    form.len = size;
    ngx_memzero(&p, sizeof(ngx_http_mcp_oauth_params_t));

    rc = ngx_http_mcp_oauth_params_parse(pool, &form, &p);

    check_params(rc, &p, ref_parse(in, size, &rp), &rp, pool, size);

    if (rc != NGX_OK) {
        goto done;
    }

    /* the decoded values */

    n = 0;

    for (k = 0; k < NP; k++) {
        if (p.present & (1u << k)) {
            vals[n++] = p.v[k];
        }
    }

    /* the servers: none, the documented allow-list, one from the input */

    ngx_memzero(&none, sizeof(ngx_http_mcp_oauth_srv_conf_t));
    ngx_memzero(&doc, sizeof(ngx_http_mcp_oauth_srv_conf_t));
    ngx_memzero(&own, sizeof(ngx_http_mcp_oauth_srv_conf_t));

    allow_d = mcp_fuzz_allow_doc(pool);
    allow_v = ngx_array_create(pool, 4, sizeof(ngx_str_t));
    if (allow_v == NULL) {
        abort();
    }

    npat = 0;
    npat += push_pattern(pool, allow_v, &p.v[NGX_HTTP_MCP_OAUTH_P_STATE]);
    npat += push_pattern(pool, allow_v, &p.v[NGX_HTTP_MCP_OAUTH_P_RESOURCE]);
    npat += push_pattern(pool, allow_v, &p.v[NGX_HTTP_MCP_OAUTH_P_TOKEN]);

    doc.redirect_allow = allow_d;
    own.redirect_allow = npat ? allow_v : NULL;

    /* clients: every value, and those a registration would take */

    ngx_memzero(&all, sizeof(ngx_http_mcp_oauth_client_t));
    ngx_memzero(&good, sizeof(ngx_http_mcp_oauth_client_t));

    all.redirect_uris = ngx_array_create(pool, NP, sizeof(ngx_str_t));
    good.redirect_uris = ngx_array_create(pool, NP, sizeof(ngx_str_t));
    if (all.redirect_uris == NULL || good.redirect_uris == NULL) {
        abort();
    }

    for (i = 0; i < n; i++) {
        check_scope(&vals[i], vals, n);

        check_intersect(pool, &vals[i], &supported);
        for (k = 0; k < n; k++) {
            check_intersect(pool, &vals[i], &vals[k]);
        }

        check_b64url(&vals[i]);
        check_loopback(&vals[i]);

        rc = check_redirect(NULL, &vals[i]);
        MCP_FUZZ_CHECK(check_redirect(&none, &vals[i]) == rc,
                       "redirect_check: a server without allow-list differs");
        (void) check_redirect(&doc, &vals[i]);
        (void) check_redirect(&own, &vals[i]);

        s = ngx_array_push(all.redirect_uris);
        if (s == NULL) {
            abort();
        }
        *s = vals[i];

        if (rc == NGX_OK) {
            s = ngx_array_push(good.redirect_uris);
            if (s == NULL) {
                abort();
            }
            *s = vals[i];
        }
    }

    for (i = 0; i < n; i++) {
        check_match(&all, &vals[i], 0);
        check_match(&good, &vals[i], 1);
    }

done:

    ref_free(&rp);
    ngx_destroy_pool(pool);
    mcp_fuzz_input_done(in, data, size);

    return 0;
}
