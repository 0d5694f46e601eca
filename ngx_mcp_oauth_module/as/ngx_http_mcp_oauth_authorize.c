
/*
 * ngx_mcp_oauth_module: the authorization endpoint (OAuth 2.1 §4.1.1) and
 * its consent page.  GET checks the request and shows the page (or, for a
 * consent remembered, answers at once); the page posts the same parameters
 * back with a CSRF token and the user's decision.  The user is whoever
 * mcp_oauth_user names: nginx's own authentication runs before us.
 */

#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>
#include <openssl/crypto.h>

#include "ngx_http_mcp_oauth_module.h"
#include "ngx_http_mcp_oauth_as.h"


#define NGX_HTTP_MCP_OAUTH_CSRF_TTL  600




static ngx_int_t ngx_http_mcp_oauth_authorize(ngx_http_request_t *r,
    ngx_http_mcp_oauth_srv_conf_t *ascf, ngx_http_mcp_oauth_as_ctx_t *ctx);
static ngx_int_t ngx_http_mcp_oauth_authorize_client(ngx_http_request_t *r,
    ngx_http_mcp_oauth_srv_conf_t *ascf, ngx_http_mcp_oauth_as_ctx_t *ctx,
    ngx_http_mcp_oauth_authz_t *a);
static ngx_int_t ngx_http_mcp_oauth_authorize_request(ngx_http_request_t *r,
    ngx_http_mcp_oauth_srv_conf_t *ascf, ngx_http_mcp_oauth_as_ctx_t *ctx,
    ngx_http_mcp_oauth_authz_t *a);
static ngx_int_t ngx_http_mcp_oauth_authorize_pkce(ngx_http_request_t *r,
    ngx_http_mcp_oauth_srv_conf_t *ascf, ngx_http_mcp_oauth_as_ctx_t *ctx,
    ngx_http_mcp_oauth_authz_t *a);
static ngx_int_t ngx_http_mcp_oauth_authorize_scope(ngx_http_request_t *r,
    ngx_http_mcp_oauth_srv_conf_t *ascf, ngx_http_mcp_oauth_as_ctx_t *ctx,
    ngx_http_mcp_oauth_authz_t *a);
static ngx_int_t ngx_http_mcp_oauth_authorize_decide(ngx_http_request_t *r,
    ngx_http_mcp_oauth_srv_conf_t *ascf, ngx_http_mcp_oauth_as_ctx_t *ctx,
    ngx_http_mcp_oauth_authz_t *a, ngx_uint_t remember);
static ngx_int_t ngx_http_mcp_oauth_authorize_approve(ngx_http_request_t *r,
    ngx_http_mcp_oauth_srv_conf_t *ascf, ngx_http_mcp_oauth_as_ctx_t *ctx,
    ngx_http_mcp_oauth_authz_t *a, ngx_uint_t remember, u_char *key);
static ngx_int_t ngx_http_mcp_oauth_authorize_choose(ngx_http_request_t *r,
    ngx_http_mcp_oauth_srv_conf_t *ascf, ngx_http_mcp_oauth_as_ctx_t *ctx,
    ngx_http_mcp_oauth_authz_t *a);
static ngx_int_t ngx_http_mcp_oauth_csrf(ngx_http_request_t *r,
    ngx_http_mcp_oauth_srv_conf_t *ascf, ngx_http_mcp_oauth_params_t *p,
    ngx_http_mcp_oauth_authz_t *a, time_t ts, ngx_str_t *token);
static void ngx_http_mcp_oauth_consent_key(ngx_http_request_t *r,
    ngx_http_mcp_oauth_srv_conf_t *ascf, ngx_http_mcp_oauth_client_t *c,
    ngx_http_mcp_oauth_authz_t *a, u_char *key);
static void ngx_http_mcp_oauth_consent_client(ngx_http_mcp_oauth_client_t *c,
    ngx_http_mcp_oauth_consent_t *page);
static void ngx_http_mcp_oauth_url_host(ngx_str_t *url, ngx_str_t *host);


/* hidden fields of the consent form: the request, as it came */

static ngx_uint_t  ngx_http_mcp_oauth_request_params[] = {
    NGX_HTTP_MCP_OAUTH_P_RESPONSE_TYPE,
    NGX_HTTP_MCP_OAUTH_P_CLIENT_ID,
    NGX_HTTP_MCP_OAUTH_P_REDIRECT_URI,
    NGX_HTTP_MCP_OAUTH_P_CODE_CHALLENGE,
    NGX_HTTP_MCP_OAUTH_P_CODE_CHALLENGE_METHOD,
    NGX_HTTP_MCP_OAUTH_P_STATE,
    NGX_HTTP_MCP_OAUTH_P_SCOPE,
    NGX_HTTP_MCP_OAUTH_P_RESOURCE,
    NGX_HTTP_MCP_OAUTH_P_USER_CODE,     /* the device flow's consent */
};

#define NGX_HTTP_MCP_OAUTH_REQUEST_N  9


