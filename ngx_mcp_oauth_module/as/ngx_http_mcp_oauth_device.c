
/*
 * ngx_mcp_oauth_module: the device authorization grant (RFC 8628), for
 * clients without a browser (a CLI on a server, in an SSH session).
 *
 * /device_authorization gives the client a device code (long, random, kept
 * hashed) and the user a short code; the user signs in at the verification
 * page (behind the same nginx authentication as /authorize), enters the
 * code and sees the consent of /authorize; the client polls /token until
 * the user decided.  Two records in the state, so that the page and the
 * polls never write the same one:
 *
 *   the device code's: its user code, client, expiry, the interval and the
 *       last poll (written by the polls: slow_down);
 *   the user code's: client, scope, resource, expiry, the decision, the
 *       user and the grant's id (written once by the page; used once by
 *       the poll that gets the token).
 *
 * Both outlive the code by its lifetime, so that a late poll is told
 * expired_token.  Wrong codes are counted per signed-in user, and every
 * attempt per user code (ENTRY_ATTEMPTS).
 */

#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include "ngx_http_mcp_oauth_module.h"
#include "ngx_http_mcp_oauth_as.h"


/* 19 letters: no vowels (no words), no 0/O, 1/I/L look-alikes */
#define NGX_HTTP_MCP_OAUTH_USER_ALPHABET  "BCDFGHJKMNPQRSTVWXZ"
#define NGX_HTTP_MCP_OAUTH_USER_CODE_LEN  8

/* user codes tried when one is taken already */
#define NGX_HTTP_MCP_OAUTH_USER_CODE_TRIES  3

/* a poll this much sooner than the interval is still in time (ms) */
#define NGX_HTTP_MCP_OAUTH_POLL_JITTER  500


/* the fields of a device code's record */
enum {
    NGX_HTTP_MCP_OAUTH_D_USER_CODE = 0,
    NGX_HTTP_MCP_OAUTH_D_CLIENT,
    NGX_HTTP_MCP_OAUTH_D_EXPIRES,
    NGX_HTTP_MCP_OAUTH_D_INTERVAL,
    NGX_HTTP_MCP_OAUTH_D_POLLED,        /* ms since the epoch, or empty */
    NGX_HTTP_MCP_OAUTH_D_N
};

/* the fields of a user code's record */
enum {
    NGX_HTTP_MCP_OAUTH_U_CLIENT = 0,
    NGX_HTTP_MCP_OAUTH_U_SCOPE,
    NGX_HTTP_MCP_OAUTH_U_RESOURCE,
    NGX_HTTP_MCP_OAUTH_U_EXPIRES,
    NGX_HTTP_MCP_OAUTH_U_STATUS,        /* pending, approved, denied */
    NGX_HTTP_MCP_OAUTH_U_SUB,
    NGX_HTTP_MCP_OAUTH_U_SID,
    NGX_HTTP_MCP_OAUTH_U_N
};


/* the verification page's request */
typedef struct {
    u_char                        code[NGX_HTTP_MCP_OAUTH_USER_CODE_LEN + 1];
    ngx_str_t                     shown;       /* "XXXX-XXXX" */
    u_char                        key[32];     /* of its record */
    ngx_str_t                     rec;
    ngx_str_t                     u[NGX_HTTP_MCP_OAUTH_U_N];
    ngx_uint_t                    found;
    ngx_uint_t                    client;      /* its client is known */
    u_char                        user_key[32];   /* attempts by the user */
    u_char                        code_key[32];   /* and with the code */
    ngx_http_mcp_oauth_authz_t    a;
} ngx_http_mcp_oauth_device_page_t;


static ngx_int_t ngx_http_mcp_oauth_device_start(ngx_http_request_t *r,
    ngx_http_mcp_oauth_srv_conf_t *ascf, ngx_http_mcp_oauth_as_ctx_t *ctx);
static ngx_int_t ngx_http_mcp_oauth_device_keep(ngx_http_request_t *r,
    ngx_http_mcp_oauth_srv_conf_t *ascf, ngx_http_mcp_oauth_as_ctx_t *ctx,
    ngx_str_t *u, ngx_str_t *code);
static ngx_int_t ngx_http_mcp_oauth_device_answer(ngx_http_request_t *r,
    ngx_http_mcp_oauth_srv_conf_t *ascf, ngx_http_mcp_oauth_as_ctx_t *ctx,
    ngx_str_t *code);
static ngx_int_t ngx_http_mcp_oauth_device_code(ngx_http_request_t *r,
    ngx_http_mcp_oauth_srv_conf_t *ascf, ngx_http_mcp_oauth_as_ctx_t *ctx,
    u_char *key, ngx_str_t *rec, ngx_str_t *d);
static ngx_int_t ngx_http_mcp_oauth_device_pace(ngx_http_request_t *r,
    ngx_http_mcp_oauth_srv_conf_t *ascf, ngx_http_mcp_oauth_as_ctx_t *ctx,
    u_char *key, ngx_str_t *rec, ngx_str_t *d);
static ngx_int_t ngx_http_mcp_oauth_device_verify(ngx_http_request_t *r,
    ngx_http_mcp_oauth_srv_conf_t *ascf, ngx_http_mcp_oauth_as_ctx_t *ctx);
static ngx_int_t ngx_http_mcp_oauth_device_find(ngx_http_request_t *r,
    ngx_http_mcp_oauth_srv_conf_t *ascf, ngx_http_mcp_oauth_as_ctx_t *ctx,
    ngx_http_mcp_oauth_device_page_t *dp);
static ngx_int_t ngx_http_mcp_oauth_device_limit(ngx_http_request_t *r,
    ngx_http_mcp_oauth_srv_conf_t *ascf, ngx_http_mcp_oauth_as_ctx_t *ctx,
    ngx_http_mcp_oauth_device_page_t *dp);
static ngx_int_t ngx_http_mcp_oauth_device_usable(ngx_http_request_t *r,
    ngx_http_mcp_oauth_srv_conf_t *ascf, ngx_http_mcp_oauth_device_page_t *dp);
static ngx_int_t ngx_http_mcp_oauth_device_consent(ngx_http_request_t *r,
    ngx_http_mcp_oauth_srv_conf_t *ascf, ngx_http_mcp_oauth_as_ctx_t *ctx,
    ngx_http_mcp_oauth_device_page_t *dp);
static ngx_int_t ngx_http_mcp_oauth_device_decide(ngx_http_request_t *r,
    ngx_http_mcp_oauth_srv_conf_t *ascf, ngx_http_mcp_oauth_as_ctx_t *ctx,
    ngx_http_mcp_oauth_device_page_t *dp);
static ngx_int_t ngx_http_mcp_oauth_device_form(ngx_http_request_t *r,
    ngx_uint_t status, ngx_str_t *user, ngx_str_t *code, const char *message);
