/* oa2f_near_table.c: the near cache's lock-free table in shared memory
 * (round trip, expiry, drop, size limit, the log overwriting its oldest
 * values and wrapping, torn reads under writers that lap the log). */
#include <string.h>
#include <apr_thread_proc.h>

#include "unit.h"
#include "oa2f_near_table.h"

static oa2f_near_table_t *table_of(apr_size_t bytes)
{
    unsigned char *m = apr_palloc(ut_pool, bytes + 64);

    /* garbage where the log goes: init must not depend on zeroed memory */
    memset(m, 0xa5, bytes + 64);
    return oa2f_near_table_init(m + ((64 - ((apr_uintptr_t)m & 63)) & 63),
                                bytes);
}

/* A key that looks like a hash output, different for each n. */
static void key_of(unsigned int n, unsigned char *key)
{
    unsigned int x = n * 2654435761u + 1;

    for (int i = 0; i < OA2F_CACHE_KEY_LEN; i++) {
        x ^= x << 13;
        x ^= x >> 17;
        x ^= x << 5;
        key[i] = (unsigned char)(x >> 8);
    }
}

/* n's value: its length and bytes both follow from n. */
static apr_size_t value_of(unsigned int n, apr_size_t base, unsigned char *out)
{
    apr_size_t len = base + (n * 37) % 300;

    for (apr_size_t i = 0; i < len; i++) {
        out[i] = (unsigned char)(n ^ (i * 31) ^ (i >> 8));
    }
    return len;
}

START_TEST(test_near_table_round_trip)
{
    oa2f_near_table_t *t = table_of(OA2F_NEAR_TABLE_MIN_BYTES);
    unsigned char k1[OA2F_CACHE_KEY_LEN], k2[OA2F_CACHE_KEY_LEN], *buf;
    apr_size_t len;

    ck_assert_ptr_nonnull(t);
    ck_assert_ptr_null(table_of(OA2F_NEAR_TABLE_MIN_BYTES - 1));
    key_of(1, k1);
    key_of(2, k2);
    ck_assert_int_eq(oa2f_near_table_get(t, k1, 100, ut_pool, &buf, &len), 0);
    ck_assert_int_eq(
        oa2f_near_table_put(t, k1, 100, 200, (const unsigned char *)"v1", 2),
        1);
    ck_assert_int_eq(oa2f_near_table_get(t, k1, 199, ut_pool, &buf, &len), 1);
    ck_assert_uint_eq(len, 2);
    ck_assert_mem_eq(buf, "v1", 2);
    /* never at or past until, never for another key */
    ck_assert_int_eq(oa2f_near_table_get(t, k1, 200, ut_pool, &buf, &len), 0);
    ck_assert_int_eq(oa2f_near_table_get(t, k2, 150, ut_pool, &buf, &len), 0);
    /* a newer value of a key replaces the older */
    ck_assert_int_eq(
        oa2f_near_table_put(t, k1, 100, 300, (const unsigned char *)"new", 3),
        1);
    ck_assert_int_eq(oa2f_near_table_get(t, k1, 250, ut_pool, &buf, &len), 1);
    ck_assert_mem_eq(buf, "new", 3);
    /* README "Revocation": a dropped value is gone */
    oa2f_near_table_drop(t, k1);
    ck_assert_int_eq(oa2f_near_table_get(t, k1, 150, ut_pool, &buf, &len), 0);
    /* expired, empty and NULL are refused */
    ck_assert_int_eq(
        oa2f_near_table_put(t, k2, 100, 100, (const unsigned char *)"x", 1),
        0);
    ck_assert_int_eq(oa2f_near_table_put(t, k2, 100, 200, k2, 0), 0);
    ck_assert_int_eq(oa2f_near_table_put(NULL, k2, 100, 200, k2, 1), 0);
    ck_assert_int_eq(oa2f_near_table_get(NULL, k2, 100, ut_pool, &buf, &len),
                     0);
    oa2f_near_table_drop(NULL, k2);
}
END_TEST

