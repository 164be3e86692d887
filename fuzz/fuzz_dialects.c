/* Fuzz target: each dialect's answer normalisation, dialect->interpret().
 * The first input byte picks the dialect (byte % 4: introspection,
 * pingfederate, openam, mule) and the HTTP status ((byte / 4) % 6: 200,
 * 400, 401, 403, 404, 500); the rest is the body.
 *
 * FUZZ_VERBOSE=1 prints each outcome (for a corpus run with -runs=0).
 *
 * Invariants checked besides "no crash, no leak, no UB":
 *  - the outcome is one a dialect may give; every refusal has a `why`;
 *  - OA2F_OK only for HTTP 200, with claims->active set and the raw answer
 *    kept; for introspection only when "active" is the JSON boolean true,
 *    for pingfederate only with the validated_token token_type;
 *  - OA2F_OK never for an answer repeating a top-level member (checked
 *    with our own JSON scanner against json-c's member count);
 *  - OA2F_INACTIVE exposes no field, scope or client id;
 *  - scopes are the split "scope" string or the non-empty strings of a
 *    "scope" array; client_id is the "client_id" string member (with
 *    FUZZ_STRICT=1: never cut at a NUL inside, see check_scopes);
 *  - every field is what oa2f_claims_take_members produced: a member of
 *    the answer (pingfederate: or of its access_token attributes) rendered
 *    by oa2f_json_render, names unique, at most 256; openam never hands
 *    on access_token (the token itself);
 *  - expires_at is the member's value made absolute as documented;
 *  - after oa2f_claims_prepare, shown values and shown_raw have no control
 *    character, env suffixes are [A-Z0-9_] only, and only HTTP tokens are
 *    flagged as header names. */
#include <json-c/json.h>
#include <apr_strings.h>

#include "fuzz_common.h"
#include "oa2f_dialect.h"
#include "oa2f_claims.h"
#include "oa2f_sanitize.h"
#include "oa2f_scope.h"

static const char *const DIALECTS[] = { "introspection", "pingfederate",
                                        "openam", "mule" };
static const long STATUSES[] = { 200, 400, 401, 403, 404, 500 };

#define SENT_AT 1767225600LL            /* 2026-01-01T00:00:00Z */
#define MAX_EPOCH 253402300799LL        /* 9999-12-31T23:59:59Z */
#define MAX_FIELDS 256
#define PING_VALIDATED "urn:pingidentity.com:oauth2:validated_token"

/* ---- an independent JSON scanner: top-level member count ------------- */

typedef struct {
    const char *s;
    size_t n, i;
} js_t;

static void js_ws(js_t *j)
{
    while (j->i < j->n && strchr(" \t\r\n", j->s[j->i]) && j->s[j->i]) {
        j->i++;
    }
}

static int js_string(js_t *j)
{
    if (j->i >= j->n || j->s[j->i] != '"') {
        return 0;
    }
    j->i++;
    while (j->i < j->n) {
        char c = j->s[j->i++];
        if (c == '"') {
            return 1;
        }
        if (c == '\\') {
            if (j->i >= j->n) {
                return 0;
            }
            c = j->s[j->i++];
            if (c == 'u') {
                int k;
                for (k = 0; k < 4; k++, j->i++) {
                    if (j->i >= j->n || !strchr("0123456789abcdefABCDEF",
                                                j->s[j->i])
                        || !j->s[j->i]) {
                        return 0;
                    }
                }
            }
            else if (!c || !strchr("\"\\/bfnrt", c)) {
                return 0;
            }
        }
        else if (c == '\0') {
            return 0;
        }
    }
    return 0;
}

static int js_value(js_t *j, int depth, long *members);

