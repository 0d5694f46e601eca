package McpOAuth::Server;

# The helper HTTP servers of the suites (an IdP, an echo upstream, an
# upstream of canned answers): a tiny HTTP/1.0 server on 127.0.0.1, forked
# by the test file when it loads, pure Perl and core modules only.
#
#   use McpOAuth::Server;
#   McpOAuth::Server::start(name => 'IdP', port_env => 'TEST_NGINX_IDP_PORT',
#                           default_port => 19850, handler => \&idp);
#
# The port is $ENV{PORT_ENV} (set to DEFAULT_PORT when empty, so a block's
# config can name it as $TEST_NGINX_..._PORT); a port that is taken stops
# the test file with a message naming the variable.  The server answers one
# connection at a time: it reads the request (head, then a Content-Length
# body or the raw bytes of a chunked one; 5 s per read), calls
#
#   HANDLER({ method, target, path, query, args => {name => value of the
#             query, not decoded}, headers => [[Name, value], ...] (in
#             order), header => {lower-case name => value (the last one)},
#             body })
#
# and writes what it returns, (STATUS, [Name => value, ...], BODY, %opts),
# then closes the connection:
#
#   HTTP/1.0 STATUS <reason>
#   the handler's headers, in order
#   Content-Length: <of BODY>       when BODY is a string
#   Connection: close
#
# BODY as an array ref is a stream written in those pieces, with
# "pause => SECONDS" between them, and no Content-Length unless the
# handler's headers give one.  A handler that returns nothing closes the
# connection without an answer.  State the handler keeps between requests
# lives in the server process only (the test process does not see it).
#
# The server ends with the test file: END sends it SIGTERM and reaps it, and
# should the test process die without END it exits by itself (the EOF of a
# pipe from the test process, its parent gone, or 900 s).
#
# Two handlers are ready-made: idp(...), an identity provider serving JWK
# Sets, and echo(NAMES), an upstream that reflects the request, with
# echoed(NAMES, BODY, ...), the text it answers (see below).

use strict;
use warnings;
use IO::Select ();
use IO::Socket::INET ();
use POSIX ();
use Time::HiRes ();

my %Lifeline;    # server pid => the write end of its pipe
my $Owner = $$;  # a forked copy of the test process stops no server

my %Reason = (200 => 'OK', 400 => 'Bad Request', 404 => 'Not Found',
              500 => 'Internal Server Error');

sub start {
    my (%o) = @_;
    my $name = $o{name} // 'server';
    my $env = $o{port_env} or die "$name: no port_env\n";
    my $port = $ENV{$env} ||= $o{default_port}
        or die "$name: no port (set $env)\n";
    my $listen = IO::Socket::INET->new(LocalAddr => '127.0.0.1',
                                       LocalPort => $port, Proto => 'tcp',
                                       Listen => 16, ReuseAddr => 1)
        or die "$name: cannot listen on 127.0.0.1:$port "
             . "(set $env to a free port): $@\n";
    pipe(my $r, my $w) or die "pipe: $!";
    my $parent = $$;
    my $pid = fork // die "fork: $!";
    if ($pid == 0) {
        close $w;
        close $_ for values %Lifeline;    # the other servers' pipes
        # not prove's pipe: it must see EOF when the test process exits
        open STDIN, '<', '/dev/null';
        open STDOUT, '>', '/dev/null';
        my $ok = eval { serve($listen, $r, $parent, $o{handler}); 1 };
        warn "$name: $@" unless $ok;
        POSIX::_exit(0);    # no END blocks, no TAP from this process
    }
    close $listen;
    close $r;
    # kept open for as long as this process lives (close-on-exec: nginx
    # does not inherit it)
    $Lifeline{$pid} = $w;
    return $pid;
}

sub stop {
    my ($pid) = @_;
    my $w = delete $Lifeline{$pid} or return;
    kill 'TERM', $pid;
    waitpid $pid, 0;
    close $w;
}

END {
    local $?;    # keep the test's exit status
    if ($$ == $Owner) {
        stop($_) for keys %Lifeline;
    }
}

sub serve {
    my ($listen, $lifeline, $parent, $handler) = @_;
    $SIG{PIPE} = 'IGNORE';
    alarm 900;    # stops by itself whatever happens to the test process
    my $sel = IO::Select->new($listen, $lifeline);
    while (1) {
        my @ready = $sel->can_read(1);
        return if getppid() != $parent;
        for my $fh (@ready) {
            return if $fh == $lifeline;    # EOF: the test process is gone
            my $c = $listen->accept or next;
            answer($c, $handler);
            close $c;
        }
    }
}

