/* The validation cache on httpd's socache providers (README "Cache"):
 * the parts and their mutexes, the shmcb loader for the default cache,
 * sealing with OAuth2FederatedCacheSecret, the near cache in front of a
 * fleet cache (mod_oa2f_near.c), this child's own copy of recent
 * entries and its memo of derived keys. OAuth2FederatedCacheSecret
 * is kept here only: the providers' keyers hold HMAC states keyed with it,
 * the seal key is derived from it here.
 *
 * A part outlives `apachectl graceful`: it is created once in the
 * process pool and found again through its userdata after the module is
 * reloaded, so cached validations survive a restart. */
#include <apr_strings.h>
#include <apr_dso.h>
#include <apr_global_mutex.h>
#include <ap_provider.h>
#include <ap_socache.h>
#include <http_core.h>
#include <ap_mpm.h>
#include <util_mutex.h>

#include "mod_oa2f_private.h"
#include "mod_oa2f_config.h"
#include "mod_oa2f_near.h"
#include "mod_oa2f_fleet_lock.h"
#include "mod_oa2f_shm.h"
#include "mod_oa2f_socache.h"
#include "oa2f_cache_entry.h"
#include "oa2f_cache_parts.h"
#include "oa2f_keyer.h"
#include "oa2f_key_memo.h"
#include "oa2f_local_cache.h"
#include "oa2f_near.h"
#include "oa2f_seal.h"
#include "oa2f_verdict.h"
#include "oa2f_verdict.h"

#define DEFAULT_CACHE_SPEC "shmcb"
/* shmcb's own default (512 KiB) holds few answers; 8 MiB is ~4,000+. */
#define DEFAULT_SHMCB_ARG "(8388608)"
#define MUTEX_TYPE        "oauth2-federated-cache"
#define CACHE_NAMESPACE   OA2F_CACHE_NAMESPACE
/* The per-process copy in front of the shared cache (README "Cache"):
 * entries of up to ~2 KiB (an introspection answer with its fields is
 * typically well under 1 KiB), touched only as it fills. A threaded
 * child serves many connections' tokens: 4,096 slots, 8 MiB at most; a
 * prefork child, one connection at a time and many of them: 1,024, 2 MiB
 * at most. */
#define LOCAL_SLOTS_THREADED 4096
#define LOCAL_SLOTS_PREFORK  1024
#define LOCAL_ENTRY_MAX      2000
/* Derived keys this child remembers (oa2f_key_memo.h), 64 bytes each:
 * a threaded child, 2 MiB (in sets of four ways, nearly all of a
 * 20,000-token working set finds its key there); a prefork child,
 * 256 KiB. */
#define KEY_MEMO_SLOTS_THREADED 32768
#define KEY_MEMO_SLOTS_PREFORK  4096

typedef struct {
    const ap_socache_provider_t *provider;
    ap_socache_instance_t *instance;
    /* longest TTL the back end takes as relative, seconds; 0 = any */
    long long max_ttl;
} socache_t;

/* memcached reads an expiry above 30 days as an absolute Unix time. */
#define MEMCACHE_MAX_TTL (30LL * 86400 - 1)

/* Back ends other servers can read: entries there must be sealed with
 * OAuth2FederatedCacheSecret (README "Trust boundaries"). */
static int is_shared_backend(const char *name)
{
    return !strcasecmp(name, "redis") || !strcasecmp(name, "memcache")
           || !strcasecmp(name, "dc");
}

/* This generation's view; reset when the module is reloaded. The cache
 * is nparts parts (oa2f_cache_parts.h), each with its mutex where the
 * provider needs one; nparts is 0 when caching is off. */
static socache_t *parts[OA2F_CACHE_PARTS_MAX];
static apr_global_mutex_t *part_mutex[OA2F_CACHE_PARTS_MAX];
static int nparts;
static const char *secret;
/* With OAuth2FederatedCacheSecret, values in the shared cache are sealed
 * (README "Trust boundaries"); the per-child copy, private memory, keeps
 * the opened plaintext so that its hits need no decryption. */
static oa2f_seal_key_t seal_key;
static int sealed;
/* This child's lock-free copy of recent entries (oa2f_local_cache.h). */
static oa2f_local_cache_t *local_copy;
static oa2f_key_memo_t *key_memo;
/* 1 while this process sees the cache back end failing (log once). */
static int cache_failing;
/* README "Revocation": the back end is shared with other servers */
static int fleet;

