
/*
 * ngx_http_mcp_oauth_json_members(): named members of one JSON object (the
 * JWT header and the claims), with a fixed member list: the claims and
 * header parameters the module asks for, the empty name and a non-ASCII one
 * (matched after unescaping).
 *
 * Checked beyond "no sanitizer report":
 *  - the input is not written to;
 *  - every value lies inside the input or the pool, strings are UTF-8,
 *    numbers and literals are their own text in the input;
 *  - differential against jansson: an accepted text is a JSON object for
 *    jansson (up to numbers it cannot hold and lone surrogate escapes), and
 *    each member's type, string, number and array of strings is what
 *    jansson reads; an object jansson reads without duplicate keys is
 *    accepted unless nested deeper than the scanner's limit.
 */

#include "fuzz_common.h"
#include <jansson.h>

#include "ngx_http_mcp_oauth_json.h"


static const char  *names[] = {
    "exp", "nbf", "iat", "iss", "sub", "client_id", "azp", "aud", "scope",
    "scp", "alg", "kid", "typ", "crit", "", "\xc3\xbcn\xc3\xaf"
};

#define NNAMES  (sizeof(names) / sizeof(names[0]))


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


static int
jansson_only_refusal(const char *text)
{
    return strstr(text, "too big") != NULL
           || strstr(text, "real number overflow") != NULL
           || strstr(text, "NUL byte in object key") != NULL
           || strncmp(text, "invalid Unicode '\\u", 19) == 0;
}


static void
check_member(ngx_http_mcp_oauth_member_t *m, json_t *j, ngx_pool_t *pool,
    u_char *in, size_t size)
{
    size_t        i, n;
    json_t       *v, *e, *mine;
    ngx_str_t    *s;
    json_error_t  jerr;

    MCP_FUZZ_CHECK(m->type <= NGX_HTTP_MCP_OAUTH_JSON_OTHER, "%s: type %lu",
                   m->name.data, (unsigned long) m->type);

    switch (m->type) {

    case NGX_HTTP_MCP_OAUTH_JSON_STRING:
        mcp_fuzz_check_str("string value", &m->value, pool, in, size);
        MCP_FUZZ_CHECK(mcp_fuzz_utf8(m->value.data, m->value.len),
                       "%s: string is not UTF-8", m->name.data);
        break;

    case NGX_HTTP_MCP_OAUTH_JSON_NUMBER:
    case NGX_HTTP_MCP_OAUTH_JSON_OTHER:
        MCP_FUZZ_CHECK(m->value.len > 0
                       && mcp_fuzz_within(m->value.data, m->value.len, in,
                                          size),
                       "%s: number/literal text not inside the input",
                       m->name.data);
        break;

    case NGX_HTTP_MCP_OAUTH_JSON_ARRAY:
        MCP_FUZZ_CHECK(m->strings != NULL, "%s: array without strings",
                       m->name.data);

        s = m->strings->elts;
        for (i = 0; i < m->strings->nelts; i++) {
            mcp_fuzz_check_str("array string", &s[i], pool, in, size);
            MCP_FUZZ_CHECK(mcp_fuzz_utf8(s[i].data, s[i].len),
                           "%s: array string is not UTF-8", m->name.data);
        }

        break;
    }

    if (j == NULL) {
        return;
    }

    v = json_object_get(j, (char *) m->name.data);

    switch (m->type) {

    case 0:
        MCP_FUZZ_CHECK(v == NULL, "%s: absent, jansson has it",
                       m->name.data);
        break;

    case NGX_HTTP_MCP_OAUTH_JSON_STRING:
        MCP_FUZZ_CHECK(json_is_string(v)
                       && mcp_fuzz_str_eq(&m->value, json_string_value(v),
                                          json_string_length(v)),
                       "%s: string \"%.*s\" is not what jansson reads",
                       m->name.data, (int) m->value.len, m->value.data);
        break;

    case NGX_HTTP_MCP_OAUTH_JSON_NUMBER:
        MCP_FUZZ_CHECK(json_is_number(v), "%s: number, jansson %d",
                       m->name.data, v ? (int) json_typeof(v) : -1);

        mine = json_loadb((char *) m->value.data, m->value.len,
                          JSON_DECODE_ANY, &jerr);
        MCP_FUZZ_CHECK(mine && json_equal(mine, v),
                       "%s: number text \"%.*s\" is not jansson's number",
                       m->name.data, (int) m->value.len, m->value.data);
        json_decref(mine);
        break;

    case NGX_HTTP_MCP_OAUTH_JSON_OTHER:
        MCP_FUZZ_CHECK(json_is_object(v) || json_is_boolean(v)
                       || json_is_null(v),
                       "%s: other, jansson %d", m->name.data,
                       v ? (int) json_typeof(v) : -1);

        mine = json_loadb((char *) m->value.data, m->value.len,
                          JSON_DECODE_ANY | JSON_ALLOW_NUL, &jerr);
        MCP_FUZZ_CHECK(mine == NULL || json_equal(mine, v),
                       "%s: text \"%.*s\" is not jansson's value",
                       m->name.data, (int) m->value.len, m->value.data);
        json_decref(mine);
        break;

    case NGX_HTTP_MCP_OAUTH_JSON_ARRAY:
        MCP_FUZZ_CHECK(json_is_array(v), "%s: array, jansson %d",
                       m->name.data, v ? (int) json_typeof(v) : -1);

        s = m->strings->elts;
        n = 0;

        json_array_foreach(v, i, e) {
            if (!json_is_string(e)) {
                continue;
            }

            MCP_FUZZ_CHECK(n < m->strings->nelts
                           && mcp_fuzz_str_eq(&s[n], json_string_value(e),
                                              json_string_length(e)),
                           "%s: array string %zu is not jansson's",
                           m->name.data, n);
            n++;
        }

        MCP_FUZZ_CHECK(n == m->strings->nelts, "%s: %lu strings, jansson %zu",
                       m->name.data, (unsigned long) m->strings->nelts, n);
        break;
    }
}


