/* SetHandler oauth2-federated-status (README "Status page"): text,
 * ?json or ?prometheus (src/oa2f_prom.c); and the per-request outcome
 * counter it reports. Restrict the location with Require ip. */
#include <apr_strings.h>
#include <ap_release.h>
#include <http_core.h>
#include <http_protocol.h>

#include "mod_oa2f_private.h"
#include "mod_oa2f_revoke.h"
#include "mod_oa2f_shm.h"
#include "mod_oa2f_status.h"
#include "oa2f_prom.h"
#include "oa2f_version.h"

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

/* The view the query asks for: a parameter (with or without a value)
 * named json or prometheus, anywhere in it; else text. */
typedef enum { VIEW_TEXT = 0, VIEW_JSON, VIEW_PROMETHEUS } view_e;

static view_e view_of(const char *args)
{
    view_e v = VIEW_TEXT;

    while (args && *args) {
        apr_size_t n = strcspn(args, "&");
        apr_size_t k = strcspn(args, "=&");

        if (k == 4 && !strncmp(args, "json", 4)) {
            v = VIEW_JSON;
        }
        else if (k == 10 && !strncmp(args, "prometheus", 10)) {
            return VIEW_PROMETHEUS;
        }
        args += n + (args[n] == '&');
    }
    return v;
}

/* The running httpd's version, "2.4.65", from its description. */
static const char *httpd_version(apr_pool_t *p)
{
    const char *d = ap_get_server_description();
    const char *v = d ? strstr(d, "Apache/") : NULL;

    if (!v) {
        return AP_SERVER_BASEREVISION;
    }
    v += strlen("Apache/");
    return apr_pstrmemdup(p, v, strcspn(v, " "));
}

/* The Prometheus view (README "Status page"). */
static const char *prometheus_page(request_rec *r, const oa2f_stats_t *snap)
{
    oa2f_breaker_view_t *v = apr_palloc(r->pool,
                                        OA2F_BREAKER_SLOTS * sizeof(*v));
    int n = oa2f_breaker_list(oa2f_breakers(), (long long)apr_time_now(), v,
                              OA2F_BREAKER_SLOTS);
    oa2f_versions_t lib;
    oa2f_prom_build_t build;

    oa2f_versions(&lib);
    build.version = lib.version;
    build.httpd = httpd_version(r->pool);
    build.apr = lib.apr;
    build.openssl = lib.openssl;
    build.curl = lib.curl;
    build.json_c = lib.json_c;
    return oa2f_prom_render(
        r->pool, snap, (long long)apr_time_sec(apr_time_now()), v, n, &build);
}

/* The text and JSON views: the version first, then the counters and the
 * circuits. */
static const char *page(request_rec *r, const oa2f_stats_t *snap, int json)
{
    const char *body = with_breakers(
        r->pool,
        oa2f_stats_render(r->pool, snap,
                          (long long)apr_time_sec(apr_time_now()), json),
        json);

    if (!json) {
        return apr_pstrcat(r->pool, "version: ", oa2f_version(), "\n", body,
                           NULL);
    }
    /* body is "{...}\n"; the version is plain ASCII (configure.ac) */
    return apr_pstrcat(r->pool, "{\"version\":\"", oa2f_version(), "\"",
                       body[1] != '}' ? "," : "", body + 1, NULL);
}

int oa2f_status_handler(request_rec *r)
{
    oa2f_stats_t *snap;
    oa2f_stats_t *st = oa2f_stats();
    view_e view;

    if (!r->handler || strcmp(r->handler, STATUS_HANDLER) != 0) {
        return DECLINED;
    }
    if (r->method_number != M_GET) {
        return HTTP_METHOD_NOT_ALLOWED;
    }
    if (!st) {
        return HTTP_SERVICE_UNAVAILABLE;
    }
    view = view_of(r->args);
    /* in the pool: with the per-endpoint rows it is about 32 KiB */
    snap = apr_palloc(r->pool, sizeof(*snap));
    oa2f_stats_snapshot(st, snap);
    snap->revocation_rules = oa2f_revoke_live_rules();
    ap_set_content_type(r, view == VIEW_PROMETHEUS ? OA2F_PROM_CONTENT_TYPE
                           : view == VIEW_JSON     ? "application/json"
                                               : "text/plain; charset=utf-8");
    apr_table_setn(r->headers_out, "Cache-Control", "no-store");
    if (!r->header_only) {
        ap_rputs(view == VIEW_PROMETHEUS ? prometheus_page(r, snap)
                                         : page(r, snap, view == VIEW_JSON),
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
