/* oa2f_provider.c: what names a provider configuration, its identity,
 * covers its whole trust context (README "Trust boundaries"). */
#include <string.h>

#include "unit.h"
#include "ut_common.h"
#include "oa2f_provider.h"

static const char *identity_of(oa2f_provider_t *p)
{
    oa2f_provider_finish(ut_pool, p);
    return p->identity;
}

START_TEST(identity_covers_trust_context)
{
    const char *base = identity_of(ut_base_provider());
    oa2f_provider_t *p;

    ck_assert_str_eq(base, identity_of(ut_base_provider()));

    p = ut_base_provider();
    p->ssl_verify = 0;
    ck_assert_str_ne(base, identity_of(p));

    p = ut_base_provider();
    p->ca_file = "/etc/ca.pem";
    p->ca_digest = oa2f_provider_digest(ut_pool, "one", 3);
    {
        const char *one = identity_of(p);
        oa2f_provider_t *q = ut_base_provider();
        q->ca_file = "/etc/ca.pem";
        q->ca_digest = oa2f_provider_digest(ut_pool, "two", 3);
        ck_assert_str_ne(base, one);
        /* the same path with other content is another trust context */
        ck_assert_str_ne(one, identity_of(q));
    }

    p = ut_base_provider();
    p->proxy = "http://proxy.example:3128";
    {
        const char *via = identity_of(p);
        oa2f_provider_t *q = ut_base_provider();
        q->proxy = "http://proxy.example:3128";
        q->proxy_userpwd = "u:p";
        ck_assert_str_ne(base, via);
        ck_assert_str_ne(via, identity_of(q));
        /* credentials only as a digest */
        ck_assert_ptr_null(strstr(q->identity, "u:p"));
    }

    p = ut_base_provider();
    p->client_secret = "other";
    ck_assert_str_ne(base, identity_of(p));
    ck_assert_ptr_null(strstr(p->identity, "other"));

    p = ut_base_provider();
    p->auth = OA2F_AUTH_POST;
    ck_assert_str_ne(base, identity_of(p));

    /* README "Local JWT validation": local verdicts are another context,
     * and so are other keys and other accepted types; Off changes
     * nothing */
    p = ut_base_provider();
    p->jwks_url = "https://idp.example/jwks";
    ck_assert_str_eq(base, identity_of(p));
    {
        static const char *t1[] = { "at+jwt" }, *t2[] = { "JWT" };
        apr_array_header_t a1 = { NULL, sizeof(char *), 1, 1, (char *)t1 };
        apr_array_header_t a2 = { NULL, sizeof(char *), 1, 1, (char *)t2 };
        const char *local, *other_keys, *other_types;
        p->local_jwt = 1;
        p->jwt_types = &a1;
        local = identity_of(p);
        ck_assert_str_ne(base, local);
        p = ut_base_provider();
        p->local_jwt = 1;
        p->jwt_types = &a1;
        p->jwks_url = "https://other.example/jwks";
        other_keys = identity_of(p);
        ck_assert_str_ne(local, other_keys);
        p->jwks_url = "https://idp.example/jwks";
        p->jwt_types = &a2;
        other_types = identity_of(p);
        ck_assert_str_ne(local, other_types);
    }
}
END_TEST

/* The digest is SHA-256 in lower-case hex (FIPS 180-2 appendix B.1,
 * "abc"), as sha256sum writes it. */
START_TEST(digest_is_lower_hex_sha256)
{
    ck_assert_str_eq(
        oa2f_provider_digest(ut_pool, "abc", 3),
        "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
}
END_TEST

Suite *provider_suite(void)
{
    Suite *s = suite_create("provider");
    TCase *tc = ut_tcase("identity");

    tcase_add_test(tc, identity_covers_trust_context);
    tcase_add_test(tc, digest_is_lower_hex_sha256);
    suite_add_tcase(s, tc);
    return s;
}
