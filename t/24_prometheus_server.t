# A real Prometheus server (Debian package prometheus, /usr/bin/prometheus)
# scrapes the status page's Prometheus view (README "Status page";
# conf/prometheus.conf.in) of the Apache::Test httpd every second: the
# target is up, the values its HTTP API answers are those of a scrape of
# our own, and every PromQL expression of conf/grafana-dashboard.json is
# one it evaluates. The server runs on 127.0.0.1:OA2F_PROM_PORT (18630)
# with a configuration and storage in this test's temporary directory, and
# is stopped at the end (it also gets SIGTERM if this test dies).
use strict;
use warnings FATAL => 'all';

use FindBin;
use lib "$FindBin::Bin/lib";

use Apache::Test qw(-withtestmore);
use Apache::TestRequest qw(GET);
use File::Temp qw(tempdir);
use IO::Socket::INET;
use JSON::PP ();
use LWP::UserAgent;
use POSIX ();
use Time::HiRes qw(sleep time);
use URI::Escape qw(uri_escape);
use OA2FTest;

my $PROMETHEUS = $ENV{OA2F_PROMETHEUS} || '/usr/bin/prometheus';
plan tests => 14, need(need_module('authz_core'),
    { "$PROMETHEUS not installed (apt-get install prometheus)" => -x $PROMETHEUS });
Test::More->builder->failure_output(\*STDERR);

my $PORT = $ENV{OA2F_PROM_PORT} || 18630;
my $HTTPD = '127.0.0.1:' . Apache::Test::vars('port');
my $EP = $ENV{OA2F_INTROSPECT} || 'http://127.0.0.1:' . ($ENV{OA2F_PROVIDER_PORT} || 18530)
    . '/token/introspection';
my ($version) = do {
    open my $fh, '<', "$FindBin::Bin/../configure.ac" or die "configure.ac: $!";
    local $/;
    <$fh> =~ /AC_INIT\(\[[^\]]*\],\s*\[([^\]]+)\]/;
};
my $dir = tempdir('oa2f-prometheus-XXXXXX', TMPDIR => 1, CLEANUP => 1);
my $json = JSON::PP->new->utf8->canonical;
my $ua = LWP::UserAgent->new(timeout => 10, keep_alive => 0);
my @started;
END { stop_started(@started) if @started }

sub port_free {
    return !IO::Socket::INET->new(PeerAddr => "127.0.0.1:$_[0]", Timeout => 1);
}

# GET on our Prometheus' API: the decoded answer, or undef.
sub api {
    my ($path) = @_;
    my $res = $ua->get("http://127.0.0.1:$PORT$path");
    return undef unless $res->code == 200 || $res->code == 400 || $res->code == 422;
    return eval { $json->decode($res->decoded_content) };
}

sub query {
    my ($q) = @_;
    return api('/api/v1/query?query=' . uri_escape($q));
}

# The series of a query's answer as { 'k="v",…' => value } (labels sorted,
# without job and instance).
sub vector {
    my ($a) = @_;
    my %v;
    return \%v unless $a && $a->{status} eq 'success' && $a->{data}{resultType} eq 'vector';
    for my $r (@{ $a->{data}{result} }) {
        my %m = %{ $r->{metric} };
        delete @m{qw(__name__ job instance)};
        $v{ join ',', map { qq{$_="$m{$_}"} } sort keys %m } = $r->{value}[1];
    }
    return \%v;
}

