/* oa2f_revoke.c: the body of a revocation (README "Revocation"), the
 * rule table (kinds, hashing, "validated at or before", expiry and slot
 * reuse, the full table's global rule, the live count) and the fleet
 * list (export, merge, the lost-update repair, one sync per interval). */
#include <string.h>
#include <apr_strings.h>

#include "unit.h"
#include "ut_common.h"
#include "oa2f_revoke.h"

#define T0   1767225600LL /* 2026-01-01T00:00:00Z */
#define LIFE 3600LL

/* ---- the body ------------------------------------------------------------ */

typedef struct {
    const char *body;
    int ok;
    oa2f_revoke_kind_e kind;
    const char *value;
} parse_case_t;

static const parse_case_t parse_cases[] = {
    { "token=abc", 1, OA2F_REVOKE_TOKEN, "abc" },
    { "token=a-b.c_d~e%2Bf%2Fg==", 1, OA2F_REVOKE_TOKEN, "a-b.c_d~e+f/g==" },
    { "sub=alice", 1, OA2F_REVOKE_SUB, "alice" },
    { "sub=J%C3%BCrgen+M", 1, OA2F_REVOKE_SUB, "J\xc3\xbcrgen M" },
    { "client_id=app-read", 1, OA2F_REVOKE_CLIENT, "app-read" },
    { "%63lient_id=x", 1, OA2F_REVOKE_CLIENT, "x" },
    { "&token=abc&", 1, OA2F_REVOKE_TOKEN, "abc" }, /* empty sequences */
    { "", 0, 0, NULL },
    { "&&", 0, 0, NULL },
    { "token=", 0, 0, NULL },
    { "token", 0, 0, NULL },
    { "sub=", 0, 0, NULL },
    { "token=a&sub=b", 0, 0, NULL },
    { "token=a&token=a", 0, 0, NULL },
    { "sub=a&sub=b", 0, 0, NULL },
    { "user=alice", 0, 0, NULL },
    { "Token=abc", 0, 0, NULL },
    { "token=a%zz", 0, 0, NULL },
    { "token=a%2", 0, 0, NULL },
    { "token=a b", 0, 0, NULL }, /* space: not b64token */
    { "token=a+b", 0, 0, NULL }, /* '+' is a space */
    { "token=a%20b", 0, 0, NULL },
    { "token=a=b", 0, 0, NULL }, /* '=' only at the end */
    { "token=%00", 0, 0, NULL },
    { "sub=a%0Ab", 0, 0, NULL }, /* a control character */
    { "sub=a%00", 0, 0, NULL },
    { "client_id=%7F", 0, 0, NULL },
};

START_TEST(test_parse_table)
{
    const parse_case_t *c = &parse_cases[_i];
    oa2f_revoke_kind_e kind = 0;
    const char *value = NULL;
    const char *why = oa2f_revoke_parse(ut_pool, c->body, strlen(c->body),
                                        &kind, &value);

    if (c->ok) {
        ck_assert_msg(why == NULL, "%s: %s", c->body, why);
        ck_assert_int_eq(kind, c->kind);
        ck_assert_str_eq(value, c->value);
    }
    else {
        ck_assert_msg(why != NULL, "%s was accepted", c->body);
        ck_assert_ptr_null(strchr(why, '\n'));
    }
}
END_TEST

/* Length limits: the body (8 KiB), a token (4096), sub and client_id
 * (1 KiB). */
START_TEST(test_parse_limits)
{
    oa2f_revoke_kind_e kind;
    const char *value;
    char *tok = apr_palloc(ut_pool, 4097 + 7);
    char *sub = apr_palloc(ut_pool, 1025 + 5);
    char *big = apr_palloc(ut_pool, OA2F_REVOKE_BODY_MAX + 1);

    memcpy(tok, "token=", 6);
    memset(tok + 6, 'a', 4096);
    tok[6 + 4096] = '\0';
    ck_assert_ptr_null(
        oa2f_revoke_parse(ut_pool, tok, strlen(tok), &kind, &value));
    ck_assert_uint_eq(strlen(value), 4096);
    tok[6 + 4096] = 'a';
    tok[6 + 4097] = '\0';
    ck_assert_ptr_nonnull(
        oa2f_revoke_parse(ut_pool, tok, strlen(tok), &kind, &value));

    memcpy(sub, "sub=", 4);
    memset(sub + 4, 's', 1024);
    sub[4 + 1024] = '\0';
    ck_assert_ptr_null(
        oa2f_revoke_parse(ut_pool, sub, strlen(sub), &kind, &value));
    sub[4 + 1024] = 's';
    sub[4 + 1025] = '\0';
    ck_assert_ptr_nonnull(
        oa2f_revoke_parse(ut_pool, sub, strlen(sub), &kind, &value));

    memcpy(big, "sub=", 4);
    memset(big + 4, 's', OA2F_REVOKE_BODY_MAX - 3);
    ck_assert_ptr_nonnull(oa2f_revoke_parse(
        ut_pool, big, OA2F_REVOKE_BODY_MAX + 1, &kind, &value));
}
END_TEST

