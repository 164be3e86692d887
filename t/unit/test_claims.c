/* oa2f_claims.c: provider answers into oa2f_claims_t (README "What the
 * backend receives", "Providers"; docs/providers.md §2.3, §2.4, §8 edge
 * cases 1-5, 10, 19, 20, 21). */
#include <locale.h>
#include <string.h>
#include <json-c/json.h>
#include <apr_strings.h>

#include "unit.h"
#include "oa2f_claims.h"

static apr_status_t put_json(void *obj)
{
    json_object_put(obj);
    return APR_SUCCESS;
}

/* Parse a JSON text of length len that must be an object; released with
 * the test's pool. */
static struct json_object *obj_n(const char *json, apr_size_t len)
{
    const char *why = NULL;
    struct json_object *o = oa2f_json_parse_object(json, len, &why);

    ck_assert_msg(o != NULL, "not parsed (%s): %s", why ? why : "?", json);
    apr_pool_cleanup_register(ut_pool, o, put_json, apr_pool_cleanup_null);
    return o;
}

static struct json_object *obj(const char *json)
{
    return obj_n(json, strlen(json));
}

/* Claims from the members of a JSON object, nothing skipped. */
static oa2f_claims_t *take(const char *json)
{
    oa2f_claims_t *c = oa2f_claims_make(ut_pool);

    oa2f_claims_take_members(ut_pool, c, obj(json), NULL);
    return c;
}

static const oa2f_field_t *field_at(const oa2f_claims_t *c, int i)
{
    ck_assert_int_lt(i, c->fields->nelts);
    return &APR_ARRAY_IDX(c->fields, i, oa2f_field_t);
}

/* Field `name` exists with value (a C string; value_len must match). */
static void want_field(const oa2f_claims_t *c, const char *name,
                       const char *value)
{
    const oa2f_field_t *f = oa2f_claims_get(c, name);

    ck_assert_msg(f != NULL, "field %s is missing", name);
    ck_assert_msg(strcmp(f->value, value) == 0,
                  "field %s is \"%s\", expected \"%s\"", name, f->value,
                  value);
    ck_assert_msg(f->value_len == strlen(value),
                  "field %s: value_len %d, expected %d", name,
                  (int)f->value_len, (int)strlen(value));
}

static const char *joined(apr_array_header_t *a)
{
    return a ? apr_array_pstrcat(ut_pool, a, '|') : "(null)";
}

/* ---- oa2f_json_parse_object ------------------------------------------- */

typedef struct {
    const char *name;
    const char *json;
    int ok;
} parse_case_t;

static const parse_case_t parse_cases[] = {
    { "object", "{\"active\":true}", 1 },
    { "empty object", "{}", 1 },
    { "whitespace around", " \t\r\n{\"a\":1}\r\n \t", 1 },
    { "nested", "{\"a\":{\"b\":[1,2,{\"c\":null}]}}", 1 },
    { "array", "[1,2]", 0 },
    { "array of objects", "[{\"a\":1}]", 0 },
    { "string", "\"active\"", 0 },
    { "number", "42", 0 },
    { "number and space", "42 ", 0 },
    { "true", "true", 0 },
    { "null", "null", 0 },
    { "truncated", "{\"active\":", 0 },
    { "truncated string", "{\"active\":\"tr", 0 },
    { "truncated object", "{\"active\":true", 0 },
    { "only an opening brace", "{", 0 },
    { "trailing garbage", "{\"active\":true}x", 0 },
    { "two objects", "{\"a\":1}{\"b\":2}", 0 },
    { "object then array", "{\"a\":1} []", 0 },
    { "trailing comma", "{\"a\":1,}", 0 },
    { "single quotes", "{'a':1}", 0 },
    { "single-quoted second name", "{\"x\":1,'active':true}", 0 },
    { "single-quoted value", "{\"a\":'x'}", 0 },
    { "quote inside a string", "{\"a\":\"it's\"}", 1 },
    { "quote inside a name", "{\"it's\":1}", 1 },
    { "quote after an escaped quote", "{\"a\":\"\\\"'\\\\\"}", 1 },
    { "bare word", "{\"a\":yes}", 0 },
    { "comment", "{\"a\":1 /* x */}", 0 },
    { "HTML", "<html><body>Login</body></html>", 0 },
    { "whitespace only", "   ", 0 },
    { "empty", "", 0 },
};

