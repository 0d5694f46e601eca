package Test::Nginx::Socket;

# Compact, pure-Perl stand-in for the subset of Test::Nginx::Socket
# (https://github.com/openresty/test-nginx, lib/Test/Nginx/{Socket,Util}.pm)
# used by this project's t/*.t suites.  It is only put on PERL5LIB when the
# real module is not installed.  The generated nginx.conf, defaults,
# environment variables, test names and the number of assertions per block
# follow the real module; see t/compat/README.md for supported sections and
# the known differences.

use v5.10.1;
use strict;
use warnings;

# Like the real module this is a Test::Base subclass: blocks(), plan(),
# 'no_plan', section filters (eval, chomp, ...) and ONLY/SKIP/LAST all come
# from Test::Base.  (-base rather than -Base: no Spiffy source filter.)
use Test::Base -base;

our $VERSION = '0.29_compat';

use Digest::MD5 ();
use Digest::SHA ();
use Errno qw(EAGAIN EWOULDBLOCK EINTR);
use File::Path qw(make_path remove_tree);
use File::Spec ();
use HTTP::Response ();
use IO::Select ();
use IO::Socket::INET ();
use List::Util qw(shuffle min);
use POSIX qw(:sys_wait_h SIGQUIT SIGKILL SIGTERM);
use Scalar::Util qw(looks_like_number);
use Test::LongString ();
use Time::HiRes qw(sleep time);

our @EXPORT = qw(
    env_to_nginx is_str plan run_tests run_test repeat_each config_preamble
    worker_connections master_process_enabled no_long_string workers master_on
    master_off log_level no_shuffle no_root_location use_hup server_name
    server_addr server_root html_dir server_port server_port_for_client timeout
    no_nginx_manager check_accum_error_log add_block_preprocessor bail_out
    add_cleanup_handler add_response_body_check
);

sub bail_out (@);
sub timeout (@);
sub run_test ($);
sub value_contains ($$);

# ------------------------------------------------------------- settings
# same names, defaults and environment variables as Test::Nginx::Util

our $RepeatEach           = 1;
our $NoShuffle            = $ENV{TEST_NGINX_NO_SHUFFLE} || 0;
our $NoLongString;
our $UseValgrind          = $ENV{TEST_NGINX_USE_VALGRIND};
our $Verbose              = $ENV{TEST_NGINX_VERBOSE};
our $Timeout              = $ENV{TEST_NGINX_TIMEOUT} || 3;
our $CheckAccumErrLog     = $ENV{TEST_NGINX_CHECK_ACCUM_ERR_LOG};
our $ServerAddr           = '127.0.0.1';
our $ServerName           = 'localhost';
our $NginxBinary          = $ENV{TEST_NGINX_BINARY} || 'nginx';
our $Workers              = 1;
our $WorkerConnections    = 64;
our $LogLevel             = $ENV{TEST_NGINX_LOG_LEVEL} || 'debug';
our $MasterProcessEnabled = $ENV{TEST_NGINX_MASTER_PROCESS} || 'off';
our $DaemonEnabled        = 'on';
our $ServerPort           = $ENV{TEST_NGINX_SERVER_PORT} || $ENV{TEST_NGINX_PORT} || 1984;
our $ServerPortForClient  = $ENV{TEST_NGINX_CLIENT_PORT} || $ServerPort || 1984;
our $NoRootLocation       = 0;
our $TestNginxSleep       = $ENV{TEST_NGINX_SLEEP} || 0.015;
our $ForceRestartOnTest   = $ENV{TEST_NGINX_FORCE_RESTART_ON_TEST} // 1;
our $NoNginxManager       = $ENV{TEST_NGINX_NO_NGINX_MANAGER} || 0;
our $LoadModules          = $ENV{TEST_NGINX_LOAD_MODULES};
our $EventType            = $ENV{TEST_NGINX_EVENT_TYPE};
our $ReusePort            = $ENV{TEST_NGINX_REUSE_PORT};
our $WorkerUser           = $ENV{TEST_NGINX_WORKER_USER};
our $ConfigPreamble       = '';

our (@EnvToNginx, @BlockPreprocessors, @CleanupHandlers, @ResponseBodyChecks);
our ($PrevConfig, $NginxVersion, $ChildPid, $InSubprocess);
our $ErrLogFilePos = 0;
our $TotalConnectingTimeouts = 0;

die "Bad value in the env TEST_NGINX_WORKER_USER: $WorkerUser\n"
    if defined $WorkerUser && $WorkerUser !~ /^\w+(?:\s+\w+)?$/;

# valgrind: nginx runs in the foreground as our child process
# (master_process stays as configured, as in the real module)
$DaemonEnabled = 'off' if $UseValgrind;

our $ServRoot   = $ENV{TEST_NGINX_SERVROOT} || File::Spec->rel2abs('t/servroot');
our $LogDir     = "$ServRoot/logs";
our $ErrLogFile = "$LogDir/error.log";
our $AccLogFile = "$LogDir/access.log";
our $HtmlDir    = "$ServRoot/html";
our $ConfDir    = "$ServRoot/conf";
our $ConfFile   = "$ConfDir/nginx.conf";
our $PidFile    = "$LogDir/nginx.pid";

$ENV{TEST_NGINX_SERVER_ROOT} = $ServRoot;   # as the real one
$ENV{TEST_NGINX_SERVROOT}  //= $ServRoot;   # compat extension
$ENV{TEST_NGINX_HTML_DIR}  //= $HtmlDir;    # compat extension
$ENV{TEST_NGINX_SERVER_PORT} //= $ServerPort;  # (the real one sets it in run_tests)

srand $$;

# sections of the real module that this one does not implement: fail loudly
# instead of silently ignoring them
our @Unsupported = qw(http2 http3 tcp_listen udp_listen stap shutdown_error_log
    no_shutdown_error_log request_eval response_body_eval
    skip_eval skip_nginx2 skip_openssl skip_slave todo todo_nginx charset);

# ---------------------------------------------------------- exported API

