# RFC 9728 protected-resource metadata (README "Resource identity"): the
# document of every location with OAuth2FederatedResource, served without
# a token whatever protects its URL, and the resource_metadata= and
# scope= attributes of the location's challenges. Then a real MCP client
# and server, the official SDK (@modelcontextprotocol/sdk), with the
# server behind httpd (README "MCP server behind httpd").
use strict;
use warnings FATAL => 'all';

use FindBin;
use lib "$FindBin::Bin/lib";

use Apache::Test qw(-withtestmore);
use Apache::TestRequest qw(GET HEAD);
use JSON::PP ();
use IO::Socket::INET ();
use POSIX ();
use Time::HiRes ();
use OA2FTest;

plan tests => 48, need_module('alias', 'proxy', 'proxy_http');
# show failures and diag() without -verbose (Apache::Test sends them to STDOUT)
Test::More->builder->failure_output(\*STDERR);

my $port = Apache::Test::vars('port');
my $base = "http://127.0.0.1:$port";
my $wk   = '/.well-known/oauth-protected-resource';

# ---- the document --------------------------------------------------------
my $res = GET "$wk/prm/api";
is($res->code, 200, 'document of /prm/api: 200 without a token, though its URL is denied');
is($res->header('Content-Type'), 'application/json', 'content type application/json');
is($res->header('Access-Control-Allow-Origin'), '*', 'Access-Control-Allow-Origin: *');
my $doc = json_of($res) || {};
is($doc->{resource}, "$base/prm/api", 'resource');
is_deeply($doc->{authorization_servers}, [provider_url(), 'https://as2.example/tenant'],
          'authorization_servers');
is_deeply($doc->{bearer_methods_supported}, ['header', 'query'], 'bearer_methods_supported');
is_deeply($doc->{scopes_supported}, ['read', 'write'],
          'scopes_supported: the Require oauth2-scope lines, each once, in order');
is($doc->{resource_name}, 'prm-api', 'resource_name: the AuthName');
is_deeply([sort keys %$doc],
          [sort qw(resource authorization_servers bearer_methods_supported
                   scopes_supported resource_name)], 'no other member');

$res = HEAD "$wk/prm/api";
is($res->code, 200, 'HEAD: 200');
is($res->content, '', 'HEAD: no body');

$res = GET "$wk/prm/api", bearer(fake_token());
is($res->code, 200, 'a bad token does not matter: 200');

$res = GET $wk;
is($res->code, 200, 'resource without a path: document at the bare well-known URL');
$doc = json_of($res) || {};
is($doc->{resource}, 'https://prm-root.example', 'resource without a path: resource');
ok(!exists $doc->{authorization_servers}, 'no authorization servers: member omitted');
ok(!exists $doc->{scopes_supported}, 'no Require oauth2-scope: no scopes_supported');
is_deeply($doc->{bearer_methods_supported}, ['header', 'query'],
          'default AcceptTokenIn: header and query');

$doc = json_of(GET "$wk/prm/disc") || {};
is_deeply($doc->{authorization_servers}, [provider_url()],
          'MetadataURL, no AuthorizationServers or Issuer: the issuer its URL implies');