static ngx_int_t ngx_http_mcp_oauth_attempts(ngx_http_request_t *r,
    ngx_http_mcp_oauth_as_ctx_t *ctx, u_char *key, ngx_str_t *rec,
    ngx_int_t *n);
static ngx_int_t ngx_http_mcp_oauth_attempt(ngx_http_request_t *r,
    ngx_http_mcp_oauth_srv_conf_t *ascf, ngx_http_mcp_oauth_as_ctx_t *ctx,
    u_char *key);
static void ngx_http_mcp_oauth_user_code(ngx_str_t *seed, ngx_uint_t i,
    u_char *code);
static ngx_int_t ngx_http_mcp_oauth_user_code_parse(ngx_str_t *in,
    u_char *code);
static ngx_int_t ngx_http_mcp_oauth_user_code_show(ngx_pool_t *pool,
    u_char *code, ngx_str_t *out);
static void ngx_http_mcp_oauth_user_code_key(
    ngx_http_mcp_oauth_srv_conf_t *ascf, u_char *code, u_char *key);
static ngx_int_t ngx_http_mcp_oauth_device_number(ngx_pool_t *pool,
    int64_t n, ngx_str_t *out);
static int64_t ngx_http_mcp_oauth_device_now_ms(void);
static ngx_int_t ngx_http_mcp_oauth_device_is(ngx_str_t *s, const char *v);


static ngx_str_t  ngx_http_mcp_oauth_device_prefix = ngx_string("device");
static ngx_str_t  ngx_http_mcp_oauth_user_code_prefix =
    ngx_string("user_code");
static ngx_str_t  ngx_http_mcp_oauth_user_tries_prefix =
    ngx_string("device_tries_user");
static ngx_str_t  ngx_http_mcp_oauth_code_tries_prefix =
    ngx_string("device_tries_code");


/* POST /device_authorization (RFC 8628 §3.1, §3.2) */

ngx_int_t
ngx_http_mcp_oauth_device_handler(ngx_http_request_t *r)
{
    ngx_int_t                       rc;
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

    return ngx_http_mcp_oauth_as_done(r,
               ngx_http_mcp_oauth_device_start(r, ascf, ctx));
}


/* the client, its scope and resource (as at /authorize), then the codes */

static ngx_int_t
ngx_http_mcp_oauth_device_start(ngx_http_request_t *r,
    ngx_http_mcp_oauth_srv_conf_t *ascf, ngx_http_mcp_oauth_as_ctx_t *ctx)
{
    ngx_int_t                     rc;
    ngx_str_t                     u[NGX_HTTP_MCP_OAUTH_U_N], code;
    ngx_http_mcp_oauth_client_t  *c;

    c = &ctx->client;

    if (!(c->grants & NGX_HTTP_MCP_OAUTH_GRANT_DEVICE)) {
        return ngx_http_mcp_oauth_as_error(r, NGX_HTTP_BAD_REQUEST,
                                           "unauthorized_client",
                                           "the client may not use the "
                                           "device flow");
    }

    if (ngx_http_mcp_oauth_asked(r, ascf, ctx, &u[NGX_HTTP_MCP_OAUTH_U_SCOPE],
                                 &u[NGX_HTTP_MCP_OAUTH_U_RESOURCE])
        != NGX_OK)
    {
        return ngx_http_mcp_oauth_as_error_send(r, ctx);
    }

    u[NGX_HTTP_MCP_OAUTH_U_CLIENT] = c->id;
    ngx_str_set(&u[NGX_HTTP_MCP_OAUTH_U_STATUS], "pending");
    ngx_str_null(&u[NGX_HTTP_MCP_OAUTH_U_SUB]);
    ngx_str_null(&u[NGX_HTTP_MCP_OAUTH_U_SID]);

    rc = ngx_http_mcp_oauth_device_keep(r, ascf, ctx, u, &code);
    if (rc != NGX_OK) {
        return rc;
    }

    return ngx_http_mcp_oauth_device_answer(r, ascf, ctx, &code);
}


/*
 * The two records.  The device code (ctx->code) and the seed of the user
 * codes (ctx->sid) are made once: the handler runs again for each answer
 * of Redis, and a user code taken already is followed by the next one of
 * the seed.  NGX_OK: "code" is the user code kept; else the answer.
 */

static ngx_int_t
ngx_http_mcp_oauth_device_keep(ngx_http_request_t *r,
    ngx_http_mcp_oauth_srv_conf_t *ascf, ngx_http_mcp_oauth_as_ctx_t *ctx,
    ngx_str_t *u, ngx_str_t *code)
{
    u_char      key[32], uc[NGX_HTTP_MCP_OAUTH_USER_CODE_LEN];
    time_t      expires, keep;
    ngx_int_t   rc;
    ngx_str_t   rec, d[NGX_HTTP_MCP_OAUTH_D_N];
    ngx_uint_t  i;

    if (ctx->code.len == 0
        && (ngx_http_mcp_oauth_random(r->pool, 32, &ctx->code) != NGX_OK
            || ngx_http_mcp_oauth_random(r->pool, 16, &ctx->sid) != NGX_OK))
    {
        return NGX_ERROR;
    }

    expires = ngx_time() + ascf->device_ttl;
    keep = expires + ascf->device_ttl;

    if (ngx_http_mcp_oauth_device_number(r->pool, expires,
                                         &u[NGX_HTTP_MCP_OAUTH_U_EXPIRES])
        != NGX_OK
        || ngx_http_mcp_oauth_record_add(r->pool, &rec, u,
                                         NGX_HTTP_MCP_OAUTH_U_N)
           != NGX_OK)
    {
        return NGX_ERROR;
    }

    for (i = 0; i < NGX_HTTP_MCP_OAUTH_USER_CODE_TRIES; i++) {
        ngx_http_mcp_oauth_user_code(&ctx->sid, i, uc);
        ngx_http_mcp_oauth_user_code_key(ascf, uc, key);

        rc = ngx_http_mcp_oauth_state_put(r, &ctx->state, key,
                                          NGX_HTTP_MCP_OAUTH_ENTRY_USER_CODE,
                                          keep, &rec);
        if (rc != NGX_BUSY) {
            break;
        }
    }

    if (rc == NGX_OK) {
        d[NGX_HTTP_MCP_OAUTH_D_USER_CODE].data = uc;
        d[NGX_HTTP_MCP_OAUTH_D_USER_CODE].len = sizeof(uc);
        d[NGX_HTTP_MCP_OAUTH_D_CLIENT] = ctx->client.id;
        d[NGX_HTTP_MCP_OAUTH_D_EXPIRES] = u[NGX_HTTP_MCP_OAUTH_U_EXPIRES];
        ngx_str_null(&d[NGX_HTTP_MCP_OAUTH_D_POLLED]);

        if (ngx_http_mcp_oauth_device_number(r->pool, ascf->device_interval,
                                             &d[NGX_HTTP_MCP_OAUTH_D_INTERVAL])
            != NGX_OK
            || ngx_http_mcp_oauth_record_add(r->pool, &rec, d,
                                             NGX_HTTP_MCP_OAUTH_D_N)
               != NGX_OK)
        {
            return NGX_ERROR;
        }

        ngx_http_mcp_oauth_sha256(&ngx_http_mcp_oauth_device_prefix,
                                  &ctx->code, key);

        rc = ngx_http_mcp_oauth_state_put(r, &ctx->state, key,
                                          NGX_HTTP_MCP_OAUTH_ENTRY_DEVICE,
                                          keep, &rec);
    }

    if (ngx_http_mcp_oauth_state_unanswered(rc)) {
        return rc;
    }

    if (rc != NGX_OK) {
        /* a full zone, or (astronomically rare) every user code taken */
        return ngx_http_mcp_oauth_as_error(r, NGX_HTTP_SERVICE_UNAVAILABLE,
                                           "temporarily_unavailable",
                                           "the server is busy, try again "
                                           "later");
    }

    return ngx_http_mcp_oauth_user_code_show(r->pool, uc, code);
}


