
/*
 * ngx_mcp_oauth_module: scope rules.  "mcp_oauth_scope NAME SCOPE..." and
 * its kin give a tool (resource, prompt, method) the scopes it needs; NAME is
 * an exact name, a "prefix*" pattern or "default".  The exact name beats the
 * longest prefix, which beats "default".
 */

#include <ngx_config.h>
#include <ngx_core.h>

#include "ngx_http_mcp_oauth_rules.h"
#include "ngx_http_mcp_oauth_string.h"


static ngx_int_t ngx_http_mcp_oauth_rules_normal(ngx_conf_t *cf,
    ngx_http_mcp_oauth_rule_t *rule, const char *directive);
static ngx_http_mcp_oauth_rule_t *ngx_http_mcp_oauth_rules_sort(
    ngx_http_mcp_oauth_rules_t *rs);
static void ngx_http_mcp_oauth_rules_lengths(ngx_http_mcp_oauth_rules_t *rs);
static ngx_http_mcp_oauth_rules_t *ngx_http_mcp_oauth_rules_duplicate(
    ngx_conf_t *cf, ngx_http_mcp_oauth_rule_t *rule, const char *directive);
static ngx_int_t ngx_http_mcp_oauth_rule_cmp(const void *one, const void *two);
static ngx_http_mcp_oauth_rule_t *ngx_http_mcp_oauth_rules_search(
    ngx_http_mcp_oauth_rule_t *rules, ngx_uint_t n, u_char *name, size_t len);
static ngx_int_t ngx_http_mcp_oauth_len_cmp(const void *one, const void *two);
static char *ngx_http_mcp_oauth_uri_escapes(ngx_str_t *uri);
static char *ngx_http_mcp_oauth_uri_start(ngx_str_t *uri, u_char **path,
    ngx_uint_t *file);
static char *ngx_http_mcp_oauth_uri_authority(u_char *auth, u_char *last,
    ngx_uint_t special, ngx_str_t *port, ngx_uint_t file, u_char **path);
static char *ngx_http_mcp_oauth_uri_path(u_char *path, u_char *last,
    ngx_uint_t file);


ngx_int_t
ngx_http_mcp_oauth_scope_token(ngx_str_t *s)
{
    u_char  *c;

    /* RFC 6749 §3.3: scope-token = 1*( %x21 / %x23-5B / %x5D-7E ) */

    if (s->len == 0) {
        return NGX_ERROR;
    }

    for (c = s->data; c < s->data + s->len; c++) {
        if (*c < 0x21 || *c > 0x7e || *c == '"' || *c == '\\') {
            return NGX_ERROR;
        }
    }

    return NGX_OK;
}


char *
ngx_http_mcp_oauth_rule(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    char  *p = conf;

    ngx_str_t                   *value, *s;
    ngx_uint_t                   i;
    ngx_array_t                **a;
    ngx_http_mcp_oauth_rule_t   *rule;

    a = (ngx_array_t **) (p + cmd->offset);

    if (*a == NGX_CONF_UNSET_PTR) {
        *a = ngx_array_create(cf->pool, 8, sizeof(ngx_http_mcp_oauth_rule_t));
        if (*a == NULL) {
            return NGX_CONF_ERROR;
        }
    }

    value = cf->args->elts;

    rule = ngx_array_push(*a);
    if (rule == NULL) {
        return NGX_CONF_ERROR;
    }

    ngx_memzero(rule, sizeof(ngx_http_mcp_oauth_rule_t));
    rule->name = value[1];

    if (value[1].len == sizeof("default") - 1
        && ngx_strncmp(value[1].data, "default", value[1].len) == 0)
    {
        rule->dflt = 1;

    } else {
        if (value[1].len && value[1].data[value[1].len - 1] == '*') {
            rule->prefix = 1;
            rule->name.len--;
        }

        if (ngx_strlchr(rule->name.data, rule->name.data + rule->name.len,
                        '*'))
        {
            ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                               "\"%V\": only a trailing \"*\" is supported "
                               "in \"%V\"", &cmd->name, &value[1]);
            return NGX_CONF_ERROR;
        }

        if (value[1].len == 0) {
            ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                               "\"%V\": empty name", &cmd->name);
            return NGX_CONF_ERROR;
        }
    }

    rule->scopes = ngx_array_create(cf->pool, cf->args->nelts - 2,
                                    sizeof(ngx_str_t));
    if (rule->scopes == NULL) {
        return NGX_CONF_ERROR;
    }

    for (i = 2; i < cf->args->nelts; i++) {
        if (ngx_http_mcp_oauth_scope_token(&value[i]) != NGX_OK) {
            ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                               "invalid scope \"%V\" in \"%V\"", &value[i],
                               &cmd->name);
            return NGX_CONF_ERROR;
        }

        s = ngx_array_push(rule->scopes);
        if (s == NULL) {
            return NGX_CONF_ERROR;
        }

        *s = value[i];
    }

    return NGX_CONF_OK;
}


