/* The fleet lock (README "Cache", "The fleet lock"): with a redis or
 * memcached cache shared by several servers, the first server to miss a
 * new token takes a lock in that cache before it asks the provider, so
 * that concurrent first requests at other servers wait for its verdict
 * instead of asking too.
 *
 * This is the httpd-free half: the lock's name (derived from the
 * token's cache key, never from the token), its timing (expiry, the
 * waiter's bounded back-off), the two wire protocols (redis RESP,
 * `SET k v NX PX ms` and a compare-and-delete script; memcached's text
 * protocol, `add`, then `gets` and `cas` with an expiry in the past),
 * and a tiny blocking client on apr_socket with short timeouts. */
#ifndef OA2F_FLEET_LOCK_H
#define OA2F_FLEET_LOCK_H

#include <apr_network_io.h>
#include <apr_pools.h>

#include "oa2f_keyer.h"

typedef enum { OA2F_LOCK_REDIS, OA2F_LOCK_MEMCACHE } oa2f_lock_proto_e;

typedef enum {
    OA2F_LOCK_TAKEN, /* ours until released, or until it expires        */
    OA2F_LOCK_BUSY,  /* another holder has it                           */
    OA2F_LOCK_NONE   /* no lock to be had: no fleet cache, or it failed */
} oa2f_lock_e;

/* ---- timing ------------------------------------------------------------ */

/* The lock's expiry, milliseconds: the provider's total timeout plus one
 * second, so that a holder that dies holds nobody up for longer than a
 * call could have taken. */
long long oa2f_lock_ttl_ms(int total_timeout_ms);

/* memcached counts expiries in whole seconds on a clock that ticks once
 * a second: the ttl rounded up, plus one second, so that the lock never
 * lapses before ttl_ms (a waiter still gives up at ttl_ms). */
long long oa2f_lock_ttl_s(long long ttl_ms);

/* Shortest and longest nap of a waiter between two polls. */
#define OA2F_LOCK_NAP_MIN_US 10000LL
#define OA2F_LOCK_NAP_MAX_US 200000LL

/* A waiter: it polls from when it found the lock taken until the lock's
 * expiry has passed, then asks the provider itself. */
typedef struct {
    long long deadline_us;
    long long nap_us; /* the next nap, before the deadline's cut */
} oa2f_lock_wait_t;

void oa2f_lock_wait_begin(oa2f_lock_wait_t *w, long long now_us,
                          long long ttl_ms);

/* How long to nap before the next poll: the back-off doubles from
 * OA2F_LOCK_NAP_MIN_US to OA2F_LOCK_NAP_MAX_US and never goes past the
 * deadline; 0 once the deadline has passed (stop waiting). */
long long oa2f_lock_wait_next(oa2f_lock_wait_t *w, long long now_us);

/* ---- names -------------------------------------------------------------- */

#define OA2F_LOCK_NAME_PREFIX "oauth2-federated-lock:"
/* the prefix and 64 hex digits */
#define OA2F_LOCK_NAME_LEN (sizeof(OA2F_LOCK_NAME_PREFIX) - 1 + 64)
/* Longest holder value (README: it names the holder, for operators). */
#define OA2F_LOCK_VALUE_MAX 128

/* The lock's name for the cache key: the prefix and the hex of
 * SHA-256("oauth2-federated fleet lock" || key), so that it says nothing
 * of the token nor names the entry itself. name has room for
 * OA2F_LOCK_NAME_LEN + 1 bytes. */
void oa2f_lock_name(const unsigned char key[OA2F_CACHE_KEY_LEN],
                    char name[OA2F_LOCK_NAME_LEN + 1]);

/* ---- wire protocol ----------------------------------------------------- */

/* The request that takes the lock `name` for `value` during ttl_ms, in
 * p; *len its length. */
const char *oa2f_lock_req_take(apr_pool_t *p, oa2f_lock_proto_e proto,
                               const char *name, const char *value,
                               long long ttl_ms, apr_size_t *len);

/* redis: the compare-and-delete script (EVAL); memcached: the `gets`
 * that fetches the value and its cas unique first. */
const char *oa2f_lock_req_release(apr_pool_t *p, oa2f_lock_proto_e proto,
                                  const char *name, const char *value,
                                  apr_size_t *len);

/* The request that deletes the lock `name` whoever holds it (redis DEL,
 * memcached delete): for an entry removed by a revocation, whose lock
 * may have been left to expire (README "Cache"). */
const char *oa2f_lock_req_drop(apr_pool_t *p, oa2f_lock_proto_e proto,
                               const char *name, apr_size_t *len);

/* memcached: the `cas` that replaces our value with one already
 * expired, i.e. deletes it only while it is still ours. */
const char *oa2f_lock_req_mc_expire(apr_pool_t *p, const char *name,
                                    const char *value, unsigned long long cas,
                                    apr_size_t *len);

typedef enum {
    OA2F_REPLY_REFUSED = -3, /* redis refused the command (-ERR): too old */
    OA2F_REPLY_MORE = -2,    /* incomplete: read more                     */
    OA2F_REPLY_ERROR = -1,
    OA2F_REPLY_NO = 0, /* not stored / nil / 0 / not ours / absent   */
    OA2F_REPLY_YES = 1 /* stored / OK / 1                            */
} oa2f_reply_e;

/* The reply to a take, or to redis's compare-and-delete, or to
 * memcached's `cas`, in buf[0..len). */
oa2f_reply_e oa2f_lock_parse_reply(oa2f_lock_proto_e proto, const char *buf,
                                   apr_size_t len);

