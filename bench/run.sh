#!/bin/sh
# The benchmark in one command (see bench/README.md):
#   bench/run.sh            full run, about 15 minutes on 2 cores
#   bench/run.sh --quick    about 3 minutes
# Installs what is missing (Debian packages), builds the module, generates a
# private CA and server certificate in bench/out/tls/, starts an HTTPS
# introspection endpoint and four httpd instances on 127.0.0.1:19100-19104,
# runs the scenarios and prints the tables (also bench/out/summary.md).
# Everything it starts is stopped at the end. Knobs: BENCH_* variables,
# listed in bench/README.md.
set -eu
cd "$(dirname "$0")/.."
ROOT=$(pwd)
OUT="$ROOT/bench/out"

# ---- what is missing --------------------------------------------------------
PKGS="apache2 apache2-dev wrk libapache2-mod-auth-openidc libapache2-mod-oauth2
      openssl python3 curl
      libcurl4-openssl-dev libjson-c-dev libssl-dev pkg-config
      autoconf automake libtool make gcc"
command -v node >/dev/null 2>&1 || PKGS="$PKGS nodejs"
missing=""
for p in $PKGS; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" \
        || missing="$missing $p"
done
if [ -n "$missing" ]; then
    if [ "$(id -u)" != 0 ]; then
        echo "bench: missing packages:$missing (run as root)" >&2
        exit 1
    fi
    echo "bench: installing$missing"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    # shellcheck disable=SC2086
    apt-get install -y -qq --no-install-recommends $missing >/dev/null
fi
if [ "$(id -u)" != 0 ]; then
    echo "bench: run as root (httpd instances switch to www-data)" >&2
    exit 1
fi

# ---- build --------------------------------------------------------------------
if [ "${BENCH_SKIP_BUILD:-0}" != 1 ]; then
    echo "bench: building the module (scripts/build.sh)"
    scripts/build.sh
fi
if grep -q -- '--enable-sanitizers' config.status 2>/dev/null; then
    echo "bench: WARNING: the build is configured with --enable-sanitizers;" \
         "figures will not be representative" >&2
fi

# ---- run, and stop whatever is left on the way out ---------------------------
mkdir -p "$OUT"
pid=""
cleanup() {
    trap - EXIT INT TERM HUP
    if [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null; then
        kill -TERM "$pid" 2>/dev/null || true
        n=0
        while kill -0 "$pid" 2>/dev/null && [ $n -lt 100 ]; do
            sleep 0.1; n=$((n + 1))
        done
    fi
    # httpd instances of this benchmark whose driver died without stopping them
    for f in "$OUT"/inst/*/httpd.pid "$OUT"/cg/*/httpd.pid; do
        [ -f "$f" ] || continue
        hp=$(cat "$f" 2>/dev/null || true)
        case "$hp" in ''|*[!0-9]*) continue ;; esac
        if grep -q "$OUT" "/proc/$hp/cmdline" 2>/dev/null; then
            kill -TERM "$hp" 2>/dev/null || true
        fi
    done
}
trap cleanup EXIT
trap 'cleanup; exit 130' INT TERM HUP

BENCH_CMDLINE="bench/run.sh${*:+ $*}" python3 bench/bench.py "$@" &
pid=$!
wait "$pid"
