/* JWS algorithms on OpenSSL 3 EVP (see oa2f_jose_alg.h). */
#include <string.h>
#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/ec.h>
#include <openssl/err.h>
#include <openssl/params.h>

#include "oa2f_jose_alg.h"

/* RFC 7518 §3.1 (without HS* and none), RFC 8037 §3.1. */
static const oa2f_jose_alg_t algs[] = {
    { "RS256", OA2F_KTY_RSA, NULL, "SHA256", 0, 0 },
    { "RS384", OA2F_KTY_RSA, NULL, "SHA384", 0, 0 },
    { "RS512", OA2F_KTY_RSA, NULL, "SHA512", 0, 0 },
    { "PS256", OA2F_KTY_RSA, NULL, "SHA256", 1, 0 },
    { "PS384", OA2F_KTY_RSA, NULL, "SHA384", 1, 0 },
    { "PS512", OA2F_KTY_RSA, NULL, "SHA512", 1, 0 },
    { "ES256", OA2F_KTY_EC, "P-256", "SHA256", 0, 32 },
    { "ES384", OA2F_KTY_EC, "P-384", "SHA384", 0, 48 },
    { "ES512", OA2F_KTY_EC, "P-521", "SHA512", 0, 66 },
    { "EdDSA", OA2F_KTY_OKP, NULL, NULL, 0, 0 },
};

#define NALGS (sizeof(algs) / sizeof(algs[0]))
typedef char algs_counted[NALGS == OA2F_JOSE_ALG_COUNT ? 1 : -1];

/* The digest of each algorithm, fetched on first need, for the life of
 * the process (index as algs). */
static EVP_MD *alg_md[NALGS];

const oa2f_jose_alg_t *oa2f_jose_alg_find(const char *name)
{
    apr_size_t i;

    for (i = 0; name && i < NALGS; i++) {
        if (strcmp(algs[i].name, name) == 0) {
            return &algs[i];
        }
    }
    return NULL;
}

int oa2f_jose_alg_fits(const oa2f_jose_alg_t *a, oa2f_kty_e kty,
                       const char *crv)
{
    if (a->kty != kty) {
        return 0;
    }
    switch (kty) {
    case OA2F_KTY_EC:
        return crv && strcmp(crv, a->crv) == 0;
    case OA2F_KTY_OKP:
        return crv && (!strcmp(crv, "Ed25519") || !strcmp(crv, "Ed448"));
    default:
        return 1;
    }
}

/* The EVP key really is of the algorithm's type (the JWK said so; this
 * keeps a confused caller from e.g. an HMAC key). */
static int pkey_fits(const oa2f_jose_alg_t *a, EVP_PKEY *k)
{
    switch (a->kty) {
    case OA2F_KTY_RSA:
        return EVP_PKEY_is_a(k, "RSA");
    case OA2F_KTY_EC:
        return EVP_PKEY_is_a(k, "EC");
    default:
        return EVP_PKEY_is_a(k, "ED25519") || EVP_PKEY_is_a(k, "ED448");
    }
}

/* Padding parameters of RS and PS: PSS with MGF1 of the same hash and a
 * salt as long as the hash (RFC 7518 §3.5). Returns NULL for ES/EdDSA. */
static OSSL_PARAM *rsa_params(const oa2f_jose_alg_t *a, OSSL_PARAM *params)
{
    OSSL_PARAM *q = params;

    if (a->kty != OA2F_KTY_RSA) {
        return NULL;
    }
    if (a->pss) {
        *q++ = OSSL_PARAM_construct_utf8_string(
            OSSL_SIGNATURE_PARAM_PAD_MODE, (char *)OSSL_PKEY_RSA_PAD_MODE_PSS,
            0);
        *q++ = OSSL_PARAM_construct_utf8_string(
            OSSL_SIGNATURE_PARAM_MGF1_DIGEST, (char *)a->md, 0);
        *q++ = OSSL_PARAM_construct_utf8_string(
            OSSL_SIGNATURE_PARAM_PSS_SALTLEN,
            (char *)OSSL_PKEY_RSA_PSS_SALT_LEN_DIGEST, 0);
    }
    else {
        *q++ = OSSL_PARAM_construct_utf8_string(
            OSSL_SIGNATURE_PARAM_PAD_MODE,
            (char *)OSSL_PKEY_RSA_PAD_MODE_PKCSV15, 0);
    }
    *q = OSSL_PARAM_construct_end();
    return params;
}

