
/*
 * ngx_mcp_oauth_module: the authorization server's signing key.  It signs
 * the access tokens (RFC 9068), is published as a JWK Set, and the keys that
 * seal client ids, make client secrets and protect the consent form are
 * derived from it, so that nginx instances sharing the key agree on them.
 *
 * Tokens are signed with EVP directly: libjwt 1.10 rewrites "typ" to "JWT"
 * (RFC 9068 §2.1 requires "at+jwt") and has no EdDSA (docs/).
 */

#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/hmac.h>
#include <openssl/core_names.h>
#include <openssl/ecdsa.h>

#include "ngx_http_mcp_oauth_module.h"
#include "ngx_http_mcp_oauth_as.h"


static void ngx_http_mcp_oauth_signer_cleanup(void *data);
static ngx_int_t ngx_http_mcp_oauth_signer_read(ngx_conf_t *cf,
    ngx_http_mcp_oauth_signer_t *s, ngx_str_t *path);
static ngx_int_t ngx_http_mcp_oauth_signer_kid(ngx_conf_t *cf,
    ngx_http_mcp_oauth_signer_t *s, ngx_str_t *members);
static ngx_int_t ngx_http_mcp_oauth_signer_publish(ngx_conf_t *cf,
    ngx_http_mcp_oauth_signer_t *s, ngx_str_t *members);
static ngx_int_t ngx_http_mcp_oauth_signer_jwk(ngx_conf_t *cf,
    ngx_http_mcp_oauth_signer_t *s, ngx_str_t *members);
static ngx_int_t ngx_http_mcp_oauth_bn_param(ngx_pool_t *pool, EVP_PKEY *pkey,
    const char *name, size_t pad, ngx_str_t *out);
static ngx_int_t ngx_http_mcp_oauth_derive(ngx_http_mcp_oauth_signer_t *s);


ngx_http_mcp_oauth_signer_t *
ngx_http_mcp_oauth_signer_load(ngx_conf_t *cf, ngx_str_t *path)
{
    char                         *err;
    ngx_str_t                     members;
    ngx_pool_cleanup_t           *cln;
    ngx_http_mcp_oauth_signer_t  *s;

    s = ngx_pcalloc(cf->pool, sizeof(ngx_http_mcp_oauth_signer_t));
    if (s == NULL) {
        return NULL;
    }

    cln = ngx_pool_cleanup_add(cf->pool, 0);
    if (cln == NULL) {
        return NULL;
    }

    cln->handler = ngx_http_mcp_oauth_signer_cleanup;
    cln->data = s;

    if (ngx_http_mcp_oauth_signer_read(cf, s, path) != NGX_OK
        || ngx_http_mcp_oauth_signer_jwk(cf, s, &members) != NGX_OK
        || ngx_http_mcp_oauth_signer_kid(cf, s, &members) != NGX_OK
        || ngx_http_mcp_oauth_signer_publish(cf, s, &members) != NGX_OK)
    {
        return NULL;
    }

    /* the resource-server half verifies our tokens with the same code */

    s->keyset = ngx_http_mcp_oauth_jwks_parse(cf->pool, cf->log, NGX_LOG_EMERG,
                                              s->jwks.data, s->jwks.len, 0,
                                              &err);
    if (s->keyset == NULL) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "\"mcp_oauth_signing_key\": \"%V\": %s", path, err);
        return NULL;
    }

    if (ngx_http_mcp_oauth_derive(s) != NGX_OK) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "\"mcp_oauth_signing_key\": cannot derive keys "
                           "from \"%V\"", path);
        return NULL;
    }

    return s;
}


/* the private key of the PEM file */

static ngx_int_t
ngx_http_mcp_oauth_signer_read(ngx_conf_t *cf, ngx_http_mcp_oauth_signer_t *s,
    ngx_str_t *path)
{
    BIO  *bio;

    bio = BIO_new_file((char *) path->data, "r");
    if (bio == NULL) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, ngx_errno,
                           "\"mcp_oauth_signing_key\": cannot open \"%V\"",
                           path);
        return NGX_ERROR;
    }

    s->pkey = PEM_read_bio_PrivateKey(bio, NULL, NULL, NULL);
    BIO_free(bio);

    if (s->pkey == NULL) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "\"mcp_oauth_signing_key\": \"%V\" is not a PEM "
                           "private key", path);
        return NGX_ERROR;
    }

    return NGX_OK;
}


/* the kid: the RFC 7638 thumbprint of the public JWK members */

