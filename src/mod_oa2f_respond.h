/* The one place where an outcome becomes an HTTP status, a challenge and
 * an error text, and where the 403 of a failed Require line is prepared
 * and taken back (mod_oa2f_respond.c). */
#ifndef MOD_OA2F_RESPOND_H
#define MOD_OA2F_RESPOND_H

#include <httpd.h>

#include "mod_oa2f_config.h"
#include "oa2f_outcome.h"

/* Set the status line's challenge and error text for `o`; returns the
 * HTTP status to answer with. `required_scope` is for 403 scope errors
 * (may be NULL). */
int oa2f_respond(request_rec *r, const oa2f_dir_conf_t *conf, oa2f_outcome_e o,
                 const char *why, const char *required_scope);
/* oa2f_respond(), and a 503 says Retry-After: retry_after seconds (0:
 * 1), README "Outages". */
int oa2f_respond_retry(request_rec *r, const oa2f_dir_conf_t *conf,
                       oa2f_outcome_e o, const char *why,
                       const char *required_scope, int retry_after);
/* A Require oauth2-* line failed; the 403 that mod_authz_core answers
 * unless another line grants (insufficient_scope, scope= when given). */
void oa2f_respond_forbidden(request_rec *r, const char *required_scope);
/* The request was allowed after all (a passing <RequireAny>): take back
 * what oa2f_respond_forbidden() prepared. */
void oa2f_respond_withdraw(request_rec *r);
/* note_auth_failure hook: mod_authz_core answers 401 itself. */
int oa2f_note_auth_failure(request_rec *r, const char *auth_type);

/* The one-line texts go out as text/plain; charset=utf-8: the filter's
 * registration (register_hooks) and its insert_error_filter hook. */
#define OA2F_PLAIN_BODY_FILTER "OAUTH2_FEDERATED_PLAIN_BODY"
void oa2f_respond_register_filter(void);
void oa2f_respond_insert_error_filter(request_rec *r);

#endif
