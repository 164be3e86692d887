/* Bearer token extraction, RFC 6750 §2.1 (header) and §2.3 (query). */
#include <string.h>
#include <apr_strings.h>
#include <apr_lib.h>

#include "oa2f_provider.h"
#include "oa2f_token.h"

/* RFC 6750 §2.1 b64token characters, without the trailing "=": one load
 * per character of every token (the cached path reads them all). */
static const unsigned char b64token_chars[256] = {
    ['A'] = 1, ['B'] = 1, ['C'] = 1, ['D'] = 1, ['E'] = 1, ['F'] = 1,
    ['G'] = 1, ['H'] = 1, ['I'] = 1, ['J'] = 1, ['K'] = 1, ['L'] = 1,
    ['M'] = 1, ['N'] = 1, ['O'] = 1, ['P'] = 1, ['Q'] = 1, ['R'] = 1,
    ['S'] = 1, ['T'] = 1, ['U'] = 1, ['V'] = 1, ['W'] = 1, ['X'] = 1,
    ['Y'] = 1, ['Z'] = 1, ['a'] = 1, ['b'] = 1, ['c'] = 1, ['d'] = 1,
    ['e'] = 1, ['f'] = 1, ['g'] = 1, ['h'] = 1, ['i'] = 1, ['j'] = 1,
    ['k'] = 1, ['l'] = 1, ['m'] = 1, ['n'] = 1, ['o'] = 1, ['p'] = 1,
    ['q'] = 1, ['r'] = 1, ['s'] = 1, ['t'] = 1, ['u'] = 1, ['v'] = 1,
    ['w'] = 1, ['x'] = 1, ['y'] = 1, ['z'] = 1, ['0'] = 1, ['1'] = 1,
    ['2'] = 1, ['3'] = 1, ['4'] = 1, ['5'] = 1, ['6'] = 1, ['7'] = 1,
    ['8'] = 1, ['9'] = 1, ['-'] = 1, ['.'] = 1, ['_'] = 1, ['~'] = 1,
    ['+'] = 1, ['/'] = 1,
};

int oa2f_token_is_b64token(const char *s, apr_size_t len)
{
    const unsigned char *u = (const unsigned char *)s;
    apr_size_t i = 0;

    /* 1*( ALPHA / DIGIT / "-" / "." / "_" / "~" / "+" / "/" ) *"=" */
    while (i < len && b64token_chars[u[i]]) {
        i++;
    }
    if (i == 0) {
        return 0;
    }
    while (i < len && s[i] == '=') {
        i++;
    }
    return i == len;
}

