/* The validation cache on httpd's socache providers, with this child's
 * own copy in front of it (README "Cache"). Entries go in and out as
 * the encoded bytes of oa2f_cache_entry.h, opened when sealed. */
#ifndef MOD_OA2F_SOCACHE_H
#define MOD_OA2F_SOCACHE_H

#include <httpd.h>

#include "oa2f_keyer.h"
#include "oa2f_provider.h"

/* The hooks' share: the default socache and the mutex type (pre_config),
 * the provider's presence and OAuth2FederatedCacheSecret for shared back
 * ends (check_config, also for `apachectl -t`), the parts and the
 * shared-memory segment (post_config), mutexes, the per-child copy and
 * the key memo (child_init). */
int oa2f_cache_pre_config(apr_pool_t *pconf);
int oa2f_cache_check_config(apr_pool_t *pconf, server_rec *s);
int oa2f_cache_post_config(apr_pool_t *pconf, apr_pool_t *ptemp,
                           server_rec *s);
void oa2f_cache_child_init(apr_pool_t *p, server_rec *s);

/* 1 and the cache key of token for prov (oa2f_keyer.h, remembered by
 * this child); 0 when there is no cache or no key. */
int oa2f_cache_key_of(const oa2f_provider_t *prov, const char *token,
                      unsigned char key[OA2F_CACHE_KEY_LEN]);

/* Where a lookup found its entry. */
typedef struct {
    int local;             /* this child's copy (plaintext, kept)      */
    int near;              /* this server's near cache (README "Cache") */
    long long fleet_until; /* the end of the fleet entry; 0: unknown   */
    unsigned char *raw;    /* from the fleet: the value as stored      */
    apr_size_t raw_len;
} oa2f_cache_found_t;

/* 1 and the entry of key (*entry[0..*len), in r->pool): from this
 * child's copy while `now` is before its end, else from the near cache
 * (with a fleet cache), else from the shared cache, opened when sealed;
 * 0 on a miss, an error, or an entry that does not authenticate.
 * *found says where it came from. where (oa2f_verdict.h): OA2F_GET_ALL,
 * OA2F_GET_HERE (not the fleet cache) or OA2F_GET_FLEET (the fleet
 * cache alone); claim_ttl_ms > 0: the fleet cache's lookup also claims
 * key for that long (README "The fleet lock", oa2f_fleet_lock_claim()). */
int oa2f_cache_get(request_rec *r, const unsigned char *key, long long now,
                   int where, long long claim_ttl_ms, unsigned char **entry,
                   apr_size_t *len, oa2f_cache_found_t *found);

/* Let this child answer the next lookups of key until `until` (seconds
 * since epoch; no later than the fleet entry's end) from its own copy;
 * an entry found in the fleet cache goes into the near cache too, as
 * it was stored there, for as long. */
void oa2f_cache_keep(request_rec *r, const unsigned char *key, long long until,
                     const unsigned char *entry, apr_size_t len,
                     const oa2f_cache_found_t *found);

/* Store entry under key until `until`, sealed when a secret is set (a
 * fleet cache's value also says when it ends, oa2f_near.h), keep it in
 * the near cache and in this child's copy until keep_until (no later
 * than until); OA2F_PUT_SHARED when the shared cache took it,
 * OA2F_PUT_HERE when only the near cache did, 0 when neither did.
 * Errors are logged once per incident and otherwise ignored. */
int oa2f_cache_put(request_rec *r, const unsigned char *key, long long until,
                   long long keep_until, const unsigned char *entry,
                   apr_size_t len);

/* The shared cache alone, for values other than validations (the
 * metadata documents of README "Resource identity"): key names them
 * apart from every token's key (another derivation). 1 and the value in
 * r->pool, opened when sealed; 0 on a miss or an error. */
int oa2f_cache_get_shared(request_rec *r, const unsigned char *key,
                          unsigned char **value, apr_size_t *len);
/* Store value under key until `until`, sealed when a secret is set; not
 * in this child's copy. Values over OA2F_CACHE_MAX_ENTRY are not stored.
 * 1 when stored. */
int oa2f_cache_put_shared(request_rec *r, const unsigned char *key,
                          long long until, const unsigned char *value,
                          apr_size_t len);

/* README "Revocation": remove key's entry from the shared cache, the
 * near cache and this child's copy. */
void oa2f_cache_remove(request_rec *r, const unsigned char *key);

/* Forget key's entry in this child's copy only (README "Revocation": a
 * revoked entry there may be older than the shared cache's). */
void oa2f_cache_forget_local(const unsigned char *key);

/* Forget key's entry in this server's near cache (README "Revocation"). */
void oa2f_cache_forget_near(request_rec *r, const unsigned char *key);

/* 1 when the cache is shared with other servers (redis, memcache). */
int oa2f_cache_is_fleet(void);

#endif
