/* oa2f_seal.c: sealed cache values, AES-256-GCM (NIST SP 800-38D) under
 * a key from HKDF-SHA-256 (RFC 5869), bound to the cache key. */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>
#include <openssl/evp.h>
#include <apr_strings.h>

#include "unit.h"
#include "ut_common.h"
#include "oa2f_cache_entry.h"
#include "oa2f_keyer.h"
#include "oa2f_seal.h"

/* See test_cache_entry.c: Check records every passing ck_assert. */
#define FAIL_IF(cond, ...)                                                    \
    do {                                                                      \
        if (cond) {                                                           \
            ck_abort_msg(__VA_ARGS__);                                        \
        }                                                                     \
    } while (0)

#define SECRET "fleet-wide cache secret"

/* bytes from..from+n-1 */
static unsigned char *run(unsigned from, apr_size_t n)
{
    unsigned char *b = apr_palloc(ut_pool, n);
    apr_size_t i;

    for (i = 0; i < n; i++) {
        b[i] = (unsigned char)(from + i);
    }
    return b;
}

static const oa2f_seal_key_t *key_of(const char *secret)
{
    oa2f_seal_key_t *k = apr_palloc(ut_pool, sizeof(*k));

    ck_assert_int_eq(oa2f_seal_key_derive(k, secret), 1);
    return k;
}

/* A cache key as the glue uses it for aad. */
static const unsigned char *aad_of(const char *token)
{
    unsigned char *a = apr_palloc(ut_pool, OA2F_CACHE_KEY_LEN);

    oa2f_cache_key(SECRET, "introspection\nhttps://as.example.com/", token, a);
    return a;
}

static unsigned char *seal(const oa2f_seal_key_t *k, const unsigned char *aad,
                           const void *plain, apr_size_t len,
                           apr_size_t *out_len)
{
    unsigned char *out = NULL;

    ck_assert_int_eq(oa2f_seal(ut_pool, k, aad, OA2F_CACHE_KEY_LEN, plain, len,
                               &out, out_len),
                     1);
    ck_assert_ptr_nonnull(out);
    ck_assert_uint_eq(*out_len, len + OA2F_SEAL_OVERHEAD);
    return out;
}

/* A realistic plaintext: an encoded verdict. */
static unsigned char *entry(apr_size_t *len)
{
    oa2f_claims_t *c = oa2f_claims_make(ut_pool);
    unsigned char *buf;

    c->active = 1;
    c->expires_at = 1767229200LL;
    c->client_id = "mobile-app-7";
    APR_ARRAY_PUSH(c->scopes, const char *) = "orders:read";
    oa2f_claims_add(ut_pool, c, "sub", "jdoe", 4);
    oa2f_claims_add(ut_pool, c, "motto", "a\r\nb", 4);
    c->raw = "{\"active\":true,\"sub\":\"jdoe\",\"motto\":\"a\\r\\nb\"}";
    c->raw_len = strlen(c->raw);
    oa2f_claims_prepare(ut_pool, c);
    ck_assert_int_eq(oa2f_entry_encode(ut_pool, c, 1767225600LL, &buf, len),
                     1);
    return buf;
}

/* ---- HKDF (RFC 5869 Appendix A) --------------------------------------- */

START_TEST(test_hkdf_rfc5869_1)
{
    unsigned char ikm[22], okm[42];

    memset(ikm, 0x0b, sizeof(ikm));
    ck_assert_int_eq(oa2f_hkdf_sha256(ikm, sizeof(ikm), run(0x00, 13), 13,
                                      run(0xf0, 10), 10, okm, sizeof(okm)),
                     1);
    ck_assert_str_eq(ut_hex(okm, sizeof(okm)),
                     "3cb25f25faacd57a90434f64d0362f2a"
                     "2d2d0a90cf1a5a4c5db02d56ecc4c5bf"
                     "34007208d5b887185865");
}
END_TEST

