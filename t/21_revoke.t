# SetHandler oauth2-federated-revoke (README "Revocation"), locations in
# conf/revoke.conf.in: bad requests (400 / 405, fast, without reading a
# large body); token= removes a token's verdicts under every provider of
# the server (provider calls counted on the provider's side); client_id=
# and sub= rule out what was validated before the revocation, and what is
# validated after it is cached again; the location is protected by an
# ordinary Require line. Then two fleets of two extra httpd servers, one
# on a real redis-server and one on a real memcached: a token revoked on
# server A is refused by server B within 2 s, by token and by client id.
# Ports OA2F_REVOKE_PORT_BASE (18620) .. +5, each checked free before use;
# everything the test starts is stopped in END.
use strict;
use warnings FATAL => 'all';

use Apache::Test qw(-withtestmore);
use Apache::TestRequest ();
use FindBin;
use lib "$FindBin::Bin/lib";
use OA2FTest;
use OA2FTest qw(port_free start_redis start_memcached);
use LWP::UserAgent ();
use HTTP::Request ();
use IO::Socket::INET ();
use IO::Select ();
use File::Temp qw(tempdir);
use Time::HiRes qw(sleep time);
use POSIX ();

my $REDIS = '/usr/bin/redis-server';
my $MEMCACHED = '/usr/bin/memcached';
my $FORM = 'application/x-www-form-urlencoded';

plan tests => 68, need({ 'redis-server is installed' => -x $REDIS,
                         'memcached is installed'    => -x $MEMCACHED });

my $hp = Apache::TestRequest::hostport();
my $ua = LWP::UserAgent->new(timeout => 15, keep_alive => 0);

