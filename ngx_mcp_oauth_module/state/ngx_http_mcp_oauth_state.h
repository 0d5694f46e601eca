
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
#include <ngx_http.h>

#include "ngx_http_mcp_oauth_module.h"


/* entries of the state zone */
enum {
    NGX_HTTP_MCP_OAUTH_ENTRY_CODE = 1,
    NGX_HTTP_MCP_OAUTH_ENTRY_REFRESH,
    NGX_HTTP_MCP_OAUTH_ENTRY_REVOKED,
    NGX_HTTP_MCP_OAUTH_ENTRY_CONSENT,
    NGX_HTTP_MCP_OAUTH_ENTRY_DOCUMENT,
    NGX_HTTP_MCP_OAUTH_ENTRY_DEVICE,       /* a device code (RFC 8628) */
    NGX_HTTP_MCP_OAUTH_ENTRY_USER_CODE,    /* its user code, the decision */
    NGX_HTTP_MCP_OAUTH_ENTRY_ATTEMPTS,     /* verification attempts */
    NGX_HTTP_MCP_OAUTH_ENTRY_USED          /* an assertion's jti */
};


/* a worker's look at the fleet's revocations (runtime, not configuration) */
typedef struct {
    int64_t                       cursor;      /* Redis' µs of the last one */
    ngx_msec_t                    next;        /* when to look again */
    ngx_msec_t                    busy;        /* a look in flight until */
} ngx_http_mcp_oauth_state_sync_t;


/* "mcp_oauth_state_request": the state in Redis, shared by a fleet */
typedef struct {
    ngx_str_t                     uri;         /* mcp_oauth_redis_pass */
    ngx_str_t                     prefix;      /* of every key */
    ngx_str_t                     revocations; /* the sorted set's key */
    ngx_msec_t                    interval;    /* sync=: the bound */
    time_t                        keep;        /* revocations kept */
    ngx_http_mcp_oauth_where_t    at;          /* for late errors */
    ngx_http_mcp_oauth_state_sync_t  *sync;
} ngx_http_mcp_oauth_redis_state_t;


/*
 * What the resource server may know of its server's authorization server:
 * the first member of the server configuration, filled by as/ when the
 * server is one.
 */
typedef struct {
    ngx_str_t                     issuer;      /* empty: none here */
    ngx_shm_zone_t               *zone;        /* its state on this node */
    ngx_http_mcp_oauth_redis_state_t  *redis;  /* NULL: the zone alone */
} ngx_http_mcp_oauth_issued_t;


/* the state operations of one request and their answers */
#define NGX_HTTP_MCP_OAUTH_STATE_OPS  8

typedef struct {
    ngx_uint_t                    op;
    u_char                        key[32];
    ngx_http_mcp_oauth_fetch_t    fetch;
} ngx_http_mcp_oauth_state_answer_t;

typedef struct {
    ngx_http_mcp_oauth_issued_t  *issued;
    ngx_uint_t                    asked;
    ngx_http_mcp_oauth_state_answer_t  answers[NGX_HTTP_MCP_OAUTH_STATE_OPS];
} ngx_http_mcp_oauth_state_run_t;


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
void ngx_http_mcp_oauth_state_revocation_key(ngx_str_t *sid, u_char *key);

/*
 * The interface a request uses (..._state_ops.c): the zone's operations
 * above, or Redis' for a fleet; each may answer NGX_AGAIN (Redis is asked:
 * the handler runs again, after ngx_http_mcp_oauth_state_begin, and the
 * same operation finds its answer) or NGX_ABORT (the state is unavailable).
 */
#define ngx_http_mcp_oauth_state_unanswered(rc)                             \
    ((rc) == NGX_AGAIN || (rc) == NGX_ABORT || (rc) == NGX_ERROR)

char *ngx_http_mcp_oauth_state_request(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf);
ngx_int_t ngx_http_mcp_oauth_state_init(ngx_conf_t *cf,
    ngx_http_mcp_oauth_issued_t *issued, ngx_http_core_srv_conf_t *cscf,
    time_t keep);
void ngx_http_mcp_oauth_state_begin(ngx_http_mcp_oauth_state_run_t *run,
    ngx_http_mcp_oauth_issued_t *issued);
ngx_int_t ngx_http_mcp_oauth_state_put(ngx_http_request_t *r,
    ngx_http_mcp_oauth_state_run_t *run, u_char *key, ngx_uint_t type,
    time_t expires, ngx_str_t *data);
ngx_int_t ngx_http_mcp_oauth_state_get(ngx_http_request_t *r,
    ngx_http_mcp_oauth_state_run_t *run, u_char *key, ngx_uint_t type,
    ngx_str_t *data, ngx_uint_t use);
ngx_int_t ngx_http_mcp_oauth_state_swap(ngx_http_request_t *r,
    ngx_http_mcp_oauth_state_run_t *run, u_char *key, ngx_uint_t type,
    time_t expires, ngx_str_t *old, ngx_str_t *data);
ngx_int_t ngx_http_mcp_oauth_state_delete(ngx_http_request_t *r,
    ngx_http_mcp_oauth_state_run_t *run, u_char *key);
ngx_int_t ngx_http_mcp_oauth_state_revoke_grant(ngx_http_request_t *r,
    ngx_http_mcp_oauth_state_run_t *run, ngx_str_t *sid, time_t expires);
ngx_int_t ngx_http_mcp_oauth_state_sync(ngx_http_request_t *r,
    ngx_http_mcp_oauth_issued_t *issued, ngx_http_mcp_oauth_fetch_t *f);

/* the Redis upstream handler (..._redis.c): a location of it serves "uri" */
ngx_int_t ngx_http_mcp_oauth_redis_serves(ngx_conf_t *cf,
    ngx_http_core_srv_conf_t *cscf, ngx_str_t *uri);


#endif /* _NGX_HTTP_MCP_OAUTH_STATE_H_INCLUDED_ */
