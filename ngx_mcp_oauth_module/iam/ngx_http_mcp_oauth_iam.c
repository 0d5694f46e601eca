
/*
 * ngx_mcp_oauth_module: in front of an IAM (docs/iam-proxy.md).
 *
 * Pass-through: the IAM's authorization server metadata, fetched through a
 * location of the user's, cached in the zone, and served with the scopes
 * this server grants (and S256, when asked).
 *
 * Bridge: after our own consent page, the browser goes to the IAM with one
 * client registered there; the IAM's code comes back to our callback, is
 * exchanged by subrequest, and the MCP client gets a code of ours.  The
 * bridge's state is single use, short-lived, and bound to the browser by a
 * cookie set with the consent page.
 */

#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>
#include <openssl/evp.h>

#include "ngx_http_mcp_oauth_module.h"
#include "ngx_http_mcp_oauth_as.h"
#include "ngx_http_mcp_oauth_iam.h"


#define NGX_HTTP_MCP_OAUTH_BRIDGE_TTL  600


typedef struct {
    ngx_str_t                       uri;
    time_t                          cache;
    ngx_flag_t                      pkce;
} ngx_http_mcp_oauth_iam_metadata_t;


/* the fields of the bridge's record, kept under its state */
enum {
    NGX_HTTP_MCP_OAUTH_B_CLIENT = 0,
    NGX_HTTP_MCP_OAUTH_B_REDIRECT_PARAM,   /* as the client sent it */
    NGX_HTTP_MCP_OAUTH_B_CHALLENGE,
    NGX_HTTP_MCP_OAUTH_B_SCOPE,
    NGX_HTTP_MCP_OAUTH_B_RESOURCE,
    NGX_HTTP_MCP_OAUTH_B_STATE,
    NGX_HTTP_MCP_OAUTH_B_VERIFIER,         /* ours, for the IAM */
    NGX_HTTP_MCP_OAUTH_B_COOKIE,
    NGX_HTTP_MCP_OAUTH_B_REDIRECT,         /* where the answer goes */
    NGX_HTTP_MCP_OAUTH_B_EXPIRES,
    NGX_HTTP_MCP_OAUTH_B_N
};


static ngx_int_t ngx_http_mcp_oauth_iam_document(ngx_http_request_t *r,
    ngx_http_mcp_oauth_iam_metadata_t *im, ngx_str_t *text);
static void ngx_http_mcp_oauth_iam_correct(json_t *doc,
    ngx_http_mcp_oauth_srv_conf_t *ascf, ngx_http_mcp_oauth_iam_metadata_t *im);
static ngx_int_t ngx_http_mcp_oauth_iam_cookie(ngx_http_request_t *r,
    ngx_http_mcp_oauth_srv_conf_t *ascf, ngx_str_t *value, ngx_uint_t create);
static ngx_int_t ngx_http_mcp_oauth_iam_start(ngx_http_request_t *r,
    ngx_http_mcp_oauth_srv_conf_t *ascf, ngx_http_mcp_oauth_as_ctx_t *ctx,
    ngx_http_mcp_oauth_authz_t *a);
static ngx_int_t ngx_http_mcp_oauth_iam_seal(ngx_http_request_t *r,
    ngx_http_mcp_oauth_srv_conf_t *ascf, ngx_http_mcp_oauth_as_ctx_t *ctx,
    ngx_http_mcp_oauth_authz_t *a, ngx_str_t *state, ngx_str_t *challenge);
static ngx_int_t ngx_http_mcp_oauth_iam_url(ngx_http_request_t *r,
    ngx_http_mcp_oauth_srv_conf_t *ascf, ngx_str_t *state,
    ngx_str_t *challenge, ngx_str_t *url);
static ngx_int_t ngx_http_mcp_oauth_iam_callback(ngx_http_request_t *r,
    ngx_http_mcp_oauth_srv_conf_t *ascf, ngx_str_t *callback);
static ngx_int_t ngx_http_mcp_oauth_iam_refresh(ngx_http_request_t *r,
    ngx_http_mcp_oauth_srv_conf_t *ascf, ngx_http_mcp_oauth_as_ctx_t *ctx,
    ngx_str_t *iam_rt, ngx_str_t *resource, ngx_http_mcp_oauth_authz_t *out);
static ngx_int_t ngx_http_mcp_oauth_iam_answer(ngx_http_request_t *r,
    ngx_http_mcp_oauth_srv_conf_t *ascf, ngx_http_mcp_oauth_as_ctx_t *ctx);
static ngx_int_t ngx_http_mcp_oauth_iam_request(
    ngx_http_mcp_oauth_srv_conf_t *ascf, ngx_http_mcp_oauth_as_ctx_t *ctx,
    ngx_http_mcp_oauth_authz_t *a);
static ngx_int_t ngx_http_mcp_oauth_iam_subject(ngx_http_request_t *r,
    ngx_str_t *id_token, ngx_http_mcp_oauth_authz_t *a);
static ngx_int_t ngx_http_mcp_oauth_iam_kept(ngx_http_request_t *r,
    ngx_http_mcp_oauth_srv_conf_t *ascf, ngx_http_mcp_oauth_authz_t *a);
static ngx_int_t ngx_http_mcp_oauth_iam_post(ngx_http_request_t *r,
    ngx_http_mcp_oauth_srv_conf_t *ascf, ngx_http_mcp_oauth_as_ctx_t *ctx,
    ngx_str_t *form);
static ngx_int_t ngx_http_mcp_oauth_iam_tokens(ngx_http_request_t *r,
    ngx_http_mcp_oauth_as_ctx_t *ctx, ngx_http_mcp_oauth_authz_t *out,
    ngx_str_t *id_token, const char **error);
static ngx_int_t ngx_http_mcp_oauth_iam_form(ngx_http_request_t *r,
    ngx_http_mcp_oauth_srv_conf_t *ascf, ngx_str_t *grant, ngx_str_t *form);
static ngx_int_t ngx_http_mcp_oauth_iam_audience(ngx_http_request_t *r,
    ngx_str_t *at, ngx_str_t *resource);
static ngx_int_t ngx_http_mcp_oauth_iam_state(ngx_http_request_t *r,
    ngx_http_mcp_oauth_srv_conf_t *ascf, ngx_http_mcp_oauth_as_ctx_t *ctx,
    ngx_str_t *state, ngx_str_t *rec, ngx_str_t *f);
static ngx_int_t ngx_http_mcp_oauth_iam_reused(ngx_http_request_t *r);
static ngx_int_t ngx_http_mcp_oauth_iam_exchange(ngx_http_request_t *r,
    ngx_http_mcp_oauth_srv_conf_t *ascf, ngx_http_mcp_oauth_as_ctx_t *ctx,
    ngx_str_t *code, ngx_str_t *verifier);
