
/*
 * ngx_mcp_oauth_module: the configuration of what people see at the
 * built-in authorization server: the scopes of the consent page (the
 * operator's descriptions, the scopes a person cannot untick, what each
 * unlocks at the resources of the same server, read from their
 * mcp_oauth_*scope rules at configuration time), whether a person may
 * choose, and the look of every page (a template, a stylesheet, a logo, a
 * product name), all read and checked when nginx starts.
 */

#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include "ngx_http_mcp_oauth_module.h"
#include "ngx_http_mcp_oauth_as.h"


static ngx_http_mcp_oauth_scope_info_t *ngx_http_mcp_oauth_scope_info_get(
    ngx_pool_t *pool, ngx_array_t **a, ngx_str_t *name);
static ngx_int_t ngx_http_mcp_oauth_scope_name_check(ngx_str_t *s);
static char *ngx_http_mcp_oauth_page_template(ngx_conf_t *cf,
    ngx_command_t *cmd, ngx_http_mcp_oauth_srv_conf_t *ascf,
    ngx_str_t *name, ngx_str_t *text);
static char *ngx_http_mcp_oauth_page_logo(ngx_conf_t *cf, ngx_command_t *cmd,
    ngx_http_mcp_oauth_srv_conf_t *ascf, ngx_str_t *name, ngx_str_t *text);
static ngx_int_t ngx_http_mcp_oauth_unlock_add(ngx_pool_t *pool,
    ngx_http_mcp_oauth_scope_info_t *info, ngx_uint_t kind,
    ngx_http_mcp_oauth_rule_t *rule, ngx_str_t *name);


/* mcp_oauth_scope_description SCOPE "TEXT" */

char *
ngx_http_mcp_oauth_scope_description(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf)
{
    ngx_http_mcp_oauth_srv_conf_t *ascf = conf;

    ngx_str_t                        *value;
    ngx_http_mcp_oauth_scope_info_t  *info;

    value = cf->args->elts;

    if (ngx_http_mcp_oauth_scope_name_check(&value[1]) != NGX_OK) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "\"%V\": \"%V\" is not a scope (RFC 6749 §3.3)",
                           &cmd->name, &value[1]);
        return NGX_CONF_ERROR;
    }

    if (value[2].len == 0) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "\"%V\": the description of \"%V\" is empty",
                           &cmd->name, &value[1]);
        return NGX_CONF_ERROR;
    }

    info = ngx_http_mcp_oauth_scope_info_get(cf->pool, &ascf->scope_info,
                                             &value[1]);
    if (info == NULL) {
        return NGX_CONF_ERROR;
    }

    if (info->description.len) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "\"%V\": \"%V\" is described twice",
                           &cmd->name, &value[1]);
        return NGX_CONF_ERROR;
    }

    info->description = value[2];

    return NGX_CONF_OK;
}


/* mcp_oauth_consent_required_scope SCOPE...: never unticked */

char *
ngx_http_mcp_oauth_consent_required(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf)
{
    ngx_http_mcp_oauth_srv_conf_t *ascf = conf;

    ngx_str_t                        *value;
    ngx_uint_t                        i;
    ngx_http_mcp_oauth_scope_info_t  *info;

    value = cf->args->elts;

    for (i = 1; i < cf->args->nelts; i++) {
        if (ngx_http_mcp_oauth_scope_name_check(&value[i]) != NGX_OK) {
            ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                               "\"%V\": \"%V\" is not a scope "
                               "(RFC 6749 §3.3)", &cmd->name, &value[i]);
            return NGX_CONF_ERROR;
        }

        info = ngx_http_mcp_oauth_scope_info_get(cf->pool, &ascf->scope_info,
                                                 &value[i]);
        if (info == NULL) {
            return NGX_CONF_ERROR;
        }

        info->required = 1;
    }

    return NGX_CONF_OK;
}


/* RFC 6749 §3.3: scope-token = 1*( %x21 / %x23-5B / %x5D-7E ) */

