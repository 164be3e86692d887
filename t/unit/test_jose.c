/* oa2f_b64url.c, oa2f_jose_alg.c, oa2f_jws.c: compact JWS parse and
 * verify (RFC 7515 §7.1, §5.2; RFC 7518 §3; RFC 8037 §3.1; RFC 8725),
 * against the RFCs' own vectors (RFC 7515, 7520, 7638, 8037), round trips for every algorithm of the
 * allow-list, and hostile tokens each with its exact result. */
#include <string.h>
#include <apr_strings.h>
#include <apr_thread_proc.h>
#include <openssl/evp.h>

#include "unit.h"
#include "ut_jose.h"
#include "oa2f_b64url.h"
#include "oa2f_jose.h"
#include "oa2f_jose_alg.h"
#include "oa2f_jwk.h"

/* Check records every passing ck_assert: loops use this instead. */
#define FAIL_IF(cond, ...)                                                    \
    do {                                                                      \
        if (cond) {                                                           \
            ck_abort_msg(__VA_ARGS__);                                        \
        }                                                                     \
    } while (0)

/* RFC 7515 A.2.2 */
#define A2_SIG                                                                \
    "cC4hiUPoj9Eetdgtv3hF80EGrhuB__dzERat0XF9g2VtQgr9PJbu3XOiZj5RZmh7AAuHIm4" \
    "Bh-0Qc_lF5YKt_O8W2Fp5jujGbds9uJdbF9CUAr7t1dnZcAcQjbKBYNX4BAynRFdiuB--f_" \
    "nZLgrnbyTyWzO75vRK5h6xBArLIARNPvkSjtQBMHlb1L07Qe7K0GarZRmB_eSN9383LcOLn" \
    "6_dO--xi12jzDwusC-eOkHWEsqtFZESc6BfI7noOPqvhJ1phCnvWh6IeYI2w9QOYEUipUTI" \
    "8np6LbgGY9Fs98rqVt5AXLIhWkWywlVmtVrBp0igcN_IoypGlUPQGe77Rw"
#define A2_TOKEN "eyJhbGciOiJSUzI1NiJ9." UT_A_PAYLOAD "." A2_SIG
/* RFC 7515 A.3.1 */
#define A3_TOKEN                                                              \
    "eyJhbGciOiJFUzI1NiJ9." UT_A_PAYLOAD                                      \
    ".DtEhU3ljbEg8L38VWAfUAqOyKAM6-Xx-F4GawxaepmXFCgfTjDxw5djxLa8ISlSApmWQxf" \
    "KTUJqPP3-Kg6NU1Q"
/* RFC 7515 A.4: ES512 over the payload "Payload" */
#define A4_X                                                                  \
    "AekpBQ8ST8a8VcfVOTNl353vSrDCLLJXmPk06wTjxrrjcBpXp5EOnYG_NjFZ6OvLFV1jSfS9" \
    "tsz4qUxcWceqwQGk"
#define A4_Y                                                                  \
    "ADSmRA43Z1DSNx_RvcLI87cdL07l6jQyyBXMoxVg_l2Th-x3S1WDhjDly79ajL4Kkd0AZMaZ" \
    "mh9ubmf63e3kyMj2"
#define A4_INPUT "eyJhbGciOiJFUzUxMiJ9.UGF5bG9hZA"
#define A4_SIG                                                                \
    "AdwMgeerwtHoh-l192l60hp9wAHZFVJbLfD_UxMi70cwnZOYaRI1bKPWROc-mZZqwqT2SI-" \
    "KGDKB34XO0aw_7XdtAG8GaSwFKdCAPZgoXD2YBJZCPEX3xKpRwcdOO8KpEHwJjyqOgzDO7i" \
    "KvU8vcnwNrmxYbSW9ERBXukOXolLzeO_Jn"
/* RFC 7515 A.1: HS256 */
#define A1_TOKEN                                                              \
    "eyJ0eXAiOiJKV1QiLA0KICJhbGciOiJIUzI1NiJ9." UT_A_PAYLOAD                  \
    ".dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk"
/* RFC 7515 A.5: unsecured */
#define A5_TOKEN "eyJhbGciOiJub25lIn0." UT_A_PAYLOAD "."
/* RFC 8037 A.4 */
#define E4_INPUT "eyJhbGciOiJFZERTQSJ9.RXhhbXBsZSBvZiBFZDI1NTE5IHNpZ25pbmc"
#define E4_SIG                                                                \
    "hgyY0il_MGCjP0JzlnLWG1PPOt7-09PGcvMg3AIbQR6dWbhijcNR4ki4iylGjg5BhVsPt9g" \
    "7sVvpAr_MuM0KAg"


/* RFC 7520 §4.1-4.3: the JOSE cookbook's text payload, signed by the
 * keys of its figures 1 (P-521) and 3 (RSA), which share their kid. */
#define C_PAYLOAD                                                             \
    "SXTigJlzIGEgZGFuZ2Vyb3VzIGJ1c2luZXNzLCBGcm9kbywgZ29pbmcgb3V0IHlvdXIgZG9" \
    "vci4gWW91IHN0ZXAgb250byB0aGUgcm9hZCwgYW5kIGlmIHlvdSBkb24ndCBrZWVwIHlvdX" \
    "IgZmVldCwgdGhlcmXigJlzIG5vIGtub3dpbmcgd2hlcmUgeW91IG1pZ2h0IGJlIHN3ZXB0I" \
    "G9mZiB0by4"
#define C_KID "bilbo.baggins@hobbiton.example"
#define C_RSA                                                                 \
    "{\"kty\":\"RSA\",\"kid\":\"" C_KID "\",\"use\":\"sig\",\"n\":\"n4EPtAOCc9" \
    "AlkeQHPzHStgAbgs7bTZLwUBZdR8_KuKPEHLd4rHVTeT-O-XV2jRojdNhxJWTDvNd7nqQ0V" \
    "EiZQHz_AJmSCpMaJMRBSFKrKb2wqVwGU_NsYOYL-QtiWN2lbzcEe6XC0dApr5ydQLrHqkHH" \
    "ig3RBordaZ6Aj-oBHqFEHYpPe7Tpe-OfVfHd1E6cS6M1FZcD1NNLYD5lFHpPI9bTwJlsde3" \
    "uhGqC0ZCuEHg8lhzwOHrtIQbS0FVbb9k3-tVTU4fg_3L_vniUFAKwuCLqKnS2BYwdq_mzSn" \
    "bLY7h_qixoR7jig3__kRhuaxwUkRz5iaiQkqgc5gHdrNP5zw\",\"e\":\"AQAB\"}"
#define C_EC                                                                  \
    "{\"kty\":\"EC\",\"kid\":\"" C_KID "\",\"use\":\"sig\",\"crv\":\"P-521\","      \
    "\"x\":\"AHKZLLOsCOzz5cY97ewNUajB957y-C-U88c3v13nmGZx6sYl_oJXu9A5RkTKqjqv" \
    "jyekWF-7ytDyRXYgCF5cj0Kt\",\"y\":\"AdymlHvOiLxXkEhayXQnNCvDX4h9htZaCJN34" \
    "kfmC6pV5OhQHiraVySsUdaQkAgDPrwQrJmbnX9cwlGfP-HqHZR1\"}"
#define C41_INPUT                                                             \
    "eyJhbGciOiJSUzI1NiIsImtpZCI6ImJpbGJvLmJhZ2dpbnNAaG9iYml0b24uZXhhbXBsZSJ" \
    "9." C_PAYLOAD
#define C41_SIG                                                               \
    "MRjdkly7_-oTPTS3AXP41iQIGKa80A0ZmTuV5MEaHoxnW2e5CZ5NlKtainoFmKZopdHM1O2" \
    "U4mwzJdQx996ivp83xuglII7PNDi84wnB-BDkoBwA78185hX-Es4JIwmDLJK3lfWRa-XtL0" \
    "RnltuYv746iYTh_qHRD68BNt1uSNCrUCTJDt5aAE6x8wW1Kt9eRo4QPocSadnHXFxnt8Is9" \
    "UzpERV0ePPQdLuW3IS_de3xyIrDaLGdjluPxUAhb6L2aXic1U12podGU0KLUQSE_oI-ZnmK" \
    "J3F4uOZDnd6QZWJushZ41Axf_fcIe8u9ipH84ogoree7vjbU5y18kDquDg"
#define C42_INPUT                                                             \
    "eyJhbGciOiJQUzM4NCIsImtpZCI6ImJpbGJvLmJhZ2dpbnNAaG9iYml0b24uZXhhbXBsZSJ" \
    "9." C_PAYLOAD
#define C42_SIG                                                               \
    "cu22eBqkYDKgIlTpzDXGvaFfz6WGoz7fUDcfT0kkOy42miAh2qyBzk1xEsnk2IpN6-tPid6" \
    "VrklHkqsGqDqHCdP6O8TTB5dDDItllVo6_1OLPpcbUrhiUSMxbbXUvdvWXzg-UD8biiReQF" \
    "lfz28zGWVsdiNAUf8ZnyPEgVFn442ZdNqiVJRmBqrYRXe8P_ijQ7p8Vdz0TTrxUeT3lm8d9" \
    "shnr2lfJT8ImUjvAA2Xez2Mlp8cBE5awDzT0qI0n6uiP1aCN_2_jLAeQTlqRHtfa64QQSUm" \
    "FAAjVKPbByi7xho0uTOcbH510a6GYmJUAfmWjwZ6oD4ifKo8DYM-X72Eaw"
#define C43_INPUT                                                             \
    "eyJhbGciOiJFUzUxMiIsImtpZCI6ImJpbGJvLmJhZ2dpbnNAaG9iYml0b24uZXhhbXBsZSJ" \
    "9." C_PAYLOAD
