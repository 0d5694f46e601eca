
/*
 * ngx_mcp_oauth_module: the authorization server's state zone.  Codes,
 * refresh tokens, revoked grants, remembered consents and client metadata
 * documents are entries keyed by a SHA-256 (of what they are for, never the
 * secret itself in clear), with an expiry.  One zone for all workers, kept
 * across reloads (as limit_req keeps its states).  Expired entries are freed
 * oldest first as new ones come; live entries are never dropped: a zone full
 * of them refuses new entries, and the caller answers with an error.
 */

#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>
#include <openssl/evp.h>

#include "ngx_http_mcp_oauth_shm_kv.h"
#include "ngx_http_mcp_oauth_state.h"


extern ngx_module_t  ngx_http_mcp_oauth_module;


typedef struct {
    ngx_http_mcp_oauth_kv_node_t  kv;         /* key: the digest below */
    u_char                        key[32];
    u_char                        type;
    u_char                        used;
    size_t                        len;
    u_char                        data[1];
} ngx_http_mcp_oauth_entry_t;


typedef struct {
    ngx_http_mcp_oauth_kv_sh_t    kv;
    ngx_atomic_t                  revocations;  /* live REVOKED entries */
    size_t                        documents;    /* bytes of DOCUMENTs */
} ngx_http_mcp_oauth_store_sh_t;


typedef struct {
    ngx_http_mcp_oauth_kv_t         kv;       /* first: the free handler's */
    ngx_http_mcp_oauth_store_sh_t  *sh;
    size_t                          documents_max;
} ngx_http_mcp_oauth_store_t;


static ngx_int_t ngx_http_mcp_oauth_store_init(ngx_shm_zone_t *zone,
    void *data);
static ngx_http_mcp_oauth_entry_t *ngx_http_mcp_oauth_store_find(
    ngx_http_mcp_oauth_store_t *st, u_char *key);
static void ngx_http_mcp_oauth_store_insert(ngx_http_mcp_oauth_store_t *st,
    ngx_http_mcp_oauth_entry_t *e, u_char *key, ngx_uint_t type,
    time_t expires, size_t len);
static void ngx_http_mcp_oauth_store_free(ngx_http_mcp_oauth_kv_t *kv,
    ngx_http_mcp_oauth_kv_node_t *node);
static void ngx_http_mcp_oauth_store_full(ngx_shm_zone_t *zone,
    ngx_log_t *log, char *lost);
static ngx_http_mcp_oauth_entry_t *ngx_http_mcp_oauth_store_alloc(
    ngx_http_mcp_oauth_store_t *st, ngx_uint_t type, size_t len);


ngx_shm_zone_t *
ngx_http_mcp_oauth_store_zone(ngx_conf_t *cf, ngx_str_t *name, size_t size)
{
    ngx_shm_zone_t              *zone;
    ngx_http_mcp_oauth_store_t  *st;

    zone = ngx_shared_memory_add(cf, name, size, &ngx_http_mcp_oauth_module);
    if (zone == NULL) {
        return NULL;
    }

    if (zone->data) {
        /* another server block named the same zone */
        return zone;
    }

    st = ngx_pcalloc(cf->pool, sizeof(ngx_http_mcp_oauth_store_t));
    if (st == NULL) {
        return NULL;
    }

    st->kv.free = ngx_http_mcp_oauth_store_free;

    zone->init = ngx_http_mcp_oauth_store_init;
    zone->data = st;

    if (ngx_http_mcp_oauth_metrics_watch(cf, zone, "state") != NGX_OK) {
        return NULL;
    }

    return zone;
}


static ngx_int_t
ngx_http_mcp_oauth_store_init(ngx_shm_zone_t *zone, void *data)
{
    ngx_http_mcp_oauth_store_t  *ost = data;

    ngx_http_mcp_oauth_store_t  *st;

    st = zone->data;

    /* documents are fetched for anonymous requests: a quarter at most */
    st->documents_max = zone->shm.size / 4;

    /* a reload: codes, grants and consents carry on */

    if (ngx_http_mcp_oauth_kv_init(&st->kv, zone, ost ? &ost->kv : NULL,
                                   sizeof(ngx_http_mcp_oauth_store_sh_t))
        == NGX_ERROR)
    {
        return NGX_ERROR;
    }

    st->sh = (ngx_http_mcp_oauth_store_sh_t *) st->kv.sh;

    return NGX_OK;
}


