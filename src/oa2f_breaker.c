/* The circuit breaker (see the header; README "Outages"). */
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <apr_strings.h>
#include <apr_tables.h>

#include "oa2f_breaker.h"

#define USEC 1000000LL
/* A lock held longer than this belongs to a process that died inside
 * its few instructions: it is taken over. */
#define LOCK_STALE_US USEC
/* Waits on a lock after which it is taken over whatever its stamp says
 * (a holder whose clock ran behind ours). */
#define LOCK_MAX_SPINS (1u << 22)

typedef struct {
    apr_uint64_t lock;       /* 0 = free, else the holder's start (us)  */
    apr_uint64_t hash;       /* of the URL; 0 = free slot               */
    apr_int64_t used_us;     /* last oa2f_breaker_enter()                */
    apr_int64_t open_until;  /* open: when a probe may go (us)          */
    apr_int64_t probe_until; /* half-open: the probe out is given up then;
                                0 = no probe out                        */
    apr_uint64_t probe;      /* number of the latest probe              */
    apr_uint64_t opened;     /* times opened                            */
    apr_uint32_t state;      /* oa2f_breaker_state_e (never shown OPEN
                                past open_until: see view())            */
    apr_uint32_t failures;   /* consecutive failed calls                */
    apr_uint32_t period_s;   /* the open period in force; doubles       */
    apr_uint32_t spare;
    char url[OA2F_BREAKER_URL_MAX];
} slot_t;

struct oa2f_breaker_table_t {
    slot_t slots[OA2F_BREAKER_SLOTS];
};

apr_size_t oa2f_breaker_size(void)
{
    return sizeof(oa2f_breaker_table_t);
}

oa2f_breaker_table_t *oa2f_breaker_init(void *mem)
{
    memset(mem, 0, sizeof(oa2f_breaker_table_t));
    return mem;
}

/* ---- the slot lock ---------------------------------------------------- */

static void lock(slot_t *s, long long now_us)
{
    apr_uint64_t stamp = now_us > 0 ? (apr_uint64_t)now_us : 1, seen;
    unsigned spins = 0;

    for (;;) {
        seen = 0;
        if (__atomic_compare_exchange_n(&s->lock, &seen, stamp, 0,
                                        __ATOMIC_ACQUIRE, __ATOMIC_RELAXED)) {
            return;
        }
        if ((seen && (long long)seen + LOCK_STALE_US < now_us)
            || ++spins >= LOCK_MAX_SPINS) {
            /* its holder died while holding it */
            if (__atomic_compare_exchange_n(&s->lock, &seen, stamp, 0,
                                            __ATOMIC_ACQUIRE,
                                            __ATOMIC_RELAXED)) {
                return;
            }
            spins = 0;
        }
        if ((spins & 63) == 63) {
            sched_yield(); /* the waiter's, never the holder's */
        }
    }
}

static void unlock(slot_t *s)
{
    __atomic_store_n(&s->lock, 0, __ATOMIC_RELEASE);
}

/* ---- URLs --------------------------------------------------------------- */

/* FNV-1a, 64 bits; never 0 (0 marks a free slot). */
static apr_uint64_t hash_of(const char *url)
{
    apr_uint64_t h = 14695981039346656037ULL;

    for (; *url; url++) {
        h ^= (unsigned char)*url;
        h *= 1099511628211ULL;
    }
    return h ? h : 1;
}

