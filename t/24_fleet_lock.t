# One provider call per new token (README "Cache", "The fleet lock"):
#   - a herd of simultaneous first requests with one new token at one
#     server whose fleet cache is down costs one provider call: the
#     followers get their leader's verdict from this server's own shared
#     memory, not from the cache that is down (issue 15, part 2 (a));
# Provider calls are counted by the stub itself (its /__stats); its
# /slow?ms=N answer is slow enough that the requests overlap. The extra
# servers listen on 127.0.0.1, ports OA2F_LOCK_PORT_BASE (else
# OA2F_NEW_PORT_BASE, else 18650) .. +9, are checked free before and
# checked to be ours after they start, and are stopped at the end.
use strict;
use warnings FATAL => 'all';

use Apache::Test qw(-withtestmore);
use FindBin;
use lib "$FindBin::Bin/lib";
use OA2FTest;
use JSON::PP ();
use LWP::UserAgent ();
use IO::Socket::INET ();
use File::Temp qw(tempdir);
use Time::HiRes qw(sleep time);
use POSIX ();

my $REDIS     = '/usr/bin/redis-server';
my $MEMCACHED = '/usr/bin/memcached';
my $CURL      = '/usr/bin/curl';
my $SLOW_MS   = 1500;

plan tests => 3,
     need({ 'redis-server is installed' => -x $REDIS,
            'memcached is installed'    => -x $MEMCACHED,
            'curl is installed'         => -x $CURL });
Test::More->builder->failure_output(\*STDERR);

my $cfg = Apache::Test::config();
my $httpd = $cfg->{vars}{httpd};
my $modules = $cfg->{vars}{libexecdir} || '/usr/lib/apache2/modules';
my $module = $ENV{OA2F_MODULE} || "$FindBin::Bin/../.libs/mod_oauth2_federated.so";
my $stub_port = $ENV{OA2F_STUB_PORT} || 18531;
my $BASE = $ENV{OA2F_LOCK_PORT_BASE} || $ENV{OA2F_NEW_PORT_BASE} || 18650;
my %PORT = (redis => $BASE, memcached => $BASE + 1,
            ra => $BASE + 2, rb => $BASE + 3, ma => $BASE + 4, mb => $BASE + 5,
            dead => $BASE + 6, solo => $BASE + 7, rc => $BASE + 8);
my $dir = tempdir('oa2f-lock-XXXXXX', TMPDIR => 1, CLEANUP => 1);
chmod 0755, $dir;
my $json = JSON::PP->new;
my $ua = LWP::UserAgent->new(timeout => 30, keep_alive => 0);
my @started;    # [kind, pid or pidfile] (OA2FTest::stop_started)

END {
    local $?;    # keep the test's exit status (waitpid sets $?)
    stop_started(@started) if @started;
}

sub slurp {
    my ($file) = @_;
    open my $fh, '<', $file or return '';
    local $/;
    my $s = <$fh>;
    return $s // '';
}

sub answers {
    my ($port) = @_;
    return IO::Socket::INET->new(PeerAddr => "127.0.0.1:$port", Timeout => 1);
}

sub wait_port {
    my ($port) = @_;
    for (1 .. 100) {
        return 1 if answers($port);
        sleep 0.1;
    }
    return 0;
}

# Every port of this test must be free before it starts anything.
for my $name (sort keys %PORT) {
    die "port $PORT{$name} ($name) is in use; set OA2F_LOCK_PORT_BASE"
        if answers($PORT{$name});
}

