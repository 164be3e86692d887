/* Keys, vectors and an independent EVP signer for the JOSE tests
 * (test_jose.c, test_jwks.c, test_jwt.c, test_signer.c). Everything is
 * in ut_pool; keys are freed with it. */
#ifndef OA2F_UT_JOSE_H
#define OA2F_UT_JOSE_H

#include <openssl/evp.h>
#include <apr_pools.h>

#include "oa2f_jose.h"

/* RFC 7515 appendix A.2.1: the RSA key, public members and all. */
#define UT_A2_N                                                               \
    "ofgWCuLjybRlzo0tZWJjNiuSfb4p4fAkd_wWJcyQoTbji9k0l8W26mPddxHmfHQp-Vaw-4q" \
    "PCJrcS2mJPMEzP1Pt0Bm4d4QlL-yRT-SFd2lZS-pCgNMsD1W_YpRPEwOWvG6b32690r2jZ4" \
    "7soMZo9wGzjb_7OMg0LOL-bSf63kpaSHSXndS5z5rexMdbBYUsLA9e-KXBdQOS-UTo7WTBE" \
    "Ma2R2CapHg665xsmtdVMTBQY4uDZlxvb3qCo5ZwKh9kG4LT6_I5IhlJH7aGhyxXFvUK-DWN" \
    "moudF8NAco9_h9iaGNj8q2ethFkMLs91kzk2PAcDTW9gb54h4FRWyuXpoQ"
/* RFC 7515 appendix A.3.1: the P-256 key. */
#define UT_A3_X "f83OJ3D2xF1Bg8vub9tLe1gHMzV76e8Tus9uPHvRVEU"
#define UT_A3_Y "x_FEzRu9m36HLN_tue659LNpXW6pCyStikYjKIWI5a0"
/* RFC 8037 appendix A.1/A.2: the Ed25519 key. */
#define UT_8037_D "nWGxne_9WmC6hEr0kuwsxERJxWl7MmkZcDusAxyuf2A"
#define UT_8037_X "11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo"

/* The payload of RFC 7515 A.1-A.3, base64url. */
#define UT_A_PAYLOAD                                                          \
    "eyJpc3MiOiJqb2UiLA0KICJleHAiOjEzMDA4MTkzODAsDQogImh0dHA6Ly9leGFtcGxlLmN" \
    "vbS9pc19yb290Ijp0cnVlfQ"

/* The RFC 7515 A.2 private key (EVP_PKEY_fromdata from its JWK). */
EVP_PKEY *ut_rfc7515_rsa(void);
/* The RFC 8037 A.1 private key. */
EVP_PKEY *ut_rfc8037_ed25519(void);
/* A fresh key: ("RSA", "2048"), ("EC", "P-384"), ("ED25519", NULL)… */
EVP_PKEY *ut_keygen(const char *type, const char *param);

/* The public JWK of k with kid and alg (either NULL: left out). */
const char *ut_jwk(EVP_PKEY *k, const char *kid, const char *alg);
/* {"keys":[jwk, …]} of NULL-terminated JWK texts. */
const char *ut_jwks_doc(const char *jwk, ...);
/* A parsed set, which must parse. */
oa2f_jwks_t *ut_jwks(const char *doc);

/* s base64url-encoded. */
const char *ut_b64(const char *s);
/* Decoded, must decode. */
const unsigned char *ut_unb64(const char *s, apr_size_t *len);

/* Signature of input under alg by k, base64url, made here with EVP
 * directly (not the module's signer): ES* as raw r||s unless der.
 * pss_salt: -1 the digest's length, else that many bytes. */
const char *ut_sign(const char *alg, EVP_PKEY *k, const char *input,
                    int der, int pss_salt);
/* b64(header).b64(payload).signature as above. */
const char *ut_token(const char *alg, EVP_PKEY *k, const char *header,
                     const char *payload);

/* A jws as oa2f_jws_parse would give, for payloads that are no JSON. */
oa2f_jws_t *ut_jws_raw(const char *alg, const char *kid, const char *input,
                       const unsigned char *sig, apr_size_t sig_len);

#endif
