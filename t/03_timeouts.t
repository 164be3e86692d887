# OAuth2FederatedTimeout CONNECT TOTAL: a provider that hangs or is too slow
# is "unreachable" (401; 503 under rfc6750) once the total time is up, and
# not much later; a slow provider inside the limit is waited for.
use strict;
use warnings FATAL => 'all';

use FindBin;
use lib "$FindBin::Bin/lib";

use Apache::Test qw(-withtestmore);
use Apache::TestRequest qw(GET);
use OA2FTest;
use Digest::SHA qw(sha256_hex);

plan tests => 18, need_module('cgid');
# show failures and diag() without -verbose (Apache::Test sends them to STDOUT)
Test::More->builder->failure_output(\*STDERR);

my $tok = fake_token();

sub timed_get {
    my ($path) = @_;
    return timed(sub { GET $path, bearer($tok) });
}

{
    my $n0 = stub_count('/hang');
    my ($res, $secs) = timed_get('/cgi/hang');
    is($res->code, 401, 'hanging provider, Timeout 1 2: 401');
    my $c = challenge_of($res) || {};
    is($c->{realm}, 'e2e-hang', 'hanging provider: Bearer challenge with the realm');
    cmp_ok($secs, '>=', 1.8, "hanging provider: waited the total timeout (${\ sprintf '%.2f', $secs} s)");
    cmp_ok($secs, '<', 4, 'hanging provider: gave up soon after 2 s');
    is(stub_count('/hang') - $n0, 1, 'hanging provider: asked once');
    ok(body_ok($res, $tok), 'hanging provider: one-line body without the token');
    # README "Logging" (issue 17): the outage line names the endpoint
    # (without its query) and the location
    my $fp = substr(sha256_hex($tok), 0, 12);
    my $ep = stub_url('/hang');
    my $log = Apache::Test::vars('t_logs') . '/error_log';
    open my $fh, '<', $log or die "$log: $!";
    my @lines = grep { /OA2F10005: token $fp: unreachable / } <$fh>;
    close $fh;
    ok(scalar(grep { /; endpoint \Q$ep\E, location \/cgi\/hang\)$/ } @lines),
       'hanging provider: the log line names the endpoint and the location')
        or diag(join '', @lines);
}
{
    my ($res, $secs) = timed_get('/cgi/hang-default');
    is($res->code, 401, 'hanging provider, default timeouts: 401');
    cmp_ok($secs, '>=', 4.8, "default total timeout is 5 s (${\ sprintf '%.2f', $secs} s)");
    cmp_ok($secs, '<', 7.5, 'default total timeout: gave up soon after 5 s');
}
{
    my ($res, $secs) = timed_get('/cgi/slow-ok');
    is($res->code, 200, 'provider answering after 0.7 s, Timeout 1 3: 200');
    cmp_ok($secs, '>=', 0.6, 'slow provider: its answer was waited for');
}
{
    my ($res, $secs) = timed_get('/cgi/slow-late');
    is($res->code, 401, 'provider answering after 6 s, Timeout 0.5 1.5: 401');
    cmp_ok($secs, '>=', 1.3, "slow provider: waited the total timeout (${\ sprintf '%.2f', $secs} s)");
    cmp_ok($secs, '<', 3.5, 'slow provider: gave up soon after 1.5 s');
}
{
    my ($res, $secs) = timed_get('/cgi/rfc/hang');
    is($res->code, 503, 'hanging provider under rfc6750: 503');
    cmp_ok($secs, '<', 4, 'rfc6750 hang: gave up soon after 2 s');
}
{
    # the server is still fine after all those abandoned provider calls
    my $t = mint_token('app-read');
    is((GET '/cgi/ok', bearer($t))->code, 200, 'a normal request still passes afterwards');
}
