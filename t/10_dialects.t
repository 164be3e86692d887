# The non-RFC dialects end to end (README "Providers"): PingFederate's
# validate_bearer grant, OpenAM tokeninfo and Mule /validate, each through
# httpd to a CGI backend. The stub servers speak the vendor wire formats
# (docs/providers.md §4, §5, §6) about real tokens of the loopback
# provider, so scopes, clients and expiry are the provider's own.
use strict;
use warnings FATAL => 'all';

use Apache::Test qw(-withtestmore);
use Apache::TestRequest qw(GET);
use FindBin;
use lib "$FindBin::Bin/lib";
use OA2FTest;
use Time::HiRes qw(sleep);

plan tests => 52, need_cgi;

sub get_with {
    my ($url, $token) = @_;
    return GET $url, Authorization => "Bearer $token";
}

my $rw   = mint_token('app-rw');       # scope "read write", user-app-rw
my $read = mint_token('app-read');     # scope "read"
my $bad  = fake_token();

# ---- PingFederate (docs/providers.md §4) ----------------------------------------
{
    my $res = get_with('/cgi/dialect/ping', $rw);
    is($res->code, 200, 'ping: valid token passes');
    my $env = cgi_env($res);
    is($env->{AGW_USERNAME}, 'user-app-rw',
       'ping: attribute Username from the access_token object becomes a field');
    is($env->{AGW_ORGNAME}, 'Acme', 'ping: attribute OrgName too');
    is($env->{AGW_GROUP}, 'staff app-rw', 'ping: an array attribute, joined with spaces');
    is($env->{AGW_CLIENT_ID}, 'app-rw', 'ping: client_id next to the attributes');
    is($env->{AGW_SCOPE}, 'read write', 'ping: scope');
    ok(defined $env->{AGW_EXPIRES_IN}, 'ping: expires_in is a field');
    ok(!defined $env->{AGW_ACCESS_TOKEN}, 'ping: the access_token object itself is not');
    like($env->{OAUTH2_FEDERATED_RESPONSE} // '',
         qr/urn:pingidentity\.com:oauth2:validated_token/,
         'ping: the raw answer reaches the backend');

    is(get_with('/cgi/dialect/ping-post', $rw)->code, 200,
       'ping: client_secret_post works too');
    my $r401 = get_with('/cgi/dialect/ping', $bad);
    is($r401->code, 401, 'ping: invalid_grant → 401');
    is(challenge_of($r401)->{error}, 'invalid_token', 'ping: ... invalid_token');
    is(get_with('/cgi/dialect/ping-write', $read)->code, 403,
       'ping: scope write missing → 403');
    is(get_with('/cgi/dialect/ping-write', $rw)->code, 200,
       'ping: scope write present → 200');
    is(get_with('/cgi/dialect/ping-claim', $rw)->code, 403,
       'ping: oauth2-claim on a flattened attribute (group) not met → 403');
    my $admin = mint_token('app-admin');
    is(get_with('/cgi/dialect/ping-claim', $admin)->code, 200,
       'ping: oauth2-claim group contains app-admin → 200');
    is(get_with('/cgi/dialect/ping-wrongcreds', $rw)->code, 403,
       'ping: invalid_client → 403');
    is(get_with('/cgi/dialect/ping-garbage', $rw)->code, 500,
       'ping: garbage answer → 500');
}

# ---- OpenAM tokeninfo (docs/providers.md §5) -------------------------------------
{
    my $res = get_with('/cgi/dialect/openam', $rw);
    is($res->code, 200, 'openam: valid token passes');
    my $env = cgi_env($res);
    is($env->{AGW_UID}, 'user-app-rw', 'openam: uid becomes a field');
    is($env->{AGW_MAIL}, 'user-app-rw@example.com', 'openam: mail too');
    is($env->{AGW_SCOPE}, 'read write', 'openam: the scope array, joined');
    is($env->{AGW_REALM}, '/', 'openam: realm');
    ok(!defined $env->{AGW_ACCESS_TOKEN},
       'openam: the access_token member (the token itself) is not handed on');
    is($env->{REMOTE_USER}, 'user-app-rw', 'openam: REMOTE_USER from uid');
    is(get_with('/cgi/dialect/openam-header', $rw)->code, 200,
       'openam: token sent as bearer header works too');
    is(get_with('/cgi/dialect/openam', $bad)->code, 401,
       'openam: 401 invalid_token → 401');
    is(get_with('/cgi/dialect/openam-header', $bad)->code, 401,
       'openam (header): unknown token → 401');
    is(get_with('/cgi/dialect/openam-write', $read)->code, 403,
       'openam: scope array without write → 403');
    is(get_with('/cgi/dialect/openam-write', $rw)->code, 200,
       'openam: scope array with write → 200');
    is(get_with('/cgi/dialect/openam-garbage', $rw)->code, 500,
       'openam: garbage answer → 500');
}

# ---- Mule /validate (docs/providers.md §6) ---------------------------------------
{
    my $res = get_with('/cgi/dialect/mule', $rw);
    is($res->code, 200, 'mule: valid token passes');
    my $env = cgi_env($res);
    is($env->{AGW_USERNAME}, 'user-app-rw', 'mule: username');
    is($env->{AGW_CLIENT_ID}, 'app-rw', 'mule: client_id');
    is($env->{AGW_SCOPE}, 'read write', 'mule: scope string');
    is(get_with('/cgi/dialect/mule', $bad)->code, 401, 'mule: 4xx → 401');
    is(get_with('/cgi/dialect/mule-write', $read)->code, 403,
       'mule: scope write missing → 403');
    is(get_with('/cgi/dialect/mule-write', $rw)->code, 200,
       'mule: scope write present → 200');
    is(get_with('/cgi/dialect/mule-auth', $rw)->code, 200,
       'mule: configured credentials are sent (Basic)');
    is(get_with('/cgi/dialect/mule-wrongcreds', $rw)->code, 403,
       'mule: refused credentials → 403');
    is(get_with('/cgi/dialect/mule-garbage', $rw)->code, 500,
       'mule: garbage answer → 500');
    is(get_with('/cgi/dialect/mule-neg', $bad)->code, 401,
       'mule: negative expires_in → 401 (expired)');
    is(get_with('/cgi/dialect/mule-huge', $bad)->code, 200,
       'mule: huge expires_in is accepted');
}

# ---- expiry through the cache: one call for ten requests, none past
# expires_in (5 s tokens of the real provider) -------------------------------
my %short;
for my $d ([ 'ping', '/ping/as/token.oauth2' ],
           [ 'openam', '/openam/oauth2/tokeninfo' ],
           [ 'mule', '/mule/validate' ]) {
    my ($name, $path) = @$d;
    my $short = $short{$name} = mint_token('app-short');
    my $c0 = stub_count($path);
    my @codes = map { get_with("/cgi/dialect/$name", $short)->code } 1 .. 10;
    is("@codes", join(' ', (200) x 10), "$name: ten requests with a 5 s token pass");
    is(stub_count($path) - $c0, 1, "$name: ... with one provider call");
}
sleep 6;
for my $name (qw(ping openam mule)) {
    is(get_with("/cgi/dialect/$name", $short{$name})->code, 401,
       "$name: not served past expires_in");
}