ngx_http_mcp_oauth_rules_t *
ngx_http_mcp_oauth_rules_compile(ngx_conf_t *cf, ngx_array_t *rules,
    const char *directive)
{
    ngx_uint_t                   i;
    ngx_http_mcp_oauth_rule_t   *rule, *exact, *prefix;
    ngx_http_mcp_oauth_rules_t  *rs;

    rs = ngx_pcalloc(cf->pool, sizeof(ngx_http_mcp_oauth_rules_t));
    if (rs == NULL) {
        return NULL;
    }

    rule = rules->elts;

    exact = ngx_palloc(cf->pool, rules->nelts * sizeof(*exact));
    prefix = ngx_palloc(cf->pool, rules->nelts * sizeof(*prefix));
    rs->lengths = ngx_palloc(cf->pool, rules->nelts * sizeof(size_t));

    if (exact == NULL || prefix == NULL || rs->lengths == NULL) {
        return NULL;
    }

    rs->exact = exact;
    rs->prefix = prefix;

    for (i = 0; i < rules->nelts; i++) {

        if (ngx_http_mcp_oauth_rules_normal(cf, &rule[i], directive)
            != NGX_OK)
        {
            return NULL;
        }

        if (rule[i].dflt) {
            if (rs->dflt) {
                return ngx_http_mcp_oauth_rules_duplicate(cf, &rule[i],
                                                          directive);
            }

            rs->dflt = rule[i].scopes;

        } else if (rule[i].prefix) {
            prefix[rs->nprefix++] = rule[i];

        } else {
            exact[rs->nexact++] = rule[i];
        }
    }

    rule = ngx_http_mcp_oauth_rules_sort(rs);

    if (rule) {
        return ngx_http_mcp_oauth_rules_duplicate(cf, rule, directive);
    }

    ngx_http_mcp_oauth_rules_lengths(rs);

    return rs;
}


/* requests must spell URIs in normal form: so must the rules */

static ngx_int_t
ngx_http_mcp_oauth_rules_normal(ngx_conf_t *cf,
    ngx_http_mcp_oauth_rule_t *rule, const char *directive)
{
    char  *why;

    if (!rule->dflt && rule->name.len
        && ngx_strcmp(directive, "mcp_oauth_resource_scope") == 0)
    {
        why = ngx_http_mcp_oauth_uri_abnormal(&rule->name);

        if (why) {
            ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                               "\"%s\" rule \"%V%s\" is not a URI in "
                               "normal form (%s): no request could "
                               "match it", directive, &rule->name,
                               rule->prefix ? "*" : "", why);
            return NGX_ERROR;
        }
    }

    return NGX_OK;
}


/* the exact and the prefix rules sorted; returns the first one twice */

static ngx_http_mcp_oauth_rule_t *
ngx_http_mcp_oauth_rules_sort(ngx_http_mcp_oauth_rules_t *rs)
{
    ngx_uint_t                  i;
    ngx_http_mcp_oauth_rule_t  *exact, *prefix;

    exact = rs->exact;
    prefix = rs->prefix;

    ngx_sort(exact, rs->nexact, sizeof(*exact), ngx_http_mcp_oauth_rule_cmp);
    ngx_sort(prefix, rs->nprefix, sizeof(*prefix),
             ngx_http_mcp_oauth_rule_cmp);

    for (i = 1; i < rs->nexact; i++) {
        if (ngx_http_mcp_oauth_rule_cmp(&exact[i - 1], &exact[i]) == 0) {
            return &exact[i];
        }
    }

    for (i = 1; i < rs->nprefix; i++) {
        if (ngx_http_mcp_oauth_rule_cmp(&prefix[i - 1], &prefix[i]) == 0) {
            return &prefix[i];
        }
    }

    return NULL;
}


