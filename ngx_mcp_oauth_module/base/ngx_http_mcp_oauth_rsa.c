
/*
 * ngx_mcp_oauth_module: RSA-2048 public-key operation with AVX-512 IFMA.
 *
 * A new RS256 token costs one RSA verification, and OpenSSL 3.0 spends
 * about 15 us of it in BN_mod_exp_mont() on 64-bit limbs.  The public
 * exponent 65537 makes the verification 16 Montgomery squarings and one
 * multiplication; here each is an "almost Montgomery multiplication" on
 * 52-bit limbs, eight limbs a vector, with vpmadd52luq/vpmadd52huq
 * (S. Gueron, V. Krasnov, "Accelerating Big Integer Arithmetic Using Intel
 * IFMA Extensions", 2016; OpenSSL's rsaz-avx512 does the same for the
 * private key's halves).  Nothing here is secret: the signature, the
 * modulus and the result are all public, so nothing needs constant time.
 *
 * Limbs: x = sum x[j] 2^(52 j), j < 40, R = 2^2080.  amm(a, b) computes
 * a b / R mod n as a value below 2n when a, b < 2n (4n < R), with every
 * limb below 2^52 on return, which vpmadd52 requires of its inputs.
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <openssl/bn.h>
#include <openssl/core_names.h>

#include "ngx_http_mcp_oauth_rsa.h"
#include "ngx_http_mcp_oauth_string.h"    /* NGX_HTTP_MCP_OAUTH_AVX512 */


#define NL        NGX_HTTP_MCP_OAUTH_RSA_LIMBS
#define NB        NGX_HTTP_MCP_OAUTH_RSA_BYTES
#define M52       0xfffffffffffffULL


#if (NGX_HTTP_MCP_OAUTH_AVX512)

/* -1: the CPU not asked yet */
static ngx_int_t  ngx_http_mcp_oauth_rsa_ifma = -1;


/* RFC 8017 §9.2 note 1: the DER DigestInfo before each digest */

typedef struct {
    const char    *md;
    size_t         len;
    u_char         prefix[19];
} ngx_http_mcp_oauth_rsa_digest_t;


static ngx_http_mcp_oauth_rsa_digest_t  ngx_http_mcp_oauth_rsa_digests[] = {
    { "SHA256", 32, { 0x30, 0x31, 0x30, 0x0d, 0x06, 0x09, 0x60, 0x86, 0x48,
                      0x01, 0x65, 0x03, 0x04, 0x02, 0x01, 0x05, 0x00, 0x04,
                      0x20 } },
    { "SHA384", 48, { 0x30, 0x41, 0x30, 0x0d, 0x06, 0x09, 0x60, 0x86, 0x48,
                      0x01, 0x65, 0x03, 0x04, 0x02, 0x02, 0x05, 0x00, 0x04,
                      0x30 } },
    { "SHA512", 64, { 0x30, 0x51, 0x30, 0x0d, 0x06, 0x09, 0x60, 0x86, 0x48,
                      0x01, 0x65, 0x03, 0x04, 0x02, 0x03, 0x05, 0x00, 0x04,
                      0x40 } }
};


static void ngx_http_mcp_oauth_rsa_amm(uint64_t *r, const uint64_t *a,
    const uint64_t *b, const uint64_t *n, uint64_t k0);
static void ngx_http_mcp_oauth_rsa_exp(ngx_http_mcp_oauth_rsa_t *rsa,
    const u_char *in, u_char *out);
static void ngx_http_mcp_oauth_rsa_limbs(const u_char *be, uint64_t *x);
static void ngx_http_mcp_oauth_rsa_bytes(const uint64_t *x, u_char *be);

#endif


