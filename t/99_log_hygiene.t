# Runs last. Every token the suite sent was recorded (OA2FTest) while the
# module logged at trace8 (t/conf/extra.conf.in); no token may appear in
# full in the error log or an access log (README "Trust boundaries", "Tokens are never written
# to logs in full"). Also: no crash and no unexpected error lines.
use strict;
use warnings FATAL => 'all';

use FindBin;
use lib "$FindBin::Bin/lib";

use Apache::Test qw(-withtestmore);
use Apache::TestRequest qw(GET);
use OA2FTest;

plan tests => 11;
# show failures and diag() without -verbose (Apache::Test sends them to STDOUT)
Test::More->builder->failure_output(\*STDERR);

my $logs = Apache::Test::vars('t_logs');

# One more request of each kind, so that this file also works alone.
{
    my $t = mint_token('app-rw');
    GET '/cgi/ok', bearer($t);
    GET '/cgi/ok', bearer(fake_token());
    GET '/cgi/stub/garbage', bearer(fake_token());
    my $q = mint_token('app-read', undef, 'query');
    GET "/cgi/ok?access_token=$q";
}
sleep 1;   # log lines are written after the response

sub slurp {
    my ($file) = @_;
    open my $fh, '<', $file or return '';
    local $/;
    return scalar <$fh>;
}

my (%how, @tokens);
for (split /\n/, slurp(OA2FTest::tokens_file())) {
    my ($how, $token) = split /\t/, $_, 2;
    next unless defined $token && length $token >= 16;   # too short to be told from other text
    push @tokens, $token unless exists $how{$token};
    $how{$token} = $how if !defined $how{$token} || $how eq 'query';
}
cmp_ok(scalar @tokens, '>=', 5, 'tokens were recorded: ' . scalar @tokens);

my $error_log = slurp("$logs/error_log");
my @ours = $error_log =~ /^.*\[oauth2_federated:(?:trace\d|debug)\].*$/mg;
cmp_ok(scalar @ours, '>', 10, 'the module logged at debug/trace level (' . scalar @ours . ' lines)');

sub leaked {
    my ($text, @list) = @_;
    return grep { index($text, $_) >= 0 } @list;
}

my @in_error = leaked($error_log, @tokens);
is(scalar @in_error, 0, 'no token in t/logs/error_log')
    or diag(join "\n", map { my $t = $_; (grep { index($_, $t) >= 0 } split /\n/, $error_log)[0] } @in_error[0 .. ($#in_error < 4 ? $#in_error : 4)]);

my @header_tokens = grep { ($how{$_} // '') ne 'query' } @tokens;
my @query_tokens  = grep { ($how{$_} // '') eq 'query' } @tokens;
my $access = slurp("$logs/access_log") . slurp("$logs/oa2f_access_log");
ok(length $access, 'the access logs were written');
my @in_access = leaked($access, @header_tokens);
is(scalar @in_access, 0, 'no header-sent token in the access logs')
    or diag(join "\n", @in_access[0 .. ($#in_access < 4 ? $#in_access : 4)]);
# A token in the URL is in httpd's request line ("%r"): README still says
# that no token is logged in full.
my @q_access = leaked($access, @query_tokens);
is(scalar @q_access, 0, 'no access_token query parameter in the access logs ("%r")')
    or diag(scalar(@q_access) . ' query tokens logged in full, e.g. '
            . (grep { index($_, $q_access[0]) >= 0 } split /\n/, $access)[0]);

# crashes and unexpected errors
my @crash = grep { /exit signal|Segmentation fault|AddressSanitizer|double free|core dumped/ }
            split /\n/, $error_log;
is_deeply(\@crash, [], 'no crash in the error log');
# httpd's own alert for a directive an .htaccess may not use is expected
# where t/13_trust_cache.t provokes it (htdocs/trust-ht/*/.htaccess)
my @alarms = grep { /\[(?:[a-z_0-9]+:)?(?:emerg|alert|crit)\]/
                    && !m{\[core:alert\] .*/trust-ht/[a-z]+/\.htaccess: .*OAuth2Federated[A-Za-z]+} }
             split /\n/, $error_log;
is_deeply(\@alarms, [], 'no emerg/alert/crit line in the error log');

# README "Operations": the version of configure.ac and the libraries', at
# notice, once per start and restart (not for the configuration pass)
my ($version) = slurp("$FindBin::Bin/../configure.ac") =~ /AC_INIT\(\[mod_oauth2_federated\],\s*\[([^\]]+)\]/;
my @loaded = $error_log =~ /^.*\[oauth2_federated:notice\].*OA2F10012: mod_oauth2_federated (\S+) \(libcurl\/\S+ json-c\/\S+ OpenSSL .*APR\/\S+\) loaded$/mg;
ok(@loaded >= 1 && !grep({ $_ ne $version } @loaded),
   "start-up logs the version ($version) and the libraries' versions at notice")
    or diag('lines: ' . join("\n", grep { /OA2F10012/ } split /\n/, $error_log));

# README "Logging" (issue 17): no "(null)" where a value was missing, and
# the debug line of an active token says where the verdict came from
my @null = grep { /\[oauth2_federated:/ && /\(null\)/ } split /\n/, $error_log;
is_deeply([ @null[0 .. ($#null < 2 ? $#null : 2)] ], [], 'no "(null)" in a line of the module');
ok(scalar(grep { /OA2F10006: token \S+ is active for user \S+ \(introspection dialect, a fresh answer of the provider; endpoint http:\/\/\S+\)$/ } split /\n/, $error_log),
   'OA2F10006 says when the verdict is a fresh answer of the provider')
    or diag((grep { /OA2F10006/ } split /\n/, $error_log)[0] // 'no OA2F10006 line');
