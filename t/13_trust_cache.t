# Trust boundaries of the validation cache (issue 11, points 1, 2, 3 and
# the memcached part of 9; README "Trust boundaries"):
#   1. a verdict never crosses a trust context: TLS verification, the CA
#      file's content (also across a graceful restart), the outgoing proxy
#      and its credentials are part of the provider identity;
#   2. an .htaccess cannot say where the credentials go (the provider
#      directives and the prefixes are configuration-file only);
#   3. a redis / memcache cache needs OAuth2FederatedCacheSecret, and its
#      values are sealed: nothing readable, a flipped, truncated or moved
#      value is a miss counted as cache_corrupt;
#   9. memcached TTLs over 30 days are clamped; an entry with less than a
#      second left logs no cache error.
# Provider calls are always read from the provider's (or stub's) own
# counters. The extra servers (redis, memcached, four httpd instances)
# listen on 127.0.0.1, ports OA2F_TRUST_PORT_BASE (18560) .. +7, each
# checked free before use; redis and memcached are this test's children,
# used only once they report the pid it started; all are stopped in END.
use strict;
use warnings FATAL => 'all';

use Apache::Test qw(-withtestmore);
use Apache::TestRequest qw(GET);
use FindBin;
use lib "$FindBin::Bin/lib";
use OA2FTest;
use OA2FTest qw(start_redis start_memcached);
use JSON::PP ();
use LWP::UserAgent ();
use IO::Socket::INET ();
use File::Path qw(make_path remove_tree);
use File::Temp qw(tempdir);
use Time::HiRes qw(sleep time);
use POSIX ();

my $REDIS     = '/usr/bin/redis-server';
my $MEMCACHED = '/usr/bin/memcached';
my $INTROSPECT = '/token/introspection';

# [ directive, its value in the .htaccess ] of the forbidden cases (§9)
my $STUB_PORT  = $ENV{OA2F_STUB_PORT}       || 18531;
my $PROXY_PORT = $ENV{OA2F_STUB_PROXY_PORT} || 18535;
my @FORBIDDEN = (
    [ OAuth2FederatedEndpoint     => "http://127.0.0.1:$STUB_PORT/trust-sink" ],
    [ OAuth2FederatedClientSecret => 'not-the-secret' ],
    [ OAuth2FederatedClientID     => 'app-read' ],
    [ OAuth2FederatedProxy        => "http://127.0.0.1:$PROXY_PORT" ],
    [ OAuth2FederatedSSLVerify    => 'Off' ],
    [ OAuth2FederatedCAFile       => $ENV{OA2F_TLS_GOOD_CA} ],
    [ OAuth2FederatedHeaderPrefix => 'X-Evil-' ],
    [ OAuth2FederatedEnvPrefix    => 'EVIL_' ],
    [ OAuth2FederatedProvider     => 'introspection' ],
    [ OAuth2FederatedClientAuth   => 'post' ],
    [ OAuth2FederatedSendTokenIn  => 'header' ],
    [ OAuth2FederatedTimeout      => '1 1' ],
    [ OAuth2FederatedMetadataURL  => "http://127.0.0.1:$STUB_PORT/.well-known/openid-configuration" ],
    # control: server-only already, so this one shows what httpd logs
    [ OAuth2FederatedCacheSecret  => 'htaccess-secret' ],
);

plan tests => 14 + (2 * @FORBIDDEN + 2) + 4 + 4 + 10 + 11 + 6 + 1,
     need_module('mod_alias.c'),
     need({ 'redis-server is installed' => -x $REDIS,
            'memcached is installed'    => -x $MEMCACHED });
# show failures and diag() without -verbose
Test::More->builder->failure_output(\*STDERR);

my $cfg = Apache::Test::config();
my $httpd = $cfg->{vars}{httpd};
my $modules = $cfg->{vars}{libexecdir} || '/usr/lib/apache2/modules';
my $module = $ENV{OA2F_MODULE} || "$FindBin::Bin/../.libs/mod_oauth2_federated.so";
my $t_logs = Apache::Test::vars('t_logs');
my $error_log = "$t_logs/error_log";
my $docroot = Apache::Test::vars('documentroot');
my $pport = $ENV{OA2F_PROVIDER_PORT} || 18530;
my $BASE = $ENV{OA2F_TRUST_PORT_BASE} || 18560;
my %PORT = (redis => $BASE, ra => $BASE + 1, rb => $BASE + 2,
            memcached => $BASE + 3, ma => $BASE + 4, mb => $BASE + 5,
            nosecret_redis => $BASE + 6, nosecret_mc => $BASE + 7);
