
/*
 * ngx_mcp_oauth_module: variables that carry what the verified token says,
 * for proxy_set_header, log_format and limit_req_zone keys.
 */

#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>
#include <jansson.h>

#include "ngx_http_mcp_oauth_module.h"


#define NGX_HTTP_MCP_OAUTH_VAR_SUB        0
#define NGX_HTTP_MCP_OAUTH_VAR_CLIENT_ID  1
#define NGX_HTTP_MCP_OAUTH_VAR_SCOPE      2
#define NGX_HTTP_MCP_OAUTH_VAR_ERROR      3
#define NGX_HTTP_MCP_OAUTH_VAR_METHOD     4
#define NGX_HTTP_MCP_OAUTH_VAR_TOOL       5
#define NGX_HTTP_MCP_OAUTH_VAR_DECISION   6


static ngx_int_t ngx_http_mcp_oauth_variable(ngx_http_request_t *r,
    ngx_http_variable_value_t *v, uintptr_t data);
static ngx_int_t ngx_http_mcp_oauth_claim_variable(ngx_http_request_t *r,
    ngx_http_variable_value_t *v, uintptr_t data);
static ngx_int_t ngx_http_mcp_oauth_claim_value(ngx_http_request_t *r,
    ngx_http_variable_value_t *v, ngx_http_mcp_oauth_ctx_t *ctx,
    const char *name);
static ngx_int_t ngx_http_mcp_oauth_text_value(ngx_http_request_t *r,
    ngx_http_variable_value_t *v, ngx_str_t *s);
static ngx_int_t ngx_http_mcp_oauth_json_value(ngx_http_request_t *r,
    ngx_http_variable_value_t *v, json_t *claim);
static json_t *ngx_http_mcp_oauth_json_parse(ngx_http_request_t *r,
    ngx_str_t *s);
static void ngx_http_mcp_oauth_json_free(void *data);
static void ngx_http_mcp_oauth_str_value(ngx_http_variable_value_t *v,
    ngx_str_t *s);


static ngx_http_variable_t  ngx_http_mcp_oauth_vars[] = {

    { ngx_string("mcp_oauth_sub"), NULL, ngx_http_mcp_oauth_variable,
      NGX_HTTP_MCP_OAUTH_VAR_SUB, NGX_HTTP_VAR_NOCACHEABLE, 0 },

    { ngx_string("mcp_oauth_client_id"), NULL, ngx_http_mcp_oauth_variable,
      NGX_HTTP_MCP_OAUTH_VAR_CLIENT_ID, NGX_HTTP_VAR_NOCACHEABLE, 0 },

    { ngx_string("mcp_oauth_scope"), NULL, ngx_http_mcp_oauth_variable,
      NGX_HTTP_MCP_OAUTH_VAR_SCOPE, NGX_HTTP_VAR_NOCACHEABLE, 0 },

    { ngx_string("mcp_oauth_error"), NULL, ngx_http_mcp_oauth_variable,
      NGX_HTTP_MCP_OAUTH_VAR_ERROR, NGX_HTTP_VAR_NOCACHEABLE, 0 },

    { ngx_string("mcp_oauth_method"), NULL, ngx_http_mcp_oauth_variable,
      NGX_HTTP_MCP_OAUTH_VAR_METHOD, NGX_HTTP_VAR_NOCACHEABLE, 0 },

    { ngx_string("mcp_oauth_tool"), NULL, ngx_http_mcp_oauth_variable,
      NGX_HTTP_MCP_OAUTH_VAR_TOOL, NGX_HTTP_VAR_NOCACHEABLE, 0 },

    { ngx_string("mcp_oauth_decision"), NULL, ngx_http_mcp_oauth_variable,
      NGX_HTTP_MCP_OAUTH_VAR_DECISION, NGX_HTTP_VAR_NOCACHEABLE, 0 },

    { ngx_string("mcp_oauth_claim_"), NULL,
      ngx_http_mcp_oauth_claim_variable, 0,
      NGX_HTTP_VAR_NOCACHEABLE|NGX_HTTP_VAR_PREFIX, 0 },

      ngx_http_null_variable
};


