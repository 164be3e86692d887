/* The fleet lock's name, timing, wire protocols and client (see the
 * header). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <apr_strings.h>
#include <apr_time.h>
#include <openssl/evp.h>

#include "oa2f_fleet_lock.h"
#include "oa2f_hex.h"

#define DERIVATION "oauth2-federated fleet lock"
/* a reply we read: a status line, or memcached's VALUE line, our value
 * and END */
#define REPLY_MAX (512 + OA2F_LOCK_VALUE_MAX)

/* redis: delete the lock only while it holds our value (the holder's
 * release must not free a lock that expired and was taken by another) */
#define RELEASE_SCRIPT                                                        \
    "if redis.call('get',KEYS[1])==ARGV[1] then "                             \
    "return redis.call('del',KEYS[1]) else return 0 end"

/* redis's answer to a SET it cannot parse */
#define SYNTAX_ERROR "-ERR syntax error"

struct oa2f_lock_conn_t {
    apr_pool_t *pool;
    oa2f_lock_proto_e proto;
    apr_socket_t *sock;          /* NULL once closed */
    apr_interval_time_t timeout; /* for each whole request and reply */
};

/* ---- timing ------------------------------------------------------------ */

long long oa2f_lock_ttl_ms(int total_timeout_ms)
{
    return (total_timeout_ms > 0 ? (long long)total_timeout_ms : 0) + 1000;
}

long long oa2f_lock_ttl_s(long long ttl_ms)
{
    /* memcached's clock ticks once a second and an item expires when
     * that clock reaches its time: set just before a tick, a relative
     * expiry of N s lapses after N-1 s and a little. One second more
     * keeps the lock at least ttl_ms (and at most a second longer). */
    return (ttl_ms > 0 ? (ttl_ms + 999) / 1000 : 0) + 1;
}

void oa2f_lock_wait_begin(oa2f_lock_wait_t *w, long long now_us,
                          long long ttl_ms)
{
    w->deadline_us = now_us + ttl_ms * 1000;
    w->nap_us = OA2F_LOCK_NAP_MIN_US;
}

long long oa2f_lock_wait_next(oa2f_lock_wait_t *w, long long now_us)
{
    long long nap = w->nap_us;

    if (now_us >= w->deadline_us) {
        return 0;
    }
    if (nap > w->deadline_us - now_us) {
        nap = w->deadline_us - now_us;
    }
    w->nap_us = w->nap_us * 2 > OA2F_LOCK_NAP_MAX_US ? OA2F_LOCK_NAP_MAX_US
                                                     : w->nap_us * 2;
    return nap;
}

/* ---- names -------------------------------------------------------------- */

void oa2f_lock_name(const unsigned char key[OA2F_CACHE_KEY_LEN],
                    char name[OA2F_LOCK_NAME_LEN + 1])
{
    unsigned char md[32];
    unsigned int mdlen = 0;
    EVP_MD_CTX *ctx = EVP_MD_CTX_new();
    size_t plen = sizeof(OA2F_LOCK_NAME_PREFIX) - 1;

    memset(md, 0, sizeof(md));
    if (ctx) {
        if (!EVP_DigestInit_ex(ctx, EVP_sha256(), NULL)
            || !EVP_DigestUpdate(ctx, DERIVATION, sizeof(DERIVATION))
            || !EVP_DigestUpdate(ctx, key, OA2F_CACHE_KEY_LEN)
            || !EVP_DigestFinal_ex(ctx, md, &mdlen)) {
            memset(md, 0, sizeof(md));
        }
        EVP_MD_CTX_free(ctx);
    }
    if (mdlen != sizeof(md)) {
        /* no digest: the key itself, already a hash of the token */
        memcpy(md, key, sizeof(md));
    }
    memcpy(name, OA2F_LOCK_NAME_PREFIX, plen);
    oa2f_hex_lower(name + plen, md, 32);
    name[OA2F_LOCK_NAME_LEN] = '\0';
}

/* ---- wire protocol ----------------------------------------------------- */

/* One RESP bulk string. */
static const char *bulk(apr_pool_t *p, const char *s)
{
    return apr_psprintf(p, "$%" APR_SIZE_T_FMT "\r\n%s\r\n", strlen(s), s);
}