my $dir = tempdir('oa2f-trust-XXXXXX', TMPDIR => 1, CLEANUP => 1);
chmod 0755, $dir;
my $json = JSON::PP->new;
my $ua = LWP::UserAgent->new(timeout => 15, keep_alive => 0);
my @started;               # pid files of what this test started
my @children;              # pids of the servers it runs as its children
my $swap_ca = $ENV{OA2F_TLS_SWAP_CA};
my $htroot = "$docroot/trust-ht";

sub slurp {
    my ($file) = @_;
    open my $fh, '<', $file or return '';
    binmode $fh;
    local $/;
    my $s = <$fh>;
    return $s // '';
}

sub spew {
    my ($file, $content, $mode) = @_;
    open my $fh, '>', $file or die "$file: $!";
    binmode $fh;
    print $fh $content;
    close $fh or die "$file: $!";
    chmod $mode // 0644, $file;
}

my $good_ca = slurp($ENV{OA2F_TLS_GOOD_CA});

END {
    local $?;    # keep the test's exit status (waitpid sets $?)
    # put back what the test changed, stop what it started
    spew($swap_ca, $good_ca) if $swap_ca && length $good_ca;
    remove_tree($htroot) if $htroot && -d $htroot;
    stop_started((map { [ 'pid', $_ ] } @children), map { [ 'httpd', $_ ] } @started);
}

sub get_with {
    my ($url, $token) = @_;
    return GET $url, Authorization => "Bearer $token";
}

# What the error log of the Apache::Test server got since OFFSET.
sub log_since {
    my ($file, $offset) = @_;
    my $all = slurp($file);
    return length $all > $offset ? substr($all, $offset) : '';
}

sub wait_port {
    my ($port) = @_;
    for (1 .. 100) {
        return 1 if IO::Socket::INET->new(PeerAddr => "127.0.0.1:$port",
                                          Timeout => 1);
        sleep 0.1;
    }
    return 0;
}

# The children of PID (from /proc).
sub children_of {
    my ($pid) = @_;
    my @kids;
    for my $stat (glob '/proc/[0-9]*/stat') {
        my $s = slurp($stat);
        push @kids, $1 if $s =~ /^(\d+) \(.*\) \S+ (\d+) / && $2 == $pid;
    }
    return @kids;
}

# apachectl graceful of the Apache::Test server; returns once the new
# generation is up and the old children are gone (bounded waits).
sub graceful_main {
    my $pidfile = "$t_logs/httpd.pid";
    chomp(my $pid = slurp($pidfile));
    die "no pid in $pidfile" unless $pid =~ /^\d+$/;
    my @old = children_of($pid);
    my $offset = -s $error_log // 0;
    kill 'USR1', $pid or die "kill USR1 $pid: $!";
    my $t0 = time;
    until (log_since($error_log, $offset) =~ /resuming normal operations/) {
        die 'graceful restart: no "resuming normal operations" within 20 s'
            if time - $t0 > 20;
        sleep 0.1;
    }
    # old children finish what they do and exit; wait for them (the cgid
    # daemon, if it survives a graceful, is not a request child)
    my $t1 = time;
    my @left;
    while (@left = grep { kill 0, $_ } @old) {
        last if time - $t1 > 10;
        sleep 0.1;
    }
    note(sprintf 'graceful of %d: new generation after %.1f s, %d old children gone after %.1f s%s',
         $pid, $t1 - $t0, scalar @old, time - $t1, @left ? " (still there: @left)" : '');
    sleep 0.3;
}

