/* oa2f_metadata.c: the issuer a metadata URL implies (RFC 8414 §3.1 and
 * §3.3, OpenID Connect Discovery 1.0 §4), the checks of a document, its
 * keeping time (RFC 9111 §5.2.2), and the issuer check of README
 * "Resource identity" when the issuer comes from the document. */
#include <string.h>

#include "unit.h"
#include "ut_common.h"
#include "oa2f_audience.h"
#include "oa2f_metadata.h"

static const struct {
    const char *url, *issuer; /* NULL: none implied */
} url_cases[] = {
    { "https://as.example/.well-known/oauth-authorization-server",
      "https://as.example" },
    { "https://as.example:8443/.well-known/oauth-authorization-server/t/1",
      "https://as.example:8443/t/1" },
    { "http://127.0.0.1:9/.well-known/openid-configuration",
      "http://127.0.0.1:9" },
    { "https://as.example/tenant/.well-known/openid-configuration",
      "https://as.example/tenant" },
    { "https://as.example/.well-known/openid-configuration/tenant",
      "https://as.example/tenant" },
    { "https://as.example/.well-known/oauth-authorization-serverx", NULL },
    { "https://as.example/metadata.json", NULL },
    { "https://as.example/.well-known/openid-configuration?x=1", NULL },
    { "https://as.example/.well-known/openid-configuration#f", NULL },
    { "ftp://as.example/.well-known/openid-configuration", NULL },
    { "https://as.example", NULL },
};

START_TEST(issuer_of_url)
{
    const char *got = oa2f_metadata_issuer_of_url(ut_pool, url_cases[_i].url);

    if (!url_cases[_i].issuer) {
        ck_assert_msg(got == NULL, "%s: %s", url_cases[_i].url, got);
    }
    else {
        ck_assert_msg(got && strcmp(got, url_cases[_i].issuer) == 0, "%s: %s",
                      url_cases[_i].url, got ? got : "NULL");
    }
}
END_TEST

#define ISS "https://as.example"
#define EP  "\"introspection_endpoint\":\"https://as.example/introspect\""

static const struct {
    const char *doc;
    int need, ok;
} doc_cases[] = {
    { "{\"issuer\":\"" ISS "\"," EP "}", 1, 1 },
    { "{\"issuer\":\"" ISS "\"}", 0, 1 },
    { "{\"issuer\":\"" ISS "\"}", 1, 0 },
    /* RFC 8414 §3.3: exact match, a trailing slash differs */
    { "{\"issuer\":\"" ISS "/\"," EP "}", 1, 0 },
    { "{\"issuer\":\"https://AS.example\"," EP "}", 1, 0 },
    { "{\"issuer\":\"https://evil.example\"," EP "}", 0, 0 },
    { "{" EP "}", 0, 0 },
    { "{\"issuer\":42," EP "}", 0, 0 },
    { "{\"issuer\":\"" ISS "\",\"introspection_endpoint\":5}", 1, 0 },
    { "{\"issuer\":\"" ISS "\","
      "\"introspection_endpoint\":\"file:///etc/passwd\"}",
      1, 0 },
    { "{\"issuer\":\"" ISS "\\u0000x\"," EP "}", 0, 0 },
    { "[{\"issuer\":\"" ISS "\"}]", 0, 0 },
    { "<html>sign in</html>", 0, 0 },
    { "{\"issuer\":\"" ISS "\"} trailing", 0, 0 },
    { "", 0, 0 },
};

START_TEST(document)
{
    oa2f_metadata_t md;
    const char *why = NULL;
    int ok = oa2f_metadata_parse(ut_pool, doc_cases[_i].doc,
                                 strlen(doc_cases[_i].doc), ISS,
                                 doc_cases[_i].need, &md, &why);

    ck_assert_msg(ok == doc_cases[_i].ok, "%s: %d (%s)", doc_cases[_i].doc, ok,
                  why ? why : "-");
    if (ok) {
        ck_assert_str_eq(md.issuer, ISS);
        if (doc_cases[_i].need) {
            ck_assert_str_eq(md.introspection_endpoint,
                             "https://as.example/introspect");
        }
    }
    else {
        ck_assert_ptr_nonnull(why);
    }
}
END_TEST

START_TEST(no_implied_issuer)
{
    oa2f_metadata_t md;
    const char *why = NULL;
    const char *doc = "{\"issuer\":\"" ISS "\"," EP "}";

    ck_assert_int_eq(
        oa2f_metadata_parse(ut_pool, doc, strlen(doc), NULL, 1, &md, &why), 0);
    ck_assert_ptr_nonnull(strstr(why, "implies no issuer"));
}
END_TEST

/* What children share: a 200 KiB document becomes a few hundred bytes
 * that parse to the same members. */
