/* Fuzz target: a JWK set, oa2f_jwks_parse(); the input is the document.
 * What parses is then used to verify RFC 7515 A.2's token.
 *
 * Invariants checked besides "no crash, no leak, no UB":
 *  - the result is OK or MALFORMED, with a reason when MALFORMED; an
 *    input over OA2F_JWKS_MAX_LEN is MALFORMED;
 *  - a document whose keys array holds an object with a private member
 *    ("d", "p", "q", "dp", "dq", "qi", "oth", "k") is refused;
 *  - on OK: kept + skipped = the entries of "keys", at most 100 kept; no
 *    two kept keys share a kid; a reason is given exactly when keys
 *    sharing a kid were dropped; every kept key has an OpenSSL key
 *    whose public JWK (oa2f_jwk_public_json) parses back, in a set of
 *    its own, to the same JWK, and a 43-character thumbprint;
 *  - the A.2 token (RS256 by the RFC's key, no kid) verifies only when
 *    a kept RSA key without an alg other than RS256 is the RFC's key. */
#include <json-c/json.h>
#include <apr_strings.h>

#include "fuzz_common.h"
#include "fuzz_jose_keys.h"
#include "oa2f_jose.h"
#include "oa2f_jwk.h"

#define A2_TOKEN                                                              \
    "eyJhbGciOiJSUzI1NiJ9.eyJpc3MiOiJqb2UiLA0KICJleHAiOjEzMDA4MTkzODAsDQogIm" \
    "h0dHA6Ly9leGFtcGxlLmNvbS9pc19yb290Ijp0cnVlfQ.cC4hiUPoj9Eetdgtv3hF80EGrh" \
    "uB__dzERat0XF9g2VtQgr9PJbu3XOiZj5RZmh7AAuHIm4Bh-0Qc_lF5YKt_O8W2Fp5jujGb" \
    "ds9uJdbF9CUAr7t1dnZcAcQjbKBYNX4BAynRFdiuB--f_nZLgrnbyTyWzO75vRK5h6xBArL" \
    "IARNPvkSjtQBMHlb1L07Qe7K0GarZRmB_eSN9383LcOLn6_dO--xi12jzDwusC-eOkHWEsq" \
    "tFZESc6BfI7noOPqvhJ1phCnvWh6IeYI2w9QOYEUipUTI8np6LbgGY9Fs98rqVt5AXLIhWk" \
    "WywlVmtVrBp0igcN_IoypGlUPQGe77Rw"
#define A2_PUBLIC "{\"e\":\"AQAB\",\"kty\":\"RSA\",\"n\":\"" FZ_RSA_N "\"}"

/* Does the document, read by json-c alone, have a private member in a
 * key object? (-1: not an object with a keys array.) */
static int has_private(struct json_object *doc, size_t *entries)
{
    static const char *const secret[] = { "d",  "p",  "q",   "dp",
                                          "dq", "qi", "oth", "k" };
    struct json_object *keys;
    size_t i, j, n;

    if (!json_object_object_get_ex(doc, "keys", &keys)
        || !json_object_is_type(keys, json_type_array)) {
        return -1;
    }
    n = json_object_array_length(keys);
    *entries = n;
    for (i = 0; i < n; i++) {
        struct json_object *k = json_object_array_get_idx(keys, i);
        if (!json_object_is_type(k, json_type_object)) {
            continue;
        }
        for (j = 0; j < sizeof(secret) / sizeof(secret[0]); j++) {
            if (json_object_object_get_ex(k, secret[j], NULL)) {
                return 1;
            }
        }
    }
    return 0;
}

