
/*
 * ngx_mcp_oauth_module: JWS compact tokens (RFC 7515), verified with keys
 * from a JWK Set, and the access-token claims checks of RFC 9068 §4.
 */

#ifndef _NGX_HTTP_MCP_OAUTH_JWT_H_INCLUDED_
#define _NGX_HTTP_MCP_OAUTH_JWT_H_INCLUDED_


#include <ngx_config.h>
#include <ngx_core.h>
#include "ngx_http_mcp_oauth_jwks.h"
#include "ngx_http_mcp_oauth_json.h"


/* larger tokens are refused before any decoding */
#define NGX_HTTP_MCP_OAUTH_TOKEN_MAX  16384


/* the claims taken out of the payload, by index */
enum {
    NGX_HTTP_MCP_OAUTH_CLAIM_EXP = 0,
    NGX_HTTP_MCP_OAUTH_CLAIM_NBF,
    NGX_HTTP_MCP_OAUTH_CLAIM_IAT,
    NGX_HTTP_MCP_OAUTH_CLAIM_ISS,
    NGX_HTTP_MCP_OAUTH_CLAIM_SUB,
    NGX_HTTP_MCP_OAUTH_CLAIM_CLIENT_ID,
    NGX_HTTP_MCP_OAUTH_CLAIM_AZP,
    NGX_HTTP_MCP_OAUTH_CLAIM_AUD,
    NGX_HTTP_MCP_OAUTH_CLAIM_SCOPE,
    NGX_HTTP_MCP_OAUTH_CLAIM_SCP,
    NGX_HTTP_MCP_OAUTH_CLAIM_SID,
    NGX_HTTP_MCP_OAUTH_CLAIM_JTI,
    NGX_HTTP_MCP_OAUTH_CLAIM_RESOURCE,
    NGX_HTTP_MCP_OAUTH_CLAIM_N
};


/* what a token's header "typ" must say (RFC 8725 §3.11: explicit typing) */
enum {
    NGX_HTTP_MCP_OAUTH_TYP_ACCESS = 0,  /* none, JWT, at+jwt (RFC 9068) */
    NGX_HTTP_MCP_OAUTH_TYP_ID_JAG,      /* oauth-id-jag+jwt */
    NGX_HTTP_MCP_OAUTH_TYP_CLIENT       /* JWT, client-authentication+jwt */
};


typedef struct {
    ngx_str_t                     signing_input;  /* header "." payload */
    ngx_str_t                     signature;      /* decoded */
    ngx_str_t                     payload_json;   /* decoded payload */
    ngx_http_mcp_oauth_member_t   claims[NGX_HTTP_MCP_OAUTH_CLAIM_N];
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


/*
 * What a verified token says, taken out of its payload once; the verified
 * token cache keeps it, so that a token seen before costs no parsing.
 */

typedef struct {
    time_t                        exp;
    time_t                        nbf;
    time_t                        iat;
    unsigned                      has_nbf:1;
    unsigned                      has_iat:1;
    unsigned                      has_aud:1;
    ngx_str_t                     iss;            /* empty: none */
    ngx_array_t                   aud;            /* ngx_str_t */
    ngx_str_t                     sub;
    ngx_str_t                     client_id;      /* client_id, else azp */
    ngx_array_t                   scopes;         /* ngx_str_t */
    ngx_str_t                     scope;          /* scopes, space-joined */
    ngx_str_t                     payload;        /* the JSON, for claim_* */
    ngx_str_t                     sid;            /* the built-in AS's grant */
} ngx_http_mcp_oauth_claims_t;


/* splits, decodes and checks the header; takes the claims out */
ngx_int_t ngx_http_mcp_oauth_jwt_parse(ngx_pool_t *pool, ngx_str_t *token,
    ngx_http_mcp_oauth_jwt_t *jwt, char **err);

/* the same for a token whose "typ" must be "typ" (NGX_HTTP_MCP_OAUTH_TYP_*) */
ngx_int_t ngx_http_mcp_oauth_jwt_parse_typed(ngx_pool_t *pool,
    ngx_str_t *token, ngx_uint_t typ, ngx_http_mcp_oauth_jwt_t *jwt,
    char **err);

/*
 * NGX_OK: verified; NGX_DECLINED: no key for the token's kid (or, without
 * kid, for its alg); NGX_ERROR: alg not allowed for the key, or a bad
 * signature.
 */
ngx_int_t ngx_http_mcp_oauth_jwt_verify(ngx_http_mcp_oauth_jwt_t *jwt,
    ngx_http_mcp_oauth_keyset_t **sets, ngx_uint_t nsets, char **err);

/* a token's claims without verifying it: only for a token from the IAM */
ngx_int_t ngx_http_mcp_oauth_jwt_unverified(ngx_pool_t *pool,
    ngx_str_t *token, ngx_http_mcp_oauth_jwt_t *jwt);

/* NGX_OK: the aud claim names the audience */
ngx_int_t ngx_http_mcp_oauth_jwt_audience(ngx_http_mcp_oauth_jwt_t *jwt,
    ngx_str_t *audience);

ngx_int_t ngx_http_mcp_oauth_claims_extract(ngx_pool_t *pool,
    ngx_http_mcp_oauth_jwt_t *jwt, ngx_http_mcp_oauth_claims_t *c,
    char **err);

/* exp, nbf, iat with leeway, iss and aud (RFC 9068 §4) */
ngx_int_t ngx_http_mcp_oauth_claims_check(ngx_http_mcp_oauth_claims_t *c,
    ngx_http_mcp_oauth_claims_conf_t *cc, char **err);



#endif /* _NGX_HTTP_MCP_OAUTH_JWT_H_INCLUDED_ */