/* RFC 8628 §3.2 */

static ngx_int_t
ngx_http_mcp_oauth_device_answer(ngx_http_request_t *r,
    ngx_http_mcp_oauth_srv_conf_t *ascf, ngx_http_mcp_oauth_as_ctx_t *ctx,
    ngx_str_t *code)
{
    json_t     *doc;
    ngx_int_t   rc;
    ngx_str_t   uri, complete, body;

    uri.len = ascf->base.len + sizeof("/device") - 1;
    complete.len = uri.len + sizeof("?user_code=") - 1 + code->len;

    uri.data = ngx_pnalloc(r->pool, uri.len);
    complete.data = ngx_pnalloc(r->pool, complete.len);
    if (uri.data == NULL || complete.data == NULL) {
        return NGX_ERROR;
    }

    ngx_sprintf(uri.data, "%V/device", &ascf->base);
    ngx_sprintf(complete.data, "%V?user_code=%V", &uri, code);

    doc = json_pack("{s:s%,s:s%,s:s%,s:s%,s:I,s:I}",
                    "device_code", ctx->code.data, ctx->code.len,
                    "user_code", code->data, code->len,
                    "verification_uri", uri.data, uri.len,
                    "verification_uri_complete", complete.data, complete.len,
                    "expires_in", (json_int_t) ascf->device_ttl,
                    "interval", (json_int_t) ascf->device_interval);
    if (doc == NULL) {
        return NGX_ERROR;
    }

    rc = ngx_http_mcp_oauth_json_out(r->pool, doc, &body);
    json_decref(doc);

    if (rc != NGX_OK) {
        return NGX_ERROR;
    }

    ngx_log_error(NGX_LOG_INFO, r->connection->log, 0,
                  "mcp_oauth: device authorization started, user code "
                  "\"%V\"", code);

    ngx_http_mcp_oauth_count(r, NGX_HTTP_MCP_OAUTH_M_AUTHORIZATIONS,
                             "device_started", NULL);

    return ngx_http_mcp_oauth_as_send(r, NGX_HTTP_OK, "application/json",
                                      &body);
}


/*
 * grant_type=urn:ietf:params:oauth:grant-type:device_code (RFC 8628 §3.4,
 * §3.5).  NGX_OK: the user approved and the code is used now; "f" has the
 * grant as a code's record would.  NGX_BUSY: it was used before ("f" has
 * its grant's id).  NGX_DECLINED: the answer is in ctx.
 */

ngx_int_t
ngx_http_mcp_oauth_device_poll(ngx_http_request_t *r,
    ngx_http_mcp_oauth_srv_conf_t *ascf, ngx_http_mcp_oauth_as_ctx_t *ctx,
    ngx_str_t *f)
{
    u_char      key[32];
    ngx_int_t   rc;
    ngx_str_t   rec, d[NGX_HTTP_MCP_OAUTH_D_N], u[NGX_HTTP_MCP_OAUTH_U_N];
    ngx_uint_t  i;

    rc = ngx_http_mcp_oauth_device_code(r, ascf, ctx, key, &rec, d);
    if (rc != NGX_OK) {
        return rc;
    }

    rc = ngx_http_mcp_oauth_device_pace(r, ascf, ctx, key, &rec, d);
    if (rc != NGX_OK) {
        return rc;
    }

    /* the user's decision */

    ngx_http_mcp_oauth_user_code_key(ascf,
                                     d[NGX_HTTP_MCP_OAUTH_D_USER_CODE].data,
                                     key);

    rc = ngx_http_mcp_oauth_state_get(r, &ctx->state, key,
                                      NGX_HTTP_MCP_OAUTH_ENTRY_USER_CODE,
                                      &rec, 0);
    if (ngx_http_mcp_oauth_state_unanswered(rc)) {
        return rc;
    }

    if (rc == NGX_DECLINED
        || ngx_http_mcp_oauth_record_get(&rec, u, NGX_HTTP_MCP_OAUTH_U_N)
           != NGX_OK)
    {
        return ngx_http_mcp_oauth_as_error_set(ctx, NGX_HTTP_BAD_REQUEST,
                                               "expired_token",
                                               "the device authorization "
                                               "is over");
    }

    if (ngx_http_mcp_oauth_device_is(&u[NGX_HTTP_MCP_OAUTH_U_STATUS],
                                     "denied"))
    {
        return ngx_http_mcp_oauth_as_error_set(ctx, NGX_HTTP_BAD_REQUEST,
                                               "access_denied",
                                               "the user denied the request");
    }

    if (!ngx_http_mcp_oauth_device_is(&u[NGX_HTTP_MCP_OAUTH_U_STATUS],
                                      "approved"))
    {
        return ngx_http_mcp_oauth_as_error_set(ctx, NGX_HTTP_BAD_REQUEST,
                                               "authorization_pending",
                                               "the user has not decided "
                                               "yet");
    }

    for (i = 0; i < NGX_HTTP_MCP_OAUTH_C_N; i++) {
        ngx_str_null(&f[i]);
    }

    f[NGX_HTTP_MCP_OAUTH_C_CLIENT] = u[NGX_HTTP_MCP_OAUTH_U_CLIENT];
    f[NGX_HTTP_MCP_OAUTH_C_SCOPE] = u[NGX_HTTP_MCP_OAUTH_U_SCOPE];
    f[NGX_HTTP_MCP_OAUTH_C_RESOURCE] = u[NGX_HTTP_MCP_OAUTH_U_RESOURCE];
    f[NGX_HTTP_MCP_OAUTH_C_SUB] = u[NGX_HTTP_MCP_OAUTH_U_SUB];
    f[NGX_HTTP_MCP_OAUTH_C_SID] = u[NGX_HTTP_MCP_OAUTH_U_SID];

    /* once: in one step of the state, so a fleet issues once too */

    rc = ngx_http_mcp_oauth_state_get(r, &ctx->state, key,
                                      NGX_HTTP_MCP_OAUTH_ENTRY_USER_CODE,
                                      NULL, 1);
    if (rc == NGX_DECLINED) {
        return ngx_http_mcp_oauth_as_error_set(ctx, NGX_HTTP_BAD_REQUEST,
                                               "expired_token",
                                               "the device authorization "
                                               "is over");
    }

    return rc;
}