ngx_http_mcp_oauth_rsa_t *
ngx_http_mcp_oauth_rsa_prepare(ngx_pool_t *pool, EVP_PKEY *pkey)
{
#if (NGX_HTTP_MCP_OAUTH_AVX512)
    int                        ok;
    BIGNUM                    *n, *e, *rr;
    uint64_t                   inv;
    BN_CTX                    *bn;
    ngx_uint_t                 i;
    ngx_http_mcp_oauth_rsa_t  *rsa;

    if (ngx_http_mcp_oauth_rsa_ifma == -1) {
        ngx_http_mcp_oauth_rsa_ifma = __builtin_cpu_supports("avx512f")
                                      && __builtin_cpu_supports("avx512ifma");
    }

    if (!ngx_http_mcp_oauth_rsa_ifma) {
        return NULL;
    }

    n = NULL;
    e = NULL;
    rr = BN_new();
    bn = BN_CTX_new();
    rsa = NULL;

    ok = rr != NULL && bn != NULL
         && EVP_PKEY_get_bn_param(pkey, OSSL_PKEY_PARAM_RSA_N, &n) == 1
         && EVP_PKEY_get_bn_param(pkey, OSSL_PKEY_PARAM_RSA_E, &e) == 1
         && BN_num_bytes(n) == NB && BN_is_odd(n)
         && BN_is_word(e, 65537);

    if (ok) {
        rsa = ngx_pcalloc(pool, sizeof(ngx_http_mcp_oauth_rsa_t));

        /* R^2 = 2^(2 * 52 * 40) */

        ok = rsa != NULL
             && BN_set_bit(rr, 2 * 52 * NL) == 1
             && BN_mod(rr, rr, n, bn) == 1
             && BN_bn2binpad(n, rsa->nbytes, NB) == NB;
    }

    if (ok) {
        u_char  buf[NB];

        ngx_http_mcp_oauth_rsa_limbs(rsa->nbytes, rsa->n);

        ok = BN_bn2binpad(rr, buf, NB) == NB;
        ngx_http_mcp_oauth_rsa_limbs(buf, rsa->rr);

        /* Newton: each step doubles the bits of n^-1 mod 2^64 (3 to 96) */

        inv = rsa->n[0];

        for (i = 0; i < 5; i++) {
            inv *= 2 - rsa->n[0] * inv;
        }

        rsa->k0 = (0 - inv) & M52;
    }

    BN_free(n);
    BN_free(e);
    BN_free(rr);
    BN_CTX_free(bn);

    return ok ? rsa : NULL;

#else
    return NULL;
#endif
}


ngx_int_t
ngx_http_mcp_oauth_rsa_verify(ngx_http_mcp_oauth_rsa_t *rsa, const char *md,
    u_char *digest, size_t len, u_char *sig, size_t siglen)
{
#if (NGX_HTTP_MCP_OAUTH_AVX512)
    u_char                           em[NB], *p;
    ngx_uint_t                       i;
    ngx_http_mcp_oauth_rsa_digest_t  *d;

    /* RFC 8017 §8.2.2 step 1 and §5.2.2 step 1: OpenSSL says why not */

    if (siglen != NB || ngx_memcmp(sig, rsa->nbytes, NB) >= 0) {
        return NGX_DECLINED;
    }

    d = NULL;

    for (i = 0; i < sizeof(ngx_http_mcp_oauth_rsa_digests)
                    / sizeof(ngx_http_mcp_oauth_rsa_digests[0]); i++)
    {
        if (ngx_strcmp(ngx_http_mcp_oauth_rsa_digests[i].md, md) == 0) {
            d = &ngx_http_mcp_oauth_rsa_digests[i];
            break;
        }
    }

    if (d == NULL || d->len != len) {
        return NGX_DECLINED;
    }

    ngx_http_mcp_oauth_rsa_exp(rsa, sig, em);

    /* EMSA-PKCS1-v1_5 (§9.2): 00 01 FF..FF 00 DigestInfo digest */

    p = em + NB - len - sizeof(d->prefix);

    if (em[0] != 0x00 || em[1] != 0x01 || p[-1] != 0x00
        || ngx_memcmp(p, d->prefix, sizeof(d->prefix)) != 0
        || ngx_memcmp(p + sizeof(d->prefix), digest, len) != 0)
    {
        return NGX_ERROR;
    }

    for (i = 2; em + i < p - 1; i++) {
        if (em[i] != 0xff) {
            return NGX_ERROR;
        }
    }

    return NGX_OK;

#else
    return NGX_DECLINED;
#endif
}


