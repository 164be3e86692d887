/* oa2f_jwt.c and oa2f_claims_take_scp: a JWT access token's claims
 * (RFC 7519 §4.1, RFC 9068 §2.2, §4) become the claims an introspection
 * answer would give. */
#include <string.h>
#include <apr_strings.h>

#include "unit.h"
#include "ut_common.h"
#include "ut_jose.h"
#include "oa2f_jose.h"

#define NOW 1700000000LL
#define ISS "\"iss\":\"https://as.example.com\""

static oa2f_jws_t *jws_of(const char *typ, const char *payload)
{
    oa2f_jws_t *j = apr_pcalloc(ut_pool, sizeof(*j));

    j->alg = "ES256";
    j->typ = typ;
    j->payload = apr_pstrdup(ut_pool, payload);
    j->payload_len = strlen(payload);
    return j;
}

static apr_array_header_t *list(const char *a, const char *b)
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

static oa2f_jose_rc_e claims_rc(const char *typ,
                                const apr_array_header_t *types,
                                const char *payload, oa2f_claims_t **c)
{
    oa2f_jwt_rules_t rules = { NOW, 60, types };
    const char *why = NULL;
    oa2f_claims_t *dummy;
    oa2f_jose_rc_e rc = oa2f_jwt_claims(ut_pool, jws_of(typ, payload), &rules,
                                        c ? c : &dummy, &why);

    ck_assert_msg(rc == OA2F_JOSE_OK || why, "no reason for %s", payload);
    ck_assert_msg(rc == OA2F_JOSE_OK || !*(c ? c : &dummy), "claims on error");
    return rc;
}

static oa2f_jose_rc_e rc_of(const char *payload)
{
    return claims_rc(NULL, NULL, payload, NULL);
}

static const char *scopes(const oa2f_claims_t *c)
{
    return apr_array_pstrcat(ut_pool, c->scopes, ' ');
}

START_TEST(test_claims_as_introspection)
{
    const char *payload =
        "{" ISS ",\"sub\":\"alice\",\"aud\":[\"api\",\"other\"],"
        "\"exp\":1700000300,\"iat\":1699999990,\"nbf\":1699999990,"
        "\"client_id\":\"app-1\",\"scope\":\"read write\",\"jti\":\"j1\","
        "\"x\":{\"a\":1},\"n\":null,\"flag\":true}";
    oa2f_claims_t *c = NULL, *intro = ut_claims_of_json(payload);
    int i;

    ck_assert_int_eq(claims_rc("at+jwt", NULL, payload, &c), OA2F_JOSE_OK);
    ck_assert_int_eq(c->active, 1);
    ck_assert_int_eq(c->expires_at, 1700000300LL);
    ck_assert_str_eq(c->client_id, "app-1");
    ck_assert_str_eq(scopes(c), "read write");
    ck_assert_str_eq(c->raw, payload);
    ck_assert_int_eq(c->raw_len, strlen(payload));
    /* the same fields, in the same order, with the same values */
    ck_assert_int_eq(c->fields->nelts, intro->fields->nelts);
    for (i = 0; i < c->fields->nelts; i++) {
        const oa2f_field_t *a = &APR_ARRAY_IDX(c->fields, i, oa2f_field_t);
        const oa2f_field_t *b = &APR_ARRAY_IDX(intro->fields, i, oa2f_field_t);
        ck_assert_str_eq(a->name, b->name);
        ck_assert_str_eq(a->value, b->value);
        ck_assert_int_eq(a->value_len, b->value_len);
        ck_assert_int_eq(!a->items, !b->items);
    }
    ck_assert_str_eq(scopes(c), scopes(intro));
    ck_assert_ptr_null(oa2f_claims_get(c, "n"));
    ck_assert_str_eq(oa2f_claims_get(c, "aud")->value, "api other");
    ck_assert(oa2f_claims_field_matches(c, "aud", "other"));
}
END_TEST

