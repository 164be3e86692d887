/* The verdict of one request (src/oa2f_verdict.h) on this server's
 * cache (mod_oa2f_socache.c), single-flight table and circuit breakers
 * (mod_oa2f_shm.c), clock and provider connections. */
#include <apr_strings.h>
#include <apr_time.h>

#include "mod_oa2f_private.h"
#include "mod_oa2f_config.h"
#include "mod_oa2f_fleet_lock.h"
#include "mod_oa2f_jwks.h"
#include "mod_oa2f_revoke.h"
#include "mod_oa2f_shm.h"
#include "mod_oa2f_socache.h"
#include "mod_oa2f_verdict.h"
#include "oa2f_token.h"
#include "oa2f_dialect.h"
#include "oa2f_verdict.h"

typedef struct {
    request_rec *r;
    const oa2f_dir_conf_t *conf;
    const oa2f_provider_t *prov; /* the location's, built already */
    oa2f_http_pool_t *hp;
    const char *jwks_url;         /* local JWT validation, or NULL */
    const char *token;            /* for its fingerprint in logs  */
    const oa2f_validation_t *out; /* the answer being made        */
    oa2f_cache_found_t found;     /* where the last lookup found it */
    long long claim_ttl_ms;       /* README "The fleet lock"; 0: no claims */
} baton_t;

static long long clock_now(void *baton)
{
    (void)baton;
    return (long long)apr_time_now();
}

static int key_of(void *baton, const char *token,
                  unsigned char key[OA2F_CACHE_KEY_LEN])
{
    return oa2f_cache_key_of(((baton_t *)baton)->prov, token, key);
}

static int get_entry(void *baton, const unsigned char *key, long long now,
                     int where, unsigned char **entry, apr_size_t *len,
                     int *local)
{
    baton_t *b = baton;
    int got = oa2f_cache_get(b->r, key, now, where, b->claim_ttl_ms, entry,
                             len, &b->found);

    *local = b->found.local;
    return got;
}

/* The lookup's entry was judged servable: kept in this child's copy,
 * and in the near cache when it came from the fleet (README "Cache"). */
static void keep_entry(void *baton, const unsigned char *key, long long until,
                       const unsigned char *entry, apr_size_t len)
{
    baton_t *b = baton;

    oa2f_cache_keep(b->r, key, until, entry, len, &b->found);
}

static int put_entry(void *baton, const unsigned char *key, long long until,
                     long long keep_until, const unsigned char *entry,
                     apr_size_t len)
{
    return oa2f_cache_put(((baton_t *)baton)->r, key, until, keep_until, entry,
                          len);
}

static oa2f_flight_role_e begin(void *baton, const unsigned char *key,
                                long long now, long long stale_us)
{
    oa2f_flight_table_t *ft = oa2f_flights();

    (void)baton;
    return ft ? oa2f_flight_begin(ft, key, now, stale_us) : OA2F_FLIGHT_ALONE;
}

static int wait_landing(void *baton, const unsigned char *key,
                        long long deadline_us, int *outcome)
{
    (void)baton;
    return oa2f_flight_wait(oa2f_flights(), key, deadline_us, outcome);
}

static void end(void *baton, const unsigned char *key, int outcome)
{
    (void)baton;
    oa2f_flight_end(oa2f_flights(), key, outcome);
}

const char *oa2f_shown_endpoint(apr_pool_t *p, const oa2f_provider_t *prov)
{
    char shown[OA2F_BREAKER_URL_MAX];

    if (!prov || !prov->endpoint) {
        return "(none)";
    }
    oa2f_breaker_shown_url(prov->endpoint, shown);
    return apr_pstrdup(p, shown);
}

static void publish(void *baton, const unsigned char *key, long long until,
                    const unsigned char *entry, apr_size_t len)
{
    oa2f_flight_table_t *ft = oa2f_flights();

    (void)baton;
    if (ft) {
        oa2f_flight_publish(ft, key, until, entry, len);
    }
}

static int leader_result(void *baton, const unsigned char *key, long long now,
                         unsigned char **entry, apr_size_t *len)
{
    oa2f_flight_table_t *ft = oa2f_flights();

    return ft
           && oa2f_flight_result(ft, key, now, ((baton_t *)baton)->r->pool,
                                 entry, len);
}

/* README "Cache": the fleet lock (mod_oa2f_fleet_lock.c) */
static oa2f_lock_e lock_take(void *baton, const unsigned char *key,
                             long long ttl_ms)
{
    return oa2f_fleet_lock_take(((baton_t *)baton)->r, key, ttl_ms);
}

