/* Declarations shared by the httpd glue files (mod_oa2f_*.c). */
#ifndef MOD_OA2F_PRIVATE_H
#define MOD_OA2F_PRIVATE_H

#include <httpd.h>
#include <http_config.h>
#include <http_log.h>
#include <http_request.h>
#include <mod_auth.h>

#include "oa2f_claims.h"
#include "oa2f_http.h"
#include "oa2f_outcome.h"
#include "oa2f_provider.h"

APLOG_USE_MODULE(oauth2_federated);
extern module AP_MODULE_DECLARE_DATA oauth2_federated_module;

/* Our log tags: "OA2F" + a number, unique per call site; the next free
 * number is kept in src/LOGNO. */
#define OA2F_LOGNO(n) "OA2F" #n ": "

#define OA2F_AUTH_TYPE "oauth2-federated"
#define OA2F_UNSET (-1)
/* Longer field names are not sent as headers. */
#define OA2F_FIELD_NAME_MAX 256
/* r->notes key set when a request passed our check and every Require */
#define OA2F_NOTE_ALLOWED "oauth2-federated-allowed"

typedef enum {
    OA2F_STRIP_QUERY = 0,        /* the access_token query parameter   */
    OA2F_STRIP_ALL,              /* that and the Authorization header  */
    OA2F_STRIP_NONE
} oa2f_strip_e;

typedef enum {
    OA2F_PROFILE_GATEWAY = 0,
    OA2F_PROFILE_RFC6750 = 1
} oa2f_profile_e;

/* Per-directory configuration. Every member starts unset; defaults are
 * applied when read (oa2f_conf_*), so "unset" survives every merge. */
typedef struct {
    /* what the provider call needs */
    const char *dialect_name;
    const char *endpoint;
    const char *client_id;
    const char *client_secret;
    int client_auth;             /* oa2f_client_auth_e or UNSET        */
    int send_token_in;           /* oa2f_token_send_e or UNSET         */
    long connect_timeout_ms;     /* UNSET or ms                        */
    long total_timeout_ms;
    const char *proxy;
    const char *proxy_userpwd;
    int proxy_set;
    int ssl_verify;              /* 0, 1 or UNSET                      */
    const char *ca_file;
    const char *ca_digest;       /* of ca_file's content               */
    int provider_fields_set;     /* any of the above given here        */
    /* this scope's provider, finished (identity, Basic header) */
    oa2f_provider_t *provider;

    /* what the request side needs */
    int token_in;                /* OA2F_TOKEN_IN_* bits or 0 = unset  */
    int cache_max_ttl;           /* seconds or UNSET = until expiry    */
    int negative_ttl;            /* seconds or UNSET = 0               */
    int expose_headers;          /* 0, 1 or UNSET                      */
    const char *header_prefix;
    const char *env_prefix;
    apr_array_header_t *remote_user_fields;   /* const char *          */
    int status_profile;          /* oa2f_profile_e or UNSET            */
    int strip_token;             /* oa2f_strip_e or UNSET              */
} oa2f_dir_conf_t;

/* Server configuration (SPEC §2 *server* directives). */
typedef struct {
    const char *cache_spec;      /* NULL = default "shmcb"             */
    const char *cache_spec_where;/* "file:line" of the directive       */
    const char *cache_secret;    /* NULL = plain SHA-256 keys          */
} oa2f_srv_conf_t;

/* ---- mod_oa2f_config.c --------------------------------------------- */
extern const command_rec oa2f_cmds[];
void *oa2f_create_srv_conf(apr_pool_t *p, server_rec *s);
void *oa2f_create_dir_conf(apr_pool_t *p, char *dir);
void *oa2f_merge_dir_conf(apr_pool_t *p, void *basev, void *addv);
/* Rebuild conf->provider from conf's own members (config time). */
void oa2f_conf_refresh_provider(apr_pool_t *p, oa2f_dir_conf_t *conf);
/* pre_config: start collecting this generation's providers. */
void oa2f_conf_reset_providers(apr_pool_t *pconf);
/* post_config: give each collected provider its cache keyer. */
void oa2f_conf_key_providers(apr_pool_t *pconf, const char *secret);
int oa2f_conf_token_in(const oa2f_dir_conf_t *c);
int oa2f_conf_expose_headers(const oa2f_dir_conf_t *c);
const char *oa2f_conf_header_prefix(const oa2f_dir_conf_t *c);
const char *oa2f_conf_env_prefix(const oa2f_dir_conf_t *c);
const apr_array_header_t *oa2f_conf_remote_user_fields(
    const oa2f_dir_conf_t *c);
