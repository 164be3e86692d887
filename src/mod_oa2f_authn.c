/* Authentication: token → validation → r->user and the claims.
 *
 * The check runs in an access_checker_ex hook (AP_AUTH_INTERNAL_PER_CONF)
 * rather than only in check_authn: mod_authz_core's own userless pass
 * (hooked LAST in the same phase) then already sees r->user, so a failed
 * Require oauth2-* line is answered 403 (AH01630) whatever
 * AuthzSendForbiddenOnFailure says, while check_authn alone would give
 * 401 (authorize_user_core()). check_authn stays for paths that skip the
 * access phase's result.
 *
 * Hooks return DECLINED when the AuthType is not ours, an HTTP status on
 * failure, and DECLINED (access) / OK (authn) on success. */
#include <apr_strings.h>
#include <http_core.h>
#include <http_protocol.h>

#include <mod_ssl.h>

#include "mod_oa2f_private.h"
#include "mod_oa2f_authn.h"
#include "mod_oa2f_config.h"
#include "mod_oa2f_discovery.h"
#include "mod_oa2f_respond.h"
#include "mod_oa2f_verdict.h"
#include "oa2f_audience.h"
#include "oa2f_bearer.h"
#include "oa2f_sanitize.h"
#include "oa2f_dialect.h"
#include "oa2f_token.h"
#include "oa2f_verdict.h"

/* Per child process: idle libcurl handles, kept-alive connections. */
static oa2f_http_pool_t *http_pool;

void oa2f_child_init_http(apr_pool_t *p, server_rec *s)
{
    http_pool = oa2f_http_pool_create(p);
    if (!http_pool) {
        ap_log_error(
            APLOG_MARK, APLOG_CRIT, 0, s,
            OA2F_LOGNO(10002) "cannot create the provider connection pool");
    }
}

/* mod_ssl's variable lookup, for certificate-bound tokens; NULL when
 * mod_ssl is not loaded. */
static APR_OPTIONAL_FN_TYPE(ssl_var_lookup) * ssl_var;

void oa2f_retrieve_optional_fns(void)
{
    ssl_var = APR_RETRIEVE_OPTIONAL_FN(ssl_var_lookup);
}

int oa2f_is_ours(request_rec *r)
{
    const char *type = ap_auth_type(r);

    return type && strcasecmp(type, OA2F_AUTH_TYPE) == 0;
}

const oa2f_request_state_t *oa2f_request_state(request_rec *r)
{
    request_rec *q;

    for (q = r; q; q = q->main ? q->main : q->prev) {
        const oa2f_request_state_t *st = ap_get_module_config(
            q->request_config, &oauth2_federated_module);
        if (st) {
            return st;
        }
    }
    return NULL;
}

/* r->user from the first configured field that has a non-empty value. */
static const char *pick_user(request_rec *r, const oa2f_dir_conf_t *conf,
                             const oa2f_claims_t *c, const char *token)
{
    const apr_array_header_t *names = oa2f_conf_remote_user_fields(conf);
    int i;

    for (i = 0; i < names->nelts; i++) {
        const oa2f_field_t *f = oa2f_claims_get(
            c, APR_ARRAY_IDX(names, i, const char *));
        if (f && f->shown && *f->shown) {
            return f->shown;
        }
    }
    /* Nothing to name the caller by: a pseudonym that is not the token. */
    return apr_pstrcat(r->pool,
                       "token:", oa2f_token_fingerprint(r->pool, token), NULL);
}

/* Provider trouble is logged at error level at most once per interval
 * per process and outcome, the rest at info (README "Logging"): an
 * outage must not flood the log, and one kind of trouble (refused
 * credentials) must not hide another (an unreachable provider) from a
 * log at LogLevel warn. */
#define OUTAGE_LOG_INTERVAL 10
static apr_int64_t last_outage_logged[OA2F_OUTCOME_MAX];