const char *oa2f_lock_req_take(apr_pool_t *p, oa2f_lock_proto_e proto,
                               const char *name, const char *value,
                               long long ttl_ms, apr_size_t *len)
{
    const char *req;

    if (proto == OA2F_LOCK_REDIS) {
        /* SET name value NX PX ttl (redis 2.6.12 and later) */
        req = apr_pstrcat(
            p, "*6\r\n", bulk(p, "SET"), bulk(p, name), bulk(p, value),
            bulk(p, "NX"), bulk(p, "PX"),
            bulk(p, apr_psprintf(p, "%" APR_INT64_T_FMT, (apr_int64_t)ttl_ms)),
            NULL);
    }
    else {
        /* add: stored only when the key is absent (memcached protocol.txt
         * "Storage commands") */
        req = apr_psprintf(
            p, "add %s 0 %" APR_INT64_T_FMT " %" APR_SIZE_T_FMT "\r\n%s\r\n",
            name, (apr_int64_t)oa2f_lock_ttl_s(ttl_ms), strlen(value), value);
    }
    *len = strlen(req);
    return req;
}

const char *oa2f_lock_req_release(apr_pool_t *p, oa2f_lock_proto_e proto,
                                  const char *name, const char *value,
                                  apr_size_t *len)
{
    const char *req;

    if (proto == OA2F_LOCK_REDIS) {
        req = apr_pstrcat(p, "*5\r\n", bulk(p, "EVAL"),
                          bulk(p, RELEASE_SCRIPT), bulk(p, "1"), bulk(p, name),
                          bulk(p, value), NULL);
    }
    else {
        req = apr_psprintf(p, "gets %s\r\n", name);
    }
    *len = strlen(req);
    return req;
}

const char *oa2f_lock_req_drop(apr_pool_t *p, oa2f_lock_proto_e proto,
                               const char *name, apr_size_t *len)
{
    const char *req = proto == OA2F_LOCK_REDIS
                          ? apr_pstrcat(p, "*2\r\n", bulk(p, "DEL"),
                                        bulk(p, name), NULL)
                          : apr_psprintf(p, "delete %s\r\n", name);

    *len = strlen(req);
    return req;
}

const char *oa2f_lock_req_mc_expire(apr_pool_t *p, const char *name,
                                    const char *value, unsigned long long cas,
                                    apr_size_t *len)
{
    /* a negative expiry: the item is expired at once (protocol.txt), so
     * this is a delete that happens only while the cas unique is ours */
    const char *req = apr_psprintf(
        p, "cas %s 0 -1 %" APR_SIZE_T_FMT " %" APR_UINT64_T_FMT "\r\n%s\r\n",
        name, strlen(value), (apr_uint64_t)cas, value);

    *len = strlen(req);
    return req;
}

/* The first line of buf, without its CRLF: its length, or -1 when no
 * complete line is there yet. */
static long line_len(const char *buf, apr_size_t len)
{
    apr_size_t i;

    for (i = 0; i + 1 < len; i++) {
        if (buf[i] == '\r' && buf[i + 1] == '\n') {
            return (long)i;
        }
    }
    return -1;
}

static int line_is(const char *buf, long n, const char *word)
{
    return (size_t)n == strlen(word) && !memcmp(buf, word, (size_t)n);
}

oa2f_reply_e oa2f_lock_parse_reply(oa2f_lock_proto_e proto, const char *buf,
                                   apr_size_t len)
{
    long n = line_len(buf, len);

    if (n < 0) {
        return len > REPLY_MAX ? OA2F_REPLY_ERROR : OA2F_REPLY_MORE;
    }
    if (proto == OA2F_LOCK_REDIS) {
        /* RESP: +OK (SET done), $-1 (nil: NX refused), :1 / :0 (the
         * script), -ERR … */
        if (line_is(buf, n, "+OK") || line_is(buf, n, ":1")) {
            return OA2F_REPLY_YES;
        }
        if (line_is(buf, n, "$-1") || line_is(buf, n, ":0")
            || line_is(buf, n, "_")) {
            return OA2F_REPLY_NO;
        }
        return OA2F_REPLY_ERROR;
    }
    if (line_is(buf, n, "STORED")) {
        return OA2F_REPLY_YES;
    }
    if (line_is(buf, n, "NOT_STORED") || line_is(buf, n, "EXISTS")
        || line_is(buf, n, "NOT_FOUND")) {
        return OA2F_REPLY_NO;
    }
    return OA2F_REPLY_ERROR;
}

