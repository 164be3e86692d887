/* JWK ⇄ EVP_PKEY (see oa2f_jwk.h). Keys are built from their JWK
 * parameters with EVP_PKEY_fromdata (OpenSSL 3 provider API). */
#include <string.h>
#include <json-c/json.h>
#include <apr_strings.h>
#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/err.h>
#include <openssl/param_build.h>

#include "oa2f_b64url.h"
#include "oa2f_jwk.h"

/* OpenSSL's own ceiling (OPENSSL_RSA_MAX_MODULUS_BITS). */
#define RSA_MIN_BITS 2048
#define RSA_MAX_BITS 16384

/* JWK curve names, OpenSSL group or key type names, coordinate sizes
 * (RFC 7518 §6.2.1.2, RFC 8037 §2). */
static const struct {
    oa2f_kty_e kty;
    const char *crv;
    const char *ossl;
    const char *ossl_alias;
    apr_size_t len;
} curves[] = {
    { OA2F_KTY_EC, "P-256", "P-256", "prime256v1", 32 },
    { OA2F_KTY_EC, "P-384", "P-384", "secp384r1", 48 },
    { OA2F_KTY_EC, "P-521", "P-521", "secp521r1", 66 },
    { OA2F_KTY_OKP, "Ed25519", "ED25519", NULL, 32 },
    { OA2F_KTY_OKP, "Ed448", "ED448", NULL, 57 },
};
#define N_CURVES (sizeof(curves) / sizeof(curves[0]))

int oa2f_jwk_is_private(struct json_object *o)
{
    static const char *const secret[] = { "d",  "p",  "q",   "dp",
                                          "dq", "qi", "oth", "k" };
    apr_size_t i;

    for (i = 0; i < sizeof(secret) / sizeof(secret[0]); i++) {
        if (json_object_object_get_ex(o, secret[i], NULL)) {
            return 1;
        }
    }
    return 0;
}

/* Member `name` as a string without NUL: 1 and *out; 0 when it is
 * absent; -1 when it is something else. */
static int string_member(struct json_object *o, const char *name,
                         const char **out)
{
    struct json_object *v;
    const char *s;

    if (!json_object_object_get_ex(o, name, &v)) {
        return 0;
    }
    if (!json_object_is_type(v, json_type_string)) {
        return -1;
    }
    s = json_object_get_string(v);
    if (strlen(s) != (size_t)json_object_get_string_len(v)) {
        return -1;
    }
    *out = s;
    return 1;
}

/* Member `name` base64url-decoded (strict), or NULL. */
static unsigned char *bytes_member(apr_pool_t *p, struct json_object *o,
                                   const char *name, apr_size_t *len)
{
    const char *s;

    if (string_member(o, name, &s) != 1) {
        return NULL;
    }
    return oa2f_b64url_decode(p, s, strlen(s), len);
}

/* A public key of OpenSSL type `type` from the parameters in bld. */
static EVP_PKEY *from_params(const char *type, OSSL_PARAM_BLD *bld)
{
    OSSL_PARAM *params = OSSL_PARAM_BLD_to_param(bld);
    EVP_PKEY_CTX *ctx = EVP_PKEY_CTX_new_from_name(NULL, type, NULL);
    EVP_PKEY *k = NULL;

    if (!params || !ctx || EVP_PKEY_fromdata_init(ctx) != 1
        || EVP_PKEY_fromdata(ctx, &k, EVP_PKEY_PUBLIC_KEY, params) != 1) {
        EVP_PKEY_free(k);
        k = NULL;
    }
    EVP_PKEY_CTX_free(ctx);
    OSSL_PARAM_free(params);
    return k;
}