#define C43_SIG                                                               \
    "AE_R_YZCChjn4791jSQCrdPZCNYqHXCTZH0-JZGYNlaAjP2kqaluUIIUnC9qvbu9Plon7KR" \
    "TzoNEuT4Va2cmL1eJAQy3mtPBu_u_sDDyYjnAMDxXPn7XrT0lw-kvAD890jl8e2puQens_I" \
    "EKBpHABlsbEPX6sFY8OcGDqoRuBomu9xQ2"

#define A2_JWK "{\"kty\":\"RSA\",\"n\":\"" UT_A2_N "\",\"e\":\"AQAB\"}"
#define A3_JWK                                                                \
    "{\"kty\":\"EC\",\"crv\":\"P-256\",\"x\":\"" UT_A3_X "\",\"y\":\"" UT_A3_Y \
    "\"}"

#define PAYLOAD "{\"iss\":\"https://as.example.com\",\"exp\":4102444800}"

static oa2f_jose_rc_e parse(const char *tok, oa2f_jws_t **jws)
{
    const char *why = NULL;
    oa2f_jose_rc_e rc = oa2f_jws_parse(ut_pool, tok, strlen(tok), jws, &why);

    FAIL_IF(rc != OA2F_JOSE_OK && !why, "no reason for %s", tok);
    return rc;
}

static oa2f_jose_rc_e parse_rc(const char *tok)
{
    oa2f_jws_t *jws;

    return parse(tok, &jws);
}

/* parse, then verify against the set */
static oa2f_jose_rc_e check(const char *tok, const oa2f_jwks_t *set)
{
    oa2f_jws_t *jws = NULL;
    const char *why = NULL;
    oa2f_jose_rc_e rc = parse(tok, &jws);

    if (rc != OA2F_JOSE_OK) {
        return rc;
    }
    rc = oa2f_jws_verify(jws, set, &why);
    FAIL_IF(rc != OA2F_JOSE_OK && !why, "no reason");
    return rc;
}

/* A token with this header and the standard payload, signed by k. */
static const char *tok_hdr(const char *alg, EVP_PKEY *k, const char *hdr)
{
    return ut_token(alg, k, hdr, PAYLOAD);
}

/* ---- base64url ------------------------------------------------------ */

START_TEST(test_b64url_round_trip)
{
    unsigned char b[64];
    apr_size_t n, len, i;

    for (i = 0; i < sizeof(b); i++) {
        b[i] = (unsigned char)(i * 37 + 11);
    }
    for (n = 0; n <= sizeof(b); n++) {
        char *s = oa2f_b64url_encode(ut_pool, b, n);
        unsigned char *d = oa2f_b64url_decode(ut_pool, s, strlen(s), &len);
        FAIL_IF(strchr(s, '=') || strchr(s, '+') || strchr(s, '/'),
                "not base64url: %s", s);
        FAIL_IF(!d || len != n || memcmp(d, b, n) != 0, "round trip %d",
                (int)n);
    }
}
END_TEST

START_TEST(test_b64url_strict)
{
    static const char *const bad[] = {
        "QQ==", "QQ=", "Q",    "QUJDR", "QR",   "QUJ", "QUJ+", "QU/D",
        "QU D", "QU\n", " QUJD", "QUJD ", "QU.D", "Q\x80JD",
    };
    apr_size_t len;
    int i;

    for (i = 0; i < UT_N(bad); i++) {
        FAIL_IF(oa2f_b64url_decode(ut_pool, bad[i], strlen(bad[i]), &len),
                "accepted \"%s\"", bad[i]);
    }
    ck_assert_str_eq((const char *)ut_unb64("QQ", &len), "A");
    ck_assert_str_eq((const char *)ut_unb64("QUI", &len), "AB");
    ck_assert_str_eq((const char *)ut_unb64("QUJD", &len), "ABC");
    ck_assert_ptr_nonnull(oa2f_b64url_decode(ut_pool, "", 0, &len));
    ck_assert_int_eq(len, 0);
    /* lax: padding and white space skipped, standard alphabet read */
    ck_assert_str_eq(
        (const char *)oa2f_b64url_decode_lax(ut_pool, "QU I=\n", 6, &len),
        "AB");
    ck_assert_ptr_null(oa2f_b64url_decode_lax(ut_pool, "QU.I", 4, &len));
}
END_TEST

/* every byte, in each place of a group of four and of a last group of
 * three: accepted exactly when it is in the alphabet (and, last, leaves
 * no unused bit set) */
START_TEST(test_b64url_every_byte)
{
    static const char abc[] =
        "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    apr_size_t len;
    int c, at;

    for (c = 0; c < 256; c++) {
        const char *in = c ? strchr(abc, c) : NULL;
        int value = in ? (int)(in - abc) : -1;

        ck_assert_int_eq(oa2f_b64url_is_char((unsigned char)c), value >= 0);
        for (at = 0; at < 4; at++) {
            char s[9] = "QUJDQUJD";
            unsigned char *d;

            s[at] = (char)c;
            d = oa2f_b64url_decode(ut_pool, s, 8, &len);
            FAIL_IF((d != NULL) != (value >= 0), "byte %d at %d", c, at);
            FAIL_IF(d && len != 6, "byte %d at %d: %d bytes", c, at,
                    (int)len);
        }
        for (at = 0; at < 3; at++) {
            char s[8] = "QUJDQUI";
            unsigned char *d;
            int ok = value >= 0 && (at < 2 || (value & 0x03) == 0);

            s[4 + at] = (char)c;
            d = oa2f_b64url_decode(ut_pool, s, 7, &len);
            FAIL_IF((d != NULL) != ok, "byte %d at tail %d", c, at);
        }
    }
}
END_TEST

/* ---- the RFC vectors ------------------------------------------------ */

START_TEST(test_rfc7515_a2_rs256)
{
    oa2f_jws_t *jws = NULL;
    const char *why = NULL;

    ck_assert_int_eq(parse(A2_TOKEN, &jws), OA2F_JOSE_OK);
    ck_assert_str_eq(jws->alg, "RS256");
    ck_assert_ptr_null(jws->kid);
    ck_assert_ptr_null(jws->typ);
    ck_assert_str_eq(jws->payload,
                     "{\"iss\":\"joe\",\r\n \"exp\":1300819380,\r\n "
                     "\"http://example.com/is_root\":true}");
    ck_assert_int_eq(jws->sig_len, 256);
    ck_assert_str_eq(jws->signing_input, "eyJhbGciOiJSUzI1NiJ9." UT_A_PAYLOAD);
    ck_assert_int_eq(oa2f_jws_verify(jws, ut_jwks(ut_jwks_doc(A2_JWK, NULL)),
                                     &why),
                     OA2F_JOSE_OK);
    ck_assert_ptr_null(why);
}
END_TEST

/* PKCS #1 v1.5 is deterministic: the RFC's private key gives the RFC's
 * signature byte for byte. */
START_TEST(test_rfc7515_a2_sign)
{
    const char *input = "eyJhbGciOiJSUzI1NiJ9." UT_A_PAYLOAD;
    apr_size_t n = 0;
    unsigned char *sig =
        oa2f_jose_alg_sign(ut_pool, oa2f_jose_alg_find("RS256"),
                           ut_rfc7515_rsa(), input, strlen(input), &n);

    ck_assert_ptr_nonnull(sig);
    ck_assert_str_eq(oa2f_b64url_encode(ut_pool, sig, n), A2_SIG);
}
END_TEST

START_TEST(test_rfc7515_a3_es256)
{
    oa2f_jws_t *jws = NULL;

    ck_assert_int_eq(parse(A3_TOKEN, &jws), OA2F_JOSE_OK);
    ck_assert_int_eq(jws->sig_len, 64);
    ck_assert_int_eq(check(A3_TOKEN, ut_jwks(ut_jwks_doc(A3_JWK, NULL))),
                     OA2F_JOSE_OK);
}
END_TEST

/* The A.4 payload is not JSON: verified below the parser. */
START_TEST(test_rfc7515_a4_es512)
{
    const char *jwk = "{\"kty\":\"EC\",\"crv\":\"P-521\",\"x\":\"" A4_X
                      "\",\"y\":\"" A4_Y "\"}";
    apr_size_t n;
    const unsigned char *sig = ut_unb64(A4_SIG, &n);
    const char *why;

    ck_assert_int_eq(n, 132);
    ck_assert_int_eq(oa2f_jws_verify(ut_jws_raw("ES512", NULL, A4_INPUT, sig,
                                                n),
                                     ut_jwks(ut_jwks_doc(jwk, NULL)), &why),
                     OA2F_JOSE_OK);
    ck_assert_int_eq(parse_rc(A4_INPUT "." A4_SIG), OA2F_JOSE_MALFORMED);
}
END_TEST

START_TEST(test_rfc8037_a4_sign)
{
    apr_size_t n = 0;
    unsigned char *sig =
        oa2f_jose_alg_sign(ut_pool, oa2f_jose_alg_find("EdDSA"),
                           ut_rfc8037_ed25519(), E4_INPUT, strlen(E4_INPUT),
                           &n);

    ck_assert_ptr_nonnull(sig);
    ck_assert_str_eq(oa2f_b64url_encode(ut_pool, sig, n), E4_SIG);
}
END_TEST

START_TEST(test_rfc8037_a5_verify)
{
    const char *jwk = "{\"kty\":\"OKP\",\"crv\":\"Ed25519\",\"x\":\"" UT_8037_X
                      "\"}";
    apr_size_t n;
    const unsigned char *sig = ut_unb64(E4_SIG, &n);
    const char *why;
    oa2f_jwks_t *set = ut_jwks(ut_jwks_doc(jwk, NULL));

    ck_assert_int_eq(oa2f_jws_verify(ut_jws_raw("EdDSA", NULL, E4_INPUT, sig,
                                                n),
                                     set, &why),
                     OA2F_JOSE_OK);
    /* the same signature over another input */
    ck_assert_int_eq(oa2f_jws_verify(ut_jws_raw("EdDSA", NULL,
                                                E4_INPUT "A", sig, n),
                                     set, &why),
                     OA2F_JOSE_BAD_SIGNATURE);
}
END_TEST

