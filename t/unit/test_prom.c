/* oa2f_prom.c: the status page's Prometheus view (README "Status
 * page"): label escaping, the shape of every line, the histogram's
 * buckets cumulative with +Inf = _count, the endpoint rows and their
 * "other" overflow. */
#include <stdlib.h>
#include <string.h>
#include <apr_strings.h>
#include <apr_tables.h>
#include <apr_thread_proc.h>

#include "unit.h"
#include "oa2f_prom.h"

#define SENT 1767225600LL
#define EP   "https://idp.example/introspect"

typedef struct {
    const char *in;
    const char *want;
} esc_case_t;

static const esc_case_t esc_cases[] = {
    { "", "" },
    { "https://idp.example/introspect", "https://idp.example/introspect" },
    { "a\\b", "a\\\\b" },
    { "say \"hi\"", "say \\\"hi\\\"" },
    { "two\nlines", "two\\nlines" },
    { "\\\"\n", "\\\\\\\"\\n" },
    { "tab\there", "tab%09here" },
    { "cr\r", "cr%0D" },
    { "del\x7f", "del%7F" },
    { "caf\xc3\xa9", "caf%C3%A9" },
    { "%41 stays", "%41 stays" },
};

START_TEST(test_prom_escape)
{
    const esc_case_t *tc = &esc_cases[_i];

    ck_assert_str_eq(oa2f_prom_label_value(ut_pool, tc->in), tc->want);
}
END_TEST

START_TEST(test_prom_escape_null)
{
    ck_assert_str_eq(oa2f_prom_label_value(ut_pool, NULL), "");
}
END_TEST

/* One sample line: name, {labels} (raw, may be ""), value. */
typedef struct {
    const char *name;
    const char *labels;
    const char *value;
} sample_t;

/* The page as samples, checking the format on the way: every line is a
 * # HELP, a # TYPE or a sample; a family's HELP and TYPE come once,
 * before its samples, and its samples are contiguous; counters end in
 * _total; every name starts with oauth2_federated_; no series twice. */
