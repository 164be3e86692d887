# A fleet of two httpd servers sharing one cache (README "Cache"): a real Redis
# and a real memcached on loopback, each shared by two extra httpd
# instances this test starts next to the Apache::Test server. A token is
# introspected once for the whole fleet; the raw token is stored nowhere;
# a cache that goes away degrades to asking the provider, and comes back.
# Ports OA2F_FLEET_PORT_BASE (18540) .. +5, each checked free before use;
# redis and memcached are this test's children, used only once they
# report the pid it started, and stopped in END as the httpd instances.
use strict;
use warnings FATAL => 'all';

use Apache::Test qw(-withtestmore);
use Apache::TestConfig ();
use FindBin;
use lib "$FindBin::Bin/lib";
use OA2FTest;
use OA2FTest qw(port_free wait_port start_redis start_memcached stop_child);
use LWP::UserAgent ();
use File::Temp qw(tempdir);
use Time::HiRes qw(sleep);

my $REDIS = '/usr/bin/redis-server';
my $MEMCACHED = '/usr/bin/memcached';
my $INTROSPECT = '/token/introspection';

plan tests => 18, need({ 'redis-server is installed' => -x $REDIS,
                         'memcached is installed'    => -x $MEMCACHED });

my $cfg = Apache::Test::config();
my $httpd = $cfg->{vars}{httpd};
my $modules = $cfg->{vars}{libexecdir} || '/usr/lib/apache2/modules';
my $module = $ENV{OA2F_MODULE} || "$FindBin::Bin/../.libs/mod_oauth2_federated.so";
my $dir = tempdir('oa2f-fleet-XXXXXX', TMPDIR => 1, CLEANUP => 1);
chmod 0755, $dir;
my $pport = $ENV{OA2F_PROVIDER_PORT} || 18530;
# redis, its two servers, memcached, its two servers: OA2F_FLEET_PORT_BASE .. +5
my $FB = $ENV{OA2F_FLEET_PORT_BASE} || 18540;
my ($RA, $RB, $MA, $MB) = ($FB + 1, $FB + 2, $FB + 4, $FB + 5);
my @started;    # [kind, pid or pidfile]

my $ua = LWP::UserAgent->new(timeout => 15, keep_alive => 0);

# The servers of this test, each a child of ours on a port checked free
# first, used once it reports our pid (t/lib/OA2FTest.pm), stopped in END.
sub redis_up {
    my ($port) = @_;
    my $pid = start_redis($dir, $port, 'OA2F_FLEET_PORT_BASE', $REDIS);
    push @started, [ 'pid', $pid ];
    return $pid;
}

sub redis_down {
    my ($pid, $port) = @_;
    stop_child($pid);    # reaped: its port is closed
    @started = grep { $_->[1] ne $pid } @started;
    port_free($port, 'OA2F_FLEET_PORT_BASE');
}

# An httpd instance protecting /api with the shared cache.
sub start_httpd {
    my ($name, $port, $cache, $socache_mod) = @_;
    port_free($port, 'OA2F_FLEET_PORT_BASE');
    my $root = "$dir/$name";
    mkdir $root; mkdir "$root/logs"; mkdir "$root/htdocs";
    open my $ok, '>', "$root/htdocs/api" or die; print $ok "ok\n"; close $ok;
    system('chmod', '-R', 'a+rX', $root);
    open my $fh, '>', "$root/httpd.conf" or die;
    print $fh extra_httpd_head($root, $port, $modules), <<"CONF";
LoadModule $socache_mod
LoadModule oauth2_federated_module $module
OAuth2FederatedCache $cache
# required with redis/memcache (README "Trust boundaries"); the same on every server
OAuth2FederatedCacheSecret fleet-shared-secret
<Location /api>
    AuthType oauth2-federated
    AuthName "fleet"
    OAuth2FederatedEndpoint http://127.0.0.1:$pport$INTROSPECT
    OAuth2FederatedClientID rs-other
    OAuth2FederatedClientSecret rs-other-secret
    Require valid-user
</Location>
<Location /status>
    SetHandler oauth2-federated-status
</Location>
CONF
    close $fh;
    system($httpd, '-f', "$root/httpd.conf", '-k', 'start') == 0
        or die "httpd $name did not start: " . `cat $root/logs/error_log`;
    wait_port($port) or die "httpd $name not listening";
    push @started, [ 'httpd', "$root/httpd.pid" ];
    return $root;
}

