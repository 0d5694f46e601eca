
/*
 * ngx_mcp_oauth_module: OAuth 2.1 protected resource for MCP servers.
 * Configuration, per-request state and the functions shared by the files
 * of the module.
 */

#ifndef _NGX_HTTP_MCP_OAUTH_MODULE_H_INCLUDED_
#define _NGX_HTTP_MCP_OAUTH_MODULE_H_INCLUDED_


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>
#include <jansson.h>

#include "ngx_http_mcp_oauth_jwks.h"
#include "ngx_http_mcp_oauth_jwt.h"
#include "ngx_http_mcp_oauth_rules.h"
#include "ngx_http_mcp_oauth_token_cache.h"
#include "ngx_http_mcp_oauth_json.h"
#include "ngx_http_mcp_oauth_metrics.h"


typedef struct ngx_http_mcp_oauth_jwks_remote_s  ngx_http_mcp_oauth_jwks_remote_t;
typedef struct ngx_http_mcp_oauth_filter_s  ngx_http_mcp_oauth_filter_t;


/* the body of a subrequest, collected by the filter module */
/* where a directive was read: errors found at merge time name it */
typedef struct {
    u_char                            *file;
    ngx_uint_t                         line;
} ngx_http_mcp_oauth_where_t;

#define ngx_http_mcp_oauth_where_set(w, cf)                                   \
    ((w)->file = (cf)->conf_file->file.name.data,                             \
     (w)->line = (cf)->conf_file->line)


typedef struct {
    u_char                            *data;
    size_t                             len;
    size_t                             max;
    unsigned                           too_large:1;
    unsigned                           state:1;   /* a state request */
} ngx_http_mcp_oauth_capture_t;


/* a subrequest's answer, collected for a handler that runs again */
typedef struct {
    ngx_uint_t                         status;      /* 502 when it failed */
    ngx_str_t                          body;
    unsigned                           pending:1;
    unsigned                           done:1;
} ngx_http_mcp_oauth_fetch_t;


typedef struct {
    ssize_t                            token_cache;      /* size, 0: off */
    ngx_shm_zone_t                    *cache;
    ngx_shm_zone_t                    *metrics;
    ngx_array_t                       *watched;  /* zones, for the metrics */
    ngx_flag_t                         used;   /* a location has mcp_oauth */
} ngx_http_mcp_oauth_main_conf_t;


typedef struct {
    ngx_flag_t                         enable;
    ngx_http_mcp_oauth_where_t         enable_at;   /* for late errors */
    ngx_http_mcp_oauth_where_t         metadata_at;
    ngx_str_t                          resource;
    ngx_str_t                          metadata_url;     /* RFC 9728 §3.1 */
    ngx_array_t                       *issuers;          /* ngx_str_t */
    ngx_http_mcp_oauth_keyset_t       *jwks;             /* from a file */
    ngx_http_mcp_oauth_jwks_remote_t  *jwks_remote;      /* by subrequest */
    time_t                             jwks_cache;
    time_t                             leeway;
    ngx_array_t                       *required_scopes;  /* ngx_str_t */
    ngx_str_t                          required_scope;   /* space-joined */
    ngx_flag_t                         pass_token;

    /* MCP-aware authorization: what each JSON-RPC call needs */
    ngx_array_t                       *tool_rules;       /* rule_t, raw */
    ngx_array_t                       *resource_rules;
    ngx_array_t                       *prompt_rules;
    ngx_array_t                       *method_rules;
    ngx_http_mcp_oauth_rules_t        *tools;
    ngx_http_mcp_oauth_rules_t        *resources;
    ngx_http_mcp_oauth_rules_t        *prompts;
    ngx_http_mcp_oauth_rules_t        *methods;
    ngx_flag_t                         jsonrpc;
    ngx_flag_t                         batch;     /* 2025-03-26 batches */
    size_t                             max_body_size;
    ngx_flag_t                         filter_tools;

    ngx_flag_t                         metadata;
    ngx_array_t                       *authorization_servers;  /* ngx_str_t */
    ngx_flag_t                         as_endpoint;
    ngx_http_complex_value_t          *user;     /* at /authorize */
    ngx_http_complex_value_t          *user_scope;  /* what it may give */
    void                              *iam_metadata;  /* pass-through */
    ngx_str_t                          resource_name;
    ngx_str_t                          resource_documentation;
    ngx_str_t                          metadata_json;
} ngx_http_mcp_oauth_loc_conf_t;


