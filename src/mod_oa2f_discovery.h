/* OAuth2FederatedMetadataURL at request time (src/mod_oa2f_discovery.c,
 * README "Resource identity"). */
#ifndef MOD_OA2F_DISCOVERY_H
#define MOD_OA2F_DISCOVERY_H

#include <httpd.h>

#include "oa2f_http.h"
#include "oa2f_outcome.h"
#include "oa2f_provider.h"

/* child_init: this child's table of documents. */
void oa2f_discovery_child_init(apr_pool_t *pchild, server_rec *s);

/* The provider to call for scope (which has a metadata_url) and the
 * issuer its document declares: OA2F_OK with *out (scope itself when it
 * has an endpoint, else the one with the discovered endpoint) and
 * *issuer; otherwise OA2F_UNREACHABLE (the document cannot be had),
 * OA2F_BAD_ANSWER (it is unusable) or OA2F_INTERNAL, with *why. Errors
 * are logged here, once per incident. */
oa2f_outcome_e oa2f_discovery_resolve(request_rec *r,
                                      const oa2f_provider_t *scope,
                                      oa2f_http_pool_t *hp,
                                      const oa2f_provider_t **out,
                                      const char **issuer, const char **why);

/* README "Local JWT validation": the jwks_uri of scope's document as
 * last resolved in this child (oa2f_discovery_resolve first), or NULL. */
const char *oa2f_discovery_jwks_uri(const oa2f_provider_t *scope);

#endif
