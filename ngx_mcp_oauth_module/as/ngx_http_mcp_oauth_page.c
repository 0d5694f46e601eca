
/*
 * ngx_mcp_oauth_module: the authorization server's pages and redirect URLs,
 * rendered by the writer of ngx_http_mcp_oauth_page.h: every document is
 * measured by the function that writes it, then written into exactly that
 * much memory, and the writer never writes past the end even if the passes
 * were to disagree.  Nothing here depends on a request, so the fuzz harness
 * (fuzz/fuzz_pages.c) renders the same code with any input.
 */

#include <ngx_config.h>
#include <ngx_core.h>

#include "ngx_http_mcp_oauth_page.h"


ngx_int_t
ngx_http_mcp_oauth_render(ngx_pool_t *pool,
    ngx_http_mcp_oauth_render_pt render, void *data, ngx_str_t *text)
{
    ngx_http_mcp_oauth_out_t  out;

    ngx_memzero(&out, sizeof(ngx_http_mcp_oauth_out_t));
    render(&out, data);

    text->len = out.len;
    text->data = ngx_pnalloc(pool, text->len ? text->len : 1);
    if (text->data == NULL) {
        return NGX_ERROR;
    }

    ngx_memzero(&out, sizeof(ngx_http_mcp_oauth_out_t));
    out.pos = text->data;
    out.end = text->data + text->len;
    render(&out, data);

    if (out.overflow || out.len != text->len) {
        ngx_log_error(NGX_LOG_ALERT, pool->log, 0,
                      "mcp_oauth: a document measured %uz bytes and was "
                      "%uz when written", text->len, out.len);
        return NGX_ERROR;
    }

    return NGX_OK;
}


void
ngx_http_mcp_oauth_put(ngx_http_mcp_oauth_out_t *out, u_char *data,
    size_t len)
{
    out->len += len;

    if (out->pos == NULL || len == 0) {
        return;
    }

    if (out->overflow || len > (size_t) (out->end - out->pos)) {
        out->overflow = 1;
        return;
    }

    out->pos = ngx_cpymem(out->pos, data, len);
}


void
ngx_http_mcp_oauth_put_html(ngx_http_mcp_oauth_out_t *out, ngx_str_t *s)
{
    u_char  *p, *last, *plain;

    plain = s->data;
    last = s->data + s->len;

    for (p = s->data; p < last; p++) {
        switch (*p) {
        case '<': case '>': case '&': case '"': case '\'':
            break;
        default:
            continue;
        }

        ngx_http_mcp_oauth_put(out, plain, p - plain);
        plain = p + 1;

        switch (*p) {
        case '<':
            ngx_http_mcp_oauth_put_text(out, "&lt;");
            break;
        case '>':
            ngx_http_mcp_oauth_put_text(out, "&gt;");
            break;
        case '&':
            ngx_http_mcp_oauth_put_text(out, "&amp;");
            break;
        case '"':
            ngx_http_mcp_oauth_put_text(out, "&quot;");
            break;
        default:
            ngx_http_mcp_oauth_put_text(out, "&#39;");
        }
    }

    ngx_http_mcp_oauth_put(out, plain, last - plain);
}


void
ngx_http_mcp_oauth_put_query(ngx_http_mcp_oauth_out_t *out, ngx_str_t *s)
{
    size_t  len;

    len = ngx_http_mcp_oauth_urlencoded_len(s);
    out->len += len;

    if (out->pos == NULL) {
        return;
    }

    if (out->overflow || len > (size_t) (out->end - out->pos)) {
        out->overflow = 1;
        return;
    }

    out->pos = ngx_http_mcp_oauth_urlencode(out->pos, s);
}


/* a query component: unreserved characters (RFC 3986 §2.3) as they are */

static ngx_inline ngx_uint_t
ngx_http_mcp_oauth_unreserved(u_char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z')
           || (c >= '0' && c <= '9') || c == '-' || c == '.' || c == '_'
           || c == '~';
}


