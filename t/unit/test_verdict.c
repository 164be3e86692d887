/* oa2f_verdict.c: the verdict policy (README "Cache") driven through its
 * interface by an in-memory cache, a fake clock, a scripted provider and
 * a scripted single-flight table: what is stored for how long (the
 * OAuth2FederatedCacheMaxTTL cap, OAuth2FederatedNegativeCacheTTL, no
 * expiry not stored, never an outage), freshness per location, the
 * token's expiry on hits and answers, corrupt entries, followers, and
 * OAuth2FederatedStaleIfError (README "Outages"). */
#include <string.h>
#include <apr_strings.h>

#include "unit.h"
#include "oa2f_cache_entry.h"
#include "oa2f_dialect.h"
#include "oa2f_verdict.h"

#define SEC   1000000LL
#define T0    1767225600LL /* 2026-01-01T00:00:00Z */
#define SENT  T0
#define TOKEN "Zk9x2-hP_q.7Lm~a+b/c=0123456789"
#define SLOTS 4

typedef struct {
    int used;
    unsigned char key[OA2F_CACHE_KEY_LEN];
    long long until;
    unsigned char *data;
    apr_size_t len;
} slot_t;

typedef struct fake_t fake_t;

/* Everything around the verdict, with counts of what it was asked. */
struct fake_t {
    long long now_us;
    int no_cache; /* key(): there is no cache        */
    /* the shared cache and this process's copy: a lookup sees an entry
     * until its `until`, as a back end that expires entries would */
    slot_t shared[SLOTS], local[SLOTS];
    int keys, gets, fleet_gets, puts, keeps, notes_corrupt, notes_too_large;
    int notes_stale;
    apr_size_t stale_age; /* len of the last stale note      */
    long long put_until;  /* `until` of the last put         */
    long long put_keep;   /* its keep_until                  */
    /* the provider */
    oa2f_validation_t answer;
    long long call_takes_us; /* the clock moves during a call   */
    int calls;
    /* single-flight */
    oa2f_flight_role_e role;
    int lands; /* flight_wait(): landed, or not   */
    int landed_outcome;
    void (*meanwhile)(fake_t *f); /* what the leader does meanwhile  */
    int begins, ends, end_outcome;
    long long stale_us, deadline_us;
    /* README "Revocation": entries validated at or before this are
     * revoked (0 = none); what the check was given */
    long long revoked_upto;
    int revoked_calls;
    const char *revoked_sub;
    /* the cache is down: get and put fail */
    int cache_down;
    /* put stores in this server's memory only (OA2F_PUT_HERE) */
    int put_here_only;
    /* the leader's verdict in this server's memory (one slot) */
    slot_t published;
    int publishes, results;
    /* the fleet lock: what each take answers (the last one repeats),
     * naps on the fake clock, and when another server's verdict lands
     * in the cache (after that many naps; 0 = never) */
    oa2f_lock_e takes_answer[8];
    int ntakes_answer, takes, releases, naps;
    long long napped_us, take_ttl_ms;
    int entry_after_naps;
    int entry_on_take; /* the verdict lands with the first take */
};

static fake_t *fake(void)
{
    fake_t *f = apr_pcalloc(ut_pool, sizeof(*f));

    f->now_us = T0 * SEC;
    f->role = OA2F_FLIGHT_ALONE;
    f->landed_outcome = -1;
    return f;
}

static slot_t *find(slot_t *table, const unsigned char *key)
{
    int i;

    for (i = 0; i < SLOTS; i++) {
        if (table[i].used && !memcmp(table[i].key, key, OA2F_CACHE_KEY_LEN)) {
            return &table[i];
        }
    }
    return NULL;
}

static void keep(slot_t *table, const unsigned char *key, long long until,
                 const unsigned char *data, apr_size_t len)
{
    slot_t *s = find(table, key);
    int i;

    for (i = 0; !s && i < SLOTS; i++) {
        if (!table[i].used) {
            s = &table[i];
        }
    }
    ck_assert_ptr_nonnull(s);
    s->used = 1;
    memcpy(s->key, key, OA2F_CACHE_KEY_LEN);
    s->until = until;
    s->data = apr_pmemdup(ut_pool, data, len);
    s->len = len;
}

static long long f_now_us(void *baton)
{
    return ((fake_t *)baton)->now_us;
}

static int f_key(void *baton, const char *token,
                 unsigned char key[OA2F_CACHE_KEY_LEN])
{
    fake_t *f = baton;

    f->keys++;
    if (f->no_cache) {
        return 0;
    }
    oa2f_cache_key(NULL, "verdict-test", token, key);
    return oa2f_cache_key_ok(key);
}

static int f_get(void *baton, const unsigned char *key, long long now,
                 int where, unsigned char **entry, apr_size_t *len,
                 int *local)
{
    fake_t *f = baton;
    slot_t *s = where == OA2F_GET_FLEET ? NULL : find(f->local, key);

    f->gets++;
    if (where == OA2F_GET_FLEET) {
        f->fleet_gets++;
    }
    if (f->cache_down) {
        *local = 0;
        return 0;
    }
    *local = s && s->until > now;
    if (!*local) {
        if (where == OA2F_GET_HERE) {
            return 0; /* this server's memory only */
        }
        s = find(f->shared, key);
        if (!s || s->until <= now) {
            return 0;
        }
    }
    *entry = apr_pmemdup(ut_pool, s->data, s->len);
    *len = s->len;
    return 1;
}

static void f_keep_local(void *baton, const unsigned char *key,
                         long long until, const unsigned char *entry,
                         apr_size_t len)
{
    fake_t *f = baton;

    f->keeps++;
    keep(f->local, key, until, entry, len);
}

static int f_put(void *baton, const unsigned char *key, long long until,
                 long long keep_until, const unsigned char *entry,
                 apr_size_t len)
{
    fake_t *f = baton;

    f->puts++;
    if (f->cache_down) {
        return 0;
    }
    f->put_until = until;
    f->put_keep = keep_until;
    ck_assert(keep_until <= until);
    if (f->put_here_only) {
        keep(f->local, key, keep_until, entry, len);
        return OA2F_PUT_HERE;
    }
    keep(f->shared, key, until, entry, len);
    keep(f->local, key, keep_until, entry, len);
    return OA2F_PUT_SHARED;
}

static oa2f_flight_role_e f_begin(void *baton, const unsigned char *key,
                                  long long now_us, long long stale_us)
{
    fake_t *f = baton;

    (void)key;
    (void)now_us;
    f->begins++;
    f->stale_us = stale_us;
    return f->role;
}

static int f_wait(void *baton, const unsigned char *key, long long deadline_us,
                  int *outcome)
{
    fake_t *f = baton;

    (void)key;
    f->deadline_us = deadline_us;
    if (f->meanwhile) {
        f->meanwhile(f);
    }
    if (f->lands) {
        *outcome = f->landed_outcome;
    }
    return f->lands;
}

static void f_end(void *baton, const unsigned char *key, int outcome)
{
    fake_t *f = baton;

    (void)key;
    f->ends++;
    f->end_outcome = outcome;
}

static void f_remote(void *baton, const char *token, oa2f_validation_t *out)
{
    fake_t *f = baton;

    (void)token;
    f->calls++;
    f->now_us += f->call_takes_us;
    *out = f->answer;
}

static void f_note(void *baton, oa2f_verdict_note_e what, apr_size_t len)
{
    fake_t *f = baton;

    if (what == OA2F_VERDICT_CORRUPT) {
        f->notes_corrupt++;
    }
    else if (what == OA2F_VERDICT_STALE_SERVED) {
        f->notes_stale++;
        f->stale_age = len;
    }
    else {
        f->notes_too_large++;
    }
}

static int f_revoked(void *baton, const unsigned char *key,
                     const oa2f_claims_t *c, long long validated_at, int local)
{
    fake_t *f = baton;
    const oa2f_field_t *sub = c ? oa2f_claims_get(c, "sub") : NULL;
    slot_t *s;

    ck_assert_ptr_nonnull(key);
    f->revoked_calls++;
    f->revoked_sub = sub ? sub->value : NULL;
    if (validated_at > f->revoked_upto) {
        return 0;
    }
    if (local && (s = find(f->local, key))) {
        s->used = 0; /* as the impl must: forget the own copy */
    }
    return 1;
}

static void f_publish(void *baton, const unsigned char *key, long long until,
                      const unsigned char *entry, apr_size_t len)
{
    fake_t *f = baton;

    f->publishes++;
    f->published.used = 1;
    memcpy(f->published.key, key, OA2F_CACHE_KEY_LEN);
    f->published.until = until;
    f->published.data = apr_pmemdup(ut_pool, entry, len);
    f->published.len = len;
}

static int f_result(void *baton, const unsigned char *key, long long now,
                    unsigned char **entry, apr_size_t *len)
{
    fake_t *f = baton;
    slot_t *s = &f->published;

    f->results++;
    if (!s->used || s->until <= now
        || memcmp(s->key, key, OA2F_CACHE_KEY_LEN)) {
        return 0;
    }
    *entry = apr_pmemdup(ut_pool, s->data, s->len);
    *len = s->len;
    return 1;
}

static void plant(fake_t *f, oa2f_claims_t *c, long long at, long long until);
static oa2f_claims_t *claims(int active, long long expires_at);

static oa2f_lock_e f_lock_take(void *baton, const unsigned char *key,
                               long long ttl_ms)
{
    fake_t *f = baton;
    int i = f->takes < f->ntakes_answer ? f->takes : f->ntakes_answer - 1;

    ck_assert_ptr_nonnull(key);
    ck_assert_int_gt(f->ntakes_answer, 0);
    f->takes++;
    f->take_ttl_ms = ttl_ms;
    if (f->entry_on_take && f->takes == 1) {
        plant(f, claims(1, T0 + 3600), T0, T0 + 3600);
    }
    return f->takes_answer[i];
}

static void f_lock_release(void *baton, const unsigned char *key)
{
    ck_assert_ptr_nonnull(key);
    ((fake_t *)baton)->releases++;
}

static void f_nap(void *baton, long long us)
{
    fake_t *f = baton;

    ck_assert(us > 0);
    f->naps++;
    f->napped_us += us;
    f->now_us += us;
    if (f->entry_after_naps && f->naps == f->entry_after_naps) {
        /* another server's verdict */
        plant(f, claims(1, T0 + 3600), f->now_us / SEC, T0 + 3600);
    }
}

static const oa2f_verdict_impl_t fake_impl = {
    f_now_us, f_key, f_get,    f_keep_local, f_put,    f_begin,
    f_wait,   f_end, f_remote, f_note,       f_revoked, f_publish,
    f_result, f_lock_take, f_lock_release, f_nap
};