START_TEST(test_scp)
{
    oa2f_claims_t *c = NULL;

    /* RFC 9068 uses scope; some issuers write scp, an array */
    ck_assert_int_eq(claims_rc(NULL, NULL,
                               "{" ISS ",\"exp\":1700000300,"
                               "\"scp\":[\"read\",\"write\"]}",
                               &c),
                     OA2F_JOSE_OK);
    ck_assert_str_eq(scopes(c), "read write");
    ck_assert_str_eq(oa2f_claims_get(c, "scp")->value, "read write");
    /* or a space-separated string */
    ck_assert_int_eq(claims_rc(NULL, NULL,
                               "{" ISS ",\"exp\":1700000300,"
                               "\"scp\":\"User.Read  Mail.Send\"}",
                               &c),
                     OA2F_JOSE_OK);
    ck_assert_str_eq(scopes(c), "User.Read Mail.Send");
    /* scope decides when both are there, whatever the order */
    ck_assert_int_eq(claims_rc(NULL, NULL,
                               "{" ISS ",\"exp\":1700000300,"
                               "\"scp\":[\"admin\"],\"scope\":\"read\"}",
                               &c),
                     OA2F_JOSE_OK);
    ck_assert_str_eq(scopes(c), "read");
    ck_assert_int_eq(claims_rc(NULL, NULL,
                               "{" ISS ",\"exp\":1700000300,"
                               "\"scope\":\"\",\"scp\":[\"admin\"]}",
                               &c),
                     OA2F_JOSE_OK);
    ck_assert_int_eq(c->scopes->nelts, 0);
    /* a null scope is absent (docs/providers.md, edge case 10) */
    ck_assert_int_eq(claims_rc(NULL, NULL,
                               "{" ISS ",\"exp\":1700000300,"
                               "\"scope\":null,\"scp\":[\"admin\"]}",
                               &c),
                     OA2F_JOSE_OK);
    ck_assert_str_eq(scopes(c), "admin");
    /* elements that are no plain strings are left out, fail closed */
    ck_assert_int_eq(claims_rc(NULL, NULL,
                               "{" ISS ",\"exp\":1700000300,"
                               "\"scp\":[\"a\",1,null,\"adm\\u0000in\",\"b\"]}",
                               &c),
                     OA2F_JOSE_OK);
    ck_assert_str_eq(scopes(c), "a b");
    ck_assert_int_eq(claims_rc(NULL, NULL,
                               "{" ISS ",\"exp\":1700000300,\"scp\":{}}", &c),
                     OA2F_JOSE_OK);
    ck_assert_int_eq(c->scopes->nelts, 0);
}
END_TEST

/* introspection answers keep their behaviour: scp is not read there */
START_TEST(test_scp_not_for_introspection)
{
    oa2f_claims_t *c =
        ut_claims_of_json("{\"active\":true,\"scp\":[\"admin\"]}");

    ck_assert_int_eq(c->scopes->nelts, 0);
}
END_TEST

START_TEST(test_exp)
{
    /* absent, null, string, float, fraction, exponent, bool, array */
    static const char *const bad[] = {
        "{" ISS "}",
        "{" ISS ",\"exp\":null}",
        "{" ISS ",\"exp\":\"1700000300\"}",
        "{" ISS ",\"exp\":1700000300.0}",
        "{" ISS ",\"exp\":1700000300.5}",
        "{" ISS ",\"exp\":1.7000003e9}",
        "{" ISS ",\"exp\":true}",
        "{" ISS ",\"exp\":[1700000300]}",
        "{" ISS ",\"exp\":{}}",
    };
    int i;

    for (i = 0; i < UT_N(bad); i++) {
        ck_assert_msg(rc_of(bad[i]) == OA2F_JOSE_BAD_CLAIMS, "%s", bad[i]);
    }
    /* expired beyond the leeway; at the edge; within it */
    ck_assert_int_eq(rc_of("{" ISS ",\"exp\":1699999900}"),
                     OA2F_JOSE_BAD_CLAIMS);
    ck_assert_int_eq(rc_of("{" ISS ",\"exp\":1699999940}"),
                     OA2F_JOSE_BAD_CLAIMS);
    ck_assert_int_eq(rc_of("{" ISS ",\"exp\":1699999941}"), OA2F_JOSE_OK);
    ck_assert_int_eq(rc_of("{" ISS ",\"exp\":0}"), OA2F_JOSE_BAD_CLAIMS);
    ck_assert_int_eq(rc_of("{" ISS ",\"exp\":-5}"), OA2F_JOSE_BAD_CLAIMS);
    ck_assert_int_eq(rc_of("{" ISS ",\"exp\":1700000001}"), OA2F_JOSE_OK);
}
END_TEST