START_TEST(test_parse_object)
{
    const parse_case_t *tc = &parse_cases[_i];
    const char *why = NULL;
    struct json_object *o;

    o = oa2f_json_parse_object(tc->json, strlen(tc->json), &why);
    if (tc->ok) {
        ck_assert_msg(o != NULL, "%s: refused: %s", tc->name, why ? why : "?");
        ck_assert(json_object_is_type(o, json_type_object));
        json_object_put(o);
    }
    else {
        ck_assert_msg(o == NULL, "%s: accepted", tc->name);
        ck_assert_msg(why != NULL && *why, "%s: no reason", tc->name);
    }
}
END_TEST

/* len is what is parsed: a NUL inside it is data after the value, and
 * what follows len is never read. */
START_TEST(test_parse_object_len)
{
    static const char text[] = "{\"a\":1}\0{\"b\":2}";
    const char *why = NULL;
    struct json_object *o;

    ck_assert_ptr_null(oa2f_json_parse_object(text, 8, &why));
    ck_assert_ptr_nonnull(why);
    o = oa2f_json_parse_object("{\"a\":1}garbage", 7, &why);
    ck_assert_ptr_nonnull(o);
    json_object_put(o);
    ck_assert_ptr_null(oa2f_json_parse_object("{\"a\":1}", 6, &why));
}
END_TEST

/* A parse runs in the C locale and leaves the thread's locale as it
 * found it: the global one, or one the thread had chosen. */
START_TEST(test_parse_keeps_locale)
{
    const char *why = NULL;
    struct json_object *o;
    locale_t own = newlocale(LC_ALL_MASK, "C", (locale_t)0);
    locale_t before;

    ck_assert_ptr_nonnull(own);
    before = uselocale((locale_t)0);
    o = oa2f_json_parse_object("{\"exp\":1.5e3}", 13, &why);
    ck_assert_ptr_nonnull(o);
    json_object_put(o);
    ck_assert(uselocale((locale_t)0) == before);
    own = newlocale(LC_NUMERIC_MASK, "POSIX", own);
    ck_assert_ptr_nonnull(own);
    uselocale(own);
    o = oa2f_json_parse_object("{\"exp\":1.5e3}", 13, &why);
    ck_assert_ptr_nonnull(o);
    json_object_put(o);
    ck_assert(uselocale((locale_t)0) == own);
    uselocale(before);
    freelocale(own);
}
END_TEST

/* "{"a":" + depth-1 arrays; the whole text nests `depth` levels deep. */
static const char *nested(int depth)
{
    char *s = apr_palloc(ut_pool, 2 * (apr_size_t)depth + 8);
    char *p = s;
    int i;

    memcpy(p, "{\"a\":", 5);
    p += 5;
    for (i = 1; i < depth; i++) {
        *p++ = '[';
    }
    for (i = 1; i < depth; i++) {
        *p++ = ']';
    }
    *p++ = '}';
    *p = '\0';
    return s;
}

START_TEST(test_parse_object_depth)
{
    const char *why = NULL;
    const char *deep = nested(100);
    struct json_object *o;

    ck_assert_ptr_null(oa2f_json_parse_object(deep, strlen(deep), &why));
    ck_assert_ptr_nonnull(why);
    deep = nested(1000);
    ck_assert_ptr_null(oa2f_json_parse_object(deep, strlen(deep), &why));

    /* ordinary nesting is fine */
    deep = nested(10);
    o = oa2f_json_parse_object(deep, strlen(deep), &why);
    ck_assert_ptr_nonnull(o);
    json_object_put(o);
}
END_TEST

/* ---- oa2f_claims_take_members ----------------------------------------- */

START_TEST(test_take_order)
{
    oa2f_claims_t *c = take("{\"zeta\":\"1\",\"alpha\":\"2\",\"mid\":\"3\","
                            "\"sub\":\"jdoe\",\"aaa\":\"4\"}");

    ck_assert_int_eq(c->fields->nelts, 5);
    ck_assert_str_eq(field_at(c, 0)->name, "zeta");
    ck_assert_str_eq(field_at(c, 1)->name, "alpha");
    ck_assert_str_eq(field_at(c, 2)->name, "mid");
    ck_assert_str_eq(field_at(c, 3)->name, "sub");
    ck_assert_str_eq(field_at(c, 4)->name, "aaa");
    ck_assert_str_eq(field_at(c, 3)->value, "jdoe");
    ck_assert_ptr_null(field_at(c, 3)->items);
}
END_TEST