static apr_status_t unload_shmcb(void *mod)
{
    ap_remove_loaded_module(mod);
    return APR_SUCCESS;
}

/* The default cache must work with nothing but our own LoadModule line
 * (README "Cache"): when no socache_shmcb_module was loaded, load it from
 * httpd's module directory the way mod_so would, for this generation. */
static void load_default_socache(apr_pool_t *pconf)
{
    const char *path;
    apr_dso_handle_t *dso;
    apr_dso_handle_sym_t sym;
    const char *err;

    if (ap_lookup_provider(AP_SOCACHE_PROVIDER_GROUP, "shmcb",
                           AP_SOCACHE_PROVIDER_VERSION)) {
        return;
    }
    path = ap_server_root_relative(pconf, "modules/mod_socache_shmcb.so");
    if (!path || apr_dso_load(&dso, path, pconf) != APR_SUCCESS) {
        path = OA2F_HTTPD_LIBEXECDIR "/mod_socache_shmcb.so";
        if (apr_dso_load(&dso, path, pconf) != APR_SUCCESS) {
            return; /* check_config reports the missing provider */
        }
    }
    if (apr_dso_sym(&sym, dso, "socache_shmcb_module") != APR_SUCCESS) {
        return;
    }
    err = ap_add_loaded_module((module *)sym, pconf, path);
    if (err) {
        ap_log_error(
            APLOG_MARK, APLOG_WARNING, 0, NULL,
            OA2F_LOGNO(10311) "could not load %s for the default cache: %s",
            path, err);
        return;
    }
    apr_pool_cleanup_register(pconf, sym, unload_shmcb, apr_pool_cleanup_null);
}

int oa2f_cache_pre_config(apr_pool_t *pconf)
{
    load_default_socache(pconf);
    return ap_mutex_register(pconf, MUTEX_TYPE, NULL, APR_LOCK_DEFAULT, 0)
                   == APR_SUCCESS
               ? OK
               : HTTP_INTERNAL_SERVER_ERROR;
}

/* "file:line" of the OAuth2FederatedCache directive, for messages. */
static const char *where(const server_rec *s, const char **sep)
{
    const char *w = oa2f_srv_cache_spec_where(s);

    *sep = w ? " at " : "";
    return w ? w : "";
}

/* Split "name[:args]"; *args is NULL when there are none. */
static const char *spec_name(apr_pool_t *p, const char *spec,
                             const char **args)
{
    const char *colon = strchr(spec, ':');

    *args = colon ? colon + 1 : NULL;
    return colon ? apr_pstrmemdup(p, spec, (apr_size_t)(colon - spec)) : spec;
}

/* Runs for `apachectl -t` too: an unknown provider fails the test. */
/* The provider's own parse of each part's arguments (its create, which
 * allocates and parses only: the shared memory, files and connections
 * come with init), so that `apachectl -t` names a bad size or address
 * with the directive's file and line instead of start-up failing. */
static int check_args(apr_pool_t *pconf, server_rec *s, const char *spec,
                      const char *name, const char *args)
{
    const ap_socache_provider_t *prov = ap_lookup_provider(
        AP_SOCACHE_PROVIDER_GROUP, name, AP_SOCACHE_PROVIDER_VERSION);
    int i, n = oa2f_cache_parts(name, args);
    apr_pool_t *tmp;
    int rc = OK;

    if (apr_pool_create(&tmp, pconf) != APR_SUCCESS) {
        return OK; /* post_config will say it */
    }
    for (i = 0; i < n && rc == OK; i++) {
        ap_socache_instance_t *inst = NULL;
        const char *sep, *at = where(s, &sep);
        const char *err = prov->create(
            &inst, oa2f_cache_part_args(tmp, args, i, n), tmp, tmp);
        if (err) {
            ap_log_error(APLOG_MARK, APLOG_CRIT, 0, s,
                         OA2F_LOGNO(10315) "OAuth2FederatedCache %s%s%s: %s",
                         spec, sep, at, err);
            rc = HTTP_INTERNAL_SERVER_ERROR;
        }
        /* no destroy: an instance never initialised holds only pool
         * memory, and dbm's destroy would unlink a live server's file */
    }
    apr_pool_destroy(tmp);
    return rc;
}

