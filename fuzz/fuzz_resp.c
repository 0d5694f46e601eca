
/*
 * RESP, the Redis protocol (state/ngx_http_mcp_oauth_resp.c): the reply
 * parser the upstream handler runs on whatever Redis (or what answers in
 * its place) sends, and the command writer.
 *
 * Input: the bytes of a reply.  Checked beyond "no sanitizer report":
 *  - measure() is NGX_AGAIN, NGX_ERROR, or a length within the input;
 *  - a measured reply is readable to its end with read(): every value, the
 *    elements of every array, nothing read past the measured length;
 *  - every shorter prefix of a measured reply is NGX_AGAIN (the handler
 *    waits for the rest, never takes a part for the whole, never refuses
 *    what is only incomplete);
 *  - the input cut at 0xff bytes, as command arguments: the written command
 *    measures as exactly its length and reads back as an array of those
 *    bulk strings.
 */

#include "fuzz_common.h"

#include "ngx_http_mcp_oauth_resp.h"


#define MAX_ARGS  64


/* one value and what it holds; the bytes read are within [start, end) */

static void
walk(ngx_str_t *in, u_char *start, u_char *end, ngx_uint_t depth)
{
    int64_t                    i;
    ngx_http_mcp_oauth_resp_t  v;

    MCP_FUZZ_CHECK(depth <= NGX_HTTP_MCP_OAUTH_RESP_DEPTH, "depth %lu",
                   (unsigned long) depth);

    MCP_FUZZ_CHECK(ngx_http_mcp_oauth_resp_read(in, &v) == NGX_OK,
                   "a measured reply is not readable at offset %ld",
                   (long) (in->data - start));

    MCP_FUZZ_CHECK(in->data <= end && in->data + in->len == end,
                   "read past the reply");

    if (v.type == NGX_HTTP_MCP_OAUTH_RESP_BULK
        || v.type == NGX_HTTP_MCP_OAUTH_RESP_STATUS
        || v.type == NGX_HTTP_MCP_OAUTH_RESP_ERROR)
    {
        MCP_FUZZ_CHECK(v.str.data >= start && v.str.data + v.str.len <= end,
                       "a string outside the reply");
    }

    if (v.type != NGX_HTTP_MCP_OAUTH_RESP_ARRAY) {
        return;
    }

    for (i = 0; i < v.n; i++) {
        walk(in, start, end, depth + 1);
    }
}


static void
check_reply(const uint8_t *data, size_t size)
{
    u_char     *buf;
    size_t      cut;
    ssize_t     n, m;
    ngx_str_t   in;

    /* a copy of exactly the input: an over-read is an ASan report */

    buf = malloc(size ? size : 1);
    memcpy(buf, data, size);

    n = ngx_http_mcp_oauth_resp_measure(buf, buf + size);

    MCP_FUZZ_CHECK(n == NGX_AGAIN || n == NGX_ERROR
                   || (n > 0 && (size_t) n <= size),
                   "measure gave %ld for %lu bytes", (long) n,
                   (unsigned long) size);

    if (n > 0) {
        in.data = buf;
        in.len = n;
        walk(&in, buf, buf + n, 0);
        MCP_FUZZ_CHECK(in.len == 0, "%lu bytes of the reply left unread",
                       (unsigned long) in.len);

        /* each prefix: incomplete, not wrong */

        for (cut = 0; cut < (size_t) n; cut += 1 + cut / 8) {
            m = ngx_http_mcp_oauth_resp_measure(buf, buf + cut);
            MCP_FUZZ_CHECK(m == NGX_AGAIN,
                           "a prefix of %lu bytes of a %ld-byte reply gave %ld",
                           (unsigned long) cut, (long) n, (long) m);
        }
    }

    free(buf);
}


static void
check_command(const uint8_t *data, size_t size)
{
    u_char                     *buf, *p;
    size_t                      i, start, len;
    ssize_t                     n;
    ngx_str_t                   args[MAX_ARGS], in;
    ngx_uint_t                  nargs, k;
    ngx_http_mcp_oauth_resp_t   v;

    nargs = 0;
    start = 0;

    for (i = 0; i <= size && nargs < MAX_ARGS; i++) {
        if (i == size || data[i] == 0xff) {
            args[nargs].data = (u_char *) data + start;
            args[nargs].len = i - start;
            nargs++;
            start = i + 1;
        }
    }

    len = ngx_http_mcp_oauth_resp_command_len(args, nargs);
    buf = malloc(len);
    p = ngx_http_mcp_oauth_resp_command(buf, args, nargs);

    MCP_FUZZ_CHECK(p >= buf && (size_t) (p - buf) <= len,
                   "the command overran its length");

    n = ngx_http_mcp_oauth_resp_measure(buf, p);
    MCP_FUZZ_CHECK(n == p - buf, "a command of %ld bytes measured %ld",
                   (long) (p - buf), (long) n);

    in.data = buf;
    in.len = p - buf;

    MCP_FUZZ_CHECK(ngx_http_mcp_oauth_resp_read(&in, &v) == NGX_OK
                   && v.type == NGX_HTTP_MCP_OAUTH_RESP_ARRAY
                   && v.n == (int64_t) nargs, "the command's array");

    for (k = 0; k < nargs; k++) {
        MCP_FUZZ_CHECK(ngx_http_mcp_oauth_resp_read(&in, &v) == NGX_OK
                       && v.type == NGX_HTTP_MCP_OAUTH_RESP_BULK
                       && v.str.len == args[k].len
                       && memcmp(v.str.data, args[k].data, v.str.len) == 0,
                       "argument %lu read back", (unsigned long) k);
    }

    MCP_FUZZ_CHECK(in.len == 0, "bytes after the command");

    free(buf);
}


int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    mcp_fuzz_init(NGX_LOG_EMERG);

    check_reply(data, size);
    check_command(data, size);

    return 0;
}
