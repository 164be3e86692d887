/* Authentication (src/mod_oa2f_authn.c): the access and authn hooks, and
 * what a successful check leaves for the authz providers and fixups. */
#ifndef MOD_OA2F_AUTHN_H
#define MOD_OA2F_AUTHN_H

#include <httpd.h>

#include "oa2f_claims.h"

typedef struct {
    const oa2f_claims_t *claims;
    const char *user;
    const char *identity; /* provider it was validated against */
    /* the request's token, for its fingerprint in the authz providers'
     * log lines (oa2f_token_fingerprint()); never logged or passed on */
    const char *token;
} oa2f_request_state_t;

/* 1 when the request's AuthType is ours. */
int oa2f_is_ours(request_rec *r);
void oa2f_retrieve_optional_fns(void);
int oa2f_check_access(request_rec *r);
int oa2f_check_authn(request_rec *r);
void oa2f_child_init_http(apr_pool_t *p, server_rec *s);
/* The claims of this request (or of the main/previous request it came
 * from), or NULL when it was not authenticated by us. */
const oa2f_request_state_t *oa2f_request_state(request_rec *r);

#endif
