#!/bin/sh
# The release tarball (README "Tests"):
#   1. `make dist` in this tree: exit 0 and no tar/cp complaint on stderr;
#      the tarball holds every file git tracks (except .gitignore and
#      m4/.keep) and, besides, only what autoreconf generates: no
#      node_modules, .deps, .libs, objects, logs;
#   2. extracted in a temp dir: ./configure, make, make check from scratch;
#   3. `make distcheck` there (its install and uninstall go under its own
#      prefix, configure --with-apache-moduledir), and the tarball it makes
#      lists the same files;
#   4. the system's module directory (/usr/lib/apache2/modules, or
#      OA2F_SYSTEM_MODULES) byte for byte as before: listing, modes, sizes
#      and sha256 of every file.
# Needs a configured tree (scripts/build.sh runs configure once). Leaves
# nothing behind but the temp dir's removal; the tarball of step 1 is
# moved out of the tree.
set -eu
cd "$(dirname "$0")/.."
MODS=${OA2F_SYSTEM_MODULES:-/usr/lib/apache2/modules}
J=-j$(nproc 2>/dev/null || echo 2)
start_s=$(date +%s)

say() { echo "test-dist: $*"; }
die() { echo "test-dist: FAIL: $*" >&2; exit 1; }

W=$(mktemp -d "${TMPDIR:-/tmp}/oa2f-dist.XXXXXX")
cleanup() {
    rc=$?
    trap - EXIT INT TERM
    chmod -R u+w "$W" 2>/dev/null || true # distcheck leaves read-only dirs
    rm -rf "$W"
    exit $rc
}
trap cleanup EXIT
trap 'exit 1' INT TERM

snapshot() {
    [ -d "$MODS" ] || { echo "no $MODS"; return 0; }
    (cd "$MODS" && find . -printf '%y %m %s %p -> %l\n' | LC_ALL=C sort \
        && find . -type f -exec sha256sum {} + | LC_ALL=C sort -k2)
}
snapshot >"$W/modules.before"

listing() { # the files of a tarball, without the top directory
    tar -tzf "$1" | sed 's|^[^/]*/||' | grep -v -e '^$' -e '/$' | LC_ALL=C sort
}

# 1. make dist
[ -f Makefile ] || scripts/build.sh
ver=$(sed -n 's/^AC_INIT(\[[^]]*\], *\[\([^]]*\)\].*/\1/p' configure.ac)
name=mod_oauth2_federated-$ver
rm -f "$name.tar.gz"
if ! make dist >"$W/dist.log" 2>"$W/dist.err"; then
    cat "$W/dist.err" >&2; die "make dist failed"
fi
if grep -E '^(tar|cp|mkdir|find):|file name is too long|Cannot|No such file' "$W/dist.err" >"$W/dist.bad"; then
    head -n 20 "$W/dist.bad" >&2; die "make dist exited 0 but tar/cp complained ($(wc -l <"$W/dist.bad") lines)"
fi
mv "$name.tar.gz" "$W/"
TARBALL="$W/$name.tar.gz"
listing "$TARBALL" >"$W/tar.lst"

bad=$(grep -E '(^|/)(node_modules|\.deps|\.libs|autom4te\.cache)(/|$)|\.(o|lo|la|so|trs|log)$|(^|/)\.dirstamp$|^t/logs/' "$W/tar.lst" || true)
[ -z "$bad" ] || die "the tarball holds build or test leftovers: $(echo "$bad" | head -n 5 | tr '\n' ' ')"
for f in src/LOGNO fuzz/README.md fuzz/fuzz_common.c debian/control debian/rules \
         conf/oauth2_federated.load conf/oauth2_federated.conf \
         conf/examples/oauth2_federated-annotated.conf scripts/test-dist.sh \
         t/TEST.PL t/lib/OA2FTest.pm t/servers/package.json configure Makefile.in; do
    grep -qxF "$f" "$W/tar.lst" || die "$f is not in the tarball"
done
if git rev-parse --is-inside-work-tree >/dev/null 2>&1; then
    git ls-files | grep -v -x -e .gitignore -e m4/.keep | LC_ALL=C sort >"$W/git.lst"
    missing=$(LC_ALL=C comm -13 "$W/tar.lst" "$W/git.lst")
    [ -z "$missing" ] || die "tracked but not in the tarball: $(echo "$missing" | head -n 10 | tr '\n' ' ')"
    extra=$(LC_ALL=C comm -23 "$W/tar.lst" "$W/git.lst" \
        | grep -v -x -E 'configure|Makefile\.in|aclocal\.m4|config\.h\.in|build-aux/[^/]+|m4/[^/]+\.m4' || true)
    [ -z "$extra" ] || die "in the tarball, neither tracked nor generated: $(echo "$extra" | head -n 10 | tr '\n' ' ')"
fi
say "make dist: $name.tar.gz, $(wc -l <"$W/tar.lst") files (every tracked file, autotools output, no leftovers)"

# 2. From scratch: configure, make, make check.
tar -xzf "$TARBALL" -C "$W"
S="$W/$name"
(cd "$S" && ./configure --enable-werror) >"$W/configure.log" 2>&1 \
    || { tail -n 30 "$W/configure.log"; die "configure in the extracted tarball failed"; }
(cd "$S" && make "$J") >"$W/make.log" 2>&1 \
    || { tail -n 30 "$W/make.log"; die "make in the extracted tarball failed"; }
(cd "$S" && make "$J" check) >"$W/check.log" 2>&1 \
    || { tail -n 30 "$W/check.log"; tail -n 30 "$S/t/unit/test_core.log" 2>/dev/null; die "make check in the extracted tarball failed"; }
[ -f "$S/.libs/mod_oauth2_federated.so" ] || die "no module built from the tarball"
say "from the tarball: configure, make, make check passed ($(grep -E '^# PASS:' "$W/check.log" | head -n 1 | tr -s ' '))"

# 3. make distcheck, never into the system (the flags are checked first).
grep -q "^AM_DISTCHECK_CONFIGURE_FLAGS = .*--with-apache-moduledir=" "$S/Makefile" \
    || die "the tarball's Makefile has no --with-apache-moduledir for distcheck: it would install into $MODS"
(cd "$S" && make "$J" distcheck) >"$W/distcheck.log" 2>&1 \
    || { tail -n 40 "$W/distcheck.log"; die "make distcheck failed"; }
grep -q 'archives ready for distribution' "$W/distcheck.log" || die "make distcheck did not say it passed"
grep -E "apxs -i .*LIBEXECDIR=" "$W/distcheck.log" | grep -v -F "$S/$name/_inst/lib/apache2/modules\"" >"$W/installs.bad" || true
[ ! -s "$W/installs.bad" ] || { cat "$W/installs.bad" >&2; die "distcheck ran apxs -i outside its tree"; }
listing "$S/$name.tar.gz" >"$W/tar2.lst"
cmp -s "$W/tar.lst" "$W/tar2.lst" \
    || { diff "$W/tar.lst" "$W/tar2.lst" | head -n 20; die "the tarball of make distcheck lists other files"; }
say "make distcheck passed (installed and uninstalled under its own prefix); its tarball lists the same files"

# 4. The system's module directory.
snapshot >"$W/modules.after"
cmp -s "$W/modules.before" "$W/modules.after" \
    || { diff "$W/modules.before" "$W/modules.after" | head -n 20; die "$MODS changed"; }
say "$MODS unchanged ($(grep -c '^f ' "$W/modules.before") files, sha256 and modes compared)"
say "done in $(($(date +%s) - start_s)) s"