/*
 * The record of the device code the client presents (its key, rec and
 * fields d): the client's, in time.  NGX_DECLINED: the error is in ctx.
 */

static ngx_int_t
ngx_http_mcp_oauth_device_code(ngx_http_request_t *r,
    ngx_http_mcp_oauth_srv_conf_t *ascf, ngx_http_mcp_oauth_as_ctx_t *ctx,
    u_char *key, ngx_str_t *rec, ngx_str_t *d)
{
    ngx_int_t   rc;
    ngx_str_t  *v;

    v = ctx->params.v;

    if (ascf->device != NGX_HTTP_MCP_OAUTH_DEVICE_ON) {
        return ngx_http_mcp_oauth_as_error_set(ctx, NGX_HTTP_BAD_REQUEST,
                                               "unsupported_grant_type",
                                               "grant_type is not supported");
    }

    if (!(ctx->client.grants & NGX_HTTP_MCP_OAUTH_GRANT_DEVICE)) {
        return ngx_http_mcp_oauth_as_error_set(ctx, NGX_HTTP_BAD_REQUEST,
                                               "unauthorized_client",
                                               "the client may not use this "
                                               "grant");
    }

    if (v[NGX_HTTP_MCP_OAUTH_P_DEVICE_CODE].len == 0) {
        return ngx_http_mcp_oauth_as_error_set(ctx, NGX_HTTP_BAD_REQUEST,
                                               "invalid_request",
                                               "device_code is required");
    }

    ngx_http_mcp_oauth_sha256(&ngx_http_mcp_oauth_device_prefix,
                              &v[NGX_HTTP_MCP_OAUTH_P_DEVICE_CODE], key);

    rc = ngx_http_mcp_oauth_state_get(r, &ctx->state, key,
                                      NGX_HTTP_MCP_OAUTH_ENTRY_DEVICE, rec, 0);
    if (ngx_http_mcp_oauth_state_unanswered(rc)) {
        return rc;
    }

    if (rc == NGX_DECLINED
        || ngx_http_mcp_oauth_record_get(rec, d, NGX_HTTP_MCP_OAUTH_D_N)
           != NGX_OK
        || d[NGX_HTTP_MCP_OAUTH_D_USER_CODE].len
           != NGX_HTTP_MCP_OAUTH_USER_CODE_LEN)
    {
        return ngx_http_mcp_oauth_as_error_set(ctx, NGX_HTTP_BAD_REQUEST,
                                               "invalid_grant",
                                               "the device code is unknown");
    }

    if (d[NGX_HTTP_MCP_OAUTH_D_CLIENT].len != ctx->client.id.len
        || ngx_strncmp(d[NGX_HTTP_MCP_OAUTH_D_CLIENT].data,
                       ctx->client.id.data, ctx->client.id.len) != 0)
    {
        return ngx_http_mcp_oauth_as_error_set(ctx, NGX_HTTP_BAD_REQUEST,
                                               "invalid_grant",
                                               "the device code was issued "
                                               "to another client");
    }

    if (ngx_atotm(d[NGX_HTTP_MCP_OAUTH_D_EXPIRES].data,
                  d[NGX_HTTP_MCP_OAUTH_D_EXPIRES].len) <= ngx_time())
    {
        return ngx_http_mcp_oauth_as_error_set(ctx, NGX_HTTP_BAD_REQUEST,
                                               "expired_token",
                                               "the device code expired");
    }

    return NGX_OK;
}


/*
 * RFC 8628 §3.5: a client that polls sooner than the interval is told
 * slow_down, and the interval grows by 5 seconds for this and every later
 * poll.  Every poll is recorded (a compare and swap: of two polls at once,
 * one is too fast).  NGX_OK: in time.
 */

static ngx_int_t
ngx_http_mcp_oauth_device_pace(ngx_http_request_t *r,
    ngx_http_mcp_oauth_srv_conf_t *ascf, ngx_http_mcp_oauth_as_ctx_t *ctx,
    u_char *key, ngx_str_t *rec, ngx_str_t *d)
{
    time_t      interval;
    int64_t     now, polled;
    ngx_int_t   rc, fast;
    ngx_str_t   next;

    now = ngx_http_mcp_oauth_device_now_ms();
    interval = ngx_atotm(d[NGX_HTTP_MCP_OAUTH_D_INTERVAL].data,
                         d[NGX_HTTP_MCP_OAUTH_D_INTERVAL].len);
    polled = d[NGX_HTTP_MCP_OAUTH_D_POLLED].len
             ? ngx_atoof(d[NGX_HTTP_MCP_OAUTH_D_POLLED].data,
                         d[NGX_HTTP_MCP_OAUTH_D_POLLED].len)
             : 0;

    if (interval <= 0) {
        interval = ascf->device_interval;
    }

    fast = (polled > 0
            && now - polled < (int64_t) interval * 1000
                              - NGX_HTTP_MCP_OAUTH_POLL_JITTER);
    if (fast) {
        interval += 5;
    }

    if (ngx_http_mcp_oauth_device_number(r->pool, interval,
                                         &d[NGX_HTTP_MCP_OAUTH_D_INTERVAL])
        != NGX_OK
        || ngx_http_mcp_oauth_device_number(r->pool, now,
                                            &d[NGX_HTTP_MCP_OAUTH_D_POLLED])
           != NGX_OK
        || ngx_http_mcp_oauth_record_add(r->pool, &next, d,
                                         NGX_HTTP_MCP_OAUTH_D_N)
           != NGX_OK)
    {
        return NGX_ERROR;
    }

    rc = ngx_http_mcp_oauth_state_swap(r, &ctx->state, key,
                                       NGX_HTTP_MCP_OAUTH_ENTRY_DEVICE,
                                       ngx_atotm(
                                           d[NGX_HTTP_MCP_OAUTH_D_EXPIRES].data,
                                           d[NGX_HTTP_MCP_OAUTH_D_EXPIRES].len)
                                       + ascf->device_ttl,
                                       rec, &next);
    if (ngx_http_mcp_oauth_state_unanswered(rc)) {
        return rc;
    }

    if (fast || rc == NGX_BUSY) {
        ngx_log_error(NGX_LOG_INFO, r->connection->log, 0,
                      "mcp_oauth: token: device code polled too fast, "
                      "interval now %T s", interval);
        return ngx_http_mcp_oauth_as_error_set(ctx, NGX_HTTP_BAD_REQUEST,
                                               "slow_down",
                                               "polling faster than the "
                                               "interval, which grows by 5 "
                                               "seconds");
    }

    return NGX_OK;
}


