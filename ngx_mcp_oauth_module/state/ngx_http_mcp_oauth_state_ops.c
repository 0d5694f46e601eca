
/*
 * ngx_mcp_oauth_module: the state interface a request uses.  Each
 * operation goes to the server's zone (one node), or, with
 * "mcp_oauth_state_request", to Redis (a fleet of nodes) by a subrequest
 * to the location of "mcp_oauth_redis_pass".  A Redis operation answers
 * NGX_AGAIN: the handler runs again when the answer is in, repeats its
 * steps, and each operation it asked before (the same kind, the same key)
 * reads its answer from the run (ngx_http_mcp_oauth_state_run_t) instead
 * of asking again.
 *
 * In Redis an entry is one string: its type, "0" or "1" (used), its data;
 * its key the prefix and the hex of the entry's key (a SHA-256: no secret
 * is readable in Redis), its expiry Redis' own.  What must not race
 * between nodes is one command or one script: a code is used once
 * (a script marks it), a rotation is a compare and swap (a script).
 * Revocations are a sorted set scored by Redis' clock, which every node's
 * resource server reads at most once per "sync" interval into its zone.
 */

#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include "ngx_http_mcp_oauth_module.h"
#include "ngx_http_mcp_oauth_state.h"
#include "ngx_http_mcp_oauth_resp.h"


/* revocations read per look: more come at the next request */
#define NGX_HTTP_MCP_OAUTH_SYNC_BATCH  256


/* an entry used once, in one step: the value before is the answer */
static ngx_str_t  ngx_http_mcp_oauth_script_use = ngx_string(
    "local v = redis.call('GET', KEYS[1]) "
    "if v and string.sub(v, 1, 1) == ARGV[1] "
    "and string.sub(v, 2, 2) == '0' then "
    "redis.call('SETRANGE', KEYS[1], 1, '1') end "
    "return v");

/* a rotation: replaced only if it still holds what was read */
static ngx_str_t  ngx_http_mcp_oauth_script_swap = ngx_string(
    "if redis.call('GET', KEYS[1]) ~= ARGV[1] then return 0 end "
    "redis.call('SET', KEYS[1], ARGV[2], 'EX', ARGV[3]) "
    "return 1");

/* a revocation, scored by Redis' clock (µs); older than "keep" ones go */
static ngx_str_t  ngx_http_mcp_oauth_script_revoke = ngx_string(
    "local t = redis.call('TIME') "
    "local now = tonumber(t[1]) * 1000000 + tonumber(t[2]) "
    "redis.call('ZADD', KEYS[1], now, ARGV[1]) "
    "redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', "
    "now - tonumber(ARGV[2]) * 1000000) "
    "return now");


/* the operations, as the run knows them */
enum {
    NGX_HTTP_MCP_OAUTH_OP_PUT = 1,
    NGX_HTTP_MCP_OAUTH_OP_GET,
    NGX_HTTP_MCP_OAUTH_OP_USE,
    NGX_HTTP_MCP_OAUTH_OP_SWAP,
    NGX_HTTP_MCP_OAUTH_OP_DELETE,
    NGX_HTTP_MCP_OAUTH_OP_REVOKE
};


static ngx_int_t ngx_http_mcp_oauth_state_ask(ngx_http_request_t *r,
    ngx_http_mcp_oauth_state_run_t *run, ngx_uint_t op, u_char *key,
    ngx_str_t *args, ngx_uint_t n, ngx_str_t *reply);
static ngx_int_t ngx_http_mcp_oauth_state_command(ngx_http_request_t *r,
    ngx_str_t *uri, ngx_http_mcp_oauth_fetch_t *f, ngx_str_t *args,
    ngx_uint_t n, ngx_uint_t phase);
static ngx_int_t ngx_http_mcp_oauth_state_reply(ngx_http_request_t *r,
    ngx_http_mcp_oauth_redis_state_t *rs, ngx_http_mcp_oauth_fetch_t *f,
    ngx_str_t *reply);
