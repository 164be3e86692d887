/* The provider object of every per-directory configuration, built once.
 *
 * Provider directives are config-file only (README "Trust boundaries"),
 * so every setting a scope can end up with is known once the
 * configuration is read. post_config builds, in the configuration pool,
 * the provider of every scope httpd keeps for a server: its defaults,
 * its <Directory>, <Location> and <Files> sections and the <If> sections
 * inside them. A request in one of those scopes, or in a merge where one
 * level alone has provider directives, uses that provider as it is.
 *
 * Two kinds of settings are only seen at request time: the merge of two
 * levels that both have provider directives (nested <Location>s), and
 * sections kept by other modules (mod_proxy's <Proxy>). Their provider
 * is built on first use, once per child, in a table keyed by the values
 * the settings end up with; the table lives in the child's pool, so a
 * graceful restart, which replaces the children, starts from nothing. */
#include <apr_hash.h>
#include <apr_strings.h>
#include <apr_thread_mutex.h>
#include <http_core.h>

#include "mod_oa2f_conf_provider.h"
#include "mod_oa2f_config.h"
#include "mod_oa2f_private.h"
#include "oa2f_keyer.h"

/* Identity, Basic header and cache keyer: everything a request would
 * otherwise derive again (oa2f_provider.h, oa2f_keyer.h). */
static void finish(apr_pool_t *p, oa2f_provider_t *prov, const char *secret)
{
    oa2f_provider_finish(p, prov);
    /* lives as long as the provider: the key memo compares keyers by
     * address */
    prov->keyer = oa2f_keyer_create(p, secret, prov->identity);
}

/* ---- configuration time ------------------------------------------------ */

/* README "Revocation": every provider built at configuration time, in
 * pconf, so that a revoked token's entries are found under each. */
static apr_array_header_t *built_at_config;

static void build_sections(apr_pool_t *p, const apr_array_header_t *secs,
                           const char *secret);

static void build_scope(apr_pool_t *p, ap_conf_vector_t *v, const char *secret)
{
    oa2f_dir_conf_t *c = ap_get_module_config(v, &oauth2_federated_module);
    core_dir_config *core = ap_get_core_module_config(v);

    if (c && c->provider_conf && !c->provider) {
        oa2f_provider_conf_t *pc = c->provider_conf;
        /* a scope merged at configuration time (a virtual host's
         * defaults) may share its settings with another */
        if (!pc->built) {
            pc->built = apr_palloc(p, sizeof(*pc->built));
            oa2f_conf_provider_settings(pc, pc->built);
            finish(p, pc->built, secret);
            APR_ARRAY_PUSH(built_at_config,
                           const oa2f_provider_t *) = pc->built;
        }
        c->provider = pc->built;
    }
    if (core) {
        build_sections(p, core->sec_file, secret);
        build_sections(p, core->sec_if, secret);
    }
}

static void build_sections(apr_pool_t *p, const apr_array_header_t *secs,
                           const char *secret)
{
    int i;

    for (i = 0; secs && i < secs->nelts; i++) {
        build_scope(p, APR_ARRAY_IDX(secs, i, ap_conf_vector_t *), secret);
    }
}

void oa2f_conf_providers_post_config(apr_pool_t *pconf, server_rec *s)
{
    /* the server directives are the main server's */
    const char *secret = oa2f_srv_cache_secret(s);

    built_at_config = apr_array_make(pconf, 8,
                                     sizeof(const oa2f_provider_t *));
    for (; s; s = s->next) {
        core_server_config *core = ap_get_core_module_config(s->module_config);
        build_scope(pconf, s->lookup_defaults, secret);
        build_sections(pconf, core->sec_dir, secret);
        build_sections(pconf, core->sec_url, secret);
    }
}

/* ---- request time ---------------------------------------------------- */

typedef struct {
    apr_pool_t *pool;
#if APR_HAS_THREADS
    apr_thread_mutex_t *lock;
#endif
    apr_hash_t *by_settings;
    /* README "Resource identity": scope provider and discovered
     * endpoint → the provider that calls it */
    apr_hash_t *by_endpoint;
    const char *secret;
} child_table_t;

/* This child's table; NULL in the parent. */
static child_table_t *child;

void oa2f_conf_providers_child_init(apr_pool_t *pchild, server_rec *s)
{
    child_table_t *t;
    apr_pool_t *p;

    child = NULL;
    if (apr_pool_create(&p, pchild) != APR_SUCCESS) {
        return;
    }
    t = apr_pcalloc(p, sizeof(*t));
    t->pool = p;
#if APR_HAS_THREADS
    if (apr_thread_mutex_create(&t->lock, APR_THREAD_MUTEX_DEFAULT, p)
        != APR_SUCCESS) {
        ap_log_error(
            APLOG_MARK, APLOG_CRIT, 0, s,
            OA2F_LOGNO(
                10007) "cannot create the lock of the provider table: scopes "
                       "merged at request time have no provider in this "
                       "process");
        return;
    }
#endif
    t->by_settings = apr_hash_make(p);
    t->by_endpoint = apr_hash_make(p);
    t->secret = oa2f_srv_cache_secret(s);
    child = t;
}

/* What the provider is built from. The strings are the configuration's
 * own, which outlives the child, so their addresses name them. */
#define KEY_WORDS 17

