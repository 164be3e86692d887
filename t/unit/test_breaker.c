/* oa2f_breaker.c: the circuit breaker of provider endpoints (README
 * "Outages") on a table in memory with a fake clock: opening after
 * FAILURES consecutive failures, refusal while open, exactly one probe,
 * doubling up to 300 s, a probe that never reports, Retry-After, what
 * counts as a failure, a full table, slot reuse, the shown URL, the
 * status page's rendering, and a race of threads for the probe. */
#include <string.h>
#include <apr_strings.h>
#include <apr_thread_proc.h>

#include "unit.h"
#include "oa2f_breaker.h"

#define SEC 1000000LL            /* microseconds */
#define T0  (1767225600LL * SEC) /* 2026-01-01T00:00:00Z */
#define URL "http://127.0.0.1:18530/token/introspection"

static oa2f_breaker_table_t *table(void)
{
    apr_size_t n = oa2f_breaker_size();
    void *mem = apr_palloc(ut_pool, n);

    ck_assert_uint_gt(n, 0);
    memset(mem, 0xa5, n); /* init lays it out afresh */
    return oa2f_breaker_init(mem);
}

static const oa2f_breaker_conf_t conf_3_10 = { 3, 10, 6 * SEC };

/* One call at now: its gate, reported as result when it was let
 * through. */
static oa2f_breaker_gate_e call(oa2f_breaker_table_t *t, const char *url,
                                const oa2f_breaker_conf_t *c, long long now,
                                oa2f_breaker_result_e result, int retry,
                                oa2f_breaker_change_e *change)
{
    oa2f_breaker_ticket_t tk;
    int wait = -1;
    oa2f_breaker_gate_e g = oa2f_breaker_enter(t, url, c, now, &tk, &wait);
    oa2f_breaker_change_e ch = OA2F_BREAKER_NO_CHANGE;

    if (g == OA2F_BREAKER_REFUSE) {
        ck_assert_int_ge(wait, 1);
    }
    else {
        ck_assert_int_eq(wait, 0);
    }
    if (g == OA2F_BREAKER_CALL || g == OA2F_BREAKER_PROBE) {
        ch = oa2f_breaker_report(t, &tk, c, result, retry, now, NULL);
    }
    if (change) {
        *change = ch;
    }
    return g;
}

static oa2f_breaker_view_t view_of(oa2f_breaker_table_t *t, long long now)
{
    oa2f_breaker_view_t v[OA2F_BREAKER_SLOTS];
    int n = oa2f_breaker_list(t, now, v, OA2F_BREAKER_SLOTS);

    ck_assert_int_eq(n, 1);
    return v[0];
}

/* Open the circuit of URL at `at` with conf_3_10. */
static void open_it(oa2f_breaker_table_t *t, long long at)
{
    oa2f_breaker_change_e ch;
    int i;

    for (i = 0; i < 3; i++) {
        ck_assert_int_eq(
            call(t, URL, &conf_3_10, at, OA2F_BREAKER_FAILURE, 0, &ch),
            OA2F_BREAKER_CALL);
        ck_assert_int_eq(ch,
                         i < 2 ? OA2F_BREAKER_NO_CHANGE : OA2F_BREAKER_OPENED);
    }
}

START_TEST(opens_after_failures_and_refuses)
{
    oa2f_breaker_table_t *t = table();
    oa2f_breaker_ticket_t tk;
    oa2f_breaker_view_t v;
    int wait;

    open_it(t, T0);
    v = view_of(t, T0);
    ck_assert_str_eq(v.url, URL);
    ck_assert_int_eq(v.state, OA2F_BREAKER_STATE_OPEN);
    ck_assert_uint_eq(v.failures, 3);
    ck_assert_int_eq(v.next_probe_s, 10);
    ck_assert_uint_eq(v.opened, 1);
    /* while open, every caller is refused with the time left */
    ck_assert_int_eq(
        oa2f_breaker_enter(t, URL, &conf_3_10, T0 + 1, &tk, &wait),
        OA2F_BREAKER_REFUSE);
    ck_assert_int_eq(wait, 10);
    ck_assert_int_eq(
        oa2f_breaker_enter(t, URL, &conf_3_10, T0 + 9 * SEC + 1, &tk, &wait),
        OA2F_BREAKER_REFUSE);
    ck_assert_int_eq(wait, 1);
    v = view_of(t, T0 + 4 * SEC);
    ck_assert_int_eq(v.next_probe_s, 6);
    /* the open time over, it shows as half-open before any probe */
    v = view_of(t, T0 + 10 * SEC);
    ck_assert_int_eq(v.state, OA2F_BREAKER_STATE_HALF_OPEN);
    ck_assert_int_eq(v.next_probe_s, 0);
}
END_TEST

