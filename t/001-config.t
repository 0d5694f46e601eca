# Configuration: everything `nginx -t` must refuse, with the message the
# operator sees, and the configurations that must load and work.

use strict;
use warnings;
use lib 't/lib';
use Test::Nginx::Socket 'no_plan';
use McpOAuth;

McpOAuth::setup();
no_shuffle();
log_level('info');
repeat_each(2);

# start-up messages are logged once, and each repetition must still see them
check_accum_error_log();

run_tests();

__DATA__

=== TEST 1: mcp_oauth on without mcp_oauth_resource
--- config
    location = /mcp {
        mcp_oauth on;
        mcp_oauth_issuer https://auth.example.com;
        mcp_oauth_jwks $TEST_NGINX_DATA/jwks/main.json;
    }
--- must_die
--- error_log eval
qr/\[emerg\] .*: "mcp_oauth on" requires "mcp_oauth_resource" in \S+:\d+$/



=== TEST 2: mcp_oauth on without mcp_oauth_issuer
--- config
    location = /mcp {
        mcp_oauth on;
        mcp_oauth_resource https://mcp.example.com/mcp;
        mcp_oauth_jwks $TEST_NGINX_DATA/jwks/main.json;
    }
--- must_die
--- error_log eval
qr/\[emerg\] .*: "mcp_oauth on" requires at least one "mcp_oauth_issuer" in \S+:\d+$/



=== TEST 3: mcp_oauth on without keys
--- config
    location = /mcp {
        mcp_oauth on;
        mcp_oauth_resource https://mcp.example.com/mcp;
        mcp_oauth_issuer https://auth.example.com;
    }
--- must_die
--- error_log eval
qr/\[emerg\] .*: "mcp_oauth on" requires "mcp_oauth_jwks" or "mcp_oauth_jwks_request" in \S+:\d+$/



=== TEST 4: JWKS file missing
--- config
    mcp_oauth_jwks $TEST_NGINX_DATA/jwks/does-not-exist.json;
--- must_die
--- error_log eval
qr{\[emerg\] .*: "mcp_oauth_jwks": cannot open JWKS file "\S+/jwks/does-not-exist\.json" \(2: No such file or directory\) in \S+:\d+$}



=== TEST 5: JWKS file that is not JSON
--- config
    mcp_oauth_jwks $TEST_NGINX_DATA/jwks/bad-json.json;
--- must_die
--- error_log eval
qr{\[emerg\] .*: "mcp_oauth_jwks": invalid JWKS file "\S+/jwks/bad-json\.json": not valid JSON in \S+:\d+$}



=== TEST 6: JWKS file that is a bare JWK, not a set
--- config
    mcp_oauth_jwks $TEST_NGINX_DATA/jwks/not-a-set.json;
--- must_die
--- error_log eval
qr{\[emerg\] .*: "mcp_oauth_jwks": invalid JWKS file "\S+/jwks/not-a-set\.json": not a JWK Set \(no "keys" array\) in \S+:\d+$}



=== TEST 7: JWKS file with an empty key list
--- config
    mcp_oauth_jwks $TEST_NGINX_DATA/jwks/no-keys.json;
--- must_die
--- error_log eval
qr{\[emerg\] .*: "mcp_oauth_jwks": invalid JWKS file "\S+/jwks/no-keys\.json": no usable key in the JWK Set in \S+:\d+$}



=== TEST 8: JWKS whose only key is broken: skipped, then no usable key
--- config
    mcp_oauth_jwks $TEST_NGINX_DATA/jwks/bad-key.json;
--- must_die
--- error_log eval
[
    qr/\[warn\] .*: mcp_oauth: JWK #0 "bad" skipped: RSA key needs base64url "n" and "e"$/,
    qr{\[emerg\] .*: "mcp_oauth_jwks": invalid JWKS file "\S+/jwks/bad-key\.json": no usable key in the JWK Set in \S+:\d+$},
]



=== TEST 9: JWKS whose only key has an unsupported kty
--- config
    mcp_oauth_jwks $TEST_NGINX_DATA/jwks/unsupported.json;
