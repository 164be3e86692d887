/* oa2f_jwks.c, oa2f_jwk.c: JWK sets (RFC 7517 §4, §5; RFC 7518 §6;
 * RFC 8037 §2) – which keys are kept, which are skipped, which
 * documents are refused. */
#include <string.h>
#include <apr_strings.h>

#include "unit.h"
#include "ut_jose.h"
#include "oa2f_b64url.h"
#include "oa2f_jose.h"
#include "oa2f_jwk.h"

#define A3_PUB "\"crv\":\"P-256\",\"x\":\"" UT_A3_X "\",\"y\":\"" UT_A3_Y "\""
#define EC_JWK(extra) "{\"kty\":\"EC\"," A3_PUB extra "}"
#define RSA_JWK(extra)                                                        \
    "{\"kty\":\"RSA\",\"n\":\"" UT_A2_N "\",\"e\":\"AQAB\"" extra "}"
#define OKP_JWK(extra)                                                        \
    "{\"kty\":\"OKP\",\"crv\":\"Ed25519\",\"x\":\"" UT_8037_X "\"" extra "}"

static oa2f_jose_rc_e jwks(const char *doc, oa2f_jwks_t **set, int *skipped,
                           const char **why)
{
    return oa2f_jwks_parse(ut_pool, doc, strlen(doc), set, skipped, why);
}

/* Keys kept and skipped of a document that must parse. */
static void expect(const char *doc, int kept, int skipped)
{
    oa2f_jwks_t *set = NULL;
    const char *why = NULL;
    int sk = -1;

    ck_assert_msg(jwks(doc, &set, &sk, &why) == OA2F_JOSE_OK, "refused: %s",
                  why ? why : "?");
    ck_assert_msg(oa2f_jwks_count(set) == kept && sk == skipped,
                  "kept %d skipped %d, not %d/%d: %s",
                  oa2f_jwks_count(set), sk, kept, skipped, doc);
}

static void refused(const char *doc)
{
    oa2f_jwks_t *set = (oa2f_jwks_t *)1;
    const char *why = NULL;
    int sk = -1;

    ck_assert_msg(jwks(doc, &set, &sk, &why) == OA2F_JOSE_MALFORMED,
                  "accepted: %s", doc);
    ck_assert_ptr_null(set);
    ck_assert_ptr_nonnull(why);
}

START_TEST(test_kinds_kept)
{
    expect(ut_jwks_doc(EC_JWK(""), RSA_JWK(""), OKP_JWK(""), NULL), 3, 0);
    expect(ut_jwks_doc(ut_jwk(ut_keygen("EC", "P-384"), "a", "ES384"),
                       ut_jwk(ut_keygen("EC", "P-521"), "b", "ES512"),
                       ut_jwk(ut_keygen("ED448", NULL), "c", "EdDSA"), NULL),
           3, 0);
    expect(ut_jwks_doc(EC_JWK(",\"use\":\"sig\",\"kid\":\"1\","
                              "\"key_ops\":[\"verify\"],\"alg\":\"ES256\","
                              "\"x5c\":[\"MIIB\"],\"ext\":true"),
                       NULL),
           1, 0);
    expect("{\"keys\":[]}", 0, 0);
    /* members besides keys are allowed (RFC 7517 §5) */
    expect("{\"keys\":[" EC_JWK("") "],\"note\":\"x\"}", 1, 0);
}
END_TEST

START_TEST(test_private_refused)
{
    static const char *const priv[] = { "d", "p", "q", "dp", "dq", "qi",
                                        "oth" };
    int i;

    for (i = 0; i < UT_N(priv); i++) {
        refused(ut_jwks_doc(
            EC_JWK(""),
            apr_psprintf(ut_pool, RSA_JWK(",\"%s\":\"AQAB\""), priv[i]),
            NULL));
    }
    refused(ut_jwks_doc(EC_JWK(",\"d\":\"jpsQnnGQmL-YBIffH1136cspYG6-0iY7X1fCE9-E9LI\""),
                        NULL));
    refused(ut_jwks_doc(OKP_JWK(",\"d\":\"" UT_8037_D "\""), NULL));
    /* a symmetric key is a secret too (RFC 7518 §6.4.1) */
    refused(ut_jwks_doc(EC_JWK(""), "{\"kty\":\"oct\",\"k\":\"c2VjcmV0\"}",
                        NULL));
    /* even an otherwise unusable key with d */
    refused(ut_jwks_doc("{\"kty\":\"XYZ\",\"d\":null}", NULL));
}
END_TEST

