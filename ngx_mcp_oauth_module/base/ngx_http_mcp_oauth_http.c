
/*
 * ngx_mcp_oauth_module: what both halves need of nginx's HTTP machinery:
 * the request context (kept across internal redirects), answers with a
 * body, CORS preflights, the request body in one piece, and subrequests
 * whose answer is collected here instead of being sent (JWKS, metadata
 * documents, the IAM).
 */

#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>
#include <jansson.h>

#include "ngx_http_mcp_oauth_module.h"


static void ngx_http_mcp_oauth_ctx_cleanup(void *data);
static ngx_int_t ngx_http_mcp_oauth_fetched(ngx_http_request_t *sr,
    void *data, ngx_int_t rc);


static ngx_str_t  ngx_http_mcp_oauth_post_method = ngx_string("POST");


ngx_http_mcp_oauth_ctx_t *
ngx_http_mcp_oauth_ctx(ngx_http_request_t *r)
{
    ngx_pool_cleanup_t        *cln;
    ngx_http_mcp_oauth_ctx_t  *ctx;

    ctx = ngx_http_mcp_oauth_get_ctx(r);
    if (ctx) {
        return ctx;
    }

    /* found again after internal redirects, as the realip module does */

    cln = ngx_pool_cleanup_add(r->pool, sizeof(ngx_http_mcp_oauth_ctx_t));
    if (cln == NULL) {
        return NULL;
    }

    ctx = cln->data;
    ngx_memzero(ctx, sizeof(ngx_http_mcp_oauth_ctx_t));
    cln->handler = ngx_http_mcp_oauth_ctx_cleanup;

    ctx->request = r;
    ngx_http_set_ctx(r, ctx, ngx_http_mcp_oauth_module);

    return ctx;
}


ngx_http_mcp_oauth_ctx_t *
ngx_http_mcp_oauth_get_ctx(ngx_http_request_t *r)
{
    ngx_pool_cleanup_t        *cln;
    ngx_http_mcp_oauth_ctx_t  *ctx;

    ctx = ngx_http_get_module_ctx(r, ngx_http_mcp_oauth_module);

    if (ctx == NULL && (r->internal || r->filter_finalize)) {

        /* module contexts are cleared on internal redirects */

        for (cln = r->pool->cleanup; cln; cln = cln->next) {
            if (cln->handler == ngx_http_mcp_oauth_ctx_cleanup) {
                ctx = cln->data;
                ngx_http_set_ctx(r, ctx, ngx_http_mcp_oauth_module);
                break;
            }
        }
    }

    return ctx;
}


static void
ngx_http_mcp_oauth_ctx_cleanup(void *data)
{
    /* only a marker to find the context again, nothing to free */
}


ngx_int_t
ngx_http_mcp_oauth_send_json(ngx_http_request_t *r, ngx_uint_t status,
    ngx_str_t *json)
{
    return ngx_http_mcp_oauth_send_body(r, status, "application/json", json);
}


ngx_int_t
ngx_http_mcp_oauth_send_body(ngx_http_request_t *r, ngx_uint_t status,
    const char *type, ngx_str_t *json)
{
    ngx_int_t    rc;
    ngx_buf_t   *b;
    ngx_chain_t  out;

    r->headers_out.status = status;
    r->headers_out.content_length_n = json->len;
    r->headers_out.content_type.data = (u_char *) type;
    r->headers_out.content_type.len = ngx_strlen(type);
    r->headers_out.content_type_len = r->headers_out.content_type.len;
    r->headers_out.content_type_lowcase = NULL;

    if (r->method == NGX_HTTP_HEAD || json->len == 0) {
        r->header_only = 1;
    }

    rc = ngx_http_send_header(r);

    if (rc == NGX_ERROR || rc > NGX_OK || r->header_only) {
        return rc;
    }

    b = ngx_calloc_buf(r->pool);
    if (b == NULL) {
        return NGX_ERROR;
    }

    b->pos = json->data;
    b->last = json->data + json->len;
    b->memory = 1;
    b->last_buf = (r == r->main) ? 1 : 0;
    b->last_in_chain = 1;

    out.buf = b;
    out.next = NULL;

    return ngx_http_output_filter(r, &out);
}


