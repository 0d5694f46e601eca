
/*
 * ngx_mcp_oauth_module: a JWK Set fetched by subrequest through a location
 * the operator configures (proxy_pass to the IAM's jwks_uri).
 *
 * The document is kept in a shared zone so that one fetch serves every
 * worker; each worker parses it once per change into its own EVP_PKEYs.
 * Fetches happen when there are no keys yet, when the cache time is over
 * (in the background, stale keys keep serving), and when a token names an
 * unknown kid (at most once per NGX_HTTP_MCP_OAUTH_KID_REFETCH).  A failed
 * fetch keeps the keys there are.
 */

#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include "ngx_http_mcp_oauth_module.h"


#define NGX_HTTP_MCP_OAUTH_JWKS_ZONE_SIZE  (1024 * 1024)
#define NGX_HTTP_MCP_OAUTH_KID_REFETCH     30    /* s */
#define NGX_HTTP_MCP_OAUTH_FETCH_RETRY     5     /* s, after a failure */
#define NGX_HTTP_MCP_OAUTH_FETCH_LOST      60    /* s, a fetch never done */
#define NGX_HTTP_MCP_OAUTH_SLEEP           50    /* ms */
#define NGX_HTTP_MCP_OAUTH_SLEEPS_MAX      200


typedef struct {
    ngx_uint_t                         generation;
    time_t                             fetched;      /* last success */
    time_t                             retry;        /* no fetch before */
    time_t                             kid_refetch;  /* last unknown kid */
    time_t                             fetching;     /* in flight since */
    size_t                             len;
    u_char                            *doc;
} ngx_http_mcp_oauth_jwks_sh_t;


struct ngx_http_mcp_oauth_jwks_remote_s {
    ngx_str_t                          uri;
    ngx_str_t                          args;
    ngx_shm_zone_t                    *zone;
    ngx_slab_pool_t                   *shpool;
    ngx_http_mcp_oauth_jwks_sh_t      *sh;

    /* this worker's keys, parsed from the shared document */
    ngx_uint_t                         generation;
    ngx_http_mcp_oauth_keyset_t       *keys;
};


typedef struct {
    ngx_http_mcp_oauth_jwks_remote_t  *remote;
    ngx_http_mcp_oauth_ctx_t          *ctx;          /* NULL: background */
    time_t                             started;      /* sh->fetching */
    time_t                             kid_refetch;  /* to give back */
    ngx_uint_t                         done;
} ngx_http_mcp_oauth_jwks_fetch_t;


static void ngx_http_mcp_oauth_jwks_remote_cleanup(void *data);
static ngx_int_t ngx_http_mcp_oauth_jwks_init_zone(ngx_shm_zone_t *shm_zone,
    void *data);
static void ngx_http_mcp_oauth_jwks_sync(ngx_http_mcp_oauth_jwks_remote_t *rm,
    ngx_log_t *log);
static ngx_int_t ngx_http_mcp_oauth_jwks_fetch(ngx_http_request_t *r,
    ngx_http_mcp_oauth_ctx_t *ctx, ngx_http_mcp_oauth_jwks_remote_t *rm,
    time_t started, time_t kid_refetch);
static void ngx_http_mcp_oauth_jwks_abandon(ngx_http_mcp_oauth_jwks_fetch_t *f);
static void ngx_http_mcp_oauth_jwks_fetch_cleanup(void *data);
static ngx_int_t ngx_http_mcp_oauth_jwks_done(ngx_http_request_t *r,
    void *data, ngx_int_t rc);
static ngx_int_t ngx_http_mcp_oauth_jwks_store(ngx_http_request_t *sr,
    ngx_http_mcp_oauth_jwks_remote_t *rm, char **err);
static void ngx_http_mcp_oauth_jwks_wake(ngx_http_request_t *r);


