/* Configuration: per-directory create and merge, the getters that apply
 * the defaults, the server configuration, and the directive table with
 * one set_*() handler per directive (README "Directives"). Handlers
 * validate and return a message naming the directive; httpd adds the
 * file and line. The provider object that provider directives describe
 * is built later, once (src/mod_oa2f_conf_provider.c). */
#include <apr_strings.h>
#include <apr_uri.h>
#include <apr_lib.h>
#include <apr_file_info.h>
#include <http_core.h>

#include "mod_oa2f_config.h"
#include "mod_oa2f_private.h"
#include "mod_oa2f_prm.h"
#include "oa2f_breaker.h"
#include "oa2f_dialect.h"
#include "oa2f_jose.h"
#include "oa2f_token.h"

/* The defaults of README "Directives", in one place. */
#define DEF_DIALECT       "introspection"
#define DEF_CONNECT_MS    2000L
#define DEF_TOTAL_MS      5000L
#define DEF_HEADER_PREFIX "X-AGW-"
#define DEF_ENV_PREFIX    "AGW_"
#define DEF_TOKEN_IN      (OA2F_TOKEN_IN_HEADER | OA2F_TOKEN_IN_QUERY)
#define DEF_BREAKER_FAILS 5
#define DEF_BREAKER_SECS  10

/* OAuth2FederatedForwardJWT Off, told apart from unset */
static const char forward_off[] = "";
#define OA2F_FORWARD_OFF forward_off

/* OAuth2FederatedJWTTypes' default (RFC 9068 §2.1) */
static const char *def_jwt_types[] = { "at+jwt", "application/at+jwt" };
static const apr_array_header_t default_jwt_types = {
    NULL, sizeof(const char *), 2, 2, (char *)def_jwt_types
};

/* OAuth2FederatedRemoteUserField's default, static so that it outlives
 * every configuration pool. */
static const char *def_user_fields[] = { "username", "sub", "uid",
                                         "client_id" };
static const apr_array_header_t default_remote_user_fields = {
    NULL, sizeof(const char *), 4, 4, (char *)def_user_fields
};

/* ---- create and merge ------------------------------------------------- */

void *oa2f_create_dir_conf(apr_pool_t *p, char *dir)
{
    oa2f_dir_conf_t *c = apr_pcalloc(p, sizeof(*c));

    c->cache_max_ttl = OA2F_UNSET;
    c->negative_ttl = OA2F_UNSET;
    c->stale_if_error = OA2F_UNSET;
    c->expose_headers = OA2F_UNSET;
    c->value_encoding = OA2F_UNSET;
    c->status_profile = OA2F_UNSET;
    c->strip_token = OA2F_UNSET;
    c->breaker_failures = OA2F_UNSET;
    c->breaker_seconds = OA2F_UNSET;
    c->section = dir;
    return c;
}

void *oa2f_create_srv_conf(apr_pool_t *p, server_rec *s)
{
    return apr_pcalloc(p, sizeof(oa2f_srv_conf_t));
}

#define PICK(field, unset)                                                    \
    n->field = (add->field != (unset)) ? add->field : base->field

/* Settings of two levels that both have provider directives. */
static oa2f_provider_conf_t *merge_provider_conf(
    apr_pool_t *p, const oa2f_provider_conf_t *base,
    const oa2f_provider_conf_t *add)
{
    oa2f_provider_conf_t *n = apr_pcalloc(p, sizeof(*n));

    PICK(dialect_name, NULL);
    PICK(endpoint, NULL);
    PICK(metadata_url, NULL);
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
    PICK(local_jwt, OA2F_UNSET);
    PICK(jwks_url, NULL);
    PICK(jwt_types, NULL);
    return n;
}

void *oa2f_merge_dir_conf(apr_pool_t *p, void *basev, void *addv)
{
    oa2f_dir_conf_t *base = basev, *add = addv;
    oa2f_dir_conf_t *n = apr_pcalloc(p, sizeof(*n));

    /* Where one level alone has provider directives, the merge shares
     * its settings and their provider, at request time too. Where both
     * have, the merged settings get their provider on first use
     * (oa2f_conf_provider()). */
    if (!add->provider_conf) {
        n->provider_conf = base->provider_conf;
        n->provider = base->provider;
    }
    else if (!base->provider_conf) {
        n->provider_conf = add->provider_conf;
        n->provider = add->provider;
    }
    else {
        n->provider_conf = merge_provider_conf(p, base->provider_conf,
                                               add->provider_conf);
        n->provider = NULL;
    }

    /* a scope's AcceptTokenIn lines replace its parent's, they do not
     * add to them */
    n->token_in_set = add->token_in_set || base->token_in_set;
    n->token_in = add->token_in_set ? add->token_in : base->token_in;
    PICK(cache_max_ttl, OA2F_UNSET);
    PICK(negative_ttl, OA2F_UNSET);
    PICK(stale_if_error, OA2F_UNSET);
    PICK(expose_headers, OA2F_UNSET);
    PICK(value_encoding, OA2F_UNSET);
    PICK(header_prefix, NULL);
    PICK(env_prefix, NULL);
    PICK(remote_user_fields, NULL);
    PICK(status_profile, OA2F_UNSET);
    PICK(strip_token, OA2F_UNSET);
    PICK(resource, NULL);
    PICK(audiences, NULL);
    PICK(issuers, NULL);
    PICK(authz_servers, NULL);
    PICK(resource_metadata, NULL);
    PICK(required_scopes, NULL);
    /* FAILURES and SECONDS come from one line, so from the same level */
    n->breaker_seconds = (add->breaker_failures != OA2F_UNSET)
                             ? add->breaker_seconds
                             : base->breaker_seconds;
    PICK(breaker_failures, OA2F_UNSET);
    PICK(forward_jwt, NULL);
    PICK(section, NULL);
    return n;
}

/* ---- getters ---------------------------------------------------------- */

