/* TEMPORARY STUB of src/oa2f_jose.h (issue 16), kept only until the JOSE
 * core of branch h-jose is merged: the coordinator drops this file (and
 * its line in Makefile.am) in favour of h-jose's files. A minimal but
 * working implementation on OpenSSL 3 EVP and json-c, so that the glue's
 * end-to-end tests run for real. RFC 7515 (JWS), RFC 7517 (JWK), RFC 7518
 * (algorithms), RFC 8037 (EdDSA), RFC 7638 (thumbprint), RFC 9068 (JWT
 * access tokens). */
#include <string.h>

#include <apr_strings.h>
#include <json-c/json.h>
#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/ec.h>
#include <openssl/evp.h>
#include <openssl/param_build.h>
#include <openssl/pem.h>
#include <openssl/rsa.h>
#include <openssl/sha.h>

#include "oa2f_jose.h"

/* ---- base64url (RFC 4648 §5, no padding) ------------------------------ */

static int b64v(int c)
{
    if (c >= 'A' && c <= 'Z') {
        return c - 'A';
    }
    if (c >= 'a' && c <= 'z') {
        return c - 'a' + 26;
    }
    if (c >= '0' && c <= '9') {
        return c - '0' + 52;
    }
    if (c == '-') {
        return 62;
    }
    if (c == '_') {
        return 63;
    }
    return -1;
}

/* NULL when s[0..len) is not unpadded base64url; *out_len bytes + NUL. */
static unsigned char *b64url_decode(apr_pool_t *p, const char *s,
                                    apr_size_t len, apr_size_t *out_len)
{
    unsigned char *out = apr_palloc(p, len * 3 / 4 + 3);
    apr_size_t i, o = 0;
    unsigned acc = 0;
    int bits = 0;

    if (len % 4 == 1) {
        return NULL;
    }
    for (i = 0; i < len; i++) {
        int v = b64v((unsigned char)s[i]);
        if (v < 0) {
            return NULL;
        }
        acc = (acc << 6) | (unsigned)v;
        bits += 6;
        if (bits >= 8) {
            bits -= 8;
            out[o++] = (unsigned char)((acc >> bits) & 0xff);
        }
    }
    /* the unused low bits must be zero (canonical form) */
    if (bits && (acc & ((1u << bits) - 1))) {
        return NULL;
    }
    out[o] = '\0';
    *out_len = o;
    return out;
}

static char *b64url_encode(apr_pool_t *p, const unsigned char *d,
                           apr_size_t len)
{
    static const char tab[] =
        "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
        "0123456789-_";
    char *out = apr_palloc(p, (len + 2) / 3 * 4 + 1);
    apr_size_t i, o = 0;

    for (i = 0; i + 2 < len; i += 3) {
        unsigned v = (unsigned)d[i] << 16 | (unsigned)d[i + 1] << 8 | d[i + 2];
        out[o++] = tab[v >> 18 & 63];
        out[o++] = tab[v >> 12 & 63];
        out[o++] = tab[v >> 6 & 63];
        out[o++] = tab[v & 63];
    }
    if (len - i == 1) {
        unsigned v = (unsigned)d[i] << 16;
        out[o++] = tab[v >> 18 & 63];
        out[o++] = tab[v >> 12 & 63];
    }
    else if (len - i == 2) {
        unsigned v = (unsigned)d[i] << 16 | (unsigned)d[i + 1] << 8;
        out[o++] = tab[v >> 18 & 63];
        out[o++] = tab[v >> 12 & 63];
        out[o++] = tab[v >> 6 & 63];
    }
    out[o] = '\0';
    return out;
}

static apr_status_t json_cleanup(void *o)
{
    json_object_put(o);
    return APR_SUCCESS;
}

static json_object *parse_obj(apr_pool_t *p, const char *s, apr_size_t len)
{
    const char *why;
    json_object *o = oa2f_json_parse_object(s, len, &why);

    if (o) {
        apr_pool_cleanup_register(p, o, json_cleanup, apr_pool_cleanup_null);
    }
    return o;
}

static const char *str_member(json_object *o, const char *name)
{
    json_object *v;

    if (!json_object_object_get_ex(o, name, &v)
        || !json_object_is_type(v, json_type_string)) {
        return NULL;
    }
    return json_object_get_string(v);
}

