
/*
 * ngx_mcp_oauth_module: RESP2 (https://redis.io/docs/latest/develop/
 * reference/protocol-spec/): commands out, replies measured and read.
 * Everything a reply says is bounded before it is believed: line lengths,
 * bulk sizes, array counts and nesting.
 */

#include <ngx_config.h>
#include <ngx_core.h>

#include "ngx_http_mcp_oauth_resp.h"


/* a status, error or length line: Redis' own errors are far shorter */
#define NGX_HTTP_MCP_OAUTH_RESP_LINE_MAX  4096


static ssize_t ngx_http_mcp_oauth_resp_value(u_char *p, u_char *last,
    ngx_uint_t depth);
static u_char *ngx_http_mcp_oauth_resp_line(u_char *p, u_char *last,
    ngx_int_t *rc);
static ngx_int_t ngx_http_mcp_oauth_resp_number(u_char *p, u_char *end,
    int64_t *n);


size_t
ngx_http_mcp_oauth_resp_command_len(ngx_str_t *args, ngx_uint_t n)
{
    size_t      len;
    ngx_uint_t  i;

    len = sizeof("*" CRLF) - 1 + NGX_SIZE_T_LEN;

    for (i = 0; i < n; i++) {
        len += sizeof("$" CRLF CRLF) - 1 + NGX_SIZE_T_LEN + args[i].len;
    }

    return len;
}


/* *<n> then $<len> <bytes> per argument: binary-safe, nothing escaped */

u_char *
ngx_http_mcp_oauth_resp_command(u_char *p, ngx_str_t *args, ngx_uint_t n)
{
    ngx_uint_t  i;

    p = ngx_sprintf(p, "*%ui" CRLF, n);

    for (i = 0; i < n; i++) {
        p = ngx_sprintf(p, "$%uz" CRLF, args[i].len);
        p = ngx_cpymem(p, args[i].data, args[i].len);
        *p++ = CR; *p++ = LF;
    }

    return p;
}


ssize_t
ngx_http_mcp_oauth_resp_measure(u_char *p, u_char *last)
{
    return ngx_http_mcp_oauth_resp_value(p, last, 0);
}


static ssize_t
ngx_http_mcp_oauth_resp_value(u_char *p, u_char *last, ngx_uint_t depth)
{
    u_char     *eol, *start;
    int64_t     n, i;
    ssize_t     len;
    ngx_int_t   rc;

    start = p;

    eol = ngx_http_mcp_oauth_resp_line(p, last, &rc);
    if (eol == NULL) {
        return rc;
    }

    switch (*p) {

    case '+':
    case '-':
        return eol - start;

    case ':':
        return ngx_http_mcp_oauth_resp_number(p + 1, eol - 2, &n) == NGX_OK
               ? eol - start : NGX_ERROR;

    case '$':
        if (ngx_http_mcp_oauth_resp_number(p + 1, eol - 2, &n) != NGX_OK
            || n < -1 || n > NGX_HTTP_MCP_OAUTH_RESP_BULK_MAX)
        {
            return NGX_ERROR;
        }

        if (n == -1) {
            return eol - start;
        }

        if (last - eol < n + 2) {
            return NGX_AGAIN;
        }

        if (eol[n] != CR || eol[n + 1] != LF) {
            return NGX_ERROR;
        }

        return eol + n + 2 - start;

    case '*':
        if (ngx_http_mcp_oauth_resp_number(p + 1, eol - 2, &n) != NGX_OK
            || n < -1 || depth >= NGX_HTTP_MCP_OAUTH_RESP_DEPTH)
        {
            return NGX_ERROR;
        }

        /* each element is 3 bytes at least: a count beyond is a lie */

        if (n > NGX_HTTP_MCP_OAUTH_RESP_BULK_MAX / 3) {
            return NGX_ERROR;
        }

        p = eol;

        for (i = 0; i < n; i++) {
            len = ngx_http_mcp_oauth_resp_value(p, last, depth + 1);
            if (len < 0) {
                return len;
            }

            p += len;
        }

        return p - start;

    default:
        return NGX_ERROR;
    }
}


/* the end of the line at p, past its CRLF; NULL with *rc AGAIN or ERROR */

static u_char *
ngx_http_mcp_oauth_resp_line(u_char *p, u_char *last, ngx_int_t *rc)
{
    u_char  *lf, *end;

    end = last;

    if (end - p > NGX_HTTP_MCP_OAUTH_RESP_LINE_MAX) {
        end = p + NGX_HTTP_MCP_OAUTH_RESP_LINE_MAX;
    }

    lf = (p < end) ? ngx_strlchr(p, end, LF) : NULL;

    if (lf == NULL) {
        *rc = (end == last) ? NGX_AGAIN : NGX_ERROR;
        return NULL;
    }

    if (lf - p < 2 || lf[-1] != CR) {
        *rc = NGX_ERROR;
        return NULL;
    }

    return lf + 1;
}


/* a decimal integer, "-" allowed, nothing else, no overflow */

static ngx_int_t
ngx_http_mcp_oauth_resp_number(u_char *p, u_char *end, int64_t *n)
{
    int64_t     v;
    ngx_uint_t  neg;

    neg = (p < end && *p == '-');
    p += neg;

    if (p == end || end - p > 18) {
        return NGX_ERROR;
    }

    for (v = 0; p < end; p++) {
        if (*p < '0' || *p > '9') {
            return NGX_ERROR;
        }

        v = v * 10 + (*p - '0');
    }

    *n = neg ? -v : v;

    return NGX_OK;
}


ngx_int_t
ngx_http_mcp_oauth_resp_read(ngx_str_t *in, ngx_http_mcp_oauth_resp_t *v)
{
    u_char     *p, *last, *eol;
    ngx_int_t   rc;

    p = in->data;
    last = in->data + in->len;

    eol = ngx_http_mcp_oauth_resp_line(p, last, &rc);
    if (eol == NULL) {
        return NGX_ERROR;
    }

    v->str.data = p + 1;
    v->str.len = eol - 2 - (p + 1);
    v->n = 0;

    switch (*p) {

    case '+':
        v->type = NGX_HTTP_MCP_OAUTH_RESP_STATUS;
        break;

    case '-':
        v->type = NGX_HTTP_MCP_OAUTH_RESP_ERROR;
        break;

    case ':':
        v->type = NGX_HTTP_MCP_OAUTH_RESP_INTEGER;

        if (ngx_http_mcp_oauth_resp_number(p + 1, eol - 2, &v->n) != NGX_OK) {
            return NGX_ERROR;
        }

        break;

    case '$':
    case '*':
        if (ngx_http_mcp_oauth_resp_number(p + 1, eol - 2, &v->n) != NGX_OK
            || v->n < -1)
        {
            return NGX_ERROR;
        }

        if (v->n == -1) {
            v->type = NGX_HTTP_MCP_OAUTH_RESP_NIL;
            v->n = 0;
            break;
        }

        if (*p == '*') {
            v->type = NGX_HTTP_MCP_OAUTH_RESP_ARRAY;
            break;
        }

        if (v->n > NGX_HTTP_MCP_OAUTH_RESP_BULK_MAX
            || last - eol < v->n + 2
            || eol[v->n] != CR || eol[v->n + 1] != LF)
        {
            return NGX_ERROR;
        }

        v->type = NGX_HTTP_MCP_OAUTH_RESP_BULK;
        v->str.data = eol;
        v->str.len = v->n;
        eol += v->n + 2;
        v->n = 0;
        break;

    default:
        return NGX_ERROR;
    }

    in->data = eol;
    in->len = last - eol;

    return NGX_OK;
}
