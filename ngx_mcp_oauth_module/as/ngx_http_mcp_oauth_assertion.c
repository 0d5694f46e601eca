
/*
 * ngx_mcp_oauth_module: one verifier for the JWT assertions the
 * authorization server takes (RFC 7523 §3): an identity provider's ID-JAG
 * at the jwt-bearer grant, a client's private_key_jwt (RFC 7523 §2.2) at
 * /token and /revoke.  The signature is checked by the verifier of access
 * tokens, the key deciding the algorithm (RFC 8725 §3.1); the keys are
 * configured, registered, or fetched through a location of the user's and
 * cached in the zone; the jti is used once in the state, so that a fleet
 * sharing Redis refuses a replay on any node.
 */

#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include "ngx_http_mcp_oauth_module.h"
#include "ngx_http_mcp_oauth_assertion.h"


static ngx_int_t ngx_http_mcp_oauth_keys_parse(ngx_http_request_t *r,
    ngx_str_t *text, ngx_http_mcp_oauth_keyset_t **keys);
static ngx_int_t ngx_http_mcp_oauth_keys_fetched(ngx_http_request_t *r,
    ngx_http_mcp_oauth_srv_conf_t *ascf, ngx_http_mcp_oauth_as_ctx_t *ctx,
    ngx_http_mcp_oauth_keys_t *src, u_char *key,
    ngx_http_mcp_oauth_keyset_t **keys);
static ngx_int_t ngx_http_mcp_oauth_assertion_client(ngx_http_request_t *r,
    ngx_http_mcp_oauth_srv_conf_t *ascf, ngx_http_mcp_oauth_as_ctx_t *ctx,
    ngx_http_mcp_oauth_assertion_t *a);
static ngx_int_t ngx_http_mcp_oauth_assertion_same(ngx_str_t *a,
    const char *b);
static ngx_int_t ngx_http_mcp_oauth_url_of(ngx_pool_t *pool, ngx_str_t *base,
    const char *path, ngx_str_t *url);


/* the JWS and its claims, not verified yet: NGX_DECLINED, a->desc says why */

ngx_int_t
ngx_http_mcp_oauth_assertion_parse(ngx_pool_t *pool, ngx_str_t *text,
    ngx_uint_t typ, ngx_http_mcp_oauth_assertion_t *a)
{
    char                         *err;
    ngx_http_mcp_oauth_member_t  *jti;

    ngx_memzero(a, sizeof(ngx_http_mcp_oauth_assertion_t));

    if (ngx_http_mcp_oauth_jwt_parse_typed(pool, text, typ, &a->jwt, &err)
        != NGX_OK
        || ngx_http_mcp_oauth_claims_extract(pool, &a->jwt, &a->claims, &err)
           != NGX_OK)
    {
        a->desc = err;
        return NGX_DECLINED;
    }

    jti = &a->jwt.claims[NGX_HTTP_MCP_OAUTH_CLAIM_JTI];

    if (jti->type == NGX_HTTP_MCP_OAUTH_JSON_STRING) {
        a->jti = jti->value;
    }

    return NGX_OK;
}


/*
 * The keys of "src": configured, a registration's JWK Set, or fetched
 * (from the zone while cached).  NGX_DECLINED: none to be had; NGX_AGAIN:
 * being fetched, the handler runs again.
 */

ngx_int_t
ngx_http_mcp_oauth_assertion_keys(ngx_http_request_t *r,
    ngx_http_mcp_oauth_srv_conf_t *ascf, ngx_http_mcp_oauth_as_ctx_t *ctx,
    ngx_http_mcp_oauth_keys_t *src, ngx_http_mcp_oauth_keyset_t **keys)
{
    u_char     key[32];
    ngx_str_t  text;

    if (src->keys) {
        *keys = src->keys;
        return NGX_OK;
    }

    if (src->jwks.len) {
        return ngx_http_mcp_oauth_keys_parse(r, &src->jwks, keys);
    }

    if (src->fetch.len == 0 || src->url.len == 0) {
        return NGX_DECLINED;
    }

    ngx_http_mcp_oauth_sha256(&src->prefix, &src->url, key);

    if (ctx->keys.done) {
        return ngx_http_mcp_oauth_keys_fetched(r, ascf, ctx, src, key, keys);
    }

    if (ngx_http_mcp_oauth_store_get(ascf->zone, key,
                                     NGX_HTTP_MCP_OAUTH_ENTRY_DOCUMENT,
                                     r->pool, &text, 0)
        == NGX_OK)
    {
        /* an empty one: refused less than a minute ago */
        return text.len ? ngx_http_mcp_oauth_keys_parse(r, &text, keys)
                        : NGX_DECLINED;
    }

    if (ctx->keys.pending) {
        return NGX_AGAIN;
    }

    ctx->fetch_url = src->url;

    if (ngx_http_mcp_oauth_fetch(r, &src->fetch, &ctx->keys) == NULL) {
        return NGX_ERROR;
    }

    return NGX_AGAIN;
}