void oa2f_breaker_shown_url(const char *url, char out[OA2F_BREAKER_URL_MAX])
{
    const char *host = url, *end, *at;
    apr_size_t o = 0, n;

    /* a scheme (RFC 3986 §3.1: ALPHA *( ALPHA / DIGIT / "+" / "-" / "." ))
     * and "://", else no scheme at all */
    if ((*host >= 'a' && *host <= 'z') || (*host >= 'A' && *host <= 'Z')) {
        n = 1
            + strspn(url + 1, "abcdefghijklmnopqrstuvwxyz"
                              "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789+-.");
        if (strncmp(url + n, "://", 3) == 0) {
            host = url + n + 3;
        }
    }
    /* scheme:// as it is */
    n = (apr_size_t)(host - url);
    if (n > OA2F_BREAKER_URL_MAX - 1) {
        n = OA2F_BREAKER_URL_MAX - 1;
    }
    memcpy(out, url, n);
    o = n;
    /* the authority without user info (RFC 3986 §3.2.1: up to the last
     * '@' before the path); without a scheme there is no authority */
    if (host > url) {
        end = host + strcspn(host, "/?#");
        for (at = end; at > host && at[-1] != '@'; at--) {
        }
        if (at > host) {
            host = at;
        }
    }
    /* then the path, without query and fragment */
    end = host + strcspn(host, "?#");
    n = (apr_size_t)(end - host);
    if (n > OA2F_BREAKER_URL_MAX - 1 - o) {
        n = OA2F_BREAKER_URL_MAX - 1 - o;
    }
    memcpy(out + o, host, n);
    out[o + n] = '\0';
}

/* ---- slots ---------------------------------------------------------------- */

static void reset(slot_t *s, apr_uint64_t hash, const char *url,
                  long long now_us)
{
    s->hash = hash;
    s->used_us = now_us;
    s->open_until = 0;
    s->probe_until = 0;
    s->opened = 0;
    s->state = OA2F_BREAKER_STATE_CLOSED;
    s->failures = 0;
    s->period_s = 0;
    oa2f_breaker_shown_url(url, s->url);
}

static int find(oa2f_breaker_table_t *t, apr_uint64_t hash)
{
    int i;

    for (i = 0; i < OA2F_BREAKER_SLOTS; i++) {
        if (__atomic_load_n(&t->slots[i].hash, __ATOMIC_ACQUIRE) == hash) {
            return i;
        }
    }
    return -1;
}

/* A slot for a new endpoint: a free one, else one unused for
 * OA2F_BREAKER_IDLE_S; -1 when the table is full. Two processes that
 * claim slots for the same URL at once keep the lower one. */
static int claim(oa2f_breaker_table_t *t, apr_uint64_t hash, const char *url,
                 long long now_us)
{
    int i, j, got = -1;

    for (i = 0; i < OA2F_BREAKER_SLOTS && got < 0; i++) {
        slot_t *s = &t->slots[i];
        apr_uint64_t h = __atomic_load_n(&s->hash, __ATOMIC_ACQUIRE);
        if (h
            && now_us - __atomic_load_n(&s->used_us, __ATOMIC_RELAXED)
                   < OA2F_BREAKER_IDLE_S * USEC) {
            continue;
        }
        lock(s, now_us);
        if (s->hash == 0
            || (s->hash != hash
                && now_us - s->used_us >= OA2F_BREAKER_IDLE_S * USEC)) {
            reset(s, 0, url, now_us);
            __atomic_store_n(&s->hash, hash, __ATOMIC_RELEASE);
            got = i;
        }
        else if (s->hash == hash) {
            got = i; /* someone else claimed it for us meanwhile */
        }
        unlock(s);
    }
    if (got < 0) {
        return -1;
    }
    for (j = 0; j < got; j++) {
        if (__atomic_load_n(&t->slots[j].hash, __ATOMIC_ACQUIRE) == hash) {
            slot_t *s = &t->slots[got];
            lock(s, now_us);
            if (s->hash == hash) {
                s->hash = 0;
            }
            unlock(s);
            return j;
        }
    }
    return got;
}

static int ceil_seconds(long long us)
{
    long long s = (us + USEC - 1) / USEC;

    return s < 1 ? 1 : (s > 1000000 ? 1000000 : (int)s);
}

