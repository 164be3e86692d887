/* Turning provider fields into header and environment names and values. */
#ifndef OA2F_SANITIZE_H
#define OA2F_SANITIZE_H

#include <apr_pools.h>

/* 1 when s is a non-empty HTTP token (RFC 9110 §5.6.2 tchar*). */
int oa2f_is_http_token(const char *s);

/* prefix + FIELD upper-cased with every character outside A-Z0-9_
 * turned into '_'. Allocated in p. */
const char *oa2f_env_name(apr_pool_t *p, const char *prefix,
                          const char *field);

/* A copy of value[0..len) with every control character (0x00-0x1F, 0x7F)
 * dropped, so it can never split or add a header line. Allocated in p,
 * NUL-terminated. */
const char *oa2f_clean_value(apr_pool_t *p, const char *value, apr_size_t len);

/* Checks of values prepared elsewhere (a cache entry), without
 * allocating: they run on every cache hit.
 *
 * 1 when value[0..len) holds a byte that oa2f_clean_value drops. */
int oa2f_has_control(const char *value, apr_size_t len);

/* 1 when shown[0..shown_len) is exactly oa2f_clean_value(value, len). */
int oa2f_is_clean_of(const char *value, apr_size_t len, const char *shown,
                     apr_size_t shown_len);

/* 1 when env_suffix is oa2f_env_name(p, "", field) and is_token is
 * oa2f_is_http_token(field) (0 or 1), in one pass over field. */
int oa2f_field_names_are(const char *field, const char *env_suffix,
                         int is_token);

/* 1 when header name `name` starts with `prefix`, comparing
 * case-insensitively and treating '-' and '_' as the same character
 * (backends commonly fold one into the other). */
int oa2f_has_prefix_folded(const char *name, const char *prefix);

#endif
