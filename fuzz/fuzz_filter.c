
/*
 * The tools/list response filter (ngx_http_mcp_oauth_filter.c): the header
 * and body filters, the SSE event splitter and the JSON rewriting, driven
 * with a fake request.  The file is #included (its functions are static);
 * the few functions it calls from the rest of the module and of nginx are
 * stubbed below: the location's rules become "a tool needs the scope named
 * like it", and the token grants according to the policy the input picks.
 *
 * Input: [0] flags, [1] split seed, then the response body.
 *   flags & 3:  0 grant every tool, 1 refuse tools named admin* / delete*,
 *               2 refuse by a hash of the name, 3 refuse every tool
 *   flags & 4:  text/event-stream (else application/json)
 *   seed:       0 one buffer; else the body arrives in buffers of random
 *               size (1..97 bytes), some with "flush"
 *
 * Each input buffer is freed as soon as the filter returns (a filter that
 * kept a pointer into it reads freed memory).
 *
 * Checked beyond "no sanitizer report":
 *  - every call returns NGX_OK, its buffers are consumed (by the filter, or
 *    sent on: the end of the chain takes what it gets, as the write filter
 *    does), and the output ends with exactly one last_buf;
 *  - the output does not depend on how the body is split into buffers;
 *  - granting every tool, the output is the body, byte for byte;
 *  - filtering is idempotent: the output, filtered again, is unchanged;
 *  - application/json: Content-Length is the output's length; a changed
 *    output is JSON with tools arrays (json_tools) none of whose tools the
 *    policy refuses.
 */

#include "fuzz_common.h"
#include <ngx_http.h>

#include "ngx_http_mcp_oauth_module.h"


/* nginx and module symbols the filter refers to */

ngx_module_t                       ngx_http_core_module;
ngx_module_t                       ngx_http_mcp_oauth_module;
ngx_http_output_header_filter_pt   ngx_http_top_header_filter;
ngx_http_output_body_filter_pt     ngx_http_top_body_filter;


static ngx_http_mcp_oauth_ctx_t   *fuzz_ctx;
static ngx_uint_t                  fuzz_policy;


ngx_http_mcp_oauth_ctx_t *
ngx_http_mcp_oauth_get_ctx(ngx_http_request_t *r)
{
    return fuzz_ctx;
}


ngx_int_t
ngx_http_mcp_oauth_need(ngx_http_mcp_oauth_loc_conf_t *mlcf,
    ngx_str_t *method, ngx_str_t *name, ngx_array_t *need)
{
    ngx_str_t  *s;

    MCP_FUZZ_CHECK(mcp_fuzz_str_eq(method, "tools/call", 10),
                   "need() for method %.*s", (int) method->len, method->data);

    s = ngx_array_push(need);
    if (s == NULL) {
        return NGX_ERROR;
    }

    *s = *name;

    return NGX_OK;
}


static int
refused(ngx_str_t *name)
{
    size_t    i;
    uint32_t  h;

    switch (fuzz_policy) {

    case 0:
        return 0;

    case 1:
        return (name->len >= 5 && memcmp(name->data, "admin", 5) == 0)
               || (name->len >= 6 && memcmp(name->data, "delete", 6) == 0);

    case 2:
        h = 2166136261u;
        for (i = 0; i < name->len; i++) {
            h = (h ^ name->data[i]) * 16777619u;
        }

        return h & 1;

    default:
        return 1;
    }
}


ngx_int_t
ngx_http_mcp_oauth_granted(ngx_http_mcp_oauth_ctx_t *ctx, ngx_array_t *need)
{
    ngx_str_t   *s;
    ngx_uint_t   i;

    s = need->elts;

    for (i = 0; i < need->nelts; i++) {
        if (refused(&s[i])) {
            return 0;
        }
    }

    return 1;
}


/* the request's header list is not the filter's to fuzz */

ngx_int_t
ngx_http_mcp_oauth_header_remove(ngx_http_request_t *r, ngx_table_elt_t *elt)
{
    return NGX_OK;
}


/* by name: -I ngx_mcp_oauth_module/rs (and so llvm-cov sees the real path) */
#include "ngx_http_mcp_oauth_filter.c"


/*
 * The filter hands a subrequest's answer to the capture of
 * base/ngx_http_mcp_oauth_http.c: never here, where no subrequest is made.
 */

ngx_int_t
ngx_http_mcp_oauth_capture_body(ngx_http_request_t *r,
    ngx_http_mcp_oauth_capture_t *cap, ngx_chain_t *in)
{
    fprintf(stderr, "a subrequest's answer in a fuzz harness\n");
    abort();
}


/* the end of the filter chain: what would go to the client */

typedef struct {
    u_char      *data;
    size_t       len;
    size_t       size;
    ngx_uint_t   last_bufs;
    ngx_uint_t   header_calls;
    off_t        content_length;
    unsigned     after_last:1;
} fuzz_out_t;

static fuzz_out_t  out;