/* the verification page (RFC 8628 §3.3): GET the form or a code, POST */

ngx_int_t
ngx_http_mcp_oauth_device_verify_handler(ngx_http_request_t *r)
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

    rc = ngx_http_mcp_oauth_device_verify(r, ascf, ctx);

    return ngx_http_mcp_oauth_authorize_done(r, rc);
}


/*
 * In steps, each NGX_DECLINED to go on, else the answer: the user and the
 * code's record, the limits, the record's state, then the consent or the
 * decision.
 */

static ngx_int_t
ngx_http_mcp_oauth_device_verify(ngx_http_request_t *r,
    ngx_http_mcp_oauth_srv_conf_t *ascf, ngx_http_mcp_oauth_as_ctx_t *ctx)
{
    ngx_int_t                          rc;
    ngx_uint_t                         remember;
    ngx_http_mcp_oauth_device_page_t   dp;

    ngx_memzero(&dp, sizeof(ngx_http_mcp_oauth_device_page_t));

    if (!ngx_http_mcp_oauth_has(&ctx->params, NGX_HTTP_MCP_OAUTH_P_USER_CODE))
    {
        rc = ngx_http_mcp_oauth_authorize_user(r, ascf, &dp.a, &remember);
        if (rc != NGX_DECLINED) {
            return rc;
        }

        return ngx_http_mcp_oauth_device_form(r, NGX_HTTP_OK, &dp.a.user,
                                              NULL, NULL);
    }

    rc = ngx_http_mcp_oauth_device_find(r, ascf, ctx, &dp);
    if (rc != NGX_DECLINED) {
        return rc;
    }

    /* the user, and what the user may give of the scope asked */

    dp.a.scope = dp.u[NGX_HTTP_MCP_OAUTH_U_SCOPE];

    rc = ngx_http_mcp_oauth_authorize_user(r, ascf, &dp.a, &remember);
    if (rc != NGX_DECLINED) {
        return rc;
    }

    /* before anything is counted: the handler may run again for it */

    if (dp.found) {
        rc = ngx_http_mcp_oauth_client_find(r, ascf, ctx,
                                            &dp.u[NGX_HTTP_MCP_OAUTH_U_CLIENT]);
        if (rc == NGX_AGAIN || rc == NGX_ERROR) {
            return rc;
        }

        dp.client = (rc == NGX_OK);
    }

    rc = ngx_http_mcp_oauth_device_limit(r, ascf, ctx, &dp);
    if (rc != NGX_DECLINED) {
        return rc;
    }

    rc = ngx_http_mcp_oauth_device_usable(r, ascf, &dp);
    if (rc != NGX_DECLINED) {
        return rc;
    }

    if (r->method == NGX_HTTP_POST
        && ngx_http_mcp_oauth_has(&ctx->params, NGX_HTTP_MCP_OAUTH_P_DECISION))
    {
        return ngx_http_mcp_oauth_device_decide(r, ascf, ctx, &dp);
    }

    return ngx_http_mcp_oauth_device_consent(r, ascf, ctx, &dp);
}


/* the code as entered, and its record if there is one (dp->found) */

static ngx_int_t
ngx_http_mcp_oauth_device_find(ngx_http_request_t *r,
    ngx_http_mcp_oauth_srv_conf_t *ascf, ngx_http_mcp_oauth_as_ctx_t *ctx,
    ngx_http_mcp_oauth_device_page_t *dp)
{
    ngx_int_t   rc;
    ngx_str_t  *entered;

    entered = &ctx->params.v[NGX_HTTP_MCP_OAUTH_P_USER_CODE];

    if (ngx_http_mcp_oauth_user_code_parse(entered, dp->code) != NGX_OK) {
        /* counted as a wrong code, under the entered text */
        ngx_http_mcp_oauth_sha256(&ngx_http_mcp_oauth_code_tries_prefix,
                                  entered, dp->key);
        dp->shown = *entered;
        return NGX_DECLINED;
    }

    if (ngx_http_mcp_oauth_user_code_show(r->pool, dp->code, &dp->shown)
        != NGX_OK)
    {
        return NGX_ERROR;
    }

    ngx_http_mcp_oauth_user_code_key(ascf, dp->code, dp->key);

    rc = ngx_http_mcp_oauth_state_get(r, &ctx->state, dp->key,
                                      NGX_HTTP_MCP_OAUTH_ENTRY_USER_CODE,
                                      &dp->rec, 0);
    if (ngx_http_mcp_oauth_state_unanswered(rc)) {
        return rc;
    }

    if (rc != NGX_DECLINED
        && ngx_http_mcp_oauth_record_get(&dp->rec, dp->u,
                                         NGX_HTTP_MCP_OAUTH_U_N)
           == NGX_OK)
    {
        dp->found = 1;
    }

    return NGX_DECLINED;
}


/*
 * RFC 8628 §5.1: the attempts of the signed-in user (wrong codes) and with
 * the code (every one) are limited per window; a wrong code is counted
 * for both and gets the form again.
 */

static ngx_int_t
ngx_http_mcp_oauth_device_limit(ngx_http_request_t *r,
    ngx_http_mcp_oauth_srv_conf_t *ascf, ngx_http_mcp_oauth_as_ctx_t *ctx,
    ngx_http_mcp_oauth_device_page_t *dp)
{
    ngx_int_t  rc, by_user, by_code;
    ngx_str_t  rec, shown;

    ngx_http_mcp_oauth_server_key(&ngx_http_mcp_oauth_user_tries_prefix, ascf,
                                  &dp->a.user, dp->user_key);

    shown.data = dp->key;
    shown.len = 32;
    ngx_http_mcp_oauth_server_key(&ngx_http_mcp_oauth_code_tries_prefix, ascf,
                                  &shown, dp->code_key);

    rc = ngx_http_mcp_oauth_attempts(r, ctx, dp->user_key, &rec, &by_user);
    if (rc == NGX_OK) {
        rc = ngx_http_mcp_oauth_attempts(r, ctx, dp->code_key, &rec,
                                         &by_code);
    }

    if (rc != NGX_OK) {
        return rc;
    }

    if (by_user >= ascf->device_attempts || by_code >= ascf->device_attempts)
    {
        ngx_log_error(NGX_LOG_INFO, r->connection->log, 0,
                      "mcp_oauth: device: too many attempts by the user "
                      "\"%V\" or with the code", &dp->a.user);
        ngx_http_mcp_oauth_count(r, NGX_HTTP_MCP_OAUTH_M_AUTHORIZATIONS,
                                 "device_limited", NULL);
        return ngx_http_mcp_oauth_page(r, NGX_HTTP_TOO_MANY_REQUESTS,
                                       "Too many attempts",
                                       "Too many codes were tried. Wait a "
                                       "few minutes, then start again from "
                                       "your device.");
    }

    rc = ngx_http_mcp_oauth_attempt(r, ascf, ctx, dp->code_key);
    if (rc != NGX_OK) {
        return rc;
    }

    if (dp->found) {
        return NGX_DECLINED;
    }

    rc = ngx_http_mcp_oauth_attempt(r, ascf, ctx, dp->user_key);
    if (rc != NGX_OK) {
        return rc;
    }

    ngx_log_error(NGX_LOG_INFO, r->connection->log, 0,
                  "mcp_oauth: device: the user \"%V\" entered an unknown "
                  "code", &dp->a.user);

    return ngx_http_mcp_oauth_device_form(r, NGX_HTTP_BAD_REQUEST,
                                          &dp->a.user, &dp->shown,
                                          "That code is not valid. Check "
                                          "the code your device shows and "
                                          "enter it again.");
}


