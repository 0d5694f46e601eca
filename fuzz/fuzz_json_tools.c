
/*
 * ngx_http_mcp_oauth_json_tools(): the result.tools arrays of a tools/list
 * response (one message or a batch) and the span and name of every tool.
 *
 * Checked beyond "no sanitizer report":
 *  - the input is not written to;
 *  - arrays are ordered, disjoint, inside the input, "[" ... "]"; their
 *    first/n index the tools array without gaps; every tool span is inside
 *    its array, ordered, non-empty, separated by "," and whitespace only;
 *    names lie inside the input or the pool and are well-formed UTF-8;
 *  - dropping tools the way the filter does (the kept spans joined by
 *    commas) gives text that is scanned again into the same arrays with
 *    the kept tools and their names;
 *  - differential against jansson: accepted text is JSON for jansson (up to
 *    numbers it cannot hold and lone surrogate escapes); JSON jansson reads
 *    is accepted unless nested deeper than the scanner's limit; without
 *    duplicate keys, the arrays, tools and names are the ones jansson finds;
 *  - with the results kept per process (ngx_http_mcp_oauth_json_results),
 *    the verdict, arrays, tools and names are the ones found without them,
 *    both when an earlier input left a result with the same bytes or none
 *    (the first call) and when this input's own result is kept (the second
 *    call finds it, unless lookups are being skipped after results that
 *    were never found).
 */

#include "fuzz_common.h"
#include <jansson.h>

#include "ngx_http_mcp_oauth_json.h"


static ngx_uint_t
json_depth(json_t *j)
{
    size_t       i;
    json_t      *v;
    const char  *k;
    ngx_uint_t   d, max;

    max = 0;

    if (json_is_object(j)) {
        json_object_foreach(j, k, v) {
            d = json_depth(v);
            max = ngx_max(max, d);
        }

        return max + 1;
    }

    if (json_is_array(j)) {
        json_array_foreach(j, i, v) {
            d = json_depth(v);
            max = ngx_max(max, d);
        }

        return max + 1;
    }

    return 0;
}


static void
check_results(ngx_pool_t *pool, u_char *in, size_t size, ngx_int_t rc,
    ngx_array_t *arrays, ngx_array_t *tools)
{
    ngx_int_t                    rc2;
    ngx_uint_t                   pass, i;
    ngx_array_t                 *arrays2, *tools2;
    ngx_http_mcp_oauth_tool_t   *t, *t2;
    ngx_http_mcp_oauth_tools_t  *a, *a2;

    ngx_http_mcp_oauth_json_results(1);

    for (pass = 0; pass < 2; pass++) {
        arrays2 = ngx_array_create(pool, 1,
                                   sizeof(ngx_http_mcp_oauth_tools_t));
        tools2 = ngx_array_create(pool, 16,
                                  sizeof(ngx_http_mcp_oauth_tool_t));
        if (arrays2 == NULL || tools2 == NULL) {
            abort();
        }

        rc2 = ngx_http_mcp_oauth_json_tools(pool, in, size, arrays2, tools2);

        MCP_FUZZ_CHECK(rc2 == rc, "pass %lu: rc %ld with kept results, %ld "
                       "without", pass, (long) rc2, (long) rc);

        if (rc != NGX_OK) {
            continue;
        }

        MCP_FUZZ_CHECK(arrays2->nelts == arrays->nelts
                       && tools2->nelts == tools->nelts,
                       "pass %lu: %lu arrays, %lu tools with kept results, "
                       "%lu, %lu without", pass, arrays2->nelts,
                       tools2->nelts, arrays->nelts, tools->nelts);

        a = arrays->elts;
        a2 = arrays2->elts;

        for (i = 0; i < arrays->nelts; i++) {
            MCP_FUZZ_CHECK(a2[i].start == a[i].start && a2[i].end == a[i].end
                           && a2[i].first == a[i].first && a2[i].n == a[i].n
                           && a2[i].tail == a[i].tail
                           && a2[i].scope_start == a[i].scope_start
                           && a2[i].scope_end == a[i].scope_end,
                           "pass %lu: array %lu differs with kept results",
                           pass, i);
        }

        t = tools->elts;
        t2 = tools2->elts;

        for (i = 0; i < tools->nelts; i++) {
            MCP_FUZZ_CHECK(t2[i].start == t[i].start && t2[i].end == t[i].end
                           && t2[i].named == t[i].named
                           && t2[i].name.len == t[i].name.len
                           && (t[i].name.len == 0
                               || memcmp(t2[i].name.data, t[i].name.data,
                                         t[i].name.len) == 0),
                           "pass %lu: tool %lu differs with kept results",
                           pass, i);
        }
    }

    ngx_http_mcp_oauth_json_results(0);
}