is(GET("$wk/nothing")->code, 404, 'a path with no resource: 404');
is(GET("$wk/mcpx")->code, 404, 'the path is matched exactly: 404 for a longer one');
$res = GET "$wk/prm/api/more";
ok($res->code != 200 && ($res->header('Content-Type') // '') ne 'application/json',
   'below a document\'s path: not the document (here: what protects the URL)');

# several resources on one path: the request's host name picks
$res = GET "$wk/prm/dup", Host => 'prm-other.example';
is((json_of($res) || {})->{resource_name}, 'dup-other', 'same path: the one of the host name');
$res = GET "$wk/prm/dup", Host => 'unknown.example';
is((json_of($res) || {})->{resource_name}, 'dup-ip', 'same path, no host matches: the first');

# ---- challenges ----------------------------------------------------------
my $meta = "$base$wk/prm/api";
$res = GET '/prm/api';
is($res->code, 401, 'no token (rfc6750): 401');
my $c = challenge_of($res) || {};
is($c->{resource_metadata}, $meta, '401 without a token: resource_metadata')
    or diag('WWW-Authenticate: ' . ($res->header('WWW-Authenticate') // '(none)'));
is($c->{scope}, 'read write', '401 without a token: scope, the scopes the location requires');

$res = GET '/prm/api', bearer(fake_token());
is($res->code, 401, 'bad token: 401');
$c = challenge_of($res) || {};
is($c->{error}, 'invalid_token', 'bad token: invalid_token');
is($c->{resource_metadata}, $meta, 'bad token: resource_metadata');
is($c->{scope}, 'read write', 'bad token: scope');

$res = GET '/prm/api', bearer(mint_token('app-read'));
is($res->code, 403, 'missing scope: 403');
$c = challenge_of($res) || {};
is($c->{error}, 'insufficient_scope', 'missing scope: insufficient_scope');
is($c->{resource_metadata}, $meta, 'missing scope: resource_metadata');

$res = GET '/prm/api', bearer(mint_token('app-rw'));
is($res->code, 200, 'the right scopes: 200');

$res = GET '/prm/root', bearer(fake_token());
$c = challenge_of($res) || {};
is($c->{resource_metadata}, "https://prm-root.example$wk",
   'resource without a path: resource_metadata of its host');

$res = GET '/cgi/rfc/ok';
$c = challenge_of($res) || {};
ok(!exists $c->{resource_metadata} && !exists $c->{scope},
   'a location without a Resource: neither attribute');

# ---- a real MCP client and server (the official SDK) ---------------------
my $servers  = "$FindBin::Bin/servers";
my $mcp_port = $ENV{OA2F_MCP_PORT} || 18595;
my $mcp_pid  = fork // die "fork: $!";
if (!$mcp_pid) {
    chdir $servers or POSIX::_exit(127);
    $ENV{OA2F_PARENT_PID} = getppid();
    open STDOUT, '>', Apache::Test::vars('t_logs') . '/mcp-server.log';
    open STDERR, '>&', \*STDOUT;
    exec 'node', 'mcp-server.js' or POSIX::_exit(127);
}
END { if ($mcp_pid) { kill 'TERM', $mcp_pid; waitpid $mcp_pid, 0; } }

my $up = 0;
for (1 .. 100) {   # at most ~10 s
    if (IO::Socket::INET->new(PeerAddr => '127.0.0.1', PeerPort => $mcp_port, Timeout => 1)) {
        $up = 1;
        last;
    }
    last if waitpid($mcp_pid, POSIX::WNOHANG()) == $mcp_pid;
    Time::HiRes::sleep(0.1);
}
ok($up, "MCP server up on 127.0.0.1:$mcp_port");

my $token = mint_token_for('app-read', "$base/mcp");
my $other = mint_token_for('app-read', 'urn:oa2f:other-api');
my $out = '';
if (open my $fh, '-|', 'timeout', '30', 'node', "$servers/mcp-client.js", "$base/mcp", $token,
    $other) {
    local $/;
    $out = <$fh> // '';
    close $fh;
}
my $r = eval { JSON::PP->new->decode($out) } || {};
diag("mcp-client.js: $out") unless $r->{status};
is($r->{status}, 401, 'SDK probe without a token: 401');
is($r->{resource_metadata_url}, "$base$wk/mcp",
   'SDK extractWWWAuthenticateParams: resource_metadata from the challenge');
is($r->{scope}, 'read', 'SDK extractWWWAuthenticateParams: scope');
my $m = $r->{metadata} || {};
is($m->{resource}, "$base/mcp", 'SDK discoverOAuthProtectedResourceMetadata: resource')
    or diag($r->{metadata_error} // '');
is_deeply($m->{authorization_servers}, [provider_url()], 'SDK discovery: authorization_servers');
is_deeply($m->{scopes_supported}, ['read'], 'SDK discovery: scopes_supported');
is($m->{resource_name}, 'mcp', 'SDK discovery: resource_name');
is(($r->{metadata_by_path} || {})->{resource}, "$base/mcp",
   'SDK discovery by its own well-known path: the same document')
    or diag($r->{metadata_by_path_error} // '');
is_deeply(($r->{with_token} || {})->{tools}, ['hello', 'whoami'],
          'SDK client with a valid token: connects, lists the tools')
    or diag(JSON::PP->new->encode($r->{with_token} || {}));
ok(!($r->{with_bad_token} || {})->{tools} && ($r->{with_bad_token} || {})->{error},
   'SDK client with a bad token: refused')
    or diag(JSON::PP->new->encode($r->{with_bad_token} || {}));
ok(!($r->{with_other_resource} || {})->{tools} && ($r->{with_other_resource} || {})->{error},
   'SDK client with an active token for another resource: refused (audience)')
    or diag(JSON::PP->new->encode($r->{with_other_resource} || {}));
