
/*
 * ngx_mcp_oauth_module: JWS compact serialization (RFC 7515 §7.1), signature
 * verification with EVP on keys prepared from a JWK Set, and the claims
 * checks of RFC 9068 §4 and RFC 8725 §3.
 */

#include <ngx_config.h>
#include <ngx_core.h>
#include <openssl/evp.h>
#include <openssl/ec.h>
#include <openssl/rsa.h>
#include <openssl/hmac.h>
#include <openssl/crypto.h>

#include "ngx_http_mcp_oauth_jwt.h"
#include "ngx_http_mcp_oauth_string.h"


static void ngx_http_mcp_oauth_jwt_init(ngx_http_mcp_oauth_jwt_t *jwt);
static ngx_int_t ngx_http_mcp_oauth_jwt_split(ngx_str_t *token,
    ngx_http_mcp_oauth_jwt_t *jwt, u_char **dots, char **err);
static ngx_int_t ngx_http_mcp_oauth_jwt_payload(ngx_pool_t *pool,
    ngx_http_mcp_oauth_jwt_t *jwt, u_char **dot);
static ngx_int_t ngx_http_mcp_oauth_jwt_header(ngx_pool_t *pool,
    ngx_http_mcp_oauth_jwt_t *jwt, ngx_str_t *json, ngx_uint_t typ,
    char **err);
static ngx_int_t ngx_http_mcp_oauth_jwt_typ(ngx_http_mcp_oauth_member_t *h,
    ngx_uint_t typ);
static ngx_int_t ngx_http_mcp_oauth_jwt_segment(ngx_pool_t *pool,
    ngx_str_t *src, ngx_str_t *dst);
static ngx_int_t ngx_http_mcp_oauth_verify_key(ngx_http_mcp_oauth_jwt_t *jwt,
    const ngx_http_mcp_oauth_alg_t *a, ngx_http_mcp_oauth_key_t *key);
static ngx_int_t ngx_http_mcp_oauth_verify_ecdsa(ngx_http_mcp_oauth_jwt_t *jwt,
    const ngx_http_mcp_oauth_alg_t *a, ngx_http_mcp_oauth_key_t *key);
static ngx_int_t ngx_http_mcp_oauth_verify_ctx(ngx_http_mcp_oauth_verifier_t *v,
    ngx_http_mcp_oauth_rsa_t *rsa, const char *md, u_char *sig, size_t siglen,
    ngx_str_t *tbs);
static ngx_int_t ngx_http_mcp_oauth_verify_evp(EVP_PKEY *pkey,
    const char *md, unsigned pss, u_char *sig, size_t siglen, ngx_str_t *tbs);
static ngx_int_t ngx_http_mcp_oauth_claim_str(ngx_http_mcp_oauth_member_t *m,
    ngx_str_t *s);
static ngx_int_t ngx_http_mcp_oauth_claim_ident(
    ngx_http_mcp_oauth_member_t *m, ngx_str_t *s);
static ngx_int_t ngx_http_mcp_oauth_claim_time(ngx_http_mcp_oauth_member_t *m,
    time_t *t);
static ngx_int_t ngx_http_mcp_oauth_claims_times(
    ngx_http_mcp_oauth_member_t *m, ngx_http_mcp_oauth_claims_t *c,
    char **err);
static ngx_int_t ngx_http_mcp_oauth_claims_identities(
    ngx_http_mcp_oauth_member_t *m, ngx_http_mcp_oauth_claims_t *c,
    char **err);
static ngx_int_t ngx_http_mcp_oauth_claims_scopes(
    ngx_http_mcp_oauth_member_t *m, ngx_http_mcp_oauth_claims_t *c,
    char **err);


static ngx_str_t  ngx_http_mcp_oauth_claim_names[] = {
    ngx_string("exp"),
    ngx_string("nbf"),
    ngx_string("iat"),
    ngx_string("iss"),
    ngx_string("sub"),
    ngx_string("client_id"),
    ngx_string("azp"),
    ngx_string("aud"),
    ngx_string("scope"),
    ngx_string("scp"),
    ngx_string("sid"),
    ngx_string("jti"),
    ngx_string("resource")
};


