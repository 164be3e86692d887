#include <string.h>
#include <apr_time.h>

#include "oa2f_flight.h"
#include "oa2f_seqlock.h"

#define SLOTS 4096 /* power of two */
/* Verdict slots, addressed like the flight slots (a divisor of SLOTS):
 * ~1 MiB of the segment, for the flights of that many new tokens at
 * once. */
#define RESULTS 256

typedef struct {
    apr_uint64_t busy;     /* tag of the key in flight, 0 = free    */
    apr_int64_t since_us;  /* when the current leader began         */
    apr_uint64_t landed;   /* (tag & ~0xff) | outcome of last call  */
    apr_uint64_t landings; /* calls landed here, ever               */
} slot_t;

typedef struct {
    unsigned int seq; /* odd while a leader writes (oa2f_seqlock.h) */
    unsigned int len;
    long long until;
    unsigned char key[OA2F_CACHE_KEY_LEN];
    unsigned char data[OA2F_FLIGHT_RESULT_MAX];
} result_t;

struct oa2f_flight_table_t {
    slot_t slots[SLOTS];
    result_t results[RESULTS];
};

/* A non-zero 64-bit tag and a slot index from the key (a hash already). */
static apr_uint64_t tag_of(const unsigned char *key)
{
    apr_uint64_t t;

    memcpy(&t, key, sizeof(t));
    return t | 0x100; /* never 0, and bit 8 survives the outcome mask */
}

static slot_t *slot_of(oa2f_flight_table_t *t, const unsigned char *key)
{
    apr_uint32_t i;

    memcpy(&i, key + 8, sizeof(i));
    return &t->slots[i & (SLOTS - 1)];
}

static result_t *result_of(oa2f_flight_table_t *t, const unsigned char *key)
{
    apr_uint32_t i;

    memcpy(&i, key + 8, sizeof(i));
    return &t->results[i & (RESULTS - 1)];
}

apr_size_t oa2f_flight_size(void)
{
    return sizeof(oa2f_flight_table_t);
}

oa2f_flight_table_t *oa2f_flight_init(void *mem)
{
    memset(mem, 0, sizeof(oa2f_flight_table_t));
    return mem;
}

oa2f_flight_role_e oa2f_flight_begin(oa2f_flight_table_t *t,
                                     const unsigned char *key,
                                     long long now_us, long long stale_us)
{
    slot_t *s = slot_of(t, key);
    apr_uint64_t tag = tag_of(key), expected = 0;
    apr_int64_t since;

    if (__atomic_compare_exchange_n(&s->busy, &expected, tag, 0,
                                    __ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE)) {
        __atomic_store_n(&s->since_us, (apr_int64_t)now_us, __ATOMIC_RELEASE);
        return OA2F_FLIGHT_LEADER;
    }
    if (expected != tag) {
        return OA2F_FLIGHT_ALONE;
    }
    /* Same key in flight: follow, unless its leader looks dead, in which
     * case exactly one caller (the CAS winner) takes over. */
    since = __atomic_load_n(&s->since_us, __ATOMIC_ACQUIRE);
    if (since && now_us - since > stale_us
        && __atomic_compare_exchange_n(&s->since_us, &since,
                                       (apr_int64_t)now_us, 0,
                                       __ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE)) {
        return OA2F_FLIGHT_LEADER;
    }
    return OA2F_FLIGHT_FOLLOWER;
}

void oa2f_flight_end(oa2f_flight_table_t *t, const unsigned char *key,
                     int outcome)
{
    slot_t *s = slot_of(t, key);
    apr_uint64_t tag = tag_of(key), expected = tag;

    __atomic_store_n(&s->landed,
                     (tag & ~(apr_uint64_t)0xff)
                         | (apr_uint64_t)(outcome & 0xff),
                     __ATOMIC_RELEASE);
    /* counted before the slot is freed: a follower that never sees the
     * slot free (the next leader took it at once) still sees this */
    __atomic_add_fetch(&s->landings, 1, __ATOMIC_RELEASE);
    /* Clear our start time before freeing the slot: the next leader
     * stores its own only after winning the slot, and its followers must
     * not judge it by ours (an old time would make it look dead). */
    if (__atomic_load_n(&s->busy, __ATOMIC_ACQUIRE) == tag) {
        __atomic_store_n(&s->since_us, 0, __ATOMIC_RELEASE);
    }
    /* only free the slot if it is still ours (a take-over keeps it) */
    __atomic_compare_exchange_n(&s->busy, &expected, 0, 0, __ATOMIC_ACQ_REL,
                                __ATOMIC_ACQUIRE);
}

int oa2f_flight_wait(oa2f_flight_table_t *t, const unsigned char *key,
                     long long deadline_us, int *outcome)
{
    slot_t *s = slot_of(t, key);
    apr_uint64_t tag = tag_of(key), landed;
    apr_uint64_t landings = __atomic_load_n(&s->landings, __ATOMIC_ACQUIRE);
    apr_interval_time_t nap = 500;

    /* The flight we follow has landed when the slot is free or a call
     * has landed since we began waiting: a leader that lands and at once
     * leads the next flight for the same key keeps the slot busy. */
    while (__atomic_load_n(&s->busy, __ATOMIC_ACQUIRE) == tag
           && __atomic_load_n(&s->landings, __ATOMIC_ACQUIRE) == landings) {
        if ((long long)apr_time_now() >= deadline_us) {
            return 0;
        }
        apr_sleep(nap);
        if (nap < 10000) {
            nap *= 2;
        }
    }
    landed = __atomic_load_n(&s->landed, __ATOMIC_ACQUIRE);
    *outcome = ((landed & ~(apr_uint64_t)0xff) == (tag & ~(apr_uint64_t)0xff))
                   ? (int)(landed & 0xff)
                   : -1;
    return 1;
}

void oa2f_flight_publish(oa2f_flight_table_t *t, const unsigned char *key,
                         long long until, const unsigned char *entry,
                         apr_size_t len)
{
    result_t *r = result_of(t, key);
    unsigned int begun;

    if (len == 0 || len > OA2F_FLIGHT_RESULT_MAX
        || !oa2f_seq_write_begin(&r->seq, &begun)) {
        return;
    }
    memcpy(r->key, key, OA2F_CACHE_KEY_LEN);
    memcpy(r->data, entry, len);
    r->len = (unsigned int)len;
    r->until = until;
    oa2f_seq_write_end(&r->seq, begun);
}

int oa2f_flight_result(oa2f_flight_table_t *t, const unsigned char *key,
                       long long now, apr_pool_t *p, unsigned char **entry,
                       apr_size_t *len)
{
    result_t *r = result_of(t, key);
    unsigned int begun = oa2f_seq_read_begin(&r->seq);
    unsigned int n;
    unsigned char *copy;

    if (!begun || r->until <= now
        || memcmp(r->key, key, OA2F_CACHE_KEY_LEN) != 0) {
        return 0;
    }
    n = r->len;
    if (n == 0 || n > OA2F_FLIGHT_RESULT_MAX) {
        return 0;
    }
    copy = apr_palloc(p, n);
    memcpy(copy, r->data, n);
    /* a leader wrote meanwhile: what was read may be torn */
    if (!oa2f_seq_read_ok(&r->seq, begun)) {
        return 0;
    }
    *entry = copy;
    *len = n;
    return 1;
}