START_TEST(test_content_type)
{
    ck_assert(
        oa2f_revoke_content_type_ok("application/x-www-form-urlencoded"));
    ck_assert(
        oa2f_revoke_content_type_ok("Application/X-WWW-Form-URLEncoded"));
    ck_assert(oa2f_revoke_content_type_ok(
        "application/x-www-form-urlencoded; charset=UTF-8"));
    ck_assert(oa2f_revoke_content_type_ok(
        "application/x-www-form-urlencoded ;charset=\"utf-8\" "));
    ck_assert(!oa2f_revoke_content_type_ok(NULL));
    ck_assert(!oa2f_revoke_content_type_ok(""));
    ck_assert(!oa2f_revoke_content_type_ok("text/plain"));
    ck_assert(!oa2f_revoke_content_type_ok("application/json"));
    ck_assert(!oa2f_revoke_content_type_ok("multipart/form-data; boundary=x"));
    ck_assert(
        !oa2f_revoke_content_type_ok("application/x-www-form-urlencodedx"));
    ck_assert(!oa2f_revoke_content_type_ok(
        "application/x-www-form-urlencoded; boundary=x"));
    ck_assert(!oa2f_revoke_content_type_ok(
        "application/x-www-form-urlencoded; charset="));
    ck_assert(!oa2f_revoke_content_type_ok(
        "application/x-www-form-urlencoded; charset=utf-8; x=y"));
}
END_TEST

/* ---- the table ------------------------------------------------------------ */

static oa2f_rules_t *table(void)
{
    return oa2f_rules_init(apr_palloc(ut_pool, oa2f_rules_size()));
}

static void key_of(const char *token, unsigned char key[OA2F_CACHE_KEY_LEN])
{
    oa2f_cache_key("s3cret", "revoke-test", token, key);
}

/* The hash: kinds apart, values apart, never 0, stable (a fleet's
 * servers exchange it). */
START_TEST(test_hash)
{
    apr_uint64_t a = oa2f_rule_hash(OA2F_REVOKE_SUB, "alice", 5);

    ck_assert(a != 0);
    ck_assert(a == oa2f_rule_hash(OA2F_REVOKE_SUB, "alice", 5));
    ck_assert(a != oa2f_rule_hash(OA2F_REVOKE_CLIENT, "alice", 5));
    ck_assert(a != oa2f_rule_hash(OA2F_REVOKE_SUB, "alicf", 5));
    ck_assert(a != oa2f_rule_hash(OA2F_REVOKE_SUB, "alice", 4));
    ck_assert(oa2f_rule_hash(OA2F_REVOKE_SUB, "", 0)
              != oa2f_rule_hash(OA2F_REVOKE_CLIENT, "", 0));
    /* a value pinned: every build and server computes the same */
    ck_assert_str_eq(apr_psprintf(ut_pool, "%016" APR_UINT64_T_HEX_FMT, a),
                     "9ff8f9dd358eae0c");
}
END_TEST

/* Each kind rules out what it names, validated at or before the
 * revocation, and nothing else. */
