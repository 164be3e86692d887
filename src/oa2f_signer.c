/* The phantom token's signer (docs/jose.md; API in oa2f_jose.h):
 * one private key, its algorithm, kid and public JWKS. */
#include <limits.h>
#include <string.h>
#include <apr_strings.h>
#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/pem.h>

#include "oa2f_b64url.h"
#include "oa2f_jose.h"
#include "oa2f_jwk.h"

struct oa2f_signer {
    EVP_PKEY *pkey;
    const oa2f_jose_alg_t *alg;
    const char *kid;
    const char *public_json; /* RFC 7638 members, for the JWKS */
};

static apr_status_t free_pkey(void *data)
{
    EVP_PKEY_free(data);
    return APR_SUCCESS;
}

/* An encrypted key fails instead of prompting on a terminal. */
static int no_passphrase(char *buf, int size, int rwflag, void *u)
{
    (void)buf;
    (void)size;
    (void)rwflag;
    (void)u;
    return 0;
}

/* s as a JSON string, quotes included, in p (RFC 8259 §7). */
static const char *json_quote(apr_pool_t *p, const char *s)
{
    apr_size_t n = strlen(s);
    char *out = apr_palloc(p, 6 * n + 3), *o = out;

    *o++ = '"';
    for (; *s; s++) {
        unsigned char c = (unsigned char)*s;
        if (c == '"' || c == '\\') {
            *o++ = '\\';
            *o++ = (char)c;
        }
        else if (c < 0x20) {
            o += apr_snprintf(o, 7, "\\u%04x", c);
        }
        else {
            *o++ = (char)c;
        }
    }
    *o++ = '"';
    *o = '\0';
    return out;
}

/* The algorithm for a key: docs/jose.md "Signing" names three. */
static const oa2f_jose_alg_t *alg_for(EVP_PKEY *k, const char **why)
{
    oa2f_kty_e kty;
    const char *crv;

    if (oa2f_jwk_type_of(k, &kty, &crv)) {
        if (kty == OA2F_KTY_RSA) {
            if (EVP_PKEY_get_bits(k) >= 2048) {
                return oa2f_jose_alg_find("RS256");
            }
            *why = "the signing key is an RSA key below 2048 bits";
            return NULL;
        }
        if (kty == OA2F_KTY_EC && strcmp(crv, "P-256") == 0) {
            return oa2f_jose_alg_find("ES256");
        }
        if (kty == OA2F_KTY_OKP && strcmp(crv, "Ed25519") == 0) {
            return oa2f_jose_alg_find("EdDSA");
        }
    }
    *why = "the signing key is not an EC P-256, RSA or Ed25519 key";
    return NULL;
}

oa2f_signer_t *oa2f_signer_load(apr_pool_t *p, const char *pem, apr_size_t len,
                                const char *kid, const char **why)
{
    BIO *bio;
    EVP_PKEY *k;
    oa2f_signer_t *s;
    const oa2f_jose_alg_t *alg;
    const char *pub;

    *why = NULL;
    if (!pem || len == 0 || len > INT_MAX) {
        *why = "the signing key is empty";
        return NULL;
    }
    bio = BIO_new_mem_buf(pem, (int)len);
    k = bio ? PEM_read_bio_PrivateKey(bio, NULL, no_passphrase, NULL) : NULL;
    BIO_free(bio);
    ERR_clear_error();
    if (!k) {
        *why = "the signing key is not an unencrypted PEM private key";
        return NULL;
    }
    if (!(alg = alg_for(k, why)) || !(pub = oa2f_jwk_public_json(p, k))) {
        if (!*why) {
            *why = "the signing key's public part cannot be read";
        }
        EVP_PKEY_free(k);
        return NULL;
    }
    s = apr_pcalloc(p, sizeof(*s));
    s->pkey = k;
    apr_pool_cleanup_register(p, k, free_pkey, apr_pool_cleanup_null);
    s->alg = alg;
    s->public_json = pub;
    /* RFC 7638 §1: the thumbprint as a kid that needs no bookkeeping */
    s->kid = kid && *kid ? apr_pstrdup(p, kid) : oa2f_jwk_thumbprint(p, k);
    if (!s->kid) {
        *why = "the signing key's thumbprint cannot be computed";
        return NULL;
    }
    return s;
}

const char *oa2f_signer_alg(const oa2f_signer_t *s)
{
    return s->alg->name;
}

const char *oa2f_signer_kid(const oa2f_signer_t *s)
{
    return s->kid;
}

const char *oa2f_signer_jwks(apr_pool_t *p, const oa2f_signer_t *s)
{
    /* the members without their closing brace, then kid, alg, use */
    apr_size_t n = strlen(s->public_json) - 1;

    return apr_pstrcat(p, "{\"keys\":[", apr_pstrmemdup(p, s->public_json, n),
                       ",\"kid\":", json_quote(p, s->kid), ",\"alg\":\"",
                       s->alg->name, "\",\"use\":\"sig\"}]}", NULL);
}

const char *oa2f_jws_sign(apr_pool_t *p, const oa2f_signer_t *s,
                          const char *typ, const char *payload,
                          apr_size_t payload_len, const char **why)
{
    const char *header, *input;
    unsigned char *sig;
    apr_size_t sig_len = 0;

    *why = NULL;
    if (!s || !payload) {
        *why = "nothing to sign";
        return NULL;
    }
    header = apr_pstrcat(p, "{\"alg\":\"", s->alg->name, "\"",
                         typ ? ",\"typ\":" : "", typ ? json_quote(p, typ) : "",
                         ",\"kid\":", json_quote(p, s->kid), "}", NULL);
    input = apr_pstrcat(
        p,
        oa2f_b64url_encode(p, (const unsigned char *)header, strlen(header)),
        ".",
        oa2f_b64url_encode(p, (const unsigned char *)payload, payload_len),
        NULL);
    sig = oa2f_jose_alg_sign(p, s->alg, s->pkey, input, strlen(input),
                             &sig_len);
    if (!sig) {
        *why = "signing failed";
        return NULL;
    }
    return apr_pstrcat(p, input, ".", oa2f_b64url_encode(p, sig, sig_len),
                       NULL);
}
