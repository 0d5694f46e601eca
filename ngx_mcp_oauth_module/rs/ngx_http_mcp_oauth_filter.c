
/*
 * ngx_mcp_oauth_module: mcp_oauth_filter_tools.  In the answer to a
 * tools/list request, the tools the caller's token could not call are
 * dropped, so that clients do not offer what would be refused.
 *
 * application/json answers are collected whole, filtered, and sent with a
 * new Content-Length (the header waits for the body, as in the image
 * filter).  Only the dropped tools change: the one-pass scanner finds the
 * result.tools arrays and the rest of the text is copied.
 * text/event-stream answers are filtered event by event as they stream:
 * an event split across buffers waits for its end, other events pass
 * through unchanged.
 */

#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include "ngx_http_mcp_oauth_module.h"
#include "ngx_http_mcp_oauth_string.h"


#define NGX_HTTP_MCP_OAUTH_FILTER_JSON  1
#define NGX_HTTP_MCP_OAUTH_FILTER_SSE   2

/*
 * A larger answer (an SSE event while a tools/list answer is awaited) cannot
 * be filtered: it is refused, never passed on unfiltered.
 */
#define NGX_HTTP_MCP_OAUTH_FILTER_MAX   (16 * 1024 * 1024)

#define NGX_HTTP_MCP_OAUTH_INTERNAL_ERROR  -32603


/* a tools/list request of the body, and whether its answer went by */
typedef struct {
    ngx_str_t                       id;        /* JSON text */
    ngx_uint_t                      answered;
} ngx_http_mcp_oauth_list_id_t;


struct ngx_http_mcp_oauth_filter_s {
    ngx_uint_t                      mode;
    u_char                         *data;      /* bytes not yet sent */
    size_t                          len;
    size_t                          size;
    size_t                          scanned;   /* SSE: where to go on */
    size_t                          line;      /* SSE: the line's start */
    u_char                         *scratch;   /* SSE: an event's data */
    size_t                          scratch_size;
    ngx_array_t                     ids;       /* ngx_http_mcp_oauth_list_id_t */
    ngx_uint_t                      pending;   /* ids not answered yet */
    ngx_chain_t                    *free;      /* SSE: output buffers */
    ngx_chain_t                    *busy;
    ngx_chain_t                    *refusal;   /* sent instead */
    unsigned                        passthrough:1;
    unsigned                        refused:1;
    unsigned                        done:1;    /* the refusal went out */
};


static ngx_int_t ngx_http_mcp_oauth_filter_module_init(ngx_conf_t *cf);
static ngx_int_t ngx_http_mcp_oauth_header_filter(ngx_http_request_t *r);
static ngx_inline ngx_uint_t ngx_http_mcp_oauth_filter_mode(
    ngx_http_request_t *r);
static ngx_inline ngx_uint_t ngx_http_mcp_oauth_filter_compressed(
    ngx_http_request_t *r);
static ngx_inline ngx_int_t ngx_http_mcp_oauth_filter_headers(
    ngx_http_request_t *r);
static ngx_int_t ngx_http_mcp_oauth_body_filter(ngx_http_request_t *r,
    ngx_chain_t *in);
static ngx_int_t ngx_http_mcp_oauth_json_body(ngx_http_request_t *r,
    ngx_http_mcp_oauth_ctx_t *ctx);
static ngx_int_t ngx_http_mcp_oauth_sse_body(ngx_http_request_t *r,
    ngx_http_mcp_oauth_ctx_t *ctx, ngx_uint_t last, ngx_uint_t flush);
static ngx_int_t ngx_http_mcp_oauth_sse_scan(ngx_http_request_t *r,
    ngx_http_mcp_oauth_ctx_t *ctx, ngx_uint_t last, ngx_chain_t ***ll);
static void ngx_http_mcp_oauth_sse_names(u_char *p, size_t len,
    ngx_uint_t *id, ngx_uint_t *tools);
static ngx_inline void ngx_http_mcp_oauth_sse_name(u_char *q, u_char *end,
    ngx_uint_t *id, ngx_uint_t *tools);
static ngx_inline u_char *ngx_http_mcp_oauth_sse_eol(u_char *p, u_char *end);
static ngx_int_t ngx_http_mcp_oauth_sse_complete(ngx_http_request_t *r,
    ngx_http_mcp_oauth_ctx_t *ctx, u_char *start, u_char *end, u_char **run,
    ngx_chain_t ***ll);
static ngx_int_t ngx_http_mcp_oauth_sse_mark(ngx_http_request_t *r,
    ngx_http_mcp_oauth_filter_t *f, ngx_uint_t last, ngx_uint_t flush,
    ngx_chain_t **ll);
static ngx_int_t ngx_http_mcp_oauth_sse_event(ngx_http_request_t *r,
    ngx_http_mcp_oauth_ctx_t *ctx, u_char *start, u_char *end,
    ngx_pool_t **tmp, ngx_str_t *out);
static ngx_inline u_char *ngx_http_mcp_oauth_sse_line(u_char *line,
    u_char *end, size_t *len);
static ngx_int_t ngx_http_mcp_oauth_sse_data(ngx_http_request_t *r,
    ngx_http_mcp_oauth_filter_t *f, u_char *start, u_char *end, size_t *dlen);
static ngx_int_t ngx_http_mcp_oauth_sse_rewrite(ngx_pool_t *pool,
    u_char *start, u_char *end, ngx_str_t *data, ngx_str_t *out);
static ngx_int_t ngx_http_mcp_oauth_sse_answered(ngx_http_request_t *r,
    ngx_http_mcp_oauth_ctx_t *ctx, ngx_pool_t *pool, u_char *data,
    size_t len, ngx_uint_t tools, ngx_str_t *out);
static ngx_int_t ngx_http_mcp_oauth_list_ids(ngx_http_request_t *r,
    ngx_http_mcp_oauth_ctx_t *ctx, ngx_http_mcp_oauth_filter_t *f);
static ngx_int_t ngx_http_mcp_oauth_out(ngx_http_request_t *r,
    ngx_http_mcp_oauth_filter_t *f, u_char *p, size_t len,
    ngx_chain_t ***ll);
static ngx_int_t ngx_http_mcp_oauth_private(ngx_http_request_t *r);
static ngx_int_t ngx_http_mcp_oauth_refuse(ngx_http_request_t *r,
    ngx_http_mcp_oauth_ctx_t *ctx, const char *why);
static ngx_int_t ngx_http_mcp_oauth_refused_body(ngx_http_request_t *r,
    ngx_http_mcp_oauth_filter_t *f, ngx_chain_t *in);
static ngx_chain_t *ngx_http_mcp_oauth_refusal(ngx_http_request_t *r,
    ngx_http_mcp_oauth_ctx_t *ctx, ngx_uint_t sse);