/* a fetched JWK Set, kept either way (a refused one, empty, for a minute) */

static ngx_int_t
ngx_http_mcp_oauth_keys_fetched(ngx_http_request_t *r,
    ngx_http_mcp_oauth_srv_conf_t *ascf, ngx_http_mcp_oauth_as_ctx_t *ctx,
    ngx_http_mcp_oauth_keys_t *src, u_char *key,
    ngx_http_mcp_oauth_keyset_t **keys)
{
    ngx_int_t   rc;
    ngx_str_t  *text;

    ctx->keys.done = 0;
    text = &ctx->keys.body;
    rc = NGX_DECLINED;

    if (ctx->keys.status == NGX_HTTP_OK && text->len) {
        rc = ngx_http_mcp_oauth_keys_parse(r, text, keys);
        if (rc == NGX_ERROR) {
            return NGX_ERROR;
        }
    }

    if (rc != NGX_OK) {
        ngx_log_error(NGX_LOG_ERR, r->connection->log, 0,
                      "mcp_oauth: the JWK Set \"%V\" could not be fetched "
                      "(status %ui) or has no usable key", &src->url,
                      ctx->keys.status);
        text->len = 0;
    }

    (void) ngx_http_mcp_oauth_store_put(ascf->zone, key,
                                        NGX_HTTP_MCP_OAUTH_ENTRY_DOCUMENT,
                                        ngx_time() + (rc == NGX_OK
                                                      ? src->cache : 60),
                                        text, r->connection->log);
    return rc;
}


static ngx_int_t
ngx_http_mcp_oauth_keys_parse(ngx_http_request_t *r, ngx_str_t *text,
    ngx_http_mcp_oauth_keyset_t **keys)
{
    char  *err;

    /* someone else's keys: never a shared secret */

    *keys = ngx_http_mcp_oauth_jwks_parse(r->pool, r->connection->log,
                                          NGX_LOG_INFO, text->data, text->len,
                                          0, &err);
    if (*keys == NULL) {
        ngx_log_error(NGX_LOG_INFO, r->connection->log, 0,
                      "mcp_oauth: assertion keys: %s", err);
        return NGX_DECLINED;
    }

    return NGX_OK;
}


/*
 * The signature with "keys", then the claims RFC 7523 §3 requires: iss,
 * aud one of "aud", exp (near: a short lifetime), iat, jti.
 * NGX_DECLINED: a->desc says why.
 */

ngx_int_t
ngx_http_mcp_oauth_assertion_verify(ngx_http_request_t *r,
    ngx_http_mcp_oauth_assertion_t *a, ngx_http_mcp_oauth_keyset_t *keys,
    ngx_str_t *iss, ngx_str_t *aud, ngx_uint_t naud)
{
    char                              *err;
    ngx_uint_t                         i;
    ngx_array_t                        issuers;
    ngx_http_mcp_oauth_loc_conf_t     *mlcf;
    ngx_http_mcp_oauth_claims_conf_t   cc;

    if (ngx_http_mcp_oauth_jwt_verify(&a->jwt, &keys, 1, &err) != NGX_OK) {
        a->desc = err;
        return NGX_DECLINED;
    }

    for (i = 0; i < naud; i++) {
        if (ngx_http_mcp_oauth_str_find(&a->claims.aud, &aud[i]) == NGX_OK) {
            break;
        }
    }

    if (i == naud) {
        a->desc = "aud is not this authorization server";
        return NGX_DECLINED;
    }

    mlcf = ngx_http_get_module_loc_conf(r, ngx_http_mcp_oauth_module);

    ngx_memzero(&issuers, sizeof(ngx_array_t));
    issuers.elts = iss;
    issuers.nelts = 1;
    issuers.size = sizeof(ngx_str_t);

    cc.issuers = &issuers;
    cc.audience = aud[i];
    cc.leeway = mlcf->leeway;
    cc.now = ngx_time();

    if (ngx_http_mcp_oauth_claims_check(&a->claims, &cc, &err) != NGX_OK) {
        a->desc = err;
        return NGX_DECLINED;
    }

    if (!a->claims.has_iat || a->jti.len == 0) {
        a->desc = "iat and jti are required";
        return NGX_DECLINED;
    }

    if (a->claims.exp > cc.now + NGX_HTTP_MCP_OAUTH_ASSERTION_LIFETIME
                        + cc.leeway)
    {
        a->desc = "exp is more than 10 minutes away";
        return NGX_DECLINED;
    }

    return NGX_OK;
}


