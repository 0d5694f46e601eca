
/*
 * ngx_mcp_oauth_module: a one-pass JSON scanner for JSON-RPC request bodies
 * (RFC 8259).  It validates the whole text and takes out only what the
 * access decision needs: per message the method, params.name, params.uri,
 * the raw id, and whether it is a response.  A general parser would build a
 * tree of the arguments just to throw it away; this costs about a byte per
 * nanosecond.
 *
 * Names are compared after unescaping ("admin\u005freset" is admin_reset),
 * strings must be valid UTF-8, and a member that matters for the decision
 * may not appear twice in the same object: the upstream's parser would keep
 * one of them and nginx cannot know which.
 */

#include <ngx_config.h>
#include <ngx_core.h>

#include "ngx_http_mcp_oauth_json.h"
#include "ngx_http_mcp_oauth_string.h"


#define NGX_HTTP_MCP_OAUTH_JSON_DEPTH  64

#if (NGX_HTTP_MCP_OAUTH_SSE2)
/* the short strings' path keeps no registers for the long strings' loops */
#define NGX_HTTP_MCP_OAUTH_OUT_OF_LINE  __attribute__((noinline))
#else
#define NGX_HTTP_MCP_OAUTH_OUT_OF_LINE
#endif


typedef struct {
    u_char                     *p;
    u_char                     *last;
    ngx_pool_t                 *pool;
    char                       *err;
    ngx_array_t                *arrays;  /* json_scan: result.tools too */
    ngx_array_t                *tools;
} ngx_http_mcp_oauth_scan_t;


typedef struct {
    u_char                     *start;   /* after the opening quote */
    u_char                     *end;     /* at the closing quote */
    unsigned                    escaped:1;
} ngx_http_mcp_oauth_jstr_t;


static ngx_int_t ngx_http_mcp_oauth_scan_message(ngx_http_mcp_oauth_scan_t *s,
    ngx_http_mcp_oauth_msg_t *msg);
static ngx_inline ngx_int_t ngx_http_mcp_oauth_message_member(
    ngx_http_mcp_oauth_scan_t *s, ngx_http_mcp_oauth_msg_t *msg,
    ngx_int_t kind);
static ngx_int_t ngx_http_mcp_oauth_scan_params(ngx_http_mcp_oauth_scan_t *s,
    ngx_http_mcp_oauth_msg_t *msg);
/* bytes a string holds without a closer look: not '"', '\\', < 0x20, >= 0x80 */
static u_char  ngx_http_mcp_oauth_plain[256] = {
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
    1, 1, 0, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
    1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
    1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
    1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 0, 1, 1, 1,
    1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
    1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1
    /* 0x80-0xff: 0 */
};

#if (NGX_HTTP_MCP_OAUTH_AVX2)
/* NGX_HTTP_MCP_OAUTH_SIMD_*; -1: not looked at yet */
static ngx_int_t  ngx_http_mcp_oauth_simd = -1;
#endif

/* the letters of the one-letter escapes: \" \\ \/ \b \f \n \r \t */
static u_char  ngx_http_mcp_oauth_escape1[256] = {
    ['"'] = 1, ['\\'] = 1, ['/'] = 1, ['b'] = 1, ['f'] = 1,
    ['n'] = 1, ['r'] = 1, ['t'] = 1
};


static ngx_int_t ngx_http_mcp_oauth_scan_response(
    ngx_http_mcp_oauth_scan_t *s, ngx_array_t *arrays, ngx_array_t *tools);
static ngx_int_t ngx_http_mcp_oauth_scan_result(ngx_http_mcp_oauth_scan_t *s,
    ngx_array_t *arrays, ngx_array_t *tools);
static ngx_int_t ngx_http_mcp_oauth_result_members(
    ngx_http_mcp_oauth_scan_t *s, ngx_array_t *arrays, ngx_array_t *tools);
static ngx_int_t ngx_http_mcp_oauth_result_replay(
    ngx_http_mcp_oauth_scan_t *s, ngx_array_t *arrays, ngx_array_t *tools);
static void ngx_http_mcp_oauth_result_store(ngx_http_mcp_oauth_scan_t *s,
    u_char *start, ngx_array_t *arrays, ngx_uint_t first_array,
    ngx_array_t *tools, ngx_uint_t first_tool);
static ngx_int_t ngx_http_mcp_oauth_scan_list(ngx_http_mcp_oauth_scan_t *s,
    ngx_array_t *arrays, ngx_array_t *tools);
static ngx_int_t ngx_http_mcp_oauth_scan_tools(ngx_http_mcp_oauth_scan_t *s,
    ngx_array_t *tools);
static ngx_int_t ngx_http_mcp_oauth_member_find(ngx_http_mcp_oauth_scan_t *s,
    ngx_http_mcp_oauth_jstr_t *key, ngx_http_mcp_oauth_member_t *m,
    ngx_uint_t n, ngx_uint_t *i);
static ngx_int_t ngx_http_mcp_oauth_member_value(
    ngx_http_mcp_oauth_scan_t *s, ngx_http_mcp_oauth_member_t *m);
static ngx_int_t ngx_http_mcp_oauth_member_strings(
    ngx_http_mcp_oauth_scan_t *s, ngx_http_mcp_oauth_member_t *m);
static ngx_int_t ngx_http_mcp_oauth_key_match(ngx_http_mcp_oauth_scan_t *s,
    ngx_http_mcp_oauth_jstr_t *key, ngx_str_t *name, ngx_int_t *kind);
static ngx_int_t ngx_http_mcp_oauth_scan_value(ngx_http_mcp_oauth_scan_t *s,
    ngx_uint_t depth);
static ngx_inline ngx_int_t ngx_http_mcp_oauth_scan_string(
    ngx_http_mcp_oauth_scan_t *s, ngx_http_mcp_oauth_jstr_t *str);
static u_char *ngx_http_mcp_oauth_number(u_char *p, u_char *last);
static ngx_inline u_char *ngx_http_mcp_oauth_literal(u_char *p, u_char *last,
    const char *lit, size_t len);
static ngx_int_t ngx_http_mcp_oauth_scan_utf8(ngx_http_mcp_oauth_scan_t *s);
static NGX_HTTP_MCP_OAUTH_OUT_OF_LINE ngx_int_t
    ngx_http_mcp_oauth_string_rest(ngx_http_mcp_oauth_scan_t *s,
    ngx_http_mcp_oauth_jstr_t *str);
static ngx_int_t ngx_http_mcp_oauth_string_byte(ngx_http_mcp_oauth_scan_t *s,
    ngx_http_mcp_oauth_jstr_t *str);
static ngx_inline size_t ngx_http_mcp_oauth_escape_len(u_char *p,
    u_char *last);
#if (NGX_HTTP_MCP_OAUTH_SSE2)
static ngx_int_t ngx_http_mcp_oauth_string_chunks(
    ngx_http_mcp_oauth_scan_t *s, ngx_http_mcp_oauth_jstr_t *str);
static ngx_inline uint32_t ngx_http_mcp_oauth_flagged16(u_char *p);
#endif
#if (NGX_HTTP_MCP_OAUTH_AVX2)
static ngx_int_t ngx_http_mcp_oauth_string_avx2(ngx_http_mcp_oauth_scan_t *s,
    ngx_http_mcp_oauth_jstr_t *str);
static ngx_int_t ngx_http_mcp_oauth_step_avx2(ngx_http_mcp_oauth_scan_t *s,
    ngx_http_mcp_oauth_jstr_t *str, u_char **p, uint64_t *pending);
static ngx_int_t ngx_http_mcp_oauth_escaped_check(
    ngx_http_mcp_oauth_scan_t *s, u_char *base, uint64_t escaped);
#endif
static u_char *ngx_http_mcp_oauth_plain_span(u_char *p, u_char *last);
static ngx_int_t ngx_http_mcp_oauth_decode(ngx_http_mcp_oauth_scan_t *s,
    ngx_http_mcp_oauth_jstr_t *str, ngx_str_t *out);
static ngx_int_t ngx_http_mcp_oauth_scan_decisive(
    ngx_http_mcp_oauth_scan_t *s, ngx_str_t *names, ngx_int_t n,
    ngx_uint_t *seen, ngx_int_t *kind);
static ngx_inline ngx_int_t ngx_http_mcp_oauth_scan_member(
    ngx_http_mcp_oauth_scan_t *s, ngx_http_mcp_oauth_jstr_t *key);
static ngx_int_t ngx_http_mcp_oauth_scan_next(ngx_http_mcp_oauth_scan_t *s,
    u_char close);
static ngx_int_t ngx_http_mcp_oauth_key_kind(ngx_http_mcp_oauth_scan_t *s,
    ngx_http_mcp_oauth_jstr_t *key, ngx_str_t *names, ngx_int_t n,
    ngx_int_t *kind);
static ngx_int_t ngx_http_mcp_oauth_hex4(u_char *p, uint32_t *cp);
static ngx_int_t ngx_http_mcp_oauth_scan_open(ngx_http_mcp_oauth_scan_t *s,
    u_char close);
static ngx_inline void ngx_http_mcp_oauth_skip_ws(
    ngx_http_mcp_oauth_scan_t *s);
static ngx_inline u_char *ngx_http_mcp_oauth_ws(u_char *p, u_char *last);


ngx_int_t
ngx_http_mcp_oauth_json_scan(ngx_pool_t *pool, u_char *data, size_t len,
    ngx_array_t *msgs, ngx_uint_t *batch, char **err)
{
    return ngx_http_mcp_oauth_json_scan_tools(pool, data, len, msgs, batch,
                                              err, NULL, NULL);
}