START_TEST(test_duplicate_kids)
{
    oa2f_jwks_t *set = NULL;
    const char *why = NULL;
    int sk = -1;
    const char *doc = ut_jwks_doc(EC_JWK(",\"kid\":\"same\""),
                                  RSA_JWK(",\"kid\":\"other\""),
                                  OKP_JWK(",\"kid\":\"same\""), NULL);

    ck_assert_int_eq(jwks(doc, &set, &sk, &why), OA2F_JOSE_OK);
    ck_assert_int_eq(oa2f_jwks_count(set), 1);
    ck_assert_int_eq(sk, 2);
    ck_assert_ptr_nonnull(why);
    ck_assert_ptr_nonnull(strstr(why, "\"same\""));
    /* the survivor is the RSA key */
    ck_assert_str_eq(APR_ARRAY_IDX(set->keys, 0, oa2f_jwk_t).kid, "other");
    /* three of a kind */
    expect(ut_jwks_doc(EC_JWK(",\"kid\":\"x\""), EC_JWK(",\"kid\":\"x\""),
                       EC_JWK(",\"kid\":\"x\""), EC_JWK(",\"kid\":\"y\""),
                       NULL),
           1, 3);
    /* a kid that cannot be shown is not */
    ck_assert_int_eq(jwks(ut_jwks_doc(EC_JWK(",\"kid\":\"a\\nb\""),
                                      EC_JWK(",\"kid\":\"a\\nb\""), NULL),
                          &set, &sk, &why),
                     OA2F_JOSE_OK);
    ck_assert_ptr_null(strchr(why, '\n'));
    /* keys without kid are not duplicates of each other */
    expect(ut_jwks_doc(EC_JWK(""), EC_JWK(""), NULL), 2, 0);
    /* a skipped key does not take its kid's twin with it */
    expect(ut_jwks_doc(EC_JWK(",\"kid\":\"k\""),
                       RSA_JWK(",\"kid\":\"k\",\"use\":\"enc\""), NULL),
           1, 1);
    /* nothing dropped, nothing said */
    ck_assert_int_eq(jwks(ut_jwks_doc(EC_JWK(""), NULL), &set, &sk, &why),
                     OA2F_JOSE_OK);
    ck_assert_ptr_null(why);
}
END_TEST

/* 1024 bits: too weak (RFC 7518 §3.3 asks for 2048). */
START_TEST(test_rsa_1024_skipped)
{
    EVP_PKEY *weak = ut_keygen("RSA", "1024");
    oa2f_jwks_t *set;
    const char *tok;

    expect(ut_jwks_doc(ut_jwk(weak, "weak", NULL), EC_JWK(""), NULL), 1, 1);
    set = ut_jwks(ut_jwks_doc(ut_jwk(weak, "weak", NULL), NULL));
    tok = ut_token("RS256", weak, "{\"alg\":\"RS256\",\"kid\":\"weak\"}",
                   "{\"iss\":\"x\",\"exp\":4102444800}");
    {
        oa2f_jws_t *jws;
        const char *why;
        ck_assert_int_eq(oa2f_jws_parse(ut_pool, tok, strlen(tok), &jws,
                                        &why),
                         OA2F_JOSE_OK);
        /* the kid is in the JWKS, its key unusable: no refresh helps */
        ck_assert_int_eq(oa2f_jws_verify(jws, set, &why),
                         OA2F_JOSE_KEY_MISMATCH);
    }
}
END_TEST

/* A kid naming a key that was skipped or dropped is a mismatch; only a
 * kid the document does not have at all is NO_KEY. */