/* An object; *members (when not NULL) receives its member count. */
static int js_object(js_t *j, int depth, long *members)
{
    long n = 0;

    j->i++;                       /* '{' */
    js_ws(j);
    if (j->i < j->n && j->s[j->i] == '}') {
        j->i++;
        if (members) *members = 0;
        return 1;
    }
    for (;;) {
        js_ws(j);
        if (!js_string(j)) return 0;
        js_ws(j);
        if (j->i >= j->n || j->s[j->i] != ':') return 0;
        j->i++;
        if (!js_value(j, depth + 1, NULL)) return 0;
        n++;
        js_ws(j);
        if (j->i >= j->n) return 0;
        if (j->s[j->i] == '}') {
            j->i++;
            if (members) *members = n;
            return 1;
        }
        if (j->s[j->i] != ',') return 0;
        j->i++;
    }
}

static int js_value(js_t *j, int depth, long *members)
{
    if (depth > 64) {
        return 0;
    }
    js_ws(j);
    if (j->i >= j->n) {
        return 0;
    }
    switch (j->s[j->i]) {
    case '{':
        return js_object(j, depth, members);
    case '[':
        j->i++;
        js_ws(j);
        if (j->i < j->n && j->s[j->i] == ']') {
            j->i++;
            return 1;
        }
        for (;;) {
            if (!js_value(j, depth + 1, NULL)) return 0;
            js_ws(j);
            if (j->i >= j->n) return 0;
            if (j->s[j->i] == ']') {
                j->i++;
                return 1;
            }
            if (j->s[j->i] != ',') return 0;
            j->i++;
        }
    case '"':
        return js_string(j);
    default: {
        size_t start = j->i;
        while (j->i < j->n && j->s[j->i]
               && strchr("+-0123456789.eEtruefalsnNaIiy", j->s[j->i])) {
            j->i++;
        }
        return j->i > start;
    }
    }
}

/* The number of members of the top-level object, or -1 when our scanner
 * does not read the text as exactly one object. */
static long top_level_members(const char *s, size_t n)
{
    js_t j = { s, n, 0 };
    long members = -1;

    js_ws(&j);
    if (j.i >= n || s[j.i] != '{' || !js_object(&j, 0, &members)) {
        return -1;
    }
    js_ws(&j);
    return j.i == n ? members : -1;
}

/* ---- checks ------------------------------------------------------------ */

static int same_items(const apr_array_header_t *a, const apr_array_header_t *b)
{
    int i;

    if (!a || !b) {
        return a == b;
    }
    if (a->nelts != b->nelts) {
        return 0;
    }
    for (i = 0; i < a->nelts; i++) {
        if (strcmp(APR_ARRAY_IDX(a, i, const char *),
                   APR_ARRAY_IDX(b, i, const char *)) != 0) {
            return 0;
        }
    }
    return 1;
}

/* 1 when field f is member `f->name` of obj rendered by oa2f_json_render */
static int field_from(apr_pool_t *p, const oa2f_field_t *f,
                      struct json_object *obj)
{
    struct json_object *v;
    const char *val;
    apr_size_t len;
    apr_array_header_t *items;

    if (!obj || !json_object_object_get_ex(obj, f->name, &v) || !v) {
        return 0;
    }
    val = oa2f_json_render(p, v, &len, &items);
    return len == f->value_len && memcmp(val, f->value, len) == 0
           && same_items(items, f->items);
}

static long long expected_expiry(struct json_object *obj, const char *member,
                                 int relative)
{
    struct json_object *v;
    long long secs = 0;

    if (!json_object_object_get_ex(obj, member, &v) || !v) {
        return 0;
    }
    FZ_ASSERT(oa2f_json_seconds(v, &secs), "OK with a non-numeric %s",
              member);
    FZ_ASSERT(secs >= -1 && secs <= MAX_EPOCH, "%s not clamped: %lld",
              member, secs);
    if (relative) {
        return secs > 0 ? SENT_AT + secs : -1;
    }
    return secs > 0 ? secs : -1;
}

static int is_tchar(unsigned char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z')
           || (c >= '0' && c <= '9') || (c && strchr("!#$%&'*+-.^_`|~", c));
}

static int clean(const char *s)
{
    for (; *s; s++) {
        if ((unsigned char)*s < 0x20 || *s == 0x7f) {
            return 0;
        }
    }
    return 1;
}

