#!/bin/sh
# The whole test suite, as CI runs it (.ci/run): installs what is missing,
# builds, then runs
#   1. the log-tag lints (check-logno.sh; check-readme-logs.sh: README's
#      log table against the sources), the format lint, the
#      configuration examples of README and conf/ through apache2 -t, the
#      C unit tests (also under valgrind), the release tarball (scripts/test-dist.sh: make dist,
#      make check from it, make distcheck, the system's module directory
#      untouched); on Debian the package (scripts/test-package.sh: build,
#      lintian, a private httpd; the system install cycle with CI=true),
#   2. the Apache::Test end-to-end suite with mpm_event and mpm_prefork,
#   3. the same suite against an ASan+UBSan build of the module,
#   4. every libFuzzer target for a bounded time,
#   5. a bounded soak with provider faults and graceful restarts.
# OA2F_QUICK=1 runs steps 1 and 2 (event) only.
set -eu
cd "$(dirname "$0")/.."
FUZZ_SECONDS=${OA2F_FUZZ_SECONDS:-30}
SOAK_SECONDS=${OA2F_SOAK_SECONDS:-120}
summary=""
note() { summary="$summary
$1"; echo "== $1"; }

scripts/install-deps.sh test
scripts/build.sh
scripts/check-logno.sh
scripts/check-readme-logs.sh
scripts/check-format.sh
note "configuration examples (scripts/test-readme-example.sh)"
scripts/test-readme-example.sh

note "unit tests"
make -s check || { cat t/unit/test_core.log 2>/dev/null; exit 1; }
grep -E '^# [0-9]+ tests' t/unit/test_core.log || true
note "unit tests under valgrind"
CK_FORK=no valgrind -q --leak-check=full --errors-for-leak-kinds=definite \
    --error-exitcode=1 t/unit/test_core >/dev/null

note "release tarball (scripts/test-dist.sh: make dist, build and check from it, make distcheck)"
scripts/test-dist.sh

if [ -f /etc/debian_version ]; then
    note "Debian package (scripts/test-package.sh)"
    # the unit tests ran just above: the package build skips them
    DEB_BUILD_OPTIONS="nocheck ${DEB_BUILD_OPTIONS:-}" scripts/test-package.sh
fi

note "end-to-end (mpm_event)"
OA2F_MPM=event t/run-e2e.sh
[ "${OA2F_QUICK:-}" = 1 ] && { echo "quick run done"; exit 0; }

note "end-to-end (mpm_prefork)"
OA2F_MPM=prefork t/run-e2e.sh

note "end-to-end against the ASan+UBSan build"
asan_so=$(scripts/build-asan.sh)
d=$(dirname "$asan_so")
while [ "$d" != / ]; do chmod a+rx "$d" 2>/dev/null || true; d=$(dirname "$d"); done
OA2F_MODULE="$asan_so" t/run-e2e.sh -httpd "$(pwd)/t/asan-httpd.sh"

if [ -x scripts/fuzz.sh ]; then
    note "fuzzing, ${FUZZ_SECONDS}s per target"
    scripts/fuzz.sh "$FUZZ_SECONDS"
fi

if [ -x t/soak/run.sh ]; then
    note "soak with faults, ${SOAK_SECONDS}s"
    SOAK_MPM=event t/soak/run.sh "$SOAK_SECONDS"
fi

echo "== all steps passed:$summary"