/* One location: its caps, this fake, counters of its own. */
static oa2f_verdict_req_t *location(fake_t *f, int max_ttl, int negative_ttl)
{
    oa2f_verdict_req_t *vr = apr_pcalloc(ut_pool, sizeof(*vr));
    oa2f_provider_t *prov = apr_pcalloc(ut_pool, sizeof(*prov));

    prov->dialect = oa2f_dialect_find("introspection");
    prov->total_timeout_ms = 5000;
    vr->impl = &fake_impl;
    vr->baton = f;
    vr->pool = ut_pool;
    vr->stats = apr_pcalloc(ut_pool, sizeof(oa2f_stats_t));
    vr->provider = prov;
    vr->max_ttl = max_ttl;
    vr->negative_ttl = negative_ttl;
    return vr;
}

/* The provider's claims: active or not, with an expiry and a field. */
static oa2f_claims_t *claims(int active, long long expires_at)
{
    oa2f_claims_t *c = oa2f_claims_make(ut_pool);
    oa2f_field_t *fd = apr_array_push(c->fields);

    memset(fd, 0, sizeof(*fd));
    fd->name = "sub";
    fd->value = active ? "jdoe" : "nobody";
    fd->value_len = strlen(fd->value);
    c->active = active;
    c->expires_at = expires_at;
    c->raw = active ? "{\"active\":true}" : "{\"active\":false}";
    c->raw_len = strlen(c->raw);
    oa2f_claims_prepare(ut_pool, c);
    return c;
}

static void provider_says(fake_t *f, oa2f_outcome_e o, oa2f_claims_t *c)
{
    memset(&f->answer, 0, sizeof(f->answer));
    f->answer.outcome = o;
    f->answer.claims = c;
    f->answer.why = "from the provider";
    f->answer.elapsed = 0.01;
}

/* An entry of c validated at `at` in the shared cache until `until`. */
static void plant(fake_t *f, oa2f_claims_t *c, long long at, long long until)
{
    unsigned char key[OA2F_CACHE_KEY_LEN], *buf;
    apr_size_t len;

    oa2f_cache_key(NULL, "verdict-test", TOKEN, key);
    ck_assert_int_eq(oa2f_entry_encode(ut_pool, c, at, &buf, &len), 1);
    keep(f->shared, key, until, buf, len);
}

static oa2f_validation_t ask(const oa2f_verdict_req_t *vr)
{
    oa2f_validation_t v;

    memset(&v, 0xa5, sizeof(v));
    oa2f_verdict(vr, TOKEN, &v);
    return v;
}

static void at(fake_t *f, long long sec)
{
    f->now_us = sec * SEC;
}

static const char *sub_of(const oa2f_claims_t *c)
{
    const oa2f_field_t *fd = oa2f_claims_get(c, "sub");

    return fd ? fd->value : "(none)";
}

#define COUNT(vr, c) ((vr)->stats->counters[c])

/* ---- stored, and for how long ---------------------------------------- */

/* A dialect gives no why for an answer it accepts: the verdict says it
 * is a fresh answer, never NULL (the "(null)" of OA2F10006, issue 17). */
START_TEST(test_fresh_answer_has_a_why)
{
    fake_t *f = fake();
    oa2f_verdict_req_t *loc = location(f, -1, 0);
    oa2f_validation_t v;

    provider_says(f, OA2F_OK, claims(1, T0 + 3600));
    f->answer.why = NULL;
    v = ask(loc);
    ck_assert_int_eq(v.outcome, OA2F_OK);
    ck_assert_ptr_nonnull(v.why);
    ck_assert_str_eq(v.why, OA2F_WHY_FRESH);
    v = ask(loc);
    ck_assert_str_eq(v.why, "cached");
    /* without a cache too */
    loc = location(f, 0, 0);
    v = ask(loc);
    ck_assert_str_eq(v.why, OA2F_WHY_FRESH);
}
END_TEST

/* Without a cap an active verdict is kept until the token's expiry, and
 * served from there with its fields. */
START_TEST(test_hit_until_expiry)
{
    fake_t *f = fake();
    oa2f_verdict_req_t *loc = location(f, -1, 0);
    oa2f_validation_t v;

    provider_says(f, OA2F_OK, claims(1, T0 + 3600));
    v = ask(loc);
    ck_assert_int_eq(v.outcome, OA2F_OK);
    ck_assert_str_eq(v.why, "from the provider");
    ck_assert_int_eq(f->calls, 1);
    ck_assert_int_eq(f->puts, 1);
    ck_assert(f->put_until == T0 + 3600);
    ck_assert_uint_eq(COUNT(loc, OA2F_C_CACHE_MISS), 1);
    ck_assert_uint_eq(COUNT(loc, OA2F_C_CACHE_STORE), 1);
    ck_assert_uint_eq(loc->stats->provider_calls[OA2F_OK], 1);

    at(f, T0 + 3599);
    v = ask(loc);
    ck_assert_int_eq(v.outcome, OA2F_OK);
    ck_assert_str_eq(v.why, "cached");
    ck_assert_ptr_nonnull(v.claims);
    ck_assert_str_eq(sub_of(v.claims), "jdoe");
    ck_assert(v.claims->expires_at == T0 + 3600);
    ck_assert(v.elapsed == 0 && v.new_connection == 0);
    ck_assert_int_eq(f->calls, 1);
    ck_assert_uint_eq(COUNT(loc, OA2F_C_CACHE_HIT), 1);
    ck_assert_uint_eq(COUNT(loc, OA2F_C_CACHE_LOCAL_HIT), 1);

    at(f, T0 + 3600);
    v = ask(loc);
    ck_assert_int_eq(f->calls, 2);
}
END_TEST

/* README "Local JWT validation": a verdict made without a provider call
 * is stored and served like any other, and not counted as a call. */
START_TEST(test_local_verdict_cached_not_counted)
{
    fake_t *f = fake();
    oa2f_verdict_req_t *loc = location(f, -1, 0);
    oa2f_validation_t v;
    int i;

    provider_says(f, OA2F_OK, claims(1, T0 + 600));
    f->answer.local = 1;
    f->answer.elapsed = 0;
    v = ask(loc);
    ck_assert_int_eq(v.outcome, OA2F_OK);
    ck_assert_int_eq(f->puts, 1);
    ck_assert(f->put_until == T0 + 600);
    for (i = 0; i < OA2F_OUTCOME_MAX; i++) {
        ck_assert_uint_eq(loc->stats->provider_calls[i], 0);
    }
    v = ask(loc);
    ck_assert_str_eq(v.why, "cached");
    ck_assert_int_eq(f->calls, 1);
}
END_TEST

/* OAuth2FederatedCacheMaxTTL: stored until min(expiry, now + cap). */
START_TEST(test_ttl_cap)
{
    fake_t *f = fake();
    oa2f_verdict_req_t *loc = location(f, 60, 0);
    oa2f_validation_t v;

    provider_says(f, OA2F_OK, claims(1, T0 + 3600));
    ask(loc);
    ck_assert_int_eq(f->puts, 1);
    ck_assert(f->put_until == T0 + 60);
    at(f, T0 + 59);
    v = ask(loc);
    ck_assert_str_eq(v.why, "cached");
    ck_assert_int_eq(f->calls, 1);
    at(f, T0 + 60);
    v = ask(loc);
    ck_assert_str_eq(v.why, "from the provider");
    ck_assert_int_eq(f->calls, 2);
    ck_assert(f->put_until == T0 + 120);

    /* a cap beyond the expiry: the expiry */
    f = fake();
    loc = location(f, 7200, 0);
    provider_says(f, OA2F_OK, claims(1, T0 + 3600));
    ask(loc);
    ck_assert(f->put_until == T0 + 3600);
}
END_TEST

/* The cap is judged on every hit against the time of validation, so a
 * copy stored for longer (by another location, or kept locally) does not
 * outlive this location's cap; the other location still uses it. */
START_TEST(test_cap_per_location)
{
    fake_t *f = fake();
    oa2f_verdict_req_t *open = location(f, -1, 0);
    oa2f_verdict_req_t *strict = location(f, 60, 0);
    oa2f_validation_t v;

    provider_says(f, OA2F_OK, claims(1, T0 + 3600));
    ask(open);
    ck_assert(f->put_until == T0 + 3600);

    at(f, T0 + 30);
    v = ask(strict);
    ck_assert_str_eq(v.why, "cached");
    ck_assert_int_eq(f->calls, 1);

    at(f, T0 + 100);
    v = ask(open);
    ck_assert_str_eq(v.why, "cached");
    ck_assert_int_eq(f->calls, 1);
    v = ask(strict);
    ck_assert_str_eq(v.why, "from the provider");
    ck_assert_int_eq(f->calls, 2);
    ck_assert_uint_eq(COUNT(strict, OA2F_C_CACHE_MISS), 1);
    ck_assert(f->put_until == T0 + 160);

    /* what the strict location stored is the newer validation */
    v = ask(open);
    ck_assert_str_eq(v.why, "cached");
    ck_assert_int_eq(f->calls, 2);
}
END_TEST

/* A hit from the shared cache is kept in this process's copy for as long
 * as this location may serve it, and not longer. */
START_TEST(test_keep_local_bounded)
{
    fake_t *f = fake();
    oa2f_verdict_req_t *loc = location(f, 60, 0);
    oa2f_validation_t v;

    plant(f, claims(1, T0 + 3600), T0 - 10, T0 + 3600);
    v = ask(loc);
    ck_assert_str_eq(v.why, "cached");
    ck_assert_int_eq(f->keeps, 1);
    ck_assert(f->local[0].until == T0 + 50);
    ck_assert_uint_eq(COUNT(loc, OA2F_C_CACHE_LOCAL_HIT), 0);
    v = ask(loc);
    ck_assert_int_eq(f->keeps, 1);
    ck_assert_uint_eq(COUNT(loc, OA2F_C_CACHE_LOCAL_HIT), 1);
    ck_assert_uint_eq(COUNT(loc, OA2F_C_CACHE_HIT), 2);
    ck_assert_int_eq(f->calls, 0);
}
END_TEST

/* An entry whose prepared members had to be mended (not written by this
 * module: a shown value with a CR LF) is served as mended, and never
 * kept in the own copy, whose decoding trusts those members. */
START_TEST(test_mended_not_kept_local)
{
    fake_t *f = fake();
    oa2f_verdict_req_t *loc = location(f, 60, 0);
    oa2f_claims_t *c = claims(1, T0 + 3600);
    oa2f_validation_t v;

    APR_ARRAY_IDX(c->fields, 0, oa2f_field_t).shown = "jdoe\r\nX-Evil: 1";
    plant(f, c, T0 - 10, T0 + 3600);
    v = ask(loc);
    ck_assert_str_eq(v.why, "cached");
    ck_assert_str_eq(APR_ARRAY_IDX(v.claims->fields, 0, oa2f_field_t).shown,
                     "jdoe");
    ck_assert_int_eq(f->keeps, 0);
    v = ask(loc);
    ck_assert_int_eq(f->keeps, 0);
    ck_assert_uint_eq(COUNT(loc, OA2F_C_CACHE_LOCAL_HIT), 0);
    ck_assert_uint_eq(COUNT(loc, OA2F_C_CACHE_HIT), 2);

    /* the clean entry is kept */
    plant(f, claims(1, T0 + 3600), T0 - 10, T0 + 3600);
    ask(loc);
    ck_assert_int_eq(f->keeps, 1);
    ck_assert_int_eq(f->calls, 0);
}
END_TEST

