
/*
 * ngx_mcp_oauth_module: the clients of the built-in authorization server.
 * Three kinds: static (mcp_oauth_client), registered (RFC 7591: the client
 * id is the registration, sealed with a key derived from the signing key,
 * so nothing is stored and every node with the key knows the client), and
 * Client ID Metadata Documents (an https client id, fetched by subrequest
 * and cached in the zone).
 */

#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>
#include <openssl/crypto.h>

#include "ngx_http_mcp_oauth_module.h"
#include "ngx_http_mcp_oauth_as.h"
#include "ngx_http_mcp_oauth_assertion.h"


static ngx_int_t ngx_http_mcp_oauth_variable_document_url(
    ngx_http_request_t *r, ngx_http_variable_value_t *v, uintptr_t data);


#define NGX_HTTP_MCP_OAUTH_REGISTER_MAX  16384
#define NGX_HTTP_MCP_OAUTH_SEALED        "mcp_"


static ngx_int_t ngx_http_mcp_oauth_client_unseal(ngx_http_request_t *r,
    ngx_http_mcp_oauth_srv_conf_t *ascf, ngx_str_t *id,
    ngx_http_mcp_oauth_client_t *c);
static ngx_int_t ngx_http_mcp_oauth_client_check(ngx_http_request_t *r,
    ngx_http_mcp_oauth_srv_conf_t *ascf, ngx_http_mcp_oauth_as_ctx_t *ctx);
static ngx_int_t ngx_http_mcp_oauth_client_basic(ngx_http_request_t *r,
    ngx_http_mcp_oauth_params_t *p, ngx_str_t *value, ngx_str_t *id,
    ngx_str_t *secret);
static ngx_int_t ngx_http_mcp_oauth_register_id(ngx_http_request_t *r,
    ngx_http_mcp_oauth_srv_conf_t *ascf, ngx_http_mcp_oauth_client_t *c,
    ngx_str_t *id);
static ngx_int_t ngx_http_mcp_oauth_register_answer(ngx_http_request_t *r,
    ngx_http_mcp_oauth_srv_conf_t *ascf, ngx_http_mcp_oauth_client_t *c,
    ngx_str_t *id, ngx_str_t *body);
static json_t *ngx_http_mcp_oauth_client_record(
    ngx_http_mcp_oauth_client_t *c, ngx_uint_t answer);
static ngx_int_t ngx_http_mcp_oauth_client_secret(ngx_pool_t *pool,
    ngx_http_mcp_oauth_srv_conf_t *ascf, ngx_str_t *id, ngx_str_t *secret);
static ngx_int_t ngx_http_mcp_oauth_document(ngx_http_request_t *r,
    ngx_http_mcp_oauth_srv_conf_t *ascf, ngx_http_mcp_oauth_as_ctx_t *ctx,
    ngx_str_t *url);


/*
 * ctx->client for "id".  NGX_OK: known; NGX_DECLINED: unknown;
 * NGX_AGAIN: its metadata document is being fetched, the handler runs again.
 */

ngx_int_t
ngx_http_mcp_oauth_client_find(ngx_http_request_t *r,
    ngx_http_mcp_oauth_srv_conf_t *ascf, ngx_http_mcp_oauth_as_ctx_t *ctx,
    ngx_str_t *id)
{
    ngx_uint_t                    i;
    ngx_http_mcp_oauth_client_t  *c;

    if (ctx->client.id.len == id->len
        && ngx_strncmp(ctx->client.id.data, id->data, id->len) == 0)
    {
        return NGX_OK;
    }

    if (ascf->clients) {
        c = ascf->clients->elts;

        for (i = 0; i < ascf->clients->nelts; i++) {
            if (c[i].id.len == id->len
                && ngx_strncmp(c[i].id.data, id->data, id->len) == 0)
            {
                ctx->client = c[i];
                return NGX_OK;
            }
        }
    }

    if (id->len > 8 && ngx_strncmp(id->data, "https://", 8) == 0) {
        return ngx_http_mcp_oauth_document(r, ascf, ctx, id);
    }

    if (id->len > sizeof(NGX_HTTP_MCP_OAUTH_SEALED) - 1
        && ngx_strncmp(id->data, NGX_HTTP_MCP_OAUTH_SEALED,
                       sizeof(NGX_HTTP_MCP_OAUTH_SEALED) - 1) == 0)
    {
        return ngx_http_mcp_oauth_client_unseal(r, ascf, id, &ctx->client);
    }

    return NGX_DECLINED;
}


