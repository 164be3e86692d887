/* Configuration (src/mod_oa2f_config.c): the directive table, the
 * per-directory and server records, and their getters, which apply the
 * defaults (README "Directives"). */
#ifndef MOD_OA2F_CONFIG_H
#define MOD_OA2F_CONFIG_H

#include <httpd.h>
#include <http_config.h>

#include "oa2f_provider.h"

#define OA2F_UNSET (-1)

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

#endif