ngx_int_t
ngx_http_mcp_oauth_json_scan_tools(ngx_pool_t *pool, u_char *data,
    size_t len, ngx_array_t *msgs, ngx_uint_t *batch, char **err,
    ngx_array_t *arrays, ngx_array_t *tools)
{
    ngx_http_mcp_oauth_msg_t   *msg, extra;
    ngx_http_mcp_oauth_scan_t   s;

    s.p = data;
    s.last = data + len;
    s.pool = pool;
    s.err = "Parse error";
    s.arrays = arrays;
    s.tools = tools;

    *batch = 0;

    ngx_http_mcp_oauth_skip_ws(&s);

    if (s.p < s.last && *s.p == '[') {
        *batch = NGX_HTTP_MCP_OAUTH_BATCH;
        s.p++;
        ngx_http_mcp_oauth_skip_ws(&s);

        if (s.p < s.last && *s.p == ']') {
            s.p++;

        } else {
            for ( ;; ) {
                if (msgs->nelts == NGX_HTTP_MCP_OAUTH_BATCH_MAX) {
                    /* still validated, not kept: the batch is refused */
                    *batch = NGX_HTTP_MCP_OAUTH_BATCH_TOO_LARGE;
                    msg = &extra;

                } else {
                    msg = ngx_array_push(msgs);
                    if (msg == NULL) {
                        *err = "out of memory";
                        return NGX_ERROR;
                    }
                }

                if (ngx_http_mcp_oauth_scan_message(&s, msg) != NGX_OK) {
                    *err = s.err;
                    return NGX_ERROR;
                }

                ngx_http_mcp_oauth_skip_ws(&s);

                if (s.p < s.last && *s.p == ',') {
                    s.p++;
                    continue;
                }

                if (s.p < s.last && *s.p == ']') {
                    s.p++;
                    break;
                }

                *err = "Parse error";
                return NGX_ERROR;
            }
        }

    } else {
        msg = ngx_array_push(msgs);
        if (msg == NULL) {
            *err = "out of memory";
            return NGX_ERROR;
        }

        if (ngx_http_mcp_oauth_scan_message(&s, msg) != NGX_OK) {
            *err = s.err;
            return NGX_ERROR;
        }
    }

    ngx_http_mcp_oauth_skip_ws(&s);

    if (s.p != s.last) {
        *err = "Parse error";
        return NGX_ERROR;
    }

    return NGX_OK;
}


/* the members that decide, at message level and in params */

enum {
    NGX_HTTP_MCP_OAUTH_M_JSONRPC = 0,
    NGX_HTTP_MCP_OAUTH_M_METHOD,
    NGX_HTTP_MCP_OAUTH_M_ID,
    NGX_HTTP_MCP_OAUTH_M_PARAMS,
    NGX_HTTP_MCP_OAUTH_M_RESULT,
    NGX_HTTP_MCP_OAUTH_M_ERROR,
    NGX_HTTP_MCP_OAUTH_M_N
};

static ngx_str_t  ngx_http_mcp_oauth_message_keys[] = {
    ngx_string("jsonrpc"),
    ngx_string("method"),
    ngx_string("id"),
    ngx_string("params"),
    ngx_string("result"),
    ngx_string("error")
};

enum {
    NGX_HTTP_MCP_OAUTH_P_NAME = 0,
    NGX_HTTP_MCP_OAUTH_P_URI,
    NGX_HTTP_MCP_OAUTH_P_N
};

static ngx_str_t  ngx_http_mcp_oauth_params_keys[] = {
    ngx_string("name"),
    ngx_string("uri")
};


/* a message: any JSON value; what an object holds is noted */

static ngx_int_t
ngx_http_mcp_oauth_scan_message(ngx_http_mcp_oauth_scan_t *s,
    ngx_http_mcp_oauth_msg_t *msg)
{
    ngx_int_t   kind;
    ngx_uint_t  seen;

    ngx_memzero(msg, sizeof(ngx_http_mcp_oauth_msg_t));

    ngx_http_mcp_oauth_skip_ws(s);

    if (s->p == s->last || *s->p != '{') {
        /* valid JSON that is no object: an invalid request */
        return ngx_http_mcp_oauth_scan_value(s, 1);
    }

    msg->object = 1;
    seen = 0;
    if (ngx_http_mcp_oauth_scan_open(s, '}') == NGX_DONE) {
        return NGX_OK;
    }

    for ( ;; ) {
        if (ngx_http_mcp_oauth_scan_decisive(s, ngx_http_mcp_oauth_message_keys,
                                             NGX_HTTP_MCP_OAUTH_M_N, &seen, &kind)
            != NGX_OK
            || ngx_http_mcp_oauth_message_member(s, msg, kind) != NGX_OK
            || ngx_http_mcp_oauth_scan_next(s, '}') != NGX_OK)
        {
            return NGX_ERROR;
        }

        if (s->p[-1] == '}') {
            return NGX_OK;
        }
    }
}


/* the value of a message's member, with what it holds noted */

static ngx_inline ngx_int_t
ngx_http_mcp_oauth_message_member(ngx_http_mcp_oauth_scan_t *s,
    ngx_http_mcp_oauth_msg_t *msg, ngx_int_t kind)
{
    u_char                     *start;
    ngx_http_mcp_oauth_jstr_t   str;

    switch (kind) {

    case NGX_HTTP_MCP_OAUTH_M_JSONRPC:
    case NGX_HTTP_MCP_OAUTH_M_METHOD:

        if (*s->p != '"') {
            msg->has_method |= (kind == NGX_HTTP_MCP_OAUTH_M_METHOD);
            break;
        }

        if (ngx_http_mcp_oauth_scan_string(s, &str) != NGX_OK
            || ngx_http_mcp_oauth_decode(s, &str,
                                         kind == NGX_HTTP_MCP_OAUTH_M_METHOD
                                         ? &msg->method : &msg->jsonrpc)
               != NGX_OK)
        {
            return NGX_ERROR;
        }

        if (kind == NGX_HTTP_MCP_OAUTH_M_METHOD) {
            msg->has_method = 1;
            msg->method_string = 1;
        }

        return NGX_OK;

    case NGX_HTTP_MCP_OAUTH_M_ID:
        msg->has_id = 1;
        start = s->p;

        if (ngx_http_mcp_oauth_scan_value(s, 1) != NGX_OK) {
            return NGX_ERROR;
        }

        msg->id.data = start;
        msg->id.len = s->p - start;
        return NGX_OK;

    case NGX_HTTP_MCP_OAUTH_M_PARAMS:
        msg->has_params = 1;

        if (*s->p != '{') {
            break;
        }

        return ngx_http_mcp_oauth_scan_params(s, msg);

    case NGX_HTTP_MCP_OAUTH_M_RESULT:
        msg->has_result = 1;

        if (s->tools && *s->p == '{') {
            return ngx_http_mcp_oauth_scan_result(s, s->arrays, s->tools);
        }

        break;

    case NGX_HTTP_MCP_OAUTH_M_ERROR:
        msg->has_error = 1;
        break;
    }

    /* any other member, or a value we do not look into: skipped */

    return ngx_http_mcp_oauth_scan_value(s, 1);
}


static ngx_int_t
ngx_http_mcp_oauth_scan_params(ngx_http_mcp_oauth_scan_t *s,
    ngx_http_mcp_oauth_msg_t *msg)
{
    ngx_int_t                   kind;
    ngx_str_t                  *out;
    ngx_uint_t                  seen;
    ngx_http_mcp_oauth_jstr_t   str;

    msg->params_object = 1;
    seen = 0;
    if (ngx_http_mcp_oauth_scan_open(s, '}') == NGX_DONE) {
        return NGX_OK;
    }

    for ( ;; ) {
        if (ngx_http_mcp_oauth_scan_decisive(s, ngx_http_mcp_oauth_params_keys,
                                             NGX_HTTP_MCP_OAUTH_P_N, &seen, &kind)
            != NGX_OK)
        {
            return NGX_ERROR;
        }

        out = (kind == NGX_HTTP_MCP_OAUTH_P_NAME) ? &msg->name
              : (kind == NGX_HTTP_MCP_OAUTH_P_URI) ? &msg->uri : NULL;

        if (out && *s->p == '"') {
            if (ngx_http_mcp_oauth_scan_string(s, &str) != NGX_OK
                || ngx_http_mcp_oauth_decode(s, &str, out) != NGX_OK)
            {
                return NGX_ERROR;
            }

            /* control characters: refused by the caller, with the id */

            if (kind == NGX_HTTP_MCP_OAUTH_P_NAME) {
                msg->name_string = 1;

            } else {
                msg->uri_string = 1;
            }

        } else if (ngx_http_mcp_oauth_scan_value(s, 2) != NGX_OK) {
            return NGX_ERROR;
        }

        if (ngx_http_mcp_oauth_scan_next(s, '}') != NGX_OK) {
            return NGX_ERROR;
        }

        if (s->p[-1] == '}') {
            return NGX_OK;
        }
    }
}


/* a member of an object whose members decide: which one, never twice */

static ngx_int_t
ngx_http_mcp_oauth_scan_decisive(ngx_http_mcp_oauth_scan_t *s,
    ngx_str_t *names, ngx_int_t n, ngx_uint_t *seen, ngx_int_t *kind)
{
    ngx_http_mcp_oauth_jstr_t  key;

    if (ngx_http_mcp_oauth_scan_member(s, &key) != NGX_OK
        || ngx_http_mcp_oauth_key_kind(s, &key, names, n, kind) != NGX_OK)
    {
        return NGX_ERROR;
    }

    if (*kind < 0) {
        return NGX_OK;
    }

    if (*seen & (1 << *kind)) {
        s->err = "Parse error (duplicate member)";
        return NGX_ERROR;
    }

    *seen |= 1 << *kind;

    return NGX_OK;
}


/* a member's key and its colon; s->p is left at the value */

static ngx_inline ngx_int_t
ngx_http_mcp_oauth_scan_member(ngx_http_mcp_oauth_scan_t *s,
    ngx_http_mcp_oauth_jstr_t *key)
{
    ngx_http_mcp_oauth_skip_ws(s);

    if (ngx_http_mcp_oauth_scan_string(s, key) != NGX_OK) {
        return NGX_ERROR;
    }

    ngx_http_mcp_oauth_skip_ws(s);

    if (s->p == s->last || *s->p++ != ':') {
        return NGX_ERROR;
    }

    ngx_http_mcp_oauth_skip_ws(s);

    return (s->p < s->last) ? NGX_OK : NGX_ERROR;
}


