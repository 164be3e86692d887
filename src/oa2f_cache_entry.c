#include <string.h>
#include <apr_strings.h>

#include "oa2f_cache_entry.h"
#include "oa2f_sanitize.h"

/* Layout, all integers little-endian:
 *   "OA2F" | u8 version=2 | u8 active | i64 validated_at | i64 expires_at
 *   | str client_id (absent: len 0xFFFFFFFF) | u32 nscopes, str…
 *   | u32 nfields, { str name, str value, str shown (absent: same as
 *     value), str env_suffix, u8 is_token, u32 nitems (none: 0xFFFFFFFF),
 *     str… } | str shown_raw | u32 check (oa2f_entry_check of all before)
 * where str = u32 len, bytes, '\0' (so decoded strings need no copy).
 * What the backend is shown is stored ready (oa2f_claims_prepare), so a
 * hit allocates nothing for it; the decoder still checks it in one pass
 * (shown values and raw without controls, env suffix and token flag as
 * derived from the name) and derives what fails the check. */
#define MAGIC   "OA2F"
#define VERSION 2
#define ABSENT  0xFFFFFFFFu

/* A fast non-cryptographic check over 8-byte words: it catches torn or
 * corrupted entries, not forgery (whoever can write the cache can do
 * worse). Words are read in host order; an entry written by a host of
 * the other byte order simply fails the check and is a miss. */
apr_uint32_t oa2f_entry_check(const unsigned char *s, apr_size_t len)
{
    apr_uint64_t h = 0x9e3779b97f4a7c15ULL ^ (apr_uint64_t)len, w;
    apr_size_t i = 0;

    for (; i + 8 <= len; i += 8) {
        memcpy(&w, s + i, 8);
        h = (h ^ w) * 0x100000001b3ULL;
        h ^= h >> 29;
    }
    for (; i < len; i++) {
        h = (h ^ s[i]) * 0x100000001b3ULL;
    }
    return (apr_uint32_t)(h ^ (h >> 32));
}

/* ---- writer ------------------------------------------------------------ */

typedef struct {
    unsigned char *buf;
    apr_size_t len, cap;
    int overflow;
} writer_t;

static void put(writer_t *w, const void *data, apr_size_t n)
{
    if (w->overflow || n > w->cap - w->len) {
        w->overflow = 1;
        return;
    }
    memcpy(w->buf + w->len, data, n);
    w->len += n;
}

static void put_u32(writer_t *w, apr_uint32_t v)
{
    unsigned char b[4] = { v & 0xff, (v >> 8) & 0xff, (v >> 16) & 0xff,
                           (v >> 24) & 0xff };
    put(w, b, 4);
}

static void put_i64(writer_t *w, long long v)
{
    apr_uint64_t u = (apr_uint64_t)v;
    put_u32(w, (apr_uint32_t)(u & 0xffffffffu));
    put_u32(w, (apr_uint32_t)(u >> 32));
}

static void put_str(writer_t *w, const char *s, apr_size_t len)
{
    if (!s) {
        put_u32(w, ABSENT);
        return;
    }
    if (len >= ABSENT) {
        w->overflow = 1;
        return;
    }
    put_u32(w, (apr_uint32_t)len);
    put(w, s, len);
    put(w, "", 1);
}

static void put_strings(writer_t *w, const apr_array_header_t *a)
{
    int i;

    if (!a) {
        put_u32(w, ABSENT);
        return;
    }
    put_u32(w, (apr_uint32_t)a->nelts);
    for (i = 0; i < a->nelts; i++) {
        const char *s = APR_ARRAY_IDX(a, i, const char *);
        put_str(w, s, strlen(s));
    }
}

