#!/bin/sh
# Install what building and testing mod_oauth2_federated needs, on Debian
# (bookworm or later), as root. Installs only what is missing.
set -eu

PKGS="apache2 apache2-dev libcurl4-openssl-dev libjson-c-dev libssl-dev
      pkg-config autoconf automake libtool make gcc check
      libapache2-mod-perl2 libwww-perl libjson-pp-perl curl
      redis-server memcached valgrind clang-format
      debhelper dpkg-dev fakeroot lintian iproute2 prometheus"
[ -n "${OA2F_EXTRA_PKGS:-}" ] && PKGS="$PKGS $OA2F_EXTRA_PKGS"
command -v node >/dev/null 2>&1 || PKGS="$PKGS nodejs"
command -v npm >/dev/null 2>&1 || PKGS="$PKGS npm"

missing=""
for p in $PKGS; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" \
        || missing="$missing $p"
done
if [ -n "$missing" ]; then
    if [ "$(id -u)" != 0 ]; then
        echo "install-deps: missing packages:$missing (run as root)" >&2
        exit 1
    fi
    echo "install-deps: installing$missing"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    # shellcheck disable=SC2086
    apt-get install -y -qq --no-install-recommends $missing >/dev/null
fi
# The distribution's own services are not used by the tests or the demo.
for svc in apache2 redis-server memcached; do
    if command -v systemctl >/dev/null 2>&1; then
        systemctl stop "$svc" >/dev/null 2>&1 || true
    fi
    service "$svc" stop >/dev/null 2>&1 || true
done

# The loopback authorization server and stubs (npm registry).
here=$(cd "$(dirname "$0")/.." && pwd)
if [ ! -d "$here/t/servers/node_modules/oidc-provider" ] \
   || [ ! -d "$here/t/servers/node_modules/@modelcontextprotocol/sdk" ]; then
    (cd "$here/t/servers" && npm ci --no-audit --no-fund --loglevel=error)
fi