static void lock_release(void *baton, const unsigned char *key)
{
    oa2f_fleet_lock_release(((baton_t *)baton)->r, key);
}

static void nap(void *baton, long long us)
{
    (void)baton;
    apr_sleep((apr_interval_time_t)us);
}

/* The circuit breaker around the provider call (README "Outages"):
 * keyed by the endpoint this call goes to (configured or discovered),
 * never by a URL with the token in it. */
static void breaker_refused(baton_t *b, int wait_s, oa2f_validation_t *out)
{
    char shown[OA2F_BREAKER_URL_MAX];

    oa2f_breaker_shown_url(b->prov->endpoint, shown);
    memset(out, 0, sizeof(*out));
    out->outcome = OA2F_CIRCUIT_OPEN;
    out->retry_after = wait_s;
    out->why = apr_psprintf(b->r->pool,
                            "%s: the circuit of %s is open: not called, "
                            "next probe in %d s",
                            b->prov->dialect->name, shown, wait_s);
}

/* Log a change of the circuit: exactly one process sees each. */
static void breaker_changed(baton_t *b, oa2f_breaker_change_e change,
                            const oa2f_breaker_view_t *v,
                            const oa2f_validation_t *out)
{
    if (change == OA2F_BREAKER_OPENED) {
        ap_log_rerror(APLOG_MARK, APLOG_WARNING, 0, b->r,
                      OA2F_LOGNO(10500) "circuit breaker of %s opened after "
                                        "%u consecutive failed calls (last: "
                                        "%s, HTTP %ld, location %s): no "
                                        "calls for %d s",
                      v->url, v->failures, oa2f_outcome_name(out->outcome),
                      out->http_status, oa2f_conf_location(b->conf, b->r),
                      v->period_s);
    }
    else if (change == OA2F_BREAKER_CLOSED) {
        ap_log_rerror(APLOG_MARK, APLOG_NOTICE, 0, b->r,
                      OA2F_LOGNO(10501) "circuit breaker of %s closed: the "
                                        "probe call got an answer (%s, "
                                        "location %s)",
                      v->url, oa2f_outcome_name(out->outcome),
                      oa2f_conf_location(b->conf, b->r));
    }
}

static void ask_provider(void *baton, const char *token,
                         oa2f_validation_t *out)
{
    baton_t *b = baton;
    oa2f_breaker_table_t *bt = oa2f_breakers();
    oa2f_breaker_gate_e gate = OA2F_BREAKER_UNTRACKED;
    oa2f_breaker_conf_t bc;
    oa2f_breaker_ticket_t ticket;
    oa2f_breaker_view_t after;
    oa2f_breaker_change_e change;
    int wait_s = 0;

    /* README "Local JWT validation": a JWS is judged here with the
     * provider's keys, no call; the rest goes to the endpoint, if any */
    if (b->prov->local_jwt) {
        if (oa2f_jwt_local(b->r, b->conf, b->prov, b->jwks_url, b->hp, token,
                           out)) {
            return;
        }
        if (!b->prov->endpoint) {
            memset(out, 0, sizeof(*out));
            out->outcome = OA2F_INACTIVE;
            out->local = 1;
            out->why = "not a JWS of a known key, and no introspection "
                       "endpoint to ask";
            return;
        }
    }
    if (bt && b->prov->endpoint
        && oa2f_conf_breaker(b->conf, &bc.failures, &bc.seconds)) {
        bc.probe_timeout_us = (long long)b->prov->total_timeout_ms * 1000
                              + 1000000;
        gate = oa2f_breaker_enter(bt, b->prov->endpoint, &bc,
                                  (long long)apr_time_now(), &ticket, &wait_s);
        if (gate == OA2F_BREAKER_REFUSE) {
            breaker_refused(b, wait_s, out);
            return;
        }
        if (gate == OA2F_BREAKER_PROBE && APLOGrdebug(b->r)) {
            char shown[OA2F_BREAKER_URL_MAX];
            oa2f_breaker_shown_url(b->prov->endpoint, shown);
            ap_log_rerror(APLOG_MARK, APLOG_DEBUG, 0, b->r,
                          OA2F_LOGNO(10502) "circuit breaker of %s: this call "
                                            "is the probe (location %s)",
                          shown, oa2f_conf_location(b->conf, b->r));
        }
    }

    oa2f_remote_validate(b->hp, b->r->pool, b->prov, token, out);

    if (gate != OA2F_BREAKER_CALL && gate != OA2F_BREAKER_PROBE) {
        return;
    }
    memset(&after, 0, sizeof(after));
    change = oa2f_breaker_report(
        bt, &ticket, &bc, oa2f_breaker_judge(out->outcome, out->http_status),
        oa2f_breaker_retry_after(out->http_status, out->provider_retry_after,
                                 (long long)apr_time_sec(apr_time_now())),
        (long long)apr_time_now(), &after);
    breaker_changed(b, change, &after, out);
    if (after.state == OA2F_BREAKER_STATE_OPEN) {
        /* this failure's 503 says when the next probe goes */
        out->retry_after = after.next_probe_s;
    }
}

