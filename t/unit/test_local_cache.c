/* oa2f_local_cache.c: what stands between a lookup and a global lock,
 * the per-process local cache (round trip, expiry, slot sharing, size
 * limit, a writer in the slot, torn reads under concurrent writers). */
#include <string.h>
#include <apr_thread_proc.h>

#include "unit.h"
#include "oa2f_local_cache.h"

static void make_key(unsigned char *key, unsigned int slot_word,
                     unsigned char tag)
{
    memset(key, tag, OA2F_CACHE_KEY_LEN);
    memcpy(key, &slot_word, sizeof(slot_word));
}

START_TEST(test_local_empty_and_null)
{
    unsigned char key[OA2F_CACHE_KEY_LEN], *buf = NULL;
    apr_size_t len = 0;
    oa2f_local_cache_t *lc = oa2f_local_cache_create(ut_pool, 8, 64);

    make_key(key, 1, 'a');
    ck_assert_ptr_null(oa2f_local_cache_create(ut_pool, 0, 64));
    ck_assert_int_eq(oa2f_local_cache_get(lc, key, 100, ut_pool, &buf, &len),
                     0);
    ck_assert_int_eq(oa2f_local_cache_get(NULL, key, 100, ut_pool, &buf, &len),
                     0);
    oa2f_local_cache_put(NULL, key, 200, (const unsigned char *)"x", 1);
}
END_TEST

START_TEST(test_local_round_trip_until)
{
    unsigned char key[OA2F_CACHE_KEY_LEN], *buf = NULL;
    apr_size_t len = 0;
    oa2f_local_cache_t *lc = oa2f_local_cache_create(ut_pool, 8, 64);

    make_key(key, 3, 'a');
    oa2f_local_cache_put(lc, key, 200, (const unsigned char *)"entry", 5);
    ck_assert_int_eq(oa2f_local_cache_get(lc, key, 199, ut_pool, &buf, &len),
                     1);
    ck_assert_uint_eq(len, 5);
    ck_assert_mem_eq(buf, "entry", 5);
    /* never past `until` */
    ck_assert_int_eq(oa2f_local_cache_get(lc, key, 200, ut_pool, &buf, &len),
                     0);
    ck_assert_int_eq(oa2f_local_cache_get(lc, key, 5000, ut_pool, &buf, &len),
                     0);
}
END_TEST

START_TEST(test_local_slot_shared_by_two_keys)
{
    unsigned char a[OA2F_CACHE_KEY_LEN], b[OA2F_CACHE_KEY_LEN], *buf;
    apr_size_t len;
    oa2f_local_cache_t *lc = oa2f_local_cache_create(ut_pool, 8, 64);

    /* same first word, so the same slot; they differ further on */
    make_key(a, 11, 'a');
    make_key(b, 11, 'b');
    oa2f_local_cache_put(lc, a, 200, (const unsigned char *)"AAA", 3);
    ck_assert_int_eq(oa2f_local_cache_get(lc, b, 100, ut_pool, &buf, &len), 0);
    oa2f_local_cache_put(lc, b, 200, (const unsigned char *)"BB", 2);
    ck_assert_int_eq(oa2f_local_cache_get(lc, a, 100, ut_pool, &buf, &len), 0);
    ck_assert_int_eq(oa2f_local_cache_get(lc, b, 100, ut_pool, &buf, &len), 1);
    ck_assert_uint_eq(len, 2);
    ck_assert_mem_eq(buf, "BB", 2);
}
END_TEST

