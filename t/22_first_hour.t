# The first hour of an operator (issue 17, README "Logging"): what the
# error log says at start-up and during an outage, read from an extra
# httpd of its own (one process, so that its rate limits are the ones
# seen; LogLevel warn with the module at info).
#
# - OAuth2FederatedSSLVerify Off and OAuth2FederatedSendTokenIn outside
#   the openam dialect: one warning each (OA2F10402, OA2F10403) naming the
#   section, the server and the file and line; at start-up once, once
#   more per graceful restart, once in `apache2 -t`; none for a
#   configuration without them, none for SendTokenIn under openam.
# - provider trouble at error level is limited per kind: a "rejected"
#   right after another kind is still an error line, a second "rejected"
#   within 10 s is not.
# - outage lines (unreachable, a timeout, a circuit opening) name the
#   endpoint, without user info and query, and the location.
#
# Ports: OA2F_LOGS_PORT_BASE (18690; else OA2F_NEW_PORT_BASE): httpd +0,
# the Listen of the configurations that are only tested +1.
use strict;
use warnings FATAL => 'all';

use Apache::Test qw(-withtestmore);
use FindBin;
use lib "$FindBin::Bin/lib";
use OA2FTest;
use LWP::UserAgent ();
use IO::Socket::INET ();
use File::Temp qw(tempdir);
use Time::HiRes qw(sleep);

plan tests => 28, need_module('authz_core');
Test::More->builder->failure_output(\*STDERR);

my $cfg = Apache::Test::config();
my $httpd = $cfg->{vars}{httpd};
my $modules = $cfg->{vars}{libexecdir} || '/usr/lib/apache2/modules';
my $module = $ENV{OA2F_MODULE} || "$FindBin::Bin/../.libs/mod_oauth2_federated.so";
my $BASE = $ENV{OA2F_LOGS_PORT_BASE} || $ENV{OA2F_NEW_PORT_BASE} || 18690;
my ($HPORT, $TPORT) = ($BASE, $BASE + 1);
my $dir = tempdir('oa2f-logs-XXXXXX', TMPDIR => 1, CLEANUP => 1);
chmod 0755, $dir;
my $root = "$dir/httpd";
my $ua = LWP::UserAgent->new(timeout => 15, keep_alive => 0);
my @started;
END { local $?; stop_started(@started) }

mkdir $root; mkdir "$root/logs"; mkdir "$root/htdocs";
{ open my $fh, '>', "$root/htdocs/ok.txt" or die; print $fh "ok\n"; }
system('chmod', '-R', 'a+rX', $root);

# conf(NAME, LOCATIONS): write NAME.conf, a one-process httpd with
# LOCATIONS; returns the file and, for each "@NAME" marker at the end of
# a line of LOCATIONS, the line it is on (the marker is removed).
sub conf {
    my ($name, $port, $locations) = @_;
    my $head = extra_httpd_head($root, $port, $modules);
    $head =~ s/^LogLevel .*$/LogLevel warn oauth2_federated:info/m or die 'no LogLevel';
    $head =~ s/^ErrorLog .*$/ErrorLog "$root\/logs\/$name.log"/m or die 'no ErrorLog';
    $head =~ s/^PidFile .*$/PidFile "$root\/$name.pid"/m or die 'no PidFile';
    my $text = $head . <<"CONF" . $locations;
StartServers 1
ServerLimit 1
ThreadsPerChild 4
MaxRequestWorkers 4
MinSpareThreads 1
MaxSpareThreads 4
LoadModule alias_module $modules/mod_alias.so
LoadModule socache_shmcb_module $modules/mod_socache_shmcb.so
LoadModule oauth2_federated_module $module
AliasMatch "^/h/" "$root/htdocs/ok.txt"
CONF
    my (%at, @out);
    my $n = 0;
    for my $l (split /\n/, $text) {
        $n++;
        $at{$1} = $n if $l =~ s/\s+\@(\w+)$//;
        push @out, $l;
    }
    my $file = "$root/$name.conf";
    open my $fh, '>', $file or die "$file: $!";
    print $fh map { "$_\n" } @out;
    close $fh;
    return ($file, \%at);
}

sub location {
    my ($path, @lines) = @_;
    return join "\n", "<Location $path>", '    AuthType oauth2-federated',
        '    AuthName "logs"', map({ "    $_" } @lines), '    Require valid-user',
        '</Location>', '';
}

sub wait_port {
    my ($port) = @_;
    for (1 .. 150) {
        return 1 if IO::Socket::INET->new(PeerAddr => "127.0.0.1:$port", Timeout => 1);
        sleep 0.1;
    }
    return 0;
}

