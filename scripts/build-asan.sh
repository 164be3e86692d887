#!/bin/sh
# Build the module with AddressSanitizer + UndefinedBehaviorSanitizer in
# build-asan/ (a copy of the tracked sources, so the main build stays as
# it is). Prints the path of the module.
set -eu
cd "$(dirname "$0")/.."
TOP=$(pwd)
B="$TOP/build-asan"
mkdir -p "$B"
git ls-files -z | (cd "$TOP" && xargs -0 cp --parents -t "$B")
cd "$B"
if [ ! -f Makefile ]; then
    autoreconf -fi >/dev/null 2>&1
    ./configure --enable-sanitizers --enable-werror >/dev/null
fi
make -s mod_oauth2_federated.la >/dev/null
echo "$B/.libs/mod_oauth2_federated.so"
