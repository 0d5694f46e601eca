# mcp_oauth_filter_tools: in the answer to a tools/list request, the tools
# whose tools/call the caller's token would be refused (method rule for
# tools/call + tool rule) are dropped, in application/json answers (whole,
# only the dropped tools taken out of the text, new Content-Length;
# unchanged bytes when nothing is dropped) and in text/event-stream answers (event by event; other events
# byte for byte).  Everything else passes unchanged.
#
# The upstream is the helper server of t/lib/McpOAuth/Server.pm, forked by
# this file on 127.0.0.1:$TEST_NGINX_ECHO_PORT (default 19870).  It reads
# the request and answers with the canned response named by the last segment
# of the path (/mcp/json, /stream/sse-split, ...; see %Reply), written in
# the pieces listed there with 200 ms between them, then closes.  Event
# streams have no Content-Length.
#
# Rules of most blocks ($::Std): baseline mcp:tools; get_weather ->
# weather:read; admin_* -> admin; "echo" has no rule.  The upstream's tools
# are echo, get_weather and admin_drop.
#
# Blocks with several steps send them as --- pipelined_requests (one
# connection; nginx handles them in turn), as in t/060-jwks-remote.t.

use strict;
use warnings;
use lib 't/lib';
use Test::Nginx::Socket 'no_plan';
use McpOAuth;
use McpOAuth::Server;
use IO::Compress::Gzip ();
use JSON::PP ();

McpOAuth::setup();
no_shuffle();
log_level('info');
check_accum_error_log();

# ------------------------------------------------------ canned responses

# a tools/list result as an MCP server writes it (spaces, a \u escape)
our $Tools = <<'_EOJ_';
{
  "jsonrpc": "2.0",
  "id": 1,
  "result": {
    "tools": [
      {"name": "echo", "description": "Echo the input \u00e9",
       "inputSchema": {"type": "object", "properties": {"text": {"type": "string"}}}},
      {"name": "get_weather", "description": "Weather / city",
       "inputSchema": {"type": "object"}},
      {"name": "admin_drop", "description": "Drop everything",
       "inputSchema": {"type": "object"}, "annotations": {"destructiveHint": true}}
    ],
    "nextCursor": "c2"
  }
}
_EOJ_

# the same on one line (an SSE data line)
our $ToolsLine = $Tools =~ s/\n\s*/ /gr =~ s/ \z//r;