/* after a member: "," for more, or the closing bracket (consumed) */

static ngx_int_t
ngx_http_mcp_oauth_scan_next(ngx_http_mcp_oauth_scan_t *s, u_char close)
{
    ngx_http_mcp_oauth_skip_ws(s);

    if (s->p < s->last && (*s->p == ',' || *s->p == close)) {
        s->p++;
        return NGX_OK;
    }

    return NGX_ERROR;
}


ngx_int_t
ngx_http_mcp_oauth_json_members(ngx_pool_t *pool, u_char *data, size_t len,
    ngx_http_mcp_oauth_member_t *m, ngx_uint_t n)
{
    ngx_uint_t                   i;
    ngx_http_mcp_oauth_jstr_t    key;
    ngx_http_mcp_oauth_scan_t    s;

    s.p = data;
    s.last = data + len;
    s.pool = pool;

    for (i = 0; i < n; i++) {
        m[i].type = 0;
    }

    ngx_http_mcp_oauth_skip_ws(&s);

    if (s.p == s.last || *s.p++ != '{') {
        return NGX_ERROR;
    }

    ngx_http_mcp_oauth_skip_ws(&s);

    if (s.p < s.last && *s.p == '}') {
        s.p++;
        goto done;
    }

    for ( ;; ) {
        if (ngx_http_mcp_oauth_scan_member(&s, &key) != NGX_OK
            || ngx_http_mcp_oauth_member_find(&s, &key, m, n, &i) != NGX_OK)
        {
            return NGX_ERROR;
        }

        if (i == n) {
            if (ngx_http_mcp_oauth_scan_value(&s, 1) != NGX_OK) {
                return NGX_ERROR;
            }

        } else if (m[i].type) {
            return NGX_ERROR;   /* the same claim twice */

        } else if (ngx_http_mcp_oauth_member_value(&s, &m[i]) != NGX_OK) {
            return NGX_ERROR;
        }

        if (ngx_http_mcp_oauth_scan_next(&s, '}') != NGX_OK) {
            return NGX_ERROR;
        }

        if (s.p[-1] == '}') {
            break;
        }
    }

done:

    ngx_http_mcp_oauth_skip_ws(&s);

    return (s.p == s.last) ? NGX_OK : NGX_ERROR;
}


/* which of the members asked for the key names: *i, or n for none */

static ngx_int_t
ngx_http_mcp_oauth_member_find(ngx_http_mcp_oauth_scan_t *s,
    ngx_http_mcp_oauth_jstr_t *key, ngx_http_mcp_oauth_member_t *m,
    ngx_uint_t n, ngx_uint_t *i)
{
    ngx_str_t   k;
    ngx_uint_t  j;

    if (key->escaped) {
        if (ngx_http_mcp_oauth_decode(s, key, &k) != NGX_OK) {
            return NGX_ERROR;
        }

    } else {
        k.data = key->start;
        k.len = key->end - key->start;
    }

    for (j = 0; j < n; j++) {
        if (k.len == m[j].name.len
            && ngx_memcmp(k.data, m[j].name.data, k.len) == 0)
        {
            break;
        }
    }

    *i = j;

    return NGX_OK;
}


/* the value of a member asked for: a string, an array's strings, or text */

static ngx_int_t
ngx_http_mcp_oauth_member_value(ngx_http_mcp_oauth_scan_t *s,
    ngx_http_mcp_oauth_member_t *m)
{
    u_char                     *start;
    ngx_http_mcp_oauth_jstr_t   str;

    start = s->p;

    switch (*s->p) {

    case '"':
        m->type = NGX_HTTP_MCP_OAUTH_JSON_STRING;

        if (ngx_http_mcp_oauth_scan_string(s, &str) != NGX_OK
            || ngx_http_mcp_oauth_decode(s, &str, &m->value) != NGX_OK)
        {
            return NGX_ERROR;
        }

        return NGX_OK;

    case '[':
        m->type = NGX_HTTP_MCP_OAUTH_JSON_ARRAY;

        return ngx_http_mcp_oauth_member_strings(s, m);

    default:
        if (ngx_http_mcp_oauth_scan_value(s, 1) != NGX_OK) {
            return NGX_ERROR;
        }

        m->type = (*start == '-' || (*start >= '0' && *start <= '9'))
                  ? NGX_HTTP_MCP_OAUTH_JSON_NUMBER
                  : NGX_HTTP_MCP_OAUTH_JSON_OTHER;
        m->value.data = start;
        m->value.len = s->p - start;

        return NGX_OK;
    }
}


/* an array member: its strings; its other values are validated, skipped */

static ngx_int_t
ngx_http_mcp_oauth_member_strings(ngx_http_mcp_oauth_scan_t *s,
    ngx_http_mcp_oauth_member_t *m)
{
    ngx_str_t                  *e;
    ngx_http_mcp_oauth_jstr_t   str;

    m->strings = ngx_array_create(s->pool, 2, sizeof(ngx_str_t));
    if (m->strings == NULL) {
        return NGX_ERROR;
    }

    if (ngx_http_mcp_oauth_scan_open(s, ']') == NGX_DONE) {
        return NGX_OK;
    }

    for ( ;; ) {
        ngx_http_mcp_oauth_skip_ws(s);

        if (s->p < s->last && *s->p == '"') {
            e = ngx_array_push(m->strings);
            if (e == NULL
                || ngx_http_mcp_oauth_scan_string(s, &str) != NGX_OK
                || ngx_http_mcp_oauth_decode(s, &str, e) != NGX_OK)
            {
                return NGX_ERROR;
            }

        } else if (ngx_http_mcp_oauth_scan_value(s, 2) != NGX_OK) {
            return NGX_ERROR;
        }

        if (ngx_http_mcp_oauth_scan_next(s, ']') != NGX_OK) {
            return NGX_ERROR;
        }

        if (s->p[-1] == ']') {
            return NGX_OK;
        }
    }
}


/*
 * Responses: only result.tools matters.  Each element of such an array is
 * noted with its span and its "name", so that a filter can drop elements
 * and leave every other byte as the server wrote it.
 */

ngx_int_t
ngx_http_mcp_oauth_json_tools(ngx_pool_t *pool, u_char *data, size_t len,
    ngx_array_t *arrays, ngx_array_t *tools)
{
    ngx_http_mcp_oauth_scan_t  s;

    s.p = data;
    s.last = data + len;
    s.pool = pool;
    s.err = "Parse error";

    ngx_http_mcp_oauth_skip_ws(&s);

    if (s.p < s.last && *s.p == '[') {
        s.p++;
        ngx_http_mcp_oauth_skip_ws(&s);

        if (s.p < s.last && *s.p == ']') {
            s.p++;

        } else {
            for ( ;; ) {
                if (ngx_http_mcp_oauth_scan_response(&s, arrays, tools)
                    != NGX_OK
                    || ngx_http_mcp_oauth_scan_next(&s, ']') != NGX_OK)
                {
                    return NGX_DECLINED;
                }

                if (s.p[-1] == ']') {
                    break;
                }
            }
        }

    } else if (ngx_http_mcp_oauth_scan_response(&s, arrays, tools) != NGX_OK) {
        return NGX_DECLINED;
    }

    ngx_http_mcp_oauth_skip_ws(&s);

    return (s.p == s.last) ? NGX_OK : NGX_DECLINED;
}


static ngx_int_t
ngx_http_mcp_oauth_scan_response(ngx_http_mcp_oauth_scan_t *s,
    ngx_array_t *arrays, ngx_array_t *tools)
{
    ngx_int_t                   kind;
    ngx_http_mcp_oauth_jstr_t   key;

    static ngx_str_t  result[] = { ngx_string("result") };

    ngx_http_mcp_oauth_skip_ws(s);

    if (s->p == s->last || *s->p != '{') {
        return ngx_http_mcp_oauth_scan_value(s, 1);
    }

    if (ngx_http_mcp_oauth_scan_open(s, '}') == NGX_DONE) {
        return NGX_OK;
    }

    for ( ;; ) {
        if (ngx_http_mcp_oauth_scan_member(s, &key) != NGX_OK
            || ngx_http_mcp_oauth_key_match(s, &key, result, &kind) != NGX_OK)
        {
            return NGX_ERROR;
        }

        if (kind == 0 && *s->p == '{') {
            if (ngx_http_mcp_oauth_scan_result(s, arrays, tools) != NGX_OK) {
                return NGX_ERROR;
            }

        } else if (ngx_http_mcp_oauth_scan_value(s, 1) != NGX_OK) {
            return NGX_ERROR;
        }

        if (ngx_http_mcp_oauth_scan_next(s, '}') != NGX_OK) {
            return NGX_ERROR;
        }

        if (s->p[-1] == '}') {
            return NGX_OK;
        }
    }
}


/*
 * Results scanned before.  A tools/list answer is the same text for every
 * caller until the server's tools change, and an object's scan reads
 * nothing past its closing brace, at depths of its own: the same bytes from
 * the "{" on give the same verdict, arrays and tools.  An earlier result's
 * text is compared with memcmp() instead of scanned again.  Per worker, a
 * few entries (only results scanned without error), replaced in turn but
 * for one found since it was last passed (a clock); each holds a copy of
 * the text, its arrays and tools pointing into that copy, and the names
 * that had escapes.  An upstream whose results differ every time would pay
 * the comparisons and the copy on every answer: after 8 such results in a
 * row, only every 8th is looked up and kept, until one is found again.
 */

#define NGX_HTTP_MCP_OAUTH_RESULTS     4
#define NGX_HTTP_MCP_OAUTH_RESULT_MIN  256
#define NGX_HTTP_MCP_OAUTH_RESULT_MAX  (256 * 1024)   /* an entry's memory */
#define NGX_HTTP_MCP_OAUTH_RESULT_MISSES  8

/* a result's text and what was found in it */

