
/*
 * ngx_mcp_oauth_module: the built-in authorization server's configuration
 * (per server), its metadata (RFC 8414, OpenID Connect Discovery), the
 * published JWK Set, and what its endpoints share: request parameters,
 * bodies, CORS and error answers (RFC 6749 §5.2).
 */

#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include "ngx_http_mcp_oauth_module.h"
#include "ngx_http_mcp_oauth_as.h"
#include "ngx_http_mcp_oauth_assertion.h"


static ngx_int_t ngx_http_mcp_oauth_as_server(ngx_conf_t *cf,
    ngx_http_mcp_oauth_srv_conf_t *ascf, ngx_http_mcp_oauth_loc_conf_t *mlcf,
    ngx_http_core_srv_conf_t *cscf);
static ngx_int_t ngx_http_mcp_oauth_as_metadata(ngx_conf_t *cf,
    ngx_http_mcp_oauth_srv_conf_t *ascf);
static ngx_int_t ngx_http_mcp_oauth_as_endpoints(ngx_conf_t *cf,
    ngx_http_mcp_oauth_srv_conf_t *ascf, json_t *doc);
static json_t *ngx_http_mcp_oauth_as_grants(
    ngx_http_mcp_oauth_srv_conf_t *ascf);
static ngx_int_t ngx_http_mcp_oauth_str_add(ngx_pool_t *pool,
    ngx_array_t **a, ngx_str_t *s);
static ngx_int_t ngx_http_mcp_oauth_as_document(ngx_http_request_t *r,
    const char *type, ngx_str_t *doc);
static void ngx_http_mcp_oauth_as_body_done(ngx_http_request_t *r);
static char *ngx_http_mcp_oauth_client_param(ngx_conf_t *cf,
    ngx_command_t *cmd, ngx_http_mcp_oauth_client_t *c, ngx_str_t *v);
static char *ngx_http_mcp_oauth_client_done(ngx_conf_t *cf,
    ngx_command_t *cmd, ngx_http_mcp_oauth_client_t *c);


void *
ngx_http_mcp_oauth_create_srv_conf(ngx_conf_t *cf)
{
    ngx_http_mcp_oauth_srv_conf_t  *ascf;

    ascf = ngx_pcalloc(cf->pool, sizeof(ngx_http_mcp_oauth_srv_conf_t));
    if (ascf == NULL) {
        return NULL;
    }

    /*
     * set by ngx_pcalloc():
     *
     *     ascf->rule_scopes = NULL;
     *     ascf->resources = NULL;
     *     ascf->cimd_uri = { 0, NULL };
     *     ascf->issuer = { 0, NULL };
     *     ascf->metadata = { 0, NULL };
     */

    ascf->signer = NGX_CONF_UNSET_PTR;
    ascf->scopes = NGX_CONF_UNSET_PTR;
    ascf->zone = NGX_CONF_UNSET_PTR;
    ascf->clients = NGX_CONF_UNSET_PTR;
    ascf->redirect_allow = NGX_CONF_UNSET_PTR;
    ascf->idps = NGX_CONF_UNSET_PTR;
    ascf->code_ttl = NGX_CONF_UNSET;
    ascf->token_ttl = NGX_CONF_UNSET;
    ascf->refresh_ttl = NGX_CONF_UNSET;
    ascf->consent_ttl = NGX_CONF_UNSET;
    ascf->cimd_cache = NGX_CONF_UNSET;
    ascf->cimd_private = NGX_CONF_UNSET;
    ascf->device_ttl = NGX_CONF_UNSET;
    ascf->device_interval = NGX_CONF_UNSET;
    ascf->device_attempts = NGX_CONF_UNSET;
    ascf->device_window = NGX_CONF_UNSET;
    ascf->iam_params = NGX_CONF_UNSET_PTR;
    ascf->iam_pass = NGX_CONF_UNSET_UINT;
    ascf->consent_choice = NGX_CONF_UNSET;
    ascf->no_choice = NGX_CONF_UNSET_PTR;
    ascf->look.parts = NGX_CONF_UNSET_PTR;

    return ascf;
}


