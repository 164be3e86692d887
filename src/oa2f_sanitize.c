/* Header and environment names and values built from provider fields.
 * Provider answers are untrusted input: nothing from them may split a
 * header line or forge another header (PROVIDERS.md §10 item 21). */
#include <string.h>
#include <apr_strings.h>
#include <apr_lib.h>

#include "oa2f_sanitize.h"

/* Longest header or variable name we build. */
#define OA2F_NAME_MAX 256

int oa2f_is_http_token(const char *s)
{
    /* tchar = "!" / "#" / "$" / "%" / "&" / "'" / "*" / "+" / "-" / "."
     *       / "^" / "_" / "`" / "|" / "~" / DIGIT / ALPHA */
    if (!s || !*s) {
        return 0;
    }
    for (; *s; s++) {
        unsigned char c = (unsigned char)*s;
        if (!(apr_isalnum(c) || strchr("!#$%&'*+-.^_`|~", c))) {
            return 0;
        }
    }
    return 1;
}

const char *oa2f_header_name(apr_pool_t *p, const char *prefix,
                             const char *field)
{
    if (!oa2f_is_http_token(field)
        || strlen(prefix) + strlen(field) > OA2F_NAME_MAX) {
        return NULL;
    }
    return apr_pstrcat(p, prefix, field, NULL);
}

const char *oa2f_env_name(apr_pool_t *p, const char *prefix,
                          const char *field)
{
    apr_size_t plen = strlen(prefix), flen = strlen(field), i;
    char *out;

    if (flen > OA2F_NAME_MAX) {
        flen = OA2F_NAME_MAX;
    }
    out = apr_palloc(p, plen + flen + 1);
    memcpy(out, prefix, plen);
    for (i = 0; i < flen; i++) {
        unsigned char c = (unsigned char)apr_toupper(field[i]);
        out[plen + i] = (apr_isupper(c) || apr_isdigit(c) || c == '_')
                        ? (char)c : '_';
    }
    out[plen + flen] = '\0';
    return out;
}

const char *oa2f_clean_value(apr_pool_t *p, const char *value,
                             apr_size_t len)
{
    char *out = apr_palloc(p, len + 1);
    apr_size_t i, o = 0;

    for (i = 0; i < len; i++) {
        unsigned char c = (unsigned char)value[i];
        if (c < 0x20 || c == 0x7f) {
            continue;
        }
        out[o++] = (char)c;
    }
    out[o] = '\0';
    return out;
}

int oa2f_has_prefix_folded(const char *name, const char *prefix)
{
    for (; *prefix; prefix++, name++) {
        char a = (char)apr_tolower(*name), b = (char)apr_tolower(*prefix);
        if (a == '_') a = '-';
        if (b == '_') b = '-';
        if (!*name || a != b) {
            return 0;
        }
    }
    return 1;
}
