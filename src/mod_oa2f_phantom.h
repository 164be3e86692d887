/* The phantom token (src/mod_oa2f_phantom.c, README "Phantom token"): a
 * JWT signed by this server that carries the verdict to the backend,
 * and the handler that publishes its public key. */
#ifndef MOD_OA2F_PHANTOM_H
#define MOD_OA2F_PHANTOM_H

#include <httpd.h>

#include "mod_oa2f_authn.h"
#include "mod_oa2f_config.h"

/* child_init: this child's memo of signed JWTs. */
void oa2f_phantom_child_init(apr_pool_t *pchild, server_rec *s);

/* Fixups: the header named by OAuth2FederatedForwardJWT is removed from
 * what the client sent, and, when st is the request's verdict, set to a
 * JWT holding it (reused from the memo while more than half of its life
 * is left), as is OAUTH2_FEDERATED_JWT for subprocesses. */
void oa2f_phantom_fixup(request_rec *r, const oa2f_dir_conf_t *conf,
                        const oa2f_request_state_t *st);

/* SetHandler oauth2-federated-jwks: the public key as a JWKS. */
int oa2f_phantom_jwks_handler(request_rec *r);

/* check_config: every OAuth2FederatedForwardJWT other than Off needs an
 * OAuth2FederatedSigningKey; OK or an error status (logged). */
int oa2f_phantom_check_config(apr_pool_t *ptemp, server_rec *s);

#endif
