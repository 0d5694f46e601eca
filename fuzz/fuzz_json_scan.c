
/*
 * ngx_http_mcp_oauth_json_scan(): JSON-RPC request bodies, one message or a
 * batch.
 *
 * Checked beyond "no sanitizer report":
 *  - the input is not written to;
 *  - every string returned (jsonrpc, method, name, uri, id) lies inside the
 *    input or inside one allocation of the pool; id inside the input;
 *  - decoded strings are well-formed UTF-8 (they may hold NUL and other
 *    control characters: the access check refuses those, with the id);
 *  - batch / nelts / flags agree with each other;
 *  - differential against jansson (what an upstream would parse): the
 *    scanner accepts only what jansson accepts (except for numbers jansson
 *    cannot represent and \u escapes of lone surrogates in strings the
 *    scanner only skips), jansson-valid JSON is refused only for the
 *    documented reasons (duplicate/ambiguous decisive member, nesting),
 *    and method, params.name, params.uri and id are what jansson reads;
 *  - the long strings' AVX2 path (on a CPU with it) and SSE2 / word path
 *    agree: the same verdict and the same messages;
 *  - json_scan_tools() (the SSE filter's one scan) accepts only what
 *    json_scan() accepts, and json_tools() accepts it too and finds the
 *    same result.tools arrays and tools.
 */

#include "fuzz_common.h"
#include <jansson.h>

#include "ngx_http_mcp_oauth_json.h"


static void
check_string_member(const char *what, json_t *obj, const char *key,
    unsigned is_string, ngx_str_t *s)
{
    json_t  *v;

    v = json_is_object(obj) ? json_object_get(obj, key) : NULL;

    if (!is_string) {
        MCP_FUZZ_CHECK(!json_is_string(v),
                       "%s: jansson sees a string, the scanner none", what);
        return;
    }

    MCP_FUZZ_CHECK(json_is_string(v),
                   "%s: the scanner sees a string, jansson does not", what);

    MCP_FUZZ_CHECK(mcp_fuzz_str_eq(s, json_string_value(v),
                                   json_string_length(v)),
                   "%s: scanner \"%.*s\" != jansson \"%s\"", what,
                   (int) s->len, s->data, json_string_value(v));
}


static void
check_message(ngx_http_mcp_oauth_msg_t *m, json_t *j, ngx_pool_t *pool,
    u_char *in, size_t size)
{
    json_t  *v, *params, *id;

    mcp_fuzz_check_str("jsonrpc", &m->jsonrpc, pool, in, size);
    mcp_fuzz_check_str("method", &m->method, pool, in, size);
    mcp_fuzz_check_str("name", &m->name, pool, in, size);
    mcp_fuzz_check_str("uri", &m->uri, pool, in, size);

    MCP_FUZZ_CHECK(m->id.len == 0 || mcp_fuzz_within(m->id.data, m->id.len,
                                                     in, size),
                   "id (%p, len %zu) is not inside the input",
                   (void *) m->id.data, (size_t) m->id.len);

    MCP_FUZZ_CHECK(mcp_fuzz_utf8(m->jsonrpc.data, m->jsonrpc.len)
                   && mcp_fuzz_utf8(m->method.data, m->method.len)
                   && mcp_fuzz_utf8(m->name.data, m->name.len)
                   && mcp_fuzz_utf8(m->uri.data, m->uri.len),
                   "a decoded string is not well-formed UTF-8");

    MCP_FUZZ_CHECK(!m->method_string || m->has_method,
                   "method_string without has_method");
    MCP_FUZZ_CHECK(!(m->name_string || m->uri_string) || m->params_object,
                   "name/uri without params object");
    MCP_FUZZ_CHECK(!m->params_object || m->has_params,
                   "params_object without has_params");
    MCP_FUZZ_CHECK(!m->has_id || m->id.len > 0, "has_id with an empty id");
    MCP_FUZZ_CHECK(m->has_id || m->id.len == 0, "an id without has_id");

    if (!m->object) {
        MCP_FUZZ_CHECK(!m->has_method && !m->has_id && !m->has_params
                       && !m->has_result && !m->has_error
                       && m->method.len == 0 && m->jsonrpc.len == 0,
                       "a non-object message with members");
    }

    if (j == NULL) {
        return;
    }

    /* the differential part */

    MCP_FUZZ_CHECK(!m->object == !json_is_object(j),
                   "object: scanner %d, jansson %d", m->object,
                   json_is_object(j));

    if (!m->object) {
        return;
    }

    check_string_member("method", j, "method", m->method_string, &m->method);

    MCP_FUZZ_CHECK(!m->has_method == !json_object_get(j, "method"),
                   "has_method %d disagrees with jansson", m->has_method);
    MCP_FUZZ_CHECK(!m->has_params == !json_object_get(j, "params"),
                   "has_params %d disagrees with jansson", m->has_params);
    MCP_FUZZ_CHECK(!m->has_result == !json_object_get(j, "result"),
                   "has_result %d disagrees with jansson", m->has_result);
    MCP_FUZZ_CHECK(!m->has_error == !json_object_get(j, "error"),
                   "has_error %d disagrees with jansson", m->has_error);

    v = json_object_get(j, "jsonrpc");
    if (json_is_string(v)) {
        check_string_member("jsonrpc", j, "jsonrpc", 1, &m->jsonrpc);
    }

    params = json_object_get(j, "params");

    MCP_FUZZ_CHECK(!m->params_object == !json_is_object(params),
                   "params_object %d disagrees with jansson",
                   m->params_object);

    if (json_is_object(params)) {
        check_string_member("params.name", params, "name", m->name_string,
                            &m->name);
        check_string_member("params.uri", params, "uri", m->uri_string,
                            &m->uri);
    }

    id = json_object_get(j, "id");

    MCP_FUZZ_CHECK(!m->has_id == !id, "has_id %d disagrees with jansson",
                   m->has_id);

    if (id) {
        json_error_t  e;
        json_t       *mine;

        mine = json_loadb((char *) m->id.data, m->id.len,
                          JSON_DECODE_ANY | JSON_ALLOW_NUL, &e);

        /* jansson may fail on the id's own numbers like on the body's */
        if (mine) {
            MCP_FUZZ_CHECK(json_equal(mine, id),
                           "id \"%.*s\" is not the value jansson read",
                           (int) m->id.len, m->id.data);
            json_decref(mine);
        }
    }
}


