/* Is an active answer about a bearer access token? (README "Trust
 * boundaries"): a token the provider says is of another type, another
 * use, or bound to a key the caller must prove it holds, is not a
 * bearer token, whatever scheme it was presented with. */
#ifndef OA2F_BEARER_H
#define OA2F_BEARER_H

#include <apr_pools.h>
#include "oa2f_claims.h"

/* OA2F_OK when c may pass as a bearer token; OA2F_INACTIVE (and *why)
 * otherwise. `own_token_type` is a token_type value that the dialect
 * itself uses as its mark of validity (may be NULL). When the token is
 * bound to a client certificate (RFC 8705 §3.1, cnf "x5t#S256"),
 * *x5t_s256 receives the thumbprint the caller's certificate must have
 * and OA2F_OK is returned: the caller checks it. Otherwise *x5t_s256 is
 * NULL. Costs one pass over the field names when there is no cnf. */
oa2f_outcome_e oa2f_bearer_check(apr_pool_t *p, const oa2f_claims_t *c,
                                 const char *own_token_type,
                                 const char **x5t_s256, const char **why);

/* base64url(SHA-256(DER)) of the first certificate in `pem` (RFC 8705
 * §3.1), or NULL when it does not parse. */
const char *oa2f_x5t_s256_of_pem(apr_pool_t *p, const char *pem);

#endif