int oa2f_cache_check_config(apr_pool_t *pconf, server_rec *s)
{
    const char *spec = oa2f_srv_cache_spec(s) ? oa2f_srv_cache_spec(s)
                                              : DEFAULT_CACHE_SPEC;
    const char *sep, *at = where(s, &sep);
    const char *args, *name = spec_name(pconf, spec, &args);

    if (!strcasecmp(name, "none")) {
        return OK;
    }
    if (is_shared_backend(name) && !oa2f_srv_cache_secret(s)) {
        ap_log_error(
            APLOG_MARK, APLOG_CRIT, 0, s,
            OA2F_LOGNO(
                10312) "OAuth2FederatedCache %s%s%s: a cache shared with "
                       "other "
                       "servers needs OAuth2FederatedCacheSecret, so that its "
                       "entries are encrypted and authenticated",
            spec, sep, at);
        return HTTP_INTERNAL_SERVER_ERROR;
    }
    if (!ap_lookup_provider(AP_SOCACHE_PROVIDER_GROUP, name,
                            AP_SOCACHE_PROVIDER_VERSION)) {
        ap_log_error(
            APLOG_MARK, APLOG_CRIT, 0, s,
            OA2F_LOGNO(
                10301) "OAuth2FederatedCache %s%s%s: socache provider '%s' "
                       "is not available (is socache_%s_module loaded?)",
            spec, sep, at, name, name);
        return HTTP_INTERNAL_SERVER_ERROR;
    }
    if (check_args(pconf, s, spec, name, args) != OK) {
        return HTTP_INTERNAL_SERVER_ERROR;
    }
    return OK;
}

/* One part's socache, created once per parent and found again after a
 * graceful restart. */
static int open_part(apr_pool_t *pconf, apr_pool_t *ptemp, server_rec *s,
                     const char *spec, const char *name, const char *args,
                     int i, int n, socache_t **out)
{
    apr_pool_t *pp = s->process->pool;
    const char *my_args = oa2f_cache_part_args(ptemp, args, i, n);
    const char *ukey = apr_psprintf(ptemp,
                                    "oauth2-federated-socache:%s:%s:%d/%d",
                                    name, my_args ? my_args : "", i, n);
    socache_t *c = NULL;
    apr_status_t rv;

    apr_pool_userdata_get((void **)&c, ukey, pp);
    if (!c) {
        const char *err;
        struct ap_socache_hints hints = { 64, 2048, apr_time_from_sec(30) };
        c = apr_pcalloc(pp, sizeof(*c));
        c->provider = ap_lookup_provider(AP_SOCACHE_PROVIDER_GROUP, name,
                                         AP_SOCACHE_PROVIDER_VERSION);
        if (!c->provider) {
            return oa2f_cache_check_config(pconf, s);
        }
        err = c->provider->create(&c->instance, my_args, ptemp, pp);
        if (err) {
            ap_log_error(APLOG_MARK, APLOG_CRIT, 0, s,
                         OA2F_LOGNO(10303) "OAuth2FederatedCache %s: %s", spec,
                         err);
            return HTTP_INTERNAL_SERVER_ERROR;
        }
        rv = c->provider->init(c->instance, CACHE_NAMESPACE, &hints, s, pp);
        if (rv != APR_SUCCESS) {
            ap_log_error(
                APLOG_MARK, APLOG_CRIT, rv, s,
                OA2F_LOGNO(
                    10304) "OAuth2FederatedCache %s: cannot initialise the "
                           "cache",
                spec);
            return HTTP_INTERNAL_SERVER_ERROR;
        }
        apr_pool_userdata_set(c, ukey, apr_pool_cleanup_null, pp);
    }
    /* The provider's module may have been reloaded at a new address. */
    c->provider = ap_lookup_provider(AP_SOCACHE_PROVIDER_GROUP, name,
                                     AP_SOCACHE_PROVIDER_VERSION);
    if (!c->provider) {
        return oa2f_cache_check_config(pconf, s);
    }
    if (c->provider->flags & AP_SOCACHE_FLAG_NOTMPSAFE) {
        rv = ap_global_mutex_create(&part_mutex[i], NULL, MUTEX_TYPE,
                                    apr_itoa(ptemp, i), s, pconf, 0);
        if (rv != APR_SUCCESS) {
            return HTTP_INTERNAL_SERVER_ERROR;
        }
    }
    c->max_ttl = !strcasecmp(name, "memcache") ? MEMCACHE_MAX_TTL : 0;
    *out = c;
    return OK;
}

