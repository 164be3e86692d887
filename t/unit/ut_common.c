/* Builders shared by several unit-test files (ut_common.h). */
#include <string.h>
#include <json-c/json.h>
#include <apr_strings.h>

#include "unit.h"
#include "ut_common.h"
#include "oa2f_dialect.h"

oa2f_provider_t *ut_base_provider(void)
{
    oa2f_provider_t *p = apr_pcalloc(ut_pool, sizeof(*p));

    p->dialect = oa2f_dialect_find("introspection");
    p->endpoint = "https://as.example.com/introspect";
    p->client_id = "rs";
    p->client_secret = "secret";
    p->auth = OA2F_AUTH_BASIC;
    p->ssl_verify = 1;
    return p;
}

oa2f_claims_t *ut_claims_of_json(const char *json)
{
    const char *why = NULL;
    struct json_object *o = oa2f_json_parse_object(json, strlen(json), &why);
    oa2f_claims_t *c = oa2f_claims_make(ut_pool);

    ck_assert_msg(o != NULL, "not JSON: %s", json);
    oa2f_claims_take_members(ut_pool, c, o, NULL);
    json_object_put(o);
    c->raw = apr_pstrdup(ut_pool, json);
    c->raw_len = strlen(json);
    return c;
}

/* The value of a hex digit; -1 for another character. */
static int hexval(int c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    return -1;
}

const char *ut_form_decode(const char *s, apr_size_t len)
{
    char *out = apr_palloc(ut_pool, len + 1);
    apr_size_t i, o = 0;

    for (i = 0; i < len; i++) {
        if (s[i] == '+') {
            out[o++] = ' ';
        }
        else if (s[i] == '%') {
            if (i + 2 >= len) {
                return NULL;
            }
            if (hexval(s[i + 1]) < 0 || hexval(s[i + 2]) < 0) {
                return NULL;
            }
            out[o++] = (char)(hexval(s[i + 1]) * 16 + hexval(s[i + 2]));
            i += 2;
        }
        else {
            out[o++] = s[i];
        }
    }
    out[o] = '\0';
    return out;
}

const char *ut_hex(const unsigned char *b, apr_size_t n)
{
    char *s = apr_palloc(ut_pool, 2 * n + 1);
    apr_size_t i;

    for (i = 0; i < n; i++) {
        apr_snprintf(s + 2 * i, 3, "%02x", b[i]);
    }
    s[2 * n] = '\0';
    return s;
}
