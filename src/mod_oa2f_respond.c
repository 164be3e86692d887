/* The one place where an outcome becomes an HTTP status, an RFC 6750
 * challenge (PROVIDERS.md §6.3) and a one-line error text (SPEC §3). */
#include <apr_strings.h>
#include <apr_hash.h>
#include <http_core.h>
#include <http_protocol.h>

#include "mod_oa2f_private.h"
#include "mod_oa2f_respond.h"

typedef struct {
    int status;
    const char *error;          /* RFC 6750 error code, NULL for none   */
    int challenge;              /* send WWW-Authenticate                */
    const char *text;           /* public one-line description          */
} oa2f_answer_t;

/* SPEC §3, profile `gateway` (the API-gateway policy's map). */
static const oa2f_answer_t *answer_for(oa2f_outcome_e o, oa2f_profile_e prof)
{
    static const oa2f_answer_t no_token_gw =
        { HTTP_BAD_REQUEST, "invalid_request", 1, "no access token was presented" };
    static const oa2f_answer_t no_token_rfc =
        { HTTP_UNAUTHORIZED, NULL, 1, "an access token is required" };
    static const oa2f_answer_t scheme_gw =
        { HTTP_BAD_REQUEST, "invalid_request", 1, "the Authorization header must use the Bearer scheme" };
    static const oa2f_answer_t scheme_rfc =
        { HTTP_UNAUTHORIZED, NULL, 1, "an access token is required (Bearer scheme)" };
    static const oa2f_answer_t bad_request =
        { HTTP_BAD_REQUEST, "invalid_request", 1, "the access token request is malformed" };
    static const oa2f_answer_t inactive =
        { HTTP_UNAUTHORIZED, "invalid_token", 1, "the access token is not active" };
    static const oa2f_answer_t expired =
        { HTTP_UNAUTHORIZED, "invalid_token", 1, "the access token has expired" };
    static const oa2f_answer_t unreachable_gw =
        { HTTP_UNAUTHORIZED, NULL, 1, "the authorization server could not be reached" };
    static const oa2f_answer_t unreachable_rfc =
        { HTTP_SERVICE_UNAVAILABLE, NULL, 0, "the authorization server could not be reached" };
    static const oa2f_answer_t bad_answer_gw =
        { HTTP_INTERNAL_SERVER_ERROR, NULL, 0, "the authorization server gave an unusable answer" };
    static const oa2f_answer_t bad_answer_rfc =
        { HTTP_BAD_GATEWAY, NULL, 0, "the authorization server gave an unusable answer" };
    static const oa2f_answer_t rejected =
        { HTTP_FORBIDDEN, NULL, 1, "the authorization server refused this resource server" };
    static const oa2f_answer_t forbidden =
        { HTTP_FORBIDDEN, "insufficient_scope", 1, "the access token does not grant access to this resource" };
    static const oa2f_answer_t internal =
        { HTTP_INTERNAL_SERVER_ERROR, NULL, 0, "the token could not be checked" };
    int rfc = (prof == OA2F_PROFILE_RFC6750);

    switch (o) {
    case OA2F_NO_TOKEN:     return rfc ? &no_token_rfc : &no_token_gw;
    case OA2F_WRONG_SCHEME: return rfc ? &scheme_rfc : &scheme_gw;
    case OA2F_BAD_REQUEST:  return &bad_request;
    case OA2F_INACTIVE:     return &inactive;
    case OA2F_EXPIRED:      return &expired;
    case OA2F_UNREACHABLE:  return rfc ? &unreachable_rfc : &unreachable_gw;
    case OA2F_BAD_ANSWER:   return rfc ? &bad_answer_rfc : &bad_answer_gw;
    case OA2F_REJECTED:     return &rejected;
    case OA2F_FORBIDDEN:    return &forbidden;
    case OA2F_OK:
    case OA2F_INTERNAL:
    default:                return &internal;
    }
}

/* A quoted-string body for a challenge attribute: RFC 6750 §3 allows
 * %x20-21 / %x23-5B / %x5D-7E, so drop '"', '\' and controls. */
static const char *challenge_safe(apr_pool_t *p, const char *s)
{
    char *out = apr_pstrdup(p, s), *o = out;

    for (; *s; s++) {
        unsigned char c = (unsigned char)*s;
        if (c >= 0x20 && c <= 0x7e && c != '"' && c != '\\') {
            *o++ = (char)c;
        }
    }
    *o = '\0';
    return out;
}

/* 1 when the operator configured an ErrorDocument for status here. */
static int has_error_document(request_rec *r, int status)
{
    core_dir_config *cd = ap_get_core_module_config(r->per_dir_config);
    int idx = ap_index_of_response(status);

    return cd->response_code_exprs
           && apr_hash_get(cd->response_code_exprs, &idx, sizeof(idx));
}

int oa2f_respond(request_rec *r, const oa2f_dir_conf_t *conf,
                 oa2f_outcome_e o, const char *why,
                 const char *required_scope)
{
    const oa2f_answer_t *a = answer_for(o, oa2f_conf_profile(conf));
    /* Request errors say exactly what was wrong (it never includes the
     * token); provider-side details stay in the error log. */
    const char *text = (o == OA2F_BAD_REQUEST && why) ? why : a->text;

    if (a->challenge) {
        const char *realm = ap_auth_name(r);
        const char *ch = apr_pstrcat(r->pool, "Bearer realm=\"",
                                     challenge_safe(r->pool,
                                                    realm ? realm : ""),
                                     "\"", NULL);
        if (a->error) {
            ch = apr_pstrcat(r->pool, ch, ", error=\"", a->error,
                             "\", error_description=\"",
                             challenge_safe(r->pool, text), "\"", NULL);
        }
        if (o == OA2F_FORBIDDEN && required_scope && *required_scope) {
            ch = apr_pstrcat(r->pool, ch, ", scope=\"",
                             challenge_safe(r->pool, required_scope), "\"",
                             NULL);
        }
        apr_table_setn(r->err_headers_out,
                       (PROXYREQ_PROXY == r->proxyreq)
                       ? "Proxy-Authenticate" : "WWW-Authenticate", ch);
    }
    /* One line of text, unless the operator has an ErrorDocument. */
    if (!has_error_document(r, a->status)) {
        /* ap_custom_response() marks a non-URL string as text itself */
        ap_custom_response(r, a->status,
                           apr_pstrcat(r->pool, text, "\n", NULL));
    }
    return a->status;
}
