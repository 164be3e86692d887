# Configuration errors (README "Directives"): `apache2 -t -f FILE` on small configs with
# one bad directive each must exit non-zero with a message that names the
# directive, the file and the line. A good config with every directive is
# the control: it must say "Syntax OK".
use strict;
use warnings FATAL => 'all';

use FindBin;
use lib "$FindBin::Bin/lib";

use Apache::Test qw(-withtestmore);
use File::Basename qw(dirname);
use File::Temp qw(tempdir);
use OA2FTest;

my $cfg   = Apache::Test::config();
my $httpd = Apache::Test::vars('httpd');
my $so    = $cfg->{modules}{'mod_oauth2_federated.c'}
            || "$FindBin::Bin/../.libs/mod_oauth2_federated.so";
my $moddir = dirname($cfg->{modules}{'mod_authz_core.c'} || '/usr/lib/apache2/modules/x');
my $mpm = (grep { -e "$moddir/mod_mpm_$_.so" } qw(event worker prefork))[0] || 'event';

# README "Phantom token": OAuth2FederatedSigningKey files, made here
my $keys = tempdir('oa2f-keys-XXXXXX', TMPDIR => 1, CLEANUP => 1);
sub openssl {
    my $pid = fork // die "fork: $!";
    if (!$pid) { open STDERR, '>', '/dev/null'; exec 'openssl', @_ or exit 127 }
    waitpid $pid, 0;
    $? == 0 or die "openssl @_ failed\n";
}
openssl('genpkey', '-algorithm', 'EC', '-pkeyopt', 'ec_paramgen_curve:P-256', '-out', "$keys/es256.pem");
openssl('genpkey', '-algorithm', 'EC', '-pkeyopt', 'ec_paramgen_curve:P-384', '-out', "$keys/p384.pem");
openssl('genpkey', '-algorithm', 'RSA', '-pkeyopt', 'rsa_keygen_bits:2048', '-out', "$keys/rsa2048.pem");
openssl('genpkey', '-algorithm', 'RSA', '-pkeyopt', 'rsa_keygen_bits:1024', '-out', "$keys/rsa1024.pem");
openssl('genpkey', '-algorithm', 'ED25519', '-out', "$keys/ed25519.pem");
openssl('pkey', '-in', "$keys/es256.pem", '-pubout', '-out', "$keys/public.pem");
{ open my $fh, '>', "$keys/garbage.pem" or die; print $fh "not a key\n"; }

