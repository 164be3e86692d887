/* Require oauth2-scope / oauth2-client-id / oauth2-claim, registered with
 * mod_authz_core. Arguments are parsed once at configuration time; each
 * request only compares. A provider answers AUTHZ_DENIED_NO_USER when we
 * did not authenticate the request, AUTHZ_DENIED (→ 403 with an
 * insufficient_scope challenge) when the token lacks what is required. */
#include <apr_lib.h>
#include <apr_strings.h>
#include <http_core.h>
#include <http_request.h>
#include <mod_auth.h>

#include "mod_oa2f_private.h"
#include "mod_oa2f_authn.h"
#include "mod_oa2f_authz.h"
#include "mod_oa2f_config.h"
#include "mod_oa2f_respond.h"
#include "oa2f_scope.h"
#include "oa2f_token.h"

/* At most this much of a token's scopes in a log line. */
#define SCOPES_LOGGED 512

/* The words of a Require line, parsed into cmd->pool. */
typedef struct {
    apr_array_header_t *words; /* const char * */
    const char *joined;        /* for the challenge's scope attribute */
} oa2f_require_t;

static const char *parse_words(cmd_parms *cmd, const char *line,
                               const void **parsed, int min, const char *usage)
{
    oa2f_require_t *req = apr_pcalloc(cmd->pool, sizeof(*req));
    const char *w;

    req->words = apr_array_make(cmd->pool, 4, sizeof(const char *));
    while (*line && *(w = ap_getword_conf(cmd->pool, &line))) {
        APR_ARRAY_PUSH(req->words, const char *) = w;
    }
    if (req->words->nelts < min) {
        return apr_psprintf(cmd->pool, "Require %s", usage);
    }
    req->joined = apr_array_pstrcat(cmd->pool, req->words, ' ');
    *parsed = req;
    return NULL;
}

static const char *scope_parse(cmd_parms *cmd, const char *line,
                               const void **parsed)
{
    const char *err = parse_words(cmd, line, parsed, 1,
                                  "oauth2-scope needs at least one scope");
    const char *args = cmd->directive ? cmd->directive->args : NULL;

    if (err) {
        return err;
    }
    /* The scopes the section requires, for its challenges' scope= and
     * its RFC 9728 scopes_supported (README "Resource identity"): at
     * configuration time cmd->context is the section's configuration.
     * A "Require not oauth2-scope" line requires none. */
    if (!args || strncasecmp(args, "not", 3) != 0 || !apr_isspace(args[3])) {
        oa2f_conf_add_required_scopes(
            cmd->pool, cmd->context, cmd->path,
            ((const oa2f_require_t *)*parsed)->words);
    }
    return NULL;
}

static const char *client_id_parse(cmd_parms *cmd, const char *line,
                                   const void **parsed)
{
    return parse_words(cmd, line, parsed, 1,
                       "oauth2-client-id needs at least one client id");
}

static const char *claim_parse(cmd_parms *cmd, const char *line,
                               const void **parsed)
{
    return parse_words(cmd, line, parsed, 2,
                       "oauth2-claim needs a field name and at least one "
                       "value");
}

static const oa2f_claims_t *claims_of(request_rec *r)
{
    const oa2f_request_state_t *st;

    if (!r->user || !(st = oa2f_request_state(r))) {
        return NULL;
    }
    return st->claims;
}

static authz_status deny(request_rec *r, const char *scope)
{
    /* the 403 that mod_authz_core will answer; taken back in the fixups
     * if another Require line lets the request through */
    oa2f_respond_forbidden(r, scope);
    return AUTHZ_DENIED;
}