/* oa2f_claims_prepare: what the backend is shown (headers, environment,
 * OAUTH2_FEDERATED_RESPONSE) has no control character, env suffixes only
 * [A-Z0-9_], and a name is flagged as a header name only if it is a
 * token. */
static void check_prepared(apr_pool_t *p, oa2f_claims_t *c)
{
    int i;

    oa2f_claims_prepare(p, c);
    FZ_ASSERT(c->shown_raw && clean(c->shown_raw)
              && strcmp(c->shown_raw,
                        oa2f_clean_value(p, c->raw, c->raw_len)) == 0,
              "shown_raw is not the answer without control characters");
    for (i = 0; i < c->fields->nelts; i++) {
        oa2f_field_t *f = &APR_ARRAY_IDX(c->fields, i, oa2f_field_t);
        const char *n, *e;
        size_t k, nlen = strlen(f->name);
        int token = nlen > 0;

        FZ_ASSERT(f->shown && clean(f->shown)
                  && strcmp(f->shown,
                            oa2f_clean_value(p, f->value, f->value_len)) == 0,
                  "field %s: shown value not the clean value", f->name);
        FZ_ASSERT(f->env_suffix, "field %s: no env suffix", f->name);
        for (e = f->env_suffix; *e; e++) {
            FZ_ASSERT((*e >= 'A' && *e <= 'Z') || (*e >= '0' && *e <= '9')
                      || *e == '_', "field %s: env suffix byte 0x%02x",
                      f->name, (unsigned char)*e);
        }
        FZ_ASSERT(strlen(f->env_suffix) == (nlen > 256 ? 256 : nlen),
                  "field %s: env suffix length", f->name);
        for (n = f->name, k = 0; k < nlen; k++) {
            token = token && is_tchar((unsigned char)n[k]);
        }
        FZ_ASSERT(!f->is_token == !token, "field %s: token flag %d",
                  f->name, f->is_token);
    }
}

/* 1 when the JSON string v holds a NUL (so its C string is shorter) */
static int has_nul(struct json_object *v)
{
    const char *s = json_object_get_string(v);

    return strlen(s) != (size_t)json_object_get_string_len(v);
}

/* FUZZ_STRICT=1: also require that a scope or client id string with a NUL
 * inside (\u0000) is not cut at the NUL ("admin\u0000x" must not become
 * scope "admin"), and that no scope element is empty. On by default;
 * FUZZ_STRICT=0 turns it off. */
static int strict = -1;

/* The scopes come from the answer's "scope" member: a string is split on
 * spaces; an array gives its non-empty string elements. The elements of an
 * array are taken either as they are (so "a b" is one scope: what the
 * module does today) or split like a string: both are accepted here. */
static void check_scopes(apr_pool_t *p, const oa2f_claims_t *c,
                         struct json_object *obj)
{
    struct json_object *v;
    apr_array_header_t *as_is = apr_array_make(p, 4, sizeof(const char *));
    apr_array_header_t *split = apr_array_make(p, 4, sizeof(const char *));
    int i;

    if (strict) {
        for (i = 0; i < c->scopes->nelts; i++) {
            const char *s = APR_ARRAY_IDX(c->scopes, i, const char *);
            FZ_ASSERT(s && *s, "empty scope element %d", i);
        }
    }
    if (!json_object_object_get_ex(obj, "scope", &v) || !v) {
        FZ_ASSERT(c->scopes->nelts == 0, "scopes from nowhere");
        return;
    }
    if (json_object_is_type(v, json_type_string)) {
        if (strict && has_nul(v)) {
            FZ_ASSERT(c->scopes->nelts == 0,
                      "scopes cut from a scope string with a NUL inside");
            return;
        }
        split = oa2f_scope_split(p, json_object_get_string(v));
        FZ_ASSERT(same_items(c->scopes, split),
                  "scopes are not the split scope string");
        return;
    }
    if (json_object_is_type(v, json_type_array)) {
        size_t k, n = json_object_array_length(v);
        for (k = 0; k < n; k++) {
            struct json_object *e = json_object_array_get_idx(v, k);
            if (json_object_is_type(e, json_type_string)
                && json_object_get_string_len(e) > 0
                && !(strict && has_nul(e))) {
                const char *es = json_object_get_string(e);
                apr_array_header_t *parts = oa2f_scope_split(p, es);
                APR_ARRAY_PUSH(as_is, const char *) = es;
                apr_array_cat(split, parts);
            }
        }
    }
    FZ_ASSERT(same_items(c->scopes, as_is) || same_items(c->scopes, split),
              "scopes are not the elements of the scope array");
}

