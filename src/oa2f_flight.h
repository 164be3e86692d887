/* Single-flight: one provider call per not-yet-cached token, across the
 * threads and processes that share one table in shared memory.
 *
 * The table is a fixed array of slots addressed by the cache key; a slot
 * holds the key's tag while its leader calls the provider, and the tag
 * plus outcome of the last call that landed. Everything is lock-free
 * (atomic compare-and-swap), so a crashed leader cannot block anyone
 * beyond the stale limit. Two keys that share a slot simply do not
 * coalesce with each other.
 *
 * Beside the slots, the table holds the leaders' verdicts: a leader
 * publishes the encoded entry it would store (oa2f_cache_entry.h) before
 * it lands, so that its followers get the verdict itself even when the
 * cache they would read it from is down (README "Cache"). A verdict slot
 * is a sequence lock (oa2f_seqlock.h): a torn read is no verdict, and a
 * follower that finds none asks the provider itself. */
#ifndef OA2F_FLIGHT_H
#define OA2F_FLIGHT_H

#include <apr.h>
#include <apr_pools.h>
#include "oa2f_keyer.h"

typedef struct oa2f_flight_table_t oa2f_flight_table_t;

typedef enum {
    OA2F_FLIGHT_LEADER,   /* call the provider, then oa2f_flight_end()  */
    OA2F_FLIGHT_FOLLOWER, /* another caller is on it: oa2f_flight_wait() */
    OA2F_FLIGHT_ALONE     /* slot taken by another key: just call       */
} oa2f_flight_role_e;

/* Bytes of shared memory a table needs. */
apr_size_t oa2f_flight_size(void);

/* Lay a table out in mem (oa2f_flight_size() bytes, zeroed here). */
oa2f_flight_table_t *oa2f_flight_init(void *mem);

/* Join the flight for key. A leader older than stale_us (microseconds)
 * is presumed dead and replaced. now_us is the current time. */
oa2f_flight_role_e oa2f_flight_begin(oa2f_flight_table_t *t,
                                     const unsigned char *key,
                                     long long now_us, long long stale_us);

/* Land the flight: record outcome (0-255) and free the slot. */
void oa2f_flight_end(oa2f_flight_table_t *t, const unsigned char *key,
                     int outcome);

/* Wait until key's flight lands or deadline_us passes (polling with a
 * short, growing sleep). Returns 1 when it landed, even if its leader
 * (or another) at once began the next flight for the key; *outcome is
 * then the leader's outcome, or -1 when another landing has overwritten
 * it. */
int oa2f_flight_wait(oa2f_flight_table_t *t, const unsigned char *key,
                     long long deadline_us, int *outcome);

/* Largest entry a leader can publish; bigger ones are not (their
 * followers read the cache, or ask themselves). */
#define OA2F_FLIGHT_RESULT_MAX 4000

/* Publish the leader's verdict for key: the encoded entry[0..len) that
 * followers may use until `until` (seconds since the epoch), before
 * oa2f_flight_end(). Nothing is published when len is 0 or above
 * OA2F_FLIGHT_RESULT_MAX, or when another writer is in the slot. */
void oa2f_flight_publish(oa2f_flight_table_t *t, const unsigned char *key,
                         long long until, const unsigned char *entry,
                         apr_size_t len);

/* The verdict last published for key and still good at `now`: 1 and a
 * copy in p (*entry[0..*len)); 0 when there is none, it is another
 * key's, past its `until`, or was being written meanwhile. */
int oa2f_flight_result(oa2f_flight_table_t *t, const unsigned char *key,
                       long long now, apr_pool_t *p, unsigned char **entry,
                       apr_size_t *len);

#endif