START_TEST(test_near_table_value_max)
{
    oa2f_near_table_t *t = table_of(OA2F_NEAR_TABLE_MIN_BYTES);
    apr_size_t max = oa2f_near_table_value_max(t);
    unsigned char key[OA2F_CACHE_KEY_LEN], *big, *buf;
    apr_size_t len;

    /* an eighth of what is left of 64 KiB after the index */
    ck_assert_uint_gt(max, 4096);
    ck_assert_uint_lt(max, OA2F_NEAR_TABLE_MIN_BYTES / 8);
    big = apr_palloc(ut_pool, max + 1);
    memset(big, 'b', max + 1);
    key_of(7, key);
    ck_assert_int_eq(oa2f_near_table_put(t, key, 100, 200, big, max + 1), 0);
    ck_assert_int_eq(oa2f_near_table_get(t, key, 100, ut_pool, &buf, &len), 0);
    ck_assert_int_eq(oa2f_near_table_put(t, key, 100, 200, big, max), 1);
    ck_assert_int_eq(oa2f_near_table_get(t, key, 100, ut_pool, &buf, &len), 1);
    ck_assert_uint_eq(len, max);
    ck_assert_uint_eq(oa2f_near_table_value_max(NULL), 0);
}
END_TEST

/* Far more values than the log holds, of sizes that leave odd ends at
 * the ring's end: every hit is the right value, the newest are all
 * there, the oldest are all gone. */
START_TEST(test_near_table_log_wraps)
{
    oa2f_near_table_t *t = table_of(256 * 1024);
    unsigned char key[OA2F_CACHE_KEY_LEN], want[1024], *buf;
    apr_size_t len;
    unsigned int total = 3000, hits = 0, newest_hits = 0;

    for (unsigned int n = 0; n < total; n++) {
        apr_size_t vl = value_of(n, 500, want);

        key_of(n, key);
        ck_assert_int_eq(oa2f_near_table_put(t, key, 100, 200, want, vl), 1);
    }
    for (unsigned int n = 0; n < total; n++) {
        apr_size_t vl = value_of(n, 500, want);

        key_of(n, key);
        if (!oa2f_near_table_get(t, key, 100, ut_pool, &buf, &len)) {
            continue;
        }
        hits++;
        ck_assert_uint_eq(len, vl);
        ck_assert_mem_eq(buf, want, vl);
        ck_assert_uint_ge(n, total / 2); /* the first half was overwritten */
        if (n >= total - 100) {
            newest_hits++;
        }
    }
    /* ~650-byte values in ~210 KiB of log: about 330 of them fit */
    ck_assert_uint_gt(hits, 250);
    ck_assert_uint_lt(hits, 400);
    ck_assert_uint_eq(newest_hits, 100);
}
END_TEST

/* Bytes of a value changed in the log behind the index (what a writer
 * that resumed after the log lapped it does): every single changed
 * byte, the top bits of two words of one lane, and another value of the
 * same length written over it, are each a miss; put back, a hit. */
