/* oa2f_encoding.c: OAuth2FederatedValueEncoding's conversions. */
#include <string.h>

#include "oa2f_encoding.h"
#include "unit.h"
#include "ut_common.h"

START_TEST(parse_names)
{
    ck_assert_int_eq(oa2f_encoding_parse("utf8"), OA2F_ENC_UTF8);
    ck_assert_int_eq(oa2f_encoding_parse("UTF-8"), OA2F_ENC_UTF8);
    ck_assert_int_eq(oa2f_encoding_parse("latin1"), OA2F_ENC_LATIN1);
    ck_assert_int_eq(oa2f_encoding_parse("ISO-8859-1"), OA2F_ENC_LATIN1);
    ck_assert_int_eq(oa2f_encoding_parse("base64url"), OA2F_ENC_BASE64URL);
    ck_assert_int_eq(oa2f_encoding_parse("base64"), -1);
    ck_assert_int_eq(oa2f_encoding_parse(""), -1);
}
END_TEST

START_TEST(ascii_untouched)
{
    const char *v = "alice@example.com";

    /* the same pointer: no allocation on the request path */
    ck_assert_ptr_eq(oa2f_encode_value(ut_pool, v, OA2F_ENC_UTF8), v);
    ck_assert_ptr_eq(oa2f_encode_value(ut_pool, v, OA2F_ENC_LATIN1), v);
    ck_assert_ptr_eq(oa2f_encode_value(ut_pool, v, OA2F_ENC_BASE64URL), v);
    v = "Zo\xc3\xab";
    ck_assert_ptr_eq(oa2f_encode_value(ut_pool, v, OA2F_ENC_UTF8), v);
}
END_TEST

static const struct {
    const char *in, *latin1, *b64;
} cases[] = {
    /* é ß: in Latin-1 */
    { "Zo\xc3\xab", "Zo\xeb", "Wm_Dqw" },
    { "Stra\xc3\x9f"
      "e",
      "Stra\xdf"
      "e",
      "U3RyYcOfZQ" },
    /* 東京, an emoji: nothing of them in Latin-1 */
    { "\xe6\x9d\xb1\xe4\xba\xac", "", "5p2x5Lqs" },
    { "hi \xf0\x9f\x98\x80!", "hi !", "aGkg8J-YgCE" },
    /* not UTF-8: a lone continuation, a truncated sequence, overlong,
     * a surrogate, above U+10FFFF, 0xff */
    { "a\x80"
      "b",
      "ab", "YYBi" },
    { "a\xc3", "a", "YcM" },
    { "\xc0\xaf"
      "x",
      "x", "wK94" },
    { "\xed\xa0\x80"
      "x",
      "x", "7aCAeA" },
    { "\xf4\x90\x80\x80", "", "9JCAgA" },
    { "\xff\xfe", "", "__4" },
    /* U+0080..U+009F are C1 controls: dropped; U+00A0 kept */
    { "\xc2\x85\xc2\xa0", "\xa0", "woXCoA" },
};

START_TEST(converts)
{
    ck_assert_str_eq(oa2f_encode_value(ut_pool, cases[_i].in, OA2F_ENC_LATIN1),
                     cases[_i].latin1);
    ck_assert_str_eq(
        oa2f_encode_value(ut_pool, cases[_i].in, OA2F_ENC_BASE64URL),
        cases[_i].b64);
    ck_assert_str_eq(oa2f_encode_value(ut_pool, cases[_i].in, OA2F_ENC_UTF8),
                     cases[_i].in);
}
END_TEST

Suite *encoding_suite(void)
{
    Suite *s = suite_create("encoding");
    TCase *tc = ut_tcase("encoding");

    tcase_add_test(tc, parse_names);
    tcase_add_test(tc, ascii_untouched);
    tcase_add_loop_test(tc, converts, 0, UT_N(cases));
    suite_add_tcase(s, tc);
    return s;
}
