/* The fleet lock on this server's redis or memcache cache (README
 * "Cache", "The fleet lock"): where it is, who holds it, and the log
 * lines and counters around it. The protocol and the timing are the
 * core's (oa2f_fleet_lock.h); the policy is oa2f_verdict.c's. */
#ifndef MOD_OA2F_FLEET_LOCK_H
#define MOD_OA2F_FLEET_LOCK_H

#include <httpd.h>

#include "oa2f_fleet_lock.h"
#include "oa2f_keyer.h"

/* post_config: the lock's servers from OAuth2FederatedCache (the redis
 * or memcache hosts; none for any other cache). */
void oa2f_fleet_lock_post_config(apr_pool_t *pconf, server_rec *s);

/* child_init: this child's idle connections (none yet) and what names
 * its sessions as holders. */
void oa2f_fleet_lock_child_init(apr_pool_t *pchild, server_rec *s);

/* 1 when the cache is a fleet's and has a lock. */
int oa2f_fleet_lock_enabled(void);

/* README "The fleet lock": 1 when a lookup in the fleet cache may also
 * take the lock (oa2f_fleet_lock_claim): one redis server, 7.0 or later
 * (a refusal turns it off for this child). */
int oa2f_fleet_claim_on(void);

/* Look key's entry up and claim it for ttl_ms in one command: FOUND
 * with the value as the fleet cache holds it (in r->pool, at most max
 * bytes); TAKEN or BUSY, which the next oa2f_fleet_lock_take() of the
 * request answers without asking again; REFUSED or FAILED: the caller
 * reads the cache as before. */
oa2f_claim_e oa2f_fleet_lock_claim(request_rec *r, const unsigned char *key,
                                   long long ttl_ms, apr_size_t max,
                                   unsigned char **value, apr_size_t *len);

/* key's entry was stored in the fleet cache: a claim there is gone. */
void oa2f_fleet_lock_stored(request_rec *r, const unsigned char *key);

/* Take key's lock for ttl_ms on its server, for this request (its
 * connection and holder value live in r->pool): TAKEN, BUSY, or NONE
 * when the server cannot be asked (logged once per incident, counted
 * as fleet_lock_errors). */
oa2f_lock_e oa2f_fleet_lock_take(request_rec *r, const unsigned char *key,
                                 long long ttl_ms);

/* Release key's lock (or claim) if this request still holds it; a
 * claim still held when the request ends is released then. */
void oa2f_fleet_lock_release(request_rec *r, const unsigned char *key);

/* Delete key's lock whoever holds it (its entry was just removed by a
 * revocation: a lock left to expire would hold the next request up). */
void oa2f_fleet_lock_drop(request_rec *r, const unsigned char *key);

/* The log line of a wait that ended: with another server's verdict
 * (gave_up 0) or with none within the lock's expiry; ms waited. */
void oa2f_fleet_lock_log_wait(request_rec *r, const unsigned char *key,
                              int gave_up, apr_size_t ms);

#endif
