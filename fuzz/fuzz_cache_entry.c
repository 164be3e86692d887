/* Fuzz target: cache value decoding, oa2f_entry_decode(), and the
 * encode/decode round trip.
 *
 * Each input is used three ways:
 *  1. decoded as it is (must never crash; almost always a bad check word);
 *  2. decoded after its last 4 bytes are replaced by the right check word,
 *     so that mutations reach the structure behind it (and decoded so
 *     again by oa2f_entry_decode_kept, which must agree, and for an entry
 *     that decoded OA2F_ENTRY_CLEAN show the same); whatever decodes
 *     shows exactly what oa2f_claims_prepare derives from its names and
 *     values (fz_check_prepared: stored shown values, env suffixes, token
 *     flags and raw answer are never trusted), and must encode again and
 *     decode to the same claims;
 *  3. read as an RFC 7662 answer (HTTP 200, introspection dialect): the
 *     claims of an OK or INACTIVE answer are encoded (as the dialect left
 *     them, and after oa2f_claims_prepare), and unless too big for the
 *     cache they decode to the same claims and validation time: same
 *     names, values, items, scopes, client id, the same shown values,
 *     env suffixes and token flags as oa2f_claims_prepare computes, and
 *     the raw answer without its control characters.
 * Names, scopes, items, shown values and the client id compare as C
 * strings (as the module reads them), values and the raw answer byte for
 * byte.
 *
 * Way 2 sets the check word with the module's own oa2f_entry_check().
 *
 * FUZZ_DUMP_ENTRIES=DIR writes the encoding of every answer of way 3 to
 * DIR (how fuzz/make_corpus.py makes the encoded seeds). */
#include <apr_strings.h>

#include "fuzz_common.h"
#include "oa2f_cache_entry.h"
#include "oa2f_dialect.h"
#include "oa2f_sanitize.h"

#define SENT_AT 1767225600LL

static void set_check(unsigned char *buf, size_t size)
{
    uint32_t sum = oa2f_entry_check(buf, size - 4);

    buf[size - 4] = (unsigned char)(sum & 0xff);
    buf[size - 3] = (unsigned char)((sum >> 8) & 0xff);
    buf[size - 2] = (unsigned char)((sum >> 16) & 0xff);
    buf[size - 1] = (unsigned char)(sum >> 24);
}

static int same_strings(const apr_array_header_t *a,
                        const apr_array_header_t *b)
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

static int same_str(const char *a, const char *b)
{
    return (!a && !b) || (a && b && strcmp(a, b) == 0);
}

/* b (decoded, so prepared) against a; a_raw is what b->raw must be */
static void check_same(const oa2f_claims_t *a, const oa2f_claims_t *b,
                       const char *a_raw, size_t a_raw_len)
{
    int i;

    FZ_ASSERT(!a->active == !b->active, "active %d vs %d", a->active,
              b->active);
    FZ_ASSERT(a->expires_at == b->expires_at, "expires_at %lld vs %lld",
              a->expires_at, b->expires_at);
    FZ_ASSERT(same_str(a->client_id, b->client_id), "client_id differs");
    FZ_ASSERT(same_strings(a->scopes, b->scopes), "scopes differ");
    FZ_ASSERT(a->fields->nelts == b->fields->nelts, "%d vs %d fields",
              a->fields->nelts, b->fields->nelts);
    for (i = 0; i < a->fields->nelts; i++) {
        const oa2f_field_t *fa = &APR_ARRAY_IDX(a->fields, i, oa2f_field_t);
        const oa2f_field_t *fb = &APR_ARRAY_IDX(b->fields, i, oa2f_field_t);
        FZ_ASSERT(strcmp(fa->name, fb->name) == 0, "field %d name differs", i);
        FZ_ASSERT(fa->value_len == fb->value_len
                  && memcmp(fa->value, fb->value, fa->value_len) == 0,
                  "field %s value differs", fa->name);
        FZ_ASSERT(fb->value[fb->value_len] == '\0',
                  "field %s not NUL-terminated", fb->name);
        FZ_ASSERT(same_strings(fa->items, fb->items),
                  "field %s items differ", fa->name);
        FZ_ASSERT(fb->shown && fb->env_suffix, "decoded field %s unprepared",
                  fb->name);
        if (fa->shown) {
            FZ_ASSERT(strcmp(fa->shown, fb->shown) == 0,
                      "field %s shown value differs", fa->name);
        }
        if (fa->env_suffix) {
            FZ_ASSERT(strcmp(fa->env_suffix, fb->env_suffix) == 0
                      && !fa->is_token == !fb->is_token,
                      "field %s env suffix or token flag differs", fa->name);
        }
    }
    FZ_ASSERT(b->raw_len == a_raw_len && memcmp(b->raw, a_raw, a_raw_len) == 0,
              "raw differs");
    FZ_ASSERT(b->raw[b->raw_len] == '\0', "raw not NUL-terminated");
    FZ_ASSERT(b->shown_raw && strcmp(b->shown_raw, b->raw) == 0,
              "decoded shown_raw is not the stored raw");
}

/* encode c, decode it, compare; 0 when c is too big for the cache */
static int round_trip(apr_pool_t *p, const oa2f_claims_t *c, long long at,
                      const char *want_raw, size_t want_raw_len)
{
    unsigned char *enc = NULL, *copy;
    apr_size_t len = 0;
    oa2f_claims_t *back = NULL, *again = NULL;
    long long back_at = 0;
    int ok;

    if (!oa2f_entry_encode(p, c, at, &enc, &len)) {
        return 0;
    }
    FZ_ASSERT(len <= OA2F_CACHE_MAX_ENTRY, "entry of %zu bytes", (size_t)len);
    copy = fz_copy(enc, len);           /* exact size for ASan */
    ok = oa2f_entry_decode(p, copy, len, &back, &back_at);
    FZ_ASSERT(ok, "an encoded entry does not decode");
    FZ_ASSERT(back_at == at, "validated_at %lld vs %lld", back_at, at);
    check_same(c, back, want_raw, want_raw_len);
    /* a changed byte is caught by the check word */
    copy[len / 2] ^= 0x10;
    FZ_ASSERT(!oa2f_entry_decode(p, copy, len, &again, &back_at),
              "a corrupt entry decoded");
    free(copy);
    return 1;
}

