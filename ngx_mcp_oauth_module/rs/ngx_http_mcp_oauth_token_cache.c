
/*
 * ngx_mcp_oauth_module: the verified-token cache.  A shared zone (one for
 * all workers, as limit_req keeps its states) maps a token (by a hash of
 * it, then compared whole) to what its verification found: the keys that
 * verified it and its claims.
 * The location's checks (exp with leeway, nbf, iat, iss, aud, scopes) run on
 * every request; only decoding and the signature are skipped.  Entries go
 * when the token expires, when the fetched keys change, and least recently
 * used first when the zone is full.
 */

#include <ngx_config.h>
#include <ngx_core.h>

#include "ngx_http_mcp_oauth_token_cache.h"


/* kept past exp for locations with a long leeway */
#define NGX_HTTP_MCP_OAUTH_CACHE_GRACE  3600


typedef struct {
    ngx_rbtree_node_t                 node;      /* key: token's hash */
    ngx_queue_t                       queue;     /* most recent first */
    ngx_http_mcp_oauth_cache_keys_t   keys;
    ngx_uint_t                        epoch;
    time_t                            exp;
    time_t                            nbf;
    time_t                            iat;
    unsigned                          has_nbf:1;
    unsigned                          has_iat:1;
    unsigned                          has_aud:1;
    uint32_t                          len[7];    /* token iss sub client
                                                    scope payload sid */
    uint32_t                          naud;
    size_t                            size;      /* of data after token */
    u_char                            data[1];   /* the strings, then each
                                                    aud as uint32 length +
                                                    bytes */
} ngx_http_mcp_oauth_cache_node_t;


typedef struct {
    ngx_rbtree_t                      rbtree;
    ngx_rbtree_node_t                 sentinel;
    ngx_queue_t                       queue;
    ngx_uint_t                        epoch;     /* configurations loaded */
} ngx_http_mcp_oauth_cache_sh_t;


typedef struct {
    ngx_http_mcp_oauth_cache_sh_t    *sh;
    ngx_slab_pool_t                  *shpool;
    ngx_uint_t                        epoch;     /* this configuration's */
} ngx_http_mcp_oauth_cache_t;


static ngx_int_t ngx_http_mcp_oauth_cache_init(ngx_shm_zone_t *zone,
    void *data);
static void ngx_http_mcp_oauth_cache_insert(ngx_rbtree_node_t *temp,
    ngx_rbtree_node_t *node, ngx_rbtree_node_t *sentinel);
static ngx_http_mcp_oauth_cache_node_t *ngx_http_mcp_oauth_cache_find(
    ngx_http_mcp_oauth_cache_t *cache, ngx_str_t *token);
static ngx_int_t ngx_http_mcp_oauth_cache_cmp(u_char *token, size_t len,
    ngx_http_mcp_oauth_cache_node_t *cn);
static void ngx_http_mcp_oauth_cache_delete(ngx_http_mcp_oauth_cache_t *cache,
    ngx_http_mcp_oauth_cache_node_t *cn);


ngx_shm_zone_t *
ngx_http_mcp_oauth_cache_zone(ngx_conf_t *cf, size_t size)
{
    ngx_shm_zone_t              *zone;
    ngx_http_mcp_oauth_cache_t  *cache;

    static ngx_str_t  name = ngx_string("mcp_oauth_token_cache");

    cache = ngx_pcalloc(cf->pool, sizeof(ngx_http_mcp_oauth_cache_t));
    if (cache == NULL) {
        return NULL;
    }

    zone = ngx_shared_memory_add(cf, &name, size, &ngx_http_mcp_oauth_cache_zone);
    if (zone == NULL) {
        return NULL;
    }

    zone->init = ngx_http_mcp_oauth_cache_init;
    zone->data = cache;

    return zone;
}