sub slurp {
    my ($file) = @_;
    open my $fh, '<', $file or return '';
    local $/;
    return scalar <$fh>;
}

sub lines_of {
    my ($text, $re) = @_;
    return grep { /$re/ } split /\n/, $text;
}

my $STUB = stub_url('');
my $locations =
    location('/h/noverify', 'OAuth2FederatedEndpoint https://127.0.0.1:1/introspect',
             'OAuth2FederatedSSLVerify Off @noverify')
  . location('/h/sendtoken', "OAuth2FederatedEndpoint $STUB/active",
             'OAuth2FederatedSendTokenIn header @sendtoken')
  . location('/h/am', 'OAuth2FederatedProvider openam',
             "OAuth2FederatedEndpoint $STUB/openam/oauth2/tokeninfo",
             'OAuth2FederatedSendTokenIn header')
  . location('/h/rejected', "OAuth2FederatedEndpoint $STUB/401",
             'OAuth2FederatedCircuitBreaker Off')
  . location('/h/unreachable',
             'OAuth2FederatedEndpoint "http://gw:pw-in-url@127.0.0.1:1/introspect?tenant=t-in-url"',
             'OAuth2FederatedCircuitBreaker Off')
  . location('/h/timeout', "OAuth2FederatedEndpoint $STUB/hang",
             'OAuth2FederatedTimeout 1 1', 'OAuth2FederatedCircuitBreaker Off')
  . location('/h/breaker', 'OAuth2FederatedEndpoint http://127.0.0.1:1/breaker',
             'OAuth2FederatedCircuitBreaker 1 30');
my ($main, $at) = conf('main', $HPORT, $locations);

# ---- apache2 -t: once each, naming the scope, file and line ----------------
{
    my $out = `'$httpd' -t -f '$main' 2>&1`;
    like($out, qr/Syntax OK/, 'apache2 -t: Syntax OK (a warning does not fail it)');
    my @v = lines_of($out, qr/OA2F10402:/);
    is(scalar @v, 1, 'apache2 -t: one SSLVerify Off warning') or diag($out);
    like($v[0] // '', qr/\[oauth2_federated:warn\] .*OA2F10402: OAuth2FederatedSSLVerify Off in <Location \/h\/noverify> of the main server at \Q$main\E:$at->{noverify}: /,
         '... at warn, naming the location, the server, the file and the line');
    my @s = lines_of($out, qr/OA2F10403:/);
    is(scalar @s, 1, 'apache2 -t: one SendTokenIn warning (none for the openam location)') or diag($out);
    like($s[0] // '', qr/OA2F10403: OAuth2FederatedSendTokenIn header in <Location \/h\/sendtoken> of the main server at \Q$main\E:$at->{sendtoken} has no effect: it applies to the openam dialect only, and this scope uses introspection \(the default\)$/,
         '... naming the location, the file, the line and the dialect in force');
}
{
    # the control: the same without them
    (my $fine = $locations) =~ s/^.*(?:SSLVerify Off|SendTokenIn header \@sendtoken).*\n//mg;
    my ($file) = conf('fine', $TPORT, $fine . location('/h/mule-dialect',
        'OAuth2FederatedProvider mule', "OAuth2FederatedEndpoint $STUB/mule/validate"));
    my $out = `'$httpd' -t -f '$file' 2>&1`;
    like($out, qr/Syntax OK/, 'control: apache2 -t passes');
    is(scalar(lines_of($out, qr/OA2F1040[23]:/)), 0, 'control: no warning without those settings')
        or diag($out);
    # a SendTokenIn line of its own under a mule location, and one in a
    # <VirtualHost> whose default dialect is mule
    my ($file2, $at2) = conf('mule', $TPORT, location('/h/mule',
        'OAuth2FederatedProvider mule', "OAuth2FederatedEndpoint $STUB/mule/validate",
        'OAuth2FederatedSendTokenIn query @mule')
        . "<VirtualHost 127.0.0.1:$TPORT>\n    OAuth2FederatedProvider mule\n"
        . "    OAuth2FederatedSendTokenIn header \@vhost\n</VirtualHost>\n");
    $out = `'$httpd' -t -f '$file2' 2>&1`;
    my @m = lines_of($out, qr/OA2F10403:/);
    is(scalar @m, 2, 'SendTokenIn under mule: one warning per line') or diag($out);
    like($m[0] // '', qr/OA2F10403: OAuth2FederatedSendTokenIn query in <Location \/h\/mule> of the main server at \Q$file2\E:$at2->{mule} has no effect: .* uses mule$/,
         '... naming the mule location');
    like($m[1] // '', qr/OA2F10403: OAuth2FederatedSendTokenIn header in <VirtualHost 127\.0\.0\.1:$TPORT> at \Q$file2\E:$at2->{vhost} has no effect: .* uses mule$/,
         '... and the virtual host');
}