START_TEST(test_kid_of_unusable_key)
{
    EVP_PKEY *k = ut_keygen("EC", "P-256");
    const char *pub = ut_jwk(k, NULL, NULL);
    const char *body = apr_pstrmemdup(ut_pool, pub + 1, strlen(pub) - 2);
    const char *doc = "{\"keys\":[";
    const char *payload = "{\"iss\":\"x\",\"exp\":4102444800}";
    static const char *const mismatch[] = { "enc", "ops", "alg", "dup",
                                            "k100" };
    oa2f_jwks_t *set;
    int i;

    doc = apr_pstrcat(
        ut_pool, doc, "{", body, ",\"kid\":\"enc\",\"use\":\"enc\"},{", body,
        ",\"kid\":\"ops\",\"key_ops\":[\"sign\"]},{", body,
        ",\"kid\":\"alg\",\"alg\":\"ES384\"},{", body,
        ",\"kid\":\"dup\"},{", body, ",\"kid\":\"dup\"}", NULL);
    for (i = 5; i <= 100; i++) {
        doc = apr_psprintf(ut_pool, "%s,{%s,\"kid\":\"k%d\"}", doc, body, i);
    }
    set = ut_jwks(apr_pstrcat(ut_pool, doc, "]}", NULL));
    ck_assert_int_eq(oa2f_jwks_count(set), 95);
    for (i = 0; i < UT_N(mismatch); i++) {
        const char *hdr = apr_psprintf(ut_pool, "{\"alg\":\"ES256\",\"kid\":"
                                                "\"%s\"}",
                                       mismatch[i]);
        const char *tok = ut_token("ES256", k, hdr, payload);
        oa2f_jws_t *jws;
        const char *why;
        ck_assert_int_eq(oa2f_jws_parse(ut_pool, tok, strlen(tok), &jws,
                                        &why),
                         OA2F_JOSE_OK);
        ck_assert_msg(oa2f_jws_verify(jws, set, &why)
                          == OA2F_JOSE_KEY_MISMATCH,
                      "kid %s", mismatch[i]);
    }
    {
        const char *tok = ut_token(
            "ES256", k, "{\"alg\":\"ES256\",\"kid\":\"k99\"}", payload);
        oa2f_jws_t *jws;
        const char *why;
        ck_assert_int_eq(oa2f_jws_parse(ut_pool, tok, strlen(tok), &jws,
                                        &why),
                         OA2F_JOSE_OK);
        ck_assert_int_eq(oa2f_jws_verify(jws, set, &why), OA2F_JOSE_OK);
        tok = ut_token("ES256", k, "{\"alg\":\"ES256\",\"kid\":\"new\"}",
                       payload);
        ck_assert_int_eq(oa2f_jws_parse(ut_pool, tok, strlen(tok), &jws,
                                        &why),
                         OA2F_JOSE_OK);
        ck_assert_int_eq(oa2f_jws_verify(jws, set, &why), OA2F_JOSE_NO_KEY);
    }
}
END_TEST

START_TEST(test_rsa_members)
{
    /* leading zero bytes of n are tolerated (RFC 7518 §6.3.1.1 warns
     * that some libraries write one) */
    expect(ut_jwks_doc("{\"kty\":\"RSA\",\"n\":\"AAAA" UT_A2_N
                       "\",\"e\":\"AQAB\"}",
                       NULL),
           1, 0);
    /* e: even, 1, too big, missing, padded */
    expect(ut_jwks_doc(RSA_JWK(""), NULL), 1, 0);
    expect(ut_jwks_doc("{\"kty\":\"RSA\",\"n\":\"" UT_A2_N "\",\"e\":\"AQAA\"}",
                       "{\"kty\":\"RSA\",\"n\":\"" UT_A2_N "\",\"e\":\"AQ\"}",
                       "{\"kty\":\"RSA\",\"n\":\"" UT_A2_N "\",\"e\":\"AAAB\"}",
                       "{\"kty\":\"RSA\",\"n\":\"" UT_A2_N
                       "\",\"e\":\"AQAAAAE\"}",
                       "{\"kty\":\"RSA\",\"n\":\"" UT_A2_N "\"}",
                       "{\"kty\":\"RSA\",\"n\":\"" UT_A2_N
                       "\",\"e\":\"AQAB==\"}",
                       "{\"kty\":\"RSA\",\"n\":\"" UT_A2_N "\",\"e\":65537}",
                       "{\"kty\":\"RSA\",\"e\":\"AQAB\"}",
                       "{\"kty\":\"RSA\",\"n\":\"\",\"e\":\"AQAB\"}", NULL),
           0, 9);
    /* e = 3 is an RSA exponent */
    expect(ut_jwks_doc("{\"kty\":\"RSA\",\"n\":\"" UT_A2_N "\",\"e\":\"Aw\"}",
                       NULL),
           1, 0);
}
END_TEST

START_TEST(test_rsa_even_or_huge)
{
    apr_size_t n;
    unsigned char *b = (unsigned char *)ut_unb64(UT_A2_N, &n);
    unsigned char *big = apr_pcalloc(ut_pool, 2100);
    const char *even;

    b[n - 1] &= 0xfe;
    even = oa2f_b64url_encode(ut_pool, b, n);
    expect(ut_jwks_doc(apr_psprintf(ut_pool,
                                    "{\"kty\":\"RSA\",\"n\":\"%s\","
                                    "\"e\":\"AQAB\"}",
                                    even),
                       NULL),
           0, 1);
    /* above 16384 bits */
    memset(big, 0xff, 2100);
    expect(ut_jwks_doc(apr_psprintf(ut_pool,
                                    "{\"kty\":\"RSA\",\"n\":\"%s\","
                                    "\"e\":\"AQAB\"}",
                                    oa2f_b64url_encode(ut_pool, big, 2100)),
                       NULL),
           0, 1);
}
END_TEST

