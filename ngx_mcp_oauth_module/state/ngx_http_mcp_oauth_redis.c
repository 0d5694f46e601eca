
/*
 * ngx_mcp_oauth_module: "mcp_oauth_redis_pass", an upstream handler that
 * speaks RESP to Redis, as ngx_http_memcached_module speaks memcached, so
 * that nginx's upstream {} gives the state keep-alive connections,
 * timeouts and failover.  It serves only the module's own state
 * subrequests (..._state_redis.c): their body is one RESP command, the
 * answer's body the one RESP reply.  AUTH and SELECT, when configured, go
 * before the command in the same write.  A reply that is an error, or
 * that is not RESP, is logged here and answered 502.
 */

#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include "ngx_http_mcp_oauth_module.h"
#include "ngx_http_mcp_oauth_state.h"
#include "ngx_http_mcp_oauth_resp.h"


/* the locations of "mcp_oauth_redis_pass", for "mcp_oauth_state_request" */
typedef struct {
    ngx_array_t                    locations;  /* of the loc_conf_t below */
} ngx_http_mcp_oauth_redis_main_conf_t;


typedef struct {
    ngx_http_upstream_conf_t       upstream;
    ngx_str_t                      user;       /* AUTH: empty, "default" */
    ngx_str_t                      password;   /* no data: no AUTH */
    ngx_int_t                      database;
    ngx_str_t                      prelude;    /* AUTH, SELECT as RESP */
    ngx_uint_t                     replies;    /* the prelude's replies */
    ngx_http_core_loc_conf_t      *clcf;       /* its location */
    ngx_http_core_srv_conf_t      *cscf;       /* its server */
} ngx_http_mcp_oauth_redis_loc_conf_t;


typedef struct {
    ngx_http_request_t            *request;
    ngx_uint_t                     prelude;    /* its replies still due */
} ngx_http_mcp_oauth_redis_ctx_t;


static ngx_int_t ngx_http_mcp_oauth_redis_handler(ngx_http_request_t *r);
static ngx_int_t ngx_http_mcp_oauth_redis_create_request(
    ngx_http_request_t *r);
static ngx_int_t ngx_http_mcp_oauth_redis_reinit_request(
    ngx_http_request_t *r);
static ngx_int_t ngx_http_mcp_oauth_redis_process_header(
    ngx_http_request_t *r);
static ngx_int_t ngx_http_mcp_oauth_redis_filter_init(void *data);
static ngx_int_t ngx_http_mcp_oauth_redis_filter(void *data, ssize_t bytes);
static void ngx_http_mcp_oauth_redis_abort_request(ngx_http_request_t *r);
static void ngx_http_mcp_oauth_redis_finalize_request(ngx_http_request_t *r,
    ngx_int_t rc);

static void *ngx_http_mcp_oauth_redis_create_main_conf(ngx_conf_t *cf);
static void *ngx_http_mcp_oauth_redis_create_loc_conf(ngx_conf_t *cf);
static char *ngx_http_mcp_oauth_redis_merge_loc_conf(ngx_conf_t *cf,
    void *parent, void *child);
static char *ngx_http_mcp_oauth_redis_pass(ngx_conf_t *cf,
    ngx_command_t *cmd, void *conf);
static char *ngx_http_mcp_oauth_redis_auth(ngx_conf_t *cf,
    ngx_command_t *cmd, void *conf);
static ngx_int_t ngx_http_mcp_oauth_redis_prelude(ngx_conf_t *cf,
    ngx_http_mcp_oauth_redis_loc_conf_t *conf);


static ngx_conf_bitmask_t  ngx_http_mcp_oauth_redis_next_upstream_masks[] = {
    { ngx_string("error"), NGX_HTTP_UPSTREAM_FT_ERROR },
    { ngx_string("timeout"), NGX_HTTP_UPSTREAM_FT_TIMEOUT },
    { ngx_string("invalid_response"), NGX_HTTP_UPSTREAM_FT_INVALID_HEADER },
    { ngx_string("off"), NGX_HTTP_UPSTREAM_FT_OFF },
    { ngx_null_string, 0 }
};