/* Longer inputs and outputs (several expand blocks). */
START_TEST(test_hkdf_rfc5869_2)
{
    unsigned char okm[82];

    ck_assert_int_eq(oa2f_hkdf_sha256(run(0x00, 80), 80, run(0x60, 80), 80,
                                      run(0xb0, 80), 80, okm, sizeof(okm)),
                     1);
    ck_assert_str_eq(ut_hex(okm, sizeof(okm)),
                     "b11e398dc80327a1c8e7f78c596a4934"
                     "4f012eda2d4efad8a050cc4c19afa97c"
                     "59045a99cac7827271cb41c65e590e09"
                     "da3275600c2f09b8367793a9aca3db71"
                     "cc30c58179ec3e87c14c01d5c1f3434f"
                     "1d87");
}
END_TEST

/* Zero-length salt and info. */
START_TEST(test_hkdf_rfc5869_3)
{
    unsigned char ikm[22], okm[42];

    memset(ikm, 0x0b, sizeof(ikm));
    ck_assert_int_eq(
        oa2f_hkdf_sha256(ikm, sizeof(ikm), NULL, 0, NULL, 0, okm, sizeof(okm)),
        1);
    ck_assert_str_eq(ut_hex(okm, sizeof(okm)),
                     "8da4e775a563c18f715f802a063c5a31"
                     "b8a11f5c5ee1879ec3454e5f3c738d2d"
                     "9d201395faa4b61a96c8");
}
END_TEST

START_TEST(test_hkdf_limits)
{
    unsigned char okm[255 * 32 + 1];

    ck_assert_int_eq(oa2f_hkdf_sha256((const unsigned char *)"k", 1, NULL, 0,
                                      NULL, 0, okm, 0),
                     0);
    ck_assert_int_eq(oa2f_hkdf_sha256((const unsigned char *)"k", 1, NULL, 0,
                                      NULL, 0, okm, sizeof(okm)),
                     0);
    ck_assert_int_eq(oa2f_hkdf_sha256((const unsigned char *)"k", 1, NULL, 0,
                                      NULL, 0, okm, sizeof(okm) - 1),
                     1);
    /* an empty IKM is allowed by RFC 5869 */
    ck_assert_int_eq(oa2f_hkdf_sha256(NULL, 0, NULL, 0, NULL, 0, okm, 32), 1);
}
END_TEST

/* ---- oa2f_seal_key_derive --------------------------------------------- */

START_TEST(test_derive)
{
    oa2f_seal_key_t a, b, c;

    memset(&a, 0x11, sizeof(a));
    memset(&b, 0x22, sizeof(b));
    ck_assert_int_eq(oa2f_seal_key_derive(&a, SECRET), 1);
    ck_assert_int_eq(oa2f_seal_key_derive(&b, SECRET), 1);
    ck_assert_mem_eq(a.key, b.key, sizeof(a.key));
    /* HKDF-SHA-256(secret, salt "mod_oauth2_federated cache seal",
     * info "AES-256-GCM v1"), computed with Python's hmac: the key must
     * never change, or every sealed value in a shared cache is lost */
    ck_assert_str_eq(ut_hex(a.key, sizeof(a.key)),
                     "e500c8f7507838c9f057e22418496f11"
                     "75d022953e99a103bd27667994a09362");
    ck_assert_int_eq(oa2f_seal_key_derive(&c, "k"), 1);
    ck_assert_str_eq(ut_hex(c.key, sizeof(c.key)),
                     "6d05d975e2589229e2097f7a0da4150c"
                     "412b2fab04d0cfff4af50bbb2cc558ae");

    /* another secret, one byte off */
    ck_assert_int_eq(oa2f_seal_key_derive(&c, SECRET "!"), 1);
    ck_assert(memcmp(a.key, c.key, sizeof(a.key)) != 0);
    ck_assert_int_eq(oa2f_seal_key_derive(&c, "fleet-wide cache secreT"), 1);
    ck_assert(memcmp(a.key, c.key, sizeof(a.key)) != 0);

    /* not the cache key's HMAC key, nor the secret */
    ck_assert(memcmp(a.key, SECRET,
                     sizeof(SECRET) - 1 < 32 ? sizeof(SECRET) - 1 : 32)
              != 0);

    /* no secret, no key */
    memset(&c, 0x33, sizeof(c));
    ck_assert_int_eq(oa2f_seal_key_derive(&c, NULL), 0);
    ck_assert_int_eq(oa2f_seal_key_derive(&c, ""), 0);
}
END_TEST

