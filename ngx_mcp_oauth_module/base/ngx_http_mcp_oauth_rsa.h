
/*
 * ngx_mcp_oauth_module: RSA-2048 public-key operation with AVX-512 IFMA,
 * for RS256/RS384/RS512 (RSASSA-PKCS1-v1_5, RFC 8017 §8.2.2).
 */

#ifndef _NGX_HTTP_MCP_OAUTH_RSA_H_INCLUDED_
#define _NGX_HTTP_MCP_OAUTH_RSA_H_INCLUDED_


#include <ngx_config.h>
#include <ngx_core.h>
#include <openssl/evp.h>


#define NGX_HTTP_MCP_OAUTH_RSA_BYTES  256      /* a 2048-bit modulus */
#define NGX_HTTP_MCP_OAUTH_RSA_LIMBS  40       /* of 52 bits, 5 vectors of 8 */


typedef struct {
    uint64_t                    n[NGX_HTTP_MCP_OAUTH_RSA_LIMBS];
    uint64_t                    rr[NGX_HTTP_MCP_OAUTH_RSA_LIMBS]; /* R^2 mod n */
    uint64_t                    k0;      /* -n^-1 mod 2^52 */
    u_char                      nbytes[NGX_HTTP_MCP_OAUTH_RSA_BYTES];
} ngx_http_mcp_oauth_rsa_t;


/*
 * The key's modulus prepared for ngx_http_mcp_oauth_rsa_verify(), or NULL
 * when it cannot be used there: the CPU has no AVX-512 IFMA, the modulus is
 * not of 2048 bits, or the public exponent is not 65537.
 */
ngx_http_mcp_oauth_rsa_t *ngx_http_mcp_oauth_rsa_prepare(ngx_pool_t *pool,
    EVP_PKEY *pkey);

/*
 * RSASSA-PKCS1-v1_5 verification of sig over a digest of the named
 * algorithm ("SHA256", "SHA384", "SHA512"): NGX_OK when sig^65537 mod n is
 * the encoded digest, NGX_ERROR when it is not.  NGX_DECLINED: OpenSSL is to
 * decide (a signature not of the modulus' length or not below it, another
 * digest).
 */
ngx_int_t ngx_http_mcp_oauth_rsa_verify(ngx_http_mcp_oauth_rsa_t *rsa,
    const char *md, u_char *digest, size_t len, u_char *sig, size_t siglen);

/* out = in^65537 mod n, big-endian, in < n; for the fuzzer */
void ngx_http_mcp_oauth_rsa_public(ngx_http_mcp_oauth_rsa_t *rsa,
    const u_char *in, u_char *out);


#endif /* _NGX_HTTP_MCP_OAUTH_RSA_H_INCLUDED_ */