sub call {
    my ($port, $token) = @_;
    return $ua->get("http://127.0.0.1:$port/api",
                    Authorization => "Bearer $token")->code;
}

sub crashes {
    my ($root) = @_;
    open my $fh, '<', "$root/logs/error_log" or return 0;
    return scalar grep { /exit signal|Segmentation fault|AddressSanitizer/ } <$fh>;
}

END { local $?; stop_started(@started) }

# ---- Redis -----------------------------------------------------------------
my $rport = $FB;
my $redis_pid = redis_up($rport);
my $a = start_httpd('redis-a', $RA, "redis:127.0.0.1:$rport",
                    "socache_redis_module $modules/mod_socache_redis.so");
my $b = start_httpd('redis-b', $RB, "redis:127.0.0.1:$rport",
                    "socache_redis_module $modules/mod_socache_redis.so");
{
    my $t = mint_token('app-read');
    my $c0 = provider_count($INTROSPECT);
    is(call($RA, $t), 200, 'redis fleet: server A lets the token through');
    is(call($RB, $t), 200, 'redis fleet: server B too');
    is(call($RA, $t), 200, 'redis fleet: A again');
    is(provider_count($INTROSPECT) - $c0, 1,
       'redis fleet: one provider call for the whole fleet');

    # The raw token is in no key and no value.
    my @keys = grep { length } split /\n/, `redis-cli -p $rport --raw keys '*'`;
    ok(scalar @keys >= 1, 'redis holds the entry (' . scalar(@keys) . ' keys)');
    my $leak = 0;
    for my $k (@keys) {
        $leak++ if index($k, $t) >= 0;
        my $v = `redis-cli -p $rport --raw get '$k'`;
        $leak++ if index($v, $t) >= 0;
    }
    is($leak, 0, 'the raw token appears in no redis key or value');
}
{
    # Redis goes away mid-run: correct answers from the provider, no crash.
    redis_down($redis_pid, $rport);
    my $t = mint_token('app-read');
    my $bad = fake_token();
    my $c0 = provider_count($INTROSPECT);
    is(call($RA, $t), 200, 'redis down: a good token still passes (asked the provider)');
    is(call($RA, $bad), 401, 'redis down: a bad token is still refused');
    is(call($RB, $t), 200, 'redis down: server B asks the provider too');
    is(provider_count($INTROSPECT) - $c0, 3, 'redis down: every request asked');

    $redis_pid = redis_up($rport);
    # apr_redis retries a server it marked dead after 5 s; recovery means
    # that, within seconds, the fleet shares verdicts again.
    my ($codes_ok, $shared, $tries) = (1, 0, 0);
    while (!$shared && $tries++ < 40) {
        my $t2 = mint_token('app-read');
        my $c = provider_count($INTROSPECT);
        my @codes = (call($RA, $t2), call($RB, $t2));
        $codes_ok = 0 if "@codes" ne '200 200';
        $shared = (provider_count($INTROSPECT) - $c) == 1;
        sleep 0.4 unless $shared;
    }
    ok($codes_ok, 'redis back: every token passes while it reconnects');
    ok($shared, "redis back: the fleet shares again (after $tries tokens)");
}
is(crashes($a) + crashes($b), 0, 'redis fleet: no child crashed');

# ---- memcached --------------------------------------------------------------
my $mport = $FB + 3;
push @started, [ 'pid', start_memcached($dir, $mport, 'OA2F_FLEET_PORT_BASE', $MEMCACHED) ];
my $ma = start_httpd('mc-a', $MA, "memcache:127.0.0.1:$mport",
                     "socache_memcache_module $modules/mod_socache_memcache.so");
my $mb = start_httpd('mc-b', $MB, "memcache:127.0.0.1:$mport",
                     "socache_memcache_module $modules/mod_socache_memcache.so");
{
    my $t = mint_token('app-read');
    my $c0 = provider_count($INTROSPECT);
    is(call($MA, $t), 200, 'memcached fleet: server A lets the token through');
    is(call($MB, $t), 200, 'memcached fleet: server B too');
    is(call($MB, $t), 200, 'memcached fleet: B again');
    is(provider_count($INTROSPECT) - $c0, 1,
       'memcached fleet: one provider call for the whole fleet');
}
is(crashes($ma) + crashes($mb), 0, 'memcached fleet: no child crashed');
