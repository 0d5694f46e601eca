
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


#define NGX_HTTP_MCP_OAUTH_REGISTER_MAX  16384
#define NGX_HTTP_MCP_OAUTH_SEALED        "mcp_"


static ngx_int_t ngx_http_mcp_oauth_client_unseal(ngx_http_request_t *r,
    ngx_http_mcp_oauth_srv_conf_t *ascf, ngx_str_t *id,
    ngx_http_mcp_oauth_client_t *c);
static ngx_int_t ngx_http_mcp_oauth_client_json(ngx_pool_t *pool,
    json_t *doc, ngx_http_mcp_oauth_client_t *c);
static ngx_int_t ngx_http_mcp_oauth_client_secret(ngx_pool_t *pool,
    ngx_http_mcp_oauth_srv_conf_t *ascf, ngx_str_t *id, ngx_str_t *secret);
static ngx_int_t ngx_http_mcp_oauth_document(ngx_http_request_t *r,
    ngx_http_mcp_oauth_srv_conf_t *ascf, ngx_http_mcp_oauth_as_ctx_t *ctx,
    ngx_str_t *url);
static ngx_int_t ngx_http_mcp_oauth_document_parse(ngx_http_request_t *r,
    ngx_http_mcp_oauth_srv_conf_t *ascf, ngx_str_t *url, ngx_str_t *doc,
    ngx_http_mcp_oauth_client_t *c);
static ngx_int_t ngx_http_mcp_oauth_document_done(ngx_http_request_t *sr,
    void *data, ngx_int_t rc);
static ngx_int_t ngx_http_mcp_oauth_document_url(
    ngx_http_mcp_oauth_srv_conf_t *ascf, ngx_str_t *url);
static ngx_int_t ngx_http_mcp_oauth_private_host(u_char *host, size_t len);
static ngx_int_t ngx_http_mcp_oauth_register_error(ngx_http_request_t *r,
    json_t *doc, const char *error, const char *description);


/*
 * A redirect URI a client may register: https, or http on a loopback
 * address (RFC 8252 §7.3), without a fragment (RFC 6749 §3.1.2); with
 * mcp_oauth_redirect_uri_allow, one of its patterns.
 */

ngx_int_t
ngx_http_mcp_oauth_redirect_check(ngx_http_mcp_oauth_srv_conf_t *ascf,
    ngx_str_t *uri)
{
    u_char      *p, *last;
    ngx_str_t   *pat, rest;
    ngx_uint_t   i, loopback;

    last = uri->data + uri->len;

    if (uri->len > 2048) {
        return NGX_DECLINED;
    }

    for (p = uri->data; p < last; p++) {
        if (*p <= 0x20 || *p >= 0x7f || *p == '#' || *p == '"' || *p == '<'
            || *p == '>' || *p == '\\')
        {
            return NGX_DECLINED;
        }
    }

    loopback = (ngx_http_mcp_oauth_loopback(uri, &rest) == NGX_OK);

    if (!loopback) {
        if (uri->len <= 8 || ngx_strncmp(uri->data, "https://", 8) != 0
            || uri->data[8] == '/' || uri->data[8] == '?'
            || ngx_strlchr(uri->data + 8, last, '@'))
        {
            return NGX_DECLINED;
        }
    }

    if (ascf == NULL || ascf->redirect_allow == NULL) {
        return NGX_OK;
    }

    pat = ascf->redirect_allow->elts;

    for (i = 0; i < ascf->redirect_allow->nelts; i++) {

        if (ngx_strcmp(pat[i].data, "loopback") == 0) {
            if (loopback) {
                return NGX_OK;
            }

            continue;
        }

        if (pat[i].data[pat[i].len - 1] == '*') {
            if (uri->len >= pat[i].len - 1
                && ngx_strncmp(uri->data, pat[i].data, pat[i].len - 1) == 0)
            {
                return NGX_OK;
            }

            continue;
        }

        if (pat[i].len == uri->len
            && ngx_strncmp(pat[i].data, uri->data, uri->len) == 0)
        {
            return NGX_OK;
        }
    }

    return NGX_DECLINED;
}


/* "http://127.0.0.1", "http://[::1]" or "http://localhost", port aside */

