#ifndef _GNU_SOURCE
#define _GNU_SOURCE /* memmem */
#endif
#include <string.h>
#include <apr_strings.h>
#include <json-c/json.h>

#include "oa2f_scrub.h"

#define MASK "[token removed]"

static const char *find(const char *hay, apr_size_t len, const char *needle,
                        apr_size_t nlen)
{
    return nlen && len >= nlen ? memmem(hay, len, needle, nlen) : NULL;
}

static int is_token(struct json_object *v, const char *token, apr_size_t tlen)
{
    return json_object_is_type(v, json_type_string)
           && (apr_size_t)json_object_get_string_len(v) == tlen
           && memcmp(json_object_get_string(v), token, tlen) == 0;
}

/* Remove, depth first, every member and element that is the token. */
static int drop_in(struct json_object *v, const char *token, apr_size_t tlen)
{
    int n = 0;

    if (json_object_is_type(v, json_type_object)) {
        struct json_object_iterator it = json_object_iter_begin(v);
        struct json_object_iterator end = json_object_iter_end(v);
        const char *doomed[64];
        int nd = 0, i;

        while (!json_object_iter_equal(&it, &end)) {
            struct json_object *m = json_object_iter_peek_value(&it);
            if (is_token(m, token, tlen) && nd < 64) {
                doomed[nd++] = json_object_iter_peek_name(&it);
            }
            else {
                n += drop_in(m, token, tlen);
            }
            json_object_iter_next(&it);
        }
        for (i = 0; i < nd; i++) {
            json_object_object_del(v, doomed[i]);
        }
        n += nd;
    }
    else if (json_object_is_type(v, json_type_array)) {
        size_t i = json_object_array_length(v);
        while (i-- > 0) {
            struct json_object *e = json_object_array_get_idx(v, i);
            if (is_token(e, token, tlen)) {
                json_object_array_del_idx(v, i, 1);
                n++;
            }
            else {
                n += drop_in(e, token, tlen);
            }
        }
    }
    return n;
}

/* Every remaining occurrence of the token in s becomes MASK. */
static const char *mask_all(apr_pool_t *p, const char *s, apr_size_t len,
                            const char *token, apr_size_t tlen,
                            apr_size_t *out_len)
{
    apr_size_t cap = len + 1, used = 0;
    const char *hit, *rest = s;
    char *out;

    for (hit = s; (hit = find(hit, len - (apr_size_t)(hit - s), token, tlen));
         hit += tlen) {
        cap += sizeof(MASK);
    }
    out = apr_palloc(p, cap);
    while ((hit = find(rest, len - (apr_size_t)(rest - s), token, tlen))) {
        memcpy(out + used, rest, (apr_size_t)(hit - rest));
        used += (apr_size_t)(hit - rest);
        memcpy(out + used, MASK, sizeof(MASK) - 1);
        used += sizeof(MASK) - 1;
        rest = hit + tlen;
    }
    memcpy(out + used, rest, len - (apr_size_t)(rest - s));
    used += len - (apr_size_t)(rest - s);
    out[used] = '\0';
    *out_len = used;
    return out;
}

static int field_is_token(const oa2f_field_t *f, const char *token,
                          apr_size_t tlen)
{
    int j;

    if (f->value_len == tlen && memcmp(f->value, token, tlen) == 0) {
        return 1;
    }
    for (j = 0; f->items && j < f->items->nelts; j++) {
        if (!strcmp(APR_ARRAY_IDX(f->items, j, const char *), token)) {
            return 1;
        }
    }
    return 0;
}

int oa2f_claims_drop_token(apr_pool_t *p, oa2f_claims_t *c, const char *token)
{
    apr_size_t tlen = token ? strlen(token) : 0;
    const char *escaped;
    int i, kept = 0, n = 0;

    if (!tlen) {
        return 0;
    }
    for (i = 0; i < c->fields->nelts; i++) {
        oa2f_field_t *f = &APR_ARRAY_IDX(c->fields, i, oa2f_field_t);
        if (field_is_token(f, token, tlen)) {
            n++;
            continue;
        }
        if (kept != i) {
            APR_ARRAY_IDX(c->fields, kept, oa2f_field_t) = *f;
        }
        kept++;
    }
    c->fields->nelts = kept;

    /* JSON may spell '/' as "\/": look for that form too. */
    escaped = NULL;
    if (strchr(token, '/')) {
        const char *s;
        char *e = apr_palloc(p, 2 * tlen + 1), *o = e;
        for (s = token; *s; s++) {
            if (*s == '/') {
                *o++ = '\\';
            }
            *o++ = *s;
        }
        *o = '\0';
        escaped = e;
    }
    if (c->raw && c->raw_len
        && (n || find(c->raw, c->raw_len, token, tlen)
            || (escaped
                && find(c->raw, c->raw_len, escaped, strlen(escaped))))) {
        const char *why = NULL;
        struct json_object *obj = oa2f_json_parse_object(c->raw, c->raw_len,
                                                         &why);
        if (obj) {
            size_t len = 0;
            const char *s;
            n += drop_in(obj, token, tlen);
            s = json_object_to_json_string_length(
                obj, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE,
                &len);
            c->raw = apr_pstrmemdup(p, s, len);
            c->raw_len = len;
            json_object_put(obj);
        }
        if (find(c->raw, c->raw_len, token, tlen)) {
            c->raw = mask_all(p, c->raw, c->raw_len, token, tlen, &c->raw_len);
            n++;
        }
        if (escaped && find(c->raw, c->raw_len, escaped, strlen(escaped))) {
            c->raw = mask_all(p, c->raw, c->raw_len, escaped, strlen(escaped),
                              &c->raw_len);
            n++;
        }
    }
    return n;
}