static ngx_int_t ngx_http_mcp_oauth_filter_text(ngx_http_request_t *r,
    ngx_http_mcp_oauth_ctx_t *ctx, ngx_pool_t *pool, u_char *data, size_t len,
    ngx_str_t *out);
static ngx_int_t ngx_http_mcp_oauth_filter_found(ngx_http_request_t *r,
    ngx_http_mcp_oauth_ctx_t *ctx, ngx_pool_t *pool, u_char *data, size_t len,
    ngx_array_t *arrays, ngx_array_t *tools, ngx_str_t *out);
static ngx_int_t ngx_http_mcp_oauth_filter_drop(ngx_http_request_t *r,
    ngx_http_mcp_oauth_ctx_t *ctx, ngx_pool_t *pool, ngx_array_t *tools,
    u_char **drop);
static u_char *ngx_http_mcp_oauth_filter_write(u_char *p, u_char *data,
    size_t len, ngx_array_t *arrays, ngx_array_t *tools, u_char *drop);
static u_char *ngx_http_mcp_oauth_filter_kept(u_char *p,
    ngx_http_mcp_oauth_tools_t *a, ngx_http_mcp_oauth_tool_t *t,
    u_char *drop);
static ngx_int_t ngx_http_mcp_oauth_append(ngx_http_request_t *r,
    ngx_http_mcp_oauth_filter_t *f, u_char *p, size_t len);
static ngx_chain_t *ngx_http_mcp_oauth_chain(ngx_http_request_t *r,
    u_char *p, size_t len);


static ngx_http_module_t  ngx_http_mcp_oauth_filter_module_ctx = {
    NULL,                                  /* preconfiguration */
    ngx_http_mcp_oauth_filter_module_init, /* postconfiguration */

    NULL,                                  /* create main configuration */
    NULL,                                  /* init main configuration */

    NULL,                                  /* create server configuration */
    NULL,                                  /* merge server configuration */

    NULL,                                  /* create location configuration */
    NULL                                   /* merge location configuration */
};