START_TEST(success_resets_consecutive_failures)
{
    oa2f_breaker_table_t *t = table();
    oa2f_breaker_change_e ch;
    int i;

    for (i = 0; i < 10; i++) {
        /* two failures, then a definite answer: never three in a row */
        call(t, URL, &conf_3_10, T0, OA2F_BREAKER_FAILURE, 0, &ch);
        ck_assert_int_eq(ch, OA2F_BREAKER_NO_CHANGE);
        call(t, URL, &conf_3_10, T0, OA2F_BREAKER_FAILURE, 0, &ch);
        ck_assert_int_eq(ch, OA2F_BREAKER_NO_CHANGE);
        ck_assert_int_eq(
            call(t, URL, &conf_3_10, T0, OA2F_BREAKER_SUCCESS, 0, &ch),
            OA2F_BREAKER_CALL);
        ck_assert_int_eq(ch, OA2F_BREAKER_NO_CHANGE);
    }
    /* our own errors count neither way */
    call(t, URL, &conf_3_10, T0, OA2F_BREAKER_FAILURE, 0, NULL);
    call(t, URL, &conf_3_10, T0, OA2F_BREAKER_NEUTRAL, 0, NULL);
    call(t, URL, &conf_3_10, T0, OA2F_BREAKER_FAILURE, 0, NULL);
    ck_assert_uint_eq(view_of(t, T0).failures, 2);
    call(t, URL, &conf_3_10, T0, OA2F_BREAKER_FAILURE, 0, &ch);
    ck_assert_int_eq(ch, OA2F_BREAKER_OPENED);
}
END_TEST

START_TEST(one_probe_then_closed)
{
    oa2f_breaker_table_t *t = table();
    oa2f_breaker_ticket_t probe, other;
    oa2f_breaker_view_t v;
    long long at = T0 + 10 * SEC;
    int wait, i;

    open_it(t, T0);
    ck_assert_int_eq(oa2f_breaker_enter(t, URL, &conf_3_10, at, &probe, &wait),
                     OA2F_BREAKER_PROBE);
    /* while the probe is out, everyone else is refused */
    for (i = 0; i < 20; i++) {
        ck_assert_int_eq(oa2f_breaker_enter(t, URL, &conf_3_10, at + i * 1000,
                                            &other, &wait),
                         OA2F_BREAKER_REFUSE);
        ck_assert_int_eq(wait, 1);
    }
    ck_assert_int_eq(view_of(t, at).state, OA2F_BREAKER_STATE_HALF_OPEN);
    ck_assert_int_eq(oa2f_breaker_report(t, &probe, &conf_3_10,
                                         OA2F_BREAKER_SUCCESS, 0, at + SEC,
                                         &v),
                     OA2F_BREAKER_CLOSED);
    ck_assert_int_eq(v.state, OA2F_BREAKER_STATE_CLOSED);
    ck_assert_uint_eq(v.failures, 0);
    ck_assert_int_eq(v.next_probe_s, 0);
    ck_assert_uint_eq(v.opened, 1);
    ck_assert_int_eq(
        call(t, URL, &conf_3_10, at + SEC, OA2F_BREAKER_SUCCESS, 0, NULL),
        OA2F_BREAKER_CALL);
    /* the cool-down is back to SECONDS: three failures open it for 10 s */
    open_it(t, at + 2 * SEC);
    ck_assert_int_eq(view_of(t, at + 2 * SEC).next_probe_s, 10);
    ck_assert_uint_eq(view_of(t, at + 2 * SEC).opened, 2);
}
END_TEST