/* OAuth2FederatedNegativeCacheTTL: a definite "not active" is kept that
 * long and no longer; without it, or for a location with a shorter one,
 * the provider is asked again. */
START_TEST(test_negative_ttl)
{
    fake_t *f = fake();
    oa2f_verdict_req_t *loc = location(f, -1, 30);
    oa2f_verdict_req_t *brief = location(f, -1, 10);
    oa2f_verdict_req_t *never = location(f, -1, 0);
    oa2f_validation_t v;

    provider_says(f, OA2F_INACTIVE, claims(0, 0));
    v = ask(loc);
    ck_assert_int_eq(v.outcome, OA2F_INACTIVE);
    ck_assert_int_eq(f->puts, 1);
    ck_assert(f->put_until == T0 + 30);

    at(f, T0 + 9);
    v = ask(brief);
    ck_assert_int_eq(v.outcome, OA2F_INACTIVE);
    ck_assert_str_eq(v.why,
                     "cached: the provider said the token is not active");
    ck_assert_ptr_null(v.claims);
    ck_assert_uint_eq(COUNT(brief, OA2F_C_CACHE_NEG_HIT), 1);
    ck_assert_int_eq(f->calls, 1);

    at(f, T0 + 10);
    v = ask(never);
    ck_assert_str_eq(v.why, "from the provider");
    ck_assert_int_eq(f->calls, 2);
    ck_assert_int_eq(f->puts, 1); /* NegativeCacheTTL 0: not stored */
    v = ask(brief);
    ck_assert_str_eq(v.why, "from the provider");
    ck_assert_int_eq(f->calls, 3);
    ck_assert(f->put_until == T0 + 20);

    /* the newer entry, validated at T0 + 10, kept for 10 s */
    at(f, T0 + 19);
    v = ask(loc);
    ck_assert_str_eq(v.why,
                     "cached: the provider said the token is not active");
    ck_assert_int_eq(f->calls, 3);
    at(f, T0 + 20);
    v = ask(loc);
    ck_assert_str_eq(v.why, "from the provider");
    ck_assert_int_eq(f->calls, 4);
    ck_assert(f->put_until == T0 + 50);
}
END_TEST

/* An answer without any expiry is served but not stored. */
START_TEST(test_no_expiry_not_stored)
{
    fake_t *f = fake();
    oa2f_verdict_req_t *loc = location(f, 60, 30);
    oa2f_validation_t v;

    provider_says(f, OA2F_OK, claims(1, 0));
    v = ask(loc);
    ck_assert_int_eq(v.outcome, OA2F_OK);
    ck_assert_int_eq(f->puts, 0);
    ck_assert_uint_eq(COUNT(loc, OA2F_C_CACHE_STORE), 0);
    v = ask(loc);
    ck_assert_int_eq(v.outcome, OA2F_OK);
    ck_assert_int_eq(f->calls, 2);
}
END_TEST

/* Outages, unusable answers and refusals are never stored, whatever the
 * caps; nor a "not active" without claims. */
START_TEST(test_failures_not_stored)
{
    static const oa2f_outcome_e failures[] = { OA2F_UNREACHABLE,
                                               OA2F_BAD_ANSWER, OA2F_REJECTED,
                                               OA2F_INTERNAL, OA2F_INACTIVE };
    fake_t *f = fake();
    oa2f_verdict_req_t *loc = location(f, 3600, 3600);
    int i;

    for (i = 0; i < UT_N(failures); i++) {
        provider_says(f, failures[i], NULL);
        ck_assert_int_eq(ask(loc).outcome, failures[i]);
        ck_assert_int_eq(ask(loc).outcome, failures[i]);
        ck_assert_int_eq(f->calls, 2 * (i + 1));
        ck_assert_uint_eq(loc->stats->provider_calls[failures[i]], 2);
    }
    ck_assert_int_eq(f->puts, 0);
}
END_TEST

/* An answer too large for an entry is served, counted, not stored. */
START_TEST(test_too_large_not_stored)
{
    fake_t *f = fake();
    oa2f_verdict_req_t *loc = location(f, -1, 0);
    oa2f_claims_t *c = claims(1, T0 + 3600);
    char *big = apr_palloc(ut_pool, OA2F_CACHE_MAX_ENTRY + 1);

    memset(big, 'x', OA2F_CACHE_MAX_ENTRY);
    big[OA2F_CACHE_MAX_ENTRY] = '\0';
    c->raw = big;
    c->raw_len = OA2F_CACHE_MAX_ENTRY;
    c->shown_raw = big;
    provider_says(f, OA2F_OK, c);
    ck_assert_int_eq(ask(loc).outcome, OA2F_OK);
    ck_assert_int_eq(f->puts, 0);
    ck_assert_int_eq(f->notes_too_large, 1);
    ck_assert_uint_eq(COUNT(loc, OA2F_C_CACHE_NOT_STORED), 1);
}
END_TEST

/* ---- the token's expiry ------------------------------------------------ */

/* An entry whose token has expired is refused even while the cache
 * still holds it (a back end that keeps it longer, another writer). */
START_TEST(test_expired_entry_refused)
{
    fake_t *f = fake();
    oa2f_verdict_req_t *loc = location(f, -1, 0);
    oa2f_validation_t v;

    plant(f, claims(1, T0 + 100), T0, T0 + 1000);
    at(f, T0 + 99);
    v = ask(loc);
    ck_assert_int_eq(v.outcome, OA2F_OK);
    at(f, T0 + 100);
    v = ask(loc);
    ck_assert_int_eq(v.outcome, OA2F_EXPIRED);
    ck_assert_str_eq(v.why, "cached, but the token's expiry has passed");
    at(f, T0 + 500);
    ck_assert_int_eq(ask(loc).outcome, OA2F_EXPIRED);
    ck_assert_int_eq(f->calls, 0);
    ck_assert_uint_eq(COUNT(loc, OA2F_C_CACHE_HIT), 3);
}
END_TEST

/* An active answer whose expiry has passed when it lands is a 401 and
 * is not stored; the expiry is judged after the call, not before. */
START_TEST(test_expired_answer)
{
    fake_t *f = fake();
    oa2f_verdict_req_t *loc = location(f, -1, 30);
    oa2f_validation_t v;

    provider_says(f, OA2F_OK, claims(1, T0));
    v = ask(loc);
    ck_assert_int_eq(v.outcome, OA2F_EXPIRED);
    ck_assert_str_eq(v.why, "introspection: the token's expiry has passed");
    ck_assert_uint_eq(loc->stats->provider_calls[OA2F_EXPIRED], 1);
    ck_assert_uint_eq(loc->stats->provider_calls[OA2F_OK], 0);

    provider_says(f, OA2F_OK, claims(1, T0 + 2));
    f->call_takes_us = 3 * SEC;
    v = ask(loc);
    ck_assert_int_eq(v.outcome, OA2F_EXPIRED);
    ck_assert_int_eq(f->puts, 0);

    /* no call at all without the cache: the same rule */
    loc = location(f, 0, 0);
    provider_says(f, OA2F_OK, claims(1, T0 - 1));
    ck_assert_int_eq(ask(loc).outcome, OA2F_EXPIRED);
}
END_TEST

/* ---- what the cache holds ---------------------------------------------- */

/* An entry that does not decode is a miss: counted, noted, asked, and
 * replaced by the fresh answer. */
START_TEST(test_corrupt_entry_is_miss)
{
    static const unsigned char junk[] = "OA2F\x02\x01 not an entry at all";
    fake_t *f = fake();
    oa2f_verdict_req_t *loc = location(f, -1, 0);
    unsigned char key[OA2F_CACHE_KEY_LEN];
    oa2f_validation_t v;
    slot_t *s;

    oa2f_cache_key(NULL, "verdict-test", TOKEN, key);
    keep(f->shared, key, T0 + 3600, junk, sizeof(junk));
    provider_says(f, OA2F_OK, claims(1, T0 + 3600));
    v = ask(loc);
    ck_assert_str_eq(v.why, "from the provider");
    ck_assert_int_eq(f->calls, 1);
    ck_assert_int_eq(f->notes_corrupt, 1);
    ck_assert_int_eq(f->keeps, 0);
    ck_assert_uint_eq(COUNT(loc, OA2F_C_CACHE_CORRUPT), 1);
    ck_assert_uint_eq(COUNT(loc, OA2F_C_CACHE_MISS), 1);
    ck_assert_int_eq(f->puts, 1);
    ck_assert_str_eq(ask(loc).why, "cached");

    /* a good entry with one byte changed */
    f = fake();
    loc = location(f, -1, 0);
    plant(f, claims(1, T0 + 3600), T0, T0 + 3600);
    s = find(f->shared, key);
    s->data[s->len / 2] ^= 0x01;
    provider_says(f, OA2F_OK, claims(1, T0 + 3600));
    ck_assert_str_eq(ask(loc).why, "from the provider");
    ck_assert_uint_eq(COUNT(loc, OA2F_C_CACHE_CORRUPT), 1);
}
END_TEST

/* OAuth2FederatedCacheMaxTTL 0, or no cache at all: every request asks,
 * the cache is not touched. */
START_TEST(test_no_cache)
{
    fake_t *f = fake();
    oa2f_verdict_req_t *loc = location(f, 0, 30);

    provider_says(f, OA2F_OK, claims(1, T0 + 3600));
    ask(loc);
    ask(loc);
    ck_assert_int_eq(f->calls, 2);
    ck_assert_int_eq(f->keys + f->gets + f->puts + f->begins, 0);

    loc = location(f, -1, 30);
    f->no_cache = 1;
    ask(loc);
    ck_assert_int_eq(f->calls, 3);
    ck_assert_int_eq(f->keys, 1);
    ck_assert_int_eq(f->gets + f->puts + f->begins, 0);
    ck_assert_uint_eq(COUNT(loc, OA2F_C_CACHE_MISS), 0);
}
END_TEST

/* ---- the fleet lock (README "Cache") ---------------------------------- */

static oa2f_verdict_req_t *fleet(fake_t *f, int nanswers,
                                 const oa2f_lock_e *answers)
{
    oa2f_verdict_req_t *loc = location(f, -1, 0);
    int i;

    loc->fleet_lock = 1;
    for (i = 0; i < nanswers; i++) {
        f->takes_answer[i] = answers[i];
    }
    f->ntakes_answer = nanswers;
    f->role = OA2F_FLIGHT_LEADER;
    provider_says(f, OA2F_OK, claims(1, T0 + 3600));
    return loc;
}

/* Taken: this server asks and stores, with no second lookup; a verdict
 * that outlives the lock (total timeout and a second) leaves it to
 * expire, unreleased, so that a server that missed before the store
 * finds it taken and reads the verdict (README "Cache"). */
