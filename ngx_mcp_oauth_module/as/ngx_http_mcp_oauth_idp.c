
/*
 * ngx_mcp_oauth_module: Enterprise-Managed Authorization (the MCP
 * extension io.modelcontextprotocol/enterprise-managed-authorization,
 * draft-ietf-oauth-identity-assertion-authz-grant).  A company's identity
 * provider signs an Identity Assertion JWT Authorization Grant (ID-JAG) for
 * one of our clients, one of our resources and one of its users; the
 * client presents it with the jwt-bearer grant (RFC 7523 §2.1) and gets our
 * access token, with no consent page: the IdP's policy decided.
 */

#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include "ngx_http_mcp_oauth_module.h"
#include "ngx_http_mcp_oauth_assertion.h"


static char *ngx_http_mcp_oauth_idp_param(ngx_conf_t *cf,
    ngx_http_mcp_oauth_idp_t *idp, ngx_str_t *v);
static ngx_int_t ngx_http_mcp_oauth_idp_clients(ngx_conf_t *cf,
    ngx_http_mcp_oauth_idp_t *idp, ngx_str_t *list);
static ngx_http_mcp_oauth_idp_t *ngx_http_mcp_oauth_idp_find(
    ngx_http_mcp_oauth_srv_conf_t *ascf, ngx_str_t *iss);
static ngx_int_t ngx_http_mcp_oauth_id_jag_keys(ngx_http_request_t *r,
    ngx_http_mcp_oauth_srv_conf_t *ascf, ngx_http_mcp_oauth_as_ctx_t *ctx,
    ngx_http_mcp_oauth_idp_t *idp, ngx_http_mcp_oauth_assertion_t *a);
static ngx_int_t ngx_http_mcp_oauth_id_jag_claims(ngx_http_request_t *r,
    ngx_http_mcp_oauth_srv_conf_t *ascf, ngx_http_mcp_oauth_as_ctx_t *ctx,
    ngx_http_mcp_oauth_idp_t *idp, ngx_http_mcp_oauth_assertion_t *a,
    ngx_http_mcp_oauth_authz_t *out);
static ngx_int_t ngx_http_mcp_oauth_id_jag_scope(ngx_http_request_t *r,
    ngx_http_mcp_oauth_srv_conf_t *ascf, ngx_http_mcp_oauth_as_ctx_t *ctx,
    ngx_http_mcp_oauth_idp_t *idp, ngx_http_mcp_oauth_assertion_t *a,
    ngx_str_t *scope);


/*
 * mcp_oauth_trusted_idp ISSUER jwks=PATH | jwks_request=URI
 *     clients=ID[,ID...] | clients=* ["scope=A B"] [subject_prefix=P]
 *     [refresh=on] [cache=TIME]
 */

char *
ngx_http_mcp_oauth_trusted_idp(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf)
{
    ngx_http_mcp_oauth_srv_conf_t *ascf = conf;

    char                      *rv;
    ngx_str_t                 *value;
    ngx_uint_t                 i;
    ngx_http_mcp_oauth_idp_t  *idp;

    if (ascf->idps == NGX_CONF_UNSET_PTR) {
        ascf->idps = ngx_array_create(cf->pool, 2,
                                      sizeof(ngx_http_mcp_oauth_idp_t));
        if (ascf->idps == NULL) {
            return NGX_CONF_ERROR;
        }
    }

    value = cf->args->elts;

    if (ngx_http_mcp_oauth_idp_find(ascf, &value[1])) {
        return "names an issuer twice";
    }

    idp = ngx_array_push(ascf->idps);
    if (idp == NULL) {
        return NGX_CONF_ERROR;
    }

    ngx_memzero(idp, sizeof(ngx_http_mcp_oauth_idp_t));
    idp->issuer = value[1];
    idp->cache = 600;
    idp->clients = NGX_CONF_UNSET_PTR;

    for (i = 2; i < cf->args->nelts; i++) {
        rv = ngx_http_mcp_oauth_idp_param(cf, idp, &value[i]);
        if (rv != NGX_CONF_OK) {
            ngx_conf_log_error(NGX_LOG_EMERG, cf, 0, "\"%V\" %V: %s",
                               &cmd->name, &value[1], rv);
            return NGX_CONF_ERROR;
        }
    }

    if ((idp->keys == NULL) == (idp->jwks_uri.len == 0)) {
        return "needs either jwks=PATH or jwks_request=URI";
    }

    if (idp->clients == NGX_CONF_UNSET_PTR) {
        return "needs clients=ID[,ID...], or clients=* for any client";
    }

    return NGX_CONF_OK;
}


