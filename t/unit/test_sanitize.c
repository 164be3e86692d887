/* oa2f_sanitize.c: header and environment names and values from provider
 * fields (README "What the backend receives"; docs/providers.md §7 and
 * §8, edge case 22). */
#include <string.h>
#include <apr_strings.h>

#include "unit.h"
#include "oa2f_sanitize.h"

typedef struct {
    const char *s;
    int want;
} token_case_t;

static const token_case_t http_token_cases[] = {
    { "username", 1 },    { "client_id", 1 }, { "X-AGW-user", 1 },
    { "a", 1 },           { "0", 1 },         { "!#$%&'*+-.^_`|~", 1 },
    { "Abc09", 1 },       { "", 0 },          { "a b", 0 },
    { " a", 0 },          { "a ", 0 },        { "a:b", 0 },
    { "a\r\nX-Evil", 0 }, { "a\n", 0 },       { "a\t", 0 },
    { "a\"b", 0 },        { "a(b)", 0 },      { "a,b", 0 },
    { "a/b", 0 },         { "a;b", 0 },       { "a=b", 0 },
    { "a@b", 0 },         { "a[b]", 0 },      { "a{b}", 0 },
    { "a\\b", 0 },        { "a?b", 0 },       { "a<b>", 0 },
    { "\xc3\xa9", 0 },    { "a\x7f", 0 },
};

START_TEST(test_http_token)
{
    const token_case_t *tc = &http_token_cases[_i];

    ck_assert_msg(oa2f_is_http_token(tc->s) == tc->want,
                  "is_http_token(\"%s\") should be %d", tc->s, tc->want);
}
END_TEST

START_TEST(test_http_token_null)
{
    ck_assert_int_eq(oa2f_is_http_token(NULL), 0);
}
END_TEST

static const char *repeat(char c, apr_size_t n)
{
    char *s = apr_palloc(ut_pool, n + 1);

    memset(s, c, n);
    s[n] = '\0';
    return s;
}

/* Which field names become headers (README "What the backend receives":
 * names that are not HTTP tokens are skipped); the enrichment prepends
 * the prefix itself. */
START_TEST(test_header_name)
{
    ck_assert(oa2f_is_http_token("username"));
    ck_assert(oa2f_is_http_token("client_id"));
    ck_assert(oa2f_is_http_token("sub"));
    ck_assert(oa2f_is_http_token("Org.Name"));

    ck_assert(!oa2f_is_http_token(""));
    ck_assert(!oa2f_is_http_token("user name"));
    ck_assert(!oa2f_is_http_token("user:x"));
    ck_assert(!oa2f_is_http_token("a\r\nX-Evil: 1"));
    ck_assert(!oa2f_is_http_token("a\n"));
    ck_assert(!oa2f_is_http_token("\xc3\xa9t\xc3\xa9"));
    ck_assert(oa2f_is_http_token(repeat('a', 100000)));
}
END_TEST

typedef struct {
    const char *prefix;
    const char *field;
    const char *want;
} env_case_t;

static const env_case_t env_cases[] = {
    { "AGW_", "username", "AGW_USERNAME" },
    { "AGW_", "client_id", "AGW_CLIENT_ID" },
    { "AGW_", "UserName", "AGW_USERNAME" },
    { "AGW_", "user-name", "AGW_USER_NAME" },
    { "AGW_", "org.name", "AGW_ORG_NAME" },
    { "AGW_", "a b:c", "AGW_A_B_C" },
    { "AGW_", "x9", "AGW_X9" },
    { "AGW_", "a\r\nb", "AGW_A__B" },
    { "AGW_", "\xc3\xa9t\xc3\xa9", "AGW___T__" },
    { "AGW_", "a\xff", "AGW_A_" },
    { "AGW_", "http://x/y", "AGW_HTTP___X_Y" },
    { "", "sub", "SUB" },
    { "MY_", "a=b", "MY_A_B" },
};

START_TEST(test_env_name)
{
    const env_case_t *tc = &env_cases[_i];

    ck_assert_str_eq(oa2f_env_name(ut_pool, tc->prefix, tc->field), tc->want);
}
END_TEST