START_TEST(test_exp_far)
{
    oa2f_claims_t *c = NULL;

    ck_assert_int_eq(claims_rc(NULL, NULL,
                               "{" ISS ",\"exp\":99999999999999}", &c),
                     OA2F_JOSE_OK);
    ck_assert_int_eq(c->expires_at, 253402300799LL);
    /* json-c clamps integers beyond 64 bits */
    ck_assert_int_eq(claims_rc(NULL, NULL,
                               "{" ISS ",\"exp\":184467440737095516150}", &c),
                     OA2F_JOSE_OK);
    ck_assert_int_eq(c->expires_at, 253402300799LL);
}
END_TEST

START_TEST(test_nbf_iat)
{
    static const char *const bad[] = {
        "{" ISS ",\"exp\":1700000300,\"nbf\":1700000061}",
        "{" ISS ",\"exp\":1700000300,\"iat\":1700000061}",
        "{" ISS ",\"exp\":1700000300,\"nbf\":\"1699999999\"}",
        "{" ISS ",\"exp\":1700000300,\"iat\":1699999999.5}",
        "{" ISS ",\"exp\":1700000300,\"iat\":false}",
        "{" ISS ",\"exp\":1700000300,\"nbf\":9999999999}",
    };
    static const char *const good[] = {
        "{" ISS ",\"exp\":1700000300,\"nbf\":1700000060}",
        "{" ISS ",\"exp\":1700000300,\"iat\":1700000060}",
        "{" ISS ",\"exp\":1700000300,\"iat\":1600000000,\"nbf\":0}",
        "{" ISS ",\"exp\":1700000300,\"iat\":null,\"nbf\":null}",
    };
    int i;

    for (i = 0; i < UT_N(bad); i++) {
        ck_assert_msg(rc_of(bad[i]) == OA2F_JOSE_BAD_CLAIMS, "%s", bad[i]);
    }
    for (i = 0; i < UT_N(good); i++) {
        ck_assert_msg(rc_of(good[i]) == OA2F_JOSE_OK, "%s", good[i]);
    }
}
END_TEST

START_TEST(test_iss)
{
    ck_assert_int_eq(rc_of("{\"exp\":1700000300}"), OA2F_JOSE_BAD_CLAIMS);
    ck_assert_int_eq(rc_of("{\"iss\":null,\"exp\":1700000300}"),
                     OA2F_JOSE_BAD_CLAIMS);
    ck_assert_int_eq(rc_of("{\"iss\":7,\"exp\":1700000300}"),
                     OA2F_JOSE_BAD_CLAIMS);
    ck_assert_int_eq(rc_of("{\"iss\":[\"a\"],\"exp\":1700000300}"),
                     OA2F_JOSE_BAD_CLAIMS);
    ck_assert_int_eq(rc_of("{\"iss\":\"\",\"exp\":1700000300}"),
                     OA2F_JOSE_BAD_CLAIMS);
    ck_assert_int_eq(rc_of("{\"iss\":\"a\\u0000b\",\"exp\":1700000300}"),
                     OA2F_JOSE_BAD_CLAIMS);
    ck_assert_int_eq(rc_of("{\"iss\":\"a\",\"exp\":1700000300}"),
                     OA2F_JOSE_OK);
}
END_TEST

