
/*
 * ngx_mcp_oauth_module: the built-in authorization server (OAuth 2.1 with
 * RFC 8414 metadata, RFC 7591 registration, RFC 7009 revocation and RFC 9068
 * access tokens).  Its configuration is per server.
 */

#ifndef _NGX_HTTP_MCP_OAUTH_AS_H_INCLUDED_
#define _NGX_HTTP_MCP_OAUTH_AS_H_INCLUDED_


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>
#include <openssl/evp.h>

#include "ngx_http_mcp_oauth_jwks.h"
#include "ngx_http_mcp_oauth_page.h"
#include "ngx_http_mcp_oauth_state.h"
#include "ngx_http_mcp_oauth_string.h"


/* client authentication at /token and /revoke (RFC 7591 §2) */
#define NGX_HTTP_MCP_OAUTH_AUTH_NONE    0
#define NGX_HTTP_MCP_OAUTH_AUTH_BASIC   1
#define NGX_HTTP_MCP_OAUTH_AUTH_POST    2
#define NGX_HTTP_MCP_OAUTH_AUTH_SECRET  3     /* static: basic or post */
#define NGX_HTTP_MCP_OAUTH_AUTH_JWT     4     /* private_key_jwt */

/* the longest state /authorize takes from a client */
#define NGX_HTTP_MCP_OAUTH_STATE_MAX    1024

/* the longest sealed client id (base64url, after "mcp_") */
#define NGX_HTTP_MCP_OAUTH_SEALED_MAX   8192

/* grant types a client may use */
#define NGX_HTTP_MCP_OAUTH_GRANT_CODE     0x01
#define NGX_HTTP_MCP_OAUTH_GRANT_REFRESH  0x02
#define NGX_HTTP_MCP_OAUTH_GRANT_CLIENT   0x04  /* mcp_oauth_client only */
#define NGX_HTTP_MCP_OAUTH_GRANT_DEVICE   0x08  /* RFC 8628 */

#define NGX_HTTP_MCP_OAUTH_DEVICE_GRANT                                      \
    "urn:ietf:params:oauth:grant-type:device_code"

/* the device flow's locations (srv_conf "device"): both, or it is off */
#define NGX_HTTP_MCP_OAUTH_DEVICE_ENDPOINT  0x01
#define NGX_HTTP_MCP_OAUTH_DEVICE_PAGE      0x02
#define NGX_HTTP_MCP_OAUTH_DEVICE_ON        0x03
#define NGX_HTTP_MCP_OAUTH_GRANT_USER     (NGX_HTTP_MCP_OAUTH_GRANT_CODE     \
                                           |NGX_HTTP_MCP_OAUTH_GRANT_REFRESH)


typedef struct {
    EVP_PKEY                     *pkey;
    const char                   *alg;         /* RS256, ES256... EdDSA */
    size_t                        ec_size;     /* r and s, ES* only */
    ngx_str_t                     kid;         /* RFC 7638 thumbprint */
    ngx_str_t                     header;      /* base64url JWS header */
    ngx_str_t                     jwks;        /* the public JWK Set */
    ngx_http_mcp_oauth_keyset_t  *keyset;      /* to verify our tokens */
    u_char                        seal[32];    /* client ids (AES-GCM) */
    u_char                        secret[32];  /* client secrets (HMAC) */
    u_char                        csrf[32];    /* consent form (HMAC) */
} ngx_http_mcp_oauth_signer_t;


/* the bridge's steps (below), which iam/ sets: as/ never calls iam/ */
typedef struct ngx_http_mcp_oauth_bridge_s  ngx_http_mcp_oauth_bridge_t;