int oa2f_cache_post_config(apr_pool_t *pconf, apr_pool_t *ptemp, server_rec *s)
{
    const char *spec = oa2f_srv_cache_spec(s) ? oa2f_srv_cache_spec(s)
                                              : DEFAULT_CACHE_SPEC;
    const char *args, *name = spec_name(ptemp, spec, &args);
    int n, i, rc;

    nparts = 0;
    fleet = 0;
    memset(parts, 0, sizeof(parts));
    memset(part_mutex, 0, sizeof(part_mutex));
    local_copy = NULL;
    key_memo = NULL;
    secret = oa2f_srv_cache_secret(s);
    sealed = 0;
    if (secret) {
        if (!oa2f_seal_key_derive(&seal_key, secret)) {
            ap_log_error(
                APLOG_MARK, APLOG_CRIT, 0, s,
                OA2F_LOGNO(
                    10313) "OAuth2FederatedCacheSecret: cannot derive the "
                           "sealing key (OpenSSL HKDF)");
            return HTTP_INTERNAL_SERVER_ERROR;
        }
        sealed = 1;
    }
    /* counters and flights are there with OAuth2FederatedCache none too */
    if (oa2f_shm_attach(s) != APR_SUCCESS) {
        return HTTP_INTERNAL_SERVER_ERROR;
    }
    if (!strcasecmp(name, "none")) {
        return oa2f_near_post_config(pconf, ptemp, s, 0, spec);
    }
    if (!strcasecmp(name, "shmcb") && !args) {
        args = DEFAULT_SHMCB_ARG;
    }
    n = oa2f_cache_parts(name, args);
    for (i = 0; i < n; i++) {
        rc = open_part(pconf, ptemp, s, spec, name, args, i, n, &parts[i]);
        if (rc != OK) {
            return rc;
        }
    }
    nparts = n;
    fleet = is_shared_backend(name);
    rc = oa2f_near_post_config(pconf, ptemp, s, fleet, spec);
    if (rc != OK) {
        return rc;
    }
    ap_log_error(
        APLOG_MARK, APLOG_DEBUG, 0, s,
        OA2F_LOGNO(10305) "validation cache: %s%s%s in %d part%s, keys %s",
        name, args ? " " : "", args ? args : "", n, n == 1 ? "" : "s",
        secret ? "HMAC-SHA-256 with OAuth2FederatedCacheSecret, "
                 "values sealed (AES-256-GCM)"
               : "SHA-256, values not sealed");
    return OK;
}

void oa2f_cache_child_init(apr_pool_t *p, server_rec *s)
{
    for (int i = 0; i < nparts; i++) {
        apr_status_t rv;

        if (!part_mutex[i]) {
            continue;
        }
        rv = apr_global_mutex_child_init(
            &part_mutex[i], apr_global_mutex_lockfile(part_mutex[i]), p);
        if (rv != APR_SUCCESS) {
            ap_log_error(
                APLOG_MARK, APLOG_CRIT, rv, s,
                OA2F_LOGNO(
                    10306) "cannot attach the cache mutex; caching is off in "
                           "this process");
            nparts = 0;
        }
    }
    if (nparts) {
        int threaded = 0;

        if (ap_mpm_query(AP_MPMQ_IS_THREADED, &threaded) != APR_SUCCESS) {
            threaded = 0;
        }
        threaded = threaded != AP_MPMQ_NOT_SUPPORTED;
        local_copy = oa2f_local_cache_create(
            p, threaded ? LOCAL_SLOTS_THREADED : LOCAL_SLOTS_PREFORK,
            LOCAL_ENTRY_MAX);
        key_memo = oa2f_key_memo_create(p, threaded ? KEY_MEMO_SLOTS_THREADED
                                                    : KEY_MEMO_SLOTS_PREFORK);
    }
}