/*
 * NGX_OK: stored; NGX_BUSY: the key exists already; NGX_DECLINED: the zone
 * is full of live entries.
 */

ngx_int_t
ngx_http_mcp_oauth_store_put(ngx_shm_zone_t *zone, u_char *key,
    ngx_uint_t type, time_t expires, ngx_str_t *data, ngx_log_t *log)
{
    size_t                       len;
    ngx_http_mcp_oauth_entry_t  *e;
    ngx_http_mcp_oauth_store_t  *st;

    st = zone->data;
    len = data ? data->len : 0;

    ngx_shmtx_lock(&st->kv.shpool->mutex);

    ngx_http_mcp_oauth_kv_expire(&st->kv, 2);

    e = ngx_http_mcp_oauth_store_find(st, key);

    if (e && e->kv.expires > ngx_time()) {
        ngx_shmtx_unlock(&st->kv.shpool->mutex);
        return NGX_BUSY;
    }

    if (e) {
        /* expired, behind a live entry the quick pass stopped at */
        ngx_http_mcp_oauth_kv_remove(&st->kv, &e->kv);
    }

    e = ngx_http_mcp_oauth_store_alloc(st, type, len);

    if (e == NULL) {
        ngx_shmtx_unlock(&st->kv.shpool->mutex);
        ngx_http_mcp_oauth_store_full(zone, log, "a new one is refused");
        return NGX_DECLINED;
    }

    if (len) {
        ngx_memcpy(e->data, data->data, len);
    }

    ngx_http_mcp_oauth_store_insert(st, e, key, type, expires, len);

    if (type == NGX_HTTP_MCP_OAUTH_ENTRY_REVOKED) {
        st->sh->revocations++;
    }

    ngx_shmtx_unlock(&st->kv.shpool->mutex);

    return NGX_OK;
}


/*
 * Replaces the data of a live entry that still holds "old" (compare and
 * swap, for rotations).  NGX_OK: replaced; NGX_BUSY: it changed or is gone
 * meanwhile; NGX_DECLINED: no room for the new data (the entry is gone).
 */

ngx_int_t
ngx_http_mcp_oauth_store_swap(ngx_shm_zone_t *zone, u_char *key,
    ngx_uint_t type, time_t expires, ngx_str_t *old, ngx_str_t *data,
    ngx_log_t *log)
{
    ngx_http_mcp_oauth_entry_t  *e, *n;
    ngx_http_mcp_oauth_store_t  *st;

    st = zone->data;

    ngx_shmtx_lock(&st->kv.shpool->mutex);

    e = ngx_http_mcp_oauth_store_find(st, key);

    if (e == NULL || e->type != type || e->kv.expires <= ngx_time()
        || e->len != old->len || ngx_memcmp(e->data, old->data, old->len))
    {
        ngx_shmtx_unlock(&st->kv.shpool->mutex);
        return NGX_BUSY;
    }

    if (e->len == data->len) {
        ngx_memcpy(e->data, data->data, data->len);
        e->kv.expires = expires;
        ngx_http_mcp_oauth_kv_touch(&st->kv, &e->kv);

        ngx_shmtx_unlock(&st->kv.shpool->mutex);
        return NGX_OK;
    }

    /* room for the new one first, else in the old one's place */

    n = ngx_http_mcp_oauth_store_alloc(st, type, data->len);

    ngx_http_mcp_oauth_kv_remove(&st->kv, &e->kv);

    if (n == NULL) {
        n = ngx_http_mcp_oauth_store_alloc(st, type, data->len);
    }

    if (n == NULL) {
        ngx_shmtx_unlock(&st->kv.shpool->mutex);
        ngx_http_mcp_oauth_store_full(zone, log, "a rotated entry is lost");
        return NGX_DECLINED;
    }

    ngx_memcpy(n->data, data->data, data->len);
    ngx_http_mcp_oauth_store_insert(st, n, key, type, expires, data->len);

    ngx_shmtx_unlock(&st->kv.shpool->mutex);

    return NGX_OK;
}