/* why jansson may refuse what the scanner rightly accepts */

static int
jansson_only_refusal(const char *text)
{
    return strstr(text, "too big") != NULL             /* integers > int64 */
           || strstr(text, "real number overflow") != NULL  /* 1e400, 1e-400 */
           || strstr(text, "NUL byte in object key") != NULL
           /* lone surrogates in strings the scanner skips (not decodes) */
           || strncmp(text, "invalid Unicode '\\u", 19) == 0;
}


/* why the scanner may refuse what jansson accepts */

static int
scanner_only_refusal(const char *err)
{
    return strcmp(err, "Parse error (duplicate member)") == 0
           || strcmp(err, "Parse error (ambiguous member name)") == 0
           || strcmp(err, "Parse error (nested too deep)") == 0;
}



static ngx_uint_t
same_str(ngx_str_t *a, ngx_str_t *b)
{
    return mcp_fuzz_str_eq(a, (const char *) b->data, b->len);
}


/*
 * the scan again with narrower vectors (a CPU without AVX2) sees the
 * same
 */

static void
check_narrower(ngx_pool_t *pool, u_char *in, size_t size, ngx_int_t rc,
    ngx_array_t *msgs, ngx_uint_t batch, ngx_uint_t widest)
{
    char                      *err;
    ngx_int_t                  rc2;
    ngx_uint_t                 batch2, i;
    ngx_array_t               *msgs2;
    ngx_http_mcp_oauth_msg_t  *a, *b;

    msgs2 = ngx_array_create(pool, 1, sizeof(ngx_http_mcp_oauth_msg_t));
    if (msgs2 == NULL) {
        abort();
    }

    ngx_http_mcp_oauth_json_simd(widest);
    rc2 = ngx_http_mcp_oauth_json_scan(pool, in, size, msgs2, &batch2, &err);
    ngx_http_mcp_oauth_json_simd(NGX_HTTP_MCP_OAUTH_SIMD_AVX2);

    MCP_FUZZ_CHECK(rc2 == rc, "rc %ld with the widest vectors, %ld with at "
                   "most %lu", (long) rc, (long) rc2, (unsigned long) widest);

    if (rc != NGX_OK) {
        return;
    }

    MCP_FUZZ_CHECK(batch2 == batch && msgs2->nelts == msgs->nelts,
                   "batch %lu of %lu with the widest vectors, %lu of %lu "
                   "with at most %lu", (unsigned long) batch,
                   (unsigned long) msgs->nelts, (unsigned long) batch2,
                   (unsigned long) msgs2->nelts, (unsigned long) widest);

    a = msgs->elts;
    b = msgs2->elts;

    for (i = 0; i < msgs->nelts; i++) {
        MCP_FUZZ_CHECK(same_str(&a[i].jsonrpc, &b[i].jsonrpc)
                       && same_str(&a[i].method, &b[i].method)
                       && same_str(&a[i].id, &b[i].id)
                       && same_str(&a[i].name, &b[i].name)
                       && same_str(&a[i].uri, &b[i].uri)
                       && a[i].method_string == b[i].method_string
                       && a[i].name_string == b[i].name_string
                       && a[i].uri_string == b[i].uri_string
                       && a[i].has_id == b[i].has_id
                       && a[i].has_params == b[i].has_params
                       && a[i].params_object == b[i].params_object
                       && a[i].has_result == b[i].has_result
                       && a[i].has_error == b[i].has_error,
                       "message %lu differs with at most %lu", (unsigned long) i,
                       (unsigned long) widest);
    }
}


