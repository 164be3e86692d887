/* Fuzz target: sealed cache values, oa2f_unseal() and oa2f_seal(), with
 * the entry decoder behind them.
 *
 * One key (derived from a fixed secret) and one aad (a cache key) for the
 * whole run. Each input is used two ways:
 *  1. opened as a sealed value (must never crash; only the seeds, sealed
 *     under this key and aad, open); what opens is decoded, and what
 *     decodes shows what oa2f_claims_prepare derives (fz_check_prepared);
 *  2. sealed, then: the value is OA2F_SEAL_OVERHEAD bytes longer, starts
 *     with the magic and version, opens to the input byte for byte (and a
 *     NUL after it), and does not open with one byte changed (a position
 *     that depends on the input), one byte short, one byte long, under
 *     another aad or another key; sealing twice never gives the same
 *     value. What opened is decoded as an entry, as in 1.
 *
 * FUZZ_DUMP_SEALED=DIR writes the sealed value of way 2 to DIR (how
 * fuzz/make_corpus.py makes the seeds from the cache_entry ones). */
#include <apr_strings.h>

#include "fuzz_common.h"
#include "oa2f_cache_entry.h"
#include "oa2f_keyer.h"
#include "oa2f_seal.h"

#define SECRET "fuzz cache secret"

static oa2f_seal_key_t key, other_key;
static unsigned char aad[OA2F_CACHE_KEY_LEN], other_aad[OA2F_CACHE_KEY_LEN];

static void setup(void)
{
    FZ_ASSERT(oa2f_seal_key_derive(&key, SECRET)
              && oa2f_seal_key_derive(&other_key, SECRET "!"),
              "cannot derive the seal keys");
    oa2f_cache_key(SECRET, "introspection\nhttps://as.example.com/oauth2/"
                   "introspect\nrs-gateway", "Zk9x2-hP_q.7Lm~a", aad);
    memcpy(other_aad, aad, sizeof(aad));
    other_aad[sizeof(other_aad) - 1] ^= 0x01;
}

/* Decode what opened; what decodes must be clean. */
static void decode(apr_pool_t *p, const unsigned char *plain, size_t len)
{
    oa2f_claims_t *c = NULL;
    long long at = 0;

    if (oa2f_entry_decode(p, plain, len, &c, &at)) {
        FZ_ASSERT(c && c->fields && c->scopes, "decoded claims incomplete");
        fz_check_prepared(p, c);
    }
}

static int opens(apr_pool_t *p, const oa2f_seal_key_t *k,
                 const unsigned char *a, const unsigned char *s, size_t len)
{
    unsigned char *plain = NULL;
    apr_size_t plen = 0;

    return oa2f_unseal(p, k, a, OA2F_CACHE_KEY_LEN, s, len, &plain, &plen);
}

static void dump(const unsigned char *s, size_t len, const char *dir,
                 size_t n)
{
    char path[4096];
    FILE *f;

    snprintf(path, sizeof(path), "%s/sealed_%zu", dir, n);
    if ((f = fopen(path, "wb"))) {
        fwrite(s, 1, len, f);
        fclose(f);
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static int ready;
    apr_pool_t *p = fz_pool_begin();
    unsigned char *buf = fz_copy(data, size), *plain = NULL, *s, *s2;
    unsigned char *copy;
    apr_size_t plen = 0, slen = 0, slen2 = 0, at;
    const char *dir;

    if (!ready) {
        setup();
        ready = 1;
    }

    /* 1. as a sealed value */
    if (oa2f_unseal(p, &key, aad, sizeof(aad), buf, size, &plain, &plen)) {
        FZ_ASSERT(plen + OA2F_SEAL_OVERHEAD == size, "opened %zu of %zu",
                  (size_t)plen, size);
        FZ_ASSERT(plain[plen] == '\0', "plaintext not NUL-terminated");
        FZ_ASSERT(!opens(p, &key, other_aad, buf, size),
                  "opened under another aad");
        decode(p, plain, plen);     /* pool blocks have their exact size */
    }

    /* 2. sealed here */
    FZ_ASSERT(oa2f_seal(p, &key, aad, sizeof(aad), data, size, &s, &slen),
              "cannot seal %zu bytes", size);
    FZ_ASSERT(slen == size + OA2F_SEAL_OVERHEAD, "sealed to %zu bytes",
              (size_t)slen);
    FZ_ASSERT(memcmp(s, "OA2S\x01", 5) == 0, "no magic and version");
    copy = fz_copy(s, slen);                    /* exact size for ASan */
    plain = NULL;
    FZ_ASSERT(oa2f_unseal(p, &key, aad, sizeof(aad), copy, slen, &plain,
                          &plen), "a sealed value does not open");
    FZ_ASSERT(plen == size && (size == 0 || memcmp(plain, data, size) == 0)
              && plain[size] == '\0', "opened to other bytes");
    decode(p, plain, plen);

    FZ_ASSERT(!opens(p, &key, other_aad, copy, slen),
              "opened under another aad");
    FZ_ASSERT(!opens(p, &other_key, aad, copy, slen),
              "opened under another key");
    FZ_ASSERT(!opens(p, &key, aad, copy, slen - 1), "opened one byte short");
    at = (apr_size_t)((size * 2654435761u) % slen);
    copy[at] ^= (unsigned char)(1u << (size % 8));
    FZ_ASSERT(!opens(p, &key, aad, copy, slen),
              "opened with byte %zu changed", (size_t)at);
    free(copy);
    copy = malloc(slen + 1);
    FZ_ASSERT(copy != NULL, "out of memory");
    memcpy(copy, s, slen);
    copy[slen] = 0;
    FZ_ASSERT(!opens(p, &key, aad, copy, slen + 1), "opened one byte long");
    free(copy);

    FZ_ASSERT(oa2f_seal(p, &key, aad, sizeof(aad), data, size, &s2, &slen2)
              && slen2 == slen
              && memcmp(s + OA2F_SEAL_HEAD_LEN, s2 + OA2F_SEAL_HEAD_LEN,
                        OA2F_SEAL_NONCE_LEN) != 0,
              "sealed twice to the same nonce");

    if ((dir = getenv("FUZZ_DUMP_SEALED")) && *dir) {
        dump(s, slen, dir, size);
    }

    free(buf);
    fz_pool_end(p);
    return 0;
}
