/* oa2f_stats.c: the status page's counters and their text and JSON
 * rendering (README "Status page"). */
#include <stdlib.h>
#include <string.h>
#include <json-c/json.h>
#include <apr_strings.h>
#include <apr_tables.h>

#include "unit.h"
#include "oa2f_stats.h"

/* The time the (imaginary) request was sent: 2026-01-01T00:00:00Z. */
#define SENT 1767225600LL

/* The endpoint the (imaginary) provider calls went to. */
#define EP "https://idp.example/introspect"

/* ---- oa2f_stats ------------------------------------------------------- */

static oa2f_stats_t *stats_make(void)
{
    oa2f_stats_t *st = apr_pcalloc(ut_pool, sizeof(*st));

    st->started_at = SENT;
    return st;
}

START_TEST(test_stats_count)
{
    oa2f_stats_t *st = stats_make();
    int c, n;

    for (c = 0; c < OA2F_C_MAX; c++) {
        for (n = 0; n <= c; n++) {
            oa2f_stats_count(st, (oa2f_counter_e)c);
        }
    }
    for (c = 0; c < OA2F_C_MAX; c++) {
        ck_assert_uint_eq(st->counters[c], (apr_uint64_t)c + 1);
    }
    /* no shared memory (yet): nothing happens */
    oa2f_stats_count(NULL, OA2F_C_CACHE_HIT);
    oa2f_stats_request(NULL, 200, 1);
    oa2f_stats_provider_call(NULL, EP, OA2F_OK, 0.1);
}
END_TEST

typedef struct {
    int status;
    int allowed;
    oa2f_req_kind_e want;
} req_case_t;

static const req_case_t req_cases[] = {
    { 200, 1, OA2F_REQ_ALLOWED },
    /* allowed is what our check said, whatever the backend answered */
    { 500, 1, OA2F_REQ_ALLOWED },
    { 404, 1, OA2F_REQ_ALLOWED },
    { 401, 1, OA2F_REQ_ALLOWED },
    { 400, 0, OA2F_REQ_400 },
    { 401, 0, OA2F_REQ_401 },
    { 403, 0, OA2F_REQ_403 },
    { 500, 0, OA2F_REQ_500 },
    { 502, 0, OA2F_REQ_502 },
    { 503, 0, OA2F_REQ_503 },
    { 200, 0, OA2F_REQ_OTHER },
    { 404, 0, OA2F_REQ_OTHER },
    { 302, 0, OA2F_REQ_OTHER },
    { 504, 0, OA2F_REQ_OTHER },
    { 413, 0, OA2F_REQ_OTHER },
    /* a request that was not allowed is never counted as allowed */
    { 0, 0, OA2F_REQ_OTHER },
    { -1, 0, OA2F_REQ_OTHER },
};

START_TEST(test_stats_request)
{
    const req_case_t *tc = &req_cases[_i];
    oa2f_stats_t *st = stats_make();
    int k;

    oa2f_stats_request(st, tc->status, tc->allowed);
    oa2f_stats_request(st, tc->status, tc->allowed);
    for (k = 0; k < OA2F_REQ_MAX; k++) {
        ck_assert_msg(st->requests[k] == (k == (int)tc->want ? 2u : 0u),
                      "status %d, allowed %d: requests[%d] = %d", tc->status,
                      tc->allowed, k, (int)st->requests[k]);
    }
}
END_TEST

typedef struct {
    double seconds;
    int bucket;
} lat_case_t;

static const lat_case_t lat_cases[] = {
    { -1.0, 0 },
    { 0.0, 0 },
    { 0.0005, 0 },
    { 0.0015, 1 },
    { 0.003, 2 },
    { 0.007, 3 },
    { 0.02, 4 },
    { 0.03, 5 },
    { 0.075, 6 },
    /* the upper bounds are inclusive (exact binary fractions) */
    { 0.25, 7 },
    { 0.2500015, 8 },
    { 0.5, 8 },
    { 0.75, 9 },
    { 1.0, 9 },
    { 2.0, 10 },
    { 2.5, 10 },
    { 3.0, 11 },
    { 5.0, 11 },
    { 5.001, 12 },
    { 60.0, 12 },
    { 1e6, 12 },
};