typedef struct {
    ngx_http_mcp_oauth_loc_conf_t     *conf;     /* what the state is for */
    ngx_http_request_t                *request;

    ngx_str_t                          token;    /* kept across redirects */
    ngx_http_mcp_oauth_jwt_t           jwt;
    ngx_http_mcp_oauth_claims_t        claims;   /* of the verified token */
    ngx_str_t                        **scope_set;  /* claims.scopes hashed */
    ngx_uint_t                         scope_mask;
    void                              *scope_set_of;  /* claims.scopes.elts */
    json_t                            *payload;  /* parsed for claim_* */
    unsigned                           payload_failed:1;
    ngx_str_t                          error;    /* why it was denied */
    ngx_table_elt_t                   *cors[2];  /* sent with a challenge */

    ngx_uint_t                         sleeps;   /* waiting for JWKS */

    ngx_array_t                       *msgs;     /* the JSON-RPC body */
    ngx_uint_t                         batch;
    ngx_str_t                          method;   /* first JSON-RPC method */
    ngx_str_t                          tool;     /* its tool, uri or prompt */
    ngx_http_mcp_oauth_filter_t       *filter;   /* tools/list answer */
    void                              *as;       /* an AS endpoint's */
    ngx_http_mcp_oauth_fetch_t         revocations;  /* the fleet's */
    const char                        *decision;     /* $mcp_oauth_decision */

    unsigned                           decoded:1;
    unsigned                           cache_counted:1;
    unsigned                           verified:1;
    unsigned                           fetching:1;
    unsigned                           fetched:1;
    unsigned                           body_read:1;
    unsigned                           parsed:1;
    unsigned                           tools_list:1;
} ngx_http_mcp_oauth_ctx_t;


extern ngx_module_t  ngx_http_mcp_oauth_module;
extern ngx_module_t  ngx_http_mcp_oauth_filter_module;


ngx_int_t ngx_http_mcp_oauth_access_handler(ngx_http_request_t *r);
ngx_int_t ngx_http_mcp_oauth_preaccess_handler(ngx_http_request_t *r);
ngx_http_mcp_oauth_ctx_t *ngx_http_mcp_oauth_get_ctx(ngx_http_request_t *r);
ngx_http_mcp_oauth_ctx_t *ngx_http_mcp_oauth_ctx(ngx_http_request_t *r);

/* Authorization header (RFC 6750 §2.1) */
ngx_int_t ngx_http_mcp_oauth_token_get(ngx_http_request_t *r,
    ngx_str_t *token, char **err);
ngx_int_t ngx_http_mcp_oauth_token_check(ngx_str_t *token);
ngx_int_t ngx_http_mcp_oauth_token_remove(ngx_http_request_t *r);
ngx_int_t ngx_http_mcp_oauth_header_remove(ngx_http_request_t *r,
    ngx_table_elt_t *elt);

/* WWW-Authenticate challenges (RFC 6750 §3, RFC 9728 §5.1) */
ngx_int_t ngx_http_mcp_oauth_deny(ngx_http_request_t *r,
    ngx_http_mcp_oauth_ctx_t *ctx, ngx_uint_t status, const char *error,
    const char *reason, ngx_str_t *scope, ngx_str_t *body);
ngx_table_elt_t *ngx_http_mcp_oauth_header_in(ngx_http_request_t *r,
    const char *name);
ngx_uint_t ngx_http_mcp_oauth_header_count(ngx_http_request_t *r,
    const char *name);
ngx_int_t ngx_http_mcp_oauth_resource_metadata_url(ngx_pool_t *pool,
    ngx_str_t *resource, ngx_str_t *url);
ngx_int_t ngx_http_mcp_oauth_deny_answer(ngx_http_request_t *r,
    ngx_uint_t status, ngx_str_t *body);
void ngx_http_mcp_oauth_decided(ngx_http_request_t *r, ngx_int_t rc);
ngx_int_t ngx_http_mcp_oauth_send_json(ngx_http_request_t *r,
    ngx_uint_t status, ngx_str_t *json);
ngx_int_t ngx_http_mcp_oauth_send_body(ngx_http_request_t *r,
    ngx_uint_t status, const char *type, ngx_str_t *body);
ngx_int_t ngx_http_mcp_oauth_add_header(ngx_http_request_t *r,
    char *key, char *value);
ngx_int_t ngx_http_mcp_oauth_preflight(ngx_http_request_t *r,
    char *methods);

/* a JWK Set file, read at configuration time */
ngx_http_mcp_oauth_keyset_t *ngx_http_mcp_oauth_jwks_load(ngx_conf_t *cf,
    ngx_str_t *directive, ngx_str_t *path, ngx_uint_t allow_oct);