static void incident(request_rec *r, apr_status_t rv, const char *what)
{
    oa2f_stats_count(oa2f_stats(), OA2F_C_CACHE_ERROR);
    if (!__atomic_exchange_n(&cache_failing, 1, __ATOMIC_ACQ_REL)) {
        ap_log_rerror(
            APLOG_MARK, APLOG_ERR, rv, r,
            OA2F_LOGNO(
                10307) "validation cache %s failed; asking the provider "
                       "until it recovers (logged once)",
            what);
    }
}

static void recovered(request_rec *r)
{
    if (__atomic_load_n(&cache_failing, __ATOMIC_ACQUIRE)
        && __atomic_exchange_n(&cache_failing, 0, __ATOMIC_ACQ_REL)) {
        ap_log_rerror(APLOG_MARK, APLOG_NOTICE, 0, r,
                      OA2F_LOGNO(10308) "validation cache works again");
    }
}

/* The part a key lives in. Keys are hash outputs; the local copy uses
 * the first bytes, this the last, so the two spread independently. */
static int part_of(const unsigned char *key)
{
    return key[OA2F_CACHE_KEY_LEN - 1] % nparts;
}

static int lock(request_rec *r, int i)
{
    if (part_mutex[i]) {
        apr_status_t rv = apr_global_mutex_lock(part_mutex[i]);
        if (rv != APR_SUCCESS) {
            incident(r, rv, "lock");
            return 0;
        }
    }
    return 1;
}

static void unlock(int i)
{
    if (part_mutex[i]) {
        apr_global_mutex_unlock(part_mutex[i]);
    }
}

int oa2f_cache_key_of(const oa2f_provider_t *prov, const char *token,
                      unsigned char key[OA2F_CACHE_KEY_LEN])
{
    if (!nparts) {
        return 0;
    }
    if (prov->keyer) {
        unsigned long long tag[2];

        if (oa2f_key_memo_get(key_memo, prov->keyer, token, strlen(token), tag,
                              key)) {
            return 1; /* only good keys are remembered */
        }
        oa2f_keyer_derive(prov->keyer, token, key);
        if (!oa2f_cache_key_ok(key)) {
            return 0;
        }
        oa2f_key_memo_put(key_memo, prov->keyer, tag, key);
        return 1;
    }
    oa2f_cache_key(secret, prov->identity, token, key);
    return oa2f_cache_key_ok(key);
}

/* A value of key as it was stored (sealed when a secret is set),
 * opened: *plain in r->pool; 0 when it does not authenticate. */
static int open_value(request_rec *r, const unsigned char *key,
                      unsigned char *buf, apr_size_t got,
                      unsigned char **plain, apr_size_t *len)
{
    *plain = buf;
    *len = got;
    /* the entry's name is the associated data: a value moved to another
     * name does not open */
    return !sealed
           || oa2f_unseal(r->pool, &seal_key, key, OA2F_CACHE_KEY_LEN, buf,
                          got, plain, len);
}

static int opened(request_rec *r, const unsigned char *key, unsigned char *buf,
                  apr_size_t got, unsigned char **entry, apr_size_t *len,
                  unsigned char **raw, apr_size_t *raw_len);

/* The shared cache's value of key, opened when sealed (and as stored in
 * *raw, *raw_len when raw is not NULL); 0 on a miss, an error, or a
 * value that does not authenticate. */
static int shared_get(request_rec *r, const unsigned char *key,
                      unsigned char **entry, apr_size_t *len,
                      unsigned char **raw, apr_size_t *raw_len)
{
    unsigned char *buf;
    unsigned int got = OA2F_CACHE_MAX_ENTRY + OA2F_NEAR_HEAD_LEN
                       + OA2F_SEAL_OVERHEAD;
    apr_status_t rv;
    socache_t *part;
    int i;

    /* allocated before locking: a new pool block is not free */
    buf = apr_palloc(r->pool, got);
    i = part_of(key);
    part = parts[i];
    if (!lock(r, i)) {
        return 0;
    }
    rv = part->provider->retrieve(part->instance, r->server, key,
                                  OA2F_CACHE_KEY_LEN, buf, &got, r->pool);
    unlock(i);
    if (rv == APR_NOTFOUND) {
        recovered(r);
        return 0;
    }
    if (rv != APR_SUCCESS) {
        incident(r, rv, "lookup");
        return 0;
    }
    recovered(r);
    return opened(r, key, buf, got, entry, len, raw, raw_len);
}