char *
ngx_http_mcp_oauth_merge_srv_conf(ngx_conf_t *cf, void *parent, void *child)
{
    ngx_http_mcp_oauth_srv_conf_t *prev = parent;
    ngx_http_mcp_oauth_srv_conf_t *conf = child;

    ngx_conf_merge_ptr_value(conf->signer, prev->signer, NULL);
    ngx_conf_merge_ptr_value(conf->scopes, prev->scopes, NULL);
    ngx_conf_merge_ptr_value(conf->zone, prev->zone, NULL);
    ngx_conf_merge_ptr_value(conf->clients, prev->clients, NULL);
    ngx_conf_merge_ptr_value(conf->redirect_allow, prev->redirect_allow,
                             NULL);
    ngx_conf_merge_ptr_value(conf->idps, prev->idps, NULL);
    ngx_conf_merge_sec_value(conf->code_ttl, prev->code_ttl, 60);
    ngx_conf_merge_sec_value(conf->token_ttl, prev->token_ttl, 3600);
    ngx_conf_merge_sec_value(conf->refresh_ttl, prev->refresh_ttl,
                             30 * 86400);
    ngx_conf_merge_sec_value(conf->consent_ttl, prev->consent_ttl,
                             30 * 86400);
    ngx_conf_merge_sec_value(conf->cimd_cache, prev->cimd_cache, 600);
    ngx_conf_merge_str_value(conf->cimd_uri, prev->cimd_uri, "");
    ngx_conf_merge_value(conf->cimd_private, prev->cimd_private, 0);
    ngx_conf_merge_sec_value(conf->device_ttl, prev->device_ttl, 600);
    ngx_conf_merge_sec_value(conf->device_interval, prev->device_interval, 5);
    ngx_conf_merge_value(conf->device_attempts, prev->device_attempts, 5);
    ngx_conf_merge_sec_value(conf->device_window, prev->device_window, 900);
    ngx_conf_merge_str_value(conf->iam_authorize, prev->iam_authorize, "");
    ngx_conf_merge_str_value(conf->iam_token_uri, prev->iam_token_uri, "");
    ngx_conf_merge_str_value(conf->iam_scope, prev->iam_scope, "openid");
    ngx_conf_merge_ptr_value(conf->iam_params, prev->iam_params, NULL);
    ngx_conf_merge_uint_value(conf->iam_pass, prev->iam_pass, 0);

    if (ngx_http_mcp_oauth_look_merge(cf, prev, conf) != NGX_OK) {
        return NGX_CONF_ERROR;
    }

    if (conf->iam_client_id.data == NULL) {
        conf->iam_client_id = prev->iam_client_id;
        conf->iam_client_secret = prev->iam_client_secret;
        conf->iam_auth = prev->iam_auth;
        conf->bridge = prev->bridge;
    }

    if (conf->iam_authorize.len
        && (conf->iam_token_uri.len == 0 || conf->iam_client_id.len == 0))
    {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "\"mcp_oauth_iam_authorize_url\" requires "
                           "\"mcp_oauth_iam_token_request\" and "
                           "\"mcp_oauth_iam_client\"");
        return NGX_CONF_ERROR;
    }

    if (conf->code_ttl <= 0 || conf->token_ttl <= 0
        || conf->refresh_ttl <= 0)
    {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "\"mcp_oauth_code_ttl\", \"mcp_oauth_token_ttl\" "
                           "and \"mcp_oauth_refresh_ttl\" must be positive");
        return NGX_CONF_ERROR;
    }

    return NGX_CONF_OK;
}


char *
ngx_http_mcp_oauth_signing_key(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    ngx_http_mcp_oauth_srv_conf_t *ascf = conf;

    ngx_str_t  *value, path;

    if (ascf->signer != NGX_CONF_UNSET_PTR) {
        return "is duplicate";
    }

    value = cf->args->elts;
    path = value[1];

    if (ngx_conf_full_name(cf->cycle, &path, 1) != NGX_OK) {
        return NGX_CONF_ERROR;
    }

    ascf->signer = ngx_http_mcp_oauth_signer_load(cf, &path);

    return ascf->signer ? NGX_CONF_OK : NGX_CONF_ERROR;
}


char *
ngx_http_mcp_oauth_zone(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    ngx_http_mcp_oauth_srv_conf_t *ascf = conf;

    u_char     *p;
    ssize_t     size;
    ngx_str_t  *value, name, s;

    if (ascf->zone != NGX_CONF_UNSET_PTR) {
        return "is duplicate";
    }

    value = cf->args->elts;

    p = (u_char *) ngx_strchr(value[1].data, ':');
    if (p == NULL || p == value[1].data) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "\"%V\" takes NAME:SIZE, not \"%V\"",
                           &cmd->name, &value[1]);
        return NGX_CONF_ERROR;
    }

    name.data = value[1].data;
    name.len = p - value[1].data;
    s.data = p + 1;
    s.len = value[1].data + value[1].len - s.data;

    size = ngx_parse_size(&s);

    if (size < (ssize_t) (8 * ngx_pagesize)) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "\"%V\": zone \"%V\" needs a size of at least %uz",
                           &cmd->name, &name, 8 * ngx_pagesize);
        return NGX_CONF_ERROR;
    }

    ascf->zone = ngx_http_mcp_oauth_store_zone(cf, &name, size);

    return ascf->zone ? NGX_CONF_OK : NGX_CONF_ERROR;
}


/*
 * mcp_oauth_client ID [secret=S | jwks=PATH] ["name=N"] ["scope=A B"]
 *     [device]
 *     REDIRECT_URI...
 */

