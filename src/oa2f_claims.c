/* Provider answers (json-c) into one normalised oa2f_claims_t. */
#include <locale.h>
#include <math.h>
#include <pthread.h>
#include <string.h>
#include <json-c/json.h>
#include <apr_strings.h>

#include "oa2f_claims.h"
#include "oa2f_sanitize.h"
#include "oa2f_scope.h"

/* Deeper nesting than this is a hostile or broken answer. */
#define OA2F_JSON_MAX_DEPTH 32
/* More fields than this are not turned into headers (answers are capped
 * at 1 MiB, but a flood of tiny members must not cost quadratic time). */
#define OA2F_MAX_FIELDS 256
/* 9999-12-31T23:59:59Z */
#define OA2F_MAX_EPOCH 253402300799LL

oa2f_claims_t *oa2f_claims_make(apr_pool_t *p)
{
    oa2f_claims_t *c = apr_pcalloc(p, sizeof(*c));

    c->scopes = apr_array_make(p, 4, sizeof(const char *));
    c->fields = apr_array_make(p, 16, sizeof(oa2f_field_t));
    c->raw = "";
    return c;
}

oa2f_field_t *oa2f_claims_add(apr_pool_t *p, oa2f_claims_t *c,
                              const char *name, const char *value,
                              apr_size_t value_len)
{
    oa2f_field_t *f = apr_array_push(c->fields);

    f->name = apr_pstrdup(p, name);
    f->value = value ? apr_pstrmemdup(p, value, value_len) : NULL;
    f->value_len = value_len;
    f->items = NULL;
    f->shown = NULL;
    f->env_suffix = NULL;
    f->is_token = 0;
    return f;
}

/* value[0..len) without control characters; the same pointer when it has
 * none, which is the common case. */
static const char *shown_value(apr_pool_t *p, const char *value,
                               apr_size_t len)
{
    apr_size_t i;

    for (i = 0; i < len; i++) {
        unsigned char ch = (unsigned char)value[i];
        if (ch < 0x20 || ch == 0x7f) {
            return oa2f_clean_value(p, value, len);
        }
    }
    return value;
}

void oa2f_claims_prepare(apr_pool_t *p, oa2f_claims_t *c)
{
    int i;

    for (i = 0; i < c->fields->nelts; i++) {
        oa2f_field_t *f = &APR_ARRAY_IDX(c->fields, i, oa2f_field_t);
        if (!f->shown) {
            f->shown = shown_value(p, f->value, f->value_len);
        }
        if (!f->env_suffix) {
            f->env_suffix = oa2f_env_name(p, "", f->name);
            f->is_token = oa2f_is_http_token(f->name);
        }
    }
    if (!c->shown_raw) {
        c->shown_raw = shown_value(p, c->raw ? c->raw : "", c->raw_len);
    }
}

const oa2f_field_t *oa2f_claims_get(const oa2f_claims_t *c, const char *name)
{
    int i;

    for (i = 0; i < c->fields->nelts; i++) {
        const oa2f_field_t *f = &APR_ARRAY_IDX(c->fields, i, oa2f_field_t);
        if (strcmp(f->name, name) == 0) {
            return f;
        }
    }
    return NULL;
}

int oa2f_claims_field_matches(const oa2f_claims_t *c, const char *name,
                              const char *value)
{
    const oa2f_field_t *f = oa2f_claims_get(c, name);
    int i;

    if (!f) {
        return 0;
    }
    if (f->items) {
        for (i = 0; i < f->items->nelts; i++) {
            if (strcmp(APR_ARRAY_IDX(f->items, i, const char *), value) == 0) {
                return 1;
            }
        }
        return 0;
    }
    /* value_len guards against a NUL inside the provider's string. */
    return strlen(value) == f->value_len && strcmp(f->value, value) == 0;
}

/* One pass over JSON text, outside double-quoted strings: it counts the
 * members of the top-level object (json-c keeps only the last of
 * duplicate members, so the count tells duplicates apart) and notes a
 * single quote (json-c's strict mode still accepts 'single-quoted' member
 * names, which JSON does not have). */
apr_size_t oa2f_json_top_members(const char *s, apr_size_t len,
                                 int *single_quote)
{
    apr_size_t i, n = 0;
    int depth = 0, in_string = 0, expect_key = 0;

    *single_quote = 0;
    for (i = 0; i < len; i++) {
        char c = s[i];
        if (in_string) {
            if (c == '\\') {
                i++;
            }
            else if (c == '"') {
                in_string = 0;
            }
            continue;
        }
        switch (c) {
        case '"':
            in_string = 1;
            if (depth == 1 && expect_key) {
                n++;
                expect_key = 0;
            }
            break;
        case '\'':
            *single_quote = 1;
            break;
        case '{':
        case '[':
            depth++;
            expect_key = (depth == 1 && c == '{');
            break;
        case '}':
        case ']':
            depth--;
            break;
        case ',':
            expect_key = (depth == 1);
            break;
        default:
            break;
        }
    }
    return n;
}