/* A value read from the shared cache, opened as shared_get() says; a
 * fleet lock's claim in its place (README "The fleet lock") is no
 * entry. */
static int opened(request_rec *r, const unsigned char *key, unsigned char *buf,
                  apr_size_t got, unsigned char **entry, apr_size_t *len,
                  unsigned char **raw, apr_size_t *raw_len)
{
    if (oa2f_lock_is_claim(buf, got)) {
        return 0;
    }
    if (!open_value(r, key, buf, got, entry, len)) {
        oa2f_stats_count(oa2f_stats(), OA2F_C_CACHE_CORRUPT);
        ap_log_rerror(
            APLOG_MARK, APLOG_WARNING, 0, r,
            OA2F_LOGNO(
                10314) "ignoring a validation cache entry that does not "
                       "authenticate (%" APR_SIZE_T_FMT " bytes): changed, "
                       "truncated, moved, or sealed with another secret",
            got);
        return 0;
    }
    if (raw) {
        *raw = buf;
        *raw_len = got;
    }
    return 1;
}

/* README "Cache": the near cache's value of key, opened with the
 * fleet's seal and unwrapped (oa2f_near.h), while the fleet entry it
 * copies has not ended. A value that does not open is forgotten and a
 * miss, like a fleet value that does not. */
static int near_lookup(request_rec *r, const unsigned char *key, long long now,
                       unsigned char **entry, apr_size_t *len,
                       oa2f_cache_found_t *found)
{
    unsigned char *v, *plain;
    apr_size_t n, plen;
    const unsigned char *inner;
    long long until;

    if (!oa2f_near_get(r, key, now, &v, &n)) {
        oa2f_stats_count(oa2f_stats(), OA2F_C_NEAR_MISS);
        return 0;
    }
    if (!open_value(r, key, v, n, &plain, &plen)) {
        oa2f_stats_count(oa2f_stats(), OA2F_C_CACHE_CORRUPT);
        ap_log_rerror(
            APLOG_MARK, APLOG_WARNING, 0, r,
            OA2F_LOGNO(10905) "ignoring a near cache entry that "
                              "does not authenticate (%" APR_SIZE_T_FMT
                              " bytes)",
            n);
        oa2f_near_drop(r, key);
        oa2f_stats_count(oa2f_stats(), OA2F_C_NEAR_MISS);
        return 0;
    }
    if (!oa2f_near_unwrap(plain, plen, &until, &inner, len) || until <= now) {
        oa2f_near_drop(r, key);
        oa2f_stats_count(oa2f_stats(), OA2F_C_NEAR_MISS);
        return 0;
    }
    oa2f_stats_count(oa2f_stats(), OA2F_C_NEAR_HIT);
    *entry = (unsigned char *)inner;
    found->near = 1;
    found->fleet_until = until;
    return 1;
}

/* README "The fleet lock": the fleet cache's value of key, looked up
 * and claimed in one command; 0 on a miss (claimed, by us or another);
 * a redis that cannot claim is read as shared_get() reads it. */
static int claimed_get(request_rec *r, const unsigned char *key,
                       long long claim_ttl_ms, unsigned char **entry,
                       apr_size_t *len, unsigned char **raw,
                       apr_size_t *raw_len)
{
    unsigned char *buf;
    apr_size_t got;

    switch (oa2f_fleet_lock_claim(r, key, claim_ttl_ms,
                                  OA2F_CACHE_MAX_ENTRY + OA2F_NEAR_HEAD_LEN
                                      + OA2F_SEAL_OVERHEAD,
                                  &buf, &got)) {
    case OA2F_CLAIM_FOUND:
        return opened(r, key, buf, got, entry, len, raw, raw_len);
    case OA2F_CLAIM_TAKEN:
    case OA2F_CLAIM_BUSY:
        return 0;
    default:
        return shared_get(r, key, entry, len, raw, raw_len);
    }
}