static apr_array_header_t *parse(const char *page)
{
    apr_array_header_t *out = apr_array_make(ut_pool, 64, sizeof(sample_t));
    apr_table_t *types = apr_table_make(ut_pool, 16);
    apr_table_t *series = apr_table_make(ut_pool, 64);
    apr_table_t *closed = apr_table_make(ut_pool, 16);
    const char *fam = NULL;
    const char *s = page;

    ck_assert_msg(*page && page[strlen(page) - 1] == '\n',
                  "page does not end with a line feed");
    while (*s) {
        const char *nl = strchr(s, '\n');
        char *line = apr_pstrmemdup(ut_pool, s, (apr_size_t)(nl - s));
        char *name, *rest, *type;
        sample_t *smp;
        apr_size_t n;

        s = nl + 1;
        if (!strncmp(line, "# HELP ", 7)) {
            name = apr_pstrndup(ut_pool, line + 7, strcspn(line + 7, " "));
            ck_assert_msg(!apr_table_get(types, name)
                              && !apr_table_get(closed, name),
                          "HELP of %s twice", name);
            if (fam) {
                apr_table_set(closed, fam, "1");
            }
            fam = name;
            ck_assert_msg(strlen(line) > 8 + strlen(name), "no help: %s",
                          line);
            continue;
        }
        if (!strncmp(line, "# TYPE ", 7)) {
            name = apr_pstrndup(ut_pool, line + 7, strcspn(line + 7, " "));
            type = line + 8 + strlen(name);
            ck_assert_msg(fam && !strcmp(fam, name), "TYPE without HELP: %s",
                          line);
            ck_assert_msg(!strcmp(type, "counter") || !strcmp(type, "gauge")
                              || !strcmp(type, "histogram"),
                          "type: %s", line);
            if (!strcmp(type, "counter")) {
                n = strlen(name);
                ck_assert_msg(n > 6 && !strcmp(name + n - 6, "_total"),
                              "counter without _total: %s", name);
            }
            apr_table_set(types, name, type);
            continue;
        }
        ck_assert_msg(line[0] != '#', "odd comment: %s", line);
        ck_assert_msg(!strncmp(line, "oauth2_federated_", 17), "name: %s",
                      line);
        n = strspn(line, "abcdefghijklmnopqrstuvwxyz0123456789_");
        name = apr_pstrndup(ut_pool, line, n);
        rest = line + n;
        smp = &APR_ARRAY_PUSH(out, sample_t);
        smp->name = name;
        smp->labels = "";
        if (*rest == '{') {
            char *close = strstr(rest, "} ");
            ck_assert_msg(close != NULL, "labels not closed: %s", line);
            smp->labels = apr_pstrmemdup(ut_pool, rest + 1,
                                         (apr_size_t)(close - rest - 1));
            rest = close + 1;
        }
        ck_assert_msg(*rest == ' ' && rest[1], "no value: %s", line);
        smp->value = rest + 1;
        ck_assert_msg(strspn(smp->value, "0123456789.") == strlen(smp->value),
                      "value: %s", line);
        /* the family: the name itself, or a histogram's */
        ck_assert_msg(fam != NULL, "sample before any HELP: %s", line);
        if (strcmp(name, fam) != 0) {
            ck_assert_str_eq(apr_table_get(types, fam), "histogram");
            ck_assert_msg(!strcmp(name, apr_pstrcat(ut_pool, fam, "_bucket",
                                                    NULL))
                              || !strcmp(name, apr_pstrcat(ut_pool, fam,
                                                           "_sum", NULL))
                              || !strcmp(name, apr_pstrcat(ut_pool, fam,
                                                           "_count", NULL)),
                          "%s outside its family %s", name, fam);
        }
        else {
            ck_assert_msg(apr_table_get(types, fam), "no TYPE of %s", fam);
        }
        ck_assert_msg(!apr_table_get(closed, name), "%s not contiguous",
                      name);
        rest = apr_pstrcat(ut_pool, name, "{", smp->labels, "}", NULL);
        ck_assert_msg(!apr_table_get(series, rest), "%s twice", rest);
        apr_table_set(series, rest, "1");
    }
    return out;
}

/* The value of name{labels}, NULL when absent. */
static const char *value_of(apr_array_header_t *a, const char *name,
                            const char *labels)
{
    int i;

    for (i = 0; i < a->nelts; i++) {
        const sample_t *smp = &APR_ARRAY_IDX(a, i, sample_t);
        if (!strcmp(smp->name, name) && !strcmp(smp->labels, labels)) {
            return smp->value;
        }
    }
    return NULL;
}

static oa2f_stats_t *stats_make(void)
{
    oa2f_stats_t *st = apr_pcalloc(ut_pool, sizeof(*st));

    st->started_at = SENT;
    return st;
}

static const oa2f_prom_build_t build = { "0.3.0",  "2.4.65", "1.7.2",
                                         "3.0.17", "7.88.1", "0.16" };

