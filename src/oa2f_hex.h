/* Bytes as lower-case hexadecimal (RFC 4648 §8 uses upper case; the
 * names and digests here are lower case, as sha256sum writes them). */
#ifndef OA2F_HEX_H
#define OA2F_HEX_H

#include <apr.h>

/* in[0..n) as 2n characters at out, no NUL. */
static inline void oa2f_hex_lower(char *out, const unsigned char *in,
                                  apr_size_t n)
{
    static const char digit[] = "0123456789abcdef";

    for (apr_size_t i = 0; i < n; i++) {
        out[2 * i] = digit[in[i] >> 4];
        out[2 * i + 1] = digit[in[i] & 15];
    }
}

#endif
