/* The Prometheus text exposition format, version 0.0.4 (see the header;
 * https://prometheus.io/docs/instrumenting/exposition_formats/).
 *
 * A plain counter or gauge of the stats is one row of `rows` below: its
 * name, type, help and where it sits in oa2f_stats_t. The families with
 * labels (requests, provider calls, latency, breakers, build) are
 * written by a function each. */
#include <stdarg.h>
#include <stddef.h>
#include <string.h>
#include <apr_strings.h>
#include <apr_tables.h>

#include "oa2f_outcome.h"
#include "oa2f_prom.h"

#define PREFIX "oauth2_federated_"

typedef struct {
    const char *name; /* after PREFIX */
    const char *type; /* "counter" (name ends in _total) or "gauge" */
    const char *help;
    apr_size_t field; /* offsetof(oa2f_stats_t, …) of an apr_uint64_t */
} prom_row_t;

#define FIELD(member) offsetof(oa2f_stats_t, member)
#define COUNTER(c)    FIELD(counters[c])

/* README "Status page" names each of them. */
static const prom_row_t rows[] = {
    { "cache_hits_total", "counter",
      "Active verdicts answered from the cache (shared or a child's copy).",
      COUNTER(OA2F_C_CACHE_HIT) },
    { "cache_negative_hits_total", "counter",
      "Not-active verdicts answered from the cache.",
      COUNTER(OA2F_C_CACHE_NEG_HIT) },
    { "cache_misses_total", "counter",
      "Cache lookups that found no verdict the location may serve.",
      COUNTER(OA2F_C_CACHE_MISS) },
    { "cache_stores_total", "counter", "Verdicts stored in the cache.",
      COUNTER(OA2F_C_CACHE_STORE) },
    { "cache_not_stored_total", "counter",
      "Answers too large for a cache entry: served, not stored.",
      COUNTER(OA2F_C_CACHE_NOT_STORED) },
    { "cache_errors_total", "counter",
      "Failures of the cache back end (each one a miss).",
      COUNTER(OA2F_C_CACHE_ERROR) },
    { "cache_corrupt_total", "counter",
      "Cache entries that did not decode (each one a miss).",
      COUNTER(OA2F_C_CACHE_CORRUPT) },
    { "cache_local_hits_total", "counter",
      "Cache hits answered by a child's own copy (part of the hits).",
      COUNTER(OA2F_C_CACHE_LOCAL_HIT) },
    { "coalesced_waits_total", "counter",
      "Requests that waited for another request's provider call.",
      COUNTER(OA2F_C_COALESCED) },
    { "coalesced_timeouts_total", "counter",
      "Requests that waited in vain for another call, then called.",
      COUNTER(OA2F_C_COALESCED_TIMEOUT) },
    { "provider_new_connections_total", "counter",
      "Provider calls that opened a new connection.",
      COUNTER(OA2F_C_PROVIDER_NEW_CONN) },
    { "stale_served_total", "counter",
      "Stale verdicts served while the provider failed (StaleIfError).",
      COUNTER(OA2F_C_STALE_SERVED) },
    { "revocations_total", "counter",
      "Revocations answered 204 by the revocation handler.",
      COUNTER(OA2F_C_REVOCATIONS) },
    { "revocation_rules", "gauge", "Revocation rules in force.",
      FIELD(revocation_rules) },
    { "coalesced_from_leader_total", "counter",
      "Followers given their leader's verdict from shared memory.",
      COUNTER(OA2F_C_COALESCED_SHARED) },
    { "fleet_lock_acquired_total", "counter",
      "Fleet locks taken to ask the provider (redis, memcache).",
      COUNTER(OA2F_C_FLEET_LOCK_ACQUIRED) },
    { "fleet_lock_waits_total", "counter",
      "Fleet locks found held by another server.",
      COUNTER(OA2F_C_FLEET_LOCK_WAITS) },
    { "fleet_lock_wait_hits_total", "counter",
      "Fleet lock waits that got the holder's verdict.",
      COUNTER(OA2F_C_FLEET_LOCK_WAIT_HITS) },
    { "fleet_lock_timeouts_total", "counter",
      "Fleet lock waits that ran to the lock's expiry, then asked.",
      COUNTER(OA2F_C_FLEET_LOCK_TIMEOUTS) },
    { "fleet_lock_errors_total", "counter",
      "Fleet lock requests the fleet cache did not answer.",
      COUNTER(OA2F_C_FLEET_LOCK_ERRORS) },
    { "near_cache_hits_total", "counter",
      "Lookups the near cache answered (redis, memcache).",
      COUNTER(OA2F_C_NEAR_HIT) },
    { "near_cache_misses_total", "counter",
      "Lookups the near cache did not answer: the fleet cache was asked.",
      COUNTER(OA2F_C_NEAR_MISS) },
    { "near_cache_stores_total", "counter",
      "Fleet entries and own validations kept in the near cache.",
      COUNTER(OA2F_C_NEAR_STORE) },
};

