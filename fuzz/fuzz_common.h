/* Shared harness for the libFuzzer targets of the httpd-independent core.
 *
 * Every target links fuzz_common.c, which provides LLVMFuzzerInitialize
 * (apr_initialize once) and the per-input pool helpers below. While an
 * input runs, allocations from its pool are served by malloc so that
 * AddressSanitizer sees the exact size of every apr_palloc() block (APR's
 * own allocator carves 8 KiB nodes, in which an overflow is invisible);
 * set FUZZ_REAL_POOLS=1 in the environment to use APR's allocator. */
#ifndef OA2F_FUZZ_COMMON_H
#define OA2F_FUZZ_COMMON_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <apr_pools.h>

#include "oa2f_claims.h"

/* A fresh pool for one input, and its end (pool destroyed, its malloc'd
 * blocks freed). */
apr_pool_t *fz_pool_begin(void);
void fz_pool_end(apr_pool_t *p);

/* A malloc'd NUL-terminated copy of data[0..size) (exact size, so ASan
 * catches a read past the terminator); free with free(). */
char *fz_cstr(const uint8_t *data, size_t size);

/* A malloc'd copy of exactly size bytes (at least 1 byte allocated). */
unsigned char *fz_copy(const uint8_t *data, size_t size);

/* Decoded claims show a backend exactly what oa2f_claims_prepare derives
 * from their names and values (checked with the allocating functions of
 * oa2f_sanitize.h, not the decoder's own checks): shown values are the
 * values cleaned, env suffixes and token flags come from the names, and
 * the raw answer (the same as shown_raw) has no control byte. Aborts
 * otherwise. */
void fz_check_prepared(apr_pool_t *p, const oa2f_claims_t *c);

/* Invariant check: a violation prints the message and aborts, which
 * libFuzzer reports as a crash with the input saved. */
#define FZ_ASSERT(cond, ...)                                              \
    do {                                                                  \
        if (!(cond)) {                                                    \
            fprintf(stderr, "\n*** invariant violated at %s:%d: %s\n*** ", \
                    __FILE__, __LINE__, #cond);                           \
            fprintf(stderr, __VA_ARGS__);                                 \
            fprintf(stderr, "\n");                                        \
            abort();                                                      \
        }                                                                 \
    } while (0)

#endif
