
/*
 * ngx_mcp_oauth_module fuzzing: independent implementations of what the
 * authorization server's redirect URI and scope checks are documented to
 * do (docs/authorization-server.md, the comments of
 * ngx_http_mcp_oauth_as_parse.c), shared by fuzz_as_params.c and
 * fuzz_registration.c.  Plain byte comparisons: NUL bytes compare as any
 * other byte.
 */

#ifndef _MCP_FUZZ_AS_REF_H_INCLUDED_
#define _MCP_FUZZ_AS_REF_H_INCLUDED_


#include "fuzz_common.h"
#include <ctype.h>


/* the allow-list of docs/authorization-server.md */

static char  *allow_doc[] = {
    "loopback",
    "https://chatgpt.com/connector_platform_oauth_redirect",
    "https://chatgpt.com/connector/oauth/*",
    "https://claude.ai/api/mcp/auth_callback",
    "https://claude.com/api/mcp/auth_callback",
};

#define NALLOW_DOC  (sizeof(allow_doc) / sizeof(allow_doc[0]))


static ngx_array_t *
mcp_fuzz_allow_doc(ngx_pool_t *pool)
{
    ngx_str_t    *s;
    ngx_uint_t    i;
    ngx_array_t  *a;

    a = ngx_array_create(pool, NALLOW_DOC, sizeof(ngx_str_t));
    if (a == NULL) {
        abort();
    }

    for (i = 0; i < NALLOW_DOC; i++) {
        s = ngx_array_push(a);
        if (s == NULL) {
            abort();
        }

        s->data = (u_char *) allow_doc[i];
        s->len = strlen(allow_doc[i]);
    }

    return a;
}


static int
has_nul(ngx_str_t *s)
{
    return s->len && memchr(s->data, '\0', s->len) != NULL;
}


/* every space-separated token of "scope" is a token of "of" */

static int
ref_token_in(const u_char *t, size_t tl, ngx_str_t *of)
{
    size_t  s, e;

    for (s = 0; s <= of->len; s = e + 1) {
        for (e = s; e < of->len && of->data[e] != ' '; e++) { /* void */ }

        if (e - s == tl && memcmp(of->data + s, t, tl) == 0) {
            return 1;
        }

        if (e == of->len) {
            break;
        }
    }

    return 0;
}


static ngx_int_t
ref_subset(ngx_str_t *scope, ngx_str_t *of)
{
    size_t  s, e;

    for (s = 0; s < scope->len; s = e) {
        if (scope->data[s] == ' ') {
            e = s + 1;
            continue;
        }

        for (e = s; e < scope->len && scope->data[e] != ' '; e++) {
            /* void */
        }

        if (!ref_token_in(scope->data + s, e - s, of)) {
            return NGX_DECLINED;
        }
    }

    return NGX_OK;
}


/* "normal" is "scope" with single spaces, each scope once, in its order */

static int
ref_scope_normal(ngx_pool_t *pool, ngx_str_t *scope, ngx_str_t *normal)
{
    size_t     s, e;
    ngx_str_t  out;

    out.data = ngx_pnalloc(pool, scope->len + 1);
    out.len = 0;

    for (s = 0; s < scope->len; s = e) {
        if (scope->data[s] == ' ') {
            e = s + 1;
            continue;
        }

        for (e = s; e < scope->len && scope->data[e] != ' '; e++) {
            /* void */
        }

        if (ref_token_in(scope->data + s, e - s, &out)) {
            continue;
        }

        if (out.len) {
            out.data[out.len++] = ' ';
        }

        memcpy(out.data + out.len, scope->data + s, e - s);
        out.len += e - s;
    }

    return out.len == normal->len
           && memcmp(out.data, normal->data, out.len) == 0;
}



static int
prefix_ci(ngx_str_t *s, const char *p)
{
    size_t  i, n;

    n = strlen(p);

    if (s->len < n) {
        return 0;
    }

    for (i = 0; i < n; i++) {
        if (tolower(s->data[i]) != p[i]) {
            return 0;
        }
    }

    return 1;
}


