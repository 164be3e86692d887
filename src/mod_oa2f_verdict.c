/* The verdict of one request (src/oa2f_verdict.h) on this server's
 * cache (mod_oa2f_socache.c), single-flight table (mod_oa2f_shm.c),
 * clock and provider connections. */
#include <apr_time.h>

#include "mod_oa2f_private.h"
#include "mod_oa2f_config.h"
#include "mod_oa2f_revoke.h"
#include "mod_oa2f_shm.h"
#include "mod_oa2f_socache.h"
#include "mod_oa2f_verdict.h"
#include "oa2f_token.h"
#include "oa2f_verdict.h"

typedef struct {
    request_rec *r;
    const oa2f_dir_conf_t *conf;
    const oa2f_provider_t *prov; /* the location's, built already */
    oa2f_http_pool_t *hp;
    const char *token;            /* for its fingerprint in logs  */
    const oa2f_validation_t *out; /* the answer being made        */
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
                     unsigned char **entry, apr_size_t *len, int *local)
{
    return oa2f_cache_get(((baton_t *)baton)->r, key, now, entry, len, local);
}

static void keep_entry(void *baton, const unsigned char *key, long long until,
                       const unsigned char *entry, apr_size_t len)
{
    (void)baton;
    oa2f_cache_keep_local(key, until, entry, len);
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

static void ask_provider(void *baton, const char *token,
                         oa2f_validation_t *out)
{
    baton_t *b = baton;

    oa2f_remote_validate(b->hp, b->r->pool, b->prov, token, out);
}

static void log_note(void *baton, oa2f_verdict_note_e what, apr_size_t len)
{
    const baton_t *b = baton;
    request_rec *r = b->r;

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
                                        "(OAuth2FederatedStaleIfError)",
                      oa2f_token_fingerprint(r->pool, b->token), b->out->why);
        break;
    }
}

static int is_revoked(void *baton, const unsigned char *key,
                      const oa2f_claims_t *c, long long validated_at,
                      int local)
{
    (void)baton;
    if (!oa2f_revoke_covers(key, c, validated_at)) {
        return 0;
    }
    if (local) {
        oa2f_cache_forget_local(key);
    }
    return 1;
}

static const oa2f_verdict_impl_t on_httpd = {
    clock_now,    key_of, get_entry,    keep_entry, put_entry, begin,
    wait_landing, end,    ask_provider, log_note,   is_revoked
};

void oa2f_request_verdict(request_rec *r, const oa2f_dir_conf_t *conf,
                          const oa2f_provider_t *prov, oa2f_http_pool_t *hp,
                          const char *token, oa2f_validation_t *out)
{
    baton_t b = { r, conf, prov, hp, token, out };
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
    /* README "Revocation": the fleet's rules before the lookup */
    if (vr.max_ttl != 0) {
        oa2f_revoke_sync(r);
    }
    oa2f_verdict(&vr, token, out);
}
