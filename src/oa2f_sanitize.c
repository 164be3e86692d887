/* Header and environment names and values built from provider fields.
 * Provider answers are untrusted input: nothing from them may split a
 * header line or forge another header (docs/providers.md, edge case 22). */
#include <string.h>
#include <apr_strings.h>
#include <apr_lib.h>

#include "oa2f_sanitize.h"

/* Longest header or variable name we build. */
#define OA2F_NAME_MAX 256

/* ASCII only, whatever the locale (a locale's toupper or isalnum would
 * let bytes above 0x7F into names), and cheap: the cache decoder runs
 * these over every name of every hit. */
static int is_alnum(unsigned char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z')
           || (c >= '0' && c <= '9');
}

/* tchar = "!" / "#" / "$" / "%" / "&" / "'" / "*" / "+" / "-" / "."
 *       / "^" / "_" / "`" / "|" / "~" / DIGIT / ALPHA; c is not NUL */
static int is_tchar(unsigned char c)
{
    if (is_alnum(c)) {
        return 1;
    }
    switch (c) { /* a bit test, not a string search per byte */
    case '!':
    case '#':
    case '$':
    case '%':
    case '&':
    case '\'':
    case '*':
    case '+':
    case '-':
    case '.':
    case '^':
    case '_':
    case '`':
    case '|':
    case '~':
        return 1;
    default:
        return 0;
    }
}

/* The byte of an environment name that field byte c becomes. */
static char env_char(unsigned char c)
{
    if (c >= 'a' && c <= 'z') {
        return (char)(c - 'a' + 'A');
    }
    return (is_alnum(c) || c == '_') ? (char)c : '_';
}

int oa2f_is_http_token(const char *s)
{
    if (!s || !*s) {
        return 0;
    }
    for (; *s; s++) {
        if (!is_tchar((unsigned char)*s)) {
            return 0;
        }
    }
    return 1;
}

const char *oa2f_env_name(apr_pool_t *p, const char *prefix, const char *field)
{
    apr_size_t plen = strlen(prefix), flen = strlen(field), i;
    char *out;

    if (flen > OA2F_NAME_MAX) {
        flen = OA2F_NAME_MAX;
    }
    out = apr_palloc(p, plen + flen + 1);
    memcpy(out, prefix, plen);
    for (i = 0; i < flen; i++) {
        out[plen + i] = env_char((unsigned char)field[i]);
    }
    out[plen + flen] = '\0';
    return out;
}

const char *oa2f_clean_value(apr_pool_t *p, const char *value, apr_size_t len)
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

/* Eight bytes at a time: a word has a byte below 0x20 when subtracting
 * 0x20 from each byte borrows into a byte whose top bit was clear, and a
 * byte 0x7F when the word XOR 0x7F.. has a zero byte. */
#define ONES  0x0101010101010101ULL
#define HIGHS 0x8080808080808080ULL

int oa2f_has_control(const char *value, apr_size_t len)
{
    apr_size_t i = 0;

    for (; i + 8 <= len; i += 8) {
        apr_uint64_t w, x;
        memcpy(&w, value + i, 8);
        x = w ^ (0x7f * ONES);
        if (((w - 0x20 * ONES) & ~w & HIGHS) | ((x - ONES) & ~x & HIGHS)) {
            return 1;
        }
    }
    for (; i < len; i++) {
        unsigned char c = (unsigned char)value[i];
        if (c < 0x20 || c == 0x7f) {
            return 1;
        }
    }
    return 0;
}

int oa2f_is_clean_of(const char *value, apr_size_t len, const char *shown,
                     apr_size_t shown_len)
{
    apr_size_t i, o = 0;

    if (shown == value && shown_len == len) {
        return !oa2f_has_control(value, len);
    }
    for (i = 0; i < len; i++) {
        unsigned char c = (unsigned char)value[i];
        if (c < 0x20 || c == 0x7f) {
            continue;
        }
        if (o == shown_len || shown[o] != (char)c) {
            return 0;
        }
        o++;
    }
    return o == shown_len;
}

int oa2f_field_names_are(const char *field, const char *env_suffix,
                         int is_token)
{
    apr_size_t i;
    int token = *field != '\0';

    for (i = 0; field[i]; i++) {
        unsigned char c = (unsigned char)field[i];
        token = token && is_tchar(c);
        /* oa2f_env_name keeps the first OA2F_NAME_MAX bytes */
        if (i < OA2F_NAME_MAX && env_suffix[i] != env_char(c)) {
            return 0;
        }
    }
    return env_suffix[i < OA2F_NAME_MAX ? i : OA2F_NAME_MAX] == '\0'
           && is_token == token;
}

int oa2f_has_prefix_folded(const char *name, const char *prefix)
{
    for (; *prefix; prefix++, name++) {
        char a = (char)apr_tolower(*name), b = (char)apr_tolower(*prefix);
        if (a == '_')
            a = '-';
        if (b == '_')
            b = '-';
        if (!*name || a != b) {
            return 0;
        }
    }
    return 1;
}
