/* Fuzz target: bearer token extraction from the query string
 * (RFC 6750 §2.3), oa2f_token_extract() with the input as the raw query.
 *
 * Invariants checked besides "no crash, no leak, no UB":
 *  - OA2F_OK gives a b64token of at most OA2F_TOKEN_MAX_LEN bytes, equal
 *    to our own form-decoding of the single access_token parameter;
 *  - more than one access_token parameter is always a 400;
 *  - no access_token parameter is OA2F_NO_TOKEN;
 *  - `why` never contains the token: on OK it is unset or free of it, and
 *    rotating the letters and digits of every access_token value gives
 *    the same outcome and the very same `why` text;
 *  - accepting header and query gives the same answer as query only; a
 *    Bearer header as well is a 400 whenever a parameter is present. */
#include "fuzz_common.h"
#include "oa2f_token.h"

static const char *outcome_name(oa2f_outcome_e rc)
{
    switch (rc) {
    case OA2F_OK: return "ok";
    case OA2F_NO_TOKEN: return "no-token";
    case OA2F_WRONG_SCHEME: return "wrong-scheme";
    case OA2F_BAD_REQUEST: return "bad-request";
    default: return "other";
    }
}

static const char NAME[] = "access_token";
#define NAME_LEN (sizeof(NAME) - 1)

/* The parameters named exactly access_token: their count, and the offset
 * and length of the first one's value. Parameters are split on '&'. */
static int count_params(const char *q, size_t *voff, size_t *vlen)
{
    const char *s = q;
    int n = 0;

    while (s) {
        const char *amp = strchr(s, '&');
        size_t plen = amp ? (size_t)(amp - s) : strlen(s);

        if (plen >= NAME_LEN && memcmp(s, NAME, NAME_LEN) == 0
            && (plen == NAME_LEN || s[NAME_LEN] == '=')) {
            if (n++ == 0) {
                *voff = (size_t)(s - q) + (plen == NAME_LEN ? plen
                                                            : NAME_LEN + 1);
                *vlen = plen == NAME_LEN ? 0 : plen - NAME_LEN - 1;
            }
        }
        s = amp ? amp + 1 : NULL;
    }
    return n;
}

static int hex(int c)
{
    if (c >= '0' && c <= '9') return c - '0';
    c |= 0x20;
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    return -1;
}

/* application/x-www-form-urlencoded value; -1 on a broken escape. */
static long form_decode(const char *s, size_t len, char *out)
{
    size_t i, o = 0;

    for (i = 0; i < len; i++) {
        if (s[i] == '%') {
            if (len - i < 3 || hex(s[i + 1]) < 0 || hex(s[i + 2]) < 0) {
                return -1;
            }
            out[o++] = (char)(hex(s[i + 1]) * 16 + hex(s[i + 2]));
            i += 2;
        }
        else {
            out[o++] = s[i] == '+' ? ' ' : s[i];
        }
    }
    return (long)o;
}

static char rotate(char c)
{
    if (c >= 'a' && c <= 'z') return c == 'z' ? 'a' : c + 1;
    if (c >= 'A' && c <= 'Z') return c == 'Z' ? 'A' : c + 1;
    if (c >= '0' && c <= '9') return c == '9' ? '0' : c + 1;
    return c;
}

/* A copy of q with the letters and digits of every access_token value
 * rotated, leaving %XX escapes alone (so decoded bytes keep their class). */