void
ngx_http_mcp_oauth_store_delete(ngx_shm_zone_t *zone, u_char *key)
{
    ngx_http_mcp_oauth_entry_t  *e;
    ngx_http_mcp_oauth_store_t  *st;

    st = zone->data;

    ngx_shmtx_lock(&st->kv.shpool->mutex);

    e = ngx_http_mcp_oauth_store_find(st, key);
    if (e) {
        ngx_http_mcp_oauth_kv_remove(&st->kv, &e->kv);
    }

    ngx_shmtx_unlock(&st->kv.shpool->mutex);
}


/*
 * NGX_OK: a live entry of the type, its data copied to the pool;
 * NGX_BUSY: the same, but the entry had been used before (for the caller
 * to refuse it and revoke what came of it); NGX_DECLINED: none.
 * "use" marks the entry used in the same lock (single-use codes and
 * refresh tokens).
 */

ngx_int_t
ngx_http_mcp_oauth_store_get(ngx_shm_zone_t *zone, u_char *key,
    ngx_uint_t type, ngx_pool_t *pool, ngx_str_t *data, ngx_uint_t use)
{
    ngx_int_t                    rc;
    ngx_http_mcp_oauth_entry_t  *e;
    ngx_http_mcp_oauth_store_t  *st;

    st = zone->data;

    ngx_shmtx_lock(&st->kv.shpool->mutex);

    e = ngx_http_mcp_oauth_store_find(st, key);

    if (e == NULL || e->type != type || e->kv.expires <= ngx_time()) {
        ngx_shmtx_unlock(&st->kv.shpool->mutex);
        return NGX_DECLINED;
    }

    rc = e->used ? NGX_BUSY : NGX_OK;

    if (use) {
        e->used = 1;
    }

    if (data) {
        data->len = e->len;
        data->data = ngx_pnalloc(pool, e->len + 1);

        if (data->data == NULL) {
            rc = NGX_ERROR;

        } else {
            ngx_memcpy(data->data, e->data, e->len);
        }
    }

    ngx_shmtx_unlock(&st->kv.shpool->mutex);

    return rc;
}


/* lets the resource server skip the lookup while nothing is revoked */

ngx_uint_t
ngx_http_mcp_oauth_store_revocations(ngx_shm_zone_t *zone)
{
    ngx_http_mcp_oauth_store_t  *st;

    st = zone->data;

    return st->sh->revocations;
}


/* keys are digests: their first bytes are as good a hash as any */

static ngx_http_mcp_oauth_entry_t *
ngx_http_mcp_oauth_store_find(ngx_http_mcp_oauth_store_t *st, u_char *key)
{
    ngx_str_t  k;

    k.data = key;
    k.len = 32;

    return (ngx_http_mcp_oauth_entry_t *)
               ngx_http_mcp_oauth_kv_find(&st->kv, &k, *(uint32_t *) key);
}


/* a new entry, its data in place */

static void
ngx_http_mcp_oauth_store_insert(ngx_http_mcp_oauth_store_t *st,
    ngx_http_mcp_oauth_entry_t *e, u_char *key, ngx_uint_t type,
    time_t expires, size_t len)
{
    ngx_memcpy(e->key, key, 32);
    e->type = (u_char) type;
    e->used = 0;
    e->len = len;

    ngx_http_mcp_oauth_kv_insert(&st->kv, &e->kv, e->key, 32,
                                 *(uint32_t *) key, expires);
}


/*
 * Room for an entry, freeing expired ones if need be.  Cached metadata
 * documents come from anonymous requests: they never keep an entry out
 * (the oldest are given up for it), and they hold a quarter of the zone at
 * most.  A revocation must always be kept (containment matters most when
 * the zone is under attack): remembered consents, which users can give
 * again, are given up for one too.
 */

