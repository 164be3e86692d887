/* SetHandler oauth2-federated-revoke and the revocation rules on the
 * request path (README "Revocation"). */
#ifndef MOD_OA2F_REVOKE_H
#define MOD_OA2F_REVOKE_H

#include <httpd.h>

#include "oa2f_claims.h"
#include "oa2f_keyer.h"

/* post_config, after the cache's: the longest reuse time of the
 * configuration (rule lifetime) and the fleet list's name. */
void oa2f_revoke_post_config(apr_pool_t *ptemp, server_rec *s);

/* The handler: 204, 400 or 405; DECLINED for other handlers. */
int oa2f_revoke_handler(request_rec *r);

/* Seconds: no verdict validated longer ago is served (the server's
 * longest CacheMaxTTL, 24 h when one is unset, at most 24 h). */
long long oa2f_revoke_reuse_cap(void);

/* 1 when a rule revokes this entry (oa2f_verdict_impl_t's revoked). */
int oa2f_revoke_covers(const unsigned char *key, const oa2f_claims_t *c,
                       long long validated_at);

/* With a redis or memcache cache: at most one request per server and
 * interval reads the fleet's rules into the table, before its lookup. */
void oa2f_revoke_sync(request_rec *r);

/* Live rules, for the status page. */
unsigned oa2f_revoke_live_rules(void);

#endif
