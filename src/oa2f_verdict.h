/* One verdict for one token (README "Cache"): the cache first, then one
 * provider call shared by every concurrent request for the same token.
 *
 * The cache holds the provider's verdict and fields, never the
 * authorization decision: each location applies its own limits when
 * reading (OAuth2FederatedCacheMaxTTL, OAuth2FederatedNegativeCacheTTL)
 * and its Require lines afterwards. What is around the verdict (the
 * cache back end, the single-flight table, the clock and the provider
 * call) sits behind oa2f_verdict_impl_t, in the manner of mod_md's
 * md_http_impl_t: the httpd glue implements it with socache and shared
 * memory, the unit tests with an in-memory table and a fake clock. */
#ifndef OA2F_VERDICT_H
#define OA2F_VERDICT_H

#include "oa2f_fleet_lock.h"
#include "oa2f_flight.h"
#include "oa2f_keyer.h"
#include "oa2f_provider.h"
#include "oa2f_remote.h"
#include "oa2f_stats.h"

/* Events the verdict has counted and the surroundings may log. */
typedef enum {
    OA2F_VERDICT_CORRUPT,   /* an entry that does not decode: a miss */
    OA2F_VERDICT_TOO_LARGE, /* an answer served but not stored       */
    /* a stale verdict served because the provider failed (README
     * "Outages"): len is its age in seconds; the answer, whose why
     * names the failure, is already in oa2f_verdict()'s *out */
    OA2F_VERDICT_STALE_SERVED,
    /* README "Cache", the fleet lock: len is how long (ms) this server
     * waited for the lock's holder; WAITED: then another server's verdict
     * came from the fleet cache; GAVE_UP: none came within the lock's
     * expiry, so this server asks the provider itself */
    OA2F_VERDICT_LOCK_WAITED,
    OA2F_VERDICT_LOCK_GAVE_UP
} oa2f_verdict_note_e;

/* Every function gets the baton of the oa2f_verdict_req_t it serves.
 * Times are seconds since the epoch unless named _us (microseconds). */
/* Where an impl's get() looks. */
#define OA2F_GET_ALL   0
#define OA2F_GET_HERE  1
#define OA2F_GET_FLEET 2

/* What an impl's put() stored. */
#define OA2F_PUT_HERE   1
#define OA2F_PUT_SHARED 2

typedef struct {
    long long (*now_us)(void *baton);
    /* The cache key of token: 0 when there is no cache or no key. */
    int (*key)(void *baton, const char *token,
               unsigned char key[OA2F_CACHE_KEY_LEN]);
    /* The entry under key, opened: 1 and *entry[0..*len) with *local = 1
     * when this process's own copy had it (valid before `now`), 0 on a
     * miss or a failure of the back end. The own copy holds only what
     * keep_local and put were given, so its entries are not checksummed
     * again (oa2f_entry_decode_kept). where: OA2F_GET_ALL, or with the
     * request's fleet_claim OA2F_GET_HERE (this server's own memory)
     * and OA2F_GET_FLEET (the fleet cache alone, whose lookup also
     * claims key for the lock_take that follows, README "The fleet
     * lock"). */
    int (*get)(void *baton, const unsigned char *key, long long now, int where,
               unsigned char **entry, apr_size_t *len, int *local);
    /* Let this process's own copy answer for key until `until`. */
    void (*keep_local)(void *baton, const unsigned char *key, long long until,
                       const unsigned char *entry, apr_size_t len);
    /* Store entry under key until `until`, and keep it local until
     * keep_until (<= until: the own copy holds only what is fresh, README
     * "Outages"); OA2F_PUT_SHARED when the cache every process and server
     * reads took it, OA2F_PUT_HERE when only this server's own memory
     * did, 0 when nothing did. */
    int (*put)(void *baton, const unsigned char *key, long long until,
               long long keep_until, const unsigned char *entry,
               apr_size_t len);
    /* Single-flight: oa2f_flight_begin(), oa2f_flight_wait() and
     * oa2f_flight_end() on the shared table. */
    oa2f_flight_role_e (*flight_begin)(void *baton, const unsigned char *key,
                                       long long now_us, long long stale_us);
    int (*flight_wait)(void *baton, const unsigned char *key,
                       long long deadline_us, int *outcome);
    void (*flight_end)(void *baton, const unsigned char *key, int outcome);
    /* Ask the provider, as oa2f_remote_validate(). */
    void (*remote)(void *baton, const char *token, oa2f_validation_t *out);
    void (*note)(void *baton, oa2f_verdict_note_e what, apr_size_t len);
    /* README "Revocation": 1 when a rule revokes the entry of key whose
     * claims c were validated at validated_at; it is then a miss, never
     * served, not even stale. When the entry came from this process's
     * own copy (local), the impl forgets it there, so that a get()
     * again reads the shared cache. Runs on every entry found, so it is
     * cheap: one atomic load without rules. NULL: nothing is revoked. */
    int (*revoked)(void *baton, const unsigned char *key,
                   const oa2f_claims_t *c, long long validated_at, int local);
    /* The leader's verdict for its followers, as oa2f_flight_publish()
     * and oa2f_flight_result(): the encoded entry it stores, kept in
     * this server's own shared memory, so that followers get it even
     * when the cache is down (README "Cache"). */
    void (*flight_publish)(void *baton, const unsigned char *key,
                           long long until, const unsigned char *entry,
                           apr_size_t len);
    int (*flight_result)(void *baton, const unsigned char *key, long long now,
                         unsigned char **entry, apr_size_t *len);
    /* README "Cache", the fleet lock, as oa2f_lock_take() and
     * oa2f_lock_release() on the fleet cache's server for key (its name
     * from oa2f_lock_name()); lock_take is called only when the
     * request's fleet_lock is set, and answers OA2F_LOCK_NONE when the
     * fleet cache cannot be asked. nap sleeps us microseconds. */
    oa2f_lock_e (*lock_take)(void *baton, const unsigned char *key,
                             long long ttl_ms);
    void (*lock_release)(void *baton, const unsigned char *key);
    void (*nap)(void *baton, long long us);
} oa2f_verdict_impl_t;

