#include <apr_strings.h>

#include "oa2f_dialect.h"
#include "oa2f_scrub.h"
#include "oa2f_remote.h"

void oa2f_remote_validate(oa2f_http_pool_t *hp, apr_pool_t *p,
                          const oa2f_provider_t *prov, const char *token,
                          oa2f_validation_t *out)
{
    oa2f_http_req_t req;
    oa2f_http_resp_t resp;
    oa2f_http_result_e hr;

    out->claims = NULL;
    out->why = NULL;
    out->elapsed = 0;
    out->new_connection = 0;
    out->http_status = 0;
    out->provider_retry_after = NULL;
    out->retry_after = 0;
    out->local = 0;
    if (!hp) {
        /* the child's connection pool could not be set up */
        out->outcome = OA2F_INTERNAL;
        out->why = "no provider connection pool in this process";
        return;
    }

    prov->dialect->build(p, prov, token, &req);
    hr = oa2f_http_perform(hp, p, prov, &req, &resp);
    out->elapsed = resp.elapsed;
    out->new_connection = resp.new_connection;
    out->http_status = resp.status;
    out->provider_retry_after = resp.retry_after;

    switch (hr) {
    case OA2F_HTTP_DONE:
        break;
    case OA2F_HTTP_UNREACHABLE:
        out->outcome = OA2F_UNREACHABLE;
        out->why = apr_pstrcat(p, prov->dialect->name,
                               ": provider unreachable: ", resp.error, NULL);
        return;
    case OA2F_HTTP_TOO_LARGE:
        out->outcome = OA2F_BAD_ANSWER;
        out->why = apr_psprintf(
            p, "%s: the answer is larger than %" APR_SIZE_T_FMT " bytes",
            prov->dialect->name,
            prov->max_answer ? prov->max_answer : (apr_size_t)OA2F_MAX_ANSWER);
        return;
    case OA2F_HTTP_BROKEN:
        out->outcome = OA2F_BAD_ANSWER;
        out->why = apr_pstrcat(
            p, prov->dialect->name,
            ": the answer was cut off or malformed: ", resp.error, NULL);
        return;
    case OA2F_HTTP_INTERNAL:
    default:
        out->outcome = OA2F_INTERNAL;
        out->why = apr_pstrcat(p, prov->dialect->name, ": ", resp.error, NULL);
        return;
    }

    out->outcome = prov->dialect->interpret(p, prov, &resp, &out->claims,
                                            &out->why);
    if (out->claims) {
        oa2f_claims_drop_token(p, out->claims, token);
        oa2f_claims_prepare(p, out->claims);
    }
}
