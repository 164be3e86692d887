/* A JWT access token's claims (RFC 7519 §4.1, RFC 9068 §2.2, §4) into
 * the claims an introspection answer gives; see oa2f_jwt_claims in
 * oa2f_jose.h. */
#include <string.h>
#include <strings.h>
#include <json-c/json.h>
#include <apr_strings.h>
#include <apr_time.h>

#include "oa2f_jose.h"

/* 9999-12-31T23:59:59Z, as oa2f_json_seconds caps */
#define MAX_EPOCH 253402300799LL

/* "application/" may be left out of a media type without another '/'
 * (RFC 7515 §4.1.9); compared without case (RFC 2045 §5.1). */
static const char *media_subtype(const char *t)
{
    if (strncasecmp(t, "application/", 12) == 0 && !strchr(t + 12, '/')) {
        return t + 12;
    }
    return t;
}

static int typ_accepted(const char *typ, const apr_array_header_t *types)
{
    int i;

    if (!types || types->nelts == 0) {
        return 1;
    }
    if (!typ) {
        return 0;
    }
    for (i = 0; i < types->nelts; i++) {
        const char *t = APR_ARRAY_IDX(types, i, const char *);
        if (t && strcasecmp(media_subtype(typ), media_subtype(t)) == 0) {
            return 1;
        }
    }
    return 0;
}

/* A NumericDate member that must be an integer (RFC 7519 §2 allows
 * fractions; an access token has no use for them, and a string or a
 * float is a sign of a token not made for us): 1 and *out, 0 absent,
 * -1 something else. */
static int int_member(struct json_object *o, const char *name, long long *out)
{
    struct json_object *v;
    int64_t n;

    if (!json_object_object_get_ex(o, name, &v) || !v) {
        return 0;
    }
    if (!json_object_is_type(v, json_type_int)) {
        return -1;
    }
    n = json_object_get_int64(v);
    *out = n > MAX_EPOCH ? MAX_EPOCH : n < -1 ? -1 : (long long)n;
    return 1;
}

/* The checks on the payload's members (see oa2f_jwt_claims). */
static oa2f_jose_rc_e check_times(struct json_object *obj, long long now,
                                  int leeway, long long *exp, const char **why)
{
    long long t = 0;

    /* RFC 9068 §2.2: exp is required; §4: reject when expired */
    if (int_member(obj, "exp", exp) != 1) {
        *why = "the JWT has no integer exp";
        return OA2F_JOSE_BAD_CLAIMS;
    }
    if (now >= *exp + leeway) {
        *why = "the JWT has expired";
        return OA2F_JOSE_BAD_CLAIMS;
    }
    /* RFC 7519 §4.1.5, §4.1.6 */
    switch (int_member(obj, "nbf", &t)) {
    case -1:
        *why = "the JWT nbf is not an integer";
        return OA2F_JOSE_BAD_CLAIMS;
    case 1:
        if (t > now + leeway) {
            *why = "the JWT is not valid yet (nbf)";
            return OA2F_JOSE_BAD_CLAIMS;
        }
        break;
    default:
        break;
    }
    switch (int_member(obj, "iat", &t)) {
    case -1:
        *why = "the JWT iat is not an integer";
        return OA2F_JOSE_BAD_CLAIMS;
    case 1:
        if (t > now + leeway) {
            *why = "the JWT was issued in the future (iat)";
            return OA2F_JOSE_BAD_CLAIMS;
        }
        break;
    default:
        break;
    }
    return OA2F_JOSE_OK;
}

/* RFC 9068 §2.2: iss is required; a string without NUL (the issuer
 * check compares it as a C string). */
static int has_iss(struct json_object *obj)
{
    struct json_object *iss;

    return json_object_object_get_ex(obj, "iss", &iss)
           && json_object_is_type(iss, json_type_string)
           && json_object_get_string_len(iss) > 0
           && strlen(json_object_get_string(iss))
                  == (size_t)json_object_get_string_len(iss);
}

oa2f_jose_rc_e oa2f_jwt_claims(apr_pool_t *p, const oa2f_jws_t *jws,
                               const oa2f_jwt_rules_t *rules,
                               oa2f_claims_t **out, const char **why)
{
    static const char *const skip_none[] = { NULL };
    struct json_object *obj;
    const char *ignored;
    long long now, exp = 0;
    int leeway, repeated = 0;
    oa2f_jose_rc_e rc = OA2F_JOSE_BAD_CLAIMS;
    oa2f_claims_t *c;

    *out = NULL;
    *why = NULL;
    now = rules ? rules->now : (long long)apr_time_sec(apr_time_now());
    leeway = rules && rules->leeway > 0 ? rules->leeway : 0;
    if (!typ_accepted(jws->typ, rules ? rules->types : NULL)) {
        *why = "the JWT typ is not an accepted one";
        return OA2F_JOSE_BAD_CLAIMS;
    }
    obj = jws->body ? json_object_get(jws->body)
                    : oa2f_json_parse_unique(jws->payload, jws->payload_len,
                                             &ignored, &repeated);
    if (!obj) {
        *why = repeated ? "the JWT repeats a claim"
                        : "the JWT payload is not a JSON object";
        return OA2F_JOSE_BAD_CLAIMS;
    }
    if ((rc = check_times(obj, now, leeway, &exp, why)) != OA2F_JOSE_OK) {
        goto leave;
    }
    if (!has_iss(obj)) {
        *why = "the JWT has no iss string";
        rc = OA2F_JOSE_BAD_CLAIMS;
        goto leave;
    }
    c = oa2f_claims_make(p);
    c->active = 1;
    c->expires_at = exp;
    c->raw = jws->payload;
    c->raw_len = jws->payload_len;
    /* everything is copied into p: obj can go */
    oa2f_claims_take_members(p, c, obj, skip_none);
    oa2f_claims_take_scp(p, c, obj);
    *out = c;
leave:
    json_object_put(obj);
    return rc;
}