/* Whatever the field, the name part is only A-Z0-9_. */
START_TEST(test_env_name_charset)
{
    char field[256];
    const char *n;
    int i;

    for (i = 0; i < 255; i++) {
        field[i] = (char)(i + 1);
    }
    field[255] = '\0';
    n = oa2f_env_name(ut_pool, "AGW_", field);
    ck_assert_uint_eq(strlen(n), 4 + 255);
    for (n += 4; *n; n++) {
        ck_assert_msg((*n >= 'A' && *n <= 'Z') || (*n >= '0' && *n <= '9')
                          || *n == '_',
                      "character 0x%02x in an env name", (unsigned char)*n);
    }
}
END_TEST

typedef struct {
    const char *in;
    apr_size_t len;
    const char *want;
} clean_case_t;

#define CLEAN(in, want)                                                       \
    {                                                                         \
        in, sizeof(in) - 1, want                                              \
    }

static const clean_case_t clean_cases[] = {
    CLEAN("alice", "alice"),
    CLEAN("", ""),
    CLEAN("a b", "a b"),
    CLEAN("a\r\nX-Evil: 1", "aX-Evil: 1"),
    CLEAN("\r\n", ""),
    CLEAN("a\rb", "ab"),
    CLEAN("a\nb", "ab"),
    CLEAN("a\0b", "ab"),
    CLEAN("a\x7f"
          "b",
          "ab"),
    CLEAN("a\tb", "ab"),
    CLEAN("\x1b[31mred", "[31mred"),
    CLEAN("\x01\x02\x1f", ""),
    CLEAN("J\xc3\xbcrgen", "J\xc3\xbcrgen"),
    CLEAN("\xe2\x82\xac \xf0\x9f\x98\x80", "\xe2\x82\xac \xf0\x9f\x98\x80"),
    CLEAN("\x80\xff\xfe", "\x80\xff\xfe"),
    CLEAN("{\"a\":[1,2]}", "{\"a\":[1,2]}"),
    CLEAN("~!@#$%^&*()", "~!@#$%^&*()"),
};

START_TEST(test_clean_value)
{
    const clean_case_t *tc = &clean_cases[_i];

    ck_assert_str_eq(oa2f_clean_value(ut_pool, tc->in, tc->len), tc->want);
}
END_TEST

/* The length bounds the copy, whatever follows. */
START_TEST(test_clean_value_len)
{
    ck_assert_str_eq(oa2f_clean_value(ut_pool, "abcdef", 3), "abc");
    ck_assert_str_eq(oa2f_clean_value(ut_pool, "abc", 0), "");
}
END_TEST

typedef struct {
    const char *name;
    const char *prefix;
    int want;
} prefix_case_t;

static const prefix_case_t prefix_cases[] = {
    { "X-AGW-username", "X-AGW-", 1 },
    { "x-agw-username", "X-AGW-", 1 },
    { "X-Agw-Username", "X-AGW-", 1 },
    { "X_AGW_username", "X-AGW-", 1 },
    { "x_agw-username", "X-AGW-", 1 },
    { "X-AGW-username", "x_agw_", 1 },
    { "X-AGW-", "X-AGW-", 1 },
    { "X_AGW_", "X-AGW-", 1 },
    { "X-AGW", "X-AGW-", 0 },
    { "X-AG", "X-AGW-", 0 },
    { "", "X-AGW-", 0 },
    { "X-AGX-user", "X-AGW-", 0 },
    { "XX-AGW-user", "X-AGW-", 0 },
    { "X.AGW.user", "X-AGW-", 0 },
    { "X AGW user", "X-AGW-", 0 },
    { "Authorization", "X-AGW-", 0 },
    { "anything", "", 1 },
};

START_TEST(test_has_prefix_folded)
{
    const prefix_case_t *tc = &prefix_cases[_i];

    ck_assert_msg(oa2f_has_prefix_folded(tc->name, tc->prefix) == tc->want,
                  "has_prefix_folded(\"%s\", \"%s\") should be %d", tc->name,
                  tc->prefix, tc->want);
}
END_TEST

/* ---- checks of values prepared elsewhere ------------------------------ */

