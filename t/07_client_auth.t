# How the module authenticates to the provider (OAuth2FederatedClientAuth):
# rs-basic only accepts client_secret_basic, rs-post only client_secret_post
# (t/servers/provider.js), and the stub's /echo-request shows the wire.
use strict;
use warnings FATAL => 'all';

use FindBin;
use lib "$FindBin::Bin/lib";

use Apache::Test qw(-withtestmore);
use Apache::TestRequest qw(GET);
use JSON::PP ();
use MIME::Base64 qw(encode_base64);
use URI::Escape qw(uri_unescape);
use OA2FTest;

plan tests => 26, need_module('cgid');
# show failures and diag() without -verbose (Apache::Test sends them to STDOUT)
Test::More->builder->failure_output(\*STDERR);

my $t = mint_token('app-rw');

sub status_of {
    my ($path) = @_;
    my $n0 = provider_count();
    my $res = GET $path, bearer($t);
    return ($res->code, provider_count() - $n0, $res);
}

{
    my ($code, $calls) = status_of('/cgi/auth/basic-as-basic');
    is($code, 200, 'rs-basic with basic (secret "s3cr:t+/ %&", form-encoded): 200');
    is($calls, 1, 'rs-basic with basic: the provider was asked');
    ($code) = status_of('/cgi/auth/basic-as-post');
    is($code, 403, 'rs-basic with post: provider refuses us, 403');
    ($code, $calls) = status_of('/cgi/auth/post-as-post');
    is($code, 200, 'rs-post with post: 200');
    is($calls, 1, 'rs-post with post: the provider was asked');
    ($code) = status_of('/cgi/auth/post-as-basic');
    is($code, 403, 'rs-post with basic: provider refuses us, 403');
    # oidc-provider answers 400 invalid_request ("no client authentication
    # mechanism provided"), not 401: README "Providers" makes only 401/403 mean "refused
    # our credentials" (403); any other answer without "active" is unusable (500).
    ($code) = status_of('/cgi/auth/none');
    ok($code == 403 || $code == 500, "no client authentication: provider refuses us, 403 or 500 (got $code)");
}

# ---- the wire, seen by /echo-request ----------------------------------------
sub form_of {
    my ($body) = @_;
    my %f;
    for my $pair (split /&/, $body // '') {
        my ($k, $v) = split /=/, $pair, 2;
        $_ = uri_unescape(do { (my $x = $_ // '') =~ tr/+/ /; $x }) for $k, $v;
        push @{ $f{$k} }, $v;
    }
    return \%f;
}

sub seen {
    my ($path, $token) = @_;
    my $res = GET $path, bearer($token);
    my $env = cgi_env($res);
    my $raw = eval { JSON::PP->new->decode($env->{OAUTH2_FEDERATED_RESPONSE} // '') } || {};
    return ($res->code, $raw);
}

# a token with every b64token character that form-encoding changes
my $odd = fake_token(30) . '+/~.-_x==';
record_token($odd);
{
    my ($code, $seen) = seen('/cgi/wire/basic', $odd);
    is($code, 200, 'wire/basic: 200');
    is($seen->{seen_method}, 'POST', 'introspection is a POST');
    like($seen->{seen_content_type} // '', qr{^application/x-www-form-urlencoded\b}i, 'form content type');
    my $f = form_of($seen->{seen_body});
    is_deeply($f->{token}, [$odd], 'token= carries the token, form-encoded');
    is_deeply($f->{token_type_hint}, ['access_token'], 'token_type_hint=access_token');
    ok(!exists $f->{client_secret}, 'basic: no client_secret in the body');
    is($seen->{seen_authorization},
       'Basic ' . encode_base64('rs-basic:s3cr%3At%2B%2F+%25%26', ''),
       'basic: RFC 6749 2.3.1 form-encoding of id and secret before base64');
    like($seen->{seen_accept} // '', qr{application/json}, 'Accept: application/json');
}
{
    my ($code, $seen) = seen('/cgi/wire/post', $odd);
    is($code, 200, 'wire/post: 200');
    my $f = form_of($seen->{seen_body});
    is_deeply($f->{client_id}, ['rs-post'], 'post: client_id in the body');
    is_deeply($f->{client_secret}, ['rs-post-secret'], 'post: client_secret in the body');
    is_deeply($f->{token}, [$odd], 'post: token in the body');
    ok(!defined $seen->{seen_authorization}, 'post: no Authorization header');
}
{
    my ($code, $seen) = seen('/cgi/wire/none', $odd);
    is($code, 200, 'wire/none: 200');
    my $f = form_of($seen->{seen_body});
    ok(!exists $f->{client_secret}, 'none: no client_secret in the body');
    ok(!defined $seen->{seen_authorization}, 'none: no Authorization header');
    is_deeply($f->{token}, [$odd], 'none: token in the body');
}
{
    # the request line goes to the endpoint as configured
    my ($code, $seen) = seen('/cgi/wire/basic', $odd);
    is($seen->{seen_url}, '/echo-request', 'POST to the configured path, token not in the URL');
    unlike($seen->{seen_url} // '', qr/\Q$odd\E/, 'token not in the URL');
}