static oa2f_jose_rc_e cookbook(const char *alg, const char *input,
                               const char *sig64, const oa2f_jwks_t *set)
{
    apr_size_t n;
    const unsigned char *sig = ut_unb64(sig64, &n);
    const char *why;

    return oa2f_jws_verify(ut_jws_raw(alg, C_KID, input, sig, n), set, &why);
}

START_TEST(test_rfc7520_cookbook)
{
    oa2f_jwks_t *rsa = ut_jwks(ut_jwks_doc(C_RSA, NULL));
    oa2f_jwks_t *ec = ut_jwks(ut_jwks_doc(C_EC, NULL));
    oa2f_jwks_t *both = ut_jwks(ut_jwks_doc(C_RSA, C_EC, NULL));

    ck_assert_int_eq(cookbook("RS256", C41_INPUT, C41_SIG, rsa), OA2F_JOSE_OK);
    /* PSS with a 48-byte salt: the salt length chosen here is RFC 7520's */
    ck_assert_int_eq(cookbook("PS384", C42_INPUT, C42_SIG, rsa), OA2F_JOSE_OK);
    ck_assert_int_eq(cookbook("ES512", C43_INPUT, C43_SIG, ec), OA2F_JOSE_OK);
    /* one signature under another alg, or by another key */
    ck_assert_int_eq(cookbook("PS384", C41_INPUT, C41_SIG, rsa),
                     OA2F_JOSE_BAD_SIGNATURE);
    ck_assert_int_eq(cookbook("RS384", C42_INPUT, C42_SIG, rsa),
                     OA2F_JOSE_BAD_SIGNATURE);
    ck_assert_int_eq(cookbook("ES512", C43_INPUT, C43_SIG, rsa),
                     OA2F_JOSE_KEY_MISMATCH);
    /* RFC 7517 §4.5 lets keys of different types share a kid; this set
     * drops both, so the kid is a mismatch, not an unknown kid */
    ck_assert_int_eq(oa2f_jwks_count(both), 0);
    ck_assert_int_eq(cookbook("ES512", C43_INPUT, C43_SIG, both),
                     OA2F_JOSE_KEY_MISMATCH);
}
END_TEST

/* RFC 7638 §3.1 and RFC 8037 A.3 */
START_TEST(test_thumbprints)
{
    const char *rsa =
        "{\"kty\":\"RSA\",\"n\":\"0vx7agoebGcQSuuPiLJXZptN9nndrQmbXEps2aiAFbWh"
        "M78LhWx4cbbfAAtVT86zwu1RK7aPFFxuhDR1L6tSoc_BJECPebWKRXjBZCiFV4n3oknjh"
        "Mstn64tZ_2W-5JsGY4Hc5n9yBXArwl93lqt7_RN5w6Cf0h4QyQ5v-65YGjQR0_FDW2Qvz"
        "qY368QQMicAtaSqzs8KJZgnYb9c7d0zgdAZHzu6qMQvRL5hajrn1n91CbOpbISD08qNLy"
        "rdkt-bFTWhAI4vMQFh6WeZu0fM4lFd2NcRwr3XPksINHaQ-G_xBniIqbw0Ls1jF44-csF"
        "Cur-kEgU8awapJzKnqDKgw\",\"e\":\"AQAB\",\"alg\":\"RS256\",\"kid\":"
        "\"2011-04-29\"}";
    const char *okp = "{\"kty\":\"OKP\",\"crv\":\"Ed25519\",\"x\":\"" UT_8037_X
                      "\"}";
    oa2f_jwks_t *set = ut_jwks(ut_jwks_doc(rsa, okp, A3_JWK, NULL));
    const oa2f_jwk_t *k = (const oa2f_jwk_t *)set->keys->elts;

    ck_assert_int_eq(oa2f_jwks_count(set), 3);
    ck_assert_str_eq(k[0].kid, "2011-04-29");
    ck_assert_str_eq(oa2f_jwk_thumbprint(ut_pool, k[0].pkey),
                     "NzbLsXh8uDCcd-6MNwXF4W_7noWXFZAfHkxZsRGC9Xs");
    ck_assert_str_eq(oa2f_jwk_thumbprint(ut_pool, k[1].pkey),
                     "kPrK_qmxVWaYVA9wwBF6Iuo3vVzz7TxHCTwXBygrS4k");
    ck_assert_str_eq(oa2f_jwk_thumbprint(ut_pool, ut_rfc8037_ed25519()),
                     "kPrK_qmxVWaYVA9wwBF6Iuo3vVzz7TxHCTwXBygrS4k");
    /* the EC key comes back out as it went in */
    ck_assert_str_eq(oa2f_jwk_public_json(ut_pool, k[2].pkey),
                     "{\"crv\":\"P-256\",\"kty\":\"EC\",\"x\":\"" UT_A3_X
                     "\",\"y\":\"" UT_A3_Y "\"}");
}
END_TEST

/* ---- round trips ---------------------------------------------------- */

static void round_trip(const char *alg, EVP_PKEY *k)
{
    const char *hdr = apr_psprintf(ut_pool, "{\"alg\":\"%s\",\"kid\":\"k1\"}",
                                   alg);
    const char *tok = tok_hdr(alg, k, hdr);
    oa2f_jwks_t *set = ut_jwks(ut_jwks_doc(ut_jwk(k, "k1", alg), NULL));
    oa2f_jwks_t *bare = ut_jwks(ut_jwks_doc(ut_jwk(k, NULL, NULL), NULL));
    const char *nokid = tok_hdr(alg, k, apr_psprintf(ut_pool,
                                                     "{\"alg\":\"%s\"}", alg));

    ck_assert_msg(check(tok, set) == OA2F_JOSE_OK, "%s with kid", alg);
    ck_assert_msg(check(nokid, bare) == OA2F_JOSE_OK, "%s without kid", alg);
    ck_assert_msg(check(nokid, set) == OA2F_JOSE_OK, "%s without kid", alg);
    /* a kid the set does not have */
    ck_assert_msg(check(tok, bare) == OA2F_JOSE_NO_KEY, "%s unknown kid", alg);
}

START_TEST(test_round_trip_rsa)
{
    EVP_PKEY *k = ut_rfc7515_rsa();

    round_trip("RS256", k);
    round_trip("RS384", k);
    round_trip("RS512", k);
    round_trip("PS256", k);
    round_trip("PS384", k);
    round_trip("PS512", k);
}
END_TEST

/* keys generated here, of 2048 and 3072 bits */
START_TEST(test_round_trip_rsa_generated)
{
    static const char *const algs[] = { "RS256", "RS384", "RS512",
                                        "PS256", "PS384", "PS512" };
    EVP_PKEY *k2048 = ut_keygen("RSA", "2048");
    EVP_PKEY *k3072 = ut_keygen("RSA", "3072");
    int i;

    for (i = 0; i < UT_N(algs); i++) {
        round_trip(algs[i], k2048);
        round_trip(algs[i], k3072);
    }
}
END_TEST

START_TEST(test_round_trip_ec)
{
    round_trip("ES256", ut_keygen("EC", "P-256"));
    round_trip("ES384", ut_keygen("EC", "P-384"));
    round_trip("ES512", ut_keygen("EC", "P-521"));
}
END_TEST

START_TEST(test_round_trip_eddsa)
{
    round_trip("EdDSA", ut_rfc8037_ed25519());
    round_trip("EdDSA", ut_keygen("ED25519", NULL));
    round_trip("EdDSA", ut_keygen("ED448", NULL));
}
END_TEST

/* RFC 7518 §3.5: the salt is as long as the hash. */
START_TEST(test_pss_salt_length)
{
    EVP_PKEY *k = ut_rfc7515_rsa();
    oa2f_jwks_t *set = ut_jwks(ut_jwks_doc(ut_jwk(k, NULL, NULL), NULL));
    const char *input = apr_pstrcat(ut_pool, ut_b64("{\"alg\":\"PS256\"}"),
                                    ".", ut_b64(PAYLOAD), NULL);

    ck_assert_int_eq(check(apr_pstrcat(ut_pool, input, ".",
                                       ut_sign("PS256", k, input, 0, 32), NULL),
                           set),
                     OA2F_JOSE_OK);
    ck_assert_int_eq(check(apr_pstrcat(ut_pool, input, ".",
                                       ut_sign("PS256", k, input, 0, 0), NULL),
                           set),
                     OA2F_JOSE_BAD_SIGNATURE);
    ck_assert_int_eq(check(apr_pstrcat(ut_pool, input, ".",
                                       ut_sign("PS256", k, input, 0, 64), NULL),
                           set),
                     OA2F_JOSE_BAD_SIGNATURE);
    /* a PKCS #1 v1.5 signature under PS256, and the reverse */
    ck_assert_int_eq(check(apr_pstrcat(ut_pool, input, ".",
                                       ut_sign("RS256", k, input, 0, -1), NULL),
                           set),
                     OA2F_JOSE_BAD_SIGNATURE);
}
END_TEST

/* ---- every change is caught ----------------------------------------- */

/* Each character of the token replaced by another base64url character:
 * never OK (the strict decoding gives each signature one spelling). */