ngx_module_t  ngx_http_mcp_oauth_filter_module = {
    NGX_MODULE_V1,
    &ngx_http_mcp_oauth_filter_module_ctx, /* module context */
    NULL,                                  /* module directives */
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


static ngx_http_output_header_filter_pt  ngx_http_next_header_filter;
static ngx_http_output_body_filter_pt    ngx_http_next_body_filter;


static ngx_int_t
ngx_http_mcp_oauth_filter_module_init(ngx_conf_t *cf)
{
    ngx_http_next_header_filter = ngx_http_top_header_filter;
    ngx_http_top_header_filter = ngx_http_mcp_oauth_header_filter;

    ngx_http_next_body_filter = ngx_http_top_body_filter;
    ngx_http_top_body_filter = ngx_http_mcp_oauth_body_filter;

    return NGX_OK;
}


static ngx_int_t
ngx_http_mcp_oauth_header_filter(ngx_http_request_t *r)
{
    ngx_uint_t                    mode;
    ngx_http_mcp_oauth_ctx_t     *ctx;
    ngx_http_mcp_oauth_filter_t  *f;

    if (r != r->main
        && ngx_http_get_module_ctx(r, ngx_http_mcp_oauth_filter_module))
    {
        r->filter_need_in_memory = 1;
        return NGX_OK;
    }

    ctx = (r == r->main) ? ngx_http_mcp_oauth_get_ctx(r) : NULL;

    if (ctx && ctx->cors[0]
        && (r->headers_out.www_authenticate == NULL
            || r->headers_out.www_authenticate->hash == 0))
    {
        /* "satisfy any" let the request in: the challenge was withdrawn */
        ctx->cors[0]->hash = 0;
        ctx->cors[1]->hash = 0;
    }

    if (ctx == NULL || !ctx->tools_list || !ctx->verified
        || r->headers_out.status != NGX_HTTP_OK || r->header_only)
    {
        return ngx_http_next_header_filter(r);
    }

    mode = ngx_http_mcp_oauth_filter_mode(r);

    if (mode == 0) {
        return ngx_http_next_header_filter(r);
    }

    f = ngx_pcalloc(r->pool, sizeof(ngx_http_mcp_oauth_filter_t));
    if (f == NULL) {
        return NGX_ERROR;
    }

    f->mode = mode;

    if (ngx_http_mcp_oauth_list_ids(r, ctx, f) != NGX_OK) {
        return NGX_ERROR;
    }

    ctx->filter = f;

    if (ngx_http_mcp_oauth_filter_compressed(r)) {
        return ngx_http_mcp_oauth_refuse(r, ctx, "is compressed");
    }

    /* the whole answer is held: room for all of it when its length is sent */

    if (mode == NGX_HTTP_MCP_OAUTH_FILTER_JSON
        && r->headers_out.content_length_n > 0
        && r->headers_out.content_length_n <= NGX_HTTP_MCP_OAUTH_FILTER_MAX)
    {
        f->size = (size_t) r->headers_out.content_length_n;
        f->data = ngx_pnalloc(r->pool, f->size);
        if (f->data == NULL) {
            return NGX_ERROR;
        }
    }

    if (ngx_http_mcp_oauth_filter_headers(r) != NGX_OK) {
        return NGX_ERROR;
    }

    if (mode == NGX_HTTP_MCP_OAUTH_FILTER_JSON) {
        /* sent with the new length once the body is filtered */
        return NGX_OK;
    }

    /* a stream holds nothing once no tools/list answer is awaited */

    f->passthrough = (f->pending == 0);

    return ngx_http_next_header_filter(r);
}


/* the answer filtered as JSON or as an event stream, by its type; 0: not */

static ngx_inline ngx_uint_t
ngx_http_mcp_oauth_filter_mode(ngx_http_request_t *r)
{
    if (r->headers_out.content_type.len >= sizeof("application/json") - 1
        && ngx_strncasecmp(r->headers_out.content_type.data,
                           (u_char *) "application/json",
                           sizeof("application/json") - 1) == 0)
    {
        return NGX_HTTP_MCP_OAUTH_FILTER_JSON;
    }

    if (r->headers_out.content_type.len >= sizeof("text/event-stream") - 1
        && ngx_strncasecmp(r->headers_out.content_type.data,
                           (u_char *) "text/event-stream",
                           sizeof("text/event-stream") - 1) == 0)
    {
        return NGX_HTTP_MCP_OAUTH_FILTER_SSE;
    }

    return 0;
}


/*
 * the upstream was asked for the identity encoding (filter_request);
 * an answer that still comes compressed cannot be read: refused
 */

static ngx_inline ngx_uint_t
ngx_http_mcp_oauth_filter_compressed(ngx_http_request_t *r)
{
    ngx_table_elt_t  *h;

    h = r->headers_out.content_encoding;

    return (h && h->hash && h->value.len
            && !(h->value.len == sizeof("identity") - 1
                 && ngx_strncasecmp(h->value.data, (u_char *) "identity",
                                    h->value.len) == 0));
}


/* the headers of an answer rewritten here: its length and ranges are gone */

static ngx_inline ngx_int_t
ngx_http_mcp_oauth_filter_headers(ngx_http_request_t *r)
{
    /* the list is the caller's: no shared cache may keep it */

    if (ngx_http_mcp_oauth_private(r) != NGX_OK) {
        return NGX_ERROR;
    }

    r->filter_need_in_memory = 1;
    r->allow_ranges = 0;

    ngx_http_clear_content_length(r);
    ngx_http_clear_accept_ranges(r);
    ngx_http_clear_etag(r);

    return NGX_OK;
}


/* the ids of the body's tools/list requests: their answers are awaited */

static ngx_int_t
ngx_http_mcp_oauth_list_ids(ngx_http_request_t *r,
    ngx_http_mcp_oauth_ctx_t *ctx, ngx_http_mcp_oauth_filter_t *f)
{
    ngx_uint_t                     i;
    ngx_http_mcp_oauth_msg_t      *msg;
    ngx_http_mcp_oauth_list_id_t  *id;

    if (ngx_array_init(&f->ids, r->pool, 1,
                       sizeof(ngx_http_mcp_oauth_list_id_t))
        != NGX_OK)
    {
        return NGX_ERROR;
    }

    if (ctx->msgs == NULL) {
        return NGX_OK;
    }

    msg = ctx->msgs->elts;

    for (i = 0; i < ctx->msgs->nelts; i++) {
        if (!msg[i].has_method || !msg[i].has_id
            || msg[i].method.len != sizeof("tools/list") - 1
            || ngx_strncmp(msg[i].method.data, "tools/list",
                           msg[i].method.len) != 0)
        {
            continue;
        }

        id = ngx_array_push(&f->ids);
        if (id == NULL) {
            return NGX_ERROR;
        }

        id->id = msg[i].id;
        id->answered = 0;
        f->pending++;
    }

    return NGX_OK;
}


static ngx_int_t
ngx_http_mcp_oauth_body_filter(ngx_http_request_t *r, ngx_chain_t *in)
{
    ngx_uint_t                     last, flush;
    ngx_chain_t                   *cl;
    ngx_http_mcp_oauth_ctx_t      *ctx;
    ngx_http_mcp_oauth_filter_t   *f;
    ngx_http_mcp_oauth_capture_t  *cap;

    if (r != r->main) {
        cap = ngx_http_get_module_ctx(r, ngx_http_mcp_oauth_filter_module);

        if (cap) {
            return ngx_http_mcp_oauth_capture_body(r, cap, in);
        }
    }

    ctx = (r == r->main) ? ngx_http_mcp_oauth_get_ctx(r) : NULL;
    f = ctx ? ctx->filter : NULL;

    if (f == NULL || in == NULL) {
        return ngx_http_next_body_filter(r, in);
    }

    if (f->passthrough) {
        return ngx_http_next_body_filter(r, in);
    }

    if (f->refused) {
        return ngx_http_mcp_oauth_refused_body(r, f, in);
    }

    last = 0;
    flush = 0;

    for (cl = in; cl; cl = cl->next) {

        if (f->len + ngx_buf_size(cl->buf) > NGX_HTTP_MCP_OAUTH_FILTER_MAX) {
            if (ngx_http_mcp_oauth_refuse(r, ctx, "is too large to filter")
                == NGX_ERROR)
            {
                return NGX_ERROR;
            }

            return ngx_http_mcp_oauth_refused_body(r, f, cl);
        }

        if (ngx_http_mcp_oauth_append(r, f, cl->buf->pos,
                                      cl->buf->last - cl->buf->pos)
            != NGX_OK)
        {
            return NGX_ERROR;
        }

        cl->buf->pos = cl->buf->last;

        last |= cl->buf->last_buf;
        flush |= cl->buf->flush;
    }

    if (f->mode == NGX_HTTP_MCP_OAUTH_FILTER_JSON) {
        return last ? ngx_http_mcp_oauth_json_body(r, ctx) : NGX_OK;
    }

    return ngx_http_mcp_oauth_sse_body(r, ctx, last, flush);
}


static ngx_int_t
ngx_http_mcp_oauth_json_body(ngx_http_request_t *r,
    ngx_http_mcp_oauth_ctx_t *ctx)
{
    ngx_int_t                     rc;
    ngx_str_t                     out;
    ngx_chain_t                  *cl;
    ngx_http_mcp_oauth_filter_t  *f;

    f = ctx->filter;

    rc = f->len ? ngx_http_mcp_oauth_filter_text(r, ctx, r->pool, f->data,
                                                 f->len, &out)
                : NGX_DECLINED;

    if (rc == NGX_ERROR) {
        return NGX_ERROR;
    }

    if (rc == NGX_DECLINED) {
        out.data = f->data;
        out.len = f->len;
    }

    r->headers_out.content_length_n = out.len;

    rc = ngx_http_next_header_filter(r);

    if (rc == NGX_ERROR || rc > NGX_OK || r->header_only) {
        return rc;
    }

    cl = ngx_http_mcp_oauth_chain(r, out.data, out.len);
    if (cl == NULL) {
        return NGX_ERROR;
    }

    cl->buf->last_buf = 1;
    f->len = 0;

    return ngx_http_next_body_filter(r, cl);
}


/*
 * Server-sent events (HTML, "Parsing an event stream"): lines end with CR,
 * LF or CRLF; an empty line ends an event.
 *
 * Memory stays bounded per stream: only the unfinished event is held; what
 * goes out is copied into output buffers that are reused once sent; the
 * work on one event (its data, the scan, the filtered text) is done in a
 * pool of its own, destroyed after the event.  Once every tools/list
 * request of the body has its answer, the stream passes as it comes.
 */

static ngx_int_t
ngx_http_mcp_oauth_sse_body(ngx_http_request_t *r,
    ngx_http_mcp_oauth_ctx_t *ctx, ngx_uint_t last, ngx_uint_t flush)
{
    ngx_int_t                     rc;
    ngx_chain_t                  *out, **ll;
    ngx_http_mcp_oauth_filter_t  *f;

    f = ctx->filter;
    out = NULL;
    ll = &out;

    /* nothing buffered: only a flush or the end to pass on */

    if (f->len && ngx_http_mcp_oauth_sse_scan(r, ctx, last, &ll) != NGX_OK) {
        return NGX_ERROR;
    }

    if ((last || flush)
        && ngx_http_mcp_oauth_sse_mark(r, f, last, flush, ll) != NGX_OK)
    {
        return NGX_ERROR;
    }

    if (out == NULL) {
        return NGX_OK;
    }

    rc = ngx_http_next_body_filter(r, out);

    ngx_chain_update_chains(r->pool, &f->free, &f->busy, &out,
                            (ngx_buf_tag_t) &ngx_http_mcp_oauth_filter_module);

    return rc;
}


/*
 * The bytes held, one unfinished event scanned up to f->scanned: the
 * events they complete go out at *ll, the rest is held for more.
 */

static ngx_int_t
ngx_http_mcp_oauth_sse_scan(ngx_http_request_t *r,
    ngx_http_mcp_oauth_ctx_t *ctx, ngx_uint_t last, ngx_chain_t ***ll)
{
    u_char                       *p, *end, *line, *event, *run;
    ngx_http_mcp_oauth_filter_t  *f;

    f = ctx->filter;

    p = f->data + f->scanned;
    end = f->data + f->len;
    event = f->data;
    line = f->data + f->line;
    run = f->data;              /* unchanged bytes not yet copied out */

    while (p < end) {

        p = ngx_http_mcp_oauth_sse_eol(p, end);

        if (p == end) {
            break;
        }

        if (*p == '\r') {
            if (p + 1 == end && !last) {
                break;      /* a CR LF may be split across buffers */
            }

            if (p + 1 < end && p[1] == '\n') {
                p++;
            }
        }

        p++;

        if (line + 1 == p || (line + 2 == p && line[0] == '\r')) {
            /* an empty line: the event is complete */

            if (ngx_http_mcp_oauth_sse_complete(r, ctx, event, p, &run, ll)
                != NGX_OK)
            {
                return NGX_ERROR;
            }

            event = p;

            if (f->pending == 0) {
                /* the last answer awaited: the rest goes as it comes */
                f->passthrough = 1;
                break;
            }
        }

        line = p;
    }

    if (f->passthrough || last) {
        /* with an unterminated last event as it came */
        event = end;
    }

    if (ngx_http_mcp_oauth_out(r, f, run, event - run, ll) != NGX_OK) {
        return NGX_ERROR;
    }

    f->len = end - event;
    f->scanned = f->len ? p - event : 0;
    f->line = f->len ? line - event : 0;

    if (f->len && event != f->data) {
        ngx_memmove(f->data, event, f->len);
    }

    if (f->passthrough) {
        ngx_pfree(r->pool, f->data);
        ngx_pfree(r->pool, f->scratch);
        f->data = NULL;
        f->size = 0;
        f->scratch = NULL;
        f->scratch_size = 0;
    }

    return NGX_OK;
}


/*
 * A complete event (start to end): filtered, it goes out after the bytes
 * that came unchanged before it (*run); else it joins them.
 */

static ngx_int_t
ngx_http_mcp_oauth_sse_complete(ngx_http_request_t *r,
    ngx_http_mcp_oauth_ctx_t *ctx, u_char *start, u_char *end, u_char **run,
    ngx_chain_t ***ll)
{
    ngx_int_t                     rc;
    ngx_str_t                     changed;
    ngx_pool_t                   *tmp;
    ngx_http_mcp_oauth_filter_t  *f;

    f = ctx->filter;
    tmp = NULL;

    rc = ngx_http_mcp_oauth_sse_event(r, ctx, start, end, &tmp, &changed);

    if (rc == NGX_OK) {
        if (ngx_http_mcp_oauth_out(r, f, *run, start - *run, ll) != NGX_OK
            || ngx_http_mcp_oauth_out(r, f, changed.data, changed.len, ll)
               != NGX_OK)
        {
            rc = NGX_ERROR;

        } else {
            *run = end;
        }
    }

    if (tmp) {
        ngx_destroy_pool(tmp);
    }

    return (rc == NGX_ERROR) ? NGX_ERROR : NGX_OK;
}


/*
 * Whether the text has the keys (or strings) "id" and "tools": only an
 * event with "id" can answer a request, only one with "tools" can hold a
 * tools list.  With a backslash anywhere, an escape may spell either: both.
 */

static void
ngx_http_mcp_oauth_sse_names(u_char *p, size_t len, ngx_uint_t *id,
    ngx_uint_t *tools)
{
    u_char    *q, *end;
#if (NGX_HTTP_MCP_OAUTH_SSE2)
    uint32_t   m;
    __m128i    quote, c1, c2, c3;
#endif

    end = p + len;

#if (NGX_HTTP_MCP_OAUTH_SSE2)

    /*
     * 16 places at a time: where '"' is followed by "id\"" and where by
     * "too" (then "ls\"" is looked at), as masks of the four loads
     */

    for ( /* void */ ; end - p >= 19 && !(*id && *tools); p += 16) {
        c1 = _mm_loadu_si128((__m128i *) p);

        if (_mm_movemask_epi8(_mm_cmpeq_epi8(c1, _mm_set1_epi8('\\')))) {
            *id = 1;
            *tools = 1;
            return;
        }

        quote = _mm_cmpeq_epi8(c1, _mm_set1_epi8('"'));
        c1 = _mm_loadu_si128((__m128i *) (p + 1));
        c2 = _mm_loadu_si128((__m128i *) (p + 2));
        c3 = _mm_loadu_si128((__m128i *) (p + 3));

        if (_mm_movemask_epi8(_mm_and_si128(quote, _mm_and_si128(
                _mm_cmpeq_epi8(c1, _mm_set1_epi8('i')),
                _mm_and_si128(_mm_cmpeq_epi8(c2, _mm_set1_epi8('d')),
                              _mm_cmpeq_epi8(c3, _mm_set1_epi8('"')))))))
        {
            *id = 1;
        }

        m = _mm_movemask_epi8(_mm_and_si128(quote, _mm_and_si128(
                _mm_cmpeq_epi8(c1, _mm_set1_epi8('t')),
                _mm_and_si128(_mm_cmpeq_epi8(c2, _mm_set1_epi8('o')),
                              _mm_cmpeq_epi8(c3, _mm_set1_epi8('o'))))));

        for ( /* void */ ; m; m &= m - 1) {
            ngx_http_mcp_oauth_sse_name(p + __builtin_ctz(m), end, id,
                                        tools);
        }
    }

#endif

    if ((*id && *tools) || memchr(p, '\\', end - p)) {
        *id = 1;
        *tools = 1;
        return;
    }

    for ( /* void */ ; !(*id && *tools) && (q = memchr(p, '"', end - p));
         p = q + 1)
    {
        ngx_http_mcp_oauth_sse_name(q, end, id, tools);
    }
}


static ngx_inline void
ngx_http_mcp_oauth_sse_name(u_char *q, u_char *end, ngx_uint_t *id,
    ngx_uint_t *tools)
{
    if (end - q > 3 && q[1] == 'i' && q[2] == 'd' && q[3] == '"') {
        *id = 1;

    } else if (end - q > 6 && q[1] == 't'
               && ngx_memcmp(q + 2, "ools\"", 5) == 0)
    {
        *tools = 1;
    }
}


/* the first CR or LF from p, or end */

static ngx_inline u_char *
ngx_http_mcp_oauth_sse_eol(u_char *p, u_char *end)
{
#if (NGX_HTTP_MCP_OAUTH_SSE2)
    __m128i   v;
    uint32_t  m;

    for ( /* void */ ; end - p >= 16; p += 16) {
        v = _mm_loadu_si128((__m128i *) p);
        m = _mm_movemask_epi8(_mm_or_si128(
                _mm_cmpeq_epi8(v, _mm_set1_epi8('\r')),
                _mm_cmpeq_epi8(v, _mm_set1_epi8('\n'))));

        if (m) {
            return p + __builtin_ctz(m);
        }
    }
#endif

    while (p < end && *p != '\r' && *p != '\n') {
        p++;
    }

    return p;
}


/* an empty buffer that passes the end or a flush on */

static ngx_int_t
ngx_http_mcp_oauth_sse_mark(ngx_http_request_t *r,
    ngx_http_mcp_oauth_filter_t *f, ngx_uint_t last, ngx_uint_t flush,
    ngx_chain_t **ll)
{
    ngx_buf_t    *b;
    ngx_chain_t  *cl;

    cl = ngx_chain_get_free_buf(r->pool, &f->free);
    if (cl == NULL) {
        return NGX_ERROR;
    }

    /* its memory, if any, stays for the next data */

    b = cl->buf;
    b->pos = b->start;
    b->last = b->start;
    b->temporary = 0;
    b->memory = 0;
    b->tag = (ngx_buf_tag_t) &ngx_http_mcp_oauth_filter_module;
    b->last_buf = last;
    b->flush = flush;
    *ll = cl;

    return NGX_OK;
}


/*
 * One complete event.  NGX_OK: *out is its new text (in *tmp);
 * NGX_DECLINED: it goes out as it came.  Its answers to tools/list
 * requests are noted.
 */

static ngx_int_t
ngx_http_mcp_oauth_sse_event(ngx_http_request_t *r,
    ngx_http_mcp_oauth_ctx_t *ctx, u_char *start, u_char *end,
    ngx_pool_t **tmp, ngx_str_t *out)
{
    u_char                       *d;
    size_t                        dlen;
    ngx_int_t                     rc;
    ngx_str_t                     data;
    ngx_uint_t                    answer, tools;
    ngx_http_mcp_oauth_filter_t  *f;

    f = ctx->filter;

    /*
     * Only an event whose text names an "id" can answer a request, and
     * only one that names "tools" can hold a tools list (progress
     * notifications do neither); an escaped key may spell either.  The
     * event as it came is looked at, before its data is put together: the
     * data lines are in it, and neither a name nor a backslash spans two of
     * them.
     */

    answer = 0;
    tools = 0;

    ngx_http_mcp_oauth_sse_names(start, end - start, &answer, &tools);

    if (!answer && !tools) {
        return NGX_DECLINED;
    }

    if (ngx_http_mcp_oauth_sse_data(r, f, start, end, &dlen) != NGX_OK) {
        return NGX_ERROR;
    }

    if (dlen == 0) {
        return NGX_DECLINED;
    }

    d = f->scratch;

    *tmp = ngx_create_pool(4096, r->connection->log);
    if (*tmp == NULL) {
        return NGX_ERROR;
    }

    if (answer) {
        rc = ngx_http_mcp_oauth_sse_answered(r, ctx, *tmp, d, dlen, tools,
                                             &data);

    } else {
        rc = tools ? ngx_http_mcp_oauth_filter_text(r, ctx, *tmp, d, dlen,
                                                    &data)
                   : NGX_DECLINED;
    }

    if (rc != NGX_OK) {
        return rc;
    }

    return ngx_http_mcp_oauth_sse_rewrite(*tmp, start, end, &data, out);
}


/* the next line of an event: its length without the end, and its end */

static ngx_inline u_char *
ngx_http_mcp_oauth_sse_line(u_char *line, u_char *end, size_t *len)
{
    u_char  *eol;

    eol = ngx_http_mcp_oauth_sse_eol(line, end);

    *len = eol - line;

    if (eol < end && *eol == '\r' && eol + 1 < end && eol[1] == '\n') {
        eol++;
    }

    if (eol < end) {
        eol++;
    }

    return eol;
}


/* the event's "data" lines, joined with LF, in f->scratch (kept) */

static ngx_int_t
ngx_http_mcp_oauth_sse_data(ngx_http_request_t *r,
    ngx_http_mcp_oauth_filter_t *f, u_char *start, u_char *end, size_t *dlen)
{
    u_char  *q, *line, *eol, *d;
    size_t   len, n;

    if (f->scratch_size < (size_t) (end - start)) {
        ngx_pfree(r->pool, f->scratch);

        f->scratch_size = ngx_max((size_t) (end - start), 4096);
        f->scratch = ngx_palloc(r->pool, f->scratch_size);
        if (f->scratch == NULL) {
            f->scratch_size = 0;
            return NGX_ERROR;
        }
    }

    d = f->scratch;
    n = 0;

    for (line = start; line < end; line = eol) {
        eol = ngx_http_mcp_oauth_sse_line(line, end, &len);

        if (len < 5 || ngx_strncmp(line, "data:", 5) != 0) {
            continue;
        }

        q = line + 5;

        if (q < line + len && *q == ' ') {
            q++;
        }

        if (n) {
            d[n++] = '\n';
        }

        n = ngx_cpymem(d + n, q, line + len - q) - d;
    }

    *dlen = n;

    return NGX_OK;
}


/* the other fields of the event as they were, then the new data by line */

static ngx_int_t
ngx_http_mcp_oauth_sse_rewrite(ngx_pool_t *pool, u_char *start, u_char *end,
    ngx_str_t *data, ngx_str_t *out)
{
    u_char      *p, *q, *line, *eol, *last;
    size_t       len;
    ngx_uint_t   n;

    /* memchr(), not a byte loop: a tools list is kilobytes on one line */

    last = data->data + data->len;
    n = 0;

    for (q = data->data; (q = memchr(q, '\n', last - q)); q++) {
        n++;
    }

    p = ngx_pnalloc(pool, (end - start) + data->len
                          + (n + 1) * sizeof("data: \n") + 1);
    if (p == NULL) {
        return NGX_ERROR;
    }

    q = p;

    for (line = start; line < end; line = eol) {
        eol = ngx_http_mcp_oauth_sse_line(line, end, &len);

        if (len == 0 || (len >= 5 && ngx_strncmp(line, "data:", 5) == 0)) {
            continue;
        }

        q = ngx_cpymem(q, line, eol - line);
    }

    for (line = data->data; line <= last; line = eol + 1) {
        eol = memchr(line, '\n', last - line);
        if (eol == NULL) {
            eol = last;
        }

        q = ngx_cpymem(q, "data: ", 6);
        q = ngx_cpymem(q, line, eol - line);
        *q++ = '\n';
    }

    *q++ = '\n';

    out->data = p;
    out->len = q - p;

    return NGX_OK;
}


/*
 * The responses (result or error) an event's data holds, by id; with
 * tools, its tools lists filtered into *out from the same scan (as
 * ngx_http_mcp_oauth_filter_text() answers).
 */

static ngx_int_t
ngx_http_mcp_oauth_sse_answered(ngx_http_request_t *r,
    ngx_http_mcp_oauth_ctx_t *ctx, ngx_pool_t *pool, u_char *data,
    size_t len, ngx_uint_t tools, ngx_str_t *out)
{
    char                          *err;
    ngx_int_t                      rc;
    ngx_uint_t                     i, k, batch;
    ngx_array_t                   *msgs, *arrays, *list;
    ngx_http_mcp_oauth_filter_t   *f;
    ngx_http_mcp_oauth_msg_t      *msg;
    ngx_http_mcp_oauth_list_id_t  *id;

    f = ctx->filter;
    msgs = ngx_array_create(pool, 1, sizeof(ngx_http_mcp_oauth_msg_t));
    arrays = NULL;
    list = NULL;

    if (tools) {
        arrays = ngx_array_create(pool, 1,
                                  sizeof(ngx_http_mcp_oauth_tools_t));
        list = ngx_array_create(pool, 16, sizeof(ngx_http_mcp_oauth_tool_t));
    }

    if (msgs == NULL || (tools && (arrays == NULL || list == NULL))) {
        return NGX_ERROR;
    }

    rc = ngx_http_mcp_oauth_json_scan_tools(pool, data, len, msgs, &batch,
                                            &err, arrays, list);

    if (rc != NGX_OK && tools) {
        /*
         * the tools scanner decodes the keys inside a result, which the
         * message scanner only skips: each on its own, as they were
         */

        msgs->nelts = 0;
        list = NULL;
        rc = ngx_http_mcp_oauth_json_scan(pool, data, len, msgs, &batch, &err);
    }

    if (rc != NGX_OK) {
        msgs->nelts = 0;
    }

    msg = msgs->elts;
    id = f->ids.elts;

    for (i = 0; i < msgs->nelts; i++) {
        if (!msg[i].object || msg[i].has_method || !msg[i].has_id
            || !(msg[i].has_result || msg[i].has_error))
        {
            continue;
        }

        for (k = 0; k < f->ids.nelts; k++) {
            if (!id[k].answered && id[k].id.len == msg[i].id.len
                && ngx_memcmp(id[k].id.data, msg[i].id.data, msg[i].id.len)
                   == 0)
            {
                id[k].answered = 1;
                f->pending--;
                break;
            }
        }
    }

    if (!tools) {
        return NGX_DECLINED;
    }

    return list ? ngx_http_mcp_oauth_filter_found(r, ctx, pool, data, len,
                                                  arrays, list, out)
                : ngx_http_mcp_oauth_filter_text(r, ctx, pool, data, len, out);
}


/* bytes copied into an output buffer, reused once the last ones went out */

static ngx_int_t
ngx_http_mcp_oauth_out(ngx_http_request_t *r, ngx_http_mcp_oauth_filter_t *f,
    u_char *p, size_t len, ngx_chain_t ***ll)
{
    size_t        size;
    ngx_buf_t    *b;
    ngx_chain_t  *cl;

    if (len == 0) {
        return NGX_OK;
    }

    cl = ngx_chain_get_free_buf(r->pool, &f->free);
    if (cl == NULL) {
        return NGX_ERROR;
    }

    b = cl->buf;

    if (b->start == NULL || (size_t) (b->end - b->start) < len) {
        if (b->start) {
            ngx_pfree(r->pool, b->start);
        }

        /* at least a page: allocated apart from the pool, freed apart */

        size = ngx_max(len, 4096);

        b->start = ngx_palloc(r->pool, size);
        if (b->start == NULL) {
            return NGX_ERROR;
        }

        b->end = b->start + size;
    }

    b->pos = b->start;
    b->last = ngx_cpymem(b->start, p, len);
    b->temporary = 1;
    b->memory = 0;
    b->last_buf = 0;
    b->flush = 0;
    b->tag = (ngx_buf_tag_t) &ngx_http_mcp_oauth_filter_module;

    **ll = cl;
    *ll = &cl->next;

    return NGX_OK;
}


/* "Cache-Control: private" (RFC 9111 §5.2.2.7) instead of the upstream's */

static ngx_int_t
ngx_http_mcp_oauth_private(ngx_http_request_t *r)
{
    ngx_uint_t        i;
    ngx_list_part_t  *part;
    ngx_table_elt_t  *h;
#if (nginx_version < 1023000)
    ngx_table_elt_t **ph;
#endif

    for (part = &r->headers_out.headers.part; part; part = part->next) {
        h = part->elts;

        for (i = 0; i < part->nelts; i++) {
            if (h[i].key.len == sizeof("Cache-Control") - 1
                && ngx_strncasecmp(h[i].key.data, (u_char *) "Cache-Control",
                                   h[i].key.len) == 0)
            {
                h[i].hash = 0;
            }
        }
    }

    h = ngx_list_push(&r->headers_out.headers);
    if (h == NULL) {
        return NGX_ERROR;
    }

    h->hash = 1;
    ngx_str_set(&h->key, "Cache-Control");
    ngx_str_set(&h->value, "private");

#if (nginx_version >= 1023000)
    h->next = NULL;
    r->headers_out.cache_control = h;
#else
    if (r->headers_out.cache_control.elts == NULL
        && ngx_array_init(&r->headers_out.cache_control, r->pool, 1,
                          sizeof(ngx_table_elt_t *))
           != NGX_OK)
    {
        return NGX_ERROR;
    }

    r->headers_out.cache_control.nelts = 0;

    ph = ngx_array_push(&r->headers_out.cache_control);
    if (ph == NULL) {
        return NGX_ERROR;
    }

    *ph = h;
#endif

    return NGX_OK;
}


/*
 * Fail closed: an answer the filter cannot read (compressed, too large) is
 * not passed on.  Before the header went out it becomes a 502 with a
 * JSON-RPC error; an event stream already under way gets an error event for
 * each tools/list request and ends.  The rest of the upstream's answer is
 * read and dropped.
 */

static ngx_int_t
ngx_http_mcp_oauth_refuse(ngx_http_request_t *r,
    ngx_http_mcp_oauth_ctx_t *ctx, const char *why)
{
    ngx_uint_t                    sse;
    ngx_http_mcp_oauth_filter_t  *f;

    f = ctx->filter;

    ngx_log_error(NGX_LOG_ERR, r->connection->log, 0,
                  "mcp_oauth: the upstream's tools/list answer %s, refused",
                  why);

    f->refused = 1;

    /* nothing of it is kept */

    if (f->data) {
        ngx_pfree(r->pool, f->data);
        f->data = NULL;
        f->len = 0;
        f->size = 0;
    }

    sse = (f->mode == NGX_HTTP_MCP_OAUTH_FILTER_SSE && r->header_sent);

    f->refusal = ngx_http_mcp_oauth_refusal(r, ctx, sse);
    if (f->refusal == NULL) {
        return NGX_ERROR;
    }

    if (sse) {
        return NGX_OK;
    }

    r->headers_out.status = NGX_HTTP_BAD_GATEWAY;
    r->headers_out.status_line.len = 0;

    if (r->headers_out.content_encoding) {
        r->headers_out.content_encoding->hash = 0;
        r->headers_out.content_encoding = NULL;
    }

    ngx_str_set(&r->headers_out.content_type, "application/json");
    r->headers_out.content_type_len = r->headers_out.content_type.len;
    r->headers_out.content_type_lowcase = NULL;
    r->headers_out.charset.len = 0;

    ngx_http_clear_content_length(r);
    ngx_http_clear_last_modified(r);

    r->headers_out.content_length_n = ngx_buf_size(f->refusal->buf);

    return ngx_http_next_header_filter(r);
}


static ngx_int_t
ngx_http_mcp_oauth_refused_body(ngx_http_request_t *r,
    ngx_http_mcp_oauth_filter_t *f, ngx_chain_t *in)
{
    ngx_uint_t    last;
    ngx_chain_t  *cl;

    last = 0;

    for (cl = in; cl; cl = cl->next) {
        last |= cl->buf->last_buf;
        cl->buf->pos = cl->buf->last;

        if (cl->buf->file) {
            cl->buf->file_pos = cl->buf->file_last;
        }
    }

    /* an event stream may never end: its refusal ends the answer at once */

    if (f->done
        || (!last && !(f->mode == NGX_HTTP_MCP_OAUTH_FILTER_SSE
                       && r->header_sent)))
    {
        return NGX_OK;
    }

    f->done = 1;

    return ngx_http_next_body_filter(r, f->refusal);
}


/*
 * The JSON-RPC error: one for the first tools/list request (or id null); in
 * a stream, an event for each tools/list request not answered yet.
 */

static ngx_chain_t *
ngx_http_mcp_oauth_refusal(ngx_http_request_t *r,
    ngx_http_mcp_oauth_ctx_t *ctx, ngx_uint_t sse)
{
    u_char                        *p;
    size_t                         len;
    ngx_str_t                     *id;
    ngx_uint_t                     i, n;
    ngx_chain_t                   *cl;
    ngx_http_mcp_oauth_filter_t   *f;
    ngx_http_mcp_oauth_list_id_t  *ids;

    static ngx_str_t  null = ngx_string("null");
    static ngx_str_t  message =
        ngx_string("the tools/list answer could not be filtered");

#define NGX_HTTP_MCP_OAUTH_REFUSAL                                            \
    "{\"jsonrpc\":\"2.0\",\"id\":%V,\"error\":{\"code\":%i,"              \
    "\"message\":\"%V\"}}"

    f = ctx->filter;
    ids = f->ids.elts;
    n = f->ids.nelts;

    len = 0;

    for (i = 0; i < ngx_max(n, 1); i++) {
        id = (i < n) ? &ids[i].id : &null;

        len += sizeof("event: message\ndata: \n\n") - 1
               + sizeof(NGX_HTTP_MCP_OAUTH_REFUSAL) + NGX_INT_T_LEN
               + id->len + message.len;
    }

    cl = ngx_http_mcp_oauth_chain(r, NULL, 0);
    if (cl == NULL) {
        return NULL;
    }

    p = ngx_pnalloc(r->pool, len);
    if (p == NULL) {
        return NULL;
    }

    cl->buf->pos = p;
    cl->buf->start = p;

    for (i = 0; i < ngx_max(n, 1); i++) {
        id = (i < n) ? &ids[i].id : &null;

        if (sse && i < n && ids[i].answered) {
            continue;
        }

        if (sse) {
            p = ngx_cpymem(p, "event: message\ndata: ",
                           sizeof("event: message\ndata: ") - 1);
        }

        p = ngx_sprintf(p, NGX_HTTP_MCP_OAUTH_REFUSAL, id,
                        (ngx_int_t) NGX_HTTP_MCP_OAUTH_INTERNAL_ERROR,
                        &message);

        if (!sse) {
            break;
        }

        *p++ = '\n';
        *p++ = '\n';
    }

#undef NGX_HTTP_MCP_OAUTH_REFUSAL

    cl->buf->last = p;
    cl->buf->end = p;
    cl->buf->memory = 1;
    cl->buf->last_buf = 1;
    cl->buf->flush = 1;

    return cl;
}


/*
 * The upstream is asked for the identity encoding (RFC 9110 §12.5.3: no
 * Accept-Encoding), so that the filter can read the answer.  nginx's own
 * gzip then leaves the answer to the client uncompressed too.
 */

ngx_int_t
ngx_http_mcp_oauth_filter_request(ngx_http_request_t *r)
{
    ngx_uint_t        i;
    ngx_list_part_t  *part;
    ngx_table_elt_t  *h;

#if (NGX_HTTP_GZIP || NGX_HTTP_HEADERS)
    r->headers_in.accept_encoding = NULL;
#endif

again:

    for (part = &r->headers_in.headers.part; part; part = part->next) {
        h = part->elts;

        for (i = 0; i < part->nelts; i++) {
            if (h[i].key.len == sizeof("Accept-Encoding") - 1
                && ngx_strncasecmp(h[i].key.data, (u_char *) "Accept-Encoding",
                                   h[i].key.len) == 0)
            {
                if (ngx_http_mcp_oauth_header_remove(r, &h[i]) != NGX_OK) {
                    return NGX_ERROR;
                }

                goto again;
            }
        }
    }

    return NGX_OK;
}


/*
 * The text with the tools the caller's token could not call left out of
 * every result.tools array; the rest stays byte for byte.  NGX_DECLINED:
 * nothing to leave out (or not JSON).
 */

static ngx_int_t
ngx_http_mcp_oauth_filter_text(ngx_http_request_t *r,
    ngx_http_mcp_oauth_ctx_t *ctx, ngx_pool_t *pool, u_char *data, size_t len,
    ngx_str_t *out)
{
    ngx_array_t  *arrays, *tools;

    arrays = ngx_array_create(pool, 1, sizeof(ngx_http_mcp_oauth_tools_t));
    tools = ngx_array_create(pool, 16, sizeof(ngx_http_mcp_oauth_tool_t));

    if (arrays == NULL || tools == NULL) {
        return NGX_ERROR;
    }

    if (ngx_http_mcp_oauth_json_tools(pool, data, len, arrays, tools)
        != NGX_OK)
    {
        return NGX_DECLINED;
    }

    return ngx_http_mcp_oauth_filter_found(r, ctx, pool, data, len, arrays,
                                           tools, out);
}


/* the same, with the tools arrays of the text already found */

static ngx_int_t
ngx_http_mcp_oauth_filter_found(ngx_http_request_t *r,
    ngx_http_mcp_oauth_ctx_t *ctx, ngx_pool_t *pool, u_char *data, size_t len,
    ngx_array_t *arrays, ngx_array_t *tools, ngx_str_t *out)
{
    u_char     *drop;
    ngx_int_t   rc;

    if (tools->nelts == 0) {
        return NGX_DECLINED;
    }

    rc = ngx_http_mcp_oauth_filter_drop(r, ctx, pool, tools, &drop);
    if (rc != NGX_OK) {
        return rc;
    }

    /* each result is for this caller only (MCP 2026-07-28, caching) */

    out->data = ngx_pnalloc(pool, len + arrays->nelts
                                  * sizeof(",\"cacheScope\":\"private\""));
    if (out->data == NULL) {
        return NGX_ERROR;
    }

    out->len = ngx_http_mcp_oauth_filter_write(out->data, data, len, arrays,
                                               tools, drop)
               - out->data;

    return NGX_OK;
}


/*
 * drop[i] is set for each tool the caller's token could not call.
 * NGX_DECLINED: it could call them all.
 */

static ngx_int_t
ngx_http_mcp_oauth_filter_drop(ngx_http_request_t *r,
    ngx_http_mcp_oauth_ctx_t *ctx, ngx_pool_t *pool, ngx_array_t *tools,
    u_char **drop)
{
    ngx_uint_t                      i, removed;
    ngx_array_t                    *need;
    ngx_http_mcp_oauth_tool_t      *t;
    ngx_http_mcp_oauth_loc_conf_t  *mlcf;

    static ngx_str_t  call = ngx_string("tools/call");

    need = ngx_array_create(pool, 4, sizeof(ngx_str_t));
    *drop = ngx_pcalloc(pool, tools->nelts);

    if (need == NULL || *drop == NULL) {
        return NGX_ERROR;
    }

    mlcf = ngx_http_get_module_loc_conf(r, ngx_http_mcp_oauth_module);
    t = tools->elts;
    removed = 0;

    for (i = 0; i < tools->nelts; i++) {
        if (!t[i].named) {
            continue;
        }

        need->nelts = 0;

        if (ngx_http_mcp_oauth_need(mlcf, &call, &t[i].name, need) != NGX_OK) {
            return NGX_ERROR;
        }

        if (!ngx_http_mcp_oauth_granted(ctx, need)) {
            ngx_log_debug1(NGX_LOG_DEBUG_HTTP, r->connection->log, 0,
                           "mcp_oauth: tools/list: \"%V\" filtered",
                           &t[i].name);
            (*drop)[i] = 1;
            removed++;
        }
    }

    return removed ? NGX_OK : NGX_DECLINED;
}


/*
 * The text at p, the kept tools of each array joined by single commas;
 * "cacheScope" of each result is set to "private", or added after its last
 * member.  The end of the text.
 */

static u_char *
ngx_http_mcp_oauth_filter_write(u_char *p, u_char *data, size_t len,
    ngx_array_t *arrays, ngx_array_t *tools, u_char *drop)
{
    u_char                      *pos;
    ngx_uint_t                   i;
    ngx_http_mcp_oauth_tools_t  *a;

    pos = data;
    a = arrays->elts;

    for (i = 0; i < arrays->nelts; i++) {

        /* "cacheScope" before the array */

        if (a[i].scope_start && a[i].scope_start < a[i].start
            && a[i].scope_start >= pos)
        {
            p = ngx_cpymem(p, pos, a[i].scope_start - pos);
            p = ngx_cpymem(p, "\"private\"", sizeof("\"private\"") - 1);
            pos = a[i].scope_end;
        }

        p = ngx_cpymem(p, pos, a[i].start - pos);
        p = ngx_http_mcp_oauth_filter_kept(p, &a[i], tools->elts, drop);
        pos = a[i].end;

        /* the last array of its result: "cacheScope" after it */

        if (i + 1 < arrays->nelts && a[i + 1].tail == a[i].tail) {
            continue;
        }

        if (a[i].scope_start && a[i].scope_start >= pos) {
            p = ngx_cpymem(p, pos, a[i].scope_start - pos);
            p = ngx_cpymem(p, "\"private\"", sizeof("\"private\"") - 1);
            pos = a[i].scope_end;

        } else if (a[i].scope_start == NULL) {
            p = ngx_cpymem(p, pos, a[i].tail - pos);
            p = ngx_cpymem(p, ",\"cacheScope\":\"private\"",
                           sizeof(",\"cacheScope\":\"private\"") - 1);
            pos = a[i].tail;
        }
    }

    return ngx_cpymem(p, pos, data + len - pos);
}


/* the array a with the tools kept, at p; the end of it */

static u_char *
ngx_http_mcp_oauth_filter_kept(u_char *p, ngx_http_mcp_oauth_tools_t *a,
    ngx_http_mcp_oauth_tool_t *t, u_char *drop)
{
    ngx_uint_t  j, first;

    *p++ = '[';
    first = 1;

    for (j = a->first; j < a->first + a->n; j++) {
        if (drop[j]) {
            continue;
        }

        if (!first) {
            *p++ = ',';
        }

        first = 0;
        p = ngx_cpymem(p, t[j].start, t[j].end - t[j].start);
    }

    *p++ = ']';

    return p;
}


static ngx_int_t
ngx_http_mcp_oauth_append(ngx_http_request_t *r,
    ngx_http_mcp_oauth_filter_t *f, u_char *p, size_t len)
{
    u_char  *data;
    size_t   size;

    if (len == 0) {
        return NGX_OK;
    }

    if (f->len + len > f->size) {
        size = ngx_max(f->size * 2, f->len + len);
        size = ngx_max(size, 4096);

        data = ngx_pnalloc(r->pool, size);
        if (data == NULL) {
            return NGX_ERROR;
        }

        if (f->len) {
            ngx_memcpy(data, f->data, f->len);
        }

        if (f->data) {
            ngx_pfree(r->pool, f->data);
        }

        f->data = data;
        f->size = size;
    }

    ngx_memcpy(f->data + f->len, p, len);
    f->len += len;

    return NGX_OK;
}


/* a chain link with a buffer over the bytes, which the pool keeps */

static ngx_chain_t *
ngx_http_mcp_oauth_chain(ngx_http_request_t *r, u_char *p, size_t len)
{
    ngx_buf_t    *b;
    ngx_chain_t  *cl;

    cl = ngx_alloc_chain_link(r->pool);
    b = ngx_calloc_buf(r->pool);

    if (cl == NULL || b == NULL) {
        return NULL;
    }

    if (len) {
        b->pos = p;
        b->last = p + len;
        b->temporary = 1;
    }

    cl->buf = b;
    cl->next = NULL;

    return cl;
}
