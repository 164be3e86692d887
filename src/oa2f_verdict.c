/* The verdict policy (see the header): lookup, freshness, single-flight
 * and what is stored for how long, each in one function. */
#include <string.h>
#include <apr_strings.h>

#include "oa2f_cache_entry.h"
#include "oa2f_dialect.h"
#include "oa2f_verdict.h"

#define USEC_PER_SEC 1000000LL

/* What a lookup found, as this location may use it. */
typedef enum {
    FOUND_NONE,    /* no entry, or one that does not decode          */
    FOUND_STALE,   /* past this location's limits: asked again        */
    FOUND_FRESH,   /* an active verdict this location may serve       */
    FOUND_EXPIRED, /* ... whose token has expired meanwhile: a 401    */
    FOUND_NEGATIVE /* a "not active" verdict this location may serve  */
} found_e;

typedef struct {
    found_e state;
    int local;   /* from this process's own copy */
    int clean;   /* decoded OA2F_ENTRY_CLEAN: may be kept in that copy */
    int present; /* the cache had an entry, servable or not        */
    int counted; /* its hit or miss is counted                      */
    oa2f_claims_t *claims;
    long long validated_at;
} found_t;

oa2f_outcome_e oa2f_verdict_check_expiry(const oa2f_claims_t *c, long long now)
{
    if (c->expires_at != 0 && c->expires_at <= now) {
        return OA2F_EXPIRED;
    }
    return OA2F_OK;
}

static long long now_sec(const oa2f_verdict_req_t *vr)
{
    return vr->impl->now_us(vr->baton) / USEC_PER_SEC;
}

/* OAuth2FederatedStaleIfError in force, in seconds (0: none). */
static long long stale_window(const oa2f_verdict_req_t *vr)
{
    return vr->stale_if_error > 0 ? vr->stale_if_error : 0;
}

/* Freshness of an entry, judged here only (README "Cache"): may this
 * location serve an entry validated at validated_at, and until when
 * (*until)? A cap counts from the validation, not from the store, so a
 * location with a shorter cap asks again while another one still uses
 * the entry; an active entry whose token has expired is a 401. */
static found_e judge(const oa2f_verdict_req_t *vr, const oa2f_claims_t *c,
                     long long validated_at, long long now, long long *until)
{
    if (vr->reuse_cap > 0 && validated_at + vr->reuse_cap <= now) {
        return FOUND_STALE;
    }
    if (c->active) {
        *until = c->expires_at;
        if (vr->max_ttl > 0) {
            if (validated_at + vr->max_ttl <= now) {
                return FOUND_STALE;
            }
            if (validated_at + vr->max_ttl < *until) {
                *until = validated_at + vr->max_ttl;
            }
        }
        if (vr->reuse_cap > 0 && validated_at + vr->reuse_cap < *until) {
            *until = validated_at + vr->reuse_cap;
        }
        return oa2f_verdict_check_expiry(c, now) == OA2F_OK ? FOUND_FRESH
                                                            : FOUND_EXPIRED;
    }
    if (vr->negative_ttl > 0 && validated_at + vr->negative_ttl > now) {
        *until = validated_at + vr->negative_ttl;
        return FOUND_NEGATIVE;
    }
    return FOUND_STALE;
}

/* An entry found for key (from this process's copy when local),
 * opened into *f: decoded, checked against the revocation rules, judged
 * for this location; *until is how long this location may serve it.
 * Returns 0 when it was revoked in this process's own copy (the caller
 * may read the shared cache again). */
