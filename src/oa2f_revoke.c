/* Revocation bodies and "not before" rules (see the header). */
#include <string.h>
#include <apr_strings.h>
#include <apr_time.h>

#include "oa2f_revoke.h"
#include "oa2f_token.h"

/* ---- the body ----------------------------------------------------------- */

#define FORM_TYPE "application/x-www-form-urlencoded"

static const char *skip_ows(const char *s)
{
    while (*s == ' ' || *s == '\t') {
        s++;
    }
    return s;
}

/* RFC 9110 §5.6.2 tchar */
static int is_tchar(unsigned char c)
{
    return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z')
           || (c >= 'A' && c <= 'Z') || (c && strchr("!#$%&'*+-.^_`|~", c));
}

int oa2f_revoke_content_type_ok(const char *ct)
{
    const char *s;

    if (!ct) {
        return 0;
    }
    s = skip_ows(ct);
    if (strncasecmp(s, FORM_TYPE, sizeof(FORM_TYPE) - 1) != 0) {
        return 0;
    }
    s = skip_ows(s + sizeof(FORM_TYPE) - 1);
    if (!*s) {
        return 1;
    }
    /* RFC 9110 §8.3.1: at most one parameter, and that a charset */
    if (*s++ != ';') {
        return 0;
    }
    s = skip_ows(s);
    if (strncasecmp(s, "charset", 7) != 0) {
        return 0;
    }
    s = skip_ows(s + 7);
    if (*s++ != '=') {
        return 0;
    }
    s = skip_ows(s);
    if (*s == '"') {
        for (s++; *s && *s != '"'; s++) {
            if ((unsigned char)*s < 0x20) {
                return 0;
            }
        }
        if (*s++ != '"') {
            return 0;
        }
    }
    else {
        const char *v = s;
        while (is_tchar((unsigned char)*s)) {
            s++;
        }
        if (s == v) {
            return 0;
        }
    }
    return *skip_ows(s) == '\0';
}

static const char *const kind_names[] = { NULL, "token", "sub", "client_id" };

const char *oa2f_revoke_kind_name(oa2f_revoke_kind_e kind)
{
    return kind >= OA2F_REVOKE_TOKEN && kind <= OA2F_REVOKE_CLIENT
               ? kind_names[kind]
               : "?";
}

static int has_control(const char *s, apr_size_t len)
{
    for (apr_size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c < 0x20 || c == 0x7f) {
            return 1;
        }
    }
    return 0;
}

/* The value's own rules (README "Revocation"). */
static const char *check_value(oa2f_revoke_kind_e kind, const char *v,
                               apr_size_t len)
{
    if (len == 0) {
        return "the parameter's value is empty";
    }
    if (kind == OA2F_REVOKE_TOKEN) {
        if (len > OA2F_TOKEN_MAX_LEN) {
            return "the token is longer than 4096 bytes";
        }
        if (!oa2f_token_is_b64token(v, len)) {
            return "the token is not RFC 6750 b64token syntax";
        }
        return NULL;
    }
    if (len > OA2F_REVOKE_VALUE_MAX) {
        return "the value is longer than 1024 bytes";
    }
    if (has_control(v, len)) {
        return "the value holds a control character";
    }
    return NULL;
}

const char *oa2f_revoke_parse(apr_pool_t *p, const char *body, apr_size_t len,
                              oa2f_revoke_kind_e *kind, const char **value)
{
    const char *end = body + len, *seg, *v = NULL;
    apr_size_t vlen = 0;
    int n = 0;

    if (len == 0) {
        return "the body is empty";
    }
    if (len > OA2F_REVOKE_BODY_MAX) {
        return "the body is larger than 8192 bytes";
    }
    /* WHATWG URL "application/x-www-form-urlencoded parsing": empty
     * sequences between '&' are skipped */
    for (seg = body; seg < end;) {
        const char *amp = memchr(seg, '&', (apr_size_t)(end - seg));
        const char *stop = amp ? amp : end;
        const char *eq = memchr(seg, '=', (apr_size_t)(stop - seg));
        const char *name;
        apr_size_t nlen;

        if (stop > seg) {
            if (++n > 1) {
                return "exactly one parameter is expected: token, sub or "
                       "client_id";
            }
            name = oa2f_form_decode(
                p, seg, (apr_size_t)((eq ? eq : stop) - seg), &nlen);
            v = eq ? oa2f_form_decode(p, eq + 1, (apr_size_t)(stop - eq - 1),
                                      &vlen)
                   : "";
            if (!name || !v) {
                return "a broken percent-escape in the body";
            }
            if (nlen == 5 && !memcmp(name, "token", 5)) {
                *kind = OA2F_REVOKE_TOKEN;
            }
            else if (nlen == 3 && !memcmp(name, "sub", 3)) {
                *kind = OA2F_REVOKE_SUB;
            }
            else if (nlen == 9 && !memcmp(name, "client_id", 9)) {
                *kind = OA2F_REVOKE_CLIENT;
            }
            else {
                return "unknown parameter: expected token, sub or client_id";
            }
        }
        seg = stop + 1;
    }
    if (n == 0) {
        return "the body holds no parameter";
    }
    *value = v;
    return check_value(*kind, v, vlen);
}