# ---- 1. A verdict never crosses a trust context --------------------------------
{
    my $t = fake_token();          # the TLS stub calls any token active
    is(get_with('/trust/ctx/tls-noverify', $t)->code, 200,
       'SSLVerify Off: the stub with a certificate for another host answers, 200');
    is(get_with('/trust/ctx/tls-verify', $t)->code, 401,
       'same token and endpoint with verification on: 401 (TLS fails), not the cached 200');
}
{
    my $t = fake_token();
    is(get_with('/trust/ctx/ca-good', $t)->code, 200,
       'CAFile with the good CA against the 127.0.0.1 certificate: 200');
    is(get_with('/trust/ctx/ca-wrong', $t)->code, 401,
       'same token and endpoint with the wrong CAFile: 401, not the cached 200');
}
SKIP: {
    skip 'OA2F_TLS_SWAP_CA is not set (t/run-e2e.sh or t/TEST.PL sets it)', 3
        unless $swap_ca && -f $swap_ca && length $good_ca;
    spew($swap_ca, $good_ca);
    my $t = fake_token();
    is(get_with('/trust/ctx/ca-swap', $t)->code, 200,
       'CA file with the good content: 200');
    spew($swap_ca, slurp($ENV{OA2F_TLS_WRONG_CA}));
    graceful_main();
    is(get_with('/trust/ctx/ca-swap', $t)->code, 401,
       'same CA path, wrong content, after apachectl graceful: 401, the old entry is not served');
    is(get_with('/trust/ctx/ca-swap', fake_token())->code, 401,
       '... (control: a new token there is refused too, the new content is in effect)');
    spew($swap_ca, $good_ca);
}
{
    # The forging proxy answers "active" for anything; the real provider
    # knows nothing of a fake token.
    my $t = fake_token();
    my $p0 = stub_count('/__proxy');
    is(get_with('/trust/ctx/proxy-p', $t)->code, 200,
       'through the forging proxy: a fake token gets 200');
    is(stub_count('/__proxy') - $p0, 1, '... the proxy was asked once');
    my $c0 = provider_count($INTROSPECT);
    is(get_with('/trust/ctx/proxy-q', $t)->code, 401,
       'same token and endpoint without the proxy: 401, not the forged 200 from the cache');
    is(provider_count($INTROSPECT) - $c0, 1, '... the real provider was asked');
    my $a0 = stub_count('/__proxy/auth/proxy-user:other-pass');
    get_with('/trust/ctx/proxy-p2', $t);
    is(stub_count('/__proxy') - $p0, 2,
       'same proxy with other USER:PASSWORD: the proxy is asked again (2 requests, not 1)');
    is(stub_count('/__proxy/auth/proxy-user:other-pass') - $a0, 1,
       '... with the second credentials');
    is(stub_count('/__proxy/auth/proxy-user:proxy-pass') >= 1 ? 1 : 0, 1,
       '... the first location sent its own credentials');
}

# ---- 2. .htaccess cannot redirect the credentials -------------------------------
remove_tree($htroot);
make_path($htroot, { mode => 0755 });
chmod 0755, $htroot;
sub htaccess_dir {
    my ($name, $content) = @_;
    my $d = "$htroot/$name";
    make_path($d);
    chmod 0755, $d;
    spew("$d/ok.txt", "ok\n");
    spew("$d/.htaccess", $content);
    return $d;
}