# [ name, server-level lines, lines inside <Location /api>, directive the
#   message must name, 1 = the error is about the snippet's first line ]
my @bad = (
    [ 'unknown dialect',           '', 'OAuth2FederatedProvider keycloak', 'OAuth2FederatedProvider', 1 ],
    [ 'endpoint not a URL',        '', 'OAuth2FederatedEndpoint not-a-url', 'OAuth2FederatedEndpoint', 1 ],
    [ 'endpoint with ftp scheme',  '', 'OAuth2FederatedEndpoint ftp://idp.example.com/introspect', 'OAuth2FederatedEndpoint', 1 ],
    [ 'negative CacheMaxTTL',      '', 'OAuth2FederatedCacheMaxTTL -5', 'OAuth2FederatedCacheMaxTTL', 1 ],
    [ 'CacheMaxTTL not a number',  '', 'OAuth2FederatedCacheMaxTTL soon', 'OAuth2FederatedCacheMaxTTL', 1 ],
    [ 'negative NegativeCacheTTL', '', 'OAuth2FederatedNegativeCacheTTL -1', 'OAuth2FederatedNegativeCacheTTL', 1 ],
    [ 'StaleIfError over a day',   '', 'OAuth2FederatedStaleIfError 86401', 'OAuth2FederatedStaleIfError', 1 ],
    [ 'negative StaleIfError',     '', 'OAuth2FederatedStaleIfError -1', 'OAuth2FederatedStaleIfError', 1 ],
    [ 'unknown ClientAuth',        '', 'OAuth2FederatedClientAuth digest', 'OAuth2FederatedClientAuth', 1 ],
    [ 'zero timeout',              '', 'OAuth2FederatedTimeout 0 5', 'OAuth2FederatedTimeout', 1 ],
    [ 'negative timeout',          '', 'OAuth2FederatedTimeout 2 -5', 'OAuth2FederatedTimeout', 1 ],
    [ 'timeout not a number',      '', 'OAuth2FederatedTimeout two five', 'OAuth2FederatedTimeout', 1 ],
    [ 'timeout with one argument', '', 'OAuth2FederatedTimeout 2', 'OAuth2FederatedTimeout', 1 ],
    [ 'unknown status profile',    '', 'OAuth2FederatedStatusProfile strict', 'OAuth2FederatedStatusProfile', 1 ],
    [ 'unknown AcceptTokenIn',     '', 'OAuth2FederatedAcceptTokenIn cookie', 'OAuth2FederatedAcceptTokenIn', 1 ],
    [ 'ExposeHeaders not On/Off',  '', 'OAuth2FederatedExposeHeaders maybe', 'OAuth2FederatedExposeHeaders', 1 ],
    [ 'unknown ValueEncoding',     '', 'OAuth2FederatedValueEncoding base64', 'OAuth2FederatedValueEncoding', 1 ],
    [ 'unknown SendTokenIn',       '', 'OAuth2FederatedSendTokenIn body', 'OAuth2FederatedSendTokenIn', 1 ],
    [ 'missing CAFile',            '', 'OAuth2FederatedCAFile /nonexistent/ca.pem', 'OAuth2FederatedCAFile', 1 ],
    [ 'proxy not a URL',           '', 'OAuth2FederatedProxy not-a-url', 'OAuth2FederatedProxy', 1 ],
    [ 'SSLVerify not On/Off',      '', 'OAuth2FederatedSSLVerify sometimes', 'OAuth2FederatedSSLVerify', 1 ],
    # README "Trust boundaries": prefixes are never empty; an env prefix starts with a letter
    # and holds only A-Z a-z 0-9 _ (an empty argument is refused by httpd)
    [ 'header prefix with a space', '', 'OAuth2FederatedHeaderPrefix "X AGW"', 'OAuth2FederatedHeaderPrefix', 1 ],
    [ 'empty header prefix',       '', 'OAuth2FederatedHeaderPrefix ""', 'OAuth2FederatedHeaderPrefix', 1 ],
    [ 'header prefix with a colon', '', 'OAuth2FederatedHeaderPrefix X-AGW:', 'OAuth2FederatedHeaderPrefix', 1 ],
    [ 'env prefix starting with a digit', '', 'OAuth2FederatedEnvPrefix 1AGW', 'OAuth2FederatedEnvPrefix', 1 ],
    [ 'env prefix with a dash',    '', 'OAuth2FederatedEnvPrefix AGW-X_', 'OAuth2FederatedEnvPrefix', 1 ],
    [ 'env prefix starting with _', '', 'OAuth2FederatedEnvPrefix _AGW', 'OAuth2FederatedEnvPrefix', 1 ],
    [ 'unknown StripToken',        '', 'OAuth2FederatedStripToken header', 'OAuth2FederatedStripToken', 1 ],
    [ 'empty env prefix',          '', 'OAuth2FederatedEnvPrefix ""', 'OAuth2FederatedEnvPrefix', 1 ],
    [ 'Cache inside <Location>',   '', 'OAuth2FederatedCache shmcb', 'OAuth2FederatedCache', 1 ],
    [ 'unknown socache provider',  'OAuth2FederatedCache nosuchcache', '', 'OAuth2FederatedCache', 2 ],
    # the socache provider's own argument parse, at configtest
    [ 'shmcb size below its minimum', 'OAuth2FederatedCache shmcb:(1000)', '', 'OAuth2FederatedCache', 2 ],
    [ 'shmcb size not a number',   'OAuth2FederatedCache shmcb:(abc)', '', 'OAuth2FederatedCache', 2 ],
    # README "Cache": the near cache, BYTES (at least 65536) or Off, server only
    [ 'NearCache below 65536',     'OAuth2FederatedNearCache 65535', '', 'OAuth2FederatedNearCache', 2 ],
    [ 'NearCache not a number',    'OAuth2FederatedNearCache lots', '', 'OAuth2FederatedNearCache', 2 ],
    [ 'NearCache with a unit',     'OAuth2FederatedNearCache 8M', '', 'OAuth2FederatedNearCache', 2 ],
    [ 'NearCache negative',        'OAuth2FederatedNearCache -1', '', 'OAuth2FederatedNearCache', 2 ],
    [ 'NearCache inside <Location>', '', 'OAuth2FederatedNearCache 1048576', 'OAuth2FederatedNearCache', 1 ],
    # README "Resource identity": a Resource is an absolute http or https URI
    [ 'Resource not a URL',        '', 'OAuth2FederatedResource not-a-url', 'OAuth2FederatedResource', 1 ],
    [ 'Resource with urn scheme',  '', 'OAuth2FederatedResource urn:oa2f:test-api', 'OAuth2FederatedResource', 1 ],
    [ 'Audience none with a value', '', 'OAuth2FederatedAudience urn:a none', 'OAuth2FederatedAudience', 1 ],
    [ 'Issuer none with a value',  '', 'OAuth2FederatedIssuer https://as.example none', 'OAuth2FederatedIssuer', 1 ],
    [ 'AuthorizationServers not a URL', '', 'OAuth2FederatedAuthorizationServers as.example', 'OAuth2FederatedAuthorizationServers', 1 ],
    # README "Outages": FAILURES 1-1000, SECONDS 1-300, or Off
    [ 'CircuitBreaker 0 failures',  '', 'OAuth2FederatedCircuitBreaker 0 10', 'OAuth2FederatedCircuitBreaker', 1 ],
    [ 'CircuitBreaker 1001 failures', '', 'OAuth2FederatedCircuitBreaker 1001 10', 'OAuth2FederatedCircuitBreaker', 1 ],
    [ 'CircuitBreaker 0 seconds',   '', 'OAuth2FederatedCircuitBreaker 5 0', 'OAuth2FederatedCircuitBreaker', 1 ],
    [ 'CircuitBreaker 301 seconds', '', 'OAuth2FederatedCircuitBreaker 5 301', 'OAuth2FederatedCircuitBreaker', 1 ],
    [ 'CircuitBreaker not numbers', '', 'OAuth2FederatedCircuitBreaker five 10', 'OAuth2FederatedCircuitBreaker', 1 ],
    [ 'CircuitBreaker fractions',   '', 'OAuth2FederatedCircuitBreaker 5 1.5', 'OAuth2FederatedCircuitBreaker', 1 ],
    [ 'CircuitBreaker one number',  '', 'OAuth2FederatedCircuitBreaker 5', 'OAuth2FederatedCircuitBreaker', 1 ],
    [ 'CircuitBreaker On',          '', 'OAuth2FederatedCircuitBreaker On', 'OAuth2FederatedCircuitBreaker', 1 ],
    [ 'CircuitBreaker Off with seconds', '', 'OAuth2FederatedCircuitBreaker Off 10', 'OAuth2FederatedCircuitBreaker', 1 ],
    [ 'CircuitBreaker three arguments', '', 'OAuth2FederatedCircuitBreaker 5 10 20', 'OAuth2FederatedCircuitBreaker', 1 ],
    [ 'protected scope without endpoint', '', '', 'OAuth2FederatedEndpoint', 0, 'no endpoint' ],
    # README "Local JWT validation", "Phantom token"
    [ 'LocalJWT not On/Off',       '', 'OAuth2FederatedLocalJWT always', 'OAuth2FederatedLocalJWT', 1 ],
    [ 'JWKSURL not a URL',         '', 'OAuth2FederatedJWKSURL keys.json', 'OAuth2FederatedJWKSURL', 1 ],
    [ 'JWKSURL with ftp scheme',   '', 'OAuth2FederatedJWKSURL ftp://idp.example.com/jwks', 'OAuth2FederatedJWKSURL', 1 ],
    [ 'JWTTypes with a space',     '', 'OAuth2FederatedJWTTypes "at jwt"', 'OAuth2FederatedJWTTypes', 1 ],
    [ 'ForwardJWT not a header name', '', 'OAuth2FederatedForwardJWT X-JWT:', 'OAuth2FederatedForwardJWT', 1 ],
    [ 'ForwardJWT without SigningKey', '', 'OAuth2FederatedForwardJWT X-JWT', 'OAuth2FederatedForwardJWT', 1 ],
    [ 'SigningKey inside <Location>', '', "OAuth2FederatedSigningKey $keys/es256.pem", 'OAuth2FederatedSigningKey', 1 ],
    [ 'SigningKey file missing',   'OAuth2FederatedSigningKey /nonexistent/key.pem', '', 'OAuth2FederatedSigningKey', 2 ],
    [ 'SigningKey not PEM',        "OAuth2FederatedSigningKey $keys/garbage.pem", '', 'OAuth2FederatedSigningKey', 2 ],
    [ 'SigningKey a public key',   "OAuth2FederatedSigningKey $keys/public.pem", '', 'OAuth2FederatedSigningKey', 2 ],
    [ 'SigningKey RSA 1024',       "OAuth2FederatedSigningKey $keys/rsa1024.pem", '', 'OAuth2FederatedSigningKey', 2 ],
    [ 'SigningKey P-384',          "OAuth2FederatedSigningKey $keys/p384.pem", '', 'OAuth2FederatedSigningKey', 2 ],
);