START_TEST(failed_probe_doubles_up_to_300)
{
    oa2f_breaker_table_t *t = table();
    static const int expect[] = { 20, 40, 80, 160, 300, 300 };
    oa2f_breaker_change_e ch;
    oa2f_breaker_view_t v;
    long long at = T0 + 10 * SEC;
    int i;

    open_it(t, T0);
    for (i = 0; i < UT_N(expect); i++) {
        ck_assert_int_eq(
            call(t, URL, &conf_3_10, at, OA2F_BREAKER_FAILURE, 0, &ch),
            OA2F_BREAKER_PROBE);
        ck_assert_int_eq(ch, OA2F_BREAKER_OPENED);
        v = view_of(t, at);
        ck_assert_int_eq(v.state, OA2F_BREAKER_STATE_OPEN);
        ck_assert_int_eq(v.next_probe_s, expect[i]);
        ck_assert_uint_eq(v.opened, (apr_uint64_t)i + 2);
        /* refused just before the end, probed at the end */
        ck_assert_int_eq(call(t, URL, &conf_3_10, at + expect[i] * SEC - 1,
                              OA2F_BREAKER_FAILURE, 0, NULL),
                         OA2F_BREAKER_REFUSE);
        at += expect[i] * SEC;
    }
}
END_TEST

START_TEST(probe_that_never_reports_is_given_up)
{
    oa2f_breaker_table_t *t = table();
    oa2f_breaker_ticket_t dead, next;
    oa2f_breaker_change_e ch;
    long long at = T0 + 10 * SEC;
    int wait;

    open_it(t, T0);
    ck_assert_int_eq(oa2f_breaker_enter(t, URL, &conf_3_10, at, &dead, &wait),
                     OA2F_BREAKER_PROBE);
    /* its process died: within the total timeout + 1 s nobody probes */
    ck_assert_int_eq(
        oa2f_breaker_enter(t, URL, &conf_3_10, at + 6 * SEC - 1, &next, &wait),
        OA2F_BREAKER_REFUSE);
    /* after that, the next caller is the probe */
    ck_assert_int_eq(
        oa2f_breaker_enter(t, URL, &conf_3_10, at + 6 * SEC, &next, &wait),
        OA2F_BREAKER_PROBE);
    ck_assert_int_eq(
        oa2f_breaker_enter(t, URL, &conf_3_10, at + 6 * SEC, &dead, &wait),
        OA2F_BREAKER_REFUSE);
    /* a late report of the given-up probe decides nothing */
    {
        oa2f_breaker_ticket_t old = next;
        old.probe--;
        ck_assert_int_eq(oa2f_breaker_report(t, &old, &conf_3_10,
                                             OA2F_BREAKER_SUCCESS, 0,
                                             at + 7 * SEC, NULL),
                         OA2F_BREAKER_NO_CHANGE);
        ck_assert_int_eq(view_of(t, at + 7 * SEC).state,
                         OA2F_BREAKER_STATE_HALF_OPEN);
    }
    ch = oa2f_breaker_report(t, &next, &conf_3_10, OA2F_BREAKER_SUCCESS, 0,
                             at + 7 * SEC, NULL);
    ck_assert_int_eq(ch, OA2F_BREAKER_CLOSED);
}
END_TEST

START_TEST(neutral_probe_lets_the_next_one_go)
{
    oa2f_breaker_table_t *t = table();
    oa2f_breaker_ticket_t probe, next;
    long long at = T0 + 10 * SEC;
    int wait;

    open_it(t, T0);
    ck_assert_int_eq(oa2f_breaker_enter(t, URL, &conf_3_10, at, &probe, &wait),
                     OA2F_BREAKER_PROBE);
    ck_assert_int_eq(oa2f_breaker_report(t, &probe, &conf_3_10,
                                         OA2F_BREAKER_NEUTRAL, 0, at, NULL),
                     OA2F_BREAKER_NO_CHANGE);
    ck_assert_int_eq(oa2f_breaker_enter(t, URL, &conf_3_10, at, &next, &wait),
                     OA2F_BREAKER_PROBE);
}
END_TEST

