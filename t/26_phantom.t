# The phantom token (README "Phantom token"), conf/phantom.conf.in: after a
# successful check the backend receives a JWT signed by this server
# (OAuth2FederatedForwardJWT, OAuth2FederatedSigningKey), which a backend
# behind mod_proxy (servers/jwt-backend.js) verifies with the npm `jose`
# library against SetHandler oauth2-federated-jwks; a CGI sees the same
# JWT; a client-sent header of that name never arrives; a JWT is reused
# while more than half of its life is left, and never outlives the token
# or 5 minutes. The backend is started here on OA2F_JWT_PORT_BASE + 1
# (18671; OA2F_NEW_PORT_BASE + 1 under a helper's port file).
use strict;
use warnings FATAL => 'all';

use FindBin;
use lib "$FindBin::Bin/lib";

use Apache::Test qw(-withtestmore);
use Apache::TestRequest qw(GET POST);
use IO::Socket::INET ();
use JSON::PP ();
use LWP::UserAgent ();
use MIME::Base64 ();
use Time::HiRes qw(sleep time);
use OA2FTest;

plan tests => 40, need_module('cgid', 'proxy', 'proxy_http');
Test::More->builder->failure_output(\*STDERR);

my $PORT = ($ENV{OA2F_JWT_PORT_BASE} || $ENV{OA2F_NEW_PORT_BASE} || 18670) + 1;
my $BACKEND = "http://127.0.0.1:$PORT";
my $ua = LWP::UserAgent->new(timeout => 10, keep_alive => 0);
my $json = JSON::PP->new->utf8->canonical;
my @started;
END { stop_started(@started) if @started }