/*
 * The jti used once (RFC 7523 §3 item 7), marked until the assertion
 * expires.  NGX_DECLINED: seen before; else the state's codes (a full zone
 * cannot tell a replay: NGX_ABORT).
 */

ngx_int_t
ngx_http_mcp_oauth_assertion_use(ngx_http_request_t *r,
    ngx_http_mcp_oauth_as_ctx_t *ctx, ngx_http_mcp_oauth_assertion_t *a,
    const char *what)
{
    u_char                          key[32];
    ngx_int_t                       rc;
    ngx_str_t                       empty, prefix, *parts[3];
    ngx_http_mcp_oauth_loc_conf_t  *mlcf;

    mlcf = ngx_http_get_module_loc_conf(r, ngx_http_mcp_oauth_module);

    ngx_str_set(&prefix, "jti");
    ngx_str_null(&empty);

    parts[0] = &prefix;
    parts[1] = &a->claims.iss;
    parts[2] = &a->jti;

    ngx_http_mcp_oauth_sha256_parts(parts, 3, key);

    rc = ngx_http_mcp_oauth_state_put(r, &ctx->state, key,
                                      NGX_HTTP_MCP_OAUTH_ENTRY_USED,
                                      a->claims.exp + mlcf->leeway, &empty);
    if (rc == NGX_BUSY) {
        ngx_http_mcp_oauth_count(r, NGX_HTTP_MCP_OAUTH_M_REPLAYS, what, NULL);
        ngx_log_error(NGX_LOG_WARN, r->connection->log, 0,
                      "mcp_oauth: %s of \"%V\" presented again (jti)", what,
                      &a->claims.iss);
        a->desc = "the assertion was already used (jti)";
        return NGX_DECLINED;
    }

    return (rc == NGX_DECLINED) ? NGX_ABORT : rc;
}


/*
 * private_key_jwt (RFC 7523 §2.2, RFC 7521 §4.2): the client's assertion,
 * signed with a key of its registration.  NGX_OK: ctx->client is the
 * authenticated client; NGX_DECLINED: invalid_client (the reason in the
 * log); NGX_AGAIN: fetching its document or keys.
 */

ngx_int_t
ngx_http_mcp_oauth_client_assertion(ngx_http_request_t *r,
    ngx_http_mcp_oauth_srv_conf_t *ascf, ngx_http_mcp_oauth_as_ctx_t *ctx)
{
    ngx_int_t                        rc;
    ngx_str_t                       *v;
    ngx_http_mcp_oauth_assertion_t  *a;

    v = ctx->params.v;

    a = ngx_palloc(r->pool, sizeof(ngx_http_mcp_oauth_assertion_t));
    if (a == NULL) {
        return NGX_ERROR;
    }

    /* one method only (RFC 6749 §2.3) */

    if (!ngx_http_mcp_oauth_assertion_same(
             &v[NGX_HTTP_MCP_OAUTH_P_CLIENT_ASSERTION_TYPE],
             NGX_HTTP_MCP_OAUTH_CLIENT_ASSERTION_TYPE)
        || r->headers_in.authorization
        || ngx_http_mcp_oauth_has(&ctx->params,
                                  NGX_HTTP_MCP_OAUTH_P_CLIENT_SECRET))
    {
        ngx_log_error(NGX_LOG_INFO, r->connection->log, 0,
                      "mcp_oauth: client assertion: an unknown "
                      "client_assertion_type, or a secret too");
        return NGX_DECLINED;
    }

    if (ngx_http_mcp_oauth_assertion_parse(r->pool,
            &v[NGX_HTTP_MCP_OAUTH_P_CLIENT_ASSERTION],
            NGX_HTTP_MCP_OAUTH_TYP_CLIENT, a)
        != NGX_OK)
    {
        ngx_log_error(NGX_LOG_INFO, r->connection->log, 0,
                      "mcp_oauth: client assertion refused: %s", a->desc);
        return NGX_DECLINED;
    }

    rc = ngx_http_mcp_oauth_assertion_client(r, ascf, ctx, a);

    if (rc == NGX_DECLINED) {
        ngx_log_error(NGX_LOG_INFO, r->connection->log, 0,
                      "mcp_oauth: client assertion of \"%V\" refused: %s",
                      &a->claims.sub, a->desc);
    }

    return rc;
}