int oa2f_entry_encode(apr_pool_t *p, const oa2f_claims_t *c,
                      long long validated_at, unsigned char **out,
                      apr_size_t *len)
{
    writer_t w;
    const char *raw = c->shown_raw;
    apr_size_t raw_len, need;
    int i;

    if (!raw) {
        raw = oa2f_clean_value(p, c->raw ? c->raw : "", c->raw_len);
    }
    raw_len = strlen(raw);
    need = 64 + raw_len;

    for (i = 0; i < c->fields->nelts; i++) {
        const oa2f_field_t *f = &APR_ARRAY_IDX(c->fields, i, oa2f_field_t);
        need += 32 + 2 * strlen(f->name) + f->value_len
                + (!f->shown              ? f->value_len
                   : f->shown != f->value ? strlen(f->shown)
                                          : 0);
        if (f->items) {
            int j;
            for (j = 0; j < f->items->nelts; j++) {
                need += 5 + strlen(APR_ARRAY_IDX(f->items, j, const char *));
            }
        }
    }
    for (i = 0; i < c->scopes->nelts; i++) {
        need += 5 + strlen(APR_ARRAY_IDX(c->scopes, i, const char *));
    }
    need += c->client_id ? 5 + strlen(c->client_id) : 4;
    if (need > OA2F_CACHE_MAX_ENTRY) {
        return 0;
    }
    w.buf = apr_palloc(p, need);
    w.len = 0;
    w.cap = need;
    w.overflow = 0;

    put(&w, MAGIC, 4);
    put(&w, (unsigned char[]){ VERSION, c->active ? 1 : 0 }, 2);
    put_i64(&w, validated_at);
    put_i64(&w, c->expires_at);
    put_str(&w, c->client_id, c->client_id ? strlen(c->client_id) : 0);
    put_strings(&w, c->scopes);
    put_u32(&w, (apr_uint32_t)c->fields->nelts);
    for (i = 0; i < c->fields->nelts; i++) {
        const oa2f_field_t *f = &APR_ARRAY_IDX(c->fields, i, oa2f_field_t);
        const char *shown = f->shown;
        if (!shown) {
            /* not prepared: "absent" would make a hit show the value with
             * its control characters; store what prepare would show */
            shown = oa2f_clean_value(p, f->value, f->value_len);
            if (strlen(shown) == f->value_len) {
                shown = f->value;
            }
        }
        put_str(&w, f->name, strlen(f->name));
        put_str(&w, f->value, f->value_len);
        if (shown != f->value) {
            put_str(&w, shown, strlen(shown));
        }
        else {
            put_str(&w, NULL, 0);
        }
        put_str(&w, f->env_suffix, f->env_suffix ? strlen(f->env_suffix) : 0);
        put(&w, (unsigned char[]){ f->is_token ? 1 : 0 }, 1);
        put_strings(&w, f->items);
    }
    put_str(&w, raw, raw_len);
    put_u32(&w, oa2f_entry_check(w.buf, w.len));
    if (w.overflow) {
        return 0;
    }
    *out = w.buf;
    *len = w.len;
    return 1;
}

/* ---- reader ------------------------------------------------------------ */

typedef struct {
    const unsigned char *buf; /* the caller's: strings point into it */
    apr_size_t len, pos;
    int bad;
} reader_t;

static apr_uint32_t get_u32(reader_t *r)
{
    const unsigned char *b;

    if (r->bad || r->len - r->pos < 4) {
        r->bad = 1;
        return 0;
    }
    b = r->buf + r->pos;
    r->pos += 4;
    return (apr_uint32_t)b[0] | ((apr_uint32_t)b[1] << 8)
           | ((apr_uint32_t)b[2] << 16) | ((apr_uint32_t)b[3] << 24);
}

static long long get_i64(reader_t *r)
{
    apr_uint64_t lo = get_u32(r), hi = get_u32(r);
    return (long long)(lo | (hi << 32));
}

/* A string pointing into the buffer; NULL for absent (or bad). */
static const char *get_str(reader_t *r, apr_size_t *len, int *absent)
{
    apr_uint32_t n = get_u32(r);
    const char *s;

    *absent = 0;
    if (r->bad) {
        return NULL;
    }
    if (n == ABSENT) {
        *absent = 1;
        return NULL;
    }
    if ((apr_size_t)n >= r->len - r->pos || r->buf[r->pos + n] != '\0') {
        r->bad = 1;
        return NULL;
    }
    s = (const char *)r->buf + r->pos;
    r->pos += (apr_size_t)n + 1;
    *len = n;
    return s;
}

static apr_array_header_t *get_strings(apr_pool_t *p, reader_t *r)
{
    apr_uint32_t n = get_u32(r), i;
    apr_array_header_t *a;

    if (r->bad || n == ABSENT) {
        return NULL;
    }
    /* each string takes at least 5 bytes: a cheap bound before allocating */
    if ((apr_size_t)n > (r->len - r->pos) / 5) {
        r->bad = 1;
        return NULL;
    }
    a = apr_array_make(p, (int)n + 1, sizeof(const char *));
    for (i = 0; i < n && !r->bad; i++) {
        apr_size_t len;
        int absent;
        const char *s = get_str(r, &len, &absent);
        if (!s) {
            r->bad = 1;
            break;
        }
        APR_ARRAY_PUSH(a, const char *) = s;
    }
    return a;
}

/* kept: an entry kept in private memory since it decoded clean (see
 * oa2f_entry_decode_kept): neither its check word nor its prepared
 * members are compared again. Returns 0, OA2F_ENTRY_CLEAN or
 * OA2F_ENTRY_MENDED. */