/* remote JWKS */
ngx_http_mcp_oauth_jwks_remote_t *ngx_http_mcp_oauth_jwks_remote_add(
    ngx_conf_t *cf, ngx_str_t *uri);
ngx_int_t ngx_http_mcp_oauth_jwks_remote_generation(ngx_http_request_t *r,
    ngx_http_mcp_oauth_jwks_remote_t *rm, ngx_uint_t *generation);
ngx_uint_t ngx_http_mcp_oauth_jwks_remote_parsed(
    ngx_http_mcp_oauth_jwks_remote_t *rm);
ngx_int_t ngx_http_mcp_oauth_jwks_remote_keys(ngx_http_request_t *r,
    ngx_http_mcp_oauth_ctx_t *ctx, ngx_http_mcp_oauth_jwks_remote_t *rm,
    ngx_uint_t unknown_kid, ngx_http_mcp_oauth_keyset_t **keys);

ngx_int_t ngx_http_mcp_oauth_capture_body(ngx_http_request_t *r,
    ngx_http_mcp_oauth_capture_t *cap, ngx_chain_t *in);
ngx_http_mcp_oauth_capture_t *ngx_http_mcp_oauth_capture(
    ngx_http_request_t *sr);
ngx_http_request_t *ngx_http_mcp_oauth_capture_subrequest(
    ngx_http_request_t *r, ngx_str_t *uri, ngx_str_t *args,
    ngx_http_post_subrequest_t *ps, ngx_uint_t flags);
ngx_int_t ngx_http_mcp_oauth_filter_request(ngx_http_request_t *r);
ngx_http_mcp_oauth_capture_t *ngx_http_mcp_oauth_capture_get(
    ngx_http_request_t *sr);
ngx_http_request_t *ngx_http_mcp_oauth_fetch(ngx_http_request_t *r,
    ngx_str_t *uri, ngx_http_mcp_oauth_fetch_t *f);
ngx_http_request_t *ngx_http_mcp_oauth_fetch_start(ngx_http_request_t *r,
    ngx_str_t *uri, ngx_http_mcp_oauth_fetch_t *f);
ngx_int_t ngx_http_mcp_oauth_conf_file(ngx_conf_t *cf, ngx_str_t *directive,
    const char *what, ngx_str_t *name, size_t max, ngx_str_t *text);
ngx_int_t ngx_http_mcp_oauth_conf_local_uri(ngx_conf_t *cf,
    ngx_command_t *cmd, ngx_str_t *uri);
ngx_int_t ngx_http_mcp_oauth_fetch_post(ngx_http_request_t *sr,
    ngx_str_t *body);
ngx_int_t ngx_http_mcp_oauth_fetch_header(ngx_http_request_t *sr,
    char *name, ngx_str_t *value);

/* protected resource metadata (RFC 9728) */
void ngx_http_mcp_oauth_where_error(ngx_conf_t *cf,
    ngx_http_mcp_oauth_where_t *w, const char *fmt, ...);
char *ngx_http_mcp_oauth_metadata(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf);
ngx_int_t ngx_http_mcp_oauth_metadata_build(ngx_conf_t *cf,
    ngx_http_mcp_oauth_loc_conf_t *conf);

ngx_int_t ngx_http_mcp_oauth_add_variables(ngx_conf_t *cf);

/* JSON-RPC requests (MCP) in the body of POST requests */
ngx_int_t ngx_http_mcp_oauth_read_body(ngx_http_request_t *r,
    ngx_http_mcp_oauth_ctx_t *ctx);
off_t ngx_http_mcp_oauth_body_size(ngx_http_request_t *r);
ngx_int_t ngx_http_mcp_oauth_body(ngx_http_request_t *r, ngx_str_t *body);
ngx_int_t ngx_http_mcp_oauth_rpc_parse(ngx_http_request_t *r,
    ngx_http_mcp_oauth_ctx_t *ctx);
ngx_int_t ngx_http_mcp_oauth_jsonrpc(ngx_http_request_t *r,
    ngx_http_mcp_oauth_loc_conf_t *mlcf, ngx_http_mcp_oauth_ctx_t *ctx);
ngx_int_t ngx_http_mcp_oauth_need(ngx_http_mcp_oauth_loc_conf_t *mlcf,
    ngx_str_t *method, ngx_str_t *name, ngx_array_t *need);
ngx_int_t ngx_http_mcp_oauth_granted(ngx_http_mcp_oauth_ctx_t *ctx,
    ngx_array_t *need);




#endif /* _NGX_HTTP_MCP_OAUTH_MODULE_H_INCLUDED_ */