/* Raw r||s (RFC 7518 §3.4) → the DER ECDSA-Sig-Value OpenSSL checks;
 * the length in bytes of *der (OPENSSL_free it), or <= 0. */
static int raw_to_der(const unsigned char *sig, apr_size_t n,
                      unsigned char **der)
{
    ECDSA_SIG *es = ECDSA_SIG_new();
    BIGNUM *r = BN_bin2bn(sig, (int)n, NULL);
    BIGNUM *s = BN_bin2bn(sig + n, (int)n, NULL);
    int len = -1;

    if (es && r && s && ECDSA_SIG_set0(es, r, s)) {
        r = s = NULL; /* owned by es now */
        *der = NULL;
        len = i2d_ECDSA_SIG(es, der);
    }
    BN_free(r);
    BN_free(s);
    ECDSA_SIG_free(es);
    return len;
}

/* *slot, or v stored there if it is still empty; v is freed by `drop`
 * when another thread was first. */
static void *first_stored(void **slot, void *v, void (*drop)(void *))
{
    void *none = NULL;

    if (!__atomic_compare_exchange_n(slot, &none, v, 0, __ATOMIC_ACQ_REL,
                                     __ATOMIC_ACQUIRE)) {
        drop(v);
        return none;
    }
    return v;
}

static void drop_md(void *v)
{
    EVP_MD_free(v);
}

static void drop_ctx(void *v)
{
    EVP_PKEY_CTX_free(v);
}

static EVP_MD *md_of(apr_size_t i)
{
    EVP_MD *md = __atomic_load_n(&alg_md[i], __ATOMIC_ACQUIRE);

    if (md || !algs[i].md || !(md = EVP_MD_fetch(NULL, algs[i].md, NULL))) {
        return md;
    }
    return first_stored((void **)&alg_md[i], md, drop_md);
}

/* k's verification context for a, made and kept in r on first use; NULL
 * for EdDSA (it hashes inside the signature scheme) or a failure. */
static EVP_PKEY_CTX *ready_ctx(const oa2f_jose_alg_t *a, EVP_PKEY *k,
                               oa2f_jose_ready_t *r)
{
    apr_size_t i = (apr_size_t)(a - algs);
    EVP_PKEY_CTX *c = __atomic_load_n(&r->ctx[i], __ATOMIC_ACQUIRE);
    OSSL_PARAM params[4];
    EVP_MD *md;

    if (c || !(md = md_of(i)) || !pkey_fits(a, k)) {
        return c;
    }
    c = EVP_PKEY_CTX_new_from_pkey(NULL, k, NULL);
    if (!c || EVP_PKEY_verify_init_ex(c, rsa_params(a, params)) != 1
        || EVP_PKEY_CTX_set_signature_md(c, md) <= 0) {
        EVP_PKEY_CTX_free(c);
        return NULL;
    }
    return first_stored((void **)&r->ctx[i], c, drop_ctx);
}

void oa2f_jose_ready_free(oa2f_jose_ready_t *r)
{
    for (apr_size_t i = 0; i < NALGS; i++) {
        EVP_PKEY_CTX_free(r->ctx[i]);
        r->ctx[i] = NULL;
    }
}

/* The signature check with a ready context: hash, then verify the
 * digest with a copy of it (a context is one thread's at a time). */
static int verify_ready(const oa2f_jose_alg_t *a, EVP_PKEY_CTX *ready,
                        const void *data, apr_size_t len,
                        const unsigned char *sig, apr_size_t sig_len)
{
    unsigned char digest[EVP_MAX_MD_SIZE];
    unsigned int n = 0;
    EVP_PKEY_CTX *c;
    int ok;

    if (EVP_Digest(data, len, digest, &n, md_of((apr_size_t)(a - algs)), NULL)
            != 1
        || !(c = EVP_PKEY_CTX_dup(ready))) {
        return 0;
    }
    ok = EVP_PKEY_verify(c, sig, sig_len, digest, n) == 1;
    EVP_PKEY_CTX_free(c);
    return ok;
}