/* ---- oa2f_seal / oa2f_unseal ------------------------------------------ */

static const apr_size_t trip_lens[] = {
    0, 1, 15, 16, 17, 31, 32, 33, 255, 1000, OA2F_CACHE_MAX_ENTRY,
};

START_TEST(test_round_trip)
{
    apr_size_t len = trip_lens[_i], slen, plen = 12345;
    const oa2f_seal_key_t *k = key_of(SECRET);
    const unsigned char *aad = aad_of("tok");
    unsigned char *plain = run(7, len), *sealed, *back = NULL;

    sealed = seal(k, aad, plain, len, &slen);
    ck_assert_mem_eq(sealed, "OA2S\x01", 5);
    ck_assert_int_eq(oa2f_unseal(ut_pool, k, aad, OA2F_CACHE_KEY_LEN, sealed,
                                 slen, &back, &plen),
                     1);
    ck_assert_uint_eq(plen, len);
    if (len) {
        ck_assert_mem_eq(back, plain, len);
        /* the plaintext is not in the clear */
        ck_assert(len < 16 || memcmp(sealed + 17, plain, 16) != 0);
    }
    ck_assert_uint_eq(back[len], 0);
}
END_TEST

/* An encoded verdict goes through sealed and decodes as before. */
START_TEST(test_round_trip_entry)
{
    apr_size_t len, slen, plen;
    const oa2f_seal_key_t *k = key_of(SECRET);
    const unsigned char *aad = aad_of("tok");
    unsigned char *plain = entry(&len), *sealed, *back;
    oa2f_claims_t *d = NULL;
    long long at = 0;

    sealed = seal(k, aad, plain, len, &slen);
    ck_assert_int_eq(oa2f_unseal(ut_pool, k, aad, OA2F_CACHE_KEY_LEN, sealed,
                                 slen, &back, &plen),
                     1);
    ck_assert_int_eq(oa2f_entry_decode(ut_pool, back, plen, &d, &at), 1);
    ck_assert(at == 1767225600LL);
    ck_assert_int_eq(d->active, 1);
    ck_assert_str_eq(oa2f_claims_get(d, "motto")->shown, "ab");
}
END_TEST

/* Any single byte changed, anywhere, is refused. */
START_TEST(test_every_flip)
{
    static const unsigned char xors[] = { 0x01, 0x80, 0xff };
    apr_size_t len, slen, plen, i;
    const oa2f_seal_key_t *k = key_of(SECRET);
    const unsigned char *aad = aad_of("tok");
    unsigned char *plain = entry(&len), *sealed, *copy, *back;
    apr_pool_t *sub;
    int x;

    ck_assert_int_eq(apr_pool_create(&sub, ut_pool), APR_SUCCESS);
    sealed = seal(k, aad, plain, len, &slen);
    copy = apr_palloc(ut_pool, slen);
    for (i = 0; i < slen; i++) {
        for (x = 0; x < UT_N(xors); x++) {
            memcpy(copy, sealed, slen);
            copy[i] ^= xors[x];
            back = NULL;
            FAIL_IF(oa2f_unseal(sub, k, aad, OA2F_CACHE_KEY_LEN, copy, slen,
                                &back, &plen)
                            != 0
                        || back != NULL,
                    "byte %d of %d ^ 0x%02x: unsealed", (int)i, (int)slen,
                    xors[x]);
            apr_pool_clear(sub);
        }
    }
    /* the original still opens */
    ck_assert_int_eq(oa2f_unseal(sub, k, aad, OA2F_CACHE_KEY_LEN, sealed, slen,
                                 &back, &plen),
                     1);
}
END_TEST