static ngx_int_t ngx_http_mcp_oauth_state_key(ngx_pool_t *pool,
    ngx_http_mcp_oauth_redis_state_t *rs, u_char *key, ngx_str_t *out);
static ngx_int_t ngx_http_mcp_oauth_state_value(ngx_pool_t *pool,
    ngx_uint_t type, ngx_str_t *data, ngx_str_t *out);
static ngx_int_t ngx_http_mcp_oauth_state_entry(ngx_str_t *reply,
    ngx_uint_t type, ngx_pool_t *pool, ngx_str_t *data);
static ngx_int_t ngx_http_mcp_oauth_state_number(ngx_pool_t *pool,
    int64_t n, ngx_str_t *out);
static void ngx_http_mcp_oauth_state_synced(ngx_http_request_t *r,
    ngx_http_mcp_oauth_issued_t *issued, ngx_http_mcp_oauth_fetch_t *f);
static ngx_int_t ngx_http_mcp_oauth_state_mirror(ngx_http_request_t *r,
    ngx_http_mcp_oauth_issued_t *issued, ngx_str_t *member);


void
ngx_http_mcp_oauth_state_begin(ngx_http_mcp_oauth_state_run_t *run,
    ngx_http_mcp_oauth_issued_t *issued)
{
    run->issued = issued;
}


/*
 * NGX_OK: stored; NGX_BUSY: the key exists already; NGX_DECLINED: the zone
 * is full; NGX_AGAIN: Redis is asked, the handler runs again; NGX_ABORT:
 * the state is unavailable.
 */

ngx_int_t
ngx_http_mcp_oauth_state_put(ngx_http_request_t *r,
    ngx_http_mcp_oauth_state_run_t *run, u_char *key, ngx_uint_t type,
    time_t expires, ngx_str_t *data)
{
    ngx_int_t                          rc;
    ngx_str_t                          args[6], reply;
    ngx_http_mcp_oauth_resp_t          v;
    ngx_http_mcp_oauth_redis_state_t  *rs;

    rs = run->issued->redis;

    if (rs == NULL) {
        rc = ngx_http_mcp_oauth_store_put(run->issued->zone, key, type,
                                          expires, data, r->connection->log);
        if (rc == NGX_DECLINED) {
            ngx_http_mcp_oauth_count(r, NGX_HTTP_MCP_OAUTH_M_STATE_ERRORS,
                                     "zone", NULL);
        }

        return rc;
    }

    /* SET key value NX EX seconds */

    ngx_str_set(&args[0], "SET");
    ngx_str_set(&args[3], "NX");
    ngx_str_set(&args[4], "EX");

    if (ngx_http_mcp_oauth_state_key(r->pool, rs, key, &args[1]) != NGX_OK
        || ngx_http_mcp_oauth_state_value(r->pool, type, data, &args[2])
           != NGX_OK
        || ngx_http_mcp_oauth_state_number(r->pool,
                                           ngx_max(expires - ngx_time(), 1),
                                           &args[5])
           != NGX_OK)
    {
        return NGX_ERROR;
    }

    rc = ngx_http_mcp_oauth_state_ask(r, run, NGX_HTTP_MCP_OAUTH_OP_PUT, key,
                                      args, 6, &reply);
    if (rc != NGX_OK) {
        return rc;
    }

    if (ngx_http_mcp_oauth_resp_read(&reply, &v) != NGX_OK) {
        return NGX_ABORT;
    }

    if (v.type == NGX_HTTP_MCP_OAUTH_RESP_STATUS) {
        return NGX_OK;
    }

    return (v.type == NGX_HTTP_MCP_OAUTH_RESP_NIL) ? NGX_BUSY : NGX_ABORT;
}


/*
 * NGX_OK: a live entry of the type, its data in the pool (if "data");
 * NGX_BUSY: the same, used before; NGX_DECLINED: none.  "use" marks it
 * used in the same step.  NGX_AGAIN and NGX_ABORT as for a put.
 */

