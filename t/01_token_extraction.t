# Token extraction (README "Requests and answers"): where a token may come from, and every 400
# case, each checked to leave the provider's introspection count unchanged.
use strict;
use warnings FATAL => 'all';

use FindBin;
use lib "$FindBin::Bin/lib";

use Apache::Test qw(-withtestmore);
use Apache::TestRequest qw(GET);
use OA2FTest;

plan tests => 110, need_module('cgid');
# show failures and diag() without -verbose (Apache::Test sends them to STDOUT)
Test::More->builder->failure_output(\*STDERR);

my $URL = '/cgi/ok';

# request(PATH, HEADERS…) → (response, provider calls it caused)
sub request {
    my ($path, @headers) = @_;
    my $n0 = provider_count();
    my $res = GET $path, @headers;
    return ($res, provider_count() - $n0);
}

# A 400 that never reached the provider, with the invalid_request challenge.
sub is_400 {
    my ($what, $path, $headers, @tokens) = @_;
    my ($res, $calls) = request($path, @$headers);
    is($res->code, 400, "$what: 400");
    is($calls, 0, "$what: provider not called");
    my $c = challenge_of($res) || {};
    ok(($c->{scheme} // '') eq 'Bearer' && ($c->{realm} // '') eq 'e2e-ok'
       && ($c->{error} // '') eq 'invalid_request',
       "$what: Bearer challenge, realm and invalid_request")
        or diag('WWW-Authenticate: ' . ($res->header('WWW-Authenticate') // '(none)'));
    ok(body_ok($res, @tokens), "$what: one-line body without the token")
        or diag('body: ' . $res->content);
}

# ---- the happy paths ------------------------------------------------------
{
    my $t = mint_token('app-rw');
    my ($res, $calls) = request($URL, bearer($t));
    is($res->code, 200, 'header token: 200');
    is($calls, 1, 'header token: the provider was asked once');
    is(cgi_env($res)->{REMOTE_USER}, 'user-app-rw', 'header token: REMOTE_USER from the answer');
}
{
    my $t = mint_token('app-rw', undef, 'query');
    my ($res, $calls) = request("$URL?access_token=$t");
    is($res->code, 200, 'query token: 200');
    is($calls, 1, 'query token: the provider was asked once');
    is(cgi_env($res)->{AGW_CLIENT_ID}, 'app-rw', 'query token: validated as app-rw');

    my $t2 = mint_token('app-read', undef, 'query');
    ($res) = request("$URL?x=1&access_token=$t2&y=two");
    is($res->code, 200, 'query token among other parameters: 200');
    is(cgi_env($res)->{AGW_CLIENT_ID}, 'app-read', '... validated as app-read');
}
{
    my $t = mint_token('app-read');
    for my $scheme (qw(bearer BEARER bEaReR)) {
        my ($res) = request($URL, Authorization => "$scheme $t");
        is($res->code, 200, "scheme '$scheme' is case-insensitive: 200");
    }
}

# ---- 400: scheme, missing, duplicated --------------------------------------
my $valid = mint_token('app-rw', undef, 'query');

is_400('no token at all', $URL, []);
is_400('Basic scheme', $URL, [Authorization => 'Basic YWxpY2U6c2VjcmV0']);
is_400('Basic scheme with a valid query token', "$URL?access_token=$valid",
       [Authorization => 'Basic YWxpY2U6c2VjcmV0'], $valid);
is_400('token scheme "Token"', $URL, [Authorization => "Token $valid"], $valid);
is_400('same token in header and query', "$URL?access_token=$valid", [bearer($valid)], $valid);
{
    my $other = mint_token('app-read', undef, 'query');
    is_400('different tokens in header and query', "$URL?access_token=$other",
           [bearer($valid)], $valid, $other);
    is_400('access_token given twice', "$URL?access_token=$valid&access_token=$other",
           [], $valid, $other);
}
is_400('access_token given twice, same value', "$URL?access_token=$valid&access_token=$valid",
       [], $valid);

# ---- 400: not b64token, too long --------------------------------------------
{
    my $u = 'Zq' . fake_token(30);   # unique, so that the log check is meaningful
    my @bad = (
        [ 'space inside',        "$u part2" ],
        [ 'double quote',        "$u\"x" ],
        [ 'comma',               "$u,x" ],
        [ 'equals sign inside',  "$u=x" ],
        [ 'starts with =',       "=$u" ],
        [ 'semicolon',           "$u;x" ],
        [ 'non-ASCII byte',      "$u\xe9x" ],
    );
    for my $b (@bad) {
        record_token($b->[1]);
        is_400("malformed token ($b->[0])", $URL, [Authorization => "Bearer $b->[1]"], $b->[1]);
    }
    is_400('empty bearer token', $URL, [Authorization => 'Bearer ']);
    is_400('bare "Bearer"', $URL, [Authorization => 'Bearer']);
    is_400('empty access_token parameter', "$URL?access_token=", []);
    my $v = 'Zq' . fake_token(30, 'query');
    record_token("$v x", 'query');
    is_400('query token with a space', "$URL?access_token=$v%20x", [], "$v x");
}
{
    my $long = fake_token(4097);
    is_400('4097-byte token in the header', $URL, [bearer($long)], $long);
    my $longq = fake_token(4097, 'query');
    is_400('4097-byte token in the query', "$URL?access_token=$longq", [], $longq);

    # the limit itself is allowed: the provider is asked (and says inactive)
    my $max = fake_token(4096);
    my ($res, $calls) = request($URL, bearer($max));
    is($res->code, 401, '4096-byte token: validated (unknown, 401)');
    is($calls, 1, '4096-byte token: the provider was asked');
}
{
    # every b64token character, with trailing '='
    my $t = fake_token(40) . '-._~+/Zz==';
    record_token($t);
    my ($res, $calls) = request($URL, bearer($t));
    is($res->code, 401, 'b64token with all its characters: validated (unknown, 401)');
    is($calls, 1, 'b64token with all its characters: the provider was asked');
}

# ---- OAuth2FederatedAcceptTokenIn -----------------------------------------
{
    my $t = mint_token('app-rw', undef, 'query');
    my ($res, $calls) = request("/cgi/header-only?access_token=$t");
    is($res->code, 400, 'AcceptTokenIn header: query token refused with 400');
    is($calls, 0, 'AcceptTokenIn header: provider not called');
    ($res) = request('/cgi/header-only', bearer($t));
    is($res->code, 200, 'AcceptTokenIn header: header token accepted');

    ($res, $calls) = request('/cgi/query-only', bearer($t));
    is($res->code, 400, 'AcceptTokenIn query: header token refused with 400');
    is($calls, 0, 'AcceptTokenIn query: provider not called');
    ($res) = request("/cgi/query-only?access_token=$t");
    is($res->code, 200, 'AcceptTokenIn query: query token accepted');
}

# ---- AuthType alone: a token that is sent is checked ---------------------
{
    # The location inherits "Require all granted" from <Directory cgi-bin>:
    # as with any httpd authentication module, a request without
    # credentials that the Require lines grant without a user passes
    # (README "Trust boundaries"); a token that is sent is still checked.
    my ($res, $calls) = request('/cgi/norequire');
    is($res->code, 200, 'no Require line, inherited Require all granted: no token passes');
    is($calls, 0, 'no Require line: provider not called');
    my $t = mint_token('app-read');
    ($res) = request('/cgi/norequire', bearer($t));
    is($res->code, 200, 'no Require line: a valid token passes');
    is(cgi_env($res)->{REMOTE_USER}, 'user-app-read', 'no Require line: REMOTE_USER set');
    ($res) = request('/cgi/norequire', bearer(fake_token()));
    is($res->code, 401, 'no Require line: an unknown token is 401');
}
