# Regressions for the security review findings, each next to a positive
# control that shows the same request shape is otherwise let through:
#
#   - JSON member names a case-folding decoder (Go's encoding/json: ASCII
#     case, U+017F -> "s", U+212A -> "k") or a NUL-terminating one would take
#     for a decisive member (method, params, params.name, params.uri) are
#     refused; an escaped but exact name is that name;
#   - NUL and other control characters in method, a tool name or a URI;
#     batches over 100 requests;
#   - chunked bodies over mcp_oauth_max_body_size (413 without a token, and
#     nginx keeps serving);
#   - CORS preflights with credentials or a body are checked;
#   - "satisfy any" strips a refused token unless mcp_oauth_pass_token;
#   - one challenge (and one CORS header) after an error_page to a
#     protected location;
#   - repeated Mcp-Method / Mcp-Name headers;
#   - one included mcp_oauth_jwks_request line used by two servers.
#
# The upstream is the echo server of t/lib/McpOAuth/Server.pm, forked by
# this file on 127.0.0.1:$TEST_NGINX_HARDENING_ECHO_PORT (default 19950).
# It answers every request with 200, text/plain:
#
#   <method> <target>
#   content-length: <as received>       \
#   transfer-encoding: <as received>     | only the headers it got,
#   authorization: <as received>         | in this order
#   x-user: <as received>               /
#   <empty line>
#   <the request body, exactly the bytes it read>
#
# ::up(BODY, ...) builds that reflection.  Multi-step blocks send their steps
# as --- pipelined_requests on one keep-alive connection; with
# check_accum_error_log every log check sees the whole log, so
# --- grep_error_log_out lists the module's lines of all steps in order.

use strict;
use warnings;
use lib 't/lib';
use Test::Nginx::Socket 'no_plan';
use McpOAuth;
use McpOAuth::Server;
use JSON::PP ();

McpOAuth::setup();
no_shuffle();
log_level('info');
check_accum_error_log();

$ENV{TEST_NGINX_HTML_DIR} ||= html_dir();

# ------------------------------------------------------- the echo upstream

# the request headers it reflects
my @Reflected = qw(content-length transfer-encoding authorization x-user);

McpOAuth::Server::start(name => 'echo', port_env => 'TEST_NGINX_HARDENING_ECHO_PORT',
                        default_port => 19950,
                        handler => McpOAuth::Server::echo(@Reflected));

# -------------------------------------------------------- block helpers

our $Meta = 'https://mcp.example.com/.well-known/oauth-protected-resource/mcp';

# the request header of a token granting SCOPE (space separated)
my %Tokens;
sub bearer {
    my ($scope) = @_;
    $Tokens{$scope} //= McpOAuth::mint(
        key => 'rsa1', claims => JSON::PP->new->encode({ scope => $scope }));
    return "Authorization: Bearer $Tokens{$scope}";
}

# signed by rsa1 for another audience
our $OtherAud = McpOAuth::mint(key => 'rsa1',
                               claims => '{"aud":"https://other.example.com"}');

# a JSON-RPC request; ID is JSON text, PARAMS JSON text or undef
sub rpc {
    my ($id, $method, $params) = @_;
    return '{"jsonrpc":"2.0",'
         . (defined $id ? "\"id\":$id," : '')
         . "\"method\":\"$method\""
         . (defined $params ? ",\"params\":$params" : '') . '}';
}

sub call { rpc($_[0], 'tools/call', "{\"name\":\"$_[1]\",\"arguments\":{}}") }

# what the echo upstream answers to BODY
sub up { McpOAuth::Server::echoed(\@Reflected, @_) }

# a JSON-RPC error answer (400)
sub rpc_error {
    my ($id, $code, $message) = @_;
    return "{\"jsonrpc\":\"2.0\",\"id\":$id,\"error\":{\"code\":$code,"
         . "\"message\":\"$message\"}}";
}

# the step-up 403 body for request ID
sub denied {
    my ($id, $scope) = @_;
    return "{\"jsonrpc\":\"2.0\",\"id\":$id,\"error\":{\"code\":-32003,"
         . "\"message\":\"insufficient scope\",\"data\":{\"scope\":\"$scope\"}}}";
}

sub step_up {
    my ($scope) = @_;
    return "WWW-Authenticate: Bearer error=\"insufficient_scope\", "
         . "scope=\"$scope\", resource_metadata=\"$Meta\"";
}

sub invalid {
    my ($reason) = @_;
    return "WWW-Authenticate: Bearer error=\"invalid_token\", "
         . "error_description=\"$reason\", resource_metadata=\"$Meta\"";
}

our $ParseError = rpc_error('null', -32700, 'Parse error');
our $RpcHeaders = "Content-Type: application/json\n!WWW-Authenticate";
our $NoToken = '{"error":"unauthorized","error_description":"no bearer token"}';

# a chunked request body (the request line, then the chunks)
sub chunked {
    my ($body, $size) = @_;
    my $out = '';
    for (my $i = 0; $i < length $body; $i += $size) {
        my $part = substr($body, $i, $size);
        $out .= sprintf("%x\r\n", length $part) . $part . "\r\n";
    }
    return $out . "0\r\n\r\n";
}

# the module's info lines
our $Lines = qr/mcp_oauth: [^,\n]*/;

# with debug logging: the JSON-RPC lines (the debug one names the parse
# error's detail) and the scope decisions
our $RpcLines = qr/mcp_oauth: (?:JSON-RPC [^,\n]*|insufficient scope)/;

# one header of a name at most, in the raw response header block
our $OneChallenge = '(?ims)^(www-authenticate|access-control-allow-origin|'
                  . 'access-control-expose-headers):.*^\1:';