static void settings_key(const oa2f_provider_t *s, apr_uintptr_t k[KEY_WORDS])
{
    k[0] = (apr_uintptr_t)s->dialect;
    k[1] = (apr_uintptr_t)s->endpoint;
    k[2] = (apr_uintptr_t)s->client_id;
    k[3] = (apr_uintptr_t)s->client_secret;
    k[4] = (apr_uintptr_t)s->auth;
    k[5] = (apr_uintptr_t)s->token_send;
    k[6] = (apr_uintptr_t)s->connect_timeout_ms;
    k[7] = (apr_uintptr_t)s->total_timeout_ms;
    k[8] = (apr_uintptr_t)s->proxy;
    k[9] = (apr_uintptr_t)s->proxy_userpwd;
    k[10] = (apr_uintptr_t)s->ssl_verify;
    k[11] = (apr_uintptr_t)s->ca_file;
    k[12] = (apr_uintptr_t)s->ca_digest;
    k[13] = (apr_uintptr_t)s->metadata_url;
    k[14] = (apr_uintptr_t)s->local_jwt;
    k[15] = (apr_uintptr_t)s->jwks_url;
    k[16] = (apr_uintptr_t)s->jwt_types;
}

static oa2f_provider_t *from_child_table(const oa2f_provider_conf_t *pc)
{
    oa2f_provider_t want, *prov;
    apr_uintptr_t key[KEY_WORDS];

    if (!child) {
        return NULL;
    }
    oa2f_conf_provider_settings(pc, &want);
    settings_key(&want, key);
#if APR_HAS_THREADS
    apr_thread_mutex_lock(child->lock);
#endif
    prov = apr_hash_get(child->by_settings, key, sizeof(key));
    if (!prov) {
        prov = apr_pmemdup(child->pool, &want, sizeof(want));
        finish(child->pool, prov, child->secret);
        apr_hash_set(child->by_settings,
                     apr_pmemdup(child->pool, key, sizeof(key)), sizeof(key),
                     prov);
    }
#if APR_HAS_THREADS
    apr_thread_mutex_unlock(child->lock);
#endif
    return prov;
}

/* c is const for its readers: the provider is derived from the settings,
 * so storing it changes no setting. */
const oa2f_provider_t *oa2f_conf_provider(const oa2f_dir_conf_t *cc)
{
    oa2f_dir_conf_t *c = (oa2f_dir_conf_t *)cc;
    oa2f_provider_t *prov = __atomic_load_n(&c->provider, __ATOMIC_ACQUIRE);

    if (prov || !c->provider_conf) {
        return prov;
    }
    /* Settings made by a request-time merge, or a section post_config
     * did not see: threads of this child may get here at once for one
     * shared section, and all store the same provider. */
    prov = __atomic_load_n(&c->provider_conf->built, __ATOMIC_ACQUIRE);
    if (!prov) {
        prov = from_child_table(c->provider_conf);
        if (!prov) {
            return NULL;
        }
        __atomic_store_n(&c->provider_conf->built, prov, __ATOMIC_RELEASE);
    }
    __atomic_store_n(&c->provider, prov, __ATOMIC_RELEASE);
    return prov;
}

const oa2f_provider_t *oa2f_conf_provider_discovered(
    const oa2f_provider_t *scope, const char *endpoint)
{
    apr_size_t elen = strlen(endpoint);
    apr_size_t klen = sizeof(scope) + elen;
    char stack_key[512];
    char *key = klen <= sizeof(stack_key) ? stack_key : NULL;
    oa2f_provider_t *prov;

    if (!child) {
        return NULL;
    }
#if APR_HAS_THREADS
    apr_thread_mutex_lock(child->lock);
#endif
    if (!key) {
        /* a long endpoint: the key in the child's pool, once per new
         * endpoint (bounded by the documents seen) */
        key = apr_palloc(child->pool, klen);
    }
    memcpy(key, &scope, sizeof(scope));
    memcpy(key + sizeof(scope), endpoint, elen);
    prov = apr_hash_get(child->by_endpoint, key, (apr_ssize_t)klen);
    if (!prov) {
        prov = apr_pmemdup(child->pool, scope, sizeof(*scope));
        prov->endpoint = apr_pstrmemdup(child->pool, endpoint, elen);
        finish(child->pool, prov, child->secret);
        apr_hash_set(child->by_endpoint,
                     key == stack_key ? apr_pmemdup(child->pool, key, klen)
                                      : key,
                     (apr_ssize_t)klen, prov);
    }
#if APR_HAS_THREADS
    apr_thread_mutex_unlock(child->lock);
#endif
    return prov;
}

static void push_values(apr_array_header_t *out, apr_pool_t *p, apr_hash_t *h)
{
    apr_hash_index_t *hi;

    for (hi = apr_hash_first(p, h); hi; hi = apr_hash_next(hi)) {
        APR_ARRAY_PUSH(out, const oa2f_provider_t *) = apr_hash_this_val(hi);
    }
}

apr_array_header_t *oa2f_conf_providers_all(apr_pool_t *p)
{
    apr_array_header_t *out = apr_array_make(p, 16,
                                             sizeof(const oa2f_provider_t *));

    if (built_at_config) {
        apr_array_cat(out, built_at_config);
    }
    if (!child) {
        return out;
    }
#if APR_HAS_THREADS
    apr_thread_mutex_lock(child->lock);
#endif
    push_values(out, p, child->by_settings);
    push_values(out, p, child->by_endpoint);
#if APR_HAS_THREADS
    apr_thread_mutex_unlock(child->lock);
#endif
    return out;
}