static int
is_ws(u_char c)
{
    return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}


static void
check_structure(ngx_array_t *arrays, ngx_array_t *tools, ngx_pool_t *pool,
    u_char *in, size_t size)
{
    u_char                      *p, *prev;
    ngx_uint_t                   i, k, next;
    ngx_http_mcp_oauth_tool_t   *t;
    ngx_http_mcp_oauth_tools_t  *a;

    a = arrays->elts;
    t = tools->elts;
    prev = in;
    next = 0;

    for (i = 0; i < arrays->nelts; i++) {
        MCP_FUZZ_CHECK(a[i].start >= prev && a[i].start < a[i].end
                       && mcp_fuzz_within(a[i].start, a[i].end - a[i].start,
                                          in, size),
                       "array %lu [%p, %p) not ordered or outside the input",
                       (unsigned long) i, (void *) a[i].start,
                       (void *) a[i].end);
        MCP_FUZZ_CHECK(a[i].start[0] == '[' && a[i].end[-1] == ']',
                       "array %lu is not [ ... ]", (unsigned long) i);
        MCP_FUZZ_CHECK(a[i].first == next, "array %lu first %lu, not %lu",
                       (unsigned long) i, (unsigned long) a[i].first,
                       (unsigned long) next);
        MCP_FUZZ_CHECK(a[i].first + a[i].n <= tools->nelts,
                       "array %lu holds tools past the end",
                       (unsigned long) i);

        p = a[i].start + 1;

        for (k = a[i].first; k < a[i].first + a[i].n; k++) {
            if (k > a[i].first) {
                while (p < t[k].start && is_ws(*p)) {
                    p++;
                }

                MCP_FUZZ_CHECK(p < t[k].start && *p == ',',
                               "no comma before tool %lu", (unsigned long) k);
                p++;
            }

            while (p < t[k].start && is_ws(*p)) {
                p++;
            }

            MCP_FUZZ_CHECK(p == t[k].start,
                           "tool %lu does not start after the previous one",
                           (unsigned long) k);
            MCP_FUZZ_CHECK(t[k].start < t[k].end && t[k].end < a[i].end,
                           "tool %lu [%p, %p) outside its array",
                           (unsigned long) k, (void *) t[k].start,
                           (void *) t[k].end);
            MCP_FUZZ_CHECK(!t[k].named || t[k].start[0] == '{',
                           "named tool %lu is no object", (unsigned long) k);

            mcp_fuzz_check_str("tool name", &t[k].name, pool, in, size);

            MCP_FUZZ_CHECK(mcp_fuzz_utf8(t[k].name.data, t[k].name.len),
                           "tool %lu name is not UTF-8", (unsigned long) k);
            MCP_FUZZ_CHECK(t[k].named || t[k].name.len == 0,
                           "unnamed tool %lu with a name", (unsigned long) k);

            p = t[k].end;
        }

        while (p < a[i].end - 1 && is_ws(*p)) {
            p++;
        }

        MCP_FUZZ_CHECK(p == a[i].end - 1,
                       "array %lu: more than tools between [ and ]",
                       (unsigned long) i);

        next = a[i].first + a[i].n;
        prev = a[i].end;
    }

    MCP_FUZZ_CHECK(next == tools->nelts, "%lu tools, arrays hold %lu",
                   (unsigned long) tools->nelts, (unsigned long) next);
}


/* what ngx_http_mcp_oauth_filter_text() does with the tools it drops */

