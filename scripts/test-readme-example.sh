#!/bin/sh
# The configuration examples work as shipped, on Debian's httpd, with the
# built module (README "mod_oauth2_federated", first example):
#   1. README's first ```apache block, with the modules of the `a2enmod`
#      line before it enabled as a2enmod would (each .load after those of
#      its "# Depends:" line, then its .conf; ours from conf/, the others
#      from /etc/apache2/mods-available), passes `apache2 -t`;
#   2. conf/oauth2_federated.load and .conf alone pass `apache2 -t`;
#   3. conf/examples/oauth2_federated-annotated.conf, Included inside a
#      <VirtualHost> as it says, passes `apache2 -t`.
# Each in a private ServerRoot (a temp dir) that loads what a fresh Debian
# apache2 enables and matters here (mpm_event, authn_core, authz_core,
# authz_host), with the module path of our .load pointed at the build
# (OA2F_MODULE, default .libs/mod_oauth2_federated.so). Changes nothing
# outside the temp dir. Usage: scripts/test-readme-example.sh [README]
set -eu
cd "$(dirname "$0")/.."
TOP=$(pwd)
README=${1:-README.md}
SO=${OA2F_MODULE:-$TOP/.libs/mod_oauth2_federated.so}
MODS=/usr/lib/apache2/modules
AVAIL=/etc/apache2/mods-available
APACHE=$(command -v apache2 || echo /usr/sbin/apache2)

say() { echo "test-readme-example: $*"; }
die() { echo "test-readme-example: FAIL: $*" >&2; exit 1; }

[ -e "$SO" ] || die "$SO missing; build first (scripts/build.sh)"
if [ ! -x "$APACHE" ] || [ ! -d "$AVAIL" ]; then
    say "skipped: needs Debian's apache2 ($APACHE, $AVAIL)"
    exit 0
fi

W=$(mktemp -d "${TMPDIR:-/tmp}/oa2f-readme.XXXXXX")
trap 'rm -rf "$W"' EXIT

# The first ```apache block, and the a2enmod line of a ```sh block before it.
awk -v out="$W/example.conf" -v mods="$W/a2enmod" '
    /^```apache[[:space:]]*$/ && !done { inblk = 1; next }
    /^```sh[[:space:]]*$/ && !done { insh = 1; next }
    /^```/ { if (inblk) done = 1; inblk = 0; insh = 0; next }
    inblk { print > out }
    insh && !done && /^[[:space:]]*a2enmod[[:space:]]/ {
        sub(/#.*/, ""); sub(/^[[:space:]]*a2enmod[[:space:]]+/, "")
        print > mods
    }
' "$README"
[ -s "$W/example.conf" ] || die "no \`\`\`apache block in $README"
touch "$W/a2enmod"

# a2enmod's view: .load and .conf of module M (ours from conf/).
load_of() { if [ -f "conf/$1.load" ]; then echo "$TOP/conf/$1.load"; else echo "$AVAIL/$1.load"; fi; }
conf_of() { if [ -f "conf/$1.conf" ]; then echo "$TOP/conf/$1.conf"; else echo "$AVAIL/$1.conf"; fi; }
ENABLED=" "
a2en() { # $1 module, $2 the file it is written to (recursive: no locals)
    case $ENABLED in *" $1 "*) return 0 ;; esac
    [ -f "$(load_of "$1")" ] || die "module $1: no $(load_of "$1") (a2enmod would fail)"
    for dep in $(sed -n 's/^# Depends:[[:space:]]*//p' "$(load_of "$1")" | tr ',' ' '); do
        a2en "$dep" "$2"
    done
    ENABLED="$ENABLED$1 "
    sed "s|$MODS/mod_oauth2_federated.so|$SO|" "$(load_of "$1")" >>"$2"
    if [ -f "$(conf_of "$1")" ]; then echo "Include \"$(conf_of "$1")\"" >>"$2"; fi
    return 0
}

# $1: name, $2: file with what to add after the base modules
configtest() {
    d="$W/$1"
    mkdir -p "$d/run" "$d/logs"
    cat >"$d/httpd.conf" <<EOF
ServerRoot "$d"
DefaultRuntimeDir "$d/run"
PidFile "$d/run/httpd.pid"
ErrorLog "$d/logs/error.log"
ServerName 127.0.0.1
Listen 127.0.0.1:1
LoadModule mpm_event_module $MODS/mod_mpm_event.so
LoadModule authn_core_module $MODS/mod_authn_core.so
LoadModule authz_core_module $MODS/mod_authz_core.so
LoadModule authz_host_module $MODS/mod_authz_host.so
Include "$2"
EOF
    if ! "$APACHE" -f "$d/httpd.conf" -t >"$d/t.log" 2>&1; then
        echo "--- $2:" >&2; cat "$2" >&2
        echo "--- apache2 -t:" >&2; cat "$d/t.log" >&2
        return 1
    fi
}

# 1. README's first example.
: >"$W/readme.inc"
for m in $(cat "$W/a2enmod"); do a2en "$m" "$W/readme.inc"; done # words
echo "Include \"$W/example.conf\"" >>"$W/readme.inc"
configtest readme "$W/readme.inc" \
    || die "README's first example (after a2enmod$(tr '\n' ' ' <"$W/a2enmod" | sed 's/^/ /')) fails apache2 -t"
say "README's first example: apache2 -t passes (a2enmod:$(tr '\n' ' ' <"$W/a2enmod" | sed 's/^/ /;s/ *$//'); enabled:$ENABLED)"

# 2. The module's own .load and .conf.
ENABLED=" "
: >"$W/module.inc"
a2en oauth2_federated "$W/module.inc"
configtest module "$W/module.inc" || die "conf/oauth2_federated.load + .conf fail apache2 -t"
say "conf/oauth2_federated.load + .conf: apache2 -t passes"

# 3. The annotated example inside a virtual host.
ENABLED=" "
: >"$W/vhost.inc"
a2en oauth2_federated "$W/vhost.inc"
a2en proxy_http "$W/vhost.inc"
cat >>"$W/vhost.inc" <<EOF
<VirtualHost 127.0.0.1:1>
    ServerName api.example.com
    Include "$TOP/conf/examples/oauth2_federated-annotated.conf"
</VirtualHost>
EOF
configtest vhost "$W/vhost.inc" \
    || die "conf/examples/oauth2_federated-annotated.conf in a <VirtualHost> fails apache2 -t"
say "conf/examples/oauth2_federated-annotated.conf in a <VirtualHost>: apache2 -t passes"
