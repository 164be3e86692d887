/* Fuzz target: what the circuit breaker reads from a provider's answer
 * (README "Outages"): oa2f_breaker_retry_after() and
 * oa2f_http_date_parse() on the input as a Retry-After value, and
 * oa2f_breaker_shown_url() on it as an endpoint URL; NULs end the string.
 *
 * Invariants checked besides "no crash, no leak, no UB":
 *  - a Retry-After is 0..300 seconds, and 0 for statuses other than 429
 *    and 503;
 *  - delta-seconds (digits only) give min(value, 300), 0 for 0;
 *  - an HTTP-date is -1 or a time from 1970 on, and as Retry-After it
 *    gives the seconds from now, capped;
 *  - a shown URL is shorter than OA2F_BREAKER_URL_MAX, a prefix-and-part
 *    of the input, and keeps no query, fragment or user info. */
#include "fuzz_common.h"
#include "oa2f_breaker.h"

#define NOW 1767225600LL /* 2026-01-01T00:00:00Z */

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    apr_pool_t *p = fz_pool_begin();
    char *s = fz_cstr(data, size);
    char shown[OA2F_BREAKER_URL_MAX];
    const char *c;
    int ra = oa2f_breaker_retry_after(429, s, NOW);
    long long at;

    FZ_ASSERT(ra >= 0 && ra <= 300, "Retry-After %d out of range", ra);
    FZ_ASSERT(oa2f_breaker_retry_after(503, s, NOW) == ra,
              "429 and 503 disagree");
    FZ_ASSERT(oa2f_breaker_retry_after(500, s, NOW) == 0, "500 counted");
    FZ_ASSERT(oa2f_breaker_retry_after(200, s, NOW) == 0, "200 counted");
    /* Retry-After skips leading white space, then reads either form */
    for (c = s; *c == ' ' || *c == '\t'; c++) {
    }
    at = oa2f_http_date_parse(c);
    FZ_ASSERT(at == -1 || at >= 0, "date %lld", at);
    if (*c && strspn(c, "0123456789") == strlen(c)) {
        long long v = strlen(c) > 6 ? 300 : atoll(c);
        FZ_ASSERT(ra == (v > 300 ? 300 : (int)v), "delta %s gave %d", c, ra);
    }
    else if (at >= 0) {
        long long d = at - NOW;
        FZ_ASSERT(ra
                      == (d <= 0    ? 0
                          : d > 300 ? 300
                                    : (int)d),
                  "date %lld gave %d", at, ra);
    }
    else {
        FZ_ASSERT(ra == 0, "neither number nor date gave %d", ra);
    }

    oa2f_breaker_shown_url(s, shown);
    FZ_ASSERT(strlen(shown) < OA2F_BREAKER_URL_MAX, "shown URL too long");
    FZ_ASSERT(!strpbrk(shown, "?#") || !strpbrk(s, "?#")
                  || strpbrk(shown, "?#") - shown == strpbrk(s, "?#") - s,
              "query or fragment shown");
    {
        /* with a scheme, the authority shown has no user info */
        size_t n = strspn(shown, "abcdefghijklmnopqrstuvwxyz"
                                 "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789+-.");
        if (n && strncmp(shown + n, "://", 3) == 0
            && strspn(shown, "0123456789+-.") == 0) {
            const char *auth = shown + n + 3;
            size_t alen = strcspn(auth, "/");
            FZ_ASSERT(!memchr(auth, '@', alen), "user info shown");
            FZ_ASSERT(!strpbrk(auth, "?#"), "query or fragment shown");
        }
    }
    free(s);
    fz_pool_end(p);
    return 0;
}
