# Discovery (README "Resource identity"): OAuth2FederatedMetadataURL gives
# the introspection endpoint and the issuer, from the real oidc-provider's
# OpenID Connect document and the stub's RFC 8414 ones; the issuer-matches-
# URL rule (RFC 8414 §3.3); unusable and unfetchable documents; one fetch
# for all requests, children and a graceful restart (the shared cache), and
# none at `apache2 -t`.
use strict;
use warnings FATAL => 'all';

use FindBin;
use lib "$FindBin::Bin/lib";

use Apache::Test qw(-withtestmore);
use Apache::TestRequest qw(GET);
use File::Basename qw(dirname);
use File::Temp qw(tempdir);
use POSIX ();
use Time::HiRes qw(sleep time);
use OA2FTest;

plan tests => 62, need_module('alias');
# show failures and diag() without -verbose (Apache::Test sends them to STDOUT)
Test::More->builder->failure_output(\*STDERR);

my $ISS_TEXT = 'the access token was not issued by a trusted issuer';
my $OIDC = '/.well-known/openid-configuration';
my $MD = '/.well-known/oauth-authorization-server/md/';
my $error_log = Apache::Test::vars('t_logs') . '/error_log';

sub slurp { my ($f) = @_; open my $fh, '<', $f or return ''; local $/; <$fh> }
sub log_since { my ($o) = @_; my $all = slurp($error_log); length $all > $o ? substr($all, $o) : '' }

# (status, error, error_description) of one request
sub try {
    my ($path, $t) = @_;
    my $res = GET $path, bearer($t);
    my $c = challenge_of($res) || {};
    return ($res->code, $c->{error} // '', $c->{error_description} // '');
}
sub code { (try(@_))[0] }

# ---- the real provider: endpoint and issuer from its discovery document ---
{
    my $c0 = provider_count($OIDC);
    my $i0 = provider_count();
    my $t = mint_token('app-read');
    is(code('/disc/real', $t), 200, 'MetadataURL alone (real provider): a valid token passes');
    is(provider_count() - $i0, 1, '... validated at the discovered introspection_endpoint');
    # at most once: t/17_resource_metadata.t's MCP location, in the same
    # server, may have fetched it already
    my $c1 = provider_count($OIDC);
    ok($c1 - $c0 <= 1, '... the document fetched once at most');
    is(code('/disc/real', fake_token()), 401, '... a fake token: 401');
    my @codes = map { code('/disc/real', $t) } 1 .. 10;
    is("@codes", join(' ', (200) x 10), '... ten more requests: 200');
    is(provider_count($OIDC) - $c1, 0, '... and the document was not fetched again for them');
    is(code('/disc/real-ep', $t), 200,
       'Endpoint set by hand beside MetadataURL: the document\'s issuer matches the token\'s iss');
    my ($code, $err, $desc) = try('/disc/real-iss', $t);
    is("$code|$err|$desc", "401|invalid_token|$ISS_TEXT",
       'a configured Issuer list wins over the document\'s issuer');
}

# ---- the issuer check from discovery (stub documents and answers) ----------
is(code('/disc/md/noiss', fake_token()), 200,
   'RFC 8414 document; an answer without iss passes (the issuer only comes from discovery)');
is(code('/disc/md/rightiss', fake_token()), 200, 'an answer with the document\'s iss passes');
for my $case ([ wrongiss => 'another issuer' ], [ slashiss => 'the issuer with a trailing slash' ]) {
    my ($code, $err, $desc) = try("/disc/md/$case->[0]", fake_token());
    is("$code|$err|$desc", "401|invalid_token|$ISS_TEXT", "an answer with $case->[1]: refused");
}

# ---- unusable documents: 500 (gateway), 502 (rfc6750) ----------------------
for my $case ([ mismatch   => 'whose issuer is not the one its URL implies' ],
              [ slash      => 'whose issuer has a trailing slash the URL does not' ],
              [ notjson    => 'that is not JSON' ],
              [ array      => 'that is a JSON array' ],
              [ noendpoint => 'without introspection_endpoint' ],
              [ redirect   => 'that redirects (not followed)' ],
              [ huge       => 'of 50 MB (over the 1 MiB cap)' ]) {
    my ($name, $what) = @$case;
    my $s0 = stub_count("$MD$name");
    my ($t0) = time;
    is(code("/disc/md/$name", fake_token()), 500, "a document $what: 500");
    ok(time - $t0 < 5, '... at once');
    is(stub_count("$MD$name") - $s0, 1, '... fetched once');
}
is(code('/disc/md-rfc6750/mismatch', fake_token()), 502, 'rfc6750 profile: an unusable document is 502');

# ---- unfetchable: 401 (gateway), 503 (rfc6750) ------------------------------
is(code('/disc/dead', fake_token()), 401, 'nothing listens at the metadata URL: 401');
is(code('/disc/dead-rfc6750', fake_token()), 503, '... 503 with the rfc6750 profile');
is(code('/disc/md/503', fake_token()), 401, 'the metadata URL answers 503: as unreachable, 401');

# ---- one log line per incident, a failure is retried after a back-off ------
{
    my $offset = -s $error_log // 0;
    my $s0 = stub_count("${MD}notjson");
    my @codes = map { code('/disc/md/notjson', fake_token()) } 1 .. 5;
    is("@codes", '500 500 500 500 500', 'the unusable document again: 500 each time');
    is(stub_count("${MD}notjson") - $s0, 0, '... not fetched again within the back-off');
    my @lines = grep { /md\/notjson/ && /:error\]/ } split /\n/, log_since($offset);
    is(scalar @lines, 0, '... and not logged again as an error');
}
{
    my $s0 = stub_count("${MD}503");
    sleep 5.5;    # the back-off (5 s) runs out
    my $offset = -s $error_log // 0;
    is(code('/disc/md/503', fake_token()), 401, 'after the back-off: still 401');
    is(stub_count("${MD}503") - $s0, 1, '... the document was asked for again');
    my @lines = grep { /md\/503/ && /:error\]/ } split /\n/, log_since($offset);
    is(scalar @lines, 0, '... the same incident: no new error line');
}

