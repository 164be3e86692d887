/* Value encodings (src/oa2f_encoding.h). */
#include <string.h>
#include <strings.h>
#include <apr_strings.h>

#include "oa2f_encoding.h"

int oa2f_encoding_parse(const char *name)
{
    if (!strcasecmp(name, "utf8") || !strcasecmp(name, "utf-8")) {
        return OA2F_ENC_UTF8;
    }
    if (!strcasecmp(name, "latin1") || !strcasecmp(name, "iso-8859-1")) {
        return OA2F_ENC_LATIN1;
    }
    if (!strcasecmp(name, "base64url")) {
        return OA2F_ENC_BASE64URL;
    }
    return -1;
}

static const unsigned char *first_non_ascii(const char *v)
{
    const unsigned char *s = (const unsigned char *)v;

    while (*s && *s < 0x80) {
        s++;
    }
    return *s ? s : NULL;
}

/* Length of the well-formed UTF-8 sequence at s (RFC 3629 §4: no
 * overlong forms, no surrogates, nothing above U+10FFFF) and its code
 * point, or 0 when s does not start one. */
static int utf8_sequence(const unsigned char *s, unsigned long *cp)
{
    int n, i;
    unsigned long c;

    if (s[0] >= 0xc2 && s[0] <= 0xdf) {
        n = 2;
        c = s[0] & 0x1f;
    }
    else if (s[0] >= 0xe0 && s[0] <= 0xef) {
        n = 3;
        c = s[0] & 0x0f;
    }
    else if (s[0] >= 0xf0 && s[0] <= 0xf4) {
        n = 4;
        c = s[0] & 0x07;
    }
    else {
        return 0;
    }
    for (i = 1; i < n; i++) {
        if ((s[i] & 0xc0) != 0x80) {
            return 0;
        }
        c = c << 6 | (s[i] & 0x3f);
    }
    if ((n == 3 && (c < 0x800 || (c >= 0xd800 && c <= 0xdfff)))
        || (n == 4 && (c < 0x10000 || c > 0x10ffff))) {
        return 0;
    }
    *cp = c;
    return n;
}

static const char *to_latin1(apr_pool_t *p, const char *v)
{
    const unsigned char *s = (const unsigned char *)v;
    char *out = apr_palloc(p, strlen(v) + 1), *o = out;

    while (*s) {
        unsigned long cp;
        int n;
        if (*s < 0x80) {
            *o++ = (char)*s++;
            continue;
        }
        n = utf8_sequence(s, &cp);
        if (n == 0) {
            s++; /* not UTF-8: dropped */
            continue;
        }
        if (cp >= 0xa0 && cp <= 0xff) {
            *o++ = (char)cp;
        }
        s += n;
    }
    *o = '\0';
    return out;
}

static const char *to_base64url(apr_pool_t *p, const char *v)
{
    static const char abc[] =
        "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
        "0123456789-_";
    const unsigned char *s = (const unsigned char *)v;
    apr_size_t len = strlen(v), i;
    char *out = apr_palloc(p, (len + 2) / 3 * 4 + 1), *o = out;

    for (i = 0; i + 2 < len; i += 3) {
        *o++ = abc[s[i] >> 2];
        *o++ = abc[(s[i] & 0x03) << 4 | s[i + 1] >> 4];
        *o++ = abc[(s[i + 1] & 0x0f) << 2 | s[i + 2] >> 6];
        *o++ = abc[s[i + 2] & 0x3f];
    }
    if (i < len) {
        *o++ = abc[s[i] >> 2];
        if (i + 1 < len) {
            *o++ = abc[(s[i] & 0x03) << 4 | s[i + 1] >> 4];
            *o++ = abc[(s[i + 1] & 0x0f) << 2];
        }
        else {
            *o++ = abc[(s[i] & 0x03) << 4];
        }
    }
    *o = '\0';
    return out;
}

const char *oa2f_encode_value(apr_pool_t *p, const char *v,
                              oa2f_encoding_e enc)
{
    if (enc == OA2F_ENC_UTF8 || !first_non_ascii(v)) {
        return v;
    }
    return enc == OA2F_ENC_LATIN1 ? to_latin1(p, v) : to_base64url(p, v);
}