ngx_int_t
ngx_http_mcp_oauth_loopback(ngx_str_t *uri, ngx_str_t *rest)
{
    u_char      *p, *last;
    ngx_uint_t   i;

    static ngx_str_t  hosts[] = {
        ngx_string("http://127.0.0.1"),
        ngx_string("http://[::1]"),
        ngx_string("http://localhost"),
    };

    last = uri->data + uri->len;

    for (i = 0; i < 3; i++) {
        if (uri->len >= hosts[i].len
            && ngx_strncasecmp(uri->data, hosts[i].data, hosts[i].len) == 0)
        {
            break;
        }
    }

    if (i == 3) {
        return NGX_DECLINED;
    }

    p = uri->data + hosts[i].len;

    if (p < last && *p == ':') {
        for (p++; p < last && *p >= '0' && *p <= '9'; p++) { /* void */ }
    }

    if (p < last && *p != '/' && *p != '?') {
        return NGX_DECLINED;
    }

    rest->data = p;
    rest->len = last - p;

    return NGX_OK;
}


/* RFC 6749 §3.1.2.3 exact match; a loopback one on any port (RFC 8252) */

ngx_int_t
ngx_http_mcp_oauth_redirect_match(ngx_http_mcp_oauth_client_t *c,
    ngx_str_t *uri)
{
    ngx_str_t   *reg, rest, reg_rest;
    ngx_uint_t   i;

    reg = c->redirect_uris->elts;

    for (i = 0; i < c->redirect_uris->nelts; i++) {
        if (reg[i].len == uri->len
            && ngx_strncmp(reg[i].data, uri->data, uri->len) == 0)
        {
            return NGX_OK;
        }

        if (ngx_http_mcp_oauth_loopback(&reg[i], &reg_rest) == NGX_OK
            && ngx_http_mcp_oauth_loopback(uri, &rest) == NGX_OK
            && rest.len == reg_rest.len
            && ngx_strncmp(rest.data, reg_rest.data, rest.len) == 0
            && ngx_strncasecmp(reg[i].data, uri->data, 12) == 0)
        {
            /* same host (the first 12 bytes tell them apart), same path */
            return NGX_OK;
        }
    }

    return NGX_DECLINED;
}


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

    if (c->auth != NGX_HTTP_MCP_OAUTH_AUTH_NONE) {
        return ngx_http_mcp_oauth_client_secret(r->pool, ascf, id, &c->secret);
    }

    return NGX_OK;
}


/* the sealed record: {"r":[uris],"m":auth,"g":grants,"n":name,"s":scope} */