static ngx_int_t
fuzz_next_header_filter(ngx_http_request_t *r)
{
    out.header_calls++;
    out.content_length = r->headers_out.content_length_n;

    return NGX_OK;
}


static ngx_int_t
fuzz_next_body_filter(ngx_http_request_t *r, ngx_chain_t *in)
{
    size_t       n;
    ngx_chain_t  *cl;

    for (cl = in; cl; cl = cl->next) {
        MCP_FUZZ_CHECK(!out.after_last, "output after last_buf");

        n = cl->buf->last - cl->buf->pos;

        if (n) {
            if (out.len + n > out.size) {
                out.size = ngx_max(2 * out.size, out.len + n);
                out.data = realloc(out.data, out.size);
                if (out.data == NULL) {
                    abort();
                }
            }

            memcpy(out.data + out.len, cl->buf->pos, n);
            out.len += n;

            /* sent, as the write filter would: the filter may reuse it */
            cl->buf->pos = cl->buf->last;
        }

        if (cl->buf->last_buf) {
            out.last_bufs++;
            out.after_last = 1;
        }
    }

    return NGX_OK;
}


static uint32_t
next_rand(uint32_t *s)
{
    *s ^= *s << 13;
    *s ^= *s >> 17;
    *s ^= *s << 5;

    return *s;
}


/*
 * The body through the filters as a response to tools/list; the output is
 * left in "out" (out.data is the caller's to free).
 */

static void
run(u_char *body, size_t len, ngx_uint_t sse, uint32_t seed)
{
    u_char                         *chunk;
    size_t                          pos, n, step;
    uint32_t                        rnd;
    ngx_int_t                       rc;
    ngx_buf_t                      *b;
    ngx_pool_t                     *pool;
    ngx_array_t                    *msgs;
    ngx_http_mcp_oauth_msg_t       *msg;
    ngx_chain_t                    *cl;
    ngx_connection_t                c;
    ngx_http_request_t              r;
    ngx_http_mcp_oauth_ctx_t        ctx;
    ngx_http_core_loc_conf_t        clcf;
    ngx_http_mcp_oauth_loc_conf_t   mlcf;
    void                           *loc_conf[2];

    pool = mcp_fuzz_pool();

    ngx_memzero(&out, sizeof(fuzz_out_t));
    ngx_memzero(&r, sizeof(ngx_http_request_t));
    ngx_memzero(&c, sizeof(ngx_connection_t));
    ngx_memzero(&ctx, sizeof(ngx_http_mcp_oauth_ctx_t));
    ngx_memzero(&clcf, sizeof(ngx_http_core_loc_conf_t));
    ngx_memzero(&mlcf, sizeof(ngx_http_mcp_oauth_loc_conf_t));

    c.log = &mcp_fuzz_log;
    r.connection = &c;
    r.main = &r;
    r.pool = pool;
    loc_conf[0] = &clcf;
    loc_conf[1] = &mlcf;
    r.loc_conf = loc_conf;

    r.headers_out.status = NGX_HTTP_OK;
    r.headers_out.content_length_n = len;

    if (sse) {
        ngx_str_set(&r.headers_out.content_type, "text/event-stream");

    } else {
        ngx_str_set(&r.headers_out.content_type,
                    "application/json; charset=utf-8");
    }

    if (ngx_list_init(&r.headers_out.headers, pool, 2,
                      sizeof(ngx_table_elt_t))
        != NGX_OK)
    {
        abort();
    }

    /* one tools/list request, id 1: an SSE answer with that id ends the
       filtering, the rest of the stream passes as it comes */

    msgs = ngx_array_create(pool, 1, sizeof(ngx_http_mcp_oauth_msg_t));
    msg = msgs ? ngx_array_push(msgs) : NULL;
    if (msg == NULL) {
        abort();
    }

    ngx_memzero(msg, sizeof(ngx_http_mcp_oauth_msg_t));
    ngx_str_set(&msg->method, "tools/list");
    ngx_str_set(&msg->id, "1");
    msg->object = 1;
    msg->has_method = 1;
    msg->method_string = 1;
    msg->has_id = 1;
    ctx.msgs = msgs;

    mlcf.filter_tools = 1;
    ctx.conf = &mlcf;
    ctx.request = &r;
    ctx.verified = 1;
    ctx.tools_list = 1;
    fuzz_ctx = &ctx;

    rc = ngx_http_top_header_filter(&r);
    MCP_FUZZ_CHECK(rc == NGX_OK, "header filter returned %ld", (long) rc);
    MCP_FUZZ_CHECK(ctx.filter != NULL, "no filter set up for tools/list");
    MCP_FUZZ_CHECK(out.header_calls == (sse ? 1 : 0),
                   "header sent %lu times before the body",
                   (unsigned long) out.header_calls);

    rnd = seed;
    pos = 0;

    do {
        n = len - pos;

        if (seed) {
            step = next_rand(&rnd) % 97 + 1;     /* ngx_min() twice */
            n = ngx_min(n, step);
        }

        /* a copy of its own, freed when the call returns */
        chunk = malloc(n ? n : 1);
        if (chunk == NULL) {
            abort();
        }

        memcpy(chunk, body + pos, n);
        pos += n;

        b = ngx_calloc_buf(pool);
        cl = ngx_alloc_chain_link(pool);
        if (b == NULL || cl == NULL) {
            abort();
        }

        b->pos = chunk;
        b->last = chunk + n;
        b->start = chunk;
        b->end = chunk + n;
        b->memory = 1;
        b->last_buf = (pos == len);
        b->flush = seed && (next_rand(&rnd) % 5 == 0);

        cl->buf = b;
        cl->next = NULL;

        rc = ngx_http_top_body_filter(&r, cl);

        MCP_FUZZ_CHECK(rc == NGX_OK, "body filter returned %ld", (long) rc);
        MCP_FUZZ_CHECK(b->pos == b->last, "a buffer was not consumed");

        free(chunk);

    } while (pos < len);

    MCP_FUZZ_CHECK(out.last_bufs == 1, "%lu last_buf in the output",
                   (unsigned long) out.last_bufs);
    MCP_FUZZ_CHECK(out.header_calls == 1, "header sent %lu times",
                   (unsigned long) out.header_calls);

    if (!sse) {
        MCP_FUZZ_CHECK(out.content_length == (off_t) out.len,
                       "Content-Length %ld for %zu bytes",
                       (long) out.content_length, out.len);
    }

    ngx_destroy_pool(pool);
}


