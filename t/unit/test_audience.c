/* oa2f_audience.c: the audience and issuer checks of README "Resource
 * identity" (RFC 7519 §4.1.1 and §4.1.3, RFC 8707 §2, RFC 8414 §3.3
 * exact issuer comparison), on answers as the claims hold them. */
#include <string.h>

#include "unit.h"
#include "ut_common.h"
#include "oa2f_audience.h"

#define A "urn:oa2f:test-api"
#define B "https://api.example/v1"

static const struct {
    const char *answer;
    oa2f_outcome_e want;
} aud_cases[] = {
    { "{\"active\":true,\"aud\":\"" A "\"}", OA2F_OK },
    { "{\"active\":true,\"aud\":\"" B "\"}", OA2F_OK },
    { "{\"active\":true,\"aud\":[\"x\",\"" A "\"]}", OA2F_OK },
    { "{\"active\":true,\"aud\":[\"" B "\"]}", OA2F_OK },
    /* a matching string among other types: still a string element */
    { "{\"active\":true,\"aud\":[5,{\"a\":1},\"" A "\"]}", OA2F_OK },
    { "{\"active\":true}", OA2F_WRONG_AUDIENCE },
    { "{\"active\":true,\"aud\":null}", OA2F_WRONG_AUDIENCE },
    { "{\"active\":true,\"aud\":\"urn:oa2f:other-api\"}",
      OA2F_WRONG_AUDIENCE },
    { "{\"active\":true,\"aud\":\"" A "/\"}", OA2F_WRONG_AUDIENCE },
    { "{\"active\":true,\"aud\":\"URN:OA2F:TEST-API\"}", OA2F_WRONG_AUDIENCE },
    { "{\"active\":true,\"aud\":\"\"}", OA2F_WRONG_AUDIENCE },
    { "{\"active\":true,\"aud\":[]}", OA2F_WRONG_AUDIENCE },
    { "{\"active\":true,\"aud\":[\"x\",\"y\"]}", OA2F_WRONG_AUDIENCE },
    { "{\"active\":true,\"aud\":[5,true,null]}", OA2F_WRONG_AUDIENCE },
    { "{\"active\":true,\"aud\":42}", OA2F_WRONG_AUDIENCE },
    { "{\"active\":true,\"aud\":true}", OA2F_WRONG_AUDIENCE },
    { "{\"active\":true,\"aud\":{\"aud\":\"" A "\"}}", OA2F_WRONG_AUDIENCE },
    { "{\"active\":true,\"aud\":[[\"" A "\"]]}", OA2F_WRONG_AUDIENCE },
    /* the joined rendering of an array never passes for one element */
    { "{\"active\":true,\"aud\":[\"urn:oa2f:test-api\",\"x\"],"
      "\"x\":\"" A " x\"}",
      OA2F_OK },
    { "{\"active\":true,\"aud\":\"" A "\\u0000evil\"}", OA2F_WRONG_AUDIENCE },
    { "{\"active\":true,\"aud\":[\"" A "\\u0000evil\"]}",
      OA2F_WRONG_AUDIENCE },
    { "{\"active\":true,\"audience\":\"" A "\"}", OA2F_WRONG_AUDIENCE },
};

static apr_array_header_t *list_of(const char *a, const char *b)
{
    apr_array_header_t *l = apr_array_make(ut_pool, 2, sizeof(const char *));

    if (a) {
        APR_ARRAY_PUSH(l, const char *) = a;
    }
    if (b) {
        APR_ARRAY_PUSH(l, const char *) = b;
    }
    return l;
}

START_TEST(audience)
{
    oa2f_claims_t *c = ut_claims_of_json(aud_cases[_i].answer);
    const char *why = NULL;
    oa2f_outcome_e o = oa2f_audience_check(ut_pool, c, list_of(A, B), &why);

    ck_assert_msg(o == aud_cases[_i].want, "%s: %s (%s)", aud_cases[_i].answer,
                  oa2f_outcome_name(o), why ? why : "-");
    if (o != OA2F_OK) {
        ck_assert_ptr_nonnull(why);
        ck_assert_ptr_nonnull(strstr(why, "aud"));
    }
}
END_TEST

/* No list (NULL, or empty after "none"): no check, whatever aud says. */
START_TEST(no_list_no_check)
{
    oa2f_claims_t *c = ut_claims_of_json("{\"active\":true,\"aud\":7}");
    oa2f_claims_t *none = ut_claims_of_json("{\"active\":true}");
    const char *why = NULL;

    ck_assert_int_eq(oa2f_audience_check(ut_pool, c, NULL, &why), OA2F_OK);
    ck_assert_int_eq(
        oa2f_audience_check(ut_pool, none, list_of(NULL, NULL), &why),
        OA2F_OK);
    ck_assert_int_eq(oa2f_issuer_check(ut_pool, none, NULL, &why), OA2F_OK);
    ck_assert_int_eq(oa2f_issuer_check(ut_pool, c, list_of(NULL, NULL), &why),
                     OA2F_OK);
    ck_assert_ptr_null(why);
}
END_TEST

/* A configured value that a number or an object renders as: only a
 * string in the answer matches it. */