START_TEST(test_lock_taken)
{
    static const oa2f_lock_e a[] = { OA2F_LOCK_TAKEN };
    fake_t *f = fake();
    oa2f_verdict_req_t *loc = fleet(f, 1, a);

    ck_assert_int_eq(ask(loc).outcome, OA2F_OK);
    ck_assert_int_eq(f->calls, 1);
    ck_assert_int_eq(f->gets, 1);
    ck_assert_int_eq(f->puts, 1);
    ck_assert_int_eq(f->takes, 1);
    ck_assert(f->take_ttl_ms == 6000);
    ck_assert_int_eq(f->releases, 0);
    ck_assert_int_eq(f->naps, 0);
    ck_assert_int_eq(f->ends, 1);
    ck_assert_uint_eq(COUNT(loc, OA2F_C_FLEET_LOCK_ACQUIRED), 1);
    ck_assert_uint_eq(COUNT(loc, OA2F_C_FLEET_LOCK_WAITS), 0);

    /* a failure is released at once */
    f = fake();
    loc = fleet(f, 1, a);
    provider_says(f, OA2F_UNREACHABLE, NULL);
    ck_assert_int_eq(ask(loc).outcome, OA2F_UNREACHABLE);
    ck_assert_int_eq(f->releases, 1);

    /* so is a verdict that ends before the lock would (expiry in 6 s) */
    f = fake();
    loc = fleet(f, 1, a);
    provider_says(f, OA2F_OK, claims(1, T0 + 6));
    ck_assert_int_eq(ask(loc).outcome, OA2F_OK);
    ck_assert_int_eq(f->puts, 1);
    ck_assert_int_eq(f->releases, 1);
    f = fake();
    loc = fleet(f, 1, a);
    provider_says(f, OA2F_OK, claims(1, T0 + 7));
    ask(loc);
    ck_assert_int_eq(f->releases, 0);

    /* and one that only this server's memory took (the fleet cache
     * refused it): the other servers cannot read it */
    f = fake();
    loc = fleet(f, 1, a);
    f->put_here_only = 1;
    ck_assert_int_eq(ask(loc).outcome, OA2F_OK);
    ck_assert_int_eq(f->releases, 1);

    /* and one not stored at all (no expiry) */
    f = fake();
    loc = fleet(f, 1, a);
    provider_says(f, OA2F_OK, claims(1, 0));
    ck_assert_int_eq(ask(loc).outcome, OA2F_OK);
    ck_assert_int_eq(f->puts, 0);
    ck_assert_int_eq(f->releases, 1);
}
END_TEST

/* Taken: the fleet cache is not looked up again after the take, even
 * when another server's verdict landed in between (its holder released
 * a short-lived verdict): one more call, never a wrong answer. */
START_TEST(test_lock_taken_no_second_lookup)
{
    static const oa2f_lock_e a[] = { OA2F_LOCK_TAKEN };
    fake_t *f = fake();
    oa2f_verdict_req_t *loc = fleet(f, 1, a);

    f->entry_on_take = 1;
    ck_assert_int_eq(ask(loc).outcome, OA2F_OK);
    ck_assert_int_eq(f->takes, 1);
    ck_assert_int_eq(f->gets, 1);
    ck_assert_int_eq(f->calls, 1);
    ck_assert_int_eq(f->releases, 0);
    ck_assert_uint_eq(COUNT(loc, OA2F_C_FLEET_LOCK_ACQUIRED), 1);
}
END_TEST

/* Busy, and the holder's verdict is there but not for this request (a
 * revocation rule covers it): stop waiting at once and ask, without the
 * lock -- it was left to expire and would hold the wait to its end. */
START_TEST(test_lock_wait_unservable)
{
    static const oa2f_lock_e a[] = { OA2F_LOCK_BUSY };
    fake_t *f = fake();
    oa2f_verdict_req_t *loc = fleet(f, 1, a);

    f->entry_after_naps = 2;
    f->revoked_upto = T0 + 3600;
    provider_says(f, OA2F_INACTIVE, claims(0, 0));
    ck_assert_int_eq(ask(loc).outcome, OA2F_INACTIVE);
    ck_assert_int_eq(f->naps, 2);
    ck_assert_int_eq(f->calls, 1);
    ck_assert_int_eq(f->takes, 2);
    ck_assert_int_eq(f->releases, 0);
    ck_assert_uint_eq(COUNT(loc, OA2F_C_FLEET_LOCK_TIMEOUTS), 0);
    ck_assert_uint_eq(COUNT(loc, OA2F_C_FLEET_LOCK_WAIT_HITS), 0);
}
END_TEST

/* Busy: poll with a bounded back-off until another server's verdict is
 * in the fleet cache; no call, no release. */
START_TEST(test_lock_wait_verdict)
{
    static const oa2f_lock_e a[] = { OA2F_LOCK_BUSY };
    fake_t *f = fake();
    oa2f_verdict_req_t *loc = fleet(f, 1, a);
    oa2f_validation_t v;

    f->entry_after_naps = 4;
    v = ask(loc);
    ck_assert_int_eq(v.outcome, OA2F_OK);
    ck_assert_str_eq(sub_of(v.claims), "jdoe");
    ck_assert_int_eq(f->calls, 0);
    ck_assert_int_eq(f->naps, 4);
    /* 10 + 20 + 40 + 80 ms */
    ck_assert(f->napped_us == 150000);
    ck_assert_int_eq(f->takes, 4); /* the first, and after naps 1..3 */
    ck_assert_int_eq(f->releases, 0);
    ck_assert_int_eq(f->ends, 1);
    ck_assert_uint_eq(COUNT(loc, OA2F_C_FLEET_LOCK_WAITS), 1);
    ck_assert_uint_eq(COUNT(loc, OA2F_C_FLEET_LOCK_WAIT_HITS), 1);
    ck_assert_uint_eq(COUNT(loc, OA2F_C_FLEET_LOCK_ACQUIRED), 0);
}
END_TEST

/* Busy until the lock's expiry has passed: then ask anyway, exactly
 * once the expiry is over, never longer. */
START_TEST(test_lock_wait_gives_up)
{
    static const oa2f_lock_e a[] = { OA2F_LOCK_BUSY };
    fake_t *f = fake();
    oa2f_verdict_req_t *loc = fleet(f, 1, a);

    ck_assert_int_eq(ask(loc).outcome, OA2F_OK);
    ck_assert_int_eq(f->calls, 1);
    ck_assert(f->napped_us == 6000 * 1000LL);
    ck_assert_int_le(f->naps, 40);
    ck_assert_int_eq(f->releases, 0);
    ck_assert_int_eq(f->puts, 1);
    ck_assert_uint_eq(COUNT(loc, OA2F_C_FLEET_LOCK_TIMEOUTS), 1);
    ck_assert_uint_eq(COUNT(loc, OA2F_C_FLEET_LOCK_ACQUIRED), 0);
}
END_TEST

/* The lock vanishes without a verdict (its holder failed, or died and
 * the lock expired): the waiter takes it and asks; its stored verdict
 * then guards the lock, which is left to expire. */
START_TEST(test_lock_vanishes)
{
    static const oa2f_lock_e a[] = { OA2F_LOCK_BUSY, OA2F_LOCK_BUSY,
                                     OA2F_LOCK_TAKEN };
    fake_t *f = fake();
    oa2f_verdict_req_t *loc = fleet(f, UT_N(a), a);

    ck_assert_int_eq(ask(loc).outcome, OA2F_OK);
    ck_assert_int_eq(f->calls, 1);
    ck_assert_int_eq(f->takes, 3);
    ck_assert_int_eq(f->naps, 2);
    ck_assert_int_eq(f->releases, 0);
    ck_assert_uint_eq(COUNT(loc, OA2F_C_FLEET_LOCK_WAITS), 1);
    ck_assert_uint_eq(COUNT(loc, OA2F_C_FLEET_LOCK_ACQUIRED), 1);
    ck_assert_uint_eq(COUNT(loc, OA2F_C_FLEET_LOCK_TIMEOUTS), 0);

    /* the fleet cache goes down while waiting: ask at once */
    {
        static const oa2f_lock_e b[] = { OA2F_LOCK_BUSY, OA2F_LOCK_NONE };

        f = fake();
        loc = fleet(f, UT_N(b), b);
        ck_assert_int_eq(ask(loc).outcome, OA2F_OK);
        ck_assert_int_eq(f->calls, 1);
        ck_assert_int_eq(f->naps, 1);
        ck_assert_int_eq(f->releases, 0);
    }
}
END_TEST

/* No lock to be had (the fleet cache is down), or no fleet: ask at once;
 * the local flight still makes it one call for this server. */
START_TEST(test_lock_none)
{
    static const oa2f_lock_e a[] = { OA2F_LOCK_NONE };
    fake_t *f = fake();
    oa2f_verdict_req_t *loc = fleet(f, 1, a);

    ck_assert_int_eq(ask(loc).outcome, OA2F_OK);
    ck_assert_int_eq(f->calls, 1);
    ck_assert_int_eq(f->takes, 1);
    ck_assert_int_eq(f->naps, 0);
    ck_assert_int_eq(f->releases, 0);
    ck_assert_int_eq(f->ends, 1);

    f = fake();
    loc = fleet(f, 1, a);
    loc->fleet_lock = 0;
    ck_assert_int_eq(ask(loc).outcome, OA2F_OK);
    ck_assert_int_eq(f->takes, 0);
}
END_TEST

/* With the fleet lock, a follower also waits for its leader's wait for
 * the lock: the total timeout, a second, and the lock's expiry. */
START_TEST(test_lock_follower_waits_longer)
{
    fake_t *f = fake();
    oa2f_verdict_req_t *loc = location(f, -1, 0);

    loc->fleet_lock = 1;
    f->role = OA2F_FLIGHT_FOLLOWER;
    f->lands = 1;
    f->landed_outcome = OA2F_UNREACHABLE;
    ck_assert_int_eq(ask(loc).outcome, OA2F_UNREACHABLE);
    ck_assert(f->stale_us == 12 * SEC);
    ck_assert(f->deadline_us == T0 * SEC + 12 * SEC);
}
END_TEST

/* ---- single-flight ----------------------------------------------------- */

/* A leader hands its followers what it stores, in this server's own
 * memory, whether or not the cache took it (the cache is down here); not
 * what is not stored (no expiry, a failure). */
START_TEST(test_leader_publishes)
{
    fake_t *f = fake();
    oa2f_verdict_req_t *loc = location(f, 60, 0);

    f->role = OA2F_FLIGHT_LEADER;
    f->cache_down = 1;
    provider_says(f, OA2F_OK, claims(1, T0 + 3600));
    ck_assert_int_eq(ask(loc).outcome, OA2F_OK);
    ck_assert_int_eq(f->publishes, 1);
    ck_assert_uint_eq(COUNT(loc, OA2F_C_CACHE_STORE), 0);
    /* for as long as this location keeps it fresh */
    ck_assert(f->published.until == T0 + 60);

    provider_says(f, OA2F_OK, claims(1, 0));
    ask(loc);
    provider_says(f, OA2F_UNREACHABLE, NULL);
    ask(loc);
    provider_says(f, OA2F_INACTIVE, claims(0, 0));
    ask(loc);
    ck_assert_int_eq(f->publishes, 1);

    /* ALONE (another key's slot): nobody follows, nothing published */
    f->role = OA2F_FLIGHT_ALONE;
    provider_says(f, OA2F_OK, claims(1, T0 + 3600));
    ask(loc);
    ck_assert_int_eq(f->publishes, 1);
}
END_TEST

