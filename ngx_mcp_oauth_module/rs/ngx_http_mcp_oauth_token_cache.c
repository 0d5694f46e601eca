
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

#include "ngx_http_mcp_oauth_shm_kv.h"
#include "ngx_http_mcp_oauth_string.h"
#include "ngx_http_mcp_oauth_token_cache.h"
#include "ngx_http_mcp_oauth_metrics.h"


/* kept past exp for locations with a long leeway */
#define NGX_HTTP_MCP_OAUTH_CACHE_GRACE  3600


typedef struct {
    ngx_http_mcp_oauth_kv_node_t      kv;        /* key: the token, at
                                                    data */
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
    ngx_http_mcp_oauth_kv_sh_t        kv;
    ngx_uint_t                        epoch;     /* configurations loaded */
} ngx_http_mcp_oauth_cache_sh_t;


typedef struct {
    ngx_http_mcp_oauth_kv_t           kv;
    ngx_http_mcp_oauth_cache_sh_t    *sh;
    ngx_uint_t                        epoch;     /* this configuration's */
} ngx_http_mcp_oauth_cache_t;


static ngx_int_t ngx_http_mcp_oauth_cache_init(ngx_shm_zone_t *zone,
    void *data);
static uint32_t ngx_http_mcp_oauth_cache_hash(ngx_str_t *token);
static ngx_http_mcp_oauth_cache_node_t *ngx_http_mcp_oauth_cache_find(
    ngx_http_mcp_oauth_cache_t *cache, ngx_str_t *token);
static ngx_inline u_char *ngx_http_mcp_oauth_cache_claims(
    ngx_http_mcp_oauth_cache_node_t *cn, u_char *copy,
    ngx_http_mcp_oauth_claims_t *c);
static ngx_inline ngx_int_t ngx_http_mcp_oauth_cache_lists(ngx_pool_t *pool,
    u_char *p, uint32_t n, ngx_http_mcp_oauth_claims_t *c);


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

    if (ngx_http_mcp_oauth_metrics_watch(cf, zone, "token_cache") != NGX_OK) {
        return NULL;
    }

    return zone;
}


static ngx_int_t
ngx_http_mcp_oauth_cache_init(ngx_shm_zone_t *zone, void *data)
{
    ngx_http_mcp_oauth_cache_t  *ocache = data;

    ngx_int_t                    rc;
    ngx_http_mcp_oauth_cache_t  *cache;

    cache = zone->data;

    rc = ngx_http_mcp_oauth_kv_init(&cache->kv, zone,
                                    ocache ? &ocache->kv : NULL,
                                    sizeof(ngx_http_mcp_oauth_cache_sh_t));
    if (rc == NGX_ERROR) {
        return NGX_ERROR;
    }

    cache->sh = (ngx_http_mcp_oauth_cache_sh_t *) cache->kv.sh;

    if (rc == NGX_DONE) {
        /*
         * Reload: entries name their keys by address, and addresses of a
         * new configuration may repeat old ones.  Each configuration only
         * sees the entries it made.
         */
        cache->epoch = ++cache->sh->epoch;
    }

    return NGX_OK;
}


ngx_int_t
ngx_http_mcp_oauth_cache_get(ngx_shm_zone_t *zone, ngx_pool_t *pool,
    ngx_str_t *token, ngx_http_mcp_oauth_cache_keys_t *keys, time_t now,
    ngx_http_mcp_oauth_claims_t *c)
{
    u_char                           *p, *copy;
    uint32_t                          n;
    ngx_http_mcp_oauth_cache_t       *cache;
    ngx_http_mcp_oauth_cache_node_t  *cn;

    cache = zone->data;

    ngx_shmtx_lock(&cache->kv.shpool->mutex);

    cn = ngx_http_mcp_oauth_cache_find(cache, token);

    if (cn == NULL) {
        ngx_shmtx_unlock(&cache->kv.shpool->mutex);
        return NGX_DECLINED;
    }

    if (ngx_memcmp(&cn->keys, keys, sizeof(*keys)) != 0
        || cn->epoch != cache->epoch
        || now >= cn->kv.expires)
    {
        ngx_http_mcp_oauth_kv_remove(&cache->kv, &cn->kv);
        ngx_shmtx_unlock(&cache->kv.shpool->mutex);
        return NGX_DECLINED;
    }

    copy = ngx_pnalloc(pool, cn->size);
    if (copy == NULL) {
        ngx_shmtx_unlock(&cache->kv.shpool->mutex);
        return NGX_DECLINED;
    }

    p = ngx_http_mcp_oauth_cache_claims(cn, copy, c);
    n = cn->naud;

    ngx_http_mcp_oauth_kv_touch(&cache->kv, &cn->kv);

    ngx_shmtx_unlock(&cache->kv.shpool->mutex);

    return ngx_http_mcp_oauth_cache_lists(pool, p, n, c);
}


