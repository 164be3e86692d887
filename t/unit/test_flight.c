/* oa2f_flight.c: single-flight of provider calls over a table in (shared)
 * memory (README "Cache"): one leader per key, followers that see its
 * outcome, slots shared by other keys, take-over of a dead leader, a
 * leader that at once leads again, and a race of threads on one key. */
#include <string.h>
#include <apr_strings.h>
#include <apr_thread_cond.h>
#include <apr_thread_mutex.h>
#include <apr_thread_proc.h>
#include <apr_time.h>

#include "unit.h"
#include "oa2f_flight.h"

#define SEC   1000000LL            /* microseconds */
#define T0    (1767225600LL * SEC) /* 2026-01-01T00:00:00Z */
#define STALE (30 * SEC)

static oa2f_flight_table_t *table(void)
{
    apr_size_t n = oa2f_flight_size();
    void *mem = apr_palloc(ut_pool, n);

    ck_assert_uint_gt(n, 0);
    /* whatever was there before: init lays the table out afresh */
    memset(mem, 0xa5, n);
    return oa2f_flight_init(mem);
}

static const unsigned char *key_of(const char *token)
{
    unsigned char *key = apr_palloc(ut_pool, OA2F_CACHE_KEY_LEN);

    oa2f_cache_key(NULL, "flight-test", token, key);
    ck_assert(oa2f_cache_key_ok(key));
    return key;
}

/* Another key in the same slot as `key`: the slot index comes from bytes
 * 8..11, the tag from bytes 0..7. */
static const unsigned char *same_slot(const unsigned char *key,
                                      const char *token)
{
    unsigned char *other = (unsigned char *)key_of(token);

    memcpy(other + 8, key + 8, 4);
    ck_assert(memcmp(other, key, 8) != 0);
    return other;
}

static const char *role_name(oa2f_flight_role_e r)
{
    switch (r) {
    case OA2F_FLIGHT_LEADER:
        return "leader";
    case OA2F_FLIGHT_FOLLOWER:
        return "follower";
    case OA2F_FLIGHT_ALONE:
        return "alone";
    }
    return "?";
}

#define ROLE(t, k, now, want)                                                 \
    do {                                                                      \
        oa2f_flight_role_e r_ = oa2f_flight_begin((t), (k), (now), STALE);    \
        ck_assert_msg(r_ == (want), "line %d: %s, expected %s", __LINE__,     \
                      role_name(r_), role_name(want));                        \
    } while (0)

/* ---- single-threaded -------------------------------------------------- */

START_TEST(test_flight_leader_follower)
{
    oa2f_flight_table_t *t = table();
    const unsigned char *a = key_of("token-a");
    long long deadline = (long long)apr_time_now() + 5 * SEC;
    int outcome = -2;

    ROLE(t, a, T0, OA2F_FLIGHT_LEADER);
    ROLE(t, a, T0 + 1, OA2F_FLIGHT_FOLLOWER);
    ROLE(t, a, T0 + STALE, OA2F_FLIGHT_FOLLOWER);
    oa2f_flight_end(t, a, 4);

    /* landed: a follower gets the outcome at once */
    ck_assert_int_eq(oa2f_flight_wait(t, a, deadline, &outcome), 1);
    ck_assert_int_eq(outcome, 4);
    /* even with a deadline already past */
    outcome = -2;
    ck_assert_int_eq(oa2f_flight_wait(t, a, 0, &outcome), 1);
    ck_assert_int_eq(outcome, 4);

    /* the slot is free again: the next flight has a leader */
    ROLE(t, a, T0 + 10, OA2F_FLIGHT_LEADER);
    ROLE(t, a, T0 + 11, OA2F_FLIGHT_FOLLOWER);
    oa2f_flight_end(t, a, 0);
    ck_assert_int_eq(oa2f_flight_wait(t, a, deadline, &outcome), 1);
    ck_assert_int_eq(outcome, 0);
}
END_TEST