void oa2f_conf_provider_settings(const oa2f_provider_conf_t *pc,
                                 oa2f_provider_t *out)
{
    memset(out, 0, sizeof(*out));
    out->dialect = oa2f_dialect_find(pc->dialect_name ? pc->dialect_name
                                                      : DEF_DIALECT);
    out->endpoint = pc->endpoint;
    out->metadata_url = pc->metadata_url;
    out->client_id = pc->client_id;
    out->client_secret = pc->client_secret;
    out->auth = (pc->client_auth == OA2F_UNSET)
                    ? OA2F_AUTH_BASIC
                    : (oa2f_client_auth_e)pc->client_auth;
    out->token_send = (pc->send_token_in == OA2F_UNSET)
                          ? OA2F_TOKEN_SEND_QUERY
                          : (oa2f_token_send_e)pc->send_token_in;
    out->connect_timeout_ms = (pc->connect_timeout_ms == OA2F_UNSET)
                                  ? DEF_CONNECT_MS
                                  : pc->connect_timeout_ms;
    out->total_timeout_ms = (pc->total_timeout_ms == OA2F_UNSET)
                                ? DEF_TOTAL_MS
                                : pc->total_timeout_ms;
    out->proxy = pc->proxy;
    out->proxy_userpwd = pc->proxy_userpwd;
    out->ssl_verify = (pc->ssl_verify == OA2F_UNSET) ? 1 : pc->ssl_verify;
    out->ca_file = pc->ca_file;
    out->ca_digest = pc->ca_digest;
    out->max_answer = OA2F_MAX_ANSWER;
    out->local_jwt = pc->local_jwt == 1;
    out->jwks_url = pc->jwks_url;
    out->jwt_types = pc->jwt_types ? pc->jwt_types : &default_jwt_types;
}

const char *oa2f_conf_forward_jwt(const oa2f_dir_conf_t *c)
{
    return c->forward_jwt && *c->forward_jwt ? c->forward_jwt : NULL;
}

int oa2f_conf_token_in(const oa2f_dir_conf_t *c)
{
    return c->token_in_set ? c->token_in : DEF_TOKEN_IN;
}

int oa2f_conf_cache_max_ttl(const oa2f_dir_conf_t *c)
{
    return c->cache_max_ttl == OA2F_UNSET ? -1 : c->cache_max_ttl;
}

int oa2f_conf_negative_ttl(const oa2f_dir_conf_t *c)
{
    return c->negative_ttl == OA2F_UNSET ? 0 : c->negative_ttl;
}

oa2f_encoding_e oa2f_conf_value_encoding(const oa2f_dir_conf_t *c)
{
    return c->value_encoding == OA2F_UNSET
               ? OA2F_ENC_UTF8
               : (oa2f_encoding_e)c->value_encoding;
}

int oa2f_conf_stale_if_error(const oa2f_dir_conf_t *c)
{
    return c->stale_if_error == OA2F_UNSET ? 0 : c->stale_if_error;
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
    return c->status_profile == OA2F_UNSET ? OA2F_PROFILE_GATEWAY
                                           : (oa2f_profile_e)c->status_profile;
}

const char *oa2f_conf_resource(const oa2f_dir_conf_t *c)
{
    return c->resource;
}

const char *oa2f_conf_resource_metadata(const oa2f_dir_conf_t *c)
{
    return c->resource_metadata;
}

const apr_array_header_t *oa2f_conf_required_scopes(const oa2f_dir_conf_t *c)
{
    return c->required_scopes && c->required_scopes->nelts ? c->required_scopes
                                                           : NULL;
}

void oa2f_conf_add_required_scopes(apr_pool_t *p, ap_conf_vector_t *v,
                                   const char *path,
                                   const apr_array_header_t *scopes)
{
    oa2f_dir_conf_t *c;
    int i, j;

    if (!v) {
        return;
    }
    c = ap_get_module_config(v, &oauth2_federated_module);
    if (!c) {
        /* no directive of ours in this section yet */
        c = oa2f_create_dir_conf(p, (char *)path);
        ap_set_module_config(v, &oauth2_federated_module, c);
    }
    if (!c->required_scopes) {
        c->required_scopes = apr_array_make(p, 4, sizeof(const char *));
    }
    for (i = 0; i < scopes->nelts; i++) {
        const char *sc = APR_ARRAY_IDX(scopes, i, const char *);
        for (j = 0; j < c->required_scopes->nelts; j++) {
            if (!strcmp(APR_ARRAY_IDX(c->required_scopes, j, const char *),
                        sc)) {
                break;
            }
        }
        if (j == c->required_scopes->nelts) {
            APR_ARRAY_PUSH(c->required_scopes, const char *) = sc;
        }
    }
}

const apr_array_header_t *oa2f_conf_audiences(apr_pool_t *p,
                                              const oa2f_dir_conf_t *c)
{
    apr_array_header_t *only;

    if (c->audiences) {
        return c->audiences->nelts ? c->audiences : NULL; /* "none" */
    }
    if (!c->resource) {
        return NULL;
    }
    only = apr_array_make(p, 1, sizeof(const char *));
    APR_ARRAY_PUSH(only, const char *) = c->resource;
    return only;
}

const apr_array_header_t *oa2f_conf_issuers(const oa2f_dir_conf_t *c)
{
    return c->issuers && c->issuers->nelts ? c->issuers : NULL;
}

const apr_array_header_t *oa2f_conf_authz_servers(const oa2f_dir_conf_t *c)
{
    if (c->authz_servers && c->authz_servers->nelts) {
        return c->authz_servers;
    }
    return oa2f_conf_issuers(c);
}

int oa2f_conf_breaker(const oa2f_dir_conf_t *c, int *failures, int *seconds)
{
    if (c->breaker_failures == OA2F_UNSET) {
        *failures = DEF_BREAKER_FAILS;
        *seconds = DEF_BREAKER_SECS;
        return 1;
    }
    *failures = c->breaker_failures;
    *seconds = c->breaker_seconds;
    return c->breaker_failures > 0;
}

const char *oa2f_conf_location(const oa2f_dir_conf_t *c, const request_rec *r)
{
    return c->section ? c->section : r->uri;
}

oa2f_strip_e oa2f_conf_strip_token(const oa2f_dir_conf_t *c)
{
    return c->strip_token == OA2F_UNSET ? OA2F_STRIP_QUERY
                                        : (oa2f_strip_e)c->strip_token;
}

