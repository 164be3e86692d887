/* Fuzz target: the fleet lock's replies (README "Cache", the fleet
 * lock), as a redis or memcached server, or whoever answers on its
 * address, may send them: oa2f_lock_parse_reply() and
 * oa2f_lock_parse_drop() for both protocols and oa2f_lock_parse_mc_gets()
 * on the raw bytes (not NUL-terminated).
 *
 * Invariants checked besides "no crash, no leak, no UB":
 *  - every answer is one of MORE, ERROR, NO, YES;
 *  - MORE only while no complete first line (CRLF) is there, and only for
 *    a short input (a reply longer than the client's buffer is an error);
 *  - YES of a take is exactly "+OK" / ":1" (redis) or "STORED"
 *    (memcached) as the first line; YES of a drop exactly ":1" or
 *    "DELETED";
 *  - YES of `gets` gives a cas unique only when the data is exactly the
 *    holder value asked about, followed by END;
 *  - a claim's reply (README "The fleet lock", oa2f_lock_parse_claim()):
 *    YES gives a value that lies inside the input and inside the cap,
 *    announced by its "$<length>" line and ending the input with CRLF;
 *    NO only for "$-1" / "_"; REFUSED only for "-ERR syntax error…". */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE /* memmem */
#endif
#include "fuzz_common.h"
#include "oa2f_fleet_lock.h"

#define NAME  "oauth2-federated-lock:ab"
#define VALUE "host/123/456/0011223344556677"

static int first_line_is(const uint8_t *d, size_t n, const char *word)
{
    size_t w = strlen(word);

    return n >= w + 2 && !memcmp(d, word, w) && d[w] == '\r'
           && d[w + 1] == '\n';
}

static int has_crlf(const uint8_t *d, size_t n)
{
    size_t i;

    for (i = 0; i + 1 < n; i++) {
        if (d[i] == '\r' && d[i + 1] == '\n') {
            return 1;
        }
    }
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    unsigned char *buf = fz_copy(data, size);
    const char *s = (const char *)buf;
    oa2f_reply_e r;
    unsigned long long cas = 0;

    r = oa2f_lock_parse_reply(OA2F_LOCK_REDIS, s, size);
    FZ_ASSERT(r >= OA2F_REPLY_MORE && r <= OA2F_REPLY_YES, "redis %d", r);
    FZ_ASSERT(r != OA2F_REPLY_MORE || !has_crlf(data, size),
              "redis: MORE with a complete line");
    FZ_ASSERT(r != OA2F_REPLY_YES || first_line_is(data, size, "+OK")
                  || first_line_is(data, size, ":1"),
              "redis: YES for another line");

    r = oa2f_lock_parse_reply(OA2F_LOCK_MEMCACHE, s, size);
    FZ_ASSERT(r >= OA2F_REPLY_MORE && r <= OA2F_REPLY_YES, "memcached %d", r);
    FZ_ASSERT(r != OA2F_REPLY_MORE || !has_crlf(data, size),
              "memcached: MORE with a complete line");
    FZ_ASSERT(r != OA2F_REPLY_YES || first_line_is(data, size, "STORED"),
              "memcached: YES for another line");

    /* a drop's reply: YES only for ":1" / "DELETED" */
    r = oa2f_lock_parse_drop(OA2F_LOCK_REDIS, s, size);
    FZ_ASSERT(r >= OA2F_REPLY_MORE && r <= OA2F_REPLY_YES, "redis drop %d", r);
    FZ_ASSERT(r != OA2F_REPLY_YES || first_line_is(data, size, ":1"),
              "redis drop: YES for another line");
    r = oa2f_lock_parse_drop(OA2F_LOCK_MEMCACHE, s, size);
    FZ_ASSERT(r >= OA2F_REPLY_MORE && r <= OA2F_REPLY_YES, "memcached drop %d",
              r);
    FZ_ASSERT(r != OA2F_REPLY_YES || first_line_is(data, size, "DELETED"),
              "memcached drop: YES for another line");

    r = oa2f_lock_parse_mc_gets(s, size, NAME, VALUE, &cas);
    FZ_ASSERT(r >= OA2F_REPLY_MORE && r <= OA2F_REPLY_YES, "gets %d", r);
    if (r == OA2F_REPLY_YES) {
        size_t vl = strlen(VALUE);
        const uint8_t *end = (const uint8_t *)memmem(data, size, "\r\n", 2);

        FZ_ASSERT(end && size >= (size_t)(end - data) + 2 + vl + 7,
                  "gets: YES on a short reply");
        FZ_ASSERT(!memcmp(end + 2, VALUE, vl), "gets: YES for another value");
        FZ_ASSERT(!memcmp(end + 2 + vl, "\r\nEND\r\n", 7),
                  "gets: YES without END");
    }
    {
        apr_size_t off = 0, vlen = 0, cap = size % 2 ? 64 : 4096;
        char head[32];

        r = oa2f_lock_parse_claim(s, size, cap, &off, &vlen);
        FZ_ASSERT(r >= OA2F_REPLY_REFUSED && r <= OA2F_REPLY_YES, "claim %d",
                  r);
        FZ_ASSERT(r != OA2F_REPLY_NO || first_line_is(data, size, "$-1")
                      || first_line_is(data, size, "_"),
                  "claim: NO for another line");
        FZ_ASSERT(
            r != OA2F_REPLY_REFUSED
                || (size >= 17 && !memcmp(data, "-ERR syntax error", 17)),
            "claim: REFUSED for another line");
        if (r == OA2F_REPLY_YES) {
            snprintf(head, sizeof(head), "$%lu\r\n", (unsigned long)vlen);
            FZ_ASSERT(off == strlen(head) && !memcmp(data, head, off),
                      "claim: YES without its length line");
            FZ_ASSERT(off + vlen + 2 == size && off + vlen + 2 <= cap,
                      "claim: YES beyond the input or the cap");
            FZ_ASSERT(data[size - 2] == '\r' && data[size - 1] == '\n',
                      "claim: YES without the final CRLF");
        }
    }
    free(buf);
    return 0;
}
