/* Start-up consistency checks (src/mod_oa2f_check.c). */
#ifndef MOD_OA2F_CHECK_H
#define MOD_OA2F_CHECK_H

#include <httpd.h>

/* check_config: OK, or an error status after logging every scope with
 * our AuthType that can inherit no endpoint. */
int oa2f_check_protected_scopes(apr_pool_t *ptemp, server_rec *s);

#endif