ngx_int_t
ngx_http_mcp_oauth_state_get(ngx_http_request_t *r,
    ngx_http_mcp_oauth_state_run_t *run, u_char *key, ngx_uint_t type,
    ngx_str_t *data, ngx_uint_t use)
{
    u_char                            *t;
    ngx_int_t                          rc;
    ngx_str_t                          args[5], reply;
    ngx_http_mcp_oauth_redis_state_t  *rs;

    rs = run->issued->redis;

    if (rs == NULL) {
        return ngx_http_mcp_oauth_store_get(run->issued->zone, key, type,
                                            r->pool, data, use);
    }

    if (!use) {
        ngx_str_set(&args[0], "GET");

        if (ngx_http_mcp_oauth_state_key(r->pool, rs, key, &args[1])
            != NGX_OK)
        {
            return NGX_ERROR;
        }

        rc = ngx_http_mcp_oauth_state_ask(r, run, NGX_HTTP_MCP_OAUTH_OP_GET,
                                          key, args, 2, &reply);

    } else {
        /* EVAL use 1 key type: the value before it was marked */

        ngx_str_set(&args[0], "EVAL");
        args[1] = ngx_http_mcp_oauth_script_use;
        ngx_str_set(&args[2], "1");

        t = ngx_pnalloc(r->pool, 1);
        if (t == NULL
            || ngx_http_mcp_oauth_state_key(r->pool, rs, key, &args[3])
               != NGX_OK)
        {
            return NGX_ERROR;
        }

        *t = (u_char) ('0' + type);
        args[4].data = t;
        args[4].len = 1;

        rc = ngx_http_mcp_oauth_state_ask(r, run, NGX_HTTP_MCP_OAUTH_OP_USE,
                                          key, args, 5, &reply);
    }

    if (rc != NGX_OK) {
        return rc;
    }

    return ngx_http_mcp_oauth_state_entry(&reply, type, r->pool, data);
}


/*
 * A compare and swap of a live entry's data (rotations).  NGX_OK:
 * replaced; NGX_BUSY: it changed or is gone meanwhile.
 */

ngx_int_t
ngx_http_mcp_oauth_state_swap(ngx_http_request_t *r,
    ngx_http_mcp_oauth_state_run_t *run, u_char *key, ngx_uint_t type,
    time_t expires, ngx_str_t *old, ngx_str_t *data)
{
    ngx_int_t                          rc;
    ngx_str_t                          args[7], reply;
    ngx_http_mcp_oauth_resp_t          v;
    ngx_http_mcp_oauth_redis_state_t  *rs;

    rs = run->issued->redis;

    if (rs == NULL) {
        return ngx_http_mcp_oauth_store_swap(run->issued->zone, key, type,
                                             expires, old, data,
                                             r->connection->log);
    }

    /* EVAL swap 1 key old new seconds */

    ngx_str_set(&args[0], "EVAL");
    args[1] = ngx_http_mcp_oauth_script_swap;
    ngx_str_set(&args[2], "1");

    if (ngx_http_mcp_oauth_state_key(r->pool, rs, key, &args[3]) != NGX_OK
        || ngx_http_mcp_oauth_state_value(r->pool, type, old, &args[4])
           != NGX_OK
        || ngx_http_mcp_oauth_state_value(r->pool, type, data, &args[5])
           != NGX_OK
        || ngx_http_mcp_oauth_state_number(r->pool,
                                           ngx_max(expires - ngx_time(), 1),
                                           &args[6])
           != NGX_OK)
    {
        return NGX_ERROR;
    }

    rc = ngx_http_mcp_oauth_state_ask(r, run, NGX_HTTP_MCP_OAUTH_OP_SWAP, key,
                                      args, 7, &reply);
    if (rc != NGX_OK) {
        return rc;
    }

    if (ngx_http_mcp_oauth_resp_read(&reply, &v) != NGX_OK
        || v.type != NGX_HTTP_MCP_OAUTH_RESP_INTEGER)
    {
        return NGX_ABORT;
    }

    return (v.n == 1) ? NGX_OK : NGX_BUSY;
}


