/* One remote validation: dialect request, HTTP call, interpretation. */
#ifndef OA2F_REMOTE_H
#define OA2F_REMOTE_H

#include "oa2f_claims.h"
#include "oa2f_http.h"
#include "oa2f_provider.h"

typedef struct {
    oa2f_outcome_e outcome;
    oa2f_claims_t *claims;       /* set for OA2F_OK and OA2F_INACTIVE   */
    const char *why;             /* for logs; never contains the token  */
    long http_status;            /* the provider's status, 0 if none    */
    double elapsed;              /* seconds spent on the call           */
    int new_connection;
} oa2f_validation_t;

/* Ask the provider about token; result allocated in p. `now` is the
 * current time in seconds, used to reject already expired answers. */
void oa2f_remote_validate(oa2f_http_pool_t *hp, apr_pool_t *p,
                          const oa2f_provider_t *prov, const char *token,
                          oa2f_validation_t *out);

/* Final checks on an active answer: expiry not in the past. */
oa2f_outcome_e oa2f_validate_check_expiry(const oa2f_claims_t *c,
                                          long long now);

#endif
