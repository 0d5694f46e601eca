
/*
 * The AVX-512 IFMA RSA-2048 public-key operation (ngx_http_mcp_oauth_rsa.c)
 * against OpenSSL, on t/data/keys/rsa1.private.pem (read once).
 *
 * Input: a first byte, then the rest.
 *  - first byte even: the rest (at most 256 bytes, as a big-endian number,
 *    reduced mod n) is x; ngx_http_mcp_oauth_rsa_public(x) must equal
 *    BN_mod_exp(x, 65537, n) byte for byte.
 *  - odd: an EMSA-PKCS1-v1_5 encoding of SHA-256/384/512 (first byte / 2
 *    mod 3) of the input is edited with the rest taken as (position, byte)
 *    pairs, raised to the private exponent, and the result verified with
 *    ngx_http_mcp_oauth_rsa_verify() and with EVP_PKEY_verify(): the two
 *    verdicts must agree (NGX_DECLINED leaves it to OpenSSL, as the module
 *    does).  The input's last byte, when the first is 0xff, also shortens
 *    the signature or sets it to n, which must be declined.
 *
 * On a CPU without AVX-512 IFMA the key cannot be prepared and nothing is
 * compared; the harness says so once.
 */

#include "fuzz_common.h"

#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rsa.h>

#include "ngx_http_mcp_oauth_rsa.h"


#define NB  NGX_HTTP_MCP_OAUTH_RSA_BYTES

static ngx_pool_t                *pool;     /* never destroyed: holds rsa */
static ngx_http_mcp_oauth_rsa_t  *rsa;
static BIGNUM                    *n, *e, *d;
static BN_CTX                    *bn;
static EVP_PKEY_CTX              *verifier[3];
static const char                *mds[3] = { "SHA256", "SHA384", "SHA512" };
static const size_t               mdlen[3] = { 32, 48, 64 };
static const u_char               prefix[3][19] = {
    { 0x30, 0x31, 0x30, 0x0d, 0x06, 0x09, 0x60, 0x86, 0x48, 0x01, 0x65, 0x03,
      0x04, 0x02, 0x01, 0x05, 0x00, 0x04, 0x20 },
    { 0x30, 0x41, 0x30, 0x0d, 0x06, 0x09, 0x60, 0x86, 0x48, 0x01, 0x65, 0x03,
      0x04, 0x02, 0x02, 0x05, 0x00, 0x04, 0x30 },
    { 0x30, 0x51, 0x30, 0x0d, 0x06, 0x09, 0x60, 0x86, 0x48, 0x01, 0x65, 0x03,
      0x04, 0x02, 0x03, 0x05, 0x00, 0x04, 0x40 }
};


static void
init(void)
{
    int         i;
    FILE       *f;
    EVP_PKEY   *pkey;
    static int  done;

    if (done) {
        return;
    }

    done = 1;
    mcp_fuzz_init(NGX_LOG_EMERG);

    f = fopen(MCP_FUZZ_KEYS "/rsa1.private.pem", "r");
    MCP_FUZZ_CHECK(f != NULL, "cannot open %s", MCP_FUZZ_KEYS "/rsa1.private.pem");
    pkey = PEM_read_PrivateKey(f, NULL, NULL, NULL);
    fclose(f);
    MCP_FUZZ_CHECK(pkey != NULL, "rsa1.private.pem: not a private key");

    bn = BN_CTX_new();
    MCP_FUZZ_CHECK(bn != NULL
                   && EVP_PKEY_get_bn_param(pkey, OSSL_PKEY_PARAM_RSA_N, &n)
                   && EVP_PKEY_get_bn_param(pkey, OSSL_PKEY_PARAM_RSA_E, &e)
                   && EVP_PKEY_get_bn_param(pkey, OSSL_PKEY_PARAM_RSA_D, &d),
                   "rsa1.private.pem: no n, e, d");

    for (i = 0; i < 3; i++) {
        verifier[i] = EVP_PKEY_CTX_new_from_pkey(NULL, pkey, NULL);
        MCP_FUZZ_CHECK(verifier[i] != NULL
                       && EVP_PKEY_verify_init(verifier[i]) == 1
                       && EVP_PKEY_CTX_set_signature_md(verifier[i],
                              EVP_get_digestbyname(mds[i])) == 1,
                       "verifier for %s", mds[i]);
    }

    pool = mcp_fuzz_pool();
    rsa = ngx_http_mcp_oauth_rsa_prepare(pool, pkey);

    if (rsa == NULL) {
        fprintf(stderr, "fuzz_rsa: no AVX-512 IFMA on this CPU, nothing to "
                        "compare\n");
    }

    EVP_PKEY_free(pkey);
}


