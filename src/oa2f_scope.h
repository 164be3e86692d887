/* Scope sets: parsing the provider's scope member and matching. */
#ifndef OA2F_SCOPE_H
#define OA2F_SCOPE_H

#include <apr_pools.h>
#include <apr_tables.h>

/* Split a space-separated scope string into an array of const char *
 * (runs of spaces are one separator; empty string gives an empty array).
 * Allocated in p. */
apr_array_header_t *oa2f_scope_split(apr_pool_t *p, const char *s);

/* 1 when `have` (array of const char *) holds every element of `need`,
 * comparing case-sensitively. An empty `need` is always met. */
int oa2f_scope_has_all(const apr_array_header_t *have,
                       const apr_array_header_t *need);

/* 1 when `have` contains the string s (case-sensitive). */
int oa2f_scope_contains(const apr_array_header_t *have, const char *s);

/* The scopes (array of const char *, may be NULL) for a log line,
 * allocated in p: joined with single spaces, every byte that RFC 6749
 * §3.3 does not allow in a scope-token (controls, space, '"', backslash,
 * non-ASCII) as '?', cut to at most max bytes with "..." at the end;
 * "(none)" when there is no scope. */
const char *oa2f_scope_loggable(apr_pool_t *p,
                                const apr_array_header_t *scopes,
                                apr_size_t max);

#endif
