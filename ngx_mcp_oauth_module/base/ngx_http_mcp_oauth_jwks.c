
/*
 * ngx_mcp_oauth_module: JSON Web Key Sets (RFC 7517, RFC 7518 §6,
 * RFC 8037 §2).  Every key is turned into an EVP_PKEY once, when the set is
 * loaded, so that a request costs one signature verification and nothing
 * else.
 */

#include <ngx_config.h>
#include <ngx_core.h>
#include <jansson.h>
#include <openssl/core_names.h>
#include <openssl/param_build.h>
#include <openssl/bn.h>
#include <openssl/obj_mac.h>
#include <openssl/rsa.h>
#include <openssl/err.h>

#include "ngx_http_mcp_oauth_jwks.h"
#include "ngx_http_mcp_oauth_string.h"


#define NGX_HTTP_MCP_OAUTH_RSA_MIN_BITS  2048
#define NGX_HTTP_MCP_OAUTH_HMAC_MIN_LEN  32


static ngx_http_mcp_oauth_keyset_t *ngx_http_mcp_oauth_jwks_keyset(
    ngx_pool_t *pool, char **err);
static ngx_int_t ngx_http_mcp_oauth_jwks_keys(ngx_http_mcp_oauth_keyset_t *ks,
    ngx_log_t *log, ngx_uint_t skip_level, json_t *keys, ngx_uint_t allow_oct);
static ngx_int_t ngx_http_mcp_oauth_jwks_digests(
    ngx_http_mcp_oauth_keyset_t *ks, char **err);
static ngx_int_t ngx_http_mcp_oauth_jwk_parse(ngx_pool_t *pool, json_t *jwk,
    ngx_uint_t allow_oct, ngx_http_mcp_oauth_key_t *key, char **err);
static ngx_int_t ngx_http_mcp_oauth_jwk_purpose(json_t *jwk, char **err);
static ngx_int_t ngx_http_mcp_oauth_jwk_kid(ngx_pool_t *pool, json_t *jwk,
    ngx_http_mcp_oauth_key_t *key, char **err);
static ngx_int_t ngx_http_mcp_oauth_jwk_material(ngx_pool_t *pool,
    json_t *jwk, const char *kty, ngx_uint_t allow_oct,
    ngx_http_mcp_oauth_key_t *key, char **err);
static ngx_int_t ngx_http_mcp_oauth_jwk_alg(json_t *jwk,
    ngx_http_mcp_oauth_key_t *key, char **err);
static ngx_int_t ngx_http_mcp_oauth_jwk_key_ops(json_t *ops, char **err);
static ngx_int_t ngx_http_mcp_oauth_pkey_check(EVP_PKEY *pkey);
static ngx_int_t ngx_http_mcp_oauth_jwk_rsa(ngx_pool_t *pool, json_t *jwk,
    ngx_http_mcp_oauth_key_t *key, char **err);
static ngx_int_t ngx_http_mcp_oauth_jwk_ec(ngx_pool_t *pool, json_t *jwk,
    ngx_http_mcp_oauth_key_t *key, char **err);
static ngx_int_t ngx_http_mcp_oauth_jwk_okp(ngx_pool_t *pool, json_t *jwk,
    ngx_http_mcp_oauth_key_t *key, char **err);
static ngx_int_t ngx_http_mcp_oauth_jwk_oct(ngx_pool_t *pool, json_t *jwk,
    ngx_http_mcp_oauth_key_t *key, char **err);
static ngx_int_t ngx_http_mcp_oauth_jwk_member(ngx_pool_t *pool, json_t *jwk,
    const char *name, ngx_str_t *out);
static EVP_PKEY *ngx_http_mcp_oauth_pkey_fromdata(const char *type,
    OSSL_PARAM_BLD *bld);
static void ngx_http_mcp_oauth_key_verifiers(ngx_http_mcp_oauth_keyset_t *ks,
    ngx_http_mcp_oauth_key_t *key);
static void ngx_http_mcp_oauth_keyset_cleanup(void *data);