START_TEST(test_prom_counters)
{
    oa2f_stats_t *st = stats_make();
    apr_array_header_t *a;
    int i;

    for (i = 0; i < 7; i++) {
        oa2f_stats_request(st, 200, 1);
    }
    oa2f_stats_request(st, 401, 0);
    oa2f_stats_request(st, 418, 0);
    for (i = 0; i < 5; i++) {
        oa2f_stats_count(st, OA2F_C_CACHE_HIT);
    }
    oa2f_stats_count(st, OA2F_C_CACHE_MISS);
    oa2f_stats_count(st, OA2F_C_CACHE_LOCAL_HIT);
    oa2f_stats_count(st, OA2F_C_STALE_SERVED);
    oa2f_stats_count(st, OA2F_C_REVOCATIONS);
    st->revocation_rules = 3;
    a = parse(oa2f_prom_render(ut_pool, st, SENT + 90, NULL, 0, &build));
    ck_assert_str_eq(value_of(a, "oauth2_federated_uptime_seconds", ""), "90");
    ck_assert_str_eq(value_of(a, "oauth2_federated_start_time_seconds", ""),
                     "1767225600");
    ck_assert_str_eq(value_of(a, "oauth2_federated_requests_total",
                              "outcome=\"allowed\",status=\"200\""),
                     "7");
    ck_assert_str_eq(value_of(a, "oauth2_federated_requests_total",
                              "outcome=\"refused\",status=\"401\""),
                     "1");
    ck_assert_str_eq(value_of(a, "oauth2_federated_requests_total",
                              "outcome=\"refused\",status=\"other\""),
                     "1");
    ck_assert_str_eq(value_of(a, "oauth2_federated_requests_total",
                              "outcome=\"refused\",status=\"403\""),
                     "0");
    ck_assert_str_eq(value_of(a, "oauth2_federated_cache_hits_total", ""),
                     "5");
    ck_assert_str_eq(value_of(a, "oauth2_federated_cache_misses_total", ""),
                     "1");
    ck_assert_str_eq(
        value_of(a, "oauth2_federated_cache_local_hits_total", ""), "1");
    ck_assert_str_eq(value_of(a, "oauth2_federated_stale_served_total", ""),
                     "1");
    ck_assert_str_eq(value_of(a, "oauth2_federated_revocations_total", ""),
                     "1");
    ck_assert_str_eq(value_of(a, "oauth2_federated_revocation_rules", ""),
                     "3");
    ck_assert_str_eq(value_of(a, "oauth2_federated_cache_corrupt_total", ""),
                     "0");
    ck_assert_str_eq(
        value_of(a, "oauth2_federated_build_info",
                 "version=\"0.3.0\",httpd=\"2.4.65\",apr=\"1.7.2\","
                 "openssl=\"3.0.17\",curl=\"7.88.1\",json_c=\"0.16\""),
        "1");
    /* no provider call yet: no endpoint series */
    ck_assert_ptr_null(
        value_of(a, "oauth2_federated_provider_calls_total",
                 "endpoint=\"other\",outcome=\"ok\""));
}
END_TEST

/* Every counter of oa2f_counter_e has its row: a counter added to the
 * enum without one fails here. */
START_TEST(test_prom_every_counter)
{
    oa2f_stats_t *st = stats_make();
    apr_array_header_t *a;
    int c, i, found;

    for (c = 0; c < OA2F_C_MAX; c++) {
        st->counters[c] = 7000 + (apr_uint64_t)c;
    }
    a = parse(oa2f_prom_render(ut_pool, st, SENT, NULL, 0, &build));
    for (c = 0; c < OA2F_C_MAX; c++) {
        const char *want = apr_psprintf(ut_pool, "%d", 7000 + c);

        found = 0;
        for (i = 0; i < a->nelts; i++) {
            const sample_t *smp = &APR_ARRAY_IDX(a, i, sample_t);
            found += !*smp->labels && !strcmp(smp->value, want);
        }
        ck_assert_msg(found == 1, "counter %d: %d samples, not 1", c, found);
    }
}
END_TEST

START_TEST(test_prom_build_unknown)
{
    oa2f_prom_build_t b = { "0.3.0", NULL, "", "3\"x", NULL, NULL };
    apr_array_header_t *a;

    a = parse(oa2f_prom_render(ut_pool, stats_make(), SENT, NULL, 0, &b));
    ck_assert_str_eq(
        value_of(a, "oauth2_federated_build_info",
                 "version=\"0.3.0\",httpd=\"unknown\",apr=\"unknown\","
                 "openssl=\"3\\\"x\",curl=\"unknown\",json_c=\"unknown\""),
        "1");
    parse(oa2f_prom_render(ut_pool, stats_make(), SENT, NULL, 0, NULL));
}
END_TEST

/* le="…" of bucket b, as written. */
static const char *le_of(int b)
{
    static const char *const le[OA2F_LAT_BUCKETS] = {
        "0.001", "0.002", "0.005", "0.01", "0.025", "0.05", "0.1",
        "0.25",  "0.5",   "1",     "2.5",  "5",     "+Inf"
    };
    return le[b];
}

