#include <string.h>
#include <apr_strings.h>
#include <apr_tables.h>

#include "oa2f_breaker.h"
#include "oa2f_stats.h"

const unsigned oa2f_lat_bounds_ms[OA2F_LAT_BUCKETS - 1] = {
    1, 2, 5, 10, 25, 50, 100, 250, 500, 1000, 2500, 5000
};

/* an endpoint row's url is the breaker's shown URL */
typedef char
    url_max_check[OA2F_STATS_URL_MAX == OA2F_BREAKER_URL_MAX ? 1 : -1];

static const char *const req_names[OA2F_REQ_MAX] = { "200", "400",  "401",
                                                     "403", "500",  "502",
                                                     "503", "other" };

static const char *const counter_names[OA2F_C_MAX] = {
    "cache_hits",         "cache_negative_hits",      "cache_misses",
    "cache_stores",       "cache_not_stored",         "cache_errors",
    "cache_corrupt",      "cache_local_hits",         "coalesced_waits",
    "coalesced_timeouts", "provider_new_connections", "stale_served",
    "revocations",        "coalesced_from_leader",    "fleet_lock_acquired",
    "fleet_lock_waits",   "fleet_lock_wait_hits",     "fleet_lock_timeouts",
    "fleet_lock_errors",  "near_cache_hits",          "near_cache_misses",
    "near_cache_stores"
};

static void add(apr_uint64_t *v, apr_uint64_t n)
{
    __atomic_fetch_add(v, n, __ATOMIC_RELAXED);
}

void oa2f_stats_count(oa2f_stats_t *st, oa2f_counter_e c)
{
    if (st) {
        add(&st->counters[c], 1);
    }
}

void oa2f_stats_request(oa2f_stats_t *st, int http_status, int allowed)
{
    oa2f_req_kind_e k;

    if (!st) {
        return;
    }
    switch (http_status) {
    case 400:
        k = OA2F_REQ_400;
        break;
    case 401:
        k = OA2F_REQ_401;
        break;
    case 403:
        k = OA2F_REQ_403;
        break;
    case 500:
        k = OA2F_REQ_500;
        break;
    case 502:
        k = OA2F_REQ_502;
        break;
    case 503:
        k = OA2F_REQ_503;
        break;
    default:
        k = OA2F_REQ_OTHER;
        break;
    }
    if (allowed) {
        /* whatever the backend answered; and a refused request is never
         * counted as allowed, not even with status 0 */
        k = OA2F_REQ_ALLOWED;
    }
    add(&st->requests[k], 1);
}

/* FNV-1a, 64 bits; never 0 (0 marks a free row). */
static apr_uint64_t hash_of(const char *s)
{
    apr_uint64_t h = 14695981039346656037ULL;

    for (; *s; s++) {
        h ^= (unsigned char)*s;
        h *= 1099511628211ULL;
    }
    return h ? h : 1;
}

/* The row of endpoint: its own, a free one it claims, or "other". The
 * claim is one compare-and-swap of the hash word; the url is written
 * after it and published by the ready word, so a reader never sees half
 * a url. Rows are keyed by the URL as the breaker shows it (README
 * "Outages"): a query never makes a row of its own. */
static oa2f_stats_endpoint_t *endpoint_row(oa2f_stats_t *st,
                                           const char *endpoint)
{
    char shown[OA2F_BREAKER_URL_MAX];
    apr_uint64_t h, seen;
    int i;

    if (!endpoint || !*endpoint) {
        return &st->endpoints[OA2F_STATS_ENDPOINTS];
    }
    oa2f_breaker_shown_url(endpoint, shown);
    h = hash_of(shown);
    for (i = 0; i < OA2F_STATS_ENDPOINTS; i++) {
        oa2f_stats_endpoint_t *row = &st->endpoints[i];

        seen = __atomic_load_n(&row->hash, __ATOMIC_ACQUIRE);
        if (seen == 0) {
            if (__atomic_compare_exchange_n(&row->hash, &seen, h, 0,
                                            __ATOMIC_ACQ_REL,
                                            __ATOMIC_ACQUIRE)) {
                apr_cpystrn(row->url, shown, sizeof(row->url));
                __atomic_store_n(&row->ready, 1, __ATOMIC_RELEASE);
                return row;
            }
            /* another process took it first: seen is its hash */
        }
        if (seen == h) {
            return row;
        }
    }
    return &st->endpoints[OA2F_STATS_ENDPOINTS];
}

/* The bucket of a call of us microseconds: upper bounds inclusive. */
static int bucket_of(apr_uint64_t us)
{
    int b;

    for (b = 0; b < OA2F_LAT_BUCKETS - 1; b++) {
        if (us <= (apr_uint64_t)oa2f_lat_bounds_ms[b] * 1000) {
            break;
        }
    }
    return b;
}