static void check_decoded(apr_pool_t *p, const oa2f_claims_t *c, long long at)
{
    int i;

    FZ_ASSERT(c->fields && c->scopes && c->raw, "decoded claims incomplete");
    /* whatever the entry stored, a hit shows what prepare derives */
    fz_check_prepared(p, c);
    for (i = 0; i < c->fields->nelts; i++) {
        const oa2f_field_t *f = &APR_ARRAY_IDX(c->fields, i, oa2f_field_t);
        FZ_ASSERT(f->name && f->value && f->shown && f->env_suffix,
                  "decoded field %d incomplete", i);
        FZ_ASSERT(f->value[f->value_len] == '\0', "field not terminated");
    }
    /* re-encoding what was decoded must work and read back the same */
    /* (the raw answer is written as a C string, so up to a NUL) */
    FZ_ASSERT(round_trip(p, c, at, c->raw, strlen(c->raw)),
              "a decoded entry cannot be encoded");
}

static void dump(const unsigned char *enc, apr_size_t len, const char *dir,
                 size_t n)
{
    char path[4096];
    FILE *f;

    snprintf(path, sizeof(path), "%s/entry_%zu_%08x", dir, n,
             (unsigned)oa2f_entry_check(enc, len));
    if ((f = fopen(path, "wb"))) {
        fwrite(enc, 1, len, f);
        fclose(f);
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    apr_pool_t *p = fz_pool_begin();
    unsigned char *buf = fz_copy(data, size);
    oa2f_claims_t *c = NULL;
    long long at = 0;
    oa2f_http_resp_t resp;
    const oa2f_dialect_t *dialect;
    oa2f_provider_t prov;
    const char *why = NULL, *dir;
    char *body;
    oa2f_outcome_e rc;

    /* 1. as it is */
    if (oa2f_entry_decode(p, buf, size, &c, &at)) {
        check_decoded(p, c, at);
    }

    /* 2. with a valid check word; oa2f_entry_decode_kept, which does not
     * look at it, must then agree */
    if (size >= 4) {
        oa2f_claims_t *kept = NULL;
        long long kept_at = 0;
        int ok, ok_kept;

        set_check(buf, size);
        c = NULL;
        ok = oa2f_entry_decode(p, buf, size, &c, &at);
        ok_kept = oa2f_entry_decode_kept(p, buf, size, &kept, &kept_at);
        /* what is kept decoded clean; a mended entry is never kept, and
         * the kept decoding trusts what it would have mended */
        FZ_ASSERT((ok != 0) == (ok_kept != 0) && (!ok || kept_at == at),
                  "oa2f_entry_decode_kept disagrees with oa2f_entry_decode");
        FZ_ASSERT(ok_kept == 0 || ok_kept == OA2F_ENTRY_CLEAN,
                  "oa2f_entry_decode_kept mended an entry");
        if (ok) {
            check_decoded(p, c, at);
        }
        if (ok == OA2F_ENTRY_CLEAN) {
            check_decoded(p, kept, kept_at);
        }
    }

    /* 3. a provider answer through the introspection dialect */
    dialect = oa2f_dialect_find("introspection");
    FZ_ASSERT(dialect != NULL, "no introspection dialect");
    memset(&prov, 0, sizeof(prov));
    prov.dialect = dialect;
    prov.endpoint = "https://as.example.com/oauth2/introspect";
    prov.auth = OA2F_AUTH_NONE;
    prov.max_answer = OA2F_MAX_ANSWER;
    body = fz_cstr(data, size);
    memset(&resp, 0, sizeof(resp));
    resp.status = 200;
    resp.body = body;
    resp.body_len = size;
    resp.sent_at = SENT_AT;
    c = NULL;
    rc = dialect->interpret(p, &prov, &resp, &c, &why);
    if ((rc == OA2F_OK || rc == OA2F_INACTIVE) && c) {
        const char *shown_raw = oa2f_clean_value(p, body, size);
        size_t shown_len = strlen(shown_raw);
        long long when = SENT_AT + (long long)size;
        int fits;

        /* as the dialect left it (no prepared values yet) */
        fits = round_trip(p, c, when, shown_raw, shown_len);
        /* prepared, as the module stores it */
        oa2f_claims_prepare(p, c);
        FZ_ASSERT(c->shown_raw && strcmp(c->shown_raw, shown_raw) == 0,
                  "prepared shown_raw is not the clean answer");
        if (round_trip(p, c, when, shown_raw, shown_len)) {
            fits = 1;
        }
        else {
            FZ_ASSERT(!fits, "a prepared entry is bigger than unprepared");
        }
        if (!fits) {
            /* only an answer too big for the cache may be refused */
            FZ_ASSERT(size + 128 > OA2F_CACHE_MAX_ENTRY
                      || c->fields->nelts > 0,
                      "a small inactive answer could not be encoded");
        }
        if ((dir = getenv("FUZZ_DUMP_ENTRIES")) && *dir) {
            unsigned char *enc;
            apr_size_t len;
            if (oa2f_entry_encode(p, c, when, &enc, &len)) {
                dump(enc, len, dir, size);
            }
        }
    }

    free(body);
    free(buf);
    fz_pool_end(p);
    return 0;
}