ngx_int_t
ngx_http_mcp_oauth_authorize_handler(ngx_http_request_t *r)
{
    ngx_int_t                       rc;
    ngx_http_mcp_oauth_as_ctx_t    *ctx;
    ngx_http_mcp_oauth_srv_conf_t  *ascf;

    ascf = ngx_http_get_module_srv_conf(r, ngx_http_mcp_oauth_module);

    ctx = ngx_http_mcp_oauth_as_ctx(r);
    if (ctx == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    ngx_http_mcp_oauth_state_begin(&ctx->state, &ascf->issued);

    rc = ngx_http_mcp_oauth_page_params(r, ctx);
    if (rc != NGX_OK) {
        return rc;
    }

    rc = ngx_http_mcp_oauth_authorize(r, ascf, ctx);

    return ngx_http_mcp_oauth_authorize_done(r, rc);
}


/*
 * The parameters of a page a browser asks for: the query of a GET, the
 * form of a POST.  NGX_OK: in ctx->params; else what the handler returns.
 */

ngx_int_t
ngx_http_mcp_oauth_page_params(ngx_http_request_t *r,
    ngx_http_mcp_oauth_as_ctx_t *ctx)
{
    ngx_int_t  rc;
    ngx_str_t  body;

    if (!ctx->parsed) {
        if (r->method & (NGX_HTTP_GET|NGX_HTTP_HEAD)) {
            rc = ngx_http_discard_request_body(r);
            if (rc != NGX_OK) {
                return rc;
            }

            body = r->args;

        } else if (r->method == NGX_HTTP_POST) {
            rc = ngx_http_mcp_oauth_as_body(r, ctx, 16384);
            if (rc != NGX_OK) {
                return rc;
            }

            if (ngx_http_mcp_oauth_body(r, &body) != NGX_OK) {
                return NGX_HTTP_INTERNAL_SERVER_ERROR;
            }

        } else {
            return NGX_HTTP_NOT_ALLOWED;
        }

        ctx->parsed = 1;

        rc = ngx_http_mcp_oauth_params_parse(r->pool, &body, &ctx->params);

        if (rc == NGX_ERROR) {
            return NGX_HTTP_INTERNAL_SERVER_ERROR;
        }

        if (rc != NGX_OK) {
            return ngx_http_mcp_oauth_page(r, NGX_HTTP_BAD_REQUEST,
                                           "Invalid request",
                                           "The request's parameters are "
                                           "not correctly encoded.");
        }
    }

    return NGX_OK;
}


/*
 * What an endpoint a browser sees returns for a step's code: NGX_AGAIN
 * (asked: the handler runs again), NGX_ABORT (the state is unavailable: a
 * page, never a redirect with a code), NGX_ERROR.
 */

ngx_int_t
ngx_http_mcp_oauth_authorize_done(ngx_http_request_t *r, ngx_int_t rc)
{
    switch (rc) {

    case NGX_AGAIN:
        return NGX_DONE;

    case NGX_ABORT:
        return ngx_http_mcp_oauth_page(r, NGX_HTTP_SERVICE_UNAVAILABLE,
                                       "Temporarily unavailable",
                                       "The sign-in cannot go on right now. "
                                       "Try again in a moment.");

    case NGX_ERROR:
        return NGX_HTTP_INTERNAL_SERVER_ERROR;

    default:
        return rc;
    }
}


/*
 * /authorize in four steps: the client and where its answer goes (errors
 * are pages: never redirect elsewhere), the request (errors go back to the
 * client), the user, and the decision.  A step returns NGX_DECLINED to go
 * on, else the answer.
 */

static ngx_int_t
ngx_http_mcp_oauth_authorize(ngx_http_request_t *r,
    ngx_http_mcp_oauth_srv_conf_t *ascf, ngx_http_mcp_oauth_as_ctx_t *ctx)
{
    ngx_int_t                   rc;
    ngx_uint_t                  remember;
    ngx_http_mcp_oauth_authz_t  a;

    ngx_memzero(&a, sizeof(ngx_http_mcp_oauth_authz_t));

    rc = ngx_http_mcp_oauth_authorize_client(r, ascf, ctx, &a);
    if (rc != NGX_DECLINED) {
        return rc;
    }

    rc = ngx_http_mcp_oauth_authorize_request(r, ascf, ctx, &a);
    if (rc != NGX_DECLINED) {
        return rc;
    }

    rc = ngx_http_mcp_oauth_authorize_user(r, ascf, &a, &remember);
    if (rc != NGX_DECLINED) {
        return rc;
    }

    return ngx_http_mcp_oauth_authorize_decide(r, ascf, ctx, &a, remember);
}


static ngx_int_t
ngx_http_mcp_oauth_authorize_client(ngx_http_request_t *r,
    ngx_http_mcp_oauth_srv_conf_t *ascf, ngx_http_mcp_oauth_as_ctx_t *ctx,
    ngx_http_mcp_oauth_authz_t *a)
{
    ngx_int_t                       rc;
    ngx_str_t                      *v, *reg, rest;
    ngx_http_mcp_oauth_client_t    *c;
    ngx_http_mcp_oauth_params_t    *p;

    p = &ctx->params;
    v = p->v;
    c = &ctx->client;

    /* the client and the redirect URI first: never redirect elsewhere */

    if (!ngx_http_mcp_oauth_has(p, NGX_HTTP_MCP_OAUTH_P_CLIENT_ID)
        || (p->repeated & ((1u << NGX_HTTP_MCP_OAUTH_P_CLIENT_ID)
                           | (1u << NGX_HTTP_MCP_OAUTH_P_REDIRECT_URI))))
    {
        return ngx_http_mcp_oauth_page(r, NGX_HTTP_BAD_REQUEST,
                                       "Invalid request",
                                       "The request needs exactly one "
                                       "client_id and at most one "
                                       "redirect_uri.");
    }

    rc = ngx_http_mcp_oauth_client_find(r, ascf, ctx,
                                        &v[NGX_HTTP_MCP_OAUTH_P_CLIENT_ID]);
    if (rc == NGX_AGAIN) {
        return NGX_AGAIN;
    }

    if (rc == NGX_ERROR) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    if (rc != NGX_OK) {
        ngx_log_error(NGX_LOG_INFO, r->connection->log, 0,
                      "mcp_oauth: authorize: unknown client");
        return ngx_http_mcp_oauth_page(r, NGX_HTTP_BAD_REQUEST,
                                       "Unknown client",
                                       "This application is not registered "
                                       "with this server, or its "
                                       "registration could not be read.");
    }

    if (ngx_http_mcp_oauth_has(p, NGX_HTTP_MCP_OAUTH_P_REDIRECT_URI)) {
        if (ngx_http_mcp_oauth_redirect_match(c,
                &v[NGX_HTTP_MCP_OAUTH_P_REDIRECT_URI]) != NGX_OK)
        {
            ngx_log_error(NGX_LOG_INFO, r->connection->log, 0,
                          "mcp_oauth: authorize: redirect_uri \"%V\" is not "
                          "registered for the client",
                          &v[NGX_HTTP_MCP_OAUTH_P_REDIRECT_URI]);
            return ngx_http_mcp_oauth_page(r, NGX_HTTP_BAD_REQUEST,
                                           "Invalid redirect URI",
                                           "The redirect_uri is not one this "
                                           "application registered.");
        }

        a->redirect = v[NGX_HTTP_MCP_OAUTH_P_REDIRECT_URI];

    } else {
        reg = c->redirect_uris->elts;

        /* a loopback one needs its port: it may only be left out if fixed */

        if (c->redirect_uris->nelts != 1
            || ngx_http_mcp_oauth_loopback(&reg[0], &rest) == NGX_OK)
        {
            return ngx_http_mcp_oauth_page(r, NGX_HTTP_BAD_REQUEST,
                                           "Invalid request",
                                           "The request needs a "
                                           "redirect_uri.");
        }

        a->redirect = reg[0];
    }

    /* a state the answer carries back: bounded, it travels sealed */

    if (v[NGX_HTTP_MCP_OAUTH_P_STATE].len > NGX_HTTP_MCP_OAUTH_STATE_MAX) {
        return ngx_http_mcp_oauth_page(r, NGX_HTTP_BAD_REQUEST,
                                       "Invalid request",
                                       "The state parameter is longer than "
                                       "1024 bytes.");
    }

    return NGX_DECLINED;
}


static ngx_int_t
ngx_http_mcp_oauth_authorize_request(ngx_http_request_t *r,
    ngx_http_mcp_oauth_srv_conf_t *ascf, ngx_http_mcp_oauth_as_ctx_t *ctx,
    ngx_http_mcp_oauth_authz_t *a)
{
    ngx_int_t                       rc;
    ngx_str_t                      *v;
    ngx_http_mcp_oauth_client_t    *c;
    ngx_http_mcp_oauth_params_t    *p;

    p = &ctx->params;
    v = p->v;
    c = &ctx->client;

    /*
     * From here on, errors go back to the client (RFC 6749 §4.1.2.1).
     * Each step: NGX_DECLINED, go on; else the answer it sent.
     */

    if (p->repeated) {
        return ngx_http_mcp_oauth_redirect(r, ascf, ctx, &a->redirect,
                                           "invalid_request", NULL,
                                           "a parameter is repeated");
    }

    if (!ngx_http_mcp_oauth_has(p, NGX_HTTP_MCP_OAUTH_P_RESPONSE_TYPE)) {
        return ngx_http_mcp_oauth_redirect(r, ascf, ctx, &a->redirect,
                                           "invalid_request", NULL,
                                           "response_type is missing");
    }

    if (v[NGX_HTTP_MCP_OAUTH_P_RESPONSE_TYPE].len != 4
        || ngx_strncmp(v[NGX_HTTP_MCP_OAUTH_P_RESPONSE_TYPE].data, "code", 4)
           != 0)
    {
        return ngx_http_mcp_oauth_redirect(r, ascf, ctx, &a->redirect,
                                           "unsupported_response_type", NULL,
                                           "only response_type=code");
    }

    if (!(c->grants & NGX_HTTP_MCP_OAUTH_GRANT_CODE)) {
        return ngx_http_mcp_oauth_redirect(r, ascf, ctx, &a->redirect,
                                           "unauthorized_client", NULL,
                                           "the client did not register the "
                                           "authorization_code grant");
    }

    rc = ngx_http_mcp_oauth_authorize_pkce(r, ascf, ctx, a);
    if (rc != NGX_DECLINED) {
        return rc;
    }

    return ngx_http_mcp_oauth_authorize_scope(r, ascf, ctx, a);
}


/* PKCE with S256 only (OAuth 2.1 §4.1.1, RFC 7636 §4.3) */

static ngx_int_t
ngx_http_mcp_oauth_authorize_pkce(ngx_http_request_t *r,
    ngx_http_mcp_oauth_srv_conf_t *ascf, ngx_http_mcp_oauth_as_ctx_t *ctx,
    ngx_http_mcp_oauth_authz_t *a)
{
    ngx_str_t                    *v;
    ngx_http_mcp_oauth_params_t  *p;

    p = &ctx->params;
    v = p->v;

    if (!ngx_http_mcp_oauth_has(p, NGX_HTTP_MCP_OAUTH_P_CODE_CHALLENGE)) {
        return ngx_http_mcp_oauth_redirect(r, ascf, ctx, &a->redirect,
                                           "invalid_request", NULL,
                                           "code_challenge is required");
    }

    if (v[NGX_HTTP_MCP_OAUTH_P_CODE_CHALLENGE_METHOD].len != 4
        || ngx_strncmp(v[NGX_HTTP_MCP_OAUTH_P_CODE_CHALLENGE_METHOD].data,
                       "S256", 4) != 0)
    {
        return ngx_http_mcp_oauth_redirect(r, ascf, ctx, &a->redirect,
                                           "invalid_request", NULL,
                                           "code_challenge_method must be "
                                           "S256");
    }

    if (ngx_http_mcp_oauth_b64url_check(&v[NGX_HTTP_MCP_OAUTH_P_CODE_CHALLENGE],
                                        43, 43) != NGX_OK)
    {
        return ngx_http_mcp_oauth_redirect(r, ascf, ctx, &a->redirect,
                                           "invalid_request", NULL,
                                           "code_challenge is not a "
                                           "base64url SHA-256");
    }

    return NGX_DECLINED;
}


/*
 * The scope: what was asked, else the client's, else all we grant; and
 * the resource, one we serve.
 */

static ngx_int_t
ngx_http_mcp_oauth_authorize_scope(ngx_http_request_t *r,
    ngx_http_mcp_oauth_srv_conf_t *ascf, ngx_http_mcp_oauth_as_ctx_t *ctx,
    ngx_http_mcp_oauth_authz_t *a)
{
    ngx_int_t                     rc;
    ngx_str_t                    *v;
    ngx_http_mcp_oauth_client_t  *c;
    ngx_http_mcp_oauth_params_t  *p;

    p = &ctx->params;
    v = p->v;
    c = &ctx->client;

    if (ngx_http_mcp_oauth_has(p, NGX_HTTP_MCP_OAUTH_P_SCOPE)) {
        a->scope = v[NGX_HTTP_MCP_OAUTH_P_SCOPE];

        rc = ngx_http_mcp_oauth_scope_allowed(r->pool, ascf, c, &a->scope);
        if (rc == NGX_ERROR) {
            return NGX_HTTP_INTERNAL_SERVER_ERROR;
        }

        if (rc != NGX_OK) {
            return ngx_http_mcp_oauth_redirect(r, ascf, ctx, &a->redirect,
                                               "invalid_scope", NULL,
                                               "a requested scope is not "
                                               "granted by this server to "
                                               "this client");
        }

    } else {
        a->scope = c->scope.len ? c->scope : ascf->scope;
    }

    a->resource = ngx_http_mcp_oauth_resource_find(ascf,
                     &v[NGX_HTTP_MCP_OAUTH_P_RESOURCE]);

    if (a->resource == NULL) {
        return ngx_http_mcp_oauth_redirect(r, ascf, ctx, &a->redirect,
                                           "invalid_target", NULL,
                                           "resource is not served by this "
                                           "authorization server");
    }

    return NGX_DECLINED;
}


/* who approves, and what they may give */

ngx_int_t
ngx_http_mcp_oauth_authorize_user(ngx_http_request_t *r,
    ngx_http_mcp_oauth_srv_conf_t *ascf, ngx_http_mcp_oauth_authz_t *a,
    ngx_uint_t *remember)
{
    ngx_int_t                       rc;
    ngx_str_t                       allowed;
    ngx_http_mcp_oauth_loc_conf_t  *mlcf;

    mlcf = ngx_http_get_module_loc_conf(r, ngx_http_mcp_oauth_module);
    *remember = (ascf->consent_ttl > 0);

    if (ascf->iam_authorize.len) {
        /*
         * The bridge: the IAM says who the user is, after this consent.
         * The form is bound to this browser's cookie instead.
         */

        *remember = 0;
        rc = ascf->bridge->cookie(r, ascf, &a->user,
                                  r->method != NGX_HTTP_POST);
        if (rc == NGX_ERROR) {
            return NGX_HTTP_INTERNAL_SERVER_ERROR;
        }

        if (rc != NGX_OK) {
            ngx_log_error(NGX_LOG_INFO, r->connection->log, 0,
                          "mcp_oauth: authorize: the consent form came "
                          "without its cookie");
            return ngx_http_mcp_oauth_page(r, NGX_HTTP_FORBIDDEN,
                                           "Request expired",
                                           "This consent form is not valid "
                                           "in this browser. Start again "
                                           "from the application.");
        }

        return NGX_DECLINED;
    }

    /* the user, from nginx's authentication in front of us */

    if (ngx_http_complex_value(r, mlcf->user, &a->user) != NGX_OK) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    if (a->user.len == 0) {
        ngx_log_error(NGX_LOG_INFO, r->connection->log, 0,
                      "mcp_oauth: authorize: no signed-in user "
                      "(mcp_oauth_user is empty)");
        return ngx_http_mcp_oauth_page(r, NGX_HTTP_UNAUTHORIZED,
                                       "Sign-in required",
                                       "Sign in to approve this request.");
    }

    /* what this user may give: the rest of the request is not granted */

    if (mlcf->user_scope) {
        if (ngx_http_complex_value(r, mlcf->user_scope, &allowed) != NGX_OK
            || ngx_http_mcp_oauth_scope_intersect(r->pool, &a->scope, &allowed)
               != NGX_OK)
        {
            return NGX_HTTP_INTERNAL_SERVER_ERROR;
        }
    }

    return NGX_DECLINED;
}


/* the consent form sent back, a remembered consent, or the form */

static ngx_int_t
ngx_http_mcp_oauth_authorize_decide(ngx_http_request_t *r,
    ngx_http_mcp_oauth_srv_conf_t *ascf, ngx_http_mcp_oauth_as_ctx_t *ctx,
    ngx_http_mcp_oauth_authz_t *a, ngx_uint_t remember)
{
    u_char     key[32];
    ngx_int_t  rc;
    ngx_str_t  chosen;

    /* the key is the request's: the value, what the person chose */

    ngx_http_mcp_oauth_consent_key(r, ascf, &ctx->client, a, key);

    if (r->method == NGX_HTTP_POST) {
        return ngx_http_mcp_oauth_authorize_approve(r, ascf, ctx, a,
                                                    remember, key);
    }

    if (remember) {
        rc = ngx_http_mcp_oauth_state_get(r, &ctx->state, key,
                                          NGX_HTTP_MCP_OAUTH_ENTRY_CONSENT,
                                          &chosen, 0);
        if (ngx_http_mcp_oauth_state_unanswered(rc)) {
            return rc;
        }

        if (rc == NGX_OK) {
            /* a consent kept without a choice gave all it was asked */
            if (chosen.len
                && ngx_http_mcp_oauth_scope_intersect(r->pool, &a->scope,
                                                      &chosen)
                   != NGX_OK)
            {
                return NGX_HTTP_INTERNAL_SERVER_ERROR;
            }

            return ngx_http_mcp_oauth_code(r, ascf, ctx, a);
        }
    }

    ngx_http_mcp_oauth_count(r, NGX_HTTP_MCP_OAUTH_M_AUTHORIZATIONS,
                             "consent_asked", NULL);

    return ngx_http_mcp_oauth_consent_page(r, ascf, ctx, a);
}


static ngx_int_t
ngx_http_mcp_oauth_authorize_approve(ngx_http_request_t *r,
    ngx_http_mcp_oauth_srv_conf_t *ascf, ngx_http_mcp_oauth_as_ctx_t *ctx,
    ngx_http_mcp_oauth_authz_t *a, ngx_uint_t remember, u_char *key)
{
    ngx_int_t   rc;
    ngx_str_t  *v;

    v = ctx->params.v;

    if (ngx_http_mcp_oauth_csrf_check(r, ascf, &ctx->params, a) != NGX_OK) {
        return ngx_http_mcp_oauth_page(r, NGX_HTTP_FORBIDDEN,
                                       "Request expired",
                                       "This consent form is not valid "
                                       "(changed, expired, or for "
                                       "another user). Start again from "
                                       "the application.");
    }

    if (v[NGX_HTTP_MCP_OAUTH_P_DECISION].len != 7
        || ngx_strncmp(v[NGX_HTTP_MCP_OAUTH_P_DECISION].data, "approve", 7)
           != 0)
    {
        ngx_log_error(NGX_LOG_INFO, r->connection->log, 0,
                      "mcp_oauth: authorize: the user \"%V\" denied",
                      &a->user);
        ngx_http_mcp_oauth_count(r, NGX_HTTP_MCP_OAUTH_M_AUTHORIZATIONS,
                                 "denied", NULL);
        return ngx_http_mcp_oauth_redirect(r, ascf, ctx, &a->redirect,
                                           "access_denied", NULL,
                                           "the user denied the request");
    }

    rc = ngx_http_mcp_oauth_authorize_choose(r, ascf, ctx, a);
    if (rc != NGX_DECLINED) {
        return rc;
    }

    if (ascf->iam_authorize.len) {
        return ascf->bridge->start(r, ascf, ctx, a);
    }

    if (remember) {
        /* not kept (a full zone, one there already): asked again */
        rc = ngx_http_mcp_oauth_state_put(r, &ctx->state, key,
                                          NGX_HTTP_MCP_OAUTH_ENTRY_CONSENT,
                                          ngx_time() + ascf->consent_ttl,
                                          &a->scope);
        if (ngx_http_mcp_oauth_state_unanswered(rc)) {
            return rc;
        }
    }

    return ngx_http_mcp_oauth_code(r, ascf, ctx, a);
}


/*
 * The scopes the person left ticked (RFC 6749 §3.3: the server may grant
 * less), and the required ones; never one the page did not offer.
 */

static ngx_int_t
ngx_http_mcp_oauth_authorize_choose(ngx_http_request_t *r,
    ngx_http_mcp_oauth_srv_conf_t *ascf, ngx_http_mcp_oauth_as_ctx_t *ctx,
    ngx_http_mcp_oauth_authz_t *a)
{
    ngx_int_t  rc;

    rc = ngx_http_mcp_oauth_consent_chosen(r, ascf, ctx, a);

    if (rc == NGX_DECLINED) {
        return ngx_http_mcp_oauth_consent_invalid(r);
    }

    if (rc != NGX_OK) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    if (a->scope.len == 0) {
        ngx_http_mcp_oauth_count(r, NGX_HTTP_MCP_OAUTH_M_AUTHORIZATIONS,
                                 "denied", NULL);
        return ngx_http_mcp_oauth_redirect(r, ascf, ctx, &a->redirect,
                                           "access_denied", NULL,
                                           "the user granted none of the "
                                           "requested scopes");
    }

    return NGX_DECLINED;
}


/*
 * The scopes the person left ticked (and the required ones) of a->scope,
 * into a->scope, which is empty when none is left.  NGX_DECLINED: the form
 * grants a scope it did not offer (ngx_http_mcp_oauth_consent_invalid()
 * answers it).  The device flow's consent decides with it too.
 */

ngx_int_t
ngx_http_mcp_oauth_consent_chosen(ngx_http_request_t *r,
    ngx_http_mcp_oauth_srv_conf_t *ascf, ngx_http_mcp_oauth_as_ctx_t *ctx,
    ngx_http_mcp_oauth_authz_t *a)
{
    u_char                           *s, *end, *last, *q;
    ngx_str_t                        *given, one, chosen;
    ngx_http_mcp_oauth_scope_info_t  *info;

    if (!ngx_http_mcp_oauth_consent_choice(ascf, &a->redirect)) {
        return NGX_OK;
    }

    given = &ctx->params.v[NGX_HTTP_MCP_OAUTH_P_GRANTED_SCOPE];

    if (ngx_http_mcp_oauth_scope_subset(given, &a->scope) != NGX_OK) {
        ngx_log_error(NGX_LOG_INFO, r->connection->log, 0,
                      "mcp_oauth: authorize: the consent form grants "
                      "\"%V\", more than it offered", given);
        return NGX_DECLINED;
    }

    chosen.data = ngx_pnalloc(r->pool, a->scope.len + 1);
    if (chosen.data == NULL) {
        return NGX_ERROR;
    }

    q = chosen.data;
    s = a->scope.data;
    last = a->scope.data + a->scope.len;

    for ( /* void */ ; s < last; s = end + 1) {
        end = ngx_strlchr(s, last, ' ');
        one.data = s;
        one.len = (end ? end : last) - s;
        end = end ? end : last;

        info = ascf->scope_info
               ? ngx_http_mcp_oauth_scope_info_find(ascf->scope_info->elts,
                                                    ascf->scope_info->nelts,
                                                    &one)
               : NULL;

        if (one.len
            && ((info && info->required)
                || ngx_http_mcp_oauth_scope_subset(&one, given) == NGX_OK))
        {
            q = (q > chosen.data) ? ngx_cpymem(q, " ", 1) : q;
            q = ngx_cpymem(q, one.data, one.len);
        }
    }

    chosen.len = q - chosen.data;

    if (chosen.len == a->scope.len || chosen.len == 0) {
        a->scope.len = chosen.len;
        return NGX_OK;
    }

    ngx_log_error(NGX_LOG_INFO, r->connection->log, 0,
                  "mcp_oauth: authorize: the user \"%V\" granted \"%V\" of "
                  "\"%V\"", &a->user, &chosen, &a->scope);
    ngx_http_mcp_oauth_count(r, NGX_HTTP_MCP_OAUTH_M_AUTHORIZATIONS,
                             "consent_narrowed", NULL);

    a->scope = chosen;

    return NGX_OK;
}


ngx_int_t
ngx_http_mcp_oauth_consent_invalid(ngx_http_request_t *r)
{
    return ngx_http_mcp_oauth_page(r, NGX_HTTP_BAD_REQUEST, "Invalid consent",
                                   "This consent form grants a permission "
                                   "it did not offer. Start again.");
}


/*
 * "ts.mac": an HMAC over the user, the request's parameters and the scopes
 * the page offers (what the person may tick: never more)
 */

static ngx_int_t
ngx_http_mcp_oauth_csrf(ngx_http_request_t *r,
    ngx_http_mcp_oauth_srv_conf_t *ascf, ngx_http_mcp_oauth_params_t *p,
    ngx_http_mcp_oauth_authz_t *a, time_t ts, ngx_str_t *token)
{
    u_char      mac[32], tsbuf[NGX_TIME_T_LEN], *q;
    ngx_str_t   parts[NGX_HTTP_MCP_OAUTH_REQUEST_N + 3], b64;
    ngx_uint_t  i;

    parts[0] = a->user;
    parts[1].data = tsbuf;
    parts[1].len = ngx_sprintf(tsbuf, "%T", ts) - tsbuf;
    parts[2] = a->scope;

    for (i = 0; i < NGX_HTTP_MCP_OAUTH_REQUEST_N; i++) {
        parts[i + 3] = p->v[ngx_http_mcp_oauth_request_params[i]];
    }

    if (ngx_http_mcp_oauth_hmac(ascf->signer->csrf, parts,
                                NGX_HTTP_MCP_OAUTH_REQUEST_N + 3, mac)
        != NGX_OK
        || ngx_http_mcp_oauth_b64url(r->pool, mac, 32, &b64) != NGX_OK)
    {
        return NGX_ERROR;
    }

    token->data = ngx_pnalloc(r->pool, parts[1].len + 1 + b64.len);
    if (token->data == NULL) {
        return NGX_ERROR;
    }

    q = ngx_cpymem(token->data, parts[1].data, parts[1].len);
    *q++ = '.';
    q = ngx_cpymem(q, b64.data, b64.len);
    token->len = q - token->data;

    return NGX_OK;
}


ngx_int_t
ngx_http_mcp_oauth_csrf_check(ngx_http_request_t *r,
    ngx_http_mcp_oauth_srv_conf_t *ascf, ngx_http_mcp_oauth_params_t *p,
    ngx_http_mcp_oauth_authz_t *a)
{
    u_char     *dot;
    time_t      ts, now;
    ngx_str_t  *given, expected;

    given = &p->v[NGX_HTTP_MCP_OAUTH_P_CSRF_TOKEN];
    dot = ngx_strlchr(given->data, given->data + given->len, '.');

    if (dot == NULL) {
        ngx_log_error(NGX_LOG_INFO, r->connection->log, 0,
                      "mcp_oauth: authorize: the consent form has no CSRF "
                      "token");
        return NGX_DECLINED;
    }

    ts = ngx_atotm(given->data, dot - given->data);
    now = ngx_time();

    if (ts == NGX_ERROR || ts > now + 60
        || now - ts > NGX_HTTP_MCP_OAUTH_CSRF_TTL
        || ngx_http_mcp_oauth_csrf(r, ascf, p, a, ts, &expected) != NGX_OK
        || expected.len != given->len
        || CRYPTO_memcmp(expected.data, given->data, given->len) != 0)
    {
        ngx_log_error(NGX_LOG_INFO, r->connection->log, 0,
                      "mcp_oauth: authorize: the consent form's CSRF token "
                      "does not match its user and request, or expired");
        return NGX_DECLINED;
    }

    return NGX_OK;
}


static void
ngx_http_mcp_oauth_consent_key(ngx_http_request_t *r,
    ngx_http_mcp_oauth_srv_conf_t *ascf, ngx_http_mcp_oauth_client_t *c,
    ngx_http_mcp_oauth_authz_t *a, u_char *key)
{
    ngx_str_t  parts[5], rec;

    static ngx_str_t  prefix = ngx_string("consent");

    parts[0] = ascf->issuer;
    parts[1] = a->user;
    parts[2] = c->id;
    parts[3] = a->scope;
    parts[4] = *a->resource;

    if (ngx_http_mcp_oauth_record_add(r->pool, &rec, parts, 5) != NGX_OK) {
        ngx_str_null(&rec);
    }

    ngx_http_mcp_oauth_sha256(&prefix, &rec, key);
}


/* a single-use code, kept hashed, and the redirect that carries it */

ngx_int_t
ngx_http_mcp_oauth_code(ngx_http_request_t *r,
    ngx_http_mcp_oauth_srv_conf_t *ascf, ngx_http_mcp_oauth_as_ctx_t *ctx,
    ngx_http_mcp_oauth_authz_t *a)
{
    u_char      key[32];
    ngx_int_t   rc;
    ngx_str_t   rec, f[NGX_HTTP_MCP_OAUTH_C_N], *v;

    static ngx_str_t  prefix = ngx_string("code");

    v = ctx->params.v;

    /* once per request: the handler may run again for the state's answer */

    if (ctx->code.len == 0
        && (ngx_http_mcp_oauth_random(r->pool, 32, &ctx->code) != NGX_OK
            || ngx_http_mcp_oauth_random(r->pool, 16, &ctx->sid) != NGX_OK))
    {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    f[NGX_HTTP_MCP_OAUTH_C_CLIENT] = ctx->client.id;
    f[NGX_HTTP_MCP_OAUTH_C_REDIRECT] =
                                         v[NGX_HTTP_MCP_OAUTH_P_REDIRECT_URI];
    f[NGX_HTTP_MCP_OAUTH_C_CHALLENGE] =
                                       v[NGX_HTTP_MCP_OAUTH_P_CODE_CHALLENGE];
    f[NGX_HTTP_MCP_OAUTH_C_SCOPE] = a->scope;
    f[NGX_HTTP_MCP_OAUTH_C_RESOURCE] = *a->resource;
    f[NGX_HTTP_MCP_OAUTH_C_SUB] = a->user;
    f[NGX_HTTP_MCP_OAUTH_C_SID] = ctx->sid;
    f[NGX_HTTP_MCP_OAUTH_C_IAM_EXP] = a->iam_exp;

    if (ngx_http_mcp_oauth_seal_token(r->pool, ascf->signer, &a->iam_at,
                                      &f[NGX_HTTP_MCP_OAUTH_C_IAM_AT])
        != NGX_OK
        || ngx_http_mcp_oauth_seal_token(r->pool, ascf->signer, &a->iam_rt,
                                         &f[NGX_HTTP_MCP_OAUTH_C_IAM_RT])
           != NGX_OK
        || ngx_http_mcp_oauth_record_add(r->pool, &rec, f,
                                         NGX_HTTP_MCP_OAUTH_C_N)
           != NGX_OK)
    {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    ngx_http_mcp_oauth_sha256(&prefix, &ctx->code, key);

    rc = ngx_http_mcp_oauth_state_put(r, &ctx->state, key,
                                      NGX_HTTP_MCP_OAUTH_ENTRY_CODE,
                                      ngx_time() + ascf->code_ttl, &rec);

    if (rc == NGX_AGAIN || rc == NGX_ABORT) {
        return rc;
    }

    if (rc == NGX_DECLINED) {
        return ngx_http_mcp_oauth_redirect(r, ascf, ctx, &a->redirect,
                                           "temporarily_unavailable", NULL,
                                           "the server is busy, try again "
                                           "later");
    }

    if (rc != NGX_OK) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    ngx_log_error(NGX_LOG_INFO, r->connection->log, 0,
                  "mcp_oauth: authorize: code issued to user \"%V\", "
                  "scope \"%V\"", &a->user, &a->scope);

    ngx_http_mcp_oauth_count(r, NGX_HTTP_MCP_OAUTH_M_AUTHORIZATIONS,
                             "code_issued", NULL);

    return ngx_http_mcp_oauth_redirect(r, ascf, ctx, &a->redirect, "code",
                                       &ctx->code, NULL);
}


/*
 * 302 to the client: "code" with its value, or an error and its
 * description; then state and iss (RFC 9207) in either case.
 */

ngx_int_t
ngx_http_mcp_oauth_redirect(ngx_http_request_t *r,
    ngx_http_mcp_oauth_srv_conf_t *ascf, ngx_http_mcp_oauth_as_ctx_t *ctx,
    ngx_str_t *uri, const char *name, ngx_str_t *value,
    const char *description)
{
    ngx_str_t                       url;
    ngx_http_mcp_oauth_redirect_t   rd;

    rd.uri = *uri;
    rd.state = ctx->params.v[NGX_HTTP_MCP_OAUTH_P_STATE];
    rd.issuer = ascf->issuer;
    rd.name.data = (u_char *) name;
    rd.name.len = ngx_strlen(name);
    rd.error = (value == NULL);

    if (value) {
        rd.value = *value;

    } else {
        /* an error: "name" is the error code */
        rd.value.data = (u_char *) description;
        rd.value.len = ngx_min(ngx_strlen(description), 256);

        ngx_log_error(NGX_LOG_INFO, r->connection->log, 0,
                      "mcp_oauth: authorize: %V: %V", &rd.name, &rd.value);
    }

    if (ngx_http_mcp_oauth_render(r->pool, ngx_http_mcp_oauth_redirect_render,
                                  &rd, &url)
        != NGX_OK)
    {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    return ngx_http_mcp_oauth_location(r, &url);
}


/* a 302, never cached */

ngx_int_t
ngx_http_mcp_oauth_location(ngx_http_request_t *r, ngx_str_t *url)
{
    ngx_table_elt_t  *h;

    h = ngx_list_push(&r->headers_out.headers);
    if (h == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    h->hash = 1;
    ngx_str_set(&h->key, "Location");
    h->value = *url;
#if (nginx_version >= 1023000)
    h->next = NULL;
#endif

    r->headers_out.location = h;

    if (ngx_http_mcp_oauth_page_headers(r) != NGX_OK) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    return NGX_HTTP_MOVED_TEMPORARILY;
}




ngx_int_t
ngx_http_mcp_oauth_consent_page(ngx_http_request_t *r,
    ngx_http_mcp_oauth_srv_conf_t *ascf, ngx_http_mcp_oauth_as_ctx_t *ctx,
    ngx_http_mcp_oauth_authz_t *a)
{
    u_char                        *p;
    ngx_str_t                      title, names[NGX_HTTP_MCP_OAUTH_REQUEST_N];
    ngx_str_t                      values[NGX_HTTP_MCP_OAUTH_REQUEST_N];
    ngx_uint_t                     i, k;
    ngx_http_mcp_oauth_consent_t   page;

    ngx_memzero(&page, sizeof(ngx_http_mcp_oauth_consent_t));

    ngx_http_mcp_oauth_consent_client(&ctx->client, &page);

    if (ngx_http_mcp_oauth_csrf(r, ascf, &ctx->params, a, ngx_time(),
                                &page.csrf) != NGX_OK)
    {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    /* the host the answer goes to, as the user should judge it */
    ngx_http_mcp_oauth_url_host(&a->redirect, &page.host);

    page.bridge = ascf->iam_authorize.len ? 1 : 0;
    page.choice = ngx_http_mcp_oauth_consent_choice(ascf, &a->redirect);
    page.user = a->user;
    page.resource = *a->resource;
    page.scope = a->scope;
    page.action = r->uri;

    if (ascf->scope_info) {
        page.info = ascf->scope_info->elts;
        page.ninfo = ascf->scope_info->nelts;
    }

    for (i = 0, k = 0; i < NGX_HTTP_MCP_OAUTH_REQUEST_N; i++) {
        if (ngx_http_mcp_oauth_has(&ctx->params,
                                   ngx_http_mcp_oauth_request_params[i]))
        {
            names[k] = ngx_http_mcp_oauth_param_names[
                           ngx_http_mcp_oauth_request_params[i]];
            values[k++] = ctx->params.v[ngx_http_mcp_oauth_request_params[i]];
        }
    }

    page.field_names = names;
    page.field_values = values;
    page.nfields = k;

    title.len = sizeof("Authorize ") - 1 + page.name.len;
    title.data = ngx_pnalloc(r->pool, title.len);
    if (title.data == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    p = ngx_cpymem(title.data, "Authorize ", sizeof("Authorize ") - 1);
    ngx_memcpy(p, page.name.data, page.name.len);

    return ngx_http_mcp_oauth_page_send(r, NGX_HTTP_OK, &title,
                                        ngx_http_mcp_oauth_consent_render,
                                        &page);
}


/*
 * Who the client is: an operator's mcp_oauth_client, a name it gave itself
 * (DCR), or the host of its metadata document's URL, which it proved by
 * serving the document (CIMD).
 */

static void
ngx_http_mcp_oauth_consent_client(ngx_http_mcp_oauth_client_t *c,
    ngx_http_mcp_oauth_consent_t *page)
{
    page->name = c->name;
    if (page->name.len == 0) {
        ngx_str_set(&page->name, "An unnamed application");
    }

    if (c->configured) {
        page->origin = NGX_HTTP_MCP_OAUTH_CLIENT_CONFIGURED;

    } else if (c->document) {
        page->origin = NGX_HTTP_MCP_OAUTH_CLIENT_DOCUMENT;
        ngx_http_mcp_oauth_url_host(&c->id, &page->verified);

    } else {
        page->origin = NGX_HTTP_MCP_OAUTH_CLIENT_REGISTERED;
    }
}


/* the authority of "scheme://authority/...", else the whole string */

static void
ngx_http_mcp_oauth_url_host(ngx_str_t *url, ngx_str_t *host)
{
    u_char  *s, *last;

    *host = *url;
    last = url->data + url->len;
    s = ngx_strlchr(url->data, last, ':');

    if (s && last - s > 3 && s[1] == '/' && s[2] == '/') {
        host->data = s + 3;

        for (s = host->data; s < last && *s != '/' && *s != '?'; s++) {
            /* void */
        }

        host->len = s - host->data;
    }
}


ngx_int_t
ngx_http_mcp_oauth_page(ngx_http_request_t *r, ngx_uint_t status,
    const char *title, const char *message)
{
    ngx_http_mcp_oauth_message_t   page;

    page.title.data = (u_char *) title;
    page.title.len = ngx_strlen(title);
    page.message.data = (u_char *) message;
    page.message.len = ngx_strlen(message);

    return ngx_http_mcp_oauth_page_send(r, status, &page.title,
                                        ngx_http_mcp_oauth_message_render,
                                        &page);
}


/*
 * Any page of the authorization server (consent, messages, errors, the
 * device flow's): its content in the operator's look (mcp_oauth_page_*).
 */

ngx_int_t
ngx_http_mcp_oauth_page_send(ngx_http_request_t *r, ngx_uint_t status,
    ngx_str_t *title, ngx_http_mcp_oauth_render_pt content, void *data)
{
    ngx_str_t                       body;
    ngx_http_mcp_oauth_doc_t        doc;
    ngx_http_mcp_oauth_srv_conf_t  *ascf;

    ascf = ngx_http_get_module_srv_conf(r, ngx_http_mcp_oauth_module);

    doc.look = &ascf->look;
    doc.title = *title;
    doc.content = content;
    doc.data = data;

    if (ngx_http_mcp_oauth_render(r->pool, ngx_http_mcp_oauth_doc_render,
                                  &doc, &body)
        != NGX_OK
        || ngx_http_mcp_oauth_page_headers(r) != NGX_OK)
    {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    return ngx_http_mcp_oauth_send_body(r, status, "text/html; charset=utf-8",
                                        &body);
}


/* no framing (clickjacking), no caching, no referrer, nothing loaded */

ngx_int_t
ngx_http_mcp_oauth_page_headers(ngx_http_request_t *r)
{
    if (ngx_http_mcp_oauth_add_header(r, "X-Frame-Options", "DENY") != NGX_OK
        || ngx_http_mcp_oauth_add_header(r, "Content-Security-Policy",
                                         "default-src 'none'; "
                                         "style-src 'unsafe-inline'; "
                                         "img-src data:; "
                                         "base-uri 'none'; "
                                         "frame-ancestors 'none'")
           != NGX_OK
        || ngx_http_mcp_oauth_add_header(r, "Cache-Control", "no-store")
           != NGX_OK
        || ngx_http_mcp_oauth_add_header(r, "Referrer-Policy", "no-referrer")
           != NGX_OK
        || ngx_http_mcp_oauth_add_header(r, "X-Content-Type-Options",
                                         "nosniff")
           != NGX_OK)
    {
        return NGX_ERROR;
    }

    return NGX_OK;
}
