# What the backend receives (README "What the backend receives"): AGW_* variables and
# OAUTH2_FEDERATED_RESPONSE for a CGI, X-AGW-<field> headers for a proxied
# backend (echo.js), REMOTE_USER / AUTH_TYPE; client-sent X-AGW-* removed;
# control characters dropped; nothing from the answer sent to the client.
use strict;
use warnings FATAL => 'all';

use FindBin;
use lib "$FindBin::Bin/lib";

use Apache::Test qw(-withtestmore);
use Apache::TestRequest qw(GET);
use JSON::PP ();
use OA2FTest;

plan tests => 82, need_module(qw(cgid proxy proxy_http));
# show failures and diag() without -verbose (Apache::Test sends them to STDOUT)
Test::More->builder->failure_output(\*STDERR);

my $rw = mint_token('app-rw');

# ---- CGI: environment -----------------------------------------------------
{
    my $res = GET '/cgi/ok', bearer($rw);
    is($res->code, 200, 'CGI: 200');
    my $env = cgi_env($res);
    is($env->{AGW_USERNAME},  'user-app-rw',   'AGW_USERNAME');
    is($env->{AGW_CLIENT_ID}, 'app-rw',        'AGW_CLIENT_ID');
    is($env->{AGW_SCOPE},     'read write',    'AGW_SCOPE');
    is($env->{AGW_GROUPS},    'staff app-rw',  'AGW_GROUPS: array of strings joined by spaces');
    is($env->{AGW_DEPT},      'eng',           'AGW_DEPT (an extra claim)');
    is($env->{AGW_ACTIVE},    'true',          'AGW_ACTIVE: a boolean as its JSON text');
    like($env->{AGW_EXP} // '', qr/^\d{10}$/,  'AGW_EXP: a number as its JSON text');
    is($env->{AGW_AUD},       'urn:oa2f:test-api', 'AGW_AUD');
    is($env->{REMOTE_USER},   'user-app-rw',   'REMOTE_USER: username comes first');
    is($env->{AUTH_TYPE},     'oauth2-federated', 'AUTH_TYPE');
    my $raw = eval { JSON::PP->new->decode($env->{OAUTH2_FEDERATED_RESPONSE} // '') };
    ok(ref $raw eq 'HASH' && $raw->{active} && JSON::PP::is_bool($raw->{active})
       && ($raw->{client_id} // '') eq 'app-rw' && ref $raw->{groups} eq 'ARRAY',
       'OAUTH2_FEDERATED_RESPONSE: the provider\'s JSON answer')
        or diag('OAUTH2_FEDERATED_RESPONSE: ' . ($env->{OAUTH2_FEDERATED_RESPONSE} // '(unset)'));
    is_deeply([ response_leaks($res, 'user-app-rw', 'staff app-rw', 'urn:oa2f:test-api') ], [],
              'CGI: nothing from the answer in the response headers');
    ok(!grep({ index($_, $rw) >= 0 } values %$env), 'CGI: the token is in no variable');
}

# ---- proxied backend: headers -----------------------------------------------
{
    my $res = GET '/px/ok', bearer($rw),
        'X-AGW-username'  => 'mallory',
        'x-agw-client_id' => 'evil-client',
        'X-Agw-Admin'     => 'spoofed-admin',
        'X-AGW-SCOPE'     => 'spoofed-scope',
        'X_AGW_scope'     => 'underscore-scope',
        'x_agw_role'      => 'underscore-role',
        'X-Other'         => 'kept';
    is($res->code, 200, 'proxy: 200');
    my @h = echo_headers($res);
    ok(scalar @h, 'proxy: the echo backend answered') or diag('body: ' . $res->content);
    is_deeply([ echo_header_values($res, 'X-AGW-client_id') ], ['app-rw'], 'X-AGW-client_id: app-rw, once');
    is_deeply([ echo_header_values($res, 'X-AGW-username') ], ['user-app-rw'], 'X-AGW-username: user-app-rw, once');
    is_deeply([ echo_header_values($res, 'X-AGW-scope') ], ['read write'], 'X-AGW-scope: "read write", once');
    is_deeply([ echo_header_values($res, 'X-AGW-groups') ], ['staff app-rw'], 'X-AGW-groups: "staff app-rw"');
    is_deeply([ echo_header_values($res, 'X-AGW-active') ], ['true'], 'X-AGW-active: true');
    ok((grep { $_->[0] eq 'X-AGW-client_id' } @h), 'header name keeps the field name as is (X-AGW-client_id)')
        or diag(join ', ', map { $_->[0] } @h);
    my @spoofed = grep { $_->[1] =~ /mallory|evil-client|spoofed|underscore/ } @h;
    is_deeply(\@spoofed, [], 'proxy: every client-sent X-AGW-*/X_AGW_* header is gone');
    ok(!grep({ lc $_->[0] eq 'x-agw-admin' } @h), 'proxy: X-Agw-Admin (no such field) is not passed on');
    is_deeply([ echo_header_values($res, 'X-Other') ], ['kept'], 'proxy: other client headers are kept');
    is_deeply([ response_leaks($res, 'user-app-rw', 'staff app-rw') ], [],
              'proxy: nothing from the answer in the response headers');
}
{
    # unprotected location: client-sent X-AGW-* are still dropped
    my $res = GET '/px/public', 'X-AGW-username' => 'mallory', 'x_agw_client_id' => 'evil-client';
    is($res->code, 200, 'unprotected proxy location: 200');
    is_deeply([ grep { $_->[0] =~ /^x[-_]agw[-_]/i } echo_headers($res) ], [],
              'unprotected proxy location: client-sent X-AGW-* headers removed');
}
{
    # a spoofed header does not help a request without a valid token
    my $res = GET '/px/ok', 'X-AGW-username' => 'mallory';
    is($res->code, 400, 'spoofed X-AGW-username without a token: 400');
    $res = GET '/px/ok', bearer(fake_token()), 'X-AGW-client_id' => 'app-rw', 'X-AGW-active' => 'true';
    is($res->code, 401, 'spoofed X-AGW-active with an unknown token: 401');
}

# ---- control characters and odd members (stub /inject) --------------------
{
    my $t = fake_token();
    my $res = GET '/cgi/stub/inject', bearer($t);
    is($res->code, 200, 'inject (CGI): 200');
    my $env = cgi_env($res);
    is($env->{AGW_USERNAME}, 'eveX-Injected: yes', 'CR/LF dropped from a value');
    is($env->{AGW_NOTE}, 'abc', 'NUL and BEL dropped from a value');
    is($env->{AGW_NESTED}, '{"a":[1,2]}', 'an object as compact JSON');
    is($env->{AGW_LIST}, 'x y', 'an array of strings joined by spaces');
    is($env->{AGW_NUM}, '42', 'a number as its JSON text');
    is($env->{AGW_FLAG}, 'true', 'a boolean as its JSON text');
    is($env->{AGW_BAD_NAME}, 'x', 'env name: a space becomes _');
    is($env->{AGW_X_EVIL__FOO}, 'y', 'env name: upper-cased, "-", CR and LF become _');
    my @ctl = grep { /[\x00-\x1f\x7f]/ || ($env->{$_} // '') =~ /[\x00-\x1f\x7f]/ } keys %$env;
    is_deeply(\@ctl, [], 'no variable name or value holds a control character');
    is($env->{REMOTE_USER}, 'eveX-Injected: yes', 'REMOTE_USER without CR/LF');
    is_deeply([ response_leaks($res, 'eve', 'Injected') ], [], 'inject (CGI): nothing in the response headers');
    ok(!defined $res->header('X-Injected'), 'inject (CGI): no X-Injected response header');
}
{
    my $t = fake_token();
    my $res = GET '/px/inject', bearer($t);
    is($res->code, 200, 'inject (proxy): 200');
    my @h = echo_headers($res);
    is_deeply([ echo_header_values($res, 'X-AGW-username') ], ['eveX-Injected: yes'],
              'inject (proxy): X-AGW-username without CR/LF');
    ok(!grep({ lc $_->[0] eq 'x-injected' } @h), 'inject (proxy): no X-Injected header reached the backend');
    ok(!grep({ $_->[0] =~ /[\s\x00-\x1f]|evil|bad/i } @h), 'inject (proxy): fields whose names are not HTTP tokens are skipped');
    ok(!grep({ $_->[1] =~ /[\x00-\x1f\x7f]/ } @h), 'inject (proxy): no header value holds a control character');
    is_deeply([ echo_header_values($res, 'X-AGW-nested') ], ['{"a":[1,2]}'], 'inject (proxy): object as compact JSON');
    is_deeply([ echo_header_values($res, 'X-AGW-note') ], ['abc'], 'inject (proxy): NUL/BEL dropped');
}

# ---- OAuth2FederatedExposeHeaders Off ---------------------------------------
{
    my $res = GET '/px/noexpose', bearer($rw), 'X-AGW-username' => 'mallory';
    is($res->code, 200, 'ExposeHeaders Off (proxy): 200');
    is_deeply([ grep { $_->[0] =~ /^x[-_]agw[-_]/i } echo_headers($res) ], [],
              'ExposeHeaders Off: no X-AGW-* header at the backend (and the spoofed one is gone)');
    $res = GET '/cgi/noexpose', bearer($rw);
    my $env = cgi_env($res);
    is($env->{AGW_USERNAME}, 'user-app-rw', 'ExposeHeaders Off: AGW_USERNAME still set');
    is($env->{OAUTH2_FEDERATED_RESPONSE} ? 1 : 0, 1, 'ExposeHeaders Off: OAUTH2_FEDERATED_RESPONSE still set');
    ok(!grep({ /^HTTP_X_AGW_/ } keys %$env), 'ExposeHeaders Off: no HTTP_X_AGW_* in the CGI environment');
}

# ---- prefixes ----------------------------------------------------------------
{
    my $env = cgi_env(GET '/cgi/prefix', bearer($rw));
    is($env->{TOK_CLIENT_ID}, 'app-rw', 'EnvPrefix TOK_: TOK_CLIENT_ID');
    is($env->{TOK_USERNAME}, 'user-app-rw', 'EnvPrefix TOK_: TOK_USERNAME');
    ok(!grep({ /^AGW_/ } keys %$env), 'EnvPrefix TOK_: no AGW_* variable');

    my $res = GET '/px/prefix', bearer($rw), 'X-Tok-username' => 'mallory';
    is_deeply([ echo_header_values($res, 'X-Tok-client_id') ], ['app-rw'], 'HeaderPrefix X-Tok-: X-Tok-client_id');
    is_deeply([ echo_header_values($res, 'X-Tok-username') ], ['user-app-rw'],
              'HeaderPrefix X-Tok-: client-sent X-Tok-username replaced');
    ok(!grep({ $_->[0] =~ /^x-agw-/i } echo_headers($res)), 'HeaderPrefix X-Tok-: no X-AGW-* header');
}

# ---- OAuth2FederatedRemoteUserField -------------------------------------------
is(cgi_env(GET '/cgi/ruser-client', bearer($rw))->{REMOTE_USER}, 'app-rw', 'RemoteUserField client_id');
is(cgi_env(GET '/cgi/ruser-multi', bearer($rw))->{REMOTE_USER}, 'eng',
   'RemoteUserField sub uid dept client_id: first present field (dept)');
{
    my $env = cgi_env(GET '/cgi/stub/noexp', bearer(fake_token()));
    is($env->{REMOTE_USER}, 'noexp-user', 'REMOTE_USER from a stub answer');
}

# ---- merged configuration: the child overrides only what it sets -----------
{
    my $res = GET '/cgi/merge';
    is($res->code, 400, 'merge: parent (gateway) answers 400 without a token');
    $res = GET '/cgi/merge/child';
    is($res->code, 401, 'merge: child (rfc6750) answers 401 without a token');
    is((challenge_of($res) || {})->{realm}, 'e2e-merge', 'merge: child inherits AuthName');
    $res = GET '/cgi/merge/child', bearer($rw);
    is($res->code, 200, 'merge: child inherits endpoint and credentials');
    is(cgi_env($res)->{REMOTE_USER}, 'app-rw', 'merge: child RemoteUserField client_id');
    is(cgi_env(GET '/cgi/merge', bearer($rw))->{REMOTE_USER}, 'user-app-rw', 'merge: parent keeps the default RemoteUserField');
    is((GET '/cgi/merge/child', bearer(mint_token('app-read')))->code, 403,
       'merge: child inherits Require oauth2-scope write');
}

# ---- the access log's %u is r->user --------------------------------------------
{
    my $t = mint_token('app-admin');
    GET '/cgi/ok?marker=access-log-user', bearer($t);
    my $log = Apache::Test::vars('t_logs') . '/oa2f_access_log';
    my $line = '';
    for (1 .. 20) {   # the log line is written after the response
        open my $fh, '<', $log or last;
        ($line) = grep { /marker=access-log-user/ } <$fh>;
        last if $line;
        select undef, undef, undef, 0.1;
    }
    like($line // '', qr/^\S+ \S+ user-app-admin \[/, 'access log %u shows the REMOTE_USER');
}

# ---- OAuth2FederatedValueEncoding: utf8 (default), latin1, base64url ------------
# The stub's /intl answer: values in several scripts and one that is not
# UTF-8. Compared byte for byte (env.cgi and echo.js hand bytes on as
# code points 0-255).
{
    my %want = (
        utf8 => { name => "Zo\xc3\xab", street => "Stra\xc3\x9fe", city => "\xe6\x9d\xb1\xe4\xba\xac",
                  mood => "hi\xf0\x9f\x98\x80there", bad => "x\xff\xfey", plain => 'ascii' },
        latin1 => { name => "Zo\xeb", street => "Stra\xdfe", city => '', mood => 'hithere',
                    bad => 'xy', plain => 'ascii' },
        b64 => { name => 'Wm_Dqw', street => 'U3RyYcOfZQ', city => '5p2x5Lqs', mood => 'aGnwn5iAdGhlcmU',
                 bad => 'eP_-eQ', plain => 'ascii' },
    );
    my $t = fake_token();
    for my $enc (qw(utf8 latin1 b64)) {
        my $res = GET "/cgi/enc/$enc", bearer($t);
        my $env = cgi_env($res);
        my %got = map { $_ => $env->{ 'AGW_' . uc $_ } } keys %{ $want{$enc} };
        is_deeply(\%got, $want{$enc}, "ValueEncoding $enc: the CGI's AGW_* values")
            or diag(JSON::PP->new->canonical->ascii->encode(\%got));
        is($env->{REMOTE_USER}, 'intl-user', "ValueEncoding $enc: REMOTE_USER");
        $res = GET "/px/enc/$enc", bearer($t);
        my %hdr = map { my $n = $_; ($n => join(',', echo_header_values($res, "X-AGW-$n"))) }
                  grep { $_ ne 'city' || $enc ne 'latin1' } keys %{ $want{$enc} };
        my %exp = map { $_ => $want{$enc}{$_} } keys %hdr;
        is_deeply(\%hdr, \%exp, "ValueEncoding $enc: the X-AGW-* headers through mod_proxy")
            or diag(JSON::PP->new->canonical->ascii->encode(\%hdr));
    }
    # the raw answer stays the provider's JSON in every encoding
    my $env = cgi_env(GET '/cgi/enc/b64', bearer($t));
    like($env->{OAUTH2_FEDERATED_RESPONSE} // '', qr/"name":"Zo\xc3\xab"/,
         'ValueEncoding base64url: OAUTH2_FEDERATED_RESPONSE is the answer as sent');
}