START_TEST(test_take_null_skipped)
{
    oa2f_claims_t *c = take("{\"jti\":null,\"username\":null,\"sub\":\"x\","
                            "\"scope\":null,\"client_id\":null}");

    ck_assert_int_eq(c->fields->nelts, 1);
    ck_assert_str_eq(field_at(c, 0)->name, "sub");
    ck_assert_ptr_null(oa2f_claims_get(c, "jti"));
    ck_assert_ptr_null(c->client_id);
    ck_assert_int_eq(c->scopes->nelts, 0);
}
END_TEST

START_TEST(test_take_skip_list)
{
    static const char *const skip[] = { "access_token", "grant_type", NULL };
    oa2f_claims_t *c = oa2f_claims_make(ut_pool);

    oa2f_claims_take_members(ut_pool, c,
                             obj("{\"access_token\":\"tok\",\"uid\":\"jdoe\","
                                 "\"grant_type\":\"x\"}"),
                             skip);
    ck_assert_int_eq(c->fields->nelts, 1);
    want_field(c, "uid", "jdoe");
    ck_assert_ptr_null(oa2f_claims_get(c, "access_token"));
}
END_TEST

START_TEST(test_take_scope_string)
{
    oa2f_claims_t *c = take("{\"scope\":\"  orders:read   orders:write \"}");

    ck_assert_str_eq(joined(c->scopes), "orders:read|orders:write");
    /* the field is the provider's text, as it is */
    want_field(c, "scope", "  orders:read   orders:write ");
}
END_TEST

START_TEST(test_take_scope_empty)
{
    oa2f_claims_t *c = take("{\"scope\":\"\"}");

    ck_assert_int_eq(c->scopes->nelts, 0);
    want_field(c, "scope", "");
}
END_TEST

START_TEST(test_take_scope_array)
{
    oa2f_claims_t *c = take("{\"scope\":[\"uid\",\"mail\"]}");
    const oa2f_field_t *f;

    ck_assert_str_eq(joined(c->scopes), "uid|mail");
    want_field(c, "scope", "uid mail");
    f = oa2f_claims_get(c, "scope");
    ck_assert_str_eq(joined(f->items), "uid|mail");

    /* non-strings and empty strings are no scopes */
    c = take("{\"scope\":[\"a\",1,\"\",null,true,\"b\"]}");
    ck_assert_str_eq(joined(c->scopes), "a|b");

    /* neither a string nor an array: no scope information */
    c = take("{\"scope\":42}");
    ck_assert_int_eq(c->scopes->nelts, 0);
    c = take("{\"scope\":{\"a\":\"b\"}}");
    ck_assert_int_eq(c->scopes->nelts, 0);
}
END_TEST

START_TEST(test_take_client_id)
{
    oa2f_claims_t *c = take("{\"client_id\":\"mobile-app-7\"}");

    ck_assert_str_eq(c->client_id, "mobile-app-7");
    want_field(c, "client_id", "mobile-app-7");

    /* only a string is a client id; the field is still handed on */
    c = take("{\"client_id\":42}");
    ck_assert_ptr_null(c->client_id);
    want_field(c, "client_id", "42");

    c = take("{\"sub\":\"x\"}");
    ck_assert_ptr_null(c->client_id);
}
END_TEST

START_TEST(test_take_string_array)
{
    oa2f_claims_t *c = take("{\"group\":[\"buyers\",\"emea\"],"
                            "\"aud\":[\"https://api.example.net/orders\"],"
                            "\"none\":[]}");
    const oa2f_field_t *f;

    want_field(c, "group", "buyers emea");
    f = oa2f_claims_get(c, "group");
    ck_assert_ptr_nonnull(f->items);
    ck_assert_int_eq(f->items->nelts, 2);
    ck_assert_str_eq(joined(f->items), "buyers|emea");

    want_field(c, "aud", "https://api.example.net/orders");
    ck_assert_int_eq(oa2f_claims_get(c, "aud")->items->nelts, 1);

    want_field(c, "none", "");
    ck_assert_int_eq(oa2f_claims_get(c, "none")->items->nelts, 0);
}
END_TEST

START_TEST(test_take_mixed_array)
{
    oa2f_claims_t *c = take("{\"mix\":[1,\"a\",true,null,{\"b\":\"x/y\"},"
                            "[2]]}");
    const oa2f_field_t *f = oa2f_claims_get(c, "mix");

    ck_assert_ptr_nonnull(f);
    want_field(c, "mix", "[1,\"a\",true,null,{\"b\":\"x/y\"},[2]]");
    ck_assert_ptr_nonnull(f->items);
    ck_assert_int_eq(f->items->nelts, 6);
    ck_assert_str_eq(joined(f->items), "1|a|true|null|{\"b\":\"x/y\"}|[2]");
}
END_TEST