START_TEST(values_that_look_like_json)
{
    static const struct {
        const char *answer;
        oa2f_outcome_e want;
    } rows[] = {
        { "{\"aud\":\"42\"}", OA2F_OK },
        { "{\"aud\":42}", OA2F_WRONG_AUDIENCE },
        { "{\"aud\":[\"42\"]}", OA2F_OK },
        { "{\"aud\":[42]}", OA2F_WRONG_AUDIENCE },
        { "{\"aud\":[42,\"42\"]}", OA2F_OK },
        { "{\"aud\":\"true\"}", OA2F_OK },
        { "{\"aud\":true}", OA2F_WRONG_AUDIENCE },
        { "{\"aud\":\"{\\\"a\\\":1}\"}", OA2F_OK },
        { "{\"aud\":{\"a\":1}}", OA2F_WRONG_AUDIENCE },
    };
    int i;

    for (i = 0; i < UT_N(rows); i++) {
        oa2f_claims_t *c = ut_claims_of_json(rows[i].answer);
        const char *why = NULL;
        oa2f_outcome_e o = oa2f_audience_check(
            ut_pool, c, list_of("42", i < 7 ? "true" : "{\"a\":1}"), &why);
        ck_assert_msg(o == rows[i].want, "%s: %s", rows[i].answer,
                      oa2f_outcome_name(o));
    }
}
END_TEST

/* Without the raw answer the slow path fails closed. */
START_TEST(no_raw_fails_closed)
{
    oa2f_claims_t *c = ut_claims_of_json("{\"aud\":\"42\",\"iss\":\"7\"}");
    const char *why = NULL;

    c->raw = NULL;
    ck_assert_int_eq(
        oa2f_audience_check(ut_pool, c, list_of("42", NULL), &why),
        OA2F_WRONG_AUDIENCE);
    ck_assert_int_eq(oa2f_issuer_check(ut_pool, c, list_of("7", NULL), &why),
                     OA2F_WRONG_ISSUER);
}
END_TEST

static const struct {
    const char *answer;
    oa2f_outcome_e want;
} iss_cases[] = {
    { "{\"iss\":\"https://as.example\"}", OA2F_OK },
    { "{\"iss\":\"https://as2.example/tenant\"}", OA2F_OK },
    /* RFC 8414 §3.3: compared exactly, no normalisation */
    { "{\"iss\":\"https://as.example/\"}", OA2F_WRONG_ISSUER },
    { "{\"iss\":\"https://as2.example/tenant/\"}", OA2F_WRONG_ISSUER },
    { "{\"iss\":\"HTTPS://AS.EXAMPLE\"}", OA2F_WRONG_ISSUER },
    { "{\"iss\":\"https://as.example:443\"}", OA2F_WRONG_ISSUER },
    { "{\"iss\":\"https://evil.example\"}", OA2F_WRONG_ISSUER },
    { "{\"active\":true}", OA2F_WRONG_ISSUER },
    { "{\"iss\":null}", OA2F_WRONG_ISSUER },
    { "{\"iss\":[\"https://as.example\"]}", OA2F_WRONG_ISSUER },
    { "{\"iss\":{\"iss\":\"https://as.example\"}}", OA2F_WRONG_ISSUER },
    { "{\"iss\":\"https://as.example\\u0000x\"}", OA2F_WRONG_ISSUER },
    { "{\"iss\":\"\"}", OA2F_WRONG_ISSUER },
};

START_TEST(issuer)
{
    oa2f_claims_t *c = ut_claims_of_json(iss_cases[_i].answer);
    const char *why = NULL;
    oa2f_outcome_e o = oa2f_issuer_check(
        ut_pool, c,
        list_of("https://as.example", "https://as2.example/tenant"), &why);

    ck_assert_msg(o == iss_cases[_i].want, "%s: %s (%s)", iss_cases[_i].answer,
                  oa2f_outcome_name(o), why ? why : "-");
    if (o != OA2F_OK) {
        ck_assert_ptr_nonnull(strstr(why, "iss"));
    }
}
END_TEST

/* The two checks answer apart, so the glue can say which failed. */
START_TEST(distinct_results)
{
    oa2f_claims_t *c = ut_claims_of_json(
        "{\"aud\":\"urn:x\",\"iss\":\"https://as.example\"}");
    const char *why = NULL;

    ck_assert_int_eq(oa2f_audience_check(ut_pool, c, list_of(A, NULL), &why),
                     OA2F_WRONG_AUDIENCE);
    ck_assert_int_eq(
        oa2f_issuer_check(ut_pool, c, list_of("https://x", NULL), &why),
        OA2F_WRONG_ISSUER);
    ck_assert_int_ne(OA2F_WRONG_AUDIENCE, OA2F_WRONG_ISSUER);
    ck_assert_int_eq(
        oa2f_audience_check(ut_pool, c, list_of("urn:x", NULL), &why),
        OA2F_OK);
    ck_assert_int_eq(oa2f_issuer_check(ut_pool, c,
                                       list_of("https://as.example", NULL),
                                       &why),
                     OA2F_OK);
}
END_TEST

Suite *audience_suite(void)
{
    Suite *s = suite_create("audience");
    TCase *tc = ut_tcase("audience");

    tcase_add_loop_test(tc, audience, 0, UT_N(aud_cases));
    tcase_add_test(tc, no_list_no_check);
    tcase_add_test(tc, values_that_look_like_json);
    tcase_add_test(tc, no_raw_fails_closed);
    tcase_add_loop_test(tc, issuer, 0, UT_N(iss_cases));
    tcase_add_test(tc, distinct_results);
    suite_add_tcase(s, tc);
    return s;
}
