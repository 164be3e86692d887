/* Configuration (src/mod_oa2f_config.c): the directive table, the
 * per-directory and server records, and their getters, which apply the
 * defaults (README "Directives"). */
#ifndef MOD_OA2F_CONFIG_H
#define MOD_OA2F_CONFIG_H

#include <httpd.h>

#include "oa2f_outcome.h"
#include <http_config.h>

#include "oa2f_encoding.h"
#include "oa2f_provider.h"

/* A number or keyword directive that was not given. */
#define OA2F_UNSET (-1)

typedef enum {
    OA2F_STRIP_QUERY = 0, /* the access_token query parameter   */
    OA2F_STRIP_ALL,       /* that and the Authorization header  */
    OA2F_STRIP_NONE
} oa2f_strip_e;

/* What one scope's provider directives said (they are config-file only,
 * README "Trust boundaries"). Unset members are NULL or OA2F_UNSET; the
 * proxy, which can be set to none (NULL), has a flag. */
typedef struct {
    const char *dialect_name;
    const char *endpoint;
    const char *metadata_url;
    const char *client_id;
    const char *client_secret;
    int client_auth;   /* oa2f_client_auth_e                 */
    int send_token_in; /* oa2f_token_send_e                  */
    long connect_timeout_ms;
    long total_timeout_ms;
    int ssl_verify; /* 0 or 1                             */
    const char *ca_file;
    const char *ca_digest; /* of ca_file's content               */
    const char *proxy;
    const char *proxy_userpwd;
    unsigned proxy_set : 1;
    /* README "Local JWT validation" */
    int local_jwt; /* 0, 1 or UNSET */
    const char *jwks_url;
    apr_array_header_t *jwt_types; /* const char *; NULL = unset */
    /* the provider these settings make: built once, see
     * src/mod_oa2f_conf_provider.c */
    oa2f_provider_t *built;
} oa2f_provider_conf_t;

/* Per-directory configuration. Every member starts unset; defaults are
 * applied when read (oa2f_conf_*()), so "unset" survives every merge.
 * Unset is NULL or OA2F_UNSET, except for token_in, a set of bits that
 * the lines of one scope add up, which has a flag. */
typedef struct {
    /* NULL when no provider directive applies here */
    oa2f_provider_conf_t *provider_conf;
    /* the provider of provider_conf once known; read it through
     * oa2f_conf_provider(), which builds it when a request-time merge
     * made new settings */
    oa2f_provider_t *provider;

    /* what the request side needs */
    int token_in; /* OA2F_TOKEN_IN_* bits               */
    unsigned token_in_set : 1;
    int cache_max_ttl;  /* seconds or UNSET = until expiry    */
    int negative_ttl;   /* seconds or UNSET = 0               */
    int stale_if_error; /* seconds or UNSET = 0               */
    int expose_headers; /* 0, 1 or UNSET                      */
    int value_encoding; /* oa2f_encoding_e or UNSET            */
    const char *header_prefix;
    const char *env_prefix;
    apr_array_header_t *remote_user_fields; /* const char *          */
    int status_profile; /* oa2f_profile_e or UNSET            */
    int strip_token;    /* oa2f_strip_e or UNSET              */

    /* resource identity (README "Resource identity") */
    const char *resource;              /* absolute URI, or NULL        */
    apr_array_header_t *audiences;     /* const char *; empty = none   */
    apr_array_header_t *issuers;       /* const char *; empty = none   */
    apr_array_header_t *authz_servers; /* const char *; NULL = unset   */
    /* the RFC 9728 metadata URL of resource, set with it */
    const char *resource_metadata;
    /* the scopes this scope's Require oauth2-scope lines name, each once,
     * in order (const char *); NULL = no such line here */
    apr_array_header_t *required_scopes;

    /* OAuth2FederatedCircuitBreaker (README "Outages"): FAILURES, 0 for
     * Off, or UNSET; SECONDS with it. Not part of the provider identity:
     * it decides whether to call, not what is asked. */
    int breaker_failures;
    int breaker_seconds;

    /* the path of the innermost section that made this configuration
     * (<Location /api> → "/api"), for log lines; NULL at server level */
    const char *section;

    /* OAuth2FederatedForwardJWT (README "Phantom token"): the header
     * name, OA2F_FORWARD_OFF, or NULL when unset */
    const char *forward_jwt;
} oa2f_dir_conf_t;

/* Server configuration (README "Directives", *server*: the main server
 * only). */
typedef struct {
    const char *cache_spec;       /* NULL = default "shmcb"             */
    const char *cache_spec_where; /* "file:line" of the directive       */
    const char *cache_secret;     /* NULL = plain SHA-256 keys          */
    /* OAuth2FederatedSigningKey (README "Phantom token"): loaded and
     * checked when the directive is read; NULL = none */
    struct oa2f_signer *signer;
    const char *signing_key_where; /* "file:line"                       */
    /* OAuth2FederatedNearCache (README "Cache"): bytes, OA2F_NEAR_OFF,
     * or 0 when not given (the default) */
    long long near_cache;
} oa2f_srv_conf_t;

#define OA2F_NEAR_OFF     (-1LL)
#define OA2F_NEAR_DEFAULT 8388608LL
#define OA2F_NEAR_MIN     65536LL
/* shmcb indexes its segment with 32-bit offsets */
#define OA2F_NEAR_MAX (1LL << 31)

