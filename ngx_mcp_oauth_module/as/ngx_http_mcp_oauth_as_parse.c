
/*
 * ngx_mcp_oauth_module: what the authorization server reads from clients,
 * apart from requests' headers: form parameters (queries and bodies),
 * scopes, redirect URIs, client registrations (RFC 7591) and client
 * metadata documents.  No request, no I/O: the fuzz harnesses drive these
 * directly.
 */

#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include "ngx_http_mcp_oauth_module.h"
#include "ngx_http_mcp_oauth_as.h"


static ngx_int_t ngx_http_mcp_oauth_registration_uris(ngx_pool_t *pool,
    ngx_http_mcp_oauth_srv_conf_t *ascf, json_t *doc,
    ngx_http_mcp_oauth_client_t *c, const char **desc);
static ngx_int_t ngx_http_mcp_oauth_registration_grants(
    ngx_http_mcp_oauth_srv_conf_t *ascf, json_t *doc,
    ngx_http_mcp_oauth_client_t *c, const char **desc);
static ngx_int_t ngx_http_mcp_oauth_registration_rest(ngx_pool_t *pool,
    ngx_http_mcp_oauth_srv_conf_t *ascf, json_t *doc,
    ngx_http_mcp_oauth_client_t *c, const char **desc);
static ngx_int_t ngx_http_mcp_oauth_param_set(ngx_pool_t *pool,
    ngx_http_mcp_oauth_params_t *p, ngx_uint_t i, ngx_str_t *value);
static u_char *ngx_http_mcp_oauth_form_decode(u_char *dst, u_char *src,
    size_t len);
static ngx_int_t ngx_http_mcp_oauth_private_host(u_char *host, size_t len);
static ngx_int_t ngx_http_mcp_oauth_document_self(ngx_log_t *log,
    ngx_str_t *url, json_t *doc);
static ngx_int_t ngx_http_mcp_oauth_document_public(ngx_log_t *log,
    ngx_str_t *url, json_t *doc);
static ngx_int_t ngx_http_mcp_oauth_document_redirects(ngx_log_t *log,
    ngx_http_mcp_oauth_srv_conf_t *ascf, ngx_str_t *url, json_t *doc);
static ngx_uint_t ngx_http_mcp_oauth_document_jwt(json_t *doc);
static ngx_int_t ngx_http_mcp_oauth_document_client(ngx_pool_t *pool,
    ngx_log_t *log, ngx_http_mcp_oauth_srv_conf_t *ascf, ngx_str_t *url,
    json_t *doc, ngx_http_mcp_oauth_client_t *c);
static ngx_int_t ngx_http_mcp_oauth_document_record(ngx_log_t *log,
    ngx_str_t *url, json_t *doc, json_t **rec);


ngx_str_t  ngx_http_mcp_oauth_param_names[] = {
    ngx_string("response_type"),
    ngx_string("client_id"),
    ngx_string("redirect_uri"),
    ngx_string("code_challenge"),
    ngx_string("code_challenge_method"),
    ngx_string("state"),
    ngx_string("scope"),
    ngx_string("resource"),
    ngx_string("decision"),
    ngx_string("csrf_token"),
    ngx_string("grant_type"),
    ngx_string("code"),
    ngx_string("code_verifier"),
    ngx_string("refresh_token"),
    ngx_string("client_secret"),
    ngx_string("token"),
    ngx_string("token_type_hint"),
    ngx_string("error"),
    ngx_string("device_code"),
    ngx_string("user_code"),
    ngx_string("granted_scope"),
    ngx_string("assertion"),
    ngx_string("client_assertion"),
    ngx_string("client_assertion_type"),
};


/*
 * application/x-www-form-urlencoded, for query strings and bodies.
 * Empty values count as absent (RFC 6749 §3.1); a parameter given twice is
 * marked, for the endpoints to refuse.  NGX_DECLINED: bad encoding.
 */

