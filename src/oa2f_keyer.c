/* The cache key derivation on OpenSSL 3's EVP interfaces (see the header).
 * A keyer holds an HMAC (EVP_MAC) or SHA-256 (EVP_MD) state after the
 * identity; a derivation works on a copy of it, so keyers are shared by
 * all threads without a lock. */
#include <string.h>
#include <pthread.h>
#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/params.h>

#include "oa2f_keyer.h"

struct oa2f_keyer_t {
    EVP_MAC_CTX *mac; /* with a secret: HMAC after identity "\n" */
    EVP_MD_CTX *md;   /* without: SHA-256 after identity "\n"     */
};

/* Fetching an algorithm looks it up by name: do it once. */
static EVP_MAC *hmac_alg;
static EVP_MD *sha256_alg;
static pthread_once_t fetch_once = PTHREAD_ONCE_INIT;

static void fetch_algs(void)
{
    hmac_alg = EVP_MAC_fetch(NULL, "HMAC", NULL);
    sha256_alg = EVP_MD_fetch(NULL, "SHA256", NULL);
}

static void clear(oa2f_keyer_t *k)
{
    EVP_MAC_CTX_free(k->mac);
    EVP_MD_CTX_free(k->md);
    k->mac = NULL;
    k->md = NULL;
}

/* The state after identity "\n"; 0 when OpenSSL fails. */
static int start(oa2f_keyer_t *k, const char *secret, const char *identity)
{
    k->mac = NULL;
    k->md = NULL;
    pthread_once(&fetch_once, fetch_algs);
    if (secret && *secret) {
        OSSL_PARAM params[2];

        params[0] = OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST,
                                                     (char *)"SHA256", 0);
        params[1] = OSSL_PARAM_construct_end();
        k->mac = hmac_alg ? EVP_MAC_CTX_new(hmac_alg) : NULL;
        return k->mac
               && EVP_MAC_init(k->mac, (const unsigned char *)secret,
                               strlen(secret), params)
               && EVP_MAC_update(k->mac, (const unsigned char *)identity,
                                 strlen(identity))
               && EVP_MAC_update(k->mac, (const unsigned char *)"\n", 1);
    }
    k->md = sha256_alg ? EVP_MD_CTX_new() : NULL;
    return k->md && EVP_DigestInit_ex(k->md, sha256_alg, NULL)
           && EVP_DigestUpdate(k->md, identity, strlen(identity))
           && EVP_DigestUpdate(k->md, "\n", 1);
}

/* Hash token into k's state and finish it (the state is used up). */
static int finish(oa2f_keyer_t *k, const char *token,
                  unsigned char key[OA2F_CACHE_KEY_LEN])
{
    if (k->mac) {
        size_t outl = 0;

        return EVP_MAC_update(k->mac, (const unsigned char *)token,
                              strlen(token))
               && EVP_MAC_final(k->mac, key, &outl, OA2F_CACHE_KEY_LEN)
               && outl == OA2F_CACHE_KEY_LEN;
    }
    if (k->md) {
        unsigned int outl = 0;

        return EVP_DigestUpdate(k->md, token, strlen(token))
               && EVP_DigestFinal_ex(k->md, key, &outl)
               && outl == OA2F_CACHE_KEY_LEN;
    }
    return 0;
}

static apr_status_t keyer_cleanup(void *k)
{
    clear(k);
    return APR_SUCCESS;
}

oa2f_keyer_t *oa2f_keyer_create(apr_pool_t *p, const char *secret,
                                const char *identity)
{
    oa2f_keyer_t *k = apr_palloc(p, sizeof(*k));

    if (!start(k, secret, identity)) {
        clear(k);
        return NULL;
    }
    apr_pool_cleanup_register(p, k, keyer_cleanup, apr_pool_cleanup_null);
    return k;
}

void oa2f_keyer_derive(const oa2f_keyer_t *k, const char *token,
                       unsigned char key[OA2F_CACHE_KEY_LEN])
{
    oa2f_keyer_t copy = { NULL, NULL };
    int ok;

    if (k && k->mac) {
        copy.mac = EVP_MAC_CTX_dup(k->mac);
    }
    else if (k && k->md && (copy.md = EVP_MD_CTX_new()) != NULL
             && !EVP_MD_CTX_copy_ex(copy.md, k->md)) {
        EVP_MD_CTX_free(copy.md);
        copy.md = NULL;
    }
    ok = finish(&copy, token, key);
    clear(&copy);
    if (!ok) {
        /* never a weaker key: an all-zero one is refused by the caller */
        memset(key, 0, OA2F_CACHE_KEY_LEN);
    }
}

void oa2f_cache_key(const char *secret, const char *identity,
                    const char *token, unsigned char key[OA2F_CACHE_KEY_LEN])
{
    oa2f_keyer_t k;
    int ok = start(&k, secret, identity) && finish(&k, token, key);

    clear(&k);
    if (!ok) {
        memset(key, 0, OA2F_CACHE_KEY_LEN);
    }
}

int oa2f_cache_key_ok(const unsigned char key[OA2F_CACHE_KEY_LEN])
{
    int i;

    for (i = 0; i < OA2F_CACHE_KEY_LEN; i++) {
        if (key[i]) {
            return 1;
        }
    }
    return 0;
}