typedef struct {
    ngx_str_t                     id;
    ngx_str_t                     secret;      /* empty: public client */
    ngx_str_t                     name;
    ngx_array_t                  *redirect_uris;  /* ngx_str_t */
    ngx_str_t                     scope;       /* asked when none is */
    ngx_uint_t                    auth;
    ngx_uint_t                    grants;
    ngx_http_mcp_oauth_keyset_t  *keys;        /* private_key_jwt: jwks= */
    ngx_str_t                     jwks;        /* or its registration's */
    ngx_str_t                     jwks_uri;    /* or fetched */
    unsigned                      document:1;  /* a metadata document */
    unsigned                      configured:1; /* mcp_oauth_client */
    unsigned                      limited:1;   /* scope is a limit */
} ngx_http_mcp_oauth_client_t;


typedef struct {
    ngx_http_mcp_oauth_issued_t   issued;      /* first: read by rs/ */
    ngx_http_mcp_oauth_signer_t  *signer;      /* set: the server is an AS */
    ngx_array_t                  *scopes;      /* scopes_supported */
    ngx_array_t                  *rule_scopes; /* named by the locations */
    ngx_array_t                  *resources;   /* of the locations */
    ngx_shm_zone_t               *zone;
    ngx_array_t                  *clients;     /* static, client_t */
    ngx_array_t                  *redirect_allow;  /* ngx_str_t patterns */
    ngx_array_t                  *idps;        /* trusted, idp_t */
    time_t                        code_ttl;
    time_t                        token_ttl;
    time_t                        refresh_ttl;
    time_t                        consent_ttl;
    time_t                        cimd_cache;
    ngx_str_t                     cimd_uri;
    ngx_flag_t                    cimd_private;

    /* the device authorization grant (RFC 8628, ..._device.c) */
    time_t                        device_ttl;
    time_t                        device_interval;
    ngx_int_t                     device_attempts;
    time_t                        device_window;
    ngx_uint_t                    device;      /* its locations seen */
    /* the consent page and the look of every page (..._look.c) */
    ngx_array_t                  *scope_info;  /* scope_info_t */
    ngx_flag_t                    consent_choice;
    ngx_array_t                  *no_choice;   /* redirect patterns */
    ngx_http_mcp_oauth_look_t     look;

    /* the bridge to an IAM (docs/iam-proxy.md) */
    const ngx_http_mcp_oauth_bridge_t  *bridge;   /* iam/: its steps */
    ngx_str_t                     iam_authorize;   /* its URL: bridge on */
    ngx_str_t                     iam_token_uri;   /* our location to it */
    ngx_str_t                     iam_client_id;
    ngx_str_t                     iam_client_secret;
    ngx_uint_t                    iam_auth;        /* BASIC or POST */
    ngx_str_t                     iam_scope;
    ngx_array_t                  *iam_params;      /* ngx_keyval_t */
    ngx_uint_t                    iam_pass;        /* its tokens to clients */
    ngx_flag_t                    need_zone;       /* iam_metadata caches */

    /* built after the configuration is read */
    ngx_str_t                     issuer;
    ngx_str_t                     base;        /* issuer without a "/" */
    ngx_str_t                     name;        /* issuer, or server_name */
    ngx_str_t                     scope;       /* scopes, space-joined */
    ngx_str_t                     metadata;    /* RFC 8414 document */
} ngx_http_mcp_oauth_srv_conf_t;


