#include <string.h>
#include <apr_strings.h>
#include <json-c/json.h>

#include "oa2f_audience.h"

/* A field's value does not say whether the provider sent a string: the
 * number 5 and the string "5" are both rendered "5", an object as its
 * JSON text (oa2f_claims.h). Only a value that could be such a
 * rendering is looked up again in the raw answer, so that the usual
 * URI audience costs nothing more. */
static int may_be_non_string(const char *s)
{
    return (*s >= '0' && *s <= '9') || *s == '-' || *s == '{' || *s == '['
           || !strcmp(s, "true") || !strcmp(s, "false") || !strcmp(s, "null");
}

static int listed(const apr_array_header_t *list, const char *s)
{
    int i;

    for (i = 0; i < list->nelts; i++) {
        if (!strcmp(APR_ARRAY_IDX(list, i, const char *), s)) {
            return 1;
        }
    }
    return 0;
}

/* 1 when json string v (without a NUL inside) is in list. */
static int string_listed(const apr_array_header_t *list, struct json_object *v)
{
    const char *s;

    if (!json_object_is_type(v, json_type_string)) {
        return 0;
    }
    s = json_object_get_string(v);
    return strlen(s) == (size_t)json_object_get_string_len(v)
           && listed(list, s);
}

/* The slow, exact answer from the raw JSON: 1 when member `name` is a
 * listed string, or (arrays allowed) an array with a listed string
 * element. Fails closed when the raw answer is not at hand. */
static int raw_member_listed(const oa2f_claims_t *c, const char *name,
                             const apr_array_header_t *list, int arrays)
{
    const char *perr = NULL;
    struct json_object *obj, *v;
    int ok = 0;

    if (!c->raw
        || !(obj = oa2f_json_parse_object(c->raw, c->raw_len, &perr))) {
        return 0;
    }
    if (json_object_object_get_ex(obj, name, &v)) {
        if (arrays && json_object_is_type(v, json_type_array)) {
            size_t i, n = json_object_array_length(v);
            for (i = 0; i < n && !ok; i++) {
                ok = string_listed(list, json_object_array_get_idx(v, i));
            }
        }
        else {
            ok = string_listed(list, v);
        }
    }
    json_object_put(obj);
    return ok;
}

oa2f_outcome_e oa2f_audience_check(apr_pool_t *p, const oa2f_claims_t *c,
                                   const apr_array_header_t *audiences,
                                   const char **why)
{
    const oa2f_field_t *f;
    int i;

    (void)p;
    if (!audiences || !audiences->nelts) {
        return OA2F_OK;
    }
    if (!(f = oa2f_claims_get(c, "aud"))) {
        *why = "the answer has no audience (aud)";
        return OA2F_WRONG_AUDIENCE;
    }
    /* RFC 7519 §4.1.3: a string or an array of strings; a string with a
     * NUL inside (value_len says so) never matches the part before it */
    if (f->items) {
        /* an array rendered as its JSON text has an element that is not
         * a plain string (a number, an object, a nested array, a NUL
         * inside): its items do not say which are strings */
        int all_strings = f->value[0] != '[';
        for (i = 0; i < f->items->nelts; i++) {
            const char *a = APR_ARRAY_IDX(f->items, i, const char *);
            if (listed(audiences, a)) {
                if (all_strings || raw_member_listed(c, "aud", audiences, 1)) {
                    return OA2F_OK;
                }
                break;
            }
        }
    }
    else if (strlen(f->value) == f->value_len && listed(audiences, f->value)
             && (!may_be_non_string(f->value)
                 || raw_member_listed(c, "aud", audiences, 0))) {
        return OA2F_OK;
    }
    *why = "the token's audience (aud) does not name this resource";
    return OA2F_WRONG_AUDIENCE;
}

oa2f_outcome_e oa2f_issuer_check(apr_pool_t *p, const oa2f_claims_t *c,
                                 const apr_array_header_t *issuers,
                                 const char **why)
{
    const oa2f_field_t *f;

    (void)p;
    if (!issuers || !issuers->nelts) {
        return OA2F_OK;
    }
    if (!(f = oa2f_claims_get(c, "iss"))) {
        *why = "the answer has no issuer (iss)";
        return OA2F_WRONG_ISSUER;
    }
    if (!f->items && strlen(f->value) == f->value_len
        && listed(issuers, f->value)
        && (!may_be_non_string(f->value)
            || raw_member_listed(c, "iss", issuers, 0))) {
        return OA2F_OK;
    }
    *why = "the token's issuer (iss) is not a trusted one";
    return OA2F_WRONG_ISSUER;
}

oa2f_outcome_e oa2f_issuer_check_discovered(apr_pool_t *p,
                                            const oa2f_claims_t *c,
                                            const char *issuer,
                                            const char **why)
{
    apr_array_header_t *one;

    if (!issuer || !oa2f_claims_get(c, "iss")) {
        return OA2F_OK;
    }
    one = apr_array_make(p, 1, sizeof(const char *));
    APR_ARRAY_PUSH(one, const char *) = issuer;
    return oa2f_issuer_check(p, c, one, why);
}
