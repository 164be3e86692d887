/* Authorization server metadata (README "Resource identity"; RFC 8414,
 * OpenID Connect Discovery 1.0): the issuer a metadata URL implies, and
 * the checks of a fetched document. No httpd here: the fetch, the
 * per-child copy and the sharing are src/mod_oa2f_discovery.c's. */
#ifndef OA2F_METADATA_H
#define OA2F_METADATA_H

#include <apr_pools.h>

/* Kept at most this long (seconds), less when Cache-Control says so. */
#define OA2F_METADATA_MAX_TTL 3600

typedef struct {
    const char *issuer;                 /* always set on success      */
    const char *introspection_endpoint; /* NULL when absent           */
    const char *jwks_uri;               /* NULL when absent           */
} oa2f_metadata_t;

/* The issuer the metadata URL `url` implies (RFC 8414 §3.1 and §3.3):
 *   scheme://host[:port]/.well-known/oauth-authorization-server[/path]
 *       → scheme://host[:port][/path]
 *   scheme://host[:port][/path]/.well-known/openid-configuration
 *       → scheme://host[:port][/path]    (OpenID Connect Discovery §4)
 *   scheme://host[:port]/.well-known/openid-configuration/path
 *       → scheme://host[:port]/path      (RFC 8414 §5's insertion form)
 * NULL when the URL has none of these shapes, a query or a fragment. */
const char *oa2f_metadata_issuer_of_url(apr_pool_t *p, const char *url);

/* Check the document body[0..len): exactly one JSON object whose
 * `issuer` is a string equal, byte for byte, to `want_issuer` (RFC 8414
 * §3.3; no trailing-slash or case normalisation), and, when
 * need_introspection, with an http(s) `introspection_endpoint` (RFC 8414
 * §2 via RFC 7662). 1 and *out (strings in p), or 0 and *why. */
int oa2f_metadata_parse(apr_pool_t *p, const char *body, apr_size_t len,
                        const char *want_issuer, int need_introspection,
                        oa2f_metadata_t *out, const char **why);

/* md as the smallest JSON object oa2f_metadata_parse accepts again with
 * the same result: what children share instead of the document, which
 * may be up to 1 MiB while a shared-cache entry holds at most 64 KiB.
 * NUL-terminated, in p; *len its length. */
const char *oa2f_metadata_compact(apr_pool_t *p, const oa2f_metadata_t *md,
                                  apr_size_t *len);

/* Seconds the document may be kept: OA2F_METADATA_MAX_TTL, or less when
 * the Cache-Control value `cc` (NULL = none) has a smaller max-age; 0
 * with no-store or no-cache (RFC 9111 §5.2.2). */
long oa2f_metadata_ttl(const char *cc);

#endif
