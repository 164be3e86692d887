# The near cache (README "Cache": OAuth2FederatedNearCache): servers of a
# redis fleet (A, B, and OFF with the near cache Off) and of a memcached
# one (C), each one httpd process this test starts next to the
# Apache::Test server, around a private redis-server and memcached. A
# server asks the fleet cache once per token per reuse period; its near
# entries serve while the fleet cache is down, never longer than the fleet
# entry's own limits, obey revocation on another server within 2 s, and
# never hold a tampered fleet value as a verdict.
use strict;
use warnings FATAL => 'all';

use Apache::Test qw(-withtestmore);
use Apache::TestConfig ();
use FindBin;
use lib "$FindBin::Bin/lib";
use OA2FTest;
use LWP::UserAgent ();
use HTTP::Request::Common qw(POST);
use IO::Socket::INET ();
use File::Temp qw(tempdir);
use Time::HiRes qw(sleep time);
use POSIX ();

my $REDIS = '/usr/bin/redis-server';
my $MEMCACHED = '/usr/bin/memcached';
my $INTROSPECT = '/token/introspection';
my $FORM = 'application/x-www-form-urlencoded';

plan tests => 75, need({ 'redis-server is installed' => -x $REDIS,
                         'memcached is installed'    => -x $MEMCACHED });
Test::More->builder->failure_output(\*STDERR);

my $cfg = Apache::Test::config();
my $httpd = $cfg->{vars}{httpd};
my $modules = $cfg->{vars}{libexecdir} || '/usr/lib/apache2/modules';
my $module = $ENV{OA2F_MODULE} || "$FindBin::Bin/../.libs/mod_oauth2_federated.so";
my $pport = $ENV{OA2F_PROVIDER_PORT} || 18530;
my $dir = tempdir('oa2f-near-XXXXXX', TMPDIR => 1, CLEANUP => 1);
chmod 0755, $dir;
# redis, A, B, OFF, memcached, C: base .. base+5
my $NB = $ENV{OA2F_NEAR_PORT_BASE} || $ENV{OA2F_NEW_PORT_BASE} || 18640;
my %PORT = (redis => $NB, a => $NB + 1, b => $NB + 2, off => $NB + 3,
            mc => $NB + 4, c => $NB + 5);
my (@started, %root);

# one connection per request (no keep-alive: a graceful restart must not
# leave us talking to the old child), and one with keep-alive for loops
my $ua = LWP::UserAgent->new(timeout => 15, keep_alive => 0);
my $kua = LWP::UserAgent->new(timeout => 15, keep_alive => 8);

END { local $?; stop_started(@started) }

sub listening {
    my ($port) = @_;
    return IO::Socket::INET->new(PeerAddr => "127.0.0.1:$port", Timeout => 1);
}

sub wait_port {
    my ($port) = @_;
    for (1 .. 100) {
        return 1 if listening($port);
        sleep 0.1;
    }
    return 0;
}

for my $p (sort values %PORT) {
    die "port $p is already in use (OA2F_NEAR_PORT_BASE)" if listening($p);
}

# ---- redis, binary-safe (RESP over a socket) ---------------------------------
sub resp_read {
    my ($s) = @_;
    my $line = <$s>;
    die 'redis: connection closed' unless defined $line;
    $line =~ s/\r\n\z//;
    my ($type, $rest) = (substr($line, 0, 1), substr($line, 1));
    return $rest if $type eq '+' || $type eq ':';
    die "redis: $rest" if $type eq '-';
    if ($type eq '$') {
        return undef if $rest < 0;
        my $buf = '';
        while (length $buf < $rest + 2) {
            my $n = read($s, $buf, $rest + 2 - length $buf, length $buf);
            die 'redis: short read' unless $n;
        }
        return substr($buf, 0, $rest);
    }
    return [ map { resp_read($s) } 1 .. $rest ] if $type eq '*';
    die "redis: unexpected reply $line";
}

sub redis {
    my (@args) = @_;
    my $s = IO::Socket::INET->new(PeerAddr => "127.0.0.1:$PORT{redis}", Timeout => 5)
        or die "redis: $!";
    binmode $s;
    print $s '*' . @args . "\r\n", map { '$' . length($_) . "\r\n$_\r\n" } @args;
    my $r = resp_read($s);
    close $s;
    return $r;
}