ngx_http_mcp_oauth_jwks_remote_t *
ngx_http_mcp_oauth_jwks_remote_add(ngx_conf_t *cf, ngx_str_t *uri)
{
    u_char                            *q;
    ngx_str_t                          name;
    ngx_uint_t                         n;
    ngx_pool_cleanup_t                *cln;
    ngx_http_mcp_oauth_jwks_remote_t  *rm;

    rm = ngx_pcalloc(cf->pool, sizeof(ngx_http_mcp_oauth_jwks_remote_t));
    if (rm == NULL) {
        return NULL;
    }

    rm->uri = *uri;

    q = ngx_strlchr(uri->data, uri->data + uri->len, '?');
    if (q) {
        rm->uri.len = q - uri->data;
        rm->args.data = q + 1;
        rm->args.len = uri->data + uri->len - q - 1;
    }

    /*
     * One zone per directive: the same URI in two servers may lead to two
     * IAMs.  The name stays the same across reloads of the same file; a
     * file included in several places numbers its occurrences.
     */

    name.data = ngx_pnalloc(cf->pool, sizeof("mcp_oauth_jwks:::#") + uri->len
                                      + cf->conf_file->file.name.len
                                      + 2 * NGX_INT_T_LEN);
    if (name.data == NULL) {
        return NULL;
    }

    for (n = 1; /* void */ ; n++) {
        name.len = ngx_sprintf(name.data, "mcp_oauth_jwks:%V:%V:%ui#%ui", uri,
                               &cf->conf_file->file.name, cf->conf_file->line,
                               n)
                   - name.data;

        rm->zone = ngx_shared_memory_add(cf, &name,
                                         NGX_HTTP_MCP_OAUTH_JWKS_ZONE_SIZE,
                                         &ngx_http_mcp_oauth_module);
        if (rm->zone == NULL) {
            return NULL;
        }

        if (rm->zone->data == NULL) {
            break;
        }
    }

    rm->zone->init = ngx_http_mcp_oauth_jwks_init_zone;
    rm->zone->data = rm;

    /* a worker's keys go with its cycle */

    cln = ngx_pool_cleanup_add(cf->pool, 0);
    if (cln == NULL) {
        return NULL;
    }

    cln->handler = ngx_http_mcp_oauth_jwks_remote_cleanup;
    cln->data = rm;

    return rm;
}


static void
ngx_http_mcp_oauth_jwks_remote_cleanup(void *data)
{
    ngx_http_mcp_oauth_jwks_remote_t  *rm = data;

    if (rm->keys) {
        ngx_destroy_pool(rm->keys->pool);
        rm->keys = NULL;
    }
}


static ngx_int_t
ngx_http_mcp_oauth_jwks_init_zone(ngx_shm_zone_t *shm_zone, void *data)
{
    ngx_http_mcp_oauth_jwks_remote_t  *orm = data;

    ngx_http_mcp_oauth_jwks_remote_t  *rm;

    rm = shm_zone->data;

    if (orm) {
        /* reload: keep the keys, refresh them in the background soon */

        rm->shpool = orm->shpool;
        rm->sh = orm->sh;

        if (rm->sh->fetched) {
            rm->sh->fetched = 1;
        }

        rm->sh->fetching = 0;
        rm->sh->retry = 0;

        return NGX_OK;
    }

    rm->shpool = (ngx_slab_pool_t *) shm_zone->shm.addr;

    if (shm_zone->shm.exists) {
        rm->sh = rm->shpool->data;
        return NGX_OK;
    }

    rm->sh = ngx_slab_calloc(rm->shpool, sizeof(ngx_http_mcp_oauth_jwks_sh_t));
    if (rm->sh == NULL) {
        return NGX_ERROR;
    }

    rm->shpool->data = rm->sh;
    rm->shpool->log_nomem = 0;

    return NGX_OK;
}


/*
 * The generation of the shared keys, for the verified-token cache;
 * NGX_DECLINED when they are due for a refresh (a cache hit must not keep
 * a request from triggering it).
 */

ngx_int_t
ngx_http_mcp_oauth_jwks_remote_generation(ngx_http_request_t *r,
    ngx_http_mcp_oauth_jwks_remote_t *rm, ngx_uint_t *generation)
{
    ngx_http_mcp_oauth_loc_conf_t  *mlcf;

    mlcf = ngx_http_get_module_loc_conf(r, ngx_http_mcp_oauth_module);

    if (rm->sh->fetched == 0
        || ngx_time() >= rm->sh->fetched + mlcf->jwks_cache)
    {
        return NGX_DECLINED;
    }

    *generation = rm->sh->generation;

    return NGX_OK;
}


/* the generation of the keys this worker verifies with */

ngx_uint_t
ngx_http_mcp_oauth_jwks_remote_parsed(ngx_http_mcp_oauth_jwks_remote_t *rm)
{
    return rm->generation;
}


/*
 * NGX_OK: *keys is what there is (NULL: nothing usable yet);
 * NGX_AGAIN: a fetch or a wait was started, the phase handler runs again.
 */

