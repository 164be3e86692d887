/* oa2f_cache_entry.c: the versioned, checksummed encoding of cache values
 * (README "Cache"; docs/cache-format.md): round trips, entries too large,
 * truncated, corrupted, hostile, or whose prepared members lie. */
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <apr_strings.h>
#include <apr_tables.h>

#include "unit.h"
#include "oa2f_cache_entry.h"
#include "oa2f_dialect.h"
#include "oa2f_sanitize.h"

/* An assertion for hot loops: Check records every passing ck_assert (a
 * write per call without fork), which thousands of iterations under
 * valgrind turn into minutes; this only calls Check on failure. */
#define FAIL_IF(cond, ...)                                                    \
    do {                                                                      \
        if (cond) {                                                           \
            ck_abort_msg(__VA_ARGS__);                                        \
        }                                                                     \
    } while (0)

/* The time the (imaginary) request was sent: 2026-01-01T00:00:00Z. */
#define SENT 1767225600LL

/* A field name longer than an environment suffix keeps (256 bytes). */
#define LONG_NAME                                                             \
    "very_long_field_name_0123456789_0123456789_0123456789_0123456789_"       \
    "very_long_field_name_0123456789_0123456789_0123456789_0123456789_"       \
    "very_long_field_name_0123456789_0123456789_0123456789_0123456789_"       \
    "very_long_field_name_0123456789_0123456789_0123456789_0123456789_"       \
    "very_long_field_name"

/* ---- helpers ---------------------------------------------------------- */

static void put32(unsigned char *b, apr_uint32_t v)
{
    b[0] = v & 0xff;
    b[1] = (v >> 8) & 0xff;
    b[2] = (v >> 16) & 0xff;
    b[3] = (v >> 24) & 0xff;
}

/* Rewrite the trailing checksum of buf[0..len) so that only the parser,
 * not the checksum, stands between a hostile entry and a verdict. */
static void reseal(unsigned char *buf, apr_size_t len)
{
    put32(buf + len - 4, oa2f_entry_check(buf, len - 4));
}

static apr_status_t free_copy(void *mem)
{
    free(mem);
    return APR_SUCCESS;
}

/* Decode from a calloc'd copy of exactly len bytes, so that valgrind and
 * ASan see any read past the end. The decoded strings point into the
 * copy: it lives as long as p. */
static int decode_exact(apr_pool_t *p, const unsigned char *buf,
                        apr_size_t len, oa2f_claims_t **c,
                        long long *validated_at)
{
    unsigned char *copy = calloc(len ? len : 1, 1);

    FAIL_IF(copy == NULL, "out of memory");
    apr_pool_cleanup_register(p, copy, free_copy, apr_pool_cleanup_null);
    if (len) {
        memcpy(copy, buf, len);
    }
    return oa2f_entry_decode(p, copy, len, c, validated_at);
}

/* A hand-built encoding: the pieces, then the checksum. */
typedef struct {
    unsigned char *buf;
    apr_size_t len;
} wbuf_t;

static wbuf_t *wb_make(void)
{
    wbuf_t *w = apr_pcalloc(ut_pool, sizeof(*w));

    w->buf = apr_palloc(ut_pool, 4096);
    return w;
}

static void wb_bytes(wbuf_t *w, const void *b, apr_size_t n)
{
    ck_assert_uint_le(w->len + n, 4096 - 4);
    memcpy(w->buf + w->len, b, n);
    w->len += n;
}

static void wb_u32(wbuf_t *w, apr_uint32_t v)
{
    unsigned char b[4];

    put32(b, v);
    wb_bytes(w, b, 4);
}

static void wb_i64(wbuf_t *w, long long v)
{
    apr_uint64_t u = (apr_uint64_t)v;

    wb_u32(w, (apr_uint32_t)(u & 0xffffffffu));
    wb_u32(w, (apr_uint32_t)(u >> 32));
}

static void wb_str(wbuf_t *w, const char *s)
{
    wb_u32(w, (apr_uint32_t)strlen(s));
    wb_bytes(w, s, strlen(s) + 1);
}

/* "OA2F", version, active, validated_at, expires_at. */
static void wb_head(wbuf_t *w, int version, int active)
{
    wb_bytes(w, "OA2F", 4);
    wb_bytes(
        w, (unsigned char[]){ (unsigned char)version, (unsigned char)active },
        2);
    wb_i64(w, SENT);
    wb_i64(w, SENT + 3600);
}

/* Append the checksum; the finished length. */
static apr_size_t wb_seal(wbuf_t *w)
{
    wb_u32(w, oa2f_entry_check(w->buf, w->len));
    return w->len;
}

static const oa2f_provider_t *introspection_provider(void)
{
    oa2f_provider_t *p = apr_pcalloc(ut_pool, sizeof(*p));

    p->dialect = oa2f_dialect_find("introspection");
    ck_assert_ptr_nonnull(p->dialect);
    p->endpoint = "https://as.example.com/oauth2/introspect";
    p->client_id = "rs-gateway";
    p->client_secret = "s3cr3t";
    p->auth = OA2F_AUTH_BASIC;
    p->connect_timeout_ms = 2000;
    p->total_timeout_ms = 5000;
    p->ssl_verify = 1;
    p->max_answer = OA2F_MAX_ANSWER;
    oa2f_provider_finish(ut_pool, p);
    return p;
}

/* Claims as the introspection dialect makes them from an answer, not yet
 * prepared. */
static oa2f_claims_t *interpreted(long status, const char *body,
                                  apr_size_t body_len, oa2f_outcome_e want)
{
    const oa2f_provider_t *p = introspection_provider();
    oa2f_http_resp_t *r = apr_pcalloc(ut_pool, sizeof(*r));
    oa2f_claims_t *c = NULL;
    const char *why = NULL;
    oa2f_outcome_e o;

    r->status = status;
    r->body = apr_pstrmemdup(ut_pool, body, body_len);
    r->body_len = body_len;
    r->sent_at = SENT;
    r->elapsed = 0.01;
    o = p->dialect->interpret(ut_pool, p, r, &c, &why);
    ck_assert_msg(o == want, "interpret: %s, not %s (%s)",
                  oa2f_outcome_name(o), oa2f_outcome_name(want),
                  why ? why : "-");
    ck_assert_ptr_nonnull(c);
    return c;
}

/* ... and prepared, as oa2f_remote_validate() hands them to the cache. */
static oa2f_claims_t *introspect(long status, const char *body,
                                 apr_size_t body_len, oa2f_outcome_e want)
{
    oa2f_claims_t *c = interpreted(status, body, body_len, want);

    oa2f_claims_prepare(ut_pool, c);
    return c;
}