plan tests => 4 + 3 * @bad, need_module('authz_core');
# show failures and diag() without -verbose (Apache::Test sends them to STDOUT)
Test::More->builder->failure_output(\*STDERR);

my $dir = tempdir('oa2f-conf-XXXXXX', TMPDIR => 1, CLEANUP => 1);
my $n = 0;

# write_conf(SERVER_LINES, LOCATION_LINES, NO_ENDPOINT) → (file, line of
# the first location line, line of the first server line)
sub write_conf {
    my ($server, $loc, $no_endpoint) = @_;
    my @lines = (
        "ServerRoot \"$dir\"",
        'ServerName localhost',
        'Listen 127.0.0.1:65009',
        "PidFile \"$dir/httpd.pid\"",
        "ErrorLog \"$dir/error_log\"",
        "LoadModule mpm_${mpm}_module \"$moddir/mod_mpm_$mpm.so\"",
        "LoadModule authn_core_module \"$moddir/mod_authn_core.so\"",
        "LoadModule authz_core_module \"$moddir/mod_authz_core.so\"",
        "LoadModule authz_user_module \"$moddir/mod_authz_user.so\"",
        "LoadModule socache_shmcb_module \"$moddir/mod_socache_shmcb.so\"",
        "LoadModule oauth2_federated_module \"$so\"",
    );
    my $server_line = @lines + 1;
    push @lines, split /\n/, $server if length $server;
    push @lines, '<Location /api>', '    AuthType oauth2-federated', '    AuthName "api"';
    push @lines, '    OAuth2FederatedEndpoint http://127.0.0.1:18530/token/introspection'
        unless $no_endpoint;
    my $loc_line = @lines + 1;
    push @lines, map { "    $_" } split /\n/, $loc if length $loc;
    push @lines, '    Require valid-user', '</Location>';
    my $file = sprintf '%s/bad%02d.conf', $dir, ++$n;
    open my $fh, '>', $file or die "$file: $!";
    print $fh map { "$_\n" } @lines;
    close $fh;
    return ($file, $loc_line, $server_line);
}

