#!/bin/sh
# Stop the servers started by start.sh DIR (by their pid files).
[ $# -eq 1 ] || { echo "usage: $0 DIR" >&2; exit 2; }
for name in provider stub echo; do
    f="$1/$name.pid"
    [ -f "$f" ] || continue
    pid=$(cat "$f")
    # only if that pid is still our node process (pids get reused)
    if [ -n "$pid" ] && tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null | grep -q "$name\.js" \
       && kill "$pid" 2>/dev/null; then
        i=0
        while kill -0 "$pid" 2>/dev/null && [ $i -lt 50 ]; do sleep 0.1; i=$((i + 1)); done
        kill -9 "$pid" 2>/dev/null || true
    fi
    rm -f "$f"
done
exit 0