static const oa2f_srv_conf_t *srv_conf(const server_rec *s)
{
    return ap_get_module_config(s->module_config, &oauth2_federated_module);
}

const char *oa2f_srv_cache_spec(const server_rec *s)
{
    return srv_conf(s)->cache_spec;
}

const char *oa2f_srv_cache_spec_where(const server_rec *s)
{
    return srv_conf(s)->cache_spec_where;
}

const char *oa2f_srv_cache_secret(const server_rec *s)
{
    return srv_conf(s)->cache_secret;
}

const struct oa2f_signer *oa2f_srv_signer(const server_rec *s)
{
    return srv_conf(s)->signer;
}

const char *oa2f_srv_signing_key_where(const server_rec *s)
{
    return srv_conf(s)->signing_key_where;
}

long long oa2f_srv_near_cache(const server_rec *s)
{
    long long n = srv_conf(s)->near_cache;

    return n == OA2F_NEAR_OFF ? 0 : n > 0 ? n : OA2F_NEAR_DEFAULT;
}

/* ---- header prefixes -------------------------------------------------- */

/* Every OAuth2FederatedHeaderPrefix of this generation, distinct, the
 * default first: a client-sent header with any of them is removed from
 * every request, wherever the prefix was configured (README "Trust
 * boundaries"). Prefixes are config-file only, so all are known here.
 * NULL outside a generation's configuration pool. */
static apr_array_header_t *header_prefixes;

static apr_status_t forget_header_prefixes(void *unused)
{
    header_prefixes = NULL;
    return APR_SUCCESS;
}

void oa2f_conf_pre_config(apr_pool_t *pconf)
{
    header_prefixes = apr_array_make(pconf, 4, sizeof(const char *));
    APR_ARRAY_PUSH(header_prefixes, const char *) = DEF_HEADER_PREFIX;
    apr_pool_cleanup_register(pconf, NULL, forget_header_prefixes,
                              apr_pool_cleanup_null);
}

static void note_header_prefix(const char *prefix)
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
    APR_ARRAY_PUSH(header_prefixes,
                   const char *) = apr_pstrdup(header_prefixes->pool, prefix);
}

const apr_array_header_t *oa2f_conf_header_prefixes(void)
{
    static const char *def[] = { DEF_HEADER_PREFIX };
    static const apr_array_header_t only_default = { NULL,
                                                     sizeof(const char *), 1,
                                                     1, (char *)def };

    return header_prefixes ? header_prefixes : &only_default;
}

/* ---- helpers for the handlers ----------------------------------------- */

/* This scope's provider settings, made on its first provider directive. */
static oa2f_provider_conf_t *provider_conf(cmd_parms *cmd, void *mconfig)
{
    oa2f_dir_conf_t *c = mconfig;
    oa2f_provider_conf_t *pc = c->provider_conf;

    if (!pc) {
        pc = apr_pcalloc(cmd->pool, sizeof(*pc));
        pc->client_auth = OA2F_UNSET;
        pc->send_token_in = OA2F_UNSET;
        pc->connect_timeout_ms = OA2F_UNSET;
        pc->total_timeout_ms = OA2F_UNSET;
        pc->ssl_verify = OA2F_UNSET;
        pc->local_jwt = OA2F_UNSET;
        c->provider_conf = pc;
    }
    return pc;
}

static const char *check_url(cmd_parms *cmd, const char *url,
                             const char *const *schemes)
{
    apr_uri_t uri;
    int i;

    if (apr_uri_parse(cmd->temp_pool, url, &uri) != APR_SUCCESS || !uri.scheme
        || !uri.hostname || !*uri.hostname) {
        return apr_psprintf(cmd->pool, "%s: '%s' is not an absolute URL",
                            cmd->cmd->name, url);
    }
    for (i = 0; schemes[i]; i++) {
        if (strcasecmp(uri.scheme, schemes[i]) == 0) {
            return NULL;
        }
    }
    return apr_psprintf(cmd->pool,
                        "%s: '%s' uses scheme '%s'; expected "
                        "http or https",
                        cmd->cmd->name, url, uri.scheme);
}

/* One of a directive's keywords (case-insensitive) into *out. */
typedef struct {
    const char *word;
    int value;
} keyword_t;

static const char *parse_keyword(cmd_parms *cmd, const char *arg,
                                 const keyword_t *words, int *out)
{
    const char *list = NULL;
    int i;

    for (i = 0; words[i].word; i++) {
        if (!strcasecmp(arg, words[i].word)) {
            *out = words[i].value;
            return NULL;
        }
        list = list ? apr_pstrcat(cmd->temp_pool, list, ", ", words[i].word,
                                  NULL)
                    : words[i].word;
    }
    return apr_psprintf(cmd->pool, "%s: '%s' is not one of %s", cmd->cmd->name,
                        arg, list);
}

/* A whole number of seconds >= 0. */
static const char *parse_seconds(cmd_parms *cmd, const char *arg, int *out)
{
    char *end;
    long v;

    errno = 0;
    v = strtol(arg, &end, 10);
    if (!*arg || *end || errno || v < 0 || v > 100L * 365 * 86400) {
        return apr_psprintf(cmd->pool,
                            "%s: '%s' is not a number of seconds "
                            "(0 or more)",
                            cmd->cmd->name, arg);
    }
    *out = (int)v;
    return NULL;
}

/* Seconds, fractions allowed, > 0 and <= 600, into milliseconds. */
static const char *parse_timeout(cmd_parms *cmd, const char *arg, long *ms)
{
    char *end;
    double v;

    errno = 0;
    v = strtod(arg, &end);
    if (!*arg || *end || errno || !(v > 0) || v > 600) {
        return apr_psprintf(cmd->pool,
                            "%s: '%s' is not a timeout in seconds "
                            "(more than 0, at most 600)",
                            cmd->cmd->name, arg);
    }
    *ms = (long)(v * 1000.0 + 0.5);
    if (*ms < 1) {
        *ms = 1;
    }
    return NULL;
}