static char *
ngx_http_mcp_oauth_idp_param(ngx_conf_t *cf, ngx_http_mcp_oauth_idp_t *idp,
    ngx_str_t *v)
{
    ngx_str_t  s, name;

    ngx_str_set(&name, "mcp_oauth_trusted_idp");

    if (v->len > 5 && ngx_strncmp(v->data, "jwks=", 5) == 0) {
        s.data = v->data + 5;
        s.len = v->len - 5;

        /* the IdP's keys: never a shared secret */
        idp->keys = ngx_http_mcp_oauth_jwks_load(cf, &name, &s, 0);

        return idp->keys ? NGX_CONF_OK : "its jwks= file is not usable";
    }

    if (v->len > 13 && ngx_strncmp(v->data, "jwks_request=", 13) == 0) {
        idp->jwks_uri.data = v->data + 13;
        idp->jwks_uri.len = v->len - 13;

        return idp->jwks_uri.data[0] == '/'
               ? NGX_CONF_OK : "jwks_request= needs a local URI";
    }

    if (v->len > 8 && ngx_strncmp(v->data, "clients=", 8) == 0) {
        s.data = v->data + 8;
        s.len = v->len - 8;

        return ngx_http_mcp_oauth_idp_clients(cf, idp, &s) == NGX_OK
               ? NGX_CONF_OK : NGX_CONF_ERROR;
    }

    if (v->len > 6 && ngx_strncmp(v->data, "scope=", 6) == 0) {
        idp->scope.data = v->data + 6;
        idp->scope.len = v->len - 6;
        return NGX_CONF_OK;
    }

    if (v->len > 15 && ngx_strncmp(v->data, "subject_prefix=", 15) == 0) {
        idp->prefix.data = v->data + 15;
        idp->prefix.len = v->len - 15;
        return NGX_CONF_OK;
    }

    if (v->len == 10 && ngx_strncmp(v->data, "refresh=on", 10) == 0) {
        idp->refresh = 1;
        return NGX_CONF_OK;
    }

    if (v->len > 6 && ngx_strncmp(v->data, "cache=", 6) == 0) {
        s.data = v->data + 6;
        s.len = v->len - 6;
        idp->cache = ngx_parse_time(&s, 1);

        return (idp->cache > 0) ? NGX_CONF_OK : "invalid cache= time";
    }

    return "unknown parameter (jwks=, jwks_request=, clients=, scope=, "
           "subject_prefix=, refresh=on, cache=)";
}


/* "*": any client of ours; else a comma-separated list */

static ngx_int_t
ngx_http_mcp_oauth_idp_clients(ngx_conf_t *cf, ngx_http_mcp_oauth_idp_t *idp,
    ngx_str_t *list)
{
    u_char     *p, *last, *comma;
    ngx_str_t  *id;

    if (list->len == 1 && list->data[0] == '*') {
        idp->clients = NULL;
        return NGX_OK;
    }

    idp->clients = ngx_array_create(cf->pool, 2, sizeof(ngx_str_t));
    if (idp->clients == NULL) {
        return NGX_ERROR;
    }

    last = list->data + list->len;

    for (p = list->data; p < last; p = comma + 1) {
        comma = ngx_strlchr(p, last, ',');
        if (comma == NULL) {
            comma = last;
        }

        if (comma == p) {
            continue;
        }

        id = ngx_array_push(idp->clients);
        if (id == NULL) {
            return NGX_ERROR;
        }

        id->data = p;
        id->len = comma - p;
    }

    return NGX_OK;
}