sub pid_in {
    my ($file) = @_;
    open my $fh, '<', $file or return 0;
    chomp(my $pid = <$fh> // '');
    return $pid =~ /^\d+$/ ? $pid : 0;
}

sub start_redis {
    my $pidfile = "$dir/redis.pid";
    system($REDIS, '--port', $PORT{redis}, '--bind', '127.0.0.1', '--save', '',
           '--appendonly', 'no', '--daemonize', 'yes', '--pidfile', $pidfile,
           '--logfile', "$dir/redis.log") == 0 or die 'redis-server';
    push @started, [ 'pidfile', $pidfile ] unless grep { $_->[1] eq $pidfile } @started;
    wait_port($PORT{redis}) or die "redis on $PORT{redis} did not start";
    # what answers is ours: the server's process is the one we started
    for (1 .. 50) { last if pid_in($pidfile); sleep 0.1 }
    my ($pid) = (redis('INFO', 'server') // '') =~ /^process_id:(\d+)/m;
    die "redis on $PORT{redis} is not the one this test started"
        unless $pid && $pid == pid_in($pidfile);
}

sub stop_redis {
    eval { redis('SHUTDOWN', 'NOSAVE') };
    for (1 .. 50) {
        last unless listening($PORT{redis});
        sleep 0.1;
    }
}

# Every command redis executed since the last reset, but ours (INFO,
# CONFIG).
sub redis_commands {
    my $info = redis('INFO', 'commandstats') // '';
    my $n = 0;
    while ($info =~ /^cmdstat_(\w+):calls=(\d+)/mg) {
        $n += $2 unless $1 eq 'info' || $1 eq 'config';
    }
    return $n;
}

sub redis_keys { return sort @{ redis('KEYS', '*') } }

# In the foreground, as our child (memcached -d -u nobody could not write
# its pid file here).
my $mc_pid;
sub start_memcached {
    my $pid = fork // die "fork: $!";
    if (!$pid) {
        open STDIN, '<', '/dev/null';
        open STDOUT, '>', "$dir/mc.log";
        open STDERR, '>&', \*STDOUT;
        exec($MEMCACHED, '-l', '127.0.0.1', '-p', $PORT{mc}, '-U', '0',
             '-u', 'nobody', '-m', '16') or POSIX::_exit(127);
    }
    push @started, [ 'pid', $pid ];
    $mc_pid = $pid;
    wait_port($PORT{mc}) or die "memcached on $PORT{mc} did not start";
}

# ---- the servers --------------------------------------------------------------
# One child process of 8 threads each, so that a graceful restart empties
# the per-child copy and what answers after it is the near cache (which,
# in the server's shared memory, outlives the restart). /short reuses a
# validation for SHORT seconds, /stale for 2 s and 30 s more while the
# provider fails.
sub start_httpd {
    my ($name, $cache, $socache_mod, $near, $short) = @_;
    my $port = $PORT{$name};
    my $root = "$dir/$name";
    mkdir $root; mkdir "$root/logs"; mkdir "$root/htdocs";
    for my $f (qw(api short stale)) {
        open my $ok, '>', "$root/htdocs/$f" or die; print $ok "ok\n"; close $ok;
    }
    system('chmod', '-R', 'a+rX', $root);
    my $near_line = defined $near ? "OAuth2FederatedNearCache $near" : '';
    my $loc = <<"LOC";
    AuthType oauth2-federated
    AuthName "near"
    OAuth2FederatedEndpoint http://127.0.0.1:$pport$INTROSPECT
    OAuth2FederatedClientID rs-other
    OAuth2FederatedClientSecret rs-other-secret
    Require valid-user
LOC
    open my $fh, '>', "$root/httpd.conf" or die;
    print $fh extra_httpd_head($root, $port, $modules), <<"CONF";
LogLevel notice oauth2_federated:info
StartServers 1
ServerLimit 1
ThreadsPerChild 8
MinSpareThreads 1
MaxSpareThreads 8
MaxRequestWorkers 8
LoadModule authz_host_module $modules/mod_authz_host.so
LoadModule $socache_mod
LoadModule oauth2_federated_module $module
OAuth2FederatedCache $cache
OAuth2FederatedCacheSecret near-fleet-secret
$near_line
<Location /api>
$loc</Location>
<Location /short>
$loc    OAuth2FederatedCacheMaxTTL $short
</Location>
<Location /stale>
$loc    OAuth2FederatedCacheMaxTTL 2
    OAuth2FederatedStaleIfError 30
</Location>
<Location /revoke>
    SetHandler oauth2-federated-revoke
    Require ip 127.0.0.1
</Location>
<Location /status>
    SetHandler oauth2-federated-status
</Location>
CONF
    close $fh;
    system($httpd, '-f', "$root/httpd.conf", '-k', 'start') == 0
        or die "httpd $name did not start: " . `cat $root/logs/error_log`;
    push @started, [ 'httpd', "$root/httpd.pid" ];
    wait_port($port) or die "httpd $name not listening";
    # what answers is ours: our status page, our pid file
    my $s = eval { OA2FTest::stats_of("http://127.0.0.1:$port/status?json") };
    die "what answers on $port is not the httpd this test started"
        unless $s && exists $s->{near_cache_hits} && pid_in("$root/httpd.pid");
    $root{$name} = $root;
    return $root;
}

sub restarts {
    my ($name) = @_;
    open my $fh, '<', "$root{$name}/logs/error_log" or return 0;
    return scalar grep { /resuming normal operations/ } <$fh>;
}

# A graceful restart: a new child, an empty per-child copy; the near
# cache, the counters and the revocation rules stay.
sub graceful {
    my ($name) = @_;
    my $n = restarts($name);
    system($httpd, '-f', "$root{$name}/httpd.conf", '-k', 'graceful') == 0
        or die "graceful $name";
    for (1 .. 100) {
        last if restarts($name) > $n;
        sleep 0.1;
    }
    # the old child finishes and leaves the listener to the new one
    sleep 0.5;
    wait_port($PORT{$name});
    $kua->conn_cache->drop if $kua->conn_cache;
}

sub call {
    my ($name, $token, $path) = @_;
    $path //= '/api';
    return $ua->get("http://127.0.0.1:$PORT{$name}$path",
                    Authorization => "Bearer $token")->code;
}

sub kcall {
    my ($name, $token) = @_;
    return $kua->get("http://127.0.0.1:$PORT{$name}/api",
                     Authorization => "Bearer $token")->code;
}

sub status { return OA2FTest::stats_of("http://127.0.0.1:$PORT{$_[0]}/status?json") }

sub delta {
    my ($before, $after, $name) = @_;
    return ($after->{$name} // 0) - ($before->{$name} // 0);
}

sub calls { return provider_count($INTROSPECT) }

sub crashes {
    my ($name) = @_;
    open my $fh, '<', "$root{$name}/logs/error_log" or return 0;
    return scalar grep { /exit signal|Segmentation fault|AddressSanitizer/ } <$fh>;
}

sub log_has {
    my ($name, $re) = @_;
    open my $fh, '<', "$root{$name}/logs/error_log" or return 0;
    return scalar grep { /$re/ } <$fh>;
}

# Seconds until server NAME refuses the token, polled every 100 ms from
# t0; undef when it still lets it through 2 s after t0.
sub refused_within {
    my ($name, $token, $t0) = @_;
    while (time - $t0 < 2) {
        return time - $t0 if call($name, $token) == 401;
        sleep 0.1;
    }
    return undef;
}

my $RMOD = "socache_redis_module $modules/mod_socache_redis.so";
my $MMOD = "socache_memcache_module $modules/mod_socache_memcache.so";
start_redis();
start_httpd('a', "redis:127.0.0.1:$PORT{redis}", $RMOD, undef, 2);
start_httpd('b', "redis:127.0.0.1:$PORT{redis}", $RMOD, 1048576, 60);
start_httpd('off', "redis:127.0.0.1:$PORT{redis}", $RMOD, 'Off', 60);
start_memcached();
start_httpd('c', "memcache:127.0.0.1:$PORT{mc}", $MMOD, undef, 60);

# ---- 1. warm: A validates, B and OFF read the fleet -------------------------
my @T = map { mint_token('app-read') } 1 .. 12;
my ($a0, $b0, $o0, $c0) = (status('a'), status('b'), status('off'), calls());
is(join('', map { call('a', $_) } @T), '200' x @T, 'warm: A lets 12 tokens through');
is(calls() - $c0, 12, '... asking the provider once each');
is(join('', map { call('b', $_) } @T), '200' x @T, 'B lets them through ...');
is(join('', map { call('off', $_) } @T), '200' x @T, '... and so does OFF');
is(calls() - $c0, 12, '... from the fleet cache: no more provider calls');
my ($a1, $b1, $o1) = (status('a'), status('b'), status('off'));
is(delta($a0, $a1, 'near_cache_stores'), 12, "A's own validations went into its near cache");
is(delta($b0, $b1, 'near_cache_stores'), 12, 'B kept the fleet entries it read near');
is(delta($b0, $b1, 'near_cache_misses'), 12, '... after a near miss each');
is(join(' ', map { $o1->{$_} } qw(near_cache_hits near_cache_misses near_cache_stores)),
   '0 0 0', 'NearCache Off: no near cache at all');

# ---- 2. steady state: redis commands per request ----------------------------
graceful($_) for qw(a b off);
redis('CONFIG', 'RESETSTAT');
my ($a2, $b2) = (status('a'), status('b'));
my ($n, $bad) = (0, 0);
my $t2 = time;
for my $round (1 .. 20) {
    for my $t (@T) {
        for my $s (qw(a b)) {
            $n++;
            $bad++ if kcall($s, $t) != 200;
        }
    }
}
my $secs = time - $t2;
my $cmds = redis_commands();
my ($a3, $b3) = (status('a'), status('b'));
is($bad, 0, "steady state: $n requests on A and B over 12 cached tokens, all 200");
my $per = $cmds / $n;
cmp_ok($per, '<=', 0.05,
       sprintf('... %d redis commands in %.1f s (revocation sync included): %.4f per request',
               $cmds, $secs, $per));
cmp_ok(delta($a2, $a3, 'near_cache_hits') + delta($b2, $b3, 'near_cache_hits'), '>=', 24,
       '... after the restart the near caches answered each token once per server');
is(delta($a2, $a3, 'cache_misses') + delta($b2, $b3, 'cache_misses'), 0, '... no cache miss');
redis('CONFIG', 'RESETSTAT');
($n, $bad) = (0, 0);
for my $round (1 .. 20) {
    for my $t (@T) {
        $n++;
        $bad++ if kcall('off', $t) != 200;
    }
}
# a lookup is a GET, or the SET NX GET that also claims a new token's
# entry (README "The fleet lock")
my $stats = redis('INFO', 'commandstats');
my $gets = ($stats =~ /^cmdstat_get:calls=(\d+)/m ? $1 : 0)
    + ($stats =~ /^cmdstat_set:calls=(\d+)/m ? $1 : 0);
is($bad, 0, "NearCache Off: $n requests, all 200");
cmp_ok($gets, '>=', 12,
       sprintf('... but after its restart it asked redis for every token (%d lookups, %.4f commands per request)',
               $gets, redis_commands() / $n));

# ---- 3. revocation on A honoured by B's near cache ---------------------------
{
    my $t = mint_token('app-read');
    # the locks of earlier steps, left to expire: gone, so that this
    # token's is the only one
    my $old = redis('KEYS', 'oauth2-federated-lock:*');
    redis('DEL', @$old) if @$old;
    is(call('a', $t) . call('b', $t), '200200', 'revocation: a token cached on A and B');
    # README "The fleet lock": with one redis server A's lookup claimed
    # the entry itself, and its store replaced the claim: no lock key
    my $locks = redis('KEYS', 'oauth2-federated-lock:*');
    is(scalar @$locks, 0, '... its fleet lock was a claim on the entry, no lock key ('
                          . scalar(@$locks) . ')');
    graceful('b');    # B has it in its near cache only
    revoke_token('app-read', $t);
    my $before = status('b');
    my $t0 = time;
    is(post_to("http://127.0.0.1:$PORT{a}/revoke", "token=$t")->code, 204, '... revoked on A: 204');
    # ... and goes with the entry, so that the next request asks at once
    $locks = redis('KEYS', 'oauth2-federated-lock:*');
    is(scalar @$locks, 0, '... the revocation dropped the fleet lock with the entry ('
                          . scalar(@$locks) . ' left)');
    is(call('a', $t), 401, '... A refuses it at once');
    sleep 0.6;    # B's next request reads the fleet's rules
    my $took = refused_within('b', $t, $t0);
    ok(defined $took, sprintf("... B refuses it within 2 s (%s)",
                              defined $took ? sprintf('%.2f s', $took) : 'not at all'));
    cmp_ok(delta($before, status('b'), 'near_cache_hits'), '>=', 1,
           "... B's near cache held it and its rule judged it");

    my $t2 = mint_token('app-rw');
    is(call('a', $t2) . call('b', $t2), '200200', 'revocation by client_id: cached on A and B');
    graceful('b');
    revoke_token('app-rw', $t2);
    $t0 = time;
    is(post_to("http://127.0.0.1:$PORT{a}/revoke", 'client_id=app-rw')->code, 204,
       '... client_id revoked on A: 204');
    $took = refused_within('b', $t2, $t0);
    ok(defined $took, sprintf("... B refuses it within 2 s (%s)",
                              defined $took ? sprintf('%.2f s', $took) : 'not at all'));
    sleep 1.1;    # a validation after the rule's second
    my $t3 = mint_token('app-rw');
    my $c = calls();
    is(call('a', $t3) . call('b', $t3), '200200', '... a token of it minted after the rule passes');
    is(calls() - $c, 1, '... once validated, cached for the fleet again');
}

# ---- 4. expiry: no near entry outlives the fleet entry ----------------------
{
    my $t = mint_token('app-read');
    my $c = calls();
    my $v = time;
    is(call('a', $t, '/short'), 200, 'expiry: A validates with CacheMaxTTL 2 ...');
    is(call('b', $t, '/short'), 200, '... B (CacheMaxTTL 60) reads it from the fleet');
    is(calls() - $c, 1, '... one provider call');
    sleep 0.1 while time - $v < 3.2;
    is(call('b', $t, '/short'), 200, '... 3 s later B still lets it through ...');
    is(calls() - $c, 2, "... but asked the provider: its copies ended with the fleet entry's 2 s");

    # the part of a fleet entry kept for StaleIfError is not kept near: a
    # newer validation in the fleet is found, not hidden behind it
    $t = mint_token('app-read');
    $c = calls();
    $v = time;
    is(call('a', $t, '/stale') . call('b', $t, '/stale'), '200200',
       'StaleIfError: A validates (CacheMaxTTL 2, StaleIfError 30), B reads it');
    is(calls() - $c, 1, '... one provider call');
    sleep 0.1 while time - $v < 3.2;
    is(call('a', $t, '/stale'), 200, '... 3 s later A validates again ...');
    is(calls() - $c, 2, '... asking the provider');
    is(call('b', $t, '/stale'), 200, '... and B takes that validation ...');
    is(calls() - $c, 2, '... from the fleet, not its stale near copy: no provider call');

    my $s = mint_token('app-short');    # expires 5 s after minting
    my $m = time;
    is(call('a', $s) . call('b', $s) . call('c', $s), '200200200', 'a 5 s token on A, B and C');
    graceful('b');
    sleep 0.1 while time - $m < 6;
    is(join(' ', call('a', $s), call('b', $s), call('c', $s)), '401 401 401',
       '... after its expiry refused everywhere');
}

# ---- 5. redis stopped mid-run -------------------------------------------------
{
    graceful('b');
    my ($bs, $c) = (status('b'), calls());
    stop_redis();
    ok(!listening($PORT{redis}), 'outage: redis is stopped');
    is(join('', map { call('b', $_) } @T), '200' x @T, '... B still lets the 12 tokens through');
    is(calls() - $c, 0, '... without asking the provider');
    cmp_ok(delta($bs, status('b'), 'near_cache_hits'), '>=', 12, '... from its near cache');
    is(join('', map { call('a', $_) } @T), '200' x @T, '... and so does A');
    is(calls() - $c, 0, '... also without the provider');
    my $n1 = mint_token('app-read');
    is(call('b', $n1), 200, '... a new token: 200 on B ...');
    is(calls() - $c, 1, '... asking the provider');
    is(call('b', $n1) . call('b', $n1), '200200', '... and again');
    is(calls() - $c, 1, '... kept near while the fleet cache is down');
    cmp_ok(status('b')->{cache_errors}, '>', $bs->{cache_errors}, '... cache errors counted');
    ok(log_has('b', qr/OA2F10307/), '... and logged (OA2F10307)');
    is(crashes('a') + crashes('b'), 0, '... no child crashed');

    start_redis();
    ok(listening($PORT{redis}), 'recovery: redis is back (empty)');
    my $ok = 0;
    for my $try (1 .. 20) {
        my $t = mint_token('app-read');
        my $c1 = calls();
        my $codes = call('a', $t) . call('b', $t);
        if ($codes eq '200200' && calls() - $c1 == 1) { $ok = $try; last }
        sleep 0.5;
    }
    ok($ok, "... a token validated on A is read by B from redis again (try $ok)");
    ok(log_has('a', qr/OA2F10308/) && log_has('b', qr/OA2F10308/),
       '... both logged that the cache works again (OA2F10308)');
}

# ---- 6. a tampered fleet value never reaches a near cache ---------------------
{
    my $t = mint_token('app-read');
    my %before = map { $_ => 1 } redis_keys();
    is(call('a', $t), 200, 'tamper: A stores a token in redis');
    my @new = grep { !$before{$_} } redis_keys();
    my ($key) = sort { length(redis('GET', $b) // '') <=> length(redis('GET', $a) // '') } @new;
    ok($key, '... its entry is found');
    my $v = redis('GET', $key) // '';
    my $i = int(length($v) / 2);
    substr($v, $i, 1) = chr(ord(substr($v, $i, 1)) ^ 0x01);
    redis('SET', $key, $v, 'KEEPTTL');
    my ($bs, $c) = (status('b'), calls());
    is(call('b', $t), 200, '... B (which never saw it) reads the flipped value: still 200 ...');
    is(calls() - $c, 1, '... answered by the provider');
    my $b1 = status('b');
    # (at least once: with the fleet lock, the leader looks once more)
    cmp_ok(delta($bs, $b1, 'cache_corrupt'), '>=', 1, '... cache_corrupt counted');
    is(delta($bs, $b1, 'near_cache_stores'), 1, '... its own validation went near, nothing else');
    graceful('b');
    $bs = status('b');
    is(call('b', $t), 200, '... after a restart B serves it from its near cache ...');
    is(calls() - $c, 1, '... without a provider call');
    my $b2 = status('b');
    is(delta($bs, $b2, 'cache_corrupt'), 0, '... and nothing corrupt came out of it');
    is(delta($bs, $b2, 'near_cache_hits'), 1, '... one near hit');
}

# ---- 7. memcached -------------------------------------------------------------
{
    my $t = mint_token('app-read');
    my $c = calls();
    is(call('c', $t), 200, 'memcached: C validates a token');
    graceful('c');
    kill 'TERM', $mc_pid;
    waitpid $mc_pid, 0;
    ok(!listening($PORT{mc}), '... memcached is stopped');
    my $cs = status('c');
    is(call('c', $t), 200, '... C still lets it through ...');
    is(calls() - $c, 1, '... without asking the provider again');
    is(delta($cs, status('c'), 'near_cache_hits'), 1, '... from its near cache');
}

# ---- 8. the status page (text) and crashes ------------------------------------
{
    my $text = $ua->get("http://127.0.0.1:$PORT{a}/status")->decoded_content;
    like($text, qr/^near_cache_hits: \d+$/m, 'status page (text): near_cache_hits');
    like($text, qr/^near_cache_misses: \d+\n(?s:.*)^near_cache_stores: \d+$/m,
         '... near_cache_misses and near_cache_stores');
    my $prom = $ua->get("http://127.0.0.1:$PORT{a}/status?prometheus")->decoded_content;
    like($prom, qr/^oauth2_federated_near_cache_hits_total [1-9]\d*\n(?s:.*)^oauth2_federated_near_cache_stores_total [1-9]/m,
         'status page (?prometheus): near_cache_*_total');
    is(crashes('a') + crashes('b') + crashes('off') + crashes('c'), 0, 'no child crashed');
}

sub post_to {
    my ($url, $body) = @_;
    return $ua->request(POST $url, 'Content-Type' => $FORM, Content => $body);
}