START_TEST(test_take_object)
{
    oa2f_claims_t *c = take("{\"addr\": { \"city\" : \"Paris\",\n"
                            "  \"zip\": [75001, 75002], \"url\": \"a/b\" }}");
    const oa2f_field_t *f = oa2f_claims_get(c, "addr");

    want_field(c, "addr",
               "{\"city\":\"Paris\",\"zip\":[75001,75002],\"url\":\"a/b\"}");
    ck_assert_ptr_null(f->items);
}
END_TEST

START_TEST(test_take_scalars)
{
    oa2f_claims_t *c = take("{\"exp\":1767229200,\"neg\":-3,\"zero\":0,"
                            "\"half\":1.5,\"t\":true,\"f\":false,"
                            "\"s\":\"J\\u00fcrgen\",\"e\":\"\","
                            "\"url\":\"https:\\/\\/as.example.com\\/\"}");

    want_field(c, "exp", "1767229200");
    want_field(c, "neg", "-3");
    want_field(c, "zero", "0");
    want_field(c, "half", "1.5");
    want_field(c, "t", "true");
    want_field(c, "f", "false");
    want_field(c, "s", "J\xc3\xbcrgen");
    want_field(c, "e", "");
    want_field(c, "url", "https://as.example.com/");
    ck_assert_ptr_null(oa2f_claims_get(c, "t")->items);
}
END_TEST

/* A provider's "adm\u0000in" must not pass for "adm" or "admin". */
START_TEST(test_take_embedded_nul)
{
    oa2f_claims_t *c = take("{\"role\":\"adm\\u0000in\","
                            "\"groups\":[\"adm\\u0000in\",\"staff\"]}");
    const oa2f_field_t *f = oa2f_claims_get(c, "role");

    ck_assert_ptr_nonnull(f);
    ck_assert_uint_eq(f->value_len, 6);
    ck_assert_mem_eq(f->value, "adm\0in", 6);
    ck_assert_int_eq(oa2f_claims_field_matches(c, "role", "adm"), 0);
    ck_assert_int_eq(oa2f_claims_field_matches(c, "role", "admin"), 0);

    /* the same inside an array */
    ck_assert_int_eq(oa2f_claims_field_matches(c, "groups", "adm"), 0);
    ck_assert_int_eq(oa2f_claims_field_matches(c, "groups", "admin"), 0);
    ck_assert_int_eq(oa2f_claims_field_matches(c, "groups", "staff"), 1);
    /* and the value handed on does not end at the NUL either */
    f = oa2f_claims_get(c, "groups");
    ck_assert_uint_eq(f->value_len, strlen(f->value));
    ck_assert_str_eq(f->value, "[\"adm\\u0000in\",\"staff\"]");
}
END_TEST

START_TEST(test_take_first_wins)
{
    oa2f_claims_t *c = take("{\"a\":\"outer\"}");

    oa2f_claims_take_members(ut_pool, c, obj("{\"a\":\"inner\",\"b\":\"2\"}"),
                             NULL);
    ck_assert_int_eq(c->fields->nelts, 2);
    want_field(c, "a", "outer");
    want_field(c, "b", "2");
}
END_TEST

START_TEST(test_take_many_members)
{
    apr_array_header_t *parts = apr_array_make(ut_pool, 300,
                                               sizeof(const char *));
    oa2f_claims_t *c;
    int i;

    for (i = 0; i < 300; i++) {
        APR_ARRAY_PUSH(parts, const char *) = apr_psprintf(ut_pool,
                                                           "\"m%d\":%d", i, i);
    }
    c = take(apr_pstrcat(ut_pool, "{", apr_array_pstrcat(ut_pool, parts, ','),
                         ",\"client_id\":\"late\",\"scope\":\"s\"}", NULL));
    /* a cap on fields (302 members here), but scope and client_id are
     * still read */
    ck_assert_int_lt(c->fields->nelts, 302);
    ck_assert_int_ge(c->fields->nelts, 100);
    ck_assert_str_eq(field_at(c, 0)->name, "m0");
    ck_assert_str_eq(c->client_id, "late");
    ck_assert_str_eq(joined(c->scopes), "s");
}
END_TEST