/* ---- JWS parsing ------------------------------------------------------ */

int oa2f_jws_shape(const char *tok, apr_size_t len)
{
    apr_size_t i;
    int dots = 0;

    for (i = 0; i < len; i++) {
        if (tok[i] == '.') {
            dots++;
        }
        else if (b64v((unsigned char)tok[i]) < 0) {
            return 0;
        }
    }
    return dots == 2;
}

oa2f_jose_rc_e oa2f_jws_parse(apr_pool_t *p, const char *tok, apr_size_t len,
                              oa2f_jws_t **out, const char **why)
{
    const char *d1 = memchr(tok, '.', len), *d2, *h;
    apr_size_t hlen, blen, dots = 0, i, plen, slen;
    unsigned char *hdr, *pl, *sig;
    json_object *ho, *v;
    oa2f_jws_t *j;

    *out = NULL;
    *why = NULL;
    if (!d1 || len > OA2F_JWS_MAX_LEN) {
        *why = d1 ? "longer than a JWS may be" : "no dot";
        return d1 ? OA2F_JOSE_MALFORMED : OA2F_JOSE_NOT_JWS;
    }
    for (i = 0; i < len; i++) {
        dots += tok[i] == '.';
    }
    /* is the first segment a JSON object? (padding tolerated here only
     * to tell a broken JWS from something else) */
    h = tok;
    hlen = (apr_size_t)(d1 - tok);
    blen = hlen;
    while (blen && h[blen - 1] == '=') {
        blen--;
    }
    hdr = b64url_decode(p, h, blen, &hlen);
    if (!hdr || !(ho = parse_obj(p, (const char *)hdr, hlen))) {
        *why = "the first segment is not a base64url JSON object";
        return OA2F_JOSE_NOT_JWS;
    }
    if (dots == 4) {
        *why = "five segments: a JWE, not a JWS";
        return OA2F_JOSE_MALFORMED;
    }
    if (dots != 2) {
        *why = "not three segments";
        return OA2F_JOSE_MALFORMED;
    }
    if (blen != (apr_size_t)(d1 - tok) || memchr(tok, '=', len)) {
        *why = "base64url padding";
        return OA2F_JOSE_MALFORMED;
    }
    d2 = memchr(d1 + 1, '.', len - (apr_size_t)(d1 + 1 - tok));
    pl = b64url_decode(p, d1 + 1, (apr_size_t)(d2 - d1 - 1), &plen);
    sig = b64url_decode(p, d2 + 1, len - (apr_size_t)(d2 + 1 - tok), &slen);
    if (!pl || !sig) {
        *why = "a segment is not base64url";
        return OA2F_JOSE_MALFORMED;
    }
    j = apr_pcalloc(p, sizeof(*j));
    j->alg = str_member(ho, "alg");
    if (!j->alg) {
        *why = "no alg";
        return OA2F_JOSE_MALFORMED;
    }
    if (json_object_object_get_ex(ho, "kid", &v)) {
        if (!json_object_is_type(v, json_type_string)) {
            *why = "kid is not a string";
            return OA2F_JOSE_MALFORMED;
        }
        j->kid = apr_pstrdup(p, json_object_get_string(v));
    }
    if (json_object_object_get_ex(ho, "typ", &v)) {
        if (!json_object_is_type(v, json_type_string)) {
            *why = "typ is not a string";
            return OA2F_JOSE_MALFORMED;
        }
        j->typ = apr_pstrdup(p, json_object_get_string(v));
    }
    j->alg = apr_pstrdup(p, j->alg);
    if (json_object_object_get_ex(ho, "crit", NULL)
        || json_object_object_get_ex(ho, "b64", NULL)
        || json_object_object_get_ex(ho, "zip", NULL)) {
        *why = "crit, b64 or zip header";
        return OA2F_JOSE_UNSUPPORTED;
    }
    if (!parse_obj(p, (const char *)pl, plen)) {
        *why = "the payload is not a JSON object";
        return OA2F_JOSE_MALFORMED;
    }
    j->signing_input = apr_pstrmemdup(p, tok, (apr_size_t)(d2 - tok));
    j->signing_input_len = (apr_size_t)(d2 - tok);
    j->sig = sig;
    j->sig_len = slen;
    j->payload = (const char *)pl;
    j->payload_len = plen;
    *out = j;
    return OA2F_JOSE_OK;
}