static ngx_int_t
ngx_http_mcp_oauth_client_unseal(ngx_http_request_t *r,
    ngx_http_mcp_oauth_srv_conf_t *ascf, ngx_str_t *id,
    ngx_http_mcp_oauth_client_t *c)
{
    json_t     *doc;
    ngx_int_t   rc;
    ngx_str_t   sealed, plain;

    sealed.data = id->data + sizeof(NGX_HTTP_MCP_OAUTH_SEALED) - 1;
    sealed.len = id->len - (sizeof(NGX_HTTP_MCP_OAUTH_SEALED) - 1);

    rc = ngx_http_mcp_oauth_unseal(r->pool, ascf->signer->seal, &sealed,
                                   &plain);
    if (rc != NGX_OK) {
        return rc;
    }

    doc = json_loadb((char *) plain.data, plain.len, 0, NULL);
    if (doc == NULL) {
        return NGX_DECLINED;
    }

    ngx_memzero(c, sizeof(ngx_http_mcp_oauth_client_t));

    rc = ngx_http_mcp_oauth_client_json(r->pool, doc, c);
    json_decref(doc);

    if (rc != NGX_OK) {
        return rc;
    }

    c->id = *id;

    if (c->auth == NGX_HTTP_MCP_OAUTH_AUTH_BASIC
        || c->auth == NGX_HTTP_MCP_OAUTH_AUTH_POST)
    {
        return ngx_http_mcp_oauth_client_secret(r->pool, ascf, id, &c->secret);
    }

    return NGX_OK;
}


static ngx_int_t
ngx_http_mcp_oauth_client_secret(ngx_pool_t *pool,
    ngx_http_mcp_oauth_srv_conf_t *ascf, ngx_str_t *id, ngx_str_t *secret)
{
    u_char  mac[32];

    if (ngx_http_mcp_oauth_hmac(ascf->signer->secret, id, 1, mac) != NGX_OK) {
        return NGX_ERROR;
    }

    return ngx_http_mcp_oauth_b64url(pool, mac, 32, secret);
}


/*
 * Client authentication at /token and /revoke (RFC 6749 §2.3.1, RFC 7523
 * §2.2): as the client registered, once per request (an assertion's jti
 * is used up).  NGX_OK: ctx->client is the authenticated client;
 * NGX_DECLINED: invalid_client; NGX_AGAIN: fetching its document or keys,
 * or asking the state.
 */

ngx_int_t
ngx_http_mcp_oauth_client_auth(ngx_http_request_t *r,
    ngx_http_mcp_oauth_srv_conf_t *ascf, ngx_http_mcp_oauth_as_ctx_t *ctx)
{
    ngx_int_t  rc;

    if (ctx->authed) {
        return NGX_OK;
    }

    if (ngx_http_mcp_oauth_has(&ctx->params,
                               NGX_HTTP_MCP_OAUTH_P_CLIENT_ASSERTION_TYPE)
        || ngx_http_mcp_oauth_has(&ctx->params,
                                  NGX_HTTP_MCP_OAUTH_P_CLIENT_ASSERTION))
    {
        rc = ngx_http_mcp_oauth_client_assertion(r, ascf, ctx);

    } else {
        rc = ngx_http_mcp_oauth_client_check(r, ascf, ctx);
    }

    ctx->authed = (rc == NGX_OK);

    return rc;
}


/* a client id and secret, or a public client's id alone */