/* ---- provider directives ---------------------------------------------- */

static const char *set_provider(cmd_parms *cmd, void *mconfig, const char *arg)
{
    oa2f_provider_conf_t *pc = provider_conf(cmd, mconfig);
    const oa2f_dialect_t *d = oa2f_dialect_find(arg);

    if (!d) {
        return apr_psprintf(cmd->pool,
                            "%s: unknown provider dialect '%s'; "
                            "expected one of %s",
                            cmd->cmd->name, arg, oa2f_dialect_names());
    }
    pc->dialect_name = d->name;
    return NULL;
}

static const char *set_endpoint(cmd_parms *cmd, void *mconfig, const char *arg)
{
    static const char *const http_schemes[] = { "http", "https", NULL };
    oa2f_provider_conf_t *pc = provider_conf(cmd, mconfig);
    const char *err = check_url(cmd, arg, http_schemes);

    if (err) {
        return err;
    }
    pc->endpoint = arg;
    return NULL;
}

/* README "Resource identity": where the provider's RFC 8414 / OpenID
 * Connect metadata is; fetched at request time only. */
static const char *set_metadata_url(cmd_parms *cmd, void *mconfig,
                                    const char *arg)
{
    static const char *const http_schemes[] = { "http", "https", NULL };
    oa2f_provider_conf_t *pc = provider_conf(cmd, mconfig);
    const char *err = check_url(cmd, arg, http_schemes);

    if (err) {
        return err;
    }
    pc->metadata_url = arg;
    return NULL;
}

static const char *set_client_id(cmd_parms *cmd, void *mconfig,
                                 const char *arg)
{
    provider_conf(cmd, mconfig)->client_id = arg;
    return NULL;
}

static const char *set_client_secret(cmd_parms *cmd, void *mconfig,
                                     const char *arg)
{
    provider_conf(cmd, mconfig)->client_secret = arg;
    return NULL;
}

static const char *set_client_auth(cmd_parms *cmd, void *mconfig,
                                   const char *arg)
{
    static const keyword_t words[] = { { "basic", OA2F_AUTH_BASIC },
                                       { "post", OA2F_AUTH_POST },
                                       { "none", OA2F_AUTH_NONE },
                                       { NULL, 0 } };

    return parse_keyword(cmd, arg, words,
                         &provider_conf(cmd, mconfig)->client_auth);
}

static const char *set_send_token_in(cmd_parms *cmd, void *mconfig,
                                     const char *arg)
{
    static const keyword_t words[] = { { "query", OA2F_TOKEN_SEND_QUERY },
                                       { "header", OA2F_TOKEN_SEND_HEADER },
                                       { NULL, 0 } };

    return parse_keyword(cmd, arg, words,
                         &provider_conf(cmd, mconfig)->send_token_in);
}

static const char *set_timeout(cmd_parms *cmd, void *mconfig,
                               const char *connect, const char *total)
{
    oa2f_provider_conf_t *pc = provider_conf(cmd, mconfig);
    const char *err;
    long cms, tms;

    if ((err = parse_timeout(cmd, connect, &cms))
        || (err = parse_timeout(cmd, total, &tms))) {
        return err;
    }
    if (cms > tms) {
        return apr_psprintf(cmd->pool,
                            "%s: the connect timeout (%s) is "
                            "longer than the total timeout (%s)",
                            cmd->cmd->name, connect, total);
    }
    pc->connect_timeout_ms = cms;
    pc->total_timeout_ms = tms;
    return NULL;
}

static const char *set_proxy(cmd_parms *cmd, void *mconfig, const char *url,
                             const char *userpwd)
{
    static const char *const proxy_schemes[] = {
        "http", "https", "socks4", "socks4a", "socks5", "socks5h", NULL
    };
    oa2f_provider_conf_t *pc = provider_conf(cmd, mconfig);
    const char *err;

    if (!strcasecmp(url, "none")) {
        pc->proxy = NULL;
        pc->proxy_userpwd = NULL;
        pc->proxy_set = 1;
        return NULL;
    }
    if ((err = check_url(cmd, url, proxy_schemes))) {
        return err;
    }
    if (userpwd && !strchr(userpwd, ':')) {
        return apr_psprintf(cmd->pool,
                            "%s: the credentials must be "
                            "USER:PASSWORD",
                            cmd->cmd->name);
    }
    pc->proxy = url;
    pc->proxy_userpwd = userpwd;
    pc->proxy_set = 1;
    return NULL;
}

static const char *set_ssl_verify(cmd_parms *cmd, void *mconfig, int on)
{
    provider_conf(cmd, mconfig)->ssl_verify = on ? 1 : 0;
    return NULL;
}

/* The CA file's content becomes part of the provider identity, so that
 * a verdict obtained under other trust anchors (a changed file and a
 * graceful restart included) is never reused (README "Trust
 * boundaries"). */
#define CA_FILE_MAX (16 * 1024 * 1024)

static const char *set_ca_file(cmd_parms *cmd, void *mconfig, const char *arg)
{
    oa2f_provider_conf_t *pc = provider_conf(cmd, mconfig);
    const char *path = ap_server_root_relative(cmd->pool, arg);
    apr_finfo_t fi;
    apr_file_t *f;
    char *data;
    apr_size_t got = 0;

    if (!path
        || apr_stat(&fi, path, APR_FINFO_TYPE | APR_FINFO_SIZE, cmd->temp_pool)
               != APR_SUCCESS
        || fi.filetype != APR_REG || fi.size > CA_FILE_MAX
        || apr_file_open(&f, path, APR_FOPEN_READ | APR_FOPEN_BINARY,
                         APR_OS_DEFAULT, cmd->temp_pool)
               != APR_SUCCESS) {
        return apr_psprintf(cmd->pool, "%s: '%s' is not a readable file",
                            cmd->cmd->name, arg);
    }
    data = apr_palloc(cmd->temp_pool, (apr_size_t)fi.size + 1);
    if (fi.size > 0
        && apr_file_read_full(f, data, (apr_size_t)fi.size, &got)
               != APR_SUCCESS) {
        apr_file_close(f);
        return apr_psprintf(cmd->pool, "%s: cannot read '%s'", cmd->cmd->name,
                            arg);
    }
    apr_file_close(f);
    pc->ca_file = path;
    pc->ca_digest = oa2f_provider_digest(cmd->pool, data, got);
    return NULL;
}

