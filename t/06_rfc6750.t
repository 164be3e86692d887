# OAuth2FederatedStatusProfile rfc6750: no token or a non-Bearer scheme is
# 401 with a challenge without error; unreachable 503; unusable 502; the
# other rows as in the gateway profile.
use strict;
use warnings FATAL => 'all';

use FindBin;
use lib "$FindBin::Bin/lib";

use Apache::Test qw(-withtestmore);
use Apache::TestRequest qw(GET);
use OA2FTest;

plan tests => 49, need_module('cgid');
# show failures and diag() without -verbose (Apache::Test sends them to STDOUT)
Test::More->builder->failure_output(\*STDERR);

# check(WHAT, PATH, [HEADERS], STATUS, ERROR, TOKENS…)
# ERROR: expected challenge error; '' = a challenge WITHOUT error;
# undef = no challenge check.
sub check {
    my ($what, $path, $headers, $status, $error, @tokens) = @_;
    my $n0 = provider_count();
    my $res = GET $path, @$headers;
    my $calls = provider_count() - $n0;
    is($res->code, $status, "$what: $status") or diag('body: ' . $res->content);
    if (defined $error) {
        my $c = challenge_of($res) || {};
        my $ok = ($c->{scheme} // '') eq 'Bearer' && ($c->{realm} // '') eq 'e2e-rfc';
        $ok &&= length $error ? ($c->{error} // '') eq $error : !exists $c->{error};
        ok($ok, "$what: Bearer realm=\"e2e-rfc\" " . (length $error ? "error=\"$error\"" : 'without error'))
            or diag('WWW-Authenticate: ' . ($res->header('WWW-Authenticate') // '(none)'));
    }
    ok(body_ok($res, @tokens), "$what: one-line body without the token") or diag('body: ' . $res->content);
    return ($res, $calls);
}

my $t = mint_token('app-rw', undef, 'query');
my $fake = fake_token();

{
    my (undef, $calls) = check('no token', '/cgi/rfc/ok', [], 401, '');
    is($calls, 0, 'no token: provider not called');
    (undef, $calls) = check('Basic scheme', '/cgi/rfc/ok', [Authorization => 'Basic YWxpY2U6c2VjcmV0'], 401, '');
    is($calls, 0, 'Basic scheme: provider not called');
}
check('valid token', '/cgi/rfc/ok', [bearer($t)], 200, undef, $t);
check('unknown token', '/cgi/rfc/ok', [bearer($fake)], 401, 'invalid_token', $fake);
{
    my (undef, $calls) = check('token in header and query', "/cgi/rfc/ok?access_token=$t", [bearer($t)],
                               400, 'invalid_request', $t);
    is($calls, 0, 'header and query: provider not called');
    my $bad = 'Zq' . fake_token() . '!x';
    record_token($bad);
    (undef, $calls) = check('malformed token', '/cgi/rfc/ok', [Authorization => "Bearer $bad"], 400, 'invalid_request', $bad);
    is($calls, 0, 'malformed token: provider not called');
    (undef, $calls) = check('access_token twice', "/cgi/rfc/ok?access_token=$t&access_token=$t", [], 400, 'invalid_request', $t);
    is($calls, 0, 'access_token twice: provider not called');
}
check('wrong client secret', '/cgi/rfc/badsecret', [bearer($t)], 403, undef, $t);
{
    my ($res) = check('scope not granted', '/cgi/rfc/scope-admin', [bearer($t)], 403, 'insufficient_scope', $t);
    is((challenge_of($res) || {})->{scope}, 'admin', 'scope not granted: scope="admin"');
    check('scope granted', '/cgi/rfc/scope-admin', [bearer(mint_token('app-admin'))], 200, undef);
}
check('provider unreachable', '/cgi/rfc/unreachable', [bearer($fake)], 503, undef, $fake);
check('provider says garbage', '/cgi/rfc/garbage', [bearer($fake)], 502, undef, $fake);
check('provider answers 500', '/cgi/rfc/500', [bearer($fake)], 502, undef, $fake);
check('provider sends HTML', '/cgi/rfc/html', [bearer($fake)], 502, undef, $fake);
{
    # the gateway profile for comparison, same requests
    is((GET '/cgi/ok')->code, 400, 'gateway profile: no token is 400');
    is((GET '/cgi/unreachable', bearer($fake))->code, 401, 'gateway profile: unreachable is 401');
    is((GET '/cgi/stub/garbage', bearer($fake))->code, 500, 'gateway profile: garbage is 500');
}

# ---- the body: one line of text/plain; charset=utf-8, unless ErrorDocument --
{
    my $res = GET '/cgi/ok', bearer(fake_token());
    is($res->header('Content-Type'), 'text/plain; charset=utf-8',
       'error text: Content-Type text/plain; charset=utf-8');
    is($res->content, "the access token is not active\n", '... the one line');
    $res = GET '/cgi/errdoc', bearer(fake_token());
    is($res->code, 401, 'ErrorDocument 401 "text": still 401');
    like($res->content, qr/operator text/, '... with the operator\'s text');
    like($res->header('Content-Type') // '', qr{^text/html}, '... as httpd sends it');
}