int oa2f_cache_get(request_rec *r, const unsigned char *key, long long now,
                   int where, long long claim_ttl_ms, unsigned char **entry,
                   apr_size_t *len, oa2f_cache_found_t *found)
{
    unsigned char *plain;
    apr_size_t plen;
    const unsigned char *inner;
    int got;

    memset(found, 0, sizeof(*found));
    if (!nparts) {
        return 0;
    }
    if (where != OA2F_GET_FLEET) {
        if (oa2f_local_cache_get(local_copy, key, now, r->pool, entry, len)) {
            found->local = 1;
            return 1;
        }
        if (oa2f_near_on() && near_lookup(r, key, now, entry, len, found)) {
            return 1;
        }
        if (where == OA2F_GET_HERE) {
            return 0;
        }
    }
    got = claim_ttl_ms > 0 ? claimed_get(r, key, claim_ttl_ms, &plain, &plen,
                                         &found->raw, &found->raw_len)
                           : shared_get(r, key, &plain, &plen, &found->raw,
                                        &found->raw_len);
    if (!got) {
        return 0;
    }
    /* a fleet value carries the end of its entry; a bare entry (written
     * by an earlier version, or by a cache that is not a fleet's) does
     * not, and is never kept in the near cache */
    oa2f_near_unwrap(plain, plen, &found->fleet_until, &inner, len);
    if (found->fleet_until && found->fleet_until <= now) {
        return 0;
    }
    *entry = (unsigned char *)inner;
    return 1;
}

int oa2f_cache_get_shared(request_rec *r, const unsigned char *key,
                          unsigned char **value, apr_size_t *len)
{
    return nparts ? shared_get(r, key, value, len, NULL, NULL) : 0;
}

void oa2f_cache_keep(request_rec *r, const unsigned char *key, long long until,
                     const unsigned char *entry, apr_size_t len,
                     const oa2f_cache_found_t *found)
{
    long long now = (long long)apr_time_sec(apr_time_now());
    long long keep = oa2f_near_keep_until(until, found->fleet_until);

    if (found->near) {
        /* the near cache keeps answering it at little cost */
        oa2f_local_cache_offer(local_copy, key, now, keep, entry, len);
    }
    else {
        oa2f_local_cache_put(local_copy, key, now, keep, entry, len);
    }
    /* README "Cache": a fleet entry this server judged good is kept near
     * as the fleet holds it, sealed, as long as this location may reuse
     * it and the fleet keeps it; the part of a fleet entry past its reuse
     * time (StaleIfError) stays in the fleet, so that a newer validation
     * there is not hidden behind a stale near copy */
    if (!found->local && !found->near && found->raw && found->fleet_until > 0
        && oa2f_near_put(r, key, keep, found->raw, found->raw_len)) {
        oa2f_stats_count(oa2f_stats(), OA2F_C_NEAR_STORE);
    }
}

/* The instant the shared cache's entry of key ends when stored until
 * `until`: memcached reads long TTLs as absolute times. */
static apr_time_t expiry_of(const unsigned char *key, long long until)
{
    socache_t *part = parts[part_of(key)];
    apr_time_t expiry = apr_time_from_sec(until);

    if (part->max_ttl
        && expiry > apr_time_now() + apr_time_from_sec(part->max_ttl)) {
        expiry = apr_time_now() + apr_time_from_sec(part->max_ttl);
    }
    return expiry;
}

/* value sealed when a secret is set (the value itself otherwise); 0 when
 * sealing fails (an incident). */
static int seal_value(request_rec *r, const unsigned char *key,
                      const unsigned char *value, apr_size_t len,
                      unsigned char **out, apr_size_t *out_len)
{
    /* socache's store takes a buffer it does not change as non-const */
    *out = (unsigned char *)value;
    *out_len = len;
    if (sealed
        && !oa2f_seal(r->pool, &seal_key, key, OA2F_CACHE_KEY_LEN, value, len,
                      out, out_len)) {
        incident(r, APR_EGENERAL, "seal");
        return 0;
    }
    return 1;
}

/* Store a value as it is (sealed already) until expiry. */
static int store_raw(request_rec *r, const unsigned char *key,
                     apr_time_t expiry, unsigned char *value, apr_size_t len)
{
    int i = part_of(key);
    socache_t *part = parts[i];
    apr_status_t rv;

    /* sealed before locking: no cryptography under the part's mutex */
    if (!lock(r, i)) {
        return 0;
    }
    rv = part->provider->store(part->instance, r->server, key,
                               OA2F_CACHE_KEY_LEN, expiry, value,
                               (unsigned int)len, r->pool);
    unlock(i);
    if (rv != APR_SUCCESS) {
        incident(r, rv, "store");
        return 0;
    }
    recovered(r);
    return 1;
}

