/* A small libcurl client for provider calls, with per-process reuse of
 * easy handles (and so of kept-alive connections and TLS sessions). */
#ifndef OA2F_HTTP_H
#define OA2F_HTTP_H

#include <apr_pools.h>
#include <apr_tables.h>
#include "oa2f_provider.h"

typedef struct {
    const char *method;          /* "GET" or "POST"                     */
    const char *url;             /* full URL, query included            */
    const char *body;            /* form body for POST, else NULL       */
    apr_array_header_t *headers; /* const char * "Name: value" lines    */
} oa2f_http_req_t;

typedef enum {
    OA2F_HTTP_DONE = 0,    /* an HTTP answer arrived (any status) */
    OA2F_HTTP_UNREACHABLE, /* connect/DNS/TLS failure or timeout  */
    OA2F_HTTP_TOO_LARGE,   /* answer over provider->max_answer    */
    OA2F_HTTP_BROKEN,      /* answer cut off or unparseable HTTP  */
    OA2F_HTTP_INTERNAL     /* could not set the call up           */
} oa2f_http_result_e;

typedef struct {
    long status;
    const char *body; /* NUL-terminated; body_len is exact   */
    apr_size_t body_len;
    long long sent_at;         /* seconds since epoch, at send time   */
    double elapsed;            /* seconds the call took               */
    int new_connection;        /* 1 when a new TCP connection was made */
    const char *error;         /* libcurl's words when not DONE       */
    const char *cache_control; /* the last Cache-Control value, or NULL */
    const char *retry_after;   /* the last Retry-After value, or NULL   */
} oa2f_http_resp_t;

/* Initialise libcurl once per process (post_config). */
int oa2f_http_global_init(void);

/* A per-process pool of easy handles, released when `pool` is cleared. */
typedef struct oa2f_http_pool_t oa2f_http_pool_t;
oa2f_http_pool_t *oa2f_http_pool_create(apr_pool_t *pool);

/* Perform one call; what *resp points to is allocated in p. Never
 * follows redirects. */
oa2f_http_result_e oa2f_http_perform(oa2f_http_pool_t *hp, apr_pool_t *p,
                                     const oa2f_provider_t *prov,
                                     const oa2f_http_req_t *req,
                                     oa2f_http_resp_t *resp);

/* application/x-www-form-urlencoded encoding of s (RFC 6749 App. B). */
const char *oa2f_form_encode(apr_pool_t *p, const char *s);

#endif
