/* oa2f_signer.c: the phantom token's signer – key loading (PKCS #8 and
 * traditional PEM), algorithm per key, RFC 7638 kid, the public JWKS,
 * and signatures every verifier here accepts. */
#include <string.h>
#include <json-c/json.h>
#include <apr_strings.h>
#include <openssl/bio.h>
#include <openssl/pem.h>

#include "unit.h"
#include "ut_jose.h"
#include "oa2f_b64url.h"
#include "oa2f_jose.h"

#define PAYLOAD "{\"iss\":\"https://gw.example.com\",\"exp\":4102444800}"

enum { PKCS8, TRADITIONAL, PUBLIC, ENCRYPTED };

static const char *pem_of(EVP_PKEY *k, int form)
{
    BIO *b = BIO_new(BIO_s_mem());
    char *data;
    long n;
    const char *out;
    int ok;

    switch (form) {
    case PKCS8:
        ok = PEM_write_bio_PrivateKey(b, k, NULL, NULL, 0, NULL, NULL);
        break;
    case TRADITIONAL:
        ok = PEM_write_bio_PrivateKey_traditional(b, k, NULL, NULL, 0, NULL,
                                                  NULL);
        break;
    case PUBLIC:
        ok = PEM_write_bio_PUBKEY(b, k);
        break;
    default:
        ok = PEM_write_bio_PKCS8PrivateKey(b, k, EVP_aes_256_cbc(), NULL, 0,
                                           NULL, (void *)"passphrase");
        break;
    }
    ck_assert_int_eq(ok, 1);
    n = BIO_get_mem_data(b, &data);
    out = apr_pstrmemdup(ut_pool, data, (apr_size_t)n);
    BIO_free(b);
    return out;
}

static oa2f_signer_t *load(const char *pem, const char *kid, const char **why)
{
    return oa2f_signer_load(ut_pool, pem, strlen(pem), kid, why);
}

/* Sign, then parse and verify with the signer's own JWKS, as a backend
 * would; the parsed token is returned. */
static oa2f_jws_t *sign_and_verify(const oa2f_signer_t *s, const char *typ)
{
    const char *why = NULL, *jwks = oa2f_signer_jwks(ut_pool, s);
    const char *tok = oa2f_jws_sign(ut_pool, s, typ, PAYLOAD, strlen(PAYLOAD),
                                    &why);
    oa2f_jws_t *jws = NULL;
    oa2f_jwks_t *set = ut_jwks(jwks);

    ck_assert_msg(tok != NULL, "not signed: %s", why ? why : "?");
    ck_assert_int_eq(oa2f_jws_shape(tok, strlen(tok)), 1);
    ck_assert_int_eq(oa2f_jws_parse(ut_pool, tok, strlen(tok), &jws, &why),
                     OA2F_JOSE_OK);
    ck_assert_int_eq(oa2f_jwks_count(set), 1);
    ck_assert_int_eq(oa2f_jws_verify(jws, set, &why), OA2F_JOSE_OK);
    ck_assert_str_eq(jws->alg, oa2f_signer_alg(s));
    ck_assert_str_eq(jws->kid, oa2f_signer_kid(s));
    ck_assert_str_eq(jws->payload, PAYLOAD);
    return jws;
}

START_TEST(test_p256)
{
    EVP_PKEY *k = ut_keygen("EC", "P-256");
    const char *why = NULL;
    oa2f_signer_t *s = load(pem_of(k, PKCS8), NULL, &why);
    oa2f_jws_t *jws;
    apr_size_t n;

    ck_assert_ptr_nonnull(s);
    ck_assert_str_eq(oa2f_signer_alg(s), "ES256");
    jws = sign_and_verify(s, "at+jwt");
    /* raw r||s, never DER */
    ck_assert_int_eq(jws->sig_len, 64);
    ck_assert_str_eq(jws->typ, "at+jwt");
    /* RFC 7638 thumbprint as kid */
    ck_assert_int_eq(strlen(oa2f_signer_kid(s)), 43);
    ut_unb64(oa2f_signer_kid(s), &n);
    ck_assert_int_eq(n, 32);
    /* the token verifies under an independent view of the same key */
    {
        oa2f_jwks_t *set = ut_jwks(ut_jwks_doc(
            ut_jwk(k, oa2f_signer_kid(s), "ES256"), NULL));
        ck_assert_int_eq(oa2f_jws_verify(jws, set, &why), OA2F_JOSE_OK);
    }
    /* traditional PEM ("EC PRIVATE KEY") too, with the same kid */
    ck_assert_str_eq(oa2f_signer_kid(load(pem_of(k, TRADITIONAL), NULL, &why)),
                     oa2f_signer_kid(s));
}
END_TEST

