/* oa2f_sanitize.c: header and environment names and values from provider
 * fields (SPEC §4; PROVIDERS.md §10 items 21 and 36). */
#include <string.h>
#include <apr_strings.h>

#include "unit.h"
#include "oa2f_sanitize.h"

typedef struct {
    const char *s;
    int want;
} token_case_t;

static const token_case_t http_token_cases[] = {
    { "username", 1 },
    { "client_id", 1 },
    { "X-AGW-user", 1 },
    { "a", 1 },
    { "0", 1 },
    { "!#$%&'*+-.^_`|~", 1 },
    { "Abc09", 1 },
    { "", 0 },
    { "a b", 0 },
    { " a", 0 },
    { "a ", 0 },
    { "a:b", 0 },
    { "a\r\nX-Evil", 0 },
    { "a\n", 0 },
    { "a\t", 0 },
    { "a\"b", 0 },
    { "a(b)", 0 },
    { "a,b", 0 },
    { "a/b", 0 },
    { "a;b", 0 },
    { "a=b", 0 },
    { "a@b", 0 },
    { "a[b]", 0 },
    { "a{b}", 0 },
    { "a\\b", 0 },
    { "a?b", 0 },
    { "a<b>", 0 },
    { "\xc3\xa9", 0 },
    { "a\x7f", 0 },
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

START_TEST(test_header_name)
{
    const char *n;

    ck_assert_str_eq(oa2f_header_name(ut_pool, "X-AGW-", "username"),
                     "X-AGW-username");
    ck_assert_str_eq(oa2f_header_name(ut_pool, "X-AGW-", "client_id"),
                     "X-AGW-client_id");
    ck_assert_str_eq(oa2f_header_name(ut_pool, "", "sub"), "sub");
    ck_assert_str_eq(oa2f_header_name(ut_pool, "X-Id-", "Org.Name"),
                     "X-Id-Org.Name");

    ck_assert_ptr_null(oa2f_header_name(ut_pool, "X-AGW-", ""));
    ck_assert_ptr_null(oa2f_header_name(ut_pool, "X-AGW-", "user name"));
    ck_assert_ptr_null(oa2f_header_name(ut_pool, "X-AGW-", "user:x"));
    ck_assert_ptr_null(oa2f_header_name(ut_pool, "X-AGW-",
                                        "a\r\nX-Evil: 1"));
    ck_assert_ptr_null(oa2f_header_name(ut_pool, "X-AGW-", "a\n"));
    ck_assert_ptr_null(oa2f_header_name(ut_pool, "X-AGW-",
                                        "\xc3\xa9t\xc3\xa9"));

    /* 256 bytes in all is the most we build */
    n = oa2f_header_name(ut_pool, "X-AGW-", repeat('a', 250));
    ck_assert_ptr_nonnull(n);
    ck_assert_uint_eq(strlen(n), 256);
    ck_assert_ptr_null(oa2f_header_name(ut_pool, "X-AGW-", repeat('a', 251)));
    ck_assert_ptr_null(oa2f_header_name(ut_pool, "X-AGW-",
                                        repeat('a', 100000)));
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

    ck_assert_str_eq(oa2f_env_name(ut_pool, tc->prefix, tc->field),
                     tc->want);
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
                      || *n == '_', "character 0x%02x in an env name",
                      (unsigned char)*n);
    }
}
END_TEST

typedef struct {
    const char *in;
    apr_size_t len;
    const char *want;
} clean_case_t;

#define CLEAN(in, want) { in, sizeof(in) - 1, want }

static const clean_case_t clean_cases[] = {
    CLEAN("alice", "alice"),
    CLEAN("", ""),
    CLEAN("a b", "a b"),
    CLEAN("a\r\nX-Evil: 1", "aX-Evil: 1"),
    CLEAN("\r\n", ""),
    CLEAN("a\rb", "ab"),
    CLEAN("a\nb", "ab"),
    CLEAN("a\0b", "ab"),
    CLEAN("a\x7f" "b", "ab"),
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
    suite_add_tcase(s, tc);
    return s;
}
