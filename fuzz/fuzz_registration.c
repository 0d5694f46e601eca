
/*
 * What clients send to the authorization server as JSON, and the client
 * metadata document URL (ngx_http_mcp_oauth_as_parse.c), no request:
 *
 *  - ngx_http_mcp_oauth_registration_parse(): the input as an RFC 7591
 *    registration body, for a server whose scopes are "mcp:tools
 *    read:application", without mcp_oauth_redirect_uri_allow and with the
 *    allow-list of docs/authorization-server.md;
 *  - ngx_http_mcp_oauth_document_parse(): the input as a client metadata
 *    document fetched from https://client.example.com/oauth/metadata.json,
 *    and, when the input is an object whose client_id is an https URL that
 *    ngx_http_mcp_oauth_document_url() takes, fetched from that URL (so
 *    that mutated documents reach the end); both servers;
 *  - ngx_http_mcp_oauth_document_url(): the input, when it starts with
 *    "https://" (what the caller, ngx_http_mcp_oauth_client_find(), sends
 *    it), with and without mcp_oauth_client_metadata_private.
 *
 * Input: the bytes, as is (a JSON body, a document, or a URL).
 *
 * Checked beyond "no sanitizer report":
 *  - the input is not written to; NGX_ERROR never comes (no allocation
 *    fails here);
 *  - registration, differential against jansson and the documentation:
 *    NGX_OK exactly when the body is an object (no duplicate member) whose
 *    redirect_uris hold 1..16 strings that pass the redirect checks,
 *    token_endpoint_auth_method (if any) is none, client_secret_basic or
 *    client_secret_post, grant_types (if any) a non-empty array of
 *    authorization_code and refresh_token (client_credentials is for
 *    configured clients only), response_types (if any) an array of "code",
 *    client_name (if any) a string of at most 200 bytes and scope (if any)
 *    a string whose every scope the server has, kept in normal form (single
 *    spaces, each scope once).  On NGX_OK the client is
 *    that: its URIs (each inside the pool, each passing
 *    ngx_http_mcp_oauth_redirect_check()), auth < 3 (default
 *    client_secret_basic), grants non-zero (default code + refresh), name,
 *    scope (a subset of the server's); on NGX_DECLINED the error is
 *    invalid_redirect_uri for a redirect_uris problem, else
 *    invalid_client_metadata, and desc is set;
 *  - document: NGX_OK exactly when the text is an object whose client_id is
 *    the URL, whose token_endpoint_auth_method(s_supported), when given,
 *    include "none", and whose redirect_uris hold 1..16 acceptable
 *    strings; then the client is public (auth none), code + refresh, a
 *    document, its id the URL, its name client_name or else the URL, its
 *    scope (a string whose every scope the server has, else refused) the
 *    document's in normal form, a client_name over 200 bytes refused;
 *  - document_url: NGX_OK exactly for a URL without bytes <= 0x20, >= 0x7f,
 *    '#' or '\\', at most 2048 bytes, whose authority (before the first
 *    '/' or '?') is not empty and holds no '@', followed by a path other
 *    than "/", and (unless private documents are allowed) whose host is
 *    not an IPv6 literal, not an address of 0/8, 10/8, 100.64/10, 127/8,
 *    169.254/16, 172.16/12, 192.168/16 or 224.0.0.0 and up, not a numeric
 *    form other than four dot-separated decimal parts (as nginx's
 *    ngx_inet_addr() reads them), not localhost and not under .localhost,
 *    .local or .internal (any case, trailing dots off).
 *
 * jansson is called without JSON_ALLOW_NUL, here as in the module: no
 * string holds a NUL byte, and the module's ngx_strcmp() of names is exact.
 */


#include "fuzz_common.h"
#include <jansson.h>
#include <ngx_http.h>

#include "ngx_http_mcp_oauth_module.h"
#include "ngx_http_mcp_oauth_as.h"
#include "fuzz_as_ref.h"


#define DOC_URL  "https://client.example.com/oauth/metadata.json"

static ngx_str_t  server_scope = ngx_string("mcp:tools read:application");

/* by NGX_HTTP_MCP_OAUTH_AUTH_*; 3 is a static client's secret */
static const char  *auth_names[] = {
    "none", "client_secret_basic", "client_secret_post", "",
    "private_key_jwt"
};

static const char  *err_uri = "invalid_redirect_uri";
static const char  *err_meta = "invalid_client_metadata";


