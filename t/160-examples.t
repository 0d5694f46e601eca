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
#   - skipped: every other fragment (location blocks, lists of directives):
#     they need a context (a resource, an issuer, keys, a server) that cannot
#     be supplied mechanically without guessing. Their count is printed.
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
);
for (values %FILES) {
    BAIL_OUT("test data missing: $_") unless -f $_;
}

# documentation blocks known to fail: file => [pattern in the block, reason]
my %KNOWN = ();

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

my ($complete, $wrapped, $skipped) = (0, 0, 0);

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
                $skipped++;
            }
            next;
        }
        $block .= $line if $in;
    }
    close $fh;
}

ok(@configs > 0, 'there are configurations to check');
diag("documentation: $complete complete configurations, $wrapped server blocks "
     . "wrapped, $skipped fragments skipped");

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

# each directive of the module's command table has its section in
# docs/directives.md ("## name", or a line of a "Syntax:" block)
{
    my $c = slurp("$ROOT/ngx_mcp_oauth_module/ngx_http_mcp_oauth_module.c");
    my $doc = slurp("$ROOT/docs/directives.md");
    my @names = $c =~ /\{ ngx_string\("(mcp_oauth\w*)"\)/g;
    ok(@names > 40, scalar(@names) . " directives in the command table");
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
    $text =~ s{\bauth_basic_user_file\s+[^\s;]+\s*;}{auth_basic_user_file $FILES{htpasswd};}g;
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
