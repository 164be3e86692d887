/* RFC 9728 protected-resource metadata (src/mod_oa2f_prm.c, README
 * "Resource identity"): the documents, built once after the
 * configuration is read, and the handler that serves them. */
#ifndef MOD_OA2F_PRM_H
#define MOD_OA2F_PRM_H

#include <httpd.h>

/* The RFC 9728 §3.1 well-known prefix. */
#define OA2F_PRM_WELL_KNOWN "/.well-known/oauth-protected-resource"

/* The absolute URL of the metadata document of resource (an absolute
 * URI): its scheme and host, the well-known prefix, then its path. */
const char *oa2f_prm_url(apr_pool_t *p, const char *resource);
/* post_config: the document of every scope with a Resource under
 * AuthType oauth2-federated, for every server. */
void oa2f_prm_post_config(apr_pool_t *pconf, apr_pool_t *ptemp, server_rec *s);
/* quick_handler: a GET or HEAD of a document's path, before any access
 * control of the URL space applies. */
int oa2f_prm_quick_handler(request_rec *r, int lookup_uri);

#endif