# What the module makes of a text: the tools it keeps, joined by single
# commas, in place of each result.tools array, and "cacheScope":"private"
# in the result; every other byte as it was.
sub kept {
    my ($text, @names) = @_;
    my %keep = map { $_ => 1 } @names;
    my $out = '';
    while ($text =~ /\G(.*?"tools"\s*:\s*)\[/gcs) {
        $out .= $1;
        my @elems;
        my $pos = pos($text);
        for (;;) {
            substr($text, $pos) =~ /\A\s*/;
            $pos += $+[0];
            last if substr($text, $pos, 1) eq ']';
            my ($depth, $in, $i) = (0, 0, $pos);
            for (; ; $i++) {
                my $c = substr($text, $i, 1);
                if ($in) { $i++ if $c eq '\\'; $in = 0 if $c eq '"'; next }
                if ($c eq '"') { $in = 1; next }
                $depth++ if $c eq '{';
                if ($c eq '}') { last if --$depth == 0 }
            }
            push @elems, substr($text, $pos, $i + 1 - $pos);
            $pos = $i + 1;
            substr($text, $pos) =~ /\A\s*,?/;
            $pos += $+[0];
        }
        my @k = grep { /"name"\s*:\s*"([^"]*)"/ && $keep{$1} } @elems;
        $out .= '[' . CORE::join(',', @k) . ']';
        pos($text) = $pos + 1;
    }
    $out .= substr($text, pos($text) // 0);
    # a changed result is the caller's (MCP 2026-07-28 caching): the module
    # adds "cacheScope" after the result's last member
    return $out =~ s/("nextCursor": "c2")/$1,"cacheScope":"private"/gr;
}

# the JSON answers (as the upstream wrote $Tools, with tools dropped)
our $ToolsEcho = kept($Tools, 'echo');
our $ToolsEchoWeather = kept($Tools, 'echo', 'get_weather');
our $ToolsNone = kept($Tools);

# the same for the one-line text of SSE data lines
our $LineEcho = kept($ToolsLine, 'echo');
our $LineEchoWeather = kept($ToolsLine, 'echo', 'get_weather');
our $LineNone = kept($ToolsLine);

# event streams: an event before and after the tools/list answer, a
# comment, a retry field, and an unterminated last line
our $SseBefore = ": stream opened\n\n"
    . "event: message\nid: 1\n"
    . 'data: {"jsonrpc":"2.0","method":"notifications/progress",'
    . '"params":{"progressToken":"t","progress":1,"message":"tools"}}' . "\n\n";
our $SseTools = "event: message\nid: 2\ndata: $ToolsLine\n\n";
our $SseAfter = 'data: {"jsonrpc":"2.0","method":"notifications/message",'
    . '"params":{"level":"info","data":{"tools":["admin_drop"]}}}' . "\n\n"
    . "retry: 1000\n\n"
    . ": end";
our $Sse = $SseBefore . $SseTools . $SseAfter;

# the tools event as the module rewrites it
sub sse_tools { "event: message\nid: 2\ndata: $_[0]\n\n" }

# the same with CR LF line ends: other lines keep them
our $SseCrlf = $Sse =~ s/\n/\r\n/gr;
sub sse_crlf_tools {
    my ($json) = @_;
    return ($SseBefore =~ s/\n/\r\n/gr)
         . "event: message\r\nid: 2\r\ndata: $json\n\n"
         . ($SseAfter =~ s/\n/\r\n/gr);
}

# the tools event with its JSON on two data lines (joined with LF)
our $SseMulti = "event: message\nid: 2\ndata: "
    . ($ToolsLine =~ s/, "nextCursor"/,\ndata:  "nextCursor"/r) . "\n\n";

# a batch answer: tools/list and prompts/list
our $Batch = "[$ToolsLine,\n"
    . ' {"jsonrpc": "2.0", "id": 2, "result": {"prompts": [{"name": "admin_p"}]}}]';

# tool names written with \u escapes are the names they spell
our $ToolsEscaped = '{"jsonrpc":"2.0","id":1,"result":{"tools":['
    . '{"name":"get_\u0077eather"},{"name":"admin\u005fdrop"},{"name":"echo"}]}}';

# the same names with a description: long enough to be kept by the worker
our $ToolsEscapedLong = $ToolsEscaped
    =~ s/\{"name":"echo"\}/{"name":"echo","description":"${\ ('x' x 300)}"}/r;

# $Tools but for the last tool's name, near the end of the text
our $ToolsTail = $Tools =~ s/"admin_drop"/"echo_2"/r;

# a batch answering three tools/list requests: a list of two tools, then
# one answer twice (the second result as the first one's text)
our $BatchThree = '[{"jsonrpc":"2.0","id":1,"result":{"tools":'
    . '[{"name":"admin_drop"},{"name":"echo"}]}},'
    . ($ToolsLine =~ s/"id": 1/"id": 2/r) . ','
    . ($ToolsLine =~ s/"id": 1/"id": 3/r) . ']';

# "JSON" the module cannot parse
our $NotJson = '{"jsonrpc":"2.0","id":1,"result":{"tools":[{"name":"admin_drop"}]}';

our $Gzip;
IO::Compress::Gzip::gzip(\$Tools => \$Gzip) or die "gzip failed";

# past the filter's 16 MB limit: a JSON answer, and an SSE event before the
# tools/list answer (a progress notification with a long message)
our $Pad = 'x' x (16 * 1024 * 1024 + 10);
our $ToolsHuge = $Tools =~ s/"nextCursor": "c2"/"nextCursor": "$Pad"/r;
our $SseHuge = 'data: {"jsonrpc":"2.0","method":"notifications/progress",'
    . '"params":{"progressToken":"t","progress":1,"message":"' . $Pad . '"}}'
    . "\n\n" . $SseTools;

# an upstream that calls its list public (before and after the tools)
our $ToolsPublic = $Tools =~ s/"result": \{/"result": {"cacheScope": "public",/r;
our $ToolsPublicAfter = '{"jsonrpc":"2.0","id":1,"result":{"tools":'
    . '[{"name":"admin_drop"},{"name":"echo"}],"cacheScope" : "public" }}';

# a batch [tools/list, tools/call]: the tools/list answer, then 200 events
# of 64 KB that mention tools (and a result.tools of the call): nothing of
# them is held or changed once the tools/list answer went by
our $BigEvent = 'data: {"jsonrpc":"2.0","method":"notifications/message",'
    . '"params":{"level":"info","data":{"tools":"' . ('t' x 65536) . '"}}}' . "\n\n";
our $SseBigAfter = CORE::join('', ($BigEvent) x 200)
    . 'data: {"jsonrpc":"2.0","id":2,"result":{"tools":[{"name":"admin_drop"}]}}'
    . "\n\n";
our $SseBig = $SseTools =~ s/"id": 1/"id": 1/r . $SseBigAfter;

# two tools/list requests (ids 1 and "b"): both answers are filtered, a
# result.tools after them (id 9, no tools/list of this request) is not
our $ToolsLineB = $ToolsLine =~ s/"id": 1/"id": "b"/r;
our $SseTwo = $SseTools . "data: $ToolsLineB\n\n" . "data: "
    . ($ToolsLine =~ s/"id": 1/"id": 9/r) . "\n\n";

# what the module answers instead of what it cannot filter
our $Refusal = '{"jsonrpc":"2.0","id":1,"error":{"code":-32603,'
    . '"message":"the tools/list answer could not be filtered"}}';

# positions where a stream is cut into the pieces the upstream writes
sub cut {
    my ($s, @at) = @_;
    my @parts;
    my $from = 0;
    for my $at (@at) {
        push @parts, substr($s, $from, $at - $from);
        $from = $at;
    }
    push @parts, substr($s, $from);
    return \@parts;
}

my $CrlfEnd = index($SseCrlf, "\r\n\r\n", index($SseCrlf, 'id: 2'));

# name => [content type, [pieces], extra headers (name => value, ...)]
my %Reply = (
    json           => ['application/json', [$Tools]],
    'json-charset' => ['application/json; charset=utf-8', [$Tools]],
    'json-split'   => ['application/json',
                       cut($Tools, index($Tools, '"tools"') + 3,
                           index($Tools, 'get_weather') + 4)],
    batch          => ['application/json', [$Batch]],
    gzip           => ['application/json', [$Gzip], 'Content-Encoding' => 'gzip'],
    sse            => ['text/event-stream', [$Sse]],
    'sse-split'    => ['text/event-stream',
                       cut($Sse, index($Sse, '"result"') + 3,
                           index($Sse, 'get_weather') + 4,
                           index($Sse, 'retry'))],
    # the CR LF after the data line and the one of the blank line are cut
    # between CR and LF
    'sse-crlf'     => ['text/event-stream',
                       cut($SseCrlf, $CrlfEnd + 1, $CrlfEnd + 3)],
    'sse-multi'    => ['text/event-stream', [$SseMulti]],
    text           => ['text/plain', [$Tools]],
    # an event stream with a Content-Length (that filtering makes wrong)
    'sse-cl'       => ['text/event-stream', [$Sse], 'Content-Length' => length($Sse)],
    'json-escaped' => ['application/json', [$ToolsEscaped]],
    'json-bad'     => ['application/json', [$NotJson]],
    'json-escaped-long' => ['application/json', [$ToolsEscapedLong]],
    'json-tail'    => ['application/json', [$ToolsTail]],
    'batch-three'  => ['application/json', [$BatchThree]],
    # compressed only for a request that accepts gzip
    'gzip-if-asked' => sub {
        my ($r) = @_;
        return ($r->{header}{'accept-encoding'} // '') =~ /gzip/i
            ? ['application/json', [$Gzip], 'Content-Encoding' => 'gzip']
            : ['application/json', [$Tools]];
    },
    'json-public'  => ['application/json', [$ToolsPublic],
                       'Cache-Control' => 'public, max-age=60'],
    'json-public-after' => ['application/json', [$ToolsPublicAfter]],
    'sse-public'   => ['text/event-stream', [$Sse],
                       'Cache-Control' => 'public, max-age=60'],
    'sse-big'      => ['text/event-stream', [$SseBig]],
    'sse-two'      => ['text/event-stream', [$SseTwo]],
    'json-huge'    => ['application/json', [$ToolsHuge]],
    'sse-huge'     => ['text/event-stream', [$SseHuge]],
);

# ------------------------------------------------------------ the upstream

# the canned response named by the last segment of the path, in its pieces
sub upstream {
    my ($r) = @_;
    my ($name) = $r->{target} =~ m{/([^/?]+)(?:\?.*)?\z};
    my $reply = $Reply{ $name // '' };
    $reply = $reply->($r) if ref $reply eq 'CODE';
    return (404, [], '') unless $reply;

    my ($type, $parts, @extra) = @$reply;
    my @headers = ('Content-Type' => $type, @extra);
    push @headers, 'Content-Length' => length(CORE::join '', @$parts)
        if $type !~ /event-stream/;
    return (200, \@headers, $parts, pause => 0.2);
}

McpOAuth::Server::start(name => 'upstream', port_env => 'TEST_NGINX_ECHO_PORT',
                        default_port => 19870, handler => \&upstream);

# -------------------------------------------------------- block helpers

my %Tokens;
sub bearer {
    my ($scope) = @_;
    $Tokens{$scope} //= McpOAuth::mint(
        key => 'rsa1', claims => JSON::PP->new->encode({ scope => $scope }));
    return "Authorization: Bearer $Tokens{$scope}";
}

sub rpc {
    my ($id, $method, $params) = @_;
    return '{"jsonrpc":"2.0",'
         . (defined $id ? "\"id\":$id," : '')
         . "\"method\":\"$method\""
         . (defined $params ? ",\"params\":$params" : '') . '}';
}

our $List = rpc(1, 'tools/list');

our $Std = <<'_EOC_';
    mcp_oauth_required_scope mcp:tools;
    mcp_oauth_scope get_weather weather:read;
    mcp_oauth_scope admin_* admin;

    location /mcp/ {
        mcp_oauth on;
        mcp_oauth_filter_tools on;
        proxy_pass http://127.0.0.1:$TEST_NGINX_ECHO_PORT;
    }

    location /stream/ {
        mcp_oauth on;
        mcp_oauth_filter_tools on;
        proxy_http_version 1.1;
        proxy_buffering off;
        proxy_pass http://127.0.0.1:$TEST_NGINX_ECHO_PORT;
    }

    location /plain/ {
        mcp_oauth on;
        proxy_pass http://127.0.0.1:$TEST_NGINX_ECHO_PORT;
    }
_EOC_

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

=== TEST 1: JSON: tools the token cannot call are dropped, the length is the new body's
--- config eval: $::Std
--- pipelined_requests eval
[
    "POST /mcp/json\n$::List",
    "POST /mcp/json\n$::List",
    "POST /mcp/json-charset\n$::List",
]
--- more_headers eval
[
    ::bearer('mcp:tools'),
    ::bearer('mcp:tools weather:read'),
    ::bearer('mcp:tools weather:read'),
]
--- response_headers eval
[
    "Content-Type: application/json\nContent-Length: " . length($::ToolsEcho),
    "Content-Type: application/json\nContent-Length: " . length($::ToolsEchoWeather),
    "Content-Type: application/json; charset=utf-8\nContent-Length: " . length($::ToolsEchoWeather),
]
--- response_body eval
[$::ToolsEcho, $::ToolsEchoWeather, $::ToolsEchoWeather]
--- error_code eval
[200, 200, 200]
--- no_error_log
[error]
[warn]
mcp_oauth:



=== TEST 2: JSON: a token with every scope gets the upstream's bytes unchanged
--- config eval: $::Std
--- pipelined_requests eval
[
    "POST /mcp/json\n$::List",
    "POST /mcp/json\n$::List",
]
--- more_headers eval
[
    ::bearer('mcp:tools weather:read admin'),
    ::bearer('admin weather:read mcp:tools other'),
]
--- response_headers eval
[
    "Content-Type: application/json\nContent-Length: " . length($::Tools),
    "Content-Type: application/json\nContent-Length: " . length($::Tools),
]
--- response_body eval
[$::Tools, $::Tools]
--- error_code eval
[200, 200]
--- no_error_log
[error]
[warn]
mcp_oauth:



=== TEST 3: JSON: filtering is off unless mcp_oauth_filter_tools is on
--- config eval: $::Std
--- request eval
"POST /plain/json\n$::List"
--- more_headers eval
::bearer('mcp:tools')
--- response_headers eval
"Content-Type: application/json\nContent-Length: " . length($::Tools)
--- response_body eval
$::Tools
--- no_error_log
[error]
[warn]
mcp_oauth:



=== TEST 4: JSON: an answer the upstream writes in pieces, with proxy_buffering off
--- config eval: $::Std
--- request eval
"POST /stream/json-split\n$::List"
--- more_headers eval
::bearer('mcp:tools')
--- response_headers eval
"Content-Type: application/json\nContent-Length: " . length($::ToolsEcho)
--- response_body eval
$::ToolsEcho
--- no_error_log
[error]
[warn]
mcp_oauth:



=== TEST 5: JSON batch answer: each element is filtered, the others are kept
--- config eval: $::Std
--- request eval
"POST /mcp/batch\n[" . ::rpc(1, 'tools/list') . "," . ::rpc(2, 'prompts/list') . "]"
--- more_headers eval
::bearer('mcp:tools weather:read')
--- response_body eval
::kept($::Batch, 'echo', 'get_weather')
--- response_headers eval
"Content-Length: " . length(::kept($::Batch, 'echo', 'get_weather'))
--- no_error_log
[error]
[warn]
mcp_oauth:



=== TEST 6: the answer to a tools/call (or a GET) is not touched, even if it lists tools
--- config eval: $::Std
--- pipelined_requests eval
[
    "POST /mcp/json\n" . ::rpc(5, 'tools/call', '{"name":"echo","arguments":{}}'),
    "GET /mcp/sse",
    "POST /mcp/json\n" . ::rpc(6, 'resources/list'),
]
--- more_headers eval
[::bearer('mcp:tools'), ::bearer('mcp:tools'), ::bearer('mcp:tools')]
--- response_headers eval
[
    "Content-Length: " . length($::Tools),
    "Content-Type: text/event-stream",
    "Content-Length: " . length($::Tools),
]
--- response_body eval
[$::Tools, $::Sse, $::Tools]
--- error_code eval
[200, 200, 200]
--- no_error_log
[error]
[warn]
mcp_oauth:



=== TEST 7: a gzip-encoded answer to tools/list is refused with a 502 and a JSON-RPC error, never passed on unfiltered
--- config eval: $::Std
--- request eval
"POST /mcp/gzip\n$::List"
--- more_headers eval
::bearer('mcp:tools') . "\nAccept-Encoding: gzip"
--- error_code: 502
--- response_headers eval
"!Content-Encoding\nContent-Type: application/json\nContent-Length: " . length($::Refusal)
--- response_body eval
$::Refusal
--- error_log eval
qr/\[error\] .*mcp_oauth: the upstream's tools\/list answer is compressed, refused/



=== TEST 8: an answer that is neither JSON nor an event stream passes unchanged
--- config eval: $::Std
--- request eval
"POST /mcp/text\n$::List"
--- more_headers eval
::bearer('mcp:tools')
--- response_headers eval
"Content-Type: text/plain\nContent-Length: " . length($::Tools)
--- response_body eval
$::Tools
--- no_error_log
[error]
[warn]
mcp_oauth:



=== TEST 9: SSE: the tools/list event is rewritten, events before and after pass byte for byte
--- config eval: $::Std
--- pipelined_requests eval
[
    "POST /mcp/sse\n$::List",
    "POST /mcp/sse\n$::List",
    "POST /mcp/sse\n$::List",
]
--- more_headers eval
[
    ::bearer('mcp:tools'),
    ::bearer('mcp:tools weather:read'),
    ::bearer('mcp:tools weather:read admin'),
]
--- response_headers eval
[
    "Content-Type: text/event-stream\n!Content-Length",
    "Content-Type: text/event-stream\n!Content-Length",
    "Content-Type: text/event-stream",
]
--- response_body eval
[
    $::SseBefore . ::sse_tools($::LineEcho) . $::SseAfter,
    $::SseBefore . ::sse_tools($::LineEchoWeather) . $::SseAfter,
    $::Sse,                                 # nothing dropped: as it came
]
--- error_code eval
[200, 200, 200]
--- no_error_log
[error]
[warn]
mcp_oauth:



=== TEST 10: SSE: an event that arrives in three pieces (proxy_buffering off) is filtered whole
--- config eval: $::Std
--- pipelined_requests eval
[
    "POST /stream/sse-split\n$::List",
    "POST /stream/sse-split\n$::List",
]
--- more_headers eval
[::bearer('mcp:tools weather:read'), ::bearer('mcp:tools weather:read admin')]
--- response_headers eval
["Content-Type: text/event-stream\n!Content-Length", "Content-Type: text/event-stream"]
--- response_body eval
[
    $::SseBefore . ::sse_tools($::LineEchoWeather) . $::SseAfter,
    $::Sse,
]
--- error_code eval
[200, 200]
--- no_error_log
[error]
[warn]
mcp_oauth:



=== TEST 11: SSE with CR LF line ends, cut between CR and LF: filtered, other lines kept as they were
--- config eval: $::Std
--- pipelined_requests eval
[
    "POST /stream/sse-crlf\n$::List",
    "POST /stream/sse-crlf\n$::List",
]
--- more_headers eval
[::bearer('mcp:tools'), ::bearer('mcp:tools weather:read admin')]
--- response_body eval
[
    ::sse_crlf_tools($::LineEcho),
    $::SseCrlf,
]
--- error_code eval
[200, 200]
--- no_error_log
[error]
[warn]
mcp_oauth:



=== TEST 12: SSE: JSON spread over two data lines is joined, filtered and sent again line by line
--- config eval: $::Std
--- request eval
"POST /mcp/sse-multi\n$::List"
--- more_headers eval
::bearer('mcp:tools')
--- response_body eval
"event: message\nid: 2\n"
. CORE::join('', map { "data: $_\n" } split /\n/,
             ::kept($::ToolsLine =~ s/, "nextCursor"/,\n "nextCursor"/r, 'echo'))
. "\n"
--- no_error_log
[error]
[warn]
mcp_oauth:



=== TEST 13: a method rule on tools/call applies to every tool: without it the list is empty
--- config
    mcp_oauth_required_scope mcp:tools;
    mcp_oauth_scope get_weather weather:read;
    mcp_oauth_scope admin_* admin;

    location /mcp/ {
        mcp_oauth on;
        mcp_oauth_filter_tools on;
        mcp_oauth_method_scope tools/call extra;
        proxy_pass http://127.0.0.1:$TEST_NGINX_ECHO_PORT;
    }
--- pipelined_requests eval
[
    "POST /mcp/json\n$::List",
    "POST /mcp/json\n$::List",
    "POST /mcp/sse\n$::List",
    "POST /mcp/json\n$::List",
]
--- more_headers eval
[
    ::bearer('mcp:tools weather:read admin'),
    ::bearer('mcp:tools extra'),
    ::bearer('mcp:tools weather:read admin'),
    ::bearer('mcp:tools weather:read admin extra'),
]
--- response_headers eval
[
    "Content-Length: " . length($::ToolsNone),
    "Content-Length: " . length($::ToolsEcho),
    "Content-Type: text/event-stream",
    "Content-Length: " . length($::Tools),
]
--- response_body eval
[
    $::ToolsNone,
    $::ToolsEcho,
    $::SseBefore . ::sse_tools($::LineNone) . $::SseAfter,
    $::Tools,
]
--- error_code eval
[200, 200, 200, 200]
--- no_error_log
[error]
[warn]
mcp_oauth:



=== TEST 14: JSON: tool names written with \u escapes are filtered by the names they spell
--- config eval: $::Std
--- request eval
"POST /mcp/json-escaped\n$::List"
--- more_headers eval
::bearer('mcp:tools')
--- response_body chomp
{"jsonrpc":"2.0","id":1,"result":{"tools":[{"name":"echo"}],"cacheScope":"private"}}
--- response_headers
Content-Length: 84
--- no_error_log
[error]
[warn]
mcp_oauth:



=== TEST 15: JSON the module cannot parse passes unchanged, with its length
--- config eval: $::Std
--- request eval
"POST /mcp/json-bad\n$::List"
--- more_headers eval
::bearer('mcp:tools')
--- response_headers eval
"Content-Type: application/json\nContent-Length: " . length($::NotJson)
--- response_body eval
$::NotJson
--- no_error_log
[error]
[warn]
mcp_oauth:



=== TEST 16: SSE: an upstream Content-Length is removed (the filtered stream is shorter)
--- config eval: $::Std
--- request eval
"POST /mcp/sse-cl\n$::List"
--- more_headers eval
::bearer('mcp:tools')
--- response_headers
Content-Type: text/event-stream
!Content-Length
--- response_body eval
$::SseBefore . ::sse_tools($::LineEcho) . $::SseAfter
--- no_error_log
[error]
[warn]
mcp_oauth:



=== TEST 17: a client's Accept-Encoding is not passed upstream for tools/list: the answer comes readable and is filtered
--- config eval: $::Std
--- pipelined_requests eval
[
    "POST /mcp/gzip-if-asked\n$::List",
    "POST /plain/gzip-if-asked\n$::List",
]
--- more_headers eval
[
    ::bearer('mcp:tools') . "\nAccept-Encoding: gzip, deflate",
    ::bearer('mcp:tools') . "\nAccept-Encoding: gzip, deflate",
]
--- error_code eval
[200, 200]
--- response_headers eval
[
    "!Content-Encoding\nContent-Type: application/json\nContent-Length: " . length($::ToolsEcho),
    "Content-Encoding: gzip\nContent-Length: " . length($::Gzip),
]
--- response_body eval
[$::ToolsEcho, $::Gzip]
--- no_error_log
[error]
[warn]



=== TEST 18: JSON: a tools/list answer over the 16 MB the filter holds is refused with a 502, not passed on unfiltered
--- config eval: $::Std
--- request eval
"POST /mcp/json-huge\n$::List"
--- more_headers eval
::bearer('mcp:tools')
--- error_code: 502
--- response_headers eval
"Content-Type: application/json\nContent-Length: " . length($::Refusal)
--- response_body eval
$::Refusal
--- error_log eval
qr/\[error\] .*mcp_oauth: the upstream's tools\/list answer is too large to filter, refused/
--- timeout: 20



=== TEST 19: SSE: an event over 16 MB while the tools/list answer is awaited ends the stream with a JSON-RPC error event
--- config eval: $::Std
--- request eval
"POST /stream/sse-huge\n$::List"
--- more_headers eval
::bearer('mcp:tools')
--- error_code: 200
--- response_headers
Content-Type: text/event-stream
--- response_body eval
"event: message\ndata: $::Refusal\n\n"
--- error_log eval
qr/\[error\] .*mcp_oauth: the upstream's tools\/list answer is too large to filter, refused/
--- timeout: 20



=== TEST 20: a filtered answer is the caller's: "cacheScope": "private" in the result (the upstream's "public" replaced) and Cache-Control: private
--- config eval: $::Std
--- pipelined_requests eval
[
    "POST /mcp/json-public\n$::List",
    "POST /mcp/json-public-after\n$::List",
    "POST /mcp/json-public\n$::List",
    "POST /stream/sse-public\n$::List",
]
--- more_headers eval
[
    ::bearer('mcp:tools'),
    ::bearer('mcp:tools'),
    ::bearer('mcp:tools weather:read admin'),
    ::bearer('mcp:tools'),
]
--- error_code eval
[200, 200, 200, 200]
--- response_headers eval
[
    "Cache-Control: private",
    "Cache-Control: private",
    "Cache-Control: private",
    "Cache-Control: private\nContent-Type: text/event-stream",
]
--- response_body eval
[
    ::kept($::ToolsPublic, 'echo') =~ s/"cacheScope": "public",//r
        =~ s/,"cacheScope":"private"//r
        =~ s/"result": \{/"result": {"cacheScope": "private",/r,
    '{"jsonrpc":"2.0","id":1,"result":{"tools":[{"name":"echo"}],'
        . '"cacheScope" : "private" }}',
    $::ToolsPublic,
    $::SseBefore . ::sse_tools($::LineEcho) . $::SseAfter,
]
--- no_error_log
[error]
[warn]



=== TEST 21: SSE: after the tools/list answer, a stream of 200 large events passes intact (nothing held or rewritten)
--- config eval: $::Std
--- request eval
"POST /stream/sse-big\n[" . ::rpc(1, 'tools/list') . ","
    . ::rpc(2, 'tools/call', '{"name":"echo"}') . "]"
--- more_headers eval
::bearer('mcp:tools')
--- error_code: 200
--- response_body eval
::sse_tools($::LineEcho) . $::SseBigAfter
--- no_error_log
[error]
[warn]
--- timeout: 20



=== TEST 22: SSE: every tools/list answer of the request is filtered; once all are answered the stream passes unchanged
--- config eval: $::Std
--- request eval
"POST /stream/sse-two\n[" . ::rpc(1, 'tools/list') . ","
    . ::rpc('"b"', 'tools/list') . "]"
--- more_headers eval
::bearer('mcp:tools')
--- error_code: 200
--- response_body eval
::sse_tools($::LineEcho)
    . "data: " . ::kept($::ToolsLineB, 'echo') . "\n\n"
    . "data: " . ($::ToolsLine =~ s/"id": 1/"id": 9/r) . "\n\n"
--- no_error_log
[error]
[warn]



=== TEST 23: JSON: answers the worker scanned before (it keeps their results) are filtered for each caller: the same answer for other scopes, an answer that differs near its end in between, names with escapes
--- config eval: $::Std
--- pipelined_requests eval
[
    "POST /mcp/json\n$::List",
    "POST /mcp/json\n$::List",
    "POST /mcp/json-tail\n$::List",
    "POST /mcp/json\n$::List",
    "POST /mcp/json-escaped-long\n$::List",
    "POST /mcp/json-escaped-long\n$::List",
    "POST /mcp/json-escaped-long\n$::List",
]
--- more_headers eval
[
    ::bearer('mcp:tools'),
    ::bearer('mcp:tools weather:read'),
    ::bearer('mcp:tools'),
    ::bearer('mcp:tools'),
    ::bearer('mcp:tools'),
    ::bearer('mcp:tools weather:read'),
    ::bearer('mcp:tools'),
]
--- error_code eval
[200, 200, 200, 200, 200, 200, 200]
--- response_body eval
my $desc = '"description":"' . ('x' x 300) . '"';
[
    $::ToolsEcho,
    $::ToolsEchoWeather,
    ::kept($::ToolsTail, 'echo', 'echo_2'),
    $::ToolsEcho,
    qq({"jsonrpc":"2.0","id":1,"result":{"tools":[{"name":"echo",$desc}],"cacheScope":"private"}}),
    qq({"jsonrpc":"2.0","id":1,"result":{"tools":[{"name":"get_\\u0077eather"},{"name":"echo",$desc}],"cacheScope":"private"}}),
    qq({"jsonrpc":"2.0","id":1,"result":{"tools":[{"name":"echo",$desc}],"cacheScope":"private"}}),
]
--- no_error_log
[error]
[warn]



=== TEST 24: SSE: the same tools/list event in two streams is filtered for each caller
--- config eval: $::Std
--- pipelined_requests eval
[
    "POST /stream/sse\n$::List",
    "POST /stream/sse\n$::List",
]
--- more_headers eval
[
    ::bearer('mcp:tools weather:read'),
    ::bearer('mcp:tools'),
]
--- error_code eval
[200, 200]
--- response_body eval
[
    $::SseBefore . ::sse_tools($::LineEchoWeather) . $::SseAfter,
    $::SseBefore . ::sse_tools($::LineEcho) . $::SseAfter,
]
--- no_error_log
[error]
[warn]



=== TEST 25: JSON: a batch answer with the same result twice after another one: each result keeps its own tools
--- config eval: $::Std
--- request eval
"POST /mcp/batch-three\n[" . ::rpc(1, 'tools/list') . "," . ::rpc(2, 'tools/list')
    . "," . ::rpc(3, 'tools/list') . "]"
--- more_headers eval
::bearer('mcp:tools')
--- error_code: 200
--- response_body eval
'[{"jsonrpc":"2.0","id":1,"result":{"tools":[{"name":"echo"}],"cacheScope":"private"}},'
    . ($::LineEcho =~ s/"id": 1/"id": 2/r) . ','
    . ($::LineEcho =~ s/"id": 1/"id": 3/r) . ']'
--- no_error_log
[error]
[warn]
