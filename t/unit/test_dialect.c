/* oa2f_dialect.c: the four validation dialects of README "Providers",
 * the request each one builds and how each reads an answer
 * (docs/providers.md §2.1, §2.3, §3, §4, §5, §6, §8). */
#include <string.h>
#include <apr_strings.h>
#include <apr_tables.h>

#include "unit.h"
#include "ut_common.h"
#include "oa2f_dialect.h"
#include "oa2f_verdict.h"

/* The time the (imaginary) request was sent: 2026-01-01T00:00:00Z. */
#define SENT 1767225600LL

/* A token with every character that changes meaning in a form or query. */
#define TOKEN "Zk9x2-hP_q.7Lm~a+b/c="

#define ID          "rs-gateway"
#define SECRET      "s3c:r+t /%"
#define SECRET_FORM "s3c%3Ar%2Bt+%2F%25"

#define PING_GRANT     "urn:pingidentity.com:oauth2:grant_type:validate_bearer"
#define PING_VALIDATED "urn:pingidentity.com:oauth2:validated_token"

/* ---- helpers ---------------------------------------------------------- */

static oa2f_provider_t *provider(const char *dialect, const char *endpoint,
                                 oa2f_client_auth_e auth, const char *id,
                                 const char *secret)
{
    oa2f_provider_t *p = apr_pcalloc(ut_pool, sizeof(*p));

    p->dialect = oa2f_dialect_find(dialect);
    ck_assert_msg(p->dialect != NULL, "no dialect %s", dialect);
    p->endpoint = endpoint;
    p->client_id = id;
    p->client_secret = secret;
    p->auth = auth;
    p->token_send = OA2F_TOKEN_SEND_QUERY;
    p->connect_timeout_ms = 2000;
    p->total_timeout_ms = 5000;
    p->ssl_verify = 1;
    p->max_answer = OA2F_MAX_ANSWER;
    oa2f_provider_finish(ut_pool, p);
    return p;
}

static oa2f_http_req_t *build(const oa2f_provider_t *p, const char *token)
{
    oa2f_http_req_t *req = apr_pcalloc(ut_pool, sizeof(*req));

    p->dialect->build(ut_pool, p, token, req);
    ck_assert_ptr_nonnull(req->method);
    ck_assert_ptr_nonnull(req->url);
    ck_assert_ptr_nonnull(req->headers);
    return req;
}

/* How many header lines are called `name` (case-insensitive); *value
 * gets the value of the last one, after ": ". */
static int header_count(const oa2f_http_req_t *req, const char *name,
                        const char **value)
{
    apr_size_t nlen = strlen(name);
    int i, n = 0;

    for (i = 0; i < req->headers->nelts; i++) {
        const char *h = APR_ARRAY_IDX(req->headers, i, const char *);
        if (strncasecmp(h, name, nlen) == 0 && h[nlen] == ':') {
            n++;
            if (value) {
                *value = h + nlen + 1;
                while (**value == ' ') {
                    (*value)++;
                }
            }
        }
    }
    return n;
}

/* The parameters of a form body or query string: decoded name → decoded
 * value (apr_table_t keeps repeats), and, for each name, the raw value
 * under "raw:" + name. */
static apr_table_t *form_params(const char *s)
{
    apr_table_t *t = apr_table_make(ut_pool, 8);

    while (s && *s) {
        const char *end = strchr(s, '&');
        apr_size_t plen = end ? (apr_size_t)(end - s) : strlen(s);
        const char *eq = memchr(s, '=', plen);
        const char *name, *value;

        ck_assert_msg(eq != NULL, "parameter without '=': %s", s);
        name = ut_form_decode(s, (apr_size_t)(eq - s));
        value = ut_form_decode(eq + 1, plen - (apr_size_t)(eq - s) - 1);
        ck_assert_msg(name && value, "broken %%-escape in %s", s);
        apr_table_add(t, name, value);
        apr_table_add(
            t, apr_pstrcat(ut_pool, "raw:", name, NULL),
            apr_pstrmemdup(ut_pool, eq + 1, plen - (apr_size_t)(eq - s) - 1));
        s = end ? end + 1 : NULL;
    }
    return t;
}

static int param_count(apr_table_t *t, const char *name)
{
    const apr_array_header_t *a = apr_table_elts(t);
    const apr_table_entry_t *e = (const apr_table_entry_t *)a->elts;
    int i, n = 0;

    for (i = 0; i < a->nelts; i++) {
        if (strcmp(e[i].key, name) == 0) {
            n++;
        }
    }
    return n;
}

/* Exactly one parameter `name`, equal to `value` once decoded; its raw
 * form has none of + / = left bare. */
static void want_param(apr_table_t *t, const char *name, const char *value)
{
    const char *raw = apr_table_get(t,
                                    apr_pstrcat(ut_pool, "raw:", name, NULL));

    ck_assert_msg(param_count(t, name) == 1, "parameter %s: %d times", name,
                  param_count(t, name));
    ck_assert_str_eq(apr_table_get(t, name), value);
    if (strchr(value, ' ') == NULL) {
        ck_assert_msg(strpbrk(raw, "+/=&") == NULL,
                      "parameter %s is not encoded: %s", name, raw);
    }
}

/* The query of a URL, or NULL. */
static const char *query_of(const char *url)
{
    const char *q = strchr(url, '?');

    return q ? q + 1 : NULL;
}

static const unsigned char *b64_decode(const char *s, apr_size_t *outlen)
{
    static const char alphabet[] =
        "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    apr_size_t len = strlen(s), i, o = 0;
    unsigned char *out = apr_palloc(ut_pool, len + 1);
    unsigned long acc = 0;
    int bits = 0;

    ck_assert_msg(len % 4 == 0, "base64 of length %d", (int)len);
    for (i = 0; i < len && s[i] != '='; i++) {
        const char *pos = strchr(alphabet, s[i]);
        ck_assert_msg(pos != NULL && s[i], "not base64: %s", s);
        acc = (acc << 6) | (unsigned long)(pos - alphabet);
        bits += 6;
        if (bits >= 8) {
            bits -= 8;
            out[o++] = (unsigned char)((acc >> bits) & 0xff);
        }
    }
    for (; i < len; i++) {
        ck_assert_msg(s[i] == '=', "'=' inside base64: %s", s);
    }
    out[o] = '\0';
    *outlen = o;
    return out;
}

