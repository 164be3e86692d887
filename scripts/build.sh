#!/bin/sh
# Configure (once) and build the module and the unit tests.
set -eu
cd "$(dirname "$0")/.."
if [ ! -x configure ] || [ configure.ac -nt configure ]; then
    autoreconf -fi >/dev/null
fi
if [ ! -f Makefile ]; then
    ./configure --enable-werror ${OA2F_CONFIGURE_FLAGS:-} >/dev/null
fi
make -s