static ngx_int_t
ngx_http_mcp_oauth_cache_init(ngx_shm_zone_t *zone, void *data)
{
    ngx_http_mcp_oauth_cache_t  *ocache = data;

    ngx_http_mcp_oauth_cache_t  *cache;

    cache = zone->data;

    if (ocache) {
        /*
         * Reload: entries name their keys by address, and addresses of a
         * new configuration may repeat old ones.  Each configuration only
         * sees the entries it made.
         */
        cache->sh = ocache->sh;
        cache->shpool = ocache->shpool;
        cache->epoch = ++cache->sh->epoch;
        return NGX_OK;
    }

    cache->shpool = (ngx_slab_pool_t *) zone->shm.addr;

    if (zone->shm.exists) {
        cache->sh = cache->shpool->data;
        cache->epoch = ++cache->sh->epoch;
        return NGX_OK;
    }

    cache->sh = ngx_slab_alloc(cache->shpool,
                               sizeof(ngx_http_mcp_oauth_cache_sh_t));
    if (cache->sh == NULL) {
        return NGX_ERROR;
    }

    cache->shpool->data = cache->sh;

    ngx_rbtree_init(&cache->sh->rbtree, &cache->sh->sentinel,
                    ngx_http_mcp_oauth_cache_insert);
    ngx_queue_init(&cache->sh->queue);

    /* a full zone evicts; it is not worth a log line per request */
    cache->shpool->log_nomem = 0;

    return NGX_OK;
}


ngx_int_t
ngx_http_mcp_oauth_cache_get(ngx_shm_zone_t *zone, ngx_pool_t *pool,
    ngx_str_t *token, ngx_http_mcp_oauth_cache_keys_t *keys, time_t now,
    ngx_http_mcp_oauth_claims_t *c)
{
    u_char                           *p, *copy;
    uint32_t                          n, len;
    ngx_str_t                        *s, *f[6];
    ngx_uint_t                        i;
    ngx_http_mcp_oauth_cache_t       *cache;
    ngx_http_mcp_oauth_cache_node_t  *cn;

    cache = zone->data;

    ngx_shmtx_lock(&cache->shpool->mutex);

    cn = ngx_http_mcp_oauth_cache_find(cache, token);

    if (cn == NULL) {
        ngx_shmtx_unlock(&cache->shpool->mutex);
        return NGX_DECLINED;
    }

    if (ngx_memcmp(&cn->keys, keys, sizeof(*keys)) != 0
        || cn->epoch != cache->epoch
        || now > cn->exp + NGX_HTTP_MCP_OAUTH_CACHE_GRACE)
    {
        ngx_http_mcp_oauth_cache_delete(cache, cn);
        ngx_shmtx_unlock(&cache->shpool->mutex);
        return NGX_DECLINED;
    }

    copy = ngx_pnalloc(pool, cn->size);
    if (copy == NULL) {
        ngx_shmtx_unlock(&cache->shpool->mutex);
        return NGX_DECLINED;
    }

    ngx_memcpy(copy, cn->data + cn->len[0], cn->size);

    ngx_memzero(c, sizeof(ngx_http_mcp_oauth_claims_t));

    c->exp = cn->exp;
    c->nbf = cn->nbf;
    c->iat = cn->iat;
    c->has_nbf = cn->has_nbf;
    c->has_iat = cn->has_iat;
    c->has_aud = cn->has_aud;

    f[0] = &c->iss;
    f[1] = &c->sub;
    f[2] = &c->client_id;
    f[3] = &c->scope;
    f[4] = &c->payload;
    f[5] = &c->sid;

    p = copy;

    for (i = 0; i < 6; i++) {
        f[i]->data = p;
        f[i]->len = cn->len[i + 1];
        p += cn->len[i + 1];
    }

    n = cn->naud;

    ngx_queue_remove(&cn->queue);
    ngx_queue_insert_head(&cache->sh->queue, &cn->queue);

    ngx_shmtx_unlock(&cache->shpool->mutex);

    if (ngx_array_init(&c->aud, pool, n ? n : 1, sizeof(ngx_str_t)) != NGX_OK
        || ngx_array_init(&c->scopes, pool, 4, sizeof(ngx_str_t)) != NGX_OK)
    {
        return NGX_DECLINED;
    }

    for (i = 0; i < n; i++) {
        ngx_memcpy(&len, p, sizeof(uint32_t));
        p += sizeof(uint32_t);

        s = ngx_array_push(&c->aud);
        if (s == NULL) {
            return NGX_DECLINED;
        }

        s->data = p;
        s->len = len;
        p += len;
    }

    /* the scopes array again from the joined string (no scope has a space) */

    for (p = c->scope.data; p < c->scope.data + c->scope.len; p++) {
        s = ngx_array_push(&c->scopes);
        if (s == NULL) {
            return NGX_DECLINED;
        }

        s->data = p;

        while (p < c->scope.data + c->scope.len && *p != ' ') {
            p++;
        }

        s->len = p - s->data;
    }

    return NGX_OK;
}