/* ---- the table ------------------------------------------------------------ */

/* FNV-1a 64 with the splitmix64 finaliser: spreads well, is fixed (every
 * server of a fleet computes the same), and needs no secret: a collision
 * only ever makes a verdict a miss. */
apr_uint64_t oa2f_rule_hash(oa2f_revoke_kind_e kind, const void *value,
                            apr_size_t len)
{
    const unsigned char *b = value;
    apr_uint64_t h = 0xcbf29ce484222325ULL;

    h = (h ^ (apr_uint64_t)kind) * 0x100000001b3ULL;
    for (apr_size_t i = 0; i < len; i++) {
        h = (h ^ b[i]) * 0x100000001b3ULL;
    }
    h ^= h >> 30;
    h *= 0xbf58476d1ce4e5b9ULL;
    h ^= h >> 27;
    h *= 0x94d049bb133111ebULL;
    h ^= h >> 31;
    return h ? h : 1;
}

/* Slots tried from a hash's home slot: a rule that finds none free in
 * them becomes the global rule. */
#define PROBES 32
#define MASK   (OA2F_RULES_SLOTS - 1)
/* A writer lock older than this is a dead writer's: taken over. */
#define LOCK_STALE_US 1000000LL

typedef struct {
    apr_uint64_t hash; /* 0 = never used                  */
    apr_int64_t at;    /* revoked at, seconds since epoch */
} rule_t;

struct oa2f_rules_t {
    /* newest revoked_at of any rule (the global one included): a
     * verdict validated after it is not revoked, whatever the table */
    apr_int64_t latest;
    apr_int64_t all_before; /* the global rule; 0 = none            */
    apr_uint64_t lock;      /* writer: µs when taken, 0 = free      */
    apr_int64_t next_sync_us;
    rule_t slots[OA2F_RULES_SLOTS];
};

apr_size_t oa2f_rules_size(void)
{
    return sizeof(oa2f_rules_t);
}

oa2f_rules_t *oa2f_rules_init(void *mem)
{
    memset(mem, 0, sizeof(oa2f_rules_t));
    return mem;
}

/* Writers are rare (revocations, one fleet merge per interval) and hold
 * the lock for a table scan at most. */
static void wlock(oa2f_rules_t *t)
{
    for (;;) {
        apr_uint64_t now = (apr_uint64_t)apr_time_now(), held = 0;

        if (__atomic_compare_exchange_n(&t->lock, &held, now, 0,
                                        __ATOMIC_ACQUIRE, __ATOMIC_RELAXED)) {
            return;
        }
        if (held && now > held && now - held > (apr_uint64_t)LOCK_STALE_US
            && __atomic_compare_exchange_n(
                &t->lock, &held, now, 0, __ATOMIC_ACQUIRE, __ATOMIC_RELAXED)) {
            return;
        }
        apr_sleep(50);
    }
}

static void wunlock(oa2f_rules_t *t)
{
    __atomic_store_n(&t->lock, 0, __ATOMIC_RELEASE);
}

static void raise_to(apr_int64_t *v, long long at)
{
    if (__atomic_load_n(v, __ATOMIC_RELAXED) < at) {
        __atomic_store_n(v, (apr_int64_t)at, __ATOMIC_RELEASE);
    }
}

/* With the lock held. The latest time is raised after the rule is in
 * place, so a reader that sees it also sees the rule. */
static void global_locked(oa2f_rules_t *t, long long at)
{
    raise_to(&t->all_before, at);
    raise_to(&t->latest, at);
}

static int live(long long at, long long now, long long lifetime)
{
    return at > 0 && at + lifetime > now;
}

