/* The circuit breaker of provider endpoints (README "Outages"): after
 * FAILURES consecutive failed calls to one endpoint, no process calls it
 * for SECONDS; then exactly one probe call is let through, across all
 * processes; its success closes the circuit, its failure opens it again
 * for twice as long (at most 300 s). A 429 or 503 with Retry-After opens
 * it at once for that long (at most 300 s).
 *
 * The table is a fixed array of slots in shared memory, one per endpoint,
 * keyed by a 64-bit hash of the URL called. Each slot has a tiny spinlock
 * of its own, held for a few instructions without any system call; a
 * lock whose holder died inside them is taken over after a second. No
 * process keeps state of its own, so every child sees the same circuit.
 * A full table leaves further endpoints without a breaker: it never
 * refuses a call for lack of room. Slots of endpoints unused for an hour
 * are reused. */
#ifndef OA2F_BREAKER_H
#define OA2F_BREAKER_H

#include <apr_pools.h>
#include "oa2f_outcome.h"

#define OA2F_BREAKER_SLOTS       64
#define OA2F_BREAKER_MAX_SECONDS 300  /* longest open period           */
#define OA2F_BREAKER_MAX_FAILURE 1000 /* largest FAILURES              */
#define OA2F_BREAKER_IDLE_S      3600 /* a slot unused this long is reused */
#define OA2F_BREAKER_URL_MAX     256  /* shown URL, truncated          */

typedef struct oa2f_breaker_table_t oa2f_breaker_table_t;

/* One location's OAuth2FederatedCircuitBreaker, for its own calls. */
typedef struct {
    int failures; /* consecutive failed calls that open it (1-1000) */
    int seconds;  /* the first open period (1-300)                  */
    /* a probe that has not reported within this is given up (the
     * provider's total timeout and a second) */
    long long probe_timeout_us;
} oa2f_breaker_conf_t;

typedef enum {
    OA2F_BREAKER_CALL = 0, /* closed: call, then oa2f_breaker_report()  */
    OA2F_BREAKER_PROBE,    /* the one probe: call, then report           */
    OA2F_BREAKER_REFUSE,   /* open: do not call                          */
    OA2F_BREAKER_UNTRACKED /* no slot for the endpoint: call, no report  */
} oa2f_breaker_gate_e;

/* What oa2f_breaker_enter() hands to oa2f_breaker_report(). */
typedef struct {
    int slot; /* -1: none */
    apr_uint64_t hash;
    apr_uint64_t probe; /* the probe's number when the gate was PROBE */
    int is_probe;
} oa2f_breaker_ticket_t;

/* How a call went, for the breaker (oa2f_breaker_judge()). */
typedef enum {
    OA2F_BREAKER_SUCCESS = 0, /* a definite answer                        */
    OA2F_BREAKER_FAILURE,     /* unreachable, 5xx, 429, an unusable answer */
    OA2F_BREAKER_NEUTRAL      /* our own error: nothing about the endpoint */
} oa2f_breaker_result_e;

typedef enum {
    OA2F_BREAKER_NO_CHANGE = 0,
    OA2F_BREAKER_OPENED, /* closed or half-open → open */
    OA2F_BREAKER_CLOSED  /* the probe succeeded        */
} oa2f_breaker_change_e;

typedef enum {
    OA2F_BREAKER_STATE_CLOSED = 0,
    OA2F_BREAKER_STATE_OPEN,
    OA2F_BREAKER_STATE_HALF_OPEN
} oa2f_breaker_state_e;

/* One endpoint's circuit as the status page and the logs show it. */
typedef struct {
    char url[OA2F_BREAKER_URL_MAX]; /* without credentials and query */
    oa2f_breaker_state_e state;     /* open past its time: half_open */
    unsigned failures;              /* consecutive failed calls      */
    int next_probe_s;    /* seconds until a probe may go; 0 unless open */
    int period_s;        /* the open period in force; 0 when closed     */
    apr_uint64_t opened; /* times it opened                           */
} oa2f_breaker_view_t;

/* Bytes of shared memory a table needs. */
apr_size_t oa2f_breaker_size(void);

/* Lay a table out in mem (oa2f_breaker_size() bytes, zeroed here). */
oa2f_breaker_table_t *oa2f_breaker_init(void *mem);

/* The gate for one call to url at now_us. REFUSE sets *retry_after to
 * the seconds until a probe may go (at least 1). CALL and PROBE fill
 * *ticket for oa2f_breaker_report(). */
oa2f_breaker_gate_e oa2f_breaker_enter(
    oa2f_breaker_table_t *t, const char *url, const oa2f_breaker_conf_t *conf,
    long long now_us, oa2f_breaker_ticket_t *ticket, int *retry_after);

/* Report how the call of ticket went. retry_after_s > 0 (a 429 or 503
 * with Retry-After, oa2f_breaker_retry_after()) opens the circuit at
 * once for that long, at most 300 s. *after (may be NULL) is the circuit
 * afterwards. Returns the change this report made, which the caller
 * logs: exactly one process sees each change. */
oa2f_breaker_change_e oa2f_breaker_report(oa2f_breaker_table_t *t,
                                          const oa2f_breaker_ticket_t *ticket,
                                          const oa2f_breaker_conf_t *conf,
                                          oa2f_breaker_result_e result,
                                          int retry_after_s, long long now_us,
                                          oa2f_breaker_view_t *after);

/* The circuits in use, at most max of them, into out; returns how many. */
int oa2f_breaker_list(oa2f_breaker_table_t *t, long long now_us,
                      oa2f_breaker_view_t *out, int max);

/* The breaker's reading of a call's outcome and the provider's HTTP
 * status (0: none): README "Outages". */
oa2f_breaker_result_e oa2f_breaker_judge(oa2f_outcome_e o, long http_status);

/* Seconds a 429 or 503 answer's Retry-After asks for (RFC 9110 §10.2.3:
 * delta-seconds or an HTTP-date, against now_s), at most 300; 0 for
 * other statuses, a missing or unusable value, or a time passed. */
int oa2f_breaker_retry_after(long http_status, const char *value,
                             long long now_s);

/* An HTTP-date (RFC 9110 §5.6.7: IMF-fixdate, RFC 850, asctime) as
 * seconds since the epoch; -1 when s is none of them. */
long long oa2f_http_date_parse(const char *s);

/* "closed", "open" or "half_open". */
const char *oa2f_breaker_state_name(oa2f_breaker_state_e s);

/* url without user info, query and fragment, at most
 * OA2F_BREAKER_URL_MAX - 1 bytes, into out. */
void oa2f_breaker_shown_url(const char *url, char out[OA2F_BREAKER_URL_MAX]);

/* The circuits of views[0..n) for the status page: "name: value" lines,
 * or for JSON the member "breakers":[…] (no braces around it); in p. */
const char *oa2f_breaker_render(apr_pool_t *p, const oa2f_breaker_view_t *v,
                                int n, int json);

#endif
