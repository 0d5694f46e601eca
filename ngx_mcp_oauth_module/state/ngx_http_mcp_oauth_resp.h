
/*
 * ngx_mcp_oauth_module: RESP, the Redis protocol (RESP2, as every Redis
 * speaks it without HELLO): commands written as arrays of bulk strings,
 * replies measured and read.  No I/O here: the upstream handler
 * (..._redis.c) and the state (..._state_redis.c) use it, the fuzzer too.
 */

#ifndef _NGX_HTTP_MCP_OAUTH_RESP_H_INCLUDED_
#define _NGX_HTTP_MCP_OAUTH_RESP_H_INCLUDED_


#include <ngx_config.h>
#include <ngx_core.h>


/* nesting of arrays a reply may have (the module's own need only 2) */
#define NGX_HTTP_MCP_OAUTH_RESP_DEPTH   4

/* the longest bulk string read back (a state record is far shorter) */
#define NGX_HTTP_MCP_OAUTH_RESP_BULK_MAX  (16 * 1024 * 1024)


typedef enum {
    NGX_HTTP_MCP_OAUTH_RESP_STATUS = 0,      /* +OK */
    NGX_HTTP_MCP_OAUTH_RESP_ERROR,           /* -ERR ... */
    NGX_HTTP_MCP_OAUTH_RESP_INTEGER,         /* :1 */
    NGX_HTTP_MCP_OAUTH_RESP_BULK,            /* $3 abc */
    NGX_HTTP_MCP_OAUTH_RESP_NIL,             /* $-1 or *-1 */
    NGX_HTTP_MCP_OAUTH_RESP_ARRAY            /* *2 ...: "n" elements follow */
} ngx_http_mcp_oauth_resp_type_e;


typedef struct {
    ngx_http_mcp_oauth_resp_type_e   type;
    ngx_str_t                        str;     /* STATUS, ERROR, BULK */
    int64_t                          n;       /* INTEGER; ARRAY: elements */
} ngx_http_mcp_oauth_resp_t;


/* a command: the bytes of "args" as one RESP array */
size_t ngx_http_mcp_oauth_resp_command_len(ngx_str_t *args, ngx_uint_t n);
u_char *ngx_http_mcp_oauth_resp_command(u_char *p, ngx_str_t *args,
    ngx_uint_t n);

/*
 * The length of the one complete reply at the start of [p, last):
 * NGX_AGAIN when more bytes are needed, NGX_ERROR when it is not RESP.
 */
ssize_t ngx_http_mcp_oauth_resp_measure(u_char *p, u_char *last);

/*
 * Reads the value at the start of "in" (a reply measured complete) and
 * moves "in" past it; of an array only its header: its elements follow.
 */
ngx_int_t ngx_http_mcp_oauth_resp_read(ngx_str_t *in,
    ngx_http_mcp_oauth_resp_t *v);


#endif /* _NGX_HTTP_MCP_OAUTH_RESP_H_INCLUDED_ */
