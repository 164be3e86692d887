# Provider directives merged at request time (README "Directives": a
# nested location overrides only what it sets), for providers that
# t/conf/provider_merge.conf.in spreads over several nested <Location>s,
# and for a <Proxy> section. Each level's provider is its own: a verdict
# obtained with one set of credentials is never reused for another
# (README "Trust boundaries").
use strict;
use warnings FATAL => 'all';

use FindBin;
use lib "$FindBin::Bin/lib";

use Apache::Test qw(-withtestmore);
use Apache::TestRequest qw(GET);
use OA2FTest;

plan tests => 14, need_module('alias', 'proxy', 'proxy_http');
# show failures and diag() without -verbose (Apache::Test sends them to STDOUT)
Test::More->builder->failure_output(\*STDERR);

# (status, provider calls) of one request with token t
sub call {
    my ($path, $t) = @_;
    my $n0 = provider_count();
    my $res = GET $path, bearer($t);
    return ($res->code, provider_count() - $n0);
}

my $t = mint_token('app-rw');
my ($code, $calls);

($code, $calls) = call('/pmerge/child/a', $t);
is($code, 200, 'two levels: the parent\'s endpoint and id with the child\'s secret');
is($calls, 1, 'two levels: the provider was asked');
($code, $calls) = call('/pmerge/child/b', $t);
is($code, 200, 'two levels, again: 200');
is($calls, 0, 'two levels, again: from the cache');

($code, $calls) = call('/pmerge/a', $t);
is($code, 403, 'the parent alone: its secret is refused, 403');
is($calls, 1, 'the parent alone: asked, not served the child\'s verdict');

($code, $calls) = call('/pmerge/child/post/a', $t);
is($code, 403, 'three levels: rs-post sent as Basic is refused');
is($calls, 1, 'three levels: asked with other credentials');
($code, $calls) = call('/pmerge/child/post/yes/a', $t);
is($code, 200, 'four levels: rs-post sent as post');
is($calls, 1, 'four levels: asked with other credentials');
($code, $calls) = call('/pmerge/child/post/yes/b', $t);
is($code, 200, 'four levels, again: 200');
is($calls, 0, 'four levels, again: from the cache');

($code) = call('/pxmerge/a', $t);
is($code, 200, '<Proxy> section: 200');
is(GET('/pxmerge/a')->code, 400, '<Proxy> section without a token: 400 (gateway profile)');