START_TEST(test_stats_latency_bucket)
{
    const lat_case_t *tc = &lat_cases[_i];
    oa2f_stats_t *st = stats_make();
    int b;

    oa2f_stats_provider_call(st, EP, OA2F_OK, tc->seconds);
    for (b = 0; b < OA2F_LAT_BUCKETS; b++) {
        ck_assert_msg(st->latency[b] == (b == tc->bucket ? 1u : 0u),
                      "%.7f s: latency[%d] = %d", tc->seconds, b,
                      (int)st->latency[b]);
    }
    ck_assert_uint_eq(st->latency_sum_us,
                      tc->seconds > 0 ? (apr_uint64_t)(tc->seconds * 1e6) : 0);
    ck_assert_uint_eq(st->provider_calls[OA2F_OK], 1);
}
END_TEST

START_TEST(test_stats_provider_outcomes)
{
    oa2f_stats_t *st = stats_make();
    int o;

    for (o = 0; o <= OA2F_INTERNAL; o++) {
        oa2f_stats_provider_call(st, EP, (oa2f_outcome_e)o, 0.01);
    }
    oa2f_stats_provider_call(st, EP, OA2F_UNREACHABLE, 2.0);
    /* out of range counts as internal, never out of bounds */
    oa2f_stats_provider_call(st, EP, OA2F_OUTCOME_MAX, 0.01);
    oa2f_stats_provider_call(st, EP, (oa2f_outcome_e)1000, 0.01);
    oa2f_stats_provider_call(st, EP, (oa2f_outcome_e)-1, 0.01);
    /* an open circuit made no call: neither counted nor timed */
    oa2f_stats_provider_call(st, EP, OA2F_CIRCUIT_OPEN, 0.01);
    ck_assert_uint_eq(st->provider_calls[OA2F_CIRCUIT_OPEN], 0);
    for (o = 0; o <= OA2F_INTERNAL; o++) {
        apr_uint64_t want = o == OA2F_UNREACHABLE ? 2
                            : o == OA2F_INTERNAL  ? 4
                                                  : 1;
        ck_assert_msg(st->provider_calls[o] == want, "%s: %d",
                      oa2f_outcome_name((oa2f_outcome_e)o),
                      (int)st->provider_calls[o]);
    }
    ck_assert_uint_eq(st->latency[10], 1);
    ck_assert_uint_eq(st->latency[3], OA2F_INTERNAL + 1 + 3);
}
END_TEST

START_TEST(test_stats_snapshot)
{
    oa2f_stats_t *st = stats_make(), copy;
    int i;

    for (i = 0; i < 50; i++) {
        oa2f_stats_count(st, (oa2f_counter_e)(i % OA2F_C_MAX));
        oa2f_stats_request(st, 400 + i, i % 3 == 0);
        oa2f_stats_provider_call(st, EP, (oa2f_outcome_e)(i % 11), i * 0.013);
    }
    memset(&copy, 0xa5, sizeof(copy));
    oa2f_stats_snapshot(st, &copy);
    ck_assert_mem_eq(&copy, st, sizeof(copy));
    ck_assert(copy.started_at == SENT);
}
END_TEST

/* "name: value" lines into a table, checking the shape of each line. */
static apr_table_t *parse_text(const char *text)
{
    apr_table_t *t = apr_table_make(ut_pool, 64);
    const char *s = text;

    ck_assert_msg(*text && text[strlen(text) - 1] == '\n',
                  "text does not end with a newline");
    while (*s) {
        const char *nl = strchr(s, '\n');
        const char *sep;
        const char *name, *value, *v;

        ck_assert_ptr_nonnull(nl);
        sep = memchr(s, ':', (apr_size_t)(nl - s));
        ck_assert_msg(sep != NULL && sep[1] == ' ', "not `name: value`: %s",
                      apr_pstrmemdup(ut_pool, s, (apr_size_t)(nl - s)));
        name = apr_pstrmemdup(ut_pool, s, (apr_size_t)(sep - s));
        value = apr_pstrmemdup(ut_pool, sep + 2, (apr_size_t)(nl - sep - 2));
        ck_assert_msg(*name
                          && strspn(name, "abcdefghijklmnopqrstuvwxyz"
                                          "0123456789_")
                                 == strlen(name),
                      "odd name: %s", name);
        ck_assert_msg(*value, "%s: empty value", name);
        v = value + (*value == '-');
        ck_assert_msg(strspn(v, "0123456789.") == strlen(v),
                      "%s: not a number: %s", name, value);
        ck_assert_msg(apr_table_get(t, name) == NULL, "%s twice", name);
        apr_table_set(t, name, value);
        s = nl + 1;
    }
    return t;
}

