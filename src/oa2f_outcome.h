/* Outcomes of one token check, independent of httpd.
 *
 * The core returns one of these; the glue maps each to a status code and
 * an RFC 6750 challenge in exactly one place (mod_oa2f_status_map.c). */
#ifndef OA2F_OUTCOME_H
#define OA2F_OUTCOME_H

typedef enum {
    OA2F_OK = 0,          /* token active, not expired                      */
    OA2F_NO_TOKEN,        /* no token presented at all                      */
    OA2F_WRONG_SCHEME,    /* Authorization header with a non-Bearer scheme  */
    OA2F_BAD_REQUEST,     /* duplicated, malformed or oversized token       */
    OA2F_INACTIVE,        /* provider: not active / unknown / revoked       */
    OA2F_EXPIRED,         /* provider says active, but expiry has passed    */
    OA2F_UNREACHABLE,     /* refused, DNS, TLS failure, timeout             */
    OA2F_BAD_ANSWER,      /* 5xx, non-JSON, truncated, oversized, malformed */
    OA2F_REJECTED,        /* provider refused our client credentials        */
    OA2F_FORBIDDEN,       /* a Require oauth2-* line is not met             */
    OA2F_INTERNAL         /* our own failure (out of memory, curl setup)    */
} oa2f_outcome_e;

/* A short, stable, lower-case name for logs and the status page. */
const char *oa2f_outcome_name(oa2f_outcome_e o);

#endif