void oa2f_stats_provider_call(oa2f_stats_t *st, const char *endpoint,
                              oa2f_outcome_e o, double seconds)
{
    oa2f_stats_endpoint_t *row;
    apr_uint64_t us;
    int b;

    if (!st) {
        return;
    }
    if ((int)o < 0 || o >= OA2F_OUTCOME_MAX) {
        o = OA2F_INTERNAL;
    }
    if (o == OA2F_CIRCUIT_OPEN) {
        /* no call was made (README "Outages") */
        return;
    }
    us = seconds > 0 ? (apr_uint64_t)(seconds * 1e6) : 0;
    b = bucket_of(us);
    add(&st->provider_calls[o], 1);
    add(&st->latency[b], 1);
    add(&st->latency_sum_us, us);
    row = endpoint_row(st, endpoint);
    add(&row->calls[o], 1);
    add(&row->latency[b], 1);
    add(&row->latency_sum_us, us);
}

void oa2f_stats_snapshot(const oa2f_stats_t *st, oa2f_stats_t *copy)
{
    const apr_uint64_t *src = (const apr_uint64_t *)st;
    apr_uint64_t *dst = (apr_uint64_t *)copy;
    apr_size_t i;

    for (i = 0; i < sizeof(*st) / sizeof(apr_uint64_t); i++) {
        /* acquire: an endpoint row's ready word before its url */
        dst[i] = __atomic_load_n(&src[i], __ATOMIC_ACQUIRE);
    }
}

/* Upper bound (ms) of the bucket holding the q-quantile, 0 if no data;
 * the open last bucket reports as its lower bound. */
static unsigned percentile(const oa2f_stats_t *s, double q, apr_uint64_t total)
{
    apr_uint64_t seen = 0, want;
    int b;

    if (!total) {
        return 0;
    }
    want = (apr_uint64_t)(q * (double)total + 0.999999);
    if (want < 1) {
        want = 1;
    }
    for (b = 0; b < OA2F_LAT_BUCKETS; b++) {
        seen += s->latency[b];
        if (seen >= want) {
            return oa2f_lat_bounds_ms[b < OA2F_LAT_BUCKETS - 1
                                          ? b
                                          : OA2F_LAT_BUCKETS - 2];
        }
    }
    return oa2f_lat_bounds_ms[OA2F_LAT_BUCKETS - 2];
}

const char *oa2f_stats_render(apr_pool_t *p, const oa2f_stats_t *s,
                              long long now, int json)
{
    apr_array_header_t *parts = apr_array_make(p, 64, sizeof(const char *));
    apr_uint64_t calls = 0, lat_total = 0;
    int i;

#define ITEM(name, fmt, val)                                                  \
    APR_ARRAY_PUSH(parts, const char *) =                                     \
        json ? apr_psprintf(p, "\"%s\":" fmt, (name), (val))                  \
             : apr_psprintf(p, "%s: " fmt, (name), (val))

    for (i = 0; i < OA2F_OUTCOME_MAX; i++) {
        calls += s->provider_calls[i];
    }
    for (i = 0; i < OA2F_LAT_BUCKETS; i++) {
        lat_total += s->latency[i];
    }
    ITEM("uptime_seconds", "%" APR_INT64_T_FMT,
         (apr_int64_t)(now - (long long)s->started_at));
    for (i = 0; i < OA2F_REQ_MAX; i++) {
        ITEM(apr_pstrcat(p, "requests_", req_names[i], NULL),
             "%" APR_UINT64_T_FMT, s->requests[i]);
    }
    for (i = 0; i < OA2F_C_MAX; i++) {
        ITEM(counter_names[i], "%" APR_UINT64_T_FMT, s->counters[i]);
    }
    ITEM("revocation_rules", "%" APR_UINT64_T_FMT, s->revocation_rules);
    ITEM("provider_calls", "%" APR_UINT64_T_FMT, calls);
    for (i = 0; i < OA2F_OUTCOME_MAX; i++) {
        if (!oa2f_outcome_info((oa2f_outcome_e)i)->from_provider) {
            continue;
        }
        ITEM(apr_pstrcat(p, "provider_calls_",
                         oa2f_outcome_name((oa2f_outcome_e)i), NULL),
             "%" APR_UINT64_T_FMT, s->provider_calls[i]);
    }
    ITEM("provider_latency_avg_ms", "%.3f",
         lat_total ? (double)s->latency_sum_us / 1000.0 / (double)lat_total
                   : 0.0);
    ITEM("provider_latency_p50_ms", "%u", percentile(s, 0.50, lat_total));
    ITEM("provider_latency_p90_ms", "%u", percentile(s, 0.90, lat_total));
    ITEM("provider_latency_p99_ms", "%u", percentile(s, 0.99, lat_total));
    for (i = 0; i < OA2F_LAT_BUCKETS; i++) {
        const char *name = (i < OA2F_LAT_BUCKETS - 1)
                               ? apr_psprintf(p, "provider_latency_le_%ums",
                                              oa2f_lat_bounds_ms[i])
                               : apr_psprintf(
                                   p, "provider_latency_gt_%ums",
                                   oa2f_lat_bounds_ms[OA2F_LAT_BUCKETS - 2]);
        ITEM(name, "%" APR_UINT64_T_FMT, s->latency[i]);
    }
#undef ITEM
    if (json) {
        return apr_pstrcat(p, "{", apr_array_pstrcat(p, parts, ','), "}\n",
                           NULL);
    }
    return apr_pstrcat(p, apr_array_pstrcat(p, parts, '\n'), "\n", NULL);
}
