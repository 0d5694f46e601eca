# Self-test for the compat Test::Nginx::Socket (t/compat/).  Runs against a
# plain nginx (no project module needed).  The plan is computed with the
# real Test::Nginx counting rules, so it also checks assertion counting.

use FindBin;
use lib "$FindBin::Bin/..";    # always test the compat runner
use IO::Socket::INET;
use Test::Nginx::Socket;

# a TCP port that accepts connections (kernel backlog) but never answers
our $BlackHole = IO::Socket::INET->new(Listen => 5, LocalAddr => '127.0.0.1',
                                      LocalPort => 0, Proto => 'tcp')
    or die "cannot create black hole listener: $!";
$ENV{TEST_NGINX_BLACKHOLE_PORT} = $BlackHole->sockport;

repeat_each(2);

# per-block counts, following the real Test::Nginx rules
plan tests => repeat_each() * (3 + 6 + 7 + 3 + 6 + 2 + 2 + 2 + 4 + 6 + 1 + 2 + 2 + 2 + 2 + 2 + 2 + 4);

no_shuffle();

add_block_preprocessor(sub {
    my $block = shift;
    if (!defined $block->config) {
        $block->set_value("config", <<'_EOC_');
    location = /pp {
        return 200 "pp\n";
    }
_EOC_
    }
});

run_tests();

__DATA__

=== TEST 1: return 200 "hello"
--- config
    location = /t {
        return 200 "hello";
    }
--- request
    GET /t
--- response_body chomp
hello
--- no_error_log
[error]



=== TEST 2: array of requests, error_code / response_body_like arrays
--- config
    location = /a { return 200 "a\n"; }
    location = /b { return 404; }
    location = /c { return 302 /a; }
--- request eval
["GET /a", "GET /b", "GET /c"]
--- error_code eval
[200, 404, 302]
--- response_body_like eval
["^a\$", "404 Not Found", "302 Found"]



=== TEST 3: response_headers, !Name, raw headers
--- config
    location = /h {
        add_header X-Foo bar;
        return 200 "ok\n";
    }
--- request
GET /h
--- response_headers
X-Foo: bar
!X-Bar
Content-Type: text/plain
--- raw_response_headers_like: ^HTTP/1.1 200 OK\r\n
--- raw_response_headers_unlike: X-Bar
--- response_body
ok



=== TEST 4: response_headers_like
--- config
    location = /h { return 200 "ok\n"; }
--- request
GET /h
--- response_headers_like
Server: nginx/[\d.]+
Content-Length: \d+



=== TEST 5: error_log / no_error_log / grep_error_log
--- config
--- request
GET /nope.html
--- error_code: 404
--- error_log eval
[qr/open\(\) ".*?nope\.html" failed/, "No such file or directory"]
--- no_error_log
[alert]
[crit]
--- grep_error_log eval
qr/open\(\) "[^"]+" failed/
--- grep_error_log_out eval
"open() \"" . Test::Nginx::Socket::html_dir() . "/nope.html\" failed\n"



=== TEST 6: must_die with an invalid directive
--- config
    location = /t {
        bogus_directive on;
    }
--- must_die
--- error_log
unknown directive "bogus_directive"



=== TEST 7: user_files
--- user_files
>>> foo/bar.txt
Hello, world
--- config
--- request
GET /foo/bar.txt
--- response_body
Hello, world



=== TEST 8: more_headers + POST body (Content-Length is added)
--- config
    location = /echo {
        return 200 "foo=$http_x_foo len=$http_content_length ct=$content_type\n";
    }
--- more_headers
X-Foo: blah
Content-Type: application/x-www-form-urlencoded
--- request
POST /echo
a=1&b=2
--- response_body
foo=blah len=7 ct=application/x-www-form-urlencoded



=== TEST 9: chunked proxied response is decoded
--- http_config
    server {
        listen 127.0.0.1:$TEST_NGINX_RAND_PORT_1;
        location /up {
            default_type text/html;
            return 200 "<p>hello world</p>\n";
        }
    }
--- config
    location = /proxy {
        proxy_pass http://127.0.0.1:$TEST_NGINX_RAND_PORT_1/up;
        sub_filter 'world' 'chunked';
    }
--- request
GET /proxy
--- response_headers
Transfer-Encoding: chunked
!Content-Length
--- response_body
<p>hello chunked</p>



=== TEST 10: pipelined requests
--- config
    location = /p1 { return 200 "one\n"; }
    location = /p2 { return 200 "two\n"; }
--- pipelined_requests eval
["GET /p1", "GET /p2"]
--- response_body eval
["one\n", "two\n"]
--- no_error_log
[error]



=== TEST 11: client timeout does not hang (abort)
--- config
    location = /slow {
        proxy_pass http://127.0.0.1:$TEST_NGINX_BLACKHOLE_PORT;
        proxy_read_timeout 10s;
    }
--- request
GET /slow
--- timeout: 300ms
--- abort
--- ignore_response
--- no_error_log
[alert]



=== TEST 12: init runs after nginx starts (default config from preprocessor)
--- init
open my $f, '>', html_dir() . "/init.txt" or die "$!";
print $f "from init\n";
close $f;
--- request
GET /init.txt
--- wait: 0.05
--- response_body
from init



=== TEST 13: config from add_block_preprocessor
--- request
GET /pp
--- response_body
pp



=== TEST 14: raw_request
--- config
    location = /raw { return 200 "raw $server_protocol\n"; }
--- raw_request eval
"GET /raw HTTP/1.0\r\nHost: localhost\r\n\r\n"
--- response_body
raw HTTP/1.0



=== TEST 15: request split into packets
--- config
    location = /len { return 200 "len=$http_content_length\n"; }
--- request eval
[["POST /len\nhel", {value => "lo", delay_before => 0.05}]]
--- response_body
len=5



=== TEST 16: response_body_filters: builtin names, applied in order
--- config
    location = /f { return 200 "Hello"; }
--- request
GET /f
--- response_body_filters
uc length
--- response_body chomp
5



=== TEST 17: response_body_filters: array of code refs (eval)
--- config
    location = /f { return 200 "Hello"; }
--- request
GET /f
--- response_body_filters eval
[sub { "[$_[0]]" }, \&CORE::lc]
--- response_body chomp
[hello]



=== TEST 18: response_body_filters: one filter list per request
--- config
    location = /f { return 200 "Hello"; }
--- request eval
["GET /f", "GET /f"]
--- response_body_filters eval
[[\&CORE::uc], [sub { scalar reverse $_[0] }]]
--- response_body eval
["HELLO", "olleH"]
