/* Sealed cache values (see oa2f_seal.h). */
#include <limits.h>
#include <string.h>
#include <pthread.h>
#include <unistd.h>
#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/kdf.h>
#include <openssl/params.h>
#include <openssl/rand.h>

#include "oa2f_seal.h"

#define MAGIC   "OA2S"
#define VERSION 1

/* Name the module, the purpose and the cipher, so that the same secret
 * never yields this key for anything else (RFC 5869 §3.1, §3.2). */
#define SEAL_SALT "mod_oauth2_federated cache seal"
#define SEAL_INFO "AES-256-GCM v1"

/* Looking an algorithm up by name takes a lock and a search: once. */
static EVP_CIPHER *gcm_alg;
static EVP_KDF *hkdf_alg;
static pthread_once_t fetch_once = PTHREAD_ONCE_INIT;

/* Nonces a thread draws from the DRBG at once. */
#define NONCE_BATCH 32

/* Each thread keeps one context per direction with its key already
 * expanded: a value then costs setting its nonce, not a context's
 * allocation, the key schedule and GHASH's tables. Its nonces come
 * from one draw per NONCE_BATCH values: RAND_bytes takes a global lock
 * and sets up the DRBG's cipher on each call. */
typedef struct {
    EVP_CIPHER_CTX *ctx[2]; /* [0] opens, [1] seals */
    int keyed[2];
    unsigned char key[2][OA2F_SEAL_KEY_LEN];
    unsigned char nonces[NONCE_BATCH][OA2F_SEAL_NONCE_LEN];
    unsigned used;  /* nonces of the batch given out */
    pid_t drawn_by; /* a forked copy of a batch is never used */
} ready_t;

static pthread_key_t ready_key;
static int have_ready_key;

static void ready_free(void *v)
{
    ready_t *rd = v;

    if (rd) {
        EVP_CIPHER_CTX_free(rd->ctx[0]);
        EVP_CIPHER_CTX_free(rd->ctx[1]);
        OPENSSL_clear_free(rd, sizeof(*rd));
    }
}

static void fetch_algs(void)
{
    gcm_alg = EVP_CIPHER_fetch(NULL, "AES-256-GCM", NULL);
    hkdf_alg = EVP_KDF_fetch(NULL, "HKDF", NULL);
    have_ready_key = pthread_key_create(&ready_key, ready_free) == 0;
}

/* httpd unloads the module at a restart: no thread may later call a
 * destructor that is gone, and the key is not left to leak. */
__attribute__((destructor)) static void drop_ready_key(void)
{
    if (have_ready_key) {
        ready_free(pthread_getspecific(ready_key));
        pthread_key_delete(ready_key);
        have_ready_key = 0;
    }
}

/* This thread's state, made on first use; NULL when none can be had. */
static ready_t *this_thread(void)
{
    ready_t *rd;

    if (!have_ready_key) {
        return NULL;
    }
    rd = pthread_getspecific(ready_key);
    if (!rd) {
        rd = OPENSSL_zalloc(sizeof(*rd));
        if (!rd || pthread_setspecific(ready_key, rd) != 0) {
            OPENSSL_free(rd);
            return NULL;
        }
        rd->used = NONCE_BATCH;
    }
    return rd;
}

/* A random 96-bit nonce per value (NIST SP 800-38D §8.2.2): values are
 * written by many processes with no shared counter. Each nonce of a
 * batch is given out once, and only in the process that drew it. */
static int new_nonce(unsigned char *nonce)
{
    ready_t *rd = this_thread();
    pid_t pid;

    if (!rd) {
        return RAND_bytes(nonce, OA2F_SEAL_NONCE_LEN) == 1;
    }
    pid = getpid();
    if (rd->used >= NONCE_BATCH || rd->drawn_by != pid) {
        rd->used = NONCE_BATCH;
        if (RAND_bytes(rd->nonces[0], sizeof(rd->nonces)) != 1) {
            return 0;
        }
        rd->used = 0;
        rd->drawn_by = pid;
    }
    memcpy(nonce, rd->nonces[rd->used], OA2F_SEAL_NONCE_LEN);
    rd->used++;
    return 1;
}

/* This thread's context for direction enc (1 seals) under k, set for
 * nonce; NULL when none can be made (the caller makes its own). */
