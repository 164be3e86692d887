/* The near cache (README "Cache"): with a redis or memcache cache, this
 * server's own shared-memory copy of fleet entries, sized by
 * OAuth2FederatedNearCache (oa2f_near_table.h). It holds the fleet's
 * sealed values as they are (oa2f_near.h inside, oa2f_seal.h around), so that what it answers
 * is opened and judged exactly like what the fleet answers. */
#ifndef MOD_OA2F_NEAR_H
#define MOD_OA2F_NEAR_H

#include <httpd.h>

#include "oa2f_keyer.h"

/* post_config: the table (found again after a graceful restart) when
 * fleet and the directive is not Off; off otherwise. OK or
 * HTTP_INTERNAL_SERVER_ERROR (logged). */
int oa2f_near_post_config(apr_pool_t *pconf, apr_pool_t *ptemp, server_rec *s,
                          int fleet, const char *fleet_spec);

/* 1 when this process has a near cache. */
int oa2f_near_on(void);

/* 1 and key's sealed value (*value[0..*len), in r->pool) while now is
 * before its end; 0 on a miss. */
int oa2f_near_get(request_rec *r, const unsigned char *key, long long now,
                  unsigned char **value, apr_size_t *len);

/* Keep value (sealed, as the fleet holds it) for key until `until`
 * (seconds since the epoch). 1 when stored. */
int oa2f_near_put(request_rec *r, const unsigned char *key, long long until,
                  const unsigned char *value, apr_size_t len);

/* Forget key's value (README "Revocation"). */
void oa2f_near_drop(request_rec *r, const unsigned char *key);

#endif
