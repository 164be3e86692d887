# The circuit breaker (README "Outages", OAuth2FederatedCircuitBreaker),
# counted on the provider side: an extra httpd (the MPM of OA2F_MPM, with
# several children) asks a provider.js of its own through the fault relay
# t/servers/faultproxy.js, which counts every call per endpoint. The
# provider is stopped and restarted mid-test: the circuit opens after
# FAILURES failures; while open nothing is called; after the cool-down
# exactly one probe across all children; a failed probe doubles the
# cool-down; a successful one closes the circuit. A 429 / 503 with
# Retry-After opens it for that long; 503 under rfc6750 carries
# Retry-After; Off calls every time; the status page and one log line per
# opening and closing. Locations: t/conf/breaker.conf.in.
#
# Ports: OA2F_BREAKER_PORT_BASE (18600): provider +0, relay +1, its
# control +2, httpd +3, each checked free before use.
use strict;
use warnings FATAL => 'all';

use Apache::Test qw(-withtestmore);
use Apache::TestConfig ();
use FindBin;
use lib "$FindBin::Bin/lib";
use OA2FTest;
use OA2FTest qw(port_free);
use LWP::UserAgent ();
use HTTP::Request::Common qw(POST);
use MIME::Base64 qw(encode_base64);
use IO::Socket::INET ();
use File::Temp qw(tempdir);
use JSON::PP ();
use Time::HiRes qw(sleep time);
use POSIX ();

plan tests => 71, need_module('authz_core');
Test::More->builder->failure_output(\*STDERR);

my $cfg = Apache::Test::config();
my $httpd = $cfg->{vars}{httpd};
my $modules = $cfg->{vars}{libexecdir} || '/usr/lib/apache2/modules';
my $module = $ENV{OA2F_MODULE} || "$FindBin::Bin/../.libs/mod_oauth2_federated.so";
my $mpm = $ENV{OA2F_MPM} || 'event';
my $BASE = $ENV{OA2F_BREAKER_PORT_BASE} || 18600;
my ($PPORT, $RPORT, $CPORT, $HPORT) = ($BASE, $BASE + 1, $BASE + 2, $BASE + 3);
$ENV{OA2F_BREAKER_RELAY} = "http://127.0.0.1:$RPORT";
my $dir = tempdir('oa2f-breaker-XXXXXX', TMPDIR => 1, CLEANUP => 1);
chmod 0755, $dir;
my $json = JSON::PP->new->utf8->canonical;
my $ua = LWP::UserAgent->new(timeout => 15, keep_alive => 0);
my @started;    # [kind, pid or pidfile]
my $root = "$dir/httpd";

sub wait_port {
    my ($port, $tries) = @_;
    for (1 .. ($tries || 150)) {
        return 1 if IO::Socket::INET->new(PeerAddr => "127.0.0.1:$port", Timeout => 1);
        sleep 0.1;
    }
    return 0;
}

# A node server of t/servers as our child, gone with us.
sub start_node {
    my ($script, %env) = @_;
    my $pid = fork // die "fork: $!";
    if (!$pid) {
        $ENV{$_} = $env{$_} for keys %env;
        $ENV{OA2F_PARENT_PID} = getppid();
        $ENV{OA2F_SERVER_LIFETIME} = 300;
        open STDIN, '<', '/dev/null';
        open STDOUT, '>>', "$dir/$script.log";
        open STDERR, '>&', \*STDOUT;
        exec('node', "$FindBin::Bin/servers/$script") or POSIX::_exit(127);
    }
    push @started, [ 'pid', $pid ];
    return $pid;
}

my $provider_pid;
sub start_provider {
    port_free($PPORT, 'OA2F_BREAKER_PORT_BASE');
    $provider_pid = start_node('provider.js', OA2F_PROVIDER_PORT => $PPORT);
    # ready when it answers
    for (1 .. 200) {
        my $res = $ua->get("http://127.0.0.1:$PPORT/__stats");
        return 1 if $res->is_success;
        sleep 0.1;
    }
    die "provider.js on $PPORT did not come up";
}
sub stop_provider {
    kill 'TERM', $provider_pid;
    waitpid $provider_pid, 0;
    @started = grep { $_->[1] ne $provider_pid } @started;
    for (1 .. 50) {
        last unless IO::Socket::INET->new(PeerAddr => "127.0.0.1:$PPORT", Timeout => 1);
        sleep 0.1;
    }
}