START_TEST(test_rsa)
{
    EVP_PKEY *k = ut_rfc7515_rsa();
    const char *why = NULL;
    oa2f_signer_t *s = load(pem_of(k, TRADITIONAL), "rsa-1", &why);
    oa2f_jws_t *jws;
    const char *expected_input;

    ck_assert_ptr_nonnull(s);
    ck_assert_str_eq(oa2f_signer_alg(s), "RS256");
    ck_assert_str_eq(oa2f_signer_kid(s), "rsa-1");
    jws = sign_and_verify(s, NULL);
    ck_assert_ptr_null(jws->typ);
    ck_assert_int_eq(jws->sig_len, 256);
    /* header as specified, in this order */
    expected_input = apr_pstrcat(ut_pool,
                                 ut_b64("{\"alg\":\"RS256\",\"kid\":\"rsa-1\"}"),
                                 ".", ut_b64(PAYLOAD), NULL);
    ck_assert_str_eq(jws->signing_input, expected_input);
    /* deterministic, and the same as an independent EVP signature */
    {
        const char *tok = oa2f_jws_sign(ut_pool, s, NULL, PAYLOAD,
                                        strlen(PAYLOAD), &why);
        ck_assert_str_eq(strrchr(tok, '.') + 1,
                         ut_sign("RS256", k, expected_input, 0, -1));
    }
    ck_assert_ptr_nonnull(load(pem_of(k, PKCS8), NULL, &why));
}
END_TEST

START_TEST(test_ed25519)
{
    EVP_PKEY *k = ut_rfc8037_ed25519();
    const char *why = NULL;
    oa2f_signer_t *s = load(pem_of(k, PKCS8), NULL, &why);
    oa2f_jws_t *jws;

    ck_assert_ptr_nonnull(s);
    ck_assert_str_eq(oa2f_signer_alg(s), "EdDSA");
    /* RFC 8037 A.3 */
    ck_assert_str_eq(oa2f_signer_kid(s),
                     "kPrK_qmxVWaYVA9wwBF6Iuo3vVzz7TxHCTwXBygrS4k");
    jws = sign_and_verify(s, "at+jwt");
    ck_assert_int_eq(jws->sig_len, 64);
    ck_assert_str_eq(oa2f_signer_jwks(ut_pool, s),
                     "{\"keys\":[{\"crv\":\"Ed25519\",\"kty\":\"OKP\",\"x\":\""
                     UT_8037_X "\",\"kid\":\"kPrK_qmxVWaYVA9wwBF6Iuo3vVzz7TxHCT"
                     "wXBygrS4k\",\"alg\":\"EdDSA\",\"use\":\"sig\"}]}");
}
END_TEST

START_TEST(test_refused_keys)
{
    const char *why;
    static const char *const junk[] = {
        "",
        "not a key",
        "-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n",
    };
    int i;

    why = NULL;
    ck_assert_ptr_null(load(pem_of(ut_keygen("RSA", "1024"), PKCS8), NULL,
                            &why));
    ck_assert_ptr_nonnull(why);
    why = NULL;
    ck_assert_ptr_null(load(pem_of(ut_keygen("EC", "P-384"), PKCS8), NULL,
                            &why));
    ck_assert_ptr_nonnull(why);
    why = NULL;
    ck_assert_ptr_null(load(pem_of(ut_keygen("ED448", NULL), PKCS8), NULL,
                            &why));
    ck_assert_ptr_nonnull(why);
    ck_assert_ptr_null(load(pem_of(ut_keygen("EC", "P-256"), PUBLIC), NULL,
                            &why));
    /* encrypted: refused, without a prompt */
    ck_assert_ptr_null(load(pem_of(ut_keygen("EC", "P-256"), ENCRYPTED), NULL,
                            &why));
    for (i = 0; i < UT_N(junk); i++) {
        why = NULL;
        ck_assert_ptr_null(load(junk[i], NULL, &why));
        ck_assert_ptr_nonnull(why);
    }
    ck_assert_ptr_null(oa2f_signer_load(ut_pool, NULL, 0, NULL, &why));
}
END_TEST