oa2f_profile_e oa2f_conf_profile(const oa2f_dir_conf_t *c);
int oa2f_conf_negative_ttl(const oa2f_dir_conf_t *c);
oa2f_strip_e oa2f_conf_strip_token(const oa2f_dir_conf_t *c);
/* Every header prefix of this configuration (the default included),
 * for the server-wide strip of client-sent headers. */
void oa2f_conf_note_header_prefix(const char *prefix);
const apr_array_header_t *oa2f_conf_header_prefixes(void);

/* ---- mod_oa2f_authn.c ---------------------------------------------- */
/* What a successful check leaves for the authz providers and fixups. */
typedef struct {
    const oa2f_claims_t *claims;
    const char *user;
    const char *identity;        /* provider it was validated against */
} oa2f_request_state_t;

int oa2f_is_ours(request_rec *r);
void oa2f_retrieve_optional_fns(void);
int oa2f_check_access(request_rec *r);
int oa2f_check_authn(request_rec *r);
int oa2f_note_auth_failure(request_rec *r, const char *auth_type);
void oa2f_child_init_http(apr_pool_t *p, server_rec *s);
/* The claims of this request (or of the main/previous request it came
 * from), or NULL when it was not authenticated by us. */
const oa2f_request_state_t *oa2f_request_state(request_rec *r);

/* ---- mod_oa2f_respond.c: the one outcome → status mapping ---------- */
/* Set the status line's challenge and error text for `o`; returns the
 * HTTP status to answer with. `required_scope` is for 403 scope errors
 * (may be NULL). */
int oa2f_respond(request_rec *r, const oa2f_dir_conf_t *conf,
                 oa2f_outcome_e o, const char *why,
                 const char *required_scope);

/* ---- mod_oa2f_authz.c ---------------------------------------------- */
void oa2f_register_authz_providers(apr_pool_t *p);
/* Hook that turns a failed Require oauth2-* into 403 (see file). */

/* ---- mod_oa2f_cache.c: socache, shared memory, single-flight ------- */
#include "oa2f_cache_entry.h"
#include "oa2f_flight.h"
#include "oa2f_stats.h"

int oa2f_cache_pre_config(apr_pool_t *pconf);
int oa2f_cache_check_config(apr_pool_t *pconf, server_rec *s);
int oa2f_cache_post_config(apr_pool_t *pconf, apr_pool_t *ptemp,
                           server_rec *s);
void oa2f_cache_child_init(apr_pool_t *p, server_rec *s);
/* NULL when OAuth2FederatedCache none. */
int oa2f_cache_enabled(void);
const char *oa2f_cache_secret(void);
typedef struct {
    oa2f_claims_t *claims;
    long long validated_at;
    const unsigned char *entry;     /* the encoded value claims point into */
    apr_size_t entry_len;
    int local;                      /* from this child's own copy          */
} oa2f_cache_found_t;

/* 1 and *found on a decodable entry, from this child's copy or else the
 * shared cache; 0 on a miss, an error or corruption. */
int oa2f_cache_get(request_rec *r, const unsigned char *key,
                   long long now, oa2f_cache_found_t *found);
/* Let this child answer the next lookups of an entry found in the shared
 * cache, until `until` (which the caller bounds by what the location may
 * serve); nothing to do for one that came from the child's own copy. */
void oa2f_cache_keep_local(const unsigned char *key, long long until,
                           const oa2f_cache_found_t *found);
/* Store until `until` (seconds since epoch); errors are logged once per
 * incident and otherwise ignored. */
void oa2f_cache_put(request_rec *r, const unsigned char *key,
                    const oa2f_claims_t *c, long long validated_at,
                    long long until);
oa2f_stats_t *oa2f_stats(void);
oa2f_flight_table_t *oa2f_flights(void);
struct oa2f_key_memo_t;
/* This child's memo of derived keys (NULL without a cache). */
struct oa2f_key_memo_t *oa2f_cache_key_memo(void);

/* ---- mod_oa2f_validate.c: cache → single-flight → provider --------- */
void oa2f_validate(request_rec *r, const oa2f_dir_conf_t *conf,
                   oa2f_http_pool_t *hp, const char *token,
                   oa2f_outcome_e *outcome, const oa2f_claims_t **claims,
                   const char **why);

/* ---- mod_oa2f_check.c: start-up consistency checks ---------------- */
int oa2f_check_protected_scopes(apr_pool_t *ptemp, server_rec *s);

/* ---- mod_oa2f_status.c --------------------------------------------- */
int oa2f_status_handler(request_rec *r);
int oa2f_count_request(request_rec *r);

/* ---- mod_oa2f_enrich.c --------------------------------------------- */
int oa2f_strip_client_headers(request_rec *r);
int oa2f_enrich_fixup(request_rec *r);

#endif
