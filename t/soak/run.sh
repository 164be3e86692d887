#!/bin/bash
# Soak test with provider faults for mod_oauth2_federated (issue 6, item 5).
#   t/soak/run.sh [SECONDS]        default 180; SOAK_MPM=event|prefork (event)
# Needs a built module (scripts/build.sh), apache2, node; installs wrk if missing.
# Starts the loopback servers (t/servers), a fault relay and a counting backend
# (t/soak), httpd on 127.0.0.1:18555, runs wrk with a mix of valid, read-only,
# expiring, revoked, fake, malformed and missing tokens over /read and /write
# while the provider is switched between healthy, slow and faulty states and
# httpd is gracefully restarted; then checks and summarises (check.js).
# Everything it starts is stopped on exit. Exit status: 0 = all checks passed.
#
# Env: SOAK_MPM, SOAK_DIR (work dir, default t/soak/work/<mpm>), SOAK_PHASE
# (s per provider state, default DURATION/10 within 10..15), SOAK_MAXTTL (2),
# SOAK_BREAKER (OAuth2FederatedCircuitBreaker, "3 1"),
# SOAK_CONNECTIONS (16), SOAK_THREADS (2), SOAK_KEEPALIVE (0: every request
# sends "Connection: close", see README), SOAK_SLOW_MS (500), SOAK_LATE_MS (3000),
# SOAK_GRACEFULS (max(2, DURATION/60)),
# SOAK_ACCESS_LOG (0), SOAK_MODULE (.so, default .libs/mod_oauth2_federated.so).
set -u

DURATION=${1:-180}
case $DURATION in ''|*[!0-9]*) echo "usage: $0 [SECONDS]" >&2; exit 2 ;; esac
[ "$DURATION" -ge 20 ] || { echo "run.sh: at least 20 seconds" >&2; exit 2; }

HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)
MPM=${SOAK_MPM:-event}
case $MPM in event|prefork|worker) ;; *) echo "run.sh: SOAK_MPM must be event or prefork" >&2; exit 2 ;; esac
WORK=${SOAK_DIR:-$HERE/work/$MPM}
MODULE=${SOAK_MODULE:-$ROOT/.libs/mod_oauth2_federated.so}
APACHE=$(command -v apache2 || echo /usr/sbin/apache2)
MODS=/usr/lib/apache2/modules

export OA2F_PROVIDER_PORT=${OA2F_PROVIDER_PORT:-18550} OA2F_STUB_PORT=${OA2F_STUB_PORT:-18551} OA2F_ECHO_PORT=${OA2F_ECHO_PORT:-18552}
# the stub's other listeners, inside this range too
export OA2F_STUB_TLS_PORT=${OA2F_STUB_TLS_PORT:-18553} OA2F_STUB_TLS2_PORT=${OA2F_STUB_TLS2_PORT:-18554} OA2F_STUB_PROXY_PORT=${OA2F_STUB_PROXY_PORT:-18559}
HTTPD_PORT=${SOAK_HTTPD_PORT:-18555}
export SOAK_BACKEND_PORT=${SOAK_BACKEND_PORT:-18556} SOAK_FAULT_PORT=${SOAK_FAULT_PORT:-18557} SOAK_FAULT_CTL_PORT=${SOAK_FAULT_CTL_PORT:-18558}
# 2, not 1: an entry with less than a second left is not stored (README
# "Cache"), so a 1 s reuse time would never cache at all
export SOAK_MAXTTL=${SOAK_MAXTTL:-2}
SOAK_BREAKER=${SOAK_BREAKER:-3 1}
PHASE=${SOAK_PHASE:-$(( DURATION / 10 < 10 ? 10 : (DURATION / 10 > 15 ? 15 : DURATION / 10) ))}
CONNS=${SOAK_CONNECTIONS:-16}
THREADS=${SOAK_THREADS:-2}
SLOW_MS=${SOAK_SLOW_MS:-500}
LATE_MS=${SOAK_LATE_MS:-3000}
# provider states after the healthy warm-up phase, in this order, repeated
MODES=(slow fail500 ok hang down ok late refused ok)

log() { printf '%s soak: %s\n' "$(date +%H:%M:%S)" "$*"; }
die() { log "ERROR: $*"; exit 1; }
now() { date +%s.%N | cut -c1-14; }

