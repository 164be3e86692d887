#include <string.h>
#include <openssl/rand.h>

#include "oa2f_key_memo.h"
#include "oa2f_seqlock.h"

typedef struct {
    unsigned int seq;  /* odd while a writer is in the slot       */
    unsigned int used; /* hit since it was written (a hint only) */
    const void *keyer;
    unsigned long long tag[2];
    unsigned char key[OA2F_CACHE_KEY_LEN];
} slot_t;

struct oa2f_key_memo_t {
    unsigned sets;
    slot_t *slot; /* sets * WAYS slots, a set's ways side by side */
    unsigned char tag_key[16];
};

/* ---- SipHash-2-4 -------------------------------------------------------- */

#define ROTL(x, b) (((x) << (b)) | ((x) >> (64 - (b))))
#define SIPROUND                                                              \
    do {                                                                      \
        v0 += v1;                                                             \
        v1 = ROTL(v1, 13);                                                    \
        v1 ^= v0;                                                             \
        v0 = ROTL(v0, 32);                                                    \
        v2 += v3;                                                             \
        v3 = ROTL(v3, 16);                                                    \
        v3 ^= v2;                                                             \
        v0 += v3;                                                             \
        v3 = ROTL(v3, 21);                                                    \
        v3 ^= v0;                                                             \
        v2 += v1;                                                             \
        v1 = ROTL(v1, 17);                                                    \
        v1 ^= v2;                                                             \
        v2 = ROTL(v2, 32);                                                    \
    } while (0)

static apr_uint64_t le64(const unsigned char *p)
{
    return (apr_uint64_t)p[0] | ((apr_uint64_t)p[1] << 8)
           | ((apr_uint64_t)p[2] << 16) | ((apr_uint64_t)p[3] << 24)
           | ((apr_uint64_t)p[4] << 32) | ((apr_uint64_t)p[5] << 40)
           | ((apr_uint64_t)p[6] << 48) | ((apr_uint64_t)p[7] << 56);
}

static void put_le64(unsigned char *p, apr_uint64_t v)
{
    int i;

    for (i = 0; i < 8; i++) {
        p[i] = (unsigned char)(v >> (8 * i));
    }
}

void oa2f_siphash24(const unsigned char k[16], const void *in, apr_size_t len,
                    unsigned char *out, int outlen)
{
    const unsigned char *m = in;
    apr_uint64_t k0 = le64(k), k1 = le64(k + 8);
    apr_uint64_t v0 = k0 ^ 0x736f6d6570736575ULL;
    apr_uint64_t v1 = k1 ^ 0x646f72616e646f6dULL;
    apr_uint64_t v2 = k0 ^ 0x6c7967656e657261ULL;
    apr_uint64_t v3 = k1 ^ 0x7465646279746573ULL;
    apr_uint64_t b = (apr_uint64_t)len << 56, w;
    apr_size_t i, left = len & 7;

    if (outlen == 16) {
        v1 ^= 0xee;
    }
    for (i = 0; i + 8 <= len; i += 8) {
        w = le64(m + i);
        v3 ^= w;
        SIPROUND;
        SIPROUND;
        v0 ^= w;
    }
    while (left--) {
        b |= (apr_uint64_t)m[i + left] << (8 * left);
    }
    v3 ^= b;
    SIPROUND;
    SIPROUND;
    v0 ^= b;
    v2 ^= (outlen == 16) ? 0xee : 0xff;
    SIPROUND;
    SIPROUND;
    SIPROUND;
    SIPROUND;
    put_le64(out, v0 ^ v1 ^ v2 ^ v3);
    if (outlen == 16) {
        v1 ^= 0xdd;
        SIPROUND;
        SIPROUND;
        SIPROUND;
        SIPROUND;
        put_le64(out + 8, v0 ^ v1 ^ v2 ^ v3);
    }
}

/* ---- the memo ----------------------------------------------------------- */

/* Ways per set: a set is four adjacent cache lines, so a working set
 * larger than the memo keeps most of its keys instead of two keys that
 * pick the same slot evicting each other on every turn (direct-mapped,
 * 20,000 keys in 32,768 slots found only about half). */
#define WAYS 4