/* iss = sub = the client, whose keys verify it; its jti used once */

static ngx_int_t
ngx_http_mcp_oauth_assertion_client(ngx_http_request_t *r,
    ngx_http_mcp_oauth_srv_conf_t *ascf, ngx_http_mcp_oauth_as_ctx_t *ctx,
    ngx_http_mcp_oauth_assertion_t *a)
{
    ngx_int_t                     rc;
    ngx_str_t                    *id, aud[3];
    ngx_http_mcp_oauth_keys_t     src;
    ngx_http_mcp_oauth_client_t  *c;
    ngx_http_mcp_oauth_keyset_t  *keys;

    id = ngx_http_mcp_oauth_has(&ctx->params, NGX_HTTP_MCP_OAUTH_P_CLIENT_ID)
         ? &ctx->params.v[NGX_HTTP_MCP_OAUTH_P_CLIENT_ID] : &a->claims.sub;

    if (id->len == 0
        || a->claims.iss.len != id->len || a->claims.sub.len != id->len
        || ngx_strncmp(a->claims.iss.data, id->data, id->len) != 0
        || ngx_strncmp(a->claims.sub.data, id->data, id->len) != 0)
    {
        a->desc = "iss and sub must be the client id";
        return NGX_DECLINED;
    }

    rc = ngx_http_mcp_oauth_client_find(r, ascf, ctx, id);
    if (rc != NGX_OK) {
        a->desc = "unknown client";
        return rc;
    }

    c = &ctx->client;

    /* a metadata document's client may also be public (ChatGPT's) */

    if (c->auth != NGX_HTTP_MCP_OAUTH_AUTH_JWT
        && !(c->document && (c->jwks.len || c->jwks_uri.len)))
    {
        a->desc = "the client does not authenticate with private_key_jwt";
        return NGX_DECLINED;
    }

    ngx_memzero(&src, sizeof(ngx_http_mcp_oauth_keys_t));
    src.keys = c->keys;
    src.jwks = c->jwks;
    src.fetch = ascf->cimd_uri;
    src.url = c->jwks_uri;
    src.cache = ascf->cimd_cache;
    ngx_str_set(&src.prefix, "client-jwks");

    rc = ngx_http_mcp_oauth_assertion_keys(r, ascf, ctx, &src, &keys);
    if (rc != NGX_OK) {
        a->desc = "the client's keys cannot be had";
        return rc;
    }

    /* RFC 7523 §3 item 3: the token endpoint; our issuer (RFC 7523bis) */

    aud[0] = ascf->issuer;

    if (ngx_http_mcp_oauth_url_of(r->pool, &ascf->base, "/token", &aud[1])
        != NGX_OK
        || ngx_http_mcp_oauth_url_of(r->pool, &ascf->base, "/revoke", &aud[2])
           != NGX_OK)
    {
        return NGX_ERROR;
    }

    rc = ngx_http_mcp_oauth_assertion_verify(r, a, keys, id, aud, 3);

    if (rc == NGX_OK) {
        rc = ngx_http_mcp_oauth_assertion_use(r, ctx, a, "client_assertion");
    }

    if (rc == NGX_OK) {
        /* how it authenticated here: a confidential client */
        c->auth = NGX_HTTP_MCP_OAUTH_AUTH_JWT;
    }

    return rc;
}


static ngx_int_t
ngx_http_mcp_oauth_assertion_same(ngx_str_t *a, const char *b)
{
    size_t  len;

    len = ngx_strlen(b);

    return a->len == len && ngx_strncmp(a->data, b, len) == 0;
}


/* an endpoint's URL: the issuer without its "/", and the path */

static ngx_int_t
ngx_http_mcp_oauth_url_of(ngx_pool_t *pool, ngx_str_t *base,
    const char *path, ngx_str_t *url)
{
    url->len = base->len + ngx_strlen(path);
    url->data = ngx_pnalloc(pool, url->len);
    if (url->data == NULL) {
        return NGX_ERROR;
    }

    ngx_memcpy(ngx_cpymem(url->data, base->data, base->len), path,
               url->len - base->len);

    return NGX_OK;
}