/* the parameters of the endpoints, by index */
enum {
    NGX_HTTP_MCP_OAUTH_P_RESPONSE_TYPE = 0,
    NGX_HTTP_MCP_OAUTH_P_CLIENT_ID,
    NGX_HTTP_MCP_OAUTH_P_REDIRECT_URI,
    NGX_HTTP_MCP_OAUTH_P_CODE_CHALLENGE,
    NGX_HTTP_MCP_OAUTH_P_CODE_CHALLENGE_METHOD,
    NGX_HTTP_MCP_OAUTH_P_STATE,
    NGX_HTTP_MCP_OAUTH_P_SCOPE,
    NGX_HTTP_MCP_OAUTH_P_RESOURCE,
    NGX_HTTP_MCP_OAUTH_P_DECISION,
    NGX_HTTP_MCP_OAUTH_P_CSRF_TOKEN,
    NGX_HTTP_MCP_OAUTH_P_GRANT_TYPE,
    NGX_HTTP_MCP_OAUTH_P_CODE,
    NGX_HTTP_MCP_OAUTH_P_CODE_VERIFIER,
    NGX_HTTP_MCP_OAUTH_P_REFRESH_TOKEN,
    NGX_HTTP_MCP_OAUTH_P_CLIENT_SECRET,
    NGX_HTTP_MCP_OAUTH_P_TOKEN,
    NGX_HTTP_MCP_OAUTH_P_TOKEN_TYPE_HINT,
    NGX_HTTP_MCP_OAUTH_P_ERROR,
    NGX_HTTP_MCP_OAUTH_P_DEVICE_CODE,
    NGX_HTTP_MCP_OAUTH_P_USER_CODE,
    NGX_HTTP_MCP_OAUTH_P_GRANTED_SCOPE,    /* repeated: the ticked ones */
    NGX_HTTP_MCP_OAUTH_P_ASSERTION,
    NGX_HTTP_MCP_OAUTH_P_CLIENT_ASSERTION,
    NGX_HTTP_MCP_OAUTH_P_CLIENT_ASSERTION_TYPE,
    NGX_HTTP_MCP_OAUTH_P_N
};


typedef struct {
    ngx_str_t                     v[NGX_HTTP_MCP_OAUTH_P_N];
    uint32_t                      present;     /* bit per parameter */
    uint32_t                      repeated;
} ngx_http_mcp_oauth_params_t;

/* their names, in the order of the enum */
extern ngx_str_t  ngx_http_mcp_oauth_param_names[];

#define ngx_http_mcp_oauth_has(p, i)  ((p)->present & (1u << (i)))


/* what a client is waiting for while its handler runs again */
typedef struct {
    ngx_http_mcp_oauth_params_t   params;
    ngx_http_mcp_oauth_client_t   client;
    ngx_str_t                     fetch_url;   /* a metadata document */
    ngx_http_mcp_oauth_fetch_t    cimd;        /* its document */
    ngx_http_mcp_oauth_fetch_t    keys;        /* an assertion's JWK Set */
    ngx_str_t                     bridge;      /* the bridge's record */
    u_char                        bridge_key[32];  /* its single use */
    time_t                        bridge_expires;
    ngx_uint_t                    err_status;  /* an error to answer */
    const char                   *err;
    const char                   *err_desc;
    ngx_http_mcp_oauth_fetch_t    iam;         /* the IAM's answer */
    ngx_http_mcp_oauth_state_run_t  state;     /* its state operations */
    ngx_str_t                     code;        /* the code it issues */
    ngx_str_t                     sid;         /* and its grant's id */
    const char                   *iam_error;   /* its error at /callback */
    unsigned                      body_read:1;
    unsigned                      parsed:1;
    unsigned                      bridged:1;
    unsigned                      authed:1;    /* the client, once */
} ngx_http_mcp_oauth_as_ctx_t;


/* an authorization being answered */
typedef struct {
    ngx_str_t                     redirect;    /* where the answer goes */
    ngx_str_t                     scope;       /* granted */
    ngx_str_t                    *resource;
    ngx_str_t                     user;
    ngx_str_t                     iam_at;      /* bridge "pass": the IAM's */
    ngx_str_t                     iam_rt;
    ngx_str_t                     iam_exp;
} ngx_http_mcp_oauth_authz_t;


/*
 * What the endpoints ask of the bridge to an IAM, set with its client
 * ("mcp_oauth_iam_client", iam/): the consent form's cookie (NGX_OK, else
 * NGX_DECLINED when there is none), the IAM's sign-in after the consent,
 * and the refresh of the IAM's token in mode "pass" (NGX_OK: "out" has the
 * new tokens; NGX_DECLINED: the IAM refused; NGX_AGAIN: the handler runs
 * again; else the answer was sent).
 */
