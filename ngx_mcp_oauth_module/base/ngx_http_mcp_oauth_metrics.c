
/*
 * ngx_mcp_oauth_module: the metrics.  One shared zone for the http{} block
 * ("mcp_oauth_metrics", kept across reloads as limit_req keeps its
 * states): a fixed table of series, each a metric, up to two label values
 * and an atomic counter, found by a hash of the three.  A series is added
 * once, under the zone's lock; counting is an atomic add.  When the table
 * is full a new series counts under the label value "other" (the table
 * keeps room for those), so what clients send never grows it without
 * bound: tool labels are the names of the rules that matched, reasons the
 * module's own error descriptions, methods those of MCP.
 */

#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include "ngx_http_mcp_oauth_module.h"
#include "ngx_http_mcp_oauth_metrics.h"
#include "ngx_http_mcp_oauth_shm_kv.h"


#define NGX_HTTP_MCP_OAUTH_SERIES      2048
#define NGX_HTTP_MCP_OAUTH_LABEL_MAX   64


typedef struct {
    ngx_atomic_t                  value;
    uint32_t                      hash;        /* 0: a free slot */
    u_char                        metric;
    u_char                        len1;
    u_char                        len2;
    u_char                        label[2 * NGX_HTTP_MCP_OAUTH_LABEL_MAX];
} ngx_http_mcp_oauth_series_t;


typedef struct {
    ngx_uint_t                    used;
    ngx_http_mcp_oauth_series_t   series[NGX_HTTP_MCP_OAUTH_SERIES];
} ngx_http_mcp_oauth_metrics_sh_t;


typedef struct {
    const char                   *name;
    const char                   *help;
    const char                   *type;
    const char                   *label1;
    const char                   *label2;
} ngx_http_mcp_oauth_metric_t;


static ngx_http_mcp_oauth_metric_t  ngx_http_mcp_oauth_metric_defs[] = {
    { "nginx_mcp_oauth_requests_total",
      "Requests to mcp_oauth locations by decision and reason.",
      "counter", "decision", "reason" },
    { "nginx_mcp_oauth_jsonrpc_messages_total",
      "JSON-RPC messages checked, by method (others: \"other\").",
      "counter", "method", NULL },
    { "nginx_mcp_oauth_tool_calls_total",
      "tools/call messages by the rule that matched (\"other\": none) and "
      "decision.",
      "counter", "tool", "decision" },
    { "nginx_mcp_oauth_jwks_fetches_total",
      "JWK Set fetches by source (mcp_oauth_jwks_request) and result.",
      "counter", "source", "result" },
    { "nginx_mcp_oauth_jwks_last_success_timestamp_seconds",
      "When a JWK Set was last fetched and parsed, by source.",
      "gauge", "source", NULL },
    { "nginx_mcp_oauth_jwks_keys",
      "Keys of the JWK Set last fetched, by source.",
      "gauge", "source", NULL },
    { "nginx_mcp_oauth_token_cache_lookups_total",
      "Verified-token cache lookups by result.",
      "counter", "result", NULL },
    { "nginx_mcp_oauth_authorizations_total",
      "Authorization requests (/authorize and the bridge callback) by "
      "result.",
      "counter", "result", NULL },
    { "nginx_mcp_oauth_tokens_issued_total",
      "Access tokens issued by grant type.",
      "counter", "grant_type", NULL },
    { "nginx_mcp_oauth_token_errors_total",
      "Token endpoint refusals by OAuth error.",
      "counter", "error", NULL },
    { "nginx_mcp_oauth_replays_total",
      "Single-use credentials presented again (a code's or refresh "
      "token's grant is revoked; an assertion is refused).",
      "counter", "credential", NULL },
    { "nginx_mcp_oauth_revocations_total",
      "Grants revoked (RFC 7009, or after a replay).",
      "counter", NULL, NULL },
    { "nginx_mcp_oauth_registrations_total",
      "Dynamic client registrations by result.",
      "counter", "result", NULL },
    { "nginx_mcp_oauth_client_metadata_fetches_total",
      "Client ID Metadata Document fetches by result.",
      "counter", "result", NULL },
    { "nginx_mcp_oauth_iam_exchanges_total",
      "Calls of the IAM's token endpoint by the bridge, by result.",
      "counter", "result", NULL },
    { "nginx_mcp_oauth_state_errors_total",
      "State operations that failed (the state was unavailable or full).",
      "counter", "backend", NULL },
};


static ngx_int_t ngx_http_mcp_oauth_metrics_init(ngx_shm_zone_t *zone,
    void *data);
