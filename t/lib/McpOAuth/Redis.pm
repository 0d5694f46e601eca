package McpOAuth::Redis;

# A real redis-server (Debian's) for the suites: started on 127.0.0.1 with
# its data in a temporary folder, stopped when the test file ends.
#
#   McpOAuth::Redis::start(port => $p, appendonly => 1);
#   McpOAuth::Redis::command('SET', 'k', 'v');   # one reply, decoded
#   McpOAuth::Redis::stop(); McpOAuth::Redis::start(...) again: same data

use strict;
use warnings;

use File::Temp ();
use IO::Socket::INET ();
use POSIX ();
use Time::HiRes ();

our ($Pid, $Owner, $Dir, $Port, @Args);

sub start {
    my (%o) = @_;
    $Port = $o{port} // $Port // die "McpOAuth::Redis::start: no port";
    $Dir //= File::Temp::tempdir('mcp-redis-XXXXXX', TMPDIR => 1,
                                 CLEANUP => 1);
    @Args = ('--port', $Port, '--bind', '127.0.0.1', '--dir', $Dir,
             '--save', '', '--appendonly', $o{appendonly} ? 'yes' : 'no',
             '--daemonize', 'no', '--logfile', "$Dir/redis.log",
             ($o{password} ? ('--requirepass', $o{password}) : ()),
             @{ $o{args} // [] })
        if %o || !@Args;

    if (IO::Socket::INET->new(PeerAddr => "127.0.0.1:$Port", Timeout => 1)) {
        die "redis: 127.0.0.1:$Port is taken "
            . "(set TEST_NGINX_REDIS_PORT to a free port)\n";
    }

    $Owner = $$;
    $Pid = fork // die "fork: $!";
    if ($Pid == 0) {
        open STDOUT, '>', '/dev/null';
        exec 'redis-server', @Args or POSIX::_exit(127);
    }

    for (1 .. 200) {
        return 1 if IO::Socket::INET->new(PeerAddr => "127.0.0.1:$Port",
                                          Timeout => 1);
        Time::HiRes::sleep(0.025);
    }

    die "redis-server did not start on 127.0.0.1:$Port (see $Dir/redis.log)\n";
}

sub stop {
    my ($signal) = @_;
    return unless $Pid;
    kill $signal // 'TERM', $Pid;
    waitpid $Pid, 0;
    undef $Pid;
}

sub running { return defined $Pid }

# one command, its reply: a string, an integer, undef (nil), an array ref,
# or "ERR ..." prefixed with "-"
# ($Password: AUTH first, on the same connection)
our $Password;

sub command {
    my (@args) = @_;
    my $s = IO::Socket::INET->new(PeerAddr => "127.0.0.1:$Port", Timeout => 5)
        or die "redis: cannot connect to 127.0.0.1:$Port: $!";
    my @cmds = ((defined $Password ? (['AUTH', $Password]) : ()), \@args);
    for my $c (@cmds) {
        my $out = '*' . scalar(@$c) . "\r\n";
        $out .= '$' . length($_) . "\r\n$_\r\n" for @$c;
        print $s $out;
    }
    my $reply;
    $reply = read_reply($s) for @cmds;
    close $s;
    return $reply;
}

sub read_reply {
    my ($s) = @_;
    my $line = <$s>;
    die "redis: no reply" unless defined $line;
    $line =~ s/\r\n\z//;
    my ($t, $v) = (substr($line, 0, 1), substr($line, 1));
    return $v if $t eq '+';
    return "-$v" if $t eq '-';
    return 0 + $v if $t eq ':';
    if ($t eq '$') {
        return undef if $v < 0;
        my $data = '';
        read($s, $data, $v + 2) == $v + 2 or die "redis: short bulk";
        return substr($data, 0, $v);
    }
    if ($t eq '*') {
        return undef if $v < 0;
        return [ map { read_reply($s) } 1 .. $v ];
    }
    die "redis: bad reply \"$line\"";
}

# only the process that started it (Test::Nginx forks too)
END { stop() if $Pid && $$ == $Owner }

1;