ngx_int_t
ngx_http_mcp_oauth_add_variables(ngx_conf_t *cf)
{
    ngx_http_variable_t  *var, *v;

    for (v = ngx_http_mcp_oauth_vars; v->name.len; v++) {
        var = ngx_http_add_variable(cf, &v->name, v->flags);
        if (var == NULL) {
            return NGX_ERROR;
        }

        var->get_handler = v->get_handler;
        var->data = v->data;
    }

    return NGX_OK;
}


static ngx_int_t
ngx_http_mcp_oauth_variable(ngx_http_request_t *r,
    ngx_http_variable_value_t *v, uintptr_t data)
{
    ngx_http_mcp_oauth_ctx_t  *ctx;

    ctx = ngx_http_mcp_oauth_get_ctx(r);

    if (ctx == NULL) {
        v->not_found = 1;
        return NGX_OK;
    }

    switch (data) {

    case NGX_HTTP_MCP_OAUTH_VAR_SUB:
    case NGX_HTTP_MCP_OAUTH_VAR_CLIENT_ID:
    case NGX_HTTP_MCP_OAUTH_VAR_SCOPE:
        if (!ctx->verified) {
            v->not_found = 1;
            return NGX_OK;
        }

        return ngx_http_mcp_oauth_text_value(r, v,
                   data == NGX_HTTP_MCP_OAUTH_VAR_SUB ? &ctx->claims.sub
                   : data == NGX_HTTP_MCP_OAUTH_VAR_CLIENT_ID
                     ? &ctx->claims.client_id : &ctx->claims.scope);

    case NGX_HTTP_MCP_OAUTH_VAR_METHOD:
    case NGX_HTTP_MCP_OAUTH_VAR_TOOL:

        /* the body is read before limit_req asks, parsed when first needed */

        if (ctx->body_read
            && ngx_http_mcp_oauth_rpc_parse(r, ctx) == NGX_ERROR)
        {
            return NGX_ERROR;
        }

        return ngx_http_mcp_oauth_text_value(r, v,
                                      data == NGX_HTTP_MCP_OAUTH_VAR_METHOD
                                      ? &ctx->method : &ctx->tool);

    case NGX_HTTP_MCP_OAUTH_VAR_DECISION:
        if (ctx->decision == NULL) {
            v->not_found = 1;
            return NGX_OK;
        }

        v->data = (u_char *) ctx->decision;
        v->len = ngx_strlen(ctx->decision);
        v->valid = 1;
        v->no_cacheable = 1;
        v->not_found = 0;
        return NGX_OK;

    default: /* NGX_HTTP_MCP_OAUTH_VAR_ERROR */
        ngx_http_mcp_oauth_str_value(v, &ctx->error);
        return NGX_OK;
    }
}


static ngx_int_t
ngx_http_mcp_oauth_claim_variable(ngx_http_request_t *r,
    ngx_http_variable_value_t *v, uintptr_t data)
{
    ngx_str_t *full = (ngx_str_t *) data;

    u_char                    *name;
    size_t                     len;
    ngx_http_mcp_oauth_ctx_t  *ctx;

    ctx = ngx_http_mcp_oauth_get_ctx(r);

    if (ctx == NULL) {
        v->not_found = 1;
        return NGX_OK;
    }

    /* the claim name is the rest of the variable name, NUL-terminated */

    len = full->len - (sizeof("mcp_oauth_claim_") - 1);

    name = ngx_pnalloc(r->pool, len + 1);
    if (name == NULL) {
        return NGX_ERROR;
    }

    ngx_cpystrn(name, full->data + sizeof("mcp_oauth_claim_") - 1, len + 1);

    return ngx_http_mcp_oauth_claim_value(r, v, ctx, (char *) name);
}


/* strings as they are, anything else as compact JSON */