static void same_strings(const char *what, const apr_array_header_t *a,
                         const apr_array_header_t *b)
{
    int i;

    if (!a || !b) {
        ck_assert_msg(a == b, "%s: %s vs %s", what, a ? "array" : "NULL",
                      b ? "array" : "NULL");
        return;
    }
    ck_assert_msg(a->nelts == b->nelts, "%s: %d vs %d elements", what,
                  a->nelts, b->nelts);
    for (i = 0; i < a->nelts; i++) {
        ck_assert_str_eq(APR_ARRAY_IDX(a, i, const char *),
                         APR_ARRAY_IDX(b, i, const char *));
    }
}

/* d, decoded from an entry of the prepared claims c, carries everything
 * of c: the normalised result as it is, what the backend is shown, and
 * the raw answer as it is shown (without control characters: the entry
 * stores shown_raw, which is all a hit hands on). */
static void same_claims(const oa2f_claims_t *c, const oa2f_claims_t *d)
{
    int i;

    ck_assert_int_eq(c->active, d->active);
    ck_assert(c->expires_at == d->expires_at);
    if (!c->client_id || !d->client_id) {
        ck_assert_ptr_eq(c->client_id, d->client_id);
    }
    else {
        ck_assert_str_eq(c->client_id, d->client_id);
    }
    same_strings("scopes", c->scopes, d->scopes);
    ck_assert_int_eq(c->fields->nelts, d->fields->nelts);
    for (i = 0; i < c->fields->nelts; i++) {
        const oa2f_field_t *fc = &APR_ARRAY_IDX(c->fields, i, oa2f_field_t);
        const oa2f_field_t *fd = &APR_ARRAY_IDX(d->fields, i, oa2f_field_t);

        ck_assert_str_eq(fc->name, fd->name);
        ck_assert_msg(fc->value_len == fd->value_len,
                      "field %s: value_len %d vs %d", fc->name,
                      (int)fc->value_len, (int)fd->value_len);
        ck_assert_mem_eq(fc->value, fd->value, fc->value_len);
        ck_assert_msg(fd->value[fd->value_len] == '\0',
                      "field %s: value not terminated", fd->name);
        same_strings(fc->name, fc->items, fd->items);
        ck_assert_ptr_nonnull(fc->shown);
        ck_assert_ptr_nonnull(fd->shown);
        ck_assert_msg(strcmp(fc->shown, fd->shown) == 0,
                      "field %s: shown \"%s\", not \"%s\"", fc->name,
                      fd->shown, fc->shown);
        ck_assert_ptr_nonnull(fd->env_suffix);
        ck_assert_str_eq(fc->env_suffix, fd->env_suffix);
        ck_assert_int_eq(fc->is_token, fd->is_token);
    }
    ck_assert_ptr_nonnull(c->shown_raw);
    ck_assert_str_eq(d->raw, c->shown_raw);
    ck_assert_uint_eq(d->raw_len, strlen(c->shown_raw));
    ck_assert_ptr_nonnull(d->shown_raw);
    ck_assert_str_eq(d->shown_raw, c->shown_raw);
}

/* Nothing a backend is shown has a control character in it. */
static void nothing_unclean(const oa2f_claims_t *d)
{
    int i;

    for (i = 0; i < d->fields->nelts; i++) {
        const oa2f_field_t *f = &APR_ARRAY_IDX(d->fields, i, oa2f_field_t);
        const char *s;

        for (s = f->shown; *s; s++) {
            FAIL_IF((unsigned char)*s < 0x20 || *s == 0x7f,
                    "field %s: shown with byte 0x%02x", f->name,
                    (unsigned char)*s);
        }
        for (s = f->env_suffix; *s; s++) {
            FAIL_IF(!((*s >= 'A' && *s <= 'Z') || (*s >= '0' && *s <= '9')
                      || *s == '_'),
                    "field %s: env suffix %s", f->name, f->env_suffix);
        }
    }
    for (i = 0; d->shown_raw[i]; i++) {
        FAIL_IF((unsigned char)d->shown_raw[i] < 0x20
                    || d->shown_raw[i] == 0x7f,
                "raw shown with byte 0x%02x", (unsigned char)d->shown_raw[i]);
    }
}

static unsigned char *encode(const oa2f_claims_t *c, long long validated_at,
                             apr_size_t *len)
{
    unsigned char *buf = NULL;

    ck_assert_int_eq(oa2f_entry_encode(ut_pool, c, validated_at, &buf, len),
                     1);
    ck_assert_ptr_nonnull(buf);
    ck_assert_uint_le(*len, OA2F_CACHE_MAX_ENTRY);
    return buf;
}

/* ---- oa2f_entry_encode / oa2f_entry_decode: round trips ---------------- */

/* The format version the hand-made entries below are written in. */
#define ENTRY_VERSION 2

/* docs/providers.md §3.2, plus the shapes a field can take. */
static const char answer_full[] =
    "{\n"
    "  \"active\": true,\n"
    "  \"iss\": \"https://as.example.com/\",\n"
    "  \"sub\": \"248289761001\",\n"
    "  \"username\": \"j\\u00fcrgen\",\n"
    "  \"client_id\": \"mobile-app-7\",\n"
    "  \"scope\": \"orders:read orders:write openid\",\n"
    "  \"aud\": [\"https://api.example.net/orders\", \"billing\"],\n"
    "  \"groups\": [],\n"
    "  \"mixed\": [1, \"a\", null, {\"b\": [true]}],\n"
    "  \"role\": \"adm\\u0000in\",\n"
    "  \"tags\": [\"adm\\u0000in\", \"staff\"],\n"
    "  \"motto\": \"line one\\r\\nline two\\t!\",\n"
    "  \"address\": {\"city\": \"Paris\", \"zip\": 75001},\n"
    "  \"x-tenant.id\": \"acme\",\n"
    "  \"given name\": \"Jo\",\n"
    "  \"token_type\": \"Bearer\",\n"
    "  \"email_verified\": false,\n"
    "  \"ratio\": 0.5,\n"
    "  \"empty\": \"\",\n"
    "  \"iat\": 1767225600,\n"
    "  \"exp\": 1767229200,\n"
    "  \"jti\": \"b8f4c0a2-1d2e\"\n"
    "}\n";

typedef struct {
    const char *name;
    long status;
    const char *body;
    oa2f_outcome_e outcome;
    long long validated_at;
} trip_case_t;