# A token of our provider (app-rw); recorded for t/99_log_hygiene.t.
sub mint {
    my $res = $ua->request(POST "http://127.0.0.1:$PPORT/token",
        Authorization => 'Basic ' . encode_base64('app-rw:app-rw-secret', ''),
        Accept => 'application/json',
        Content => [ grant_type => 'client_credentials', scope => 'read write' ]);
    die 'mint: ' . $res->status_line unless $res->is_success;
    return record_token($json->decode($res->decoded_content)->{access_token});
}

# The relay: set NAME's mode, read the counts.
sub relay {
    my ($query) = @_;
    my $res = $ua->get("http://127.0.0.1:$CPORT/?" . ($query // ''));
    die 'relay: ' . $res->status_line unless $res->is_success;
    return $json->decode($res->decoded_content);
}
sub calls { return relay()->{counts}{ $_[0] } // 0 }
sub mode { relay("name=$_[0]&mode=$_[1]" . (defined $_[2] ? "&after=$_[2]" : '')) }

sub get {
    my ($path, $token) = @_;
    return $ua->get("http://127.0.0.1:$HPORT$path", Authorization => "Bearer $token");
}
sub code { return get(@_)->code }

# N requests at once, each with a token of its own (single-flight would
# coalesce one token): their statuses.
sub burst {
    my ($path, @tokens) = @_;
    my @kids;
    for my $t (@tokens) {
        pipe(my $r, my $w) or die "pipe: $!";
        my $pid = fork // die "fork: $!";
        if (!$pid) {
            close $r;
            my $u = LWP::UserAgent->new(timeout => 15, keep_alive => 0);
            my $res = $u->get("http://127.0.0.1:$HPORT$path", Authorization => "Bearer $t");
            print $w $res->code;
            close $w;
            POSIX::_exit(0);
        }
        close $w;
        push @kids, [ $pid, $r ];
    }
    my @codes;
    for my $k (@kids) {
        my $fh = $k->[1];
        local $/;
        push @codes, scalar(<$fh>) // 0;
        waitpid $k->[0], 0;
    }
    return @codes;
}
sub fakes { return map { fake_token() } 1 .. $_[0] }

sub status_json {
    my $res = $ua->get("http://127.0.0.1:$HPORT/brk-status?json");
    die 'status: ' . $res->status_line unless $res->is_success;
    return $json->decode($res->decoded_content);
}
sub circuit {
    my ($name) = @_;
    my ($c) = grep { $_->{url} =~ m{/c/\Q$name\E/token/introspection$} }
              @{ status_json()->{breakers} || [] };
    return $c || {};
}
sub log_lines {
    my ($re) = @_;
    open my $fh, '<', "$root/logs/error_log" or return ();
    return grep { /$re/ } <$fh>;
}

END { local $?; stop_started(@started) }

# ---- the servers -------------------------------------------------------------
start_provider();
port_free($_, 'OA2F_BREAKER_PORT_BASE') for $RPORT, $CPORT, $HPORT;
start_node('faultproxy.js', OA2F_FAULT_PORT => $RPORT, OA2F_FAULT_CTL_PORT => $CPORT,
           OA2F_FAULT_UPSTREAM => $PPORT);
wait_port($CPORT) && wait_port($RPORT) or die 'faultproxy.js did not come up';

mkdir $root; mkdir "$root/logs"; mkdir "$root/htdocs";
system('chmod', '-R', 'a+rX', $root);
my $head = extra_httpd_head($root, $HPORT, $modules);
$head =~ s/mpm_event_module (\S+)mod_mpm_event\.so/mpm_${mpm}_module $1mod_mpm_$mpm.so/
    or die 'extra_httpd_head: no mpm line';
my $mpm_conf = $mpm eq 'prefork'
    ? "StartServers 4\nMinSpareServers 4\nMaxSpareServers 8\nServerLimit 16\nMaxRequestWorkers 16\n"
    : "StartServers 3\nServerLimit 4\nThreadsPerChild 8\nMaxRequestWorkers 32\n"
      . "MinSpareThreads 8\nMaxSpareThreads 32\n";
my $breaker_conf = "$FindBin::Bin/conf/breaker.conf";
-f $breaker_conf or die "$breaker_conf missing (generated from breaker.conf.in by t/TEST)";
open my $fh, '>', "$root/httpd.conf" or die;
print $fh $head, $mpm_conf, <<"CONF";
LoadModule alias_module $modules/mod_alias.so
<IfModule !log_config_module>
    LoadModule log_config_module $modules/mod_log_config.so
</IfModule>
LoadModule socache_shmcb_module $modules/mod_socache_shmcb.so
LoadModule oauth2_federated_module $module
CustomLog "$root/logs/access_log" "%P %>s %U"
Include "$breaker_conf"
CONF
close $fh;
system($httpd, '-f', "$root/httpd.conf", '-k', 'start') == 0
    or die 'httpd did not start: ' . `cat $root/logs/error_log`;
wait_port($HPORT) or die 'httpd not listening';
push @started, [ 'httpd', "$root/httpd.pid" ];

# ---- closed: a working provider is called ----------------------------------
my $t1 = mint();
is(code('/brk/main', $t1), 200, 'closed: a valid token passes');
is(calls('main'), 1, 'closed: the provider was called');

# ---- the provider stops: FAILURES 3 consecutive failures open it -----------
stop_provider();
{
    my @c = map { code('/brk/main', $_) } fakes(3);
    is("@c", '401 401 401', 'provider down: three failed calls answered 401');
    is(calls('main'), 4, 'provider down: each of the three was a call');
}
my $opened_at = time;
is(scalar(log_lines(qr/OA2F10500:.*\/c\/main\//)), 1, 'one warning line when it opened');
# README "Logging" (issue 17): it names the endpoint and the location
ok(scalar(log_lines(qr{\[oauth2_federated:warn\].*OA2F10500: circuit breaker of \Q$ENV{OA2F_BREAKER_RELAY}\E/c/main/token/introspection opened after 3 consecutive failed calls \(last: [a-z_]+, HTTP \d+, location /brk/main\)})),
   '... naming the endpoint and the location')
    or diag(log_lines(qr/OA2F10500:/));
{
    my @c = burst('/brk/main', fakes(8));
    is("@c", join(' ', ('401') x 8), 'open: 8 concurrent requests answered 401 at once');
    is(calls('main'), 4, 'open: the provider side saw no call');
    my $res = get('/brk/main', fake_token());
    my $ch = challenge_of($res) || {};
    is($res->code, 401, 'open, gateway profile: 401');
    is($ch->{realm}, 'breaker', 'open, gateway profile: a Bearer challenge');
    ok(!exists $ch->{error}, 'open, gateway profile: the challenge has no error, as unreachable');
    ok(!defined $res->header('Retry-After'), 'open, gateway profile: no Retry-After on a 401');
    my $c = circuit('main');
    is($c->{state}, 'open', 'status page: state open');
    is($c->{failures}, 3, 'status page: 3 consecutive failures');
    ok(($c->{next_probe_seconds} // 0) >= 1 && $c->{next_probe_seconds} <= 2,
       "status page: next probe in 1..2 s ($c->{next_probe_seconds})");
    is($c->{opened}, 1, 'status page: opened once');
    is(calls('main'), 4, 'the status page makes no call');
    # the setting is per location, the state per endpoint
    is(code('/brk/main-off', fake_token()), 401, 'Off on the same endpoint: answered');
    is(calls('main'), 5, 'Off on the same endpoint: called while the circuit is open');
}

# ---- half-open: one probe across all children, it fails: twice as long -----
sleep(2.3 - (time - $opened_at)) if time - $opened_at < 2.3;
{
    my @c = burst('/brk/main', fakes(8));
    is("@c", join(' ', ('401') x 8), 'after the cool-down: 8 concurrent requests answered');
    is(calls('main'), 6, 'after the cool-down: exactly one probe call, not one per child');
}
my $reopened_at = time;
{
    my $c = circuit('main');
    is($c->{state}, 'open', 'the failed probe opened it again');
    ok(($c->{next_probe_seconds} // 0) >= 3 && $c->{next_probe_seconds} <= 4,
       "for twice as long: next probe in 3..4 s ($c->{next_probe_seconds})");
    is($c->{opened}, 2, 'status page: opened twice');
    is(scalar(log_lines(qr/OA2F10500:.*\/c\/main\//)), 2, 'one more warning line when it opened again');
}
sleep 2.5;
is(code('/brk/main', fake_token()), 401, '2.5 s later: still refused');
is(calls('main'), 6, '2.5 s later (more than SECONDS): no call, the cool-down doubled');

# ---- the provider is back: the probe succeeds and closes it -----------------
start_provider();
my $t2 = mint();
sleep(4.3 - (time - $reopened_at)) if time - $reopened_at < 4.3;
is(code('/brk/main', $t2), 200, 'provider back: a token minted after the restart validates: 200');
is(calls('main'), 7, 'provider back: one probe call');
{
    my $c = circuit('main');
    is($c->{state}, 'closed', 'the probe closed it');
    is($c->{failures}, 0, 'closed: no consecutive failures');
    is($c->{next_probe_seconds}, 0, 'closed: next_probe_seconds 0');
    is(scalar(log_lines(qr/OA2F10501:.*\/c\/main\//)), 1, 'one notice line when it closed');
    my @c = burst('/brk/main', fakes(6));
    is("@c", join(' ', ('401') x 6), 'closed: unknown tokens are 401 (inactive)');
    is(calls('main'), 13, 'closed: every request calls again');
}

# ---- 429 with Retry-After: open at once, for that long ---------------------
mode('ra', '429', 3);
{
    is(code('/brk/ra', fake_token()), 500, '429 from the provider: unusable (500)');
    my $at = time;
    is(calls('ra'), 1, '429: one call');
    is(code('/brk/ra', fake_token()), 401, '429 + Retry-After: 3 opened it at once (FAILURES 5)');
    my $c = circuit('ra');
    ok(($c->{next_probe_seconds} // 0) >= 2 && $c->{next_probe_seconds} <= 3,
       "429: next probe in 2..3 s ($c->{next_probe_seconds})");
    mode('ra', 'pass');
    sleep 1.6;
    is(code('/brk/ra', fake_token()), 401, '1.6 s later (more than SECONDS 1): still open');
    is(calls('ra'), 1, '429: no call for longer than SECONDS');
    sleep(3.3 - (time - $at)) if time - $at < 3.3;
    is(code('/brk/ra', fake_token()), 401, 'after Retry-After: the probe is answered (inactive)');
    is(calls('ra'), 2, 'after Retry-After: one probe call');
    is(circuit('ra')->{state}, 'closed', 'the answered probe closed it');
}

# ---- 503 with an HTTP-date Retry-After ---------------------------------------
mode('date', '503', 'date:4');
{
    is(code('/brk/date', fake_token()), 500, '503 from the provider: unusable (500)');
    is(code('/brk/date', fake_token()), 401, '503 + Retry-After (HTTP-date): open at once');
    is(calls('date'), 1, 'HTTP-date: one call');
    my $c = circuit('date');
    ok(($c->{next_probe_seconds} // 0) >= 2 && $c->{next_probe_seconds} <= 4,
       "HTTP-date: next probe in 2..4 s ($c->{next_probe_seconds})");
}

# ---- rfc6750: every 503 carries Retry-After -----------------------------------
mode('rfc', 'drop');
{
    my $r1 = get('/brk/rfc', fake_token());
    is($r1->code, 503, 'rfc6750, unreachable: 503');
    is($r1->header('Retry-After'), '1', 'rfc6750, unreachable, circuit closed: Retry-After: 1');
    my $r2 = get('/brk/rfc', fake_token());
    is($r2->code, 503, 'rfc6750, the second failure (FAILURES 2) opens it: 503');
    like($r2->header('Retry-After') // '', qr/^[34]$/, 'rfc6750, the failure that opened it: Retry-After 3..4');
    my $r3 = get('/brk/rfc', fake_token());
    is($r3->code, 503, 'rfc6750, circuit open: 503');
    like($r3->header('Retry-After') // '', qr/^[34]$/, 'rfc6750, circuit open: Retry-After = seconds until the probe (3..4)');
    is(calls('rfc'), 2, 'rfc6750: no call while open');
}

# ---- Off: every request calls -------------------------------------------------
mode('off', 'drop');
{
    my @c = map { code('/brk/off', $_) } fakes(8);
    is("@c", join(' ', ('401') x 8), 'Off: every failure answered 401');
    is(calls('off'), 8, 'Off: every request called the provider');
    is(circuit('off')->{url} // '', '', 'Off: no circuit on the status page');
}

# ---- the default: 5 10 --------------------------------------------------------
mode('default', '500');
{
    my @c = map { code('/brk/default', $_) } fakes(5);
    is("@c", '500 500 500 500 500', 'default 5 10: five 500s');
    is(code('/brk/default', fake_token()), 401, 'default: the sixth request is refused');
    is(calls('default'), 5, 'default: opened after 5 failures');
    my $c = circuit('default');
    ok(($c->{next_probe_seconds} // 0) >= 9, "default: open for 10 s ($c->{next_probe_seconds})");
}

# ---- the status page in text, the logs, the children ---------------------------
{
    my $res = $ua->get("http://127.0.0.1:$HPORT/brk-status");
    my %line = $res->content =~ /^(breaker_\S+): (.*)$/mg;
    my ($n) = grep { ($line{$_} // '') =~ m{/c/main/token/introspection$} } keys %line;
    (my $p = $n // '') =~ s/_url$//;
    ok($n, 'text status page: the main endpoint is listed') or diag($res->content);
    is($line{"${p}_state"}, 'closed', 'text status page: its state');
    ok(defined $line{"${p}_failures"} && defined $line{"${p}_next_probe_seconds"}
       && $line{"${p}_opened"} eq '2', 'text status page: failures, next_probe_seconds, opened');
    unlike($res->content, qr/rs-other-secret/, 'the status page shows no credentials');
}
is(scalar(log_lines(qr/OA2F10500:/)), 6,
   'one warning per opening: main twice, ra, date, rfc, default');
is(scalar(log_lines(qr/OA2F10501:/)), 2, 'one notice per closing: main, ra');
# this httpd's log is not the one t/run-e2e.sh checks
is(scalar(log_lines(qr/exit signal|Segmentation fault|AddressSanitizer|runtime error:|double free/)),
   0, 'no crash or sanitizer report in the extra httpd\'s error log');
{
    open my $al, '<', "$root/logs/access_log" or die;
    my %pids = map { (split ' ')[0] => 1 } <$al>;
    open my $pf, '<', "$root/httpd.pid" or die;
    chomp(my $parent = <$pf>);
    my @children = grep { /\d/ } `ps -o pid= --ppid $parent`;
    diag(scalar(@children) . " $mpm children, " . scalar(keys %pids)
         . ' of them served requests');
    if ($mpm eq 'prefork') {
        cmp_ok(scalar(@children), '>=', 3, 'prefork: several child processes');
        cmp_ok(scalar(keys %pids), '>=', 2,
               'prefork: requests were served by several child processes');
    }
    else {
        cmp_ok(scalar(@children), '>=', 1, "$mpm: child processes");
        cmp_ok(scalar(keys %pids), '>=', 1, "$mpm: requests were served");
    }
}