/* The same for the shortest value: an empty plaintext. */
START_TEST(test_empty_plain)
{
    apr_size_t slen, plen = 99, i;
    const oa2f_seal_key_t *k = key_of(SECRET);
    const unsigned char *aad = aad_of("tok");
    unsigned char *sealed, *copy, *back = NULL;

    sealed = seal(k, aad, "", 0, &slen);
    ck_assert_uint_eq(slen, OA2F_SEAL_OVERHEAD);
    ck_assert_int_eq(oa2f_unseal(ut_pool, k, aad, OA2F_CACHE_KEY_LEN, sealed,
                                 slen, &back, &plen),
                     1);
    ck_assert_uint_eq(plen, 0);
    ck_assert_ptr_nonnull(back);
    ck_assert_uint_eq(back[0], 0);
    /* NULL plaintext with length 0 is the same */
    sealed = seal(k, aad, NULL, 0, &slen);
    ck_assert_int_eq(oa2f_unseal(ut_pool, k, aad, OA2F_CACHE_KEY_LEN, sealed,
                                 slen, &back, &plen),
                     1);
    copy = apr_palloc(ut_pool, slen);
    for (i = 0; i < slen; i++) {
        memcpy(copy, sealed, slen);
        copy[i] ^= 0x01;
        ck_assert_msg(oa2f_unseal(ut_pool, k, aad, OA2F_CACHE_KEY_LEN, copy,
                                  slen, &back, &plen)
                          == 0,
                      "byte %d changed: unsealed", (int)i);
    }
}
END_TEST

/* Every prefix is refused, and so is a byte more. */
START_TEST(test_every_truncation)
{
    apr_size_t len, slen, plen, n;
    const oa2f_seal_key_t *k = key_of(SECRET);
    const unsigned char *aad = aad_of("tok");
    unsigned char *plain = entry(&len), *sealed, *copy, *back;
    apr_pool_t *sub;

    ck_assert_int_eq(apr_pool_create(&sub, ut_pool), APR_SUCCESS);
    sealed = seal(k, aad, plain, len, &slen);
    for (n = 0; n < slen; n++) {
        /* an exact-size copy, so that valgrind sees any read past it */
        copy = apr_pmemdup(sub, sealed, n ? n : 1);
        back = NULL;
        FAIL_IF(
            oa2f_unseal(sub, k, aad, OA2F_CACHE_KEY_LEN, copy, n, &back, &plen)
                    != 0
                || back != NULL,
            "a %d-byte prefix of %d unsealed", (int)n, (int)slen);
        apr_pool_clear(sub);
    }
    copy = apr_palloc(ut_pool, slen + 1);
    memcpy(copy, sealed, slen);
    copy[slen] = 0;
    ck_assert_int_eq(oa2f_unseal(ut_pool, k, aad, OA2F_CACHE_KEY_LEN, copy,
                                 slen + 1, &back, &plen),
                     0);
}
END_TEST

