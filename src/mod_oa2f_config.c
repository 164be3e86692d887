/* Per-directory configuration: create, merge, defaults applied on read. */
#include <apr_strings.h>

#include "mod_oa2f_private.h"
#include "oa2f_dialect.h"
#include "oa2f_keyer.h"
#include "oa2f_token.h"

/* Defaults of SPEC §2, in one place. */
#define DEF_DIALECT          "introspection"
#define DEF_CONNECT_MS       2000L
#define DEF_TOTAL_MS         5000L
#define DEF_HEADER_PREFIX    "X-AGW-"
#define DEF_ENV_PREFIX       "AGW_"
#define DEF_TOKEN_IN         (OA2F_TOKEN_IN_HEADER | OA2F_TOKEN_IN_QUERY)

/* OAuth2FederatedRemoteUserField's default, static so that it outlives
 * every configuration pool. */
static const char *def_user_fields[] = { "username", "sub", "uid",
                                         "client_id" };
static const apr_array_header_t default_remote_user_fields = {
    NULL, sizeof(const char *), 4, 4, (char *)def_user_fields
};

void *oa2f_create_dir_conf(apr_pool_t *p, char *dir)
{
    oa2f_dir_conf_t *c = apr_pcalloc(p, sizeof(*c));

    c->client_auth = OA2F_UNSET;
    c->send_token_in = OA2F_UNSET;
    c->connect_timeout_ms = OA2F_UNSET;
    c->total_timeout_ms = OA2F_UNSET;
    c->ssl_verify = OA2F_UNSET;
    c->cache_max_ttl = OA2F_UNSET;
    c->negative_ttl = OA2F_UNSET;
    c->expose_headers = OA2F_UNSET;
    c->status_profile = OA2F_UNSET;
    c->strip_token = OA2F_UNSET;
    oa2f_conf_refresh_provider(p, c);
    return c;
}

#define PICK(field, unset) \
    n->field = (add->field != (unset)) ? add->field : base->field

/* Fill prov from conf, applying the defaults for unset members. */
static void fill_provider(apr_pool_t *p, const oa2f_dir_conf_t *c,
                          oa2f_provider_t *prov)
{
    prov->dialect = oa2f_dialect_find(c->dialect_name ? c->dialect_name
                                                      : DEF_DIALECT);
    prov->endpoint = c->endpoint;
    prov->client_id = c->client_id;
    prov->client_secret = c->client_secret;
    prov->auth = (c->client_auth == OA2F_UNSET)
                 ? OA2F_AUTH_BASIC : (oa2f_client_auth_e)c->client_auth;
    prov->token_send = (c->send_token_in == OA2F_UNSET)
                       ? OA2F_TOKEN_SEND_QUERY
                       : (oa2f_token_send_e)c->send_token_in;
    prov->connect_timeout_ms = (c->connect_timeout_ms == OA2F_UNSET)
                               ? DEF_CONNECT_MS : c->connect_timeout_ms;
    prov->total_timeout_ms = (c->total_timeout_ms == OA2F_UNSET)
                             ? DEF_TOTAL_MS : c->total_timeout_ms;
    prov->proxy = c->proxy;
    prov->proxy_userpwd = c->proxy_userpwd;
    prov->ssl_verify = (c->ssl_verify == OA2F_UNSET) ? 1 : c->ssl_verify;
    prov->ca_file = c->ca_file;
    prov->ca_digest = c->ca_digest;
    prov->max_answer = OA2F_MAX_ANSWER;
    oa2f_provider_finish(p, prov);
}

/* The providers this configuration built, for oa2f_conf_key_providers();
 * NULL outside the directive-reading phase of a generation. */
static apr_array_header_t *known_providers;

/* Every OAuth2FederatedHeaderPrefix of this generation, distinct, the
 * default first: a client-sent header with any of them is removed from
 * every request, wherever the prefix was configured (README "Trust
 * boundaries"). Prefixes are config-file only, so all are known here. */
static apr_array_header_t *header_prefixes;

static apr_status_t forget_providers(void *unused)
{
    known_providers = NULL;
    header_prefixes = NULL;
    return APR_SUCCESS;
}

void oa2f_conf_note_header_prefix(const char *prefix)
{
    int i;

    if (!header_prefixes) {
        return;
    }
    for (i = 0; i < header_prefixes->nelts; i++) {
        if (!strcasecmp(APR_ARRAY_IDX(header_prefixes, i, const char *),
                        prefix)) {
            return;
        }
    }
    APR_ARRAY_PUSH(header_prefixes, const char *) =
        apr_pstrdup(header_prefixes->pool, prefix);
}

const apr_array_header_t *oa2f_conf_header_prefixes(void)
{
    static const char *def[] = { DEF_HEADER_PREFIX };
    static const apr_array_header_t only_default = {
        NULL, sizeof(const char *), 1, 1, (char *)def
    };

    return header_prefixes ? header_prefixes : &only_default;
}

