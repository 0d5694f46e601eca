# The Debian package: `./build.sh deb` builds libnginx-mod-http-mcp-oauth with
# debian/ and nginx-dev's nginx_mod debhelper build system, and the .deb holds
# what an apt install needs.
#
# Plain Perl (Test::More), no Test::Nginx: nothing is started; the module is
# only loaded by `nginx -t`.
#
#   prove -v t/180-deb.t            (builds the package, about a minute)
#
# Environment: TEST_DEB=FILE checks that .deb instead of building one. The
# package is built for Debian's nginx (/usr/sbin/nginx, its ABI in Depends):
# with TEST_NGINX_BINARY naming another nginx (./build.sh test --nginx=...)
# the suite is skipped.
#
# What is checked
#   - ./build.sh deb succeeds and leaves build/<package>_<version>_<arch>.deb,
#     the version being debian/changelog's;
#   - its control fields: Package, Version, Architecture; Depends holds the
#     nginx ABI of the installed nginx-dev (nginx:abi in
#     /usr/share/nginx/src/debian/libnginx-mod.abisubstvars) and the shared
#     libraries dpkg-shlibdeps found (libssl3, libjansson4, libc6), and no
#     -dev package;
#   - its files (dpkg -x into a scratch root): the .so in /usr/lib/nginx/modules,
#     the snippet /usr/share/nginx/modules-available/mod-http-mcp-oauth.conf
#     with exactly `load_module modules/ngx_http_mcp_oauth_module.so;`, the
#     copyright file, and nothing outside those directories and its doc dir;
#   - its postinst enables the snippet as
#     /etc/nginx/modules-enabled/50-mod-http-mcp-oauth.conf (dh_nginx) and the
#     prerm/postrm take it away;
#   - nginx loads the extracted .so: `nginx -t` accepts a configuration that
#     loads it by its absolute path and serves mcp_oauth_metadata, and one that
#     includes the packaged snippet as is (its relative `modules/` path
#     resolved under a prefix whose modules/ is the scratch module directory,
#     as /usr/share/nginx/modules is /usr/lib/nginx/modules on Debian).

use strict;
use warnings;
use Test::More;
use File::Temp qw(tempdir);
use File::Find;
use IO::Socket::INET;
use FindBin;
use Cwd qw(abs_path);

my $ROOT  = abs_path("$FindBin::Bin/..");
my $NGINX = '/usr/sbin/nginx';
my $PKG   = 'libnginx-mod-http-mcp-oauth';
my $SO    = 'ngx_http_mcp_oauth_module.so';
my $SNIPPET = 'mod-http-mcp-oauth.conf';
my $ABIVARS = '/usr/share/nginx/src/debian/libnginx-mod.abisubstvars';

sub have { my $c = shift; return grep { -x "$_/$c" } split /:/, $ENV{PATH} }

plan skip_all => 'dpkg-buildpackage is not installed (apt-get install dpkg-dev)'
    unless have('dpkg-buildpackage');
plan skip_all => 'debhelper is not installed (apt-get install debhelper)'
    unless have('dh');
plan skip_all => "nginx-dev is not installed (no dh_nginx or $ABIVARS)"
    unless have('dh_nginx') && -f $ABIVARS;
