/* The one place where an outcome becomes an HTTP status, a challenge and
 * an error text (src/mod_oa2f_respond.c). */
#ifndef MOD_OA2F_RESPOND_H
#define MOD_OA2F_RESPOND_H

#include <httpd.h>

#include "mod_oa2f_config.h"
#include "oa2f_outcome.h"

/* Set the status line's challenge and error text for `o`; returns the
 * HTTP status to answer with. `required_scope` is for 403 scope errors
 * (may be NULL). */
int oa2f_respond(request_rec *r, const oa2f_dir_conf_t *conf,
                 oa2f_outcome_e o, const char *why,
                 const char *required_scope);

#endif
