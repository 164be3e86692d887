/* The module's version (configure.ac's AC_INIT, the one place it is
 * written) and the versions of the libraries it runs with, for the
 * start-up line and the status page (README "Operations"). */
#ifndef OA2F_VERSION_H
#define OA2F_VERSION_H

#include <apr_pools.h>

/* "0.2.0" */
const char *oa2f_version(void);

/* "libcurl/7.88.1 json-c/0.16 OpenSSL 3.0.19 ..." as loaded at run
 * time (they may differ from the headers built against), in p. */
const char *oa2f_version_libraries(apr_pool_t *p);

/* The versions one by one, as loaded at run time, for labels of the
 * status page's Prometheus view (README "Status page"): "7.88.1",
 * "0.16", "3.0.17", "1.7.2"; static strings, or "unknown". */
typedef struct {
    const char *version; /* oa2f_version() */
    const char *curl;
    const char *json_c;
    const char *openssl;
    const char *apr;
} oa2f_versions_t;

void oa2f_versions(oa2f_versions_t *v);

#endif