static int open_entry(const oa2f_verdict_req_t *vr, const unsigned char *key,
                      long long now, unsigned char *entry, apr_size_t len,
                      found_t *f, long long *until)
{
    int decoded;

    /* this process's own copy holds only what keep_local and put were
     * given: its check word was good */
    decoded = f->local ? oa2f_entry_decode_kept(vr->pool, entry, len,
                                                &f->claims, &f->validated_at)
                       : oa2f_entry_decode(vr->pool, entry, len, &f->claims,
                                           &f->validated_at);
    f->clean = decoded == OA2F_ENTRY_CLEAN;
    if (!decoded) {
        oa2f_stats_count(vr->stats, OA2F_C_CACHE_CORRUPT);
        vr->impl->note(vr->baton, OA2F_VERDICT_CORRUPT, len);
        f->local = 0;
        f->claims = NULL;
        return 1;
    }
    /* README "Revocation": a revoked entry is no entry, so that nothing
     * (not the per-child copy, not stale-if-error) serves it */
    if (vr->impl->revoked
        && vr->impl->revoked(vr->baton, key, f->claims, f->validated_at,
                             f->local)) {
        int was_local = f->local;

        f->local = 0;
        f->claims = NULL;
        return !was_local;
    }
    f->state = judge(vr, f->claims, f->validated_at, now, until);
    return 1;
}

/* Per-child copy, then the shared cache (the impl's get); an entry this
 * location may serve is kept in the copy for as long as it may. */
static void lookup_in(const oa2f_verdict_req_t *vr, const unsigned char *key,
                      long long now, found_t *f, int where, int may_retry)
{
    unsigned char *entry;
    apr_size_t len;
    long long until = 0;

    f->state = FOUND_NONE;
    f->local = 0;
    f->present = 0;
    f->claims = NULL;
    if (!vr->impl->get(vr->baton, key, now, where, &entry, &len, &f->local)) {
        return;
    }
    f->present = 1;
    if (!open_entry(vr, key, now, entry, len, f, &until)) {
        /* the own copy may be older than the shared cache's entry (asked
         * again after the rule by another child): the impl forgot it, so
         * the shared cache answers, once */
        if (may_retry) {
            lookup_in(vr, key, now, f, where, 0);
        }
        return;
    }
    /* kept copies are decoded without the checks (oa2f_cache_entry.h):
     * only what passed them unmended */
    if (f->state != FOUND_NONE && f->state != FOUND_STALE && !f->local
        && f->clean) {
        vr->impl->keep_local(vr->baton, key, until, entry, len);
    }
}

/* What every request reads: with fleet_claim, this server's memory. */
static void lookup(const oa2f_verdict_req_t *vr, const unsigned char *key,
                   long long now, found_t *f)
{
    lookup_in(vr, key, now, f, vr->fleet_claim ? OA2F_GET_HERE : OA2F_GET_ALL,
              1);
}

/* What the request that is to ask reads: everything, or with
 * fleet_claim the fleet cache alone (this server's memory was read:
 * only this request can put key there now), its lookup claiming key. */
static void lookup_fleet(const oa2f_verdict_req_t *vr,
                         const unsigned char *key, long long now, found_t *f)
{
    lookup_in(vr, key, now, f, vr->fleet_claim ? OA2F_GET_FLEET : OA2F_GET_ALL,
              1);
}

/* A lookup's hit or miss, counted once per request. */
static void count_lookup(const oa2f_verdict_req_t *vr, found_t *f, int hit)
{
    if (f->counted) {
        return;
    }
    f->counted = 1;
    if (!hit) {
        oa2f_stats_count(vr->stats, OA2F_C_CACHE_MISS);
        return;
    }
    if (f->local) {
        oa2f_stats_count(vr->stats, OA2F_C_CACHE_LOCAL_HIT);
    }
    oa2f_stats_count(vr->stats, f->state == FOUND_NEGATIVE
                                    ? OA2F_C_CACHE_NEG_HIT
                                    : OA2F_C_CACHE_HIT);
}

static int servable(const found_t *f)
{
    return f->state == FOUND_FRESH || f->state == FOUND_EXPIRED
           || f->state == FOUND_NEGATIVE;
}

/* Answer from what a lookup found (servable(f)). */
static void from_cache(const found_t *f, const char *why_negative,
                       oa2f_validation_t *out)
{
    memset(out, 0, sizeof(*out));
    switch (f->state) {
    case FOUND_NEGATIVE:
        out->outcome = OA2F_INACTIVE;
        out->why = why_negative;
        break;
    case FOUND_EXPIRED:
        out->outcome = OA2F_EXPIRED;
        out->claims = f->claims;
        out->why = "cached, but the token's expiry has passed";
        break;
    default:
        out->outcome = OA2F_OK;
        out->claims = f->claims;
        out->why = "cached";
        break;
    }
}