static ngx_int_t
ngx_http_mcp_oauth_signer_kid(ngx_conf_t *cf, ngx_http_mcp_oauth_signer_t *s,
    ngx_str_t *members)
{
    u_char     digest[32], *p;
    ngx_str_t  thumb;

    /* RFC 7638 §3: the required members, in order, without whitespace */

    thumb.len = members->len + 2;
    thumb.data = ngx_pnalloc(cf->temp_pool, thumb.len);
    if (thumb.data == NULL) {
        return NGX_ERROR;
    }

    p = thumb.data;
    *p++ = '{';
    p = ngx_cpymem(p, members->data, members->len);
    *p = '}';

    if (EVP_Digest(thumb.data, thumb.len, digest, NULL, EVP_sha256(), NULL)
        != 1)
    {
        return NGX_ERROR;
    }

    return ngx_http_mcp_oauth_b64url(cf->pool, digest, 32, &s->kid);
}


/* the public JWK Set, and the JWS header of the tokens, which names its kid */

static ngx_int_t
ngx_http_mcp_oauth_signer_publish(ngx_conf_t *cf,
    ngx_http_mcp_oauth_signer_t *s, ngx_str_t *members)
{
    ngx_str_t  jwks, header;

    jwks.data = ngx_pnalloc(cf->pool, members->len + s->kid.len
                                      + ngx_strlen(s->alg) + 64);
    if (jwks.data == NULL) {
        return NGX_ERROR;
    }

    jwks.len = ngx_sprintf(jwks.data,
                           "{\"keys\":[{%V,\"kid\":\"%V\",\"use\":\"sig\","
                           "\"alg\":\"%s\"}]}", members, &s->kid, s->alg)
               - jwks.data;
    s->jwks = jwks;

    header.data = ngx_pnalloc(cf->temp_pool, s->kid.len + 64);
    if (header.data == NULL) {
        return NGX_ERROR;
    }

    header.len = ngx_sprintf(header.data,
                             "{\"alg\":\"%s\",\"typ\":\"at+jwt\","
                             "\"kid\":\"%V\"}", s->alg, &s->kid)
                 - header.data;

    return ngx_http_mcp_oauth_b64url(cf->pool, header.data, header.len,
                                     &s->header);
}


static void
ngx_http_mcp_oauth_signer_cleanup(void *data)
{
    ngx_http_mcp_oauth_signer_t  *s = data;

    if (s->pkey) {
        EVP_PKEY_free(s->pkey);
    }

    OPENSSL_cleanse(s->seal, sizeof(s->seal));
    OPENSSL_cleanse(s->secret, sizeof(s->secret));
    OPENSSL_cleanse(s->csrf, sizeof(s->csrf));
}


/* the public JWK members of RFC 7638 §3.2, and the alg the key signs with */