ngx_int_t
ngx_http_mcp_oauth_state_delete(ngx_http_request_t *r,
    ngx_http_mcp_oauth_state_run_t *run, u_char *key)
{
    ngx_str_t                          args[2], reply;
    ngx_http_mcp_oauth_redis_state_t  *rs;

    rs = run->issued->redis;

    if (rs == NULL) {
        ngx_http_mcp_oauth_store_delete(run->issued->zone, key);
        return NGX_OK;
    }

    ngx_str_set(&args[0], "DEL");

    if (ngx_http_mcp_oauth_state_key(r->pool, rs, key, &args[1]) != NGX_OK) {
        return NGX_ERROR;
    }

    return ngx_http_mcp_oauth_state_ask(r, run, NGX_HTTP_MCP_OAUTH_OP_DELETE,
                                        key, args, 2, &reply);
}


/*
 * A grant revoked until "expires": in this node's zone (its resource server
 * refuses the grant's tokens from now on) and, with Redis, first in the
 * fleet's revocations, which the other nodes read.  NGX_BUSY: it was
 * revoked already.
 */

ngx_int_t
ngx_http_mcp_oauth_state_revoke_grant(ngx_http_request_t *r,
    ngx_http_mcp_oauth_state_run_t *run, ngx_str_t *sid, time_t expires)
{
    u_char                             key[32], *p;
    ngx_int_t                          rc;
    ngx_str_t                          args[6], reply;
    ngx_http_mcp_oauth_redis_state_t  *rs;

    rs = run->issued->redis;

    if (rs == NULL) {
        return ngx_http_mcp_oauth_state_revoke(run->issued->zone, sid,
                                               expires, r->connection->log);
    }

    /* EVAL revoke 1 revocations "<hex of the zone's key>:<expiry>" keep */

    ngx_str_set(&args[0], "EVAL");
    args[1] = ngx_http_mcp_oauth_script_revoke;
    ngx_str_set(&args[2], "1");
    args[3] = rs->revocations;

    ngx_http_mcp_oauth_state_revocation_key(sid, key);

    p = ngx_pnalloc(r->pool, 2 * 32 + 1 + NGX_TIME_T_LEN);
    if (p == NULL
        || ngx_http_mcp_oauth_state_number(r->pool, rs->keep, &args[5])
           != NGX_OK)
    {
        return NGX_ERROR;
    }

    args[4].data = p;
    args[4].len = ngx_sprintf(ngx_hex_dump(p, key, 32), ":%T", expires) - p;

    rc = ngx_http_mcp_oauth_state_ask(r, run, NGX_HTTP_MCP_OAUTH_OP_REVOKE,
                                      key, args, 6, &reply);
    if (rc != NGX_OK) {
        return rc;
    }

    /* once the fleet has it (the handler runs once more after the answer) */

    return ngx_http_mcp_oauth_state_revoke(run->issued->zone, sid, expires,
                                           r->connection->log);
}


/*
 * The operation's answer when it was asked before in this request, else
 * it is asked now (NGX_AGAIN).  NGX_OK: "reply" is a complete RESP reply.
 */

static ngx_int_t
ngx_http_mcp_oauth_state_ask(ngx_http_request_t *r,
    ngx_http_mcp_oauth_state_run_t *run, ngx_uint_t op, u_char *key,
    ngx_str_t *args, ngx_uint_t n, ngx_str_t *reply)
{
    ngx_uint_t                          i;
    ngx_http_mcp_oauth_state_answer_t  *a;

    for (i = 0; i < run->asked; i++) {
        a = &run->answers[i];

        if (a->op == op && ngx_memcmp(a->key, key, 32) == 0) {
            if (a->fetch.pending) {
                return NGX_AGAIN;
            }

            return ngx_http_mcp_oauth_state_reply(r, run->issued->redis,
                                                  &a->fetch, reply);
        }
    }

    if (run->asked == NGX_HTTP_MCP_OAUTH_STATE_OPS) {
        ngx_log_error(NGX_LOG_ALERT, r->connection->log, 0,
                      "mcp_oauth: too many state operations in a request");
        return NGX_ERROR;
    }

    a = &run->answers[run->asked++];
    ngx_memzero(a, sizeof(ngx_http_mcp_oauth_state_answer_t));
    a->op = op;
    ngx_memcpy(a->key, key, 32);

    if (ngx_http_mcp_oauth_state_command(r, &run->issued->redis->uri,
                                         &a->fetch, args, n, 0)
        != NGX_OK)
    {
        return NGX_ERROR;
    }

    return NGX_AGAIN;
}