# ---- start-up and a graceful restart: once per generation -------------------
my $log = "$root/logs/main.log";
system($httpd, '-f', $main, '-k', 'start') == 0 or die 'httpd did not start: ' . slurp($log);
push @started, [ 'httpd', "$root/main.pid" ];
wait_port($HPORT) or die 'httpd not listening: ' . slurp($log);
# the listeners open before the second post_config pass (which warns)
# has run: wait for its lines (at most 10 s; a missing warning then fails)
for (1 .. 100) {
    my $t = slurp($log);
    last if lines_of($t, qr/OA2F10402:/) && lines_of($t, qr/OA2F10403:/);
    sleep 0.1;
}
{
    my $text = slurp($log);
    is(scalar(lines_of($text, qr/OA2F10402:/)), 1, 'start-up: the SSLVerify Off warning once in the error log')
        or diag($text);
    is(scalar(lines_of($text, qr/OA2F10403:/)), 1, 'start-up: the SendTokenIn warning once');
    like((lines_of($text, qr/OA2F10402:/))[0] // '',
         qr/\[oauth2_federated:warn\] .*<Location \/h\/noverify> of the main server at \Q$main\E:$at->{noverify}:/,
         '... at warn, with the location, file and line');
}
system($httpd, '-f', $main, '-k', 'graceful') == 0 or die 'graceful failed';
for (1 .. 100) {
    last if lines_of(slurp($log), qr/OA2F10012:/) >= 2;
    sleep 0.1;
}
sleep 0.5;
wait_port($HPORT) or die 'httpd not listening after the restart';
{
    my $text = slurp($log);
    is(scalar(lines_of($text, qr/OA2F10012:/)), 2, 'graceful restart: a new generation');
    is(scalar(lines_of($text, qr/OA2F10402:/)), 2, 'graceful restart: the warning once more, not per child')
        or diag($text);
    is(scalar(lines_of($text, qr/OA2F10403:/)), 2, 'graceful restart: the SendTokenIn warning once more');
}

# ---- provider trouble: the error-level limit is per kind ---------------------
sub get {
    my ($path) = @_;
    return $ua->get("http://127.0.0.1:$HPORT$path", Authorization => 'Bearer ' . fake_token());
}
is(get('/h/rejected')->code, 403, 'refused credentials: 403');
is(get('/h/unreachable')->code, 401, 'unreachable right after: 401');
is(get('/h/rejected')->code, 403, 'refused credentials again: 403');
is(get('/h/timeout')->code, 401, 'a hanging provider (Timeout 1 1): 401');
is(get('/h/breaker')->code, 401, 'a failed call with CircuitBreaker 1 30: 401');
sleep 0.5;
{
    my $text = slurp($log);
    my @rej = lines_of($text, qr/OA2F10005: token \S+: rejected /);
    my @unr = lines_of($text, qr/OA2F10005: token \S+: unreachable /);
    is(scalar(grep { /\[oauth2_federated:error\]/ } @rej), 1,
       'rejected: one error line, the second within 10 s at info') or diag(join "\n", @rej);
    ok(scalar(grep { /\[oauth2_federated:error\]/ } @unr),
       'unreachable right after a rejected: still an error line (visible at LogLevel warn)')
        or diag(join "\n", @rej, @unr);
    like((grep { m{location /h/rejected\)$} } @rej)[0] // '',
         qr/; endpoint \Q$STUB\E\/401, location \/h\/rejected\)$/,
         'rejected: the line names the endpoint and the location');
    like((grep { m{location /h/unreachable\)$} } @unr)[0] // '',
         qr/; endpoint http:\/\/127\.0\.0\.1:1\/introspect, location \/h\/unreachable\)$/,
         'unreachable: the endpoint without user info and query, and the location');
    like((grep { m{location /h/timeout\)$} } @unr)[0] // '',
         qr/; endpoint \Q$STUB\E\/hang, location \/h\/timeout\)$/,
         'timeout: the endpoint and the location');
    ok(index($text, 'pw-in-url') < 0 && index($text, 't-in-url') < 0,
       'neither the endpoint\'s password nor its query is logged');
    like((lines_of($text, qr/OA2F10500:/))[0] // '',
         qr/\[oauth2_federated:warn\] .*OA2F10500: circuit breaker of http:\/\/127\.0\.0\.1:1\/breaker opened after 1 consecutive failed calls \(last: unreachable, HTTP 0, location \/h\/breaker\): no calls for 30 s/,
         'circuit opened: the endpoint and the location');
}
