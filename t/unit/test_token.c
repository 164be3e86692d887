/* oa2f_token.c: bearer token extraction (RFC 6750 §2.1, §2.3; README
 * "Requests and answers"; docs/providers.md §7) and the token removed
 * from the query (README "Trust boundaries"). */
#include <string.h>
#include <apr_strings.h>
#include <apr_lib.h>

#include "unit.h"
#include "oa2f_token.h"

#define H  OA2F_TOKEN_IN_HEADER
#define Q  OA2F_TOKEN_IN_QUERY
#define HQ (OA2F_TOKEN_IN_HEADER | OA2F_TOKEN_IN_QUERY)

/* Every token below contains this marker, so "why never contains the
 * token" can be checked for every case. */
#define MARK "QQZX"

typedef struct {
    const char *name;
    const char *authorization; /* NULL: no header                     */
    const char *query;         /* NULL: no query string               */
    int accept;
    oa2f_outcome_e want;
    const char *token; /* expected token on OA2F_OK           */
} extract_case_t;

static const extract_case_t extract_cases[] = {
    /* ---- header forms ---- */
    { "Bearer", "Bearer " MARK "abc", NULL, HQ, OA2F_OK, MARK "abc" },
    { "bearer", "bearer " MARK "abc", NULL, HQ, OA2F_OK, MARK "abc" },
    { "BEARER", "BEARER " MARK "abc", NULL, HQ, OA2F_OK, MARK "abc" },
    { "bEaReR", "bEaReR " MARK "abc", NULL, H, OA2F_OK, MARK "abc" },
    { "several spaces", "Bearer    " MARK "abc", NULL, HQ, OA2F_OK,
      MARK "abc" },
    { "tab after scheme", "Bearer\t" MARK "abc", NULL, HQ, OA2F_OK,
      MARK "abc" },
    { "spaces and tabs", "Bearer \t \t" MARK "abc", NULL, HQ, OA2F_OK,
      MARK "abc" },
    { "leading space", "  Bearer " MARK "abc", NULL, HQ, OA2F_OK, MARK "abc" },
    { "trailing space", "Bearer " MARK "abc ", NULL, HQ, OA2F_OK, MARK "abc" },
    { "trailing spaces and tab", "Bearer " MARK "abc \t ", NULL, HQ, OA2F_OK,
      MARK "abc" },
    { "all b64token chars", "Bearer " MARK "az-AZ.09_~+/", NULL, HQ, OA2F_OK,
      MARK "az-AZ.09_~+/" },
    { "= padding at the end", "Bearer " MARK "abc==", NULL, HQ, OA2F_OK,
      MARK "abc==" },
    { "one = at the end", "Bearer " MARK "a=", NULL, HQ, OA2F_OK, MARK "a=" },
    { "= in the middle", "Bearer " MARK "a=b", NULL, HQ, OA2F_BAD_REQUEST,
      NULL },
    { "= only", "Bearer ===", NULL, HQ, OA2F_BAD_REQUEST, NULL },
    { "= first", "Bearer =" MARK, NULL, HQ, OA2F_BAD_REQUEST, NULL },
    { "empty token", "Bearer ", NULL, HQ, OA2F_BAD_REQUEST, NULL },
    { "Bearer and spaces only", "Bearer    \t ", NULL, HQ, OA2F_BAD_REQUEST,
      NULL },
    { "Bearer without token", "Bearer", NULL, HQ, OA2F_BAD_REQUEST, NULL },
    { "comma inside", "Bearer " MARK "a,b", NULL, HQ, OA2F_BAD_REQUEST, NULL },
    { "quotes", "Bearer \"" MARK "abc\"", NULL, HQ, OA2F_BAD_REQUEST, NULL },
    { "space inside", "Bearer " MARK "a b", NULL, HQ, OA2F_BAD_REQUEST, NULL },
    { "tab inside", "Bearer " MARK "a\tb", NULL, HQ, OA2F_BAD_REQUEST, NULL },
    { "CRLF at the end", "Bearer " MARK "ab\r\n", NULL, HQ, OA2F_BAD_REQUEST,
      NULL },
    { "percent", "Bearer " MARK "a%2B", NULL, HQ, OA2F_BAD_REQUEST, NULL },
    { "non-ASCII", "Bearer " MARK "\xc3\xa9", NULL, HQ, OA2F_BAD_REQUEST,
      NULL },
    { "auth-params form", "Bearer token=" MARK, NULL, HQ, OA2F_BAD_REQUEST,
      NULL },
    { "Basic", "Basic dXNlcjpwYXNz", NULL, HQ, OA2F_WRONG_SCHEME, NULL },
    { "Digest", "Digest username=\"x\"", NULL, HQ, OA2F_WRONG_SCHEME, NULL },
    { "scheme prefix of Bearer", "Bear " MARK "abc", NULL, HQ,
      OA2F_WRONG_SCHEME, NULL },
    { "scheme longer than Bearer", "Bearerx " MARK "abc", NULL, HQ,
      OA2F_WRONG_SCHEME, NULL },
    { "scheme glued to token", "Bearer" MARK "abc", NULL, HQ,
      OA2F_WRONG_SCHEME, NULL },
    { "empty header", "", NULL, HQ, OA2F_WRONG_SCHEME, NULL },
    { "Basic while query has a token", "Basic dXNlcjpwYXNz",
      "access_token=" MARK "abc", HQ, OA2F_WRONG_SCHEME, NULL },

    /* ---- query forms ---- */
    { "query", NULL, "access_token=" MARK "abc", HQ, OA2F_OK, MARK "abc" },
    { "query among others", NULL, "a=1&access_token=" MARK "abc&b=2", HQ,
      OA2F_OK, MARK "abc" },
    { "query last", NULL, "a=1&b=&access_token=" MARK "abc", Q, OA2F_OK,
      MARK "abc" },
    { "query percent-encoded + / =", NULL, "access_token=" MARK "a%2Bb%2Fc%3D",
      HQ, OA2F_OK, MARK "a+b/c=" },
    { "query lower-case hex", NULL, "access_token=" MARK "a%2bb%2fc%3d", HQ,
      OA2F_OK, MARK "a+b/c=" },
    { "query encoded letters", NULL, "access_token=%51QZXabc", HQ, OA2F_OK,
      MARK "abc" },
    { "query raw / and trailing =", NULL, "access_token=" MARK "a/b==", HQ,
      OA2F_OK, MARK "a/b==" },
    { "query + decodes to space", NULL, "access_token=" MARK "a+b", HQ,
      OA2F_BAD_REQUEST, NULL },
    { "query %20", NULL, "access_token=" MARK "a%20b", HQ, OA2F_BAD_REQUEST,
      NULL },
    { "query %00", NULL, "access_token=" MARK "a%00b", HQ, OA2F_BAD_REQUEST,
      NULL },
    { "query %00 at the end", NULL, "access_token=" MARK "a%00", HQ,
      OA2F_BAD_REQUEST, NULL },
    { "query broken escape %G1", NULL, "access_token=" MARK "a%G1", HQ,
      OA2F_BAD_REQUEST, NULL },
    { "query broken escape at end %4", NULL, "access_token=" MARK "a%4", HQ,
      OA2F_BAD_REQUEST, NULL },
    { "query broken escape lone %", NULL, "access_token=" MARK "a%", HQ,
      OA2F_BAD_REQUEST, NULL },
    { "query broken escape before &", NULL, "access_token=" MARK "a%4&x=1", HQ,
      OA2F_BAD_REQUEST, NULL },
    { "query %2C (comma)", NULL, "access_token=" MARK "a%2Cb", HQ,
      OA2F_BAD_REQUEST, NULL },
    { "query = in the middle", NULL, "access_token=" MARK "a=b", HQ,
      OA2F_BAD_REQUEST, NULL },
    { "query empty value", NULL, "access_token=", HQ, OA2F_BAD_REQUEST, NULL },
    { "query empty value, others", NULL, "a=1&access_token=&b=2", HQ,
      OA2F_BAD_REQUEST, NULL },
    { "query name without =", NULL, "access_token", HQ, OA2F_BAD_REQUEST,
      NULL },
    { "query given twice", NULL,
      "access_token=" MARK "a&access_token=" MARK "a", HQ, OA2F_BAD_REQUEST,
      NULL },
    { "query given twice, once empty", NULL,
      "access_token=&x=1&access_token=" MARK "a", HQ, OA2F_BAD_REQUEST, NULL },
    { "query name with prefix", NULL, "xaccess_token=" MARK "abc", HQ,
      OA2F_NO_TOKEN, NULL },
    { "query name with suffix", NULL, "access_token_x=" MARK "abc", HQ,
      OA2F_NO_TOKEN, NULL },
    { "query name case differs", NULL, "Access_Token=" MARK "abc", HQ,
      OA2F_NO_TOKEN, NULL },
    { "query prefix and real one", NULL,
      "xaccess_token=zz&access_token=" MARK "abc&access_token_x=zz", HQ,
      OA2F_OK, MARK "abc" },
    { "query empty", NULL, "", HQ, OA2F_NO_TOKEN, NULL },
    { "query without the parameter", NULL, "a=1&b=2", HQ, OA2F_NO_TOKEN,
      NULL },

    /* ---- both, accept bits, nothing ---- */
    { "header and query", "Bearer " MARK "abc", "access_token=" MARK "abc", HQ,
      OA2F_BAD_REQUEST, NULL },
    { "header and empty query value", "Bearer " MARK "abc",
      "access_token=", HQ, OA2F_BAD_REQUEST, NULL },
    { "empty header token and query", "Bearer ", "access_token=" MARK "a", HQ,
      OA2F_BAD_REQUEST, NULL },
    { "header only accepted: query ignored", "Bearer " MARK "abc",
      "access_token=" MARK "zzz", H, OA2F_OK, MARK "abc" },
    { "header only accepted: query alone", NULL, "access_token=" MARK "abc", H,
      OA2F_NO_TOKEN, NULL },
    { "header only accepted: query twice", "Bearer " MARK "abc",
      "access_token=a&access_token=b", H, OA2F_OK, MARK "abc" },
    { "query only accepted: header ignored", "Bearer " MARK "abc",
      "access_token=" MARK "zzz", Q, OA2F_OK, MARK "zzz" },
    { "query only accepted: Basic ignored", "Basic dXNlcjpwYXNz",
      "access_token=" MARK "zzz", Q, OA2F_OK, MARK "zzz" },
    { "query only accepted: header alone", "Bearer " MARK "abc", NULL, Q,
      OA2F_NO_TOKEN, NULL },
    { "nothing accepted", "Bearer " MARK "abc", "access_token=" MARK "a", 0,
      OA2F_NO_TOKEN, NULL },
    { "no token at all", NULL, NULL, HQ, OA2F_NO_TOKEN, NULL },
};