static ngx_http_mcp_oauth_series_t *ngx_http_mcp_oauth_series(
    ngx_http_request_t *r, ngx_http_mcp_oauth_metric_e m, const char *l1,
    size_t len1, const char *l2, size_t len2);
static ngx_http_mcp_oauth_series_t *ngx_http_mcp_oauth_series_find(
    ngx_http_mcp_oauth_metrics_sh_t *sh, uint32_t hash, u_char *key,
    size_t len, ngx_uint_t insert);
static ngx_int_t ngx_http_mcp_oauth_metrics_handler(ngx_http_request_t *r);
static u_char *ngx_http_mcp_oauth_label_value(u_char *p, u_char *v,
    size_t len);
static u_char *ngx_http_mcp_oauth_zones(u_char *p,
    ngx_http_mcp_oauth_main_conf_t *mmcf);


typedef struct {
    ngx_shm_zone_t               *zone;
    const char                   *kind;
} ngx_http_mcp_oauth_watched_t;


static ngx_str_t  ngx_http_mcp_oauth_metrics_name =
    ngx_string("mcp_oauth_metrics");


/*
 * This worker's series of labels that stay where they are (literals, the
 * configuration's rule names): found by their addresses, no hash of their
 * bytes on the path of every request.  A worker's own, and its cycle's
 * (the configuration's names move with a reload); the series themselves
 * stay in the zone.
 */

#define NGX_HTTP_MCP_OAUTH_SERIES_CACHE  64

typedef struct {
    const char                   *l1;
    const char                   *l2;
    size_t                        len1;
    size_t                        len2;
    ngx_uint_t                    metric;
    volatile ngx_cycle_t         *cycle;
    ngx_http_mcp_oauth_series_t  *series;
} ngx_http_mcp_oauth_series_cache_t;

static ngx_http_mcp_oauth_series_cache_t
    ngx_http_mcp_oauth_series_cache[NGX_HTTP_MCP_OAUTH_SERIES_CACHE];


/* postconfiguration, when a location has "mcp_oauth" or is an AS's */

ngx_int_t
ngx_http_mcp_oauth_metrics_zone(ngx_conf_t *cf)
{
    ngx_shm_zone_t                  *zone;
    ngx_http_mcp_oauth_main_conf_t  *mmcf;

    mmcf = ngx_http_conf_get_module_main_conf(cf, ngx_http_mcp_oauth_module);

    if (mmcf->metrics) {
        return NGX_OK;
    }

    zone = ngx_shared_memory_add(cf, &ngx_http_mcp_oauth_metrics_name,
                                 sizeof(ngx_http_mcp_oauth_metrics_sh_t)
                                 + 8 * ngx_pagesize,
                                 &ngx_http_mcp_oauth_module);
    if (zone == NULL) {
        return NGX_ERROR;
    }

    zone->init = ngx_http_mcp_oauth_metrics_init;
    mmcf->metrics = zone;

    return NGX_OK;
}


static ngx_int_t
ngx_http_mcp_oauth_metrics_init(ngx_shm_zone_t *zone, void *data)
{
    ngx_slab_pool_t                  *shpool;
    ngx_http_mcp_oauth_metrics_sh_t  *sh;

    if (data) {
        /* reload: the counters carry on */
        zone->data = data;
        return NGX_OK;
    }

    shpool = (ngx_slab_pool_t *) zone->shm.addr;

    if (zone->shm.exists) {
        zone->data = shpool->data;
        return NGX_OK;
    }

    sh = ngx_slab_calloc(shpool, sizeof(ngx_http_mcp_oauth_metrics_sh_t));
    if (sh == NULL) {
        return NGX_ERROR;
    }

    shpool->data = sh;
    zone->data = sh;

    return NGX_OK;
}


void
ngx_http_mcp_oauth_metric_add(ngx_http_request_t *r,
    ngx_http_mcp_oauth_metric_e m, const char *l1, size_t len1,
    const char *l2, size_t len2, int64_t n)
{
    ngx_http_mcp_oauth_series_t  *s;

    s = ngx_http_mcp_oauth_series(r, m, l1, len1, l2, len2);

    if (s) {
        (void) ngx_atomic_fetch_add(&s->value, n);
    }
}


/* the same, for labels that stay where they are (see the cache above) */