/* the prefix rules' lengths, longest first, each once */

static void
ngx_http_mcp_oauth_rules_lengths(ngx_http_mcp_oauth_rules_t *rs)
{
    size_t      *len;
    ngx_uint_t   i;

    len = rs->lengths;

    for (i = 0; i < rs->nprefix; i++) {
        len[i] = rs->prefix[i].name.len;
    }

    ngx_sort(len, rs->nprefix, sizeof(size_t), ngx_http_mcp_oauth_len_cmp);

    rs->nlengths = 0;

    for (i = 0; i < rs->nprefix; i++) {
        if (rs->nlengths == 0 || len[rs->nlengths - 1] != len[i]) {
            len[rs->nlengths++] = len[i];
        }
    }
}


static ngx_http_mcp_oauth_rules_t *
ngx_http_mcp_oauth_rules_duplicate(ngx_conf_t *cf,
    ngx_http_mcp_oauth_rule_t *rule, const char *directive)
{
    ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                       "duplicate \"%s\" rule for \"%V%s\"", directive,
                       rule->dflt ? &(ngx_str_t) ngx_string("default")
                                  : &rule->name,
                       rule->prefix ? "*" : "");
    return NULL;
}


ngx_array_t *
ngx_http_mcp_oauth_rules_find(ngx_http_mcp_oauth_rules_t *rs, u_char *name,
    size_t len)
{
    ngx_http_mcp_oauth_rule_t  *rule;

    rule = ngx_http_mcp_oauth_rules_match(rs, name, len);

    return rule ? rule->scopes : rs->dflt;
}


static ngx_http_mcp_oauth_rule_t *
ngx_http_mcp_oauth_rules_search(ngx_http_mcp_oauth_rule_t *rules,
    ngx_uint_t n, u_char *name, size_t len)
{
    ngx_int_t                  rc;
    ngx_uint_t                 lo, hi, mid;
    ngx_http_mcp_oauth_rule_t  key;

    key.name.data = name;
    key.name.len = len;

    lo = 0;
    hi = n;

    while (lo < hi) {
        mid = lo + (hi - lo) / 2;
        rc = ngx_http_mcp_oauth_rule_cmp(&key, &rules[mid]);

        if (rc == 0) {
            return &rules[mid];
        }

        if (rc < 0) {
            hi = mid;

        } else {
            lo = mid + 1;
        }
    }

    return NULL;
}


static ngx_int_t
ngx_http_mcp_oauth_rule_cmp(const void *one, const void *two)
{
    const ngx_http_mcp_oauth_rule_t  *a = one;
    const ngx_http_mcp_oauth_rule_t  *b = two;

    ngx_int_t  rc;

    rc = ngx_memcmp(a->name.data, b->name.data, ngx_min(a->name.len,
                                                        b->name.len));
    if (rc != 0) {
        return rc;
    }

    return (ngx_int_t) a->name.len - (ngx_int_t) b->name.len;
}


static ngx_int_t
ngx_http_mcp_oauth_len_cmp(const void *one, const void *two)
{
    const size_t  *a = one;
    const size_t  *b = two;

    /* longest first */

    return (*a < *b) ? 1 : ((*a > *b) ? -1 : 0);
}


/*
 * Resource rules compare the URI as sent, so every spelling a server would
 * resolve to the same resource must be refused but one: "file:///a/../s",
 * "file:///%73", "FILE:///s", "file://localhost/s" and "file:/s" all read
 * file:///s in Node (new URL() and fileURLToPath()).  Refused here:
 *
 *   - an upper-case scheme, a scheme of http, https, ws, wss, ftp or file
 *     without "//" (WHATWG reads "file:/s" and "https:h/p" as "//" ones);
 *   - in the authority: an upper-case, non-ASCII or dot-ended host of those
 *     schemes, user info or a default port of those, an empty port, and the
 *     "localhost" of file:;
 *   - in the path: "." and ".." segments, empty segments ("//"), and a
 *     "\" (a "/" to WHATWG parsers); %2F and %5C in a file: path;
 *   - anywhere: a "%" not followed by two upper-case hex digits, a
 *     percent-encoded unreserved character (%41 is "A": RFC 3986 §6.2.2.2),
 *     leading or trailing spaces.
 */

