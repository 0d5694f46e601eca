
/*
 * ngx_mcp_oauth_module: the bearer token in the Authorization request
 * header (RFC 6750 §2.1), and its removal before the request goes upstream
 * (MCP security best practices: no token passthrough).
 */

#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include "ngx_http_mcp_oauth_module.h"
#include "ngx_http_mcp_oauth_string.h"


#if (NGX_HTTP_MCP_OAUTH_SSE2)
static ngx_inline ngx_uint_t ngx_http_mcp_oauth_b64token16(u_char *p);
#endif
static void ngx_http_mcp_oauth_rebase(void *mem, size_t size, u_char *lo,
    u_char *hi);


/*
 * NGX_DECLINED: no bearer credentials at all (no header, another scheme);
 * NGX_ERROR: a Bearer header that carries no usable token;
 * NGX_OK: *token points into the header value.
 */

ngx_int_t
ngx_http_mcp_oauth_token_get(ngx_http_request_t *r, ngx_str_t *token,
    char **err)
{
    u_char           *p, *last;
    ngx_table_elt_t  *h;

    h = r->headers_in.authorization;

    if (h == NULL) {
        return NGX_DECLINED;
    }

    p = h->value.data;
    last = p + h->value.len;

    /* the scheme is case-insensitive (RFC 7235 §2.1) */

    if (h->value.len < sizeof("Bearer") - 1
        || ngx_strncasecmp(p, (u_char *) "Bearer", sizeof("Bearer") - 1) != 0
        || (h->value.len > sizeof("Bearer") - 1
            && p[sizeof("Bearer") - 1] != ' '))
    {
        return NGX_DECLINED;
    }

    p += sizeof("Bearer") - 1;

    while (p < last && *p == ' ') {
        p++;
    }

    while (last > p && last[-1] == ' ') {
        last--;
    }

    if (p == last) {
        *err = "empty bearer token";
        return NGX_ERROR;
    }

    token->data = p;
    token->len = last - p;

    return NGX_OK;
}


/*
 * Whether the token is a b64token (RFC 6750 §2.1).  Asked only of a token
 * the verified-token cache does not hold: one it holds passed before.
 */

ngx_int_t
ngx_http_mcp_oauth_token_check(ngx_str_t *token)
{
    u_char  *p, *last;

    /* b64token = 1*( ALPHA / DIGIT / "-" / "." / "_" / "~" / "+" / "/" ) *"=" */

    static const u_char  b64token[256] = {
        0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
        0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
        0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0, 1, 1, 1,   /* + - . / */
        1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 0, 0, 0, 1, 0, 0,   /* 0-9 = */
        0, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,   /* A-O */
        1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 0, 0, 0, 0, 1,   /* P-Z _ */
        0, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,   /* a-o */
        1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 0, 0, 0, 1, 0    /* p-z ~ */
    };

    p = token->data;
    last = p + token->len;

    /* a JWT is ~300-1000 bytes: 16 bytes a step, or 8 lookups a step */

#if (NGX_HTTP_MCP_OAUTH_SSE2)
    while (last - p >= 16 && ngx_http_mcp_oauth_b64token16(p)) {
        p += 16;
    }
#endif

    while (last - p >= 8
           && (b64token[p[0]] & b64token[p[1]] & b64token[p[2]]
               & b64token[p[3]] & b64token[p[4]] & b64token[p[5]]
               & b64token[p[6]] & b64token[p[7]]))
    {
        p += 8;
    }

    while (p < last && b64token[*p]) {
        p++;
    }

    return (p == last) ? NGX_OK : NGX_ERROR;
}


#if (NGX_HTTP_MCP_OAUTH_SSE2)

/*
 * Whether all 16 bytes are of b64token, the table above as comparisons
 * (signed: bytes from 0x80 are below every range): "| 0x20" folds A-Z onto
 * a-z, "-./0-9" is one range, and "+", "=", "_", "~" are four more.
 */