static apr_status_t put_json(void *obj)
{
    json_object_put(obj);
    return APR_SUCCESS;
}

static struct json_object *parse_json(const char *text)
{
    struct json_object *o = json_tokener_parse(text);

    ck_assert_msg(o != NULL, "not JSON: %s", text);
    apr_pool_cleanup_register(ut_pool, o, put_json, apr_pool_cleanup_null);
    ck_assert(json_object_is_type(o, json_type_object));
    ck_assert_msg(text[strlen(text) - 1] == '\n', "JSON without newline");
    return o;
}

/* A status page of a known history. */
static oa2f_stats_t *history(void)
{
    oa2f_stats_t *st = stats_make();
    int i;

    for (i = 0; i < 7; i++) {
        oa2f_stats_request(st, 200, 1);
    }
    oa2f_stats_request(st, 401, 0);
    oa2f_stats_request(st, 401, 0);
    oa2f_stats_request(st, 403, 0);
    oa2f_stats_request(st, 503, 0);
    oa2f_stats_request(st, 404, 0);
    for (i = 0; i < 5; i++) {
        oa2f_stats_count(st, OA2F_C_CACHE_HIT);
    }
    oa2f_stats_count(st, OA2F_C_CACHE_MISS);
    oa2f_stats_count(st, OA2F_C_CACHE_MISS);
    oa2f_stats_count(st, OA2F_C_CACHE_STORE);
    oa2f_stats_count(st, OA2F_C_COALESCED);
    oa2f_stats_count(st, OA2F_C_PROVIDER_NEW_CONN);
    oa2f_stats_count(st, OA2F_C_STALE_SERVED);
    oa2f_stats_count(st, OA2F_C_REVOCATIONS);
    oa2f_stats_count(st, OA2F_C_NEAR_HIT);
    oa2f_stats_count(st, OA2F_C_NEAR_HIT);
    oa2f_stats_count(st, OA2F_C_NEAR_MISS);
    oa2f_stats_count(st, OA2F_C_NEAR_STORE);
    st->revocation_rules = 3;
    /* 100 calls: 50 at 3 ms, 40 at 20 ms, 9 at 200 ms, 1 at 10 s */
    for (i = 0; i < 50; i++) {
        oa2f_stats_provider_call(st, EP, OA2F_OK, 0.003);
    }
    for (i = 0; i < 40; i++) {
        oa2f_stats_provider_call(st, EP, OA2F_INACTIVE, 0.020);
    }
    for (i = 0; i < 9; i++) {
        oa2f_stats_provider_call(st, EP, OA2F_BAD_ANSWER, 0.200);
    }
    oa2f_stats_provider_call(st, EP, OA2F_UNREACHABLE, 10.0);
    return st;
}

typedef struct {
    const char *name;
    const char *value;
} item_case_t;

