# Hostile provider answers and hostile requests (issue 6, items 3 and 4),
# over HTTP/1.1, HTTP/1.0 and HTTP/2:
# each gets the status README "Requests and answers" gives it, nothing unvalidated reaches the
# backend, and nothing from an answer can split or add a header.
use strict;
use warnings FATAL => 'all';

use Apache::Test qw(-withtestmore);
use Apache::TestRequest qw(GET);
use FindBin;
use lib "$FindBin::Bin/lib";
use OA2FTest;
use IO::Socket::INET ();
use Time::HiRes qw(sleep time);
use HTTP::Response ();

plan tests => 61, need_cgi, need_module('mod_http2.c');

sub get_with {
    my ($url, $token, @h) = @_;
    return GET $url, Authorization => "Bearer $token", @h;
}

my $t = fake_token();      # the stub does not look at the token

# ---- hostile provider answers ------------------------------------------------
my %want = (
    huge            => 500,   # 50 MB body: stopped at the 1 MiB cap
    deep            => 500,   # nested 100,000 levels
    dupkeys         => 500,   # "active" twice
    'active-string' => 401,   # "true" is not true
    'active-one'    => 401,   # nor is 1
    'exp-null'      => 401,   # nor null
    redirect        => 500,   # not followed
    closemid        => 500,   # cut off mid-answer
    array           => 500,
    noactive        => 500,
    html            => 500,
    500             => 500,
    401             => 403,   # the provider refuses our credentials
    expired         => 401,   # active, but exp has passed
);
for my $route (sort keys %want) {
    my ($res, $secs) = timed(sub { get_with("/cgi/hostile/$route", $t) });
    is($res->code, $want{$route}, "provider answer '$route' → $want{$route}");
}
{
    my $c0 = stub_count('/active');
    get_with('/cgi/hostile/redirect', $t);
    is(stub_count('/active') - $c0, 0, 'the redirect was not followed');
}
{
    my $res = get_with('/cgi/hostile/badutf8', $t);
    is($res->code, 200, 'invalid UTF-8 and an escaped NUL in strings: still valid');
    my $env = cgi_env($res);
    is($env->{AGW_NOTE}, 'nulhere', '... the NUL is dropped from the value');
}
{
    my $res = get_with('/cgi/hostile/noexp', $t);
    is($res->code, 200, 'active without exp passes');
    my $c0 = stub_count('/noexp');
    get_with('/cgi/hostile/noexp', $t);
    is(stub_count('/noexp') - $c0, 1, '... and is never cached');
}
{
    my $c0 = stub_count('/exp-ms');
    is(get_with('/cgi/hostile/exp-ms', $t)->code, 200, 'exp in milliseconds is understood');
    is(get_with('/cgi/hostile/exp-ms', $t)->code, 200, '... and cached');
    is(stub_count('/exp-ms') - $c0, 1, '... one provider call');
}
{
    my $tok = fake_token();
    my $c0 = stub_count('/exp-far');
    is(get_with('/cgi/hostile/exp-far', $tok)->code, 200, 'exp in the year 3000 passes');
    get_with('/cgi/hostile/exp-far', $tok);
    is(stub_count('/exp-far') - $c0, 1, '... is cached');
    sleep 2.3;
    get_with('/cgi/hostile/exp-far', $tok);
    is(stub_count('/exp-far') - $c0, 2, '... but the 2 s cap still holds');
}
{
    my ($res, $secs) = timed(sub { get_with('/cgi/hostile/trickle', $t) });
    is($res->code, 401, 'a body trickling a byte a second: 401 (timeout)');
    cmp_ok($secs, '<', 4, "... within the 2 s total timeout (took ${\ sprintf '%.1f', $secs} s)");
}

# ---- TLS ---------------------------------------------------------------------
is(get_with('/cgi/hostile/tls-ok', fake_token())->code, 200,
   'TLS: a certificate for 127.0.0.1 trusted through OAuth2FederatedCAFile');
is(get_with('/cgi/hostile/tls-wronghost', fake_token())->code, 401,
   'TLS: a certificate for another host name is refused');
is(get_with('/cgi/hostile/tls-untrusted', fake_token())->code, 401,
   'TLS: an untrusted certificate is refused (verification on by default)');