static void ngx_http_mcp_oauth_bridge_key(ngx_str_t *state, u_char *key);


static const ngx_http_mcp_oauth_bridge_t  ngx_http_mcp_oauth_iam_bridge = {
    ngx_http_mcp_oauth_iam_cookie,
    ngx_http_mcp_oauth_iam_start,
    ngx_http_mcp_oauth_iam_refresh
};


/* mcp_oauth_iam_client ID [secret=SECRET] [auth=basic|post] */

char *
ngx_http_mcp_oauth_iam_client(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    ngx_http_mcp_oauth_srv_conf_t *ascf = conf;

    ngx_str_t   *value;
    ngx_uint_t   i;

    if (ascf->iam_client_id.data) {
        return "is duplicate";
    }

    value = cf->args->elts;
    ascf->iam_client_id = value[1];
    ascf->iam_auth = NGX_HTTP_MCP_OAUTH_AUTH_BASIC;
    ascf->bridge = &ngx_http_mcp_oauth_iam_bridge;

    for (i = 2; i < cf->args->nelts; i++) {

        if (ngx_strncmp(value[i].data, "secret=", 7) == 0) {
            ascf->iam_client_secret.data = value[i].data + 7;
            ascf->iam_client_secret.len = value[i].len - 7;
            continue;
        }

        if (ngx_strcmp(value[i].data, "auth=basic") == 0) {
            ascf->iam_auth = NGX_HTTP_MCP_OAUTH_AUTH_BASIC;
            continue;
        }

        if (ngx_strcmp(value[i].data, "auth=post") == 0) {
            ascf->iam_auth = NGX_HTTP_MCP_OAUTH_AUTH_POST;
            continue;
        }

        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "\"%V\": unknown parameter \"%V\"",
                           &cmd->name, &value[i]);
        return NGX_CONF_ERROR;
    }

    return NGX_CONF_OK;
}


/* mcp_oauth_iam_metadata URI [pkce] [cache=TIME] */

char *
ngx_http_mcp_oauth_iam_metadata(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf)
{
    ngx_http_mcp_oauth_loc_conf_t *mlcf = conf;

    ngx_str_t                          *value, s;
    ngx_uint_t                          i;
    ngx_http_core_loc_conf_t           *clcf;
    ngx_http_mcp_oauth_iam_metadata_t  *im;

    if (mlcf->iam_metadata) {
        return "is duplicate";
    }

    im = ngx_pcalloc(cf->pool, sizeof(ngx_http_mcp_oauth_iam_metadata_t));
    if (im == NULL) {
        return NGX_CONF_ERROR;
    }

    value = cf->args->elts;
    im->uri = value[1];
    im->cache = 600;

    if (ngx_http_mcp_oauth_conf_local_uri(cf, cmd, &im->uri) != NGX_OK) {
        return NGX_CONF_ERROR;
    }

    for (i = 2; i < cf->args->nelts; i++) {

        if (ngx_strcmp(value[i].data, "pkce") == 0) {
            im->pkce = 1;
            continue;
        }

        if (ngx_strncmp(value[i].data, "cache=", 6) == 0) {
            s.data = value[i].data + 6;
            s.len = value[i].len - 6;
            im->cache = ngx_parse_time(&s, 1);

            if (im->cache == (time_t) NGX_ERROR || im->cache == 0) {
                ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                                   "\"%V\": invalid \"%V\"", &cmd->name,
                                   &value[i]);
                return NGX_CONF_ERROR;
            }

            continue;
        }

        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "\"%V\": unknown parameter \"%V\"",
                           &cmd->name, &value[i]);
        return NGX_CONF_ERROR;
    }

    mlcf->iam_metadata = im;

    clcf = ngx_http_conf_get_module_loc_conf(cf, ngx_http_core_module);
    clcf->handler = ngx_http_mcp_oauth_iam_metadata_handler;

    return NGX_CONF_OK;
}


ngx_int_t
ngx_http_mcp_oauth_iam_metadata_handler(ngx_http_request_t *r)
{
    u_char                              key[32];
    json_t                             *doc;
    ngx_int_t                           rc;
    ngx_str_t                           text;
    ngx_uint_t                          cached;
    ngx_http_mcp_oauth_loc_conf_t      *mlcf;
    ngx_http_mcp_oauth_srv_conf_t      *ascf;
    ngx_http_mcp_oauth_iam_metadata_t  *im;

    static ngx_str_t  prefix = ngx_string("iam metadata");

    if (r->method == NGX_HTTP_OPTIONS) {
        return ngx_http_mcp_oauth_preflight(r, "GET, HEAD, OPTIONS");
    }

    if (!(r->method & (NGX_HTTP_GET|NGX_HTTP_HEAD))) {
        return NGX_HTTP_NOT_ALLOWED;
    }

    mlcf = ngx_http_get_module_loc_conf(r, ngx_http_mcp_oauth_module);
    ascf = ngx_http_get_module_srv_conf(r, ngx_http_mcp_oauth_module);
    im = mlcf->iam_metadata;

    /* the IAM's own document is cached, per server: each corrects it */

    ngx_http_mcp_oauth_server_key(&prefix, ascf, &im->uri, key);

    cached = (ngx_http_mcp_oauth_store_get(ascf->zone, key,
                                           NGX_HTTP_MCP_OAUTH_ENTRY_DOCUMENT,
                                           r->pool, &text, 0)
              == NGX_OK);

    if (!cached) {
        rc = ngx_http_mcp_oauth_iam_document(r, im, &text);
        if (rc != NGX_OK) {
            return rc;
        }
    }

    doc = text.len ? json_loadb((char *) text.data, text.len, 0, NULL) : NULL;

    if (!json_is_object(doc)) {
        json_decref(doc);
        ngx_log_error(NGX_LOG_ERR, r->connection->log, 0,
                      "mcp_oauth: the IAM's metadata from \"%V\" is not "
                      "available (not fetched, or not a JSON object)",
                      &im->uri);
        return ngx_http_mcp_oauth_as_error(r, NGX_HTTP_SERVICE_UNAVAILABLE,
                                           "temporarily_unavailable",
                                           "the authorization server's "
                                           "metadata cannot be fetched");
    }

    if (!cached) {
        (void) ngx_http_mcp_oauth_store_put(ascf->zone, key,
                                            NGX_HTTP_MCP_OAUTH_ENTRY_DOCUMENT,
                                            ngx_time() + im->cache, &text,
                                            r->connection->log);
    }

    ngx_http_mcp_oauth_iam_correct(doc, ascf, im);

    rc = ngx_http_mcp_oauth_json_out(r->pool, doc, &text);
    json_decref(doc);

    if (rc != NGX_OK) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    return ngx_http_mcp_oauth_as_send(r, NGX_HTTP_OK, "application/json",
                                      &text);
}