static ngx_http_mcp_oauth_entry_t *
ngx_http_mcp_oauth_store_alloc(ngx_http_mcp_oauth_store_t *st,
    ngx_uint_t type, size_t len)
{
    size_t                       size;
    ngx_queue_t                 *q, *prev;
    ngx_http_mcp_oauth_entry_t  *e, *c;

    size = offsetof(ngx_http_mcp_oauth_entry_t, data) + len;

    if (type == NGX_HTTP_MCP_OAUTH_ENTRY_DOCUMENT
        && size > st->documents_max)
    {
        return NULL;
    }

    e = NULL;

    if (type != NGX_HTTP_MCP_OAUTH_ENTRY_DOCUMENT
        || st->sh->documents + size <= st->documents_max)
    {
        e = ngx_http_mcp_oauth_kv_alloc(&st->kv, size, 0);

        if (e == NULL && ngx_http_mcp_oauth_kv_expire(&st->kv, 0)) {
            e = ngx_http_mcp_oauth_kv_alloc(&st->kv, size, 0);
        }
    }

    for (q = ngx_queue_last(&st->sh->kv.queue);
         e == NULL && q != ngx_queue_sentinel(&st->sh->kv.queue);
         q = prev)
    {
        prev = ngx_queue_prev(q);
        c = (ngx_http_mcp_oauth_entry_t *)
                ngx_queue_data(q, ngx_http_mcp_oauth_kv_node_t, queue);

        if (c->type != NGX_HTTP_MCP_OAUTH_ENTRY_DOCUMENT
            && (c->type != NGX_HTTP_MCP_OAUTH_ENTRY_CONSENT
                || type != NGX_HTTP_MCP_OAUTH_ENTRY_REVOKED))
        {
            continue;
        }

        st->sh->kv.evicted++;
        ngx_http_mcp_oauth_kv_remove(&st->kv, &c->kv);

        if (type != NGX_HTTP_MCP_OAUTH_ENTRY_DOCUMENT
            || st->sh->documents + size <= st->documents_max)
        {
            e = ngx_http_mcp_oauth_kv_alloc(&st->kv, size, 0);
        }
    }

    if (e && type == NGX_HTTP_MCP_OAUTH_ENTRY_DOCUMENT) {
        st->sh->documents += size;
    }

    return e;
}


/* the counts follow what the store frees */

static void
ngx_http_mcp_oauth_store_free(ngx_http_mcp_oauth_kv_t *kv,
    ngx_http_mcp_oauth_kv_node_t *node)
{
    ngx_http_mcp_oauth_store_t  *st = (ngx_http_mcp_oauth_store_t *) kv;

    ngx_http_mcp_oauth_entry_t  *e;

    e = (ngx_http_mcp_oauth_entry_t *) node;

    if (e->type == NGX_HTTP_MCP_OAUTH_ENTRY_REVOKED) {
        st->sh->revocations--;
    }

    if (e->type == NGX_HTTP_MCP_OAUTH_ENTRY_DOCUMENT) {
        st->sh->documents -= offsetof(ngx_http_mcp_oauth_entry_t, data)
                             + e->len;
    }
}


static void
ngx_http_mcp_oauth_store_full(ngx_shm_zone_t *zone, ngx_log_t *log,
    char *lost)
{
    ngx_log_error(NGX_LOG_ERR, log, 0,
                  "mcp_oauth: zone \"%V\" is full of live entries, %s; "
                  "make it larger", &zone->shm.name, lost);
}


/*
 * Records: the fields of an entry, each as a 4-byte length and its bytes.
 */

ngx_int_t
ngx_http_mcp_oauth_record_add(ngx_pool_t *pool, ngx_str_t *rec,
    ngx_str_t *fields, ngx_uint_t n)
{
    u_char      *p;
    size_t       len;
    ngx_uint_t   i;

    len = 0;

    for (i = 0; i < n; i++) {
        len += 4 + fields[i].len;
    }

    rec->data = ngx_pnalloc(pool, len);
    if (rec->data == NULL) {
        return NGX_ERROR;
    }

    rec->len = len;
    p = rec->data;

    for (i = 0; i < n; i++) {
        *p++ = (u_char) (fields[i].len >> 24);
        *p++ = (u_char) (fields[i].len >> 16);
        *p++ = (u_char) (fields[i].len >> 8);
        *p++ = (u_char) fields[i].len;
        p = ngx_cpymem(p, fields[i].data, fields[i].len);
    }

    return NGX_OK;
}