/*
 * One command to the location of "mcp_oauth_redis_pass", its reply in
 * "f", for a content handler or (phase) a phase handler.
 */

static ngx_int_t
ngx_http_mcp_oauth_state_command(ngx_http_request_t *r, ngx_str_t *uri,
    ngx_http_mcp_oauth_fetch_t *f, ngx_str_t *args, ngx_uint_t n,
    ngx_uint_t phase)
{
    ngx_str_t                      cmd;
    ngx_http_request_t            *sr;
    ngx_http_mcp_oauth_capture_t  *cap;

    cmd.data = ngx_pnalloc(r->pool,
                           ngx_http_mcp_oauth_resp_command_len(args, n));
    if (cmd.data == NULL) {
        return NGX_ERROR;
    }

    cmd.len = ngx_http_mcp_oauth_resp_command(cmd.data, args, n) - cmd.data;

    sr = phase ? ngx_http_mcp_oauth_fetch_start(r, uri, f)
               : ngx_http_mcp_oauth_fetch(r, uri, f);
    if (sr == NULL) {
        return NGX_ERROR;
    }

    cap = ngx_http_mcp_oauth_capture_get(sr);
    cap->state = 1;

    return ngx_http_mcp_oauth_fetch_post(sr, &cmd);
}


static ngx_int_t
ngx_http_mcp_oauth_state_reply(ngx_http_request_t *r,
    ngx_http_mcp_oauth_redis_state_t *rs, ngx_http_mcp_oauth_fetch_t *f,
    ngx_str_t *reply)
{
    if (f->status != NGX_HTTP_OK
        || ngx_http_mcp_oauth_resp_measure(f->body.data,
                                           f->body.data + f->body.len)
           != (ssize_t) f->body.len)
    {
        ngx_log_error(NGX_LOG_ERR, r->connection->log, 0,
                      "mcp_oauth: the state at \"%V\" is unavailable "
                      "(status %ui)", &rs->uri, f->status);
        ngx_http_mcp_oauth_count(r, NGX_HTTP_MCP_OAUTH_M_STATE_ERRORS,
                                 "redis", NULL);
        return NGX_ABORT;
    }

    *reply = f->body;

    return NGX_OK;
}


/* the prefix, then the hex of the entry's key */

static ngx_int_t
ngx_http_mcp_oauth_state_key(ngx_pool_t *pool,
    ngx_http_mcp_oauth_redis_state_t *rs, u_char *key, ngx_str_t *out)
{
    u_char  *p;

    p = ngx_pnalloc(pool, rs->prefix.len + 2 * 32);
    if (p == NULL) {
        return NGX_ERROR;
    }

    out->data = p;
    p = ngx_cpymem(p, rs->prefix.data, rs->prefix.len);
    out->len = ngx_hex_dump(p, key, 32) - out->data;

    return NGX_OK;
}


/* the type, "0" (not used), the data */

static ngx_int_t
ngx_http_mcp_oauth_state_value(ngx_pool_t *pool, ngx_uint_t type,
    ngx_str_t *data, ngx_str_t *out)
{
    u_char  *p;
    size_t   len;

    len = data ? data->len : 0;

    p = ngx_pnalloc(pool, 2 + len);
    if (p == NULL) {
        return NGX_ERROR;
    }

    out->data = p;
    *p++ = (u_char) ('0' + type);
    *p++ = '0';

    if (len) {
        p = ngx_cpymem(p, data->data, len);
    }

    out->len = p - out->data;

    return NGX_OK;
}