/*
 * When the server is known: each IdP's scope= is the server's, and two
 * IdPs' users never share a subject (their prefixes differ).
 */

ngx_int_t
ngx_http_mcp_oauth_idps_check(ngx_conf_t *cf,
    ngx_http_mcp_oauth_srv_conf_t *ascf)
{
    ngx_uint_t                 i, j;
    ngx_http_mcp_oauth_idp_t  *idp;

    if (ascf->idps == NULL) {
        return NGX_OK;
    }

    idp = ascf->idps->elts;

    for (i = 0; i < ascf->idps->nelts; i++) {

        if (ngx_http_mcp_oauth_scope_subset(&idp[i].scope, &ascf->scope)
            != NGX_OK)
        {
            ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                               "\"mcp_oauth_trusted_idp\" %V: scope= names a "
                               "scope the server does not grant "
                               "(mcp_oauth_scopes_supported)",
                               &idp[i].issuer);
            return NGX_ERROR;
        }

        for (j = 0; j < i; j++) {
            if (idp[i].prefix.len == idp[j].prefix.len
                && ngx_strncmp(idp[i].prefix.data, idp[j].prefix.data,
                               idp[i].prefix.len) == 0)
            {
                ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                                   "\"mcp_oauth_trusted_idp\" %V and %V have "
                                   "the same subject_prefix: their users' "
                                   "subjects would collide",
                                   &idp[j].issuer, &idp[i].issuer);
                return NGX_ERROR;
            }
        }
    }

    return NGX_OK;
}


static ngx_http_mcp_oauth_idp_t *
ngx_http_mcp_oauth_idp_find(ngx_http_mcp_oauth_srv_conf_t *ascf,
    ngx_str_t *iss)
{
    ngx_uint_t                 i;
    ngx_http_mcp_oauth_idp_t  *idp;

    if (ascf->idps == NULL || ascf->idps == NGX_CONF_UNSET_PTR) {
        return NULL;
    }

    idp = ascf->idps->elts;

    for (i = 0; i < ascf->idps->nelts; i++) {
        if (idp[i].issuer.len == iss->len
            && ngx_strncmp(idp[i].issuer.data, iss->data, iss->len) == 0)
        {
            return &idp[i];
        }
    }

    return NULL;
}


/*
 * The jwt-bearer grant's assertion, an ID-JAG (the extension's §5.1,
 * RFC 7521 §5.2): "out" has the grant's scope, resource and subject, and
 * "refresh" whether a refresh token comes with it.  NGX_DECLINED: the
 * error is in ctx; NGX_AGAIN: the IdP's keys, or the state, are asked.
 */