static ngx_int_t
ngx_http_mcp_oauth_claim_value(ngx_http_request_t *r,
    ngx_http_variable_value_t *v, ngx_http_mcp_oauth_ctx_t *ctx,
    const char *name)
{
    json_t     *claim;
    ngx_str_t   s;

    if (!ctx->verified) {
        v->not_found = 1;
        return NGX_OK;
    }

    /* the whole payload is parsed only for these, once per request */

    if (ctx->payload == NULL && !ctx->payload_failed) {
        ctx->payload = ngx_http_mcp_oauth_json_parse(r, &ctx->claims.payload);
        ctx->payload_failed = (ctx->payload == NULL);
    }

    claim = ctx->payload ? json_object_get(ctx->payload, name) : NULL;

    if (claim == NULL) {
        v->not_found = 1;
        return NGX_OK;
    }

    if (json_is_string(claim)) {
        s.data = (u_char *) json_string_value(claim);
        s.len = json_string_length(claim);

        return ngx_http_mcp_oauth_text_value(r, v, &s);
    }

    return ngx_http_mcp_oauth_json_value(r, v, claim);
}


/* control characters would split headers: such strings go out as JSON */

static ngx_int_t
ngx_http_mcp_oauth_text_value(ngx_http_request_t *r,
    ngx_http_variable_value_t *v, ngx_str_t *s)
{
    u_char     *p;
    json_t     *json;
    ngx_int_t   rc;

    for (p = s->data; p < s->data + s->len; p++) {
        if (*p < 0x20 || *p == 0x7f) {
            break;
        }
    }

    if (p == s->data + s->len) {
        ngx_http_mcp_oauth_str_value(v, s);
        return NGX_OK;
    }

    json = json_stringn((char *) s->data, s->len);
    if (json == NULL) {
        return NGX_ERROR;
    }

    rc = ngx_http_mcp_oauth_json_value(r, v, json);
    json_decref(json);

    return rc;
}


static ngx_int_t
ngx_http_mcp_oauth_json_value(ngx_http_request_t *r,
    ngx_http_variable_value_t *v, json_t *claim)
{
    char       *dump;
    ngx_str_t   s;

    dump = json_dumps(claim, JSON_COMPACT | JSON_ENCODE_ANY);
    if (dump == NULL) {
        return NGX_ERROR;
    }

    s.len = ngx_strlen(dump);
    s.data = ngx_pnalloc(r->pool, s.len);

    if (s.data == NULL) {
        free(dump);
        return NGX_ERROR;
    }

    ngx_memcpy(s.data, dump, s.len);
    free(dump);

    ngx_http_mcp_oauth_str_value(v, &s);

    return NGX_OK;
}


static json_t *
ngx_http_mcp_oauth_json_parse(ngx_http_request_t *r, ngx_str_t *s)
{
    json_t              *json;
    json_error_t         jerr;
    ngx_pool_cleanup_t  *cln;

    cln = ngx_pool_cleanup_add(r->pool, 0);
    if (cln == NULL) {
        return NULL;
    }

    json = json_loadb((char *) s->data, s->len, 0, &jerr);
    if (json == NULL) {
        /* valid JSON the verifier took, but jansson cannot hold it */
        ngx_log_error(NGX_LOG_WARN, r->connection->log, 0,
                      "mcp_oauth: the token's claims cannot be read for "
                      "$mcp_oauth_claim_* (%s, at byte %d): they are empty "
                      "for this request", jerr.text, jerr.position);
        return NULL;
    }

    cln->handler = ngx_http_mcp_oauth_json_free;
    cln->data = json;

    return json;
}


static void
ngx_http_mcp_oauth_json_free(void *data)
{
    json_decref(data);
}


static void
ngx_http_mcp_oauth_str_value(ngx_http_variable_value_t *v, ngx_str_t *s)
{
    v->len = s->len;
    v->data = s->data;
    v->valid = 1;
    v->no_cacheable = 0;
    v->not_found = 0;
}
