/* oa2f_remote.c: the remote call to a provider. */
#include "unit.h"
#include "ut_common.h"
#include "oa2f_provider.h"
#include "oa2f_remote.h"

/* A child whose connection pool could not be set up answers 500, not a
 * NULL dereference (README "Trust boundaries"). */
START_TEST(no_connection_pool_is_internal)
{
    oa2f_provider_t *p = ut_base_provider();
    oa2f_validation_t v;

    oa2f_provider_finish(ut_pool, p);
    oa2f_remote_validate(NULL, ut_pool, p, "tok", &v);
    ck_assert_int_eq(v.outcome, OA2F_INTERNAL);
    ck_assert_ptr_null(v.claims);
    ck_assert_ptr_nonnull(v.why);
}
END_TEST

Suite *remote_suite(void)
{
    Suite *s = suite_create("remote");
    TCase *tc = ut_tcase("remote");

    tcase_add_test(tc, no_connection_pool_is_internal);
    suite_add_tcase(s, tc);
    return s;
}
