#!/bin/sh
# Install what one command of mod_oauth2_federated needs, on Debian
# (bookworm or later), as root. Installs only what is missing, and never
# starts, stops or reconfigures a service: the demo and the tests run
# private instances (httpd, redis-server, memcached, node servers) on
# loopback ports of their own. README "Installing what is missing".
#
#   scripts/install-deps.sh build     scripts/build.sh, make, make check
#   scripts/install-deps.sh demo      build + scripts/demo.sh
#   scripts/install-deps.sh package   build + scripts/test-package.sh
#   scripts/install-deps.sh test      everything scripts/test.sh runs
#   scripts/install-deps.sh list PROFILE   print the packages, install nothing
#
# No profile: test. OA2F_EXTRA_PKGS adds packages (bench/driver.sh).
set -eu

usage() {
    echo "usage: $0 [build|demo|package|test] | $0 list PROFILE" >&2
    exit 2
}

# One package per line, grouped by the profile that first needs it.
pkgs_build() {
    cat <<'EOF'
apache2-dev
libcurl4-openssl-dev
libjson-c-dev
libssl-dev
pkg-config
autoconf
automake
libtool
make
gcc
check
EOF
}

# httpd and the loopback servers (node): the demo, the package test and
# the end-to-end suite.
pkgs_run() {
    cat <<'EOF'
apache2
curl
EOF
    command -v node >/dev/null 2>&1 || echo nodejs
    command -v npm >/dev/null 2>&1 || echo npm
}

pkgs_package() {
    cat <<'EOF'
debhelper
dpkg-dev
fakeroot
lintian
iproute2
EOF
}

# Apache::Test, the shared caches of the fleet tests, valgrind, the format
# lint, the ASan and fuzz builds (clang) and the soak's load generator.
pkgs_test_only() {
    cat <<'EOF'
libapache2-mod-perl2
libwww-perl
libjson-pp-perl
redis-server
memcached
valgrind
clang-format
clang
libclang-rt-14-dev
wrk
prometheus
EOF
}

profile_pkgs() {
    case $1 in
        build) pkgs_build ;;
        demo) pkgs_build; pkgs_run ;;
        package) pkgs_build; pkgs_run; pkgs_package ;;
        test) pkgs_build; pkgs_run; pkgs_package; pkgs_test_only ;;
        *) usage ;;
    esac
}

if [ "${1:-}" = list ]; then
    [ $# -eq 2 ] || usage
    profile_pkgs "$2"
    exit 0
fi
[ $# -le 1 ] || usage
profile=${1:-test}
PKGS=$(profile_pkgs "$profile")
[ -n "${OA2F_EXTRA_PKGS:-}" ] && PKGS="$PKGS $OA2F_EXTRA_PKGS"

missing=""
for p in $PKGS; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" \
        || missing="$missing $p"
done
if [ -n "$missing" ]; then
    if [ "$(id -u)" != 0 ]; then
        echo "install-deps: missing packages ($profile):$missing (run as root)" >&2
        exit 1
    fi
    echo "install-deps: installing ($profile)$missing"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    # shellcheck disable=SC2086
    apt-get install -y -qq --no-install-recommends $missing >/dev/null
fi

# The loopback authorization server and stubs (npm registry), for every
# profile that runs them.
[ "$profile" = build ] && exit 0
here=$(cd "$(dirname "$0")/.." && pwd)
if [ ! -d "$here/t/servers/node_modules/oidc-provider" ] \
   || [ ! -d "$here/t/servers/node_modules/@modelcontextprotocol/sdk" ]; then
    (cd "$here/t/servers" && npm ci --no-audit --no-fund --loglevel=error)
fi
