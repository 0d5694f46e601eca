# The consent page made for people (docs/authorization-server.md "The
# consent page"): the operator's scope descriptions, what each scope unlocks
# at the resource of the same server (its mcp_oauth_*scope rules), a
# checkbox per scope (unticking one grants the rest: the code, the token and
# the remembered consent carry only the ticked ones), the scopes the
# operator requires, a form that cannot grant more than it offered, the
# choice turned off (for all clients or for matching redirect URIs), the
# client's own name marked "unverified" (DCR) against the verified host of a
# metadata document (CIMD), and the operator's look on every page
# (mcp_oauth_page_template, _stylesheet, _logo, _product) with the
# template's errors at nginx -t.
#
# The server is McpOAuth::as_config (static clients "app" and "conf", the
# user in X-Test-User, /mcp requires mcp:tools) with $::DESCRIBED: three
# descriptions and a few tool and prompt rules; flows print one line per
# step (response_body_filters, t/lib/McpOAuth.pm).  Template fixtures are in
# t/data/pages.

use strict;
use warnings;
use lib 't/lib';
use Test::Nginx::Socket 'no_plan';
use McpOAuth qw(:DEFAULT :as);
use JSON::PP;
use MIME::Base64 ();

McpOAuth::setup();
no_shuffle();
log_level('info');

our $DESCRIBED = <<'_EOC_';
mcp_oauth_scope_description mcp:tools "Use this server's tools";
    mcp_oauth_scope_description read:application "See your applications & their <settings>";
    mcp_oauth_scope_description write:application "Create, update and delete applications";
    mcp_oauth_scope list_apps read:application;
    mcp_oauth_scope "delete_*" write:application;
    mcp_oauth_prompt_scope summary read:application;
_EOC_

our $CB = 'https%3A%2F%2Fapp.example.com%2Fcb';
our $Q = "response_type=code&client_id=app&redirect_uri=$CB"
       . "&code_challenge=$McpOAuth::CHALLENGE&code_challenge_method=S256&state=xyz"
       . '&scope=mcp%3Atools%20read%3Aapplication%20write%3Aapplication';

my $ALL = 'mcp:tools read:application write:application';

# the request of the static client "app" for all three scopes
sub app_request {
    my (%o) = @_;
    my ($verifier, $challenge) = pkce();
    return ($verifier, client_id => 'app', redirect_uri => 'https://app.example.com/cb',
            code_challenge => $challenge, state => 'xyz', scope => $ALL,
            user => 'alice', %o);
}

# the ticked checkboxes of a consent page (what a browser posts)
sub ticked { join ' ', @{ $_[0]{form}{granted_scope} || [] } }

