/* The fleet lock on this server's redis or memcache cache (see the
 * header). A request that needs the lock borrows a connection from its
 * child's idle ones (or opens one) on its first take and gives it back
 * with its pool, so that a new token costs no TCP handshake nor name
 * lookup; short timeouts, so that a fleet cache that hangs costs a
 * request a quarter of a second at most per step before this server
 * coalesces on its own. */
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
/* Idle connections a child keeps per lock server; more are closed. */
#define IDLE_MAX 64

typedef struct {
    const char *host;
    apr_port_t port;
    /* this child's idle connections to it, under idle_lock */
    oa2f_lock_conn_t *idle[IDLE_MAX];
    int nidle;
} lock_server_t;

/* This generation's view, set in post_config. */
static oa2f_lock_proto_e proto;
static lock_server_t servers[MAX_SERVERS];
static int nservers;
/* 1 while this process sees the lock's server failing (log once). */
static int lock_failing;
/* 1 when this child's redis refused a claim (before 7.0): lookups and
 * the lock are two commands from then on. */
static int claim_refused;
/* This child's: the lock on the idle connections, and what names a
 * holder (README "The fleet lock"): host and pid, and a nonce made
 * once and counted up per session. */
#if APR_HAS_THREADS
static apr_thread_mutex_t *idle_lock;
#endif
static int no_idle;
static char holder_host[64] = "?";
static apr_uint64_t holder_nonce;

/* One request's use of the lock. */
typedef struct {
    unsigned char key[OA2F_CACHE_KEY_LEN];
    oa2f_lock_conn_t *conn; /* borrowed until the request ends */
    lock_server_t *server;
    char name[OA2F_LOCK_NAME_LEN + 1];
    const char *value; /* names the holder: host, pid, thread, nonce */
    int held;
    int waiting; /* logged that another holds it */
    /* README "The fleet lock", the claim: the last claim's answer that
     * the next take has not used (-1: none), and whether the entry's
     * name holds our claim */
    int claim_answer;
    int claim_held;
} session_t;