/* Every byte at every offset of buffers up to 24 bytes, so that the
 * word-wise scan is tried in every lane and in the tail. */
START_TEST(test_has_control)
{
    char buf[24];
    apr_size_t len, at;
    int b;

    ck_assert_int_eq(oa2f_has_control("", 0), 0);
    ck_assert_int_eq(oa2f_has_control("abc\n", 3), 0); /* len bounds it */
    for (len = 1; len <= sizeof(buf); len++) {
        for (at = 0; at < len; at++) {
            for (b = 0; b < 256; b++) {
                int want = b < 0x20 || b == 0x7f;
                memset(buf, 'a', sizeof(buf));
                buf[at] = (char)b;
                if (oa2f_has_control(buf, len) != want) {
                    ck_abort_msg("byte 0x%02x at %d of %d: %d", b, (int)at,
                                 (int)len, !want);
                }
            }
        }
    }
    /* bytes next to the edges of the ranges, all in one word */
    ck_assert_int_eq(oa2f_has_control("\x20\x7e\x80\xff\x21\x60\x7e\xa0", 8),
                     0);
    ck_assert_int_eq(oa2f_has_control("\x20\x7e\x80\xff\x21\x60\x7f\xa0", 8),
                     1);
    ck_assert_int_eq(oa2f_has_control("\x20\x7e\x80\xff\x21\x60\x1f\xa0", 8),
                     1);
}
END_TEST

typedef struct {
    const char *value;
    apr_size_t len;
    const char *shown;
    int want;
} clean_of_case_t;

#define CLEAN_OF(v, s, w)                                                     \
    {                                                                         \
        v, sizeof(v) - 1, s, w                                                \
    }

static const clean_of_case_t clean_of_cases[] = {
    CLEAN_OF("", "", 1),
    CLEAN_OF("alice", "alice", 1),
    CLEAN_OF("a\r\nX-Evil: 1", "aX-Evil: 1", 1),
    CLEAN_OF("a\0b", "ab", 1),
    CLEAN_OF("\r\n", "", 1),
    CLEAN_OF("\x80\xff", "\x80\xff", 1),
    CLEAN_OF("a\r\nX-Evil: 1", "a\r\nX-Evil: 1", 0),
    CLEAN_OF("a\r\nb", "a\nb", 0),
    CLEAN_OF("a\r\nb", "a", 0),
    CLEAN_OF("a\r\nb", "abc", 0),
    CLEAN_OF("a\r\nb", "ba", 0),
    CLEAN_OF("alice", "ALICE", 0),
    CLEAN_OF("alice", "", 0),
    CLEAN_OF("", "x", 0),
    CLEAN_OF("\r\n", "\r\n", 0),
};

START_TEST(test_is_clean_of)
{
    const clean_of_case_t *tc = &clean_of_cases[_i];
    const char *clean = oa2f_clean_value(ut_pool, tc->value, tc->len);

    ck_assert_msg(
        oa2f_is_clean_of(tc->value, tc->len, tc->shown, strlen(tc->shown))
            == tc->want,
        "case %d should be %d", _i, tc->want);
    /* agrees with oa2f_clean_value */
    ck_assert_int_eq(strcmp(clean, tc->shown) == 0, tc->want);
    ck_assert_int_eq(
        oa2f_is_clean_of(tc->value, tc->len, clean, strlen(clean)), 1);
    /* the value as its own shown value: clean when it has no control */
    ck_assert_int_eq(oa2f_is_clean_of(tc->value, tc->len, tc->value, tc->len),
                     !oa2f_has_control(tc->value, tc->len));
}
END_TEST

/* The env suffix and token flag of a name against what oa2f_env_name and
 * oa2f_is_http_token make of it, for every name of the tables above. */