START_TEST(test_kinds)
{
    oa2f_rules_t *t = table();
    unsigned char k1[OA2F_CACHE_KEY_LEN], k2[OA2F_CACHE_KEY_LEN];

    key_of("tok-1", k1);
    key_of("tok-2", k2);
    ck_assert(!oa2f_rules_pending(t, T0));
    ck_assert(!oa2f_rules_revoked(t, T0, k1, "alice", "app"));

    ck_assert_int_eq(oa2f_rules_add(t,
                                    oa2f_rule_hash(OA2F_REVOKE_TOKEN, k1,
                                                   OA2F_CACHE_KEY_LEN),
                                    T0 + 10, T0 + 10, LIFE),
                     OA2F_RULE_ADDED);
    ck_assert(oa2f_rules_revoked(t, T0 + 5, k1, NULL, NULL));
    ck_assert(oa2f_rules_revoked(t, T0 + 10, k1, NULL, NULL)); /* <= */
    ck_assert(!oa2f_rules_revoked(t, T0 + 11, k1, NULL, NULL));
    ck_assert(!oa2f_rules_pending(t, T0 + 11));
    ck_assert(!oa2f_rules_revoked(t, T0 + 5, k2, NULL, NULL));
    ck_assert(!oa2f_rules_revoked(t, T0 + 5, NULL, "alice", "app"));

    oa2f_rules_add(t, oa2f_rule_hash(OA2F_REVOKE_SUB, "alice", 5), T0 + 20,
                   T0 + 20, LIFE);
    ck_assert(oa2f_rules_revoked(t, T0 + 20, k2, "alice", NULL));
    ck_assert(!oa2f_rules_revoked(t, T0 + 21, k2, "alice", NULL));
    ck_assert(!oa2f_rules_revoked(t, T0 + 5, k2, "bob", "alice"));

    oa2f_rules_add(t, oa2f_rule_hash(OA2F_REVOKE_CLIENT, "app", 3), T0 + 30,
                   T0 + 30, LIFE);
    ck_assert(oa2f_rules_revoked(t, T0 + 30, NULL, NULL, "app"));
    ck_assert(!oa2f_rules_revoked(t, T0 + 30, NULL, "app", "app2"));
    ck_assert(!oa2f_rules_revoked(t, T0 + 31, k1, "alice", "app"));
    ck_assert_uint_eq(oa2f_rules_live(t, T0 + 30, LIFE), 3);
}
END_TEST

/* A later revocation moves a rule's time; an earlier one is known. */
START_TEST(test_later_time)
{
    oa2f_rules_t *t = table();
    apr_uint64_t h = oa2f_rule_hash(OA2F_REVOKE_SUB, "alice", 5);

    ck_assert_int_eq(oa2f_rules_add(t, h, T0, T0, LIFE), OA2F_RULE_ADDED);
    ck_assert_int_eq(oa2f_rules_add(t, h, T0 - 5, T0, LIFE), OA2F_RULE_KNOWN);
    ck_assert_int_eq(oa2f_rules_add(t, h, T0, T0, LIFE), OA2F_RULE_KNOWN);
    ck_assert(!oa2f_rules_revoked(t, T0 + 1, NULL, "alice", NULL));
    ck_assert_int_eq(oa2f_rules_add(t, h, T0 + 9, T0 + 9, LIFE),
                     OA2F_RULE_ADDED);
    ck_assert(oa2f_rules_revoked(t, T0 + 9, NULL, "alice", NULL));
    ck_assert_uint_eq(oa2f_rules_live(t, T0 + 9, LIFE), 1);
}
END_TEST

/* A rule is dropped after the lifetime: it no longer counts, and its
 * slot takes another rule. */
START_TEST(test_expiry)
{
    oa2f_rules_t *t = table();
    int i;

    oa2f_rules_add(t, oa2f_rule_hash(OA2F_REVOKE_SUB, "alice", 5), T0, T0,
                   LIFE);
    ck_assert_uint_eq(oa2f_rules_live(t, T0 + LIFE - 1, LIFE), 1);
    ck_assert_uint_eq(oa2f_rules_live(t, T0 + LIFE, LIFE), 0);

    /* a full table of old rules takes new ones once they are dropped */
    for (i = 0; i < OA2F_RULES_SLOTS; i++) {
        oa2f_rules_add(t, oa2f_rule_hash(OA2F_REVOKE_CLIENT, &i, sizeof(i)),
                       T0, T0, LIFE);
    }
    for (i = 0; i < 200; i++) {
        int j = i + 100000;
        ck_assert_int_eq(
            oa2f_rules_add(t,
                           oa2f_rule_hash(OA2F_REVOKE_CLIENT, &j, sizeof(j)),
                           T0 + LIFE, T0 + LIFE, LIFE),
            OA2F_RULE_ADDED);
    }
    ck_assert_uint_eq(oa2f_rules_live(t, T0 + LIFE, LIFE), 200);
}
END_TEST