static void every_char(const char *tok, const oa2f_jwks_t *set)
{
    apr_size_t i, n = strlen(tok);
    char *t = apr_pstrdup(ut_pool, tok);

    ck_assert_int_eq(check(tok, set), OA2F_JOSE_OK);
    for (i = 0; i < n; i++) {
        char was = t[i];
        static const char repl[] = "AgQw-_9z";
        int j;
        if (was == '.') {
            continue;
        }
        for (j = 0; repl[j]; j++) {
            oa2f_jose_rc_e rc;
            if (repl[j] == was) {
                continue;
            }
            t[i] = repl[j];
            rc = check(t, set);
            FAIL_IF(rc == OA2F_JOSE_OK, "accepted with char %d = %c",
                    (int)i, repl[j]);
        }
        t[i] = was;
    }
}

/* Each byte of the signature (every bit of it with all_bits, else one
 * bit per byte) and each byte of the signing input changed. */
static void every_flip(const char *tok, const oa2f_jwks_t *set,
                       int all_bits)
{
    oa2f_jws_t *jws = NULL, copy;
    unsigned char *sig;
    char *input;
    const char *why;
    apr_size_t i;
    int b;

    ck_assert_int_eq(parse(tok, &jws), OA2F_JOSE_OK);
    copy = *jws;
    sig = apr_pmemdup(ut_pool, jws->sig, jws->sig_len);
    copy.sig = sig;
    for (i = 0; i < jws->sig_len; i++) {
        for (b = all_bits ? 0 : (int)(i % 8); b < 8; b++) {
            sig[i] ^= (unsigned char)(1 << b);
            FAIL_IF(oa2f_jws_verify(&copy, set, &why)
                        != OA2F_JOSE_BAD_SIGNATURE,
                    "signature bit %d of byte %d", b, (int)i);
            sig[i] ^= (unsigned char)(1 << b);
            if (!all_bits) {
                break;
            }
        }
    }
    /* a signature one byte short or long */
    copy.sig_len = jws->sig_len - 1;
    FAIL_IF(oa2f_jws_verify(&copy, set, &why) != OA2F_JOSE_BAD_SIGNATURE,
            "short signature");
    copy.sig = apr_pcalloc(ut_pool, jws->sig_len + 1);
    memcpy((unsigned char *)copy.sig, jws->sig, jws->sig_len);
    copy.sig_len = jws->sig_len + 1;
    FAIL_IF(oa2f_jws_verify(&copy, set, &why) != OA2F_JOSE_BAD_SIGNATURE,
            "long signature");
    copy = *jws;
    input = apr_pstrdup(ut_pool, jws->signing_input);
    copy.signing_input = input;
    for (i = 0; i < jws->signing_input_len; i++) {
        input[i] ^= (char)(1 << (i % 8));
        FAIL_IF(oa2f_jws_verify(&copy, set, &why) != OA2F_JOSE_BAD_SIGNATURE,
                "signing input byte %d", (int)i);
        input[i] ^= (char)(1 << (i % 8));
    }
    ck_assert_int_eq(oa2f_jws_verify(&copy, set, &why), OA2F_JOSE_OK);
}

START_TEST(test_every_change_rs256)
{
    oa2f_jwks_t *set = ut_jwks(ut_jwks_doc(A2_JWK, NULL));

    every_char(A2_TOKEN, set);
    every_flip(A2_TOKEN, set, 1);
}
END_TEST

START_TEST(test_every_change_es256)
{
    oa2f_jwks_t *set = ut_jwks(ut_jwks_doc(A3_JWK, NULL));

    every_char(A3_TOKEN, set);
    every_flip(A3_TOKEN, set, 1);
}
END_TEST

START_TEST(test_every_change_others)
{
    static const char *const algs[] = { "PS256", "ES384", "ES512", "EdDSA",
                                        "EdDSA" };
    EVP_PKEY *keys[5];
    int i;

    keys[0] = ut_rfc7515_rsa();
    keys[1] = ut_keygen("EC", "P-384");
    keys[2] = ut_keygen("EC", "P-521");
    keys[3] = ut_rfc8037_ed25519();
    keys[4] = ut_keygen("ED448", NULL);
    for (i = 0; i < UT_N(algs); i++) {
        const char *hdr = apr_psprintf(ut_pool, "{\"alg\":\"%s\"}", algs[i]);
        oa2f_jwks_t *set =
            ut_jwks(ut_jwks_doc(ut_jwk(keys[i], NULL, NULL), NULL));
        const char *tok = tok_hdr(algs[i], keys[i], hdr);
        every_flip(tok, set, 0);
        if (!strcmp(algs[i], "EdDSA") && i == 3) {
            every_char(tok, set);
        }
    }
}
END_TEST

/* ---- hostile tokens, each with its exact result --------------------- */

static const char *b64hdr(const char *hdr)
{
    return apr_pstrcat(ut_pool, ut_b64(hdr), ".", ut_b64(PAYLOAD), ".",
                       ut_b64("signature"), NULL);
}

START_TEST(test_alg_none)
{
    ck_assert_int_eq(parse_rc(A5_TOKEN), OA2F_JOSE_UNSUPPORTED);
    ck_assert_int_eq(parse_rc(b64hdr("{\"alg\":\"none\"}")),
                     OA2F_JOSE_UNSUPPORTED);
    ck_assert_int_eq(parse_rc(b64hdr("{\"alg\":\"None\"}")),
                     OA2F_JOSE_UNSUPPORTED);
    ck_assert_int_eq(parse_rc(b64hdr("{\"alg\":\"NONE\"}")),
                     OA2F_JOSE_UNSUPPORTED);
    ck_assert_int_eq(parse_rc(b64hdr("{\"alg\":\"\"}")),
                     OA2F_JOSE_UNSUPPORTED);
}
END_TEST

START_TEST(test_alg_hmac)
{
    static const char *const hs[] = { "HS256", "HS384", "HS512" };
    int i;

    ck_assert_int_eq(parse_rc(A1_TOKEN), OA2F_JOSE_UNSUPPORTED);
    for (i = 0; i < UT_N(hs); i++) {
        ck_assert_int_eq(parse_rc(b64hdr(apr_psprintf(
                             ut_pool, "{\"alg\":\"%s\"}", hs[i]))),
                         OA2F_JOSE_UNSUPPORTED);
    }
}
END_TEST

START_TEST(test_alg_unknown)
{
    static const char *const algs[] = {
        "rs256", "RS1",   "RS255",  "ES256K", "Ed25519", "EDDSA",
        "PS",    "ES521", "RSA-OAEP", "dir",  "RS256 ",  "HS256",
    };
    int i;

    for (i = 0; i < UT_N(algs); i++) {
        ck_assert_msg(parse_rc(b64hdr(apr_psprintf(
                          ut_pool, "{\"alg\":\"%s\"}", algs[i])))
                          == OA2F_JOSE_UNSUPPORTED,
                      "%s", algs[i]);
    }
}
END_TEST

/* RFC 8725 §2.1: HS256 "signed" with the bytes of the RSA public key
 * the verifier holds must not verify as anything. */
START_TEST(test_alg_confusion)
{
    const char *input = apr_pstrcat(ut_pool, ut_b64("{\"alg\":\"HS256\"}"),
                                    ".", ut_b64(PAYLOAD), NULL);
    apr_size_t nlen;
    const unsigned char *n = ut_unb64(UT_A2_N, &nlen);
    unsigned char mac[EVP_MAX_MD_SIZE];
    size_t maclen = 0;
    const char *tok, *why;
    oa2f_jwks_t *set = ut_jwks(ut_jwks_doc(A2_JWK, NULL));
    oa2f_jws_t *jws;

    ck_assert_ptr_nonnull(EVP_Q_mac(NULL, "HMAC", NULL, "SHA256", NULL, n,
                                    nlen, (const unsigned char *)input,
                                    strlen(input), mac, sizeof(mac), &maclen));
    tok = apr_pstrcat(ut_pool, input, ".",
                      oa2f_b64url_encode(ut_pool, mac, maclen), NULL);
    ck_assert_int_eq(parse_rc(tok), OA2F_JOSE_UNSUPPORTED);
    /* and below the parser */
    jws = ut_jws_raw("HS256", NULL, input, mac, maclen);
    ck_assert_int_eq(oa2f_jws_verify(jws, set, &why), OA2F_JOSE_UNSUPPORTED);
    jws = ut_jws_raw("none", NULL, input, mac, 0);
    ck_assert_int_eq(oa2f_jws_verify(jws, set, &why), OA2F_JOSE_UNSUPPORTED);
}
END_TEST

START_TEST(test_alg_missing_or_not_string)
{
    ck_assert_int_eq(parse_rc(b64hdr("{\"typ\":\"JWT\"}")),
                     OA2F_JOSE_MALFORMED);
    ck_assert_int_eq(parse_rc(b64hdr("{}")), OA2F_JOSE_MALFORMED);
    ck_assert_int_eq(parse_rc(b64hdr("{\"alg\":256}")), OA2F_JOSE_MALFORMED);
    ck_assert_int_eq(parse_rc(b64hdr("{\"alg\":null}")), OA2F_JOSE_MALFORMED);
    ck_assert_int_eq(parse_rc(b64hdr("{\"alg\":[\"RS256\"]}")),
                     OA2F_JOSE_MALFORMED);
    ck_assert_int_eq(parse_rc(b64hdr("{\"alg\":\"RS256\\u0000x\"}")),
                     OA2F_JOSE_MALFORMED);
}
END_TEST