ngx_int_t
ngx_http_mcp_oauth_jwt_parse(ngx_pool_t *pool, ngx_str_t *token,
    ngx_http_mcp_oauth_jwt_t *jwt, char **err)
{
    return ngx_http_mcp_oauth_jwt_parse_typed(pool, token,
                                              NGX_HTTP_MCP_OAUTH_TYP_ACCESS,
                                              jwt, err);
}


ngx_int_t
ngx_http_mcp_oauth_jwt_parse_typed(ngx_pool_t *pool, ngx_str_t *token,
    ngx_uint_t typ, ngx_http_mcp_oauth_jwt_t *jwt, char **err)
{
    u_char     *dot[2];
    ngx_str_t   part, json;

    ngx_http_mcp_oauth_jwt_init(jwt);

    if (token->len > NGX_HTTP_MCP_OAUTH_TOKEN_MAX) {
        *err = "token too large";
        return NGX_ERROR;
    }

    if (ngx_http_mcp_oauth_jwt_split(token, jwt, dot, err) != NGX_OK) {
        return NGX_ERROR;
    }

    part.data = token->data;
    part.len = dot[0] - token->data;

    if (ngx_http_mcp_oauth_jwt_segment(pool, &part, &json) != NGX_OK) {
        *err = "malformed token header (not base64url JSON object)";
        return NGX_ERROR;
    }

    if (ngx_http_mcp_oauth_jwt_header(pool, jwt, &json, typ, err) != NGX_OK) {
        return NGX_ERROR;
    }

    if (ngx_http_mcp_oauth_jwt_payload(pool, jwt, dot) != NGX_OK) {
        *err = "malformed token payload (not base64url JSON object)";
        return NGX_ERROR;
    }

    part.data = dot[1] + 1;
    part.len = token->data + token->len - part.data;

    jwt->signature.data = ngx_pnalloc(pool,
                                      ngx_base64_decoded_length(part.len) + 1);
    if (jwt->signature.data == NULL) {
        *err = "out of memory";
        return NGX_ERROR;
    }

    if (ngx_http_mcp_oauth_b64url_decode(&jwt->signature, &part) != NGX_OK
        || jwt->signature.len == 0)
    {
        *err = "malformed token signature";
        return NGX_ERROR;
    }

    return NGX_OK;
}


/*
 * The claims of a token not verified here (one the IAM's token endpoint
 * gave over its own connection, OpenID Connect Core §3.1.3.7): the payload
 * taken out as jwt_parse does; the header and the signature are not read.
 */

ngx_int_t
ngx_http_mcp_oauth_jwt_unverified(ngx_pool_t *pool, ngx_str_t *token,
    ngx_http_mcp_oauth_jwt_t *jwt)
{
    char    *err;
    u_char  *dot[2];

    ngx_http_mcp_oauth_jwt_init(jwt);

    if (ngx_http_mcp_oauth_jwt_split(token, jwt, dot, &err) != NGX_OK
        || ngx_http_mcp_oauth_jwt_payload(pool, jwt, dot) != NGX_OK)
    {
        return NGX_ERROR;
    }

    return NGX_OK;
}


/* NGX_OK: the token's aud, a string or an array of strings, names it */

ngx_int_t
ngx_http_mcp_oauth_jwt_audience(ngx_http_mcp_oauth_jwt_t *jwt,
    ngx_str_t *audience)
{
    ngx_http_mcp_oauth_member_t  *v;

    v = &jwt->claims[NGX_HTTP_MCP_OAUTH_CLAIM_AUD];

    if (v->type == NGX_HTTP_MCP_OAUTH_JSON_STRING) {
        return (v->value.len == audience->len
                && ngx_memcmp(v->value.data, audience->data, audience->len)
                   == 0)
               ? NGX_OK : NGX_DECLINED;
    }

    if (v->type == NGX_HTTP_MCP_OAUTH_JSON_ARRAY) {
        return ngx_http_mcp_oauth_str_find(v->strings, audience);
    }

    return NGX_DECLINED;
}