for my $case (@FORBIDDEN) {
    my ($directive, $value) = @$case;
    (my $name = lc $directive) =~ s/^oauth2federated//;
    my $d = htaccess_dir($name, "$directive $value\n");
    my $t = ($name eq 'endpoint' || $name eq 'proxy') ? fake_token() : mint_token('app-read');
    my $offset = -s $error_log // 0;
    my $sink0 = stub_count('/trust-sink');
    my $proxy0 = stub_count('/__proxy');
    my $res = get_with("/trust-ht/$name/ok.txt", $t);
    is($res->code, 500, ".htaccess with $directive: 500");
    my @lines = grep { index($_, "$d/.htaccess") >= 0 && index($_, $directive) >= 0 }
                split /\n/, log_since($error_log, $offset);
    ok(scalar @lines, "... and the error log names $directive ('not allowed here')")
        or diag('got ' . $res->code . '; error log lines about .htaccess files: '
                . join "\n", grep { /htaccess/ } split /\n/, log_since($error_log, $offset));
    if ($name eq 'endpoint') {
        is(stub_count('/trust-sink') - $sink0, 0,
           '... the endpoint it names never received the inherited credentials');
    }
    if ($name eq 'proxy') {
        is(stub_count('/__proxy') - $proxy0, 0, '... the proxy it names was never asked');
    }
}
{
    # only what decides who passes: allowed, and the configuration file's
    # provider is used
    my $d = htaccess_dir('allowed', <<'HT');
AuthType oauth2-federated
AuthName "trust-ht-allowed"
Require oauth2-scope read
OAuth2FederatedCacheMaxTTL 5
OAuth2FederatedNegativeCacheTTL 0
OAuth2FederatedAcceptTokenIn header
OAuth2FederatedStatusProfile gateway
OAuth2FederatedExposeHeaders On
OAuth2FederatedRemoteUserField username client_id
OAuth2FederatedStripToken query
HT
    my $offset = -s $error_log // 0;
    my $t = mint_token('app-read');
    my $c0 = provider_count($INTROSPECT);
    is(get_with('/trust-ht/allowed/ok.txt', $t)->code, 200,
       '.htaccess with only allowed directives: a valid token gets 200');
    is(provider_count($INTROSPECT) - $c0, 1,
       '... validated once by the provider of the configuration file');
    is(GET('/trust-ht/allowed/ok.txt')->code, 400, '... no token: 400');
    my @bad = grep { index($_, "$d/.htaccess") >= 0 } split /\n/, log_since($error_log, $offset);
    is(scalar @bad, 0, '... and no error about that .htaccess') or diag(join "\n", @bad);
}

# ---- extra servers: redis, memcached, httpd instances ---------------------------
# Never talk to someone else's server on our port.
sub port_free {
    my ($port) = @_;
    die "port $port is already in use (set OA2F_TRUST_PORT_BASE)\n"
        if IO::Socket::INET->new(PeerAddr => "127.0.0.1:$port", Timeout => 1);
}

sub start_redis_here {
    my ($port) = @_;
    push @children, start_redis($dir, $port, 'OA2F_TRUST_PORT_BASE', $REDIS);
}

sub start_memcached_here {
    my ($port) = @_;
    push @children, start_memcached($dir, $port, 'OA2F_TRUST_PORT_BASE', $MEMCACHED);
}

my %SOCACHE = (
    redis    => "socache_redis_module $modules/mod_socache_redis.so",
    memcache => "socache_memcache_module $modules/mod_socache_memcache.so",
);

# The configuration of an httpd instance on a shared cache.
sub write_instance {
    my ($name, $port, $kind, $cache_port, $secret) = @_;
    my $root = "$dir/$name";
    make_path("$root/logs", "$root/htdocs");
    spew("$root/htdocs/$_", "ok\n") for qw(api admin exp40d exp1);
    system('chmod', '-R', 'a+rX', $root);
    my $secret_line = defined $secret ? "OAuth2FederatedCacheSecret $secret" : '';
    my $loc = sub {
        my ($path, $endpoint, $require, $creds) = @_;
        return "<Location /$path>\n    AuthType oauth2-federated\n    AuthName trust\n"
             . "    OAuth2FederatedEndpoint $endpoint\n"
             . ($creds ? "    OAuth2FederatedClientID rs-other\n"
                       . "    OAuth2FederatedClientSecret rs-other-secret\n" : '')
             . "    Require $require\n</Location>\n";
    };
    my $stub = "http://127.0.0.1:$STUB_PORT";
    spew("$root/httpd.conf", extra_httpd_head($root, $port, $modules) . <<"CONF" . join '',
LoadModule $SOCACHE{$kind}
LoadModule oauth2_federated_module $module
OAuth2FederatedCache $kind:127.0.0.1:$cache_port
$secret_line
<Location /status>
    SetHandler oauth2-federated-status
</Location>
CONF
        $loc->('api', "http://127.0.0.1:$pport$INTROSPECT", 'valid-user', 1),
        $loc->('admin', "http://127.0.0.1:$pport$INTROSPECT", 'oauth2-scope admin', 1),
        $loc->('exp40d', "$stub/exp-40d", 'valid-user', 0),
        $loc->('exp1', "$stub/exp-1s", 'valid-user', 0));
    return $root;
}

