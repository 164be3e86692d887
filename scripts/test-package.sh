#!/bin/sh
# The Debian package, built and used as an administrator would (SPEC 13):
#   1. debian/changelog's version is configure.ac's;
#   2. dpkg-buildpackage -us -uc -b from a clean copy of the tree (the
#      checkout's tracked and new files, nothing ignored) in a temp dir;
#   3. dpkg-deb -c lists the module, mods-available/oauth2_federated.load
#      and .conf (the same bytes as conf/'s) and the annotated example;
#      lintian finds no error;
#   4. the .deb extracted (dpkg-deb -x) and a private httpd on 127.0.0.1
#      (OA2F_PKG_PORT, 18610) that includes the package's own .load (module
#      path rewritten to the extracted tree, its "# Depends:" modules from
#      /etc/apache2/mods-available as a2enmod would) and .conf, plus a
#      location protected against the loopback oidc-provider: 200 with a
#      minted token, 401 with a fake one;
#   5. only with CI=true or OA2F_PACKAGE_SYSTEM_TEST=1 (root; changes the
#      system): dpkg -i, a2enmod, a protected location in a conf-available
#      snippet + a2enconf, apache2ctl -t, one request to the system
#      apache2 (started and stopped again when it is not running; reloaded
#      with the module, and without it at the end, when it runs; skipped
#      only when something else listens on :80/:443), then a2disconf,
#      a2dismod, apt-get purge, and apache2's configuration as before.
# The loopback servers use OA2F_PKG_PORT+1 .. +4. DEB_BUILD_OPTIONS is
# passed on (nocheck skips the unit tests in the package build).
set -eu
cd "$(dirname "$0")/.."
TOP=$(pwd)
PKG=libapache2-mod-oauth2-federated
PORT=${OA2F_PKG_PORT:-18610}
export OA2F_PROVIDER_PORT=$((PORT + 1)) OA2F_STUB_PORT=$((PORT + 2))
export OA2F_ECHO_PORT=$((PORT + 3)) OA2F_STUB_PROXY_PORT=$((PORT + 4))
export OA2F_PARENT_PID=$$
SYSTEM=
{ [ "${CI:-}" = true ] || [ "${OA2F_PACKAGE_SYSTEM_TEST:-}" = 1 ]; } && SYSTEM=1
SNIPPET=oa2f-package-test
start_s=$(date +%s)

say() { echo "test-package: $*"; }
die() { echo "test-package: FAIL: $*" >&2; exit 1; }

W=$(mktemp -d "${TMPDIR:-/tmp}/oa2f-pkg.XXXXXX")
chmod 755 "$W" # httpd's children (www-data) read the htdocs and module here
HTTPD_CONF=
SYS_CHANGED=
SYS_STARTED=
SYS_RELOADED=
SYS_NEW_DEPS=

httpd_stop() { # $1: conf, $2: pid file
    [ -f "$2" ] || return 0
    pid=$(cat "$2")
    apache2 -f "$1" -k stop >/dev/null 2>&1 || kill "$pid" 2>/dev/null || true
    i=0
    while kill -0 "$pid" 2>/dev/null && [ $i -lt 100 ]; do sleep 0.1; i=$((i + 1)); done
}

sys_undo() {
    [ -n "$SYS_STARTED" ] && { apache2ctl stop >/dev/null 2>&1 || true; SYS_STARTED=; }
    [ -n "$SYS_CHANGED" ] || return 0
    a2disconf -q -p "$SNIPPET" >/dev/null 2>&1 || true
    rm -f "/etc/apache2/conf-available/$SNIPPET.conf"
    a2dismod -q oauth2_federated >/dev/null 2>&1 || true
    for m in $SYS_NEW_DEPS; do a2dismod -q -p "$m" >/dev/null 2>&1 || true; done
    DEBIAN_FRONTEND=noninteractive apt-get purge -y -qq "$PKG" >"$W/purge.log" 2>&1 \
        || { cat "$W/purge.log"; return 1; }
    SYS_CHANGED=
    # a running apache2 was reloaded with the module: reload it again
    # without, so that it runs as it was found
    if [ -n "$SYS_RELOADED" ]; then
        apache2ctl graceful >"$W/sys-reload2.log" 2>&1 || { cat "$W/sys-reload2.log"; return 1; }
        SYS_RELOADED=
    fi
}

cleanup() {
    rc=$?
    trap - EXIT INT TERM
    [ -n "$HTTPD_CONF" ] && httpd_stop "$HTTPD_CONF" "$W/httpd.pid"
    sys_undo || rc=1
    "$TOP/t/servers/stop.sh" "$W/servers" || true
    if [ $rc -ne 0 ] && [ -f "$W/error.log" ]; then
        echo "test-package: last lines of the private httpd's error log:" >&2
        tail -n 20 "$W/error.log" >&2
    fi
    rm -rf "$W"
    exit $rc
}
trap cleanup EXIT
trap 'exit 1' INT TERM