/* ---- algorithms ------------------------------------------------------- */

typedef enum { K_RSA, K_EC, K_OKP } kty_e;

typedef struct {
    const char *alg;
    kty_e kty;
    const char *md; /* NULL for EdDSA */
    int pss;
    const char *crv; /* EC: the curve */
    int size;        /* EC: bytes of r and s */
} alg_t;

static const alg_t algs[] = { { "RS256", K_RSA, "SHA256", 0, NULL, 0 },
                              { "RS384", K_RSA, "SHA384", 0, NULL, 0 },
                              { "RS512", K_RSA, "SHA512", 0, NULL, 0 },
                              { "PS256", K_RSA, "SHA256", 1, NULL, 0 },
                              { "PS384", K_RSA, "SHA384", 1, NULL, 0 },
                              { "PS512", K_RSA, "SHA512", 1, NULL, 0 },
                              { "ES256", K_EC, "SHA256", 0, "P-256", 32 },
                              { "ES384", K_EC, "SHA384", 0, "P-384", 48 },
                              { "ES512", K_EC, "SHA512", 0, "P-521", 66 },
                              { "EdDSA", K_OKP, NULL, 0, NULL, 0 },
                              { NULL, K_RSA, NULL, 0, NULL, 0 } };

static const alg_t *find_alg(const char *name)
{
    int i;

    for (i = 0; algs[i].alg; i++) {
        if (!strcmp(algs[i].alg, name)) {
            return &algs[i];
        }
    }
    return NULL;
}

/* ---- JWKS ------------------------------------------------------------- */

typedef struct {
    const char *kid;
    const char *alg; /* the JWK's own, or NULL */
    const char *crv;
    kty_e kty;
    EVP_PKEY *pkey;
} jwk_t;

struct oa2f_jwks {
    apr_array_header_t *keys; /* jwk_t */
};

static apr_status_t pkey_cleanup(void *k)
{
    EVP_PKEY_free(k);
    return APR_SUCCESS;
}

static BIGNUM *bn_member(apr_pool_t *p, json_object *o, const char *name)
{
    const char *s = str_member(o, name);
    unsigned char *d;
    apr_size_t n;

    if (!s || !(d = b64url_decode(p, s, strlen(s), &n)) || !n) {
        return NULL;
    }
    return BN_bin2bn(d, (int)n, NULL);
}

static EVP_PKEY *from_params(const char *type, OSSL_PARAM_BLD *bld)
{
    OSSL_PARAM *params = OSSL_PARAM_BLD_to_param(bld);
    EVP_PKEY_CTX *ctx = EVP_PKEY_CTX_new_from_name(NULL, type, NULL);
    EVP_PKEY *k = NULL;

    if (params && ctx && EVP_PKEY_fromdata_init(ctx) > 0) {
        if (EVP_PKEY_fromdata(ctx, &k, EVP_PKEY_PUBLIC_KEY, params) <= 0) {
            k = NULL;
        }
    }
    EVP_PKEY_CTX_free(ctx);
    OSSL_PARAM_free(params);
    return k;
}

static EVP_PKEY *rsa_key(apr_pool_t *p, json_object *o)
{
    BIGNUM *n = bn_member(p, o, "n"), *e = bn_member(p, o, "e");
    OSSL_PARAM_BLD *bld = OSSL_PARAM_BLD_new();
    EVP_PKEY *k = NULL;

    if (n && e && bld && BN_num_bits(n) >= 2048
        && OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_N, n)
        && OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_E, e)) {
        k = from_params("RSA", bld);
    }
    OSSL_PARAM_BLD_free(bld);
    BN_free(n);
    BN_free(e);
    return k;
}

static int curve_size(const char *crv, const char **group)
{
    if (!strcmp(crv, "P-256")) {
        *group = "prime256v1";
        return 32;
    }
    if (!strcmp(crv, "P-384")) {
        *group = "secp384r1";
        return 48;
    }
    if (!strcmp(crv, "P-521")) {
        *group = "secp521r1";
        return 66;
    }
    return 0;
}