static int hexval(int c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

char *oa2f_form_decode(apr_pool_t *p, const char *s, apr_size_t len,
                       apr_size_t *outlen)
{
    char *out = apr_palloc(p, len + 1);
    apr_size_t i, o = 0;

    for (i = 0; i < len; i++) {
        if (s[i] == '+') {
            out[o++] = ' ';
        }
        else if (s[i] == '%') {
            int hi, lo;
            if (i + 2 >= len) {
                return NULL;
            }
            hi = hexval((unsigned char)s[i + 1]);
            lo = hexval((unsigned char)s[i + 2]);
            if (hi < 0 || lo < 0) {
                return NULL;
            }
            out[o++] = (char)(hi * 16 + lo);
            i += 2;
        }
        else {
            out[o++] = s[i];
        }
    }
    out[o] = '\0';
    *outlen = o;
    return out;
}

#define STR_(x)  #x
#define STR(x)   STR_(x)
#define TOO_LONG "the token is longer than " STR(OA2F_TOKEN_MAX_LEN) " bytes"

static const char token_param[] = "access_token";
#define TOKEN_PARAM_LEN (sizeof(token_param) - 1)

/* s[0..plen) is an access_token parameter (with or without a value).
 * A parameter name may itself be percent-encoded in theory; we accept
 * only the literal name, as every client sends it. */
static int is_token_param(const char *s, apr_size_t plen)
{
    return plen >= TOKEN_PARAM_LEN
           && strncmp(s, token_param, TOKEN_PARAM_LEN) == 0
           && (plen == TOKEN_PARAM_LEN || s[TOKEN_PARAM_LEN] == '=');
}

const char *oa2f_query_without_token(apr_pool_t *p, const char *query)
{
    const char *s = query;
    char *out, *o;
    int removed = 0;

    if (!query || !strstr(query, token_param)) {
        return query;
    }
    o = out = apr_palloc(p, strlen(query) + 1);
    while (s) {
        const char *end = strchr(s, '&');
        apr_size_t plen = end ? (apr_size_t)(end - s) : strlen(s);

        if (is_token_param(s, plen)) {
            removed++;
        }
        else if (plen) {
            if (o != out) {
                *o++ = '&';
            }
            memcpy(o, s, plen);
            o += plen;
        }
        s = end ? end + 1 : NULL;
    }
    *o = '\0';
    if (!removed) {
        return query;
    }
    return *out ? out : NULL;
}

/* Find the access_token parameter(s) in a query string. Returns the
 * number found (0, 1, or 2 meaning "more than one"); val and vlen point
 * into query for the first. */
static int find_query_token(const char *query, const char **val,
                            apr_size_t *vlen)
{
    const apr_size_t nlen = TOKEN_PARAM_LEN;
    const char *s = query;
    int found = 0;

    while (s && *s) {
        const char *end = strchr(s, '&');
        apr_size_t plen = end ? (apr_size_t)(end - s) : strlen(s);

        if (is_token_param(s, plen)) {
            if (found++ == 0) {
                *val = (plen == nlen) ? s + plen : s + nlen + 1;
                *vlen = (plen == nlen) ? 0 : plen - nlen - 1;
            }
            else {
                return 2;
            }
        }
        s = end ? end + 1 : NULL;
    }
    return found;
}

oa2f_outcome_e oa2f_token_extract(apr_pool_t *p, const char *authorization,
                                  const char *query, int accept,
                                  const char **token, const char **why)
{
    const char *from_header = NULL;
    apr_size_t header_len = 0;
    const char *qval = NULL;
    apr_size_t qlen = 0;
    int nquery = 0;

    *token = NULL;
    *why = NULL;

    if ((accept & OA2F_TOKEN_IN_HEADER) && authorization) {
        const char *s = authorization;
        const char *end;

        while (*s == ' ' || *s == '\t') {
            s++;
        }
        /* The scheme is case-insensitive (RFC 9110 §11.1). */
        if (strncasecmp(s, "Bearer", 6) != 0
            || (s[6] != ' ' && s[6] != '\t' && s[6] != '\0')) {
            *why = "the Authorization header does not use the Bearer scheme";
            return OA2F_WRONG_SCHEME;
        }
        s += 6;
        while (*s == ' ' || *s == '\t') {
            s++;
        }
        end = s + strlen(s);
        while (end > s && (end[-1] == ' ' || end[-1] == '\t')) {
            end--;
        }
        from_header = s;
        header_len = (apr_size_t)(end - s);
    }

    if ((accept & OA2F_TOKEN_IN_QUERY) && query) {
        nquery = find_query_token(query, &qval, &qlen);
    }

    /* RFC 6750 §2: a client MUST NOT use more than one method. */
    if (nquery > 1) {
        *why = "the access_token parameter was given more than once";
        return OA2F_BAD_REQUEST;
    }
    if (from_header && nquery) {
        *why = "a token was sent both in the Authorization header and in "
               "the query string";
        return OA2F_BAD_REQUEST;
    }

    if (from_header) {
        if (header_len == 0) {
            *why = "the Bearer credentials are empty";
            return OA2F_BAD_REQUEST;
        }
        if (header_len > OA2F_TOKEN_MAX_LEN) {
            *why = TOO_LONG;
            return OA2F_BAD_REQUEST;
        }
        if (!oa2f_token_is_b64token(from_header, header_len)) {
            *why = "the token is not RFC 6750 b64token syntax";
            return OA2F_BAD_REQUEST;
        }
        *token = apr_pstrmemdup(p, from_header, header_len);
        return OA2F_OK;
    }

    if (nquery == 1) {
        apr_size_t dlen = 0;
        const char *decoded;

        /* Reject early on the encoded length, before decoding. */
        if (qlen > 3 * OA2F_TOKEN_MAX_LEN) {
            *why = TOO_LONG;
            return OA2F_BAD_REQUEST;
        }
        decoded = oa2f_form_decode(p, qval, qlen, &dlen);
        if (!decoded) {
            *why = "the access_token parameter is not properly encoded";
            return OA2F_BAD_REQUEST;
        }
        if (dlen == 0) {
            *why = "the access_token parameter is empty";
            return OA2F_BAD_REQUEST;
        }
        if (dlen > OA2F_TOKEN_MAX_LEN) {
            *why = TOO_LONG;
            return OA2F_BAD_REQUEST;
        }
        if (!oa2f_token_is_b64token(decoded, dlen)) {
            *why = "the token is not RFC 6750 b64token syntax";
            return OA2F_BAD_REQUEST;
        }
        *token = decoded;
        return OA2F_OK;
    }

    *why = "no access token was presented";
    return OA2F_NO_TOKEN;
}

const char *oa2f_token_fingerprint(apr_pool_t *p, const char *token)
{
    return apr_pstrndup(p, oa2f_provider_digest(p, token, strlen(token)), 12);
}