/* A value copied under another cache key does not open there. */
START_TEST(test_other_aad)
{
    apr_size_t len, slen, plen;
    const oa2f_seal_key_t *k = key_of(SECRET);
    const unsigned char *aad = aad_of("tok");
    unsigned char *plain = entry(&len), *sealed, *back, other[32];
    int i;

    sealed = seal(k, aad, plain, len, &slen);
    ck_assert_int_eq(oa2f_unseal(ut_pool, k, aad_of("tok2"),
                                 OA2F_CACHE_KEY_LEN, sealed, slen, &back,
                                 &plen),
                     0);
    for (i = 0; i < OA2F_CACHE_KEY_LEN; i++) {
        memcpy(other, aad, sizeof(other));
        other[i] ^= 0x40;
        FAIL_IF(oa2f_unseal(ut_pool, k, other, sizeof(other), sealed, slen,
                            &back, &plen)
                    != 0,
                "aad byte %d changed", i);
    }
    /* shorter, longer, none */
    ck_assert_int_eq(oa2f_unseal(ut_pool, k, aad, OA2F_CACHE_KEY_LEN - 1,
                                 sealed, slen, &back, &plen),
                     0);
    ck_assert_int_eq(
        oa2f_unseal(ut_pool, k, NULL, 0, sealed, slen, &back, &plen), 0);
    /* and without aad, sealing and opening agree */
    ck_assert_int_eq(
        oa2f_seal(ut_pool, k, NULL, 0, plain, len, &sealed, &slen), 1);
    ck_assert_int_eq(
        oa2f_unseal(ut_pool, k, NULL, 0, sealed, slen, &back, &plen), 1);
    ck_assert_int_eq(oa2f_unseal(ut_pool, k, aad, OA2F_CACHE_KEY_LEN, sealed,
                                 slen, &back, &plen),
                     0);
}
END_TEST

START_TEST(test_other_secret)
{
    apr_size_t len, slen, plen;
    const unsigned char *aad = aad_of("tok");
    unsigned char *plain = entry(&len), *sealed, *back;

    sealed = seal(key_of(SECRET), aad, plain, len, &slen);
    ck_assert_int_eq(oa2f_unseal(ut_pool, key_of(SECRET "!"), aad,
                                 OA2F_CACHE_KEY_LEN, sealed, slen, &back,
                                 &plen),
                     0);
    ck_assert_int_eq(oa2f_unseal(ut_pool, key_of("k"), aad, OA2F_CACHE_KEY_LEN,
                                 sealed, slen, &back, &plen),
                     0);
    ck_assert_int_eq(oa2f_unseal(ut_pool, key_of(SECRET), aad,
                                 OA2F_CACHE_KEY_LEN, sealed, slen, &back,
                                 &plen),
                     1);
}
END_TEST

/* A thread keeps its contexts keyed (oa2f_seal.c): changing keys from
 * one value to the next, in both directions, re-keys them every time. */
START_TEST(test_key_switch)
{
    const oa2f_seal_key_t *k[2] = {key_of(SECRET), key_of(SECRET "2")};
    const unsigned char *aad = aad_of("tok");
    unsigned char *plain = run(5, 200), *s[2], *back;
    apr_size_t slen[2], plen;
    int i, j;

    for (i = 0; i < 6; i++) {
        s[i % 2] = seal(k[i % 2], aad, plain, 200, &slen[i % 2]);
        s[(i + 1) % 2] = seal(k[(i + 1) % 2], aad, plain, 200,
                              &slen[(i + 1) % 2]);
        for (j = 0; j < 4; j++) {
            int key = (i + j) % 2, value = (i + j / 2) % 2;

            FAIL_IF(oa2f_unseal(ut_pool, k[key], aad, OA2F_CACHE_KEY_LEN,
                                s[value], slen[value], &back, &plen)
                        != (key == value),
                    "round %d: key %d opening value %d", i, key, value);
        }
    }
}
END_TEST