static const trip_case_t trip_cases[] = {
    { "full answer", 200, answer_full, OA2F_OK, SENT },
    { "no client_id, no scope, no exp", 200,
      "{\"active\":true,\"sub\":\"svc\"}", OA2F_OK, SENT },
    { "scope as an array", 200,
      "{\"active\":true,\"scope\":[\"a\",\"b\"],\"client_id\":\"\","
      "\"exp\":1767229200}",
      OA2F_OK, 0 },
    { "expiry in the past", 200,
      "{\"active\":true,\"exp\":0,\"client_id\":\"c\"}", OA2F_OK, -1 },
    { "only active", 200, "{\"active\":true}", OA2F_OK, LLONG_MAX },
    { "not active", 200, "{\"active\":false}", OA2F_INACTIVE, SENT },
    { "not active, with members", 200,
      "{\"active\":false,\"sub\":\"x\",\"exp\":1767229200}", OA2F_INACTIVE,
      LLONG_MIN },
    { "unsupported_token_type", 400, "{\"error\":\"unsupported_token_type\"}",
      OA2F_INACTIVE, SENT },
};

START_TEST(test_entry_round_trip)
{
    const trip_case_t *tc = &trip_cases[_i];
    oa2f_claims_t *c = introspect(tc->status, tc->body, strlen(tc->body),
                                  tc->outcome);
    oa2f_claims_t *d = NULL;
    unsigned char *buf, *again;
    apr_size_t len, len2;
    long long at = 0;

    buf = encode(c, tc->validated_at, &len);
    ck_assert_int_eq(decode_exact(ut_pool, buf, len, &d, &at), 1);
    ck_assert_ptr_nonnull(d);
    ck_assert(at == tc->validated_at);
    same_claims(c, d);
    nothing_unclean(d);
    ck_assert_int_eq(d->active, tc->outcome == OA2F_OK);

    /* decoded claims are prepared already, and encode to the same bytes */
    oa2f_claims_prepare(ut_pool, d);
    same_claims(c, d);
    again = encode(d, at, &len2);
    ck_assert_uint_eq(len, len2);
    ck_assert_mem_eq(buf, again, len);

    /* deterministic */
    again = encode(c, tc->validated_at, &len2);
    ck_assert_uint_eq(len, len2);
    ck_assert_mem_eq(buf, again, len);
}
END_TEST

/* The details the full answer exercises, checked one by one. */
START_TEST(test_entry_round_trip_details)
{
    oa2f_claims_t *c = introspect(200, answer_full, strlen(answer_full),
                                  OA2F_OK);
    oa2f_claims_t *d = NULL;
    const oa2f_field_t *f;
    unsigned char *buf, *copy;
    apr_size_t len;
    long long at = 0;

    buf = encode(c, SENT + 5, &len);
    /* no copy: the strings point into the caller's buffer */
    copy = apr_pmemdup(ut_pool, buf, len);
    ck_assert_int_eq(oa2f_entry_decode(ut_pool, copy, len, &d, &at), 1);
    ck_assert((const unsigned char *)d->raw > copy
              && (const unsigned char *)d->raw < copy + len);
    f = oa2f_claims_get(d, "sub");
    ck_assert((const unsigned char *)f->value > copy
              && (const unsigned char *)f->value < copy + len);

    ck_assert(at == SENT + 5);
    ck_assert_int_eq(d->active, 1);
    ck_assert(d->expires_at == 1767229200LL);
    ck_assert_str_eq(d->client_id, "mobile-app-7");
    ck_assert_int_eq(d->scopes->nelts, 3);
    ck_assert_str_eq(APR_ARRAY_IDX(d->scopes, 2, const char *), "openid");

    /* a NUL inside a value stays inside, and matches nothing shorter */
    f = oa2f_claims_get(d, "role");
    ck_assert_ptr_nonnull(f);
    ck_assert_uint_eq(f->value_len, 6);
    ck_assert_mem_eq(f->value, "adm\0in", 7);
    ck_assert_str_eq(f->shown, "admin");
    ck_assert_int_eq(oa2f_claims_field_matches(d, "role", "adm"), 0);
    ck_assert_int_eq(oa2f_claims_field_matches(d, "role", "admin"), 0);
    ck_assert_int_eq(oa2f_claims_field_matches(d, "tags", "adm"), 0);
    ck_assert_int_eq(oa2f_claims_field_matches(d, "tags", "admin"), 0);
    ck_assert_int_eq(oa2f_claims_field_matches(d, "tags", "staff"), 1);

    /* controls: kept in the value, dropped from what is shown */
    f = oa2f_claims_get(d, "motto");
    ck_assert_str_eq(f->value, "line one\r\nline two\t!");
    ck_assert_str_eq(f->shown, "line oneline two!");
    /* no controls: shown is the value itself */
    f = oa2f_claims_get(d, "sub");
    ck_assert_ptr_eq(f->shown, f->value);
    ck_assert_str_eq(f->env_suffix, "SUB");
    ck_assert_int_eq(f->is_token, 1);
    ck_assert_ptr_null(f->items);

    /* names: environment suffix and header eligibility */
    f = oa2f_claims_get(d, "x-tenant.id");
    ck_assert_str_eq(f->env_suffix, "X_TENANT_ID");
    ck_assert_int_eq(f->is_token, 1);
    f = oa2f_claims_get(d, "given name");
    ck_assert_str_eq(f->env_suffix, "GIVEN_NAME");
    ck_assert_int_eq(f->is_token, 0);

    /* arrays: present, empty, mixed; objects have no items */
    f = oa2f_claims_get(d, "aud");
    ck_assert_ptr_nonnull(f->items);
    ck_assert_int_eq(f->items->nelts, 2);
    ck_assert_int_eq(oa2f_claims_field_matches(d, "aud", "billing"), 1);
    f = oa2f_claims_get(d, "groups");
    ck_assert_ptr_nonnull(f->items);
    ck_assert_int_eq(f->items->nelts, 0);
    ck_assert_uint_eq(f->value_len, 0);
    f = oa2f_claims_get(d, "mixed");
    ck_assert_int_eq(f->items->nelts, 4);
    ck_assert_ptr_null(oa2f_claims_get(d, "address")->items);
    ck_assert_str_eq(oa2f_claims_get(d, "username")->value, "j\xc3\xbcrgen");
    ck_assert_str_eq(oa2f_claims_get(d, "email_verified")->value, "false");
    ck_assert_uint_eq(oa2f_claims_get(d, "empty")->value_len, 0);

    /* the answer as a hit hands it on: one line, nothing else lost */
    ck_assert_str_eq(
        d->raw, oa2f_clean_value(ut_pool, answer_full, strlen(answer_full)));
    ck_assert_ptr_null(strchr(d->raw, '\n'));
    ck_assert_ptr_nonnull(strstr(d->raw, "\"jti\": \"b8f4c0a2-1d2e\"}"));
}
END_TEST

