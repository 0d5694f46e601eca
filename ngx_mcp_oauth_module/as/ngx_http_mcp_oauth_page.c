
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

    if (out->pos == NULL) {
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


void
ngx_http_mcp_oauth_consent_render(ngx_http_mcp_oauth_out_t *out, void *data)
{
    ngx_http_mcp_oauth_consent_t *c = data;

    u_char      *s, *end, *last;
    ngx_str_t    scope;
    ngx_uint_t   i;

    ngx_http_mcp_oauth_put_text(out,
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n"
        "<meta charset=\"utf-8\">\n"
        "<meta name=\"viewport\" content=\"width=device-width, "
        "initial-scale=1\">\n<title>Authorize ");
    ngx_http_mcp_oauth_put_html(out, &c->name);
    ngx_http_mcp_oauth_put_text(out,
        "</title>\n<style>\n"
        "body{font-family:system-ui,sans-serif;line-height:1.5;"
        "max-width:34rem;margin:3rem auto;padding:0 1rem;color:#111}\n"
        "code{background:#eee;padding:.1rem .3rem;border-radius:.2rem}\n"
        "button{font-size:1rem;padding:.5rem 1.2rem;margin-right:.8rem}\n"
        "</style>\n</head>\n<body>\n<main>\n<h1>Authorize ");
    ngx_http_mcp_oauth_put_html(out, &c->name);

    if (c->bridge) {
        /* the bridge: the user is the browser's cookie, not to be shown */
        ngx_http_mcp_oauth_put_text(out,
            "?</h1>\n<p>If you approve, you sign in at your identity "
            "provider next, and the application gets access to <code>");

    } else {
        ngx_http_mcp_oauth_put_text(out,
            "?</h1>\n<p>You are signed in as <strong>");
        ngx_http_mcp_oauth_put_html(out, &c->user);
        ngx_http_mcp_oauth_put_text(out,
            "</strong>.</p>\n<p>If you approve, the application gets "
            "access to <code>");
    }

    ngx_http_mcp_oauth_put_html(out, &c->resource);
    ngx_http_mcp_oauth_put_text(out, "</code> and is sent back to <strong>");
    ngx_http_mcp_oauth_put_html(out, &c->host);
    ngx_http_mcp_oauth_put_text(out, "</strong>.</p>\n");

    if (c->scope.len == 0) {
        ngx_http_mcp_oauth_put_text(out,
                                    "<p>It asks for no permissions.</p>\n");

    } else {
        ngx_http_mcp_oauth_put_text(out,
            "<p>It asks for these permissions:</p>\n<ul>\n");

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
                ngx_http_mcp_oauth_put_text(out, "<li><code>");
                ngx_http_mcp_oauth_put_html(out, &scope);
                ngx_http_mcp_oauth_put_text(out, "</code></li>\n");
            }

            s = end + 1;
        }

        ngx_http_mcp_oauth_put_text(out, "</ul>\n");
    }

    ngx_http_mcp_oauth_put_text(out, "<form method=\"post\" action=\"");
    ngx_http_mcp_oauth_put_html(out, &c->action);
    ngx_http_mcp_oauth_put_text(out, "\">\n");

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
        "Deny</button>\n</form>\n</main>\n</body>\n</html>\n");
}


void
ngx_http_mcp_oauth_message_render(ngx_http_mcp_oauth_out_t *out, void *data)
{
    ngx_http_mcp_oauth_message_t *m = data;

    ngx_http_mcp_oauth_put_text(out,
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n"
        "<meta charset=\"utf-8\">\n<title>");
    ngx_http_mcp_oauth_put_html(out, &m->title);
    ngx_http_mcp_oauth_put_text(out,
        "</title>\n</head>\n<body>\n<main>\n<h1>");
    ngx_http_mcp_oauth_put_html(out, &m->title);
    ngx_http_mcp_oauth_put_text(out, "</h1>\n<p>");
    ngx_http_mcp_oauth_put_html(out, &m->message);
    ngx_http_mcp_oauth_put_text(out, "</p>\n</main>\n</body>\n</html>\n");
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
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n"
        "<meta charset=\"utf-8\">\n"
        "<meta name=\"viewport\" content=\"width=device-width, "
        "initial-scale=1\">\n<title>Connect a device</title>\n<style>\n"
        "body{font-family:system-ui,sans-serif;line-height:1.5;"
        "max-width:34rem;margin:3rem auto;padding:0 1rem;color:#111}\n"
        "input{font:1.6rem ui-monospace,monospace;letter-spacing:.2rem;"
        "width:11ch;padding:.3rem .5rem;text-transform:uppercase}\n"
        "button{font-size:1rem;padding:.5rem 1.2rem;margin-left:.8rem}\n"
        ".error{color:#a00}\n"
        "</style>\n</head>\n<body>\n<main>\n<h1>Connect a device</h1>\n"
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
        "<input id=\"user_code\" name=\"user_code\" required "
        "autocomplete=\"off\" autocapitalize=\"characters\" "
        "spellcheck=\"false\" maxlength=\"16\" placeholder=\"XXXX-XXXX\" "
        "value=\"");
    ngx_http_mcp_oauth_put_html(out, &d->code);
    ngx_http_mcp_oauth_put_text(out,
        "\">\n<button type=\"submit\">Continue</button>\n</form>\n"
        "</main>\n</body>\n</html>\n");
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
