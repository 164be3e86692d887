/* The near cache (see the header) on httpd's shmcb socache, the
 * provider the default cache uses (mod_oa2f_socache.c loads it when no
 * LoadModule line did). Lookups that miss here go to the fleet cache;
 * nothing here is a verdict before mod_oa2f_socache.c has opened it with
 * the fleet's seal and the verdict policy has judged it (README
 * "Revocation" included). A failure of this cache is a miss. */
#include <apr_strings.h>
#include <apr_global_mutex.h>
#include <ap_provider.h>
#include <ap_socache.h>
#include <util_mutex.h>

#include "mod_oa2f_private.h"
#include "mod_oa2f_config.h"
#include "mod_oa2f_near.h"
#include "oa2f_cache_entry.h"
#include "oa2f_cache_parts.h"
#include "oa2f_near.h"
#include "oa2f_seal.h"

#define NEAR_PROVIDER  "shmcb"
#define NEAR_NAMESPACE "oauth2-federated-near"
/* the cache's mutex type (mod_oa2f_socache.c), another instance */
#define MUTEX_TYPE     "oauth2-federated-cache"
#define MUTEX_INSTANCE "near"

typedef struct {
    const ap_socache_provider_t *provider;
    ap_socache_instance_t *instance;
} near_t;

/* This generation's view: nparts 0 when there is no near cache. Split
 * like a sized default cache (oa2f_cache_parts.h): up to 8 parts of at
 * least 1 MiB, each with its own mutex, so that lookups rarely queue on
 * one lock and each scans a smaller shmcb index. */
static near_t *near[OA2F_CACHE_PARTS_MAX];
static apr_global_mutex_t *near_mutex[OA2F_CACHE_PARTS_MAX];
static int nparts;

int oa2f_near_on(void)
{
    return nparts > 0;
}

/* The part of a key: a byte neither the fleet cache's parts (the last)
 * nor the per-child copy (the first four) pick by. */
static int part_of(const unsigned char *key)
{
    return key[OA2F_CACHE_KEY_LEN - 2] % nparts;
}

int oa2f_near_check_config(apr_pool_t *pconf, server_rec *s, int fleet)
{
    (void)pconf;
    if (!fleet || oa2f_srv_near_cache(s) == 0) {
        return OK;
    }
    if (!ap_lookup_provider(AP_SOCACHE_PROVIDER_GROUP, NEAR_PROVIDER,
                            AP_SOCACHE_PROVIDER_VERSION)) {
        ap_log_error(
            APLOG_MARK, APLOG_CRIT, 0, s,
            OA2F_LOGNO(10903) "OAuth2FederatedNearCache: the near cache needs "
                              "the shmcb socache provider (is "
                              "socache_shmcb_module loaded?), or set it Off");
        return HTTP_INTERNAL_SERVER_ERROR;
    }
    return OK;
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
    for (int i = 0; i < 8; i++) {
        apr_snprintf(hex + 2 * i, 3, "%02x", h[i]);
    }
    return apr_psprintf(ptemp, "oauth2-federated-near:%" APR_INT64_T_FMT ":%s",
                        (apr_int64_t)bytes, hex);
}

/* One part's shmcb, created once per parent and found again after a
 * graceful restart. */
static int open_part(apr_pool_t *pconf, apr_pool_t *ptemp, server_rec *s,
                     const char *ukey, const char *args, near_t **out)
{
    apr_pool_t *pp = s->process->pool;
    near_t *n = NULL;

    apr_pool_userdata_get((void **)&n, ukey, pp);
    if (!n) {
        const char *err;
        /* a near entry is a sealed fleet value, typically under 1 KiB:
         * shmcb sizes its index by these */
        struct ap_socache_hints hints = { OA2F_CACHE_KEY_LEN, 768,
                                          apr_time_from_sec(30) };

        n = apr_pcalloc(pp, sizeof(*n));
        n->provider = ap_lookup_provider(AP_SOCACHE_PROVIDER_GROUP,
                                         NEAR_PROVIDER,
                                         AP_SOCACHE_PROVIDER_VERSION);
        if (!n->provider) {
            return oa2f_near_check_config(pconf, s, 1);
        }
        err = n->provider->create(&n->instance, args, ptemp, pp);
        if (!err
            && n->provider->init(n->instance, NEAR_NAMESPACE, &hints, s, pp)
                   != APR_SUCCESS) {
            err = "cannot initialise the shared memory";
        }
        if (err) {
            ap_log_error(APLOG_MARK, APLOG_CRIT, 0, s,
                         OA2F_LOGNO(10901) "OAuth2FederatedNearCache %s: %s",
                         args, err);
            return HTTP_INTERNAL_SERVER_ERROR;
        }
        apr_pool_userdata_set(n, ukey, apr_pool_cleanup_null, pp);
    }
    /* the provider's module may have been reloaded at a new address */
    n->provider = ap_lookup_provider(AP_SOCACHE_PROVIDER_GROUP, NEAR_PROVIDER,
                                     AP_SOCACHE_PROVIDER_VERSION);
    if (!n->provider) {
        return oa2f_near_check_config(pconf, s, 1);
    }
    *out = n;
    return OK;
}