typedef struct {
    u_char                      *text;
    size_t                       len;
    ngx_http_mcp_oauth_tools_t  *arrays;
    ngx_uint_t                   narrays;
    ngx_http_mcp_oauth_tool_t   *tools;
    ngx_uint_t                   ntools;
    ngx_uint_t                   first;     /* the index of its first tool */
} ngx_http_mcp_oauth_spans_t;

typedef struct {
    ngx_http_mcp_oauth_spans_t   kept;      /* len 0: empty; first 0 */
    void                        *mem;
    size_t                       size;
    ngx_uint_t                   found;     /* since the clock passed it */
} ngx_http_mcp_oauth_result_t;

static ngx_http_mcp_oauth_result_t
    ngx_http_mcp_oauth_results[NGX_HTTP_MCP_OAUTH_RESULTS];
static ngx_uint_t  ngx_http_mcp_oauth_result_next;
static ngx_uint_t  ngx_http_mcp_oauth_result_misses;  /* kept, not found */
static ngx_uint_t  ngx_http_mcp_oauth_result_on = 1;

static void ngx_http_mcp_oauth_result_move(ngx_http_mcp_oauth_spans_t *dst,
    ngx_http_mcp_oauth_spans_t *src);


/*
 * A result object: its "tools" arrays, each with the end of the object's
 * last member and its "cacheScope" value, for a filter to set.
 */

static ngx_int_t
ngx_http_mcp_oauth_scan_result(ngx_http_mcp_oauth_scan_t *s,
    ngx_array_t *arrays, ngx_array_t *tools)
{
    u_char      *start;
    ngx_int_t    rc;
    ngx_uint_t   first_array, first_tool, look;

    look = ngx_http_mcp_oauth_result_on
           && (ngx_http_mcp_oauth_result_misses
               < NGX_HTTP_MCP_OAUTH_RESULT_MISSES
               || ngx_http_mcp_oauth_result_misses
                  % NGX_HTTP_MCP_OAUTH_RESULT_MISSES == 0);

    if (look) {
        rc = ngx_http_mcp_oauth_result_replay(s, arrays, tools);

        if (rc != NGX_DECLINED) {
            return rc;
        }
    }

    start = s->p;
    first_array = arrays->nelts;
    first_tool = tools->nelts;

    if (ngx_http_mcp_oauth_result_members(s, arrays, tools) != NGX_OK) {
        return NGX_ERROR;
    }

    if (look) {
        ngx_http_mcp_oauth_result_store(s, start, arrays, first_array, tools,
                                        first_tool);

    } else if (s->p - start >= NGX_HTTP_MCP_OAUTH_RESULT_MIN) {
        ngx_http_mcp_oauth_result_misses++;
    }

    return NGX_OK;
}


static ngx_int_t
ngx_http_mcp_oauth_result_members(ngx_http_mcp_oauth_scan_t *s,
    ngx_array_t *arrays, ngx_array_t *tools)
{
    u_char                      *scope_start, *scope_end, *tail;
    ngx_int_t                    kind;
    ngx_uint_t                   i, first;
    ngx_http_mcp_oauth_jstr_t    key;
    ngx_http_mcp_oauth_tools_t  *a;

    static ngx_str_t  list[] = { ngx_string("tools") };
    static ngx_str_t  scope[] = { ngx_string("cacheScope") };

    if (ngx_http_mcp_oauth_scan_open(s, '}') == NGX_DONE) {
        return NGX_OK;
    }

    first = arrays->nelts;
    scope_start = NULL;
    scope_end = NULL;
    tail = NULL;

    for ( ;; ) {
        if (ngx_http_mcp_oauth_scan_member(s, &key) != NGX_OK
            || ngx_http_mcp_oauth_key_match(s, &key, list, &kind) != NGX_OK)
        {
            return NGX_ERROR;
        }

        if (kind != 0) {
            if (ngx_http_mcp_oauth_key_match(s, &key, scope, &kind)
                != NGX_OK)
            {
                return NGX_ERROR;
            }

            if (kind == 0) {
                scope_start = s->p;

                if (ngx_http_mcp_oauth_scan_value(s, 2) != NGX_OK) {
                    return NGX_ERROR;
                }

                scope_end = s->p;
                goto member_done;
            }

            kind = -1;
        }

        if (kind == 0 && *s->p == '[') {
            if (ngx_http_mcp_oauth_scan_list(s, arrays, tools) != NGX_OK) {
                return NGX_ERROR;
            }

        } else if (ngx_http_mcp_oauth_scan_value(s, 2) != NGX_OK) {
            return NGX_ERROR;
        }

    member_done:

        tail = s->p;

        if (ngx_http_mcp_oauth_scan_next(s, '}') != NGX_OK) {
            return NGX_ERROR;
        }

        if (s->p[-1] == '}') {
            break;
        }
    }

    a = arrays->elts;

    for (i = first; i < arrays->nelts; i++) {
        a[i].tail = tail;
        a[i].scope_start = scope_start;
        a[i].scope_end = scope_end;
    }

    return NGX_OK;
}


/* an earlier result with the same text: its arrays and tools, moved here */

static ngx_int_t
ngx_http_mcp_oauth_result_replay(ngx_http_mcp_oauth_scan_t *s,
    ngx_array_t *arrays, ngx_array_t *tools)
{
    u_char                       *d;
    size_t                        left;
    ngx_uint_t                    i, k;
    ngx_http_mcp_oauth_tool_t    *t;
    ngx_http_mcp_oauth_spans_t   *kept, here;

    left = s->last - s->p;

    for (k = 0; k < NGX_HTTP_MCP_OAUTH_RESULTS; k++) {
        kept = &ngx_http_mcp_oauth_results[k].kept;

        if (kept->len != 0 && kept->len <= left
            && s->p[kept->len - 1] == '}'
            && ngx_memcmp(s->p, kept->text, kept->len) == 0)
        {
            goto found;
        }
    }

    return NGX_DECLINED;

found:

    ngx_http_mcp_oauth_results[k].found = 1;
    ngx_http_mcp_oauth_result_misses = 0;

    here = *kept;
    here.text = s->p;
    here.first = tools->nelts;

    here.arrays = ngx_array_push_n(arrays, kept->narrays);
    here.tools = ngx_array_push_n(tools, kept->ntools);

    if (here.arrays == NULL || here.tools == NULL) {
        return NGX_ERROR;
    }

    ngx_http_mcp_oauth_result_move(&here, kept);

    /* decoded: the entry may be replaced before the name is used */

    for (i = 0; i < here.ntools; i++) {
        t = &here.tools[i];

        if (t->named
            && (t->name.data < here.text
                || t->name.data >= here.text + here.len))
        {
            d = ngx_pnalloc(s->pool, t->name.len);
            if (d == NULL) {
                return NGX_ERROR;
            }

            ngx_memcpy(d, t->name.data, t->name.len);
            t->name.data = d;
        }
    }

    s->p += here.len;

    return NGX_OK;
}


/* a result just scanned, from start to s->p, kept for the next one */

static void
ngx_http_mcp_oauth_result_store(ngx_http_mcp_oauth_scan_t *s, u_char *start,
    ngx_array_t *arrays, ngx_uint_t first_array, ngx_array_t *tools,
    ngx_uint_t first_tool)
{
    u_char                       *names;
    size_t                        size;
    ngx_uint_t                    i;
    ngx_http_mcp_oauth_tool_t    *t;
    ngx_http_mcp_oauth_spans_t    found, *kept;
    ngx_http_mcp_oauth_result_t  *e;

    found.text = start;
    found.len = s->p - start;

    if (found.len < NGX_HTTP_MCP_OAUTH_RESULT_MIN) {
        return;
    }

    ngx_http_mcp_oauth_result_misses++;

    found.arrays = (ngx_http_mcp_oauth_tools_t *) arrays->elts + first_array;
    found.narrays = arrays->nelts - first_array;
    found.tools = (ngx_http_mcp_oauth_tool_t *) tools->elts + first_tool;
    found.ntools = tools->nelts - first_tool;
    found.first = first_tool;

    size = found.narrays * sizeof(ngx_http_mcp_oauth_tools_t)
           + found.ntools * sizeof(ngx_http_mcp_oauth_tool_t) + found.len;

    for (i = 0; i < found.ntools; i++) {
        t = &found.tools[i];

        if (t->named && (t->name.data < start || t->name.data >= s->p)) {
            size += t->name.len;
        }
    }

    if (size > NGX_HTTP_MCP_OAUTH_RESULT_MAX) {
        return;
    }

    for ( ;; ) {
        e = &ngx_http_mcp_oauth_results[ngx_http_mcp_oauth_result_next];
        ngx_http_mcp_oauth_result_next = (ngx_http_mcp_oauth_result_next + 1)
                                         % NGX_HTTP_MCP_OAUTH_RESULTS;
        if (!e->found) {
            break;
        }

        e->found = 0;
    }

    kept = &e->kept;
    kept->len = 0;

    if (e->size < size) {
        ngx_free(e->mem);

        e->mem = ngx_alloc(size, s->pool->log);
        e->size = e->mem ? size : 0;

        if (e->mem == NULL) {
            return;
        }
    }

    /* the arrays, the tools, the text, the decoded names */

    kept->arrays = e->mem;
    kept->narrays = found.narrays;
    kept->tools = (ngx_http_mcp_oauth_tool_t *) (kept->arrays + found.narrays);
    kept->ntools = found.ntools;
    kept->text = (u_char *) (kept->tools + found.ntools);
    kept->first = 0;

    names = ngx_cpymem(kept->text, start, found.len);

    ngx_http_mcp_oauth_result_move(kept, &found);

    for (i = 0; i < kept->ntools; i++) {
        t = &kept->tools[i];

        if (t->named
            && (t->name.data < kept->text
                || t->name.data >= kept->text + found.len))
        {
            ngx_memcpy(names, t->name.data, t->name.len);
            t->name.data = names;
            names += t->name.len;
        }
    }

    kept->len = found.len;
}


