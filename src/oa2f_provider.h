/* What we need to know to ask one provider about one token. */
#ifndef OA2F_PROVIDER_H
#define OA2F_PROVIDER_H

#include <apr_pools.h>
#include <apr_tables.h>

typedef enum {
    OA2F_AUTH_BASIC = 0, /* RFC 6749 §2.3.1 client_secret_basic */
    OA2F_AUTH_POST,      /* client_secret_post                 */
    OA2F_AUTH_NONE
} oa2f_client_auth_e;

typedef enum {
    OA2F_TOKEN_SEND_QUERY = 0, /* openam: ?access_token=         */
    OA2F_TOKEN_SEND_HEADER     /* openam: Authorization: Bearer  */
} oa2f_token_send_e;

struct oa2f_dialect_t;

typedef struct {
    const struct oa2f_dialect_t *dialect;
    const char *endpoint; /* http(s) URL                       */
    /* README "Resource identity": the RFC 8414 / OpenID Connect metadata
     * URL, or NULL; part of the identity */
    const char *metadata_url;
    const char *client_id;     /* NULL = none                       */
    const char *client_secret; /* NULL = none                       */
    oa2f_client_auth_e auth;
    oa2f_token_send_e token_send;
    long connect_timeout_ms;
    long total_timeout_ms;
    const char *proxy;         /* NULL = direct                     */
    const char *proxy_userpwd; /* "user:password" or NULL           */
    int ssl_verify;            /* 1 = verify peer and host name     */
    const char *ca_file;       /* NULL = system store               */
    const char *ca_digest;     /* SHA-256 hex of ca_file's content  */
    apr_size_t max_answer;     /* bytes; larger answers are refused */
    /* README "Local JWT validation": OAuth2FederatedLocalJWT (0 or 1),
     * OAuth2FederatedJWKSURL (NULL: the metadata's jwks_uri) and
     * OAuth2FederatedJWTTypes (const char *; NULL: at+jwt
     * application/at+jwt); part of the identity when local_jwt is 1 */
    int local_jwt;
    const char *jwks_url;
    const apr_array_header_t *jwt_types;
    /* Built once at configuration time by oa2f_provider_finish():
     * the identity of this provider configuration for cache keys
     * (dialect, endpoint, client credentials, client authentication, how
     * the token is sent, TLS verification, the CA file's digest, the
     * proxy and a digest of its credentials), and the
     * ready-made "Authorization: Basic …" line when Basic is used. */
    const char *identity;
    const char *basic_header;
    /* Set in post_config for providers built at configuration time (the
     * cache secret is known only then); NULL otherwise. */
    void *keyer;
} oa2f_provider_t;

/* Default cap on a provider answer (README "Requests and answers": over
 * 1 MiB is unusable). */
#define OA2F_MAX_ANSWER (1024 * 1024)

/* Compute p->identity and p->basic_header (allocated in pool). Call once
 * after every other member is set. */
void oa2f_provider_finish(apr_pool_t *pool, oa2f_provider_t *p);

/* SHA-256 of data as lower-case hex, in pool. */
const char *oa2f_provider_digest(apr_pool_t *pool, const void *data,
                                 apr_size_t len);

/* 1 when the call carries client credentials (an id is configured and
 * the authentication method is not none). */
int oa2f_provider_has_credentials(const oa2f_provider_t *p);

#endif
