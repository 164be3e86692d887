/* The one place where an outcome becomes an HTTP status, an RFC 6750 §3
 * challenge and a one-line error text (README "Requests and answers"),
 * read from the outcome table (oa2f_outcome.h); the 403 of a failed
 * Require oauth2-* line is prepared and, when another line grants after
 * all, taken back here too. */
#include <stdlib.h>
#include <apr_strings.h>
#include <apr_hash.h>
#include <http_core.h>
#include <http_protocol.h>
#include <util_filter.h>

#include "mod_oa2f_private.h"
#include "mod_oa2f_respond.h"

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

static const char *challenge_header(request_rec *r)
{
    return (PROXYREQ_PROXY == r->proxyreq) ? "Proxy-Authenticate"
                                           : "WWW-Authenticate";
}

/* 1 when the operator configured an ErrorDocument for status here. */
static int has_error_document(request_rec *r, int status)
{
    core_dir_config *cd = ap_get_core_module_config(r->per_dir_config);
    int idx = ap_index_of_response(status);

    return cd->response_code_exprs
           && apr_hash_get(cd->response_code_exprs, &idx, sizeof(idx));
}

int oa2f_respond(request_rec *r, const oa2f_dir_conf_t *conf, oa2f_outcome_e o,
                 const char *why, const char *required_scope)
{
    return oa2f_respond_retry(r, conf, o, why, required_scope, 0);
}

int oa2f_respond_retry(request_rec *r, const oa2f_dir_conf_t *conf,
                       oa2f_outcome_e o, const char *why,
                       const char *required_scope, int retry_after)
{
    const oa2f_answer_t *a =
        &oa2f_outcome_info(o)->answer[oa2f_conf_profile(conf)];
    /* Request errors say exactly what was wrong (it never includes the
     * token); provider-side details stay in the error log. */
    const char *text = (o == OA2F_BAD_REQUEST && why) ? why : a->text;
    const char *metadata = oa2f_conf_resource_metadata(conf);

    if (a->challenge) {
        const char *realm = ap_auth_name(r);
        const char *ch = apr_pstrcat(
            r->pool, "Bearer realm=\"",
            challenge_safe(r->pool, realm ? realm : ""), "\"", NULL);
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
        if (metadata
            && (a->status == HTTP_UNAUTHORIZED
                || a->status == HTTP_FORBIDDEN)) {
            /* RFC 9728 §5.1; a 401 also says what to ask for (RFC 6750
             * §3, README "Resource identity") */
            const apr_array_header_t *scopes = oa2f_conf_required_scopes(conf);
            if (a->status == HTTP_UNAUTHORIZED && scopes) {
                ch = apr_pstrcat(
                    r->pool, ch, ", scope=\"",
                    challenge_safe(r->pool,
                                   apr_array_pstrcat(r->pool, scopes, ' ')),
                    "\"", NULL);
            }
            ch = apr_pstrcat(r->pool, ch, ", resource_metadata=\"",
                             challenge_safe(r->pool, metadata), "\"", NULL);
        }
        apr_table_setn(r->err_headers_out, challenge_header(r), ch);
    }
    if (a->status == HTTP_SERVICE_UNAVAILABLE) {
        /* README "Outages": when to try again (RFC 9110 §10.2.3): the
         * next probe of an open circuit, else a second */
        apr_table_setn(r->err_headers_out, "Retry-After",
                       apr_itoa(r->pool, retry_after > 0 ? retry_after : 1));
    }
    /* One line of text, unless the operator has an ErrorDocument. */
    if (!has_error_document(r, a->status)) {
        /* ap_custom_response() marks a non-URL string as text itself */
        ap_custom_response(r, a->status,
                           apr_pstrcat(r->pool, text, "\n", NULL));
        apr_table_setn(r->notes, OA2F_NOTE_PLAIN_BODY,
                       apr_itoa(r->pool, a->status));
    }
    return a->status;
}

/* httpd sends a custom response string as text/html; charset=iso-8859-1
 * (ap_send_error_response); the one line set above is plain UTF-8 text.
 * The filter runs before the header filter and only retypes that body. */
static apr_status_t plain_body_filter(ap_filter_t *f, apr_bucket_brigade *bb)
{
    request_rec *r = f->r;

    if (r->content_type && strncmp(r->content_type, "text/html", 9) == 0) {
        ap_set_content_type(r, "text/plain; charset=utf-8");
    }
    ap_remove_output_filter(f);
    return ap_pass_brigade(f->next, bb);
}

void oa2f_respond_insert_error_filter(request_rec *r)
{
    const char *status = apr_table_get(r->notes, OA2F_NOTE_PLAIN_BODY);

    if (status && atoi(status) == r->status) {
        ap_add_output_filter(OA2F_PLAIN_BODY_FILTER, NULL, r, r->connection);
    }
}

void oa2f_respond_register_filter(void)
{
    ap_register_output_filter(OA2F_PLAIN_BODY_FILTER, plain_body_filter, NULL,
                              AP_FTYPE_CONTENT_SET);
}

void oa2f_respond_forbidden(request_rec *r, const char *required_scope)
{
    oa2f_dir_conf_t *conf = ap_get_module_config(r->per_dir_config,
                                                 &oauth2_federated_module);

    oa2f_respond(r, conf, OA2F_FORBIDDEN, NULL, required_scope);
    apr_table_setn(r->notes, OA2F_NOTE_FORBIDDEN_PREPARED, "1");
}

void oa2f_respond_withdraw(request_rec *r)
{
    core_request_config *rc;
    const char *ch;

    if (!apr_table_get(r->notes, OA2F_NOTE_FORBIDDEN_PREPARED)) {
        return;
    }
    apr_table_unset(r->notes, OA2F_NOTE_FORBIDDEN_PREPARED);
    apr_table_unset(r->notes, OA2F_NOTE_PLAIN_BODY);
    ch = apr_table_get(r->err_headers_out, challenge_header(r));
    if (ch && strncmp(ch, "Bearer ", 7) == 0) {
        apr_table_unset(r->err_headers_out, challenge_header(r));
    }
    /* and the 403 text: a 403 the handler itself answers later must not
     * read as a missing scope */
    rc = ap_get_core_module_config(r->request_config);
    if (rc && rc->response_code_strings) {
        rc->response_code_strings[ap_index_of_response(HTTP_FORBIDDEN)] = NULL;
    }
}

int oa2f_note_auth_failure(request_rec *r, const char *auth_type)
{
    oa2f_dir_conf_t *conf;

    if (strcasecmp(auth_type, OA2F_AUTH_TYPE) != 0) {
        return DECLINED;
    }
    conf = ap_get_module_config(r->per_dir_config, &oauth2_federated_module);
    /* Reached when mod_authz_core answers 401 itself: the caller had a
     * valid token that a Require line refused. */
    if (!apr_table_get(r->err_headers_out, challenge_header(r))) {
        oa2f_respond(r, conf, OA2F_FORBIDDEN, NULL, NULL);
    }
    return OK;
}
