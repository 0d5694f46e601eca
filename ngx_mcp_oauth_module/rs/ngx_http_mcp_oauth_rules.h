
/*
 * ngx_mcp_oauth_module: scope rules for MCP names (tools, resources,
 * prompts, JSON-RPC methods), compiled at configuration time.
 */

#ifndef _NGX_HTTP_MCP_OAUTH_RULES_H_INCLUDED_
#define _NGX_HTTP_MCP_OAUTH_RULES_H_INCLUDED_


#include <ngx_config.h>
#include <ngx_core.h>


typedef struct {
    ngx_str_t                     name;     /* a prefix without its "*" */
    ngx_array_t                  *scopes;   /* ngx_str_t */
    unsigned                      prefix:1;
    unsigned                      dflt:1;
} ngx_http_mcp_oauth_rule_t;


/*
 * Exact names and prefixes are sorted arrays searched by bisection; the
 * longest prefix is found by one search per distinct prefix length.
 */

typedef struct {
    ngx_http_mcp_oauth_rule_t    *exact;
    ngx_uint_t                    nexact;
    ngx_http_mcp_oauth_rule_t    *prefix;
    ngx_uint_t                    nprefix;
    size_t                       *lengths;  /* distinct, longest first */
    ngx_uint_t                    nlengths;
    ngx_array_t                  *dflt;     /* scopes of "default" */
} ngx_http_mcp_oauth_rules_t;


/* "NAME SCOPE..." directives: rules are collected in an ngx_array_t */
char *ngx_http_mcp_oauth_rule(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf);

ngx_http_mcp_oauth_rules_t *ngx_http_mcp_oauth_rules_compile(ngx_conf_t *cf,
    ngx_array_t *rules, const char *directive);

ngx_http_mcp_oauth_rule_t *ngx_http_mcp_oauth_rules_match(
    ngx_http_mcp_oauth_rules_t *rules, u_char *name, size_t len);

/* the scopes the most specific rule gives "name", NULL if none */
ngx_array_t *ngx_http_mcp_oauth_rules_find(ngx_http_mcp_oauth_rules_t *rules,
    u_char *name, size_t len);

/*
 * NULL: the URI is in the normal form resource rules are matched in (RFC
 * 3986 §6.2.2, and what WHATWG URL parsers would rewrite); else why not.
 */
char *ngx_http_mcp_oauth_uri_abnormal(ngx_str_t *uri);

/* "a b c" tokens as scope strings, checked against RFC 6749 §3.3 */
ngx_int_t ngx_http_mcp_oauth_scope_token(ngx_str_t *s);


#endif /* _NGX_HTTP_MCP_OAUTH_RULES_H_INCLUDED_ */