[ -f "$MODULE" ] || die "no module at $MODULE (run scripts/build.sh)"
[ -x "$APACHE" ] || die "apache2 not found"
[ -f "$MODS/mod_mpm_$MPM.so" ] || die "no $MODS/mod_mpm_$MPM.so"
command -v node >/dev/null || die "node not found"
if ! command -v wrk >/dev/null; then
    log "installing wrk"
    { apt-get install -y wrk || { apt-get update && apt-get install -y wrk; }; } >/dev/null 2>&1 \
        || die "could not install wrk"
fi

# ---- start-up / tear-down ------------------------------------------------------
PIDS=()
WRK_PID=
cleanup() {
    trap - EXIT INT TERM
    [ -n "$WRK_PID" ] && kill "$WRK_PID" 2>/dev/null
    if [ -f "$WORK/httpd.pid" ]; then
        hp=$(cat "$WORK/httpd.pid" 2>/dev/null)
        if [ -n "$hp" ] && kill "$hp" 2>/dev/null; then
            i=0; while kill -0 "$hp" 2>/dev/null && [ $i -lt 100 ]; do sleep 0.1; i=$((i + 1)); done
            kill -9 "$hp" 2>/dev/null
        fi
    fi
    for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null; done
    [ -d "$WORK/servers" ] && "$ROOT/t/servers/stop.sh" "$WORK/servers" >/dev/null 2>&1
    wait 2>/dev/null
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# leftovers of an earlier run that was killed before its trap ran
if [ -f "$WORK/httpd.pid" ] && tr '\0' ' ' <"/proc/$(cat "$WORK/httpd.pid")/cmdline" 2>/dev/null | grep -q "$WORK/httpd.conf"; then
    kill "$(cat "$WORK/httpd.pid")" 2>/dev/null; sleep 2
fi
[ -d "$WORK/servers" ] && "$ROOT/t/servers/stop.sh" "$WORK/servers" >/dev/null 2>&1
rm -rf "$WORK"
# never talk to someone else's server on one of our ports
for p in "$OA2F_PROVIDER_PORT" "$OA2F_STUB_PORT" "$OA2F_ECHO_PORT" "$OA2F_STUB_TLS_PORT" \
         "$OA2F_STUB_TLS2_PORT" "$OA2F_STUB_PROXY_PORT" "$HTTPD_PORT" "$SOAK_BACKEND_PORT" \
         "$SOAK_FAULT_PORT" "$SOAK_FAULT_CTL_PORT"; do
    if (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null; then
        die "port $p is already in use: something else listens on 127.0.0.1:$p (set OA2F_*_PORT / SOAK_*_PORT)"
    fi
done
mkdir -p "$WORK/servers" || die "cannot create $WORK"
cp "$MODULE" "$WORK/mod_oauth2_federated.so"   # immune to rebuilds during the run

export OA2F_PARENT_PID=$$ SOAK_PARENT_PID=$$
export OA2F_SERVER_LIFETIME=$((DURATION + 600)) SOAK_LIFETIME=$((DURATION + 600))
"$ROOT/t/servers/start.sh" "$WORK/servers" || die "t/servers/start.sh failed"

node "$HERE/faultproxy.js" </dev/null >"$WORK/faultproxy.log" 2>&1 &
PIDS+=($!)

ctl() { curl -fsS --max-time 3 -o /dev/null "$@"; }
provider_mode() { ctl "http://127.0.0.1:$OA2F_PROVIDER_PORT/__mode?introspection=$1"; }
fault() { ctl "http://127.0.0.1:$SOAK_FAULT_CTL_PORT/?$1"; }
wait_for() { # URL what
    local i=0
    until curl -fsS --max-time 2 -o /dev/null "$1" 2>/dev/null; do
        i=$((i + 1)); [ $i -lt 100 ] || die "$2 did not come up"; sleep 0.1
    done
}
wait_for "http://127.0.0.1:$SOAK_FAULT_CTL_PORT/" "fault relay"

# ---- httpd -----------------------------------------------------------------------
USERGROUP=
[ "$(id -u)" = 0 ] && USERGROUP=$'User www-data\nGroup www-data'
ACCESS="#"
[ "${SOAK_ACCESS_LOG:-0}" = 1 ] && ACCESS=
location() { # NAME SCOPE
    cat <<LOC
<Location /$1>
    AuthType oauth2-federated
    AuthName "soak-$1"
    OAuth2FederatedProvider     introspection
    OAuth2FederatedEndpoint     http://127.0.0.1:$SOAK_FAULT_PORT/token/introspection
    OAuth2FederatedClientID     rs-other
    OAuth2FederatedClientSecret rs-other-secret
    OAuth2FederatedTimeout      1 2
    OAuth2FederatedCacheMaxTTL  $SOAK_MAXTTL
    # opens within every fault phase; cool-downs double from 1 s, so an
    # open circuit may answer 401 for a while after a fault (check.js
    # allows that for SOAK_BREAKER_TAIL s)
    OAuth2FederatedCircuitBreaker $SOAK_BREAKER
    Require oauth2-scope $2
    ProxyPass http://127.0.0.1:$SOAK_BACKEND_PORT/$1 retry=0 ttl=10
</Location>
LOC
}
cat >"$WORK/httpd.conf" <<CONF
ServerRoot "$WORK"
ServerName 127.0.0.1
Listen 127.0.0.1:$HTTPD_PORT
PidFile "$WORK/httpd.pid"
ErrorLog "$WORK/error_log"
LogLevel warn
$USERGROUP
LoadModule mpm_${MPM}_module $MODS/mod_mpm_$MPM.so
LoadModule authn_core_module $MODS/mod_authn_core.so
LoadModule authz_core_module $MODS/mod_authz_core.so
LoadModule authz_host_module $MODS/mod_authz_host.so
LoadModule headers_module $MODS/mod_headers.so
LoadModule proxy_module $MODS/mod_proxy.so
LoadModule proxy_http_module $MODS/mod_proxy_http.so
LoadModule socache_shmcb_module $MODS/mod_socache_shmcb.so
LoadModule oauth2_federated_module $WORK/mod_oauth2_federated.so

${ACCESS}CustomLog "$WORK/access_log" "%{%s}t %>s %{X-Soak}i %D"
Timeout 30
KeepAlive On
MaxKeepAliveRequests 0
KeepAliveTimeout 15
<IfModule mpm_event_module>
    ServerLimit 8
    StartServers 2
    ThreadsPerChild 32
    MinSpareThreads 16
    MaxSpareThreads 64
    MaxRequestWorkers 64
    MaxConnectionsPerChild 0
</IfModule>
<IfModule mpm_worker_module>
    ServerLimit 8
    StartServers 2
    ThreadsPerChild 32
    MinSpareThreads 16
    MaxSpareThreads 64
    MaxRequestWorkers 64
    MaxConnectionsPerChild 0
</IfModule>
<IfModule mpm_prefork_module>
    StartServers 24
    MinSpareServers 4
    MaxSpareServers 48
    ServerLimit 48
    MaxRequestWorkers 48
    MaxConnectionsPerChild 0
</IfModule>

# the soak's request tag comes back on every answer, errors included
Header always echo ^X-Soak\$

OAuth2FederatedCache shmcb

$(location read read)
$(location write write)

<Location /oauth2-status>
    SetHandler oauth2-federated-status
    Require ip 127.0.0.1
</Location>
<Location /oauth2-revoke>
    SetHandler oauth2-federated-revoke
    Require ip 127.0.0.1
</Location>
CONF

"$APACHE" -f "$WORK/httpd.conf" -t >"$WORK/configtest.log" 2>&1 || { cat "$WORK/configtest.log"; die "httpd config test failed"; }

# ---- tokens, backend, httpd -----------------------------------------------------
provider_mode ok || die "provider /__mode did not answer"
node "$HERE/tokens.js" "$WORK" || die "minting tokens failed"
export SOAK_TOKENS="$WORK/tokens.json"
node "$HERE/backend.js" </dev/null >"$WORK/backend.log" 2>&1 &
PIDS+=($!)
wait_for "http://127.0.0.1:$SOAK_BACKEND_PORT/__stats" "backend"

"$APACHE" -f "$WORK/httpd.conf" -k start || die "httpd did not start"
wait_for "http://127.0.0.1:$HTTPD_PORT/oauth2-status" "httpd"
HTTPD_PID=$(cat "$WORK/httpd.pid")

# smoke: one request of each kind must behave before we load it
probe() { # EXPECTED LOCATION [TOKEN]
    local code
    code=$(curl -s -o /dev/null -w '%{http_code}' --max-time 5 ${3:+-H "Authorization: Bearer $3"} "http://127.0.0.1:$HTTPD_PORT/$2/probe")
    [ "$code" = "$1" ] || die "probe /$2 ${3:+with a token }answered $code, expected $1 (see $WORK/error_log)"
}
tok() { node -e 'const m=require(process.argv[1]); console.log(Object.keys(m).find((t) => m[t].class === process.argv[2]))' "$WORK/tokens.json" "$1"; }
probe 200 read "$(tok rw)"
probe 200 write "$(tok rw)"
probe 403 write "$(tok ro)"
probe 401 read "$(tok revoked)"
probe 200 write "$(tok lrev)"
probe 400 read
log "httpd ($MPM, pid $HTTPD_PID) up on :$HTTPD_PORT; probes ok"

# ---- measurements --------------------------------------------------------------
rss() { # sum of VmRSS (kB) of the httpd parent and its children; prints "kB nprocs"
    local total=0 n=0 p kb
    for p in $HTTPD_PID $(ps -o pid= --ppid "$HTTPD_PID" 2>/dev/null); do
        kb=$(awk '/^VmRSS:/ {print $2}' "/proc/$p/status" 2>/dev/null)
        [ -n "$kb" ] || continue
        total=$((total + kb)); n=$((n + 1))
    done
    echo "$total $n"
}
set_mode() { # MODE — both knobs, logged with the time before and after
    local b e rc=0
    b=$(now)
    case $1 in
        ok)      provider_mode ok && fault 'delay=0&refuse=0' ;;
        slow)    provider_mode ok && fault "delay=$SLOW_MS&refuse=0" ;;
        late)    provider_mode ok && fault "delay=$LATE_MS&refuse=0" ;;
        refused) provider_mode ok && fault 'delay=0&refuse=1' ;;
        fail500|hang|down) fault 'delay=0&refuse=0' && provider_mode "$1" ;;
    esac || rc=$?
    e=$(now)
    echo "$b $e $1" >>"$WORK/switches"
    if [ "$rc" = 0 ]; then log "provider -> $1"; else log "WARNING: switching the provider to $1 failed (rc $rc)"; fi
}
REVOKE_URL="http://127.0.0.1:$HTTPD_PORT/oauth2-revoke"
revoke_lrev() {
    if node "$HERE/tokens.js" "$WORK" revoke "$REVOKE_URL" >>"$WORK/revoke.log" 2>&1 \
        && curl -fsS --max-time 5 -o /dev/null "http://127.0.0.1:$SOAK_BACKEND_PORT/__reload"; then
        echo "$(now) lrev" >>"$WORK/revocations"; log "lrev tokens revoked"
    else
        log "WARNING: revoking the lrev tokens failed (see $WORK/revoke.log)"
    fi
}
NRULE=0
churn_rules() { # a client rule for app-read (its tokens are asked again) and a subject rule
    NRULE=$((NRULE + 1))
    local a b
    a=$(curl -s -o /dev/null -w '%{http_code}' --max-time 5 --data 'client_id=app-read' "$REVOKE_URL")
    b=$(curl -s -o /dev/null -w '%{http_code}' --max-time 5 --data "sub=soak-nobody-$NRULE" "$REVOKE_URL")
    echo "$(now) $a $b" >>"$WORK/rules"
}
graceful() {
    local rc=0
    "$APACHE" -f "$WORK/httpd.conf" -k graceful >>"$WORK/graceful.log" 2>&1 || rc=$?
    echo "$(now) $rc" >>"$WORK/gracefuls"
    log "graceful restart (rc $rc)"
}

