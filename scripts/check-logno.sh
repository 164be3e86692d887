#!/bin/sh
# Lint the log tags (README "Logging"): every ap_log_*error call carries an
# OA2F_LOGNO(n) tag, and no number is used twice.
set -eu
cd "$(dirname "$0")/.."
fail=0
files=$(ls mod_oauth2_federated.c src/mod_oa2f_*.c)
# calls without a tag: look for the tag in each call and its next 3 lines
untagged=$(awk '
    /ap_log_(r|c|p)?error\(/ { buf = FILENAME ":" FNR ": " $0; n = 4 }
    n > 0 { if (index($0, "OA2F_LOGNO(")) { n = 0; buf = ""; next }
            if (--n == 0) print buf }' $files)
if [ -n "$untagged" ]; then
    echo "log calls without OA2F_LOGNO():"; echo "$untagged"; fail=1
fi
# tags as the formatter may lay them out: "OA2F_LOGNO(" and the number
# can be on two lines
tags() { perl -0777 -ne 'print "$1\n" while /OA2F_LOGNO\(\s*([0-9]+)\s*\)/g' $files; }
dups=$(tags | sort | uniq -d)
if [ -n "$dups" ]; then
    echo "log tags used twice: $dups"; fail=1
fi
empty=$(perl -0777 -ne 'print "$ARGV\n" if /OA2F_LOGNO\(\s*\)/' $files || true)
if [ -n "$empty" ]; then
    echo "empty log tags:"; echo "$empty"; fail=1
fi
[ $fail = 0 ] && echo "log tags: $(tags | wc -l) unique, all calls tagged"
exit $fail
