# OAuth2FederatedStaleIfError (README "Outages", SPEC §11): while the real
# provider is down, hangs or answers 500, a positive verdict whose reuse
# time ran out less than StaleIfError ago is served, never past its window
# or the token's expiry, never a "not active" one, never where the
# directive is not set; counted as stale_served. Locations in
# conf/stale.conf.in. The provider is switched back on at the end, also
# when a test dies (END): the other test files share it.
#
# A circuit breaker may answer for the provider during the outage (an open
# circuit is served stale too), so nothing here counts the calls that reach
# the provider while it fails; after it recovers, the test waits (bounded)
# for the first call that gets through.
use strict;
use warnings FATAL => 'all';

use Apache::Test qw(-withtestmore);
use Apache::TestRequest qw(GET);
use FindBin;
use lib "$FindBin::Bin/lib";
use OA2FTest;
use JSON::PP ();
use LWP::UserAgent ();
use POSIX ();
use Time::HiRes qw(sleep time);

plan tests => 36, need_module('mod_alias.c');

END { eval { provider_mode('ok') } }

my $INTROSPECT = '/token/introspection';

sub get_with {
    my ($url, $token) = @_;
    return GET $url, bearer($token);
}

sub stale_json {
    return JSON::PP->new->decode(GET('/stale/status?json')->content)->{stale_served};
}

sub stale_text {
    my $text = GET('/stale/status')->content;
    return $text =~ /^stale_served: (\d+)$/m ? $1 : undef;
}

sub wait_until {
    my ($t) = @_;
    my $d = $t - time;
    sleep $d if $d > 0;
}

# A request; (response, time before, time after).
sub timed_get {
    my ($url, $token) = @_;
    my $t0 = time;
    my $res = get_with($url, $token);
    return ($res, $t0, time);
}

# N concurrent requests; their status codes.
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
            my $res = $ua->get("http://$hostport$url", bearer($token));
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
        my $code = <$fh>;
        push @codes, $code // 0;
        waitpid $k->[0], 0;
    }
    return @codes;
}

provider_mode('ok');

# ---- validated while the provider answers --------------------------------
my $ta = mint_token('app-read');
my ($res, $ta0, $ta1) = timed_get('/stale/on', $ta);
is($res->code, 200, 'validated: 200');

my $td = mint_token('app-read');
my ($res_d, $td0, $td1) = timed_get('/stale/short', $td);
is($res_d->code, 200, 'validated at the location with a 3 s window: 200');

# app-short's tokens live 5 s: exp is at least 5 s after $ts0 (whole
# seconds), at most 5 s after $ts1
my $ts0 = time;
my $ts = mint_token('app-short');
my $ts1 = time;
my ($res_s, undef, $tsv1) = timed_get('/stale/on', $ts);
is($res_s->code, 200, 'short-lived token validated: 200');

my $tn = mint_token('app-read');
my (undef, undef, $tn1) = timed_get('/stale/neg', $tn);
revoke_token('app-read', $tn);
wait_until($tn1 + 1.2);
my ($res_n, undef, $tnn1) = timed_get('/stale/neg', $tn);
is($res_n->code, 401, 'revoked at the provider: 401, cached as not active');

# ---- the provider fails --------------------------------------------------
wait_until((sort { $b <=> $a } $ta1, $td1, $tsv1)[0] + 1.2);
my $s0 = stale_json();
ok(defined $s0, 'the status page shows stale_served');
is(stale_text(), $s0, '... in the text page too, with the same value');

provider_mode('down');
$res = get_with('/stale/on', $ta);
is($res->code, 200, 'provider down, reuse time over: served stale (200)');
is(get_with('/stale/on', $ts)->code, 200,
   'short-lived token inside its life: served stale');
ok(time < $ts0 + 4, '... (that was before its expiry)');
is(get_with('/stale/short', $td)->code, 200, 'inside a 3 s window: served stale');
ok(time < $td0 + 3, '... (that was inside the window)');
$res = get_with('/stale/neg', $tn);
is($res->code, 401, 'a token cached as not active: 401, not the older positive verdict');

