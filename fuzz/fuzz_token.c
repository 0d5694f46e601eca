
/*
 * The Authorization request header (rs/ngx_http_mcp_oauth_bearer.c), driven
 * with a fake request that holds only what the two functions read:
 *
 *  - ngx_http_mcp_oauth_token_get(): the bearer token out of the header
 *    value, and ngx_http_mcp_oauth_token_check(): whether it is a b64token;
 *  - ngx_http_mcp_oauth_token_remove(): the header taken out of
 *    r->headers_in.headers (an ngx_list_t of several parts) with every
 *    pointer r->headers_in keeps to a later element of the same part moved
 *    down with it.
 *
 * Input: a 16-byte control block, then the header value.
 *   [0]      elements per list part (1..8)
 *   [1]      number of headers (1..24)
 *   [2]      which one is Authorization
 *   [3..10]  the header each of 8 r->headers_in pointers refers to
 *   [11..16] the headers of x_forwarded_for and cookies (3 each): arrays
 *            of pointers before nginx 1.23.0, chains through "next" since
 *            (a header then in one chain at most)
 * (a missing control byte is 0; an index past the headers means NULL)
 *
 * Checked beyond "no sanitizer report":
 *  - token_get: NGX_OK only for "Bearer" + spaces + a token, the token
 *    inside the value without the spaces around it; NGX_DECLINED only for
 *    another scheme; token_check: NGX_OK exactly when every byte of the
 *    token is a b64token byte (its 16- and 8-byte steps agree with the
 *    byte-by-byte definition);
 *  - token_remove: the list is the same minus Authorization, in order, its
 *    elements intact; every pointer still refers to the same header; the
 *    strings in headers_in are untouched.
 */

#include "fuzz_common.h"
#include <ngx_http.h>

#include "ngx_http_mcp_oauth_module.h"


#define CTL      17
#define NPTR     8
#define NARR     3


static int
b64token(u_char c)
{
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z')
           || (c >= '0' && c <= '9') || c == '-' || c == '.' || c == '_'
           || c == '~' || c == '+' || c == '/' || c == '=';
}


static ngx_uint_t
value_index(ngx_str_t *v)
{
    size_t      i;
    ngx_uint_t  n;

    n = 0;

    for (i = 1; i < v->len; i++) {
        n = n * 10 + (v->data[i] - '0');
    }

    return n;
}


static void
check_get(ngx_http_request_t *r, u_char *v, size_t len)
{
    char       *err;
    size_t      i;
    ngx_int_t   rc;
    ngx_str_t   token;

    err = NULL;
    token.data = NULL;
    token.len = 0;

    rc = ngx_http_mcp_oauth_token_get(r, &token, &err);

    if (len < 6 || ngx_strncasecmp(v, (u_char *) "Bearer", 6) != 0
        || (len > 6 && v[6] != ' '))
    {
        MCP_FUZZ_CHECK(rc == NGX_DECLINED, "not Bearer, rc %ld", (long) rc);
        return;
    }

    if (rc == NGX_ERROR) {
        MCP_FUZZ_CHECK(err != NULL, "NGX_ERROR without err");
        return;
    }

    MCP_FUZZ_CHECK(rc == NGX_OK, "Bearer, rc %ld", (long) rc);
    MCP_FUZZ_CHECK(token.len > 0 && mcp_fuzz_within(token.data, token.len,
                                                    v + 6, len - 6),
                   "token outside the header value");
    MCP_FUZZ_CHECK(token.data[0] != ' ' && token.data[token.len - 1] != ' ',
                   "spaces kept around the token");

    for (i = 0; i < token.len && b64token(token.data[i]); i++) {
        /* void */
    }

    MCP_FUZZ_CHECK((ngx_http_mcp_oauth_token_check(&token) == NGX_OK)
                   == (i == token.len),
                   "token_check says %s, byte %zu of %zu is 0x%02x",
                   i == token.len ? "malformed" : "b64token", i, token.len,
                   i < token.len ? token.data[i] : 0);

    for (i = 6; v + i < token.data; i++) {
        MCP_FUZZ_CHECK(v[i] == ' ', "token does not follow the scheme");
    }

    for (i = token.data + token.len - v; i < len; i++) {
        MCP_FUZZ_CHECK(v[i] == ' ', "bytes after the token");
    }
}


/*
 * The repeated headers x_forwarded_for and cookies: xff[] and ck[] get the
 * index of each header they hold, n when none.
 */

#if (nginx_version < 1023000)

