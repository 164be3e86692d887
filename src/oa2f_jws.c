/* Compact JWS: shape, parse, verify (RFC 7515 §7.1, §5.2; see
 * oa2f_jose.h). */
#include <string.h>
#include <strings.h>
#include <json-c/json.h>
#include <apr_strings.h>

#include "oa2f_b64url.h"
#include "oa2f_jose.h"
#include "oa2f_jwk.h"

/* Keys tried for a token without kid. */
#define MAX_TRIES 8

/* JWS headers repeat: one issuer signs with a few keys, one typ. Each
 * thread keeps the last header segment that passed check_header, with
 * what was taken from it, so that the next token with exactly the same
 * bytes skips their decode and parse (the checks are a function of
 * those bytes alone). A longer header, kid or typ is never kept. */
#define MEMO_SEG_MAX 512
#define MEMO_ALG_MAX 16
#define MEMO_KID_MAX 256
#define MEMO_TYP_MAX 64

typedef struct {
    apr_size_t seg_len; /* 0: nothing kept */
    char seg[MEMO_SEG_MAX];
    char alg[MEMO_ALG_MAX];
    char kid[MEMO_KID_MAX];
    char typ[MEMO_TYP_MAX];
    int has_kid, has_typ;
} header_memo_t;

static __thread header_memo_t memo;

const char *oa2f_jose_rc_name(oa2f_jose_rc_e rc)
{
    switch (rc) {
    case OA2F_JOSE_OK:
        return "ok";
    case OA2F_JOSE_NOT_JWS:
        return "not a JWS";
    case OA2F_JOSE_MALFORMED:
        return "malformed";
    case OA2F_JOSE_UNSUPPORTED:
        return "unsupported";
    case OA2F_JOSE_NO_KEY:
        return "no key";
    case OA2F_JOSE_KEY_MISMATCH:
        return "key mismatch";
    case OA2F_JOSE_BAD_SIGNATURE:
        return "bad signature";
    case OA2F_JOSE_BAD_CLAIMS:
        return "bad claims";
    }
    return "unknown";
}

int oa2f_jws_shape(const char *tok, apr_size_t len)
{
    apr_size_t i;
    int dots = 0;

    if (!tok) {
        return 0;
    }
    for (i = 0; i < len; i++) {
        if (tok[i] == '.') {
            dots++;
        }
        else if (!oa2f_b64url_is_char((unsigned char)tok[i])) {
            return 0;
        }
    }
    return dots == 2;
}

/* One JSON object without repeated members (json-c keeps the last of
 * them, another reader the first: RFC 7515 §4, RFC 7519 §4), or NULL.
 * The caller puts it. */
static struct json_object *object_of(const char *s, apr_size_t len)
{
    const char *ignored;
    int repeated;

    return oa2f_json_parse_unique(s, len, &ignored, &repeated);
}

static apr_status_t put_body(void *data)
{
    json_object_put(data);
    return APR_SUCCESS;
}

/* Is it meant as a JOSE object at all? Its first segment, read
 * leniently, is a JSON object. Random opaque tokens practically never
 * are, so they go to introspection, while a JWS spoiled by padding or
 * white space is refused here. */
static int looks_like_jose(apr_pool_t *p, const char *tok, apr_size_t len)
{
    const char *dot = memchr(tok, '.', len);
    apr_size_t n;
    const char *ignored;
    unsigned char *hdr;
    struct json_object *o;

    if (!dot) {
        return 0;
    }
    hdr = oa2f_b64url_decode_lax(p, tok, (apr_size_t)(dot - tok), &n);
    if (!hdr
        || !(o = oa2f_json_parse_object((const char *)hdr, n, &ignored))) {
        return 0;
    }
    json_object_put(o);
    return 1;
}

/* Header member `name`: 0 absent, 1 a string without NUL (*out), -1
 * something else. */
static int header_string(struct json_object *h, const char *name,
                         const char **out)
{
    struct json_object *v;

    *out = NULL;
    if (!json_object_object_get_ex(h, name, &v)) {
        return 0;
    }
    if (!json_object_is_type(v, json_type_string)
        || strlen(json_object_get_string(v))
               != (size_t)json_object_get_string_len(v)) {
        return -1;
    }
    *out = json_object_get_string(v);
    return 1;
}

