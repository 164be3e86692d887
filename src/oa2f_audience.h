/* Is the token meant for this resource, and from a trusted issuer?
 * (README "Resource identity"; RFC 8707 §2, RFC 9068 §4, RFC 7519
 * §4.1.1 and §4.1.3). Applied per request to fresh and cached verdicts
 * alike, with the lists of the location at hand, so that one cached
 * validation serves locations with different audiences. */
#ifndef OA2F_AUDIENCE_H
#define OA2F_AUDIENCE_H

#include <apr_pools.h>
#include <apr_tables.h>
#include "oa2f_claims.h"

/* OA2F_OK when `audiences` (const char *) is NULL or empty, or when the
 * answer's aud is a string equal to one of them or an array with a
 * string element equal to one of them (exact, case-sensitive match);
 * otherwise OA2F_WRONG_AUDIENCE and *why. A missing aud, a number, a
 * boolean, an object, an empty array or an array without a matching
 * string element is refused. */
oa2f_outcome_e oa2f_audience_check(apr_pool_t *p, const oa2f_claims_t *c,
                                   const apr_array_header_t *audiences,
                                   const char **why);

/* OA2F_OK when `issuers` is NULL or empty, or when the answer's iss is
 * a string equal to one of them, byte for byte (no trailing-slash or
 * case normalisation, as RFC 8414 §3.3 compares issuers); otherwise
 * OA2F_WRONG_ISSUER and *why, a missing iss included. */
oa2f_outcome_e oa2f_issuer_check(apr_pool_t *p, const oa2f_claims_t *c,
                                 const apr_array_header_t *issuers,
                                 const char **why);

/* The issuer check when the issuer comes from the metadata document only
 * (README "Resource identity"): OA2F_OK when `issuer` is NULL or the
 * answer has no iss; a present iss must equal it as above. */
oa2f_outcome_e oa2f_issuer_check_discovered(apr_pool_t *p,
                                            const oa2f_claims_t *c,
                                            const char *issuer,
                                            const char **why);

#endif
