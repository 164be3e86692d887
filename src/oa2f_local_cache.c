/* Per-process, lock-free copy of recent cache entries (see the header). */
#include <string.h>

#include "oa2f_local_cache.h"
#include "oa2f_seqlock.h"

typedef struct {
    unsigned int seq; /* odd while a writer is in the slot */
    unsigned int len;
    long long until;
    unsigned char key[OA2F_CACHE_KEY_LEN];
    unsigned char data[];
} slot_t;

struct oa2f_local_cache_t {
    unsigned slots;
    apr_size_t entry_max;
    apr_size_t stride;
    unsigned char *mem;
};

oa2f_local_cache_t *oa2f_local_cache_create(apr_pool_t *p, unsigned slots,
                                            apr_size_t entry_max)
{
    oa2f_local_cache_t *lc;

    if (slots == 0) {
        return NULL;
    }
    lc = apr_pcalloc(p, sizeof(*lc));
    lc->slots = slots;
    lc->entry_max = entry_max;
    /* a cache line apart, so that slots do not share one */
    lc->stride = (sizeof(slot_t) + entry_max + 63) & ~(apr_size_t)63;
    /* calloc-like zeroing would touch every page up front */
    lc->mem = apr_palloc(p, lc->stride * slots + 64);
    lc->mem += (64 - ((apr_uintptr_t)lc->mem & 63)) & 63;
    for (unsigned i = 0; i < slots; i++) {
        slot_t *s = (slot_t *)(lc->mem + lc->stride * i);
        s->seq = 0;
        s->len = 0;
        s->until = 0;
    }
    return lc;
}

/* Keys are hash outputs: any four bytes spread evenly. */
static slot_t *slot_for(oa2f_local_cache_t *lc, const unsigned char *key)
{
    unsigned int h;

    memcpy(&h, key, sizeof(h));
    return (slot_t *)(lc->mem + lc->stride * (h % lc->slots));
}

int oa2f_local_cache_get(oa2f_local_cache_t *lc, const unsigned char *key,
                         long long now, apr_pool_t *p, unsigned char **buf,
                         apr_size_t *len)
{
    slot_t *s;
    unsigned int seq, n;
    unsigned char *copy;

    if (!lc) {
        return 0;
    }
    s = slot_for(lc, key);
    if (!(seq = oa2f_seq_read_begin(&s->seq))) {
        return 0;
    }
    n = __atomic_load_n(&s->len, __ATOMIC_RELAXED);
    if (n == 0 || n > lc->entry_max
        || __atomic_load_n(&s->until, __ATOMIC_RELAXED) <= now
        || memcmp(s->key, key, OA2F_CACHE_KEY_LEN) != 0) {
        return 0;
    }
    copy = apr_palloc(p, n);
    memcpy(copy, s->data, n);
    if (!oa2f_seq_read_ok(&s->seq, seq)) {
        return 0;
    }
    *buf = copy;
    *len = n;
    return 1;
}

void oa2f_local_cache_put(oa2f_local_cache_t *lc, const unsigned char *key,
                          long long until, const unsigned char *buf,
                          apr_size_t len)
{
    slot_t *s;
    unsigned int seq;

    if (!lc || len == 0 || len > lc->entry_max) {
        return;
    }
    s = slot_for(lc, key);
    if (!oa2f_seq_write_begin(&s->seq, &seq)) {
        return; /* another writer is here: skip */
    }
    __atomic_store_n(&s->len, (unsigned int)len, __ATOMIC_RELAXED);
    __atomic_store_n(&s->until, until, __ATOMIC_RELAXED);
    memcpy(s->key, key, OA2F_CACHE_KEY_LEN);
    memcpy(s->data, buf, len);
    oa2f_seq_write_end(&s->seq, seq);
}

void oa2f_local_cache_drop(oa2f_local_cache_t *lc, const unsigned char *key)
{
    slot_t *s;
    unsigned int seq;

    if (!lc) {
        return;
    }
    s = slot_for(lc, key);
    if (!oa2f_seq_write_begin(&s->seq, &seq)) {
        return;
    }
    if (memcmp(s->key, key, OA2F_CACHE_KEY_LEN) == 0) {
        __atomic_store_n(&s->until, 0, __ATOMIC_RELAXED);
    }
    oa2f_seq_write_end(&s->seq, seq);
}