/* Claims made by hand: what no dialect produces today but the format
 * carries. */
START_TEST(test_entry_round_trip_hand_made)
{
    oa2f_claims_t *c = oa2f_claims_make(ut_pool), *d = NULL;
    oa2f_field_t *f;
    unsigned char *buf;
    apr_size_t len;
    long long at = 0;

    /* nothing at all: empty raw, no fields, no scopes */
    oa2f_claims_prepare(ut_pool, c);
    buf = encode(c, 0, &len);
    ck_assert_int_eq(decode_exact(ut_pool, buf, len, &d, &at), 1);
    same_claims(c, d);
    ck_assert_ptr_null(d->client_id);
    ck_assert_uint_eq(d->raw_len, 0);
    ck_assert_int_eq(d->fields->nelts, 0);
    ck_assert_int_eq(d->scopes->nelts, 0);

    /* extremes of the integers, binary raw, values with NULs */
    c = oa2f_claims_make(ut_pool);
    c->active = 1;
    c->expires_at = LLONG_MIN;
    c->client_id = "";
    APR_ARRAY_PUSH(c->scopes, const char *) = "";
    APR_ARRAY_PUSH(c->scopes, const char *) = "a b";
    oa2f_claims_add(ut_pool, c, "", "", 0);
    oa2f_claims_add(ut_pool, c, "nul", "\0\0\0", 3);
    oa2f_claims_add(ut_pool, c, "del",
                    "a\x7f"
                    "b",
                    3);
    f = oa2f_claims_add(ut_pool, c, "list", "", 0);
    f->items = apr_array_make(ut_pool, 1, sizeof(const char *));
    APR_ARRAY_PUSH(f->items, const char *) = "";
    c->raw = "\0\xff\x01raw\n\0";
    c->raw_len = 9;
    oa2f_claims_prepare(ut_pool, c);
    buf = encode(c, LLONG_MAX, &len);
    ck_assert_int_eq(decode_exact(ut_pool, buf, len, &d, &at), 1);
    ck_assert(at == LLONG_MAX);
    same_claims(c, d);
    nothing_unclean(d);
    ck_assert_str_eq(d->client_id, "");
    ck_assert_str_eq(d->raw, "\xffraw");
    ck_assert_str_eq(oa2f_claims_get(d, "nul")->shown, "");
    ck_assert_str_eq(oa2f_claims_get(d, "del")->shown, "ab");
    ck_assert_int_eq(oa2f_claims_get(d, "")->is_token, 0);
}
END_TEST

/* Claims that were never prepared are stored as prepared ones: a hit
 * shows the backend the same as a fresh validation would. */
START_TEST(test_entry_unprepared)
{
    static const char body[] =
        "{\"active\":true,\"sub\":\"jdoe\",\"motto\":\"a\\r\\nX-Evil: 1\","
        "\"role\":\"adm\\u0000in\",\"given name\":\"Jo\"}";
    oa2f_claims_t *c = interpreted(200, body, strlen(body), OA2F_OK);
    oa2f_claims_t *p = introspect(200, body, strlen(body), OA2F_OK);
    oa2f_claims_t *d = NULL;
    unsigned char *buf;
    apr_size_t len;
    long long at;

    ck_assert_ptr_null(oa2f_claims_get(c, "motto")->shown);
    buf = encode(c, SENT, &len);
    ck_assert_int_eq(decode_exact(ut_pool, buf, len, &d, &at), 1);
    nothing_unclean(d);
    same_claims(p, d);
    ck_assert_str_eq(oa2f_claims_get(d, "motto")->shown, "aX-Evil: 1");
}
END_TEST

/* Answers too large for an entry are not encoded; the largest that is
 * encoded also decodes. */
START_TEST(test_entry_too_large)
{
    apr_size_t big = 70 * 1024, len = 12345, n, lo, hi;
    char *body = apr_palloc(ut_pool, big + 1);
    unsigned char *buf = (unsigned char *)"untouched";
    oa2f_claims_t *c, *d;
    long long at;

    /* a realistic oversized answer: one huge member */
    memset(body, 'x', big);
    memcpy(body, "{\"active\":true,\"pad\":\"", 22);
    memcpy(body + big - 2, "\"}", 2);
    body[big] = '\0';
    c = introspect(200, body, big, OA2F_OK);
    ck_assert_int_eq(oa2f_entry_encode(ut_pool, c, SENT, &buf, &len), 0);
    ck_assert_str_eq((const char *)buf, "untouched");
    ck_assert_uint_eq(len, 12345);

    /* the raw answer alone over the limit */
    c = oa2f_claims_make(ut_pool);
    c->raw = body;
    c->raw_len = big;
    ck_assert_int_eq(oa2f_entry_encode(ut_pool, c, SENT, &buf, &len), 0);
    c->raw_len = OA2F_CACHE_MAX_ENTRY;
    ck_assert_int_eq(oa2f_entry_encode(ut_pool, c, SENT, &buf, &len), 0);

    /* the boundary: the largest raw that encodes decodes again */
    lo = 0;
    hi = OA2F_CACHE_MAX_ENTRY;
    while (hi - lo > 1) {
        apr_size_t mid = (lo + hi) / 2;
        c->raw_len = mid;
        if (oa2f_entry_encode(ut_pool, c, SENT, &buf, &len)) {
            lo = mid;
        }
        else {
            hi = mid;
        }
    }
    ck_assert_uint_gt(lo, OA2F_CACHE_MAX_ENTRY - 128);
    for (n = lo - 2; n <= lo; n++) {
        c->raw_len = n;
        buf = encode(c, SENT, &len);
        d = NULL;
        ck_assert_int_eq(decode_exact(ut_pool, buf, len, &d, &at), 1);
        ck_assert_uint_eq(d->raw_len, n);
    }

    /* a decoder never takes more than an entry can hold */
    n = OA2F_CACHE_MAX_ENTRY + 1;
    buf = apr_pcalloc(ut_pool, n);
    memcpy(buf, "OA2F", 4);
    buf[4] = ENTRY_VERSION;
    buf[5] = 1;
    reseal(buf, n);
    ck_assert_int_eq(oa2f_entry_decode(ut_pool, buf, n, &d, &at), 0);
}
END_TEST

/* ---- decoding damaged entries ---------------------------------------- */

/* A valid encoding of the full answer. */
static unsigned char *sample(apr_size_t *len)
{
    oa2f_claims_t *c = introspect(200, answer_full, strlen(answer_full),
                                  OA2F_OK);

    return encode(c, SENT, len);
}