static void leader_publishes_active(fake_t *f)
{
    unsigned char key[OA2F_CACHE_KEY_LEN], *buf;
    apr_size_t len;

    oa2f_cache_key(NULL, "verdict-test", TOKEN, key);
    ck_assert_int_eq(
        oa2f_entry_encode(ut_pool, claims(1, T0 + 3600), T0, &buf, &len), 1);
    f_publish(f, key, T0 + 3600, buf, len);
    f->now_us += SEC / 2;
}

/* The cache is down: a follower gets its leader's verdict from this
 * server's memory, judged as an entry of the cache; a shared failure of
 * this flight, a revoked or stale verdict, or none: as before. */
START_TEST(test_follower_gets_leaders_verdict)
{
    fake_t *f = fake();
    oa2f_verdict_req_t *loc = location(f, -1, 0);
    oa2f_validation_t v;

    f->role = OA2F_FLIGHT_FOLLOWER;
    f->cache_down = 1;
    f->lands = 1;
    f->landed_outcome = OA2F_OK;
    f->meanwhile = leader_publishes_active;
    provider_says(f, OA2F_OK, claims(1, T0 + 3600));
    v = ask(loc);
    ck_assert_int_eq(v.outcome, OA2F_OK);
    ck_assert_str_eq(sub_of(v.claims), "jdoe");
    ck_assert_int_eq(f->calls, 0);
    ck_assert_uint_eq(COUNT(loc, OA2F_C_COALESCED_SHARED), 1);

    /* this flight's failure wins over what an earlier one published */
    f->landed_outcome = OA2F_UNREACHABLE;
    ck_assert_int_eq(ask(loc).outcome, OA2F_UNREACHABLE);
    ck_assert_int_eq(f->calls, 0);

    /* revoked: no verdict at all, the follower asks */
    f->landed_outcome = OA2F_OK;
    f->revoked_upto = T0;
    ck_assert_int_eq(ask(loc).outcome, OA2F_OK);
    ck_assert_int_eq(f->calls, 1);
    f->revoked_upto = 0;

    /* stale for a location whose cap is shorter than its age */
    loc = location(f, 1, 0);
    at(f, T0 + 5);
    ck_assert_int_eq(ask(loc).outcome, OA2F_OK);
    ck_assert_int_eq(f->calls, 2);

    /* nothing published (another key): asks */
    f = fake();
    loc = location(f, -1, 0);
    f->role = OA2F_FLIGHT_FOLLOWER;
    f->cache_down = 1;
    f->lands = 1;
    f->landed_outcome = OA2F_OK;
    provider_says(f, OA2F_OK, claims(1, T0 + 3600));
    ck_assert_int_eq(ask(loc).outcome, OA2F_OK);
    ck_assert_int_eq(f->calls, 1);
    ck_assert_uint_eq(COUNT(loc, OA2F_C_COALESCED_SHARED), 0);
}
END_TEST

/* A leader lands its flight with the outcome it answers. */
START_TEST(test_leader_lands)
{
    fake_t *f = fake();
    oa2f_verdict_req_t *loc = location(f, -1, 0);

    f->role = OA2F_FLIGHT_LEADER;
    provider_says(f, OA2F_UNREACHABLE, NULL);
    ck_assert_int_eq(ask(loc).outcome, OA2F_UNREACHABLE);
    ck_assert_int_eq(f->ends, 1);
    ck_assert_int_eq(f->end_outcome, OA2F_UNREACHABLE);
    /* a leader older than the provider's timeout and a second is dead */
    ck_assert(f->stale_us == 6 * SEC);

    provider_says(f, OA2F_OK, claims(1, T0 - 5));
    ck_assert_int_eq(ask(loc).outcome, OA2F_EXPIRED);
    ck_assert_int_eq(f->end_outcome, OA2F_EXPIRED);

    f->role = OA2F_FLIGHT_ALONE;
    ask(loc);
    ck_assert_int_eq(f->ends, 2);
}
END_TEST

/* A follower shares the leader's failure instead of calling. */
START_TEST(test_follower_shares_failure)
{
    static const oa2f_outcome_e failures[] = {
        OA2F_INACTIVE,   OA2F_EXPIRED,  OA2F_UNREACHABLE,
        OA2F_BAD_ANSWER, OA2F_REJECTED, OA2F_INTERNAL
    };
    int i;

    for (i = 0; i < UT_N(failures); i++) {
        fake_t *f = fake();
        oa2f_verdict_req_t *loc = location(f, -1, 0);
        oa2f_validation_t v;

        f->role = OA2F_FLIGHT_FOLLOWER;
        f->lands = 1;
        f->landed_outcome = failures[i];
        provider_says(f, OA2F_OK, claims(1, T0 + 3600));
        v = ask(loc);
        ck_assert_int_eq(v.outcome, failures[i]);
        ck_assert_str_eq(v.why,
                         apr_pstrcat(ut_pool,
                                     "same as the concurrent "
                                     "call for this token: ",
                                     oa2f_outcome_name(failures[i]), NULL));
        ck_assert_ptr_null(v.claims);
        ck_assert_int_eq(f->calls, 0);
        ck_assert_int_eq(f->ends, 0);
        ck_assert(f->deadline_us == T0 * SEC + 6 * SEC);
        ck_assert_uint_eq(COUNT(loc, OA2F_C_COALESCED), 1);
    }
}
END_TEST

static void leader_stores_active(fake_t *f)
{
    plant(f, claims(1, T0 + 3600), T0, T0 + 3600);
    f->now_us += SEC / 2;
}

static void leader_stores_inactive(fake_t *f)
{
    plant(f, claims(0, 0), T0, T0 + 30);
}

/* A follower whose leader stored its answer reads it from the cache. */
START_TEST(test_follower_reads_entry)
{
    fake_t *f = fake();
    oa2f_verdict_req_t *loc = location(f, -1, 30);
    oa2f_validation_t v;

    f->role = OA2F_FLIGHT_FOLLOWER;
    f->lands = 1;
    f->landed_outcome = OA2F_OK;
    f->meanwhile = leader_stores_active;
    v = ask(loc);
    ck_assert_int_eq(v.outcome, OA2F_OK);
    ck_assert_str_eq(v.why, "cached");
    ck_assert_str_eq(sub_of(v.claims), "jdoe");
    ck_assert_int_eq(f->calls, 0);
    ck_assert_uint_eq(COUNT(loc, OA2F_C_CACHE_MISS), 1);
    ck_assert_uint_eq(COUNT(loc, OA2F_C_CACHE_HIT), 0);

    f = fake();
    loc = location(f, -1, 30);
    f->role = OA2F_FLIGHT_FOLLOWER;
    f->lands = 1;
    f->landed_outcome = OA2F_INACTIVE;
    f->meanwhile = leader_stores_inactive;
    v = ask(loc);
    ck_assert_int_eq(v.outcome, OA2F_INACTIVE);
    ck_assert_str_eq(v.why, "the provider said the token is not active");
    ck_assert_int_eq(f->calls, 0);
}
END_TEST

/* A success that was not stored (no expiry), an outcome another landing
 * overwrote, or a wait in vain: the follower asks on its own, and leads
 * no flight. */
START_TEST(test_follower_asks_itself)
{
    static const int landed[] = { OA2F_OK, -1 };
    int i;

    for (i = 0; i < UT_N(landed); i++) {
        fake_t *f = fake();
        oa2f_verdict_req_t *loc = location(f, -1, 0);

        f->role = OA2F_FLIGHT_FOLLOWER;
        f->lands = 1;
        f->landed_outcome = landed[i];
        provider_says(f, OA2F_OK, claims(1, T0 + 3600));
        ck_assert_str_eq(ask(loc).why, "from the provider");
        ck_assert_int_eq(f->calls, 1);
        ck_assert_int_eq(f->ends, 0);
        ck_assert_int_eq(f->puts, 1);
        ck_assert_uint_eq(COUNT(loc, OA2F_C_COALESCED_TIMEOUT), 0);
    }

    {
        fake_t *f = fake();
        oa2f_verdict_req_t *loc = location(f, -1, 0);

        f->role = OA2F_FLIGHT_FOLLOWER;
        f->lands = 0;
        provider_says(f, OA2F_UNREACHABLE, NULL);
        ck_assert_int_eq(ask(loc).outcome, OA2F_UNREACHABLE);
        ck_assert_str_eq(ask(loc).why, "from the provider");
        ck_assert_int_eq(f->calls, 2);
        ck_assert_int_eq(f->ends, 0);
        ck_assert_uint_eq(COUNT(loc, OA2F_C_COALESCED), 2);
        ck_assert_uint_eq(COUNT(loc, OA2F_C_COALESCED_TIMEOUT), 2);
    }
}
END_TEST

/* ---- stale-if-error (README "Outages") ------------------------------- */

/* A location with OAuth2FederatedStaleIfError. */
static oa2f_verdict_req_t *stale_location(fake_t *f, int max_ttl,
                                          int negative_ttl, int stale)
{
    oa2f_verdict_req_t *vr = location(f, max_ttl, negative_ttl);

    vr->stale_if_error = stale;
    return vr;
}

static const char *stale_why(long long age, const char *failure,
                             const char *detail)
{
    return apr_psprintf(ut_pool,
                        "served stale, validated %" APR_INT64_T_FMT
                        " s ago, because the provider failed: %s (%s)",
                        (apr_int64_t)age, failure, detail);
}

/* The shared entry outlives the reuse time by exactly StaleIfError, never
 * the token; this process's copy keeps only the fresh time; nothing is
 * extended without a cap, without StaleIfError, or for "not active". */