static char *rotate_values(const char *q)
{
    char *r = fz_cstr((const uint8_t *)q, strlen(q));
    char *s = r;

    while (s) {
        char *amp = strchr(s, '&');
        size_t plen = amp ? (size_t)(amp - s) : strlen(s);

        if (plen > NAME_LEN && memcmp(s, NAME, NAME_LEN) == 0
            && s[NAME_LEN] == '=') {
            size_t i;
            for (i = NAME_LEN + 1; i < plen; i++) {
                if (s[i] == '%') {
                    i += 2;          /* leave the escape (may run past) */
                    continue;
                }
                s[i] = rotate(s[i]);
            }
        }
        s = amp ? amp + 1 : NULL;
    }
    return r;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    apr_pool_t *p = fz_pool_begin();
    char *q = fz_cstr(data, size);
    const char *tok = NULL, *why = NULL, *tok2, *why2;
    size_t voff = 0, vlen = 0;
    oa2f_outcome_e rc, rc2;
    int nparams;

    rc = oa2f_token_extract(p, NULL, q, OA2F_TOKEN_IN_QUERY, &tok, &why);
    nparams = count_params(q, &voff, &vlen);

    if (nparams == 0) {
        FZ_ASSERT(rc == OA2F_NO_TOKEN, "no parameter but %s",
                  outcome_name(rc));
    }
    else if (nparams > 1) {
        FZ_ASSERT(rc == OA2F_BAD_REQUEST, "%d parameters but %s", nparams,
                  outcome_name(rc));
    }
    else {
        FZ_ASSERT(rc == OA2F_OK || rc == OA2F_BAD_REQUEST,
                  "one parameter but %s", outcome_name(rc));
    }

    if (rc == OA2F_OK) {
        size_t n;
        char *dec = malloc(vlen + 1);
        long dlen = form_decode(q + voff, vlen, dec);

        FZ_ASSERT(tok != NULL, "OK without a token");
        n = strlen(tok);
        FZ_ASSERT(n > 0 && n <= OA2F_TOKEN_MAX_LEN, "token length %zu", n);
        FZ_ASSERT(oa2f_token_is_b64token(tok, n), "token not b64token");
        FZ_ASSERT(dlen >= 0 && (size_t)dlen == n && memcmp(dec, tok, n) == 0,
                  "token is not the decoded parameter");
        FZ_ASSERT(!why || !strstr(why, tok), "why contains the token");
        free(dec);
    }
    else {
        FZ_ASSERT(tok == NULL, "token set on %s", outcome_name(rc));
        FZ_ASSERT(why && *why, "no reason for %s", outcome_name(rc));
        if (nparams == 1 && vlen <= 3 * OA2F_TOKEN_MAX_LEN) {
            /* a well-formed token must not be refused */
            char *dec = malloc(vlen + 1);
            long dlen = form_decode(q + voff, vlen, dec);
            FZ_ASSERT(!(dlen > 0 && dlen <= OA2F_TOKEN_MAX_LEN
                        && oa2f_token_is_b64token(dec, (size_t)dlen)),
                      "valid token refused: %s", why);
            free(dec);
        }
    }

    /* accepting the header too changes nothing when there is none */
    rc2 = oa2f_token_extract(p, NULL, q,
                             OA2F_TOKEN_IN_HEADER | OA2F_TOKEN_IN_QUERY,
                             &tok2, &why2);
    FZ_ASSERT(rc2 == rc, "both %s vs query-only %s", outcome_name(rc2),
              outcome_name(rc));
    FZ_ASSERT(rc != OA2F_OK || strcmp(tok, tok2) == 0, "token differs");

    /* the query is ignored when only the header is accepted */
    rc2 = oa2f_token_extract(p, NULL, q, OA2F_TOKEN_IN_HEADER, &tok2, &why2);
    FZ_ASSERT(rc2 == OA2F_NO_TOKEN, "header-only gave %s",
              outcome_name(rc2));

    /* a Bearer header as well: 400 whenever a parameter is present */
    rc2 = oa2f_token_extract(p, "Bearer abc", q,
                             OA2F_TOKEN_IN_HEADER | OA2F_TOKEN_IN_QUERY,
                             &tok2, &why2);
    if (nparams) {
        FZ_ASSERT(rc2 == OA2F_BAD_REQUEST, "header and query gave %s",
                  outcome_name(rc2));
    }
    else {
        FZ_ASSERT(rc2 == OA2F_OK && strcmp(tok2, "abc") == 0,
                  "header token lost: %s", outcome_name(rc2));
    }

    /* `why` does not depend on the token's letters and digits */
    if (nparams) {
        char *rot = rotate_values(q);

        rc2 = oa2f_token_extract(p, NULL, rot, OA2F_TOKEN_IN_QUERY, &tok2,
                                 &why2);
        FZ_ASSERT(rc2 == rc, "rotated token: %s vs %s", outcome_name(rc2),
                  outcome_name(rc));
        FZ_ASSERT((why == NULL) == (why2 == NULL)
                  && (!why || strcmp(why, why2) == 0),
                  "why depends on the token: \"%s\" vs \"%s\"",
                  why ? why : "(null)", why2 ? why2 : "(null)");
        free(rot);
    }

    free(q);
    fz_pool_end(p);
    return 0;
}