/* ---- request-side directives ------------------------------------------ */

static const char *set_accept_token_in(cmd_parms *cmd, void *mconfig,
                                       const char *arg)
{
    static const keyword_t words[] = { { "header", OA2F_TOKEN_IN_HEADER },
                                       { "query", OA2F_TOKEN_IN_QUERY },
                                       { NULL, 0 } };
    oa2f_dir_conf_t *c = mconfig;
    const char *err;
    int bit;

    if ((err = parse_keyword(cmd, arg, words, &bit))) {
        return err;
    }
    /* the scope's own lines add up; the merge replaces the parent's */
    c->token_in |= bit;
    c->token_in_set = 1;
    return NULL;
}

static const char *set_cache_max_ttl(cmd_parms *cmd, void *mconfig,
                                     const char *arg)
{
    return parse_seconds(cmd, arg,
                         &((oa2f_dir_conf_t *)mconfig)->cache_max_ttl);
}

static const char *set_negative_ttl(cmd_parms *cmd, void *mconfig,
                                    const char *arg)
{
    return parse_seconds(cmd, arg,
                         &((oa2f_dir_conf_t *)mconfig)->negative_ttl);
}

/* README "Outages": at most a day past the reuse time. */
static const char *set_stale_if_error(cmd_parms *cmd, void *mconfig,
                                      const char *arg)
{
    int v;
    const char *err = parse_seconds(cmd, arg, &v);

    if (!err && v > 86400) {
        err = apr_psprintf(cmd->pool,
                           "%s: '%s' is more than 86400 seconds (a day)",
                           cmd->cmd->name, arg);
    }
    if (!err) {
        ((oa2f_dir_conf_t *)mconfig)->stale_if_error = v;
    }
    return err;
}

static const char *set_expose_headers(cmd_parms *cmd, void *mconfig, int on)
{
    ((oa2f_dir_conf_t *)mconfig)->expose_headers = on ? 1 : 0;
    return NULL;
}

static const char *set_value_encoding(cmd_parms *cmd, void *mconfig,
                                      const char *arg)
{
    static const keyword_t words[] = { { "utf8", OA2F_ENC_UTF8 },
                                       { "latin1", OA2F_ENC_LATIN1 },
                                       { "base64url", OA2F_ENC_BASE64URL },
                                       { NULL, 0 } };

    return parse_keyword(cmd, arg, words,
                         &((oa2f_dir_conf_t *)mconfig)->value_encoding);
}

static const char *set_header_prefix(cmd_parms *cmd, void *mconfig,
                                     const char *arg)
{
    const char *s;

    /* a prefix must itself be a valid start of a header name */
    for (s = arg; *s; s++) {
        if (!apr_isalnum(*s) && !strchr("!#$%&'*+-.^_`|~", *s)) {
            break;
        }
    }
    if (!*arg || *s || strlen(arg) > 64) {
        return apr_psprintf(cmd->pool,
                            "%s: '%s' is not a valid header name "
                            "prefix",
                            cmd->cmd->name, arg);
    }
    ((oa2f_dir_conf_t *)mconfig)->header_prefix = arg;
    note_header_prefix(arg);
    return NULL;
}

static const char *set_env_prefix(cmd_parms *cmd, void *mconfig,
                                  const char *arg)
{
    const char *s;

    for (s = arg; *s; s++) {
        if (!apr_isalnum(*s) && *s != '_') {
            break;
        }
    }
    if (*s || !apr_isalpha(*arg) || strlen(arg) > 64) {
        return apr_psprintf(cmd->pool,
                            "%s: '%s' is not a valid environment "
                            "variable prefix (a letter, then letters, "
                            "digits, _)",
                            cmd->cmd->name, arg);
    }
    ((oa2f_dir_conf_t *)mconfig)->env_prefix = arg;
    return NULL;
}

static const char *set_remote_user_field(cmd_parms *cmd, void *mconfig,
                                         const char *arg)
{
    oa2f_dir_conf_t *c = mconfig;

    if (!c->remote_user_fields) {
        c->remote_user_fields = apr_array_make(cmd->pool, 4,
                                               sizeof(const char *));
    }
    APR_ARRAY_PUSH(c->remote_user_fields, const char *) = arg;
    return NULL;
}

static const char *set_resource(cmd_parms *cmd, void *mconfig, const char *arg)
{
    static const char *const http_schemes[] = { "http", "https", NULL };
    const char *err = check_url(cmd, arg, http_schemes);

    if (err) {
        return err;
    }
    ((oa2f_dir_conf_t *)mconfig)->resource = arg;
    ((oa2f_dir_conf_t *)mconfig)->resource_metadata = oa2f_prm_url(cmd->pool,
                                                                   arg);
    return NULL;
}

/* One value of a list directive (values of all its lines in a section
 * add up); "none" alone leaves the list empty, which turns an inherited
 * check off. */
static const char *list_value(cmd_parms *cmd, apr_array_header_t **list,
                              const char *arg)
{
    if (!*list) {
        *list = apr_array_make(cmd->pool, 2, sizeof(const char *));
    }
    if (!strcasecmp(arg, "none")) {
        return (*list)->nelts ? apr_psprintf(cmd->pool,
                                             "%s: 'none' stands "
                                             "alone",
                                             cmd->cmd->name)
                              : NULL;
    }
    APR_ARRAY_PUSH(*list, const char *) = arg;
    return NULL;
}

static const char *set_audience(cmd_parms *cmd, void *mconfig, const char *arg)
{
    return list_value(cmd, &((oa2f_dir_conf_t *)mconfig)->audiences, arg);
}

static const char *set_issuer(cmd_parms *cmd, void *mconfig, const char *arg)
{
    return list_value(cmd, &((oa2f_dir_conf_t *)mconfig)->issuers, arg);
}