static int outage_level(oa2f_outcome_e o)
{
    apr_int64_t now = (apr_int64_t)apr_time_sec(apr_time_now());
    apr_int64_t *slot = &last_outage_logged[o];
    apr_int64_t last = __atomic_load_n(slot, __ATOMIC_RELAXED);

    if (now - last >= OUTAGE_LOG_INTERVAL
        && __atomic_compare_exchange_n(slot, &last, now, 0, __ATOMIC_RELAXED,
                                       __ATOMIC_RELAXED)) {
        return APLOG_ERR;
    }
    return APLOG_INFO;
}

static int log_level_for(oa2f_outcome_e o)
{
    if ((int)o < 0 || o >= OA2F_OUTCOME_MAX) {
        o = OA2F_INTERNAL;
    }
    switch (oa2f_outcome_info(o)->log) {
    case OA2F_LOG_OUTAGE:
        return outage_level(o);
    case OA2F_LOG_INFO:
        return APLOG_INFO;
    default:
        return APLOG_DEBUG;
    }
}

/* httpd logs the request line (%r) as it came, query included: mask
 * every access_token parameter in it, so that a token sent in the query
 * reaches no access or error log (README "Trust boundaries"), whatever
 * OAuth2FederatedStripToken leaves of the query itself. */
static void mask_request_line(request_rec *r)
{
    static const char name[] = "access_token=";
    const char *q, *p;
    char *line, *out;

    if (!r->the_request || !(q = strchr(r->the_request, '?'))
        || !strstr(q, name)) {
        return;
    }
    line = apr_pstrdup(r->pool, r->the_request);
    out = line + (q - r->the_request);
    for (p = out; (p = strstr(p, name)) != NULL;) {
        char *v = (char *)p + sizeof(name) - 1;
        char *end = v;
        if (p[-1] != '?' && p[-1] != '&') {
            p = v;
            continue;
        }
        while (*end && *end != '&' && *end != ' ' && *end != '#') {
            end++;
        }
        if (end > v) {
            /* keep the line's shape: the value becomes "*" */
            *v = '*';
            memmove(v + 1, end, strlen(end) + 1);
        }
        p = v + 1;
    }
    r->the_request = line;
}

/* OAuth2FederatedStripToken (README "Trust boundaries"): what of the
 * caller's token the handler still sees. The query is rewritten before
 * the fixups, so mod_proxy's canonical URL, CGI's QUERY_STRING and %q
 * are built without it. */
static void strip_token(request_rec *r, const oa2f_dir_conf_t *conf)
{
    oa2f_strip_e mode = oa2f_conf_strip_token(conf);
    const char *args;

    if (mode == OA2F_STRIP_NONE) {
        return;
    }
    if (r->args
        && (args = oa2f_query_without_token(r->pool, r->args)) != r->args) {
        const char *q = r->unparsed_uri ? strchr(r->unparsed_uri, '?') : NULL;
        r->args = (char *)args;
        r->parsed_uri.query = (char *)args;
        if (q) {
            r->unparsed_uri = apr_pstrcat(
                r->pool,
                apr_pstrmemdup(r->pool, r->unparsed_uri,
                               (apr_size_t)(q - r->unparsed_uri)),
                args ? "?" : "", args, NULL);
        }
    }
    if (mode == OA2F_STRIP_ALL) {
        apr_table_unset(r->headers_in, "Authorization");
    }
}

/* A certificate-bound token (RFC 8705 §3) passes only over TLS with the
 * client certificate it was bound to. */
static oa2f_outcome_e check_client_cert(request_rec *r, const char *x5t,
                                        const char **why)
{
    const char *pem = NULL, *mine;

    if (ssl_var) {
        pem = ssl_var(r->pool, r->server, r->connection, r,
                      (char *)"SSL_CLIENT_CERT");
    }
    if (!pem || !*pem) {
        *why = "the token is bound to a client certificate and none was "
               "presented over TLS";
        return OA2F_INACTIVE;
    }
    mine = oa2f_x5t_s256_of_pem(r->pool, pem);
    if (!mine || strcmp(mine, x5t) != 0) {
        *why = "the token is bound to another client certificate";
        return OA2F_INACTIVE;
    }
    return OA2F_OK;
}