START_TEST(test_crit_b64_zip)
{
    ck_assert_int_eq(
        parse_rc(b64hdr("{\"alg\":\"RS256\",\"crit\":[\"exp\"],\"exp\":1}")),
        OA2F_JOSE_UNSUPPORTED);
    ck_assert_int_eq(parse_rc(b64hdr("{\"alg\":\"ES256\",\"crit\":[]}")),
                     OA2F_JOSE_UNSUPPORTED);
    /* RFC 7797 §4 */
    ck_assert_int_eq(parse_rc(b64hdr("{\"alg\":\"RS256\",\"b64\":false,"
                                     "\"crit\":[\"b64\"]}")),
                     OA2F_JOSE_UNSUPPORTED);
    ck_assert_int_eq(parse_rc(b64hdr("{\"alg\":\"RS256\",\"b64\":true}")),
                     OA2F_JOSE_UNSUPPORTED);
    ck_assert_int_eq(parse_rc(b64hdr("{\"alg\":\"RS256\",\"zip\":\"DEF\"}")),
                     OA2F_JOSE_UNSUPPORTED);
    /* RFC 7519 §5.2: a nested JWT */
    ck_assert_int_eq(parse_rc(b64hdr("{\"alg\":\"RS256\",\"cty\":\"JWT\"}")),
                     OA2F_JOSE_UNSUPPORTED);
    ck_assert_int_eq(parse_rc(b64hdr("{\"alg\":\"RS256\",\"cty\":\"jwt\"}")),
                     OA2F_JOSE_UNSUPPORTED);
    ck_assert_int_eq(parse_rc(b64hdr("{\"alg\":\"RS256\",\"cty\":7}")),
                     OA2F_JOSE_MALFORMED);
    ck_assert_int_eq(
        parse_rc(b64hdr("{\"alg\":\"RS256\",\"cty\":\"text/plain\"}")),
        OA2F_JOSE_OK);
}
END_TEST

START_TEST(test_jwe)
{
    const char *jwe_hdr = ut_b64("{\"alg\":\"RSA-OAEP\",\"enc\":\"A256GCM\"}");

    /* five parts (RFC 7516 §7.1) */
    ck_assert_int_eq(parse_rc(apr_pstrcat(ut_pool, jwe_hdr,
                                          ".OKOawDo13gRp2ojaHV7LFpZcgV7T6DVZ"
                                          ".48V1_ALb6US04U3b.5eym8TW_c8SuK0l"
                                          ".XFBoMYUZodetZdvTiFvSkQ",
                                          NULL)),
                     OA2F_JOSE_MALFORMED);
    ck_assert_int_eq(parse_rc(apr_pstrcat(ut_pool, jwe_hdr, "....", NULL)),
                     OA2F_JOSE_MALFORMED);
    /* a JWE header in three parts */
    ck_assert_int_eq(parse_rc(b64hdr("{\"alg\":\"RS256\",\"enc\":\"A256GCM\"}")),
                     OA2F_JOSE_MALFORMED);
}
END_TEST

START_TEST(test_dots)
{
    const char *h = ut_b64("{\"alg\":\"RS256\"}");

    ck_assert_int_eq(parse_rc(apr_pstrcat(ut_pool, A2_TOKEN, ".", NULL)),
                     OA2F_JOSE_MALFORMED);
    ck_assert_int_eq(parse_rc(apr_pstrcat(ut_pool, A2_TOKEN, ".x", NULL)),
                     OA2F_JOSE_MALFORMED);
    ck_assert_int_eq(parse_rc(apr_pstrcat(ut_pool, h, ".", UT_A_PAYLOAD,
                                          NULL)),
                     OA2F_JOSE_MALFORMED);
    ck_assert_int_eq(parse_rc(apr_pstrcat(ut_pool, h, ".", NULL)),
                     OA2F_JOSE_MALFORMED);
    ck_assert_int_eq(parse_rc(apr_pstrcat(ut_pool, h, "..", NULL)),
                     OA2F_JOSE_MALFORMED);
    ck_assert_int_eq(parse_rc(apr_pstrcat(ut_pool, h, "..", A2_SIG, NULL)),
                     OA2F_JOSE_MALFORMED);
    ck_assert_int_eq(parse_rc(apr_pstrcat(ut_pool, h, ".", UT_A_PAYLOAD, "..",
                                          A2_SIG, NULL)),
                     OA2F_JOSE_MALFORMED);
    /* no dot at all: never JOSE compact form */
    ck_assert_int_eq(parse_rc(h), OA2F_JOSE_NOT_JWS);
}
END_TEST

START_TEST(test_padding)
{
    const char *h = ut_b64("{\"alg\":\"RS256\"}"); /* 20 chars, no pad */
    const char *h1 = ut_b64("{\"alg\":\"ES256\" }");

    ck_assert_int_eq(parse_rc(apr_pstrcat(ut_pool, h, "=.", UT_A_PAYLOAD, ".",
                                          A2_SIG, NULL)),
                     OA2F_JOSE_MALFORMED);
    ck_assert_int_eq(parse_rc(apr_pstrcat(ut_pool, h1, "=.", UT_A_PAYLOAD,
                                          ".", A2_SIG, NULL)),
                     OA2F_JOSE_MALFORMED);
    ck_assert_int_eq(parse_rc(apr_pstrcat(ut_pool, h, ".", UT_A_PAYLOAD, "==.",
                                          A2_SIG, NULL)),
                     OA2F_JOSE_MALFORMED);
    ck_assert_int_eq(parse_rc(apr_pstrcat(ut_pool, A2_TOKEN, "==", NULL)),
                     OA2F_JOSE_MALFORMED);
    ck_assert_int_eq(parse_rc(apr_pstrcat(ut_pool, A3_TOKEN, "=", NULL)),
                     OA2F_JOSE_MALFORMED);
    /* unused bits set in the last character of the signature: "Rw" of
     * A.2 spelled "Rx" decodes to the same bytes */
    ck_assert_int_eq(
        parse_rc(apr_pstrcat(ut_pool, apr_pstrmemdup(ut_pool, A2_TOKEN,
                                                     strlen(A2_TOKEN) - 1),
                             "x", NULL)),
        OA2F_JOSE_MALFORMED);
    /* the standard alphabet */
    ck_assert_int_eq(parse_rc(apr_pstrcat(ut_pool, h, ".", UT_A_PAYLOAD, ".",
                                          "cC4hiUPoj9Eetdgtv3hF80EGrhuB//dz",
                                          NULL)),
                     OA2F_JOSE_MALFORMED);
}
END_TEST

START_TEST(test_whitespace)
{
    static const char *const around[][2] = {
        { " ", "" }, { "", " " }, { "", "\n" }, { "\t", "" }, { "", "\r\n" },
    };
    const char *h = ut_b64("{\"alg\":\"RS256\"}");
    int i;

    for (i = 0; i < UT_N(around); i++) {
        ck_assert_msg(parse_rc(apr_pstrcat(ut_pool, around[i][0], A2_TOKEN,
                                           around[i][1], NULL))
                          == OA2F_JOSE_MALFORMED,
                      "case %d", i);
    }
    ck_assert_int_eq(parse_rc(apr_pstrcat(ut_pool, h, " .", UT_A_PAYLOAD, ".",
                                          A2_SIG, NULL)),
                     OA2F_JOSE_MALFORMED);
    ck_assert_int_eq(parse_rc(apr_pstrcat(ut_pool, h, ".", UT_A_PAYLOAD,
                                          "\n.", A2_SIG, NULL)),
                     OA2F_JOSE_MALFORMED);
    ck_assert_int_eq(parse_rc(apr_pstrcat(ut_pool, h, ".\t", UT_A_PAYLOAD,
                                          ".", A2_SIG, NULL)),
                     OA2F_JOSE_MALFORMED);
    ck_assert_int_eq(parse_rc(apr_pstrcat(ut_pool, "eyJhbGciOiJS UzI1NiJ9.",
                                          UT_A_PAYLOAD, ".", A2_SIG, NULL)),
                     OA2F_JOSE_MALFORMED);
}
END_TEST

START_TEST(test_oversize)
{
    apr_size_t n = OA2F_JWS_MAX_LEN + 1;
    char *big = apr_palloc(ut_pool, n + 1);
    oa2f_jws_t *jws = NULL;
    const char *why = NULL;
    const char *h = ut_b64("{\"alg\":\"RS256\"}");

    memset(big, 'A', n);
    memcpy(big, h, strlen(h));
    big[strlen(h)] = '.';
    big[strlen(h) + 10] = '.';
    big[n] = '\0';
    ck_assert_int_eq(oa2f_jws_parse(ut_pool, big, n, &jws, &why),
                     OA2F_JOSE_MALFORMED);
    ck_assert_ptr_null(jws);
    ck_assert_ptr_nonnull(why);
    /* at the limit it is read (and broken for another reason) */
    ck_assert_int_eq(oa2f_jws_parse(ut_pool, big, n - 1, &jws, &why),
                     OA2F_JOSE_MALFORMED);
    ck_assert_ptr_null(strstr(why, "longer"));
}
END_TEST

/* A header seen before is taken from the thread's memo (oa2f_jws.c):
 * only the same bytes give the same fields; one byte more or other is
 * read afresh, and a refused header is never kept. */