/* an entry's value as GET or the "use" script give it */

static ngx_int_t
ngx_http_mcp_oauth_state_entry(ngx_str_t *reply, ngx_uint_t type,
    ngx_pool_t *pool, ngx_str_t *data)
{
    ngx_http_mcp_oauth_resp_t  v;

    if (ngx_http_mcp_oauth_resp_read(reply, &v) != NGX_OK) {
        return NGX_ABORT;
    }

    if (v.type == NGX_HTTP_MCP_OAUTH_RESP_NIL) {
        return NGX_DECLINED;
    }

    if (v.type != NGX_HTTP_MCP_OAUTH_RESP_BULK) {
        return NGX_ABORT;
    }

    if (v.str.len < 2 || v.str.data[0] != (u_char) ('0' + type)) {
        return NGX_DECLINED;
    }

    if (data) {
        data->len = v.str.len - 2;
        data->data = ngx_pnalloc(pool, data->len + 1);
        if (data->data == NULL) {
            return NGX_ERROR;
        }

        ngx_memcpy(data->data, v.str.data + 2, data->len);
    }

    return (v.str.data[1] == '0') ? NGX_OK : NGX_BUSY;
}


static ngx_int_t
ngx_http_mcp_oauth_state_number(ngx_pool_t *pool, int64_t n, ngx_str_t *out)
{
    out->data = ngx_pnalloc(pool, NGX_INT64_LEN);
    if (out->data == NULL) {
        return NGX_ERROR;
    }

    out->len = ngx_sprintf(out->data, "%L", n) - out->data;

    return NGX_OK;
}


/*
 * The resource server's look at the fleet's revocations: at most once per
 * interval a request waits for the ones since the last look (NGX_AGAIN:
 * the phase runs again), which go into this node's zone, where the access
 * handler finds them as it finds its own.  A request that comes while
 * another one of this worker looks does not wait.  When Redis does not
 * answer, the revocations known keep applying and JWT validation goes on.
 */

ngx_int_t
ngx_http_mcp_oauth_state_sync(ngx_http_request_t *r,
    ngx_http_mcp_oauth_issued_t *issued, ngx_http_mcp_oauth_fetch_t *f)
{
    ngx_str_t                          args[8];
    ngx_msec_t                         now;
    ngx_http_mcp_oauth_state_sync_t   *sync;
    ngx_http_mcp_oauth_redis_state_t  *rs;

    rs = issued->redis;

    if (rs == NULL) {
        return NGX_OK;
    }

    if (f->pending) {
        return NGX_AGAIN;
    }

    if (f->done) {
        /* the look this request waited for */
        f->done = 0;
        ngx_http_mcp_oauth_state_synced(r, issued, f);
        return NGX_OK;
    }

    sync = rs->sync;
    now = ngx_current_msec;

    if ((ngx_msec_int_t) (now - sync->next) < 0
        || (sync->busy && (ngx_msec_int_t) (now - sync->busy) < 0))
    {
        return NGX_OK;
    }

    /* ZRANGEBYSCORE revocations <cursor> +inf WITHSCORES LIMIT 0 <batch> */

    ngx_str_set(&args[0], "ZRANGEBYSCORE");
    args[1] = rs->revocations;
    ngx_str_set(&args[3], "+inf");
    ngx_str_set(&args[4], "WITHSCORES");
    ngx_str_set(&args[5], "LIMIT");
    ngx_str_set(&args[6], "0");

    if (ngx_http_mcp_oauth_state_number(r->pool, sync->cursor, &args[2])
        != NGX_OK
        || ngx_http_mcp_oauth_state_number(r->pool,
                                           NGX_HTTP_MCP_OAUTH_SYNC_BATCH,
                                           &args[7])
           != NGX_OK)
    {
        return NGX_ERROR;
    }

    /* a look abandoned with its request is over when it would have failed */
    sync->busy = now + 10000;

    if (ngx_http_mcp_oauth_state_command(r, &rs->uri, f, args, 8, 1)
        != NGX_OK)
    {
        sync->busy = 0;
        return NGX_ERROR;
    }

    return NGX_AGAIN;
}


