
/*
 * ngx_mcp_oauth_module: the access phase handler.  Takes the bearer token,
 * verifies it against the location's keys and claims, checks the baseline
 * scopes, and lets the request through without the token.
 */

#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include "ngx_http_mcp_oauth_module.h"
#include "ngx_http_mcp_oauth_state.h"


static ngx_int_t ngx_http_mcp_oauth_verify(ngx_http_request_t *r,
    ngx_http_mcp_oauth_loc_conf_t *mlcf, ngx_http_mcp_oauth_ctx_t *ctx);
static ngx_int_t ngx_http_mcp_oauth_verify_cached(ngx_http_request_t *r,
    ngx_http_mcp_oauth_loc_conf_t *mlcf, ngx_http_mcp_oauth_ctx_t *ctx,
    ngx_shm_zone_t *cache, ngx_http_mcp_oauth_cache_keys_t *keys);
static ngx_int_t ngx_http_mcp_oauth_verify_decode(ngx_http_request_t *r,
    ngx_http_mcp_oauth_loc_conf_t *mlcf, ngx_http_mcp_oauth_ctx_t *ctx,
    char **err);
static ngx_int_t ngx_http_mcp_oauth_verify_signature(ngx_http_request_t *r,
    ngx_http_mcp_oauth_loc_conf_t *mlcf, ngx_http_mcp_oauth_ctx_t *ctx,
    char **err);
static ngx_int_t ngx_http_mcp_oauth_verify_claims(ngx_http_request_t *r,
    ngx_http_mcp_oauth_loc_conf_t *mlcf, ngx_http_mcp_oauth_ctx_t *ctx,
    char **err);
static ngx_int_t ngx_http_mcp_oauth_check_scopes(ngx_http_request_t *r,
    ngx_http_mcp_oauth_loc_conf_t *mlcf, ngx_http_mcp_oauth_ctx_t *ctx);
static ngx_int_t ngx_http_mcp_oauth_unavailable(ngx_http_request_t *r,
    ngx_http_mcp_oauth_ctx_t *ctx);
static ngx_uint_t ngx_http_mcp_oauth_headers_named(ngx_http_request_t *r,
    const char *name, ngx_table_elt_t **first);
static ngx_int_t ngx_http_mcp_oauth_access(ngx_http_request_t *r);
static void ngx_http_mcp_oauth_count_messages(ngx_http_request_t *r,
    ngx_http_mcp_oauth_ctx_t *ctx, const char *decision);


/* the MCP methods counted by name; others count as "other" */
static ngx_str_t  ngx_http_mcp_oauth_methods[] = {
    ngx_string("initialize"),
    ngx_string("ping"),
    ngx_string("tools/list"),
    ngx_string("tools/call"),
    ngx_string("resources/list"),
    ngx_string("resources/read"),
    ngx_string("resources/templates/list"),
    ngx_string("resources/subscribe"),
    ngx_string("resources/unsubscribe"),
    ngx_string("prompts/list"),
    ngx_string("prompts/get"),
    ngx_string("completion/complete"),
    ngx_string("logging/setLevel"),
    ngx_string("notifications/initialized"),
    ngx_string("notifications/cancelled"),
    ngx_string("notifications/progress"),
    ngx_string("notifications/roots/list_changed"),
    ngx_null_string
};


ngx_int_t
ngx_http_mcp_oauth_access_handler(ngx_http_request_t *r)
{
    ngx_int_t  rc;

    rc = ngx_http_mcp_oauth_access(r);

    /*
     * A refusal answered here (ngx_http_mcp_oauth_deny_answer) was counted
     * before the request was finalized, which may be gone (NGX_DONE): it is
     * not touched.
     */

    if (rc != NGX_DECLINED && rc != NGX_AGAIN && rc != NGX_DONE) {
        ngx_http_mcp_oauth_decided(r, rc);
    }

    return rc;
}


/*
 * What was decided, for $mcp_oauth_decision and the metrics: the decision,
 * its reason (the error description), and each JSON-RPC message's method
 * and tool.
 */

