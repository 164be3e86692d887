/* Provider dialects: one table row each, all ending in oa2f_claims_t. */
#ifndef OA2F_DIALECT_H
#define OA2F_DIALECT_H

#include "oa2f_claims.h"
#include "oa2f_http.h"
#include "oa2f_provider.h"

typedef struct oa2f_dialect_t {
    const char *name;
    /* Describe the validation call for `token` in req (allocated in p). */
    void (*build)(apr_pool_t *p, const oa2f_provider_t *prov,
                  const char *token, oa2f_http_req_t *req);
    /* Classify an HTTP answer. On OA2F_OK or OA2F_INACTIVE, *claims is
     * filled (expiry made absolute from resp->sent_at). Otherwise *why
     * says what was wrong, naming the dialect and the member. */
    oa2f_outcome_e (*interpret)(apr_pool_t *p, const oa2f_provider_t *prov,
                                const oa2f_http_resp_t *resp,
                                oa2f_claims_t **claims, const char **why);
    /* A token_type value that is this dialect's own mark of a valid
     * answer rather than RFC 7662's token type (PingFederate), or NULL. */
    const char *own_token_type;
} oa2f_dialect_t;

/* The dialect called `name`, or NULL. */
const oa2f_dialect_t *oa2f_dialect_find(const char *name);

/* "introspection|pingfederate|openam|mule", for error messages. */
const char *oa2f_dialect_names(void);

#endif
