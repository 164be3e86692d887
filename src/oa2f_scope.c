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

const char *oa2f_scope_loggable(apr_pool_t *p,
                                const apr_array_header_t *scopes,
                                apr_size_t max)
{
    char *out, *o;
    apr_size_t len = 0;
    int i;

    if (!scopes || scopes->nelts == 0) {
        return "(none)";
    }
    for (i = 0; i < scopes->nelts; i++) {
        len += strlen(APR_ARRAY_IDX(scopes, i, const char *)) + 1;
    }
    if (max < 4) {
        max = 4;
    }
    o = out = apr_palloc(p, len + 1);
    for (i = 0; i < scopes->nelts; i++) {
        const unsigned char *s = (const unsigned char *)APR_ARRAY_IDX(
            scopes, i, const char *);
        if (i > 0) {
            *o++ = ' ';
        }
        /* scope-token = 1*( %x21 / %x23-5B / %x5D-7E ) */
        for (; *s; s++) {
            *o++ = (*s >= 0x21 && *s <= 0x7e && *s != '"' && *s != '\\')
                       ? (char)*s
                       : '?';
        }
    }
    *o = '\0';
    if ((apr_size_t)(o - out) > max) {
        memcpy(out + max - 3, "...", 4);
    }
    return out;
}
