/* Counters for the status page, kept in shared memory and summed over
 * all children since start-up. Updates are atomic adds; no locks. */
#ifndef OA2F_STATS_H
#define OA2F_STATS_H

#include <apr_pools.h>
#include "oa2f_outcome.h"

/* How requests to protected locations ended. */
typedef enum {
    OA2F_REQ_ALLOWED = 0,
    OA2F_REQ_400,
    OA2F_REQ_401,
    OA2F_REQ_403,
    OA2F_REQ_500,
    OA2F_REQ_502,
    OA2F_REQ_503,
    OA2F_REQ_OTHER,
    OA2F_REQ_MAX
} oa2f_req_kind_e;

typedef enum {
    OA2F_C_CACHE_HIT = 0, /* positive verdict from the cache      */
    OA2F_C_CACHE_NEG_HIT, /* "not active" verdict from the cache  */
    OA2F_C_CACHE_MISS,
    OA2F_C_CACHE_STORE,
    OA2F_C_CACHE_NOT_STORED,  /* too large for an entry               */
    OA2F_C_CACHE_ERROR,       /* back end failed (down, full, …)      */
    OA2F_C_CACHE_CORRUPT,     /* an entry that did not decode         */
    OA2F_C_CACHE_LOCAL_HIT,   /* hits answered by the child's own copy */
    OA2F_C_COALESCED,         /* waited for another caller's call     */
    OA2F_C_COALESCED_TIMEOUT, /* waited in vain, then called          */
    OA2F_C_PROVIDER_NEW_CONN, /* provider calls that opened a socket  */
    OA2F_C_STALE_SERVED,      /* stale verdicts served in an outage   */
    OA2F_C_REVOCATIONS,       /* README "Revocation": 204s of the handler */
    /* README "Cache": followers given their leader's verdict from this
     * server's memory (the cache did not have it) */
    OA2F_C_COALESCED_SHARED,
    /* README "Cache", the fleet lock: taken (to ask the provider), found
     * taken by another server (waited), waits answered by the fleet's
     * verdict, waits that ran out (then asked), the fleet cache failing
     * to answer a lock request (per-server coalescing only) */
    OA2F_C_FLEET_LOCK_ACQUIRED,
    OA2F_C_FLEET_LOCK_WAITS,
    OA2F_C_FLEET_LOCK_WAIT_HITS,
    OA2F_C_FLEET_LOCK_TIMEOUTS,
    OA2F_C_FLEET_LOCK_ERRORS,
    OA2F_C_NEAR_HIT,   /* README "Cache": the near cache answered */
    OA2F_C_NEAR_MISS,  /* ... did not: the fleet cache was asked  */
    OA2F_C_NEAR_STORE, /* ... kept a fleet entry or our own       */
    OA2F_C_MAX
} oa2f_counter_e;

/* Provider call latency buckets, upper bounds in milliseconds. */
#define OA2F_LAT_BUCKETS 13
extern const unsigned oa2f_lat_bounds_ms[OA2F_LAT_BUCKETS - 1];

/* Provider calls per endpoint (README "Status page", the Prometheus
 * view): the first OA2F_STATS_ENDPOINTS endpoints called since start-up
 * get a row of their own, in the order first called; calls to any
 * further endpoint are counted in one more row, "other". A row is never
 * given to another endpoint, so that its counters only grow. */
#define OA2F_STATS_ENDPOINTS 64
#define OA2F_STATS_URL_MAX   256 /* as the breaker shows it, truncated */

typedef struct {
    apr_uint64_t hash;  /* of url; 0: free (claimed by compare-and-swap) */
    apr_uint64_t ready; /* 1 once url is written                         */
    char url[OA2F_STATS_URL_MAX]; /* without user info, query, fragment */
    apr_uint64_t calls[OA2F_OUTCOME_MAX]; /* by outcome                 */
    apr_uint64_t latency[OA2F_LAT_BUCKETS];
    apr_uint64_t latency_sum_us;
} oa2f_stats_endpoint_t;

typedef struct {
    apr_int64_t started_at; /* seconds since epoch */
    apr_uint64_t requests[OA2F_REQ_MAX];
    apr_uint64_t counters[OA2F_C_MAX];
    apr_uint64_t provider_calls[OA2F_OUTCOME_MAX]; /* by outcome */
    apr_uint64_t latency[OA2F_LAT_BUCKETS];
    apr_uint64_t latency_sum_us;
    /* a gauge, not kept here: the status handler fills it in a snapshot
     * from the rule table (README "Revocation") */
    apr_uint64_t revocation_rules;
    /* [OA2F_STATS_ENDPOINTS] is "other" */
    oa2f_stats_endpoint_t endpoints[OA2F_STATS_ENDPOINTS + 1];
} oa2f_stats_t;

void oa2f_stats_count(oa2f_stats_t *st, oa2f_counter_e c);
void oa2f_stats_request(oa2f_stats_t *st, int http_status, int allowed);
/* One provider call to endpoint (a URL; NULL counts as "other") that
 * ended in o after seconds; an open circuit (no call) is not counted. */
void oa2f_stats_provider_call(oa2f_stats_t *st, const char *endpoint,
                              oa2f_outcome_e o, double seconds);

/* A consistent-enough copy for rendering (each counter read atomically;
 * an endpoint row's url only once its ready word is seen). */
void oa2f_stats_snapshot(const oa2f_stats_t *st, oa2f_stats_t *copy);

/* Plain text ("name: value" lines) or JSON of a snapshot, in p. The
 * percentiles are estimated from the histogram (bucket upper bound). */
const char *oa2f_stats_render(apr_pool_t *p, const oa2f_stats_t *snap,
                              long long now, int json);

#endif