/* Every prefix is refused: as it is (the check no longer matches) and
 * with a correct check for the prefix (the parser runs out). */
START_TEST(test_entry_truncated)
{
    apr_size_t len, n;
    unsigned char *buf = sample(&len);
    unsigned char *copy = apr_palloc(ut_pool, len);
    apr_pool_t *sub;
    oa2f_claims_t *d;
    long long at;

    ck_assert_int_eq(apr_pool_create(&sub, ut_pool), APR_SUCCESS);
    for (n = 0; n < len; n++) {
        d = NULL;
        FAIL_IF(decode_exact(sub, buf, n, &d, &at) != 0 || d != NULL,
                "a %d-byte prefix of %d decoded", (int)n, (int)len);
        if (n >= 4) {
            /* content buf[0..n-4) sealed with its own check */
            memcpy(copy, buf, n - 4);
            reseal(copy, n);
            FAIL_IF(decode_exact(sub, copy, n, &d, &at) != 0 || d != NULL,
                    "a resealed %d-byte prefix decoded", (int)n);
        }
        apr_pool_clear(sub);
    }
    /* and the whole thing still decodes */
    ck_assert_int_eq(decode_exact(sub, buf, len, &d, &at), 1);
}
END_TEST

/* What this process keeps in its own copy is decoded without comparing
 * the check word (oa2f_entry_decode_kept), to the same claims; the
 * structure is checked all the same: every prefix is refused. */
START_TEST(test_entry_decode_kept)
{
    apr_size_t len, n;
    unsigned char *buf = sample(&len);
    oa2f_claims_t *c, *d;
    long long at, at_kept;
    apr_pool_t *sub;

    ck_assert_int_eq(oa2f_entry_decode(ut_pool, buf, len, &c, &at), 1);
    ck_assert_int_eq(oa2f_entry_decode_kept(ut_pool, buf, len, &d, &at_kept),
                     1);
    same_claims(c, d);
    ck_assert(at_kept == at);

    ck_assert_int_eq(apr_pool_create(&sub, ut_pool), APR_SUCCESS);
    for (n = 0; n < len; n++) {
        unsigned char *copy = calloc(n ? n : 1, 1);

        FAIL_IF(copy == NULL, "out of memory");
        memcpy(copy, buf, n);
        d = NULL;
        FAIL_IF(oa2f_entry_decode_kept(sub, copy, n, &d, &at_kept) != 0
                    || d != NULL,
                "a %d-byte prefix of %d decoded", (int)n, (int)len);
        free(copy);
        apr_pool_clear(sub);
    }

    /* the check word alone is what it does not look at */
    buf[len - 1] ^= 0x01;
    ck_assert_int_eq(oa2f_entry_decode(ut_pool, buf, len, &d, &at_kept), 0);
    ck_assert_int_eq(oa2f_entry_decode_kept(ut_pool, buf, len, &d, &at_kept),
                     1);
}
END_TEST

/* Any one byte changed is caught by the check; changed and resealed, the
 * parser must cope: refuse, or decode to something self-consistent, and
 * never read out of bounds (valgrind/ASan watch decode_exact's copy). */
START_TEST(test_entry_corrupted)
{
    static const unsigned char xors[] = { 0x01, 0x80, 0xff, 0x7f, 0x10 };
    apr_size_t len, i;
    unsigned char *buf = sample(&len);
    unsigned char *copy = apr_palloc(ut_pool, len);
    apr_pool_t *sub;
    oa2f_claims_t *d;
    long long at;
    int x, decoded = 0;

    ck_assert_int_eq(apr_pool_create(&sub, ut_pool), APR_SUCCESS);
    for (i = 0; i < len; i++) {
        for (x = 0; x < UT_N(xors) + 2; x++) {
            memcpy(copy, buf, len);
            if (x < UT_N(xors)) {
                copy[i] ^= xors[x];
            }
            else {
                /* set to 0x00 / 0xff, unless that is no change */
                unsigned char v = x == UT_N(xors) ? 0x00 : 0xff;
                if (copy[i] == v) {
                    continue;
                }
                copy[i] = v;
            }
            d = NULL;
            /* the check is 32 bits wide: a collision among these few
             * thousand variants is a one-in-a-million event, and would
             * still be no crash */
            FAIL_IF(decode_exact(sub, copy, len, &d, &at) != 0,
                    "byte %d changed, still decoded", (int)i);
            if (i < len - 4) {
                reseal(copy, len);
                if (decode_exact(sub, copy, len, &d, &at)) {
                    int f;
                    /* it happens: a changed letter in a value */
                    decoded++;
                    FAIL_IF(!d->scopes || !d->fields || !d->raw
                                || !d->shown_raw
                                || (d->active != 0 && d->active != 1),
                            "byte %d: decoded to broken claims", (int)i);
                    for (f = 0; f < d->fields->nelts; f++) {
                        const oa2f_field_t *fd = &APR_ARRAY_IDX(d->fields, f,
                                                                oa2f_field_t);
                        FAIL_IF(
                            !fd->name || !fd->value || !fd->shown
                                || !fd->env_suffix
                                || fd->value[fd->value_len] != '\0'
                                || (fd->is_token != 0 && fd->is_token != 1),
                            "byte %d: decoded to a broken field", (int)i);
                    }
                }
            }
            apr_pool_clear(sub);
        }
    }
    /* a changed byte inside a string's text does decode when resealed */
    ck_assert_int_gt(decoded, 0);
}
END_TEST

typedef enum {
    H_OK,
    H_ENV_ABSENT,
    H_SHOWN_PRESENT,
    H_MAGIC,
    H_VERSION0,
    H_VERSION1,
    H_VERSION3,
    H_VERSION255,
    H_ACTIVE2,
    H_CLIENT_PAST,
    H_CLIENT_NOT_TERMINATED,
    H_SCOPES_HUGE,
    H_SCOPES_ABSENT,
    H_SCOPE_PAST,
    H_SCOPE_ABSENT,
    H_FIELDS_HUGE,
    H_FIELDS_MAX,
    H_NAME_ABSENT,
    H_VALUE_ABSENT,
    H_VALUE_PAST,
    H_VALUE_HUGE,
    H_SHOWN_PAST,
    H_SHOWN_NOT_TERMINATED,
    H_ENV_PAST,
    H_IS_TOKEN2,
    H_IS_TOKEN_MISSING,
    H_ITEMS_HUGE,
    H_ITEMS_MISSING,
    H_ITEM_ABSENT,
    H_RAW_ABSENT,
    H_RAW_PAST,
    H_RAW_HUGE,
    H_RAW_MISSING,
    H_TRAILING,
    H_NO_FIELDS_COUNT
} hostile_e;