static void
check_tools_too(ngx_pool_t *pool, u_char *in, size_t size, ngx_int_t rc,
    ngx_array_t *scanned)
{
    char                        *err;
    ngx_int_t                    rc2;
    ngx_uint_t                   batch, i;
    ngx_array_t                 *msgs, *arrays[2], *tools[2];
    ngx_http_mcp_oauth_tool_t   *t0, *t1;
    ngx_http_mcp_oauth_tools_t  *a0, *a1;

    msgs = ngx_array_create(pool, 1, sizeof(ngx_http_mcp_oauth_msg_t));

    for (i = 0; i < 2; i++) {
        arrays[i] = ngx_array_create(pool, 1,
                                     sizeof(ngx_http_mcp_oauth_tools_t));
        tools[i] = ngx_array_create(pool, 1,
                                    sizeof(ngx_http_mcp_oauth_tool_t));
        if (arrays[i] == NULL || tools[i] == NULL) {
            abort();
        }
    }

    if (msgs == NULL) {
        abort();
    }

    rc2 = ngx_http_mcp_oauth_json_scan_tools(pool, in, size, msgs, &batch,
                                             &err, arrays[0], tools[0]);

    /* it may refuse more: json_tools decodes the keys inside a result */

    MCP_FUZZ_CHECK(rc2 != NGX_OK || rc == NGX_OK,
                   "json_scan_tools accepts what json_scan refuses");

    if (rc2 != NGX_OK) {
        return;
    }

    MCP_FUZZ_CHECK(msgs->nelts == scanned->nelts,
                   "json_scan_tools: %lu messages, json_scan %lu",
                   (unsigned long) msgs->nelts,
                   (unsigned long) scanned->nelts);

    MCP_FUZZ_CHECK(ngx_http_mcp_oauth_json_tools(pool, in, size, arrays[1],
                                                 tools[1])
                   == NGX_OK,
                   "json_scan_tools accepts what json_tools refuses");

    MCP_FUZZ_CHECK(arrays[0]->nelts == arrays[1]->nelts
                   && tools[0]->nelts == tools[1]->nelts,
                   "%lu arrays, %lu tools; json_tools %lu, %lu",
                   (unsigned long) arrays[0]->nelts,
                   (unsigned long) tools[0]->nelts,
                   (unsigned long) arrays[1]->nelts,
                   (unsigned long) tools[1]->nelts);

    a0 = arrays[0]->elts;
    a1 = arrays[1]->elts;

    for (i = 0; i < arrays[0]->nelts; i++) {
        MCP_FUZZ_CHECK(memcmp(&a0[i], &a1[i], sizeof(a0[i])) == 0,
                       "array %lu differs from json_tools'",
                       (unsigned long) i);
    }

    t0 = tools[0]->elts;
    t1 = tools[1]->elts;

    for (i = 0; i < tools[0]->nelts; i++) {
        MCP_FUZZ_CHECK(t0[i].start == t1[i].start && t0[i].end == t1[i].end
                       && t0[i].named == t1[i].named
                       && same_str(&t0[i].name, &t1[i].name),
                       "tool %lu differs from json_tools'",
                       (unsigned long) i);
    }
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char                      *err;
    u_char                    *in;
    json_t                    *j, *el;
    ngx_int_t                  rc;
    ngx_uint_t                 batch, i;
    ngx_pool_t                *pool;
    ngx_array_t               *msgs;
    json_error_t               jerr;
    ngx_http_mcp_oauth_msg_t  *m;

    mcp_fuzz_init(NGX_LOG_DEBUG);

    /* each scan its own: fuzz_json_tools compares with the kept results */
    ngx_http_mcp_oauth_json_results(0);

    pool = mcp_fuzz_pool();
    in = mcp_fuzz_input(data, size);

    msgs = ngx_array_create(pool, 1, sizeof(ngx_http_mcp_oauth_msg_t));
    if (msgs == NULL) {
        abort();
    }

    err = NULL;
    batch = 7;

    rc = ngx_http_mcp_oauth_json_scan(pool, in, size, msgs, &batch, &err);

    check_narrower(pool, in, size, rc, msgs, batch,
                   NGX_HTTP_MCP_OAUTH_SIMD_WORDS);
    check_tools_too(pool, in, size, rc, msgs);

    j = json_loadb((char *) in, size, JSON_DECODE_ANY | JSON_ALLOW_NUL, &jerr);

    /* jansson takes a raw NUL byte for the end of the text: no reference */

    if (j != NULL && memchr(in, '\0', size) != NULL) {
        json_decref(j);
        j = NULL;
        strcpy(jerr.text, "raw NUL byte");
    }

    if (rc == NGX_OK) {
        MCP_FUZZ_CHECK(batch == 0 || batch == NGX_HTTP_MCP_OAUTH_BATCH
                       || batch == NGX_HTTP_MCP_OAUTH_BATCH_TOO_LARGE,
                       "batch = %lu", (unsigned long) batch);
        MCP_FUZZ_CHECK(batch != 0 || msgs->nelts == 1,
                       "one message but nelts %lu",
                       (unsigned long) msgs->nelts);
        MCP_FUZZ_CHECK(msgs->nelts <= NGX_HTTP_MCP_OAUTH_BATCH_MAX,
                       "nelts %lu", (unsigned long) msgs->nelts);
        MCP_FUZZ_CHECK(batch != NGX_HTTP_MCP_OAUTH_BATCH_TOO_LARGE
                       || msgs->nelts == NGX_HTTP_MCP_OAUTH_BATCH_MAX,
                       "too large batch with nelts %lu",
                       (unsigned long) msgs->nelts);

        MCP_FUZZ_CHECK(j != NULL || jansson_only_refusal(jerr.text),
                       "the scanner accepts what jansson refuses: %s "
                       "(line %d col %d)", jerr.text, jerr.line, jerr.column);

        if (j) {
            MCP_FUZZ_CHECK(!batch == !json_is_array(j),
                           "batch %lu but jansson array %d",
                           (unsigned long) batch, json_is_array(j));

            if (batch) {
                MCP_FUZZ_CHECK(json_array_size(j) >= msgs->nelts
                               && (batch == NGX_HTTP_MCP_OAUTH_BATCH_TOO_LARGE
                                   || json_array_size(j) == msgs->nelts),
                               "batch of %lu, jansson %zu",
                               (unsigned long) msgs->nelts,
                               json_array_size(j));
                MCP_FUZZ_CHECK(batch == NGX_HTTP_MCP_OAUTH_BATCH
                               || json_array_size(j)
                                  > NGX_HTTP_MCP_OAUTH_BATCH_MAX,
                               "too large batch of %zu", json_array_size(j));
            }
        }

        m = msgs->elts;

        for (i = 0; i < msgs->nelts; i++) {
            el = (j == NULL) ? NULL : batch ? json_array_get(j, i) : j;
            check_message(&m[i], el, pool, in, size);
        }

    } else {
        MCP_FUZZ_CHECK(rc == NGX_ERROR, "rc = %ld", (long) rc);
        MCP_FUZZ_CHECK(err != NULL, "NGX_ERROR without err");

        MCP_FUZZ_CHECK(j == NULL || scanner_only_refusal(err),
                       "the scanner refuses JSON jansson accepts: \"%s\"",
                       err);
    }

    json_decref(j);

    ngx_destroy_pool(pool);
    mcp_fuzz_input_done(in, data, size);

    return 0;
}