is(get_with('/cgi/hostile/tls-noverify', fake_token())->code, 200,
   'TLS: OAuth2FederatedSSLVerify Off accepts it');

# ---- hostile values never split or add headers -------------------------------
{
    my $res = get_with('/px/hostile/inject', $t);
    is($res->code, 200, 'hostile field values: request passes');
    my @h = echo_headers($res);
    ok(!(grep { lc $_->[0] eq 'x-injected' } @h), 'no header was injected');
    ok(!(grep { $_->[1] =~ /[\r\n\0]/ } @h), 'no header value carries CR, LF or NUL');
    is((echo_header_values($res, 'X-AGW-username'))[0], 'eveX-Injected: yes',
       'CR/LF dropped from the value');
    ok(!(grep { $_->[0] =~ /^X-AGW-(bad name|X-Evil)/i } @h),
       'field names that are not HTTP tokens are not sent');
    ok(!defined $res->header('X-AGW-username') && !defined $res->header('X-Injected'),
       'nothing from the answer in the response to the client');
}
{
    # 1,000 client-sent X-AGW-* headers (and _ spellings) are all removed
    my @spoof = map { ("X-AGW-f$_" => "spoof$_") } 1 .. 990;
    push @spoof, map { ("X_AGW_g$_" => "spoof") } 1 .. 10;
    my $res = get_with('/px/hostile/active', $t, @spoof);
    is($res->code, 200, '1,000 spoofed X-AGW-* headers: request passes');
    my @left = grep { $_->[0] =~ /^x[-_]agw[-_]/i && $_->[1] =~ /spoof/ }
               echo_headers($res);
    is(scalar @left, 0, '... and none reaches the backend');
}
{
    my $long = 'a' x (64 * 1024);
    my $c0 = stub_count('/active');
    my $res = get_with('/px/hostile/active', $long);
    is($res->code, 400, 'a 64 KB Authorization header: 400');
    is(stub_count('/active') - $c0, 0, '... without a provider call');
}
{
    # every byte value that is not b64token syntax, in the header and query
    my $c0 = stub_count('/active');
    my @bad;
    for my $b (0x21 .. 0x7e, 0x80, 0xff) {
        my $ch = chr $b;
        next if $ch =~ m{[A-Za-z0-9\-._~+/=]};
        my $code = get_with('/px/hostile/active', "abc${ch}def")->code;
        push @bad, sprintf('0x%02x:%s', $b, $code) if $code != 400;
    }
    is("@bad", '', 'every non-b64token byte in the header: 400');
    my @badq;
    for my $b (0x00 .. 0xff) {
        my $ch = chr $b;
        # b64token characters ('+' and '/' too, once decoded) are valid
        next if $ch =~ m{[A-Za-z0-9\-._~+/]};
        my $code = GET(sprintf('/px/hostile/active?access_token=abc%%%02Xdef', $b))->code;
        push @badq, sprintf('%%%02X:%s', $b, $code) if $code != 400;
    }
    is("@badq", '', 'every percent-encoded non-b64token byte in the query: 400');
    is(stub_count('/active') - $c0, 0, '... none of them asked the provider');
}
{
    my $c0 = stub_count('/active');
    is(GET('/px/hostile/active?access_token=abc%00def')->code, 400,
       'a percent-encoded NUL in access_token: 400');
    is(stub_count('/active') - $c0, 0, '... no provider call');
}

# ---- HTTP/1.0 behaves like HTTP/1.1 -------------------------------------------
sub raw_status {
    my ($request) = @_;
    my $hostport = Apache::TestRequest::hostport();
    my $s = IO::Socket::INET->new(PeerAddr => $hostport, Timeout => 10)
        or return 0;
    print $s $request;
    my $line = <$s> // '';
    close $s;
    return $line =~ m{^HTTP/\d\.\d (\d{3})} ? $1 : 0;
}
is(raw_status("GET /cgi/hostile/active HTTP/1.0\r\nAuthorization: Bearer $t\r\n\r\n"),
   200, 'HTTP/1.0 with a token: 200');
is(raw_status("GET /cgi/hostile/active HTTP/1.0\r\n\r\n"), 400,
   'HTTP/1.0 without a token: 400');