oa2f_reply_e oa2f_lock_parse_drop(oa2f_lock_proto_e proto, const char *buf,
                                  apr_size_t len)
{
    long n = line_len(buf, len);

    if (n < 0) {
        return len > REPLY_MAX ? OA2F_REPLY_ERROR : OA2F_REPLY_MORE;
    }
    if (proto == OA2F_LOCK_REDIS) {
        /* DEL: the number of keys removed */
        return line_is(buf, n, ":1")   ? OA2F_REPLY_YES
               : line_is(buf, n, ":0") ? OA2F_REPLY_NO
                                       : OA2F_REPLY_ERROR;
    }
    return line_is(buf, n, "DELETED")     ? OA2F_REPLY_YES
           : line_is(buf, n, "NOT_FOUND") ? OA2F_REPLY_NO
                                          : OA2F_REPLY_ERROR;
}

oa2f_reply_e oa2f_lock_parse_mc_gets(const char *buf, apr_size_t len,
                                     const char *name, const char *value,
                                     unsigned long long *cas)
{
    long n = line_len(buf, len);
    char line[REPLY_MAX + 1], got_name[256];
    unsigned long flags, bytes;
    unsigned long long unique;
    apr_size_t data, end, vlen = strlen(value);
    int used = 0;

    if (n < 0) {
        return len > REPLY_MAX ? OA2F_REPLY_ERROR : OA2F_REPLY_MORE;
    }
    if (line_is(buf, n, "END")) {
        return OA2F_REPLY_NO;
    }
    if (n > REPLY_MAX || n < 6 || memcmp(buf, "VALUE ", 6) != 0) {
        return OA2F_REPLY_ERROR;
    }
    memcpy(line, buf, (size_t)n);
    line[n] = '\0';
    /* VALUE <key> <flags> <bytes> <cas unique> */
    if (sscanf(line, "VALUE %255s %lu %lu %llu%n", got_name, &flags, &bytes,
               &unique, &used)
            != 4
        || used != n || strcmp(got_name, name) != 0
        || bytes > OA2F_LOCK_VALUE_MAX * 4) {
        return OA2F_REPLY_ERROR;
    }
    data = (apr_size_t)n + 2;
    end = data + bytes + 2;
    /* the data, its CRLF, then END CRLF */
    if (len < end + 5) {
        return OA2F_REPLY_MORE;
    }
    if (buf[end - 2] != '\r' || buf[end - 1] != '\n'
        || memcmp(buf + end, "END\r\n", 5) != 0) {
        return OA2F_REPLY_ERROR;
    }
    if (bytes != vlen || memcmp(buf + data, value, vlen) != 0) {
        return OA2F_REPLY_NO;
    }
    *cas = unique;
    return OA2F_REPLY_YES;
}

/* ---- the claim (redis 7) ----------------------------------------------- */

void oa2f_lock_entry_name(const unsigned char key[OA2F_CACHE_KEY_LEN],
                          char name[OA2F_ENTRY_NAME_LEN + 1])
{
    size_t plen = sizeof(OA2F_CACHE_NAMESPACE); /* with its ':' */

    /* as mod_socache_redis names it: the namespace, ':', lower-case hex */
    memcpy(name, OA2F_CACHE_NAMESPACE ":", plen);
    oa2f_hex_lower(name + plen, key, OA2F_CACHE_KEY_LEN);
    name[OA2F_ENTRY_NAME_LEN] = '\0';
}

int oa2f_lock_is_claim(const unsigned char *value, apr_size_t len)
{
    return len >= sizeof(OA2F_CLAIM_PREFIX) - 1
           && !memcmp(value, OA2F_CLAIM_PREFIX, sizeof(OA2F_CLAIM_PREFIX) - 1);
}

const char *oa2f_lock_req_claim(apr_pool_t *p, const char *entry,
                                const char *claim, long long ttl_ms,
                                apr_size_t *len)
{
    /* NX with GET: redis 7.0 and later */
    const char *req = apr_pstrcat(
        p, "*7\r\n", bulk(p, "SET"), bulk(p, entry), bulk(p, claim),
        bulk(p, "NX"), bulk(p, "PX"),
        bulk(p, apr_psprintf(p, "%" APR_INT64_T_FMT, (apr_int64_t)ttl_ms)),
        bulk(p, "GET"), NULL);

    *len = strlen(req);
    return req;
}