static EVP_PKEY *ec_key(apr_pool_t *p, json_object *o, const char *crv)
{
    const char *group, *xs = str_member(o, "x"), *ys = str_member(o, "y");
    int size = crv ? curve_size(crv, &group) : 0;
    unsigned char *x, *y, *pt;
    apr_size_t xl, yl;
    OSSL_PARAM_BLD *bld;
    EVP_PKEY *k = NULL;

    if (!size || !xs || !ys || !(x = b64url_decode(p, xs, strlen(xs), &xl))
        || !(y = b64url_decode(p, ys, strlen(ys), &yl))
        || xl != (apr_size_t)size || yl != (apr_size_t)size) {
        return NULL;
    }
    pt = apr_palloc(p, 1 + 2 * (apr_size_t)size);
    pt[0] = 4;
    memcpy(pt + 1, x, xl);
    memcpy(pt + 1 + size, y, yl);
    bld = OSSL_PARAM_BLD_new();
    if (bld
        && OSSL_PARAM_BLD_push_utf8_string(bld, OSSL_PKEY_PARAM_GROUP_NAME,
                                           group, 0)
        && OSSL_PARAM_BLD_push_octet_string(bld, OSSL_PKEY_PARAM_PUB_KEY, pt,
                                            1 + 2 * (apr_size_t)size)) {
        k = from_params("EC", bld);
    }
    OSSL_PARAM_BLD_free(bld);
    return k;
}

static EVP_PKEY *okp_key(apr_pool_t *p, json_object *o, const char *crv)
{
    const char *xs = str_member(o, "x");
    unsigned char *x;
    apr_size_t xl;
    int type;

    if (!crv || !xs || !(x = b64url_decode(p, xs, strlen(xs), &xl))) {
        return NULL;
    }
    if (!strcmp(crv, "Ed25519") && xl == 32) {
        type = EVP_PKEY_ED25519;
    }
    else if (!strcmp(crv, "Ed448") && xl == 57) {
        type = EVP_PKEY_ED448;
    }
    else {
        return NULL;
    }
    return EVP_PKEY_new_raw_public_key(type, NULL, x, xl);
}

oa2f_jose_rc_e oa2f_jwks_parse(apr_pool_t *p, const char *json, apr_size_t len,
                               oa2f_jwks_t **out, int *skipped,
                               const char **why)
{
    static const char *const private_parts[] = { "d",  "p",  "q", "dp",
                                                 "dq", "qi", "k", NULL };
    json_object *o = parse_obj(p, json, len), *keys;
    oa2f_jwks_t *set;
    size_t i, n;
    int skip = 0, j;

    *out = NULL;
    *why = NULL;
    if (!o || !json_object_object_get_ex(o, "keys", &keys)
        || !json_object_is_type(keys, json_type_array)) {
        *why = "not a JSON object with a keys array";
        return OA2F_JOSE_MALFORMED;
    }
    set = apr_pcalloc(p, sizeof(*set));
    set->keys = apr_array_make(p, 4, sizeof(jwk_t));
    n = json_object_array_length(keys);
    for (i = 0; i < n; i++) {
        json_object *k = json_object_array_get_idx(keys, i);
        const char *kty, *use;
        jwk_t key;

        if (!k || !json_object_is_type(k, json_type_object)) {
            skip++;
            continue;
        }
        for (j = 0; private_parts[j]; j++) {
            if (json_object_object_get_ex(k, private_parts[j], NULL)) {
                *why = "a key has private parts";
                return OA2F_JOSE_MALFORMED;
            }
        }
        kty = str_member(k, "kty");
        use = str_member(k, "use");
        memset(&key, 0, sizeof(key));
        key.kid = str_member(k, "kid");
        key.alg = str_member(k, "alg");
        key.crv = str_member(k, "crv");
        if (!kty || (use && strcmp(use, "sig"))) {
            skip++;
            continue;
        }
        if (!strcmp(kty, "RSA")) {
            key.kty = K_RSA;
            key.pkey = rsa_key(p, k);
        }
        else if (!strcmp(kty, "EC")) {
            key.kty = K_EC;
            key.pkey = ec_key(p, k, key.crv);
        }
        else if (!strcmp(kty, "OKP")) {
            key.kty = K_OKP;
            key.pkey = okp_key(p, k, key.crv);
        }
        if (!key.pkey) {
            skip++;
            continue;
        }
        apr_pool_cleanup_register(p, key.pkey, pkey_cleanup,
                                  apr_pool_cleanup_null);
        key.kid = key.kid ? apr_pstrdup(p, key.kid) : NULL;
        key.alg = key.alg ? apr_pstrdup(p, key.alg) : NULL;
        key.crv = key.crv ? apr_pstrdup(p, key.crv) : NULL;
        APR_ARRAY_PUSH(set->keys, jwk_t) = key;
    }
    /* two keys with one kid: neither can be trusted to be the one meant */
    for (i = 0; i < (size_t)set->keys->nelts; i++) {
        jwk_t *a = &APR_ARRAY_IDX(set->keys, i, jwk_t);
        size_t m;
        int dup = 0;
        if (!a->kid || !a->pkey) {
            continue;
        }
        for (m = i + 1; m < (size_t)set->keys->nelts; m++) {
            jwk_t *b = &APR_ARRAY_IDX(set->keys, m, jwk_t);
            if (b->kid && !strcmp(a->kid, b->kid)) {
                b->pkey = NULL;
                dup = 1;
            }
        }
        if (dup) {
            *why = apr_psprintf(p, "two keys with kid \"%s\": both dropped",
                                a->kid);
            a->pkey = NULL;
            skip += 2;
        }
    }
    if (skipped) {
        *skipped = skip;
    }
    *out = set;
    return OA2F_JOSE_OK;
}

