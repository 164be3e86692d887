#!/bin/sh
# Build and run the libFuzzer targets of the httpd-independent core.
#
#   scripts/fuzz.sh [SECONDS_PER_TARGET] [TARGET...]
#
# SECONDS_PER_TARGET defaults to 30; TARGET is a name such as token_query
# (default: every fuzz/fuzz_*.c target). Each target runs on a copy of its
# seed corpus (fuzz/corpus/NAME -> fuzz/out/corpus/NAME), so the corpus in
# the repository does not grow; fuzz/dict/NAME.dict, when present, is the
# libFuzzer dictionary. Crash, leak and timeout inputs land in
# fuzz/out/artifacts/NAME/, the full log in fuzz/out/logs/NAME.log.
# Exits non-zero when any target crashes, leaks or reports undefined
# behaviour. See fuzz/README.md.
set -eu
cd "$(dirname "$0")/.."

secs=${1:-30}
[ $# -gt 0 ] && shift
case "$secs" in
    ''|*[!0-9]*) echo "usage: scripts/fuzz.sh [SECONDS_PER_TARGET] [TARGET...]" >&2
                 exit 2 ;;
esac

# ---- tools ------------------------------------------------------------
need_pkgs=""
command -v clang >/dev/null 2>&1 || need_pkgs="$need_pkgs clang"
dpkg-query -W -f='${Status}' libclang-rt-14-dev 2>/dev/null \
    | grep -q "install ok installed" || need_pkgs="$need_pkgs libclang-rt-14-dev"
for p in libcurl4-openssl-dev libjson-c-dev libssl-dev libapr1-dev pkg-config; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null \
        | grep -q "install ok installed" || need_pkgs="$need_pkgs $p"
done
if [ -n "$need_pkgs" ]; then
    if [ "$(id -u)" != 0 ]; then
        echo "fuzz: missing packages:$need_pkgs (run as root)" >&2
        exit 1
    fi
    echo "fuzz: installing$need_pkgs"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    # shellcheck disable=SC2086
    apt-get install -y -qq --no-install-recommends $need_pkgs >/dev/null
fi

CC=${CC:-clang}
SAN="-fsanitize=address,undefined -fno-sanitize-recover=undefined"
CFLAGS="-g -O1 -fno-omit-frame-pointer $SAN -Wall -Wno-unused-parameter"
CPPFLAGS="-Isrc -Ifuzz $(apr-1-config --includes --cppflags) \
$(pkg-config --cflags libcurl json-c openssl)"
LIBS="-lapr-1 -lcurl -ljson-c -lssl -lcrypto -lm -lpthread -ldl"
# the version (src/oa2f_version.c) comes from configure's config.h
if [ -f config.h ]; then
    CPPFLAGS="-I. -DHAVE_CONFIG_H $CPPFLAGS"
else
    CPPFLAGS="-DPACKAGE_VERSION=\"unconfigured\" $CPPFLAGS"
fi

out=fuzz/out
mkdir -p "$out/obj" "$out/logs" "$out/corpus" "$out/artifacts"

# ---- targets ----------------------------------------------------------
if [ $# -gt 0 ]; then
    targets="$*"
else
    targets=$(for f in fuzz/fuzz_*.c; do
                  n=${f#fuzz/fuzz_}; n=${n%.c}
                  [ "$n" = common ] || echo "$n"
              done)
fi
for t in $targets; do
    [ -f "fuzz/fuzz_$t.c" ] || { echo "fuzz: no target fuzz/fuzz_$t.c" >&2; exit 2; }
done

# ---- build ------------------------------------------------------------
# The core and the harness once (instrumented, not linked with libFuzzer's
# main), then one binary per target.
echo "fuzz: building with $($CC --version | head -1)"
objs=""
for src in src/oa2f_*.c fuzz/fuzz_common.c; do
    o="$out/obj/$(basename "$src" .c).o"
    # shellcheck disable=SC2086
    $CC $CFLAGS -fsanitize=fuzzer-no-link $CPPFLAGS -c "$src" -o "$o"
    objs="$objs $o"
done
for t in $targets; do
    # shellcheck disable=SC2086
    $CC $CFLAGS -fsanitize=fuzzer $CPPFLAGS "fuzz/fuzz_$t.c" $objs $LIBS \
        -o "$out/fuzz_$t"
done

# ---- run --------------------------------------------------------------
export ASAN_OPTIONS="${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=1:symbolize=1}"
export UBSAN_OPTIONS="${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}"
passed=0
failed=0
failed_names=""
for t in $targets; do
    corpus="$out/corpus/$t"
    arts="$out/artifacts/$t"
    log="$out/logs/$t.log"
    rm -rf "$corpus" "$arts"
    mkdir -p "$corpus" "$arts"
    if [ -d "fuzz/corpus/$t" ]; then
        cp -R "fuzz/corpus/$t/." "$corpus/"
    fi
    dict=""
    [ -f "fuzz/dict/$t.dict" ] && dict="-dict=fuzz/dict/$t.dict"
    set +e
    # shellcheck disable=SC2086
    "$out/fuzz_$t" -max_total_time="$secs" -max_len=65536 \
        -rss_limit_mb=1024 -detect_leaks=1 -timeout="${FUZZ_TIMEOUT:-10}" \
        -print_final_stats=1 -artifact_prefix="$arts/" $dict \
        "$corpus" >"$log" 2>&1
    rc=$?
    set -e
    execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)
    [ -n "$execs" ] || execs=$(sed -n 's/^Done \([0-9]*\) runs.*/\1/p' "$log" | tail -1)
    [ -n "$execs" ] || execs="?"
    ncorp=$(find "$corpus" -type f | wc -l)
    reports=$(grep -E -c 'ERROR: (AddressSanitizer|LeakSanitizer|libFuzzer)|runtime error:|SUMMARY: (Address|Leak|Undefined)|invariant violated' "$log" || true)
    found=$(find "$arts" -type f | wc -l)
    if [ "$rc" -eq 0 ] && [ "$reports" -eq 0 ] && [ "$found" -eq 0 ]; then
        passed=$((passed + 1))
        printf 'fuzz: %-12s ok    %10s execs in %ss, corpus %s\n' \
            "$t" "$execs" "$secs" "$ncorp"
    else
        failed=$((failed + 1))
        failed_names="$failed_names $t"
        printf 'fuzz: %-12s FAIL  %10s execs (exit %s, %s report lines, %s artifacts)\n' \
            "$t" "$execs" "$rc" "$reports" "$found"
        grep -E -m 5 'ERROR:|runtime error:|SUMMARY:|invariant violated|\*\*\* ' "$log" | sed 's/^/    /' || true
        for a in "$arts"/*; do
            [ -f "$a" ] || continue
            echo "    input: $a"
            echo "    base64: $(base64 -w0 "$a" | cut -c1-600)"
            echo "    reproduce: $out/fuzz_$t $a"
        done
        echo "    log: $log"
    fi
done
[ -n "$failed_names" ] && echo "fuzz: failed:$failed_names"
echo "fuzz: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