static void
ngx_http_mcp_oauth_jwt_init(ngx_http_mcp_oauth_jwt_t *jwt)
{
    ngx_uint_t  i;

    ngx_memzero(jwt, sizeof(ngx_http_mcp_oauth_jwt_t));

    for (i = 0; i < NGX_HTTP_MCP_OAUTH_CLAIM_N; i++) {
        jwt->claims[i].name = ngx_http_mcp_oauth_claim_names[i];
    }
}


/* the two dots of a JWS compact serialization (RFC 7515 §7.1) */

static ngx_int_t
ngx_http_mcp_oauth_jwt_split(ngx_str_t *token, ngx_http_mcp_oauth_jwt_t *jwt,
    u_char **dots, char **err)
{
    u_char      *p, *last, *dot[4];
    ngx_uint_t   n;

    n = 0;
    last = token->data + token->len;

    for (p = token->data;
         p < last && (p = memchr(p, '.', last - p)) != NULL;
         p++)
    {
        if (n == 4) {
            *err = "malformed token";
            return NGX_ERROR;
        }

        dot[n++] = p;
    }

    if (n == 4) {
        /* RFC 7516 §7.1: five parts is a JWE */
        *err = "encrypted tokens (JWE) are not accepted";
        return NGX_ERROR;
    }

    if (n != 2) {
        *err = "malformed token (not a JWS compact serialization)";
        return NGX_ERROR;
    }

    dots[0] = dot[0];
    dots[1] = dot[1];

    jwt->signing_input.data = token->data;
    jwt->signing_input.len = dot[1] - token->data;

    return NGX_OK;
}


/* the claims are taken out with the payload checked as one JSON object */

static ngx_int_t
ngx_http_mcp_oauth_jwt_payload(ngx_pool_t *pool,
    ngx_http_mcp_oauth_jwt_t *jwt, u_char **dot)
{
    ngx_str_t  part;

    part.data = dot[0] + 1;
    part.len = dot[1] - part.data;

    if (ngx_http_mcp_oauth_jwt_segment(pool, &part, &jwt->payload_json)
        != NGX_OK)
    {
        return NGX_ERROR;
    }

    return ngx_http_mcp_oauth_json_members(pool, jwt->payload_json.data,
                                           jwt->payload_json.len, jwt->claims,
                                           NGX_HTTP_MCP_OAUTH_CLAIM_N);
}


static ngx_int_t
ngx_http_mcp_oauth_jwt_header(ngx_pool_t *pool, ngx_http_mcp_oauth_jwt_t *jwt,
    ngx_str_t *json, ngx_uint_t typ, char **err)
{
    ngx_http_mcp_oauth_member_t   h[4];

    ngx_str_set(&h[0].name, "alg");
    ngx_str_set(&h[1].name, "kid");
    ngx_str_set(&h[2].name, "typ");
    ngx_str_set(&h[3].name, "crit");

    if (ngx_http_mcp_oauth_json_members(pool, json->data, json->len, h, 4)
        != NGX_OK)
    {
        *err = "malformed token header (not base64url JSON object)";
        return NGX_ERROR;
    }

    if (h[0].type != NGX_HTTP_MCP_OAUTH_JSON_STRING) {
        *err = "no alg in token header";
        return NGX_ERROR;
    }

    jwt->alg = ngx_http_mcp_oauth_alg_by_name(h[0].value.data, h[0].value.len);

    if (jwt->alg == NGX_HTTP_MCP_OAUTH_ALG_UNKNOWN) {
        *err = "unsupported alg (alg none is never accepted)";
        return NGX_ERROR;
    }

    if (h[1].type) {
        if (h[1].type != NGX_HTTP_MCP_OAUTH_JSON_STRING) {
            *err = "kid is not a string";
            return NGX_ERROR;
        }

        jwt->kid = h[1].value;
        jwt->has_kid = 1;
    }

    if (ngx_http_mcp_oauth_jwt_typ(&h[2], typ) != NGX_OK) {
        *err = "unexpected typ in token header";
        return NGX_ERROR;
    }

    /* RFC 7515 §4.1.11: no extension is understood here */

    if (h[3].type) {
        *err = "unsupported critical header parameter";
        return NGX_ERROR;
    }

    return NGX_OK;
}


