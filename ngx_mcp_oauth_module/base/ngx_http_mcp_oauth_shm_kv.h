
/*
 * ngx_mcp_oauth_module: a small key-value store in a shared zone, under the
 * state zone and the verified-token cache.  Entries are found by a hash of
 * their key, then the key's bytes (nginx's string rbtree), and queued from
 * the most recently used on, each with an expiry.  A user locks the zone's
 * mutex around the calls, and keeps its own record (which begins with the
 * node) and policy: what to keep when the zone is full, what to count.
 */

#ifndef _NGX_HTTP_MCP_OAUTH_SHM_KV_H_INCLUDED_
#define _NGX_HTTP_MCP_OAUTH_SHM_KV_H_INCLUDED_


#include <ngx_config.h>
#include <ngx_core.h>


typedef struct ngx_http_mcp_oauth_kv_s  ngx_http_mcp_oauth_kv_t;


/* the first member of a user's record */
typedef struct {
    ngx_str_node_t                sn;         /* key: hash; str: the key,
                                                 in the record */
    ngx_queue_t                   queue;      /* most recently used first */
    time_t                        expires;    /* gone from this second */
} ngx_http_mcp_oauth_kv_node_t;


/* the first member of a user's header in the zone */
typedef struct {
    ngx_rbtree_t                  rbtree;
    ngx_rbtree_node_t             sentinel;
    ngx_queue_t                   queue;
    ngx_atomic_t                  evicted;    /* live ones, for room */
} ngx_http_mcp_oauth_kv_sh_t;


/* told of each record before the store frees it (the user's counts) */
typedef void (*ngx_http_mcp_oauth_kv_free_pt)(ngx_http_mcp_oauth_kv_t *kv,
    ngx_http_mcp_oauth_kv_node_t *node);


struct ngx_http_mcp_oauth_kv_s {
    ngx_http_mcp_oauth_kv_sh_t     *sh;
    ngx_slab_pool_t                *shpool;
    ngx_http_mcp_oauth_kv_free_pt   free;      /* NULL: nothing to count */
};


/*
 * From a zone's init: NGX_OK, a new header of size bytes, zeroed;
 * NGX_DONE, the entries kept (a reload, okv the old configuration's, or a
 * binary upgrade); NGX_ERROR.
 */
ngx_int_t ngx_http_mcp_oauth_kv_init(ngx_http_mcp_oauth_kv_t *kv,
    ngx_shm_zone_t *zone, ngx_http_mcp_oauth_kv_t *okv, size_t size);

/* the zone locked, in all of these */
ngx_http_mcp_oauth_kv_node_t *ngx_http_mcp_oauth_kv_find(
    ngx_http_mcp_oauth_kv_t *kv, ngx_str_t *key, uint32_t hash);
void *ngx_http_mcp_oauth_kv_alloc(ngx_http_mcp_oauth_kv_t *kv, size_t size,
    ngx_uint_t evict);
void ngx_http_mcp_oauth_kv_insert(ngx_http_mcp_oauth_kv_t *kv,
    ngx_http_mcp_oauth_kv_node_t *node, u_char *key, size_t len,
    uint32_t hash, time_t expires);
void ngx_http_mcp_oauth_kv_touch(ngx_http_mcp_oauth_kv_t *kv,
    ngx_http_mcp_oauth_kv_node_t *node);
void ngx_http_mcp_oauth_kv_remove(ngx_http_mcp_oauth_kv_t *kv,
    ngx_http_mcp_oauth_kv_node_t *node);
ngx_uint_t ngx_http_mcp_oauth_kv_expire(ngx_http_mcp_oauth_kv_t *kv,
    ngx_uint_t n);


#endif /* _NGX_HTTP_MCP_OAUTH_SHM_KV_H_INCLUDED_ */