static EVP_PKEY *import_rsa(apr_pool_t *p, struct json_object *o,
                            const char **why)
{
    apr_size_t nlen, elen;
    unsigned char *nb = bytes_member(p, o, "n", &nlen);
    unsigned char *eb = bytes_member(p, o, "e", &elen);
    BIGNUM *n = NULL, *e = NULL;
    OSSL_PARAM_BLD *bld = NULL;
    EVP_PKEY *k = NULL;
    int bits;

    if (!nb || !eb || !nlen || !elen) {
        *why = "an RSA key without valid n and e";
        goto leave;
    }
    if (nlen > RSA_MAX_BITS / 8 + 1) {
        *why = "an RSA key above 16384 bits";
        goto leave;
    }
    /* e odd, at least 3 and below 2^31 (a huge e makes every check
     * slow, an even one is no RSA key) */
    if (elen > 4) {
        *why = "an RSA key with an unusable exponent";
        goto leave;
    }
    n = BN_bin2bn(nb, (int)nlen, NULL);
    e = BN_bin2bn(eb, (int)elen, NULL);
    if (!n || !e) {
        *why = "out of memory";
        goto leave;
    }
    bits = BN_num_bits(n);
    if (bits > RSA_MAX_BITS) {
        *why = "an RSA key above 16384 bits";
        goto leave;
    }
    if (bits < RSA_MIN_BITS) {
        *why = "an RSA key below 2048 bits";
        goto leave;
    }
    if (!BN_is_odd(n)) {
        *why = "an RSA key with an even modulus";
        goto leave;
    }
    if (BN_num_bits(e) > 31 || !BN_is_odd(e) || BN_is_one(e)) {
        *why = "an RSA key with an unusable exponent";
        goto leave;
    }
    if (!(bld = OSSL_PARAM_BLD_new())
        || !OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_N, n)
        || !OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_E, e)
        || !(k = from_params("RSA", bld))) {
        *why = "an RSA key OpenSSL does not accept";
    }
leave:
    OSSL_PARAM_BLD_free(bld);
    BN_free(n);
    BN_free(e);
    return k;
}

/* A point of the curve, not only of the right size: a point off the
 * curve must never reach a verification (invalid-curve attacks). */
static int public_check(EVP_PKEY *k)
{
    EVP_PKEY_CTX *ctx = EVP_PKEY_CTX_new_from_pkey(NULL, k, NULL);
    int ok = ctx && EVP_PKEY_public_check(ctx) == 1;

    EVP_PKEY_CTX_free(ctx);
    return ok;
}

static EVP_PKEY *import_curve(apr_pool_t *p, struct json_object *o,
                              oa2f_kty_e kty, const char **crv_out,
                              const char **why)
{
    const char *crv = NULL;
    apr_size_t i, xlen = 0, ylen = 0;
    unsigned char *x, *y = NULL, *pub;
    OSSL_PARAM_BLD *bld = NULL;
    EVP_PKEY *k = NULL;

    if (string_member(o, "crv", &crv) != 1) {
        *why = "a key without crv";
        return NULL;
    }
    for (i = 0; i < N_CURVES; i++) {
        if (curves[i].kty == kty && strcmp(curves[i].crv, crv) == 0) {
            break;
        }
    }
    if (i == N_CURVES) {
        *why = "a key of an unsupported curve";
        return NULL;
    }
    x = bytes_member(p, o, "x", &xlen);
    if (kty == OA2F_KTY_EC) {
        y = bytes_member(p, o, "y", &ylen);
    }
    if (!x || xlen != curves[i].len
        || (kty == OA2F_KTY_EC && (!y || ylen != curves[i].len))) {
        *why = "a key whose coordinates are not of the curve's size";
        return NULL;
    }
    if (!(bld = OSSL_PARAM_BLD_new())) {
        *why = "out of memory";
        return NULL;
    }
    if (kty == OA2F_KTY_EC) {
        /* the uncompressed point, SEC 1 §2.3.3 */
        pub = apr_palloc(p, 1 + 2 * xlen);
        pub[0] = 0x04;
        memcpy(pub + 1, x, xlen);
        memcpy(pub + 1 + xlen, y, ylen);
        if (OSSL_PARAM_BLD_push_utf8_string(bld, OSSL_PKEY_PARAM_GROUP_NAME,
                                            curves[i].ossl, 0)
            && OSSL_PARAM_BLD_push_octet_string(bld, OSSL_PKEY_PARAM_PUB_KEY,
                                                pub, 1 + 2 * xlen)) {
            k = from_params("EC", bld);
        }
        if (k && !public_check(k)) {
            EVP_PKEY_free(k);
            k = NULL;
        }
    }
    else if (OSSL_PARAM_BLD_push_octet_string(bld, OSSL_PKEY_PARAM_PUB_KEY, x,
                                              xlen)) {
        k = from_params(curves[i].ossl, bld);
    }
    OSSL_PARAM_BLD_free(bld);
    if (!k) {
        *why = "a key OpenSSL does not accept (not a point of its curve)";
    }
    *crv_out = curves[i].crv;
    return k;
}