static ngx_int_t
ngx_http_mcp_oauth_signer_jwk(ngx_conf_t *cf, ngx_http_mcp_oauth_signer_t *s,
    ngx_str_t *members)
{
    int        id;
    char       group[32];
    size_t     len;
    u_char     raw[64];
    ngx_str_t  n, e, x, y;

    id = EVP_PKEY_get_base_id(s->pkey);
    members->data = ngx_pnalloc(cf->pool, 2048);
    if (members->data == NULL) {
        return NGX_ERROR;
    }

    if (id == EVP_PKEY_RSA) {
        if (EVP_PKEY_get_bits(s->pkey) < 2048) {
            ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                               "\"mcp_oauth_signing_key\": RSA keys need "
                               "at least 2048 bits");
            return NGX_ERROR;
        }

        if (ngx_http_mcp_oauth_bn_param(cf->pool, s->pkey,
                                        OSSL_PKEY_PARAM_RSA_N, 0, &n)
            != NGX_OK
            || ngx_http_mcp_oauth_bn_param(cf->pool, s->pkey,
                                           OSSL_PKEY_PARAM_RSA_E, 0, &e)
               != NGX_OK
            || n.len + e.len > 1900)
        {
            ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                               "\"mcp_oauth_signing_key\": unusable RSA key");
            return NGX_ERROR;
        }

        s->alg = "RS256";
        members->len = ngx_sprintf(members->data,
                                   "\"e\":\"%V\",\"kty\":\"RSA\",\"n\":\"%V\"",
                                   &e, &n)
                       - members->data;
        return NGX_OK;
    }

    if (id == EVP_PKEY_EC) {
        if (EVP_PKEY_get_utf8_string_param(s->pkey,
                                           OSSL_PKEY_PARAM_GROUP_NAME,
                                           group, sizeof(group), NULL)
            != 1
            || ngx_strcmp(group, "prime256v1") != 0)
        {
            ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                               "\"mcp_oauth_signing_key\": EC keys must be "
                               "on P-256");
            return NGX_ERROR;
        }

        s->alg = "ES256";
        s->ec_size = 32;

        if (ngx_http_mcp_oauth_bn_param(cf->pool, s->pkey,
                                        OSSL_PKEY_PARAM_EC_PUB_X, 32, &x)
            != NGX_OK
            || ngx_http_mcp_oauth_bn_param(cf->pool, s->pkey,
                                           OSSL_PKEY_PARAM_EC_PUB_Y, 32, &y)
               != NGX_OK)
        {
            return NGX_ERROR;
        }

        members->len = ngx_sprintf(members->data,
                                   "\"crv\":\"P-256\",\"kty\":\"EC\","
                                   "\"x\":\"%V\",\"y\":\"%V\"", &x, &y)
                       - members->data;
        return NGX_OK;
    }

    if (id == EVP_PKEY_ED25519) {
        len = sizeof(raw);

        if (EVP_PKEY_get_raw_public_key(s->pkey, raw, &len) != 1
            || ngx_http_mcp_oauth_b64url(cf->pool, raw, len, &x) != NGX_OK)
        {
            return NGX_ERROR;
        }

        s->alg = "EdDSA";
        members->len = ngx_sprintf(members->data,
                                   "\"crv\":\"Ed25519\",\"kty\":\"OKP\","
                                   "\"x\":\"%V\"", &x)
                       - members->data;
        return NGX_OK;
    }

    ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                       "\"mcp_oauth_signing_key\": the key must be RSA, "
                       "EC P-256 or Ed25519");
    return NGX_ERROR;
}


static ngx_int_t
ngx_http_mcp_oauth_bn_param(ngx_pool_t *pool, EVP_PKEY *pkey,
    const char *name, size_t pad, ngx_str_t *out)
{
    int        len;
    u_char     buf[1024];
    BIGNUM    *bn;
    ngx_int_t  rc;

    bn = NULL;

    if (EVP_PKEY_get_bn_param(pkey, name, &bn) != 1) {
        return NGX_ERROR;
    }

    len = pad ? (int) pad : BN_num_bytes(bn);

    if (len > (int) sizeof(buf) || BN_bn2binpad(bn, buf, len) != len) {
        BN_free(bn);
        return NGX_ERROR;
    }

    BN_free(bn);

    rc = ngx_http_mcp_oauth_b64url(pool, buf, len, out);

    return rc;
}


/*
 * One master secret from the private key, and a key per purpose from it
 * (HMAC-SHA-256 as in HKDF-Expand with one block).
 */

static ngx_int_t
ngx_http_mcp_oauth_derive(ngx_http_mcp_oauth_signer_t *s)
{
    int             len;
    u_char         *der, master[32];
    unsigned int    n;
    ngx_int_t       rc;

    der = NULL;
    len = i2d_PrivateKey(s->pkey, &der);
    if (len <= 0) {
        return NGX_ERROR;
    }

    rc = NGX_ERROR;

    if (HMAC(EVP_sha256(), "ngx_mcp_oauth_module", 20, der, len, master, &n)
        == NULL
        || HMAC(EVP_sha256(), master, 32, (u_char *) "client id\1", 10,
                s->seal, &n) == NULL
        || HMAC(EVP_sha256(), master, 32, (u_char *) "client secret\1", 14,
                s->secret, &n) == NULL
        || HMAC(EVP_sha256(), master, 32, (u_char *) "consent\1", 8,
                s->csrf, &n) == NULL)
    {
        goto done;
    }

    rc = NGX_OK;

done:

    OPENSSL_cleanse(master, sizeof(master));
    OPENSSL_clear_free(der, len);

    return rc;
}


