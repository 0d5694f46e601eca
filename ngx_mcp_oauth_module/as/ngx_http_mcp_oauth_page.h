
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


/*
 * The operator's look (mcp_oauth_page_*), read at configuration time: a
 * template cut into literal text and placeholders, a stylesheet, a logo
 * (a data: URI) and a product name.  Every page is framed with it.
 */
enum {
    NGX_HTTP_MCP_OAUTH_T_TEXT = 0,
    NGX_HTTP_MCP_OAUTH_T_TITLE,
    NGX_HTTP_MCP_OAUTH_T_PRODUCT,
    NGX_HTTP_MCP_OAUTH_T_LOGO,
    NGX_HTTP_MCP_OAUTH_T_STYLE,
    NGX_HTTP_MCP_OAUTH_T_CONTENT
};

typedef struct {
    ngx_uint_t   what;         /* NGX_HTTP_MCP_OAUTH_T_* */
    ngx_str_t    text;         /* T_TEXT */
} ngx_http_mcp_oauth_part_t;

typedef struct {
    ngx_http_mcp_oauth_part_t  *parts;   /* NULL: the built-in frame */
    ngx_uint_t   nparts;
    ngx_str_t    css;          /* after the built-in style */
    ngx_str_t    logo;         /* data:image/...;base64,... */
    ngx_str_t    product;
} ngx_http_mcp_oauth_look_t;

/* a page: the look's frame around a content renderer */
typedef struct {
    ngx_http_mcp_oauth_look_t     *look;   /* NULL: no look */
    ngx_str_t                      title;
    ngx_http_mcp_oauth_render_pt   content;
    void                          *data;
} ngx_http_mcp_oauth_doc_t;


/* what a scope unlocks at a resource of the same server */
enum {
    NGX_HTTP_MCP_OAUTH_UNLOCK_TOOL = 0,
    NGX_HTTP_MCP_OAUTH_UNLOCK_RESOURCE,
    NGX_HTTP_MCP_OAUTH_UNLOCK_PROMPT,
    NGX_HTTP_MCP_OAUTH_UNLOCK_METHOD,
    NGX_HTTP_MCP_OAUTH_UNLOCK_BASELINE     /* every request to a resource */
};

typedef struct {
    ngx_uint_t   kind;
    ngx_str_t    name;         /* a prefix without its "*" */
    unsigned     prefix:1;
    unsigned     dflt:1;       /* "default": any other one */
} ngx_http_mcp_oauth_unlock_t;

/* a scope as the consent page shows it */
typedef struct {
    ngx_str_t    name;
    ngx_str_t    description;  /* mcp_oauth_scope_description */
    ngx_array_t *unlocks;      /* ngx_http_mcp_oauth_unlock_t, or NULL */
    unsigned     required:1;   /* mcp_oauth_consent_required_scope */
} ngx_http_mcp_oauth_scope_info_t;


/* who the client is, as far as this server knows */
enum {
    NGX_HTTP_MCP_OAUTH_CLIENT_CONFIGURED = 0,   /* mcp_oauth_client */
    NGX_HTTP_MCP_OAUTH_CLIENT_REGISTERED,       /* DCR: its own claim */
    NGX_HTTP_MCP_OAUTH_CLIENT_DOCUMENT          /* CIMD: its URL's host */
};


/* the consent page: the request's fields go back in hidden inputs */
typedef struct {
    ngx_str_t    name;         /* the client's own name */
    ngx_uint_t   origin;       /* NGX_HTTP_MCP_OAUTH_CLIENT_* */
    ngx_str_t    verified;     /* the metadata document's host */
    ngx_str_t    user;         /* empty at the bridge */
    ngx_str_t    resource;
    ngx_str_t    host;         /* where the answer goes */
    ngx_str_t    scope;        /* space-separated */
    ngx_http_mcp_oauth_scope_info_t  *info;   /* of the server's scopes */
    ngx_uint_t   ninfo;
    ngx_str_t    action;       /* the form's target */
    ngx_str_t    csrf;
    ngx_str_t   *field_names;
    ngx_str_t   *field_values;
    ngx_uint_t   nfields;
    unsigned     bridge:1;
    unsigned     choice:1;     /* a checkbox per scope */
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

void ngx_http_mcp_oauth_doc_render(ngx_http_mcp_oauth_out_t *out,
    void *data);
char *ngx_http_mcp_oauth_template_parse(ngx_pool_t *pool, ngx_str_t *text,
    ngx_http_mcp_oauth_look_t *look, ngx_str_t *bad);
ngx_http_mcp_oauth_scope_info_t *ngx_http_mcp_oauth_scope_info_find(
    ngx_http_mcp_oauth_scope_info_t *info, ngx_uint_t n, ngx_str_t *name);

void ngx_http_mcp_oauth_consent_render(ngx_http_mcp_oauth_out_t *out,
    void *data);
void ngx_http_mcp_oauth_message_render(ngx_http_mcp_oauth_out_t *out,
    void *data);
void ngx_http_mcp_oauth_redirect_render(ngx_http_mcp_oauth_out_t *out,
    void *data);
void ngx_http_mcp_oauth_device_render(ngx_http_mcp_oauth_out_t *out,
    void *data);


#endif /* _NGX_HTTP_MCP_OAUTH_PAGE_H_INCLUDED_ */