void
ngx_http_mcp_oauth_metric_add_fixed(ngx_http_request_t *r,
    ngx_http_mcp_oauth_metric_e m, const char *l1, size_t len1,
    const char *l2, size_t len2)
{
    ngx_uint_t                          i;
    ngx_http_mcp_oauth_series_cache_t  *c;

    i = (((uintptr_t) l1 >> 3) ^ ((uintptr_t) l2 >> 2) ^ (m << 1) ^ len1)
        % NGX_HTTP_MCP_OAUTH_SERIES_CACHE;
    c = &ngx_http_mcp_oauth_series_cache[i];

    if (c->series == NULL || c->l1 != l1 || c->l2 != l2 || c->len1 != len1
        || c->len2 != len2 || c->metric != (ngx_uint_t) m
        || c->cycle != ngx_cycle)
    {
        c->series = ngx_http_mcp_oauth_series(r, m, l1, len1, l2, len2);
        c->cycle = ngx_cycle;
        c->l1 = l1;
        c->l2 = l2;
        c->len1 = len1;
        c->len2 = len2;
        c->metric = m;

        if (c->series == NULL) {
            return;
        }
    }

    (void) ngx_atomic_fetch_add(&c->series->value, 1);
}


void
ngx_http_mcp_oauth_count(ngx_http_request_t *r,
    ngx_http_mcp_oauth_metric_e m, const char *l1, const char *l2)
{
    ngx_http_mcp_oauth_metric_add(r, m, l1, l1 ? ngx_strlen(l1) : 0,
                                  l2, l2 ? ngx_strlen(l2) : 0, 1);
}


void
ngx_http_mcp_oauth_metric_set(ngx_http_request_t *r,
    ngx_http_mcp_oauth_metric_e m, ngx_str_t *l1, int64_t value)
{
    ngx_http_mcp_oauth_series_t  *s;

    s = ngx_http_mcp_oauth_series(r, m, (char *) l1->data, l1->len, NULL, 0);

    if (s) {
        s->value = value;
    }
}


/* the series of a metric and its labels, added if new */

static ngx_http_mcp_oauth_series_t *
ngx_http_mcp_oauth_series(ngx_http_request_t *r,
    ngx_http_mcp_oauth_metric_e m, const char *l1, size_t len1,
    const char *l2, size_t len2)
{
    u_char                            key[2 + 2 * NGX_HTTP_MCP_OAUTH_LABEL_MAX];
    size_t                            len;
    uint32_t                          hash;
    ngx_slab_pool_t                  *shpool;
    ngx_http_mcp_oauth_series_t      *s;
    ngx_http_mcp_oauth_main_conf_t   *mmcf;
    ngx_http_mcp_oauth_metrics_sh_t  *sh;

    mmcf = ngx_http_get_module_main_conf(r, ngx_http_mcp_oauth_module);

    if (mmcf->metrics == NULL) {
        return NULL;
    }

    sh = mmcf->metrics->data;

    len1 = ngx_min(len1, NGX_HTTP_MCP_OAUTH_LABEL_MAX);
    len2 = ngx_min(len2, NGX_HTTP_MCP_OAUTH_LABEL_MAX);

    /* the key: metric, the first label's length, both labels */

    key[0] = (u_char) m;
    key[1] = (u_char) len1;

    if (len1) {
        ngx_memcpy(key + 2, l1, len1);
    }

    if (len2) {
        ngx_memcpy(key + 2 + len1, l2, len2);
    }

    len = 2 + len1 + len2;

    hash = ngx_murmur_hash2(key, len) | 1;

    s = ngx_http_mcp_oauth_series_find(sh, hash, key, len, 0);
    if (s) {
        return s;
    }

    shpool = (ngx_slab_pool_t *) mmcf->metrics->shm.addr;

    ngx_shmtx_lock(&shpool->mutex);

    /* a quarter of the table stays for the "other" series */

    if (sh->used >= NGX_HTTP_MCP_OAUTH_SERIES * 3 / 4
        && ngx_http_mcp_oauth_series_find(sh, hash, key, len, 0) == NULL)
    {
        ngx_shmtx_unlock(&shpool->mutex);

        if (len1 == 5 && ngx_strncmp(l1, "other", 5) == 0) {
            return NULL;
        }

        /* the label clients choose is the first but for tool calls */

        if (m == NGX_HTTP_MCP_OAUTH_M_TOOL_CALLS
            || m == NGX_HTTP_MCP_OAUTH_M_METHODS)
        {
            return ngx_http_mcp_oauth_series(r, m, "other", 5, l2, len2);
        }

        return ngx_http_mcp_oauth_series(r, m, l1, len1, "other", 5);
    }

    s = ngx_http_mcp_oauth_series_find(sh, hash, key, len, 1);

    if (s && s->hash == 0) {
        s->metric = (u_char) m;
        s->len1 = (u_char) len1;
        s->len2 = (u_char) len2;
        ngx_memcpy(s->label, key + 2, len1 + len2);
        ngx_memory_barrier();
        s->hash = hash;
        sh->used++;
    }

    ngx_shmtx_unlock(&shpool->mutex);

    return s;
}