/* a code not decided yet, in time, of a client and resource still here */

static ngx_int_t
ngx_http_mcp_oauth_device_usable(ngx_http_request_t *r,
    ngx_http_mcp_oauth_srv_conf_t *ascf, ngx_http_mcp_oauth_device_page_t *dp)
{
    ngx_str_t  *u;

    u = dp->u;

    if (!ngx_http_mcp_oauth_device_is(&u[NGX_HTTP_MCP_OAUTH_U_STATUS],
                                      "pending"))
    {
        return ngx_http_mcp_oauth_page(r, NGX_HTTP_BAD_REQUEST,
                                       "Code already used",
                                       "This code was approved or denied "
                                       "already. Start again from your "
                                       "device.");
    }

    if (ngx_atotm(u[NGX_HTTP_MCP_OAUTH_U_EXPIRES].data,
                  u[NGX_HTTP_MCP_OAUTH_U_EXPIRES].len) <= ngx_time())
    {
        return ngx_http_mcp_oauth_page(r, NGX_HTTP_BAD_REQUEST,
                                       "Code expired",
                                       "This code expired. Start again from "
                                       "your device.");
    }

    dp->a.resource = ngx_http_mcp_oauth_resource_find(ascf,
                         &u[NGX_HTTP_MCP_OAUTH_U_RESOURCE]);

    if (!dp->client || dp->a.resource == NULL) {
        return ngx_http_mcp_oauth_page(r, NGX_HTTP_BAD_REQUEST,
                                       "Unknown client",
                                       "The application of this code is no "
                                       "longer registered with this "
                                       "server.");
    }

    return NGX_DECLINED;
}


/*
 * The consent of /authorize, its form bound (CSRF) to the user and to the
 * code's client, scope, resource and code, taken from the record: what the
 * form posts back of them is not believed.
 */

static ngx_int_t
ngx_http_mcp_oauth_device_consent(ngx_http_request_t *r,
    ngx_http_mcp_oauth_srv_conf_t *ascf, ngx_http_mcp_oauth_as_ctx_t *ctx,
    ngx_http_mcp_oauth_device_page_t *dp)
{
    u_char                       *p;
    ngx_str_t                    *v;
    ngx_http_mcp_oauth_params_t  *params;

    params = &ctx->params;
    v = params->v;

    v[NGX_HTTP_MCP_OAUTH_P_CLIENT_ID] = dp->u[NGX_HTTP_MCP_OAUTH_U_CLIENT];
    v[NGX_HTTP_MCP_OAUTH_P_SCOPE] = dp->u[NGX_HTTP_MCP_OAUTH_U_SCOPE];
    v[NGX_HTTP_MCP_OAUTH_P_RESOURCE] = dp->u[NGX_HTTP_MCP_OAUTH_U_RESOURCE];
    v[NGX_HTTP_MCP_OAUTH_P_USER_CODE] = dp->shown;

    ngx_str_null(&v[NGX_HTTP_MCP_OAUTH_P_RESPONSE_TYPE]);
    ngx_str_null(&v[NGX_HTTP_MCP_OAUTH_P_REDIRECT_URI]);
    ngx_str_null(&v[NGX_HTTP_MCP_OAUTH_P_CODE_CHALLENGE]);
    ngx_str_null(&v[NGX_HTTP_MCP_OAUTH_P_CODE_CHALLENGE_METHOD]);
    ngx_str_null(&v[NGX_HTTP_MCP_OAUTH_P_STATE]);

    params->present = (1u << NGX_HTTP_MCP_OAUTH_P_CLIENT_ID)
                      | (1u << NGX_HTTP_MCP_OAUTH_P_SCOPE)
                      | (1u << NGX_HTTP_MCP_OAUTH_P_RESOURCE)
                      | (1u << NGX_HTTP_MCP_OAUTH_P_USER_CODE)
                      | (params->present
                         & ((1u << NGX_HTTP_MCP_OAUTH_P_DECISION)
                            | (1u << NGX_HTTP_MCP_OAUTH_P_CSRF_TOKEN)));

    if (r->method == NGX_HTTP_POST) {
        return NGX_DECLINED;
    }

    /* where the answer goes: the device, which shows the same code */

    dp->a.redirect.len = sizeof("your device, which shows ") - 1
                         + dp->shown.len;
    dp->a.redirect.data = ngx_pnalloc(r->pool, dp->a.redirect.len);
    if (dp->a.redirect.data == NULL) {
        return NGX_ERROR;
    }

    p = ngx_cpymem(dp->a.redirect.data, "your device, which shows ",
                   sizeof("your device, which shows ") - 1);
    ngx_memcpy(p, dp->shown.data, dp->shown.len);

    ngx_http_mcp_oauth_count(r, NGX_HTTP_MCP_OAUTH_M_AUTHORIZATIONS,
                             "consent_asked", NULL);

    return ngx_http_mcp_oauth_consent_page(r, ascf, ctx, &dp->a);
}


/* the consent form posted: the decision goes into the code's record */

