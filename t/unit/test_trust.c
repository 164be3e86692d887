/* Trust boundaries in the core (README "Trust boundaries"): what names a
 * provider configuration (oa2f_provider.c), bearer-only checks
 * (oa2f_bearer.c), the token removed from answers (oa2f_scrub.c) and
 * from the query (oa2f_token.c). */
#include <string.h>
#include <apr_strings.h>

#include "unit.h"
#include "oa2f_bearer.h"
#include "oa2f_claims.h"
#include "oa2f_dialect.h"
#include "oa2f_provider.h"
#include "oa2f_scrub.h"
#include "oa2f_token.h"
#include "oa2f_remote.h"
#include <json-c/json.h>

/* ---- provider identity -------------------------------------------------- */

static oa2f_provider_t *base_provider(void)
{
    oa2f_provider_t *p = apr_pcalloc(ut_pool, sizeof(*p));

    p->dialect = oa2f_dialect_find("introspection");
    p->endpoint = "https://as.example.com/introspect";
    p->client_id = "rs";
    p->client_secret = "secret";
    p->auth = OA2F_AUTH_BASIC;
    p->ssl_verify = 1;
    return p;
}

static const char *identity_of(oa2f_provider_t *p)
{
    oa2f_provider_finish(ut_pool, p);
    return p->identity;
}

START_TEST(identity_covers_trust_context)
{
    const char *base = identity_of(base_provider());
    oa2f_provider_t *p;

    ck_assert_str_eq(base, identity_of(base_provider()));

    p = base_provider();
    p->ssl_verify = 0;
    ck_assert_str_ne(base, identity_of(p));

    p = base_provider();
    p->ca_file = "/etc/ca.pem";
    p->ca_digest = oa2f_provider_digest(ut_pool, "one", 3);
    {
        const char *one = identity_of(p);
        oa2f_provider_t *q = base_provider();
        q->ca_file = "/etc/ca.pem";
        q->ca_digest = oa2f_provider_digest(ut_pool, "two", 3);
        ck_assert_str_ne(base, one);
        /* the same path with other content is another trust context */
        ck_assert_str_ne(one, identity_of(q));
    }

    p = base_provider();
    p->proxy = "http://proxy.example:3128";
    {
        const char *via = identity_of(p);
        oa2f_provider_t *q = base_provider();
        q->proxy = "http://proxy.example:3128";
        q->proxy_userpwd = "u:p";
        ck_assert_str_ne(base, via);
        ck_assert_str_ne(via, identity_of(q));
        /* credentials only as a digest */
        ck_assert_ptr_null(strstr(q->identity, "u:p"));
    }

    p = base_provider();
    p->client_secret = "other";
    ck_assert_str_ne(base, identity_of(p));
    ck_assert_ptr_null(strstr(p->identity, "other"));

    p = base_provider();
    p->auth = OA2F_AUTH_POST;
    ck_assert_str_ne(base, identity_of(p));
}
END_TEST

/* ---- bearer checks ------------------------------------------------------ */

static oa2f_claims_t *claims_of_json(const char *json)
{
    const char *why = NULL;
    struct json_object *o = oa2f_json_parse_object(json, strlen(json), &why);
    oa2f_claims_t *c = oa2f_claims_make(ut_pool);

    ck_assert_msg(o != NULL, "not JSON: %s", json);
    oa2f_claims_take_members(ut_pool, c, o, NULL);
    json_object_put(o);
    c->raw = apr_pstrdup(ut_pool, json);
    c->raw_len = strlen(json);
    return c;
}

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
    oa2f_claims_t *c = claims_of_json(bearer_cases[_i].answer);
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
    oa2f_claims_t *c = claims_of_json(
        "{\"token_type\":\"urn:pingidentity.com:oauth2:validated_token\"}");

    ck_assert_int_eq(oa2f_bearer_check(ut_pool, c, NULL, &x5t, &why),
                     OA2F_INACTIVE);
    ck_assert_int_eq(oa2f_bearer_check(ut_pool, c, oa2f_dialect_find(
                         "pingfederate")->own_token_type, &x5t, &why),
                     OA2F_OK);

    c = claims_of_json("{\"active\":true,\"cnf\":{\"x5t#S256\":"
                       "\"bwcK0esc3ACC3DB2Y5_lESsXE8o9ltc05O89jdN-dg2\"}}");
    ck_assert_int_eq(oa2f_bearer_check(ut_pool, c, NULL, &x5t, &why),
                     OA2F_OK);
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
    ck_assert_ptr_null(oa2f_x5t_s256_of_pem(ut_pool, "-----BEGIN "
                                            "CERTIFICATE-----\nAAAA\n"));
}
END_TEST

/* ---- the token removed from answers ------------------------------------ */

#define TOK "tok3n-ABC.def~ghi/jk+l="

START_TEST(scrub_openam_echo)
{
    oa2f_claims_t *c = claims_of_json(
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
    oa2f_claims_t *c = claims_of_json(
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
    oa2f_claims_t *c = claims_of_json("{\"active\":true,\"uid\":\"x\"}");
    const char *raw = c->raw;

    ck_assert_int_eq(oa2f_claims_drop_token(ut_pool, c, TOK), 0);
    ck_assert_ptr_eq(c->raw, raw);
    ck_assert_int_eq(c->fields->nelts, 2);
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

/* A child whose connection pool could not be set up answers 500, not a
 * NULL dereference (README "Trust boundaries"). */
START_TEST(no_connection_pool_is_internal)
{
    oa2f_provider_t *p = base_provider();
    oa2f_validation_t v;

    oa2f_provider_finish(ut_pool, p);
    oa2f_remote_validate(NULL, ut_pool, p, "tok", &v);
    ck_assert_int_eq(v.outcome, OA2F_INTERNAL);
    ck_assert_ptr_null(v.claims);
    ck_assert_ptr_nonnull(v.why);
}
END_TEST

Suite *trust_suite(void)
{
    Suite *s = suite_create("trust");
    TCase *tc = ut_tcase("trust");

    tcase_add_test(tc, identity_covers_trust_context);
    tcase_add_loop_test(tc, bearer_only, 0, UT_N(bearer_cases));
    tcase_add_test(tc, bearer_dialect_mark_and_x5t);
    tcase_add_test(tc, x5t_of_pem);
    tcase_add_test(tc, scrub_openam_echo);
    tcase_add_test(tc, scrub_nested_escaped_and_embedded);
    tcase_add_test(tc, scrub_leaves_clean_answers_alone);
    tcase_add_loop_test(tc, query_without_token, 0, UT_N(query_cases));
    tcase_add_test(tc, query_unchanged_is_same_pointer);
    tcase_add_test(tc, no_connection_pool_is_internal);
    suite_add_tcase(s, tc);
    return s;
}