static void check_extract(const extract_case_t *tc, oa2f_outcome_e got,
                          const char *token, const char *why)
{
    ck_assert_msg(got == tc->want, "%s: outcome %s, expected %s", tc->name,
                  oa2f_outcome_name(got), oa2f_outcome_name(tc->want));
    if (tc->want == OA2F_OK) {
        ck_assert_msg(token != NULL, "%s: no token", tc->name);
        ck_assert_msg(strcmp(token, tc->token) == 0,
                      "%s: token \"%s\", expected \"%s\"", tc->name, token,
                      tc->token);
    }
    else {
        ck_assert_msg(token == NULL, "%s: a token on failure", tc->name);
        ck_assert_msg(why != NULL && *why, "%s: no reason", tc->name);
        ck_assert_msg(strstr(why, MARK) == NULL,
                      "%s: the reason shows the token: %s", tc->name, why);
    }
}

START_TEST(test_extract_table)
{
    const extract_case_t *tc = &extract_cases[_i];
    const char *token = (const char *)1, *why = (const char *)1;
    oa2f_outcome_e got;

    got = oa2f_token_extract(ut_pool, tc->authorization, tc->query, tc->accept,
                             &token, &why);
    check_extract(tc, got, token, why);
}
END_TEST

/* A token of exactly n bytes, all b64token characters, starting with MARK. */
static char *long_token(apr_size_t n)
{
    char *t = apr_palloc(ut_pool, n + 1);

    memset(t, 'A', n);
    memcpy(t, MARK, 4);
    t[n - 1] = '=';
    t[n] = '\0';
    return t;
}

