/* The near cache's lock-free table in shared memory (see the header). */
#include <string.h>

#include "oa2f_near_table.h"
#include "oa2f_seqlock.h"

#define WAYS 8
/* The index is sized for values of this many bytes on average: more
 * slots than a log of ~800-byte sealed entries fills, so that sets
 * rarely overflow before the log wraps. */
#define SIZED_FOR 512

typedef struct {
    unsigned int seq; /* odd while a writer is in the way */
    unsigned int len;
    long long until;
    unsigned long long pos; /* where in the log (grows, taken mod cap) */
    unsigned char key[OA2F_CACHE_KEY_LEN];
    unsigned long long sum; /* of the value: a writer stalled while the
                             * log lapped it may have written over it */
} slot_t;

/* Hints a lookup and the choice of a victim read without the slots;
 * the slot's seqlock and full key decide. */
typedef struct {
    unsigned int tag[WAYS]; /* a word of the key; 0: never written */
    long long until[WAYS];
    unsigned long long pos[WAYS];
} set_t;

struct oa2f_near_table_t {
    /* read by every lookup, written once */
    apr_size_t sets;
    apr_size_t cap; /* bytes of the log, a multiple of 8 */
    apr_size_t value_max;
    apr_size_t sets_at, slots_at, log_at; /* offsets from the table */
    unsigned char line0[64 - 6 * sizeof(apr_size_t)];
    /* written by every store: a cache line of its own */
    unsigned long long head; /* log bytes reserved so far */
    unsigned char line1[64 - sizeof(unsigned long long)];
};

/* A check against bytes changed by accident (a writer that resumed
 * after the log lapped it), not against an attacker: the seal is that.
 * Four independent lanes of 8-byte words, each mixed by a multiply and
 * a shift, so that a lookup pays a fraction of a cycle per byte (a
 * byte-wise FNV-1a paid more than the copy and the seal together). */
#define MIX(h, w)                                                             \
    do {                                                                      \
        (h) = ((h) ^ (w)) * 0x9e3779b97f4a7c15ULL;                            \
        (h) ^= (h) >> 32;                                                     \
    } while (0)

static unsigned long long word_at(const unsigned char *b)
{
    unsigned long long w;

    memcpy(&w, b, sizeof(w));
    return w;
}

static unsigned long long sum_of(const unsigned char *b, apr_size_t n)
{
    unsigned long long h0 = 0x243f6a8885a308d3ULL, h1 = 0x13198a2e03707344ULL;
    unsigned long long h2 = 0xa4093822299f31d0ULL, h3 = 0x082efa98ec4e6c89ULL;
    unsigned char tail[8] = { 0 };
    apr_size_t i = 0;

    for (; i + 32 <= n; i += 32) {
        MIX(h0, word_at(b + i));
        MIX(h1, word_at(b + i + 8));
        MIX(h2, word_at(b + i + 16));
        MIX(h3, word_at(b + i + 24));
    }
    for (; i + 8 <= n; i += 8) {
        MIX(h0, word_at(b + i));
    }
    memcpy(tail, b + i, n - i);
    MIX(h1, word_at(tail));
    MIX(h2, (unsigned long long)n);
    MIX(h0, h1);
    MIX(h0, h2);
    MIX(h0, h3);
    return h0;
}

#define AT(t, off) ((unsigned char *)(t) + (off))

static set_t *set_at(const oa2f_near_table_t *t, apr_size_t i)
{
    return (set_t *)AT(t, t->sets_at) + i;
}

static slot_t *slot_at(const oa2f_near_table_t *t, apr_size_t set, int way)
{
    return (slot_t *)AT(t, t->slots_at) + set * WAYS + (apr_size_t)way;
}

static unsigned char *log_at(const oa2f_near_table_t *t,
                             unsigned long long pos)
{
    return AT(t, t->log_at) + (apr_size_t)(pos % t->cap);
}

static apr_size_t up64(apr_size_t n)
{
    return (n + 63) & ~(apr_size_t)63;
}

