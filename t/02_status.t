# The gateway status map (README "Requests and answers"): 401 for tokens that are not active and
# for an unreachable provider, 403 when the provider refuses our
# credentials, 500 for answers that cannot be used.
use strict;
use warnings FATAL => 'all';

use FindBin;
use lib "$FindBin::Bin/lib";

use Apache::Test qw(-withtestmore);
use Apache::TestRequest qw(GET);
use OA2FTest;

plan tests => 67, need_module('cgid');
# show failures and diag() without -verbose (Apache::Test sends them to STDOUT)
Test::More->builder->failure_output(\*STDERR);

# expect(WHAT, PATH, TOKEN, STATUS, REALM [, ERROR])
# ERROR: the challenge's error attribute; '' = a challenge without one is
# fine too; undef = no challenge check (500).
sub expect {
    my ($what, $path, $token, $status, $realm, $error) = @_;
    my $res = GET $path, bearer($token);
    is($res->code, $status, "$what: $status") or diag('body: ' . $res->content);
    if (defined $realm) {
        my $c = challenge_of($res) || {};
        my $ok = ($c->{scheme} // '') eq 'Bearer' && ($c->{realm} // '') eq $realm;
        $ok &&= ($c->{error} // '') eq $error if defined $error && length $error;
        ok($ok, "$what: Bearer challenge, realm \"$realm\""
               . (defined $error && length $error ? ", error=\"$error\"" : ''))
            or diag('WWW-Authenticate: ' . ($res->header('WWW-Authenticate') // '(none)'));
    }
    ok(body_ok($res, $token), "$what: one-line body without the token")
        or diag('body: ' . $res->content);
    return $res;
}

# ---- tokens the real provider does not call active ------------------------
expect('unknown token', '/cgi/ok', fake_token(), 401, 'e2e-ok', 'invalid_token');
{
    my $t = mint_token('app-rw');
    revoke_token('app-rw', $t);
    expect('revoked token (never used before)', '/cgi/ok', $t, 401, 'e2e-ok', 'invalid_token');
}
{
    # used, then revoked: with OAuth2FederatedCacheMaxTTL 0 the next request
    # asks the provider again and sees the revocation
    my $t = mint_token('app-rw');
    is((GET '/cgi/nocache', bearer($t))->code, 200, 'token valid before revocation');
    revoke_token('app-rw', $t);
    my $n0 = provider_count();
    expect('token revoked after use (CacheMaxTTL 0)', '/cgi/nocache', $t, 401, 'e2e-nocache', 'invalid_token');
    is(provider_count() - $n0, 1, 'CacheMaxTTL 0: the provider was asked again');
}
{
    # app-short tokens live 5 s
    my $t = mint_token('app-short');
    is((GET '/cgi/ok', bearer($t))->code, 200, 'short-lived token valid at first');
    sleep 7;
    expect('short-lived token after it expired', '/cgi/ok', $t, 401, 'e2e-ok', 'invalid_token');
}

# ---- what the answer says about the token (stub.js) -----------------------
my $tok = fake_token();
expect('stub: active', '/cgi/stub/active', $tok, 200);
expect('stub: active without exp', '/cgi/stub/noexp', $tok, 200);
expect('stub: {"active":false}', '/cgi/stub/inactive', $tok, 401, 'stub-inactive', 'invalid_token');
expect('stub: active but exp in the past', '/cgi/stub/expired', $tok, 401, 'stub-expired', 'invalid_token');
expect('stub: "active":"true" is not active', '/cgi/stub/active-string', $tok, 401, 'stub-active-string', 'invalid_token');
expect('stub: "active":1 is not active', '/cgi/stub/active-one', $tok, 401, 'stub-active-one', 'invalid_token');

# ---- the provider cannot be reached ----------------------------------------
{
    my ($res, $secs) = timed(sub {
        expect('provider unreachable (connection refused)', '/cgi/unreachable', $tok, 401, 'e2e-unreachable', '');
    });
    cmp_ok($secs, '<', 3, 'connection refused is answered at once');
}

# ---- the provider refuses our credentials ----------------------------------
expect('wrong client secret', '/cgi/badsecret', mint_token('app-rw'), 403, 'e2e-badsecret', '');
expect('provider answers 401 invalid_client', '/cgi/stub/401', $tok, 403, 'stub-401', '');
expect('provider answers 403', '/cgi/stub/403', $tok, 403, 'stub-403', '');

# ---- the provider answers, but not usefully -------------------------------
expect('provider 500', '/cgi/stub/500', $tok, 500);
expect('provider 503', '/cgi/stub/503', $tok, 500);
expect('provider says garbage', '/cgi/stub/garbage', $tok, 500);
expect('provider sends HTML', '/cgi/stub/html', $tok, 500);
expect('provider sends a JSON array', '/cgi/stub/array', $tok, 500);
expect('provider answer without "active"', '/cgi/stub/noactive', $tok, 500);
expect('provider answer over 1 MiB', '/cgi/stub/big', $tok, 500);
{
    my $t = mint_token('app-rw');
    provider_mode('fail500');
    my $res = eval { expect('real provider answering 500', '/cgi/ok', $t, 500) };
    provider_mode('ok');
    die $@ if $@;
    expect('real provider back to normal', '/cgi/ok', $t, 200);
}

# ---- unusable answers never let a request through, whatever comes after --
{
    my $res = GET '/cgi/stub/garbage', bearer($tok);
    unlike($res->content, qr/AGW_|REMOTE_USER/, 'a 500 does not run the backend');
}

# ---- README "Status page" lists every field the handler serves ------------
# (issue 17): names in its table, `<N>` standing for a number; JSON has the
# same names, with the breaker_N_* lines as a "breakers" array of objects
{
    my $readme = do {
        open my $fh, '<', "$FindBin::Bin/../README.md" or die "README.md: $!";
        local $/;
        <$fh>;
    };
    # the section's own table, not that of its "### Prometheus" part
    my ($section) = $readme =~ /^## Status page\n(.*?)^##+ /ms;
    my @doc = ($section // '') =~ /^\| `([a-z0-9_<>N]+)` \|/mg;
    my %re = map { my $p = quotemeta $_; $p =~ s/\\<N\\>/[0-9]+/g; ($_ => qr/^$p$/) } @doc;
    my $text = (GET '/cache/status')->content;
    my @served = map { /^([a-z0-9_]+): / ? $1 : () } split /\n/, $text;
    my @undocumented = grep { my $k = $_; !grep { $k =~ $re{$_} } @doc } @served;
    is_deeply(\@undocumented, [], 'status page (text): every field is in README "Status page"')
        or diag('missing from README: ' . join ' ', @undocumented);
    my @unserved = grep { my $r = $re{$_}; !grep { $_ =~ $r } @served } @doc;
    is_deeply(\@unserved, [], 'status page (text): every field of README is served')
        or diag('not served: ' . join ' ', @unserved);
    my $j = json_of(GET '/cache/status?json') || {};
    my @expect = sort('breakers', grep { !/^breaker_/ } @served);
    is_deeply([ sort keys %$j ], \@expect,
              'status page (JSON): the same fields, the breakers as an array');
    my @members = sort keys %{ (ref $j->{breakers} eq 'ARRAY' && $j->{breakers}[0]) || {} };
    my @doc_members = sort map { /^breaker_<N>_([a-z_]+)$/ ? $1 : () } @doc;
    ok(@members && "@members" eq "@doc_members",
       'status page (JSON): the members of a breaker are README\'s breaker_<N>_* fields')
        or diag("served: @members; README: @doc_members");
}