START_TEST(test_extract_length_header)
{
    const char *token, *why;
    char *t4096 = long_token(OA2F_TOKEN_MAX_LEN);
    char *t4097 = long_token(OA2F_TOKEN_MAX_LEN + 1);

    ck_assert_int_eq(oa2f_token_extract(
                         ut_pool, apr_pstrcat(ut_pool, "Bearer ", t4096, NULL),
                         NULL, HQ, &token, &why),
                     OA2F_OK);
    ck_assert_str_eq(token, t4096);
    ck_assert_uint_eq(strlen(token), 4096);

    /* trailing blanks do not count against the limit */
    ck_assert_int_eq(
        oa2f_token_extract(ut_pool,
                           apr_pstrcat(ut_pool, "Bearer  ", t4096, "  ", NULL),
                           NULL, HQ, &token, &why),
        OA2F_OK);
    ck_assert_str_eq(token, t4096);

    ck_assert_int_eq(oa2f_token_extract(
                         ut_pool, apr_pstrcat(ut_pool, "Bearer ", t4097, NULL),
                         NULL, HQ, &token, &why),
                     OA2F_BAD_REQUEST);
    ck_assert_ptr_null(token);
    ck_assert_ptr_null(strstr(why, MARK));
}
END_TEST

START_TEST(test_extract_length_query)
{
    const char *token, *why;
    char *t4096 = long_token(OA2F_TOKEN_MAX_LEN);
    char *t4097 = long_token(OA2F_TOKEN_MAX_LEN + 1);
    char *enc;
    apr_size_t i;

    ck_assert_int_eq(
        oa2f_token_extract(ut_pool, NULL,
                           apr_pstrcat(ut_pool, "access_token=", t4096, NULL),
                           HQ, &token, &why),
        OA2F_OK);
    ck_assert_str_eq(token, t4096);

    ck_assert_int_eq(
        oa2f_token_extract(ut_pool, NULL,
                           apr_pstrcat(ut_pool, "access_token=", t4097, NULL),
                           HQ, &token, &why),
        OA2F_BAD_REQUEST);
    ck_assert_ptr_null(token);
    ck_assert_ptr_null(strstr(why, MARK));

    /* 4096 bytes once decoded, each one sent as %41: 12288 encoded bytes */
    enc = apr_palloc(ut_pool, 3 * OA2F_TOKEN_MAX_LEN + 1);
    for (i = 0; i < OA2F_TOKEN_MAX_LEN; i++) {
        memcpy(enc + 3 * i, "%41", 3);
    }
    enc[3 * OA2F_TOKEN_MAX_LEN] = '\0';
    ck_assert_int_eq(
        oa2f_token_extract(ut_pool, NULL,
                           apr_pstrcat(ut_pool, "access_token=", enc, NULL),
                           HQ, &token, &why),
        OA2F_OK);
    ck_assert_uint_eq(strlen(token), OA2F_TOKEN_MAX_LEN);
    ck_assert_int_eq(token[0], 'A');

    /* one more encoded byte: 4097 decoded */
    ck_assert_int_eq(oa2f_token_extract(ut_pool, NULL,
                                        apr_pstrcat(ut_pool, "access_token=",
                                                    enc, "%41", NULL),
                                        HQ, &token, &why),
                     OA2F_BAD_REQUEST);
    ck_assert_ptr_null(token);
}
END_TEST

