
/*
 * ngx_mcp_oauth_module: the answers to requests that are not let through.
 * Exactly one WWW-Authenticate header (RFC 6750 §3) that points MCP clients
 * at the protected resource metadata (RFC 9728 §5.1), and a small JSON body.
 */

#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include "ngx_http_mcp_oauth_module.h"


static ngx_int_t ngx_http_mcp_oauth_challenge(ngx_http_request_t *r,
    ngx_http_mcp_oauth_ctx_t *ctx, ngx_http_mcp_oauth_loc_conf_t *mlcf,
    ngx_uint_t status, const char *error, ngx_str_t *scope, ngx_str_t *value);
static ngx_int_t ngx_http_mcp_oauth_deny_json(ngx_http_request_t *r,
    ngx_http_mcp_oauth_ctx_t *ctx, const char *error, ngx_str_t *json);
static ngx_int_t ngx_http_mcp_oauth_set_header(ngx_http_request_t *r,
    ngx_str_t *key, ngx_str_t *value, ngx_table_elt_t **out);


/* RFC 9728 §3.1: the well-known path goes between host and path */

ngx_int_t
ngx_http_mcp_oauth_resource_metadata_url(ngx_pool_t *pool,
    ngx_str_t *resource, ngx_str_t *url)
{
    u_char     *p, *host, *path, *last;
    ngx_str_t   wk = ngx_string("/.well-known/oauth-protected-resource");

    last = resource->data + resource->len;
    host = ngx_strlchr(resource->data, last, ':') + sizeof("://") - 1;

    for (path = host; path < last; path++) {
        if (*path == '/' || *path == '?') {
            break;
        }
    }

    /* a terminating slash right after the host is removed */

    if (path + 1 == last && *path == '/') {
        last = path;
    }

    url->len = resource->len + wk.len;
    url->data = ngx_pnalloc(pool, url->len);
    if (url->data == NULL) {
        return NGX_ERROR;
    }

    p = ngx_cpymem(url->data, resource->data, path - resource->data);
    p = ngx_cpymem(p, wk.data, wk.len);
    p = ngx_cpymem(p, path, last - path);

    url->len = p - url->data;

    return NGX_OK;
}