# rules of most blocks: the baseline, admin_* tools, /etc resources
our $Std = <<'_EOC_';
    location /mcp {
        mcp_oauth on;
        mcp_oauth_required_scope mcp:tools;
        mcp_oauth_scope admin_* admin;
        mcp_oauth_method_scope tools/list mcp:tools;
        mcp_oauth_resource_scope file:///etc/* root;
        proxy_pass http://127.0.0.1:$TEST_NGINX_HARDENING_ECHO_PORT;
    }
_EOC_

# every block that names no issuer of its own: the resource, the issuer and
# the keys at server level
add_block_preprocessor(sub {
    my $block = shift;
    my $config = $block->config;
    return unless defined $config;
    # its name first: every block gets a fresh nginx (and token cache)
    my $head = "    # " . $block->name . "\n";
    $head .= <<'_EOC_' unless $config =~ /mcp_oauth_issuer/;
    mcp_oauth_resource https://mcp.example.com/mcp;
    mcp_oauth_issuer https://auth.example.com;
    mcp_oauth_jwks $TEST_NGINX_DATA/jwks/main.json;
_EOC_
    $block->set_value(config => $head . $config);
});

run_tests();

__DATA__

=== TEST 1: member names a case-folding decoder would take for name/params/method/uri are refused (-32700)
--- config eval: $::Std
--- log_level: debug
--- pipelined_requests eval
[
    # control: the plain request
    "POST /mcp\n" . ::call(1, 'echo'),
    # a second "name" for a case-insensitive decoder (which keeps the last)
    "POST /mcp\n" . '{"jsonrpc":"2.0","id":2,"method":"tools/call","params":{"name":"echo","Name":"admin_delete"}}',
    "POST /mcp\n" . '{"jsonrpc":"2.0","id":3,"method":"tools/call","params":{"name":"echo","NAME":"admin_delete"}}',
    "POST /mcp\n" . '{"jsonrpc":"2.0","id":4,"method":"tools/call","params":{"NAME":"admin_delete"}}',
    # a decoder that stops at a NUL reads "name"
    "POST /mcp\n" . '{"jsonrpc":"2.0","id":5,"method":"tools/call","params":{"name":"echo","name\u0000":"admin_delete"}}',
    # "paramſ" (U+017F LATIN SMALL LETTER LONG S) folds to "params" in Go
    "POST /mcp\n" . '{"jsonrpc":"2.0","id":6,"method":"tools/call","params":{"name":"echo"},"param' . "\xc5\xbf" . '":{"name":"admin_delete"}}',
    # "Method" at message level
    "POST /mcp\n" . '{"jsonrpc":"2.0","id":7,"method":"tools/list","Method":"tools/call","params":{"name":"admin_delete"}}',
    # "uRi" in resources/read
    "POST /mcp\n" . '{"jsonrpc":"2.0","id":8,"method":"resources/read","params":{"uri":"file:///public/a","uRi":"file:///etc/passwd"}}',
    # control: a member that only contains a decisive name is no decisive member
    "POST /mcp\n" . '{"jsonrpc":"2.0","id":9,"method":"tools/call","params":{"name":"echo","Names":"admin_delete"}}',
    # an escaped but exact "name" IS the name: its rule applies
    "POST /mcp\n" . '{"jsonrpc":"2.0","id":10,"method":"tools/call","params":{"\u006eame":"admin_delete"}}',
    "POST /mcp\n" . '{"jsonrpc":"2.0","id":11,"method":"tools/call","params":{"\u006eame":"admin_delete"}}',
]
--- more_headers eval
[
    ::bearer('mcp:tools'),
    ::bearer('mcp:tools'),
    ::bearer('mcp:tools'),
    ::bearer('mcp:tools'),
    ::bearer('mcp:tools'),
    ::bearer('mcp:tools'),
    ::bearer('mcp:tools'),
    ::bearer('mcp:tools'),
    ::bearer('mcp:tools'),
    ::bearer('mcp:tools'),
    ::bearer('mcp:tools admin'),
]
--- error_code eval
[200, 400, 400, 400, 400, 400, 400, 400, 200, 403, 200]
--- response_headers eval
[
    "!WWW-Authenticate",
    $::RpcHeaders, $::RpcHeaders, $::RpcHeaders, $::RpcHeaders,
    $::RpcHeaders, $::RpcHeaders, $::RpcHeaders,
    "!WWW-Authenticate",
    ::step_up('mcp:tools admin'),
    "!WWW-Authenticate",
]
--- response_body eval
[
    ::up(::call(1, 'echo')),
    $::ParseError, $::ParseError, $::ParseError, $::ParseError,
    $::ParseError, $::ParseError, $::ParseError,
    ::up('{"jsonrpc":"2.0","id":9,"method":"tools/call","params":{"name":"echo","Names":"admin_delete"}}'),
    ::denied(10, 'mcp:tools admin'),
    ::up('{"jsonrpc":"2.0","id":11,"method":"tools/call","params":{"\u006eame":"admin_delete"}}'),
]
--- grep_error_log eval: $::RpcLines
--- grep_error_log_out
mcp_oauth: JSON-RPC body: Parse error (ambiguous member name)
mcp_oauth: JSON-RPC Parse error
mcp_oauth: JSON-RPC body: Parse error (ambiguous member name)
mcp_oauth: JSON-RPC Parse error
mcp_oauth: JSON-RPC body: Parse error (ambiguous member name)
mcp_oauth: JSON-RPC Parse error
mcp_oauth: JSON-RPC body: Parse error (ambiguous member name)
mcp_oauth: JSON-RPC Parse error
mcp_oauth: JSON-RPC body: Parse error (ambiguous member name)
mcp_oauth: JSON-RPC Parse error
mcp_oauth: JSON-RPC body: Parse error (ambiguous member name)
mcp_oauth: JSON-RPC Parse error
mcp_oauth: JSON-RPC body: Parse error (ambiguous member name)
mcp_oauth: JSON-RPC Parse error
mcp_oauth: insufficient scope
--- no_error_log
[error]
[warn]



