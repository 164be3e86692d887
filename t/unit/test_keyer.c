/* oa2f_keyer.c: cache keys, a keyed hash of the provider's identity and
 * the token, never the token (README "Cache"), from oa2f_cache_key() and
 * from the precomputed keyer of the request-time path. */
#include <string.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <apr_strings.h>

#include "unit.h"
#include "ut_common.h"
#include "oa2f_keyer.h"

#define IDENTITY                                                              \
    "introspection\nhttps://as.example.com/oauth2/introspect\n"               \
    "rs-gateway\nd1g3st\n1\n0"
#define TOKEN  "Zk9x2-hP_q.7Lm~a+b/c=Zk9x2-hP_q.7Lm~a+b/c=0123456789"
#define SECRET "fleet-wide cache secret"

/* ---- helpers ---------------------------------------------------------- */

/* 1 when needle[0..n) occurs in hay[0..len). */
static int contains(const unsigned char *hay, apr_size_t len,
                    const char *needle, apr_size_t n)
{
    apr_size_t i;

    for (i = 0; i + n <= len; i++) {
        if (memcmp(hay + i, needle, n) == 0) {
            return 1;
        }
    }
    return 0;
}

/* What the key should be, computed independently with OpenSSL's
 * one-shot HMAC() and EVP_Digest(). */
static void expected_key(const char *secret, const char *identity,
                         const char *token, unsigned char out[32])
{
    const char *msg = apr_pstrcat(ut_pool, identity, "\n", token, NULL);
    unsigned int outl = 0;

    if (secret && *secret) {
        ck_assert_ptr_nonnull(HMAC(EVP_sha256(), secret, (int)strlen(secret),
                                   (const unsigned char *)msg, strlen(msg),
                                   out, &outl));
    }
    else {
        ck_assert_int_eq(
            EVP_Digest(msg, strlen(msg), out, &outl, EVP_sha256(), NULL), 1);
    }
    ck_assert_uint_eq(outl, 32);
}

/* ---- oa2f_cache_key --------------------------------------------------- */

typedef struct {
    const char *name;
    const char *secret;
    const char *identity;
    const char *token;
} key_case_t;

static const key_case_t key_cases[] = {
    { "HMAC", SECRET, IDENTITY, TOKEN },
    { "HMAC, short secret", "k", IDENTITY, TOKEN },
    { "HMAC, secret longer than a block",
      "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"
      "0123456789abcdef0123456789abcdef",
      IDENTITY, TOKEN },
    { "HMAC, 1-byte token", SECRET, IDENTITY, "x" },
    { "HMAC, empty identity", SECRET, "", TOKEN },
    { "SHA-256 (NULL secret)", NULL, IDENTITY, TOKEN },
    { "SHA-256 (empty secret)", "", IDENTITY, TOKEN },
    { "SHA-256, empty identity and token", NULL, "", "" },
    { "SHA-256, long token", NULL, IDENTITY,
      "eyJhbGciOiJSUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiIxMjM0NTY3ODkwIiwibmFt"
      "ZSI6IkpvaG4gRG9lIiwiYWRtaW4iOnRydWUsImlhdCI6MTUxNjIzOTAyMn0.NHVaYe26M"
      "kTlVDF9uyKCITzL0J2Wy7BGzTfe5Wd-nb9Bs7K0bq8aQ" },
};

START_TEST(test_key_reference)
{
    const key_case_t *tc = &key_cases[_i];
    unsigned char key[OA2F_CACHE_KEY_LEN], again[OA2F_CACHE_KEY_LEN];
    unsigned char want[32];

    memset(key, 0xaa, sizeof(key));
    oa2f_cache_key(tc->secret, tc->identity, tc->token, key);
    expected_key(tc->secret, tc->identity, tc->token, want);
    ck_assert_msg(memcmp(key, want, 32) == 0, "%s: %s, expected %s", tc->name,
                  ut_hex(key, 32), ut_hex(want, 32));
    ck_assert_int_eq(oa2f_cache_key_ok(key), 1);

    /* deterministic */
    memset(again, 0x55, sizeof(again));
    oa2f_cache_key(tc->secret, tc->identity, tc->token, again);
    ck_assert_mem_eq(key, again, OA2F_CACHE_KEY_LEN);

    /* the token's bytes are not the key, nor in it */
    if (strlen(tc->token) >= 4) {
        apr_size_t n = strlen(tc->token) < 32 ? strlen(tc->token) : 32;
        ck_assert_msg(memcmp(key, tc->token, n) != 0,
                      "%s: the key starts with the token", tc->name);
        ck_assert_msg(!contains(key, sizeof(key), tc->token, 4),
                      "%s: the key holds token bytes", tc->name);
    }
}
END_TEST