int oa2f_jwks_count(const oa2f_jwks_t *set)
{
    int i, n = 0;

    for (i = 0; set && i < set->keys->nelts; i++) {
        n += APR_ARRAY_IDX(set->keys, i, jwk_t).pkey != NULL;
    }
    return n;
}

/* raw r||s → DER ECDSA-Sig-Value, in p; NULL when malformed */
static unsigned char *ec_raw_to_der(apr_pool_t *p, const unsigned char *sig,
                                    apr_size_t len, int size, int *der_len)
{
    ECDSA_SIG *es;
    BIGNUM *r, *s;
    unsigned char *der = NULL, *out;
    int n;

    if (len != 2 * (apr_size_t)size) {
        return NULL;
    }
    es = ECDSA_SIG_new();
    r = BN_bin2bn(sig, size, NULL);
    s = BN_bin2bn(sig + size, size, NULL);
    if (!es || !r || !s || !ECDSA_SIG_set0(es, r, s)) {
        ECDSA_SIG_free(es);
        BN_free(r);
        BN_free(s);
        return NULL;
    }
    n = i2d_ECDSA_SIG(es, &der);
    ECDSA_SIG_free(es);
    if (n <= 0) {
        return NULL;
    }
    out = apr_pmemdup(p, der, (apr_size_t)n);
    OPENSSL_free(der);
    *der_len = n;
    return out;
}

static int key_fits(const jwk_t *k, const alg_t *a)
{
    if (!k->pkey || k->kty != a->kty) {
        return 0;
    }
    if (a->kty == K_EC && (!k->crv || strcmp(k->crv, a->crv))) {
        return 0;
    }
    if (a->kty == K_OKP && EVP_PKEY_get_base_id(k->pkey) != EVP_PKEY_ED25519
        && EVP_PKEY_get_base_id(k->pkey) != EVP_PKEY_ED448) {
        return 0;
    }
    return !k->alg || !strcmp(k->alg, a->alg);
}