/* The parse behind oa2f_json_parse_object; *members (when not NULL) the
 * top-level member count of the one scan that looks for single quotes. */
/* json-c puts the thread in a C numeric locale around each parse
 * (duplocale, newlocale, uselocale). Started from the global locale
 * that takes glibc's locale lock and allocates twice; started from the
 * C locale object it is neither, so each parse runs in it (numbers and
 * strings parse the same: JSON is locale-free, RFC 8259 §6). */
static locale_t c_locale;
static pthread_once_t c_locale_once = PTHREAD_ONCE_INIT;

static void make_c_locale(void)
{
    c_locale = newlocale(LC_ALL_MASK, "C", (locale_t)0);
}

static struct json_object *parse_in_c_locale(struct json_tokener *tok,
                                             const char *json, int len)
{
    struct json_object *obj;
    locale_t was = (locale_t)0;

    pthread_once(&c_locale_once, make_c_locale);
    if (c_locale) {
        was = uselocale(c_locale);
    }
    obj = json_tokener_parse_ex(tok, json, len);
    if (c_locale && was) {
        uselocale(was);
    }
    return obj;
}

static struct json_object *parse_object(const char *json, apr_size_t len,
                                        const char **why, apr_size_t *members)
{
    int single_quote;
    apr_size_t n;
    struct json_tokener *tok;
    struct json_object *obj;
    apr_size_t used;

    if (len == 0) {
        *why = "the answer is empty";
        return NULL;
    }
    if (len > (apr_size_t)INT32_MAX) {
        *why = "the answer is too large";
        return NULL;
    }
    tok = json_tokener_new_ex(OA2F_JSON_MAX_DEPTH);
    if (!tok) {
        *why = "out of memory";
        return NULL;
    }
    json_tokener_set_flags(tok, JSON_TOKENER_STRICT);
    obj = parse_in_c_locale(tok, json, (int)len);
    if (!obj) {
        enum json_tokener_error err = json_tokener_get_error(tok);
        *why = (err == json_tokener_continue) ? "the answer is truncated JSON"
               : (err == json_tokener_error_depth)
                   ? "the answer is nested too deeply"
                   : "the answer is not JSON";
        json_tokener_free(tok);
        return NULL;
    }
    used = json_tokener_get_parse_end(tok);
    json_tokener_free(tok);
    while (used < len && json[used] && strchr(" \t\r\n", json[used])) {
        used++;
    }
    if (used != len) {
        *why = "the answer has data after its JSON value";
        json_object_put(obj);
        return NULL;
    }
    n = oa2f_json_top_members(json, len, &single_quote);
    if (single_quote) {
        *why = "the answer is not JSON";
        json_object_put(obj);
        return NULL;
    }
    if (!json_object_is_type(obj, json_type_object)) {
        *why = "the answer is JSON but not an object";
        json_object_put(obj);
        return NULL;
    }
    if (members) {
        *members = n;
    }
    return obj;
}

struct json_object *oa2f_json_parse_object(const char *json, apr_size_t len,
                                           const char **why)
{
    return parse_object(json, len, why, NULL);
}

struct json_object *oa2f_json_parse_unique(const char *json, apr_size_t len,
                                           const char **why, int *repeated)
{
    apr_size_t n = 0;
    struct json_object *obj = parse_object(json, len, why, &n);

    *repeated = 0;
    if (obj && n != (apr_size_t)json_object_object_length(obj)) {
        *why = "the answer repeats a member";
        *repeated = 1;
        json_object_put(obj);
        obj = NULL;
    }
    return obj;
}

static const char *copy_json_text(apr_pool_t *p, struct json_object *v,
                                  apr_size_t *len)
{
    size_t n = 0;
    const char *s = json_object_to_json_string_length(
        v, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE, &n);

    *len = n;
    return apr_pstrmemdup(p, s ? s : "", n);
}