=== TEST 2: a NUL or another control character in method, a tool name or a resource URI is refused with the request's id (-32600 / -32602, issue 18 item 10); the same requests without it pass
--- config eval: $::Std
--- log_level: debug
--- pipelined_requests eval
[
    "POST /mcp\n" . '{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"admin\u0000x"}}',
    "POST /mcp\n" . '{"jsonrpc":"2.0","id":2,"method":"tools/call","params":{"name":"echo\u0000"}}',
    "POST /mcp\n" . '{"jsonrpc":"2.0","id":3,"method":"resources/read","params":{"uri":"file:///public/a\u0000/etc/passwd"}}',
    "POST /mcp\n" . '{"jsonrpc":"2.0","id":4,"method":"tools/call","params":{"name":"echo\u0001x"}}',
    # a NUL-truncating upstream runs it as tools/call
    "POST /mcp\n" . '{"jsonrpc":"2.0","id":5,"method":"tools/call\u0000","params":{"name":"admin_delete"}}',
    "POST /mcp\n" . '{"jsonrpc":"2.0","id":6,"method":"tools/call\u001f","params":{"name":"echo"}}',
    # U+007F, raw: JSON allows it unescaped
    "POST /mcp\n" . '{"jsonrpc":"2.0","id":7,"method":"tools/call' . "\x7f" . '","params":{"name":"echo"}}',
    "POST /mcp\n" . '{"jsonrpc":"2.0","id":8,"method":"tools/call","params":{"name":"echo\u007f"}}',
    "POST /mcp\n" . '{"jsonrpc":"2.0","id":9,"method":"prompts/get","params":{"name":"greet\n"}}',
    # in a batch, behind an allowed request
    "POST /mcp\n" . '[' . ::call(10, 'echo') . ',{"jsonrpc":"2.0","id":11,"method":"tools/call","params":{"name":"echo\t"}}]',
    # controls
    "POST /mcp\n" . '{"jsonrpc":"2.0","id":12,"method":"resources/read","params":{"uri":"file:///public/a"}}',
    "POST /mcp\n" . ::call(13, 'echo'),
]
--- more_headers eval
[
    ::bearer('mcp:tools admin'),
    ::bearer('mcp:tools'),
    ::bearer('mcp:tools'),
    ::bearer('mcp:tools'),
    ::bearer('mcp:tools'),
    ::bearer('mcp:tools'),
    ::bearer('mcp:tools'),
    ::bearer('mcp:tools'),
    ::bearer('mcp:tools'),
    ::bearer('mcp:tools'),
    ::bearer('mcp:tools'),
    ::bearer('mcp:tools'),
]
--- error_code eval
[400, 400, 400, 400, 400, 400, 400, 400, 400, 400, 200, 200]
--- response_headers eval
[
    $::RpcHeaders, $::RpcHeaders, $::RpcHeaders, $::RpcHeaders,
    $::RpcHeaders, $::RpcHeaders, $::RpcHeaders, $::RpcHeaders,
    $::RpcHeaders, $::RpcHeaders, "", "",
]
--- response_body eval
[
    ::rpc_error(1, -32602, 'Invalid params (control character in name or uri)'),
    ::rpc_error(2, -32602, 'Invalid params (control character in name or uri)'),
    ::rpc_error(3, -32602, 'Invalid params (control character in name or uri)'),
    ::rpc_error(4, -32602, 'Invalid params (control character in name or uri)'),
    ::rpc_error(5, -32600, 'Invalid Request (control character in method)'),
    ::rpc_error(6, -32600, 'Invalid Request (control character in method)'),
    ::rpc_error(7, -32600, 'Invalid Request (control character in method)'),
    ::rpc_error(8, -32602, 'Invalid params (control character in name or uri)'),
    ::rpc_error(9, -32602, 'Invalid params (control character in name or uri)'),
    ::rpc_error(11, -32602, 'Invalid params (control character in name or uri)'),
    ::up('{"jsonrpc":"2.0","id":12,"method":"resources/read","params":{"uri":"file:///public/a"}}'),
    ::up(::call(13, 'echo')),
]
--- grep_error_log eval: $::RpcLines
--- grep_error_log_out
mcp_oauth: JSON-RPC Invalid params (control character in name or uri)
mcp_oauth: JSON-RPC Invalid params (control character in name or uri)
mcp_oauth: JSON-RPC Invalid params (control character in name or uri)
mcp_oauth: JSON-RPC Invalid params (control character in name or uri)
mcp_oauth: JSON-RPC Invalid Request (control character in method)
mcp_oauth: JSON-RPC Invalid Request (control character in method)
mcp_oauth: JSON-RPC Invalid Request (control character in method)
mcp_oauth: JSON-RPC Invalid params (control character in name or uri)
mcp_oauth: JSON-RPC Invalid params (control character in name or uri)
mcp_oauth: JSON-RPC Invalid params (control character in name or uri)
--- no_error_log
[error]
[warn]