/* README "Resource identity": this location's audience and issuer lists
 * against the verdict's claims, per request, so that one cached
 * validation serves locations with different audiences (RFC 8707 §2,
 * RFC 9068 §4). Without an Issuer list, the issuer of the metadata
 * document (discovered, or NULL) applies, and an answer without iss
 * passes it. */
static oa2f_outcome_e check_identity(request_rec *r,
                                     const oa2f_dir_conf_t *conf,
                                     const oa2f_claims_t *claims,
                                     const char *discovered_issuer,
                                     const char **why)
{
    const apr_array_header_t *issuers = oa2f_conf_issuers(conf);
    oa2f_outcome_e o = oa2f_audience_check(
        r->pool, claims, oa2f_conf_audiences(r->pool, conf), why);

    if (o == OA2F_OK) {
        o = issuers ? oa2f_issuer_check(r->pool, claims, issuers, why)
                    : oa2f_issuer_check_discovered(r->pool, claims,
                                                   discovered_issuer, why);
    }
    return o;
}

/* The whole check for one request; OK with r->user set, or a status. */
static int authenticate(request_rec *r)
{
    oa2f_dir_conf_t *conf = ap_get_module_config(r->per_dir_config,
                                                 &oauth2_federated_module);
    const oa2f_provider_t *prov = oa2f_conf_provider(conf);
    const oa2f_request_state_t *related;
    oa2f_request_state_t *st;
    const char *token = NULL, *why = NULL, *disc_issuer = NULL;
    oa2f_outcome_e o;
    const oa2f_claims_t *claims = NULL;
    oa2f_validation_t v;

    /* README "Resource identity": with a metadata URL, the endpoint (when
     * none is set) and the issuer (when no Issuer is) come from the
     * document, fetched on first need; the provider then carries the
     * discovered endpoint, and so does its identity */
    if (prov && prov->metadata_url
        && (!prov->endpoint || !oa2f_conf_issuers(conf))) {
        o = oa2f_discovery_resolve(r, prov, http_pool, &prov, &disc_issuer,
                                   &why);
        if (o != OA2F_OK) {
            /* logged by discovery, once per incident */
            return oa2f_respond(r, conf, o, why, NULL);
        }
    }

    /* Subrequests and internal redirects reuse the verdict they came
     * from instead of asking again, when it came from the same provider
     * configuration; their own Require lines are still applied. */
    if ((r->main || r->prev) && (related = oa2f_request_state(r)) != NULL
        && prov && related->identity
        && strcmp(related->identity, prov->identity) == 0) {
        /* the verdict is shared, this location's resource identity is
         * not: checked again here */
        if (related->claims
            && (o = check_identity(r, conf, related->claims, disc_issuer,
                                   &why))
                   != OA2F_OK) {
            ap_log_rerror(APLOG_MARK, APLOG_INFO, 0, r,
                          OA2F_LOGNO(10008) "token of %s: %s (%s)",
                          related->user, oa2f_outcome_name(o), why);
            return oa2f_respond(r, conf, o, why, NULL);
        }
        r->user = (char *)related->user;
        r->ap_auth_type = (char *)OA2F_AUTH_TYPE;
        ap_set_module_config(r->request_config, &oauth2_federated_module,
                             (void *)related);
        return OK;
    }

    if (!prov || !prov->endpoint || !prov->dialect) {
        ap_log_rerror(
            APLOG_MARK, APLOG_ERR, 0, r,
            OA2F_LOGNO(
                10003) "AuthType %s without OAuth2FederatedEndpoint for %s",
            OA2F_AUTH_TYPE, r->uri);
        return oa2f_respond(r, conf, OA2F_INTERNAL, NULL, NULL);
    }

    if (r->args) {
        mask_request_line(r); /* also where query tokens are refused */
    }
    o = oa2f_token_extract(r->pool,
                           apr_table_get(r->headers_in, "Authorization"),
                           r->args, oa2f_conf_token_in(conf), &token, &why);
    strip_token(r, conf);
    if (o != OA2F_OK) {
        ap_log_rerror(APLOG_MARK, APLOG_DEBUG, 0, r,
                      OA2F_LOGNO(10004) "token refused before validation: %s",
                      why);
        return oa2f_respond(r, conf, o, why, NULL);
    }

    oa2f_request_verdict(r, conf, prov, http_pool, token, &v);
    o = v.outcome;
    claims = v.claims;
    why = v.why;
    if (o == OA2F_OK) {
        /* per request, cached verdicts included: the certificate is the
         * connection's */
        const char *x5t = NULL;
        o = oa2f_bearer_check(r->pool, claims, prov->dialect->own_token_type,
                              &x5t, &why);
        if (o == OA2F_OK && x5t) {
            o = check_client_cert(r, x5t, &why);
        }
        if (o == OA2F_OK) {
            o = check_identity(r, conf, claims, disc_issuer, &why);
        }
    }
    if (o != OA2F_OK) {
        int level = log_level_for(o);
        if (APLOG_R_IS_LEVEL(r, level)) {
            ap_log_rerror(APLOG_MARK, level, 0, r,
                          OA2F_LOGNO(10005) "token %s: %s (%s; endpoint %s, "
                                            "location %s)",
                          oa2f_token_fingerprint(r->pool, token),
                          oa2f_outcome_name(o), why ? why : "no detail",
                          oa2f_shown_endpoint(r->pool, prov),
                          oa2f_conf_location(conf, r));
        }
        return oa2f_respond_retry(r, conf, o, why, NULL,
                                  o == v.outcome ? v.retry_after : 0);
    }

    st = apr_pcalloc(r->pool, sizeof(*st));
    st->claims = claims;
    st->identity = prov->identity;
    st->user = pick_user(r, conf, claims, token);
    st->token = token;
    r->user = (char *)st->user;
    r->ap_auth_type = (char *)OA2F_AUTH_TYPE;
    ap_set_module_config(r->request_config, &oauth2_federated_module, st);
    if (APLOGrdebug(r)) {
        ap_log_rerror(
            APLOG_MARK, APLOG_DEBUG, 0, r,
            OA2F_LOGNO(10006) "token %s is active for user %s (%s dialect, "
                              "%s; endpoint %s)",
            oa2f_token_fingerprint(r->pool, token), r->user,
            prov->dialect->name, why ? why : OA2F_WHY_FRESH,
            oa2f_shown_endpoint(r->pool, prov));
    }
    return OK;
}