oa2f_breaker_gate_e oa2f_breaker_enter(
    oa2f_breaker_table_t *t, const char *url, const oa2f_breaker_conf_t *conf,
    long long now_us, oa2f_breaker_ticket_t *ticket, int *retry_after)
{
    apr_uint64_t hash = hash_of(url);
    oa2f_breaker_gate_e gate = OA2F_BREAKER_CALL;
    int i, attempt;
    slot_t *s = NULL;

    ticket->slot = -1;
    ticket->hash = hash;
    ticket->probe = 0;
    ticket->is_probe = 0;
    *retry_after = 0;
    if (!t) {
        return OA2F_BREAKER_UNTRACKED;
    }
    /* the slot may be reused between the search and the lock: then
     * search again, a few times */
    for (attempt = 0; attempt < 3; attempt++) {
        i = find(t, hash);
        if (i < 0 && (i = claim(t, hash, url, now_us)) < 0) {
            return OA2F_BREAKER_UNTRACKED;
        }
        s = &t->slots[i];
        lock(s, now_us);
        if (s->hash == hash) {
            break;
        }
        unlock(s);
        s = NULL;
    }
    if (!s) {
        return OA2F_BREAKER_UNTRACKED;
    }
    s->used_us = now_us;
    switch ((oa2f_breaker_state_e)s->state) {
    case OA2F_BREAKER_STATE_OPEN:
        if (now_us < s->open_until) {
            *retry_after = ceil_seconds(s->open_until - now_us);
            gate = OA2F_BREAKER_REFUSE;
            break;
        }
        /* the first caller after the open time probes */
        s->state = OA2F_BREAKER_STATE_HALF_OPEN;
        s->probe_until = 0;
        /* fall through */
    case OA2F_BREAKER_STATE_HALF_OPEN:
        if (s->probe_until && now_us < s->probe_until) {
            /* the probe is out; the next one goes when it lands */
            *retry_after = 1;
            gate = OA2F_BREAKER_REFUSE;
            break;
        }
        /* no probe out, or one that never reported: this call probes */
        s->probe++;
        s->probe_until = now_us + conf->probe_timeout_us;
        ticket->probe = s->probe;
        ticket->is_probe = 1;
        gate = OA2F_BREAKER_PROBE;
        break;
    case OA2F_BREAKER_STATE_CLOSED:
    default:
        break;
    }
    unlock(s);
    ticket->slot = (int)(s - t->slots);
    return gate;
}

/* The circuit of s as shown (s locked or copied). */
static void view(const slot_t *s, long long now_us, oa2f_breaker_view_t *v)
{
    memcpy(v->url, s->url, sizeof(v->url));
    v->url[sizeof(v->url) - 1] = '\0';
    v->state = (oa2f_breaker_state_e)s->state;
    v->failures = s->failures;
    v->opened = s->opened;
    v->period_s = v->state == OA2F_BREAKER_STATE_CLOSED ? 0 : (int)s->period_s;
    v->next_probe_s = 0;
    if (v->state == OA2F_BREAKER_STATE_OPEN) {
        if (now_us < s->open_until) {
            v->next_probe_s = ceil_seconds(s->open_until - now_us);
        }
        else {
            /* its time is over: the next request probes */
            v->state = OA2F_BREAKER_STATE_HALF_OPEN;
        }
    }
}

static void open_for(slot_t *s, int seconds, long long now_us)
{
    if (seconds > OA2F_BREAKER_MAX_SECONDS) {
        seconds = OA2F_BREAKER_MAX_SECONDS;
    }
    if (seconds < 1) {
        seconds = 1;
    }
    s->state = OA2F_BREAKER_STATE_OPEN;
    s->period_s = (apr_uint32_t)seconds;
    s->open_until = now_us + (long long)seconds * USEC;
    s->probe_until = 0;
    s->opened++;
}

