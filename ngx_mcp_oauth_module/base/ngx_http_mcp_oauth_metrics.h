
/*
 * ngx_mcp_oauth_module: what the module decides, counted in shared memory
 * (every worker's requests once, across reloads) and answered by
 * "mcp_oauth_metrics" in the Prometheus text format (docs/observability.md).
 */

#ifndef _NGX_HTTP_MCP_OAUTH_METRICS_H_INCLUDED_
#define _NGX_HTTP_MCP_OAUTH_METRICS_H_INCLUDED_


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>


/* the metrics, in the order they are answered */
typedef enum {
    NGX_HTTP_MCP_OAUTH_M_REQUESTS = 0,      /* decision, reason */
    NGX_HTTP_MCP_OAUTH_M_METHODS,           /* method */
    NGX_HTTP_MCP_OAUTH_M_TOOL_CALLS,        /* tool, decision */
    NGX_HTTP_MCP_OAUTH_M_JWKS_FETCHES,      /* source, result */
    NGX_HTTP_MCP_OAUTH_M_JWKS_FETCHED,      /* source: its last good fetch */
    NGX_HTTP_MCP_OAUTH_M_JWKS_KEYS,         /* source: keys it has */
    NGX_HTTP_MCP_OAUTH_M_CACHE,             /* result: hit, miss */
    NGX_HTTP_MCP_OAUTH_M_AUTHORIZATIONS,    /* result */
    NGX_HTTP_MCP_OAUTH_M_TOKENS,            /* grant_type */
    NGX_HTTP_MCP_OAUTH_M_TOKEN_ERRORS,      /* error */
    NGX_HTTP_MCP_OAUTH_M_REPLAYS,           /* credential: code... id_jag */
    NGX_HTTP_MCP_OAUTH_M_REVOCATIONS,
    NGX_HTTP_MCP_OAUTH_M_REGISTRATIONS,     /* result */
    NGX_HTTP_MCP_OAUTH_M_CIMD_FETCHES,      /* result */
    NGX_HTTP_MCP_OAUTH_M_IAM_EXCHANGES,     /* result */
    NGX_HTTP_MCP_OAUTH_M_STATE_ERRORS,      /* backend */
    NGX_HTTP_MCP_OAUTH_M_N
} ngx_http_mcp_oauth_metric_e;


/* adds "n" to the series of "m" with these labels (NULL: none) */
void ngx_http_mcp_oauth_metric_add(ngx_http_request_t *r,
    ngx_http_mcp_oauth_metric_e m, const char *l1, size_t len1,
    const char *l2, size_t len2, int64_t n);

/* adds one; the labels stay where they are (literals, configuration) */
void ngx_http_mcp_oauth_metric_add_fixed(ngx_http_request_t *r,
    ngx_http_mcp_oauth_metric_e m, const char *l1, size_t len1,
    const char *l2, size_t len2);

/* adds one, labels as C strings */
void ngx_http_mcp_oauth_count(ngx_http_request_t *r,
    ngx_http_mcp_oauth_metric_e m, const char *l1, const char *l2);

/* sets a gauge (a timestamp) */
void ngx_http_mcp_oauth_metric_set(ngx_http_request_t *r,
    ngx_http_mcp_oauth_metric_e m, ngx_str_t *l1, int64_t value);

ngx_int_t ngx_http_mcp_oauth_metrics_zone(ngx_conf_t *cf);

/*
 * A zone whose size, use and evictions the metrics show; its data begins
 * with an ngx_http_mcp_oauth_kv_t (the state zone, the token cache).
 */
ngx_int_t ngx_http_mcp_oauth_metrics_watch(ngx_conf_t *cf,
    ngx_shm_zone_t *zone, const char *kind);
char *ngx_http_mcp_oauth_metrics(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf);


#endif /* _NGX_HTTP_MCP_OAUTH_METRICS_H_INCLUDED_ */
