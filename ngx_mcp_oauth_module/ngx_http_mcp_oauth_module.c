
/*
 * ngx_mcp_oauth_module: makes an MCP server behind nginx an OAuth 2.1
 * protected resource.  This file holds the module definition, the directives
 * and the configuration; the request work lives in the other files.
 */

#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include "ngx_http_mcp_oauth_module.h"
#include "ngx_http_mcp_oauth_as.h"
#include "ngx_http_mcp_oauth_assertion.h"
#include "ngx_http_mcp_oauth_iam.h"
#include "ngx_http_mcp_oauth_string.h"


static void *ngx_http_mcp_oauth_create_main_conf(ngx_conf_t *cf);
static char *ngx_http_mcp_oauth_token_cache(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf);
static void *ngx_http_mcp_oauth_create_loc_conf(ngx_conf_t *cf);
static char *ngx_http_mcp_oauth_merge_loc_conf(ngx_conf_t *cf, void *parent,
    void *child);
static ngx_int_t ngx_http_mcp_oauth_merge_rule_sets(ngx_conf_t *cf,
    ngx_http_mcp_oauth_loc_conf_t *prev, ngx_http_mcp_oauth_loc_conf_t *conf);
static ngx_int_t ngx_http_mcp_oauth_merge_derived(ngx_conf_t *cf,
    ngx_http_mcp_oauth_loc_conf_t *conf);
static ngx_int_t ngx_http_mcp_oauth_loc_check(ngx_conf_t *cf,
    ngx_http_mcp_oauth_loc_conf_t *conf);
static ngx_int_t ngx_http_mcp_oauth_preconfiguration(ngx_conf_t *cf);
static ngx_int_t ngx_http_mcp_oauth_init(ngx_conf_t *cf);
static ngx_int_t ngx_http_mcp_oauth_merge_rules(ngx_conf_t *cf,
    ngx_array_t **rules, ngx_array_t *prev_rules,
    ngx_http_mcp_oauth_rules_t **compiled,
    ngx_http_mcp_oauth_rules_t **prev_compiled, const char *directive);

static char *ngx_http_mcp_oauth_enable(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf);
static char *ngx_http_mcp_oauth_resource(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf);
static char *ngx_http_mcp_oauth_issuer(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf);
static char *ngx_http_mcp_oauth_jwks(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf);
static char *ngx_http_mcp_oauth_jwks_request(ngx_conf_t *cf,
    ngx_command_t *cmd, void *conf);
static char *ngx_http_mcp_oauth_scopes(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf);
static ngx_int_t ngx_http_mcp_oauth_check_url(ngx_str_t *url);


static ngx_conf_enum_t  ngx_http_mcp_oauth_iam_token_modes[] = {
    { ngx_string("mint"), 0 },
    { ngx_string("pass"), 1 },
    { ngx_null_string, 0 }
};