void
ngx_http_mcp_oauth_rsa_public(ngx_http_mcp_oauth_rsa_t *rsa, const u_char *in,
    u_char *out)
{
#if (NGX_HTTP_MCP_OAUTH_AVX512)
    ngx_http_mcp_oauth_rsa_exp(rsa, in, out);
#endif
}


#if (NGX_HTTP_MCP_OAUTH_AVX512)

/* out = in^65537 mod n: 16 squarings and a multiplication, in < n */

static void
ngx_http_mcp_oauth_rsa_exp(ngx_http_mcp_oauth_rsa_t *rsa, const u_char *in,
    u_char *out)
{
    uint64_t    s[NL], x[NL], y[NL], one[NL];
    ngx_uint_t  i;

    ngx_http_mcp_oauth_rsa_limbs(in, s);

    ngx_http_mcp_oauth_rsa_amm(x, s, rsa->rr, rsa->n, rsa->k0);   /* s R */
    ngx_http_mcp_oauth_rsa_amm(y, x, x, rsa->n, rsa->k0);

    for (i = 1; i < 16; i++) {
        ngx_http_mcp_oauth_rsa_amm(y, y, y, rsa->n, rsa->k0);
    }

    ngx_http_mcp_oauth_rsa_amm(y, y, x, rsa->n, rsa->k0);   /* s^65537 R */

    ngx_memzero(one, sizeof(one));
    one[0] = 1;

    /* (y + m n) / R < (2n + R n) / R = n + 2n / R: at most n, and n only
     * when s^65537 = 0 mod n, that is when s is 0 */

    ngx_http_mcp_oauth_rsa_amm(y, y, one, rsa->n, rsa->k0);

    if (ngx_memcmp(y, rsa->n, sizeof(y)) == 0) {
        ngx_memzero(y, sizeof(y));
    }

    ngx_http_mcp_oauth_rsa_bytes(y, out);
}


/*
 * r = a b / R mod n, below 2n, every limb below 2^52; r may be a or b.
 * One round per limb of b: acc += a b[i]; m makes acc's lowest limb 0 mod
 * 2^52 with acc += m n; acc shifts down one limb, the lowest one's carry
 * added to the next.  The products' high halves belong one limb up: they
 * are added after the shift, in the same lanes as the low halves.  A lane
 * gains under 2^54 a round, so under 2^60 in 40 rounds: no lane overflows
 * before the carries are propagated at the end.
 */