sub post_to {
    my ($url, $body, $type) = @_;
    my $req = HTTP::Request->new(POST => $url);
    $req->header('Content-Type' => $type) if defined $type;
    $req->content($body // '');
    return $ua->request($req);
}

sub revoke { return post_to("http://$hp/revoke/handler", $_[0], $_[1] // $FORM) }

sub get_api {
    my ($what, $token) = @_;
    return $ua->get("http://$hp/revoke/api/$what",
                    Authorization => "Bearer $token")->code;
}

sub stats { return OA2FTest::stats_of("http://$hp/revoke/status?json") }

# A raw request; the status line of the answer, and the seconds it took.
sub raw_request {
    my ($head, $body) = @_;
    my $t0 = time;
    my $s = IO::Socket::INET->new(PeerAddr => $hp, Timeout => 5) or die "connect $hp: $!";
    local $SIG{PIPE} = 'IGNORE';
    syswrite($s, $head);
    syswrite($s, $body) if defined $body;    # may stop short: the server closes
    my ($got, $sel) = ('', IO::Select->new($s));
    while ($sel->can_read(5)) {
        my $n = sysread($s, my $buf, 65536);
        last unless $n;
        $got .= $buf;
        last if $got =~ /\r\n\r\n/;
    }
    close $s;
    my ($line) = $got =~ /^(HTTP\/\S+ \d+)/;
    return ($line // '(no answer)', time - $t0);
}

# ---- bad requests ------------------------------------------------------------
{
    my $res = $ua->get("http://$hp/revoke/handler");
    is($res->code, 405, 'GET: 405');
    is($res->header('Allow'), 'POST', 'GET: Allow: POST');

    $res = revoke('');
    is($res->code, 400, 'empty body: 400');
    ok(body_ok($res), 'empty body: a one-line answer');

    my ($line, $took) = raw_request(
        "POST /revoke/handler HTTP/1.1\r\nHost: $hp\r\nContent-Type: $FORM\r\n"
        . "Content-Length: 10485760\r\n\r\n", 'sub=' . ('a' x 65536));
    like($line, qr/ 400$/, '10 MB body: 400');
    cmp_ok($took, '<', 3, sprintf('10 MB body: answered at once (%.2f s), not read', $took));

    my $chunk = 'a' x 4096;
    my $chunked = join '', map { sprintf("%x\r\n%s\r\n", length $chunk, $chunk) } 1 .. 4;
    ($line, $took) = raw_request(
        "POST /revoke/handler HTTP/1.1\r\nHost: $hp\r\nContent-Type: $FORM\r\n"
        . "Transfer-Encoding: chunked\r\n\r\n", "4\r\nsub=\r\n$chunked" . "0\r\n\r\n");
    like($line, qr/ 400$/, 'chunked body over 8 KiB: 400');

    is(revoke('token=abc&sub=alice')->code, 400, 'two parameters: 400');
    is(revoke('sub=alice&sub=alice')->code, 400, 'the same parameter twice: 400');
    is(revoke('user=alice')->code, 400, 'an unknown parameter: 400');
    is(revoke('sub=alice', 'text/plain')->code, 400, 'wrong content type: 400');
    is(post_to("http://$hp/revoke/handler", 'sub=alice')->code, 400,
       'no content type: 400');
    is(revoke('token=abc%21def')->code, 400, 'a token outside b64token: 400');
    is(revoke('sub=a%0Ab')->code, 400, 'a sub with a control character: 400');
    is(revoke("sub=alice", "$FORM; charset=UTF-8")->code, 204,
       'a charset parameter is fine: 204');

    my $before = stats()->{revocations};
    is(post_to("http://$hp/revoke/handler-denied", 'sub=x', $FORM)->code, 403,
       'Require ip the client does not meet: 403');
    is(stats()->{revocations}, $before, '... and nothing was revoked');
}

# ---- token= on one server ------------------------------------------------------
{
    my $t = mint_token('app-read');
    my $c0 = provider_count();
    is(join(' ', map { get_api($_, $t) } qw(provider provider provider2 provider2)),
       '200 200 200 200', 'token: cached under two provider identities');
    is(provider_count() - $c0, 2, 'token: one provider call per identity');

    revoke_token('app-read', $t);
    is(get_api('provider', $t), 200, 'token: revoked at the provider, still cached here');
    my $res = revoke("token=$t");
    is($res->code, 204, 'token: revoked here, 204');
    $c0 = provider_count();
    is(get_api('provider', $t), 401, 'token: refused after the revocation');
    is(get_api('provider2', $t), 401, 'token: refused under the other identity too');
    is(provider_count() - $c0, 2, 'token: the provider was asked under each');

    # not revoked at the provider: asked again, then fine
    my $t2 = mint_token('app-read');
    $c0 = provider_count();
    is(get_api('provider', $t2) . ' ' . get_api('provider', $t2), '200 200',
       'token (active): cached');
    is(revoke("token=$t2")->code, 204, 'token (active): revoked here');
    is(get_api('provider', $t2), 200, 'token (active): still valid at the provider');
    is(provider_count() - $c0, 2, 'token (active): asked again, once');
}

# ---- client_id= and sub= ---------------------------------------------------------
{
    my $t = mint_token('app-admin');
    my $other = mint_token('app-rw');
    my $c0 = provider_count();
    get_api('provider', $_) for $t, $t, $other, $other;
    is(provider_count() - $c0, 2, 'client_id: two tokens cached');
    revoke_token('app-admin', $t);
    is(revoke('client_id=app-admin')->code, 204, 'client_id: revoked, 204');
    $c0 = provider_count();
    is(get_api('provider', $t), 401, "client_id: the client's token is asked again and refused");
    is(get_api('provider', $other), 200, "client_id: another client's token passes");
    is(provider_count() - $c0, 1, "client_id: only the revoked client's verdict was asked again");

    # validated after the rule (times are whole seconds): cached again
    sleep 1.1;
    my $t3 = mint_token('app-admin');
    $c0 = provider_count();
    is(get_api('provider', $t3) . ' ' . get_api('provider', $t3), '200 200',
       'client_id: a token validated after the rule passes');
    is(provider_count() - $c0, 1, 'client_id: ... and is served from the cache');
}
{
    my $t = fake_token();
    my $c0 = stub_count('/claims');
    is(get_api('sub', $t) . ' ' . get_api('sub', $t), '200 200', 'sub: cached');
    is(stub_count('/claims') - $c0, 1, 'sub: one call');
    is(revoke('sub=revoke-sub')->code, 204, 'sub: revoked, 204');
    sleep 1.1;
    $c0 = stub_count('/claims');
    is(get_api('sub', $t), 200, 'sub: asked again (the stub still says active)');
    is(stub_count('/claims') - $c0, 1, 'sub: the verdict was not served from the cache');
    is(get_api('sub', $t), 200, 'sub: validated after the rule');
    is(stub_count('/claims') - $c0, 1, 'sub: ... and served from the cache again');
    my $s = stats();
    cmp_ok($s->{revocation_rules}, '>=', 4, "status: revocation_rules ($s->{revocation_rules})");
    cmp_ok($s->{revocations}, '>=', 5, "status: revocations ($s->{revocations})");
}

# ---- fleets ---------------------------------------------------------------------
my $cfg = Apache::Test::config();
my $httpd = $cfg->{vars}{httpd};
my $modules = $cfg->{vars}{libexecdir} || '/usr/lib/apache2/modules';
my $module = $ENV{OA2F_MODULE} || "$FindBin::Bin/../.libs/mod_oauth2_federated.so";
my $pport = $ENV{OA2F_PROVIDER_PORT} || 18530;
my $dir = tempdir('oa2f-revoke-XXXXXX', TMPDIR => 1, CLEANUP => 1);
chmod 0755, $dir;
# redis, its two servers, memcached, its two servers: base .. base+5
my $B = $ENV{OA2F_REVOKE_PORT_BASE} || 18620;
my @started;

sub wait_port {
    my ($port) = @_;
    for (1 .. 100) {
        return 1 if IO::Socket::INET->new(PeerAddr => "127.0.0.1:$port", Timeout => 1);
        sleep 0.1;
    }
    return 0;
}

# redis and memcached: children of this test on ports checked free first,
# used once they report the pid it started (t/lib/OA2FTest.pm).
sub start_redis_here {
    my ($port) = @_;
    push @started, [ 'pid', start_redis($dir, $port, 'OA2F_REVOKE_PORT_BASE', $REDIS) ];
}

sub start_memcached_here {
    my ($port) = @_;
    push @started, [ 'pid', start_memcached($dir, $port, 'OA2F_REVOKE_PORT_BASE', $MEMCACHED) ];
}

# An httpd of the fleet: /api, the revocation handler for 127.0.0.1, the
# status page; the suite's MPM (OA2F_MPM) where it is prefork.
sub start_httpd {
    my ($name, $port, $cache, $socache_mod) = @_;
    port_free($port, 'OA2F_REVOKE_PORT_BASE');
    my $root = "$dir/$name";
    mkdir $root; mkdir "$root/logs"; mkdir "$root/htdocs";
    open my $ok, '>', "$root/htdocs/api" or die; print $ok "ok\n"; close $ok;
    system('chmod', '-R', 'a+rX', $root);
    my $head = extra_httpd_head($root, $port, $modules);
    # One child process: its own copy of an entry outlives the entry's
    # removal from the shared cache, so only the rule can refuse it.
    if (($ENV{OA2F_MPM} // '') eq 'prefork') {
        $head =~ s/mpm_event_module (\S*)mod_mpm_event\.so/mpm_prefork_module $1mod_mpm_prefork.so/;
        $head .= "StartServers 1\nMinSpareServers 1\nMaxSpareServers 1\n"
               . "ServerLimit 1\nMaxRequestWorkers 1\n";
    }
    else {
        $head .= "StartServers 1\nServerLimit 1\nThreadsPerChild 8\n"
               . "MinSpareThreads 1\nMaxSpareThreads 8\nMaxRequestWorkers 8\n";
    }
    open my $fh, '>', "$root/httpd.conf" or die;
    print $fh $head, <<"CONF";
LoadModule authz_host_module $modules/mod_authz_host.so
LoadModule $socache_mod
LoadModule oauth2_federated_module $module
OAuth2FederatedCache $cache
OAuth2FederatedCacheSecret revoke-fleet-secret
<Location /api>
    AuthType oauth2-federated
    AuthName "fleet"
    OAuth2FederatedEndpoint http://127.0.0.1:$pport/token/introspection
    OAuth2FederatedClientID rs-other
    OAuth2FederatedClientSecret rs-other-secret
    Require valid-user
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
    return $root;
}

sub call {
    my ($port, $token) = @_;
    return $ua->get("http://127.0.0.1:$port/api", Authorization => "Bearer $token")->code;
}

# Seconds until server `port` refuses the token, polled every 100 ms;
# undef when it still lets it through after 2 s.
sub refused_within {
    my ($port, $token) = @_;
    my $t0 = time;
    while (time - $t0 < 2) {
        return time - $t0 if call($port, $token) == 401;
        sleep 0.1;
    }
    return undef;
}

sub crashes {
    my ($root) = @_;
    open my $fh, '<', "$root/logs/error_log" or return 0;
    return scalar grep { /exit signal|Segmentation fault|AddressSanitizer/ } <$fh>;
}

END { local $?; stop_started(@started) }

# The fleet of servers A and B (ports pa, pb): by token, then by client id.
sub fleet {
    my ($kind, $pa, $pb, @roots) = @_;
    my $t = mint_token('app-read');
    my $c0 = provider_count();
    is(join(' ', call($pa, $t), call($pb, $t), call($pa, $t), call($pb, $t)),
       '200 200 200 200', "$kind: the token passes on A and B");
    is(provider_count() - $c0, 1, "$kind: one provider call for the fleet");
    revoke_token('app-read', $t);
    is(call($pb, $t), 200, "$kind: revoked at the provider, B still has it cached");
    is(post_to("http://127.0.0.1:$pa/revoke", "token=$t", $FORM)->code, 204,
       "$kind: revoked on A, 204");
    is(call($pa, $t), 401, "$kind: A refuses it at once");
    my $took = refused_within($pb, $t);
    ok(defined $took, sprintf("$kind: B refuses it within 2 s (%s)",
                              defined $took ? sprintf('%.2f s', $took) : 'not at all'));

    my $t2 = mint_token('app-rw');
    is(join(' ', call($pa, $t2), call($pb, $t2), call($pb, $t2)), '200 200 200',
       "$kind client_id: cached on A and B");
    revoke_token('app-rw', $t2);
    is(post_to("http://127.0.0.1:$pa/revoke", 'client_id=app-rw', $FORM)->code, 204,
       "$kind client_id: revoked on A, 204");
    $took = refused_within($pb, $t2);
    ok(defined $took, sprintf("$kind client_id: B refuses it within 2 s (%s)",
                              defined $took ? sprintf('%.2f s', $took) : 'not at all'));
    my $s = OA2FTest::stats_of("http://127.0.0.1:$pb/status?json");
    cmp_ok($s->{revocation_rules}, '>=', 2,
           "$kind: B holds the fleet's rules ($s->{revocation_rules})");
    is($s->{revocations}, 0, "$kind: ... though nothing was revoked on B itself");
    is(crashes($roots[0]) + crashes($roots[1]), 0, "$kind: no child crashed");
}

start_redis_here($B);
my @r = (start_httpd('redis-a', $B + 1, "redis:127.0.0.1:$B",
                     "socache_redis_module $modules/mod_socache_redis.so"),
         start_httpd('redis-b', $B + 2, "redis:127.0.0.1:$B",
                     "socache_redis_module $modules/mod_socache_redis.so"));
fleet('redis', $B + 1, $B + 2, @r);

start_memcached_here($B + 3);
my @m = (start_httpd('mc-a', $B + 4, "memcache:127.0.0.1:" . ($B + 3),
                     "socache_memcache_module $modules/mod_socache_memcache.so"),
         start_httpd('mc-b', $B + 5, "memcache:127.0.0.1:" . ($B + 3),
                     "socache_memcache_module $modules/mod_socache_memcache.so"));
fleet('memcached', $B + 4, $B + 5, @m);