char *
ngx_http_mcp_oauth_uri_abnormal(ngx_str_t *uri)
{
    char        *why;
    u_char      *path;
    ngx_uint_t   file;

    if (uri->len == 0) {
        return "empty";
    }

    if (uri->data[0] == ' ' || uri->data[uri->len - 1] == ' ') {
        return "leading or trailing space";
    }

    why = ngx_http_mcp_oauth_uri_escapes(uri);

    if (why == NULL) {
        why = ngx_http_mcp_oauth_uri_start(uri, &path, &file);
    }

    if (why == NULL) {
        why = ngx_http_mcp_oauth_uri_path(path, uri->data + uri->len, file);
    }

    return why;
}


/* percent-encodings: two upper-case hex digits, never of unreserved */

static char *
ngx_http_mcp_oauth_uri_escapes(ngx_str_t *uri)
{
    u_char      *p, *last, c;
    ngx_uint_t   hi, lo;

    last = uri->data + uri->len;

    for (p = uri->data; p < last; p++) {
        if (*p != '%') {
            continue;
        }

        if (last - p < 3) {
            return "bad percent-encoding";
        }

        hi = ngx_http_mcp_oauth_hex(p[1]);
        lo = ngx_http_mcp_oauth_hex(p[2]);

        if (hi > 15 || lo > 15
            || (p[1] >= 'a' && p[1] <= 'f') || (p[2] >= 'a' && p[2] <= 'f'))
        {
            return "bad percent-encoding (hex digits must be upper case)";
        }

        c = (u_char) (hi * 16 + lo);

        if ((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z')
            || (c >= '0' && c <= '9')
            || c == '-' || c == '.' || c == '_' || c == '~')
        {
            return "percent-encoded unreserved character";
        }

        p += 2;
    }

    return NULL;
}


/* the scheme and the authority; *path: where the path starts */

static char *
ngx_http_mcp_oauth_uri_start(ngx_str_t *uri, u_char **path, ngx_uint_t *file)
{
    u_char      *p, *last, *scheme_end, c;
    size_t       slen;
    ngx_str_t   *port;
    ngx_uint_t   i, special;

    static struct {
        ngx_str_t  scheme;
        ngx_str_t  port;
    } specials[] = {
        { ngx_string("file"), ngx_null_string },
        { ngx_string("http"), ngx_string("80") },
        { ngx_string("https"), ngx_string("443") },
        { ngx_string("ws"), ngx_string("80") },
        { ngx_string("wss"), ngx_string("443") },
        { ngx_string("ftp"), ngx_string("21") }
    };

    port = NULL;
    last = uri->data + uri->len;

    /* scheme ":" */

    p = uri->data;
    scheme_end = NULL;

    if ((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z')) {
        for (p++; p < last; p++) {
            c = *p;

            if (c == ':') {
                scheme_end = p;
                break;
            }

            if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z')
                  || (c >= '0' && c <= '9') || c == '+' || c == '-'
                  || c == '.'))
            {
                break;
            }
        }
    }

    special = 0;
    *file = 0;

    if (scheme_end == NULL) {
        /* no scheme: a relative reference, its path is all there is */
        *path = uri->data;
        return NULL;
    }

    for (p = uri->data; p < scheme_end; p++) {
        if (*p >= 'A' && *p <= 'Z') {
            return "upper-case scheme";
        }
    }

    slen = scheme_end - uri->data;

    /* the schemes WHATWG URL parsers treat specially, their default ports */

    for (i = 0; i < sizeof(specials) / sizeof(specials[0]); i++) {
        if (slen == specials[i].scheme.len
            && ngx_strncmp(uri->data, specials[i].scheme.data, slen) == 0)
        {
            special = 1;
            port = &specials[i].port;
            break;
        }
    }

    *file = special && port->len == 0;

    p = scheme_end + 1;

    if (last - p < 2 || p[0] != '/' || p[1] != '/') {
        if (special) {
            return "no \"//\" after the scheme";
        }

        *path = p;
        return NULL;
    }

    return ngx_http_mcp_oauth_uri_authority(p + 2, last, special, port, *file,
                                            path);
}


