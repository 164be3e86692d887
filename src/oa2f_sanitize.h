/* Turning provider fields into header and environment names and values. */
#ifndef OA2F_SANITIZE_H
#define OA2F_SANITIZE_H

#include <apr_pools.h>

/* 1 when s is a non-empty HTTP token (RFC 9110 §5.6.2 tchar*). */
int oa2f_is_http_token(const char *s);

/* prefix + field, or NULL when field is not an HTTP token or the result
 * would exceed max_len. Allocated in p. */
const char *oa2f_header_name(apr_pool_t *p, const char *prefix,
                             const char *field);

/* prefix + FIELD upper-cased with every character outside A-Z0-9_
 * turned into '_'. Allocated in p. */
const char *oa2f_env_name(apr_pool_t *p, const char *prefix,
                          const char *field);

/* A copy of value[0..len) with every control character (0x00-0x1F, 0x7F)
 * dropped, so it can never split or add a header line. Allocated in p,
 * NUL-terminated. */
const char *oa2f_clean_value(apr_pool_t *p, const char *value,
                             apr_size_t len);

/* 1 when header name `name` starts with `prefix`, comparing
 * case-insensitively and treating '-' and '_' as the same character
 * (backends commonly fold one into the other). */
int oa2f_has_prefix_folded(const char *name, const char *prefix);

#endif
