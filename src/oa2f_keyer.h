/* Cache keys: the one derivation (README "Cache").
 *
 * A key is never the token: HMAC-SHA-256 (RFC 2104) under the operator's
 * OAuth2FederatedCacheSecret, or SHA-256 without one, over the provider's
 * identity, "\n" and the token. The identity is long and the same for
 * every request of a location, so a keyer keeps the hash state after it
 * and hashes only the token per request; oa2f_cache_key() is the same
 * derivation in one go. */
#ifndef OA2F_KEYER_H
#define OA2F_KEYER_H

#include <apr_pools.h>

#define OA2F_CACHE_KEY_LEN 32

typedef struct oa2f_keyer_t oa2f_keyer_t;

/* A keyer for secret (NULL or "" = plain SHA-256) and identity, in p;
 * its OpenSSL state is freed with p. NULL when OpenSSL fails. */
oa2f_keyer_t *oa2f_keyer_create(apr_pool_t *p, const char *secret,
                                const char *identity);

/* The key of token. Thread-safe (k is only read); an all-zero key when
 * OpenSSL fails (see oa2f_cache_key_ok). */
void oa2f_keyer_derive(const oa2f_keyer_t *k, const char *token,
                       unsigned char key[OA2F_CACHE_KEY_LEN]);

/* key = HMAC-SHA-256(secret, identity "\n" token) when secret is set,
 * else SHA-256(identity "\n" token), without a keyer. */
void oa2f_cache_key(const char *secret, const char *identity,
                    const char *token, unsigned char key[OA2F_CACHE_KEY_LEN]);

/* 0 when key derivation failed (the key is all zero): do not use it. */
int oa2f_cache_key_ok(const unsigned char key[OA2F_CACHE_KEY_LEN]);

#endif