/* A full table fails safe: the rule that finds no slot becomes "nothing
 * validated until then is served". */
START_TEST(test_full_table)
{
    oa2f_rules_t *t = table();
    int i, global = 0;

    for (i = 0; i < OA2F_RULES_SLOTS + 10; i++) {
        char v[16];
        apr_snprintf(v, sizeof(v), "sub-%d", i);
        if (oa2f_rules_add(t, oa2f_rule_hash(OA2F_REVOKE_SUB, v, strlen(v)),
                           T0 + 100, T0 + 100, LIFE)
            == OA2F_RULE_GLOBAL) {
            global++;
        }
    }
    ck_assert_int_ge(global, 10);
    /* anything validated until then, whatever it is */
    ck_assert(oa2f_rules_revoked(t, T0 + 100, NULL, "someone-else", NULL));
    ck_assert(oa2f_rules_revoked(t, T0 + 1, NULL, NULL, NULL));
    ck_assert(!oa2f_rules_revoked(t, T0 + 101, NULL, "someone-else", NULL));
    /* the global rule counts as one */
    ck_assert_uint_eq(oa2f_rules_live(t, T0 + 100, LIFE),
                      (unsigned)(OA2F_RULES_SLOTS + 10 - global + 1));
}
END_TEST

START_TEST(test_global)
{
    oa2f_rules_t *t = table();

    oa2f_rules_add_global(t, T0);
    ck_assert(oa2f_rules_revoked(t, T0, NULL, NULL, NULL));
    ck_assert(!oa2f_rules_revoked(t, T0 + 1, NULL, NULL, NULL));
    ck_assert_uint_eq(oa2f_rules_live(t, T0, LIFE), 1);
    ck_assert_uint_eq(oa2f_rules_live(t, T0 + LIFE, LIFE), 0);
}
END_TEST

/* ---- the fleet list --------------------------------------------------------- */

/* One server's rules reach another through the list; a second merge of
 * the same list changes nothing and asks for no write. */
START_TEST(test_export_merge)
{
    oa2f_rules_t *a = table(), *b = table();
    unsigned char *buf;
    apr_size_t len;
    long long newest;

    oa2f_rules_add(a, oa2f_rule_hash(OA2F_REVOKE_SUB, "alice", 5), T0, T0,
                   LIFE);
    oa2f_rules_add(a, oa2f_rule_hash(OA2F_REVOKE_CLIENT, "app", 3), T0 + 1,
                   T0 + 1, LIFE);
    /* an old rule is not exported */
    oa2f_rules_add(a, oa2f_rule_hash(OA2F_REVOKE_SUB, "old", 3), T0 - LIFE,
                   T0 - LIFE, LIFE);
    buf = oa2f_rules_export(ut_pool, a, T0 + 1, LIFE, 65536, &len);
    ck_assert_uint_eq(len, 16 + 2 * 16);

    ck_assert_int_eq(oa2f_rules_merge(b, buf, len, T0 + 1, LIFE, &newest), 0);
    ck_assert(newest == T0 + 1);
    ck_assert(oa2f_rules_revoked(b, T0, NULL, "alice", NULL));
    ck_assert(oa2f_rules_revoked(b, T0 + 1, NULL, NULL, "app"));
    ck_assert(!oa2f_rules_revoked(b, T0 + 2, NULL, "alice", "app"));
    ck_assert_int_eq(oa2f_rules_merge(b, buf, len, T0 + 1, LIFE, &newest), 0);
    ck_assert_uint_eq(oa2f_rules_live(b, T0 + 1, LIFE), 2);

    /* a list past its rules' lifetime merges nothing */
    ck_assert_int_eq(
        oa2f_rules_merge(table(), buf, len, T0 + 1 + LIFE, LIFE, &newest), 0);

    /* not a list */
    ck_assert_int_eq(oa2f_rules_merge(b, buf, len - 1, T0, LIFE, &newest), -1);
    ck_assert_int_eq(
        oa2f_rules_merge(b, (const unsigned char *)"OA2FRV2\0........", 16, T0,
                         LIFE, &newest),
        -1);
}
END_TEST

/* Lost-update repair: a server whose rule is missing from the list (a
 * concurrent writer wrote a list without it) is told to write again;
 * so is one whose global rule is newer than the list's. */