START_TEST(test_field_names_are)
{
    int i;

    for (i = 0; i < UT_N(http_token_cases) + UT_N(env_cases); i++) {
        const char *name = i < UT_N(http_token_cases)
                               ? http_token_cases[i].s
                               : env_cases[i - UT_N(http_token_cases)].field;
        const char *env = oa2f_env_name(ut_pool, "", name);
        int token = oa2f_is_http_token(name);

        ck_assert_msg(oa2f_field_names_are(name, env, token) == 1,
                      "%s: its own names refused", name);
        ck_assert_msg(oa2f_field_names_are(name, env, !token) == 0,
                      "%s: the other token flag taken", name);
        ck_assert_msg(oa2f_field_names_are(
                          name, apr_pstrcat(ut_pool, env, "X", NULL), token)
                          == 0,
                      "%s: a longer suffix taken", name);
        if (*env) {
            ck_assert_msg(oa2f_field_names_are(name, env + 1, token) == 0,
                          "%s: a shorter suffix taken", name);
        }
    }
    ck_assert_int_eq(oa2f_field_names_are("sub", "SUB", 1), 1);
    ck_assert_int_eq(oa2f_field_names_are("sub", "sub", 1), 0);
    ck_assert_int_eq(oa2f_field_names_are("sub", "SUB\r\n", 1), 0);
    ck_assert_int_eq(oa2f_field_names_are("sub", "ADMIN", 1), 0);
    ck_assert_int_eq(oa2f_field_names_are("sub", "", 1), 0);
    ck_assert_int_eq(oa2f_field_names_are("a b", "A_B", 0), 1);
    ck_assert_int_eq(oa2f_field_names_are("a b", "A B", 0), 0);
    ck_assert_int_eq(oa2f_field_names_are("", "", 0), 1);
    ck_assert_int_eq(oa2f_field_names_are("", "", 1), 0);
    ck_assert_int_eq(oa2f_field_names_are("", "X", 0), 0);
    ck_assert_int_eq(oa2f_field_names_are("sub", "SUB", 2), 0);
}
END_TEST

/* Names around the 256 bytes an env suffix keeps. */
START_TEST(test_field_names_are_long)
{
    static const apr_size_t lens[] = { 255, 256, 257, 300, 5000 };
    int i;

    for (i = 0; i < UT_N(lens); i++) {
        const char *name = repeat('a', lens[i]);
        const char *env = oa2f_env_name(ut_pool, "", name);
        apr_size_t cut = lens[i] < 256 ? lens[i] : 256;

        ck_assert_uint_eq(strlen(env), cut);
        ck_assert_int_eq(oa2f_field_names_are(name, env, 1), 1);
        /* the suffix as long as the name, when that is more than kept */
        ck_assert_int_eq(oa2f_field_names_are(name, repeat('A', lens[i]), 1),
                         lens[i] <= 256);
        ck_assert_int_eq(oa2f_field_names_are(name, repeat('A', cut - 1), 1),
                         0);
        /* a non-token byte past the cut still clears the token flag */
        {
            char *n = apr_pstrdup(ut_pool, name);
            n[lens[i] - 1] = ' ';
            ck_assert_int_eq(
                oa2f_field_names_are(n, oa2f_env_name(ut_pool, "", n), 0), 1);
            ck_assert_int_eq(
                oa2f_field_names_are(n, oa2f_env_name(ut_pool, "", n), 1), 0);
        }
    }
}
END_TEST

Suite *sanitize_suite(void)
{
    Suite *s = suite_create("sanitize");
    TCase *tc = ut_tcase("sanitize");

    tcase_add_loop_test(tc, test_http_token, 0, UT_N(http_token_cases));
    tcase_add_test(tc, test_http_token_null);
    tcase_add_test(tc, test_header_name);
    tcase_add_loop_test(tc, test_env_name, 0, UT_N(env_cases));
    tcase_add_test(tc, test_env_name_charset);
    tcase_add_loop_test(tc, test_clean_value, 0, UT_N(clean_cases));
    tcase_add_test(tc, test_clean_value_len);
    tcase_add_loop_test(tc, test_has_prefix_folded, 0, UT_N(prefix_cases));
    tcase_add_test(tc, test_has_control);
    tcase_add_loop_test(tc, test_is_clean_of, 0, UT_N(clean_of_cases));
    tcase_add_test(tc, test_field_names_are);
    tcase_add_test(tc, test_field_names_are_long);
    suite_add_tcase(s, tc);
    return s;
}
