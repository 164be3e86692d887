/* Builders shared by several unit-test files. */
#ifndef OA2F_UT_COMMON_H
#define OA2F_UT_COMMON_H

#include <apr_pools.h>

#include "oa2f_claims.h"
#include "oa2f_provider.h"

/* An introspection provider with Basic client credentials, not yet
 * finished (oa2f_provider_finish). */
oa2f_provider_t *ut_base_provider(void);

/* Claims holding the members of the JSON object `json`, and it as the raw
 * answer. */
oa2f_claims_t *ut_claims_of_json(const char *json);

/* application/x-www-form-urlencoded decoding into ut_pool; NULL on a
 * broken escape. */
const char *ut_form_decode(const char *s, apr_size_t len);

/* b[0..n) as lower-case hex, in ut_pool. */
const char *ut_hex(const unsigned char *b, apr_size_t n);

#endif
