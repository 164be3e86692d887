/* Local JWT validation (src/mod_oa2f_jwks.c, README "Local JWT
 * validation"): the provider's JWKS, fetched on first need and shared by
 * the children, and the check of one JWS access token against it. */
#ifndef MOD_OA2F_JWKS_H
#define MOD_OA2F_JWKS_H

#include <httpd.h>

#include "mod_oa2f_config.h"
#include "oa2f_remote.h"

/* child_init: this child's key sets. */
void oa2f_jwks_child_init(apr_pool_t *pchild, server_rec *s);

/* Validate token locally for prov (which has local_jwt) with the key set
 * at jwks_url (NULL: none is known). 1 when that decided the verdict, in
 * *out (claims prepared, in r->pool): OA2F_OK, OA2F_INACTIVE (a JWS that
 * fails a check: 401 invalid_token, no provider call) or
 * OA2F_UNREACHABLE (the JWKS cannot be had); 0 when the token is not a
 * JWS, or its kid is in no key of the set even after one refresh: the
 * caller introspects it when there is an endpoint. */
int oa2f_jwt_local(request_rec *r, const oa2f_dir_conf_t *conf,
                   const oa2f_provider_t *prov, const char *jwks_url,
                   oa2f_http_pool_t *hp, const char *token,
                   oa2f_validation_t *out);

#endif