/*
 * RFC 9068 §4: "at+jwt", or plain JWTs as many IAMs issue them; an ID-JAG
 * only "oauth-id-jag+jwt"; a client assertion "JWT" or
 * "client-authentication+jwt".  Media types: "application/" may lead, and
 * the case does not matter (RFC 7515 §4.1.9).
 */

static ngx_int_t
ngx_http_mcp_oauth_jwt_typ(ngx_http_mcp_oauth_member_t *h, ngx_uint_t typ)
{
    u_char      *p;
    size_t       len;
    ngx_uint_t   i;

    static ngx_str_t  allowed[][2] = {
        { ngx_string("JWT"), ngx_string("at+jwt") },
        { ngx_string("oauth-id-jag+jwt"), ngx_null_string },
        { ngx_string("JWT"), ngx_string("client-authentication+jwt") }
    };

    if (h->type == 0) {
        return (typ == NGX_HTTP_MCP_OAUTH_TYP_ID_JAG) ? NGX_ERROR : NGX_OK;
    }

    if (h->type != NGX_HTTP_MCP_OAUTH_JSON_STRING) {
        return NGX_ERROR;
    }

    p = h->value.data;
    len = h->value.len;

    if (len > 12 && ngx_strncasecmp(p, (u_char *) "application/", 12) == 0) {
        p += 12;
        len -= 12;
    }

    for (i = 0; i < 2; i++) {
        if (len && allowed[typ][i].len == len
            && ngx_strncasecmp(p, allowed[typ][i].data, len) == 0)
        {
            return NGX_OK;
        }
    }

    return NGX_ERROR;
}


/* a base64url segment, decoded */

static ngx_int_t
ngx_http_mcp_oauth_jwt_segment(ngx_pool_t *pool, ngx_str_t *src,
    ngx_str_t *dst)
{
    if (src->len == 0) {
        return NGX_ERROR;
    }

    dst->data = ngx_pnalloc(pool, ngx_base64_decoded_length(src->len) + 1);
    if (dst->data == NULL) {
        return NGX_ERROR;
    }

    return ngx_http_mcp_oauth_b64url_decode(dst, src);
}


ngx_int_t
ngx_http_mcp_oauth_jwt_verify(ngx_http_mcp_oauth_jwt_t *jwt,
    ngx_http_mcp_oauth_keyset_t **sets, ngx_uint_t nsets, char **err)
{
    ngx_uint_t                       i, s, kid_found, tried;
    ngx_http_mcp_oauth_key_t        *key;
    const ngx_http_mcp_oauth_alg_t  *a;

    a = ngx_http_mcp_oauth_alg(jwt->alg);
    kid_found = 0;
    tried = 0;

    for (s = 0; s < nsets; s++) {

        if (sets[s] == NULL) {
            continue;
        }

        key = sets[s]->keys.elts;

        for (i = 0; i < sets[s]->keys.nelts; i++) {

            if (jwt->has_kid) {
                if (!key[i].has_kid
                    || key[i].kid.len != jwt->kid.len
                    || ngx_memcmp(key[i].kid.data, jwt->kid.data,
                                  jwt->kid.len) != 0)
                {
                    continue;
                }

                kid_found = 1;
            }

            /* RFC 8725 §3.1: the key decides which algorithms are allowed */

            if (key[i].kty != a->kty
                || (a->curve && key[i].curve != a->curve)
                || (key[i].alg && key[i].alg != jwt->alg))
            {
                continue;
            }

            tried = 1;

            if (ngx_http_mcp_oauth_verify_key(jwt, a, &key[i]) == NGX_OK) {
                return NGX_OK;
            }
        }
    }

    if (tried) {
        *err = "signature verification failed";
        return NGX_ERROR;
    }

    if (kid_found) {
        *err = "alg not allowed for the key";
        return NGX_ERROR;
    }

    *err = jwt->has_kid ? "unknown kid" : "no key for the token's alg";

    return NGX_DECLINED;
}