static oa2f_rule_add_e add_locked(oa2f_rules_t *t, apr_uint64_t h,
                                  long long at, long long now,
                                  long long lifetime)
{
    rule_t *slot = NULL;
    unsigned i;

    for (i = 0; i < PROBES; i++) {
        rule_t *s = &t->slots[(h + i) & MASK];
        apr_uint64_t sh = __atomic_load_n(&s->hash, __ATOMIC_RELAXED);

        if (sh == h) {
            if (__atomic_load_n(&s->at, __ATOMIC_RELAXED) >= at) {
                return OA2F_RULE_KNOWN;
            }
            __atomic_store_n(&s->at, (apr_int64_t)at, __ATOMIC_RELEASE);
            raise_to(&t->latest, at);
            return OA2F_RULE_ADDED;
        }
        if (sh == 0) {
            /* slots are never emptied again: h is not further on */
            if (!slot) {
                slot = s;
            }
            break;
        }
        if (!slot
            && !live(__atomic_load_n(&s->at, __ATOMIC_RELAXED), now,
                     lifetime)) {
            slot = s; /* a dropped rule's slot; h may still be further */
        }
    }
    if (!slot) {
        global_locked(t, at);
        return OA2F_RULE_GLOBAL;
    }
    /* the time first: a reader that sees the hash sees its time */
    __atomic_store_n(&slot->at, (apr_int64_t)at, __ATOMIC_RELEASE);
    __atomic_store_n(&slot->hash, h, __ATOMIC_RELEASE);
    raise_to(&t->latest, at);
    return OA2F_RULE_ADDED;
}

oa2f_rule_add_e oa2f_rules_add(oa2f_rules_t *t, apr_uint64_t hash,
                               long long revoked_at, long long now,
                               long long lifetime)
{
    oa2f_rule_add_e r;

    wlock(t);
    r = add_locked(t, hash ? hash : 1, revoked_at, now, lifetime);
    wunlock(t);
    return r;
}

void oa2f_rules_add_global(oa2f_rules_t *t, long long revoked_at)
{
    wlock(t);
    global_locked(t, revoked_at);
    wunlock(t);
}

/* 1 when hash's rule covers validated_at. */
static int probe(const oa2f_rules_t *t, apr_uint64_t h, long long validated_at)
{
    for (unsigned i = 0; i < PROBES; i++) {
        const rule_t *s = &t->slots[(h + i) & MASK];
        apr_uint64_t sh = __atomic_load_n(&s->hash, __ATOMIC_ACQUIRE);

        if (sh == 0) {
            return 0;
        }
        if (sh == h) {
            return validated_at <= __atomic_load_n(&s->at, __ATOMIC_ACQUIRE);
        }
    }
    return 0;
}

int oa2f_rules_pending(const oa2f_rules_t *t, long long validated_at)
{
    return t && validated_at <= __atomic_load_n(&t->latest, __ATOMIC_ACQUIRE);
}

/* Rules are not checked for their age here: a rule outlives every
 * verdict it covers (the lifetime is the longest reuse), so an old
 * rule can only be about verdicts the cache no longer serves anyway. */
int oa2f_rules_revoked(const oa2f_rules_t *t, long long validated_at,
                       const unsigned char *key, const char *sub,
                       const char *client_id)
{
    if (!oa2f_rules_pending(t, validated_at)) {
        return 0;
    }
    if (validated_at <= __atomic_load_n(&t->all_before, __ATOMIC_ACQUIRE)) {
        return 1;
    }
    if (key
        && probe(t, oa2f_rule_hash(OA2F_REVOKE_TOKEN, key, OA2F_CACHE_KEY_LEN),
                 validated_at)) {
        return 1;
    }
    if (sub
        && probe(t, oa2f_rule_hash(OA2F_REVOKE_SUB, sub, strlen(sub)),
                 validated_at)) {
        return 1;
    }
    return client_id
           && probe(t,
                    oa2f_rule_hash(OA2F_REVOKE_CLIENT, client_id,
                                   strlen(client_id)),
                    validated_at);
}

static unsigned live_slots(const oa2f_rules_t *t, long long now,
                           long long lifetime)
{
    unsigned n = 0;

    for (unsigned i = 0; i < OA2F_RULES_SLOTS; i++) {
        const rule_t *s = &t->slots[i];
        if (__atomic_load_n(&s->hash, __ATOMIC_ACQUIRE)
            && live(__atomic_load_n(&s->at, __ATOMIC_RELAXED), now,
                    lifetime)) {
            n++;
        }
    }
    return n;
}

unsigned oa2f_rules_live(const oa2f_rules_t *t, long long now,
                         long long lifetime)
{
    if (!t) {
        return 0;
    }
    return live_slots(t, now, lifetime)
           + (unsigned)live(__atomic_load_n(&t->all_before, __ATOMIC_RELAXED),
                            now, lifetime);
}