/* The reply to a drop: YES deleted (redis `:1`, memcached `DELETED`),
 * NO there was none (`:0`, `NOT_FOUND`); a take's `+OK` or `STORED`
 * is an error here, as `DELETED` is to a take. */
oa2f_reply_e oa2f_lock_parse_drop(oa2f_lock_proto_e proto, const char *buf,
                                  apr_size_t len);

/* memcached's reply to `gets name`: YES with *cas when it holds exactly
 * `value`; NO when absent or another value. */
oa2f_reply_e oa2f_lock_parse_mc_gets(const char *buf, apr_size_t len,
                                     const char *name, const char *value,
                                     unsigned long long *cas);

/* ---- the claim (redis 7) ----------------------------------------------- */

/* README "The fleet lock": with one redis server, the lookup of a new
 * token's entry and the lock are one command, `SET <entry> <claim> NX
 * PX ttl GET` on the entry's own name: it answers the entry when there
 * is one (a hit, or another server's claim: busy), and otherwise leaves
 * this server's claim there, which the store then overwrites. */

/* The namespace mod_socache_redis and mod_socache_memcache are opened
 * with: the entry of key is named "<namespace>:<hex of key>". */
#define OA2F_CACHE_NAMESPACE "oauth2-federated"
#define OA2F_ENTRY_NAME_LEN  (sizeof(OA2F_CACHE_NAMESPACE) + 64)

/* What a claim's value starts with: no sealed entry (random nonce
 * first) nor bare entry ("OA2F", "OA2N") does. */
#define OA2F_CLAIM_PREFIX "oauth2-federated-claim:"

/* The name socache gives key's entry. name has OA2F_ENTRY_NAME_LEN + 1
 * bytes. */
void oa2f_lock_entry_name(const unsigned char key[OA2F_CACHE_KEY_LEN],
                          char name[OA2F_ENTRY_NAME_LEN + 1]);

/* 1 when value[0..len) is a claim, not an entry. */
int oa2f_lock_is_claim(const unsigned char *value, apr_size_t len);

/* `SET entry claim NX PX ttl_ms GET` in RESP, in p. */
const char *oa2f_lock_req_claim(apr_pool_t *p, const char *entry,
                                const char *claim, long long ttl_ms,
                                apr_size_t *len);

/* The reply to a claim in buf[0..len), of at most cap bytes in all: YES
 * with the value at buf[*off..*off + *vlen); NO for nil (nothing was
 * there: the claim is ours); REFUSED for `-ERR syntax error` (a redis
 * before 7.0); ERROR for anything else, or a value that cannot fit in
 * cap. */
oa2f_reply_e oa2f_lock_parse_claim(const char *buf, apr_size_t len,
                                   apr_size_t cap, apr_size_t *off,
                                   apr_size_t *vlen);

typedef enum {
    OA2F_CLAIM_TAKEN,   /* nothing was there: our claim is             */
    OA2F_CLAIM_BUSY,    /* another holder's claim is there             */
    OA2F_CLAIM_FOUND,   /* an entry is there (*value, *vlen)           */
    OA2F_CLAIM_REFUSED, /* the server cannot claim (before redis 7.0)  */
    OA2F_CLAIM_FAILED   /* an error: the connection is closed          */
} oa2f_claim_e;

/* ---- client ------------------------------------------------------------ */

typedef struct oa2f_lock_conn_t oa2f_lock_conn_t;

/* Connect to host:port with `timeout` for the connection and for each
 * request after it; the socket lives in p. APR_SUCCESS or the error. */
apr_status_t oa2f_lock_connect(apr_pool_t *p, oa2f_lock_proto_e proto,
                               const char *host, apr_port_t port,
                               apr_interval_time_t timeout,
                               oa2f_lock_conn_t **conn);

/* Take the lock `name` for `value` (ttl_ms): TAKEN, BUSY, or NONE on any
 * error (the connection is then closed and unusable). */
oa2f_lock_e oa2f_lock_take(oa2f_lock_conn_t *c, const char *name,
                           const char *value, long long ttl_ms);

/* Release it if it is still ours: 1 released, 0 not ours (expired, or
 * taken by another since), -1 an error. */
int oa2f_lock_release(oa2f_lock_conn_t *c, const char *name,
                      const char *value);

/* Delete the lock `name` whoever holds it: 1 deleted, 0 there was
 * none, -1 an error. */
int oa2f_lock_drop(oa2f_lock_conn_t *c, const char *name);

/* Claim the entry `entry` for `claim` (ttl_ms) on a redis
 * connection: an entry found of at most max bytes is copied into p. */
oa2f_claim_e oa2f_lock_claim(oa2f_lock_conn_t *c, apr_pool_t *p,
                             const char *entry, const char *claim,
                             long long ttl_ms, apr_size_t max,
                             unsigned char **value, apr_size_t *vlen);

/* Close the connection (also done by p's cleanup). */
void oa2f_lock_close(oa2f_lock_conn_t *c);

/* 1 when an idle connection can take another request: open, the peer
 * has not closed it, and no unasked-for bytes wait; otherwise it is
 * closed and 0. One non-blocking read, for a connection kept between
 * requests. The requests of take, release and drop are built in
 * subpools of the connection's pool, freed when each returns. */
int oa2f_lock_conn_alive(oa2f_lock_conn_t *c);

/* The pool the connection lives in (oa2f_lock_connect's p): a caller that
 * gave it a pool of its own frees the connection by destroying it. */
apr_pool_t *oa2f_lock_conn_pool(const oa2f_lock_conn_t *c);

#endif
