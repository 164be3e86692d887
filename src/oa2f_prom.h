/* The status page's Prometheus view (README "Status page"): a snapshot
 * of the shared counters and the circuit breakers in the Prometheus text
 * exposition format, version 0.0.4. Every name starts with
 * oauth2_federated_, counters end in _total, provider call latency is a
 * histogram in seconds per endpoint. No label ever holds a token, a
 * client id or a user: the only label taken from configuration is the
 * endpoint, as the breaker shows it (no user info, no query). */
#ifndef OA2F_PROM_H
#define OA2F_PROM_H

#include <apr_pools.h>

#include "oa2f_breaker.h"
#include "oa2f_stats.h"

/* The Content-Type of the view. */
#define OA2F_PROM_CONTENT_TYPE "text/plain; version=0.0.4; charset=utf-8"

/* The labels of oauth2_federated_build_info; NULL shows as "unknown". */
typedef struct {
    const char *version; /* the module's (configure.ac) */
    const char *httpd;
    const char *apr;
    const char *openssl;
    const char *curl;
    const char *json_c;
} oa2f_prom_build_t;

/* s as a label value, without the quotes, in p: backslash, double quote
 * and line feed escaped as the format says (\\, \", \n); other control
 * bytes and bytes from 0x7f on as %XX, so that the value is always
 * printable ASCII. */
const char *oa2f_prom_label_value(apr_pool_t *p, const char *s);

/* The whole page for snap at now (seconds since the epoch), with the
 * circuits views[0..n) (oa2f_breaker_list()), in p; ends with a line
 * feed. */
const char *oa2f_prom_render(apr_pool_t *p, const oa2f_stats_t *snap,
                             long long now, const oa2f_breaker_view_t *views,
                             int n, const oa2f_prom_build_t *build);

#endif