/* The header's checks; strings copied into jws. */
static oa2f_jose_rc_e check_header(apr_pool_t *p, struct json_object *h,
                                   oa2f_jws_t *jws, const char **why)
{
    const char *s;

    if (json_object_object_get_ex(h, "enc", NULL)) {
        *why = "the token is a JWE, not a JWS";
        return OA2F_JOSE_MALFORMED;
    }
    if (header_string(h, "alg", &s) != 1) {
        *why = "the JWS header has no alg string";
        return OA2F_JOSE_MALFORMED;
    }
    if (!oa2f_jose_alg_find(s)) {
        *why = "the JWS alg is not allowed (none, HMAC or unknown)";
        return OA2F_JOSE_UNSUPPORTED;
    }
    jws->alg = apr_pstrdup(p, s);
    /* RFC 7515 §4.1.11: no extension is understood here; RFC 7797's b64
     * and RFC 7516's zip change what is signed */
    if (json_object_object_get_ex(h, "crit", NULL)) {
        *why = "the JWS header has crit";
        return OA2F_JOSE_UNSUPPORTED;
    }
    if (json_object_object_get_ex(h, "b64", NULL)) {
        *why = "the JWS header has b64";
        return OA2F_JOSE_UNSUPPORTED;
    }
    if (json_object_object_get_ex(h, "zip", NULL)) {
        *why = "the JWS header has zip";
        return OA2F_JOSE_UNSUPPORTED;
    }
    switch (header_string(h, "cty", &s)) {
    case -1:
        *why = "the JWS cty is not a string";
        return OA2F_JOSE_MALFORMED;
    case 1:
        /* RFC 7519 §5.2: a nested JWT, whose outer claims are none */
        if (!strcasecmp(s, "JWT") || !strcasecmp(s, "application/JWT")) {
            *why = "the JWS holds a nested JWT";
            return OA2F_JOSE_UNSUPPORTED;
        }
        break;
    default:
        break;
    }
    if (header_string(h, "kid", &s) < 0) {
        *why = "the JWS kid is not a string";
        return OA2F_JOSE_MALFORMED;
    }
    jws->kid = s ? apr_pstrdup(p, s) : NULL;
    if (header_string(h, "typ", &s) < 0) {
        *why = "the JWS typ is not a string";
        return OA2F_JOSE_MALFORMED;
    }
    jws->typ = s ? apr_pstrdup(p, s) : NULL;
    /* jku, x5u, jwk, x5c are never followed: keys come from the JWKS */
    return OA2F_JOSE_OK;
}

/* NOT_JWS or MALFORMED for a token found broken before its header was
 * read strictly. */
static oa2f_jose_rc_e broken(apr_pool_t *p, const char *tok, apr_size_t len,
                             const char *what, const char **why)
{
    if (!looks_like_jose(p, tok, len)) {
        *why = "the token is not a JWS";
        return OA2F_JOSE_NOT_JWS;
    }
    *why = what;
    return OA2F_JOSE_MALFORMED;
}

/* jws's header fields from the memo, when seg is the one kept. */
static int header_from_memo(apr_pool_t *p, const char *seg, apr_size_t len,
                            oa2f_jws_t *jws)
{
    if (len == 0 || len != memo.seg_len || memcmp(seg, memo.seg, len) != 0) {
        return 0;
    }
    jws->alg = apr_pstrdup(p, memo.alg);
    jws->kid = memo.has_kid ? apr_pstrdup(p, memo.kid) : NULL;
    jws->typ = memo.has_typ ? apr_pstrdup(p, memo.typ) : NULL;
    return 1;
}

/* Keep seg and the fields check_header took from it, if they fit. */
static void header_to_memo(const char *seg, apr_size_t len,
                           const oa2f_jws_t *jws)
{
    memo.seg_len = 0;
    if (len > MEMO_SEG_MAX || strlen(jws->alg) >= MEMO_ALG_MAX
        || (jws->kid && strlen(jws->kid) >= MEMO_KID_MAX)
        || (jws->typ && strlen(jws->typ) >= MEMO_TYP_MAX)) {
        return;
    }
    memcpy(memo.seg, seg, len);
    strcpy(memo.alg, jws->alg);
    memo.has_kid = jws->kid != NULL;
    strcpy(memo.kid, jws->kid ? jws->kid : "");
    memo.has_typ = jws->typ != NULL;
    strcpy(memo.typ, jws->typ ? jws->typ : "");
    memo.seg_len = len;
}