char *
ngx_http_mcp_oauth_client(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    ngx_http_mcp_oauth_srv_conf_t *ascf = conf;

    ngx_str_t                    *value;
    ngx_uint_t                    i;
    ngx_http_mcp_oauth_client_t  *c;

    if (ascf->clients == NGX_CONF_UNSET_PTR) {
        ascf->clients = ngx_array_create(cf->pool, 4,
                                         sizeof(ngx_http_mcp_oauth_client_t));
        if (ascf->clients == NULL) {
            return NGX_CONF_ERROR;
        }
    }

    c = ngx_array_push(ascf->clients);
    if (c == NULL) {
        return NGX_CONF_ERROR;
    }

    ngx_memzero(c, sizeof(ngx_http_mcp_oauth_client_t));

    value = cf->args->elts;
    c->id = value[1];
    c->name = value[1];
    c->auth = NGX_HTTP_MCP_OAUTH_AUTH_NONE;
    c->grants = NGX_HTTP_MCP_OAUTH_GRANT_USER;
    c->configured = 1;

    if (ngx_strlchr(c->id.data, c->id.data + c->id.len, ':')) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "\"%V\": client id \"%V\" must not contain \":\" "
                           "(RFC 6749 §2.3.1)", &cmd->name, &c->id);
        return NGX_CONF_ERROR;
    }

    c->redirect_uris = ngx_array_create(cf->pool, 2, sizeof(ngx_str_t));
    if (c->redirect_uris == NULL) {
        return NGX_CONF_ERROR;
    }

    for (i = 2; i < cf->args->nelts; i++) {
        if (ngx_http_mcp_oauth_client_param(cf, cmd, c, &value[i])
            != NGX_CONF_OK)
        {
            return NGX_CONF_ERROR;
        }
    }

    return ngx_http_mcp_oauth_client_done(cf, cmd, c);
}

/* one parameter of mcp_oauth_client: a keyword=value or a redirect URI */

static char *
ngx_http_mcp_oauth_client_param(ngx_conf_t *cf, ngx_command_t *cmd,
    ngx_http_mcp_oauth_client_t *c, ngx_str_t *v)
{
    ngx_str_t  *uri;

    if (ngx_strncmp(v->data, "secret=", 7) == 0) {
        c->secret.data = v->data + 7;
        c->secret.len = v->len - 7;
        c->auth = NGX_HTTP_MCP_OAUTH_AUTH_SECRET;
        c->grants |= NGX_HTTP_MCP_OAUTH_GRANT_CLIENT;
        return NGX_CONF_OK;
    }

    if (ngx_strcmp(v->data, "device") == 0) {
        /* RFC 8628: a client without a browser of its own */
        c->grants |= NGX_HTTP_MCP_OAUTH_GRANT_DEVICE;
        return NGX_CONF_OK;
    }

    if (ngx_strncmp(v->data, "jwks=", 5) == 0) {
        /* private_key_jwt (RFC 7523 §2.2): its public keys */
        c->keys = ngx_http_mcp_oauth_jwks_load(cf, &cmd->name,
                      &(ngx_str_t) { v->len - 5, v->data + 5 }, 0);
        if (c->keys == NULL) {
            return NGX_CONF_ERROR;
        }

        c->auth = NGX_HTTP_MCP_OAUTH_AUTH_JWT;
        c->grants |= NGX_HTTP_MCP_OAUTH_GRANT_CLIENT;
        return NGX_CONF_OK;
    }

    if (ngx_strncmp(v->data, "name=", 5) == 0) {
        c->name.data = v->data + 5;
        c->name.len = v->len - 5;
        return NGX_CONF_OK;
    }

    if (ngx_strncmp(v->data, "scope=", 6) == 0) {
        c->scope.data = v->data + 6;
        c->scope.len = v->len - 6;
        c->limited = 1;
        return NGX_CONF_OK;
    }

    if (ngx_http_mcp_oauth_redirect_check(NULL, v) != NGX_OK) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "\"%V\": invalid redirect URI \"%V\" (https, "
                           "or http on a loopback address)", &cmd->name, v);
        return NGX_CONF_ERROR;
    }

    uri = ngx_array_push(c->redirect_uris);
    if (uri == NULL) {
        return NGX_CONF_ERROR;
    }

    *uri = *v;

    return NGX_CONF_OK;
}


/* a static client's parameters that go together */

static char *
ngx_http_mcp_oauth_client_done(ngx_conf_t *cf, ngx_command_t *cmd,
    ngx_http_mcp_oauth_client_t *c)
{
    if (c->redirect_uris->nelts == 0
        && c->auth == NGX_HTTP_MCP_OAUTH_AUTH_NONE
        && !(c->grants & NGX_HTTP_MCP_OAUTH_GRANT_DEVICE))
    {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "\"%V\": client \"%V\" has neither redirect URIs, "
                           "a secret, keys, nor \"device\"", &cmd->name,
                           &c->id);
        return NGX_CONF_ERROR;
    }

    if (c->keys && c->secret.len) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "\"%V\": client \"%V\" has both a secret and "
                           "keys: one way to authenticate", &cmd->name,
                           &c->id);
        return NGX_CONF_ERROR;
    }

    if (c->secret.len && c->secret.len < 16) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "\"%V\": the secret of client \"%V\" is shorter "
                           "than 16 characters", &cmd->name, &c->id);
        return NGX_CONF_ERROR;
    }

    return NGX_CONF_OK;
}