/* member, score, member, score...: each into the zone, the cursor on */

static void
ngx_http_mcp_oauth_state_synced(ngx_http_request_t *r,
    ngx_http_mcp_oauth_issued_t *issued, ngx_http_mcp_oauth_fetch_t *f)
{
    int64_t                            n, i, score, cursor;
    ngx_str_t                          reply;
    ngx_http_mcp_oauth_resp_t          v, member, s;
    ngx_http_mcp_oauth_state_sync_t   *sync;
    ngx_http_mcp_oauth_redis_state_t  *rs;

    rs = issued->redis;
    sync = rs->sync;
    sync->busy = 0;
    sync->next = ngx_current_msec + rs->interval;

    if (ngx_http_mcp_oauth_state_reply(r, rs, f, &reply) != NGX_OK
        || ngx_http_mcp_oauth_resp_read(&reply, &v) != NGX_OK
        || v.type != NGX_HTTP_MCP_OAUTH_RESP_ARRAY || v.n % 2)
    {
        ngx_log_error(NGX_LOG_WARN, r->connection->log, 0,
                      "mcp_oauth: the fleet's revocations were not read, "
                      "the ones known apply");
        return;
    }

    n = v.n / 2;
    cursor = sync->cursor;

    for (i = 0; i < n; i++) {
        if (ngx_http_mcp_oauth_resp_read(&reply, &member) != NGX_OK
            || ngx_http_mcp_oauth_resp_read(&reply, &s) != NGX_OK
            || member.type != NGX_HTTP_MCP_OAUTH_RESP_BULK
            || s.type != NGX_HTTP_MCP_OAUTH_RESP_BULK)
        {
            break;
        }

        /* scores are whole microseconds: below 2^53, exact as doubles */

        score = ngx_atoof(s.str.data, s.str.len);

        if (score == NGX_ERROR
            || ngx_http_mcp_oauth_state_mirror(r, issued, &member.str)
               != NGX_OK)
        {
            ngx_log_error(NGX_LOG_WARN, r->connection->log, 0,
                          "mcp_oauth: a revocation in \"%V\" is not ours: "
                          "\"%V\"", &rs->revocations, &member.str);
            continue;
        }

        cursor = ngx_max(cursor, score);
    }

    sync->cursor = cursor;

    if (n == NGX_HTTP_MCP_OAUTH_SYNC_BATCH) {
        /* more to read: the next request looks again */
        sync->next = ngx_current_msec;
    }
}


/* "<hex of the key>:<expiry>" into this node's zone */

static ngx_int_t
ngx_http_mcp_oauth_state_mirror(ngx_http_request_t *r,
    ngx_http_mcp_oauth_issued_t *issued, ngx_str_t *member)
{
    u_char      key[32];
    time_t      expires;
    ngx_int_t   c, rc;
    ngx_uint_t  i;

    if (member->len < 2 * 32 + 2 || member->data[2 * 32] != ':') {
        return NGX_ERROR;
    }

    for (i = 0; i < 32; i++) {
        c = ngx_hextoi(member->data + 2 * i, 2);
        if (c == NGX_ERROR) {
            return NGX_ERROR;
        }

        key[i] = (u_char) c;
    }

    expires = ngx_atotm(member->data + 2 * 32 + 1, member->len - 2 * 32 - 1);
    if (expires == NGX_ERROR) {
        return NGX_ERROR;
    }

    if (expires <= ngx_time()) {
        return NGX_OK;
    }

    rc = ngx_http_mcp_oauth_store_put(issued->zone, key,
                                      NGX_HTTP_MCP_OAUTH_ENTRY_REVOKED,
                                      expires, NULL, r->connection->log);

    return (rc == NGX_ERROR) ? NGX_ERROR : NGX_OK;
}


