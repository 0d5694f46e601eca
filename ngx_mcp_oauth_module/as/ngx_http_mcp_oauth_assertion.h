
/*
 * ngx_mcp_oauth_module: JWT assertions signed with someone else's keys
 * (RFC 7521, RFC 7523): the Identity Assertion JWT Authorization Grant of
 * a trusted identity provider (the jwt-bearer grant, Enterprise-Managed
 * Authorization) and a client's private_key_jwt authentication.
 */

#ifndef _NGX_HTTP_MCP_OAUTH_ASSERTION_H_INCLUDED_
#define _NGX_HTTP_MCP_OAUTH_ASSERTION_H_INCLUDED_


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include "ngx_http_mcp_oauth_as.h"


#define NGX_HTTP_MCP_OAUTH_JWT_BEARER                                         \
    "urn:ietf:params:oauth:grant-type:jwt-bearer"
#define NGX_HTTP_MCP_OAUTH_CLIENT_ASSERTION_TYPE                              \
    "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"

/* an assertion expires within this many seconds (and the leeway) */
#define NGX_HTTP_MCP_OAUTH_ASSERTION_LIFETIME  600


/* mcp_oauth_trusted_idp: an identity provider whose ID-JAGs we take */
typedef struct {
    ngx_str_t                     issuer;
    ngx_http_mcp_oauth_keyset_t  *keys;        /* jwks=PATH */
    ngx_str_t                     jwks_uri;    /* jwks_request=URI */
    time_t                        cache;
    ngx_array_t                  *clients;     /* ngx_str_t; NULL: any */
    ngx_str_t                     scope;       /* empty: the server's */
    ngx_str_t                     prefix;      /* of the subjects */
    ngx_flag_t                    refresh;
} ngx_http_mcp_oauth_idp_t;


/* where the keys of an assertion are: one of the three */
typedef struct {
    ngx_http_mcp_oauth_keyset_t  *keys;        /* read at configuration */
    ngx_str_t                     jwks;        /* a JWK Set's text */
    ngx_str_t                     fetch;       /* our location fetching it */
    ngx_str_t                     url;         /* what it fetches */
    ngx_str_t                     prefix;      /* of its key in the zone */
    time_t                        cache;
} ngx_http_mcp_oauth_keys_t;


typedef struct {
    ngx_http_mcp_oauth_jwt_t      jwt;
    ngx_http_mcp_oauth_claims_t   claims;
    ngx_str_t                     jti;
    const char                   *desc;        /* why it is refused */
} ngx_http_mcp_oauth_assertion_t;


/* the verifier (ngx_http_mcp_oauth_assertion.c) */
ngx_int_t ngx_http_mcp_oauth_assertion_parse(ngx_pool_t *pool,
    ngx_str_t *text, ngx_uint_t typ, ngx_http_mcp_oauth_assertion_t *a);
ngx_int_t ngx_http_mcp_oauth_assertion_keys(ngx_http_request_t *r,
    ngx_http_mcp_oauth_srv_conf_t *ascf, ngx_http_mcp_oauth_as_ctx_t *ctx,
    ngx_http_mcp_oauth_keys_t *src, ngx_http_mcp_oauth_keyset_t **keys);
ngx_int_t ngx_http_mcp_oauth_assertion_verify(ngx_http_request_t *r,
    ngx_http_mcp_oauth_assertion_t *a, ngx_http_mcp_oauth_keyset_t *keys,
    ngx_str_t *iss, ngx_str_t *aud, ngx_uint_t naud);
ngx_int_t ngx_http_mcp_oauth_assertion_use(ngx_http_request_t *r,
    ngx_http_mcp_oauth_as_ctx_t *ctx, ngx_http_mcp_oauth_assertion_t *a,
    const char *what);
ngx_int_t ngx_http_mcp_oauth_client_assertion(ngx_http_request_t *r,
    ngx_http_mcp_oauth_srv_conf_t *ascf, ngx_http_mcp_oauth_as_ctx_t *ctx);

/* trusted identity providers and their ID-JAGs (..._idp.c) */
char *ngx_http_mcp_oauth_trusted_idp(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf);
ngx_int_t ngx_http_mcp_oauth_idps_check(ngx_conf_t *cf,
    ngx_http_mcp_oauth_srv_conf_t *ascf);
ngx_int_t ngx_http_mcp_oauth_id_jag(ngx_http_request_t *r,
    ngx_http_mcp_oauth_srv_conf_t *ascf, ngx_http_mcp_oauth_as_ctx_t *ctx,
    ngx_http_mcp_oauth_authz_t *out, ngx_uint_t *refresh);


#endif /* _NGX_HTTP_MCP_OAUTH_ASSERTION_H_INCLUDED_ */