/* back ends count whole seconds: less than one left is no entry (and
 * redis would refuse an expiry of 0) */
static int too_short(apr_time_t expiry)
{
    return expiry - apr_time_now() < apr_time_from_sec(1);
}

static int shared_put(request_rec *r, const unsigned char *key,
                      long long until, const unsigned char *entry,
                      apr_size_t len)
{
    unsigned char *stored;
    apr_size_t stored_len;
    apr_time_t expiry;

    if (!nparts) {
        return 0;
    }
    expiry = expiry_of(key, until);
    if (too_short(expiry)
        || !seal_value(r, key, entry, len, &stored, &stored_len)) {
        return 0;
    }
    return store_raw(r, key, expiry, stored, stored_len);
}

int oa2f_cache_put(request_rec *r, const unsigned char *key, long long until,
                   long long keep_until, const unsigned char *entry,
                   apr_size_t len)
{
    const unsigned char *value = entry;
    unsigned char *wrapped, *stored;
    apr_size_t value_len = len, stored_len;
    apr_time_t expiry;
    long long fleet_until;
    int ok, near_ok = 0;

    if (!nparts) {
        return 0;
    }
    expiry = expiry_of(key, until);
    if (too_short(expiry)) {
        return 0;
    }
    fleet_until = (long long)apr_time_sec(expiry);
    /* README "Cache": a fleet value says when it ends, so that the near
     * caches that copy it never keep it longer */
    if (fleet) {
        oa2f_near_wrap(r->pool, fleet_until, entry, len, &wrapped, &value_len);
        value = wrapped;
    }
    if (!seal_value(r, key, value, value_len, &stored, &stored_len)) {
        return 0;
    }
    ok = store_raw(r, key, expiry, stored, stored_len);
    if (ok && fleet) {
        oa2f_fleet_lock_stored(r, key); /* over this request's claim */
    }
    /* this server's own validation is kept near too, also while the
     * fleet cache is down: for its reuse time, never past the fleet
     * entry's end */
    if (oa2f_near_on()
        && oa2f_near_put(r, key, oa2f_near_keep_until(keep_until, fleet_until),
                         stored, stored_len)) {
        oa2f_stats_count(oa2f_stats(), OA2F_C_NEAR_STORE);
        near_ok = 1;
    }
    if (!ok && !near_ok) {
        return 0;
    }
    oa2f_local_cache_put(
        local_copy, key, (long long)apr_time_sec(apr_time_now()),
        oa2f_near_keep_until(keep_until, fleet_until), entry, len);
    return ok ? OA2F_PUT_SHARED : OA2F_PUT_HERE;
}

int oa2f_cache_put_shared(request_rec *r, const unsigned char *key,
                          long long until, const unsigned char *value,
                          apr_size_t len)
{
    if (len > OA2F_CACHE_MAX_ENTRY) {
        return 0; /* would not come back out (shared_get's buffer) */
    }
    return shared_put(r, key, until, value, len);
}

int oa2f_cache_is_fleet(void)
{
    return nparts && fleet;
}

void oa2f_cache_forget_local(const unsigned char *key)
{
    oa2f_local_cache_drop(local_copy, key);
}

void oa2f_cache_forget_near(request_rec *r, const unsigned char *key)
{
    oa2f_near_drop(r, key);
}

/* README "Revocation": socache's remove, under the part's mutex. A
 * failure is an incident like any other; the revocation rules still
 * make the entry a miss. */
void oa2f_cache_remove(request_rec *r, const unsigned char *key)
{
    apr_status_t rv;
    socache_t *part;
    int i;

    if (!nparts) {
        return;
    }
    oa2f_cache_forget_local(key);
    oa2f_near_drop(r, key);
    i = part_of(key);
    part = parts[i];
    if (!lock(r, i)) {
        return;
    }
    rv = part->provider->remove(part->instance, r->server, key,
                                OA2F_CACHE_KEY_LEN, r->pool);
    unlock(i);
    /* shmcb and memcache say APR_NOTFOUND for a key they do not hold */
    if (rv != APR_SUCCESS && rv != APR_NOTFOUND) {
        incident(r, rv, "remove");
        return;
    }
    recovered(r);
}
