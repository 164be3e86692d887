/* base64url without padding (see oa2f_b64url.h). */
#include "oa2f_b64url.h"

static const char abc[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
    "0123456789-_";

/* The 6-bit value of c, or -1. */
static int value_of(unsigned char c)
{
    if (c >= 'A' && c <= 'Z') {
        return c - 'A';
    }
    if (c >= 'a' && c <= 'z') {
        return c - 'a' + 26;
    }
    if (c >= '0' && c <= '9') {
        return c - '0' + 52;
    }
    if (c == '-') {
        return 62;
    }
    if (c == '_') {
        return 63;
    }
    return -1;
}

int oa2f_b64url_is_char(unsigned char c)
{
    return value_of(c) >= 0;
}

char *oa2f_b64url_encode(apr_pool_t *p, const unsigned char *b, apr_size_t n)
{
    char *out = apr_palloc(p, (n + 2) / 3 * 4 + 1), *o = out;
    apr_size_t i;

    for (i = 0; i + 2 < n; i += 3) {
        *o++ = abc[b[i] >> 2];
        *o++ = abc[(b[i] & 0x03) << 4 | b[i + 1] >> 4];
        *o++ = abc[(b[i + 1] & 0x0f) << 2 | b[i + 2] >> 6];
        *o++ = abc[b[i + 2] & 0x3f];
    }
    if (i < n) {
        *o++ = abc[b[i] >> 2];
        if (i + 1 < n) {
            *o++ = abc[(b[i] & 0x03) << 4 | b[i + 1] >> 4];
            *o++ = abc[(b[i + 1] & 0x0f) << 2];
        }
        else {
            *o++ = abc[(b[i] & 0x03) << 4];
        }
    }
    *o = '\0';
    return out;
}

/* Decode the 6-bit values v[0..n); strict: unused bits must be zero. */
static unsigned char *decode_values(apr_pool_t *p, const unsigned char *v,
                                    apr_size_t n, int strict,
                                    apr_size_t *out_len)
{
    apr_size_t i, o = 0, rest = n % 4;
    unsigned char *out;

    if (rest == 1) {
        return NULL;
    }
    out = apr_palloc(p, n / 4 * 3 + 3);
    for (i = 0; i + 3 < n; i += 4) {
        unsigned long w = (unsigned long)v[i] << 18 | v[i + 1] << 12
                          | v[i + 2] << 6 | v[i + 3];
        out[o++] = (unsigned char)(w >> 16);
        out[o++] = (unsigned char)(w >> 8);
        out[o++] = (unsigned char)w;
    }
    if (rest == 2) {
        if (strict && (v[i + 1] & 0x0f)) {
            return NULL;
        }
        out[o++] = (unsigned char)(v[i] << 2 | v[i + 1] >> 4);
    }
    else if (rest == 3) {
        if (strict && (v[i + 2] & 0x03)) {
            return NULL;
        }
        out[o++] = (unsigned char)(v[i] << 2 | v[i + 1] >> 4);
        out[o++] = (unsigned char)((v[i + 1] & 0x0f) << 4 | v[i + 2] >> 2);
    }
    out[o] = '\0';
    *out_len = o;
    return out;
}

unsigned char *oa2f_b64url_decode(apr_pool_t *p, const char *s, apr_size_t len,
                                  apr_size_t *out_len)
{
    unsigned char *v = apr_palloc(p, len + 1);
    apr_size_t i;

    for (i = 0; i < len; i++) {
        int x = value_of((unsigned char)s[i]);
        if (x < 0) {
            return NULL;
        }
        v[i] = (unsigned char)x;
    }
    return decode_values(p, v, len, 1, out_len);
}

unsigned char *oa2f_b64url_decode_lax(apr_pool_t *p, const char *s,
                                      apr_size_t len, apr_size_t *out_len)
{
    unsigned char *v = apr_palloc(p, len + 1);
    apr_size_t i, n = 0;

    for (i = 0; i < len; i++) {
        unsigned char c = (unsigned char)s[i];
        int x = c == '+' ? 62 : c == '/' ? 63 : value_of(c);
        if (x >= 0) {
            v[n++] = (unsigned char)x;
        }
        else if (c != '=' && c != ' ' && c != '\t' && c != '\r' && c != '\n') {
            return NULL;
        }
    }
    return decode_values(p, v, n, 0, out_len);
}