/* Outcomes are 0-255 and survive as they are. */
START_TEST(test_flight_outcomes)
{
    static const int outcomes[] = { 0, 1, 7, 10, 127, 128, 254, 255 };
    oa2f_flight_table_t *t = table();
    const unsigned char *a = key_of("token-a");
    long long deadline = (long long)apr_time_now() + 5 * SEC;
    int i, outcome;

    for (i = 0; i < UT_N(outcomes); i++) {
        ROLE(t, a, T0 + i, OA2F_FLIGHT_LEADER);
        oa2f_flight_end(t, a, outcomes[i]);
        outcome = -2;
        ck_assert_int_eq(oa2f_flight_wait(t, a, deadline, &outcome), 1);
        ck_assert_int_eq(outcome, outcomes[i]);
    }
}
END_TEST

START_TEST(test_flight_other_keys)
{
    oa2f_flight_table_t *t = table();
    const unsigned char *a = key_of("token-a");
    const unsigned char *b = same_slot(a, "token-b");
    unsigned char *c = (unsigned char *)key_of("token-c");
    long long deadline = (long long)apr_time_now() + 5 * SEC;
    int outcome;

    /* a key in the next slot (index bit 0 flipped) has its own flight */
    memcpy(c + 8, a + 8, 4);
    c[8] ^= 1;
    ROLE(t, a, T0, OA2F_FLIGHT_LEADER);
    ROLE(t, c, T0, OA2F_FLIGHT_LEADER);
    ROLE(t, c, T0, OA2F_FLIGHT_FOLLOWER);

    /* a key in the same slot does not coalesce: it calls alone, and
     * never takes the slot over, however old the flight */
    ROLE(t, b, T0 + 1, OA2F_FLIGHT_ALONE);
    ROLE(t, b, T0 + 10 * STALE, OA2F_FLIGHT_ALONE);
    ROLE(t, a, T0 + 2, OA2F_FLIGHT_FOLLOWER);

    oa2f_flight_end(t, a, 3);
    outcome = -2;
    ck_assert_int_eq(oa2f_flight_wait(t, a, deadline, &outcome), 1);
    ck_assert_int_eq(outcome, 3);
    /* b's own landing is not a's */
    outcome = -2;
    ck_assert_int_eq(oa2f_flight_wait(t, b, deadline, &outcome), 1);
    ck_assert_int_eq(outcome, -1);

    /* once free, the slot is b's, and then a is alone */
    ROLE(t, b, T0 + 3, OA2F_FLIGHT_LEADER);
    ROLE(t, a, T0 + 3, OA2F_FLIGHT_ALONE);
    oa2f_flight_end(t, b, 9);
    outcome = -2;
    ck_assert_int_eq(oa2f_flight_wait(t, b, deadline, &outcome), 1);
    ck_assert_int_eq(outcome, 9);

    /* c's flight was untouched by all of this */
    oa2f_flight_end(t, c, 5);
    ck_assert_int_eq(oa2f_flight_wait(t, c, deadline, &outcome), 1);
    ck_assert_int_eq(outcome, 5);

    /* an end for a key that is not in flight frees nothing of others */
    ROLE(t, b, T0 + 4, OA2F_FLIGHT_LEADER);
    oa2f_flight_end(t, a, 1);
    ROLE(t, b, T0 + 4, OA2F_FLIGHT_FOLLOWER);
    ROLE(t, a, T0 + 4, OA2F_FLIGHT_ALONE);
}
END_TEST

/* A follower that wakes up after another key's flight has landed in the
 * slot cannot know its leader's outcome: -1. */