oa2f_key_memo_t *oa2f_key_memo_create(apr_pool_t *p, unsigned slots)
{
    oa2f_key_memo_t *m;
    unsigned char *mem;

    if (slots == 0) {
        return NULL;
    }
    m = apr_pcalloc(p, sizeof(*m));
    if (RAND_bytes(m->tag_key, sizeof(m->tag_key)) != 1) {
        return NULL;
    }
    m->sets = slots < WAYS ? 1 : slots / WAYS;
    mem = apr_palloc(p, sizeof(slot_t) * WAYS * m->sets + 64);
    mem += (64 - ((apr_uintptr_t)mem & 63)) & 63;
    m->slot = (slot_t *)mem;
    for (unsigned i = 0; i < m->sets * WAYS; i++) {
        m->slot[i].seq = 0;
        m->slot[i].used = 0;
    }
    return m;
}

static slot_t *set_of(const oa2f_key_memo_t *m,
                      const unsigned long long tag[2])
{
    return &m->slot[(apr_size_t)(tag[0] % m->sets) * WAYS];
}

static int holds(const slot_t *s, const void *keyer,
                 const unsigned long long tag[2])
{
    return __atomic_load_n(&s->keyer, __ATOMIC_RELAXED) == keyer
           && __atomic_load_n(&s->tag[0], __ATOMIC_RELAXED) == tag[0]
           && __atomic_load_n(&s->tag[1], __ATOMIC_RELAXED) == tag[1];
}

int oa2f_key_memo_get(oa2f_key_memo_t *m, const void *keyer, const char *token,
                      apr_size_t len, unsigned long long tag[2],
                      unsigned char key[OA2F_CACHE_KEY_LEN])
{
    unsigned char t[16];
    slot_t *set;

    if (!m) {
        return 0;
    }
    oa2f_siphash24(m->tag_key, token, len, t, 16);
    tag[0] = le64(t);
    tag[1] = le64(t + 8);
    set = set_of(m, tag);
    for (int w = 0; w < WAYS; w++) {
        slot_t *s = &set[w];
        unsigned int seq;

        if (!(seq = oa2f_seq_read_begin(&s->seq)) || !holds(s, keyer, tag)) {
            continue;
        }
        memcpy(key, s->key, OA2F_CACHE_KEY_LEN);
        if (!oa2f_seq_read_ok(&s->seq, seq)) {
            return 0;
        }
        /* written once per key, not on every hit: no line ping-pong
         * between the threads that use a hot key */
        if (!__atomic_load_n(&s->used, __ATOMIC_RELAXED)) {
            __atomic_store_n(&s->used, 1, __ATOMIC_RELAXED);
        }
        return 1;
    }
    return 0;
}

/* The way a key goes to: the way that holds it already, else an empty
 * one, else the first not used since it was written: a key proves
 * itself by a hit and until then gives way first, so that a working set
 * larger than the set keeps a stable part of itself (what LRU does not
 * under many tokens in turn). All used: they start over unproven and
 * the tag picks one. */
static slot_t *victim(slot_t *set, const void *keyer,
                      const unsigned long long tag[2])
{
    int unproven = -1;

    for (int w = 0; w < WAYS; w++) {
        if (!__atomic_load_n(&set[w].seq, __ATOMIC_RELAXED)
            || holds(&set[w], keyer, tag)) {
            return &set[w];
        }
        if (unproven < 0 && !__atomic_load_n(&set[w].used, __ATOMIC_RELAXED)) {
            unproven = w;
        }
    }
    if (unproven >= 0) {
        return &set[unproven];
    }
    for (int w = 0; w < WAYS; w++) {
        __atomic_store_n(&set[w].used, 0, __ATOMIC_RELAXED);
    }
    return &set[tag[1] % WAYS];
}

void oa2f_key_memo_put(oa2f_key_memo_t *m, const void *keyer,
                       const unsigned long long tag[2],
                       const unsigned char key[OA2F_CACHE_KEY_LEN])
{
    slot_t *s;
    unsigned int seq;

    if (!m) {
        return;
    }
    s = victim(set_of(m, tag), keyer, tag);
    if (!oa2f_seq_write_begin(&s->seq, &seq)) {
        return; /* another writer is here: skip */
    }
    __atomic_store_n(&s->used, 0, __ATOMIC_RELAXED);
    __atomic_store_n(&s->keyer, keyer, __ATOMIC_RELAXED);
    __atomic_store_n(&s->tag[0], tag[0], __ATOMIC_RELAXED);
    __atomic_store_n(&s->tag[1], tag[1], __ATOMIC_RELAXED);
    memcpy(s->key, key, OA2F_CACHE_KEY_LEN);
    oa2f_seq_write_end(&s->seq, seq);
}