/* The precomputed keyer (the request-time path) gives the same keys. */
START_TEST(test_keyer_matches)
{
    const key_case_t *tc = &key_cases[_i];
    unsigned char want[OA2F_CACHE_KEY_LEN], got[OA2F_CACHE_KEY_LEN];
    oa2f_keyer_t *k = oa2f_keyer_create(ut_pool, tc->secret, tc->identity);

    ck_assert_ptr_nonnull(k);
    oa2f_cache_key(tc->secret, tc->identity, tc->token, want);
    memset(got, 0x33, sizeof(got));
    oa2f_keyer_derive(k, tc->token, got);
    ck_assert_msg(memcmp(got, want, sizeof(want)) == 0, "%s: keyer %s, key %s",
                  tc->name, ut_hex(got, 32), ut_hex(want, 32));
    /* the keyer is only read: a second token after the first is intact */
    oa2f_keyer_derive(k, "other", got);
    oa2f_cache_key(tc->secret, tc->identity, "other", want);
    ck_assert_mem_eq(got, want, OA2F_CACHE_KEY_LEN);
}
END_TEST

/* Known answers (from `printf 'a\nb' | openssl dgst -sha256 [-hmac Jefe]`),
 * so that a wrong reference could not hide a wrong key. */
START_TEST(test_key_known_answers)
{
    unsigned char key[OA2F_CACHE_KEY_LEN];

    oa2f_cache_key(NULL, "a", "b", key);
    ck_assert_str_eq(ut_hex(key, 32), "7e18f737311b2dc3b2f269dd78396b03"
                                      "51f14fb66efa879f768cb23181883c78");
    oa2f_cache_key("Jefe", "a", "b", key);
    ck_assert_str_eq(ut_hex(key, 32), "8e8935fa7a5ece2bdff3e5082f923ffa"
                                      "9bb0db58995313e857bb9ab8bf881f67");
    oa2f_cache_key("Jefe", "what do ya want", "for nothing?", key);
    ck_assert_str_eq(ut_hex(key, 32), "50ff9fd552ba6f7d7aea9a88e93f2ebe"
                                      "e2870bf860cfd7a2b6cf2cbbed92a13e");
}
END_TEST

START_TEST(test_key_differs)
{
    unsigned char base[OA2F_CACHE_KEY_LEN], k[OA2F_CACHE_KEY_LEN];
    unsigned char plain[OA2F_CACHE_KEY_LEN];

    oa2f_cache_key(SECRET, IDENTITY, TOKEN, base);

    /* another provider identity: another endpoint, client id, dialect */
    oa2f_cache_key(SECRET, IDENTITY "x", TOKEN, k);
    ck_assert(memcmp(base, k, sizeof(k)) != 0);
    oa2f_cache_key(SECRET,
                   "introspection\nhttps://as.example.com/oauth2/"
                   "introspect\nrs-other\nd1g3st\n1\n0",
                   TOKEN, k);
    ck_assert(memcmp(base, k, sizeof(k)) != 0);
    oa2f_cache_key(SECRET, "", TOKEN, k);
    ck_assert(memcmp(base, k, sizeof(k)) != 0);

    /* another token, even one byte off */
    oa2f_cache_key(SECRET, IDENTITY, TOKEN "A", k);
    ck_assert(memcmp(base, k, sizeof(k)) != 0);
    oa2f_cache_key(SECRET, IDENTITY,
                   "Zk9x2-hP_q.7Lm~a+b/c=Zk9x2-hP_q.7Lm~a"
                   "+b/c=0123456788",
                   k);
    ck_assert(memcmp(base, k, sizeof(k)) != 0);

    /* another secret, and no secret */
    oa2f_cache_key(SECRET "!", IDENTITY, TOKEN, k);
    ck_assert(memcmp(base, k, sizeof(k)) != 0);
    oa2f_cache_key(NULL, IDENTITY, TOKEN, plain);
    ck_assert(memcmp(base, plain, sizeof(plain)) != 0);

    /* NULL and "" mean the same: no secret */
    oa2f_cache_key("", IDENTITY, TOKEN, k);
    ck_assert_mem_eq(plain, k, sizeof(k));
}
END_TEST

START_TEST(test_key_ok)
{
    unsigned char key[OA2F_CACHE_KEY_LEN];
    int i;

    memset(key, 0, sizeof(key));
    ck_assert_int_eq(oa2f_cache_key_ok(key), 0);
    for (i = 0; i < OA2F_CACHE_KEY_LEN; i++) {
        memset(key, 0, sizeof(key));
        key[i] = (unsigned char)(1u << (i % 8));
        ck_assert_msg(oa2f_cache_key_ok(key) == 1, "byte %d", i);
    }
    memset(key, 0xff, sizeof(key));
    ck_assert_int_eq(oa2f_cache_key_ok(key), 1);

    oa2f_cache_key(SECRET, IDENTITY, TOKEN, key);
    ck_assert_int_eq(oa2f_cache_key_ok(key), 1);
    oa2f_cache_key(NULL, IDENTITY, TOKEN, key);
    ck_assert_int_eq(oa2f_cache_key_ok(key), 1);
}
END_TEST

Suite *keyer_suite(void)
{
    Suite *s = suite_create("keyer");
    TCase *tc;

    tc = ut_tcase("key");
    tcase_add_loop_test(tc, test_key_reference, 0, UT_N(key_cases));
    tcase_add_loop_test(tc, test_keyer_matches, 0, UT_N(key_cases));
    tcase_add_test(tc, test_key_known_answers);
    tcase_add_test(tc, test_key_differs);
    tcase_add_test(tc, test_key_ok);
    suite_add_tcase(s, tc);
    return s;
}