# (hang and 500 before the concurrent requests: a circuit breaker opens
# after a few failed calls, and then answers for the provider)
provider_mode('hang');
is(get_with('/stale/on', $ta)->code, 200, 'provider hangs: served stale');
provider_mode('fail500');
is(get_with('/stale/on', $ta)->code, 200, 'provider answers 500: served stale');
provider_mode('hang');
my @codes = herd('/stale/on', $ta, 8);
is_deeply(\@codes, [ (200) x 8 ],
          '8 concurrent requests while it hangs: all served stale');

provider_mode('down');
$res = get_with('/stale/off', $ta);
is($res->code, 401, 'a location without StaleIfError: 401 (gateway)');
like($res->content, qr/could not be reached/, '... as unreachable');
ok(body_ok($res, $ta), '... one line, no token');
is(get_with('/stale/off6750', $ta)->code, 503, '... 503 (rfc6750)');
is(get_with('/stale/nest/in', $ta)->code, 200,
   'a nested location inherits StaleIfError: served stale');
is(get_with('/stale/nest/off', $ta)->code, 401,
   'a nested location with StaleIfError 0: 401');

my $s1 = stale_json();
is($s1 - $s0, 5 + 8 + 1, 'stale_served counted every stale answer (json)');
is(stale_text(), $s1, '... and the text page shows it');

# ---- the limits ----------------------------------------------------------
wait_until($td1 + 1 + 3 + 0.3);
$res = get_with('/stale/short', $td);
is($res->code, 401, 'past its 3 s window: 401');
like($res->content, qr/could not be reached/, '... as unreachable');

wait_until($ts1 + 5.1);
$res = get_with('/stale/on', $ts);
is($res->code, 401, 'short-lived token past its expiry: never served stale');

wait_until($tnn1 + 2.2);
is(get_with('/stale/neg', $tn)->code, 401,
   'not active verdict past its 2 s: 401, never served stale');

is(stale_json(), $s1, 'none of these counted as stale');
ok(time < $ta0 + 20, '(still inside the 20 s window of the first token)');
is(get_with('/stale/on', $ta)->code, 200, 'the first token is still served stale');

# ---- the provider is back ------------------------------------------------
provider_mode('ok');
my $c0 = provider_count($INTROSPECT);
my $code = 0;
my $deadline = time + 25;
for (1 .. 100) {
    $code = get_with('/stale/on', $ta)->code;
    last if provider_count($INTROSPECT) > $c0 || time > $deadline;
    sleep 0.5;
}
ok(provider_count($INTROSPECT) > $c0, 'provider back: asked again (a call counted)');
is($code, 200, '... and the token passes');
$code = get_with('/stale/off', $ta)->code;
is($code, 200, 'the location without StaleIfError passes again');

# ---- the log ---------------------------------------------------------------
{
    my $log = Apache::Test::vars('t_logs') . '/error_log';
    open my $fh, '<', $log or die "$log: $!";
    my @lines = grep { /OA2F10600:/ } <$fh>;
    close $fh;
    ok(scalar(grep { /\[oauth2_federated:info\].*OA2F10600: token \S+: served stale, validated \d+ s ago, because the provider failed: (?:unreachable|bad_answer|circuit_open) / } @lines),
       'each stale answer is logged (OA2F10600) with the failure and the age');
    ok(!grep({ index($_, $ta) >= 0 || index($_, $ts) >= 0 } @lines),
       '... and never with the token');
    # README "Logging" (issue 17): an outage line names the endpoint and
    # the location
    my $ep = 'http://127.0.0.1:' . ($ENV{OA2F_PROVIDER_PORT} || 18530) . '/token/introspection';
    ok(scalar(grep { /OA2F10600: .*\(OAuth2FederatedStaleIfError; endpoint \Q$ep\E, location \/stale\/[a-z\/]+\)$/ } @lines),
       '... naming the endpoint and the location')
        or diag($lines[0] // 'no OA2F10600 line');
}
