
/*
 * ngx_mcp_oauth_module: the one-pass JSON scanner for JSON-RPC bodies.
 */

#ifndef _NGX_HTTP_MCP_OAUTH_JSON_H_INCLUDED_
#define _NGX_HTTP_MCP_OAUTH_JSON_H_INCLUDED_


#include <ngx_config.h>
#include <ngx_core.h>


/* one JSON-RPC message of a body; strings unescaped, id as JSON text */

typedef struct {
    ngx_str_t                     jsonrpc;
    ngx_str_t                     method;
    ngx_str_t                     id;
    ngx_str_t                     name;          /* params.name */
    ngx_str_t                     uri;           /* params.uri */
    unsigned                      object:1;
    unsigned                      has_jsonrpc:1;
    unsigned                      has_method:1;
    unsigned                      method_string:1;
    unsigned                      has_id:1;
    unsigned                      has_params:1;
    unsigned                      params_object:1;
    unsigned                      name_string:1;
    unsigned                      uri_string:1;
    unsigned                      has_result:1;
    unsigned                      has_error:1;
} ngx_http_mcp_oauth_msg_t;


/* a batch holds at most this many messages (more: an invalid request) */
#define NGX_HTTP_MCP_OAUTH_BATCH_MAX        100

#define NGX_HTTP_MCP_OAUTH_BATCH            1
#define NGX_HTTP_MCP_OAUTH_BATCH_TOO_LARGE  2


/*
 * Scans a body: one message, or a batch (an array) of them, into msgs
 * (ngx_http_mcp_oauth_msg_t).  NGX_ERROR: not JSON (or a decisive member
 * twice), *err says why.
 */
ngx_int_t ngx_http_mcp_oauth_json_scan(ngx_pool_t *pool, u_char *data,
    size_t len, ngx_array_t *msgs, ngx_uint_t *batch, char **err);

/*
 * The same, and each result's "tools" arrays into arrays and tools as
 * ngx_http_mcp_oauth_json_tools() finds them (a text both accept has the
 * same arrays for both: json_scan refuses a second "result").
 */
ngx_int_t ngx_http_mcp_oauth_json_scan_tools(ngx_pool_t *pool, u_char *data,
    size_t len, ngx_array_t *msgs, ngx_uint_t *batch, char **err,
    ngx_array_t *arrays, ngx_array_t *tools);

/*
 * Long strings are scanned with the widest vectors the CPU has, up to
 * widest: 1 AVX2, 0 SSE2 or a word at a time (the fuzzers compare them).
 */
#define NGX_HTTP_MCP_OAUTH_SIMD_WORDS   0
#define NGX_HTTP_MCP_OAUTH_SIMD_AVX2    1

void ngx_http_mcp_oauth_json_simd(ngx_uint_t widest);


/* members of one JSON object, taken out by name (JWT header, claims) */

#define NGX_HTTP_MCP_OAUTH_JSON_STRING  1
#define NGX_HTTP_MCP_OAUTH_JSON_NUMBER  2
#define NGX_HTTP_MCP_OAUTH_JSON_ARRAY   3
#define NGX_HTTP_MCP_OAUTH_JSON_OTHER   4      /* object, true, false, null */

typedef struct {
    ngx_str_t                     name;
    ngx_uint_t                    type;          /* 0: absent */
    ngx_str_t                     value;         /* string (unescaped) or
                                                    number (its text) */
    ngx_array_t                  *strings;       /* an array's strings */
} ngx_http_mcp_oauth_member_t;


/*
 * NGX_OK: the text is one JSON object; the named members are filled.
 * NGX_ERROR: anything else, or a named member twice.
 */
ngx_int_t ngx_http_mcp_oauth_json_members(ngx_pool_t *pool, u_char *data,
    size_t len, ngx_http_mcp_oauth_member_t *m, ngx_uint_t n);


/* the tools arrays of tools/list results in a response, and their tools */

typedef struct {
    u_char                       *start;         /* at "[" */
    u_char                       *end;           /* after "]" */
    ngx_uint_t                    first;         /* its first tool */
    ngx_uint_t                    n;
    /* its result object: after the last member's value; "cacheScope" */
    u_char                       *tail;
    u_char                       *scope_start;   /* the (last) value, or NULL */
    u_char                       *scope_end;
} ngx_http_mcp_oauth_tools_t;


typedef struct {
    u_char                       *start;
    u_char                       *end;
    ngx_str_t                     name;          /* unescaped */
    unsigned                      named:1;
} ngx_http_mcp_oauth_tool_t;


/*
 * Finds result.tools arrays in a response (one message or a batch).
 * NGX_DECLINED: not JSON.
 */
ngx_int_t ngx_http_mcp_oauth_json_tools(ngx_pool_t *pool, u_char *data,
    size_t len, ngx_array_t *arrays, ngx_array_t *tools);

/*
 * Results of 256 bytes or more are kept per process (four, 256 KB each at
 * most) and an identical text is not scanned again; off (the fuzzers
 * compare the two), they are neither looked at nor kept.
 */
void ngx_http_mcp_oauth_json_results(ngx_uint_t on);


#endif /* _NGX_HTTP_MCP_OAUTH_JSON_H_INCLUDED_ */
