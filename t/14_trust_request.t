# Trust boundaries inside one request (issue 11, points 4-8; README "Trust boundaries"):
#   4. the token never leaves the request (an echoed token is dropped from
#      the answer; OAuth2FederatedStripToken query|all|none);
#   5. no forged prefix header survives anywhere (every prefix configured
#      in the server is stripped from every request);
#   6. only bearer access tokens pass as bearer (token_type, token_use,
#      cnf.jkt; cnf.x5t#S256 against a real mod_ssl client certificate, on
#      an extra httpd this test starts);
#   7. httpd's authorization logic is kept (Require ip in RequireAny /
#      RequireAll next to Require oauth2-scope);
#   8. identity survives internal redirects (mod_rewrite in <Directory>,
#      ErrorDocument, DirectoryIndex, a rewrite that ends at mod_proxy).
# Locations: t/conf/trust_request.conf.in; stub routes: t/servers/stub.js.
#
# The extra httpd listens on 127.0.0.1 only: OA2F_TREQ_TLS_PORT (18580,
# TLS with SSLVerifyClient optional) and OA2F_TREQ_PLAIN_PORT (18581).
use strict;
use warnings FATAL => 'all';

use FindBin;
use lib "$FindBin::Bin/lib";

use Apache::Test qw(-withtestmore);
use Apache::TestRequest qw(GET);
use Apache::TestConfig ();
use JSON::PP ();
use LWP::UserAgent ();
use IO::Socket::INET ();
use File::Temp qw(tempdir);
use Digest::SHA qw(sha256);
use MIME::Base64 qw(encode_base64url);
use Time::HiRes qw(sleep time);
use POSIX ();
use OA2FTest;