/* The decoded "user:password" of an "Authorization: Basic" header. */
static const char *basic_pair(const oa2f_http_req_t *req)
{
    const char *v = NULL;
    apr_size_t n;

    ck_assert_int_eq(header_count(req, "Authorization", &v), 1);
    ck_assert_msg(strncmp(v, "Basic ", 6) == 0, "not Basic: %s", v);
    return (const char *)b64_decode(v + 6, &n);
}

static void want_common(const oa2f_http_req_t *req, const char *method)
{
    const char *accept = NULL;

    ck_assert_str_eq(req->method, method);
    ck_assert_int_eq(header_count(req, "Accept", &accept), 1);
    ck_assert_str_eq(accept, "application/json");
    if (strcmp(method, "GET") == 0) {
        ck_assert_ptr_null(req->body);
    }
    else {
        ck_assert_ptr_nonnull(req->body);
    }
}

/* Nothing of the secret anywhere in the URL. */
static void no_secret_in_url(const oa2f_http_req_t *req)
{
    ck_assert_ptr_null(strstr(req->url, "client_secret"));
    ck_assert_ptr_null(strstr(req->url, "s3c"));
}

/* ---- dialect table ---------------------------------------------------- */

START_TEST(test_dialect_find)
{
    static const char *const names[] = { "introspection", "pingfederate",
                                         "openam", "mule" };
    int i;

    for (i = 0; i < UT_N(names); i++) {
        const oa2f_dialect_t *d = oa2f_dialect_find(names[i]);
        ck_assert_ptr_nonnull(d);
        ck_assert_str_eq(d->name, names[i]);
        ck_assert_ptr_nonnull(d->build);
        ck_assert_ptr_nonnull(d->interpret);
        ck_assert_ptr_nonnull(strstr(oa2f_dialect_names(), names[i]));
    }
    ck_assert_ptr_eq(oa2f_dialect_find("PingFederate"),
                     oa2f_dialect_find("pingfederate"));
    ck_assert_ptr_null(oa2f_dialect_find("ping"));
    ck_assert_ptr_null(oa2f_dialect_find(""));
    ck_assert_ptr_null(oa2f_dialect_find("introspection "));
    ck_assert_str_eq(oa2f_dialect_names(),
                     "introspection|pingfederate|openam|mule");
}
END_TEST

/* ---- build(): introspection ------------------------------------------- */

#define INTROSPECT "https://as.example.com/oauth2/introspect"

START_TEST(test_build_introspection_basic)
{
    oa2f_provider_t *p = provider("introspection", INTROSPECT, OA2F_AUTH_BASIC,
                                  ID, SECRET);
    oa2f_http_req_t *req = build(p, TOKEN);
    apr_table_t *f;

    want_common(req, "POST");
    ck_assert_str_eq(req->url, INTROSPECT);
    f = form_params(req->body);
    want_param(f, "token", TOKEN);
    want_param(f, "token_type_hint", "access_token");
    ck_assert_ptr_nonnull(strstr(req->body, "%2Bb%2Fc%3D"));
    ck_assert_int_eq(param_count(f, "client_id"), 0);
    ck_assert_int_eq(param_count(f, "client_secret"), 0);
    /* RFC 6749 §2.3.1: form-encode each, join with ':', then base64 */
    ck_assert_str_eq(basic_pair(req), ID ":" SECRET_FORM);
    ck_assert_ptr_nonnull(p->basic_header);
    ck_assert_ptr_null(strstr(req->body, "s3c"));
}
END_TEST

START_TEST(test_build_basic_encoding)
{
    oa2f_provider_t *p = provider("introspection", INTROSPECT, OA2F_AUTH_BASIC,
                                  "id:with space+", "p\xc3\xa4ss@:%");
    oa2f_http_req_t *req = build(p, "abc");

    ck_assert_str_eq(basic_pair(req), "id%3Awith+space%2B:p%C3%A4ss%40%3A%25");

    /* the docs/providers.md §3.1 example: rs-gateway / s3cr3t */
    p = provider("introspection", INTROSPECT, OA2F_AUTH_BASIC, "rs-gateway",
                 "s3cr3t");
    req = build(p, "abc");
    ck_assert_int_eq(header_count(req, "Authorization", NULL), 1);
    ck_assert_str_eq(p->basic_header,
                     "Authorization: Basic cnMtZ2F0ZXdheTpzM2NyM3Q=");

    /* an id without a secret: an empty password */
    p = provider("introspection", INTROSPECT, OA2F_AUTH_BASIC, "rs", NULL);
    ck_assert_str_eq(basic_pair(build(p, "abc")), "rs:");
}
END_TEST

START_TEST(test_build_introspection_post)
{
    oa2f_provider_t *p = provider("introspection", INTROSPECT, OA2F_AUTH_POST,
                                  "rs gate:way", SECRET);
    oa2f_http_req_t *req = build(p, TOKEN);
    apr_table_t *f;

    want_common(req, "POST");
    ck_assert_ptr_null(p->basic_header);
    ck_assert_int_eq(header_count(req, "Authorization", NULL), 0);
    f = form_params(req->body);
    want_param(f, "token", TOKEN);
    want_param(f, "token_type_hint", "access_token");
    want_param(f, "client_id", "rs gate:way");
    want_param(f, "client_secret", SECRET);
    ck_assert_str_eq(apr_table_get(f, "raw:client_secret"), SECRET_FORM);
    no_secret_in_url(req);
}
END_TEST