struct ngx_http_mcp_oauth_bridge_s {
    ngx_int_t (*cookie)(ngx_http_request_t *r,
        ngx_http_mcp_oauth_srv_conf_t *ascf, ngx_str_t *value,
        ngx_uint_t create);
    ngx_int_t (*start)(ngx_http_request_t *r,
        ngx_http_mcp_oauth_srv_conf_t *ascf, ngx_http_mcp_oauth_as_ctx_t *ctx,
        ngx_http_mcp_oauth_authz_t *a);
    ngx_int_t (*refresh)(ngx_http_request_t *r,
        ngx_http_mcp_oauth_srv_conf_t *ascf, ngx_http_mcp_oauth_as_ctx_t *ctx,
        ngx_str_t *iam_rt, ngx_str_t *resource,
        ngx_http_mcp_oauth_authz_t *out);
};


/* the fields of a code's record */
enum {
    NGX_HTTP_MCP_OAUTH_C_CLIENT = 0,
    NGX_HTTP_MCP_OAUTH_C_REDIRECT,
    NGX_HTTP_MCP_OAUTH_C_CHALLENGE,
    NGX_HTTP_MCP_OAUTH_C_SCOPE,
    NGX_HTTP_MCP_OAUTH_C_RESOURCE,
    NGX_HTTP_MCP_OAUTH_C_SUB,
    NGX_HTTP_MCP_OAUTH_C_SID,
    NGX_HTTP_MCP_OAUTH_C_IAM_AT,
    NGX_HTTP_MCP_OAUTH_C_IAM_RT,
    NGX_HTTP_MCP_OAUTH_C_IAM_EXP,
    NGX_HTTP_MCP_OAUTH_C_N
};


extern ngx_module_t  ngx_http_mcp_oauth_module;


/* configuration (ngx_http_mcp_oauth_as.c) */
void *ngx_http_mcp_oauth_create_srv_conf(ngx_conf_t *cf);
char *ngx_http_mcp_oauth_merge_srv_conf(ngx_conf_t *cf, void *parent,
    void *child);
ngx_int_t ngx_http_mcp_oauth_as_init(ngx_conf_t *cf);
char *ngx_http_mcp_oauth_signing_key(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf);
char *ngx_http_mcp_oauth_zone(ngx_conf_t *cf, ngx_command_t *cmd, void *conf);
char *ngx_http_mcp_oauth_client(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf);
char *ngx_http_mcp_oauth_redirect_allow(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf);
char *ngx_http_mcp_oauth_as_handler(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf);
ngx_int_t ngx_http_mcp_oauth_as_collect(ngx_conf_t *cf, void *conf);

/* shared by the endpoints (ngx_http_mcp_oauth_as.c) */
ngx_http_mcp_oauth_as_ctx_t *ngx_http_mcp_oauth_as_ctx(ngx_http_request_t *r);
ngx_int_t ngx_http_mcp_oauth_as_body(ngx_http_request_t *r,
    ngx_http_mcp_oauth_as_ctx_t *ctx, size_t max);
ngx_int_t ngx_http_mcp_oauth_params_parse(ngx_pool_t *pool, ngx_str_t *in,
    ngx_http_mcp_oauth_params_t *p);
ngx_int_t ngx_http_mcp_oauth_as_send(ngx_http_request_t *r,
    ngx_uint_t status, const char *type, ngx_str_t *body);
ngx_int_t ngx_http_mcp_oauth_as_error(ngx_http_request_t *r,
    ngx_uint_t status, const char *error, const char *description);
ngx_int_t ngx_http_mcp_oauth_as_error_set(ngx_http_mcp_oauth_as_ctx_t *ctx,
    ngx_uint_t status, const char *error, const char *description);