static const char *set_authz_servers(cmd_parms *cmd, void *mconfig,
                                     const char *arg)
{
    static const char *const http_schemes[] = { "http", "https", NULL };
    const char *err = check_url(cmd, arg, http_schemes);

    return err ? err
               : list_value(cmd, &((oa2f_dir_conf_t *)mconfig)->authz_servers,
                            arg);
}

static const char *set_strip_token(cmd_parms *cmd, void *mconfig,
                                   const char *arg)
{
    static const keyword_t words[] = { { "query", OA2F_STRIP_QUERY },
                                       { "all", OA2F_STRIP_ALL },
                                       { "none", OA2F_STRIP_NONE },
                                       { NULL, 0 } };

    return parse_keyword(cmd, arg, words,
                         &((oa2f_dir_conf_t *)mconfig)->strip_token);
}

static const char *set_status_profile(cmd_parms *cmd, void *mconfig,
                                      const char *arg)
{
    static const keyword_t words[] = { { "gateway", OA2F_PROFILE_GATEWAY },
                                       { "rfc6750", OA2F_PROFILE_RFC6750 },
                                       { NULL, 0 } };

    return parse_keyword(cmd, arg, words,
                         &((oa2f_dir_conf_t *)mconfig)->status_profile);
}

/* 1 and *out when arg is a whole number in [lo, hi]. */
static int parse_range(const char *arg, long lo, long hi, int *out)
{
    char *end;
    long v;

    errno = 0;
    v = strtol(arg, &end, 10);
    if (!*arg || *end || errno || v < lo || v > hi) {
        return 0;
    }
    *out = (int)v;
    return 1;
}

/* README "Outages": FAILURES (1-1000) SECONDS (1-300), or Off. */
static const char *set_circuit_breaker(cmd_parms *cmd, void *mconfig,
                                       const char *failures,
                                       const char *seconds)
{
    oa2f_dir_conf_t *c = mconfig;
    int f, s;

    if (!seconds) {
        if (strcasecmp(failures, "off") != 0) {
            return apr_psprintf(cmd->pool,
                                "%s: '%s': expected FAILURES SECONDS or "
                                "Off",
                                cmd->cmd->name, failures);
        }
        c->breaker_failures = 0;
        c->breaker_seconds = 0;
        return NULL;
    }
    if (!parse_range(failures, 1, OA2F_BREAKER_MAX_FAILURE, &f)) {
        return apr_psprintf(cmd->pool,
                            "%s: FAILURES '%s' is not a whole number from 1 "
                            "to %d",
                            cmd->cmd->name, failures,
                            OA2F_BREAKER_MAX_FAILURE);
    }
    if (!parse_range(seconds, 1, OA2F_BREAKER_MAX_SECONDS, &s)) {
        return apr_psprintf(cmd->pool,
                            "%s: SECONDS '%s' is not a whole number from 1 "
                            "to %d",
                            cmd->cmd->name, seconds, OA2F_BREAKER_MAX_SECONDS);
    }
    c->breaker_failures = f;
    c->breaker_seconds = s;
    return NULL;
}

/* ---- local JWT validation and the phantom token (README "Local JWT
 * validation", "Phantom token") ---------------------------------------- */

static const char *set_local_jwt(cmd_parms *cmd, void *mconfig, int on)
{
    provider_conf(cmd, mconfig)->local_jwt = on ? 1 : 0;
    return NULL;
}

static const char *set_jwks_url(cmd_parms *cmd, void *mconfig, const char *arg)
{
    static const char *const http_schemes[] = { "http", "https", NULL };
    const char *err = check_url(cmd, arg, http_schemes);

    if (err) {
        return err;
    }
    provider_conf(cmd, mconfig)->jwks_url = arg;
    return NULL;
}

/* RFC 7515 §4.1.9: a media type, "application/" optional. */
static const char *set_jwt_types(cmd_parms *cmd, void *mconfig,
                                 const char *arg)
{
    oa2f_provider_conf_t *pc = provider_conf(cmd, mconfig);
    const char *s;

    for (s = arg; *s; s++) {
        if (!apr_isalnum(*s) && !strchr("!#$&-^_.+/", *s)) {
            break;
        }
    }
    if (!*arg || *s || strlen(arg) > 128) {
        return apr_psprintf(cmd->pool,
                            "%s: '%s' is not a media type such as at+jwt",
                            cmd->cmd->name, arg);
    }
    if (!pc->jwt_types) {
        pc->jwt_types = apr_array_make(cmd->pool, 2, sizeof(const char *));
    }
    APR_ARRAY_PUSH(pc->jwt_types, const char *) = arg;
    return NULL;
}

static const char *set_forward_jwt(cmd_parms *cmd, void *mconfig,
                                   const char *arg)
{
    const char *s;

    if (!strcasecmp(arg, "off")) {
        ((oa2f_dir_conf_t *)mconfig)->forward_jwt = OA2F_FORWARD_OFF;
        return NULL;
    }
    for (s = arg; *s; s++) {
        if (!apr_isalnum(*s) && !strchr("!#$%&'*+-.^_`|~", *s)) {
            break;
        }
    }
    if (*s || strlen(arg) > 64) {
        return apr_psprintf(cmd->pool,
                            "%s: '%s' is not a header name (or Off)",
                            cmd->cmd->name, arg);
    }
    ((oa2f_dir_conf_t *)mconfig)->forward_jwt = arg;
    return NULL;
}

/* Read and check the key now, so that `apachectl -t` names the file and
 * what is wrong with it. */
#define SIGNING_KEY_MAX (64 * 1024)