static ngx_int_t
ngx_http_mcp_oauth_client_check(ngx_http_request_t *r,
    ngx_http_mcp_oauth_srv_conf_t *ascf, ngx_http_mcp_oauth_as_ctx_t *ctx)
{
    ngx_int_t                     rc;
    ngx_uint_t                    method;
    ngx_str_t                     id, secret;
    ngx_table_elt_t              *h;
    ngx_http_mcp_oauth_params_t  *p;

    p = &ctx->params;
    ngx_str_null(&secret);
    method = NGX_HTTP_MCP_OAUTH_AUTH_NONE;

    h = r->headers_in.authorization;

    if (h && h->value.len > 6
        && ngx_strncasecmp(h->value.data, (u_char *) "Basic ", 6) == 0)
    {
        rc = ngx_http_mcp_oauth_client_basic(r, p, &h->value, &id, &secret);
        if (rc != NGX_OK) {
            return rc;
        }

        method = NGX_HTTP_MCP_OAUTH_AUTH_BASIC;

    } else {
        id = p->v[NGX_HTTP_MCP_OAUTH_P_CLIENT_ID];

        if (ngx_http_mcp_oauth_has(p, NGX_HTTP_MCP_OAUTH_P_CLIENT_SECRET)) {
            secret = p->v[NGX_HTTP_MCP_OAUTH_P_CLIENT_SECRET];
            method = NGX_HTTP_MCP_OAUTH_AUTH_POST;
        }
    }

    if (id.len == 0) {
        return NGX_DECLINED;
    }

    rc = ngx_http_mcp_oauth_client_find(r, ascf, ctx, &id);
    if (rc != NGX_OK) {
        return rc;
    }

    switch (ctx->client.auth) {

    case NGX_HTTP_MCP_OAUTH_AUTH_NONE:
        return (method == NGX_HTTP_MCP_OAUTH_AUTH_NONE) ? NGX_OK
                                                        : NGX_DECLINED;

    case NGX_HTTP_MCP_OAUTH_AUTH_JWT:
        /* its assertion, never a secret */
        return NGX_DECLINED;

    case NGX_HTTP_MCP_OAUTH_AUTH_SECRET:
        if (method == NGX_HTTP_MCP_OAUTH_AUTH_NONE) {
            return NGX_DECLINED;
        }

        break;

    default:
        if (method != ctx->client.auth) {
            return NGX_DECLINED;
        }
    }

    if (secret.len != ctx->client.secret.len
        || CRYPTO_memcmp(secret.data, ctx->client.secret.data, secret.len)
           != 0)
    {
        return NGX_DECLINED;
    }

    return NGX_OK;
}


/*
 * The client id and secret of "Authorization: Basic" (value), the same
 * client as the form's if it names one.  NGX_DECLINED: invalid_client.
 */

static ngx_int_t
ngx_http_mcp_oauth_client_basic(ngx_http_request_t *r,
    ngx_http_mcp_oauth_params_t *p, ngx_str_t *value, ngx_str_t *id,
    ngx_str_t *secret)
{
    u_char                       *colon, *q;
    ngx_str_t                     basic, decoded, form;
    ngx_http_mcp_oauth_params_t   bp;

    basic.data = value->data + 6;
    basic.len = value->len - 6;

    decoded.data = ngx_pnalloc(r->pool, ngx_base64_decoded_length(basic.len)
                                        + 1);
    if (decoded.data == NULL) {
        return NGX_ERROR;
    }

    if (ngx_decode_base64(&decoded, &basic) != NGX_OK) {
        return NGX_DECLINED;
    }

    colon = ngx_strlchr(decoded.data, decoded.data + decoded.len, ':');
    if (colon == NULL) {
        return NGX_DECLINED;
    }

    /* both halves are form-encoded first (RFC 6749 §2.3.1) */

    form.data = ngx_pnalloc(r->pool, decoded.len + 32);
    if (form.data == NULL) {
        return NGX_ERROR;
    }

    q = ngx_cpymem(form.data, "client_id=", 10);
    q = ngx_cpymem(q, decoded.data, colon - decoded.data);
    q = ngx_cpymem(q, "&client_secret=", 15);
    q = ngx_cpymem(q, colon + 1, decoded.data + decoded.len - colon - 1);
    form.len = q - form.data;

    ngx_memzero(&bp, sizeof(ngx_http_mcp_oauth_params_t));

    if (ngx_http_mcp_oauth_params_parse(r->pool, &form, &bp) != NGX_OK
        || bp.repeated)
    {
        return NGX_DECLINED;
    }

    *id = bp.v[NGX_HTTP_MCP_OAUTH_P_CLIENT_ID];
    *secret = bp.v[NGX_HTTP_MCP_OAUTH_P_CLIENT_SECRET];

    if (ngx_http_mcp_oauth_has(p, NGX_HTTP_MCP_OAUTH_P_CLIENT_ID)
        && (p->v[NGX_HTTP_MCP_OAUTH_P_CLIENT_ID].len != id->len
            || ngx_strncmp(p->v[NGX_HTTP_MCP_OAUTH_P_CLIENT_ID].data,
                           id->data, id->len) != 0))
    {
        return NGX_DECLINED;
    }

    return NGX_OK;
}