START_TEST(test_flight_overwritten)
{
    oa2f_flight_table_t *t = table();
    const unsigned char *a = key_of("token-a");
    const unsigned char *b = same_slot(a, "token-b");
    long long deadline = (long long)apr_time_now() + 5 * SEC;
    int outcome = -2;

    ROLE(t, a, T0, OA2F_FLIGHT_LEADER);
    ROLE(t, a, T0 + 1, OA2F_FLIGHT_FOLLOWER);
    oa2f_flight_end(t, a, 4);
    ROLE(t, b, T0 + 2, OA2F_FLIGHT_LEADER);
    /* b in flight: a's follower is not held up by it */
    ck_assert_int_eq(oa2f_flight_wait(t, a, deadline, &outcome), 1);
    ck_assert_int_eq(outcome, 4);
    oa2f_flight_end(t, b, 6);
    outcome = -2;
    ck_assert_int_eq(oa2f_flight_wait(t, a, deadline, &outcome), 1);
    ck_assert_int_eq(outcome, -1);
    ck_assert_int_eq(oa2f_flight_wait(t, b, deadline, &outcome), 1);
    ck_assert_int_eq(outcome, 6);
}
END_TEST

/* A leader older than stale_us is presumed dead: exactly one caller
 * takes over, and the others follow the new leader. */
START_TEST(test_flight_stale_takeover)
{
    oa2f_flight_table_t *t = table();
    const unsigned char *a = key_of("token-a");
    long long deadline = (long long)apr_time_now() + 5 * SEC;
    int outcome = -2;

    ROLE(t, a, T0, OA2F_FLIGHT_LEADER);
    ROLE(t, a, T0 + STALE, OA2F_FLIGHT_FOLLOWER);   /* not beyond */
    ROLE(t, a, T0 + STALE + 1, OA2F_FLIGHT_LEADER); /* take-over  */
    ROLE(t, a, T0 + STALE + 1, OA2F_FLIGHT_FOLLOWER);
    ROLE(t, a, T0 + 2 * STALE + 1, OA2F_FLIGHT_FOLLOWER);
    ROLE(t, a, T0 + 2 * STALE + 2, OA2F_FLIGHT_LEADER); /* and again  */
    ROLE(t, a, T0 + 2 * STALE + 3, OA2F_FLIGHT_FOLLOWER);

    /* the landing of the (latest) leader reaches the followers */
    oa2f_flight_end(t, a, 2);
    ck_assert_int_eq(oa2f_flight_wait(t, a, deadline, &outcome), 1);
    ck_assert_int_eq(outcome, 2);
    ROLE(t, a, T0 + 2 * STALE + 4, OA2F_FLIGHT_LEADER);
    oa2f_flight_end(t, a, 2);
}
END_TEST

/* The previous flight's start time is no reason to take over a new one:
 * whatever happened on the slot an hour ago, a flight that began now has
 * a live leader. (Single-threaded this only pins the behaviour; the race
 * it is about, a follower reading the old start time before the new
 * leader has stored its own, is what the thread tests' hour-apart rounds
 * would catch as a second leader.) */
START_TEST(test_flight_old_slot_fresh_leader)
{
    oa2f_flight_table_t *t = table();
    const unsigned char *a = key_of("token-a");
    const unsigned char *b = same_slot(a, "token-b");

    ROLE(t, a, T0, OA2F_FLIGHT_LEADER);
    oa2f_flight_end(t, a, 0);
    ROLE(t, b, T0 + 3600 * SEC, OA2F_FLIGHT_LEADER);
    ROLE(t, b, T0 + 3600 * SEC, OA2F_FLIGHT_FOLLOWER);
    oa2f_flight_end(t, b, 0);
    ROLE(t, a, T0 + 7200 * SEC, OA2F_FLIGHT_LEADER);
    ROLE(t, a, T0 + 7200 * SEC + 1, OA2F_FLIGHT_FOLLOWER);
    oa2f_flight_end(t, a, 0);
}
END_TEST

