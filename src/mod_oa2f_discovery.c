/* OAuth2FederatedMetadataURL (README "Resource identity"; RFC 8414,
 * OpenID Connect Discovery 1.0): the provider's metadata document,
 * fetched when a request first needs it, never at configuration time.
 *
 * Each child keeps, per scope provider, what the document said (its
 * issuer and introspection endpoint) for at most an hour, or its
 * Cache-Control max-age, and a failure for a short back-off. Children
 * share the checked members (oa2f_metadata_compact) through the shared
 * cache (socache) under a key of its own derivation, and the first fetch is single-flight across
 * threads and processes (oa2f_flight.h), so one fetch serves all. The
 * fetch uses the scope's timeouts, TLS settings and proxy, caps the
 * body at OA2F_MAX_ANSWER and follows no redirect (oa2f_http.h). */
#include <apr_hash.h>
#include <apr_strings.h>
#include <apr_thread_mutex.h>
#include <httpd.h>
#include <http_log.h>

#include "mod_oa2f_child_table.h"
#include "mod_oa2f_conf_provider.h"
#include "mod_oa2f_discovery.h"
#include "mod_oa2f_private.h"
#include "mod_oa2f_shm.h"
#include "mod_oa2f_socache.h"
#include "oa2f_flight.h"
#include "oa2f_metadata.h"

/* After a failure, the next fetch waits this long (seconds). */
#define RETRY_AFTER 5
#define WHY_MAX     300

typedef struct {
    const char *issuer;   /* interned; NULL until a usable document */
    const char *endpoint; /* interned; NULL when the document has none */
    const char *jwks_uri; /* interned; NULL when the document has none */
    apr_int64_t until;    /* the document is used while now < until */
    apr_int64_t retry_at; /* after a failure: no fetch before then */
    oa2f_outcome_e failure;
    int failing; /* 1 after a failure, until a usable document */
    char why[WHY_MAX];
} doc_state_t;

typedef struct {
    oa2f_child_table_t ct; /* pool and lock */
    apr_hash_t *by_scope;  /* const oa2f_provider_t * → doc_state_t */
    apr_hash_t *interned;  /* string → the same string, in pool */
} table_t;

static table_t *table;

void oa2f_discovery_child_init(apr_pool_t *pchild, server_rec *s)
{
    table_t *t = apr_pcalloc(pchild, sizeof(*t));

    table = NULL;
    if (oa2f_child_table_init(&t->ct, pchild) != APR_SUCCESS) {
        ap_log_error(APLOG_MARK, APLOG_CRIT, 0, s,
                     OA2F_LOGNO(10009) "cannot create the lock of the "
                                       "metadata table: discovery is off "
                                       "in this process");
        return;
    }
    t->by_scope = apr_hash_make(t->ct.pool);
    t->interned = apr_hash_make(t->ct.pool);
    table = t;
}

static void lock(void)
{
    oa2f_child_table_lock(&table->ct);
}

static void unlock(void)
{
    oa2f_child_table_unlock(&table->ct);
}

/* Under the lock: one copy per distinct value, so that what requests
 * hold stays valid when the document is replaced. */
static const char *intern(const char *s)
{
    const char *v;

    if (!s) {
        return NULL;
    }
    v = apr_hash_get(table->interned, s, APR_HASH_KEY_STRING);
    if (!v) {
        v = apr_pstrdup(table->ct.pool, s);
        apr_hash_set(table->interned, v, APR_HASH_KEY_STRING, v);
    }
    return v;
}

/* The shared cache's name of the document: "metadata\n", the URL and how
 * it is fetched (TLS, trust anchors, proxy: a document fetched without
 * verification must not serve a scope that verifies), hashed; token keys
 * are derived otherwise (oa2f_keyer.h), so the two never meet. */
static void doc_key(apr_pool_t *p, const oa2f_provider_t *scope,
                    unsigned char key[OA2F_CACHE_KEY_LEN])
{
    const char *hex,
        *name = apr_psprintf(
            p, "metadata\n%s\ntls=%d ca=%s\nproxy=%s %s", scope->metadata_url,
            scope->ssl_verify ? 1 : 0,
            scope->ca_file ? (scope->ca_digest ? scope->ca_digest : "unread")
                           : "system",
            scope->proxy ? scope->proxy : "direct",
            scope->proxy && scope->proxy_userpwd ? oa2f_provider_digest(
                p, scope->proxy_userpwd, strlen(scope->proxy_userpwd))
                                                 : "-");
    int i;

    hex = oa2f_provider_digest(p, name, strlen(name));
    for (i = 0; i < OA2F_CACHE_KEY_LEN; i++) {
        unsigned hi = (unsigned)(hex[2 * i] <= '9' ? hex[2 * i] - '0'
                                                   : hex[2 * i] - 'a' + 10);
        unsigned lo = (unsigned)(hex[2 * i + 1] <= '9'
                                     ? hex[2 * i + 1] - '0'
                                     : hex[2 * i + 1] - 'a' + 10);
        key[i] = (unsigned char)(hi << 4 | lo);
    }
}

