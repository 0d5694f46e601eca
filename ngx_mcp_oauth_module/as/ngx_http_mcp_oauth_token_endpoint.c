
/*
 * ngx_mcp_oauth_module: the token endpoint (OAuth 2.1 §3.2: authorization
 * code with PKCE, refresh token with rotation, client credentials), the
 * revocation endpoint (RFC 7009), and the grants both act on.
 *
 * A grant ("sid" in its tokens) is what one authorization gave: the access
 * tokens and the family of refresh tokens that came of it.  Revoking it (a
 * code redeemed twice, a rotated refresh token used again, /revoke) puts
 * its id in the zone; the refresh tokens and, on this node, the access
 * tokens of a revoked grant are refused.
 */

#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>

#include "ngx_http_mcp_oauth_module.h"
#include "ngx_http_mcp_oauth_as.h"
#include "ngx_http_mcp_oauth_assertion.h"


#define NGX_HTTP_MCP_OAUTH_FORM_MAX  16384

#define ngx_http_mcp_oauth_json_str(s)  json_stringn((char *) (s).data,       \
                                                     (s).len)


/* what a code or refresh token records: the fields of the grant */
enum {
    NGX_HTTP_MCP_OAUTH_G_CLIENT = 0,
    NGX_HTTP_MCP_OAUTH_G_SCOPE,
    NGX_HTTP_MCP_OAUTH_G_RESOURCE,
    NGX_HTTP_MCP_OAUTH_G_SUB,
    NGX_HTTP_MCP_OAUTH_G_SID,
    NGX_HTTP_MCP_OAUTH_G_IAM_RT,        /* bridge "pass": the IAM's, kept */
    NGX_HTTP_MCP_OAUTH_G_GEN,           /* the live refresh token's number */
    NGX_HTTP_MCP_OAUTH_G_N
};


static ngx_int_t ngx_http_mcp_oauth_form(ngx_http_request_t *r,
    ngx_http_mcp_oauth_as_ctx_t *ctx);
static ngx_int_t ngx_http_mcp_oauth_grant_code(ngx_http_request_t *r,
    ngx_http_mcp_oauth_srv_conf_t *ascf, ngx_http_mcp_oauth_as_ctx_t *ctx);
static ngx_int_t ngx_http_mcp_oauth_code_find(ngx_http_request_t *r,
    ngx_http_mcp_oauth_srv_conf_t *ascf, ngx_http_mcp_oauth_as_ctx_t *ctx,
    u_char *key, ngx_str_t *f);
static ngx_int_t ngx_http_mcp_oauth_code_check(
    ngx_http_mcp_oauth_as_ctx_t *ctx, ngx_str_t *f);
static void ngx_http_mcp_oauth_code_grant(ngx_str_t *f, ngx_str_t *g);
static ngx_int_t ngx_http_mcp_oauth_grant_device(ngx_http_request_t *r,
    ngx_http_mcp_oauth_srv_conf_t *ascf, ngx_http_mcp_oauth_as_ctx_t *ctx);
static ngx_int_t ngx_http_mcp_oauth_grant_refresh(ngx_http_request_t *r,
    ngx_http_mcp_oauth_srv_conf_t *ascf, ngx_http_mcp_oauth_as_ctx_t *ctx);
static ngx_int_t ngx_http_mcp_oauth_refresh_grant(ngx_http_request_t *r,
    ngx_http_mcp_oauth_srv_conf_t *ascf, ngx_http_mcp_oauth_as_ctx_t *ctx,
    ngx_str_t *gen, ngx_str_t *rec, ngx_str_t *g);
static ngx_int_t ngx_http_mcp_oauth_refresh_narrow(ngx_http_request_t *r,
    ngx_http_mcp_oauth_srv_conf_t *ascf, ngx_http_mcp_oauth_as_ctx_t *ctx,
    ngx_str_t *g);
static ngx_int_t ngx_http_mcp_oauth_refresh_iam(ngx_http_request_t *r,
    ngx_http_mcp_oauth_srv_conf_t *ascf, ngx_http_mcp_oauth_as_ctx_t *ctx,
    ngx_str_t *g, ngx_http_mcp_oauth_authz_t *iam);
static ngx_int_t ngx_http_mcp_oauth_refresh_next(ngx_pool_t *pool,
    ngx_str_t *gen, ngx_str_t *next);
static ngx_int_t ngx_http_mcp_oauth_grant_client(ngx_http_request_t *r,
    ngx_http_mcp_oauth_srv_conf_t *ascf, ngx_http_mcp_oauth_as_ctx_t *ctx);
static ngx_int_t ngx_http_mcp_oauth_grant_jwt(ngx_http_request_t *r,
    ngx_http_mcp_oauth_srv_conf_t *ascf, ngx_http_mcp_oauth_as_ctx_t *ctx);
static ngx_int_t ngx_http_mcp_oauth_issue(ngx_http_request_t *r,
    ngx_http_mcp_oauth_srv_conf_t *ascf, ngx_str_t *g, ngx_uint_t refresh,
    ngx_str_t *rotated, ngx_str_t *iam_at, ngx_str_t *iam_exp);
static ngx_int_t ngx_http_mcp_oauth_access_token(ngx_http_request_t *r,
    ngx_http_mcp_oauth_srv_conf_t *ascf, ngx_str_t *g, ngx_str_t *jws);
static ngx_int_t ngx_http_mcp_oauth_refresh_keep(ngx_http_request_t *r,
    ngx_http_mcp_oauth_srv_conf_t *ascf, ngx_str_t *g, ngx_str_t *rotated,
    ngx_str_t *rt);
static ngx_int_t ngx_http_mcp_oauth_refresh_token(ngx_http_request_t *r,
    ngx_http_mcp_oauth_srv_conf_t *ascf, ngx_str_t *sid, ngx_str_t *gen,
    ngx_str_t *rt);
static ngx_int_t ngx_http_mcp_oauth_refresh_find(ngx_http_request_t *r,
    ngx_http_mcp_oauth_srv_conf_t *ascf, ngx_str_t *rt, ngx_str_t *gen,
    ngx_str_t *rec, ngx_str_t *g);
static ngx_int_t ngx_http_mcp_oauth_reused(ngx_http_request_t *r,
    ngx_http_mcp_oauth_srv_conf_t *ascf, ngx_str_t *sid, const char *what);
static ngx_int_t ngx_http_mcp_oauth_pkce(ngx_str_t *verifier,
    ngx_str_t *challenge);
static ngx_int_t ngx_http_mcp_oauth_same(ngx_str_t *a, ngx_str_t *b);


static ngx_int_t ngx_http_mcp_oauth_issued(ngx_http_request_t *r,
    ngx_str_t *grant_type, ngx_int_t rc);


static ngx_str_t  ngx_http_mcp_oauth_code_prefix = ngx_string("code");
static ngx_str_t  ngx_http_mcp_oauth_refresh_prefix = ngx_string("refresh");


