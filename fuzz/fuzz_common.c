/* Shared harness: APR set-up and per-input pools (see fuzz_common.h). */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <dlfcn.h>

#include <apr_general.h>

#include "fuzz_common.h"
#include "oa2f_sanitize.h"

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

void fz_check_prepared(apr_pool_t *p, const oa2f_claims_t *c)
{
    size_t i;
    int f;

    for (f = 0; f < c->fields->nelts; f++) {
        const oa2f_field_t *fd = &APR_ARRAY_IDX(c->fields, f, oa2f_field_t);
        FZ_ASSERT(fd->shown && strcmp(fd->shown, oa2f_clean_value(
                      p, fd->value, fd->value_len)) == 0,
                  "field %d: shown is not the value cleaned", f);
        FZ_ASSERT(fd->env_suffix
                  && strcmp(fd->env_suffix,
                            oa2f_env_name(p, "", fd->name)) == 0,
                  "field %d: env suffix is not the name's", f);
        FZ_ASSERT(fd->is_token == oa2f_is_http_token(fd->name),
                  "field %d: token flag %d is not the name's", f,
                  fd->is_token);
    }
    FZ_ASSERT(c->raw && c->shown_raw && strcmp(c->raw, c->shown_raw) == 0
              && strlen(c->raw) == c->raw_len,
              "raw and shown_raw differ");
    for (i = 0; i < c->raw_len; i++) {
        unsigned char ch = (unsigned char)c->raw[i];
        FZ_ASSERT(ch >= 0x20 && ch != 0x7f, "raw byte %zu is 0x%02x", i, ch);
    }
}