/* One request for a verdict, as one location asks it. */
typedef struct {
    const oa2f_verdict_impl_t *impl;
    void *baton;
    apr_pool_t *pool;    /* the request's: claims, why, entries   */
    oa2f_stats_t *stats; /* NULL: nothing is counted              */
    /* its dialect names the answers; its total timeout bounds how long
     * a follower waits for the leader */
    const oa2f_provider_t *provider;
    /* OAuth2FederatedCacheMaxTTL: seconds; 0 = this location does not
     * use the cache; negative = until the token's expiry */
    int max_ttl;
    /* OAuth2FederatedNegativeCacheTTL: seconds; 0 = "not active" is
     * not cached */
    int negative_ttl;
    /* OAuth2FederatedStaleIfError: seconds after max_ttl ran out that an
     * active verdict is still served while the provider fails; 0 = never
     * (and nothing is stored longer) */
    int stale_if_error;
    /* README "Revocation": no verdict validated this many seconds ago or
     * longer is served (the server's longest reuse time, at most 24 h),
     * so that a revocation rule can be dropped after it; 0 = no cap */
    long long reuse_cap;
    /* README "Cache": 1 when the cache is a fleet's (redis, memcache),
     * whose lock makes one provider call of concurrent first requests
     * at several servers; a follower then also waits for its leader's
     * wait for the lock */
    int fleet_lock;
    /* README "The fleet lock": 1 when the fleet cache's lookup and the
     * lock are one command (get with fleet 1 claims): then only the
     * request that is to ask reads the fleet cache, right before its
     * take; its followers read this server's memory */
    int fleet_claim;
} oa2f_verdict_req_t;

/* The why of an active verdict the provider has just given (a cached
 * one says "cached"). */
#define OA2F_WHY_FRESH "a fresh answer of the provider"

/* The verdict on token, in *out (allocated in vr->pool); out->why is
 * never NULL for OA2F_OK. */
void oa2f_verdict(const oa2f_verdict_req_t *vr, const char *token,
                  oa2f_validation_t *out);

/* The expiry rule (README "Requests and answers"): an active answer whose
 * expiry has passed is OA2F_EXPIRED, 401, even when the provider calls
 * the token active; expires_at 0 is no expiry. */
oa2f_outcome_e oa2f_verdict_check_expiry(const oa2f_claims_t *c,
                                         long long now);

#endif