void oa2f_conf_reset_providers(apr_pool_t *pconf)
{
    header_prefixes = apr_array_make(pconf, 4, sizeof(const char *));
    APR_ARRAY_PUSH(header_prefixes, const char *) = DEF_HEADER_PREFIX;
    known_providers = apr_array_make(pconf, 16, sizeof(oa2f_provider_t *));
    apr_pool_cleanup_register(pconf, NULL, forget_providers,
                              apr_pool_cleanup_null);
}

void oa2f_conf_key_providers(apr_pool_t *pconf, const char *secret)
{
    int i;

    for (i = 0; known_providers && i < known_providers->nelts; i++) {
        oa2f_provider_t *prov = APR_ARRAY_IDX(known_providers, i,
                                              oa2f_provider_t *);
        prov->keyer = oa2f_keyer_create(pconf, secret, prov->identity);
    }
}

void oa2f_conf_refresh_provider(apr_pool_t *p, oa2f_dir_conf_t *c)
{
    c->provider = apr_pcalloc(p, sizeof(*c->provider));
    fill_provider(p, c, c->provider);
    if (known_providers && p == known_providers->pool) {
        APR_ARRAY_PUSH(known_providers, oa2f_provider_t *) = c->provider;
    }
}

void *oa2f_merge_dir_conf(apr_pool_t *p, void *basev, void *addv)
{
    oa2f_dir_conf_t *base = basev, *add = addv;
    oa2f_dir_conf_t *n = apr_pcalloc(p, sizeof(*n));

    PICK(dialect_name, NULL);
    PICK(endpoint, NULL);
    PICK(client_id, NULL);
    PICK(client_secret, NULL);
    PICK(client_auth, OA2F_UNSET);
    PICK(send_token_in, OA2F_UNSET);
    PICK(connect_timeout_ms, OA2F_UNSET);
    PICK(total_timeout_ms, OA2F_UNSET);
    PICK(ssl_verify, OA2F_UNSET);
    PICK(ca_file, NULL);
    n->ca_digest = add->ca_file ? add->ca_digest : base->ca_digest;
    n->proxy_set = add->proxy_set || base->proxy_set;
    n->proxy = add->proxy_set ? add->proxy : base->proxy;
    n->proxy_userpwd = add->proxy_set ? add->proxy_userpwd
                                      : base->proxy_userpwd;
    n->provider_fields_set = add->provider_fields_set
                             || base->provider_fields_set;
    /* The provider (with its identity and Basic header) is built at
     * configuration time; merges at request time reuse it unless both
     * levels set provider directives, which needs a fresh one. */
    if (!add->provider_fields_set) {
        n->provider = base->provider;
    }
    else if (!base->provider_fields_set) {
        n->provider = add->provider;
    }
    else {
        oa2f_conf_refresh_provider(p, n);
    }

    PICK(token_in, 0);
    PICK(cache_max_ttl, OA2F_UNSET);
    PICK(negative_ttl, OA2F_UNSET);
    PICK(expose_headers, OA2F_UNSET);
    PICK(header_prefix, NULL);
    PICK(env_prefix, NULL);
    PICK(remote_user_fields, NULL);
    PICK(status_profile, OA2F_UNSET);
    PICK(strip_token, OA2F_UNSET);
    return n;
}

int oa2f_conf_token_in(const oa2f_dir_conf_t *c)
{
    return c->token_in ? (c->token_in & DEF_TOKEN_IN) : DEF_TOKEN_IN;
}

int oa2f_conf_expose_headers(const oa2f_dir_conf_t *c)
{
    return c->expose_headers == OA2F_UNSET ? 1 : c->expose_headers;
}

const char *oa2f_conf_header_prefix(const oa2f_dir_conf_t *c)
{
    return c->header_prefix ? c->header_prefix : DEF_HEADER_PREFIX;
}

const char *oa2f_conf_env_prefix(const oa2f_dir_conf_t *c)
{
    return c->env_prefix ? c->env_prefix : DEF_ENV_PREFIX;
}

const apr_array_header_t *oa2f_conf_remote_user_fields(
    const oa2f_dir_conf_t *c)
{
    return c->remote_user_fields ? c->remote_user_fields
                                 : &default_remote_user_fields;
}

oa2f_profile_e oa2f_conf_profile(const oa2f_dir_conf_t *c)
{
    return c->status_profile == OA2F_UNSET
           ? OA2F_PROFILE_GATEWAY : (oa2f_profile_e)c->status_profile;
}

int oa2f_conf_negative_ttl(const oa2f_dir_conf_t *c)
{
    return c->negative_ttl == OA2F_UNSET ? 0 : c->negative_ttl;
}

oa2f_strip_e oa2f_conf_strip_token(const oa2f_dir_conf_t *c)
{
    return c->strip_token == OA2F_UNSET ? OA2F_STRIP_QUERY
                                        : (oa2f_strip_e)c->strip_token;
}