char *
ngx_http_mcp_oauth_redirect_allow(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf)
{
    u_char        *p, *last, *slash;
    ngx_str_t     *value, *s;
    ngx_uint_t     i;
    ngx_array_t  **patterns;

    /* mcp_oauth_redirect_uri_allow, mcp_oauth_consent_no_choice */

    patterns = (ngx_array_t **) ((char *) conf + cmd->offset);

    if (*patterns != NGX_CONF_UNSET_PTR) {
        return "is duplicate";
    }

    *patterns = ngx_array_create(cf->pool, cf->args->nelts,
                                 sizeof(ngx_str_t));
    if (*patterns == NULL) {
        return NGX_CONF_ERROR;
    }

    value = cf->args->elts;

    for (i = 1; i < cf->args->nelts; i++) {

        if (ngx_strcmp(value[i].data, "loopback") == 0) {
            goto push;
        }

        if (ngx_strncmp(value[i].data, "https://", 8) != 0
            && ngx_strncmp(value[i].data, "http://", 7) != 0)
        {
            ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                               "\"%V\": \"%V\" is neither a URL, a URL "
                               "prefix ending in \"*\", nor \"loopback\"",
                               &cmd->name, &value[i]);
            return NGX_CONF_ERROR;
        }

        /*
         * a prefix pattern must hold the whole authority and a "/": with
         * "https://app.example.com*", "https://app.example.com.evil/"
         * would match
         */

        p = value[i].data + (value[i].data[4] == 's' ? 8 : 7);
        last = value[i].data + value[i].len;
        slash = ngx_strlchr(p, last, '/');

        if (value[i].data[value[i].len - 1] == '*'
            && (slash == NULL || slash == p))
        {
            ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                               "\"%V\": the prefix \"%V\" must end its "
                               "host with a path (\"/\" at least) before "
                               "the \"*\"", &cmd->name, &value[i]);
            return NGX_CONF_ERROR;
        }

        if (slash && ngx_http_mcp_oauth_path_plain(slash, last) != NGX_OK) {
            ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                               "\"%V\": \"%V\" has a \".\" or \"..\" "
                               "segment or an encoded dot or slash",
                               &cmd->name, &value[i]);
            return NGX_CONF_ERROR;
        }

    push:

        s = ngx_array_push(*patterns);
        if (s == NULL) {
            return NGX_CONF_ERROR;
        }

        *s = value[i];
    }

    return NGX_CONF_OK;
}


char *
ngx_http_mcp_oauth_as_handler(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    ngx_http_mcp_oauth_loc_conf_t *mlcf = conf;

    ngx_http_core_loc_conf_t  *clcf;

    if (mlcf->as_endpoint) {
        return "is duplicate";
    }

    mlcf->as_endpoint = 1;

    clcf = ngx_http_conf_get_module_loc_conf(cf, ngx_http_core_module);
    clcf->handler = (ngx_http_handler_pt) cmd->post;

    return NGX_CONF_OK;
}


/*
 * Called for every location as it is merged: the resources and scopes of
 * the server are what its authorization server grants.
 */

ngx_int_t
ngx_http_mcp_oauth_as_collect(ngx_conf_t *cf, void *conf)
{
    ngx_http_mcp_oauth_loc_conf_t  *mlcf = conf;

    ngx_str_t                      *s;
    ngx_uint_t                      i, j, k;
    ngx_array_t                    *lists[4];
    ngx_http_mcp_oauth_rule_t      *rule;
    ngx_http_core_loc_conf_t       *clcf;
    ngx_http_mcp_oauth_srv_conf_t  *ascf;

    ascf = ngx_http_conf_get_module_srv_conf(cf, ngx_http_mcp_oauth_module);

    if (mlcf->as_endpoint && ascf->signer == NULL) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "the authorization server endpoints require "
                           "\"mcp_oauth_signing_key\" in the server");
        return NGX_ERROR;
    }

    if (mlcf->iam_metadata) {
        ascf->need_zone = 1;
    }

    if (mlcf->as_endpoint) {
        clcf = ngx_http_conf_get_module_loc_conf(cf, ngx_http_core_module);

        if (clcf->handler == ngx_http_mcp_oauth_device_handler) {
            ascf->device |= NGX_HTTP_MCP_OAUTH_DEVICE_ENDPOINT;

        } else if (clcf->handler == ngx_http_mcp_oauth_device_verify_handler) {
            ascf->device |= NGX_HTTP_MCP_OAUTH_DEVICE_PAGE;
        }
    }

    if (ascf->signer == NULL) {
        /* pass-through: the scopes to publish in the IAM's metadata */
        goto scopes;
    }

    /* the resource-server half verifies what this server issues */

    if (mlcf->jwks == NULL && mlcf->jwks_remote == NULL) {
        mlcf->jwks = ascf->signer->keyset;
    }

    if (mlcf->resource.len
        && ngx_http_mcp_oauth_str_add(cf->pool, &ascf->resources,
                                      &mlcf->resource) != NGX_OK)
    {
        return NGX_ERROR;
    }