START_TEST(test_prom_histogram)
{
    /* calls of these durations, and the buckets they fall in */
    static const double secs[] = { 0.0005, 0.0009, 0.0015, 0.003, 0.02,
                                    0.02,   0.2,    0.2,    0.2,   1.0,
                                    4.9,    10.0,   60.0 };
    oa2f_stats_t *st = stats_make();
    apr_array_header_t *a;
    apr_uint64_t prev = 0, n;
    double sum = 0, got;
    const char *v;
    int i, b;

    for (i = 0; i < UT_N(secs); i++) {
        oa2f_stats_provider_call(st, EP, i % 2 ? OA2F_INACTIVE : OA2F_OK,
                                 secs[i]);
        sum += secs[i];
    }
    a = parse(oa2f_prom_render(ut_pool, st, SENT, NULL, 0, &build));
    for (b = 0; b < OA2F_LAT_BUCKETS; b++) {
        double bound = b < OA2F_LAT_BUCKETS - 1 ? atof(le_of(b)) : 1e300;
        apr_uint64_t want = 0;

        for (i = 0; i < UT_N(secs); i++) {
            want += secs[i] <= bound + 1e-12;
        }
        v = value_of(a, "oauth2_federated_provider_latency_seconds_bucket",
                     apr_psprintf(ut_pool, "endpoint=\"" EP "\",le=\"%s\"",
                                  le_of(b)));
        ck_assert_msg(v != NULL, "no bucket le=%s", le_of(b));
        n = (apr_uint64_t)atoll(v);
        ck_assert_msg(n == want, "le=%s: %s, not %d", le_of(b), v, (int)want);
        /* cumulative: never less than the bucket before */
        ck_assert(n >= prev);
        prev = n;
    }
    /* +Inf = _count = the calls */
    v = value_of(a, "oauth2_federated_provider_latency_seconds_count",
                 "endpoint=\"" EP "\"");
    ck_assert_str_eq(v, apr_psprintf(ut_pool, "%d", UT_N(secs)));
    ck_assert_uint_eq(prev, (apr_uint64_t)UT_N(secs));
    got = atof(value_of(a, "oauth2_federated_provider_latency_seconds_sum",
                        "endpoint=\"" EP "\""));
    ck_assert_double_eq_tol(got, sum, 1e-5);
    ck_assert_str_eq(value_of(a, "oauth2_federated_provider_calls_total",
                              "endpoint=\"" EP "\",outcome=\"ok\""),
                     "7");
    ck_assert_str_eq(value_of(a, "oauth2_federated_provider_calls_total",
                              "endpoint=\"" EP "\",outcome=\"inactive\""),
                     "6");
    ck_assert_str_eq(value_of(a, "oauth2_federated_provider_calls_total",
                              "endpoint=\"" EP "\",outcome=\"rejected\""),
                     "0");
    /* outcomes no provider call ends in are not listed */
    ck_assert_ptr_null(value_of(a, "oauth2_federated_provider_calls_total",
                                "endpoint=\"" EP "\",outcome=\"no_token\""));
}
END_TEST

/* The endpoint label: no user info, no query; escaped; one row per
 * endpoint, then "other". */
