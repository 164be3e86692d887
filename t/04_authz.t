# Require oauth2-scope / oauth2-client-id / oauth2-claim, alone and inside
# <RequireAny>/<RequireAll>. A failed line is 403 (never 401), whatever
# AuthzSendForbiddenOnFailure says, with an insufficient_scope challenge.
use strict;
use warnings FATAL => 'all';

use FindBin;
use lib "$FindBin::Bin/lib";

use Apache::Test qw(-withtestmore);
use Apache::TestRequest qw(GET);
use OA2FTest;
use Digest::SHA qw(sha256_hex);

plan tests => 81, need_module('cgid');
# show failures and diag() without -verbose (Apache::Test sends them to STDOUT)
Test::More->builder->failure_output(\*STDERR);

# app-read: scope "read"; app-rw: "read write"; app-admin: "read write admin".
# dept: "ops" for app-admin, "eng" otherwise; groups: ["staff", <client>].
my %tok = map { $_ => mint_token($_) } qw(app-read app-rw app-admin);

sub allowed {
    my ($path, $client, $what) = @_;
    my $res = GET $path, bearer($tok{$client});
    is($res->code, 200, "$what: $client allowed") or diag('body: ' . $res->content);
    is(cgi_env($res)->{AGW_CLIENT_ID}, $client, "$what: $client reached the backend");
    ok(!defined $res->header('WWW-Authenticate'), "$what: no challenge on success for $client")
        or diag('WWW-Authenticate: ' . $res->header('WWW-Authenticate'));
}

# forbidden(PATH, CLIENT, WHAT [, SCOPE]): 403, and for a scope requirement
# an insufficient_scope challenge naming the required scopes.
sub forbidden {
    my ($path, $client, $what, $scope) = @_;
    my $res = GET $path, bearer($tok{$client});
    is($res->code, 403, "$what: $client forbidden (403)") or diag('body: ' . $res->content);
    my $c = challenge_of($res) || {};
    my $ok = ($c->{scheme} // '') eq 'Bearer' && ($c->{realm} // '') eq 'e2e-authz';
    if (defined $scope) {
        $ok &&= ($c->{error} // '') eq 'insufficient_scope' && ($c->{scope} // '') eq $scope;
    }
    ok($ok, "$what: challenge for $client" . (defined $scope ? " (insufficient_scope, scope=\"$scope\")" : ''))
        or diag('WWW-Authenticate: ' . ($res->header('WWW-Authenticate') // '(none)'));
    ok(body_ok($res, $tok{$client}), "$what: one-line body without the token")
        or diag('body: ' . $res->content);
    unlike($res->content, qr/AGW_/, "$what: backend not run for $client");
}

forbidden('/cgi/authz/scope-write', 'app-read', 'scope write', 'write');
allowed('/cgi/authz/scope-write', 'app-rw', 'scope write');

forbidden('/cgi/authz/scope-read-write', 'app-read', 'scopes read+write', 'read write');
allowed('/cgi/authz/scope-read-write', 'app-admin', 'scopes read+write');

forbidden('/cgi/authz/scope-upper', 'app-rw', 'scope READ (case-sensitive)', 'READ');

forbidden('/cgi/authz/scope-forbid-on', 'app-rw', 'AuthzSendForbiddenOnFailure On', 'admin');
forbidden('/cgi/authz/scope-forbid-off', 'app-rw', 'AuthzSendForbiddenOnFailure Off', 'admin');
allowed('/cgi/authz/scope-forbid-off', 'app-admin', 'AuthzSendForbiddenOnFailure Off');

forbidden('/cgi/authz/client', 'app-read', 'client-id app-rw|app-admin');
allowed('/cgi/authz/client', 'app-rw', 'client-id app-rw|app-admin');
allowed('/cgi/authz/client', 'app-admin', 'client-id app-rw|app-admin');

forbidden('/cgi/authz/claim-dept', 'app-rw', 'claim dept=ops');
allowed('/cgi/authz/claim-dept', 'app-admin', 'claim dept=ops');

forbidden('/cgi/authz/claim-groups', 'app-rw', 'claim groups contains app-read|app-admin');
allowed('/cgi/authz/claim-groups', 'app-read', 'claim groups contains app-read|app-admin');

forbidden('/cgi/authz/any', 'app-rw', 'RequireAny(scope admin, client app-read)');
allowed('/cgi/authz/any', 'app-read', 'RequireAny(scope admin, client app-read)');
allowed('/cgi/authz/any', 'app-admin', 'RequireAny(scope admin, client app-read)');

forbidden('/cgi/authz/all', 'app-admin', 'RequireAll(scope read, dept eng, ip)');
allowed('/cgi/authz/all', 'app-rw', 'RequireAll(scope read, dept eng, ip)');

# token problems come before Require lines
{
    my $res = GET '/cgi/authz/scope-write';
    is($res->code, 400, 'no token at a scope-protected location: 400, not 403');
    my $t = fake_token();
    $res = GET '/cgi/authz/scope-write', bearer($t);
    is($res->code, 401, 'unknown token at a scope-protected location: 401, not 403');
    is((challenge_of($res) || {})->{error}, 'invalid_token', '... with error="invalid_token"');
}

# A Require oauth2-* line that failed inside a <RequireAny> that passed
# leaves nothing behind: a 403 the handler answers later (here a
# per-location RewriteRule [F]) is httpd's own, without the module's
# challenge or text (README "Requests and answers").
{
    my $res = GET '/cgi/authz/any-then-forbidden', bearer($tok{'app-read'});
    is($res->code, 403, 'RequireAny passed, then the handler forbids: 403');
    ok(!defined $res->header('WWW-Authenticate'),
       '... without the Bearer challenge of the failed scope line')
        or diag($res->header('WWW-Authenticate'));
    unlike($res->content, qr/does not grant access/,
           '... and without the module\'s insufficient-scope text');
    $res = GET '/cgi/authz/any-then-forbidden', bearer($tok{'app-admin'});
    is($res->code, 403, 'scope line passed, then the handler forbids: 403');
    ok(!defined $res->header('WWW-Authenticate'), '... without a challenge');
    $res = GET '/cgi/authz/any-then-forbidden';
    is($res->code, 400, 'no token there: still 400');
}

# README "Logging" (issue 17): the scope-denied line (OA2F10101) names the
# token by its fingerprint, what it lacks, what was required and what it
# had; never the token
{
    my $log = Apache::Test::vars('t_logs') . '/error_log';
    open my $fh, '<', $log or die "$log: $!";
    my @lines = grep { /OA2F10101:/ } <$fh>;
    close $fh;
    my $fp = substr(sha256_hex($tok{'app-read'}), 0, 12);
    ok(scalar(grep { /\[oauth2_federated:info\].*OA2F10101: token $fp of user \S+ lacks scope write: required read write, the token has read$/ } @lines),
       'scope denied: the log line has the fingerprint, the missing, required and granted scopes')
        or diag(join '', grep { /$fp/ } @lines);
    ok(!grep({ my $l = $_; grep { index($l, $_) >= 0 } values %tok } @lines),
       'scope denied: no token in those lines');
}