/* a JSON string equal to a name */

static int
name_eq(json_t *s, const char *name)
{
    return json_is_string(s) && json_string_length(s) == strlen(name)
           && memcmp(json_string_value(s), name, strlen(name)) == 0;
}


static int
json_str(json_t *j, ngx_str_t *s)
{
    if (!json_is_string(j)) {
        return 0;
    }

    s->data = (u_char *) json_string_value(j);
    s->len = json_string_length(j);

    return 1;
}


static int
str_eq(ngx_str_t *a, ngx_str_t *b)
{
    return a->len == b->len && (a->len == 0
                                || memcmp(a->data, b->data, a->len) == 0);
}


/* redirect_uris: NULL when acceptable, else why not */

static const char *
ref_uris(ngx_array_t *allow, json_t *uris)
{
    size_t     i;
    json_t    *e;
    ngx_str_t  s;

    if (!json_is_array(uris) || json_array_size(uris) == 0
        || json_array_size(uris) > 16)
    {
        return "redirect_uris is not an array of 1 to 16";
    }

    json_array_foreach(uris, i, e) {
        if (!json_str(e, &s) || ref_redirect_check(allow, &s) != NGX_OK) {
            return "a redirect URI is refused";
        }
    }

    return NULL;
}


/* ---- registration ------------------------------------------------------ */

typedef struct {
    const char  *error;        /* NULL: accepted */
    ngx_uint_t   auth;
    ngx_uint_t   grants;
} ref_reg_t;


static void
ref_registration(ngx_http_mcp_oauth_srv_conf_t *ascf, json_t *doc,
    ref_reg_t *r)
{
    size_t     i;
    json_t    *v, *e;
    ngx_str_t  s;

    r->error = err_meta;
    r->auth = NGX_HTTP_MCP_OAUTH_AUTH_BASIC;
    r->grants = 0;

    if (!json_is_object(doc)) {
        return;
    }

    if (ref_uris(ascf->redirect_allow, json_object_get(doc, "redirect_uris"))
        != NULL)
    {
        r->error = err_uri;
        return;
    }

    v = json_object_get(doc, "token_endpoint_auth_method");

    if (v) {
        for (i = 0; i < 5 && !(i != 3 && name_eq(v, auth_names[i])); i++) {
            /* void */
        }

        if (i == 5) {
            return;
        }

        r->auth = i;
    }

    v = json_object_get(doc, "grant_types");

    if (v == NULL) {
        r->grants = NGX_HTTP_MCP_OAUTH_GRANT_CODE
                    |NGX_HTTP_MCP_OAUTH_GRANT_REFRESH;

    } else {
        if (!json_is_array(v) || json_array_size(v) == 0) {
            return;
        }

        json_array_foreach(v, i, e) {
            if (name_eq(e, "authorization_code")) {
                r->grants |= NGX_HTTP_MCP_OAUTH_GRANT_CODE;

            } else if (name_eq(e, "refresh_token")) {
                r->grants |= NGX_HTTP_MCP_OAUTH_GRANT_REFRESH;

            } else {
                return;
            }
        }
    }

    v = json_object_get(doc, "response_types");

    if (v) {
        if (!json_is_array(v)) {
            return;
        }

        json_array_foreach(v, i, e) {
            if (!name_eq(e, "code")) {
                return;
            }
        }
    }

    v = json_object_get(doc, "client_name");

    if (v && (!json_is_string(v) || json_string_length(v) > 200)) {
        return;
    }

    v = json_object_get(doc, "scope");

    if (v && (!json_str(v, &s) || ref_subset(&s, &ascf->scope) != NGX_OK)) {
        return;
    }

    r->error = NULL;
}


