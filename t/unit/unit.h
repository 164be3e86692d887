/* Shared declarations of the core's unit tests (Check).
 *
 * Every test gets a fresh APR pool, ut_pool, created by ut_setup() and
 * destroyed by ut_teardown() (checked fixtures, so they run around each
 * test, in the forked child when CK_FORK is on). apr_initialize() runs
 * once, in main.c. */
#ifndef OA2F_UNIT_H
#define OA2F_UNIT_H

#include <check.h>
#include <apr_pools.h>

/* The pool of the running test. */
extern apr_pool_t *ut_pool;

void ut_setup(void);
void ut_teardown(void);

/* A TCase called `name` with the per-test pool fixture and a timeout. */
TCase *ut_tcase(const char *name);

/* Number of elements of a static table. */
#define UT_N(a) ((int)(sizeof(a) / sizeof((a)[0])))

/* One suite per core file. */
Suite *token_suite(void);
Suite *scope_suite(void);
Suite *sanitize_suite(void);
Suite *claims_suite(void);
Suite *dialect_suite(void);
Suite *keyer_suite(void);
Suite *cache_entry_suite(void);
Suite *flight_suite(void);
Suite *stats_suite(void);
Suite *local_cache_suite(void);
Suite *cache_parts_suite(void);
Suite *provider_suite(void);
Suite *bearer_suite(void);
Suite *audience_suite(void);
Suite *metadata_suite(void);
Suite *version_suite(void);
Suite *encoding_suite(void);
Suite *scrub_suite(void);
Suite *remote_suite(void);
Suite *key_memo_suite(void);
Suite *seal_suite(void);
Suite *outcome_suite(void);
Suite *http_suite(void);
Suite *verdict_suite(void);
Suite *revoke_suite(void);
Suite *breaker_suite(void);
Suite *prom_suite(void);
Suite *fleet_lock_suite(void);
Suite *jose_suite(void);
Suite *jwks_suite(void);
Suite *jwt_suite(void);
Suite *signer_suite(void);
Suite *near_suite(void);
Suite *near_table_suite(void);

#endif