START_TEST(test_stale_store_time)
{
    fake_t *f = fake();
    oa2f_verdict_req_t *loc = stale_location(f, 60, 0, 30);

    provider_says(f, OA2F_OK, claims(1, T0 + 3600));
    ask(loc);
    ck_assert(f->put_until == T0 + 90);
    ck_assert(f->put_keep == T0 + 60);
    ck_assert(f->local[0].until == T0 + 60);
    ck_assert(f->shared[0].until == T0 + 90);

    /* the token's expiry first */
    f = fake();
    loc = stale_location(f, 60, 0, 30);
    provider_says(f, OA2F_OK, claims(1, T0 + 70));
    ask(loc);
    ck_assert(f->put_until == T0 + 70);
    ck_assert(f->put_keep == T0 + 60);
    f = fake();
    loc = stale_location(f, 60, 0, 30);
    provider_says(f, OA2F_OK, claims(1, T0 + 50));
    ask(loc);
    ck_assert(f->put_until == T0 + 50);
    ck_assert(f->put_keep == T0 + 50);

    /* reuse until the expiry: nothing to extend */
    f = fake();
    loc = stale_location(f, -1, 0, 30);
    provider_says(f, OA2F_OK, claims(1, T0 + 3600));
    ask(loc);
    ck_assert(f->put_until == T0 + 3600);
    ck_assert(f->put_keep == T0 + 3600);

    /* StaleIfError 0: as before */
    f = fake();
    loc = stale_location(f, 60, 0, 0);
    provider_says(f, OA2F_OK, claims(1, T0 + 3600));
    ask(loc);
    ck_assert(f->put_until == T0 + 60);
    ck_assert(f->put_keep == T0 + 60);

    /* a "not active" verdict is kept for NegativeCacheTTL only */
    f = fake();
    loc = stale_location(f, 60, 10, 30);
    provider_says(f, OA2F_INACTIVE, claims(0, 0));
    ask(loc);
    ck_assert(f->put_until == T0 + 10);
    ck_assert(f->put_keep == T0 + 10);

    /* counted from the start of the call, the validation time: a
     * revocation rule made while the call ran covers the verdict */
    f = fake();
    loc = stale_location(f, 60, 0, 30);
    f->call_takes_us = 2 * SEC;
    provider_says(f, OA2F_OK, claims(1, T0 + 3600));
    ask(loc);
    ck_assert(f->put_until == T0 + 90);
    ck_assert(f->put_keep == T0 + 60);
}
END_TEST

/* Served while the reuse time ran out less than StaleIfError ago: with
 * its claims, counted, noted with its age; not at the window's end; an
 * answer from the provider as soon as it answers again. */
START_TEST(test_stale_window)
{
    fake_t *f = fake();
    oa2f_verdict_req_t *loc = stale_location(f, 10, 0, 20);
    oa2f_validation_t v;

    provider_says(f, OA2F_OK, claims(1, T0 + 3600));
    ask(loc);
    provider_says(f, OA2F_UNREACHABLE, NULL);
    at(f, T0 + 9);
    v = ask(loc);
    ck_assert_str_eq(v.why, "cached");
    ck_assert_int_eq(f->calls, 1);

    at(f, T0 + 10);
    v = ask(loc);
    ck_assert_int_eq(v.outcome, OA2F_OK);
    ck_assert_str_eq(v.why, stale_why(10, "unreachable", "from the provider"));
    ck_assert_ptr_nonnull(v.claims);
    ck_assert_str_eq(sub_of(v.claims), "jdoe");
    ck_assert_int_eq(f->calls, 2);
    ck_assert_uint_eq(COUNT(loc, OA2F_C_STALE_SERVED), 1);
    ck_assert_uint_eq(COUNT(loc, OA2F_C_CACHE_MISS), 2);
    ck_assert_uint_eq(loc->stats->provider_calls[OA2F_UNREACHABLE], 1);
    ck_assert_int_eq(f->notes_stale, 1);
    ck_assert_uint_eq(f->stale_age, 10);
    /* nothing stored, nothing kept: the next request asks again */
    ck_assert_int_eq(f->puts, 1);
    ck_assert_int_eq(f->keeps, 0);

    at(f, T0 + 29);
    v = ask(loc);
    ck_assert_int_eq(v.outcome, OA2F_OK);
    ck_assert_str_eq(v.why, stale_why(29, "unreachable", "from the provider"));
    ck_assert_int_eq(f->calls, 3);
    ck_assert_uint_eq(COUNT(loc, OA2F_C_STALE_SERVED), 2);

    /* the shared entry is gone at T0 + 30: so is the verdict */
    at(f, T0 + 30);
    v = ask(loc);
    ck_assert_int_eq(v.outcome, OA2F_UNREACHABLE);
    ck_assert_str_eq(v.why, "from the provider");
    ck_assert_ptr_null(v.claims);
    ck_assert_int_eq(f->calls, 4);
    ck_assert_uint_eq(COUNT(loc, OA2F_C_STALE_SERVED), 2);
    ck_assert_int_eq(f->notes_stale, 2);

    /* the provider is back: a fresh validation, stored anew */
    f = fake();
    loc = stale_location(f, 10, 0, 20);
    provider_says(f, OA2F_OK, claims(1, T0 + 3600));
    ask(loc);
    at(f, T0 + 15);
    provider_says(f, OA2F_UNREACHABLE, NULL);
    ck_assert_int_eq(ask(loc).outcome, OA2F_OK);
    provider_says(f, OA2F_OK, claims(1, T0 + 3600));
    v = ask(loc);
    ck_assert_str_eq(v.why, "from the provider");
    ck_assert_int_eq(f->calls, 3);
    ck_assert(f->put_until == T0 + 45);
    ck_assert(f->put_keep == T0 + 25);
    ck_assert_uint_eq(COUNT(loc, OA2F_C_STALE_SERVED), 1);
}
END_TEST

/* The window is judged here, not by how long the back end keeps the
 * entry (one stored by a location with a longer window, or a back end
 * that keeps it longer): validated + cap + StaleIfError, per location. */
START_TEST(test_stale_window_per_location)
{
    fake_t *f = fake();
    oa2f_verdict_req_t *wide = stale_location(f, 10, 0, 20);
    oa2f_verdict_req_t *narrow = stale_location(f, 5, 0, 20);
    oa2f_verdict_req_t *off = stale_location(f, 10, 0, 0);
    oa2f_validation_t v;

    plant(f, claims(1, T0 + 3600), T0, T0 + 3600);
    provider_says(f, OA2F_UNREACHABLE, NULL);
    at(f, T0 + 24);
    ck_assert_int_eq(ask(narrow).outcome, OA2F_OK);
    ck_assert_int_eq(ask(wide).outcome, OA2F_OK);
    ck_assert_int_eq(ask(off).outcome, OA2F_UNREACHABLE);
    at(f, T0 + 25);
    ck_assert_int_eq(ask(narrow).outcome, OA2F_UNREACHABLE);
    ck_assert_int_eq(ask(wide).outcome, OA2F_OK);
    at(f, T0 + 29);
    ck_assert_int_eq(ask(wide).outcome, OA2F_OK);
    at(f, T0 + 30);
    v = ask(wide);
    ck_assert_int_eq(v.outcome, OA2F_UNREACHABLE);
    ck_assert_ptr_null(v.claims);
    ck_assert_uint_eq(COUNT(wide, OA2F_C_STALE_SERVED), 3);
    ck_assert_uint_eq(COUNT(narrow, OA2F_C_STALE_SERVED), 1);
    ck_assert_uint_eq(COUNT(off, OA2F_C_STALE_SERVED), 0);
    ck_assert_int_eq(f->calls, 7);
    ck_assert_int_eq(f->puts, 0);
}
END_TEST

/* Never past the token's own expiry, however wide the window. */
START_TEST(test_stale_never_expired)
{
    fake_t *f = fake();
    oa2f_verdict_req_t *loc = stale_location(f, 10, 0, 3600);
    oa2f_validation_t v;

    plant(f, claims(1, T0 + 15), T0, T0 + 3600);
    provider_says(f, OA2F_UNREACHABLE, NULL);
    at(f, T0 + 14);
    v = ask(loc);
    ck_assert_int_eq(v.outcome, OA2F_OK);
    ck_assert(v.claims->expires_at == T0 + 15);
    at(f, T0 + 15);
    v = ask(loc);
    ck_assert_int_eq(v.outcome, OA2F_UNREACHABLE);
    ck_assert_ptr_null(v.claims);
    at(f, T0 + 100);
    ck_assert_int_eq(ask(loc).outcome, OA2F_UNREACHABLE);
    ck_assert_uint_eq(COUNT(loc, OA2F_C_STALE_SERVED), 1);

    /* an entry without any expiry (never stored so) is not served */
    f = fake();
    loc = stale_location(f, 10, 0, 3600);
    plant(f, claims(1, 0), T0, T0 + 3600);
    provider_says(f, OA2F_UNREACHABLE, NULL);
    at(f, T0 + 11);
    ck_assert_int_eq(ask(loc).outcome, OA2F_UNREACHABLE);
}
END_TEST

/* Only a failure to ask: unreachable, an unusable answer, an open
 * circuit. A definite answer (not active, expired) and a refusal of our
 * credentials or our own failure are answered as they are. */
START_TEST(test_stale_which_failures)
{
    static const oa2f_outcome_e stale_on[] = { OA2F_UNREACHABLE,
                                               OA2F_BAD_ANSWER,
                                               OA2F_CIRCUIT_OPEN };
    static const oa2f_outcome_e answered[] = { OA2F_INACTIVE, OA2F_REJECTED,
                                               OA2F_INTERNAL };
    int i;

    for (i = 0; i < UT_N(stale_on); i++) {
        fake_t *f = fake();
        oa2f_verdict_req_t *loc = stale_location(f, 10, 0, 20);
        oa2f_validation_t v;

        plant(f, claims(1, T0 + 3600), T0, T0 + 30);
        at(f, T0 + 12);
        provider_says(f, stale_on[i], NULL);
        v = ask(loc);
        ck_assert_int_eq(v.outcome, OA2F_OK);
        ck_assert_str_eq(v.why, stale_why(12, oa2f_outcome_name(stale_on[i]),
                                          "from the provider"));
        ck_assert_uint_eq(COUNT(loc, OA2F_C_STALE_SERVED), 1);
    }
    for (i = 0; i < UT_N(answered); i++) {
        fake_t *f = fake();
        oa2f_verdict_req_t *loc = stale_location(f, 10, 0, 20);
        oa2f_validation_t v;

        plant(f, claims(1, T0 + 3600), T0, T0 + 30);
        at(f, T0 + 12);
        provider_says(f, answered[i],
                      answered[i] == OA2F_INACTIVE ? claims(0, 0) : NULL);
        v = ask(loc);
        ck_assert_int_eq(v.outcome, answered[i]);
        ck_assert_str_eq(v.why, "from the provider");
        ck_assert_uint_eq(COUNT(loc, OA2F_C_STALE_SERVED), 0);
        ck_assert_int_eq(f->notes_stale, 0);
    }
    {
        /* the provider calls it active, but it has expired meanwhile */
        fake_t *f = fake();
        oa2f_verdict_req_t *loc = stale_location(f, 10, 0, 20);

        plant(f, claims(1, T0 + 3600), T0, T0 + 30);
        at(f, T0 + 12);
        provider_says(f, OA2F_OK, claims(1, T0 + 12));
        ck_assert_int_eq(ask(loc).outcome, OA2F_EXPIRED);
        ck_assert_uint_eq(COUNT(loc, OA2F_C_STALE_SERVED), 0);
    }
}
END_TEST

/* A "not active" verdict is never served stale, and nothing at all is
 * served stale without StaleIfError, without a cap (an entry is fresh
 * until the token expires) or without the cache. */