ngx_int_t
ngx_http_mcp_oauth_jwks_remote_keys(ngx_http_request_t *r,
    ngx_http_mcp_oauth_ctx_t *ctx, ngx_http_mcp_oauth_jwks_remote_t *rm,
    ngx_uint_t unknown_kid, ngx_http_mcp_oauth_keyset_t **keys)
{
    time_t                          now, kid_refetch;
    ngx_uint_t                      fetch, background, busy;
    ngx_http_mcp_oauth_jwks_sh_t   *sh;
    ngx_http_mcp_oauth_loc_conf_t  *mlcf;

    mlcf = ngx_http_get_module_loc_conf(r, ngx_http_mcp_oauth_module);
    sh = rm->sh;
    now = ngx_time();
    fetch = 0;
    background = 0;

    ngx_http_mcp_oauth_jwks_sync(rm, r->connection->log);

    ngx_shmtx_lock(&rm->shpool->mutex);

    busy = sh->fetching && now < sh->fetching + NGX_HTTP_MCP_OAUTH_FETCH_LOST;
    kid_refetch = sh->kid_refetch;

    if (!ctx->fetched && !busy && now >= sh->retry) {

        if (sh->fetched == 0) {
            fetch = 1;

        } else if (now >= sh->fetched + mlcf->jwks_cache) {
            fetch = 1;
            background = 1;

        } else if (unknown_kid
                   && now >= sh->kid_refetch + NGX_HTTP_MCP_OAUTH_KID_REFETCH)
        {
            fetch = 1;
            sh->kid_refetch = now;
        }

        if (fetch) {
            sh->fetching = now;
        }
    }

    ngx_shmtx_unlock(&rm->shpool->mutex);

    *keys = rm->keys;

    if (fetch) {
        if (ngx_http_mcp_oauth_jwks_fetch(r, background ? NULL : ctx, rm, now,
                                          kid_refetch)
            != NGX_OK)
        {
            ngx_shmtx_lock(&rm->shpool->mutex);
            sh->fetching = 0;
            ngx_shmtx_unlock(&rm->shpool->mutex);
            return NGX_ERROR;
        }

        if (!background) {
            ctx->fetching = 1;
            return NGX_AGAIN;
        }

        return NGX_OK;
    }

    if (busy && (rm->keys == NULL || unknown_kid)
        && ctx->sleeps++ < NGX_HTTP_MCP_OAUTH_SLEEPS_MAX)
    {
        /* another request fetches the keys this one needs: wait for them */

        r->read_event_handler = ngx_http_test_reading;
        r->write_event_handler = ngx_http_mcp_oauth_jwks_wake;
        r->connection->write->delayed = 1;
        ngx_add_timer(r->connection->write, NGX_HTTP_MCP_OAUTH_SLEEP);

        return NGX_AGAIN;
    }

    return NGX_OK;
}


static void
ngx_http_mcp_oauth_jwks_sync(ngx_http_mcp_oauth_jwks_remote_t *rm,
    ngx_log_t *log)
{
    char                         *err;
    u_char                       *copy;
    size_t                        len;
    ngx_pool_t                   *pool;
    ngx_uint_t                    generation;
    ngx_http_mcp_oauth_keyset_t  *ks;

    if (rm->generation == rm->sh->generation) {
        return;
    }

    /* the keys outlive the request: their pool logs to the cycle */

    pool = ngx_create_pool(NGX_DEFAULT_POOL_SIZE, ngx_cycle->log);
    if (pool == NULL) {
        return;
    }

    ngx_shmtx_lock(&rm->shpool->mutex);

    generation = rm->sh->generation;
    len = rm->sh->len;
    copy = ngx_pnalloc(pool, len);

    if (copy) {
        ngx_memcpy(copy, rm->sh->doc, len);
    }

    ngx_shmtx_unlock(&rm->shpool->mutex);

    if (copy == NULL) {
        ngx_destroy_pool(pool);
        return;
    }

    ks = ngx_http_mcp_oauth_jwks_parse(pool, log, NGX_LOG_DEBUG, copy, len,
                                       0, &err);
    if (ks == NULL) {
        /* the document was checked before it was stored */
        ngx_log_error(NGX_LOG_ERR, log, 0,
                      "mcp_oauth: cached JWKS unusable: %s", err);
        ngx_destroy_pool(pool);
        return;
    }

    if (rm->keys) {
        ngx_destroy_pool(rm->keys->pool);
    }

    rm->keys = ks;
    rm->generation = generation;
}