oa2f_near_table_t *oa2f_near_table_init(void *mem, apr_size_t bytes)
{
    oa2f_near_table_t *t = mem;
    apr_size_t per_set = sizeof(set_t) + WAYS * (sizeof(slot_t) + SIZED_FOR);
    apr_size_t sets;

    if (!mem || bytes < OA2F_NEAR_TABLE_MIN_BYTES) {
        return NULL;
    }
    sets = (bytes - sizeof(*t)) / per_set;
    memset(t, 0, sizeof(*t));
    t->sets = sets;
    t->sets_at = up64(sizeof(*t));
    t->slots_at = up64(t->sets_at + sets * sizeof(set_t));
    t->log_at = up64(t->slots_at + sets * WAYS * sizeof(slot_t));
    t->cap = (bytes - t->log_at) & ~(apr_size_t)7;
    t->value_max = t->cap / 8;
    memset(AT(t, t->sets_at), 0, t->log_at - t->sets_at);
    return t;
}

apr_size_t oa2f_near_table_value_max(const oa2f_near_table_t *t)
{
    return t ? t->value_max : 0;
}

/* Keys are hash outputs: any word spreads evenly. The per-child copy
 * picks by the first two; these are the next two. */
static apr_size_t set_of(const oa2f_near_table_t *t, const unsigned char *key)
{
    unsigned int h;

    memcpy(&h, key + 8, sizeof(h));
    return h % t->sets;
}

static unsigned int tag_of(const unsigned char *key)
{
    unsigned int g;

    memcpy(&g, key + 12, sizeof(g));
    return g ? g : 1;
}

/* 1 while no writer has reserved the log bytes of the value at pos:
 * reservations only grow, and the bytes at pos are reused once they
 * pass pos + cap. Called before a copy, and after it behind the
 * seqlock's fence. */
static int intact(const oa2f_near_table_t *t, unsigned long long pos)
{
    unsigned long long head = __atomic_load_n(&t->head, __ATOMIC_RELAXED);

    return pos <= head && head - pos <= t->cap;
}

int oa2f_near_table_get(oa2f_near_table_t *t, const unsigned char *key,
                        long long now, apr_pool_t *p, unsigned char **buf,
                        apr_size_t *len)
{
    apr_size_t set;
    unsigned int tag;
    set_t *h;

    if (!t) {
        return 0;
    }
    set = set_of(t, key);
    tag = tag_of(key);
    h = set_at(t, set);
    for (int w = 0; w < WAYS; w++) {
        slot_t *s;
        unsigned int seq, n;
        unsigned long long pos;
        unsigned char *copy;

        if (__atomic_load_n(&h->tag[w], __ATOMIC_RELAXED) != tag) {
            continue;
        }
        s = slot_at(t, set, w);
        if (!(seq = oa2f_seq_read_begin(&s->seq))) {
            continue;
        }
        n = __atomic_load_n(&s->len, __ATOMIC_RELAXED);
        pos = __atomic_load_n(&s->pos, __ATOMIC_RELAXED);
        if (n == 0 || n > t->value_max
            || __atomic_load_n(&s->until, __ATOMIC_RELAXED) <= now
            || memcmp(s->key, key, OA2F_CACHE_KEY_LEN) != 0
            || !intact(t, pos)) {
            continue;
        }
        copy = apr_palloc(p, n);
        memcpy(copy, log_at(t, pos), n);
        /* the fence in read_ok orders the copy before both checks */
        if (!oa2f_seq_read_ok(&s->seq, seq) || !intact(t, pos)
            || sum_of(copy, n) != __atomic_load_n(&s->sum, __ATOMIC_RELAXED)) {
            continue;
        }
        *buf = copy;
        *len = n;
        return 1;
    }
    return 0;
}

/* The log bytes for a value of len: a position that only grows; a
 * value does not wrap around the ring's end, the rest of the ring is
 * skipped instead. */
static unsigned long long reserve(oa2f_near_table_t *t, apr_size_t len)
{
    unsigned long long need = (len + 7) & ~(apr_size_t)7;
    unsigned long long old = __atomic_load_n(&t->head, __ATOMIC_RELAXED);
    unsigned long long pos;

    do {
        apr_size_t off = (apr_size_t)(old % t->cap);

        pos = off + need > t->cap ? old + (t->cap - off) : old;
    } while (!__atomic_compare_exchange_n(&t->head, &old, pos + need, 0,
                                          __ATOMIC_ACQ_REL, __ATOMIC_RELAXED));
    /* readers that see a byte written next also see the reservation */
    __atomic_thread_fence(__ATOMIC_RELEASE);
    return pos;
}

