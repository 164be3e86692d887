/* Fuzz target: a compact JWS, oa2f_jws_parse() then oa2f_jws_verify()
 * against a fixed key set (fuzz_jose_keys.h) and oa2f_jwt_claims() on
 * what parses; the input is the token.
 *
 * Invariants checked besides "no crash, no leak, no UB":
 *  - every failure has a reason; a result is one of the enum's;
 *  - only the strict form parses: OK means oa2f_jws_shape() holds and
 *    the header, payload and signature encode back to the very input
 *    (one spelling per token), the signing input is the token up to the
 *    second dot, the alg is one of the allow-list and the payload is
 *    one JSON object;
 *  - an input without a dot is never more than NOT_JWS, and a longer
 *    one than OA2F_JWS_MAX_LEN is MALFORMED;
 *  - verify answers OK, NO_KEY, KEY_MISMATCH or BAD_SIGNATURE only; a
 *    verified token stops verifying with a bit of any signature byte
 *    flipped, and with the first byte of its signing input changed;
 *  - claims are OK or BAD_CLAIMS; OK claims are active, expire after
 *    now minus the leeway, show what oa2f_claims_prepare derives (the
 *    payload, raw, may hold control bytes in strings; shown_raw has
 *    none), and have an iss field. */
#include <json-c/json.h>

#include "fuzz_common.h"
#include "fuzz_jose_keys.h"
#include "oa2f_b64url.h"
#include "oa2f_jose.h"

#define NOW    1767225600LL /* 2026-01-01T00:00:00Z */
#define LEEWAY 60

static apr_pool_t *keys_pool;
static oa2f_jwks_t *keys;
static int verbose = -1; /* FUZZ_VERBOSE=1: print each input's results */

/* The fixed set, parsed once in a pool of its own (outside the per-input
 * pool accounting). */
static void load_keys(void)
{
    const char *why = NULL;
    int skipped = -1;

    if (keys) {
        return;
    }
    verbose = getenv("FUZZ_VERBOSE") && atoi(getenv("FUZZ_VERBOSE")) > 0;
    apr_pool_create(&keys_pool, NULL);
    FZ_ASSERT(oa2f_jwks_parse(keys_pool, FZ_JWKS, strlen(FZ_JWKS), &keys,
                              &skipped, &why)
                  == OA2F_JOSE_OK,
              "the fixed JWKS: %s", why ? why : "?");
    FZ_ASSERT(oa2f_jwks_count(keys) == FZ_JWKS_KEYS && skipped == 0,
              "the fixed JWKS kept %d keys", oa2f_jwks_count(keys));
}

static void check_parsed(apr_pool_t *p, const char *tok, size_t size,
                         const oa2f_jws_t *jws)
{
    const char *d1 = memchr(tok, '.', size);
    const char *d2 = d1 ? memchr(d1 + 1, '.', size - (d1 + 1 - tok)) : NULL;
    const char *ignored;
    const char *h, *b, *s;
    struct json_object *o;

    FZ_ASSERT(oa2f_jws_shape(tok, size), "parsed without the shape");
    FZ_ASSERT(d1 && d2, "parsed without two dots");
    FZ_ASSERT(jws->alg && jws->signing_input && jws->payload && jws->sig,
              "parsed with a NULL member");
    FZ_ASSERT(jws->signing_input_len == (size_t)(d2 - tok)
                  && memcmp(jws->signing_input, tok, jws->signing_input_len)
                         == 0,
              "signing input is not the token up to the second dot");
    /* encode back: the header is checked through the signing input */
    b = oa2f_b64url_encode(p, (const unsigned char *)jws->payload,
                           jws->payload_len);
    s = oa2f_b64url_encode(p, jws->sig, jws->sig_len);
    FZ_ASSERT(strlen(b) == (size_t)(d2 - d1 - 1)
                  && memcmp(b, d1 + 1, strlen(b)) == 0,
              "payload has another spelling");
    FZ_ASSERT(strlen(s) == size - (size_t)(d2 + 1 - tok)
                  && memcmp(s, d2 + 1, strlen(s)) == 0,
              "signature has another spelling");
    h = (const char *)oa2f_b64url_decode(p, tok, (size_t)(d1 - tok),
                                         &(apr_size_t){ 0 });
    FZ_ASSERT(h != NULL, "header segment is not strict base64url");
    FZ_ASSERT(!strcmp(jws->alg, "RS256") || !strcmp(jws->alg, "RS384")
                  || !strcmp(jws->alg, "RS512") || !strcmp(jws->alg, "PS256")
                  || !strcmp(jws->alg, "PS384") || !strcmp(jws->alg, "PS512")
                  || !strcmp(jws->alg, "ES256") || !strcmp(jws->alg, "ES384")
                  || !strcmp(jws->alg, "ES512") || !strcmp(jws->alg, "EdDSA"),
              "alg %s outside the allow-list", jws->alg);
    o = oa2f_json_parse_object(jws->payload, jws->payload_len, &ignored);
    FZ_ASSERT(o != NULL, "payload is not a JSON object");
    json_object_put(o);
}