START_TEST(retry_after_opens_at_once)
{
    oa2f_breaker_table_t *t = table();
    oa2f_breaker_change_e ch;
    oa2f_breaker_view_t v;

    /* a single 429 with Retry-After: 30, FAILURES 3 notwithstanding */
    ck_assert_int_eq(
        call(t, URL, &conf_3_10, T0, OA2F_BREAKER_FAILURE, 30, &ch),
        OA2F_BREAKER_CALL);
    ck_assert_int_eq(ch, OA2F_BREAKER_OPENED);
    v = view_of(t, T0);
    ck_assert_int_eq(v.state, OA2F_BREAKER_STATE_OPEN);
    ck_assert_int_eq(v.next_probe_s, 30);
    /* longer than SECONDS: still refused after 10 s */
    ck_assert_int_eq(
        call(t, URL, &conf_3_10, T0 + 29 * SEC, OA2F_BREAKER_FAILURE, 0, NULL),
        OA2F_BREAKER_REFUSE);
    /* the probe answers 503 with Retry-After 3600: at most 300 s */
    ck_assert_int_eq(call(t, URL, &conf_3_10, T0 + 30 * SEC,
                          OA2F_BREAKER_FAILURE, 3600, &ch),
                     OA2F_BREAKER_PROBE);
    ck_assert_int_eq(ch, OA2F_BREAKER_OPENED);
    ck_assert_int_eq(view_of(t, T0 + 30 * SEC).next_probe_s, 300);
    /* and a failed probe doubles that open period, at most 300 */
    ck_assert_int_eq(
        call(t, URL, &conf_3_10, T0 + 330 * SEC, OA2F_BREAKER_FAILURE, 0, &ch),
        OA2F_BREAKER_PROBE);
    ck_assert_int_eq(view_of(t, T0 + 330 * SEC).next_probe_s, 300);
}
END_TEST

START_TEST(endpoints_are_separate)
{
    oa2f_breaker_table_t *t = table();
    oa2f_breaker_view_t v[4];

    open_it(t, T0);
    ck_assert_int_eq(call(t, "http://127.0.0.1:18531/500", &conf_3_10, T0,
                          OA2F_BREAKER_FAILURE, 0, NULL),
                     OA2F_BREAKER_CALL);
    ck_assert_int_eq(oa2f_breaker_list(t, T0, v, 4), 2);
    ck_assert_int_eq(v[0].state, OA2F_BREAKER_STATE_OPEN);
    ck_assert_int_eq(v[1].state, OA2F_BREAKER_STATE_CLOSED);
    ck_assert_uint_eq(v[1].failures, 1);
    ck_assert_str_eq(v[1].url, "http://127.0.0.1:18531/500");
}
END_TEST

START_TEST(full_table_goes_without_breaker)
{
    oa2f_breaker_table_t *t = table();
    oa2f_breaker_ticket_t tk;
    oa2f_breaker_view_t v[OA2F_BREAKER_SLOTS];
    int i, wait;

    for (i = 0; i < OA2F_BREAKER_SLOTS; i++) {
        const char *u = apr_psprintf(ut_pool, "http://h%d.example/x", i);
        ck_assert_int_eq(oa2f_breaker_enter(t, u, &conf_3_10, T0, &tk, &wait),
                         OA2F_BREAKER_CALL);
    }
    /* no room: called, never refused, whatever happens */
    for (i = 0; i < 10; i++) {
        ck_assert_int_eq(
            call(t, URL, &conf_3_10, T0, OA2F_BREAKER_FAILURE, 0, NULL),
            OA2F_BREAKER_UNTRACKED);
    }
    ck_assert_int_eq(oa2f_breaker_list(t, T0, v, OA2F_BREAKER_SLOTS),
                     OA2F_BREAKER_SLOTS);
    /* an hour later the idle slots are reused */
    open_it(t, T0 + OA2F_BREAKER_IDLE_S * SEC);
    ck_assert_int_eq(oa2f_breaker_enter(t, URL, &conf_3_10,
                                        T0 + OA2F_BREAKER_IDLE_S * SEC, &tk,
                                        &wait),
                     OA2F_BREAKER_REFUSE);
    /* a report for a slot given to another endpoint meanwhile is
     * dropped */
    tk.hash ^= 1;
    ck_assert_int_eq(oa2f_breaker_report(t, &tk, &conf_3_10,
                                         OA2F_BREAKER_SUCCESS, 0, T0, NULL),
                     OA2F_BREAKER_NO_CHANGE);
    /* no table (no shared memory): untracked */
    ck_assert_int_eq(oa2f_breaker_enter(NULL, URL, &conf_3_10, T0, &tk, &wait),
                     OA2F_BREAKER_UNTRACKED);
}
END_TEST