ngx_int_t
ngx_http_mcp_oauth_id_jag(ngx_http_request_t *r,
    ngx_http_mcp_oauth_srv_conf_t *ascf, ngx_http_mcp_oauth_as_ctx_t *ctx,
    ngx_http_mcp_oauth_authz_t *out, ngx_uint_t *refresh)
{
    ngx_int_t                        rc;
    ngx_str_t                       *assertion;
    ngx_http_mcp_oauth_idp_t        *idp;
    ngx_http_mcp_oauth_assertion_t   a;

    assertion = &ctx->params.v[NGX_HTTP_MCP_OAUTH_P_ASSERTION];
    ctx->err = NULL;

    if (ctx->client.auth == NGX_HTTP_MCP_OAUTH_AUTH_NONE) {
        return ngx_http_mcp_oauth_as_error_set(ctx, NGX_HTTP_BAD_REQUEST,
                                               "unauthorized_client",
                                               "the jwt-bearer grant is for "
                                               "clients that authenticate");
    }

    if (assertion->len == 0) {
        return ngx_http_mcp_oauth_as_error_set(ctx, NGX_HTTP_BAD_REQUEST,
                                               "invalid_request",
                                               "assertion is required");
    }

    if (ngx_http_mcp_oauth_assertion_parse(r->pool, assertion,
                                           NGX_HTTP_MCP_OAUTH_TYP_ID_JAG, &a)
        != NGX_OK)
    {
        goto refused;
    }

    idp = ngx_http_mcp_oauth_idp_find(ascf, &a.claims.iss);

    if (idp == NULL) {
        a.desc = "the issuer is not a trusted identity provider";
        goto refused;
    }

    rc = ngx_http_mcp_oauth_id_jag_keys(r, ascf, ctx, idp, &a);

    if (rc == NGX_OK) {
        rc = ngx_http_mcp_oauth_id_jag_claims(r, ascf, ctx, idp, &a, out);
    }

    if (rc == NGX_OK) {
        rc = ngx_http_mcp_oauth_assertion_use(r, ctx, &a, "id_jag");
    }

    if (rc != NGX_DECLINED) {
        *refresh = idp->refresh
                   && (ctx->client.grants & NGX_HTTP_MCP_OAUTH_GRANT_REFRESH);
        return rc;
    }

    if (ctx->err) {
        return NGX_DECLINED;
    }

refused:

    return ngx_http_mcp_oauth_as_error_set(ctx, NGX_HTTP_BAD_REQUEST,
                                           "invalid_grant", a.desc);
}


/* the IdP's keys, then the signature, iss, aud (our issuer), exp, iat, jti */

static ngx_int_t
ngx_http_mcp_oauth_id_jag_keys(ngx_http_request_t *r,
    ngx_http_mcp_oauth_srv_conf_t *ascf, ngx_http_mcp_oauth_as_ctx_t *ctx,
    ngx_http_mcp_oauth_idp_t *idp, ngx_http_mcp_oauth_assertion_t *a)
{
    ngx_int_t                     rc;
    ngx_http_mcp_oauth_keys_t     src;
    ngx_http_mcp_oauth_keyset_t  *keys;

    ngx_memzero(&src, sizeof(ngx_http_mcp_oauth_keys_t));
    src.keys = idp->keys;
    src.fetch = idp->jwks_uri;
    src.url = idp->issuer;
    src.cache = idp->cache;
    ngx_str_set(&src.prefix, "idp-jwks");

    rc = ngx_http_mcp_oauth_assertion_keys(r, ascf, ctx, &src, &keys);

    if (rc == NGX_DECLINED) {
        a->desc = "the identity provider's keys cannot be had";
    }

    if (rc != NGX_OK) {
        return rc;
    }

    return ngx_http_mcp_oauth_assertion_verify(r, a, keys, &idp->issuer,
                                               &ascf->issuer, 1);
}


/* client_id, resource, sub and scope of a verified ID-JAG */