static void
check_filtered(ngx_pool_t *pool, u_char *in, size_t size,
    ngx_array_t *arrays, ngx_array_t *tools, uint32_t seed)
{
    u_char                      *out, *p, *pos;
    ngx_uint_t                   i, j, first, kept;
    ngx_array_t                 *arrays2, *tools2;
    ngx_http_mcp_oauth_tool_t   *t, *t2;
    ngx_http_mcp_oauth_tools_t  *a, *a2;

    out = malloc(size ? size : 1);
    if (out == NULL) {
        abort();
    }

    a = arrays->elts;
    t = tools->elts;
    p = out;
    pos = in;

    for (i = 0; i < arrays->nelts; i++) {
        memcpy(p, pos, a[i].start - pos);
        p += a[i].start - pos;
        *p++ = '[';
        first = 1;

        for (j = a[i].first; j < a[i].first + a[i].n; j++) {
            if (seed >> (j % 32) & 1) {
                continue;
            }

            if (!first) {
                *p++ = ',';
            }

            first = 0;
            memcpy(p, t[j].start, t[j].end - t[j].start);
            p += t[j].end - t[j].start;
        }

        *p++ = ']';
        pos = a[i].end;
    }

    memcpy(p, pos, in + size - pos);
    p += in + size - pos;

    MCP_FUZZ_CHECK((size_t) (p - out) <= size, "filtered text grew");

    arrays2 = ngx_array_create(pool, 1, sizeof(ngx_http_mcp_oauth_tools_t));
    tools2 = ngx_array_create(pool, 16, sizeof(ngx_http_mcp_oauth_tool_t));
    if (arrays2 == NULL || tools2 == NULL) {
        abort();
    }

    MCP_FUZZ_CHECK(ngx_http_mcp_oauth_json_tools(pool, out, p - out, arrays2,
                                                 tools2)
                   == NGX_OK,
                   "the text with tools dropped is not accepted: \"%.*s\"",
                   (int) (p - out), out);

    MCP_FUZZ_CHECK(arrays2->nelts == arrays->nelts,
                   "%lu arrays after dropping tools, %lu before",
                   (unsigned long) arrays2->nelts,
                   (unsigned long) arrays->nelts);

    a2 = arrays2->elts;
    t2 = tools2->elts;
    kept = 0;

    for (i = 0; i < arrays->nelts; i++) {
        MCP_FUZZ_CHECK(a2[i].first == kept, "array %lu moved",
                       (unsigned long) i);

        for (j = a[i].first; j < a[i].first + a[i].n; j++) {
            if (seed >> (j % 32) & 1) {
                continue;
            }

            MCP_FUZZ_CHECK(kept < tools2->nelts
                           && t2[kept].named == t[j].named
                           && t2[kept].name.len == t[j].name.len
                           && (t[j].name.len == 0
                               || memcmp(t2[kept].name.data, t[j].name.data,
                                         t[j].name.len) == 0),
                           "kept tool %lu is not the same after dropping",
                           (unsigned long) j);
            kept++;
        }

        MCP_FUZZ_CHECK(a2[i].first + a2[i].n == kept,
                       "array %lu holds %lu tools, %lu kept",
                       (unsigned long) i, (unsigned long) a2[i].n,
                       (unsigned long) (kept - a2[i].first));
    }

    MCP_FUZZ_CHECK(tools2->nelts == kept, "%lu tools after dropping, %lu kept",
                   (unsigned long) tools2->nelts, (unsigned long) kept);

    free(out);
}


/* the arrays jansson finds, for a document without duplicate keys */