START_TEST(judge_what_counts)
{
    static const struct {
        oa2f_outcome_e o;
        long status;
        oa2f_breaker_result_e want;
    } rows[] = {
        { OA2F_OK, 200, OA2F_BREAKER_SUCCESS },
        { OA2F_INACTIVE, 200, OA2F_BREAKER_SUCCESS },
        { OA2F_INACTIVE, 401, OA2F_BREAKER_SUCCESS }, /* mule/openam */
        { OA2F_EXPIRED, 200, OA2F_BREAKER_SUCCESS },
        { OA2F_REJECTED, 401, OA2F_BREAKER_SUCCESS },
        { OA2F_UNREACHABLE, 0, OA2F_BREAKER_FAILURE },
        { OA2F_UNREACHABLE, 429, OA2F_BREAKER_FAILURE },
        { OA2F_BAD_ANSWER, 200, OA2F_BREAKER_FAILURE }, /* garbage */
        { OA2F_BAD_ANSWER, 500, OA2F_BREAKER_FAILURE },
        { OA2F_BAD_ANSWER, 0, OA2F_BREAKER_FAILURE }, /* too large */
        { OA2F_REJECTED, 429, OA2F_BREAKER_FAILURE },
        { OA2F_INACTIVE, 503, OA2F_BREAKER_FAILURE },
        { OA2F_INTERNAL, 0, OA2F_BREAKER_NEUTRAL },
    };
    int i;

    for (i = 0; i < UT_N(rows); i++) {
        ck_assert_msg(oa2f_breaker_judge(rows[i].o, rows[i].status)
                          == rows[i].want,
                      "row %d", i);
    }
}
END_TEST

START_TEST(retry_after_values)
{
    /* 2026-01-01T00:00:00Z */
    const long long now = T0 / SEC;

    ck_assert_int_eq(oa2f_breaker_retry_after(429, "30", now), 30);
    ck_assert_int_eq(oa2f_breaker_retry_after(503, " 7", now), 7);
    ck_assert_int_eq(oa2f_breaker_retry_after(503, "3600", now), 300);
    ck_assert_int_eq(oa2f_breaker_retry_after(503, "99999999999999", now),
                     300);
    ck_assert_int_eq(oa2f_breaker_retry_after(503, "0", now), 0);
    ck_assert_int_eq(oa2f_breaker_retry_after(503, "-5", now), 0);
    ck_assert_int_eq(oa2f_breaker_retry_after(503, "5s", now), 0);
    ck_assert_int_eq(oa2f_breaker_retry_after(503, "", now), 0);
    ck_assert_int_eq(oa2f_breaker_retry_after(503, NULL, now), 0);
    /* only 429 and 503 */
    ck_assert_int_eq(oa2f_breaker_retry_after(500, "30", now), 0);
    ck_assert_int_eq(oa2f_breaker_retry_after(200, "30", now), 0);
    /* HTTP-dates, three forms (RFC 9110 §5.6.7) */
    ck_assert_int_eq(
        oa2f_breaker_retry_after(503, "Thu, 01 Jan 2026 00:00:45 GMT", now),
        45);
    ck_assert_int_eq(
        oa2f_breaker_retry_after(429, "Thursday, 01-Jan-26 00:01:00 GMT", now),
        60);
    ck_assert_int_eq(
        oa2f_breaker_retry_after(503, "Thu Jan  1 00:00:10 2026", now), 10);
    ck_assert_int_eq(
        oa2f_breaker_retry_after(503, "Thu, 01 Jan 2026 02:00:00 GMT", now),
        300);
    /* in the past, or not a date */
    ck_assert_int_eq(
        oa2f_breaker_retry_after(503, "Wed, 31 Dec 2025 23:59:00 GMT", now),
        0);
    ck_assert_int_eq(
        oa2f_breaker_retry_after(503, "Thu, 01 Foo 2026 00:00:45 GMT", now),
        0);
    ck_assert_int_eq(
        oa2f_breaker_retry_after(503, "Thu, 01 Jan 2026 00:00:45 UTC", now),
        0);
    ck_assert_int_eq(
        oa2f_breaker_retry_after(503, "Thu, 01 Jan 2026 00:00:45 GMT x", now),
        0);
    ck_assert_int_eq(oa2f_breaker_retry_after(503, "soon", now), 0);
    /* each form exactly as RFC 9110 §5.6.7 lays it out (found by
     * fuzz/fuzz_retry_after.c: sscanf took a missing space) */
    ck_assert_int_eq(oa2f_http_date_parse("Thu, 01 Jan 202600:00:45 GMT"), -1);
    ck_assert_int_eq(oa2f_http_date_parse("Thu, 1 Jan 2026 00:00:45 GMT"), -1);
    ck_assert_int_eq(oa2f_http_date_parse("Xyz, 01 Jan 2026 00:00:45 GMT"),
                     -1);
    ck_assert_int_eq(oa2f_http_date_parse("Thu, 01 Jan 2026 24:00:00 GMT"),
                     -1);
    ck_assert_int_eq(oa2f_http_date_parse("Thu, 01 Jan 1969 00:00:00 GMT"),
                     -1);
    ck_assert_int_eq(oa2f_http_date_parse("Thu Jan 01 00:00:10 2026"),
                     T0 / SEC + 10);
    ck_assert_int_eq(oa2f_http_date_parse("Thu Jan  1 00:00:10 2026 "), -1);
    ck_assert_int_eq(oa2f_http_date_parse(NULL), -1);
    ck_assert_int_eq(oa2f_http_date_parse("Sun, 06 Nov 1994 08:49:37 GMT"),
                     784111777LL);
    ck_assert_int_eq(oa2f_http_date_parse("Sunday, 06-Nov-94 08:49:37 GMT"),
                     784111777LL);
    ck_assert_int_eq(oa2f_http_date_parse("Sun Nov  6 08:49:37 1994"),
                     784111777LL);
    ck_assert_int_eq(oa2f_http_date_parse("Sun, 29 Feb 2032 12:00:00 GMT"),
                     1961668800LL);
}
END_TEST