int oa2f_jose_alg_verify(const oa2f_jose_alg_t *a, EVP_PKEY *k,
                         oa2f_jose_ready_t *ready, const void *data,
                         apr_size_t len, const unsigned char *sig,
                         apr_size_t sig_len)
{
    OSSL_PARAM params[4];
    EVP_MD_CTX *ctx = NULL;
    EVP_PKEY_CTX *rc = NULL;
    unsigned char *der = NULL;
    int ok = 0, der_len;

    /* a ready context was made for k only after k fitted a */
    if (!k || !((ready && (rc = ready_ctx(a, k, ready))) || pkey_fits(a, k))) {
        goto leave;
    }
    if (a->kty == OA2F_KTY_EC) {
        /* raw only: a DER signature (or any other length) is refused */
        if (sig_len != 2 * a->coord_len) {
            goto leave;
        }
        if ((der_len = raw_to_der(sig, a->coord_len, &der)) <= 0) {
            goto leave;
        }
        sig = der;
        sig_len = (apr_size_t)der_len;
    }
    else if (sig_len != (apr_size_t)EVP_PKEY_get_size(k)) {
        /* RSA: the modulus' size (RFC 8017 §8.1.2, §8.2.2); EdDSA: 64
         * or 114 bytes (RFC 8032 §5.1.7, §5.2.7) */
        goto leave;
    }
    if (rc) {
        ok = verify_ready(a, rc, data, len, sig, sig_len);
        goto leave;
    }
    ctx = EVP_MD_CTX_new();
    ok = ctx
         && EVP_DigestVerifyInit_ex(ctx, NULL, a->md, NULL, NULL, k,
                                    rsa_params(a, params))
                == 1
         && EVP_DigestVerify(ctx, sig, sig_len, data, len) == 1;
leave:
    EVP_MD_CTX_free(ctx);
    OPENSSL_free(der);
    /* a failed check leaves errors in this thread's queue */
    ERR_clear_error();
    return ok;
}

unsigned char *oa2f_jose_alg_sign(apr_pool_t *p, const oa2f_jose_alg_t *a,
                                  EVP_PKEY *k, const void *data,
                                  apr_size_t len, apr_size_t *sig_len)
{
    OSSL_PARAM params[4];
    EVP_MD_CTX *ctx = NULL;
    ECDSA_SIG *es = NULL;
    unsigned char *sig = NULL, *out = NULL;
    size_t n = 0;

    if (!k || !pkey_fits(a, k) || !(ctx = EVP_MD_CTX_new())
        || EVP_DigestSignInit_ex(ctx, NULL, a->md, NULL, NULL, k,
                                 rsa_params(a, params))
               != 1
        || EVP_DigestSign(ctx, NULL, &n, data, len) != 1) {
        goto leave;
    }
    sig = apr_palloc(p, n ? n : 1);
    if (EVP_DigestSign(ctx, sig, &n, data, len) != 1) {
        goto leave;
    }
    if (a->kty == OA2F_KTY_EC) {
        /* DER → raw r||s, each left-padded to the curve's size */
        const unsigned char *q = sig;
        const BIGNUM *r, *s;
        unsigned char *raw = apr_palloc(p, 2 * a->coord_len);
        if (!(es = d2i_ECDSA_SIG(NULL, &q, (long)n))) {
            goto leave;
        }
        ECDSA_SIG_get0(es, &r, &s);
        if (BN_bn2binpad(r, raw, (int)a->coord_len) < 0
            || BN_bn2binpad(s, raw + a->coord_len, (int)a->coord_len) < 0) {
            goto leave;
        }
        sig = raw;
        n = 2 * a->coord_len;
    }
    out = sig;
    *sig_len = n;
leave:
    ECDSA_SIG_free(es);
    EVP_MD_CTX_free(ctx);
    ERR_clear_error();
    return out;
}