size_t
ngx_http_mcp_oauth_urlencoded_len(ngx_str_t *s)
{
    size_t   len;
    u_char  *p, *last;

    len = s->len;
    last = s->data + s->len;

    for (p = s->data; p < last; p++) {
        if (!ngx_http_mcp_oauth_unreserved(*p)) {
            len += 2;
        }
    }

    return len;
}


u_char *
ngx_http_mcp_oauth_urlencode(u_char *dst, ngx_str_t *s)
{
    u_char  *p, *last;

    static u_char  hex[] = "0123456789ABCDEF";

    last = s->data + s->len;

    for (p = s->data; p < last; p++) {
        if (ngx_http_mcp_oauth_unreserved(*p)) {
            *dst++ = *p;
            continue;
        }

        *dst++ = '%';
        *dst++ = hex[*p >> 4];
        *dst++ = hex[*p & 0xf];
    }

    return dst;
}


/* the frame every page shares: the built-in one, or the operator's */

static ngx_str_t  ngx_http_mcp_oauth_style = ngx_string(
    "body{font-family:system-ui,sans-serif;line-height:1.5;"
    "max-width:34rem;margin:3rem auto;padding:0 1rem;color:#111}\n"
    "code{background:#eee;padding:.1rem .3rem;border-radius:.2rem}\n"
    "button{font-size:1rem;padding:.5rem 1.2rem;margin-right:.8rem}\n"
    "header.product{display:flex;align-items:center;gap:.6rem;"
    "font-weight:600}\n"
    "header.product img{max-height:2.5rem}\n"
    ".unverified{color:#8a4b00;background:#fff3e0;border:1px solid #f0c080;"
    "border-radius:.2rem;padding:0 .3rem;font-size:.8rem;"
    "vertical-align:middle}\n"
    ".verified{color:#1b5e20}\n"
    "p.host{font-size:1.2rem;margin-top:-.6rem}\n"
    "ul.scopes{list-style:none;padding:0}\n"
    "li.scope{border:1px solid #ddd;border-radius:.4rem;"
    "padding:.5rem .8rem;margin:.5rem 0}\n"
    ".desc{display:block;color:#333}\n"
    ".required{font-size:.8rem;color:#555}\n"
    "ul.unlocks{margin:.2rem 0 0 1.4rem;padding:0;font-size:.9rem;"
    "color:#444}\n"
    "input.user-code{font:1.6rem ui-monospace,monospace;"
    "letter-spacing:.2rem;width:11ch;padding:.3rem .5rem;"
    "text-transform:uppercase}\n"
    ".error{color:#a00}\n");


static void
ngx_http_mcp_oauth_doc_part(ngx_http_mcp_oauth_out_t *out,
    ngx_http_mcp_oauth_doc_t *doc, ngx_uint_t what)
{
    ngx_http_mcp_oauth_look_t  *look;

    look = doc->look;

    switch (what) {

    case NGX_HTTP_MCP_OAUTH_T_TITLE:
        ngx_http_mcp_oauth_put_html(out, &doc->title);
        break;

    case NGX_HTTP_MCP_OAUTH_T_PRODUCT:
        if (look) {
            ngx_http_mcp_oauth_put_html(out, &look->product);
        }
        break;

    case NGX_HTTP_MCP_OAUTH_T_LOGO:
        if (look && look->logo.len) {
            ngx_http_mcp_oauth_put_text(out, "<img class=\"logo\" src=\"");
            ngx_http_mcp_oauth_put_html(out, &look->logo);
            ngx_http_mcp_oauth_put_text(out, "\" alt=\"\">");
        }
        break;

    case NGX_HTTP_MCP_OAUTH_T_STYLE:
        /* the stylesheet has no "</" (checked when it is read) */
        ngx_http_mcp_oauth_put_text(out, "<style>\n");
        ngx_http_mcp_oauth_put(out, ngx_http_mcp_oauth_style.data,
                               ngx_http_mcp_oauth_style.len);
        if (look) {
            ngx_http_mcp_oauth_put(out, look->css.data, look->css.len);
        }
        ngx_http_mcp_oauth_put_text(out, "</style>");
        break;

    default: /* NGX_HTTP_MCP_OAUTH_T_CONTENT */
        doc->content(out, doc->data);
    }
}


