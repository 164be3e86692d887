/* oa2f_cache_parts.c: the split of a sized shmcb into parts with a mutex
 * each (README "Cache"). */
#include "unit.h"
#include "oa2f_cache_parts.h"

static const struct {
    const char *name, *args;
    int parts;
    const char *part0, *part_last; /* NULL: the args themselves */
} part_cases[] = {
    { "shmcb", "(8388608)", 8, "(1048576)", "(1048576)" },
    { "SHMCB", "(67108864)", 8, "(8388608)", "(8388608)" },
    { "shmcb", "(3145728)", 3, "(1048576)", "(1048576)" },
    { "shmcb", "(2097152)", 2, "(1048576)", "(1048576)" },
    { "shmcb", "(2097151)", 1, NULL, NULL }, /* under 2 x 1 MiB */
    { "shmcb", "(524288)", 1, NULL, NULL },
    { "shmcb", "/run/oa2f(33554432)", 8, "/run/oa2f.0(4194304)",
      "/run/oa2f.7(4194304)" },
    { "shmcb", "/run/a(b)/c(4194304)", 4, "/run/a(b)/c.0(1048576)",
      "/run/a(b)/c.3(1048576)" },
    { "shmcb", "/run/oa2f", 1, NULL, NULL }, /* shmcb's own size */
    { "shmcb", "(8M)", 1, NULL, NULL },      /* shmcb refuses it */
    { "shmcb", "(8388608)x", 1, NULL, NULL },
    { "shmcb", "()", 1, NULL, NULL },
    { "shmcb", "(-8388608)", 1, NULL, NULL },
    { "shmcb", "(99999999999999999999999)", 1, NULL, NULL },
    { "shmcb", NULL, 1, NULL, NULL },
    { "redis", "127.0.0.1:6379", 1, NULL, NULL },
    { "memcache", "(8388608)", 1, NULL, NULL }, /* only shmcb splits */
};

START_TEST(test_cache_parts)
{
    int n = oa2f_cache_parts(part_cases[_i].name, part_cases[_i].args);
    const char *first, *last;

    ck_assert_int_eq(n, part_cases[_i].parts);
    first = oa2f_cache_part_args(ut_pool, part_cases[_i].args, 0, n);
    last = oa2f_cache_part_args(ut_pool, part_cases[_i].args, n - 1, n);
    if (!part_cases[_i].part0) {
        ck_assert_ptr_eq(first, part_cases[_i].args);
        ck_assert_ptr_eq(last, part_cases[_i].args);
    }
    else {
        ck_assert_str_eq(first, part_cases[_i].part0);
        ck_assert_str_eq(last, part_cases[_i].part_last);
    }
}
END_TEST

Suite *cache_parts_suite(void)
{
    Suite *s = suite_create("cache_parts");
    TCase *tc = ut_tcase("cache_parts");

    tcase_add_loop_test(tc, test_cache_parts, 0, UT_N(part_cases));
    suite_add_tcase(s, tc);
    return s;
}