/* open addressing; "insert": the free slot where it would be */

static ngx_http_mcp_oauth_series_t *
ngx_http_mcp_oauth_series_find(ngx_http_mcp_oauth_metrics_sh_t *sh,
    uint32_t hash, u_char *key, size_t len, ngx_uint_t insert)
{
    ngx_uint_t                    i, n;
    ngx_http_mcp_oauth_series_t  *s;

    for (n = 0, i = hash % NGX_HTTP_MCP_OAUTH_SERIES;
         n < NGX_HTTP_MCP_OAUTH_SERIES;
         n++, i = (i + 1) % NGX_HTTP_MCP_OAUTH_SERIES)
    {
        s = &sh->series[i];

        if (s->hash == 0) {
            return insert ? s : NULL;
        }

        if (s->hash == hash && s->metric == key[0] && s->len1 == key[1]
            && (size_t) (2 + s->len1 + s->len2) == len
            && ngx_memcmp(s->label, key + 2, len - 2) == 0)
        {
            return s;
        }
    }

    return NULL;
}


ngx_int_t
ngx_http_mcp_oauth_metrics_watch(ngx_conf_t *cf, ngx_shm_zone_t *zone,
    const char *kind)
{
    ngx_uint_t                       i;
    ngx_http_mcp_oauth_watched_t    *w;
    ngx_http_mcp_oauth_main_conf_t  *mmcf;

    mmcf = ngx_http_conf_get_module_main_conf(cf, ngx_http_mcp_oauth_module);

    if (mmcf->watched == NULL) {
        mmcf->watched = ngx_array_create(cf->pool, 4,
                                         sizeof(ngx_http_mcp_oauth_watched_t));
        if (mmcf->watched == NULL) {
            return NGX_ERROR;
        }
    }

    w = mmcf->watched->elts;

    for (i = 0; i < mmcf->watched->nelts; i++) {
        if (w[i].zone == zone) {
            return NGX_OK;
        }
    }

    w = ngx_array_push(mmcf->watched);
    if (w == NULL) {
        return NGX_ERROR;
    }

    w->zone = zone;
    w->kind = kind;

    return NGX_OK;
}


/* mcp_oauth_metrics: the content handler of a location */

char *
ngx_http_mcp_oauth_metrics(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    ngx_http_core_loc_conf_t  *clcf;

    clcf = ngx_http_conf_get_module_loc_conf(cf, ngx_http_core_module);
    clcf->handler = ngx_http_mcp_oauth_metrics_handler;

    if (ngx_http_mcp_oauth_metrics_zone(cf) != NGX_OK) {
        return NGX_CONF_ERROR;
    }

    return NGX_CONF_OK;
}


/*
 * The Prometheus text exposition format (version 0.0.4): per metric its
 * HELP and TYPE, then its series.  Read without the lock: a counter read
 * while another worker adds is one value or the other.
 */

