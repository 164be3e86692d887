# Resource identity (README "Resource identity"): the audience and issuer
# checks of each location, against the real provider's tokens for several
# resources (RFC 8707) and the stub's answers of every shape; applied per
# request, so locations with different audiences share one cached
# validation.
use strict;
use warnings FATAL => 'all';

use FindBin;
use lib "$FindBin::Bin/lib";

use Apache::Test qw(-withtestmore);
use Apache::TestRequest qw(GET);
use File::Path qw(make_path remove_tree);
use OA2FTest;

plan tests => 52, need_module('alias');
# show failures and diag() without -verbose (Apache::Test sends them to STDOUT)
Test::More->builder->failure_output(\*STDERR);

my $AUD_TEXT = 'the access token is not meant for this resource (audience)';
my $ISS_TEXT = 'the access token was not issued by a trusted issuer';

# (status, error, error_description) of one request
sub try {
    my ($path, $t) = @_;
    my $res = GET $path, bearer($t);
    my $c = challenge_of($res) || {};
    return ($res->code, $c->{error} // '', $c->{error_description} // '');
}

sub refused_as {
    my ($path, $t, $text, $name) = @_;
    my ($code, $err, $desc) = try($path, $t);
    is($code, 401, "$name: 401");
    is("$err|$desc", "invalid_token|$text", "... invalid_token, '$text'");
}

my $A = 'https://a.oa2f.test/api';
my $B = 'https://b.oa2f.test/api';
my $ta = mint_token_for('app-read', $A);
my $tb = mint_token_for('app-read', $B);
my $td = mint_token('app-read');                  # urn:oa2f:test-api
my $to = mint_token_for('app-read', 'urn:oa2f:other-api');

# ---- Resource: A's token passes at A, is refused at B, and the reverse -----
is((try('/aud/p/a', $ta))[0], 200, 'token for A at the location of A: 200');
refused_as('/aud/p/b', $ta, $AUD_TEXT, 'token for A at the location of B');
is((try('/aud/p/b', $tb))[0], 200, 'token for B at the location of B: 200');
refused_as('/aud/p/a', $tb, $AUD_TEXT, 'token for B at the location of A');
refused_as('/aud/p/b-rfc6750', $ta, $AUD_TEXT, 'rfc6750 profile, token for A at B');
is((try('/aud/p', $ta))[0], 200, 'no Resource, no Audience: any audience passes');

# ---- Audience overrides Resource; none turns an inherited check off -------
is((try('/aud/p/a-default-aud', $td))[0], 200,
   'Audience urn:oa2f:test-api beside Resource A: the default token passes');
refused_as('/aud/p/a-default-aud', $ta, $AUD_TEXT,
           '... and the token for A (the Resource) does not');
is((try('/aud/p/a/open', $tb))[0], 200, 'Audience none under Resource A: the token for B passes');
is((try('/aud/p/either', $to))[0], 200, 'several Audience values: the token for other-api passes');
is((try('/aud/p/either', $ta))[0], 200, '... and the token for A');
refused_as('/aud/p/either', $td, $AUD_TEXT, '... the default token does not');

# ---- one cached validation for locations of different audiences ----------
{
    my $t = mint_token_for('app-read', $A);
    my $c0 = provider_count();
    my @codes = map { ((try('/aud/p/a', $t))[0], (try('/aud/p/b', $t))[0]) } 1 .. 3;
    is("@codes", '200 401 200 401 200 401',
       'A and B alternately, one token: A passes, B refuses, every time');
    is(provider_count() - $c0, 1, '... with one provider call in all');
    my $t2 = mint_token_for('app-read', $A);
    $c0 = provider_count();
    my @c2 = map { (try($_, $t2))[0] } '/aud/p/b', '/aud/p/a', '/aud/p/b';
    is("@c2", '401 200 401', 'refused first at B, the cached validation still passes at A');
    is(provider_count() - $c0, 1, '... one provider call');
}

# ---- Issuer ----------------------------------------------------------------
is((try('/aud/p/iss-real', $td))[0], 200, 'Issuer: the provider\'s real issuer passes');
refused_as('/aud/p/iss-slash', $td, $ISS_TEXT, 'Issuer with a trailing slash the provider does not send');
refused_as('/aud/p/iss-wrong', $td, $ISS_TEXT, 'Issuer: another issuer');
is((try('/aud/p/iss-wrong/open', $td))[0], 200, 'Issuer none below: no issuer check');
refused_as('/aud/p/both', $tb, $AUD_TEXT, 'both wrong: the audience check answers');
refused_as('/aud/p/both', $ta, $ISS_TEXT, 'audience right, issuer wrong: the issuer check answers');

# ---- the Require lines still follow ------------------------------------------
is((try('/aud/p/a-admin', $ta))[0], 403, 'right audience, scope missing: 403');
is((try('/aud/p/a-admin', $tb))[0], 401, 'wrong audience: 401 before any Require line');

# ---- stub: aud and iss of every shape -----------------------------------------
{
    my $t = fake_token();
    is((try('/aud/s/good-string', $t))[0], 200, 'stub: aud string, iss exact: 200');
    is((try('/aud/s/good-array', $t))[0], 200, 'stub: aud array with the value: 200');
    is((try('/aud/s/mixed-match', $t))[0], 200, 'stub: aud array of mixed types with the string: 200');
    refused_as("/aud/s/$_->[0]", $t, $AUD_TEXT, "stub: aud $_->[1]")
        for [ 'number', 'a number' ], [ 'object', 'an object' ],
            [ 'mixed', 'mixed array without a matching string' ],
            [ 'empty-array', 'an empty array' ], [ 'missing-aud', 'missing' ];
    refused_as('/aud/s/iss-slash', $t, $ISS_TEXT, 'stub: iss with a trailing slash');
    refused_as('/aud/s/missing-iss', $t, $ISS_TEXT, 'stub: iss missing, Issuer configured');
}

# ---- .htaccess: the identity directives are allowed ---------------------------
{
    my $root = Apache::Test::vars('documentroot') . '/aud-ht';
    remove_tree($root);
    make_path("$root/b", { mode => 0755 });
    chmod 0755, $root, "$root/b";
    open my $fh, '>', "$root/b/ok.txt" or die; print $fh "ok\n"; close $fh;
    open $fh, '>', "$root/b/.htaccess" or die;
    print $fh "OAuth2FederatedResource $B\nOAuth2FederatedAudience $B urn:oa2f:other-api\n",
              "OAuth2FederatedIssuer " . provider_url() . "\n";
    close $fh;
    chmod 0644, "$root/b/ok.txt", "$root/b/.htaccess";
    is((try('/aud-ht/b/ok.txt', $tb))[0], 200, '.htaccess with Resource, Audience, Issuer: B passes');
    my ($code, $err, $desc) = try('/aud-ht/b/ok.txt', $ta);
    is("$code $desc", "401 $AUD_TEXT", '... and A is refused for its audience');
    remove_tree($root);
}