static ngx_command_t  ngx_http_mcp_oauth_commands[] = {

    { ngx_string("mcp_oauth_token_cache"),
      NGX_HTTP_MAIN_CONF|NGX_CONF_TAKE1,
      ngx_http_mcp_oauth_token_cache,
      NGX_HTTP_MAIN_CONF_OFFSET,
      0,
      NULL },

    { ngx_string("mcp_oauth"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_FLAG,
      ngx_http_mcp_oauth_enable,
      NGX_HTTP_LOC_CONF_OFFSET,
      offsetof(ngx_http_mcp_oauth_loc_conf_t, enable),
      NULL },

    { ngx_string("mcp_oauth_resource"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_TAKE1,
      ngx_http_mcp_oauth_resource,
      NGX_HTTP_LOC_CONF_OFFSET,
      0,
      NULL },

    { ngx_string("mcp_oauth_issuer"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_TAKE1,
      ngx_http_mcp_oauth_issuer,
      NGX_HTTP_LOC_CONF_OFFSET,
      0,
      NULL },

    { ngx_string("mcp_oauth_jwks"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_TAKE1,
      ngx_http_mcp_oauth_jwks,
      NGX_HTTP_LOC_CONF_OFFSET,
      0,
      NULL },

    { ngx_string("mcp_oauth_jwks_request"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_TAKE1,
      ngx_http_mcp_oauth_jwks_request,
      NGX_HTTP_LOC_CONF_OFFSET,
      0,
      NULL },

    { ngx_string("mcp_oauth_jwks_cache"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_TAKE1,
      ngx_conf_set_sec_slot,
      NGX_HTTP_LOC_CONF_OFFSET,
      offsetof(ngx_http_mcp_oauth_loc_conf_t, jwks_cache),
      NULL },

    { ngx_string("mcp_oauth_leeway"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_TAKE1,
      ngx_conf_set_sec_slot,
      NGX_HTTP_LOC_CONF_OFFSET,
      offsetof(ngx_http_mcp_oauth_loc_conf_t, leeway),
      NULL },

    { ngx_string("mcp_oauth_required_scope"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_1MORE,
      ngx_http_mcp_oauth_scopes,
      NGX_HTTP_LOC_CONF_OFFSET,
      offsetof(ngx_http_mcp_oauth_loc_conf_t, required_scopes),
      NULL },

    { ngx_string("mcp_oauth_pass_token"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_FLAG,
      ngx_conf_set_flag_slot,
      NGX_HTTP_LOC_CONF_OFFSET,
      offsetof(ngx_http_mcp_oauth_loc_conf_t, pass_token),
      NULL },

    { ngx_string("mcp_oauth_scope"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_2MORE,
      ngx_http_mcp_oauth_rule,
      NGX_HTTP_LOC_CONF_OFFSET,
      offsetof(ngx_http_mcp_oauth_loc_conf_t, tool_rules),
      NULL },

    { ngx_string("mcp_oauth_resource_scope"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_2MORE,
      ngx_http_mcp_oauth_rule,
      NGX_HTTP_LOC_CONF_OFFSET,
      offsetof(ngx_http_mcp_oauth_loc_conf_t, resource_rules),
      NULL },

    { ngx_string("mcp_oauth_prompt_scope"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_2MORE,
      ngx_http_mcp_oauth_rule,
      NGX_HTTP_LOC_CONF_OFFSET,
      offsetof(ngx_http_mcp_oauth_loc_conf_t, prompt_rules),
      NULL },

    { ngx_string("mcp_oauth_method_scope"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_2MORE,
      ngx_http_mcp_oauth_rule,
      NGX_HTTP_LOC_CONF_OFFSET,
      offsetof(ngx_http_mcp_oauth_loc_conf_t, method_rules),
      NULL },

    { ngx_string("mcp_oauth_jsonrpc"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_FLAG,
      ngx_conf_set_flag_slot,
      NGX_HTTP_LOC_CONF_OFFSET,
      offsetof(ngx_http_mcp_oauth_loc_conf_t, jsonrpc),
      NULL },

    { ngx_string("mcp_oauth_batch"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_FLAG,
      ngx_conf_set_flag_slot,
      NGX_HTTP_LOC_CONF_OFFSET,
      offsetof(ngx_http_mcp_oauth_loc_conf_t, batch),
      NULL },

    { ngx_string("mcp_oauth_max_body_size"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_TAKE1,
      ngx_conf_set_size_slot,
      NGX_HTTP_LOC_CONF_OFFSET,
      offsetof(ngx_http_mcp_oauth_loc_conf_t, max_body_size),
      NULL },

    { ngx_string("mcp_oauth_filter_tools"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_FLAG,
      ngx_conf_set_flag_slot,
      NGX_HTTP_LOC_CONF_OFFSET,
      offsetof(ngx_http_mcp_oauth_loc_conf_t, filter_tools),
      NULL },

    { ngx_string("mcp_oauth_metadata"),
      NGX_HTTP_LOC_CONF|NGX_CONF_NOARGS,
      ngx_http_mcp_oauth_metadata,
      NGX_HTTP_LOC_CONF_OFFSET,
      0,
      NULL },

    { ngx_string("mcp_oauth_authorization_server"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_TAKE1,
      ngx_conf_set_str_array_slot,
      NGX_HTTP_LOC_CONF_OFFSET,
      offsetof(ngx_http_mcp_oauth_loc_conf_t, authorization_servers),
      NULL },

    { ngx_string("mcp_oauth_resource_name"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_TAKE1,
      ngx_conf_set_str_slot,
      NGX_HTTP_LOC_CONF_OFFSET,
      offsetof(ngx_http_mcp_oauth_loc_conf_t, resource_name),
      NULL },

    { ngx_string("mcp_oauth_resource_documentation"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_TAKE1,
      ngx_conf_set_str_slot,
      NGX_HTTP_LOC_CONF_OFFSET,
      offsetof(ngx_http_mcp_oauth_loc_conf_t, resource_documentation),
      NULL },

    /* the built-in authorization server (docs/authorization-server.md) */

    { ngx_string("mcp_oauth_signing_key"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_CONF_TAKE1,
      ngx_http_mcp_oauth_signing_key,
      NGX_HTTP_SRV_CONF_OFFSET,
      0,
      NULL },

    { ngx_string("mcp_oauth_scopes_supported"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_CONF_1MORE,
      ngx_http_mcp_oauth_scopes,
      NGX_HTTP_SRV_CONF_OFFSET,
      offsetof(ngx_http_mcp_oauth_srv_conf_t, scopes),
      NULL },

    { ngx_string("mcp_oauth_zone"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_CONF_TAKE1,
      ngx_http_mcp_oauth_zone,
      NGX_HTTP_SRV_CONF_OFFSET,
      0,
      NULL },

    { ngx_string("mcp_oauth_metrics"),
      NGX_HTTP_LOC_CONF|NGX_CONF_NOARGS,
      ngx_http_mcp_oauth_metrics,
      NGX_HTTP_LOC_CONF_OFFSET,
      0,
      NULL },

    { ngx_string("mcp_oauth_state_request"),
      NGX_HTTP_SRV_CONF|NGX_CONF_TAKE123,
      ngx_http_mcp_oauth_state_request,
      NGX_HTTP_SRV_CONF_OFFSET,
      0,
      NULL },

    { ngx_string("mcp_oauth_client"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_CONF_2MORE,
      ngx_http_mcp_oauth_client,
      NGX_HTTP_SRV_CONF_OFFSET,
      0,
      NULL },

    { ngx_string("mcp_oauth_trusted_idp"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_CONF_2MORE,
      ngx_http_mcp_oauth_trusted_idp,
      NGX_HTTP_SRV_CONF_OFFSET,
      0,
      NULL },

    { ngx_string("mcp_oauth_redirect_uri_allow"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_CONF_1MORE,
      ngx_http_mcp_oauth_redirect_allow,
      NGX_HTTP_SRV_CONF_OFFSET,
      offsetof(ngx_http_mcp_oauth_srv_conf_t, redirect_allow),
      NULL },

    { ngx_string("mcp_oauth_code_ttl"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_CONF_TAKE1,
      ngx_conf_set_sec_slot,
      NGX_HTTP_SRV_CONF_OFFSET,
      offsetof(ngx_http_mcp_oauth_srv_conf_t, code_ttl),
      NULL },

    { ngx_string("mcp_oauth_token_ttl"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_CONF_TAKE1,
      ngx_conf_set_sec_slot,
      NGX_HTTP_SRV_CONF_OFFSET,
      offsetof(ngx_http_mcp_oauth_srv_conf_t, token_ttl),
      NULL },

    { ngx_string("mcp_oauth_refresh_ttl"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_CONF_TAKE1,
      ngx_conf_set_sec_slot,
      NGX_HTTP_SRV_CONF_OFFSET,
      offsetof(ngx_http_mcp_oauth_srv_conf_t, refresh_ttl),
      NULL },

    { ngx_string("mcp_oauth_consent_ttl"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_CONF_TAKE1,
      ngx_conf_set_sec_slot,
      NGX_HTTP_SRV_CONF_OFFSET,
      offsetof(ngx_http_mcp_oauth_srv_conf_t, consent_ttl),
      NULL },

    /* the device authorization grant (RFC 8628) */

    { ngx_string("mcp_oauth_device_code_ttl"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_CONF_TAKE1,
      ngx_conf_set_sec_slot,
      NGX_HTTP_SRV_CONF_OFFSET,
      offsetof(ngx_http_mcp_oauth_srv_conf_t, device_ttl),
      NULL },

    { ngx_string("mcp_oauth_device_interval"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_CONF_TAKE1,
      ngx_conf_set_sec_slot,
      NGX_HTTP_SRV_CONF_OFFSET,
      offsetof(ngx_http_mcp_oauth_srv_conf_t, device_interval),
      NULL },

    { ngx_string("mcp_oauth_device_attempts"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_CONF_TAKE12,
      ngx_http_mcp_oauth_device_attempts,
      NGX_HTTP_SRV_CONF_OFFSET,
      0,
      NULL },

    /* the consent page and the look of the pages (..._look.c) */

    { ngx_string("mcp_oauth_scope_description"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_CONF_TAKE2,
      ngx_http_mcp_oauth_scope_description,
      NGX_HTTP_SRV_CONF_OFFSET,
      0,
      NULL },

    { ngx_string("mcp_oauth_consent_required_scope"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_CONF_1MORE,
      ngx_http_mcp_oauth_consent_required,
      NGX_HTTP_SRV_CONF_OFFSET,
      0,
      NULL },

    { ngx_string("mcp_oauth_consent_choice"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_CONF_FLAG,
      ngx_conf_set_flag_slot,
      NGX_HTTP_SRV_CONF_OFFSET,
      offsetof(ngx_http_mcp_oauth_srv_conf_t, consent_choice),
      NULL },

    { ngx_string("mcp_oauth_consent_no_choice"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_CONF_1MORE,
      ngx_http_mcp_oauth_redirect_allow,
      NGX_HTTP_SRV_CONF_OFFSET,
      offsetof(ngx_http_mcp_oauth_srv_conf_t, no_choice),
      NULL },

    { ngx_string("mcp_oauth_page_template"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_CONF_TAKE1,
      ngx_http_mcp_oauth_page_file,
      NGX_HTTP_SRV_CONF_OFFSET,
      0,
      NULL },

    { ngx_string("mcp_oauth_page_stylesheet"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_CONF_TAKE1,
      ngx_http_mcp_oauth_page_file,
      NGX_HTTP_SRV_CONF_OFFSET,
      0,
      NULL },

    { ngx_string("mcp_oauth_page_logo"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_CONF_TAKE1,
      ngx_http_mcp_oauth_page_file,
      NGX_HTTP_SRV_CONF_OFFSET,
      0,
      NULL },

    { ngx_string("mcp_oauth_page_product"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_CONF_TAKE1,
      ngx_conf_set_str_slot,
      NGX_HTTP_SRV_CONF_OFFSET,
      offsetof(ngx_http_mcp_oauth_srv_conf_t, look.product),
      NULL },

    { ngx_string("mcp_oauth_client_metadata_request"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_CONF_TAKE1,
      ngx_conf_set_str_slot,
      NGX_HTTP_SRV_CONF_OFFSET,
      offsetof(ngx_http_mcp_oauth_srv_conf_t, cimd_uri),
      NULL },

    { ngx_string("mcp_oauth_client_metadata_cache"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_CONF_TAKE1,
      ngx_conf_set_sec_slot,
      NGX_HTTP_SRV_CONF_OFFSET,
      offsetof(ngx_http_mcp_oauth_srv_conf_t, cimd_cache),
      NULL },

    { ngx_string("mcp_oauth_client_metadata_private"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_CONF_FLAG,
      ngx_conf_set_flag_slot,
      NGX_HTTP_SRV_CONF_OFFSET,
      offsetof(ngx_http_mcp_oauth_srv_conf_t, cimd_private),
      NULL },

    { ngx_string("mcp_oauth_user"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_TAKE1,
      ngx_http_set_complex_value_slot,
      NGX_HTTP_LOC_CONF_OFFSET,
      offsetof(ngx_http_mcp_oauth_loc_conf_t, user),
      NULL },

    { ngx_string("mcp_oauth_user_scope"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_TAKE1,
      ngx_http_set_complex_value_slot,
      NGX_HTTP_LOC_CONF_OFFSET,
      offsetof(ngx_http_mcp_oauth_loc_conf_t, user_scope),
      NULL },

    /* in front of an IAM (docs/iam-proxy.md) */

    { ngx_string("mcp_oauth_iam_metadata"),
      NGX_HTTP_LOC_CONF|NGX_CONF_TAKE123,
      ngx_http_mcp_oauth_iam_metadata,
      NGX_HTTP_LOC_CONF_OFFSET,
      0,
      NULL },

    { ngx_string("mcp_oauth_iam_authorize_url"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_CONF_TAKE1,
      ngx_conf_set_str_slot,
      NGX_HTTP_SRV_CONF_OFFSET,
      offsetof(ngx_http_mcp_oauth_srv_conf_t, iam_authorize),
      NULL },

    { ngx_string("mcp_oauth_iam_token_request"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_CONF_TAKE1,
      ngx_conf_set_str_slot,
      NGX_HTTP_SRV_CONF_OFFSET,
      offsetof(ngx_http_mcp_oauth_srv_conf_t, iam_token_uri),
      NULL },

    { ngx_string("mcp_oauth_iam_client"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_CONF_TAKE123,
      ngx_http_mcp_oauth_iam_client,
      NGX_HTTP_SRV_CONF_OFFSET,
      0,
      NULL },

    { ngx_string("mcp_oauth_iam_scope"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_CONF_TAKE1,
      ngx_conf_set_str_slot,
      NGX_HTTP_SRV_CONF_OFFSET,
      offsetof(ngx_http_mcp_oauth_srv_conf_t, iam_scope),
      NULL },

    { ngx_string("mcp_oauth_iam_param"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_CONF_TAKE2,
      ngx_conf_set_keyval_slot,
      NGX_HTTP_SRV_CONF_OFFSET,
      offsetof(ngx_http_mcp_oauth_srv_conf_t, iam_params),
      NULL },

    { ngx_string("mcp_oauth_iam_token"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_CONF_TAKE1,
      ngx_conf_set_enum_slot,
      NGX_HTTP_SRV_CONF_OFFSET,
      offsetof(ngx_http_mcp_oauth_srv_conf_t, iam_pass),
      &ngx_http_mcp_oauth_iam_token_modes },

    { ngx_string("mcp_oauth_iam_callback"),
      NGX_HTTP_LOC_CONF|NGX_CONF_NOARGS,
      ngx_http_mcp_oauth_as_handler,
      NGX_HTTP_LOC_CONF_OFFSET,
      0,
      (void *) ngx_http_mcp_oauth_iam_callback_handler },

    { ngx_string("mcp_oauth_server_metadata"),
      NGX_HTTP_LOC_CONF|NGX_CONF_NOARGS,
      ngx_http_mcp_oauth_as_handler,
      NGX_HTTP_LOC_CONF_OFFSET,
      0,
      (void *) ngx_http_mcp_oauth_server_metadata_handler },

    { ngx_string("mcp_oauth_authorize"),
      NGX_HTTP_LOC_CONF|NGX_CONF_NOARGS,
      ngx_http_mcp_oauth_as_handler,
      NGX_HTTP_LOC_CONF_OFFSET,
      0,
      (void *) ngx_http_mcp_oauth_authorize_handler },

    { ngx_string("mcp_oauth_token"),
      NGX_HTTP_LOC_CONF|NGX_CONF_NOARGS,
      ngx_http_mcp_oauth_as_handler,
      NGX_HTTP_LOC_CONF_OFFSET,
      0,
      (void *) ngx_http_mcp_oauth_token_handler },

    { ngx_string("mcp_oauth_register"),
      NGX_HTTP_LOC_CONF|NGX_CONF_NOARGS,
      ngx_http_mcp_oauth_as_handler,
      NGX_HTTP_LOC_CONF_OFFSET,
      0,
      (void *) ngx_http_mcp_oauth_register_handler },

    { ngx_string("mcp_oauth_revoke"),
      NGX_HTTP_LOC_CONF|NGX_CONF_NOARGS,
      ngx_http_mcp_oauth_as_handler,
      NGX_HTTP_LOC_CONF_OFFSET,
      0,
      (void *) ngx_http_mcp_oauth_revoke_handler },

    { ngx_string("mcp_oauth_jwks_publish"),
      NGX_HTTP_LOC_CONF|NGX_CONF_NOARGS,
      ngx_http_mcp_oauth_as_handler,
      NGX_HTTP_LOC_CONF_OFFSET,
      0,
      (void *) ngx_http_mcp_oauth_jwks_publish_handler },

    { ngx_string("mcp_oauth_device_authorization"),
      NGX_HTTP_LOC_CONF|NGX_CONF_NOARGS,
      ngx_http_mcp_oauth_as_handler,
      NGX_HTTP_LOC_CONF_OFFSET,
      0,
      (void *) ngx_http_mcp_oauth_device_handler },

    { ngx_string("mcp_oauth_device_verify"),
      NGX_HTTP_LOC_CONF|NGX_CONF_NOARGS,
      ngx_http_mcp_oauth_as_handler,
      NGX_HTTP_LOC_CONF_OFFSET,
      0,
      (void *) ngx_http_mcp_oauth_device_verify_handler },

      ngx_null_command
};


static ngx_http_module_t  ngx_http_mcp_oauth_module_ctx = {
    ngx_http_mcp_oauth_preconfiguration,   /* preconfiguration */
    ngx_http_mcp_oauth_init,               /* postconfiguration */

    ngx_http_mcp_oauth_create_main_conf,   /* create main configuration */
    NULL,                                  /* init main configuration */

    ngx_http_mcp_oauth_create_srv_conf,    /* create server configuration */
    ngx_http_mcp_oauth_merge_srv_conf,     /* merge server configuration */

    ngx_http_mcp_oauth_create_loc_conf,    /* create location configuration */
    ngx_http_mcp_oauth_merge_loc_conf      /* merge location configuration */
};


ngx_module_t  ngx_http_mcp_oauth_module = {
    NGX_MODULE_V1,
    &ngx_http_mcp_oauth_module_ctx,        /* module context */
    ngx_http_mcp_oauth_commands,           /* module directives */
    NGX_HTTP_MODULE,                       /* module type */
    NULL,                                  /* init master */
    NULL,                                  /* init module */
    NULL,                                  /* init process */
    NULL,                                  /* init thread */
    NULL,                                  /* exit thread */
    NULL,                                  /* exit process */
    NULL,                                  /* exit master */
    NGX_MODULE_V1_PADDING
};


static void *
ngx_http_mcp_oauth_create_main_conf(ngx_conf_t *cf)
{
    ngx_http_mcp_oauth_main_conf_t  *mmcf;

    mmcf = ngx_pcalloc(cf->pool, sizeof(ngx_http_mcp_oauth_main_conf_t));
    if (mmcf == NULL) {
        return NULL;
    }

    mmcf->token_cache = NGX_CONF_UNSET;

    return mmcf;
}


static char *
ngx_http_mcp_oauth_token_cache(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    ngx_http_mcp_oauth_main_conf_t *mmcf = conf;

    ngx_str_t  *value;

    if (mmcf->token_cache != NGX_CONF_UNSET) {
        return "is duplicate";
    }

    value = cf->args->elts;

    if (ngx_strcmp(value[1].data, "off") == 0) {
        mmcf->token_cache = 0;
        return NGX_CONF_OK;
    }

    mmcf->token_cache = ngx_parse_size(&value[1]);

    if (mmcf->token_cache < (ssize_t) (8 * ngx_pagesize)) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "\"%V\" takes \"off\" or a size of at least %uz, "
                           "not \"%V\"", &cmd->name, 8 * ngx_pagesize,
                           &value[1]);
        return NGX_CONF_ERROR;
    }

    return NGX_CONF_OK;
}


static void *
ngx_http_mcp_oauth_create_loc_conf(ngx_conf_t *cf)
{
    ngx_http_mcp_oauth_loc_conf_t  *conf;

    conf = ngx_pcalloc(cf->pool, sizeof(ngx_http_mcp_oauth_loc_conf_t));
    if (conf == NULL) {
        return NULL;
    }

    /*
     * set by ngx_pcalloc():
     *
     *     conf->resource = { 0, NULL };
     *     conf->metadata_url = { 0, NULL };
     *     conf->required_scope = { 0, NULL };
     *     conf->resource_name = { 0, NULL };
     *     conf->resource_documentation = { 0, NULL };
     *     conf->metadata_json = { 0, NULL };
     *     conf->metadata = 0;
     *     conf->tools = NULL;
     *     conf->resources = NULL;
     *     conf->prompts = NULL;
     *     conf->methods = NULL;
     */

    conf->enable = NGX_CONF_UNSET;
    conf->issuers = NGX_CONF_UNSET_PTR;
    conf->jwks = NGX_CONF_UNSET_PTR;
    conf->jwks_remote = NGX_CONF_UNSET_PTR;
    conf->jwks_cache = NGX_CONF_UNSET;
    conf->leeway = NGX_CONF_UNSET;
    conf->required_scopes = NGX_CONF_UNSET_PTR;
    conf->pass_token = NGX_CONF_UNSET;
    conf->tool_rules = NGX_CONF_UNSET_PTR;
    conf->resource_rules = NGX_CONF_UNSET_PTR;
    conf->prompt_rules = NGX_CONF_UNSET_PTR;
    conf->method_rules = NGX_CONF_UNSET_PTR;
    conf->jsonrpc = NGX_CONF_UNSET;
    conf->batch = NGX_CONF_UNSET;
    conf->max_body_size = NGX_CONF_UNSET_SIZE;
    conf->filter_tools = NGX_CONF_UNSET;
    conf->user = NGX_CONF_UNSET_PTR;
    conf->authorization_servers = NGX_CONF_UNSET_PTR;
    conf->user_scope = NGX_CONF_UNSET_PTR;

    return conf;
}


static char *
ngx_http_mcp_oauth_merge_loc_conf(ngx_conf_t *cf, void *parent, void *child)
{
    ngx_http_mcp_oauth_loc_conf_t *prev = parent;
    ngx_http_mcp_oauth_loc_conf_t *conf = child;

    ngx_conf_merge_value(conf->enable, prev->enable, 0);

    if (conf->enable_at.file == NULL) {
        conf->enable_at = prev->enable_at;
    }
    ngx_conf_merge_str_value(conf->resource, prev->resource, "");
    ngx_conf_merge_ptr_value(conf->issuers, prev->issuers, NULL);
    ngx_conf_merge_ptr_value(conf->jwks, prev->jwks, NULL);
    ngx_conf_merge_ptr_value(conf->jwks_remote, prev->jwks_remote, NULL);
    ngx_conf_merge_sec_value(conf->jwks_cache, prev->jwks_cache, 600);
    ngx_conf_merge_sec_value(conf->leeway, prev->leeway, 60);
    ngx_conf_merge_ptr_value(conf->required_scopes, prev->required_scopes,
                             NULL);
    ngx_conf_merge_value(conf->pass_token, prev->pass_token, 0);
    ngx_conf_merge_value(conf->jsonrpc, prev->jsonrpc, 1);
    ngx_conf_merge_value(conf->batch, prev->batch, 1);
    ngx_conf_merge_size_value(conf->max_body_size, prev->max_body_size,
                              1024 * 1024);
    ngx_conf_merge_value(conf->filter_tools, prev->filter_tools, 0);
    ngx_conf_merge_ptr_value(conf->user, prev->user, NULL);
    ngx_conf_merge_ptr_value(conf->authorization_servers,
                             prev->authorization_servers, NULL);
    ngx_conf_merge_ptr_value(conf->user_scope, prev->user_scope, NULL);

    ngx_conf_merge_str_value(conf->resource_name, prev->resource_name, "");
    ngx_conf_merge_str_value(conf->resource_documentation,
                             prev->resource_documentation, "");

    if (ngx_http_mcp_oauth_merge_rule_sets(cf, prev, conf) != NGX_OK
        || ngx_http_mcp_oauth_merge_derived(cf, conf) != NGX_OK
        || ngx_http_mcp_oauth_as_collect(cf, conf) != NGX_OK
        || ngx_http_mcp_oauth_loc_check(cf, conf) != NGX_OK)
    {
        return NGX_CONF_ERROR;
    }

    return NGX_CONF_OK;
}


/* rules of a level replace the inherited ones, as proxy_set_header */

static ngx_int_t
ngx_http_mcp_oauth_merge_rule_sets(ngx_conf_t *cf,
    ngx_http_mcp_oauth_loc_conf_t *prev, ngx_http_mcp_oauth_loc_conf_t *conf)
{
    if (ngx_http_mcp_oauth_merge_rules(cf, &conf->tool_rules,
                                       prev->tool_rules, &conf->tools,
                                       &prev->tools, "mcp_oauth_scope")
        != NGX_OK
        || ngx_http_mcp_oauth_merge_rules(cf, &conf->resource_rules,
                                          prev->resource_rules,
                                          &conf->resources, &prev->resources,
                                          "mcp_oauth_resource_scope")
           != NGX_OK
        || ngx_http_mcp_oauth_merge_rules(cf, &conf->prompt_rules,
                                          prev->prompt_rules, &conf->prompts,
                                          &prev->prompts,
                                          "mcp_oauth_prompt_scope")
           != NGX_OK
        || ngx_http_mcp_oauth_merge_rules(cf, &conf->method_rules,
                                          prev->method_rules, &conf->methods,
                                          &prev->methods,
                                          "mcp_oauth_method_scope")
           != NGX_OK)
    {
        return NGX_ERROR;
    }

    return NGX_OK;
}


/*
 * What the merged values give: the metadata URL, the required scopes
 * joined, and the user of the authorization endpoint.
 */

static ngx_int_t
ngx_http_mcp_oauth_merge_derived(ngx_conf_t *cf,
    ngx_http_mcp_oauth_loc_conf_t *conf)
{
    ngx_http_compile_complex_value_t   ccv;

    static ngx_str_t  remote_user = ngx_string("$remote_user");

    if (conf->resource.len) {
        if (ngx_http_mcp_oauth_resource_metadata_url(cf->pool, &conf->resource,
                                                     &conf->metadata_url)
            != NGX_OK)
        {
            return NGX_ERROR;
        }
    }

    if (conf->required_scopes
        && ngx_http_mcp_oauth_str_join(cf->pool, conf->required_scopes,
                                       &conf->required_scope)
           != NGX_OK)
    {
        return NGX_ERROR;
    }

    if (conf->as_endpoint && conf->user == NULL) {
        /* auth_basic (or any module setting $remote_user) signs users in */

        conf->user = ngx_palloc(cf->pool, sizeof(ngx_http_complex_value_t));
        if (conf->user == NULL) {
            return NGX_ERROR;
        }

        ngx_memzero(&ccv, sizeof(ngx_http_compile_complex_value_t));
        ccv.cf = cf;
        ccv.value = &remote_user;
        ccv.complex_value = conf->user;

        if (ngx_http_compile_complex_value(&ccv) != NGX_OK) {
            return NGX_ERROR;
        }
    }

    return NGX_OK;
}


/* what "mcp_oauth on" and "mcp_oauth_metadata" need, once merged */

static ngx_int_t
ngx_http_mcp_oauth_loc_check(ngx_conf_t *cf,
    ngx_http_mcp_oauth_loc_conf_t *conf)
{
    ngx_http_mcp_oauth_main_conf_t  *mmcf;

    if (conf->enable) {
        mmcf = ngx_http_conf_get_module_main_conf(cf,
                                                  ngx_http_mcp_oauth_module);
        mmcf->used = 1;

        if (conf->resource.len == 0) {
            ngx_http_mcp_oauth_where_error(cf, &conf->enable_at,
                                           "\"mcp_oauth on\" requires "
                                           "\"mcp_oauth_resource\"");
            return NGX_ERROR;
        }

        if (conf->issuers == NULL) {
            ngx_http_mcp_oauth_where_error(cf, &conf->enable_at,
                                           "\"mcp_oauth on\" requires at "
                                           "least one \"mcp_oauth_issuer\"");
            return NGX_ERROR;
        }

        if (conf->jwks == NULL && conf->jwks_remote == NULL) {
            ngx_http_mcp_oauth_where_error(cf, &conf->enable_at,
                                           "\"mcp_oauth on\" requires "
                                           "\"mcp_oauth_jwks\" or "
                                           "\"mcp_oauth_jwks_request\"");
            return NGX_ERROR;
        }
    }

    if (conf->metadata) {
        if (conf->resource.len == 0) {
            ngx_http_mcp_oauth_where_error(cf, &conf->metadata_at,
                                           "\"mcp_oauth_metadata\" requires "
                                           "\"mcp_oauth_resource\"");
            return NGX_ERROR;
        }

        if (ngx_http_mcp_oauth_metadata_build(cf, conf) != NGX_OK) {
            return NGX_ERROR;
        }
    }

    return NGX_OK;
}


static ngx_int_t
ngx_http_mcp_oauth_merge_rules(ngx_conf_t *cf, ngx_array_t **rules,
    ngx_array_t *prev_rules, ngx_http_mcp_oauth_rules_t **compiled,
    ngx_http_mcp_oauth_rules_t **prev_compiled, const char *directive)
{
    if (*rules == NGX_CONF_UNSET_PTR) {
        if (prev_rules == NGX_CONF_UNSET_PTR || prev_rules == NULL) {
            *rules = NULL;
            *compiled = NULL;
            return NGX_OK;
        }

        /* rules at http level are never merged as a child: compile here */

        if (*prev_compiled == NULL) {
            *prev_compiled = ngx_http_mcp_oauth_rules_compile(cf, prev_rules,
                                                              directive);
            if (*prev_compiled == NULL) {
                return NGX_ERROR;
            }
        }

        *rules = prev_rules;
        *compiled = *prev_compiled;
        return NGX_OK;
    }

    *compiled = ngx_http_mcp_oauth_rules_compile(cf, *rules, directive);

    return *compiled ? NGX_OK : NGX_ERROR;
}


static ngx_int_t
ngx_http_mcp_oauth_init(ngx_conf_t *cf)
{
    ngx_http_handler_pt             *h;
    ngx_http_core_main_conf_t       *cmcf;
    ngx_http_mcp_oauth_main_conf_t  *mmcf;

    mmcf = ngx_http_conf_get_module_main_conf(cf, ngx_http_mcp_oauth_module);

    if (mmcf->token_cache == NGX_CONF_UNSET) {
        mmcf->token_cache = 4 * 1024 * 1024;
    }

    if (mmcf->used && mmcf->token_cache) {
        mmcf->cache = ngx_http_mcp_oauth_cache_zone(cf, mmcf->token_cache);
        if (mmcf->cache == NULL) {
            return NGX_ERROR;
        }
    }

    cmcf = ngx_http_conf_get_module_main_conf(cf, ngx_http_core_module);

    h = ngx_array_push(&cmcf->phases[NGX_HTTP_ACCESS_PHASE].handlers);
    if (h == NULL) {
        return NGX_ERROR;
    }

    *h = ngx_http_mcp_oauth_access_handler;

    /* pushed after limit_req's, so it runs before it (phase order) */

    h = ngx_array_push(&cmcf->phases[NGX_HTTP_PREACCESS_PHASE].handlers);
    if (h == NULL) {
        return NGX_ERROR;
    }

    *h = ngx_http_mcp_oauth_preaccess_handler;

    return ngx_http_mcp_oauth_as_init(cf);
}


static char *
ngx_http_mcp_oauth_resource(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    ngx_http_mcp_oauth_loc_conf_t *mlcf = conf;

    ngx_str_t  *value;

    if (mlcf->resource.data) {
        return "is duplicate";
    }

    value = cf->args->elts;

    /* RFC 8707 §2: an absolute URI without a fragment */

    if (ngx_http_mcp_oauth_check_url(&value[1]) != NGX_OK) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "\"%V\" must be an absolute http or https URL "
                           "without a fragment in \"%V\"", &value[1],
                           &cmd->name);
        return NGX_CONF_ERROR;
    }

    mlcf->resource = value[1];

    return NGX_CONF_OK;
}


static char *
ngx_http_mcp_oauth_issuer(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    ngx_http_mcp_oauth_loc_conf_t *mlcf = conf;

    ngx_str_t  *value, *s;

    value = cf->args->elts;

    /* RFC 8414 §2: https (http allowed for local setups), no query/fragment */

    if (ngx_http_mcp_oauth_check_url(&value[1]) != NGX_OK
        || ngx_strlchr(value[1].data, value[1].data + value[1].len, '?'))
    {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "\"%V\" must be an absolute http or https URL "
                           "without query or fragment in \"%V\"", &value[1],
                           &cmd->name);
        return NGX_CONF_ERROR;
    }

    if (mlcf->issuers == NGX_CONF_UNSET_PTR) {
        mlcf->issuers = ngx_array_create(cf->pool, 2, sizeof(ngx_str_t));
        if (mlcf->issuers == NULL) {
            return NGX_CONF_ERROR;
        }
    }

    s = ngx_array_push(mlcf->issuers);
    if (s == NULL) {
        return NGX_CONF_ERROR;
    }

    /* verbatim: "https://tenant.auth0.com/" keeps its slash */
    *s = value[1];

    return NGX_CONF_OK;
}


static char *
ngx_http_mcp_oauth_jwks(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    ngx_http_mcp_oauth_loc_conf_t *mlcf = conf;

    ngx_str_t  *value;

    if (mlcf->jwks != NGX_CONF_UNSET_PTR) {
        return "is duplicate";
    }

    value = cf->args->elts;

    /* an operator's own file may hold symmetric keys (RFC 7518 §3.2) */

    mlcf->jwks = ngx_http_mcp_oauth_jwks_load(cf, &cmd->name, &value[1], 1);

    return mlcf->jwks ? NGX_CONF_OK : NGX_CONF_ERROR;
}


/* a JWK Set file, read and parsed at configuration time */

ngx_http_mcp_oauth_keyset_t *
ngx_http_mcp_oauth_jwks_load(ngx_conf_t *cf, ngx_str_t *directive,
    ngx_str_t *path, ngx_uint_t allow_oct)
{
    char                         *err;
    ngx_str_t                     name, text;
    ngx_http_mcp_oauth_keyset_t  *ks;

    name = *path;

    if (ngx_http_mcp_oauth_conf_file(cf, directive, "JWKS", &name,
                                     1024 * 1024, &text)
        != NGX_OK)
    {
        return NULL;
    }

    ks = ngx_http_mcp_oauth_jwks_parse(cf->pool, cf->log, NGX_LOG_WARN,
                                       text.data, text.len, allow_oct, &err);
    if (ks == NULL) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "\"%V\": invalid JWKS file \"%V\": %s",
                           directive, &name, err);
    }

    return ks;
}


/*
 * A file an operator names, read at configuration time: its full name in
 * "name", its text (NUL-terminated) in "text"; errors name the directive.
 */

ngx_int_t
ngx_http_mcp_oauth_conf_file(ngx_conf_t *cf, ngx_str_t *directive,
    const char *what, ngx_str_t *name, size_t max, ngx_str_t *text)
{
    ssize_t     n;
    ngx_file_t  file;

    if (ngx_conf_full_name(cf->cycle, name, 1) != NGX_OK) {
        return NGX_ERROR;
    }

    ngx_memzero(&file, sizeof(ngx_file_t));
    file.name = *name;
    file.log = cf->log;

    file.fd = ngx_open_file(name->data, NGX_FILE_RDONLY, NGX_FILE_OPEN, 0);
    if (file.fd == NGX_INVALID_FILE) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, ngx_errno,
                           "\"%V\": cannot open %s file \"%V\"",
                           directive, what, name);
        return NGX_ERROR;
    }

    if (ngx_fd_info(file.fd, &file.info) == NGX_FILE_ERROR
        || ngx_file_size(&file.info) > (off_t) max)
    {
        ngx_close_file(file.fd);
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "\"%V\": %s file \"%V\" is unreadable or larger "
                           "than %uzk", directive, what, name, max / 1024);
        return NGX_ERROR;
    }

    text->data = ngx_pnalloc(cf->pool, ngx_file_size(&file.info) + 1);
    if (text->data == NULL) {
        ngx_close_file(file.fd);
        return NGX_ERROR;
    }

    n = ngx_read_file(&file, text->data, ngx_file_size(&file.info), 0);
    ngx_close_file(file.fd);

    if (n != ngx_file_size(&file.info)) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "\"%V\": cannot read %s file \"%V\"",
                           directive, what, name);
        return NGX_ERROR;
    }

    text->len = n;
    text->data[n] = '\0';

    return NGX_OK;
}


static char *
ngx_http_mcp_oauth_jwks_request(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf)
{
    ngx_http_mcp_oauth_loc_conf_t *mlcf = conf;

    ngx_str_t  *value;

    if (mlcf->jwks_remote != NGX_CONF_UNSET_PTR) {
        return "is duplicate";
    }

    value = cf->args->elts;

    if (ngx_http_mcp_oauth_conf_local_uri(cf, cmd, &value[1]) != NGX_OK) {
        return NGX_CONF_ERROR;
    }

    mlcf->jwks_remote = ngx_http_mcp_oauth_jwks_remote_add(cf, &value[1]);
    if (mlcf->jwks_remote == NULL) {
        return NGX_CONF_ERROR;
    }

    return NGX_CONF_OK;
}


static char *
ngx_http_mcp_oauth_scopes(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    char  *p = conf;

    ngx_str_t    *value, *s;
    ngx_uint_t    i;
    ngx_array_t **a;

    a = (ngx_array_t **) (p + cmd->offset);

    if (*a != NGX_CONF_UNSET_PTR) {
        return "is duplicate";
    }

    *a = ngx_array_create(cf->pool, cf->args->nelts - 1, sizeof(ngx_str_t));
    if (*a == NULL) {
        return NGX_CONF_ERROR;
    }

    value = cf->args->elts;

    for (i = 1; i < cf->args->nelts; i++) {

        if (ngx_http_mcp_oauth_scope_token(&value[i]) != NGX_OK) {
            ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                               "invalid scope \"%V\" in \"%V\"",
                               &value[i], &cmd->name);
            return NGX_CONF_ERROR;
        }

        s = ngx_array_push(*a);
        if (s == NULL) {
            return NGX_CONF_ERROR;
        }

        *s = value[i];
    }

    return NGX_CONF_OK;
}


static ngx_int_t
ngx_http_mcp_oauth_check_url(ngx_str_t *url)
{
    u_char  *p, *host, *last;

    last = url->data + url->len;

    if (url->len > 8 && ngx_strncmp(url->data, "https://", 8) == 0) {
        host = url->data + 8;

    } else if (url->len > 7 && ngx_strncmp(url->data, "http://", 7) == 0) {
        host = url->data + 7;

    } else {
        return NGX_ERROR;
    }

    if (host == last || *host == '/' || *host == '?') {
        return NGX_ERROR;
    }

    for (p = url->data; p < last; p++) {
        if (*p <= 0x20 || *p >= 0x7f || *p == '#' || *p == '"'
            || *p == '\\')
        {
            return NGX_ERROR;
        }
    }

    return NGX_OK;
}


/* the variables of both halves */

static ngx_int_t
ngx_http_mcp_oauth_preconfiguration(ngx_conf_t *cf)
{
    if (ngx_http_mcp_oauth_add_variables(cf) != NGX_OK
        || ngx_http_mcp_oauth_as_add_variables(cf) != NGX_OK)
    {
        return NGX_ERROR;
    }

    return NGX_OK;
}


/* "mcp_oauth on|off", remembering where, for the checks at merge time */

static char *
ngx_http_mcp_oauth_enable(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    ngx_http_mcp_oauth_loc_conf_t *mlcf = conf;

    char  *rv;

    rv = ngx_conf_set_flag_slot(cf, cmd, conf);

    if (rv == NGX_CONF_OK) {
        ngx_http_mcp_oauth_where_set(&mlcf->enable_at, cf);
    }

    return rv;
}


/*
 * A configuration error found at merge time, at the directive it is about
 * (as the ssl module reports a missing certificate): nginx would name the
 * end of the block being merged.
 */

void
ngx_http_mcp_oauth_where_error(ngx_conf_t *cf, ngx_http_mcp_oauth_where_t *w,
    const char *fmt, ...)
{
    u_char   msg[NGX_MAX_ERROR_STR], *p;
    va_list  args;

    va_start(args, fmt);
    p = ngx_vslprintf(msg, msg + sizeof(msg), fmt, args);
    va_end(args);

    if (w->file == NULL) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0, "%*s", p - msg, msg);
        return;
    }

    ngx_log_error(NGX_LOG_EMERG, cf->log, 0, "%*s in %s:%ui", p - msg, msg,
                  w->file, w->line);
}
