
/*
 * ngx_mcp_oauth_module: JWS compact tokens (RFC 7515), verified with keys
 * from a JWK Set, and the access-token claims checks of RFC 9068 §4.
 */

#ifndef _NGX_HTTP_MCP_OAUTH_JWT_H_INCLUDED_
#define _NGX_HTTP_MCP_OAUTH_JWT_H_INCLUDED_


#include <ngx_config.h>
#include <ngx_core.h>
#include <jansson.h>

#include "ngx_http_mcp_oauth_jwks.h"


/* larger tokens are refused before any decoding */
#define NGX_HTTP_MCP_OAUTH_TOKEN_MAX  16384


typedef struct {
    ngx_str_t                     signing_input;  /* header "." payload */
    ngx_str_t                     signature;      /* decoded */
    json_t                       *header;
    json_t                       *payload;
    ngx_uint_t                    alg;
    ngx_str_t                     kid;
    unsigned                      has_kid:1;
} ngx_http_mcp_oauth_jwt_t;


typedef struct {
    ngx_array_t                  *issuers;        /* ngx_str_t */
    ngx_str_t                     audience;
    time_t                        leeway;
    time_t                        now;
} ngx_http_mcp_oauth_claims_conf_t;


/* splits and decodes; the JSON documents are released with the pool */
ngx_int_t ngx_http_mcp_oauth_jwt_parse(ngx_pool_t *pool, ngx_str_t *token,
    ngx_http_mcp_oauth_jwt_t *jwt, char **err);

/*
 * NGX_OK: verified; NGX_DECLINED: no key for the token's kid (or, without
 * kid, for its alg); NGX_ERROR: alg not allowed for the key, or a bad
 * signature.
 */
ngx_int_t ngx_http_mcp_oauth_jwt_verify(ngx_http_mcp_oauth_jwt_t *jwt,
    ngx_http_mcp_oauth_keyset_t **sets, ngx_uint_t nsets, char **err);

ngx_int_t ngx_http_mcp_oauth_jwt_check_claims(ngx_http_mcp_oauth_jwt_t *jwt,
    ngx_http_mcp_oauth_claims_conf_t *cc, char **err);

/* granted scopes from "scope" (RFC 9068 §2.2.3) or "scp", as ngx_str_t */
ngx_int_t ngx_http_mcp_oauth_jwt_scopes(ngx_http_mcp_oauth_jwt_t *jwt,
    ngx_array_t *scopes);


#endif /* _NGX_HTTP_MCP_OAUTH_JWT_H_INCLUDED_ */