/* "openssl ecparam -genkey" writes EC PARAMETERS before the key. */
START_TEST(test_pem_with_parameters)
{
    const char *why = NULL;
    const char *pem = apr_pstrcat(ut_pool,
                                  "-----BEGIN EC PARAMETERS-----\n"
                                  "BggqhkjOPQMBBw==\n"
                                  "-----END EC PARAMETERS-----\n",
                                  pem_of(ut_keygen("EC", "P-256"), TRADITIONAL),
                                  NULL);

    ck_assert_ptr_nonnull(load(pem, NULL, &why));
}
END_TEST

START_TEST(test_jwks_document)
{
    EVP_PKEY *k = ut_keygen("EC", "P-256");
    const char *why = NULL;
    oa2f_signer_t *s = load(pem_of(k, PKCS8), "a\"b\\c\x01", &why);
    const char *doc;
    struct json_object *o, *keys, *key, *v;
    const oa2f_jws_t *jws;

    ck_assert_ptr_nonnull(s);
    doc = oa2f_signer_jwks(ut_pool, s);
    o = oa2f_json_parse_object(doc, strlen(doc), &why);
    ck_assert_ptr_nonnull(o);
    ck_assert(json_object_object_get_ex(o, "keys", &keys));
    ck_assert_int_eq(json_object_array_length(keys), 1);
    key = json_object_array_get_idx(keys, 0);
    ck_assert(json_object_object_get_ex(key, "kid", &v));
    ck_assert_str_eq(json_object_get_string(v), "a\"b\\c\x01");
    ck_assert(json_object_object_get_ex(key, "use", &v));
    ck_assert_str_eq(json_object_get_string(v), "sig");
    ck_assert(json_object_object_get_ex(key, "alg", &v));
    ck_assert_str_eq(json_object_get_string(v), "ES256");
    ck_assert(json_object_object_get_ex(key, "kty", &v));
    ck_assert_str_eq(json_object_get_string(v), "EC");
    ck_assert(!json_object_object_get_ex(key, "d", NULL));
    json_object_put(o);
    /* the odd kid survives the header too */
    jws = sign_and_verify(s, "a\"typ");
    ck_assert_str_eq(jws->typ, "a\"typ");
}
END_TEST

/* The token is a JWT access token the core itself accepts. */
START_TEST(test_claims_of_signed)
{
    const char *why = NULL;
    oa2f_signer_t *s = load(pem_of(ut_keygen("EC", "P-256"), PKCS8), NULL,
                            &why);
    oa2f_jws_t *jws = sign_and_verify(s, "at+jwt");
    apr_array_header_t *types = apr_array_make(ut_pool, 1,
                                               sizeof(const char *));
    oa2f_jwt_rules_t rules = { 1700000000LL, 60, types };
    oa2f_claims_t *c = NULL;

    APR_ARRAY_PUSH(types, const char *) = "at+jwt";
    ck_assert_int_eq(oa2f_jwt_claims(ut_pool, jws, &rules, &c, &why),
                     OA2F_JOSE_OK);
    ck_assert_int_eq(c->expires_at, 4102444800LL);
}
END_TEST

START_TEST(test_sign_null)
{
    const char *why = NULL;

    ck_assert_ptr_null(oa2f_jws_sign(ut_pool, NULL, NULL, "{}", 2, &why));
    ck_assert_ptr_nonnull(why);
}
END_TEST

Suite *signer_suite(void)
{
    Suite *s = suite_create("signer");
    TCase *tc = ut_tcase("signer");

    tcase_set_timeout(tc, 120);
    tcase_add_test(tc, test_p256);
    tcase_add_test(tc, test_rsa);
    tcase_add_test(tc, test_ed25519);
    tcase_add_test(tc, test_refused_keys);
    tcase_add_test(tc, test_pem_with_parameters);
    tcase_add_test(tc, test_jwks_document);
    tcase_add_test(tc, test_claims_of_signed);
    tcase_add_test(tc, test_sign_null);
    suite_add_tcase(s, tc);
    return s;
}
