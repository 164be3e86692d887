/* The JWS algorithms of the allow-list (RFC 7518 §3.1, RFC 8037 §3.1)
 * and the one place that signs and verifies with OpenSSL's EVP. */
#ifndef OA2F_JOSE_ALG_H
#define OA2F_JOSE_ALG_H

#include <apr_pools.h>
#include <openssl/evp.h>

typedef enum { OA2F_KTY_RSA = 1, OA2F_KTY_EC, OA2F_KTY_OKP } oa2f_kty_e;

typedef struct {
    const char *name;     /* "RS256", …, "EdDSA"                        */
    oa2f_kty_e kty;       /* the key type it needs                      */
    const char *crv;      /* ES*: the JWK curve it needs, else NULL     */
    const char *md;       /* OpenSSL digest name; NULL for EdDSA        */
    int pss;              /* PS*: RSASSA-PSS                            */
    apr_size_t coord_len; /* ES*: bytes of r and of s (RFC 7518 §3.4)  */
} oa2f_jose_alg_t;

/* The allow-listed algorithm called `name` (case-sensitive, RFC 7515
 * §4.1.1), or NULL: none, HS*, and everything else. */
const oa2f_jose_alg_t *oa2f_jose_alg_find(const char *name);

/* 1 when a key of type kty and curve crv (NULL for RSA) can be used
 * with a: RS and PS need RSA, ES256/384/512 need P-256/384/521, EdDSA
 * Ed25519 or Ed448. */
int oa2f_jose_alg_fits(const oa2f_jose_alg_t *a, oa2f_kty_e kty,
                       const char *crv);

/* How many algorithms the allow-list has. */
#define OA2F_JOSE_ALG_COUNT 10

/* A key's verifiers, one per algorithm, each made once, on its first
 * use, and kept with the key (zeroed with it; oa2f_jose_ready_free when
 * the key goes). Checking a signature then copies a context that is
 * ready instead of looking the algorithm up in OpenSSL again: that
 * lookup takes OpenSSL's global locks and costs more than an RSA
 * verification. Shared by threads: each slot is filled once, atomically,
 * and only read after that. */
typedef struct {
    EVP_PKEY_CTX *ctx[OA2F_JOSE_ALG_COUNT];
} oa2f_jose_ready_t;

void oa2f_jose_ready_free(oa2f_jose_ready_t *r);

/* 1 when sig is a valid signature by k of data[0..len) under a; ES*
 * signatures are raw r||s of exactly 2 * coord_len bytes. `ready` is
 * k's (see above), or NULL to make nothing ahead. */
int oa2f_jose_alg_verify(const oa2f_jose_alg_t *a, EVP_PKEY *k,
                         oa2f_jose_ready_t *ready, const void *data,
                         apr_size_t len, const unsigned char *sig,
                         apr_size_t sig_len);

/* The signature of data[0..len) by private key k under a, in p (ES*
 * as raw r||s), or NULL. */
unsigned char *oa2f_jose_alg_sign(apr_pool_t *p, const oa2f_jose_alg_t *a,
                                  EVP_PKEY *k, const void *data,
                                  apr_size_t len, apr_size_t *sig_len);

#endif