START_TEST(shown_url_has_no_credentials)
{
    char out[OA2F_BREAKER_URL_MAX];
    char *longer;

    oa2f_breaker_shown_url("https://user:pw@idp.example:8443/a/b?x=1#f", out);
    ck_assert_str_eq(out, "https://idp.example:8443/a/b");
    oa2f_breaker_shown_url("http://a@b@idp/x", out);
    ck_assert_str_eq(out, "http://idp/x");
    oa2f_breaker_shown_url("http://idp?q@x", out);
    ck_assert_str_eq(out, "http://idp");
    oa2f_breaker_shown_url(URL, out);
    ck_assert_str_eq(out, URL);
    /* not an absolute URL: no authority to strip, cut at ? and # */
    oa2f_breaker_shown_url("#x://u:p@idp/", out);
    ck_assert_str_eq(out, "");
    oa2f_breaker_shown_url("/a/b?c", out);
    ck_assert_str_eq(out, "/a/b");
    longer = apr_pcalloc(ut_pool, 1000);
    memset(longer, 'a', 999);
    memcpy(longer, "http://", 7);
    oa2f_breaker_shown_url(longer, out);
    ck_assert_uint_eq(strlen(out), OA2F_BREAKER_URL_MAX - 1);
}
END_TEST

START_TEST(render_text_and_json)
{
    oa2f_breaker_table_t *t = table();
    oa2f_breaker_view_t v[2];
    const char *s;
    int n;

    open_it(t, T0);
    call(t, "http://u:p@idp.example/\"q\"", &conf_3_10, T0,
         OA2F_BREAKER_SUCCESS, 0, NULL);
    n = oa2f_breaker_list(t, T0 + 2 * SEC, v, 2);
    ck_assert_int_eq(n, 2);
    s = oa2f_breaker_render(ut_pool, v, n, 0);
    ck_assert_ptr_nonnull(strstr(s, "breaker_endpoints: 2\n"));
    ck_assert_ptr_nonnull(strstr(s, "breaker_1_url: " URL "\n"));
    ck_assert_ptr_nonnull(strstr(s, "breaker_1_state: open\n"));
    ck_assert_ptr_nonnull(strstr(s, "breaker_1_failures: 3\n"));
    ck_assert_ptr_nonnull(strstr(s, "breaker_1_next_probe_seconds: 8\n"));
    ck_assert_ptr_nonnull(strstr(s, "breaker_1_opened: 1\n"));
    ck_assert_ptr_nonnull(strstr(s, "breaker_2_state: closed\n"));
    ck_assert_ptr_null(strstr(s, "u:p"));
    s = oa2f_breaker_render(ut_pool, v, n, 1);
    ck_assert_str_eq(
        s, "\"breakers\":[{\"url\":\"" URL "\",\"state\":\"open\","
           "\"failures\":3,\"next_probe_seconds\":8,\"opened\":1},"
           "{\"url\":\"http://idp.example/\\\"q\\\"\",\"state\":\"closed\","
           "\"failures\":0,\"next_probe_seconds\":0,\"opened\":0}]");
    ck_assert_str_eq(oa2f_breaker_render(ut_pool, v, 0, 1), "\"breakers\":[]");
    ck_assert_str_eq(oa2f_breaker_state_name(OA2F_BREAKER_STATE_HALF_OPEN),
                     "half_open");
}
END_TEST