# 1. One version number.
ac=$(sed -n 's/^AC_INIT(\[[^]]*\], *\[\([^]]*\)\].*/\1/p' configure.ac)
deb=$(dpkg-parsechangelog -l debian/changelog -S Version)
[ -n "$ac" ] && [ "$deb" = "$ac" ] \
    || die "debian/changelog is $deb, configure.ac's AC_INIT is $ac"

# 2. Build from a clean copy.
mkdir "$W/src"
if git rev-parse --is-inside-work-tree >/dev/null 2>&1; then
    git ls-files -z -co --exclude-standard | tr '\0' '\n' | while IFS= read -r f; do
        [ -f "$f" ] && [ ! -L "$f" ] && printf '%s\n' "$f"
    done | tar -cf - -T - | tar -xf - -C "$W/src"
else
    die "not a git checkout: build with dpkg-buildpackage -us -uc -b yourself"
fi
say "dpkg-buildpackage -us -uc -b in $W/src${DEB_BUILD_OPTIONS:+ (DEB_BUILD_OPTIONS=$DEB_BUILD_OPTIONS)}"
(cd "$W/src" && dpkg-buildpackage -us -uc -b -jauto) >"$W/build.log" 2>&1 \
    || { tail -n 40 "$W/build.log"; die "dpkg-buildpackage failed"; }
arch=$(dpkg --print-architecture)
DEB="$W/${PKG}_${ac}_${arch}.deb"
CHANGES="$W/${PKG}_${ac}_${arch}.changes"
[ -f "$DEB" ] && [ -f "$CHANGES" ] || die "no $DEB or $CHANGES"

# 3. Contents and lintian.
dpkg-deb -c "$DEB" >"$W/contents"
for f in ./usr/lib/apache2/modules/mod_oauth2_federated.so \
         ./etc/apache2/mods-available/oauth2_federated.load \
         ./etc/apache2/mods-available/oauth2_federated.conf \
         ./usr/share/doc/$PKG/examples/oauth2_federated-annotated.conf \
         ./usr/share/doc/$PKG/copyright; do
    grep -q " $f\$" "$W/contents" || { cat "$W/contents"; die "$f is not in the package"; }
done
dpkg-deb -f "$DEB" Depends | grep -q 'apache2-api-[0-9]' \
    || die "Depends lacks the module API: $(dpkg-deb -f "$DEB" Depends)"
say "package contents as expected ($(grep -c '^-' "$W/contents") files), Depends: $(dpkg-deb -f "$DEB" Depends)"
if command -v lintian >/dev/null 2>&1; then
    lintian --fail-on error "$CHANGES" >"$W/lintian.log" 2>&1 \
        || { cat "$W/lintian.log"; die "lintian reports errors"; }
    grep -v 'running with root privileges' "$W/lintian.log" || true
    say "lintian: no errors ($(grep -c '^W:' "$W/lintian.log" || true) warnings)"
else
    die "lintian missing (apt-get install lintian)"
fi

# 4. The extracted package in a private httpd.
X="$W/root"
dpkg-deb -x "$DEB" "$X"
so="$X/usr/lib/apache2/modules/mod_oauth2_federated.so"
load="$X/etc/apache2/mods-available/oauth2_federated.load"
conf="$X/etc/apache2/mods-available/oauth2_federated.conf"
# one source: the package's .load, .conf and example are conf/'s
for pair in "$load:conf/oauth2_federated.load" "$conf:conf/oauth2_federated.conf" \
            "$X/usr/share/doc/$PKG/examples/oauth2_federated-annotated.conf:conf/examples/oauth2_federated-annotated.conf"; do
    cmp -s "${pair%%:*}" "$TOP/${pair#*:}" || die "${pair%%:*} differs from ${pair#*:}"
done
# the .conf holds no location, no proxy and no relative LoadModule
if grep -v '^[[:space:]]*#' "$conf" | grep -Eiq '<Location|ProxyPass|LoadModule'; then
    die "$conf sets more than server-wide directives"
fi
grep -q "^LoadModule oauth2_federated_module /usr/lib/apache2/modules/mod_oauth2_federated.so$" "$load" \
    || die "unexpected $load: $(cat "$load")"
deps=$(sed -n 's/^# Depends:[[:space:]]*//p' "$load")
{
    for m in $deps; do
        [ -f "/etc/apache2/mods-available/$m.load" ] || die "$m.load (a Depends of the .load) missing"
        cat "/etc/apache2/mods-available/$m.load"
    done
    sed "s|/usr/lib/apache2/modules/mod_oauth2_federated.so|$so|" "$load"
} >"$W/modules.load"
mkdir -p "$W/htdocs/api" "$W/run" "$W/servers"
echo "package ok" >"$W/htdocs/api/ok.txt"
chmod -R a+rX "$W/htdocs" "$X"

