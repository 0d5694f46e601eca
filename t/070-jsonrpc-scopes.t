# MCP-aware authorization: the JSON-RPC body of a POST decides which scopes
# the call needs (mcp_oauth_scope, mcp_oauth_method_scope,
# mcp_oauth_resource_scope, mcp_oauth_prompt_scope on top of the
# mcp_oauth_required_scope baseline); malformed JSON-RPC gets a JSON-RPC
# error (400), a call the token is not good for the step-up 403, and an
# allowed call reaches the upstream with its body byte for byte.
#
# The upstream is the echo server of t/lib/McpOAuth/Server.pm, forked by this
# file on 127.0.0.1:$TEST_NGINX_ECHO_PORT (default 19860).  It answers every
# request with 200, text/plain:
#
#   <method> <target>
#   content-length: <as received>         \
#   transfer-encoding: <as received>       | only the headers it got,
#   authorization: <as received>           | in this order
#   x-method: <as received>                |
#   x-tool: <as received>                 /
#   <empty line>
#   <the request body, exactly the bytes it read>
#
# ::up(BODY, ...) builds that reflection, so a block asserts that the
# upstream got exactly BODY (and nothing of the token).
#
# Most blocks send their steps as --- pipelined_requests on one keep-alive
# connection; nginx handles them one after the other, and with
# check_accum_error_log every log check of the block sees the whole log, so
# --- grep_error_log_out lists the module's info lines of all the steps in
# order (as in t/060-jwks-remote.t).
#
# Tokens are minted at run time by t/data/mint.mjs with the scopes a step
# needs: ::bearer('mcp:tools weather:read').
#
# The rules most blocks use ($::Std, location /mcp):
#
#   baseline   mcp:tools
#   tools      get_weather -> weather:read     ping -> mcp:tools
#              admin_*     -> admin            admin_db_* -> dba
#              admin_db_status -> monitor      default -> tools:other
#   methods    notifications/* -> notify       logging/setLevel -> admin
#              resources/read  -> res:read     prompts/get -> prompts
#   resources  file:///etc/passwd -> root      file:///public/* -> res:public
#              default -> res:other
#   prompts    code_review -> review           hr_* -> hr

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

# ------------------------------------------------------- the echo upstream

# the request headers it reflects
my @Reflected = qw(content-length transfer-encoding authorization x-method
                   x-tool);

