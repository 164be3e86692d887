/* What the backend receives (src/mod_oa2f_enrich.c). */
#ifndef MOD_OA2F_ENRICH_H
#define MOD_OA2F_ENRICH_H

#include <httpd.h>

/* post_read_request: drop client-sent headers with any of our prefixes. */
int oa2f_strip_client_headers(request_rec *r);
/* first fixup: take back the 403 a failed line of a passing
 * <RequireAny> prepared */
int oa2f_allowed_fixup(request_rec *r);
/* fixups: the provider's fields as headers and environment variables. */
int oa2f_enrich_fixup(request_rec *r);

#endif