typedef struct {
    const char *name;
    hostile_e how;
    int ok; /* what decoding returns: 0, or OA2F_ENTRY_CLEAN / _MENDED */
} hostile_case_t;

static const hostile_case_t hostile_cases[] = {
    { "valid (the control)", H_OK, 1 },
    { "valid, no env suffix", H_ENV_ABSENT, 1 },
    { "valid, a wrong shown value stored", H_SHOWN_PRESENT, OA2F_ENTRY_MENDED },
    { "wrong magic", H_MAGIC, 0 },
    { "version 0", H_VERSION0, 0 },
    { "version 1 (before shown values)", H_VERSION1, 0 },
    { "version 3", H_VERSION3, 0 },
    { "version 255", H_VERSION255, 0 },
    { "active 2", H_ACTIVE2, 0 },
    { "client_id length past the end", H_CLIENT_PAST, 0 },
    { "client_id not NUL-terminated", H_CLIENT_NOT_TERMINATED, 0 },
    { "scope count huge", H_SCOPES_HUGE, 0 },
    { "scopes absent", H_SCOPES_ABSENT, 0 },
    { "scope length past the end", H_SCOPE_PAST, 0 },
    { "a scope absent", H_SCOPE_ABSENT, 0 },
    { "field count huge", H_FIELDS_HUGE, 0 },
    { "field count 0xffffffff", H_FIELDS_MAX, 0 },
    { "field name absent", H_NAME_ABSENT, 0 },
    { "field value absent", H_VALUE_ABSENT, 0 },
    { "field value length past the end", H_VALUE_PAST, 0 },
    { "field value length 0xfffffffe", H_VALUE_HUGE, 0 },
    { "shown length past the end", H_SHOWN_PAST, 0 },
    { "shown not NUL-terminated", H_SHOWN_NOT_TERMINATED, 0 },
    { "env suffix length past the end", H_ENV_PAST, 0 },
    { "is_token 2", H_IS_TOKEN2, 0 },
    { "is_token cut off", H_IS_TOKEN_MISSING, 0 },
    { "item count huge", H_ITEMS_HUGE, 0 },
    { "item count cut off", H_ITEMS_MISSING, 0 },
    { "an item absent", H_ITEM_ABSENT, 0 },
    { "raw absent", H_RAW_ABSENT, 0 },
    { "raw length past the end", H_RAW_PAST, 0 },
    { "raw length 0xfffffffe", H_RAW_HUGE, 0 },
    { "raw missing", H_RAW_MISSING, 0 },
    { "bytes after raw", H_TRAILING, 0 },
    { "no field count", H_NO_FIELDS_COUNT, 0 },
};

/* Hand-made entries with a correct check, each wrong in one way (or, for
 * the first few, right in another way). */
START_TEST(test_entry_hostile)
{
    const hostile_case_t *tc = &hostile_cases[_i];
    hostile_e h = tc->how;
    wbuf_t *w = wb_make();
    oa2f_claims_t *d = NULL;
    const oa2f_field_t *f;
    apr_size_t len;
    long long at = 0;
    int ok, version = ENTRY_VERSION;

    switch (h) {
    case H_VERSION0:
        version = 0;
        break;
    case H_VERSION1:
        version = 1;
        break;
    case H_VERSION3:
        version = 3;
        break;
    case H_VERSION255:
        version = 255;
        break;
    default:
        break;
    }
    if (h == H_MAGIC) {
        wb_bytes(w, "OA2G", 4);
        wb_bytes(w, (unsigned char[]){ ENTRY_VERSION, 1 }, 2);
        wb_i64(w, SENT);
        wb_i64(w, SENT + 3600);
    }
    else {
        wb_head(w, version, h == H_ACTIVE2 ? 2 : 1);
    }
    /* client_id */
    if (h == H_CLIENT_PAST) {
        wb_u32(w, 4000);
        wb_bytes(w, "abc", 4);
    }
    else if (h == H_CLIENT_NOT_TERMINATED) {
        wb_u32(w, 3);
        wb_bytes(w, "abcd", 4);
    }
    else {
        wb_str(w, "mobile-app-7");
    }
    /* scopes */
    if (h == H_SCOPES_HUGE) {
        wb_u32(w, 0x7fffffff);
    }
    else if (h == H_SCOPES_ABSENT) {
        wb_u32(w, 0xffffffff);
    }
    else {
        wb_u32(w, 2);
        wb_str(w, "orders:read");
        if (h == H_SCOPE_PAST) {
            wb_u32(w, 1000);
            wb_bytes(w, "x", 2);
        }
        else if (h == H_SCOPE_ABSENT) {
            wb_u32(w, 0xffffffff);
        }
        else {
            wb_str(w, "orders:write");
        }
    }
    if (h == H_NO_FIELDS_COUNT) {
        len = wb_seal(w);
        goto decode;
    }
    /* field 1: sub = jdoe, nothing to clean, no items */
    wb_u32(w, h == H_FIELDS_HUGE  ? 100000
              : h == H_FIELDS_MAX ? 0xffffffffu
                                  : 2);
    if (h == H_NAME_ABSENT) {
        wb_u32(w, 0xffffffff);
    }
    else {
        wb_str(w, "sub");
    }
    if (h == H_VALUE_ABSENT) {
        wb_u32(w, 0xffffffff);
    }
    else if (h == H_VALUE_PAST) {
        wb_u32(w, 500);
        wb_bytes(w, "jdoe", 5);
    }
    else if (h == H_VALUE_HUGE) {
        wb_u32(w, 0xfffffffe);
        wb_bytes(w, "jdoe", 5);
    }
    else {
        wb_str(w, "jdoe");
    }
    if (h == H_SHOWN_PRESENT) {
        wb_str(w, "JDOE");
    }
    else if (h == H_SHOWN_PAST) {
        wb_u32(w, 300);
        wb_bytes(w, "x", 2);
    }
    else if (h == H_SHOWN_NOT_TERMINATED) {
        wb_u32(w, 2);
        wb_bytes(w, "abc", 3);
    }
    else {
        wb_u32(w, 0xffffffff); /* shown: the value itself */
    }
    if (h == H_ENV_ABSENT) {
        wb_u32(w, 0xffffffff);
    }
    else if (h == H_ENV_PAST) {
        wb_u32(w, 200);
        wb_bytes(w, "SUB", 4);
    }
    else {
        wb_str(w, "SUB");
    }
    if (h == H_IS_TOKEN_MISSING) {
        len = wb_seal(w);
        goto decode;
    }
    wb_bytes(w, (unsigned char[]){ h == H_IS_TOKEN2 ? 2 : 1 }, 1);
    wb_u32(w, 0xffffffff); /* no items */
    /* field 2: aud = "a b", items a, b */
    wb_str(w, "aud");
    wb_str(w, "a b");
    wb_u32(w, 0xffffffff);
    wb_str(w, "AUD");
    wb_bytes(w, "\x01", 1);
    if (h == H_ITEMS_HUGE) {
        wb_u32(w, 0x10000000);
    }
    else if (h == H_ITEMS_MISSING) {
        /* the entry ends (before the check) where the count should be */
        len = wb_seal(w);
        goto decode;
    }
    else {
        wb_u32(w, 2);
        wb_str(w, "a");
        if (h == H_ITEM_ABSENT) {
            wb_u32(w, 0xffffffff);
        }
        else {
            wb_str(w, "b");
        }
    }
    /* raw */
    if (h == H_RAW_ABSENT) {
        wb_u32(w, 0xffffffff);
    }
    else if (h == H_RAW_PAST) {
        wb_u32(w, 6);
        wb_bytes(w, "{}", 3);
    }
    else if (h == H_RAW_HUGE) {
        wb_u32(w, 0xfffffffe);
        wb_bytes(w, "{}", 3);
    }
    else if (h != H_RAW_MISSING) {
        wb_str(w, "{}");
    }
    if (h == H_TRAILING) {
        wb_bytes(w, "\0\0\0\0", 4);
    }
    len = wb_seal(w);

decode:
    ok = decode_exact(ut_pool, w->buf, len, &d, &at);
    if (!tc->ok) {
        ck_assert_msg(ok == 0, "%s: decoded", tc->name);
        return;
    }
    ck_assert_msg(ok == tc->ok, "%s: decoded %d, not %d", tc->name, ok, tc->ok);
    ck_assert(at == SENT);
    ck_assert_int_eq(d->active, 1);
    ck_assert(d->expires_at == SENT + 3600);
    ck_assert_str_eq(d->client_id, "mobile-app-7");
    ck_assert_int_eq(d->scopes->nelts, 2);
    ck_assert_int_eq(d->fields->nelts, 2);
    f = oa2f_claims_get(d, "sub");
    ck_assert_str_eq(f->value, "jdoe");
    /* a stored shown value that is not the value cleaned is not taken */
    ck_assert_str_eq(f->shown, "jdoe");
    ck_assert_str_eq(f->env_suffix, "SUB");
    ck_assert_int_eq(f->is_token, 1);
    ck_assert_ptr_null(f->items);
    ck_assert_int_eq(oa2f_claims_field_matches(d, "aud", "b"), 1);
    ck_assert_str_eq(d->raw, "{}");
    ck_assert_str_eq(d->shown_raw, "{}");
}
END_TEST