/* Require oauth2-scope A B …: every listed scope. */
static authz_status scope_check(request_rec *r, const char *line,
                                const void *parsed)
{
    const oa2f_require_t *req = parsed;
    const oa2f_claims_t *c = claims_of(r);

    if (!c) {
        return AUTHZ_DENIED_NO_USER;
    }
    if (oa2f_scope_has_all(c->scopes, req->words)) {
        return AUTHZ_GRANTED;
    }
    if (APLOGrinfo(r)) {
        /* README "Logging": which token, what it lacks, what it has */
        const oa2f_request_state_t *st = oa2f_request_state(r);
        apr_array_header_t *missing = apr_array_make(
            r->pool, req->words->nelts, sizeof(const char *));
        int i;
        for (i = 0; i < req->words->nelts; i++) {
            const char *w = APR_ARRAY_IDX(req->words, i, const char *);
            if (!oa2f_scope_contains(c->scopes, w)) {
                APR_ARRAY_PUSH(missing, const char *) = w;
            }
        }
        ap_log_rerror(
            APLOG_MARK, APLOG_INFO, 0, r,
            OA2F_LOGNO(10101) "token %s of user %s lacks scope %s: "
                              "required %s, the token has %s",
            st && st->token ? oa2f_token_fingerprint(r->pool, st->token)
                            : "(unknown)",
            r->user, oa2f_scope_loggable(r->pool, missing, SCOPES_LOGGED),
            req->joined,
            oa2f_scope_loggable(r->pool, c->scopes, SCOPES_LOGGED));
    }
    return deny(r, req->joined);
}

/* Require oauth2-client-id A B …: any listed client. */
static authz_status client_id_check(request_rec *r, const char *line,
                                    const void *parsed)
{
    const oa2f_require_t *req = parsed;
    const oa2f_claims_t *c = claims_of(r);

    if (!c) {
        return AUTHZ_DENIED_NO_USER;
    }
    if (c->client_id && oa2f_scope_contains(req->words, c->client_id)) {
        return AUTHZ_GRANTED;
    }
    ap_log_rerror(APLOG_MARK, APLOG_INFO, 0, r,
                  OA2F_LOGNO(10102) "user %s: client id is not one of: %s",
                  r->user, req->joined);
    return deny(r, NULL);
}

/* Require oauth2-claim NAME V1 V2 …: the field equals (or, for an array,
 * contains) one of the values. */
static authz_status claim_check(request_rec *r, const char *line,
                                const void *parsed)
{
    const oa2f_require_t *req = parsed;
    const oa2f_claims_t *c = claims_of(r);
    const char *name;
    int i;

    if (!c) {
        return AUTHZ_DENIED_NO_USER;
    }
    name = APR_ARRAY_IDX(req->words, 0, const char *);
    for (i = 1; i < req->words->nelts; i++) {
        if (oa2f_claims_field_matches(
                c, name, APR_ARRAY_IDX(req->words, i, const char *))) {
            return AUTHZ_GRANTED;
        }
    }
    ap_log_rerror(APLOG_MARK, APLOG_INFO, 0, r,
                  OA2F_LOGNO(10103) "user %s: claim requirement not met: %s",
                  r->user, req->joined);
    return deny(r, NULL);
}

static const authz_provider scope_provider = { scope_check, scope_parse };
static const authz_provider client_id_provider = { client_id_check,
                                                   client_id_parse };
static const authz_provider claim_provider = { claim_check, claim_parse };

void oa2f_register_authz_providers(apr_pool_t *p)
{
    ap_register_auth_provider(p, AUTHZ_PROVIDER_GROUP, "oauth2-scope",
                              AUTHZ_PROVIDER_VERSION, &scope_provider,
                              AP_AUTH_INTERNAL_PER_CONF);
    ap_register_auth_provider(p, AUTHZ_PROVIDER_GROUP, "oauth2-client-id",
                              AUTHZ_PROVIDER_VERSION, &client_id_provider,
                              AP_AUTH_INTERNAL_PER_CONF);
    ap_register_auth_provider(p, AUTHZ_PROVIDER_GROUP, "oauth2-claim",
                              AUTHZ_PROVIDER_VERSION, &claim_provider,
                              AP_AUTH_INTERNAL_PER_CONF);
}
