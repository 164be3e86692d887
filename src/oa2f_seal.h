/* Sealed cache values: AES-256-GCM (NIST SP 800-38D) under a key derived
 * with HKDF-SHA-256 (RFC 5869) from the operator's cache secret, so that
 * whoever can write the cache (redis, memcached) can neither forge a
 * verdict nor move one to another key (the key is authenticated data).
 *
 * Layout: "OA2S" | u8 version=1 | nonce (12) | ciphertext | tag (16);
 * magic and version are authenticated with the caller's data. */
#ifndef OA2F_SEAL_H
#define OA2F_SEAL_H

#include <apr_pools.h>

#define OA2F_SEAL_KEY_LEN   32
#define OA2F_SEAL_NONCE_LEN 12
#define OA2F_SEAL_TAG_LEN   16
#define OA2F_SEAL_HEAD_LEN  5 /* magic and version */

/* Bytes a sealed value has more than its plaintext (33). */
#define OA2F_SEAL_OVERHEAD                                                    \
    (OA2F_SEAL_HEAD_LEN + OA2F_SEAL_NONCE_LEN + OA2F_SEAL_TAG_LEN)

typedef struct {
    unsigned char key[OA2F_SEAL_KEY_LEN];
} oa2f_seal_key_t;

/* HKDF-SHA-256 (RFC 5869 §2): out[0..out_len) from ikm, salt and info
 * (any of them may be empty). 1 on success, 0 on failure. */
int oa2f_hkdf_sha256(const unsigned char *ikm, apr_size_t ikm_len,
                     const unsigned char *salt, apr_size_t salt_len,
                     const unsigned char *info, apr_size_t info_len,
                     unsigned char *out, apr_size_t out_len);

/* The sealing key of secret (a fixed salt and info name this module,
 * the purpose and the cipher, so the key is independent of the cache
 * keys' HMAC under the same secret). 0 on failure, and for a NULL or
 * empty secret: a key anyone can derive seals nothing. */
int oa2f_seal_key_derive(oa2f_seal_key_t *k, const char *secret);

/* Seal plain[0..len) bound to aad[0..aad_len) (the cache key) with a
 * fresh random nonce: *out (in p) holds len + OA2F_SEAL_OVERHEAD bytes.
 * 0 on failure (nothing usable in *out). Thread-safe. */
int oa2f_seal(apr_pool_t *p, const oa2f_seal_key_t *k,
              const unsigned char *aad, apr_size_t aad_len,
              const unsigned char *plain, apr_size_t len, unsigned char **out,
              apr_size_t *out_len);

/* Open sealed[0..len) sealed under k with the same aad: *plain (in p)
 * holds *plain_len bytes and a NUL after them. 0 for anything too short,
 * of another magic or version, or failing authentication (any changed
 * byte, a truncation, another key or aad). Thread-safe. */
int oa2f_unseal(apr_pool_t *p, const oa2f_seal_key_t *k,
                const unsigned char *aad, apr_size_t aad_len,
                const unsigned char *sealed, apr_size_t len,
                unsigned char **plain, apr_size_t *plain_len);

#endif
