# The status page's Prometheus view (README "Status page"): the format as
# the real promtool checks it (`promtool check metrics`, Debian package
# prometheus), counters that move with the requests as the provider
# counts them, the latency histogram, no token / client id / sub in it,
# build_info with configure.ac's version, the version on the text and
# JSON views; and conf/grafana-dashboard.json: valid JSON whose PromQL
# names only metrics the page exports. Locations in conf/prometheus.conf.in.
use strict;
use warnings FATAL => 'all';

use FindBin;
use lib "$FindBin::Bin/lib";

use Apache::Test qw(-withtestmore);
use Apache::TestRequest qw(GET);
use File::Temp qw(tempdir);
use JSON::PP ();
use OA2FTest;

plan tests => 49, need_module('authz_core');
Test::More->builder->failure_output(\*STDERR);

my $PROMTOOL = $ENV{OA2F_PROMTOOL} || '/usr/bin/promtool';
my $dir = tempdir('oa2f-prom-XXXXXX', TMPDIR => 1, CLEANUP => 1);
my ($version) = do {
    open my $fh, '<', "$FindBin::Bin/../configure.ac" or die "configure.ac: $!";
    local $/;
    <$fh> =~ /AC_INIT\(\[[^\]]*\],\s*\[([^\]]+)\]/;
};
my $EP = $ENV{OA2F_INTROSPECT} || 'http://127.0.0.1:' . ($ENV{OA2F_PROVIDER_PORT} || 18530)
    . '/token/introspection';
my $STUB_EP = 'http://127.0.0.1:' . ($ENV{OA2F_STUB_PORT} || 18531) . '/claims';

