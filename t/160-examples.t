# The shipped configurations load: `nginx -t` accepts every examples/*.conf
# and every complete nginx configuration in the documentation.
#
# Plain Perl (Test::More), no Test::Nginx: nothing is started, each config is
# only checked with `nginx -t`, and a rejected one fails with nginx's message.
#
#   prove -v t/160-examples.t          (after ./build.sh)
#
# Environment: TEST_NGINX_BINARY (default /usr/sbin/nginx), TEST_NGINX_MODULE
# (default build/ngx_http_mcp_oauth_module.so), TEST_NGINX_DATA (default t/data).
#
# What is checked
#   - examples/*.conf, each a complete nginx.conf (load_module, events, http,
#     server): examples/demo/nginx.conf.in is not one (run.sh renders it);
#   - every ```nginx block (fenced, possibly indented) of README.md and
#     docs/**/*.md that contains `http {` (a complete configuration);
#   - every other such block that is exactly one `server { ... }` (as in
#     docs/iam-proxy.md and docs/guides/): wrapped mechanically in
#     `load_module <module>; events {} http { ... }`; when the block has no
#     `listen`, `listen 127.0.0.1:<free port>;` is added, and when it listens
#     with `ssl` but names no certificate, the test certificate is added;
#   - every other block (a fragment: location blocks, lists of directives,
#     http-level lines) is cut into its top-level statements (a directive up
#     to its `;`, or a block up to its `}`; comments and quotes respected)
#     and wrapped mechanically:
#         load_module <module>;        (unless the fragment has its own)
#         <main-level lines: load_module, worker_processes, pid, env, ...>
#         events {}                    (unless the fragment has events {})
#         http {
#             <http-level lines: map, geo, split_clients, upstream,
#              log_format, limit_req_zone, limit_conn_zone, *_cache_path,
#              mcp_oauth_token_cache, and any server { } block>
#             server {
#                 listen 127.0.0.1:<free port>;   (unless it has a listen)
#                 <defaults, each left out when the fragment sets that
#                  directive itself anywhere>
#                 <every other line, in the fragment's order>
#             }
#         }
#     The defaults (marked "# added by t/160-examples.t"):
#         mcp_oauth_resource https://mcp.example.com/mcp;
#         mcp_oauth_issuer https://mcp.example.com;
#         mcp_oauth_jwks <t/data/jwks/main.json>;   (unless the server has a
#             signing key, which then verifies: as a real authorization server)
#     and, only when the fragment uses an authorization-server directive or
#     endpoint (@AS_DIRECTIVES below):
#         mcp_oauth_signing_key <t/data/signing/ec.pem>;
#     and, only when it uses a directive of the bridge in front of an IAM
#     (mcp_oauth_iam_* but mcp_oauth_iam_metadata, which is pass-through),
#     the other two of the three the bridge needs together:
#         mcp_oauth_iam_authorize_url https://iam.example.com/authorize;
#         mcp_oauth_iam_token_request /_iam/token;
#         mcp_oauth_iam_client mcp-gateway;
#     Internal locations a fragment only names (mcp_oauth_jwks_request /_jwks)
#     need nothing: nginx -t does not look for them.
#   - skipped: a block that cannot be cut into complete statements (braces
#     that do not balance, a statement without its `;`, an ellipsis `...`
#     standing for omitted lines). Each is listed (diag), with file, line and
#     reason; there are none at present.
#   - nginx -t must succeed and print no [warn], [alert] or [emerg] line.
#   - %KNOWN below lists documentation blocks known to be rejected, each with
#     the reason; they run as TODO tests until the block is fixed (then the
#     entry's pattern no longer matches and the block is checked normally).
#
# Placeholders: the configurations show real-looking paths and hosts; before
# `nginx -t` the test rewrites exactly these, and nothing else:
#   load_module .../ngx_http_mcp_oauth_module.so  -> the built module
#   ssl_certificate FILE, ssl_certificate_key FILE -> a self-signed EC P-256
#       certificate and key made here with openssl, in a temporary directory
#   ssl_trusted_certificate FILE, proxy_ssl_trusted_certificate FILE
#                                                  -> that certificate
#   mcp_oauth_signing_key FILE                     -> t/data/signing/ec.pem
#   mcp_oauth_jwks FILE                            -> t/data/jwks/main.json
#   auth_basic_user_file FILE                      -> t/data/signing/htpasswd
#   mcp_oauth_page_template / _logo FILE           -> examples/consent.html / consent-logo.svg
#   mcp_oauth_page_stylesheet FILE                 -> t/data/pages/acme.css
#   listen [ADDR:]PORT ...      -> listen 127.0.0.1:<a free port> ... (one
#       free port per distinct original; nginx -t binds its listen sockets)
#   proxy_pass http(s)://HOST...  -> the same URL with HOST = 127.0.0.1, unless
#       HOST is an upstream{} of the config or an IP (nginx -t resolves static
#       proxy_pass hosts, and test machines often have no DNS)
#   access_log /PATH ...        -> a file in the temporary directory
#   pid FILE                    -> a file in the temporary directory (or
#                                  -g "pid ...;" when the config has none)
# and adds, right after `http {`, the five *_temp_path directives pointing
# into the temporary directory (when the config sets none of them), and runs
# nginx with -p <temporary directory>/.

