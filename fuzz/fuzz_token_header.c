/* Fuzz target: bearer token extraction from the Authorization header
 * (RFC 6750 §2.1), oa2f_token_extract() with the input as the header.
 *
 * Invariants checked besides "no crash, no leak, no UB":
 *  - OA2F_OK gives a b64token of at most OA2F_TOKEN_MAX_LEN bytes, equal
 *    to the credentials after "Bearer" with the surrounding blanks cut;
 *  - every other outcome has a `why`, and `why` never depends on (so never
 *    contains) the token: rotating the letters and digits of the
 *    credentials gives the same outcome and the same text;
 *  - accepting header and query gives the same answer as header only;
 *    query only ignores the header (no token);
 *  - a token also in the query is a 400 unless the scheme is not Bearer. */
#include <apr_lib.h>

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

/* Our own reading of RFC 6750 §2.1 with the module's blank handling:
 * [SP/HT]* "Bearer"(any case) 1*(SP/HT) credentials [SP/HT]*.
 * Returns 1 and the credentials when the scheme is Bearer. */
static int expected_credentials(const char *h, const char **start,
                                size_t *len)
{
    const char *end;

    while (*h == ' ' || *h == '\t') {
        h++;
    }
    if (strncasecmp(h, "bearer", 6) != 0) {
        return 0;
    }
    h += 6;
    if (*h != ' ' && *h != '\t' && *h != '\0') {
        return 0;
    }
    while (*h == ' ' || *h == '\t') {
        h++;
    }
    end = h + strlen(h);
    while (end > h && (end[-1] == ' ' || end[-1] == '\t')) {
        end--;
    }
    *start = h;
    *len = (size_t)(end - h);
    return 1;
}

/* Same class, other value: a->b … z->a, A->B …, 0->1 … 9->0. */
static char rotate(char c)
{
    if (c >= 'a' && c <= 'z') return c == 'z' ? 'a' : c + 1;
    if (c >= 'A' && c <= 'Z') return c == 'Z' ? 'A' : c + 1;
    if (c >= '0' && c <= '9') return c == '9' ? '0' : c + 1;
    return c;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    apr_pool_t *p = fz_pool_begin();
    char *hdr = fz_cstr(data, size);
    const char *tok = NULL, *why = NULL, *tok2, *why2;
    const char *cred = NULL;
    size_t cred_len = 0;
    oa2f_outcome_e rc, rc2;
    int bearer;

    rc = oa2f_token_extract(p, hdr, NULL,
                            OA2F_TOKEN_IN_HEADER | OA2F_TOKEN_IN_QUERY,
                            &tok, &why);
    bearer = expected_credentials(hdr, &cred, &cred_len);

    if (rc == OA2F_OK) {
        size_t n;
        const char *fp;

        FZ_ASSERT(tok != NULL, "OK without a token");
        n = strlen(tok);
        FZ_ASSERT(n > 0 && n <= OA2F_TOKEN_MAX_LEN, "token length %zu", n);
        FZ_ASSERT(oa2f_token_is_b64token(tok, n), "token not b64token");
        FZ_ASSERT(bearer, "OK although the scheme is not Bearer");
        FZ_ASSERT(n == cred_len && memcmp(tok, cred, n) == 0,
                  "token is not the credentials after the scheme");
        FZ_ASSERT(!why || !strstr(why, tok), "why contains the token");
        fp = oa2f_token_fingerprint(p, tok);
        FZ_ASSERT(strlen(fp) == 12 && strspn(fp, "0123456789abcdef") == 12,
                  "bad fingerprint %s", fp);
    }
    else {
        FZ_ASSERT(tok == NULL, "token set on %s", outcome_name(rc));
        FZ_ASSERT(why && *why, "no reason for %s", outcome_name(rc));
        FZ_ASSERT(rc == OA2F_WRONG_SCHEME || rc == OA2F_BAD_REQUEST,
                  "a present header gave %s", outcome_name(rc));
        FZ_ASSERT((rc == OA2F_WRONG_SCHEME) == !bearer,
                  "scheme verdict %s disagrees", outcome_name(rc));
        if (bearer && cred_len > 0 && cred_len <= OA2F_TOKEN_MAX_LEN) {
            FZ_ASSERT(!oa2f_token_is_b64token(cred, cred_len),
                      "valid b64token refused: %s", why);
        }
    }

    /* header only: the same answer */
    rc2 = oa2f_token_extract(p, hdr, NULL, OA2F_TOKEN_IN_HEADER, &tok2,
                             &why2);
    FZ_ASSERT(rc2 == rc, "header-only %s vs both %s", outcome_name(rc2),
              outcome_name(rc));
    FZ_ASSERT(rc != OA2F_OK || strcmp(tok, tok2) == 0, "token differs");

    /* query only: the header is not looked at */
    rc2 = oa2f_token_extract(p, hdr, NULL, OA2F_TOKEN_IN_QUERY, &tok2, &why2);
    FZ_ASSERT(rc2 == OA2F_NO_TOKEN, "query-only gave %s", outcome_name(rc2));

    /* a token in the query as well: 400 (RFC 6750 §2), unless not Bearer */
    rc2 = oa2f_token_extract(p, hdr, "x=1&access_token=abc",
                             OA2F_TOKEN_IN_HEADER | OA2F_TOKEN_IN_QUERY,
                             &tok2, &why2);
    FZ_ASSERT(rc2 == (bearer ? OA2F_BAD_REQUEST : OA2F_WRONG_SCHEME),
              "header and query gave %s", outcome_name(rc2));

    /* `why` does not depend on the token's letters and digits */
    if (bearer && cred_len > 0) {
        char *rot = fz_cstr((const uint8_t *)hdr, strlen(hdr));
        size_t i, off = (size_t)(cred - hdr);

        for (i = off; i < off + cred_len; i++) {
            rot[i] = rotate(rot[i]);
        }
        rc2 = oa2f_token_extract(p, rot, NULL, OA2F_TOKEN_IN_HEADER, &tok2,
                                 &why2);
        FZ_ASSERT(rc2 == rc, "rotated token: %s vs %s", outcome_name(rc2),
                  outcome_name(rc));
        FZ_ASSERT((why == NULL) == (why2 == NULL)
                  && (!why || strcmp(why, why2) == 0),
                  "why depends on the token: \"%s\" vs \"%s\"",
                  why ? why : "(null)", why2 ? why2 : "(null)");
        free(rot);
    }

    free(hdr);
    fz_pool_end(p);
    return 0;
}
