package McpOAuth;

# Shared helpers for the Test::Nginx suites: loads the module into every
# block's nginx.conf and reads or mints test tokens (t/data, see README there).

use strict;
use warnings;
use Cwd qw(abs_path);
use File::Basename qw(dirname);
use Exporter 'import';

our @EXPORT = qw(token mint);

# "--- section eval" code runs in Test::Base::Filter: the helpers are there too
{
    no strict 'refs';
    *{"Test::Base::Filter::$_"} = \&{$_} for @EXPORT;
}

my $root = abs_path(dirname(__FILE__) . '/../..');

$ENV{TEST_NGINX_MODULE} ||= "$root/build/ngx_http_mcp_oauth_module.so";
$ENV{TEST_NGINX_DATA}   ||= "$root/t/data";
$ENV{TEST_NGINX_BINARY} ||= '/usr/sbin/nginx';

# the compiled module is loaded ahead of each block's own main_config
sub setup {
    Test::Nginx::Socket::add_block_preprocessor(sub {
        my $block = shift;
        my $main = $block->main_config // '';
        $block->set_value('main_config',
                          "load_module $ENV{TEST_NGINX_MODULE};\n$main");
    });
}

# a fixture token from t/data/tokens/NAME.jwt
sub token {
    my ($name) = @_;
    my $file = "$ENV{TEST_NGINX_DATA}/tokens/$name.jwt";
    open my $fh, '<', $file or die "cannot open $file: $!";
    local $/;
    my $t = <$fh>;
    close $fh;
    $t =~ s/\s+\z//;
    return $t;
}

# a token minted now (t/data/mint.mjs), for times relative to the test run:
#   mint(key => 'rsa1', 'exp-in' => -30, claims => '{"scope":"a b"}')
sub mint {
    my (%a) = @_;
    my @args = ("$ENV{TEST_NGINX_DATA}/mint.mjs");
    for my $k (sort keys %a) {
        push @args, "--$k", $a{$k};
    }
    open my $fh, '-|', 'node', @args or die "cannot run node: $!";
    local $/;
    my $t = <$fh>;
    close $fh;
    die "mint.mjs failed: @args" if $? != 0;
    $t =~ s/\s+\z//;
    return $t;
}

1;