START_TEST(test_build_introspection_none)
{
    oa2f_provider_t *p = provider("introspection", INTROSPECT, OA2F_AUTH_NONE,
                                  ID, SECRET);
    oa2f_http_req_t *req = build(p, TOKEN);
    apr_table_t *f;

    want_common(req, "POST");
    ck_assert_int_eq(header_count(req, "Authorization", NULL), 0);
    f = form_params(req->body);
    want_param(f, "token", TOKEN);
    /* "none": the client id alone identifies us (docs/providers.md §2.1) */
    want_param(f, "client_id", ID);
    ck_assert_int_eq(param_count(f, "client_secret"), 0);
    ck_assert_ptr_null(strstr(req->body, "s3c"));

    /* no id at all: token and hint only */
    p = provider("introspection", INTROSPECT, OA2F_AUTH_BASIC, NULL, NULL);
    req = build(p, TOKEN);
    ck_assert_int_eq(header_count(req, "Authorization", NULL), 0);
    f = form_params(req->body);
    ck_assert_int_eq(apr_table_elts(f)->nelts, 4);
    want_param(f, "token", TOKEN);
    want_param(f, "token_type_hint", "access_token");
}
END_TEST

/* ---- build(): pingfederate -------------------------------------------- */

#define PF_TOKEN "https://pf.example.com:9031/as/token.oauth2"

START_TEST(test_build_pingfederate)
{
    oa2f_provider_t *p = provider("pingfederate", PF_TOKEN, OA2F_AUTH_BASIC,
                                  ID, SECRET);
    oa2f_http_req_t *req = build(p, TOKEN);
    apr_table_t *f;

    want_common(req, "POST");
    ck_assert_str_eq(req->url, PF_TOKEN);
    f = form_params(req->body);
    want_param(f, "grant_type", PING_GRANT);
    ck_assert_str_eq(apr_table_get(f, "raw:grant_type"),
                     "urn%3Apingidentity.com%3Aoauth2%3Agrant_type%3A"
                     "validate_bearer");
    want_param(f, "token", TOKEN);
    ck_assert_int_eq(param_count(f, "client_secret"), 0);
    ck_assert_str_eq(basic_pair(req), ID ":" SECRET_FORM);

    p = provider("pingfederate", PF_TOKEN, OA2F_AUTH_POST, ID, SECRET);
    req = build(p, TOKEN);
    want_common(req, "POST");
    ck_assert_int_eq(header_count(req, "Authorization", NULL), 0);
    f = form_params(req->body);
    want_param(f, "grant_type", PING_GRANT);
    want_param(f, "token", TOKEN);
    want_param(f, "client_id", ID);
    want_param(f, "client_secret", SECRET);
    no_secret_in_url(req);
}
END_TEST

/* ---- build(): openam -------------------------------------------------- */

#define AM_INFO "https://am.example.com/am/oauth2/tokeninfo"

START_TEST(test_build_openam_query)
{
    oa2f_provider_t *p = provider("openam", AM_INFO, OA2F_AUTH_NONE, NULL,
                                  NULL);
    oa2f_http_req_t *req = build(p, TOKEN);
    apr_table_t *q;

    want_common(req, "GET");
    ck_assert_int_eq(strncmp(req->url, AM_INFO "?", strlen(AM_INFO) + 1), 0);
    q = form_params(query_of(req->url));
    want_param(q, "access_token", TOKEN);
    ck_assert_ptr_nonnull(strstr(req->url, "%2Bb%2Fc%3D"));
    ck_assert_int_eq(header_count(req, "Authorization", NULL), 0);

    /* an endpoint with a query of its own gets "&access_token=" */
    p = provider("openam", AM_INFO "?realm=%2Falpha", OA2F_AUTH_NONE, NULL,
                 NULL);
    req = build(p, TOKEN);
    q = form_params(query_of(req->url));
    want_param(q, "realm", "/alpha");
    want_param(q, "access_token", TOKEN);
    ck_assert_ptr_null(strstr(req->url, "??"));

    /* tokeninfo takes no client credentials: none are sent */
    p = provider("openam", AM_INFO, OA2F_AUTH_POST, ID, SECRET);
    req = build(p, TOKEN);
    ck_assert_int_eq(header_count(req, "Authorization", NULL), 0);
    no_secret_in_url(req);
}
END_TEST

START_TEST(test_build_openam_header)
{
    oa2f_provider_t *p = apr_pcalloc(ut_pool, sizeof(*p));
    oa2f_http_req_t *req;
    const char *auth = NULL;

    p->dialect = oa2f_dialect_find("openam");
    p->endpoint = AM_INFO;
    p->auth = OA2F_AUTH_NONE;
    p->token_send = OA2F_TOKEN_SEND_HEADER;
    p->max_answer = OA2F_MAX_ANSWER;
    oa2f_provider_finish(ut_pool, p);
    req = build(p, TOKEN);

    want_common(req, "GET");
    /* one way only: both at once is a 400 from AM (docs/providers.md §5.1) */
    ck_assert_str_eq(req->url, AM_INFO);
    ck_assert_int_eq(header_count(req, "Authorization", &auth), 1);
    ck_assert_str_eq(auth, "Bearer " TOKEN);
}
END_TEST

/* ---- build(): mule ---------------------------------------------------- */

#define MULE "https://provider.example.net/external/validate"

START_TEST(test_build_mule)
{
    oa2f_provider_t *p = provider("mule", MULE, OA2F_AUTH_BASIC, NULL, NULL);
    oa2f_http_req_t *req = build(p, TOKEN);
    apr_table_t *q;

    want_common(req, "GET");
    ck_assert_int_eq(strncmp(req->url, MULE "?", strlen(MULE) + 1), 0);
    q = form_params(query_of(req->url));
    ck_assert_int_eq(apr_table_elts(q)->nelts, 2);
    want_param(q, "access_token", TOKEN);
    ck_assert_int_eq(header_count(req, "Authorization", NULL), 0);

    /* configured credentials go as Basic */
    p = provider("mule", MULE, OA2F_AUTH_BASIC, ID, SECRET);
    req = build(p, TOKEN);
    want_common(req, "GET");
    ck_assert_str_eq(basic_pair(req), ID ":" SECRET_FORM);
    no_secret_in_url(req);

    /* never as query parameters, where access logs would keep them */
    p = provider("mule", MULE, OA2F_AUTH_POST, ID, SECRET);
    req = build(p, TOKEN);
    want_common(req, "GET");
    ck_assert_int_eq(header_count(req, "Authorization", NULL), 0);
    no_secret_in_url(req);
    q = form_params(query_of(req->url));
    want_param(q, "access_token", TOKEN);
}
END_TEST

