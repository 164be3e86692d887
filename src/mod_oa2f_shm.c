/* The shared-memory segment of counters, flights and circuit breakers
 * (see the header).
 *
 * It outlives `apachectl graceful`: it is created once in the process
 * pool and found again through its userdata after the module is
 * reloaded. */
#include <apr_shm.h>
#include <apr_strings.h>
#include <apr_time.h>

#include "mod_oa2f_private.h"
#include "mod_oa2f_shm.h"

/* This generation's view of the segment. */
static oa2f_stats_t *stats;
static oa2f_flight_table_t *flights;
static oa2f_rules_t *rules;
static oa2f_breaker_table_t *breakers;

oa2f_stats_t *oa2f_stats(void)
{
    return stats;
}

oa2f_flight_table_t *oa2f_flights(void)
{
    return flights;
}

oa2f_rules_t *oa2f_revocations(void)
{
    return rules;
}

oa2f_breaker_table_t *oa2f_breakers(void)
{
    return breakers;
}

/* Counters first, the flight table after them, then the revocation
 * rules (README "Revocation") and the circuit breakers (README
 * "Outages"). */
apr_status_t oa2f_shm_attach(server_rec *s)
{
    apr_pool_t *pp = s->process->pool;
    apr_shm_t *shm = NULL;
    apr_size_t stats_size = APR_ALIGN_DEFAULT(sizeof(oa2f_stats_t));
    apr_size_t flight_size = APR_ALIGN_DEFAULT(oa2f_flight_size());
    /* aligned, so that the breakers' lock words are */
    apr_size_t rules_size = APR_ALIGN_DEFAULT(oa2f_rules_size());
    apr_size_t size = stats_size + flight_size + rules_size
                      + oa2f_breaker_size();
    /* the layout's size in the name: a module upgraded by a graceful
     * restart never reuses a segment laid out for another build */
    char key[64];
    char *base;
    apr_status_t rv;

    apr_snprintf(key, sizeof(key), "oauth2-federated-shm-%" APR_SIZE_T_FMT,
                 size);
    apr_pool_userdata_get((void **)&shm, key, pp);
    if (!shm) {
        rv = apr_shm_create(&shm, size, NULL, pp);
        if (rv != APR_SUCCESS) {
            ap_log_error(
                APLOG_MARK, APLOG_CRIT, rv, s,
                OA2F_LOGNO(10302) "cannot create %" APR_SIZE_T_FMT
                                  " bytes of shared "
                                  "memory for counters, single-flight and "
                                  "circuit breakers",
                size);
            return rv;
        }
        base = apr_shm_baseaddr_get(shm);
        memset(base, 0, size);
        ((oa2f_stats_t *)base)->started_at = (apr_int64_t)apr_time_sec(
            apr_time_now());
        oa2f_flight_init(base + stats_size);
        oa2f_rules_init(base + stats_size + flight_size);
        oa2f_breaker_init(base + stats_size + flight_size + rules_size);
        apr_pool_userdata_set(shm, key, apr_pool_cleanup_null, pp);
    }
    base = apr_shm_baseaddr_get(shm);
    stats = (oa2f_stats_t *)base;
    flights = (oa2f_flight_table_t *)(base + stats_size);
    rules = (oa2f_rules_t *)(base + stats_size + flight_size);
    breakers = (oa2f_breaker_table_t *)(base + stats_size + flight_size
                                        + rules_size);
    return APR_SUCCESS;
}