sub config_test {
    my ($file) = @_;
    my $out = `'$httpd' -t -f '$file' 2>&1`;
    return ($? >> 8, $out);
}

# ---- the control: every directive, valid --------------------------------------
{
    my ($file) = write_conf(
        "OAuth2FederatedCache shmcb\nOAuth2FederatedCacheSecret s3cret\n"
        . "OAuth2FederatedSigningKey $keys/es256.pem key-1\n"
        . "OAuth2FederatedNearCache 1048576",
        join "\n",
        'OAuth2FederatedProvider introspection',
        'OAuth2FederatedClientID gateway',
        'OAuth2FederatedClientSecret "s3cr:t+/ %&"',
        'OAuth2FederatedClientAuth post',
        'OAuth2FederatedAcceptTokenIn header query',
        'OAuth2FederatedCacheMaxTTL 300',
        'OAuth2FederatedNegativeCacheTTL 10',
        'OAuth2FederatedStaleIfError 86400',
        'OAuth2FederatedExposeHeaders Off',
        'OAuth2FederatedValueEncoding latin1',
        'OAuth2FederatedHeaderPrefix X-Auth-',
        'OAuth2FederatedEnvPrefix AUTH_',
        'OAuth2FederatedRemoteUserField sub client_id',
        'OAuth2FederatedTimeout 1 3',
        'OAuth2FederatedCircuitBreaker 3 30',
        'OAuth2FederatedProxy http://127.0.0.1:3128 user:pass',
        'OAuth2FederatedSSLVerify On',
        'OAuth2FederatedCAFile /etc/ssl/certs/ca-certificates.crt',
        'OAuth2FederatedStatusProfile rfc6750',
        'OAuth2FederatedStripToken all',
        'OAuth2FederatedResource https://api.example.com/v1',
        'OAuth2FederatedAudience https://api.example.com/v1 urn:example:api',
        'OAuth2FederatedIssuer https://idp.example.com',
        'OAuth2FederatedAuthorizationServers https://idp.example.com',
        'OAuth2FederatedLocalJWT On',
        'OAuth2FederatedJWKSURL https://idp.example.com/jwks',
        'OAuth2FederatedJWTTypes at+jwt application/at+jwt JWT',
        'OAuth2FederatedForwardJWT Authorization',
        'Require oauth2-scope read write',
        'Require oauth2-client-id a b',
        'Require oauth2-claim dept eng ops',
    );
    # a second, openam location for SendTokenIn
    open my $fh, '>>', $file or die;
    print $fh "<Location /am>\n    AuthType oauth2-federated\n    AuthName am\n",
              "    OAuth2FederatedProvider openam\n",
              "    OAuth2FederatedEndpoint https://am.example.com/oauth2/tokeninfo\n",
              "    OAuth2FederatedSendTokenIn header\n",
              "    OAuth2FederatedCircuitBreaker off\n    Require valid-user\n</Location>\n";
    close $fh;
    my ($rc, $out) = config_test($file);
    is($rc, 0, 'control: a config with every directive passes apache2 -t') or diag($out);
    like($out, qr/Syntax OK/, 'control: Syntax OK');
}