/* Dynamic Client Registration (RFC 7591) */

ngx_int_t
ngx_http_mcp_oauth_register_handler(ngx_http_request_t *r)
{
    ngx_int_t                       rc;
    ngx_str_t                       body, id;
    const char                     *error, *desc;
    ngx_http_mcp_oauth_client_t     c;
    ngx_http_mcp_oauth_as_ctx_t    *ctx;
    ngx_http_mcp_oauth_srv_conf_t  *ascf;

    if (r->method == NGX_HTTP_OPTIONS) {
        return ngx_http_mcp_oauth_preflight(r, "POST, OPTIONS");
    }

    if (r->method != NGX_HTTP_POST) {
        return NGX_HTTP_NOT_ALLOWED;
    }

    ascf = ngx_http_get_module_srv_conf(r, ngx_http_mcp_oauth_module);

    ctx = ngx_http_mcp_oauth_as_ctx(r);
    if (ctx == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    rc = ngx_http_mcp_oauth_as_body(r, ctx, NGX_HTTP_MCP_OAUTH_REGISTER_MAX);
    if (rc != NGX_OK) {
        return rc;
    }

    if (r->headers_in.content_type == NULL
        || r->headers_in.content_type->value.len < 16
        || ngx_strncasecmp(r->headers_in.content_type->value.data,
                           (u_char *) "application/json", 16) != 0)
    {
        return ngx_http_mcp_oauth_as_error(r, NGX_HTTP_BAD_REQUEST,
                                           "invalid_client_metadata",
                                           "the registration must be "
                                           "application/json");
    }

    if (ngx_http_mcp_oauth_body(r, &body) != NGX_OK) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    rc = ngx_http_mcp_oauth_registration_parse(r->pool, ascf, &body, &c,
                                               &error, &desc);
    if (rc == NGX_ERROR) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    if (rc != NGX_OK) {
        return ngx_http_mcp_oauth_as_error(r, NGX_HTTP_BAD_REQUEST, error,
                                           desc);
    }

    rc = ngx_http_mcp_oauth_register_id(r, ascf, &c, &id);

    if (rc == NGX_DECLINED) {
        /* /token could not unseal it */
        return ngx_http_mcp_oauth_as_error(r, NGX_HTTP_BAD_REQUEST,
                                           "invalid_client_metadata",
                                           "the registration is too large "
                                           "for a client id: fewer or "
                                           "shorter redirect URIs, name or "
                                           "scope");
    }

    if (rc != NGX_OK
        || ngx_http_mcp_oauth_register_answer(r, ascf, &c, &id, &body)
           != NGX_OK)
    {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    ngx_log_error(NGX_LOG_INFO, r->connection->log, 0,
                  "mcp_oauth: client registered, auth %s",
                  ngx_http_mcp_oauth_auth_name(c.auth));

    return ngx_http_mcp_oauth_as_send(r, NGX_HTTP_CREATED, "application/json",
                                      &body);
}


/*
 * The registration sealed into the client id: nothing is stored.
 * NGX_DECLINED: too large for a client id.
 */

static ngx_int_t
ngx_http_mcp_oauth_register_id(ngx_http_request_t *r,
    ngx_http_mcp_oauth_srv_conf_t *ascf, ngx_http_mcp_oauth_client_t *c,
    ngx_str_t *id)
{
    json_t     *rec;
    ngx_str_t   text, sealed;

    rec = ngx_http_mcp_oauth_client_record(c, 0);

    if (rec == NULL
        || ngx_http_mcp_oauth_json_out(r->pool, rec, &text) != NGX_OK
        || ngx_http_mcp_oauth_seal(r->pool, ascf->signer->seal, &text,
                                   &sealed)
           != NGX_OK)
    {
        json_decref(rec);
        return NGX_ERROR;
    }

    json_decref(rec);

    if (sealed.len > NGX_HTTP_MCP_OAUTH_SEALED_MAX) {
        return NGX_DECLINED;
    }

    id->len = sizeof(NGX_HTTP_MCP_OAUTH_SEALED) - 1 + sealed.len;
    id->data = ngx_pnalloc(r->pool, id->len);
    if (id->data == NULL) {
        return NGX_ERROR;
    }

    ngx_memcpy(ngx_cpymem(id->data, NGX_HTTP_MCP_OAUTH_SEALED,
                          sizeof(NGX_HTTP_MCP_OAUTH_SEALED) - 1),
               sealed.data, sealed.len);

    return NGX_OK;
}


/* the answer: what was registered, and never a null (CLIENTS.md) */

static ngx_int_t
ngx_http_mcp_oauth_register_answer(ngx_http_request_t *r,
    ngx_http_mcp_oauth_srv_conf_t *ascf, ngx_http_mcp_oauth_client_t *c,
    ngx_str_t *id, ngx_str_t *body)
{
    json_t     *out;
    ngx_int_t   rc;
    ngx_str_t   secret;

    out = ngx_http_mcp_oauth_client_record(c, 1);
    if (out == NULL) {
        return NGX_ERROR;
    }

    json_object_set_new(out, "client_id",
                        json_stringn((char *) id->data, id->len));
    json_object_set_new(out, "client_id_issued_at", json_integer(ngx_time()));

    if (c->auth == NGX_HTTP_MCP_OAUTH_AUTH_BASIC
        || c->auth == NGX_HTTP_MCP_OAUTH_AUTH_POST)
    {
        if (ngx_http_mcp_oauth_client_secret(r->pool, ascf, id, &secret)
            != NGX_OK)
        {
            json_decref(out);
            return NGX_ERROR;
        }

        json_object_set_new(out, "client_secret",
                            json_stringn((char *) secret.data, secret.len));
        json_object_set_new(out, "client_secret_expires_at", json_integer(0));
    }

    ngx_http_mcp_oauth_count(r, NGX_HTTP_MCP_OAUTH_M_REGISTRATIONS, "ok",
                             NULL);

    rc = ngx_http_mcp_oauth_json_out(r->pool, out, body);
    json_decref(out);

    return rc;
}


/*
 * A client as JSON: the short record sealed into client ids, or the RFC 7591
 * §3.2.1 answer (without client_id and secret).
 */

static json_t *
ngx_http_mcp_oauth_client_record(ngx_http_mcp_oauth_client_t *c,
    ngx_uint_t answer)
{
    json_t      *doc, *uris, *grants;
    ngx_str_t   *uri;
    ngx_uint_t   i;

    doc = json_object();
    uris = json_array();

    if (doc == NULL || uris == NULL) {
        json_decref(doc);
        json_decref(uris);
        return NULL;
    }

    uri = c->redirect_uris->elts;

    for (i = 0; i < c->redirect_uris->nelts; i++) {
        json_array_append_new(uris, json_stringn((char *) uri[i].data,
                                                 uri[i].len));
    }

    if (!answer) {
        json_object_set_new(doc, "r", uris);
        json_object_set_new(doc, "m", json_integer(c->auth));
        json_object_set_new(doc, "g", json_integer(c->grants));

        if (c->name.len) {
            json_object_set_new(doc, "n", json_stringn((char *) c->name.data,
                                                       c->name.len));
        }

        if (c->scope.len) {
            json_object_set_new(doc, "s", json_stringn((char *) c->scope.data,
                                                       c->scope.len));
        }

        if (c->jwks.len) {
            json_object_set_new(doc, "k", json_stringn((char *) c->jwks.data,
                                                       c->jwks.len));
        }

        if (c->jwks_uri.len) {
            json_object_set_new(doc, "u",
                                json_stringn((char *) c->jwks_uri.data,
                                             c->jwks_uri.len));
        }

        return doc;
    }

    grants = json_array();

    if (c->grants & NGX_HTTP_MCP_OAUTH_GRANT_CODE) {
        json_array_append_new(grants, json_string("authorization_code"));
    }

    if (c->grants & NGX_HTTP_MCP_OAUTH_GRANT_REFRESH) {
        json_array_append_new(grants, json_string("refresh_token"));
    }

    if (c->grants & NGX_HTTP_MCP_OAUTH_GRANT_CLIENT) {
        json_array_append_new(grants, json_string("client_credentials"));
    }

    if (c->grants & NGX_HTTP_MCP_OAUTH_GRANT_DEVICE) {
        json_array_append_new(grants,
                              json_string(NGX_HTTP_MCP_OAUTH_DEVICE_GRANT));
    }

    json_object_set_new(doc, "redirect_uris", uris);
    json_object_set_new(doc, "grant_types", grants);
    json_object_set_new(doc, "response_types", json_pack("[s]", "code"));
    json_object_set_new(doc, "token_endpoint_auth_method",
                        json_string(ngx_http_mcp_oauth_auth_name(c->auth)));

    if (c->name.len) {
        json_object_set_new(doc, "client_name",
                            json_stringn((char *) c->name.data, c->name.len));
    }

    if (c->scope.len) {
        json_object_set_new(doc, "scope",
                            json_stringn((char *) c->scope.data,
                                         c->scope.len));
    }

    if (c->jwks.len) {
        json_object_set_new(doc, "jwks",
                            json_loadb((char *) c->jwks.data, c->jwks.len, 0,
                                       NULL));
    }

    if (c->jwks_uri.len) {
        json_object_set_new(doc, "jwks_uri",
                            json_stringn((char *) c->jwks_uri.data,
                                         c->jwks_uri.len));
    }

    return doc;
}


/*
 * Client ID Metadata Documents: from the zone, else fetched through
 * mcp_oauth_client_metadata_request.
 */

static ngx_int_t
ngx_http_mcp_oauth_document(ngx_http_request_t *r,
    ngx_http_mcp_oauth_srv_conf_t *ascf, ngx_http_mcp_oauth_as_ctx_t *ctx,
    ngx_str_t *url)
{
    u_char      key[32];
    ngx_int_t   rc;
    ngx_str_t   doc;

    static ngx_str_t  prefix = ngx_string("document");

    if (ascf->cimd_uri.len == 0) {
        ngx_log_error(NGX_LOG_INFO, r->connection->log, 0,
                      "mcp_oauth: client id \"%V\" is a metadata document "
                      "URL, and mcp_oauth_client_metadata_request is not "
                      "set", url);
        return NGX_DECLINED;
    }

    if (ngx_http_mcp_oauth_document_url(ascf, url) != NGX_OK) {
        ngx_log_error(NGX_LOG_INFO, r->connection->log, 0,
                      "mcp_oauth: client metadata document URL \"%V\" "
                      "refused (https with a path, not a private address)",
                      url);
        return NGX_DECLINED;
    }

    ngx_http_mcp_oauth_sha256(&prefix, url, key);

    if (ctx->cimd.done) {
        ctx->cimd.done = 0;
        rc = NGX_DECLINED;

        if (ctx->cimd.status != NGX_HTTP_OK) {
            ngx_log_error(NGX_LOG_INFO, r->connection->log, 0,
                          "mcp_oauth: client metadata document \"%V\" could "
                          "not be fetched (status %ui, or too large)", url,
                          ctx->cimd.status);
            ngx_http_mcp_oauth_count(r, NGX_HTTP_MCP_OAUTH_M_CIMD_FETCHES,
                                     "failed", NULL);

        } else {
            rc = ngx_http_mcp_oauth_document_parse(r->pool, r->connection->log,
                                                   ascf, url, &ctx->cimd.body,
                                                   &ctx->client);
            if (rc == NGX_ERROR) {
                return NGX_ERROR;
            }

            ngx_http_mcp_oauth_count(r, NGX_HTTP_MCP_OAUTH_M_CIMD_FETCHES,
                                     rc == NGX_OK ? "ok" : "refused", NULL);
        }

        /*
         * Kept either way (a refused one, empty, for a minute), so that a
         * client cannot make us fetch again and again; a full zone only
         * costs a fetch next time.
         */

        if (rc != NGX_OK) {
            ctx->cimd.body.len = 0;
        }

        (void) ngx_http_mcp_oauth_store_put(ascf->zone, key,
                                            NGX_HTTP_MCP_OAUTH_ENTRY_DOCUMENT,
                                            ngx_time() + (rc == NGX_OK
                                                          ? ascf->cimd_cache
                                                          : 60),
                                            &ctx->cimd.body,
                                            r->connection->log);
        return rc;
    }

    if (ngx_http_mcp_oauth_store_get(ascf->zone, key,
                                     NGX_HTTP_MCP_OAUTH_ENTRY_DOCUMENT,
                                     r->pool, &doc, 0)
        == NGX_OK)
    {
        if (doc.len == 0) {
            ngx_log_error(NGX_LOG_INFO, r->connection->log, 0,
                          "mcp_oauth: client metadata document \"%V\" was "
                          "refused less than a minute ago", url);
            return NGX_DECLINED;
        }

        return ngx_http_mcp_oauth_document_parse(r->pool, r->connection->log,
                                                 ascf, url, &doc,
                                                 &ctx->client);
    }

    if (ctx->cimd.pending) {
        return NGX_AGAIN;
    }

    ctx->fetch_url = *url;

    if (ngx_http_mcp_oauth_fetch(r, &ascf->cimd_uri, &ctx->cimd) == NULL) {
        return NGX_ERROR;
    }

    return NGX_AGAIN;
}


/* $mcp_oauth_client_metadata_url: for the fetching location's proxy_pass */

ngx_int_t
ngx_http_mcp_oauth_as_add_variables(ngx_conf_t *cf)
{
    ngx_http_variable_t  *var;

    static ngx_str_t  name = ngx_string("mcp_oauth_client_metadata_url");

    var = ngx_http_add_variable(cf, &name, NGX_HTTP_VAR_NOCACHEABLE);
    if (var == NULL) {
        return NGX_ERROR;
    }

    var->get_handler = ngx_http_mcp_oauth_variable_document_url;

    return NGX_OK;
}


static ngx_int_t
ngx_http_mcp_oauth_variable_document_url(ngx_http_request_t *r,
    ngx_http_variable_value_t *v, uintptr_t data)
{
    ngx_http_mcp_oauth_ctx_t     *ctx;
    ngx_http_mcp_oauth_as_ctx_t  *as;

    ctx = ngx_http_mcp_oauth_get_ctx(r->main);
    as = ctx ? ctx->as : NULL;

    if (as == NULL || as->fetch_url.len == 0) {
        v->not_found = 1;
        return NGX_OK;
    }

    v->data = as->fetch_url.data;
    v->len = as->fetch_url.len;
    v->valid = 1;
    v->no_cacheable = 1;
    v->not_found = 0;

    return NGX_OK;
}