# ---- the run -------------------------------------------------------------------
: >"$WORK/switches"; : >"$WORK/gracefuls"; : >"$WORK/revocations"; : >"$WORK/rules"
NPHASES=$(( (DURATION + PHASE - 1) / PHASE ))
NGRACE=${SOAK_GRACEFULS:-$(( DURATION / 60 > 2 ? DURATION / 60 : 2 ))}
declare -A EVENT=()          # second -> "mode:X" / "graceful" / "warm"
for ((p = 1; p < NPHASES; p++)); do EVENT[$((p * PHASE))]="mode:${MODES[$(( (p - 1) % ${#MODES[@]} ))]}"; done
for ((k = 1; k <= NGRACE; k++)); do
    g=$(( (2 * k) * PHASE + PHASE / 2 ))                 # mid-phase: fail500, hang, ...
    [ $g -lt $((DURATION - 3)) ] || g=$(( DURATION * k / (NGRACE + 1) + 1 ))
    while [ -n "${EVENT[$g]:-}" ]; do g=$((g + 1)); done
    EVENT[$g]=graceful
done
w=$((PHASE - 2)); while [ -n "${EVENT[$w]:-}" ]; do w=$((w - 1)); done
EVENT[$w]=warm
# the lrev tokens die mid-run (README "Revocation"); subject and client
# rules come and go under load, one per phase
r=$((DURATION / 2)); while [ -n "${EVENT[$r]:-}" ]; do r=$((r + 1)); done
EVENT[$r]=revoke
for ((p = 1; p < NPHASES; p++)); do
    c=$((p * PHASE + PHASE / 3)); while [ -n "${EVENT[$c]:-}" ]; do c=$((c + 1)); done
    EVENT[$c]=rules
