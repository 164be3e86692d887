/* The fleet lock on this server's redis or memcache cache (see the
 * header). One connection per request that needs the lock, opened on
 * its first take and closed with the request's pool; short timeouts, so
 * that a fleet cache that hangs costs a request a quarter of a second
 * at most per step before this server coalesces on its own. */
#include <unistd.h>
#include <apr_strings.h>
#include <apr_thread_proc.h>
#include <apr_portable.h>

#include "mod_oa2f_private.h"
#include "mod_oa2f_config.h"
#include "mod_oa2f_fleet_lock.h"
#include "mod_oa2f_shm.h"

#define LOCK_TIMEOUT  apr_time_from_msec(250)
#define MAX_SERVERS   16
#define REDIS_PORT    6379
#define MEMCACHE_PORT 11211
#define SESSION_KEY   "oauth2-federated-fleet-lock"

typedef struct {
    const char *host;
    apr_port_t port;
} lock_server_t;

/* This generation's view, set in post_config. */
static oa2f_lock_proto_e proto;
static lock_server_t servers[MAX_SERVERS];
static int nservers;
/* 1 while this process sees the lock's server failing (log once). */
static int lock_failing;

/* One request's use of the lock. */
typedef struct {
    unsigned char key[OA2F_CACHE_KEY_LEN];
    oa2f_lock_conn_t *conn;
    const lock_server_t *server;
    char name[OA2F_LOCK_NAME_LEN + 1];
    const char *value; /* names the holder: host, pid, thread, nonce */
    int held;
    int waiting; /* logged that another holds it */
} session_t;

void oa2f_fleet_lock_post_config(apr_pool_t *pconf, server_rec *s)
{
    const char *spec = oa2f_srv_cache_spec(s);
    const char *colon = spec ? strchr(spec, ':') : NULL;
    char *args, *tok, *last;

    nservers = 0;
    lock_failing = 0;
    if (!colon) {
        return;
    }
    if (!strncasecmp(spec, "redis:", 6)) {
        proto = OA2F_LOCK_REDIS;
    }
    else if (!strncasecmp(spec, "memcache:", 9)) {
        proto = OA2F_LOCK_MEMCACHE;
    }
    else {
        return;
    }
    /* socache's own syntax: host[:port][,host[:port]…] */
    args = apr_pstrdup(pconf, colon + 1);
    for (tok = apr_strtok(args, ",", &last); tok && nservers < MAX_SERVERS;
         tok = apr_strtok(NULL, ",", &last)) {
        char *host = NULL, *scope = NULL;
        apr_port_t port = 0;

        if (apr_parse_addr_port(&host, &scope, &port, tok, pconf)
                != APR_SUCCESS
            || !host) {
            continue; /* the socache itself reports a bad address */
        }
        servers[nservers].host = host;
        servers[nservers].port =
            port ? port
                 : (proto == OA2F_LOCK_REDIS ? REDIS_PORT : MEMCACHE_PORT);
        nservers++;
    }
}

int oa2f_fleet_lock_enabled(void)
{
    return nservers > 0;
}

static void failed(request_rec *r, session_t *ss, apr_status_t rv,
                   const char *what)
{
    oa2f_stats_count(oa2f_stats(), OA2F_C_FLEET_LOCK_ERRORS);
    if (!__atomic_exchange_n(&lock_failing, 1, __ATOMIC_ACQ_REL)) {
        ap_log_rerror(APLOG_MARK, APLOG_WARNING, rv, r,
                      OA2F_LOGNO(11002) "fleet lock at %s:%d: %s failed; "
                                        "this server coalesces its own "
                                        "provider calls until it works "
                                        "again (logged once)",
                      ss->server->host, (int)ss->server->port, what);
    }
}

static void worked(request_rec *r, session_t *ss)
{
    if (__atomic_load_n(&lock_failing, __ATOMIC_ACQUIRE)
        && __atomic_exchange_n(&lock_failing, 0, __ATOMIC_ACQ_REL)) {
        ap_log_rerror(APLOG_MARK, APLOG_NOTICE, 0, r,
                      OA2F_LOGNO(11003) "fleet lock at %s:%d works again",
                      ss->server->host, (int)ss->server->port);
    }
}

/* The request's session for key, made on first use. */
static session_t *session_of(request_rec *r, const unsigned char *key)
{
    session_t *ss = NULL;
    char host[64];
    unsigned char nonce[8];

    apr_pool_userdata_get((void **)&ss, SESSION_KEY, r->pool);
    if (ss && !memcmp(ss->key, key, OA2F_CACHE_KEY_LEN)) {
        return ss;
    }
    ss = apr_pcalloc(r->pool, sizeof(*ss));
    memcpy(ss->key, key, OA2F_CACHE_KEY_LEN);
    /* keys are hash outputs: any byte spreads them over the servers;
     * every server of the fleet picks the same one for a key */
    ss->server = &servers[key[1] % nservers];
    oa2f_lock_name(key, ss->name);
    if (apr_gethostname(host, sizeof(host), r->pool) != APR_SUCCESS) {
        apr_cpystrn(host, "?", sizeof(host));
    }
    if (apr_generate_random_bytes(nonce, sizeof(nonce)) != APR_SUCCESS) {
        memset(nonce, 0, sizeof(nonce));
    }
    ss->value = apr_psprintf(
        r->pool,
        "%.60s/%" APR_PID_T_FMT "/%lu/%02x%02x%02x%02x%02x%02x%02x%02x", host,
        getpid(), (unsigned long)apr_os_thread_current(), nonce[0], nonce[1],
        nonce[2], nonce[3], nonce[4], nonce[5], nonce[6], nonce[7]);
    apr_pool_userdata_setn(ss, SESSION_KEY, NULL, r->pool);
    return ss;
}