/* ---- interpret(): outcome table --------------------------------------- */

static const oa2f_http_resp_t *answer(long status, const char *body)
{
    oa2f_http_resp_t *r = apr_pcalloc(ut_pool, sizeof(*r));

    r->status = status;
    r->body = apr_pstrdup(ut_pool, body);
    r->body_len = strlen(body);
    r->sent_at = SENT;
    r->elapsed = 0.01;
    return r;
}

static oa2f_outcome_e interpret(const char *dialect, long status,
                                const char *body, oa2f_claims_t **claims,
                                const char **why)
{
    const oa2f_provider_t *p = provider(dialect, "https://as.example.com/x",
                                        OA2F_AUTH_BASIC, ID, SECRET);

    *claims = NULL;
    *why = NULL;
    return p->dialect->interpret(ut_pool, p, answer(status, body), claims,
                                 why);
}

/* docs/providers.md §3.2 */
static const char introspection_ok[] =
    "{\n"
    "  \"active\": true,\n"
    "  \"iss\": \"https://as.example.com/\",\n"
    "  \"sub\": \"248289761001\",\n"
    "  \"username\": \"jdoe\",\n"
    "  \"client_id\": \"mobile-app-7\",\n"
    "  \"scope\": \"orders:read orders:write\",\n"
    "  \"aud\": [\"https://api.example.net/orders\"],\n"
    "  \"token_type\": \"Bearer\",\n"
    "  \"iat\": 1767225600,\n"
    "  \"exp\": 1767229200,\n"
    "  \"jti\": \"b8f4c0a2-1d2e\",\n"
    "  \"tenant\": \"acme\"\n"
    "}\n";

/* docs/providers.md §4 */
static const char ping_ok[] =
    "{\n"
    "  \"token_type\": \"urn:pingidentity.com:oauth2:validated_token\",\n"
    "  \"expires_in\": 3482,\n"
    "  \"client_id\": \"mobile-app-7\",\n"
    "  \"scope\": \"orders:read orders:write\",\n"
    "  \"access_token\": {\n"
    "    \"Username\": \"jdoe\",\n"
    "    \"OrgName\": \"Acme\",\n"
    "    \"group\": [\"buyers\", \"emea\"]\n"
    "  }\n"
    "}\n";

/* docs/providers.md §5 */
static const char openam_ok[] =
    "{\n"
    "  \"access_token\": \"3f1c9b7e-0a44-4d6e-b1f2-5a6b7c8d9e0f\",\n"
    "  \"grant_type\": \"authorization_code\",\n"
    "  \"auth_level\": 0,\n"
    "  \"scope\": [\"uid\", \"mail\"],\n"
    "  \"realm\": \"/alpha\",\n"
    "  \"token_type\": \"Bearer\",\n"
    "  \"expires_in\": 2491,\n"
    "  \"client_id\": \"mobile-app-7\",\n"
    "  \"uid\": \"jdoe\",\n"
    "  \"mail\": \"jdoe@example.com\"\n"
    "}\n";
static const char openam_invalid[] =
    "{\"error\":\"invalid_token\",\"error_description\":\"The access token "
    "provided is expired, revoked, malformed, or invalid for other "
    "reasons.\"}";
static const char openam_both[] =
    "{\"error\":\"invalid_request\",\"error_description\":\"Access Token "
    "cannot be provided in both query and header\"}";

/* docs/providers.md §6 */
static const char mule_ok[] =
    "{\"expires_in\": 1460, \"scope\": \"READ WRITE\", "
    "\"client_id\": \"a3f0c2e1b4d5\", \"username\": \"max\"}";

#define ERR(e)    "{\"error\":\"" e "\",\"error_description\":\"x\"}"
#define PING_HEAD "{\"token_type\":\"" PING_VALIDATED "\""

typedef struct {
    const char *dialect;
    long status;
    const char *body;
    oa2f_outcome_e want;
} outcome_case_t;