START_TEST(test_ec_members)
{
    apr_size_t n;
    unsigned char *y = (unsigned char *)ut_unb64(UT_A3_Y, &n);
    const char *off;

    /* a point off the curve (invalid-curve attacks) */
    y[n - 1] ^= 1;
    off = apr_psprintf(ut_pool,
                       "{\"kty\":\"EC\",\"crv\":\"P-256\",\"x\":\"" UT_A3_X
                       "\",\"y\":\"%s\"}",
                       oa2f_b64url_encode(ut_pool, y, n));
    expect(ut_jwks_doc(off, NULL), 0, 1);
    expect(ut_jwks_doc(
               /* wrong curve for the coordinates, unknown curves */
               "{\"kty\":\"EC\",\"crv\":\"P-384\",\"x\":\"" UT_A3_X
               "\",\"y\":\"" UT_A3_Y "\"}",
               "{\"kty\":\"EC\",\"crv\":\"secp256k1\",\"x\":\"" UT_A3_X
               "\",\"y\":\"" UT_A3_Y "\"}",
               "{\"kty\":\"EC\",\"crv\":\"p-256\",\"x\":\"" UT_A3_X
               "\",\"y\":\"" UT_A3_Y "\"}",
               /* short x, missing y, y not a string, no crv */
               "{\"kty\":\"EC\",\"crv\":\"P-256\",\"x\":\"f83OJ3D2xF1Bg8vub9"
               "tLe1gHMzV76e8Tus9uPHvRVA\",\"y\":\"" UT_A3_Y "\"}",
               "{\"kty\":\"EC\",\"crv\":\"P-256\",\"x\":\"" UT_A3_X "\"}",
               "{\"kty\":\"EC\",\"crv\":\"P-256\",\"x\":\"" UT_A3_X
               "\",\"y\":7}",
               "{\"kty\":\"EC\",\"x\":\"" UT_A3_X "\",\"y\":\"" UT_A3_Y "\"}",
               /* x padded with '=' */
               "{\"kty\":\"EC\",\"crv\":\"P-256\",\"x\":\"" UT_A3_X
               "=\",\"y\":\"" UT_A3_Y "\"}",
               NULL),
           0, 8);
    /* the point at infinity has no affine coordinates: all zeros */
    expect(ut_jwks_doc("{\"kty\":\"EC\",\"crv\":\"P-256\",\"x\":\""
                       "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA\",\"y\":\""
                       "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA\"}",
                       NULL),
           0, 1);
}
END_TEST

START_TEST(test_okp_members)
{
    expect(ut_jwks_doc(
               "{\"kty\":\"OKP\",\"crv\":\"X25519\",\"x\":\"" UT_8037_X "\"}",
               "{\"kty\":\"OKP\",\"crv\":\"Ed448\",\"x\":\"" UT_8037_X "\"}",
               "{\"kty\":\"OKP\",\"crv\":\"Ed25519\",\"x\":\"AAAA\"}",
               "{\"kty\":\"OKP\",\"crv\":\"Ed25519\"}",
               "{\"kty\":\"OKP\",\"x\":\"" UT_8037_X "\"}", NULL),
           0, 5);
}
END_TEST

START_TEST(test_use_ops_alg_kid)
{
    expect(ut_jwks_doc(EC_JWK(",\"use\":\"enc\""),
                       EC_JWK(",\"use\":\"SIG\""), EC_JWK(",\"use\":1"),
                       EC_JWK(",\"key_ops\":[\"encrypt\"]"),
                       EC_JWK(",\"key_ops\":\"verify\""),
                       EC_JWK(",\"key_ops\":[]"),
                       /* alg outside the list, or not fitting */
                       EC_JWK(",\"alg\":\"HS256\""),
                       EC_JWK(",\"alg\":\"none\""),
                       EC_JWK(",\"alg\":\"RS256\""),
                       EC_JWK(",\"alg\":\"ES384\""),
                       EC_JWK(",\"alg\":\"EdDSA\""),
                       RSA_JWK(",\"alg\":\"ES256\""),
                       RSA_JWK(",\"alg\":\"RSA-OAEP\""),
                       OKP_JWK(",\"alg\":\"ES256\""),
                       EC_JWK(",\"alg\":5"),
                       /* kid not a string */
                       EC_JWK(",\"kid\":5"), EC_JWK(",\"kid\":\"a\\u0000\""),
                       NULL),
           0, 17);
    expect(ut_jwks_doc(EC_JWK(",\"key_ops\":[\"sign\",\"verify\"]"),
                       RSA_JWK(",\"alg\":\"PS384\",\"use\":\"sig\""),
                       OKP_JWK(",\"alg\":\"EdDSA\""), NULL),
           3, 0);
}
END_TEST