/* The provider's verdict, judged by the same expiry rule as a hit. */
static void ask(const oa2f_verdict_req_t *vr, const char *token,
                oa2f_validation_t *out)
{
    vr->impl->remote(vr->baton, token, out);
    if (out->outcome == OA2F_OK
        && oa2f_verdict_check_expiry(out->claims, now_sec(vr)) != OA2F_OK) {
        out->outcome = OA2F_EXPIRED;
        out->why = apr_pstrcat(vr->pool, vr->provider->dialect->name,
                               ": the token's expiry has passed", NULL);
    }
    else if (out->outcome == OA2F_OK && !out->why) {
        /* a dialect says nothing about an answer it accepts; the logs
         * (README "Logging") say where the verdict came from */
        out->why = OA2F_WHY_FRESH;
    }
    /* README "Local JWT validation": a local verdict is no provider call */
    if (!out->local) {
        oa2f_stats_provider_call(vr->stats, vr->provider->endpoint,
                                 out->outcome, out->elapsed);
    }
    if (out->new_connection) {
        oa2f_stats_count(vr->stats, OA2F_C_PROVIDER_NEW_CONN);
    }
}

/* What is stored, for how long (README "Cache"): an active verdict until
 * min(token expiry, now + OAuth2FederatedCacheMaxTTL), and not at all
 * without an expiry; a definite "not active" for
 * OAuth2FederatedNegativeCacheTTL; never an outage or an unusable
 * answer. With OAuth2FederatedStaleIfError the shared entry of an active
 * verdict outlives its reuse time by exactly that much, for serve_stale()
 * (README "Outages"); this process's own copy keeps only the fresh time
 * (keep). Without a cap there is nothing to extend. Returns 1 and the
 * encoded entry when v is to be stored. */
static int storable(const oa2f_verdict_req_t *vr, const oa2f_validation_t *v,
                    long long now, long long *until_out, long long *keep_out,
                    unsigned char **entry, apr_size_t *len)
{
    long long until, keep;

    if (v->outcome == OA2F_OK) {
        if (v->claims->expires_at <= 0) {
            return 0;
        }
        until = keep = v->claims->expires_at;
        if (vr->max_ttl > 0) {
            if (now + vr->max_ttl < keep) {
                keep = now + vr->max_ttl;
            }
            if (now + vr->max_ttl + stale_window(vr) < until) {
                until = now + vr->max_ttl + stale_window(vr);
            }
        }
        if (keep <= now) {
            return 0;
        }
    }
    else if (v->outcome == OA2F_INACTIVE && v->claims
             && vr->negative_ttl > 0) {
        until = keep = now + vr->negative_ttl;
    }
    else {
        return 0;
    }
    if (!oa2f_entry_encode(vr->pool, v->claims, now, entry, len)) {
        oa2f_stats_count(vr->stats, OA2F_C_CACHE_NOT_STORED);
        vr->impl->note(vr->baton, OA2F_VERDICT_TOO_LARGE, 0);
        return 0;
    }
    *until_out = until;
    *keep_out = keep;
    return 1;
}

/* Store what policy allows; a leader (publish) also hands it to its
 * followers through this server's own memory, whether or not the cache
 * took it: they judge it as an entry of the cache (README "Cache").
 * Returns what put() said (0 when nothing is stored); *until_out the
 * shared entry's end. */
static int store(const oa2f_verdict_req_t *vr, const unsigned char *key,
                 const oa2f_validation_t *v, long long now, int publish,
                 long long *until_out)
{
    unsigned char *entry;
    apr_size_t len;
    long long until, keep;
    int put;

    if (!storable(vr, v, now, &until, &keep, &entry, &len)) {
        return 0;
    }
    put = vr->impl->put(vr->baton, key, until, keep, entry, len);
    if (put) {
        oa2f_stats_count(vr->stats, OA2F_C_CACHE_STORE);
    }
    if (publish && vr->impl->flight_publish) {
        vr->impl->flight_publish(vr->baton, key, keep, entry, len);
    }
    *until_out = until;
    return put;
}