int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    u_char                       *in;
    json_t                       *j, *jd;
    ngx_int_t                     rc;
    ngx_uint_t                    i;
    ngx_pool_t                   *pool;
    json_error_t                  jerr;
    ngx_http_mcp_oauth_member_t   m[NNAMES];

    mcp_fuzz_init(NGX_LOG_DEBUG);

    pool = mcp_fuzz_pool();
    in = mcp_fuzz_input(data, size);

    /* garbage in what the function should set, so that a miss is seen */
    memset(m, 0xa5, sizeof(m));

    for (i = 0; i < NNAMES; i++) {
        m[i].name.data = (u_char *) names[i];
        m[i].name.len = strlen(names[i]);
    }

    rc = ngx_http_mcp_oauth_json_members(pool, in, size, m, NNAMES);

    j = json_loadb((char *) in, size, JSON_ALLOW_NUL, &jerr);

    /* jansson takes a raw NUL byte for the end of the text: no reference */

    if (j != NULL && memchr(in, '\0', size) != NULL) {
        json_decref(j);
        j = NULL;
        strcpy(jerr.text, "raw NUL byte");
    }

    if (rc == NGX_OK) {
        MCP_FUZZ_CHECK(j != NULL || jansson_only_refusal(jerr.text),
                       "json_members accepts what jansson refuses: %s "
                       "(line %d col %d)", jerr.text, jerr.line, jerr.column);
        MCP_FUZZ_CHECK(j == NULL || json_is_object(j),
                       "json_members accepts a JSON array");

        for (i = 0; i < NNAMES; i++) {
            check_member(&m[i], j, pool, in, size);
        }

    } else {
        MCP_FUZZ_CHECK(rc == NGX_ERROR, "rc = %ld", (long) rc);

        if (json_is_object(j)) {
            jd = json_loadb((char *) in, size,
                            JSON_ALLOW_NUL | JSON_REJECT_DUPLICATES, NULL);

            MCP_FUZZ_CHECK(jd == NULL || json_depth(jd) > 60,
                           "json_members refuses an object jansson reads "
                           "without duplicate keys");
            json_decref(jd);
        }
    }

    json_decref(j);

    ngx_destroy_pool(pool);
    mcp_fuzz_input_done(in, data, size);

    return 0;
}