ngx_int_t
ngx_http_mcp_oauth_params_parse(ngx_pool_t *pool, ngx_str_t *in,
    ngx_http_mcp_oauth_params_t *p)
{
    u_char      *pos, *last, *amp, *eq, *d;
    size_t       nlen;
    ngx_str_t    value;
    ngx_uint_t   i;

    pos = in->data;
    last = in->data + in->len;

    while (pos < last) {
        amp = ngx_strlchr(pos, last, '&');
        if (amp == NULL) {
            amp = last;
        }

        eq = ngx_strlchr(pos, amp, '=');
        nlen = (eq ? eq : amp) - pos;

        for (i = 0; i < NGX_HTTP_MCP_OAUTH_P_N; i++) {
            if (ngx_http_mcp_oauth_param_names[i].len == nlen
                && ngx_strncmp(ngx_http_mcp_oauth_param_names[i].data, pos,
                               nlen) == 0)
            {
                break;
            }
        }

        if (i < NGX_HTTP_MCP_OAUTH_P_N && eq && eq + 1 < amp) {
            d = ngx_pnalloc(pool, amp - eq);
            if (d == NULL) {
                return NGX_ERROR;
            }

            value.data = d;
            d = ngx_http_mcp_oauth_form_decode(d, eq + 1, amp - eq - 1);

            if (d == NULL) {
                return NGX_DECLINED;
            }

            value.len = d - value.data;

            if (ngx_http_mcp_oauth_param_set(pool, p, i, &value) != NGX_OK) {
                return NGX_ERROR;
            }
        }

        pos = amp + 1;
    }

    return NGX_OK;
}

/*
 * A parameter given twice is marked repeated, except granted_scope: one
 * per ticked checkbox of the consent form, they add up, space-joined.
 */

static ngx_int_t
ngx_http_mcp_oauth_param_set(ngx_pool_t *pool, ngx_http_mcp_oauth_params_t *p,
    ngx_uint_t i, ngx_str_t *value)
{
    u_char  *d;

    if (!(p->present & (1u << i))) {
        p->present |= 1u << i;
        p->v[i] = *value;
        return NGX_OK;
    }

    if (i != NGX_HTTP_MCP_OAUTH_P_GRANTED_SCOPE) {
        p->repeated |= 1u << i;
        p->v[i] = *value;
        return NGX_OK;
    }

    d = ngx_pnalloc(pool, p->v[i].len + 1 + value->len);
    if (d == NULL) {
        return NGX_ERROR;
    }

    ngx_memcpy(d, p->v[i].data, p->v[i].len);
    d[p->v[i].len] = ' ';
    ngx_memcpy(d + p->v[i].len + 1, value->data, value->len);

    p->v[i].data = d;
    p->v[i].len += 1 + value->len;

    return NGX_OK;
}


static u_char *
ngx_http_mcp_oauth_form_decode(u_char *dst, u_char *src, size_t len)
{
    u_char      *last, c;
    ngx_uint_t   h, l;

    last = src + len;

    while (src < last) {
        c = *src++;

        if (c == '+') {
            *dst++ = ' ';
            continue;
        }

        if (c != '%') {
            *dst++ = c;
            continue;
        }

        if (last - src < 2) {
            return NULL;
        }

        h = ngx_http_mcp_oauth_hex(src[0]);
        l = ngx_http_mcp_oauth_hex(src[1]);

        if (h > 15 || l > 15) {
            return NULL;
        }

        *dst++ = (u_char) ((h << 4) | l);
        src += 2;
    }

    return dst;
}

/* NGX_OK: each space-separated scope of "scope" is one of "of" */

ngx_int_t
ngx_http_mcp_oauth_scope_subset(ngx_str_t *scope, ngx_str_t *of)
{
    u_char  *p, *last, *end, *q, *olast, *oend;

    p = scope->data;
    last = scope->data + scope->len;

    while (p < last) {
        if (*p == ' ') {
            p++;
            continue;
        }

        end = ngx_strlchr(p, last, ' ');
        if (end == NULL) {
            end = last;
        }

        q = of->data;
        olast = of->data + of->len;

        for ( ;; ) {
            if (q >= olast) {
                return NGX_DECLINED;
            }

            oend = ngx_strlchr(q, olast, ' ');
            if (oend == NULL) {
                oend = olast;
            }

            if (oend - q == end - p && ngx_memcmp(q, p, end - p) == 0) {
                break;
            }

            q = oend + 1;
        }

        p = end;
    }

    return NGX_OK;
}

/*
 * The one check of a scope a client supplies, whichever way it comes (the
 * request, a registration, a metadata document): each scope is one this
 * server supports and, for a static client with "scope=", one of its.
 * "scope" becomes its normal form: single spaces, each scope once.
 * A registered client's scope is only its default: the SDKs register with
 * the first challenge's scope, and must be able to step up later (MCP
 * 2025-11-25 "Scope Selection Strategy").
 */

