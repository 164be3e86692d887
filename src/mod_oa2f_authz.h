/* Require oauth2-scope / oauth2-client-id / oauth2-claim
 * (src/mod_oa2f_authz.c). */
#ifndef MOD_OA2F_AUTHZ_H
#define MOD_OA2F_AUTHZ_H

#include <apr_pools.h>

/* register_hooks: the three providers, with mod_authz_core. */
void oa2f_register_authz_providers(apr_pool_t *p);

#endif
