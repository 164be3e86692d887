# Local JWT validation (README "Local JWT validation"),
# conf/local_jwt.conf.in: JWT access tokens of the real oidc-provider
# (RS256, PS256, ES256, EdDSA) pass without an introspection call, its
# JWKS fetched once; opaque tokens are still introspected; a revoked but
# unexpired JWT passes locally (the documented trade-off) and is refused
# when introspected; a key rotation is picked up with one refresh (at most
# one per 30 s); hostile tokens are 401 with no provider call; broken key
# sets (duplicate kids, 50 MB, a redirect, nothing listening) are
# refused. The key and token stub (servers/jwt-stub.js) is started here,
# on OA2F_JWT_PORT_BASE (18670; OA2F_NEW_PORT_BASE under a helper's port
# file), and stopped at the end.
use strict;
use warnings FATAL => 'all';

use FindBin;
use lib "$FindBin::Bin/lib";

use Apache::Test qw(-withtestmore);
use Apache::TestRequest qw(GET);
use IO::Socket::INET ();
use JSON::PP ();
use LWP::UserAgent ();
use POSIX ();
use Time::HiRes qw(sleep time);
use OA2FTest;

plan tests => 87, need_module('cgid', 'alias');
Test::More->builder->failure_output(\*STDERR);

my $PORT = $ENV{OA2F_JWT_PORT_BASE} || $ENV{OA2F_NEW_PORT_BASE} || 18670;
my $STUB = "http://127.0.0.1:$PORT";
my $ua = LWP::UserAgent->new(timeout => 10, keep_alive => 0);
my $json = JSON::PP->new->utf8;
my @started;

END { stop_started(@started) if @started }

sub port_free {
    my $s = IO::Socket::INET->new(PeerAddr => '127.0.0.1', PeerPort => $_[0], Proto => 'tcp',
                                  Timeout => 1);
    return !$s;
}