oa2f_jose_rc_e oa2f_jws_verify(const oa2f_jws_t *jws, const oa2f_jwks_t *set,
                               const char **why)
{
    const alg_t *a = find_alg(jws->alg);
    const jwk_t *key = NULL;
    EVP_MD_CTX *mc;
    EVP_PKEY_CTX *pc = NULL;
    const unsigned char *sig = jws->sig;
    apr_size_t sig_len = jws->sig_len;
    apr_pool_t *tmp;
    int i, ok = 0, fits = 0, der_len = 0;

    *why = NULL;
    if (!a) {
        *why = apr_psprintf(set->keys->pool, "alg %s not allowed", jws->alg);
        return OA2F_JOSE_UNSUPPORTED;
    }
    for (i = 0; i < set->keys->nelts; i++) {
        const jwk_t *k = &APR_ARRAY_IDX(set->keys, i, jwk_t);
        if (!k->pkey) {
            continue;
        }
        if (jws->kid) {
            if (k->kid && !strcmp(k->kid, jws->kid)) {
                key = k;
                break;
            }
        }
        else if (key_fits(k, a)) {
            key = k;
            fits++;
        }
    }
    if (!key || (!jws->kid && fits != 1)) {
        *why = jws->kid ? "no key with this kid" : "no single key for the alg";
        return OA2F_JOSE_NO_KEY;
    }
    if (!key_fits(key, a)) {
        *why = "the key does not fit the alg";
        return OA2F_JOSE_KEY_MISMATCH;
    }
    if (apr_pool_create(&tmp, NULL) != APR_SUCCESS) {
        *why = "out of memory";
        return OA2F_JOSE_BAD_SIGNATURE;
    }
    if (a->kty == K_EC) {
        sig = ec_raw_to_der(tmp, jws->sig, jws->sig_len, a->size, &der_len);
        sig_len = (apr_size_t)der_len;
    }
    mc = EVP_MD_CTX_new();
    if (sig && mc
        && EVP_DigestVerifyInit_ex(mc, &pc, a->md, NULL, NULL, key->pkey, NULL)
               > 0
        && (!a->pss
            || (EVP_PKEY_CTX_set_rsa_padding(pc, RSA_PKCS1_PSS_PADDING) > 0
                && EVP_PKEY_CTX_set_rsa_pss_saltlen(pc, RSA_PSS_SALTLEN_DIGEST)
                       > 0))
        && EVP_DigestVerify(mc, sig, sig_len,
                            (const unsigned char *)jws->signing_input,
                            jws->signing_input_len)
               == 1) {
        ok = 1;
    }
    EVP_MD_CTX_free(mc);
    apr_pool_destroy(tmp);
    if (!ok) {
        *why = "bad signature";
        return OA2F_JOSE_BAD_SIGNATURE;
    }
    return OA2F_JOSE_OK;
}

/* ---- claims ----------------------------------------------------------- */

static int type_ok(const char *typ, const apr_array_header_t *types)
{
    int i;

    if (!types || !types->nelts) {
        return 1;
    }
    if (!typ) {
        return 0;
    }
    for (i = 0; i < types->nelts; i++) {
        const char *t = APR_ARRAY_IDX(types, i, const char *);
        const char *a = typ, *b = t;
        if (!strncasecmp(a, "application/", 12)) {
            a += 12;
        }
        if (!strncasecmp(b, "application/", 12)) {
            b += 12;
        }
        if (!strcasecmp(a, b)) {
            return 1;
        }
    }
    return 0;
}

/* 1 with *out when member name is absent (*present 0) or an integer. */
static int int_member(json_object *o, const char *name, long long *out,
                      int *present)
{
    json_object *v;

    *present = 0;
    if (!json_object_object_get_ex(o, name, &v)) {
        return 1;
    }
    *present = 1;
    if (!json_object_is_type(v, json_type_int)) {
        return 0;
    }
    *out = (long long)json_object_get_int64(v);
    return 1;
}

oa2f_jose_rc_e oa2f_jwt_claims(apr_pool_t *p, const oa2f_jws_t *jws,
                               const oa2f_jwt_rules_t *rules,
                               oa2f_claims_t **out, const char **why)
{
    json_object *o = parse_obj(p, jws->payload, jws->payload_len), *scp;
    long long exp = 0, nbf = 0, iat = 0;
    int has;
    oa2f_claims_t *c;

    *out = NULL;
    if (!o) {
        *why = "the payload is not a JSON object";
        return OA2F_JOSE_BAD_CLAIMS;
    }
    if (!type_ok(jws->typ, rules->types)) {
        *why = "typ is not an accepted access token type";
        return OA2F_JOSE_BAD_CLAIMS;
    }
    if (!int_member(o, "exp", &exp, &has) || !has) {
        *why = "exp is absent or not an integer";
        return OA2F_JOSE_BAD_CLAIMS;
    }
    if (exp <= rules->now - rules->leeway) {
        *why = "exp has passed";
        return OA2F_JOSE_BAD_CLAIMS;
    }
    if (!int_member(o, "nbf", &nbf, &has)
        || (has && nbf > rules->now + rules->leeway)) {
        *why = "nbf is not an integer or in the future";
        return OA2F_JOSE_BAD_CLAIMS;
    }
    if (!int_member(o, "iat", &iat, &has)
        || (has && iat > rules->now + rules->leeway)) {
        *why = "iat is not an integer or in the future";
        return OA2F_JOSE_BAD_CLAIMS;
    }
    if (!str_member(o, "iss")) {
        *why = "iss is absent or not a string";
        return OA2F_JOSE_BAD_CLAIMS;
    }
    c = oa2f_claims_make(p);
    oa2f_claims_take_members(p, c, o, NULL);
    if (!c->scopes->nelts && json_object_object_get_ex(o, "scp", &scp)
        && json_object_is_type(scp, json_type_array)) {
        size_t i, n = json_object_array_length(scp);
        for (i = 0; i < n; i++) {
            json_object *v = json_object_array_get_idx(scp, i);
            if (v && json_object_is_type(v, json_type_string)) {
                APR_ARRAY_PUSH(c->scopes, const char *) = apr_pstrdup(
                    p, json_object_get_string(v));
            }
        }
    }
    c->active = 1;
    c->expires_at = exp;
    c->raw = apr_pstrmemdup(p, jws->payload, jws->payload_len);
    c->raw_len = jws->payload_len;
    *out = c;
    return OA2F_JOSE_OK;
}

