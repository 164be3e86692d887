# The fleet lock over a redis before 7.0 (README "Cache", the fleet lock):
# the module's first try of `SET <entry> <claim> NX PX <ms> GET` is
# refused, OA2F11008 says so once, and from then on a new token costs the
# lookup, the lock key and the store (GET, SET NX on
# oauth2-federated-lock:<hex>, SETEX), each token one provider call, no
# corrupt entry. Debian has only redis 7, so t/servers/redis-relay.js sits
# in front of a real redis-server and refuses what redis 6 refuses (SET
# with NX and GET); everything else reaches the real server. Ports
# OA2F_OLDREDIS_PORT_BASE (else OA2F_NEW_PORT_BASE, else 18710) .. +2,
# 127.0.0.1 only, checked free first, stopped at the end.
use strict;
use warnings FATAL => 'all';

use Apache::Test qw(-withtestmore);
use FindBin;
use lib "$FindBin::Bin/lib";
use OA2FTest qw(:DEFAULT port_free wait_port start_redis spawn);
use LWP::UserAgent ();
use File::Temp qw(tempdir);
use Time::HiRes qw(sleep);

my $REDIS = '/usr/bin/redis-server';
plan tests => 10,
     need({ 'redis-server is installed' => -x $REDIS,
            'node is installed' => scalar(grep { -x "$_/node" } split /:/, $ENV{PATH}) });
Test::More->builder->failure_output(\*STDERR);

my $cfg = Apache::Test::config();
my $httpd = $cfg->{vars}{httpd};
my $modules = $cfg->{vars}{libexecdir} || '/usr/lib/apache2/modules';
my $module = $ENV{OA2F_MODULE} || "$FindBin::Bin/../.libs/mod_oauth2_federated.so";
my $stub_port = $ENV{OA2F_STUB_PORT} || 18531;
my $VAR = 'OA2F_OLDREDIS_PORT_BASE';
my $BASE = $ENV{$VAR} || $ENV{OA2F_NEW_PORT_BASE} || 18710;
my %PORT = (redis => $BASE, relay => $BASE + 1, httpd => $BASE + 2);
my $dir = tempdir('oa2f-oldredis-XXXXXX', TMPDIR => 1, CLEANUP => 1);
chmod 0755, $dir;    # httpd's children (www-data) read htdocs below it
my $ua = LWP::UserAgent->new(timeout => 30, keep_alive => 0);
my @started;

END {
    local $?;
    stop_started(@started) if @started;
}

port_free($PORT{$_}, $VAR) for sort keys %PORT;

sub slurp {
    my ($file) = @_;
    open my $fh, '<', $file or return '';
    local $/;
    return <$fh> // '';
}

push @started, [ 'pid', start_redis($dir, $PORT{redis}, $VAR) ];

my $relay = do {
    local @ENV{qw(OA2F_RELAY_PORT OA2F_RELAY_UPSTREAM OA2F_PARENT_PID OA2F_SERVER_LIFETIME)}
        = ($PORT{relay}, $PORT{redis}, $$, 300);
    spawn("$dir/relay.log", 'node', "$FindBin::Bin/servers/redis-relay.js");
};
push @started, [ 'pid', $relay ];
wait_port($PORT{relay}) or die 'redis-relay.js did not come up: ' . slurp("$dir/relay.log");

# one child, so that "once" means once
my $root = "$dir/httpd";
mkdir $root; mkdir "$root/logs"; mkdir "$root/htdocs";
open my $ok, '>', "$root/htdocs/api" or die; print $ok "ok\n"; close $ok;
system('chmod', '-R', 'a+rX', $root);
open my $fh, '>', "$root/httpd.conf" or die;
print $fh extra_httpd_head($root, $PORT{httpd}, $modules), <<"CONF";
LogLevel warn oauth2_federated:info
ServerLimit 1
StartServers 1
ThreadsPerChild 16
MaxRequestWorkers 16
MinSpareThreads 1
MaxSpareThreads 16
LoadModule socache_redis_module $modules/mod_socache_redis.so
LoadModule oauth2_federated_module $module
OAuth2FederatedCache redis:127.0.0.1:$PORT{relay}
OAuth2FederatedCacheSecret old-redis-secret
<Location /api>
    AuthType oauth2-federated
    AuthName "old-redis"
    OAuth2FederatedEndpoint "http://127.0.0.1:$stub_port/slow?ms=50"
    OAuth2FederatedTimeout 2 4
    Require valid-user
</Location>
CONF
close $fh;
system($httpd, '-f', "$root/httpd.conf", '-k', 'start') == 0
    or die 'httpd did not start: ' . slurp("$root/logs/error_log");
push @started, [ 'httpd', "$root/httpd.pid" ];
wait_port($PORT{httpd}) or die 'httpd not listening';

# What the real redis's MONITOR saw while `code` ran: its lines.
sub monitored {
    my ($code) = @_;
    my $mpid = open(my $mfh, '-|', "exec redis-cli -p $PORT{redis} monitor")
        or die "redis-cli monitor: $!";
    my $first = <$mfh>;    # "OK" once monitoring
    my @r = $code->();
    sleep 0.3;
    kill 'TERM', $mpid;
    my @seen = <$mfh>;
    close $mfh;
    return (\@seen, @r);
}

sub get_api {
    my ($token) = @_;
    return $ua->get("http://127.0.0.1:$PORT{httpd}/api", Authorization => "Bearer $token")->code;
}

my @T = map { fake_token() } 1 .. 3;
my $c0 = stub_count('/slow');
is(get_api($T[0]), 200, 'redis before 7.0: a new token passes');
like(slurp("$dir/relay.log"), qr/refused SET … NX … GET/,
     '... the claim (SET NX GET) was tried and refused');

my ($seen, $code) = monitored(sub { get_api($T[1]) });
is($code, 200, '... the next new token passes');
my @cmds = map { /"(\w+)" "(oauth2-federated[:-][^"]*)"/ ? uc($1) . ' ' . $2 : () }
    grep { !/lua\]/ } @$seen;
my ($lock) = map { /^SET (oauth2-federated-lock:[0-9a-f]{64})$/ ? $1 : () } @cmds;
ok($lock, '... its lock is a key of its own (SET NX on oauth2-federated-lock:…)');
my @entry = grep { /^(GET|SETEX) oauth2-federated:[0-9a-f]{64}$/ } @cmds;
like(join(' ', map { (split / /)[0] } @entry), qr/^GET SETEX$/,
     '... looked up (GET) and stored (SETEX): ' . join(', ', map { substr($_, 0, 30) } @cmds));
ok(!grep({ /"SET" "oauth2-federated:[^"]*" .*"GET"/i } @$seen),
   '... no SET NX GET reached redis again (the child stopped trying)');

is(get_api($T[2]), 200, '... and a third');
is(stub_count('/slow') - $c0, 3, '... one provider call per token');
my $log = slurp("$root/logs/error_log");
my $n11008 = () = $log =~ /OA2F11008/g;
is($n11008, 1, "OA2F11008 once: $n11008");
unlike($log, qr/OA2F10314|does not authenticate/,
       'no entry taken as corrupt');