ngx_int_t
ngx_http_mcp_oauth_sign(ngx_pool_t *pool, ngx_http_mcp_oauth_signer_t *s,
    ngx_str_t *payload, ngx_str_t *jws)
{
    u_char          *p, sig[1024];
    size_t           siglen;
    ngx_int_t        rc;
    ngx_str_t        input, b64, der;
    EVP_MD_CTX      *md;
    ECDSA_SIG       *es;
    const u_char    *dp;
    const BIGNUM    *br, *bs;

    if (ngx_http_mcp_oauth_b64url(pool, payload->data, payload->len, &b64)
        != NGX_OK)
    {
        return NGX_ERROR;
    }

    /* header "." payload "." signature (at most 1024 bytes) */

    input.len = s->header.len + 1 + b64.len;
    input.data = ngx_pnalloc(pool, input.len + 1 + 1400);
    if (input.data == NULL) {
        return NGX_ERROR;
    }

    p = ngx_cpymem(input.data, s->header.data, s->header.len);
    *p++ = '.';
    p = ngx_cpymem(p, b64.data, b64.len);

    md = EVP_MD_CTX_new();
    if (md == NULL) {
        return NGX_ERROR;
    }

    siglen = sizeof(sig);
    rc = NGX_ERROR;

    if (EVP_DigestSignInit(md, NULL, s->ec_size || s->alg[0] == 'R'
                                     ? EVP_sha256() : NULL,
                           NULL, s->pkey)
        != 1
        || EVP_DigestSign(md, sig, &siglen, input.data, input.len) != 1)
    {
        goto done;
    }

    if (s->ec_size) {
        /* RFC 7518 §3.4: R || S, not DER */

        dp = sig;
        es = d2i_ECDSA_SIG(NULL, &dp, siglen);
        if (es == NULL) {
            goto done;
        }

        ECDSA_SIG_get0(es, &br, &bs);
        der.data = sig;

        if (BN_bn2binpad(br, der.data, s->ec_size) != (int) s->ec_size
            || BN_bn2binpad(bs, der.data + s->ec_size, s->ec_size)
               != (int) s->ec_size)
        {
            ECDSA_SIG_free(es);
            goto done;
        }

        ECDSA_SIG_free(es);
        siglen = 2 * s->ec_size;
    }

    *p++ = '.';
    b64.data = p;
    ngx_encode_base64url(&b64, &(ngx_str_t) { siglen, sig });

    jws->data = input.data;
    jws->len = p + b64.len - input.data;
    rc = NGX_OK;

done:

    EVP_MD_CTX_free(md);

    return rc;
}


ngx_int_t
ngx_http_mcp_oauth_random(ngx_pool_t *pool, size_t bytes, ngx_str_t *out)
{
    u_char  buf[64];

    if (bytes > sizeof(buf) || RAND_bytes(buf, bytes) != 1) {
        return NGX_ERROR;
    }

    return ngx_http_mcp_oauth_b64url(pool, buf, bytes, out);
}


/* HMAC-SHA-256 over length-prefixed parts, so no two inputs collide */

ngx_int_t
ngx_http_mcp_oauth_hmac(u_char *key, ngx_str_t *parts, ngx_uint_t n,
    u_char *mac)
{
    u_char       len[4];
    size_t       maclen;
    ngx_int_t    rc;
    ngx_uint_t   i;
    EVP_MAC     *m;
    EVP_MAC_CTX *ctx;
    OSSL_PARAM   params[2];

    m = EVP_MAC_fetch(NULL, "HMAC", NULL);
    if (m == NULL) {
        return NGX_ERROR;
    }

    ctx = EVP_MAC_CTX_new(m);
    EVP_MAC_free(m);

    if (ctx == NULL) {
        return NGX_ERROR;
    }

    params[0] = OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST,
                                                 "SHA256", 0);
    params[1] = OSSL_PARAM_construct_end();

    rc = NGX_ERROR;

    if (EVP_MAC_init(ctx, key, 32, params) != 1) {
        goto done;
    }

    for (i = 0; i < n; i++) {
        len[0] = (u_char) (parts[i].len >> 24);
        len[1] = (u_char) (parts[i].len >> 16);
        len[2] = (u_char) (parts[i].len >> 8);
        len[3] = (u_char) parts[i].len;

        if (EVP_MAC_update(ctx, len, 4) != 1
            || EVP_MAC_update(ctx, parts[i].data, parts[i].len) != 1)
        {
            goto done;
        }
    }

    if (EVP_MAC_final(ctx, mac, &maclen, 32) == 1 && maclen == 32) {
        rc = NGX_OK;
    }

done:

    EVP_MAC_CTX_free(ctx);

    return rc;
}


/* AES-256-GCM: base64url(nonce || ciphertext || tag) */