/* ---- signing ---------------------------------------------------------- */

struct oa2f_signer {
    EVP_PKEY *pkey;
    const char *alg;
    const char *kid;
    const char *jwk_members; /* the public JWK's members, RFC 7638 order */
};

static const char *bn_b64(apr_pool_t *p, EVP_PKEY *k, const char *name,
                          int pad)
{
    BIGNUM *bn = NULL;
    unsigned char *buf;
    int n;
    const char *s = NULL;

    if (!EVP_PKEY_get_bn_param(k, name, &bn)) {
        return NULL;
    }
    n = pad ? pad : BN_num_bytes(bn);
    buf = apr_palloc(p, (apr_size_t)n);
    if (BN_bn2binpad(bn, buf, n) == n) {
        s = b64url_encode(p, buf, (apr_size_t)n);
    }
    BN_free(bn);
    return s;
}

oa2f_signer_t *oa2f_signer_load(apr_pool_t *p, const char *pem, apr_size_t len,
                                const char *kid, const char **why)
{
    BIO *bio = BIO_new_mem_buf(pem, (int)len);
    EVP_PKEY *k = bio ? PEM_read_bio_PrivateKey(bio, NULL, NULL, NULL) : NULL;
    oa2f_signer_t *s;
    unsigned char md[SHA256_DIGEST_LENGTH];
    const char *thumb;

    BIO_free(bio);
    if (!k) {
        *why = "no private key in PEM form";
        return NULL;
    }
    apr_pool_cleanup_register(p, k, pkey_cleanup, apr_pool_cleanup_null);
    s = apr_pcalloc(p, sizeof(*s));
    s->pkey = k;
    switch (EVP_PKEY_get_base_id(k)) {
    case EVP_PKEY_RSA: {
        const char *n = bn_b64(p, k, OSSL_PKEY_PARAM_RSA_N, 0);
        const char *e = bn_b64(p, k, OSSL_PKEY_PARAM_RSA_E, 0);
        if (EVP_PKEY_get_bits(k) < 2048 || !n || !e) {
            *why = "an RSA key needs at least 2048 bits";
            return NULL;
        }
        s->alg = "RS256";
        s->jwk_members = apr_psprintf(p,
                                      "\"e\":\"%s\",\"kty\":\"RSA\","
                                      "\"n\":\"%s\"",
                                      e, n);
        break;
    }
    case EVP_PKEY_EC: {
        char group[64];
        const char *x, *y;
        if (!EVP_PKEY_get_utf8_string_param(k, OSSL_PKEY_PARAM_GROUP_NAME,
                                            group, sizeof(group), NULL)
            || strcmp(group, "prime256v1")) {
            *why = "an EC key must be on P-256";
            return NULL;
        }
        x = bn_b64(p, k, OSSL_PKEY_PARAM_EC_PUB_X, 32);
        y = bn_b64(p, k, OSSL_PKEY_PARAM_EC_PUB_Y, 32);
        if (!x || !y) {
            *why = "cannot read the EC public key";
            return NULL;
        }
        s->alg = "ES256";
        s->jwk_members = apr_psprintf(p,
                                      "\"crv\":\"P-256\",\"kty\":\"EC\","
                                      "\"x\":\"%s\",\"y\":\"%s\"",
                                      x, y);
        break;
    }
    case EVP_PKEY_ED25519: {
        unsigned char raw[32];
        size_t rl = sizeof(raw);
        if (!EVP_PKEY_get_raw_public_key(k, raw, &rl) || rl != 32) {
            *why = "cannot read the Ed25519 public key";
            return NULL;
        }
        s->alg = "EdDSA";
        s->jwk_members = apr_psprintf(p,
                                      "\"crv\":\"Ed25519\",\"kty\":\"OKP\","
                                      "\"x\":\"%s\"",
                                      b64url_encode(p, raw, 32));
        break;
    }
    default:
        *why = "not an RSA, P-256 or Ed25519 key";
        return NULL;
    }
    thumb = apr_pstrcat(p, "{", s->jwk_members, "}", NULL);
    SHA256((const unsigned char *)thumb, strlen(thumb), md);
    s->kid = kid ? apr_pstrdup(p, kid) : b64url_encode(p, md, sizeof(md));
    return s;
}