START_TEST(test_flight_wait_timeout)
{
    oa2f_flight_table_t *t = table();
    const unsigned char *a = key_of("token-a");
    apr_time_t start, took;
    int outcome = -2;

    ROLE(t, a, T0, OA2F_FLIGHT_LEADER);

    /* nobody lands: wait gives up at the deadline, not before */
    start = apr_time_now();
    ck_assert_int_eq(
        oa2f_flight_wait(t, a, (long long)start + 60000, &outcome), 0);
    took = apr_time_now() - start;
    ck_assert_msg(took >= 60000, "gave up after %d us", (int)took);
    ck_assert_msg(took < 60000 + 2 * SEC, "gave up after %d us", (int)took);
    ck_assert_int_eq(outcome, -2);

    /* a deadline already past: at once */
    start = apr_time_now();
    ck_assert_int_eq(oa2f_flight_wait(t, a, (long long)start - SEC, &outcome),
                     0);
    ck_assert_int_lt(apr_time_now() - start, SEC);

    /* still in flight, and it still lands */
    ROLE(t, a, T0 + 1, OA2F_FLIGHT_FOLLOWER);
    oa2f_flight_end(t, a, 1);
    ck_assert_int_eq(
        oa2f_flight_wait(t, a, (long long)apr_time_now(), &outcome), 1);
    ck_assert_int_eq(outcome, 1);
}
END_TEST

/* A leader's published verdict: for its key only, until its `until`,
 * the latest one; empty and oversized entries are not published. */
START_TEST(test_flight_result)
{
    oa2f_flight_table_t *t = table();
    const unsigned char *a = key_of("token-a");
    const unsigned char *b = same_slot(a, "token-b");
    unsigned char big[OA2F_FLIGHT_RESULT_MAX + 1];
    unsigned char *got;
    apr_size_t len;

    ck_assert_int_eq(oa2f_flight_result(t, a, 100, ut_pool, &got, &len), 0);
    oa2f_flight_publish(t, a, 200, (const unsigned char *)"verdict-1", 9);
    ck_assert_int_eq(oa2f_flight_result(t, a, 199, ut_pool, &got, &len), 1);
    ck_assert_uint_eq(len, 9);
    ck_assert(memcmp(got, "verdict-1", 9) == 0);
    ck_assert_int_eq(oa2f_flight_result(t, a, 200, ut_pool, &got, &len), 0);
    ck_assert_int_eq(oa2f_flight_result(t, b, 100, ut_pool, &got, &len), 0);

    /* the next flight's verdict replaces it */
    oa2f_flight_publish(t, a, 300, (const unsigned char *)"verdict-22", 10);
    ck_assert_int_eq(oa2f_flight_result(t, a, 250, ut_pool, &got, &len), 1);
    ck_assert_uint_eq(len, 10);
    ck_assert(memcmp(got, "verdict-22", 10) == 0);

    /* another key in the slot: a's is gone, b's is b's */
    oa2f_flight_publish(t, b, 300, (const unsigned char *)"verdict-b", 9);
    ck_assert_int_eq(oa2f_flight_result(t, a, 250, ut_pool, &got, &len), 0);
    ck_assert_int_eq(oa2f_flight_result(t, b, 250, ut_pool, &got, &len), 1);

    /* nothing, and too much, is not published */
    memset(big, 'x', sizeof(big));
    oa2f_flight_publish(t, a, 300, big, 0);
    oa2f_flight_publish(t, a, 300, big, sizeof(big));
    ck_assert_int_eq(oa2f_flight_result(t, a, 250, ut_pool, &got, &len), 0);
    oa2f_flight_publish(t, a, 300, big, sizeof(big) - 1);
    ck_assert_int_eq(oa2f_flight_result(t, a, 250, ut_pool, &got, &len), 1);
    ck_assert_uint_eq(len, OA2F_FLIGHT_RESULT_MAX);
}
END_TEST

/* ---- threads ---------------------------------------------------------- */

#define THREADS 16
#define ROUNDS  200

/* The outcome the leader of round r lands with. */
#define OUTCOME(r) (((r)*7 + 3) & 0xff)

typedef struct {
    oa2f_flight_table_t *table;
    const unsigned char *key;
    int hold; /* leaders wait until everyone has begun */
    /* a barrier at the start of each round */
    apr_thread_mutex_t *mu;
    apr_thread_cond_t *cv;
    int arrived;
    unsigned generation;
    /* per round, updated atomically */
    int began[ROUNDS];
    int leaders[ROUNDS];
    int followers[ROUNDS];
    int alone[ROUNDS];
    int timeouts[ROUNDS];
    int wrong[ROUNDS]; /* followers that saw another outcome */
} race_t;