void
ngx_http_mcp_oauth_doc_render(ngx_http_mcp_oauth_out_t *out, void *data)
{
    ngx_http_mcp_oauth_doc_t *doc = data;

    ngx_uint_t                  i;
    ngx_http_mcp_oauth_look_t  *look;
    ngx_http_mcp_oauth_part_t  *part;

    look = doc->look;

    if (look && look->parts) {
        part = look->parts;

        for (i = 0; i < look->nparts; i++) {
            if (part[i].what == NGX_HTTP_MCP_OAUTH_T_TEXT) {
                ngx_http_mcp_oauth_put(out, part[i].text.data,
                                       part[i].text.len);

            } else {
                ngx_http_mcp_oauth_doc_part(out, doc, part[i].what);
            }
        }

        return;
    }

    ngx_http_mcp_oauth_put_text(out,
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n"
        "<meta charset=\"utf-8\">\n"
        "<meta name=\"viewport\" content=\"width=device-width, "
        "initial-scale=1\">\n<title>");
    ngx_http_mcp_oauth_doc_part(out, doc, NGX_HTTP_MCP_OAUTH_T_TITLE);
    ngx_http_mcp_oauth_put_text(out, "</title>\n");
    ngx_http_mcp_oauth_doc_part(out, doc, NGX_HTTP_MCP_OAUTH_T_STYLE);
    ngx_http_mcp_oauth_put_text(out, "\n</head>\n<body>\n");

    if (look && (look->logo.len || look->product.len)) {
        ngx_http_mcp_oauth_put_text(out, "<header class=\"product\">");
        ngx_http_mcp_oauth_doc_part(out, doc, NGX_HTTP_MCP_OAUTH_T_LOGO);
        ngx_http_mcp_oauth_put_text(out, "<span>");
        ngx_http_mcp_oauth_doc_part(out, doc, NGX_HTTP_MCP_OAUTH_T_PRODUCT);
        ngx_http_mcp_oauth_put_text(out, "</span></header>\n");
    }

    ngx_http_mcp_oauth_put_text(out, "<main>\n");
    ngx_http_mcp_oauth_doc_part(out, doc, NGX_HTTP_MCP_OAUTH_T_CONTENT);
    ngx_http_mcp_oauth_put_text(out, "</main>\n</body>\n</html>\n");
}


/*
 * A template: HTML with {{title}}, {{product}}, {{logo}}, {{style}} and
 * exactly one {{content}}.  NULL: parsed into "look"; else why not, and
 * the bad placeholder in "bad".
 */

static ngx_str_t  ngx_http_mcp_oauth_placeholders[] = {
    ngx_null_string,
    ngx_string("{{title}}"),
    ngx_string("{{product}}"),
    ngx_string("{{logo}}"),
    ngx_string("{{style}}"),
    ngx_string("{{content}}")
};