const char *oa2f_json_render(apr_pool_t *p, struct json_object *v,
                             apr_size_t *len, apr_array_header_t **items)
{
    *items = NULL;
    switch (json_object_get_type(v)) {
    case json_type_string:
        *len = (apr_size_t)json_object_get_string_len(v);
        return apr_pstrmemdup(p, json_object_get_string(v), *len);
    case json_type_array: {
        size_t i, n = json_object_array_length(v);
        int all_strings = 1;
        apr_array_header_t *arr = apr_array_make(p, (int)n + 1,
                                                 sizeof(const char *));
        for (i = 0; i < n; i++) {
            struct json_object *e = json_object_array_get_idx(v, i);
            apr_size_t elen;
            apr_array_header_t *sub;
            const char *item = e ? oa2f_json_render(p, e, &elen, &sub)
                                 : "null";
            if (!json_object_is_type(e, json_type_string)) {
                all_strings = 0;
            }
            else if (strlen(item) != elen) {
                /* a NUL inside: as JSON text, so that neither the joined
                 * value nor an item can pass for the part before it */
                all_strings = 0;
                item = copy_json_text(p, e, &elen);
            }
            APR_ARRAY_PUSH(arr, const char *) = item;
        }
        *items = arr;
        if (all_strings) {
            const char *joined = apr_array_pstrcat(p, arr, ' ');
            *len = strlen(joined);
            return joined;
        }
        return copy_json_text(p, v, len);
    }
    default:
        return copy_json_text(p, v, len);
    }
}

int oa2f_json_seconds(struct json_object *v, long long *out)
{
    double d;

    if (json_object_is_type(v, json_type_int)) {
        d = (double)json_object_get_int64(v);
    }
    else if (json_object_is_type(v, json_type_double)) {
        d = json_object_get_double(v);
        if (isnan(d)) {
            return 0;
        }
    }
    else {
        return 0;
    }
    if (d > 1e11) {
        d /= 1000.0; /* milliseconds */
    }
    if (d > (double)OA2F_MAX_EPOCH) {
        d = (double)OA2F_MAX_EPOCH;
    }
    if (d < -1) {
        d = -1;
    }
    *out = (long long)floor(d);
    return 1;
}

/* v's string, or NULL when v is not a string or holds a NUL: a scope or
 * client id cut short at a NUL would pass a Require line that the
 * provider never granted, so such values count as absent (fail closed). */
static const char *plain_string(struct json_object *v)
{
    const char *s;

    if (!v || !json_object_is_type(v, json_type_string)) {
        return NULL;
    }
    s = json_object_get_string(v);
    return strlen(s) == (size_t)json_object_get_string_len(v) ? s : NULL;
}

static int is_skipped(const char *name, const char *const *skip)
{
    for (; skip && *skip; skip++) {
        if (strcmp(name, *skip) == 0) {
            return 1;
        }
    }
    return 0;
}

/* Scopes from a string (space-separated) or an array of strings. */
static void take_scopes(apr_pool_t *p, oa2f_claims_t *c, struct json_object *v)
{
    const char *str = plain_string(v);

    if (str) {
        c->scopes = oa2f_scope_split(p, str);
    }
    else if (json_object_is_type(v, json_type_array)) {
        size_t i, n = json_object_array_length(v);
        for (i = 0; i < n; i++) {
            str = plain_string(json_object_array_get_idx(v, i));
            if (str) {
                apr_array_cat(c->scopes, oa2f_scope_split(p, str));
            }
        }
    }
}

void oa2f_claims_take_members(apr_pool_t *p, oa2f_claims_t *c,
                              struct json_object *obj, const char *const *skip)
{
    struct json_object_iterator it = json_object_iter_begin(obj);
    struct json_object_iterator end = json_object_iter_end(obj);

    for (; !json_object_iter_equal(&it, &end); json_object_iter_next(&it)) {
        const char *name = json_object_iter_peek_name(&it);
        struct json_object *v = json_object_iter_peek_value(&it);
        oa2f_field_t *f;
        apr_size_t len;
        apr_array_header_t *items;
        const char *value;

        /* null means absent (docs/providers.md, edge case 10) */
        if (!v || is_skipped(name, skip)) {
            continue;
        }
        if (strcmp(name, "scope") == 0) {
            take_scopes(p, c, v);
        }
        else if (strcmp(name, "client_id") == 0) {
            const char *str = plain_string(v);
            c->client_id = str ? apr_pstrdup(p, str) : NULL;
        }
        if (c->fields->nelts >= OA2F_MAX_FIELDS || oa2f_claims_get(c, name)) {
            continue;
        }
        value = oa2f_json_render(p, v, &len, &items);
        f = oa2f_claims_add(p, c, name, NULL, len);
        f->value = value; /* rendered in p already: no copy */
        f->items = items;
    }
}

void oa2f_claims_take_scp(apr_pool_t *p, oa2f_claims_t *c,
                          struct json_object *obj)
{
    struct json_object *v;

    /* scope, when present (even empty or not a string), decides */
    if ((json_object_object_get_ex(obj, "scope", &v) && v)
        || !json_object_object_get_ex(obj, "scp", &v) || !v) {
        return;
    }
    take_scopes(p, c, v);
}