ngx_int_t
ngx_http_mcp_oauth_scope_allowed(ngx_pool_t *pool,
    ngx_http_mcp_oauth_srv_conf_t *ascf, ngx_http_mcp_oauth_client_t *client,
    ngx_str_t *scope)
{
    u_char     *p, *last, *end, *out, *q;
    ngx_str_t   one, done;

    out = ngx_pnalloc(pool, scope->len + 1);
    if (out == NULL) {
        return NGX_ERROR;
    }

    q = out;
    last = scope->data + scope->len;

    for (p = scope->data; p < last; p = end + 1) {
        end = ngx_strlchr(p, last, ' ');
        if (end == NULL) {
            end = last;
        }

        one.data = p;
        one.len = end - p;

        if (one.len == 0) {
            continue;
        }

        if (ngx_http_mcp_oauth_scope_subset(&one, &ascf->scope) != NGX_OK
            || (client && client->limited
                && ngx_http_mcp_oauth_scope_subset(&one, &client->scope)
                   != NGX_OK))
        {
            return NGX_DECLINED;
        }

        done.data = out;
        done.len = q - out;

        if (ngx_http_mcp_oauth_scope_subset(&one, &done) == NGX_OK) {
            continue;
        }

        if (q > out) {
            *q++ = ' ';
        }

        q = ngx_cpymem(q, one.data, one.len);
    }

    scope->data = out;
    scope->len = q - out;

    return NGX_OK;
}


/* "scope" keeps the scopes that are also in "of", in its order */

ngx_int_t
ngx_http_mcp_oauth_scope_intersect(ngx_pool_t *pool, ngx_str_t *scope,
    ngx_str_t *of)
{
    u_char     *p, *last, *end, *out, *q;
    ngx_str_t   one;

    out = ngx_pnalloc(pool, scope->len + 1);
    if (out == NULL) {
        return NGX_ERROR;
    }

    q = out;
    p = scope->data;
    last = scope->data + scope->len;

    while (p < last) {
        end = ngx_strlchr(p, last, ' ');
        if (end == NULL) {
            end = last;
        }

        one.data = p;
        one.len = end - p;

        if (one.len && ngx_http_mcp_oauth_scope_subset(&one, of) == NGX_OK) {
            if (q > out) {
                *q++ = ' ';
            }

            q = ngx_cpymem(q, one.data, one.len);
        }

        p = end + 1;
    }

    scope->data = out;
    scope->len = q - out;

    return NGX_OK;
}


/*
 * NGX_OK for a path (up to "?") that is its own RFC 3986 §5.2.4 normal
 * form: no "." or ".." segment, no encoded dot, slash or backslash that a
 * server would decode into one.  Prefix patterns then match what the
 * browser will really ask for.
 */

ngx_int_t
ngx_http_mcp_oauth_path_plain(u_char *p, u_char *last)
{
    u_char  *q, *seg, c;

    q = ngx_strlchr(p, last, '?');
    if (q) {
        last = q;
    }

    for (seg = p; p < last; p++) {
        if (*p == '%' && last - p >= 3) {
            c = p[2] | 0x20;

            if ((p[1] == '2' && (c == 'e' || c == 'f'))
                || (p[1] == '5' && c == 'c'))
            {
                return NGX_DECLINED;
            }
        }

        if (*p == '/') {
            seg = p + 1;
            continue;
        }

        if (*p == '.' && (p + 1 == last || p[1] == '/')
            && (p == seg || (p == seg + 1 && *seg == '.')))
        {
            return NGX_DECLINED;
        }
    }

    return NGX_OK;
}

/*
 * A redirect URI a client may register: https, or http on a loopback
 * address (RFC 8252 §7.3), without a fragment (RFC 6749 §3.1.2), its path
 * in normal form; with mcp_oauth_redirect_uri_allow, one of its patterns.
 */

ngx_int_t
ngx_http_mcp_oauth_redirect_check(ngx_http_mcp_oauth_srv_conf_t *ascf,
    ngx_str_t *uri)
{
    u_char      *p, *last;
    ngx_str_t    rest;
    ngx_uint_t   loopback;

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

        for (p = uri->data + 8; p < last && *p != '/' && *p != '?'; p++) {
            /* the authority */
        }

        rest.data = p;
        rest.len = last - p;
    }

    if (ngx_http_mcp_oauth_path_plain(rest.data, rest.data + rest.len)
        != NGX_OK)
    {
        return NGX_DECLINED;
    }

    if (ascf == NULL || ascf->redirect_allow == NULL) {
        return NGX_OK;
    }

    return ngx_http_mcp_oauth_redirect_patterns(ascf->redirect_allow, uri);
}


