
/*
 * ngx_mcp_oauth_module: base64url, hex digits and string lists, written
 * once for the JOSE code, the resource server and the authorization server.
 */

#include <ngx_config.h>
#include <ngx_core.h>

#include "ngx_http_mcp_oauth_string.h"


ngx_int_t
ngx_http_mcp_oauth_b64url(ngx_pool_t *pool, u_char *data, size_t len,
    ngx_str_t *out)
{
    ngx_str_t  src;

    out->data = ngx_pnalloc(pool, ngx_base64_encoded_length(len));
    if (out->data == NULL) {
        return NGX_ERROR;
    }

    src.data = data;
    src.len = len;
    ngx_encode_base64url(out, &src);

    return NGX_OK;
}


/*
 * nginx's decoder refuses every byte outside the base64url alphabet and a
 * length of 4n + 1, but takes "=" for the end: unpadded base64url (RFC
 * 7515, section 2) has none
 */

ngx_int_t
ngx_http_mcp_oauth_b64url_decode(ngx_str_t *dst, ngx_str_t *src)
{
    if (src->len && memchr(src->data, '=', src->len) != NULL) {
        return NGX_ERROR;
    }

    return ngx_decode_base64url(dst, src);
}


ngx_int_t
ngx_http_mcp_oauth_b64url_check(ngx_str_t *s, size_t min, size_t max)
{
    u_char  *p, c;

    if (s->len < min || s->len > max) {
        return NGX_DECLINED;
    }

    for (p = s->data; p < s->data + s->len; p++) {
        c = *p;

        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z')
              || (c >= '0' && c <= '9') || c == '-' || c == '_'))
        {
            return NGX_DECLINED;
        }
    }

    return NGX_OK;
}


ngx_uint_t
ngx_http_mcp_oauth_hex(u_char c)
{
    if (c >= '0' && c <= '9') {
        return c - '0';
    }

    c |= 0x20;

    if (c >= 'a' && c <= 'f') {
        return c - 'a' + 10;
    }

    return 16;
}


ngx_int_t
ngx_http_mcp_oauth_str_find(ngx_array_t *a, ngx_str_t *s)
{
    ngx_str_t   *e;
    ngx_uint_t   i;

    e = a->elts;

    for (i = 0; i < a->nelts; i++) {
        if (e[i].len == s->len && ngx_memcmp(e[i].data, s->data, s->len) == 0)
        {
            return NGX_OK;
        }
    }

    return NGX_DECLINED;
}


ngx_int_t
ngx_http_mcp_oauth_str_add_once(ngx_array_t *a, ngx_str_t *s)
{
    ngx_str_t  *e;

    if (ngx_http_mcp_oauth_str_find(a, s) == NGX_OK) {
        return NGX_OK;
    }

    e = ngx_array_push(a);
    if (e == NULL) {
        return NGX_ERROR;
    }

    *e = *s;

    return NGX_OK;
}


ngx_int_t
ngx_http_mcp_oauth_str_join(ngx_pool_t *pool, ngx_array_t *a, ngx_str_t *out)
{
    u_char      *p;
    size_t       len;
    ngx_str_t   *s;
    ngx_uint_t   i;

    s = a->elts;
    len = 0;

    for (i = 0; i < a->nelts; i++) {
        len += s[i].len + 1;
    }

    if (len == 0) {
        ngx_str_null(out);
        return NGX_OK;
    }

    p = ngx_pnalloc(pool, len);
    if (p == NULL) {
        return NGX_ERROR;
    }

    out->data = p;

    for (i = 0; i < a->nelts; i++) {
        if (i) {
            *p++ = ' ';
        }

        p = ngx_cpymem(p, s[i].data, s[i].len);
    }

    out->len = p - out->data;

    return NGX_OK;
}


/*
 * Each word is mixed in with a multiplication by a large odd constant (the
 * golden ratio's, as in Fibonacci hashing) and the high half folded down;
 * the tail is read as one more word, zero-padded.  A third of murmur2's
 * instructions on a JWT: what the token cache hashes on every request.
 */

uint32_t
ngx_http_mcp_oauth_hash(u_char *p, size_t len)
{
    uint64_t  h, w;

    h = len * 0x9e3779b97f4a7c15ULL;

    for ( /* void */ ; len >= 8; len -= 8, p += 8) {
        ngx_memcpy(&w, p, 8);
        h = (h ^ w) * 0x9e3779b97f4a7c15ULL;
        h ^= h >> 32;
    }

    if (len) {
        w = 0;
        ngx_memcpy(&w, p, len);
        h = (h ^ w) * 0x9e3779b97f4a7c15ULL;
        h ^= h >> 32;
    }

    return (uint32_t) h;
}