oa2f_reply_e oa2f_lock_parse_claim(const char *buf, apr_size_t len,
                                   apr_size_t cap, apr_size_t *off,
                                   apr_size_t *vlen)
{
    long n = line_len(buf, len);
    apr_size_t bytes = 0, head;
    long i;

    if (n < 0) {
        return len > REPLY_MAX ? OA2F_REPLY_ERROR : OA2F_REPLY_MORE;
    }
    if (line_is(buf, n, "$-1") || line_is(buf, n, "_")) {
        return OA2F_REPLY_NO;
    }
    /* what redis before 7.0 says to NX with GET; any other error (a
     * full server, a refused client) is no reason to stop claiming */
    if ((size_t)n >= sizeof(SYNTAX_ERROR) - 1
        && !memcmp(buf, SYNTAX_ERROR, sizeof(SYNTAX_ERROR) - 1)) {
        return OA2F_REPLY_REFUSED;
    }
    /* $<length>: 1 to 9 digits, no leading zero, nothing else */
    if (n < 2 || n > 10 || buf[0] != '$' || (n > 2 && buf[1] == '0')) {
        return OA2F_REPLY_ERROR;
    }
    for (i = 1; i < n; i++) {
        if (buf[i] < '0' || buf[i] > '9') {
            return OA2F_REPLY_ERROR;
        }
        bytes = bytes * 10 + (apr_size_t)(buf[i] - '0');
    }
    head = (apr_size_t)n + 2;
    if (bytes > cap || head + bytes + 2 > cap) {
        return OA2F_REPLY_ERROR;
    }
    if (len < head + bytes + 2) {
        return OA2F_REPLY_MORE;
    }
    if (buf[head + bytes] != '\r' || buf[head + bytes + 1] != '\n'
        || len != head + bytes + 2) {
        return OA2F_REPLY_ERROR; /* not the end, or more than one reply */
    }
    *off = head;
    *vlen = bytes;
    return OA2F_REPLY_YES;
}

/* ---- client ------------------------------------------------------------ */

apr_status_t oa2f_lock_connect(apr_pool_t *p, oa2f_lock_proto_e proto,
                               const char *host, apr_port_t port,
                               apr_interval_time_t timeout,
                               oa2f_lock_conn_t **conn)
{
    apr_sockaddr_t *sa;
    apr_socket_t *sock;
    oa2f_lock_conn_t *c;
    apr_status_t rv;

    rv = apr_sockaddr_info_get(&sa, host, APR_UNSPEC, port, 0, p);
    if (rv != APR_SUCCESS) {
        return rv;
    }
    rv = apr_socket_create(&sock, sa->family, SOCK_STREAM, APR_PROTO_TCP, p);
    if (rv != APR_SUCCESS) {
        return rv;
    }
    apr_socket_opt_set(sock, APR_TCP_NODELAY, 1);
    apr_socket_timeout_set(sock, timeout);
    rv = apr_socket_connect(sock, sa);
    if (rv != APR_SUCCESS) {
        apr_socket_close(sock);
        return rv;
    }
    c = apr_pcalloc(p, sizeof(*c));
    c->pool = p;
    c->proto = proto;
    c->sock = sock;
    c->timeout = timeout;
    *conn = c;
    return APR_SUCCESS;
}

void oa2f_lock_close(oa2f_lock_conn_t *c)
{
    if (c && c->sock) {
        apr_socket_close(c->sock);
        c->sock = NULL;
    }
}

int oa2f_lock_conn_alive(oa2f_lock_conn_t *c)
{
    char b;
    apr_size_t n = 1;
    apr_status_t rv;

    if (!c || !c->sock) {
        return 0;
    }
    /* idle, nothing to read: a closed peer reads as EOF, and a reply
     * nobody asked for means the exchange got out of step */
    apr_socket_timeout_set(c->sock, 0);
    rv = apr_socket_recv(c->sock, &b, &n);
    if (APR_STATUS_IS_EAGAIN(rv)) {
        return 1;
    }
    oa2f_lock_close(c);
    return 0;
}

