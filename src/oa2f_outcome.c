#include <stddef.h>

#include "oa2f_outcome.h"

#define NOT_CHECKED      "the token could not be checked"
#define UNREACHABLE_TEXT "the authorization server could not be reached"
#define UNUSABLE_TEXT    "the authorization server gave an unusable answer"
#define AUDIENCE_TEXT                                                         \
    "the access token is not meant for this resource (audience)"
#define ISSUER_TEXT "the access token was not issued by a trusted issuer"

/* README "Requests and answers": the two status maps differ in four rows
 * (no token, wrong scheme, unreachable, unusable answer). */
/* clang-format off: one row per outcome reads better than bin-packing */
static const oa2f_outcome_info_t outcomes[OA2F_OUTCOME_MAX] = {
    [OA2F_OK] = { "ok",
                  { { 500, NULL, 0, NOT_CHECKED },
                    { 500, NULL, 0, NOT_CHECKED } },
                  OA2F_LOG_DEBUG,
                  1,
                  0 },
    [OA2F_NO_TOKEN] = { "no_token",
                        { { 400, "invalid_request", 1,
                            "no access token was presented" },
                          { 401, NULL, 1, "an access token is required" } },
                        OA2F_LOG_DEBUG,
                        0,
                        1 },
    [OA2F_WRONG_SCHEME] = { "wrong_scheme",
                            { { 400, "invalid_request", 1,
                                "the Authorization header must use the Bearer "
                                "scheme" },
                              { 401, NULL, 1,
                                "an access token is required (Bearer "
                                "scheme)" } },
                            OA2F_LOG_DEBUG,
                            0,
                            1 },
    [OA2F_BAD_REQUEST] = { "bad_request",
                           { { 400, "invalid_request", 1,
                               "the access token request is malformed" },
                             { 400, "invalid_request", 1,
                               "the access token request is malformed" } },
                           OA2F_LOG_DEBUG,
                           0,
                           1 },
    [OA2F_INACTIVE] = { "inactive",
                        { { 401, "invalid_token", 1,
                            "the access token is not active" },
                          { 401, "invalid_token", 1,
                            "the access token is not active" } },
                        OA2F_LOG_INFO,
                        1,
                        1 },
    [OA2F_EXPIRED] = { "expired",
                       { { 401, "invalid_token", 1,
                           "the access token has expired" },
                         { 401, "invalid_token", 1,
                           "the access token has expired" } },
                       OA2F_LOG_INFO,
                       1,
                       1 },
    [OA2F_UNREACHABLE] = { "unreachable",
                           { { 401, NULL, 1, UNREACHABLE_TEXT },
                             { 503, NULL, 0, UNREACHABLE_TEXT } },
                           OA2F_LOG_OUTAGE,
                           1,
                           1 },
    [OA2F_BAD_ANSWER] = { "bad_answer",
                          { { 500, NULL, 0, UNUSABLE_TEXT },
                            { 502, NULL, 0, UNUSABLE_TEXT } },
                          OA2F_LOG_OUTAGE,
                          1,
                          1 },
    [OA2F_REJECTED] = { "rejected",
                        { { 403, NULL, 1,
                            "the authorization server refused this resource "
                            "server" },
                          { 403, NULL, 1,
                            "the authorization server refused this resource "
                            "server" } },
                        OA2F_LOG_OUTAGE,
                        1,
                        1 },
    [OA2F_FORBIDDEN] = { "forbidden",
                         { { 403, "insufficient_scope", 1,
                             "the access token does not grant access to this "
                             "resource" },
                           { 403, "insufficient_scope", 1,
                             "the access token does not grant access to this "
                             "resource" } },
                         OA2F_LOG_DEBUG,
                         0,
                         1 },
    [OA2F_INTERNAL] = { "internal",
                        { { 500, NULL, 0, NOT_CHECKED },
                          { 500, NULL, 0, NOT_CHECKED } },
                        OA2F_LOG_OUTAGE,
                        1,
                        1 },
    /* README "Resource identity": checked per location, never by the
     * provider call itself (RFC 8707 §2, RFC 9068 §4) */
    [OA2F_WRONG_AUDIENCE] = { "wrong_audience",
                              { { 401, "invalid_token", 1, AUDIENCE_TEXT },
                                { 401, "invalid_token", 1, AUDIENCE_TEXT } },
                              OA2F_LOG_INFO,
                              0,
                              1 },
    [OA2F_WRONG_ISSUER] = { "wrong_issuer",
                            { { 401, "invalid_token", 1, ISSUER_TEXT },
                              { 401, "invalid_token", 1, ISSUER_TEXT } },
                            OA2F_LOG_INFO,
                            0,
                            1 },
    /* README "Outages": answered as an unreachable provider, without
     * the call; the breaker logs its own state changes */
    [OA2F_CIRCUIT_OPEN] = { "circuit_open",
                            { { 401, NULL, 1, UNREACHABLE_TEXT },
                              { 503, NULL, 0, UNREACHABLE_TEXT } },
                            OA2F_LOG_DEBUG,
                            0,
                            1 },
};
/* clang-format on */

const oa2f_outcome_info_t *oa2f_outcome_info(oa2f_outcome_e o)
{
    if ((int)o < 0 || o >= OA2F_OUTCOME_MAX) {
        o = OA2F_INTERNAL;
    }
    return &outcomes[o];
}

const char *oa2f_outcome_name(oa2f_outcome_e o)
{
    if ((int)o < 0 || o >= OA2F_OUTCOME_MAX) {
        return "unknown";
    }
    return outcomes[o].name;
}