/* What the history renders to (names and values, in order). */
static const item_case_t history_items[] = {
    { "uptime_seconds", "90" },
    { "requests_200", "7" },
    { "requests_400", "0" },
    { "requests_401", "2" },
    { "requests_403", "1" },
    { "requests_500", "0" },
    { "requests_502", "0" },
    { "requests_503", "1" },
    { "requests_other", "1" },
    { "cache_hits", "5" },
    { "cache_negative_hits", "0" },
    { "cache_misses", "2" },
    { "cache_stores", "1" },
    { "cache_not_stored", "0" },
    { "cache_errors", "0" },
    { "cache_corrupt", "0" },
    { "cache_local_hits", "0" },
    { "coalesced_waits", "1" },
    { "coalesced_timeouts", "0" },
    { "provider_new_connections", "1" },
    { "stale_served", "1" },
    { "revocations", "1" },
    { "coalesced_from_leader", "0" },
    { "fleet_lock_acquired", "0" },
    { "fleet_lock_waits", "0" },
    { "fleet_lock_wait_hits", "0" },
    { "fleet_lock_timeouts", "0" },
    { "fleet_lock_errors", "0" },
    { "near_cache_hits", "2" },
    { "near_cache_misses", "1" },
    { "near_cache_stores", "1" },
    { "revocation_rules", "3" },
    { "provider_calls", "100" },
    { "provider_calls_ok", "50" },
    { "provider_calls_inactive", "40" },
    { "provider_calls_expired", "0" },
    { "provider_calls_unreachable", "1" },
    { "provider_calls_bad_answer", "9" },
    { "provider_calls_rejected", "0" },
    { "provider_calls_internal", "0" },
    /* (50 * 3 + 40 * 20 + 9 * 200 + 10000) / 100 ms */
    { "provider_latency_avg_ms", "127.500" },
    { "provider_latency_p50_ms", "5" },
    { "provider_latency_p90_ms", "25" },
    { "provider_latency_p99_ms", "250" },
    { "provider_latency_le_1ms", "0" },
    { "provider_latency_le_2ms", "0" },
    { "provider_latency_le_5ms", "50" },
    { "provider_latency_le_10ms", "0" },
    { "provider_latency_le_25ms", "40" },
    { "provider_latency_le_50ms", "0" },
    { "provider_latency_le_100ms", "0" },
    { "provider_latency_le_250ms", "9" },
    { "provider_latency_le_500ms", "0" },
    { "provider_latency_le_1000ms", "0" },
    { "provider_latency_le_2500ms", "0" },
    { "provider_latency_le_5000ms", "0" },
    { "provider_latency_gt_5000ms", "1" },
};

START_TEST(test_stats_render_text)
{
    oa2f_stats_t snap;
    const char *text;
    apr_table_t *t;
    const char *s;
    int i;

    oa2f_stats_snapshot(history(), &snap);
    text = oa2f_stats_render(ut_pool, &snap, SENT + 90, 0);
    t = parse_text(text);
    ck_assert_int_eq(apr_table_elts(t)->nelts, UT_N(history_items));
    /* the same names, values and order */
    s = text;
    for (i = 0; i < UT_N(history_items); i++) {
        const char *line = apr_pstrcat(ut_pool, history_items[i].name, ": ",
                                       history_items[i].value, "\n", NULL);
        ck_assert_msg(strncmp(s, line, strlen(line)) == 0, "line %d is not %s",
                      i + 1, line);
        s += strlen(line);
    }
    ck_assert_str_eq(s, "");
    /* never outcomes that are not a provider's */
    ck_assert_ptr_null(strstr(text, "no_token"));
    ck_assert_ptr_null(strstr(text, "forbidden"));
    ck_assert_ptr_null(strstr(text, "wrong_scheme"));
    ck_assert_ptr_null(strstr(text, "provider_calls_bad_request"));
}
END_TEST

START_TEST(test_stats_render_json)
{
    oa2f_stats_t snap;
    struct json_object *o, *v;
    const char *text;
    int i;

    oa2f_stats_snapshot(history(), &snap);
    text = oa2f_stats_render(ut_pool, &snap, SENT + 90, 1);
    o = parse_json(text);
    ck_assert_int_eq(json_object_object_length(o), UT_N(history_items));
    for (i = 0; i < UT_N(history_items); i++) {
        const item_case_t *it = &history_items[i];
        ck_assert_msg(json_object_object_get_ex(o, it->name, &v),
                      "%s is missing", it->name);
        if (strchr(it->value, '.')) {
            ck_assert(json_object_is_type(v, json_type_double));
            ck_assert_double_eq_tol(json_object_get_double(v), atof(it->value),
                                    1e-9);
        }
        else {
            ck_assert_msg(json_object_is_type(v, json_type_int),
                          "%s is not an integer", it->name);
            ck_assert_msg(json_object_get_int64(v) == atoll(it->value),
                          "%s: %lld, not %s", it->name,
                          (long long)json_object_get_int64(v), it->value);
        }
    }
}
END_TEST