/* What the shared cache holds under a document's key: 'D', 8 bytes of
 * the end of its keeping (seconds, big-endian), the checked members as
 * JSON (checked again when read); or 'F', 8 bytes
 * of when it may be fetched again, the outcome's byte and why it failed.
 * A failure is kept longer than its back-off, so that the next failure
 * of the same kind, in any process, is known as the same incident. */
typedef struct {
    char kind; /* 'D' or 'F' */
    apr_int64_t until;
    const char *body; /* D: the document; F: why */
    apr_size_t len;
    oa2f_outcome_e failure; /* F */
} record_t;

#define FAILURE_MEMORY 3600

static int shared_read(request_rec *r, const unsigned char *key, record_t *rec)
{
    unsigned char *v;
    apr_size_t n;
    apr_uint64_t until = 0;
    int i;

    if (!oa2f_cache_get_shared(r, key, &v, &n) || n < 9
        || (v[0] != 'D' && v[0] != 'F') || (v[0] == 'F' && n < 10)) {
        return 0;
    }
    for (i = 1; i < 9; i++) {
        until = until << 8 | v[i];
    }
    rec->kind = (char)v[0];
    rec->until = (apr_int64_t)until;
    if (rec->kind == 'D') {
        rec->body = apr_pstrmemdup(r->pool, (const char *)v + 9, n - 9);
        rec->len = n - 9;
    }
    else {
        rec->failure = v[9] < OA2F_OUTCOME_MAX ? (oa2f_outcome_e)v[9]
                                               : OA2F_INTERNAL;
        rec->body = apr_pstrmemdup(r->pool, (const char *)v + 10, n - 10);
        rec->len = n - 10;
    }
    return 1;
}

static void shared_write(request_rec *r, const unsigned char *key, char kind,
                         apr_int64_t until, apr_int64_t expiry, int outcome,
                         const char *data, apr_size_t len)
{
    apr_size_t head = kind == 'F' ? 10 : 9;
    unsigned char *v = apr_palloc(r->pool, len + head);
    apr_uint64_t u = (apr_uint64_t)until;
    int i;

    v[0] = (unsigned char)kind;
    for (i = 8; i >= 1; i--) {
        v[i] = (unsigned char)(u & 0xff);
        u >>= 8;
    }
    if (kind == 'F') {
        v[9] = (unsigned char)outcome;
    }
    memcpy(v + head, data, len);
    oa2f_cache_put_shared(r, key, expiry, v, len + head);
}

/* One GET of the document: OA2F_OK with the body and its keeping time,
 * or the outcome of the failure and *why. */
static oa2f_outcome_e fetch(request_rec *r, const oa2f_provider_t *scope,
                            oa2f_http_pool_t *hp, const char **body,
                            apr_size_t *len, long *ttl, const char **why)
{
    oa2f_http_req_t req;
    oa2f_http_resp_t resp;
    oa2f_http_result_e res;
    oa2f_provider_t how = *scope;

    if (!hp) {
        *why = "no connection pool in this process";
        return OA2F_INTERNAL;
    }
    how.max_answer = OA2F_MAX_ANSWER;
    req.method = "GET";
    req.url = scope->metadata_url;
    req.body = NULL;
    req.headers = apr_array_make(r->pool, 1, sizeof(const char *));
    APR_ARRAY_PUSH(req.headers, const char *) = "Accept: application/json";
    res = oa2f_http_perform(hp, r->pool, &how, &req, &resp);
    switch (res) {
    case OA2F_HTTP_DONE:
        break;
    case OA2F_HTTP_UNREACHABLE:
        *why = apr_pstrcat(
            r->pool, "cannot fetch the metadata document: ", resp.error, NULL);
        return OA2F_UNREACHABLE;
    case OA2F_HTTP_TOO_LARGE:
        *why = "the metadata document is over 1 MiB";
        return OA2F_BAD_ANSWER;
    case OA2F_HTTP_BROKEN:
        *why = apr_pstrcat(
            r->pool, "the metadata document came cut off: ", resp.error, NULL);
        return OA2F_BAD_ANSWER;
    default:
        *why = apr_pstrcat(
            r->pool, "cannot fetch the metadata document: ", resp.error, NULL);
        return OA2F_INTERNAL;
    }
    if (resp.status >= 500) {
        /* the provider is down: as unreachable */
        *why = apr_psprintf(r->pool, "the metadata URL answered HTTP %ld",
                            resp.status);
        return OA2F_UNREACHABLE;
    }
    if (resp.status != 200) {
        *why = apr_psprintf(r->pool,
                            resp.status >= 300 && resp.status < 400
                                ? "the metadata URL answered HTTP %ld, a "
                                  "redirect (not followed)"
                                : "the metadata URL answered HTTP %ld",
                            resp.status);
        return OA2F_BAD_ANSWER;
    }
    *body = resp.body;
    *len = resp.body_len;
    *ttl = oa2f_metadata_ttl(resp.cache_control);
    return OA2F_OK;
}

