#!/bin/sh
# httpd with the AddressSanitizer runtime preloaded, for the suite run
# against the sanitizer build (scripts/test.sh; t/TEST -httpd this-file).
# Reports go to stderr, which httpd's children send to t/logs/error_log;
# t/run-e2e.sh fails on any.
libasan=$(gcc -print-file-name=libasan.so)
export LD_PRELOAD="$libasan${LD_PRELOAD:+:$LD_PRELOAD}"
# httpd frees its pools at exit, not every malloc: leaks are not errors
# here (the unit tests run under valgrind for that).
export ASAN_OPTIONS="detect_leaks=0:abort_on_error=0:halt_on_error=1:allow_user_segv_handler=1:${ASAN_OPTIONS:-}"
export UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1:${UBSAN_OPTIONS:-}"
exec /usr/sbin/apache2 "$@"
