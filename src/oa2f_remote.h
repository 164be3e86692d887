/* One remote validation: dialect request, HTTP call, interpretation.
 * Whether the answer is still usable (its expiry) is the verdict's to
 * judge (oa2f_verdict.h). */
#ifndef OA2F_REMOTE_H
#define OA2F_REMOTE_H

#include "oa2f_claims.h"
#include "oa2f_http.h"
#include "oa2f_provider.h"

typedef struct {
    oa2f_outcome_e outcome;
    oa2f_claims_t *claims; /* set for OA2F_OK and OA2F_INACTIVE   */
    const char *why;       /* for logs; never contains the token  */
    double elapsed;        /* seconds spent on the call           */
    int new_connection;
    /* what the circuit breaker needs (README "Outages"): the provider's
     * HTTP status (0 when no answer came) and its Retry-After */
    long http_status;
    const char *provider_retry_after;
    /* seconds for the Retry-After of a 503 answer: until the circuit
     * lets the next probe through when it is open; 0 = 1 */
    int retry_after;
    /* README "Local JWT validation": 1 when the verdict was made here,
     * without a provider call (not counted as one) */
    int local;
} oa2f_validation_t;

/* Ask the provider about token; result allocated in p. The claims of an
 * answer are prepared (oa2f_claims_prepare) and hold no copy of the
 * token. */
void oa2f_remote_validate(oa2f_http_pool_t *hp, apr_pool_t *p,
                          const oa2f_provider_t *prov, const char *token,
                          oa2f_validation_t *out);

#endif
