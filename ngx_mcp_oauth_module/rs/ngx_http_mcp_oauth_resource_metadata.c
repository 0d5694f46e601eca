
/*
 * ngx_mcp_oauth_module: OAuth 2.0 Protected Resource Metadata (RFC 9728),
 * built once from the location's configuration and served as is.
 */

#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>
#include <jansson.h>

#include "ngx_http_mcp_oauth_module.h"


static ngx_int_t ngx_http_mcp_oauth_metadata_handler(ngx_http_request_t *r);
static json_t *ngx_http_mcp_oauth_json_strings(ngx_array_t *a);


char *
ngx_http_mcp_oauth_metadata(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    ngx_http_mcp_oauth_loc_conf_t *mlcf = conf;

    ngx_http_core_loc_conf_t  *clcf;

    if (mlcf->metadata) {
        return "is duplicate";
    }

    mlcf->metadata = 1;
    ngx_http_mcp_oauth_where_set(&mlcf->metadata_at, cf);

    clcf = ngx_http_conf_get_module_loc_conf(cf, ngx_http_core_module);
    clcf->handler = ngx_http_mcp_oauth_metadata_handler;

    return NGX_CONF_OK;
}


/* RFC 9728 §2 */

ngx_int_t
ngx_http_mcp_oauth_metadata_build(ngx_conf_t *cf,
    ngx_http_mcp_oauth_loc_conf_t *conf)
{
    char        *s;
    json_t      *doc;
    ngx_uint_t   members;
    ngx_array_t *servers;

    /* in pass-through, a gateway serving the IAM's corrected metadata */
    servers = conf->authorization_servers ? conf->authorization_servers
                                          : conf->issuers;

    doc = json_object();
    if (doc == NULL) {
        return NGX_ERROR;
    }

    members = 2 + (servers != NULL) + (conf->required_scopes != NULL)
              + (conf->resource_name.len != 0)
              + (conf->resource_documentation.len != 0);

    json_object_set_new(doc, "resource",
                        json_stringn((char *) conf->resource.data,
                                     conf->resource.len));

    if (servers) {
        json_object_set_new(doc, "authorization_servers",
                            ngx_http_mcp_oauth_json_strings(servers));
    }

    /* only the baseline: MCP clients request every scope listed here */

    if (conf->required_scopes) {
        json_object_set_new(doc, "scopes_supported",
                            ngx_http_mcp_oauth_json_strings(
                                                  conf->required_scopes));
    }

    json_object_set_new(doc, "bearer_methods_supported",
                        json_pack("[s]", "header"));

    if (conf->resource_name.len) {
        json_object_set_new(doc, "resource_name",
                            json_stringn((char *) conf->resource_name.data,
                                         conf->resource_name.len));
    }

    if (conf->resource_documentation.len) {
        json_object_set_new(doc, "resource_documentation",
                            json_stringn(
                                (char *) conf->resource_documentation.data,
                                conf->resource_documentation.len));
    }

    /* a value that is not UTF-8 makes a member fail; none may be missing */

    s = (json_object_size(doc) == members)
        ? json_dumps(doc, JSON_COMPACT | JSON_PRESERVE_ORDER) : NULL;
    json_decref(doc);

    if (s == NULL) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "\"mcp_oauth_metadata\": cannot build the "
                           "document (invalid UTF-8 in a value?)");
        return NGX_ERROR;
    }

    conf->metadata_json.len = ngx_strlen(s);
    conf->metadata_json.data = ngx_pnalloc(cf->pool, conf->metadata_json.len);

    if (conf->metadata_json.data == NULL) {
        free(s);
        return NGX_ERROR;
    }

    ngx_memcpy(conf->metadata_json.data, s, conf->metadata_json.len);
    free(s);

    return NGX_OK;
}


static json_t *
ngx_http_mcp_oauth_json_strings(ngx_array_t *a)
{
    json_t      *arr;
    ngx_str_t   *s;
    ngx_uint_t   i;

    arr = json_array();
    s = a->elts;

    for (i = 0; arr && i < a->nelts; i++) {
        json_array_append_new(arr, json_stringn((char *) s[i].data, s[i].len));
    }

    return arr;
}


static ngx_int_t
ngx_http_mcp_oauth_metadata_handler(ngx_http_request_t *r)
{
    ngx_int_t                       rc;
    ngx_http_mcp_oauth_loc_conf_t  *mlcf;

    mlcf = ngx_http_get_module_loc_conf(r, ngx_http_mcp_oauth_module);

    if (r->method == NGX_HTTP_OPTIONS) {
        return ngx_http_mcp_oauth_preflight(r, "GET, HEAD, OPTIONS");
    }

    if (!(r->method & (NGX_HTTP_GET|NGX_HTTP_HEAD))) {
        if (ngx_http_mcp_oauth_add_header(r, "Allow", "GET, HEAD, OPTIONS")
            != NGX_OK)
        {
            return NGX_HTTP_INTERNAL_SERVER_ERROR;
        }

        return NGX_HTTP_NOT_ALLOWED;
    }

    rc = ngx_http_discard_request_body(r);
    if (rc != NGX_OK) {
        return rc;
    }

    if (ngx_http_mcp_oauth_add_header(r, "Access-Control-Allow-Origin", "*")
        != NGX_OK
        || ngx_http_mcp_oauth_add_header(r, "Cache-Control",
                                         "public, max-age=3600")
           != NGX_OK)
    {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    return ngx_http_mcp_oauth_send_json(r, NGX_HTTP_OK, &mlcf->metadata_json);
}