ngx_int_t ngx_http_mcp_oauth_as_done(ngx_http_request_t *r, ngx_int_t rc);
ngx_int_t ngx_http_mcp_oauth_authorize_done(ngx_http_request_t *r,
    ngx_int_t rc);
ngx_int_t ngx_http_mcp_oauth_as_error_send(ngx_http_request_t *r,
    ngx_http_mcp_oauth_as_ctx_t *ctx);
ngx_int_t ngx_http_mcp_oauth_json_out(ngx_pool_t *pool, json_t *doc,
    ngx_str_t *out);
ngx_int_t ngx_http_mcp_oauth_scope_allowed(ngx_pool_t *pool,
    ngx_http_mcp_oauth_srv_conf_t *ascf, ngx_http_mcp_oauth_client_t *client,
    ngx_str_t *scope);
ngx_int_t ngx_http_mcp_oauth_scope_subset(ngx_str_t *scope, ngx_str_t *of);
ngx_int_t ngx_http_mcp_oauth_path_plain(u_char *p, u_char *last);
ngx_int_t ngx_http_mcp_oauth_scope_intersect(ngx_pool_t *pool,
    ngx_str_t *scope, ngx_str_t *of);
ngx_str_t *ngx_http_mcp_oauth_resource_find(ngx_http_mcp_oauth_srv_conf_t *ascf,
    ngx_str_t *resource);

/* the consent page's scopes and the pages' look (..._look.c) */
char *ngx_http_mcp_oauth_scope_description(ngx_conf_t *cf,
    ngx_command_t *cmd, void *conf);
char *ngx_http_mcp_oauth_consent_required(ngx_conf_t *cf,
    ngx_command_t *cmd, void *conf);
char *ngx_http_mcp_oauth_page_file(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf);
ngx_int_t ngx_http_mcp_oauth_look_merge(ngx_conf_t *cf,
    ngx_http_mcp_oauth_srv_conf_t *prev, ngx_http_mcp_oauth_srv_conf_t *conf);
ngx_int_t ngx_http_mcp_oauth_unlocks_collect(ngx_conf_t *cf,
    ngx_http_mcp_oauth_srv_conf_t *ascf, ngx_array_t **lists,
    ngx_str_t *resource, ngx_array_t *baseline);
ngx_uint_t ngx_http_mcp_oauth_consent_choice(
    ngx_http_mcp_oauth_srv_conf_t *ascf, ngx_str_t *redirect);

/* the signing key and what is derived from it (..._signer.c) */
ngx_http_mcp_oauth_signer_t *ngx_http_mcp_oauth_signer_load(ngx_conf_t *cf,
    ngx_str_t *path);
ngx_int_t ngx_http_mcp_oauth_sign(ngx_pool_t *pool,
    ngx_http_mcp_oauth_signer_t *s, ngx_str_t *payload, ngx_str_t *jws);
ngx_int_t ngx_http_mcp_oauth_random(ngx_pool_t *pool, size_t bytes,
    ngx_str_t *out);
ngx_int_t ngx_http_mcp_oauth_hmac(u_char *key, ngx_str_t *parts,
    ngx_uint_t n, u_char *mac);
ngx_int_t ngx_http_mcp_oauth_seal(ngx_pool_t *pool, u_char *key,
    ngx_str_t *plain, ngx_str_t *sealed);
ngx_int_t ngx_http_mcp_oauth_unseal(ngx_pool_t *pool, u_char *key,
    ngx_str_t *sealed, ngx_str_t *plain);
ngx_int_t ngx_http_mcp_oauth_seal_token(ngx_pool_t *pool,
    ngx_http_mcp_oauth_signer_t *signer, ngx_str_t *token, ngx_str_t *sealed);
ngx_int_t ngx_http_mcp_oauth_unseal_token(ngx_pool_t *pool,
    ngx_http_mcp_oauth_signer_t *signer, ngx_str_t *sealed, ngx_str_t *token);