# ---- the stub ------------------------------------------------------------
die "25_local_jwt.t: port $PORT is taken (set OA2F_JWT_PORT_BASE)\n" unless port_free($PORT);
{
    my $pid = fork // die "fork: $!";
    if (!$pid) {
        $ENV{OA2F_JWT_STUB_PORT} = $PORT;
        $ENV{OA2F_SERVER_LIFETIME} = 600;
        chdir "$FindBin::Bin/servers" or die;
        exec 'node', 'jwt-stub.js' or die "exec node: $!";
    }
    push @started, ['pid', $pid];
    my $ok;
    for (1 .. 50) {
        my $r = $ua->get("$STUB/__whoami");
        if ($r->is_success && ($json->decode($r->content)->{name} // '') eq 'jwt-stub') { $ok = 1; last }
        sleep 0.1;
    }
    die "25_local_jwt.t: the stub on $PORT does not answer as jwt-stub\n" unless $ok;
}

sub stub_mint {
    my ($kind) = @_;
    my $r = $ua->get("$STUB/mint?kind=$kind");
    die "mint $kind: " . $r->status_line unless $r->is_success;
    return record_token($r->content);
}
sub stub_hits {
    my ($path) = @_;
    my $r = $ua->get("$STUB/__stats");
    return $json->decode($r->content)->{requests}{$path} // 0;
}
sub code { my ($path, $t) = @_; return (GET $path, bearer($t))->code }

my $ua_p = LWP::UserAgent->new(timeout => 10, keep_alive => 0);
sub provider_jwt {
    my ($client, $secret, $alg) = @_;
    my $r = $ua_p->post(provider_url('/token'),
        Authorization => 'Basic ' . MIME::Base64::encode_base64("$client:$secret", ''),
        Content => { grant_type => 'client_credentials', resource => "urn:oa2f:jwt-$alg",
                     scope => 'read write' });
    die "provider_jwt $alg: " . $r->status_line . ' ' . $r->content unless $r->is_success;
    return record_token($json->decode($r->content)->{access_token});
}
require MIME::Base64;

# the rotation's set is fetched first, so that 30 s have passed when the
# rotated key comes (README: at most one refresh per 30 s)
my $rot_t0 = time;
my $rot_j0 = stub_hits('/jwks');
is(code('/cgi/ljwt/rotate', stub_mint('rs256')), 200, 'rotation scope: a token of a published key passes');
is(stub_hits('/jwks') - $rot_j0, 1, '... after one JWKS fetch');
my $flaky_t0 = time;
is(code('/cgi/ljwt/flaky', stub_mint('rs256')), 200, 'a set kept 60 s: 200');

# ---- the real provider's JWT access tokens --------------------------------
{
    my $i0 = provider_count();
    my $k0 = provider_count('/jwks');
    for my $alg (qw(rs256 ps256 es256 eddsa)) {
        my $t = provider_jwt('app-rw', 'app-rw-secret', $alg);
        my $res = GET '/cgi/ljwt/real', bearer($t);
        is($res->code, 200, "real provider, $alg JWT: 200");
        my $env = cgi_env($res);
        is("$env->{REMOTE_USER}|$env->{AGW_CLIENT_ID}|$env->{AGW_SCOPE}", 'user-app-rw|app-rw|read write',
           "... its claims are the fields (REMOTE_USER, client_id, scope)");
    }
    is(provider_count() - $i0, 0, '... with no introspection call');
    is(provider_count('/jwks') - $k0, 1, '... and one JWKS fetch for all four');
    my $t = provider_jwt('app-rw', 'app-rw-secret', 'es256');
    my @codes = map { code('/cgi/ljwt/real', $t) } 1 .. 5;
    is("@codes", '200 200 200 200 200', 'the same JWT five times: 200');
    is(provider_count() - $i0, 0, '... still no introspection call');
    is(code('/cgi/ljwt/real-es256', provider_jwt('app-rw', 'app-rw-secret', 'rs256')), 401,
       'a JWT for another audience: 401 (audience rule)');
    my $res = GET '/cgi/ljwt/real-es256', bearer(provider_jwt('app-rw', 'app-rw-secret', 'rs256'));
    is((challenge_of($res) || {})->{error}, 'invalid_token', '... invalid_token');

    # an opaque token is introspected as before
    my $i1 = provider_count();
    is(code('/cgi/ljwt/real', mint_token('app-read')), 200, 'an opaque token at a LocalJWT scope: 200');
    is(provider_count() - $i1, 1, '... introspected once');

    # LocalJWT Off: the JWT goes to the provider, which cannot introspect it
    my $i2 = provider_count();
    # (oidc-provider answers 400 unsupported_token_type for a JWT)
    is(code('/cgi/ljwt/real-off', provider_jwt('app-rw', 'app-rw-secret', 'rs256')), 401,
       "LocalJWT Off: the provider's JWT is introspected and refused (401)");
    is(provider_count() - $i2, 1, '... one introspection call');
}

# ---- revoked but unexpired: the trade-off ---------------------------------
{
    my $t = stub_mint('rs256');
    my $i0 = stub_hits('/introspect');
    is(code('/cgi/ljwt/stub-off', $t), 200, 'LocalJWT Off, a stub JWT not revoked: introspected, 200');
    $ua->post("$STUB/revoke", Content => { token => $t });
    my $t2 = stub_mint('rs256');
    $ua->post("$STUB/revoke", Content => { token => $t2 });
    is(code('/cgi/ljwt/stub', $t2), 200, 'revoked but unexpired JWT, LocalJWT On: passes locally');
    is(code('/cgi/ljwt/stub-off', $t2), 401, '... LocalJWT Off: introspected and refused (401)');
    is(stub_hits('/introspect') - $i0, 2, '... the two introspections were the Off scope\'s only');
}

# ---- hostile tokens: 401, no provider call, no crash ----------------------
{
    my $i0 = stub_hits('/introspect');
    for my $kind (qw(none hs256 es256der kidothertype crit b64false jwe extradots padding
                     expstring expfloat expabsent expired nbffuture typjwt badsig noiss)) {
        my $res = GET '/cgi/ljwt/stub', bearer(stub_mint($kind));
        my $c = challenge_of($res) || {};
        is($res->code . '|' . ($c->{error} // ''), '401|invalid_token', "hostile token $kind: 401 invalid_token");
    }
    is(stub_hits('/introspect') - $i0, 0, '... none of them reached the introspection endpoint');
    is(code('/cgi/ljwt/stub', stub_mint('otheriss')), 401, 'a JWT of another issuer: 401');
    is(code('/cgi/ljwt/stub', stub_mint('otheraud')), 401, 'a JWT for another audience: 401');
    my $big = 'eyJhbGciOiJSUzI1NiJ9.' . ('A' x (1024 * 1024)) . '.AAAA';
    is(code('/cgi/ljwt/stub', $big), 400, 'a 1 MB token: 400 before any parsing');
    is(stub_hits('/introspect') - $i0, 0, '... still no introspection call');
    my $res = GET '/cgi/ljwt/stub', bearer(stub_mint('rs256'));
    is($res->code, 200, 'and a good token still passes (no child died)');
}

# ---- unknown kids, types, scopes ------------------------------------------
{
    my $i0 = stub_hits('/introspect');
    is(code('/cgi/ljwt/stub', stub_mint('unknownkid')), 200,
       'a kid the JWKS does not have, with an endpoint: introspected (the stub says active)');
    is(stub_hits('/introspect') - $i0, 1, '... one introspection call');
    is(code('/cgi/ljwt/noep', stub_mint('unknownkid')), 401, '... without an endpoint: 401');
    is(code('/cgi/ljwt/noep', fake_token()), 401, 'an opaque token without an endpoint: 401');
    is(code('/cgi/ljwt/types', stub_mint('typjwt')), 200, 'JWTTypes JWT: typ JWT passes');
    is(code('/cgi/ljwt/types', stub_mint('rs256')), 401, '... and at+jwt does not');
    is(code('/cgi/ljwt/noep/admin', stub_mint('scp')), 200, 'scp array [read admin] meets Require oauth2-scope admin');
    is(code('/cgi/ljwt/noep/admin', stub_mint('rs256')), 403, '... scope "read write" does not: 403');
    my $env = cgi_env(GET '/cgi/ljwt/noep', bearer(stub_mint('eddsa')));
    is($env->{AGW_USERNAME} // '', 'stub-user', 'EdDSA stub token: AGW_USERNAME from the claims');
    like($env->{OAUTH2_FEDERATED_RESPONSE} // '', qr/"iss":/, '... OAUTH2_FEDERATED_RESPONSE is the payload');
    is(code('/cgi/ljwt/noep', stub_mint('es256')), 200, 'ES256 stub token: 200');
}

# ---- one fetch for concurrent first requests; the keeping time's floor --------
{
    my @tokens = map { stub_mint('rs256') } 1 .. 8;
    my $n0 = stub_hits('/jwks-slow');
    my @pids;
    for my $t (@tokens) {
        my $pid = fork // die "fork: $!";
        if (!$pid) {
            my $res = GET '/cgi/ljwt/slow', bearer($t);
            POSIX::_exit($res->code == 200 ? 0 : 1);    # no END blocks here
        }
        push @pids, $pid;
    }
    my $bad = 0;
    for (@pids) { waitpid $_, 0; $bad++ if $? }
    is($bad, 0, '8 parallel first requests with 8 tokens: all 200');
    is(stub_hits('/jwks-slow') - $n0, 1, '... and one JWKS fetch for all of them');
    my $s0 = stub_hits('/jwks-short');
    is(code('/cgi/ljwt/short', stub_mint('rs256')), 200, 'a JWKS with max-age=2: 200');
    sleep 3;
    is(code('/cgi/ljwt/short', stub_mint('es256')), 200, '... 3 s later: 200');
    is(stub_hits('/jwks-short') - $s0, 1, '... not fetched again (kept at least 60 s)');
}

# ---- broken key sets --------------------------------------------------------
{
    my $t = stub_mint('rs256');
    my $d0 = stub_hits('/jwks-dup');
    is(code('/cgi/ljwt/dup', stub_mint('dup')), 401, 'JWKS with two keys of one kid: the token of that kid is 401');
    is(code('/cgi/ljwt/dup', stub_mint('dup')), 401, '... again');
    is(stub_hits('/jwks-dup') - $d0, 1, '... one fetch (no refresh within 30 s)');
    my ($res, $secs) = timed(sub { GET '/cgi/ljwt/big', bearer($t) });
    is($res->code, 401, '50 MB JWKS: refused (401, the unreachable outcome)');
    ok($secs < 5, sprintf('... at once (%.1f s), not read to its end', $secs));
    my $j = stub_hits('/jwks');
    is(code('/cgi/ljwt/redirect', $t), 401, 'a redirecting JWKS URL: 401');
    is(stub_hits('/jwks') - $j, 0, '... the redirect was not followed');
    is(code('/cgi/ljwt/dead', $t), 401, 'nothing listening: 401');
    is(code('/cgi/ljwt/dead-rfc6750', $t), 503, '... 503 under rfc6750');
    my $log = do { local (@ARGV, $/) = Apache::Test::vars('t_logs') . '/error_log'; <> };
    like($log, qr/OA2F11106: JWKS \Q$STUB\E\/jwks-big: the JWKS is over \d+ bytes/, 'the 50 MB set is logged (OA2F11106)');
    like($log, qr/OA2F11101: JWKS: [^\n]*kid "dup"/, 'duplicate kids are logged (OA2F11101)');
}

# ---- key rotation ---------------------------------------------------------
{
    my $t = stub_mint('rotated');
    my $j0 = stub_hits('/jwks');
    is(code('/cgi/ljwt/rotate', $t), 401, 'a key not yet published, without an endpoint: 401');
    my $wait = 31 - (time - $rot_t0);
    sleep $wait if $wait > 0;
    $ua->post("$STUB/__rotate");
    my $j1 = stub_hits('/jwks');
    is(code('/cgi/ljwt/rotate', $t), 200, 'after the rotation (30 s after the fetch): the new kid passes');
    is(stub_hits('/jwks') - $j1, 1, '... with one JWKS refresh');
    is(code('/cgi/ljwt/rotate', stub_mint('rotated')), 200, '... another token of the new key: 200');
    is(code('/cgi/ljwt/rotate', stub_mint('unknownkid')), 401, 'an unknown kid right after: 401');
    is(stub_hits('/jwks') - $j1, 1, '... with no second refresh within 30 s');
    ok($j1 - $j0 <= 1, 'the early 401 made one refresh at most');
}

# ---- the set in hand outlives its keeping time while no new one comes -------
{
    my $wait = 62 - (time - $flaky_t0);
    sleep $wait if $wait > 0;
    $ua->get("$STUB/__flaky?down=1");
    my $f0 = stub_hits('/jwks-flaky');
    my @codes = map { code('/cgi/ljwt/flaky', stub_mint($_)) } qw(rs256 es256 eddsa rs256);
    is("@codes", '200 200 200 200', 'past its 60 s, the JWKS URL failing: the set in hand still serves (every child)');
    ok(stub_hits('/jwks-flaky') - $f0 >= 1, '... after trying to fetch a new one');
    ok(stub_hits('/jwks-flaky') - $f0 <= 4, '... at most once per child within 5 s');
    my $log = do { local (@ARGV, $/) = Apache::Test::vars('t_logs') . '/error_log'; <> };
    like($log, qr/OA2F11105: JWKS \Q$STUB\E\/jwks-flaky: no new set/, '... logged (OA2F11105)');
    $ua->get("$STUB/__flaky?down=0");
    is(code('/cgi/ljwt/dead', stub_mint('rs256')), 401, 'a set never had: still the unreachable outcome (401)');
}