START_TEST(test_header_memo)
{
    EVP_PKEY *k = ut_rfc7515_rsa();
    oa2f_jwks_t *set = ut_jwks(ut_jwks_doc(ut_jwk(k, "k1", NULL), NULL));
    const char *h1 = "{\"alg\":\"RS256\",\"kid\":\"k1\",\"typ\":\"at+jwt\"}";
    const char *t1 = tok_hdr("RS256", k, h1);
    oa2f_jws_t *a = NULL, *b = NULL;
    int round;

    for (round = 0; round < 2; round++) {
        ck_assert_int_eq(parse(t1, &a), OA2F_JOSE_OK);
        ck_assert_str_eq(a->alg, "RS256");
        ck_assert_str_eq(a->kid, "k1");
        ck_assert_str_eq(a->typ, "at+jwt");
        ck_assert_int_eq(check(t1, set), OA2F_JOSE_OK);
        /* as long, one letter other: refused, and t1 still reads */
        ck_assert_int_eq(
            parse_rc(b64hdr("{\"alg\":\"HS256\",\"kid\":\"k1\",\"typ\":"
                            "\"at+jwt\"}")),
            OA2F_JOSE_UNSUPPORTED);
        ck_assert_int_eq(
            parse_rc(b64hdr("{\"alg\":\"RS256\",\"kid\":\"k1\",\"crit\":"
                            "[\"a\"]}")),
            OA2F_JOSE_UNSUPPORTED);
    }
    /* another kid, then none, then no typ: each as written */
    ck_assert_int_eq(
        parse(tok_hdr("RS256", k, "{\"alg\":\"RS256\",\"kid\":\"k2\"}"), &b),
        OA2F_JOSE_OK);
    ck_assert_str_eq(b->kid, "k2");
    ck_assert_ptr_null(b->typ);
    ck_assert_int_eq(parse(tok_hdr("RS256", k, "{\"alg\":\"RS256\"}"), &b),
                     OA2F_JOSE_OK);
    ck_assert_ptr_null(b->kid);
    ck_assert_int_eq(parse(t1, &a), OA2F_JOSE_OK);
    ck_assert_str_eq(a->kid, "k1");
    ck_assert_str_eq(a->typ, "at+jwt");
    ck_assert_int_eq(check(t1, set), OA2F_JOSE_OK);
}
END_TEST

START_TEST(test_not_jws)
{
    static const char *const opaque[] = {
        "",
        "2YotnFZFEjr1zCsicMWpAA",
        "mF_9.B5f-4.1JqM",
        "abc.def",
        "abc.def.ghi",
        "a.b.c.d.e",
        "...",
        "..",
        "eyJ.eyJ.eyJ",
        "W10.e30.c2ln",           /* header [] */
        "ImFiYyI.e30.c2ln",       /* header "abc" */
        "eyJhbGciOiJSUzI1NiJ9",   /* a header, no dots */
        "xyz=.abc.def",
        "gho_16C7e42F292c6912E7710c838347Ae178B4a",
        "ya29.a0AfH6SMBx-example_opaque.token",
        "tok en.with.space",
    };
    int i;

    for (i = 0; i < UT_N(opaque); i++) {
        ck_assert_msg(parse_rc(opaque[i]) == OA2F_JOSE_NOT_JWS, "%s",
                      opaque[i]);
    }
}
END_TEST

START_TEST(test_header_not_object)
{
    /* header {"alg":"RS256" (no closing brace): not a JSON object, so it
     * may be an opaque token as far as this parser can tell */
    ck_assert_int_eq(parse_rc(b64hdr("{\"alg\":\"RS256\"")),
                     OA2F_JOSE_NOT_JWS);
    /* a repeated member: JSON, but two readers would disagree */
    ck_assert_int_eq(parse_rc(b64hdr("{\"alg\":\"none\",\"alg\":\"RS256\"}")),
                     OA2F_JOSE_MALFORMED);
    ck_assert_int_eq(parse_rc(b64hdr("{\"alg\":\"RS256\",\"alg\":\"none\"}")),
                     OA2F_JOSE_MALFORMED);
    ck_assert_int_eq(
        parse_rc(b64hdr("{\"alg\":\"RS256\",\"kid\":\"a\",\"kid\":\"b\"}")),
        OA2F_JOSE_MALFORMED);
    ck_assert_int_eq(parse_rc(b64hdr("{\"alg\":\"RS256\",\"kid\":1}")),
                     OA2F_JOSE_MALFORMED);
    ck_assert_int_eq(parse_rc(b64hdr("{\"alg\":\"RS256\",\"kid\":\"a\\u0000b\"}")),
                     OA2F_JOSE_MALFORMED);
    ck_assert_int_eq(parse_rc(b64hdr("{\"alg\":\"RS256\",\"typ\":true}")),
                     OA2F_JOSE_MALFORMED);
    ck_assert_int_eq(parse_rc(b64hdr("{\"alg\":\"RS256\"} x")),
                     OA2F_JOSE_NOT_JWS);
}
END_TEST

START_TEST(test_payload_not_object)
{
    static const char *const bodies[] = {
        "", "[]", "\"abc\"", "42", "null", "{", "{\"a\":1}x",
        "{\"exp\":1,\"exp\":2}", "{'a':1}", "Payload",
    };
    const char *h = ut_b64("{\"alg\":\"RS256\"}");
    int i;

    for (i = 0; i < UT_N(bodies); i++) {
        ck_assert_msg(parse_rc(apr_pstrcat(ut_pool, h, ".", ut_b64(bodies[i]),
                                           ".", A2_SIG, NULL))
                          == OA2F_JOSE_MALFORMED,
                      "payload %s", bodies[i]);
    }
}
END_TEST

START_TEST(test_header_fields)
{
    oa2f_jws_t *jws = NULL;
    const char *tok =
        b64hdr("{\"alg\":\"ES256\",\"kid\":\"key-1\",\"typ\":\"at+jwt\","
               "\"jku\":\"https://evil.example/jwks\"}");

    ck_assert_int_eq(parse(tok, &jws), OA2F_JOSE_OK);
    ck_assert_str_eq(jws->alg, "ES256");
    ck_assert_str_eq(jws->kid, "key-1");
    ck_assert_str_eq(jws->typ, "at+jwt");
    ck_assert_str_eq(jws->payload, PAYLOAD);
    ck_assert_int_eq(jws->payload_len, strlen(PAYLOAD));
    ck_assert_str_eq((const char *)jws->sig, "signature");
    ck_assert_int_eq(jws->signing_input_len,
                     strlen(tok) - strlen(ut_b64("signature")) - 1);
}
END_TEST

START_TEST(test_shape)
{
    static const struct {
        const char *tok;
        int shape;
    } cases[] = {
        { A2_TOKEN, 1 },      { "a.b.c", 1 },    { "..", 1 },
        { "a.b", 0 },         { "a.b.c.d", 0 },  { "a.b.c=", 0 },
        { "a.b .c", 0 },      { "a+b.c.d", 0 },  { "", 0 },
        { "a.b.c\n", 0 },     { "a/b.c.d", 0 },  { "a.b.c.d.e", 0 },
    };
    int i;

    for (i = 0; i < UT_N(cases); i++) {
        ck_assert_msg(oa2f_jws_shape(cases[i].tok, strlen(cases[i].tok))
                          == cases[i].shape,
                      "%s", cases[i].tok);
    }
    ck_assert_int_eq(oa2f_jws_shape("a.b.c\0d", 7), 0);
    ck_assert_int_eq(oa2f_jws_shape("a.b.cd", 5), 1);
    ck_assert_int_eq(oa2f_jws_shape(NULL, 0), 0);
}
END_TEST

/* ---- keys and algorithms must fit ----------------------------------- */

START_TEST(test_kid_of_ec_key_with_rs256)
{
    EVP_PKEY *ec = ut_keygen("EC", "P-256");
    EVP_PKEY *rsa = ut_rfc7515_rsa();
    oa2f_jwks_t *set = ut_jwks(ut_jwks_doc(ut_jwk(ec, "ec1", NULL),
                                           ut_jwk(rsa, "rsa1", NULL), NULL));

    ck_assert_int_eq(check(tok_hdr("RS256", rsa,
                                   "{\"alg\":\"RS256\",\"kid\":\"ec1\"}"),
                           set),
                     OA2F_JOSE_KEY_MISMATCH);
    ck_assert_int_eq(check(tok_hdr("ES256", ec,
                                   "{\"alg\":\"ES256\",\"kid\":\"rsa1\"}"),
                           set),
                     OA2F_JOSE_KEY_MISMATCH);
    ck_assert_int_eq(check(tok_hdr("EdDSA", ut_rfc8037_ed25519(),
                                   "{\"alg\":\"EdDSA\",\"kid\":\"ec1\"}"),
                           set),
                     OA2F_JOSE_KEY_MISMATCH);
    ck_assert_int_eq(check(tok_hdr("RS256", rsa,
                                   "{\"alg\":\"RS256\",\"kid\":\"rsa1\"}"),
                           set),
                     OA2F_JOSE_OK);
}
END_TEST

START_TEST(test_curve_must_fit)
{
    EVP_PKEY *p384 = ut_keygen("EC", "P-384");
    EVP_PKEY *p256 = ut_keygen("EC", "P-256");
    oa2f_jwks_t *set = ut_jwks(ut_jwks_doc(ut_jwk(p384, "a", NULL),
                                           ut_jwk(p256, "b", NULL), NULL));

    /* ES256 needs P-256, whatever the signature */
    ck_assert_int_eq(check(tok_hdr("ES384", p384,
                                   "{\"alg\":\"ES256\",\"kid\":\"a\"}"),
                           set),
                     OA2F_JOSE_KEY_MISMATCH);
    ck_assert_int_eq(check(tok_hdr("ES384", p384,
                                   "{\"alg\":\"ES512\",\"kid\":\"a\"}"),
                           set),
                     OA2F_JOSE_KEY_MISMATCH);
    ck_assert_int_eq(check(tok_hdr("ES384", p384,
                                   "{\"alg\":\"ES384\",\"kid\":\"a\"}"),
                           set),
                     OA2F_JOSE_OK);
    /* without kid, only the P-256 key is tried for ES256 */
    ck_assert_int_eq(check(tok_hdr("ES256", p256, "{\"alg\":\"ES256\"}"), set),
                     OA2F_JOSE_OK);
    ck_assert_int_eq(check(tok_hdr("RS256", ut_rfc7515_rsa(),
                                   "{\"alg\":\"RS256\"}"),
                           set),
                     OA2F_JOSE_NO_KEY);
}
END_TEST

