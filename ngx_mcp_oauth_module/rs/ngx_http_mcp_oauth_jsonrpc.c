
/*
 * ngx_mcp_oauth_module: MCP JSON-RPC requests in POST bodies.  The body is
 * read before the access phase (the mirror module's way: read, then resume
 * the phases) so that $mcp_oauth_method and $mcp_oauth_tool can key
 * limit_req; it is parsed once, when the access check or a variable first
 * needs it, and goes upstream byte for byte.
 */

#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include "ngx_http_mcp_oauth_module.h"
#include "ngx_http_mcp_oauth_string.h"


#define NGX_HTTP_MCP_OAUTH_PARSE_ERROR       -32700
#define NGX_HTTP_MCP_OAUTH_INVALID_REQUEST   -32600
#define NGX_HTTP_MCP_OAUTH_INVALID_PARAMS    -32602
#define NGX_HTTP_MCP_OAUTH_FORBIDDEN         -32003
#define NGX_HTTP_MCP_OAUTH_HEADER_MISMATCH   -32020    /* MCP 2026-07-28 */

/* an error object without its id, message and data */
#define NGX_HTTP_MCP_OAUTH_ERROR_LEN                                          \
    sizeof("{\"jsonrpc\":\"2.0\",\"id\":null,\"error\":{\"code\":-32768,"      \
           "\"message\":\"\",\"data\":{\"scope\":\"\"}}}")


typedef struct {
    ngx_str_t                       method;      /* Mcp-Method header */
    ngx_str_t                       name;        /* Mcp-Name, decoded */
    unsigned                        has_method:1;
    unsigned                        has_name:1;
} ngx_http_mcp_oauth_headers_t;


static ngx_int_t ngx_http_mcp_oauth_body_buffer(ngx_http_request_t *r);
static void ngx_http_mcp_oauth_body_handler(ngx_http_request_t *r);
static ngx_int_t ngx_http_mcp_oauth_message(ngx_http_request_t *r,
    ngx_http_mcp_oauth_loc_conf_t *mlcf, ngx_http_mcp_oauth_ctx_t *ctx,
    ngx_http_mcp_oauth_msg_t *msg, ngx_http_mcp_oauth_headers_t *hdr,
    ngx_array_t *need);
static ngx_int_t ngx_http_mcp_oauth_message_method(ngx_http_request_t *r,
    ngx_http_mcp_oauth_ctx_t *ctx, ngx_http_mcp_oauth_msg_t *msg,
    ngx_str_t *id);
static ngx_int_t ngx_http_mcp_oauth_message_name(ngx_http_request_t *r,
    ngx_http_mcp_oauth_loc_conf_t *mlcf, ngx_http_mcp_oauth_ctx_t *ctx,
    ngx_http_mcp_oauth_msg_t *msg, ngx_str_t *id, ngx_str_t **name);
static ngx_int_t ngx_http_mcp_oauth_headers(ngx_http_request_t *r,
    ngx_http_mcp_oauth_headers_t *hdr);
static ngx_int_t ngx_http_mcp_oauth_scope_set(ngx_http_mcp_oauth_ctx_t *ctx);
static ngx_uint_t ngx_http_mcp_oauth_scope_held(ngx_http_mcp_oauth_ctx_t *ctx,
    ngx_str_t *scope);
static ngx_int_t ngx_http_mcp_oauth_add_scopes(ngx_array_t *need,
    ngx_array_t *scopes);
static ngx_int_t ngx_http_mcp_oauth_rpc_error(ngx_http_request_t *r,
    ngx_http_mcp_oauth_ctx_t *ctx, ngx_uint_t status, ngx_str_t *id,
    ngx_int_t code, const char *message);
static ngx_int_t ngx_http_mcp_oauth_forbidden(ngx_http_request_t *r,
    ngx_http_mcp_oauth_ctx_t *ctx, ngx_array_t *need);
static u_char *ngx_http_mcp_oauth_rpc_error_json(u_char *p, ngx_str_t *id,
    ngx_int_t code, ngx_str_t *message, ngx_str_t *scope);
static ngx_uint_t ngx_http_mcp_oauth_is(ngx_str_t *s, const char *text);
static ngx_uint_t ngx_http_mcp_oauth_ctl(ngx_str_t *s);
static ngx_uint_t ngx_http_mcp_oauth_batch_version(ngx_http_request_t *r);