scopes:

    if (mlcf->required_scopes) {
        s = mlcf->required_scopes->elts;

        for (i = 0; i < mlcf->required_scopes->nelts; i++) {
            if (ngx_http_mcp_oauth_str_add(cf->pool, &ascf->rule_scopes, &s[i])
                != NGX_OK)
            {
                return NGX_ERROR;
            }
        }
    }

    lists[0] = mlcf->tool_rules;
    lists[1] = mlcf->resource_rules;
    lists[2] = mlcf->prompt_rules;
    lists[3] = mlcf->method_rules;

    for (i = 0; i < 4; i++) {
        if (lists[i] == NULL || lists[i] == NGX_CONF_UNSET_PTR) {
            continue;
        }

        rule = lists[i]->elts;

        for (j = 0; j < lists[i]->nelts; j++) {
            s = rule[j].scopes->elts;

            for (k = 0; k < rule[j].scopes->nelts; k++) {
                if (ngx_http_mcp_oauth_str_add(cf->pool, &ascf->rule_scopes,
                                               &s[k])
                    != NGX_OK)
                {
                    return NGX_ERROR;
                }
            }
        }
    }

    /* and what they unlock, for the consent page */

    return ngx_http_mcp_oauth_unlocks_collect(cf, ascf, lists,
                                              &mlcf->resource,
                                              mlcf->required_scopes);
}


static ngx_int_t
ngx_http_mcp_oauth_str_add(ngx_pool_t *pool, ngx_array_t **a, ngx_str_t *s)
{
    if (*a == NULL) {
        *a = ngx_array_create(pool, 4, sizeof(ngx_str_t));
        if (*a == NULL) {
            return NGX_ERROR;
        }
    }

    return ngx_http_mcp_oauth_str_add_once(*a, s);
}


/* postconfiguration: each server with a signing key becomes an AS */

ngx_int_t
ngx_http_mcp_oauth_as_init(ngx_conf_t *cf)
{
    ngx_uint_t                      s;
    ngx_http_core_srv_conf_t      **cscfp;
    ngx_http_core_main_conf_t      *cmcf;
    ngx_http_mcp_oauth_srv_conf_t  *ascf;

    cmcf = ngx_http_conf_get_module_main_conf(cf, ngx_http_core_module);
    cscfp = cmcf->servers.elts;

    for (s = 0; s < cmcf->servers.nelts; s++) {
        ascf = cscfp[s]->ctx->srv_conf[ngx_http_mcp_oauth_module.ctx_index];

        if (ascf->signer == NULL && ascf->issued.redis) {
            ngx_http_mcp_oauth_where_error(cf, &ascf->issued.redis->at,
                                           "\"mcp_oauth_state_request\" "
                                           "requires \"mcp_oauth_signing_key\""
                                           " in the server");
            return NGX_ERROR;
        }

        if (ascf->signer == NULL && !ascf->need_zone) {
            continue;
        }

        if (ngx_http_mcp_oauth_as_server(cf, ascf,
                cscfp[s]->ctx->loc_conf[ngx_http_mcp_oauth_module.ctx_index],
                cscfp[s])
            != NGX_OK)
        {
            return NGX_ERROR;
        }
    }

    return NGX_OK;
}


static ngx_int_t
ngx_http_mcp_oauth_as_server(ngx_conf_t *cf,
    ngx_http_mcp_oauth_srv_conf_t *ascf, ngx_http_mcp_oauth_loc_conf_t *mlcf,
    ngx_http_core_srv_conf_t *cscf)
{
    ngx_str_t  zone;

    if (ascf->scopes == NULL) {
        ascf->scopes = ascf->rule_scopes;
    }

    /*
     * Who this server is, in the keys of what it caches: servers may share
     * a zone.  Without mcp_oauth_zone each one has its own, named by it (so
     * that it survives reloads): a flood of one server's state does not
     * deny another's sign-ins.
     */

    ascf->name = mlcf->issuers ? *(ngx_str_t *) mlcf->issuers->elts
                               : cscf->server_name;

    if (ascf->zone == NULL) {
        zone.len = sizeof("mcp_oauth:") - 1 + ascf->name.len;
        zone.data = ngx_pnalloc(cf->pool, zone.len);
        if (zone.data == NULL) {
            return NGX_ERROR;
        }

        ngx_memcpy(ngx_cpymem(zone.data, "mcp_oauth:",
                              sizeof("mcp_oauth:") - 1),
                   ascf->name.data, ascf->name.len);

        ascf->zone = ngx_http_mcp_oauth_store_zone(cf, &zone, 1024 * 1024);
        if (ascf->zone == NULL) {
            return NGX_ERROR;
        }
    }

    if (ascf->signer == NULL) {
        return NGX_OK;
    }

    if (mlcf->issuers == NULL) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "\"mcp_oauth_signing_key\" requires "
                           "\"mcp_oauth_issuer\" at server level: the "
                           "authorization server's issuer");
        return NGX_ERROR;
    }

    ascf->issuer = *(ngx_str_t *) mlcf->issuers->elts;
    ascf->base = ascf->issuer;

    /* what the resource server asks of this one: revocations */
    ascf->issued.issuer = ascf->issuer;
    ascf->issued.zone = ascf->zone;

    if (ngx_http_mcp_oauth_state_init(cf, &ascf->issued, cscf,
                                      ngx_max(ascf->token_ttl,
                                              ascf->refresh_ttl))
        != NGX_OK)
    {
        return NGX_ERROR;
    }

    if (ascf->base.data[ascf->base.len - 1] == '/') {
        ascf->base.len--;
    }

    if (ascf->resources == NULL) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "\"mcp_oauth_signing_key\" requires an "
                           "\"mcp_oauth_resource\" in the server: the "
                           "audience of the tokens it issues");
        return NGX_ERROR;
    }

    if (ascf->scopes
        && ngx_http_mcp_oauth_str_join(cf->pool, ascf->scopes, &ascf->scope)
           != NGX_OK)
    {
        return NGX_ERROR;
    }

    if (ngx_http_mcp_oauth_device_init(cf, ascf) != NGX_OK
        || ngx_http_mcp_oauth_idps_check(cf, ascf) != NGX_OK)
    {
        return NGX_ERROR;
    }

    return ngx_http_mcp_oauth_as_metadata(cf, ascf);
}