sub repeat_each (@)            { $RepeatEach = shift if @_; $RepeatEach }
sub no_shuffle ()              { $NoShuffle = 1 }
sub no_long_string ()          { $NoLongString = 1 }
sub no_root_location ()        { $NoRootLocation = 1 }
sub check_accum_error_log ()   { $CheckAccumErrLog = 1 }
sub no_nginx_manager ()        { $NoNginxManager = 1 }
sub use_hup ()                 { warn "WARNING: use_hup() is not supported by the compat Test::Nginx\n" }
sub master_on ()               { $MasterProcessEnabled = 'on' }
sub master_off ()              { $MasterProcessEnabled = 'off' }
sub config_preamble ($)        { $ConfigPreamble = shift }
sub html_dir ()                { $HtmlDir }
sub server_root ()             { $ServRoot }
sub add_cleanup_handler ($)    { unshift @CleanupHandlers, shift }
sub add_response_body_check ($) { push @ResponseBodyChecks, shift }
sub add_block_preprocessor (&) { unshift @BlockPreprocessors, shift }
sub workers (@)                { @_ ? ($Workers = shift) : $Workers }
sub worker_connections (@)     { @_ ? ($WorkerConnections = shift) : $WorkerConnections }
sub log_level (@)              { @_ ? ($LogLevel = shift) : $LogLevel }
sub timeout (@)                { @_ ? ($Timeout = shift) : $Timeout }
sub server_name (@)            { @_ ? ($ServerName = shift) : $ServerName }
sub server_addr (@)            { @_ ? ($ServerAddr = shift) : $ServerAddr }
sub server_port (@)            { @_ ? ($ServerPort = shift) : $ServerPort }
sub server_port_for_client (@) { @_ ? ($ServerPortForClient = shift) : $ServerPortForClient }

sub master_process_enabled (@) {
    return $MasterProcessEnabled unless @_;
    $MasterProcessEnabled = shift() ? 'on' : 'off';
}

sub env_to_nginx (@) {
    Carp::croak("env_to_nginx: no arguments specified") unless @_;
    for my $v (@_) {
        Carp::croak("env_to_nginx: bad argument value: $v\n") if $v !~ /^[A-Za-z_]/ || $v =~ /\n/;
        push @EnvToNginx, $v;
    }
}

sub is_str (@) {
    my ($got, $expected, $desc) = @_;
    return Test::More::like($got, $expected, $desc) if ref $expected eq 'Regexp';
    return Test::More::is($got, $expected, $desc) if $NoLongString;
    return Test::LongString::is_string($got, $expected, $desc);
}

sub bail_out (@) {
    cleanup();
    Test::More::BAIL_OUT(join '', @_);
}

# --------------------------------------------------------------- helpers

# extra (unplanned) failures: don't let Test::Builder add its own noise
sub no_ending { Test::More->builder->no_ending(1) }

sub slurp { my $f = shift; open my $in, '<', $f or return undef; local $/; <$in> }

sub parse_time ($) {
    my $tm = shift;
    if (defined $tm) {
        if ($tm =~ s/([^_a-zA-Z])ms$/$1/) { $tm /= 1000 }
        else                               { $tm =~ s/([^_a-zA-Z])s$/$1/ }
    }
    return $tm;
}

sub trim ($) {
    my $s = shift;
    return undef unless defined $s;
    $s =~ s/^\s+|\s+$//g;
    $s =~ s/\n/ /gs;
    $s =~ s/\s{2,}/ /gs;
    return $s;
}

sub fmt_str ($) {
    my $s = shift;
    chomp $s;
    $s =~ s/"/\\"/g;
    $s =~ s/\r/\\r/g;
    $s =~ s/\n/\\n/g;
    return $s;
}

sub gen_rand_port ($) {
    my $used = shift;
    for (1 .. 1000) {
        my $port = int(rand 63550) + 1985;
        next if $used->{$port};
        my $sock = IO::Socket::INET->new(LocalAddr => $ServerAddr, LocalPort => $port,
                                         Proto => 'tcp');
        if ($sock) { close $sock; return $port }
    }
    return undef;
}