/* [ userinfo "@" ] host [ ":" port ], for a special scheme's rules */

static char *
ngx_http_mcp_oauth_uri_authority(u_char *auth, u_char *last,
    ngx_uint_t special, ngx_str_t *port, ngx_uint_t file, u_char **path)
{
    u_char  *p, *auth_end, *host, *seg, c;
    size_t   slen;

    for (auth_end = auth; auth_end < last; auth_end++) {
        c = *auth_end;

        if (c == '/' || c == '?' || c == '#') {
            break;
        }

        if (c == '\\') {
            return "backslash";
        }
    }

    host = auth;

    for (p = auth; p < auth_end; p++) {
        if (*p == '@') {
            if (special) {
                return "user info";
            }

            host = p + 1;
        }
    }

    /* the port: after the last ":" that is not inside an IPv6 literal */

    p = auth_end;

    for (seg = auth_end; seg > host; seg--) {
        if (seg[-1] == ']') {
            break;
        }

        if (seg[-1] == ':') {
            p = seg - 1;
            break;
        }
    }

    if (p < auth_end) {
        /* p at ":" */

        if (p + 1 == auth_end) {
            return "empty port";
        }

        slen = auth_end - (p + 1);

        if (special && port->len && slen == port->len
            && ngx_strncmp(p + 1, port->data, slen) == 0)
        {
            return "default port";
        }
    }

    /* RFC 3986 §6.2.2.1: the host is case-insensitive in every scheme */

    for (seg = host; seg < p; seg++) {
        if (*seg >= 'A' && *seg <= 'Z') {
            return "upper-case host";
        }

        if (special && *seg >= 0x80) {
            return "non-ASCII host";
        }
    }

    if (special && p > host && p[-1] == '.') {
        return "host ends with a dot";
    }

    if (file && p - host == 9 && ngx_strncmp(host, "localhost", 9) == 0) {
        return "file: with \"localhost\" (write file:///)";
    }

    *path = auth_end;

    return NULL;
}


/* segments, up to the query or the fragment */

static char *
ngx_http_mcp_oauth_uri_path(u_char *path, u_char *last, ngx_uint_t file)
{
    u_char  *p, *seg, d;

    seg = path;

    for (p = path; /* void */ ; p++) {

        if (p < last && *p == '\\') {
            return "backslash";
        }

        if (file && p + 2 < last && p[0] == '%'
            && ((p[1] == '2' && p[2] == 'F') || (p[1] == '5' && p[2] == 'C')))
        {
            return "encoded slash";
        }

        if (p < last && *p != '/' && *p != '?' && *p != '#') {
            continue;
        }

        /* a segment ends at p */

        if (p - seg == 1 && seg[0] == '.') {
            return "dot segment";
        }

        if (p - seg == 2 && seg[0] == '.' && seg[1] == '.') {
            return "dot segment";
        }

        if (p == last || *p != '/') {
            break;
        }

        /* an empty segment: "//" in the path (not the first "/") */

        d = (p > path) ? p[-1] : 0;

        if (d == '/') {
            return "empty path segment";
        }

        seg = p + 1;
    }

    return NULL;
}


/*
 * The most specific rule "name" matches: its exact name, else the longest
 * prefix; NULL when none (or only "default") does.
 */

ngx_http_mcp_oauth_rule_t *
ngx_http_mcp_oauth_rules_match(ngx_http_mcp_oauth_rules_t *rs, u_char *name,
    size_t len)
{
    ngx_uint_t                  i;
    ngx_http_mcp_oauth_rule_t  *rule;

    rule = ngx_http_mcp_oauth_rules_search(rs->exact, rs->nexact, name, len);

    for (i = 0; rule == NULL && i < rs->nlengths; i++) {
        if (rs->lengths[i] <= len) {
            rule = ngx_http_mcp_oauth_rules_search(rs->prefix, rs->nprefix,
                                                   name, rs->lengths[i]);
        }
    }

    return rule;
}