oa2f_breaker_change_e oa2f_breaker_report(oa2f_breaker_table_t *t,
                                          const oa2f_breaker_ticket_t *ticket,
                                          const oa2f_breaker_conf_t *conf,
                                          oa2f_breaker_result_e result,
                                          int retry_after_s, long long now_us,
                                          oa2f_breaker_view_t *after)
{
    oa2f_breaker_change_e change = OA2F_BREAKER_NO_CHANGE;
    slot_t *s;
    int probe;

    if (!t || ticket->slot < 0 || ticket->slot >= OA2F_BREAKER_SLOTS) {
        return OA2F_BREAKER_NO_CHANGE;
    }
    s = &t->slots[ticket->slot];
    lock(s, now_us);
    if (s->hash != ticket->hash) {
        /* the slot went to another endpoint meanwhile */
        unlock(s);
        return OA2F_BREAKER_NO_CHANGE;
    }
    /* still the probe in force (not given up and replaced)? */
    probe = ticket->is_probe && s->state == OA2F_BREAKER_STATE_HALF_OPEN
            && s->probe == ticket->probe;
    switch (result) {
    case OA2F_BREAKER_SUCCESS:
        s->failures = 0;
        if (probe) {
            s->state = OA2F_BREAKER_STATE_CLOSED;
            s->period_s = 0;
            s->probe_until = 0;
            change = OA2F_BREAKER_CLOSED;
        }
        /* a call that began before the circuit opened and succeeds
         * late does not close it: only the probe does */
        break;
    case OA2F_BREAKER_FAILURE:
        if (s->failures < 0xffffffffu) {
            s->failures++;
        }
        if (retry_after_s > 0) {
            /* the provider said for how long (RFC 9110 §10.2.3) */
            if (s->state == OA2F_BREAKER_STATE_OPEN) {
                /* open already (a late call): it may only last longer */
                int secs = retry_after_s > OA2F_BREAKER_MAX_SECONDS
                               ? OA2F_BREAKER_MAX_SECONDS
                               : retry_after_s;
                long long until = now_us + (long long)secs * USEC;
                if (until > s->open_until) {
                    s->open_until = until;
                }
            }
            else {
                open_for(s, retry_after_s, now_us);
                change = OA2F_BREAKER_OPENED;
            }
        }
        else if (probe) {
            /* again, for twice as long */
            open_for(s, 2 * (int)(s->period_s ? s->period_s : 1), now_us);
            change = OA2F_BREAKER_OPENED;
        }
        else if (s->state == OA2F_BREAKER_STATE_CLOSED
                 && s->failures >= (apr_uint32_t)conf->failures) {
            open_for(s, conf->seconds, now_us);
            change = OA2F_BREAKER_OPENED;
        }
        break;
    case OA2F_BREAKER_NEUTRAL:
    default:
        if (probe) {
            /* says nothing: the next request probes again */
            s->probe_until = 0;
        }
        break;
    }
    if (after) {
        view(s, now_us, after);
    }
    unlock(s);
    return change;
}

int oa2f_breaker_list(oa2f_breaker_table_t *t, long long now_us,
                      oa2f_breaker_view_t *out, int max)
{
    int i, n = 0;

    for (i = 0; t && i < OA2F_BREAKER_SLOTS && n < max; i++) {
        slot_t *s = &t->slots[i];
        if (!__atomic_load_n(&s->hash, __ATOMIC_ACQUIRE)) {
            continue;
        }
        lock(s, now_us);
        if (s->hash) {
            view(s, now_us, &out[n++]);
        }
        unlock(s);
    }
    return n;
}

const char *oa2f_breaker_state_name(oa2f_breaker_state_e s)
{
    switch (s) {
    case OA2F_BREAKER_STATE_OPEN:
        return "open";
    case OA2F_BREAKER_STATE_HALF_OPEN:
        return "half_open";
    case OA2F_BREAKER_STATE_CLOSED:
    default:
        return "closed";
    }
}

/* ---- what counts ---------------------------------------------------------- */

oa2f_breaker_result_e oa2f_breaker_judge(oa2f_outcome_e o, long http_status)
{
    /* a 5xx or 429 is a failure whatever the dialect made of it */
    if (http_status == 429 || (http_status >= 500 && http_status <= 599)) {
        return OA2F_BREAKER_FAILURE;
    }
    switch (o) {
    case OA2F_UNREACHABLE:
    case OA2F_BAD_ANSWER:
        return OA2F_BREAKER_FAILURE;
    case OA2F_OK:
    case OA2F_INACTIVE:
    case OA2F_EXPIRED:
    case OA2F_REJECTED:
        /* the endpoint answered, definitely */
        return OA2F_BREAKER_SUCCESS;
    default:
        return OA2F_BREAKER_NEUTRAL;
    }
}

/* ---- Retry-After ------------------------------------------------------------ */

