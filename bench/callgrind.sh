#!/bin/sh
# Instructions per cached request, baseline vs mod_oauth2_federated, under
# valgrind --tool=callgrind (httpd -X, one process), and the functions of the
# module's hot path. See bench/README.md.
#   bench/callgrind.sh                 N1=200 and N2=1200 requests per run
#   CG_N1=500 CG_N2=3000 bench/callgrind.sh
# Outputs in bench/out/callgrind/ (summary.md, callgrind.out.*).
set -eu
cd "$(dirname "$0")/.."
OUT="$(pwd)/bench/out"

missing=""
for p in valgrind apache2 openssl python3; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" \
        || missing="$missing $p"
done
command -v node >/dev/null 2>&1 || missing="$missing nodejs"
if [ -n "$missing" ]; then
    echo "callgrind: installing$missing"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    # shellcheck disable=SC2086
    apt-get install -y -qq --no-install-recommends $missing >/dev/null
fi
if [ "${BENCH_SKIP_BUILD:-0}" != 1 ]; then
    scripts/build.sh
fi

mkdir -p "$OUT"
pid=""
cleanup() {
    trap - EXIT INT TERM HUP
    if [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null; then
        kill -TERM "$pid" 2>/dev/null || true
        n=0
        while kill -0 "$pid" 2>/dev/null && [ $n -lt 300 ]; do
            sleep 0.1; n=$((n + 1))
        done
    fi
}
trap cleanup EXIT
trap 'cleanup; exit 130' INT TERM HUP
python3 bench/callgrind.py "$@" &
pid=$!
wait "$pid"
