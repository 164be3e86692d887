/* When the provider object of a scope is built
 * (src/mod_oa2f_conf_provider.c); read it with oa2f_conf_provider(). */
#ifndef MOD_OA2F_CONF_PROVIDER_H
#define MOD_OA2F_CONF_PROVIDER_H

#include <httpd.h>

/* post_config (s: the main server): the provider of every scope the
 * servers keep, with its cache keyer, in pconf. */
void oa2f_conf_providers_post_config(apr_pool_t *pconf, server_rec *s);
/* child_init: the table of providers this child builds on first use. */
void oa2f_conf_providers_child_init(apr_pool_t *pchild, server_rec *s);

/* README "Resource identity": the provider of scope with the endpoint
 * its metadata document named, built once per child for each (scope,
 * endpoint), so that its identity (cache keys) follows the discovered
 * endpoint and its keyer lives as long as the child. NULL in the
 * parent. */
#include "oa2f_provider.h"
const oa2f_provider_t *oa2f_conf_provider_discovered(
    const oa2f_provider_t *scope, const char *endpoint);

/* README "Revocation": the providers this process knows (those built at
 * configuration time and this child's own), as const oa2f_provider_t *
 * in an array in p; one provider may appear more than once. */
apr_array_header_t *oa2f_conf_providers_all(apr_pool_t *p);

#endif
