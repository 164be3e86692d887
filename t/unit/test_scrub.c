/* oa2f_scrub.c: the token removed from answers (README "Trust
 * boundaries"; docs/providers.md §8, edge case 27). */
#include <string.h>

#include "unit.h"
#include "ut_common.h"
#include "oa2f_claims.h"
#include "oa2f_scrub.h"

#define TOK "tok3n-ABC.def~ghi/jk+l="

START_TEST(scrub_openam_echo)
{
    oa2f_claims_t *c = ut_claims_of_json(
        "{\"access_token\":\"" TOK "\",\"uid\":\"alice\","
        "\"scope\":[\"read\"],\"echo\":\"" TOK "\"}");

    ck_assert_int_ge(oa2f_claims_drop_token(ut_pool, c, TOK), 2);
    ck_assert_ptr_null(oa2f_claims_get(c, "access_token"));
    ck_assert_ptr_null(oa2f_claims_get(c, "echo"));
    ck_assert_ptr_nonnull(oa2f_claims_get(c, "uid"));
    ck_assert_ptr_null(strstr(c->raw, TOK));
    ck_assert_ptr_nonnull(strstr(c->raw, "\"uid\":\"alice\""));
    ck_assert_int_eq((int)c->raw_len, (int)strlen(c->raw));
}
END_TEST

START_TEST(scrub_nested_escaped_and_embedded)
{
    /* "\/" is how JSON may spell the token's '/' */
    oa2f_claims_t *c = ut_claims_of_json(
        "{\"a\":{\"b\":[\"x\",\"tok3n-ABC.def~ghi\\/jk+l=\"]},"
        "\"note\":\"was " TOK " here\",\"uid\":\"bob\"}");

    ck_assert_int_ge(oa2f_claims_drop_token(ut_pool, c, TOK), 2);
    ck_assert_ptr_null(strstr(c->raw, TOK));
    ck_assert_ptr_null(strstr(c->raw, "ghi\\/jk"));
    ck_assert_ptr_nonnull(strstr(c->raw, "bob"));
    ck_assert_ptr_nonnull(strstr(c->raw, "\"x\""));
}
END_TEST

START_TEST(scrub_leaves_clean_answers_alone)
{
    oa2f_claims_t *c = ut_claims_of_json("{\"active\":true,\"uid\":\"x\"}");
    const char *raw = c->raw;

    ck_assert_int_eq(oa2f_claims_drop_token(ut_pool, c, TOK), 0);
    ck_assert_ptr_eq(c->raw, raw);
    ck_assert_int_eq(c->fields->nelts, 2);
}
END_TEST

Suite *scrub_suite(void)
{
    Suite *s = suite_create("scrub");
    TCase *tc = ut_tcase("scrub");

    tcase_add_test(tc, scrub_openam_echo);
    tcase_add_test(tc, scrub_nested_escaped_and_embedded);
    tcase_add_test(tc, scrub_leaves_clean_answers_alone);
    suite_add_tcase(s, tc);
    return s;
}