static void
check_registration(ngx_http_mcp_oauth_srv_conf_t *ascf, ngx_pool_t *pool,
    ngx_str_t *body, json_t *doc)
{
    size_t                        i;
    json_t                       *uris;
    ngx_int_t                     rc;
    ngx_str_t                    *u, s;
    ref_reg_t                     ref;
    const char                   *error, *desc;
    ngx_http_mcp_oauth_client_t   c;

    error = NULL;
    desc = NULL;

    rc = ngx_http_mcp_oauth_registration_parse(pool, ascf, body, &c, &error,
                                               &desc);

    ref_registration(ascf, doc, &ref);

    MCP_FUZZ_CHECK(rc == NGX_OK || rc == NGX_DECLINED,
                   "registration_parse returned %ld", (long) rc);

    /*
     * private_key_jwt: whether its jwks or jwks_uri is usable is the JWK
     * Set parser's to say; refused as metadata, or kept, one of the two
     */

    if (ref.error == NULL && ref.auth == NGX_HTTP_MCP_OAUTH_AUTH_JWT) {
        if (rc == NGX_DECLINED) {
            MCP_FUZZ_CHECK(error && strcmp(error, err_meta) == 0 && desc,
                           "private_key_jwt registration: \"%s\"",
                           error ? error : "NULL");
            return;
        }

        MCP_FUZZ_CHECK((c.jwks.len != 0) != (c.jwks_uri.len != 0)
                       && c.secret.len == 0,
                       "private_key_jwt registration: jwks %lu, jwks_uri %lu",
                       (unsigned long) c.jwks.len,
                       (unsigned long) c.jwks_uri.len);
    }

    if (rc == NGX_DECLINED) {
        MCP_FUZZ_CHECK(ref.error != NULL, "registration refused (%s: %s), "
                       "expected accepted (%s)", error, desc,
                       ascf->redirect_allow ? "allow-list" : "no allow-list");
        MCP_FUZZ_CHECK(error != NULL
                       && (strcmp(error, err_uri) == 0
                           || strcmp(error, err_meta) == 0),
                       "registration error \"%s\"", error ? error : "NULL");
        MCP_FUZZ_CHECK(desc != NULL, "registration refused without desc");
        MCP_FUZZ_CHECK(strcmp(error, ref.error) == 0, "registration: \"%s\" "
                       "(%s), expected \"%s\"", error, desc, ref.error);
        return;
    }

    MCP_FUZZ_CHECK(ref.error == NULL, "registration accepted, expected "
                   "\"%s\" (%s)", ref.error,
                   ascf->redirect_allow ? "allow-list" : "no allow-list");

    /* the client */

    uris = json_object_get(doc, "redirect_uris");

    MCP_FUZZ_CHECK(c.redirect_uris != NULL
                   && c.redirect_uris->nelts >= 1
                   && c.redirect_uris->nelts <= 16
                   && c.redirect_uris->nelts == json_array_size(uris),
                   "registration: %lu redirect URIs",
                   c.redirect_uris ? (unsigned long) c.redirect_uris->nelts
                                   : 0);

    u = c.redirect_uris->elts;

    for (i = 0; i < c.redirect_uris->nelts; i++) {
        (void) json_str(json_array_get(uris, i), &s);

        MCP_FUZZ_CHECK(str_eq(&u[i], &s), "redirect URI %zu is not the "
                       "body's", i);
        mcp_fuzz_check_str("redirect URI", &u[i], pool, NULL, 0);
        MCP_FUZZ_CHECK(ngx_http_mcp_oauth_redirect_check(ascf, &u[i])
                       == NGX_OK, "registered redirect URI %zu refused by "
                       "redirect_check", i);
        MCP_FUZZ_CHECK(ngx_http_mcp_oauth_redirect_match(&c, &u[i]) == NGX_OK,
                       "redirect_match refused registered URI %zu", i);
    }

    MCP_FUZZ_CHECK((c.auth < 3 || c.auth == NGX_HTTP_MCP_OAUTH_AUTH_JWT)
                   && c.auth == ref.auth, "auth %lu, expected %lu",
                   (unsigned long) c.auth, (unsigned long) ref.auth);
    MCP_FUZZ_CHECK(strcmp(ngx_http_mcp_oauth_auth_name(c.auth),
                          auth_names[c.auth]) == 0,
                   "auth_name(%lu) is \"%s\"", (unsigned long) c.auth,
                   ngx_http_mcp_oauth_auth_name(c.auth));
    MCP_FUZZ_CHECK(c.grants != 0
                   && (c.grants & ~(ngx_uint_t) 7) == 0
                   && c.grants == ref.grants,
                   "grants 0x%lx, expected 0x%lx", (unsigned long) c.grants,
                   (unsigned long) ref.grants);
    MCP_FUZZ_CHECK(!(c.grants & NGX_HTTP_MCP_OAUTH_GRANT_CLIENT),
                   "client_credentials for a registered client");
    MCP_FUZZ_CHECK(c.id.len == 0 && c.secret.len == 0 && !c.document,
                   "registration set id, secret or document");

    if (json_str(json_object_get(doc, "client_name"), &s)) {
        MCP_FUZZ_CHECK(str_eq(&c.name, &s) && c.name.len <= 200,
                       "client_name differs");
        mcp_fuzz_check_str("client_name", &c.name, pool, NULL, 0);

    } else {
        MCP_FUZZ_CHECK(c.name.len == 0, "a name without client_name");
    }

    if (json_str(json_object_get(doc, "scope"), &s)) {
        MCP_FUZZ_CHECK(ref_scope_normal(pool, &s, &c.scope), "scope \"%.*s\" "
                       "is not the body's in normal form", (int) c.scope.len,
                       c.scope.data);
        mcp_fuzz_check_str("scope", &c.scope, pool, NULL, 0);
        MCP_FUZZ_CHECK(ref_subset(&c.scope, &ascf->scope) == NGX_OK
                       && ngx_http_mcp_oauth_scope_subset(&c.scope,
                                                          &ascf->scope)
                          == NGX_OK,
                       "registered scope \"%.*s\" not the server's",
                       (int) c.scope.len, c.scope.data);

    } else {
        MCP_FUZZ_CHECK(c.scope.len == 0, "a scope without scope");
    }
}