apr_pool_t *oa2f_lock_conn_pool(const oa2f_lock_conn_t *c)
{
    return c->pool;
}

/* A pool for one operation's request text: a connection may serve many
 * requests (mod_oa2f_fleet_lock.c keeps them), so nothing per operation
 * may stay in its own pool. */
static apr_pool_t *scratch(oa2f_lock_conn_t *c)
{
    apr_pool_t *p = NULL;

    return apr_pool_create(&p, c->pool) == APR_SUCCESS ? p : NULL;
}

static int send_all(oa2f_lock_conn_t *c, const char *req, apr_size_t len)
{
    while (len > 0) {
        apr_size_t n = len;

        if (apr_socket_send(c->sock, req, &n) != APR_SUCCESS || n == 0) {
            return 0;
        }
        req += n;
        len -= n;
    }
    return 1;
}

/* How a reply is parsed: as a status, a drop's, a `gets`, or a
 * claim's (name/value/cas/claim as each needs). */
typedef enum { PARSE_STATUS, PARSE_DROP, PARSE_GETS, PARSE_CLAIM } parse_e;

typedef struct {
    parse_e how;
    const char *name, *value;
    unsigned long long *cas;
    apr_size_t data_off, data_len; /* PARSE_CLAIM: the value found */
} parse_t;

static oa2f_reply_e parse(oa2f_lock_proto_e proto, parse_t *pt,
                          const char *buf, apr_size_t got, apr_size_t cap)
{
    switch (pt->how) {
    case PARSE_GETS:
        return oa2f_lock_parse_mc_gets(buf, got, pt->name, pt->value, pt->cas);
    case PARSE_DROP:
        return oa2f_lock_parse_drop(proto, buf, got);
    case PARSE_CLAIM:
        return oa2f_lock_parse_claim(buf, got, cap, &pt->data_off,
                                     &pt->data_len);
    default:
        return oa2f_lock_parse_reply(proto, buf, got);
    }
}

/* One request and its reply into buf[0..cap), parsed as pt says; the
 * connection is closed on any error. OA2F_REPLY_REFUSED (a claim the
 * server does not know) keeps it: the reply was read whole. */
static oa2f_reply_e exchange_into(oa2f_lock_conn_t *c, const char *req,
                                  apr_size_t req_len, parse_t *pt, char *buf,
                                  apr_size_t cap)
{
    apr_size_t got = 0;
    oa2f_reply_e r = OA2F_REPLY_ERROR;
    apr_time_t deadline;

    if (!c || !c->sock) {
        goto leave;
    }
    /* the timeout bounds the whole exchange, not each read: a server
     * that drips a byte at a time must not hold the request (README
     * "Cache", the fleet lock's bounded wait) */
    deadline = apr_time_now() + c->timeout;
    apr_socket_timeout_set(c->sock, c->timeout);
    if (!send_all(c, req, req_len)) {
        goto leave;
    }
    for (;;) {
        apr_size_t n = cap - 1 - got;
        apr_interval_time_t left = deadline - apr_time_now();

        if (left <= 0) {
            r = OA2F_REPLY_ERROR;
            goto leave;
        }
        apr_socket_timeout_set(c->sock, left);
        if (n == 0 || apr_socket_recv(c->sock, buf + got, &n) != APR_SUCCESS
            || n == 0) {
            r = OA2F_REPLY_ERROR;
            goto leave;
        }
        got += n;
        r = parse(c->proto, pt, buf, got, cap - 1);
        if (r != OA2F_REPLY_MORE) {
            break;
        }
    }
leave:
    if (r == OA2F_REPLY_ERROR || r == OA2F_REPLY_MORE) {
        oa2f_lock_close(c);
        return OA2F_REPLY_ERROR;
    }
    return r;
}

/* A short reply: a status line, or memcached's VALUE line and END. */
static oa2f_reply_e exchange(oa2f_lock_conn_t *c, const char *req,
                             apr_size_t req_len, int drop,
                             const char *gets_name, const char *gets_value,
                             unsigned long long *cas)
{
    char buf[REPLY_MAX + 1];
    parse_t pt = { gets_name ? PARSE_GETS
                   : drop    ? PARSE_DROP
                             : PARSE_STATUS,
                   gets_name,
                   gets_value,
                   cas,
                   0,
                   0 };

    return exchange_into(c, req, req_len, &pt, buf, sizeof(buf));
}