START_TEST(test_stale_never_negative_or_off)
{
    fake_t *f = fake();
    oa2f_verdict_req_t *loc = stale_location(f, 10, 5, 3600);

    /* (even one that names an expiry still ahead) */
    plant(f, claims(0, T0 + 3600), T0, T0 + 3600);
    provider_says(f, OA2F_UNREACHABLE, NULL);
    at(f, T0 + 4);
    ck_assert_int_eq(ask(loc).outcome, OA2F_INACTIVE);
    at(f, T0 + 6);
    ck_assert_int_eq(ask(loc).outcome, OA2F_UNREACHABLE);
    at(f, T0 + 12);
    ck_assert_int_eq(ask(loc).outcome, OA2F_UNREACHABLE);
    ck_assert_uint_eq(COUNT(loc, OA2F_C_STALE_SERVED), 0);

    f = fake();
    loc = stale_location(f, 10, 0, 0);
    plant(f, claims(1, T0 + 3600), T0, T0 + 3600);
    provider_says(f, OA2F_UNREACHABLE, NULL);
    at(f, T0 + 11);
    ck_assert_int_eq(ask(loc).outcome, OA2F_UNREACHABLE);
    ck_assert_int_eq(f->notes_stale, 0);

    f = fake();
    loc = stale_location(f, -1, 0, 3600);
    plant(f, claims(1, T0 + 100), T0, T0 + 3600);
    provider_says(f, OA2F_UNREACHABLE, NULL);
    at(f, T0 + 99);
    ck_assert_str_eq(ask(loc).why, "cached");
    at(f, T0 + 100);
    ck_assert_int_eq(ask(loc).outcome, OA2F_EXPIRED);
    ck_assert_int_eq(f->calls, 0);

    f = fake();
    loc = stale_location(f, 0, 0, 3600);
    plant(f, claims(1, T0 + 3600), T0, T0 + 3600);
    provider_says(f, OA2F_UNREACHABLE, NULL);
    at(f, T0 + 11);
    ck_assert_int_eq(ask(loc).outcome, OA2F_UNREACHABLE);
    ck_assert_uint_eq(COUNT(loc, OA2F_C_STALE_SERVED), 0);
}
END_TEST

/* A stale entry in the shared cache is served from there and not copied
 * into this process's copy (which holds only fresh entries). */
START_TEST(test_stale_not_kept_local)
{
    fake_t *f = fake();
    oa2f_verdict_req_t *loc = stale_location(f, 10, 0, 20);

    provider_says(f, OA2F_OK, claims(1, T0 + 3600));
    ask(loc);
    ck_assert(f->local[0].until == T0 + 10);
    at(f, T0 + 5);
    ck_assert_uint_eq(COUNT(loc, OA2F_C_CACHE_LOCAL_HIT), 0);
    ask(loc);
    ck_assert_uint_eq(COUNT(loc, OA2F_C_CACHE_LOCAL_HIT), 1);
    at(f, T0 + 12);
    provider_says(f, OA2F_UNREACHABLE, NULL);
    ck_assert_int_eq(ask(loc).outcome, OA2F_OK);
    ck_assert_int_eq(ask(loc).outcome, OA2F_OK);
    ck_assert_int_eq(f->keeps, 0);
    ck_assert_uint_eq(COUNT(loc, OA2F_C_CACHE_LOCAL_HIT), 1);
    ck_assert_uint_eq(COUNT(loc, OA2F_C_STALE_SERVED), 2);
    ck_assert_int_eq(f->calls, 3);
}
END_TEST

/* A leader lands the provider's failure, not its stale answer, so each
 * follower judges its own location's window. */
START_TEST(test_stale_leader)
{
    fake_t *f = fake();
    oa2f_verdict_req_t *loc = stale_location(f, 10, 0, 20);
    oa2f_validation_t v;

    plant(f, claims(1, T0 + 3600), T0, T0 + 30);
    at(f, T0 + 12);
    f->role = OA2F_FLIGHT_LEADER;
    provider_says(f, OA2F_BAD_ANSWER, NULL);
    v = ask(loc);
    ck_assert_int_eq(v.outcome, OA2F_OK);
    ck_assert_int_eq(f->ends, 1);
    ck_assert_int_eq(f->end_outcome, OA2F_BAD_ANSWER);
}
END_TEST

static void leader_entry_gone(fake_t *f)
{
    memset(f->shared, 0, sizeof(f->shared));
}

/* A follower given the leader's failure serves what its own lookup after
 * the landing found stale; one that finds nothing any more (the entry
 * went meanwhile), or is given a definite answer, does not. */
START_TEST(test_stale_follower)
{
    static const oa2f_outcome_e stale_on[] = { OA2F_UNREACHABLE,
                                               OA2F_BAD_ANSWER,
                                               OA2F_CIRCUIT_OPEN };
    int i;

    for (i = 0; i < UT_N(stale_on); i++) {
        fake_t *f = fake();
        oa2f_verdict_req_t *loc = stale_location(f, 10, 0, 20);
        oa2f_validation_t v;

        plant(f, claims(1, T0 + 3600), T0, T0 + 30);
        at(f, T0 + 12);
        f->role = OA2F_FLIGHT_FOLLOWER;
        f->lands = 1;
        f->landed_outcome = stale_on[i];
        v = ask(loc);
        ck_assert_int_eq(v.outcome, OA2F_OK);
        ck_assert_str_eq(
            v.why,
            stale_why(12, oa2f_outcome_name(stale_on[i]),
                      apr_pstrcat(ut_pool,
                                  "same as the concurrent call for this "
                                  "token: ",
                                  oa2f_outcome_name(stale_on[i]), NULL)));
        ck_assert_str_eq(sub_of(v.claims), "jdoe");
        ck_assert_int_eq(f->calls, 0);
        ck_assert_uint_eq(COUNT(loc, OA2F_C_STALE_SERVED), 1);
        ck_assert_uint_eq(COUNT(loc, OA2F_C_COALESCED), 1);
    }
    {
        fake_t *f = fake();
        oa2f_verdict_req_t *loc = stale_location(f, 10, 0, 20);
        oa2f_validation_t v;

        plant(f, claims(1, T0 + 3600), T0, T0 + 30);
        at(f, T0 + 12);
        f->role = OA2F_FLIGHT_FOLLOWER;
        f->lands = 1;
        f->landed_outcome = OA2F_UNREACHABLE;
        f->meanwhile = leader_entry_gone;
        v = ask(loc);
        ck_assert_int_eq(v.outcome, OA2F_UNREACHABLE);
        ck_assert_ptr_null(v.claims);
        ck_assert_uint_eq(COUNT(loc, OA2F_C_STALE_SERVED), 0);
    }
    {
        fake_t *f = fake();
        oa2f_verdict_req_t *loc = stale_location(f, 10, 0, 20);

        plant(f, claims(1, T0 + 3600), T0, T0 + 30);
        at(f, T0 + 12);
        f->role = OA2F_FLIGHT_FOLLOWER;
        f->lands = 1;
        f->landed_outcome = OA2F_REJECTED;
        ck_assert_int_eq(ask(loc).outcome, OA2F_REJECTED);
        f->landed_outcome = OA2F_INACTIVE;
        ck_assert_int_eq(ask(loc).outcome, OA2F_INACTIVE);
        ck_assert_uint_eq(COUNT(loc, OA2F_C_STALE_SERVED), 0);
    }
    {
        /* waited in vain, then asked itself and failed: stale too */
        fake_t *f = fake();
        oa2f_verdict_req_t *loc = stale_location(f, 10, 0, 20);

        plant(f, claims(1, T0 + 3600), T0, T0 + 30);
        at(f, T0 + 12);
        f->role = OA2F_FLIGHT_FOLLOWER;
        f->lands = 0;
        provider_says(f, OA2F_UNREACHABLE, NULL);
        ck_assert_int_eq(ask(loc).outcome, OA2F_OK);
        ck_assert_int_eq(f->calls, 1);
        ck_assert_uint_eq(COUNT(loc, OA2F_C_STALE_SERVED), 1);
    }
}
END_TEST

/* ---- oa2f_verdict_check_expiry -------------------------------------- */

START_TEST(test_check_expiry)
{
    oa2f_claims_t *c = oa2f_claims_make(ut_pool);

    c->active = 1;
    c->expires_at = 0;
    ck_assert_int_eq(oa2f_verdict_check_expiry(c, SENT), OA2F_OK);
    c->expires_at = SENT + 1;
    ck_assert_int_eq(oa2f_verdict_check_expiry(c, SENT), OA2F_OK);
    c->expires_at = SENT;
    ck_assert_int_eq(oa2f_verdict_check_expiry(c, SENT), OA2F_EXPIRED);
    c->expires_at = SENT - 1;
    ck_assert_int_eq(oa2f_verdict_check_expiry(c, SENT), OA2F_EXPIRED);
    c->expires_at = -1;
    ck_assert_int_eq(oa2f_verdict_check_expiry(c, SENT), OA2F_EXPIRED);
    c->expires_at = 253402300799LL;
    ck_assert_int_eq(oa2f_verdict_check_expiry(c, SENT), OA2F_OK);
}
END_TEST

/* ---- revocation ---------------------------------------------------------- */

/* README "Revocation": an entry a rule covers is a miss, in this
 * process's own copy and in the shared cache alike, and the provider is
 * asked; what it validates after the rule is served from the cache
 * again. */
START_TEST(test_revoked_is_a_miss)
{
    fake_t *f = fake();
    oa2f_verdict_req_t *loc = location(f, -1, 0);
    oa2f_validation_t v;

    provider_says(f, OA2F_OK, claims(1, T0 + 3600));
    v = ask(loc); /* validated at T0, in both copies */
    ck_assert_int_eq(f->calls, 1);

    at(f, T0 + 10);
    v = ask(loc);
    ck_assert_str_eq(v.why, "cached");
    ck_assert_int_eq(f->revoked_calls, 1);
    ck_assert_str_eq(f->revoked_sub, "jdoe");

    f->revoked_upto = T0 + 5; /* revoked at T0 + 5 */
    v = ask(loc);
    ck_assert_int_eq(v.outcome, OA2F_OK);
    ck_assert_str_eq(v.why, "from the provider");
    ck_assert_int_eq(f->calls, 2);
    ck_assert_uint_eq(COUNT(loc, OA2F_C_CACHE_MISS), 2);

    /* the own copy was refreshed: now shared only, still revoked */
    memset(f->local, 0, sizeof(f->local));
    plant(f, claims(1, T0 + 3600), T0 + 5, T0 + 3600);
    v = ask(loc);
    ck_assert_str_eq(v.why, "from the provider");
    ck_assert_int_eq(f->calls, 3);

    /* validated at T0 + 10, after the rule: a hit */
    at(f, T0 + 11);
    v = ask(loc);
    ck_assert_str_eq(v.why, "cached");
    ck_assert_int_eq(f->calls, 3);
}
END_TEST

/* The own copy holds an entry from before the rule, the shared cache
 * one validated after it (by another child): the shared one is served,
 * without a provider call. */