/* ---- oa2f_claims_make / add / get / field_matches ---------------------- */

START_TEST(test_claims_add_get)
{
    oa2f_claims_t *c = oa2f_claims_make(ut_pool);
    char name[] = "user", value[] = "alice-and-more";
    const oa2f_field_t *f;

    ck_assert_int_eq(c->active, 0);
    ck_assert_int_eq((int)c->expires_at, 0);
    ck_assert_ptr_null(c->client_id);
    ck_assert_int_eq(c->scopes->nelts, 0);
    ck_assert_int_eq(c->fields->nelts, 0);
    ck_assert_ptr_null(oa2f_claims_get(c, "user"));

    oa2f_claims_add(ut_pool, c, name, value, 5);
    oa2f_claims_add(ut_pool, c, "user", "bob", 3);
    name[0] = 'X';
    value[0] = 'X';
    f = oa2f_claims_get(c, "user");
    ck_assert_ptr_nonnull(f);
    ck_assert_str_eq(f->value, "alice");
    ck_assert_uint_eq(f->value_len, 5);
    ck_assert_ptr_null(f->items);
    ck_assert_ptr_null(oa2f_claims_get(c, "User"));
}
END_TEST

typedef struct {
    const char *name;
    const char *value;
    int want;
} match_case_t;

static const match_case_t match_cases[] = {
    { "username", "jdoe", 1 },
    { "username", "JDOE", 0 },
    { "username", "jdo", 0 },
    { "username", "jdoe ", 0 },
    { "username", "", 0 },
    { "Username", "jdoe", 0 },
    { "missing", "jdoe", 0 },
    { "missing", "", 0 },
    { "empty", "", 1 },
    { "empty", "x", 0 },
    { "group", "buyers", 1 },
    { "group", "emea", 1 },
    { "group", "buyers emea", 0 },
    { "group", "buy", 0 },
    { "group", "BUYERS", 0 },
    { "group", "", 0 },
    { "n", "42", 1 },
    { "n", "4", 0 },
    { "b", "true", 1 },
    { "mix", "1", 1 },
    { "mix", "x", 1 },
    { "mix", "null", 1 },
    { "obj", "{\"k\":\"v\"}", 1 },
    { "obj", "v", 0 },
};

START_TEST(test_field_matches)
{
    const match_case_t *tc = &match_cases[_i];
    oa2f_claims_t *c = take("{\"username\":\"jdoe\",\"empty\":\"\","
                            "\"group\":[\"buyers\",\"emea\"],\"n\":42,"
                            "\"b\":true,\"mix\":[1,\"x\",null],"
                            "\"obj\":{\"k\":\"v\"}}");

    ck_assert_msg(oa2f_claims_field_matches(c, tc->name, tc->value)
                      == tc->want,
                  "field_matches(%s, \"%s\") should be %d", tc->name,
                  tc->value, tc->want);
}
END_TEST

/* ---- oa2f_json_seconds ------------------------------------------------ */

typedef struct {
    const char *json; /* the value of member "v"             */
    int ok;
    long long want;
} seconds_case_t;

static const seconds_case_t seconds_cases[] = {
    { "1767229200", 1, 1767229200LL },
    { "0", 1, 0 },
    { "3482", 1, 3482 },
    { "1767229200.9", 1, 1767229200LL },
    { "1767229200.0001", 1, 1767229200LL },
    { "1.767229200e9", 1, 1767229200LL },
    { "3482.99", 1, 3482 },
    /* above 10^11: milliseconds (Gluu) */
    { "1767229200000", 1, 1767229200LL },
    { "1767229200999", 1, 1767229200LL },
    { "1767229200999.5", 1, 1767229200LL },
    { "100000000000", 1, 100000000000LL },
    { "100000001000", 1, 100000001LL },
    /* clamped to the end of year 9999 (in seconds, that is already
     * above 10^11, so it is read as milliseconds) */
    { "253402300799", 1, 253402300LL },
    { "253402300799000", 1, 253402300799LL },
    { "999999999999999999", 1, 253402300799LL },
    { "9223372036854775807", 1, 253402300799LL },
    { "18446744073709551615", 1, 253402300799LL },
    { "1e300", 1, 253402300799LL },
    /* negative: clamped to -1, i.e. in the past */
    { "-1", 1, -1 },
    { "-5", 1, -1 },
    { "-0.5", 1, -1 },
    { "-1e300", 1, -1 },
    { "-9223372036854775808", 1, -1 },
    /* not numbers */
    { "\"1767229200\"", 0, 0 },
    { "\"3482\"", 0, 0 },
    { "true", 0, 0 },
    { "null", 0, 0 },
    { "[1767229200]", 0, 0 },
    { "{\"exp\":1}", 0, 0 },
};