/* ---- client metadata documents ----------------------------------------- */

static int
ref_document(ngx_http_mcp_oauth_srv_conf_t *ascf, ngx_str_t *url, json_t *doc)
{
    size_t     i;
    json_t    *v, *e, *x;
    ngx_str_t  s;
    int        none, jwt;

    jwt = 1;

    if (!json_is_object(doc)) {
        return 0;
    }

    if (!json_str(json_object_get(doc, "client_id"), &s) || !str_eq(&s, url)) {
        return 0;
    }

    v = json_object_get(doc, "token_endpoint_auth_methods_supported");
    e = json_object_get(doc, "token_endpoint_auth_method");

    if (v || e) {
        none = name_eq(e, "none");

        if (json_is_array(v)) {
            json_array_foreach(v, i, x) {
                none |= name_eq(x, "none");
            }
        }

        if (!none) {
            /* private_key_jwt only: accepted if its keys are (2: unsure) */
            jwt = name_eq(e, "private_key_jwt");

            if (json_is_array(v)) {
                json_array_foreach(v, i, x) {
                    jwt |= name_eq(x, "private_key_jwt");
                }
            }

            if (!jwt || (json_object_get(doc, "jwks") == NULL
                         && json_object_get(doc, "jwks_uri") == NULL))
            {
                return 0;
            }

            jwt = 2;
        }
    }

    v = json_object_get(doc, "scope");

    if (json_str(v, &s) && ref_subset(&s, &ascf->scope) != NGX_OK) {
        return 0;
    }

    v = json_object_get(doc, "client_name");

    if (json_is_string(v) && json_string_length(v) > 200) {
        return 0;
    }

    return ref_uris(ascf->redirect_allow,
                    json_object_get(doc, "redirect_uris")) == NULL ? jwt : 0;
}