/* A fresh nonce per seal: the same value never seals the same twice. */
START_TEST(test_fresh_nonce)
{
    apr_size_t len, a_len, b_len, plen;
    const oa2f_seal_key_t *k = key_of(SECRET);
    const unsigned char *aad = aad_of("tok");
    unsigned char *plain = entry(&len), *a, *b, *back;

    a = seal(k, aad, plain, len, &a_len);
    b = seal(k, aad, plain, len, &b_len);
    ck_assert_uint_eq(a_len, b_len);
    ck_assert(memcmp(a + OA2F_SEAL_HEAD_LEN, b + OA2F_SEAL_HEAD_LEN,
                     OA2F_SEAL_NONCE_LEN)
              != 0);
    ck_assert(memcmp(a + OA2F_SEAL_HEAD_LEN + OA2F_SEAL_NONCE_LEN,
                     b + OA2F_SEAL_HEAD_LEN + OA2F_SEAL_NONCE_LEN,
                     a_len - OA2F_SEAL_HEAD_LEN - OA2F_SEAL_NONCE_LEN)
              != 0);
    ck_assert_int_eq(oa2f_unseal(ut_pool, k, aad, OA2F_CACHE_KEY_LEN, a, a_len,
                                 &back, &plen),
                     1);
    ck_assert_int_eq(oa2f_unseal(ut_pool, k, aad, OA2F_CACHE_KEY_LEN, b, b_len,
                                 &back, &plen),
                     1);
}
END_TEST

/* The nonce of a sealed value. */
static void nonce_of(const unsigned char *sealed, unsigned char *out)
{
    memcpy(out, sealed + OA2F_SEAL_HEAD_LEN, OA2F_SEAL_NONCE_LEN);
}

static int cmp_nonce(const void *a, const void *b)
{
    return memcmp(a, b, OA2F_SEAL_NONCE_LEN);
}

/* Nonces come from batches (oa2f_seal.c): across several batches on one
 * thread, none is given out twice. */
#define MANY_SEALS 200

START_TEST(test_nonces_distinct)
{
    static unsigned char seen[MANY_SEALS][OA2F_SEAL_NONCE_LEN];
    const oa2f_seal_key_t *k = key_of(SECRET);
    const unsigned char *aad = aad_of("tok");
    apr_size_t len, slen;
    unsigned char *plain = entry(&len);
    int i;

    for (i = 0; i < MANY_SEALS; i++) {
        nonce_of(seal(k, aad, plain, len, &slen), seen[i]);
    }
    qsort(seen, MANY_SEALS, OA2F_SEAL_NONCE_LEN, cmp_nonce);
    for (i = 1; i < MANY_SEALS; i++) {
        ck_assert_msg(memcmp(seen[i - 1], seen[i], OA2F_SEAL_NONCE_LEN) != 0,
                      "a nonce given out twice");
    }
}
END_TEST

/* A forked child (httpd's children) never uses what is left of its
 * parent's batch: its next nonce is not the parent's next one. */
START_TEST(test_nonces_after_fork)
{
    const oa2f_seal_key_t *k = key_of(SECRET);
    const unsigned char *aad = aad_of("tok");
    apr_size_t len, slen;
    unsigned char *plain = entry(&len);
    unsigned char mine[OA2F_SEAL_NONCE_LEN], child[OA2F_SEAL_NONCE_LEN];
    int fd[2], status;
    pid_t pid;

    /* a batch is started, not used up */
    seal(k, aad, plain, len, &slen);
    ck_assert_int_eq(pipe(fd), 0);
    pid = fork();
    ck_assert_int_ge(pid, 0);
    if (pid == 0) {
        unsigned char *s;
        apr_size_t n;

        close(fd[0]);
        if (!oa2f_seal(ut_pool, k, aad, OA2F_CACHE_KEY_LEN, plain, len, &s,
                       &n)
            || write(fd[1], s + OA2F_SEAL_HEAD_LEN, OA2F_SEAL_NONCE_LEN)
                   != OA2F_SEAL_NONCE_LEN) {
            _exit(1);
        }
        _exit(0);
    }
    close(fd[1]);
    ck_assert_int_eq(read(fd[0], child, sizeof(child)), sizeof(child));
    close(fd[0]);
    ck_assert_int_eq(waitpid(pid, &status, 0), pid);
    ck_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0);
    nonce_of(seal(k, aad, plain, len, &slen), mine);
    ck_assert_msg(memcmp(mine, child, sizeof(mine)) != 0,
                  "the child sealed with its parent's next nonce");
}
END_TEST