/* The decoded query token is a copy in the pool, not a pointer into the
 * query string, and is NUL-terminated at its own end. */
START_TEST(test_extract_query_copy)
{
    const char *token, *why;
    char *query = apr_pstrdup(ut_pool, "access_token=" MARK "ab&x=1");

    ck_assert_int_eq(
        oa2f_token_extract(ut_pool, NULL, query, HQ, &token, &why), OA2F_OK);
    ck_assert_str_eq(token, MARK "ab");
    memset(query, 'z', strlen(query));
    ck_assert_str_eq(token, MARK "ab");
}
END_TEST

typedef struct {
    const char *s;
    int want;
} b64_case_t;

static const b64_case_t b64_cases[] = {
    { "a", 1 },        { "Zk9x2-hP_q.7Lm~a+b/c=", 1 },
    { "abc==", 1 },    { "abc=====", 1 },
    { "-._~+/", 1 },   { "0", 1 },
    { "", 0 },         { "=", 0 },
    { "==", 0 },       { "=abc", 0 },
    { "ab=c", 0 },     { "ab=c=", 0 },
    { "a b", 0 },      { "a,b", 0 },
    { "a\"b", 0 },     { "a%2B", 0 },
    { "a:b", 0 },      { "a;b", 0 },
    { "a\\b", 0 },     { "a*b", 0 },
    { "a\tb", 0 },     { "ab\r", 0 },
    { "\xc3\xa9", 0 }, { "a\x7f", 0 },
};

