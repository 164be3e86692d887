/* OAuth2FederatedValueEncoding (README "What the backend receives"): how
 * provider values are written into request headers and environment
 * variables. HTTP/1.1 header values are octets that most backends read as
 * ISO-8859-1 (RFC 9110 §5.5), while providers send UTF-8 (RFC 8259 §8.1). */
#ifndef OA2F_ENCODING_H
#define OA2F_ENCODING_H

#include <apr_pools.h>

typedef enum {
    OA2F_ENC_UTF8 = 0, /* as the provider sent them                  */
    OA2F_ENC_LATIN1,   /* ISO-8859-1 where possible, the rest dropped */
    OA2F_ENC_BASE64URL /* every value with a non-ASCII byte encoded   */
} oa2f_encoding_e;

/* The encoding named `name` (case-insensitive), or -1. */
int oa2f_encoding_parse(const char *name);

/* v (NUL-terminated, without control characters) as written under enc:
 * v itself when it is all ASCII or enc is utf8, else a copy in p.
 *   latin1: UTF-8 sequences of U+00A0..U+00FF become their one byte;
 *           other code points (C1 controls included) and bytes that are
 *           not UTF-8 are dropped.
 *   base64url: RFC 4648 §5 of the whole value, without padding. */
const char *oa2f_encode_value(apr_pool_t *p, const char *v,
                              oa2f_encoding_e enc);

#endif