/* The layout, read with OpenSSL directly: AES-256-GCM under the derived
 * key, nonce after the head, tag at the end, and the head authenticated
 * before the caller's aad. */
static int reference_open(const oa2f_seal_key_t *k, const unsigned char *aad,
                          apr_size_t aad_len, int with_head,
                          const unsigned char *s, apr_size_t len,
                          unsigned char *out)
{
    EVP_CIPHER_CTX *ctx = EVP_CIPHER_CTX_new();
    unsigned char tag[16];
    int n = 0, m = 0, ok;
    int ct_len = (int)len - 33;

    memcpy(tag, s + len - 16, 16);
    ok = ctx && EVP_DecryptInit_ex(ctx, EVP_aes_256_gcm(), NULL, NULL, NULL)
         && EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_SET_IVLEN, 12, NULL)
         && EVP_DecryptInit_ex(ctx, NULL, NULL, k->key, s + 5)
         && (!with_head || EVP_DecryptUpdate(ctx, NULL, &n, s, 5))
         && EVP_DecryptUpdate(ctx, NULL, &n, aad, (int)aad_len)
         && EVP_DecryptUpdate(ctx, out, &n, s + 17, ct_len)
         && EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_SET_TAG, 16, tag)
         && EVP_DecryptFinal_ex(ctx, out + n, &m) > 0;
    EVP_CIPHER_CTX_free(ctx);
    return ok && n + m == ct_len;
}

START_TEST(test_layout)
{
    apr_size_t len, slen;
    const oa2f_seal_key_t *k = key_of(SECRET);
    const unsigned char *aad = aad_of("tok");
    unsigned char *plain = entry(&len), *sealed, *out;

    ck_assert_int_eq(OA2F_SEAL_OVERHEAD, 33);
    sealed = seal(k, aad, plain, len, &slen);
    out = apr_palloc(ut_pool, len);
    ck_assert_int_eq(
        reference_open(k, aad, OA2F_CACHE_KEY_LEN, 1, sealed, slen, out), 1);
    ck_assert_mem_eq(out, plain, len);
    /* without the head in the aad the tag does not match */
    ck_assert_int_eq(
        reference_open(k, aad, OA2F_CACHE_KEY_LEN, 0, sealed, slen, out), 0);
}
END_TEST

/* Values that are not sealed values: other magic or version, garbage
 * behind a right head, all zeros. */
START_TEST(test_not_sealed)
{
    const oa2f_seal_key_t *k = key_of(SECRET);
    const unsigned char *aad = aad_of("tok");
    unsigned char buf[200], *back;
    apr_size_t len, slen, plen, n;
    unsigned char *plain = entry(&len), *sealed;

    sealed = seal(k, aad, plain, len, &slen);
    /* an unsealed entry ("OA2F") */
    ck_assert_int_eq(oa2f_unseal(ut_pool, k, aad, OA2F_CACHE_KEY_LEN, plain,
                                 len, &back, &plen),
                     0);
    /* version 2, or 0 */
    sealed[4] = 2;
    ck_assert_int_eq(oa2f_unseal(ut_pool, k, aad, OA2F_CACHE_KEY_LEN, sealed,
                                 slen, &back, &plen),
                     0);
    sealed[4] = 0;
    ck_assert_int_eq(oa2f_unseal(ut_pool, k, aad, OA2F_CACHE_KEY_LEN, sealed,
                                 slen, &back, &plen),
                     0);
    for (n = 0; n <= sizeof(buf); n++) {
        memset(buf, 0, sizeof(buf));
        FAIL_IF(oa2f_unseal(ut_pool, k, aad, OA2F_CACHE_KEY_LEN, buf, n, &back,
                            &plen)
                    != 0,
                "%d zeros unsealed", (int)n);
        memcpy(buf, "OA2S\x01", 5);
        FAIL_IF(oa2f_unseal(ut_pool, k, aad, OA2F_CACHE_KEY_LEN, buf, n, &back,
                            &plen)
                    != 0,
                "%d bytes of head and zeros "
                "unsealed",
                (int)n);
    }
}
END_TEST