static void check_key(apr_pool_t *p, const oa2f_jwk_t *k)
{
    const char *pub = oa2f_jwk_public_json(p, k->pkey);
    const char *thumb = oa2f_jwk_thumbprint(p, k->pkey);
    const char *doc, *why = NULL;
    oa2f_jwks_t *again = NULL;
    int skipped = -1;

    FZ_ASSERT(pub != NULL, "kept key without public JWK");
    FZ_ASSERT(thumb && strlen(thumb) == 43, "thumbprint");
    doc = apr_pstrcat(p, "{\"keys\":[", pub, "]}", NULL);
    FZ_ASSERT(oa2f_jwks_parse(p, doc, strlen(doc), &again, &skipped, &why)
                  == OA2F_JOSE_OK,
              "public JWK refused: %s", why ? why : "?");
    FZ_ASSERT(oa2f_jwks_count(again) == 1 && skipped == 0,
              "public JWK not kept");
    FZ_ASSERT(strcmp(oa2f_jwk_public_json(
                         p, APR_ARRAY_IDX(again->keys, 0, oa2f_jwk_t).pkey),
                     pub)
                  == 0,
              "public JWK changes on a round trip");
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    apr_pool_t *p = fz_pool_begin();
    char *s = fz_cstr(data, size);
    oa2f_jwks_t *set = NULL;
    const char *why = NULL, *ignored;
    int skipped = -1, i, j, priv = -1, rsa_a2 = 0;
    size_t entries = 0;
    struct json_object *doc;
    oa2f_jose_rc_e rc = oa2f_jwks_parse(p, s, size, &set, &skipped, &why);

    FZ_ASSERT(rc == OA2F_JOSE_OK || rc == OA2F_JOSE_MALFORMED, "parse gave %d",
              rc);
    if (size > OA2F_JWKS_MAX_LEN) {
        FZ_ASSERT(rc == OA2F_JOSE_MALFORMED, "oversize accepted");
    }
    doc = oa2f_json_parse_object(s, size, &ignored);
    if (doc) {
        priv = has_private(doc, &entries);
        json_object_put(doc);
    }
    if (rc != OA2F_JOSE_OK) {
        FZ_ASSERT(why && !set, "refused without reason or kept a set");
        goto leave;
    }
    FZ_ASSERT(priv == 0, "accepted a document with a private key (%d)", priv);
    FZ_ASSERT(set && skipped >= 0, "no set");
    FZ_ASSERT((size_t)(oa2f_jwks_count(set) + skipped) == entries,
              "kept %d + skipped %d != %zu entries", oa2f_jwks_count(set),
              skipped, entries);
    FZ_ASSERT(oa2f_jwks_count(set) <= 100, "kept %d keys",
              oa2f_jwks_count(set));
    for (i = 0; i < set->keys->nelts; i++) {
        const oa2f_jwk_t *a = &APR_ARRAY_IDX(set->keys, i, oa2f_jwk_t);
        for (j = i + 1; a->kid && j < set->keys->nelts; j++) {
            const oa2f_jwk_t *b = &APR_ARRAY_IDX(set->keys, j, oa2f_jwk_t);
            FZ_ASSERT(!b->kid || strcmp(a->kid, b->kid) != 0,
                      "two kept keys share a kid");
        }
        FZ_ASSERT(a->pkey != NULL, "kept key without OpenSSL key");
        check_key(p, a);
        if (a->kty == OA2F_KTY_RSA
            && (!a->alg || !strcmp(a->alg->name, "RS256"))
            && !strcmp(oa2f_jwk_public_json(p, a->pkey), A2_PUBLIC)) {
            rsa_a2 = 1;
        }
    }
    FZ_ASSERT(!why || strstr(why, "kid"), "reason %s on OK", why);
    {
        oa2f_jws_t *jws = NULL;
        const char *w;
        FZ_ASSERT(oa2f_jws_parse(p, A2_TOKEN, strlen(A2_TOKEN), &jws, &w)
                      == OA2F_JOSE_OK,
                  "A.2 does not parse");
        rc = oa2f_jws_verify(jws, set, &w);
        FZ_ASSERT(rc != OA2F_JOSE_OK || rsa_a2,
                  "A.2 verified without the RFC's key");
    }
leave:
    free(s);
    fz_pool_end(p);
    return 0;
}