void ngx_http_mcp_oauth_server_key(ngx_str_t *prefix,
    ngx_http_mcp_oauth_srv_conf_t *ascf, ngx_str_t *value, u_char *digest);

/* grants (ngx_http_mcp_oauth_token_endpoint.c) */
ngx_int_t ngx_http_mcp_oauth_revoke_grant(ngx_http_request_t *r,
    ngx_http_mcp_oauth_srv_conf_t *ascf, ngx_str_t *sid);

/* what clients send (..._as_parse.c) */
ngx_int_t ngx_http_mcp_oauth_client_json(ngx_pool_t *pool, json_t *doc,
    ngx_http_mcp_oauth_client_t *c);
ngx_int_t ngx_http_mcp_oauth_registration_parse(ngx_pool_t *pool,
    ngx_http_mcp_oauth_srv_conf_t *ascf, ngx_str_t *body,
    ngx_http_mcp_oauth_client_t *c, const char **error, const char **desc);
ngx_int_t ngx_http_mcp_oauth_document_parse(ngx_pool_t *pool, ngx_log_t *log,
    ngx_http_mcp_oauth_srv_conf_t *ascf, ngx_str_t *url, ngx_str_t *text,
    ngx_http_mcp_oauth_client_t *c);
ngx_int_t ngx_http_mcp_oauth_document_url(ngx_http_mcp_oauth_srv_conf_t *ascf,
    ngx_str_t *url);
ngx_int_t ngx_http_mcp_oauth_client_keys(ngx_pool_t *pool,
    ngx_http_mcp_oauth_srv_conf_t *ascf, json_t *doc,
    ngx_http_mcp_oauth_client_t *c, const char **desc);
const char *ngx_http_mcp_oauth_auth_name(ngx_uint_t auth);

/* clients (..._clients.c) */
ngx_int_t ngx_http_mcp_oauth_client_find(ngx_http_request_t *r,
    ngx_http_mcp_oauth_srv_conf_t *ascf, ngx_http_mcp_oauth_as_ctx_t *ctx,
    ngx_str_t *id);
ngx_int_t ngx_http_mcp_oauth_client_auth(ngx_http_request_t *r,
    ngx_http_mcp_oauth_srv_conf_t *ascf, ngx_http_mcp_oauth_as_ctx_t *ctx);
ngx_int_t ngx_http_mcp_oauth_redirect_check(
    ngx_http_mcp_oauth_srv_conf_t *ascf, ngx_str_t *uri);
ngx_int_t ngx_http_mcp_oauth_loopback(ngx_str_t *uri, ngx_str_t *rest);
ngx_int_t ngx_http_mcp_oauth_redirect_match(ngx_http_mcp_oauth_client_t *c,
    ngx_str_t *uri);
ngx_int_t ngx_http_mcp_oauth_redirect_patterns(ngx_array_t *patterns,
    ngx_str_t *uri);
ngx_int_t ngx_http_mcp_oauth_register_handler(ngx_http_request_t *r);
ngx_int_t ngx_http_mcp_oauth_as_add_variables(ngx_conf_t *cf);

/* the authorization endpoint (..._authorize.c) */
ngx_int_t ngx_http_mcp_oauth_authorize_handler(ngx_http_request_t *r);
ngx_int_t ngx_http_mcp_oauth_code(ngx_http_request_t *r,
    ngx_http_mcp_oauth_srv_conf_t *ascf, ngx_http_mcp_oauth_as_ctx_t *ctx,
    ngx_http_mcp_oauth_authz_t *a);
ngx_int_t ngx_http_mcp_oauth_redirect(ngx_http_request_t *r,
    ngx_http_mcp_oauth_srv_conf_t *ascf, ngx_http_mcp_oauth_as_ctx_t *ctx,
    ngx_str_t *uri, const char *name, ngx_str_t *value,
    const char *description);