START_TEST(test_jwk_alg_must_fit)
{
    EVP_PKEY *rsa = ut_rfc7515_rsa();
    oa2f_jwks_t *set = ut_jwks(ut_jwks_doc(ut_jwk(rsa, "r", "RS256"), NULL));

    ck_assert_int_eq(check(tok_hdr("PS256", rsa,
                                   "{\"alg\":\"PS256\",\"kid\":\"r\"}"),
                           set),
                     OA2F_JOSE_KEY_MISMATCH);
    ck_assert_int_eq(check(tok_hdr("RS512", rsa,
                                   "{\"alg\":\"RS512\",\"kid\":\"r\"}"),
                           set),
                     OA2F_JOSE_KEY_MISMATCH);
    /* without kid: no key fits */
    ck_assert_int_eq(check(tok_hdr("PS256", rsa, "{\"alg\":\"PS256\"}"), set),
                     OA2F_JOSE_NO_KEY);
    ck_assert_int_eq(check(tok_hdr("RS256", rsa,
                                   "{\"alg\":\"RS256\",\"kid\":\"r\"}"),
                           set),
                     OA2F_JOSE_OK);
}
END_TEST

START_TEST(test_es_der_refused)
{
    EVP_PKEY *k = ut_keygen("EC", "P-256");
    oa2f_jwks_t *set = ut_jwks(ut_jwks_doc(ut_jwk(k, NULL, NULL), NULL));
    const char *input = apr_pstrcat(ut_pool, ut_b64("{\"alg\":\"ES256\"}"),
                                    ".", ut_b64(PAYLOAD), NULL);
    const char *der = ut_sign("ES256", k, input, 1, -1);

    ck_assert_int_eq(check(apr_pstrcat(ut_pool, input, ".", der, NULL), set),
                     OA2F_JOSE_BAD_SIGNATURE);
    ck_assert_int_eq(check(apr_pstrcat(ut_pool, input, ".",
                                       ut_sign("ES256", k, input, 0, -1), NULL),
                           set),
                     OA2F_JOSE_OK);
}
END_TEST

START_TEST(test_es_zero_and_lengths)
{
    EVP_PKEY *k = ut_keygen("EC", "P-256");
    oa2f_jwks_t *set = ut_jwks(ut_jwks_doc(ut_jwk(k, NULL, NULL), NULL));
    unsigned char zero[66] = { 0 };
    const char *why;
    const char *input = "eyJhbGciOiJFUzI1NiJ9.e30";

    ck_assert_int_eq(oa2f_jws_verify(ut_jws_raw("ES256", NULL, input, zero,
                                                64),
                                     set, &why),
                     OA2F_JOSE_BAD_SIGNATURE);
    ck_assert_int_eq(oa2f_jws_verify(ut_jws_raw("ES256", NULL, input, zero, 0),
                                     set, &why),
                     OA2F_JOSE_BAD_SIGNATURE);
    ck_assert_int_eq(oa2f_jws_verify(ut_jws_raw("ES256", NULL, input, zero,
                                                66),
                                     set, &why),
                     OA2F_JOSE_BAD_SIGNATURE);
    /* r and s above the group order */
    memset(zero, 0xff, sizeof(zero));
    ck_assert_int_eq(oa2f_jws_verify(ut_jws_raw("ES256", NULL, input, zero,
                                                64),
                                     set, &why),
                     OA2F_JOSE_BAD_SIGNATURE);
}
END_TEST

/* Without kid at most 8 keys are tried: a ninth that would fit is not. */
START_TEST(test_no_kid_tries_eight)
{
    EVP_PKEY *k[9];
    const char *doc = "{\"keys\":[";
    oa2f_jwks_t *set;
    int i;

    for (i = 0; i < 9; i++) {
        k[i] = ut_keygen("EC", "P-256");
        doc = apr_pstrcat(ut_pool, doc, i ? "," : "", ut_jwk(k[i], NULL, NULL),
                          NULL);
    }
    set = ut_jwks(apr_pstrcat(ut_pool, doc, "]}", NULL));
    ck_assert_int_eq(oa2f_jwks_count(set), 9);
    ck_assert_int_eq(check(tok_hdr("ES256", k[7], "{\"alg\":\"ES256\"}"), set),
                     OA2F_JOSE_OK);
    ck_assert_int_eq(check(tok_hdr("ES256", k[8], "{\"alg\":\"ES256\"}"), set),
                     OA2F_JOSE_BAD_SIGNATURE);
}
END_TEST

START_TEST(test_no_kid_several_keys)
{
    EVP_PKEY *a = ut_keygen("EC", "P-256");
    EVP_PKEY *b = ut_keygen("EC", "P-256");
    oa2f_jwks_t *set = ut_jwks(ut_jwks_doc(ut_jwk(a, "a", NULL),
                                           ut_jwk(b, "b", NULL), NULL));

    ck_assert_int_eq(check(tok_hdr("ES256", b, "{\"alg\":\"ES256\"}"), set),
                     OA2F_JOSE_OK);
    ck_assert_int_eq(check(tok_hdr("ES256", a, "{\"alg\":\"ES256\"}"), set),
                     OA2F_JOSE_OK);
    /* with a kid, only that key */
    ck_assert_int_eq(check(tok_hdr("ES256", b,
                                   "{\"alg\":\"ES256\",\"kid\":\"a\"}"),
                           set),
                     OA2F_JOSE_BAD_SIGNATURE);
    ck_assert_int_eq(check(tok_hdr("ES256", ut_keygen("EC", "P-256"),
                                   "{\"alg\":\"ES256\"}"),
                           set),
                     OA2F_JOSE_BAD_SIGNATURE);
}
END_TEST

START_TEST(test_empty_set)
{
    oa2f_jwks_t *set = ut_jwks("{\"keys\":[]}");
    const char *why;
    oa2f_jws_t *jws;

    ck_assert_int_eq(oa2f_jwks_count(set), 0);
    ck_assert_int_eq(check(A2_TOKEN, set), OA2F_JOSE_NO_KEY);
    ck_assert_int_eq(parse(A2_TOKEN, &jws), OA2F_JOSE_OK);
    ck_assert_int_eq(oa2f_jws_verify(jws, NULL, &why), OA2F_JOSE_NO_KEY);
}
END_TEST

START_TEST(test_rc_names)
{
    ck_assert_str_eq(oa2f_jose_rc_name(OA2F_JOSE_OK), "ok");
    ck_assert_str_eq(oa2f_jose_rc_name(OA2F_JOSE_NOT_JWS), "not a JWS");
    ck_assert_str_eq(oa2f_jose_rc_name(OA2F_JOSE_KEY_MISMATCH),
                     "key mismatch");
    ck_assert_str_eq(oa2f_jose_rc_name(OA2F_JOSE_BAD_CLAIMS), "bad claims");
    ck_assert_str_eq(oa2f_jose_rc_name((oa2f_jose_rc_e)99), "unknown");
}
END_TEST

/* RFC 8725 §3.10: keys never come from the token (jwk, jku, x5u, x5c). */
START_TEST(test_embedded_key_ignored)
{
    EVP_PKEY *mine = ut_keygen("EC", "P-256");
    EVP_PKEY *evil = ut_keygen("EC", "P-256");
    oa2f_jwks_t *set = ut_jwks(ut_jwks_doc(ut_jwk(mine, "mine", NULL), NULL));
    const char *hdr =
        apr_pstrcat(ut_pool, "{\"alg\":\"ES256\",\"jwk\":",
                    ut_jwk(evil, NULL, NULL),
                    ",\"jku\":\"https://evil.example/jwks\",\"x5u\":"
                    "\"https://evil.example/cert\",\"x5c\":[\"MIIB\"]}",
                    NULL);

    ck_assert_int_eq(check(tok_hdr("ES256", evil, hdr), set),
                     OA2F_JOSE_BAD_SIGNATURE);
    hdr = apr_pstrcat(ut_pool, "{\"alg\":\"ES256\",\"kid\":\"evil\",\"jwk\":",
                      ut_jwk(evil, "evil", NULL), "}", NULL);
    ck_assert_int_eq(check(tok_hdr("ES256", evil, hdr), set),
                     OA2F_JOSE_NO_KEY);
    /* the header's own key material does not help the real key either */
    hdr = apr_pstrcat(ut_pool, "{\"alg\":\"ES256\",\"kid\":\"mine\",\"jwk\":",
                      ut_jwk(evil, "mine", NULL), "}", NULL);
    ck_assert_int_eq(check(tok_hdr("ES256", evil, hdr), set),
                     OA2F_JOSE_BAD_SIGNATURE);
    ck_assert_int_eq(check(tok_hdr("ES256", mine, hdr), set), OA2F_JOSE_OK);
}
END_TEST

/* ---- ready verifiers (oa2f_jose_alg.h) -------------------------------- */

/* The token with its signature's last character changed. */
static const char *spoiled(const char *tok)
{
    char *bad = apr_pstrdup(ut_pool, tok);
    char *last = bad + strlen(bad) - 2; /* keep the unused bits clear */

    *last = *last == 'A' ? 'B' : 'A';
    return bad;
}

static const oa2f_jwk_t *first_key(const oa2f_jwks_t *set)
{
    return (const oa2f_jwk_t *)set->keys->elts;
}

/* A key's verifier for an algorithm is made on its first check and the
 * same one serves every later check, good or bad; EdDSA has none. */
