/* Per-process, lock-free copy of recent cache entries (see the header). */
#include <string.h>

#include "oa2f_local_cache.h"
#include "oa2f_seqlock.h"

/* Ways per set: a set's header is two cache lines, and a lookup reads
 * it and then only the slot whose tag matches. */
#define WAYS 8

typedef struct {
    unsigned int seq; /* odd while a writer is in the slot */
    unsigned int len;
    long long until;
    unsigned char key[OA2F_CACHE_KEY_LEN];
    unsigned char data[];
} slot_t;

/* What a lookup and the choice of a victim read without touching the
 * slots; hints only: the slot's seqlock and its full key decide. */
typedef struct {
    long long until[WAYS];     /* copy of the slot's until               */
    unsigned int tag[WAYS];    /* a word of the key; 0: never written    */
    unsigned short born[WAYS]; /* the set's store count when written     */
    unsigned char used[WAYS];  /* hit since it was written               */
    /* the clock of `born`, per set: a count shared by the child's
     * threads would be one more line that every store moves between
     * cores */
    unsigned short stores;
} __attribute__((aligned(64))) set_t;

_Static_assert(sizeof(set_t) == 128, "a set's header is two cache lines");

struct oa2f_local_cache_t {
    unsigned sets;
    apr_size_t entry_max;
    apr_size_t stride;
    set_t *head;
    unsigned char *mem;
};

static void *aligned(apr_pool_t *p, apr_size_t n)
{
    unsigned char *m = apr_palloc(p, n + 64);

    return m + ((64 - ((apr_uintptr_t)m & 63)) & 63);
}

oa2f_local_cache_t *oa2f_local_cache_create(apr_pool_t *p, unsigned slots,
                                            apr_size_t entry_max)
{
    oa2f_local_cache_t *lc;
    unsigned n;

    if (slots == 0) {
        return NULL;
    }
    lc = apr_pcalloc(p, sizeof(*lc));
    lc->sets = slots < WAYS ? 1 : slots / WAYS;
    n = lc->sets * WAYS;
    lc->entry_max = entry_max;
    /* a cache line apart, so that slots do not share one */
    lc->stride = (sizeof(slot_t) + entry_max + 63) & ~(apr_size_t)63;
    lc->head = aligned(p, sizeof(set_t) * lc->sets);
    memset(lc->head, 0, sizeof(set_t) * lc->sets);
    /* calloc-like zeroing of the slots would touch every page up front */
    lc->mem = aligned(p, lc->stride * n);
    for (unsigned i = 0; i < n; i++) {
        slot_t *s = (slot_t *)(lc->mem + lc->stride * i);
        s->seq = 0;
        s->len = 0;
        s->until = 0;
    }
    return lc;
}

/* Keys are hash outputs: any four bytes spread evenly. The first word
 * picks the set, the second is the tag. */
static unsigned set_of(const oa2f_local_cache_t *lc, const unsigned char *key)
{
    unsigned int h;

    memcpy(&h, key, sizeof(h));
    return h % lc->sets;
}

static unsigned int tag_of(const unsigned char *key)
{
    unsigned int t;

    memcpy(&t, key + sizeof(t), sizeof(t));
    return t ? t : 1;
}

static slot_t *slot_at(const oa2f_local_cache_t *lc, unsigned set, int way)
{
    return (slot_t *)(lc->mem
                      + lc->stride
                            * ((apr_size_t)set * WAYS + (apr_size_t)way));
}

int oa2f_local_cache_get(oa2f_local_cache_t *lc, const unsigned char *key,
                         long long now, apr_pool_t *p, unsigned char **buf,
                         apr_size_t *len)
{
    unsigned set;
    unsigned int tag;
    set_t *h;

    if (!lc) {
        return 0;
    }
    set = set_of(lc, key);
    tag = tag_of(key);
    h = &lc->head[set];
    for (int w = 0; w < WAYS; w++) {
        slot_t *s;
        unsigned int seq, n;
        unsigned char *copy;

        if (__atomic_load_n(&h->tag[w], __ATOMIC_RELAXED) != tag) {
            continue;
        }
        s = slot_at(lc, set, w);
        if (!(seq = oa2f_seq_read_begin(&s->seq))) {
            continue;
        }
        n = __atomic_load_n(&s->len, __ATOMIC_RELAXED);
        if (n == 0 || n > lc->entry_max
            || __atomic_load_n(&s->until, __ATOMIC_RELAXED) <= now
            || memcmp(s->key, key, OA2F_CACHE_KEY_LEN) != 0) {
            continue;
        }
        copy = apr_palloc(p, n);
        memcpy(copy, s->data, n);
        if (!oa2f_seq_read_ok(&s->seq, seq)) {
            continue;
        }
        /* written once per entry, not on every hit: no line ping-pong
         * between the threads that read a hot entry */
        if (!__atomic_load_n(&h->used[w], __ATOMIC_RELAXED)) {
            __atomic_store_n(&h->used[w], 1, __ATOMIC_RELAXED);
        }
        *buf = copy;
        *len = n;
        return 1;
    }
    return 0;
}