START_TEST(test_repair)
{
    oa2f_rules_t *a = table(), *b = table();
    unsigned char *buf;
    apr_size_t len;
    long long newest;

    oa2f_rules_add(a, oa2f_rule_hash(OA2F_REVOKE_SUB, "alice", 5), T0, T0,
                   LIFE);
    oa2f_rules_add(b, oa2f_rule_hash(OA2F_REVOKE_SUB, "bob", 3), T0, T0, LIFE);
    /* b wrote last, without alice */
    buf = oa2f_rules_export(ut_pool, b, T0, LIFE, 65536, &len);
    ck_assert_int_eq(oa2f_rules_merge(a, buf, len, T0, LIFE, &newest), 1);
    buf = oa2f_rules_export(ut_pool, a, T0, LIFE, 65536, &len);
    ck_assert_int_eq(oa2f_rules_merge(b, buf, len, T0, LIFE, &newest), 0);
    ck_assert(oa2f_rules_revoked(b, T0, NULL, "alice", NULL));
    ck_assert(oa2f_rules_revoked(a, T0, NULL, "bob", NULL));

    /* a later time for a known rule is a difference too */
    oa2f_rules_add(a, oa2f_rule_hash(OA2F_REVOKE_SUB, "bob", 3), T0 + 5,
                   T0 + 5, LIFE);
    ck_assert_int_eq(oa2f_rules_merge(a, buf, len, T0 + 5, LIFE, &newest), 1);

    oa2f_rules_add_global(b, T0 + 5);
    ck_assert_int_eq(oa2f_rules_merge(b, buf, len, T0 + 5, LIFE, &newest), 1);
}
END_TEST

/* Rules that do not fit the list fold into its global rule. */
START_TEST(test_export_fold)
{
    oa2f_rules_t *a = table(), *b = table();
    unsigned char *buf;
    apr_size_t len;
    long long newest;
    int i;

    for (i = 0; i < 10; i++) {
        const char *c = apr_psprintf(ut_pool, "c-%d", i);
        oa2f_rules_add(a, oa2f_rule_hash(OA2F_REVOKE_CLIENT, c, strlen(c)),
                       T0 + i, T0 + 10, LIFE);
    }
    buf = oa2f_rules_export(ut_pool, a, T0 + 10, LIFE, 16 + 3 * 16, &len);
    ck_assert_uint_eq(len, 16 + 3 * 16);
    oa2f_rules_merge(b, buf, len, T0 + 10, LIFE, &newest);
    /* everything a had is ruled out in b, most of it by the global rule */
    for (i = 0; i < 10; i++) {
        ck_assert(oa2f_rules_revoked(b, T0 + i, NULL, NULL,
                                     apr_psprintf(ut_pool, "c-%d", i)));
    }
    ck_assert_uint_eq(oa2f_rules_live(b, T0 + 10, LIFE), 4);
}
END_TEST

/* One winner per interval. */
START_TEST(test_sync_due)
{
    oa2f_rules_t *t = table();
    long long us = T0 * 1000000LL;

    ck_assert(oa2f_rules_sync_due(t, us, 500000));
    ck_assert(!oa2f_rules_sync_due(t, us + 1, 500000));
    ck_assert(!oa2f_rules_sync_due(t, us + 499999, 500000));
    ck_assert(oa2f_rules_sync_due(t, us + 500000, 500000));
    ck_assert(!oa2f_rules_sync_due(t, us + 500001, 500000));
}
END_TEST

Suite *revoke_suite(void)
{
    Suite *s = suite_create("revoke");
    TCase *tc = ut_tcase("revoke");

    tcase_add_loop_test(tc, test_parse_table, 0, UT_N(parse_cases));
    tcase_add_test(tc, test_parse_limits);
    tcase_add_test(tc, test_content_type);
    tcase_add_test(tc, test_hash);
    tcase_add_test(tc, test_kinds);
    tcase_add_test(tc, test_later_time);
    tcase_add_test(tc, test_expiry);
    tcase_add_test(tc, test_full_table);
    tcase_add_test(tc, test_global);
    tcase_add_test(tc, test_export_merge);
    tcase_add_test(tc, test_repair);
    tcase_add_test(tc, test_export_fold);
    tcase_add_test(tc, test_sync_due);
    suite_add_tcase(s, tc);
    return s;
}