void
ngx_http_mcp_oauth_decided(ngx_http_request_t *r, ngx_int_t rc)
{
    const char                      *decision;
    ngx_http_mcp_oauth_ctx_t        *ctx;
    ngx_http_mcp_oauth_main_conf_t  *mmcf;

    ctx = ngx_http_get_module_ctx(r, ngx_http_mcp_oauth_module);
    if (ctx == NULL || ctx->decision) {
        /* counted once: "satisfy any" asks again after a refusal */
        return;
    }

    switch (rc) {

    case NGX_OK:
        decision = "allowed";
        break;

    case NGX_HTTP_UNAUTHORIZED:
        decision = "unauthorized";
        break;

    case NGX_HTTP_FORBIDDEN:
        decision = "forbidden";
        break;

    case NGX_HTTP_REQUEST_ENTITY_TOO_LARGE:
        decision = "too_large";
        break;

    case NGX_HTTP_SERVICE_UNAVAILABLE:
        decision = "unavailable";
        break;

    case NGX_HTTP_INTERNAL_SERVER_ERROR:
    case NGX_ERROR:
        decision = "error";
        break;

    default:
        decision = "bad_request";
    }

    ctx->decision = decision;

    /* no mcp_oauth_metrics anywhere: the messages are not walked again */

    mmcf = ngx_http_get_module_main_conf(r, ngx_http_mcp_oauth_module);
    if (mmcf->metrics == NULL) {
        return;
    }

    if (rc == NGX_OK) {
        ngx_http_mcp_oauth_metric_add_fixed(r, NGX_HTTP_MCP_OAUTH_M_REQUESTS,
                                            "allowed", 7, NULL, 0);

    } else {
        /* a reason may be built for the request: not a fixed label */
        ngx_http_mcp_oauth_metric_add(r, NGX_HTTP_MCP_OAUTH_M_REQUESTS,
                                      decision, ngx_strlen(decision),
                                      (char *) ctx->error.data,
                                      ctx->error.len, 1);
    }

    ngx_http_mcp_oauth_count_messages(r, ctx, decision);
}


static void
ngx_http_mcp_oauth_count_messages(ngx_http_request_t *r,
    ngx_http_mcp_oauth_ctx_t *ctx, const char *decision)
{
    u_char                         label[65];
    ngx_str_t                     *known;
    ngx_uint_t                     i;
    ngx_http_mcp_oauth_msg_t      *msg;
    ngx_http_mcp_oauth_rule_t     *rule;
    ngx_http_mcp_oauth_loc_conf_t *mlcf;

    if (ctx->msgs == NULL) {
        return;
    }

    mlcf = ngx_http_get_module_loc_conf(r, ngx_http_mcp_oauth_module);
    msg = ctx->msgs->elts;

    for (i = 0; i < ctx->msgs->nelts; i++) {
        if (!msg[i].method_string) {
            continue;
        }

        for (known = ngx_http_mcp_oauth_methods; known->len; known++) {
            if (known->len == msg[i].method.len
                && ngx_strncmp(known->data, msg[i].method.data, known->len)
                   == 0)
            {
                break;
            }
        }

        ngx_http_mcp_oauth_metric_add_fixed(r, NGX_HTTP_MCP_OAUTH_M_METHODS,
                                            known->len ? (char *) known->data
                                                       : "other",
                                            known->len ? known->len : 5,
                                            NULL, 0);

        if (known - ngx_http_mcp_oauth_methods != 3 || !msg[i].name_string) {
            continue;
        }

        /* tools/call: its rule's name ("prefix*"), else "other" */

        rule = mlcf->tools ? ngx_http_mcp_oauth_rules_match(mlcf->tools,
                                                            msg[i].name.data,
                                                            msg[i].name.len)
                           : NULL;

        if (rule && !rule->prefix) {
            ngx_http_mcp_oauth_metric_add_fixed(r,
                                            NGX_HTTP_MCP_OAUTH_M_TOOL_CALLS,
                                            (char *) rule->name.data,
                                            rule->name.len, decision,
                                            ngx_strlen(decision));
            continue;
        }

        if (rule && rule->name.len < sizeof(label) - 1) {
            ngx_memcpy(label, rule->name.data, rule->name.len);
            label[rule->name.len] = '*';

            ngx_http_mcp_oauth_metric_add(r, NGX_HTTP_MCP_OAUTH_M_TOOL_CALLS,
                                          (char *) label,
                                          rule->name.len + rule->prefix,
                                          decision, ngx_strlen(decision), 1);
            continue;
        }

        ngx_http_mcp_oauth_metric_add_fixed(r, NGX_HTTP_MCP_OAUTH_M_TOOL_CALLS,
                                            "other", 5, decision,
                                            ngx_strlen(decision));
    }
}