/* mcp_oauth_state_request URI [prefix=STRING] [sync=TIME] */

char *
ngx_http_mcp_oauth_state_request(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf)
{
    ngx_http_mcp_oauth_issued_t *issued = conf;

    ngx_str_t                         *value, s;
    ngx_uint_t                         i;
    ngx_http_mcp_oauth_redis_state_t  *rs;

    if (issued->redis) {
        return "is duplicate";
    }

    value = cf->args->elts;

    if (ngx_http_mcp_oauth_conf_local_uri(cf, cmd, &value[1]) != NGX_OK) {
        return NGX_CONF_ERROR;
    }

    rs = ngx_pcalloc(cf->pool, sizeof(ngx_http_mcp_oauth_redis_state_t));
    if (rs == NULL) {
        return NGX_CONF_ERROR;
    }

    rs->sync = ngx_pcalloc(cf->pool, sizeof(ngx_http_mcp_oauth_state_sync_t));
    if (rs->sync == NULL) {
        return NGX_CONF_ERROR;
    }

    rs->uri = value[1];
    rs->interval = 2000;
    ngx_http_mcp_oauth_where_set(&rs->at, cf);

    for (i = 2; i < cf->args->nelts; i++) {

        if (ngx_strncmp(value[i].data, "prefix=", 7) == 0
            && value[i].len > 7)
        {
            rs->prefix.data = value[i].data + 7;
            rs->prefix.len = value[i].len - 7;
            continue;
        }

        if (ngx_strncmp(value[i].data, "sync=", 5) == 0) {
            s.data = value[i].data + 5;
            s.len = value[i].len - 5;

            rs->interval = ngx_parse_time(&s, 0);

            if (rs->interval == (ngx_msec_t) NGX_ERROR || rs->interval == 0) {
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

    issued->redis = rs;

    return NGX_CONF_OK;
}


/*
 * Once the server's issuer is known: the prefix (by default one per
 * issuer, so servers may share a Redis), the revocations' key, how long
 * revocations are kept (the longest token's life), and a location of the
 * server that passes to Redis.
 */

ngx_int_t
ngx_http_mcp_oauth_state_init(ngx_conf_t *cf,
    ngx_http_mcp_oauth_issued_t *issued, ngx_http_core_srv_conf_t *cscf,
    time_t keep)
{
    u_char                            *p;
    ngx_http_mcp_oauth_redis_state_t  *rs;

    rs = issued->redis;

    if (rs == NULL) {
        return NGX_OK;
    }

    if (rs->prefix.len == 0) {
        rs->prefix.len = sizeof("mcp_oauth::") - 1 + issued->issuer.len;
        rs->prefix.data = ngx_pnalloc(cf->pool, rs->prefix.len);
        if (rs->prefix.data == NULL) {
            return NGX_ERROR;
        }

        ngx_sprintf(rs->prefix.data, "mcp_oauth:%V:", &issued->issuer);
    }

    rs->revocations.len = rs->prefix.len + sizeof("revoked") - 1;
    rs->revocations.data = ngx_pnalloc(cf->pool, rs->revocations.len);
    if (rs->revocations.data == NULL) {
        return NGX_ERROR;
    }

    p = ngx_cpymem(rs->revocations.data, rs->prefix.data, rs->prefix.len);
    ngx_memcpy(p, "revoked", sizeof("revoked") - 1);

    rs->keep = keep;

    if (ngx_http_mcp_oauth_redis_serves(cf, cscf, &rs->uri) != NGX_OK) {
        ngx_http_mcp_oauth_where_error(cf, &rs->at,
                                       "\"mcp_oauth_state_request\" \"%V\": "
                                       "no location of this server has "
                                       "\"mcp_oauth_redis_pass\" for it "
                                       "(an exact or prefix location)",
                                       &rs->uri);
        return NGX_ERROR;
    }

    return NGX_OK;
}
