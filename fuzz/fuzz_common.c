/* Shared harness: APR set-up and per-input pools (see fuzz_common.h). */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <dlfcn.h>

#include <apr_general.h>

#include "fuzz_common.h"

int LLVMFuzzerInitialize(int *argc, char ***argv);

static apr_pool_t *fz_current;      /* the pool of the running input     */
static int fz_exact = 1;            /* malloc-backed pool blocks         */
static void **fz_blocks;            /* blocks handed out for fz_current  */
static size_t fz_nblocks, fz_capblocks;

typedef void *(*palloc_fn)(apr_pool_t *, apr_size_t);
static palloc_fn real_palloc;

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    const char *env = getenv("FUZZ_REAL_POOLS");

    (void)argc;
    (void)argv;
    if (apr_initialize() != APR_SUCCESS) {
        fprintf(stderr, "apr_initialize failed\n");
        abort();
    }
    atexit(apr_terminate);
    fz_exact = !(env && *env && strcmp(env, "0") != 0);
    return 0;
}

static int tracked(apr_pool_t *p)
{
    return fz_exact && fz_current && p && apr_pool_is_ancestor(fz_current, p);
}

/* Interposes libapr's apr_palloc (libapr itself calls it through the PLT,
 * so apr_pstrdup, apr_array_push, cleanup records… come here too). */
void *apr_palloc(apr_pool_t *p, apr_size_t size)
{
    void *m;

    if (!tracked(p)) {
        if (!real_palloc) {
            /* apr_initialize() allocates before we could look it up */
            real_palloc = (palloc_fn)dlsym(RTLD_NEXT, "apr_palloc");
            if (!real_palloc) {
                abort();
            }
        }
        return real_palloc(p, size);
    }
    if (fz_nblocks == fz_capblocks) {
        size_t cap = fz_capblocks ? 2 * fz_capblocks : 1024;
        void **nb = realloc(fz_blocks, cap * sizeof(*nb));
        if (!nb) {
            abort();
        }
        fz_blocks = nb;
        fz_capblocks = cap;
    }
    m = malloc(size ? size : 1);
    if (!m) {
        abort();
    }
    fz_blocks[fz_nblocks++] = m;
    return m;
}

#undef apr_pcalloc
void *apr_pcalloc(apr_pool_t *p, apr_size_t size)
{
    void *m = apr_palloc(p, size);

    memset(m, 0, size);
    return m;
}

apr_pool_t *fz_pool_begin(void)
{
    apr_pool_t *p = NULL;

    if (apr_pool_create(&p, NULL) != APR_SUCCESS || !p) {
        fprintf(stderr, "apr_pool_create failed\n");
        abort();
    }
    fz_current = p;
    return p;
}

void fz_pool_end(apr_pool_t *p)
{
    size_t i;

    /* cleanups (json_object_put…) run while the blocks still exist */
    apr_pool_destroy(p);
    fz_current = NULL;
    for (i = 0; i < fz_nblocks; i++) {
        free(fz_blocks[i]);
    }
    fz_nblocks = 0;
}

char *fz_cstr(const uint8_t *data, size_t size)
{
    char *s = malloc(size + 1);

    if (!s) {
        abort();
    }
    if (size) {
        memcpy(s, data, size);
    }
    s[size] = '\0';
    return s;
}

unsigned char *fz_copy(const uint8_t *data, size_t size)
{
    unsigned char *s = malloc(size ? size : 1);

    if (!s) {
        abort();
    }
    if (size) {
        memcpy(s, data, size);
    }
    return s;
}
