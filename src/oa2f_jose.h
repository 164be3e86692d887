/* JOSE for local JWT validation and the phantom token (README "Local JWT
 * validation", docs/jose.md): compact JWS (RFC 7515), JWK sets (RFC
 * 7517), the JWT access token's claims (RFC 7519, RFC 9068) and a
 * signer. APR, json-c and OpenSSL 3 EVP only; implemented in
 * oa2f_b64url.c, oa2f_jose_alg.c, oa2f_jwk.c, oa2f_jwks.c, oa2f_jws.c,
 * oa2f_jwt.c and oa2f_signer.c. Every *why is a fixed text or names a
 * JWKS's kid, never a part of a token. */
#ifndef OA2F_JOSE_H
#define OA2F_JOSE_H

#include <apr_pools.h>
#include <apr_tables.h>
#include "oa2f_claims.h"

/* Largest compact JWS the core looks at (the glue answers 400 for a
 * larger token before parsing, README "Local JWT validation"). */
#define OA2F_JWS_MAX_LEN (16 * 1024)
/* Largest JWKS document accepted (the fetch stops reading beyond it). */
#define OA2F_JWKS_MAX_LEN (512 * 1024)

typedef enum {
    OA2F_JOSE_OK = 0,
    OA2F_JOSE_NOT_JWS,      /* not three base64url segments with a JSON
                               object header: introspect it instead */
    OA2F_JOSE_MALFORMED,    /* looks like a JWS but is broken (padding,
                               bad base64url, header not an object,
                               payload not a JSON object, 5 parts=JWE) */
    OA2F_JOSE_UNSUPPORTED,  /* alg none / HS* / unknown, crit present,
                               b64 present, zip present */
    OA2F_JOSE_NO_KEY,       /* no key in the set has this kid (or, with
                               no kid, no key fits the alg): the caller
                               may refresh the JWKS once */
    OA2F_JOSE_KEY_MISMATCH, /* kid found but key type/curve/alg/use does
                               not fit the header's alg */
    OA2F_JOSE_BAD_SIGNATURE,
    OA2F_JOSE_BAD_CLAIMS /* typ, exp, nbf, iat, iss checks failed */
} oa2f_jose_rc_e;

/* A parsed compact JWS. Strings are NUL-terminated copies in the pool. */
typedef struct {
    const char *alg;           /* header alg */
    const char *kid;           /* header kid, NULL when absent */
    const char *typ;           /* header typ, NULL when absent */
    const char *signing_input; /* "b64hdr.b64payload" */
    apr_size_t signing_input_len;
    const unsigned char *sig; /* decoded signature */
    apr_size_t sig_len;
    const char *payload; /* decoded payload JSON text */
    apr_size_t payload_len;
    /* the payload as parsed by oa2f_jws_parse (one object, no repeated
     * member), put by a cleanup on its pool; NULL in a hand-made one */
    struct json_object *body;
} oa2f_jws_t;

/* Opaque: a parsed key set (EVP_PKEYs freed by a cleanup on the pool
 * the set was parsed in). */
typedef struct oa2f_jwks oa2f_jwks_t;

/* The name of rc ("ok", "not a JWS", "malformed", …), for logs. */
const char *oa2f_jose_rc_name(oa2f_jose_rc_e rc);

/* Cheap pre-check for routing: 1 when `tok` has exactly two dots and
 * only base64url characters (no '='), else 0. No allocation. */
int oa2f_jws_shape(const char *tok, apr_size_t len);

/* Parse a compact JWS (RFC 7515 §7.1). OA2F_JOSE_NOT_JWS when it is not
 * one; *why says what was wrong for any other failure.
 *
 * "Is one" means: it has a dot and its first segment, read leniently
 * ('=' and white space ignored), is a JSON object. Then every departure
 * from the strict form is OA2F_JOSE_MALFORMED: other than three
 * segments (five: a JWE), a character outside the base64url alphabet
 * ('=' and white space included), unused bits set in a segment's last
 * character (so that one signature has one spelling), a header or
 * payload that is not one JSON object or repeats a member, a header
 * with "enc" (JWE), a missing or non-string alg, a kid or typ that is
 * not a string; OA2F_JOSE_UNSUPPORTED for an alg outside the allow-list
 * of oa2f_jws_verify, "crit", "b64", "zip", and "cty" naming a nested
 * JWT. Longer than OA2F_JWS_MAX_LEN: OA2F_JOSE_MALFORMED. */
oa2f_jose_rc_e oa2f_jws_parse(apr_pool_t *p, const char *tok, apr_size_t len,
                              oa2f_jws_t **out, const char **why);