# one request on a fresh connection
sub answer {
    my ($c, $handler) = @_;
    my $req = read_request($c) or return;
    my ($status, $headers, $body, %o) = $handler->($req) or return;
    my @h = @{ $headers || [] };
    my $head = "HTTP/1.0 $status " . ($Reason{$status} // 'Unknown') . "\r\n";
    while (my ($name, $value) = splice @h, 0, 2) {
        $head .= "$name: $value\r\n";
    }
    $head .= "Content-Length: " . length($body) . "\r\n" unless ref $body;
    $head .= "Connection: close\r\n\r\n";
    return write_all($c, $head . $body) unless ref $body;
    write_all($c, $head) or return;
    for my $i (0 .. $#$body) {
        Time::HiRes::sleep($o{pause}) if $i && $o{pause};
        write_all($c, $body->[$i]) or return;
    }
}

sub read_request {
    my ($c) = @_;
    my $in = '';
    my $sel = IO::Select->new($c);
    my $more = sub {
        return 0 unless $sel->can_read(5);
        my $n = sysread($c, $in, 65536, length $in);
        return $n ? 1 : 0;
    };

    until ($in =~ /\r?\n\r?\n/) {
        return unless $more->();
    }
    $in =~ /\r?\n\r?\n/;
    my ($end, $start) = ($-[0], $+[0]);
    my ($line, @lines) = split /\r?\n/, substr($in, 0, $end);
    my ($method, $target) = split / /, $line;
    my ($path, $query) = split /\?/, $target // '', 2;
    my %r = (method => $method, target => $target, path => $path,
             query => $query, headers => [], header => {});
    $r{args} = { map { my ($k, $v) = split /=/, $_, 2; ($k => $v // '') }
                 split /&/, $query // '' };
    for (@lines) {
        next unless /^([^:]+):[ \t]*(.*)$/;
        push @{ $r{headers} }, [$1, $2];
        $r{header}{ lc $1 } = $2;
    }

    my $len = $r{header}{'content-length'};
    if (defined $len) {
        while (length($in) - $start < $len) {
            return unless $more->();
        }
        $r{body} = substr($in, $start, $len);

    } elsif (lc($r{header}{'transfer-encoding'} // '') eq 'chunked') {
        # the raw chunked bytes (nginx buffers bodies: not expected)
        until ($in =~ /\r\n0\r\n\r\n\z/) {
            return unless $more->();
        }
        $r{body} = substr($in, $start);

    } else {
        $r{body} = '';
    }
    return \%r;
}

sub write_all {
    my ($c, $out) = @_;
    while (length $out) {
        my $n = syswrite($c, $out);
        return 0 unless $n;    # the client went away (a proxy timeout)
        substr($out, 0, $n) = '';
    }
    return 1;
}

# ---------------------------------------------------------------------- IdP
#
# idp(docs => {MODE => [STATUS, CONTENT TYPE, BODY, DELAY], ...}, mode =>
# FIRST MODE) answers
#
#   GET /jwks                 the document of the current mode, after DELAY
#                             seconds if it has one (counted)
#   GET /admin/mode?m=MODE    sets the mode, resets the counter; "ok"
#   GET /admin/count          /jwks requests since the last reset
#   GET /admin/headers        header names of the last /jwks request
#                             (lower-case, one per line, in order; without
#                             Connection)
#   GET /admin/request        method and target of the last /jwks request
#   GET /admin/sleep?s=N      answers "ok" after N seconds (at most 20)
#
# A block's nginx proxies a location /admin/ to it, so the steps of a block
# drive the IdP with ordinary requests.

sub idp {
    my (%o) = @_;
    my $docs = $o{docs};
    my %st = (mode => $o{mode}, count => 0, headers => '', request => '');
    my $text = sub { ($_[0], ['Content-Type' => 'text/plain'], $_[1]) };
    my %admin = (
        count   => sub { $text->(200, $st{count}) },
        headers => sub { $text->(200, $st{headers}) },
        request => sub { $text->(200, $st{request}) },
        mode    => sub {
            my $m = $_[0]{args}{m};
            return $text->(400, "unknown mode\n") unless defined $m && $docs->{$m};
            @st{qw(mode count)} = ($m, 0);
            return $text->(200, "ok");
        },
        sleep   => sub {
            my $s = $_[0]{args}{s} // 1;
            sleep($s =~ /^\d+$/ && $s <= 20 ? $s : 1);
            return $text->(200, "ok");
        },
    );
    return sub {
        my ($r) = @_;
        if ($r->{path} eq '/jwks') {
            $st{count}++;
            # what the module decides, not what one nginx version sends: the
            # protocol version and "Connection" follow proxy_http_version
            # and keepalive (nginx.org releases changed their defaults)
            $st{request} = "$r->{method} $r->{target}\n";
            $st{headers} = join '', map { lc($_->[0]) ne 'connection'
                                          ? lc($_->[0]) . "\n" : () } @{ $r->{headers} };
            my ($status, $type, $body, $delay) = @{ $docs->{ $st{mode} } };
            sleep $delay if $delay;
            return ($status, ['Content-Type' => $type], $body);
        }
        my ($page) = $r->{path} =~ m{^/admin/(\w+)\z};
        return $admin{$page}->($r) if defined $page && $admin{$page};
        return $text->(404, "not found\n");
    };
}

# ------------------------------------------------------------ echo upstream
#
# echo(NAMES) answers every request with 200, text/plain:
#
#   <method> <target>
#   <name>: <as received>       for each of NAMES the request had, in the
#                               order of NAMES (lower-case names)
#   <empty line>
#   <the request body, exactly the bytes read>
#
# echoed([NAMES], BODY, name => value, ...) is that answer to a request of
# BODY; method (default POST) and path (default /mcp) are given like
# headers, and a POST has the content-length of BODY unless it is given.

sub echo {
    my (@names) = @_;
    return sub {
        my ($r) = @_;
        return (200, ['Content-Type' => 'text/plain'],
                reflection(\@names, "$r->{method} $r->{target}", $r->{header},
                           $r->{body}));
    };
}

sub echoed {
    my ($names, $body, %h) = @_;
    my $method = delete $h{method} // 'POST';
    my $path = delete $h{path} // '/mcp';
    $h{'content-length'} //= length $body if $method eq 'POST';
    return reflection($names, "$method $path", \%h, $body);
}

sub reflection {
    my ($names, $line, $header, $body) = @_;
    return "$line\n"
         . join('', map { "$_: $header->{$_}\n" } grep { defined $header->{$_} } @$names)
         . "\n$body";
}

1;