static ngx_int_t
ngx_http_mcp_oauth_verify_key(ngx_http_mcp_oauth_jwt_t *jwt,
    const ngx_http_mcp_oauth_alg_t *a, ngx_http_mcp_oauth_key_t *key)
{
    u_char         mac[EVP_MAX_MD_SIZE];
    unsigned int   maclen;
    const EVP_MD  *md;

    switch (key->kty) {

    case NGX_HTTP_MCP_OAUTH_KTY_RSA:
        if (key->verifier[jwt->alg].ctx) {
            return ngx_http_mcp_oauth_verify_ctx(&key->verifier[jwt->alg],
                                                 a->pss ? NULL : key->rsa,
                                                 a->md,
                                                 jwt->signature.data,
                                                 jwt->signature.len,
                                                 &jwt->signing_input);
        }

        return ngx_http_mcp_oauth_verify_evp(key->pkey, a->md, a->pss,
                                             jwt->signature.data,
                                             jwt->signature.len,
                                             &jwt->signing_input);

    case NGX_HTTP_MCP_OAUTH_KTY_EC:
        return ngx_http_mcp_oauth_verify_ecdsa(jwt, a, key);

    case NGX_HTTP_MCP_OAUTH_KTY_OKP:
        return ngx_http_mcp_oauth_verify_evp(key->pkey, NULL, 0,
                                             jwt->signature.data,
                                             jwt->signature.len,
                                             &jwt->signing_input);

    case NGX_HTTP_MCP_OAUTH_KTY_OCT:
        md = EVP_get_digestbyname(a->md);

        if (md == NULL
            || HMAC(md, key->secret.data, key->secret.len,
                    jwt->signing_input.data, jwt->signing_input.len,
                    mac, &maclen) == NULL
            || maclen != jwt->signature.len
            || CRYPTO_memcmp(mac, jwt->signature.data, maclen) != 0)
        {
            return NGX_ERROR;
        }

        return NGX_OK;
    }

    return NGX_ERROR;
}


/* RFC 7518 §3.4: JWS carries R || S, each of the curve's size; EVP wants DER */

static ngx_int_t
ngx_http_mcp_oauth_verify_ecdsa(ngx_http_mcp_oauth_jwt_t *jwt,
    const ngx_http_mcp_oauth_alg_t *a, ngx_http_mcp_oauth_key_t *key)
{
    int         len;
    u_char     *der, buf[160];
    BIGNUM     *r, *s;
    ngx_int_t   rc;
    ECDSA_SIG  *sig;

    if (jwt->signature.len != 2 * a->size) {
        return NGX_ERROR;
    }

    sig = ECDSA_SIG_new();
    r = BN_bin2bn(jwt->signature.data, a->size, NULL);
    s = BN_bin2bn(jwt->signature.data + a->size, a->size, NULL);

    if (sig == NULL || r == NULL || s == NULL || !ECDSA_SIG_set0(sig, r, s)) {
        ECDSA_SIG_free(sig);
        BN_free(r);
        BN_free(s);
        return NGX_ERROR;
    }

    if (i2d_ECDSA_SIG(sig, NULL) > (int) sizeof(buf)) {
        ECDSA_SIG_free(sig);
        return NGX_ERROR;
    }

    der = buf;
    len = i2d_ECDSA_SIG(sig, &der);
    ECDSA_SIG_free(sig);

    if (len <= 0) {
        return NGX_ERROR;
    }

    if (key->verifier[jwt->alg].ctx) {
        return ngx_http_mcp_oauth_verify_ctx(&key->verifier[jwt->alg], NULL,
                                             NULL, buf, len,
                                             &jwt->signing_input);
    }

    rc = ngx_http_mcp_oauth_verify_evp(key->pkey, a->md, 0, buf, len,
                                       &jwt->signing_input);

    return rc;
}


/* rsa: the key's IFMA verifier for PKCS #1 v1.5, if it has one */

