#!/bin/sh
# Instructions per cached request, baseline vs mod_oauth2_federated, under
# valgrind --tool=callgrind (httpd -X, one process), and the functions of the
# module's hot path. See bench/README.md.
#   bench/callgrind.sh                 N1=200 and N2=1200 requests per run
#   CG_N1=500 CG_N2=3000 bench/callgrind.sh
# Outputs in bench/out/callgrind/ (summary.md, callgrind.out.*).
set -eu
cd "$(dirname "$0")/.."
ROOT=$(pwd)
OUT="$ROOT/bench/out"

. "$ROOT/bench/driver.sh"
bench_setup valgrind
bench_drive bench/callgrind.py "$@"
