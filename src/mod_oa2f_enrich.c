/* What the backend receives (README "What the backend receives"):
 * client-sent headers with any of our prefixes are dropped first, on
 * every request; after a successful check
 * the provider's fields become request headers and subprocess variables.
 * Nothing here touches the response sent to the client. */
#include <apr_strings.h>
#include <http_core.h>

#include "mod_oa2f_private.h"
#include "mod_oa2f_authn.h"
#include "mod_oa2f_config.h"
#include "mod_oa2f_enrich.h"
#include "mod_oa2f_phantom.h"
#include "mod_oa2f_respond.h"
#include "oa2f_sanitize.h"

/* post_read_request: runs once per request read from a client, before
 * translation and every other hook, and not again for internal
 * redirects (which share headers_in with the request they came from). */
int oa2f_strip_client_headers(request_rec *r)
{
    const apr_array_header_t *prefixes = oa2f_conf_header_prefixes();
    const apr_array_header_t *arr = apr_table_elts(r->headers_in);
    const apr_table_entry_t *e = (const apr_table_entry_t *)arr->elts;
    apr_array_header_t *doomed = NULL;
    int i, j;

    for (i = 0; i < arr->nelts; i++) {
        if (!e[i].key) {
            continue;
        }
        for (j = 0; j < prefixes->nelts; j++) {
            if (oa2f_has_prefix_folded(
                    e[i].key, APR_ARRAY_IDX(prefixes, j, const char *))) {
                if (!doomed) {
                    doomed = apr_array_make(r->pool, 4, sizeof(const char *));
                }
                APR_ARRAY_PUSH(doomed, const char *) = e[i].key;
                break;
            }
        }
    }
    if (doomed) {
        for (i = 0; i < doomed->nelts; i++) {
            apr_table_unset(r->headers_in,
                            APR_ARRAY_IDX(doomed, i, const char *));
        }
        ap_log_rerror(
            APLOG_MARK, APLOG_DEBUG, 0, r,
            OA2F_LOGNO(
                10201) "dropped %d client-sent header(s) with a prefix of "
                       "this module",
            doomed->nelts);
    }
    return DECLINED;
}

/* a then b, in one allocation (hot path: cheaper than apr_pstrcat) */
static const char *join(apr_pool_t *p, const char *a, apr_size_t alen,
                        const char *b, apr_size_t blen)
{
    char *s = apr_palloc(p, alen + blen + 1);

    memcpy(s, a, alen);
    memcpy(s + alen, b, blen + 1);
    return s;
}

/* First of the fixups, before mod_rewrite's per-directory rules can
 * answer: a Require oauth2-* line that failed inside a <RequireAny> that
 * passed left its 403 prepared; the request is allowed, so take it back. */
int oa2f_allowed_fixup(request_rec *r)
{
    if (r->user && oa2f_is_ours(r)) {
        oa2f_respond_withdraw(r);
    }
    return DECLINED;
}

int oa2f_enrich_fixup(request_rec *r)
{
    const oa2f_request_state_t *st;
    oa2f_dir_conf_t *conf;
    const char *hprefix, *eprefix;
    apr_size_t hlen, elen;
    void (*put)(apr_table_t *, const char *, const char *);
    oa2f_encoding_e enc;
    int expose, i;

    /* The state may belong to the request this one was redirected from
     * internally: httpd then skips the auth hooks and copies r->user only
     * (README "Trust boundaries"). */
    conf = ap_get_module_config(r->per_dir_config, &oauth2_federated_module);
    if (!r->user || !oa2f_is_ours(r) || !(st = oa2f_request_state(r))) {
        /* README "Phantom token": the header is ours wherever it is
         * configured */
        if (conf && oa2f_conf_forward_jwt(conf)) {
            oa2f_phantom_fixup(r, conf, NULL);
        }
        return DECLINED;
    }
    apr_table_setn(r->notes, OA2F_NOTE_ALLOWED, "1");

    expose = oa2f_conf_expose_headers(conf);
    hprefix = oa2f_conf_header_prefix(conf);
    eprefix = oa2f_conf_env_prefix(conf);
    enc = oa2f_conf_value_encoding(conf);

    /* Values and names were made safe once per validation
     * (oa2f_claims_prepare). One value per name, ours: client-sent ones
     * are gone (oa2f_strip_client_headers), so a request read from the
     * client can add; a subrequest or internal redirect shares or copies
     * headers we may have set already, so it sets (which costs a scan of
     * the table per name). */
    put = (r->main || r->prev) ? apr_table_setn : apr_table_addn;
    hlen = strlen(hprefix);
    elen = strlen(eprefix);
    for (i = 0; i < st->claims->fields->nelts; i++) {
        const oa2f_field_t *f = &APR_ARRAY_IDX(st->claims->fields, i,
                                               oa2f_field_t);
        apr_size_t nlen = strlen(f->name);
        /* utf8 (the default) and ASCII values: the prepared value itself */
        const char *v = oa2f_encode_value(r->pool, f->shown, enc);
        if (expose && f->is_token && nlen <= OA2F_FIELD_NAME_MAX) {
            put(r->headers_in, join(r->pool, hprefix, hlen, f->name, nlen), v);
        }
        put(r->subprocess_env,
            join(r->pool, eprefix, elen, f->env_suffix, strlen(f->env_suffix)),
            v);
    }
    /* JSON outside strings only has insignificant whitespace controls, so
     * without them the answer stays intact and one line long. */
    apr_table_setn(r->subprocess_env, "OAUTH2_FEDERATED_RESPONSE",
                   st->claims->shown_raw ? st->claims->shown_raw : "");
    oa2f_phantom_fixup(r, conf, st);
    return DECLINED;
}