char *
ngx_http_mcp_oauth_template_parse(ngx_pool_t *pool, ngx_str_t *text,
    ngx_http_mcp_oauth_look_t *look, ngx_str_t *bad)
{
    u_char                     *p, *last, *open, *close;
    ngx_uint_t                  n, w, content;
    ngx_http_mcp_oauth_part_t  *part;

    last = text->data + text->len;

    for (n = 1, p = text->data; p < last; p++) {
        n += (*p == '{');
    }

    /* at most a text before each '{' and one after the last */
    part = ngx_palloc(pool, 2 * n * sizeof(ngx_http_mcp_oauth_part_t));
    if (part == NULL) {
        return "cannot be stored";
    }

    look->parts = part;
    look->nparts = 0;
    content = 0;
    p = text->data;

    for ( ;; ) {
        open = ngx_strlcasestrn(p, last, (u_char *) "{{", 1);

        if (open == NULL) {
            open = last;
        }

        if (open > p) {
            part[look->nparts].what = NGX_HTTP_MCP_OAUTH_T_TEXT;
            part[look->nparts].text.data = p;
            part[look->nparts++].text.len = open - p;
        }

        if (open == last) {
            break;
        }

        close = ngx_strlcasestrn(open, last, (u_char *) "}}", 1);
        bad->data = open;
        bad->len = close ? (size_t) (close + 2 - open)
                         : (size_t) ngx_min(last - open, 24);

        if (close == NULL) {
            return "has an unclosed placeholder";
        }

        for (w = 1; w <= NGX_HTTP_MCP_OAUTH_T_CONTENT; w++) {
            if (ngx_http_mcp_oauth_placeholders[w].len == bad->len
                && ngx_strncmp(ngx_http_mcp_oauth_placeholders[w].data,
                               open, bad->len) == 0)
            {
                break;
            }
        }

        if (w > NGX_HTTP_MCP_OAUTH_T_CONTENT) {
            return "has an unknown placeholder";
        }

        if (w == NGX_HTTP_MCP_OAUTH_T_CONTENT && content++) {
            return "has a second placeholder";
        }

        /* ngx_str_null() is two statements: its argument is taken twice */
        part[look->nparts].what = w;
        ngx_str_null(&part[look->nparts].text);
        look->nparts++;
        p = close + 2;
    }

    if (content == 0) {
        ngx_str_set(bad, "{{content}}");
        return "lacks the placeholder";
    }

    return NULL;
}


ngx_http_mcp_oauth_scope_info_t *
ngx_http_mcp_oauth_scope_info_find(ngx_http_mcp_oauth_scope_info_t *info,
    ngx_uint_t n, ngx_str_t *name)
{
    ngx_uint_t  i;

    for (i = 0; i < n; i++) {
        if (info[i].name.len == name->len
            && ngx_strncmp(info[i].name.data, name->data, name->len) == 0)
        {
            return &info[i];
        }
    }

    return NULL;
}


/*
 * The consent page's content: who asks (a name registered through DCR is
 * the client's own claim, a metadata document's host is verified: MCP
 * security best practices), where the answer goes, and each scope with
 * what it unlocks and, when the person chooses, a checkbox.
 */

static void ngx_http_mcp_oauth_consent_client(ngx_http_mcp_oauth_out_t *out,
    ngx_http_mcp_oauth_consent_t *c);
static void ngx_http_mcp_oauth_consent_scopes(ngx_http_mcp_oauth_out_t *out,
    ngx_http_mcp_oauth_consent_t *c);
static void ngx_http_mcp_oauth_consent_scope(ngx_http_mcp_oauth_out_t *out,
    ngx_http_mcp_oauth_consent_t *c, ngx_str_t *scope);
static void ngx_http_mcp_oauth_consent_unlocks(ngx_http_mcp_oauth_out_t *out,
    ngx_array_t *unlocks);
static void ngx_http_mcp_oauth_consent_form(ngx_http_mcp_oauth_out_t *out,
    ngx_http_mcp_oauth_consent_t *c);


void
ngx_http_mcp_oauth_consent_render(ngx_http_mcp_oauth_out_t *out, void *data)
{
    ngx_http_mcp_oauth_consent_t *c = data;

    ngx_http_mcp_oauth_consent_client(out, c);

    /* the checkboxes are the form's */
    ngx_http_mcp_oauth_put_text(out, "<form method=\"post\" action=\"");
    ngx_http_mcp_oauth_put_html(out, &c->action);
    ngx_http_mcp_oauth_put_text(out, "\">\n");

    ngx_http_mcp_oauth_consent_scopes(out, c);
    ngx_http_mcp_oauth_consent_form(out, c);
}


