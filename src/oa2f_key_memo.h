/* Per-process memo of recently derived cache keys.
 *
 * Deriving a cache key is a keyed hash over the provider identity and the
 * token (oa2f_keyer.h): a copy of an OpenSSL hash state and three or four
 * SHA-256 compressions on every request. A hot token is seen again and
 * again by the same child, so the child remembers (keyer, token) → key
 * in a lock-free table of 4-way sets. The token itself is not kept: a
 * slot holds a 128-bit SipHash-2-4 tag of it under a random per-process
 * key (collisions need ~2^64 tokens and cannot be aimed at without the
 * key), the keyer it was derived with, and the key. Readers never block;
 * a torn read is a miss. */
#ifndef OA2F_KEY_MEMO_H
#define OA2F_KEY_MEMO_H

#include <apr_pools.h>
#include "oa2f_keyer.h"

typedef struct oa2f_key_memo_t oa2f_key_memo_t;

/* A memo of `slots` slots (64 bytes each) in p with a fresh random tag
 * key; NULL when slots is 0 or no random key can be had. */
oa2f_key_memo_t *oa2f_key_memo_create(apr_pool_t *p, unsigned slots);

/* 1 and key[] when key of (keyer, token) was remembered; 0 otherwise.
 * tag[] receives the token's tag either way, for oa2f_key_memo_put. */
int oa2f_key_memo_get(oa2f_key_memo_t *m, const void *keyer, const char *token,
                      apr_size_t len, unsigned long long tag[2],
                      unsigned char key[OA2F_CACHE_KEY_LEN]);

/* Remember key for (keyer, the token whose tag this is). */
void oa2f_key_memo_put(oa2f_key_memo_t *m, const void *keyer,
                       const unsigned long long tag[2],
                       const unsigned char key[OA2F_CACHE_KEY_LEN]);

/* SipHash-2-4 (Aumasson and Bernstein, 2012) of in[0..len) under k[16],
 * with an 8- or 16-byte output (outlen), little-endian as in the paper. */
void oa2f_siphash24(const unsigned char k[16], const void *in, apr_size_t len,
                    unsigned char *out, int outlen);

#endif