ngx_int_t
ngx_http_mcp_oauth_token_handler(ngx_http_request_t *r)
{
    ngx_int_t                       rc;
    ngx_str_t                      *gt;
    ngx_http_mcp_oauth_as_ctx_t    *ctx;
    ngx_http_mcp_oauth_srv_conf_t  *ascf;

    if (r->method == NGX_HTTP_OPTIONS) {
        return ngx_http_mcp_oauth_preflight(r, "POST, OPTIONS");
    }

    ascf = ngx_http_get_module_srv_conf(r, ngx_http_mcp_oauth_module);

    rc = ngx_http_mcp_oauth_client_request(r, ascf, &ctx);

    if (rc == NGX_DECLINED) {
        return ngx_http_mcp_oauth_as_error_send(r, ctx);
    }

    if (rc != NGX_OK) {
        return rc;
    }

    gt = &ctx->params.v[NGX_HTTP_MCP_OAUTH_P_GRANT_TYPE];

    if (ngx_http_mcp_oauth_same(gt, &(ngx_str_t)
                                    ngx_string("authorization_code")))
    {
        return ngx_http_mcp_oauth_issued(r, gt,
                   ngx_http_mcp_oauth_grant_code(r, ascf, ctx));
    }

    if (ngx_http_mcp_oauth_same(gt, &(ngx_str_t) ngx_string("refresh_token")))
    {
        return ngx_http_mcp_oauth_issued(r, gt,
                   ngx_http_mcp_oauth_grant_refresh(r, ascf, ctx));
    }

    if (ngx_http_mcp_oauth_same(gt, &(ngx_str_t)
                                    ngx_string("client_credentials")))
    {
        return ngx_http_mcp_oauth_issued(r, gt,
                   ngx_http_mcp_oauth_grant_client(r, ascf, ctx));
    }

    if (ngx_http_mcp_oauth_same(gt, &(ngx_str_t)
                                ngx_string(NGX_HTTP_MCP_OAUTH_DEVICE_GRANT)))
    {
        return ngx_http_mcp_oauth_issued(r, gt,
                   ngx_http_mcp_oauth_grant_device(r, ascf, ctx));
    }

    if (ascf->idps && ngx_http_mcp_oauth_same(gt, &(ngx_str_t)
                                  ngx_string(NGX_HTTP_MCP_OAUTH_JWT_BEARER)))
    {
        return ngx_http_mcp_oauth_issued(r, gt,
                   ngx_http_mcp_oauth_grant_jwt(r, ascf, ctx));
    }

    if (gt->len == 0) {
        return ngx_http_mcp_oauth_as_error(r, NGX_HTTP_BAD_REQUEST,
                                           "invalid_request",
                                           "grant_type is missing");
    }

    return ngx_http_mcp_oauth_as_error(r, NGX_HTTP_BAD_REQUEST,
                                       "unsupported_grant_type",
                                       "grant_type is not supported");
}


/* a grant's answer, and the token it issued counted by grant type */

static ngx_int_t
ngx_http_mcp_oauth_issued(ngx_http_request_t *r, ngx_str_t *grant_type,
    ngx_int_t rc)
{
    rc = ngx_http_mcp_oauth_as_done(r, rc);

    if (r->header_sent && r->headers_out.status == NGX_HTTP_OK) {
        ngx_http_mcp_oauth_metric_add(r, NGX_HTTP_MCP_OAUTH_M_TOKENS,
                                      (char *) grant_type->data,
                                      grant_type->len, NULL, 0, 1);
    }

    return rc;
}


/*
 * What /token, /revoke and /device_authorization start with: a POST, its
 * form, and the client's
 * authentication.  NGX_OK: *ctx has the client;
 * else what the handler returns.
 */