START_TEST(test_prom_endpoints)
{
    oa2f_stats_t *st = stats_make();
    apr_array_header_t *a;
    const char *page;
    int i;

    oa2f_stats_provider_call(st, "https://gw:s3cret@idp.example/i?token=abc",
                             OA2F_OK, 0.01);
    oa2f_stats_provider_call(st, "https://idp.example/i?other=1", OA2F_OK,
                             0.01);
    oa2f_stats_provider_call(st, "https://idp.example/\"q\\", OA2F_OK, 0.01);
    for (i = 0; i < OA2F_STATS_ENDPOINTS + 5; i++) {
        oa2f_stats_provider_call(
            st, apr_psprintf(ut_pool, "https://idp%d.example/i", i),
            OA2F_UNREACHABLE, 0.5);
    }
    oa2f_stats_provider_call(st, NULL, OA2F_OK, 0.01);
    page = oa2f_prom_render(ut_pool, st, SENT, NULL, 0, &build);
    a = parse(page);
    ck_assert_ptr_null(strstr(page, "s3cret"));
    ck_assert_ptr_null(strstr(page, "token=abc"));
    ck_assert_ptr_null(strstr(page, "gw:"));
    ck_assert_str_eq(value_of(a, "oauth2_federated_provider_calls_total",
                              "endpoint=\"https://idp.example/i\","
                              "outcome=\"ok\""),
                     "2");
    ck_assert_str_eq(value_of(a, "oauth2_federated_provider_calls_total",
                              "endpoint=\"https://idp.example/\\\"q\\\\\","
                              "outcome=\"ok\""),
                     "1");
    /* 2 rows taken above; the first ENDPOINTS - 2 of the loop get theirs */
    ck_assert_str_eq(
        value_of(a, "oauth2_federated_provider_calls_total",
                 apr_psprintf(ut_pool,
                              "endpoint=\"https://idp%d.example/i\","
                              "outcome=\"unreachable\"",
                              OA2F_STATS_ENDPOINTS - 3)),
        "1");
    ck_assert_ptr_null(
        value_of(a, "oauth2_federated_provider_calls_total",
                 apr_psprintf(ut_pool,
                              "endpoint=\"https://idp%d.example/i\","
                              "outcome=\"unreachable\"",
                              OA2F_STATS_ENDPOINTS - 2)));
    /* the other 7 of the loop, and the call without an endpoint */
    ck_assert_str_eq(value_of(a, "oauth2_federated_provider_calls_total",
                              "endpoint=\"other\",outcome=\"unreachable\""),
                     "7");
    ck_assert_str_eq(value_of(a, "oauth2_federated_provider_calls_total",
                              "endpoint=\"other\",outcome=\"ok\""),
                     "1");
    ck_assert_str_eq(
        value_of(a, "oauth2_federated_provider_latency_seconds_count",
                 "endpoint=\"other\""),
        "8");
    /* the totals of the text view still count every call */
    ck_assert_uint_eq(st->provider_calls[OA2F_OK], 4);
    ck_assert_uint_eq(st->provider_calls[OA2F_UNREACHABLE],
                      OA2F_STATS_ENDPOINTS + 5);
}
END_TEST

/* ---- threads claiming endpoint rows at once ------------------------------ */

#define RACERS    8
#define RACE_EPS  6
#define RACE_RUNS 3000

typedef struct {
    oa2f_stats_t *st;
    volatile int *go;
    int seed;
} racer_t;

static void *APR_THREAD_FUNC race(apr_thread_t *th, void *data)
{
    racer_t *r = data;
    char url[64];
    int i;

    while (!__atomic_load_n(r->go, __ATOMIC_ACQUIRE)) {
    }
    for (i = 0; i < RACE_RUNS; i++) {
        apr_snprintf(url, sizeof(url), "https://race%d.example/i",
                     (i + r->seed) % RACE_EPS);
        oa2f_stats_provider_call(r->st, url, OA2F_OK, 0.003);
    }
    apr_thread_exit(th, APR_SUCCESS);
    return NULL;
}

/* One row per endpoint however the claims race, and every call counted:
 * the compare-and-swap of the hash word is the only claim. */