static void
ngx_http_mcp_oauth_consent_client(ngx_http_mcp_oauth_out_t *out,
    ngx_http_mcp_oauth_consent_t *c)
{
    ngx_http_mcp_oauth_put_text(out, "<h1>Authorize ");
    ngx_http_mcp_oauth_put_html(out, &c->name);
    ngx_http_mcp_oauth_put_text(out, "?");

    if (c->origin == NGX_HTTP_MCP_OAUTH_CLIENT_REGISTERED) {
        ngx_http_mcp_oauth_put_text(out,
            " <span class=\"unverified\">unverified</span></h1>\n"
            "<p class=\"claim\">The application gave itself this name when "
            "it registered; this server has not verified it.</p>\n");

    } else if (c->origin == NGX_HTTP_MCP_OAUTH_CLIENT_DOCUMENT) {
        ngx_http_mcp_oauth_put_text(out,
            "</h1>\n<p class=\"origin\">Published by <strong "
            "class=\"verified\">");
        ngx_http_mcp_oauth_put_html(out, &c->verified);
        ngx_http_mcp_oauth_put_text(out,
            "</strong> (the host of its client metadata document); the "
            "name is what that document says.</p>\n");

    } else {
        ngx_http_mcp_oauth_put_text(out, "</h1>\n");
    }

    if (c->bridge) {
        /* the bridge: the user is the browser's cookie, not to be shown */
        ngx_http_mcp_oauth_put_text(out,
            "<p>If you approve, you sign in at your identity provider next, "
            "and the application gets access to <code>");

    } else {
        ngx_http_mcp_oauth_put_text(out,
            "<p>You are signed in as <strong>");
        ngx_http_mcp_oauth_put_html(out, &c->user);
        ngx_http_mcp_oauth_put_text(out,
            "</strong>.</p>\n<p>If you approve, the application gets "
            "access to <code>");
    }

    ngx_http_mcp_oauth_put_html(out, &c->resource);
    ngx_http_mcp_oauth_put_text(out,
        "</code> and is sent back to:</p>\n<p class=\"host\"><strong>");
    ngx_http_mcp_oauth_put_html(out, &c->host);
    ngx_http_mcp_oauth_put_text(out, "</strong></p>\n");
}


static void
ngx_http_mcp_oauth_consent_scopes(ngx_http_mcp_oauth_out_t *out,
    ngx_http_mcp_oauth_consent_t *c)
{
    u_char     *s, *end, *last;
    ngx_str_t   scope;

    if (c->scope.len == 0) {
        ngx_http_mcp_oauth_put_text(out,
                                    "<p>It asks for no permissions.</p>\n");
        return;
    }

    if (c->choice) {
        ngx_http_mcp_oauth_put_text(out,
            "<p>It asks for these permissions; untick any you do not "
            "want to give:</p>\n<ul class=\"scopes\">\n");

    } else {
        ngx_http_mcp_oauth_put_text(out,
            "<p>It asks for these permissions:</p>\n<ul class=\"scopes\">\n");
    }

    s = c->scope.data;
    last = c->scope.data + c->scope.len;

    while (s < last) {
        end = ngx_strlchr(s, last, ' ');
        if (end == NULL) {
            end = last;
        }

        if (end > s) {
            scope.data = s;
            scope.len = end - s;
            ngx_http_mcp_oauth_consent_scope(out, c, &scope);
        }

        s = end + 1;
    }

    ngx_http_mcp_oauth_put_text(out, "</ul>\n");
}