START_TEST(test_ready_made_once)
{
    static const char *const algs[] = { "RS256", "PS384", "ES256", "ES512" };
    EVP_PKEY *keys[] = { ut_rfc7515_rsa(), ut_rfc7515_rsa(),
                         ut_keygen("EC", "P-256"), ut_keygen("EC", "P-521") };
    int i;

    for (i = 0; i < UT_N(algs); i++) {
        const oa2f_jose_alg_t *a = oa2f_jose_alg_find(algs[i]);
        const char *hdr = apr_psprintf(ut_pool, "{\"alg\":\"%s\"}", algs[i]);
        const char *tok = tok_hdr(algs[i], keys[i], hdr);
        oa2f_jwks_t *set = ut_jwks(
            ut_jwks_doc(ut_jwk(keys[i], NULL, NULL), NULL));
        const oa2f_jwk_t *k = first_key(set);
        size_t at = (size_t)(a - oa2f_jose_alg_find("RS256"));
        EVP_PKEY_CTX *made;

        ck_assert_ptr_null(k->ready.ctx[at]);
        ck_assert_msg(check(tok, set) == OA2F_JOSE_OK, "%s", algs[i]);
        made = k->ready.ctx[at];
        ck_assert_msg(made != NULL, "%s: no verifier kept", algs[i]);
        ck_assert_msg(check(spoiled(tok), set) == OA2F_JOSE_BAD_SIGNATURE,
                      "%s spoiled", algs[i]);
        ck_assert_msg(check(tok, set) == OA2F_JOSE_OK, "%s again", algs[i]);
        ck_assert_msg(k->ready.ctx[at] == made, "%s: made twice", algs[i]);
        for (size_t j = 0; j < OA2F_JOSE_ALG_COUNT; j++) {
            ck_assert_msg(j == at || !k->ready.ctx[j], "%s: slot %zu", algs[i],
                          j);
        }
    }
    {
        EVP_PKEY *ed = ut_keygen("ED25519", NULL);
        oa2f_jwks_t *set = ut_jwks(ut_jwks_doc(ut_jwk(ed, NULL, NULL), NULL));
        const char *tok = tok_hdr("EdDSA", ed, "{\"alg\":\"EdDSA\"}");

        ck_assert_int_eq(check(tok, set), OA2F_JOSE_OK);
        ck_assert_int_eq(check(spoiled(tok), set), OA2F_JOSE_BAD_SIGNATURE);
        for (size_t j = 0; j < OA2F_JOSE_ALG_COUNT; j++) {
            ck_assert_ptr_null(first_key(set)->ready.ctx[j]);
        }
    }
}
END_TEST

/* A key of another type makes no verifier and passes nothing, asked
 * directly (past the key-fits check of oa2f_jws_verify). */
START_TEST(test_ready_wrong_type)
{
    EVP_PKEY *rsa = ut_rfc7515_rsa(), *ec = ut_keygen("EC", "P-256");
    const char *tok = tok_hdr("ES256", ec, "{\"alg\":\"ES256\"}");
    oa2f_jws_t *jws = NULL;
    oa2f_jose_ready_t ready;
    const oa2f_jose_alg_t *es = oa2f_jose_alg_find("ES256");

    memset(&ready, 0, sizeof(ready));
    ck_assert_int_eq(parse(tok, &jws), OA2F_JOSE_OK);
    ck_assert_int_eq(oa2f_jose_alg_verify(es, rsa, &ready, jws->signing_input,
                                          jws->signing_input_len, jws->sig,
                                          jws->sig_len),
                     0);
    for (size_t j = 0; j < OA2F_JOSE_ALG_COUNT; j++) {
        ck_assert_ptr_null(ready.ctx[j]);
    }
    ck_assert_int_eq(oa2f_jose_alg_verify(es, ec, &ready, jws->signing_input,
                                          jws->signing_input_len, jws->sig,
                                          jws->sig_len),
                     1);
    oa2f_jose_ready_free(&ready);
    ck_assert_ptr_null(ready.ctx[es - oa2f_jose_alg_find("RS256")]);
}
END_TEST

typedef struct {
    apr_pool_t *pool;
    const oa2f_jwks_t *set;
    const char *good, *bad;
    int wrong;
} checker_t;

static void *APR_THREAD_FUNC checker(apr_thread_t *t, void *data)
{
    checker_t *c = data;
    int i;

    for (i = 0; i < 150; i++) {
        const char *tok = (i % 3 == 2) ? c->bad : c->good;
        oa2f_jose_rc_e want = (i % 3 == 2) ? OA2F_JOSE_BAD_SIGNATURE
                                           : OA2F_JOSE_OK;
        oa2f_jws_t *jws = NULL;
        const char *why;

        if (oa2f_jws_parse(c->pool, tok, strlen(tok), &jws, &why)
                != OA2F_JOSE_OK
            || oa2f_jws_verify(jws, c->set, &why) != want) {
            c->wrong++;
        }
        apr_pool_clear(c->pool);
    }
    apr_thread_exit(t, APR_SUCCESS);
    return NULL;
}

/* Threads that check tokens with one key at once, from its first check
 * on (who makes the verifier is a race one of them wins): every answer
 * is right, under ASan and valgrind without a leak or a bad access. */
START_TEST(test_ready_threads)
{
    static const char *const algs[] = { "RS256", "ES256" };
    EVP_PKEY *keys[] = { ut_rfc7515_rsa(), ut_keygen("EC", "P-256") };
    int i, n;

    for (i = 0; i < UT_N(algs); i++) {
        oa2f_jwks_t *set = ut_jwks(
            ut_jwks_doc(ut_jwk(keys[i], NULL, NULL), NULL));
        const char *good = tok_hdr(
            algs[i], keys[i],
            apr_psprintf(ut_pool, "{\"alg\":\"%s\"}", algs[i]));
        checker_t c[4];
        apr_thread_t *t[4];
        apr_status_t rv;

        for (n = 0; n < 4; n++) {
            c[n].set = set;
            c[n].good = good;
            c[n].bad = spoiled(good);
            c[n].wrong = 0;
            ck_assert_int_eq(apr_pool_create(&c[n].pool, ut_pool),
                             APR_SUCCESS);
        }
        for (n = 0; n < 4; n++) {
            ck_assert_int_eq(
                apr_thread_create(&t[n], NULL, checker, &c[n], ut_pool),
                APR_SUCCESS);
        }
        for (n = 0; n < 4; n++) {
            apr_thread_join(&rv, t[n]);
            ck_assert_msg(c[n].wrong == 0, "%s: thread %d: %d wrong answers",
                          algs[i], n, c[n].wrong);
        }
    }
}
END_TEST

Suite *jose_suite(void)
{
    Suite *s = suite_create("jose");
    TCase *tc = ut_tcase("b64url");

    tcase_add_test(tc, test_b64url_round_trip);
    tcase_add_test(tc, test_b64url_strict);
    tcase_add_test(tc, test_b64url_every_byte);
    suite_add_tcase(s, tc);

    tc = ut_tcase("vectors");
    tcase_add_test(tc, test_rfc7515_a2_rs256);
    tcase_add_test(tc, test_rfc7515_a2_sign);
    tcase_add_test(tc, test_rfc7515_a3_es256);
    tcase_add_test(tc, test_rfc7515_a4_es512);
    tcase_add_test(tc, test_rfc8037_a4_sign);
    tcase_add_test(tc, test_rfc8037_a5_verify);
    tcase_add_test(tc, test_rfc7520_cookbook);
    tcase_add_test(tc, test_thumbprints);
    suite_add_tcase(s, tc);

    tc = ut_tcase("round trips");
    tcase_set_timeout(tc, 120);
    tcase_add_test(tc, test_round_trip_rsa);
    tcase_add_test(tc, test_round_trip_rsa_generated);
    tcase_add_test(tc, test_round_trip_ec);
    tcase_add_test(tc, test_round_trip_eddsa);
    tcase_add_test(tc, test_pss_salt_length);
    suite_add_tcase(s, tc);

    tc = ut_tcase("ready verifiers");
    tcase_set_timeout(tc, 120);
    tcase_add_test(tc, test_ready_made_once);
    tcase_add_test(tc, test_ready_wrong_type);
    tcase_add_test(tc, test_ready_threads);
    suite_add_tcase(s, tc);

    tc = ut_tcase("every change");
    tcase_set_timeout(tc, 300);
    tcase_add_test(tc, test_every_change_rs256);
    tcase_add_test(tc, test_every_change_es256);
    tcase_add_test(tc, test_every_change_others);
    suite_add_tcase(s, tc);

    tc = ut_tcase("hostile");
    tcase_add_test(tc, test_alg_none);
    tcase_add_test(tc, test_alg_hmac);
    tcase_add_test(tc, test_alg_unknown);
    tcase_add_test(tc, test_alg_confusion);
    tcase_add_test(tc, test_alg_missing_or_not_string);
    tcase_add_test(tc, test_crit_b64_zip);
    tcase_add_test(tc, test_jwe);
    tcase_add_test(tc, test_dots);
    tcase_add_test(tc, test_padding);
    tcase_add_test(tc, test_whitespace);
    tcase_add_test(tc, test_oversize);
    tcase_add_test(tc, test_not_jws);
    tcase_add_test(tc, test_header_memo);
    tcase_add_test(tc, test_header_not_object);
    tcase_add_test(tc, test_payload_not_object);
    tcase_add_test(tc, test_header_fields);
    tcase_add_test(tc, test_shape);
    suite_add_tcase(s, tc);

    tc = ut_tcase("fit");
    tcase_add_test(tc, test_kid_of_ec_key_with_rs256);
    tcase_add_test(tc, test_curve_must_fit);
    tcase_add_test(tc, test_jwk_alg_must_fit);
    tcase_add_test(tc, test_es_der_refused);
    tcase_add_test(tc, test_es_zero_and_lengths);
    tcase_add_test(tc, test_no_kid_several_keys);
    tcase_add_test(tc, test_no_kid_tries_eight);
    tcase_add_test(tc, test_embedded_key_ignored);
    tcase_add_test(tc, test_empty_set);
    tcase_add_test(tc, test_rc_names);
    suite_add_tcase(s, tc);
    return s;
}