static ngx_int_t
ngx_http_mcp_oauth_metrics_handler(ngx_http_request_t *r)
{
    u_char                           *p;
    size_t                            len;
    ngx_int_t                         rc;
    ngx_str_t                         body;
    ngx_uint_t                        m, i, empty;
    ngx_http_mcp_oauth_metric_t      *d;
    ngx_http_mcp_oauth_series_t      *s;
    ngx_http_mcp_oauth_main_conf_t   *mmcf;
    ngx_http_mcp_oauth_metrics_sh_t  *sh;

    if (!(r->method & (NGX_HTTP_GET|NGX_HTTP_HEAD))) {
        return NGX_HTTP_NOT_ALLOWED;
    }

    rc = ngx_http_discard_request_body(r);
    if (rc != NGX_OK) {
        return rc;
    }

    mmcf = ngx_http_get_module_main_conf(r, ngx_http_mcp_oauth_module);
    sh = mmcf->metrics->data;

    /* the longest a series' line can be: its labels escaped (x2) */

    len = 0;

    for (m = 0; m < NGX_HTTP_MCP_OAUTH_M_N; m++) {
        d = &ngx_http_mcp_oauth_metric_defs[m];
        len += sizeof("# HELP  \n# TYPE  \n") + 2 * ngx_strlen(d->name)
               + ngx_strlen(d->help) + ngx_strlen(d->type);
    }

    len += NGX_HTTP_MCP_OAUTH_SERIES
           * (64 + 4 * NGX_HTTP_MCP_OAUTH_LABEL_MAX + 32 + NGX_INT64_LEN);

    len += 1024 + (mmcf->watched ? mmcf->watched->nelts : 0)
                  * 3 * (96 + 2 * 256 + NGX_ATOMIC_T_LEN);

    p = ngx_pnalloc(r->pool, len);
    if (p == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    body.data = p;

    for (m = 0; m < NGX_HTTP_MCP_OAUTH_M_N; m++) {
        d = &ngx_http_mcp_oauth_metric_defs[m];

        p = ngx_sprintf(p, "# HELP %s %s\n# TYPE %s %s\n", d->name, d->help,
                        d->name, d->type);

        empty = 1;

        for (i = 0; i < NGX_HTTP_MCP_OAUTH_SERIES; i++) {
            s = &sh->series[i];

            if (s->hash == 0 || s->metric != m) {
                continue;
            }

            empty = 0;
            p = ngx_sprintf(p, "%s", d->name);

            if (d->label1) {
                p = ngx_sprintf(p, "{%s=\"", d->label1);
                p = ngx_http_mcp_oauth_label_value(p, s->label, s->len1);
                *p++ = '"';

                if (d->label2) {
                    p = ngx_sprintf(p, ",%s=\"", d->label2);
                    p = ngx_http_mcp_oauth_label_value(p, s->label + s->len1,
                                                       s->len2);
                    *p++ = '"';
                }

                *p++ = '}';
            }

            p = ngx_sprintf(p, " %A\n", s->value);
        }

        if (empty && d->label1 == NULL) {
            p = ngx_sprintf(p, "%s 0\n", d->name);
        }
    }

    p = ngx_http_mcp_oauth_zones(p, mmcf);

    body.len = p - body.data;

    return ngx_http_mcp_oauth_send_body(r, NGX_HTTP_OK,
                                        "text/plain; version=0.0.4; "
                                        "charset=utf-8", &body);
}


/* a label value: backslash, double quote and line feed escaped */

static u_char *
ngx_http_mcp_oauth_label_value(u_char *p, u_char *v, size_t len)
{
    size_t  i;

    for (i = 0; i < len; i++) {
        switch (v[i]) {

        case '\\':
        case '"':
            *p++ = '\\';
            *p++ = v[i];
            break;

        case '\n':
            *p++ = '\\';
            *p++ = 'n';
            break;

        default:
            *p++ = v[i];
        }
    }

    return p;
}


/* the shared zones: their size, what is used of it, what was evicted */

static u_char *
ngx_http_mcp_oauth_zones(u_char *p, ngx_http_mcp_oauth_main_conf_t *mmcf)
{
    size_t                         size, used;
    ngx_uint_t                     i, k;
    ngx_slab_pool_t               *shpool;
    ngx_http_mcp_oauth_kv_t       *kv;
    ngx_http_mcp_oauth_watched_t  *w;

    static const char  *head[] = {
        "# HELP nginx_mcp_oauth_zone_size_bytes The size of a shared zone.\n"
        "# TYPE nginx_mcp_oauth_zone_size_bytes gauge\n",
        "# HELP nginx_mcp_oauth_zone_used_bytes What is allocated of a shared "
        "zone (its pages in use).\n"
        "# TYPE nginx_mcp_oauth_zone_used_bytes gauge\n",
        "# HELP nginx_mcp_oauth_zone_evictions_total Live entries a shared "
        "zone gave up to make room.\n"
        "# TYPE nginx_mcp_oauth_zone_evictions_total counter\n"
    };

    static const char  *name[] = {
        "nginx_mcp_oauth_zone_size_bytes",
        "nginx_mcp_oauth_zone_used_bytes",
        "nginx_mcp_oauth_zone_evictions_total"
    };

    w = mmcf->watched ? mmcf->watched->elts : NULL;

    for (k = 0; k < 3; k++) {
        p = ngx_sprintf(p, "%s", head[k]);

        for (i = 0; w && i < mmcf->watched->nelts; i++) {
            shpool = (ngx_slab_pool_t *) w[i].zone->shm.addr;
            kv = w[i].zone->data;

            if (shpool == NULL || kv == NULL || kv->sh == NULL) {
                continue;
            }

            size = w[i].zone->shm.size;
            used = (size_t) (shpool->end - shpool->start)
                   - shpool->pfree * ngx_pagesize;

            p = ngx_sprintf(p, "%s{zone=\"", name[k]);
            p = ngx_http_mcp_oauth_label_value(p, w[i].zone->shm.name.data,
                            ngx_min(w[i].zone->shm.name.len, 256));
            p = ngx_sprintf(p, "\",kind=\"%s\"} %uz\n", w[i].kind,
                            k == 0 ? size
                            : k == 1 ? used : (size_t) kv->sh->evicted);
        }
    }

    return p;
}