static ngx_int_t
ngx_http_mcp_oauth_verify_ctx(ngx_http_mcp_oauth_verifier_t *v,
    ngx_http_mcp_oauth_rsa_t *rsa, const char *md, u_char *sig, size_t siglen,
    ngx_str_t *tbs)
{
    u_char        digest[EVP_MAX_MD_SIZE];
    ngx_int_t     rc;
    unsigned int  len;

    if (EVP_Digest(tbs->data, tbs->len, digest, &len, v->md, NULL) != 1) {
        return NGX_ERROR;
    }

    if (rsa) {
        rc = ngx_http_mcp_oauth_rsa_verify(rsa, md, digest, len, sig, siglen);

        if (rc != NGX_DECLINED) {
            return rc;
        }
    }

    return (EVP_PKEY_verify(v->ctx, sig, siglen, digest, len) == 1)
           ? NGX_OK : NGX_ERROR;
}


static ngx_int_t
ngx_http_mcp_oauth_verify_evp(EVP_PKEY *pkey, const char *md, unsigned pss,
    u_char *sig, size_t siglen, ngx_str_t *tbs)
{
    int            ok;
    EVP_MD_CTX    *mctx;
    EVP_PKEY_CTX  *pctx;

    mctx = EVP_MD_CTX_new();
    if (mctx == NULL) {
        return NGX_ERROR;
    }

    ok = EVP_DigestVerifyInit_ex(mctx, &pctx, md, NULL, NULL, pkey, NULL) == 1;

    if (ok && pss) {
        /* RFC 7518 §3.5: MGF1 with the same hash, salt of the hash size */
        ok = EVP_PKEY_CTX_set_rsa_padding(pctx, RSA_PKCS1_PSS_PADDING) > 0
             && EVP_PKEY_CTX_set_rsa_pss_saltlen(pctx,
                                                 RSA_PSS_SALTLEN_DIGEST) > 0;
    }

    if (ok) {
        ok = EVP_DigestVerify(mctx, sig, siglen, tbs->data, tbs->len) == 1;
    }

    EVP_MD_CTX_free(mctx);

    return ok ? NGX_OK : NGX_ERROR;
}


ngx_int_t
ngx_http_mcp_oauth_claims_extract(ngx_pool_t *pool,
    ngx_http_mcp_oauth_jwt_t *jwt, ngx_http_mcp_oauth_claims_t *c,
    char **err)
{
    ngx_str_t                    *s;
    ngx_http_mcp_oauth_member_t  *m, *v;

    m = jwt->claims;

    ngx_memzero(c, sizeof(ngx_http_mcp_oauth_claims_t));

    if (ngx_array_init(&c->aud, pool, 2, sizeof(ngx_str_t)) != NGX_OK
        || ngx_array_init(&c->scopes, pool, 4, sizeof(ngx_str_t)) != NGX_OK)
    {
        *err = "out of memory";
        return NGX_ERROR;
    }

    if (ngx_http_mcp_oauth_claims_times(m, c, err) != NGX_OK
        || ngx_http_mcp_oauth_claims_identities(m, c, err) != NGX_OK)
    {
        return NGX_ERROR;
    }

    ngx_http_mcp_oauth_claim_str(&m[NGX_HTTP_MCP_OAUTH_CLAIM_ISS], &c->iss);
    ngx_http_mcp_oauth_claim_str(&m[NGX_HTTP_MCP_OAUTH_CLAIM_SID], &c->sid);

    /* aud: a string or an array of strings (RFC 7519 §4.1.3) */

    v = &m[NGX_HTTP_MCP_OAUTH_CLAIM_AUD];
    c->has_aud = (v->type != 0);

    if (v->type == NGX_HTTP_MCP_OAUTH_JSON_STRING) {
        s = ngx_array_push(&c->aud);
        if (s == NULL) {
            *err = "out of memory";
            return NGX_ERROR;
        }

        *s = v->value;

    } else if (v->type == NGX_HTTP_MCP_OAUTH_JSON_ARRAY) {
        c->aud = *v->strings;
    }

    if (ngx_http_mcp_oauth_claims_scopes(m, c, err) != NGX_OK) {
        return NGX_ERROR;
    }

    c->payload = jwt->payload_json;

    if (ngx_http_mcp_oauth_str_join(pool, &c->scopes, &c->scope) != NGX_OK) {
        *err = "out of memory";
        return NGX_ERROR;
    }

    return NGX_OK;
}


/* exp (required), nbf, iat: NumericDates (RFC 7519 §2) */