static ngx_int_t
ngx_http_mcp_oauth_jwks_fetch(ngx_http_request_t *r,
    ngx_http_mcp_oauth_ctx_t *ctx, ngx_http_mcp_oauth_jwks_remote_t *rm,
    time_t started, time_t kid_refetch)
{
    ngx_uint_t                   flags;
    ngx_pool_cleanup_t          *cln;
    ngx_http_post_subrequest_t  *ps;
    ngx_http_mcp_oauth_jwks_fetch_t  *f;

    ngx_log_debug2(NGX_LOG_DEBUG_HTTP, r->connection->log, 0,
                   "mcp_oauth: fetching JWKS from \"%V\"%s", &rm->uri,
                   ctx ? "" : " in the background");

    f = ngx_palloc(r->pool, sizeof(ngx_http_mcp_oauth_jwks_fetch_t));
    ps = ngx_palloc(r->pool, sizeof(ngx_http_post_subrequest_t));
    if (f == NULL || ps == NULL) {
        return NGX_ERROR;
    }

    f->remote = rm;
    f->ctx = ctx;
    f->started = started;
    f->kid_refetch = kid_refetch;
    f->done = 0;

    /* a request that ends before its subrequest must not block the others */

    cln = ngx_pool_cleanup_add(r->pool, 0);
    if (cln == NULL) {
        return NGX_ERROR;
    }

    cln->handler = ngx_http_mcp_oauth_jwks_fetch_cleanup;
    cln->data = f;

    ps->handler = ngx_http_mcp_oauth_jwks_done;
    ps->data = f;

    /*
     * Not NGX_HTTP_SUBREQUEST_IN_MEMORY: a document larger than its buffer
     * would terminate the client's request.  The filter module collects the
     * body instead and only notes when it is too large.
     */

    flags = ctx ? NGX_HTTP_SUBREQUEST_WAITED : NGX_HTTP_SUBREQUEST_BACKGROUND;

    if (ngx_http_mcp_oauth_capture_subrequest(r, &rm->uri,
                                              rm->args.len ? &rm->args : NULL,
                                              ps, flags)
        == NULL)
    {
        return NGX_ERROR;
    }

    return NGX_OK;
}


static ngx_int_t
ngx_http_mcp_oauth_jwks_done(ngx_http_request_t *r, void *data, ngx_int_t rc)
{
    ngx_http_mcp_oauth_jwks_fetch_t *f = data;

    char                              *err;
    ngx_uint_t                         status;
    ngx_http_mcp_oauth_jwks_remote_t  *rm;

    /*
     * A subrequest that fails before a response (connection refused,
     * timeout) is finalized twice: with the error code, then after its
     * error page.  The first call decides.
     */

    if (f->done) {
        return rc;
    }

    f->done = 1;
    rm = f->remote;

    if (f->ctx) {
        f->ctx->fetching = 0;
        f->ctx->fetched = 1;
    }

    if (rc == NGX_HTTP_CLIENT_CLOSED_REQUEST || r->connection->error) {
        /* the client left, the IdP did not fail: no retry delay */
        ngx_http_mcp_oauth_jwks_abandon(f);
        return rc;
    }

    err = NULL;
    status = (rc >= NGX_HTTP_SPECIAL_RESPONSE) ? (ngx_uint_t) rc
                                               : r->headers_out.status;

    if (rc == NGX_ERROR || status != NGX_HTTP_OK) {
        err = "no 200 response";

    } else if (ngx_http_mcp_oauth_jwks_store(r, rm, &err) == NGX_OK) {
        ngx_http_mcp_oauth_metric_add(r, NGX_HTTP_MCP_OAUTH_M_JWKS_FETCHES,
                                      (char *) rm->uri.data, rm->uri.len,
                                      "ok", 2, 1);
        ngx_http_mcp_oauth_metric_set(r, NGX_HTTP_MCP_OAUTH_M_JWKS_FETCHED,
                                      &rm->uri, ngx_time());
        return rc;
    }

    ngx_http_mcp_oauth_metric_add(r, NGX_HTTP_MCP_OAUTH_M_JWKS_FETCHES,
                                  (char *) rm->uri.data, rm->uri.len,
                                  "failed", 6, 1);

    ngx_log_error(NGX_LOG_ERR, r->connection->log, 0,
                  "mcp_oauth: JWKS fetch from \"%V\" failed (status %ui): "
                  "%s; keeping the keys there are", &rm->uri, status, err);

    ngx_shmtx_lock(&rm->shpool->mutex);
    rm->sh->fetching = 0;
    rm->sh->retry = ngx_time() + NGX_HTTP_MCP_OAUTH_FETCH_RETRY;
    ngx_shmtx_unlock(&rm->shpool->mutex);

    return rc;
}