# An httpd of ours: event MPM with two children of 32 threads, so that a
# herd spreads over processes; the slow stub as introspection endpoint.
sub start_httpd {
    my ($name, $port, $cache, $socache_mod) = @_;
    my $root = "$dir/$name";
    mkdir $root; mkdir "$root/logs"; mkdir "$root/htdocs";
    open my $ok, '>', "$root/htdocs/api" or die; print $ok "ok\n"; close $ok;
    system('chmod', '-R', 'a+rX', $root);
    open my $fh, '>', "$root/httpd.conf" or die;
    print $fh extra_httpd_head($root, $port, $modules), <<"CONF";
LogLevel warn oauth2_federated:debug
ServerLimit 4
StartServers 2
ThreadsPerChild 32
MaxRequestWorkers 128
MinSpareThreads 64
MaxSpareThreads 128
LoadModule $socache_mod
LoadModule oauth2_federated_module $module
OAuth2FederatedCache $cache
OAuth2FederatedCacheSecret lock-fleet-secret
<Location /api>
    AuthType oauth2-federated
    AuthName "lock"
    OAuth2FederatedEndpoint "http://127.0.0.1:$stub_port/slow?ms=$SLOW_MS"
    OAuth2FederatedTimeout 2 4
    Require valid-user
</Location>
<Location /status>
    SetHandler oauth2-federated-status
</Location>
CONF
    close $fh;
    system($httpd, '-f', "$root/httpd.conf", '-k', 'start') == 0
        or die "httpd $name did not start: " . slurp("$root/logs/error_log");
    push @started, [ 'httpd', "$root/httpd.pid" ];
    wait_port($port) or die "httpd $name not listening on $port";
    # ours: the pid file's server answers our status page there
    my $res = $ua->get("http://127.0.0.1:$port/status?json");
    die "httpd $name on $port: not our status page"
        unless $res->is_success && $res->decoded_content =~ /"uptime_seconds"/
        && -s "$root/httpd.pid";
    return $root;
}

sub status_of {
    my ($port) = @_;
    my $res = $ua->get("http://127.0.0.1:$port/status?json");
    return $res->is_success ? $json->decode($res->decoded_content) : {};
}

sub calls { stub_count('/slow') }

# Simultaneous requests with one token: a curl of its own per herd, one
# connection per request, all opened at once. Returns the status codes.
sub herd_start {
    my ($token, @urls) = @_;
    my @args = ($CURL, '-s', '--parallel', '--parallel-immediate',
                '--parallel-max', '100', '-m', '30',
                '-H', "Authorization: Bearer $token", '-w', '%{http_code}\n');
    push @args, $_, '-o', '/dev/null' for @urls;
    open my $fh, '-|', @args or die "curl: $!";
    return $fh;
}

sub herd_end {
    my ($fh) = @_;
    my @codes = <$fh>;
    close $fh;
    chomp @codes;
    return @codes;
}

sub herd { return herd_end(herd_start(@_)) }

sub tally {
    my %n;
    $n{$_}++ for @_;
    return join ' ', map { "$_ x $n{$_}" } sort keys %n;
}

sub crashes {
    my ($root, @expected_pids) = @_;
    my %ok = map { $_ => 1 } @expected_pids;
    return scalar grep { /exit signal|Segmentation fault|AddressSanitizer/
                         && !(/child pid (\d+) exit signal Killed/ && $ok{$1}) }
        split /\n/, slurp("$root/logs/error_log");
}

# ---- (a) fleet cache down: one server coalesces its herd -----------------
{
    # nothing listens on the dead port (checked above): the cache is down
    my $solo = start_httpd('solo', $PORT{solo}, "redis:127.0.0.1:$PORT{dead}",
                           "socache_redis_module $modules/mod_socache_redis.so");
    my $url = "http://127.0.0.1:$PORT{solo}/api";
    my $t = fake_token();
    my $c0 = calls();
    my ($codes, $took) = timed(sub { [ herd($t, ($url) x 48) ] });
    my $n = calls() - $c0;
    is(tally(@$codes), '200 x 48', 'cache down: all 48 simultaneous requests pass');
    is($n, 1, 'cache down: 48 simultaneous requests with one new token, one provider call');
    note(sprintf 'cache down: %d provider calls for 48 requests in %.1f s', $n, $took);
    is(crashes($solo), 0, 'cache down: no child crashed');
}
