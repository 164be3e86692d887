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

. "$ROOT/bench/driver.sh"
bench_setup wrk libapache2-mod-auth-openidc libapache2-mod-oauth2
BENCH_CMDLINE="bench/run.sh${*:+ $*}"
export BENCH_CMDLINE
bench_drive bench/bench.py "$@"