static ngx_http_mcp_oauth_alg_t  ngx_http_mcp_oauth_algs[] = {
    { ngx_null_string, 0, NULL, 0, 0, 0 },
    { ngx_string("RS256"), NGX_HTTP_MCP_OAUTH_KTY_RSA, "SHA256", 0, 0, 0 },
    { ngx_string("RS384"), NGX_HTTP_MCP_OAUTH_KTY_RSA, "SHA384", 0, 0, 0 },
    { ngx_string("RS512"), NGX_HTTP_MCP_OAUTH_KTY_RSA, "SHA512", 0, 0, 0 },
    { ngx_string("PS256"), NGX_HTTP_MCP_OAUTH_KTY_RSA, "SHA256", 0, 0, 1 },
    { ngx_string("PS384"), NGX_HTTP_MCP_OAUTH_KTY_RSA, "SHA384", 0, 0, 1 },
    { ngx_string("PS512"), NGX_HTTP_MCP_OAUTH_KTY_RSA, "SHA512", 0, 0, 1 },
    { ngx_string("ES256"), NGX_HTTP_MCP_OAUTH_KTY_EC, "SHA256",
      NID_X9_62_prime256v1, 32, 0 },
    { ngx_string("ES384"), NGX_HTTP_MCP_OAUTH_KTY_EC, "SHA384",
      NID_secp384r1, 48, 0 },
    { ngx_string("ES512"), NGX_HTTP_MCP_OAUTH_KTY_EC, "SHA512",
      NID_secp521r1, 66, 0 },
    /* RFC 8037 §3.1: the curve comes from the key, Ed25519 or Ed448 */
    { ngx_string("EdDSA"), NGX_HTTP_MCP_OAUTH_KTY_OKP, NULL, 0, 0, 0 },
    { ngx_string("HS256"), NGX_HTTP_MCP_OAUTH_KTY_OCT, "SHA256", 0, 0, 0 },
    { ngx_string("HS384"), NGX_HTTP_MCP_OAUTH_KTY_OCT, "SHA384", 0, 0, 0 },
    { ngx_string("HS512"), NGX_HTTP_MCP_OAUTH_KTY_OCT, "SHA512", 0, 0, 0 }
};


const ngx_http_mcp_oauth_alg_t *
ngx_http_mcp_oauth_alg(ngx_uint_t alg)
{
    if (alg == NGX_HTTP_MCP_OAUTH_ALG_UNKNOWN
        || alg > NGX_HTTP_MCP_OAUTH_ALG_HS512)
    {
        return NULL;
    }

    return &ngx_http_mcp_oauth_algs[alg];
}


ngx_uint_t
ngx_http_mcp_oauth_alg_by_name(u_char *name, size_t len)
{
    ngx_uint_t  i;

    /* case-sensitive (RFC 7515 §4.1.1) */

    for (i = 1; i <= NGX_HTTP_MCP_OAUTH_ALG_HS512; i++) {
        if (ngx_http_mcp_oauth_algs[i].name.len == len
            && ngx_memcmp(ngx_http_mcp_oauth_algs[i].name.data, name, len) == 0)
        {
            return i;
        }
    }

    return NGX_HTTP_MCP_OAUTH_ALG_UNKNOWN;
}


ngx_http_mcp_oauth_keyset_t *
ngx_http_mcp_oauth_jwks_parse(ngx_pool_t *pool, ngx_log_t *log,
    ngx_uint_t skip_level, u_char *data, size_t len, ngx_uint_t allow_oct,
    char **err)
{
    json_t                       *doc, *keys;
    ngx_int_t                     rc;
    json_error_t                  jerr;
    ngx_http_mcp_oauth_keyset_t  *ks;

    ks = ngx_http_mcp_oauth_jwks_keyset(pool, err);
    if (ks == NULL) {
        return NULL;
    }

    doc = json_loadb((const char *) data, len, JSON_REJECT_DUPLICATES, &jerr);
    if (doc == NULL) {
        *err = "not valid JSON";
        return NULL;
    }

    keys = json_is_object(doc) ? json_object_get(doc, "keys") : NULL;

    if (!json_is_array(keys)) {
        json_decref(doc);
        *err = "not a JWK Set (no \"keys\" array)";
        return NULL;
    }

    rc = ngx_http_mcp_oauth_jwks_keys(ks, log, skip_level, keys, allow_oct);

    json_decref(doc);

    if (rc != NGX_OK) {
        *err = "out of memory";
        return NULL;
    }

    if (ks->keys.nelts == 0) {
        *err = "no usable key in the JWK Set";
        return NULL;
    }

    if (ngx_http_mcp_oauth_jwks_digests(ks, err) != NGX_OK) {
        return NULL;
    }

    return ks;
}