static void check_ok(apr_pool_t *p, int d, const oa2f_http_resp_t *resp,
                     const oa2f_claims_t *c)
{
    const char *err = NULL;
    struct json_object *obj, *v, *attrs = NULL;
    long members;
    int i, j;

    FZ_ASSERT(resp->status == 200, "OK for HTTP %ld", resp->status);
    FZ_ASSERT(c->active == 1, "OK but not active");
    obj = oa2f_json_parse_object(resp->body, resp->body_len, &err);
    FZ_ASSERT(obj != NULL, "OK for an answer that does not parse: %s", err);

    members = top_level_members(resp->body, resp->body_len);
    if (members >= 0) {
        FZ_ASSERT(members == (long)json_object_object_length(obj),
                  "OK for an answer with repeated members (%ld in the text, "
                  "%d in json-c)", members, json_object_object_length(obj));
    }

    switch (d) {
    case 0:      /* introspection */
        FZ_ASSERT(json_object_object_get_ex(obj, "active", &v) && v
                  && json_object_is_type(v, json_type_boolean)
                  && json_object_get_boolean(v),
                  "introspection OK without \"active\": true");
        FZ_ASSERT(c->expires_at == expected_expiry(obj, "exp", 0),
                  "exp %lld not as expected", c->expires_at);
        break;
    case 1:      /* pingfederate */
        FZ_ASSERT(json_object_object_get_ex(obj, "token_type", &v) && v
                  && json_object_is_type(v, json_type_string)
                  && strcmp(json_object_get_string(v), PING_VALIDATED) == 0,
                  "pingfederate OK without the validated_token type");
        if (json_object_object_get_ex(obj, "access_token", &attrs) && attrs) {
            FZ_ASSERT(json_object_is_type(attrs, json_type_object),
                      "pingfederate OK with a non-object access_token");
        }
        /* fall through */
    default:     /* relative expiry */
        FZ_ASSERT(c->expires_at == expected_expiry(obj, "expires_in", 1),
                  "expires_in gave %lld", c->expires_at);
        break;
    }
    FZ_ASSERT(c->expires_at >= -1 && c->expires_at <= SENT_AT + MAX_EPOCH,
              "expires_at %lld out of range", c->expires_at);

    /* fields */
    FZ_ASSERT(c->fields->nelts <= MAX_FIELDS, "%d fields", c->fields->nelts);
    for (i = 0; i < c->fields->nelts; i++) {
        const oa2f_field_t *f = &APR_ARRAY_IDX(c->fields, i, oa2f_field_t);
        int from_outer, from_attrs;

        FZ_ASSERT(f->name && f->value, "field %d incomplete", i);
        FZ_ASSERT(f->value[f->value_len] == '\0',
                  "field %s not NUL-terminated", f->name);
        for (j = 0; j < i; j++) {
            FZ_ASSERT(strcmp(APR_ARRAY_IDX(c->fields, j, oa2f_field_t).name,
                             f->name) != 0, "field %s twice", f->name);
        }
        FZ_ASSERT(oa2f_claims_get(c, f->name) == f, "get(%s) wrong", f->name);
        from_outer = field_from(p, f, obj);
        from_attrs = attrs && field_from(p, f, attrs);
        FZ_ASSERT(from_outer || from_attrs,
                  "field %s is not a rendered member of the answer", f->name);
        if (d == 2 || d == 1) {
            /* the token itself (openam) / the attribute object (ping) */
            FZ_ASSERT(strcmp(f->name, "access_token") != 0 || from_attrs,
                      "%s hands on access_token", DIALECTS[d]);
        }
    }

    /* scope and client id */
    check_scopes(p, c, obj);
    if (json_object_object_get_ex(obj, "client_id", &v) && v
        && json_object_is_type(v, json_type_string)
        && !(strict && has_nul(v))) {
        FZ_ASSERT(c->client_id
                  && strcmp(c->client_id, json_object_get_string(v)) == 0,
                  "client_id not taken from the answer");
    }
    else {
        FZ_ASSERT(c->client_id == NULL, "client_id from nowhere");
    }
    json_object_put(obj);
}