__attribute__((target("avx512f,avx512ifma")))
static void
ngx_http_mcp_oauth_rsa_amm(uint64_t *r, const uint64_t *a, const uint64_t *b,
    const uint64_t *n, uint64_t k0)
{
    __m512i     a0, a1, a2, a3, a4, n0, n1, n2, n3, n4;
    __m512i     x0, x1, x2, x3, x4, h0, h1, h2, h3, h4, bi, mi, zero;
    uint64_t    t, m, c, out[NL];
    ngx_uint_t  i;

    zero = _mm512_setzero_si512();

    a0 = _mm512_loadu_si512((const void *) a);
    a1 = _mm512_loadu_si512((const void *) (a + 8));
    a2 = _mm512_loadu_si512((const void *) (a + 16));
    a3 = _mm512_loadu_si512((const void *) (a + 24));
    a4 = _mm512_loadu_si512((const void *) (a + 32));
    n0 = _mm512_loadu_si512((const void *) n);
    n1 = _mm512_loadu_si512((const void *) (n + 8));
    n2 = _mm512_loadu_si512((const void *) (n + 16));
    n3 = _mm512_loadu_si512((const void *) (n + 24));
    n4 = _mm512_loadu_si512((const void *) (n + 32));

    x0 = zero;
    x1 = zero;
    x2 = zero;
    x3 = zero;
    x4 = zero;

    for (i = 0; i < NL; i++) {
        bi = _mm512_set1_epi64(b[i]);

        x0 = _mm512_madd52lo_epu64(x0, a0, bi);
        x1 = _mm512_madd52lo_epu64(x1, a1, bi);
        x2 = _mm512_madd52lo_epu64(x2, a2, bi);
        x3 = _mm512_madd52lo_epu64(x3, a3, bi);
        x4 = _mm512_madd52lo_epu64(x4, a4, bi);

        /* the high halves of a b[i], to be added after the shift */

        h0 = _mm512_madd52hi_epu64(zero, a0, bi);
        h1 = _mm512_madd52hi_epu64(zero, a1, bi);
        h2 = _mm512_madd52hi_epu64(zero, a2, bi);
        h3 = _mm512_madd52hi_epu64(zero, a3, bi);
        h4 = _mm512_madd52hi_epu64(zero, a4, bi);

        t = (uint64_t) _mm_cvtsi128_si64(_mm512_castsi512_si128(x0));
        m = (t * k0) & M52;
        c = (t + ((m * n[0]) & M52)) >> 52;
        mi = _mm512_set1_epi64(m);

        h0 = _mm512_madd52hi_epu64(h0, n0, mi);
        h1 = _mm512_madd52hi_epu64(h1, n1, mi);
        h2 = _mm512_madd52hi_epu64(h2, n2, mi);
        h3 = _mm512_madd52hi_epu64(h3, n3, mi);
        h4 = _mm512_madd52hi_epu64(h4, n4, mi);
        h0 = _mm512_mask_add_epi64(h0, 1, h0, _mm512_set1_epi64(c));

        x0 = _mm512_madd52lo_epu64(x0, n0, mi);
        x1 = _mm512_madd52lo_epu64(x1, n1, mi);
        x2 = _mm512_madd52lo_epu64(x2, n2, mi);
        x3 = _mm512_madd52lo_epu64(x3, n3, mi);
        x4 = _mm512_madd52lo_epu64(x4, n4, mi);

        x0 = _mm512_add_epi64(_mm512_alignr_epi64(x1, x0, 1), h0);
        x1 = _mm512_add_epi64(_mm512_alignr_epi64(x2, x1, 1), h1);
        x2 = _mm512_add_epi64(_mm512_alignr_epi64(x3, x2, 1), h2);
        x3 = _mm512_add_epi64(_mm512_alignr_epi64(x4, x3, 1), h3);
        x4 = _mm512_add_epi64(_mm512_alignr_epi64(zero, x4, 1), h4);
    }

    _mm512_storeu_si512((void *) out, x0);
    _mm512_storeu_si512((void *) (out + 8), x1);
    _mm512_storeu_si512((void *) (out + 16), x2);
    _mm512_storeu_si512((void *) (out + 24), x3);
    _mm512_storeu_si512((void *) (out + 32), x4);

    c = 0;

    for (i = 0; i < NL; i++) {
        t = out[i] + c;
        r[i] = t & M52;
        c = t >> 52;
    }
}


/* a big-endian number of NB bytes as limbs */

static void
ngx_http_mcp_oauth_rsa_limbs(const u_char *be, uint64_t *x)
{
    u_char      le[NB + 16];
    uint64_t    w;
    ngx_uint_t  i;

    for (i = 0; i < NB; i++) {
        le[i] = be[NB - 1 - i];
    }

    ngx_memzero(le + NB, 16);

    for (i = 0; i < NL; i++) {
        ngx_memcpy(&w, le + (52 * i) / 8, 8);
        x[i] = (w >> ((52 * i) % 8)) & M52;
    }
}


/* limbs (of a number below 2^2048) as NB big-endian bytes */

static void
ngx_http_mcp_oauth_rsa_bytes(const uint64_t *x, u_char *be)
{
    u_char      le[NB + 16];
    uint64_t    w;
    ngx_uint_t  i;

    ngx_memzero(le, sizeof(le));

    for (i = 0; i < NL; i++) {
        ngx_memcpy(&w, le + (52 * i) / 8, 8);
        w |= x[i] << ((52 * i) % 8);
        ngx_memcpy(le + (52 * i) / 8, &w, 8);
    }

    for (i = 0; i < NB; i++) {
        be[i] = le[NB - 1 - i];
    }
}

#endif
