/* oa2f_key_memo.c: the per-process memo of derived cache keys. */
#include <stdio.h>
#include <string.h>

#include "unit.h"
#include "oa2f_key_memo.h"

/* SipHash-2-4 with key 00 01 … 0f over the empty message: the first
 * entries of the reference vectors of the SipHash paper's authors (64- and
 * 128-bit outputs). */
START_TEST(siphash_reference_vectors)
{
    static const unsigned char want64[8] = { 0x31, 0x0e, 0x0e, 0xdd,
                                             0x47, 0xdb, 0x6f, 0x72 };
    static const unsigned char want128[16] = { 0xa3, 0x81, 0x7f, 0x04,
                                               0xba, 0x25, 0xa8, 0xe6,
                                               0x6d, 0xf6, 0x72, 0x14,
                                               0xc7, 0x55, 0x02, 0x93 };
    unsigned char k[16], out[16];
    int i;

    for (i = 0; i < 16; i++) {
        k[i] = (unsigned char)i;
    }
    oa2f_siphash24(k, "", 0, out, 8);
    ck_assert_mem_eq(out, want64, 8);
    oa2f_siphash24(k, "", 0, out, 16);
    ck_assert_mem_eq(out, want128, 16);
}
END_TEST

START_TEST(key_memo_remembers_per_keyer_and_token)
{
    oa2f_key_memo_t *m = oa2f_key_memo_create(ut_pool, 64);
    unsigned long long tag[2], tag2[2];
    unsigned char key[OA2F_CACHE_KEY_LEN], got[OA2F_CACHE_KEY_LEN];
    int a, b;

    ck_assert_ptr_nonnull(m);
    memset(key, 0x5a, sizeof(key));
    ck_assert_int_eq(oa2f_key_memo_get(m, &a, "tok-1", 5, tag, got), 0);
    oa2f_key_memo_put(m, &a, tag, key);
    memset(got, 0, sizeof(got));
    ck_assert_int_eq(oa2f_key_memo_get(m, &a, "tok-1", 5, tag2, got), 1);
    ck_assert_mem_eq(got, key, sizeof(key));
    ck_assert(tag[0] == tag2[0] && tag[1] == tag2[1]);
    /* another provider's keyer, another token, a prefix: misses */
    ck_assert_int_eq(oa2f_key_memo_get(m, &b, "tok-1", 5, tag2, got), 0);
    ck_assert_int_eq(oa2f_key_memo_get(m, &a, "tok-2", 5, tag2, got), 0);
    ck_assert_int_eq(oa2f_key_memo_get(m, &a, "tok-1", 4, tag2, got), 0);
    ck_assert_ptr_null(oa2f_key_memo_create(ut_pool, 0));
    ck_assert_int_eq(oa2f_key_memo_get(NULL, &a, "tok-1", 5, tag2, got), 0);
}
END_TEST

START_TEST(key_memo_tag_keys_differ_per_memo)
{
    oa2f_key_memo_t *m1 = oa2f_key_memo_create(ut_pool, 8);
    oa2f_key_memo_t *m2 = oa2f_key_memo_create(ut_pool, 8);
    unsigned long long t1[2], t2[2];
    unsigned char got[OA2F_CACHE_KEY_LEN];

    oa2f_key_memo_get(m1, NULL, "same", 4, t1, got);
    oa2f_key_memo_get(m2, NULL, "same", 4, t2, got);
    ck_assert(t1[0] != t2[0] || t1[1] != t2[1]);
}
END_TEST

/* A memo of one set of four ways: four tokens all stay; a token seen
 * again (proven) keeps its way while a stream of new tokens passes
 * through the set, so a working set larger than the memo keeps a stable
 * part of itself. Direct-mapped, the four would evict each other. */
static int memo_has(oa2f_key_memo_t *m, const char *tok)
{
    unsigned long long tag[2];
    unsigned char got[OA2F_CACHE_KEY_LEN];

    return oa2f_key_memo_get(m, NULL, tok, strlen(tok), tag, got)
           && got[0] == (unsigned char)tok[strlen(tok) - 1];
}

static void memo_add(oa2f_key_memo_t *m, const char *tok)
{
    unsigned long long tag[2];
    unsigned char key[OA2F_CACHE_KEY_LEN];

    oa2f_key_memo_get(m, NULL, tok, strlen(tok), tag, key);
    memset(key, 0, sizeof(key));
    key[0] = (unsigned char)tok[strlen(tok) - 1];
    oa2f_key_memo_put(m, NULL, tag, key);
}

START_TEST(key_memo_ways_keep_proven_keys)
{
    oa2f_key_memo_t *m = oa2f_key_memo_create(ut_pool, 4);
    static const char *const four[] = { "tok-a", "tok-b", "tok-c", "tok-d" };
    char name[16];
    int i, round;

    for (i = 0; i < 4; i++) {
        memo_add(m, four[i]);
    }
    for (i = 0; i < 4; i++) {
        ck_assert_msg(memo_has(m, four[i]), "%s lost", four[i]);
    }
    /* all four are proven by the hits above; a stream of tokens seen
     * once each passes through one way, the one left unproven */
    for (round = 0; round < 50; round++) {
        snprintf(name, sizeof(name), "new-%d%c", round, 'A' + round % 26);
        memo_add(m, name);
        ck_assert_int_ge(memo_has(m, "tok-a") + memo_has(m, "tok-b")
                             + memo_has(m, "tok-c") + memo_has(m, "tok-d"),
                         3);
    }
}
END_TEST

Suite *key_memo_suite(void)
{
    Suite *s = suite_create("key_memo");
    TCase *tc = ut_tcase("key_memo");

    tcase_add_test(tc, siphash_reference_vectors);
    tcase_add_test(tc, key_memo_remembers_per_keyer_and_token);
    tcase_add_test(tc, key_memo_tag_keys_differ_per_memo);
    tcase_add_test(tc, key_memo_ways_keep_proven_keys);
    suite_add_tcase(s, tc);
    return s;
}