static const outcome_case_t outcome_cases[] = {
    /* ---- introspection (RFC 7662) ---- */
    { "introspection", 200, introspection_ok, OA2F_OK },
    { "introspection", 200, "{\"active\": false}", OA2F_INACTIVE },
    { "introspection", 200, "{\"active\":false,\"username\":\"x\"}",
      OA2F_INACTIVE },
    { "introspection", 200, "{\"active\":true}", OA2F_OK },
    /* only the JSON boolean true is active (docs/providers.md §8, edge case 1) */
    { "introspection", 200, "{\"active\":\"true\"}", OA2F_INACTIVE },
    { "introspection", 200, "{\"active\":\"TRUE\"}", OA2F_INACTIVE },
    { "introspection", 200, "{\"active\":\"false\"}", OA2F_INACTIVE },
    { "introspection", 200, "{\"active\":1}", OA2F_INACTIVE },
    { "introspection", 200, "{\"active\":0}", OA2F_INACTIVE },
    { "introspection", 200, "{\"active\":1.0}", OA2F_INACTIVE },
    { "introspection", 200, "{\"active\":null}", OA2F_INACTIVE },
    { "introspection", 200, "{\"active\":\"yes\"}", OA2F_INACTIVE },
    { "introspection", 200, "{\"active\":[true]}", OA2F_INACTIVE },
    { "introspection", 200, "{\"active\":{}}", OA2F_INACTIVE },
    /* missing active is a broken answer, not an inactive token (edge case 2) */
    { "introspection", 200, "{}", OA2F_BAD_ANSWER },
    { "introspection", 200, "{\"username\":\"jdoe\"}", OA2F_BAD_ANSWER },
    { "introspection", 200, "{\"Active\":true}", OA2F_BAD_ANSWER },
    /* a duplicated member (edge case 12) */
    { "introspection", 200, "{\"active\":false,\"active\":true}",
      OA2F_BAD_ANSWER },
    { "introspection", 200, "{\"active\":true,\"a\":{\"b\":1,\"b\":2}}",
      OA2F_OK },
    { "introspection", 200,
      "{\"a,\\\"b\":\"x,\\\"y\\\\\",\"active\":true,"
      "\"c\":[{\"d\":1},\"e,f\"]}",
      OA2F_OK },
    /* exp must be a number (edge case 3) */
    { "introspection", 200, "{\"active\":true,\"exp\":\"1767229200\"}",
      OA2F_BAD_ANSWER },
    { "introspection", 200, "{\"active\":true,\"exp\":true}",
      OA2F_BAD_ANSWER },
    { "introspection", 200, "{\"active\":true,\"exp\":null}", OA2F_OK },
    { "introspection", 200, "{\"active\":false,\"exp\":\"x\"}",
      OA2F_INACTIVE },
    /* unusable bodies (edge cases 15, 16) */
    { "introspection", 200, "", OA2F_BAD_ANSWER },
    { "introspection", 200, "[{\"active\":true}]", OA2F_BAD_ANSWER },
    { "introspection", 200, "\"active\"", OA2F_BAD_ANSWER },
    { "introspection", 200, "true", OA2F_BAD_ANSWER },
    { "introspection", 200, "{\"active\":true", OA2F_BAD_ANSWER },
    { "introspection", 200, "{\"active\":true}{}", OA2F_BAD_ANSWER },
    { "introspection", 200, "<html><body>Sign in</body></html>",
      OA2F_BAD_ANSWER },
    /* docs/providers.md §3.3: our credentials refused */
    { "introspection", 401, ERR("invalid_client"), OA2F_REJECTED },
    { "introspection", 401, "", OA2F_REJECTED },
    { "introspection", 401, ERR("invalid_request"), OA2F_REJECTED },
    { "introspection", 403, "Client not allowed.", OA2F_REJECTED },
    /* RFC 6749 §5.2: 400 invalid_client when credentials were in the form */
    { "introspection", 400, ERR("invalid_client"), OA2F_REJECTED },
    { "introspection", 400, ERR("unauthorized_client"), OA2F_REJECTED },
    /* edge case 26: a kind of token it cannot introspect */
    { "introspection", 400, ERR("unsupported_token_type"), OA2F_INACTIVE },
    { "introspection", 400, ERR("invalid_request"), OA2F_BAD_ANSWER },
    { "introspection", 400, "", OA2F_BAD_ANSWER },
    { "introspection", 404, "not found", OA2F_BAD_ANSWER },
    { "introspection", 500, "{\"active\":true}", OA2F_BAD_ANSWER },
    { "introspection", 502, "<html>Bad Gateway</html>", OA2F_BAD_ANSWER },
    { "introspection", 503, "", OA2F_BAD_ANSWER },
    { "introspection", 429, "", OA2F_BAD_ANSWER },
    { "introspection", 302, "", OA2F_BAD_ANSWER },
    { "introspection", 204, "", OA2F_BAD_ANSWER },
    { "introspection", 201, "{\"active\":true}", OA2F_BAD_ANSWER },

    /* ---- pingfederate (validate_bearer) ---- */
    { "pingfederate", 200, ping_ok, OA2F_OK },
    { "pingfederate", 200, PING_HEAD "}", OA2F_OK },
    { "pingfederate", 200, PING_HEAD ",\"access_token\":null}", OA2F_OK },
    { "pingfederate", 400, ERR("invalid_grant"), OA2F_INACTIVE },
    { "pingfederate", 403, ERR("invalid_grant"), OA2F_INACTIVE },
    { "pingfederate", 401, ERR("invalid_grant"), OA2F_INACTIVE },
    { "pingfederate", 400, ERR("invalid_token"), OA2F_INACTIVE },
    { "pingfederate", 401, ERR("invalid_client"), OA2F_REJECTED },
    { "pingfederate", 400, ERR("invalid_client"), OA2F_REJECTED },
    { "pingfederate", 400, ERR("unauthorized_client"), OA2F_REJECTED },
    { "pingfederate", 401, "", OA2F_REJECTED },
    { "pingfederate", 400, ERR("unsupported_grant_type"), OA2F_BAD_ANSWER },
    { "pingfederate", 400, "", OA2F_BAD_ANSWER },
    { "pingfederate", 404, "<html>not found</html>", OA2F_BAD_ANSWER },
    { "pingfederate", 500, ERR("server_error"), OA2F_BAD_ANSWER },
    { "pingfederate", 503, ERR("invalid_grant"), OA2F_BAD_ANSWER },
    { "pingfederate", 502, "", OA2F_BAD_ANSWER },
    /* success is HTTP 200 and exactly this token_type */
    { "pingfederate", 200, "{\"expires_in\":3482,\"client_id\":\"x\"}",
      OA2F_BAD_ANSWER },
    { "pingfederate", 200, "{\"token_type\":\"Bearer\",\"expires_in\":1}",
      OA2F_BAD_ANSWER },
    { "pingfederate", 200, "{\"token_type\":\"" PING_VALIDATED "x\"}",
      OA2F_BAD_ANSWER },
    { "pingfederate", 200, "{\"token_type\":null}", OA2F_BAD_ANSWER },
    { "pingfederate", 200, "{\"token_type\":[\"" PING_VALIDATED "\"]}",
      OA2F_BAD_ANSWER },
    { "pingfederate", 200, "{\"active\":true}", OA2F_BAD_ANSWER },
    { "pingfederate", 200, PING_HEAD ",\"access_token\":\"abc\"}",
      OA2F_BAD_ANSWER },
    { "pingfederate", 200, PING_HEAD ",\"access_token\":[1]}",
      OA2F_BAD_ANSWER },
    { "pingfederate", 200, PING_HEAD ",\"expires_in\":\"3482\"}",
      OA2F_BAD_ANSWER },
    { "pingfederate", 200, PING_HEAD ",\"expires_in\":{}}", OA2F_BAD_ANSWER },
    { "pingfederate", 200, PING_HEAD ",\"token_type\":\"Bearer\"}",
      OA2F_BAD_ANSWER },
    { "pingfederate", 200, "not json", OA2F_BAD_ANSWER },
    { "pingfederate", 200, "", OA2F_BAD_ANSWER },

    /* ---- openam (tokeninfo) ---- */
    { "openam", 200, openam_ok, OA2F_OK },
    { "openam", 200, "{}", OA2F_OK },
    { "openam", 401, openam_invalid, OA2F_INACTIVE },
    { "openam", 400, openam_both, OA2F_INACTIVE },
    { "openam", 400, ERR("invalid_token"), OA2F_INACTIVE },
    { "openam", 404, "<html>Not Found</html>", OA2F_INACTIVE },
    { "openam", 404, "", OA2F_INACTIVE },
    { "openam", 401, ERR("invalid_client"), OA2F_REJECTED },
    { "openam", 400, ERR("unauthorized_client"), OA2F_REJECTED },
    { "openam", 403, "", OA2F_BAD_ANSWER },
    { "openam", 500, openam_invalid, OA2F_BAD_ANSWER },
    { "openam", 502, "", OA2F_BAD_ANSWER },
    { "openam", 503, "", OA2F_BAD_ANSWER },
    { "openam", 302, "", OA2F_BAD_ANSWER },
    { "openam", 200, "<html>login</html>", OA2F_BAD_ANSWER },
    { "openam", 200, "[]", OA2F_BAD_ANSWER },
    { "openam", 200, "{\"expires_in\":\"2491\"}", OA2F_BAD_ANSWER },
    { "openam", 200, "{\"uid\":\"a\",\"uid\":\"b\"}", OA2F_BAD_ANSWER },

    /* ---- mule (/validate) ---- */
    { "mule", 200, mule_ok, OA2F_OK },
    { "mule", 200, "{\"expires_in\":1460,\"scope\":\"\"}", OA2F_OK },
    { "mule", 400, "", OA2F_INACTIVE },
    { "mule", 401, "", OA2F_INACTIVE },
    { "mule", 403, "{\"error\":\"forbidden\"}", OA2F_INACTIVE },
    { "mule", 404, "<html/>", OA2F_INACTIVE },
    { "mule", 410, "", OA2F_INACTIVE },
    { "mule", 429, "", OA2F_UNREACHABLE },
    { "openam", 429, "", OA2F_UNREACHABLE },
    { "mule", 401, ERR("invalid_token"), OA2F_INACTIVE },
    { "mule", 401, ERR("invalid_client"), OA2F_REJECTED },
    { "mule", 400, ERR("unauthorized_client"), OA2F_REJECTED },
    { "mule", 500, "", OA2F_BAD_ANSWER },
    { "mule", 502, mule_ok, OA2F_BAD_ANSWER },
    { "mule", 503, "", OA2F_BAD_ANSWER },
    { "mule", 301, "", OA2F_BAD_ANSWER },
    { "mule", 200, "", OA2F_BAD_ANSWER },
    { "mule", 200, "OK", OA2F_BAD_ANSWER },
    { "mule", 200, "{\"expires_in\":\"1460\"}", OA2F_BAD_ANSWER },
    { "mule", 200, "{\"expires_in\":[1460]}", OA2F_BAD_ANSWER },
    { "mule", 200, "{\"expires_in\":1460", OA2F_BAD_ANSWER },
};