/* RFC 7517 §4.3: key_ops, when present, must allow "verify". */
static int ops_allow_verify(struct json_object *o)
{
    struct json_object *ops;
    size_t i, n;

    if (!json_object_object_get_ex(o, "key_ops", &ops)) {
        return 1;
    }
    if (!json_object_is_type(ops, json_type_array)) {
        return 0;
    }
    n = json_object_array_length(ops);
    for (i = 0; i < n; i++) {
        struct json_object *e = json_object_array_get_idx(ops, i);
        if (json_object_is_type(e, json_type_string)
            && strcmp(json_object_get_string(e), "verify") == 0) {
            return 1;
        }
    }
    return 0;
}

int oa2f_jwk_import(apr_pool_t *p, struct json_object *o, oa2f_jwk_t *out,
                    const char **why)
{
    const char *kty = NULL, *use = NULL, *alg = NULL, *kid = NULL;
    int r;

    memset(out, 0, sizeof(*out));
    if (!json_object_is_type(o, json_type_object)) {
        *why = "a key that is not an object";
        return 0;
    }
    if (string_member(o, "kty", &kty) != 1) {
        *why = "a key without kty";
        return 0;
    }
    /* RFC 7517 §4.2: only signature keys */
    if ((r = string_member(o, "use", &use)) < 0
        || (r == 1 && strcmp(use, "sig") != 0)) {
        *why = "a key not for signatures (use)";
        return 0;
    }
    if (!ops_allow_verify(o)) {
        *why = "a key not for verification (key_ops)";
        return 0;
    }
    if ((r = string_member(o, "kid", &kid)) < 0) {
        *why = "a key whose kid is not a string";
        return 0;
    }
    out->kid = r == 1 ? apr_pstrdup(p, kid) : NULL;
    if ((r = string_member(o, "alg", &alg)) < 0
        || (r == 1 && !(out->alg = oa2f_jose_alg_find(alg)))) {
        *why = "a key for an algorithm outside the allow-list";
        return 0;
    }
    if (strcmp(kty, "RSA") == 0) {
        out->kty = OA2F_KTY_RSA;
        out->pkey = import_rsa(p, o, why);
    }
    else if (strcmp(kty, "EC") == 0 || strcmp(kty, "OKP") == 0) {
        out->kty = kty[0] == 'E' ? OA2F_KTY_EC : OA2F_KTY_OKP;
        out->pkey = import_curve(p, o, out->kty, &out->crv, why);
    }
    else {
        *why = "a key of an unsupported type";
        return 0;
    }
    ERR_clear_error();
    if (!out->pkey) {
        return 0;
    }
    if (out->alg && !oa2f_jose_alg_fits(out->alg, out->kty, out->crv)) {
        EVP_PKEY_free(out->pkey);
        out->pkey = NULL;
        *why = "a key whose alg does not fit its type or curve";
        return 0;
    }
    return 1;
}

