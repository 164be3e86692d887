/* oa2f_near.c: a fleet value's expiry around its entry (README "Cache":
 * the near cache keeps nothing longer than the fleet does). */
#include <string.h>

#include "unit.h"
#include "oa2f_near.h"

START_TEST(test_near_round_trip)
{
    unsigned char *w;
    const unsigned char *e;
    apr_size_t n, len;
    long long until;

    oa2f_near_wrap(ut_pool, 1767225600LL, (const unsigned char *)"OA2Fxyz", 7,
                   &w, &n);
    ck_assert_uint_eq(n, 7 + OA2F_NEAR_HEAD_LEN);
    ck_assert_int_eq(oa2f_near_unwrap(w, n, &until, &e, &len), 1);
    ck_assert(until == 1767225600LL);
    ck_assert_uint_eq(len, 7);
    ck_assert_mem_eq(e, "OA2Fxyz", 7);
    /* big-endian on every host: the fleet mixes them */
    ck_assert_mem_eq(w, "OA2N\001\000\000\000\000\151\125\271\000", 13);
}
END_TEST

START_TEST(test_near_bare_or_broken)
{
    static const struct {
        const char *v;
        apr_size_t n;
    } cases[] = {
        { "OA2F\002 a bare entry", 19 },  /* earlier versions' values  */
        { "OA2N\001\0\0\0\0\0\0\0\001", 13 }, /* no entry after it    */
        { "OA2N\002\0\0\0\0\0\0\0\001x", 14 }, /* another version      */
        { "OA2N\001\0\0\0\0\0\0\0\0x", 14 },  /* no expiry             */
        { "OA2N\001\200\0\0\0\0\0\0\0x", 14 }, /* negative             */
        { "OA2", 3 },
    };

    for (int i = 0; i < UT_N(cases); i++) {
        const unsigned char *e;
        apr_size_t len;
        long long until = 99;

        ck_assert_int_eq(oa2f_near_unwrap((const unsigned char *)cases[i].v,
                                          cases[i].n, &until, &e, &len),
                         0);
        ck_assert(until == 0);
        ck_assert_ptr_eq(e, cases[i].v);
        ck_assert_uint_eq(len, cases[i].n);
    }
}
END_TEST

START_TEST(test_near_keep_until)
{
    ck_assert(oa2f_near_keep_until(200, 0) == 200);
    ck_assert(oa2f_near_keep_until(200, 150) == 150);
    ck_assert(oa2f_near_keep_until(200, 300) == 200);
}
END_TEST

Suite *near_suite(void)
{
    Suite *s = suite_create("near");
    TCase *tc = ut_tcase("near");

    tcase_add_test(tc, test_near_round_trip);
    tcase_add_test(tc, test_near_bare_or_broken);
    tcase_add_test(tc, test_near_keep_until);
    suite_add_tcase(s, tc);
    return s;
}