/*
 * NGX_DECLINED: nothing to read; NGX_DONE: reading, the phases resume when
 * the body is there; an HTTP status otherwise.
 */

ngx_int_t
ngx_http_mcp_oauth_read_body(ngx_http_request_t *r,
    ngx_http_mcp_oauth_ctx_t *ctx)
{
    ngx_int_t                       rc;
    ngx_buf_t                      *header_in;
    ngx_http_mcp_oauth_loc_conf_t  *mlcf;

    if (r->method != NGX_HTTP_POST) {
        return NGX_DECLINED;
    }

    mlcf = ngx_http_get_module_loc_conf(r, ngx_http_mcp_oauth_module);

    if (ctx->body_read) {
        /* chunked bodies have their size only now */

        if (ngx_http_mcp_oauth_body_size(r) > (off_t) mlcf->max_body_size) {
            ngx_log_error(NGX_LOG_INFO, r->connection->log, 0,
                          "mcp_oauth: request body larger than "
                          "mcp_oauth_max_body_size");
            return NGX_HTTP_REQUEST_ENTITY_TOO_LARGE;
        }

        return NGX_DECLINED;
    }

    if (r->headers_in.content_length_n > (off_t) mlcf->max_body_size) {
        ngx_log_error(NGX_LOG_INFO, r->connection->log, 0,
                      "mcp_oauth: request body larger than "
                      "mcp_oauth_max_body_size");
        return NGX_HTTP_REQUEST_ENTITY_TOO_LARGE;
    }

    header_in = r->header_in;

    if (ngx_http_mcp_oauth_body_buffer(r) != NGX_OK) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    rc = ngx_http_read_client_request_body(r, ngx_http_mcp_oauth_body_handler);

    /*
     * nginx reads on into its own buffer structure over that memory; the
     * headers' buffer is the connection's again (keep-alive looks at it
     * after the request's pool is gone)
     */

    r->header_in = header_in;

    if (rc >= NGX_HTTP_SPECIAL_RESPONSE) {
        return rc;
    }

    ngx_http_finalize_request(r, NGX_DONE);
    return NGX_DONE;
}


/*
 * HTTP/1.x: a body that came partly with the headers is read by nginx into
 * a buffer of its own after that part, which stays in the headers' buffer:
 * two pieces, and the scanner would copy them into one.  When nginx would
 * keep the whole body in memory anyway, the part already here is moved into
 * a buffer that has room for the rest, and that buffer is made the request's
 * header_in: nginx then reads the rest right after it (its own way for a
 * body that fits after the headers), and the pieces are one run of memory.
 * The headers stay where they are: only the body's bytes move, and the
 * caller gives header_in back once nginx has taken the buffer.
 */

static ngx_int_t
ngx_http_mcp_oauth_body_buffer(ngx_http_request_t *r)
{
    off_t                      len;
    size_t                     preread;
    ngx_buf_t                 *b;
    ngx_http_core_loc_conf_t  *clcf;

    len = r->headers_in.content_length_n;
    preread = r->header_in->last - r->header_in->pos;

    if (r != r->main
        || r->http_version >= NGX_HTTP_VERSION_20
        || r->request_body
        || r->request_body_in_file_only
        || r->headers_in.chunked
        || preread == 0
        || len <= (off_t) preread
        || len <= r->header_in->end - r->header_in->pos)
    {
        return NGX_OK;
    }

    clcf = ngx_http_get_module_loc_conf(r, ngx_http_core_module);

    if (len > (off_t) clcf->client_body_buffer_size) {
        return NGX_OK;
    }

    b = ngx_create_temp_buf(r->pool, (size_t) len);
    if (b == NULL) {
        return NGX_ERROR;
    }

    b->last = ngx_cpymem(b->pos, r->header_in->pos, preread);
    r->header_in->pos = r->header_in->last;
    r->header_in = b;

    return NGX_OK;
}


static void
ngx_http_mcp_oauth_body_handler(ngx_http_request_t *r)
{
    ngx_http_mcp_oauth_ctx_t  *ctx;

    ctx = ngx_http_mcp_oauth_get_ctx(r);
    ctx->body_read = 1;

    /* the upstream gets the same body, even from a temporary file */

    r->preserve_body = 1;
    r->write_event_handler = ngx_http_core_run_phases;
    ngx_http_core_run_phases(r);
}