static ngx_command_t  ngx_http_mcp_oauth_redis_commands[] = {

    { ngx_string("mcp_oauth_redis_pass"),
      NGX_HTTP_LOC_CONF|NGX_CONF_TAKE1,
      ngx_http_mcp_oauth_redis_pass,
      NGX_HTTP_LOC_CONF_OFFSET,
      0,
      NULL },

    { ngx_string("mcp_oauth_redis_auth"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_TAKE12,
      ngx_http_mcp_oauth_redis_auth,
      NGX_HTTP_LOC_CONF_OFFSET,
      0,
      NULL },

    { ngx_string("mcp_oauth_redis_database"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_TAKE1,
      ngx_conf_set_num_slot,
      NGX_HTTP_LOC_CONF_OFFSET,
      offsetof(ngx_http_mcp_oauth_redis_loc_conf_t, database),
      NULL },

    { ngx_string("mcp_oauth_redis_connect_timeout"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_TAKE1,
      ngx_conf_set_msec_slot,
      NGX_HTTP_LOC_CONF_OFFSET,
      offsetof(ngx_http_mcp_oauth_redis_loc_conf_t, upstream.connect_timeout),
      NULL },

    { ngx_string("mcp_oauth_redis_send_timeout"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_TAKE1,
      ngx_conf_set_msec_slot,
      NGX_HTTP_LOC_CONF_OFFSET,
      offsetof(ngx_http_mcp_oauth_redis_loc_conf_t, upstream.send_timeout),
      NULL },

    { ngx_string("mcp_oauth_redis_read_timeout"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_TAKE1,
      ngx_conf_set_msec_slot,
      NGX_HTTP_LOC_CONF_OFFSET,
      offsetof(ngx_http_mcp_oauth_redis_loc_conf_t, upstream.read_timeout),
      NULL },

    { ngx_string("mcp_oauth_redis_buffer_size"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_TAKE1,
      ngx_conf_set_size_slot,
      NGX_HTTP_LOC_CONF_OFFSET,
      offsetof(ngx_http_mcp_oauth_redis_loc_conf_t, upstream.buffer_size),
      NULL },

    { ngx_string("mcp_oauth_redis_next_upstream"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_1MORE,
      ngx_conf_set_bitmask_slot,
      NGX_HTTP_LOC_CONF_OFFSET,
      offsetof(ngx_http_mcp_oauth_redis_loc_conf_t, upstream.next_upstream),
      &ngx_http_mcp_oauth_redis_next_upstream_masks },

    { ngx_string("mcp_oauth_redis_next_upstream_tries"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_TAKE1,
      ngx_conf_set_num_slot,
      NGX_HTTP_LOC_CONF_OFFSET,
      offsetof(ngx_http_mcp_oauth_redis_loc_conf_t,
               upstream.next_upstream_tries),
      NULL },

      ngx_null_command
};


static ngx_http_module_t  ngx_http_mcp_oauth_redis_module_ctx = {
    NULL,                                  /* preconfiguration */
    NULL,                                  /* postconfiguration */

    ngx_http_mcp_oauth_redis_create_main_conf,
    NULL,                                  /* init main configuration */

    NULL,                                  /* create server configuration */
    NULL,                                  /* merge server configuration */

    ngx_http_mcp_oauth_redis_create_loc_conf,
    ngx_http_mcp_oauth_redis_merge_loc_conf
};


ngx_module_t  ngx_http_mcp_oauth_redis_module = {
    NGX_MODULE_V1,
    &ngx_http_mcp_oauth_redis_module_ctx,  /* module context */
    ngx_http_mcp_oauth_redis_commands,     /* module directives */
    NGX_HTTP_MODULE,                       /* module type */
    NULL,                                  /* init master */
    NULL,                                  /* init module */
    NULL,                                  /* init process */
    NULL,                                  /* init thread */
    NULL,                                  /* exit thread */
    NULL,                                  /* exit process */
    NULL,                                  /* exit master */
    NGX_MODULE_V1_PADDING
};


static ngx_int_t
ngx_http_mcp_oauth_redis_handler(ngx_http_request_t *r)
{
    ngx_http_upstream_t                  *u;
    ngx_http_mcp_oauth_capture_t         *cap;
    ngx_http_mcp_oauth_redis_ctx_t       *ctx;
    ngx_http_mcp_oauth_redis_loc_conf_t  *rlcf;

    /*
     * Only the module's own state requests: a client (or another module's
     * subrequest) never gets to send Redis a command, "internal" or not.
     */

    cap = (r != r->main) ? ngx_http_mcp_oauth_capture_get(r) : NULL;

    if (cap == NULL || !cap->state || r->request_body == NULL
        || r->request_body->bufs == NULL)
    {
        ngx_log_error(NGX_LOG_INFO, r->connection->log, 0,
                      "mcp_oauth: \"mcp_oauth_redis_pass\" serves only the "
                      "module's state requests");
        return NGX_HTTP_NOT_FOUND;
    }

    rlcf = ngx_http_get_module_loc_conf(r, ngx_http_mcp_oauth_redis_module);

    /* the reply is collected whole: at most what the buffer holds */

    cap->max = rlcf->upstream.buffer_size;

    if (ngx_http_upstream_create(r) != NGX_OK) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    u = r->upstream;

    ngx_str_set(&u->schema, "redis://");
    u->output.tag = (ngx_buf_tag_t) &ngx_http_mcp_oauth_redis_module;
    u->conf = &rlcf->upstream;

    u->create_request = ngx_http_mcp_oauth_redis_create_request;
    u->reinit_request = ngx_http_mcp_oauth_redis_reinit_request;
    u->process_header = ngx_http_mcp_oauth_redis_process_header;
    u->abort_request = ngx_http_mcp_oauth_redis_abort_request;
    u->finalize_request = ngx_http_mcp_oauth_redis_finalize_request;

    ctx = ngx_palloc(r->pool, sizeof(ngx_http_mcp_oauth_redis_ctx_t));
    if (ctx == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    ctx->request = r;
    ctx->prelude = rlcf->replies;

    ngx_http_set_ctx(r, ctx, ngx_http_mcp_oauth_redis_module);

    u->input_filter_init = ngx_http_mcp_oauth_redis_filter_init;
    u->input_filter = ngx_http_mcp_oauth_redis_filter;
    u->input_filter_ctx = ctx;

    r->main->count++;

    ngx_http_upstream_init(r);

    return NGX_DONE;
}


/* the prelude, then the command: buffers of their own, so a retry resends */

static ngx_int_t
ngx_http_mcp_oauth_redis_create_request(ngx_http_request_t *r)
{
    ngx_buf_t                            *b;
    ngx_chain_t                          *cl, **ll, *in;
    ngx_http_mcp_oauth_redis_loc_conf_t  *rlcf;

    rlcf = ngx_http_get_module_loc_conf(r, ngx_http_mcp_oauth_redis_module);

    ll = &r->upstream->request_bufs;

    if (rlcf->prelude.len) {
        b = ngx_calloc_buf(r->pool);
        cl = ngx_alloc_chain_link(r->pool);
        if (b == NULL || cl == NULL) {
            return NGX_ERROR;
        }

        b->start = rlcf->prelude.data;
        b->pos = b->start;
        b->last = b->start + rlcf->prelude.len;
        b->end = b->last;
        b->memory = 1;

        cl->buf = b;
        *ll = cl;
        ll = &cl->next;
    }

    for (in = r->request_body->bufs; in; in = in->next) {
        b = ngx_calloc_buf(r->pool);
        cl = ngx_alloc_chain_link(r->pool);
        if (b == NULL || cl == NULL) {
            return NGX_ERROR;
        }

        b->start = in->buf->pos;
        b->pos = b->start;
        b->last = in->buf->last;
        b->end = b->last;
        b->memory = 1;

        cl->buf = b;
        *ll = cl;
        ll = &cl->next;
    }

    *ll = NULL;

    return NGX_OK;
}


static ngx_int_t
ngx_http_mcp_oauth_redis_reinit_request(ngx_http_request_t *r)
{
    ngx_http_mcp_oauth_redis_ctx_t       *ctx;
    ngx_http_mcp_oauth_redis_loc_conf_t  *rlcf;

    ctx = ngx_http_get_module_ctx(r, ngx_http_mcp_oauth_redis_module);
    rlcf = ngx_http_get_module_loc_conf(r, ngx_http_mcp_oauth_redis_module);

    ctx->prelude = rlcf->replies;

    return NGX_OK;
}


/*
 * The prelude's replies ("+OK" each) are skipped; the command's reply is
 * the answer's body, once all of it is in the buffer.
 */

static ngx_int_t
ngx_http_mcp_oauth_redis_process_header(ngx_http_request_t *r)
{
    ssize_t                          len;
    ngx_str_t                        in;
    ngx_http_upstream_t             *u;
    ngx_http_mcp_oauth_resp_t        v;
    ngx_http_mcp_oauth_redis_ctx_t  *ctx;

    u = r->upstream;
    ctx = ngx_http_get_module_ctx(r, ngx_http_mcp_oauth_redis_module);

    for ( ;; ) {
        len = ngx_http_mcp_oauth_resp_measure(u->buffer.pos, u->buffer.last);

        if (len == NGX_AGAIN) {
            return NGX_AGAIN;
        }

        if (len == NGX_ERROR) {
            ngx_log_error(NGX_LOG_ERR, r->connection->log, 0,
                          "mcp_oauth: redis sent an invalid reply");
            return NGX_HTTP_UPSTREAM_INVALID_HEADER;
        }

        in.data = u->buffer.pos;
        in.len = len;

        if (ngx_http_mcp_oauth_resp_read(&in, &v) != NGX_OK) {
            return NGX_HTTP_UPSTREAM_INVALID_HEADER;
        }

        if (v.type == NGX_HTTP_MCP_OAUTH_RESP_ERROR) {
            ngx_log_error(NGX_LOG_ERR, r->connection->log, 0,
                          "mcp_oauth: redis answered%s: \"%V\"",
                          ctx->prelude ? " AUTH or SELECT" : "", &v.str);
            return NGX_HTTP_UPSTREAM_INVALID_HEADER;
        }

        if (ctx->prelude == 0) {
            break;
        }

        ctx->prelude--;
        u->buffer.pos += len;
    }

    u->headers_in.status_n = NGX_HTTP_OK;
    u->state->status = NGX_HTTP_OK;
    u->headers_in.content_length_n = len;

    return NGX_OK;
}


static ngx_int_t
ngx_http_mcp_oauth_redis_filter_init(void *data)
{
    ngx_http_mcp_oauth_redis_ctx_t  *ctx = data;

    ngx_http_upstream_t  *u;

    u = ctx->request->upstream;
    u->length = u->headers_in.content_length_n;

    return NGX_OK;
}


/* the reply's bytes, as they come (new ones start at the buffer's last) */

static ngx_int_t
ngx_http_mcp_oauth_redis_filter(void *data, ssize_t bytes)
{
    ngx_http_mcp_oauth_redis_ctx_t  *ctx = data;

    ngx_buf_t            *b;
    ngx_chain_t          *cl, **ll;
    ngx_http_upstream_t  *u;

    u = ctx->request->upstream;
    b = &u->buffer;

    if (bytes > u->length) {
        /* Redis answers only what it is asked: the connection is not ours */
        ngx_log_error(NGX_LOG_ERR, ctx->request->connection->log, 0,
                      "mcp_oauth: redis sent more than one reply");
        bytes = u->length;
        u->keepalive = 0;

    } else if (bytes == u->length) {
        u->keepalive = 1;
    }

    for (cl = u->out_bufs, ll = &u->out_bufs; cl; cl = cl->next) {
        ll = &cl->next;
    }

    cl = ngx_chain_get_free_buf(ctx->request->pool, &u->free_bufs);
    if (cl == NULL) {
        return NGX_ERROR;
    }

    cl->buf->flush = 1;
    cl->buf->memory = 1;

    *ll = cl;

    cl->buf->pos = b->last;
    b->last += bytes;
    cl->buf->last = b->last;
    cl->buf->tag = u->output.tag;

    u->length -= bytes;

    return NGX_OK;
}


static void
ngx_http_mcp_oauth_redis_abort_request(ngx_http_request_t *r)
{
    ngx_log_debug0(NGX_LOG_DEBUG_HTTP, r->connection->log, 0,
                   "abort mcp_oauth redis request");
}


static void
ngx_http_mcp_oauth_redis_finalize_request(ngx_http_request_t *r,
    ngx_int_t rc)
{
    ngx_log_debug0(NGX_LOG_DEBUG_HTTP, r->connection->log, 0,
                   "finalize mcp_oauth redis request");
}


static void *
ngx_http_mcp_oauth_redis_create_main_conf(ngx_conf_t *cf)
{
    ngx_http_mcp_oauth_redis_main_conf_t  *rmcf;

    rmcf = ngx_pcalloc(cf->pool, sizeof(ngx_http_mcp_oauth_redis_main_conf_t));
    if (rmcf == NULL) {
        return NULL;
    }

    if (ngx_array_init(&rmcf->locations, cf->pool, 2,
                       sizeof(ngx_http_mcp_oauth_redis_loc_conf_t *))
        != NGX_OK)
    {
        return NULL;
    }

    return rmcf;
}


static void *
ngx_http_mcp_oauth_redis_create_loc_conf(ngx_conf_t *cf)
{
    ngx_http_mcp_oauth_redis_loc_conf_t  *conf;

    conf = ngx_pcalloc(cf->pool, sizeof(ngx_http_mcp_oauth_redis_loc_conf_t));
    if (conf == NULL) {
        return NULL;
    }

    conf->database = NGX_CONF_UNSET;

    conf->upstream.local = NGX_CONF_UNSET_PTR;
    conf->upstream.socket_keepalive = NGX_CONF_UNSET;
    conf->upstream.next_upstream_tries = NGX_CONF_UNSET_UINT;
    conf->upstream.connect_timeout = NGX_CONF_UNSET_MSEC;
    conf->upstream.send_timeout = NGX_CONF_UNSET_MSEC;
    conf->upstream.read_timeout = NGX_CONF_UNSET_MSEC;
    conf->upstream.next_upstream_timeout = NGX_CONF_UNSET_MSEC;
    conf->upstream.buffer_size = NGX_CONF_UNSET_SIZE;

    /* the hardcoded values, as memcached's */
    conf->upstream.cyclic_temp_file = 0;
    conf->upstream.buffering = 0;
    conf->upstream.ignore_client_abort = 0;
    conf->upstream.send_lowat = 0;
    conf->upstream.bufs.num = 0;
    conf->upstream.busy_buffers_size = 0;
    conf->upstream.max_temp_file_size = 0;
    conf->upstream.temp_file_write_size = 0;
    conf->upstream.intercept_errors = 1;
    conf->upstream.intercept_404 = 1;
    conf->upstream.pass_request_headers = 0;
    conf->upstream.pass_request_body = 0;
    conf->upstream.force_ranges = 1;

    return conf;
}


static char *
ngx_http_mcp_oauth_redis_merge_loc_conf(ngx_conf_t *cf, void *parent,
    void *child)
{
    ngx_http_mcp_oauth_redis_loc_conf_t *prev = parent;
    ngx_http_mcp_oauth_redis_loc_conf_t *conf = child;

    if (conf->password.data == NULL) {
        conf->user = prev->user;
        conf->password = prev->password;
    }

    ngx_conf_merge_value(conf->database, prev->database, 0);

    ngx_conf_merge_ptr_value(conf->upstream.local, prev->upstream.local, NULL);
    ngx_conf_merge_value(conf->upstream.socket_keepalive,
                         prev->upstream.socket_keepalive, 0);
    ngx_conf_merge_uint_value(conf->upstream.next_upstream_tries,
                              prev->upstream.next_upstream_tries, 0);

    /* the state is on the path of a sign-in: fail fast, say so */

    ngx_conf_merge_msec_value(conf->upstream.connect_timeout,
                              prev->upstream.connect_timeout, 1000);
    ngx_conf_merge_msec_value(conf->upstream.send_timeout,
                              prev->upstream.send_timeout, 1000);
    ngx_conf_merge_msec_value(conf->upstream.read_timeout,
                              prev->upstream.read_timeout, 1000);
    ngx_conf_merge_msec_value(conf->upstream.next_upstream_timeout,
                              prev->upstream.next_upstream_timeout, 0);
    ngx_conf_merge_size_value(conf->upstream.buffer_size,
                              prev->upstream.buffer_size, 16384);

    /*
     * A command that timed out may have run: only "error" (no answer began)
     * and "invalid_response" (a replica's READONLY) go to the next server.
     */

    ngx_conf_merge_bitmask_value(conf->upstream.next_upstream,
                                 prev->upstream.next_upstream,
                                 (NGX_CONF_BITMASK_SET
                                  |NGX_HTTP_UPSTREAM_FT_ERROR
                                  |NGX_HTTP_UPSTREAM_FT_INVALID_HEADER));

    if (conf->upstream.next_upstream & NGX_HTTP_UPSTREAM_FT_OFF) {
        conf->upstream.next_upstream = NGX_CONF_BITMASK_SET
                                       |NGX_HTTP_UPSTREAM_FT_OFF;
    }

    if (conf->upstream.upstream == NULL) {
        conf->upstream.upstream = prev->upstream.upstream;
    }

    if (conf->database < 0) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "\"mcp_oauth_redis_database\" must be 0 or more");
        return NGX_CONF_ERROR;
    }

    if (ngx_http_mcp_oauth_redis_prelude(cf, conf) != NGX_OK) {
        return NGX_CONF_ERROR;
    }

    return NGX_CONF_OK;
}


/* AUTH [user] password, SELECT n: once per request, in the same write */

static ngx_int_t
ngx_http_mcp_oauth_redis_prelude(ngx_conf_t *cf,
    ngx_http_mcp_oauth_redis_loc_conf_t *conf)
{
    u_char      *p, db[NGX_INT_T_LEN];
    size_t       len;
    ngx_str_t    auth[3], select[2];
    ngx_uint_t   n;

    n = 0;
    len = 0;

    if (conf->password.data) {
        ngx_str_set(&auth[0], "AUTH");
        n = 1;

        if (conf->user.len) {
            auth[n++] = conf->user;
        }

        auth[n++] = conf->password;

        len += ngx_http_mcp_oauth_resp_command_len(auth, n);
        conf->replies++;
    }

    ngx_str_set(&select[0], "SELECT");
    select[1].data = db;
    select[1].len = ngx_sprintf(db, "%i", conf->database) - db;

    if (conf->database) {
        len += ngx_http_mcp_oauth_resp_command_len(select, 2);
        conf->replies++;
    }

    if (len == 0) {
        return NGX_OK;
    }

    p = ngx_pnalloc(cf->pool, len);
    if (p == NULL) {
        return NGX_ERROR;
    }

    conf->prelude.data = p;

    if (n) {
        p = ngx_http_mcp_oauth_resp_command(p, auth, n);
    }

    if (conf->database) {
        p = ngx_http_mcp_oauth_resp_command(p, select, 2);
    }

    conf->prelude.len = p - conf->prelude.data;

    return NGX_OK;
}


static char *
ngx_http_mcp_oauth_redis_pass(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    ngx_http_mcp_oauth_redis_loc_conf_t *rlcf = conf;

    ngx_str_t                              *value;
    ngx_url_t                               u;
    ngx_http_core_loc_conf_t               *clcf;
    ngx_http_mcp_oauth_redis_loc_conf_t   **loc;
    ngx_http_mcp_oauth_redis_main_conf_t   *rmcf;

    if (rlcf->upstream.upstream) {
        return "is duplicate";
    }

    value = cf->args->elts;

    ngx_memzero(&u, sizeof(ngx_url_t));

    u.url = value[1];
    u.no_resolve = 1;

    rlcf->upstream.upstream = ngx_http_upstream_add(cf, &u, 0);
    if (rlcf->upstream.upstream == NULL) {
        return NGX_CONF_ERROR;
    }

    clcf = ngx_http_conf_get_module_loc_conf(cf, ngx_http_core_module);
    clcf->handler = ngx_http_mcp_oauth_redis_handler;

    rmcf = ngx_http_conf_get_module_main_conf(cf,
                                              ngx_http_mcp_oauth_redis_module);

    loc = ngx_array_push(&rmcf->locations);
    if (loc == NULL) {
        return NGX_CONF_ERROR;
    }

    *loc = rlcf;
    rlcf->clcf = clcf;
    rlcf->cscf = ngx_http_conf_get_module_srv_conf(cf, ngx_http_core_module);

    return NGX_CONF_OK;
}


/* a location of the server, exact or prefix, whose name matches "uri" */

ngx_int_t
ngx_http_mcp_oauth_redis_serves(ngx_conf_t *cf,
    ngx_http_core_srv_conf_t *cscf, ngx_str_t *uri)
{
    ngx_uint_t                             i;
    ngx_http_core_loc_conf_t              *clcf;
    ngx_http_mcp_oauth_redis_loc_conf_t  **loc;
    ngx_http_mcp_oauth_redis_main_conf_t  *rmcf;

    rmcf = ngx_http_conf_get_module_main_conf(cf,
                                              ngx_http_mcp_oauth_redis_module);
    loc = rmcf->locations.elts;

    for (i = 0; i < rmcf->locations.nelts; i++) {
        clcf = loc[i]->clcf;

        if (loc[i]->cscf != cscf
#if (NGX_PCRE)
            || clcf->regex
#endif
            || clcf->named)
        {
            continue;
        }

        if (clcf->exact_match
            ? (clcf->name.len == uri->len
               && ngx_strncmp(clcf->name.data, uri->data, uri->len) == 0)
            : (clcf->name.len <= uri->len
               && ngx_strncmp(clcf->name.data, uri->data, clcf->name.len)
                  == 0))
        {
            return NGX_OK;
        }
    }

    return NGX_DECLINED;
}


/* mcp_oauth_redis_auth [USER] PASSWORD: Redis 6 ACL user, else "default" */

static char *
ngx_http_mcp_oauth_redis_auth(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    ngx_http_mcp_oauth_redis_loc_conf_t *rlcf = conf;

    ngx_str_t  *value;

    if (rlcf->password.data) {
        return "is duplicate";
    }

    value = cf->args->elts;

    if (cf->args->nelts == 3) {
        rlcf->user = value[1];
    }

    rlcf->password = value[cf->args->nelts - 1];

    if (rlcf->password.len == 0) {
        return "has an empty password";
    }

    return NGX_CONF_OK;
}
