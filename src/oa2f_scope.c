/* Scope sets (RFC 6749 §3.3): space-separated, case-sensitive. */
#include <string.h>
#include <apr_strings.h>

#include "oa2f_scope.h"

apr_array_header_t *oa2f_scope_split(apr_pool_t *p, const char *s)
{
    apr_array_header_t *out = apr_array_make(p, 4, sizeof(const char *));

    while (s && *s) {
        const char *start;
        while (*s == ' ') {
            s++;
        }
        start = s;
        while (*s && *s != ' ') {
            s++;
        }
        if (s > start) {
            APR_ARRAY_PUSH(out, const char *) = apr_pstrmemdup(
                p, start, (apr_size_t)(s - start));
        }
    }
    return out;
}

int oa2f_scope_contains(const apr_array_header_t *have, const char *s)
{
    int i;

    if (!have) {
        return 0;
    }
    for (i = 0; i < have->nelts; i++) {
        if (strcmp(APR_ARRAY_IDX(have, i, const char *), s) == 0) {
            return 1;
        }
    }
    return 0;
}

int oa2f_scope_has_all(const apr_array_header_t *have,
                       const apr_array_header_t *need)
{
    int i;

    for (i = 0; need && i < need->nelts; i++) {
        if (!oa2f_scope_contains(have, APR_ARRAY_IDX(need, i, const char *))) {
            return 0;
        }
    }
    return 1;
}