/* How a requests_total series is labelled, by oa2f_req_kind_e. */
static const char *const req_status[OA2F_REQ_MAX] = { "200", "400",  "401",
                                                      "403", "500",  "502",
                                                      "503", "other" };

typedef struct {
    apr_pool_t *p;
    apr_array_header_t *parts;
} writer_t;

static void put(writer_t *w, const char *s)
{
    APR_ARRAY_PUSH(w->parts, const char *) = s;
}

static void putf(writer_t *w, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static void putf(writer_t *w, const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    put(w, apr_pvsprintf(w->p, fmt, ap));
    va_end(ap);
}

/* The # HELP and # TYPE lines of a family (help texts are ours: no
 * backslash, no line feed to escape). */
static void family(writer_t *w, const char *name, const char *type,
                   const char *help)
{
    putf(w, "# HELP " PREFIX "%s %s\n# TYPE " PREFIX "%s %s\n", name, help,
         name, type);
}

const char *oa2f_prom_label_value(apr_pool_t *p, const char *s)
{
    static const char hex[] = "0123456789ABCDEF";
    apr_size_t n = 0;
    const unsigned char *c;
    char *out, *o;

    if (!s) {
        return "";
    }
    for (c = (const unsigned char *)s; *c; c++) {
        n += (*c == '\\' || *c == '"' || *c == '\n') ? 2
             : (*c < 0x20 || *c >= 0x7f)             ? 3
                                                     : 1;
    }
    o = out = apr_palloc(p, n + 1);
    for (c = (const unsigned char *)s; *c; c++) {
        if (*c == '\\' || *c == '"') {
            *o++ = '\\';
            *o++ = (char)*c;
        }
        else if (*c == '\n') {
            *o++ = '\\';
            *o++ = 'n';
        }
        else if (*c < 0x20 || *c >= 0x7f) {
            *o++ = '%';
            *o++ = hex[*c >> 4];
            *o++ = hex[*c & 0x0f];
        }
        else {
            *o++ = (char)*c;
        }
    }
    *o = '\0';
    return out;
}

static apr_uint64_t field_of(const oa2f_stats_t *s, apr_size_t off)
{
    return *(const apr_uint64_t *)(const void *)((const char *)s + off);
}

static void plain_rows(writer_t *w, const oa2f_stats_t *s)
{
    apr_size_t i;

    for (i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
        family(w, rows[i].name, rows[i].type, rows[i].help);
        putf(w, PREFIX "%s %" APR_UINT64_T_FMT "\n", rows[i].name,
             field_of(s, rows[i].field));
    }
}

static void requests(writer_t *w, const oa2f_stats_t *s)
{
    int k;

    family(w, "requests_total", "counter",
           "Requests to protected locations: outcome allowed (status 200, "
           "whatever the backend answered) or refused with status.");
    for (k = 0; k < OA2F_REQ_MAX; k++) {
        putf(w,
             PREFIX "requests_total{outcome=\"%s\",status=\"%s\"} "
                    "%" APR_UINT64_T_FMT "\n",
             k == OA2F_REQ_ALLOWED ? "allowed" : "refused", req_status[k],
             s->requests[k]);
    }
}

/* The endpoint rows to show: those published, and "other" once used. */
static int endpoint_shown(const oa2f_stats_t *s, int i, const char **label,
                          apr_pool_t *p)
{
    const oa2f_stats_endpoint_t *row = &s->endpoints[i];
    int b;

    if (i < OA2F_STATS_ENDPOINTS) {
        if (!row->ready) {
            return 0;
        }
        /* the row's url is a NUL-terminated copy, at most URL_MAX - 1 */
        *label = oa2f_prom_label_value(
            p, apr_pstrndup(p, row->url, sizeof(row->url) - 1));
        return 1;
    }
    for (b = 0; b < OA2F_LAT_BUCKETS; b++) {
        if (row->latency[b]) {
            *label = "other";
            return 1;
        }
    }
    return 0;
}

static void provider_calls(writer_t *w, const oa2f_stats_t *s)
{
    const char *ep;
    int i, o;

    family(w, "provider_calls_total", "counter",
           "Calls to the provider by endpoint (URL without user info and "
           "query) and outcome.");
    for (i = 0; i <= OA2F_STATS_ENDPOINTS; i++) {
        if (!endpoint_shown(s, i, &ep, w->p)) {
            continue;
        }
        for (o = 0; o < OA2F_OUTCOME_MAX; o++) {
            if (!oa2f_outcome_info((oa2f_outcome_e)o)->from_provider) {
                continue;
            }
            putf(w,
                 PREFIX "provider_calls_total{endpoint=\"%s\",outcome=\"%s\"} "
                        "%" APR_UINT64_T_FMT "\n",
                 ep, oa2f_outcome_name((oa2f_outcome_e)o),
                 s->endpoints[i].calls[o]);
        }
    }
}

/* A bucket's upper bound of ms milliseconds in seconds, as "0.001",
 * "0.25", "1", "2.5" (APR's %g would write ".001"). */
static const char *le_text(apr_pool_t *p, unsigned ms)
{
    char *s;
    apr_size_t n;

    if (ms % 1000 == 0) {
        return apr_psprintf(p, "%u", ms / 1000);
    }
    s = apr_psprintf(p, "%u.%03u", ms / 1000, ms % 1000);
    n = strlen(s);
    while (s[n - 1] == '0') {
        s[--n] = '\0';
    }
    return s;
}

/* A histogram: _bucket cumulative, the last one +Inf = _count. */
static void latency(writer_t *w, const oa2f_stats_t *s)
{
    const char *ep;
    int i, b;

    family(w, "provider_latency_seconds", "histogram",
           "Duration of provider calls by endpoint, in seconds.");
    for (i = 0; i <= OA2F_STATS_ENDPOINTS; i++) {
        const oa2f_stats_endpoint_t *row = &s->endpoints[i];
        apr_uint64_t seen = 0;

        if (!endpoint_shown(s, i, &ep, w->p)) {
            continue;
        }
        for (b = 0; b < OA2F_LAT_BUCKETS; b++) {
            seen += row->latency[b];
            if (b < OA2F_LAT_BUCKETS - 1) {
                putf(w,
                     PREFIX "provider_latency_seconds_bucket{endpoint=\"%s\","
                            "le=\"%s\"} %" APR_UINT64_T_FMT "\n",
                     ep, le_text(w->p, oa2f_lat_bounds_ms[b]), seen);
            }
            else {
                putf(w,
                     PREFIX "provider_latency_seconds_bucket{endpoint=\"%s\","
                            "le=\"+Inf\"} %" APR_UINT64_T_FMT "\n",
                     ep, seen);
            }
        }
        putf(w,
             PREFIX
             "provider_latency_seconds_sum{endpoint=\"%s\"} %.6f\n" PREFIX
             "provider_latency_seconds_count{endpoint=\"%s\"} "
             "%" APR_UINT64_T_FMT "\n",
             ep, (double)row->latency_sum_us / 1e6, ep, seen);
    }
}

/* README "Outages": each endpoint's circuit. */
static void breakers(writer_t *w, const oa2f_breaker_view_t *v, int n)
{
    static const oa2f_breaker_state_e states[] = {
        OA2F_BREAKER_STATE_CLOSED, OA2F_BREAKER_STATE_OPEN,
        OA2F_BREAKER_STATE_HALF_OPEN
    };
    const char **ep = apr_palloc(w->p,
                                 (apr_size_t)(n > 0 ? n : 1) * sizeof(*ep));
    int i, j;

    for (i = 0; i < n; i++) {
        ep[i] = oa2f_prom_label_value(w->p, v[i].url);
    }
    family(w, "breaker_state", "gauge",
           "Circuit breaker of each endpoint: 1 for the state it is in.");
    for (i = 0; i < n; i++) {
        for (j = 0; j < (int)(sizeof(states) / sizeof(states[0])); j++) {
            putf(w, PREFIX "breaker_state{endpoint=\"%s\",state=\"%s\"} %d\n",
                 ep[i], oa2f_breaker_state_name(states[j]),
                 v[i].state == states[j]);
        }
    }
    family(w, "breaker_consecutive_failures", "gauge",
           "Consecutive failed calls of each endpoint.");
    for (i = 0; i < n; i++) {
        putf(w, PREFIX "breaker_consecutive_failures{endpoint=\"%s\"} %u\n",
             ep[i], v[i].failures);
    }
    family(w, "breaker_next_probe_seconds", "gauge",
           "Seconds until an open circuit lets a probe call through.");
    for (i = 0; i < n; i++) {
        putf(w, PREFIX "breaker_next_probe_seconds{endpoint=\"%s\"} %d\n",
             ep[i], v[i].next_probe_s);
    }
    family(w, "breaker_opened_total", "counter",
           "Times the circuit of each endpoint opened.");
    for (i = 0; i < n; i++) {
        putf(w,
             PREFIX "breaker_opened_total{endpoint=\"%s\"} "
                    "%" APR_UINT64_T_FMT "\n",
             ep[i], v[i].opened);
    }
}

static const char *or_unknown(apr_pool_t *p, const char *s)
{
    return oa2f_prom_label_value(p, s && *s ? s : "unknown");
}

static void build_info(writer_t *w, const oa2f_prom_build_t *b)
{
    static const oa2f_prom_build_t none = { 0 };

    if (!b) {
        b = &none;
    }
    family(w, "build_info", "gauge",
           "The module's version and the versions of what it runs with.");
    putf(w,
         PREFIX "build_info{version=\"%s\",httpd=\"%s\",apr=\"%s\","
                "openssl=\"%s\",curl=\"%s\",json_c=\"%s\"} 1\n",
         or_unknown(w->p, b->version), or_unknown(w->p, b->httpd),
         or_unknown(w->p, b->apr), or_unknown(w->p, b->openssl),
         or_unknown(w->p, b->curl), or_unknown(w->p, b->json_c));
}

const char *oa2f_prom_render(apr_pool_t *p, const oa2f_stats_t *snap,
                             long long now, const oa2f_breaker_view_t *views,
                             int n, const oa2f_prom_build_t *build)
{
    writer_t w;

    w.p = p;
    w.parts = apr_array_make(p, 256, sizeof(const char *));
    build_info(&w, build);
    family(&w, "start_time_seconds", "gauge",
           "When the counters started, in seconds since the epoch.");
    putf(&w, PREFIX "start_time_seconds %" APR_INT64_T_FMT "\n",
         snap->started_at);
    family(&w, "uptime_seconds", "gauge",
           "Seconds since the counters started (they survive a graceful "
           "restart).");
    putf(&w, PREFIX "uptime_seconds %" APR_INT64_T_FMT "\n",
         (apr_int64_t)(now - (long long)snap->started_at));
    requests(&w, snap);
    plain_rows(&w, snap);
    provider_calls(&w, snap);
    latency(&w, snap);
    breakers(&w, views, views ? n : 0);
    return apr_array_pstrcat(p, w.parts, 0);
}