static ngx_inline ngx_uint_t
ngx_http_mcp_oauth_b64token16(u_char *p)
{
    __m128i  v, lower, ok;

    v = _mm_loadu_si128((__m128i *) p);
    lower = _mm_or_si128(v, _mm_set1_epi8(0x20));

    ok = _mm_and_si128(_mm_cmpgt_epi8(lower, _mm_set1_epi8(0x60)),
                       _mm_cmpgt_epi8(_mm_set1_epi8(0x7b), lower));

    ok = _mm_or_si128(ok,
                      _mm_and_si128(_mm_cmpgt_epi8(v, _mm_set1_epi8(0x2c)),
                                    _mm_cmpgt_epi8(_mm_set1_epi8(0x3a), v)));

    ok = _mm_or_si128(ok,
                      _mm_or_si128(
                          _mm_or_si128(_mm_cmpeq_epi8(v, _mm_set1_epi8('+')),
                                       _mm_cmpeq_epi8(v, _mm_set1_epi8('='))),
                          _mm_or_si128(_mm_cmpeq_epi8(v, _mm_set1_epi8('_')),
                                       _mm_cmpeq_epi8(v, _mm_set1_epi8('~')))));

    return _mm_movemask_epi8(ok) == 0xffff;
}

#endif


/*
 * Upstream modules send every element of r->headers_in.headers, so the
 * header must leave the list.  The elements after it move down by one, and
 * every pointer r->headers_in keeps to one of them is moved with it.
 */

ngx_int_t
ngx_http_mcp_oauth_token_remove(ngx_http_request_t *r)
{
    ngx_table_elt_t  *h;

    h = r->headers_in.authorization;

    if (h == NULL) {
        return NGX_OK;
    }

    r->headers_in.authorization = NULL;

    return ngx_http_mcp_oauth_header_remove(r, h);
}


/*
 * Takes one element out of the request's header list.  r->headers_in and
 * the list's elements point at elements: the ones above it move down, and
 * so do those pointers.  A pointer to the element itself is the caller's
 * to clear first.
 */

ngx_int_t
ngx_http_mcp_oauth_header_remove(ngx_http_request_t *r, ngx_table_elt_t *elt)
{
    u_char           *lo, *hi;
    ngx_uint_t        i;
    ngx_list_part_t  *part;
    ngx_table_elt_t  *h;

    part = &r->headers_in.headers.part;
    h = part->elts;

    for (i = 0; /* void */ ; i++) {

        if (i >= part->nelts) {
            if (part->next == NULL) {
                return NGX_ERROR;
            }

            part = part->next;
            h = part->elts;
            i = 0;
        }

        if (&h[i] == elt) {
            break;
        }
    }

    lo = (u_char *) &h[i];
    hi = (u_char *) &h[part->nelts];

    ngx_memmove(&h[i], &h[i + 1],
                (part->nelts - i - 1) * sizeof(ngx_table_elt_t));
    part->nelts--;

    /* the integers the client sets are no pointers: leave them be */

    ngx_http_mcp_oauth_rebase(&r->headers_in,
                              offsetof(ngx_http_headers_in_t,
                                       content_length_n),
                              lo, hi);

#if (nginx_version < 1023000)
#if (NGX_HTTP_X_FORWARDED_FOR)
    ngx_http_mcp_oauth_rebase(r->headers_in.x_forwarded_for.elts,
                              r->headers_in.x_forwarded_for.nelts
                              * sizeof(ngx_table_elt_t *), lo, hi);
#endif
    ngx_http_mcp_oauth_rebase(r->headers_in.cookies.elts,
                              r->headers_in.cookies.nelts
                              * sizeof(ngx_table_elt_t *), lo, hi);
#else
    /* repeated headers are chained through "next" since 1.23.0 */

    part = &r->headers_in.headers.part;

    for ( /* void */ ; part; part = part->next) {
        h = part->elts;

        for (i = 0; i < part->nelts; i++) {
            ngx_http_mcp_oauth_rebase(&h[i].next, sizeof(h[i].next), lo, hi);
        }
    }
#endif

    return NGX_OK;
}


/* pointers into (lo, hi) of a table element array move down one element */

static void
ngx_http_mcp_oauth_rebase(void *mem, size_t size, u_char *lo, u_char *hi)
{
    uintptr_t  *w, *last;

    w = mem;
    last = w + size / sizeof(uintptr_t);

    for ( /* void */ ; w < last; w++) {
        if (*w > (uintptr_t) lo && *w < (uintptr_t) hi
            && (*w - (uintptr_t) lo) % sizeof(ngx_table_elt_t) == 0)
        {
            *w -= sizeof(ngx_table_elt_t);
        }
    }
}