static ngx_int_t
ngx_http_mcp_oauth_scope_name_check(ngx_str_t *s)
{
    u_char  *p, *last;

    if (s->len == 0) {
        return NGX_DECLINED;
    }

    last = s->data + s->len;

    for (p = s->data; p < last; p++) {
        if (*p < 0x21 || *p > 0x7e || *p == '"' || *p == '\\') {
            return NGX_DECLINED;
        }
    }

    return NGX_OK;
}


static ngx_http_mcp_oauth_scope_info_t *
ngx_http_mcp_oauth_scope_info_get(ngx_pool_t *pool, ngx_array_t **a,
    ngx_str_t *name)
{
    ngx_http_mcp_oauth_scope_info_t  *info;

    if (*a == NULL) {
        *a = ngx_array_create(pool, 4,
                              sizeof(ngx_http_mcp_oauth_scope_info_t));
        if (*a == NULL) {
            return NULL;
        }
    }

    info = ngx_http_mcp_oauth_scope_info_find((*a)->elts, (*a)->nelts, name);
    if (info) {
        return info;
    }

    info = ngx_array_push(*a);
    if (info == NULL) {
        return NULL;
    }

    ngx_memzero(info, sizeof(ngx_http_mcp_oauth_scope_info_t));
    info->name = *name;

    return info;
}


/* mcp_oauth_page_template, mcp_oauth_page_stylesheet, mcp_oauth_page_logo */

char *
ngx_http_mcp_oauth_page_file(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    ngx_http_mcp_oauth_srv_conf_t *ascf = conf;

    u_char     *p, *last;
    ngx_str_t  *value, name, text;

    value = cf->args->elts;
    name = value[1];

    switch (cmd->name.data[sizeof("mcp_oauth_page_") - 1]) {

    case 't':
        if (ascf->look.parts != NGX_CONF_UNSET_PTR) {
            return "is duplicate";
        }

        if (ngx_http_mcp_oauth_conf_file(cf, &cmd->name, "template", &name,
                                         64 * 1024, &text)
            != NGX_OK)
        {
            return NGX_CONF_ERROR;
        }

        return ngx_http_mcp_oauth_page_template(cf, cmd, ascf, &name, &text);

    case 's':
        if (ascf->look.css.data) {
            return "is duplicate";
        }

        if (ngx_http_mcp_oauth_conf_file(cf, &cmd->name, "stylesheet", &name,
                                         64 * 1024, &text)
            != NGX_OK)
        {
            return NGX_CONF_ERROR;
        }

        /* it goes inside <style>: nothing may end the element */

        last = text.data + text.len;

        for (p = text.data; p + 1 < last; p++) {
            if (p[0] == '<' && (p[1] == '/' || p[1] == '!')) {
                ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                                   "\"%V\": the stylesheet \"%V\" must not "
                                   "contain \"<%c\"", &cmd->name, &name,
                                   p[1]);
                return NGX_CONF_ERROR;
            }
        }

        ascf->look.css = text;
        return NGX_CONF_OK;

    default: /* logo */
        if (ascf->look.logo.data) {
            return "is duplicate";
        }

        if (ngx_http_mcp_oauth_conf_file(cf, &cmd->name, "logo", &name,
                                         256 * 1024, &text)
            != NGX_OK)
        {
            return NGX_CONF_ERROR;
        }

        return ngx_http_mcp_oauth_page_logo(cf, cmd, ascf, &name, &text);
    }
}


static char *
ngx_http_mcp_oauth_page_template(ngx_conf_t *cf, ngx_command_t *cmd,
    ngx_http_mcp_oauth_srv_conf_t *ascf, ngx_str_t *name, ngx_str_t *text)
{
    char       *err;
    ngx_str_t   bad;

    err = ngx_http_mcp_oauth_template_parse(cf->pool, text, &ascf->look,
                                            &bad);
    if (err) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "\"%V\": the template \"%V\" %s \"%V\" (it takes "
                           "{{title}}, {{product}}, {{logo}}, {{style}} and "
                           "one {{content}})", &cmd->name, name, err, &bad);
        return NGX_CONF_ERROR;
    }

    return NGX_CONF_OK;
}


