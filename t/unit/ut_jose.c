/* Keys and an independent signer for the JOSE tests (ut_jose.h). */
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <apr_strings.h>
#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/ec.h>
#include <openssl/param_build.h>
#include <openssl/rsa.h>

#include "unit.h"
#include "ut_jose.h"
#include "oa2f_b64url.h"
#include "oa2f_jwk.h"

/* RFC 7515 A.2.1, the private members. */
static const char *const a2_private[][2] = {
    { OSSL_PKEY_PARAM_RSA_D,
      "Eq5xpGnNCivDflJsRQBXHx1hdR1k6Ulwe2JZD50LpXyWPEAeP88vLNO97IjlA7_GQ5sLKMg"
      "vfTeXZx9SE-7YwVol2NXOoAJe46sui395IW_GO-pWJ1O0BkTGoVEn2bKVRUCgu-GjBVaYLU"
      "6f3l9kJfFNS3E0QbVdxzubSu3Mkqzjkn439X0M_V51gfpRLI9JYanrC4D4qAdGcopV_0ZHH"
      "zQlBjudU2QvXt4ehNYTCBr6XCLQUShb1juUO1ZdiYoFaFQT5Tw8bGUl_x_jTj3ccPDVZFD9"
      "pIuhLhBOneufuBiB4cS98l2SR_RQyGWSeWjnczT0QU91p1DhOVRuOopznQ" },
    { OSSL_PKEY_PARAM_RSA_FACTOR1,
      "4BzEEOtIpmVdVEZNCqS7baC4crd0pqnRH_5IB3jw3bcxGn6QLvnEtfdUdiYrqBdss1l58BQ"
      "3KhooKeQTa9AB0Hw_Py5PJdTJNPY8cQn7ouZ2KKDcmnPGBY5t7yLc1QlQ5xHdwW1VhvKn-n"
      "XqhJTBgIPgtldC-KDV5z-y2XDwGUc" },
    { OSSL_PKEY_PARAM_RSA_FACTOR2,
      "uQPEfgmVtjL0Uyyx88GZFF1fOunH3-7cepKmtH4pxhtCoHqpWmT8YAmZxaewHgHAjLYsp1Z"
      "Se7zFYHj7C6ul7TjeLQeZD_YwD66t62wDmpe_HlB-TnBA-njbglfIsRLtXlnDzQkv5dTltR"
      "J11BKBBypeeF6689rjcJIDEz9RWdc" },
    { OSSL_PKEY_PARAM_RSA_EXPONENT1,
      "BwKfV3Akq5_MFZDFZCnW-wzl-CCo83WoZvnLQwCTeDv8uzluRSnm71I3QCLdhrqE2e9Ykxv"
      "uxdBfpT_PI7Yz-FOKnu1R6HsJeDCjn12Sk3vmAktV2zb34MCdy7cpdTh_YVr7tss2u6vneT"
      "wrA86rZtu5Mbr1C1XsmvkxHQAdYo0" },
    { OSSL_PKEY_PARAM_RSA_EXPONENT2,
      "h_96-mK1R_7glhsum81dZxjTnYynPbZpHziZjeeHcXYsXaaMwkOlODsWa7I9xXDoRwbKgB7"
      "19rrmI2oKr6N3Do9U0ajaHF-NKJnwgjMd2w9cjz3_-kyNlxAr2v4IKhGNpmM5iIgOS1VZnO"
      "Z68m6_pbLBSp3nssTdlqvd0tIiTHU" },
    { OSSL_PKEY_PARAM_RSA_COEFFICIENT1,
      "IYd7DHOhrWvxkwPQsRM2tOgrjbcrfvtQJipd-DlcxyVuuM9sQLdgjVk2oy26F0EmpScGLq2"
      "MowX7fhd_QJQ3ydy5cY7YIBi87w93IKLEdfnbJtoOPLUW0ITrJReOgo1cq9SbsxYawBgfp_"
      "gh6A5603k2-ZQwVK0JKSHuLFkuQ3U" },
};

static apr_status_t free_pkey(void *k)
{
    EVP_PKEY_free(k);
    return APR_SUCCESS;
}