/* ---- a race of threads for the probe ------------------------------------ */

#define RACERS 16

typedef struct {
    oa2f_breaker_table_t *t;
    long long at;
    volatile int *go;
    oa2f_breaker_gate_e gate;
} racer_t;

static void *APR_THREAD_FUNC race(apr_thread_t *th, void *data)
{
    racer_t *r = data;
    oa2f_breaker_ticket_t tk;
    int wait;

    while (!__atomic_load_n(r->go, __ATOMIC_ACQUIRE)) {
    }
    r->gate = oa2f_breaker_enter(r->t, URL, &conf_3_10, r->at, &tk, &wait);
    apr_thread_exit(th, APR_SUCCESS);
    return NULL;
}

START_TEST(exactly_one_probe_among_threads)
{
    oa2f_breaker_table_t *t = table();
    apr_thread_t *th[RACERS];
    racer_t r[RACERS];
    volatile int go = 0;
    apr_status_t rv;
    int i, probes = 0, refused = 0;

    open_it(t, T0);
    for (i = 0; i < RACERS; i++) {
        r[i].t = t;
        r[i].at = T0 + 10 * SEC + i;
        r[i].go = &go;
        r[i].gate = OA2F_BREAKER_CALL;
        ck_assert_int_eq(apr_thread_create(&th[i], NULL, race, &r[i], ut_pool),
                         APR_SUCCESS);
    }
    __atomic_store_n(&go, 1, __ATOMIC_RELEASE);
    for (i = 0; i < RACERS; i++) {
        apr_thread_join(&rv, th[i]);
        probes += r[i].gate == OA2F_BREAKER_PROBE;
        refused += r[i].gate == OA2F_BREAKER_REFUSE;
    }
    ck_assert_int_eq(probes, 1);
    ck_assert_int_eq(refused, RACERS - 1);
}
END_TEST

Suite *breaker_suite(void)
{
    Suite *s = suite_create("breaker");
    TCase *tc = ut_tcase("breaker");

    tcase_add_test(tc, opens_after_failures_and_refuses);
    tcase_add_test(tc, success_resets_consecutive_failures);
    tcase_add_test(tc, one_probe_then_closed);
    tcase_add_test(tc, failed_probe_doubles_up_to_300);
    tcase_add_test(tc, probe_that_never_reports_is_given_up);
    tcase_add_test(tc, neutral_probe_lets_the_next_one_go);
    tcase_add_test(tc, retry_after_opens_at_once);
    tcase_add_test(tc, endpoints_are_separate);
    tcase_add_test(tc, full_table_goes_without_breaker);
    tcase_add_test(tc, judge_what_counts);
    tcase_add_test(tc, retry_after_values);
    tcase_add_test(tc, shown_url_has_no_credentials);
    tcase_add_test(tc, render_text_and_json);
    tcase_add_test(tc, exactly_one_probe_among_threads);
    suite_add_tcase(s, tc);
    return s;
}