/* ---- decoding entries whose prepared members lie ----------------------- */

/* Whoever writes the cache may store shown values, env suffixes, token
 * flags and a raw answer that are not what oa2f_claims_prepare derives
 * from the names and values. The decoder derives them again: a hit
 * shows a backend exactly what a fresh validation would. */
static const char lying_body[] = "{\n"
                                 "  \"active\": true,\n"
                                 "  \"sub\": \"jdoe\",\n"
                                 "  \"motto\": \"a\\r\\nb\",\n"
                                 "  \"given name\": \"Jo\",\n"
                                 "  \"x-tenant.id\": \"acme\",\n"
                                 "  \"" LONG_NAME "\": 1\n"
                                 "}\n";

typedef enum {
    L_NONE,
    L_SHOWN_CRLF,
    L_SHOWN_DEL,
    L_SHOWN_OTHER,
    L_SHOWN_LONGER,
    L_SHOWN_SHORTER,
    L_SHOWN_ABSENT_UNCLEAN,
    L_SHOWN_FOR_CLEAN,
    L_ENV_OTHER,
    L_ENV_CRLF,
    L_ENV_SHORTER,
    L_ENV_LONGER,
    L_ENV_LOWER,
    L_ENV_EMPTY,
    L_ENV_LONG_UNCUT,
    L_ENV_LONG_SHORT,
    L_TOKEN_SET,
    L_TOKEN_CLEARED,
    L_TOKEN_DOTTED,
    L_RAW_UNCLEAN,
    L_RAW_CR_DEL,
    L_ALL
} lie_e;

typedef struct {
    const char *name;
    lie_e how;
} lie_case_t;

static const lie_case_t lie_cases[] = {
    { "nothing (the control)", L_NONE },
    { "shown with CRLF and a header", L_SHOWN_CRLF },
    { "shown with DEL", L_SHOWN_DEL },
    { "shown another clean value", L_SHOWN_OTHER },
    { "shown one byte longer", L_SHOWN_LONGER },
    { "shown one byte shorter", L_SHOWN_SHORTER },
    { "shown absent, value with CRLF", L_SHOWN_ABSENT_UNCLEAN },
    { "shown stored for a clean value", L_SHOWN_FOR_CLEAN },
    { "env suffix of another name", L_ENV_OTHER },
    { "env suffix with CRLF", L_ENV_CRLF },
    { "env suffix shorter", L_ENV_SHORTER },
    { "env suffix longer", L_ENV_LONGER },
    { "env suffix lower-case", L_ENV_LOWER },
    { "env suffix empty", L_ENV_EMPTY },
    { "env suffix of a long name not cut", L_ENV_LONG_UNCUT },
    { "env suffix of a long name cut short", L_ENV_LONG_SHORT },
    { "is_token set for a name with a space", L_TOKEN_SET },
    { "is_token cleared for a token", L_TOKEN_CLEARED },
    { "is_token cleared for a dotted token", L_TOKEN_DOTTED },
    { "raw with newlines", L_RAW_UNCLEAN },
    { "raw with CR and DEL", L_RAW_CR_DEL },
    { "all of it", L_ALL },
};

static oa2f_field_t *field_of(oa2f_claims_t *c, const char *name)
{
    oa2f_field_t *f = (oa2f_field_t *)oa2f_claims_get(c, name);

    ck_assert_ptr_nonnull(f);
    return f;
}

