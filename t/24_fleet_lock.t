# One provider call per new token (README "Cache", "The fleet lock"):
#   - a herd of simultaneous first requests with one new token at one
#     server whose fleet cache is down costs one provider call: the
#     followers get their leader's verdict from this server's own shared
#     memory, not from the cache that is down (issue 15, part 2 (a));
#   - with a redis or memcached cache, a herd of 50 simultaneous first
#     requests split across two servers costs one provider call for the
#     fleet: the lock in the fleet cache;
#   - a lock whose holder is killed (kill -9 of the httpd child in the
#     provider call, redis and memcached) expires within its bound, a
#     waiter then asks the provider itself, and every waiting request
#     finishes;
#   - with the fleet cache down, each server coalesces its own herd (one
#     call per server);
#   - the lock's connections are kept by each child between requests:
#     new tokens after the first few open no new connection to redis,
#     and after redis restarts the connections it closed are not used
#     again (no lock error, one call per token).
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

plan tests => 45,
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
    for my $f ('api', 'api0', 'api3', 'apin') {
        open my $ok, '>', "$root/htdocs/$f" or die; print $ok "ok\n"; close $ok;
    }
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
<Location /api0>
    AuthType oauth2-federated
    AuthName "lock"
    OAuth2FederatedEndpoint "http://127.0.0.1:$stub_port/slow?ms=50"
    OAuth2FederatedTimeout 2 4
    Require valid-user
</Location>
<Location /api3>
    AuthType oauth2-federated
    AuthName "lock"
    OAuth2FederatedEndpoint "http://127.0.0.1:$stub_port/slow?ms=3000"
    OAuth2FederatedTimeout 2 4
    Require valid-user
