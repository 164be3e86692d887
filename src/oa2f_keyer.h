/* Cache keys at request time without rehashing the provider identity.
 *
 * oa2f_cache_key() hashes "identity\ntoken" (HMAC-SHA-256 with the cache
 * secret, or SHA-256); the identity is long and the same for every
 * request of a location, so a keyer keeps the hash state after it and
 * only the token is hashed per request. Same keys as oa2f_cache_key(). */
#ifndef OA2F_KEYER_H
#define OA2F_KEYER_H

#define OPENSSL_SUPPRESS_DEPRECATED
#include <openssl/sha.h>

#include "oa2f_cache_entry.h"

typedef struct {
    SHA256_CTX inner;   /* after (K ^ ipad) and identity "\n", or plain */
    SHA256_CTX outer;   /* after (K ^ opad); unused without a secret    */
    int hmac;
} oa2f_keyer_t;

/* Prepare k for secret (NULL or "" = plain SHA-256) and identity. */
void oa2f_keyer_init(oa2f_keyer_t *k, const char *secret,
                     const char *identity);

/* The key of token; thread-safe (k is only read). */
void oa2f_keyer_derive(const oa2f_keyer_t *k, const char *token,
                       unsigned char key[OA2F_CACHE_KEY_LEN]);

#endif