static apr_status_t free_bn(void *bn)
{
    BN_free(bn);
    return APR_SUCCESS;
}

static EVP_PKEY *keep(EVP_PKEY *k)
{
    ck_assert_ptr_nonnull(k);
    apr_pool_cleanup_register(ut_pool, k, free_pkey, apr_pool_cleanup_null);
    return k;
}

static BIGNUM *bn_of(const char *b64)
{
    apr_size_t n;
    const unsigned char *b = ut_unb64(b64, &n);
    BIGNUM *bn = BN_bin2bn(b, (int)n, NULL);

    ck_assert_ptr_nonnull(bn);
    apr_pool_cleanup_register(ut_pool, bn, free_bn, apr_pool_cleanup_null);
    return bn;
}

EVP_PKEY *ut_rfc7515_rsa(void)
{
    OSSL_PARAM_BLD *bld = OSSL_PARAM_BLD_new();
    OSSL_PARAM *params;
    EVP_PKEY_CTX *ctx = EVP_PKEY_CTX_new_from_name(NULL, "RSA", NULL);
    EVP_PKEY *k = NULL;
    int i;

    ck_assert(OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_N,
                                     bn_of(UT_A2_N)));
    ck_assert(OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_E,
                                     bn_of("AQAB")));
    for (i = 0; i < UT_N(a2_private); i++) {
        ck_assert(OSSL_PARAM_BLD_push_BN(bld, a2_private[i][0],
                                         bn_of(a2_private[i][1])));
    }
    params = OSSL_PARAM_BLD_to_param(bld);
    ck_assert_int_eq(EVP_PKEY_fromdata_init(ctx), 1);
    ck_assert_int_eq(EVP_PKEY_fromdata(ctx, &k, EVP_PKEY_KEYPAIR, params), 1);
    OSSL_PARAM_free(params);
    OSSL_PARAM_BLD_free(bld);
    EVP_PKEY_CTX_free(ctx);
    return keep(k);
}

EVP_PKEY *ut_rfc8037_ed25519(void)
{
    apr_size_t n;
    const unsigned char *d = ut_unb64(UT_8037_D, &n);

    ck_assert_int_eq(n, 32);
    return keep(EVP_PKEY_new_raw_private_key_ex(NULL, "ED25519", NULL, d, n));
}

EVP_PKEY *ut_keygen(const char *type, const char *param)
{
    if (strcmp(type, "RSA") == 0) {
        return keep(
            EVP_PKEY_Q_keygen(NULL, NULL, "RSA", (size_t)atoi(param)));
    }
    if (strcmp(type, "EC") == 0) {
        return keep(EVP_PKEY_Q_keygen(NULL, NULL, "EC", param));
    }
    return keep(EVP_PKEY_Q_keygen(NULL, NULL, type));
}

const char *ut_jwk(EVP_PKEY *k, const char *kid, const char *alg)
{
    const char *pub = oa2f_jwk_public_json(ut_pool, k);

    ck_assert_ptr_nonnull(pub);
    return apr_pstrcat(ut_pool, apr_pstrmemdup(ut_pool, pub, strlen(pub) - 1),
                       kid ? ",\"kid\":\"" : "", kid ? kid : "",
                       kid ? "\"" : "", alg ? ",\"alg\":\"" : "",
                       alg ? alg : "", alg ? "\"" : "", "}", NULL);
}

const char *ut_jwks_doc(const char *jwk, ...)
{
    va_list ap;
    const char *doc = "{\"keys\":[";
    const char *sep = "";

    va_start(ap, jwk);
    for (; jwk; jwk = va_arg(ap, const char *)) {
        doc = apr_pstrcat(ut_pool, doc, sep, jwk, NULL);
        sep = ",";
    }
    va_end(ap);
    return apr_pstrcat(ut_pool, doc, "]}", NULL);
}

