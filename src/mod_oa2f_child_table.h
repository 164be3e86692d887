/* What a per-child table (JWKS sets, metadata documents, forwarded JWTs)
 * allocates from and locks: a pool of its own, touched only under the
 * table's lock, since APR pools are not thread-safe and the child's pool
 * is shared by every table. */
#ifndef MOD_OA2F_CHILD_TABLE_H
#define MOD_OA2F_CHILD_TABLE_H

#include <apr_pools.h>
#include <apr_thread_mutex.h>

typedef struct {
    apr_pool_t *pool;
#if APR_HAS_THREADS
    apr_thread_mutex_t *lock;
#endif
} oa2f_child_table_t;

/* APR_SUCCESS, or the error that leaves the table unusable. */
static inline apr_status_t oa2f_child_table_init(oa2f_child_table_t *t,
                                                 apr_pool_t *pchild)
{
    apr_status_t rv = apr_pool_create(&t->pool, pchild);

#if APR_HAS_THREADS
    if (rv == APR_SUCCESS) {
        rv = apr_thread_mutex_create(&t->lock, APR_THREAD_MUTEX_DEFAULT,
                                     pchild);
    }
#endif
    return rv;
}

static inline void oa2f_child_table_lock(oa2f_child_table_t *t)
{
#if APR_HAS_THREADS
    apr_thread_mutex_lock(t->lock);
#else
    (void)t;
#endif
}

static inline void oa2f_child_table_unlock(oa2f_child_table_t *t)
{
#if APR_HAS_THREADS
    apr_thread_mutex_unlock(t->lock);
#else
    (void)t;
#endif
}

#endif