oa2f_lock_e oa2f_lock_take(oa2f_lock_conn_t *c, const char *name,
                           const char *value, long long ttl_ms)
{
    apr_size_t len;
    const char *req;
    apr_pool_t *p;
    oa2f_lock_e got;

    if (!c || !c->sock || !(p = scratch(c))) {
        return OA2F_LOCK_NONE;
    }
    req = oa2f_lock_req_take(p, c->proto, name, value, ttl_ms, &len);
    switch (exchange(c, req, len, 0, NULL, NULL, NULL)) {
    case OA2F_REPLY_YES:
        got = OA2F_LOCK_TAKEN;
        break;
    case OA2F_REPLY_NO:
        got = OA2F_LOCK_BUSY;
        break;
    default:
        got = OA2F_LOCK_NONE;
    }
    apr_pool_destroy(p);
    return got;
}

int oa2f_lock_release(oa2f_lock_conn_t *c, const char *name, const char *value)
{
    apr_size_t len;
    const char *req;
    unsigned long long cas = 0;
    oa2f_reply_e r;
    apr_pool_t *p;

    if (!c || !c->sock || !(p = scratch(c))) {
        return -1;
    }
    req = oa2f_lock_req_release(p, c->proto, name, value, &len);
    if (c->proto == OA2F_LOCK_REDIS) {
        r = exchange(c, req, len, 0, NULL, NULL, NULL);
    }
    else {
        r = exchange(c, req, len, 0, name, value, &cas);
        if (r == OA2F_REPLY_YES) {
            req = oa2f_lock_req_mc_expire(p, name, value, cas, &len);
            r = exchange(c, req, len, 0, NULL, NULL, NULL);
        }
    }
    apr_pool_destroy(p);
    return r == OA2F_REPLY_YES ? 1 : r == OA2F_REPLY_NO ? 0 : -1;
}

int oa2f_lock_drop(oa2f_lock_conn_t *c, const char *name)
{
    apr_size_t len;
    const char *req;
    oa2f_reply_e r;
    apr_pool_t *p;

    if (!c || !c->sock || !(p = scratch(c))) {
        return -1;
    }
    req = oa2f_lock_req_drop(p, c->proto, name, &len);
    r = exchange(c, req, len, 1, NULL, NULL, NULL);
    apr_pool_destroy(p);
    return r == OA2F_REPLY_YES ? 1 : r == OA2F_REPLY_NO ? 0 : -1;
}

oa2f_claim_e oa2f_lock_claim(oa2f_lock_conn_t *c, apr_pool_t *p,
                             const char *entry, const char *claim,
                             long long ttl_ms, apr_size_t max,
                             unsigned char **value, apr_size_t *vlen)
{
    /* the value, its "$<length>" line and the CRLFs */
    apr_size_t cap = max + 32;
    parse_t pt = { PARSE_CLAIM, NULL, NULL, NULL, 0, 0 };
    const char *req;
    apr_size_t len;
    oa2f_reply_e r;
    char *buf;
    apr_pool_t *sp;

    if (!c || !c->sock || c->proto != OA2F_LOCK_REDIS || !(sp = scratch(c))) {
        return OA2F_CLAIM_FAILED;
    }
    req = oa2f_lock_req_claim(sp, entry, claim, ttl_ms, &len);
    /* the reply goes to the caller's pool: an entry is copied out of it */
    buf = apr_palloc(p, cap + 1);
    r = exchange_into(c, req, len, &pt, buf, cap + 1);
    apr_pool_destroy(sp);
    switch (r) {
    case OA2F_REPLY_NO:
        return OA2F_CLAIM_TAKEN;
    case OA2F_REPLY_REFUSED:
        return OA2F_CLAIM_REFUSED;
    case OA2F_REPLY_YES:
        if (oa2f_lock_is_claim((unsigned char *)buf + pt.data_off,
                               pt.data_len)) {
            return OA2F_CLAIM_BUSY;
        }
        *value = (unsigned char *)buf + pt.data_off;
        *vlen = pt.data_len;
        return OA2F_CLAIM_FOUND;
    default:
        return OA2F_CLAIM_FAILED;
    }
}