static void log_note(void *baton, oa2f_verdict_note_e what, apr_size_t len)
{
    const baton_t *b = baton;
    request_rec *r = b->r;
    unsigned char key[OA2F_CACHE_KEY_LEN];

    switch (what) {
    case OA2F_VERDICT_CORRUPT:
        ap_log_rerror(
            APLOG_MARK, APLOG_WARNING, 0, r,
            OA2F_LOGNO(
                10309) "ignoring a validation cache entry that does not "
                       "decode (%" APR_SIZE_T_FMT " bytes)",
            len);
        break;
    case OA2F_VERDICT_TOO_LARGE:
        ap_log_rerror(
            APLOG_MARK, APLOG_DEBUG, 0, r,
            OA2F_LOGNO(
                10310) "answer too large for the validation cache; served "
                       "but not stored");
        break;
    case OA2F_VERDICT_STALE_SERVED:
        /* README "Outages": the why names the failure and the age */
        ap_log_rerror(APLOG_MARK, APLOG_INFO, 0, r,
                      OA2F_LOGNO(10600) "token %s: %s "
                                        "(OAuth2FederatedStaleIfError; "
                                        "endpoint %s, location %s)",
                      oa2f_token_fingerprint(r->pool, b->token), b->out->why,
                      oa2f_shown_endpoint(r->pool, b->prov),
                      oa2f_conf_location(b->conf, r));
        break;
    case OA2F_VERDICT_LOCK_WAITED:
    case OA2F_VERDICT_LOCK_GAVE_UP:
        if (oa2f_cache_key_of(b->prov, b->token, key)) {
            oa2f_fleet_lock_log_wait(r, key, what == OA2F_VERDICT_LOCK_GAVE_UP,
                                     len);
        }
        break;
    }
}

static int is_revoked(void *baton, const unsigned char *key,
                      const oa2f_claims_t *c, long long validated_at,
                      int local)
{
    baton_t *b = baton;

    if (!oa2f_revoke_covers(key, c, validated_at)) {
        return 0;
    }
    if (local) {
        oa2f_cache_forget_local(key);
    }
    /* the near copy of a revoked entry is as old as it, or older: gone,
     * so that looking again asks the fleet cache (README "Cache") */
    if (local || b->found.near) {
        oa2f_cache_forget_near(b->r, key);
    }
    return 1;
}

static const oa2f_verdict_impl_t on_httpd = {
    clock_now,     key_of,    get_entry,    keep_entry, put_entry,  begin,
    wait_landing,  end,       ask_provider, log_note,   is_revoked, publish,
    leader_result, lock_take, lock_release, nap
};

void oa2f_request_verdict(request_rec *r, const oa2f_dir_conf_t *conf,
                          const oa2f_provider_t *prov, oa2f_http_pool_t *hp,
                          const char *jwks_url, const char *token,
                          oa2f_validation_t *out)
{
    baton_t b = { r,        conf,  prov, hp,
                  jwks_url, token, out,  { 0, 0, 0, NULL, 0 },
                  0 };
    oa2f_verdict_req_t vr;

    vr.impl = &on_httpd;
    vr.baton = &b;
    vr.pool = r->pool;
    vr.stats = oa2f_stats();
    vr.provider = b.prov;
    vr.max_ttl = oa2f_conf_cache_max_ttl(conf);
    vr.negative_ttl = oa2f_conf_negative_ttl(conf);
    vr.stale_if_error = oa2f_conf_stale_if_error(conf);
    vr.reuse_cap = oa2f_revoke_reuse_cap();
    vr.fleet_lock = oa2f_fleet_lock_enabled();
    vr.fleet_claim = vr.fleet_lock && oa2f_fleet_claim_on();
    if (vr.fleet_claim) {
        b.claim_ttl_ms = oa2f_lock_ttl_ms(prov->total_timeout_ms);
    }
    /* README "Revocation": the fleet's rules before the lookup */
    if (vr.max_ttl != 0) {
        oa2f_revoke_sync(r);
    }
    oa2f_verdict(&vr, token, out);
}