START_TEST(test_revoked_local_newer_shared)
{
    fake_t *f = fake();
    oa2f_verdict_req_t *loc = location(f, -1, 0);
    oa2f_validation_t v;
    unsigned char key[OA2F_CACHE_KEY_LEN], *buf;
    apr_size_t len;

    oa2f_cache_key(NULL, "verdict-test", TOKEN, key);
    ck_assert_int_eq(
        oa2f_entry_encode(ut_pool, claims(1, T0 + 3600), T0, &buf, &len), 1);
    keep(f->local, key, T0 + 3600, buf, len);
    plant(f, claims(1, T0 + 3600), T0 + 10, T0 + 3600);
    provider_says(f, OA2F_OK, claims(1, T0 + 3600));
    f->revoked_upto = T0 + 5;
    at(f, T0 + 11);
    v = ask(loc);
    ck_assert_int_eq(v.outcome, OA2F_OK);
    ck_assert_str_eq(v.why, "cached");
    ck_assert_int_eq(f->calls, 0);
    ck_assert_int_eq(f->revoked_calls, 2);
    ck_assert_int_eq(f->keeps, 1); /* the shared entry, now local */
    ck_assert_uint_eq(COUNT(loc, OA2F_C_CACHE_LOCAL_HIT), 0);
}
END_TEST

/* A revoked entry is no entry: not kept in the own copy, not even a
 * negative verdict is served from it. */
START_TEST(test_revoked_not_kept)
{
    fake_t *f = fake();
    oa2f_verdict_req_t *loc = location(f, -1, 60);
    oa2f_validation_t v;

    plant(f, claims(0, 0), T0, T0 + 60);
    f->revoked_upto = T0;
    provider_says(f, OA2F_OK, claims(1, T0 + 3600));
    at(f, T0 + 1);
    v = ask(loc);
    ck_assert_int_eq(v.outcome, OA2F_OK);
    ck_assert_int_eq(f->calls, 1);
    ck_assert_int_eq(f->keeps, 0);
    ck_assert_uint_eq(COUNT(loc, OA2F_C_CACHE_NEG_HIT), 0);
}
END_TEST

/* README "Revocation", the 24 h rule: no verdict validated reuse_cap
 * seconds ago or longer is served, whatever its expiry and the
 * location's cap, and the own copy keeps it no longer. */
START_TEST(test_reuse_cap)
{
    fake_t *f = fake();
    oa2f_verdict_req_t *loc = location(f, -1, 0);
    oa2f_validation_t v;
    int i;

    loc->reuse_cap = 100;
    plant(f, claims(1, T0 + 3600), T0, T0 + 3600);
    at(f, T0 + 99);
    v = ask(loc);
    ck_assert_str_eq(v.why, "cached");
    ck_assert_int_eq(f->keeps, 1);
    for (i = 0; i < SLOTS; i++) {
        if (f->local[i].used) {
            ck_assert(f->local[i].until == T0 + 100);
        }
    }
    memset(f->local, 0, sizeof(f->local));
    at(f, T0 + 100);
    provider_says(f, OA2F_OK, claims(1, T0 + 3600));
    v = ask(loc);
    ck_assert_str_eq(v.why, "from the provider");
    ck_assert_int_eq(f->calls, 1);
}
END_TEST

/* ---- the claim: the fleet's lookup and the lock in one command ------- */

/* README "The fleet lock": with fleet_claim a new token's request reads
 * this server's memory, then the fleet cache once (the claim), and the
 * take that follows is that claim's answer: one lookup, no second one. */
START_TEST(test_claim_new_token)
{
    static const oa2f_lock_e a[] = { OA2F_LOCK_TAKEN };
    fake_t *f = fake();
    oa2f_verdict_req_t *loc = fleet(f, 1, a);

    loc->fleet_claim = 1;
    ck_assert_int_eq(ask(loc).outcome, OA2F_OK);
    ck_assert_int_eq(f->calls, 1);
    ck_assert_int_eq(f->gets, 2);
    ck_assert_int_eq(f->fleet_gets, 1);
    ck_assert_int_eq(f->takes, 1);
    ck_assert_int_eq(f->puts, 1);
    ck_assert_int_eq(f->releases, 0);
    ck_assert_uint_eq(COUNT(loc, OA2F_C_CACHE_MISS), 1);
    ck_assert_uint_eq(COUNT(loc, OA2F_C_CACHE_HIT), 0);
}
END_TEST

/* Another server's verdict in the fleet cache: served by the claim's
 * lookup, no take, no call; counted as one hit, no miss. */
START_TEST(test_claim_fleet_hit)
{
    static const oa2f_lock_e a[] = { OA2F_LOCK_TAKEN };
    fake_t *f = fake();
    oa2f_verdict_req_t *loc = fleet(f, 1, a);
    oa2f_validation_t v;

    loc->fleet_claim = 1;
    plant(f, claims(1, T0 + 3600), T0, T0 + 3600);
    v = ask(loc);
    ck_assert_int_eq(v.outcome, OA2F_OK);
    ck_assert_str_eq(v.why, "cached");
    ck_assert_int_eq(f->calls, 0);
    ck_assert_int_eq(f->fleet_gets, 1);
    ck_assert_int_eq(f->takes, 0);
    ck_assert_int_eq(f->keeps, 1);
    ck_assert_uint_eq(COUNT(loc, OA2F_C_CACHE_HIT), 1);
    ck_assert_uint_eq(COUNT(loc, OA2F_C_CACHE_MISS), 0);
    /* then this server's own copy answers */
    v = ask(loc);
    ck_assert_int_eq(f->fleet_gets, 1);
    ck_assert_uint_eq(COUNT(loc, OA2F_C_CACHE_HIT), 2);
}
END_TEST

/* A follower never reads the fleet cache: its leader did, and its
 * verdict is in this server's memory; one miss counted. */
START_TEST(test_claim_follower)
{
    static const oa2f_lock_e a[] = { OA2F_LOCK_TAKEN };
    fake_t *f = fake();
    oa2f_verdict_req_t *loc = fleet(f, 1, a);

    loc->fleet_claim = 1;
    f->role = OA2F_FLIGHT_FOLLOWER;
    f->lands = 1;
    f->landed_outcome = OA2F_UNREACHABLE;
    ck_assert_int_eq(ask(loc).outcome, OA2F_UNREACHABLE);
    ck_assert_int_eq(f->calls, 0);
    ck_assert_int_eq(f->fleet_gets, 0);
    ck_assert_int_eq(f->takes, 0);
    ck_assert_uint_eq(COUNT(loc, OA2F_C_CACHE_MISS), 1);
}
END_TEST

/* README "Outages": the stale entry the claim's lookup found in the fleet
 * serves while the provider fails, as the first lookup's would. */
START_TEST(test_claim_stale)
{
    static const oa2f_lock_e a[] = { OA2F_LOCK_BUSY };
    fake_t *f = fake();
    oa2f_verdict_req_t *loc = fleet(f, 1, a);
    oa2f_validation_t v;

    loc->fleet_claim = 1;
    loc->max_ttl = 10;
    loc->stale_if_error = 20;
    plant(f, claims(1, T0 + 3600), T0 - 15, T0 + 20);
    provider_says(f, OA2F_UNREACHABLE, NULL);
    v = ask(loc);
    ck_assert_int_eq(v.outcome, OA2F_OK);
    ck_assert_int_eq(f->calls, 1);
    /* the entry was there, so not claimed: the take asked the lock, and
     * one poll found the entry still unservable here */
    ck_assert_int_eq(f->takes, 1);
    ck_assert_int_eq(f->fleet_gets, 2);
    ck_assert_uint_eq(COUNT(loc, OA2F_C_STALE_SERVED), 1);
    ck_assert_uint_eq(COUNT(loc, OA2F_C_CACHE_MISS), 1);
}
END_TEST

Suite *verdict_suite(void)
{
    Suite *s = suite_create("verdict");
    TCase *tc = ut_tcase("store");

    tcase_add_test(tc, test_fresh_answer_has_a_why);
    tcase_add_test(tc, test_hit_until_expiry);
    tcase_add_test(tc, test_local_verdict_cached_not_counted);
    tcase_add_test(tc, test_ttl_cap);
    tcase_add_test(tc, test_cap_per_location);
    tcase_add_test(tc, test_keep_local_bounded);
    tcase_add_test(tc, test_mended_not_kept_local);
    tcase_add_test(tc, test_negative_ttl);
    tcase_add_test(tc, test_no_expiry_not_stored);
    tcase_add_test(tc, test_failures_not_stored);
    tcase_add_test(tc, test_too_large_not_stored);
    suite_add_tcase(s, tc);

    tc = ut_tcase("expiry");
    tcase_add_test(tc, test_expired_entry_refused);
    tcase_add_test(tc, test_expired_answer);
    tcase_add_test(tc, test_check_expiry);
    suite_add_tcase(s, tc);

    tc = ut_tcase("entries");
    tcase_add_test(tc, test_corrupt_entry_is_miss);
    tcase_add_test(tc, test_no_cache);
    suite_add_tcase(s, tc);

    tc = ut_tcase("flight");
    tcase_add_test(tc, test_leader_lands);
    tcase_add_test(tc, test_leader_publishes);
    tcase_add_test(tc, test_lock_taken);
    tcase_add_test(tc, test_lock_taken_no_second_lookup);
    tcase_add_test(tc, test_lock_wait_unservable);
    tcase_add_test(tc, test_lock_wait_verdict);
    tcase_add_test(tc, test_lock_wait_gives_up);
    tcase_add_test(tc, test_lock_vanishes);
    tcase_add_test(tc, test_lock_none);
    tcase_add_test(tc, test_lock_follower_waits_longer);
    tcase_add_test(tc, test_follower_gets_leaders_verdict);
    tcase_add_test(tc, test_follower_shares_failure);
    tcase_add_test(tc, test_follower_reads_entry);
    tcase_add_test(tc, test_follower_asks_itself);
    suite_add_tcase(s, tc);

    tc = ut_tcase("stale");
    tcase_add_test(tc, test_stale_store_time);
    tcase_add_test(tc, test_stale_window);
    tcase_add_test(tc, test_stale_window_per_location);
    tcase_add_test(tc, test_stale_never_expired);
    tcase_add_test(tc, test_stale_which_failures);
    tcase_add_test(tc, test_stale_never_negative_or_off);
    tcase_add_test(tc, test_stale_not_kept_local);
    tcase_add_test(tc, test_stale_leader);
    tcase_add_test(tc, test_stale_follower);
    suite_add_tcase(s, tc);

    tc = ut_tcase("revocation");
    tcase_add_test(tc, test_revoked_is_a_miss);
    tcase_add_test(tc, test_revoked_local_newer_shared);
    tcase_add_test(tc, test_revoked_not_kept);
    tcase_add_test(tc, test_reuse_cap);
    tcase_add_test(tc, test_claim_new_token);
    tcase_add_test(tc, test_claim_fleet_hit);
    tcase_add_test(tc, test_claim_follower);
    tcase_add_test(tc, test_claim_stale);
    suite_add_tcase(s, tc);
    return s;
}