/* the logo, inline: the pages load nothing (Content-Security-Policy) */

static char *
ngx_http_mcp_oauth_page_logo(ngx_conf_t *cf, ngx_command_t *cmd,
    ngx_http_mcp_oauth_srv_conf_t *ascf, ngx_str_t *name, ngx_str_t *text)
{
    u_char      *p;
    ngx_str_t    type, b64, *t;
    ngx_uint_t   i;

    static ngx_str_t  types[] = {
        ngx_string(".png"), ngx_string("image/png"),
        ngx_string(".svg"), ngx_string("image/svg+xml"),
        ngx_string(".jpg"), ngx_string("image/jpeg"),
        ngx_string(".jpeg"), ngx_string("image/jpeg"),
        ngx_string(".gif"), ngx_string("image/gif"),
        ngx_string(".webp"), ngx_string("image/webp")
    };

    ngx_str_null(&type);

    for (i = 0; i < sizeof(types) / sizeof(ngx_str_t); i += 2) {
        t = &types[i];

        if (name->len > t->len
            && ngx_strncasecmp(name->data + name->len - t->len, t->data,
                               t->len) == 0)
        {
            type = types[i + 1];
            break;
        }
    }

    if (type.len == 0) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "\"%V\": \"%V\" is not a .png, .svg, .jpg, .gif "
                           "or .webp file", &cmd->name, name);
        return NGX_CONF_ERROR;
    }

    b64.len = ngx_base64_encoded_length(text->len);
    ascf->look.logo.len = sizeof("data:;base64,") - 1 + type.len + b64.len;
    ascf->look.logo.data = ngx_pnalloc(cf->pool, ascf->look.logo.len);
    if (ascf->look.logo.data == NULL) {
        return NGX_CONF_ERROR;
    }

    p = ngx_cpymem(ascf->look.logo.data, "data:", 5);
    p = ngx_cpymem(p, type.data, type.len);
    p = ngx_cpymem(p, ";base64,", 8);

    b64.data = p;
    ngx_encode_base64(&b64, text);

    return NGX_CONF_OK;
}


/* at merge time: what a server does not set, it inherits */

ngx_int_t
ngx_http_mcp_oauth_look_merge(ngx_conf_t *cf,
    ngx_http_mcp_oauth_srv_conf_t *prev, ngx_http_mcp_oauth_srv_conf_t *conf)
{
    ngx_uint_t                        i;
    ngx_http_mcp_oauth_scope_info_t  *p, *info;

    ngx_conf_merge_value(conf->consent_choice, prev->consent_choice, 1);
    ngx_conf_merge_ptr_value(conf->no_choice, prev->no_choice, NULL);

    if (conf->look.parts == NGX_CONF_UNSET_PTR) {
        conf->look.parts = prev->look.parts;
        conf->look.nparts = prev->look.nparts;
    }

    if (conf->look.parts == NGX_CONF_UNSET_PTR) {
        conf->look.parts = NULL;
    }

    ngx_conf_merge_str_value(conf->look.css, prev->look.css, "");
    ngx_conf_merge_str_value(conf->look.logo, prev->look.logo, "");
    ngx_conf_merge_str_value(conf->look.product, prev->look.product, "");

    /*
     * The scopes add up, the server's own first; each server has its own
     * copy, for what its locations' rules unlock.
     */

    if (prev->scope_info == NULL) {
        return NGX_OK;
    }

    p = prev->scope_info->elts;

    for (i = 0; i < prev->scope_info->nelts; i++) {
        info = ngx_http_mcp_oauth_scope_info_get(cf->pool, &conf->scope_info,
                                                 &p[i].name);
        if (info == NULL) {
            return NGX_ERROR;
        }

        if (info->description.len == 0) {
            info->description = p[i].description;
        }

        info->required |= p[i].required;
    }

    return NGX_OK;
}


