/* The near cache (see the header) in one shared-memory segment per
 * server, read and written by every child without a lock
 * (oa2f_near_table.h). Lookups that miss here go to the fleet cache;
 * nothing here is a verdict before mod_oa2f_socache.c has opened it with
 * the fleet's seal and the verdict policy has judged it (README
 * "Revocation" included). */
#include <apr_strings.h>
#include <apr_shm.h>

#include "mod_oa2f_private.h"
#include "mod_oa2f_config.h"
#include "mod_oa2f_near.h"
#include "oa2f_hex.h"
#include "oa2f_near.h"
#include "oa2f_near_table.h"

/* This generation's view: NULL when there is no near cache. */
static oa2f_near_table_t *table;

int oa2f_near_on(void)
{
    return table != NULL;
}

/* A name for the instance that changes with everything its values
 * depend on: its size, the fleet it copies and the secret that sealed
 * them (hashed: the name stays in memory only, but need not hold it). */
static const char *instance_key(apr_pool_t *ptemp, server_rec *s,
                                long long bytes, const char *fleet_spec)
{
    unsigned char h[OA2F_CACHE_KEY_LEN];
    char hex[17];

    oa2f_cache_key(oa2f_srv_cache_secret(s), "oauth2-federated:near",
                   fleet_spec, h);
    oa2f_hex_lower(hex, h, 8);
    hex[16] = '\0';
    return apr_psprintf(ptemp, "oauth2-federated-near:%" APR_INT64_T_FMT ":%s",
                        (apr_int64_t)bytes, hex);
}

/* The table's segment, created once per parent and found again after a
 * graceful restart (README "Cache": near entries survive it). */
static int open_table(server_rec *s, const char *ukey, apr_size_t bytes)
{
    apr_pool_t *pp = s->process->pool;
    oa2f_near_table_t *t = NULL;
    apr_shm_t *shm;
    apr_status_t rv;

    apr_pool_userdata_get((void **)&t, ukey, pp);
    if (t) {
        table = t;
        return OK;
    }
    rv = apr_shm_create(&shm, bytes, NULL, pp);
    if (rv == APR_SUCCESS) {
        t = oa2f_near_table_init(apr_shm_baseaddr_get(shm),
                                 apr_shm_size_get(shm));
    }
    if (!t) {
        ap_log_error(
            APLOG_MARK, APLOG_CRIT, rv, s,
            OA2F_LOGNO(10901) "OAuth2FederatedNearCache %" APR_SIZE_T_FMT
                              ": cannot create the shared memory",
            bytes);
        return HTTP_INTERNAL_SERVER_ERROR;
    }
    apr_pool_userdata_set(t, ukey, apr_pool_cleanup_null, pp);
    table = t;
    return OK;
}

int oa2f_near_post_config(apr_pool_t *pconf, apr_pool_t *ptemp, server_rec *s,
                          int fleet, const char *fleet_spec)
{
    long long bytes = oa2f_srv_near_cache(s);
    int rc;

    (void)pconf;
    table = NULL;
    if (!fleet || bytes == 0) {
        return OK;
    }
    rc = open_table(s, instance_key(ptemp, s, bytes, fleet_spec),
                    (apr_size_t)bytes);
    if (rc != OK) {
        return rc;
    }
    ap_log_error(
        APLOG_MARK, APLOG_DEBUG, 0, s,
        OA2F_LOGNO(
            10900) "near cache: %" APR_INT64_T_FMT
                   " bytes of shared memory (values up to %" APR_SIZE_T_FMT
                   " bytes) in front of %s",
        (apr_int64_t)bytes, oa2f_near_table_value_max(table), fleet_spec);
    return OK;
}

int oa2f_near_get(request_rec *r, const unsigned char *key, long long now,
                  unsigned char **value, apr_size_t *len)
{
    return oa2f_near_table_get(table, key, now, r->pool, value, len);
}

int oa2f_near_put(request_rec *r, const unsigned char *key, long long until,
                  const unsigned char *value, apr_size_t len)
{
    if (!table) {
        return 0;
    }
    if (!oa2f_near_table_put(table, key,
                             (long long)apr_time_sec(apr_time_now()), until,
                             value, len)) {
        ap_log_rerror(APLOG_MARK, APLOG_DEBUG, 0, r,
                      OA2F_LOGNO(10902) "near cache: entry of %" APR_SIZE_T_FMT
                                        " bytes not kept",
                      len);
        return 0;
    }
    return 1;
}

void oa2f_near_drop(request_rec *r, const unsigned char *key)
{
    (void)r;
    oa2f_near_table_drop(table, key);
}