plan skip_all => "nginx not found at $NGINX" unless -x $NGINX;
plan skip_all => "the package is for Debian's nginx, not $ENV{TEST_NGINX_BINARY}"
    if ($ENV{TEST_NGINX_BINARY} // $NGINX) ne $NGINX;

my $version = run('dpkg-parsechangelog', '-l', "$ROOT/debian/changelog", '-S', 'Version');
chomp $version;
my $arch = run('dpkg', '--print-architecture');
chomp $arch;

# ---- build -------------------------------------------------------------

my $deb = $ENV{TEST_DEB};
if ($deb) {
    note "checking $deb (TEST_DEB), not building";
} else {
    my $out = run("$ROOT/build.sh", 'deb');
    is $?, 0, './build.sh deb succeeds' or diag $out;
    $deb = "$ROOT/build/${PKG}_${version}_$arch.deb";
}
ok -f $deb, "the package is $deb" or BAIL_OUT('no package to check');

# ---- control fields ------------------------------------------------------

my %f;
for my $field (qw(Package Version Architecture Depends Section)) {
    $f{$field} = run('dpkg-deb', '-f', $deb, $field);
    chomp $f{$field};
}
is $f{Package}, $PKG, 'Package';
is $f{Version}, $version, 'Version is debian/changelog\'s';
is $f{Architecture}, $arch, 'Architecture';
is $f{Section}, 'httpd', 'Section';

my ($abi) = slurp($ABIVARS) =~ /^nginx:abi=(\S+)$/m;
ok $abi, "nginx:abi in $ABIVARS" or diag slurp($ABIVARS);
my %dep = map { /^\s*(\S+)/ ? ($1 => $_) : () } split /,/, $f{Depends};
note "Depends: $f{Depends}";
ok exists $dep{$abi}, "Depends on the nginx ABI $abi (dh_nginx)";
ok exists $dep{$_}, "Depends on $_ (dpkg-shlibdeps)" for qw(libssl3 libjansson4 libc6);
ok !(grep { /-dev$/ } keys %dep), 'Depends on no -dev package';

# ---- files -------------------------------------------------------------

my $TMP = tempdir('mcp-deb-XXXXXX', TMPDIR => 1, CLEANUP => 1);
my $scratch = "$TMP/root";
mkdir $scratch;
my $out = run('dpkg', '-x', $deb, $scratch);
is $?, 0, 'dpkg -x' or diag $out;

my $module = "$scratch/usr/lib/nginx/modules/$SO";
ok -f $module, "/usr/lib/nginx/modules/$SO";
is ((stat $module)[2] & 07777, 0644, "$SO is 0644") if -f $module;

my $snippet = "$scratch/usr/share/nginx/modules-available/$SNIPPET";
ok -f $snippet, "/usr/share/nginx/modules-available/$SNIPPET";
is -f $snippet ? slurp($snippet) : undef, "load_module modules/$SO;\n",
    "$SNIPPET loads modules/$SO";

ok -f "$scratch/usr/share/doc/$PKG/copyright", "/usr/share/doc/$PKG/copyright";

my @stray;
find({ no_chdir => 1, wanted => sub {
    return if -d;
    (my $p = $File::Find::name) =~ s/^\Q$scratch\E//;
    push @stray, $p unless $p =~ m{^/usr/lib/nginx/modules/[^/]+\.so\z}
        || $p =~ m{^/usr/share/nginx/modules-available/[^/]+\.conf\z}
        || $p =~ m{^/usr/share/doc/\Q$PKG\E/};
} }, $scratch);
is_deeply \@stray, [], 'no file outside the module, snippet and doc directories';

# ---- maintainer scripts ---------------------------------------------------

my $ctrl = "$TMP/DEBIAN";
$out = run('dpkg-deb', '-e', $deb, $ctrl);
is $?, 0, 'dpkg-deb -e' or diag $out;
my $pair = "$SNIPPET:50-$SNIPPET";
like -f "$ctrl/postinst" ? slurp("$ctrl/postinst") : '',
    qr{\Q$pair\E.*ln -sf /usr/share/nginx/modules-available/\$from\s*\\\s*/etc/nginx/modules-enabled/\$to}s,
    "postinst links /etc/nginx/modules-enabled/50-$SNIPPET";
for my $script (qw(prerm postrm)) {
    like -f "$ctrl/$script" ? slurp("$ctrl/$script") : '', qr{\Q$pair\E},
        "$script handles 50-$SNIPPET";
}

# ---- nginx loads it -------------------------------------------------------

my @HELD;
sub free_port {
    my $s = IO::Socket::INET->new(LocalAddr => '127.0.0.1', LocalPort => 0,
                                  Proto => 'tcp', Listen => 1, ReuseAddr => 1)
        or die "no free port: $!";
    push @HELD, $s;
    return $s->sockport;
}

sub nginx_t {
    my ($name, $prefix, $load) = @_;
    mkdir $prefix;
    mkdir "$prefix/logs";
    my $port = free_port();
    close $_ for @HELD;
    @HELD = ();
    my $conf = "$prefix/nginx.conf";
    spew($conf, <<"CONF");
$load
error_log $prefix/logs/error.log;
pid $prefix/logs/nginx.pid;
events {}
http {
    client_body_temp_path $prefix/client_body;
    proxy_temp_path $prefix/proxy;
    fastcgi_temp_path $prefix/fastcgi;
    uwsgi_temp_path $prefix/uwsgi;
    scgi_temp_path $prefix/scgi;
    access_log off;
    server {
        listen 127.0.0.1:$port;
        mcp_oauth_resource https://mcp.example.com/mcp;
        mcp_oauth_issuer https://auth.example.com;
        mcp_oauth_required_scope mcp:tools;
        location = /.well-known/oauth-protected-resource/mcp { mcp_oauth_metadata; }
        location = /.well-known/oauth-protected-resource     { mcp_oauth_metadata; }
    }
}
CONF
    my $out = run($NGINX, '-t', '-p', "$prefix/", '-c', $conf);
    ok $? == 0 && $out !~ /\[(?:warn|alert|emerg|crit)\]/, "nginx -t: $name"
        or diag $out;
}

nginx_t('load_module <scratch>/usr/lib/nginx/modules/' . $SO,
        "$TMP/abs", "load_module $module;");

# the snippet as packaged: `modules/` is relative to nginx's prefix
mkdir "$TMP/rel";
symlink "$scratch/usr/lib/nginx/modules", "$TMP/rel/modules" or die "symlink: $!";
nginx_t("include <scratch>/usr/share/nginx/modules-available/$SNIPPET",
        "$TMP/rel", "include $snippet;");

done_testing();

# ---- helpers ---------------------------------------------------------------

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

sub slurp {
    open my $fh, '<', $_[0] or die "$_[0]: $!";
    local $/;
    return scalar <$fh>;
}

sub spew {
    open my $fh, '>', $_[0] or die "$_[0]: $!";
    print $fh $_[1];
    close $fh or die "$_[0]: $!";
}