static void
check_json_output(u_char *data, size_t len)
{
    ngx_uint_t                  i;
    ngx_pool_t                 *pool;
    ngx_array_t                *arrays, *tools;
    ngx_http_mcp_oauth_tool_t  *t;

    pool = mcp_fuzz_pool();

    arrays = ngx_array_create(pool, 1, sizeof(ngx_http_mcp_oauth_tools_t));
    tools = ngx_array_create(pool, 16, sizeof(ngx_http_mcp_oauth_tool_t));
    if (arrays == NULL || tools == NULL) {
        abort();
    }

    MCP_FUZZ_CHECK(ngx_http_mcp_oauth_json_tools(pool, data, len, arrays,
                                                 tools) == NGX_OK,
                   "the filtered answer is not JSON: \"%.*s\"", (int) len,
                   data);

    t = tools->elts;

    for (i = 0; i < tools->nelts; i++) {
        MCP_FUZZ_CHECK(!t[i].named || !refused(&t[i].name),
                       "refused tool \"%.*s\" left in the answer",
                       (int) t[i].name.len, t[i].name.data);
    }

    ngx_destroy_pool(pool);
}


int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    u_char      *body, *first, *again;
    size_t       len, first_len;
    uint32_t     seed;
    ngx_uint_t   sse;
    static int   init;

    if (!init) {
        init = 1;

        /* debug level: the "%V filtered" messages format the tool names */
        mcp_fuzz_init(NGX_LOG_DEBUG | NGX_LOG_DEBUG_HTTP);

        ngx_http_mcp_oauth_module.ctx_index = 1;
        ngx_http_core_module.ctx_index = 0;

        ngx_http_top_header_filter = fuzz_next_header_filter;
        ngx_http_top_body_filter = fuzz_next_body_filter;
        (void) ngx_http_mcp_oauth_filter_module_init(NULL);
    }

    if (size < 2) {
        return 0;
    }

    fuzz_policy = data[0] & 3;
    sse = (data[0] & 4) != 0;
    seed = data[1];
    seed = seed ? seed * 2654435761u : 0;

    len = size - 2;
    body = mcp_fuzz_input(data + 2, len);

    /* one buffer */

    run(body, len, sse, 0);
    first = out.data;
    first_len = out.len;

    if (fuzz_policy == 0) {
        MCP_FUZZ_CHECK(first_len == len
                       && (len == 0 || memcmp(first, body, len) == 0),
                       "every tool granted, yet the answer changed");
    }

    /* split: the same output */

    if (seed) {
        run(body, len, sse, seed);

        MCP_FUZZ_CHECK(out.len == first_len
                       && (first_len == 0
                           || memcmp(out.data, first, first_len) == 0),
                       "the output depends on how the body is split "
                       "(%zu bytes in one buffer, %zu split)", first_len,
                       out.len);
        free(out.data);
    }

    /* filtered again: unchanged */

    if (first_len != len || (len && memcmp(first, body, len) != 0)) {
        again = mcp_fuzz_input(first, first_len);

        if (!sse) {
            check_json_output(again, first_len);
        }

        run(again, first_len, sse, 0);

        MCP_FUZZ_CHECK(out.len == first_len
                       && (first_len == 0
                           || memcmp(out.data, first, first_len) == 0),
                       "filtering the filtered answer changes it again");
        free(out.data);
        free(again);
    }

    free(first);
    mcp_fuzz_input_done(body, data + 2, len);

    return 0;
}
