/* One verdict for one token: the cache first, then a single provider
 * call shared by every concurrent request for the same token (SPEC §6).
 *
 * The cache holds the provider's verdict and fields, never the
 * authorization decision; each location applies its own limits when
 * reading (OAuth2FederatedCacheMaxTTL, OAuth2FederatedNegativeCacheTTL)
 * and its Require lines afterwards. */
#include <apr_strings.h>
#include <apr_time.h>

#include "mod_oa2f_private.h"
#include "oa2f_key_memo.h"
#include "oa2f_keyer.h"
#include "oa2f_remote.h"

typedef enum { LOOKUP_MISS, LOOKUP_HIT, LOOKUP_NEGATIVE } lookup_e;

/* Read the cache as this location may: an entry older than the
 * location's cap is a miss for it, even if another location still uses
 * it. *local says whether the entry came from the child's own copy. */
static lookup_e lookup(request_rec *r, const oa2f_dir_conf_t *conf,
                       const unsigned char *key, long long now,
                       oa2f_claims_t **c, int *local)
{
    oa2f_cache_found_t found;
    long long until;
    int neg_ttl;

    *local = 0;
    if (!oa2f_cache_get(r, key, now, &found)) {
        return LOOKUP_MISS;
    }
    *local = found.local;
    *c = found.claims;
    if (found.claims->active) {
        until = found.claims->expires_at;
        if (conf->cache_max_ttl > 0) {
            if (found.validated_at + conf->cache_max_ttl <= now) {
                return LOOKUP_MISS;
            }
            if (found.validated_at + conf->cache_max_ttl < until) {
                until = found.validated_at + conf->cache_max_ttl;
            }
        }
        oa2f_cache_keep_local(key, until, &found);
        return LOOKUP_HIT;
    }
    neg_ttl = oa2f_conf_negative_ttl(conf);
    if (neg_ttl > 0 && found.validated_at + neg_ttl > now) {
        oa2f_cache_keep_local(key, found.validated_at + neg_ttl, &found);
        return LOOKUP_NEGATIVE;
    }
    return LOOKUP_MISS;
}

/* Store what the provider said, for as long as SPEC §6 allows. */
static void remember(request_rec *r, const oa2f_dir_conf_t *conf,
                     const unsigned char *key, const oa2f_validation_t *v,
                     long long now)
{
    long long until;

    if (v->outcome == OA2F_OK) {
        /* no expiry at all: not cached (PROVIDERS.md §10 item 6) */
        if (v->claims->expires_at <= 0) {
            return;
        }
        until = v->claims->expires_at;
        if (conf->cache_max_ttl > 0 && now + conf->cache_max_ttl < until) {
            until = now + conf->cache_max_ttl;
        }
        if (until > now) {
            oa2f_cache_put(r, key, v->claims, now, until);
        }
    }
    else if (v->outcome == OA2F_INACTIVE && v->claims
             && oa2f_conf_negative_ttl(conf) > 0) {
        /* only a definite "not active", never an outage */
        oa2f_cache_put(r, key, v->claims, now,
                       now + oa2f_conf_negative_ttl(conf));
    }
}

static void call_provider(request_rec *r, const oa2f_dir_conf_t *conf,
                          oa2f_http_pool_t *hp, const char *token,
                          oa2f_validation_t *v)
{
    oa2f_stats_t *st = oa2f_stats();

    oa2f_remote_validate(hp, r->pool, conf->provider, token, v);
    oa2f_stats_provider_call(st, v->outcome, v->elapsed);
    if (v->new_connection) {
        oa2f_stats_count(st, OA2F_C_PROVIDER_NEW_CONN);
    }
}

static void hit(const oa2f_claims_t *c, long long now,
                oa2f_outcome_e *outcome, const oa2f_claims_t **claims,
                const char **why)
{
    *claims = c;
    *outcome = oa2f_validate_check_expiry(c, now);
    *why = (*outcome == OA2F_OK) ? "cached" : "cached, but the token's "
                                              "expiry has passed";
}