ngx_int_t ngx_http_mcp_oauth_page(ngx_http_request_t *r, ngx_uint_t status,
    const char *title, const char *message);
ngx_int_t ngx_http_mcp_oauth_page_send(ngx_http_request_t *r,
    ngx_uint_t status, ngx_str_t *title, ngx_http_mcp_oauth_render_pt content,
    void *data);
ngx_int_t ngx_http_mcp_oauth_location(ngx_http_request_t *r, ngx_str_t *url);
ngx_int_t ngx_http_mcp_oauth_page_params(ngx_http_request_t *r,
    ngx_http_mcp_oauth_as_ctx_t *ctx);
ngx_int_t ngx_http_mcp_oauth_page_headers(ngx_http_request_t *r);
ngx_int_t ngx_http_mcp_oauth_authorize_user(ngx_http_request_t *r,
    ngx_http_mcp_oauth_srv_conf_t *ascf, ngx_http_mcp_oauth_authz_t *a,
    ngx_uint_t *remember);
ngx_int_t ngx_http_mcp_oauth_csrf_check(ngx_http_request_t *r,
    ngx_http_mcp_oauth_srv_conf_t *ascf, ngx_http_mcp_oauth_params_t *p,
    ngx_http_mcp_oauth_authz_t *a);
ngx_int_t ngx_http_mcp_oauth_consent_chosen(ngx_http_request_t *r,
    ngx_http_mcp_oauth_srv_conf_t *ascf, ngx_http_mcp_oauth_as_ctx_t *ctx,
    ngx_http_mcp_oauth_authz_t *a);
ngx_int_t ngx_http_mcp_oauth_consent_invalid(ngx_http_request_t *r);
ngx_int_t ngx_http_mcp_oauth_consent_page(ngx_http_request_t *r,
    ngx_http_mcp_oauth_srv_conf_t *ascf, ngx_http_mcp_oauth_as_ctx_t *ctx,
    ngx_http_mcp_oauth_authz_t *a);

/* the device authorization grant, RFC 8628 (..._device.c) */
ngx_int_t ngx_http_mcp_oauth_device_handler(ngx_http_request_t *r);
ngx_int_t ngx_http_mcp_oauth_device_verify_handler(ngx_http_request_t *r);
ngx_int_t ngx_http_mcp_oauth_device_poll(ngx_http_request_t *r,
    ngx_http_mcp_oauth_srv_conf_t *ascf, ngx_http_mcp_oauth_as_ctx_t *ctx,
    ngx_str_t *f);
char *ngx_http_mcp_oauth_device_attempts(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf);
ngx_int_t ngx_http_mcp_oauth_device_init(ngx_conf_t *cf,
    ngx_http_mcp_oauth_srv_conf_t *ascf);

/* the endpoints */
ngx_int_t ngx_http_mcp_oauth_asked(ngx_http_request_t *r,
    ngx_http_mcp_oauth_srv_conf_t *ascf, ngx_http_mcp_oauth_as_ctx_t *ctx,
    ngx_str_t *scope, ngx_str_t *resource);
ngx_int_t ngx_http_mcp_oauth_client_request(ngx_http_request_t *r,
    ngx_http_mcp_oauth_srv_conf_t *ascf, ngx_http_mcp_oauth_as_ctx_t **ctx);
ngx_int_t ngx_http_mcp_oauth_token_handler(ngx_http_request_t *r);
ngx_int_t ngx_http_mcp_oauth_revoke_handler(ngx_http_request_t *r);
ngx_int_t ngx_http_mcp_oauth_server_metadata_handler(ngx_http_request_t *r);
ngx_int_t ngx_http_mcp_oauth_jwks_publish_handler(ngx_http_request_t *r);


#endif /* _NGX_HTTP_MCP_OAUTH_AS_H_INCLUDED_ */