/*
 * The claims of the entry, its strings in "copy" (taken under the lock);
 * returns where the aud list starts.
 */

static ngx_inline u_char *
ngx_http_mcp_oauth_cache_claims(ngx_http_mcp_oauth_cache_node_t *cn,
    u_char *copy, ngx_http_mcp_oauth_claims_t *c)
{
    u_char      *p;
    ngx_str_t   *f[6];
    ngx_uint_t   i;

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

    return p;
}


/* the aud and scopes arrays, from the copy: its "n" auds, the scope string */

static ngx_inline ngx_int_t
ngx_http_mcp_oauth_cache_lists(ngx_pool_t *pool, u_char *p, uint32_t n,
    ngx_http_mcp_oauth_claims_t *c)
{
    uint32_t     len;
    ngx_str_t   *s;
    ngx_uint_t   i;

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
    ngx_uint_t                        i;
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

    ngx_shmtx_lock(&cache->kv.shpool->mutex);

    cn = ngx_http_mcp_oauth_cache_find(cache, token);
    if (cn) {
        ngx_http_mcp_oauth_kv_remove(&cache->kv, &cn->kv);
    }

    /* a full zone gives up its least recently used entries, 16 at most */

    cn = ngx_http_mcp_oauth_kv_alloc(&cache->kv,
                                     offsetof(ngx_http_mcp_oauth_cache_node_t,
                                              data)
                                     + token->len + size, 16);

    if (cn == NULL) {
        ngx_shmtx_unlock(&cache->kv.shpool->mutex);
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

    /* served up to exp + grace */

    ngx_http_mcp_oauth_kv_insert(&cache->kv, &cn->kv, cn->data, token->len,
                                 ngx_http_mcp_oauth_cache_hash(token),
                                 c->exp + NGX_HTTP_MCP_OAUTH_CACHE_GRACE + 1);

    ngx_shmtx_unlock(&cache->kv.shpool->mutex);
}


void
ngx_http_mcp_oauth_cache_drop(ngx_shm_zone_t *zone, ngx_str_t *token)
{
    ngx_http_mcp_oauth_cache_t       *cache;
    ngx_http_mcp_oauth_cache_node_t  *cn;

    cache = zone->data;

    ngx_shmtx_lock(&cache->kv.shpool->mutex);

    cn = ngx_http_mcp_oauth_cache_find(cache, token);
    if (cn) {
        ngx_http_mcp_oauth_kv_remove(&cache->kv, &cn->kv);
    }

    ngx_shmtx_unlock(&cache->kv.shpool->mutex);
}


static ngx_http_mcp_oauth_cache_node_t *
ngx_http_mcp_oauth_cache_find(ngx_http_mcp_oauth_cache_t *cache,
    ngx_str_t *token)
{
    return (ngx_http_mcp_oauth_cache_node_t *)
               ngx_http_mcp_oauth_kv_find(&cache->kv, token,
                                          ngx_http_mcp_oauth_cache_hash(token));
}


/*
 * A JWT ends with its signature, the bytes that differ between any two
 * tokens an issuer signs: the hash of the last 64 bytes (and the length)
 * spreads tokens as well as one of all of them, in a tenth of the time.
 * The rbtree compares whole tokens after the hash either way.
 */

static uint32_t
ngx_http_mcp_oauth_cache_hash(ngx_str_t *token)
{
    size_t  n;

    n = ngx_min(token->len, 64);

    return ngx_http_mcp_oauth_hash(token->data + token->len - n, n)
           ^ (uint32_t) token->len;
}