"$TOP/t/servers/start.sh" "$W/servers" >/dev/null
token=$("$TOP/t/servers/mint-token.sh" app-read app-read-secret read)

protect() { # the directives of a protected scope
    cat <<EOF
    AuthType oauth2-federated
    AuthName "package-test"
    OAuth2FederatedEndpoint http://127.0.0.1:$OA2F_PROVIDER_PORT/token/introspection
    OAuth2FederatedClientID rs-other
    OAuth2FederatedClientSecret rs-other-secret
    Require oauth2-scope read
EOF
}

HTTPD_CONF="$W/httpd.conf"
cat >"$HTTPD_CONF" <<EOF
ServerRoot "$W"
DefaultRuntimeDir "$W/run"
PidFile "$W/httpd.pid"
ErrorLog "$W/error.log"
LogLevel notice
Listen 127.0.0.1:$PORT
ServerName 127.0.0.1
User www-data
Group www-data
LoadModule mpm_event_module /usr/lib/apache2/modules/mod_mpm_event.so
LoadModule authn_core_module /usr/lib/apache2/modules/mod_authn_core.so
LoadModule authz_core_module /usr/lib/apache2/modules/mod_authz_core.so
Include "$W/modules.load"
Include "$conf"
DocumentRoot "$W/htdocs"
<Directory "$W/htdocs">
    Require all granted
</Directory>
<Location /api>
$(protect)
</Location>
EOF
apache2 -f "$HTTPD_CONF" -t >"$W/configtest.log" 2>&1 \
    || { cat "$W/configtest.log"; die "the private httpd's configuration test failed"; }
apache2 -f "$HTTPD_CONF" -k start
i=0
until curl -s -o /dev/null --max-time 2 "http://127.0.0.1:$PORT/"; do
    i=$((i + 1)); [ $i -lt 50 ] || die "the private httpd did not come up on :$PORT"; sleep 0.2
done

check() { # $1 expected status, $2 URL, $3 token
    got=$(curl -s -o /dev/null -w '%{http_code}' --max-time 10 -H "Authorization: Bearer $3" "$2")
    [ "$got" = "$1" ] || die "$2 with ${4:-a token}: $got, expected $1"
}
check 200 "http://127.0.0.1:$PORT/api/ok.txt" "$token" "a valid token"
check 401 "http://127.0.0.1:$PORT/api/ok.txt" "fake-token-0123456789" "a fake token"
grep -q 'OA2F10012' "$W/error.log" || die "no start-up notice (OA2F10012) of the packaged module"
httpd_stop "$HTTPD_CONF" "$W/httpd.pid"
HTTPD_CONF=
say "the extracted package in a private httpd on :$PORT (with its .load, Depends: ${deps:-none}, and .conf): 200 with a token, 401 with a fake one"

# 5. The system cycle.
if [ -z "$SYSTEM" ]; then
    say "skipped the system cycle (dpkg -i, a2enmod, a2enconf, apache2ctl -t, a2dismod, purge): it changes /etc/apache2; run it with OA2F_PACKAGE_SYSTEM_TEST=1 $0 (as root; CI=true runs it)"
    say "done in $(($(date +%s) - start_s)) s"
    exit 0
fi
[ "$(id -u)" = 0 ] || die "the system cycle needs root"
if dpkg-query -W -f='${Status}' "$PKG" 2>/dev/null | grep -q 'ok installed'; then
    die "$PKG is already installed here; the system cycle would remove it"
fi
apache2ctl -t >"$W/sys-t0.log" 2>&1 || { cat "$W/sys-t0.log"; die "apache2ctl -t fails before the package is installed"; }
ls /etc/apache2/mods-enabled | sort >"$W/mods.before"
ls /etc/apache2/conf-enabled | sort >"$W/confs.before"
find /var/lib/apache2 -type f | sort >"$W/state.before" # a2enmod's records
SYS_NEW_DEPS=
for m in $deps; do
    [ -e "/etc/apache2/mods-enabled/$m.load" ] || SYS_NEW_DEPS="$SYS_NEW_DEPS $m"