# alive = exists and is not a zombie (processes may be reaped late here)
sub is_running ($) {
    my $pid = shift;
    return 0 unless $pid && kill 0, $pid;
    if (open my $in, '<', "/proc/$pid/stat") {
        return 0 if (<$in> // '') =~ /^\d+ \(.*\) [ZX]/s;
    }
    return 1;
}

# is something LISTENing on this TCP port?  Checked via /proc instead of a
# probe connection, which would show up in nginx's logs.
sub port_listening ($) {
    my $port = shift;
    my $have_proc;
    for my $f ('/proc/net/tcp', '/proc/net/tcp6') {
        open my $in, '<', $f or next;
        $have_proc = 1;
        while (<$in>) {
            return 1 if /^\s*\d+:\s+[0-9A-Fa-f]+:([0-9A-Fa-f]{4})\s+\S+\s+0A\s/ && hex($1) == $port;
        }
    }
    return !$have_proc;
}

sub get_pid_from_pidfile ($) {
    my $name = shift;
    my $pid = slurp($PidFile)
        // bail_out("$name - Failed to open the pid file $PidFile for reading: $!");
    chomp $pid;
    return $pid;
}

# QUIT, then poll (no fixed sleeps); TERM and KILL if it does not go away
sub kill_process ($$) {
    my ($pid, $name) = @_;
    if (is_running($pid)) {
        kill SIGQUIT, $pid;
        my $deadline = time + timeout();
        while (is_running($pid) && time < $deadline) {
            waitpid($pid, WNOHANG);
            sleep 0.005;
        }
        if (is_running($pid)) {
            warn "$name - timeout when waiting for the process $pid to exit\n";
            for (1 .. 20) {
                last unless is_running($pid);
                kill SIGTERM, $pid;
                sleep 0.05;
            }
            if (is_running($pid)) {
                warn "$name - WARNING: killing the child process $pid with force...\n";
                kill SIGKILL, (getpgrp($pid) == $pid ? -$pid : $pid);
                sleep 0.05;
            }
        }
    }
    waitpid($pid, WNOHANG);    # reap it if it is our own child
}

sub cleanup () {
    $_->() for @CleanupHandlers;
    if (defined $ChildPid) {
        kill_process($ChildPid, "cleanup");
        undef $ChildPid;
    }
}

sub can_run ($) {
    my $cmd = shift;
    return -f $cmd && -x _ if $cmd =~ m{/};
    return grep { $_ ne '' && -f "$_/$cmd" && -x _ } split(/:/, $ENV{PATH} // ''), '.';
}

sub get_canon_version (@) { sprintf "%d.%03d%03d", @_[0 .. 2] }

sub get_nginx_version () {
    my $out = `$NginxBinary -V 2>&1`;
    bail_out("Failed to get the version of the Nginx in PATH: " . ($out // ''))
        if !defined $out || $? != 0;
    return get_canon_version($1, $2, $3)
        if $out =~ m{(?:nginx|openresty)[^/]*/(\d+)\.(\d+)\.(\d+)}s
        || $out =~ m{\w+/(\d+)\.(\d+)\.(\d+)}s;
    bail_out("Failed to parse the output of \"nginx -V\": $out\n");
}

# $TEST_NGINX_FOO -> $ENV{TEST_NGINX_FOO}; $TEST_NGINX_RAND_PORT_N -> free port
sub expand_env_in_text ($$$) {
    my ($text, $name, $rand_ports) = @_;
    return undef unless defined $text;
    my %used = ($ServerPort => 1, map { $_ => 1 } values %$rand_ports);
    $text =~ s{\$(TEST_NGINX_[_A-Z0-9]+)}{
        my $var = $1;
        if ($var =~ /^TEST_NGINX_RAND_PORT_[0-9]+$/) {
            $rand_ports->{$var} //= do {
                my $p = gen_rand_port(\%used)
                    // bail_out("$name - Cannot find an available listening port number for $var.\n");
                $used{$p} = 1;
                $p;
            };
        } else {
            bail_out("$name - No environment $var defined.\n") unless defined $ENV{$var};
            $ENV{$var};
        }
    }eg;
    return $text;
}

sub parse_headers ($) {
    my %headers;
    for (split /\n/, shift) {
        s/^\s+|\s+$//g;
        next if $_ eq '';
        if (s/^!\s*//) { $headers{$_} = undef; next }
        my ($key, $val) = split /\s*:\s*/, $_, 2;
        $headers{$key} = $val;
    }
    return \%headers;
}

# ------------------------------------------------------ server root, conf

sub setup_server_root () {
    if (-d $ServRoot) {
        # only remove what we create (a mis-set TEST_NGINX_SERVROOT must not
        # wipe real data); same policy as the real module
        remove_tree($ConfDir, glob("$ServRoot/*_cache"), glob("$ServRoot/*_temp"),
                    $HtmlDir, $LogDir);
        rmdir $ServRoot or bail_out "Can't remove $ServRoot (not empty?): $!";
    }
    for my $d ($ServRoot, $LogDir, $HtmlDir, $ConfDir) {
        mkdir $d or bail_out "Failed to do mkdir $d\n";
    }
    open my $out, '>', "$HtmlDir/index.html" or bail_out "Can't open $HtmlDir/index.html: $!\n";
    print $out '<html><head><title>It works!</title></head><body>It works!</body></html>';
    close $out;
}

# --- user_files: ">>> name [date]" lines followed by the content, or an
# eval'ed array of [name, content, date]
sub write_user_files ($$) {
    my ($block, $rand_ports) = @_;
    my $name = $block->name;
    my $files = $block->user_files or return;

    if (!ref $files) {
        my ($list, $cur) = ([]);
        for my $line (split /^/, $files) {
            if ($line =~ />>> (\S+)(?:\s+(.+))?/) { push @$list, $cur = [$1, undef, $2] }
            elsif ($cur)                          { $cur->[1] .= $line }
        }
        $files = $list;
    } elsif (ref $files ne 'ARRAY') {
        bail_out "$name - wrong value type: ", ref $files, ", only scalar or ARRAY are accepted";
    }

    for my $file (@$files) {
        my ($fname, $body, $date) = @$file;
        my $path = $fname =~ m{^/} ? $fname : "$HtmlDir/$fname";
        if ($path =~ m{(.*)/} && !-d $1) {
            make_path($1) or bail_out "$name - Cannot create directory ", $1;
        }
        open my $out, '>', $path or bail_out "$name - Cannot open $path for writing: $!\n";
        binmode $out;
        print $out expand_env_in_text($body // '', $name, $rand_ports);
        close $out;
        if ($date) {
            my $cmd = "TZ=GMT touch -t '$date' $HtmlDir/$fname";
            system($cmd) == 0 or bail_out "Failed to run shell command: $cmd\n";
        }
    }
}

# the same nginx.conf skeleton as Test::Nginx::Util::write_config_file
sub write_config_file ($$$) {
    my ($block, $config, $rand_ports) = @_;
    my $name = $block->name;

    my $http_config = expand_env_in_text($block->http_config, $name, $rand_ports) // '';
    my $main_config = $block->main_config // '';
    $main_config .= join " ", map { "load_module $_;" } grep { $_ } split /\s+/, $LoadModules
        if $LoadModules;
    $main_config = expand_env_in_text($main_config, $name, $rand_ports);
    my $post_main_config = expand_env_in_text($block->post_main_config // '', $name, $rand_ports);
    my $err_log_file = $block->error_log_file || $ErrLogFile;
    my $server_name = $block->server_name // $ServerName;
    my $listen_opts = $ReusePort ? " reuseport" : "";
    $config //= '';

    my $env = join '', map { my $v = /\s/ ? "'$_'" : $_; "env $v;\n" } @EnvToNginx;
    my $root_location = $NoRootLocation ? '' : <<_EOC_;
        location / {
            root $HtmlDir;
            index index.html index.htm;
        }
_EOC_
    my $use_event = $EventType ? "    use $EventType;\n" : '';
    my $user = defined $WorkerUser ? "user $WorkerUser;\n" : $> == 0 ? "user root;\n" : '';

    open my $out, '>', $ConfFile or bail_out "Can't open $ConfFile for writing: $!\n";
    print $out <<_EOC_;
worker_processes  $Workers;
daemon $DaemonEnabled;
master_process $MasterProcessEnabled;
error_log $err_log_file $LogLevel;
pid       $PidFile;
env MOCKEAGAIN_VERBOSE;
env MOCKEAGAIN;
env MOCKEAGAIN_WRITE_TIMEOUT_PATTERN;
env LD_PRELOAD;
env LD_LIBRARY_PATH;
env DYLD_INSERT_LIBRARIES;
env DYLD_FORCE_FLAT_NAMESPACE;
${env}#env LUA_PATH;
#env LUA_CPATH;

$main_config

http {
    access_log $AccLogFile;
    #access_log off;

    default_type text/plain;
    keepalive_timeout  68;

$http_config

    server {
        listen          $ServerPort$listen_opts;
        server_name     '$server_name';

        client_max_body_size 30M;
        #client_body_buffer_size 4k;

        # Begin preamble config...
$ConfigPreamble
        # End preamble config...

        # Begin test case config...
$config
        # End test case config.

${root_location}    }
}

$post_main_config

#timer_resolution 100ms;

events {
    accept_mutex off;

    worker_connections  $WorkerConnections;
${use_event}}
env ASAN_OPTIONS;
env MOCKNOEAGAIN_VERBOSE;
env MOCKNOEAGAIN;
$user
_EOC_
    close $out;
}

sub nginx_cmd () {
    my $cmd = "$NginxBinary -p $ServRoot/ -c $ConfFile";
    # compat: start-up messages (config errors...) go to logs/error.log, as
    # with a default nginx build; Debian's nginx uses --error-log-path=stderr
    $cmd .= " -e $ErrLogFile" if $NginxVersion >= 1.019005;
    $cmd = "$cmd > /dev/null";
    return $cmd unless $UseValgrind;

    # valgrind output goes to files so it can be reported (compat extension)
    my $log = $UseValgrind =~ /--log-(?:file|fd|socket)\b/ ? '' : " --log-file=$LogDir/valgrind-%p.log";
    my $supp = $ENV{TEST_NGINX_VALGRIND_SUPPRESS} // (-f 'valgrind.suppress' ? 'valgrind.suppress' : undef);
    $log .= " --suppressions=$supp" if defined $supp;
    my $opts = $UseValgrind =~ /^\d+$/
        ? "--num-callers=100 -q --tool=memcheck --leak-check=full --show-possibly-lost=no "
          . "--gen-suppressions=all"
        : "-q $UseValgrind";
    return "valgrind $opts$log $cmd";
}

# wait (bounded) until nginx listens on its port
sub wait_for_nginx ($$) {
    my ($name, $max) = @_;
    my $deadline = time + $max;
    until (port_listening($ServerPort)) {
        if (defined $ChildPid && waitpid($ChildPid, WNOHANG) != 0) {
            warn "$name - nginx exited before listening on port $ServerPort\n";
            return undef $ChildPid;
        }
        return warn "$name - nginx is not listening on port $ServerPort after ${max}s\n"
            if time > $deadline;
        sleep 0.005;
    }
}

sub stop_nginx ($) {
    my $name = shift;
    return unless -f $PidFile;
    my $pid = get_pid_from_pidfile($name);
    if (is_running($pid)) { kill_process($pid, $name) } else { unlink $PidFile }
}

# valgrind mode: nginx is stopped after every block so that leaks get
# reported.  Valgrind's output is printed to stderr (like with the real
# module) and, as a compat extension, reported as a failed test.
sub stop_valgrind_nginx ($) {
    my $name = shift;
    my $pid = $ChildPid;
    undef $ChildPid;
    kill SIGQUIT, $pid;
    my $deadline = time + 60;
    while (waitpid($pid, WNOHANG) == 0) {
        if (time > $deadline) {
            warn "$name - timeout when waiting for the process $pid to exit\n";
            kill SIGKILL, -$pid;
            waitpid($pid, 0);
            last;
        }
        sleep 0.01;
    }
    my $out = join '', map { slurp($_) // '' } sort glob("$LogDir/valgrind-*.log");
    if ($out =~ /\S/) {
        print STDERR $out;
        no_ending();
        Test::More::fail("$name - valgrind reported errors (see above)");
    }
}

# -------------------------------------------------------------- run loop

sub run_tests () {
    $NginxVersion = get_nginx_version();
    $ENV{TEST_NGINX_SERVER_PORT} //= $ServerPort;

    for my $block ($NoShuffle ? Test::Base::blocks() : shuffle Test::Base::blocks()) {
        $_->($block) for @BlockPreprocessors;
        $block->set_value("name", $0 . " " . $block->name);
        run_test($block);
    }

    cleanup();
}

sub start_nginx ($$) {
    my ($name, $block) = @_;
    can_run($NginxBinary) or bail_out("$name - Cannot find the nginx executable in the PATH environment");
    my $cmd = nginx_cmd();
    warn "command: $cmd\n" if $Verbose;
    $ErrLogFilePos = 0;

    if ($UseValgrind) {
        warn "$name\n";
        my $pid = fork() // bail_out("$name - fork() failed: $!");
        if ($pid == 0) {
            $InSubprocess = 1;
            setpgrp;
            exec "exec $cmd" or POSIX::_exit(127);
        }
        $ChildPid = $pid;
        wait_for_nginx($name, 60);
        return;
    }

    # --- must_die: nginx has to fail to start
    if (defined(my $must_die = $block->must_die)) {
        for my $i (0 .. $RepeatEach - 1) {
            system($cmd);
            my $status = $?;
            my $exit_code = $status >> 8;
            if ($status == -1) {
                Test::More::fail("$name - failed to execute the nginx command line");
            } elsif (($status & 128) || $exit_code > 128) {
                Test::More::fail("$name - nginx core dumped");
            } elsif (looks_like_number($must_die)) {
                Test::More::is($must_die, $exit_code, "$name - die with the expected exit code");
            } else {
                Test::More::isnt($status, 0, "$name - die as expected");
            }

            check_error_log($block, undef, $i, 0);

            if ($status == 0) {
                warn "WARNING: $name - nginx must die but it does not; killing it (req $i)\n";
                for (1 .. 15) { last if -f $PidFile; sleep $TestNginxSleep }
                kill_process(get_pid_from_pidfile($name), $name) if -f $PidFile;
            }
        }
        return 'died';
    }

    # daemon mode: nginx has bound its port once the command returns.  The
    # real module blindly retries for ~30 s; here only a port still in use
    # is retried, for at most 10 s (nginx itself retries bind() for 2.5 s)
    my $deadline = time + 10;
    while (1) {
        system($cmd);
        my $status = $?;
        last if $status == 0;
        bail_out("$name - Cannot start nginx using command \"$cmd\" (status code $status).")
            if time > $deadline || (slurp($ErrLogFile) // '') !~ /Address already in use/;
        sleep 0.1;
    }
    wait_for_nginx($name, 5);
    sleep $TestNginxSleep;
    return;
}

sub run_test ($) {
    my $block = shift;
    return if defined $block->SKIP;

    my $name = $block->name;
    for my $s (@Unsupported) {
        bail_out("$name - section --- $s is not supported by the compat Test::Nginx "
                 . "(t/compat); install the real Test::Nginx") if defined $block->$s;
    }

    my $rand_ports = {};
    my $config = expand_env_in_text($block->config, $name, $rand_ports);

    local $LogLevel = $block->log_level || $LogLevel;
    # must_die ignores valgrind (like the real module) and always daemonizes
    local $UseValgrind = defined $block->must_die ? undef : $UseValgrind;
    local $DaemonEnabled = defined $block->must_die ? 'on' : $DaemonEnabled;

    my ($should_restart, $should_reconfig) = (1, 1);
    if (!defined $config) {
        bail_out("$name - No '--- config' section specified and could not get previous one. "
                 . "Use TEST_NGINX_NO_NGINX_MANAGER ?") if !$NoNginxManager && !defined $PrevConfig;
        $should_restart = 0;    # keep using the running server
    } elsif ($NoNginxManager) {
        Test::More::diag("NO_NGINX_MANAGER activated: config for $name ignored");
        $should_restart = 0;
    } else {
        $should_reconfig = !defined $PrevConfig || $config ne $PrevConfig;
        $should_restart = $should_reconfig || $ForceRestartOnTest;
    }

    # --- skip_nginx: N: <op> x.y.z [: reason]
    my ($should_skip, $tests_to_skip, $skip_reason);
    if (defined(my $spec = $block->skip_nginx)) {
        my ($n, $op, @v) = $spec =~ /^\s*(\d+)\s*:\s*([<>]=?)\s*(\d+)\.(\d+)\.(\d+)(?:\s*:\s*(.*))?\s*$/
            or bail_out("$name - Invalid --- skip_nginx spec: $spec");
        $tests_to_skip = $n;
        $skip_reason = $v[3] || "nginx version $op $v[0].$v[1].$v[2]";
        $should_skip = eval "$NginxVersion $op " . get_canon_version(@v);
    }

    if (!$NoNginxManager && !$should_skip && $should_restart) {
        $PrevConfig = $config if $should_reconfig;
        stop_nginx($name);
        setup_server_root();
        write_user_files($block, $rand_ports);
        write_config_file($block, $config, $rand_ports);
        return if start_nginx($name, $block);    # must_die blocks end here
    }

    if ($block->init) {
        eval $block->init;
        bail_out("$name - init failed: $@") if $@;
    }

    $ErrLogFilePos = 0;
    for my $i (0 .. $RepeatEach - 1) {
        write_user_files($block, $rand_ports) if $i > 0;
        if ($should_skip) {
            SKIP: { Test::More::skip("$name - $skip_reason", $tests_to_skip) }
        } else {
            run_test_helper($block, $i);
        }
    }

    if (my $total_errlog = $ENV{TEST_NGINX_ERROR_LOG}) {
        if (-s $ErrLogFile && open my $out, '>>', $total_errlog) {
            print $out "\n=== $0 $name\n", slurp($ErrLogFile);
        }
    }

    stop_valgrind_nginx($name) if $UseValgrind && defined $ChildPid;
}

# ------------------------------------------------------ request building

sub parse_more_headers ($) {
    my ($out, $is_chunked) = ('', undef);
    for my $header (split /\n+/, shift // '') {
        next if $header =~ /^\s*\#/;
        my ($key, $val) = split /:\s*/, $header, 2;
        $val //= '';
        $is_chunked = 1 if lc($key) eq 'transfer-encoding' && $val eq 'chunked';
        $out .= "$key: $val\r\n";
    }
    return ($out, $is_chunked);
}

# "METH [URI [VERSION]]\n[body]" (possibly split into packets) -> raw HTTP
# request packets: adds Host, Connection, --- more_headers, Content-Length
sub build_request {
    my ($name, $more_headers, $is_chunked, $conn_header, $packets) = @_;
    my $raw = join '', map { $_ // '' } @$packets;

    my ($first, $content) = $raw =~ /\A([^\n]*\n?)(.*)\z/s;
    bail_out("$name - Request line should be non-empty") if $first eq '';
    my ($meth, $url, $ver) = $first =~ /^\s*(\S+) *(?:(\S+) *)?(?:(\S+) *)?\s*$/
        or bail_out("$name - Request line is not valid. Should be 'meth [url [version]]' "
                    . "but got \"$first\".");
    my $reqline = "$meth " . ($url // '/') . " " . ($ver // 'HTTP/1.1') . "\r\n";

    my ($len_header, $lead) = ('', 0);
    if (!$is_chunked && $content ne '' && $more_headers !~ /(?:^|\n)Content-Length:/) {
        $lead = length(($content =~ /^(\s*)/)[0]);
        $content =~ s/^\s+|\s+$//gs;
        $len_header = "Content-Length: " . length($content) . "\r\n";
    }

    $more_headers =~ s/(?<!\r)\n/\r\n/gs;
    my $head = $reqline;
    $head .= "Host: $ServerName\r\n" if $more_headers !~ /(?:^|\n)Host:/msi;
    $head .= "Connection: $conn_header\r\n" if $more_headers !~ /(?:^|\n)Connection/msi;
    $head .= "$more_headers$len_header\r\n";
    my $full = $head . $content;

    # map the original packet boundaries onto the generated request
    my @out;
    my ($pos, $orig) = (0, 0);
    for my $i (0 .. $#$packets) {
        my $end = length $full;
        if ($i < $#$packets) {
            $orig += length($packets->[$i] // '');
            my $in_body = $orig - length($first) - $lead;
            $end = $orig < length $first ? min($orig, length $reqline)
                 : length($head) + min(length $content, $in_body < 0 ? 0 : $in_body);
            $end = $pos if $end < $pos;
        }
        push @out, substr($full, $pos, $end - $pos);
        $pos = $end;
    }
    return \@out;
}

# the requests of a block: a list of requests, each a list of packets
# ({ value => ..., delay_before => ... })
sub get_req_from_block ($) {
    my $block = shift;
    my $name = $block->name;

    if (defined(my $raw = $block->raw_request)) {
        return [[ map { +{ value => $_ } } ref $raw eq 'ARRAY' ? @$raw : ($raw) ]];
    }

    my $request = $block->request;
    if (defined $request && !ref $request) {
        1 while $request =~ s/^\s*\#[^\n]+\s+|^\s+//gs;    # leading comments/space
    }

    my $more_headers = $block->more_headers || '';
    my $headers_for = sub {    # --- more_headers may be one per request
        my $i = shift;
        return parse_more_headers($more_headers) if ref $more_headers ne 'ARRAY';
        bail_out("--- more_headers lacks data for the ${i}th request")
            unless defined $more_headers->[$i];
        return parse_more_headers($more_headers->[$i]);
    };
    my $one = sub {
        my ($i, $conn, $packets) = @_;
        return build_request($name, $headers_for->($i), $conn, $packets);
    };

    if (my $reqs = $block->pipelined_requests) {
        bail_out("$name - invalid entries in --- pipelined_requests") if ref $reqs ne 'ARRAY';
        my $all = join '', map {
            $one->($_, $_ == $#$reqs ? 'close' : 'keep-alive', [$reqs->[$_]])->[0]
        } 0 .. $#$reqs;
        return [[{ value => $all }]];
    }

    return [[{ value => $one->(0, 'close', [$request])->[0] }]] if !ref $request;

    bail_out("$name - invalid ---request : MUST be string or array of requests")
        if ref $request ne 'ARRAY';

    my @req_list;
    for my $i (0 .. $#$request) {
        my $r = $request->[$i];
        if (!ref $r) {
            push @req_list, [{ value => $one->($i, 'close', [$r])->[0] }];
        } elsif (ref $r eq 'ARRAY') {    # a request split into packets
            my @packets = map {
                !ref $_ ? $_ : ref $_ eq 'HASH' ? $_->{value}
                : bail_out("$name - Invalid syntax. $_ should be a string or hash with value.")
            } @$r;
            my $out = $one->($i, 'close', \@packets);
            push @req_list, [ map { +{ (ref $r->[$_] ? %{ $r->[$_] } : ()), value => $out->[$_] } }
                              0 .. $#$out ];
        } else {
            bail_out("$name - Invalid syntax. $r should be a string or an array of packets.");
        }
    }
    return \@req_list;
}

# ------------------------------------------------------------- the client

# one connection: write the packets, read until the server closes; the
# timeout applies between two I/O events (as in the real module)
sub send_request ($$$$) {
    my ($req, $middle_delay, $timeout, $block) = @_;
    my $name = $block->name;
    my @bits = @$req;
    my $head_req = (join '', map { $_->{value} // '' } @bits) =~ /^\s*HEAD\s+/ ? 1 : 0;
    my $addr = $block->server_addr_for_client // $ServerAddr;

    my $sock;
    for (my $tries = 1; ; $tries++) {
        $sock = IO::Socket::INET->new(PeerAddr => $addr, PeerPort => $ServerPortForClient,
                                      Proto => 'tcp', Timeout => $timeout) and last;
        my $err = $!;
        my $gone = defined $ChildPid && waitpid($ChildPid, WNOHANG) != 0;
        if ($gone || $tries > ($TotalConnectingTimeouts ? 20 : 50)) {
            if ($gone) {
                warn "WARNING: Child process $ChildPid is already gone.\n", `tail -n20 $ErrLogFile`;
                undef $ChildPid;
            }
            my $msg = "$name - Can't connect to $addr:$ServerPortForClient: $err (aborted)\n";
            bail_out($msg) if !$gone && ++$TotalConnectingTimeouts >= 3;
            no_ending();
            Test::More::fail($msg);
            return;
        }
        my $wait = min(1, ($TestNginxSleep + $TestNginxSleep * $tries) * $tries / 2);
        warn "$name - Can't connect to $addr:$ServerPortForClient: $err\n\tRetry connecting after $wait sec\n"
            if $wait >= 0.6;
        sleep $wait;
    }

    local $SIG{PIPE} = 'IGNORE';
    $sock->blocking(0);
    my $sel = IO::Select->new($sock);
    my ($resp, $off, $writing) = ('', 0, 1);
    my $buf = (shift @bits)->{value} // '';

    while (1) {
        $! = 0;
        my ($r, $w) = IO::Select->select($sel, $writing ? $sel : undef, undef, $timeout);
        if (!$r && !$w) {
            next if $! == EINTR;
            close $sock;
            if (defined $block->abort) { sleep 0.005; last }
            no_ending();
            Test::More::fail("ERROR: client socket timed out - $name\n");
            last;
        }

        while ($w && @$w && $writing) {
            if ($off >= length $buf) {
                my $next = shift @bits;
                if (!defined $next) {    # all sent
                    $writing = 0;
                    my $how = $block->shutdown;
                    shutdown($sock, $how =~ /^\s*$/ ? 1 : $how) if defined $how;
                    last;
                }
                ($buf, $off) = ($next->{value} // '', 0);
                my $delay = $next->{delay_before} // $middle_delay;
                sleep $delay if $delay;
                next;
            }
            my $n = syswrite($sock, $buf, length($buf) - $off, $off);
            if (!defined $n) {
                last if $! == EAGAIN || $! == EWOULDBLOCK;
                warn "write failed: $!\n";
                $resp = "write failed: $!" if $resp eq '';
                $writing = 0;
                last;
            }
            $off += $n;
        }

        next unless $r && @$r;
        my $eof;
        while (1) {
            my $n = sysread($sock, my $chunk, 4096);
            if (!defined $n) {
                last if $! == EAGAIN || $! == EWOULDBLOCK;
                warn "WARNING: $name - HTTP response read failure: $!";
            }
            if (!$n) { $eof = 1; last }
            $resp .= $chunk;
        }
        if ($eof) { close $sock; last }
    }

    return ($resp, $head_req);
}

# ------------------------------------------------------ response checks

# HTTP::Response + chunked decoding; returns ($res, $raw_headers, $left)
sub parse_response ($$$) {
    my ($name, $raw_resp, $head_req) = @_;
    my $left;
    my $raw_headers = $raw_resp =~ /(.*?\r\n)\r\n/s ? $1 : '';

    my $res = HTTP::Response->parse($raw_resp);
    my $code = $res->code;
    my $enc = $res->header('Transfer-Encoding');
    my $len = $res->header('Content-Length');

    if ($code && $code !~ /^\d+$/) {
        undef $code;
        $res->code(undef);
    }
    return ($res, $raw_headers) if $code && ($code == 304 || $code == 101);

    my $bad_chunk = sub { no_ending(); Test::More::fail("$name - $_[0]"); return };
    if (defined $enc && $enc eq 'chunked') {
        my $raw = $res->content // '';
        my $decoded = '';
        while (1) {
            if ($raw =~ /\G 0 [\ \t]* \r\n \r\n /gcsx) {
                $left = $1 if $raw =~ /\G (.+) /gcsx;
                last;
            }
            if ($raw =~ /\G [\ \t]* ([A-Fa-f0-9]+) [\ \t]* \r\n /gcsx) {
                my $size = hex $1;
                return $bad_chunk->("invalid chunked data received (not enought octets for the data section)")
                    if length($raw) - pos($raw) < $size;
                $decoded .= substr($raw, pos($raw), $size);
                pos($raw) += $size;
                return $bad_chunk->("invalid chunked data received (expected CRLF).")
                    if $raw !~ /\G\r\n/gcs;
            } elsif ($raw =~ /\G.+/gcs) {
                return $bad_chunk->("invalid chunked body received: $&");
            } else {
                return $bad_chunk->("no last chunk found - $raw");
            }
        }
        $res->content($decoded);

    } elsif (defined $len && $len ne '' && $len >= 0) {
        my $raw = $res->content;
        if (length $raw < $len) {
            warn "WARNING: $name - response body truncated: $len expected, but got ",
                 length $raw, "\n" unless $head_req;
        } elsif (length $raw > $len) {
            $left = substr $raw, $len;
            $res->content(substr $raw, 0, $len);
        }
    }

    return ($res, $raw_headers, $left);
}

# --- response_body_filters: builtin names ("uc lc"), a code ref, an array of
# them, or a two-dimensional array (one list per request).  Each filter gets
# the body and returns the new one; applied after the header checks, before
# the body checks (as Test::Nginx::Socket::transform_response_body).
my %BuiltinBodyFilters = (
    md5_hex  => \&Digest::MD5::md5_hex,
    sha1_hex => \&Digest::SHA::sha1_hex,
    uc       => sub { uc $_[0] },
    lc       => sub { lc $_[0] },
    ucfirst  => sub { ucfirst $_[0] },
    lcfirst  => sub { lcfirst $_[0] },
    length   => sub { length $_[0] },
);

sub run_filter_helper ($$$) {
    my ($block, $filter, $content) = @_;
    my $name = $block->name;
    return $filter->($content) if ref $filter eq 'CODE';
    bail_out("$name - the --- response_body_filters section only supports "
             . "subroutine reference values and string values") if ref $filter;
    my $f = $BuiltinBodyFilters{$filter}
        // bail_out("$name - unknown filter, \"$filter\", specified in the "
                    . "--- response_body_filters section");
    return $f->($content);
}

sub transform_response_body ($$$) {
    my ($block, $res, $req_idx) = @_;
    return unless defined $res;
    my $content = $res->content;
    return unless defined $content;
    my $filters = $block->response_body_filters;
    return unless defined $filters;
    my $name = $block->name;

    if (!ref $filters) {
        $filters =~ s/^\s+|\s+$//gs;
        $filters = [split /\s+/, $filters];
    } elsif (ref $filters ne 'ARRAY') {
        $filters = [$filters];
    }
    if (ref $filters->[0] eq 'ARRAY') {
        for (@$filters) {
            bail_out("$name - the --- response_body_filters two-dimensional array "
                     . "only be like [[uc], [lc]] not [[uc], lc]") if ref $_ ne 'ARRAY';
        }
        $filters = $filters->[$req_idx]
            // bail_out("$name - the ---response_body_filters two-dimensional array "
                        . "unmatch the specified request($req_idx)");
    }
    $content = run_filter_helper($block, $_, $content) for @$filters;
    $res->content($content);
}

# expectations are arrays (one per request) when a block sends several
sub get_indexed_value ($$$$) {
    my ($name, $value, $req_idx, $need_array) = @_;
    my $is_array = ref $value eq 'ARRAY';
    if ($need_array) {
        return $value->[$req_idx] if $is_array;
        bail_out("$name - You asked for many requests, the expected results should be arrays as well.");
    }
    return $value unless $is_array;
    bail_out("$name - SHOULD NOT HAPPEN: idx != 0 and don't need array.") if $req_idx != 0;
    return $value->[0];
}

sub check_response ($$$$$$) {
    my ($block, $res, $raw_headers, $req_idx, $repeated_req_idx, $need_array) = @_;
    my $name = $block->name;
    my $value = sub { get_indexed_value($name, $_[0], $req_idx, $need_array) };

    # --- error_code / --- error_code_like (default: 200)
    my $code = ($res && $res->code) || '';
    if (defined $block->error_code_like) {
        my $re = $value->($block->error_code_like);
        Test::More::like($code, qr/$re/sm, "$name - status code ok");
    } else {
        my $expected = defined $block->error_code ? $value->($block->error_code) : 200;
        Test::More::is($code, $expected, "$name - status code ok");
    }

    # --- raw_response_headers_like / _unlike
    if (defined $block->raw_response_headers_like) {
        my $re = $value->($block->raw_response_headers_like);
        Test::More::like($raw_headers, qr/$re/s, "$name - raw resp headers like");
    }
    if (defined $block->raw_response_headers_unlike) {
        my $re = $value->($block->raw_response_headers_unlike);
        Test::More::unlike($raw_headers, qr/$re/s, "$name - raw resp headers unlike");
    }

    # --- response_headers ("Name: value", "!Name") or --- response_headers_like
    my $like = !defined $block->response_headers;
    if (defined(my $spec = $like ? $block->response_headers_like : $block->response_headers)) {
        my $headers = parse_headers($value->($spec));
        for my $key (sort keys %$headers) {
            my $val = $headers->{$key};
            my $actual = ($res ? $res->header($key) : undef) // '';
            if ($like) {
                $val //= '';
                Test::More::like($actual, qr/^$val$/, "$name - header $key like ok");
            } elsif (!defined $val) {
                Test::More::unlike($raw_headers, qr/^\s*\Q$key\E\s*:/ms,
                                   "$name - header $key not present in the raw headers");
            } else {
                $val =~ s/\$ServerPort\b/$ServerPort/g;
                $val =~ s/\$ServerPortForClient\b/$ServerPortForClient/g;
                Test::More::is($actual, $val, "$name - header $key ok");
            }
        }
    }

    transform_response_body($block, $res, $req_idx);

    # --- response_body or --- response_body_like / _unlike
    my $content = $res ? $res->content : undef;
    if (defined $content) {
        $content =~ s/^TE: deflate,gzip;q=0\.3\r\n//gms;
        $content =~ s/^Connection: TE, close\r\n//gms;
    }
    my $reqs = "(repeated req $repeated_req_idx, req $req_idx)";
    if (defined $block->response_body) {
        my $expected = $value->($block->response_body);
        if (ref $expected) {
            Test::More::like($content, $expected, "$name - response_body - like $reqs");
        } else {
            if (defined $expected) {
                $expected =~ s/\$ServerPort\b/$ServerPort/g;
                $expected =~ s/\$ServerPortForClient\b/$ServerPortForClient/g;
            }
            my $desc = "$name - response_body - response is expected $reqs";
            $NoLongString ? Test::More::is($content, $expected, $desc)
                          : Test::LongString::is_string($content, $expected, $desc);
        }
    } elsif (defined $block->response_body_like || defined $block->response_body_unlike) {
        my $type = defined $block->response_body_like ? 'like' : 'unlike';
        my $pat = $value->($type eq 'like' ? $block->response_body_like : $block->response_body_unlike);
        $pat =~ s/\$ServerPort\b/$ServerPort/g;
        $pat =~ s/\$ServerPortForClient\b/$ServerPortForClient/g;
        my $desc = "$name - response_body_$type - response is expected (" . (trim($content) // '') . ")";
        $type eq 'like' ? Test::More::like($content, qr/$pat/s, $desc)
                        : Test::More::unlike($content, qr/$pat/s, $desc);
    }

    $_->($block, $content, $req_idx, $repeated_req_idx, 0) for @ResponseBodyChecks;
}

# ----------------------------------------------------------- log checks

# the error log lines written since the last call (the whole log with
# check_accum_error_log)
sub error_log_data () {
    sleep $TestNginxSleep * 3;    # for the log phase, after the response
    open my $in, '<', $ErrLogFile or return [];
    seek $in, $ErrLogFilePos, 0 if !$CheckAccumErrLog && $ErrLogFilePos > 0;
    my @lines = <$in>;
    $ErrLogFilePos = tell($in) unless $CheckAccumErrLog;
    return \@lines;
}

sub access_log_data () {
    sleep $TestNginxSleep * 3;
    open my $in, '<', $AccLogFile or die "open $AccLogFile failed: $!";
    return [<$in>];
}

sub value_contains ($$) {
    my ($val, $pat) = @_;
    return $val =~ /\Q$pat\E/ if !ref $val || ref $val eq 'Regexp';
    return scalar grep { value_contains($_, $pat) } @$val if ref $val eq 'ARRAY';
    return undef;
}

# --- error_log / --- no_error_log (and the access_log variants): strings
# (one pattern per line), qr// or an array of them
sub check_log_patterns ($$$$$) {
    my ($block, $section, $file, $lines, $repeated_req_idx) = @_;
    my $name = $block->name;
    my $pats = $block->$section;
    if (!ref $pats)                { chomp $pats; $pats = [split /\n+/, $pats] }
    elsif (ref $pats eq 'Regexp')  { $pats = [$pats] }
    else                           { $pats = [@$pats] }
    my $match = sub { my ($line, $pat) = @_; ref $pat && $line =~ /$pat/ || $line =~ /\Q$pat\E/ };
    my $req = "(req $repeated_req_idx)";

    if ($section !~ /^no_/) {
        for my $line (@$lines) {
            for my $pat (@$pats) {
                next unless defined $pat && $match->($line, $pat);
                Test::More::pass("$name - pattern \"$pat\" matches a line in $file $req");
                undef $pat;
            }
        }
        Test::More::fail("$name - pattern \"$_\" should match a line in $file $req")
            for grep { defined } @$pats;
        return;
    }

    my %found;
    for my $i (0 .. $#$lines) {
        for my $pat (@$pats) {
            next unless $match->($lines->[$i], $pat);
            no_ending() if $found{$pat}++;
            my @more = @$lines[$i + 1 .. min($i + 10, @$lines - 1) - 1];
            Test::More::fail("$name - pattern \"" . fmt_str($pat) . "\" should not match any line in "
                . "$file but matches line \"" . fmt_str($lines->[$i]) . "\" $req\n" . join '', @more);
        }
    }
    Test::More::pass("$name - pattern \"" . fmt_str($_) . "\" does not match a line in $file $req")
        for grep { !$found{$_} } @$pats;
}

sub check_error_log ($$$$) {
    my ($block, $res, $repeated_req_idx, $need_array) = @_;
    my $name = $block->name;
    my $lines = error_log_data();

    # --- grep_error_log (string or qr//) + --- grep_error_log_out
    my $grep_pat = $block->grep_error_log;
    my $expected = $block->grep_error_log_out;
    bail_out("$name - No --- grep_error_log defined but --- grep_error_log_out is defined")
        if !defined $grep_pat && defined $expected;
    $grep_pat = $grep_pat->[$repeated_req_idx] if ref $grep_pat eq 'ARRAY';
    if (defined $grep_pat) {
        bail_out("$name - No --- grep_error_log_out defined but --- grep_error_log is defined")
            unless defined $expected;
        $expected = $expected->[$repeated_req_idx] if ref $expected eq 'ARRAY';
        my $matched = '';
        for my $line (@$lines) {
            if (ref $grep_pat && $line =~ /$grep_pat/ || $line =~ /\Q$grep_pat\E/) {
                $matched .= "$&\n" if $& !~ /\n/;
            }
        }
        my $desc = "$name - grep_error_log_out (req $repeated_req_idx)";
        if (ref $expected eq 'Regexp') { Test::More::like($matched, $expected, $desc) }
        elsif ($NoLongString)          { Test::More::is($matched, $expected, $desc) }
        else                           { Test::LongString::is_string($matched, $expected, $desc) }
    }

    my @warn_levels = qw(alert crit emerg);
    for my $section (qw(error_log no_error_log)) {
        next unless defined $block->$section;
        @warn_levels = grep { !value_contains($block->$section, "[$_") } @warn_levels;
        check_log_patterns($block, $section, 'error.log', $lines, $repeated_req_idx);
    }

    for my $line (@$lines) {
        for my $level (@warn_levels) {
            warn "WARNING: $name - " . fmt_str($line) . "\n" if $line =~ /\[$level\]/;
        }
        if ($line =~ /\bAssertion .*?failed\b/) {
            no_ending();
            chomp(my $l = $line);
            Test::More::fail("$name - $l\n");
        }
    }
}

sub check_access_log ($$) {
    my ($block, $repeated_req_idx) = @_;
    my $lines;
    for my $section (qw(access_log no_access_log)) {
        next unless defined $block->$section;
        check_log_patterns($block, $section, 'access.log', $lines ||= access_log_data(),
                           $repeated_req_idx);
    }
}

# ------------------------------------------------------------- one block

sub run_test_helper ($$) {
    my ($block, $repeated_req_idx) = @_;
    my $name = $block->name;

    my $req_list = get_req_from_block($block);
    my $timeout = parse_time($block->timeout) // timeout();
    my $pipelined = $block->pipelined_requests;
    my $need_array = $pipelined ? 1 : @$req_list > 1;
    my $req_idx = 0;
    my $res;

    for my $one_req (@$req_list) {
        my ($raw_resp, $head_req) =
            send_request($one_req, $block->raw_request_middle_delay, $timeout, $block);
        my $n = $pipelined ? @$pipelined : 0;    # responses left to parse

        while (1) {
            $raw_resp //= '';
            my ($raw_headers, $left);
            if (!defined $block->ignore_response) {
                if (defined $block->http09) {
                    ($res, $raw_headers) = (HTTP::Response->new(200, "OK", [], $raw_resp), '');
                } else {
                    ($res, $raw_headers, $left) = parse_response($name, $raw_resp, $head_req);
                }
            }

            if ($n) {
                ($raw_resp, $n) = ($left, $n - 1);
            } elsif ($left) {
                (my $l = $left) =~ s/([\0-\037\200-\377])/sprintf('\x{%02x}', ord $1)/eg;
                warn "WARNING: $name - unexpected extra bytes after last chunk in response: \"$l\"\n";
            }

            check_response($block, $res, $raw_headers, $req_idx, $repeated_req_idx, $need_array)
                unless defined $block->ignore_response;

            # log checks after every request but the last one too
            if ($n || $req_idx < @$req_list - 1) {
                sleep $block->wait if $block->wait;
                check_error_log($block, $res, $repeated_req_idx, $need_array);
                check_access_log($block, $repeated_req_idx) unless defined $block->ignore_response;
            }

            $req_idx++;
            last unless $n;
        }
    }

    sleep $block->wait if $block->wait;
    check_error_log($block, $res, $repeated_req_idx, $need_array);
    check_access_log($block, $repeated_req_idx) unless defined $block->ignore_response;
}

END {
    return if $InSubprocess;
    local $?;    # keep Test::Builder's exit status

    cleanup();

    if ($UseValgrind || !$ENV{TEST_NGINX_NO_CLEAN}) {
        if (defined $PidFile && -f $PidFile) {
            my $pid = get_pid_from_pidfile('END');
            if (is_running($pid)) { kill_process($pid, "END") } else { unlink $PidFile }
        }
    }
}

1;