START_TEST(test_interpret_outcome)
{
    const outcome_case_t *tc = &outcome_cases[_i];
    oa2f_claims_t *c;
    const char *why;
    oa2f_outcome_e got = interpret(tc->dialect, tc->status, tc->body, &c,
                                   &why);

    ck_assert_msg(got == tc->want, "%s: HTTP %ld %s: %s, expected %s (%s)",
                  tc->dialect, tc->status, tc->body, oa2f_outcome_name(got),
                  oa2f_outcome_name(tc->want), why ? why : "");
    if (got == OA2F_OK) {
        ck_assert_ptr_nonnull(c);
        ck_assert_int_eq(c->active, 1);
        ck_assert_uint_eq(c->raw_len, strlen(tc->body));
        ck_assert_mem_eq(c->raw, tc->body, c->raw_len);
    }
    else {
        ck_assert_msg(why != NULL && *why, "%s: HTTP %ld: no reason",
                      tc->dialect, tc->status);
        if (got == OA2F_INACTIVE) {
            ck_assert_ptr_nonnull(c);
            ck_assert_int_eq(c->active, 0);
            /* nothing about an inactive token is handed on (edge case 14) */
            ck_assert_int_eq(c->fields->nelts, 0);
        }
    }
}
END_TEST

/* ---- interpret(): what an accepted answer gives ----------------------- */

static const char *fields_joined(const oa2f_claims_t *c)
{
    apr_array_header_t *names = apr_array_make(ut_pool, 8,
                                               sizeof(const char *));
    int i;

    for (i = 0; i < c->fields->nelts; i++) {
        APR_ARRAY_PUSH(names, const char *) =
            APR_ARRAY_IDX(c->fields, i, oa2f_field_t).name;
    }
    return apr_array_pstrcat(ut_pool, names, ',');
}

static void want_field(const oa2f_claims_t *c, const char *name,
                       const char *value)
{
    const oa2f_field_t *f = oa2f_claims_get(c, name);

    ck_assert_msg(f != NULL, "field %s is missing", name);
    ck_assert_msg(strcmp(f->value, value) == 0,
                  "field %s is \"%s\", expected \"%s\"", name, f->value,
                  value);
}

static oa2f_claims_t *accepted(const char *dialect, const char *body)
{
    oa2f_claims_t *c;
    const char *why;
    oa2f_outcome_e got = interpret(dialect, 200, body, &c, &why);

    ck_assert_msg(got == OA2F_OK, "%s: %s (%s)", dialect,
                  oa2f_outcome_name(got), why ? why : "");
    ck_assert_ptr_nonnull(c);
    return c;
}

static const char *scopes_joined(const oa2f_claims_t *c)
{
    return apr_array_pstrcat(ut_pool, c->scopes, '|');
}