# ---- HTTP/2 (mod_http2, h2c) behaves like HTTP/1.1 ---------------------------
# curl speaks HTTP/2 with prior knowledge on the cleartext port; each case
# is sent over both protocols and must get the same answer.
sub h2_request {
    my ($path, @h) = @_;
    my @cmd = ('curl', '-s', '--http2-prior-knowledge', '--max-time', '20',
               '-D', '-', '-o', '-');
    while (my ($k, $v) = splice @h, 0, 2) { push @cmd, '-H', "$k: $v" }
    push @cmd, 'http://' . Apache::TestRequest::hostport() . $path;
    open(my $fh, '-|', @cmd) or return undef;
    local $/;
    my $raw = <$fh> // '';
    close $fh;
    my ($head, $body) = split /\r\n\r\n/, $raw, 2;
    return undef unless defined $head && $head =~ m{^HTTP/(\S+) (\d{3})};
    my $res = HTTP::Response->new($2);
    $res->protocol("HTTP/$1");
    for my $line (split /\r\n/, $head) {
        $res->push_header($1, $2) if $line =~ /^([^:\s]+):\s*(.*)$/;
    }
    $res->content($body // '');
    return $res;
}

{
    my $probe = h2_request('/cgi/hostile/active', bearer($t));
    ok($probe && $probe->protocol eq 'HTTP/2', 'the server speaks HTTP/2 (h2c)');

    my @cases = (
        [ 'a token', '/cgi/hostile/active', bearer($t) ],
        [ 'no token', '/cgi/hostile/active' ],
        [ 'an expired token', '/cgi/hostile/expired', bearer($t) ],
        [ 'credentials the provider refuses', '/cgi/hostile/401', bearer($t) ],
        [ 'two Authorization headers', '/cgi/hostile/active',
          Authorization => "Bearer $t", Authorization => "Bearer $t" ],
        [ 'a query token', "/cgi/hostile/active?access_token=$t" ],
        [ 'a non-Bearer scheme', '/cgi/hostile/active',
          Authorization => 'Basic dXNlcjpwYXNz' ],
    );
    for my $case (@cases) {
        my ($what, $path, @h) = @$case;
        my $h1 = GET($path, @h);
        my $h2 = h2_request($path, @h);
        is(($h2 ? $h2->code : 0) . ' ' . ($h2 ? $h2->header('WWW-Authenticate') // '-' : '-'),
           $h1->code . ' ' . ($h1->header('WWW-Authenticate') // '-'),
           "HTTP/2 and HTTP/1.1 agree on $what (" . $h1->code . ')');
    }
    {
        my $h1 = GET('/cgi/hostile/active', bearer($t));
        my $h2 = h2_request('/cgi/hostile/active', bearer($t), 'X-AGW-Spoof' => 'evil');
        my %e1 = map { $_ => cgi_env($h1)->{$_} } grep { /^AGW_/ } keys %{ cgi_env($h1) };
        my %e2 = map { $_ => cgi_env($h2)->{$_} } grep { /^AGW_/ } keys %{ cgi_env($h2) };
        ok(%e1 && join(',', map { "$_=$e1{$_}" } sort keys %e1)
                  eq join(',', map { "$_=$e2{$_}" } sort keys %e2),
           'HTTP/2: the CGI sees the same AGW_* environment');
        ok(!exists cgi_env($h2)->{HTTP_X_AGW_SPOOF}, 'HTTP/2: a spoofed X-AGW-* header is removed');
    }
    {
        my $res = h2_request('/px/hostile/inject', bearer($t));
        my @h = echo_headers($res);
        ok(@h && !(grep { lc $_->[0] eq 'x-injected' || $_->[1] =~ /[\r\n\0]/ } @h),
           'HTTP/2 through the proxy: no header injected from the answer');
    }
    {
        # over the 4,096-byte token limit; a 64 KB header is refused by
        # HTTP/2 itself (REFUSED_STREAM) before it is a request
        my $c0 = stub_count('/active');
        my $h1 = GET('/px/hostile/active', bearer('a' x 5000));
        my $h2 = h2_request('/px/hostile/active', bearer('a' x 5000));
        is(($h2 ? $h2->code : 0), $h1->code, 'HTTP/2: a 5,000-byte token gets the same ' . $h1->code);
        is(stub_count('/active') - $c0, 0, '... without a provider call');
    }
}