use strict;
use warnings;
use Test::More;
use File::Temp qw(tempdir);
use File::Find;
use File::Spec;
use IO::Socket::INET;
use FindBin;
use Cwd qw(abs_path);

our $TODO;

my $ROOT   = abs_path("$FindBin::Bin/..");
my $NGINX  = $ENV{TEST_NGINX_BINARY} || '/usr/sbin/nginx';
my $MODULE = $ENV{TEST_NGINX_MODULE} || "$ROOT/build/ngx_http_mcp_oauth_module.so";
my $DATA   = $ENV{TEST_NGINX_DATA}   || "$ROOT/t/data";

$MODULE = File::Spec->rel2abs($MODULE);
$DATA   = File::Spec->rel2abs($DATA);

plan skip_all => "nginx not found at $NGINX" unless -x $NGINX;
plan skip_all => "module not built: $MODULE (run ./build.sh)" unless -f $MODULE;

my $TMP = tempdir('mcp-examples-XXXXXX', TMPDIR => 1, CLEANUP => 1);
mkdir "$TMP/logs";

# a self-signed certificate for every ssl_certificate
my $CERT = "$TMP/cert.pem";
my $KEY  = "$TMP/key.pem";
my $out = `openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 2 -subj /CN=mcp.example.com -keyout $KEY -out $CERT 2>&1`;
plan skip_all => "openssl cannot make a test certificate: $out" if $? != 0;

my %FILES = (
    signing_key => "$DATA/signing/ec.pem",
    jwks        => "$DATA/jwks/main.json",
    htpasswd    => "$DATA/signing/htpasswd",
    # the look of the authorization server's pages
    template    => "$ROOT/examples/consent.html",
    logo        => "$ROOT/examples/consent-logo.svg",
    stylesheet  => "$DATA/pages/acme.css",
);
for (values %FILES) {
    BAIL_OUT("test data missing: $_") unless -f $_;
}

# documentation blocks known to fail: file => [pattern in the block, reason]
my %KNOWN = ();

# directives that make a server an authorization server (docs/directives.md,
# "Authorization server", and the bridge in front of an IAM): a fragment
# using one gets a signing key
my @AS_DIRECTIVES = qw(
    mcp_oauth_signing_key mcp_oauth_scopes_supported mcp_oauth_user
    mcp_oauth_user_scope mcp_oauth_client mcp_oauth_redirect_uri_allow
    mcp_oauth_zone mcp_oauth_code_ttl mcp_oauth_token_ttl mcp_oauth_refresh_ttl
    mcp_oauth_consent_ttl mcp_oauth_client_metadata_request
    mcp_oauth_client_metadata_cache mcp_oauth_client_metadata_private
    mcp_oauth_server_metadata mcp_oauth_authorize mcp_oauth_token
    mcp_oauth_register mcp_oauth_revoke mcp_oauth_jwks_publish
    mcp_oauth_iam_authorize_url mcp_oauth_iam_token_request mcp_oauth_iam_client
    mcp_oauth_iam_scope mcp_oauth_iam_param mcp_oauth_iam_token
    mcp_oauth_iam_callback mcp_oauth_trusted_idp mcp_oauth_device_authorization
    mcp_oauth_device_verify mcp_oauth_device_code_ttl mcp_oauth_device_interval
    mcp_oauth_device_attempts
    mcp_oauth_scope_description mcp_oauth_consent_required_scope
    mcp_oauth_consent_choice mcp_oauth_consent_no_choice
    mcp_oauth_page_template mcp_oauth_page_stylesheet mcp_oauth_page_logo
    mcp_oauth_page_product
);