# The same from a scrape of ours, for the samples of NAME.
sub scraped {
    my ($v, $name) = @_;
    my %out;
    for my $k (keys %$v) {
        next unless $k =~ /^\Q$name\E(?:\{(.*)\})?$/;
        my %m = ($1 // '') =~ /([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g;
        $out{ join ',', map { qq{$_="$m{$_}"} } sort keys %m } = $v->{$k} + 0;
    }
    return \%out;
}

sub same {
    my ($got, $want) = @_;
    return 0 unless keys %$got && keys %$got == keys %$want;
    for (keys %$want) {
        return 0 unless defined $got->{$_} && $got->{$_} == $want->{$_};
    }
    return 1;
}

# ---- our own Prometheus ---------------------------------------------------
ok(port_free($PORT), "port $PORT is free") or BAIL_OUT("port $PORT in use: set OA2F_PROM_PORT");
mkdir "$dir/data" or die "$dir/data: $!";
open my $cf, '>', "$dir/prometheus.yml" or die "$dir/prometheus.yml: $!";
print $cf <<"YML";
global:
  scrape_interval: 1s
  scrape_timeout: 1s
scrape_configs:
  - job_name: oa2f
    metrics_path: /prom/status
    params:
      prometheus: ['']
    static_configs:
      - targets: ['$HTTPD']
YML
close $cf;
my $pid = fork // die "fork: $!";
if (!$pid) {
    open STDIN, '<', '/dev/null';
    open STDOUT, '>', "$dir/prometheus.log";
    open STDERR, '>&', \*STDOUT;
    # SIGTERM when this test dies, whatever the way
    exec('setpriv', '--pdeathsig', 'TERM', $PROMETHEUS,
         "--config.file=$dir/prometheus.yml", "--storage.tsdb.path=$dir/data",
         "--web.listen-address=127.0.0.1:$PORT", '--log.level=warn')
        or POSIX::_exit(127);
}
push @started, [ 'pid', $pid ];

# ours: it answers with our storage directory and our job (bounded wait)
my $flags;
for (1 .. 300) {
    last if waitpid($pid, POSIX::WNOHANG()) == $pid;
    $flags = api('/api/v1/status/flags');
    last if $flags;
    sleep 0.1;
}
is($flags && $flags->{data}{'storage.tsdb.path'}, "$dir/data",
   'the Prometheus answering is ours (its storage directory)')
    or BAIL_OUT('no Prometheus of ours: ' . do { local (@ARGV, $/) = "$dir/prometheus.log"; <> // '' });

# a scrape happened, and it parsed
my $target;
for (1 .. 120) {
    my $t = api('/api/v1/targets');
    ($target) = grep { $_->{labels}{job} eq 'oa2f' } @{ $t->{data}{activeTargets} || [] };
    last if $target && $target->{health} eq 'up';
    sleep 0.25;
}
is($target && $target->{health}, 'up', "the target $HTTPD is up (scraped and parsed)")
    or diag($json->encode($target || {}));
is($target && $target->{lastError}, '', 'no scrape error');
is(vector(query('up{job="oa2f"}'))->{''}, 1, 'up{job="oa2f"} = 1');

# ---- what it stored is what we scrape -------------------------------------
my @tokens = map { mint_token('app-rw') } 1 .. 3;
my @codes = map { (GET '/prom/nocache', bearer($_))->code } @tokens;
is("@codes", '200 200 200', 'three requests that ask the provider');
my ($mine) = prom_parse(GET('/prom/status?prometheus')->content);
my $want_calls = scraped($mine, 'oauth2_federated_provider_calls_total');
my $want_count = scraped($mine, 'oauth2_federated_provider_latency_seconds_count');
my $want_buckets = scraped($mine, 'oauth2_federated_provider_latency_seconds_bucket');
my ($calls, $count, $buckets);
for (1 .. 120) {
    $calls = vector(query('oauth2_federated_provider_calls_total{job="oa2f"}'));
    last if same($calls, $want_calls);
    sleep 0.25;
}
ok(same($calls, $want_calls), 'provider_calls_total in Prometheus = our scrape, series by series')
    or diag($json->encode({ prometheus => $calls, scrape => $want_calls }));
ok(($calls->{qq{endpoint="$EP",outcome="ok"}} // 0) >= 3, '... with the endpoint label');
$count = vector(query('oauth2_federated_provider_latency_seconds_count{job="oa2f"}'));
ok(same($count, $want_count), 'provider_latency_seconds_count: the same');
$buckets = vector(query('oauth2_federated_provider_latency_seconds_bucket{job="oa2f"}'));
ok(same($buckets, $want_buckets), 'provider_latency_seconds_bucket: the same, every le');
my $bi = vector(query('oauth2_federated_build_info{job="oa2f"}'));
my ($bk) = keys %$bi;
like($bk // '', qr/(?:^|,)version="\Q$version\E"(?:,|$)/, "build_info: version $version")
    or diag($json->encode($bi));
my $q = vector(query(qq{histogram_quantile(0.5, sum by (le) (oauth2_federated_provider_latency_seconds_bucket{job="oa2f",endpoint="$EP"}))}));
ok(defined $q->{''} && $q->{''} > 0 && $q->{''} <= 5, "histogram_quantile of the buckets: $q->{''} s")
    or diag($json->encode($q));

# ---- the dashboard's expressions evaluate ----------------------------------
{
    my $d = do {
        open my $fh, '<', "$FindBin::Bin/../conf/grafana-dashboard.json" or die "dashboard: $!";
        local $/;
        $json->decode(<$fh>);
    };
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
    my @bad;
    for my $e (@exprs) {
        (my $q = $e) =~ s/\$__rate_interval/1m/g;
        $q =~ s/\$instance/.*/g;
        my $a = query($q);
        push @bad, "$e: " . ($a ? $a->{error} // '' : 'no answer')
            unless $a && $a->{status} eq 'success';
    }
    is(join("\n", @bad), '', scalar(@exprs) . ' dashboard expressions evaluate in Prometheus');
}

# ---- stopped -----------------------------------------------------------------
stop_started(@started);
@started = ();
ok(!kill(0, $pid) && port_free($PORT), 'our Prometheus is gone');
