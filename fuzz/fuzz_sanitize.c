/* Fuzz target: header and environment names and values built from
 * provider fields (oa2f_sanitize.h). The input is the field name (up to
 * its first NUL) and, as raw bytes, the value.
 *
 * Invariants checked besides "no crash, no leak, no UB":
 *  - oa2f_clean_value keeps exactly the bytes that are not 0x00-0x1F or
 *    0x7F, in order (so nothing can split or add a header line);
 *  - oa2f_env_name is the prefix then only [A-Z0-9_], one per field byte
 *    (capped at 256);
 *  - a field that is an HTTP token makes a header (prefix then field)
 *    that the strip recognises by its prefix;
 *  - oa2f_is_http_token and oa2f_has_prefix_folded agree with our own
 *    reading of RFC 9110 tchar and of the folding rule;
 *  - the allocation-free checks the cache decoder uses agree with the
 *    functions they check: oa2f_has_control with oa2f_clean_value,
 *    oa2f_is_clean_of with oa2f_clean_value (and refuses the value with
 *    one byte changed or dropped), oa2f_field_names_are with
 *    oa2f_env_name and oa2f_is_http_token (and refuses a suffix one byte
 *    longer or shorter, or the other token flag). */
#include <apr_strings.h>

#include "fuzz_common.h"
#include "oa2f_sanitize.h"

#define NAME_MAX_LEN 256   /* OA2F_NAME_MAX in oa2f_sanitize.c */

static int is_tchar(unsigned char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z')
           || (c >= '0' && c <= '9') || (c && strchr("!#$%&'*+-.^_`|~", c));
}

static int is_token(const char *s)
{
    if (!*s) {
        return 0;
    }
    for (; *s; s++) {
        if (!is_tchar((unsigned char)*s)) {
            return 0;
        }
    }
    return 1;
}

static int fold(int c)
{
    if (c >= 'A' && c <= 'Z') c += 'a' - 'A';
    return c == '_' ? '-' : c;
}

static int prefix_folded(const char *name, const char *prefix)
{
    size_t i;

    for (i = 0; prefix[i]; i++) {
        if (!name[i] || fold((unsigned char)name[i])
                        != fold((unsigned char)prefix[i])) {
            return 0;
        }
    }
    return 1;
}