=== TEST 3: a batch of 101 requests is refused (-32600); a batch of 100 allowed requests passes whole
--- config eval: $::Std
--- pipelined_requests eval
[
    "POST /mcp\n[" . CORE::join(',', map { ::rpc($_, 'tools/list') } 1 .. 101) . "]",
    "POST /mcp\n[" . CORE::join(',', map { ::rpc($_, 'tools/list') } 1 .. 100) . "]",
    "POST /mcp\n[" . CORE::join(',', map { ::call($_, 'echo') } 1 .. 100) . "]",
]
--- more_headers eval
[::bearer('mcp:tools'), ::bearer('mcp:tools'), ::bearer('mcp:tools')]
--- error_code eval
[400, 200, 200]
--- response_headers eval
[$::RpcHeaders, "", ""]
--- response_body eval
[
    ::rpc_error('null', -32600, 'Invalid Request'),
    ::up("[" . CORE::join(',', map { ::rpc($_, 'tools/list') } 1 .. 100) . "]"),
    ::up("[" . CORE::join(',', map { ::call($_, 'echo') } 1 .. 100) . "]"),
]
--- grep_error_log eval: $::Lines
--- grep_error_log_out
mcp_oauth: JSON-RPC Invalid Request
--- no_error_log
[error]
[warn]



=== TEST 4: a batch of 101 is refused even when a denied call hides after the cap
--- config eval: $::Std
--- request eval
"POST /mcp\n[" . CORE::join(',', (map { ::call($_, 'echo') } 1 .. 100), ::call(101, 'admin_delete')) . "]"
--- more_headers eval
::bearer('mcp:tools')
--- error_code: 400
--- response_headers eval
$::RpcHeaders
--- response_body eval
::rpc_error('null', -32600, 'Invalid Request')
--- error_log
mcp_oauth: JSON-RPC Invalid Request
--- no_error_log
[error]
[warn]



=== TEST 5: a chunked body over mcp_oauth_max_body_size without a token: 413 once read, nginx keeps serving
--- config eval
$::Std =~ s/mcp_oauth on;/mcp_oauth on;\n        mcp_oauth_max_body_size 1k;/r
--- request eval
[
    "POST /mcp\n" . ::chunked(::rpc(1, 'tools/call', '{"name":"echo","arguments":{"pad":"' . ('a' x 2000) . '"}}'), 700),
    "GET /mcp",
]
--- more_headers eval
[
    "Content-Type: application/json\nTransfer-Encoding: chunked",
    ::bearer('mcp:tools'),
]
--- error_code eval
[413, 200]
--- response_headers eval
["!WWW-Authenticate", ""]
--- response_body_like eval
[qr/413 Request Entity Too Large/, qr/\AGET \/mcp\n\n\z/]
--- grep_error_log eval: $::Lines
--- grep_error_log_out
mcp_oauth: request body larger than mcp_oauth_max_body_size
--- no_error_log
[error]
[alert]
[crit]
signal 11
mcp_oauth: no bearer token



=== TEST 6: a chunked body over the limit spilled to a temporary file: 413 without a token; a chunked body under it passes
--- config eval
$::Std =~ s/mcp_oauth on;/mcp_oauth on;\n        mcp_oauth_max_body_size 1k;/r
--- request eval
[
    # larger than client_body_buffer_size: read into a temporary file
    "POST /mcp\n" . ::chunked(::rpc(1, 'tools/call', '{"name":"echo","arguments":{"pad":"' . ('b' x 200000) . '"}}'), 8000),
    "POST /mcp\n" . ::chunked(::call(2, 'echo'), 10),
]
--- more_headers eval
[
    "Content-Type: application/json\nTransfer-Encoding: chunked",
    "Content-Type: application/json\nTransfer-Encoding: chunked\n" . ::bearer('mcp:tools'),
]
--- error_code eval
[413, 200]
--- response_headers eval
["!WWW-Authenticate", ""]
--- response_body_like eval
[qr/413 Request Entity Too Large/, '\A' . quotemeta(::up(::call(2, 'echo'))) . '\z']
--- timeout: 10
--- grep_error_log eval: $::Lines
--- grep_error_log_out
mcp_oauth: request body larger than mcp_oauth_max_body_size
--- error_log
a client request body is buffered to a temporary file
--- no_error_log
[error]
[alert]
[crit]
signal 11
mcp_oauth: no bearer token



=== TEST 7: CORS preflight: let through without credentials; checked with credentials or a body
--- config eval: $::Std
--- pipelined_requests eval
[
    "OPTIONS /mcp",
    "OPTIONS /mcp",
    "OPTIONS /mcp\nhello",
    "OPTIONS /mcp",
]
--- more_headers eval
[
    "Origin: http://localhost:6274\nAccess-Control-Request-Method: POST",
    "Origin: http://localhost:6274\nAccess-Control-Request-Method: POST\nAuthorization: Bearer garbage",
    "Origin: http://localhost:6274\nAccess-Control-Request-Method: POST",
    "Origin: http://localhost:6274\nAccess-Control-Request-Method: POST\n" . ::bearer('mcp:tools'),
]
--- error_code eval
[200, 401, 401, 200]
--- response_headers eval
[
    "!WWW-Authenticate",
    ::invalid('malformed token (not a JWS compact serialization)')
        . "\nAccess-Control-Allow-Origin: *\nContent-Type: application/json",
    "WWW-Authenticate: Bearer resource_metadata=\"$::Meta\", scope=\"mcp:tools\"",
    "!WWW-Authenticate",
]
--- response_body eval
[
    ::up('', method => 'OPTIONS'),
    '{"error":"invalid_token","error_description":"malformed token (not a JWS compact serialization)"}',
    $::NoToken,
    ::up('', method => 'OPTIONS'),
]
--- grep_error_log eval: $::Lines
--- grep_error_log_out
mcp_oauth: malformed token (not a JWS compact serialization)
mcp_oauth: no bearer token
--- no_error_log
[error]
[warn]



=== TEST 8: satisfy any + allow: a refused token is not passed upstream; a valid one neither
--- config
    location /mcp {
        satisfy any;
        allow 127.0.0.1;
        deny all;
        mcp_oauth on;
        proxy_set_header X-User $mcp_oauth_sub;
        proxy_pass http://127.0.0.1:$TEST_NGINX_HARDENING_ECHO_PORT;
    }
