/* The value of a validation in a cache shared by a fleet (README
 * "Cache": the near cache), without httpd: the encoded entry
 * (oa2f_cache_entry.h) behind the instant the fleet entry ends, so that
 * a server that reads it keeps its own copies (the near cache, the
 * per-child copy) no longer than the fleet keeps it. The value is sealed
 * as a whole (oa2f_seal.h): that instant is authenticated like the rest.
 *
 * Layout: "OA2N" | u8 version=1 | i64 until (big-endian, seconds since
 * the epoch) | entry. */
#ifndef OA2F_NEAR_H
#define OA2F_NEAR_H

#include <apr_pools.h>

#define OA2F_NEAR_HEAD_LEN 13

/* entry[0..len) behind its fleet expiry `until`: *out (in p) holds
 * len + OA2F_NEAR_HEAD_LEN bytes. */
void oa2f_near_wrap(apr_pool_t *p, long long until, const unsigned char *entry,
                    apr_size_t len, unsigned char **out, apr_size_t *out_len);

/* 1, *until and the entry inside (*entry points into buf) for a wrapped
 * value; 0 for anything else (a bare entry of an earlier version, or
 * garbage: the entry's decoder judges it), with *entry = buf, *len = n
 * and *until = 0 (unknown). */
int oa2f_near_unwrap(const unsigned char *buf, apr_size_t n, long long *until,
                     const unsigned char **entry, apr_size_t *len);

/* Until when a copy of an entry may be kept: `want`, no later than the
 * fleet's expiry `fleet_until` when it is known (not 0). */
long long oa2f_near_keep_until(long long want, long long fleet_until);

#endif