static int verbose = -1;          /* FUZZ_VERBOSE=1: print each outcome */

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    apr_pool_t *p;
    oa2f_provider_t prov;
    oa2f_http_resp_t resp;
    oa2f_claims_t *claims = NULL;
    const char *why = NULL;
    oa2f_outcome_e rc;
    char *body;
    int d;

    if (size < 1) {
        return 0;
    }
    p = fz_pool_begin();
    d = data[0] % 4;
    body = fz_cstr(data + 1, size - 1);

    memset(&prov, 0, sizeof(prov));
    prov.dialect = oa2f_dialect_find(DIALECTS[d]);
    FZ_ASSERT(prov.dialect != NULL, "dialect %s missing", DIALECTS[d]);
    prov.endpoint = "https://as.example.com/oauth2/introspect";
    prov.client_id = "rs-gateway";
    prov.client_secret = "s3cr3t";
    prov.auth = OA2F_AUTH_BASIC;
    prov.token_send = OA2F_TOKEN_SEND_QUERY;
    prov.connect_timeout_ms = 2000;
    prov.total_timeout_ms = 5000;
    prov.ssl_verify = 1;
    prov.max_answer = OA2F_MAX_ANSWER;
    oa2f_provider_finish(p, &prov);

    memset(&resp, 0, sizeof(resp));
    resp.status = STATUSES[(data[0] / 4) % 6];
    resp.body = body;
    resp.body_len = size - 1;
    resp.sent_at = SENT_AT;
    resp.elapsed = 0.01;

    rc = prov.dialect->interpret(p, &prov, &resp, &claims, &why);
    if (verbose < 0) {
        const char *e = getenv("FUZZ_STRICT");
        verbose = getenv("FUZZ_VERBOSE") != NULL;
        strict = !(e && strcmp(e, "0") == 0);   /* on unless FUZZ_STRICT=0 */
    }
    if (verbose) {
        fprintf(stderr, "%s %ld: outcome %d, %d fields, expires_at %lld: %s\n",
                DIALECTS[d], resp.status, (int)rc,
                claims ? claims->fields->nelts : -1,
                claims ? claims->expires_at : 0LL, why ? why : "-");
    }

    FZ_ASSERT(rc == OA2F_OK || rc == OA2F_INACTIVE || rc == OA2F_BAD_ANSWER
              || rc == OA2F_REJECTED, "%s gave outcome %d", DIALECTS[d],
              (int)rc);
    if (rc != OA2F_OK) {
        FZ_ASSERT(why && *why, "%s: outcome %d without a reason",
                  DIALECTS[d], (int)rc);
    }
    if (rc == OA2F_OK || rc == OA2F_INACTIVE) {
        FZ_ASSERT(claims != NULL, "%s: no claims", DIALECTS[d]);
        FZ_ASSERT(claims->raw == resp.body && claims->raw_len == resp.body_len,
                  "raw answer not kept");
        FZ_ASSERT(claims->fields && claims->scopes, "claims incomplete");
    }
    if (rc == OA2F_INACTIVE) {
        FZ_ASSERT(!claims->active, "inactive but active");
        FZ_ASSERT(claims->fields->nelts == 0 && claims->scopes->nelts == 0
                  && claims->client_id == NULL,
                  "%s: an inactive answer exposes its members", DIALECTS[d]);
    }
    if (rc == OA2F_OK) {
        check_ok(p, d, &resp, claims);
    }
    if (rc == OA2F_OK || rc == OA2F_INACTIVE) {
        check_prepared(p, claims);
    }

    free(body);
    fz_pool_end(p);
    return 0;
}