/* Days from 1970-01-01 to y-m-d (proleptic Gregorian). */
static long long days_from_civil(long long y, int m, int d)
{
    long long era, yoe, doy, doe;

    y -= m <= 2;
    era = (y >= 0 ? y : y - 399) / 400;
    yoe = y - era * 400;
    doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + doe - 719468;
}

static int month_of(const char *s)
{
    static const char *const names[] = { "Jan", "Feb", "Mar", "Apr",
                                         "May", "Jun", "Jul", "Aug",
                                         "Sep", "Oct", "Nov", "Dec" };
    int i;

    for (i = 0; i < 12; i++) {
        if (strcmp(s, names[i]) == 0) {
            return i + 1;
        }
    }
    return 0;
}

/* n digits at s (a leading space allowed where space_ok), into *out. */
static int digits(const char *s, int n, int space_ok, int *out)
{
    int i, v = 0;

    for (i = 0; i < n; i++) {
        if (s[i] == ' ' && space_ok && i == 0 && n > 1) {
            continue;
        }
        if (s[i] < '0' || s[i] > '9') {
            return 0;
        }
        v = v * 10 + (s[i] - '0');
    }
    *out = v;
    return 1;
}

/* "HH:MM:SS" at s. */
static int clock_of(const char *s, int *hh, int *mm, int *ss)
{
    return digits(s, 2, 0, hh) && s[2] == ':' && digits(s + 3, 2, 0, mm)
           && s[5] == ':' && digits(s + 6, 2, 0, ss);
}

static int wday_ok(const char *s, apr_size_t n)
{
    static const char *const names[] = { "Mon", "Tue", "Wed", "Thu",
                                         "Fri", "Sat", "Sun" };
    static const char *const long_names[] = { "Monday",    "Tuesday",
                                              "Wednesday", "Thursday",
                                              "Friday",    "Saturday",
                                              "Sunday" };
    int i;

    for (i = 0; i < 7; i++) {
        if ((n == 3 && strncmp(s, names[i], 3) == 0)
            || (n == strlen(long_names[i])
                && strncmp(s, long_names[i], n) == 0)) {
            return 1;
        }
    }
    return 0;
}

/* The three forms of RFC 9110 §5.6.7, each at fixed positions:
 *   IMF-fixdate  Sun, 06 Nov 1994 08:49:37 GMT
 *   RFC 850      Sunday, 06-Nov-94 08:49:37 GMT
 *   asctime      Sun Nov  6 08:49:37 1994 */
long long oa2f_http_date_parse(const char *s)
{
    char mon[4] = { 0 };
    const char *comma;
    apr_size_t len;
    int d, y, hh, mm, ss, m;

    if (!s) {
        return -1;
    }
    len = strlen(s);
    comma = strchr(s, ',');
    if (len == 29 && comma == s + 3 && wday_ok(s, 3) && s[4] == ' '
        && digits(s + 5, 2, 0, &d) && s[7] == ' ' && s[11] == ' '
        && digits(s + 12, 4, 0, &y) && s[16] == ' '
        && clock_of(s + 17, &hh, &mm, &ss) && strcmp(s + 25, " GMT") == 0) {
        memcpy(mon, s + 8, 3);
    }
    else if (comma && len == (apr_size_t)(comma - s) + 24
             && wday_ok(s, (apr_size_t)(comma - s)) && comma[1] == ' '
             && digits(comma + 2, 2, 0, &d) && comma[4] == '-'
             && comma[8] == '-' && digits(comma + 9, 2, 0, &y)
             && comma[11] == ' ' && clock_of(comma + 12, &hh, &mm, &ss)
             && strcmp(comma + 20, " GMT") == 0) {
        memcpy(mon, comma + 5, 3);
        /* two digits: the century that puts it nearest (§5.6.7) */
        y += y < 70 ? 2000 : 1900;
    }
    else if (len == 24 && !comma && wday_ok(s, 3) && s[3] == ' ' && s[7] == ' '
             && digits(s + 8, 2, 1, &d) && s[10] == ' '
             && clock_of(s + 11, &hh, &mm, &ss) && s[19] == ' '
             && digits(s + 20, 4, 0, &y)) {
        memcpy(mon, s + 4, 3);
    }
    else {
        return -1;
    }
    m = month_of(mon);
    if (!m || d < 1 || d > 31 || hh > 23 || mm > 59 || ss > 60 || y < 1970) {
        return -1;
    }
    return days_from_civil(y, m, d) * 86400 + hh * 3600 + mm * 60 + ss;
}