static EVP_CIPHER_CTX *ready_ctx(const oa2f_seal_key_t *k, int enc,
                                 const unsigned char *nonce)
{
    ready_t *rd = this_thread();
    int fresh;

    if (!rd) {
        return NULL;
    }
    if (!rd->ctx[enc] && !(rd->ctx[enc] = EVP_CIPHER_CTX_new())) {
        return NULL;
    }
    fresh = !rd->keyed[enc]
            || CRYPTO_memcmp(rd->key[enc], k->key, OA2F_SEAL_KEY_LEN) != 0;
    if (fresh) {
        rd->keyed[enc] = 0;
        if (EVP_CipherInit_ex2(rd->ctx[enc], gcm_alg, k->key, NULL, enc, NULL)
            != 1) {
            return NULL;
        }
        memcpy(rd->key[enc], k->key, OA2F_SEAL_KEY_LEN);
        rd->keyed[enc] = 1;
    }
    /* the key stays; the nonce restarts GCM's state (counter, GHASH) */
    if (EVP_CipherInit_ex2(rd->ctx[enc], NULL, NULL, nonce, enc, NULL) != 1) {
        rd->keyed[enc] = 0;
        return NULL;
    }
    return rd->ctx[enc];
}

/* A context for one value: this thread's ready one, else a new one
 * (*own set: the caller frees it). */
static EVP_CIPHER_CTX *ctx_for(const oa2f_seal_key_t *k, int enc,
                               const unsigned char *nonce, int *own)
{
    EVP_CIPHER_CTX *ctx = ready_ctx(k, enc, nonce);

    *own = 0;
    if (ctx) {
        return ctx;
    }
    ctx = EVP_CIPHER_CTX_new();
    if (ctx
        && EVP_CipherInit_ex2(ctx, gcm_alg, k->key, nonce, enc, NULL) != 1) {
        EVP_CIPHER_CTX_free(ctx);
        return NULL;
    }
    *own = ctx != NULL;
    return ctx;
}

int oa2f_hkdf_sha256(const unsigned char *ikm, apr_size_t ikm_len,
                     const unsigned char *salt, apr_size_t salt_len,
                     const unsigned char *info, apr_size_t info_len,
                     unsigned char *out, apr_size_t out_len)
{
    static unsigned char none; /* an empty IKM still needs data */
    EVP_KDF_CTX *ctx;
    OSSL_PARAM params[5], *q = params;
    int ok;

    pthread_once(&fetch_once, fetch_algs);
    /* RFC 5869 §2.3: L <= 255 * HashLen */
    if (!hkdf_alg || out_len == 0 || out_len > 255 * 32) {
        return 0;
    }
    *q++ = OSSL_PARAM_construct_utf8_string(OSSL_KDF_PARAM_DIGEST,
                                            (char *)"SHA256", 0);
    *q++ = OSSL_PARAM_construct_octet_string(
        OSSL_KDF_PARAM_KEY, ikm_len ? (void *)ikm : &none, ikm_len);
    /* an absent salt is HashLen zeros (§2.2), as OpenSSL does */
    if (salt_len) {
        *q++ = OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_SALT,
                                                 (void *)salt, salt_len);
    }
    if (info_len) {
        *q++ = OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_INFO,
                                                 (void *)info, info_len);
    }
    *q = OSSL_PARAM_construct_end();
    ctx = EVP_KDF_CTX_new(hkdf_alg);
    ok = ctx && EVP_KDF_derive(ctx, out, out_len, params) == 1;
    EVP_KDF_CTX_free(ctx);
    if (!ok) {
        OPENSSL_cleanse(out, out_len);
    }
    return ok;
}

int oa2f_seal_key_derive(oa2f_seal_key_t *k, const char *secret)
{
    if (!secret || !*secret) {
        memset(k->key, 0, sizeof(k->key));
        return 0;
    }
    return oa2f_hkdf_sha256((const unsigned char *)secret, strlen(secret),
                            (const unsigned char *)SEAL_SALT,
                            sizeof(SEAL_SALT) - 1,
                            (const unsigned char *)SEAL_INFO,
                            sizeof(SEAL_INFO) - 1, k->key, sizeof(k->key));
}

/* The AAD is magic | version | the caller's: the head is fixed-length,
 * so the concatenation is unambiguous. */