my $cfg     = Apache::Test::config();
my $modules = $cfg->{vars}{libexecdir} || '/usr/lib/apache2/modules';
my $ssl_so  = "$modules/mod_ssl.so";
my $openssl = (grep { -x } map { "$_/openssl" } split /:/, $ENV{PATH} // '')[0];

plan tests => 160,
    need(need_module(qw(cgid proxy proxy_http rewrite dir setenvif mime)),
         { 'mod_ssl.so in the module directory' => -e $ssl_so,
           'the openssl command'                 => defined $openssl });
# show failures and diag() without -verbose (Apache::Test sends them to STDOUT)
Test::More->builder->failure_output(\*STDERR);

my $logs = Apache::Test::vars('t_logs');
my $json = JSON::PP->new->utf8->canonical;

sub slurp {
    my ($file) = @_;
    open my $fh, '<', $file or return '';
    local $/;
    return scalar <$fh>;
}

# The first line of FILE that contains MARKER, waiting up to 3 s for it
# (log lines are written after the response).
sub line_with {
    my ($file, $marker) = @_;
    my $deadline = time + 3;
    while (1) {
        my ($line) = grep { index($_, $marker) >= 0 } split /\n/, slurp($file);
        return $line if defined $line || time > $deadline;
        sleep 0.1;
    }
}

# Names of the variables (CGI) whose value contains TOKEN.
sub vars_with {
    my ($env, $token) = @_;
    return [ grep { index($env->{$_} // '', $token) >= 0 } sort keys %$env ];
}

# "Name: value" of the echoed headers whose name matches RE (and whose
# value is VALUE, when given).
sub headers_like {
    my ($res, $re, $value) = @_;
    return [ map { "$_->[0]: $_->[1]" }
             grep { $_->[0] =~ $re && (!defined $value || $_->[1] eq $value) } echo_headers($res) ];
}

sub short {
    my ($text) = @_;
    $text //= '';
    $text =~ s/\s+/ /g;
    return length $text > 300 ? substr($text, 0, 300) . '…' : $text;
}

sub decoded_raw {
    my ($env) = @_;
    my $raw = eval { $json->decode($env->{OAUTH2_FEDERATED_RESPONSE} // '') };
    return ref $raw eq 'HASH' ? $raw : undef;
}

# WWW-Authenticate: Bearer realm="REALM", error="ERROR" (default invalid_token)
sub challenge_is {
    my ($res, $realm, $error) = @_;
    my $c = challenge_of($res) || {};
    return ($c->{scheme} // '') eq 'Bearer' && ($c->{realm} // '') eq $realm
        && ($c->{error} // '') eq ($error // 'invalid_token');
}

# ===========================================================================
# 4. The token never leaves the request.
# ---- (a) OpenAM tokeninfo echoes access_token --------------------------------
{
    my $t = mint_token('app-rw');
    my $res = GET '/cgi/treq/openam', bearer($t);
    is($res->code, 200, 'openam (CGI): 200');
    my $env = cgi_env($res);
    is($env->{AGW_UID}, 'user-app-rw', 'openam (CGI): the fields arrive (AGW_UID)');
    ok(!exists $env->{AGW_ACCESS_TOKEN}, 'openam (CGI): no AGW_ACCESS_TOKEN');
    my $raw = decoded_raw($env);
    ok($raw && ($raw->{uid} // '') eq 'user-app-rw',
       'openam (CGI): OAUTH2_FEDERATED_RESPONSE is still the answer')
        or diag('OAUTH2_FEDERATED_RESPONSE: ' . ($env->{OAUTH2_FEDERATED_RESPONSE} // '(unset)'));
    ok($raw && !exists $raw->{access_token},
       'openam (CGI): OAUTH2_FEDERATED_RESPONSE has no access_token member');
    is_deeply(vars_with($env, $t), [],
              'openam (CGI): the token is in no variable (OAUTH2_FEDERATED_RESPONSE, AGW_*, QUERY_STRING …)');

    $res = GET '/px/treq/openam', bearer($t);
    is($res->code, 200, 'openam (proxy): 200');
    is_deeply([ echo_header_values($res, 'X-AGW-uid') ], ['user-app-rw'], 'openam (proxy): X-AGW-uid arrives');
    is_deeply(headers_like($res, qr/^x[-_]agw[-_]access/i), [], 'openam (proxy): no X-AGW-access_token');
    is_deeply([ grep { index($_, $t) >= 0 } @{ headers_like($res, qr/^x[-_]agw[-_]/i) } ], [],
              'openam (proxy): no X-AGW-* header holds the token');
}
# ---- (a) any top-level field equal to the token is dropped -------------------
{
    my $f = fake_token();
    my $res = GET '/cgi/treq/echo-token', bearer($f);
    is($res->code, 200, 'echo-token (CGI): 200');
    my $env = cgi_env($res);
    is($env->{AGW_USERNAME}, 'echo-user', 'echo-token (CGI): the other fields arrive');
    ok(!exists $env->{AGW_ECHO}, 'echo-token (CGI): the field "echo" (= the token) is dropped')
        or diag('AGW_ECHO is ' . (($env->{AGW_ECHO} // '') eq $f ? 'the token' : $env->{AGW_ECHO}));
    my $raw = decoded_raw($env);
    ok($raw && ($raw->{username} // '') eq 'echo-user' && !exists $raw->{echo},
       'echo-token (CGI): OAUTH2_FEDERATED_RESPONSE without "echo"');
    is_deeply(vars_with($env, $f), [], 'echo-token (CGI): the token is in no variable');

    $res = GET '/px/treq/echo-token', bearer($f);
    is($res->code, 200, 'echo-token (proxy): 200');
    is_deeply([ echo_header_values($res, 'X-AGW-username') ], ['echo-user'], 'echo-token (proxy): X-AGW-username arrives');
    is_deeply(headers_like($res, qr/^x[-_]agw[-_]echo$/i), [], 'echo-token (proxy): no X-AGW-echo');
    is_deeply([ grep { index($_, $f) >= 0 } @{ headers_like($res, qr/^x[-_]agw[-_]/i) } ], [],
              'echo-token (proxy): no X-AGW-* header holds the token');
}

# ---- (b) OAuth2FederatedStripToken query (the default) -----------------------
{
    my $q = mint_token('app-rw', undef, 'query');
    my $res = GET "/cgi/treq/strip-default?a=1&access_token=$q&b=2";
    is($res->code, 200, 'strip default (CGI): a query token is accepted');
    my $env = cgi_env($res);
    is($env->{AGW_CLIENT_ID}, 'app-rw', 'strip default (CGI): validated as app-rw');
    is($env->{QUERY_STRING}, 'a=1&b=2', 'strip default (CGI): QUERY_STRING "a=1&b=2", access_token removed');
    is_deeply(vars_with($env, $q), [], 'strip default (CGI): the token is in no variable (QUERY_STRING, REQUEST_URI …)');

    my $q2 = mint_token('app-rw', undef, 'query');
    $env = cgi_env(GET "/cgi/treq/strip-query?access_token=$q2&z=9");
    is($env->{AGW_CLIENT_ID}, 'app-rw', 'StripToken query (CGI): validated');
    is($env->{QUERY_STRING}, 'z=9', 'StripToken query (CGI): token first → QUERY_STRING "z=9"');
    my $q3 = mint_token('app-rw', undef, 'query');
    $env = cgi_env(GET "/cgi/treq/strip-query?y=8&access_token=$q3");
    is($env->{AGW_CLIENT_ID}, 'app-rw', 'StripToken query (CGI): validated (token last)');
    is($env->{QUERY_STRING}, 'y=8', 'StripToken query (CGI): token last → QUERY_STRING "y=8"');
    my $q4 = mint_token('app-rw', undef, 'query');
    $env = cgi_env(GET "/cgi/treq/strip-query?access_token=$q4");
    is($env->{AGW_CLIENT_ID}, 'app-rw', 'StripToken query (CGI): validated (token alone)');
    ok(($env->{QUERY_STRING} // '') !~ /access_token/ && index($env->{QUERY_STRING} // '', $q4) < 0,
       'StripToken query (CGI): token alone → no access_token left in QUERY_STRING')
        or diag('QUERY_STRING: ' . ($env->{QUERY_STRING} // '(unset)'));
}
# proxied: the URL mod_proxy sends, what mod_proxy logs, %U%q and %r
{
    my $q = mint_token('app-rw', undef, 'query');
    my $m = 'treqm' . int(rand 1e9);
    my $res = GET "/px/treq/strip-default?m=$m&a=1&access_token=$q&b=2";
    is($res->code, 200, 'strip default (proxy): 200');
    is_deeply([ echo_header_values($res, 'X-AGW-client_id') ], ['app-rw'], 'strip default (proxy): validated as app-rw');
    my $url = (json_of($res) || {})->{url} // '';
    is($url, "/px/treq/strip-default?m=$m&a=1&b=2", 'strip default (proxy): the proxied URL has no access_token');

    my $qline = line_with("$logs/oa2f_treq_qlog", $m);
    ok(defined $qline, 'strip default (proxy): the "%U%q" access log line was written');
    ok(defined $qline && $qline !~ /access_token/ && index($qline, $q) < 0,
       'strip default (proxy): "%U%q" has no access_token')
        or diag('%U%q: ' . ($qline // '(none)'));
    my $rline = line_with("$logs/oa2f_access_log", $m);
    ok(defined $rline && index($rline, $q) < 0, 'strip default (proxy): "%r" has no token');

    my @lines = split /\n/, slurp("$logs/error_log");
    my @proxy = grep { /\[proxy(?:_http)?:/ && index($_, $m) >= 0 } @lines;
    cmp_ok(scalar @proxy, '>', 0,
           'strip default (proxy): mod_proxy / mod_proxy_http logged the URL (' . scalar(@proxy) . ' lines)');
    is_deeply([ grep { index($_, $q) >= 0 } @proxy ], [], 'strip default (proxy): no mod_proxy line holds the token');
    my @any = grep { index($_, $q) >= 0 } @lines;
    is(scalar @any, 0, 'strip default (proxy): no error log line holds the token')
        or diag($any[0]);
}
{
    # the Authorization header is still passed on with "query"
    my $h = mint_token('app-rw');
    my $res = GET '/px/treq/strip-default', bearer($h);
    is($res->code, 200, 'strip default (proxy, header token): 200');
    is_deeply([ echo_header_values($res, 'Authorization') ], ["Bearer $h"],
              'strip default (proxy, header token): the backend still gets Authorization');
}
# ---- StripToken all ----------------------------------------------------------
{
    my $h = mint_token('app-rw');
    my $res = GET '/px/treq/strip-all', bearer($h);
    is($res->code, 200, 'StripToken all (proxy, header token): 200');
    is_deeply([ echo_header_values($res, 'X-AGW-client_id') ], ['app-rw'], 'StripToken all (proxy): validated as app-rw');
    is_deeply([ echo_header_values($res, 'Authorization') ], [], 'StripToken all (proxy): no Authorization at the backend');

    my $q = mint_token('app-rw', undef, 'query');
    my $m = 'treqa' . int(rand 1e9);
    $res = GET "/px/treq/strip-all?m=$m&access_token=$q";
    is($res->code, 200, 'StripToken all (proxy, query token): 200');
    is((json_of($res) || {})->{url} // '', "/px/treq/strip-all?m=$m",
       'StripToken all (proxy, query token): the proxied URL has no access_token');
    my $qline = line_with("$logs/oa2f_treq_qlog", $m);
    ok(defined $qline && index($qline, $q) < 0 && $qline !~ /access_token/,
       'StripToken all (proxy): "%U%q" has no access_token') or diag('%U%q: ' . ($qline // '(none)'));

    my $q2 = mint_token('app-rw', undef, 'query');
    my $env = cgi_env(GET "/cgi/treq/strip-all?x=1&access_token=$q2");
    is($env->{AGW_CLIENT_ID}, 'app-rw', 'StripToken all (CGI): validated');
    is($env->{QUERY_STRING}, 'x=1', 'StripToken all (CGI): QUERY_STRING "x=1"');
}
# ---- StripToken none ---------------------------------------------------------
{
    my $q = mint_token('app-rw', undef, 'query');
    my $env = cgi_env(GET "/cgi/treq/strip-none?x=1&access_token=$q");
    is($env->{AGW_CLIENT_ID}, 'app-rw', 'StripToken none (CGI): validated');
    is($env->{QUERY_STRING}, "x=1&access_token=$q", 'StripToken none (CGI): QUERY_STRING as it came');

    my $h = mint_token('app-rw');
    my $res = GET '/px/treq/strip-none', bearer($h);
    is($res->code, 200, 'StripToken none (proxy): 200');
    is_deeply([ echo_header_values($res, 'Authorization') ], ["Bearer $h"],
              'StripToken none (proxy): Authorization as it came');

    # in .htaccess (AllowOverride AuthConfig): t/htdocs/treq/ht/.htaccess says none
    my $q2 = mint_token('app-rw', undef, 'query');
    $res = GET "/treq/ht/env.cgi?x=1&access_token=$q2";
    is($res->code, 200, 'StripToken none in .htaccess: accepted (200)')
        or diag('body: ' . short($res->content));
    $env = cgi_env($res);
    is($env->{QUERY_STRING}, "x=1&access_token=$q2", 'StripToken none in .htaccess: QUERY_STRING as it came');
}

# ===========================================================================
# 5. No forged prefix header survives anywhere.
my @forged = ('X-AGW-username'   => 'admin', 'X-V2-username' => 'admin',
              'X_V2_username'    => 'admin', 'X-Third-username' => 'admin',
              'X-VH-username'    => 'admin', 'X-Other' => 'kept');
my $ANY_PREFIX = qr/^x[-_](?:agw|v2|third|vh)[-_]/i;
{
    my $t = mint_token('app-rw');
    my $res = GET '/px/treq/v2', bearer($t), @forged;
    is($res->code, 200, 'prefix X-V2- (proxy): 200');
    is_deeply([ echo_header_values($res, 'X-V2-username') ], ['user-app-rw'],
              'prefix X-V2-: X-V2-username is the provider\'s value, once');
    is_deeply([ echo_header_values($res, 'X-V2-client_id') ], ['app-rw'], 'prefix X-V2-: X-V2-client_id, once');
    is_deeply(headers_like($res, qr/^x[-_]agw[-_]/i), [], 'prefix X-V2-: no X-AGW-* header at all (the default prefix is stripped too)');
    is_deeply(headers_like($res, qr/^x[-_](?:third|vh)[-_]/i), [],
              'prefix X-V2-: X-Third-* (another location) and X-VH-* (a virtual host) stripped');
    is_deeply(headers_like($res, qr/./, 'admin'), [], 'prefix X-V2-: no forged value reached the backend');
    is_deeply([ echo_header_values($res, 'X-Other') ], ['kept'], 'prefix X-V2-: other headers are kept');
}
{
    my $t = mint_token('app-rw');
    my $res = GET '/px/treq/agw', bearer($t), @forged;
    is($res->code, 200, 'prefix X-AGW- (proxy): 200');
    is_deeply([ echo_header_values($res, 'X-AGW-username') ], ['user-app-rw'],
              'prefix X-AGW-: X-AGW-username is the provider\'s value, once');
    is_deeply(headers_like($res, qr/^x[-_](?:v2|third|vh)[-_]/i), [],
              'prefix X-AGW-: X-V2-*, X_V2_*, X-Third-*, X-VH-* stripped');
    is_deeply(headers_like($res, qr/./, 'admin'), [], 'prefix X-AGW-: no forged value reached the backend');
}
{
    my $res = GET '/px/treq/open', @forged;
    is($res->code, 200, 'unprotected proxied location: 200');
    is_deeply([ echo_header_values($res, 'X-Other') ], ['kept'], 'unprotected: the echo backend answered, X-Other kept');
    is_deeply(headers_like($res, $ANY_PREFIX), [],
              'unprotected: no client-sent X-AGW-*, X-V2-*, X-Third-*, X-VH-* header');
}
{
    # the virtual host: its own prefix and the main server's ones
    my $url = Apache::TestRequest::module2url('oa2f_treq_vh', { path => '/px/treq/open' });
    my $ua = LWP::UserAgent->new(timeout => 15, keep_alive => 0);
    my $res = $ua->get($url, @forged);
    is($res->code, 200, 'virtual host, unprotected proxied location: 200');
    is_deeply([ echo_header_values($res, 'X-Other') ], ['kept'], 'virtual host: the echo backend answered');
    is_deeply(headers_like($res, $ANY_PREFIX), [],
              'virtual host: no client-sent X-AGW-*, X-V2-*, X-Third-*, X-VH-* header');
}

# ===========================================================================
# 6. Only bearer access tokens pass as bearer.
sub refused_as_bearer {
    my ($path, $what) = @_;
    my $t = fake_token();
    for my $round ('', ' (again: the verdict is not cached as a pass)') {
        my $res = GET $path, bearer($t);
        is($res->code, 401, "$what: 401$round") or diag('body: ' . short($res->content));
        ok(challenge_is($res, 'treq'), "$what: Bearer challenge with invalid_token$round")
            or diag('WWW-Authenticate: ' . ($res->header('WWW-Authenticate') // '(none)'));
    }
}
sub passes_as_bearer {
    my ($path, $what) = @_;
    my $res = GET $path, bearer(fake_token());
    is($res->code, 200, "$what: 200");
    is(cgi_env($res)->{AGW_USERNAME}, 'stub-user', "$what: the backend ran");
}
refused_as_bearer('/cgi/treq/tt-dpop',   'token_type "DPoP"');
refused_as_bearer('/cgi/treq/tt-na',     'token_type "N_A"');
refused_as_bearer('/cgi/treq/tu-refresh', 'token_use "refresh_token"');
refused_as_bearer('/cgi/treq/tu-id',     'token_use "id_token"');
refused_as_bearer('/cgi/treq/cnf-jkt',   'cnf.jkt (DPoP-bound)');
refused_as_bearer('/cgi/treq/x5t-plain', 'cnf.x5t#S256 over plain http');
passes_as_bearer('/cgi/treq/tt-bearer',    'token_type "Bearer"');
passes_as_bearer('/cgi/treq/tt-bearer-lc', 'token_type "bearer" (case-insensitive)');
passes_as_bearer('/cgi/treq/tu-access',    'token_use "access_token"');

# ---- cnf.x5t#S256 against a real mod_ssl client certificate ---------------------
my $tdir = tempdir('oa2f-treq-XXXXXX', TMPDIR => 1, CLEANUP => 1);
chmod 0755, $tdir;
my $TLS_PORT   = $ENV{OA2F_TREQ_TLS_PORT}   || 18580;
my $PLAIN_PORT = $ENV{OA2F_TREQ_PLAIN_PORT} || 18581;
my $extra_pidfile = "$tdir/httpd.pid";

sub ossl {
    my (@args) = @_;
    my $pid = fork // die "fork: $!";
    if (!$pid) {
        open STDOUT, '>', '/dev/null'; open STDERR, '>', "$tdir/openssl.err";
        { exec $openssl, @args; }
        POSIX::_exit(127);
    }
    waitpid $pid, 0;
    die "openssl @args failed: " . slurp("$tdir/openssl.err") if $?;
}

sub make_cert {
    my ($name, $cn, @ext) = @_;
    open my $fh, '>', "$tdir/$name.ext" or die; print $fh map { "$_\n" } @ext; close $fh;
    ossl('req', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes',
         '-subj', "/CN=$cn", '-keyout', "$tdir/$name.key", '-out', "$tdir/$name.csr");
    ossl('x509', '-req', '-in', "$tdir/$name.csr", '-CA', "$tdir/ca.crt", '-CAkey', "$tdir/ca.key",
         '-set_serial', int(rand 1e9) + 2, '-days', '2', '-extfile', "$tdir/$name.ext",
         '-out', "$tdir/$name.crt");
}

# base64url(SHA-256(DER)), RFC 8705 §3.1
sub thumbprint {
    my ($name) = @_;
    ossl('x509', '-in', "$tdir/$name.crt", '-outform', 'DER', '-out', "$tdir/$name.der");
    return encode_base64url(sha256(slurp("$tdir/$name.der")));
}

sub wait_port {
    my ($port, $up) = @_;
    for (1 .. 100) {
        my $s = IO::Socket::INET->new(PeerAddr => "127.0.0.1:$port", Timeout => 1);
        return 1 if $up ? $s : !$s;
        sleep 0.1;
    }
    return 0;
}

sub stop_extra {
    my $pid = slurp($extra_pidfile);
    return unless $pid =~ /^(\d+)/;
    $pid = $1;
    kill 'TERM', $pid;
    for (1 .. 100) { last unless kill 0, $pid; sleep 0.1; }
}
END { stop_extra() if $extra_pidfile && -f $extra_pidfile }

ossl('req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-days', '2',
     '-subj', '/CN=oa2f-treq-test-ca', '-addext', 'basicConstraints=critical,CA:TRUE',
     '-addext', 'keyUsage=critical,keyCertSign,cRLSign',
     '-keyout', "$tdir/ca.key", '-out', "$tdir/ca.crt");
make_cert('server', '127.0.0.1', 'subjectAltName=IP:127.0.0.1', 'extendedKeyUsage=serverAuth');
make_cert('client-a', 'client-a', 'extendedKeyUsage=clientAuth');
make_cert('client-b', 'client-b', 'extendedKeyUsage=clientAuth');
my $thumb_a = thumbprint('client-a');
my $thumb_b = thumbprint('client-b');
isnt($thumb_a, $thumb_b, "x5t: two client certificates with different thumbprints ($thumb_a)");

{
    my $root = "$tdir/httpd";
    mkdir $root; mkdir "$root/logs"; mkdir "$root/htdocs";
    for my $f (qw(x5t bearer)) {
        open my $fh, '>', "$root/htdocs/$f" or die; print $fh "ok\n"; close $fh;
    }
    system('chmod', '-R', 'a+rX', $tdir);
    my $module = $ENV{OA2F_MODULE} || "$FindBin::Bin/../.libs/mod_oauth2_federated.so";
    my $mpm = $ENV{OA2F_MPM} || 'event';
    my $stub = stub_url('');
    open my $fh, '>', "$root/httpd.conf" or die;
    print $fh <<"CONF";
ServerRoot "$root"
ServerName 127.0.0.1
Listen 127.0.0.1:$TLS_PORT https
Listen 127.0.0.1:$PLAIN_PORT http
PidFile "$extra_pidfile"
ErrorLog "$root/logs/error_log"
LogLevel info ssl:warn oauth2_federated:debug
DocumentRoot "$root/htdocs"
User www-data
Group www-data
LoadModule mpm_${mpm}_module $modules/mod_mpm_${mpm}.so
LoadModule authn_core_module $modules/mod_authn_core.so
LoadModule authz_core_module $modules/mod_authz_core.so
LoadModule authz_user_module $modules/mod_authz_user.so
LoadModule socache_shmcb_module $modules/mod_socache_shmcb.so
LoadModule ssl_module $ssl_so
LoadModule oauth2_federated_module $module
<Directory "$root/htdocs">
    Require all granted
</Directory>
# certificate-bound to client-a
<Location /x5t>
    AuthType oauth2-federated
    AuthName "treq-x5t"
    OAuth2FederatedEndpoint "$stub/x5t?thumb=$thumb_a"
    Require valid-user
</Location>
# not bound: the TLS listener itself works
<Location /bearer>
    AuthType oauth2-federated
    AuthName "treq-x5t"
    OAuth2FederatedEndpoint "$stub/token-type?value=Bearer"
    Require valid-user
</Location>
<VirtualHost 127.0.0.1:$TLS_PORT>
    SSLEngine on
    SSLCertificateFile "$tdir/server.crt"
    SSLCertificateKeyFile "$tdir/server.key"
    SSLCACertificateFile "$tdir/ca.crt"
    SSLVerifyClient optional
    SSLVerifyDepth 1
</VirtualHost>
CONF
    close $fh;
    wait_port($_, 0) or die "port $_ is taken (set OA2F_TREQ_TLS_PORT / OA2F_TREQ_PLAIN_PORT)\n"
        for $TLS_PORT, $PLAIN_PORT;
    system($cfg->{vars}{httpd}, '-f', "$root/httpd.conf", '-k', 'start') == 0
        or die "extra httpd did not start: " . slurp("$root/logs/error_log");
    wait_port($TLS_PORT, 1) && wait_port($PLAIN_PORT, 1)
        or die "extra httpd not listening: " . slurp("$root/logs/error_log");
}

# GET over TLS to the extra httpd, with client certificate CERT (or none).
sub tls_get {
    my ($path, $token, $cert) = @_;
    my $ua = LWP::UserAgent->new(timeout => 10, keep_alive => 0, ssl_opts => {
        SSL_ca_file => "$tdir/ca.crt", verify_hostname => 1,
        ($cert ? (SSL_cert_file => "$tdir/$cert.crt", SSL_key_file => "$tdir/$cert.key") : ()),
    });
    return $ua->get("https://127.0.0.1:$TLS_PORT$path", Authorization => "Bearer $token");
}
sub plain_get {
    my ($path, $token) = @_;
    my $ua = LWP::UserAgent->new(timeout => 10, keep_alive => 0);
    return $ua->get("http://127.0.0.1:$PLAIN_PORT$path", Authorization => "Bearer $token");
}
sub x5t_refused {
    my ($res, $what) = @_;
    is($res->code, 401, "x5t: $what → 401") or diag($res->status_line . ' ' . short($res->content));
    ok(challenge_is($res, 'treq-x5t'), "x5t: $what → invalid_token challenge")
        or diag('WWW-Authenticate: ' . ($res->header('WWW-Authenticate') // '(none)'));
}
{
    my $res = tls_get('/bearer', fake_token());
    is($res->code, 200, 'x5t: the TLS listener works (unbound token, no client certificate → 200)')
        or diag($res->status_line . ' ' . short($res->content));

    my $t = fake_token();
    $res = tls_get('/x5t', $t, 'client-a');
    is($res->code, 200, 'x5t: client certificate A (matching) → 200')
        or diag($res->status_line . ' ' . short($res->content));
    x5t_refused(tls_get('/x5t', $t, 'client-b'), 'same token, client certificate B (cache hit)');
    x5t_refused(tls_get('/x5t', $t), 'same token, no client certificate');
    is(tls_get('/x5t', $t, 'client-a')->code, 200, 'x5t: same token, certificate A again → 200');
    x5t_refused(plain_get('/x5t', $t), 'same token over plain http');

    my $t2 = fake_token();
    x5t_refused(tls_get('/x5t', $t2), 'new token, no client certificate first');
    is(tls_get('/x5t', $t2, 'client-a')->code, 200,
       'x5t: that token with certificate A afterwards → 200 (a refused binding is not cached)');
    my $t3 = fake_token();
    x5t_refused(tls_get('/x5t', $t3, 'client-b'), 'new token, client certificate B');
    x5t_refused(plain_get('/x5t', fake_token()), 'new token over plain http');
    my @crash = grep { /exit signal|Segmentation fault|AddressSanitizer/ }
                split /\n/, slurp("$tdir/httpd/logs/error_log");
    is_deeply(\@crash, [], 'x5t: no crash in the extra httpd');
}
stop_extra();

# ===========================================================================
# 7. httpd's authorization logic is kept.
{
    my $c0 = provider_count();
    my $res = GET '/cgi/treq/any-ip-local';
    is($res->code, 200, 'RequireAny(ip 127.0.0.1, scope admin): no token, from 127.0.0.1 → 200')
        or diag('body: ' . short($res->content));
    is(provider_count() - $c0, 0, 'RequireAny(ip local): no provider call');
    my $env = cgi_env($res);
    ok(defined $env->{GATEWAY_INTERFACE} && !grep({ /^AGW_/ } keys %$env),
       'RequireAny(ip local): the CGI ran, without AGW_* variables');
}
{
    my $c0 = provider_count();
    my $res = GET '/cgi/treq/any-ip-far';
    is($res->code, 400, 'RequireAny(ip 10.0.0.0/8, scope admin): no token → 400');
    is(provider_count() - $c0, 0, 'RequireAny(ip 10/8): no token → no provider call');
    ok(challenge_is($res, 'treq', 'invalid_request'), 'RequireAny(ip 10/8): no token → invalid_request challenge');
    $res = GET '/cgi/treq/any-ip-far', bearer(mint_token('app-rw'));
    is($res->code, 403, 'RequireAny(ip 10/8, scope admin): a valid token without admin → 403');
    ok(challenge_is($res, 'treq', 'insufficient_scope'), 'RequireAny(ip 10/8): … with an insufficient_scope challenge')
        or diag('WWW-Authenticate: ' . ($res->header('WWW-Authenticate') // '(none)'));
    $res = GET '/cgi/treq/any-ip-far', bearer(mint_token('app-admin'));
    is($res->code, 200, 'RequireAny(ip 10/8, scope admin): a token with admin → 200');
    is(cgi_env($res)->{AGW_CLIENT_ID}, 'app-admin', 'RequireAny(ip 10/8): AGW_CLIENT_ID');
}
{
    my $res = GET '/cgi/treq/all-ip', bearer(mint_token('app-rw'));
    is($res->code, 403, 'RequireAll(ip 127.0.0.1, scope admin): a valid token without admin → 403');
    ok(challenge_is($res, 'treq', 'insufficient_scope'), 'RequireAll(ip, scope admin): … with an insufficient_scope challenge')
        or diag('WWW-Authenticate: ' . ($res->header('WWW-Authenticate') // '(none)'));
    $res = GET '/cgi/treq/all-ip', bearer(mint_token('app-admin'));
    is($res->code, 200, 'RequireAll(ip 127.0.0.1, scope admin): a token with admin → 200');
    is(GET('/cgi/treq/all-ip')->code, 400, 'RequireAll(ip 127.0.0.1, scope admin): no token → 400');
}

# ===========================================================================
# 8. Identity survives internal redirects.
sub same_identity {
    my ($env, $what) = @_;
    is($env->{AGW_USERNAME}, 'user-app-rw', "$what: AGW_USERNAME");
    is($env->{AGW_CLIENT_ID}, 'app-rw', "$what: AGW_CLIENT_ID");
    is($env->{REMOTE_USER}, 'user-app-rw', "$what: REMOTE_USER");
    is($env->{HTTP_X_AGW_USERNAME}, 'user-app-rw',
       "$what: X-AGW-username header (HTTP_X_AGW_USERNAME), the provider's value once");
    my $raw = decoded_raw($env);
    is($raw ? $raw->{client_id} : undef, 'app-rw', "$what: OAUTH2_FEDERATED_RESPONSE");
}
{
    my $t = mint_token('app-rw');
    my $c0 = provider_count();
    my $res = GET '/treq/rw/first', bearer($t), 'X-AGW-username' => 'admin';
    is($res->code, 200, 'rewrite in <Directory>: 200') or diag('body: ' . short($res->content));
    my $env = cgi_env($res);
    is($env->{REDIRECT_URL}, '/treq/rw/first', 'rewrite in <Directory>: an internal redirect happened');
    same_identity($env, 'rewrite in <Directory>');
    is(provider_count() - $c0, 1, 'rewrite in <Directory>: one provider call');
    is(GET('/treq/rw/first')->code, 400, 'rewrite in <Directory>: protected (no token → 400)');
}
{
    my $t = mint_token('app-rw');
    my $res = GET '/treq/err/missing', bearer($t), 'X-AGW-username' => 'admin';
    is($res->code, 404, 'ErrorDocument 404: 404');
    my $env = cgi_env($res);
    is($env->{REDIRECT_STATUS}, '404', 'ErrorDocument 404: the error document CGI ran');
    same_identity($env, 'ErrorDocument 404');
}
{
    my $t = mint_token('app-rw');
    my $res = GET '/treq/idx/', bearer($t), 'X-AGW-username' => 'admin';
    is($res->code, 200, 'DirectoryIndex index.cgi: 200');
    my $env = cgi_env($res);
    like($env->{SCRIPT_NAME} // '', qr{/treq/idx/index\.cgi$}, 'DirectoryIndex index.cgi: the index CGI ran');
    same_identity($env, 'DirectoryIndex index.cgi');
}
{
    my $t = mint_token('app-rw');
    my $res = GET '/treq/pxr/first', bearer($t), 'X-AGW-username' => 'admin';
    is($res->code, 200, 'rewrite, internal redirect, then [P]: 200');
    is((json_of($res) || {})->{url}, '/px/treq-pxr-final', 'rewrite then [P]: the echo backend answered');
    is_deeply([ echo_header_values($res, 'X-AGW-username') ], ['user-app-rw'],
              'rewrite then [P]: X-AGW-username is the provider\'s value, once');
    is_deeply([ echo_header_values($res, 'X-AGW-client_id') ], ['app-rw'],
              'rewrite then [P]: X-AGW-client_id, once');
}