--- pipelined_requests eval
["GET /mcp", "GET /mcp", "GET /mcp", "GET /mcp"]
--- more_headers eval
[
    "Authorization: Bearer $::OtherAud",
    "Authorization: Bearer " . McpOAuth::token('alg-none'),
    "",
    "Authorization: Bearer " . McpOAuth::token('rs256'),
]
--- error_code eval
[200, 200, 200, 200]
--- response_headers eval
[
    "!WWW-Authenticate\n!Access-Control-Allow-Origin\n!Access-Control-Expose-Headers",
    "!WWW-Authenticate\n!Access-Control-Allow-Origin\n!Access-Control-Expose-Headers",
    "!WWW-Authenticate\n!Access-Control-Allow-Origin\n!Access-Control-Expose-Headers",
    "!WWW-Authenticate",
]
--- response_body eval
[
    ::up('', method => 'GET'),
    ::up('', method => 'GET'),
    ::up('', method => 'GET'),
    ::up('', method => 'GET', 'x-user' => 'user-1'),
]
--- grep_error_log eval: $::Lines
--- grep_error_log_out
mcp_oauth: token not issued for this resource
mcp_oauth: unsupported alg (alg none is never accepted)
mcp_oauth: no bearer token
--- no_error_log
[error]
[warn]



=== TEST 9: satisfy any + allow + mcp_oauth_pass_token on: the header goes upstream as sent
--- config
    location /mcp {
        satisfy any;
        allow 127.0.0.1;
        deny all;
        mcp_oauth on;
        mcp_oauth_pass_token on;
        proxy_pass http://127.0.0.1:$TEST_NGINX_HARDENING_ECHO_PORT;
    }
--- pipelined_requests eval
["GET /mcp", "GET /mcp"]
--- more_headers eval
[
    "Authorization: Bearer $::OtherAud",
    "Authorization: Bearer " . McpOAuth::token('rs256'),
]
--- error_code eval
[200, 200]
--- response_headers eval
["!WWW-Authenticate", "!WWW-Authenticate"]
--- response_body eval
[
    ::up('', method => 'GET', authorization => "Bearer $::OtherAud"),
    ::up('', method => 'GET', authorization => "Bearer " . McpOAuth::token('rs256')),
]
--- grep_error_log eval: $::Lines
--- grep_error_log_out
mcp_oauth: token not issued for this resource
--- no_error_log
[error]
[warn]



=== TEST 10: satisfy any + deny all + error_page 401 to a protected location: one challenge, one CORS header, nginx keeps serving
--- config
    location = /mcp {
        satisfy any;
        deny all;
        mcp_oauth on;
        error_page 401 = /err;
        proxy_set_header X-User $mcp_oauth_sub;
        proxy_pass http://127.0.0.1:$TEST_NGINX_HARDENING_ECHO_PORT;
    }
    location = /err {
        internal;
        mcp_oauth on;
        proxy_set_header X-User $mcp_oauth_sub;
        proxy_pass http://127.0.0.1:$TEST_NGINX_HARDENING_ECHO_PORT;
    }
--- pipelined_requests eval
["GET /mcp", "GET /mcp", "GET /mcp", "GET /mcp"]
--- more_headers eval
[
    "Authorization: Bearer " . McpOAuth::token('alg-none'),
    "Authorization: Bearer x.y.z",
    "",
    "Authorization: Bearer " . McpOAuth::token('rs256'),
]
--- error_code eval
[401, 401, 401, 200]
--- raw_response_headers_unlike eval
[$::OneChallenge, $::OneChallenge, $::OneChallenge, $::OneChallenge]
--- response_headers eval
[
    ::invalid('unsupported alg (alg none is never accepted)')
        . "\nAccess-Control-Allow-Origin: *\nAccess-Control-Expose-Headers: WWW-Authenticate",
    ::invalid('malformed token header (not base64url JSON object)')
        . "\nAccess-Control-Allow-Origin: *\nAccess-Control-Expose-Headers: WWW-Authenticate",
    "WWW-Authenticate: Bearer resource_metadata=\"$::Meta\""
        . "\nAccess-Control-Allow-Origin: *\nAccess-Control-Expose-Headers: WWW-Authenticate",
    "!WWW-Authenticate\n!Access-Control-Allow-Origin",
]
--- response_body eval
[
    '{"error":"invalid_token","error_description":"unsupported alg (alg none is never accepted)"}',
    '{"error":"invalid_token","error_description":"malformed token header (not base64url JSON object)"}',
    $::NoToken,
    ::up('', method => 'GET', 'x-user' => 'user-1'),
]
--- grep_error_log eval: $::Lines
--- grep_error_log_out
mcp_oauth: unsupported alg (alg none is never accepted)
mcp_oauth: unsupported alg (alg none is never accepted)
mcp_oauth: malformed token header (not base64url JSON object)
mcp_oauth: malformed token header (not base64url JSON object)
mcp_oauth: no bearer token
mcp_oauth: no bearer token
--- no_error_log
[error]
[alert]
[crit]
signal 11



=== TEST 11: satisfy any + deny all at server level, error_page 401 to a protected location: one challenge, one CORS header
--- config
    satisfy any;
    deny all;

    location = /mcp {
        mcp_oauth on;
        error_page 401 = /err;
        proxy_pass http://127.0.0.1:$TEST_NGINX_HARDENING_ECHO_PORT;
    }
    location = /err {
        internal;
        mcp_oauth on;
        proxy_pass http://127.0.0.1:$TEST_NGINX_HARDENING_ECHO_PORT;
    }