/*
 * Scans the body once into ctx->msgs (NULL when it is not JSON);
 * ctx->method and ctx->tool name the first request.
 * NGX_DECLINED: the body is larger than mcp_oauth_max_body_size.
 */

ngx_int_t
ngx_http_mcp_oauth_rpc_parse(ngx_http_request_t *r,
    ngx_http_mcp_oauth_ctx_t *ctx)
{
    char                           *err;
    ngx_str_t                       body;
    ngx_uint_t                      batch;
    ngx_array_t                    *msgs;
    ngx_http_mcp_oauth_msg_t       *msg;
    ngx_http_mcp_oauth_loc_conf_t  *mlcf;

    if (ctx->parsed) {
        return NGX_OK;
    }

    mlcf = ngx_http_get_module_loc_conf(r, ngx_http_mcp_oauth_module);

    if (ngx_http_mcp_oauth_body_size(r) > (off_t) mlcf->max_body_size) {
        return NGX_DECLINED;
    }

    if (ngx_http_mcp_oauth_body(r, &body) != NGX_OK) {
        return NGX_ERROR;
    }

    msgs = ngx_array_create(r->pool, 1, sizeof(ngx_http_mcp_oauth_msg_t));
    if (msgs == NULL) {
        return NGX_ERROR;
    }

    ctx->parsed = 1;

    if (ngx_http_mcp_oauth_json_scan(r->pool, body.data, body.len, msgs,
                                     &batch, &err)
        != NGX_OK)
    {
        ngx_log_debug1(NGX_LOG_DEBUG_HTTP, r->connection->log, 0,
                       "mcp_oauth: JSON-RPC body: %s", err);
        return NGX_OK;
    }

    ctx->msgs = msgs;
    ctx->batch = batch;

    if (msgs->nelts == 0) {
        return NGX_OK;
    }

    msg = msgs->elts;

    /* what the access check refuses names nothing (limit_req keys) */

    if (!msg->method_string || ngx_http_mcp_oauth_ctl(&msg->method)) {
        return NGX_OK;
    }

    ctx->method = msg->method;

    if ((ngx_http_mcp_oauth_is(&msg->method, "tools/call")
         || ngx_http_mcp_oauth_is(&msg->method, "prompts/get"))
        && msg->name_string && !ngx_http_mcp_oauth_ctl(&msg->name))
    {
        ctx->tool = msg->name;

    } else if (ngx_http_mcp_oauth_is(&msg->method, "resources/read")
               && msg->uri_string && !ngx_http_mcp_oauth_ctl(&msg->uri))
    {
        ctx->tool = msg->uri;
    }

    return NGX_OK;
}


/*
 * Checks the JSON-RPC message(s) against the scopes the token grants.
 * NGX_OK: allowed; anything else is the request's answer.
 */

