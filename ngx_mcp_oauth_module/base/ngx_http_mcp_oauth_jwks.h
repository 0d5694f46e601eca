
/*
 * ngx_mcp_oauth_module: JSON Web Key Sets (RFC 7517), parsed once into
 * OpenSSL EVP_PKEYs.
 */

#ifndef _NGX_HTTP_MCP_OAUTH_JWKS_H_INCLUDED_
#define _NGX_HTTP_MCP_OAUTH_JWKS_H_INCLUDED_


#include <ngx_config.h>
#include <ngx_core.h>
#include <openssl/evp.h>

#include "ngx_http_mcp_oauth_rsa.h"


typedef enum {
    NGX_HTTP_MCP_OAUTH_KTY_RSA = 1,
    NGX_HTTP_MCP_OAUTH_KTY_EC,
    NGX_HTTP_MCP_OAUTH_KTY_OKP,
    NGX_HTTP_MCP_OAUTH_KTY_OCT
} ngx_http_mcp_oauth_kty_e;


/* JWS "alg" values (RFC 7518 §3.1, RFC 8037 §3.1) */
typedef enum {
    NGX_HTTP_MCP_OAUTH_ALG_UNKNOWN = 0,
    NGX_HTTP_MCP_OAUTH_ALG_RS256,
    NGX_HTTP_MCP_OAUTH_ALG_RS384,
    NGX_HTTP_MCP_OAUTH_ALG_RS512,
    NGX_HTTP_MCP_OAUTH_ALG_PS256,
    NGX_HTTP_MCP_OAUTH_ALG_PS384,
    NGX_HTTP_MCP_OAUTH_ALG_PS512,
    NGX_HTTP_MCP_OAUTH_ALG_ES256,
    NGX_HTTP_MCP_OAUTH_ALG_ES384,
    NGX_HTTP_MCP_OAUTH_ALG_ES512,
    NGX_HTTP_MCP_OAUTH_ALG_EDDSA,
    NGX_HTTP_MCP_OAUTH_ALG_HS256,
    NGX_HTTP_MCP_OAUTH_ALG_HS384,
    NGX_HTTP_MCP_OAUTH_ALG_HS512
} ngx_http_mcp_oauth_alg_e;


typedef struct {
    ngx_str_t                   name;
    ngx_uint_t                  kty;
    const char                 *md;      /* digest name, NULL for EdDSA */
    int                         curve;   /* EC/OKP curve NID, 0 if none */
    size_t                      size;    /* ES*: length of r and of s */
    unsigned                    pss:1;
} ngx_http_mcp_oauth_alg_t;


#define NGX_HTTP_MCP_OAUTH_ALG_N  (NGX_HTTP_MCP_OAUTH_ALG_HS512 + 1)


/* an EVP_PKEY_CTX set up once for one algorithm: a request only digests */
typedef struct {
    EVP_PKEY_CTX               *ctx;
    EVP_MD                     *md;      /* the keyset's */
} ngx_http_mcp_oauth_verifier_t;


typedef struct {
    ngx_str_t                   kid;
    unsigned                    has_kid:1;
    ngx_uint_t                  kty;
    int                         curve;   /* NID for EC and OKP keys */
    ngx_uint_t                  alg;     /* JWK "alg", 0: any alg of kty */
    EVP_PKEY                   *pkey;    /* RSA, EC, OKP */
    ngx_str_t                   secret;  /* oct */
    ngx_http_mcp_oauth_rsa_t   *rsa;     /* RSA-2048 with AVX-512 IFMA */
    ngx_http_mcp_oauth_verifier_t  verifier[NGX_HTTP_MCP_OAUTH_ALG_N];
} ngx_http_mcp_oauth_key_t;


typedef struct {
    ngx_array_t                 keys;    /* ngx_http_mcp_oauth_key_t */
    ngx_pool_t                 *pool;
    EVP_MD                     *md[3];   /* SHA-256, SHA-384, SHA-512 */
} ngx_http_mcp_oauth_keyset_t;


const ngx_http_mcp_oauth_alg_t *ngx_http_mcp_oauth_alg(ngx_uint_t alg);
ngx_uint_t ngx_http_mcp_oauth_alg_by_name(u_char *name, size_t len);

/*
 * Parses a JWK Set document into a keyset allocated from pool (EVP_PKEYs are
 * freed by a pool cleanup).  Keys that cannot be used are skipped and
 * reported through log at "skip_level"; a document without any usable key
 * is an error.  Symmetric ("oct") keys are accepted only with allow_oct.
 * On error, *err describes the problem.
 */
ngx_http_mcp_oauth_keyset_t *ngx_http_mcp_oauth_jwks_parse(ngx_pool_t *pool,
    ngx_log_t *log, ngx_uint_t skip_level, u_char *data, size_t len,
    ngx_uint_t allow_oct, char **err);


#endif /* _NGX_HTTP_MCP_OAUTH_JWKS_H_INCLUDED_ */