static ngx_int_t
ngx_http_mcp_oauth_device_decide(ngx_http_request_t *r,
    ngx_http_mcp_oauth_srv_conf_t *ascf, ngx_http_mcp_oauth_as_ctx_t *ctx,
    ngx_http_mcp_oauth_device_page_t *dp)
{
    ngx_int_t   rc, approve;
    ngx_str_t   rec, *u, *decision;

    u = dp->u;
    decision = &ctx->params.v[NGX_HTTP_MCP_OAUTH_P_DECISION];

    if (ngx_http_mcp_oauth_device_consent(r, ascf, ctx, dp) != NGX_DECLINED
        || ngx_http_mcp_oauth_csrf_check(r, ascf, &ctx->params, &dp->a)
           != NGX_OK)
    {
        return ngx_http_mcp_oauth_page(r, NGX_HTTP_FORBIDDEN,
                                       "Request expired",
                                       "This consent form is not valid "
                                       "(changed, expired, or for another "
                                       "user). Enter the code again.");
    }

    approve = ngx_http_mcp_oauth_device_is(decision, "approve");

    /* the scopes left ticked; none left is a denial */

    if (approve) {
        rc = ngx_http_mcp_oauth_consent_chosen(r, ascf, ctx, &dp->a);

        if (rc == NGX_DECLINED) {
            return ngx_http_mcp_oauth_consent_invalid(r);
        }

        if (rc != NGX_OK) {
            return NGX_ERROR;
        }

        approve = (dp->a.scope.len != 0);
    }

    if (ctx->sid.len == 0
        && ngx_http_mcp_oauth_random(r->pool, 16, &ctx->sid) != NGX_OK)
    {
        return NGX_ERROR;
    }

    if (approve) {
        ngx_str_set(&u[NGX_HTTP_MCP_OAUTH_U_STATUS], "approved");

    } else {
        ngx_str_set(&u[NGX_HTTP_MCP_OAUTH_U_STATUS], "denied");
    }

    u[NGX_HTTP_MCP_OAUTH_U_SCOPE] = dp->a.scope;
    u[NGX_HTTP_MCP_OAUTH_U_SUB] = dp->a.user;
    u[NGX_HTTP_MCP_OAUTH_U_SID] = ctx->sid;

    if (ngx_http_mcp_oauth_record_add(r->pool, &rec, u,
                                      NGX_HTTP_MCP_OAUTH_U_N)
        != NGX_OK)
    {
        return NGX_ERROR;
    }

    rc = ngx_http_mcp_oauth_state_swap(r, &ctx->state, dp->key,
                                       NGX_HTTP_MCP_OAUTH_ENTRY_USER_CODE,
                                       ngx_atotm(
                                           u[NGX_HTTP_MCP_OAUTH_U_EXPIRES].data,
                                           u[NGX_HTTP_MCP_OAUTH_U_EXPIRES].len)
                                       + ascf->device_ttl,
                                       &dp->rec, &rec);
    if (ngx_http_mcp_oauth_state_unanswered(rc)) {
        return rc;
    }

    if (rc != NGX_OK) {
        /* decided meanwhile, in another window or on another node */
        return ngx_http_mcp_oauth_page(r, NGX_HTTP_CONFLICT,
                                       "Code already used",
                                       "This code was approved or denied "
                                       "already. Start again from your "
                                       "device.");
    }

    ngx_log_error(NGX_LOG_INFO, r->connection->log, 0,
                  "mcp_oauth: device: the user \"%V\" %s the code \"%V\", "
                  "scope \"%V\"", &dp->a.user,
                  approve ? "approved" : "denied", &dp->shown, &dp->a.scope);

    ngx_http_mcp_oauth_count(r, NGX_HTTP_MCP_OAUTH_M_AUTHORIZATIONS,
                             approve ? "device_approved" : "denied", NULL);

    if (!approve) {
        return ngx_http_mcp_oauth_page(r, NGX_HTTP_OK, "Request denied",
                                       "The device gets no access. You can "
                                       "close this page.");
    }

    return ngx_http_mcp_oauth_page(r, NGX_HTTP_OK, "Device connected",
                                   "The application on your device has "
                                   "access now. You can close this page and "
                                   "return to it.");
}


static ngx_int_t
ngx_http_mcp_oauth_device_form(ngx_http_request_t *r, ngx_uint_t status,
    ngx_str_t *user, ngx_str_t *code, const char *message)
{
    ngx_http_mcp_oauth_device_form_t  form;

    static ngx_str_t  title = ngx_string("Connect a device");

    ngx_memzero(&form, sizeof(ngx_http_mcp_oauth_device_form_t));

    form.user = *user;
    form.action = r->uri;

    if (code) {
        form.code = *code;
        form.code.len = ngx_min(form.code.len, 64);
    }

    if (message) {
        form.message.data = (u_char *) message;
        form.message.len = ngx_strlen(message);
    }

    return ngx_http_mcp_oauth_page_send(r, status, &title,
                                        ngx_http_mcp_oauth_device_render,
                                        &form);
}


/* the attempts counted under "key" in this window ("rec" their record) */

static ngx_int_t
ngx_http_mcp_oauth_attempts(ngx_http_request_t *r,
    ngx_http_mcp_oauth_as_ctx_t *ctx, u_char *key, ngx_str_t *rec,
    ngx_int_t *n)
{
    ngx_int_t  rc;
    ngx_str_t  f[2];

    rc = ngx_http_mcp_oauth_state_get(r, &ctx->state, key,
                                      NGX_HTTP_MCP_OAUTH_ENTRY_ATTEMPTS, rec,
                                      0);
    if (ngx_http_mcp_oauth_state_unanswered(rc)) {
        return rc;
    }

    *n = 0;

    if (rc != NGX_DECLINED
        && ngx_http_mcp_oauth_record_get(rec, f, 2) == NGX_OK)
    {
        *n = ngx_atoi(f[0].data, f[0].len);

        if (*n == NGX_ERROR) {
            *n = 0;
        }
    }

    return NGX_OK;
}


/*
 * One more attempt under "key": a new record for a new window, else the
 * count swapped, the window's end kept.  Of two attempts at once one may
 * go uncounted.
 */

static ngx_int_t
ngx_http_mcp_oauth_attempt(ngx_http_request_t *r,
    ngx_http_mcp_oauth_srv_conf_t *ascf, ngx_http_mcp_oauth_as_ctx_t *ctx,
    u_char *key)
{
    time_t     until;
    ngx_int_t  rc, n;
    ngx_str_t  rec, next, f[2];

    rc = ngx_http_mcp_oauth_attempts(r, ctx, key, &rec, &n);
    if (rc != NGX_OK) {
        return rc;
    }

    if (n == 0 || ngx_http_mcp_oauth_record_get(&rec, f, 2) != NGX_OK
        || (until = ngx_atotm(f[1].data, f[1].len)) == NGX_ERROR)
    {
        n = 0;
        until = ngx_time() + ascf->device_window;
    }

    if (ngx_http_mcp_oauth_device_number(r->pool, n + 1, &f[0]) != NGX_OK
        || ngx_http_mcp_oauth_device_number(r->pool, until, &f[1]) != NGX_OK
        || ngx_http_mcp_oauth_record_add(r->pool, &next, f, 2) != NGX_OK)
    {
        return NGX_ERROR;
    }

    if (n == 0) {
        rc = ngx_http_mcp_oauth_state_put(r, &ctx->state, key,
                                          NGX_HTTP_MCP_OAUTH_ENTRY_ATTEMPTS,
                                          until, &next);
    } else {
        rc = ngx_http_mcp_oauth_state_swap(r, &ctx->state, key,
                                           NGX_HTTP_MCP_OAUTH_ENTRY_ATTEMPTS,
                                           until, &rec, &next);
    }

    return ngx_http_mcp_oauth_state_unanswered(rc) ? rc : NGX_OK;
}