</Location>
<Location /apin>
    AuthType oauth2-federated
    AuthName "lock"
    OAuth2FederatedEndpoint "http://127.0.0.1:$stub_port/inactive"
    OAuth2FederatedNegativeCacheTTL 0
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
    my @args = ($CURL, '-s', '--no-progress-meter', '--parallel', '--parallel-immediate',
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

# Simultaneous requests at one URL, each with a token of its own.
sub batch {
    my ($url, @tokens) = @_;
    my @args = ($CURL, '-s', '--no-progress-meter', '--parallel', '--parallel-immediate',
                '-m', '30');
    my $first = 1;
    for my $t (@tokens) {
        push @args, '--next' unless $first;
        $first = 0;
        push @args, '-H', "Authorization: Bearer $t", '-w', '%{http_code}\n', $url,
            '-o', '/dev/null';
    }
    open my $fh, '-|', @args or die "curl: $!";
    return herd_end($fh);
}

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

# ---- the fleet's servers -------------------------------------------------
sub start_redis {
    my ($port) = @_;
    system($REDIS, '--port', $port, '--bind', '127.0.0.1', '--save', '',
           '--appendonly', 'no', '--daemonize', 'yes',
           '--pidfile', "$dir/redis-$port.pid",
           '--logfile', "$dir/redis-$port.log") == 0 or die "redis-server";
    push @started, [ 'pidfile', "$dir/redis-$port.pid" ];
    wait_port($port) or die "redis on $port did not start";
    # ours: the server there runs with our pid file's pid
    my $info = `redis-cli -p $port info server`;
    my ($pid) = $info =~ /process_id:(\d+)/;
    chomp(my $want = slurp("$dir/redis-$port.pid"));
    die "redis on $port is not ours ($pid vs $want)" unless $pid && $pid eq $want;
}

sub stop_redis {
    my ($port) = @_;
    system('redis-cli', '-p', $port, 'shutdown', 'nosave');
    for (1 .. 50) {
        last unless answers($port);
        sleep 0.1;
    }
}

# In the foreground, as our child (memcached -d -u nobody cannot write a
# pid file into our directory).
sub start_memcached {
    my ($port) = @_;
    my $pid = fork // die "fork: $!";
    if (!$pid) {
        open STDIN, '<', '/dev/null';
        open STDOUT, '>', "$dir/mc-$port.log";
        open STDERR, '>&', \*STDOUT;
        exec($MEMCACHED, '-l', '127.0.0.1', '-p', $port, '-U', '0',
             '-u', 'nobody', '-m', '16') or POSIX::_exit(127);
    }
    push @started, [ 'pid', $pid ];
    wait_port($port) or die "memcached on $port did not start";
    my $s = IO::Socket::INET->new(PeerAddr => "127.0.0.1:$port", Timeout => 2)
        or die "memcached on $port";
    print $s "stats\r\n";
    my $got = '';
    while (defined(my $l = <$s>)) { $got .= $l; last if $l =~ /^END/ }
    my ($mpid) = $got =~ /STAT pid (\d+)/;
    die "memcached on $port is not ours" unless $mpid && $mpid == $pid;
}

sub sum_of {
    my ($field, @ports) = @_;
    my $n = 0;
    $n += status_of($_)->{$field} // 0 for @ports;
    return $n;
}

# calls per command since the last `config resetstat` (a script's own
# commands counted too)
sub redis_commandstats {
    my %st = `redis-cli -p $PORT{redis} info commandstats`
        =~ /^cmdstat_(\w+):calls=(\d+)/mg;
    delete @st{qw(info config)};
    return \%st;
}

# The status of a request with token to url, and what redis's MONITOR saw
# done to the token's entry (the name its claim is on: a revocation list's
# name looks the same): each "COMMAND rest".
sub on_entry {
    my ($url, $token) = @_;
    my $mpid = open(my $mfh, '-|', "exec redis-cli -p $PORT{redis} monitor")
        or die "redis-cli monitor: $!";
    my $ok = <$mfh>;    # "OK" once monitoring
    my $code = $ua->get($url, Authorization => "Bearer $token")->code;
    select(undef, undef, undef, 0.3);
    kill 'TERM', $mpid;
    my @seen = <$mfh>;
    close $mfh;
    my ($entry) = map {
        /"SET" "(oauth2-federated:[0-9a-f]{64})" "oauth2-federated-claim:/i ? $1 : ()
    } @seen;
    $entry //= 'none';
    # EVAL names its key after the script and the key count; what the
    # script runs shows as "[0 lua]"
    return ($code, map {
        /lua\]/ ? ()
            : /"EVAL" .* "1" "\Q$entry\E"/i ? 'EVAL'
            : /"(\w+)" "\Q$entry\E"(.*)$/ ? uc($1) . $2 : ()
    } @seen);
}