# lines of a fragment that belong outside http {}, or in http {} and not in
# a server {}
my $MAIN_LEVEL = qr/^(?:load_module|worker_processes|worker_rlimit_nofile|pid
                      |env|user|thread_pool|pcre_jit|events)\z/x;
my $HTTP_LEVEL = qr/^(?:map|geo|split_clients|upstream|log_format
                      |limit_req_zone|limit_conn_zone
                      |(?:proxy|fastcgi|uwsgi|scgi)_cache_path
                      |mcp_oauth_token_cache|server
                      |(?:server_names|variables|map)_hash_(?:max|bucket)_size
                     )\z/x;

# ------------------------------------------------------------ the configs --

my @configs;    # [ name, text, todo reason ]

for my $f (sort glob "$ROOT/examples/*.conf") {
    my $text = slurp($f);
    my $name = File::Spec->abs2rel($f, $ROOT);

    # an example is a complete nginx.conf
    for my $part (['load_module', qr/^\s*load_module\s+\S*ngx_http_mcp_oauth_module\.so\s*;/m],
                  ['events',      qr/^\s*events\s*\{/m],
                  ['http',        qr/^\s*http\s*\{/m],
                  ['server',      qr/^\s*server\s*\{/m])
    {
        like($text, $part->[1], "$name has $part->[0]");
    }

    push @configs, [$name, $text];
}

my @md = ("$ROOT/README.md");
find({ no_chdir => 1,
       wanted => sub { push @md, $File::Find::name if /\.md\z/ && -f } },
     "$ROOT/docs");

my ($complete, $wrapped, $fragments, $skipped) = (0, 0, 0, 0);
my @skips;

for my $f (sort @md) {
    my $name = File::Spec->abs2rel($f, $ROOT);
    my ($in, $block, $start) = (0, '', 0);
    my $n = 0;

    open my $fh, '<', $f or die "$f: $!";
    while (my $line = <$fh>) {
        if (!$in && $line =~ /^\s*```nginx\s*$/) {
            ($in, $block, $start) = (1, '', $.);
            next;
        }
        if ($in && $line =~ /^\s*```\s*$/) {
            $in = 0;
            my $where = "$name:$start";

            my $todo = $KNOWN{$name} && $block =~ $KNOWN{$name}[0]
                       ? $KNOWN{$name}[1] : undef;

            if ($block =~ /^\s*http\s*\{/m) {
                push @configs, [$where, $block, $todo];
                $complete++;

            } elsif (my $server = single_server($block)) {
                push @configs, [$where . ' (server block, wrapped)',
                                "load_module $MODULE;\nevents {}\nhttp {\n$server}\n", $todo];
                $wrapped++;

            } else {
                my ($conf, $why) = wrap_fragment($block);
                if (defined $conf) {
                    push @configs, [$where . ' (fragment, wrapped)', $conf, $todo];
                    $fragments++;
                } else {
                    push @skips, "$where: $why";
                    $skipped++;
                }
            }
            next;
        }
        $block .= $line if $in;
    }
    close $fh;
}

ok(@configs > 0, 'there are configurations to check');
diag("documentation: $complete complete configurations, $wrapped server blocks "
     . "wrapped, $fragments fragments wrapped, $skipped blocks skipped");
diag("skipped $_") for @skips;

# ------------------------------------------------------------ nginx -t ----

my $i = 0;
for my $c (@configs) {
    my ($name, $text, $todo) = @$c;
    $i++;
    local $TODO = $todo;
    my $conf = render($text, $i);
    my $file = "$TMP/conf-$i.conf";
    spew($file, $conf);
    release_ports();

    my @cmd = ($NGINX, '-t', '-p', "$TMP/", '-c', $file);
    push @cmd, '-g', "pid $TMP/nginx-$i.pid;" unless $conf =~ /^\s*pid\s/m;

    my $output = run(@cmd);
    my $rc = $? >> 8;
    my @bad = grep { /\[(?:warn|alert|emerg|crit|error)\]/ } split /\n/, $output;

    ok($rc == 0 && !@bad, "nginx -t accepts $name")
        or diag("nginx -t exited with $rc:\n$output\n--- the configuration as checked ($file):\n"
                . number($conf));
}

# ------------------------------------------------------ every directive ----

# each directive of the modules' command tables has its section in
# docs/directives.md ("## name", or a line of a "Syntax:" block)
{
    my $c = join '', map { slurp("$ROOT/ngx_mcp_oauth_module/$_") }
        qw(ngx_http_mcp_oauth_module.c state/ngx_http_mcp_oauth_redis.c);
    my $doc = slurp("$ROOT/docs/directives.md");
    my @names = $c =~ /\{ ngx_string\("(mcp_oauth\w*)"\)/g;
    ok(@names > 40, scalar(@names) . " directives in the command table");
    my %known = map { $_ => 1 } @names;
    my @unknown = grep { !$known{$_} } @AS_DIRECTIVES;
    ok(!@unknown, 'the authorization-server directives the fragments are '
                  . 'wrapped by are in the command table')
        or diag("not in the command table: @unknown");
    for my $name (@names) {
        ok($doc =~ /^(?:## \Q$name\E\s*$|\s+(?:Syntax:)?\s+\Q$name\E[ ;])/m,
           "$name is documented in docs/directives.md");
    }
}

done_testing();

# ------------------------------------------------------------ helpers -----

# the block if it is exactly one server { ... } (comments aside), with a
# listen and a certificate added when it lacks them; else undef
sub single_server {
    my ($block) = @_;
    (my $code = $block) =~ s/#[^\n]*//g;
    return undef unless $code =~ /\A\s*server\s*\{/;

    my $depth = 0;
    my $closed_at;
    while ($code =~ /([{}])/g) {
        $depth += $1 eq '{' ? 1 : -1;
        if ($depth == 0) { $closed_at = pos($code); last }
    }
    return undef unless defined $closed_at;
    return undef if substr($code, $closed_at) =~ /\S/;

    my $server = $block;
    my @add;
    if ($code !~ /^\s*listen\s/m) {
        push @add, 'listen 127.0.0.1:' . free_port() . ';';
    }
    if ($code =~ /^\s*listen\s[^;]*\bssl\b/m && $code !~ /^\s*ssl_certificate\s/m) {
        push @add, "ssl_certificate /etc/ssl/mcp.example.com.crt;",
                   "ssl_certificate_key /etc/ssl/mcp.example.com.key;";
    }
    if (@add) {
        my $lines = join '', map { "    $_   # added by t/160-examples.t\n" } @add;
        $server =~ s/\A(\s*server\s*\{[^\n]*\n)/$1$lines/;
    }
    return $server;
}

# the fragment's top-level statements, each [name, text with its comments];
# or undef and why not
sub statements {
    my ($block) = @_;
    my @st;
    my ($text, $code, $depth) = ('', '', 0);

    # "..." where a directive would be stands for omitted lines ("kJ3..." in
    # a value is only an abbreviated value)
    (my $nocomment = $block) =~ s/#[^\n]*//g;
    return (undef, 'an ellipsis "..." stands for omitted lines')
        if $nocomment =~ /(?:\A|[\s{;])(?:\.\.\.|\xe2\x80\xa6)(?=[\s{};]|\z)/;

    while ($block =~ /\G("(?:\\.|[^"\\])*"|'(?:\\.|[^'\\])*'|#[^\n]*|[{};]|[^"'#{};]+|["'])/gc) {
        my $t = $1;
        $text .= $t;
        next if $t =~ /^#/;
        return (undef, 'an unterminated quoted string') if $t eq '"' || $t eq "'";
        $code .= $t;
        if ($t eq '{') {
            $depth++;
        } elsif ($t eq '}') {
            return (undef, 'a "}" without its "{"') if --$depth < 0;
        }
        if ($depth == 0 && ($t eq ';' || $t eq '}')) {
            my ($name) = $code =~ /^\s*([^\s{};]+)/;
            return (undef, "a statement without a name: \"$code\"")
                unless defined $name;
            # a comment on the rest of the line is the statement's
            $text .= $1 if $block =~ /\G([ \t]*#[^\n]*)/gc;
            push @st, [$name, $text];
            ($text, $code) = ('', '');
        }
    }
    return (undef, 'a "{" without its "}"') if $depth > 0;
    return (undef, "a statement without its \";\": \"$code\"") if $code =~ /\S/;
    return (undef, 'no statement') unless @st;
    $st[-1][1] .= $text;    # trailing comments
    return \@st;
}

# a fragment in the wrapper of the header comment; or undef and why not
sub wrap_fragment {
    my $block = dedent($_[0]);
    my ($st, $why) = statements($block);
    return (undef, $why) unless $st;

    (my $code = $block) =~ s/#[^\n]*//g;
    my $sets = sub { my $d = shift; $code =~ /(?<![\w\$])\Q$d\E[\s;]/ };

    my (@main, @http, @server);
    for my $s (@$st) {
        # a server { } among other lines: its listen and certificate as above
        $s->[1] = single_server($s->[1]) // $s->[1] if $s->[0] eq 'server';
        my $list = $s->[0] =~ $MAIN_LEVEL ? \@main
                 : $s->[0] =~ $HTTP_LEVEL ? \@http
                 :                          \@server;
        push @$list, $s->[1];
    }

    my @add;
    push @add, 'listen 127.0.0.1:' . free_port() . ';'
        unless grep { /^\s*listen\s/m } @server;
    push @add, 'mcp_oauth_resource https://mcp.example.com/mcp;'
        unless $sets->('mcp_oauth_resource');
    push @add, 'mcp_oauth_issuer https://mcp.example.com;'
        unless $sets->('mcp_oauth_issuer');

    my $as = grep { $sets->($_) } @AS_DIRECTIVES;
    push @add, 'mcp_oauth_signing_key /etc/nginx/mcp-signing.pem;'
        if $as && !$sets->('mcp_oauth_signing_key');
    push @add, 'mcp_oauth_jwks /etc/nginx/mcp-jwks.json;'
        unless $as || $sets->('mcp_oauth_jwks') || $sets->('mcp_oauth_jwks_request');

    if ($code =~ /(?<![\w\$])mcp_oauth_iam_(?!metadata\b)\w+[\s;]/) {
        push @add, 'mcp_oauth_iam_authorize_url https://iam.example.com/authorize;'
            unless $sets->('mcp_oauth_iam_authorize_url');
        push @add, 'mcp_oauth_iam_token_request /_iam/token;'
            unless $sets->('mcp_oauth_iam_token_request');
        push @add, 'mcp_oauth_iam_client mcp-gateway;'
            unless $sets->('mcp_oauth_iam_client');
    }

    my $conf = '';
    $conf .= "load_module $MODULE;   # added by t/160-examples.t\n"
        unless grep { /^\s*load_module\s/m } @main;
    $conf .= indent($_, 0) for @main;
    $conf .= "events {}   # added by t/160-examples.t\n"
        unless grep { /^\s*events\s*\{/m } @main;
    $conf .= "http {\n";
    $conf .= indent($_, 4) for @http;
    $conf .= "    server {   # added by t/160-examples.t\n";
    $conf .= "        $_   # added by t/160-examples.t\n" for @add;
    $conf .= indent($_, 8) for @server;
    $conf .= "    }\n}\n";
    return $conf;
}

# a statement's text (of a dedented block) indented by $n spaces
sub indent {
    my ($text, $n) = @_;
    $text =~ s/\A\s+//;
    $text =~ s/\s+\z//;
    return join '', map { /\S/ ? (' ' x $n) . "$_\n" : "\n" } split /\n/, $text;
}

# the block without the indentation all its lines share
sub dedent {
    my ($block) = @_;
    my ($min) = sort { $a <=> $b } map { /^([ \t]*)\S/ ? length $1 : () }
                                    split /\n/, $block;
    $block =~ s/^[ \t]{0,$min}//mg if $min;
    return $block;
}

# the placeholders of the header comment
sub render {
    my ($text, $n) = @_;
    my %port;
    my %upstream = map { $_ => 1 } $text =~ /^\s*upstream\s+(\S+)\s*\{/mg;
    my $logs = 0;

    $text =~ s{^(\s*load_module\s+)\S*ngx_http_mcp_oauth_module\.so(\s*;)}{$1$MODULE$2}mg;
    $text =~ s{\bssl_certificate_key\s+[^\s;]+\s*;}{ssl_certificate_key $KEY;}g;
    $text =~ s{\bssl_certificate\s+[^\s;]+\s*;}{ssl_certificate $CERT;}g;
    $text =~ s{\b((?:proxy_)?ssl_trusted_certificate)\s+[^\s;]+\s*;}{$1 $CERT;}g;
    $text =~ s{\bmcp_oauth_signing_key\s+[^\s;]+\s*;}{mcp_oauth_signing_key $FILES{signing_key};}g;
    $text =~ s{\bmcp_oauth_jwks\s+[^\s;]+\s*;}{mcp_oauth_jwks $FILES{jwks};}g;
    $text =~ s{(\s)jwks=/[^\s;"]+}{$1jwks=$FILES{jwks}}g;
    $text =~ s{\bauth_basic_user_file\s+[^\s;]+\s*;}{auth_basic_user_file $FILES{htpasswd};}g;
    $text =~ s{\bmcp_oauth_page_(template|logo|stylesheet)\s+[^\s;]+\s*;}{mcp_oauth_page_$1 $FILES{$1};}g;
    $text =~ s{^(\s*listen\s+)([^\s;]+)}{
        my $orig = $2;
        $1 . ($orig =~ /^unix:/ ? $orig : '127.0.0.1:' . ($port{$orig} //= free_port()))
    }mge;
    $text =~ s{\b(proxy_pass\s+https?://)([^\s/:;\$\[]+)}{
        my ($pre, $host) = ($1, $2);
        $pre . ($upstream{$host} || $host =~ /^[\d.]+\z/ ? $host : '127.0.0.1')
    }ge;
    $text =~ s{\b(access_log\s+)(/[^\s;]+)}{$1 . "$TMP/access-$n-" . ++$logs . '.log'}ge;
    $text =~ s{^(\s*pid\s+)[^\s;]+}{$1$TMP/nginx-$n.pid}m;

    unless ($text =~ /\b(?:client_body|proxy|fastcgi|uwsgi|scgi)_temp_path\b/) {
        my $temp = join '', map { "    ${_}_temp_path $TMP/${_}_temp;\n" }
                            qw(client_body proxy fastcgi uwsgi scgi);
        $text =~ s{^(\s*http\s*\{[^\n]*\n)}{$1$temp}m;
    }
    return $text;
}

# a port nothing listens on; the sockets stay open until release_ports(),
# so that one configuration never gets the same port twice
my @HELD;

sub free_port {
    my $s = IO::Socket::INET->new(LocalAddr => '127.0.0.1', LocalPort => 0,
                                  Proto => 'tcp', Listen => 1, ReuseAddr => 1)
        or die "no free port: $!";
    push @HELD, $s;
    return $s->sockport;
}

sub release_ports {
    close $_ for @HELD;
    @HELD = ();
}

sub run {
    my @cmd = @_;
    my $pid = open(my $fh, '-|') // die "fork: $!";
    if ($pid == 0) {
        open STDERR, '>&', \*STDOUT;
        exec @cmd or die "exec $cmd[0]: $!";
    }
    local $/;
    my $output = <$fh> // '';
    close $fh;
    return $output;
}

sub number {
    my $n = 0;
    return join '', map { sprintf "%3d  %s\n", ++$n, $_ } split /\n/, $_[0];
}

sub slurp {
    open my $fh, '<', $_[0] or die "$_[0]: $!";
    local $/;
    return <$fh>;
}

sub spew {
    open my $fh, '>', $_[0] or die "$_[0]: $!";
    print $fh $_[1];
    close $fh or die "$_[0]: $!";
}
