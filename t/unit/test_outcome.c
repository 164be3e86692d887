/* oa2f_outcome.c: the one table of outcomes (README "Requests and
 * answers"), and the status page buckets that must cover it. */
#include <string.h>

#include "unit.h"
#include "oa2f_outcome.h"
#include "oa2f_stats.h"

START_TEST(every_outcome_has_a_row)
{
    int o, p;

    for (o = 0; o < OA2F_OUTCOME_MAX; o++) {
        const oa2f_outcome_info_t *i = oa2f_outcome_info(o);
        ck_assert_ptr_nonnull(i->name);
        ck_assert_str_eq(oa2f_outcome_name(o), i->name);
        for (p = 0; p < OA2F_PROFILE_MAX; p++) {
            const oa2f_answer_t *a = &i->answer[p];
            ck_assert_int_ge(a->status, 400);
            ck_assert_ptr_nonnull(a->text);
            /* every 400/401/403 carries an RFC 6750 challenge */
            if (a->status == 400 || a->status == 401 || a->status == 403) {
                ck_assert_msg(a->challenge, "%s: %d without a challenge",
                              i->name, a->status);
            }
        }
    }
    ck_assert_str_eq(oa2f_outcome_info(OA2F_OUTCOME_MAX)->name, "internal");
    ck_assert_str_eq(oa2f_outcome_name(OA2F_OUTCOME_MAX), "unknown");
}
END_TEST

/* The four rows where the profiles differ, and a few that must not. */
START_TEST(profiles_differ_where_documented)
{
    static const struct {
        oa2f_outcome_e o;
        int gw, rfc;
    } rows[] = {
        { OA2F_NO_TOKEN, 400, 401 },       { OA2F_WRONG_SCHEME, 400, 401 },
        { OA2F_UNREACHABLE, 401, 503 },    { OA2F_BAD_ANSWER, 500, 502 },
        { OA2F_BAD_REQUEST, 400, 400 },    { OA2F_INACTIVE, 401, 401 },
        { OA2F_EXPIRED, 401, 401 },        { OA2F_REJECTED, 403, 403 },
        { OA2F_FORBIDDEN, 403, 403 },      { OA2F_INTERNAL, 500, 500 },
        { OA2F_WRONG_AUDIENCE, 401, 401 }, { OA2F_WRONG_ISSUER, 401, 401 },
        { OA2F_CIRCUIT_OPEN, 401, 503 },
    };
    int i;

    for (i = 0; i < UT_N(rows); i++) {
        const oa2f_outcome_info_t *r = oa2f_outcome_info(rows[i].o);
        ck_assert_int_eq(r->answer[OA2F_PROFILE_GATEWAY].status, rows[i].gw);
        ck_assert_int_eq(r->answer[OA2F_PROFILE_RFC6750].status, rows[i].rfc);
    }
    ck_assert_str_eq(
        oa2f_outcome_info(OA2F_FORBIDDEN)->answer[OA2F_PROFILE_GATEWAY].error,
        "insufficient_scope");
    ck_assert_ptr_null(
        oa2f_outcome_info(OA2F_NO_TOKEN)->answer[OA2F_PROFILE_RFC6750].error);
    /* README "Resource identity": both refusals are invalid_token in
     * both profiles, each saying which check failed */
    for (i = 0; i < OA2F_PROFILE_MAX; i++) {
        const oa2f_answer_t *a =
            &oa2f_outcome_info(OA2F_WRONG_AUDIENCE)->answer[i];
        const oa2f_answer_t *b =
            &oa2f_outcome_info(OA2F_WRONG_ISSUER)->answer[i];
        ck_assert_str_eq(a->error, "invalid_token");
        ck_assert_str_eq(b->error, "invalid_token");
        ck_assert(a->challenge && b->challenge);
        ck_assert_ptr_nonnull(strstr(a->text, "audience"));
        ck_assert_ptr_nonnull(strstr(b->text, "issuer"));
    }
}
END_TEST

START_TEST(provider_outcomes_and_sharing)
{
    static const oa2f_outcome_e never[] = {
        OA2F_NO_TOKEN,  OA2F_WRONG_SCHEME,   OA2F_BAD_REQUEST,
        OA2F_FORBIDDEN, OA2F_WRONG_AUDIENCE, OA2F_WRONG_ISSUER
    };
    int i;

    for (i = 0; i < UT_N(never); i++) {
        ck_assert(!oa2f_outcome_info(never[i])->from_provider);
    }
    ck_assert(oa2f_outcome_info(OA2F_INACTIVE)->from_provider);
    ck_assert(oa2f_outcome_info(OA2F_UNREACHABLE)->from_provider);
    /* a follower takes its leader's failures, never its success */
    ck_assert(!oa2f_outcome_info(OA2F_OK)->shared);
    ck_assert(oa2f_outcome_info(OA2F_UNREACHABLE)->shared);
    ck_assert(oa2f_outcome_info(OA2F_INACTIVE)->shared);
    ck_assert_int_eq(oa2f_outcome_info(OA2F_UNREACHABLE)->log,
                     OA2F_LOG_OUTAGE);
    ck_assert_int_eq(oa2f_outcome_info(OA2F_INACTIVE)->log, OA2F_LOG_INFO);
    ck_assert(oa2f_outcome_info(OA2F_WRONG_AUDIENCE)->shared);
    ck_assert_int_eq(oa2f_outcome_info(OA2F_WRONG_AUDIENCE)->log,
                     OA2F_LOG_INFO);
    ck_assert_int_eq(oa2f_outcome_info(OA2F_WRONG_ISSUER)->log, OA2F_LOG_INFO);
}
END_TEST

/* Every status the table can answer has its own requests_* counter. */
START_TEST(status_page_buckets_cover_the_table)
{
    oa2f_stats_t st;
    int o, p;

    memset(&st, 0, sizeof(st));
    for (o = 0; o < OA2F_OUTCOME_MAX; o++) {
        for (p = 0; p < OA2F_PROFILE_MAX; p++) {
            oa2f_stats_request(&st, oa2f_outcome_info(o)->answer[p].status, 0);
        }
    }
    ck_assert_msg(st.requests[OA2F_REQ_OTHER] == 0,
                  "a status of the outcome table has no bucket");
}
END_TEST

Suite *outcome_suite(void)
{
    Suite *s = suite_create("outcome");
    TCase *tc = ut_tcase("outcome");

    tcase_add_test(tc, every_outcome_has_a_row);
    tcase_add_test(tc, profiles_differ_where_documented);
    tcase_add_test(tc, provider_outcomes_and_sharing);
    tcase_add_test(tc, status_page_buckets_cover_the_table);
    suite_add_tcase(s, tc);
    return s;
}