/* OAuth2FederatedStaleIfError (README "Outages"): when the provider
 * could not be asked (unreachable, an unusable answer, its circuit open)
 * and the lookup found an active verdict that is stale for this
 * location, serve it while its reuse time ran out less than
 * stale_if_error seconds ago and the token has not expired. Never a "not
 * active" verdict, never on a definite answer (not active, expired) or a
 * refusal of our credentials; a revoked verdict is no entry at all
 * (FOUND_NONE), so it is never served stale either. */
static void serve_stale(const oa2f_verdict_req_t *vr, const found_t *f,
                        oa2f_validation_t *out)
{
    long long now = now_sec(vr);
    oa2f_outcome_e failed = out->outcome;

    if (stale_window(vr) <= 0 || f->state != FOUND_STALE || !f->claims
        || !f->claims->active || vr->max_ttl <= 0
        || (failed != OA2F_UNREACHABLE && failed != OA2F_BAD_ANSWER
            && failed != OA2F_CIRCUIT_OPEN)
        || f->validated_at + vr->max_ttl + stale_window(vr) <= now
        || f->claims->expires_at <= now) {
        return;
    }
    /* apr's formatter has no %lld */
    out->why = apr_psprintf(vr->pool,
                            "served stale, validated %" APR_INT64_T_FMT
                            " s ago, because the provider failed: %s (%s)",
                            (apr_int64_t)(now - f->validated_at),
                            oa2f_outcome_name(failed),
                            out->why ? out->why : "no detail");
    out->outcome = OA2F_OK;
    out->claims = f->claims;
    oa2f_stats_count(vr->stats, OA2F_C_STALE_SERVED);
    vr->impl->note(vr->baton, OA2F_VERDICT_STALE_SERVED,
                   (apr_size_t)(now - f->validated_at));
}

/* The verdict the leader of key's flight published (store()), opened as
 * an entry of the cache into *f: 1 when this location may serve it. */
static int from_leader(const oa2f_verdict_req_t *vr, const unsigned char *key,
                       found_t *f)
{
    unsigned char *entry;
    apr_size_t len;
    long long until = 0, now = now_sec(vr);
    found_t got;

    if (!vr->impl->flight_result
        || !vr->impl->flight_result(vr->baton, key, now, &entry, &len)) {
        return 0;
    }
    memset(&got, 0, sizeof(got));
    got.state = FOUND_NONE;
    if (!open_entry(vr, key, now, entry, len, &got, &until) || !got.claims
        || !servable(&got)) {
        return 0;
    }
    got.counted = f->counted;
    *f = got;
    oa2f_stats_count(vr->stats, OA2F_C_COALESCED_SHARED);
    return 1;
}

/* How long a follower waits for its leader, and how old a leader is
 * presumed dead: the provider's total timeout and a second; with the
 * fleet lock also the leader's own wait for the lock's holder (at most
 * the lock's expiry, README "Cache"). */
static long long flight_wait_us(const oa2f_verdict_req_t *vr)
{
    long long us = (long long)vr->provider->total_timeout_ms * 1000
                   + USEC_PER_SEC;

    if (vr->fleet_lock) {
        us += oa2f_lock_ttl_ms(vr->provider->total_timeout_ms) * 1000;
    }
    return us;
}

/* Single-flight (README "Cache"): a follower waits, at most the
 * provider's total timeout and a second (flight_wait_us), for the leader's call to land,
 * then reads its result (into *f, which then replaces what the caller
 * found before). Returns 1 when *out is answered so; otherwise *role is
 * how the caller asks the provider itself. */
