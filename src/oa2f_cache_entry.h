/* Cache keys and values, independent of the cache back end.
 *
 * Keys are never the token: SHA-256, or HMAC-SHA-256 with the operator's
 * secret, over the provider's identity and the token. Values are a
 * compact, versioned, checksummed encoding of the normalised result and
 * the raw answer; anything that does not decode is a miss. */
#ifndef OA2F_CACHE_ENTRY_H
#define OA2F_CACHE_ENTRY_H

#include <apr_pools.h>
#include "oa2f_claims.h"

#define OA2F_CACHE_KEY_LEN 32

/* Largest value we store; bigger answers are served but not cached. */
#define OA2F_CACHE_MAX_ENTRY (64 * 1024)

/* key = HMAC-SHA-256(secret, identity "\n" token) when secret is set,
 * else SHA-256(identity "\n" token). */
void oa2f_cache_key(const char *secret, const char *identity,
                    const char *token, unsigned char key[OA2F_CACHE_KEY_LEN]);

/* 0 when key derivation failed (the key is all zero): do not use it. */
int oa2f_cache_key_ok(const unsigned char key[OA2F_CACHE_KEY_LEN]);

/* Encode c (active or not) with the time it was validated. Returns 0
 * when the encoding would exceed OA2F_CACHE_MAX_ENTRY. *out in p. */
int oa2f_entry_encode(apr_pool_t *p, const oa2f_claims_t *c,
                      long long validated_at, unsigned char **out,
                      apr_size_t *len);

/* Decode buf[0..len) into claims allocated in p. Strings point into buf,
 * which must live as long as the claims (a buffer from p, typically).
 * Returns 0 for anything truncated, corrupt, or of another version.
 * The prepared members (shown, env_suffix, is_token, shown_raw) are
 * checked against what oa2f_claims_prepare derives and derived again
 * when they differ, so a hit never shows a backend more than a fresh
 * validation would. */
int oa2f_entry_decode(apr_pool_t *p, const unsigned char *buf,
                      apr_size_t len, oa2f_claims_t **c,
                      long long *validated_at);

#endif
