/* Unit tests of the httpd-independent core (liboa2f), with Check.
 *
 * Prints TAP on stdout (as mod_md's test/unit/main.c does) and a one-line
 * summary; exits non-zero when a test fails. CK_FORK=no runs every test
 * in this process, which is what valgrind wants. */
#include <stdio.h>
#include <stdlib.h>
#include <apr_general.h>

#include "unit.h"

apr_pool_t *ut_pool = NULL;

void ut_setup(void)
{
    ck_assert_int_eq(apr_pool_create(&ut_pool, NULL), APR_SUCCESS);
}

void ut_teardown(void)
{
    if (ut_pool) {
        apr_pool_destroy(ut_pool);
        ut_pool = NULL;
    }
}

TCase *ut_tcase(const char *name)
{
    TCase *tc = tcase_create(name);

    tcase_add_checked_fixture(tc, ut_setup, ut_teardown);
    tcase_set_timeout(tc, 30);
    return tc;
}

int main(int argc, char **argv)
{
    SRunner *sr;
    int run, failed;

    (void)argc;
    (void)argv;
    if (apr_initialize() != APR_SUCCESS) {
        fprintf(stderr, "apr_initialize failed\n");
        return EXIT_FAILURE;
    }

    sr = srunner_create(token_suite());
    srunner_add_suite(sr, scope_suite());
    srunner_add_suite(sr, sanitize_suite());
    srunner_add_suite(sr, claims_suite());
    srunner_add_suite(sr, dialect_suite());
    srunner_add_suite(sr, keyer_suite());
    srunner_add_suite(sr, cache_entry_suite());
    srunner_add_suite(sr, flight_suite());
    srunner_add_suite(sr, stats_suite());
    srunner_add_suite(sr, local_cache_suite());
    srunner_add_suite(sr, cache_parts_suite());
    srunner_add_suite(sr, provider_suite());
    srunner_add_suite(sr, bearer_suite());
    srunner_add_suite(sr, audience_suite());
    srunner_add_suite(sr, metadata_suite());
    srunner_add_suite(sr, version_suite());
    srunner_add_suite(sr, encoding_suite());
    srunner_add_suite(sr, scrub_suite());
    srunner_add_suite(sr, remote_suite());
    srunner_add_suite(sr, key_memo_suite());
    srunner_add_suite(sr, seal_suite());
    srunner_add_suite(sr, outcome_suite());
    srunner_add_suite(sr, http_suite());
    srunner_add_suite(sr, verdict_suite());
    srunner_add_suite(sr, revoke_suite());
    srunner_add_suite(sr, breaker_suite());
    srunner_add_suite(sr, prom_suite());
    srunner_add_suite(sr, fleet_lock_suite());
    srunner_add_suite(sr, jose_suite());
    srunner_add_suite(sr, jwks_suite());
    srunner_add_suite(sr, jwt_suite());
    srunner_add_suite(sr, signer_suite());
    srunner_add_suite(sr, near_suite());
    srunner_add_suite(sr, near_table_suite());
    srunner_set_tap(sr, "-");

    srunner_run_all(sr, CK_SILENT);
    run = srunner_ntests_run(sr);
    failed = srunner_ntests_failed(sr);
    printf("# %d tests, %d passed, %d failed\n", run, run - failed, failed);
    srunner_free(sr);

    apr_terminate();
    return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
