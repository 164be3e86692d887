/* HMAC-SHA-256 (RFC 2104) with its two hash states precomputed. The
 * low-level SHA-256 interface is used on purpose: a context copy is a
 * struct assignment, with no allocation or algorithm fetch per request. */
#include <string.h>

#include "oa2f_keyer.h"

#define BLOCK 64

void oa2f_keyer_init(oa2f_keyer_t *k, const char *secret,
                     const char *identity)
{
    unsigned char pad[BLOCK], kbuf[BLOCK];
    size_t klen, i;

    memset(k, 0, sizeof(*k));
    k->hmac = secret && *secret;
    SHA256_Init(&k->inner);
    if (k->hmac) {
        memset(kbuf, 0, sizeof(kbuf));
        klen = strlen(secret);
        if (klen > BLOCK) {
            SHA256((const unsigned char *)secret, klen, kbuf);
        }
        else {
            memcpy(kbuf, secret, klen);
        }
        for (i = 0; i < BLOCK; i++) {
            pad[i] = kbuf[i] ^ 0x36;
        }
        SHA256_Update(&k->inner, pad, BLOCK);
        SHA256_Init(&k->outer);
        for (i = 0; i < BLOCK; i++) {
            pad[i] = kbuf[i] ^ 0x5c;
        }
        SHA256_Update(&k->outer, pad, BLOCK);
        memset(kbuf, 0, sizeof(kbuf));
        memset(pad, 0, sizeof(pad));
    }
    SHA256_Update(&k->inner, identity, strlen(identity));
    SHA256_Update(&k->inner, "\n", 1);
}

void oa2f_keyer_derive(const oa2f_keyer_t *k, const char *token,
                       unsigned char key[OA2F_CACHE_KEY_LEN])
{
    SHA256_CTX ctx = k->inner;
    unsigned char inner[SHA256_DIGEST_LENGTH];

    SHA256_Update(&ctx, token, strlen(token));
    if (!k->hmac) {
        SHA256_Final(key, &ctx);
        return;
    }
    SHA256_Final(inner, &ctx);
    ctx = k->outer;
    SHA256_Update(&ctx, inner, sizeof(inner));
    SHA256_Final(key, &ctx);
}