ngx_int_t
ngx_http_mcp_oauth_record_get(ngx_str_t *rec, ngx_str_t *fields, ngx_uint_t n)
{
    u_char      *p, *last;
    size_t       len;
    ngx_uint_t   i;

    p = rec->data;
    last = rec->data + rec->len;

    for (i = 0; i < n; i++) {
        if (last - p < 4) {
            return NGX_ERROR;
        }

        len = ((size_t) p[0] << 24) | ((size_t) p[1] << 16)
              | ((size_t) p[2] << 8) | p[3];
        p += 4;

        if ((size_t) (last - p) < len) {
            return NGX_ERROR;
        }

        fields[i].data = p;
        fields[i].len = len;
        p += len;
    }

    return NGX_OK;
}


/* a zone key: SHA-256 of the parts, each but the last followed by a NUL */

void
ngx_http_mcp_oauth_sha256_parts(ngx_str_t **parts, ngx_uint_t n,
    u_char *digest)
{
    ngx_uint_t   i;
    EVP_MD_CTX  *md;

    md = EVP_MD_CTX_new();

    if (md == NULL || EVP_DigestInit_ex(md, EVP_sha256(), NULL) != 1) {
        goto failed;
    }

    for (i = 0; i < n; i++) {
        if (EVP_DigestUpdate(md, parts[i]->data, parts[i]->len) != 1
            || (i + 1 < n && EVP_DigestUpdate(md, "\0", 1) != 1))
        {
            goto failed;
        }
    }

    if (EVP_DigestFinal_ex(md, digest, NULL) == 1) {
        EVP_MD_CTX_free(md);
        return;
    }

failed:

    /* a key nothing else has: the lookup misses, the insert is lost */
    ngx_memset(digest, 0xff, 32);
    EVP_MD_CTX_free(md);
}


void
ngx_http_mcp_oauth_sha256(ngx_str_t *prefix, ngx_str_t *value, u_char *digest)
{
    ngx_str_t  *parts[2] = { prefix, value };

    ngx_http_mcp_oauth_sha256_parts(parts, 2, digest);
}


/* revoked grants (their "sid"), as long as any token of theirs may live */

static ngx_str_t  ngx_http_mcp_oauth_sid_prefix = ngx_string("grant");


/* NGX_OK: revoked; NGX_BUSY: it was already; NGX_DECLINED: the zone is full */

ngx_int_t
ngx_http_mcp_oauth_state_revoke(ngx_shm_zone_t *zone, ngx_str_t *sid,
    time_t expires, ngx_log_t *log)
{
    u_char  key[32];

    ngx_http_mcp_oauth_state_revocation_key(sid, key);

    return ngx_http_mcp_oauth_store_put(zone, key,
                                        NGX_HTTP_MCP_OAUTH_ENTRY_REVOKED,
                                        expires, NULL, log);
}


/* NGX_OK: revoked; NGX_DECLINED: not (the common case costs no lock) */

ngx_int_t
ngx_http_mcp_oauth_state_revoked(ngx_shm_zone_t *zone, ngx_str_t *sid)
{
    u_char  key[32];

    if (sid->len == 0 || zone == NULL
        || ngx_http_mcp_oauth_store_revocations(zone) == 0)
    {
        return NGX_DECLINED;
    }

    ngx_http_mcp_oauth_state_revocation_key(sid, key);

    return ngx_http_mcp_oauth_store_get(zone, key,
                                        NGX_HTTP_MCP_OAUTH_ENTRY_REVOKED,
                                        NULL, NULL, 0);
}


/* the key of a grant's revocation, in the zone and in the fleet's list */

void
ngx_http_mcp_oauth_state_revocation_key(ngx_str_t *sid, u_char *key)
{
    ngx_http_mcp_oauth_sha256(&ngx_http_mcp_oauth_sid_prefix, sid, key);
}