static void barrier(race_t *r)
{
    unsigned gen;

    apr_thread_mutex_lock(r->mu);
    gen = r->generation;
    if (++r->arrived == THREADS) {
        r->arrived = 0;
        r->generation++;
        apr_thread_cond_broadcast(r->cv);
    }
    else {
        while (gen == r->generation) {
            apr_thread_cond_wait(r->cv, r->mu);
        }
    }
    apr_thread_mutex_unlock(r->mu);
}

static void bump(int *v)
{
    __atomic_add_fetch(v, 1, __ATOMIC_SEQ_CST);
}

static void *APR_THREAD_FUNC racer(apr_thread_t *thd, void *data)
{
    race_t *r = data;
    int round, outcome;

    for (round = 0; round < ROUNDS; round++) {
        /* every round an hour after the previous one, all callers of a
         * round at the same instant: nobody is ever stale */
        long long now = T0 + (long long)round * 3600 * SEC;
        oa2f_flight_role_e role;

        barrier(r);
        role = oa2f_flight_begin(r->table, r->key, now, STALE);
        bump(&r->began[round]);
        switch (role) {
        case OA2F_FLIGHT_LEADER:
            bump(&r->leaders[round]);
            while (r->hold
                   && __atomic_load_n(&r->began[round], __ATOMIC_SEQ_CST)
                          < THREADS) {
                apr_sleep(100);
            }
            oa2f_flight_end(r->table, r->key, OUTCOME(round));
            break;
        case OA2F_FLIGHT_FOLLOWER:
            bump(&r->followers[round]);
            outcome = -2;
            if (!oa2f_flight_wait(r->table, r->key,
                                  (long long)apr_time_now() + 20 * SEC,
                                  &outcome)) {
                bump(&r->timeouts[round]);
            }
            else if (outcome != OUTCOME(round)) {
                bump(&r->wrong[round]);
            }
            break;
        case OA2F_FLIGHT_ALONE:
            bump(&r->alone[round]);
            break;
        }
    }
    apr_thread_exit(thd, APR_SUCCESS);
    return NULL;
}

static race_t *race(int hold)
{
    race_t *r = apr_pcalloc(ut_pool, sizeof(*r));
    apr_thread_t *threads[THREADS];
    apr_threadattr_t *attr;
    apr_status_t rv;
    int i;

    r->table = table();
    r->key = key_of("one token for all");
    r->hold = hold;
    ck_assert_int_eq(
        apr_thread_mutex_create(&r->mu, APR_THREAD_MUTEX_DEFAULT, ut_pool),
        APR_SUCCESS);
    ck_assert_int_eq(apr_thread_cond_create(&r->cv, ut_pool), APR_SUCCESS);
    ck_assert_int_eq(apr_threadattr_create(&attr, ut_pool), APR_SUCCESS);
    for (i = 0; i < THREADS; i++) {
        ck_assert_int_eq(
            apr_thread_create(&threads[i], attr, racer, r, ut_pool),
            APR_SUCCESS);
    }
    for (i = 0; i < THREADS; i++) {
        ck_assert_int_eq(apr_thread_join(&rv, threads[i]), APR_SUCCESS);
        ck_assert_int_eq(rv, APR_SUCCESS);
    }
    return r;
}

/* A leader that lands and at once leads the next flight for the same key
 * (prefork: one child serving the same token back to back) keeps the
 * slot busy; its follower must still see the landing, not wait until
 * its deadline and then call the provider itself. */
typedef struct {
    oa2f_flight_table_t *table;
    const unsigned char *key;
    volatile int waiting;
    int landed;
    int outcome;
    apr_time_t took;
} releader_t;