--- pipelined_requests eval
["GET /mcp", "GET /mcp", "GET /mcp"]
--- more_headers eval
[
    "Authorization: Bearer " . McpOAuth::token('alg-none'),
    "Authorization: Bearer x.y.z",
    "Authorization: Bearer " . McpOAuth::token('rs256'),
]
--- error_code eval
[401, 401, 200]
--- raw_response_headers_unlike eval
[$::OneChallenge, $::OneChallenge, $::OneChallenge]
--- response_headers eval
[
    ::invalid('unsupported alg (alg none is never accepted)')
        . "\nAccess-Control-Allow-Origin: *\nAccess-Control-Expose-Headers: WWW-Authenticate",
    ::invalid('malformed token header (not base64url JSON object)')
        . "\nAccess-Control-Allow-Origin: *\nAccess-Control-Expose-Headers: WWW-Authenticate",
    "!WWW-Authenticate\n!Access-Control-Allow-Origin",
]
--- response_body_like eval
[qr/401 Authorization Required/, qr/401 Authorization Required/, qr/\AGET \/mcp\n\n\z/]
--- no_error_log
[error]
[alert]
[crit]
signal 11



=== TEST 12: repeated Mcp-Method or Mcp-Name headers are refused (-32020); one matching pair passes
--- config eval: $::Std
--- pipelined_requests eval
[
    "POST /mcp\n" . ::call(1, 'echo'),
    "POST /mcp\n" . ::call(2, 'echo'),
    "POST /mcp\n" . ::call(3, 'echo'),
    "POST /mcp\n" . ::call(4, 'echo'),
    "POST /mcp\n" . ::call(5, 'echo'),
]
--- more_headers eval
[
    ::bearer('mcp:tools') . "\nMcp-Method: tools/call\nMcp-Method: tools/call\nMcp-Name: echo",
    ::bearer('mcp:tools') . "\nMcp-Method: tools/call\nMcp-Name: echo\nMcp-Name: echo",
    ::bearer('mcp:tools') . "\nMcp-Method: tools/call\nMcp-Method: tools/list",
    ::bearer('mcp:tools') . "\nmcp-name: echo\nMCP-NAME: admin_delete",
    ::bearer('mcp:tools') . "\nMcp-Method: tools/call\nMcp-Name: echo",
]
--- error_code eval
[400, 400, 400, 400, 200]
--- response_headers eval
[$::RpcHeaders, $::RpcHeaders, $::RpcHeaders, $::RpcHeaders, "!WWW-Authenticate"]
--- response_body eval
[
    ::rpc_error('null', -32020, 'Mcp-Method or Mcp-Name header is repeated or not decodable'),
    ::rpc_error('null', -32020, 'Mcp-Method or Mcp-Name header is repeated or not decodable'),
    ::rpc_error('null', -32020, 'Mcp-Method or Mcp-Name header is repeated or not decodable'),
    ::rpc_error('null', -32020, 'Mcp-Method or Mcp-Name header is repeated or not decodable'),
    ::up(::call(5, 'echo')),
]
--- grep_error_log eval: $::Lines
--- grep_error_log_out
mcp_oauth: JSON-RPC Mcp-Method or Mcp-Name header is repeated or not decodable
mcp_oauth: JSON-RPC Mcp-Method or Mcp-Name header is repeated or not decodable
mcp_oauth: JSON-RPC Mcp-Method or Mcp-Name header is repeated or not decodable
mcp_oauth: JSON-RPC Mcp-Method or Mcp-Name header is repeated or not decodable
--- no_error_log
[error]
[warn]



=== TEST 13: one included mcp_oauth_jwks_request line in two servers: nginx starts, each server uses the keys it fetched
--- user_files
>>> jwks.conf
mcp_oauth_jwks_request /_jwks;
--- http_config
    server {
        listen $TEST_NGINX_SERVER_PORT;
        server_name second.example;

        mcp_oauth_resource https://mcp.example.com/mcp;
        mcp_oauth_issuer https://auth.example.com;
        include $TEST_NGINX_HTML_DIR/jwks.conf;

        location /mcp {
            mcp_oauth on;
            proxy_set_header X-User "second $mcp_oauth_sub";
            proxy_pass http://127.0.0.1:$TEST_NGINX_HARDENING_ECHO_PORT;
        }
        location = /_jwks {
            internal;
            default_type application/json;
            alias $TEST_NGINX_DATA/jwks/rsa2.json;
        }
    }
--- config
    mcp_oauth_resource https://mcp.example.com/mcp;
    mcp_oauth_issuer https://auth.example.com;
    include $TEST_NGINX_HTML_DIR/jwks.conf;

    location /mcp {
        mcp_oauth on;
        proxy_set_header X-User "first $mcp_oauth_sub";
        proxy_pass http://127.0.0.1:$TEST_NGINX_HARDENING_ECHO_PORT;
    }
    location = /_jwks {
        internal;
        default_type application/json;
        alias $TEST_NGINX_DATA/jwks/rsa1.json;
    }