ngx_int_t
ngx_http_mcp_oauth_jsonrpc(ngx_http_request_t *r,
    ngx_http_mcp_oauth_loc_conf_t *mlcf, ngx_http_mcp_oauth_ctx_t *ctx)
{
    ngx_int_t                      rc;
    ngx_uint_t                     i;
    ngx_array_t                   *need;
    ngx_http_mcp_oauth_msg_t      *msg;
    ngx_http_mcp_oauth_headers_t   hdr;

    if (r->method != NGX_HTTP_POST) {
        return NGX_OK;
    }

    rc = ngx_http_mcp_oauth_rpc_parse(r, ctx);

    if (rc == NGX_DECLINED) {
        return NGX_HTTP_REQUEST_ENTITY_TOO_LARGE;
    }

    if (rc != NGX_OK) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    if (ctx->msgs == NULL) {
        return ngx_http_mcp_oauth_rpc_error(r, ctx, NGX_HTTP_BAD_REQUEST, NULL,
                                            NGX_HTTP_MCP_OAUTH_PARSE_ERROR,
                                            "Parse error");
    }

    if (ngx_http_mcp_oauth_headers(r, &hdr) != NGX_OK) {
        return ngx_http_mcp_oauth_rpc_error(r, ctx, NGX_HTTP_BAD_REQUEST, NULL,
                                         NGX_HTTP_MCP_OAUTH_HEADER_MISMATCH,
                                         "Mcp-Method or Mcp-Name header is "
                                         "repeated or not decodable");
    }

    /* a batch (2025-03-26): every element is checked, one answer */

    if (ctx->msgs->nelts == 0
        || ctx->batch == NGX_HTTP_MCP_OAUTH_BATCH_TOO_LARGE)
    {
        return ngx_http_mcp_oauth_rpc_error(r, ctx, NGX_HTTP_BAD_REQUEST, NULL,
                                           NGX_HTTP_MCP_OAUTH_INVALID_REQUEST,
                                           "Invalid Request");
    }

    /*
     * MCP 2025-06-18 removed batches: a client that says it speaks that
     * revision or a later one sends none, and the JSON-RPC variables (which
     * name the first message) must not be bent by one.  Without the header
     * the client speaks 2025-03-26 (Streamable HTTP, "Protocol Version
     * Header"), which has them.
     */

    if (ctx->batch && !mlcf->batch) {
        return ngx_http_mcp_oauth_rpc_error(r, ctx, NGX_HTTP_BAD_REQUEST, NULL,
                                        NGX_HTTP_MCP_OAUTH_INVALID_REQUEST,
                                        "Invalid Request (batches are not "
                                        "accepted here)");
    }

    if (ctx->batch && !ngx_http_mcp_oauth_batch_version(r)) {
        return ngx_http_mcp_oauth_rpc_error(r, ctx, NGX_HTTP_BAD_REQUEST, NULL,
                                        NGX_HTTP_MCP_OAUTH_INVALID_REQUEST,
                                        "Invalid Request (no batches in "
                                        "this MCP-Protocol-Version)");
    }

    need = ngx_array_create(r->pool, 4, sizeof(ngx_str_t));
    if (need == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    if (mlcf->required_scopes
        && ngx_http_mcp_oauth_add_scopes(need, mlcf->required_scopes)
           != NGX_OK)
    {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    msg = ctx->msgs->elts;

    for (i = 0; i < ctx->msgs->nelts; i++) {
        rc = ngx_http_mcp_oauth_message(r, mlcf, ctx, &msg[i], &hdr, need);
        if (rc != NGX_OK) {
            return rc;
        }
    }

    if (!ngx_http_mcp_oauth_granted(ctx, need)) {
        return ngx_http_mcp_oauth_forbidden(r, ctx, need);
    }

    /* the answer is to be filtered: it must come readable */

    if (ctx->tools_list && ngx_http_mcp_oauth_filter_request(r) != NGX_OK) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    return NGX_OK;
}


static ngx_int_t
ngx_http_mcp_oauth_message(ngx_http_request_t *r,
    ngx_http_mcp_oauth_loc_conf_t *mlcf, ngx_http_mcp_oauth_ctx_t *ctx,
    ngx_http_mcp_oauth_msg_t *msg, ngx_http_mcp_oauth_headers_t *hdr,
    ngx_array_t *need)
{
    ngx_int_t   rc;
    ngx_str_t  *id, *name;

    id = msg->has_id ? &msg->id : NULL;

    if (!msg->object || !ngx_http_mcp_oauth_is(&msg->jsonrpc, "2.0")) {
        return ngx_http_mcp_oauth_rpc_error(r, ctx, NGX_HTTP_BAD_REQUEST, id,
                                           NGX_HTTP_MCP_OAUTH_INVALID_REQUEST,
                                           "Invalid Request");
    }

    if (!msg->has_method) {
        /* a response from the client (to sampling, elicitation...) */

        if ((msg->has_result || msg->has_error) && id != NULL
            && !hdr->has_method && !hdr->has_name)
        {
            return NGX_OK;
        }

        return ngx_http_mcp_oauth_rpc_error(r, ctx, NGX_HTTP_BAD_REQUEST, id,
                                   hdr->has_method
                                   ? NGX_HTTP_MCP_OAUTH_HEADER_MISMATCH
                                   : NGX_HTTP_MCP_OAUTH_INVALID_REQUEST,
                                   hdr->has_method ? "Header mismatch"
                                                   : "Invalid Request");
    }

    rc = ngx_http_mcp_oauth_message_method(r, ctx, msg, id);
    if (rc != NGX_OK) {
        return rc;
    }

    rc = ngx_http_mcp_oauth_message_name(r, mlcf, ctx, msg, id, &name);
    if (rc != NGX_OK) {
        return rc;
    }

    /* MCP 2026-07-28: routing headers must say what the body says */

    if ((hdr->has_method
         && (hdr->method.len != msg->method.len
             || ngx_memcmp(hdr->method.data, msg->method.data,
                           msg->method.len) != 0))
        || (hdr->has_name
            && (name == NULL || hdr->name.len != name->len
                || ngx_memcmp(hdr->name.data, name->data, name->len) != 0)))
    {
        return ngx_http_mcp_oauth_rpc_error(r, ctx, NGX_HTTP_BAD_REQUEST, id,
                                         NGX_HTTP_MCP_OAUTH_HEADER_MISMATCH,
                                         "Header mismatch");
    }

    if (mlcf->filter_tools && ngx_http_mcp_oauth_is(&msg->method, "tools/list"))
    {
        ctx->tools_list = 1;
    }

    if (ngx_http_mcp_oauth_need(mlcf, &msg->method, name, need) != NGX_OK) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    return NGX_OK;
}


/*
 * A request's method is a string without control characters, and so are
 * the name and the uri it carries.  NGX_OK, or the request's answer.
 */

static ngx_int_t
ngx_http_mcp_oauth_message_method(ngx_http_request_t *r,
    ngx_http_mcp_oauth_ctx_t *ctx, ngx_http_mcp_oauth_msg_t *msg,
    ngx_str_t *id)
{
    if (!msg->method_string) {
        return ngx_http_mcp_oauth_rpc_error(r, ctx, NGX_HTTP_BAD_REQUEST, id,
                                           NGX_HTTP_MCP_OAUTH_INVALID_REQUEST,
                                           "Invalid Request");
    }

    /*
     * A NUL or another control character would end or bend the string in
     * some servers ("tools/call\u0000" run as tools/call): refused in every
     * member the decision reads, whatever the method.
     */

    if (ngx_http_mcp_oauth_ctl(&msg->method)) {
        return ngx_http_mcp_oauth_rpc_error(r, ctx, NGX_HTTP_BAD_REQUEST, id,
                                        NGX_HTTP_MCP_OAUTH_INVALID_REQUEST,
                                        "Invalid Request (control character "
                                        "in method)");
    }

    if ((msg->name_string && ngx_http_mcp_oauth_ctl(&msg->name))
        || (msg->uri_string && ngx_http_mcp_oauth_ctl(&msg->uri)))
    {
        return ngx_http_mcp_oauth_rpc_error(r, ctx, NGX_HTTP_BAD_REQUEST, id,
                                            NGX_HTTP_MCP_OAUTH_INVALID_PARAMS,
                                            "Invalid params (control "
                                            "character in name or uri)");
    }

    return NGX_OK;
}


/*
 * tools/call and prompts/get name a tool or prompt, resources/read a URI:
 * *name, required for them; NULL for the other methods.  NGX_OK, or the
 * request's answer.
 */

static ngx_int_t
ngx_http_mcp_oauth_message_name(ngx_http_request_t *r,
    ngx_http_mcp_oauth_loc_conf_t *mlcf, ngx_http_mcp_oauth_ctx_t *ctx,
    ngx_http_mcp_oauth_msg_t *msg, ngx_str_t *id, ngx_str_t **name)
{
    char  *why;

    *name = NULL;

    if (ngx_http_mcp_oauth_is(&msg->method, "tools/call")
        || ngx_http_mcp_oauth_is(&msg->method, "prompts/get"))
    {
        *name = msg->name_string && msg->name.len ? &msg->name : NULL;

    } else if (ngx_http_mcp_oauth_is(&msg->method, "resources/read")) {
        *name = msg->uri_string && msg->uri.len ? &msg->uri : NULL;

        /* rules compare the URI as sent: one spelling per resource */

        if (*name && mlcf->resources) {
            why = ngx_http_mcp_oauth_uri_abnormal(*name);

            if (why) {
                ngx_log_error(NGX_LOG_INFO, r->connection->log, 0,
                              "mcp_oauth: resource URI \"%V\" is not in "
                              "normal form: %s", *name, why);

                return ngx_http_mcp_oauth_rpc_error(r, ctx,
                                          NGX_HTTP_BAD_REQUEST, id,
                                          NGX_HTTP_MCP_OAUTH_INVALID_PARAMS,
                                          "Invalid params (resource URI not "
                                          "in normal form)");
            }
        }

    } else {
        return NGX_OK;
    }

    if (*name == NULL) {
        return ngx_http_mcp_oauth_rpc_error(r, ctx, NGX_HTTP_BAD_REQUEST, id,
                                            NGX_HTTP_MCP_OAUTH_INVALID_PARAMS,
                                            "Invalid params");
    }

    return NGX_OK;
}


/* the scopes a call of "method" (on "name") needs besides the baseline */

ngx_int_t
ngx_http_mcp_oauth_need(ngx_http_mcp_oauth_loc_conf_t *mlcf,
    ngx_str_t *method, ngx_str_t *name, ngx_array_t *need)
{
    ngx_array_t                 *scopes;
    ngx_http_mcp_oauth_rules_t  *rules;

    if (mlcf->methods) {
        scopes = ngx_http_mcp_oauth_rules_find(mlcf->methods, method->data,
                                               method->len);
        if (scopes && ngx_http_mcp_oauth_add_scopes(need, scopes) != NGX_OK) {
            return NGX_ERROR;
        }
    }

    if (name == NULL) {
        return NGX_OK;
    }

    if (method->len == sizeof("tools/call") - 1
        && ngx_strncmp(method->data, "tools/call", method->len) == 0)
    {
        rules = mlcf->tools;

    } else if (method->len == sizeof("prompts/get") - 1
               && ngx_strncmp(method->data, "prompts/get", method->len) == 0)
    {
        rules = mlcf->prompts;

    } else {
        rules = mlcf->resources;
    }

    if (rules == NULL) {
        return NGX_OK;
    }

    scopes = ngx_http_mcp_oauth_rules_find(rules, name->data, name->len);

    if (scopes && ngx_http_mcp_oauth_add_scopes(need, scopes) != NGX_OK) {
        return NGX_ERROR;
    }

    return NGX_OK;
}


/*
 * Whether the token holds every scope of "need".  A token with a few scopes
 * is searched; one with many (a tools/list filter asks once per tool) gets a
 * hash set of its scopes on the first question, kept in the request's ctx
 * while the claims are the same.
 */

#define NGX_HTTP_MCP_OAUTH_SCOPES_SEARCHED  8

ngx_int_t
ngx_http_mcp_oauth_granted(ngx_http_mcp_oauth_ctx_t *ctx, ngx_array_t *need)
{
    ngx_str_t   *n;
    ngx_uint_t   i;

    n = need->elts;

    if (ctx->claims.scopes.nelts > NGX_HTTP_MCP_OAUTH_SCOPES_SEARCHED
        && (ctx->scope_set_of == ctx->claims.scopes.elts
            || ngx_http_mcp_oauth_scope_set(ctx) == NGX_OK))
    {
        for (i = 0; i < need->nelts; i++) {
            if (!ngx_http_mcp_oauth_scope_held(ctx, &n[i])) {
                return 0;
            }
        }

        return 1;
    }

    for (i = 0; i < need->nelts; i++) {
        if (ngx_http_mcp_oauth_str_find(&ctx->claims.scopes, &n[i])
            != NGX_OK)
        {
            return 0;
        }
    }

    return 1;
}


/* open addressing, at most half full: a power of two slots, NULL is free */

static ngx_int_t
ngx_http_mcp_oauth_scope_set(ngx_http_mcp_oauth_ctx_t *ctx)
{
    ngx_str_t    *s, **slot;
    ngx_uint_t    i, j, mask;

    for (mask = 15; mask < 2 * ctx->claims.scopes.nelts; mask = 2 * mask + 1) {
        /* void */
    }

    slot = ngx_pcalloc(ctx->request->pool, (mask + 1) * sizeof(ngx_str_t *));
    if (slot == NULL) {
        return NGX_ERROR;
    }

    s = ctx->claims.scopes.elts;

    for (i = 0; i < ctx->claims.scopes.nelts; i++) {
        j = ngx_hash_key(s[i].data, s[i].len) & mask;

        while (slot[j]) {
            j = (j + 1) & mask;
        }

        slot[j] = &s[i];
    }

    ctx->scope_set = slot;
    ctx->scope_mask = mask;
    ctx->scope_set_of = ctx->claims.scopes.elts;

    return NGX_OK;
}


static ngx_uint_t
ngx_http_mcp_oauth_scope_held(ngx_http_mcp_oauth_ctx_t *ctx, ngx_str_t *scope)
{
    ngx_str_t   **slot;
    ngx_uint_t    j;

    slot = ctx->scope_set;
    j = ngx_hash_key(scope->data, scope->len) & ctx->scope_mask;

    for ( /* void */ ; slot[j]; j = (j + 1) & ctx->scope_mask) {
        if (slot[j]->len == scope->len
            && ngx_memcmp(slot[j]->data, scope->data, scope->len) == 0)
        {
            return 1;
        }
    }

    return 0;
}


static ngx_int_t
ngx_http_mcp_oauth_add_scopes(ngx_array_t *need, ngx_array_t *scopes)
{
    ngx_str_t   *s;
    ngx_uint_t   i;

    s = scopes->elts;

    for (i = 0; i < scopes->nelts; i++) {
        if (ngx_http_mcp_oauth_str_add_once(need, &s[i]) != NGX_OK) {
            return NGX_ERROR;
        }
    }

    return NGX_OK;
}


static ngx_int_t
ngx_http_mcp_oauth_headers(ngx_http_request_t *r,
    ngx_http_mcp_oauth_headers_t *hdr)
{
    ngx_str_t         b64;
    ngx_table_elt_t  *h;

    ngx_memzero(hdr, sizeof(ngx_http_mcp_oauth_headers_t));

    /* one of each at most: two could each match a different parser */

    if (ngx_http_mcp_oauth_header_count(r, "Mcp-Method") > 1
        || ngx_http_mcp_oauth_header_count(r, "Mcp-Name") > 1)
    {
        return NGX_ERROR;
    }

    h = ngx_http_mcp_oauth_header_in(r, "Mcp-Method");
    if (h) {
        hdr->method = h->value;
        hdr->has_method = 1;
    }

    h = ngx_http_mcp_oauth_header_in(r, "Mcp-Name");
    if (h == NULL) {
        return NGX_OK;
    }

    hdr->has_name = 1;
    hdr->name = h->value;

    /* "=?base64?...?=" carries values that are not plain ASCII */

    if (h->value.len < sizeof("=?base64?" "?=") - 1
        || ngx_strncmp(h->value.data, "=?base64?", 9) != 0
        || ngx_strncmp(h->value.data + h->value.len - 2, "?=", 2) != 0)
    {
        return NGX_OK;
    }

    b64.data = h->value.data + 9;
    b64.len = h->value.len - 11;

    hdr->name.data = ngx_pnalloc(r->pool, ngx_base64_decoded_length(b64.len));
    if (hdr->name.data == NULL) {
        return NGX_ERROR;
    }

    return ngx_decode_base64(&hdr->name, &b64);
}


static ngx_int_t
ngx_http_mcp_oauth_rpc_error(ngx_http_request_t *r,
    ngx_http_mcp_oauth_ctx_t *ctx, ngx_uint_t status, ngx_str_t *id,
    ngx_int_t code, const char *message)
{
    ngx_str_t  body;

    ngx_log_error(NGX_LOG_INFO, r->connection->log, 0,
                  "mcp_oauth: JSON-RPC %s", message);

    ctx->error.data = (u_char *) message;
    ctx->error.len = ngx_strlen(message);

    body.data = ngx_pnalloc(r->pool, NGX_HTTP_MCP_OAUTH_ERROR_LEN
                                     + (id ? id->len : 0)
                                     + ctx->error.len);
    if (body.data == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    body.len = ngx_http_mcp_oauth_rpc_error_json(body.data, id, code,
                                                 &ctx->error, NULL)
               - body.data;

    return ngx_http_mcp_oauth_deny_answer(r, status, &body);
}


/*
 * 403 with the step-up challenge (MCP 2025-11-25): "scope" names every
 * scope the call (the whole batch) needs, the baseline included, so that
 * the client's next token is enough.
 */

static ngx_int_t
ngx_http_mcp_oauth_forbidden(ngx_http_request_t *r,
    ngx_http_mcp_oauth_ctx_t *ctx, ngx_array_t *need)
{
    u_char                    *p;
    size_t                     len;
    ngx_str_t                  scope, body;
    ngx_uint_t                 n, first;
    ngx_http_mcp_oauth_msg_t  *msg;

    static ngx_str_t  message = ngx_string("insufficient scope");

    if (ngx_http_mcp_oauth_str_join(r->pool, need, &scope) != NGX_OK) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    /* scope tokens hold no '"' or '\' (RFC 6749 §3.3): safe in JSON */

    msg = ctx->msgs->elts;
    len = 2;

    for (n = 0; n < ctx->msgs->nelts; n++) {
        len += NGX_HTTP_MCP_OAUTH_ERROR_LEN + message.len + scope.len
               + msg[n].id.len + 1;
    }

    body.data = ngx_pnalloc(r->pool, len);
    if (body.data == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    p = body.data;

    if (!ctx->batch) {
        p = ngx_http_mcp_oauth_rpc_error_json(p, msg->has_id ? &msg->id : NULL,
                                              NGX_HTTP_MCP_OAUTH_FORBIDDEN,
                                              &message, &scope);

    } else {
        /* a denied batch: an answer for each request in it */

        *p++ = '[';
        first = 1;

        for (n = 0; n < ctx->msgs->nelts; n++) {
            if (!msg[n].has_id || !msg[n].has_method) {
                continue;
            }

            if (!first) {
                *p++ = ',';
            }

            first = 0;
            p = ngx_http_mcp_oauth_rpc_error_json(p, &msg[n].id,
                                               NGX_HTTP_MCP_OAUTH_FORBIDDEN,
                                               &message, &scope);
        }

        *p++ = ']';
    }

    body.len = p - body.data;

    return ngx_http_mcp_oauth_deny(r, ctx, NGX_HTTP_FORBIDDEN,
                                   "insufficient_scope", "insufficient scope",
                                   &scope, &body);
}


/* JSON-RPC 2.0 §5: the id of the request as it was sent, null if unknown */

static u_char *
ngx_http_mcp_oauth_rpc_error_json(u_char *p, ngx_str_t *id, ngx_int_t code,
    ngx_str_t *message, ngx_str_t *scope)
{
    static ngx_str_t  null = ngx_string("null");

    p = ngx_sprintf(p, "{\"jsonrpc\":\"2.0\",\"id\":%V,\"error\":"
                    "{\"code\":%i,\"message\":\"%V\"", id ? id : &null,
                    code, message);

    if (scope) {
        p = ngx_sprintf(p, ",\"data\":{\"scope\":\"%V\"}", scope);
    }

    *p++ = '}';
    *p++ = '}';

    return p;
}


static ngx_uint_t
ngx_http_mcp_oauth_is(ngx_str_t *s, const char *text)
{
    size_t  len;

    len = ngx_strlen(text);

    return s->len == len && ngx_strncmp(s->data, text, len) == 0;
}


/* U+0000..U+001F or U+007F */

static ngx_uint_t
ngx_http_mcp_oauth_ctl(ngx_str_t *s)
{
    u_char  *p, *last;

    last = s->data + s->len;

    for (p = s->data; p < last; p++) {
        if (*p < 0x20 || *p == 0x7f) {
            return 1;
        }
    }

    return 0;
}


/*
 * Whether the request's MCP-Protocol-Version has batches: none given (the
 * client speaks 2025-03-26), or one date before 2025-06-18.  A repeated or
 * malformed header has none.
 */

static ngx_uint_t
ngx_http_mcp_oauth_batch_version(ngx_http_request_t *r)
{
    u_char           *p;
    ngx_uint_t        i;
    ngx_table_elt_t  *h;

    if (ngx_http_mcp_oauth_header_count(r, "MCP-Protocol-Version") > 1) {
        return 0;
    }

    h = ngx_http_mcp_oauth_header_in(r, "MCP-Protocol-Version");
    if (h == NULL) {
        return 1;
    }

    p = h->value.data;

    if (h->value.len != sizeof("YYYY-MM-DD") - 1) {
        return 0;
    }

    for (i = 0; i < h->value.len; i++) {
        if (i == 4 || i == 7) {
            if (p[i] != '-') {
                return 0;
            }

        } else if (p[i] < '0' || p[i] > '9') {
            return 0;
        }
    }

    return ngx_strncmp(p, "2025-06-18", h->value.len) < 0;
}