# one kept-alive connection, so one child: the memo of forwarded JWTs is
# per child process (README "Phantom token")
Apache::TestRequest::user_agent(keep_alive => 1, reset => 1);
my $hostport = Apache::TestRequest::hostport();
my $ISS = 'https://' . ((Apache::Test::config()->{vars}{servername}) // '127.0.0.1');
$ISS =~ s/:\d+$//;

die "26_phantom.t: port $PORT is taken (set OA2F_JWT_PORT_BASE)\n"
    if IO::Socket::INET->new(PeerAddr => '127.0.0.1', PeerPort => $PORT, Proto => 'tcp', Timeout => 1);
{
    my $pid = fork // die "fork: $!";
    if (!$pid) {
        $ENV{OA2F_PHANTOM_BACKEND_PORT} = $PORT;
        $ENV{OA2F_PHANTOM_JWKS_URL} = "http://$hostport/phantom-jwks";
        $ENV{OA2F_SERVER_LIFETIME} = 600;
        chdir "$FindBin::Bin/servers" or die;
        exec 'node', 'jwt-backend.js' or die "exec node: $!";
    }
    push @started, ['pid', $pid];
    my $ok;
    for (1 .. 50) {
        my $r = $ua->get("$BACKEND/__whoami");
        if ($r->is_success && ($json->decode($r->content)->{name} // '') eq 'jwt-backend') { $ok = 1; last }
        sleep 0.1;
    }
    die "26_phantom.t: the backend on $PORT does not answer as jwt-backend\n" unless $ok;
}

sub b64d { my $s = shift; $s =~ tr/-_/+\//; $s .= '=' x (-length($s) % 4); MIME::Base64::decode_base64($s) }
sub claims_of { my ($jwt) = @_; my @p = split /\./, $jwt // ''; return @p == 3 ? $json->decode(b64d($p[1])) : {} }
sub backend { my ($path, @h) = @_; my $res = GET $path, @h; return ($res, json_of($res) || {}) }

# ---- the JWKS handler --------------------------------------------------------
my $jwks;
{
    my $res = GET '/phantom-jwks';
    is($res->code, 200, 'SetHandler oauth2-federated-jwks: 200');
    like($res->header('Content-Type') // '', qr{^application/json}, '... JSON');
    like($res->header('Cache-Control') // '', qr/max-age=\d+/, '... with a Cache-Control max-age');
    $jwks = json_of($res) || {};
    my $k = ($jwks->{keys} || [])->[0] || {};
    is("$k->{kty}|$k->{crv}|$k->{alg}|$k->{use}", 'EC|P-256|ES256|sig', '... one P-256 key for ES256');
    ok(!exists $k->{d}, '... public only');
    is((POST '/phantom-jwks', content => 'x')->code, 405, '... POST: 405');
}

# ---- proxied backend: verification with jose ----------------------------------
my $t = mint_token('app-rw');
my ($res, $b) = backend("/phx/a?h=x-phantom-token&iss=$ISS", bearer($t), 'X-Phantom-Token' => 'forged.by.client');
is($res->code, 200, 'a valid token at a ForwardJWT location: 200');
ok($b->{verified}, "the backend verifies the forwarded JWT with jose against the JWKS handler")
    or diag($b->{error});
my @ph = grep { lc $_->[0] eq 'x-phantom-token' } @{ $b->{headers} || [] };
is(scalar @ph, 1, '... exactly one X-Phantom-Token arrived');
isnt($ph[0][1] // '', 'forged.by.client', '... and not the one the client sent');
{
    # the same name with '_' for '-' (CGI and WSGI read both as one)
    my ($r2, $b2) = backend("/phx/a?h=x-phantom-token&iss=$ISS", bearer($t), ':X_Phantom_Token' => 'forged.underscore'); # ':' keeps the '_'
    my @u = grep { lc($_->[0]) =~ /^x[-_]phantom[-_]token$/ } @{ $b2->{headers} || [] };
    is(scalar @u, 1, "a client's X_Phantom_Token does not arrive next to ours");
    ok(!grep({ ($_->[1] // '') eq 'forged.underscore' } @u), '... nor instead of it');
}
my $p = $b->{payload} || {};
is($b->{header}{typ}, 'at+jwt', 'typ at+jwt');
is($b->{header}{alg}, 'ES256', 'alg ES256 for the P-256 key');
is($b->{header}{kid}, $jwks->{keys}[0]{kid}, 'kid of the published key');
is($p->{iss}, $ISS, "iss is https:// and the ServerName ($ISS)");
is($p->{aud}, 'https://phx.oa2f.test/api', 'aud is the Resource');
is("$p->{client_id}|$p->{scope}|$p->{username}", 'app-rw|read write|user-app-rw',
   'the normalised fields (client_id, scope, username)');
is(ref $p->{groups}, 'ARRAY', '... with their JSON types (groups is an array)');
ok($p->{jti} && length $p->{jti} >= 16, 'a jti');
ok($p->{iat} <= time + 1 && $p->{exp} > $p->{iat} && $p->{exp} - $p->{iat} <= 300,
   'iat now, exp at most 5 minutes ahead');
my @agw = grep { lc $_->[0] eq 'x-agw-username' } @{ $b->{headers} || [] };
is($agw[0][1] // '', 'user-app-rw', 'the X-AGW-* headers are still sent');

# reuse within the half-life
my (undef, $b2) = backend('/phx/a?h=x-phantom-token', bearer($t));
is($b2->{payload}{jti}, $p->{jti}, 'a second request with the token: the same JWT (same jti)');
my (undef, $b3) = backend('/phx/a?h=x-phantom-token', bearer(mint_token('app-rw')));
isnt($b3->{payload}{jti}, $p->{jti}, 'another token: another JWT');

# the memo holds a working set of tokens, not one per slot it happens to
# pick (README "Phantom token"): 200 tokens on one connection (one
# child), then each again; a direct-mapped memo of 256 slots kept about
# half of them
{
    my @toks = map { mint_token('app-rw') } 1 .. 200;
    my %first;
    for my $t (@toks) {
        my (undef, $d) = backend('/phx/a?h=x-phantom-token', bearer($t));
        $first{$t} = $d->{payload}{jti} // '';
    }
    my $same = grep {
        my (undef, $d) = backend('/phx/a?h=x-phantom-token', bearer($_));
        ($d->{payload}{jti} // '-') eq $first{$_}
    } @toks;
    ok($same >= 190, "200 tokens, each asked twice: $same of them got the same JWT again (at least 190)");
}

# Authorization: the caller's token replaced
{
    my ($r, $d) = backend('/phx/authz/x', bearer($t));
    is($r->code, 200, 'ForwardJWT Authorization: 200');
    ok($d->{verified}, '... the backend verifies Authorization: Bearer <jwt>') or diag($d->{error});
    my @a = grep { lc $_->[0] eq 'authorization' } @{ $d->{headers} || [] };
    is(scalar @a, 1, '... one Authorization header');
    ok(index($a[0][1] // '', $t) < 0, "... the caller's token is not in it");
    my ($r2, $d2) = backend('/phx/strip/x', bearer($t));
    ok($d2->{verified}, 'StripToken all with ForwardJWT Authorization: the phantom token arrives')
        or diag($d2->{error});
}

# a failed check: nothing reaches the backend; ForwardJWT Off
{
    my ($r) = backend('/phx/a?h=x-phantom-token', bearer(fake_token()), 'X-Phantom-Token' => 'forged');
    is($r->code, 401, 'a bad token: 401, the backend is not reached');
    my ($r2, $d2) = backend('/phx/off/x?h=x-phantom-token', bearer($t), 'X-Phantom-Token' => 'client-own');
    my @v = map { $_->[1] } grep { lc $_->[0] eq 'x-phantom-token' } @{ $d2->{headers} || [] };
    is("@v", 'client-own', 'ForwardJWT Off below: the client\'s header is left as it is');
}

# a local JWT of the real provider, forwarded
{
    my $r = $ua->post(provider_url('/token'),
        Authorization => 'Basic ' . MIME::Base64::encode_base64('app-rw:app-rw-secret', ''),
        Content => { grant_type => 'client_credentials', resource => 'urn:oa2f:jwt-es256', scope => 'read' });
    my $jwt = record_token($json->decode($r->content)->{access_token});
    my ($res2, $d) = backend('/phx/local/x?h=x-phantom-token', bearer($jwt));
    is($res2->code, 200, 'a local JWT (LocalJWT On): 200');
    ok($d->{verified}, '... forwarded as a phantom token the backend verifies') or diag($d->{error});
    is($d->{payload}{aud}, 'https://phx.oa2f.test/api', '... aud is the Resource, not the token\'s');
}

# CGI: the same JWT in the header variable and OAUTH2_FEDERATED_JWT
{
    my $env = cgi_env(GET '/cgi/phx/env', bearer($t));
    ok($env->{OAUTH2_FEDERATED_JWT}, 'CGI: OAUTH2_FEDERATED_JWT is set');
    is($env->{HTTP_X_PHANTOM_TOKEN}, $env->{OAUTH2_FEDERATED_JWT}, '... and is the header\'s JWT');
    my $c = claims_of($env->{OAUTH2_FEDERATED_JWT});
    is("$c->{iss}|$c->{client_id}|$c->{aud}", "$ISS|app-rw|https://phx.oa2f.test/api",
       '... holding the same verdict as the proxied backend got');
}

# expiry bound and renewal after half of its life
{
    my $short = mint_token('app-short');   # 5 s tokens (servers/provider.js)
    my ($r, $d) = backend('/phx/a?h=x-phantom-token', bearer($short));
    my $c = $d->{payload} || {};
    ok($c->{exp} && $c->{exp} - $c->{iat} <= 6, 'a 5 s token: the JWT does not outlive it ('
       . (($c->{exp} // 0) - ($c->{iat} // 0)) . ' s)');
    sleep 3.2;
    my (undef, $d2) = backend('/phx/a?h=x-phantom-token', bearer($short));
    isnt($d2->{payload}{jti} // '', $c->{jti} // '', 'past half of its life: a new JWT');
}
