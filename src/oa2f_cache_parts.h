/* How a sized shmcb cache is split into parts, each with its own mutex.
 *
 * shmcb is not safe for concurrent use, so every lookup takes a global
 * mutex; with one cache, lookups from all threads and children queue on
 * that one lock. Split by the key into a few smaller shmcb caches, they
 * rarely meet. Only shmcb with an explicit size is split: "(bytes)" or
 * "/path(bytes)", into parts "(bytes/n)" or "/path.i(bytes/n)". */
#ifndef OA2F_CACHE_PARTS_H
#define OA2F_CACHE_PARTS_H

#include <apr_pools.h>

#define OA2F_CACHE_PARTS_MAX      8
#define OA2F_CACHE_PART_MIN_BYTES (1024 * 1024)

/* How many parts the socache `name` with arguments `args` (NULL: none)
 * gets: 1 unless it is a shmcb of at least 2 parts' minimum size. */
int oa2f_cache_parts(const char *name, const char *args);

/* The socache arguments of part i of n (args itself when n is 1). */
const char *oa2f_cache_part_args(apr_pool_t *p, const char *args, int i,
                                 int n);

#endif