static void lie(oa2f_claims_t *c, lie_e how)
{
    char *s;
    int i;

    switch (how) {
    case L_NONE:
        break;
    case L_SHOWN_CRLF:
        field_of(c, "motto")->shown = "a\r\nX-Evil: 1";
        break;
    case L_SHOWN_DEL:
        field_of(c, "sub")->shown = "jd\x7foe";
        break;
    case L_SHOWN_OTHER:
        field_of(c, "sub")->shown = "admin";
        break;
    case L_SHOWN_LONGER:
        field_of(c, "motto")->shown = "abc";
        break;
    case L_SHOWN_SHORTER:
        field_of(c, "motto")->shown = "a";
        break;
    case L_SHOWN_ABSENT_UNCLEAN:
        /* shown == value is stored as "absent: same as the value" */
        field_of(c, "motto")->shown = field_of(c, "motto")->value;
        break;
    case L_SHOWN_FOR_CLEAN:
        field_of(c, "sub")->shown = "jdoe\n";
        break;
    case L_ENV_OTHER:
        field_of(c, "sub")->env_suffix = "ADMIN";
        break;
    case L_ENV_CRLF:
        field_of(c, "sub")->env_suffix = "SUB\r\nX";
        break;
    case L_ENV_SHORTER:
        field_of(c, "sub")->env_suffix = "SU";
        break;
    case L_ENV_LONGER:
        field_of(c, "sub")->env_suffix = "SUBX";
        break;
    case L_ENV_LOWER:
        field_of(c, "x-tenant.id")->env_suffix = "x_tenant_id";
        break;
    case L_ENV_EMPTY:
        field_of(c, "given name")->env_suffix = "";
        break;
    case L_ENV_LONG_UNCUT:
    case L_ENV_LONG_SHORT:
        /* the name's suffix as it would be without the cap, or cut one
         * byte before it */
        s = apr_pstrdup(ut_pool, LONG_NAME);
        ck_assert_uint_gt(strlen(s), 256);
        for (i = 0; s[i]; i++) {
            s[i] = (char)(s[i] >= 'a' && s[i] <= 'z'   ? s[i] - 'a' + 'A'
                          : s[i] >= '0' && s[i] <= '9' ? s[i]
                                                       : '_');
        }
        if (how == L_ENV_LONG_SHORT) {
            s[255] = '\0';
        }
        field_of(c, LONG_NAME)->env_suffix = s;
        break;
    case L_TOKEN_SET:
        field_of(c, "given name")->is_token = 1;
        break;
    case L_TOKEN_CLEARED:
        field_of(c, "sub")->is_token = 0;
        break;
    case L_TOKEN_DOTTED:
        field_of(c, "x-tenant.id")->is_token = 0;
        break;
    case L_RAW_UNCLEAN:
        c->shown_raw = lying_body;
        break;
    case L_RAW_CR_DEL:
        c->shown_raw = apr_pstrcat(ut_pool, "\x7f", c->shown_raw, "\r", NULL);
        break;
    case L_ALL:
        lie(c, L_SHOWN_CRLF);
        lie(c, L_SHOWN_DEL);
        lie(c, L_ENV_CRLF);
        lie(c, L_ENV_EMPTY);
        lie(c, L_ENV_LONG_UNCUT);
        lie(c, L_TOKEN_DOTTED);
        lie(c, L_RAW_UNCLEAN);
        break;
    }
}

/* 1 when s points into buf[0..len) */
static int inside(const void *s, const unsigned char *buf, apr_size_t len)
{
    return (const unsigned char *)s >= buf
           && (const unsigned char *)s < buf + len;
}

START_TEST(test_entry_lies)
{
    const lie_case_t *tc = &lie_cases[_i];
    oa2f_claims_t *want = introspect(200, lying_body, strlen(lying_body),
                                     OA2F_OK);
    oa2f_claims_t *c = introspect(200, lying_body, strlen(lying_body),
                                  OA2F_OK);
    oa2f_claims_t *d = NULL;
    unsigned char *buf, *copy;
    apr_size_t len;
    long long at = 0;
    int i;

    lie(c, tc->how);
    buf = encode(c, SENT, &len);
    copy = apr_pmemdup(ut_pool, buf, len);
    /* a lie is mended, and said so: such an entry is not kept in the
     * per-child copy, whose decoding trusts the prepared members */
    ck_assert_int_eq(oa2f_entry_decode(ut_pool, copy, len, &d, &at),
                     tc->how == L_NONE ? OA2F_ENTRY_CLEAN : OA2F_ENTRY_MENDED);
    /* what a fresh validation of the answer shows, and nothing else */
    same_claims(want, d);
    nothing_unclean(d);
    ck_assert_str_eq(oa2f_claims_get(d, "motto")->shown, "ab");
    ck_assert_str_eq(oa2f_claims_get(d, "sub")->env_suffix, "SUB");
    ck_assert_int_eq(oa2f_claims_get(d, "given name")->is_token, 0);
    ck_assert_int_eq(oa2f_claims_get(d, "x-tenant.id")->is_token, 1);
    ck_assert_uint_eq(strlen(oa2f_claims_get(d, LONG_NAME)->env_suffix), 256);

    if (tc->how == L_NONE) {
        /* a clean entry is taken as it is: nothing derived again, every
         * member points into the buffer (the value itself when shown is
         * the value) */
        for (i = 0; i < d->fields->nelts; i++) {
            const oa2f_field_t *f = &APR_ARRAY_IDX(d->fields, i, oa2f_field_t);
            ck_assert_msg(inside(f->shown, copy, len)
                              && inside(f->env_suffix, copy, len),
                          "field %s derived again", f->name);
        }
        ck_assert_ptr_eq(oa2f_claims_get(d, "sub")->shown,
                         oa2f_claims_get(d, "sub")->value);
        ck_assert_ptr_eq(d->shown_raw, d->raw);
        ck_assert(inside(d->raw, copy, len));
    }
    /* decoding is idempotent: what was decoded encodes as a clean entry */
    buf = encode(d, at, &len);
    d = NULL;
    ck_assert_int_eq(decode_exact(ut_pool, buf, len, &d, &at), 1);
    same_claims(want, d);
}
END_TEST

Suite *cache_entry_suite(void)
{
    Suite *s = suite_create("cache_entry");
    TCase *tc;

    tc = ut_tcase("entry");
    tcase_add_loop_test(tc, test_entry_round_trip, 0, UT_N(trip_cases));
    tcase_add_test(tc, test_entry_round_trip_details);
    tcase_add_test(tc, test_entry_round_trip_hand_made);
    tcase_add_test(tc, test_entry_unprepared);
    tcase_add_test(tc, test_entry_too_large);
    tcase_add_test(tc, test_entry_truncated);
    tcase_add_test(tc, test_entry_decode_kept);
    tcase_add_test(tc, test_entry_corrupted);
    tcase_add_loop_test(tc, test_entry_hostile, 0, UT_N(hostile_cases));
    tcase_add_loop_test(tc, test_entry_lies, 0, UT_N(lie_cases));
    tcase_set_timeout(tc, 300);
    suite_add_tcase(s, tc);
    return s;
}