static int put_aad(EVP_CIPHER_CTX *ctx, const unsigned char *head,
                   const unsigned char *aad, apr_size_t aad_len)
{
    int n;

    return EVP_CipherUpdate(ctx, NULL, &n, head, OA2F_SEAL_HEAD_LEN) == 1
           && (aad_len == 0
               || EVP_CipherUpdate(ctx, NULL, &n, aad, (int)aad_len) == 1);
}

int oa2f_seal(apr_pool_t *p, const oa2f_seal_key_t *k,
              const unsigned char *aad, apr_size_t aad_len,
              const unsigned char *plain, apr_size_t len, unsigned char **out,
              apr_size_t *out_len)
{
    EVP_CIPHER_CTX *ctx;
    unsigned char *o, *nonce, *ct;
    int n = 0, m = 0, ok, own;

    pthread_once(&fetch_once, fetch_algs);
    /* EVP lengths are int */
    if (!gcm_alg || len > INT_MAX - OA2F_SEAL_OVERHEAD || aad_len > INT_MAX) {
        return 0;
    }
    o = apr_palloc(p, len + OA2F_SEAL_OVERHEAD);
    memcpy(o, MAGIC, 4);
    o[4] = VERSION;
    nonce = o + OA2F_SEAL_HEAD_LEN;
    ct = nonce + OA2F_SEAL_NONCE_LEN;
    if (!new_nonce(nonce)) {
        return 0;
    }
    ctx = ctx_for(k, 1, nonce, &own);
    ok = ctx && put_aad(ctx, o, aad, aad_len)
         && (len == 0 || EVP_EncryptUpdate(ctx, ct, &n, plain, (int)len) == 1)
         && EVP_EncryptFinal_ex(ctx, ct + n, &m) == 1
         && (apr_size_t)n + (apr_size_t)m == len
         && EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_AEAD_GET_TAG, OA2F_SEAL_TAG_LEN,
                                ct + len)
                == 1;
    if (own) {
        EVP_CIPHER_CTX_free(ctx);
    }
    if (!ok) {
        return 0;
    }
    *out = o;
    *out_len = len + OA2F_SEAL_OVERHEAD;
    return 1;
}

int oa2f_unseal(apr_pool_t *p, const oa2f_seal_key_t *k,
                const unsigned char *aad, apr_size_t aad_len,
                const unsigned char *sealed, apr_size_t len,
                unsigned char **plain, apr_size_t *plain_len)
{
    EVP_CIPHER_CTX *ctx;
    const unsigned char *nonce, *ct;
    unsigned char tag[OA2F_SEAL_TAG_LEN], *o;
    apr_size_t ct_len;
    int n = 0, m = 0, ok, own;

    if (len < OA2F_SEAL_OVERHEAD || memcmp(sealed, MAGIC, 4) != 0
        || sealed[4] != VERSION) {
        return 0;
    }
    pthread_once(&fetch_once, fetch_algs);
    if (!gcm_alg || len > INT_MAX || aad_len > INT_MAX) {
        return 0;
    }
    nonce = sealed + OA2F_SEAL_HEAD_LEN;
    ct = nonce + OA2F_SEAL_NONCE_LEN;
    ct_len = len - OA2F_SEAL_OVERHEAD;
    /* the ctrl wants a writable tag */
    memcpy(tag, ct + ct_len, OA2F_SEAL_TAG_LEN);
    o = apr_palloc(p, ct_len + 1);
    ctx = ctx_for(k, 0, nonce, &own);
    ok = ctx && put_aad(ctx, sealed, aad, aad_len)
         && (ct_len == 0
             || EVP_DecryptUpdate(ctx, o, &n, ct, (int)ct_len) == 1)
         && EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_AEAD_SET_TAG, OA2F_SEAL_TAG_LEN,
                                tag)
                == 1
         && EVP_DecryptFinal_ex(ctx, o + n, &m) == 1
         && (apr_size_t)n + (apr_size_t)m == ct_len;
    if (own) {
        EVP_CIPHER_CTX_free(ctx);
    }
    if (!ok) {
        /* never leave unauthenticated plaintext behind in the pool */
        OPENSSL_cleanse(o, ct_len);
        return 0;
    }
    o[ct_len] = '\0';
    *plain = o;
    *plain_len = ct_len;
    return 1;
}