done

log "wrk: $DURATION s, $THREADS threads, $CONNS connections, phases of $PHASE s, CacheMaxTTL $SOAK_MAXTTL"
set_mode ok
node "$HERE/tokens.js" "$WORK" short || die "minting the short-lived tokens failed"
curl -fsS --max-time 5 -o /dev/null "http://127.0.0.1:$SOAK_BACKEND_PORT/__reload" || die "backend reload failed"
CLOSE=1; [ "${SOAK_KEEPALIVE:-0}" = 1 ] && CLOSE=0
SOAK_MIX="$WORK/mix" SOAK_OUT="$WORK/responses" SOAK_CLOSE=$CLOSE \
    timeout -k 5 $((DURATION + 40)) wrk -t"$THREADS" -c"$CONNS" -d"${DURATION}s" --timeout 10s --latency \
    -s "$HERE/mix.lua" "http://127.0.0.1:$HTTPD_PORT/" >"$WORK/wrk.out" 2>&1 &
WRK_PID=$!
START=$(date +%s)
# driver: bounded by DURATION (wrk stops itself; timeout(1) backs it up)
while :; do
    el=$(( $(date +%s) - START ))
    [ $el -lt "$DURATION" ] || break
    kill -0 "$WRK_PID" 2>/dev/null || { log "wrk ended early"; break; }
    for s in "${!EVENT[@]}"; do
        [ "$s" -le $el ] || continue
        case ${EVENT[$s]} in
            mode:*)   set_mode "${EVENT[$s]#mode:}" ;;
            graceful) graceful ;;
            warm)     echo "warm $(rss)" >>"$WORK/rss"; log "RSS after warm-up: $(rss | awk '{printf "%.1f MB in %d processes", $1/1024, $2}')" ;;
            revoke)   revoke_lrev ;;
            rules)    churn_rules ;;
        esac
        unset "EVENT[$s]"
    done
    sleep 0.2