/*
 * At each location's merge: what its rules (tools, resources, prompts,
 * methods, in this order in "lists") and its baseline scopes unlock, for
 * the consent page of the server's authorization server.
 */

ngx_int_t
ngx_http_mcp_oauth_unlocks_collect(ngx_conf_t *cf,
    ngx_http_mcp_oauth_srv_conf_t *ascf, ngx_array_t **lists,
    ngx_str_t *resource, ngx_array_t *baseline)
{
    ngx_str_t                        *s;
    ngx_uint_t                        i, j, k;
    ngx_http_mcp_oauth_rule_t        *rule;
    ngx_http_mcp_oauth_scope_info_t  *info;

    for (i = 0; baseline && resource->len && i < baseline->nelts; i++) {
        s = baseline->elts;

        info = ngx_http_mcp_oauth_scope_info_get(cf->pool, &ascf->scope_info,
                                                 &s[i]);
        if (info == NULL
            || ngx_http_mcp_oauth_unlock_add(cf->pool, info,
                                             NGX_HTTP_MCP_OAUTH_UNLOCK_BASELINE,
                                             NULL, resource)
               != NGX_OK)
        {
            return NGX_ERROR;
        }
    }

    for (i = 0; i < 4; i++) {
        if (lists[i] == NULL || lists[i] == NGX_CONF_UNSET_PTR) {
            continue;
        }

        rule = lists[i]->elts;

        for (j = 0; j < lists[i]->nelts; j++) {
            s = rule[j].scopes->elts;

            for (k = 0; k < rule[j].scopes->nelts; k++) {
                info = ngx_http_mcp_oauth_scope_info_get(cf->pool,
                                                         &ascf->scope_info,
                                                         &s[k]);
                if (info == NULL
                    || ngx_http_mcp_oauth_unlock_add(cf->pool, info, i,
                                                     &rule[j], NULL)
                       != NGX_OK)
                {
                    return NGX_ERROR;
                }
            }
        }
    }

    return NGX_OK;
}


static ngx_int_t
ngx_http_mcp_oauth_unlock_add(ngx_pool_t *pool,
    ngx_http_mcp_oauth_scope_info_t *info, ngx_uint_t kind,
    ngx_http_mcp_oauth_rule_t *rule, ngx_str_t *name)
{
    ngx_uint_t                    i;
    ngx_http_mcp_oauth_unlock_t   u, *e;

    ngx_memzero(&u, sizeof(ngx_http_mcp_oauth_unlock_t));
    u.kind = kind;

    if (rule) {
        u.name = rule->name;
        u.prefix = rule->prefix;
        u.dflt = rule->dflt;

    } else {
        u.name = *name;
    }

    if (info->unlocks == NULL) {
        info->unlocks = ngx_array_create(pool, 4,
                                         sizeof(ngx_http_mcp_oauth_unlock_t));
        if (info->unlocks == NULL) {
            return NGX_ERROR;
        }
    }

    /* locations inherit their server's rules: each once */

    e = info->unlocks->elts;

    for (i = 0; i < info->unlocks->nelts; i++) {
        if (e[i].kind == u.kind && e[i].prefix == u.prefix
            && e[i].dflt == u.dflt && e[i].name.len == u.name.len
            && ngx_strncmp(e[i].name.data, u.name.data, u.name.len) == 0)
        {
            return NGX_OK;
        }
    }

    e = ngx_array_push(info->unlocks);
    if (e == NULL) {
        return NGX_ERROR;
    }

    *e = u;

    return NGX_OK;
}


/* 1: the person chooses the scopes for a client of this redirect URI */

ngx_uint_t
ngx_http_mcp_oauth_consent_choice(ngx_http_mcp_oauth_srv_conf_t *ascf,
    ngx_str_t *redirect)
{
    if (!ascf->consent_choice) {
        return 0;
    }

    return ascf->no_choice == NULL
           || ngx_http_mcp_oauth_redirect_patterns(ascf->no_choice, redirect)
              != NGX_OK;
}