/* The document's body, from the shared cache or fetched (single-flight),
 * or a failure. *leader is 0 when the answer came from the shared cache
 * (a document, or a failure still in its back-off), 1 when this process
 * fetched it leading the flight of key, which the caller then lands
 * (oa2f_flight_end) once the document is checked and shared, 2 when it
 * fetched it outside any flight. *prev is the failure the shared cache
 * remembers, if any (prev->kind 'F'). */
static oa2f_outcome_e obtain(request_rec *r, const oa2f_provider_t *scope,
                             oa2f_http_pool_t *hp, apr_int64_t now,
                             const unsigned char *key, const char **body,
                             apr_size_t *len, long *ttl, int *leader,
                             record_t *prev, apr_int64_t *retry_at,
                             const char **why)
{
    oa2f_flight_table_t *ft = oa2f_flights();
    long long now_us = (long long)apr_time_now();
    long long wait_us = (scope->total_timeout_ms + 1000) * 1000LL;
    oa2f_flight_role_e role = OA2F_FLIGHT_ALONE;
    record_t rec;
    int round;

    *leader = 0;
    prev->kind = 0;
    for (round = 0; round < 2; round++) {
        if (shared_read(r, key, &rec)) {
            if (rec.kind == 'D' && rec.until > now) {
                *body = rec.body;
                *len = rec.len;
                *ttl = (long)(rec.until - now);
                return OA2F_OK;
            }
            if (rec.kind == 'F') {
                if (rec.until > now) {
                    *why = rec.body;
                    *retry_at = rec.until;
                    return rec.failure;
                }
                *prev = rec;
            }
        }
        if (round == 1) {
            break;
        }
        if (ft) {
            role = oa2f_flight_begin(ft, key, now_us, wait_us);
        }
        if (role == OA2F_FLIGHT_LEADER && shared_read(r, key, &rec)
            && rec.kind == 'D' && rec.until > now) {
            /* a leader before us landed between our look and our start */
            oa2f_flight_end(ft, key, OA2F_OK);
            *body = rec.body;
            *len = rec.len;
            *ttl = (long)(rec.until - now);
            return OA2F_OK;
        }
        if (role != OA2F_FLIGHT_FOLLOWER) {
            break;
        }
        {
            int landed = 0;
            if (!oa2f_flight_wait(ft, key, now_us + wait_us, &landed)) {
                break; /* too long: fetch it here */
            }
        }
        /* landed: read again what the leader shared */
        role = OA2F_FLIGHT_ALONE;
    }
    *leader = role == OA2F_FLIGHT_LEADER ? 1 : 2;
    return fetch(r, scope, hp, body, len, ttl, why);
}