int oa2f_breaker_retry_after(long http_status, const char *value,
                             long long now_s)
{
    long long secs;
    const char *c;

    if ((http_status != 429 && http_status != 503) || !value) {
        return 0;
    }
    while (*value == ' ' || *value == '\t') {
        value++;
    }
    for (c = value; *c >= '0' && *c <= '9'; c++) {
    }
    if (c > value && *c == '\0') {
        /* delta-seconds: 1*DIGIT, however long */
        secs = (c - value > 6) ? OA2F_BREAKER_MAX_SECONDS
                               : (long long)atoi(value);
    }
    else {
        long long at = oa2f_http_date_parse(value);
        if (at < 0) {
            return 0;
        }
        secs = at - now_s;
    }
    if (secs <= 0) {
        return 0;
    }
    return secs > OA2F_BREAKER_MAX_SECONDS ? OA2F_BREAKER_MAX_SECONDS
                                           : (int)secs;
}

/* ---- status page ------------------------------------------------------------ */

/* s as the body of a JSON string. */
static const char *json_text(apr_pool_t *p, const char *s)
{
    char *out = apr_palloc(p, 6 * strlen(s) + 1), *o = out;

    for (; *s; s++) {
        unsigned char c = (unsigned char)*s;
        if (c == '"' || c == '\\') {
            *o++ = '\\';
            *o++ = (char)c;
        }
        else if (c < 0x20) {
            o += sprintf(o, "\\u%04x", c);
        }
        else {
            *o++ = (char)c;
        }
    }
    *o = '\0';
    return out;
}

const char *oa2f_breaker_render(apr_pool_t *p, const oa2f_breaker_view_t *v,
                                int n, int json)
{
    apr_array_header_t *parts = apr_array_make(p, n * 5 + 1,
                                               sizeof(const char *));
    int i;

    if (json) {
        for (i = 0; i < n; i++) {
            APR_ARRAY_PUSH(parts, const char *) = apr_psprintf(
                p,
                "{\"url\":\"%s\",\"state\":\"%s\",\"failures\":%u,"
                "\"next_probe_seconds\":%d,\"opened\":%" APR_UINT64_T_FMT "}",
                json_text(p, v[i].url), oa2f_breaker_state_name(v[i].state),
                v[i].failures, v[i].next_probe_s, v[i].opened);
        }
        return apr_pstrcat(p, "\"breakers\":[",
                           apr_array_pstrcat(p, parts, ','), "]", NULL);
    }
    APR_ARRAY_PUSH(parts,
                   const char *) = apr_psprintf(p, "breaker_endpoints: %d", n);
    for (i = 0; i < n; i++) {
        APR_ARRAY_PUSH(parts, const char *) = apr_psprintf(
            p, "breaker_%d_url: %s", i + 1, v[i].url);
        APR_ARRAY_PUSH(parts, const char *) = apr_psprintf(
            p, "breaker_%d_state: %s", i + 1,
            oa2f_breaker_state_name(v[i].state));
        APR_ARRAY_PUSH(parts, const char *) = apr_psprintf(
            p, "breaker_%d_failures: %u", i + 1, v[i].failures);
        APR_ARRAY_PUSH(parts, const char *) = apr_psprintf(
            p, "breaker_%d_next_probe_seconds: %d", i + 1, v[i].next_probe_s);
        APR_ARRAY_PUSH(parts, const char *) = apr_psprintf(
            p, "breaker_%d_opened: %" APR_UINT64_T_FMT, i + 1, v[i].opened);
    }
    return apr_pstrcat(p, apr_array_pstrcat(p, parts, '\n'), "\n", NULL);
}