START_TEST(test_b64token)
{
    const b64_case_t *tc = &b64_cases[_i];

    ck_assert_msg(oa2f_token_is_b64token(tc->s, strlen(tc->s)) == tc->want,
                  "b64token(\"%s\") should be %d", tc->s, tc->want);
}
END_TEST

/* The length is what counts, not a NUL. */
START_TEST(test_b64token_len)
{
    ck_assert_int_eq(oa2f_token_is_b64token("ab\0cd", 5), 0);
    ck_assert_int_eq(oa2f_token_is_b64token("ab=\0", 4), 0);
    ck_assert_int_eq(oa2f_token_is_b64token("abc d", 3), 1);
    ck_assert_int_eq(oa2f_token_is_b64token("abc", 0), 0);
}
END_TEST

static int all_hex(const char *s)
{
    for (; *s; s++) {
        if (!((*s >= '0' && *s <= '9') || (*s >= 'a' && *s <= 'f'))) {
            return 0;
        }
    }
    return 1;
}

START_TEST(test_fingerprint)
{
    static const char *const tokens[] = {
        "a",
        MARK "abc",
        "0123456789abcdef0123456789abcdef",
        "abcdef012345abcdef012345",
        "Zk9x2-hP_q.7Lm~a+b/c=",
    };
    int i;

    for (i = 0; i < UT_N(tokens); i++) {
        const char *fp = oa2f_token_fingerprint(ut_pool, tokens[i]);
        ck_assert_ptr_nonnull(fp);
        ck_assert_uint_eq(strlen(fp), 12);
        ck_assert_msg(all_hex(fp), "fingerprint %s is not lower-case hex", fp);
        ck_assert_msg(strstr(tokens[i], fp) == NULL,
                      "fingerprint %s is part of the token", fp);
        /* stable */
        ck_assert_str_eq(fp, oa2f_token_fingerprint(ut_pool, tokens[i]));
    }
    /* SHA-256("abc") = ba7816bf8f01cfea... */
    ck_assert_str_eq(oa2f_token_fingerprint(ut_pool, "abc"), "ba7816bf8f01");
    ck_assert_str_ne(oa2f_token_fingerprint(ut_pool, "abc"),
                     oa2f_token_fingerprint(ut_pool, "abd"));
}
END_TEST

/* ---- the token removed from the query ---------------------------------- */

static const struct {
    const char *in, *out;
} query_cases[] = {
    { "access_token=T", NULL },
    { "a=1&access_token=T&b=2", "a=1&b=2" },
    { "access_token=T&b=2", "b=2" },
    { "a=1&access_token=T", "a=1" },
    { "access_token", NULL },
    { "a=1&access_token=T&access_token=U", "a=1" },
    { "my_access_token=T&a=1", "my_access_token=T&a=1" },
    { "access_tokens=T", "access_tokens=T" },
    { "a=1&&access_token=T", "a=1" },
};

START_TEST(query_without_token)
{
    const char *got = oa2f_query_without_token(ut_pool, query_cases[_i].in);

    if (!query_cases[_i].out) {
        ck_assert_msg(got == NULL, "%s -> %s", query_cases[_i].in, got);
    }
    else {
        ck_assert_str_eq(got, query_cases[_i].out);
    }
}
END_TEST

START_TEST(query_unchanged_is_same_pointer)
{
    const char *q = "a=1&b=2";

    ck_assert_ptr_eq(oa2f_query_without_token(ut_pool, q), q);
    ck_assert_ptr_null(oa2f_query_without_token(ut_pool, NULL));
}
END_TEST

Suite *token_suite(void)
{
    Suite *s = suite_create("token");
    TCase *tc;

    tc = ut_tcase("extract");
    tcase_add_loop_test(tc, test_extract_table, 0, UT_N(extract_cases));
    tcase_add_test(tc, test_extract_length_header);
    tcase_add_test(tc, test_extract_length_query);
    tcase_add_test(tc, test_extract_query_copy);
    suite_add_tcase(s, tc);

    tc = ut_tcase("b64token");
    tcase_add_loop_test(tc, test_b64token, 0, UT_N(b64_cases));
    tcase_add_test(tc, test_b64token_len);
    tcase_add_test(tc, test_fingerprint);
    suite_add_tcase(s, tc);

    tc = ut_tcase("query");
    tcase_add_loop_test(tc, query_without_token, 0, UT_N(query_cases));
    tcase_add_test(tc, query_unchanged_is_same_pointer);
    suite_add_tcase(s, tc);
    return s;
}