static ngx_int_t
ngx_http_mcp_oauth_claims_times(ngx_http_mcp_oauth_member_t *m,
    ngx_http_mcp_oauth_claims_t *c, char **err)
{
    ngx_int_t  rc;

    rc = ngx_http_mcp_oauth_claim_time(&m[NGX_HTTP_MCP_OAUTH_CLAIM_EXP],
                                       &c->exp);

    if (rc != NGX_OK) {
        *err = (rc == NGX_DECLINED) ? "token has no exp"
                                    : "exp is not a number";
        return NGX_ERROR;
    }

    rc = ngx_http_mcp_oauth_claim_time(&m[NGX_HTTP_MCP_OAUTH_CLAIM_NBF],
                                       &c->nbf);

    if (rc == NGX_ERROR) {
        *err = "nbf is not a number";
        return NGX_ERROR;
    }

    c->has_nbf = (rc == NGX_OK);

    rc = ngx_http_mcp_oauth_claim_time(&m[NGX_HTTP_MCP_OAUTH_CLAIM_IAT],
                                       &c->iat);

    if (rc == NGX_ERROR) {
        *err = "iat is not a number";
        return NGX_ERROR;
    }

    c->has_iat = (rc == NGX_OK);

    return NGX_OK;
}


static ngx_int_t
ngx_http_mcp_oauth_claims_identities(ngx_http_mcp_oauth_member_t *m,
    ngx_http_mcp_oauth_claims_t *c, char **err)
{
    ngx_int_t  rc;

    /*
     * The identities the upstream gets ($mcp_oauth_sub, $mcp_oauth_client_id)
     * are strings without control characters, or the token is refused: a
     * number would give an empty identity, and a control character would
     * need an encoding that can collide with a printable string.
     */

    rc = ngx_http_mcp_oauth_claim_ident(&m[NGX_HTTP_MCP_OAUTH_CLAIM_SUB],
                                        &c->sub);

    if (rc == NGX_ERROR || rc == NGX_ABORT) {
        *err = (rc == NGX_ERROR) ? "sub is not a string"
                                 : "sub holds a control character";
        return NGX_ERROR;
    }

    /* RFC 9068 §2.2 client_id; "azp" from IAMs that follow OpenID instead */

    rc = ngx_http_mcp_oauth_claim_ident(&m[NGX_HTTP_MCP_OAUTH_CLAIM_CLIENT_ID],
                                        &c->client_id);

    if (rc == NGX_ERROR || rc == NGX_ABORT) {
        *err = (rc == NGX_ERROR) ? "client_id is not a string"
                                 : "client_id holds a control character";
        return NGX_ERROR;
    }

    if (rc == NGX_DECLINED) {
        rc = ngx_http_mcp_oauth_claim_ident(&m[NGX_HTTP_MCP_OAUTH_CLAIM_AZP],
                                            &c->client_id);

        if (rc == NGX_ERROR || rc == NGX_ABORT) {
            *err = (rc == NGX_ERROR) ? "azp is not a string"
                                     : "azp holds a control character";
            return NGX_ERROR;
        }
    }

    return NGX_OK;
}


static ngx_int_t
ngx_http_mcp_oauth_claims_scopes(ngx_http_mcp_oauth_member_t *m,
    ngx_http_mcp_oauth_claims_t *c, char **err)
{
    u_char                       *p, *last, *start;
    ngx_str_t                    *s, *e;
    ngx_uint_t                    i;
    ngx_http_mcp_oauth_member_t  *v;

    /*
     * Granted scopes: "scope", space-delimited (RFC 9068 §2.2.3), else "scp"
     * as an array or a string.  A scope token never holds a space
     * (RFC 6749 §3.3): array elements that do are not scopes.
     */

    v = &m[NGX_HTTP_MCP_OAUTH_CLAIM_SCOPE];
    if (v->type == 0) {
        v = &m[NGX_HTTP_MCP_OAUTH_CLAIM_SCP];
    }

    if (v->type == NGX_HTTP_MCP_OAUTH_JSON_ARRAY) {
        e = v->strings->elts;

        for (i = 0; i < v->strings->nelts; i++) {
            if (e[i].len == 0
                || ngx_strlchr(e[i].data, e[i].data + e[i].len, ' '))
            {
                continue;
            }

            s = ngx_array_push(&c->scopes);
            if (s == NULL) {
                *err = "out of memory";
                return NGX_ERROR;
            }

            *s = e[i];
        }

    } else if (v->type == NGX_HTTP_MCP_OAUTH_JSON_STRING) {
        p = v->value.data;
        last = p + v->value.len;

        while (p < last) {
            while (p < last && *p == ' ') {
                p++;
            }

            start = p;

            while (p < last && *p != ' ') {
                p++;
            }

            if (p > start) {
                s = ngx_array_push(&c->scopes);
                if (s == NULL) {
                    *err = "out of memory";
                    return NGX_ERROR;
                }

                s->data = start;
                s->len = p - start;
            }
        }
    }

    return NGX_OK;
}