START_TEST(test_introspection_claims)
{
    oa2f_claims_t *c = accepted("introspection", introspection_ok);

    ck_assert_int_eq(c->active, 1);
    ck_assert(c->expires_at == 1767229200LL);
    ck_assert_str_eq(scopes_joined(c), "orders:read|orders:write");
    ck_assert_str_eq(c->client_id, "mobile-app-7");
    ck_assert_str_eq(fields_joined(c),
                     "active,iss,sub,username,client_id,"
                     "scope,aud,token_type,iat,exp,jti,tenant");
    want_field(c, "active", "true");
    want_field(c, "username", "jdoe");
    want_field(c, "sub", "248289761001");
    want_field(c, "aud", "https://api.example.net/orders");
    want_field(c, "iat", "1767225600");
    want_field(c, "exp", "1767229200");
    want_field(c, "tenant", "acme");
    ck_assert_int_eq(
        oa2f_claims_field_matches(c, "aud", "https://api.example.net/orders"),
        1);
    ck_assert_uint_eq(c->raw_len, strlen(introspection_ok));
    ck_assert_int_eq(oa2f_verdict_check_expiry(c, SENT), OA2F_OK);
    ck_assert_int_eq(oa2f_verdict_check_expiry(c, 1767229200LL), OA2F_EXPIRED);
}
END_TEST

START_TEST(test_introspection_expiry)
{
    oa2f_claims_t *c;

    /* no exp: no expiry, never cached, but not expired either (edge case 6) */
    c = accepted("introspection", "{\"active\":true}");
    ck_assert(c->expires_at == 0);
    ck_assert_int_eq(oa2f_verdict_check_expiry(c, SENT), OA2F_OK);
    c = accepted("introspection", "{\"active\":true,\"exp\":null}");
    ck_assert(c->expires_at == 0);

    /* NumericDate fraction truncated (edge case 4), milliseconds (edge case 5) */
    c = accepted("introspection", "{\"active\":true,\"exp\":1767229200.75}");
    ck_assert(c->expires_at == 1767229200LL);
    c = accepted("introspection", "{\"active\":true,\"exp\":1767229200123}");
    ck_assert(c->expires_at == 1767229200LL);
    c = accepted("introspection", "{\"active\":true,\"exp\":1e30}");
    ck_assert(c->expires_at == 253402300799LL);

    /* exp 0 or negative: in the past, never "no expiry" (edge cases 7 and 8) */
    c = accepted("introspection", "{\"active\":true,\"exp\":0}");
    ck_assert(c->expires_at < 0);
    ck_assert_int_eq(oa2f_verdict_check_expiry(c, SENT), OA2F_EXPIRED);
    c = accepted("introspection", "{\"active\":true,\"exp\":-100}");
    ck_assert(c->expires_at < 0);
    ck_assert_int_eq(oa2f_verdict_check_expiry(c, SENT), OA2F_EXPIRED);
    c = accepted("introspection", "{\"active\":true,\"exp\":1000}");
    ck_assert_int_eq(oa2f_verdict_check_expiry(c, SENT), OA2F_EXPIRED);
}
END_TEST

START_TEST(test_introspection_scope_shapes)
{
    oa2f_claims_t *c;

    c = accepted("introspection", "{\"active\":true,\"scope\":[\"a\",\"b\"]}");
    ck_assert_str_eq(scopes_joined(c), "a|b");
    c = accepted("introspection", "{\"active\":true,\"scope\":\"\"}");
    ck_assert_int_eq(c->scopes->nelts, 0);
    c = accepted("introspection", "{\"active\":true}");
    ck_assert_int_eq(c->scopes->nelts, 0);
    ck_assert_ptr_null(c->client_id);
    c = accepted("introspection", "{\"active\":true,\"scopes\":[\"a\"]}");
    ck_assert_int_eq(c->scopes->nelts, 0);
}
END_TEST

START_TEST(test_ping_claims)
{
    oa2f_claims_t *c = accepted("pingfederate", ping_ok);

    ck_assert_int_eq(c->active, 1);
    /* relative expiry made absolute from the time the request was sent */
    ck_assert(c->expires_at == SENT + 3482);
    ck_assert_str_eq(scopes_joined(c), "orders:read|orders:write");
    ck_assert_str_eq(c->client_id, "mobile-app-7");
    /* the access_token object flattened after the provider's members */
    ck_assert_str_eq(fields_joined(c), "token_type,expires_in,client_id,"
                                       "scope,Username,OrgName,group");
    ck_assert_ptr_null(oa2f_claims_get(c, "access_token"));
    want_field(c, "token_type", PING_VALIDATED);
    want_field(c, "expires_in", "3482");
    want_field(c, "Username", "jdoe");
    want_field(c, "OrgName", "Acme");
    want_field(c, "group", "buyers emea");
    ck_assert_int_eq(oa2f_claims_field_matches(c, "group", "emea"), 1);
    ck_assert_int_eq(oa2f_verdict_check_expiry(c, SENT), OA2F_OK);
    ck_assert_int_eq(oa2f_verdict_check_expiry(c, SENT + 3482), OA2F_EXPIRED);
}
END_TEST

/* An attribute named like one of the provider's members never wins, and
 * attributes never supply scope or client_id. */
START_TEST(test_ping_outer_wins)
{
    oa2f_claims_t *c = accepted(
        "pingfederate", PING_HEAD
        ",\"expires_in\":60,\"client_id\":\"real\","
        "\"access_token\":{\"token_type\":\"evil\",\"expires_in\":999999,"
        "\"client_id\":\"evil\",\"scope\":\"admin\",\"uid\":\"jdoe\"}}");

    want_field(c, "token_type", PING_VALIDATED);
    want_field(c, "expires_in", "60");
    want_field(c, "client_id", "real");
    want_field(c, "uid", "jdoe");
    ck_assert_str_eq(c->client_id, "real");
    ck_assert(c->expires_at == SENT + 60);
    ck_assert_int_eq(c->scopes->nelts, 0);
    ck_assert_ptr_null(oa2f_claims_get(c, "scope"));
    ck_assert_str_eq(fields_joined(c), "token_type,expires_in,client_id,uid");

    /* attributes that do not clash are added, even named "sub" */
    c = accepted("pingfederate", PING_HEAD
                 ",\"access_token\":{\"sub\":\"x\",\"client_id\":\"evil\"}}");
    want_field(c, "sub", "x");
    ck_assert_ptr_null(c->client_id);
    ck_assert_ptr_null(oa2f_claims_get(c, "client_id"));
}
END_TEST