/* Nothing yet: zeros everywhere, no division by zero. */
START_TEST(test_stats_render_empty)
{
    oa2f_stats_t *st = stats_make();
    struct json_object *o, *v;
    apr_table_t *t;

    t = parse_text(oa2f_stats_render(ut_pool, st, SENT, 0));
    ck_assert_str_eq(apr_table_get(t, "uptime_seconds"), "0");
    ck_assert_str_eq(apr_table_get(t, "provider_calls"), "0");
    ck_assert_str_eq(apr_table_get(t, "provider_latency_avg_ms"), "0.000");
    ck_assert_str_eq(apr_table_get(t, "provider_latency_p50_ms"), "0");
    ck_assert_str_eq(apr_table_get(t, "provider_latency_p99_ms"), "0");
    ck_assert_int_eq(apr_table_elts(t)->nelts, UT_N(history_items));

    o = parse_json(oa2f_stats_render(ut_pool, st, SENT + 1, 1));
    ck_assert(json_object_object_get_ex(o, "uptime_seconds", &v));
    ck_assert_int_eq(json_object_get_int64(v), 1);
    ck_assert(json_object_object_get_ex(o, "requests_200", &v));
    ck_assert_int_eq(json_object_get_int64(v), 0);
}
END_TEST

typedef struct {
    const char *name;
    double seconds[4];
    int n[4];
    unsigned p50, p90, p99;
} pct_case_t;

static const pct_case_t pct_cases[] = {
    { "one fast call", { 0.0005 }, { 1 }, 1, 1, 1 },
    { "one slow call (open bucket)", { 30.0 }, { 1 }, 5000, 5000, 5000 },
    { "all in one bucket", { 0.04 }, { 1000 }, 50, 50, 50 },
    { "half and half", { 0.001, 1.0 }, { 50, 50 }, 1, 1000, 1000 },
    { "one more than half", { 0.001, 1.0 }, { 51, 49 }, 1, 1000, 1000 },
    { "99 fast, 1 slow", { 0.002, 3.0 }, { 99, 1 }, 2, 2, 2 },
    { "98 fast, 2 slow", { 0.002, 3.0 }, { 98, 2 }, 2, 2, 5000 },
    { "spread", { 0.001, 0.01, 0.1, 1.0 }, { 25, 25, 40, 10 }, 10, 100, 1000 },
};

START_TEST(test_stats_percentiles)
{
    const pct_case_t *tc = &pct_cases[_i];
    oa2f_stats_t *st = stats_make();
    apr_table_t *t;
    int i, j;

    for (i = 0; i < 4; i++) {
        for (j = 0; j < tc->n[i]; j++) {
            oa2f_stats_provider_call(st, EP, OA2F_OK, tc->seconds[i]);
        }
    }
    t = parse_text(oa2f_stats_render(ut_pool, st, SENT, 0));
    ck_assert_msg(atoi(apr_table_get(t, "provider_latency_p50_ms"))
                      == (int)tc->p50,
                  "%s: p50 %s, not %u", tc->name,
                  apr_table_get(t, "provider_latency_p50_ms"), tc->p50);
    ck_assert_msg(atoi(apr_table_get(t, "provider_latency_p90_ms"))
                      == (int)tc->p90,
                  "%s: p90 %s, not %u", tc->name,
                  apr_table_get(t, "provider_latency_p90_ms"), tc->p90);
    ck_assert_msg(atoi(apr_table_get(t, "provider_latency_p99_ms"))
                      == (int)tc->p99,
                  "%s: p99 %s, not %u", tc->name,
                  apr_table_get(t, "provider_latency_p99_ms"), tc->p99);
}
END_TEST

Suite *stats_suite(void)
{
    Suite *s = suite_create("stats");
    TCase *tc;

    tc = ut_tcase("counters");
    tcase_add_test(tc, test_stats_count);
    tcase_add_loop_test(tc, test_stats_request, 0, UT_N(req_cases));
    tcase_add_loop_test(tc, test_stats_latency_bucket, 0, UT_N(lat_cases));
    tcase_add_test(tc, test_stats_provider_outcomes);
    tcase_add_test(tc, test_stats_snapshot);
    suite_add_tcase(s, tc);

    tc = ut_tcase("render");
    tcase_add_test(tc, test_stats_render_text);
    tcase_add_test(tc, test_stats_render_json);
    tcase_add_test(tc, test_stats_render_empty);
    tcase_add_loop_test(tc, test_stats_percentiles, 0, UT_N(pct_cases));
    suite_add_tcase(s, tc);
    return s;
}