/* the i-th user code of a seed: 16 bits of SHA-256 per letter */

static void
ngx_http_mcp_oauth_user_code(ngx_str_t *seed, ngx_uint_t i, u_char *code)
{
    u_char      digest[32], n;
    ngx_str_t   prefix, *parts[2];
    ngx_uint_t  k, v;

    n = (u_char) ('0' + i);
    prefix.data = &n;
    prefix.len = 1;
    parts[0] = &prefix;
    parts[1] = seed;

    ngx_http_mcp_oauth_sha256_parts(parts, 2, digest);

    for (k = 0; k < NGX_HTTP_MCP_OAUTH_USER_CODE_LEN; k++) {
        v = ((ngx_uint_t) digest[2 * k] << 8) | digest[2 * k + 1];
        code[k] = NGX_HTTP_MCP_OAUTH_USER_ALPHABET[
                      v % (sizeof(NGX_HTTP_MCP_OAUTH_USER_ALPHABET) - 1)];
    }
}


/* what a person types: any case, hyphens and spaces anywhere */

static ngx_int_t
ngx_http_mcp_oauth_user_code_parse(ngx_str_t *in, u_char *code)
{
    u_char      c, *p, *last;
    ngx_uint_t  n;

    n = 0;
    last = in->data + in->len;

    if (in->len > 64) {
        return NGX_DECLINED;
    }

    for (p = in->data; p < last; p++) {
        if (*p == '-' || *p == ' ') {
            continue;
        }

        c = ngx_toupper(*p);

        if (n == NGX_HTTP_MCP_OAUTH_USER_CODE_LEN
            || ngx_strlchr((u_char *) NGX_HTTP_MCP_OAUTH_USER_ALPHABET,
                           (u_char *) NGX_HTTP_MCP_OAUTH_USER_ALPHABET
                           + sizeof(NGX_HTTP_MCP_OAUTH_USER_ALPHABET) - 1, c)
               == NULL)
        {
            return NGX_DECLINED;
        }

        code[n++] = c;
    }

    code[n] = '\0';

    return (n == NGX_HTTP_MCP_OAUTH_USER_CODE_LEN) ? NGX_OK : NGX_DECLINED;
}


/* "XXXX-XXXX" */

static ngx_int_t
ngx_http_mcp_oauth_user_code_show(ngx_pool_t *pool, u_char *code,
    ngx_str_t *out)
{
    u_char  *p;

    out->len = NGX_HTTP_MCP_OAUTH_USER_CODE_LEN + 1;
    out->data = ngx_pnalloc(pool, out->len);
    if (out->data == NULL) {
        return NGX_ERROR;
    }

    p = ngx_cpymem(out->data, code, NGX_HTTP_MCP_OAUTH_USER_CODE_LEN / 2);
    *p++ = '-';
    ngx_memcpy(p, code + NGX_HTTP_MCP_OAUTH_USER_CODE_LEN / 2,
               NGX_HTTP_MCP_OAUTH_USER_CODE_LEN / 2);

    return NGX_OK;
}


/* a user code's record, per server: a shared zone's servers never meet */

static void
ngx_http_mcp_oauth_user_code_key(ngx_http_mcp_oauth_srv_conf_t *ascf,
    u_char *code, u_char *key)
{
    ngx_str_t  s;

    s.data = code;
    s.len = NGX_HTTP_MCP_OAUTH_USER_CODE_LEN;

    ngx_http_mcp_oauth_server_key(&ngx_http_mcp_oauth_user_code_prefix, ascf,
                                  &s, key);
}


static ngx_int_t
ngx_http_mcp_oauth_device_number(ngx_pool_t *pool, int64_t n, ngx_str_t *out)
{
    out->data = ngx_pnalloc(pool, NGX_INT64_LEN);
    if (out->data == NULL) {
        return NGX_ERROR;
    }

    out->len = ngx_sprintf(out->data, "%L", n) - out->data;

    return NGX_OK;
}


/* the wall clock in ms: the nodes of a fleet compare it */

static int64_t
ngx_http_mcp_oauth_device_now_ms(void)
{
    ngx_time_t  *tp;

    tp = ngx_timeofday();

    return (int64_t) tp->sec * 1000 + tp->msec;
}


static ngx_int_t
ngx_http_mcp_oauth_device_is(ngx_str_t *s, const char *v)
{
    size_t  len;

    len = ngx_strlen(v);

    return s->len == len && ngx_strncmp(s->data, v, len) == 0;
}


/* mcp_oauth_device_attempts NUMBER [WINDOW] */

char *
ngx_http_mcp_oauth_device_attempts(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf)
{
    ngx_http_mcp_oauth_srv_conf_t *ascf = conf;

    ngx_str_t  *value;

    if (ascf->device_attempts != NGX_CONF_UNSET) {
        return "is duplicate";
    }

    value = cf->args->elts;

    ascf->device_attempts = ngx_atoi(value[1].data, value[1].len);
    if (ascf->device_attempts == NGX_ERROR || ascf->device_attempts == 0) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "\"%V\": the number of attempts must be a "
                           "positive integer, not \"%V\"", &cmd->name,
                           &value[1]);
        return NGX_CONF_ERROR;
    }

    if (cf->args->nelts == 3) {
        ascf->device_window = ngx_parse_time(&value[2], 1);

        if (ascf->device_window == (time_t) NGX_ERROR
            || ascf->device_window == 0)
        {
            ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                               "\"%V\": invalid window \"%V\"", &cmd->name,
                               &value[2]);
            return NGX_CONF_ERROR;
        }
    }

    return NGX_CONF_OK;
}


/* once the server's configuration is complete: both locations, or none */

ngx_int_t
ngx_http_mcp_oauth_device_init(ngx_conf_t *cf,
    ngx_http_mcp_oauth_srv_conf_t *ascf)
{
    if (ascf->device == 0) {
        return NGX_OK;
    }

    if (ascf->device != NGX_HTTP_MCP_OAUTH_DEVICE_ON) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "the device flow needs both "
                           "\"mcp_oauth_device_authorization\" and "
                           "\"mcp_oauth_device_verify\" in the server of "
                           "the issuer \"%V\"", &ascf->issuer);
        return NGX_ERROR;
    }

    if (ascf->iam_authorize.len) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "\"mcp_oauth_device_verify\" does not work with "
                           "\"mcp_oauth_iam_authorize_url\": the user must "
                           "be signed in at this server");
        return NGX_ERROR;
    }

    if (ascf->device_interval <= 0
        || ascf->device_ttl <= ascf->device_interval)
    {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "\"mcp_oauth_device_interval\" must be positive "
                           "and shorter than \"mcp_oauth_device_code_ttl\"");
        return NGX_ERROR;
    }

    return NGX_OK;
}