/* 1 when the request carries nothing that could be a token where this
 * location accepts one (cheap: the hot path has a token). */
static int no_token(request_rec *r)
{
    oa2f_dir_conf_t *conf = ap_get_module_config(r->per_dir_config,
                                                 &oauth2_federated_module);
    int in = oa2f_conf_token_in(conf);

    if ((in & OA2F_TOKEN_IN_HEADER)
        && apr_table_get(r->headers_in, "Authorization")) {
        return 0;
    }
    return !(in & OA2F_TOKEN_IN_QUERY) || !r->args
           || !strstr(r->args, "access_token");
}

int oa2f_check_access(request_rec *r)
{
    int rv;

    if (!oa2f_is_ours(r)) {
        return DECLINED;
    }
    /* Without a token, let mod_authz_core's userless pass decide first:
     * Require lines that grant without a user (Require ip in a
     * <RequireAny>) let the request through with no provider call; if
     * they need a user, check_authn answers for the missing token. */
    if (!r->main && !r->prev && no_token(r)) {
        return DECLINED;
    }
    rv = authenticate(r);
    /* DECLINED lets mod_authz_core's userless pass evaluate Require with
     * r->user set: granted → OK, a failed line → 403. */
    return rv == OK ? DECLINED : rv;
}

int oa2f_check_authn(request_rec *r)
{
    if (!oa2f_is_ours(r)) {
        return DECLINED;
    }
    if (ap_get_module_config(r->request_config, &oauth2_federated_module)) {
        return OK;
    }
    return authenticate(r);
}