static void *APR_THREAD_FUNC follow(apr_thread_t *th, void *data)
{
    releader_t *f = data;
    apr_time_t start = apr_time_now();

    __atomic_store_n(&f->waiting, 1, __ATOMIC_RELEASE);
    f->landed = oa2f_flight_wait(f->table, f->key, (long long)start + 3 * SEC,
                                 &f->outcome);
    f->took = apr_time_now() - start;
    apr_thread_exit(th, APR_SUCCESS);
    return NULL;
}

START_TEST(test_flight_releader)
{
    releader_t f = { table(), key_of("token-releader"), 0, -1, -2, 0 };
    apr_thread_t *th;
    apr_status_t rv;

    ROLE(f.table, f.key, T0, OA2F_FLIGHT_LEADER);
    ROLE(f.table, f.key, T0 + 1, OA2F_FLIGHT_FOLLOWER);
    ck_assert_int_eq(apr_thread_create(&th, NULL, follow, &f, ut_pool),
                     APR_SUCCESS);
    while (!__atomic_load_n(&f.waiting, __ATOMIC_ACQUIRE)) {
        apr_sleep(1000);
    }
    apr_sleep(20000); /* the follower is napping in its loop */
    oa2f_flight_end(f.table, f.key, 9);
    ROLE(f.table, f.key, T0 + 2, OA2F_FLIGHT_LEADER);
    apr_thread_join(&rv, th);
    ck_assert_int_eq(f.landed, 1);
    ck_assert_int_eq(f.outcome, 9);
    ck_assert_msg(f.took < SEC, "the follower waited %d us", (int)f.took);
    oa2f_flight_end(f.table, f.key, 10);
}
END_TEST

/* 16 threads begin a flight for one key at once; the leader lands only
 * when all have begun: exactly one leader per round, 15 followers that
 * all see its outcome. */
START_TEST(test_flight_threads)
{
    race_t *r = race(1);
    int i;

    for (i = 0; i < ROUNDS; i++) {
        ck_assert_int_eq(r->began[i], THREADS);
        ck_assert_msg(r->leaders[i] == 1, "round %d: %d leaders", i,
                      r->leaders[i]);
        ck_assert_int_eq(r->followers[i], THREADS - 1);
        ck_assert_int_eq(r->alone[i], 0);
        ck_assert_int_eq(r->timeouts[i], 0);
        ck_assert_msg(r->wrong[i] == 0,
                      "round %d: %d followers saw "
                      "another outcome",
                      i, r->wrong[i]);
    }
}
END_TEST

/* The same, but the leader lands as soon as it can: late comers may lead
 * a second flight, and every follower still sees the round's outcome. */
START_TEST(test_flight_threads_no_hold)
{
    race_t *r = race(0);
    int i;

    for (i = 0; i < ROUNDS; i++) {
        ck_assert_int_eq(r->began[i], THREADS);
        ck_assert_int_ge(r->leaders[i], 1);
        ck_assert_int_eq(r->leaders[i] + r->followers[i], THREADS);
        ck_assert_int_eq(r->alone[i], 0);
        ck_assert_int_eq(r->timeouts[i], 0);
        ck_assert_int_eq(r->wrong[i], 0);
    }
}
END_TEST

Suite *flight_suite(void)
{
    Suite *s = suite_create("flight");
    TCase *tc;

    tc = ut_tcase("single");
    tcase_add_test(tc, test_flight_leader_follower);
    tcase_add_test(tc, test_flight_outcomes);
    tcase_add_test(tc, test_flight_other_keys);
    tcase_add_test(tc, test_flight_overwritten);
    tcase_add_test(tc, test_flight_stale_takeover);
    tcase_add_test(tc, test_flight_old_slot_fresh_leader);
    tcase_add_test(tc, test_flight_wait_timeout);
    tcase_add_test(tc, test_flight_result);
    suite_add_tcase(s, tc);

    tc = ut_tcase("threads");
    tcase_add_test(tc, test_flight_releader);
    tcase_add_test(tc, test_flight_threads);
    tcase_add_test(tc, test_flight_threads_no_hold);
    tcase_set_timeout(tc, 300);
    suite_add_tcase(s, tc);
    return s;
}
