/* A sequence lock for one slot of a per-process table (the per-child
 * copy, the key memo): readers never block and retry nothing, a torn
 * read is a miss; a writer that finds another writer in the slot skips
 * its write. The sequence is odd while a writer is in the slot, and 0
 * before the first write. */
#ifndef OA2F_SEQLOCK_H
#define OA2F_SEQLOCK_H

/* The sequence to compare after reading; 0 when the slot is empty or
 * being written (a miss). */
static inline unsigned int oa2f_seq_read_begin(const unsigned int *seq)
{
    unsigned int s = __atomic_load_n(seq, __ATOMIC_ACQUIRE);

    return (s & 1) ? 0 : s;
}

/* 1 when nothing was written during the read that began with `begun`. */
static inline int oa2f_seq_read_ok(const unsigned int *seq, unsigned int begun)
{
    /* everything read before happened before the sequence is checked */
    __atomic_thread_fence(__ATOMIC_ACQUIRE);
    return __atomic_load_n(seq, __ATOMIC_RELAXED) == begun;
}

/* 1 and *begun when this writer owns the slot; 0: skip the write. */
static inline int oa2f_seq_write_begin(unsigned int *seq, unsigned int *begun)
{
    unsigned int s = __atomic_load_n(seq, __ATOMIC_RELAXED);

    if ((s & 1)
        || !__atomic_compare_exchange_n(seq, &s, s + 1, 0, __ATOMIC_ACQUIRE,
                                        __ATOMIC_RELAXED)) {
        return 0;
    }
    /* the odd sequence is visible before any byte of the slot changes */
    __atomic_thread_fence(__ATOMIC_RELEASE);
    *begun = s;
    return 1;
}

static inline void oa2f_seq_write_end(unsigned int *seq, unsigned int begun)
{
    __atomic_store_n(seq, begun + 2, __ATOMIC_RELEASE);
}

#endif
