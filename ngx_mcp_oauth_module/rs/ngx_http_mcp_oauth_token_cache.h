
/*
 * ngx_mcp_oauth_module: the verified-token cache, a shared zone that lets a
 * token seen before skip decoding and signature verification.
 */

#ifndef _NGX_HTTP_MCP_OAUTH_CACHE_H_INCLUDED_
#define _NGX_HTTP_MCP_OAUTH_CACHE_H_INCLUDED_


#include <ngx_config.h>
#include <ngx_core.h>

#include "ngx_http_mcp_oauth_jwt.h"


/* what verified the token: an entry is only good for the same keys */
typedef struct {
    uintptr_t                     file;        /* mcp_oauth_jwks keyset */
    uintptr_t                     remote;      /* mcp_oauth_jwks_request */
    ngx_uint_t                    generation;  /* of the fetched keys */
} ngx_http_mcp_oauth_cache_keys_t;


ngx_shm_zone_t *ngx_http_mcp_oauth_cache_zone(ngx_conf_t *cf, size_t size);

/* NGX_OK: found, *c filled from r's pool; NGX_DECLINED: not there */
ngx_int_t ngx_http_mcp_oauth_cache_get(ngx_shm_zone_t *zone, ngx_pool_t *pool,
    ngx_str_t *token, ngx_http_mcp_oauth_cache_keys_t *keys, time_t now,
    ngx_http_mcp_oauth_claims_t *c);

void ngx_http_mcp_oauth_cache_put(ngx_shm_zone_t *zone, ngx_str_t *token,
    ngx_http_mcp_oauth_cache_keys_t *keys, ngx_http_mcp_oauth_claims_t *c);

/* forgets a token on this node (revocation) */
void ngx_http_mcp_oauth_cache_drop(ngx_shm_zone_t *zone, ngx_str_t *token);


#endif /* _NGX_HTTP_MCP_OAUTH_CACHE_H_INCLUDED_ */