/*
 * The arrays and tools of src into dst, whose text is a copy of src's:
 * the spans move with the text, and the tool indexes from src's first tool
 * to dst's; a name outside the text (decoded) is left for the caller.
 */

static void
ngx_http_mcp_oauth_result_move(ngx_http_mcp_oauth_spans_t *dst,
    ngx_http_mcp_oauth_spans_t *src)
{
    ngx_uint_t                   i;
    ngx_http_mcp_oauth_tool_t   *t;
    ngx_http_mcp_oauth_tools_t  *a;

    for (i = 0; i < src->ntools; i++) {
        t = &dst->tools[i];
        *t = src->tools[i];
        t->start = dst->text + (t->start - src->text);
        t->end = dst->text + (t->end - src->text);

        if (t->named && t->name.data >= src->text
            && t->name.data < src->text + src->len)
        {
            t->name.data = dst->text + (t->name.data - src->text);
        }
    }

    for (i = 0; i < src->narrays; i++) {
        a = &dst->arrays[i];
        *a = src->arrays[i];
        a->start = dst->text + (a->start - src->text);
        a->end = dst->text + (a->end - src->text);
        a->tail = dst->text + (a->tail - src->text);
        a->first = a->first - src->first + dst->first;

        if (a->scope_start) {
            a->scope_start = dst->text + (a->scope_start - src->text);
            a->scope_end = dst->text + (a->scope_end - src->text);
        }
    }
}


void
ngx_http_mcp_oauth_json_results(ngx_uint_t on)
{
    ngx_http_mcp_oauth_result_on = on;
}


/* a "tools" array of a result, noted with its span and its tools */

static ngx_int_t
ngx_http_mcp_oauth_scan_list(ngx_http_mcp_oauth_scan_t *s,
    ngx_array_t *arrays, ngx_array_t *tools)
{
    ngx_http_mcp_oauth_tools_t  *a;

    a = ngx_array_push(arrays);
    if (a == NULL) {
        return NGX_ERROR;
    }

    a->start = s->p;
    a->first = tools->nelts;

    if (ngx_http_mcp_oauth_scan_tools(s, tools) != NGX_OK) {
        return NGX_ERROR;
    }

    a->end = s->p;
    a->n = tools->nelts - a->first;

    return NGX_OK;
}


static ngx_int_t
ngx_http_mcp_oauth_scan_tools(ngx_http_mcp_oauth_scan_t *s,
    ngx_array_t *tools)
{
    ngx_int_t                    kind;
    ngx_http_mcp_oauth_jstr_t    key, str;
    ngx_http_mcp_oauth_tool_t   *t;

    static ngx_str_t  name[] = { ngx_string("name") };

    if (ngx_http_mcp_oauth_scan_open(s, ']') == NGX_DONE) {
        return NGX_OK;
    }

    for ( ;; ) {
        ngx_http_mcp_oauth_skip_ws(s);

        t = ngx_array_push(tools);
        if (t == NULL) {
            return NGX_ERROR;
        }

        ngx_memzero(t, sizeof(ngx_http_mcp_oauth_tool_t));
        t->start = s->p;

        if (s->p < s->last && *s->p == '{') {
            if (ngx_http_mcp_oauth_scan_open(s, '}') == NGX_DONE) {
                goto done;
            }

            for ( ;; ) {
                if (ngx_http_mcp_oauth_scan_member(s, &key) != NGX_OK
                    || ngx_http_mcp_oauth_key_match(s, &key, name, &kind)
                       != NGX_OK)
                {
                    return NGX_ERROR;
                }

                if (kind == 0 && *s->p == '"' && !t->named) {
                    if (ngx_http_mcp_oauth_scan_string(s, &str) != NGX_OK
                        || ngx_http_mcp_oauth_decode(s, &str, &t->name)
                           != NGX_OK)
                    {
                        return NGX_ERROR;
                    }

                    t->named = 1;

                } else if (ngx_http_mcp_oauth_scan_value(s, 4) != NGX_OK) {
                    return NGX_ERROR;
                }

                if (ngx_http_mcp_oauth_scan_next(s, '}') != NGX_OK) {
                    return NGX_ERROR;
                }

                if (s->p[-1] == '}') {
                    break;
                }
            }

        } else if (ngx_http_mcp_oauth_scan_value(s, 3) != NGX_OK) {
            return NGX_ERROR;
        }

    done:

        t->end = s->p;

        if (ngx_http_mcp_oauth_scan_next(s, ']') != NGX_OK) {
            return NGX_ERROR;
        }

        if (s->p[-1] == ']') {
            return NGX_OK;
        }
    }
}


/* an exact member name only: responses are read, not trusted with access */

static ngx_int_t
ngx_http_mcp_oauth_key_match(ngx_http_mcp_oauth_scan_t *s,
    ngx_http_mcp_oauth_jstr_t *key, ngx_str_t *name, ngx_int_t *kind)
{
    ngx_str_t  k;

    if (key->escaped) {
        if (ngx_http_mcp_oauth_decode(s, key, &k) != NGX_OK) {
            return NGX_ERROR;
        }

    } else {
        k.data = key->start;
        k.len = key->end - key->start;
    }

    *kind = (k.len == name->len && ngx_memcmp(k.data, name->data, k.len) == 0)
            ? 0 : -1;

    return NGX_OK;
}


/*
 * Any value, validated and skipped.  One loop with the pointer in a
 * register and the open containers as bits (set: an object), not a call per
 * value: a value is entered at depth + level and refused past the depth
 * limit at the same point of the text, with the same message, as a call per
 * level refused it, and every other error is the same error at the same
 * byte.  depth is 1 or more, so 64 bits hold every level the limit allows.
 */

static ngx_int_t
ngx_http_mcp_oauth_scan_value(ngx_http_mcp_oauth_scan_t *s, ngx_uint_t depth)
{
    u_char                     *p, *last;
    uint64_t                    objects;
    ngx_uint_t                  level;
    ngx_http_mcp_oauth_jstr_t   str;

    p = s->p;
    last = s->last;
    objects = 0;
    level = 0;

value:

    if (depth + level > NGX_HTTP_MCP_OAUTH_JSON_DEPTH) {
        s->err = "Parse error (nested too deep)";
        return NGX_ERROR;
    }

    p = ngx_http_mcp_oauth_ws(p, last);

    if (p == last) {
        return NGX_ERROR;
    }

    switch (*p) {

    case '"':
        s->p = p;

        if (ngx_http_mcp_oauth_scan_string(s, &str) != NGX_OK) {
            return NGX_ERROR;
        }

        p = s->p;
        break;

    case '{':
    case '[':
        if (*p == '{') {
            objects |= (uint64_t) 1 << level;

        } else {
            objects &= ~((uint64_t) 1 << level);
        }

        p = ngx_http_mcp_oauth_ws(p + 1, last);

        if (p < last && *p == (objects >> level & 1 ? '}' : ']')) {
            p++;
            break;
        }

        if (objects >> level++ & 1) {
            goto member;
        }

        goto value;

    case 't':
        p = ngx_http_mcp_oauth_literal(p, last, "true", 4);
        break;

    case 'f':
        p = ngx_http_mcp_oauth_literal(p, last, "false", 5);
        break;

    case 'n':
        p = ngx_http_mcp_oauth_literal(p, last, "null", 4);
        break;

    default:
        p = ngx_http_mcp_oauth_number(p, last);
    }

    if (p == NULL) {
        return NGX_ERROR;
    }

    /* after a value: the next one in its container, or the container's end */

    while (level) {
        p = ngx_http_mcp_oauth_ws(p, last);

        if (p == last) {
            return NGX_ERROR;
        }

        if (*p == ',') {
            p++;

            if (objects >> (level - 1) & 1) {
                goto member;
            }

            goto value;
        }

        if (*p++ != (objects >> (level - 1) & 1 ? '}' : ']')) {
            return NGX_ERROR;
        }

        level--;
    }

    s->p = p;

    return NGX_OK;

member:

    s->p = p;

    if (ngx_http_mcp_oauth_scan_member(s, &str) != NGX_OK) {
        return NGX_ERROR;
    }

    p = s->p;

    goto value;
}


static ngx_inline ngx_int_t
ngx_http_mcp_oauth_scan_string(ngx_http_mcp_oauth_scan_t *s,
    ngx_http_mcp_oauth_jstr_t *str)
{
#if (NGX_HTTP_MCP_OAUTH_SSE2)
    u_char      *p, *q;
    uint32_t     m;
    ngx_uint_t   i;
#endif

    if (s->p == s->last || *s->p != '"') {
        return NGX_ERROR;
    }

    s->p++;
    str->start = s->p;
    str->escaped = 0;

#if (NGX_HTTP_MCP_OAUTH_SSE2)

    /*
     * Most strings are names, keys and short descriptions: the closing
     * quote within four steps of 16 bytes.  Only steps with no byte to look
     * at are passed, so the rest starts where no escape is pending.
     */

    p = s->p;

    for (i = 0; i < 4 && s->last - p > 16; i++) {
        m = ngx_http_mcp_oauth_flagged16(p);

        if (m == 0) {
            p += 16;
            continue;
        }

        q = p + __builtin_ctz(m);

        if (*q == '"') {
            str->end = q;
            s->p = q + 1;
            return NGX_OK;
        }

        break;
    }

    s->p = p;

#endif

    return ngx_http_mcp_oauth_string_rest(s, str);
}