static int decode(apr_pool_t *p, const unsigned char *buf, apr_size_t len,
                  int kept, oa2f_claims_t **out, long long *validated_at)
{
    reader_t r;
    oa2f_claims_t *c;
    apr_uint32_t nfields, i, sum;
    apr_size_t slen;
    int absent, mended = 0;
    const char *s;

    if (len < 4 + 2 + 16 + 4 || len > OA2F_CACHE_MAX_ENTRY
        || memcmp(buf, MAGIC, 4) != 0 || buf[4] != VERSION || buf[5] > 1) {
        return 0;
    }
    r.len = len - 4; /* the checksum is not content */
    r.pos = 0;
    r.bad = 0;
    {
        const unsigned char *t = buf + r.len;
        sum = (apr_uint32_t)t[0] | ((apr_uint32_t)t[1] << 8)
              | ((apr_uint32_t)t[2] << 16) | ((apr_uint32_t)t[3] << 24);
    }
    if (!kept && sum != oa2f_entry_check(buf, r.len)) {
        return 0;
    }
    r.buf = buf; /* no copy: see the header */
    r.pos = 6;

    c = oa2f_claims_make(p);
    c->active = r.buf[5];
    *validated_at = get_i64(&r);
    c->expires_at = get_i64(&r);
    s = get_str(&r, &slen, &absent);
    c->client_id = s;
    if (!s && !absent) {
        return 0;
    }
    c->scopes = get_strings(p, &r);
    if (!c->scopes) {
        return 0;
    }
    nfields = get_u32(&r);
    /* a field takes at least 23 bytes (strings, flag, item count) */
    if (r.bad || (apr_size_t)nfields > (r.len - r.pos) / 23) {
        return 0;
    }
    for (i = 0; i < nfields; i++) {
        oa2f_field_t *f;
        apr_size_t nlen, vlen;
        const char *name = get_str(&r, &nlen, &absent);
        const char *value = get_str(&r, &vlen, &absent);
        const char *shown, *env;
        apr_size_t shlen, elen;
        int shown_absent, env_absent;
        apr_uint32_t peek;

        if (!name || !value) {
            return 0;
        }
        shown = get_str(&r, &shlen, &shown_absent);
        env = get_str(&r, &elen, &env_absent);
        if ((!shown && !shown_absent) || (!env && !env_absent) || r.bad
            || r.pos >= r.len || r.buf[r.pos] > 1) {
            return 0;
        }
        f = apr_array_push(c->fields);
        f->name = name;
        f->value = value;
        f->value_len = vlen;
        f->shown = shown ? shown : value;
        f->env_suffix = env;
        f->is_token = r.buf[r.pos++];
        /* what a backend is shown is checked again, never trusted: a
         * member that is not what prepare derives is dropped here and
         * derived below (the cache may have been written by others) */
        if (!kept
            && !oa2f_is_clean_of(value, vlen, f->shown,
                                 shown ? shlen : vlen)) {
            f->shown = NULL;
            mended = 1;
        }
        if (!kept && env && !oa2f_field_names_are(name, env, f->is_token)) {
            f->env_suffix = NULL;
            mended = 1;
        }
        if (r.len - r.pos < 4) {
            return 0;
        }
        peek = get_u32(&r);
        if (peek == ABSENT) {
            f->items = NULL;
        }
        else {
            r.pos -= 4;
            f->items = get_strings(p, &r);
            if (!f->items) {
                return 0;
            }
        }
    }
    s = get_str(&r, &slen, &absent);
    if (!s || r.bad || r.pos != r.len) {
        return 0;
    }
    c->raw = s;
    c->raw_len = slen;
    /* stored without controls, unless someone else wrote it */
    c->shown_raw = kept || !oa2f_has_control(s, slen) ? s : NULL;
    mended |= !c->shown_raw;
    oa2f_claims_prepare(p, c); /* fills what an entry lacked or failed */
    if (c->shown_raw != s) {
        /* the stored answer is the shown one: keep them one */
        c->raw = c->shown_raw;
        c->raw_len = strlen(c->shown_raw);
    }
    *out = c;
    return mended ? OA2F_ENTRY_MENDED : OA2F_ENTRY_CLEAN;
}

int oa2f_entry_decode(apr_pool_t *p, const unsigned char *buf, apr_size_t len,
                      oa2f_claims_t **out, long long *validated_at)
{
    return decode(p, buf, len, 0, out, validated_at);
}

int oa2f_entry_decode_kept(apr_pool_t *p, const unsigned char *buf,
                           apr_size_t len, oa2f_claims_t **out,
                           long long *validated_at)
{
    return decode(p, buf, len, 1, out, validated_at);
}
