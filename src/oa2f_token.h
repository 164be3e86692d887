/* Bearer token extraction (RFC 6750 §2.1 and §2.3), without httpd. */
#ifndef OA2F_TOKEN_H
#define OA2F_TOKEN_H

#include <apr_pools.h>
#include "oa2f_outcome.h"

/* Longest token accepted; longer is a 400 before any provider call. */
#define OA2F_TOKEN_MAX_LEN 4096

/* Where a token may be presented (OAuth2FederatedAcceptTokenIn). */
#define OA2F_TOKEN_IN_HEADER 0x1
#define OA2F_TOKEN_IN_QUERY  0x2

/* Extract the bearer token.
 *   authorization: the Authorization header value, or NULL when absent
 *   query:         the raw (still percent-encoded) query string, or NULL
 *   accept:        OA2F_TOKEN_IN_* bits; sources not accepted are ignored
 * On OA2F_OK *token is the token (allocated in p when decoded from the
 * query). Otherwise *why is a short human-readable reason (static or in p)
 * that never contains the token. Returns OA2F_OK, OA2F_NO_TOKEN,
 * OA2F_WRONG_SCHEME or OA2F_BAD_REQUEST. */
oa2f_outcome_e oa2f_token_extract(apr_pool_t *p, const char *authorization,
                                  const char *query, int accept,
                                  const char **token, const char **why);

/* query without its access_token parameters (OAuth2FederatedStripToken
 * query): the same string when it has none, NULL when nothing is left,
 * else a new string in p with the other parameters in their order. */
const char *oa2f_query_without_token(apr_pool_t *p, const char *query);

/* 1 when s[0..len) is RFC 6750 b64token syntax:
 *   1*( ALPHA / DIGIT / "-" / "." / "_" / "~" / "+" / "/" ) *"="  */
int oa2f_token_is_b64token(const char *s, apr_size_t len);

/* Decode one application/x-www-form-urlencoded value s[0..len) into p
 * ('+' is a space). NULL on a broken %-escape; *outlen is the decoded
 * length (which may hold NUL bytes: callers check syntax by length). */
char *oa2f_form_decode(apr_pool_t *p, const char *s, apr_size_t len,
                       apr_size_t *outlen);

/* A loggable fingerprint of a token: the first 12 hex digits of its
 * SHA-256, allocated in p. Never the token itself. */
const char *oa2f_token_fingerprint(apr_pool_t *p, const char *token);

#endif