START_TEST(test_local_too_large_or_empty_skipped)
{
    unsigned char key[OA2F_CACHE_KEY_LEN], big[65], *buf;
    apr_size_t len;
    oa2f_local_cache_t *lc = oa2f_local_cache_create(ut_pool, 4, 64);

    memset(big, 'z', sizeof(big));
    make_key(key, 2, 'k');
    oa2f_local_cache_put(lc, key, 200, big, sizeof(big));
    ck_assert_int_eq(oa2f_local_cache_get(lc, key, 100, ut_pool, &buf, &len),
                     0);
    oa2f_local_cache_put(lc, key, 200, big, 0);
    ck_assert_int_eq(oa2f_local_cache_get(lc, key, 100, ut_pool, &buf, &len),
                     0);
    oa2f_local_cache_put(lc, key, 200, big, 64);
    ck_assert_int_eq(oa2f_local_cache_get(lc, key, 100, ut_pool, &buf, &len),
                     1);
    ck_assert_uint_eq(len, 64);
}
END_TEST

/* Racing threads: every entry's bytes are derived from its key, so a
 * torn copy (half one entry, half another) would show as a mismatch. */
#define RACE_KEYS   6
#define RACE_ROUNDS 5000
#define RACE_MAX    (256 + RACE_KEYS * 512)

typedef struct {
    oa2f_local_cache_t *lc;
    int writer;
    unsigned long hits, bad;
} racer_t;

static apr_size_t race_entry(unsigned char tag, unsigned char *out)
{
    apr_size_t n = 256 + (apr_size_t)tag * 512;

    for (apr_size_t i = 0; i < n; i++) {
        out[i] = (unsigned char)(tag ^ (i * 31));
    }
    return n;
}

static void *APR_THREAD_FUNC race(apr_thread_t *thd, void *data)
{
    racer_t *rc = data;
    apr_pool_t *p;
    unsigned char key[OA2F_CACHE_KEY_LEN], want[RACE_MAX], *buf;
    apr_size_t len;

    apr_pool_create(&p, NULL);
    for (int i = 0; i < RACE_ROUNDS; i++) {
        for (unsigned char tag = 1; tag <= RACE_KEYS; tag++) {
            apr_size_t n = race_entry(tag, want);

            make_key(key, 5, tag); /* all keys in one slot */
            if (rc->writer) {
                if ((i + tag + rc->writer) % 3 == 0) {
                    oa2f_local_cache_put(rc->lc, key, 200, want, n);
                }
            }
            else if (oa2f_local_cache_get(rc->lc, key, 100, p, &buf, &len)) {
                rc->hits++;
                if (len != n || memcmp(buf, want, n) != 0) {
                    rc->bad++;
                }
            }
        }
        if ((i & 255) == 0) {
            apr_pool_clear(p);
        }
    }
    apr_pool_destroy(p);
    apr_thread_exit(thd, APR_SUCCESS);
    return NULL;
}

START_TEST(test_local_no_torn_reads)
{
    oa2f_local_cache_t *lc = oa2f_local_cache_create(ut_pool, 8, RACE_MAX);
    racer_t rc[4];
    apr_thread_t *t[4];
    apr_status_t rv;
    unsigned long hits = 0, bad = 0;

    for (int i = 0; i < 4; i++) {
        rc[i].lc = lc;
        rc[i].writer = i < 2 ? i + 1 : 0;
        rc[i].hits = rc[i].bad = 0;
        ck_assert_int_eq(apr_thread_create(&t[i], NULL, race, &rc[i], ut_pool),
                         APR_SUCCESS);
    }
    for (int i = 0; i < 4; i++) {
        apr_thread_join(&rv, t[i]);
        hits += rc[i].hits;
        bad += rc[i].bad;
    }
    ck_assert_uint_eq(bad, 0);
    /* readers did see entries (the test is not vacuous) */
    ck_assert_uint_gt(hits, 0);
}
END_TEST

Suite *local_cache_suite(void)
{
    Suite *s = suite_create("local_cache");
    TCase *tc = ut_tcase("local_cache");

    tcase_add_test(tc, test_local_empty_and_null);
    tcase_add_test(tc, test_local_round_trip_until);
    tcase_add_test(tc, test_local_slot_shared_by_two_keys);
    tcase_add_test(tc, test_local_too_large_or_empty_skipped);
    tcase_add_test(tc, test_local_no_torn_reads);
    suite_add_tcase(s, tc);
    return s;
}