/* an empty key set, its keys freed with the pool */

static ngx_http_mcp_oauth_keyset_t *
ngx_http_mcp_oauth_jwks_keyset(ngx_pool_t *pool, char **err)
{
    ngx_pool_cleanup_t           *cln;
    ngx_http_mcp_oauth_keyset_t  *ks;

    ks = ngx_pcalloc(pool, sizeof(ngx_http_mcp_oauth_keyset_t));
    if (ks == NULL) {
        *err = "out of memory";
        return NULL;
    }

    ks->pool = pool;

    if (ngx_array_init(&ks->keys, pool, 4, sizeof(ngx_http_mcp_oauth_key_t))
        != NGX_OK)
    {
        *err = "out of memory";
        return NULL;
    }

    cln = ngx_pool_cleanup_add(pool, 0);
    if (cln == NULL) {
        *err = "out of memory";
        return NULL;
    }

    cln->handler = ngx_http_mcp_oauth_keyset_cleanup;
    cln->data = ks;

    return ks;
}


/* the set's usable keys; each other one is logged and skipped */

static ngx_int_t
ngx_http_mcp_oauth_jwks_keys(ngx_http_mcp_oauth_keyset_t *ks, ngx_log_t *log,
    ngx_uint_t skip_level, json_t *keys, ngx_uint_t allow_oct)
{
    char                      *kerr;
    size_t                     i;
    json_t                    *jwk, *kid;
    ngx_http_mcp_oauth_key_t  *key;

    json_array_foreach(keys, i, jwk) {

        key = ngx_array_push(&ks->keys);
        if (key == NULL) {
            return NGX_ERROR;
        }

        ngx_memzero(key, sizeof(ngx_http_mcp_oauth_key_t));

        kerr = NULL;

        if (ngx_http_mcp_oauth_jwk_parse(ks->pool, jwk, allow_oct, key, &kerr)
            != NGX_OK)
        {
            kid = json_is_object(jwk) ? json_object_get(jwk, "kid") : NULL;

            ngx_log_error(skip_level, log, 0,
                          "mcp_oauth: JWK #%uz%s%s%s skipped: %s", i,
                          json_is_string(kid) ? " \"" : "",
                          json_is_string(kid) ? json_string_value(kid) : "",
                          json_is_string(kid) ? "\"" : "",
                          kerr ? kerr : "out of memory");

            if (key->pkey) {
                EVP_PKEY_free(key->pkey);
            }

            ks->keys.nelts--;
            continue;
        }
    }

    return NGX_OK;
}


/* the digests of the set, and each key's verifiers */

static ngx_int_t
ngx_http_mcp_oauth_jwks_digests(ngx_http_mcp_oauth_keyset_t *ks, char **err)
{
    ngx_uint_t                 i;
    ngx_http_mcp_oauth_key_t  *key;

    ks->md[0] = EVP_MD_fetch(NULL, "SHA256", NULL);
    ks->md[1] = EVP_MD_fetch(NULL, "SHA384", NULL);
    ks->md[2] = EVP_MD_fetch(NULL, "SHA512", NULL);

    if (ks->md[0] == NULL || ks->md[1] == NULL || ks->md[2] == NULL) {
        *err = "OpenSSL has no SHA-2";
        return NGX_ERROR;
    }

    key = ks->keys.elts;

    for (i = 0; i < ks->keys.nelts; i++) {
        ngx_http_mcp_oauth_key_verifiers(ks, &key[i]);
    }

    return NGX_OK;
}


static ngx_int_t
ngx_http_mcp_oauth_jwk_parse(ngx_pool_t *pool, json_t *jwk,
    ngx_uint_t allow_oct, ngx_http_mcp_oauth_key_t *key, char **err)
{
    const char  *kty;
    json_t      *v;

    if (!json_is_object(jwk)) {
        *err = "not a JSON object";
        return NGX_ERROR;
    }

    v = json_object_get(jwk, "kty");
    if (!json_is_string(v)) {
        *err = "no \"kty\"";
        return NGX_ERROR;
    }

    kty = json_string_value(v);

    if (ngx_http_mcp_oauth_jwk_purpose(jwk, err) != NGX_OK
        || ngx_http_mcp_oauth_jwk_kid(pool, jwk, key, err) != NGX_OK
        || ngx_http_mcp_oauth_jwk_material(pool, jwk, kty, allow_oct, key,
                                           err)
           != NGX_OK
        || ngx_http_mcp_oauth_jwk_alg(jwk, key, err) != NGX_OK)
    {
        return NGX_ERROR;
    }

    return NGX_OK;
}