done
SYS_CHANGED=1
dpkg -i "$DEB" >"$W/dpkg.log" 2>&1 || { cat "$W/dpkg.log"; die "dpkg -i failed"; }
a2enmod -q oauth2_federated
mkdir -p "$W/sys-htdocs"
echo "system ok" >"$W/sys-htdocs/ok.txt"
chmod -R a+rX "$W/sys-htdocs"
cat >"/etc/apache2/conf-available/$SNIPPET.conf" <<EOF
# written by scripts/test-package.sh, removed again at its end
Alias /$SNIPPET "$W/sys-htdocs"
<Directory "$W/sys-htdocs">
$(protect)
</Directory>
EOF
a2enconf -q "$SNIPPET"
apache2ctl -t >"$W/sys-t1.log" 2>&1 || { cat "$W/sys-t1.log"; die "apache2ctl -t fails with the module enabled"; }
say "system: dpkg -i, a2enmod oauth2_federated (enabled: $(ls /etc/apache2/mods-enabled | grep -E "^(oauth2_federated|$(echo $deps | tr ' ' '|'))\\.load" | tr '\n' ' ')), a2enconf $SNIPPET, apache2ctl -t: Syntax OK"

listening() { ss -Hltn 2>/dev/null | awk '{print $4}' | grep -Eq '[:.](80|443)$'; }
running() {
    # envvars reads unset variables: not under set -u
    pf=$(set +u; . /etc/apache2/envvars >/dev/null 2>&1; echo "${APACHE_PID_FILE:-/var/run/apache2/apache2.pid}")
    [ -f "$pf" ] && kill -0 "$(cat "$pf")" 2>/dev/null
}
if running && listening; then
    # the system apache2 is up (a fresh Debian install starts it): reload
    # it with the module, ask it, and reload it without at the end
    SYS_RELOADED=1
    apache2ctl graceful >"$W/sys-reload.log" 2>&1 || { cat "$W/sys-reload.log"; die "apache2ctl graceful failed"; }
    i=0
    until [ "$(curl -s -o /dev/null -w '%{http_code}' --max-time 2 -H "Authorization: Bearer $token" "http://127.0.0.1/$SNIPPET/ok.txt")" = 200 ]; do
        i=$((i + 1)); [ $i -lt 50 ] || break; sleep 0.2
    done
    check 200 "http://127.0.0.1/$SNIPPET/ok.txt" "$token" "a valid token (system apache2, reloaded)"
    check 401 "http://127.0.0.1/$SNIPPET/ok.txt" "fake-token-0123456789" "a fake token (system apache2, reloaded)"
    say "system: the running apache2 reloaded with the module: 200 with a token, 401 with a fake one (reloaded without it at the end)"
elif listening; then
    say "system: skipped the request: something other than apache2 listens on :80/:443"
else
    SYS_STARTED=1
    apache2ctl start >"$W/sys-start.log" 2>&1 || { cat "$W/sys-start.log"; die "apache2ctl start failed"; }
    i=0
    until curl -s -o /dev/null --max-time 2 "http://127.0.0.1/"; do
        i=$((i + 1)); [ $i -lt 50 ] || die "the system apache2 did not come up on :80"; sleep 0.2
    done
    check 200 "http://127.0.0.1/$SNIPPET/ok.txt" "$token" "a valid token (system apache2)"
    check 401 "http://127.0.0.1/$SNIPPET/ok.txt" "fake-token-0123456789" "a fake token (system apache2)"
    apache2ctl stop >/dev/null 2>&1
    i=0
    while running && [ $i -lt 100 ]; do sleep 0.1; i=$((i + 1)); done
    running && die "the system apache2 did not stop"
    SYS_STARTED=
    say "system: apache2 started with its own configuration: 200 with a token, 401 with a fake one; stopped again"
fi

sys_undo || die "undoing the system changes failed"
apache2ctl -t >"$W/sys-t2.log" 2>&1 || { cat "$W/sys-t2.log"; die "apache2ctl -t fails after the purge"; }
ls /etc/apache2/mods-enabled | sort >"$W/mods.after"
ls /etc/apache2/conf-enabled | sort >"$W/confs.after"
find /var/lib/apache2 -type f | sort >"$W/state.after"
cmp -s "$W/mods.before" "$W/mods.after" || { diff "$W/mods.before" "$W/mods.after"; die "mods-enabled differs after the purge"; }
cmp -s "$W/confs.before" "$W/confs.after" || { diff "$W/confs.before" "$W/confs.after"; die "conf-enabled differs after the purge"; }
cmp -s "$W/state.before" "$W/state.after" || { diff "$W/state.before" "$W/state.after"; die "a2enmod's state in /var/lib/apache2 differs after the purge"; }
for f in /usr/lib/apache2/modules/mod_oauth2_federated.so \
         /etc/apache2/mods-available/oauth2_federated.load \
         /etc/apache2/mods-available/oauth2_federated.conf \
         "/etc/apache2/conf-available/$SNIPPET.conf"; do
    [ ! -e "$f" ] || die "$f is still there after the purge"
done
say "system: a2disconf, a2dismod, apt-get purge: apache2ctl -t passes, mods-enabled, conf-enabled and /var/lib/apache2 as before, module and files gone"
say "done in $(($(date +%s) - start_s)) s"