static ngx_int_t
ngx_http_mcp_oauth_string_rest(ngx_http_mcp_oauth_scan_t *s,
    ngx_http_mcp_oauth_jstr_t *str)
{
    ngx_int_t  rc;

#if (NGX_HTTP_MCP_OAUTH_AVX2)
    if (ngx_http_mcp_oauth_simd < 0) {
        ngx_http_mcp_oauth_json_simd(NGX_HTTP_MCP_OAUTH_SIMD_AVX2);
    }

    if (ngx_http_mcp_oauth_simd == NGX_HTTP_MCP_OAUTH_SIMD_AVX2) {
        rc = ngx_http_mcp_oauth_string_avx2(s, str);

        if (rc != NGX_AGAIN) {
            return rc;
        }
    }
#endif

#if (NGX_HTTP_MCP_OAUTH_SSE2)
    rc = ngx_http_mcp_oauth_string_chunks(s, str);

    if (rc != NGX_AGAIN) {
        return rc;
    }
#endif

    while (s->p < s->last) {

        s->p = ngx_http_mcp_oauth_plain_span(s->p, s->last);

        if (s->p == s->last) {
            break;
        }

        rc = ngx_http_mcp_oauth_string_byte(s, str);

        if (rc != NGX_AGAIN) {
            return rc;
        }
    }

    return NGX_ERROR;
}


/*
 * The byte at s->p is not plain: the closing quote (NGX_OK), an escape or a
 * UTF-8 sequence checked and passed (NGX_AGAIN), or an error.
 */

static ngx_int_t
ngx_http_mcp_oauth_string_byte(ngx_http_mcp_oauth_scan_t *s,
    ngx_http_mcp_oauth_jstr_t *str)
{
    u_char  c;
    size_t  n;

    c = *s->p;

    if (c == '"') {
        str->end = s->p++;
        return NGX_OK;
    }

    if (c < 0x20) {
        return NGX_ERROR;
    }

    if (c >= 0x80) {
        return ngx_http_mcp_oauth_scan_utf8(s) == NGX_OK ? NGX_AGAIN
                                                         : NGX_ERROR;
    }

    /* a backslash: plain_span() and the SSE2 steps stop at no other */

    str->escaped = 1;

    if (s->p + 1 == s->last) {
        return NGX_ERROR;
    }

    n = ngx_http_mcp_oauth_escape_len(s->p + 1, s->last);

    if (n == 0) {
        return NGX_ERROR;
    }

    s->p += 1 + n;

    return NGX_AGAIN;
}


/*
 * The escape whose letter is at p: how many bytes its letter and digits
 * take (1, or 5 for \uXXXX), 0 when it is none.
 */

static ngx_inline size_t
ngx_http_mcp_oauth_escape_len(u_char *p, u_char *last)
{
    uint32_t  cp;

    /* a table, not strchr(): file contents escape every line */

    if (ngx_http_mcp_oauth_escape1[*p]) {
        return 1;
    }

    return (*p == 'u' && last - p >= 5
            && ngx_http_mcp_oauth_hex4(p + 1, &cp) == NGX_OK)
           ? 5 : 0;
}


#if (NGX_HTTP_MCP_OAUTH_SSE2)

/*
 * 32 bytes a step while 33 are left (then NGX_AGAIN: the word-at-a-time
 * loop takes the rest).  A step finds every byte that is '"', '\\', below
 * 0x20 or 0x80 and above, and looks at each in order: the closing quote and
 * the one-letter escapes (one on every line of a file's contents) here,
 * anything else with the same ngx_http_mcp_oauth_string_byte() the byte
 * loop uses.  What an escape or a UTF-8 sequence covers leaves the step's
 * mask with it, so every byte is judged exactly as the byte loop judges it.
 * The byte after a backslash is in the buffer: one more than the step is.
 */

static ngx_int_t
ngx_http_mcp_oauth_string_chunks(ngx_http_mcp_oauth_scan_t *s,
    ngx_http_mcp_oauth_jstr_t *str)
{
    u_char    *p, *base;
    size_t     n;
    uint32_t   m;
    ngx_int_t  rc;

    while (s->last - s->p > 32) {
        base = s->p;
        m = ngx_http_mcp_oauth_flagged16(base)
            | ngx_http_mcp_oauth_flagged16(base + 16) << 16;
        n = 0;

        while (m) {
            p = base + __builtin_ctz(m);

            if (*p == '"') {
                str->end = p;
                s->p = p + 1;
                return NGX_OK;
            }

            if (*p == '\\' && ngx_http_mcp_oauth_escape1[p[1]]) {
                str->escaped = 1;
                n = p + 2 - base;

            } else {
                s->p = p;
                rc = ngx_http_mcp_oauth_string_byte(s, str);

                if (rc != NGX_AGAIN) {
                    return rc;
                }

                n = s->p - base;
            }

            if (n >= 32) {
                break;
            }

            m &= ~0U << n;
        }

        s->p = m ? base + n : base + 32;
    }

    return NGX_AGAIN;
}


/*
 * The bytes that need a look, as a mask: with "^ 0x02" the quote becomes
 * 0x20, bytes below 0x20 stay below it, and as signed bytes those from 0x80
 * are below it too, so one comparison finds the bytes of three kinds that
 * need none; the backslash is the fourth kind.
 */

static ngx_inline uint32_t
ngx_http_mcp_oauth_flagged16(u_char *p)
{
    __m128i  v, plain;

    v = _mm_loadu_si128((__m128i *) p);

    plain = _mm_andnot_si128(_mm_cmpeq_epi8(v, _mm_set1_epi8('\\')),
                             _mm_cmpgt_epi8(_mm_xor_si128(v,
                                                          _mm_set1_epi8(0x02)),
                                            _mm_set1_epi8(0x20)));

    return (uint32_t) _mm_movemask_epi8(plain) ^ 0xffff;
}

#endif


#if (NGX_HTTP_MCP_OAUTH_AVX2)

/*
 * 64 bytes a step while 65 are left.  Two masks: the backslashes, and the
 * bytes that end the plain run ('"', below 0x20, 0x80 and above).  Which
 * bytes the backslashes escape is arithmetic on the first
 * (ngx_http_mcp_oauth_escaped_bits()), so the escaped bytes leave the
 * second mask and the first byte still in it ends the step: the closing
 * quote, an error, or UTF-8 for ngx_http_mcp_oauth_string_byte(), after
 * which the steps go on with no escape pending.  The escaped bytes before
 * it must be escape letters.  An escape pending at a step's end is a bit
 * carried into the next step, so that a step starts 64 bytes after the one
 * before without waiting for its arithmetic; the byte loop that takes the
 * last bytes starts at the pending escape's backslash.  Every byte is
 * judged as the byte loop judges it.
 *
 * Most steps of a long text are "lone escapes": each byte after a
 * backslash is an escape letter other than the backslash, and every other
 * byte is plain.  Such a step is told in the vector registers alone, each
 * byte by the byte before it (loaded one byte back): no backslash then
 * follows another, so each backslash escapes the byte after it, the
 * escaped '"' do not end the string, and the step ends no run: the string
 * goes on 64 bytes later.  The byte before the step stands for the escape
 * pending there as long as it is not an escaped backslash: after lone
 * steps it cannot be (its own byte before would have been a backslash),
 * and after any other step the escape pending must be what the byte says,
 * or the next step is taken the long way too.  The first byte before the
 * steps is the opening quote or one of the plain bytes before them.
 */

#define NGX_HTTP_MCP_OAUTH_EVEN_BITS  0x5555555555555555ULL


/*
 * The bytes a step's backslashes escape, escaped backslashes included
 * (simdjson's find_escaped): a run of backslashes escapes the byte after it
 * when its length is odd; adding the runs that start on odd bits to the
 * backslashes carries each run's start to its end, and the carry out of
 * the last bit is the escape pending for the next step (*pending, 0 or 1,
 * which also escapes this step's first byte).
 */

static ngx_inline uint64_t
ngx_http_mcp_oauth_escaped_bits(uint64_t bs, uint64_t *pending)
{
    uint64_t  follows, odd_starts, ends;

    follows = (bs << 1) | *pending;

    /* the usual case: no backslash right after another, so each escapes
     * the byte after it */

    if ((follows & bs) == 0) {
        *pending = bs >> 63;
        return follows;
    }

    bs &= ~*pending;
    follows = (bs << 1) | *pending;
    odd_starts = bs & ~NGX_HTTP_MCP_OAUTH_EVEN_BITS & ~follows;
    *pending = __builtin_add_overflow(odd_starts, bs, &ends);

    return (NGX_HTTP_MCP_OAUTH_EVEN_BITS ^ (ends << 1)) & follows;
}


/*
 * A step's masks, whatever the width: the backslashes, the bytes that end
 * the plain run and the escape letters.  NGX_AGAIN: the next step is at *p
 * (64 bytes on, or after a UTF-8 sequence with no escape pending).
 */

static ngx_inline ngx_int_t
ngx_http_mcp_oauth_string_step(ngx_http_mcp_oauth_scan_t *s,
    ngx_http_mcp_oauth_jstr_t *str, u_char **p, uint64_t bs, uint64_t stop,
    uint64_t letters, uint64_t *pending)
{
    u_char     *q;
    uint64_t    escaped, before, other;
    ngx_int_t   rc;

    escaped = ngx_http_mcp_oauth_escaped_bits(bs, pending);

    stop &= ~escaped;
    before = (stop - 1) & ~stop;

    if (escaped & before) {
        str->escaped = 1;

        other = escaped & before & ~letters;

        if (other
            && ngx_http_mcp_oauth_escaped_check(s, *p, other) != NGX_OK)
        {
            return NGX_ERROR;
        }
    }

    if (stop == 0) {
        *p += 64;
        return NGX_AGAIN;
    }

    q = *p + __builtin_ctzll(stop);

    if (*q == '"') {
        str->end = q;
        s->p = q + 1;
        return NGX_OK;
    }

    s->p = q;
    rc = ngx_http_mcp_oauth_string_byte(s, str);

    *p = s->p;
    *pending = 0;

    return rc;
}


/*
 * The escape letters by their low four bits, the index of vpshufb: a byte
 * is a letter when it is the letter of its slot in by_low or by_low2
 * (ngx_http_mcp_oauth_by_low('"') leaves the backslash out).  '"'
 * 'b' 'r' share slot 2: '"' is in by_low, 'r' in by_low2, and 'b' (\b,
 * next to never in text) is left to ngx_http_mcp_oauth_escaped_check().
 * The slots no letter has hold '"' (whose own slot is another); a byte from
 * 0x80 is looked up as 0 (vpshufb's top bit), no letter.
 */