/*
 * http://127.0.0.1, http://[::1] or http://localhost (any case), an optional
 * ":" and digits, then the end, a path or a query; *rest: from there
 */

static ngx_int_t
ref_loopback(ngx_str_t *uri, size_t *rest, size_t *hlen)
{
    size_t       i, p;
    static const char  *hosts[] = {
        "http://127.0.0.1", "http://[::1]", "http://localhost"
    };

    for (i = 0; i < 3; i++) {
        if (prefix_ci(uri, hosts[i])) {
            break;
        }
    }

    if (i == 3) {
        return NGX_DECLINED;
    }

    p = strlen(hosts[i]);
    *hlen = p;

    if (p < uri->len && uri->data[p] == ':') {
        for (p++; p < uri->len && isdigit(uri->data[p]); p++) { /* void */ }
    }

    if (p < uri->len && uri->data[p] != '/' && uri->data[p] != '?') {
        return NGX_DECLINED;
    }

    *rest = p;

    return NGX_OK;
}


/*
 * the path from "from" to "?" or the end: no segment "." or "..", no
 * "%2e", "%2f" or "%5c" in any case
 */

static int
ref_path_plain(ngx_str_t *uri, size_t from)
{
    size_t  i, end, seg;

    for (end = from; end < uri->len && uri->data[end] != '?'; end++) {
        /* void */
    }

    for (i = from; i + 3 <= end; i++) {
        if (strncasecmp((char *) uri->data + i, "%2e", 3) == 0
            || strncasecmp((char *) uri->data + i, "%2f", 3) == 0
            || strncasecmp((char *) uri->data + i, "%5c", 3) == 0)
        {
            return 0;
        }
    }

    for (seg = from; seg < end; seg = i + 1) {
        for (i = seg; i < end && uri->data[i] != '/'; i++) {
            /* void */
        }

        if ((i - seg == 1 && uri->data[seg] == '.')
            || (i - seg == 2 && memcmp(uri->data + seg, "..", 2) == 0))
        {
            return 0;
        }
    }

    return 1;
}


static ngx_int_t
ref_redirect_check(ngx_array_t *allow, ngx_str_t *uri)
{
    size_t       i, rest, hlen;
    u_char       c;
    ngx_str_t   *pat;
    ngx_uint_t   k, loopback;

    if (uri->len > 2048) {
        return NGX_DECLINED;
    }

    for (i = 0; i < uri->len; i++) {
        c = uri->data[i];

        if (c <= 0x20 || c >= 0x7f || strchr("#\"<>\\", c) != NULL) {
            return NGX_DECLINED;
        }
    }

    loopback = (ref_loopback(uri, &rest, &hlen) == NGX_OK);

    if (!loopback) {
        if (uri->len <= 8 || memcmp(uri->data, "https://", 8) != 0
            || uri->data[8] == '/' || uri->data[8] == '?'
            || memchr(uri->data + 8, '@', uri->len - 8) != NULL)
        {
            return NGX_DECLINED;
        }

        for (rest = 8; rest < uri->len && uri->data[rest] != '/'
                       && uri->data[rest] != '?'; rest++)
        {
            /* the authority */
        }
    }

    if (!ref_path_plain(uri, rest)) {
        return NGX_DECLINED;
    }

    if (allow == NULL) {
        return NGX_OK;
    }

    pat = allow->elts;

    for (k = 0; k < allow->nelts; k++) {
        if (strcmp((char *) pat[k].data, "loopback") == 0) {
            if (loopback) {
                return NGX_OK;
            }

        } else if (pat[k].data[pat[k].len - 1] == '*') {
            if (uri->len >= pat[k].len - 1
                && memcmp(uri->data, pat[k].data, pat[k].len - 1) == 0)
            {
                return NGX_OK;
            }

        } else if (pat[k].len == uri->len
                   && memcmp(uri->data, pat[k].data, uri->len) == 0)
        {
            return NGX_OK;
        }
    }

    return NGX_DECLINED;
}


#endif /* _MCP_FUZZ_AS_REF_H_INCLUDED_ */
