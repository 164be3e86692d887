/* base64url without padding (see oa2f_b64url.h). */
#include "oa2f_b64url.h"

static const char abc[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
    "0123456789-_";

/* The 6-bit value of each byte, 64 for a byte outside the alphabet: one
 * load per character on the paths that read every token (JWS parsing). */
#define NO 64
/* sixteen bytes a row */
/* clang-format off */
const unsigned char oa2f_b64url_values[256] = {
    NO, NO, NO, NO, NO, NO, NO, NO, NO, NO, NO, NO, NO, NO, NO, NO,
    NO, NO, NO, NO, NO, NO, NO, NO, NO, NO, NO, NO, NO, NO, NO, NO,
    NO, NO, NO, NO, NO, NO, NO, NO, NO, NO, NO, NO, NO, 62, NO, NO,
    52, 53, 54, 55, 56, 57, 58, 59, 60, 61, NO, NO, NO, NO, NO, NO,
    NO, 0,  1,  2,  3,  4,  5,  6,  7,  8,  9,  10, 11, 12, 13, 14,
    15, 16, 17, 18, 19, 20, 21, 22, 23, 24, 25, NO, NO, NO, NO, 63,
    NO, 26, 27, 28, 29, 30, 31, 32, 33, 34, 35, 36, 37, 38, 39, 40,
    41, 42, 43, 44, 45, 46, 47, 48, 49, 50, 51, NO, NO, NO, NO, NO,
    NO, NO, NO, NO, NO, NO, NO, NO, NO, NO, NO, NO, NO, NO, NO, NO,
    NO, NO, NO, NO, NO, NO, NO, NO, NO, NO, NO, NO, NO, NO, NO, NO,
    NO, NO, NO, NO, NO, NO, NO, NO, NO, NO, NO, NO, NO, NO, NO, NO,
    NO, NO, NO, NO, NO, NO, NO, NO, NO, NO, NO, NO, NO, NO, NO, NO,
    NO, NO, NO, NO, NO, NO, NO, NO, NO, NO, NO, NO, NO, NO, NO, NO,
    NO, NO, NO, NO, NO, NO, NO, NO, NO, NO, NO, NO, NO, NO, NO, NO,
    NO, NO, NO, NO, NO, NO, NO, NO, NO, NO, NO, NO, NO, NO, NO, NO,
    NO, NO, NO, NO, NO, NO, NO, NO, NO, NO, NO, NO, NO, NO, NO, NO,
};
/* clang-format on */

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

/* Decode base64url characters s[0..len); strict: unused bits must be
 * zero (one encoding per byte string). */
static unsigned char *decode(apr_pool_t *p, const unsigned char *in,
                             apr_size_t len, int strict, apr_size_t *out_len)
{
    apr_size_t i, o = 0, rest = len % 4;
    unsigned char *out;

    if (rest == 1) {
        return NULL;
    }
    out = apr_palloc(p, len / 4 * 3 + 3);
    /* four characters at a time; any one outside the alphabet sets the
     * bit above the 24 that carry values */
    for (i = 0; i + 3 < len; i += 4) {
        unsigned long w = (unsigned long)oa2f_b64url_values[in[i]] << 18
                          | (unsigned long)oa2f_b64url_values[in[i + 1]] << 12
                          | (unsigned long)oa2f_b64url_values[in[i + 2]] << 6
                          | oa2f_b64url_values[in[i + 3]];
        if ((oa2f_b64url_values[in[i]] | oa2f_b64url_values[in[i + 1]]
             | oa2f_b64url_values[in[i + 2]] | oa2f_b64url_values[in[i + 3]])
            & NO) {
            return NULL;
        }
        out[o++] = (unsigned char)(w >> 16);
        out[o++] = (unsigned char)(w >> 8);
        out[o++] = (unsigned char)w;
    }
    if (rest) {
        unsigned char a = oa2f_b64url_values[in[i]];
        unsigned char b = oa2f_b64url_values[in[i + 1]];
        unsigned char c = rest == 3 ? oa2f_b64url_values[in[i + 2]] : 0;

        if ((a | b | c) & NO) {
            return NULL;
        }
        if (strict && (rest == 2 ? (b & 0x0f) : (c & 0x03))) {
            return NULL;
        }
        out[o++] = (unsigned char)(a << 2 | b >> 4);
        if (rest == 3) {
            out[o++] = (unsigned char)((b & 0x0f) << 4 | c >> 2);
        }
    }
    out[o] = '\0';
    *out_len = o;
    return out;
}

unsigned char *oa2f_b64url_decode(apr_pool_t *p, const char *s, apr_size_t len,
                                  apr_size_t *out_len)
{
    return decode(p, (const unsigned char *)s, len, 1, out_len);
}

/* The characters of s read as base64url ('+' and '/' as '-' and '_'),
 * '=' and white space left out, then decoded without the unused-bit
 * rule. */
unsigned char *oa2f_b64url_decode_lax(apr_pool_t *p, const char *s,
                                      apr_size_t len, apr_size_t *out_len)
{
    unsigned char *v = apr_palloc(p, len + 1);
    apr_size_t i, n = 0;

    for (i = 0; i < len; i++) {
        unsigned char c = (unsigned char)s[i];

        if (c == '+' || c == '/') {
            v[n++] = c == '+' ? '-' : '_';
        }
        else if (oa2f_b64url_is_char(c)) {
            v[n++] = c;
        }
        else if (c != '=' && c != ' ' && c != '\t' && c != '\r' && c != '\n') {
            return NULL;
        }
    }
    return decode(p, v, n, 0, out_len);
}