static int follow(const oa2f_verdict_req_t *vr, const unsigned char *key,
                  oa2f_flight_role_e *role, found_t *f, oa2f_validation_t *out)
{
    const oa2f_verdict_impl_t *impl = vr->impl;
    long long wait_us = flight_wait_us(vr);
    int landed = -1;

    *role = impl->flight_begin(vr->baton, key, impl->now_us(vr->baton),
                               wait_us);
    if (*role != OA2F_FLIGHT_FOLLOWER) {
        return 0;
    }
    count_lookup(vr, f, 0);
    oa2f_stats_count(vr->stats, OA2F_C_COALESCED);
    *role = OA2F_FLIGHT_ALONE;
    if (!impl->flight_wait(vr->baton, key, impl->now_us(vr->baton) + wait_us,
                           &landed)) {
        oa2f_stats_count(vr->stats, OA2F_C_COALESCED_TIMEOUT);
        return 0;
    }
    lookup(vr, key, now_sec(vr), f);
    if (servable(f)) {
        from_cache(f, "the provider said the token is not active", out);
        return 1;
    }
    /* The leader failed or got an answer that is not stored. A failure
     * is shared so that followers do not all stampede; an answer that is
     * not stored means asking on our own. */
    if (landed > OA2F_OK && landed < OA2F_OUTCOME_MAX
        && oa2f_outcome_info((oa2f_outcome_e)landed)->shared) {
        memset(out, 0, sizeof(*out));
        out->outcome = (oa2f_outcome_e)landed;
        out->why = apr_pstrcat(vr->pool,
                               "same as the concurrent call for "
                               "this token: ",
                               oa2f_outcome_name(out->outcome), NULL);
        return 1;
    }
    /* The cache did not give the leader's verdict (down, full, or the
     * entry is gone): the one it published in this server's memory,
     * judged as an entry of the cache -- only when this flight's leader
     * landed with an active verdict, so that an older publication never
     * overrides a fresh "not active" or a slot another key took over. */
    if (landed == OA2F_OK && from_leader(vr, key, f)) {
        from_cache(f, "the provider said the token is not active", out);
        return 1;
    }
    return 0;
}

/* The fleet cache has the verdict now (another server's): 1 and *out,
 * with *f replaced, when this location may serve it; -1 when it has an
 * entry this location may not serve (revoked, stale here, corrupt),
 * which waiting longer does not change. */
static int fleet_hit(const oa2f_verdict_req_t *vr, const unsigned char *key,
                     found_t *f, oa2f_validation_t *out)
{
    found_t got;

    lookup_fleet(vr, key, now_sec(vr), &got);
    got.counted = f->counted;
    if (!servable(&got)) {
        return got.present ? -1 : 0;
    }
    *f = got;
    from_cache(f,
               "cached by another server: the provider said the token "
               "is not active",
               out);
    return 1;
}

/* Ask the provider and store, as this server's single caller for key
 * (a leader, or alone), behind the fleet lock (README "Cache"): with a
 * redis or memcache cache, take the lock first; when another server
 * holds it, poll the fleet cache for that server's verdict with a
 * bounded back-off, taking the lock when it vanishes without one, and
 * at most until the lock's expiry has passed, then ask anyway. A fleet
 * cache that cannot be asked is no lock: this server asks, its own
 * followers still coalesce. publish: hand the verdict to followers.
 *
 * A verdict stored in the fleet cache for longer than the lock lives
 * leaves the lock to expire, unreleased: a server that missed before
 * the store then finds it taken and reads the verdict, so the lock
 * needs no second lookup after its take, nor a release (README "Cache":
 * one lookup, the take and the store per new token). Anything else is
 * released at once, so that nobody waits for a verdict that is not
 * there. */
