
/*
 * Copyright (C) ngx_mcp_oauth_module authors
 *
 * The IAM modes (iam/): their directives and endpoints, for the module's
 * glue.  The authorization server's endpoints reach the bridge only
 * through the steps "mcp_oauth_iam_client" sets (ngx_http_mcp_oauth_bridge_t).
 */


#ifndef _NGX_HTTP_MCP_OAUTH_IAM_H_INCLUDED_
#define _NGX_HTTP_MCP_OAUTH_IAM_H_INCLUDED_


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>


char *ngx_http_mcp_oauth_iam_client(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf);
char *ngx_http_mcp_oauth_iam_metadata(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf);
ngx_int_t ngx_http_mcp_oauth_iam_callback_handler(ngx_http_request_t *r);
ngx_int_t ngx_http_mcp_oauth_iam_metadata_handler(ngx_http_request_t *r);


#endif /* _NGX_HTTP_MCP_OAUTH_IAM_H_INCLUDED_ */