/* CORS preflight: browser-based clients (the MCP Inspector) call us */

ngx_int_t
ngx_http_mcp_oauth_preflight(ngx_http_request_t *r, char *methods)
{
    if (ngx_http_mcp_oauth_add_header(r, "Access-Control-Allow-Origin", "*")
        != NGX_OK
        || ngx_http_mcp_oauth_add_header(r, "Access-Control-Allow-Methods",
                                         methods)
           != NGX_OK
        || ngx_http_mcp_oauth_add_header(r, "Access-Control-Allow-Headers",
                                         "Authorization, Content-Type, "
                                         "MCP-Protocol-Version")
           != NGX_OK
        || ngx_http_mcp_oauth_add_header(r, "Access-Control-Max-Age", "86400")
           != NGX_OK)
    {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    if (ngx_http_discard_request_body(r) != NGX_OK) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    r->headers_out.status = NGX_HTTP_NO_CONTENT;
    r->headers_out.content_length_n = 0;
    r->header_only = 1;

    return ngx_http_send_header(r);
}


ngx_int_t
ngx_http_mcp_oauth_add_header(ngx_http_request_t *r, char *key, char *value)
{
    ngx_table_elt_t  *h;

    h = ngx_list_push(&r->headers_out.headers);
    if (h == NULL) {
        return NGX_ERROR;
    }

    h->hash = 1;
    h->key.data = (u_char *) key;
    h->key.len = ngx_strlen(key);
    h->value.data = (u_char *) value;
    h->value.len = ngx_strlen(value);
#if (nginx_version >= 1023000)
    h->next = NULL;
#endif

    return NGX_OK;
}


off_t
ngx_http_mcp_oauth_body_size(ngx_http_request_t *r)
{
    off_t         len;
    ngx_chain_t  *cl;

    len = 0;

    if (r->request_body) {
        for (cl = r->request_body->bufs; cl; cl = cl->next) {
            len += ngx_buf_size(cl->buf);
        }
    }

    return len;
}


/* the whole body in one piece of memory */

ngx_int_t
ngx_http_mcp_oauth_body(ngx_http_request_t *r, ngx_str_t *body)
{
    u_char       *p;
    off_t         len;
    ssize_t       n;
    ngx_buf_t    *b;
    ngx_chain_t  *cl;

    ngx_str_null(body);

    if (r->request_body == NULL || r->request_body->bufs == NULL) {
        return NGX_OK;
    }

    /* pieces one right after the other in memory are one already */

    p = NULL;

    for (cl = r->request_body->bufs; cl; cl = cl->next) {
        b = cl->buf;

        if (!ngx_buf_in_memory(b)) {
            if (b->in_file && b->file_last > b->file_pos) {
                break;
            }

            continue;
        }

        if (b->last == b->pos) {
            continue;
        }

        if (p == NULL) {
            body->data = b->pos;

        } else if (b->pos != p) {
            break;
        }

        p = b->last;
    }

    if (cl == NULL) {
        body->len = p ? (size_t) (p - body->data) : 0;
        return NGX_OK;
    }

    len = 0;

    for (cl = r->request_body->bufs; cl; cl = cl->next) {
        len += ngx_buf_size(cl->buf);
    }

    body->data = ngx_pnalloc(r->pool, len);
    if (body->data == NULL) {
        return NGX_ERROR;
    }

    p = body->data;

    for (cl = r->request_body->bufs; cl; cl = cl->next) {
        b = cl->buf;

        if (ngx_buf_in_memory(b)) {
            p = ngx_cpymem(p, b->pos, b->last - b->pos);
            continue;
        }

        /* the last buffer may be an empty marker, neither here nor in file */

        if (!b->in_file || b->file_last == b->file_pos) {
            continue;
        }

        n = ngx_read_file(b->file, p, b->file_last - b->file_pos,
                          b->file_pos);
        if (n != b->file_last - b->file_pos) {
            return NGX_ERROR;
        }

        p += n;
    }

    body->len = p - body->data;

    return NGX_OK;
}


/* the module's own subrequests (JWKS): the body stays here */

ngx_http_mcp_oauth_capture_t *
ngx_http_mcp_oauth_capture(ngx_http_request_t *sr)
{
    ngx_http_mcp_oauth_capture_t  *cap;

    cap = ngx_pcalloc(sr->pool, sizeof(ngx_http_mcp_oauth_capture_t));
    if (cap == NULL) {
        return NULL;
    }

    ngx_http_set_ctx(sr, cap, ngx_http_mcp_oauth_filter_module);

    return cap;
}


/*
 * A GET of its own through a location of the user's, its body collected
 * here: no client body, no client headers (as auth_request's).
 */

ngx_http_request_t *
ngx_http_mcp_oauth_capture_subrequest(ngx_http_request_t *r, ngx_str_t *uri,
    ngx_str_t *args, ngx_http_post_subrequest_t *ps, ngx_uint_t flags)
{
    ngx_http_request_t  *sr;

    if (ngx_http_subrequest(r, uri, args, &sr, ps, flags) != NGX_OK) {
        return NULL;
    }

    sr->request_body = ngx_pcalloc(r->pool, sizeof(ngx_http_request_body_t));
    if (sr->request_body == NULL) {
        return NULL;
    }

    sr->method = NGX_HTTP_GET;
    sr->method_name = ngx_http_core_get_method;

    ngx_memzero(&sr->headers_in, sizeof(ngx_http_headers_in_t));

    if (ngx_list_init(&sr->headers_in.headers, r->pool, 1,
                      sizeof(ngx_table_elt_t))
        != NGX_OK)
    {
        return NULL;
    }

    sr->headers_in.server = r->headers_in.server;
    sr->headers_in.content_length_n = -1;
    sr->headers_in.keep_alive_n = -1;

    if (ngx_http_mcp_oauth_capture(sr) == NULL) {
        return NULL;
    }

    return sr;
}


ngx_http_mcp_oauth_capture_t *
ngx_http_mcp_oauth_capture_get(ngx_http_request_t *sr)
{
    return ngx_http_get_module_ctx(sr, ngx_http_mcp_oauth_filter_module);
}


ngx_int_t
ngx_http_mcp_oauth_capture_body(ngx_http_request_t *r,
    ngx_http_mcp_oauth_capture_t *cap, ngx_chain_t *in)
{
    u_char                    *data;
    size_t                     size;
    ngx_http_core_loc_conf_t  *clcf;

    if (cap->data == NULL) {
        /* a handler may have set its own bound (the Redis reply's) */
        if (cap->max == 0) {
            clcf = ngx_http_get_module_loc_conf(r, ngx_http_core_module);
            cap->max = clcf->subrequest_output_buffer_size;
        }

        cap->data = ngx_pnalloc(r->pool, cap->max);
        if (cap->data == NULL) {
            return NGX_ERROR;
        }
    }

    for ( /* void */ ; in; in = in->next) {
        size = in->buf->last - in->buf->pos;

        if (cap->len + size > cap->max) {
            cap->too_large = 1;
        }

        if (!cap->too_large) {
            data = cap->data + cap->len;
            ngx_memcpy(data, in->buf->pos, size);
            cap->len += size;
        }

        in->buf->pos = in->buf->last;
    }

    return NGX_OK;
}


/*
 * A GET subrequest to a location of the user's (a metadata document, the
 * IAM's metadata; the IAM's token endpoint and the state make it a POST):
 * its answer lands in "f", and the content handler runs again when it is
 * done.
 */

ngx_http_request_t *
ngx_http_mcp_oauth_fetch(ngx_http_request_t *r, ngx_str_t *uri,
    ngx_http_mcp_oauth_fetch_t *f)
{
    ngx_http_request_t  *sr;

    sr = ngx_http_mcp_oauth_fetch_start(r, uri, f);
    if (sr == NULL) {
        return NULL;
    }

    /* the subrequest holds the request, which the handler returns NGX_DONE */

    r->main->count++;
    r->write_event_handler = ngx_http_core_run_phases;

    return sr;
}


/*
 * The same for a phase handler, which waits by returning NGX_AGAIN: the
 * phases run again when the subrequest is done.
 */

ngx_http_request_t *
ngx_http_mcp_oauth_fetch_start(ngx_http_request_t *r, ngx_str_t *uri,
    ngx_http_mcp_oauth_fetch_t *f)
{
    ngx_http_request_t          *sr;
    ngx_http_post_subrequest_t  *ps;

    ps = ngx_palloc(r->pool, sizeof(ngx_http_post_subrequest_t));
    if (ps == NULL) {
        return NULL;
    }

    ps->handler = ngx_http_mcp_oauth_fetched;
    ps->data = f;

    sr = ngx_http_mcp_oauth_capture_subrequest(r, uri, NULL, ps,
                                               NGX_HTTP_SUBREQUEST_WAITED);
    if (sr == NULL) {
        return NULL;
    }

    f->pending = 1;

    return sr;
}


static ngx_int_t
ngx_http_mcp_oauth_fetched(ngx_http_request_t *sr, void *data,
    ngx_int_t rc)
{
    ngx_http_mcp_oauth_fetch_t *f = data;

    ngx_http_mcp_oauth_capture_t  *cap;

    f->pending = 0;
    f->done = 1;
    f->status = sr->headers_out.status;
    ngx_str_null(&f->body);

    cap = ngx_http_mcp_oauth_capture_get(sr);

    if (rc != NGX_OK || cap == NULL || cap->too_large) {
        if (f->status < NGX_HTTP_INTERNAL_SERVER_ERROR) {
            f->status = NGX_HTTP_BAD_GATEWAY;
        }

    } else {
        f->body.data = cap->data;
        f->body.len = cap->len;
    }

    if (f->status == 0) {
        /* the upstream never answered: nginx's own 502 or 504 */
        f->status = NGX_HTTP_BAD_GATEWAY;
    }

    return rc;
}


/* makes a fetch a POST of "body" (the subrequest reads it from memory) */

ngx_int_t
ngx_http_mcp_oauth_fetch_post(ngx_http_request_t *sr, ngx_str_t *body)
{
    ngx_buf_t    *b;
    ngx_chain_t  *cl;

    sr->method = NGX_HTTP_POST;
    sr->method_name = ngx_http_mcp_oauth_post_method;

    b = ngx_calloc_buf(sr->pool);
    cl = ngx_alloc_chain_link(sr->pool);
    if (b == NULL || cl == NULL) {
        return NGX_ERROR;
    }

    b->start = body->data;
    b->pos = body->data;
    b->last = body->data + body->len;
    b->end = b->last;
    b->memory = 1;
    b->last_buf = 1;
    cl->buf = b;
    cl->next = NULL;

    sr->request_body->bufs = cl;
    sr->headers_in.content_length_n = body->len;

    return NGX_OK;
}


/* a request header of a fetch (it has none of the client's) */

ngx_int_t
ngx_http_mcp_oauth_fetch_header(ngx_http_request_t *sr, char *name,
    ngx_str_t *value)
{
    ngx_table_elt_t  *h;

    h = ngx_list_push(&sr->headers_in.headers);
    if (h == NULL) {
        return NGX_ERROR;
    }

    h->key.data = (u_char *) name;
    h->key.len = ngx_strlen(name);
    h->value = *value;
    h->lowcase_key = ngx_pnalloc(sr->pool, h->key.len);
    if (h->lowcase_key == NULL) {
        return NGX_ERROR;
    }

    h->hash = ngx_hash_strlow(h->lowcase_key, h->key.data, h->key.len);
#if (nginx_version >= 1023000)
    h->next = NULL;
#endif

    return NGX_OK;
}


/* a directive's URI of a location of ours: "nginx -t" says so otherwise */

ngx_int_t
ngx_http_mcp_oauth_conf_local_uri(ngx_conf_t *cf, ngx_command_t *cmd,
    ngx_str_t *uri)
{
    if (uri->len == 0 || uri->data[0] != '/') {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "\"%V\" needs a local URI starting with \"/\", "
                           "not \"%V\"", &cmd->name, uri);
        return NGX_ERROR;
    }

    return NGX_OK;
}
