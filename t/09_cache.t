# The validation cache (README "Cache"), single-flight and the status page (§7),
# against the real provider; provider calls are read from its own counter.
use strict;
use warnings FATAL => 'all';

use Apache::Test qw(-withtestmore);
use Apache::TestRequest qw(GET);
use FindBin;
use lib "$FindBin::Bin/lib";
use OA2FTest;
use JSON::PP ();
use POSIX ();
use Time::HiRes qw(sleep time);

plan tests => 32, need_module('mod_alias.c');

my $INTROSPECT = '/token/introspection';

sub get_with {
    my ($url, $token) = @_;
    return GET $url, Authorization => "Bearer $token";
}

sub status_json {
    my $res = GET '/cache/status?json';
    return JSON::PP->new->decode($res->content);
}

# How much each named counter moved between two status_json() reads.
sub status_delta {
    my ($before, $after, @names) = @_;
    return map { $_ => ($after->{$_} // 0) - ($before->{$_} // 0) } @names;
}

# 1 call for 20 requests with one token
{
    my $t = mint_token('app-read');
    my $c0 = provider_count($INTROSPECT);
    my @codes = map { get_with('/cache/default', $t)->code } 1 .. 20;
    is_deeply(\@codes, [ (200) x 20 ], '20 requests with one token all pass');
    is(provider_count($INTROSPECT) - $c0, 1, '... with one provider call');
}

# OAuth2FederatedCacheMaxTTL 0: every request asks
{
    my $t = mint_token('app-read');
    my $c0 = provider_count($INTROSPECT);
    my @codes = map { get_with('/cache/ttl0', $t)->code } 1 .. 20;
    is_deeply(\@codes, [ (200) x 20 ], 'MaxTTL 0: 20 requests pass');
    is(provider_count($INTROSPECT) - $c0, 20, '... with 20 provider calls');
}

# A revoked token is served until the 2 s cap passes, then refused.
{
    my $t = mint_token('app-read');
    is(get_with('/cache/cap2', $t)->code, 200, 'cap 2 s: first request passes');
    my $t0 = time;
    revoke_token('app-read', $t);
    is(get_with('/cache/cap2', $t)->code, 200,
       'revoked token still served from the cache inside the cap');
    sleep(2.3 - (time - $t0)) if time - $t0 < 2.3;
    my $res = get_with('/cache/cap2', $t);
    is($res->code, 401, 'after the cap the provider is asked again: 401');
    is(challenge_of($res)->{error}, 'invalid_token', '... invalid_token');
}

# A 5 s token is refused once it has expired, although it was cached.
{
    my $t = mint_token('app-short');
    my $c0 = provider_count($INTROSPECT);
    is(get_with('/cache/default', $t)->code, 200, 'short-lived token passes');
    is(get_with('/cache/default', $t)->code, 200, '... again, from the cache');
    is(provider_count($INTROSPECT) - $c0, 1, '... one provider call');
    sleep 6;
    is(get_with('/cache/default', $t)->code, 401,
       'after its expiry the token is refused');
}

# 1,500 tokens fit the default cache (8 MiB, kept in 8 parts of 1 MiB,
# each with its own mutex): the second round asks the provider for none.
{
    my @tokens = map { fake_token() } 1 .. 1500;
    my $c0 = stub_count('/active');
    my @bad = grep { $_ != 200 } map { get_with('/cache/many', $_)->code } @tokens;
    is(stub_count('/active') - $c0, 1500, '1,500 new tokens: 1,500 provider calls');
    my $c1 = stub_count('/active');
    push @bad, grep { $_ != 200 } map { get_with('/cache/many', $_)->code } @tokens;
    is(stub_count('/active') - $c1, 0, '... and none when they come again');
    is(scalar @bad, 0, '... every one of the 3,000 requests passed');
}

# Negative caching only where configured.
{
    my $t = fake_token();
    my $c0 = provider_count($INTROSPECT);
    is(get_with('/cache/neg', $t)->code, 401, 'unknown token: 401');
    is(get_with('/cache/neg', $t)->code, 401, '... again');
    is(provider_count($INTROSPECT) - $c0, 1,
       '... the "not active" verdict was reused (NegativeCacheTTL 30)');
    get_with('/cache/default', $t);
    is(provider_count($INTROSPECT) - $c0, 2,
       'a location without negative caching asks the provider');
}

# The same token at two locations with different credentials: each gets
# its own provider's verdict.
{
    my $t = mint_token('app-read');
    is(get_with('/cache/default', $t)->code, 200, 'good credentials: 200');
    is(get_with('/cache/wrongcreds', $t)->code, 403,
       'refused credentials: 403, not the other location\'s cached 200');
}

# 40 concurrent first requests with one new token: one provider call.
sub herd {
    my ($url, $token, $n) = @_;
    my @kids;
    my $hostport = Apache::TestRequest::hostport();
    for my $i (1 .. $n) {
        pipe(my $r, my $w) or die "pipe: $!";
        my $pid = fork // die "fork: $!";
        if (!$pid) {
            close $r;
            my $ua = LWP::UserAgent->new(timeout => 30);
            my $res = $ua->get("http://$hostport$url",
                               Authorization => "Bearer $token");
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
        my $code = <$fh>;
        waitpid($k->[0], 0);
        push @codes, $code // 'none';
    }
    return @codes;
}

{
    my $t = fake_token();    # the stub calls any token active
    my $c0 = stub_count('/slow');
    my $before = status_json();
    my @codes = herd('/cache/slow', $t, 40);
    my $after = status_json();
    is(scalar(grep { $_ == 200 } @codes), 40, '40 concurrent first requests all pass');
    is(stub_count('/slow') - $c0, 1, '... with exactly one provider call');
    # waiters read the landed answer, but they are coalesced waits, not hits
    my %d = status_delta($before, $after,
            qw(cache_hits cache_negative_hits cache_local_hits coalesced_waits));
    cmp_ok($d{cache_local_hits}, '<=', $d{cache_hits} + $d{cache_negative_hits},
           "... local hits ($d{cache_local_hits}) are among the hits ($d{cache_hits}; "
           . "$d{coalesced_waits} coalesced waits)");
}

# A leader's failure is shared: waiters do not all call a failing provider.
{
    my $t = fake_token();
    my $c0 = stub_count('/hang');
    my @codes = herd('/cache/slowfail', $t, 10);
    is(scalar(grep { $_ == 401 } @codes), 10, 'hanging provider: all 10 get 401');
    # prefork starts with one child and serves these one after another:
    # only requests that overlap the leader's call can share its outcome
    my $most = ($ENV{OA2F_MPM} // '') eq 'prefork' ? 9 : 2;
    cmp_ok(stub_count('/hang') - $c0, '<=', $most,
           "... from at most $most provider calls");
}

# The status page counts what happened.
{
    my $t = mint_token('app-read');
    my $before = status_json();
    get_with('/cache/default', $t) for 1 .. 3;
    GET '/cache/default';                      # no token: 400
    my $after = status_json();
    my %d = status_delta($before, $after,
            qw(cache_hits cache_misses cache_stores provider_calls
               requests_200 requests_400));
    is_deeply(\%d, { cache_hits => 2, cache_misses => 1, cache_stores => 1,
                     provider_calls => 1, requests_200 => 3,
                     requests_400 => 1 },
              'status page counters match the requests made');
}

# Repeated lookups are answered from each child's own copy: however the
# requests spread over the children, some child serves the token twice.
{
    my $t = mint_token('app-read');
    my $before = status_json();
    my @codes = map { get_with('/cache/default', $t)->code } 1 .. 20;
    my $after = status_json();
    my %d = status_delta($before, $after,
            qw(cache_hits cache_local_hits provider_calls));
    is("@codes", join(' ', (200) x 20), '20 requests with one token: 200');
    ok($d{cache_local_hits} >= 1 && $d{cache_local_hits} <= $d{cache_hits}
       && $d{provider_calls} == 1,
       "local copy answers some hits ($d{cache_local_hits} of $d{cache_hits}), one provider call");
}

# A graceful restart keeps the cached validations.
{
    my $t = mint_token('app-read');
    is(get_with('/cache/default', $t)->code, 200, 'cached before graceful');
    my $c0 = provider_count($INTROSPECT);
    my $pidfile = Apache::Test::vars('t_logs') . '/httpd.pid';
    open my $fh, '<', $pidfile or die "$pidfile: $!";
    chomp(my $pid = <$fh>);
    kill 'USR1', $pid or die "kill USR1 $pid: $!";
    my $code = 0;
    for (1 .. 50) {                       # wait for the new generation
        sleep 0.2;
        $code = eval { get_with('/cache/default', $t)->code } // 0;
        last if $code == 200;
    }
    is($code, 200, 'after apachectl graceful the token still passes');
    is(provider_count($INTROSPECT) - $c0, 0, '... without asking the provider');
}
