package OA2FTest;
# Helpers for the end-to-end suite: tokens from the loopback provider
# (t/servers/provider.js), its request counters, and readers for what the
# CGI and the echo backend report. Every token the suite sends is recorded
# in t/logs/oa2f-tokens.txt so that the last test can check that none of
# them reached a log file.
use strict;
use warnings;

use Exporter 'import';
use JSON::PP ();
use LWP::UserAgent ();
use HTTP::Request::Common qw(POST GET);
use MIME::Base64 qw(encode_base64);
use URI::Escape qw(uri_escape);
use Time::HiRes ();
use Apache::Test ();
use Apache::TestRequest ();
use IO::Select ();
use IO::Socket::INET ();
use POSIX ();

our @EXPORT = qw(
    provider_url stub_url echo_url
    mint_token mint_token_for revoke_token fake_token record_token
    provider_count stub_count provider_mode
    json_of cgi_env echo_headers echo_header_values
    challenge_of timed bearer body_ok response_leaks
    extra_httpd_head stop_started prom_parse
);
# Private servers of a test (README "Tests"): import by name.
our @EXPORT_OK = qw(port_free wait_port start_redis start_memcached stop_child spawn);

my %SECRET = (
    'app-read'  => 'app-read-secret',
    'app-rw'    => 'app-rw-secret',
    'app-admin' => 'app-admin-secret',
    'app-short' => 'app-short-secret',
);
my %SCOPE = (
    'app-read'  => 'read',
    'app-rw'    => 'read write',
    'app-admin' => 'read write admin',
    'app-short' => 'read',
);

sub provider_port { $ENV{OA2F_PROVIDER_PORT} || 18530 }
sub stub_port     { $ENV{OA2F_STUB_PORT}     || 18531 }
sub echo_port     { $ENV{OA2F_ECHO_PORT}     || 18532 }