/*
 * NGX_OK: the URI matches one of the patterns of mcp_oauth_redirect_uri_allow
 * (or a directive like it): a URL, a prefix ending in "*", or "loopback".
 */

ngx_int_t
ngx_http_mcp_oauth_redirect_patterns(ngx_array_t *patterns, ngx_str_t *uri)
{
    ngx_str_t   *pat, rest;
    ngx_uint_t   i;

    pat = patterns->elts;

    for (i = 0; i < patterns->nelts; i++) {

        if (ngx_strcmp(pat[i].data, "loopback") == 0) {
            if (ngx_http_mcp_oauth_loopback(uri, &rest) == NGX_OK) {
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

/* a JSON document into the pool: compact, members in insertion order */

ngx_int_t
ngx_http_mcp_oauth_json_out(ngx_pool_t *pool, json_t *doc, ngx_str_t *out)
{
    char  *s;

    s = json_dumps(doc, JSON_COMPACT|JSON_PRESERVE_ORDER);
    if (s == NULL) {
        return NGX_ERROR;
    }

    out->len = ngx_strlen(s);
    out->data = ngx_pnalloc(pool, out->len);

    if (out->data == NULL) {
        free(s);
        return NGX_ERROR;
    }

    ngx_memcpy(out->data, s, out->len);
    free(s);

    return NGX_OK;
}


/* the sealed record: {"r":[uris],"m":auth,"g":grants,"n":name,"s":scope} */

ngx_int_t
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
    /* a sealed id never carries client_credentials (ids sealed before did) */
    c->grants = json_integer_value(json_object_get(doc, "g"))
                & (NGX_HTTP_MCP_OAUTH_GRANT_USER
                   |NGX_HTTP_MCP_OAUTH_GRANT_DEVICE);

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

    /* private_key_jwt: its JWK Set's text, or where it is */

    v = json_object_get(doc, "k");
    if (json_is_string(v)) {
        c->jwks.len = json_string_length(v);
        c->jwks.data = ngx_pstrdup(pool, &(ngx_str_t) { c->jwks.len,
                                           (u_char *) json_string_value(v) });
        if (c->jwks.data == NULL) {
            return NGX_ERROR;
        }
    }

    v = json_object_get(doc, "u");
    if (json_is_string(v)) {
        c->jwks_uri.len = json_string_length(v);
        c->jwks_uri.data = ngx_pstrdup(pool, &(ngx_str_t) { c->jwks_uri.len,
                                       (u_char *) json_string_value(v) });
        if (c->jwks_uri.data == NULL) {
            return NGX_ERROR;
        }
    }

    return NGX_OK;
}

ngx_int_t
ngx_http_mcp_oauth_document_parse(ngx_pool_t *pool, ngx_log_t *log,
    ngx_http_mcp_oauth_srv_conf_t *ascf, ngx_str_t *url, ngx_str_t *text,
    ngx_http_mcp_oauth_client_t *c)
{
    json_t      *doc;
    ngx_int_t    rc;
    ngx_uint_t   jwt, pub;
    const char  *desc;

    doc = json_loadb((char *) text->data, text->len, JSON_REJECT_DUPLICATES,
                     NULL);

    if (!json_is_object(doc)) {
        ngx_log_error(NGX_LOG_INFO, log, 0,
                      "mcp_oauth: client metadata document \"%V\" is not a "
                      "JSON object", url);
        json_decref(doc);
        return NGX_DECLINED;
    }

    /*
     * A client that signs its assertions (private_key_jwt with jwks or
     * jwks_uri), a public one ("none" among its methods), or both, as
     * ChatGPT's document says: then an assertion, if it sends one, is
     * verified, else it is public.
     */

    jwt = ngx_http_mcp_oauth_document_jwt(doc);
    pub = (ngx_http_mcp_oauth_document_public(jwt ? NULL : log, url, doc)
           == NGX_OK);

    if (ngx_http_mcp_oauth_document_self(log, url, doc) != NGX_OK
        || (!jwt && !pub)
        || ngx_http_mcp_oauth_document_redirects(log, ascf, url, doc)
           != NGX_OK)
    {
        json_decref(doc);
        return NGX_DECLINED;
    }

    ngx_memzero(c, sizeof(ngx_http_mcp_oauth_client_t));

    rc = ngx_http_mcp_oauth_document_client(pool, log, ascf, url, doc, c);

    if (rc == NGX_OK && jwt) {
        rc = ngx_http_mcp_oauth_client_keys(pool, ascf, doc, c, &desc);

        if (rc == NGX_DECLINED) {
            ngx_log_error(NGX_LOG_INFO, log, 0,
                          "mcp_oauth: client metadata document \"%V\": %s%s",
                          url, desc, pub ? " (a public client then)" : "");

            /* "none" too: a public client without keys */
            ngx_str_null(&c->jwks);
            ngx_str_null(&c->jwks_uri);
            rc = pub ? NGX_OK : NGX_DECLINED;
        }
    }

    json_decref(doc);

    if (rc != NGX_OK) {
        return rc;
    }

    c->id = *url;
    c->auth = pub ? NGX_HTTP_MCP_OAUTH_AUTH_NONE : NGX_HTTP_MCP_OAUTH_AUTH_JWT;
    c->grants = NGX_HTTP_MCP_OAUTH_GRANT_USER;
    c->document = 1;

    if (c->name.len == 0) {
        c->name = *url;
    }

    return NGX_OK;
}


/* private_key_jwt, its method or among its methods, and keys */

static ngx_uint_t
ngx_http_mcp_oauth_document_jwt(json_t *doc)
{
    size_t   i;
    json_t  *v, *e;

    if (json_object_get(doc, "jwks") == NULL
        && json_object_get(doc, "jwks_uri") == NULL)
    {
        return 0;
    }

    v = json_object_get(doc, "token_endpoint_auth_method");

    if (json_is_string(v)
        && ngx_strcmp(json_string_value(v), "private_key_jwt") == 0)
    {
        return 1;
    }

    v = json_object_get(doc, "token_endpoint_auth_methods_supported");

    json_array_foreach(v, i, e) {
        if (json_is_string(e)
            && ngx_strcmp(json_string_value(e), "private_key_jwt") == 0)
        {
            return 1;
        }
    }

    return 0;
}


/* the client of a document: its redirect URIs, name and scope */

static ngx_int_t
ngx_http_mcp_oauth_document_client(ngx_pool_t *pool, ngx_log_t *log,
    ngx_http_mcp_oauth_srv_conf_t *ascf, ngx_str_t *url, json_t *doc,
    ngx_http_mcp_oauth_client_t *c)
{
    json_t     *rec;
    ngx_int_t   rc;

    rc = ngx_http_mcp_oauth_document_record(log, url, doc, &rec);

    if (rc != NGX_OK) {
        return rc;
    }

    rc = ngx_http_mcp_oauth_client_json(pool, rec, c);
    json_decref(rec);

    if (rc != NGX_OK) {
        return NGX_ERROR;
    }

    if (c->scope.len) {
        switch (ngx_http_mcp_oauth_scope_allowed(pool, ascf, NULL, &c->scope)) {
        case NGX_OK:
            break;
        case NGX_ERROR:
            return NGX_ERROR;
        default:
            ngx_log_error(NGX_LOG_INFO, log, 0,
                          "mcp_oauth: client metadata document \"%V\": its "
                          "scope \"%V\" names a scope this server does not "
                          "grant", url, &c->scope);
            return NGX_DECLINED;
        }
    }

    return NGX_OK;
}

/* the document names itself (CIMD §4.1) */

static ngx_int_t
ngx_http_mcp_oauth_document_self(ngx_log_t *log, ngx_str_t *url,
    json_t *doc)
{
    json_t  *v;

    v = json_object_get(doc, "client_id");

    if (!json_is_string(v) || json_string_length(v) != url->len
        || ngx_strncmp(json_string_value(v), url->data, url->len) != 0)
    {
        ngx_log_error(NGX_LOG_INFO, log, 0,
                      "mcp_oauth: client metadata document \"%V\": its "
                      "client_id is not its URL", url);
        return NGX_DECLINED;
    }

    return NGX_OK;
}

/* public clients only: "none" among its methods is enough */

static ngx_int_t
ngx_http_mcp_oauth_document_public(ngx_log_t *log, ngx_str_t *url,
    json_t *doc)
{
    size_t       i;
    json_t      *v, *e;
    ngx_uint_t   none;

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
        if (log) {
            ngx_log_error(NGX_LOG_INFO, log, 0,
                          "mcp_oauth: client metadata document \"%V\" does "
                          "not allow the \"none\" authentication method",
                          url);
        }

        return NGX_DECLINED;
    }

    return NGX_OK;
}

/* 1 to 16 redirect URIs, each one this server allows */

static ngx_int_t
ngx_http_mcp_oauth_document_redirects(ngx_log_t *log,
    ngx_http_mcp_oauth_srv_conf_t *ascf, ngx_str_t *url, json_t *doc)
{
    size_t      i;
    json_t     *v, *e;
    ngx_str_t   s;

    v = json_object_get(doc, "redirect_uris");

    if (!json_is_array(v) || json_array_size(v) == 0
        || json_array_size(v) > 16)
    {
        return NGX_DECLINED;
    }

    json_array_foreach(v, i, e) {
        if (!json_is_string(e)) {
            return NGX_DECLINED;
        }

        s.data = (u_char *) json_string_value(e);
        s.len = json_string_length(e);

        if (ngx_http_mcp_oauth_redirect_check(ascf, &s) != NGX_OK) {
            ngx_log_error(NGX_LOG_INFO, log, 0,
                          "mcp_oauth: client metadata document \"%V\": "
                          "redirect URI \"%V\" is not allowed", url, &s);
            return NGX_DECLINED;
        }
    }

    return NGX_OK;
}

/*
 * The document as a sealed record (ngx_http_mcp_oauth_client_json), within
 * the limits of a registration (the same client, another way in).
 */

static ngx_int_t
ngx_http_mcp_oauth_document_record(ngx_log_t *log, ngx_str_t *url,
    json_t *doc, json_t **rec)
{
    json_t  *v;

    *rec = json_pack("{sO}", "r", json_object_get(doc, "redirect_uris"));
    if (*rec == NULL) {
        return NGX_ERROR;
    }

    v = json_object_get(doc, "client_name");
    if (json_is_string(v)) {
        if (json_string_length(v) > 200) {
            ngx_log_error(NGX_LOG_INFO, log, 0,
                          "mcp_oauth: client metadata document \"%V\": "
                          "client_name is longer than 200 bytes", url);
            json_decref(*rec);
            return NGX_DECLINED;
        }

        json_object_set(*rec, "n", v);
    }

    v = json_object_get(doc, "scope");
    if (json_is_string(v)) {
        json_object_set(*rec, "s", v);
    }

    return NGX_OK;
}

/* https, a host that is not private, a path; no user info, no fragment */

ngx_int_t
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

    while (len && name[len - 1] == '.') {
        name[--len] = '\0';
    }

    if (len == 0) {
        return NGX_DECLINED;
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


/* by NGX_HTTP_MCP_OAUTH_AUTH_*: a static client's secret is basic or post */
static const char  *ngx_http_mcp_oauth_auth_names[] = {
    "none", "client_secret_basic", "client_secret_post",
    "client_secret_basic", "private_key_jwt"
};


const char *
ngx_http_mcp_oauth_auth_name(ngx_uint_t auth)
{
    return ngx_http_mcp_oauth_auth_names[auth <= NGX_HTTP_MCP_OAUTH_AUTH_JWT
                                         ? auth : 1];
}


/*
 * A registration request (RFC 7591 §2) into "c".  NGX_DECLINED: *error
 * (invalid_redirect_uri, invalid_client_metadata) and *desc say why.
 */

ngx_int_t
ngx_http_mcp_oauth_registration_parse(ngx_pool_t *pool,
    ngx_http_mcp_oauth_srv_conf_t *ascf, ngx_str_t *body,
    ngx_http_mcp_oauth_client_t *c, const char **error, const char **desc)
{
    json_t     *doc;
    ngx_int_t   rc;

    ngx_memzero(c, sizeof(ngx_http_mcp_oauth_client_t));
    *error = "invalid_client_metadata";

    doc = json_loadb((char *) body->data, body->len, JSON_REJECT_DUPLICATES,
                     NULL);

    if (!json_is_object(doc)) {
        json_decref(doc);
        *desc = "the body is not a JSON object";
        return NGX_DECLINED;
    }

    rc = ngx_http_mcp_oauth_registration_uris(pool, ascf, doc, c, desc);

    if (rc == NGX_DECLINED) {
        *error = "invalid_redirect_uri";
    }

    if (rc == NGX_OK) {
        rc = ngx_http_mcp_oauth_registration_grants(ascf, doc, c, desc);
    }

    if (rc == NGX_OK) {
        rc = ngx_http_mcp_oauth_registration_rest(pool, ascf, doc, c, desc);
    }

    if (rc == NGX_OK && c->auth == NGX_HTTP_MCP_OAUTH_AUTH_JWT) {
        rc = ngx_http_mcp_oauth_client_keys(pool, ascf, doc, c, desc);
    }

    json_decref(doc);

    return rc;
}


/*
 * The keys of a private_key_jwt client (RFC 7591 §2): "jwks", a JWK Set
 * with a key to verify its assertions, or "jwks_uri", fetched like a
 * metadata document (so only where one can be).  NGX_DECLINED: *desc.
 */

ngx_int_t
ngx_http_mcp_oauth_client_keys(ngx_pool_t *pool,
    ngx_http_mcp_oauth_srv_conf_t *ascf, json_t *doc,
    ngx_http_mcp_oauth_client_t *c, const char **desc)
{
    char       *err;
    json_t     *jwks, *uri;
    ngx_log_t   quiet;

    /* the keys a client sends: why one is skipped is not logged */

    ngx_memzero(&quiet, sizeof(ngx_log_t));

    jwks = json_object_get(doc, "jwks");
    uri = json_object_get(doc, "jwks_uri");

    if ((jwks == NULL) == (uri == NULL)) {
        *desc = "private_key_jwt needs either jwks or jwks_uri";
        return NGX_DECLINED;
    }

    if (uri) {
        c->jwks_uri.data = (u_char *) json_string_value(uri);
        c->jwks_uri.len = json_string_length(uri);

        if (c->jwks_uri.data == NULL || ascf->cimd_uri.len == 0
            || ngx_http_mcp_oauth_document_url(ascf, &c->jwks_uri) != NGX_OK)
        {
            *desc = "jwks_uri must be a public https URL, and this server "
                    "must fetch metadata documents "
                    "(mcp_oauth_client_metadata_request); else send jwks";
            return NGX_DECLINED;
        }

        c->jwks_uri.data = ngx_pstrdup(pool, &c->jwks_uri);

        return c->jwks_uri.data ? NGX_OK : NGX_ERROR;
    }

    if (!json_is_object(jwks)
        || ngx_http_mcp_oauth_json_out(pool, jwks, &c->jwks) != NGX_OK
        || ngx_http_mcp_oauth_jwks_parse(pool, &quiet, NGX_LOG_DEBUG,
                                         c->jwks.data, c->jwks.len, 0, &err)
           == NULL)
    {
        *desc = "jwks must be a JWK Set with a public key to verify the "
                "client's assertions";
        return NGX_DECLINED;
    }

    return NGX_OK;
}


static ngx_int_t
ngx_http_mcp_oauth_registration_uris(ngx_pool_t *pool,
    ngx_http_mcp_oauth_srv_conf_t *ascf, json_t *doc,
    ngx_http_mcp_oauth_client_t *c, const char **desc)
{
    size_t      i;
    json_t     *v, *e;
    ngx_str_t   s, *uri;

    /* required, each one acceptable */

    v = json_object_get(doc, "redirect_uris");

    if (!json_is_array(v) || json_array_size(v) == 0
        || json_array_size(v) > 16)
    {
        *desc = "redirect_uris must be an array of 1 to 16 URIs";
        return NGX_DECLINED;
    }

    c->redirect_uris = ngx_array_create(pool, json_array_size(v),
                                        sizeof(ngx_str_t));
    if (c->redirect_uris == NULL) {
        return NGX_ERROR;
    }

    json_array_foreach(v, i, e) {
        s.data = (u_char *) json_string_value(e);
        s.len = json_string_length(e);

        if (s.data == NULL
            || ngx_http_mcp_oauth_redirect_check(ascf, &s) != NGX_OK)
        {
            *desc = "redirect URIs must be https, or http on a loopback "
                    "address, and allowed by this server";
            return NGX_DECLINED;
        }

        uri = ngx_array_push(c->redirect_uris);
        if (uri == NULL) {
            return NGX_ERROR;
        }

        uri->len = s.len;
        uri->data = ngx_pstrdup(pool, &s);
        if (uri->data == NULL) {
            return NGX_ERROR;
        }
    }

    return NGX_OK;
}


/* token_endpoint_auth_method and grant_types */

static ngx_int_t
ngx_http_mcp_oauth_registration_grants(ngx_http_mcp_oauth_srv_conf_t *ascf,
    json_t *doc, ngx_http_mcp_oauth_client_t *c, const char **desc)
{
    size_t       i;
    json_t      *v, *e;
    ngx_uint_t   has_grants;

    /* token_endpoint_auth_method: RFC 7591 §2 default client_secret_basic */

    c->auth = NGX_HTTP_MCP_OAUTH_AUTH_BASIC;
    v = json_object_get(doc, "token_endpoint_auth_method");

    if (v) {
        for (c->auth = 0; c->auth <= NGX_HTTP_MCP_OAUTH_AUTH_JWT; c->auth++) {
            if (c->auth != NGX_HTTP_MCP_OAUTH_AUTH_SECRET
                && json_is_string(v)
                && ngx_strcmp(json_string_value(v),
                              ngx_http_mcp_oauth_auth_names[c->auth]) == 0)
            {
                break;
            }
        }

        if (c->auth > NGX_HTTP_MCP_OAUTH_AUTH_JWT) {
            *desc = "token_endpoint_auth_method must be none, "
                    "client_secret_basic, client_secret_post or "
                    "private_key_jwt";
            return NGX_DECLINED;
        }
    }

    /* grant_types */

    has_grants = 0;
    v = json_object_get(doc, "grant_types");

    if (v && (!json_is_array(v) || json_array_size(v) == 0)) {
        goto bad_grant;
    }

    json_array_foreach(v, i, e) {
        has_grants = 1;

        if (!json_is_string(e)) {
            goto bad_grant;
        }

        if (ngx_strcmp(json_string_value(e), "authorization_code") == 0) {
            c->grants |= NGX_HTTP_MCP_OAUTH_GRANT_CODE;

        } else if (ngx_strcmp(json_string_value(e), "refresh_token") == 0) {
            c->grants |= NGX_HTTP_MCP_OAUTH_GRANT_REFRESH;

        } else if (ascf->device == NGX_HTTP_MCP_OAUTH_DEVICE_ON
                   && ngx_strcmp(json_string_value(e),
                                 NGX_HTTP_MCP_OAUTH_DEVICE_GRANT) == 0)
        {
            c->grants |= NGX_HTTP_MCP_OAUTH_GRANT_DEVICE;

        } else if (ngx_strcmp(json_string_value(e), "client_credentials") == 0)
        {
            /* tokens without a user: only for clients the operator named */
            *desc = "client_credentials is only for clients configured "
                    "with mcp_oauth_client ... secret=, not for registered "
                    "ones";
            return NGX_DECLINED;

        } else {
            goto bad_grant;
        }
    }

    if (!has_grants) {
        c->grants = NGX_HTTP_MCP_OAUTH_GRANT_USER;
    }

    return NGX_OK;

bad_grant:

    *desc = "grant_types may hold authorization_code, refresh_token and, "
            "where the device flow is offered, "
            NGX_HTTP_MCP_OAUTH_DEVICE_GRANT;

    return NGX_DECLINED;
}


/* response_types, client_name, scope */

static ngx_int_t
ngx_http_mcp_oauth_registration_rest(ngx_pool_t *pool,
    ngx_http_mcp_oauth_srv_conf_t *ascf, json_t *doc,
    ngx_http_mcp_oauth_client_t *c, const char **desc)
{
    size_t      i;
    json_t     *v, *e;
    ngx_str_t   s;

    v = json_object_get(doc, "response_types");

    if (v && !json_is_array(v)) {
        goto bad_response;
    }

    json_array_foreach(v, i, e) {
        if (!json_is_string(e) || ngx_strcmp(json_string_value(e), "code")) {
            goto bad_response;
        }
    }

    v = json_object_get(doc, "client_name");

    if (v) {
        if (!json_is_string(v) || json_string_length(v) > 200) {
            *desc = "client_name must be a string of at most 200 bytes";
            return NGX_DECLINED;
        }

        s.data = (u_char *) json_string_value(v);
        s.len = json_string_length(v);
        c->name.len = s.len;
        c->name.data = ngx_pstrdup(pool, &s);

        if (c->name.data == NULL && s.len) {
            return NGX_ERROR;
        }
    }

    v = json_object_get(doc, "scope");

    if (v) {
        s.data = (u_char *) json_string_value(v);
        s.len = json_string_length(v);

        if (s.data == NULL) {
            goto bad_scope;
        }

        switch (ngx_http_mcp_oauth_scope_allowed(pool, ascf, NULL, &s)) {
        case NGX_OK:
            break;
        case NGX_ERROR:
            return NGX_ERROR;
        default:
            goto bad_scope;
        }

        c->scope = s;
    }

    return NGX_OK;

bad_response:

    *desc = "response_types may only hold code";

    return NGX_DECLINED;

bad_scope:

    *desc = "scope names a scope this server does not grant";

    return NGX_DECLINED;
}