static ngx_int_t
ngx_http_mcp_oauth_id_jag_claims(ngx_http_request_t *r,
    ngx_http_mcp_oauth_srv_conf_t *ascf, ngx_http_mcp_oauth_as_ctx_t *ctx,
    ngx_http_mcp_oauth_idp_t *idp, ngx_http_mcp_oauth_assertion_t *a,
    ngx_http_mcp_oauth_authz_t *out)
{
    u_char                       *p;
    ngx_str_t                    *id, *res, *asked;
    ngx_http_mcp_oauth_member_t  *m;

    m = a->jwt.claims;
    id = &ctx->client.id;

    if (m[NGX_HTTP_MCP_OAUTH_CLAIM_CLIENT_ID].type
            != NGX_HTTP_MCP_OAUTH_JSON_STRING
        || m[NGX_HTTP_MCP_OAUTH_CLAIM_CLIENT_ID].value.len != id->len
        || ngx_strncmp(m[NGX_HTTP_MCP_OAUTH_CLAIM_CLIENT_ID].value.data,
                       id->data, id->len) != 0)
    {
        a->desc = "the assertion was issued to another client";
        return NGX_DECLINED;
    }

    if (idp->clients && ngx_http_mcp_oauth_str_find(idp->clients, id)
                        != NGX_OK)
    {
        a->desc = "the identity provider may not name this client";
        return NGX_DECLINED;
    }

    res = &m[NGX_HTTP_MCP_OAUTH_CLAIM_RESOURCE].value;

    if (m[NGX_HTTP_MCP_OAUTH_CLAIM_RESOURCE].type
            != NGX_HTTP_MCP_OAUTH_JSON_STRING
        || res->len == 0
        || (out->resource = ngx_http_mcp_oauth_resource_find(ascf, res))
           == NULL)
    {
        a->desc = "the assertion is not for a resource of this server";
        return NGX_DECLINED;
    }

    asked = &ctx->params.v[NGX_HTTP_MCP_OAUTH_P_RESOURCE];

    if (asked->len && (asked->len != res->len
                       || ngx_strncmp(asked->data, res->data, res->len) != 0))
    {
        return ngx_http_mcp_oauth_as_error_set(ctx, NGX_HTTP_BAD_REQUEST,
                                               "invalid_target",
                                               "resource is not the "
                                               "assertion's");
    }

    if (a->claims.sub.len == 0) {
        a->desc = "the assertion has no sub";
        return NGX_DECLINED;
    }

    /* the IdP's subject, in the IdP's own namespace */

    out->user.len = idp->prefix.len + a->claims.sub.len;
    out->user.data = ngx_pnalloc(r->pool, out->user.len);
    if (out->user.data == NULL) {
        return NGX_ERROR;
    }

    p = ngx_cpymem(out->user.data, idp->prefix.data, idp->prefix.len);
    ngx_memcpy(p, a->claims.sub.data, a->claims.sub.len);

    return ngx_http_mcp_oauth_id_jag_scope(r, ascf, ctx, idp, a, &out->scope);
}


/*
 * The scope: the assertion's, each one the IdP may grant (scope=), the
 * server supports and the client may have; none: the IdP's allowance, or
 * the client's or the server's.  The request may narrow it (RFC 6749 §3.3).
 */

static ngx_int_t
ngx_http_mcp_oauth_id_jag_scope(ngx_http_request_t *r,
    ngx_http_mcp_oauth_srv_conf_t *ascf, ngx_http_mcp_oauth_as_ctx_t *ctx,
    ngx_http_mcp_oauth_idp_t *idp, ngx_http_mcp_oauth_assertion_t *a,
    ngx_str_t *scope)
{
    ngx_int_t   rc;
    ngx_str_t  *asked;

    *scope = a->claims.scope;

    if (scope->len == 0) {
        *scope = idp->scope.len ? idp->scope
                                : ctx->client.scope.len ? ctx->client.scope
                                                        : ascf->scope;
    }

    rc = ngx_http_mcp_oauth_scope_allowed(r->pool, ascf, &ctx->client, scope);
    if (rc == NGX_ERROR) {
        return NGX_ERROR;
    }

    if (rc != NGX_OK
        || (idp->scope.len
            && ngx_http_mcp_oauth_scope_subset(scope, &idp->scope) != NGX_OK))
    {
        return ngx_http_mcp_oauth_as_error_set(ctx, NGX_HTTP_BAD_REQUEST,
                                               "invalid_scope",
                                               "the assertion grants a scope "
                                               "this identity provider or "
                                               "client may not have");
    }

    asked = &ctx->params.v[NGX_HTTP_MCP_OAUTH_P_SCOPE];

    if (asked->len) {
        if (ngx_http_mcp_oauth_scope_subset(asked, scope) != NGX_OK) {
            return ngx_http_mcp_oauth_as_error_set(ctx, NGX_HTTP_BAD_REQUEST,
                                                   "invalid_scope",
                                                   "the scope is wider than "
                                                   "the assertion's");
        }

        *scope = *asked;
    }

    return NGX_OK;
}