# ---- (b) redis: one provider call for the fleet -------------------------
start_redis($PORT{redis});
my $redis_cache = "redis:127.0.0.1:$PORT{redis}";
my $redis_mod = "socache_redis_module $modules/mod_socache_redis.so";
my $ra = start_httpd('ra', $PORT{ra}, $redis_cache, $redis_mod);
my $rb = start_httpd('rb', $PORT{rb}, $redis_cache, $redis_mod);
my @rports = ($PORT{ra}, $PORT{rb});
{
    my $t = fake_token();
    my $c0 = calls();
    system("redis-cli -p $PORT{redis} config resetstat >/dev/null");
    my ($codes, $took) = timed(sub {
        [ herd($t, map { ("http://127.0.0.1:$_/api") x 25 } @rports) ] });
    my $n = calls() - $c0;
    is(tally(@$codes), '200 x 50', 'redis: 50 simultaneous requests at two servers pass');
    is($n, 1, 'redis: 50 simultaneous first requests at two servers, one provider call');
    note(sprintf 'redis: %d provider calls for 50 requests at 2 servers in %.1f s',
         $n, $took);
    my ($acq, $waits, $hits) = map { sum_of($_, @rports) }
        qw(fleet_lock_acquired fleet_lock_waits fleet_lock_wait_hits);
    ok($acq >= 1 && $waits >= 1 && $hits >= 1,
       "redis: the status pages count the lock (acquired $acq, waits $waits, "
       . "wait hits $hits)");
    my $text = $ua->get("http://127.0.0.1:$PORT{ra}/status")->decoded_content;
    my $fields = join '\n', map { "$_: \\d+" }
        qw(fleet_lock_acquired fleet_lock_waits fleet_lock_wait_hits
           fleet_lock_timeouts fleet_lock_errors);
    like($text, qr/^$fields$/m,
         'redis: the text status page has the lock counters');
    # README "The fleet lock": with one redis server the lookup is the
    # lock, a claim on the entry's own name that the store overwrites: no
    # lock key, no release, no claim left behind
    my @keys = split /\n/, `redis-cli -p $PORT{redis} --raw keys '*'`;
    is(scalar(grep { /oauth2-federated-lock/ } @keys), 0,
       'redis: no lock key: the lookup claimed the entry itself');
    my @entries = grep { /^oauth2-federated:[0-9a-f]{64}$/ } @keys;
    is(scalar @entries, 1, 'redis: ... one entry for the token');
    my $val = @entries
        ? `redis-cli -p $PORT{redis} --raw get $entries[0]` : 'none';
    ok($val !~ /^oauth2-federated-claim:/ && length($val) > 40,
       'redis: ... which the store replaced the claim with');
    my $st = redis_commandstats();
    ok(!exists $st->{eval} && !exists $st->{del} && ($st->{setex} // 0) == 1,
       'redis: one store, no release (' . join(', ', map { "$_ $st->{$_}" } sort keys %$st) . ')');

    # one new token at one server: one command that looks it up and
    # claims it, one store (README "The fleet lock"), as redis's MONITOR
    # sees the token's entry
    my $t1 = fake_token();
    my ($code, @on_entries) = on_entry("http://127.0.0.1:$PORT{ra}/api", $t1);
    is($code, 200, 'redis: a new token at one server passes');
    is(scalar @on_entries, 2, 'redis: ... two commands on its entry: '
       . join(', ', map { substr($_, 0, 60) } @on_entries));
    like($on_entries[0] // '', qr/^SET "oauth2-federated-claim:[^"]+" "NX" "PX" "\d+" "GET"/,
         'redis: ... the first looks it up and claims it (SET NX GET)');
    like($on_entries[1] // '', qr/^(SETEX|SET) /, 'redis: ... the second stores the verdict');

    # a verdict that is not stored ("not active", no negative caching):
    # the claim is released at once, so the next server asks at once
    my $tn = fake_token();
    my $n0 = stub_count('/inactive');
    ($code, @on_entries) = on_entry("http://127.0.0.1:$PORT{ra}/apin", $tn);
    is($code, 401, 'redis: a token the provider says is not active: 401');
    like(join(', ', map { substr($_, 0, 40) } @on_entries),
         qr/^SET "oauth2-federated-claim:[^,]*, EVAL$/,
         'redis: ... its claim released (compare-and-delete): '
         . join(', ', map { substr($_, 0, 40) } @on_entries));
    my ($codes2, $took2) = timed(sub {
        [ $ua->get("http://127.0.0.1:$PORT{rb}/apin", Authorization => "Bearer $tn")->code ] });
    ok($codes2->[0] == 401 && $took2 < 1.5 && stub_count('/inactive') - $n0 == 2,
       sprintf('redis: ... server B asks at once (%d in %.2f s, %d calls)',
               $codes2->[0], $took2, stub_count('/inactive') - $n0));
}

# ---- (b2) the lock's connections are kept between requests --------------
# Batches of 4 new tokens at server A: each token takes the lock. Before
# a child kept its lock connections, every take opened one (40 here).
sub redis_connections {
    my ($n) = `redis-cli -p $PORT{redis} info stats` =~ /total_connections_received:(\d+)/;
    return $n // 0;
}
{
    my $url = "http://127.0.0.1:$PORT{ra}/api0";
    batch($url, map { fake_token() } 1 .. 4) for 1 .. 3;    # warm both children
    my ($acq0, $c0, $k0) = (sum_of('fleet_lock_acquired', $PORT{ra}), calls(),
                            redis_connections());
    my @codes = map { batch($url, map { fake_token() } 1 .. 4) } 1 .. 10;
    # the second count's own redis-cli connection
    my $opened = redis_connections() - $k0 - 1;
    is(tally(@codes), '200 x 40', 'redis: 40 new tokens in batches of 4 pass');
    is(sum_of('fleet_lock_acquired', $PORT{ra}) - $acq0, 40,
       'redis: ... each took the fleet lock');
    ok($opened <= 20,
       "redis: ... and opened $opened new connections to redis (at most 20; one per token before)");
    is(calls() - $c0, 40, 'redis: ... one provider call each');
}

# ---- (c) the lock under a killed leader ---------------------------------
# The first request at server A takes the lock (its child names itself
# in the OA2F11000 line) and asks the stub, which answers after 3 s; 10
# requests at server B find the lock taken and wait; the child of A is
# killed with -9 mid-call. The lock expires 5 s after it was taken (total
# timeout 4 s + 1 s), B takes it and asks itself (3 s more).
my %killed;
sub killed_leader {
    my ($what, $a_root, $a_port, $b_root, $b_port) = @_;
    my $t = fake_token();
    my $c0 = calls();
    my $offset_a = -s "$a_root/logs/error_log";
    my $offset_b = -s "$b_root/logs/error_log";
    my $t0 = time;
    my $leader = herd_start($t, "http://127.0.0.1:$a_port/api3");
    my $pid;
    until ($pid) {
        last if time - $t0 > 5;
        my $log = substr(slurp("$a_root/logs/error_log"), $offset_a);
        ($pid) = $log =~ /\[pid (\d+)(?::tid \d+)?\][^\n]*OA2F11000/;
        sleep 0.02 unless $pid;
    }
    my $t_lock = time;
    chomp(my $parent = slurp("$a_root/httpd.pid"));
    my ($ppid) = $pid ? slurp("/proc/$pid/stat") =~ /^\d+ \(.*\) \S+ (\d+) / : ();
    my $ours = $pid && $ppid && $ppid == $parent;
    ok($ours, "$what, killed leader: server A's child "
       . ($pid // '?') . " took the lock (its parent is A's $parent)");
    my $waiters = herd_start($t, ("http://127.0.0.1:$b_port/api3") x 10);
    until (substr(slurp("$b_root/logs/error_log"), $offset_b) =~ /OA2F11001/) {
        last if time - $t0 > 5;
        sleep 0.02;
    }
    if ($ours) {
        kill 'KILL', $pid;
        $killed{$a_root} = $pid;
    }
    my $t_kill = time;
    my @codes = herd_end($waiters);
    my $t_done = time;
    herd_end($leader);
    is(tally(@codes), '200 x 10', "$what, killed leader: the 10 requests waiting at server B pass");
    my $waited = $t_done - $t_lock;
    ok($waited >= 5 + 3 - 0.5,
       sprintf("$what, killed leader: B asked only once the lock had expired (done %.1f s after it was taken)", $waited));
    # memcached counts the expiry in whole seconds: up to one more
    ok($waited <= 5 + 3 + 2,
       sprintf("$what, killed leader: no hang beyond the bound (%.1f s <= 10 s)", $waited));
    is(calls() - $c0, 2, "$what, killed leader: two provider calls (the killed one, B's after the expiry)");
    like(substr(slurp("$b_root/logs/error_log"), $offset_b), qr/OA2F11000|OA2F11006/,
         "$what, killed leader: B asked itself after the expiry (took the lock, or gave up waiting)");
    note(sprintf "$what, killed leader: lock seen %.2f s, killed %.2f s, B done %.2f s after the first request",
         $t_lock - $t0, $t_kill - $t0, $t_done - $t0);
}
killed_leader('redis', $ra, $PORT{ra}, $rb, $PORT{rb});

# ---- (c) fleet cache down: one call per server --------------------------
{
    stop_redis($PORT{redis});
    my $t = fake_token();
    my $c0 = calls();
    my @codes = herd($t, map { ("http://127.0.0.1:$_/api") x 25 } @rports);
    my $n = calls() - $c0;
    is(tally(@codes), '200 x 50', 'redis down: 50 simultaneous requests at two servers pass');
    is($n, 2, 'redis down: each server coalesces its own herd, one call per server');
    ok(sum_of('fleet_lock_errors', @rports) >= 2,
       'redis down: the lock errors are counted');
}
# ---- (d) redis back: the connections it closed are not used again -------
{
    start_redis($PORT{redis});
    my $url = "http://127.0.0.1:$PORT{ra}/api0";
    my ($err0, $acq0, $c0) = (sum_of('fleet_lock_errors', $PORT{ra}),
                              sum_of('fleet_lock_acquired', $PORT{ra}), calls());
    my @codes = map { batch($url, map { fake_token() } 1 .. 4) } 1 .. 5;
    is(tally(@codes), '200 x 20', 'redis back: 20 new tokens pass');
    is(sum_of('fleet_lock_errors', $PORT{ra}) - $err0, 0,
       'redis back: no lock error (closed connections are dropped, not used); '
       . 'each token took the lock (' . (sum_of('fleet_lock_acquired', $PORT{ra}) - $acq0)
       . ' of 20)');
}
is(crashes($ra, $killed{$ra} // 0) + crashes($rb), 0, 'redis: no child crashed (but the one killed)')
    or diag(slurp("$ra/logs/error_log"));

# ---- (b) memcached: one provider call for the fleet ---------------------
start_memcached($PORT{memcached});
my $mc_cache = "memcache:127.0.0.1:$PORT{memcached}";
my $mc_mod = "socache_memcache_module $modules/mod_socache_memcache.so";
my $ma = start_httpd('ma', $PORT{ma}, $mc_cache, $mc_mod);
my $mb = start_httpd('mb', $PORT{mb}, $mc_cache, $mc_mod);
my @mports = ($PORT{ma}, $PORT{mb});
{
    my $t = fake_token();
    my $c0 = calls();
    my ($codes, $took) = timed(sub {
        [ herd($t, map { ("http://127.0.0.1:$_/api") x 25 } @mports) ] });
    my $n = calls() - $c0;
    is(tally(@$codes), '200 x 50', 'memcached: 50 simultaneous requests at two servers pass');
    is($n, 1, 'memcached: 50 simultaneous first requests at two servers, one provider call');
    note(sprintf 'memcached: %d provider calls for 50 requests at 2 servers in %.1f s',
         $n, $took);
    my ($acq, $waits) = map { sum_of($_, @mports) }
        qw(fleet_lock_acquired fleet_lock_waits);
    ok($acq >= 1 && $waits >= 1,
       "memcached: the status pages count the lock (acquired $acq, waits $waits)");
    # lru_crawler metadump lists the keys that are there and not expired
    my $s = IO::Socket::INET->new(PeerAddr => "127.0.0.1:$PORT{memcached}", Timeout => 2);
    my $dump = '';
    if ($s) {
        print $s "lru_crawler metadump all\r\n";
        while (defined(my $l = <$s>)) { last if $l =~ /^END/; $dump .= $l }
    }
    my ($exp) = $dump =~ /^key=oauth2-federated-lock\S* exp=(-?\d+)/m;
    ok(defined $exp && $exp > time && $exp <= time + 7,
       'memcached: the holder left its lock to expire within its ttl (5 s, in whole seconds and one more)');
}
killed_leader('memcached', $ma, $PORT{ma}, $mb, $PORT{mb});
is(crashes($ma, $killed{$ma} // 0) + crashes($mb), 0, 'memcached: no child crashed (but the one killed)');