START_TEST(test_ping_expiry)
{
    oa2f_claims_t *c;

    c = accepted("pingfederate", PING_HEAD "}");
    ck_assert(c->expires_at == 0);
    ck_assert_int_eq(oa2f_verdict_check_expiry(c, SENT), OA2F_OK);
    c = accepted("pingfederate", PING_HEAD ",\"expires_in\":null}");
    ck_assert(c->expires_at == 0);
    c = accepted("pingfederate", PING_HEAD ",\"expires_in\":59.9}");
    ck_assert(c->expires_at == SENT + 59);

    /* 0 or negative: already expired (Mule fixed this in 1.3.3) */
    c = accepted("pingfederate", PING_HEAD ",\"expires_in\":0}");
    ck_assert(c->expires_at != 0 && c->expires_at <= SENT);
    ck_assert_int_eq(oa2f_verdict_check_expiry(c, SENT), OA2F_EXPIRED);
    c = accepted("pingfederate", PING_HEAD ",\"expires_in\":-30}");
    ck_assert(c->expires_at != 0 && c->expires_at <= SENT);
    ck_assert_int_eq(oa2f_verdict_check_expiry(c, SENT), OA2F_EXPIRED);
}
END_TEST

START_TEST(test_openam_claims)
{
    oa2f_claims_t *c = accepted("openam", openam_ok);

    ck_assert_int_eq(c->active, 1);
    ck_assert(c->expires_at == SENT + 2491);
    ck_assert_str_eq(scopes_joined(c), "uid|mail");
    ck_assert_str_eq(c->client_id, "mobile-app-7");
    /* the access_token member is the token itself: not a field */
    ck_assert_ptr_null(oa2f_claims_get(c, "access_token"));
    ck_assert_str_eq(fields_joined(c),
                     "grant_type,auth_level,scope,realm,"
                     "token_type,expires_in,client_id,uid,mail");
    want_field(c, "auth_level", "0");
    want_field(c, "scope", "uid mail");
    want_field(c, "realm", "/alpha");
    want_field(c, "uid", "jdoe");
    want_field(c, "mail", "jdoe@example.com");
    ck_assert_int_eq(oa2f_claims_field_matches(c, "scope", "mail"), 1);
    /* but the raw answer, for OAUTH2_FEDERATED_RESPONSE, is all of it */
    ck_assert_uint_eq(c->raw_len, strlen(openam_ok));

    c = accepted("openam", "{\"expires_in\":0,\"scope\":\"a b\"}");
    ck_assert_int_eq(oa2f_verdict_check_expiry(c, SENT), OA2F_EXPIRED);
    ck_assert_str_eq(scopes_joined(c), "a|b");
    c = accepted("openam", "{\"expires_in\":-1}");
    ck_assert_int_eq(oa2f_verdict_check_expiry(c, SENT), OA2F_EXPIRED);
}
END_TEST

START_TEST(test_mule_claims)
{
    oa2f_claims_t *c = accepted("mule", mule_ok);

    ck_assert_int_eq(c->active, 1);
    ck_assert(c->expires_at == SENT + 1460);
    ck_assert_str_eq(scopes_joined(c), "READ|WRITE");
    ck_assert_str_eq(c->client_id, "a3f0c2e1b4d5");
    ck_assert_str_eq(fields_joined(c), "expires_in,scope,client_id,username");
    want_field(c, "username", "max");
    ck_assert_int_eq(oa2f_verdict_check_expiry(c, SENT), OA2F_OK);

    /* "" means no scopes (docs/providers.md §2.4) */
    c = accepted("mule", "{\"expires_in\":1460,\"scope\":\"\"}");
    ck_assert_int_eq(c->scopes->nelts, 0);

    c = accepted("mule", "{\"expires_in\":0}");
    ck_assert(c->expires_at != 0);
    ck_assert_int_eq(oa2f_verdict_check_expiry(c, SENT), OA2F_EXPIRED);
    c = accepted("mule", "{\"expires_in\":-5}");
    ck_assert_int_eq(oa2f_verdict_check_expiry(c, SENT), OA2F_EXPIRED);
    c = accepted("mule", "{\"scope\":\"READ\"}");
    ck_assert(c->expires_at == 0);
}
END_TEST

Suite *dialect_suite(void)
{
    Suite *s = suite_create("dialect");
    TCase *tc;

    tc = ut_tcase("build");
    tcase_add_test(tc, test_dialect_find);
    tcase_add_test(tc, test_build_introspection_basic);
    tcase_add_test(tc, test_build_basic_encoding);
    tcase_add_test(tc, test_build_introspection_post);
    tcase_add_test(tc, test_build_introspection_none);
    tcase_add_test(tc, test_build_pingfederate);
    tcase_add_test(tc, test_build_openam_query);
    tcase_add_test(tc, test_build_openam_header);
    tcase_add_test(tc, test_build_mule);
    suite_add_tcase(s, tc);

    tc = ut_tcase("interpret");
    tcase_add_loop_test(tc, test_interpret_outcome, 0, UT_N(outcome_cases));
    tcase_add_test(tc, test_introspection_claims);
    tcase_add_test(tc, test_introspection_expiry);
    tcase_add_test(tc, test_introspection_scope_shapes);
    tcase_add_test(tc, test_ping_claims);
    tcase_add_test(tc, test_ping_outer_wins);
    tcase_add_test(tc, test_ping_expiry);
    tcase_add_test(tc, test_openam_claims);
    tcase_add_test(tc, test_mule_claims);
    suite_add_tcase(s, tc);
    return s;
}
