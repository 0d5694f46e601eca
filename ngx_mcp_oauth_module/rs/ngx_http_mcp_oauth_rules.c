
/*
 * ngx_mcp_oauth_module: scope rules.  "mcp_oauth_scope NAME SCOPE..." and
 * its kin give a tool (resource, prompt, method) the scopes it needs; NAME is
 * an exact name, a "prefix*" pattern or "default".  The exact name beats the
 * longest prefix, which beats "default".
 */

#include <ngx_config.h>
#include <ngx_core.h>

#include "ngx_http_mcp_oauth_rules.h"


static ngx_int_t ngx_http_mcp_oauth_rule_cmp(const void *one, const void *two);
static ngx_http_mcp_oauth_rule_t *ngx_http_mcp_oauth_rules_search(
    ngx_http_mcp_oauth_rule_t *rules, ngx_uint_t n, u_char *name, size_t len);
static ngx_int_t ngx_http_mcp_oauth_len_cmp(const void *one, const void *two);


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
    size_t                      *len;
    ngx_uint_t                   i, n;
    ngx_http_mcp_oauth_rule_t   *rule, *exact, *prefix;
    ngx_http_mcp_oauth_rules_t  *rs;

    rs = ngx_pcalloc(cf->pool, sizeof(ngx_http_mcp_oauth_rules_t));
    if (rs == NULL) {
        return NULL;
    }

    rule = rules->elts;

    exact = ngx_palloc(cf->pool, rules->nelts * sizeof(*exact));
    prefix = ngx_palloc(cf->pool, rules->nelts * sizeof(*prefix));
    len = ngx_palloc(cf->pool, rules->nelts * sizeof(size_t));

    if (exact == NULL || prefix == NULL || len == NULL) {
        return NULL;
    }

    for (i = 0; i < rules->nelts; i++) {
        if (rule[i].dflt) {
            if (rs->dflt) {
                rule = &rule[i];
                goto duplicate;
            }

            rs->dflt = rule[i].scopes;

        } else if (rule[i].prefix) {
            prefix[rs->nprefix++] = rule[i];

        } else {
            exact[rs->nexact++] = rule[i];
        }
    }

    ngx_sort(exact, rs->nexact, sizeof(*exact), ngx_http_mcp_oauth_rule_cmp);
    ngx_sort(prefix, rs->nprefix, sizeof(*prefix),
             ngx_http_mcp_oauth_rule_cmp);

    for (i = 1; i < rs->nexact; i++) {
        if (ngx_http_mcp_oauth_rule_cmp(&exact[i - 1], &exact[i]) == 0) {
            rule = &exact[i];
            goto duplicate;
        }
    }

    n = 0;

    for (i = 0; i < rs->nprefix; i++) {
        if (i && ngx_http_mcp_oauth_rule_cmp(&prefix[i - 1], &prefix[i]) == 0)
        {
            rule = &prefix[i];
            goto duplicate;
        }

        len[n++] = prefix[i].name.len;
    }

    ngx_sort(len, n, sizeof(size_t), ngx_http_mcp_oauth_len_cmp);

    rs->nlengths = 0;

    for (i = 0; i < n; i++) {
        if (rs->nlengths == 0 || len[rs->nlengths - 1] != len[i]) {
            len[rs->nlengths++] = len[i];
        }
    }

    rs->exact = exact;
    rs->prefix = prefix;
    rs->lengths = len;

    return rs;

duplicate:

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
    ngx_uint_t                  i;
    ngx_http_mcp_oauth_rule_t  *rule;

    rule = ngx_http_mcp_oauth_rules_search(rs->exact, rs->nexact, name, len);
    if (rule) {
        return rule->scopes;
    }

    for (i = 0; i < rs->nlengths; i++) {
        if (rs->lengths[i] > len) {
            continue;
        }

        rule = ngx_http_mcp_oauth_rules_search(rs->prefix, rs->nprefix, name,
                                               rs->lengths[i]);
        if (rule) {
            return rule->scopes;
        }
    }

    return rs->dflt;
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