START_TEST(compact_round_trip)
{
    apr_size_t big = 200 * 1024, len = 0, n;
    char *doc = apr_palloc(ut_pool, big + 512);
    const char *head = "{\"issuer\":\"" ISS "\"," EP
                       ",\"jwks_uri\":\"https://as.example/jw\\\"ks\","
                       "\"op_policy_uri\":\"";
    const char *small, *why = NULL;
    oa2f_metadata_t md, again;

    n = strlen(head);
    memcpy(doc, head, n);
    memset(doc + n, 'x', big);
    memcpy(doc + n + big, "\"}", 3);
    ck_assert_int_eq(
        oa2f_metadata_parse(ut_pool, doc, strlen(doc), ISS, 1, &md, &why), 1);
    small = oa2f_metadata_compact(ut_pool, &md, &len);
    ck_assert_uint_eq(len, strlen(small));
    ck_assert_uint_lt(len, 256);
    ck_assert_int_eq(
        oa2f_metadata_parse(ut_pool, small, len, ISS, 1, &again, &why), 1);
    ck_assert_str_eq(again.issuer, ISS);
    ck_assert_str_eq(again.introspection_endpoint,
                     "https://as.example/introspect");
    ck_assert_str_eq(again.jwks_uri, "https://as.example/jw\"ks");
    /* no endpoint stays no endpoint */
    md.introspection_endpoint = NULL;
    md.jwks_uri = NULL;
    small = oa2f_metadata_compact(ut_pool, &md, &len);
    ck_assert_int_eq(
        oa2f_metadata_parse(ut_pool, small, len, ISS, 1, &again, &why), 0);
    ck_assert_int_eq(
        oa2f_metadata_parse(ut_pool, small, len, ISS, 0, &again, &why), 1);
    ck_assert_ptr_null(again.jwks_uri);
}
END_TEST

START_TEST(ttl)
{
    ck_assert_int_eq(oa2f_metadata_ttl(NULL), OA2F_METADATA_MAX_TTL);
    ck_assert_int_eq(oa2f_metadata_ttl("public"), OA2F_METADATA_MAX_TTL);
    ck_assert_int_eq(oa2f_metadata_ttl("public, max-age=600"), 600);
    ck_assert_int_eq(oa2f_metadata_ttl("Max-Age=\"60\""), 60);
    ck_assert_int_eq(oa2f_metadata_ttl("max-age=86400"),
                     OA2F_METADATA_MAX_TTL);
    ck_assert_int_eq(oa2f_metadata_ttl("max-age=99999999999999999999"),
                     OA2F_METADATA_MAX_TTL);
    ck_assert_int_eq(oa2f_metadata_ttl("max-age=0"), 0);
    ck_assert_int_eq(oa2f_metadata_ttl("no-store"), 0);
    ck_assert_int_eq(oa2f_metadata_ttl("max-age=600, no-cache"), 0);
    ck_assert_int_eq(oa2f_metadata_ttl("max-age=x"), OA2F_METADATA_MAX_TTL);
}
END_TEST

START_TEST(discovered_issuer)
{
    const char *why = NULL;

    /* no iss: accepted when the issuer only comes from discovery */
    ck_assert_int_eq(oa2f_issuer_check_discovered(
                         ut_pool, ut_claims_of_json("{}"), ISS, &why),
                     OA2F_OK);
    ck_assert_int_eq(
        oa2f_issuer_check_discovered(
            ut_pool, ut_claims_of_json("{\"iss\":\"" ISS "\"}"), ISS, &why),
        OA2F_OK);
    ck_assert_int_eq(
        oa2f_issuer_check_discovered(
            ut_pool, ut_claims_of_json("{\"iss\":\"" ISS "/\"}"), ISS, &why),
        OA2F_WRONG_ISSUER);
    ck_assert_int_eq(oa2f_issuer_check_discovered(
                         ut_pool,
                         ut_claims_of_json("{\"iss\":\"https://x.example\"}"),
                         ISS, &why),
                     OA2F_WRONG_ISSUER);
    ck_assert_int_eq(oa2f_issuer_check_discovered(
                         ut_pool,
                         ut_claims_of_json("{\"iss\":\"https://x.example\"}"),
                         NULL, &why),
                     OA2F_OK);
}
END_TEST

Suite *metadata_suite(void)
{
    Suite *s = suite_create("metadata");
    TCase *tc = ut_tcase("metadata");

    tcase_add_loop_test(tc, issuer_of_url, 0, UT_N(url_cases));
    tcase_add_test(tc, compact_round_trip);
    tcase_add_loop_test(tc, document, 0, UT_N(doc_cases));
    tcase_add_test(tc, no_implied_issuer);
    tcase_add_test(tc, ttl);
    tcase_add_test(tc, discovered_issuer);
    suite_add_tcase(s, tc);
    return s;
}