sub start_instance {
    my ($root, $port) = @_;
    port_free($port);
    my $out = `'$httpd' -f '$root/httpd.conf' -k start 2>&1`;
    $? == 0 or die "httpd $root did not start: $out" . slurp("$root/logs/error_log");
    push @started, "$root/httpd.pid";
    wait_port($port) or die "httpd $root not listening";
}

sub call {
    my ($port, $path, $token) = @_;
    return $ua->get("http://127.0.0.1:$port/$path",
                    $token ? (Authorization => "Bearer $token") : ())->code;
}

sub status_of {
    my ($port) = @_;
    my $res = $ua->get("http://127.0.0.1:$port/status?json");
    return eval { $json->decode($res->decoded_content) } // {};
}

sub delta {
    my ($before, $after, $name) = @_;
    return ($after->{$name} // 0) - ($before->{$name} // 0);
}

# ---- redis, binary-safe (RESP over a socket) -------------------------------------
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
    if ($type eq '*') {
        return [ map { resp_read($s) } 1 .. $rest ];
    }
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

sub redis_keys { return sort @{ redis('KEYS', '*') } }

# The key an httpd request with TOKEN added to redis (the largest new value).
sub redis_store_through {
    my ($port, $path, $token) = @_;
    my %before = map { $_ => 1 } redis_keys();
    my $code = call($port, $path, $token);
    my @new = grep { !$before{$_} } redis_keys();
    my ($key) = sort { length(redis('GET', $b) // '') <=> length(redis('GET', $a) // '') } @new;
    return ($code, $key);
}

# ---- memcached (text protocol) ---------------------------------------------------
sub mc_session {
    my $s = IO::Socket::INET->new(PeerAddr => "127.0.0.1:$PORT{memcached}", Timeout => 5)
        or die "memcached: $!";
    binmode $s;
    return $s;
}

sub mc_keys {
    my @keys;
    for (1 .. 20) {                     # the crawler may be busy
        my $s = mc_session();
        print $s "lru_crawler metadump all\r\n";
        my $busy = 0;
        while (my $l = <$s>) {
            last if $l =~ /^END\r?\n/;
            if ($l =~ /^BUSY|^ERROR/) { $busy = 1; last }
            push @keys, $1 if $l =~ /^key=(\S+)/;
        }
        close $s;
        last unless $busy;
        sleep 0.1;
    }
    return map { (my $k = $_) =~ s/%([0-9A-Fa-f]{2})/chr hex $1/ge; $k } @keys;
}

sub mc_get {
    my ($key) = @_;
    my $s = mc_session();
    print $s "get $key\r\n";
    my $head = <$s> // '';
    my $val;
    if ($head =~ /^VALUE \S+ \d+ (\d+)/) {
        my $n = $1;
        $val = '';
        while (length $val < $n + 2) {
            my $got = read($s, $val, $n + 2 - length $val, length $val);
            last unless $got;
        }
        $val = substr($val, 0, $n);
    }
    close $s;
    return $val;
}

# The values among VALUES that show one of NEEDLES.
sub readable {
    my ($values, @needles) = @_;
    my @seen;
    for my $v (@$values) {
        push @seen, grep { index($v, $_) >= 0 } @needles;
    }
    return @seen;
}

# Words of the provider's verdicts that a sealed value must not show.
my @VERDICT_WORDS = ('app-read', 'app-admin', 'user-app-read', 'user-app-admin',
                     'staff', 'urn:oa2f:test-api', 'active', 'read', 'write', 'admin',
                     'trust-40d-client', 'trust-40d-user');

start_redis_here($PORT{redis});
start_memcached_here($PORT{memcached});

# ---- 3. A shared cache without a secret does not start ---------------------------
for my $kind (qw(redis memcache)) {
    my $name = "nosecret-$kind";
    my $port = $kind eq 'redis' ? $PORT{nosecret_redis} : $PORT{nosecret_mc};
    my $root = write_instance($name, $port, $kind,
                              $kind eq 'redis' ? $PORT{redis} : $PORT{memcached}, undef);
    port_free($port);
    my $out = `'$httpd' -t -f '$root/httpd.conf' 2>&1`;
    my $failed = $? != 0;
    unless ($failed) {                 # the check may sit after -t's phase
        $out .= `'$httpd' -f '$root/httpd.conf' -k start 2>&1`;
        $failed = $? != 0;
        unless ($failed) {
            # started, or failed after detaching: does it answer within 3 s?
            push @started, "$root/httpd.pid";
            my $answers = 0;
            for (1 .. 30) {
                my $res = $ua->get("http://127.0.0.1:$port/status");
                $answers = 1, last unless $res->header('Client-Warning');
                sleep 0.1;
            }
            $failed = !$answers;
            $out .= `'$httpd' -f '$root/httpd.conf' -k stop 2>&1` if $answers;
        }
    }
    $out .= slurp("$root/logs/error_log");
    ok($failed, "OAuth2FederatedCache $kind:… without OAuth2FederatedCacheSecret: start-up fails");
    my @named = grep { /OAuth2FederatedCache(?!Secret)/ && /OAuth2FederatedCacheSecret/ }
                split /\n/, $out;
    ok(scalar @named, '... with a message naming OAuth2FederatedCache and OAuth2FederatedCacheSecret')
        or diag($out);
}

my $ra = write_instance('ra', $PORT{ra}, 'redis', $PORT{redis}, 'trust-shared-secret');
my $rb = write_instance('rb', $PORT{rb}, 'redis', $PORT{redis}, 'trust-shared-secret');
my $ma = write_instance('ma', $PORT{ma}, 'memcache', $PORT{memcached}, 'trust-shared-secret');
my $mb = write_instance('mb', $PORT{mb}, 'memcache', $PORT{memcached}, 'trust-shared-secret');
start_instance($ra, $PORT{ra});
start_instance($rb, $PORT{rb});
start_instance($ma, $PORT{ma});
start_instance($mb, $PORT{mb});

# ---- 3. Sealed values: nothing readable ------------------------------------------
my (%rtok, %rkey);
{
    %rtok = (admin => mint_token('app-admin'), moved => mint_token('app-read'),
             flip => mint_token('app-read'), trunc => mint_token('app-read'));
    my @codes;
    for my $k (qw(admin moved flip trunc)) {
        (my $code, $rkey{$k}) = redis_store_through($PORT{ra}, 'api', $rtok{$k});
        push @codes, $code;
    }
    is("@codes", '200 200 200 200', 'redis: server A lets four tokens through');
    is(scalar(grep { defined } values %rkey), 4, '... each left an entry in redis');
    my @keys = redis_keys();
    my @values = map { redis('GET', $_) // '' } @keys;
    my @seen = readable([ @keys, @values ], values %rtok);
    is(scalar @seen, 0, 'redis: no key or value holds a token');
    @seen = readable(\@values, @VERDICT_WORDS);
    is(scalar @seen, 0, 'redis: no value shows a field of the verdict (sealed)')
        or diag('readable: ' . join ', ', sort keys %{{ map { $_ => 1 } @seen }});

    my $t = mint_token('app-read');
    is(call($PORT{ma}, 'api', $t), 200, 'memcached: server A lets a token through');
    my $c0 = provider_count($INTROSPECT);
    is(call($PORT{mb}, 'api', $t), 200,
       'memcached: server B serves it from the shared cache ...');
    is(provider_count($INTROSPECT) - $c0, 0, '... without a provider call');
    my @mkeys = mc_keys();
    my @mvalues = grep { defined } map { mc_get($_) } @mkeys;
    ok(scalar @mvalues >= 1, 'memcached holds the entry (' . scalar(@mvalues) . ' values)');
    @seen = readable([ @mkeys, @mvalues ], $t);
    is(scalar @seen, 0, 'memcached: no key or value holds the token');
    @seen = readable(\@mvalues, @VERDICT_WORDS);
    is(scalar @seen, 0, 'memcached: no value shows a field of the verdict (sealed)')
        or diag('readable: ' . join ', ', sort keys %{{ map { $_ => 1 } @seen }});
}

# ---- 3. Tampered values are misses, counted as cache_corrupt ---------------------
# Read through server B, which never saw these tokens (no per-child or
# near copy can answer for the shared cache).
{
    my $c0 = provider_count($INTROSPECT);
    is(call($PORT{rb}, 'admin', $rtok{admin}), 200,
       'redis: server B serves an untouched entry ...');
    is(provider_count($INTROSPECT) - $c0, 0, '... from the shared cache (control)');

    my %tamper = (
        flip  => sub { my $v = shift; my $i = int(length($v) / 2);
                       substr($v, $i, 1) = chr(ord(substr($v, $i, 1)) ^ 0x01); $v },
        trunc => sub { my $v = shift; substr($v, 0, int(length($v) / 2)) },
    );
    for my $case (qw(flip trunc)) {
        SKIP: {
            skip "no redis entry for the $case token", 3 unless $rkey{$case};
            my $v = redis('GET', $rkey{$case}) // '';
            redis('SET', $rkey{$case}, $tamper{$case}->($v), 'KEEPTTL');
            my $before = status_of($PORT{rb});
            my $c1 = provider_count($INTROSPECT);
            is(call($PORT{rb}, 'api', $rtok{$case}), 200,
               "redis: a ${\ ($case eq 'flip' ? 'value with a flipped byte' : 'truncated value')}: still 200 ...");
            is(provider_count($INTROSPECT) - $c1, 1, '... answered by the provider, not the entry');
            cmp_ok(delta($before, status_of($PORT{rb}), 'cache_corrupt'), '>=', 1,
                   '... and cache_corrupt increased');
        }
    }
    SKIP: {
        skip 'no redis entries for the moved-value case', 3 unless $rkey{admin} && $rkey{moved};
        # the admin token's sealed value under the read-only token's name
        redis('SET', $rkey{moved}, redis('GET', $rkey{admin}) // '', 'KEEPTTL');
        my $before = status_of($PORT{rb});
        my $c1 = provider_count($INTROSPECT);
        is(call($PORT{rb}, 'admin', $rtok{moved}), 403,
           "redis: another token's value copied over a read-only token's entry: 403, not the admin verdict");
        is(provider_count($INTROSPECT) - $c1, 1, '... answered by the provider');
        cmp_ok(delta($before, status_of($PORT{rb}), 'cache_corrupt'), '>=', 1,
               '... and cache_corrupt increased');
    }
}

# ---- 9. memcached: a token for 40 days is stored; < 1 s left logs no error -------
{
    my $t = fake_token();
    my $c0 = stub_count('/exp-40d');
    my @codes = (call($PORT{ma}, 'exp40d', $t), call($PORT{mb}, 'exp40d', $t));
    is("@codes", '200 200', 'memcached: a token expiring in 40 days passes at A and B');
    is(stub_count('/exp-40d') - $c0, 1,
       '... with one provider call (its TTL is clamped, not read as a date in 1970)');
}
for my $which ([ redis => $PORT{ra}, $ra ], [ memcached => $PORT{ma}, $ma ]) {
    my ($kind, $port, $root) = @$which;
    my $offset = -s "$root/logs/error_log" // 0;
    my $before = status_of($port);
    my $code = 0;
    for (1 .. 3) {       # 401 only if the request took more than the second
        $code = call($port, 'exp1', fake_token());
        last if $code == 200;
    }
    my $after = status_of($port);
    is($code, 200, "$kind: an answer with exp = now + 1 passes");
    my @bad = grep { /\[oauth2_federated:(?:error|crit|alert|emerg)\]/ || /cache store failed/ }
              split /\n/, log_since("$root/logs/error_log", $offset);
    is(scalar(@bad) + delta($before, $after, 'cache_errors'), 0,
       "... and is no cache error (no error line, cache_errors unchanged)")
        or diag(join("\n", @bad) . "\ncache_errors +" . delta($before, $after, 'cache_errors'));
}

{
    my $crashes = 0;
    for my $root ($ra, $rb, $ma, $mb) {
        $crashes += () = slurp("$root/logs/error_log")
            =~ /exit signal|Segmentation fault|AddressSanitizer/g;
    }
    is($crashes, 0, 'no child of the extra servers crashed');
}