static ngx_int_t
ngx_http_mcp_oauth_as_metadata(ngx_conf_t *cf,
    ngx_http_mcp_oauth_srv_conf_t *ascf)
{
    json_t      *doc, *methods, *scopes, *algs;
    ngx_str_t   *s;
    ngx_uint_t   i;

    doc = json_object();
    scopes = json_array();
    methods = json_pack("[ssss]", "none", "client_secret_basic",
                        "client_secret_post", "private_key_jwt");

    if (doc == NULL || scopes == NULL || methods == NULL
        || ngx_http_mcp_oauth_as_endpoints(cf, ascf, doc) != NGX_OK)
    {
        goto failed;
    }

    s = ascf->scopes ? ascf->scopes->elts : NULL;

    for (i = 0; s && i < ascf->scopes->nelts; i++) {
        json_array_append_new(scopes,
                              json_stringn((char *) s[i].data, s[i].len));
    }

    /* ChatGPT asks for every scope listed here: only what is granted */

    json_object_set_new(doc, "scopes_supported", scopes);
    json_object_set_new(doc, "response_types_supported", json_pack("[s]",
                                                                   "code"));
    json_object_set_new(doc, "response_modes_supported", json_pack("[s]",
                                                                   "query"));
    json_object_set_new(doc, "grant_types_supported",
                        ngx_http_mcp_oauth_as_grants(ascf));
    json_object_set(doc, "token_endpoint_auth_methods_supported", methods);
    json_object_set_new(doc, "revocation_endpoint_auth_methods_supported",
                        methods);

    /* private_key_jwt: what a client may sign with (RFC 8414 §2) */

    algs = json_pack("[ssssssssss]", "RS256", "RS384", "RS512", "PS256",
                     "PS384", "PS512", "ES256", "ES384", "ES512", "EdDSA");
    json_object_set(doc, "token_endpoint_auth_signing_alg_values_supported",
                    algs);
    json_object_set_new(doc,
                        "revocation_endpoint_auth_signing_alg_values_supported",
                        algs);
    json_object_set_new(doc, "code_challenge_methods_supported",
                        json_pack("[s]", "S256"));
    if (ascf->cimd_uri.len) {
        json_object_set_new(doc, "client_id_metadata_document_supported",
                            json_true());
    }
    json_object_set_new(doc, "authorization_response_iss_parameter_supported",
                        json_true());

    /* OpenID discovery clients refuse a document without these */

    json_object_set_new(doc, "subject_types_supported",
                        json_pack("[s]", "public"));
    json_object_set_new(doc, "id_token_signing_alg_values_supported",
                        json_pack("[s]", ascf->signer->alg));

    if (ngx_http_mcp_oauth_json_out(cf->pool, doc, &ascf->metadata)
        != NGX_OK)
    {
        json_decref(doc);
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "cannot build the authorization server metadata "
                           "(invalid UTF-8 in the issuer or a scope?)");
        return NGX_ERROR;
    }

    json_decref(doc);

    return NGX_OK;

failed:

    json_decref(doc);
    json_decref(scopes);
    json_decref(methods);

    return NGX_ERROR;
}


/* the metadata's issuer and the URLs of the endpoints under it */