oa2f_outcome_e oa2f_discovery_resolve(request_rec *r,
                                      const oa2f_provider_t *scope,
                                      oa2f_http_pool_t *hp,
                                      const oa2f_provider_t **out,
                                      const char **issuer, const char **why)
{
    apr_int64_t now = (apr_int64_t)apr_time_sec(apr_time_now());
    int need_ep = !scope->endpoint;
    doc_state_t *st;
    const char *body = NULL, *endpoint = NULL;
    apr_size_t len = 0;
    long ttl = 0;
    int leader = 0, was_failing, level, shared_failure;
    record_t prev = { 0, 0, NULL, 0, OA2F_OK };
    apr_int64_t retry_at = now + RETRY_AFTER;
    oa2f_metadata_t md;
    oa2f_outcome_e o;
    unsigned char key[OA2F_CACHE_KEY_LEN];

    if (!table) {
        *why = "no metadata table in this process";
        return OA2F_INTERNAL;
    }
    lock();
    st = apr_hash_get(table->by_scope, &scope, sizeof(scope));
    if (!st) {
        st = apr_pcalloc(table->ct.pool, sizeof(*st));
        apr_hash_set(table->by_scope,
                     apr_pmemdup(table->ct.pool, &scope, sizeof(scope)),
                     sizeof(scope), st);
    }
    if (st->issuer && now < st->until) {
        *issuer = st->issuer;
        endpoint = st->endpoint;
        unlock();
        goto found;
    }
    if (st->failing && now < st->retry_at) {
        o = st->failure;
        *why = apr_pstrdup(r->pool, st->why);
        unlock();
        return o;
    }
    unlock();

    doc_key(r->pool, scope, key);
    o = obtain(r, scope, hp, now, key, &body, &len, &ttl, &leader, &prev,
               &retry_at, why);
    /* a failure another process recorded (and logged) */
    shared_failure = !leader && o != OA2F_OK;
    if (o == OA2F_OK
        && !oa2f_metadata_parse(
            r->pool, body, len,
            oa2f_metadata_issuer_of_url(r->pool, scope->metadata_url),
            /* README "Local JWT validation": the keys may do without */
            need_ep && !scope->local_jwt, &md, why)) {
        o = OA2F_BAD_ANSWER;
    }
    if (leader && o == OA2F_OK && ttl >= 1) {
        /* the members, not the document: one of up to 1 MiB fits no
         * shared-cache entry (64 KiB) */
        apr_size_t clen;
        const char *compact = oa2f_metadata_compact(r->pool, &md, &clen);
        shared_write(r, key, 'D', now + ttl, now + ttl, 0, compact, clen);
    }
    else if (leader && o != OA2F_OK) {
        shared_write(r, key, 'F', retry_at, now + FAILURE_MEMORY, (int)o, *why,
                     strlen(*why));
    }
    if (leader == 1) {
        oa2f_flight_end(oa2f_flights(), key, (int)o);
    }

    lock();
    was_failing = st->failing;
    if (o == OA2F_OK) {
        st->issuer = intern(md.issuer);
        st->endpoint = intern(md.introspection_endpoint);
        st->jwks_uri = intern(md.jwks_uri);
        st->until = now + ttl;
        st->failing = 0;
        *issuer = st->issuer;
        endpoint = st->endpoint;
        unlock();
        if (leader && (was_failing || prev.kind == 'F')) {
            ap_log_rerror(APLOG_MARK, APLOG_NOTICE, 0, r,
                          OA2F_LOGNO(10010) "metadata document %s is usable "
                                            "again",
                          scope->metadata_url);
        }
        goto found;
    }
    /* one error line per incident, in all processes: when this process
     * fetched and the state changed (from usable, or to another failure)
     * in its own view and in the shared one */
    if (shared_failure) {
        level = APLOG_DEBUG; /* another process's failure, logged there */
    }
    else if ((was_failing && st->failure == o && strcmp(st->why, *why) == 0)
             || (prev.kind == 'F' && prev.failure == o
                 && strcmp(prev.body, *why) == 0)) {
        level = APLOG_INFO;
    }
    else {
        level = APLOG_ERR;
    }
    st->failing = 1;
    st->failure = o;
    st->retry_at = retry_at;
    apr_cpystrn(st->why, *why, sizeof(st->why));
    unlock();
    ap_log_rerror(APLOG_MARK, level, 0, r,
                  OA2F_LOGNO(10011) "metadata document %s: %s (%s); "
                                    "retried in %d s",
                  scope->metadata_url, oa2f_outcome_name(o), *why,
                  (int)(retry_at - now));
    return o;

found:
    if (!need_ep || (!endpoint && scope->local_jwt)) {
        *out = scope;
        return OA2F_OK;
    }
    *out = endpoint ? oa2f_conf_provider_discovered(scope, endpoint) : NULL;
    if (!*out) {
        *why = "no provider for the discovered endpoint in this process";
        return OA2F_INTERNAL;
    }
    return OA2F_OK;
}

const char *oa2f_discovery_jwks_uri(const oa2f_provider_t *scope)
{
    const doc_state_t *st;
    const char *uri = NULL;

    if (!table) {
        return NULL;
    }
    lock();
    st = apr_hash_get(table->by_scope, &scope, sizeof(scope));
    if (st && st->issuer) {
        uri = st->jwks_uri; /* interned: outlives the document */
    }
    unlock();
    return uri;
}