static ngx_int_t
ngx_http_mcp_oauth_access(ngx_http_request_t *r)
{
    char                           *err;
    ngx_int_t                       rc;
    ngx_http_mcp_oauth_ctx_t       *ctx;
    ngx_http_mcp_oauth_loc_conf_t  *mlcf;

    mlcf = ngx_http_get_module_loc_conf(r, ngx_http_mcp_oauth_module);

    if (!mlcf->enable || r != r->main) {
        return NGX_DECLINED;
    }

    /*
     * A CORS preflight carries no credentials and no body (Fetch §4.8);
     * an OPTIONS request with either is checked like any other.
     */

    if (r->method == NGX_HTTP_OPTIONS
        && r->headers_in.authorization == NULL
        && r->headers_in.content_length_n <= 0
        && !r->headers_in.chunked
        && ngx_http_mcp_oauth_header_in(r, "Access-Control-Request-Method"))
    {
        return NGX_DECLINED;
    }

    ctx = ngx_http_mcp_oauth_ctx(r);
    if (ctx == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    if (ctx->conf != mlcf) {
        /* a new location: everything is checked again against it */
        ctx->conf = mlcf;
        ctx->verified = 0;
        ctx->fetched = 0;
        ctx->sleeps = 0;
        ngx_str_null(&ctx->error);
    }

    if (ctx->fetching) {
        return NGX_AGAIN;
    }

    if (ctx->token.len == 0) {
        rc = ngx_http_mcp_oauth_token_get(r, &ctx->token, &err);

        if (rc == NGX_DECLINED) {
            return ngx_http_mcp_oauth_deny(r, ctx, NGX_HTTP_UNAUTHORIZED, NULL,
                                           "no bearer token",
                                           &mlcf->required_scope, NULL);
        }

        if (rc != NGX_OK) {
            return ngx_http_mcp_oauth_deny(r, ctx, NGX_HTTP_UNAUTHORIZED,
                                           "invalid_token", err, NULL, NULL);
        }
    }

    if (!ctx->verified) {
        rc = ngx_http_mcp_oauth_verify(r, mlcf, ctx);
        if (rc != NGX_OK) {
            return rc;
        }
    }

    return ngx_http_mcp_oauth_check_scopes(r, mlcf, ctx);
}


/*
 * Before access: POST bodies are read here, so that $mcp_oauth_method and
 * $mcp_oauth_tool are there for limit_req (its handler runs after this one).
 */

ngx_int_t
ngx_http_mcp_oauth_preaccess_handler(ngx_http_request_t *r)
{
    ngx_http_mcp_oauth_ctx_t       *ctx;
    ngx_http_mcp_oauth_loc_conf_t  *mlcf;

    mlcf = ngx_http_get_module_loc_conf(r, ngx_http_mcp_oauth_module);

    if (!mlcf->enable || !mlcf->jsonrpc || r != r->main
        || r->method != NGX_HTTP_POST)
    {
        return NGX_DECLINED;
    }

    ctx = ngx_http_mcp_oauth_ctx(r);
    if (ctx == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    return ngx_http_mcp_oauth_read_body(r, ctx);
}


/*
 * The token's signature and claims: from the verified-token cache when the
 * same token was verified with the same keys before, else decoded and
 * verified here (and then cached).  The location's claim checks run always.
 */

static ngx_int_t
ngx_http_mcp_oauth_verify(ngx_http_request_t *r,
    ngx_http_mcp_oauth_loc_conf_t *mlcf, ngx_http_mcp_oauth_ctx_t *ctx)
{
    char                             *err;
    ngx_int_t                         rc;
    ngx_shm_zone_t                   *cache;
    ngx_http_mcp_oauth_main_conf_t   *mmcf;
    ngx_http_mcp_oauth_cache_keys_t   keys;

    mmcf = ngx_http_get_module_main_conf(r, ngx_http_mcp_oauth_module);
    cache = mmcf->cache;

    if (ngx_http_mcp_oauth_verify_cached(r, mlcf, ctx, cache, &keys)
        != NGX_OK)
    {
        if (ngx_http_mcp_oauth_token_check(&ctx->token) != NGX_OK) {
            return ngx_http_mcp_oauth_deny(r, ctx, NGX_HTTP_UNAUTHORIZED,
                                           "invalid_token",
                                           "malformed bearer token",
                                           NULL, NULL);
        }

        rc = ngx_http_mcp_oauth_verify_decode(r, mlcf, ctx, &err);

        if (rc == NGX_OK) {
            rc = ngx_http_mcp_oauth_verify_signature(r, mlcf, ctx, &err);
        }

        if (rc == NGX_DECLINED) {
            return ngx_http_mcp_oauth_deny(r, ctx, NGX_HTTP_UNAUTHORIZED,
                                           "invalid_token", err, NULL, NULL);
        }

        if (rc != NGX_OK) {
            return rc;
        }

        if (cache && ctx->claims.exp > ngx_time()) {
            if (mlcf->jwks_remote) {
                keys.generation =
                       ngx_http_mcp_oauth_jwks_remote_parsed(mlcf->jwks_remote);
            }

            ngx_http_mcp_oauth_cache_put(cache, &ctx->token, &keys,
                                         &ctx->claims);
        }
    }

    rc = ngx_http_mcp_oauth_verify_claims(r, mlcf, ctx, &err);

    if (rc == NGX_DECLINED) {
        return ngx_http_mcp_oauth_deny(r, ctx, NGX_HTTP_UNAUTHORIZED,
                                       "invalid_token", err, NULL, NULL);
    }

    if (rc != NGX_OK) {
        return rc;
    }

    ctx->verified = 1;

    ngx_log_debug1(NGX_LOG_DEBUG_HTTP, r->connection->log, 0,
                   "mcp_oauth: token verified, scope \"%V\"",
                   &ctx->claims.scope);

    return NGX_OK;
}


/* NGX_OK: the claims of the token are in the cache, verified by *keys */

static ngx_int_t
ngx_http_mcp_oauth_verify_cached(ngx_http_request_t *r,
    ngx_http_mcp_oauth_loc_conf_t *mlcf, ngx_http_mcp_oauth_ctx_t *ctx,
    ngx_shm_zone_t *cache, ngx_http_mcp_oauth_cache_keys_t *keys)
{
    ngx_int_t  rc;

    keys->file = (uintptr_t) mlcf->jwks;
    keys->remote = (uintptr_t) mlcf->jwks_remote;
    keys->generation = 0;

    if (cache == NULL) {
        return NGX_DECLINED;
    }

    rc = NGX_DECLINED;

    if ((mlcf->jwks_remote == NULL
         || ngx_http_mcp_oauth_jwks_remote_generation(r, mlcf->jwks_remote,
                                                      &keys->generation)
            == NGX_OK)
        && ngx_http_mcp_oauth_cache_get(cache, r->pool, &ctx->token, keys,
                                        ngx_time(), &ctx->claims)
           == NGX_OK)
    {
        ngx_log_debug0(NGX_LOG_DEBUG_HTTP, r->connection->log, 0,
                       "mcp_oauth: token found in the cache");
        rc = NGX_OK;
    }

    if (!ctx->cache_counted) {
        /* once a request: not again when the handler runs after a fetch */
        ctx->cache_counted = 1;
        ngx_http_mcp_oauth_metric_add_fixed(r, NGX_HTTP_MCP_OAUTH_M_CACHE,
                                            (rc == NGX_OK) ? "hit" : "miss",
                                            (rc == NGX_OK) ? 3 : 4, NULL, 0);
    }

    return rc;
}


/* the token decoded, its claims read, not expired; NGX_DECLINED: *err */

static ngx_int_t
ngx_http_mcp_oauth_verify_decode(ngx_http_request_t *r,
    ngx_http_mcp_oauth_loc_conf_t *mlcf, ngx_http_mcp_oauth_ctx_t *ctx,
    char **err)
{
    if (!ctx->decoded) {
        if (ngx_http_mcp_oauth_jwt_parse(r->pool, &ctx->token, &ctx->jwt, err)
            != NGX_OK)
        {
            return NGX_DECLINED;
        }

        /*
         * The claims are read before the signature only to refuse an
         * expired token early: a client looping on one would otherwise
         * cost a signature check each time (nothing is accepted here).
         */

        if (ngx_http_mcp_oauth_claims_extract(r->pool, &ctx->jwt,
                                              &ctx->claims, err)
            != NGX_OK)
        {
            return NGX_DECLINED;
        }

        ctx->decoded = 1;
    }

    if (ngx_time() >= ctx->claims.exp + mlcf->leeway) {
        *err = "token expired";
        return NGX_DECLINED;
    }

    return NGX_OK;
}


/*
 * The signature, by the location's keys or the fetched ones (fetched again
 * for a kid not known yet).  NGX_DECLINED: *err; else what the handler
 * returns.
 */

static ngx_int_t
ngx_http_mcp_oauth_verify_signature(ngx_http_request_t *r,
    ngx_http_mcp_oauth_loc_conf_t *mlcf, ngx_http_mcp_oauth_ctx_t *ctx,
    char **err)
{
    ngx_int_t                     rc;
    ngx_http_mcp_oauth_keyset_t  *sets[2];

    sets[0] = mlcf->jwks;
    sets[1] = NULL;

    if (mlcf->jwks_remote) {
        rc = ngx_http_mcp_oauth_jwks_remote_keys(r, ctx, mlcf->jwks_remote, 0,
                                                 &sets[1]);
        if (rc == NGX_AGAIN) {
            return NGX_AGAIN;
        }

        if (rc != NGX_OK) {
            return NGX_HTTP_INTERNAL_SERVER_ERROR;
        }
    }

    rc = ngx_http_mcp_oauth_jwt_verify(&ctx->jwt, sets, 2, err);

    if (rc == NGX_DECLINED && mlcf->jwks_remote) {
        /* a kid we do not know yet: the IAM may have rotated its keys */

        rc = ngx_http_mcp_oauth_jwks_remote_keys(r, ctx, mlcf->jwks_remote, 1,
                                                 &sets[1]);
        if (rc == NGX_AGAIN) {
            return NGX_AGAIN;
        }

        if (rc != NGX_OK) {
            return NGX_HTTP_INTERNAL_SERVER_ERROR;
        }

        rc = ngx_http_mcp_oauth_jwt_verify(&ctx->jwt, sets, 2, err);

        if (rc == NGX_DECLINED && sets[1] == NULL) {
            return ngx_http_mcp_oauth_unavailable(r, ctx);
        }
    }

    return (rc == NGX_OK) ? NGX_OK : NGX_DECLINED;
}


/*
 * The location's claim checks, and a grant revoked at this server's
 * authorization server (RFC 7009), on this node or, with a fleet's state,
 * on another (NGX_AGAIN: their revocations are read).  NGX_DECLINED: *err.
 */

static ngx_int_t
ngx_http_mcp_oauth_verify_claims(ngx_http_request_t *r,
    ngx_http_mcp_oauth_loc_conf_t *mlcf, ngx_http_mcp_oauth_ctx_t *ctx,
    char **err)
{
    ngx_int_t                          rc;
    ngx_http_mcp_oauth_claims_conf_t   cc;
    ngx_http_mcp_oauth_issued_t       *issued;

    cc.issuers = mlcf->issuers;
    cc.audience = mlcf->resource;
    cc.leeway = mlcf->leeway;
    cc.now = ngx_time();

    if (ngx_http_mcp_oauth_claims_check(&ctx->claims, &cc, err) != NGX_OK) {
        return NGX_DECLINED;
    }

    issued = ngx_http_get_module_srv_conf(r, ngx_http_mcp_oauth_module);

    if (issued->issuer.len == 0 || ctx->claims.sid.len == 0
        || ctx->claims.iss.len != issued->issuer.len
        || ngx_strncmp(ctx->claims.iss.data, issued->issuer.data,
                       issued->issuer.len) != 0)
    {
        return NGX_OK;
    }

    rc = ngx_http_mcp_oauth_state_sync(r, issued, &ctx->revocations);
    if (rc != NGX_OK) {
        return rc;
    }

    if (ngx_http_mcp_oauth_state_revoked(issued->zone, &ctx->claims.sid)
        == NGX_OK)
    {
        *err = "token revoked";
        return NGX_DECLINED;
    }

    return NGX_OK;
}


static ngx_int_t
ngx_http_mcp_oauth_check_scopes(ngx_http_request_t *r,
    ngx_http_mcp_oauth_loc_conf_t *mlcf, ngx_http_mcp_oauth_ctx_t *ctx)
{
    ngx_int_t  rc;

    /*
     * JSON-RPC messages are POSTed (MCP Streamable HTTP); the per-call rules
     * read POST bodies only, so a body sent with another method (a PUT, or a
     * GET with a body) would reach an upstream that routes every method to
     * its handler with the baseline scope checked alone.
     */

    if (r->method != NGX_HTTP_POST && mlcf->jsonrpc
        && (r->headers_in.content_length_n > 0 || r->headers_in.chunked))
    {
        ngx_log_error(NGX_LOG_INFO, r->connection->log, 0,
                      "mcp_oauth: a %V request with a body; JSON-RPC "
                      "messages are sent with POST", &r->method_name);

        ngx_str_set(&ctx->error, "request body not allowed with this method");

        if (ngx_http_mcp_oauth_add_header(r, "Allow", "POST") != NGX_OK) {
            return NGX_HTTP_INTERNAL_SERVER_ERROR;
        }

        return NGX_HTTP_NOT_ALLOWED;
    }

    if (r->method == NGX_HTTP_POST && mlcf->jsonrpc) {
        /* the baseline and what the JSON-RPC call needs, in one answer */

        rc = ngx_http_mcp_oauth_jsonrpc(r, mlcf, ctx);
        if (rc != NGX_OK) {
            return rc;
        }

    } else if (mlcf->required_scopes
               && !ngx_http_mcp_oauth_granted(ctx, mlcf->required_scopes))
    {
        return ngx_http_mcp_oauth_deny(r, ctx, NGX_HTTP_FORBIDDEN,
                                       "insufficient_scope",
                                       "insufficient scope",
                                       &mlcf->required_scope, NULL);
    }

    /* MCP security best practices: the token stays here */

    if (!mlcf->pass_token && ngx_http_mcp_oauth_token_remove(r) != NGX_OK) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    return NGX_OK;
}


static ngx_int_t
ngx_http_mcp_oauth_unavailable(ngx_http_request_t *r,
    ngx_http_mcp_oauth_ctx_t *ctx)
{
    ngx_table_elt_t  *h;

    static ngx_str_t  body = ngx_string(
        "{\"error\":\"temporarily_unavailable\","
        "\"error_description\":\"signing keys are not available\"}");

    ngx_log_error(NGX_LOG_INFO, r->connection->log, 0,
                  "mcp_oauth: no signing keys available to verify the token");

    ngx_str_set(&ctx->error, "signing keys are not available");

    h = ngx_list_push(&r->headers_out.headers);
    if (h == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    h->hash = 1;
    ngx_str_set(&h->key, "Retry-After");
    ngx_str_set(&h->value, "5");
#if (nginx_version >= 1023000)
    h->next = NULL;
#endif

    return ngx_http_mcp_oauth_deny_answer(r, NGX_HTTP_SERVICE_UNAVAILABLE,
                                          &body);
}


ngx_table_elt_t *
ngx_http_mcp_oauth_header_in(ngx_http_request_t *r, const char *name)
{
    ngx_table_elt_t  *h;

    (void) ngx_http_mcp_oauth_headers_named(r, name, &h);

    return h;
}


ngx_uint_t
ngx_http_mcp_oauth_header_count(ngx_http_request_t *r, const char *name)
{
    ngx_table_elt_t  *h;

    return ngx_http_mcp_oauth_headers_named(r, name, &h);
}


/* how many request headers have the name; *first is the first of them */

static ngx_uint_t
ngx_http_mcp_oauth_headers_named(ngx_http_request_t *r, const char *name,
    ngx_table_elt_t **first)
{
    size_t            len;
    ngx_uint_t        i, n;
    ngx_list_part_t  *part;
    ngx_table_elt_t  *h;

    *first = NULL;
    n = 0;
    len = ngx_strlen(name);
    part = &r->headers_in.headers.part;
    h = part->elts;

    for (i = 0; /* void */ ; i++) {

        if (i >= part->nelts) {
            if (part->next == NULL) {
                return n;
            }

            part = part->next;
            h = part->elts;
            i = 0;
        }

        if (h[i].key.len == len
            && ngx_strncasecmp(h[i].key.data, (u_char *) name, len) == 0)
        {
            if (n++ == 0) {
                *first = &h[i];
            }
        }
    }
}