--- pipelined_requests eval
["GET /mcp", "GET /mcp", "GET /mcp", "GET /mcp", "GET /mcp", "GET /mcp"]
--- more_headers eval
[
    "Authorization: Bearer " . McpOAuth::token('rs256'),
    "Host: second.example\nAuthorization: Bearer " . McpOAuth::token('rs256-rotated'),
    "Authorization: Bearer " . McpOAuth::token('rs256-rotated'),
    "Host: second.example\nAuthorization: Bearer " . McpOAuth::token('rs256'),
    "Authorization: Bearer " . McpOAuth::token('rs256'),
    "Host: second.example\nAuthorization: Bearer " . McpOAuth::token('rs256-rotated'),
]
--- error_code eval
[200, 200, 401, 401, 200, 200]
--- response_headers eval
["", "", ::invalid('unknown kid'), ::invalid('unknown kid'), "", ""]
--- response_body eval
[
    ::up('', method => 'GET', 'x-user' => 'first user-1'),
    ::up('', method => 'GET', 'x-user' => 'second user-1'),
    '{"error":"invalid_token","error_description":"unknown kid"}',
    '{"error":"invalid_token","error_description":"unknown kid"}',
    ::up('', method => 'GET', 'x-user' => 'first user-1'),
    ::up('', method => 'GET', 'x-user' => 'second user-1'),
]
--- grep_error_log eval: qr/mcp_oauth: (?:JWKS from "\/_jwks" updated, \d+ keys|unknown kid)/
--- grep_error_log_out
mcp_oauth: JWKS from "/_jwks" updated, 1 keys
mcp_oauth: JWKS from "/_jwks" updated, 1 keys
mcp_oauth: JWKS from "/_jwks" updated, 1 keys
mcp_oauth: unknown kid
mcp_oauth: JWKS from "/_jwks" updated, 1 keys
mcp_oauth: unknown kid
--- no_error_log
[emerg]
[error]
[warn]



=== TEST 14: a body sent with another method than POST is refused (405, Allow: POST) once the token is checked; GET and DELETE without a body pass (issue 18 item 16)
--- config
    location /mcp {
        mcp_oauth on;
        mcp_oauth_required_scope mcp:tools;
        mcp_oauth_scope admin_* admin;
        proxy_pass http://127.0.0.1:$TEST_NGINX_HARDENING_ECHO_PORT;
    }
    location /api {
        mcp_oauth on;
        mcp_oauth_jsonrpc off;
        proxy_pass http://127.0.0.1:$TEST_NGINX_HARDENING_ECHO_PORT;
    }
--- pipelined_requests eval
[
    # control: the same body POSTed is checked against the tool rules
    "POST /mcp\n" . ::call(1, 'admin_delete'),
    "PUT /mcp\n" . ::call(2, 'admin_delete'),
    "PATCH /mcp\n" . ::call(3, 'admin_delete'),
    "DELETE /mcp\n" . ::call(4, 'admin_delete'),
    "GET /mcp\n" . ::call(5, 'admin_delete'),
    "PUT /mcp\n" . ::chunked(::call(6, 'admin_delete'), 10),
    # no token: the challenge comes first
    "PUT /mcp\n" . ::call(7, 'admin_delete'),
    # a GET (an SSE stream) and a DELETE (a session's end) without a body
    "GET /mcp",
    "DELETE /mcp",
    # mcp_oauth_jsonrpc off: not an MCP endpoint, any method may carry a body
    "PUT /api\n" . ::call(8, 'admin_delete'),
]
--- more_headers eval
[
    ::bearer('mcp:tools'),
    ::bearer('mcp:tools'),
    ::bearer('mcp:tools'),
    ::bearer('mcp:tools'),
    ::bearer('mcp:tools'),
    "Transfer-Encoding: chunked\n" . ::bearer('mcp:tools'),
    "",
    ::bearer('mcp:tools'),
    ::bearer('mcp:tools'),
    ::bearer('mcp:tools'),
]
--- error_code eval
[403, 405, 405, 405, 405, 405, 401, 200, 200, 200]
--- response_headers eval
[
    ::step_up('mcp:tools admin'),
    "Allow: POST\n!WWW-Authenticate",
    "Allow: POST\n!WWW-Authenticate",
    "Allow: POST\n!WWW-Authenticate",
    "Allow: POST\n!WWW-Authenticate",
    "Allow: POST\n!WWW-Authenticate",
    "WWW-Authenticate: Bearer resource_metadata=\"$::Meta\", scope=\"mcp:tools\"\n!Allow",
    "!Allow",
    "!Allow",
    "!Allow",
]
--- response_body_like eval
[
    '\A' . quotemeta(::denied(1, 'mcp:tools admin')) . '\z',
    qr/405 Not Allowed/,
    qr/405 Not Allowed/,
    qr/405 Not Allowed/,
    qr/405 Not Allowed/,
    qr/405 Not Allowed/,
    '\A' . quotemeta($::NoToken) . '\z',
    '\A' . quotemeta(::up('', method => 'GET')) . '\z',
    '\A' . quotemeta(::up('', method => 'DELETE')) . '\z',
    '\A' . quotemeta(::up(::call(8, 'admin_delete'), method => 'PUT', path => '/api', 'content-length' => length ::call(8, 'admin_delete'))) . '\z',
]
--- grep_error_log eval: $::Lines
--- grep_error_log_out
mcp_oauth: insufficient scope
mcp_oauth: a PUT request with a body; JSON-RPC messages are sent with POST
mcp_oauth: a PATCH request with a body; JSON-RPC messages are sent with POST
mcp_oauth: a DELETE request with a body; JSON-RPC messages are sent with POST
mcp_oauth: a GET request with a body; JSON-RPC messages are sent with POST
mcp_oauth: a PUT request with a body; JSON-RPC messages are sent with POST
mcp_oauth: no bearer token
--- no_error_log
[error]
[alert]
[crit]



=== TEST 15: resources/read URIs not in RFC 3986 normal form are refused (-32602) where resource rules apply: every spelling Node resolves to file:///secret/q3.pdf (issue 18 item 6)
--- config
    location /mcp {
        mcp_oauth on;
        mcp_oauth_required_scope mcp:tools;
        mcp_oauth_resource_scope file:///secret/* secret;
        mcp_oauth_resource_scope https://example.com/admin/* admin;
        proxy_pass http://127.0.0.1:$TEST_NGINX_HARDENING_ECHO_PORT;
    }
    location /norules {
        mcp_oauth on;
        mcp_oauth_required_scope mcp:tools;
        proxy_pass http://127.0.0.1:$TEST_NGINX_HARDENING_ECHO_PORT;
    }