static void
check_jansson(json_t *j, ngx_array_t *arrays, ngx_array_t *tools)
{
    size_t                       n, i, k, nmsg;
    json_t                      *msg, *result, *list, *tool, *name;
    ngx_uint_t                   ai, ti;
    ngx_http_mcp_oauth_tool_t   *t;
    ngx_http_mcp_oauth_tools_t  *a;

    a = arrays->elts;
    t = tools->elts;
    ai = 0;
    ti = 0;

    nmsg = json_is_array(j) ? json_array_size(j) : 1;

    for (i = 0; i < nmsg; i++) {
        msg = json_is_array(j) ? json_array_get(j, i) : j;
        result = json_is_object(msg) ? json_object_get(msg, "result") : NULL;
        list = json_is_object(result) ? json_object_get(result, "tools")
                                      : NULL;

        if (!json_is_array(list)) {
            continue;
        }

        MCP_FUZZ_CHECK(ai < arrays->nelts,
                       "jansson finds more tools arrays (message %zu)", i);

        n = json_array_size(list);

        MCP_FUZZ_CHECK(a[ai].n == n, "array %lu: %lu tools, jansson %zu",
                       (unsigned long) ai, (unsigned long) a[ai].n, n);

        for (k = 0; k < n; k++, ti++) {
            tool = json_array_get(list, k);
            name = json_is_object(tool) ? json_object_get(tool, "name")
                                        : NULL;

            MCP_FUZZ_CHECK(!t[ti].named == !json_is_string(name),
                           "tool %lu: named %d, jansson disagrees",
                           (unsigned long) ti, t[ti].named);

            if (json_is_string(name)) {
                MCP_FUZZ_CHECK(mcp_fuzz_str_eq(&t[ti].name,
                                               json_string_value(name),
                                               json_string_length(name)),
                               "tool %lu: name \"%.*s\", jansson \"%s\"",
                               (unsigned long) ti, (int) t[ti].name.len,
                               t[ti].name.data, json_string_value(name));
            }
        }

        ai++;
    }

    MCP_FUZZ_CHECK(ai == arrays->nelts, "%lu arrays, jansson finds %lu",
                   (unsigned long) arrays->nelts, (unsigned long) ai);
}


static int
jansson_only_refusal(const char *text)
{
    return strstr(text, "too big") != NULL
           || strstr(text, "real number overflow") != NULL
           || strstr(text, "NUL byte in object key") != NULL
           || strncmp(text, "invalid Unicode '\\u", 19) == 0;
}


int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    u_char        *in;
    json_t        *j, *jd;
    uint32_t       seed;
    ngx_int_t      rc;
    ngx_uint_t     i;
    ngx_pool_t    *pool;
    ngx_array_t   *arrays, *tools;
    json_error_t   jerr;

    mcp_fuzz_init(NGX_LOG_DEBUG);

    pool = mcp_fuzz_pool();
    in = mcp_fuzz_input(data, size);

    arrays = ngx_array_create(pool, 1, sizeof(ngx_http_mcp_oauth_tools_t));
    tools = ngx_array_create(pool, 16, sizeof(ngx_http_mcp_oauth_tool_t));
    if (arrays == NULL || tools == NULL) {
        abort();
    }

    ngx_http_mcp_oauth_json_results(0);
    rc = ngx_http_mcp_oauth_json_tools(pool, in, size, arrays, tools);
    check_results(pool, in, size, rc, arrays, tools);

    j = json_loadb((char *) in, size, JSON_DECODE_ANY | JSON_ALLOW_NUL, &jerr);

    /* jansson takes a raw NUL byte for the end of the text: no reference */

    if (j != NULL && memchr(in, '\0', size) != NULL) {
        json_decref(j);
        j = NULL;
        strcpy(jerr.text, "raw NUL byte");
    }

    if (rc == NGX_OK) {
        MCP_FUZZ_CHECK(j != NULL || jansson_only_refusal(jerr.text),
                       "json_tools accepts what jansson refuses: %s "
                       "(line %d col %d)", jerr.text, jerr.line, jerr.column);

        check_structure(arrays, tools, pool, in, size);

        /* which tools to drop: from the input, so a crash reproduces */

        seed = 2166136261u;
        for (i = 0; i < size; i++) {
            seed = (seed ^ in[i]) * 16777619u;
        }

        check_filtered(pool, in, size, arrays, tools, seed);

        if (j) {
            jd = json_loadb((char *) in, size,
                            JSON_DECODE_ANY | JSON_ALLOW_NUL
                            | JSON_REJECT_DUPLICATES, NULL);
            if (jd) {
                check_jansson(jd, arrays, tools);
                json_decref(jd);
            }
        }

    } else {
        MCP_FUZZ_CHECK(rc == NGX_DECLINED, "rc = %ld", (long) rc);

        /* the scanner's nesting limit is 64, counted from the message */

        MCP_FUZZ_CHECK(j == NULL || json_depth(j) > 60,
                       "json_tools refuses JSON jansson accepts");
    }

    json_decref(j);

    ngx_destroy_pool(pool);
    mcp_fuzz_input_done(in, data, size);

    return 0;
}