sub scrape {
    my ($query) = @_;
    my $res = GET '/prom/status?' . ($query // 'prometheus');
    my ($v, $t) = prom_parse($res->content);
    return ($res, $v, $t);
}

# Sum of the samples of NAME whose labels match RE.
sub total {
    my ($v, $name, $re) = @_;
    my $sum = 0;
    for my $k (keys %$v) {
        next unless $k =~ /^\Q$name\E(\{.*\})?$/;
        my $labels = $1 // '';
        $sum += $v->{$k} if !defined $re || $labels =~ $re;
    }
    return $sum;
}

sub promtool {
    my ($text, $name) = @_;
    my $file = "$dir/$name.txt";
    open my $fh, '>', $file or die "$file: $!";
    print $fh $text;
    close $fh;
    my $out = `'$PROMTOOL' check metrics < '$file' 2>&1`;
    return ($? >> 8, $out);
}

# ---- the view itself -----------------------------------------------------
my ($res, $v0, $t0) = scrape();
is($res->code, 200, '?prometheus: 200');
is($res->header('Content-Type'), 'text/plain; version=0.0.4; charset=utf-8',
   'Content-Type of the text exposition format 0.0.4');
is($res->header('Cache-Control'), 'no-store', 'Cache-Control: no-store');
SKIP: {
    skip "$PROMTOOL not installed (apt-get install prometheus)", 2 unless -x $PROMTOOL;
    my ($rc, $out) = promtool($res->content, 'first');
    is($rc, 0, 'promtool check metrics: exit 0') or diag($out);
    is($out, '', 'promtool check metrics: no warning') or diag($out);
}
{
    my ($bi) = grep { /^oauth2_federated_build_info\{/ } keys %$v0;
    is(defined $bi ? $v0->{$bi} : undef, 1, 'build_info: value 1');
    like($bi // '', qr/^oauth2_federated_build_info\{version="\Q$version\E",httpd="2\.4\.\d+",apr="\d+\.\d+\.\d+",openssl="[^"]+",curl="\d+\.\d+\.\d+",json_c="[\d.]+"\}$/,
         'build_info: version, httpd, apr, openssl, curl, json_c') or diag($bi);
}
my @names = grep { !/^oauth2_federated_/ } map { /^([^{]+)/ } keys %$v0;
is("@names", '', 'every name starts with oauth2_federated_');
my @bad = grep { $t0->{$_} eq 'counter' && !/_total$/ } keys %$t0;
is("@bad", '', 'every counter ends in _total');
is($t0->{oauth2_federated_provider_latency_seconds}, 'histogram', 'provider latency: a histogram');
ok(defined $v0->{oauth2_federated_uptime_seconds}, 'uptime_seconds');
for my $q ('prometheus=', 'x=1&prometheus', 'prometheus&json') {
    my ($r) = scrape($q);
    is($r->header('Content-Type'), 'text/plain; version=0.0.4; charset=utf-8', "?$q: the Prometheus view");
}

# ---- counters move as the provider counts --------------------------------
my $p0 = provider_count();
my $s0 = stub_count('/claims');
my @tokens = map { mint_token('app-rw') } 1 .. 4;
my @fresh = map { (GET '/prom/nocache', bearer($_))->code } @tokens;
is("@fresh", '200 200 200 200', 'four fresh tokens at a location without cache: 200');
my $fake = fake_token();
is((GET '/prom/nocache', bearer($fake))->code, 401, 'unknown token: 401');
my $cached = mint_token('app-read');
push @tokens, $cached, $fake;
my @codes = map { (GET '/prom/cached', bearer($cached))->code } 1 .. 3;
is("@codes", '200 200 200', 'one token three times at a cached location');
my $stub_tok = fake_token();
push @tokens, $stub_tok;
is((GET '/prom/sub', bearer($stub_tok))->code, 200, 'stub answer with a sub: 200');
my $pcalls = provider_count() - $p0;
is($pcalls, 6, 'the provider answered 6 introspections (4 + 1 unknown + 1 cached)');
is(stub_count('/claims') - $s0, 1, 'the stub answered 1');

my ($res1, $v1) = scrape();
my $text1 = $res1->content;
{
    # kept for a look afterwards (t/TEST -clean removes it)
    my $keep = Apache::Test::vars('t_logs') . '/oa2f-prometheus.txt';
    open my $fh, '>', $keep or die "$keep: $!";
    print $fh $text1;
    close $fh;
}
my $ep_re = qr/endpoint="\Q$EP\E"/;
is(total($v1, 'oauth2_federated_provider_calls_total', $ep_re)
   - total($v0, 'oauth2_federated_provider_calls_total', $ep_re),
   $pcalls, 'provider_calls_total of the endpoint: as many as the provider counted');
is(total($v1, 'oauth2_federated_provider_calls_total', qr/$ep_re,outcome="inactive"/)
   - total($v0, 'oauth2_federated_provider_calls_total', qr/$ep_re,outcome="inactive"/),
   1, 'provider_calls_total{outcome="inactive"}: the unknown token');
is(total($v1, 'oauth2_federated_provider_calls_total', qr/$ep_re,outcome="ok"/)
   - total($v0, 'oauth2_federated_provider_calls_total', qr/$ep_re,outcome="ok"/),
   5, 'provider_calls_total{outcome="ok"}: the other 5');
my $cnt = qq{oauth2_federated_provider_latency_seconds_count{endpoint="$EP"}};
is(($v1->{$cnt} // 0) - ($v0->{$cnt} // 0), $pcalls, 'histogram _count: as many as the provider counted');
# a row per endpoint for the first 64 called since start-up (README
# "Status page"), then "other": the whole suite configures fewer
my $rows = grep { /^oauth2_federated_provider_latency_seconds_count\{endpoint="(?!other")/ } keys %$v1;
my $full = $rows >= 64;
{
    my $k = qq{oauth2_federated_provider_calls_total{endpoint="$STUB_EP",outcome="ok"}};
    ok($full || (defined $v1->{$k} && $v1->{$k} - ($v0->{$k} // 0) == 1),
       'the stub endpoint: a series of its own, without the query, 1 more call');
}
{
    # the buckets of every endpoint: cumulative, monotone, +Inf = _count
    my %ok;
    for my $k (grep { /^oauth2_federated_provider_latency_seconds_count\{/ } keys %$v1) {
        my ($e) = $k =~ /endpoint="((?:[^"\\]|\\.)*)"/;
        my @b = sort { $a->[0] <=> $b->[0] }
            map { my ($le) = /le="([^"]+)"/; [ $le eq '+Inf' ? 9**9**9 : $le, $v1->{$_} ] }
            grep { /^oauth2_federated_provider_latency_seconds_bucket\{endpoint="\Q$e\E",le=/ } keys %$v1;
        my $mono = @b == 13;
        $mono &&= $b[$_][1] >= $b[$_ - 1][1] for 1 .. $#b;
        $ok{$e} = $mono && $b[-1][1] == $v1->{$k}
            && $v1->{$k} == total($v1, 'oauth2_federated_provider_calls_total', qr/endpoint="\Q$e\E"/)
            && defined $v1->{qq{oauth2_federated_provider_latency_seconds_sum{endpoint="$e"}}};
    }
    ok($ok{$EP} && ($ok{$STUB_EP} || $full), 'both endpoints have a histogram');
    is(join(' ', grep { !$ok{$_} } sort keys %ok), '',
       'every histogram: 13 buckets, cumulative, +Inf = _count = provider_calls_total, a _sum');
    cmp_ok($v1->{qq{oauth2_federated_provider_latency_seconds_sum{endpoint="$EP"}}}, '>',
           $v0->{qq{oauth2_federated_provider_latency_seconds_sum{endpoint="$EP"}}} // 0,
           '_sum grew');
}
is(total($v1, 'oauth2_federated_requests_total', qr/outcome="allowed"/)
   - total($v0, 'oauth2_federated_requests_total', qr/outcome="allowed"/),
   8, 'requests_total{outcome="allowed"}: 8');
is(total($v1, 'oauth2_federated_requests_total', qr/status="401"/)
   - total($v0, 'oauth2_federated_requests_total', qr/status="401"/),
   1, 'requests_total{status="401"}: 1');
is(($v1->{oauth2_federated_cache_hits_total} // 0) - ($v0->{oauth2_federated_cache_hits_total} // 0),
   2, 'cache_hits_total: 2');
is(($v1->{oauth2_federated_cache_misses_total} // 0) - ($v0->{oauth2_federated_cache_misses_total} // 0),
   1, 'cache_misses_total: 1');
is(($v1->{oauth2_federated_cache_stores_total} // 0) - ($v0->{oauth2_federated_cache_stores_total} // 0),
   1, 'cache_stores_total: 1');
ok(defined $v1->{oauth2_federated_cache_local_hits_total}
   && defined $v1->{oauth2_federated_cache_errors_total}
   && defined $v1->{oauth2_federated_cache_corrupt_total}
   && defined $v1->{oauth2_federated_stale_served_total}
   && defined $v1->{oauth2_federated_revocations_total}
   && defined $v1->{oauth2_federated_revocation_rules},
   'per-child copy, errors, corrupt, stale, revocation counters');
is($v1->{qq{oauth2_federated_breaker_state{endpoint="$EP",state="closed"}}}, 1,
   'breaker_state of the endpoint: closed');
is($v1->{qq{oauth2_federated_breaker_state{endpoint="$EP",state="open"}}}, 0, '... not open');
SKIP: {
    skip "$PROMTOOL not installed", 2 unless -x $PROMTOOL;
    my ($rc, $out) = promtool($text1, 'after');
    is($rc, 0, 'promtool check metrics after the requests: exit 0') or diag($out);
    is($out, '', '... no warning') or diag($out);
}

# ---- nothing of a token, a client, a user ----------------------------------
{
    my @leak = grep { index($text1, $_) >= 0 }
        (@tokens, 'rs-other', 'app-rw', 'app-read', 'prom-client-k9', 'prom-secret-z2',
         'prom-sub-q7x3', 'rs-other-secret', 'sub=');
    is("@leak", '', 'no token, client id, secret or sub value in the page');
}

# ---- the text and JSON views -------------------------------------------------
{
    my $t = GET('/prom/status')->content;
    like($t, qr/\Aversion: \Q$version\E\n/, "text view: version: $version first");
    like($t, qr/^provider_calls: \d+$/m, 'text view: the counters still there');
    my $j = eval { JSON::PP->new->decode(GET('/prom/status?json')->content) } || {};
    is($j->{version}, $version, 'JSON view: "version"');
    ok(defined $j->{provider_calls} && ref $j->{breakers} eq 'ARRAY', 'JSON view: counters and breakers');
}

# ---- conf/grafana-dashboard.json ---------------------------------------------
{
    my $file = "$FindBin::Bin/../conf/grafana-dashboard.json";
    my $d = eval {
        open my $fh, '<', $file or die "$file: $!";
        local $/;
        JSON::PP->new->decode(<$fh>);
    };
    ok(ref $d eq 'HASH', 'the Grafana dashboard is valid JSON') or diag($@);
    $d ||= {};
    my @exprs;
    my $walk;
    $walk = sub {
        my ($x) = @_;
        if (ref $x eq 'HASH') {
            push @exprs, $x->{expr} if defined $x->{expr} && !ref $x->{expr};
            $walk->($_) for values %$x;
        }
        elsif (ref $x eq 'ARRAY') {
            $walk->($_) for @$x;
        }
    };
    $walk->($d->{panels});
    cmp_ok(scalar @exprs, '>=', 4, 'the dashboard has PromQL expressions');
    # the metric names the page exports, histograms with their suffixes
    my %known;
    for my $f (keys %$t0) {
        $known{$f} = 1;
        @known{ map { "${f}$_" } qw(_bucket _sum _count) } = (1) x 3 if $t0->{$f} eq 'histogram';
    }
    my %funcs = map { $_ => 1 } qw(sum rate irate increase by without histogram_quantile
        max min avg count clamp_min clamp_max le on ignoring and or unless bool);
    my (@unknown, %used);
    for my $e (@exprs) {
        (my $s = $e) =~ s/"(?:[^"\\]|\\.)*"//g;   # label values
        $s =~ s/\{[^}]*\}//g;                      # matchers
        $s =~ s/\[[^\]]*\]//g;                     # ranges
        $s =~ s/\b(?:by|without)\s*\([^)]*\)//g;   # grouping labels
        $s =~ s/\b\d[\d.]*(?:e[-+]?\d+)?//gi;       # numbers
        for my $w ($s =~ /([a-zA-Z_:][a-zA-Z0-9_:]*)/g) {
            next if $funcs{$w};
            if ($known{$w}) { $used{$w} = 1; next }
            push @unknown, "$w (in $e)";
        }
    }
    is(join('; ', @unknown), '', 'every name in the dashboard\'s PromQL is one the page exports');
    ok($used{oauth2_federated_requests_total} && $used{oauth2_federated_cache_hits_total}
       && $used{oauth2_federated_provider_latency_seconds_bucket}
       && $used{oauth2_federated_breaker_state},
       'request rate, cache hits, latency buckets and breaker state are on it');
    like(join("\n", @exprs), qr/histogram_quantile\(0\.5\b/, 'p50 via histogram_quantile');
    like(join("\n", @exprs), qr/histogram_quantile\(0\.95\b/, 'p95 via histogram_quantile');
}