McpOAuth::Server::start(name => 'echo', port_env => 'TEST_NGINX_ECHO_PORT',
                        default_port => 19860,
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

# a JSON-RPC request; ID is JSON text (1, '"a"'), undef for a notification
sub rpc {
    my ($id, $method, $params) = @_;
    return '{"jsonrpc":"2.0",'
         . (defined $id ? "\"id\":$id," : '')
         . "\"method\":\"$method\""
         . (defined $params ? ",\"params\":$params" : '') . '}';
}

sub call   { rpc($_[0], 'tools/call', "{\"name\":\"$_[1]\",\"arguments\":{}}") }
sub res    { rpc($_[0], 'resources/read', "{\"uri\":\"$_[1]\"}") }
sub prompt { rpc($_[0], 'prompts/get', "{\"name\":\"$_[1]\"}") }

# a tools/call of "ping" padded to exactly LEN bytes
sub padded {
    my ($id, $len) = @_;
    my $short = call($id, 'ping') =~ s/"arguments":\{\}/"arguments":{"pad":""}/r;
    return $short =~ s/"pad":""/'"pad":"' . ('a' x ($len - length $short)) . '"'/er;
}

# a tools/call of get_weather whose "arguments" come before its "name" and
# hold one string, 'a' x N . TEXT: the name is seen only when the string's
# end is found where it is
sub long_call {
    my ($id, $n, $text) = @_;
    return rpc($id, 'tools/call', '{"arguments":{"t":"' . ('a' x $n) . $text
                                  . '"},"name":"get_weather"}');
}

# what the echo upstream answers to BODY (see above)
sub up { McpOAuth::Server::echoed(\@Reflected, @_) }

# the 403 body for request ID, and its challenge
sub denied {
    my ($id, $scope) = @_;
    return "{\"jsonrpc\":\"2.0\",\"id\":$id,\"error\":{\"code\":-32003,"
         . "\"message\":\"insufficient scope\",\"data\":{\"scope\":\"$scope\"}}}";
}

sub step_up {
    my ($scope) = @_;
    return "WWW-Authenticate: Bearer error=\"insufficient_scope\", "
         . "scope=\"$scope\", resource_metadata=\"$Meta\"\n"
         . "Access-Control-Expose-Headers: WWW-Authenticate\n"
         . "Content-Type: application/json";
}

# a JSON-RPC error answer (400)
sub rpc_error {
    my ($id, $code, $message) = @_;
    return "{\"jsonrpc\":\"2.0\",\"id\":$id,\"error\":{\"code\":$code,"
         . "\"message\":\"$message\"}}";
}

our $RpcHeaders = "Content-Type: application/json\n!WWW-Authenticate";
our $Plain403 = '{"error":"insufficient_scope","error_description":"insufficient scope"}';

# the module's info lines (and limit_req's)
# (limit_req's excess is left out: it depends on how fast the test runs)
our $Lines = qr/mcp_oauth: [^,]*|limiting requests(?=, excess: [\d.]+ by zone "per_tool")/;

# the rules of most blocks (see the top of the file)
our $Std = <<'_EOC_';
    location /mcp {
        mcp_oauth on;
        mcp_oauth_required_scope mcp:tools;

        mcp_oauth_scope get_weather weather:read;
        mcp_oauth_scope ping mcp:tools;
        mcp_oauth_scope admin_* admin;
        mcp_oauth_scope admin_db_* dba;
        mcp_oauth_scope admin_db_status monitor;
        mcp_oauth_scope default tools:other;

        mcp_oauth_method_scope notifications/* notify;
        mcp_oauth_method_scope logging/setLevel admin;
        mcp_oauth_method_scope resources/read res:read;
        mcp_oauth_method_scope prompts/get prompts;

        mcp_oauth_resource_scope file:///etc/passwd root;
        mcp_oauth_resource_scope file:///public/* res:public;
        mcp_oauth_resource_scope default res:other;

        mcp_oauth_prompt_scope code_review review;
        mcp_oauth_prompt_scope hr_* hr;

        proxy_pass http://127.0.0.1:$TEST_NGINX_ECHO_PORT;
    }
_EOC_

# every block: the resource, its issuer and keys, at server level
add_block_preprocessor(sub {
    my $block = shift;
    my $config = $block->config;
    return unless defined $config;
    $block->set_value(config => <<'_EOC_' . $config);
    mcp_oauth_resource https://mcp.example.com/mcp;
    mcp_oauth_issuer https://auth.example.com;
    mcp_oauth_jwks $TEST_NGINX_DATA/jwks/main.json;
_EOC_
});

run_tests();

__DATA__

=== TEST 1: tool rules: exact beats the longest prefix beats default
--- config eval: $::Std
--- pipelined_requests eval
[
    "POST /mcp\n" . ::call(1, 'admin_db_drop'),     # admin_db_* (not admin_*)
    "POST /mcp\n" . ::call(2, 'admin_db_drop'),
    "POST /mcp\n" . ::call(3, 'admin_users'),       # admin_*
    "POST /mcp\n" . ::call(4, 'admin_users'),
    "POST /mcp\n" . ::call(5, 'admin_db_status'),   # exact beats both prefixes
    "POST /mcp\n" . ::call(6, 'admin_db_status'),
    "POST /mcp\n" . ::call(7, 'get_weather'),       # exact beats default
    "POST /mcp\n" . ::call(8, 'search'),            # default
    "POST /mcp\n" . ::call(9, 'search'),
    "POST /mcp\n" . ::call(10, 'admin'),            # "admin" is not "admin_*"
    "POST /mcp\n" . ::call(11, 'admin_db_'),        # a prefix matches itself
]
--- more_headers eval
[
    ::bearer('mcp:tools admin'),
    ::bearer('mcp:tools dba'),
    ::bearer('mcp:tools dba'),
    ::bearer('mcp:tools admin'),
    ::bearer('mcp:tools admin dba'),
    ::bearer('mcp:tools monitor'),
    ::bearer('mcp:tools tools:other'),
    ::bearer('mcp:tools'),
    ::bearer('mcp:tools tools:other'),
    ::bearer('mcp:tools admin'),
    ::bearer('mcp:tools dba'),
]
--- error_code eval
[403, 200, 403, 200, 403, 200, 403, 403, 200, 403, 200]
--- response_headers eval
[
    ::step_up('mcp:tools dba'),
    "!WWW-Authenticate",
    ::step_up('mcp:tools admin'),
    "",
    ::step_up('mcp:tools monitor'),
    "",
    ::step_up('mcp:tools weather:read'),
    ::step_up('mcp:tools tools:other'),
    "",
    ::step_up('mcp:tools tools:other'),
    "",
]
--- response_body eval
[
    ::denied(1, 'mcp:tools dba'),
    ::up(::call(2, 'admin_db_drop')),
    ::denied(3, 'mcp:tools admin'),
    ::up(::call(4, 'admin_users')),
    ::denied(5, 'mcp:tools monitor'),
    ::up(::call(6, 'admin_db_status')),
    ::denied(7, 'mcp:tools weather:read'),
    ::denied(8, 'mcp:tools tools:other'),
    ::up(::call(9, 'search')),
    ::denied(10, 'mcp:tools tools:other'),
    ::up(::call(11, 'admin_db_')),
]
--- grep_error_log eval: $::Lines
--- grep_error_log_out
mcp_oauth: insufficient scope
mcp_oauth: insufficient scope
mcp_oauth: insufficient scope
mcp_oauth: insufficient scope
mcp_oauth: insufficient scope
mcp_oauth: insufficient scope
--- no_error_log
[error]
[warn]



=== TEST 2: the baseline is always needed, named first, and only once
--- config eval: $::Std
--- pipelined_requests eval
[
    "POST /mcp\n" . ::call(1, 'get_weather'),    # tool scope without baseline
    "POST /mcp\n" . ::call(2, 'get_weather'),
    "POST /mcp\n" . ::call(3, 'ping'),           # rule = the baseline
    "POST /mcp\n" . ::call(4, 'ping'),
    "POST /mcp\n" . ::rpc(5, 'initialize', '{"protocolVersion":"2025-11-25","capabilities":{}}'),
    "POST /mcp\n" . ::rpc(6, 'tools/list'),      # no rule for it
    "POST /mcp\n" . ::rpc(7, 'tools/list'),
]
--- more_headers eval
[
    ::bearer('weather:read tools:other'),
    ::bearer('mcp:tools weather:read'),
    ::bearer('other'),
    ::bearer('mcp:tools'),
    ::bearer('mcp:tools'),
    ::bearer('mcp:tools'),
    ::bearer('weather:read'),
]
--- error_code eval
[403, 200, 403, 200, 200, 200, 403]
--- response_headers eval
[
    ::step_up('mcp:tools weather:read'),
    "!WWW-Authenticate",
    ::step_up('mcp:tools'),
    "",
    "",
    "",
    ::step_up('mcp:tools'),
]
--- response_body eval
[
    ::denied(1, 'mcp:tools weather:read'),
    ::up(::call(2, 'get_weather')),
    ::denied(3, 'mcp:tools'),
    ::up(::call(4, 'ping')),
    ::up(::rpc(5, 'initialize', '{"protocolVersion":"2025-11-25","capabilities":{}}')),
    ::up(::rpc(6, 'tools/list')),
    ::denied(7, 'mcp:tools'),
]
--- grep_error_log eval: $::Lines
--- grep_error_log_out
mcp_oauth: insufficient scope
mcp_oauth: insufficient scope
mcp_oauth: insufficient scope
--- no_error_log
[error]
[warn]



=== TEST 3: a 403 has one challenge, CORS headers and echoes a string id
--- config eval: $::Std
--- request eval
"POST /mcp\n" . ::call('"call-7"', 'admin_db_drop')
--- more_headers eval
::bearer('mcp:tools admin')
--- error_code: 403
--- response_headers eval
::step_up('mcp:tools dba') . "\nAccess-Control-Allow-Origin: *"
--- raw_response_headers_unlike: (?im)^www-authenticate:.*^www-authenticate:
--- response_body eval
::denied('"call-7"', 'mcp:tools dba')
--- error_log
mcp_oauth: insufficient scope
--- no_error_log
[error]



=== TEST 4: method rules: prefix (notifications/*) and exact; notifications have id null
--- config eval: $::Std
--- pipelined_requests eval
[
    "POST /mcp\n" . ::rpc(undef, 'notifications/initialized'),
    "POST /mcp\n" . ::rpc(undef, 'notifications/initialized'),
    "POST /mcp\n" . ::rpc(undef, 'notifications/roots/list_changed'),
    "POST /mcp\n" . ::rpc('"lvl-1"', 'logging/setLevel', '{"level":"debug"}'),
    "POST /mcp\n" . ::rpc('"lvl-2"', 'logging/setLevel', '{"level":"debug"}'),
    "POST /mcp\n" . ::rpc(3, 'logging/setLevelX'),   # exact only: no rule
]
--- more_headers eval
[
    ::bearer('mcp:tools'),
    ::bearer('mcp:tools notify'),
    ::bearer('mcp:tools admin'),
    ::bearer('mcp:tools notify'),
    ::bearer('mcp:tools admin'),
    ::bearer('mcp:tools'),
]
--- error_code eval
[403, 200, 403, 403, 200, 200]
--- response_headers eval
[
    ::step_up('mcp:tools notify'),
    "",
    ::step_up('mcp:tools notify'),
    ::step_up('mcp:tools admin'),
    "",
    "",
]
--- response_body eval
[
    ::denied('null', 'mcp:tools notify'),
    ::up(::rpc(undef, 'notifications/initialized')),
    ::denied('null', 'mcp:tools notify'),
    ::denied('"lvl-1"', 'mcp:tools admin'),
    ::up(::rpc('"lvl-2"', 'logging/setLevel', '{"level":"debug"}')),
    ::up(::rpc(3, 'logging/setLevelX')),
]
--- grep_error_log eval: $::Lines
--- grep_error_log_out
mcp_oauth: insufficient scope
mcp_oauth: insufficient scope
mcp_oauth: insufficient scope
--- no_error_log
[error]
[warn]



=== TEST 5: resources/read: method rule then resource rule (exact, prefix, default)
--- config eval: $::Std
--- pipelined_requests eval
[
    "POST /mcp\n" . ::res(1, 'file:///etc/passwd'),
    "POST /mcp\n" . ::res(2, 'file:///etc/passwd'),
    "POST /mcp\n" . ::res(3, 'file:///etc/passwd'),
    "POST /mcp\n" . ::res(4, 'file:///public/readme.md'),
    "POST /mcp\n" . ::res(5, 'file:///public/readme.md'),
    "POST /mcp\n" . ::res(6, 'file:///home/me/notes'),
    "POST /mcp\n" . ::rpc(7, 'resources/list'),         # rules are for reads
    "POST /mcp\n" . ::call(8, 'file:///etc/passwd'),    # a tool: tool rules
]
--- more_headers eval
[
    ::bearer('mcp:tools res:read'),
    ::bearer('mcp:tools root'),
    ::bearer('mcp:tools res:read root'),
    ::bearer('mcp:tools res:read res:other'),
    ::bearer('mcp:tools res:read res:public'),
    ::bearer('mcp:tools res:read res:public'),
    ::bearer('mcp:tools'),
    ::bearer('mcp:tools root res:read'),
]
--- error_code eval
[403, 403, 200, 403, 200, 403, 200, 403]
--- response_headers eval
[
    ::step_up('mcp:tools res:read root'),
    ::step_up('mcp:tools res:read root'),
    "",
    ::step_up('mcp:tools res:read res:public'),
    "",
    ::step_up('mcp:tools res:read res:other'),
    "",
    ::step_up('mcp:tools tools:other'),
]
--- response_body eval
[
    ::denied(1, 'mcp:tools res:read root'),
    ::denied(2, 'mcp:tools res:read root'),
    ::up(::res(3, 'file:///etc/passwd')),
    ::denied(4, 'mcp:tools res:read res:public'),
    ::up(::res(5, 'file:///public/readme.md')),
    ::denied(6, 'mcp:tools res:read res:other'),
    ::up(::rpc(7, 'resources/list')),
    ::denied(8, 'mcp:tools tools:other'),
]
--- grep_error_log eval: $::Lines
--- grep_error_log_out
mcp_oauth: insufficient scope
mcp_oauth: insufficient scope
mcp_oauth: insufficient scope
mcp_oauth: insufficient scope
mcp_oauth: insufficient scope
--- no_error_log
[error]
[warn]



=== TEST 6: prompts/get: method rule then prompt rule (exact, prefix, none)
--- config eval: $::Std
--- pipelined_requests eval
[
    "POST /mcp\n" . ::prompt('"p1"', 'code_review'),
    "POST /mcp\n" . ::prompt('"p2"', 'code_review'),
    "POST /mcp\n" . ::prompt('"p3"', 'code_review'),
    "POST /mcp\n" . ::prompt(4, 'hr_salaries'),
    "POST /mcp\n" . ::prompt(5, 'hr_salaries'),
    "POST /mcp\n" . ::prompt(6, 'summarize'),           # no prompt rule
    "POST /mcp\n" . ::prompt(7, 'summarize'),           # method rule still
]
--- more_headers eval
[
    ::bearer('mcp:tools prompts'),
    ::bearer('mcp:tools review'),
    ::bearer('mcp:tools prompts review'),
    ::bearer('mcp:tools prompts review'),
    ::bearer('mcp:tools prompts hr'),
    ::bearer('mcp:tools prompts'),
    ::bearer('mcp:tools review hr'),
]
--- error_code eval
[403, 403, 200, 403, 200, 200, 403]
--- response_headers eval
[
    ::step_up('mcp:tools prompts review'),
    ::step_up('mcp:tools prompts review'),
    "",
    ::step_up('mcp:tools prompts hr'),
    "",
    "",
    ::step_up('mcp:tools prompts'),
]
--- response_body eval
[
    ::denied('"p1"', 'mcp:tools prompts review'),
    ::denied('"p2"', 'mcp:tools prompts review'),
    ::up(::prompt('"p3"', 'code_review')),
    ::denied(4, 'mcp:tools prompts hr'),
    ::up(::prompt(5, 'hr_salaries')),
    ::up(::prompt(6, 'summarize')),
    ::denied(7, 'mcp:tools prompts'),
]
--- grep_error_log eval: $::Lines
--- grep_error_log_out
mcp_oauth: insufficient scope
mcp_oauth: insufficient scope
mcp_oauth: insufficient scope
mcp_oauth: insufficient scope
--- no_error_log
[error]
[warn]



=== TEST 7: a batch goes through when every element is allowed, else it is denied whole
--- config eval: $::Std
--- pipelined_requests eval
[
    "POST /mcp\n[" . CORE::join(',', ::call(1, 'get_weather'),
                               ::rpc(undef, 'notifications/progress', '{"progressToken":"t","progress":1}'),
                               ::call('"b"', 'admin_db_status'),
                               '{"jsonrpc":"2.0","id":"srv-1","result":{}}') . "]",
    "POST /mcp\n[" . CORE::join(',', ::call(1, 'get_weather'),
                               ::rpc(undef, 'notifications/progress', '{"progressToken":"t","progress":1}'),
                               ::call('"b"', 'admin_db_status'),
                               '{"jsonrpc":"2.0","id":"srv-1","result":{}}') . "]",
    "POST /mcp\n[" . CORE::join(',', ::call(3, 'ping'), ::call(4, 'admin_users')) . "]",
]
--- more_headers eval
[
    ::bearer('mcp:tools weather:read notify monitor'),
    ::bearer('mcp:tools weather:read notify'),
    ::bearer('mcp:tools'),
]
--- error_code eval
[200, 403, 403]
--- response_headers eval
[
    "!WWW-Authenticate",
    ::step_up('mcp:tools weather:read notify monitor'),
    ::step_up('mcp:tools admin'),
]
--- response_body eval
[
    ::up("[" . CORE::join(',', ::call(1, 'get_weather'),
                         ::rpc(undef, 'notifications/progress', '{"progressToken":"t","progress":1}'),
                         ::call('"b"', 'admin_db_status'),
                         '{"jsonrpc":"2.0","id":"srv-1","result":{}}') . "]"),
    # one error per element with an id and a method, each naming the union
    "[" . ::denied(1, 'mcp:tools weather:read notify monitor') . ","
        . ::denied('"b"', 'mcp:tools weather:read notify monitor') . "]",
    "[" . ::denied(3, 'mcp:tools admin') . "," . ::denied(4, 'mcp:tools admin') . "]",
]
--- grep_error_log eval: $::Lines
--- grep_error_log_out
mcp_oauth: insufficient scope
mcp_oauth: insufficient scope
--- no_error_log
[error]
[warn]



=== TEST 8: responses from the client (no method) need only the baseline
--- config eval: $::Std
--- pipelined_requests eval
[
    "POST /mcp\n" . '{"jsonrpc":"2.0","id":"srv-1","result":{"action":"accept","content":{}}}',
    "POST /mcp\n" . '{"jsonrpc":"2.0","id":5,"error":{"code":-1,"message":"declined"}}',
    "POST /mcp\n" . '{"jsonrpc":"2.0","id":"srv-2","result":{}}',
]
--- more_headers eval
[
    ::bearer('mcp:tools'),
    ::bearer('mcp:tools'),
    ::bearer('weather:read admin dba notify'),
]
--- error_code eval
[200, 200, 403]
--- response_headers eval
["", "", ::step_up('mcp:tools')]
--- response_body eval
[
    ::up('{"jsonrpc":"2.0","id":"srv-1","result":{"action":"accept","content":{}}}'),
    ::up('{"jsonrpc":"2.0","id":5,"error":{"code":-1,"message":"declined"}}'),
    ::denied('"srv-2"', 'mcp:tools'),
]
--- grep_error_log eval: $::Lines
--- grep_error_log_out
mcp_oauth: insufficient scope
--- no_error_log
[error]
[warn]



=== TEST 9: GET (SSE stream) and DELETE (end of session) need only the baseline
--- config eval: $::Std
--- pipelined_requests eval
[
    "GET /mcp",
    "GET /mcp",
    "DELETE /mcp",
    "DELETE /mcp",
]
--- more_headers eval
[
    ::bearer('mcp:tools'),
    ::bearer('weather:read admin dba tools:other'),
    ::bearer('mcp:tools'),
    ::bearer('weather:read'),
]
--- error_code eval
[200, 403, 200, 403]
--- response_headers eval
[
    "",
    "WWW-Authenticate: Bearer error=\"insufficient_scope\", scope=\"mcp:tools\", resource_metadata=\"$::Meta\"\nContent-Type: application/json",
    "",
    "WWW-Authenticate: Bearer error=\"insufficient_scope\", scope=\"mcp:tools\", resource_metadata=\"$::Meta\"\nContent-Type: application/json",
]
--- response_body eval
[
    ::up('', method => 'GET'),
    $::Plain403,
    ::up('', method => 'DELETE'),
    $::Plain403,
]
--- grep_error_log eval: $::Lines
--- grep_error_log_out
mcp_oauth: insufficient scope
mcp_oauth: insufficient scope
--- no_error_log
[error]
[warn]



=== TEST 10: -32700 Parse error: not JSON, a duplicate member, truncated JSON
--- config eval: $::Std
--- pipelined_requests eval
[
    "POST /mcp\nnot json",
    "POST /mcp\n" . '{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"ping","name":"admin_db_drop"}}',
    "POST /mcp\n" . '{"jsonrpc":"2.0","id":1,"method":"tools/call","id":2}',
    "POST /mcp\n" . '{"jsonrpc":"2.0","id":1,"method":"tools/ca',
]
--- more_headers eval
[
    ::bearer('mcp:tools'),
    ::bearer('mcp:tools'),
    ::bearer('mcp:tools'),
    ::bearer('mcp:tools'),
]
--- error_code eval
[400, 400, 400, 400]
--- response_headers eval
[$::RpcHeaders, $::RpcHeaders, $::RpcHeaders, $::RpcHeaders]
--- response_body eval
[
    ::rpc_error('null', -32700, 'Parse error'),
    ::rpc_error('null', -32700, 'Parse error'),
    ::rpc_error('null', -32700, 'Parse error'),
    ::rpc_error('null', -32700, 'Parse error'),
]
--- grep_error_log eval: $::Lines
--- grep_error_log_out
mcp_oauth: JSON-RPC Parse error
mcp_oauth: JSON-RPC Parse error
mcp_oauth: JSON-RPC Parse error
mcp_oauth: JSON-RPC Parse error
--- no_error_log
[error]
[warn]



=== TEST 11: -32700 Parse error: a POST with an empty body (Content-Length: 0)
--- config eval: $::Std
--- request
POST /mcp
--- more_headers eval
::bearer('mcp:tools') . "\nContent-Length: 0"
--- error_code: 400
--- response_headers eval
$::RpcHeaders
--- response_body eval
::rpc_error('null', -32700, 'Parse error')
--- error_log
mcp_oauth: JSON-RPC Parse error
--- no_error_log
[error]
[warn]



=== TEST 12: -32600 Invalid Request: empty batch, not an object, jsonrpc not "2.0", no method
--- config eval: $::Std
--- pipelined_requests eval
[
    "POST /mcp\n[]",
    "POST /mcp\n" . '{"jsonrpc":"1.0","id":3,"method":"tools/list"}',
    "POST /mcp\n" . '{"id":"no-version","method":"tools/list"}',
    "POST /mcp\n" . '{"jsonrpc":"2.0","id":4}',
    "POST /mcp\n" . '{"jsonrpc":"2.0","result":{}}',
    "POST /mcp\n" . '{"jsonrpc":"2.0","id":6,"method":7}',
    "POST /mcp\n" . '[' . ::rpc(7, 'tools/list') . ',42]',
    "POST /mcp\n" . '[' . ::rpc(8, 'tools/list') . ',{"jsonrpc":"2.0","id":"x9"}]',
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
]
--- error_code eval
[400, 400, 400, 400, 400, 400, 400, 400]
--- response_headers eval
[$::RpcHeaders, $::RpcHeaders, $::RpcHeaders, $::RpcHeaders,
 $::RpcHeaders, $::RpcHeaders, $::RpcHeaders, $::RpcHeaders]
--- response_body eval
[
    ::rpc_error('null', -32600, 'Invalid Request'),
    ::rpc_error(3, -32600, 'Invalid Request'),
    ::rpc_error('"no-version"', -32600, 'Invalid Request'),
    ::rpc_error(4, -32600, 'Invalid Request'),
    ::rpc_error('null', -32600, 'Invalid Request'),
    ::rpc_error(6, -32600, 'Invalid Request'),
    ::rpc_error('null', -32600, 'Invalid Request'),
    ::rpc_error('"x9"', -32600, 'Invalid Request'),
]
--- grep_error_log eval: $::Lines
--- grep_error_log_out
mcp_oauth: JSON-RPC Invalid Request
mcp_oauth: JSON-RPC Invalid Request
mcp_oauth: JSON-RPC Invalid Request
mcp_oauth: JSON-RPC Invalid Request
mcp_oauth: JSON-RPC Invalid Request
mcp_oauth: JSON-RPC Invalid Request
mcp_oauth: JSON-RPC Invalid Request
mcp_oauth: JSON-RPC Invalid Request
--- no_error_log
[error]
[warn]



=== TEST 13: -32600 Invalid Request: a JSON string or number is valid JSON but no request
--- config eval: $::Std
--- pipelined_requests eval
[
    "POST /mcp\n" . '"x"',
    "POST /mcp\n" . '42',
]
--- more_headers eval
[::bearer('mcp:tools'), ::bearer('mcp:tools')]
--- error_code eval
[400, 400]
--- response_headers eval
[$::RpcHeaders, $::RpcHeaders]
--- response_body eval
[
    ::rpc_error('null', -32600, 'Invalid Request'),
    ::rpc_error('null', -32600, 'Invalid Request'),
]
--- grep_error_log eval: $::Lines
--- grep_error_log_out
mcp_oauth: JSON-RPC Invalid Request
mcp_oauth: JSON-RPC Invalid Request
--- no_error_log
[error]
[warn]



=== TEST 14: -32602 Invalid params: tools/call, prompts/get without a string name, resources/read without uri
--- config eval: $::Std
--- pipelined_requests eval
[
    "POST /mcp\n" . ::rpc('"p1"', 'tools/call', '{"arguments":{}}'),
    "POST /mcp\n" . ::rpc(2, 'tools/call', '{"name":7}'),
    "POST /mcp\n" . ::rpc(3, 'tools/call', '{"name":""}'),
    "POST /mcp\n" . ::rpc(4, 'tools/call'),
    "POST /mcp\n" . ::rpc(5, 'resources/read', '{"name":"file:///etc/passwd"}'),
    "POST /mcp\n" . ::rpc(6, 'prompts/get', '["code_review"]'),
    "POST /mcp\n" . '[' . ::call(7, 'ping') . ',' . ::rpc(8, 'tools/call', '{"name":null}') . ']',
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
]
--- error_code eval
[400, 400, 400, 400, 400, 400, 400]
--- response_headers eval
[$::RpcHeaders, $::RpcHeaders, $::RpcHeaders, $::RpcHeaders,
 $::RpcHeaders, $::RpcHeaders, $::RpcHeaders]
--- response_body eval
[
    ::rpc_error('"p1"', -32602, 'Invalid params'),
    ::rpc_error(2, -32602, 'Invalid params'),
    ::rpc_error(3, -32602, 'Invalid params'),
    ::rpc_error(4, -32602, 'Invalid params'),
    ::rpc_error(5, -32602, 'Invalid params'),
    ::rpc_error(6, -32602, 'Invalid params'),
    ::rpc_error(8, -32602, 'Invalid params'),
]
--- grep_error_log eval: $::Lines
--- grep_error_log_out
mcp_oauth: JSON-RPC Invalid params
mcp_oauth: JSON-RPC Invalid params
mcp_oauth: JSON-RPC Invalid params
mcp_oauth: JSON-RPC Invalid params
mcp_oauth: JSON-RPC Invalid params
mcp_oauth: JSON-RPC Invalid params
mcp_oauth: JSON-RPC Invalid params
--- no_error_log
[error]
[warn]



=== TEST 15: Mcp-Method / Mcp-Name headers must say what the body says (-32020)
--- config eval: $::Std
--- pipelined_requests eval
[
    "POST /mcp\n" . ::call(1, 'get_weather'),     # both match
    "POST /mcp\n" . ::call(2, 'get_weather'),     # Mcp-Method differs
    "POST /mcp\n" . ::call(3, 'get_weather'),     # Mcp-Name differs
    "POST /mcp\n" . ::res(4, 'file:///public/a'), # Mcp-Name is the uri
    "POST /mcp\n" . ::rpc(5, 'tools/list'),       # Mcp-Name on a call without one
    "POST /mcp\n" . '{"jsonrpc":"2.0","id":6,"result":{}}',   # Mcp-Method on a response
    "POST /mcp\n[" . ::call(7, 'get_weather') . ',' . ::call(8, 'ping') . ']',
    "POST /mcp\n[" . ::call(9, 'ping') . ',' . ::call(10, 'ping') . ']',
]
--- more_headers eval
[
    ::bearer('mcp:tools weather:read') . "\nMcp-Method: tools/call\nMcp-Name: get_weather",
    ::bearer('mcp:tools weather:read') . "\nMcp-Method: tools/list\nMcp-Name: get_weather",
    ::bearer('mcp:tools weather:read') . "\nMcp-Method: tools/call\nMcp-Name: ping",
    ::bearer('mcp:tools res:read res:public') . "\nMcp-Method: resources/read\nMcp-Name: file:///public/a",
    ::bearer('mcp:tools') . "\nMcp-Name: tools/list",
    ::bearer('mcp:tools') . "\nMcp-Method: tools/call",
    ::bearer('mcp:tools weather:read') . "\nMcp-Method: tools/call\nMcp-Name: get_weather",
    ::bearer('mcp:tools') . "\nMcp-Method: tools/call\nMcp-Name: ping",
]
--- error_code eval
[200, 400, 400, 200, 400, 400, 400, 200]
--- response_headers eval
["!WWW-Authenticate", $::RpcHeaders, $::RpcHeaders, "", $::RpcHeaders,
 $::RpcHeaders, $::RpcHeaders, ""]
--- response_body eval
[
    ::up(::call(1, 'get_weather')),
    ::rpc_error(2, -32020, 'Header mismatch'),
    ::rpc_error(3, -32020, 'Header mismatch'),
    ::up(::res(4, 'file:///public/a')),
    ::rpc_error(5, -32020, 'Header mismatch'),
    ::rpc_error(6, -32020, 'Header mismatch'),
    ::rpc_error(8, -32020, 'Header mismatch'),     # the element that differs
    ::up('[' . ::call(9, 'ping') . ',' . ::call(10, 'ping') . ']'),
]
--- grep_error_log eval: $::Lines
--- grep_error_log_out
mcp_oauth: JSON-RPC Header mismatch
mcp_oauth: JSON-RPC Header mismatch
mcp_oauth: JSON-RPC Header mismatch
mcp_oauth: JSON-RPC Header mismatch
mcp_oauth: JSON-RPC Header mismatch
--- no_error_log
[error]
[warn]



=== TEST 16: Mcp-Name "=?base64?...?=": decoded and compared, undecodable is -32020
--- config eval: $::Std
--- pipelined_requests eval
[
    # "météo" written with \u escapes in the body, UTF-8 base64 in the header
    "POST /mcp\n" . ::call(1, 'm\u00e9t\u00e9o'),
    "POST /mcp\n" . ::call(2, 'm\u00e9t\u00e9o'),
    "POST /mcp\n" . ::call(3, 'get_weather'),
    "POST /mcp\n" . ::call(4, 'get_weather'),
]
--- more_headers eval
[
    ::bearer('mcp:tools tools:other') . "\nMcp-Name: =?base64?bcOpdMOpbw==?=",     # météo
    ::bearer('mcp:tools tools:other') . "\nMcp-Name: =?base64?bWV0ZW8=?=",         # meteo
    ::bearer('mcp:tools weather:read') . "\nMcp-Name: =?base64?Z2V0X3dlYXRoZXI=?=", # get_weather
    ::bearer('mcp:tools weather:read') . "\nMcp-Name: =?base64?*not-base64*?=",
]
--- error_code eval
[200, 400, 200, 400]
--- response_headers eval
["", $::RpcHeaders, "", $::RpcHeaders]
--- response_body eval
[
    ::up(::call(1, 'm\u00e9t\u00e9o')),
    ::rpc_error(2, -32020, 'Header mismatch'),
    ::up(::call(3, 'get_weather')),
    ::rpc_error('null', -32020, 'Mcp-Method or Mcp-Name header is repeated or not decodable'),
]
--- grep_error_log eval: $::Lines
--- grep_error_log_out
mcp_oauth: JSON-RPC Header mismatch
mcp_oauth: JSON-RPC Mcp-Method or Mcp-Name header is repeated or not decodable
--- no_error_log
[error]
[warn]



=== TEST 17: order of checks: the token first (401), then the JSON-RPC body (400), then scopes (403)
--- config eval: $::Std
--- pipelined_requests eval
[
    "POST /mcp\nnot json",                       # no token
    "POST /mcp\nnot json",                       # expired token
    "POST /mcp\nnot json",                       # valid token without the baseline
    "POST /mcp\n" . ::rpc(4, 'tools/call', '{}'),   # ditto, invalid params
    "POST /mcp\n" . ::call(5, 'get_weather'),    # ditto, valid request
]
--- more_headers eval
[
    "",
    "Authorization: Bearer " . McpOAuth::token('expired'),
    ::bearer('other'),
    ::bearer('other'),
    ::bearer('other'),
]
--- error_code eval
[401, 401, 400, 400, 403]
--- response_headers eval
[
    "WWW-Authenticate: Bearer resource_metadata=\"$::Meta\", scope=\"mcp:tools\"",
    "WWW-Authenticate: Bearer error=\"invalid_token\", error_description=\"token expired\", resource_metadata=\"$::Meta\"",
    $::RpcHeaders,
    $::RpcHeaders,
    ::step_up('mcp:tools weather:read'),
]
--- response_body eval
[
    '{"error":"unauthorized","error_description":"no bearer token"}',
    '{"error":"invalid_token","error_description":"token expired"}',
    ::rpc_error('null', -32700, 'Parse error'),
    ::rpc_error(4, -32602, 'Invalid params'),
    ::denied(5, 'mcp:tools weather:read'),
]
--- grep_error_log eval: $::Lines
--- grep_error_log_out
mcp_oauth: no bearer token
mcp_oauth: token expired
mcp_oauth: JSON-RPC Parse error
mcp_oauth: JSON-RPC Invalid params
mcp_oauth: insufficient scope
--- no_error_log
[error]
[warn]



=== TEST 18: mcp_oauth_max_body_size: Content-Length at the limit passes, over it is 413 before reading
--- config eval
$::Std =~ s/mcp_oauth on;/mcp_oauth on;\n        mcp_oauth_max_body_size 1k;/r
--- pipelined_requests eval
[
    "POST /mcp\n" . ::padded(1, 1024),
    "POST /mcp\n" . ::padded(2, 1025),
]
--- more_headers eval
[::bearer('mcp:tools'), ::bearer('mcp:tools')]
--- error_code eval
[200, 413]
--- response_body_like eval
[
    qr/\APOST \/mcp\ncontent-length: 1024\n\n\{"jsonrpc"/,
    qr/413 Request Entity Too Large/,
]
--- grep_error_log eval: $::Lines
--- grep_error_log_out
mcp_oauth: request body larger than mcp_oauth_max_body_size
--- no_error_log
[error]
[warn]



=== TEST 19: mcp_oauth_max_body_size: the 413 comes before the client sends the body
--- config eval
$::Std =~ s/mcp_oauth on;/mcp_oauth on;\n        mcp_oauth_max_body_size 1k;/r
--- raw_request eval
"POST /mcp HTTP/1.1\r\n"
. "Host: localhost\r\n"
. ::bearer('mcp:tools') . "\r\n"
. "Content-Type: application/json\r\n"
. "Content-Length: 5000\r\n"
. "Connection: close\r\n"
. "\r\n"
--- shutdown: 1
--- error_code: 413
--- response_body_like: 413 Request Entity Too Large
--- error_log
mcp_oauth: request body larger than mcp_oauth_max_body_size
--- no_error_log
[error]
[warn]



=== TEST 20: mcp_oauth_max_body_size: a chunked body over the limit is 413 after reading
--- config eval
$::Std =~ s/mcp_oauth on;/mcp_oauth on;\n        mcp_oauth_max_body_size 1k;/r
--- raw_request eval
my $body = ::rpc(1, 'tools/call', '{"name":"ping","arguments":{"pad":"' . ('a' x 1100) . '"}}');
"POST /mcp HTTP/1.1\r\n"
. "Host: localhost\r\n"
. ::bearer('mcp:tools') . "\r\n"
. "Content-Type: application/json\r\n"
. "Transfer-Encoding: chunked\r\n"
. "Connection: close\r\n"
. "\r\n"
. sprintf("%x\r\n", 600) . substr($body, 0, 600) . "\r\n"
. sprintf("%x\r\n", length($body) - 600) . substr($body, 600) . "\r\n"
. "0\r\n\r\n"
--- error_code: 413
--- response_body_like: 413 Request Entity Too Large
--- error_log
mcp_oauth: request body larger than mcp_oauth_max_body_size
--- no_error_log
[error]
[warn]



=== TEST 21: a chunked body under the limit reaches the upstream byte for byte
--- config eval
$::Std =~ s/mcp_oauth on;/mcp_oauth on;\n        mcp_oauth_max_body_size 1k;/r
--- raw_request eval
my $body = ::call(1, 'get_weather');
"POST /mcp HTTP/1.1\r\n"
. "Host: localhost\r\n"
. ::bearer('mcp:tools weather:read') . "\r\n"
. "Content-Type: application/json\r\n"
. "Transfer-Encoding: chunked\r\n"
. "Connection: close\r\n"
. "\r\n"
. sprintf("%x\r\n", 10) . substr($body, 0, 10) . "\r\n"
. sprintf("%x\r\n", 1) . substr($body, 10, 1) . "\r\n"
. sprintf("%x\r\n", length($body) - 11) . substr($body, 11) . "\r\n"
. "0\r\n\r\n"
--- response_body eval
::up(::call(1, 'get_weather'))
--- no_error_log
[error]
[warn]
mcp_oauth:



=== TEST 22: the body reaches the upstream byte for byte: escapes, raw UTF-8, odd whitespace
--- config eval: $::Std
--- raw_request eval
# get_\u0077eather is get_weather: the escape does not avoid its rule
my $body = " \r\n{ \"jsonrpc\" :\t\"2.0\" ,\n  \"id\": \"\\u00e9-\xc3\xa9\",\r\n"
         . "\"method\":\"tools\\/call\", \"params\" : {\"name\":\"get_\\u0077eather\","
         . "\"arguments\":{\"city\":\"Z\\u00fcrich \\ud83c\\udf0d\",\"note\":\"caf\xc3\xa9 \\\"q\\\" \\\\\"}}\t}\r\n";
"POST /mcp HTTP/1.1\r\n"
. "Host: localhost\r\n"
. ::bearer('mcp:tools weather:read') . "\r\n"
. "Content-Type: application/json\r\n"
. "Content-Length: " . length($body) . "\r\n"
. "Connection: close\r\n"
. "\r\n"
. $body
--- response_body eval
::up(" \r\n{ \"jsonrpc\" :\t\"2.0\" ,\n  \"id\": \"\\u00e9-\xc3\xa9\",\r\n"
     . "\"method\":\"tools\\/call\", \"params\" : {\"name\":\"get_\\u0077eather\","
     . "\"arguments\":{\"city\":\"Z\\u00fcrich \\ud83c\\udf0d\",\"note\":\"caf\xc3\xa9 \\\"q\\\" \\\\\"}}\t}\r\n")
--- no_error_log
[error]
[warn]
mcp_oauth:



=== TEST 23: an escaped tool name is the tool it spells (get_\u0077eather needs weather:read)
--- config eval: $::Std
--- request eval
"POST /mcp\n" . '{"jsonrpc":"2.0","id":"\u00e9","method":"tools\/call","params":{"name":"get_\u0077eather"}}'
--- more_headers eval
::bearer('mcp:tools tools:other')
--- error_code: 403
--- response_headers eval
::step_up('mcp:tools weather:read')
--- response_body eval
# the id is echoed exactly as the request wrote it
::denied('"\u00e9"', 'mcp:tools weather:read')
--- error_log
mcp_oauth: insufficient scope
--- no_error_log
[error]



=== TEST 24: a body spilled to a temporary file is inspected and reaches the upstream whole
--- config eval
$::Std =~ s/mcp_oauth on;/mcp_oauth on;\n        client_body_buffer_size 1k;/r
--- pipelined_requests eval
[
    "POST /mcp\n" . ::rpc(1, 'tools/call', '{"name":"get_weather","arguments":{"pad":"' . ('x' x 20000) . '"}}'),
    "POST /mcp\n" . ::rpc(2, 'tools/call', '{"name":"admin_db_drop","arguments":{"pad":"' . ('y' x 20000) . '"}}'),
]
--- more_headers eval
[::bearer('mcp:tools weather:read'), ::bearer('mcp:tools weather:read admin')]
--- error_code eval
[200, 403]
--- response_headers eval
["", ::step_up('mcp:tools dba')]
--- response_body eval
[
    ::up(::rpc(1, 'tools/call', '{"name":"get_weather","arguments":{"pad":"' . ('x' x 20000) . '"}}')),
    ::denied(2, 'mcp:tools dba'),
]
--- grep_error_log eval: $::Lines
--- grep_error_log_out
mcp_oauth: insufficient scope
--- error_log
a client request body is buffered to a temporary file
--- no_error_log
[error]



=== TEST 25: a body that came partly with the headers is read into one buffer after that part: inspected, pipelined requests after it, the upstream gets it whole
--- config eval
$::Std =~ s/mcp_oauth on;/mcp_oauth on;\n        client_body_buffer_size 64k;/r
--- pipelined_requests eval
[
    "POST /mcp\n" . ::rpc(1, 'tools/call', '{"name":"get_weather","arguments":{"pad":"' . ('x' x 20000) . '"}}'),
    "POST /mcp\n" . ::rpc(2, 'tools/call', '{"name":"admin_db_drop","arguments":{"pad":"' . ('y' x 30000) . '"}}'),
    "POST /mcp\n" . ::rpc(3, 'tools/call', '{"name":"get_weather","arguments":{"pad":"' . ('z' x 1500) . '\u00e9"}}'),
]
--- more_headers eval
[::bearer('mcp:tools weather:read'), ::bearer('mcp:tools weather:read admin'), ::bearer('mcp:tools weather:read')]
--- error_code eval
[200, 403, 200]
--- response_headers eval
["", ::step_up('mcp:tools dba'), ""]
--- response_body eval
[
    ::up(::rpc(1, 'tools/call', '{"name":"get_weather","arguments":{"pad":"' . ('x' x 20000) . '"}}')),
    ::denied(2, 'mcp:tools dba'),
    ::up(::rpc(3, 'tools/call', '{"name":"get_weather","arguments":{"pad":"' . ('z' x 1500) . '\u00e9"}}')),
]
--- grep_error_log eval: $::Lines
--- grep_error_log_out
mcp_oauth: insufficient scope
--- no_error_log
[error]
a client request body is buffered to a temporary file



=== TEST 26: mcp_oauth_jsonrpc off: POST bodies are not inspected, the baseline still applies
--- config eval
$::Std =~ s/mcp_oauth on;/mcp_oauth on;\n        mcp_oauth_jsonrpc off;/r
--- pipelined_requests eval
[
    "POST /mcp\nhello, not JSON-RPC",
    "POST /mcp\n" . ::call(2, 'admin_db_drop'),
    "POST /mcp\nhello, not JSON-RPC",
]
--- more_headers eval
[::bearer('mcp:tools'), ::bearer('mcp:tools'), ::bearer('weather:read')]
--- error_code eval
[200, 200, 403]
--- response_headers eval
["", "", "WWW-Authenticate: Bearer error=\"insufficient_scope\", scope=\"mcp:tools\", resource_metadata=\"$::Meta\""]
--- response_body eval
[
    ::up("hello, not JSON-RPC"),
    ::up(::call(2, 'admin_db_drop')),
    $::Plain403,
]
--- grep_error_log eval: $::Lines
--- grep_error_log_out
mcp_oauth: insufficient scope
--- no_error_log
[error]
[warn]



=== TEST 27: $mcp_oauth_method and $mcp_oauth_tool; a name with control characters is refused before it reaches a header (-32602)
--- config eval
$::Std =~ s/mcp_oauth on;/mcp_oauth on;\n        proxy_set_header X-Method \$mcp_oauth_method;\n        proxy_set_header X-Tool \$mcp_oauth_tool;/r
--- pipelined_requests eval
[
    "POST /mcp\n" . ::call(1, 'get_weather'),
    "POST /mcp\n" . ::res(2, 'file:///public/a b'),
    "POST /mcp\n" . ::prompt(3, 'code_review'),
    "POST /mcp\n" . ::rpc(4, 'tools/list'),
    "POST /mcp\n[" . ::call(5, 'ping') . ',' . ::call(6, 'get_weather') . ']',
    "POST /mcp\n" . ::call(7, 'bad\nname\r\nX-Injected: 1'),
    "GET /mcp",
]
--- more_headers eval
[
    ::bearer('mcp:tools weather:read'),
    ::bearer('mcp:tools res:read res:public'),
    ::bearer('mcp:tools prompts review'),
    ::bearer('mcp:tools'),
    ::bearer('mcp:tools weather:read'),
    ::bearer('mcp:tools tools:other'),
    ::bearer('mcp:tools'),
]
--- response_body eval
[
    ::up(::call(1, 'get_weather'), 'x-method' => 'tools/call', 'x-tool' => 'get_weather'),
    ::up(::res(2, 'file:///public/a b'), 'x-method' => 'resources/read', 'x-tool' => 'file:///public/a b'),
    ::up(::prompt(3, 'code_review'), 'x-method' => 'prompts/get', 'x-tool' => 'code_review'),
    ::up(::rpc(4, 'tools/list'), 'x-method' => 'tools/list'),
    ::up('[' . ::call(5, 'ping') . ',' . ::call(6, 'get_weather') . ']', 'x-method' => 'tools/call', 'x-tool' => 'ping'),
    ::rpc_error(7, -32602, 'Invalid params (control character in name or uri)'),
    ::up('', method => 'GET'),
]
--- error_code eval
[200, 200, 200, 200, 200, 400, 200]
--- grep_error_log eval: $::Lines
--- grep_error_log_out
mcp_oauth: JSON-RPC Invalid params (control character in name or uri)
--- no_error_log
[error]
[warn]



=== TEST 28: limit_req keyed by $mcp_oauth_tool: per tool, before the upstream
--- http_config
    limit_req_zone $mcp_oauth_tool zone=per_tool:1m rate=1r/m;
--- config eval
$::Std =~ s/mcp_oauth on;/mcp_oauth on;\n        limit_req zone=per_tool;\n        limit_req_log_level info;/r
--- pipelined_requests eval
[
    "POST /mcp\n" . ::call(1, 'get_weather'),
    "POST /mcp\n" . ::call(2, 'get_weather'),     # same tool within the minute
    "POST /mcp\n" . ::call(3, 'ping'),            # another tool
    "POST /mcp\n" . ::rpc(4, 'tools/list'),       # no tool: empty key, not limited
    "POST /mcp\n" . ::rpc(5, 'tools/list'),
]
--- more_headers eval
[
    ::bearer('mcp:tools weather:read'),
    ::bearer('mcp:tools weather:read'),
    ::bearer('mcp:tools'),
    ::bearer('mcp:tools'),
    ::bearer('mcp:tools'),
]
--- error_code eval
[200, 503, 200, 200, 200]
--- response_body_like eval
[
    qr/\APOST \/mcp\n/,
    qr/503 Service Temporarily Unavailable/,
    qr/\APOST \/mcp\n/,
    qr/\APOST \/mcp\n/,
    qr/\APOST \/mcp\n/,
]
--- grep_error_log eval: $::Lines
--- grep_error_log_out eval
qr/\Alimiting requests\n\z/
--- no_error_log
[error]
[warn]



=== TEST 29: a chunked POST without a token, limit_req keyed by $mcp_oauth_tool: 401
--- http_config
    limit_req_zone $mcp_oauth_tool zone=per_tool:1m rate=1r/m;
--- config eval
$::Std =~ s/mcp_oauth on;/mcp_oauth on;\n        limit_req zone=per_tool;/r
--- raw_request eval
my $body = ::call(1, 'get_weather');
"POST /mcp HTTP/1.1\r\n"
. "Host: localhost\r\n"
. "Content-Type: application/json\r\n"
. "Transfer-Encoding: chunked\r\n"
. "Connection: close\r\n"
. "\r\n"
. sprintf("%x\r\n", length $body) . $body . "\r\n"
. "0\r\n\r\n"
--- error_code: 401
--- response_headers eval
"WWW-Authenticate: Bearer resource_metadata=\"$::Meta\", scope=\"mcp:tools\""
--- response_body chomp
{"error":"unauthorized","error_description":"no bearer token"}
--- error_log
mcp_oauth: no bearer token
--- no_error_log
[error]
[warn]



=== TEST 30: rules defined in a location replace the inherited rules of that kind only
--- config
    mcp_oauth_required_scope mcp:tools;
    mcp_oauth_scope get_weather weather:read;
    mcp_oauth_scope default tools:other;
    mcp_oauth_method_scope prompts/get prompts;

    location /inherits {
        mcp_oauth on;
        proxy_pass http://127.0.0.1:$TEST_NGINX_ECHO_PORT;
    }

    location /own {
        mcp_oauth on;
        mcp_oauth_scope admin_* admin;
        mcp_oauth_scope get_weather weather:write;   # not a duplicate
        proxy_pass http://127.0.0.1:$TEST_NGINX_ECHO_PORT;
    }
--- pipelined_requests eval
[
    "POST /inherits\n" . ::call(1, 'get_weather'),
    "POST /inherits\n" . ::call(2, 'search'),
    "POST /inherits\n" . ::call(3, 'admin_users'),
    "POST /own\n" . ::call(4, 'get_weather'),
    "POST /own\n" . ::call(5, 'get_weather'),
    "POST /own\n" . ::call(6, 'search'),
    "POST /own\n" . ::call(7, 'admin_users'),
    "POST /own\n" . ::prompt(8, 'any'),
]
--- more_headers eval
[
    ::bearer('mcp:tools'),
    ::bearer('mcp:tools'),
    ::bearer('mcp:tools admin'),
    ::bearer('mcp:tools weather:read'),
    ::bearer('mcp:tools weather:write'),
    ::bearer('mcp:tools'),
    ::bearer('mcp:tools'),
    ::bearer('mcp:tools'),
]
--- error_code eval
[403, 403, 403, 403, 200, 200, 403, 403]
--- response_headers eval
[
    ::step_up('mcp:tools weather:read'),
    ::step_up('mcp:tools tools:other'),
    ::step_up('mcp:tools tools:other'),
    ::step_up('mcp:tools weather:write'),
    "",
    "",
    ::step_up('mcp:tools admin'),
    ::step_up('mcp:tools prompts'),
]
--- response_body eval
[
    ::denied(1, 'mcp:tools weather:read'),
    ::denied(2, 'mcp:tools tools:other'),
    ::denied(3, 'mcp:tools tools:other'),
    ::denied(4, 'mcp:tools weather:write'),
    ::up(::call(5, 'get_weather'), path => '/own'),
    ::up(::call(6, 'search'), path => '/own'),
    ::denied(7, 'mcp:tools admin'),
    ::denied(8, 'mcp:tools prompts'),
]
--- grep_error_log eval: $::Lines
--- grep_error_log_out
mcp_oauth: insufficient scope
mcp_oauth: insufficient scope
mcp_oauth: insufficient scope
mcp_oauth: insufficient scope
mcp_oauth: insufficient scope
mcp_oauth: insufficient scope
--- no_error_log
[error]
[warn]



=== TEST 31: rules at http level apply to the locations that inherit them
--- http_config
    mcp_oauth_scope get_weather weather:read;
    mcp_oauth_method_scope tools/list listing;
--- config
    location /mcp {
        mcp_oauth on;
        mcp_oauth_required_scope mcp:tools;
        proxy_pass http://127.0.0.1:$TEST_NGINX_ECHO_PORT;
    }
--- pipelined_requests eval
[
    "POST /mcp\n" . ::call(1, 'get_weather'),
    "POST /mcp\n" . ::rpc(2, 'tools/list'),
    "POST /mcp\n" . ::call(3, 'get_weather'),
]
--- more_headers eval
[::bearer('mcp:tools'), ::bearer('mcp:tools'), ::bearer('mcp:tools weather:read')]
--- error_code eval
[403, 403, 200]
--- response_headers eval
[::step_up('mcp:tools weather:read'), ::step_up('mcp:tools listing'), ""]
--- response_body eval
[
    ::denied(1, 'mcp:tools weather:read'),
    ::denied(2, 'mcp:tools listing'),
    ::up(::call(3, 'get_weather')),
]
--- no_error_log
[error]
[warn]



=== TEST 32: config error: a duplicate exact rule
--- config
    location /mcp {
        mcp_oauth on;
        mcp_oauth_scope get_weather weather:read;
        mcp_oauth_scope get_weather other;
        proxy_pass http://127.0.0.1:$TEST_NGINX_ECHO_PORT;
    }
--- must_die
--- error_log eval
qr/\[emerg\] .*duplicate "mcp_oauth_scope" rule for "get_weather"/



=== TEST 33: config error: two "default" rules
--- config
    location /mcp {
        mcp_oauth on;
        mcp_oauth_scope default a;
        mcp_oauth_scope default b;
        proxy_pass http://127.0.0.1:$TEST_NGINX_ECHO_PORT;
    }
--- must_die
--- error_log eval
qr/\[emerg\] .*duplicate "mcp_oauth_scope" rule for "default"/



=== TEST 34: config error: a duplicate prefix rule (server level)
--- config
    mcp_oauth_scope admin_* admin;
    mcp_oauth_scope admin_db_* dba;
    mcp_oauth_scope admin_* root;
    location /mcp {
        mcp_oauth on;
        proxy_pass http://127.0.0.1:$TEST_NGINX_ECHO_PORT;
    }
--- must_die
--- error_log eval
qr/\[emerg\] .*duplicate "mcp_oauth_scope" rule for "admin_\*"/



=== TEST 35: config error: a duplicate method rule (prefix)
--- config
    location /mcp {
        mcp_oauth on;
        mcp_oauth_method_scope notifications/* notify;
        mcp_oauth_method_scope notifications/* other;
        proxy_pass http://127.0.0.1:$TEST_NGINX_ECHO_PORT;
    }
--- must_die
--- error_log eval
qr/\[emerg\] .*duplicate "mcp_oauth_method_scope" rule for "notifications\/\*"/



=== TEST 36: config error: a duplicate resource rule
--- config
    location /mcp {
        mcp_oauth on;
        mcp_oauth_resource_scope file:///etc/passwd root;
        mcp_oauth_resource_scope file:///etc/passwd admin;
        proxy_pass http://127.0.0.1:$TEST_NGINX_ECHO_PORT;
    }
--- must_die
--- error_log eval
qr/\[emerg\] .*duplicate "mcp_oauth_resource_scope" rule for "file:\/\/\/etc\/passwd"/



=== TEST 37: config error: a duplicate prompt rule
--- config
    location /mcp {
        mcp_oauth on;
        mcp_oauth_prompt_scope default a;
        mcp_oauth_prompt_scope default a;
        proxy_pass http://127.0.0.1:$TEST_NGINX_ECHO_PORT;
    }
--- must_die
--- error_log eval
qr/\[emerg\] .*duplicate "mcp_oauth_prompt_scope" rule for "default"/



=== TEST 38: config error: "*" inside a name ("a*b")
--- config
    location /mcp {
        mcp_oauth on;
        mcp_oauth_scope a*b x;
        proxy_pass http://127.0.0.1:$TEST_NGINX_ECHO_PORT;
    }
--- must_die
--- error_log eval
qr/\[emerg\] .*"mcp_oauth_scope": only a trailing "\*" is supported in "a\*b"/



=== TEST 39: config error: "*" inside a prefix ("a*b*")
--- config
    location /mcp {
        mcp_oauth on;
        mcp_oauth_scope a*b* x;
        proxy_pass http://127.0.0.1:$TEST_NGINX_ECHO_PORT;
    }
--- must_die
--- error_log eval
qr/\[emerg\] .*"mcp_oauth_scope": only a trailing "\*" is supported in "a\*b\*"/



=== TEST 40: config error: a scope that is not an RFC 6749 scope token
--- config
    location /mcp {
        mcp_oauth on;
        mcp_oauth_scope get_weather "weather read";
        proxy_pass http://127.0.0.1:$TEST_NGINX_ECHO_PORT;
    }
--- must_die
--- error_log eval
qr/\[emerg\] .*invalid scope "weather read" in "mcp_oauth_scope"/



=== TEST 41: config error: a bad scope in mcp_oauth_method_scope
--- config
    location /mcp {
        mcp_oauth on;
        mcp_oauth_method_scope tools/call "a\"b";
        proxy_pass http://127.0.0.1:$TEST_NGINX_ECHO_PORT;
    }
--- must_die
--- error_log eval
qr/\[emerg\] .*invalid scope "a"b" in "mcp_oauth_method_scope"/



=== TEST 42: batches are refused (-32600) when MCP-Protocol-Version is 2025-06-18 or later, repeated or malformed; allowed without the header and for 2025-03-26 or 2024-11-05 (issue 18 item 12)
--- config eval
$::Std =~ s/mcp_oauth on;/mcp_oauth on;\n        proxy_set_header X-Method \$mcp_oauth_method;\n        proxy_set_header X-Tool \$mcp_oauth_tool;/r
--- pipelined_requests eval
my $b = '[' . ::call(1, 'ping') . ',' . ::call(2, 'ping') . ']';
[
    ("POST /mcp\n$b") x 10,
    # a single message: no batch, any version
    "POST /mcp\n" . ::call(3, 'ping'),
]
--- more_headers eval
[
    ::bearer('mcp:tools') . "\nMCP-Protocol-Version: 2025-06-18",
    ::bearer('mcp:tools') . "\nMCP-Protocol-Version: 2025-11-25",
    ::bearer('mcp:tools') . "\nmcp-protocol-version: 2026-07-28",
    ::bearer('mcp:tools') . "\nMCP-Protocol-Version: latest",
    ::bearer('mcp:tools') . "\nMCP-Protocol-Version: 2025-3-26",
    ::bearer('mcp:tools') . "\nMCP-Protocol-Version: 2025-03-26\nMCP-Protocol-Version: 2025-06-18",
    # the batch revisions, and no header (2025-03-26 is assumed)
    ::bearer('mcp:tools') . "\nMCP-Protocol-Version: 2025-03-26",
    ::bearer('mcp:tools') . "\nMCP-Protocol-Version: 2024-11-05",
    ::bearer('mcp:tools'),
    # a denied batch of an old revision still gets its 403
    ::bearer('weather:read') . "\nMCP-Protocol-Version: 2025-03-26",
    ::bearer('mcp:tools') . "\nMCP-Protocol-Version: 2025-06-18",
]
--- error_code eval
[400, 400, 400, 400, 400, 400, 200, 200, 200, 403, 200]
--- response_body eval
my $b = '[' . ::call(1, 'ping') . ',' . ::call(2, 'ping') . ']';
my $e = ::rpc_error('null', -32600, 'Invalid Request (no batches in this MCP-Protocol-Version)');
[
    ($e) x 6,
    (::up($b, 'x-method' => 'tools/call', 'x-tool' => 'ping')) x 3,
    '[' . ::denied(1, 'mcp:tools') . ',' . ::denied(2, 'mcp:tools') . ']',
    ::up(::call(3, 'ping'), 'x-method' => 'tools/call', 'x-tool' => 'ping'),
]
--- no_error_log
[error]
[warn]



=== TEST 43: mcp_oauth_batch off refuses every batch (-32600), whatever MCP-Protocol-Version says: a limit_req keyed on $mcp_oauth_tool then counts each call (issue 18 item 12)
--- http_config
    limit_req_zone $mcp_oauth_tool zone=per_tool:1m rate=1r/m;
--- config eval
$::Std =~ s/mcp_oauth on;/mcp_oauth on;\n        mcp_oauth_batch off;\n        limit_req zone=per_tool;\n        limit_req_log_level info;/r
--- pipelined_requests eval
[
    "POST /mcp\n[" . ::call(1, 'ping') . ',' . ::call(2, 'get_weather') . ']',
    "POST /mcp\n[" . ::call(3, 'admin_x') . ',' . ::call(4, 'get_weather') . ']',
    "POST /mcp\n" . ::call(5, 'get_weather'),
    "POST /mcp\n" . ::call(6, 'get_weather'),
]
--- more_headers eval
[
    ::bearer('mcp:tools weather:read'),
    ::bearer('mcp:tools weather:read') . "\nMCP-Protocol-Version: 2025-03-26",
    ::bearer('mcp:tools weather:read'),
    ::bearer('mcp:tools weather:read'),
]
--- error_code eval
[400, 400, 200, 503]
--- response_body_like eval
[
    '\A' . quotemeta(::rpc_error('null', -32600, 'Invalid Request (batches are not accepted here)')) . '\z',
    '\A' . quotemeta(::rpc_error('null', -32600, 'Invalid Request (batches are not accepted here)')) . '\z',
    '\A' . quotemeta(::up(::call(5, 'get_weather'))) . '\z',
    qr/503 Service Temporarily Unavailable/,
]
--- grep_error_log eval: $::Lines
--- grep_error_log_out
mcp_oauth: JSON-RPC Invalid Request (batches are not accepted here)
mcp_oauth: JSON-RPC Invalid Request (batches are not accepted here)
limiting requests
--- no_error_log
[error]



=== TEST 44: long strings: an escape on either side of a 64-byte step's edge is judged as anywhere else
# The vector loops take 64 bytes a step from the string's 65th byte on
# (after four steps of 16): each escape below is put at offsets 125-130 and
# 189-194, across the second and third steps' edges.  An escaped backslash
# right before the closing quote or before another escape must not be
# taken for one that escapes the byte after it.
--- config eval: $::Std
--- pipelined_requests eval
my @r;
for my $n (125 .. 130, 189 .. 194) {
    push @r, map { "POST /mcp\n" . ::long_call($n, $n, $_) }
        '\"' . 'b' x 80, '\\\\', '\\\\\"' . 'b' x 80, '\u00e9\n' . 'b' x 80,
        '\x' . 'b' x 80;
}
\@r
--- more_headers eval
[(::bearer('mcp:tools')) x 60]
--- error_code eval
[(403, 403, 403, 403, 400) x 12]
--- response_body eval
my @r;
for my $n (125 .. 130, 189 .. 194) {
    push @r, (::denied($n, 'mcp:tools weather:read')) x 4,
        ::rpc_error('null', -32700, 'Parse error');
}
\@r
--- no_error_log
[error]
[warn]



=== TEST 45: long strings: a step taken the long way (a \u escape) whose last byte is a backslash leaves that escape to the next step, which checks it
# the \u escape 62 bytes before the edge of the second or third step, the
# backslash the edge's last byte, its letter ('x': refused; 'n') the first
# byte of the next step, plain text after it
--- config eval: $::Std
--- pipelined_requests eval
[
    map {
        my ($edge, $letter) = @$_;
        "POST /mcp\n" . ::long_call(1, $edge - 62, '\u00e9' . 'a' x 55 . "\\$letter" . 'b' x 80)
    } [128, 'x'], [128, 'n'], [192, 'x'], [192, 'n']
]
--- more_headers eval
[(::bearer('mcp:tools')) x 4]
--- error_code eval
[400, 403, 400, 403]
--- response_body eval
[
    ::rpc_error('null', -32700, 'Parse error'),
    ::denied(1, 'mcp:tools weather:read'),
    ::rpc_error('null', -32700, 'Parse error'),
    ::denied(1, 'mcp:tools weather:read'),
]
--- no_error_log
[error]
[warn]