static void
check_document(ngx_http_mcp_oauth_srv_conf_t *ascf, ngx_pool_t *pool,
    ngx_str_t *url, ngx_str_t *text, json_t *doc)
{
    size_t                        i;
    json_t                       *uris;
    ngx_int_t                     rc;
    ngx_str_t                    *u, s;
    int                           ref;
    ngx_http_mcp_oauth_client_t   c;

    ngx_memzero(&c, sizeof(ngx_http_mcp_oauth_client_t));

    rc = ngx_http_mcp_oauth_document_parse(pool, &mcp_fuzz_log, ascf, url,
                                           text, &c);
    ref = ref_document(ascf, url, doc);

    MCP_FUZZ_CHECK(rc == NGX_OK || rc == NGX_DECLINED,
                   "document_parse returned %ld", (long) rc);
    if (ref == 2 && rc == NGX_DECLINED) {
        return;
    }

    MCP_FUZZ_CHECK((rc == NGX_OK) == (ref != 0), "document_parse %s, expected %s "
                   "(%s)", rc == NGX_OK ? "accepted" : "refused",
                   ref ? "accepted" : "refused",
                   ascf->redirect_allow ? "allow-list" : "no allow-list");

    if (rc != NGX_OK) {
        return;
    }

    uris = json_object_get(doc, "redirect_uris");

    MCP_FUZZ_CHECK(c.redirect_uris != NULL
                   && c.redirect_uris->nelts >= 1
                   && c.redirect_uris->nelts <= 16
                   && c.redirect_uris->nelts == json_array_size(uris),
                   "document: %lu redirect URIs",
                   c.redirect_uris ? (unsigned long) c.redirect_uris->nelts
                                   : 0);

    u = c.redirect_uris->elts;

    for (i = 0; i < c.redirect_uris->nelts; i++) {
        (void) json_str(json_array_get(uris, i), &s);

        MCP_FUZZ_CHECK(str_eq(&u[i], &s), "document redirect URI %zu is "
                       "not the document's", i);
        mcp_fuzz_check_str("document redirect URI", &u[i], pool, NULL, 0);
        MCP_FUZZ_CHECK(ngx_http_mcp_oauth_redirect_check(ascf, &u[i])
                       == NGX_OK, "document redirect URI %zu refused by "
                       "redirect_check", i);
        MCP_FUZZ_CHECK(ngx_http_mcp_oauth_redirect_match(&c, &u[i]) == NGX_OK,
                       "redirect_match refused document URI %zu", i);
    }

    MCP_FUZZ_CHECK(c.id.data == url->data && c.id.len == url->len,
                   "document client id is not its URL");
    MCP_FUZZ_CHECK(c.auth == (ref == 2 ? NGX_HTTP_MCP_OAUTH_AUTH_JWT
                                       : NGX_HTTP_MCP_OAUTH_AUTH_NONE)
                   && c.grants == (NGX_HTTP_MCP_OAUTH_GRANT_CODE
                                   |NGX_HTTP_MCP_OAUTH_GRANT_REFRESH)
                   && c.document && c.secret.len == 0,
                   "document client: auth %lu, grants 0x%lx, document %d",
                   (unsigned long) c.auth, (unsigned long) c.grants,
                   (int) c.document);

    if (json_str(json_object_get(doc, "client_name"), &s) && s.len) {
        MCP_FUZZ_CHECK(str_eq(&c.name, &s), "document client_name differs");
        mcp_fuzz_check_str("document client_name", &c.name, pool, NULL, 0);

    } else {
        MCP_FUZZ_CHECK(c.name.data == url->data && c.name.len == url->len,
                       "an unnamed document is not named by its URL");
    }

    if (json_str(json_object_get(doc, "scope"), &s)) {
        MCP_FUZZ_CHECK(ref_scope_normal(pool, &s, &c.scope),
                       "document scope \"%.*s\" is not the document's in "
                       "normal form", (int) c.scope.len, c.scope.data);
        MCP_FUZZ_CHECK(ref_subset(&c.scope, &ascf->scope) == NGX_OK,
                       "document scope not the server's");
        mcp_fuzz_check_str("document scope", &c.scope, pool, NULL, 0);

    } else {
        MCP_FUZZ_CHECK(c.scope.len == 0, "document: a scope without scope");
    }
}


/* ---- document URLs ----------------------------------------------------- */

static int
suffix(u_char *name, size_t len, const char *sfx)
{
    size_t  n;

    n = strlen(sfx);

    return len > n && memcmp(name + len - n, sfx, n) == 0;
}