static void
ngx_http_mcp_oauth_consent_scope(ngx_http_mcp_oauth_out_t *out,
    ngx_http_mcp_oauth_consent_t *c, ngx_str_t *scope)
{
    ngx_http_mcp_oauth_scope_info_t  *info;

    info = ngx_http_mcp_oauth_scope_info_find(c->info, c->ninfo, scope);

    ngx_http_mcp_oauth_put_text(out, "<li class=\"scope\"><label>");

    if (c->choice) {
        /* a required one is shown ticked, and granted whatever is sent */
        ngx_http_mcp_oauth_put_text(out,
            "<input type=\"checkbox\" name=\"granted_scope\" value=\"");
        ngx_http_mcp_oauth_put_html(out, scope);

        if (info && info->required) {
            ngx_http_mcp_oauth_put_text(out, "\" checked disabled> ");

        } else {
            ngx_http_mcp_oauth_put_text(out, "\" checked> ");
        }
    }

    ngx_http_mcp_oauth_put_text(out, "<code>");
    ngx_http_mcp_oauth_put_html(out, scope);
    ngx_http_mcp_oauth_put_text(out, "</code>");

    if (c->choice && info && info->required) {
        ngx_http_mcp_oauth_put_text(out,
                                    " <span class=\"required\">required"
                                    "</span>");
    }

    ngx_http_mcp_oauth_put_text(out, "</label>");

    if (info && info->description.len) {
        ngx_http_mcp_oauth_put_text(out, "\n<span class=\"desc\">");
        ngx_http_mcp_oauth_put_html(out, &info->description);
        ngx_http_mcp_oauth_put_text(out, "</span>");
    }

    if (info && info->unlocks) {
        ngx_http_mcp_oauth_consent_unlocks(out, info->unlocks);
    }

    ngx_http_mcp_oauth_put_text(out, "</li>\n");
}


static void
ngx_http_mcp_oauth_consent_unlocks(ngx_http_mcp_oauth_out_t *out,
    ngx_array_t *unlocks)
{
    ngx_uint_t                    i;
    ngx_http_mcp_oauth_unlock_t  *u;

    static ngx_str_t  one[] = {
        ngx_string("tool"), ngx_string("resource"), ngx_string("prompt"),
        ngx_string("method"), ngx_string("every request to")
    };

    static ngx_str_t  many[] = {
        ngx_string("tools"), ngx_string("resources"), ngx_string("prompts"),
        ngx_string("methods"), ngx_string("every request to")
    };

    u = unlocks->elts;

    ngx_http_mcp_oauth_put_text(out, "\n<ul class=\"unlocks\">\n");

    for (i = 0; i < unlocks->nelts; i++) {
        ngx_http_mcp_oauth_put_text(out, "<li>");

        if (u[i].dflt) {
            ngx_http_mcp_oauth_put_text(out, "any other ");
            ngx_http_mcp_oauth_put(out, one[u[i].kind].data,
                                   one[u[i].kind].len);
            ngx_http_mcp_oauth_put_text(out, "</li>\n");
            continue;
        }

        if (u[i].prefix) {
            ngx_http_mcp_oauth_put(out, many[u[i].kind].data,
                                   many[u[i].kind].len);

        } else {
            ngx_http_mcp_oauth_put(out, one[u[i].kind].data,
                                   one[u[i].kind].len);
        }

        ngx_http_mcp_oauth_put_text(out, " <code>");
        ngx_http_mcp_oauth_put_html(out, &u[i].name);
        if (u[i].prefix) {
            ngx_http_mcp_oauth_put_text(out, "*");
        }
        ngx_http_mcp_oauth_put_text(out, "</code></li>\n");
    }

    ngx_http_mcp_oauth_put_text(out, "</ul>");
}


static void
ngx_http_mcp_oauth_consent_form(ngx_http_mcp_oauth_out_t *out,
    ngx_http_mcp_oauth_consent_t *c)
{
    ngx_uint_t  i;

    for (i = 0; i < c->nfields; i++) {
        ngx_http_mcp_oauth_put_text(out, "<input type=\"hidden\" name=\"");
        ngx_http_mcp_oauth_put_html(out, &c->field_names[i]);
        ngx_http_mcp_oauth_put_text(out, "\" value=\"");
        ngx_http_mcp_oauth_put_html(out, &c->field_values[i]);
        ngx_http_mcp_oauth_put_text(out, "\">\n");
    }

    ngx_http_mcp_oauth_put_text(out,
        "<input type=\"hidden\" name=\"csrf_token\" value=\"");
    ngx_http_mcp_oauth_put_html(out, &c->csrf);
    ngx_http_mcp_oauth_put_text(out,
        "\">\n"
        "<button type=\"submit\" name=\"decision\" value=\"approve\">"
        "Approve</button>\n"
        "<button type=\"submit\" name=\"decision\" value=\"deny\">"
        "Deny</button>\n</form>\n");
}