int oa2f_jwk_type_of(EVP_PKEY *k, oa2f_kty_e *kty, const char **crv)
{
    char group[64];
    apr_size_t i;

    *crv = NULL;
    if (EVP_PKEY_is_a(k, "RSA")) {
        *kty = OA2F_KTY_RSA;
        return 1;
    }
    if (EVP_PKEY_is_a(k, "EC")) {
        if (EVP_PKEY_get_utf8_string_param(k, OSSL_PKEY_PARAM_GROUP_NAME,
                                           group, sizeof(group), NULL)
            != 1) {
            ERR_clear_error();
            return 0;
        }
        for (i = 0; i < N_CURVES; i++) {
            if (curves[i].kty == OA2F_KTY_EC
                && (!strcmp(group, curves[i].ossl)
                    || !strcmp(group, curves[i].ossl_alias))) {
                *kty = OA2F_KTY_EC;
                *crv = curves[i].crv;
                return 1;
            }
        }
        return 0;
    }
    for (i = 0; i < N_CURVES; i++) {
        if (curves[i].kty == OA2F_KTY_OKP
            && EVP_PKEY_is_a(k, curves[i].ossl)) {
            *kty = OA2F_KTY_OKP;
            *crv = curves[i].crv;
            return 1;
        }
    }
    return 0;
}

/* An integer parameter of k, big-endian, left-padded to `pad` bytes
 * (0: its own size), base64url in p; NULL on failure. */
static const char *bn_param(apr_pool_t *p, EVP_PKEY *k, const char *name,
                            apr_size_t pad)
{
    BIGNUM *bn = NULL;
    unsigned char *b;
    const char *out = NULL;
    int n;

    if (EVP_PKEY_get_bn_param(k, name, &bn) == 1) {
        n = pad ? (int)pad : BN_num_bytes(bn);
        b = apr_palloc(p, (apr_size_t)n + 1);
        if (BN_bn2binpad(bn, b, n) == n) {
            out = oa2f_b64url_encode(p, b, (apr_size_t)n);
        }
    }
    BN_free(bn);
    ERR_clear_error();
    return out;
}

static apr_size_t coord_len(const char *crv)
{
    apr_size_t i;

    for (i = 0; i < N_CURVES; i++) {
        if (strcmp(curves[i].crv, crv) == 0) {
            return curves[i].len;
        }
    }
    return 0;
}

const char *oa2f_jwk_public_json(apr_pool_t *p, EVP_PKEY *k)
{
    oa2f_kty_e kty;
    const char *crv, *a, *b;
    unsigned char raw[64];
    size_t rawlen = sizeof(raw);

    if (!k || !oa2f_jwk_type_of(k, &kty, &crv)) {
        return NULL;
    }
    switch (kty) {
    case OA2F_KTY_RSA:
        a = bn_param(p, k, OSSL_PKEY_PARAM_RSA_E, 0);
        b = bn_param(p, k, OSSL_PKEY_PARAM_RSA_N, 0);
        return a && b
                   ? apr_pstrcat(p, "{\"e\":\"", a,
                                 "\",\"kty\":\"RSA\",\"n\":\"", b, "\"}", NULL)
                   : NULL;
    case OA2F_KTY_EC:
        a = bn_param(p, k, OSSL_PKEY_PARAM_EC_PUB_X, coord_len(crv));
        b = bn_param(p, k, OSSL_PKEY_PARAM_EC_PUB_Y, coord_len(crv));
        return a && b ? apr_pstrcat(p, "{\"crv\":\"", crv,
                                    "\",\"kty\":\"EC\",\"x\":\"", a,
                                    "\",\"y\":\"", b, "\"}", NULL)
                      : NULL;
    default:
        if (EVP_PKEY_get_raw_public_key(k, raw, &rawlen) != 1) {
            ERR_clear_error();
            return NULL;
        }
        return apr_pstrcat(p, "{\"crv\":\"", crv,
                           "\",\"kty\":\"OKP\",\"x\":\"",
                           oa2f_b64url_encode(p, raw, rawlen), "\"}", NULL);
    }
}

const char *oa2f_jwk_thumbprint(apr_pool_t *p, EVP_PKEY *k)
{
    const char *json = oa2f_jwk_public_json(p, k);
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int mdlen = 0;

    if (!json
        || !EVP_Digest(json, strlen(json), md, &mdlen, EVP_sha256(), NULL)) {
        return NULL;
    }
    return oa2f_b64url_encode(p, md, mdlen);
}