done
wait "$WRK_PID"; rc=$?; WRK_PID=
[ $rc = 0 ] || log "WARNING: wrk exited with $rc"
provider_mode ok; fault 'delay=0&refuse=0'   # load is over: not logged as a switch
sleep 2   # let gracefully finishing children go
echo "end $(rss)" >>"$WORK/rss"
log "RSS at the end: $(rss | awk '{printf "%.1f MB in %d processes", $1/1024, $2}')"
curl -fsS --max-time 5 "http://127.0.0.1:$SOAK_BACKEND_PORT/__stats" >"$WORK/backend.json" || echo '{}' >"$WORK/backend.json"
curl -fsS --max-time 5 "http://127.0.0.1:$HTTPD_PORT/oauth2-status?json" >"$WORK/status.json" 2>/dev/null
curl -fsS --max-time 5 "http://127.0.0.1:$OA2F_PROVIDER_PORT/__stats" >"$WORK/provider-stats.json" 2>/dev/null
sed -n '/Latency Distribution/,/Requests\/sec/p' "$WORK/wrk.out"
log "module status: $(head -c 600 "$WORK/status.json" 2>/dev/null)"

SOAK_BREAKER_TAIL=$((PHASE + 2)) node "$HERE/check.js" "$WORK"
rc=$?
log "work directory: $WORK"
exit $rc