static ngx_int_t
ngx_http_mcp_oauth_as_endpoints(ngx_conf_t *cf,
    ngx_http_mcp_oauth_srv_conf_t *ascf, json_t *doc)
{
    char        url[4096];
    ngx_uint_t  i;

    static const char  *endpoints[][2] = {
        { "authorization_endpoint", "/authorize" },
        { "token_endpoint", "/token" },
        { "registration_endpoint", "/register" },
        { "revocation_endpoint", "/revoke" },
        { "jwks_uri", "/jwks" },
    };

    if (ascf->base.len > sizeof(url) - 32) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0, "the issuer is too long");
        return NGX_ERROR;
    }

    json_object_set_new(doc, "issuer",
                        json_stringn((char *) ascf->issuer.data,
                                     ascf->issuer.len));

    for (i = 0; i < sizeof(endpoints) / sizeof(endpoints[0]); i++) {
        *ngx_sprintf((u_char *) url, "%V%s", &ascf->base, endpoints[i][1])
            = '\0';
        json_object_set_new(doc, endpoints[i][0], json_string(url));
    }

    if (ascf->device == NGX_HTTP_MCP_OAUTH_DEVICE_ON) {
        *ngx_sprintf((u_char *) url, "%V/device_authorization", &ascf->base)
            = '\0';
        json_object_set_new(doc, "device_authorization_endpoint",
                            json_string(url));
    }

    return NGX_OK;
}


/*
 * client_credentials only when a configured client may use it, the device
 * code when the server offers the device flow
 */

static json_t *
ngx_http_mcp_oauth_as_grants(ngx_http_mcp_oauth_srv_conf_t *ascf)
{
    json_t                       *grants;
    ngx_uint_t                    i;
    ngx_http_mcp_oauth_client_t  *c;

    grants = json_pack("[ss]", "authorization_code", "refresh_token");
    c = ascf->clients ? ascf->clients->elts : NULL;

    if (ascf->device == NGX_HTTP_MCP_OAUTH_DEVICE_ON) {
        json_array_append_new(grants,
                              json_string(NGX_HTTP_MCP_OAUTH_DEVICE_GRANT));
    }

    /* Enterprise-Managed Authorization: an IdP's ID-JAG (RFC 7523 §2.1) */

    if (ascf->idps) {
        json_array_append_new(grants,
                              json_string(NGX_HTTP_MCP_OAUTH_JWT_BEARER));
    }

    for (i = 0; c && i < ascf->clients->nelts; i++) {
        if (c[i].grants & NGX_HTTP_MCP_OAUTH_GRANT_CLIENT) {
            json_array_append_new(grants, json_string("client_credentials"));
            break;
        }
    }

    return grants;
}


ngx_int_t
ngx_http_mcp_oauth_server_metadata_handler(ngx_http_request_t *r)
{
    ngx_http_mcp_oauth_srv_conf_t  *ascf;

    ascf = ngx_http_get_module_srv_conf(r, ngx_http_mcp_oauth_module);

    return ngx_http_mcp_oauth_as_document(r, "application/json",
                                          &ascf->metadata);
}


ngx_int_t
ngx_http_mcp_oauth_jwks_publish_handler(ngx_http_request_t *r)
{
    ngx_http_mcp_oauth_srv_conf_t  *ascf;

    ascf = ngx_http_get_module_srv_conf(r, ngx_http_mcp_oauth_module);

    return ngx_http_mcp_oauth_as_document(r, "application/jwk-set+json",
                                          &ascf->signer->jwks);
}


/* a public document: GET, HEAD, and CORS preflights */

static ngx_int_t
ngx_http_mcp_oauth_as_document(ngx_http_request_t *r, const char *type,
    ngx_str_t *doc)
{
    ngx_int_t  rc;

    if (r->method == NGX_HTTP_OPTIONS) {
        return ngx_http_mcp_oauth_preflight(r, "GET, HEAD, OPTIONS");
    }

    if (!(r->method & (NGX_HTTP_GET|NGX_HTTP_HEAD))) {
        return NGX_HTTP_NOT_ALLOWED;
    }

    rc = ngx_http_discard_request_body(r);
    if (rc != NGX_OK) {
        return rc;
    }

    return ngx_http_mcp_oauth_as_send(r, NGX_HTTP_OK, type, doc);
}


ngx_http_mcp_oauth_as_ctx_t *
ngx_http_mcp_oauth_as_ctx(ngx_http_request_t *r)
{
    ngx_http_mcp_oauth_ctx_t  *ctx;

    ctx = ngx_http_mcp_oauth_ctx(r);
    if (ctx == NULL) {
        return NULL;
    }

    if (ctx->as == NULL) {
        ctx->as = ngx_pcalloc(r->pool, sizeof(ngx_http_mcp_oauth_as_ctx_t));
    }

    return ctx->as;
}


/*
 * The body of a POST, parsed as form parameters into ctx->params.
 * NGX_OK: done; NGX_DONE: being read, the handler runs again when it is;
 * an HTTP status: refused.
 */

ngx_int_t
ngx_http_mcp_oauth_as_body(ngx_http_request_t *r,
    ngx_http_mcp_oauth_as_ctx_t *ctx, size_t max)
{
    ngx_int_t  rc;

    if (ctx->body_read) {
        if (ngx_http_mcp_oauth_body_size(r) > (off_t) max) {
            return NGX_HTTP_REQUEST_ENTITY_TOO_LARGE;
        }

        return NGX_OK;
    }

    if (r->headers_in.content_length_n > (off_t) max) {
        return NGX_HTTP_REQUEST_ENTITY_TOO_LARGE;
    }

    rc = ngx_http_read_client_request_body(r, ngx_http_mcp_oauth_as_body_done);

    if (rc >= NGX_HTTP_SPECIAL_RESPONSE) {
        return rc;
    }

    return NGX_DONE;
}