void
ngx_http_mcp_oauth_message_render(ngx_http_mcp_oauth_out_t *out, void *data)
{
    ngx_http_mcp_oauth_message_t *m = data;

    ngx_http_mcp_oauth_put_text(out, "<h1>");
    ngx_http_mcp_oauth_put_html(out, &m->title);
    ngx_http_mcp_oauth_put_text(out, "</h1>\n<p>");
    ngx_http_mcp_oauth_put_html(out, &m->message);
    ngx_http_mcp_oauth_put_text(out, "</p>\n");
}


/*
 * The device flow's code form (RFC 8628 §3.3): a GET to the same page, so
 * that a code typed in and verification_uri_complete arrive alike.
 */

void
ngx_http_mcp_oauth_device_render(ngx_http_mcp_oauth_out_t *out, void *data)
{
    ngx_http_mcp_oauth_device_form_t *d = data;

    ngx_http_mcp_oauth_put_text(out,
        "<h1>Connect a device</h1>\n"
        "<p>You are signed in as <strong>");
    ngx_http_mcp_oauth_put_html(out, &d->user);
    ngx_http_mcp_oauth_put_text(out,
        "</strong>.</p>\n<p>Enter the code that the application on your "
        "device shows. Only enter a code you started yourself.</p>\n");

    if (d->message.len) {
        ngx_http_mcp_oauth_put_text(out, "<p class=\"error\" role=\"alert\">");
        ngx_http_mcp_oauth_put_html(out, &d->message);
        ngx_http_mcp_oauth_put_text(out, "</p>\n");
    }

    ngx_http_mcp_oauth_put_text(out, "<form method=\"get\" action=\"");
    ngx_http_mcp_oauth_put_html(out, &d->action);
    ngx_http_mcp_oauth_put_text(out,
        "\">\n<label for=\"user_code\">Code</label>\n"
        "<input id=\"user_code\" class=\"user-code\" name=\"user_code\" "
        "required "
        "autocomplete=\"off\" autocapitalize=\"characters\" "
        "spellcheck=\"false\" maxlength=\"16\" placeholder=\"XXXX-XXXX\" "
        "value=\"");
    ngx_http_mcp_oauth_put_html(out, &d->code);
    ngx_http_mcp_oauth_put_text(out,
        "\">\n<button type=\"submit\">Continue</button>\n</form>\n");
}


/* OAuth 2.1 §4.1.2: state as it came, and iss (RFC 9207) */

void
ngx_http_mcp_oauth_redirect_render(ngx_http_mcp_oauth_out_t *out, void *data)
{
    ngx_http_mcp_oauth_redirect_t *rd = data;

    ngx_http_mcp_oauth_put(out, rd->uri.data, rd->uri.len);

    if (ngx_strlchr(rd->uri.data, rd->uri.data + rd->uri.len, '?')) {
        ngx_http_mcp_oauth_put_text(out, "&");

    } else {
        ngx_http_mcp_oauth_put_text(out, "?");
    }

    if (rd->error) {
        ngx_http_mcp_oauth_put_text(out, "error=");
        ngx_http_mcp_oauth_put_query(out, &rd->name);
        ngx_http_mcp_oauth_put_text(out, "&error_description=");

    } else {
        ngx_http_mcp_oauth_put_query(out, &rd->name);
        ngx_http_mcp_oauth_put_text(out, "=");
    }

    ngx_http_mcp_oauth_put_query(out, &rd->value);

    if (rd->state.len) {
        ngx_http_mcp_oauth_put_text(out, "&state=");
        ngx_http_mcp_oauth_put_query(out, &rd->state);
    }

    ngx_http_mcp_oauth_put_text(out, "&iss=");
    ngx_http_mcp_oauth_put_query(out, &rd->issuer);
}