static __attribute__((target("avx2"))) ngx_inline __m256i
ngx_http_mcp_oauth_by_low(char backslash)
{
    return _mm256_setr_epi8('"', '"', '"', '"', 't', '"', 'f', '"',
                            '"', '"', '"', '"', backslash, '"', 'n', '/',
                            '"', '"', '"', '"', 't', '"', 'f', '"',
                            '"', '"', '"', '"', backslash, '"', 'n', '/');
}


static __attribute__((target("avx2"))) ngx_inline __m256i
ngx_http_mcp_oauth_by_low2(void)
{
    return _mm256_setr_epi8('"', '"', 'r', '"', '"', '"', '"', '"',
                            '"', '"', '"', '"', '"', '"', '"', '"',
                            '"', '"', 'r', '"', '"', '"', '"', '"',
                            '"', '"', '"', '"', '"', '"', '"', '"');
}


static __attribute__((target("avx2"))) ngx_inline __m256i
ngx_http_mcp_oauth_letters32(__m256i v, __m256i by_low, __m256i by_low2)
{
    return _mm256_or_si256(
               _mm256_cmpeq_epi8(_mm256_shuffle_epi8(by_low, v), v),
               _mm256_cmpeq_epi8(_mm256_shuffle_epi8(by_low2, v), v));
}


/*
 * 32 bytes of a step of lone escapes (see ngx_http_mcp_oauth_string_avx2()):
 * 0xff where a byte after a backslash is a letter of by_low7 or by_low2 (no
 * backslash) and where any other byte is plain; *after: 0xff after each
 * backslash.
 */

static __attribute__((target("avx2"))) ngx_inline __m256i
ngx_http_mcp_oauth_lone32(u_char *p, __m256i *after, __m256i backslash,
    __m256i flip, __m256i space, __m256i by_low7, __m256i by_low2)
{
    __m256i  v, plain;

    v = _mm256_loadu_si256((__m256i *) p);

    *after = _mm256_cmpeq_epi8(_mm256_loadu_si256((__m256i *) (p - 1)),
                               backslash);
    plain = _mm256_cmpgt_epi8(_mm256_xor_si256(v, flip), space);

    return _mm256_blendv_epi8(plain,
                              ngx_http_mcp_oauth_letters32(v, by_low7,
                                                           by_low2),
                              *after);
}


/* 0xff where a byte is plain and no backslash (a step of plain text) */

static __attribute__((target("avx2"))) ngx_inline __m256i
ngx_http_mcp_oauth_plain32(u_char *p, __m256i backslash, __m256i flip,
    __m256i space)
{
    __m256i  v;

    v = _mm256_loadu_si256((__m256i *) p);

    return _mm256_andnot_si256(_mm256_cmpeq_epi8(v, backslash),
                               _mm256_cmpgt_epi8(_mm256_xor_si256(v, flip),
                                                 space));
}


static __attribute__((target("avx2,bmi"))) ngx_int_t
ngx_http_mcp_oauth_string_avx2(ngx_http_mcp_oauth_scan_t *s,
    ngx_http_mcp_oauth_jstr_t *str)
{
    u_char     *p, *end;
    uint64_t    pending;
    ngx_int_t   rc;
    __m256i     backslash, flip, space, by_low7, by_low2, after_lo, after_hi,
                escapes, ones;

    p = s->p;

    if (s->last - p <= 64) {
        return NGX_AGAIN;
    }

    /* 65 bytes left or more */

    end = s->last - 64;

    backslash = _mm256_set1_epi8('\\');
    flip = _mm256_set1_epi8(0x02);
    space = _mm256_set1_epi8(0x20);
    ones = _mm256_set1_epi8(-1);
    by_low7 = ngx_http_mcp_oauth_by_low('"');
    by_low2 = ngx_http_mcp_oauth_by_low2();

    pending = 0;
    escapes = _mm256_setzero_si256();
    rc = NGX_AGAIN;

    while (p < end) {

        if (pending == (p[-1] == '\\')) {

            /*
             * plain text first, with nothing pending, in fewer
             * instructions: a text with escapes leaves it at once, and
             * comes back after a step the long way only
             */

            while (!pending
                   && _mm256_testc_si256(
                          _mm256_and_si256(
                              ngx_http_mcp_oauth_plain32(p, backslash, flip,
                                                         space),
                              ngx_http_mcp_oauth_plain32(p + 32, backslash,
                                                         flip, space)),
                          ones))
            {
                p += 64;

                if (p >= end) {
                    break;
                }
            }

            if (p >= end) {
                break;
            }

            while (_mm256_testc_si256(
                       _mm256_and_si256(
                           ngx_http_mcp_oauth_lone32(p, &after_lo, backslash,
                                                     flip, space, by_low7,
                                                     by_low2),
                           ngx_http_mcp_oauth_lone32(p + 32, &after_hi,
                                                     backslash, flip, space,
                                                     by_low7, by_low2)),
                       ones))
            {
                escapes = _mm256_or_si256(escapes,
                                          _mm256_or_si256(after_lo, after_hi));
                p += 64;

                if (p >= end) {
                    break;
                }
            }

            pending = (p[-1] == '\\');

            if (p >= end) {
                break;
            }
        }

        rc = ngx_http_mcp_oauth_step_avx2(s, str, &p, &pending);

        if (rc != NGX_AGAIN) {
            break;
        }
    }

    if (!_mm256_testz_si256(escapes, escapes)) {
        str->escaped = 1;
    }

    if (rc == NGX_AGAIN) {
        s->p = p - pending;
    }

    return rc;
}


/*
 * A step that is not one of lone escapes, with the escape pending at *p:
 * the masks for ngx_http_mcp_oauth_string_step().  Out of line: the lone
 * steps' loop then keeps no bytes of its own for it.
 */

static __attribute__((target("avx2,bmi"))) NGX_HTTP_MCP_OAUTH_OUT_OF_LINE
ngx_int_t
ngx_http_mcp_oauth_step_avx2(ngx_http_mcp_oauth_scan_t *s,
    ngx_http_mcp_oauth_jstr_t *str, u_char **p, uint64_t *pending)
{
    uint64_t  bs, stop, letters;
    __m256i   lo, hi, backslash, flip, space, by_low, by_low2;

    backslash = _mm256_set1_epi8('\\');
    flip = _mm256_set1_epi8(0x02);
    space = _mm256_set1_epi8(0x20);
    by_low = ngx_http_mcp_oauth_by_low('\\');
    by_low2 = ngx_http_mcp_oauth_by_low2();

    lo = _mm256_loadu_si256((__m256i *) *p);
    hi = _mm256_loadu_si256((__m256i *) (*p + 32));

    bs = (uint32_t) _mm256_movemask_epi8(_mm256_cmpeq_epi8(lo, backslash))
         | (uint64_t) _mm256_movemask_epi8(_mm256_cmpeq_epi8(hi, backslash))
           << 32;

    /* as in ngx_http_mcp_oauth_flagged16(): not '"', < 0x20, >= 0x80 */

    stop = ~((uint32_t) _mm256_movemask_epi8(
                 _mm256_cmpgt_epi8(_mm256_xor_si256(lo, flip), space))
             | (uint64_t) _mm256_movemask_epi8(
                 _mm256_cmpgt_epi8(_mm256_xor_si256(hi, flip), space))
               << 32);

    letters = (bs | *pending)
              ? (uint32_t) _mm256_movemask_epi8(
                    ngx_http_mcp_oauth_letters32(lo, by_low, by_low2))
                | (uint64_t) _mm256_movemask_epi8(
                    ngx_http_mcp_oauth_letters32(hi, by_low, by_low2))
                  << 32
              : 0;

    return ngx_http_mcp_oauth_string_step(s, str, p, bs, stop, letters,
                                          pending);
}


/* the bytes backslashes escape, each a bit after base: escape letters */

static ngx_int_t
ngx_http_mcp_oauth_escaped_check(ngx_http_mcp_oauth_scan_t *s, u_char *base,
    uint64_t escaped)
{
    while (escaped) {
        if (ngx_http_mcp_oauth_escape_len(base + __builtin_ctzll(escaped),
                                          s->last)
            == 0)
        {
            return NGX_ERROR;
        }

        escaped &= escaped - 1;
    }

    return NGX_OK;
}

#endif


void
ngx_http_mcp_oauth_json_simd(ngx_uint_t widest)
{
#if (NGX_HTTP_MCP_OAUTH_AVX2)
    ngx_http_mcp_oauth_simd = NGX_HTTP_MCP_OAUTH_SIMD_WORDS;

    if (widest >= NGX_HTTP_MCP_OAUTH_SIMD_AVX2
        && __builtin_cpu_supports("avx2") && __builtin_cpu_supports("bmi"))
    {
        ngx_http_mcp_oauth_simd = NGX_HTTP_MCP_OAUTH_SIMD_AVX2;
    }

#endif
}


/*
 * Past the bytes a string holds without a closer look (the "plain" table),
 * 8 at a time: a word goes on only when none of its bytes is '"', '\\',
 * below 0x20 or 0x80 and above; from the first word with one of them the
 * table decides byte by byte, so the span ends where the table ends it.
 */

#define NGX_HTTP_MCP_OAUTH_ONES  0x0101010101010101ULL