static void
ngx_http_mcp_oauth_as_body_done(ngx_http_request_t *r)
{
    ngx_http_mcp_oauth_as_ctx_t  *ctx;

    ctx = ngx_http_mcp_oauth_as_ctx(r);
    if (ctx == NULL) {
        ngx_http_finalize_request(r, NGX_HTTP_INTERNAL_SERVER_ERROR);
        return;
    }

    ctx->body_read = 1;

    /* the content handler runs again, now with the body */

    r->write_event_handler = ngx_http_core_run_phases;
    ngx_http_core_run_phases(r);
}


/* an answer of an endpoint: never cached, readable cross-origin */

ngx_int_t
ngx_http_mcp_oauth_as_send(ngx_http_request_t *r, ngx_uint_t status,
    const char *type, ngx_str_t *body)
{
    if (ngx_http_mcp_oauth_add_header(r, "Access-Control-Allow-Origin", "*")
        != NGX_OK
        || ngx_http_mcp_oauth_add_header(r, "Cache-Control", "no-store")
           != NGX_OK
        || ngx_http_mcp_oauth_add_header(r, "Pragma", "no-cache") != NGX_OK)
    {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    return ngx_http_mcp_oauth_send_body(r, status, type, body);
}


/*
 * A helper that finds an error keeps it (and returns NGX_DECLINED); the
 * handler answers it.  Sending it from the helper would let the handler
 * carry on after the answer.
 */

ngx_int_t
ngx_http_mcp_oauth_as_error_set(ngx_http_mcp_oauth_as_ctx_t *ctx,
    ngx_uint_t status, const char *error, const char *description)
{
    ctx->err_status = status;
    ctx->err = error;
    ctx->err_desc = description;

    return NGX_DECLINED;
}


/*
 * What an endpoint answering JSON returns for a step's code: NGX_AGAIN
 * (the state is asked, the handler runs again), NGX_ABORT (the state is
 * unavailable: 503, RFC 6749 §5.2 has no better error), NGX_ERROR (500).
 */

ngx_int_t
ngx_http_mcp_oauth_as_done(ngx_http_request_t *r, ngx_int_t rc)
{
    switch (rc) {

    case NGX_AGAIN:
        return NGX_DONE;

    case NGX_ABORT:
        return ngx_http_mcp_oauth_as_error(r, NGX_HTTP_SERVICE_UNAVAILABLE,
                                           "temporarily_unavailable",
                                           "the authorization server's state "
                                           "is unavailable, try again later");

    case NGX_ERROR:
        return NGX_HTTP_INTERNAL_SERVER_ERROR;

    default:
        return rc;
    }
}


ngx_int_t
ngx_http_mcp_oauth_as_error_send(ngx_http_request_t *r,
    ngx_http_mcp_oauth_as_ctx_t *ctx)
{
    return ngx_http_mcp_oauth_as_error(r, ctx->err_status, ctx->err,
                                       ctx->err_desc);
}


ngx_int_t
ngx_http_mcp_oauth_as_error(ngx_http_request_t *r, ngx_uint_t status,
    const char *error, const char *description)
{
    ngx_str_t  body;

    ngx_log_error(NGX_LOG_INFO, r->connection->log, 0,
                  "mcp_oauth: %V: %s: %s", &r->uri, error, description);

    ngx_http_mcp_oauth_count(r, NGX_HTTP_MCP_OAUTH_M_TOKEN_ERRORS, error,
                             NULL);

    body.data = ngx_pnalloc(r->pool, ngx_strlen(error)
                                     + ngx_strlen(description) + 64);
    if (body.data == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    /* both are constants of the module, nothing to escape */

    body.len = ngx_sprintf(body.data,
                           "{\"error\":\"%s\",\"error_description\":\"%s\"}",
                           error, description)
               - body.data;

    if (status == NGX_HTTP_UNAUTHORIZED
        && r->headers_in.authorization
        && ngx_http_mcp_oauth_add_header(r, "WWW-Authenticate",
                                         "Basic realm=\"token\"")
           != NGX_OK)
    {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    return ngx_http_mcp_oauth_as_send(r, status, "application/json", &body);
}


/* the configured resource "resource" names (RFC 8707), or the first one */

ngx_str_t *
ngx_http_mcp_oauth_resource_find(ngx_http_mcp_oauth_srv_conf_t *ascf,
    ngx_str_t *resource)
{
    ngx_str_t   *s;
    ngx_uint_t   i;

    s = ascf->resources->elts;

    if (resource->len == 0) {
        return &s[0];
    }

    for (i = 0; i < ascf->resources->nelts; i++) {
        if (s[i].len == resource->len
            && ngx_strncmp(s[i].data, resource->data, resource->len) == 0)
        {
            return &s[i];
        }
    }

    return NULL;
}