extern const command_rec oa2f_cmds[];
void *oa2f_create_srv_conf(apr_pool_t *p, server_rec *s);
void *oa2f_create_dir_conf(apr_pool_t *p, char *dir);
void *oa2f_merge_dir_conf(apr_pool_t *p, void *basev, void *addv);
/* pre_config: start collecting this generation's header prefixes. */
void oa2f_conf_pre_config(apr_pool_t *pconf);

/* ---- getters: the value in force, defaults applied ------------------ */
/* This scope's provider, finished (identity, Basic header, cache keyer),
 * or NULL when no provider directive applies here; defined in
 * src/mod_oa2f_conf_provider.c, which says when it is built. */
const oa2f_provider_t *oa2f_conf_provider(const oa2f_dir_conf_t *c);
int oa2f_conf_token_in(const oa2f_dir_conf_t *c);
/* Seconds; 0 = never reuse a validation, -1 = until the token expires. */
int oa2f_conf_cache_max_ttl(const oa2f_dir_conf_t *c);
int oa2f_conf_negative_ttl(const oa2f_dir_conf_t *c);
/* OAuth2FederatedStaleIfError, seconds; 0 = never serve stale. */
int oa2f_conf_stale_if_error(const oa2f_dir_conf_t *c);
int oa2f_conf_expose_headers(const oa2f_dir_conf_t *c);
oa2f_encoding_e oa2f_conf_value_encoding(const oa2f_dir_conf_t *c);
const char *oa2f_conf_header_prefix(const oa2f_dir_conf_t *c);
const char *oa2f_conf_env_prefix(const oa2f_dir_conf_t *c);
const apr_array_header_t *oa2f_conf_remote_user_fields(
    const oa2f_dir_conf_t *c);
oa2f_profile_e oa2f_conf_profile(const oa2f_dir_conf_t *c);
oa2f_strip_e oa2f_conf_strip_token(const oa2f_dir_conf_t *c);
/* OAuth2FederatedResource, or NULL. */
const char *oa2f_conf_resource(const oa2f_dir_conf_t *c);
/* The audiences a token's aud must contain one of: the Audience values,
 * else the Resource; NULL when no audience check applies here. */
const apr_array_header_t *oa2f_conf_audiences(apr_pool_t *p,
                                              const oa2f_dir_conf_t *c);
/* The issuers a token's iss must equal one of; NULL: no issuer check. */
const apr_array_header_t *oa2f_conf_issuers(const oa2f_dir_conf_t *c);
/* authorization_servers of the protected-resource metadata: the
 * AuthorizationServers values, else the issuers; NULL when neither. */
const apr_array_header_t *oa2f_conf_authz_servers(const oa2f_dir_conf_t *c);
/* The absolute URL of the RFC 9728 metadata document of the Resource
 * (README "Resource identity"), or NULL when no Resource is set. */
const char *oa2f_conf_resource_metadata(const oa2f_dir_conf_t *c);
/* The scopes named by the Require oauth2-scope lines in force here, each
 * once, in order; NULL when there is none. */
const apr_array_header_t *oa2f_conf_required_scopes(const oa2f_dir_conf_t *c);
/* Record the scopes of a Require oauth2-scope line in the per-directory
 * configuration of section vector v (the line's cmd->context). */
void oa2f_conf_add_required_scopes(apr_pool_t *p, ap_conf_vector_t *v,
                                   const char *path,
                                   const apr_array_header_t *scopes);
/* What log lines call the scope of r (README "Logging"): the path of
 * the innermost section of its configuration, else r->uri. */
const char *oa2f_conf_location(const oa2f_dir_conf_t *c, const request_rec *r);
/* OAuth2FederatedCircuitBreaker: 1 with *failures and *seconds (the
 * default 5 10 when unset), 0 when it is Off here. */
int oa2f_conf_breaker(const oa2f_dir_conf_t *c, int *failures, int *seconds);
/* The provider settings make, defaults applied, not yet finished
 * (no identity, no Basic header, no keyer). */
void oa2f_conf_provider_settings(const oa2f_provider_conf_t *pc,
                                 oa2f_provider_t *out);
/* Every header prefix of this configuration (the default included),
 * for the server-wide strip of client-sent headers. */
const apr_array_header_t *oa2f_conf_header_prefixes(void);

/* OAuth2FederatedForwardJWT: the header that carries the phantom
 * token, or NULL when Off (the default). */
const char *oa2f_conf_forward_jwt(const oa2f_dir_conf_t *c);

/* s is the main server: the server directives are allowed there only.
 * NULL = the default, shmcb. */
const char *oa2f_srv_cache_spec(const server_rec *s);
/* "file:line" of OAuth2FederatedCache, NULL when it was not given. */
const char *oa2f_srv_cache_spec_where(const server_rec *s);
/* NULL = none: plain SHA-256 keys, unsealed entries. */
const char *oa2f_srv_cache_secret(const server_rec *s);
/* OAuth2FederatedSigningKey's signer (oa2f_jose.h), or NULL. */
const struct oa2f_signer *oa2f_srv_signer(const server_rec *s);
/* "file:line" of OAuth2FederatedSigningKey, or NULL. */
const char *oa2f_srv_signing_key_where(const server_rec *s);
/* OAuth2FederatedNearCache in bytes, the default applied; 0 for Off. */
long long oa2f_srv_near_cache(const server_rec *s);

#endif
