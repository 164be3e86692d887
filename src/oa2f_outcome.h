/* Outcomes of one token check, independent of httpd, and everything the
 * module knows about each in one table: the answer per status profile
 * (README "Requests and answers"), how it is logged, whether a provider
 * call can end in it, whether single-flight followers take it from their
 * leader. The glue maps outcomes to statuses in exactly one place
 * (mod_oa2f_respond.c), reading this table. */
#ifndef OA2F_OUTCOME_H
#define OA2F_OUTCOME_H

typedef enum {
    OA2F_OK = 0,         /* token active, not expired                      */
    OA2F_NO_TOKEN,       /* no token presented at all                      */
    OA2F_WRONG_SCHEME,   /* Authorization header with a non-Bearer scheme  */
    OA2F_BAD_REQUEST,    /* duplicated, malformed or oversized token       */
    OA2F_INACTIVE,       /* provider: not active / unknown / revoked       */
    OA2F_EXPIRED,        /* provider says active, but expiry has passed    */
    OA2F_UNREACHABLE,    /* refused, DNS, TLS failure, timeout             */
    OA2F_BAD_ANSWER,     /* 5xx, non-JSON, truncated, oversized, malformed */
    OA2F_REJECTED,       /* provider refused our client credentials        */
    OA2F_FORBIDDEN,      /* a Require oauth2-* line is not met             */
    OA2F_INTERNAL,       /* our own failure (out of memory, curl setup)    */
    OA2F_WRONG_AUDIENCE, /* aud does not name this location's resource    */
    OA2F_WRONG_ISSUER,   /* iss is not one this location trusts           */
    OA2F_CIRCUIT_OPEN,   /* the endpoint's circuit breaker is open: no call */
    OA2F_OUTCOME_MAX
} oa2f_outcome_e;

typedef enum {
    OA2F_PROFILE_GATEWAY = 0, /* the API-gateway policy's map        */
    OA2F_PROFILE_RFC6750 = 1, /* RFC 6750 and HTTP semantics         */
    OA2F_PROFILE_MAX
} oa2f_profile_e;

/* How an outcome is logged: debug, info, or as provider trouble (error
 * level, at most once per interval per process, the rest at info). */
typedef enum {
    OA2F_LOG_DEBUG = 0,
    OA2F_LOG_INFO,
    OA2F_LOG_OUTAGE
} oa2f_log_class_e;

typedef struct {
    int status;        /* HTTP status code                     */
    const char *error; /* RFC 6750 §3.1 error code, or NULL    */
    int challenge;     /* send WWW-Authenticate                */
    const char *text;  /* the public one-line body             */
} oa2f_answer_t;

typedef struct {
    const char *name; /* short, stable, lower-case            */
    oa2f_answer_t answer[OA2F_PROFILE_MAX];
    oa2f_log_class_e log;
    unsigned from_provider : 1; /* a provider call can end in it        */
    unsigned shared : 1;        /* followers take it from their leader  */
} oa2f_outcome_info_t;

/* The row of o; out-of-range values get OA2F_INTERNAL's. */
const oa2f_outcome_info_t *oa2f_outcome_info(oa2f_outcome_e o);

/* oa2f_outcome_info(o)->name, for logs and the status page. */
const char *oa2f_outcome_name(oa2f_outcome_e o);

#endif