/* ---- the fleet list --------------------------------------------------------- */

int oa2f_rules_sync_due(oa2f_rules_t *t, long long now_us,
                        long long interval_us)
{
    apr_int64_t next = __atomic_load_n(&t->next_sync_us, __ATOMIC_RELAXED);

    if (now_us < next) {
        return 0;
    }
    return __atomic_compare_exchange_n(&t->next_sync_us, &next,
                                       (apr_int64_t)(now_us + interval_us), 0,
                                       __ATOMIC_ACQ_REL, __ATOMIC_RELAXED);
}

/* The value: "OA2FRV1\0", the global rule, then (hash, at) pairs; every
 * number 8 bytes big-endian. It is sealed like every shared entry. */
#define LIST_MAGIC "OA2FRV1"
#define LIST_HEAD  16
#define LIST_ITEM  16

static void put64(unsigned char *b, apr_uint64_t v)
{
    for (int i = 7; i >= 0; i--) {
        b[i] = (unsigned char)(v & 0xff);
        v >>= 8;
    }
}

static apr_uint64_t get64(const unsigned char *b)
{
    apr_uint64_t v = 0;

    for (int i = 0; i < 8; i++) {
        v = v << 8 | b[i];
    }
    return v;
}

unsigned char *oa2f_rules_export(apr_pool_t *p, const oa2f_rules_t *t,
                                 long long now, long long lifetime,
                                 apr_size_t max, apr_size_t *len)
{
    apr_size_t cap = LIST_HEAD + (apr_size_t)OA2F_RULES_SLOTS * LIST_ITEM;
    unsigned char *buf;
    apr_size_t n = LIST_HEAD;
    long long all = __atomic_load_n(&t->all_before, __ATOMIC_ACQUIRE);

    if (max < cap) {
        cap = max < LIST_HEAD ? LIST_HEAD : max;
    }
    buf = apr_palloc(p, cap);
    if (!live(all, now, lifetime)) {
        all = 0;
    }
    for (unsigned i = 0; i < OA2F_RULES_SLOTS; i++) {
        const rule_t *s = &t->slots[i];
        apr_uint64_t h = __atomic_load_n(&s->hash, __ATOMIC_ACQUIRE);
        long long at = __atomic_load_n(&s->at, __ATOMIC_ACQUIRE);

        if (!h || !live(at, now, lifetime)) {
            continue;
        }
        if (n + LIST_ITEM > cap) {
            if (at > all) {
                all = at; /* no room: fail safe */
            }
            continue;
        }
        put64(buf + n, h);
        put64(buf + n + 8, (apr_uint64_t)at);
        n += LIST_ITEM;
    }
    memcpy(buf, LIST_MAGIC, 8);
    put64(buf + 8, (apr_uint64_t)all);
    *len = n;
    return buf;
}

/* The time the table holds for h, 0 when none (lock held). */
static long long at_of(const oa2f_rules_t *t, apr_uint64_t h)
{
    for (unsigned i = 0; i < PROBES; i++) {
        const rule_t *s = &t->slots[(h + i) & MASK];
        if (s->hash == 0) {
            return 0;
        }
        if (s->hash == h) {
            return s->at;
        }
    }
    return 0;
}

int oa2f_rules_merge(oa2f_rules_t *t, const unsigned char *buf, apr_size_t len,
                     long long now, long long lifetime, long long *newest)
{
    long long list_all, mine_all;
    unsigned matched = 0;
    int stale;

    *newest = 0;
    if (len < LIST_HEAD || (len - LIST_HEAD) % LIST_ITEM != 0
        || memcmp(buf, LIST_MAGIC, 8) != 0) {
        return -1;
    }
    list_all = (long long)get64(buf + 8);
    wlock(t);
    if (live(list_all, now, lifetime)) {
        global_locked(t, list_all);
        *newest = list_all;
    }
    for (apr_size_t o = LIST_HEAD; o < len; o += LIST_ITEM) {
        apr_uint64_t h = get64(buf + o);
        long long at = (long long)get64(buf + o + 8);

        if (at > *newest) {
            *newest = at;
        }
        if (!h || !live(at, now, lifetime)) {
            continue;
        }
        add_locked(t, h, at, now, lifetime);
        matched += at_of(t, h) == at;
    }
    /* lost-update repair: the table knows more than the list says */
    mine_all = t->all_before;
    stale = live_slots(t, now, lifetime) > matched
            || (live(mine_all, now, lifetime) && mine_all > list_all);
    wunlock(t);
    return stale;
}