int oa2f_near_post_config(apr_pool_t *pconf, apr_pool_t *ptemp, server_rec *s,
                          int fleet, const char *fleet_spec)
{
    long long bytes = oa2f_srv_near_cache(s);
    const char *args, *ukey;
    int n;

    nparts = 0;
    memset(near, 0, sizeof(near));
    memset(near_mutex, 0, sizeof(near_mutex));
    if (!fleet || bytes == 0) {
        return OK;
    }
    args = apr_psprintf(ptemp, "(%" APR_INT64_T_FMT ")", (apr_int64_t)bytes);
    ukey = instance_key(ptemp, s, bytes, fleet_spec);
    n = oa2f_cache_parts(NEAR_PROVIDER, args);
    for (int i = 0; i < n; i++) {
        int rc = open_part(pconf, ptemp, s,
                           apr_psprintf(ptemp, "%s:%d/%d", ukey, i, n),
                           oa2f_cache_part_args(ptemp, args, i, n), &near[i]);
        apr_status_t rv;

        if (rc != OK) {
            return rc;
        }
        if (near[i]->provider->flags & AP_SOCACHE_FLAG_NOTMPSAFE) {
            rv = ap_global_mutex_create(
                &near_mutex[i], NULL, MUTEX_TYPE,
                apr_psprintf(ptemp, "%s%d", MUTEX_INSTANCE, i), s, pconf, 0);
            if (rv != APR_SUCCESS) {
                return HTTP_INTERNAL_SERVER_ERROR;
            }
        }
    }
    nparts = n;
    ap_log_error(APLOG_MARK, APLOG_DEBUG, 0, s,
                 OA2F_LOGNO(10900) "near cache: shmcb of %" APR_INT64_T_FMT
                                   " bytes in %d part%s in front of %s",
                 (apr_int64_t)bytes, n, n == 1 ? "" : "s", fleet_spec);
    return OK;
}

void oa2f_near_child_init(apr_pool_t *p, server_rec *s)
{
    for (int i = 0; i < nparts; i++) {
        apr_status_t rv;

        if (!near_mutex[i]) {
            continue;
        }
        rv = apr_global_mutex_child_init(
            &near_mutex[i], apr_global_mutex_lockfile(near_mutex[i]), p);
        if (rv != APR_SUCCESS) {
            ap_log_error(APLOG_MARK, APLOG_CRIT, rv, s,
                         OA2F_LOGNO(10904) "cannot attach the near cache's "
                                           "mutex; the near cache is off in "
                                           "this process");
            nparts = 0;
        }
    }
}

static int lock(int i)
{
    return !near_mutex[i]
           || apr_global_mutex_lock(near_mutex[i]) == APR_SUCCESS;
}

static void unlock(int i)
{
    if (near_mutex[i]) {
        apr_global_mutex_unlock(near_mutex[i]);
    }
}

int oa2f_near_get(request_rec *r, const unsigned char *key,
                  unsigned char **value, apr_size_t *len)
{
    unsigned int got = OA2F_CACHE_MAX_ENTRY + OA2F_NEAR_HEAD_LEN
                       + OA2F_SEAL_OVERHEAD;
    unsigned char *buf;
    apr_status_t rv;
    int i;

    if (!nparts) {
        return 0;
    }
    /* allocated before locking: a new pool block is not free */
    buf = apr_palloc(r->pool, got);
    i = part_of(key);
    if (!lock(i)) {
        return 0;
    }
    rv = near[i]->provider->retrieve(near[i]->instance, r->server, key,
                                     OA2F_CACHE_KEY_LEN, buf, &got, r->pool);
    unlock(i);
    if (rv != APR_SUCCESS) {
        return 0;
    }
    *value = buf;
    *len = got;
    return 1;
}

int oa2f_near_put(request_rec *r, const unsigned char *key, long long until,
                  const unsigned char *value, apr_size_t len)
{
    apr_time_t expiry = apr_time_from_sec(until);
    apr_status_t rv;
    int i;

    if (!nparts || expiry <= apr_time_now()) {
        return 0;
    }
    i = part_of(key);
    if (!lock(i)) {
        return 0;
    }
    /* socache's store takes a buffer it does not change as non-const */
    rv = near[i]->provider->store(
        near[i]->instance, r->server, key, OA2F_CACHE_KEY_LEN, expiry,
        (unsigned char *)value, (unsigned int)len, r->pool);
    unlock(i);
    if (rv != APR_SUCCESS) {
        ap_log_rerror(APLOG_MARK, APLOG_DEBUG, rv, r,
                      OA2F_LOGNO(10902) "near cache: entry of %" APR_SIZE_T_FMT
                                        " bytes not kept",
                      len);
        return 0;
    }
    return 1;
}

void oa2f_near_drop(request_rec *r, const unsigned char *key)
{
    int i;

    if (!nparts) {
        return;
    }
    i = part_of(key);
    if (!lock(i)) {
        return;
    }
    near[i]->provider->remove(near[i]->instance, r->server, key,
                              OA2F_CACHE_KEY_LEN, r->pool);
    unlock(i);
}