static ngx_int_t
ngx_http_mcp_oauth_jwk_purpose(json_t *jwk, char **err)
{
    json_t  *v;

    /* RFC 7517 §4.2: keys for encryption are not for us */

    v = json_object_get(jwk, "use");
    if (v != NULL && !(json_is_string(v)
                       && ngx_strcmp(json_string_value(v), "sig") == 0))
    {
        *err = "\"use\" is not \"sig\"";
        return NGX_ERROR;
    }

    /* RFC 7517 §4.3: a key whose operations are listed must list "verify" */

    v = json_object_get(jwk, "key_ops");
    if (v != NULL && ngx_http_mcp_oauth_jwk_key_ops(v, err) != NGX_OK) {
        return NGX_ERROR;
    }

    return NGX_OK;
}


static ngx_int_t
ngx_http_mcp_oauth_jwk_kid(ngx_pool_t *pool, json_t *jwk,
    ngx_http_mcp_oauth_key_t *key, char **err)
{
    json_t  *v;

    v = json_object_get(jwk, "kid");
    if (v == NULL) {
        return NGX_OK;
    }

    if (!json_is_string(v)) {
        *err = "\"kid\" is not a string";
        return NGX_ERROR;
    }

    key->kid.len = json_string_length(v);
    key->kid.data = ngx_pstrdup(pool, &(ngx_str_t) {
                                    key->kid.len,
                                    (u_char *) json_string_value(v) });
    if (key->kid.data == NULL) {
        return NGX_ERROR;
    }

    key->has_kid = 1;

    return NGX_OK;
}


/* the key itself, by its type */

static ngx_int_t
ngx_http_mcp_oauth_jwk_material(ngx_pool_t *pool, json_t *jwk,
    const char *kty, ngx_uint_t allow_oct, ngx_http_mcp_oauth_key_t *key,
    char **err)
{
    if (ngx_strcmp(kty, "RSA") == 0) {
        return ngx_http_mcp_oauth_jwk_rsa(pool, jwk, key, err);
    }

    if (ngx_strcmp(kty, "EC") == 0) {
        return ngx_http_mcp_oauth_jwk_ec(pool, jwk, key, err);
    }

    if (ngx_strcmp(kty, "OKP") == 0) {
        return ngx_http_mcp_oauth_jwk_okp(pool, jwk, key, err);
    }

    if (ngx_strcmp(kty, "oct") == 0) {
        if (!allow_oct) {
            *err = "symmetric keys are accepted only from mcp_oauth_jwks files";
            return NGX_ERROR;
        }

        return ngx_http_mcp_oauth_jwk_oct(pool, jwk, key, err);
    }

    *err = "unsupported \"kty\"";
    return NGX_ERROR;
}


/* RFC 7517 §4.4: an "alg" on the key restricts what it verifies */

static ngx_int_t
ngx_http_mcp_oauth_jwk_alg(json_t *jwk, ngx_http_mcp_oauth_key_t *key,
    char **err)
{
    json_t                          *v;
    const ngx_http_mcp_oauth_alg_t  *a;

    v = json_object_get(jwk, "alg");
    if (v == NULL) {
        return NGX_OK;
    }

    if (!json_is_string(v)) {
        *err = "\"alg\" is not a string";
        return NGX_ERROR;
    }

    key->alg = ngx_http_mcp_oauth_alg_by_name((u_char *) json_string_value(v),
                                              json_string_length(v));
    a = ngx_http_mcp_oauth_alg(key->alg);

    if (a == NULL || a->kty != key->kty
        || (a->curve && a->curve != key->curve))
    {
        *err = "\"alg\" is unsupported or does not fit the key";
        return NGX_ERROR;
    }

    return NGX_OK;
}