static void ask_once(const oa2f_verdict_req_t *vr, const char *token,
                     const unsigned char *key, found_t *f, int publish,
                     oa2f_validation_t *out)
{
    const oa2f_verdict_impl_t *impl = vr->impl;
    oa2f_lock_e lock = OA2F_LOCK_NONE;
    long long ttl_ms = 0, began_us, nap, asked_at, until = 0;
    oa2f_lock_wait_t w;
    int hit, put;

    if (vr->fleet_lock && impl->lock_take) {
        ttl_ms = oa2f_lock_ttl_ms(vr->provider->total_timeout_ms);
        if (vr->fleet_claim) {
            /* the fleet cache's lookup, which also claims key: the take
             * below then asks nothing (README "The fleet lock") */
            found_t got;

            lookup_fleet(vr, key, now_sec(vr), &got);
            got.counted = f->counted;
            if (servable(&got)) {
                *f = got;
                count_lookup(vr, f, 1);
                from_cache(f,
                           "cached: the provider said the token is not "
                           "active",
                           out);
                return;
            }
            count_lookup(vr, f, 0);
            if (got.present) {
                got.counted = 1;
                *f = got; /* stale here: for serve_stale() */
            }
        }
        lock = impl->lock_take(vr->baton, key, ttl_ms);
        if (lock == OA2F_LOCK_BUSY) {
            oa2f_stats_count(vr->stats, OA2F_C_FLEET_LOCK_WAITS);
            began_us = impl->now_us(vr->baton);
            oa2f_lock_wait_begin(&w, began_us, ttl_ms);
            while ((nap = oa2f_lock_wait_next(&w, impl->now_us(vr->baton)))
                   > 0) {
                impl->nap(vr->baton, nap);
                hit = fleet_hit(vr, key, f, out);
                if (hit > 0) {
                    oa2f_stats_count(vr->stats, OA2F_C_FLEET_LOCK_WAIT_HITS);
                    impl->note(
                        vr->baton, OA2F_VERDICT_LOCK_WAITED,
                        (apr_size_t)((impl->now_us(vr->baton) - began_us)
                                     / 1000));
                    return;
                }
                if (hit < 0) {
                    /* the holder's verdict is there, and not for us: a
                     * lock left to expire guards it; ask without one */
                    lock = OA2F_LOCK_NONE;
                    break;
                }
                /* gone without a verdict (its holder failed or died):
                 * whoever takes it now asks */
                lock = impl->lock_take(vr->baton, key, ttl_ms);
                if (lock != OA2F_LOCK_BUSY) {
                    break;
                }
            }
            if (lock == OA2F_LOCK_BUSY) {
                oa2f_stats_count(vr->stats, OA2F_C_FLEET_LOCK_TIMEOUTS);
                impl->note(
                    vr->baton, OA2F_VERDICT_LOCK_GAVE_UP,
                    (apr_size_t)((impl->now_us(vr->baton) - began_us) / 1000));
            }
        }
        if (lock == OA2F_LOCK_TAKEN) {
            oa2f_stats_count(vr->stats, OA2F_C_FLEET_LOCK_ACQUIRED);
        }
    }
    /* validated as of the question, not the answer: a revocation rule of
     * the second the call was running in covers it (README "Revocation") */
    asked_at = now_sec(vr);
    ask(vr, token, out);
    put = store(vr, key, out, asked_at, publish, &until);
    if (lock == OA2F_LOCK_TAKEN
        && !(put == OA2F_PUT_SHARED
             && until * 1000 > now_sec(vr) * 1000 + ttl_ms)) {
        impl->lock_release(vr->baton, key);
    }
}

void oa2f_verdict(const oa2f_verdict_req_t *vr, const char *token,
                  oa2f_validation_t *out)
{
    unsigned char key[OA2F_CACHE_KEY_LEN];
    oa2f_flight_role_e role;
    found_t f;

    if (vr->max_ttl == 0 || !vr->impl->key(vr->baton, token, key)) {
        ask(vr, token, out);
        return;
    }
    f.counted = 0;

    lookup(vr, key, now_sec(vr), &f);
    if (servable(&f)) {
        count_lookup(vr, &f, 1);
        from_cache(&f, "cached: the provider said the token is not active",
                   out);
        return;
    }
    /* with fleet_claim the fleet cache is still to be read, by the one
     * request that asks (ask_once): its hit or miss counts then */
    if (!vr->fleet_claim) {
        count_lookup(vr, &f, 0);
    }
    if (!follow(vr, key, &role, &f, out)) {
        ask_once(vr, token, key, &f, role == OA2F_FLIGHT_LEADER, out);
        if (role == OA2F_FLIGHT_LEADER) {
            /* the provider's own outcome: each follower judges its own
             * stale entry */
            vr->impl->flight_end(vr->baton, key, (int)out->outcome);
        }
    }
    /* a failure to ask, own or shared, may still be answered by what
     * the lookup found stale */
    serve_stale(vr, &f, out);
}
