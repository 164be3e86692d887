/* The key set the JOSE targets verify against (fuzz_jws.c, fuzz_jwks.c):
 * the public keys of RFC 7515 A.2 (RSA), A.3 (P-256), A.4 (P-521) and
 * RFC 8037 A.2 (Ed25519), whose private halves fuzz/make_corpus.py
 * signs the seeds with. */
#ifndef OA2F_FUZZ_JOSE_KEYS_H
#define OA2F_FUZZ_JOSE_KEYS_H

#define FZ_RSA_N                                                              \
    "ofgWCuLjybRlzo0tZWJjNiuSfb4p4fAkd_wWJcyQoTbji9k0l8W26mPddxHmfHQp-Vaw-4q" \
    "PCJrcS2mJPMEzP1Pt0Bm4d4QlL-yRT-SFd2lZS-pCgNMsD1W_YpRPEwOWvG6b32690r2jZ4" \
    "7soMZo9wGzjb_7OMg0LOL-bSf63kpaSHSXndS5z5rexMdbBYUsLA9e-KXBdQOS-UTo7WTBE" \
    "Ma2R2CapHg665xsmtdVMTBQY4uDZlxvb3qCo5ZwKh9kG4LT6_I5IhlJH7aGhyxXFvUK-DWN" \
    "moudF8NAco9_h9iaGNj8q2ethFkMLs91kzk2PAcDTW9gb54h4FRWyuXpoQ"
#define FZ_EC_XY                                                              \
    "\"x\":\"f83OJ3D2xF1Bg8vub9tLe1gHMzV76e8Tus9uPHvRVEU\","                  \
    "\"y\":\"x_FEzRu9m36HLN_tue659LNpXW6pCyStikYjKIWI5a0\""
#define FZ_P521_XY                                                            \
    "\"x\":\"AekpBQ8ST8a8VcfVOTNl353vSrDCLLJXmPk06wTjxrrjcBpXp5EOnYG_"        \
    "NjFZ6OvL"                                                                \
    "FV1jSfS9tsz4qUxcWceqwQGk\",\"y\":\"ADSmRA43Z1DSNx_"                      \
    "RvcLI87cdL07l6jQyyBXMo"                                                  \
    "xVg_l2Th-x3S1WDhjDly79ajL4Kkd0AZMaZmh9ubmf63e3kyMj2\""
#define FZ_ED_X "11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo"

/* kid "rsa" (any RS/PS), "rsa-rs256" (the same key, alg RS256), "ec",
 * "p521", "ed", and the RSA key once more without kid. */
#define FZ_JWKS                                                               \
    "{\"keys\":["                                                             \
    "{\"kty\":\"RSA\",\"kid\":\"rsa\",\"e\":\"AQAB\",\"n\":\"" FZ_RSA_N       \
    "\"},"                                                                    \
    "{\"kty\":\"RSA\",\"kid\":\"rsa-rs256\",\"alg\":\"RS256\",\"use\":"       \
    "\"sig\",\"e\":\"AQAB\",\"n\":\"" FZ_RSA_N "\"},"                         \
    "{\"kty\":\"EC\",\"kid\":\"ec\",\"crv\":\"P-256\"," FZ_EC_XY "},"         \
    "{\"kty\":\"EC\",\"kid\":\"p521\",\"crv\":\"P-521\"," FZ_P521_XY "},"     \
    "{\"kty\":\"OKP\",\"kid\":\"ed\",\"crv\":\"Ed25519\",\"x\":\"" FZ_ED_X    \
    "\"},"                                                                    \
    "{\"kty\":\"RSA\",\"e\":\"AQAB\",\"n\":\"" FZ_RSA_N "\"}"                 \
    "]}"
#define FZ_JWKS_KEYS 6

#endif
