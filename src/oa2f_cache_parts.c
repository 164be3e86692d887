/* Splitting a sized shmcb cache into parts (see the header). */
#include <errno.h>
#include <string.h>
#include <apr_lib.h>
#include <apr_strings.h>

#include "oa2f_cache_parts.h"

/* The byte count of "…(bytes)", or -1 when args do not end that way. */
static apr_int64_t size_of(const char *args, const char **open)
{
    apr_int64_t bytes;
    char *end;

    if (!args || !(*open = strrchr(args, '('))) {
        return -1;
    }
    if (!apr_isdigit((*open)[1])) {
        return -1;
    }
    errno = 0;
    bytes = apr_strtoi64(*open + 1, &end, 10);
    if (errno == ERANGE || *end != ')' || end[1] != '\0') {
        return -1;
    }
    return bytes;
}

int oa2f_cache_parts(const char *name, const char *args)
{
    const char *open;
    apr_int64_t bytes;

    if (strcasecmp(name, "shmcb")) {
        return 1;
    }
    bytes = size_of(args, &open);
    if (bytes < 2 * (apr_int64_t)OA2F_CACHE_PART_MIN_BYTES) {
        return 1; /* shmcb itself judges anything unusual */
    }
    if (bytes / OA2F_CACHE_PART_MIN_BYTES >= OA2F_CACHE_PARTS_MAX) {
        return OA2F_CACHE_PARTS_MAX;
    }
    return (int)(bytes / OA2F_CACHE_PART_MIN_BYTES);
}

const char *oa2f_cache_part_args(apr_pool_t *p, const char *args, int i, int n)
{
    const char *open;
    apr_int64_t bytes;

    if (n <= 1 || (bytes = size_of(args, &open)) < 0) {
        return args;
    }
    if (open == args) {
        return apr_psprintf(p, "(%" APR_INT64_T_FMT ")", bytes / n);
    }
    return apr_psprintf(p, "%.*s.%d(%" APR_INT64_T_FMT ")", (int)(open - args),
                        args, i, bytes / n);
}