void oa2f_fleet_lock_post_config(apr_pool_t *pconf, server_rec *s)
{
    const char *spec = oa2f_srv_cache_spec(s);
    const char *colon = spec ? strchr(spec, ':') : NULL;
    char *args, *tok, *last;

    nservers = 0;
    lock_failing = 0;
    claim_refused = 0;
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

static void idle_enter(void)
{
#if APR_HAS_THREADS
    if (idle_lock) {
        apr_thread_mutex_lock(idle_lock);
    }
#endif
}

static void idle_leave(void)
{
#if APR_HAS_THREADS
    if (idle_lock) {
        apr_thread_mutex_unlock(idle_lock);
    }
#endif
}

/* Close c and free its pool (its own: it outlives requests). */
static void conn_destroy(oa2f_lock_conn_t *c)
{
    apr_pool_destroy(oa2f_lock_conn_pool(c));
}

/* An open connection to sv: an idle one of this child's that is still
 * alive, or a new one in a pool of its own. */
static apr_status_t conn_borrow(lock_server_t *sv, oa2f_lock_conn_t **conn)
{
    apr_pool_t *cp;
    apr_status_t rv;

    for (;;) {
        oa2f_lock_conn_t *c = NULL;

        idle_enter();
        if (sv->nidle > 0) {
            c = sv->idle[--sv->nidle];
        }
        idle_leave();
        if (!c) {
            break;
        }
        if (oa2f_lock_conn_alive(c)) {
            *conn = c;
            return APR_SUCCESS;
        }
        /* closed by the server (a restart, its idle timeout) */
        conn_destroy(c);
    }
    if ((rv = apr_pool_create_unmanaged_ex(&cp, NULL, NULL)) != APR_SUCCESS) {
        return rv;
    }
    rv = oa2f_lock_connect(cp, proto, sv->host, sv->port, LOCK_TIMEOUT, conn);
    if (rv != APR_SUCCESS) {
        apr_pool_destroy(cp);
        *conn = NULL;
    }
    return rv;
}

/* Keep a connection that served its request without error for the next
 * one (a failed one was freed at once: conn_failed), or close it; the
 * next borrow checks that the server has not closed it meanwhile. */
static void conn_give_back(lock_server_t *sv, oa2f_lock_conn_t *c)
{
    int kept = 0;

    if (!no_idle) {
        idle_enter();
        if (sv->nidle < IDLE_MAX) {
            sv->idle[sv->nidle++] = c;
            kept = 1;
        }
        idle_leave();
    }
    if (!kept) {
        conn_destroy(c);
    }
}

/* The session's connection failed (the client closed it): freed now,
 * so that a later take in the same request connects anew. */
static void conn_failed(session_t *ss)
{
    if (ss->conn) {
        conn_destroy(ss->conn);
        ss->conn = NULL;
    }
}

static void claim_release(session_t *ss);

static apr_status_t session_end(void *data)
{
    session_t *ss = data;

    /* a claim nobody stored over (the request failed, or followed
     * another of this server's requests): freed for the next asker */
    if (ss->claim_held) {
        claim_release(ss);
    }
    if (ss->conn) {
        conn_give_back(ss->server, ss->conn);
        ss->conn = NULL;
    }
    return APR_SUCCESS;
}

/* The child ends: its idle connections are closed (their pools are
 * their own, not pchild's). */
static apr_status_t idle_close_all(void *unused)
{
    int i;

    (void)unused;
    idle_enter();
    for (i = 0; i < nservers; i++) {
        while (servers[i].nidle > 0) {
            servers[i].nidle--;
            conn_destroy(servers[i].idle[servers[i].nidle]);
        }
    }
    no_idle = 1; /* a request still running closes its own */
    idle_leave();
    return APR_SUCCESS;
}

void oa2f_fleet_lock_child_init(apr_pool_t *pchild, server_rec *s)
{
    int i;

    if (apr_gethostname(holder_host, sizeof(holder_host), pchild)
        != APR_SUCCESS) {
        apr_cpystrn(holder_host, "?", sizeof(holder_host));
    }
    if (apr_generate_random_bytes((unsigned char *)&holder_nonce,
                                  sizeof(holder_nonce))
        != APR_SUCCESS) {
        holder_nonce = (apr_uint64_t)apr_time_now();
    }
    for (i = 0; i < nservers; i++) {
        servers[i].nidle = 0;
    }
    no_idle = 0;
#if APR_HAS_THREADS
    idle_lock = NULL;
    if (nservers
        && apr_thread_mutex_create(&idle_lock, APR_THREAD_MUTEX_DEFAULT,
                                   pchild)
               != APR_SUCCESS) {
        /* without it, nothing is kept: a connection per request */
        ap_log_error(APLOG_MARK, APLOG_WARNING, 0, s,
                     OA2F_LOGNO(11007) "fleet lock: no mutex for this "
                                       "child's idle connections; each "
                                       "request opens its own");
        idle_lock = NULL;
        no_idle = 1;
    }
#endif
    if (nservers) {
        apr_pool_cleanup_register(pchild, NULL, idle_close_all,
                                  apr_pool_cleanup_null);
    }
}

/* The request's session for key, made on first use. */
static session_t *session_of(request_rec *r, const unsigned char *key)
{
    session_t *ss = NULL;

    apr_pool_userdata_get((void **)&ss, SESSION_KEY, r->pool);
    if (ss && !memcmp(ss->key, key, OA2F_CACHE_KEY_LEN)) {
        return ss;
    }
    ss = apr_pcalloc(r->pool, sizeof(*ss));
    memcpy(ss->key, key, OA2F_CACHE_KEY_LEN);
    ss->claim_answer = -1;
    /* keys are hash outputs: any byte spreads them over the servers;
     * every server of the fleet picks the same one for a key */
    ss->server = &servers[key[1] % nservers];
    oa2f_lock_name(key, ss->name);
    /* unique per session: a release compares it (README "The fleet
     * lock"); the child's random start keeps children and restarts
     * apart */
    ss->value = apr_psprintf(
        r->pool, "%.60s/%" APR_PID_T_FMT "/%lu/%016" APR_UINT64_T_HEX_FMT,
        holder_host, getpid(), (unsigned long)apr_os_thread_current(),
        __atomic_add_fetch(&holder_nonce, 1, __ATOMIC_RELAXED));
    apr_pool_userdata_setn(ss, SESSION_KEY, NULL, r->pool);
    apr_pool_cleanup_register(r->pool, ss, session_end, apr_pool_cleanup_null);
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
    if (ss->claim_answer == OA2F_CLAIM_TAKEN
        || ss->claim_answer == OA2F_CLAIM_BUSY) {
        /* the lookup just claimed the entry: that was the take */
        got = ss->claim_answer == OA2F_CLAIM_TAKEN ? OA2F_LOCK_TAKEN
                                                   : OA2F_LOCK_BUSY;
        ss->claim_answer = -1;
        goto answered;
    }
    if (ss->claim_answer == OA2F_CLAIM_FAILED) {
        /* the lock's server just failed this request: no lock */
        ss->claim_answer = -1;
        return OA2F_LOCK_NONE;
    }
    ss->claim_answer = -1;
    if (!ss->conn) {
        rv = conn_borrow(ss->server, &ss->conn);
        if (rv != APR_SUCCESS) {
            failed(r, ss, rv, "connecting");
            return OA2F_LOCK_NONE;
        }
    }
    got = oa2f_lock_take(ss->conn, ss->name, ss->value, ttl_ms);
    if (got == OA2F_LOCK_NONE) {
        conn_failed(ss);
        failed(r, ss, APR_SUCCESS, "taking the lock");
        return OA2F_LOCK_NONE;
    }
    worked(r, ss);
answered:
    if (got == OA2F_LOCK_TAKEN) {
        ss->held = !ss->claim_held;
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
    if (!ss || memcmp(ss->key, key, OA2F_CACHE_KEY_LEN)) {
        return;
    }
    if (ss->claim_held) {
        claim_release(ss);
        return;
    }
    if (!ss->held) {
        return;
    }
    ss->held = 0;
    rc = oa2f_lock_release(ss->conn, ss->name, ss->value);
    if (rc < 0) {
        conn_failed(ss);
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
}

int oa2f_fleet_claim_on(void)
{
    return nservers == 1 && proto == OA2F_LOCK_REDIS
           && !__atomic_load_n(&claim_refused, __ATOMIC_RELAXED);
}

/* The claim's value, in p: the prefix and the holder. */
static const char *claim_value(apr_pool_t *p, const session_t *ss)
{
    return apr_pstrcat(p, OA2F_CLAIM_PREFIX, ss->value, NULL);
}

oa2f_claim_e oa2f_fleet_lock_claim(request_rec *r, const unsigned char *key,
                                   long long ttl_ms, apr_size_t max,
                                   unsigned char **value, apr_size_t *len)
{
    char entry[OA2F_ENTRY_NAME_LEN + 1];
    session_t *ss;
    oa2f_claim_e got;
    apr_status_t rv;

    if (!oa2f_fleet_claim_on()) {
        return OA2F_CLAIM_REFUSED;
    }
    ss = session_of(r, key);
    ss->claim_answer = -1;
    if (ss->claim_held) {
        /* ours already (a second lookup of the request): nothing new */
        ss->claim_answer = OA2F_CLAIM_TAKEN;
        return OA2F_CLAIM_TAKEN;
    }
    if (!ss->conn) {
        rv = conn_borrow(ss->server, &ss->conn);
        if (rv != APR_SUCCESS) {
            failed(r, ss, rv, "connecting");
            ss->claim_answer = OA2F_CLAIM_FAILED;
            return OA2F_CLAIM_FAILED;
        }
    }
    oa2f_lock_entry_name(key, entry);
    got = oa2f_lock_claim(ss->conn, r->pool, entry, claim_value(r->pool, ss),
                          ttl_ms, max, value, len);
    switch (got) {
    case OA2F_CLAIM_FAILED:
        conn_failed(ss);
        failed(r, ss, APR_SUCCESS, "looking up and claiming an entry");
        ss->claim_answer = (int)got; /* no second try for the take */
        return got;
    case OA2F_CLAIM_REFUSED:
        if (!__atomic_exchange_n(&claim_refused, 1, __ATOMIC_ACQ_REL)) {
            ap_log_rerror(APLOG_MARK, APLOG_NOTICE, 0, r,
                          OA2F_LOGNO(11008) "fleet lock at %s:%d: redis "
                                            "refused SET ... NX GET (before "
                                            "7.0): a new token costs a "
                                            "lookup and a lock from now on",
                          ss->server->host, (int)ss->server->port);
        }
        return got;
    case OA2F_CLAIM_TAKEN:
        ss->claim_held = 1;
        /* fall through */
    case OA2F_CLAIM_BUSY:
        ss->claim_answer = (int)got;
        break;
    default:
        break;
    }
    worked(r, ss);
    return got;
}

void oa2f_fleet_lock_stored(request_rec *r, const unsigned char *key)
{
    session_t *ss = NULL;

    apr_pool_userdata_get((void **)&ss, SESSION_KEY, r->pool);
    if (ss && !memcmp(ss->key, key, OA2F_CACHE_KEY_LEN)) {
        ss->claim_held = 0; /* the entry took its place */
    }
}

/* Delete our claim, only while it is still ours (it may have expired
 * and been claimed by another, or been stored over). */
static void claim_release(session_t *ss)
{
    char entry[OA2F_ENTRY_NAME_LEN + 1];
    apr_pool_t *p = NULL;

    ss->claim_held = 0;
    if (!ss->conn
        || apr_pool_create(&p, oa2f_lock_conn_pool(ss->conn)) != APR_SUCCESS) {
        return; /* it expires by itself */
    }
    oa2f_lock_entry_name(ss->key, entry);
    if (oa2f_lock_release(ss->conn, entry, claim_value(p, ss)) < 0) {
        conn_failed(ss);
    }
    apr_pool_destroy(p);
}

void oa2f_fleet_lock_drop(request_rec *r, const unsigned char *key)
{
    session_t *ss;
    apr_status_t rv;

    if (!nservers) {
        return;
    }
    ss = session_of(r, key);
    if (!ss->conn) {
        rv = conn_borrow(ss->server, &ss->conn);
        if (rv != APR_SUCCESS) {
            failed(r, ss, rv, "connecting");
            return;
        }
    }
    if (oa2f_lock_drop(ss->conn, ss->name) < 0) {
        conn_failed(ss);
        failed(r, ss, APR_SUCCESS, "dropping a revoked token's lock");
        return;
    }
    worked(r, ss);
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
