/* The near cache (README "Cache"): with a redis or memcache cache, this
 * server's own shmcb copy of fleet entries, sized by
 * OAuth2FederatedNearCache. It holds the fleet's sealed values as they
 * are (oa2f_near.h inside, oa2f_seal.h around), so that what it answers
 * is opened and judged exactly like what the fleet answers. */
#ifndef MOD_OA2F_NEAR_H
#define MOD_OA2F_NEAR_H

#include <httpd.h>

#include "oa2f_keyer.h"

/* check_config: with a fleet cache and the near cache on, the shmcb
 * provider must be there. OK or HTTP_INTERNAL_SERVER_ERROR (logged). */
int oa2f_near_check_config(apr_pool_t *pconf, server_rec *s, int fleet);

/* post_config: the shmcb instance (found again after a graceful
 * restart) and its mutex when fleet and the directive is not Off; off
 * otherwise. OK or HTTP_INTERNAL_SERVER_ERROR (logged). */
int oa2f_near_post_config(apr_pool_t *pconf, apr_pool_t *ptemp, server_rec *s,
                          int fleet, const char *fleet_spec);

/* child_init: re-attach the mutex (off in this process if it fails). */
void oa2f_near_child_init(apr_pool_t *p, server_rec *s);

/* 1 when this process has a near cache. */
int oa2f_near_on(void);

/* 1 and key's sealed value (*value[0..*len), in r->pool) while it has
 * not expired; 0 on a miss or an error (errors are misses). */
int oa2f_near_get(request_rec *r, const unsigned char *key,
                  unsigned char **value, apr_size_t *len);

/* Keep value (sealed, as the fleet holds it) for key until `until`
 * (seconds since the epoch). 1 when stored. */
int oa2f_near_put(request_rec *r, const unsigned char *key, long long until,
                  const unsigned char *value, apr_size_t len);

/* Forget key's value (README "Revocation"). */
void oa2f_near_drop(request_rec *r, const unsigned char *key);

#endif