static void check_verified(const oa2f_jws_t *jws)
{
    oa2f_jws_t copy = *jws;
    unsigned char *sig = malloc(jws->sig_len + 1);
    char *input = malloc(jws->signing_input_len + 1);
    const char *why;
    size_t i;
    int b;

    memcpy(sig, jws->sig, jws->sig_len);
    copy.sig = sig;
    /* one bit per byte, a different one each time */
    for (i = 0; i < jws->sig_len; i++) {
        b = (int)(i % 8);
        sig[i] ^= (unsigned char)(1 << b);
        FZ_ASSERT(oa2f_jws_verify(&copy, keys, &why) != OA2F_JOSE_OK,
                  "verified with bit %d of signature byte %zu flipped", b, i);
        sig[i] ^= (unsigned char)(1 << b);
    }
    copy.sig = jws->sig;
    memcpy(input, jws->signing_input, jws->signing_input_len + 1);
    input[0] ^= 1;
    copy.signing_input = input;
    FZ_ASSERT(oa2f_jws_verify(&copy, keys, &why) != OA2F_JOSE_OK,
              "verified with the signing input changed");
    free(sig);
    free(input);
}

static void check_claims(apr_pool_t *p, const oa2f_jws_t *jws)
{
    oa2f_jwt_rules_t rules = { NOW, LEEWAY, NULL };
    oa2f_claims_t *c = NULL;
    const char *why = NULL;
    oa2f_jose_rc_e rc = oa2f_jwt_claims(p, jws, &rules, &c, &why);

    FZ_ASSERT(rc == OA2F_JOSE_OK || rc == OA2F_JOSE_BAD_CLAIMS,
              "claims gave %d", rc);
    if (verbose) {
        fprintf(stderr, "  claims: %s%s%s\n", oa2f_jose_rc_name(rc),
                why ? ": " : "", why ? why : "");
    }
    if (rc != OA2F_JOSE_OK) {
        FZ_ASSERT(why && !c, "claims failed without reason or kept claims");
        return;
    }
    FZ_ASSERT(c->active == 1, "claims not active");
    FZ_ASSERT(c->expires_at + LEEWAY > NOW, "claims expired at %lld",
              c->expires_at);
    FZ_ASSERT(oa2f_claims_get(c, "iss") != NULL, "claims without iss");
    FZ_ASSERT(c->raw == jws->payload, "raw is not the payload");
    oa2f_claims_prepare(p, c);
    /* raw is the payload as signed, control bytes and all (json-c takes
     * them inside strings); what a backend is shown must have none */
    {
        oa2f_claims_t shown = *c;
        shown.raw = c->shown_raw;
        shown.raw_len = strlen(c->shown_raw);
        fz_check_prepared(p, &shown);
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    apr_pool_t *p;
    char *tok;
    oa2f_jws_t *jws = NULL;
    const char *why = NULL;
    oa2f_jose_rc_e rc;

    load_keys();
    p = fz_pool_begin();
    tok = fz_cstr(data, size);
    rc = oa2f_jws_parse(p, tok, size, &jws, &why);
    FZ_ASSERT(rc >= OA2F_JOSE_OK && rc <= OA2F_JOSE_UNSUPPORTED,
              "parse gave %d", rc);
    FZ_ASSERT(rc == OA2F_JOSE_OK || (why && !jws),
              "parse failed without a reason or kept a result");
    if (verbose) {
        fprintf(stderr, "parse: %s%s%s\n", oa2f_jose_rc_name(rc),
                why ? ": " : "", why ? why : "");
    }
    if (size > OA2F_JWS_MAX_LEN) {
        FZ_ASSERT(rc == OA2F_JOSE_MALFORMED, "oversize gave %d", rc);
    }
    if (!memchr(tok, '.', size)) {
        FZ_ASSERT(rc == OA2F_JOSE_NOT_JWS || size > OA2F_JWS_MAX_LEN,
                  "no dot gave %d", rc);
    }
    if (rc == OA2F_JOSE_OK) {
        check_parsed(p, tok, size, jws);
        rc = oa2f_jws_verify(jws, keys, &why);
        FZ_ASSERT(rc == OA2F_JOSE_OK || rc == OA2F_JOSE_NO_KEY
                      || rc == OA2F_JOSE_KEY_MISMATCH
                      || rc == OA2F_JOSE_BAD_SIGNATURE,
                  "verify gave %d", rc);
        FZ_ASSERT(rc == OA2F_JOSE_OK || why, "verify failed without reason");
        if (verbose) {
            fprintf(stderr, "  verify: %s%s%s\n", oa2f_jose_rc_name(rc),
                    why ? ": " : "", why ? why : "");
        }
        if (rc == OA2F_JOSE_OK) {
            check_verified(jws);
        }
        check_claims(p, jws);
    }
    free(tok);
    fz_pool_end(p);
    return 0;
}
