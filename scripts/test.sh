#!/bin/sh
# The whole test suite: installs what is missing, builds, runs the C unit
# tests and the Apache::Test end-to-end suite against a real httpd.
set -eu
cd "$(dirname "$0")/.."
scripts/install-deps.sh
scripts/build.sh
scripts/check-logno.sh
echo "== unit tests"
make -s check || { cat t/unit/test_core.log 2>/dev/null; exit 1; }
cat t/unit/test_core.log 2>/dev/null | tail -5
echo "== end-to-end tests"
t/run-e2e.sh