/* The lock's name as logs show it: the start of its hex digest. */
static const char *shown(const session_t *ss)
{
    return ss->name + sizeof(OA2F_LOCK_NAME_PREFIX) - 1;
}

oa2f_lock_e oa2f_fleet_lock_take(request_rec *r, const unsigned char *key,
                                 long long ttl_ms)
{
    session_t *ss;
    oa2f_lock_e got;
    apr_status_t rv;

    if (!nservers) {
        return OA2F_LOCK_NONE;
    }
    ss = session_of(r, key);
    if (!ss->conn) {
        rv = oa2f_lock_connect(r->pool, proto, ss->server->host,
                               ss->server->port, LOCK_TIMEOUT, &ss->conn);
        if (rv != APR_SUCCESS) {
            ss->conn = NULL;
            failed(r, ss, rv, "connecting");
            return OA2F_LOCK_NONE;
        }
    }
    got = oa2f_lock_take(ss->conn, ss->name, ss->value, ttl_ms);
    if (got == OA2F_LOCK_NONE) {
        ss->conn = NULL; /* closed by the client; the next take reconnects */
        failed(r, ss, APR_SUCCESS, "taking the lock");
        return OA2F_LOCK_NONE;
    }
    worked(r, ss);
    if (got == OA2F_LOCK_TAKEN) {
        ss->held = 1;
        ap_log_rerror(
            APLOG_MARK, APLOG_DEBUG, 0, r,
            OA2F_LOGNO(11000) "fleet lock %.16s taken for %" APR_INT64_T_FMT
                              " ms "
                              "(holder %s): this server asks "
                              "the provider",
            shown(ss), (apr_int64_t)ttl_ms, ss->value);
    }
    else if (!ss->waiting) {
        ss->waiting = 1;
        ap_log_rerror(
            APLOG_MARK, APLOG_DEBUG, 0, r,
            OA2F_LOGNO(11001) "fleet lock %.16s is held by another "
                              "server: waiting up to %" APR_INT64_T_FMT
                              " ms for "
                              "its verdict",
            shown(ss), (apr_int64_t)ttl_ms);
    }
    return got;
}

void oa2f_fleet_lock_release(request_rec *r, const unsigned char *key)
{
    session_t *ss = NULL;
    int rc;

    apr_pool_userdata_get((void **)&ss, SESSION_KEY, r->pool);
    if (!ss || !ss->held || memcmp(ss->key, key, OA2F_CACHE_KEY_LEN)) {
        return;
    }
    ss->held = 0;
    rc = oa2f_lock_release(ss->conn, ss->name, ss->value);
    if (rc < 0) {
        ss->conn = NULL;
        /* it expires by itself */
        failed(r, ss, APR_SUCCESS, "releasing the lock");
        return;
    }
    if (rc == 0) {
        ap_log_rerror(APLOG_MARK, APLOG_DEBUG, 0, r,
                      OA2F_LOGNO(11004) "fleet lock %.16s had expired before "
                                        "its holder released it",
                      shown(ss));
    }
    oa2f_lock_close(ss->conn);
    ss->conn = NULL;
}

void oa2f_fleet_lock_drop(request_rec *r, const unsigned char *key)
{
    session_t *ss;
    oa2f_lock_conn_t *conn = NULL;
    apr_status_t rv;

    if (!nservers) {
        return;
    }
    ss = session_of(r, key);
    rv = oa2f_lock_connect(r->pool, proto, ss->server->host, ss->server->port,
                           LOCK_TIMEOUT, &conn);
    if (rv != APR_SUCCESS) {
        failed(r, ss, rv, "connecting");
        return;
    }
    if (oa2f_lock_drop(conn, ss->name) < 0) {
        failed(r, ss, APR_SUCCESS, "dropping a revoked token's lock");
        return;
    }
    worked(r, ss);
    oa2f_lock_close(conn);
}

void oa2f_fleet_lock_log_wait(request_rec *r, const unsigned char *key,
                              int gave_up, apr_size_t ms)
{
    char name[OA2F_LOCK_NAME_LEN + 1];

    oa2f_lock_name(key, name);
    if (gave_up) {
        ap_log_rerror(APLOG_MARK, APLOG_INFO, 0, r,
                      OA2F_LOGNO(11006) "fleet lock %.16s: no verdict from "
                                        "its holder within %" APR_SIZE_T_FMT
                                        " ms (the lock's expiry): this "
                                        "server asks the provider itself",
                      name + sizeof(OA2F_LOCK_NAME_PREFIX) - 1, ms);
    }
    else {
        ap_log_rerror(APLOG_MARK, APLOG_DEBUG, 0, r,
                      OA2F_LOGNO(11005) "fleet lock %.16s: another server's "
                                        "verdict came from the fleet cache "
                                        "after %" APR_SIZE_T_FMT " ms",
                      name + sizeof(OA2F_LOCK_NAME_PREFIX) - 1, ms);
    }
}
