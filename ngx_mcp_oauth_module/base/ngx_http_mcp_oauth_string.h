
/*
 * ngx_mcp_oauth_module: strings both halves write and read the same way:
 * base64url (RFC 4648 §5, unpadded as JOSE has it, RFC 7515 §2), hex
 * digits, and lists of strings (scopes: each once, space-joined, RFC 6749
 * §3.3).
 */

#ifndef _NGX_HTTP_MCP_OAUTH_STRING_H_INCLUDED_
#define _NGX_HTTP_MCP_OAUTH_STRING_H_INCLUDED_


#include <ngx_config.h>
#include <ngx_core.h>

/* x86-64 has SSE2 always; elsewhere the scanners go a word at a time */
#if (defined __SSE2__ && (defined __GNUC__ || defined __clang__))
#include <emmintrin.h>
#define NGX_HTTP_MCP_OAUTH_SSE2  1

/* and AVX2 or AVX-512 where the CPU has it, chosen when the module runs */
#if (defined __x86_64__                                                     \
     && (defined __clang__ || __GNUC__ > 4 || __GNUC_MINOR__ >= 9))
#include <immintrin.h>
#define NGX_HTTP_MCP_OAUTH_AVX2  1
#if (defined __clang__ || __GNUC__ >= 5)
#define NGX_HTTP_MCP_OAUTH_AVX512  1
#endif
#endif
#endif


/* base64url, unpadded, into out from pool */
ngx_int_t ngx_http_mcp_oauth_b64url(ngx_pool_t *pool, u_char *data,
    size_t len, ngx_str_t *out);

/* strict: no padding, no other characters; dst->data has room for it */
ngx_int_t ngx_http_mcp_oauth_b64url_decode(ngx_str_t *dst, ngx_str_t *src);

/* NGX_OK: base64url characters only, min to max of them (RFC 7636 §4.1) */
ngx_int_t ngx_http_mcp_oauth_b64url_check(ngx_str_t *s, size_t min,
    size_t max);

/* a hex digit's value, 16 for anything else */
ngx_uint_t ngx_http_mcp_oauth_hex(u_char c);

/*
 * A 32-bit hash of a long key 8 bytes a step, for lookups that compare the
 * whole key after the hash (an rbtree's equal hashes are ordered by key).
 */
uint32_t ngx_http_mcp_oauth_hash(u_char *p, size_t len);

/* NGX_OK: the array of ngx_str_t holds s; NGX_DECLINED: not */
ngx_int_t ngx_http_mcp_oauth_str_find(ngx_array_t *a, ngx_str_t *s);

/* adds s to the array of ngx_str_t unless it holds s already */
ngx_int_t ngx_http_mcp_oauth_str_add_once(ngx_array_t *a, ngx_str_t *s);

/* the array's strings joined with single spaces (none: an empty string) */
ngx_int_t ngx_http_mcp_oauth_str_join(ngx_pool_t *pool, ngx_array_t *a,
    ngx_str_t *out);


#endif /* _NGX_HTTP_MCP_OAUTH_STRING_H_INCLUDED_ */