--- pipelined_requests eval
[
    map({ "POST /mcp\n" . ::rpc($_->[0], 'resources/read', '{"uri":"' . $_->[1] . '"}') }
        [1, 'file:///public/../secret/q3.pdf'],
        [2, 'file:///./secret/q3.pdf'],
        [3, 'FILE:///secret/q3.pdf'],
        [4, 'file:///%73ecret/q3.pdf'],
        [5, 'file://localhost/secret/q3.pdf'],
        [6, 'file:///secret/q3.pdf/..'],
        [7, 'file:///public/.'],
        [8, 'file:///%2E%2E/secret/q3.pdf'],
        [9, 'file:///public/%2e%2e/secret/q3.pdf'],
        [10, 'file:/secret/q3.pdf'],
        [11, 'file:////secret/q3.pdf'],
        [12, 'file:///public\\\\..\\\\secret\\\\q3.pdf'],
        [13, 'file:///public%2F..%2Fsecret/q3.pdf'],
        [14, ' file:///secret/q3.pdf'],
        [15, 'https://EXAMPLE.com/admin/x'],
        [16, 'https://example.com:443/admin/x'],
        [17, 'https://user@example.com/admin/x'],
        [18, 'https:example.com/admin/x'],
        [19, 'file:///%7Esecret'],
        [20, 'file:///public/%4'],
        # controls: normal form passes, the rules decide
        [21, 'file:///public/q3.pdf'],
        [22, 'file:///public/a b%20c%C3%A9'],
        [23, 'db://tables/x%2Fy'],
        [24, 'file:///secret/q3.pdf'],
        [25, 'file:///secret/q3.pdf']),
    # without resource rules the URI is not looked at
    "POST /norules\n" . ::rpc(26, 'resources/read', '{"uri":"file:///public/../secret/q3.pdf"}'),
]
--- more_headers eval
[(::bearer('mcp:tools')) x 24, ::bearer('mcp:tools secret'), ::bearer('mcp:tools')]
--- error_code eval
[(400) x 20, 200, 200, 200, 403, 200, 200]
--- response_body eval
[
    (map { ::rpc_error($_, -32602, 'Invalid params (resource URI not in normal form)') } 1 .. 20),
    ::up(::rpc(21, 'resources/read', '{"uri":"file:///public/q3.pdf"}')),
    ::up(::rpc(22, 'resources/read', '{"uri":"file:///public/a b%20c%C3%A9"}')),
    ::up(::rpc(23, 'resources/read', '{"uri":"db://tables/x%2Fy"}')),
    ::denied(24, 'mcp:tools secret'),
    ::up(::rpc(25, 'resources/read', '{"uri":"file:///secret/q3.pdf"}')),
    ::up(::rpc(26, 'resources/read', '{"uri":"file:///public/../secret/q3.pdf"}'), path => '/norules'),
]
--- grep_error_log eval: qr/mcp_oauth: resource URI .* is not in normal form: [^,]*|mcp_oauth: insufficient scope/
--- grep_error_log_out
mcp_oauth: resource URI "file:///public/../secret/q3.pdf" is not in normal form: dot segment
mcp_oauth: resource URI "file:///./secret/q3.pdf" is not in normal form: dot segment
mcp_oauth: resource URI "FILE:///secret/q3.pdf" is not in normal form: upper-case scheme
mcp_oauth: resource URI "file:///%73ecret/q3.pdf" is not in normal form: percent-encoded unreserved character
mcp_oauth: resource URI "file://localhost/secret/q3.pdf" is not in normal form: file: with "localhost" (write file:///)
mcp_oauth: resource URI "file:///secret/q3.pdf/.." is not in normal form: dot segment
mcp_oauth: resource URI "file:///public/." is not in normal form: dot segment
mcp_oauth: resource URI "file:///%2E%2E/secret/q3.pdf" is not in normal form: percent-encoded unreserved character
mcp_oauth: resource URI "file:///public/%2e%2e/secret/q3.pdf" is not in normal form: bad percent-encoding (hex digits must be upper case)
mcp_oauth: resource URI "file:/secret/q3.pdf" is not in normal form: no "//" after the scheme
mcp_oauth: resource URI "file:////secret/q3.pdf" is not in normal form: empty path segment
mcp_oauth: resource URI "file:///public\..\secret\q3.pdf" is not in normal form: backslash
mcp_oauth: resource URI "file:///public%2F..%2Fsecret/q3.pdf" is not in normal form: encoded slash
mcp_oauth: resource URI " file:///secret/q3.pdf" is not in normal form: leading or trailing space
mcp_oauth: resource URI "https://EXAMPLE.com/admin/x" is not in normal form: upper-case host
mcp_oauth: resource URI "https://example.com:443/admin/x" is not in normal form: default port
mcp_oauth: resource URI "https://user@example.com/admin/x" is not in normal form: user info
mcp_oauth: resource URI "https:example.com/admin/x" is not in normal form: no "//" after the scheme
mcp_oauth: resource URI "file:///%7Esecret" is not in normal form: percent-encoded unreserved character
mcp_oauth: resource URI "file:///public/%4" is not in normal form: bad percent-encoding
mcp_oauth: insufficient scope
--- no_error_log
[error]
[warn]



=== TEST 16: config error: a resource rule no normal-form URI could match (issue 18 item 6)
--- config
    location /mcp {
        mcp_oauth on;
        mcp_oauth_resource_scope FILE:///secret/* secret;
        proxy_pass http://127.0.0.1:$TEST_NGINX_HARDENING_ECHO_PORT;
    }
--- must_die
--- error_log eval
qr/\[emerg\] .*"mcp_oauth_resource_scope" rule "FILE:\/\/\/secret\/\*" is not a URI in normal form \(upper-case scheme\): no request could match it/