static ngx_int_t
ref_document_url(ngx_str_t *url, ngx_flag_t private)
{
    size_t     i, a, h, hl, nparts;
    u_char     c, name[2048];
    uint32_t   addr, octet;
    ngx_uint_t numeric;

    if (url->len > 2048) {
        return NGX_DECLINED;
    }

    for (i = 0; i < url->len; i++) {
        c = url->data[i];

        if (c <= 0x20 || c >= 0x7f || c == '#' || c == '\\') {
            return NGX_DECLINED;
        }
    }

    /* the authority: from byte 8 to the first '/' or '?' */

    for (a = 8; a < url->len && url->data[a] != '/' && url->data[a] != '?';
         a++)
    {
        if (url->data[a] == '@') {
            return NGX_DECLINED;
        }
    }

    if (a == 8 || a == url->len || url->data[a] != '/' || a + 1 == url->len) {
        return NGX_DECLINED;
    }

    if (private) {
        return NGX_OK;
    }

    if (url->data[8] == '[') {
        return NGX_DECLINED;
    }

    /* the host: up to a ':', lowercased, trailing dots off */

    for (h = 8; h < a && url->data[h] != ':'; h++) {
        name[h - 8] = tolower(url->data[h]);
    }

    hl = h - 8;

    if (hl == 0 || hl >= 256) {
        return NGX_DECLINED;
    }

    while (hl && name[hl - 1] == '.') {
        hl--;
    }

    if (hl == 0) {
        return NGX_DECLINED;
    }

    numeric = 1;

    for (i = 0; i < hl; i++) {
        if (!isdigit(name[i]) && name[i] != '.') {
            numeric = 0;
        }
    }

    if (numeric) {
        /* nginx's ngx_inet_addr(): four parts, empty ones are 0 */

        addr = 0;
        octet = 0;
        nparts = 1;

        for (i = 0; i < hl; i++) {
            if (name[i] == '.') {
                addr = (addr << 8) | octet;
                octet = 0;
                nparts++;
                continue;
            }

            octet = octet * 10 + (name[i] - '0');

            if (octet > 255) {
                return NGX_DECLINED;
            }
        }

        if (nparts != 4) {
            return NGX_DECLINED;
        }

        addr = (addr << 8) | octet;

        if ((addr >> 24) == 0 || (addr >> 24) == 10 || (addr >> 24) == 127
            || (addr >> 16) == ((169 << 8) | 254)
            || (addr >> 20) == ((172 << 4) | 1)
            || (addr >> 16) == ((192 << 8) | 168)
            || (addr >> 22) == ((100 << 2) | 1)
            || (addr >> 24) >= 224)
        {
            return NGX_DECLINED;
        }

        return NGX_OK;
    }

    if ((hl == 9 && memcmp(name, "localhost", 9) == 0)
        || suffix(name, hl, ".localhost")
        || suffix(name, hl, ".local")
        || suffix(name, hl, ".internal"))
    {
        return NGX_DECLINED;
    }

    return NGX_OK;
}


static ngx_int_t
check_document_url(ngx_http_mcp_oauth_srv_conf_t *ascf, ngx_str_t *url)
{
    ngx_int_t  rc, ref;

    rc = ngx_http_mcp_oauth_document_url(ascf, url);
    ref = ref_document_url(url, ascf->cimd_private);

    MCP_FUZZ_CHECK(rc == ref, "document_url(\"%.*s\", private %d) = %ld",
                   (int) url->len, url->data, (int) ascf->cimd_private,
                   (long) rc);

    return rc;
}


int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    u_char                         *in;
    json_t                         *doc;
    ngx_str_t                       text, url, id;
    ngx_pool_t                     *pool;
    ngx_http_mcp_oauth_srv_conf_t   plain, allow;

    static ngx_str_t  doc_url = ngx_string(DOC_URL);

    mcp_fuzz_init(NGX_LOG_DEBUG);

    pool = mcp_fuzz_pool();
    in = mcp_fuzz_input(data, size);

    text.data = in;
    text.len = size;

    ngx_memzero(&plain, sizeof(ngx_http_mcp_oauth_srv_conf_t));
    plain.scope = server_scope;
    plain.redirect_allow = NULL;
    plain.cimd_private = 0;

    allow = plain;
    allow.redirect_allow = mcp_fuzz_allow_doc(pool);
    allow.cimd_private = 1;

    /* what the module reads with JSON_REJECT_DUPLICATES */

    doc = json_loadb((char *) in, size, JSON_REJECT_DUPLICATES, NULL);

    check_registration(&plain, pool, &text, doc);
    check_registration(&allow, pool, &text, doc);

    check_document(&plain, pool, &doc_url, &text, doc);
    check_document(&allow, pool, &doc_url, &text, doc);

    /* the document at the URL it names, if the module would fetch that */

    if (json_is_object(doc)
        && json_str(json_object_get(doc, "client_id"), &id)
        && id.len > 8 && memcmp(id.data, "https://", 8) == 0
        && !has_nul(&id)
        && check_document_url(&plain, &id) == NGX_OK)
    {
        /* the URL in a block of its own, as it comes from a request */

        url.len = id.len;
        url.data = ngx_pnalloc(pool, id.len);
        if (url.data == NULL) {
            abort();
        }

        ngx_memcpy(url.data, id.data, id.len);

        check_document(&plain, pool, &url, &text, doc);
        check_document(&allow, pool, &url, &text, doc);
    }

    json_decref(doc);

    /* the input as a URL (the caller sends only https:// ones) */

    if (size > 8 && memcmp(in, "https://", 8) == 0) {
        (void) check_document_url(&plain, &text);
        (void) check_document_url(&allow, &text);
    }

    ngx_destroy_pool(pool);
    mcp_fuzz_input_done(in, data, size);

    return 0;
}
