/* JWK sets (RFC 7517 §5), see oa2f_jwks_parse in oa2f_jose.h. */
#include <string.h>
#include <json-c/json.h>
#include <apr_strings.h>

#include "oa2f_jose.h"
#include "oa2f_jwk.h"

/* Keys looked at per document: a provider publishes a handful; a
 * thousand EC keys would cost a point check each. */
#define MAX_KEYS 100
/* A kid is named in *why only when short and printable. */
#define MAX_SHOWN_KID 64

static apr_status_t free_keys(void *data)
{
    oa2f_jwks_t *set = data;
    int i;

    for (i = 0; i < set->keys->nelts; i++) {
        oa2f_jwk_t *k = &APR_ARRAY_IDX(set->keys, i, oa2f_jwk_t);
        oa2f_jose_ready_free(&k->ready);
        EVP_PKEY_free(k->pkey);
        k->pkey = NULL;
    }
    return APR_SUCCESS;
}

/* The kid of a key entry that is not used, remembered when it is a
 * string without NUL. */
static void note_unusable(apr_pool_t *p, oa2f_jwks_t *set,
                          struct json_object *k)
{
    struct json_object *v;
    const char *kid;

    if (json_object_is_type(k, json_type_object)
        && json_object_object_get_ex(k, "kid", &v)
        && json_object_is_type(v, json_type_string)) {
        kid = json_object_get_string(v);
        if (strlen(kid) == (size_t)json_object_get_string_len(v)) {
            APR_ARRAY_PUSH(set->unusable_kids,
                           const char *) = apr_pstrdup(p, kid);
        }
    }
}

static int printable(const char *s)
{
    apr_size_t n = strlen(s);

    if (n == 0 || n > MAX_SHOWN_KID) {
        return 0;
    }
    for (; *s; s++) {
        if (*s < 0x21 || *s > 0x7e || *s == '"' || *s == '\\') {
            return 0;
        }
    }
    return 1;
}

/* Drop every key whose kid another key has too; their number, and *why
 * naming the (first) kid. */
static int drop_shared_kids(apr_pool_t *p, oa2f_jwks_t *set, const char **why)
{
    apr_array_header_t *keys = set->keys;
    char *gone = apr_pcalloc(p, (apr_size_t)keys->nelts + 1);
    int i, j, dropped = 0;
    const char *first = NULL;

    for (i = 0; i < keys->nelts; i++) {
        const oa2f_jwk_t *a = &APR_ARRAY_IDX(keys, i, oa2f_jwk_t);
        for (j = i + 1; a->kid && j < keys->nelts; j++) {
            const oa2f_jwk_t *b = &APR_ARRAY_IDX(keys, j, oa2f_jwk_t);
            if (b->kid && strcmp(a->kid, b->kid) == 0) {
                gone[i] = gone[j] = 1;
                if (!first) {
                    first = a->kid;
                }
            }
        }
    }
    for (i = 0, j = 0; i < keys->nelts; i++) {
        oa2f_jwk_t *k = &APR_ARRAY_IDX(keys, i, oa2f_jwk_t);
        if (gone[i]) {
            APR_ARRAY_PUSH(set->unusable_kids, const char *) = k->kid;
            oa2f_jose_ready_free(&k->ready);
            EVP_PKEY_free(k->pkey);
            k->pkey = NULL;
            dropped++;
        }
        else {
            APR_ARRAY_IDX(keys, j, oa2f_jwk_t) = *k;
            j++;
        }
    }
    keys->nelts = j;
    if (first) {
        *why = printable(first)
                   ? apr_psprintf(p,
                                  "the JWKS has several keys with kid "
                                  "\"%s\": they were dropped",
                                  first)
                   : "the JWKS has several keys with one kid: they were "
                     "dropped";
    }
    return dropped;
}

oa2f_jose_rc_e oa2f_jwks_parse(apr_pool_t *p, const char *json, apr_size_t len,
                               oa2f_jwks_t **out, int *skipped,
                               const char **why)
{
    struct json_object *obj, *keys;
    const char *ignored;
    oa2f_jwks_t *set;
    size_t i, n;
    int single_quote, skip = 0;
    oa2f_jose_rc_e rc = OA2F_JOSE_MALFORMED;

    *out = NULL;
    *why = NULL;
    if (skipped) {
        *skipped = 0;
    }
    if (!json || len > OA2F_JWKS_MAX_LEN) {
        *why = "the JWKS is too large";
        return OA2F_JOSE_MALFORMED;
    }
    if (!(obj = oa2f_json_parse_object(json, len, &ignored))) {
        *why = "the JWKS is not a JSON object";
        return OA2F_JOSE_MALFORMED;
    }
    /* json-c keeps the last of repeated members: two "keys" would let
     * two readers of one document see different keys */
    if (oa2f_json_top_members(json, len, &single_quote)
        != (apr_size_t)json_object_object_length(obj)) {
        *why = "the JWKS repeats a member";
        goto leave;
    }
    if (!json_object_object_get_ex(obj, "keys", &keys)
        || !json_object_is_type(keys, json_type_array)) {
        *why = "the JWKS has no keys array";
        goto leave;
    }
    n = json_object_array_length(keys);
    /* all or nothing: a document that leaks a private key is broken as
     * a whole (RFC 7517 §5 publishes public keys) */
    for (i = 0; i < n; i++) {
        struct json_object *k = json_object_array_get_idx(keys, i);
        if (json_object_is_type(k, json_type_object)
            && oa2f_jwk_is_private(k)) {
            *why = "the JWKS holds a private or secret key";
            goto leave;
        }
    }
    set = apr_palloc(p, sizeof(*set));
    set->keys = apr_array_make(p, n < MAX_KEYS ? (int)n + 1 : MAX_KEYS,
                               sizeof(oa2f_jwk_t));
    apr_pool_cleanup_register(p, set, free_keys, apr_pool_cleanup_null);
    set->unusable_kids = apr_array_make(p, 2, sizeof(const char *));
    for (i = 0; i < n; i++) {
        struct json_object *entry = json_object_array_get_idx(keys, i);
        oa2f_jwk_t k;
        if (i >= MAX_KEYS || !oa2f_jwk_import(p, entry, &k, &ignored)) {
            note_unusable(p, set, entry);
            skip++;
            continue;
        }
        APR_ARRAY_PUSH(set->keys, oa2f_jwk_t) = k;
    }
    skip += drop_shared_kids(p, set, why);
    if (skipped) {
        *skipped = skip;
    }
    *out = set;
    rc = OA2F_JOSE_OK;
leave:
    json_object_put(obj);
    return rc;
}

int oa2f_jwks_count(const oa2f_jwks_t *set)
{
    return set ? set->keys->nelts : 0;
}