/* The way a store of key goes to:
 * 1. the way that holds key already;
 * 2. a way never written or expired;
 * 3. among the ways not hit since they were written, the newest: an
 *    entry proves itself by a hit, and until then gives way first, so a
 *    working set larger than the table keeps a stable part of itself
 *    instead of evicting each entry just before it is asked for again
 *    (what LRU does under many tokens in turn);
 * 4. all were hit: they start over unproven (a second chance, as in
 *    CLOCK) and the oldest goes. */
static int victim(oa2f_local_cache_t *lc, unsigned set,
                  const unsigned char *key, unsigned int tag, long long now,
                  int *unproven)
{
    set_t *h = &lc->head[set];
    int newest = -1, oldest = 0;
    unsigned short nb = 0, ob = 0;

    *unproven = 0;
    for (int w = 0; w < WAYS; w++) {
        if (__atomic_load_n(&h->tag[w], __ATOMIC_RELAXED) == tag
            && memcmp(slot_at(lc, set, w)->key, key, OA2F_CACHE_KEY_LEN)
                   == 0) {
            return w;
        }
    }
    for (int w = 0; w < WAYS; w++) {
        unsigned short born = __atomic_load_n(&h->born[w], __ATOMIC_RELAXED);

        if (!__atomic_load_n(&h->tag[w], __ATOMIC_RELAXED)
            || __atomic_load_n(&h->until[w], __ATOMIC_RELAXED) <= now) {
            return w;
        }
        /* born counts stores and may wrap: compare differences */
        if (!__atomic_load_n(&h->used[w], __ATOMIC_RELAXED)
            && (newest < 0 || (short)(born - nb) > 0)) {
            newest = w;
            nb = born;
        }
        if (w == 0 || (short)(born - ob) < 0) {
            oldest = w;
            ob = born;
        }
    }
    if (newest >= 0) {
        *unproven = 1;
        return newest;
    }
    for (int w = 0; w < WAYS; w++) {
        __atomic_store_n(&h->used[w], 0, __ATOMIC_RELAXED);
    }
    return oldest;
}

/* A thread's own pseudo-random numbers (xorshift32): which offers are
 * taken needs no quality, only no shared state. */
static unsigned int offer_draw(void)
{
    static __thread unsigned int x;

    if (!x) {
        x = (unsigned int)(apr_uintptr_t)&x | 1;
    }
    x ^= x << 13;
    x ^= x >> 17;
    x ^= x << 5;
    return x;
}

static int store(oa2f_local_cache_t *lc, const unsigned char *key,
                 long long now, long long until, const unsigned char *buf,
                 apr_size_t len, int offer)
{
    unsigned set;
    unsigned int tag, seq;
    unsigned short born;
    set_t *h;
    slot_t *s;
    int w, unproven;

    if (!lc || len == 0 || len > lc->entry_max || until <= now) {
        return 0;
    }
    set = set_of(lc, key);
    tag = tag_of(key);
    h = &lc->head[set];
    w = victim(lc, set, key, tag, now, &unproven);
    if (offer && unproven && offer_draw() % OA2F_LOCAL_OFFER_ONE_IN) {
        return 0;
    }
    s = slot_at(lc, set, w);
    if (!oa2f_seq_write_begin(&s->seq, &seq)) {
        return 0; /* another writer is here: skip */
    }
    __atomic_store_n(&h->tag[w], tag, __ATOMIC_RELAXED);
    /* racing stores to one set may take the same count: a hint */
    born = (unsigned short)(__atomic_load_n(&h->stores, __ATOMIC_RELAXED) + 1);
    __atomic_store_n(&h->stores, born, __ATOMIC_RELAXED);
    __atomic_store_n(&h->born[w], born, __ATOMIC_RELAXED);
    __atomic_store_n(&h->until[w], until, __ATOMIC_RELAXED);
    __atomic_store_n(&h->used[w], 0, __ATOMIC_RELAXED);
    __atomic_store_n(&s->len, (unsigned int)len, __ATOMIC_RELAXED);
    __atomic_store_n(&s->until, until, __ATOMIC_RELAXED);
    memcpy(s->key, key, OA2F_CACHE_KEY_LEN);
    memcpy(s->data, buf, len);
    oa2f_seq_write_end(&s->seq, seq);
    return 1;
}

void oa2f_local_cache_put(oa2f_local_cache_t *lc, const unsigned char *key,
                          long long now, long long until,
                          const unsigned char *buf, apr_size_t len)
{
    store(lc, key, now, until, buf, len, 0);
}

int oa2f_local_cache_offer(oa2f_local_cache_t *lc, const unsigned char *key,
                           long long now, long long until,
                           const unsigned char *buf, apr_size_t len)
{
    return store(lc, key, now, until, buf, len, 1);
}

void oa2f_local_cache_drop(oa2f_local_cache_t *lc, const unsigned char *key)
{
    unsigned set;
    unsigned int tag;
    set_t *h;

    if (!lc) {
        return;
    }
    set = set_of(lc, key);
    tag = tag_of(key);
    h = &lc->head[set];
    /* every way: racing stores may have put key in two */
    for (int w = 0; w < WAYS; w++) {
        slot_t *s = slot_at(lc, set, w);
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