ngx_int_t
ngx_http_mcp_oauth_client_request(ngx_http_request_t *r,
    ngx_http_mcp_oauth_srv_conf_t *ascf, ngx_http_mcp_oauth_as_ctx_t **ctx)
{
    ngx_int_t  rc;

    if (r->method != NGX_HTTP_POST) {
        return NGX_HTTP_NOT_ALLOWED;
    }

    *ctx = ngx_http_mcp_oauth_as_ctx(r);
    if (*ctx == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    ngx_http_mcp_oauth_state_begin(&(*ctx)->state, &ascf->issued);

    rc = ngx_http_mcp_oauth_form(r, *ctx);
    if (rc != NGX_OK) {
        return rc;
    }

    rc = ngx_http_mcp_oauth_client_auth(r, ascf, *ctx);

    if (rc == NGX_AGAIN) {
        return NGX_DONE;
    }

    if (rc == NGX_ERROR) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    if (rc == NGX_ABORT) {
        return ngx_http_mcp_oauth_as_done(r, rc);
    }

    if (rc != NGX_OK) {
        return ngx_http_mcp_oauth_as_error_set(*ctx, NGX_HTTP_UNAUTHORIZED,
                                               "invalid_client",
                                               "client authentication failed");
    }

    return NGX_OK;
}


/* the form body of /token and /revoke (RFC 6749 §3.2) */

static ngx_int_t
ngx_http_mcp_oauth_form(ngx_http_request_t *r,
    ngx_http_mcp_oauth_as_ctx_t *ctx)
{
    ngx_int_t         rc;
    ngx_str_t         body;
    ngx_table_elt_t  *ct;

    if (ctx->parsed) {
        return NGX_OK;
    }

    rc = ngx_http_mcp_oauth_as_body(r, ctx, NGX_HTTP_MCP_OAUTH_FORM_MAX);
    if (rc != NGX_OK) {
        return rc;
    }

    ctx->parsed = 1;

    ct = r->headers_in.content_type;

    if (ct == NULL
        || ct->value.len < sizeof("application/x-www-form-urlencoded") - 1
        || ngx_strncasecmp(ct->value.data,
                           (u_char *) "application/x-www-form-urlencoded",
                           sizeof("application/x-www-form-urlencoded") - 1)
           != 0)
    {
        return ngx_http_mcp_oauth_as_error_set(ctx, NGX_HTTP_BAD_REQUEST,
                                           "invalid_request",
                                           "the body must be "
                                           "application/x-www-form-"
                                           "urlencoded");
    }

    if (ngx_http_mcp_oauth_body(r, &body) != NGX_OK) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    rc = ngx_http_mcp_oauth_params_parse(r->pool, &body, &ctx->params);

    if (rc == NGX_ERROR) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    if (rc != NGX_OK || ctx->params.repeated) {
        return ngx_http_mcp_oauth_as_error_set(ctx, NGX_HTTP_BAD_REQUEST,
                                           "invalid_request",
                                           "the parameters are malformed or "
                                           "repeated");
    }

    return NGX_OK;
}


static ngx_int_t
ngx_http_mcp_oauth_grant_code(ngx_http_request_t *r,
    ngx_http_mcp_oauth_srv_conf_t *ascf, ngx_http_mcp_oauth_as_ctx_t *ctx)
{
    u_char     key[32];
    ngx_int_t  rc;
    ngx_str_t  f[NGX_HTTP_MCP_OAUTH_C_N], g[NGX_HTTP_MCP_OAUTH_G_N], at;

    /* checked first, used after: a bad request does not burn the code */

    rc = ngx_http_mcp_oauth_code_find(r, ascf, ctx, key, f);

    if (ngx_http_mcp_oauth_state_unanswered(rc)) {
        return rc;
    }

    if (rc != NGX_OK || ngx_http_mcp_oauth_code_check(ctx, f) != NGX_OK) {
        return ngx_http_mcp_oauth_as_error_send(r, ctx);
    }

    ngx_http_mcp_oauth_code_grant(f, g);

    rc = ngx_http_mcp_oauth_state_get(r, &ctx->state, key,
                                      NGX_HTTP_MCP_OAUTH_ENTRY_CODE, NULL, 1);

    if (ngx_http_mcp_oauth_state_unanswered(rc)) {
        return rc;
    }

    if (rc == NGX_DECLINED) {
        return ngx_http_mcp_oauth_as_error(r, NGX_HTTP_BAD_REQUEST,
                                           "invalid_grant",
                                           "the code is unknown or expired");
    }

    if (rc == NGX_BUSY) {
        /* RFC 9700 §4.5.2: a code used twice was stolen */
        return ngx_http_mcp_oauth_reused(r, ascf, &f[NGX_HTTP_MCP_OAUTH_C_SID],
                                         "the code was already used");
    }

    /* bridge "pass": the IAM's access token, kept sealed with the code */

    if (ngx_http_mcp_oauth_unseal_token(r->pool, ascf->signer,
                                        &f[NGX_HTTP_MCP_OAUTH_C_IAM_AT], &at)
        != NGX_OK)
    {
        return NGX_ERROR;
    }

    return ngx_http_mcp_oauth_issue(r, ascf, g,
                                    ctx->client.grants
                                    & NGX_HTTP_MCP_OAUTH_GRANT_REFRESH, NULL,
                                    &at, &f[NGX_HTTP_MCP_OAUTH_C_IAM_EXP]);
}


/* the grant a code's record (f) gives (g) */

static void
ngx_http_mcp_oauth_code_grant(ngx_str_t *f, ngx_str_t *g)
{
    g[NGX_HTTP_MCP_OAUTH_G_CLIENT] = f[NGX_HTTP_MCP_OAUTH_C_CLIENT];
    g[NGX_HTTP_MCP_OAUTH_G_SCOPE] = f[NGX_HTTP_MCP_OAUTH_C_SCOPE];
    g[NGX_HTTP_MCP_OAUTH_G_RESOURCE] = f[NGX_HTTP_MCP_OAUTH_C_RESOURCE];
    g[NGX_HTTP_MCP_OAUTH_G_SUB] = f[NGX_HTTP_MCP_OAUTH_C_SUB];
    g[NGX_HTTP_MCP_OAUTH_G_SID] = f[NGX_HTTP_MCP_OAUTH_C_SID];
    g[NGX_HTTP_MCP_OAUTH_G_IAM_RT] = f[NGX_HTTP_MCP_OAUTH_C_IAM_RT];
    ngx_str_set(&g[NGX_HTTP_MCP_OAUTH_G_GEN], "1");
}


/*
 * RFC 8628 §3.4: the device code, once its user approved
 * (ngx_http_mcp_oauth_device_poll has the other answers); used twice, it
 * was stolen, as a code would be.
 */

static ngx_int_t
ngx_http_mcp_oauth_grant_device(ngx_http_request_t *r,
    ngx_http_mcp_oauth_srv_conf_t *ascf, ngx_http_mcp_oauth_as_ctx_t *ctx)
{
    ngx_int_t  rc;
    ngx_str_t  f[NGX_HTTP_MCP_OAUTH_C_N], g[NGX_HTTP_MCP_OAUTH_G_N];

    rc = ngx_http_mcp_oauth_device_poll(r, ascf, ctx, f);

    if (ngx_http_mcp_oauth_state_unanswered(rc)) {
        return rc;
    }

    if (rc == NGX_DECLINED) {
        return ngx_http_mcp_oauth_as_error_send(r, ctx);
    }

    if (rc == NGX_BUSY) {
        return ngx_http_mcp_oauth_reused(r, ascf, &f[NGX_HTTP_MCP_OAUTH_C_SID],
                                         "the device code was already used");
    }

    ngx_http_mcp_oauth_code_grant(f, g);

    return ngx_http_mcp_oauth_issue(r, ascf, g,
                                    ctx->client.grants
                                    & NGX_HTTP_MCP_OAUTH_GRANT_REFRESH, NULL,
                                    NULL, NULL);
}


/*
 * The record of the code the client presents, not yet used: its key and
 * fields (f).  NGX_DECLINED: the error is in ctx.
 */

static ngx_int_t
ngx_http_mcp_oauth_code_find(ngx_http_request_t *r,
    ngx_http_mcp_oauth_srv_conf_t *ascf, ngx_http_mcp_oauth_as_ctx_t *ctx,
    u_char *key, ngx_str_t *f)
{
    ngx_int_t   rc;
    ngx_str_t   rec, *v;

    v = ctx->params.v;

    if (!(ctx->client.grants & NGX_HTTP_MCP_OAUTH_GRANT_CODE)) {
        return ngx_http_mcp_oauth_as_error_set(ctx, NGX_HTTP_BAD_REQUEST,
                                               "unauthorized_client",
                                               "the client may not use this "
                                               "grant");
    }

    if (v[NGX_HTTP_MCP_OAUTH_P_CODE].len == 0
        || v[NGX_HTTP_MCP_OAUTH_P_CODE_VERIFIER].len == 0)
    {
        return ngx_http_mcp_oauth_as_error_set(ctx, NGX_HTTP_BAD_REQUEST,
                                               "invalid_request",
                                               "code and code_verifier are "
                                               "required");
    }

    ngx_http_mcp_oauth_sha256(&ngx_http_mcp_oauth_code_prefix,
                              &v[NGX_HTTP_MCP_OAUTH_P_CODE], key);

    rc = ngx_http_mcp_oauth_state_get(r, &ctx->state, key,
                                      NGX_HTTP_MCP_OAUTH_ENTRY_CODE, &rec, 0);

    if (ngx_http_mcp_oauth_state_unanswered(rc)) {
        return rc;
    }

    if (rc == NGX_DECLINED
        || ngx_http_mcp_oauth_record_get(&rec, f, NGX_HTTP_MCP_OAUTH_C_N)
           != NGX_OK)
    {
        return ngx_http_mcp_oauth_as_error_set(ctx, NGX_HTTP_BAD_REQUEST,
                                               "invalid_grant",
                                               "the code is unknown or "
                                               "expired");
    }

    return NGX_OK;
}


/* the request matches the code's: client, redirect_uri, PKCE, resource */

static ngx_int_t
ngx_http_mcp_oauth_code_check(ngx_http_mcp_oauth_as_ctx_t *ctx, ngx_str_t *f)
{
    ngx_str_t  *v;

    v = ctx->params.v;

    if (!ngx_http_mcp_oauth_same(&f[NGX_HTTP_MCP_OAUTH_C_CLIENT],
                                 &ctx->client.id))
    {
        return ngx_http_mcp_oauth_as_error_set(ctx, NGX_HTTP_BAD_REQUEST,
                                               "invalid_grant",
                                               "the code was issued to another "
                                               "client");
    }

    /* the same redirect_uri as at /authorize, if it was given there */

    if (!ngx_http_mcp_oauth_same(&f[NGX_HTTP_MCP_OAUTH_C_REDIRECT],
                                 &v[NGX_HTTP_MCP_OAUTH_P_REDIRECT_URI]))
    {
        return ngx_http_mcp_oauth_as_error_set(ctx, NGX_HTTP_BAD_REQUEST,
                                               "invalid_grant",
                                               "redirect_uri does not match "
                                               "the "
                                               "authorization request");
    }

    if (ngx_http_mcp_oauth_pkce(&v[NGX_HTTP_MCP_OAUTH_P_CODE_VERIFIER],
                                &f[NGX_HTTP_MCP_OAUTH_C_CHALLENGE])
        != NGX_OK)
    {
        return ngx_http_mcp_oauth_as_error_set(ctx, NGX_HTTP_BAD_REQUEST,
                                               "invalid_grant",
                                               "code_verifier does not match "
                                               "the "
                                               "code_challenge");
    }

    if (v[NGX_HTTP_MCP_OAUTH_P_RESOURCE].len
        && !ngx_http_mcp_oauth_same(&v[NGX_HTTP_MCP_OAUTH_P_RESOURCE],
                                    &f[NGX_HTTP_MCP_OAUTH_C_RESOURCE]))
    {
        return ngx_http_mcp_oauth_as_error_set(ctx, NGX_HTTP_BAD_REQUEST,
                                               "invalid_target",
                                               "resource is not the one "
                                               "authorized");
    }

    return NGX_OK;
}


static ngx_int_t
ngx_http_mcp_oauth_grant_refresh(ngx_http_request_t *r,
    ngx_http_mcp_oauth_srv_conf_t *ascf, ngx_http_mcp_oauth_as_ctx_t *ctx)
{
    ngx_int_t                   rc;
    ngx_str_t                   rec, gen, g[NGX_HTTP_MCP_OAUTH_G_N];
    ngx_http_mcp_oauth_authz_t  iam;

    rc = ngx_http_mcp_oauth_refresh_grant(r, ascf, ctx, &gen, &rec, g);

    if (rc == NGX_AGAIN || rc == NGX_ABORT) {
        return rc;
    }

    if (rc == NGX_BUSY) {
        /* RFC 9700 §4.14.2: an older refresh token of the grant */
        return ngx_http_mcp_oauth_reused(r, ascf, &g[NGX_HTTP_MCP_OAUTH_G_SID],
                                         "the refresh token was already used");
    }

    if (rc == NGX_OK) {
        rc = ngx_http_mcp_oauth_refresh_narrow(r, ascf, ctx, g);
    }

    if (rc == NGX_ERROR) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    if (rc == NGX_DECLINED) {
        return ngx_http_mcp_oauth_as_error_send(r, ctx);
    }

    rc = ngx_http_mcp_oauth_refresh_iam(r, ascf, ctx, g, &iam);

    if (rc == NGX_DECLINED) {
        return ngx_http_mcp_oauth_as_error_send(r, ctx);
    }

    if (rc != NGX_OK) {
        return rc;
    }

    /* the next refresh token replaces this one in the grant's record */

    if (ngx_http_mcp_oauth_refresh_next(r->pool, &gen,
                                        &g[NGX_HTTP_MCP_OAUTH_G_GEN])
        != NGX_OK)
    {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    return ngx_http_mcp_oauth_issue(r, ascf, g, 1, &rec, &iam.iam_at,
                                    &iam.iam_exp);
}


/*
 * The live grant of the client's refresh token: its record (rec, g) and
 * the token's number (gen).  NGX_BUSY: an older token of the grant;
 * NGX_DECLINED: the error is in ctx.
 */

static ngx_int_t
ngx_http_mcp_oauth_refresh_grant(ngx_http_request_t *r,
    ngx_http_mcp_oauth_srv_conf_t *ascf, ngx_http_mcp_oauth_as_ctx_t *ctx,
    ngx_str_t *gen, ngx_str_t *rec, ngx_str_t *g)
{
    ngx_int_t   rc;
    ngx_str_t  *v;

    v = ctx->params.v;

    if (!(ctx->client.grants & NGX_HTTP_MCP_OAUTH_GRANT_REFRESH)) {
        return ngx_http_mcp_oauth_as_error_set(ctx, NGX_HTTP_BAD_REQUEST,
                                               "unauthorized_client",
                                               "the client may not use this "
                                               "grant");
    }

    if (v[NGX_HTTP_MCP_OAUTH_P_REFRESH_TOKEN].len == 0) {
        return ngx_http_mcp_oauth_as_error_set(ctx, NGX_HTTP_BAD_REQUEST,
                                               "invalid_request",
                                               "refresh_token is required");
    }

    rc = ngx_http_mcp_oauth_refresh_find(r, ascf,
                                         &v[NGX_HTTP_MCP_OAUTH_P_REFRESH_TOKEN],
                                         gen, rec, g);
    if (ngx_http_mcp_oauth_state_unanswered(rc)) {
        return rc;
    }

    if (rc == NGX_DECLINED) {
        return ngx_http_mcp_oauth_as_error_set(ctx, NGX_HTTP_BAD_REQUEST,
                                               "invalid_grant",
                                               "the refresh token is unknown "
                                               "or "
                                               "expired");
    }

    if (!ngx_http_mcp_oauth_same(gen, &g[NGX_HTTP_MCP_OAUTH_G_GEN])) {
        return NGX_BUSY;
    }

    if (!ngx_http_mcp_oauth_same(&g[NGX_HTTP_MCP_OAUTH_G_CLIENT],
                                 &ctx->client.id))
    {
        return ngx_http_mcp_oauth_as_error_set(ctx, NGX_HTTP_BAD_REQUEST,
                                               "invalid_grant",
                                               "the refresh token was issued "
                                               "to "
                                               "another client");
    }

    if (ngx_http_mcp_oauth_state_revoked(ascf->zone,
                                         &g[NGX_HTTP_MCP_OAUTH_G_SID])
        != NGX_DECLINED)
    {
        return ngx_http_mcp_oauth_as_error_set(ctx, NGX_HTTP_BAD_REQUEST,
                                               "invalid_grant",
                                               "the grant was revoked");
    }

    return NGX_OK;
}


/* a narrower scope may be asked for (RFC 6749 §6), not another resource */

static ngx_int_t
ngx_http_mcp_oauth_refresh_narrow(ngx_http_request_t *r,
    ngx_http_mcp_oauth_srv_conf_t *ascf, ngx_http_mcp_oauth_as_ctx_t *ctx,
    ngx_str_t *g)
{
    ngx_int_t   rc;
    ngx_str_t  *v;

    v = ctx->params.v;

    if (v[NGX_HTTP_MCP_OAUTH_P_SCOPE].len) {
        rc = ngx_http_mcp_oauth_scope_allowed(r->pool, ascf, NULL,
                                              &v[NGX_HTTP_MCP_OAUTH_P_SCOPE]);
        if (rc == NGX_ERROR) {
            return NGX_ERROR;
        }

        if (rc != NGX_OK
            || ngx_http_mcp_oauth_scope_subset(&v[NGX_HTTP_MCP_OAUTH_P_SCOPE],
                                               &g[NGX_HTTP_MCP_OAUTH_G_SCOPE])
               != NGX_OK)
        {
            return ngx_http_mcp_oauth_as_error_set(ctx, NGX_HTTP_BAD_REQUEST,
                                                   "invalid_scope",
                                                   "the scope is wider than "
                                                   "the "
                                                   "grant's");
        }

        g[NGX_HTTP_MCP_OAUTH_G_SCOPE] = v[NGX_HTTP_MCP_OAUTH_P_SCOPE];
    }

    if (v[NGX_HTTP_MCP_OAUTH_P_RESOURCE].len
        && !ngx_http_mcp_oauth_same(&v[NGX_HTTP_MCP_OAUTH_P_RESOURCE],
                                    &g[NGX_HTTP_MCP_OAUTH_G_RESOURCE]))
    {
        return ngx_http_mcp_oauth_as_error_set(ctx, NGX_HTTP_BAD_REQUEST,
                                               "invalid_target",
                                               "resource is not the one "
                                               "authorized");
    }

    return NGX_OK;
}


/*
 * Bridge "pass": the IAM refreshes its token first (it may be down); iam
 * has its new tokens, or none for a grant of ours.  The bridge's codes
 * (docs of ngx_http_mcp_oauth_bridge_t); NGX_DECLINED: the error is in ctx.
 */

static ngx_int_t
ngx_http_mcp_oauth_refresh_iam(ngx_http_request_t *r,
    ngx_http_mcp_oauth_srv_conf_t *ascf, ngx_http_mcp_oauth_as_ctx_t *ctx,
    ngx_str_t *g, ngx_http_mcp_oauth_authz_t *iam)
{
    ngx_int_t  rc;
    ngx_str_t  rt;

    ngx_str_null(&iam->iam_at);
    ngx_str_null(&iam->iam_exp);

    if (g[NGX_HTTP_MCP_OAUTH_G_IAM_RT].len == 0) {
        return NGX_OK;
    }

    if (ascf->bridge == NULL) {
        /* the grant came through a bridge this server no longer has */
        return ngx_http_mcp_oauth_as_error_set(ctx, NGX_HTTP_BAD_REQUEST,
                                               "invalid_grant",
                                               "the grant's IAM is not "
                                               "configured");
    }

    /* the grant's record keeps the IAM's refresh token sealed */

    if (ngx_http_mcp_oauth_unseal_token(r->pool, ascf->signer,
                                        &g[NGX_HTTP_MCP_OAUTH_G_IAM_RT], &rt)
        != NGX_OK)
    {
        return NGX_ERROR;
    }

    rc = ascf->bridge->refresh(r, ascf, ctx, &rt,
                               &g[NGX_HTTP_MCP_OAUTH_G_RESOURCE], iam);
    if (rc != NGX_OK) {
        return rc;
    }

    return ngx_http_mcp_oauth_seal_token(r->pool, ascf->signer, &iam->iam_rt,
                                         &g[NGX_HTTP_MCP_OAUTH_G_IAM_RT]);
}


/* the number of the refresh token that follows gen's */

static ngx_int_t
ngx_http_mcp_oauth_refresh_next(ngx_pool_t *pool, ngx_str_t *gen,
    ngx_str_t *next)
{
    ngx_int_t  n;

    n = ngx_atoi(gen->data, gen->len);
    next->data = ngx_pnalloc(pool, NGX_INT_T_LEN);
    if (n == NGX_ERROR || next->data == NULL) {
        return NGX_ERROR;
    }

    next->len = ngx_sprintf(next->data, "%i", n + 1) - next->data;

    return NGX_OK;
}


/*
 * The scope and resource a client asks for at the server itself (the
 * client_credentials and device grants): the scope within what the client
 * may have (its own, or the server's, when it asks for none), the resource
 * one of the server's.  NGX_OK; NGX_DECLINED: the error is in ctx, for
 * ngx_http_mcp_oauth_as_error_send().
 */

ngx_int_t
ngx_http_mcp_oauth_asked(ngx_http_request_t *r,
    ngx_http_mcp_oauth_srv_conf_t *ascf, ngx_http_mcp_oauth_as_ctx_t *ctx,
    ngx_str_t *scope, ngx_str_t *resource)
{
    ngx_int_t                     rc;
    ngx_str_t                    *v, *found;
    ngx_http_mcp_oauth_client_t  *c;

    v = ctx->params.v;
    c = &ctx->client;

    if (v[NGX_HTTP_MCP_OAUTH_P_SCOPE].len) {
        *scope = v[NGX_HTTP_MCP_OAUTH_P_SCOPE];

        rc = ngx_http_mcp_oauth_scope_allowed(r->pool, ascf, c, scope);

        if (rc == NGX_ERROR) {
            return ngx_http_mcp_oauth_as_error_set(ctx,
                                               NGX_HTTP_INTERNAL_SERVER_ERROR,
                                               "server_error",
                                               "no memory for the scope");
        }

        if (rc != NGX_OK) {
            return ngx_http_mcp_oauth_as_error_set(ctx, NGX_HTTP_BAD_REQUEST,
                                                   "invalid_scope",
                                                   "a requested scope is not "
                                                   "granted to this client");
        }

    } else {
        *scope = c->scope.len ? c->scope : ascf->scope;
    }

    found = ngx_http_mcp_oauth_resource_find(ascf,
                                             &v[NGX_HTTP_MCP_OAUTH_P_RESOURCE]);
    if (found == NULL) {
        return ngx_http_mcp_oauth_as_error_set(ctx, NGX_HTTP_BAD_REQUEST,
                                               "invalid_target",
                                               "resource is not served by "
                                               "this authorization server");
    }

    *resource = *found;

    return NGX_OK;
}


static ngx_int_t
ngx_http_mcp_oauth_grant_client(ngx_http_request_t *r,
    ngx_http_mcp_oauth_srv_conf_t *ascf, ngx_http_mcp_oauth_as_ctx_t *ctx)
{
    ngx_str_t                     g[NGX_HTTP_MCP_OAUTH_G_N];
    ngx_http_mcp_oauth_client_t  *c;

    c = &ctx->client;

    if (!(c->grants & NGX_HTTP_MCP_OAUTH_GRANT_CLIENT)
        || !c->configured || c->auth == NGX_HTTP_MCP_OAUTH_AUTH_NONE)
    {
        return ngx_http_mcp_oauth_as_error(r, NGX_HTTP_BAD_REQUEST,
                                           "unauthorized_client",
                                           "client_credentials is only for "
                                           "clients configured with a "
                                           "secret or keys");
    }

    if (ngx_http_mcp_oauth_asked(r, ascf, ctx, &g[NGX_HTTP_MCP_OAUTH_G_SCOPE],
                                 &g[NGX_HTTP_MCP_OAUTH_G_RESOURCE])
        != NGX_OK)
    {
        return ngx_http_mcp_oauth_as_error_send(r, ctx);
    }

    g[NGX_HTTP_MCP_OAUTH_G_CLIENT] = c->id;
    g[NGX_HTTP_MCP_OAUTH_G_SUB] = c->id;
    ngx_str_null(&g[NGX_HTTP_MCP_OAUTH_G_IAM_RT]);
    ngx_str_null(&g[NGX_HTTP_MCP_OAUTH_G_GEN]);

    if (ngx_http_mcp_oauth_random(r->pool, 16, &g[NGX_HTTP_MCP_OAUTH_G_SID])
        != NGX_OK)
    {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    return ngx_http_mcp_oauth_issue(r, ascf, g, 0, NULL, NULL, NULL);
}


/*
 * The jwt-bearer grant (RFC 7523 §2.1) with an identity provider's ID-JAG:
 * a grant of its own, a refresh token if the IdP is trusted with one.
 */

static ngx_int_t
ngx_http_mcp_oauth_grant_jwt(ngx_http_request_t *r,
    ngx_http_mcp_oauth_srv_conf_t *ascf, ngx_http_mcp_oauth_as_ctx_t *ctx)
{
    ngx_int_t                   rc;
    ngx_str_t                   g[NGX_HTTP_MCP_OAUTH_G_N];
    ngx_uint_t                  refresh;
    ngx_http_mcp_oauth_authz_t  a;

    ngx_memzero(&a, sizeof(ngx_http_mcp_oauth_authz_t));
    refresh = 0;

    rc = ngx_http_mcp_oauth_id_jag(r, ascf, ctx, &a, &refresh);

    if (rc == NGX_DECLINED) {
        return ngx_http_mcp_oauth_as_error_send(r, ctx);
    }

    if (rc != NGX_OK) {
        return rc;
    }

    /* the same grant id when the handler runs again (the state's answers) */

    if (ctx->sid.len == 0
        && ngx_http_mcp_oauth_random(r->pool, 16, &ctx->sid) != NGX_OK)
    {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    g[NGX_HTTP_MCP_OAUTH_G_CLIENT] = ctx->client.id;
    g[NGX_HTTP_MCP_OAUTH_G_SCOPE] = a.scope;
    g[NGX_HTTP_MCP_OAUTH_G_RESOURCE] = *a.resource;
    g[NGX_HTTP_MCP_OAUTH_G_SUB] = a.user;
    g[NGX_HTTP_MCP_OAUTH_G_SID] = ctx->sid;
    ngx_str_null(&g[NGX_HTTP_MCP_OAUTH_G_IAM_RT]);
    ngx_str_set(&g[NGX_HTTP_MCP_OAUTH_G_GEN], "1");

    return ngx_http_mcp_oauth_issue(r, ascf, g, refresh, NULL, NULL, NULL);
}


/*
 * An RFC 9068 access token (or, bridging with "pass", the IAM's), and a
 * refresh token of the same grant.
 */

static ngx_int_t
ngx_http_mcp_oauth_issue(ngx_http_request_t *r,
    ngx_http_mcp_oauth_srv_conf_t *ascf, ngx_str_t *g, ngx_uint_t refresh,
    ngx_str_t *rotated, ngx_str_t *iam_at, ngx_str_t *iam_exp)
{
    time_t      ttl;
    json_t     *doc;
    ngx_int_t   rc;
    ngx_str_t   jws, rt, body;

    ttl = ascf->token_ttl;

    if (iam_at && iam_at->len) {
        jws = *iam_at;
        ttl = iam_exp->len ? ngx_atotm(iam_exp->data, iam_exp->len) : 0;

        if (ttl <= 0) {
            ttl = ascf->token_ttl;
        }

    } else {
        rc = ngx_http_mcp_oauth_access_token(r, ascf, g, &jws);

        if (rc == NGX_ERROR) {
            return NGX_HTTP_INTERNAL_SERVER_ERROR;
        }

        if (rc != NGX_OK) {
            ngx_log_error(NGX_LOG_ERR, r->connection->log, 0,
                          "mcp_oauth: token: cannot build the access token "
                          "(a subject that is not UTF-8?)");
            return ngx_http_mcp_oauth_as_error(r,
                                               NGX_HTTP_INTERNAL_SERVER_ERROR,
                                               "server_error",
                                               "cannot issue the token");
        }
    }

    doc = json_pack("{s:s%,s:s,s:I,s:s%}",
                    "access_token", (char *) jws.data, jws.len,
                    "token_type", "Bearer",
                    "expires_in", (json_int_t) ttl,
                    "scope", (char *) g[NGX_HTTP_MCP_OAUTH_G_SCOPE].data,
                    g[NGX_HTTP_MCP_OAUTH_G_SCOPE].len);
    if (doc == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    if (refresh) {
        rc = ngx_http_mcp_oauth_refresh_keep(r, ascf, g, rotated, &rt);

        if (rc != NGX_OK) {
            json_decref(doc);
        }

        if (ngx_http_mcp_oauth_state_unanswered(rc)) {
            return rc;
        }

        if (rc == NGX_BUSY) {
            /* a concurrent refresh of the same token won */
            return ngx_http_mcp_oauth_as_error(r, NGX_HTTP_BAD_REQUEST,
                                               "invalid_grant",
                                               "the refresh token was "
                                               "already used");
        }

        if (rc != NGX_OK) {
            return ngx_http_mcp_oauth_as_error(r,
                                               NGX_HTTP_SERVICE_UNAVAILABLE,
                                               "temporarily_unavailable",
                                               "the server is busy, try "
                                               "again later");
        }

        json_object_set_new(doc, "refresh_token",
                            ngx_http_mcp_oauth_json_str(rt));
    }

    rc = ngx_http_mcp_oauth_json_out(r->pool, doc, &body);
    json_decref(doc);

    if (rc != NGX_OK) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    ngx_log_error(NGX_LOG_INFO, r->connection->log, 0,
                  "mcp_oauth: token issued, scope \"%V\"",
                  &g[NGX_HTTP_MCP_OAUTH_G_SCOPE]);

    return ngx_http_mcp_oauth_as_send(r, NGX_HTTP_OK, "application/json",
                                      &body);
}


/*
 * Our access token of the grant, signed.  NGX_DECLINED: it cannot be
 * built (jansson drops a member that is not UTF-8, a user name say).
 */

static ngx_int_t
ngx_http_mcp_oauth_access_token(ngx_http_request_t *r,
    ngx_http_mcp_oauth_srv_conf_t *ascf, ngx_str_t *g, ngx_str_t *jws)
{
    time_t      now;
    json_t     *doc;
    ngx_int_t   rc;
    ngx_str_t   payload, jti;

    now = ngx_time();

    if (ngx_http_mcp_oauth_random(r->pool, 16, &jti) != NGX_OK) {
        return NGX_ERROR;
    }

    doc = json_object();
    if (doc == NULL) {
        return NGX_ERROR;
    }

    json_object_set_new(doc, "iss", ngx_http_mcp_oauth_json_str(ascf->issuer));
    json_object_set_new(doc, "sub",
                        ngx_http_mcp_oauth_json_str(
                            g[NGX_HTTP_MCP_OAUTH_G_SUB]));
    json_object_set_new(doc, "aud",
                        ngx_http_mcp_oauth_json_str(
                            g[NGX_HTTP_MCP_OAUTH_G_RESOURCE]));
    json_object_set_new(doc, "exp", json_integer(now + ascf->token_ttl));
    json_object_set_new(doc, "iat", json_integer(now));
    json_object_set_new(doc, "jti", ngx_http_mcp_oauth_json_str(jti));
    json_object_set_new(doc, "client_id",
                        ngx_http_mcp_oauth_json_str(
                            g[NGX_HTTP_MCP_OAUTH_G_CLIENT]));
    json_object_set_new(doc, "scope",
                        ngx_http_mcp_oauth_json_str(
                            g[NGX_HTTP_MCP_OAUTH_G_SCOPE]));
    json_object_set_new(doc, "sid",
                        ngx_http_mcp_oauth_json_str(
                            g[NGX_HTTP_MCP_OAUTH_G_SID]));

    rc = (json_object_size(doc) == 9
          && ngx_http_mcp_oauth_json_out(r->pool, doc, &payload) == NGX_OK
          && ngx_http_mcp_oauth_sign(r->pool, ascf->signer, &payload, jws)
             == NGX_OK)
         ? NGX_OK : NGX_DECLINED;

    json_decref(doc);

    return rc;
}


/*
 * The grant's refresh token (rt), kept.  One record per grant, keyed by
 * its id, holding the number of its live refresh token: a rotation
 * replaces it (the zone does not grow with refreshes), and an older token
 * of the grant is known as one by its MAC and number.  NGX_BUSY: a
 * concurrent refresh of the rotated token won; NGX_DECLINED: the zone is
 * full.
 */

static ngx_int_t
ngx_http_mcp_oauth_refresh_keep(ngx_http_request_t *r,
    ngx_http_mcp_oauth_srv_conf_t *ascf, ngx_str_t *g, ngx_str_t *rotated,
    ngx_str_t *rt)
{
    u_char                           key[32];
    time_t                           expires;
    ngx_int_t                        rc;
    ngx_str_t                        rec;
    ngx_http_mcp_oauth_as_ctx_t     *ctx;

    ctx = ngx_http_mcp_oauth_as_ctx(r);
    if (ctx == NULL) {
        return NGX_ERROR;
    }

    if (ngx_http_mcp_oauth_refresh_token(r, ascf,
                                         &g[NGX_HTTP_MCP_OAUTH_G_SID],
                                         &g[NGX_HTTP_MCP_OAUTH_G_GEN], rt)
        != NGX_OK
        || ngx_http_mcp_oauth_record_add(r->pool, &rec, g,
                                         NGX_HTTP_MCP_OAUTH_G_N)
           != NGX_OK)
    {
        return NGX_ERROR;
    }

    ngx_http_mcp_oauth_sha256(&ngx_http_mcp_oauth_refresh_prefix,
                              &g[NGX_HTTP_MCP_OAUTH_G_SID], key);

    expires = ngx_time() + ascf->refresh_ttl;

    if (rotated) {
        rc = ngx_http_mcp_oauth_state_swap(r, &ctx->state, key,
                                           NGX_HTTP_MCP_OAUTH_ENTRY_REFRESH,
                                           expires, rotated, &rec);
    } else {
        rc = ngx_http_mcp_oauth_state_put(r, &ctx->state, key,
                                          NGX_HTTP_MCP_OAUTH_ENTRY_REFRESH,
                                          expires, &rec);
    }

    if (rc == NGX_OK || rc == NGX_BUSY
        || ngx_http_mcp_oauth_state_unanswered(rc))
    {
        return rc;
    }

    return NGX_DECLINED;
}


/* a refresh token: grant id "." number "." MAC of both */

static ngx_int_t
ngx_http_mcp_oauth_refresh_token(ngx_http_request_t *r,
    ngx_http_mcp_oauth_srv_conf_t *ascf, ngx_str_t *sid, ngx_str_t *gen,
    ngx_str_t *rt)
{
    u_char     mac[32], *p;
    ngx_str_t  parts[3], m, b64;

    parts[0] = ngx_http_mcp_oauth_refresh_prefix;
    parts[1] = *sid;
    parts[2] = *gen;

    if (ngx_http_mcp_oauth_hmac(ascf->signer->secret, parts, 3, mac)
        != NGX_OK)
    {
        return NGX_ERROR;
    }

    rt->len = sid->len + 1 + gen->len + 1 + ngx_base64_encoded_length(32);
    rt->data = ngx_pnalloc(r->pool, rt->len);
    if (rt->data == NULL) {
        return NGX_ERROR;
    }

    p = ngx_sprintf(rt->data, "%V.%V.", sid, gen);

    m.data = mac;
    m.len = 32;
    b64.data = p;
    ngx_encode_base64url(&b64, &m);

    rt->len = p + b64.len - rt->data;

    return NGX_OK;
}


/*
 * The grant of a refresh token of ours: its record (rec, g) and the
 * token's number (gen), which is the record's unless the token is an older
 * one.  NGX_DECLINED: not ours, or the grant is gone (expired, revoked).
 */

static ngx_int_t
ngx_http_mcp_oauth_refresh_find(ngx_http_request_t *r,
    ngx_http_mcp_oauth_srv_conf_t *ascf, ngx_str_t *rt, ngx_str_t *gen,
    ngx_str_t *rec, ngx_str_t *g)
{
    u_char                       *dot, *last, key[32];
    ngx_int_t                     rc;
    ngx_str_t                     sid, expected;
    ngx_http_mcp_oauth_as_ctx_t  *ctx;

    last = rt->data + rt->len;

    dot = ngx_strlchr(rt->data, last, '.');
    if (dot == NULL || rt->len > 128) {
        return NGX_DECLINED;
    }

    sid.data = rt->data;
    sid.len = dot - rt->data;
    gen->data = dot + 1;

    dot = ngx_strlchr(gen->data, last, '.');
    if (dot == NULL) {
        return NGX_DECLINED;
    }

    gen->len = dot - gen->data;

    if (sid.len == 0 || gen->len == 0 || gen->len > 9
        || ngx_atoi(gen->data, gen->len) == NGX_ERROR)
    {
        return NGX_DECLINED;
    }

    if (ngx_http_mcp_oauth_refresh_token(r, ascf, &sid, gen, &expected)
        != NGX_OK)
    {
        return NGX_ERROR;
    }

    if (expected.len != rt->len
        || CRYPTO_memcmp(expected.data, rt->data, rt->len) != 0)
    {
        return NGX_DECLINED;
    }

    ngx_http_mcp_oauth_sha256(&ngx_http_mcp_oauth_refresh_prefix, &sid, key);

    ctx = ngx_http_mcp_oauth_as_ctx(r);
    if (ctx == NULL) {
        return NGX_ERROR;
    }

    rc = ngx_http_mcp_oauth_state_get(r, &ctx->state, key,
                                      NGX_HTTP_MCP_OAUTH_ENTRY_REFRESH, rec,
                                      0);
    if (ngx_http_mcp_oauth_state_unanswered(rc)) {
        return rc;
    }

    if (rc != NGX_OK) {
        return NGX_DECLINED;
    }

    return ngx_http_mcp_oauth_record_get(rec, g, NGX_HTTP_MCP_OAUTH_G_N);
}


/* a single-use credential presented again: its whole grant is revoked */

static ngx_int_t
ngx_http_mcp_oauth_reused(ngx_http_request_t *r,
    ngx_http_mcp_oauth_srv_conf_t *ascf, ngx_str_t *sid, const char *what)
{
    ngx_int_t  rc;

    rc = ngx_http_mcp_oauth_revoke_grant(r, ascf, sid);

    if (ngx_http_mcp_oauth_state_unanswered(rc)) {
        return rc;
    }

    ngx_http_mcp_oauth_count(r, NGX_HTTP_MCP_OAUTH_M_REPLAYS,
                             ngx_strstr(what, "device") ? "device_code"
                             : ngx_strstr(what, "code") ? "code"
                                                        : "refresh_token",
                             NULL);

    ngx_log_error(NGX_LOG_WARN, r->connection->log, 0,
                  "mcp_oauth: token: %s, grant \"%V\" revoked", what, sid);

    return ngx_http_mcp_oauth_as_error(r, NGX_HTTP_BAD_REQUEST,
                                       "invalid_grant", what);
}


/* RFC 7636 §4.6: BASE64URL(SHA256(verifier)) == challenge */

static ngx_int_t
ngx_http_mcp_oauth_pkce(ngx_str_t *verifier, ngx_str_t *challenge)
{
    u_char      digest[32], b64[44], *p, c;
    ngx_str_t   src, dst;

    if (verifier->len < 43 || verifier->len > 128) {
        return NGX_DECLINED;
    }

    for (p = verifier->data; p < verifier->data + verifier->len; p++) {
        c = *p;

        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z')
              || (c >= '0' && c <= '9') || c == '-' || c == '.' || c == '_'
              || c == '~'))
        {
            return NGX_DECLINED;
        }
    }

    if (EVP_Digest(verifier->data, verifier->len, digest, NULL, EVP_sha256(),
                   NULL)
        != 1)
    {
        return NGX_DECLINED;
    }

    src.data = digest;
    src.len = 32;
    dst.data = b64;
    ngx_encode_base64url(&dst, &src);

    return ngx_http_mcp_oauth_same(&dst, challenge) ? NGX_OK : NGX_DECLINED;
}


static ngx_int_t
ngx_http_mcp_oauth_same(ngx_str_t *a, ngx_str_t *b)
{
    return a->len == b->len && ngx_strncmp(a->data, b->data, a->len) == 0;
}


/* RFC 7009: either token revokes its grant; 200 whatever the token was */

ngx_int_t
ngx_http_mcp_oauth_revoke_handler(ngx_http_request_t *r)
{
    char                           *err;
    ngx_int_t                       rc;
    ngx_str_t                      *token, rec, gen, g[NGX_HTTP_MCP_OAUTH_G_N];
    ngx_http_mcp_oauth_jwt_t        jwt;
    ngx_http_mcp_oauth_claims_t     claims;
    ngx_http_mcp_oauth_as_ctx_t    *ctx;
    ngx_http_mcp_oauth_srv_conf_t  *ascf;

    static ngx_str_t  empty = ngx_null_string;

    if (r->method == NGX_HTTP_OPTIONS) {
        return ngx_http_mcp_oauth_preflight(r, "POST, OPTIONS");
    }

    ascf = ngx_http_get_module_srv_conf(r, ngx_http_mcp_oauth_module);

    rc = ngx_http_mcp_oauth_client_request(r, ascf, &ctx);

    if (rc == NGX_DECLINED) {
        return ngx_http_mcp_oauth_as_error_send(r, ctx);
    }

    if (rc != NGX_OK) {
        return rc;
    }

    token = &ctx->params.v[NGX_HTTP_MCP_OAUTH_P_TOKEN];

    if (token->len == 0) {
        return ngx_http_mcp_oauth_as_error(r, NGX_HTTP_BAD_REQUEST,
                                           "invalid_request",
                                           "token is required");
    }

    /* an access token of ours: its signature says so, and its client */

    ngx_memzero(&claims, sizeof(ngx_http_mcp_oauth_claims_t));

    if (token->len <= NGX_HTTP_MCP_OAUTH_TOKEN_MAX
        && ngx_strlchr(token->data, token->data + token->len, '.')
        && ngx_http_mcp_oauth_jwt_parse(r->pool, token, &jwt, &err) == NGX_OK
        && ngx_http_mcp_oauth_jwt_verify(&jwt, &ascf->signer->keyset, 1, &err)
           == NGX_OK
        && ngx_http_mcp_oauth_claims_extract(r->pool, &jwt, &claims, &err)
           == NGX_OK)
    {
        if (claims.sid.len && ngx_http_mcp_oauth_same(&claims.client_id,
                                                      &ctx->client.id))
        {
            rc = ngx_http_mcp_oauth_revoke_grant(r, ascf, &claims.sid);
            if (ngx_http_mcp_oauth_state_unanswered(rc)) {
                return ngx_http_mcp_oauth_as_done(r, rc);
            }

            if (rc == NGX_DECLINED) {
                return ngx_http_mcp_oauth_as_error(r,
                                                NGX_HTTP_SERVICE_UNAVAILABLE,
                                                "temporarily_unavailable",
                                                "the revocation could not be "
                                                "kept, try again later");
            }
        }

        return ngx_http_mcp_oauth_as_send(r, NGX_HTTP_OK, "application/json",
                                          &empty);
    }

    rc = ngx_http_mcp_oauth_refresh_find(r, ascf, token, &gen, &rec, g);
    if (ngx_http_mcp_oauth_state_unanswered(rc)) {
        return ngx_http_mcp_oauth_as_done(r, rc);
    }

    if (rc == NGX_OK
        && ngx_http_mcp_oauth_same(&g[NGX_HTTP_MCP_OAUTH_G_CLIENT],
                                   &ctx->client.id))
    {
        rc = ngx_http_mcp_oauth_revoke_grant(r, ascf,
                                             &g[NGX_HTTP_MCP_OAUTH_G_SID]);
        if (ngx_http_mcp_oauth_state_unanswered(rc)) {
            return ngx_http_mcp_oauth_as_done(r, rc);
        }

        if (rc == NGX_DECLINED) {
            return ngx_http_mcp_oauth_as_error(r, NGX_HTTP_SERVICE_UNAVAILABLE,
                                               "temporarily_unavailable",
                                               "the revocation could not be "
                                               "kept, try again later");
        }
    }

    return ngx_http_mcp_oauth_as_send(r, NGX_HTTP_OK, "application/json",
                                      &empty);
}


/* NGX_OK: revoked (now or before); NGX_DECLINED: the zone is full */

ngx_int_t
ngx_http_mcp_oauth_revoke_grant(ngx_http_request_t *r,
    ngx_http_mcp_oauth_srv_conf_t *ascf, ngx_str_t *sid)
{
    u_char                        key[32];
    ngx_int_t                     rc;
    ngx_http_mcp_oauth_as_ctx_t  *ctx;

    ctx = ngx_http_mcp_oauth_as_ctx(r);
    if (ctx == NULL) {
        return NGX_ERROR;
    }

    /* its refresh tokens die with its record, which makes room */

    ngx_http_mcp_oauth_sha256(&ngx_http_mcp_oauth_refresh_prefix, sid, key);

    rc = ngx_http_mcp_oauth_state_delete(r, &ctx->state, key);
    if (rc != NGX_OK) {
        return rc;
    }

    rc = ngx_http_mcp_oauth_state_revoke_grant(r, &ctx->state, sid,
                                               ngx_time()
                                               + ngx_max(ascf->token_ttl,
                                                         ascf->refresh_ttl));
    if (rc == NGX_BUSY) {
        return NGX_OK;
    }

    if (rc == NGX_OK) {
        ngx_log_error(NGX_LOG_INFO, r->connection->log, 0,
                      "mcp_oauth: grant \"%V\" revoked", sid);
        ngx_http_mcp_oauth_count(r, NGX_HTTP_MCP_OAUTH_M_REVOCATIONS, NULL,
                                 NULL);
    }

    return rc;
}