static void
ngx_http_mcp_oauth_jwks_fetch_cleanup(void *data)
{
    ngx_http_mcp_oauth_jwks_fetch_t *f = data;

    if (!f->done) {
        f->done = 1;
        ngx_http_mcp_oauth_jwks_abandon(f);
    }
}


/* a fetch that will not finish: the next request may start one at once */

static void
ngx_http_mcp_oauth_jwks_abandon(ngx_http_mcp_oauth_jwks_fetch_t *f)
{
    ngx_http_mcp_oauth_jwks_sh_t  *sh;

    sh = f->remote->sh;

    ngx_shmtx_lock(&f->remote->shpool->mutex);

    if (sh->fetching == f->started) {
        sh->fetching = 0;
        sh->kid_refetch = f->kid_refetch;
    }

    ngx_shmtx_unlock(&f->remote->shpool->mutex);
}


static ngx_int_t
ngx_http_mcp_oauth_jwks_store(ngx_http_request_t *sr,
    ngx_http_mcp_oauth_jwks_remote_t *rm, char **err)
{
    u_char                         *doc;
    size_t                          len;
    ngx_pool_t                     *pool;
    ngx_http_mcp_oauth_keyset_t    *ks;
    ngx_http_mcp_oauth_jwks_sh_t   *sh;
    ngx_http_mcp_oauth_capture_t   *cap;

    cap = ngx_http_mcp_oauth_capture_get(sr);

    if (cap->too_large) {
        *err = "document larger than subrequest_output_buffer_size";
        return NGX_ERROR;
    }

    if (cap->len == 0) {
        *err = "empty response";
        return NGX_ERROR;
    }

    len = cap->len;

    pool = ngx_create_pool(NGX_DEFAULT_POOL_SIZE, ngx_cycle->log);
    if (pool == NULL) {
        *err = "out of memory";
        return NGX_ERROR;
    }

    /* keys are checked before the document is shared */

    ks = ngx_http_mcp_oauth_jwks_parse(pool, sr->connection->log, NGX_LOG_WARN,
                                       cap->data, len, 0, err);
    if (ks == NULL) {
        ngx_destroy_pool(pool);
        return NGX_ERROR;
    }

    ngx_http_mcp_oauth_metric_set(sr, NGX_HTTP_MCP_OAUTH_M_JWKS_KEYS,
                                  &rm->uri, ks->keys.nelts);

    sh = rm->sh;

    ngx_shmtx_lock(&rm->shpool->mutex);

    doc = ngx_slab_alloc_locked(rm->shpool, len);

    if (doc == NULL) {
        ngx_shmtx_unlock(&rm->shpool->mutex);
        ngx_destroy_pool(pool);
        *err = "JWKS larger than the shared cache";
        return NGX_ERROR;
    }

    if (sh->doc) {
        ngx_slab_free_locked(rm->shpool, sh->doc);
    }

    ngx_memcpy(doc, cap->data, len);
    sh->doc = doc;
    sh->len = len;
    sh->generation++;
    sh->fetched = ngx_time();
    sh->fetching = 0;
    sh->retry = 0;

    if (rm->keys) {
        ngx_destroy_pool(rm->keys->pool);
    }

    rm->keys = ks;
    rm->generation = sh->generation;

    ngx_shmtx_unlock(&rm->shpool->mutex);

    ngx_log_error(NGX_LOG_INFO, sr->connection->log, 0,
                  "mcp_oauth: JWKS from \"%V\" updated, %ui keys",
                  &rm->uri, ks->keys.nelts);

    return NGX_OK;
}


static void
ngx_http_mcp_oauth_jwks_wake(ngx_http_request_t *r)
{
    ngx_event_t  *wev;

    wev = r->connection->write;

    if (wev->delayed) {
        if (ngx_handle_write_event(wev, 0) != NGX_OK) {
            ngx_http_finalize_request(r, NGX_HTTP_INTERNAL_SERVER_ERROR);
        }

        return;
    }

    if (ngx_handle_read_event(r->connection->read, 0) != NGX_OK) {
        ngx_http_finalize_request(r, NGX_HTTP_INTERNAL_SERVER_ERROR);
        return;
    }

    r->read_event_handler = ngx_http_block_reading;
    r->write_event_handler = ngx_http_core_run_phases;

    ngx_http_core_run_phases(r);
}