/* The way a store of key goes to: the way holding key already; a way
 * never written, expired or overwritten in the log; else the one whose
 * value is oldest in the log (the next to be overwritten anyway). */
static int victim(const oa2f_near_table_t *t, apr_size_t set,
                  const unsigned char *key, unsigned int tag, long long now)
{
    set_t *h = set_at(t, set);
    unsigned long long head = __atomic_load_n(&t->head, __ATOMIC_RELAXED);
    unsigned long long oldest_pos = 0;
    int oldest = 0;

    for (int w = 0; w < WAYS; w++) {
        if (__atomic_load_n(&h->tag[w], __ATOMIC_RELAXED) == tag
            && memcmp(slot_at(t, set, w)->key, key, OA2F_CACHE_KEY_LEN) == 0) {
            return w;
        }
    }
    for (int w = 0; w < WAYS; w++) {
        unsigned long long pos = __atomic_load_n(&h->pos[w], __ATOMIC_RELAXED);

        if (!__atomic_load_n(&h->tag[w], __ATOMIC_RELAXED)
            || __atomic_load_n(&h->until[w], __ATOMIC_RELAXED) <= now
            || head - pos > t->cap) {
            return w;
        }
        if (w == 0 || pos < oldest_pos) {
            oldest = w;
            oldest_pos = pos;
        }
    }
    return oldest;
}

int oa2f_near_table_put(oa2f_near_table_t *t, const unsigned char *key,
                        long long now, long long until,
                        const unsigned char *buf, apr_size_t len)
{
    apr_size_t set;
    unsigned int tag, seq;
    unsigned long long pos;
    set_t *h;
    slot_t *s;
    int w;

    if (!t || len == 0 || len > t->value_max || until <= now) {
        return 0;
    }
    pos = reserve(t, len);
    memcpy(log_at(t, pos), buf, len);
    set = set_of(t, key);
    tag = tag_of(key);
    h = set_at(t, set);
    w = victim(t, set, key, tag, now);
    s = slot_at(t, set, w);
    if (!oa2f_seq_write_begin(&s->seq, &seq)) {
        return 0; /* another writer is in this way */
    }
    __atomic_store_n(&h->tag[w], tag, __ATOMIC_RELAXED);
    __atomic_store_n(&h->until[w], until, __ATOMIC_RELAXED);
    __atomic_store_n(&h->pos[w], pos, __ATOMIC_RELAXED);
    __atomic_store_n(&s->len, (unsigned int)len, __ATOMIC_RELAXED);
    __atomic_store_n(&s->until, until, __ATOMIC_RELAXED);
    __atomic_store_n(&s->pos, pos, __ATOMIC_RELAXED);
    __atomic_store_n(&s->sum, sum_of(buf, len), __ATOMIC_RELAXED);
    memcpy(s->key, key, OA2F_CACHE_KEY_LEN);
    /* the release in write_end publishes the value's bytes too */
    oa2f_seq_write_end(&s->seq, seq);
    return 1;
}

void oa2f_near_table_drop(oa2f_near_table_t *t, const unsigned char *key)
{
    apr_size_t set;
    unsigned int tag;
    set_t *h;

    if (!t) {
        return;
    }
    set = set_of(t, key);
    tag = tag_of(key);
    h = set_at(t, set);
    /* every way: racing stores may have put key in two */
    for (int w = 0; w < WAYS; w++) {
        slot_t *s = slot_at(t, set, w);
        unsigned int seq;

        if (__atomic_load_n(&h->tag[w], __ATOMIC_RELAXED) != tag
            || !oa2f_seq_write_begin(&s->seq, &seq)) {
            continue;
        }
        if (memcmp(s->key, key, OA2F_CACHE_KEY_LEN) == 0) {
            __atomic_store_n(&s->until, 0, __ATOMIC_RELAXED);
            __atomic_store_n(&h->until[w], 0, __ATOMIC_RELAXED);
        }
        oa2f_seq_write_end(&s->seq, seq);
    }
}