# the scope of a token answer, of the JWT it holds, and what /mcp saw
sub token_scopes {
    my ($client, $r, $verifier, $cb) = @_;
    return 'no code: ' . redir($r) unless ($r->{query} || {})->{code};
    my $t = redeem($client, $r->{query}{code}, $verifier,
                   redirect_uri => $cb // 'https://app.example.com/cb');
    return "token $t->{status}" unless $t->{status} == 200;
    my $payload = (split /\./, $t->{json}{access_token})[1];
    my $claims = JSON::PP->new->decode(MIME::Base64::decode_base64url($payload));
    my $mcp = req(GET => '/mcp', headers => { Authorization => "Bearer $t->{json}{access_token}" });
    my ($seen) = $mcp->{content} =~ /scope=\[([^\]]*)\]/;
    return "answer [$t->{json}{scope}] jwt [$claims->{scope}] mcp $mcp->{status} [" . ($seen // '') . ']';
}

# unticking a box grants the rest: in the code's token, and at /mcp
sub untick {
    my ($verifier, %p) = app_request();
    my $page = authorize(%p);
    say_('page', $page->{status}, 'ticked:', ticked($page));
    my $r = approve($page, user => 'alice',
                    set => { granted_scope => ['mcp:tools', 'read:application'] });
    say_('approve without write:application', redir($r));
    say_('token', token_scopes('app', $r, $verifier));
}

# a form posted with more than it offered is refused, whatever the CSRF
sub widened {
    my ($verifier, %p) = app_request(scope => 'mcp:tools read:application');
    my $page = authorize(%p);
    say_('page', $page->{status}, 'ticked:', ticked($page));
    say_('granted_scope write:application added', redir(approve($page, user => 'alice',
        set => { granted_scope => ['mcp:tools', 'read:application', 'write:application'] })));
    say_('granted_scope outside the server', redir(approve($page, user => 'alice',
        set => { granted_scope => ['mcp:tools', 'admin'] })));
    say_('scope widened with it', redir(approve($page, user => 'alice',
        set => { scope => $ALL, granted_scope => [split / /, $ALL] })));
    my $r = approve($page, user => 'alice');
    say_('as offered', redir($r));
    say_('token', token_scopes('app', $r, $verifier));
}

# nothing ticked: nothing granted, the client hears access_denied
sub none_ticked {
    my ($verifier, %p) = app_request();
    my $page = authorize(%p);
    say_('nothing ticked', redir(approve($page, user => 'alice', drop => ['granted_scope'])));
}

# a required scope is shown ticked and disabled, and granted even unticked
sub required {
    my ($verifier, %p) = app_request();
    my $page = authorize(%p);
    my ($box) = $page->{content} =~ /(<input[^>]*value="mcp:tools"[^>]*>)/;
    say_('mcp:tools box', $box =~ /\bdisabled\b/ ? 'disabled' : 'enabled',
         $box =~ /\bchecked\b/ ? 'checked' : 'unchecked',
         $page->{content} =~ /<code>mcp:tools<\/code> <span class="required">required/ ? 'marked required' : 'not marked');
    say_('posted by a browser', ticked($page));
    my $r = approve($page, user => 'alice', set => { granted_scope => ['read:application'] });
    say_('token', token_scopes('app', $r, $verifier));
    ($verifier, %p) = app_request(state => 'two');
    $page = authorize(%p);
    $r = approve($page, user => 'alice', set => { granted_scope => [] });
    say_('nothing ticked', token_scopes('app', $r, $verifier));
}

# the remembered consent is the choice; a wider request asks again
sub remembered {
    my ($verifier, %p) = app_request();
    my $page = authorize(%p);
    my $r = approve($page, user => 'alice', set => { granted_scope => ['mcp:tools'] });
    say_('first', token_scopes('app', $r, $verifier));
    ($verifier, %p) = app_request(state => 'again');
    $r = authorize(%p);
    say_('again', redir($r));
    say_('again', token_scopes('app', $r, $verifier));
    ($verifier, %p) = app_request(scope => 'mcp:tools read:application');
    say_('another request', redir(authorize(%p)));
}

# the choice is off for redirect URIs matching mcp_oauth_consent_no_choice
sub no_choice {
    my ($verifier, %p) = app_request();
    my $page = authorize(%p);
    say_('app page', $page->{status}, $page->{content} =~ /type="checkbox"/ ? 'checkboxes' : 'no checkbox',
         $page->{content} =~ /Use this server&#39;s tools/ ? 'described' : 'not described');
    my $r = approve($page, user => 'alice', set => { granted_scope => ['mcp:tools'] });
    say_('app, one box posted', token_scopes('app', $r, $verifier));
    my ($cv, $cc) = pkce();
    $page = authorize(client_id => 'conf', redirect_uri => 'https://conf.example.com/cb',
                      code_challenge => $cc, state => 'c', scope => 'mcp:tools read:application',
                      user => 'alice');
    say_('conf page', $page->{status}, $page->{content} =~ /type="checkbox"/ ? 'checkboxes' : 'no checkbox');
    $r = approve($page, user => 'alice', set => { granted_scope => ['mcp:tools'] });
    my $t = redeem({ client_id => 'conf', client_secret => 'conf-secret-0123456789' },
                   $r->{query}{code}, $cv, redirect_uri => 'https://conf.example.com/cb');
    say_('conf, one box ticked', $t->{status}, $t->{json}{scope});
}

# who the client is: the operator's, its own claim (DCR), a document's host
sub origins {
    my ($v0, %p0) = app_request();
    my $page = authorize(%p0);
    say_('static client', $page->{content} =~ /class="unverified"/ ? 'unverified' : 'no mark');
    my $c = register(client_name => 'Totally <Official> App',
                     redirect_uris => ['https://evil.example.net/cb'])->{json};
    my ($v, $ch) = pkce();
    $page = authorize(client_id => $c->{client_id}, redirect_uri => 'https://evil.example.net/cb',
                      code_challenge => $ch, state => 'x', scope => 'mcp:tools', user => 'alice');
    my $c0 = $page->{content};
    say_('registered client', $page->{status},
         $c0 =~ m{<h1>Authorize Totally &lt;Official&gt; App\? <span class="unverified">unverified</span></h1>} ? 'name marked unverified' : 'no mark',
         $c0 =~ m{<p class="host"><strong>evil\.example\.net</strong></p>} ? 'host shown' : 'no host');
}

run_tests();

__DATA__

=== TEST 1: descriptions: shown beside each raw scope name, escaped; what the server's rules tie to each scope is listed under it
--- config eval
McpOAuth::as_config(extra => $::DESCRIBED)
--- request eval
"GET /authorize?$::Q"
--- more_headers
X-Test-User: alice
--- error_code: 200
--- response_body_like chomp
\A(?=.*<code>read:application</code></label>\n<span class="desc">See your applications &amp; their &lt;settings&gt;</span>)(?!.*<settings>)(?=.*<code>write:application</code></label>\n<span class="desc">Create, update and delete applications</span>)(?=.*<span class="desc">Use this server&#39;s tools</span>\n<ul class="unlocks">\n<li>every request to <code>http://127\.0\.0\.1:\d+/mcp</code></li>)(?=.*read:application.*<li>tool <code>list_apps</code></li>\n<li>prompt <code>summary</code></li>\n</ul></li>)(?=.*write:application.*<li>tools <code>delete_\*</code></li>\n</ul></li>)
--- no_error_log
[error]



=== TEST 2: a checkbox per scope, all ticked, inside the form; without descriptions or rules, the raw names (mcp:tools: the baseline of /mcp)
--- config eval
McpOAuth::as_config()
--- request eval
"GET /authorize?$::Q"
--- more_headers
X-Test-User: alice
--- error_code: 200
--- response_body_like chomp
\A(?=.*<form method="post" action="/authorize">.*<input type="checkbox" name="granted_scope" value="mcp:tools" checked> <code>mcp:tools</code></label>\n<ul class="unlocks">\n<li>every request to <code>http://127\.0\.0\.1:\d+/mcp</code></li>\n</ul></li>\n<li class="scope"><label><input type="checkbox" name="granted_scope" value="read:application" checked> <code>read:application</code></label></li>\n<li class="scope"><label><input type="checkbox" name="granted_scope" value="write:application" checked> <code>write:application</code></label></li>.*</form>)(?!.*class="desc")(?!.*<li>tool)(?!.*disabled)
--- no_error_log
[error]



=== TEST 3: unticking a scope grants the rest: the code's token and the call to the resource carry only the ticked scopes
--- config eval
McpOAuth::as_config(extra => $::DESCRIBED)
--- request
GET /.well-known/oauth-authorization-server
--- response_body_filters eval
McpOAuth::flow(\&main::untick)
--- response_body
page 200 ticked: mcp:tools read:application write:application
approve without write:application 302 https://app.example.com/cb code iss state=xyz
token answer [mcp:tools read:application] jwt [mcp:tools read:application] mcp 200 [mcp:tools read:application]
--- error_log
mcp_oauth: authorize: the user "alice" granted "mcp:tools read:application" of "mcp:tools read:application write:application"



=== TEST 4: a form that grants more than it offered is refused (400 page), even a scope the server has; the CSRF token binds the offered set
--- config eval
McpOAuth::as_config(extra => $::DESCRIBED)
--- request
GET /.well-known/oauth-authorization-server
--- response_body_filters eval
McpOAuth::flow(\&main::widened)
--- response_body
page 200 ticked: mcp:tools read:application
granted_scope write:application added 400 page
granted_scope outside the server 400 page
scope widened with it 403 page
as offered 302 https://app.example.com/cb code iss state=xyz
token answer [mcp:tools read:application] jwt [mcp:tools read:application] mcp 200 [mcp:tools read:application]
--- error_log
mcp_oauth: authorize: the consent form grants "mcp:tools read:application write:application", more than it offered
--- no_error_log
[alert]



=== TEST 5: nothing ticked: access_denied back to the client, no code
--- config eval
McpOAuth::as_config()
--- request
GET /.well-known/oauth-authorization-server
--- response_body_filters eval
McpOAuth::flow(\&main::none_ticked)
--- response_body
nothing ticked 302 https://app.example.com/cb error=access_denied error_description iss state=xyz
--- error_log
mcp_oauth: authorize: access_denied: the user granted none of the requested scopes



=== TEST 6: mcp_oauth_consent_required_scope: ticked, disabled, marked required, and granted even when the form leaves it out
--- config eval
McpOAuth::as_config(extra => "mcp_oauth_consent_required_scope mcp:tools;\n    mcp_oauth_consent_ttl 0;\n    $::DESCRIBED")
--- request
GET /.well-known/oauth-authorization-server
--- response_body_filters eval
McpOAuth::flow(\&main::required)
--- response_body
mcp:tools box disabled checked marked required
posted by a browser read:application write:application
token answer [mcp:tools read:application] jwt [mcp:tools read:application] mcp 200 [mcp:tools read:application]
nothing ticked answer [mcp:tools] jwt [mcp:tools] mcp 200 [mcp:tools]
--- no_error_log
[error]



=== TEST 7: the remembered consent records the choice: the next request gets a code at once, for the scopes ticked then; another request asks again
--- config eval
McpOAuth::as_config()
--- request
GET /.well-known/oauth-authorization-server
--- response_body_filters eval
McpOAuth::flow(\&main::remembered)
--- response_body
first answer [mcp:tools] jwt [mcp:tools] mcp 200 [mcp:tools]
again 302 https://app.example.com/cb code iss state=again
again answer [mcp:tools] jwt [mcp:tools] mcp 200 [mcp:tools]
another request 200 page
--- no_error_log
[error]



=== TEST 8: mcp_oauth_consent_no_choice: a client of a matching redirect URI sees no checkbox and gets what it asked; another client still chooses
--- config eval
McpOAuth::as_config(extra => "mcp_oauth_consent_no_choice https://app.example.com/*;\n    $::DESCRIBED")
--- request
GET /.well-known/oauth-authorization-server
--- response_body_filters eval
McpOAuth::flow(\&main::no_choice)
--- response_body
app page 200 no checkbox described
app, one box posted answer [mcp:tools read:application write:application] jwt [mcp:tools read:application write:application] mcp 200 [mcp:tools read:application write:application]
conf page 200 checkboxes
conf, one box ticked 200 mcp:tools
--- no_error_log
[error]



=== TEST 9: mcp_oauth_consent_choice off: no checkbox for anyone, the whole request is granted
--- config eval
McpOAuth::as_config(extra => 'mcp_oauth_consent_choice off;')
--- request eval
"GET /authorize?$::Q"
--- more_headers
X-Test-User: alice
--- error_code: 200
--- response_body_like chomp
\A(?=.*<li class="scope"><label><code>mcp:tools</code></label>\n<ul)(?=.*<li class="scope"><label><code>read:application</code></label></li>)(?!.*type="checkbox")(?=.*It asks for these permissions:)
--- no_error_log
[error]



=== TEST 10: a client's own name (DCR) is marked unverified and its redirect host is shown on its own line; a static client's is not marked
--- config eval
McpOAuth::as_config()
--- request
GET /.well-known/oauth-authorization-server
--- response_body_filters eval
McpOAuth::flow(\&main::origins)
--- response_body
static client no mark
registered client 200 name marked unverified host shown
--- no_error_log
[error]



=== TEST 11: a client metadata document's client: its URL's host is the verified part, no unverified mark
--- http_config
map $mcp_oauth_client_metadata_url $cimd_doc {
    "https://tools.example.org/oauth/client.json" '{"client_id":"https://tools.example.org/oauth/client.json","client_name":"Doc App","redirect_uris":["https://tools.example.org/cb"],"token_endpoint_auth_method":"none"}';
    default "";
}
--- config eval
McpOAuth::as_config(extra => <<'_EOC_')
mcp_oauth_client_metadata_request /_cimd;
    location = /_cimd {
        internal;
        if ($cimd_doc = "") { return 404; }
        default_type application/json;
        return 200 $cimd_doc;
    }
_EOC_
--- request eval
'GET /authorize?response_type=code&client_id=https%3A%2F%2Ftools.example.org%2Foauth%2Fclient.json'
. '&redirect_uri=https%3A%2F%2Ftools.example.org%2Fcb'
. "&code_challenge=$McpOAuth::CHALLENGE&code_challenge_method=S256&state=xyz&scope=mcp%3Atools"
--- more_headers
X-Test-User: alice
--- error_code: 200
--- response_body_like chomp
\A(?=.*<h1>Authorize Doc App\?</h1>\n<p class="origin">Published by <strong class="verified">tools\.example\.org</strong>)(?!.*class="unverified")(?=.*<p class="host"><strong>tools\.example\.org</strong></p>)
--- no_error_log
[error]



=== TEST 12: the operator's template frames the consent page: placeholders replaced, the product name escaped, the logo inline, the style kept
--- config eval
McpOAuth::as_config(extra => <<'_EOC_')
mcp_oauth_page_template $TEST_NGINX_DATA/pages/template.html;
    mcp_oauth_page_stylesheet $TEST_NGINX_DATA/pages/acme.css;
    mcp_oauth_page_logo $TEST_NGINX_DATA/pages/logo.svg;
    mcp_oauth_page_product "Acme <MCP> & Co";
_EOC_
--- request eval
"GET /authorize?$::Q"
--- more_headers
X-Test-User: alice
--- error_code: 200
--- response_headers_like
Content-Security-Policy: default-src 'none'; style-src 'unsafe-inline'; img-src data:; .*
--- response_body_like chomp
\A<!DOCTYPE html>\n<html lang="en">\n<head>\n<meta charset="utf-8">\n<title>Authorize Static App \| Acme &lt;MCP&gt; &amp; Co</title>\n<style>\n.*\.brand b\{color:#0b5\}\n</style>\n</head>\n<body class="acme">\n<div class="brand"><img class="logo" src="data:image/svg\+xml;base64,PHN2Zy[A-Za-z0-9+/=]+" alt=""> <b>Acme &lt;MCP&gt; &amp; Co</b></div>\n<section class="card">\n<h1>Authorize Static App\?</h1>\n.*<button type="submit" name="decision" value="deny">Deny</button>\n</form>\n\n</section>\n<footer>Acme sign-in service</footer>\n</body>\n</html>\n\z
--- no_error_log
[error]



=== TEST 13: ... and every other page: an error page in the same template
--- config eval
McpOAuth::as_config(extra => <<'_EOC_')
mcp_oauth_page_template $TEST_NGINX_DATA/pages/template.html;
    mcp_oauth_page_product Acme;
_EOC_
--- request
GET /authorize?response_type=code&client_id=nobody&state=x
--- more_headers
X-Test-User: alice
--- error_code: 400
--- response_body_like chomp
\A<!DOCTYPE html>.*<title>Unknown client \| Acme</title>.*<div class="brand"> <b>Acme</b></div>\n<section class="card">\n<h1>Unknown client</h1>\n<p>This application is not registered.*</section>\n<footer>Acme sign-in service</footer>
--- no_error_log
[error]



=== TEST 14: without a template, the stylesheet, logo and product name go into the built-in page
--- config eval
McpOAuth::as_config(extra => <<'_EOC_')
mcp_oauth_page_stylesheet $TEST_NGINX_DATA/pages/acme.css;
    mcp_oauth_page_logo $TEST_NGINX_DATA/pages/logo.svg;
    mcp_oauth_page_product "Acme <MCP>";
_EOC_
--- request eval
"GET /authorize?$::Q"
--- more_headers
X-Test-User: alice
--- error_code: 200
--- response_body_like chomp
\A<!DOCTYPE html>.*<title>Authorize Static App</title>\n<style>\nbody\{font-family:.*body\{background:#f4f6fb\}\n\.brand b\{color:#0b5\}\n</style>\n</head>\n<body>\n<header class="product"><img class="logo" src="data:image/svg\+xml;base64,[A-Za-z0-9+/=]+" alt=""><span>Acme &lt;MCP&gt;</span></header>\n<main>\n<h1>Authorize Static App\?</h1>
--- no_error_log
[error]



=== TEST 15: nginx -t: a template with an unknown placeholder names the directive, the file and the placeholder
--- config
mcp_oauth_page_template $TEST_NGINX_DATA/pages/unknown.html;
--- must_die
--- error_log eval
qr{\[emerg\] .*"mcp_oauth_page_template": the template "\S+/pages/unknown\.html" has an unknown placeholder "\{\{nope\}\}" \(it takes \{\{title\}\}, \{\{product\}\}, \{\{logo\}\}, \{\{style\}\} and one \{\{content\}\}\)}



=== TEST 16: nginx -t: a template without {{content}}, with it twice, or with an unclosed placeholder
--- config
mcp_oauth_page_template $TEST_NGINX_DATA/pages/nocontent.html;
--- must_die
--- error_log eval
qr{"mcp_oauth_page_template": the template "\S+/nocontent\.html" lacks the placeholder "\{\{content\}\}"}



=== TEST 17: nginx -t: {{content}} twice
--- config
mcp_oauth_page_template $TEST_NGINX_DATA/pages/twice.html;
--- must_die
--- error_log eval
qr{"mcp_oauth_page_template": the template "\S+/twice\.html" has a second placeholder "\{\{content\}\}"}



=== TEST 18: nginx -t: an unclosed placeholder
--- config
mcp_oauth_page_template $TEST_NGINX_DATA/pages/unclosed.html;
--- must_die
--- error_log eval
qr{"mcp_oauth_page_template": the template "\S+/unclosed\.html" has an unclosed placeholder "\{\{title</body></html>}



=== TEST 19: nginx -t: a missing template file
--- config
mcp_oauth_page_template $TEST_NGINX_DATA/pages/absent.html;
--- must_die
--- error_log eval
qr{"mcp_oauth_page_template": cannot open template file "\S+/pages/absent\.html"}



=== TEST 20: nginx -t: a stylesheet that would close its <style> element, a logo of no image type
--- config
mcp_oauth_page_stylesheet $TEST_NGINX_DATA/pages/bad.css;
--- must_die
--- error_log eval
qr{"mcp_oauth_page_stylesheet": the stylesheet "\S+/pages/bad\.css" must not contain "</"}



=== TEST 21: nginx -t: a logo of no image type
--- config
mcp_oauth_page_logo $TEST_NGINX_DATA/pages/logo.txt;
--- must_die
--- error_log eval
qr{"mcp_oauth_page_logo": "\S+/pages/logo\.txt" is not a \.png, \.svg, \.jpg, \.gif or \.webp file}



=== TEST 22: nginx -t: a scope described twice, an empty description, a description of no scope
--- config
mcp_oauth_scope_description mcp:tools "one";
mcp_oauth_scope_description mcp:tools "two";
--- must_die
--- error_log eval
qr{"mcp_oauth_scope_description": "mcp:tools" is described twice}



=== TEST 23: nginx -t: an empty description
--- config
mcp_oauth_scope_description mcp:tools "";
--- must_die
--- error_log eval
qr{"mcp_oauth_scope_description": the description of "mcp:tools" is empty}



=== TEST 24: nginx -t: mcp_oauth_consent_no_choice takes redirect patterns as mcp_oauth_redirect_uri_allow does
--- config
mcp_oauth_consent_no_choice chatgpt.com;
--- must_die
--- error_log eval
qr{"mcp_oauth_consent_no_choice": "chatgpt\.com" is neither a URL, a URL prefix ending in "\*", nor "loopback"}



=== TEST 25: descriptions set at http level add up with the server's own
--- http_config
mcp_oauth_scope_description read:application "Read from http level";
mcp_oauth_scope_description write:application "Write from http level";
--- config eval
McpOAuth::as_config(extra => 'mcp_oauth_scope_description write:application "Write, the server says";')
--- request eval
"GET /authorize?$::Q"
--- more_headers
X-Test-User: alice
--- error_code: 200
--- response_body_like chomp
\A(?=.*<span class="desc">Read from http level</span>)(?=.*<span class="desc">Write, the server says</span>)(?!.*Write from http level)
--- no_error_log
[error]