const char *oa2f_signer_alg(const oa2f_signer_t *s)
{
    return s->alg;
}

const char *oa2f_signer_kid(const oa2f_signer_t *s)
{
    return s->kid;
}

const char *oa2f_signer_jwks(apr_pool_t *p, const oa2f_signer_t *s)
{
    json_object *kid = json_object_new_string(s->kid);
    const char *out = apr_psprintf(
        p, "{\"keys\":[{%s,\"kid\":%s,\"alg\":\"%s\",\"use\":\"sig\"}]}",
        s->jwk_members, json_object_to_json_string(kid), s->alg);

    json_object_put(kid);
    return out;
}

const char *oa2f_jws_sign(apr_pool_t *p, const oa2f_signer_t *s,
                          const char *typ, const char *payload,
                          apr_size_t payload_len, const char **why)
{
    json_object *h = json_object_new_object();
    const char *hs, *input;
    EVP_MD_CTX *mc = EVP_MD_CTX_new();
    unsigned char *sig = NULL;
    size_t sig_len = 0;
    int ed = !strcmp(s->alg, "EdDSA");
    const char *out = NULL;

    json_object_object_add(h, "alg", json_object_new_string(s->alg));
    json_object_object_add(h, "typ", json_object_new_string(typ));
    json_object_object_add(h, "kid", json_object_new_string(s->kid));
    hs = json_object_to_json_string_ext(h, JSON_C_TO_STRING_PLAIN);
    input = apr_pstrcat(
        p, b64url_encode(p, (const unsigned char *)hs, strlen(hs)), ".",
        b64url_encode(p, (const unsigned char *)payload, payload_len), NULL);
    json_object_put(h);
    if (!mc
        || EVP_DigestSignInit_ex(mc, NULL, ed ? NULL : "SHA256", NULL, NULL,
                                 s->pkey, NULL)
               <= 0
        || EVP_DigestSign(mc, NULL, &sig_len, (const unsigned char *)input,
                          strlen(input))
               <= 0) {
        *why = "cannot sign";
        EVP_MD_CTX_free(mc);
        return NULL;
    }
    sig = apr_palloc(p, sig_len);
    if (EVP_DigestSign(mc, sig, &sig_len, (const unsigned char *)input,
                       strlen(input))
        <= 0) {
        *why = "cannot sign";
        EVP_MD_CTX_free(mc);
        return NULL;
    }
    EVP_MD_CTX_free(mc);
    if (!strcmp(s->alg, "ES256")) {
        /* DER → raw r||s (RFC 7518 §3.4) */
        const unsigned char *d = sig;
        ECDSA_SIG *es = d2i_ECDSA_SIG(NULL, &d, (long)sig_len);
        unsigned char *raw = apr_palloc(p, 64);
        if (!es || BN_bn2binpad(ECDSA_SIG_get0_r(es), raw, 32) != 32
            || BN_bn2binpad(ECDSA_SIG_get0_s(es), raw + 32, 32) != 32) {
            ECDSA_SIG_free(es);
            *why = "cannot convert the ECDSA signature";
            return NULL;
        }
        ECDSA_SIG_free(es);
        sig = raw;
        sig_len = 64;
    }
    out = apr_pstrcat(p, input, ".", b64url_encode(p, sig, sig_len), NULL);
    return out;
}