/* Many threads seal and open at once, each with its own pool (the
 * module's threads share nothing but the key). */
#define THREADS 8
#define ROUNDS  200

typedef struct {
    const oa2f_seal_key_t *k;
    int id;
    int failures;
} worker_t;

static void *worker(void *arg)
{
    worker_t *w = arg;
    apr_pool_t *p;
    unsigned char aad[OA2F_CACHE_KEY_LEN], plain[300];
    int i;

    if (apr_pool_create_unmanaged(&p) != APR_SUCCESS) {
        w->failures = -1;
        return NULL;
    }
    for (i = 0; i < ROUNDS; i++) {
        unsigned char *s, *back;
        apr_size_t slen, plen, len = (apr_size_t)(i * 7 + w->id) % 300;

        memset(aad, w->id, sizeof(aad));
        memset(plain, i, sizeof(plain));
        if (!oa2f_seal(p, w->k, aad, sizeof(aad), plain, len, &s, &slen)
            || !oa2f_unseal(p, w->k, aad, sizeof(aad), s, slen, &back, &plen)
            || plen != len || memcmp(back, plain, len) != 0) {
            w->failures++;
        }
        aad[0] ^= 1;
        if (oa2f_unseal(p, w->k, aad, sizeof(aad), s, slen, &back, &plen)) {
            w->failures++;
        }
        apr_pool_clear(p);
    }
    apr_pool_destroy(p);
    return NULL;
}

START_TEST(test_threads)
{
    pthread_t t[THREADS];
    worker_t w[THREADS];
    int i;

    for (i = 0; i < THREADS; i++) {
        /* two keys: each thread's contexts keep their own */
        w[i].k = key_of(i % 2 ? SECRET "2" : SECRET);
        w[i].id = i;
        w[i].failures = 0;
        ck_assert_int_eq(pthread_create(&t[i], NULL, worker, &w[i]), 0);
    }
    for (i = 0; i < THREADS; i++) {
        ck_assert_int_eq(pthread_join(t[i], NULL), 0);
        ck_assert_msg(w[i].failures == 0, "thread %d: %d failures", i,
                      w[i].failures);
    }
}
END_TEST

Suite *seal_suite(void)
{
    Suite *s = suite_create("seal");
    TCase *tc;

    tc = ut_tcase("hkdf");
    tcase_add_test(tc, test_hkdf_rfc5869_1);
    tcase_add_test(tc, test_hkdf_rfc5869_2);
    tcase_add_test(tc, test_hkdf_rfc5869_3);
    tcase_add_test(tc, test_hkdf_limits);
    tcase_add_test(tc, test_derive);
    suite_add_tcase(s, tc);

    tc = ut_tcase("seal");
    tcase_add_loop_test(tc, test_round_trip, 0, UT_N(trip_lens));
    tcase_add_test(tc, test_round_trip_entry);
    tcase_add_test(tc, test_every_flip);
    tcase_add_test(tc, test_empty_plain);
    tcase_add_test(tc, test_every_truncation);
    tcase_add_test(tc, test_other_aad);
    tcase_add_test(tc, test_other_secret);
    tcase_add_test(tc, test_key_switch);
    tcase_add_test(tc, test_fresh_nonce);
    tcase_add_test(tc, test_nonces_distinct);
    tcase_add_test(tc, test_nonces_after_fork);
    tcase_add_test(tc, test_layout);
    tcase_add_test(tc, test_not_sealed);
    tcase_add_test(tc, test_threads);
    tcase_set_timeout(tc, 300);
    suite_add_tcase(s, tc);
    return s;
}
