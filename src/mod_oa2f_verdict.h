/* The verdict of one request on this server (oa2f_verdict.h on the
 * socache, the shared flight table and libcurl). */
#ifndef MOD_OA2F_VERDICT_H
#define MOD_OA2F_VERDICT_H

#include <httpd.h>

#include "mod_oa2f_config.h"
#include "oa2f_remote.h"

/* The verdict on token for this location, asking prov (the location's
 * provider, or the one with its discovered endpoint), in *out (in
 * r->pool). hp is this child's provider connection pool (NULL: an
 * internal error). */
void oa2f_request_verdict(request_rec *r, const oa2f_dir_conf_t *conf,
                          const oa2f_provider_t *prov, oa2f_http_pool_t *hp,
                          const char *token, oa2f_validation_t *out);

/* What log lines call prov's endpoint (README "Logging"): the URL
 * without user info, query and fragment (oa2f_breaker_shown_url()), in
 * p; "(none)" before discovery gave one. */
const char *oa2f_shown_endpoint(apr_pool_t *p, const oa2f_provider_t *prov);

#endif