START_TEST(test_near_table_changed_bytes)
{
    apr_size_t bytes = OA2F_NEAR_TABLE_MIN_BYTES;
    unsigned char *m = apr_palloc(ut_pool, bytes + 64), *mem, *at, *buf;
    unsigned char key[OA2F_CACHE_KEY_LEN], want[1024], other[1024];
    apr_size_t vl, len;
    oa2f_near_table_t *t;

    mem = m + ((64 - ((apr_uintptr_t)m & 63)) & 63);
    memset(mem, 0, bytes);
    t = oa2f_near_table_init(mem, bytes);
    ck_assert_ptr_nonnull(t);
    key_of(3, key);
    vl = value_of(3, 500, want);
    ck_assert_uint_eq(value_of(3 + 300 * 37, 500, other), vl);
    ck_assert_int_eq(oa2f_near_table_put(t, key, 100, 200, want, vl), 1);
    at = memmem(mem, bytes, want, vl);
    ck_assert_ptr_nonnull(at);
    for (apr_size_t i = 0; i < vl; i++) {
        at[i] ^= 0x40;
        ck_assert_msg(!oa2f_near_table_get(t, key, 100, ut_pool, &buf, &len),
                      "byte %d changed: a hit", (int)i);
        at[i] ^= 0x40;
    }
    at[7] ^= 0x80;
    at[39] ^= 0x80;
    ck_assert_int_eq(oa2f_near_table_get(t, key, 100, ut_pool, &buf, &len), 0);
    at[7] ^= 0x80;
    at[39] ^= 0x80;
    memcpy(at, other, vl);
    ck_assert_int_eq(oa2f_near_table_get(t, key, 100, ut_pool, &buf, &len), 0);
    memcpy(at, want, vl);
    ck_assert_int_eq(oa2f_near_table_get(t, key, 100, ut_pool, &buf, &len), 1);
    ck_assert_mem_eq(buf, want, vl);
}
END_TEST

/* Writers lapping a small log again and again while readers copy: a
 * read is a hit with the right bytes or a miss, never torn. */
#define RACE_KEYS   64
#define RACE_ROUNDS 3000

typedef struct {
    oa2f_near_table_t *t;
    int writer;
    unsigned long hits, bad;
} racer_t;

static void *APR_THREAD_FUNC race(apr_thread_t *thd, void *data)
{
    racer_t *rc = data;
    apr_pool_t *p;
    unsigned char key[OA2F_CACHE_KEY_LEN], want[1024], *buf;
    apr_size_t len;

    apr_pool_create(&p, NULL);
    for (int i = 0; i < RACE_ROUNDS; i++) {
        for (unsigned int n = 0; n < RACE_KEYS; n++) {
            apr_size_t vl = value_of(n, 400, want);

            key_of(n, key);
            if (rc->writer) {
                if ((i + n + (unsigned)rc->writer) % 3 == 0) {
                    oa2f_near_table_put(rc->t, key, 100, 200, want, vl);
                }
            }
            else if (oa2f_near_table_get(rc->t, key, 100, p, &buf, &len)) {
                rc->hits++;
                if (len != vl || memcmp(buf, want, vl) != 0) {
                    rc->bad++;
                }
            }
        }
        if ((i & 63) == 0) {
            apr_pool_clear(p);
        }
    }
    apr_pool_destroy(p);
    apr_thread_exit(thd, APR_SUCCESS);
    return NULL;
}

START_TEST(test_near_table_no_torn_reads)
{
    /* the 64 values (~550 bytes) are about half the log: lapped often */
    oa2f_near_table_t *t = table_of(OA2F_NEAR_TABLE_MIN_BYTES);
    racer_t rc[4];
    apr_thread_t *th[4];
    apr_status_t rv;
    unsigned long hits = 0, bad = 0;

    for (int i = 0; i < 4; i++) {
        rc[i].t = t;
        rc[i].writer = i < 2 ? i + 1 : 0;
        rc[i].hits = rc[i].bad = 0;
        ck_assert_int_eq(
            apr_thread_create(&th[i], NULL, race, &rc[i], ut_pool),
            APR_SUCCESS);
    }
    for (int i = 0; i < 4; i++) {
        apr_thread_join(&rv, th[i]);
        hits += rc[i].hits;
        bad += rc[i].bad;
    }
    ck_assert_uint_eq(bad, 0);
    ck_assert_uint_gt(hits, 0);
}
END_TEST

Suite *near_table_suite(void)
{
    Suite *s = suite_create("near_table");
    TCase *tc = ut_tcase("near_table");

    tcase_add_test(tc, test_near_table_round_trip);
    tcase_add_test(tc, test_near_table_value_max);
    tcase_add_test(tc, test_near_table_log_wraps);
    tcase_add_test(tc, test_near_table_changed_bytes);
    tcase_add_test(tc, test_near_table_no_torn_reads);
    suite_add_tcase(s, tc);
    return s;
}