/* Parse a JWKS (RFC 7517 §5). Keys of kty RSA (>= 2048 bits), EC
 * (P-256, P-384, P-521) and OKP (Ed25519, Ed448) with use absent or
 * "sig"; other keys are skipped (counted in *skipped, may be NULL).
 * Keys with private parts are refused as a whole document (a JWKS must
 * be public). Two keys with the same kid: both are dropped and *why
 * names it (a verifier could not tell which one is meant).
 * OA2F_JOSE_MALFORMED when it is not a JSON object with a "keys" array.
 *
 * Also skipped: a key whose alg is not one of oa2f_jws_verify's or does
 * not fit its type, whose key_ops lack "verify", whose kid is not a
 * string, whose members are not exact (EC coordinates and OKP x of the
 * curve's size, RSA e odd and below 2^31), an EC point off its curve,
 * RSA above 16384 bits, and every key after the first 100. On
 * OA2F_JOSE_OK, *why is NULL unless keys were dropped for a shared kid.
 * A private member ("d", "p", "q", "dp", "dq", "qi", "oth", "k") in any
 * key refuses the document: OA2F_JOSE_MALFORMED. */
oa2f_jose_rc_e oa2f_jwks_parse(apr_pool_t *p, const char *json, apr_size_t len,
                               oa2f_jwks_t **out, int *skipped,
                               const char **why);
int oa2f_jwks_count(const oa2f_jwks_t *set);

/* Verify the signature of `jws` with the key of `set` named by its kid
 * (or, without a kid, the only key whose type fits the alg). Allow-list:
 * RS256 RS384 RS512 PS256 PS384 PS512 ES256 ES384 ES512 EdDSA; ES*
 * signatures are raw r||s of the curve's size (DER is refused); the
 * alg must fit the key's kty/crv and the JWK's own alg when present.
 *
 * RS and PS keys: RSASSA-PKCS1-v1_5 and RSASSA-PSS with MGF1 of the
 * same hash and a salt of the hash's size (RFC 7518 §3.3, §3.5). Without
 * a kid and with several keys that fit, each is tried (the first 8). A
 * kid of a key oa2f_jwks_parse skipped or dropped (use "enc", too
 * small, a shared kid, …) is OA2F_JOSE_KEY_MISMATCH, not NO_KEY. */
oa2f_jose_rc_e oa2f_jws_verify(const oa2f_jws_t *jws, const oa2f_jwks_t *set,
                               const char **why);

/* The checks of a JWT access token's claims, after the signature. */
typedef struct {
    long long now;                   /* seconds since the epoch */
    int leeway;                      /* 60 */
    const apr_array_header_t *types; /* const char *, accepted typ
                                        values (case-insensitive, and
                                        "application/" prefix optional
                                        per RFC 7515 §4.1.9); NULL or
                                        empty: any */
} oa2f_jwt_rules_t;

/* Payload → normalised claims exactly as an introspection answer would
 * give (oa2f_claims_take_members: fields in order, scope from "scope"
 * string or "scp" array, client_id from "client_id"), active = 1 and
 * expires_at = exp. Checks: typ against rules->types, exp present and
 * an integer JSON number in the future (minus leeway), nbf/iat when
 * present integers not in the future (plus leeway), iss present and a
 * string. (Issuer list and audience are checked by the caller with
 * oa2f_issuer_check / oa2f_audience_check, as for introspection.)
 * OA2F_JOSE_BAD_CLAIMS and *why on failure.
 *
 * The claims' raw answer is the payload; expires_at is capped at the
 * end of year 9999. With types set, a token without typ fails. iss must
 * be non-empty and hold no NUL; "scp" may also be a space-separated
 * string (oa2f_claims_take_scp), and "scope" wins when both are there. */
oa2f_jose_rc_e oa2f_jwt_claims(apr_pool_t *p, const oa2f_jws_t *jws,
                               const oa2f_jwt_rules_t *rules,
                               oa2f_claims_t **out, const char **why);

/* --- the signing side (the phantom token) --- */
typedef struct oa2f_signer oa2f_signer_t;

/* Load a private key from PEM text (PKCS#8 or traditional): P-256 →
 * ES256, RSA (>= 2048) → RS256, Ed25519 → EdDSA; anything else NULL
 * and *why. kid: the given one, or when NULL the RFC 7638 thumbprint
 * (base64url SHA-256). The EVP_PKEY is freed by a cleanup on p.
 * An encrypted PEM is refused (no passphrase prompt); an empty kid is
 * taken as NULL. */
oa2f_signer_t *oa2f_signer_load(apr_pool_t *p, const char *pem, apr_size_t len,
                                const char *kid, const char **why);
const char *oa2f_signer_alg(const oa2f_signer_t *s);
const char *oa2f_signer_kid(const oa2f_signer_t *s);

/* The public JWKS document {"keys":[{kty,crv|n,e,x,y,kid,alg,use:"sig"}]}
 * in p. */
const char *oa2f_signer_jwks(apr_pool_t *p, const oa2f_signer_t *s);

/* Sign: header {"alg","typ","kid"} + payload JSON text → compact JWS in
 * p; NULL and *why on failure. ES* signatures in raw r||s form. typ NULL
 * leaves typ out. The payload is signed as given (the caller builds it).
 * Safe from several threads on one signer. */
const char *oa2f_jws_sign(apr_pool_t *p, const oa2f_signer_t *s,
                          const char *typ, const char *payload,
                          apr_size_t payload_len, const char **why);

#endif
