#!/bin/sh
# End-to-end suite: Apache::Test against a real httpd that loads the module
# from the build tree, with the loopback servers of t/servers/.
#
#   t/run-e2e.sh [t/TEST options and test files]     (from anywhere)
#
# Builds nothing (`make test` builds first). Runs as root or as a user:
# httpd's children run as www-data (override with OA2F_TEST_USER/GROUP).
# Ports: OA2F_PROVIDER_PORT 18530, OA2F_STUB_PORT 18531, OA2F_ECHO_PORT
# 18532, OA2F_STUB_TLS_PORT 18533, OA2F_STUB_TLS2_PORT 18534,
# OA2F_STUB_PROXY_PORT 18535 (the stub's forging forward proxy); httpd
# takes the first free port from 8529 on, or OA2F_HTTPD_PORT. The extra
# servers of t/11_fleet.t and t/13_trust_cache.t use OA2F_FLEET_PORT_BASE
# (18540..18545) and OA2F_TRUST_PORT_BASE (18560..18569); the MCP server of
# t/17_resource_metadata.t OA2F_MCP_PORT (18595); the httpd of
# t/22_first_hour.t OA2F_LOGS_PORT_BASE (18690..18691); the JWT stub and
# the phantom-token backend of t/25_local_jwt.t and t/26_phantom.t
# OA2F_JWT_PORT_BASE (18670..18671); the redis, relay and httpd of
# t/27_fleet_old_redis.t OA2F_OLDREDIS_PORT_BASE (18710..18712). Leaves
# no process behind.
set -eu

cd "$(dirname "$0")/.."
TOP=$(pwd)

SO="${OA2F_MODULE:-$TOP/.libs/mod_oauth2_federated.so}"
[ -e "$SO" ] || { echo "run-e2e.sh: $SO missing; build first (make)" >&2; exit 1; }
APXS=${APXS:-$(command -v apxs || command -v apxs2 || true)}
[ -n "$APXS" ] || { echo "run-e2e.sh: apxs not found (apt-get install apache2-dev)" >&2; exit 1; }
perl -MApache::Test -e 1 2>/dev/null \
    || { echo "run-e2e.sh: Apache::Test missing (apt-get install libapache2-mod-perl2)" >&2; exit 1; }
USER_=${OA2F_TEST_USER:-www-data}
GROUP_=${OA2F_TEST_GROUP:-www-data}

: "${OA2F_PROVIDER_PORT:=18530}" "${OA2F_STUB_PORT:=18531}" "${OA2F_ECHO_PORT:=18532}"
: "${OA2F_STUB_TLS_PORT:=18533}" "${OA2F_STUB_TLS2_PORT:=18534}" "${OA2F_STUB_PROXY_PORT:=18535}"
export OA2F_PROVIDER_PORT OA2F_STUB_PORT OA2F_ECHO_PORT OA2F_STUB_TLS_PORT OA2F_STUB_TLS2_PORT
export OA2F_STUB_PROXY_PORT
HTTPD_PORT=${OA2F_HTTPD_PORT:-select}

WORK=$(mktemp -d "${TMPDIR:-/tmp}/oa2f-e2e.XXXXXX")
chmod 755 "$WORK"      # httpd's children (www-data) read the CA files here
HTTPD_STARTED=
TEST_PID=
SETSID=

cleanup() {
    rc=$?
    trap - EXIT INT TERM
    if [ -n "$TEST_PID" ]; then
        if [ -n "$SETSID" ]; then
            kill -TERM "-$TEST_PID" 2>/dev/null || true
        else
            kill -TERM "$TEST_PID" 2>/dev/null || true
        fi
        wait "$TEST_PID" 2>/dev/null || true
    fi
    if [ -n "$HTTPD_STARTED" ] && [ -f t/logs/httpd.pid ]; then
        t/TEST -stop-httpd >/dev/null 2>&1 || true
    fi
    t/servers/stop.sh "$WORK/servers" || true
    rm -rf "$WORK"
    exit $rc
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# TLS listeners of the stub (t/12_hostile.t): a certificate for another host
# name, and one for 127.0.0.1 that the good CA file trusts.
sh t/servers/make-tls.sh "$WORK/tls"
export OA2F_STUB_TLS_KEY="$WORK/tls/wrong.key"  OA2F_STUB_TLS_CERT="$WORK/tls/wrong.crt"
export OA2F_STUB_TLS2_KEY="$WORK/tls/good.key"  OA2F_STUB_TLS2_CERT="$WORK/tls/good.crt"
export OA2F_TLS_GOOD_CA="$WORK/tls/good.crt"    OA2F_TLS_WRONG_CA="$WORK/tls/wrong.crt"
# A CA file whose content t/13_trust_cache.t swaps (good → wrong → good).
cp "$WORK/tls/good.crt" "$WORK/tls/swap.crt" && chmod a+r "$WORK/tls/swap.crt"
export OA2F_TLS_SWAP_CA="$WORK/tls/swap.crt"

# The servers exit on their own if this script dies without cleaning up.
OA2F_PARENT_PID=$$ t/servers/start.sh "$WORK/servers"

# www-data must read the tree (module, CGI, configs) and reach it.
chmod -R a+rX t "$(dirname "$SO")"
d="$TOP"
while [ "$d" != / ]; do chmod a+x "$d" 2>/dev/null || true; d=$(dirname "$d"); done

perl -MApache::TestMM -e 'Apache::TestMM::generate_script("t/TEST")' >/dev/null
t/TEST -clean >/dev/null 2>&1 || true
rm -f t/logs/oa2f_access_log t/logs/oa2f-tokens.txt   # ours; -clean keeps them

HTTPD_STARTED=1
rc=0
# In the background and in a process group of its own, so that INT/TERM
# reach the trap at once and the trap can stop t/TEST with the test
# scripts it runs.
SETSID=$(command -v setsid || true)
$SETSID t/TEST -apxs "$APXS" -user "$USER_" -group "$GROUP_" -port "$HTTPD_PORT" "$@" &
TEST_PID=$!
wait "$TEST_PID" || rc=$?
TEST_PID=

if [ -f t/logs/error_log ] \
   && grep -En 'exit signal|Segmentation fault|AddressSanitizer|runtime error:|child pid [0-9]+ exit signal|double free|core dumped' \
        t/logs/error_log >"$WORK/crashes"; then
    echo "run-e2e.sh: crash in t/logs/error_log:" >&2
    head -n 20 "$WORK/crashes" >&2
    [ $rc -ne 0 ] || rc=1
fi
if [ $rc -ne 0 ]; then
    echo "run-e2e.sh: FAILED (exit $rc); see t/logs/error_log" >&2
fi
exit $rc