static const char *set_signing_key(cmd_parms *cmd, void *mconfig,
                                   const char *file, const char *kid)
{
    oa2f_srv_conf_t *sc = ap_get_module_config(cmd->server->module_config,
                                               &oauth2_federated_module);
    const char *err = ap_check_cmd_context(cmd, GLOBAL_ONLY);
    const char *path, *why = NULL;
    apr_finfo_t fi;
    apr_file_t *f;
    char *data;
    apr_size_t got = 0;

    if (err) {
        return err;
    }
    path = ap_server_root_relative(cmd->pool, file);
    if (!path
        || apr_stat(&fi, path, APR_FINFO_TYPE | APR_FINFO_SIZE, cmd->temp_pool)
               != APR_SUCCESS
        || fi.filetype != APR_REG || fi.size > SIGNING_KEY_MAX
        || apr_file_open(&f, path, APR_FOPEN_READ | APR_FOPEN_BINARY,
                         APR_OS_DEFAULT, cmd->temp_pool)
               != APR_SUCCESS) {
        return apr_psprintf(cmd->pool,
                            "%s: '%s' is not a readable file of at most "
                            "%d bytes",
                            cmd->cmd->name, file, SIGNING_KEY_MAX);
    }
    data = apr_palloc(cmd->temp_pool, (apr_size_t)fi.size + 1);
    if (apr_file_read_full(f, data, (apr_size_t)fi.size, &got)
        != APR_SUCCESS) {
        apr_file_close(f);
        return apr_psprintf(cmd->pool, "%s: cannot read '%s'", cmd->cmd->name,
                            file);
    }
    apr_file_close(f);
    data[got] = '\0';
    if (kid && (!*kid || strlen(kid) > 256)) {
        return apr_psprintf(cmd->pool, "%s: the KID is empty or too long",
                            cmd->cmd->name);
    }
    sc->signer = oa2f_signer_load(cmd->pool, data, got, kid, &why);
    /* the key's bytes do not outlive the check */
    memset(data, 0, got);
    if (!sc->signer) {
        return apr_psprintf(cmd->pool,
                            "%s: '%s' is not a usable signing key: %s "
                            "(expected a PEM private key: P-256, RSA of "
                            "2048 bits or more, or Ed25519)",
                            cmd->cmd->name, file, why ? why : "unknown");
    }
    sc->signing_key_where = apr_psprintf(cmd->pool, "%s:%d",
                                         cmd->directive->filename,
                                         cmd->directive->line_num);
    return NULL;
}

/* ---- server directives ------------------------------------------------ */

static const char *set_cache(cmd_parms *cmd, void *mconfig, const char *arg)
{
    oa2f_srv_conf_t *sc = ap_get_module_config(cmd->server->module_config,
                                               &oauth2_federated_module);
    const char *err = ap_check_cmd_context(cmd, GLOBAL_ONLY);

    if (err) {
        return err;
    }
    sc->cache_spec = arg;
    sc->cache_spec_where = apr_psprintf(cmd->pool, "%s:%d",
                                        cmd->directive->filename,
                                        cmd->directive->line_num);
    return NULL;
}

static const char *set_cache_secret(cmd_parms *cmd, void *mconfig,
                                    const char *arg)
{
    oa2f_srv_conf_t *sc = ap_get_module_config(cmd->server->module_config,
                                               &oauth2_federated_module);
    const char *err = ap_check_cmd_context(cmd, GLOBAL_ONLY);

    if (err) {
        return err;
    }
    if (!*arg) {
        return apr_psprintf(cmd->pool, "%s: the secret is empty",
                            cmd->cmd->name);
    }
    sc->cache_secret = arg;
    return NULL;
}

/* OAuth2FederatedNearCache BYTES|Off (README "Cache"). */
static const char *set_near_cache(cmd_parms *cmd, void *mconfig,
                                  const char *arg)
{
    oa2f_srv_conf_t *sc = ap_get_module_config(cmd->server->module_config,
                                               &oauth2_federated_module);
    const char *err = ap_check_cmd_context(cmd, GLOBAL_ONLY);
    apr_int64_t n;
    char *end;

    if (err) {
        return err;
    }
    if (!strcasecmp(arg, "off")) {
        sc->near_cache = OA2F_NEAR_OFF;
        return NULL;
    }
    errno = 0;
    n = apr_strtoi64(arg, &end, 10);
    if (errno || end == arg || *end || !apr_isdigit(*arg)) {
        return apr_psprintf(cmd->pool,
                            "%s: '%s' is neither a number of bytes nor Off",
                            cmd->cmd->name, arg);
    }
    if (n < OA2F_NEAR_MIN || n >= OA2F_NEAR_MAX) {
        return apr_psprintf(cmd->pool,
                            "%s: %s bytes is out of range (at least %lld, "
                            "less than %lld)",
                            cmd->cmd->name, arg, OA2F_NEAR_MIN, OA2F_NEAR_MAX);
    }
    sc->near_cache = (long long)n;
    return NULL;
}

/* ---- the table -------------------------------------------------------- */

/* Where credentials go and what the backend trusts is decided by the
 * configuration files only (server, virtual hosts, <Location>,
 * <Directory>, <Files>), never by .htaccess (README "Trust
 * boundaries"); who may pass stays .htaccess-able with AuthConfig. */
#define PROVIDER_CONF (RSRC_CONF | ACCESS_CONF)