START_TEST(test_json_seconds)
{
    const seconds_case_t *tc = &seconds_cases[_i];
    struct json_object *o, *v = NULL;
    long long out = 12345;

    o = obj(apr_pstrcat(ut_pool, "{\"v\":", tc->json, "}", NULL));
    ck_assert(json_object_object_get_ex(o, "v", &v));
    ck_assert_msg(oa2f_json_seconds(v, &out) == tc->ok,
                  "json_seconds(%s) should return %d", tc->json, tc->ok);
    if (tc->ok) {
        ck_assert_msg(out == tc->want, "json_seconds(%s) = %lld, not %lld",
                      tc->json, out, tc->want);
    }
    else {
        ck_assert_msg(out == 12345, "json_seconds(%s) wrote %lld", tc->json,
                      out);
    }
}
END_TEST

/* ---- oa2f_json_render ------------------------------------------------- */

START_TEST(test_json_render)
{
    struct json_object *o = obj("{\"s\":\"a b\",\"a\":[\"x\",\"y\"],"
                                "\"o\":{\"k\":[true,null]},\"n\":7}");
    struct json_object *v;
    apr_array_header_t *items = (apr_array_header_t *)1;
    apr_size_t len = 0;
    const char *r;

    ck_assert(json_object_object_get_ex(o, "s", &v));
    r = oa2f_json_render(ut_pool, v, &len, &items);
    ck_assert_str_eq(r, "a b");
    ck_assert_uint_eq(len, 3);
    ck_assert_ptr_null(items);

    ck_assert(json_object_object_get_ex(o, "a", &v));
    r = oa2f_json_render(ut_pool, v, &len, &items);
    ck_assert_str_eq(r, "x y");
    ck_assert_str_eq(joined(items), "x|y");

    ck_assert(json_object_object_get_ex(o, "o", &v));
    r = oa2f_json_render(ut_pool, v, &len, &items);
    ck_assert_str_eq(r, "{\"k\":[true,null]}");
    ck_assert_uint_eq(len, strlen(r));
    ck_assert_ptr_null(items);

    ck_assert(json_object_object_get_ex(o, "n", &v));
    r = oa2f_json_render(ut_pool, v, &len, &items);
    ck_assert_str_eq(r, "7");
    ck_assert_uint_eq(len, 1);
}
END_TEST

Suite *claims_suite(void)
{
    Suite *s = suite_create("claims");
    TCase *tc;

    tc = ut_tcase("parse");
    tcase_add_loop_test(tc, test_parse_object, 0, UT_N(parse_cases));
    tcase_add_test(tc, test_parse_object_len);
    tcase_add_test(tc, test_parse_object_depth);
    tcase_add_test(tc, test_parse_keeps_locale);
    suite_add_tcase(s, tc);

    tc = ut_tcase("members");
    tcase_add_test(tc, test_take_order);
    tcase_add_test(tc, test_take_null_skipped);
    tcase_add_test(tc, test_take_skip_list);
    tcase_add_test(tc, test_take_scope_string);
    tcase_add_test(tc, test_take_scope_empty);
    tcase_add_test(tc, test_take_scope_array);
    tcase_add_test(tc, test_take_client_id);
    tcase_add_test(tc, test_take_string_array);
    tcase_add_test(tc, test_take_mixed_array);
    tcase_add_test(tc, test_take_object);
    tcase_add_test(tc, test_take_scalars);
    tcase_add_test(tc, test_take_embedded_nul);
    tcase_add_test(tc, test_take_first_wins);
    tcase_add_test(tc, test_take_many_members);
    tcase_add_test(tc, test_json_render);
    suite_add_tcase(s, tc);

    tc = ut_tcase("fields");
    tcase_add_test(tc, test_claims_add_get);
    tcase_add_loop_test(tc, test_field_matches, 0, UT_N(match_cases));
    suite_add_tcase(s, tc);

    tc = ut_tcase("seconds");
    tcase_add_loop_test(tc, test_json_seconds, 0, UT_N(seconds_cases));
    suite_add_tcase(s, tc);
    return s;
}
