/* SetHandler oauth2-federated-status (README "Status page"), and the
 * per-request outcome counter it reports. Restrict the location with
 * Require ip. */
#include <apr_strings.h>
#include <http_core.h>
#include <http_protocol.h>

#include "mod_oa2f_private.h"
#include "mod_oa2f_revoke.h"
#include "mod_oa2f_shm.h"
#include "mod_oa2f_status.h"

#define STATUS_HANDLER "oauth2-federated-status"

/* The counters' page and each endpoint's circuit (README "Outages"):
 * more lines, or one more member of the JSON object. */
static const char *with_breakers(apr_pool_t *p, const char *page, int json)
{
    oa2f_breaker_view_t *v = apr_palloc(p, OA2F_BREAKER_SLOTS * sizeof(*v));
    int n = oa2f_breaker_list(oa2f_breakers(), (long long)apr_time_now(), v,
                              OA2F_BREAKER_SLOTS);
    const char *close;

    if (!json) {
        return apr_pstrcat(p, page, oa2f_breaker_render(p, v, n, 0), NULL);
    }
    close = strrchr(page, '}');
    if (!close) {
        return page;
    }
    return apr_pstrcat(p, apr_pstrmemdup(p, page, (apr_size_t)(close - page)),
                       close > page + 1 ? "," : "",
                       oa2f_breaker_render(p, v, n, 1), close, NULL);
}

int oa2f_status_handler(request_rec *r)
{
    oa2f_stats_t snap;
    oa2f_stats_t *st = oa2f_stats();
    int json;

    if (!r->handler || strcmp(r->handler, STATUS_HANDLER) != 0) {
        return DECLINED;
    }
    if (r->method_number != M_GET) {
        return HTTP_METHOD_NOT_ALLOWED;
    }
    if (!st) {
        return HTTP_SERVICE_UNAVAILABLE;
    }
    json = r->args
           && (!strcmp(r->args, "json") || !strncmp(r->args, "json&", 5)
               || strstr(r->args, "&json"));
    oa2f_stats_snapshot(st, &snap);
    snap.revocation_rules = oa2f_revoke_live_rules();
    ap_set_content_type(r, json ? "application/json"
                                : "text/plain; charset=utf-8");
    apr_table_setn(r->headers_out, "Cache-Control", "no-store");
    if (!r->header_only) {
        ap_rputs(with_breakers(
                     r->pool,
                     oa2f_stats_render(r->pool, &snap,
                                       (long long)apr_time_sec(apr_time_now()),
                                       json),
                     json),
                 r);
    }
    return OK;
}

/* log_transaction: one count per main request to a protected location. */
int oa2f_count_request(request_rec *r)
{
    const char *type;
    request_rec *last = r;

    if (r->main) {
        return DECLINED;
    }
    while (last->next) {
        last = last->next;
    }
    type = ap_auth_type(last);
    if (!type || strcasecmp(type, OA2F_AUTH_TYPE) != 0) {
        return DECLINED;
    }
    /* allowed = it reached the fixups phase after our check, whatever
     * the backend answered afterwards */
    oa2f_stats_request(oa2f_stats(), last->status,
                       apr_table_get(r->notes, OA2F_NOTE_ALLOWED)
                           || apr_table_get(last->notes, OA2F_NOTE_ALLOWED));
    return DECLINED;
}