static ngx_int_t
ngx_http_mcp_oauth_jwk_rsa(ngx_pool_t *pool, json_t *jwk,
    ngx_http_mcp_oauth_key_t *key, char **err)
{
    BIGNUM          *n, *e;
    ngx_str_t        nb, eb;
    OSSL_PARAM_BLD  *bld;

    if (ngx_http_mcp_oauth_jwk_member(pool, jwk, "n", &nb) != NGX_OK
        || ngx_http_mcp_oauth_jwk_member(pool, jwk, "e", &eb) != NGX_OK)
    {
        *err = "RSA key needs base64url \"n\" and \"e\"";
        return NGX_ERROR;
    }

    n = BN_bin2bn(nb.data, nb.len, NULL);
    e = BN_bin2bn(eb.data, eb.len, NULL);

    /*
     * with e = 1 (or any even e) the "signature" is the message itself,
     * or no signature verifies at all: a verifier takes only odd e >= 3
     */

    if (n && e && (!BN_is_odd(e) || BN_is_one(e))) {
        BN_free(n);
        BN_free(e);
        *err = "RSA public exponent is not odd and at least 3";
        return NGX_ERROR;
    }

    bld = OSSL_PARAM_BLD_new();

    if (n && e && bld
        && OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_N, n)
        && OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_E, e))
    {
        key->pkey = ngx_http_mcp_oauth_pkey_fromdata("RSA", bld);
    }

    OSSL_PARAM_BLD_free(bld);
    BN_free(n);
    BN_free(e);

    if (key->pkey == NULL) {
        *err = "invalid RSA key";
        return NGX_ERROR;
    }

    /* RFC 7518 §3.3 */

    if (EVP_PKEY_get_bits(key->pkey) < NGX_HTTP_MCP_OAUTH_RSA_MIN_BITS) {
        *err = "RSA key shorter than 2048 bits";
        return NGX_ERROR;
    }

    /* SP 800-56B §6.4.2.2: odd modulus without small factors, e in range */

    if (ngx_http_mcp_oauth_pkey_check(key->pkey) != NGX_OK) {
        *err = "invalid RSA key (fails the public key check)";
        return NGX_ERROR;
    }

    key->kty = NGX_HTTP_MCP_OAUTH_KTY_RSA;

    return NGX_OK;
}


static ngx_int_t
ngx_http_mcp_oauth_jwk_ec(ngx_pool_t *pool, json_t *jwk,
    ngx_http_mcp_oauth_key_t *key, char **err)
{
    int              nid;
    u_char          *pub;
    size_t           size;
    json_t          *crv;
    ngx_str_t        x, y;
    const char      *name;
    OSSL_PARAM_BLD  *bld;

    crv = json_object_get(jwk, "crv");
    name = json_is_string(crv) ? json_string_value(crv) : "";

    if (ngx_strcmp(name, "P-256") == 0) {
        nid = NID_X9_62_prime256v1;
        size = 32;

    } else if (ngx_strcmp(name, "P-384") == 0) {
        nid = NID_secp384r1;
        size = 48;

    } else if (ngx_strcmp(name, "P-521") == 0) {
        nid = NID_secp521r1;
        size = 66;

    } else {
        *err = "EC key with an unsupported \"crv\"";
        return NGX_ERROR;
    }

    if (ngx_http_mcp_oauth_jwk_member(pool, jwk, "x", &x) != NGX_OK
        || ngx_http_mcp_oauth_jwk_member(pool, jwk, "y", &y) != NGX_OK
        || x.len != size || y.len != size)
    {
        *err = "EC key needs base64url \"x\" and \"y\" of the curve's size";
        return NGX_ERROR;
    }

    /* SEC 1 §2.3.3 uncompressed point */

    pub = ngx_pnalloc(pool, 1 + 2 * size);
    if (pub == NULL) {
        return NGX_ERROR;
    }

    pub[0] = 0x04;
    ngx_memcpy(pub + 1, x.data, size);
    ngx_memcpy(pub + 1 + size, y.data, size);

    bld = OSSL_PARAM_BLD_new();

    if (bld
        && OSSL_PARAM_BLD_push_utf8_string(bld, OSSL_PKEY_PARAM_GROUP_NAME,
                                           OBJ_nid2sn(nid), 0)
        && OSSL_PARAM_BLD_push_octet_string(bld, OSSL_PKEY_PARAM_PUB_KEY,
                                            pub, 1 + 2 * size))
    {
        key->pkey = ngx_http_mcp_oauth_pkey_fromdata("EC", bld);
    }

    OSSL_PARAM_BLD_free(bld);

    if (key->pkey == NULL) {
        *err = "invalid EC key (not a point on the curve)";
        return NGX_ERROR;
    }

    if (ngx_http_mcp_oauth_pkey_check(key->pkey) != NGX_OK) {
        *err = "invalid EC key (not a point on the curve)";
        return NGX_ERROR;
    }

    key->kty = NGX_HTTP_MCP_OAUTH_KTY_EC;
    key->curve = nid;

    return NGX_OK;
}