oa2f_jwks_t *ut_jwks(const char *doc)
{
    oa2f_jwks_t *set = NULL;
    const char *why = NULL;
    int skipped = -1;

    ck_assert_msg(oa2f_jwks_parse(ut_pool, doc, strlen(doc), &set, &skipped,
                                  &why)
                      == OA2F_JOSE_OK,
                  "JWKS refused: %s", why ? why : "?");
    return set;
}

const char *ut_b64(const char *s)
{
    return oa2f_b64url_encode(ut_pool, (const unsigned char *)s, strlen(s));
}

const unsigned char *ut_unb64(const char *s, apr_size_t *len)
{
    const unsigned char *b = oa2f_b64url_decode(ut_pool, s, strlen(s), len);

    ck_assert_msg(b != NULL, "not base64url: %s", s);
    return b;
}

const char *ut_sign(const char *alg, EVP_PKEY *k, const char *input,
                    int der, int pss_salt)
{
    const char *md = NULL;
    int coord = 0;
    EVP_MD_CTX *ctx = EVP_MD_CTX_new();
    EVP_PKEY_CTX *pctx = NULL;
    unsigned char *sig;
    size_t n = 0;

    if (alg[0] == 'R' || alg[0] == 'P' || alg[0] == 'E') {
        md = strcmp(alg, "EdDSA") ? apr_pstrcat(ut_pool, "SHA", alg + 2, NULL)
                                  : NULL;
    }
    if (!strcmp(alg, "ES256")) {
        coord = 32;
    }
    else if (!strcmp(alg, "ES384")) {
        coord = 48;
    }
    else if (!strcmp(alg, "ES512")) {
        coord = 66;
    }
    ck_assert_int_eq(EVP_DigestSignInit_ex(ctx, &pctx, md, NULL, NULL, k, NULL),
                     1);
    if (alg[0] == 'P') {
        ck_assert_int_eq(
            EVP_PKEY_CTX_set_rsa_padding(pctx, RSA_PKCS1_PSS_PADDING), 1);
        ck_assert_int_eq(EVP_PKEY_CTX_set_rsa_pss_saltlen(
                             pctx, pss_salt < 0 ? RSA_PSS_SALTLEN_DIGEST
                                                : pss_salt),
                         1);
    }
    ck_assert_int_eq(EVP_DigestSign(ctx, NULL, &n, (const unsigned char *)input,
                                    strlen(input)),
                     1);
    sig = apr_palloc(ut_pool, n);
    ck_assert_int_eq(EVP_DigestSign(ctx, sig, &n, (const unsigned char *)input,
                                    strlen(input)),
                     1);
    EVP_MD_CTX_free(ctx);
    if (coord && !der) {
        const unsigned char *q = sig;
        ECDSA_SIG *es = d2i_ECDSA_SIG(NULL, &q, (long)n);
        unsigned char *raw = apr_palloc(ut_pool, 2 * coord);
        ck_assert_ptr_nonnull(es);
        ck_assert_int_eq(BN_bn2binpad(ECDSA_SIG_get0_r(es), raw, coord),
                         coord);
        ck_assert_int_eq(BN_bn2binpad(ECDSA_SIG_get0_s(es), raw + coord, coord),
                         coord);
        ECDSA_SIG_free(es);
        sig = raw;
        n = 2 * coord;
    }
    return oa2f_b64url_encode(ut_pool, sig, n);
}

const char *ut_token(const char *alg, EVP_PKEY *k, const char *header,
                     const char *payload)
{
    const char *input =
        apr_pstrcat(ut_pool, ut_b64(header), ".", ut_b64(payload), NULL);

    return apr_pstrcat(ut_pool, input, ".", ut_sign(alg, k, input, 0, -1),
                       NULL);
}

oa2f_jws_t *ut_jws_raw(const char *alg, const char *kid, const char *input,
                       const unsigned char *sig, apr_size_t sig_len)
{
    oa2f_jws_t *j = apr_pcalloc(ut_pool, sizeof(*j));

    j->alg = alg;
    j->kid = kid;
    j->signing_input = input;
    j->signing_input_len = strlen(input);
    j->sig = sig;
    j->sig_len = sig_len;
    j->payload = "{}";
    j->payload_len = 2;
    return j;
}
