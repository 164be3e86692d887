/* Cache values, independent of the cache back end (the keys are
 * oa2f_keyer.h's): a compact, versioned, checksummed encoding of the
 * normalised result and the raw answer; anything that does not decode is
 * a miss. */
#ifndef OA2F_CACHE_ENTRY_H
#define OA2F_CACHE_ENTRY_H

#include <apr_pools.h>
#include "oa2f_claims.h"

/* Largest value we store; bigger answers are served but not cached. */
#define OA2F_CACHE_MAX_ENTRY (64 * 1024)

/* Encode c (active or not) with the time it was validated. Returns 0
 * when the encoding would exceed OA2F_CACHE_MAX_ENTRY. *out in p. */
int oa2f_entry_encode(apr_pool_t *p, const oa2f_claims_t *c,
                      long long validated_at, unsigned char **out,
                      apr_size_t *len);

/* What oa2f_entry_decode returns besides 0. */
#define OA2F_ENTRY_CLEAN  1 /* as oa2f_entry_encode writes it           */
#define OA2F_ENTRY_MENDED 2 /* prepared members had to be derived again */

/* Decode buf[0..len) into claims allocated in p. Strings point into buf,
 * which must live as long as the claims (a buffer from p, typically).
 * Returns 0 for anything truncated, corrupt, or of another version.
 * The prepared members (shown, env_suffix, is_token, shown_raw) are
 * checked against what oa2f_claims_prepare derives and derived again
 * when they differ (OA2F_ENTRY_MENDED: not written by this module), so a
 * hit never shows a backend more than a fresh validation would. */
int oa2f_entry_decode(apr_pool_t *p, const unsigned char *buf, apr_size_t len,
                      oa2f_claims_t **c, long long *validated_at);

/* oa2f_entry_decode without comparing the check word or the prepared
 * members, for an entry this process keeps in its own memory
 * (oa2f_local_cache.h) after it came from oa2f_entry_encode or decoded
 * OA2F_ENTRY_CLEAN: its seqlock rules out a torn copy, and what was
 * compared once is the same bytes. The structure is checked as by
 * oa2f_entry_decode; returns 0 or OA2F_ENTRY_CLEAN. */
int oa2f_entry_decode_kept(apr_pool_t *p, const unsigned char *buf,
                           apr_size_t len, oa2f_claims_t **c,
                           long long *validated_at);

/* The check word an encoding ends with, over the len bytes before it: a
 * fast non-cryptographic checksum against torn or corrupted entries (the
 * seal, not this, defends against forgery). For tests and fuzzers that
 * craft entries. */
apr_uint32_t oa2f_entry_check(const unsigned char *s, apr_size_t len);

#endif