oa2f_jose_rc_e oa2f_jws_parse(apr_pool_t *p, const char *tok, apr_size_t len,
                              oa2f_jws_t **out, const char **why)
{
    apr_size_t i, dots[3], ndots = 0, hlen, plen, slen;
    unsigned char *hdr, *payload, *sig;
    struct json_object *h, *body;
    oa2f_jws_t *jws;
    oa2f_jose_rc_e rc;

    *out = NULL;
    *why = NULL;
    if (!tok) {
        *why = "the token is not a JWS";
        return OA2F_JOSE_NOT_JWS;
    }
    if (len > OA2F_JWS_MAX_LEN) {
        *why = "the token is longer than a JWS may be here";
        return OA2F_JOSE_MALFORMED;
    }
    for (i = 0; i < len; i++) {
        if (tok[i] == '.') {
            if (ndots < 3) {
                dots[ndots] = i;
            }
            ndots++;
        }
        else if (!oa2f_b64url_is_char((unsigned char)tok[i])) {
            return broken(p, tok, len,
                          "the JWS has a character outside base64url "
                          "(padding or white space)",
                          why);
        }
    }
    if (ndots != 2) {
        return broken(p, tok, len,
                      ndots == 4 ? "the token is a JWE, not a JWS"
                                 : "the JWS has other than three parts",
                      why);
    }
    jws = apr_pcalloc(p, sizeof(*jws));
    if (!header_from_memo(p, tok, dots[0], jws)) {
        hdr = oa2f_b64url_decode(p, tok, dots[0], &hlen);
        if (!hdr) {
            return broken(p, tok, len, "the JWS header is not base64url", why);
        }
        if (!(h = object_of((const char *)hdr, hlen))) {
            return broken(p, tok, len, "the JWS header is not one JSON object",
                          why);
        }
        rc = check_header(p, h, jws, why);
        json_object_put(h);
        if (rc != OA2F_JOSE_OK) {
            return rc;
        }
        header_to_memo(tok, dots[0], jws);
    }
    payload = oa2f_b64url_decode(p, tok + dots[0] + 1, dots[1] - dots[0] - 1,
                                 &plen);
    if (!payload) {
        *why = "the JWS payload is not base64url";
        return OA2F_JOSE_MALFORMED;
    }
    if (!(body = object_of((const char *)payload, plen))) {
        *why = "the JWS payload is not one JSON object";
        return OA2F_JOSE_MALFORMED;
    }
    /* kept for oa2f_jwt_claims, which would otherwise parse it again */
    apr_pool_cleanup_register(p, body, put_body, apr_pool_cleanup_null);
    jws->body = body;
    sig = oa2f_b64url_decode(p, tok + dots[1] + 1, len - dots[1] - 1, &slen);
    if (!sig) {
        *why = "the JWS signature is not base64url";
        return OA2F_JOSE_MALFORMED;
    }
    jws->signing_input = apr_pstrmemdup(p, tok, dots[1]);
    jws->signing_input_len = dots[1];
    jws->sig = sig;
    jws->sig_len = slen;
    jws->payload = (const char *)payload;
    jws->payload_len = plen;
    *out = jws;
    return OA2F_JOSE_OK;
}

/* Can key k check alg a? Its type and curve, and its own alg. */
static int key_fits(const oa2f_jwk_t *k, const oa2f_jose_alg_t *a)
{
    return oa2f_jose_alg_fits(a, k->kty, k->crv) && (!k->alg || k->alg == a);
}

static int check_with(const oa2f_jwk_t *k, const oa2f_jose_alg_t *a,
                      const oa2f_jws_t *jws)
{
    return oa2f_jose_alg_verify(a, k->pkey, (oa2f_jose_ready_t *)&k->ready,
                                jws->signing_input, jws->signing_input_len,
                                jws->sig, jws->sig_len);
}

oa2f_jose_rc_e oa2f_jws_verify(const oa2f_jws_t *jws, const oa2f_jwks_t *set,
                               const char **why)
{
    const oa2f_jose_alg_t *a;
    int i, tried = 0;

    *why = NULL;
    if (!jws || !(a = oa2f_jose_alg_find(jws->alg))) {
        *why = "the JWS alg is not allowed (none, HMAC or unknown)";
        return OA2F_JOSE_UNSUPPORTED;
    }
    if (!set) {
        *why = "there is no key set";
        return OA2F_JOSE_NO_KEY;
    }
    if (jws->kid) {
        for (i = 0; i < set->keys->nelts; i++) {
            const oa2f_jwk_t *k = &APR_ARRAY_IDX(set->keys, i, oa2f_jwk_t);
            if (!k->kid || strcmp(k->kid, jws->kid) != 0) {
                continue;
            }
            /* the key named is not for this alg: never try another
             * (RFC 8725 §3.1, algorithm confusion) */
            if (!key_fits(k, a)) {
                *why = "the key the JWS names does not fit its alg";
                return OA2F_JOSE_KEY_MISMATCH;
            }
            if (!check_with(k, a, jws)) {
                *why = "the JWS signature does not verify";
                return OA2F_JOSE_BAD_SIGNATURE;
            }
            return OA2F_JOSE_OK;
        }
        /* a key the JWKS has but that cannot be used (use, key_ops,
         * alg, size, curve, or a kid shared): a refresh will not help */
        for (i = 0; i < set->unusable_kids->nelts; i++) {
            if (!strcmp(APR_ARRAY_IDX(set->unusable_kids, i, const char *),
                        jws->kid)) {
                *why = "the key the JWS names is not usable for signatures";
                return OA2F_JOSE_KEY_MISMATCH;
            }
        }
        *why = "no key of the JWKS has the JWS's kid";
        return OA2F_JOSE_NO_KEY;
    }
    for (i = 0; i < set->keys->nelts && tried < MAX_TRIES; i++) {
        const oa2f_jwk_t *k = &APR_ARRAY_IDX(set->keys, i, oa2f_jwk_t);
        if (!key_fits(k, a)) {
            continue;
        }
        tried++;
        if (check_with(k, a, jws)) {
            return OA2F_JOSE_OK;
        }
    }
    if (!tried) {
        *why = "no key of the JWKS fits the JWS's alg";
        return OA2F_JOSE_NO_KEY;
    }
    *why = "the JWS signature does not verify";
    return OA2F_JOSE_BAD_SIGNATURE;
}
