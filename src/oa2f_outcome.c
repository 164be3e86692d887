#include "oa2f_outcome.h"

const char *oa2f_outcome_name(oa2f_outcome_e o)
{
    switch (o) {
    case OA2F_OK:           return "ok";
    case OA2F_NO_TOKEN:     return "no_token";
    case OA2F_WRONG_SCHEME: return "wrong_scheme";
    case OA2F_BAD_REQUEST:  return "bad_request";
    case OA2F_INACTIVE:     return "inactive";
    case OA2F_EXPIRED:      return "expired";
    case OA2F_UNREACHABLE:  return "unreachable";
    case OA2F_BAD_ANSWER:   return "bad_answer";
    case OA2F_REJECTED:     return "rejected";
    case OA2F_FORBIDDEN:    return "forbidden";
    case OA2F_INTERNAL:     return "internal";
    }
    return "unknown";
}
