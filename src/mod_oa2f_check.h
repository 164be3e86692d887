/* Start-up consistency checks (src/mod_oa2f_check.c). */
#ifndef MOD_OA2F_CHECK_H
#define MOD_OA2F_CHECK_H

#include <httpd.h>

/* check_config: OK, or an error status after logging every scope with
 * our AuthType that can inherit no endpoint. */
int oa2f_check_protected_scopes(apr_pool_t *ptemp, server_rec *s);

/* One warning per configuration line that starts but probably does not
 * do what was meant (README "Logging"): OAuth2FederatedSSLVerify Off, and
 * OAuth2FederatedSendTokenIn where the dialect is not openam. Run once
 * per generation of the configuration: by post_config after the first
 * pass, and by test_config for apachectl -t, which ends before it. */
void oa2f_check_warnings(apr_pool_t *ptemp, server_rec *s);

#endif