--- must_die
--- error_log eval
[
    qr/\[warn\] .*: mcp_oauth: JWK #0 "x" skipped: unsupported "kty"$/,
    qr{\[emerg\] .*: "mcp_oauth_jwks": invalid JWKS file "\S+/jwks/unsupported\.json": no usable key in the JWK Set in \S+:\d+$},
]



=== TEST 10: JWKS whose only EC key is not a point on its curve
--- config
    mcp_oauth_jwks $TEST_NGINX_DATA/jwks/ec-not-on-curve.json;
--- must_die
--- error_log eval
[
    qr/\[warn\] .*: mcp_oauth: JWK #0 "ec-bad" skipped: invalid EC key \(not a point on the curve\)$/,
    qr{\[emerg\] .*: "mcp_oauth_jwks": invalid JWKS file "\S+/jwks/ec-not-on-curve\.json": no usable key in the JWK Set in \S+:\d+$},
]



=== TEST 11: JWKS whose only key is RSA 1024 (weak)
--- config
    mcp_oauth_jwks $TEST_NGINX_DATA/jwks/weak.json;
--- must_die
--- error_log eval
[
    qr/\[warn\] .*: mcp_oauth: JWK #0 "rsa-small" skipped: RSA key shorter than 2048 bits$/,
    qr{\[emerg\] .*: "mcp_oauth_jwks": invalid JWKS file "\S+/jwks/weak\.json": no usable key in the JWK Set in \S+:\d+$},
]



=== TEST 12: mcp_oauth_leeway that is not a time
--- config
    mcp_oauth_leeway abc;
--- must_die
--- error_log eval
qr/\[emerg\] .*: "mcp_oauth_leeway" directive invalid value in \S+:\d+$/



=== TEST 13: mcp_oauth_resource without a scheme
--- config
    mcp_oauth_resource mcp.example.com;
--- must_die
--- error_log eval
qr/\[emerg\] .*: "mcp\.example\.com" must be an absolute http or https URL without a fragment in "mcp_oauth_resource" in \S+:\d+$/



=== TEST 14: mcp_oauth_resource with a fragment (RFC 8707 §2)
--- config
    mcp_oauth_resource https://x/#frag;
--- must_die
--- error_log eval
qr{\[emerg\] .*: "https://x/#frag" must be an absolute http or https URL without a fragment in "mcp_oauth_resource" in \S+:\d+$}



=== TEST 15: mcp_oauth_resource without a host
--- config
    mcp_oauth_resource https:///mcp;
--- must_die
--- error_log eval
qr{\[emerg\] .*: "https:///mcp" must be an absolute http or https URL without a fragment in "mcp_oauth_resource" in \S+:\d+$}



=== TEST 16: mcp_oauth_resource twice in one context
--- config
    mcp_oauth_resource https://mcp.example.com/mcp;
    mcp_oauth_resource https://mcp.example.com/other;
--- must_die
--- error_log eval
qr/\[emerg\] .*: "mcp_oauth_resource" directive is duplicate in \S+:\d+$/



=== TEST 17: mcp_oauth_metadata without a resource
--- config
    location = /.well-known/oauth-protected-resource {
        mcp_oauth_issuer https://auth.example.com;
        mcp_oauth_metadata;
    }
--- must_die
--- error_log eval
qr/\[emerg\] .*: "mcp_oauth_metadata" requires "mcp_oauth_resource" in \S+:\d+$/



=== TEST 18: mcp_oauth_jwks_request with a relative URI
--- config
    mcp_oauth_jwks_request jwks;
--- must_die
--- error_log eval
qr/\[emerg\] .*: "mcp_oauth_jwks_request" needs a local URI starting with "\/", not "jwks" in \S+:\d+$/



=== TEST 19: mcp_oauth_jwks_request with an absolute URL (fetches go through a location)
--- config
    mcp_oauth_jwks_request https://auth.example.com/jwks;
--- must_die
--- error_log eval
qr{\[emerg\] .*: "mcp_oauth_jwks_request" needs a local URI starting with "/", not "https://auth\.example\.com/jwks" in \S+:\d+$}



