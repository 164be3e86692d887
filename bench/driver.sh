# Sourced by bench/run.sh and bench/callgrind.sh: what both need before and
# around their Python driver.
#   bench_setup PKGS…      install what is missing (scripts/install-deps.sh
#                          plus PKGS), refuse to go on as a user, build
#                          unless BENCH_SKIP_BUILD=1
#   bench_drive SCRIPT …   run python3 SCRIPT …, and on the way out (end,
#                          Ctrl-C, TERM) stop it and any httpd instance of
#                          the benchmark it left behind
# Expects ROOT (the checkout) and OUT (bench/out).

bench_setup() {
    if [ "$(id -u)" != 0 ]; then
        echo "bench: run as root (packages; httpd instances switch to www-data)" >&2
        exit 1
    fi
    OA2F_EXTRA_PKGS="$* python3 openssl" "$ROOT/scripts/install-deps.sh"
    if [ "${BENCH_SKIP_BUILD:-0}" != 1 ]; then
        echo "bench: building the module (scripts/build.sh)"
        "$ROOT/scripts/build.sh"
    fi
    if grep -q -- '--enable-sanitizers' "$ROOT/config.status" 2>/dev/null; then
        echo "bench: WARNING: the build is configured with --enable-sanitizers;" \
             "figures will not be representative" >&2
    fi
    mkdir -p "$OUT"
}

bench_driver_pid=""

bench_cleanup() {
    trap - EXIT INT TERM HUP
    pid=$bench_driver_pid
    if [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null; then
        kill -TERM "$pid" 2>/dev/null || true
        n=0
        while kill -0 "$pid" 2>/dev/null && [ $n -lt 300 ]; do
            sleep 0.1; n=$((n + 1))
        done
    fi
    # httpd instances, and the fleet scenarios' redis-server / memcached
    # (services/*.pid: their timeout(1) wrapper, whose command line names
    # bench/out), whose driver died without stopping them
    for f in "$OUT"/inst/*/httpd.pid "$OUT"/callgrind/inst/*/httpd.pid "$OUT"/services/*.pid; do
        [ -f "$f" ] || continue
        hp=$(cat "$f" 2>/dev/null || true)
        case "$hp" in ''|*[!0-9]*) continue ;; esac
        if grep -q "$OUT" "/proc/$hp/cmdline" 2>/dev/null; then
            kill -TERM "$hp" 2>/dev/null || true
        fi
    done
}

bench_drive() {
    trap bench_cleanup EXIT
    trap 'bench_cleanup; exit 130' INT TERM HUP
    python3 "$@" &
    bench_driver_pid=$!
    wait "$bench_driver_pid"
}