ngx_int_t
ngx_http_mcp_oauth_seal(ngx_pool_t *pool, u_char *key, ngx_str_t *plain,
    ngx_str_t *sealed)
{
    int              n;
    u_char          *buf;
    ngx_int_t        rc;
    EVP_CIPHER_CTX  *c;

    buf = ngx_pnalloc(pool, 12 + plain->len + 16);
    if (buf == NULL || RAND_bytes(buf, 12) != 1) {
        return NGX_ERROR;
    }

    c = EVP_CIPHER_CTX_new();
    if (c == NULL) {
        return NGX_ERROR;
    }

    rc = NGX_ERROR;

    if (EVP_EncryptInit_ex(c, EVP_aes_256_gcm(), NULL, key, buf) != 1
        || EVP_EncryptUpdate(c, buf + 12, &n, plain->data, plain->len) != 1
        || EVP_EncryptFinal_ex(c, buf + 12 + n, &n) != 1
        || EVP_CIPHER_CTX_ctrl(c, EVP_CTRL_GCM_GET_TAG, 16,
                               buf + 12 + plain->len) != 1)
    {
        goto done;
    }

    rc = ngx_http_mcp_oauth_b64url(pool, buf, 12 + plain->len + 16, sealed);

done:

    EVP_CIPHER_CTX_free(c);

    return rc;
}


ngx_int_t
ngx_http_mcp_oauth_unseal(ngx_pool_t *pool, u_char *key, ngx_str_t *sealed,
    ngx_str_t *plain)
{
    int              n;
    ngx_int_t        rc;
    ngx_str_t        raw, again;
    EVP_CIPHER_CTX  *c;

    if (sealed->len > NGX_HTTP_MCP_OAUTH_SEALED_MAX) {
        return NGX_DECLINED;
    }

    raw.data = ngx_pnalloc(pool, ngx_base64_decoded_length(sealed->len));
    again.data = ngx_pnalloc(pool, ngx_base64_encoded_length(sealed->len));
    if (raw.data == NULL || again.data == NULL) {
        return NGX_ERROR;
    }

    if (ngx_decode_base64url(&raw, sealed) != NGX_OK || raw.len < 12 + 16) {
        return NGX_DECLINED;
    }

    /* one spelling only: the decoder stops at "=" and ignores spare bits */

    ngx_encode_base64url(&again, &raw);

    if (again.len != sealed->len
        || ngx_memcmp(again.data, sealed->data, sealed->len) != 0)
    {
        return NGX_DECLINED;
    }

    plain->len = raw.len - 12 - 16;
    plain->data = ngx_pnalloc(pool, plain->len + 1);
    if (plain->data == NULL) {
        return NGX_ERROR;
    }

    c = EVP_CIPHER_CTX_new();
    if (c == NULL) {
        return NGX_ERROR;
    }

    rc = NGX_DECLINED;

    if (EVP_DecryptInit_ex(c, EVP_aes_256_gcm(), NULL, key, raw.data) == 1
        && EVP_DecryptUpdate(c, plain->data, &n, raw.data + 12, plain->len)
           == 1
        && EVP_CIPHER_CTX_ctrl(c, EVP_CTRL_GCM_SET_TAG, 16,
                               raw.data + raw.len - 16) == 1
        && EVP_DecryptFinal_ex(c, plain->data + n, &n) == 1)
    {
        rc = NGX_OK;
    }

    EVP_CIPHER_CTX_free(c);

    return rc;
}


/* the key of what one server caches of "value" (servers may share a zone) */

void
ngx_http_mcp_oauth_server_key(ngx_str_t *prefix,
    ngx_http_mcp_oauth_srv_conf_t *ascf, ngx_str_t *value, u_char *digest)
{
    ngx_str_t  *parts[3] = { prefix, &ascf->name, value };

    ngx_http_mcp_oauth_sha256_parts(parts, 3, digest);
}


/*
 * The IAM's tokens a record keeps (bridge "pass"), sealed: a copy of the
 * state (the zone, Redis) gives no usable token.  Empty stays empty.
 */

ngx_int_t
ngx_http_mcp_oauth_seal_token(ngx_pool_t *pool,
    ngx_http_mcp_oauth_signer_t *signer, ngx_str_t *token, ngx_str_t *sealed)
{
    if (token->len == 0) {
        *sealed = *token;
        return NGX_OK;
    }

    return ngx_http_mcp_oauth_seal(pool, signer->seal, token, sealed);
}


ngx_int_t
ngx_http_mcp_oauth_unseal_token(ngx_pool_t *pool,
    ngx_http_mcp_oauth_signer_t *signer, ngx_str_t *sealed, ngx_str_t *token)
{
    if (sealed->len == 0) {
        *token = *sealed;
        return NGX_OK;
    }

    return ngx_http_mcp_oauth_unseal(pool, signer->seal, sealed, token);
}
