/* The near cache's table (README "Cache"), without httpd: this server's
 * copies of sealed fleet values in one shared-memory segment that every
 * child reads and writes without a lock.
 *
 * Values go to a log, a ring of bytes that writers reserve in turn (one
 * compare-and-swap on a position that only grows), so the oldest values
 * are overwritten first whatever their size, as in shmcb. An index of
 * 8-way sets, each way a seqlock (oa2f_seqlock.h), maps a key to the
 * position of its value. A reader copies the value out and then checks
 * that no writer has reserved those bytes since: a value overwritten
 * meanwhile is a miss, never another key's value; so is one that a
 * writer stalled while the log lapped it wrote over late, which a
 * checksum of the value in its way tells. The caller seals the
 * values (oa2f_seal.h), so not even a copy these checks missed could
 * pass for a verdict.
 *
 * A process killed inside a write leaves its way odd: the way is skipped
 * from then on (one way of one set lost), never read. */
#ifndef OA2F_NEAR_TABLE_H
#define OA2F_NEAR_TABLE_H

#include <apr_pools.h>

#include "oa2f_keyer.h"

typedef struct oa2f_near_table_t oa2f_near_table_t;

/* The smallest segment a table is laid out in. */
#define OA2F_NEAR_TABLE_MIN_BYTES 65536

/* Lay a new, empty table out over mem[0..bytes) (64-byte aligned,
 * shared by every process that will use it; only the index is written
 * now, the log is touched as it fills). NULL when bytes is too small. */
oa2f_near_table_t *oa2f_near_table_init(void *mem, apr_size_t bytes);

/* Largest value the table keeps (an eighth of its log). */
apr_size_t oa2f_near_table_value_max(const oa2f_near_table_t *t);

/* 1 and a copy of key's value in *buf (from p) while now < its until;
 * 0 otherwise. */
int oa2f_near_table_get(oa2f_near_table_t *t, const unsigned char *key,
                        long long now, apr_pool_t *p, unsigned char **buf,
                        apr_size_t *len);

/* Keep buf[0..len) for key until `until` (seconds since the epoch; now
 * tells expired ways). 1 when kept; 0 for a value over the maximum, one
 * already expired, or a store racing another to the same way. */
int oa2f_near_table_put(oa2f_near_table_t *t, const unsigned char *key,
                        long long now, long long until,
                        const unsigned char *buf, apr_size_t len);

/* Forget key's value (README "Revocation"). */
void oa2f_near_table_drop(oa2f_near_table_t *t, const unsigned char *key);

#endif