static u_char *
ngx_http_mcp_oauth_plain_span(u_char *p, u_char *last)
{
    size_t    n;
    uint64_t  w, t;

    for (n = (size_t) (last - p) / 8; n; n--) {
        ngx_memcpy(&w, p, 8);

        /*
         * A byte >= 0x80 sets its top bit in w itself.  With none, a lane
         * of a subtraction sets its top bit when that byte is below the
         * lane's constant, and none below it (less significant) borrows
         * unless one of them is: "^ 0x02, < 0x21" is "< 0x20 or '"'",
         * "^ '\\', < 0x01" is "'\\'".
         */

        t = w
            | ((w ^ 0x02 * NGX_HTTP_MCP_OAUTH_ONES)
               - 0x21 * NGX_HTTP_MCP_OAUTH_ONES)
            | ((w ^ '\\' * NGX_HTTP_MCP_OAUTH_ONES) - NGX_HTTP_MCP_OAUTH_ONES);

        t &= 0x80 * NGX_HTTP_MCP_OAUTH_ONES;

        if (t) {
#if (NGX_HAVE_LITTLE_ENDIAN && (defined __GNUC__ || defined __clang__))
            /*
             * The lowest flagged lane is a byte that needs attention (a
             * borrow only comes from a lower flagged lane), and on a
             * little-endian machine the lowest lane is the first byte.
             */
            return p + (__builtin_ctzll(t) >> 3);
#else
            break;
#endif
        }

        p += 8;
    }

    while (p < last && ngx_http_mcp_oauth_plain[*p]) {
        p++;
    }

    return p;
}


/* RFC 3629 §4: well-formed UTF-8, no overlongs, no surrogates */

static ngx_int_t
ngx_http_mcp_oauth_scan_utf8(ngx_http_mcp_oauth_scan_t *s)
{
    u_char    c, lo, hi;
    size_t    n, i;

    c = *s->p;
    lo = 0x80;
    hi = 0xbf;

    if (c >= 0xc2 && c <= 0xdf) {
        n = 1;

    } else if (c >= 0xe0 && c <= 0xef) {
        n = 2;

        if (c == 0xe0) {
            lo = 0xa0;

        } else if (c == 0xed) {
            hi = 0x9f;
        }

    } else if (c >= 0xf0 && c <= 0xf4) {
        n = 3;

        if (c == 0xf0) {
            lo = 0x90;

        } else if (c == 0xf4) {
            hi = 0x8f;
        }

    } else {
        return NGX_ERROR;
    }

    if ((size_t) (s->last - s->p) <= n) {
        return NGX_ERROR;
    }

    for (i = 1; i <= n; i++) {
        c = s->p[i];

        if (c < (i == 1 ? lo : 0x80) || c > (i == 1 ? hi : 0xbf)) {
            return NGX_ERROR;
        }
    }

    s->p += n + 1;

    return NGX_OK;
}


/* RFC 8259 §6: -? int frac? exp?  The end of the number, NULL if none */

static u_char *
ngx_http_mcp_oauth_number(u_char *p, u_char *last)
{
    if (p < last && *p == '-') {
        p++;
    }

    if (p == last || *p < '0' || *p > '9') {
        return NULL;
    }

    if (*p == '0') {
        p++;

    } else {
        while (p < last && *p >= '0' && *p <= '9') {
            p++;
        }
    }

    if (p < last && *p == '.') {
        p++;

        if (p == last || *p < '0' || *p > '9') {
            return NULL;
        }

        while (p < last && *p >= '0' && *p <= '9') {
            p++;
        }
    }

    if (p < last && (*p == 'e' || *p == 'E')) {
        p++;

        if (p < last && (*p == '+' || *p == '-')) {
            p++;
        }

        if (p == last || *p < '0' || *p > '9') {
            return NULL;
        }

        while (p < last && *p >= '0' && *p <= '9') {
            p++;
        }
    }

    return p;
}


static ngx_inline u_char *
ngx_http_mcp_oauth_literal(u_char *p, u_char *last, const char *lit,
    size_t len)
{
    if ((size_t) (last - p) < len || ngx_memcmp(p, lit, len) != 0) {
        return NULL;
    }

    return p + len;
}


/* the string's value: escapes resolved, surrogate pairs joined (RFC 8259 §7) */

static ngx_int_t
ngx_http_mcp_oauth_decode(ngx_http_mcp_oauth_scan_t *s,
    ngx_http_mcp_oauth_jstr_t *str, ngx_str_t *out)
{
    u_char    *p, *d;
    uint32_t   cp, lo;

    if (!str->escaped) {
        out->data = str->start;
        out->len = str->end - str->start;
        return NGX_OK;
    }

    /* an escape never decodes to more bytes than it takes */

    d = ngx_pnalloc(s->pool, str->end - str->start);
    if (d == NULL) {
        return NGX_ERROR;
    }

    out->data = d;

    for (p = str->start; p < str->end; /* void */) {

        if (*p != '\\') {
            *d++ = *p++;
            continue;
        }

        switch (p[1]) {
        case 'b': *d++ = '\b'; p += 2; continue;
        case 'f': *d++ = '\f'; p += 2; continue;
        case 'n': *d++ = '\n'; p += 2; continue;
        case 'r': *d++ = '\r'; p += 2; continue;
        case 't': *d++ = '\t'; p += 2; continue;
        case 'u': break;
        default: *d++ = p[1]; p += 2; continue;
        }

        (void) ngx_http_mcp_oauth_hex4(p + 2, &cp);
        p += 6;

        if (cp >= 0xd800 && cp <= 0xdbff) {
            if (str->end - p < 6 || p[0] != '\\' || p[1] != 'u'
                || ngx_http_mcp_oauth_hex4(p + 2, &lo) != NGX_OK
                || lo < 0xdc00 || lo > 0xdfff)
            {
                return NGX_ERROR;   /* a lone high surrogate */
            }

            cp = 0x10000 + ((cp - 0xd800) << 10) + (lo - 0xdc00);
            p += 6;

        } else if (cp >= 0xdc00 && cp <= 0xdfff) {
            return NGX_ERROR;       /* a lone low surrogate */
        }

        if (cp < 0x80) {
            *d++ = (u_char) cp;

        } else if (cp < 0x800) {
            *d++ = (u_char) (0xc0 | (cp >> 6));
            *d++ = (u_char) (0x80 | (cp & 0x3f));

        } else if (cp < 0x10000) {
            *d++ = (u_char) (0xe0 | (cp >> 12));
            *d++ = (u_char) (0x80 | ((cp >> 6) & 0x3f));
            *d++ = (u_char) (0x80 | (cp & 0x3f));

        } else {
            *d++ = (u_char) (0xf0 | (cp >> 18));
            *d++ = (u_char) (0x80 | ((cp >> 12) & 0x3f));
            *d++ = (u_char) (0x80 | ((cp >> 6) & 0x3f));
            *d++ = (u_char) (0x80 | (cp & 0x3f));
        }
    }

    out->len = d - out->data;

    return NGX_OK;
}


/*
 * Which decisive member a key names (*kind, -1 for none).  Some JSON
 * decoders match keys without regard to case (Go's encoding/json also folds
 * U+017F to "s" and U+212A to "k") or stop at a NUL: a key that one of them
 * would take for a decisive member, but that is not exactly it, is refused
 * rather than guessed about.
 */

static ngx_int_t
ngx_http_mcp_oauth_key_kind(ngx_http_mcp_oauth_scan_t *s,
    ngx_http_mcp_oauth_jstr_t *key, ngx_str_t *names, ngx_int_t n,
    ngx_int_t *kind)
{
    u_char     *p, *last, c, folded[8];
    size_t      len;
    ngx_int_t   i;
    ngx_str_t   k;

    if (key->escaped) {
        if (ngx_http_mcp_oauth_decode(s, key, &k) != NGX_OK) {
            return NGX_ERROR;
        }

    } else {
        k.data = key->start;
        k.len = key->end - key->start;
    }

    *kind = -1;

    for (i = 0; i < n; i++) {
        if (k.len == names[i].len
            && ngx_memcmp(k.data, names[i].data, k.len) == 0)
        {
            *kind = i;
            return NGX_OK;
        }
    }

    /* fold: ASCII case, U+017F, U+212A; stop at a NUL */

    len = 0;
    last = k.data + k.len;

    for (p = k.data; p < last && len < sizeof(folded); len++) {
        c = *p;

        if (c == '\0') {
            break;
        }

        if (c < 0x80) {
            folded[len] = ngx_tolower(c);
            p++;

        } else if (last - p >= 2 && p[0] == 0xc5 && p[1] == 0xbf) {
            folded[len] = 's';
            p += 2;

        } else if (last - p >= 3 && p[0] == 0xe2 && p[1] == 0x84
                   && p[2] == 0xaa)
        {
            folded[len] = 'k';
            p += 3;

        } else {
            return NGX_OK;
        }
    }

    for (i = 0; i < n; i++) {
        if (len == names[i].len
            && ngx_memcmp(folded, names[i].data, len) == 0)
        {
            s->err = "Parse error (ambiguous member name)";
            return NGX_ERROR;
        }
    }

    return NGX_OK;
}


static ngx_int_t
ngx_http_mcp_oauth_hex4(u_char *p, uint32_t *cp)
{
    u_char      c;
    ngx_uint_t  i;

    *cp = 0;

    for (i = 0; i < 4; i++) {
        c = p[i];

        if (c >= '0' && c <= '9') {
            c -= '0';

        } else if ((c | 0x20) >= 'a' && (c | 0x20) <= 'f') {
            c = (c | 0x20) - 'a' + 10;

        } else {
            return NGX_ERROR;
        }

        *cp = (*cp << 4) | c;
    }

    return NGX_OK;
}


/* past an opening bracket: NGX_DONE when the closing one follows at once */

static ngx_int_t
ngx_http_mcp_oauth_scan_open(ngx_http_mcp_oauth_scan_t *s, u_char close)
{
    s->p++;
    ngx_http_mcp_oauth_skip_ws(s);

    if (s->p < s->last && *s->p == close) {
        s->p++;
        return NGX_DONE;
    }

    return NGX_OK;
}


static ngx_inline void
ngx_http_mcp_oauth_skip_ws(ngx_http_mcp_oauth_scan_t *s)
{
    s->p = ngx_http_mcp_oauth_ws(s->p, s->last);
}


/* past RFC 8259's whitespace; one comparison when there is none */

static ngx_inline u_char *
ngx_http_mcp_oauth_ws(u_char *p, u_char *last)
{
    while (p < last && *p <= ' '
           && (*p == ' ' || *p == '\t' || *p == '\n' || *p == '\r'))
    {
        p++;
    }

    return p;
}
