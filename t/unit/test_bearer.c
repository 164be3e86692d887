/* oa2f_bearer.c: bearer-only checks of an answer's token_type, token_use
 * and cnf (README "Trust boundaries"; docs/providers.md §3.4), and the
 * x5t#S256 thumbprint of a client certificate. */
#include "unit.h"
#include "ut_common.h"
#include "oa2f_bearer.h"
#include "oa2f_dialect.h"

static const struct {
    const char *answer;
    oa2f_outcome_e want;
} bearer_cases[] = {
    { "{\"active\":true}", OA2F_OK },
    { "{\"active\":true,\"token_type\":\"Bearer\"}", OA2F_OK },
    { "{\"active\":true,\"token_type\":\"bearer\"}", OA2F_OK },
    { "{\"active\":true,\"token_type\":\"DPoP\"}", OA2F_INACTIVE },
    { "{\"active\":true,\"token_type\":\"N_A\"}", OA2F_INACTIVE },
    { "{\"active\":true,\"token_type\":\"refresh_token\"}", OA2F_INACTIVE },
    { "{\"active\":true,\"token_type\":\"access_token\"}", OA2F_OK },
    { "{\"active\":true,\"token_type\":1}", OA2F_INACTIVE },
    { "{\"active\":true,\"token_use\":\"access_token\"}", OA2F_OK },
    { "{\"active\":true,\"token_use\":\"access\"}", OA2F_OK },
    { "{\"active\":true,\"token_use\":\"refresh_token\"}", OA2F_INACTIVE },
    { "{\"active\":true,\"token_use\":\"id\"}", OA2F_INACTIVE },
    { "{\"active\":true,\"cnf\":{\"jkt\":\"0ZcOCORZNYy\"}}", OA2F_INACTIVE },
    { "{\"active\":true,\"cnf\":{\"jwk\":{\"kty\":\"EC\"}}}", OA2F_INACTIVE },
    { "{\"active\":true,\"cnf\":\"x\"}", OA2F_INACTIVE },
    { "{\"active\":true,\"cnf\":{\"x5t#S256\":\"abc\",\"jkt\":\"d\"}}",
      OA2F_INACTIVE },
    { "{\"active\":true,\"cnf\":{\"x5t#S256\":\"\"}}", OA2F_INACTIVE },
    { "{\"active\":true,\"client_id\":\"cnf\",\"tt\":\"DPoP\"}", OA2F_OK },
};

START_TEST(bearer_only)
{
    oa2f_claims_t *c = ut_claims_of_json(bearer_cases[_i].answer);
    const char *x5t = "unset", *why = NULL;
    oa2f_outcome_e o = oa2f_bearer_check(ut_pool, c, NULL, &x5t, &why);

    ck_assert_msg(o == bearer_cases[_i].want, "%s: %s (%s)",
                  bearer_cases[_i].answer, oa2f_outcome_name(o),
                  why ? why : "-");
    ck_assert_ptr_null(x5t);
    if (o != OA2F_OK) {
        ck_assert_ptr_nonnull(why);
    }
}
END_TEST

START_TEST(bearer_dialect_mark_and_x5t)
{
    const char *x5t = NULL, *why = NULL;
    oa2f_claims_t *c = ut_claims_of_json(
        "{\"token_type\":\"urn:pingidentity.com:oauth2:validated_token\"}");

    ck_assert_int_eq(oa2f_bearer_check(ut_pool, c, NULL, &x5t, &why),
                     OA2F_INACTIVE);
    ck_assert_int_eq(
        oa2f_bearer_check(ut_pool, c,
                          oa2f_dialect_find("pingfederate")->own_token_type,
                          &x5t, &why),
        OA2F_OK);

    c = ut_claims_of_json("{\"active\":true,\"cnf\":{\"x5t#S256\":"
                          "\"bwcK0esc3ACC3DB2Y5_lESsXE8o9ltc05O89jdN-dg2\"}}");
    ck_assert_int_eq(oa2f_bearer_check(ut_pool, c, NULL, &x5t, &why), OA2F_OK);
    ck_assert_str_eq(x5t, "bwcK0esc3ACC3DB2Y5_lESsXE8o9ltc05O89jdN-dg2");
}
END_TEST

/* openssl x509 -outform der | openssl dgst -sha256 -binary | base64url */
static const char client_pem[] =
    "-----BEGIN CERTIFICATE-----\n"
    "MIIBgjCCASmgAwIBAgIUNRF4KpjzpBkKGw9Lu698TjqvxPgwCgYIKoZIzj0EAwIw\n"
    "FjEUMBIGA1UEAwwLdW5pdC1jbGllbnQwIBcNMjYxMjAxMjA1NzA5WhgPMjEyNjEx\n"
    "MDcyMDU3MDlaMBYxFDASBgNVBAMMC3VuaXQtY2xpZW50MFkwEwYHKoZIzj0CAQYI\n"
    "KoZIzj0DAQcDQgAEGL+tqWW9bjjY7FolLq6+XSjfWt2J0htKh5OKVBVLiA+dhY5R\n"
    "IECWU2Lsr3TpXeXh4Y9cKxWKvvKZNe/hW3vrGqNTMFEwHQYDVR0OBBYEFLMGmEbI\n"
    "Rg+hdob5+NBdv8tZjy41MB8GA1UdIwQYMBaAFLMGmEbIRg+hdob5+NBdv8tZjy41\n"
    "MA8GA1UdEwEB/wQFMAMBAf8wCgYIKoZIzj0EAwIDRwAwRAIgCe/nkU0JlN89WTy5\n"
    "dJ1VeJSFSji2Tx9SIOxrfimpPZkCIDNCwsc1zqG3JsPbXTRt9GiIEV8N9D3ex2Hr\n"
    "pu9mV3py\n"
    "-----END CERTIFICATE-----\n";

START_TEST(x5t_of_pem)
{
    ck_assert_str_eq(oa2f_x5t_s256_of_pem(ut_pool, client_pem),
                     "-EGlT-N6tftg5xWlRtv4oU7uV4vghjp9kUSKfhkpeaU");
    ck_assert_ptr_null(oa2f_x5t_s256_of_pem(ut_pool, ""));
    ck_assert_ptr_null(oa2f_x5t_s256_of_pem(ut_pool,
                                            "-----BEGIN "
                                            "CERTIFICATE-----\nAAAA\n"));
}
END_TEST

Suite *bearer_suite(void)
{
    Suite *s = suite_create("bearer");
    TCase *tc = ut_tcase("bearer");

    tcase_add_loop_test(tc, bearer_only, 0, UT_N(bearer_cases));
    tcase_add_test(tc, bearer_dialect_mark_and_x5t);
    tcase_add_test(tc, x5t_of_pem);
    suite_add_tcase(s, tc);
    return s;
}
