/* Fuzz target: scope sets, oa2f_scope_split() and oa2f_scope_has_all().
 * The input is two scope strings separated by the first '\n' (or one,
 * used as both "have" and "need", when there is none); NULs end a string.
 *
 * Invariants checked besides "no crash, no leak, no UB":
 *  - split gives non-empty elements without a space, which joined with
 *    single spaces are the string with its runs of spaces collapsed;
 *  - has_all agrees with a plain nested-loop check; a set has all of
 *    itself and of the empty set; contains finds every element;
 *  - a NULL "have" never satisfies a non-empty "need". */
#include "fuzz_common.h"
#include "oa2f_scope.h"

/* contains/has_all are linear per lookup; big sets are checked in part */
#define MAX_NEED 64

/* s with leading/trailing spaces removed and runs collapsed to one */
static char *collapse(const char *s)
{
    char *out = malloc(strlen(s) + 1);
    size_t o = 0;

    for (; *s; s++) {
        if (*s == ' ') {
            continue;
        }
        if (o && s[-1] == ' ') {
            out[o++] = ' ';
        }
        out[o++] = *s;
    }
    out[o] = '\0';
    return out;
}

static void check_split(apr_pool_t *p, const char *s,
                        apr_array_header_t **out)
{
    apr_array_header_t *a = oa2f_scope_split(p, s);
    char *want = collapse(s);
    size_t o = 0;
    int i;

    FZ_ASSERT(a != NULL && a->elt_size == sizeof(const char *),
              "split gave no array");
    for (i = 0; i < a->nelts; i++) {
        const char *e = APR_ARRAY_IDX(a, i, const char *);
        size_t n = strlen(e);
        FZ_ASSERT(n > 0, "empty scope element %d", i);
        FZ_ASSERT(!strchr(e, ' '), "space in scope element %d", i);
        if (i) {
            FZ_ASSERT(want[o] == ' ', "elements not separated as in input");
            o++;
        }
        FZ_ASSERT(strncmp(want + o, e, n) == 0, "element %d differs", i);
        o += n;
        if (i < MAX_NEED || i >= a->nelts - 4) {
            FZ_ASSERT(oa2f_scope_contains(a, e), "contains misses element %d",
                      i);
        }
    }
    FZ_ASSERT(want[o] == '\0', "split lost a scope");
    free(want);
    *out = a;
}

static int naive_has_all(const apr_array_header_t *have,
                         const apr_array_header_t *need)
{
    int i, j;

    for (i = 0; i < need->nelts; i++) {
        int found = 0;
        for (j = 0; j < have->nelts && !found; j++) {
            found = strcmp(APR_ARRAY_IDX(need, i, const char *),
                           APR_ARRAY_IDX(have, j, const char *)) == 0;
        }
        if (!found) {
            return 0;
        }
    }
    return 1;
}

/* the first MAX_NEED elements of a */
static apr_array_header_t *head(apr_pool_t *p, const apr_array_header_t *a)
{
    apr_array_header_t *h = apr_array_make(p, MAX_NEED, sizeof(const char *));
    int i;

    for (i = 0; i < a->nelts && i < MAX_NEED; i++) {
        APR_ARRAY_PUSH(h, const char *) = APR_ARRAY_IDX(a, i, const char *);
    }
    return h;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    apr_pool_t *p = fz_pool_begin();
    char *buf = fz_cstr(data, size);
    char *nl = strchr(buf, '\n');
    const char *s_have = buf, *s_need = nl ? nl + 1 : buf;
    apr_array_header_t *have, *need, *empty;

    if (nl) {
        *nl = '\0';
    }
    check_split(p, s_have, &have);
    check_split(p, s_need, &need);
    empty = oa2f_scope_split(p, "");
    FZ_ASSERT(empty->nelts == 0, "empty string gave scopes");
    FZ_ASSERT(oa2f_scope_split(p, NULL)->nelts == 0, "NULL gave scopes");

    /* has_all is O(have * need), fine for a handful of required scopes;
     * the fuzzer's 64 KiB inputs would give ~10^9 comparisons, so check
     * big sets against the first MAX_NEED elements of the other one */
    {
        apr_array_header_t *n1 = head(p, need), *h1 = head(p, have);
        FZ_ASSERT(oa2f_scope_has_all(have, n1) == naive_has_all(have, n1),
                  "has_all(have, need) disagrees");
        FZ_ASSERT(oa2f_scope_has_all(need, h1) == naive_has_all(need, h1),
                  "has_all(need, have) disagrees");
        FZ_ASSERT(oa2f_scope_has_all(have, h1), "a set lacks itself");
        if (n1->nelts == need->nelts) {
            FZ_ASSERT(oa2f_scope_has_all(have, need)
                      == naive_has_all(have, need), "has_all disagrees");
        }
    }
    FZ_ASSERT(oa2f_scope_has_all(have, empty), "empty need not met");
    FZ_ASSERT(oa2f_scope_has_all(have, NULL), "NULL need not met");
    FZ_ASSERT(oa2f_scope_has_all(NULL, need) == (need->nelts == 0),
              "NULL have and %d needed", need->nelts);
    FZ_ASSERT(oa2f_scope_has_all(empty, need) == (need->nelts == 0),
              "empty have and %d needed", need->nelts);

    free(buf);
    fz_pool_end(p);
    return 0;
}
