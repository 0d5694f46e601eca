
/*
 * ngx_mcp_oauth_module: the shared-memory key-value store under the state
 * zone (state/) and the verified-token cache (rs/).  One slab pool, one
 * rbtree of ngx_str_node_t (hash, then length and bytes of the key), one
 * queue from the most recently used on.  Kept across reloads, as limit_req
 * keeps its states.
 */

#include <ngx_config.h>
#include <ngx_core.h>

#include "ngx_http_mcp_oauth_shm_kv.h"


ngx_int_t
ngx_http_mcp_oauth_kv_init(ngx_http_mcp_oauth_kv_t *kv, ngx_shm_zone_t *zone,
    ngx_http_mcp_oauth_kv_t *okv, size_t size)
{
    if (okv) {
        kv->sh = okv->sh;
        kv->shpool = okv->shpool;
        return NGX_DONE;
    }

    kv->shpool = (ngx_slab_pool_t *) zone->shm.addr;

    if (zone->shm.exists) {
        kv->sh = kv->shpool->data;
        return NGX_DONE;
    }

    kv->sh = ngx_slab_alloc(kv->shpool, size);
    if (kv->sh == NULL) {
        return NGX_ERROR;
    }

    ngx_memzero(kv->sh, size);
    kv->shpool->data = kv->sh;

    ngx_rbtree_init(&kv->sh->rbtree, &kv->sh->sentinel,
                    ngx_str_rbtree_insert_value);
    ngx_queue_init(&kv->sh->queue);

    /* a full zone is its user's to report (once per refused entry, or not) */
    kv->shpool->log_nomem = 0;

    return NGX_OK;
}


ngx_http_mcp_oauth_kv_node_t *
ngx_http_mcp_oauth_kv_find(ngx_http_mcp_oauth_kv_t *kv, ngx_str_t *key,
    uint32_t hash)
{
    /* the whole key decides: equal hashes are not equal keys */

    return (ngx_http_mcp_oauth_kv_node_t *)
               ngx_str_rbtree_lookup(&kv->sh->rbtree, key, hash);
}


/*
 * Room for a record; a full zone gives up its least recently used entries
 * for it, "evict" of them at most (0: none, the caller has its own policy).
 */

void *
ngx_http_mcp_oauth_kv_alloc(ngx_http_mcp_oauth_kv_t *kv, size_t size,
    ngx_uint_t evict)
{
    void         *p;
    ngx_queue_t  *q;

    for ( ;; ) {
        p = ngx_slab_alloc_locked(kv->shpool, size);

        if (p || evict-- == 0 || ngx_queue_empty(&kv->sh->queue)) {
            return p;
        }

        q = ngx_queue_last(&kv->sh->queue);
        kv->sh->evicted++;
        ngx_http_mcp_oauth_kv_remove(kv,
            ngx_queue_data(q, ngx_http_mcp_oauth_kv_node_t, queue));
    }
}


/* a record from kv_alloc, its key (len bytes at key) already in it */

void
ngx_http_mcp_oauth_kv_insert(ngx_http_mcp_oauth_kv_t *kv,
    ngx_http_mcp_oauth_kv_node_t *node, u_char *key, size_t len,
    uint32_t hash, time_t expires)
{
    node->sn.node.key = hash;
    node->sn.str.data = key;
    node->sn.str.len = len;
    node->expires = expires;

    ngx_rbtree_insert(&kv->sh->rbtree, &node->sn.node);
    ngx_queue_insert_head(&kv->sh->queue, &node->queue);
}


/* the most recently used, now */

void
ngx_http_mcp_oauth_kv_touch(ngx_http_mcp_oauth_kv_t *kv,
    ngx_http_mcp_oauth_kv_node_t *node)
{
    ngx_queue_remove(&node->queue);
    ngx_queue_insert_head(&kv->sh->queue, &node->queue);
}


void
ngx_http_mcp_oauth_kv_remove(ngx_http_mcp_oauth_kv_t *kv,
    ngx_http_mcp_oauth_kv_node_t *node)
{
    if (kv->free) {
        kv->free(kv, node);
    }

    ngx_queue_remove(&node->queue);
    ngx_rbtree_delete(&kv->sh->rbtree, &node->sn.node);
    ngx_slab_free_locked(kv->shpool, node);
}


/*
 * Frees expired entries from the least recently used: n of them at most,
 * or with n == 0 every expired one (the zone is full).  Returns how many
 * were freed.
 */

ngx_uint_t
ngx_http_mcp_oauth_kv_expire(ngx_http_mcp_oauth_kv_t *kv, ngx_uint_t n)
{
    time_t                         now;
    ngx_uint_t                     freed;
    ngx_queue_t                   *q, *prev;
    ngx_http_mcp_oauth_kv_node_t  *node;

    now = ngx_time();
    freed = 0;

    for (q = ngx_queue_last(&kv->sh->queue);
         q != ngx_queue_sentinel(&kv->sh->queue);
         q = prev)
    {
        prev = ngx_queue_prev(q);
        node = ngx_queue_data(q, ngx_http_mcp_oauth_kv_node_t, queue);

        if (node->expires > now) {
            if (n) {
                /* a quick pass stops at the first live one */
                break;
            }

            continue;
        }

        ngx_http_mcp_oauth_kv_remove(kv, node);
        freed++;

        if (n && freed == n) {
            break;
        }
    }

    return freed;
}