static ngx_int_t
ngx_http_mcp_oauth_client_json(ngx_pool_t *pool, json_t *doc,
    ngx_http_mcp_oauth_client_t *c)
{
    size_t       i;
    json_t      *uris, *v;
    ngx_str_t   *uri;

    uris = json_object_get(doc, "r");
    if (!json_is_array(uris)) {
        return NGX_DECLINED;
    }

    c->redirect_uris = ngx_array_create(pool, json_array_size(uris) + 1,
                                        sizeof(ngx_str_t));
    if (c->redirect_uris == NULL) {
        return NGX_ERROR;
    }

    json_array_foreach(uris, i, v) {
        uri = ngx_array_push(c->redirect_uris);
        if (uri == NULL) {
            return NGX_ERROR;
        }

        uri->len = json_string_length(v);
        uri->data = ngx_pstrdup(pool, &(ngx_str_t) { uri->len,
                                        (u_char *) json_string_value(v) });
        if (uri->data == NULL && uri->len) {
            return NGX_ERROR;
        }
    }

    c->auth = json_integer_value(json_object_get(doc, "m"));
    c->grants = json_integer_value(json_object_get(doc, "g"));

    v = json_object_get(doc, "n");
    if (json_is_string(v)) {
        c->name.len = json_string_length(v);
        c->name.data = ngx_pstrdup(pool, &(ngx_str_t) { c->name.len,
                                           (u_char *) json_string_value(v) });
        if (c->name.data == NULL) {
            return NGX_ERROR;
        }
    }

    v = json_object_get(doc, "s");
    if (json_is_string(v)) {
        c->scope.len = json_string_length(v);
        c->scope.data = ngx_pstrdup(pool, &(ngx_str_t) { c->scope.len,
                                            (u_char *) json_string_value(v) });
        if (c->scope.data == NULL) {
            return NGX_ERROR;
        }
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
 * Client authentication at /token and /revoke (RFC 6749 §2.3.1): as the
 * client registered.  NGX_OK: ctx->client is the authenticated client;
 * NGX_DECLINED: invalid_client; NGX_AGAIN: fetching its document.
 */

ngx_int_t
ngx_http_mcp_oauth_client_auth(ngx_http_request_t *r,
    ngx_http_mcp_oauth_srv_conf_t *ascf, ngx_http_mcp_oauth_as_ctx_t *ctx)
{
    u_char                       *colon, *q;
    ngx_int_t                     rc;
    ngx_uint_t                    method;
    ngx_str_t                     id, secret, basic, decoded, form;
    ngx_table_elt_t              *h;
    ngx_http_mcp_oauth_params_t  *p, bp;

    p = &ctx->params;
    ngx_str_null(&id);
    ngx_str_null(&secret);
    method = NGX_HTTP_MCP_OAUTH_AUTH_NONE;

    h = r->headers_in.authorization;

    if (h && h->value.len > 6
        && ngx_strncasecmp(h->value.data, (u_char *) "Basic ", 6) == 0)
    {
        basic.data = h->value.data + 6;
        basic.len = h->value.len - 6;

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

        id = bp.v[NGX_HTTP_MCP_OAUTH_P_CLIENT_ID];
        secret = bp.v[NGX_HTTP_MCP_OAUTH_P_CLIENT_SECRET];

        if (ngx_http_mcp_oauth_has(p, NGX_HTTP_MCP_OAUTH_P_CLIENT_ID)
            && (p->v[NGX_HTTP_MCP_OAUTH_P_CLIENT_ID].len != id.len
                || ngx_strncmp(p->v[NGX_HTTP_MCP_OAUTH_P_CLIENT_ID].data,
                               id.data, id.len) != 0))
        {
            return NGX_DECLINED;
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


/* Dynamic Client Registration (RFC 7591) */

ngx_int_t
ngx_http_mcp_oauth_register_handler(ngx_http_request_t *r)
{
    size_t                          i;
    json_t                         *doc, *v, *e, *out, *uris, *grants;
    json_error_t                    jerr;
    ngx_int_t                       rc;
    ngx_str_t                       body, s, rec, sealed, id, secret, method;
    ngx_uint_t                      auth, g, has_grants;
    ngx_http_mcp_oauth_as_ctx_t    *ctx;
    ngx_http_mcp_oauth_srv_conf_t  *ascf;

    static const char  *methods[] = {
        "none", "client_secret_basic", "client_secret_post"
    };

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

    doc = json_loadb((char *) body.data, body.len, JSON_REJECT_DUPLICATES,
                     &jerr);

    if (!json_is_object(doc)) {
        return ngx_http_mcp_oauth_register_error(r, doc,
                                                 "invalid_client_metadata",
                                                 "the body is not a JSON "
                                                 "object");
    }

    /* redirect_uris: required, each one acceptable */

    uris = json_object_get(doc, "redirect_uris");

    if (!json_is_array(uris) || json_array_size(uris) == 0
        || json_array_size(uris) > 16)
    {
        return ngx_http_mcp_oauth_register_error(r, doc,
                                                 "invalid_redirect_uri",
                                                 "redirect_uris must be an "
                                                 "array of 1 to 16 URIs");
    }

    json_array_foreach(uris, i, e) {
        if (!json_is_string(e)) {
            return ngx_http_mcp_oauth_register_error(r, doc,
                                                     "invalid_redirect_uri",
                                                     "a redirect URI is not "
                                                     "a string");
        }

        s.data = (u_char *) json_string_value(e);
        s.len = json_string_length(e);

        if (ngx_http_mcp_oauth_redirect_check(ascf, &s) != NGX_OK) {
            return ngx_http_mcp_oauth_register_error(r, doc,
                       "invalid_redirect_uri",
                       "redirect URIs must be https, or http on a loopback "
                       "address, and allowed by this server");
        }
    }

    /* token_endpoint_auth_method: RFC 7591 §2 default client_secret_basic */

    auth = NGX_HTTP_MCP_OAUTH_AUTH_BASIC;
    v = json_object_get(doc, "token_endpoint_auth_method");

    if (v) {
        for (auth = 0; auth < 3; auth++) {
            if (json_is_string(v)
                && ngx_strcmp(json_string_value(v), methods[auth]) == 0)
            {
                break;
            }
        }

        if (auth == 3) {
            return ngx_http_mcp_oauth_register_error(r, doc,
                       "invalid_client_metadata",
                       "token_endpoint_auth_method must be none, "
                       "client_secret_basic or client_secret_post");
        }
    }

    /* grant_types and response_types */

    g = 0;
    has_grants = 0;
    v = json_object_get(doc, "grant_types");

    if (v) {
        if (!json_is_array(v) || json_array_size(v) == 0) {
            goto bad_grant;
        }

        has_grants = 1;

        json_array_foreach(v, i, e) {
            if (!json_is_string(e)) {
                goto bad_grant;
            }

            if (ngx_strcmp(json_string_value(e), "authorization_code") == 0) {
                g |= NGX_HTTP_MCP_OAUTH_GRANT_CODE;

            } else if (ngx_strcmp(json_string_value(e), "refresh_token") == 0)
            {
                g |= NGX_HTTP_MCP_OAUTH_GRANT_REFRESH;

            } else if (ngx_strcmp(json_string_value(e), "client_credentials")
                       == 0
                       && auth != NGX_HTTP_MCP_OAUTH_AUTH_NONE)
            {
                g |= NGX_HTTP_MCP_OAUTH_GRANT_CLIENT;

            } else {
                goto bad_grant;
            }
        }
    }

    if (!has_grants) {
        g = NGX_HTTP_MCP_OAUTH_GRANT_CODE|NGX_HTTP_MCP_OAUTH_GRANT_REFRESH;
    }

    v = json_object_get(doc, "response_types");

    if (v) {
        if (!json_is_array(v)) {
            goto bad_response;
        }

        json_array_foreach(v, i, e) {
            if (!json_is_string(e) || ngx_strcmp(json_string_value(e), "code"))
            {
                goto bad_response;
            }
        }
    }

    v = json_object_get(doc, "client_name");

    if (v && (!json_is_string(v) || json_string_length(v) > 200)) {
        return ngx_http_mcp_oauth_register_error(r, doc,
                                                 "invalid_client_metadata",
                                                 "client_name must be a "
                                                 "string of at most 200 "
                                                 "bytes");
    }

    v = json_object_get(doc, "scope");

    if (v) {
        if (json_is_string(v)) {
            s.data = (u_char *) json_string_value(v);
            s.len = json_string_length(v);
        }

        if (!json_is_string(v)
            || ngx_http_mcp_oauth_scope_subset(&s, &ascf->scope) != NGX_OK)
        {
            return ngx_http_mcp_oauth_register_error(r, doc,
                                                     "invalid_client_metadata",
                                                     "scope names a scope "
                                                     "this server does not "
                                                     "grant");
        }
    }

    /* the record is sealed into the client id */

    out = json_pack("{sOsIsI}", "r", uris, "m", (json_int_t) auth,
                    "g", (json_int_t) g);
    if (out == NULL) {
        json_decref(doc);
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    if (json_object_get(doc, "client_name")) {
        json_object_set(out, "n", json_object_get(doc, "client_name"));
    }

    if (json_object_get(doc, "scope")) {
        json_object_set(out, "s", json_object_get(doc, "scope"));
    }

    if (ngx_http_mcp_oauth_json_out(r->pool, out, &rec) != NGX_OK
        || ngx_http_mcp_oauth_seal(r->pool, ascf->signer->seal, &rec, &sealed)
           != NGX_OK)
    {
        json_decref(out);
        json_decref(doc);
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    json_decref(out);

    id.len = sizeof(NGX_HTTP_MCP_OAUTH_SEALED) - 1 + sealed.len;
    id.data = ngx_pnalloc(r->pool, id.len);
    if (id.data == NULL) {
        json_decref(doc);
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    ngx_memcpy(ngx_cpymem(id.data, NGX_HTTP_MCP_OAUTH_SEALED,
                          sizeof(NGX_HTTP_MCP_OAUTH_SEALED) - 1),
               sealed.data, sealed.len);

    /* the answer: what was registered, and never a null (CLIENTS.md) */

    grants = json_array();
    if (g & NGX_HTTP_MCP_OAUTH_GRANT_CODE) {
        json_array_append_new(grants, json_string("authorization_code"));
    }

    if (g & NGX_HTTP_MCP_OAUTH_GRANT_REFRESH) {
        json_array_append_new(grants, json_string("refresh_token"));
    }

    if (g & NGX_HTTP_MCP_OAUTH_GRANT_CLIENT) {
        json_array_append_new(grants, json_string("client_credentials"));
    }

    out = json_pack("{s:s%,s:I,s:O,s:o,s:[s],s:s}",
                    "client_id", (char *) id.data, id.len,
                    "client_id_issued_at", (json_int_t) ngx_time(),
                    "redirect_uris", uris,
                    "grant_types", grants,
                    "response_types", "code",
                    "token_endpoint_auth_method", methods[auth]);

    if (out && json_object_get(doc, "client_name")) {
        json_object_set(out, "client_name", json_object_get(doc,
                                                            "client_name"));
    }

    if (out && json_object_get(doc, "scope")) {
        json_object_set(out, "scope", json_object_get(doc, "scope"));
    }

    if (out && auth != NGX_HTTP_MCP_OAUTH_AUTH_NONE) {
        if (ngx_http_mcp_oauth_client_secret(r->pool, ascf, &id, &secret)
            != NGX_OK)
        {
            json_decref(out);
            out = NULL;

        } else {
            json_object_set_new(out, "client_secret",
                                json_stringn((char *) secret.data,
                                             secret.len));
            json_object_set_new(out, "client_secret_expires_at",
                                json_integer(0));
        }
    }

    json_decref(doc);

    if (out == NULL || ngx_http_mcp_oauth_json_out(r->pool, out, &body)
                       != NGX_OK)
    {
        json_decref(out);
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    json_decref(out);

    method.data = (u_char *) methods[auth];
    method.len = ngx_strlen(methods[auth]);

    ngx_log_error(NGX_LOG_INFO, r->connection->log, 0,
                  "mcp_oauth: client registered, auth %V", &method);

    return ngx_http_mcp_oauth_as_send(r, NGX_HTTP_CREATED, "application/json",
                                      &body);

bad_grant:

    return ngx_http_mcp_oauth_register_error(r, doc, "invalid_client_metadata",
                                             "grant_types may hold "
                                             "authorization_code, "
                                             "refresh_token and, for clients "
                                             "with a secret, "
                                             "client_credentials");

bad_response:

    return ngx_http_mcp_oauth_register_error(r, doc, "invalid_client_metadata",
                                             "response_types may only hold "
                                             "code");
}


static ngx_int_t
ngx_http_mcp_oauth_register_error(ngx_http_request_t *r, json_t *doc,
    const char *error, const char *description)
{
    json_decref(doc);

    return ngx_http_mcp_oauth_as_error(r, NGX_HTTP_BAD_REQUEST, error,
                                       description);
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
    u_char                       key[32];
    ngx_int_t                    rc;
    ngx_str_t                    doc;
    ngx_http_post_subrequest_t  *ps;

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

    if (ctx->fetched) {
        ctx->fetched = 0;

        if (ctx->fetch_status != NGX_HTTP_OK) {
            ngx_log_error(NGX_LOG_ERR, r->connection->log, 0,
                          "mcp_oauth: client metadata document \"%V\" could "
                          "not be fetched (status %ui, or too large)", url,
                          ctx->fetch_status);
            return NGX_DECLINED;
        }

        rc = ngx_http_mcp_oauth_document_parse(r, ascf, url, &ctx->document,
                                               &ctx->client);
        if (rc != NGX_OK) {
            return rc;
        }

        /* a full zone only costs a fetch next time */

        (void) ngx_http_mcp_oauth_store_put(ascf->zone, key,
                                            NGX_HTTP_MCP_OAUTH_ENTRY_DOCUMENT,
                                            ngx_time() + ascf->cimd_cache,
                                            &ctx->document,
                                            r->connection->log);
        return NGX_OK;
    }

    if (ngx_http_mcp_oauth_store_get(ascf->zone, key,
                                     NGX_HTTP_MCP_OAUTH_ENTRY_DOCUMENT,
                                     r->pool, &doc, 0)
        == NGX_OK)
    {
        return ngx_http_mcp_oauth_document_parse(r, ascf, url, &doc,
                                                 &ctx->client);
    }

    if (ctx->fetching) {
        return NGX_AGAIN;
    }

    ps = ngx_palloc(r->pool, sizeof(ngx_http_post_subrequest_t));
    if (ps == NULL) {
        return NGX_ERROR;
    }

    ps->handler = ngx_http_mcp_oauth_document_done;
    ps->data = ctx;
    ctx->fetch_url = *url;

    if (ngx_http_mcp_oauth_capture_subrequest(r, &ascf->cimd_uri, NULL, ps,
                                              NGX_HTTP_SUBREQUEST_WAITED)
        == NULL)
    {
        return NGX_ERROR;
    }

    ctx->fetching = 1;

    /* the subrequest holds the request; the handler runs when it is done */

    r->main->count++;
    r->write_event_handler = ngx_http_core_run_phases;

    return NGX_AGAIN;
}


static ngx_int_t
ngx_http_mcp_oauth_document_done(ngx_http_request_t *sr, void *data,
    ngx_int_t rc)
{
    ngx_http_mcp_oauth_as_ctx_t *ctx = data;

    ngx_http_mcp_oauth_capture_t  *cap;

    ctx->fetching = 0;
    ctx->fetched = 1;
    ctx->fetch_status = sr->headers_out.status;

    cap = ngx_http_mcp_oauth_capture_get(sr);

    if (rc != NGX_OK || cap == NULL || cap->too_large) {
        ctx->fetch_status = NGX_HTTP_BAD_GATEWAY;

    } else {
        ctx->document.data = cap->data;
        ctx->document.len = cap->len;
    }

    return rc;
}


static ngx_int_t
ngx_http_mcp_oauth_document_parse(ngx_http_request_t *r,
    ngx_http_mcp_oauth_srv_conf_t *ascf, ngx_str_t *url, ngx_str_t *text,
    ngx_http_mcp_oauth_client_t *c)
{
    size_t       i;
    json_t      *doc, *v, *e;
    ngx_str_t    s;
    ngx_uint_t   none;

    doc = json_loadb((char *) text->data, text->len, JSON_REJECT_DUPLICATES,
                     NULL);

    if (!json_is_object(doc)) {
        goto invalid;
    }

    /* the document names itself (CIMD §4.1) */

    v = json_object_get(doc, "client_id");

    if (!json_is_string(v) || json_string_length(v) != url->len
        || ngx_strncmp(json_string_value(v), url->data, url->len) != 0)
    {
        ngx_log_error(NGX_LOG_INFO, r->connection->log, 0,
                      "mcp_oauth: client metadata document \"%V\": its "
                      "client_id is not its URL", url);
        goto invalid;
    }

    /* public clients only: "none" among its methods is enough */

    none = 1;
    v = json_object_get(doc, "token_endpoint_auth_methods_supported");
    e = json_object_get(doc, "token_endpoint_auth_method");

    if (v || e) {
        none = 0;

        if (json_is_string(e) && ngx_strcmp(json_string_value(e), "none") == 0)
        {
            none = 1;
        }

        if (json_is_array(v)) {
            json_array_foreach(v, i, e) {
                if (json_is_string(e)
                    && ngx_strcmp(json_string_value(e), "none") == 0)
                {
                    none = 1;
                }
            }
        }
    }

    if (!none) {
        ngx_log_error(NGX_LOG_INFO, r->connection->log, 0,
                      "mcp_oauth: client metadata document \"%V\" does not "
                      "allow the \"none\" authentication method", url);
        goto invalid;
    }

    v = json_object_get(doc, "redirect_uris");

    if (!json_is_array(v) || json_array_size(v) == 0
        || json_array_size(v) > 16)
    {
        goto invalid;
    }

    json_array_foreach(v, i, e) {
        if (!json_is_string(e)) {
            goto invalid;
        }

        s.data = (u_char *) json_string_value(e);
        s.len = json_string_length(e);

        if (ngx_http_mcp_oauth_redirect_check(ascf, &s) != NGX_OK) {
            ngx_log_error(NGX_LOG_INFO, r->connection->log, 0,
                          "mcp_oauth: client metadata document \"%V\": "
                          "redirect URI \"%V\" is not allowed", url, &s);
            goto invalid;
        }
    }

    ngx_memzero(c, sizeof(ngx_http_mcp_oauth_client_t));

    e = json_pack("{sO}", "r", v);
    if (e == NULL) {
        json_decref(doc);
        return NGX_ERROR;
    }

    v = json_object_get(doc, "client_name");
    if (json_is_string(v)) {
        json_object_set(e, "n", v);
    }

    v = json_object_get(doc, "scope");
    if (json_is_string(v)) {
        json_object_set(e, "s", v);
    }

    json_decref(doc);

    if (ngx_http_mcp_oauth_client_json(r->pool, e, c) != NGX_OK) {
        json_decref(e);
        return NGX_ERROR;
    }

    json_decref(e);

    c->id = *url;
    c->auth = NGX_HTTP_MCP_OAUTH_AUTH_NONE;
    c->grants = NGX_HTTP_MCP_OAUTH_GRANT_CODE|NGX_HTTP_MCP_OAUTH_GRANT_REFRESH;
    c->document = 1;

    if (c->name.len == 0) {
        c->name = *url;
    }

    return NGX_OK;

invalid:

    json_decref(doc);

    return NGX_DECLINED;
}


/* https, a host that is not private, a path; no user info, no fragment */

static ngx_int_t
ngx_http_mcp_oauth_document_url(ngx_http_mcp_oauth_srv_conf_t *ascf,
    ngx_str_t *url)
{
    u_char  *p, *host, *last;

    if (url->len > 2048) {
        return NGX_DECLINED;
    }

    last = url->data + url->len;
    host = url->data + 8;

    for (p = url->data; p < last; p++) {
        if (*p <= 0x20 || *p >= 0x7f || *p == '#' || *p == '\\') {
            return NGX_DECLINED;
        }
    }

    for (p = host; p < last && *p != '/' && *p != '?'; p++) {
        if (*p == '@') {
            return NGX_DECLINED;
        }
    }

    /* a path other than "/" (CIMD §3) */

    if (p == host || p == last || *p != '/' || p + 1 == last) {
        return NGX_DECLINED;
    }

    if (ascf->cimd_private) {
        return NGX_OK;
    }

    return ngx_http_mcp_oauth_private_host(host, p - host);
}


/*
 * NGX_DECLINED for hosts that are loopback, private, link-local or local
 * names.  Names are resolved later, by the user's location: a name that
 * resolves to a private address is for the network to refuse (docs/).
 */

static ngx_int_t
ngx_http_mcp_oauth_private_host(u_char *host, size_t len)
{
    u_char      *p, *last, name[256];
    in_addr_t    a;
    ngx_uint_t   numeric;

    last = host + len;

    /* IPv6 literals are refused, whatever their range */

    if (len && host[0] == '[') {
        return NGX_DECLINED;
    }

    p = ngx_strlchr(host, last, ':');
    if (p) {
        last = p;
    }

    len = last - host;

    if (len == 0 || len >= sizeof(name)) {
        return NGX_DECLINED;
    }

    ngx_strlow(name, host, len);
    name[len] = '\0';

    if (name[len - 1] == '.') {
        name[--len] = '\0';
    }

    numeric = 1;

    for (p = name; p < name + len; p++) {
        if (!((*p >= '0' && *p <= '9') || *p == '.')) {
            numeric = 0;
        }
    }

    if (numeric) {
        a = ngx_inet_addr(name, len);

        if (a == INADDR_NONE) {
            /* "127.1", "2130706433": forms resolvers take as addresses */
            return NGX_DECLINED;
        }

        a = ntohl(a);

        if ((a >> 24) == 0 || (a >> 24) == 10 || (a >> 24) == 127
            || (a >> 16) == 0xa9fe                  /* 169.254/16 */
            || (a >> 20) == 0xac1                   /* 172.16/12 */
            || (a >> 16) == 0xc0a8                  /* 192.168/16 */
            || (a >> 22) == (0x64400000 >> 22)      /* 100.64/10 */
            || (a >> 28) >= 0xe)                    /* multicast, reserved */
        {
            return NGX_DECLINED;
        }

        return NGX_OK;
    }

    if (ngx_strcmp(name, "localhost") == 0
        || (len > 10 && ngx_strcmp(name + len - 10, ".localhost") == 0)
        || (len > 6 && ngx_strcmp(name + len - 6, ".local") == 0)
        || (len > 9 && ngx_strcmp(name + len - 9, ".internal") == 0))
    {
        return NGX_DECLINED;
    }

    return NGX_OK;
}


/* $mcp_oauth_client_metadata_url: for the fetching location's proxy_pass */

ngx_int_t
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