# the other key types a SigningKey may be
for my $k (qw(rsa2048 ed25519)) {
    my ($file) = write_conf("OAuth2FederatedSigningKey $keys/$k.pem",
                            'OAuth2FederatedForwardJWT X-JWT');
    my ($rc, $out) = config_test($file);
    is($rc, 0, "control: SigningKey $k passes apache2 -t") or diag($out);
}

# ---- one error each ----------------------------------------------------------------
for my $b (@bad) {
    my ($name, $server, $loc, $directive, $which, $flag) = @$b;
    my ($file, $loc_line, $server_line) = write_conf($server, $loc, ($flag // '') eq 'no endpoint');
    my ($rc, $out) = config_test($file);
    isnt($rc, 0, "$name: apache2 -t fails") or diag($out);
    like($out, qr/\Q$directive\E/, "$name: the message names $directive") or diag($out);
    my $line = $which == 1 ? $loc_line : $which == 2 ? $server_line : undef;
    my $where = defined $line
        ? qr/(?:line \Q$line\E of \Q$file\E|\Q$file\E:\Q$line\E\b)/
        : qr/(?:line \d+ of \Q$file\E|\Q$file\E:\d+)/;
    like($out, $where, "$name: the message gives the file and line"
                       . (defined $line ? " ($line)" : '')) or diag($out);
}
