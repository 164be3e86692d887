/* base64url without padding (RFC 4648 §5), as JOSE writes it (RFC 7515
 * §2, appendix C). */
#ifndef OA2F_B64URL_H
#define OA2F_B64URL_H

#include <apr_pools.h>

/* Each byte's 6-bit value; 64 for a byte outside the alphabet. */
extern const unsigned char oa2f_b64url_values[256];

/* 1 when c is one of the 64 characters of the alphabet. */
static inline int oa2f_b64url_is_char(unsigned char c)
{
    return oa2f_b64url_values[c] < 64;
}

/* b[0..n) encoded, NUL-terminated, in p. */
char *oa2f_b64url_encode(apr_pool_t *p, const unsigned char *b, apr_size_t n);

/* s[0..len) decoded into p (NUL-terminated, *out_len bytes), or NULL
 * when it is not in the strict form: a character outside the alphabet
 * ('=' included), a length of 4k+1, or unused bits set in the last
 * character (so that each byte string has exactly one encoding). An
 * empty s decodes to an empty string. */
unsigned char *oa2f_b64url_decode(apr_pool_t *p, const char *s, apr_size_t len,
                                  apr_size_t *out_len);

/* As oa2f_b64url_decode, but '=' and ASCII white space are skipped,
 * '+' and '/' read as '-' and '_', and unused bits ignored: only to
 * tell a broken JWS from an opaque token, never to read a value. */
unsigned char *oa2f_b64url_decode_lax(apr_pool_t *p, const char *s,
                                      apr_size_t len, apr_size_t *out_len);

#endif
