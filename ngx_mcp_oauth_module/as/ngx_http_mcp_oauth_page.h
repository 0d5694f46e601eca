
/*
 * ngx_mcp_oauth_module: what the authorization server writes for people and
 * for redirects (the consent page, message pages, redirect URLs), and the
 * writer they are written with.  A document is rendered twice by the same
 * function: once to measure it, once into a buffer of exactly that size, so
 * its size is never estimated.
 */

#ifndef _NGX_HTTP_MCP_OAUTH_PAGE_H_INCLUDED_
#define _NGX_HTTP_MCP_OAUTH_PAGE_H_INCLUDED_


#include <ngx_config.h>
#include <ngx_core.h>


typedef struct {
    u_char      *pos;          /* NULL: measuring */
    u_char      *end;
    size_t       len;          /* written, or to be written */
    unsigned     overflow:1;   /* the two passes disagreed */
} ngx_http_mcp_oauth_out_t;

typedef void (*ngx_http_mcp_oauth_render_pt)(ngx_http_mcp_oauth_out_t *out,
    void *data);


/* the consent page: the request's fields go back in hidden inputs */
typedef struct {
    ngx_str_t    name;         /* the client's own name */
    ngx_str_t    user;         /* empty at the bridge */
    ngx_str_t    resource;
    ngx_str_t    host;         /* where the answer goes */
    ngx_str_t    scope;        /* space-separated */
    ngx_str_t    action;       /* the form's target */
    ngx_str_t    csrf;
    ngx_str_t   *field_names;
    ngx_str_t   *field_values;
    ngx_uint_t   nfields;
    unsigned     bridge:1;
} ngx_http_mcp_oauth_consent_t;

/* a page with a title and a message */
typedef struct {
    ngx_str_t    title;
    ngx_str_t    message;
} ngx_http_mcp_oauth_message_t;

/* the device flow's page where the user enters the code (RFC 8628 §3.3) */
typedef struct {
    ngx_str_t    user;
    ngx_str_t    action;       /* the form's target */
    ngx_str_t    code;         /* as entered, when it was not taken */
    ngx_str_t    message;      /* why not, or empty */
} ngx_http_mcp_oauth_device_form_t;

/* a redirect to a client: code=..., or error=...&error_description=... */
typedef struct {
    ngx_str_t    uri;
    ngx_str_t    name;         /* "code", or the error code */
    ngx_str_t    value;        /* the code, or the description */
    ngx_str_t    state;
    ngx_str_t    issuer;
    unsigned     error:1;
} ngx_http_mcp_oauth_redirect_t;


ngx_int_t ngx_http_mcp_oauth_render(ngx_pool_t *pool,
    ngx_http_mcp_oauth_render_pt render, void *data, ngx_str_t *text);

void ngx_http_mcp_oauth_put(ngx_http_mcp_oauth_out_t *out, u_char *data,
    size_t len);
#define ngx_http_mcp_oauth_put_text(out, s)                                  \
    ngx_http_mcp_oauth_put(out, (u_char *) s, sizeof(s) - 1)
void ngx_http_mcp_oauth_put_html(ngx_http_mcp_oauth_out_t *out,
    ngx_str_t *s);
void ngx_http_mcp_oauth_put_query(ngx_http_mcp_oauth_out_t *out,
    ngx_str_t *s);

size_t ngx_http_mcp_oauth_urlencoded_len(ngx_str_t *s);
u_char *ngx_http_mcp_oauth_urlencode(u_char *dst, ngx_str_t *s);

void ngx_http_mcp_oauth_consent_render(ngx_http_mcp_oauth_out_t *out,
    void *data);
void ngx_http_mcp_oauth_message_render(ngx_http_mcp_oauth_out_t *out,
    void *data);
void ngx_http_mcp_oauth_redirect_render(ngx_http_mcp_oauth_out_t *out,
    void *data);
void ngx_http_mcp_oauth_device_render(ngx_http_mcp_oauth_out_t *out,
    void *data);


#endif /* _NGX_HTTP_MCP_OAUTH_PAGE_H_INCLUDED_ */