/* clang-format off: httpd's table layout, one directive per entry */
const command_rec oa2f_cmds[] = {
    AP_INIT_TAKE1(
        "OAuth2FederatedProvider", set_provider, NULL, PROVIDER_CONF,
        "validation dialect: introspection, pingfederate, openam or mule"),
    AP_INIT_TAKE1("OAuth2FederatedEndpoint", set_endpoint, NULL, PROVIDER_CONF,
                  "the provider's validation endpoint URL (http or https)"),
    AP_INIT_TAKE1("OAuth2FederatedMetadataURL", set_metadata_url, NULL,
                  PROVIDER_CONF,
                  "the provider's RFC 8414 or OpenID Connect metadata URL "
                  "(http or https)"),
    AP_INIT_TAKE1("OAuth2FederatedClientID", set_client_id, NULL,
                  PROVIDER_CONF,
                  "client id this resource server presents to the provider"),
    AP_INIT_TAKE1("OAuth2FederatedClientSecret", set_client_secret, NULL,
                  PROVIDER_CONF,
                  "client secret this resource server presents"),
    AP_INIT_TAKE1("OAuth2FederatedClientAuth", set_client_auth, NULL,
                  PROVIDER_CONF, "client authentication: basic, post or none"),
    AP_INIT_TAKE1("OAuth2FederatedSendTokenIn", set_send_token_in, NULL,
                  PROVIDER_CONF,
                  "openam: send the token as query parameter or header"),
    AP_INIT_ITERATE("OAuth2FederatedAcceptTokenIn", set_accept_token_in, NULL,
                    OR_AUTHCFG,
                    "where a client may present the token: header, query"),
    AP_INIT_TAKE1("OAuth2FederatedCacheMaxTTL", set_cache_max_ttl, NULL,
                  OR_AUTHCFG,
                  "seconds a validation may be reused at most (0: never)"),
    AP_INIT_TAKE1("OAuth2FederatedNegativeCacheTTL", set_negative_ttl, NULL,
                  OR_AUTHCFG, "seconds a rejected token's verdict is reused"),
    /* not in .htaccess: revocation rules live as long as the longest
     * stale window of the configuration files (README "Revocation") */
    AP_INIT_TAKE1("OAuth2FederatedStaleIfError", set_stale_if_error, NULL,
                  PROVIDER_CONF,
                  "seconds past its reuse time a validation is still served "
                  "while the provider fails (0-86400)"),
    AP_INIT_FLAG("OAuth2FederatedExposeHeaders", set_expose_headers, NULL,
                 OR_AUTHCFG,
                 "send the provider's fields to the backend as headers"),
    AP_INIT_TAKE1("OAuth2FederatedValueEncoding", set_value_encoding, NULL,
                  OR_AUTHCFG,
                  "header and environment values: utf8, latin1 or base64url"),
    AP_INIT_TAKE1("OAuth2FederatedHeaderPrefix", set_header_prefix, NULL,
                  PROVIDER_CONF, "prefix of the headers sent to the backend"),
    AP_INIT_TAKE1("OAuth2FederatedEnvPrefix", set_env_prefix, NULL,
                  PROVIDER_CONF,
                  "prefix of the environment variables for subprocesses"),
    AP_INIT_ITERATE("OAuth2FederatedRemoteUserField", set_remote_user_field,
                    NULL, OR_AUTHCFG, "fields tried in order for REMOTE_USER"),
    AP_INIT_TAKE2(
        "OAuth2FederatedTimeout", set_timeout, NULL, PROVIDER_CONF,
        "connect and total timeout of one provider call, in seconds"),
    AP_INIT_TAKE12("OAuth2FederatedProxy", set_proxy, NULL, PROVIDER_CONF,
                   "outgoing proxy URL for provider calls [USER:PASSWORD]"),
    AP_INIT_FLAG("OAuth2FederatedSSLVerify", set_ssl_verify, NULL,
                 PROVIDER_CONF,
                 "verify the provider's certificate and host name"),
    AP_INIT_TAKE1("OAuth2FederatedCAFile", set_ca_file, NULL, PROVIDER_CONF,
                  "trust anchors for the provider's certificate (PEM file)"),
    AP_INIT_TAKE12("OAuth2FederatedCircuitBreaker", set_circuit_breaker, NULL,
                   PROVIDER_CONF,
                   "stop calling a failing provider endpoint: FAILURES "
                   "SECONDS, or Off"),
    AP_INIT_TAKE1("OAuth2FederatedResource", set_resource, NULL, OR_AUTHCFG,
                  "this location's resource identifier (an absolute URI)"),
    AP_INIT_ITERATE("OAuth2FederatedAudience", set_audience, NULL, OR_AUTHCFG,
                    "values one of which the token's aud must "
                    "contain (none: no audience check)"),
    AP_INIT_ITERATE("OAuth2FederatedIssuer", set_issuer, NULL, OR_AUTHCFG,
                    "values one of which the token's iss must equal (none: "
                    "no issuer check)"),
    AP_INIT_ITERATE("OAuth2FederatedAuthorizationServers", set_authz_servers,
                    NULL, OR_AUTHCFG,
                    "authorization_servers of the "
                    "protected-resource metadata"),
    AP_INIT_TAKE1("OAuth2FederatedStripToken", set_strip_token, NULL,
                  OR_AUTHCFG,
                  "what of the token the handler still sees: query (the "
                  "access_token parameter is removed), all, none"),
    AP_INIT_TAKE1("OAuth2FederatedStatusProfile", set_status_profile, NULL,
                  OR_AUTHCFG, "status map: gateway or rfc6750"),
    AP_INIT_FLAG("OAuth2FederatedLocalJWT", set_local_jwt, NULL, PROVIDER_CONF,
                 "validate JWT access tokens locally with the provider's "
                 "keys"),
    AP_INIT_TAKE1("OAuth2FederatedJWKSURL", set_jwks_url, NULL, PROVIDER_CONF,
                  "where the provider's keys are (a JWKS URL; default: the "
                  "metadata's jwks_uri)"),
    AP_INIT_ITERATE("OAuth2FederatedJWTTypes", set_jwt_types, NULL,
                    PROVIDER_CONF,
                    "accepted typ headers of JWT access tokens"),
    /* config files only: what the backend trusts, as the prefixes */
    AP_INIT_TAKE1("OAuth2FederatedForwardJWT", set_forward_jwt, NULL,
                  PROVIDER_CONF,
                  "send the backend a JWT signed by this server in this "
                  "header (Authorization, or a name), or Off"),
    AP_INIT_TAKE12("OAuth2FederatedSigningKey", set_signing_key, NULL,
                   RSRC_CONF,
                   "PEM private key that signs forwarded JWTs [KID]"),
    AP_INIT_TAKE1(
        "OAuth2FederatedCache", set_cache, NULL, RSRC_CONF,
        "validation cache: shmcb[:args], redis:host:port, memcache:..., none"),
    AP_INIT_TAKE1("OAuth2FederatedCacheSecret", set_cache_secret, NULL,
                  RSRC_CONF, "key of the HMAC that names cache entries"),
    AP_INIT_TAKE1("OAuth2FederatedNearCache", set_near_cache, NULL, RSRC_CONF,
                  "bytes of this server's copy of a redis or memcache "
                  "cache's entries (default 8388608), or Off"),
    { NULL }
};
/* clang-format on */
