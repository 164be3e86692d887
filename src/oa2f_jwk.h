/* One JSON Web Key (RFC 7517 §4) as an OpenSSL key, both ways, and its
 * thumbprint (RFC 7638). Shared by oa2f_jwks.c, oa2f_jws.c and
 * oa2f_signer.c; the API is oa2f_jose.h. */
#ifndef OA2F_JWK_H
#define OA2F_JWK_H

#include <apr_pools.h>
#include <apr_tables.h>
#include <openssl/evp.h>

#include "oa2f_jose_alg.h"

struct json_object;

/* A public key of a key set. */
typedef struct {
    oa2f_kty_e kty;
    const char *crv;            /* "P-256", "Ed25519", …; NULL for RSA */
    const char *kid;            /* NULL when absent                   */
    const oa2f_jose_alg_t *alg; /* the JWK's own alg, NULL when absent */
    EVP_PKEY *pkey;
    /* its verifiers, made on first use: a cache that checking through a
     * const set fills (oa2f_jose_alg.h) */
    oa2f_jose_ready_t ready;
} oa2f_jwk_t;

/* The key set of oa2f_jose.h: keys (oa2f_jwk_t) in document order, and
 * the kids (const char *) of keys that were skipped or dropped, so that
 * a token naming one is a mismatch rather than an unknown kid. */
struct oa2f_jwks {
    apr_array_header_t *keys;
    apr_array_header_t *unusable_kids;
};

/* 1 when the JWK object o has a member of a private or secret key
 * (RFC 7518 §6.3.2, §6.4.1, §6.2.2.1; RFC 8037 §2). */
int oa2f_jwk_is_private(struct json_object *o);

/* Read the public JWK o (see oa2f_jwks_parse for what is refused):
 * 1 and *out (its pkey is the caller's to free, strings in p), or 0 and
 * *why when the key is to be skipped. */
int oa2f_jwk_import(apr_pool_t *p, struct json_object *o, oa2f_jwk_t *out,
                    const char **why);

/* Type and curve of an OpenSSL key as JWK names (kty RSA: *crv NULL);
 * 0 for any other kind or curve. */
int oa2f_jwk_type_of(EVP_PKEY *k, oa2f_kty_e *kty, const char **crv);

/* The required members of k's public key (RFC 7638 §3.2: e, kty, n or
 * crv, kty, x[, y]) as JSON text in lexicographic order without white
 * space, in p; NULL for a key oa2f_jwk_type_of refuses. */
const char *oa2f_jwk_public_json(apr_pool_t *p, EVP_PKEY *k);

/* base64url(SHA-256(oa2f_jwk_public_json)), the RFC 7638 thumbprint,
 * in p; NULL as above. */
const char *oa2f_jwk_thumbprint(apr_pool_t *p, EVP_PKEY *k);

#endif
