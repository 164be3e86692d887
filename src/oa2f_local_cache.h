/* A per-process copy of recently used cache entries, read without locks.
 *
 * Every lookup in the shared cache costs a cross-process mutex (shmcb)
 * or a network round trip (redis, memcache). This direct-mapped table in
 * the child's own memory answers repeated lookups of the same token
 * without either. It never lengthens an entry's life: each slot carries
 * the instant after which the shared cache would not return it either.
 *
 * The table is set-associative, 8 ways per set: a key may live in any
 * way of the set its first bytes pick. A store replaces an expired way
 * first, then the newest way that has not been hit since it was stored,
 * then (all hit) the oldest; so a working set larger than the table
 * keeps a stable part of itself cached instead of thrashing.
 *
 * Slots are seqlocks. A writer claims a slot by making its sequence odd
 * (and simply skips the store when another writer holds it); a reader
 * copies the entry out and throws the copy away when the sequence moved
 * meanwhile, so a torn read is a miss, never a wrong entry. */
#ifndef OA2F_LOCAL_CACHE_H
#define OA2F_LOCAL_CACHE_H

#include <apr_pools.h>
#include "oa2f_keyer.h"

typedef struct oa2f_local_cache_t oa2f_local_cache_t;

/* slots entries (rounded down to whole sets of 8, at least one set) of
 * up to entry_max bytes each, allocated once from p (pages are touched
 * only as slots fill). NULL when slots is 0. */
oa2f_local_cache_t *oa2f_local_cache_create(apr_pool_t *p, unsigned slots,
                                            apr_size_t entry_max);

/* 1 and a copy of key's entry in *buf (from p) while now < its until;
 * 0 otherwise. */
int oa2f_local_cache_get(oa2f_local_cache_t *lc, const unsigned char *key,
                         long long now, apr_pool_t *p, unsigned char **buf,
                         apr_size_t *len);

/* Keep buf[0..len) for key until `until` (seconds since epoch; now is
 * the time, for telling expired ways). Entries larger than entry_max,
 * already expired, and stores racing another store to the same slot,
 * are skipped. */
void oa2f_local_cache_put(oa2f_local_cache_t *lc, const unsigned char *key,
                          long long now, long long until,
                          const unsigned char *buf, apr_size_t len);

/* As oa2f_local_cache_put, for an entry a table behind this one holds
 * too (the near cache): a store that would only displace an entry not
 * hit since it was stored is made one time in OA2F_LOCAL_OFFER_ONE_IN.
 * Under a working set larger than the table, the set's newest way
 * turns over on each store and is mostly replaced before its next use;
 * copying every such entry in costs more than the few hits it buys.
 * 1 when stored. */
#define OA2F_LOCAL_OFFER_ONE_IN 4
int oa2f_local_cache_offer(oa2f_local_cache_t *lc, const unsigned char *key,
                           long long now, long long until,
                           const unsigned char *buf, apr_size_t len);

/* Forget key's entry (README "Revocation"); a store racing it may
 * skip the forget: the revocation rules cover that. */
void oa2f_local_cache_drop(oa2f_local_cache_t *lc, const unsigned char *key);

#endif