# ---- Cache-Control max-age: kept 2 s only -----------------------------------
{
    my $s0 = stub_count("${MD}maxage");
    is(code('/disc/md/maxage', fake_token()), 200, 'a document with max-age=2: 200');
    is(code('/disc/md/maxage', fake_token()), 200, '... again');
    is(stub_count("${MD}maxage") - $s0, 1, '... one fetch');
    sleep 3;
    is(code('/disc/md/maxage', fake_token()), 200, '... after 3 s: 200');
    is(stub_count("${MD}maxage") - $s0, 2, '... fetched again');
}

# ---- single-flight: concurrent first requests cause one fetch ---------------
{
    my $s0 = stub_count("${MD}rightiss");
    # rightiss was fetched above; its copy lasts an hour
    is(code('/disc/md/rightiss', fake_token()), 200, 'a kept document, later: 200');
    is(stub_count("${MD}rightiss") - $s0, 0, 'kept documents are not fetched again');
    for my $case ([ burst => 'a document' ], [ large => 'a 200 KiB document' ]) {
        my ($name, $what) = @$case;
        my $n0 = stub_count("$MD$name");
        my @pids;
        for (1 .. 8) {
            my $pid = fork // die "fork: $!";
            if (!$pid) {
                my $res = GET "/disc/md/$name", bearer(fake_token());
                POSIX::_exit($res->code == 200 ? 0 : 1);    # no END blocks here
            }
            push @pids, $pid;
        }
        my $bad = 0;
        for (@pids) { waitpid $_, 0; $bad++ if $? }
        is($bad, 0, "8 parallel first requests for $what: all 200");
        is(stub_count("$MD$name") - $n0, 1, '... and one fetch for all of them');
    }
}

# ---- a graceful restart: the new children read the shared copy --------------
{
    my $t = mint_token('app-read');
    is(code('/disc/real', $t), 200, 'before graceful: 200');
    is(code('/disc/md/large', fake_token()), 200, '... and with the 200 KiB document');
    my $c0 = provider_count($OIDC);
    my $l0 = stub_count("${MD}large");
    my $pidfile = Apache::Test::vars('t_logs') . '/httpd.pid';
    chomp(my $pid = slurp($pidfile));
    kill 'USR1', $pid or die "kill USR1 $pid: $!";
    my $code = 0;
    sleep 1;
    for (1 .. 50) {                       # wait for the new generation
        $code = eval { code('/disc/real', $t) } // 0;
        last if $code == 200;
        sleep 0.2;
    }
    is($code, 200, 'after apachectl graceful: 200');
    is(provider_count($OIDC) - $c0, 0, '... the new children did not fetch the document again');
    is(code('/disc/md/large', fake_token()), 200, 'after graceful, the 200 KiB document: 200');
    is(stub_count("${MD}large") - $l0, 0, '... not fetched again either (its members are shared, not the document)');
}

# ---- apache2 -t never touches the network ------------------------------------
{
    my $cfg = Apache::Test::config();
    my $httpd = Apache::Test::vars('httpd');
    my $so = $cfg->{modules}{'mod_oauth2_federated.c'} || "$FindBin::Bin/../.libs/mod_oauth2_federated.so";
    my $moddir = dirname($cfg->{modules}{'mod_authz_core.c'} || '/usr/lib/apache2/modules/x');
    my $mpm = (grep { -e "$moddir/mod_mpm_$_.so" } qw(event worker prefork))[0] || 'event';
    my $dir = tempdir('oa2f-disc-XXXXXX', TMPDIR => 1, CLEANUP => 1);
    my $file = "$dir/disc.conf";
    open my $fh, '>', $file or die "$file: $!";
    print $fh map { "$_\n" } (
        "ServerRoot \"$dir\"", 'ServerName localhost', 'Listen 127.0.0.1:65010',
        "PidFile \"$dir/httpd.pid\"", "ErrorLog \"$dir/error_log\"",
        "LoadModule mpm_${mpm}_module \"$moddir/mod_mpm_$mpm.so\"",
        "LoadModule authn_core_module \"$moddir/mod_authn_core.so\"",
        "LoadModule authz_core_module \"$moddir/mod_authz_core.so\"",
        "LoadModule authz_user_module \"$moddir/mod_authz_user.so\"",
        "LoadModule socache_shmcb_module \"$moddir/mod_socache_shmcb.so\"",
        "LoadModule oauth2_federated_module \"$so\"",
        '<Location /api>', '    AuthType oauth2-federated', '    AuthName api',
        # a black hole: a fetch would hang until a timeout
        '    OAuth2FederatedMetadataURL http://10.255.255.1/.well-known/openid-configuration',
        '    OAuth2FederatedTimeout 30 60',
        '    Require valid-user', '</Location>',
    );
    close $fh;
    my $t0 = time;
    my $out = `'$httpd' -t -f '$file' 2>&1`;
    my $rc = $? >> 8;
    is($rc, 0, 'apache2 -t with a MetadataURL that cannot be reached: Syntax OK') or diag($out);
    ok(time - $t0 < 5, '... at once (no fetch at configuration time)');
}