void oa2f_validate(request_rec *r, const oa2f_dir_conf_t *conf,
                   oa2f_http_pool_t *hp, const char *token,
                   oa2f_outcome_e *outcome, const oa2f_claims_t **claims,
                   const char **why)
{
    oa2f_stats_t *st = oa2f_stats();
    oa2f_flight_table_t *ft = oa2f_flights();
    unsigned char key[OA2F_CACHE_KEY_LEN];
    oa2f_validation_t v;
    oa2f_claims_t *c = NULL;
    long long now = (long long)apr_time_sec(apr_time_now());
    long long wait_us;
    oa2f_flight_role_e role = OA2F_FLIGHT_ALONE;
    int use_cache = oa2f_cache_enabled() && conf->cache_max_ttl != 0;
    lookup_e looked;
    int local;

    *claims = NULL;
    if (use_cache) {
        if (conf->provider->keyer) {
            oa2f_key_memo_t *memo = oa2f_cache_key_memo();
            unsigned long long tag[2];
            if (!oa2f_key_memo_get(memo, conf->provider->keyer, token,
                                   strlen(token), tag, key)) {
                oa2f_keyer_derive(conf->provider->keyer, token, key);
                oa2f_key_memo_put(memo, conf->provider->keyer, tag, key);
            }
        }
        else {
            oa2f_cache_key(oa2f_cache_secret(), conf->provider->identity,
                           token, key);
        }
        use_cache = oa2f_cache_key_ok(key);
    }
    if (!use_cache) {
        call_provider(r, conf, hp, token, &v);
        *outcome = v.outcome;
        *claims = v.claims;
        *why = v.why;
        return;
    }

    looked = lookup(r, conf, key, now, &c, &local);
    if (local && looked != LOOKUP_MISS) {
        oa2f_stats_count(st, OA2F_C_CACHE_LOCAL_HIT);
    }
    switch (looked) {
    case LOOKUP_HIT:
        oa2f_stats_count(st, OA2F_C_CACHE_HIT);
        hit(c, now, outcome, claims, why);
        return;
    case LOOKUP_NEGATIVE:
        oa2f_stats_count(st, OA2F_C_CACHE_NEG_HIT);
        *outcome = OA2F_INACTIVE;
        *why = "cached: the provider said the token is not active";
        return;
    case LOOKUP_MISS:
        oa2f_stats_count(st, OA2F_C_CACHE_MISS);
        break;
    }

    /* Single-flight: a follower waits (bounded by the provider timeout)
     * for the leader's call to land, then reads its result. */
    wait_us = (long long)conf->provider->total_timeout_ms * 1000 + 1000000;
    if (ft) {
        role = oa2f_flight_begin(ft, key, (long long)apr_time_now(), wait_us);
    }
    if (role == OA2F_FLIGHT_FOLLOWER) {
        int landed_outcome = -1;
        oa2f_stats_count(st, OA2F_C_COALESCED);
        if (oa2f_flight_wait(ft, key, (long long)apr_time_now() + wait_us,
                             &landed_outcome)) {
            now = (long long)apr_time_sec(apr_time_now());
            switch (lookup(r, conf, key, now, &c, &local)) {
            case LOOKUP_HIT:
                hit(c, now, outcome, claims, why);
                return;
            case LOOKUP_NEGATIVE:
                *outcome = OA2F_INACTIVE;
                *why = "the provider said the token is not active";
                return;
            case LOOKUP_MISS:
                break;
            }
            /* The leader failed or got an uncacheable answer. A failure
             * is shared so that followers do not all stampede; an
             * uncacheable success means asking on our own. */
            if (landed_outcome > 0 && landed_outcome <= OA2F_INTERNAL) {
                *outcome = (oa2f_outcome_e)landed_outcome;
                *why = apr_pstrcat(r->pool, "same as the concurrent call "
                                   "for this token: ",
                                   oa2f_outcome_name(*outcome), NULL);
                return;
            }
        }
        else {
            oa2f_stats_count(st, OA2F_C_COALESCED_TIMEOUT);
        }
        role = OA2F_FLIGHT_ALONE;
    }

    call_provider(r, conf, hp, token, &v);
    now = (long long)apr_time_sec(apr_time_now());
    remember(r, conf, key, &v, now);
    if (role == OA2F_FLIGHT_LEADER) {
        oa2f_flight_end(ft, key, (int)v.outcome);
    }
    *outcome = v.outcome;
    *claims = v.claims;
    *why = v.why;
}