void
ngx_http_mcp_oauth_cache_put(ngx_shm_zone_t *zone, ngx_str_t *token,
    ngx_http_mcp_oauth_cache_keys_t *keys, ngx_http_mcp_oauth_claims_t *c)
{
    u_char                           *p;
    size_t                            size;
    uint32_t                          len;
    ngx_str_t                        *s, *f[6];
    ngx_uint_t                        i, tries;
    ngx_queue_t                      *q;
    ngx_http_mcp_oauth_cache_t       *cache;
    ngx_http_mcp_oauth_cache_node_t  *cn;

    cache = zone->data;

    f[0] = &c->iss;
    f[1] = &c->sub;
    f[2] = &c->client_id;
    f[3] = &c->scope;
    f[4] = &c->payload;
    f[5] = &c->sid;

    size = 0;

    for (i = 0; i < 6; i++) {
        size += f[i]->len;
    }

    s = c->aud.elts;

    for (i = 0; i < c->aud.nelts; i++) {
        size += sizeof(uint32_t) + s[i].len;
    }

    ngx_shmtx_lock(&cache->shpool->mutex);

    cn = ngx_http_mcp_oauth_cache_find(cache, token);
    if (cn) {
        ngx_http_mcp_oauth_cache_delete(cache, cn);
    }

    /* a full zone gives up its least recently used entries */

    for (tries = 0; /* void */ ; tries++) {
        cn = ngx_slab_alloc_locked(cache->shpool,
                                   offsetof(ngx_http_mcp_oauth_cache_node_t,
                                            data)
                                   + token->len + size);
        if (cn || tries == 16 || ngx_queue_empty(&cache->sh->queue)) {
            break;
        }

        q = ngx_queue_last(&cache->sh->queue);
        ngx_http_mcp_oauth_cache_delete(cache,
            ngx_queue_data(q, ngx_http_mcp_oauth_cache_node_t, queue));
    }

    if (cn == NULL) {
        ngx_shmtx_unlock(&cache->shpool->mutex);
        return;
    }

    cn->keys = *keys;
    cn->epoch = cache->epoch;
    cn->exp = c->exp;
    cn->nbf = c->nbf;
    cn->iat = c->iat;
    cn->has_nbf = c->has_nbf;
    cn->has_iat = c->has_iat;
    cn->has_aud = c->has_aud;
    cn->naud = c->aud.nelts;
    cn->size = size;

    cn->len[0] = token->len;
    p = ngx_cpymem(cn->data, token->data, token->len);

    for (i = 0; i < 6; i++) {
        cn->len[i + 1] = f[i]->len;
        p = ngx_cpymem(p, f[i]->data, f[i]->len);
    }

    for (i = 0; i < c->aud.nelts; i++) {
        len = s[i].len;
        p = ngx_cpymem(p, &len, sizeof(uint32_t));
        p = ngx_cpymem(p, s[i].data, s[i].len);
    }

    cn->node.key = ngx_murmur_hash2(token->data, token->len);

    ngx_rbtree_insert(&cache->sh->rbtree, &cn->node);
    ngx_queue_insert_head(&cache->sh->queue, &cn->queue);

    ngx_shmtx_unlock(&cache->shpool->mutex);
}