static void
modexp(const uint8_t *data, size_t size)
{
    u_char   x[NB], ours[NB], ref[NB];
    BIGNUM  *v;

    if (size > NB) {
        size = NB;
    }

    v = BN_bin2bn(data, size, NULL);
    MCP_FUZZ_CHECK(v != NULL && BN_mod(v, v, n, bn) == 1
                   && BN_bn2binpad(v, x, NB) == NB, "BN");

    ngx_http_mcp_oauth_rsa_public(rsa, x, ours);

    MCP_FUZZ_CHECK(BN_mod_exp(v, v, e, n, bn) == 1
                   && BN_bn2binpad(v, ref, NB) == NB, "BN_mod_exp");
    BN_free(v);

    MCP_FUZZ_CHECK(memcmp(ours, ref, NB) == 0,
                   "x^65537 mod n differs from OpenSSL's");
}


static void
verify(const uint8_t *data, size_t size)
{
    int           m, evp;
    u_char        em[NB], sig[NB], digest[64];
    size_t        i, siglen;
    BIGNUM       *v;
    ngx_int_t     rc;
    unsigned int  len;

    m = (data[0] >> 1) % 3;

    MCP_FUZZ_CHECK(EVP_Digest(data, size, digest, &len,
                              EVP_get_digestbyname(mds[m]), NULL) == 1
                   && len == mdlen[m], "digest");

    em[0] = 0x00;
    em[1] = 0x01;
    memset(em + 2, 0xff, NB - 3 - 19 - len);
    em[NB - 20 - len] = 0x00;
    memcpy(em + NB - 19 - len, prefix[m], 19);
    memcpy(em + NB - len, digest, len);

    for (i = 1; i + 1 < size && i < 1 + 2 * 16; i += 2) {
        em[data[i]] = data[i + 1];
    }

    v = BN_bin2bn(em, NB, NULL);
    MCP_FUZZ_CHECK(v != NULL && BN_mod(v, v, n, bn) == 1
                   && BN_mod_exp(v, v, d, n, bn) == 1
                   && BN_bn2binpad(v, sig, NB) == NB, "private key");
    BN_free(v);

    siglen = NB;

    if (data[0] == 0xff && size > 1) {
        if (data[size - 1] & 1) {
            siglen = data[size - 1] % NB;

        } else {
            MCP_FUZZ_CHECK(BN_bn2binpad(n, sig, NB) == NB, "n");
        }
    }

    rc = ngx_http_mcp_oauth_rsa_verify(rsa, mds[m], digest, len, sig, siglen);
    evp = EVP_PKEY_verify(verifier[m], sig, siglen, digest, len) == 1;

    MCP_FUZZ_CHECK(rc == NGX_OK || rc == NGX_ERROR || rc == NGX_DECLINED,
                   "rc %ld", (long) rc);
    MCP_FUZZ_CHECK(rc == NGX_DECLINED || (rc == NGX_OK) == evp,
                   "%s: ours %s, OpenSSL %s", mds[m],
                   rc == NGX_OK ? "verifies" : "rejects",
                   evp ? "verifies" : "rejects");
    MCP_FUZZ_CHECK(siglen == NB || rc == NGX_DECLINED,
                   "a signature of %zu bytes not declined", siglen);
}


int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    init();

    if (rsa == NULL || size == 0) {
        return 0;
    }

    if (data[0] & 1) {
        verify(data, size);

    } else {
        modexp(data + 1, size - 1);
    }

    return 0;
}
