#!/bin/sh
# Start provider.js, stub.js and echo.js in the background.
#   t/servers/start.sh DIR   logs in DIR/<name>.log, pids in DIR/<name>.pid
# Ports: OA2F_PROVIDER_PORT (18530), OA2F_STUB_PORT (18531), OA2F_ECHO_PORT (18532);
# the stub also reads OA2F_STUB_TLS*_PORT and OA2F_STUB_PROXY_PORT (18535).
# OA2F_PARENT_PID, OA2F_SERVER_LIFETIME and OA2F_SERVER_DEBUG are passed on.
# Exits non-zero, with the log tail, if a server does not answer /__stats in ~20 s.
set -eu

[ $# -eq 1 ] || { echo "usage: $0 DIR" >&2; exit 2; }
HERE=$(cd "$(dirname "$0")" && pwd)
mkdir -p "$1"
DIR=$(cd "$1" && pwd)

: "${OA2F_PROVIDER_PORT:=18530}" "${OA2F_STUB_PORT:=18531}" "${OA2F_ECHO_PORT:=18532}"
export OA2F_PROVIDER_PORT OA2F_STUB_PORT OA2F_ECHO_PORT

if [ ! -d "$HERE/node_modules/oidc-provider" ]; then
    echo "start.sh: installing node modules in $HERE" >&2
    (cd "$HERE" && { npm ci --no-audit --no-fund || npm install --no-audit --no-fund; }) >"$DIR/npm.log" 2>&1 || {
        echo "start.sh: npm install failed:" >&2; tail -n 20 "$DIR/npm.log" >&2; exit 1; }
fi

"$HERE/stop.sh" "$DIR" 2>/dev/null || true   # leftovers of an earlier run

for name in provider stub echo; do
    node "$HERE/$name.js" </dev/null >"$DIR/$name.log" 2>&1 &
    echo $! >"$DIR/$name.pid"
done

port_of() {
    case $1 in provider) echo "$OA2F_PROVIDER_PORT" ;; stub) echo "$OA2F_STUB_PORT" ;; echo) echo "$OA2F_ECHO_PORT" ;; esac
}

fail() {
    echo "start.sh: $1 did not come up: $2; last lines of $DIR/$1.log:" >&2
    tail -n 20 "$DIR/$1.log" >&2
    "$HERE/stop.sh" "$DIR" || true
    exit 1
}

deadline=$(( $(date +%s) + 20 ))
for name in provider stub echo; do
    pid=$(cat "$DIR/$name.pid")
    # ready = our process is alive, logged that it listens, and answers /__stats
    until kill -0 "$pid" 2>/dev/null && grep -q 'listening' "$DIR/$name.log" \
          && curl -fsS -o /dev/null --max-time 2 "http://127.0.0.1:$(port_of $name)/__stats" 2>/dev/null; do
        kill -0 "$pid" 2>/dev/null || fail "$name" "process $pid exited"
        [ "$(date +%s)" -lt "$deadline" ] || fail "$name" "timeout"
        sleep 0.2
    done
done
echo "start.sh: provider :$OA2F_PROVIDER_PORT, stub :$OA2F_STUB_PORT, echo :$OA2F_ECHO_PORT up (logs and pids in $DIR)"