START_TEST(test_other_entries_skipped)
{
    expect(ut_jwks_doc("1", "\"key\"", "null", "[]", "{}",
                       "{\"kty\":\"oct\"}", "{\"kty\":\"RSA-OAEP\"}",
                       "{\"kty\":7}", EC_JWK(""), NULL),
           1, 8);
}
END_TEST

START_TEST(test_documents_refused)
{
    static const char *const docs[] = {
        "",
        "[]",
        "{}",
        "{\"keys\":{}}",
        "{\"keys\":null}",
        "{\"keys\":\"x\"}",
        "{\"Keys\":[]}",
        "{\"keys\":[]",
        "{\"keys\":[]}x",
        "{\"keys\":[],\"keys\":[]}",
        "{'keys':[]}",
        "null",
    };
    int i;

    for (i = 0; i < UT_N(docs); i++) {
        refused(docs[i]);
    }
}
END_TEST

START_TEST(test_oversize_and_many)
{
    apr_size_t n = OA2F_JWKS_MAX_LEN + 1;
    char *big = apr_palloc(ut_pool, n + 1);
    oa2f_jwks_t *set;
    const char *why;
    const char *doc = "{\"keys\":[";
    int i;

    memset(big, ' ', n);
    memcpy(big, "{\"keys\":[]}", 11);
    big[n] = '\0';
    ck_assert_int_eq(oa2f_jwks_parse(ut_pool, big, n, &set, NULL, &why),
                     OA2F_JOSE_MALFORMED);
    /* white space up to the limit is still JSON */
    ck_assert_int_eq(oa2f_jwks_parse(ut_pool, big, n - 1, &set, NULL, &why),
                     OA2F_JOSE_OK);
    for (i = 0; i < 101; i++) {
        doc = apr_psprintf(ut_pool, "%s%s" EC_JWK(",\"kid\":\"k%d\""), doc,
                           i ? "," : "", i);
    }
    expect(apr_pstrcat(ut_pool, doc, "]}", NULL), 100, 1);
}
END_TEST

START_TEST(test_null_skipped_ok)
{
    oa2f_jwks_t *set;
    const char *why;

    ck_assert_int_eq(oa2f_jwks_parse(ut_pool, "{\"keys\":[" EC_JWK("") "]}",
                                     strlen("{\"keys\":[" EC_JWK("") "]}"),
                                     &set, NULL, &why),
                     OA2F_JOSE_OK);
    ck_assert_int_eq(oa2f_jwks_count(set), 1);
    ck_assert_int_eq(oa2f_jwks_count(NULL), 0);
    ck_assert_int_eq(oa2f_jwks_parse(ut_pool, NULL, 0, &set, NULL, &why),
                     OA2F_JOSE_MALFORMED);
}
END_TEST

Suite *jwks_suite(void)
{
    Suite *s = suite_create("jwks");
    TCase *tc = ut_tcase("jwks");

    tcase_set_timeout(tc, 120);
    tcase_add_test(tc, test_kinds_kept);
    tcase_add_test(tc, test_private_refused);
    tcase_add_test(tc, test_duplicate_kids);
    tcase_add_test(tc, test_rsa_1024_skipped);
    tcase_add_test(tc, test_kid_of_unusable_key);
    tcase_add_test(tc, test_rsa_members);
    tcase_add_test(tc, test_rsa_even_or_huge);
    tcase_add_test(tc, test_ec_members);
    tcase_add_test(tc, test_okp_members);
    tcase_add_test(tc, test_use_ops_alg_kid);
    tcase_add_test(tc, test_other_entries_skipped);
    tcase_add_test(tc, test_documents_refused);
    tcase_add_test(tc, test_oversize_and_many);
    tcase_add_test(tc, test_null_skipped_ok);
    suite_add_tcase(s, tc);
    return s;
}