sub provider_url { 'http://127.0.0.1:' . provider_port() . ($_[0] // '') }
sub stub_url     { 'http://127.0.0.1:' . stub_port()     . ($_[0] // '') }
sub echo_url     { 'http://127.0.0.1:' . echo_port()     . ($_[0] // '') }

# A separate user agent for the loopback servers (Apache::TestRequest's
# one is bound to the httpd under test).
my $ua = LWP::UserAgent->new(timeout => 10, keep_alive => 0);
$ua->default_header(Accept => 'application/json');

my $json = JSON::PP->new->utf8->canonical->allow_nonref;

sub tokens_file {
    my $dir = Apache::Test::vars('t_logs');
    return "$dir/oa2f-tokens.txt";
}

# record_token(TOKEN, HOW): HOW is "header" (sent only in an Authorization
# header) or "query" (also sent in a URL, so httpd's own access log line
# "%r" may show it).
sub record_token {
    my ($token, $how) = @_;
    open my $fh, '>>', tokens_file() or die "cannot append to " . tokens_file() . ": $!";
    print $fh ($how // 'header'), "\t", $token, "\n";
    close $fh;
    return $token;
}

# RFC 6749 §2.3.1: form-encode id and secret before base64.
sub basic_auth {
    my ($id, $secret) = @_;
    my $enc = sub { my $s = uri_escape($_[0], '^A-Za-z0-9\-._~ '); $s =~ tr/ /+/; $s };
    return 'Basic ' . encode_base64($enc->($id) . ':' . $enc->($secret), '');
}

# mint_token(CLIENT [, SCOPE [, HOW]]): an opaque client_credentials token.
sub mint_token {
    my ($client, $scope, $how) = @_;
    $scope //= $SCOPE{$client};
    my $secret = $SECRET{$client} or die "unknown client $client";
    my $res = $ua->request(POST provider_url('/token'),
        Authorization => basic_auth($client, $secret),
        Content => [ grant_type => 'client_credentials',
                     (defined $scope && length $scope ? (scope => $scope) : ()) ]);
    die "mint_token($client): " . $res->status_line . ' ' . $res->decoded_content
        unless $res->is_success;
    my $token = $json->decode($res->decoded_content)->{access_token}
        or die "mint_token($client): no access_token";
    return record_token($token, $how);
}

# mint_token_for(CLIENT, RESOURCE [, SCOPE]): a token for another resource
# server (RFC 8707 `resource`), e.g. urn:oa2f:other-api; mint_token's
# tokens are for the default, urn:oa2f:test-api.
sub mint_token_for {
    my ($client, $resource, $scope) = @_;
    $scope //= $SCOPE{$client};
    my $secret = $SECRET{$client} or die "unknown client $client";
    my $res = $ua->request(POST provider_url('/token'),
        Authorization => basic_auth($client, $secret),
        Content => [ grant_type => 'client_credentials', resource => $resource,
                     (defined $scope && length $scope ? (scope => $scope) : ()) ]);
    die "mint_token_for($client, $resource): " . $res->status_line . ' '
        . $res->decoded_content unless $res->is_success;
    my $token = $json->decode($res->decoded_content)->{access_token}
        or die "mint_token_for($client): no access_token";
    return record_token($token);
}

# revoke_token(CLIENT, TOKEN): RFC 7009 revocation by the owning client.
sub revoke_token {
    my ($client, $token) = @_;
    my $res = $ua->request(POST provider_url('/token/revocation'),
        Authorization => basic_auth($client, $SECRET{$client}),
        Content => [ token => $token, token_type_hint => 'access_token' ]);
    die "revoke_token: " . $res->status_line unless $res->is_success;
    return 1;
}

# extra_httpd_head(ROOT, PORT, MODULES): the first lines of the
# httpd.conf of an extra httpd a test starts next to the Apache::Test
# server (t/11_fleet.t, t/13_trust_cache.t): loopback only, mpm_event, the
# auth modules; the caller adds its socache, our module and locations.
sub extra_httpd_head {
    my ($root, $port, $modules) = @_;
    return <<"CONF";
ServerRoot "$root"
ServerName 127.0.0.1
Listen 127.0.0.1:$port
PidFile "$root/httpd.pid"
ErrorLog "$root/logs/error_log"
LogLevel warn oauth2_federated:info
DocumentRoot "$root/htdocs"
User www-data
Group www-data
LoadModule mpm_event_module $modules/mod_mpm_event.so
LoadModule authn_core_module $modules/mod_authn_core.so
LoadModule authz_core_module $modules/mod_authz_core.so
LoadModule authz_user_module $modules/mod_authz_user.so
CONF
}

# A syntactically valid token the provider never issued.
sub fake_token {
    my ($len, $how) = @_;
    $len ||= 43;
    my @c = ('A' .. 'Z', 'a' .. 'z', '0' .. '9', '-', '_');
    my $t = 'fake' . join '', map { $c[rand @c] } 1 .. $len - 4;
    return record_token($t, $how);
}

sub stats_of {
    my ($url) = @_;
    my $res = $ua->request(GET $url);
    die "GET $url: " . $res->status_line unless $res->is_success;
    return $json->decode($res->decoded_content);
}

# Requests the provider (or stub) has answered on PATH so far.
sub provider_count {
    my ($path) = @_;
    $path //= '/token/introspection';
    return stats_of(provider_url('/__stats'))->{requests}{$path} // 0;
}

sub stub_count {
    my ($path) = @_;
    return stats_of(stub_url('/__stats'))->{requests}{$path} // 0;
}

# provider_mode('ok'|'fail500'|'hang'|'down') switches /token/introspection.
sub provider_mode {
    my ($mode) = @_;
    my $res = $ua->request(GET provider_url("/__mode?introspection=$mode"));
    die "provider_mode($mode): " . $res->status_line unless $res->is_success;
}

sub json_of {
    my ($res) = @_;
    my $data = eval { $json->decode($res->content) };
    return $data;
}

# The environment env.cgi printed, as a hash ref ({} when not JSON).
sub cgi_env {
    my ($res) = @_;
    my $d = json_of($res);
    return ref $d eq 'HASH' ? $d : {};
}

# The raw request headers echo.js saw: a list of [name, value].
sub echo_headers {
    my ($res) = @_;
    my $d = json_of($res);
    return ref $d eq 'HASH' && ref $d->{headers} eq 'ARRAY' ? @{ $d->{headers} } : ();
}

# Values of the header NAME (case-insensitive) that echo.js saw.
sub echo_header_values {
    my ($res, $name) = @_;
    return map { $_->[1] } grep { lc $_->[0] eq lc $name } echo_headers($res);
}

# Parse "Bearer realm=\"x\", error=\"y\"" into { scheme => 'Bearer', realm => 'x', ... }.
sub challenge_of {
    my ($res) = @_;
    my $h = $res->header('WWW-Authenticate');
    return undef unless defined $h;
    my %c;
    ($c{scheme}, my $rest) = $h =~ /^\s*(\S+)\s*(.*)$/s;
    $rest //= '';
    while ($rest =~ /\G\s*,?\s*([A-Za-z0-9_-]+)\s*=\s*(?:"((?:[^"\\]|\\.)*)"|([^\s,]*))/gc) {
        my ($k, $v) = (lc $1, defined $2 ? $2 : $3);
        $v =~ s/\\(.)/$1/g;
        $c{$k} = $v;
    }
    return \%c;
}

# Request headers for a bearer token.
sub bearer { return (Authorization => "Bearer $_[0]") }

# An error body: one line of plain UTF-8 text (README "Requests and
# answers") that does not contain any of TOKENS.
sub body_ok {
    my ($res, @tokens) = @_;
    my $body = $res->content // '';
    return 0 if $res->code >= 400
        && ($res->header('Content-Type') // '') ne 'text/plain; charset=utf-8';
    (my $trimmed = $body) =~ s/\r?\n\z//;
    return 0 if $trimmed =~ /[\r\n]/;
    return 0 if !length $trimmed;
    for my $t (grep { defined && length } @tokens) {
        return 0 if index($body, $t) >= 0;
    }
    return 1;
}

# Response headers that carry something from the provider's answer:
# an X-AGW-*-like name, or a value containing one of VALUES.
sub response_leaks {
    my ($res, @values) = @_;
    my @bad;
    $res->headers->scan(sub {
        my ($name, $value) = @_;
        push @bad, "$name: $value" if $name =~ /^x[-_]agw|^x-tok-|^x-injected/i
            || grep { index($value, $_) >= 0 } @values;
    });
    return @bad;
}

# timed(CODE): (result, seconds).
sub timed {
    my ($code) = @_;
    my $t0 = Time::HiRes::time();
    my $r = $code->();
    return ($r, Time::HiRes::time() - $t0);
}

# ---- private servers -------------------------------------------------------
# A test that needs a redis-server or memcached starts its own, in the
# foreground as its child (so its pid is known and it can always be
# stopped), on a port it first checks is free, and uses it only once the
# server that answers there reports that pid. stop_started() in END stops
# it, also when the test dies; INT/TERM/HUP exit so that END runs.

# port_free(PORT [, VAR]): dies, naming VAR (the environment variable of
# the port range), when something already listens on 127.0.0.1:PORT.
sub port_free {
    my ($port, $var) = @_;
    my $s = IO::Socket::INET->new(PeerAddr => "127.0.0.1:$port", Timeout => 1);
    return 1 unless $s;
    close $s;
    die "port $port is already in use: something else listens on 127.0.0.1:$port"
        . ($var ? " (set $var to a free range)" : '') . "\n";
}

# wait_port(PORT [, TRIES]): true once 127.0.0.1:PORT accepts (0.1 s per try).
sub wait_port {
    my ($port, $tries) = @_;
    for (1 .. ($tries || 100)) {
        my $s = IO::Socket::INET->new(PeerAddr => "127.0.0.1:$port", Timeout => 1);
        if ($s) { close $s; return 1 }
        Time::HiRes::sleep(0.1);
    }
    return 0;
}

sub exit_on_signals {
    for my $sig (qw(INT TERM HUP)) {
        $SIG{$sig} = sub { exit 1 } unless ref $SIG{$sig};
    }
}

# spawn(LOG, COMMAND...): COMMAND as a child in the foreground, its output
# appended to LOG.
sub spawn {
    my ($log, @cmd) = @_;
    exit_on_signals();
    my $pid = fork // die "fork: $!";
    if (!$pid) {
        open STDIN, '<', '/dev/null';
        open STDOUT, '>>', $log or POSIX::_exit(126);
        open STDERR, '>&', \*STDOUT;
        exec { $cmd[0] } @cmd or POSIX::_exit(127);
    }
    return $pid;
}

# stop_child(PID): TERM, reaped within 5 s, else KILL.
sub stop_child {
    my ($pid) = @_;
    return unless $pid && kill 0, $pid;
    kill 'TERM', $pid;
    for (1 .. 50) {
        return if waitpid($pid, POSIX::WNOHANG()) != 0;
        Time::HiRes::sleep(0.1);
    }
    kill 'KILL', $pid;
    waitpid $pid, 0;
}

# One request on a fresh connection to 127.0.0.1:PORT; the answer once
# DONE(answer so far) is true, undef after 3 s or on a closed connection.
sub ask_tcp {
    my ($port, $request, $done) = @_;
    my $s = IO::Socket::INET->new(PeerAddr => "127.0.0.1:$port", Timeout => 1) or return undef;
    binmode $s;
    syswrite $s, $request;
    my ($buf, $sel) = ('', IO::Select->new($s));
    my $deadline = Time::HiRes::time() + 3;
    while (!$done->($buf)) {
        my $left = $deadline - Time::HiRes::time();
        return undef if $left <= 0 || !$sel->can_read($left);
        my $n = sysread $s, $buf, 65536, length $buf;
        return undef unless $n;
    }
    close $s;
    return $buf;
}

# The pid the redis-server on PORT reports (INFO server), or undef.
sub redis_pid {
    my ($port) = @_;
    my $a = ask_tcp($port, "INFO server\r\n", sub {
        $_[0] =~ /^\$(\d+)\r\n/ && length($_[0]) >= length("\$$1\r\n") + $1 + 2
            || $_[0] =~ /^-/ && $_[0] =~ /\r\n/;
    }) // return undef;
    return $a =~ /^process_id:(\d+)\r?$/m ? $1 : undef;
}

# The pid the memcached on PORT reports (stats), or undef.
sub memcached_pid {
    my ($port) = @_;
    my $a = ask_tcp($port, "stats\r\n", sub { $_[0] =~ /^(END|ERROR)\r\n/m })
        // return undef;
    return $a =~ /^STAT pid (\d+)\r?$/m ? $1 : undef;
}

sub log_tail {
    my ($log) = @_;
    open my $fh, '<', $log or return '(no log)';
    my @l = <$fh>;
    return join '', @l[ ($#l > 9 ? $#l - 9 : 0) .. $#l ];
}

# Waits until the server on PORT reports PID; dies (stopping PID) when
# the child exits, when another process answers there, or after 10 s.
sub wait_own {
    my ($what, $pid, $port, $log, $pid_of) = @_;
    for (1 .. 100) {
        if (waitpid($pid, POSIX::WNOHANG()) == $pid) {
            die "$what on 127.0.0.1:$port exited at once (status $?): " . log_tail($log);
        }
        my $got = $pid_of->($port);
        if (defined $got) {
            return 1 if $got == $pid;
            stop_child($pid);
            die "$what on 127.0.0.1:$port: the server answering there is pid $got, "
                . "not the one this test started ($pid)\n";
        }
        Time::HiRes::sleep(0.1);
    }
    stop_child($pid);
    die "$what on 127.0.0.1:$port did not answer within 10 s: " . log_tail($log);
}

# start_redis(DIR, PORT [, VAR [, BINARY]]): a private redis-server on
# 127.0.0.1:PORT (no persistence, log in DIR); returns its pid once its
# INFO says that pid. Push ['pid', PID] on the list for stop_started.
sub start_redis {
    my ($dir, $port, $var, $bin) = @_;
    port_free($port, $var);
    my $log = "$dir/redis-$port.log";
    my $pid = spawn($log, $bin || '/usr/bin/redis-server', '--port', $port,
                    '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no',
                    '--daemonize', 'no', '--dir', $dir);
    wait_own('redis-server', $pid, $port, $log, \&redis_pid);
    return $pid;
}

# start_memcached(DIR, PORT [, VAR [, BINARY]]): a private memcached on
# 127.0.0.1:PORT (TCP only, 16 MB; as root it runs as nobody, still in the
# foreground); returns its pid once its stats say that pid.
sub start_memcached {
    my ($dir, $port, $var, $bin) = @_;
    port_free($port, $var);
    my $log = "$dir/mc-$port.log";
    my $pid = spawn($log, $bin || '/usr/bin/memcached', '-l', '127.0.0.1', '-p', $port,
                    '-U', '0', '-m', '16', ($> == 0 ? ('-u', 'nobody') : ()));
    wait_own('memcached', $pid, $port, $log, \&memcached_pid);
    return $pid;
}

# prom_parse(TEXT): the samples of a Prometheus text page (README
# "Status page") as { 'name{labels}' => value } ('name' without labels),
# and the # TYPE of each family as { name => type }.
sub prom_parse {
    my ($text) = @_;
    my (%v, %type);
    for my $line (split /\n/, $text // '') {
        if ($line =~ /^# TYPE (\S+) (\S+)$/) {
            $type{$1} = $2;
            next;
        }
        next if $line =~ /^#/ || $line eq '';
        my ($series, $value) = $line =~ /^([a-zA-Z_:][a-zA-Z0-9_:]*(?:\{.*\})?) (\S+)$/
            or next;
        $v{$series} = $value;
    }
    return (\%v, \%type);
}

# Stop what a test started, last first: ['pid', PID] (a child of the
# test: stop_child) or [KIND, PIDFILE] (a daemon such as httpd -k start:
# TERM to the pid the file names, KILL if it is still there after 10 s).
sub stop_started {
    for my $s (reverse @_) {
        my ($kind, $what) = @$s;
        if ($kind eq 'pid') {
            stop_child($what);
            next;
        }
        next unless -f $what;
        open my $fh, '<', $what or next;
        chomp(my $pid = <$fh> // '');
        close $fh;
        next unless $pid =~ /^\d+$/ && kill 'TERM', $pid;
        my $n = 0;
        Time::HiRes::sleep(0.1) while kill(0, $pid) && $n++ < 100;
        kill 'KILL', $pid if kill 0, $pid;
    }
}

1;
