
/*
 * ngx_mcp_oauth_module: the state both halves share (state/), today one
 * shared-memory zone per server: the authorization server's codes, grants,
 * consents, cached metadata documents, and the revocations the resource
 * server asks about.  Entries are keyed by a SHA-256 of what they are for.
 */

#ifndef _NGX_HTTP_MCP_OAUTH_STATE_H_INCLUDED_
#define _NGX_HTTP_MCP_OAUTH_STATE_H_INCLUDED_


#include <ngx_config.h>
#include <ngx_core.h>


/* entries of the state zone */
enum {
    NGX_HTTP_MCP_OAUTH_ENTRY_CODE = 1,
    NGX_HTTP_MCP_OAUTH_ENTRY_REFRESH,
    NGX_HTTP_MCP_OAUTH_ENTRY_REVOKED,
    NGX_HTTP_MCP_OAUTH_ENTRY_CONSENT,
    NGX_HTTP_MCP_OAUTH_ENTRY_DOCUMENT
};


/*
 * What the resource server may know of its server's authorization server:
 * the first member of the server configuration, filled by as/ when the
 * server is one.
 */
typedef struct {
    ngx_str_t                     issuer;      /* empty: none here */
    ngx_shm_zone_t               *zone;        /* its state */
} ngx_http_mcp_oauth_issued_t;


/* the zone */
ngx_shm_zone_t *ngx_http_mcp_oauth_store_zone(ngx_conf_t *cf, ngx_str_t *name,
    size_t size);
ngx_int_t ngx_http_mcp_oauth_store_put(ngx_shm_zone_t *zone, u_char *key,
    ngx_uint_t type, time_t expires, ngx_str_t *data, ngx_log_t *log);
ngx_int_t ngx_http_mcp_oauth_store_swap(ngx_shm_zone_t *zone, u_char *key,
    ngx_uint_t type, time_t expires, ngx_str_t *old, ngx_str_t *data,
    ngx_log_t *log);
void ngx_http_mcp_oauth_store_delete(ngx_shm_zone_t *zone, u_char *key);
ngx_int_t ngx_http_mcp_oauth_store_get(ngx_shm_zone_t *zone, u_char *key,
    ngx_uint_t type, ngx_pool_t *pool, ngx_str_t *data, ngx_uint_t use);
ngx_uint_t ngx_http_mcp_oauth_store_revocations(ngx_shm_zone_t *zone);
ngx_int_t ngx_http_mcp_oauth_record_add(ngx_pool_t *pool, ngx_str_t *rec,
    ngx_str_t *fields, ngx_uint_t n);
ngx_int_t ngx_http_mcp_oauth_record_get(ngx_str_t *rec, ngx_str_t *fields,
    ngx_uint_t n);

/* keys */
void ngx_http_mcp_oauth_sha256(ngx_str_t *prefix, ngx_str_t *value,
    u_char *digest);
void ngx_http_mcp_oauth_sha256_parts(ngx_str_t **parts, ngx_uint_t n,
    u_char *digest);

/* revoked grants: written by the authorization server, asked by both */
ngx_int_t ngx_http_mcp_oauth_state_revoke(ngx_shm_zone_t *zone,
    ngx_str_t *sid, time_t expires, ngx_log_t *log);
ngx_int_t ngx_http_mcp_oauth_state_revoked(ngx_shm_zone_t *zone,
    ngx_str_t *sid);


#endif /* _NGX_HTTP_MCP_OAUTH_STATE_H_INCLUDED_ */