static ngx_int_t
ngx_http_mcp_oauth_jwk_okp(ngx_pool_t *pool, json_t *jwk,
    ngx_http_mcp_oauth_key_t *key, char **err)
{
    int          type;
    size_t       size;
    json_t      *crv;
    ngx_str_t    x;
    const char  *name;

    crv = json_object_get(jwk, "crv");
    name = json_is_string(crv) ? json_string_value(crv) : "";

    if (ngx_strcmp(name, "Ed25519") == 0) {
        type = EVP_PKEY_ED25519;
        size = 32;

    } else if (ngx_strcmp(name, "Ed448") == 0) {
        type = EVP_PKEY_ED448;
        size = 57;

    } else {
        *err = "OKP key with an unsupported \"crv\"";
        return NGX_ERROR;
    }

    if (ngx_http_mcp_oauth_jwk_member(pool, jwk, "x", &x) != NGX_OK
        || x.len != size)
    {
        *err = "OKP key needs a base64url \"x\" of the curve's size";
        return NGX_ERROR;
    }

    key->pkey = EVP_PKEY_new_raw_public_key(type, NULL, x.data, x.len);
    if (key->pkey == NULL) {
        *err = "invalid OKP key";
        return NGX_ERROR;
    }

    key->kty = NGX_HTTP_MCP_OAUTH_KTY_OKP;
    key->curve = type;

    return NGX_OK;
}


static ngx_int_t
ngx_http_mcp_oauth_jwk_oct(ngx_pool_t *pool, json_t *jwk,
    ngx_http_mcp_oauth_key_t *key, char **err)
{
    if (ngx_http_mcp_oauth_jwk_member(pool, jwk, "k", &key->secret) != NGX_OK) {
        *err = "oct key needs a base64url \"k\"";
        return NGX_ERROR;
    }

    /* RFC 7518 §3.2: a key of at least the hash size */

    if (key->secret.len < NGX_HTTP_MCP_OAUTH_HMAC_MIN_LEN) {
        *err = "oct key shorter than 256 bits";
        return NGX_ERROR;
    }

    key->kty = NGX_HTTP_MCP_OAUTH_KTY_OCT;

    return NGX_OK;
}


static ngx_int_t
ngx_http_mcp_oauth_jwk_key_ops(json_t *ops, char **err)
{
    size_t       i;
    json_t      *op;
    ngx_uint_t   verify;

    if (!json_is_array(ops)) {
        *err = "\"key_ops\" is not an array";
        return NGX_ERROR;
    }

    verify = 0;

    json_array_foreach(ops, i, op) {
        if (!json_is_string(op)) {
            *err = "\"key_ops\" holds a value that is not a string";
            return NGX_ERROR;
        }

        if (ngx_strcmp(json_string_value(op), "verify") == 0
            && json_string_length(op) == sizeof("verify") - 1)
        {
            verify = 1;
        }
    }

    if (!verify) {
        *err = "\"key_ops\" does not include \"verify\"";
        return NGX_ERROR;
    }

    return NGX_OK;
}


/* the provider's public key validation (EVP_PKEY_public_check) */

static ngx_int_t
ngx_http_mcp_oauth_pkey_check(EVP_PKEY *pkey)
{
    int            rc;
    EVP_PKEY_CTX  *ctx;

    ctx = EVP_PKEY_CTX_new_from_pkey(NULL, pkey, NULL);
    if (ctx == NULL) {
        return NGX_ERROR;
    }

    rc = EVP_PKEY_public_check(ctx);

    EVP_PKEY_CTX_free(ctx);

    /* the check's reasons stay out of the error queue of later requests */
    ERR_clear_error();

    return rc == 1 ? NGX_OK : NGX_ERROR;
}


/* a base64url-encoded JWK member, decoded */