static void check_names(apr_pool_t *p, const char *prefix, const char *field)
{
    size_t plen = strlen(prefix), flen = strlen(field), i;
    const char *h, *e;

    /* header name: the enrichment sends prefix + field when the field
     * is an HTTP token; the strip must recognise it by its prefix */
    FZ_ASSERT(oa2f_is_http_token(field) == is_token(field),
              "oa2f_is_http_token disagrees");
    if (is_token(field)) {
        h = apr_pstrcat(p, prefix, field, NULL);
        FZ_ASSERT(prefix_folded(h, prefix)
                  && oa2f_has_prefix_folded(h, prefix),
                  "own header not recognised by its prefix");
    }

    /* environment name */
    e = oa2f_env_name(p, prefix, field);
    FZ_ASSERT(e != NULL, "env name NULL");
    FZ_ASSERT(memcmp(e, prefix, plen) == 0, "env name lost its prefix");
    FZ_ASSERT(strlen(e) == plen + (flen > NAME_MAX_LEN ? NAME_MAX_LEN : flen),
              "env name length %zu", strlen(e));
    for (i = plen; e[i]; i++) {
        unsigned char c = (unsigned char)e[i];
        FZ_ASSERT((c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')
                  || c == '_', "env name byte 0x%02x", c);
        if ((c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')) {
            unsigned char f = (unsigned char)field[i - plen];
            FZ_ASSERT(f == c || f == c + ('a' - 'A'),
                      "env name byte does not come from the field");
        }
    }

    FZ_ASSERT(oa2f_has_prefix_folded(field, prefix)
              == prefix_folded(field, prefix),
              "oa2f_has_prefix_folded disagrees");
}

static void check_derived(apr_pool_t *p, const char *field)
{
    const char *e = oa2f_env_name(p, "", field);
    int t = oa2f_is_http_token(field);
    size_t elen = strlen(e);

    FZ_ASSERT(oa2f_field_names_are(field, e, t),
              "oa2f_field_names_are refuses the field's own names");
    FZ_ASSERT(!oa2f_field_names_are(field, e, !t),
              "oa2f_field_names_are takes the other token flag");
    FZ_ASSERT(!oa2f_field_names_are(field, apr_pstrcat(p, e, "A", NULL), t),
              "oa2f_field_names_are takes a longer suffix");
    if (elen) {
        char *x = apr_pstrdup(p, e);
        x[elen - 1] = '\0';
        FZ_ASSERT(!oa2f_field_names_are(field, x, t),
                  "oa2f_field_names_are takes a shorter suffix");
        x = apr_pstrdup(p, e);
        x[elen / 2] = x[elen / 2] == 'A' ? 'B' : 'A';
        FZ_ASSERT(!oa2f_field_names_are(field, x, t),
                  "oa2f_field_names_are takes a changed suffix");
    }
}

static void check_clean_of(apr_pool_t *p, const char *value, size_t size,
                           const char *clean)
{
    size_t clen = strlen(clean);
    char *x;

    FZ_ASSERT(oa2f_has_control(value, size) == (clen != size),
              "oa2f_has_control disagrees with oa2f_clean_value");
    FZ_ASSERT(oa2f_is_clean_of(value, size, clean, clen),
              "oa2f_is_clean_of refuses the clean value");
    FZ_ASSERT(oa2f_is_clean_of(value, size, value, size) == (clen == size),
              "oa2f_is_clean_of of the value itself is wrong");
    if (clen) {
        FZ_ASSERT(!oa2f_is_clean_of(value, size, clean, clen - 1),
                  "oa2f_is_clean_of takes a shorter value");
        x = apr_pstrdup(p, clean);
        x[clen / 2] ^= 0x01;
        FZ_ASSERT(!oa2f_is_clean_of(value, size, x, clen),
                  "oa2f_is_clean_of takes a changed value");
    }
    x = apr_pstrcat(p, clean, "x", NULL);
    FZ_ASSERT(!oa2f_is_clean_of(value, size, x, clen + 1),
              "oa2f_is_clean_of takes a longer value");
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    apr_pool_t *p = fz_pool_begin();
    char *field = fz_cstr(data, size);
    const char *v;
    size_t i, o, kept = 0;

    check_names(p, "X-AGW-", field);
    check_names(p, "AGW_", field);
    check_names(p, "", field);
    FZ_ASSERT(oa2f_has_prefix_folded(field, ""), "empty prefix");
    check_derived(p, field);

    /* value: the raw bytes, NULs included */
    v = oa2f_clean_value(p, (const char *)data, size);
    FZ_ASSERT(v != NULL, "clean value NULL");
    for (i = 0; i < size; i++) {
        if (data[i] >= 0x20 && data[i] != 0x7f) {
            kept++;
        }
    }
    FZ_ASSERT(strlen(v) == kept, "clean value has %zu bytes, expected %zu",
              strlen(v), kept);
    for (i = 0, o = 0; i < size; i++) {
        if (data[i] >= 0x20 && data[i] != 0x7f) {
            FZ_ASSERT((unsigned char)v[o] == data[i], "byte %zu changed", i);
            o++;
        }
    }
    for (o = 0; v[o]; o++) {
        unsigned char c = (unsigned char)v[o];
        FZ_ASSERT(c >= 0x20 && c != 0x7f, "control byte 0x%02x kept", c);
    }
    check_clean_of(p, (const char *)data, size, v);

    free(field);
    fz_pool_end(p);
    return 0;
}
