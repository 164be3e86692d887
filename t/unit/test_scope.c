/* oa2f_scope.c: scope sets (RFC 6749 §3.3; docs/providers.md §2.4). */
#include <stdarg.h>
#include <string.h>
#include <apr_strings.h>

#include "unit.h"
#include "oa2f_scope.h"

/* An array of const char * from a NULL-terminated list. */
static apr_array_header_t *list(const char *first, ...)
{
    apr_array_header_t *a = apr_array_make(ut_pool, 4, sizeof(const char *));
    va_list ap;
    const char *s;

    va_start(ap, first);
    for (s = first; s; s = va_arg(ap, const char *)) {
        APR_ARRAY_PUSH(a, const char *) = s;
    }
    va_end(ap);
    return a;
}

typedef struct {
    const char *in;
    const char *joined; /* elements joined with '|'           */
    int n;
} split_case_t;

static const split_case_t split_cases[] = {
    { "read write", "read|write", 2 },
    { "read", "read", 1 },
    { "read   write", "read|write", 2 },
    { "  read write", "read|write", 2 },
    { "read write  ", "read|write", 2 },
    { "   read    write   admin   ", "read|write|admin", 3 },
    { "orders:read orders:write", "orders:read|orders:write", 2 },
    { "READ read", "READ|read", 2 },
    { "", "", 0 },
    { " ", "", 0 },
    { "     ", "", 0 },
    /* only SP separates (RFC 6749 §3.3): a tab is part of a scope */
    { "a\tb c", "a\tb|c", 2 },
};

START_TEST(test_split)
{
    const split_case_t *tc = &split_cases[_i];
    apr_array_header_t *a = oa2f_scope_split(ut_pool, tc->in);

    ck_assert_ptr_nonnull(a);
    ck_assert_msg(a->nelts == tc->n, "split(\"%s\"): %d elements, not %d",
                  tc->in, a->nelts, tc->n);
    ck_assert_str_eq(apr_array_pstrcat(ut_pool, a, '|'), tc->joined);
}
END_TEST

START_TEST(test_split_null)
{
    apr_array_header_t *a = oa2f_scope_split(ut_pool, NULL);

    ck_assert_ptr_nonnull(a);
    ck_assert_int_eq(a->nelts, 0);
}
END_TEST

/* The elements are copies, not pointers into the input. */
START_TEST(test_split_copies)
{
    char *in = apr_pstrdup(ut_pool, "read write");
    apr_array_header_t *a = oa2f_scope_split(ut_pool, in);

    memset(in, 'x', strlen(in));
    ck_assert_str_eq(APR_ARRAY_IDX(a, 0, const char *), "read");
    ck_assert_str_eq(APR_ARRAY_IDX(a, 1, const char *), "write");
}
END_TEST

START_TEST(test_contains)
{
    apr_array_header_t *have = list("read", "write", "orders:read", NULL);

    ck_assert_int_eq(oa2f_scope_contains(have, "read"), 1);
    ck_assert_int_eq(oa2f_scope_contains(have, "orders:read"), 1);
    ck_assert_int_eq(oa2f_scope_contains(have, "READ"), 0);
    ck_assert_int_eq(oa2f_scope_contains(have, "rea"), 0);
    ck_assert_int_eq(oa2f_scope_contains(have, "reads"), 0);
    ck_assert_int_eq(oa2f_scope_contains(have, "orders"), 0);
    ck_assert_int_eq(oa2f_scope_contains(have, ""), 0);
    ck_assert_int_eq(oa2f_scope_contains(list(NULL), "read"), 0);
    ck_assert_int_eq(oa2f_scope_contains(NULL, "read"), 0);
}
END_TEST

START_TEST(test_has_all)
{
    apr_array_header_t *have = oa2f_scope_split(ut_pool, "READ write admin");

    ck_assert_int_eq(oa2f_scope_has_all(have, list("READ", NULL)), 1);
    ck_assert_int_eq(oa2f_scope_has_all(have, list("write", "READ", NULL)), 1);
    ck_assert_int_eq(
        oa2f_scope_has_all(have, list("admin", "write", "READ", NULL)), 1);
    /* case-sensitive */
    ck_assert_int_eq(oa2f_scope_has_all(have, list("read", NULL)), 0);
    ck_assert_int_eq(oa2f_scope_has_all(have, list("WRITE", NULL)), 0);
    /* one missing is enough to fail */
    ck_assert_int_eq(
        oa2f_scope_has_all(have, list("READ", "write", "delete", NULL)), 0);
    /* an empty need is always met, even by no scopes at all */
    ck_assert_int_eq(oa2f_scope_has_all(have, list(NULL)), 1);
    ck_assert_int_eq(oa2f_scope_has_all(list(NULL), list(NULL)), 1);
    ck_assert_int_eq(oa2f_scope_has_all(have, NULL), 1);
    ck_assert_int_eq(oa2f_scope_has_all(NULL, NULL), 1);
    /* absent or empty scope fails any real requirement (docs/providers.md §2.4) */
    ck_assert_int_eq(oa2f_scope_has_all(list(NULL), list("READ", NULL)), 0);
    ck_assert_int_eq(oa2f_scope_has_all(NULL, list("READ", NULL)), 0);
    ck_assert_int_eq(
        oa2f_scope_has_all(oa2f_scope_split(ut_pool, ""), list("READ", NULL)),
        0);
}
END_TEST

/* For log lines (OA2F10101): joined, what a scope-token cannot hold
 * shown as '?', cut at max. */
START_TEST(test_loggable)
{
    apr_array_header_t *ctl = list("re\nad", "wr\x01ite", "a\"b\\c",
                                   "caf\xc3\xa9", NULL);

    ck_assert_str_eq(oa2f_scope_loggable(ut_pool, NULL, 100), "(none)");
    ck_assert_str_eq(oa2f_scope_loggable(ut_pool, list(NULL), 100), "(none)");
    ck_assert_str_eq(
        oa2f_scope_loggable(ut_pool, list("read", "orders:write", NULL), 100),
        "read orders:write");
    ck_assert_str_eq(oa2f_scope_loggable(ut_pool, ctl, 100),
                     "re?ad wr?ite a?b?c caf??");
    ck_assert_str_eq(
        oa2f_scope_loggable(ut_pool, list("read", "write", "admin", NULL), 10),
        "read wr...");
    ck_assert_str_eq(
        oa2f_scope_loggable(ut_pool, list("read", "write", NULL), 10),
        "read write");
    ck_assert_int_eq(
        strlen(oa2f_scope_loggable(ut_pool, list("abcdefgh", "ijk", NULL), 0)),
        4);
}
END_TEST

Suite *scope_suite(void)
{
    Suite *s = suite_create("scope");
    TCase *tc = ut_tcase("scope");

    tcase_add_loop_test(tc, test_split, 0, UT_N(split_cases));
    tcase_add_test(tc, test_split_null);
    tcase_add_test(tc, test_split_copies);
    tcase_add_test(tc, test_contains);
    tcase_add_test(tc, test_has_all);
    tcase_add_test(tc, test_loggable);
    suite_add_tcase(s, tc);
    return s;
}