/*
 * The IAM's document, fetched by subrequest.  NGX_OK: *text, empty when
 * the fetch failed; NGX_DONE: asked, the handler runs again.
 */

static ngx_int_t
ngx_http_mcp_oauth_iam_document(ngx_http_request_t *r,
    ngx_http_mcp_oauth_iam_metadata_t *im, ngx_str_t *text)
{
    ngx_int_t                     rc;
    ngx_http_mcp_oauth_as_ctx_t  *ctx;

    ctx = ngx_http_mcp_oauth_as_ctx(r);
    if (ctx == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    if (!ctx->iam.done) {
        if (ctx->iam.pending) {
            return NGX_DONE;
        }

        rc = ngx_http_discard_request_body(r);
        if (rc != NGX_OK) {
            return rc;
        }

        if (ngx_http_mcp_oauth_fetch(r, &im->uri, &ctx->iam) == NULL) {
            return NGX_HTTP_INTERNAL_SERVER_ERROR;
        }

        return NGX_DONE;
    }

    *text = ctx->iam.body;

    if (ctx->iam.status != NGX_HTTP_OK) {
        ngx_str_null(text);
    }

    return NGX_OK;
}


/* ChatGPT asks for every scope listed: only what is granted here */

static void
ngx_http_mcp_oauth_iam_correct(json_t *doc,
    ngx_http_mcp_oauth_srv_conf_t *ascf, ngx_http_mcp_oauth_iam_metadata_t *im)
{
    json_t      *scopes;
    ngx_str_t   *s;
    ngx_uint_t   i;

    if (ascf->scopes) {
        scopes = json_array();
        s = ascf->scopes->elts;

        for (i = 0; scopes && i < ascf->scopes->nelts; i++) {
            json_array_append_new(scopes, json_stringn((char *) s[i].data,
                                                       s[i].len));
        }

        json_object_set_new(doc, "scopes_supported", scopes);
    }

    if (im->pkce && json_object_get(doc, "code_challenge_methods_supported")
                    == NULL)
    {
        json_object_set_new(doc, "code_challenge_methods_supported",
                            json_pack("[s]", "S256"));
    }
}


/*
 * The cookie that binds a bridged flow to its browser: the one the browser
 * has, else (with "create") a new one, set with the answer.
 */

static ngx_int_t
ngx_http_mcp_oauth_iam_cookie(ngx_http_request_t *r,
    ngx_http_mcp_oauth_srv_conf_t *ascf, ngx_str_t *value, ngx_uint_t create)
{
    u_char                     *p;
    ngx_str_t                   var, name;
    ngx_uint_t                  https, hash;
    ngx_table_elt_t            *h;
    ngx_http_variable_value_t  *vv;

    https = (ascf->issuer.len > 8
             && ngx_strncmp(ascf->issuer.data, "https://", 8) == 0);

    if (https) {
        ngx_str_set(&name, "__Host-mcp_oauth_bridge");
        ngx_str_set(&var, "cookie___host-mcp_oauth_bridge");

    } else {
        ngx_str_set(&name, "mcp_oauth_bridge");
        ngx_str_set(&var, "cookie_mcp_oauth_bridge");
    }

    hash = ngx_hash_key(var.data, var.len);
    vv = ngx_http_get_variable(r, &var, hash);

    if (vv && !vv->not_found && vv->len == 43) {
        value->data = vv->data;
        value->len = vv->len;

        if (ngx_http_mcp_oauth_b64url_check(value, 43, 43) == NGX_OK) {
            return NGX_OK;
        }
    }

    if (!create) {
        return NGX_DECLINED;
    }

    if (ngx_http_mcp_oauth_random(r->pool, 32, value) != NGX_OK) {
        return NGX_ERROR;
    }

    h = ngx_list_push(&r->headers_out.headers);
    if (h == NULL) {
        return NGX_ERROR;
    }

    p = ngx_pnalloc(r->pool, name.len + value->len + 80);
    if (p == NULL) {
        return NGX_ERROR;
    }

    h->hash = 1;
    ngx_str_set(&h->key, "Set-Cookie");
    h->value.data = p;
    h->value.len = ngx_sprintf(p, "%V=%V; Path=/; Max-Age=%d; HttpOnly; "
                                  "SameSite=Lax%s",
                               &name, value, NGX_HTTP_MCP_OAUTH_BRIDGE_TTL,
                               https ? "; Secure" : "")
                   - p;
#if (nginx_version >= 1023000)
    h->next = NULL;
#endif

    return NGX_OK;
}


/*
 * Approved: off to the IAM.  The MCP request travels sealed in the state
 * sent to the IAM, bound to this browser's cookie: an approval stores
 * nothing, so replayed consent forms cannot fill the zone.  Only the
 * callback records the state's single use.
 */

static ngx_int_t
ngx_http_mcp_oauth_iam_start(ngx_http_request_t *r,
    ngx_http_mcp_oauth_srv_conf_t *ascf, ngx_http_mcp_oauth_as_ctx_t *ctx,
    ngx_http_mcp_oauth_authz_t *a)
{
    ngx_str_t  state, challenge, url;

    if (ngx_http_mcp_oauth_iam_seal(r, ascf, ctx, a, &state, &challenge)
        != NGX_OK)
    {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    if (state.len > NGX_HTTP_MCP_OAUTH_SEALED_MAX) {
        /* the callback could not unseal it */
        return ngx_http_mcp_oauth_redirect(r, ascf, ctx, &a->redirect,
                                           "invalid_request", NULL,
                                           "the request is too large to "
                                           "sign in through the identity "
                                           "provider");
    }

    if (ngx_http_mcp_oauth_iam_url(r, ascf, &state, &challenge, &url)
        != NGX_OK)
    {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    ngx_log_error(NGX_LOG_INFO, r->connection->log, 0,
                  "mcp_oauth: authorize: approved, the user signs in at the "
                  "IAM");

    return ngx_http_mcp_oauth_location(r, &url);
}


/*
 * Our verifier for the IAM, its S256 challenge, and the state: the MCP
 * request and the verifier sealed, with their expiry.
 */

static ngx_int_t
ngx_http_mcp_oauth_iam_seal(ngx_http_request_t *r,
    ngx_http_mcp_oauth_srv_conf_t *ascf, ngx_http_mcp_oauth_as_ctx_t *ctx,
    ngx_http_mcp_oauth_authz_t *a, ngx_str_t *state, ngx_str_t *challenge)
{
    u_char     digest[32], expires[NGX_TIME_T_LEN];
    ngx_str_t  verifier, rec, f[NGX_HTTP_MCP_OAUTH_B_N], *v;

    v = ctx->params.v;

    if (ngx_http_mcp_oauth_random(r->pool, 32, &verifier) != NGX_OK
        || EVP_Digest(verifier.data, verifier.len, digest, NULL, EVP_sha256(),
                      NULL) != 1
        || ngx_http_mcp_oauth_b64url(r->pool, digest, 32, challenge)
           != NGX_OK)
    {
        return NGX_ERROR;
    }

    f[NGX_HTTP_MCP_OAUTH_B_CLIENT] = ctx->client.id;
    f[NGX_HTTP_MCP_OAUTH_B_REDIRECT_PARAM] =
                                         v[NGX_HTTP_MCP_OAUTH_P_REDIRECT_URI];
    f[NGX_HTTP_MCP_OAUTH_B_CHALLENGE] =
                                       v[NGX_HTTP_MCP_OAUTH_P_CODE_CHALLENGE];
    f[NGX_HTTP_MCP_OAUTH_B_SCOPE] = a->scope;
    f[NGX_HTTP_MCP_OAUTH_B_RESOURCE] = *a->resource;
    f[NGX_HTTP_MCP_OAUTH_B_STATE] = v[NGX_HTTP_MCP_OAUTH_P_STATE];
    f[NGX_HTTP_MCP_OAUTH_B_VERIFIER] = verifier;
    f[NGX_HTTP_MCP_OAUTH_B_COOKIE] = a->user;
    f[NGX_HTTP_MCP_OAUTH_B_REDIRECT] = a->redirect;
    f[NGX_HTTP_MCP_OAUTH_B_EXPIRES].data = expires;
    f[NGX_HTTP_MCP_OAUTH_B_EXPIRES].len = ngx_sprintf(expires, "%T",
                                          ngx_time()
                                          + NGX_HTTP_MCP_OAUTH_BRIDGE_TTL)
                                          - expires;

    if (ngx_http_mcp_oauth_record_add(r->pool, &rec, f,
                                      NGX_HTTP_MCP_OAUTH_B_N)
        != NGX_OK
        || ngx_http_mcp_oauth_seal(r->pool, ascf->signer->seal, &rec, state)
           != NGX_OK)
    {
        return NGX_ERROR;
    }

    return NGX_OK;
}


/* the IAM's authorization request (RFC 6749 §4.1.1, RFC 7636) */

static ngx_int_t
ngx_http_mcp_oauth_iam_url(ngx_http_request_t *r,
    ngx_http_mcp_oauth_srv_conf_t *ascf, ngx_str_t *state,
    ngx_str_t *challenge, ngx_str_t *url)
{
    u_char        *p;
    size_t         len;
    ngx_str_t      callback;
    ngx_uint_t     i;
    ngx_keyval_t  *kv;

    if (ngx_http_mcp_oauth_iam_callback(r, ascf, &callback) != NGX_OK) {
        return NGX_ERROR;
    }

    len = ascf->iam_authorize.len + 256
          + 3 * (ascf->iam_client_id.len + callback.len + ascf->iam_scope.len
                 + state->len + challenge->len);

    kv = ascf->iam_params ? ascf->iam_params->elts : NULL;

    for (i = 0; kv && i < ascf->iam_params->nelts; i++) {
        len += 2 + 3 * (kv[i].key.len + kv[i].value.len);
    }

    url->data = ngx_pnalloc(r->pool, len);
    if (url->data == NULL) {
        return NGX_ERROR;
    }

    p = ngx_cpymem(url->data, ascf->iam_authorize.data,
                   ascf->iam_authorize.len);
    *p++ = ngx_strlchr(ascf->iam_authorize.data,
                       ascf->iam_authorize.data + ascf->iam_authorize.len, '?')
           ? '&' : '?';
    p = ngx_cpymem(p, "response_type=code&client_id=",
                   sizeof("response_type=code&client_id=") - 1);
    p = ngx_http_mcp_oauth_urlencode(p, &ascf->iam_client_id);
    p = ngx_cpymem(p, "&redirect_uri=", sizeof("&redirect_uri=") - 1);
    p = ngx_http_mcp_oauth_urlencode(p, &callback);
    p = ngx_cpymem(p, "&scope=", sizeof("&scope=") - 1);
    p = ngx_http_mcp_oauth_urlencode(p, &ascf->iam_scope);
    p = ngx_cpymem(p, "&state=", sizeof("&state=") - 1);
    p = ngx_cpymem(p, state->data, state->len);
    p = ngx_cpymem(p, "&code_challenge=", sizeof("&code_challenge=") - 1);
    p = ngx_cpymem(p, challenge->data, challenge->len);
    p = ngx_cpymem(p, "&code_challenge_method=S256",
                   sizeof("&code_challenge_method=S256") - 1);

    for (i = 0; kv && i < ascf->iam_params->nelts; i++) {
        *p++ = '&';
        p = ngx_http_mcp_oauth_urlencode(p, &kv[i].key);
        *p++ = '=';
        p = ngx_http_mcp_oauth_urlencode(p, &kv[i].value);
    }

    url->len = p - url->data;

    return NGX_OK;
}


/* our callback's URL, the redirect_uri registered at the IAM */

static ngx_int_t
ngx_http_mcp_oauth_iam_callback(ngx_http_request_t *r,
    ngx_http_mcp_oauth_srv_conf_t *ascf, ngx_str_t *callback)
{
    callback->len = ascf->base.len + sizeof("/callback") - 1;
    callback->data = ngx_pnalloc(r->pool, callback->len);
    if (callback->data == NULL) {
        return NGX_ERROR;
    }

    ngx_memcpy(ngx_cpymem(callback->data, ascf->base.data, ascf->base.len),
               "/callback", sizeof("/callback") - 1);

    return NGX_OK;
}


/* the IAM's answer to the browser (RFC 6749 §4.1.2) */

ngx_int_t
ngx_http_mcp_oauth_iam_callback_handler(ngx_http_request_t *r)
{
    ngx_int_t                       rc;
    ngx_str_t                       rec, f[NGX_HTTP_MCP_OAUTH_B_N], *v;
    ngx_http_mcp_oauth_params_t     p;
    ngx_http_mcp_oauth_as_ctx_t    *ctx;
    ngx_http_mcp_oauth_srv_conf_t  *ascf;

    if (!(r->method & (NGX_HTTP_GET|NGX_HTTP_HEAD))) {
        return NGX_HTTP_NOT_ALLOWED;
    }

    ascf = ngx_http_get_module_srv_conf(r, ngx_http_mcp_oauth_module);

    ctx = ngx_http_mcp_oauth_as_ctx(r);
    if (ctx == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    ngx_http_mcp_oauth_state_begin(&ctx->state, &ascf->issued);

    if (ctx->bridged) {
        /* back from the IAM's token endpoint, or from the state */
        rc = ngx_http_mcp_oauth_iam_answer(r, ascf, ctx);
        return ngx_http_mcp_oauth_authorize_done(r, rc);
    }

    rc = ngx_http_discard_request_body(r);
    if (rc != NGX_OK) {
        return rc;
    }

    ngx_memzero(&p, sizeof(ngx_http_mcp_oauth_params_t));

    rc = ngx_http_mcp_oauth_params_parse(r->pool, &r->args, &p);
    if (rc == NGX_ERROR) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    v = p.v;

    if (rc != NGX_OK || p.repeated
        || v[NGX_HTTP_MCP_OAUTH_P_STATE].len == 0)
    {
        return ngx_http_mcp_oauth_page(r, NGX_HTTP_BAD_REQUEST,
                                       "Invalid sign-in answer",
                                       "The identity provider's answer has "
                                       "no state.");
    }

    rc = ngx_http_mcp_oauth_iam_state(r, ascf, ctx,
                                      &v[NGX_HTTP_MCP_OAUTH_P_STATE], &rec, f);
    if (rc != NGX_DECLINED) {
        return ngx_http_mcp_oauth_authorize_done(r, rc);
    }

    ctx->bridged = 1;
    ctx->bridge = rec;

    if (v[NGX_HTTP_MCP_OAUTH_P_ERROR].len) {
        /* the IAM's refusal, passed on as one the client knows */

        ctx->iam.done = 1;
        ctx->iam_error = (v[NGX_HTTP_MCP_OAUTH_P_ERROR].len == 23
                          && ngx_strncmp(v[NGX_HTTP_MCP_OAUTH_P_ERROR].data,
                                         "temporarily_unavailable", 23) == 0)
                         ? "temporarily_unavailable" : "access_denied";

        ngx_log_error(NGX_LOG_INFO, r->connection->log, 0,
                      "mcp_oauth: callback: the IAM answered \"%V\"",
                      &v[NGX_HTTP_MCP_OAUTH_P_ERROR]);

        return ngx_http_mcp_oauth_iam_answer(r, ascf, ctx);
    }

    if (v[NGX_HTTP_MCP_OAUTH_P_CODE].len == 0) {
        ctx->iam.done = 1;
        ctx->iam.status = NGX_HTTP_BAD_GATEWAY;
        return ngx_http_mcp_oauth_iam_answer(r, ascf, ctx);
    }

    return ngx_http_mcp_oauth_iam_exchange(r, ascf, ctx,
                                           &v[NGX_HTTP_MCP_OAUTH_P_CODE],
                                           &f[NGX_HTTP_MCP_OAUTH_B_VERIFIER]);
}


/*
 * The state the IAM sent back: ours (sealed), not expired, this browser's,
 * and used once.  NGX_DECLINED: it is, go on; else the page saying why.
 */

static ngx_int_t
ngx_http_mcp_oauth_iam_state(ngx_http_request_t *r,
    ngx_http_mcp_oauth_srv_conf_t *ascf, ngx_http_mcp_oauth_as_ctx_t *ctx,
    ngx_str_t *state, ngx_str_t *rec, ngx_str_t *f)
{
    time_t     expires;
    ngx_int_t  rc;
    ngx_str_t  cookie;

    rc = ngx_http_mcp_oauth_unseal(r->pool, ascf->signer->seal,
                                   state, rec);
    if (rc == NGX_ERROR) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    if (rc != NGX_OK
        || ngx_http_mcp_oauth_record_get(rec, f, NGX_HTTP_MCP_OAUTH_B_N)
           != NGX_OK
        || (expires = ngx_atotm(f[NGX_HTTP_MCP_OAUTH_B_EXPIRES].data,
                                f[NGX_HTTP_MCP_OAUTH_B_EXPIRES].len))
           <= ngx_time())
    {
        ngx_log_error(NGX_LOG_INFO, r->connection->log, 0,
                      "mcp_oauth: callback: unknown or expired state");
        return ngx_http_mcp_oauth_page(r, NGX_HTTP_BAD_REQUEST,
                                       "Sign-in expired",
                                       "This sign-in is unknown or expired. "
                                       "Start again from the application.");
    }

    /* the browser that approved, and no other (CSRF on the callback) */

    if (ngx_http_mcp_oauth_iam_cookie(r, ascf, &cookie, 0) != NGX_OK
        || cookie.len != f[NGX_HTTP_MCP_OAUTH_B_COOKIE].len
        || ngx_strncmp(cookie.data, f[NGX_HTTP_MCP_OAUTH_B_COOKIE].data,
                       cookie.len) != 0)
    {
        ngx_log_error(NGX_LOG_INFO, r->connection->log, 0,
                      "mcp_oauth: callback: the state belongs to another "
                      "browser");
        return ngx_http_mcp_oauth_page(r, NGX_HTTP_BAD_REQUEST,
                                       "Sign-in not started here",
                                       "This sign-in was started in another "
                                       "browser.");
    }

    /*
     * Its single use is recorded once the IAM has signed the user in
     * (ngx_http_mcp_oauth_iam_used()): a callback that does not get that
     * far stores nothing, so anonymous callbacks cannot fill the zone.
     */

    ngx_http_mcp_oauth_bridge_key(state, ctx->bridge_key);
    ctx->bridge_expires = expires;

    rc = ngx_http_mcp_oauth_state_get(r, &ctx->state, ctx->bridge_key,
                                      NGX_HTTP_MCP_OAUTH_ENTRY_CODE, NULL, 0);

    if (ngx_http_mcp_oauth_state_unanswered(rc)) {
        return rc;
    }

    if (rc != NGX_DECLINED) {
        return ngx_http_mcp_oauth_iam_reused(r);
    }

    return NGX_DECLINED;
}


/* a sign-in answer used before: each one gives one code */

static ngx_int_t
ngx_http_mcp_oauth_iam_reused(ngx_http_request_t *r)
{
    ngx_log_error(NGX_LOG_INFO, r->connection->log, 0,
                  "mcp_oauth: callback: the state was already used");

    ngx_http_mcp_oauth_count(r, NGX_HTTP_MCP_OAUTH_M_REPLAYS, "bridge_state",
                             NULL);

    return ngx_http_mcp_oauth_page(r, NGX_HTTP_BAD_REQUEST,
                                   "Sign-in already used",
                                   "This sign-in answer was already used. "
                                   "Start again from the application.");
}


/* the IAM's code for its tokens, with our verifier (RFC 6749 §4.1.3) */

static ngx_int_t
ngx_http_mcp_oauth_iam_exchange(ngx_http_request_t *r,
    ngx_http_mcp_oauth_srv_conf_t *ascf, ngx_http_mcp_oauth_as_ctx_t *ctx,
    ngx_str_t *code, ngx_str_t *verifier)
{
    u_char     *q, *start;
    ngx_int_t   rc;
    ngx_str_t   form, grant, callback;

    ngx_str_set(&grant, "authorization_code");

    if (ngx_http_mcp_oauth_iam_form(r, ascf, &grant, &form) != NGX_OK) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    if (ngx_http_mcp_oauth_iam_callback(r, ascf, &callback) != NGX_OK) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    /* the literals take 35 bytes; an encoded byte 3 at most */
    q = ngx_pnalloc(r->pool, form.len + 64
                             + 3 * (callback.len + code->len + verifier->len));
    if (q == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    start = q;
    q = ngx_cpymem(q, form.data, form.len);
    q = ngx_cpymem(q, "&code=", 6);
    q = ngx_http_mcp_oauth_urlencode(q, code);
    q = ngx_cpymem(q, "&redirect_uri=", 14);
    q = ngx_http_mcp_oauth_urlencode(q, &callback);
    q = ngx_cpymem(q, "&code_verifier=", 15);
    q = ngx_cpymem(q, verifier->data, verifier->len);
    form.data = start;
    form.len = q - start;

    rc = ngx_http_mcp_oauth_iam_post(r, ascf, ctx, &form);

    if (rc == NGX_AGAIN) {
        return NGX_DONE;
    }

    return (rc == NGX_OK) ? ngx_http_mcp_oauth_iam_answer(r, ascf, ctx)
                          : NGX_HTTP_INTERNAL_SERVER_ERROR;
}


/* the IAM's tokens (or its error) become our answer to the MCP client */

static ngx_int_t
ngx_http_mcp_oauth_iam_answer(ngx_http_request_t *r,
    ngx_http_mcp_oauth_srv_conf_t *ascf, ngx_http_mcp_oauth_as_ctx_t *ctx)
{
    ngx_int_t                   rc;
    ngx_str_t                   id_token;
    const char                 *error;
    ngx_http_mcp_oauth_authz_t  a;

    if (ngx_http_mcp_oauth_iam_request(ascf, ctx, &a) != NGX_OK) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    if (ctx->iam_error) {
        return ngx_http_mcp_oauth_redirect(r, ascf, ctx, &a.redirect,
                                           ctx->iam_error, NULL,
                                           "the identity provider did not "
                                           "sign the user in");
    }

    if (ngx_http_mcp_oauth_iam_tokens(r, ctx, &a, &id_token, &error) != NGX_OK
        || a.resource == NULL)
    {
        return ngx_http_mcp_oauth_redirect(r, ascf, ctx, &a.redirect, error,
                                           NULL, "the identity provider's "
                                           "token endpoint failed");
    }

    if (ngx_http_mcp_oauth_iam_subject(r, &id_token, &a) != NGX_OK) {
        return ngx_http_mcp_oauth_redirect(r, ascf, ctx, &a.redirect,
                                           "server_error", NULL,
                                           "the identity provider named no "
                                           "user");
    }

    /* signed in: now the state is used (a concurrent callback may have won) */

    rc = ngx_http_mcp_oauth_state_put(r, &ctx->state, ctx->bridge_key,
                                      NGX_HTTP_MCP_OAUTH_ENTRY_CODE,
                                      ctx->bridge_expires, NULL);

    if (rc == NGX_AGAIN || rc == NGX_ABORT) {
        return rc;
    }

    if (rc == NGX_BUSY) {
        return ngx_http_mcp_oauth_iam_reused(r);
    }

    if (rc != NGX_OK) {
        return ngx_http_mcp_oauth_redirect(r, ascf, ctx, &a.redirect,
                                           "temporarily_unavailable", NULL,
                                           "the server is busy, try again "
                                           "later");
    }

    if (ngx_http_mcp_oauth_iam_kept(r, ascf, &a) != NGX_OK) {
        return ngx_http_mcp_oauth_redirect(r, ascf, ctx, &a.redirect,
                                           "server_error", NULL,
                                           "the identity provider's token is "
                                           "not for this resource");
    }

    ngx_log_error(NGX_LOG_INFO, r->connection->log, 0,
                  "mcp_oauth: callback: the IAM signed in \"%V\"", &a.user);

    return ngx_http_mcp_oauth_code(r, ascf, ctx, &a);
}


/* the MCP client's request from the bridge's record, as endpoints know it */

static ngx_int_t
ngx_http_mcp_oauth_iam_request(ngx_http_mcp_oauth_srv_conf_t *ascf,
    ngx_http_mcp_oauth_as_ctx_t *ctx, ngx_http_mcp_oauth_authz_t *a)
{
    ngx_str_t   f[NGX_HTTP_MCP_OAUTH_B_N];
    ngx_str_t  *params;

    if (ngx_http_mcp_oauth_record_get(&ctx->bridge, f, NGX_HTTP_MCP_OAUTH_B_N)
        != NGX_OK)
    {
        return NGX_ERROR;
    }

    params = ctx->params.v;
    params[NGX_HTTP_MCP_OAUTH_P_CLIENT_ID] = f[NGX_HTTP_MCP_OAUTH_B_CLIENT];
    params[NGX_HTTP_MCP_OAUTH_P_REDIRECT_URI] =
                                         f[NGX_HTTP_MCP_OAUTH_B_REDIRECT_PARAM];
    params[NGX_HTTP_MCP_OAUTH_P_CODE_CHALLENGE] =
                                              f[NGX_HTTP_MCP_OAUTH_B_CHALLENGE];
    params[NGX_HTTP_MCP_OAUTH_P_STATE] = f[NGX_HTTP_MCP_OAUTH_B_STATE];
    ctx->client.id = f[NGX_HTTP_MCP_OAUTH_B_CLIENT];

    ngx_memzero(a, sizeof(ngx_http_mcp_oauth_authz_t));
    a->redirect = f[NGX_HTTP_MCP_OAUTH_B_REDIRECT];
    a->scope = f[NGX_HTTP_MCP_OAUTH_B_SCOPE];
    a->resource = ngx_http_mcp_oauth_resource_find(ascf,
                                            &f[NGX_HTTP_MCP_OAUTH_B_RESOURCE]);

    return NGX_OK;
}


/*
 * The subject: from the id_token, taken from the IAM's token endpoint
 * over its own connection (OpenID Connect Core §3.1.3.7), else from
 * its access token when it is a JWT.
 */

static ngx_int_t
ngx_http_mcp_oauth_iam_subject(ngx_http_request_t *r, ngx_str_t *id_token,
    ngx_http_mcp_oauth_authz_t *a)
{
    ngx_http_mcp_oauth_jwt_t      jwt;
    ngx_http_mcp_oauth_member_t  *sub;

    sub = &jwt.claims[NGX_HTTP_MCP_OAUTH_CLAIM_SUB];

    if (ngx_http_mcp_oauth_jwt_unverified(r->pool,
                                          id_token->len ? id_token : &a->iam_at,
                                          &jwt)
        != NGX_OK
        || sub->type != NGX_HTTP_MCP_OAUTH_JSON_STRING || sub->value.len == 0)
    {
        ngx_log_error(NGX_LOG_ERR, r->connection->log, 0,
                      "mcp_oauth: callback: the IAM's answer names no "
                      "subject (no id_token, and no JWT access token)");
        return NGX_DECLINED;
    }

    a->user = sub->value;

    return NGX_OK;
}


/*
 * The IAM's tokens kept with our grant: none with "mint" (no token
 * passthrough), with "pass" an access token for this resource.
 */

static ngx_int_t
ngx_http_mcp_oauth_iam_kept(ngx_http_request_t *r,
    ngx_http_mcp_oauth_srv_conf_t *ascf, ngx_http_mcp_oauth_authz_t *a)
{
    if (!ascf->iam_pass) {
        ngx_str_null(&a->iam_at);
        ngx_str_null(&a->iam_rt);
        ngx_str_null(&a->iam_exp);
        return NGX_OK;
    }

    return ngx_http_mcp_oauth_iam_audience(r, &a->iam_at, a->resource);
}


/*
 * Bridge "pass": the IAM refreshes its token (RFC 6749 §6).  NGX_OK: "out"
 * has the new tokens; NGX_AGAIN: asked, the handler runs again; else the
 * answer was sent.
 */

static ngx_int_t
ngx_http_mcp_oauth_iam_refresh(ngx_http_request_t *r,
    ngx_http_mcp_oauth_srv_conf_t *ascf, ngx_http_mcp_oauth_as_ctx_t *ctx,
    ngx_str_t *iam_rt, ngx_str_t *resource, ngx_http_mcp_oauth_authz_t *out)
{
    u_char       *q;
    ngx_int_t     rc;
    ngx_str_t     form, grant, id_token, old;
    const char   *error;

    if (!ctx->iam.done) {
        ngx_str_set(&grant, "refresh_token");

        if (ngx_http_mcp_oauth_iam_form(r, ascf, &grant, &form) != NGX_OK) {
            return NGX_HTTP_INTERNAL_SERVER_ERROR;
        }

        q = ngx_pnalloc(r->pool, form.len + 16 + 3 * iam_rt->len);
        if (q == NULL) {
            return NGX_HTTP_INTERNAL_SERVER_ERROR;
        }

        old = form;
        form.data = q;
        q = ngx_cpymem(q, old.data, old.len);
        q = ngx_cpymem(q, "&refresh_token=", 15);
        q = ngx_http_mcp_oauth_urlencode(q, iam_rt);
        form.len = q - form.data;

        rc = ngx_http_mcp_oauth_iam_post(r, ascf, ctx, &form);
        if (rc != NGX_OK) {
            return (rc == NGX_AGAIN) ? NGX_AGAIN
                                     : NGX_HTTP_INTERNAL_SERVER_ERROR;
        }
    }

    ngx_memzero(out, sizeof(ngx_http_mcp_oauth_authz_t));

    if (ngx_http_mcp_oauth_iam_tokens(r, ctx, out, &id_token, &error)
        != NGX_OK)
    {
        if (ngx_strcmp(error, "temporarily_unavailable") == 0) {
            return ngx_http_mcp_oauth_as_error_set(ctx,
                                                   NGX_HTTP_SERVICE_UNAVAILABLE,
                                                   "temporarily_unavailable",
                                                   "the identity provider "
                                                   "cannot "
                                                   "be reached");
        }

        return ngx_http_mcp_oauth_as_error_set(ctx, NGX_HTTP_BAD_REQUEST,
                                               "invalid_grant",
                                               "the identity provider did not "
                                               "refresh the grant");
    }

    if (ngx_http_mcp_oauth_iam_audience(r, &out->iam_at, resource) != NGX_OK)
    {
        return ngx_http_mcp_oauth_as_error_set(ctx, NGX_HTTP_BAD_REQUEST,
                                               "invalid_grant",
                                               "the identity provider's token "
                                               "is "
                                               "not for this resource");
    }

    /* an IAM that does not rotate keeps the refresh token it had */

    if (out->iam_rt.len == 0) {
        out->iam_rt = *iam_rt;
    }

    return NGX_OK;
}


/*
 * The IAM's token answer: NGX_OK with access_token, refresh_token,
 * expires_in (decimal) and id_token; else *error is the OAuth error for the
 * MCP client.
 */

static ngx_int_t
ngx_http_mcp_oauth_iam_tokens(ngx_http_request_t *r,
    ngx_http_mcp_oauth_as_ctx_t *ctx, ngx_http_mcp_oauth_authz_t *out,
    ngx_str_t *id_token, const char **error)
{
    u_char     *p;
    json_t     *doc, *v;
    ngx_str_t  *f[3];
    ngx_uint_t  i, level;

    static const char  *names[] = { "access_token", "refresh_token",
                                    "id_token" };

    ngx_str_null(id_token);

    if (ctx->iam.status >= NGX_HTTP_INTERNAL_SERVER_ERROR
        || ctx->iam.status == NGX_HTTP_REQUEST_TIME_OUT)
    {
        *error = "temporarily_unavailable";
        ngx_log_error(NGX_LOG_ERR, r->connection->log, 0,
                      "mcp_oauth: the IAM's token endpoint failed (status "
                      "%ui)", ctx->iam.status);
        ngx_http_mcp_oauth_count(r, NGX_HTTP_MCP_OAUTH_M_IAM_EXCHANGES,
                                 "unavailable", NULL);
        return NGX_ERROR;
    }

    *error = "server_error";

    doc = json_loadb((char *) ctx->iam.body.data, ctx->iam.body.len, 0, NULL);
    v = json_object_get(doc, "access_token");

    if (ctx->iam.status != NGX_HTTP_OK || !json_is_string(v)) {
        v = json_object_get(doc, "error");

        /*
         * A code or refresh token the IAM refused came from the client (an
         * anonymous callback can bring any code): info, as the other
         * refusals; anything else is the configuration's.
         */

        level = (ctx->iam.status == NGX_HTTP_BAD_REQUEST
                 && json_is_string(v)
                 && ngx_strcmp(json_string_value(v), "invalid_grant") == 0)
                ? NGX_LOG_INFO : NGX_LOG_ERR;

        ngx_log_error(level, r->connection->log, 0,
                      "mcp_oauth: the IAM's token endpoint answered status "
                      "%ui, error \"%s\"", ctx->iam.status,
                      json_is_string(v) ? json_string_value(v) : "(none)");
        json_decref(doc);
        ngx_http_mcp_oauth_count(r, NGX_HTTP_MCP_OAUTH_M_IAM_EXCHANGES,
                                 level == NGX_LOG_INFO ? "refused" : "failed",
                                 NULL);
        return NGX_ERROR;
    }

    f[0] = &out->iam_at;
    f[1] = &out->iam_rt;
    f[2] = id_token;

    for (i = 0; i < 3; i++) {
        v = json_object_get(doc, names[i]);
        ngx_str_null(f[i]);

        if (!json_is_string(v)) {
            continue;
        }

        f[i]->len = json_string_length(v);
        f[i]->data = ngx_pnalloc(r->pool, f[i]->len);
        if (f[i]->data == NULL) {
            json_decref(doc);
            return NGX_ERROR;
        }

        ngx_memcpy(f[i]->data, json_string_value(v), f[i]->len);
    }

    v = json_object_get(doc, "expires_in");

    if (json_is_integer(v) && json_integer_value(v) > 0) {
        p = ngx_pnalloc(r->pool, NGX_INT64_LEN);
        if (p == NULL) {
            json_decref(doc);
            return NGX_ERROR;
        }

        out->iam_exp.data = p;
        out->iam_exp.len = ngx_sprintf(p, "%L",
                                       (int64_t) json_integer_value(v)) - p;
    }

    json_decref(doc);

    ngx_http_mcp_oauth_count(r, NGX_HTTP_MCP_OAUTH_M_IAM_EXCHANGES, "ok",
                             NULL);

    return NGX_OK;
}


/* the IAM's access token is a JWT for the resource (RFC 9068 §4) */

static ngx_int_t
ngx_http_mcp_oauth_iam_audience(ngx_http_request_t *r, ngx_str_t *at,
    ngx_str_t *resource)
{
    ngx_http_mcp_oauth_jwt_t  jwt;

    if (ngx_http_mcp_oauth_jwt_unverified(r->pool, at, &jwt) == NGX_OK
        && ngx_http_mcp_oauth_jwt_audience(&jwt, resource) == NGX_OK)
    {
        return NGX_OK;
    }

    ngx_log_error(NGX_LOG_ERR, r->connection->log, 0,
                  "mcp_oauth: the IAM's access token is not a JWT whose aud "
                  "is \"%V\" (mcp_oauth_iam_token pass)", resource);

    return NGX_DECLINED;
}


/* grant_type, the client's credentials in the body (auth=post), resource */

static ngx_int_t
ngx_http_mcp_oauth_iam_form(ngx_http_request_t *r,
    ngx_http_mcp_oauth_srv_conf_t *ascf, ngx_str_t *grant, ngx_str_t *form)
{
    u_char        *p;
    size_t         len;
    ngx_uint_t     i;
    ngx_keyval_t  *kv;

    kv = ascf->iam_params ? ascf->iam_params->elts : NULL;
    len = 64 + grant->len + 3 * (ascf->iam_client_id.len
                                 + ascf->iam_client_secret.len);

    for (i = 0; kv && i < ascf->iam_params->nelts; i++) {
        len += 2 + 3 * (kv[i].key.len + kv[i].value.len);
    }

    p = ngx_pnalloc(r->pool, len);
    if (p == NULL) {
        return NGX_ERROR;
    }

    form->data = p;
    p = ngx_cpymem(p, "grant_type=", 11);
    p = ngx_cpymem(p, grant->data, grant->len);

    if (ascf->iam_auth == NGX_HTTP_MCP_OAUTH_AUTH_POST) {
        p = ngx_cpymem(p, "&client_id=", 11);
        p = ngx_http_mcp_oauth_urlencode(p, &ascf->iam_client_id);
        p = ngx_cpymem(p, "&client_secret=", 15);
        p = ngx_http_mcp_oauth_urlencode(p, &ascf->iam_client_secret);
    }

    /* RFC 8707 §2.2: the resource goes to the token endpoint too */

    for (i = 0; kv && i < ascf->iam_params->nelts; i++) {
        if (kv[i].key.len == 8
            && ngx_strncmp(kv[i].key.data, "resource", 8) == 0)
        {
            p = ngx_cpymem(p, "&resource=", 10);
            p = ngx_http_mcp_oauth_urlencode(p, &kv[i].value);
        }
    }

    form->len = p - form->data;

    return NGX_OK;
}


/* a form POST to the IAM's token endpoint, through the user's location */

static ngx_int_t
ngx_http_mcp_oauth_iam_post(ngx_http_request_t *r,
    ngx_http_mcp_oauth_srv_conf_t *ascf, ngx_http_mcp_oauth_as_ctx_t *ctx,
    ngx_str_t *form)
{
    u_char                      *p;
    ngx_str_t                    value, plain, enc;
    ngx_http_request_t          *sr;

    if (ctx->iam.done) {
        return NGX_OK;
    }

    if (ctx->iam.pending) {
        return NGX_AGAIN;
    }

    sr = ngx_http_mcp_oauth_fetch(r, &ascf->iam_token_uri, &ctx->iam);
    if (sr == NULL) {
        return NGX_ERROR;
    }

    if (ngx_http_mcp_oauth_fetch_post(sr, form) != NGX_OK) {
        return NGX_ERROR;
    }

    ngx_str_set(&value, "application/x-www-form-urlencoded");

    if (ngx_http_mcp_oauth_fetch_header(sr, "Content-Type", &value) != NGX_OK) {
        return NGX_ERROR;
    }

    ngx_str_set(&value, "application/json");

    if (ngx_http_mcp_oauth_fetch_header(sr, "Accept", &value) != NGX_OK) {
        return NGX_ERROR;
    }

    if (ascf->iam_auth == NGX_HTTP_MCP_OAUTH_AUTH_BASIC) {
        /* RFC 6749 §2.3.1: each part form-encoded, then base64 */

        plain.data = ngx_pnalloc(r->pool, 1 + 3 * (ascf->iam_client_id.len
                                                + ascf->iam_client_secret.len));
        value.data = ngx_pnalloc(r->pool, 6 + ngx_base64_encoded_length(
                                     1 + 3 * (ascf->iam_client_id.len
                                              + ascf->iam_client_secret.len)));
        if (plain.data == NULL || value.data == NULL) {
            return NGX_ERROR;
        }

        p = ngx_http_mcp_oauth_urlencode(plain.data, &ascf->iam_client_id);
        *p++ = ':';
        p = ngx_http_mcp_oauth_urlencode(p, &ascf->iam_client_secret);
        plain.len = p - plain.data;

        enc.data = ngx_cpymem(value.data, "Basic ", 6);
        ngx_encode_base64(&enc, &plain);
        value.len = 6 + enc.len;

        if (ngx_http_mcp_oauth_fetch_header(sr, "Authorization", &value)
            != NGX_OK)
        {
            return NGX_ERROR;
        }
    }

    return NGX_AGAIN;
}



static void
ngx_http_mcp_oauth_bridge_key(ngx_str_t *state, u_char *key)
{
    static ngx_str_t  prefix = ngx_string("bridge");

    ngx_http_mcp_oauth_sha256(&prefix, state, key);
}