START_TEST(test_prom_rows_race)
{
    oa2f_stats_t *st = stats_make();
    apr_thread_t *th[RACERS];
    racer_t r[RACERS];
    volatile int go = 0;
    apr_status_t rv;
    apr_uint64_t total = 0;
    int i, j, rows = 0;

    for (i = 0; i < RACERS; i++) {
        r[i].st = st;
        r[i].go = &go;
        r[i].seed = i;
        ck_assert_int_eq(apr_thread_create(&th[i], NULL, race, &r[i], ut_pool),
                         APR_SUCCESS);
    }
    __atomic_store_n(&go, 1, __ATOMIC_RELEASE);
    for (i = 0; i < RACERS; i++) {
        apr_thread_join(&rv, th[i]);
    }
    for (i = 0; i <= OA2F_STATS_ENDPOINTS; i++) {
        if (!st->endpoints[i].hash && i < OA2F_STATS_ENDPOINTS) {
            continue;
        }
        total += st->endpoints[i].calls[OA2F_OK];
        if (i == OA2F_STATS_ENDPOINTS) {
            ck_assert_uint_eq(st->endpoints[i].calls[OA2F_OK], 0);
            continue;
        }
        rows++;
        ck_assert_uint_eq(st->endpoints[i].ready, 1);
        for (j = 0; j < i; j++) {
            ck_assert_msg(strcmp(st->endpoints[j].url, st->endpoints[i].url),
                          "%s has two rows", st->endpoints[i].url);
        }
    }
    ck_assert_int_eq(rows, RACE_EPS);
    ck_assert_uint_eq(total, (apr_uint64_t)RACERS * RACE_RUNS);
    ck_assert_uint_eq(st->provider_calls[OA2F_OK],
                      (apr_uint64_t)RACERS * RACE_RUNS);
}
END_TEST

START_TEST(test_prom_breakers)
{
    oa2f_breaker_view_t v[2];
    apr_array_header_t *a;

    memset(v, 0, sizeof(v));
    apr_cpystrn(v[0].url, "https://idp.example/i", sizeof(v[0].url));
    v[0].state = OA2F_BREAKER_STATE_OPEN;
    v[0].failures = 5;
    v[0].next_probe_s = 7;
    v[0].opened = 2;
    apr_cpystrn(v[1].url, "http://127.0.0.1:1/x", sizeof(v[1].url));
    v[1].state = OA2F_BREAKER_STATE_CLOSED;
    a = parse(oa2f_prom_render(ut_pool, stats_make(), SENT, v, 2, &build));
    ck_assert_str_eq(value_of(a, "oauth2_federated_breaker_state",
                              "endpoint=\"https://idp.example/i\","
                              "state=\"open\""),
                     "1");
    ck_assert_str_eq(value_of(a, "oauth2_federated_breaker_state",
                              "endpoint=\"https://idp.example/i\","
                              "state=\"closed\""),
                     "0");
    ck_assert_str_eq(value_of(a, "oauth2_federated_breaker_state",
                              "endpoint=\"http://127.0.0.1:1/x\","
                              "state=\"closed\""),
                     "1");
    ck_assert_str_eq(value_of(a, "oauth2_federated_breaker_state",
                              "endpoint=\"http://127.0.0.1:1/x\","
                              "state=\"half_open\""),
                     "0");
    ck_assert_str_eq(
        value_of(a, "oauth2_federated_breaker_consecutive_failures",
                 "endpoint=\"https://idp.example/i\""),
        "5");
    ck_assert_str_eq(value_of(a, "oauth2_federated_breaker_next_probe_seconds",
                              "endpoint=\"https://idp.example/i\""),
                     "7");
    ck_assert_str_eq(value_of(a, "oauth2_federated_breaker_opened_total",
                              "endpoint=\"https://idp.example/i\""),
                     "2");
}
END_TEST

Suite *prom_suite(void)
{
    Suite *s = suite_create("prom");
    TCase *tc = ut_tcase("prom");

    tcase_add_loop_test(tc, test_prom_escape, 0, UT_N(esc_cases));
    tcase_add_test(tc, test_prom_escape_null);
    tcase_add_test(tc, test_prom_counters);
    tcase_add_test(tc, test_prom_every_counter);
    tcase_add_test(tc, test_prom_build_unknown);
    tcase_add_test(tc, test_prom_histogram);
    tcase_add_test(tc, test_prom_endpoints);
    tcase_add_test(tc, test_prom_breakers);
    tcase_add_test(tc, test_prom_rows_race);
    suite_add_tcase(s, tc);
    return s;
}