ngx_int_t
ngx_http_mcp_oauth_claims_check(ngx_http_mcp_oauth_claims_t *c,
    ngx_http_mcp_oauth_claims_conf_t *cc, char **err)
{
    if (cc->now >= c->exp + cc->leeway) {
        *err = "token expired";
        return NGX_ERROR;
    }

    if (c->has_nbf && cc->now + cc->leeway < c->nbf) {
        *err = "token not yet valid (nbf)";
        return NGX_ERROR;
    }

    if (c->has_iat && cc->now + cc->leeway < c->iat) {
        *err = "token issued in the future (iat)";
        return NGX_ERROR;
    }

    /* iss: exact string comparison, no normalisation (RFC 9068 §4) */

    if (c->iss.len == 0) {
        *err = "token has no iss";
        return NGX_ERROR;
    }

    if (ngx_http_mcp_oauth_str_find(cc->issuers, &c->iss) != NGX_OK) {
        *err = "untrusted issuer";
        return NGX_ERROR;
    }

    if (ngx_http_mcp_oauth_str_find(&c->aud, &cc->audience) == NGX_OK) {
        return NGX_OK;
    }

    *err = c->has_aud ? "token not issued for this resource"
                      : "token has no aud";

    return NGX_ERROR;
}


static ngx_int_t
ngx_http_mcp_oauth_claim_str(ngx_http_mcp_oauth_member_t *m, ngx_str_t *s)
{
    if (m->type != NGX_HTTP_MCP_OAUTH_JSON_STRING) {
        return NGX_DECLINED;
    }

    *s = m->value;

    return NGX_OK;
}


/*
 * NGX_OK: a string without control characters (U+0000..U+001F, U+007F);
 * NGX_DECLINED: absent; NGX_ERROR: not a string; NGX_ABORT: a string with
 * a control character.
 */

static ngx_int_t
ngx_http_mcp_oauth_claim_ident(ngx_http_mcp_oauth_member_t *m, ngx_str_t *s)
{
    u_char  *p, *last;

    if (m->type == 0) {
        return NGX_DECLINED;
    }

    if (m->type != NGX_HTTP_MCP_OAUTH_JSON_STRING) {
        return NGX_ERROR;
    }

    last = m->value.data + m->value.len;

    for (p = m->value.data; p < last; p++) {
        if (*p < 0x20 || *p == 0x7f) {
            return NGX_ABORT;
        }
    }

    *s = m->value;

    return NGX_OK;
}


static ngx_int_t
ngx_http_mcp_oauth_claim_time(ngx_http_mcp_oauth_member_t *m, time_t *t)
{
    u_char  buf[64];
    double  d;

    if (m->type == 0) {
        return NGX_DECLINED;
    }

    if (m->type != NGX_HTTP_MCP_OAUTH_JSON_NUMBER
        || m->value.len >= sizeof(buf))
    {
        return NGX_ERROR;
    }

    ngx_cpystrn(buf, m->value.data, m->value.len + 1);

    d = strtod((char *) buf, NULL);

    /* NumericDate (RFC 7519 §2); keep far-off values from overflowing */

    if (d != d || d < -1e15 || d > 1e15) {
        return NGX_ERROR;
    }

    *t = (time_t) d;

    return NGX_OK;
}