ngx_int_t
ngx_http_mcp_oauth_deny(ngx_http_request_t *r, ngx_http_mcp_oauth_ctx_t *ctx,
    ngx_uint_t status, const char *error, const char *reason,
    ngx_str_t *scope, ngx_str_t *body)
{
    ngx_str_t                       value, json;
    ngx_http_core_loc_conf_t       *clcf;
    ngx_http_mcp_oauth_loc_conf_t  *mlcf;

    static ngx_str_t  www = ngx_string("WWW-Authenticate");
    static ngx_str_t  expose = ngx_string("Access-Control-Expose-Headers");
    static ngx_str_t  origin = ngx_string("Access-Control-Allow-Origin");
    static ngx_str_t  expose_value = ngx_string("WWW-Authenticate");
    static ngx_str_t  star = ngx_string("*");

    mlcf = ngx_http_get_module_loc_conf(r, ngx_http_mcp_oauth_module);

    ngx_log_error(NGX_LOG_INFO, r->connection->log, 0, "mcp_oauth: %s",
                  reason);

    ctx->error.data = (u_char *) reason;
    ctx->error.len = ngx_strlen(reason);

    if (ngx_http_mcp_oauth_challenge(r, ctx, mlcf, status, error, scope,
                                     &value)
        != NGX_OK)
    {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    /*
     * Exactly one challenge, also when an error_page leads to a protected
     * location and this runs again for the same response.
     */

    if (ngx_http_mcp_oauth_set_header(r, &www, &value,
                                      &r->headers_out.www_authenticate)
        != NGX_OK
        || ngx_http_mcp_oauth_set_header(r, &expose, &expose_value,
                                         &ctx->cors[0])
           != NGX_OK
        || ngx_http_mcp_oauth_set_header(r, &origin, &star, &ctx->cors[1])
           != NGX_OK)
    {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    /* with "satisfy any" another module may still let the request in */

    if (!mlcf->pass_token && ngx_http_mcp_oauth_token_remove(r) != NGX_OK) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    clcf = ngx_http_get_module_loc_conf(r, ngx_http_core_module);

    /* "satisfy any" decides with the other access modules what to answer */

    if (clcf->satisfy != NGX_HTTP_SATISFY_ALL) {
        return status;
    }

    if (body == NULL) {
        if (ngx_http_mcp_oauth_deny_json(r, ctx, error, &json) != NGX_OK) {
            return NGX_HTTP_INTERNAL_SERVER_ERROR;
        }

        body = &json;
    }

    return ngx_http_mcp_oauth_answer_refusal(r, status, body);
}


/*
 * The WWW-Authenticate value (RFC 6750 §3): an error and its description
 * for 401, the scope needed for 403, and the metadata URL always.
 */

static ngx_int_t
ngx_http_mcp_oauth_challenge(ngx_http_request_t *r,
    ngx_http_mcp_oauth_ctx_t *ctx, ngx_http_mcp_oauth_loc_conf_t *mlcf,
    ngx_uint_t status, const char *error, ngx_str_t *scope, ngx_str_t *value)
{
    u_char  *p;
    size_t   len;

    len = sizeof("Bearer error=\"\", error_description=\"\", scope=\"\", "
                 "resource_metadata=\"\"") - 1
          + (error ? ngx_strlen(error) : 0) + ctx->error.len
          + (scope ? scope->len : 0) + mlcf->metadata_url.len;

    p = ngx_pnalloc(r->pool, len);
    if (p == NULL) {
        return NGX_ERROR;
    }

    value->data = p;

    if (error == NULL) {
        p = ngx_sprintf(p, "Bearer resource_metadata=\"%V\"",
                        &mlcf->metadata_url);

        if (scope && scope->len) {
            p = ngx_sprintf(p, ", scope=\"%V\"", scope);
        }

    } else if (status == NGX_HTTP_UNAUTHORIZED) {
        p = ngx_sprintf(p, "Bearer error=\"%s\", error_description=\"%V\", "
                        "resource_metadata=\"%V\"",
                        error, &ctx->error, &mlcf->metadata_url);

    } else {
        p = ngx_sprintf(p, "Bearer error=\"%s\", scope=\"%V\", "
                        "resource_metadata=\"%V\"",
                        error, scope, &mlcf->metadata_url);
    }

    value->len = p - value->data;

    return NGX_OK;
}


/* the body of a denial that brings none: the error and its description */

static ngx_int_t
ngx_http_mcp_oauth_deny_json(ngx_http_request_t *r,
    ngx_http_mcp_oauth_ctx_t *ctx, const char *error, ngx_str_t *json)
{
    json->len = sizeof("{\"error\":\"\",\"error_description\":\"\"}") - 1
                + (error ? ngx_strlen(error) : sizeof("unauthorized") - 1)
                + ctx->error.len;
    json->data = ngx_pnalloc(r->pool, json->len);
    if (json->data == NULL) {
        return NGX_ERROR;
    }

    ngx_sprintf(json->data,
                "{\"error\":\"%s\",\"error_description\":\"%V\"}",
                error ? error : "unauthorized", &ctx->error);

    return NGX_OK;
}


static ngx_int_t
ngx_http_mcp_oauth_set_header(ngx_http_request_t *r, ngx_str_t *key,
    ngx_str_t *value, ngx_table_elt_t **out)
{
    ngx_table_elt_t  *h;

    if (*out) {
        (*out)->hash = 1;
        (*out)->value = *value;
        return NGX_OK;
    }

    h = ngx_list_push(&r->headers_out.headers);
    if (h == NULL) {
        return NGX_ERROR;
    }

    h->hash = 1;
    h->key = *key;
    h->value = *value;
#if (nginx_version >= 1023000)
    h->next = NULL;
#endif

    *out = h;

    return NGX_OK;
}