static ngx_int_t
ngx_http_mcp_oauth_jwk_member(ngx_pool_t *pool, json_t *jwk, const char *name,
    ngx_str_t *out)
{
    json_t     *v;
    ngx_str_t   src;

    v = json_object_get(jwk, name);
    if (!json_is_string(v) || json_string_length(v) == 0) {
        return NGX_ERROR;
    }

    src.len = json_string_length(v);
    src.data = (u_char *) json_string_value(v);

    out->data = ngx_pnalloc(pool, ngx_base64_decoded_length(src.len));
    if (out->data == NULL) {
        return NGX_ERROR;
    }

    return ngx_http_mcp_oauth_b64url_decode(out, &src);
}


static EVP_PKEY *
ngx_http_mcp_oauth_pkey_fromdata(const char *type, OSSL_PARAM_BLD *bld)
{
    EVP_PKEY      *pkey;
    OSSL_PARAM    *params;
    EVP_PKEY_CTX  *ctx;

    pkey = NULL;

    params = OSSL_PARAM_BLD_to_param(bld);
    ctx = EVP_PKEY_CTX_new_from_name(NULL, type, NULL);

    if (params == NULL || ctx == NULL
        || EVP_PKEY_fromdata_init(ctx) != 1
        || EVP_PKEY_fromdata(ctx, &pkey, EVP_PKEY_PUBLIC_KEY, params) != 1)
    {
        pkey = NULL;
    }

    EVP_PKEY_CTX_free(ctx);
    OSSL_PARAM_free(params);

    return pkey;
}


/*
 * RSA and ECDSA keys get a verification context per algorithm they may
 * verify (padding and digest set): OpenSSL 3 spends as much on setting one
 * up as on the RSA operation itself.  EdDSA and HMAC need none.
 */

static void
ngx_http_mcp_oauth_key_verifiers(ngx_http_mcp_oauth_keyset_t *ks,
    ngx_http_mcp_oauth_key_t *key)
{
    EVP_MD                          *md;
    ngx_uint_t                       alg;
    EVP_PKEY_CTX                    *ctx;
    const ngx_http_mcp_oauth_alg_t  *a;

    if (key->kty == NGX_HTTP_MCP_OAUTH_KTY_RSA) {
        key->rsa = ngx_http_mcp_oauth_rsa_prepare(ks->pool, key->pkey);
    }

    for (alg = 1; alg < NGX_HTTP_MCP_OAUTH_ALG_N; alg++) {
        a = ngx_http_mcp_oauth_alg(alg);

        if (a->kty != key->kty
            || (key->kty != NGX_HTTP_MCP_OAUTH_KTY_RSA
                && key->kty != NGX_HTTP_MCP_OAUTH_KTY_EC)
            || (a->curve && a->curve != key->curve)
            || (key->alg && key->alg != alg))
        {
            continue;
        }

        md = ks->md[ngx_strcmp(a->md, "SHA256") == 0 ? 0
                    : ngx_strcmp(a->md, "SHA384") == 0 ? 1 : 2];

        ctx = EVP_PKEY_CTX_new_from_pkey(NULL, key->pkey, NULL);

        if (ctx == NULL
            || EVP_PKEY_verify_init(ctx) != 1
            || EVP_PKEY_CTX_set_signature_md(ctx, md) != 1
            || (a->pss
                && (EVP_PKEY_CTX_set_rsa_padding(ctx, RSA_PKCS1_PSS_PADDING)
                    != 1
                    || EVP_PKEY_CTX_set_rsa_pss_saltlen(ctx,
                                                        RSA_PSS_SALTLEN_DIGEST)
                       != 1
                    || EVP_PKEY_CTX_set_rsa_mgf1_md(ctx, md) != 1)))
        {
            /* the request then sets up its own */
            EVP_PKEY_CTX_free(ctx);
            continue;
        }

        key->verifier[alg].ctx = ctx;
        key->verifier[alg].md = md;
    }
}


static void
ngx_http_mcp_oauth_keyset_cleanup(void *data)
{
    ngx_http_mcp_oauth_keyset_t  *ks = data;

    ngx_uint_t                 i, alg;
    ngx_http_mcp_oauth_key_t  *key;

    key = ks->keys.elts;

    for (i = 0; i < ks->keys.nelts; i++) {
        for (alg = 0; alg < NGX_HTTP_MCP_OAUTH_ALG_N; alg++) {
            EVP_PKEY_CTX_free(key[i].verifier[alg].ctx);
        }

        if (key[i].pkey) {
            EVP_PKEY_free(key[i].pkey);
        }
    }

    for (i = 0; i < 3; i++) {
        EVP_MD_free(ks->md[i]);
    }
}