START_TEST(test_typ)
{
    const char *p = "{" ISS ",\"exp\":1700000300}";
    apr_array_header_t *at = list("at+jwt", NULL);
    apr_array_header_t *both = list("application/at+jwt", "JWT");

    /* RFC 9068 §4: at+jwt, application/ optional, any case */
    ck_assert_int_eq(claims_rc("at+jwt", at, p, NULL), OA2F_JOSE_OK);
    ck_assert_int_eq(claims_rc("AT+JWT", at, p, NULL), OA2F_JOSE_OK);
    ck_assert_int_eq(claims_rc("application/at+jwt", at, p, NULL),
                     OA2F_JOSE_OK);
    ck_assert_int_eq(claims_rc("Application/At+Jwt", at, p, NULL),
                     OA2F_JOSE_OK);
    ck_assert_int_eq(claims_rc("JWT", at, p, NULL), OA2F_JOSE_BAD_CLAIMS);
    ck_assert_int_eq(claims_rc(NULL, at, p, NULL), OA2F_JOSE_BAD_CLAIMS);
    ck_assert_int_eq(claims_rc("", at, p, NULL), OA2F_JOSE_BAD_CLAIMS);
    ck_assert_int_eq(claims_rc("at+jwt ", at, p, NULL), OA2F_JOSE_BAD_CLAIMS);
    ck_assert_int_eq(claims_rc("application/x/at+jwt", at, p, NULL),
                     OA2F_JOSE_BAD_CLAIMS);
    ck_assert_int_eq(claims_rc("text/at+jwt", at, p, NULL),
                     OA2F_JOSE_BAD_CLAIMS);
    /* the list's own entries may carry the prefix */
    ck_assert_int_eq(claims_rc("at+jwt", both, p, NULL), OA2F_JOSE_OK);
    ck_assert_int_eq(claims_rc("jwt", both, p, NULL), OA2F_JOSE_OK);
    ck_assert_int_eq(claims_rc("application/jwt", both, p, NULL),
                     OA2F_JOSE_OK);
    ck_assert_int_eq(claims_rc("dpop+jwt", both, p, NULL),
                     OA2F_JOSE_BAD_CLAIMS);
    /* no list, or an empty one: anything, or nothing */
    ck_assert_int_eq(claims_rc(NULL, NULL, p, NULL), OA2F_JOSE_OK);
    ck_assert_int_eq(claims_rc("whatever", list(NULL, NULL), p, NULL),
                     OA2F_JOSE_OK);
}
END_TEST

START_TEST(test_payload_problems)
{
    ck_assert_int_eq(rc_of("{" ISS ",\"exp\":1700000300,\"exp\":1}"),
                     OA2F_JOSE_BAD_CLAIMS);
    ck_assert_int_eq(rc_of("{" ISS ",\"iss\":\"b\",\"exp\":1700000300}"),
                     OA2F_JOSE_BAD_CLAIMS);
    ck_assert_int_eq(rc_of("[]"), OA2F_JOSE_BAD_CLAIMS);
    ck_assert_int_eq(rc_of(""), OA2F_JOSE_BAD_CLAIMS);
}
END_TEST

START_TEST(test_no_rules)
{
    oa2f_claims_t *c = NULL;
    const char *why;
    const char *p = apr_psprintf(ut_pool, "{" ISS ",\"exp\":%" APR_INT64_T_FMT
                                 "}",
                                 (apr_int64_t)apr_time_sec(apr_time_now())
                                     + 100);

    ck_assert_int_eq(oa2f_jwt_claims(ut_pool, jws_of("x", p), NULL, &c, &why),
                     OA2F_JOSE_OK);
    ck_assert_int_eq(oa2f_jwt_claims(ut_pool,
                                     jws_of("x", "{" ISS ",\"exp\":1000}"),
                                     NULL, &c, &why),
                     OA2F_JOSE_BAD_CLAIMS);
}
END_TEST

Suite *jwt_suite(void)
{
    Suite *s = suite_create("jwt");
    TCase *tc = ut_tcase("claims");

    tcase_add_test(tc, test_claims_as_introspection);
    tcase_add_test(tc, test_scp);
    tcase_add_test(tc, test_scp_not_for_introspection);
    tcase_add_test(tc, test_exp);
    tcase_add_test(tc, test_exp_far);
    tcase_add_test(tc, test_nbf_iat);
    tcase_add_test(tc, test_iss);
    tcase_add_test(tc, test_typ);
    tcase_add_test(tc, test_payload_problems);
    tcase_add_test(tc, test_no_rules);
    suite_add_tcase(s, tc);
    return s;
}