=== TEST 20: a scope with a double quote (nginx unescapes 'a\"b' to a"b)
--- config
    mcp_oauth_required_scope mcp:tools 'a\"b';
--- must_die
--- error_log eval
qr/\[emerg\] .*: invalid scope "a"b" in "mcp_oauth_required_scope" in \S+:\d+$/



=== TEST 21: a scope with a backslash (nginx unescapes "a\\b" to a\b)
--- config
    mcp_oauth_required_scope "a\\b";
--- must_die
--- error_log eval
qr/\[emerg\] .*: invalid scope "a\\b" in "mcp_oauth_required_scope" in \S+:\d+$/



=== TEST 22: a scope with a non-ASCII byte
--- config eval
"    mcp_oauth_required_scope caf\xc3\xa9;\n"
--- must_die
--- error_log eval
qr/\[emerg\] .*: invalid scope "caf\xc3\xa9" in "mcp_oauth_required_scope" in \S+:\d+$/



=== TEST 23: mcp_oauth_issuer with a query
--- config
    mcp_oauth_issuer https://auth.example.com/?tenant=1;
--- must_die
--- error_log eval
qr{\[emerg\] .*: "https://auth\.example\.com/\?tenant=1" must be an absolute http or https URL without query or fragment in "mcp_oauth_issuer" in \S+:\d+$}



=== TEST 24: mcp_oauth_issuer that is not a URL
--- config
    mcp_oauth_issuer auth.example.com;
--- must_die
--- error_log eval
qr/\[emerg\] .*: "auth\.example\.com" must be an absolute http or https URL without query or fragment in "mcp_oauth_issuer" in \S+:\d+$/



=== TEST 25: everything at http level, inherited by the location
--- http_config
    mcp_oauth on;
    mcp_oauth_resource https://mcp.example.com/mcp;
    mcp_oauth_issuer https://auth.example.com;
    mcp_oauth_jwks $TEST_NGINX_DATA/jwks/main.json;
    mcp_oauth_required_scope mcp:tools;
    mcp_oauth_leeway 30s;
--- config
    location = /mcp {
        proxy_set_header X-Sub $mcp_oauth_sub;
        proxy_pass http://127.0.0.1:$TEST_NGINX_SERVER_PORT/backend;
    }

    location = /backend {
        mcp_oauth off;
        return 200 "sub=$http_x_sub\n";
    }
--- request eval
["GET /mcp", "GET /mcp"]
--- more_headers eval
["Authorization: Bearer " . token('rs256'), ""]
--- error_code eval
[200, 401]
--- response_body eval
["sub=user-1\n", '{"error":"unauthorized","error_description":"no bearer token"}']
--- response_headers eval
["!WWW-Authenticate", 'WWW-Authenticate: Bearer resource_metadata="https://mcp.example.com/.well-known/oauth-protected-resource/mcp", scope="mcp:tools"']



=== TEST 26: mcp_oauth off in a location of a protected server is open
--- config
    mcp_oauth on;
    mcp_oauth_resource https://mcp.example.com/mcp;
    mcp_oauth_issuer https://auth.example.com;
    mcp_oauth_jwks $TEST_NGINX_DATA/jwks/main.json;

    location = /mcp {
        proxy_pass http://127.0.0.1:$TEST_NGINX_SERVER_PORT/backend;
    }

    location = /open {
        mcp_oauth off;
        proxy_pass http://127.0.0.1:$TEST_NGINX_SERVER_PORT/backend;
    }

    location = /backend {
        mcp_oauth off;
        return 200 "backend\n";
    }
--- request eval
["GET /open", "GET /mcp"]
--- error_code eval
[200, 401]
--- response_body eval
["backend\n", '{"error":"unauthorized","error_description":"no bearer token"}']



=== TEST 27: a JWKS with one bad key among good ones loads, naming the bad key
--- user_files eval
use JSON::PP ();
my $file = "$ENV{TEST_NGINX_DATA}/jwks/main.json";
open my $in, '<', $file or die "$file: $!";
my $set = JSON::PP::decode_json(do { local $/; <$in> });
splice @{ $set->{keys} }, 1, 0,
    { kty => 'RSA', kid => 'broken', use => 'sig', n => '!!!', e => 'AQAB' };
[["mixed-jwks.json", JSON::PP->new->canonical->encode($set)]];
--- config
    location = /mcp {
        mcp_oauth on;
        mcp_oauth_resource https://mcp.example.com/mcp;
        mcp_oauth_issuer https://auth.example.com;
        mcp_oauth_jwks ../html/mixed-jwks.json;
        proxy_set_header X-Sub $mcp_oauth_sub;
        proxy_pass http://127.0.0.1:$TEST_NGINX_SERVER_PORT/backend;
    }

    location = /backend {
        return 200 "sub=$http_x_sub\n";
    }
--- request
GET /mcp
--- more_headers eval
"Authorization: Bearer " . token('rs256')
--- response_body
sub=user-1
--- error_log eval
qr/\[warn\] .*: mcp_oauth: JWK #1 "broken" skipped: RSA key needs base64url "n" and "e"$/



=== TEST 28: the good keys of that JWKS (EC, EdDSA, RSA-PSS) all verify
--- user_files eval
use JSON::PP ();
my $file = "$ENV{TEST_NGINX_DATA}/jwks/main.json";
open my $in, '<', $file or die "$file: $!";
my $set = JSON::PP::decode_json(do { local $/; <$in> });
splice @{ $set->{keys} }, 1, 0,
    { kty => 'RSA', kid => 'broken', use => 'sig', n => '!!!', e => 'AQAB' };
[["mixed-jwks.json", JSON::PP->new->canonical->encode($set)]];
--- config
    location = /mcp {
        mcp_oauth on;
        mcp_oauth_resource https://mcp.example.com/mcp;
        mcp_oauth_issuer https://auth.example.com;
        mcp_oauth_jwks ../html/mixed-jwks.json;
        proxy_set_header X-Sub $mcp_oauth_sub;
        proxy_pass http://127.0.0.1:$TEST_NGINX_SERVER_PORT/backend;
    }

    location = /backend {
        return 200 "sub=$http_x_sub\n";
    }
--- request eval
["GET /mcp", "GET /mcp", "GET /mcp"]
--- more_headers eval
[map { "Authorization: Bearer " . token($_) } qw(es256 eddsa ps256)]
--- error_code eval
[200, 200, 200]
--- response_body eval
["sub=user-1\n", "sub=user-1\n", "sub=user-1\n"]



=== TEST 29: resource, issuer and keys are enough; no warning at start
--- config
    mcp_oauth_resource https://mcp.example.com/mcp;
    mcp_oauth_issuer https://auth.example.com;
    mcp_oauth_jwks $TEST_NGINX_DATA/jwks/rsa1.json;

    location = /mcp {
        mcp_oauth on;
        proxy_pass http://127.0.0.1:$TEST_NGINX_SERVER_PORT/backend;
    }

    location = /backend {
        return 200 "backend\n";
    }
--- request
GET /mcp
--- more_headers eval
"Authorization: Bearer " . token('rs256')
--- response_body
backend
--- no_error_log
[warn]



=== TEST 30: a requirement found at merge time names the line of the directive it is about (it named the end of the http block)
--- user_files
>>> mcp.conf
location = /mcp {
    mcp_oauth_issuer https://auth.example.com;
    mcp_oauth on;
    mcp_oauth_jwks $TEST_NGINX_DATA/jwks/main.json;
}
--- config
    include ../html/mcp.conf;
--- must_die
--- error_log eval
qr{\[emerg\] .*"mcp_oauth on" requires "mcp_oauth_resource" in \S+/html/mcp\.conf:3$}



=== TEST 31: inherited from the server, the line is the server's "mcp_oauth on"
--- user_files
>>> mcp.conf
mcp_oauth on;
mcp_oauth_resource https://mcp.example.com/mcp;
location = /mcp {
    mcp_oauth_jwks $TEST_NGINX_DATA/jwks/main.json;
}
--- config
    include ../html/mcp.conf;
--- must_die
--- error_log eval
qr{\[emerg\] .*"mcp_oauth on" requires at least one "mcp_oauth_issuer" in \S+/html/mcp\.conf:1$}



=== TEST 32: mcp_oauth_metadata without a resource names its own line
--- user_files
>>> prm.conf
location = /prm {

    mcp_oauth_metadata;
}
--- config
    include ../html/prm.conf;
--- must_die
--- error_log eval
qr{\[emerg\] .*"mcp_oauth_metadata" requires "mcp_oauth_resource" in \S+/html/prm\.conf:3$}