static void
repeated_set(ngx_http_headers_in_t *hi, ngx_table_elt_t **elt, u_char *ctl,
    ngx_uint_t n, ngx_uint_t auth, ngx_uint_t *xff, ngx_uint_t *ck)
{
    ngx_uint_t        k;
    ngx_table_elt_t **a;

    if (ngx_array_init(&hi->x_forwarded_for, hi->headers.pool, 1,
                       sizeof(ngx_table_elt_t *)) != NGX_OK
        || ngx_array_init(&hi->cookies, hi->headers.pool, 1,
                          sizeof(ngx_table_elt_t *))
           != NGX_OK)
    {
        abort();
    }

    for (k = 0; k < NARR; k++) {
        xff[k] = ctl[k] % (n + 1);
        ck[k] = ctl[NARR + k] % (n + 1);

        if (xff[k] < n && xff[k] != auth) {
            a = ngx_array_push(&hi->x_forwarded_for);
            if (a == NULL) {
                abort();
            }
            *a = elt[xff[k]];

        } else {
            xff[k] = n;
        }

        if (ck[k] < n && ck[k] != auth) {
            a = ngx_array_push(&hi->cookies);
            if (a == NULL) {
                abort();
            }
            *a = elt[ck[k]];

        } else {
            ck[k] = n;
        }
    }
}


static void
repeated_check(ngx_array_t *arr, const char *name, ngx_table_elt_t **elt,
    ngx_uint_t n, ngx_uint_t *idx)
{
    ngx_uint_t        i, k;
    ngx_table_elt_t **a;

    a = arr->elts;

    for (k = 0, i = 0; k < NARR; k++) {
        if (idx[k] < n) {
            MCP_FUZZ_CHECK(a[i] == elt[idx[k]], "%s %lu lost its header",
                           name, (unsigned long) i);
            i++;
        }
    }
}

#define repeated_xff(hi)      &(hi)->x_forwarded_for
#define repeated_cookies(hi)  &(hi)->cookies

#else

static ngx_table_elt_t *
repeated_chain(ngx_table_elt_t **elt, u_char *ctl, ngx_uint_t n,
    ngx_uint_t auth, u_char *used, ngx_uint_t *idx)
{
    ngx_uint_t        k;
    ngx_table_elt_t  *head, **next;

    head = NULL;
    next = &head;

    for (k = 0; k < NARR; k++) {
        idx[k] = ctl[k] % (n + 1);

        if (idx[k] >= n || idx[k] == auth || used[idx[k]]) {
            idx[k] = n;
            continue;
        }

        used[idx[k]] = 1;
        *next = elt[idx[k]];
        next = &elt[idx[k]]->next;
    }

    return head;
}


static void
repeated_set(ngx_http_headers_in_t *hi, ngx_table_elt_t **elt, u_char *ctl,
    ngx_uint_t n, ngx_uint_t auth, ngx_uint_t *xff, ngx_uint_t *ck)
{
    u_char  used[24];

    ngx_memzero(used, sizeof(used));

    hi->x_forwarded_for = repeated_chain(elt, ctl, n, auth, used, xff);
    hi->cookie = repeated_chain(elt, ctl + NARR, n, auth, used, ck);
}


static void
repeated_check(ngx_table_elt_t **chain, const char *name,
    ngx_table_elt_t **elt, ngx_uint_t n, ngx_uint_t *idx)
{
    ngx_uint_t        i, k;
    ngx_table_elt_t  *h;

    h = *chain;

    for (k = 0, i = 0; k < NARR; k++) {
        if (idx[k] < n) {
            MCP_FUZZ_CHECK(h == elt[idx[k]], "%s %lu lost its header",
                           name, (unsigned long) i);
            h = h->next;
            i++;
        }
    }

    MCP_FUZZ_CHECK(h == NULL, "%s: a header past its end", name);
}

#define repeated_xff(hi)      &(hi)->x_forwarded_for
#define repeated_cookies(hi)  &(hi)->cookie

#endif


