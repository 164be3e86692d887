/* mod_oauth2_federated: OAuth 2.0 bearer-token enforcement against
 * federated authorization servers (see README.md).
 *
 * The module record and its hooks; the directives are in
 * src/mod_oa2f_config.c, the work in the other files of src/. */
#include <http_core.h>
#include <http_protocol.h>
#include <http_request.h>
#include <mod_auth.h>

#include "mod_oa2f_private.h"
#include "mod_oa2f_authn.h"
#include "mod_oa2f_authz.h"
#include "mod_oa2f_check.h"
#include "mod_oa2f_conf_provider.h"
#include "mod_oa2f_discovery.h"
#include "mod_oa2f_config.h"
#include "mod_oa2f_enrich.h"
#include "mod_oa2f_fleet_lock.h"
#include "mod_oa2f_jwks.h"
#include "mod_oa2f_phantom.h"
#include "mod_oa2f_prm.h"
#include "mod_oa2f_respond.h"
#include "oa2f_version.h"
#include "mod_oa2f_revoke.h"
#include "mod_oa2f_socache.h"
#include "mod_oa2f_status.h"
#include "oa2f_http.h"

/* ---- hooks -------------------------------------------------------------- */

static int pre_config(apr_pool_t *pconf, apr_pool_t *plog, apr_pool_t *ptemp)
{
    oa2f_conf_pre_config(pconf);
    return oa2f_cache_pre_config(pconf);
}

static int check_config(apr_pool_t *pconf, apr_pool_t *plog, apr_pool_t *ptemp,
                        server_rec *s)
{
    int rv = oa2f_check_protected_scopes(ptemp, s);

    if (rv != OK) {
        return rv;
    }
    rv = oa2f_phantom_check_config(ptemp, s);
    if (rv != OK) {
        return rv;
    }
    return oa2f_cache_check_config(pconf, s);
}

static int post_config(apr_pool_t *pconf, apr_pool_t *plog, apr_pool_t *ptemp,
                       server_rec *s)
{
    int rv;

    if (!oa2f_http_global_init()) {
        ap_log_error(APLOG_MARK, APLOG_CRIT, 0, s,
                     OA2F_LOGNO(10001) "libcurl could not be initialised");
        return HTTP_INTERNAL_SERVER_ERROR;
    }
    /* the first pass only reads the configuration (and apachectl -t
     * ends there): one line per start and restart */
    if (ap_state_query(AP_SQ_MAIN_STATE) != AP_SQ_MS_CREATE_PRE_CONFIG) {
        ap_log_error(APLOG_MARK, APLOG_NOTICE, 0, s,
                     OA2F_LOGNO(10012) "mod_oauth2_federated %s (%s) loaded",
                     oa2f_version(), oa2f_version_libraries(ptemp));
        oa2f_check_warnings(ptemp, s);
    }
    oa2f_conf_providers_post_config(pconf, s);
    oa2f_prm_post_config(pconf, ptemp, s);
    rv = oa2f_cache_post_config(pconf, ptemp, s);
    if (rv == OK) {
        oa2f_revoke_post_config(ptemp, s);
        oa2f_fleet_lock_post_config(pconf, s);
    }
    return rv;
}

/* apachectl -t ends before post_config: its warnings, once. */
static void test_config(apr_pool_t *pconf, server_rec *s)
{
    oa2f_check_warnings(pconf, s);
}

static void child_init(apr_pool_t *p, server_rec *s)
{
    oa2f_child_init_http(p, s);
    oa2f_cache_child_init(p, s);
    oa2f_fleet_lock_child_init(p, s);
    oa2f_conf_providers_child_init(p, s);
    oa2f_discovery_child_init(p, s);
    oa2f_jwks_child_init(p, s);
    oa2f_phantom_child_init(p, s);
}

static void register_hooks(apr_pool_t *p)
{
    /* Drop client-sent headers with any of our prefixes before anything
     * else looks at them, once per request read from a client. */
    ap_hook_post_read_request(oa2f_strip_client_headers, NULL, NULL,
                              APR_HOOK_REALLY_FIRST);
    /* RFC 9728 metadata before any access control of the URL space
     * (README "Resource identity"). */
    ap_hook_quick_handler(oa2f_prm_quick_handler, NULL, NULL, APR_HOOK_FIRST);
    /* Validate in the access phase so that an authenticated caller who
     * fails a Require oauth2-* line gets 403 from mod_authz_core
     * (see mod_oa2f_authn.c). */
    ap_hook_check_access(oa2f_check_access, NULL, NULL, APR_HOOK_MIDDLE,
                         AP_AUTH_INTERNAL_PER_CONF);
    ap_hook_check_authn(oa2f_check_authn, NULL, NULL, APR_HOOK_MIDDLE,
                        AP_AUTH_INTERNAL_PER_CONF);
    ap_hook_note_auth_failure(oa2f_note_auth_failure, NULL, NULL,
                              APR_HOOK_MIDDLE);
    ap_hook_fixups(oa2f_allowed_fixup, NULL, NULL, APR_HOOK_REALLY_FIRST);
    ap_hook_fixups(oa2f_enrich_fixup, NULL, NULL, APR_HOOK_MIDDLE);
    ap_hook_pre_config(pre_config, NULL, NULL, APR_HOOK_MIDDLE);
    ap_hook_check_config(check_config, NULL, NULL, APR_HOOK_MIDDLE);
    ap_hook_test_config(test_config, NULL, NULL, APR_HOOK_MIDDLE);
    ap_hook_post_config(post_config, NULL, NULL, APR_HOOK_MIDDLE);
    ap_hook_handler(oa2f_status_handler, NULL, NULL, APR_HOOK_MIDDLE);
    ap_hook_insert_error_filter(oa2f_respond_insert_error_filter, NULL, NULL,
                                APR_HOOK_MIDDLE);
    oa2f_respond_register_filter();
    ap_hook_handler(oa2f_revoke_handler, NULL, NULL, APR_HOOK_MIDDLE);
    ap_hook_handler(oa2f_phantom_jwks_handler, NULL, NULL, APR_HOOK_MIDDLE);
    ap_hook_log_transaction(oa2f_count_request, NULL, NULL, APR_HOOK_MIDDLE);
    ap_hook_child_init(child_init, NULL, NULL, APR_HOOK_MIDDLE);
    ap_hook_optional_fn_retrieve(oa2f_retrieve_optional_fns, NULL, NULL,
                                 APR_HOOK_MIDDLE);
    oa2f_register_authz_providers(p);
}

/* Spelled out rather than AP_DECLARE_MODULE(): the private header already
 * said APLOG_USE_MODULE for every file of the module. */
module AP_MODULE_DECLARE_DATA oauth2_federated_module = {
    STANDARD20_MODULE_STUFF,
    oa2f_create_dir_conf, /* per-directory config creator */
    oa2f_merge_dir_conf,  /* per-directory config merger */
    oa2f_create_srv_conf, /* server config creator */
    NULL,                 /* server config merger: server-wide only */
    oa2f_cmds,            /* directive table */
    register_hooks        /* hook registration */
};