void
ngx_http_mcp_oauth_cache_drop(ngx_shm_zone_t *zone, ngx_str_t *token)
{
    ngx_http_mcp_oauth_cache_t       *cache;
    ngx_http_mcp_oauth_cache_node_t  *cn;

    cache = zone->data;

    ngx_shmtx_lock(&cache->shpool->mutex);

    cn = ngx_http_mcp_oauth_cache_find(cache, token);
    if (cn) {
        ngx_http_mcp_oauth_cache_delete(cache, cn);
    }

    ngx_shmtx_unlock(&cache->shpool->mutex);
}


static ngx_http_mcp_oauth_cache_node_t *
ngx_http_mcp_oauth_cache_find(ngx_http_mcp_oauth_cache_t *cache,
    ngx_str_t *token)
{
    ngx_int_t                         rc;
    ngx_rbtree_key_t                  key;
    ngx_rbtree_node_t                *node, *sentinel;
    ngx_http_mcp_oauth_cache_node_t  *cn;

    key = ngx_murmur_hash2(token->data, token->len);
    node = cache->sh->rbtree.root;
    sentinel = cache->sh->rbtree.sentinel;

    while (node != sentinel) {

        if (key != node->key) {
            node = (key < node->key) ? node->left : node->right;
            continue;
        }

        /* the whole token decides: equal hashes are not equal tokens */

        cn = (ngx_http_mcp_oauth_cache_node_t *) node;
        rc = ngx_http_mcp_oauth_cache_cmp(token->data, token->len, cn);

        if (rc == 0) {
            return cn;
        }

        node = (rc < 0) ? node->left : node->right;
    }

    return NULL;
}


static ngx_int_t
ngx_http_mcp_oauth_cache_cmp(u_char *token, size_t len,
    ngx_http_mcp_oauth_cache_node_t *cn)
{
    ngx_int_t  rc;

    rc = ngx_memcmp(token, cn->data, ngx_min(len, cn->len[0]));

    if (rc != 0) {
        return rc;
    }

    return (ngx_int_t) len - (ngx_int_t) cn->len[0];
}


static void
ngx_http_mcp_oauth_cache_insert(ngx_rbtree_node_t *temp,
    ngx_rbtree_node_t *node, ngx_rbtree_node_t *sentinel)
{
    ngx_rbtree_node_t                **p;
    ngx_http_mcp_oauth_cache_node_t   *cn, *cnt;

    for ( ;; ) {

        if (node->key < temp->key) {
            p = &temp->left;

        } else if (node->key > temp->key) {
            p = &temp->right;

        } else {
            cn = (ngx_http_mcp_oauth_cache_node_t *) node;
            cnt = (ngx_http_mcp_oauth_cache_node_t *) temp;

            p = (ngx_http_mcp_oauth_cache_cmp(cn->data, cn->len[0], cnt) < 0)
                ? &temp->left : &temp->right;
        }

        if (*p == sentinel) {
            break;
        }

        temp = *p;
    }

    *p = node;
    node->parent = temp;
    node->left = sentinel;
    node->right = sentinel;
    ngx_rbt_red(node);
}


static void
ngx_http_mcp_oauth_cache_delete(ngx_http_mcp_oauth_cache_t *cache,
    ngx_http_mcp_oauth_cache_node_t *cn)
{
    ngx_queue_remove(&cn->queue);
    ngx_rbtree_delete(&cache->sh->rbtree, &cn->node);
    ngx_slab_free_locked(cache->shpool, cn);
}