int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    u_char                *in, ctl[CTL];
    size_t                 len;
    ngx_uint_t             nalloc, n, auth, i, k, idx[NPTR], xff[NARR],
                           ck[NARR], seen;
    ngx_pool_t            *pool;
    ngx_list_part_t       *part;
    ngx_table_elt_t       *h, **ptr[NPTR], *elt[24];
    ngx_http_request_t    *r;
    ngx_http_headers_in_t *hi;
    ngx_str_t              user, passwd, server;

    mcp_fuzz_init(NGX_LOG_DEBUG);

    memset(ctl, 0, sizeof(ctl));
    memcpy(ctl, data, ngx_min(size, CTL));

    len = size > CTL ? size - CTL : 0;
    in = mcp_fuzz_input(data + (size - len), len);

    pool = mcp_fuzz_pool();

    r = ngx_pcalloc(pool, sizeof(ngx_http_request_t));
    if (r == NULL) {
        abort();
    }

    hi = &r->headers_in;

    nalloc = ctl[0] % 8 + 1;
    n = ctl[1] % 24 + 1;
    auth = ctl[2] % n;

    if (ngx_list_init(&hi->headers, pool, nalloc, sizeof(ngx_table_elt_t))
        != NGX_OK)
    {
        abort();
    }

    for (i = 0; i < n; i++) {
        h = ngx_list_push(&hi->headers);
        if (h == NULL) {
            abort();
        }

        h->hash = i + 1;
#if (nginx_version >= 1023000)
        h->next = NULL;
#endif

        if (i == auth) {
            ngx_str_set(&h->key, "Authorization");
            h->value.data = in;
            h->value.len = len;

        } else {
            /* the index in the key and the value, each an allocation */
            h->key.data = ngx_pnalloc(pool, 8);
            h->value.data = ngx_pnalloc(pool, 8);
            if (h->key.data == NULL || h->value.data == NULL) {
                abort();
            }

            h->key.len = ngx_sprintf(h->key.data, "X-%ui", i) - h->key.data;
            h->value.len = ngx_sprintf(h->value.data, "v%ui", i)
                           - h->value.data;
        }

        h->lowcase_key = h->key.data;
        elt[i] = h;
    }

    hi->authorization = elt[auth];

    /* pointers before and after "authorization" in headers_in */

    ptr[0] = &hi->host;
    ptr[1] = &hi->connection;
    ptr[2] = &hi->user_agent;
    ptr[3] = &hi->content_type;
    ptr[4] = &hi->upgrade;
    ptr[5] = &hi->keep_alive;
    ptr[6] = &hi->accept;
    ptr[7] = &hi->date;

    for (k = 0; k < NPTR; k++) {
        idx[k] = ctl[3 + k] % (n + 1);
        if (idx[k] == auth) {
            idx[k] = n;
        }

        *ptr[k] = (idx[k] < n) ? elt[idx[k]] : NULL;
    }

    repeated_set(hi, elt, ctl + 11, n, auth, xff, ck);

    /* strings into header values: not pointers to elements */

    user = elt[0]->value;
    passwd = elt[n - 1]->value;
    server = elt[n / 2]->value;
    hi->user = user;
    hi->passwd = passwd;
    hi->server = server;
    hi->content_length_n = -1;

    /* the value */

    check_get(r, in, len);

    /* the removal */

    MCP_FUZZ_CHECK(ngx_http_mcp_oauth_token_remove(r) == NGX_OK,
                   "token_remove failed");
    MCP_FUZZ_CHECK(hi->authorization == NULL, "authorization still set");

    seen = 0;

    for (part = &hi->headers.part; part; part = part->next) {
        h = part->elts;

        for (i = 0; i < part->nelts; i++) {
            if (seen == auth) {
                seen++;
            }

            MCP_FUZZ_CHECK(seen < n && h[i].hash == seen + 1,
                           "header %lu in the list is not header %lu",
                           (unsigned long) seen,
                           (unsigned long) h[i].hash - 1);
            MCP_FUZZ_CHECK(h[i].value.data[0] == 'v'
                           && value_index(&h[i].value) == seen,
                           "header %lu: value corrupted",
                           (unsigned long) seen);

            elt[seen] = &h[i];
            seen++;
        }
    }

    if (seen == auth) {
        seen++;
    }

    MCP_FUZZ_CHECK(seen == n, "%lu headers after the removal, %lu expected",
                   (unsigned long) seen, (unsigned long) n);

    for (k = 0; k < NPTR; k++) {
        MCP_FUZZ_CHECK(*ptr[k] == (idx[k] < n ? elt[idx[k]] : NULL),
                       "headers_in pointer %lu does not refer to header %lu",
                       (unsigned long) k, (unsigned long) idx[k]);
    }

    repeated_check(repeated_xff(hi), "x_forwarded_for", elt, n, xff);
    repeated_check(repeated_cookies(hi), "cookies", elt, n, ck);

    MCP_FUZZ_CHECK(hi->user.data == user.data && hi->user.len == user.len
                   && hi->passwd.data == passwd.data
                   && hi->server.data == server.data
                   && hi->content_length_n == -1,
                   "headers_in strings changed");

    ngx_destroy_pool(pool);
    mcp_fuzz_input_done(in, data + (size - len), len);

    return 0;
}
