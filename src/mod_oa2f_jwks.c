/* Local JWT validation (README "Local JWT validation"; RFC 9068 JWT
 * access tokens, RFC 7515 JWS, RFC 7517 JWK sets).
 *
 * The key set is fetched when a request first needs it, never at
 * configuration time: by one caller for all (single-flight across
 * threads and processes, oa2f_flight.h), shared with the other children
 * through the shared cache (socache) when it fits an entry, and kept for
 * its Cache-Control max-age within 60 s - 24 h (1 h without one). A kid
 * the set does not have makes one refresh, at most one per 30 s across
 * the server. The fetch uses the scope's timeouts, TLS settings and
 * proxy, stops reading beyond OA2F_JWKS_MAX_LEN and follows no redirect
 * (oa2f_http.h). While no usable set can be had, a JWS gets the
 * unreachable outcome. */
#include <apr_hash.h>
#include <apr_lib.h>
#include <apr_strings.h>
#include <apr_thread_mutex.h>

#include "mod_oa2f_child_table.h"
#include "mod_oa2f_jwks.h"
#include "mod_oa2f_private.h"
#include "mod_oa2f_shm.h"
#include "mod_oa2f_socache.h"
#include "oa2f_cache_entry.h"
#include "oa2f_flight.h"
#include "oa2f_jose.h"
#include "oa2f_scrub.h"

#define TTL_MIN     60
#define TTL_MAX     86400
#define TTL_DEFAULT 3600
#define REFRESH_GAP 30 /* README: at most one refresh per 30 s */
#define RETRY_AFTER 5  /* after a failure, seconds to the next fetch */
#define JWT_LEEWAY  60
#define WHY_MAX     300
#define SHARED_HEAD 17 /* 'J', until, fetched_at */

/* One parsed set, alive while a request uses it. */
typedef struct {
    apr_pool_t *pool;
    oa2f_jwks_t *set;
    int refs;
    int current;
} set_ref_t;

typedef struct {
    set_ref_t *cur;
    apr_int64_t until;
    apr_int64_t fetched_at;
    apr_int64_t retry_at;
    int failing;
    char why[WHY_MAX];
} jwks_state_t;

typedef struct {
    oa2f_child_table_t ct; /* pool and lock */
    apr_hash_t *by_url;    /* name (URL and how it is fetched) → state */
} table_t;

static table_t *table;

void oa2f_jwks_child_init(apr_pool_t *pchild, server_rec *s)
{
    table_t *t = apr_pcalloc(pchild, sizeof(*t));

    table = NULL;
    if (oa2f_child_table_init(&t->ct, pchild) != APR_SUCCESS) {
        ap_log_error(APLOG_MARK, APLOG_CRIT, 0, s,
                     OA2F_LOGNO(11100) "cannot create the lock of the JWKS "
                                       "table: local JWT validation is off "
                                       "in this process");
        return;
    }
    t->by_url = apr_hash_make(t->ct.pool);
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

/* r->pool's cleanup: the request is done with the set. */
static apr_status_t release(void *v)
{
    set_ref_t *ref = v;

    lock();
    if (--ref->refs == 0 && !ref->current) {
        apr_pool_destroy(ref->pool);
    }
    unlock();
    return APR_SUCCESS;
}

/* Under the lock. */
static const oa2f_jwks_t *acquire(request_rec *r, set_ref_t *ref)
{
    ref->refs++;
    apr_pool_cleanup_register(r->pool, ref, release, apr_pool_cleanup_null);
    return ref->set;
}

/* What names a key set: the URL and how it is fetched (a set fetched
 * without TLS verification must not serve a scope that verifies). */
static const char *set_name(apr_pool_t *p, const oa2f_provider_t *prov,
                            const char *url)
{
    return apr_psprintf(p, "jwks\n%s\ntls=%d ca=%s\nproxy=%s %s", url,
                        prov->ssl_verify ? 1 : 0,
                        prov->ca_file
                            ? (prov->ca_digest ? prov->ca_digest : "unread")
                            : "system",
                        prov->proxy ? prov->proxy : "direct",
                        prov->proxy && prov->proxy_userpwd
                            ? oa2f_provider_digest(p, prov->proxy_userpwd,
                                                   strlen(prov->proxy_userpwd))
                            : "-");
}

/* The shared cache's key of a set: SHA-256 of its name (token keys are
 * derived otherwise, oa2f_keyer.h, so the two never meet). */
static void shared_key(apr_pool_t *p, const char *name,
                       unsigned char key[OA2F_CACHE_KEY_LEN])
{
    const char *hex = oa2f_provider_digest(p, name, strlen(name));
    int i;

    for (i = 0; i < OA2F_CACHE_KEY_LEN; i++) {
        unsigned hi = (unsigned)(hex[2 * i] <= '9' ? hex[2 * i] - '0'
                                                   : hex[2 * i] - 'a' + 10);
        unsigned lo = (unsigned)(hex[2 * i + 1] <= '9'
                                     ? hex[2 * i + 1] - '0'
                                     : hex[2 * i + 1] - 'a' + 10);
        key[i] = (unsigned char)(hi << 4 | lo);
    }
}

static apr_int64_t get64(const unsigned char *v)
{
    apr_uint64_t u = 0;
    int i;

    for (i = 0; i < 8; i++) {
        u = u << 8 | v[i];
    }
    return (apr_int64_t)u;
}

static void put64(unsigned char *v, apr_int64_t x)
{
    apr_uint64_t u = (apr_uint64_t)x;
    int i;

    for (i = 7; i >= 0; i--) {
        v[i] = (unsigned char)(u & 0xff);
        u >>= 8;
    }
}

/* The shared record: 'J', the end of its keeping, when it was fetched,
 * the document. 1 with those, or 0. */
static int shared_read(request_rec *r, const unsigned char *key,
                       apr_int64_t *until, apr_int64_t *fetched_at,
                       const char **body, apr_size_t *len)
{
    unsigned char *v;
    apr_size_t n;

    if (!oa2f_cache_get_shared(r, key, &v, &n) || n < SHARED_HEAD
        || v[0] != 'J') {
        return 0;
    }
    *until = get64(v + 1);
    *fetched_at = get64(v + 9);
    *body = apr_pstrmemdup(r->pool, (const char *)v + SHARED_HEAD,
                           n - SHARED_HEAD);
    *len = n - SHARED_HEAD;
    return 1;
}

static void shared_write(request_rec *r, const unsigned char *key,
                         apr_int64_t until, apr_int64_t fetched_at,
                         const char *body, apr_size_t len)
{
    unsigned char *v;

    if (len + SHARED_HEAD > OA2F_CACHE_MAX_ENTRY) {
        return; /* each child fetches its own: rare, and logged at debug */
    }
    v = apr_palloc(r->pool, len + SHARED_HEAD);
    v[0] = 'J';
    put64(v + 1, until);
    put64(v + 9, fetched_at);
    memcpy(v + SHARED_HEAD, body, len);
    /* kept past its keeping time, for the children that have no set when
     * a new one cannot be had (README "Local JWT validation") */
    oa2f_cache_put_shared(r, key, until + TTL_MAX, v, len + SHARED_HEAD);
}

/* Cache-Control max-age (RFC 9111 §5.2.2.1) clamped to 60 s - 24 h; 1 h
 * without one; the minimum with no-store or no-cache. */
static long ttl_of(const char *cc)
{
    const char *m;
    long v;

    if (!cc) {
        return TTL_DEFAULT;
    }
    if (ap_strcasestr(cc, "no-store") || ap_strcasestr(cc, "no-cache")) {
        return TTL_MIN;
    }
    m = ap_strcasestr(cc, "max-age=");
    if (!m || !apr_isdigit(m[8])) {
        return TTL_DEFAULT;
    }
    v = strtol(m + 8, NULL, 10);
    return v < TTL_MIN ? TTL_MIN : v > TTL_MAX ? TTL_MAX : v;
}

/* One GET of the set: 1 with its body and keeping time, or 0 and *why. */
static int fetch(request_rec *r, const oa2f_provider_t *prov, const char *url,
                 oa2f_http_pool_t *hp, const char **body, apr_size_t *len,
                 long *ttl, const char **why)
{
    oa2f_http_req_t req;
    oa2f_http_resp_t resp;
    oa2f_provider_t how = *prov;

    if (!hp) {
        *why = "no connection pool in this process";
        return 0;
    }
    /* a larger document is refused without being read to its end */
    how.max_answer = OA2F_JWKS_MAX_LEN;
    req.method = "GET";
    req.url = url;
    req.body = NULL;
    req.headers = apr_array_make(r->pool, 1, sizeof(const char *));
    APR_ARRAY_PUSH(req.headers, const char *) = "Accept: application/jwk-set+"
                                                "json, application/json";
    switch (oa2f_http_perform(hp, r->pool, &how, &req, &resp)) {
    case OA2F_HTTP_DONE:
        break;
    case OA2F_HTTP_TOO_LARGE:
        *why = apr_psprintf(r->pool, "the JWKS is over %d bytes",
                            OA2F_JWKS_MAX_LEN);
        return 0;
    default:
        *why = apr_pstrcat(r->pool, "cannot fetch the JWKS: ",
                           resp.error ? resp.error : "?", NULL);
        return 0;
    }
    if (resp.status != 200) {
        *why = apr_psprintf(r->pool,
                            resp.status >= 300 && resp.status < 400
                                ? "the JWKS URL answered HTTP %ld, a "
                                  "redirect (not followed)"
                                : "the JWKS URL answered HTTP %ld",
                            resp.status);
        return 0;
    }
    *body = resp.body;
    *len = resp.body_len;
    *ttl = ttl_of(resp.cache_control);
    return 1;
}

/* Parse body into a new set of its own pool; NULL and *why. */
static set_ref_t *parse_set(request_rec *r, const char *body, apr_size_t len,
                            const char **why)
{
    set_ref_t *ref;
    apr_pool_t *p;
    oa2f_jwks_t *set = NULL;
    const char *note = NULL;
    int skipped = 0;

    lock(); /* a subpool of the child's pool */
    if (apr_pool_create(&p, table->ct.pool) != APR_SUCCESS) {
        unlock();
        *why = "out of memory";
        return NULL;
    }
    unlock();
    if (oa2f_jwks_parse(p, body, len, &set, &skipped, &note) != OA2F_JOSE_OK
        || !set) {
        *why = apr_pstrcat(
            r->pool, "unusable JWKS: ", note ? note : "not a key set", NULL);
        lock();
        apr_pool_destroy(p);
        unlock();
        return NULL;
    }
    if (note) {
        ap_log_rerror(APLOG_MARK, APLOG_WARNING, 0, r,
                      OA2F_LOGNO(11101) "JWKS: %s", note);
    }
    ap_log_rerror(APLOG_MARK, APLOG_DEBUG, 0, r,
                  OA2F_LOGNO(11102) "JWKS: %d usable keys, %d skipped",
                  oa2f_jwks_count(set), skipped);
    ref = apr_pcalloc(p, sizeof(*ref));
    ref->pool = p;
    ref->set = set;
    return ref;
}

/* Under the lock: ref becomes the state's set. */
static void install(jwks_state_t *st, set_ref_t *ref, apr_int64_t until,
                    apr_int64_t fetched_at)
{
    set_ref_t *old = st->cur;

    ref->current = 1;
    st->cur = ref;
    st->until = until;
    st->fetched_at = fetched_at;
    st->failing = 0;
    if (old) {
        old->current = 0;
        if (old->refs == 0) {
            apr_pool_destroy(old->pool);
        }
    }
}

/* The key set for url: 1 and *set (held until r->pool is cleared), or 0
 * and *why. refresh: the caller saw an unknown kid; a set fetched less
 * than REFRESH_GAP seconds ago (here or in another child) is then used
 * as it is, and *refreshed says whether a newer one came. */
static int get_set(request_rec *r, const oa2f_provider_t *prov,
                   const char *url, oa2f_http_pool_t *hp, int refresh,
                   const oa2f_jwks_t **set, int *refreshed, const char **why)
{
    apr_int64_t now = (apr_int64_t)apr_time_sec(apr_time_now());
    const char *name = set_name(r->pool, prov, url);
    unsigned char key[OA2F_CACHE_KEY_LEN];
    apr_int64_t mine = 0, until = 0, fetched_at = 0;
    const char *body = NULL;
    apr_size_t len = 0;
    long ttl = 0;
    jwks_state_t *st;
    oa2f_flight_table_t *ft = oa2f_flights();
    oa2f_flight_role_e role = OA2F_FLIGHT_ALONE;
    set_ref_t *ref;
    int was_failing, have = 0;
    /* a shared set past its keeping time, for when no new one comes */
    const char *old_body = NULL;
    apr_size_t old_len = 0;
    apr_int64_t old_until = 0, old_fetched = 0;

    *refreshed = 0;
    if (!table) {
        *why = "no JWKS table in this process";
        return 0;
    }
    lock();
    st = apr_hash_get(table->by_url, name, APR_HASH_KEY_STRING);
    if (!st) {
        st = apr_pcalloc(table->ct.pool, sizeof(*st));
        apr_hash_set(table->by_url, apr_pstrdup(table->ct.pool, name),
                     APR_HASH_KEY_STRING, st);
    }
    if (st->cur
        && (refresh ? now - st->fetched_at < REFRESH_GAP : now < st->until)) {
        *set = acquire(r, st->cur);
        unlock();
        return 1;
    }
    /* after a failure, nothing is fetched for RETRY_AFTER seconds, not
     * even for an unknown kid */
    if (st->failing && now < st->retry_at) {
        if (st->cur) {
            /* its keeping time ran out and no new one came: the keys in
             * hand still serve until one does */
            *set = acquire(r, st->cur);
            unlock();
            return 1;
        }
        *why = apr_pstrdup(r->pool, st->why);
        unlock();
        return 0;
    }
    mine = st->cur ? st->fetched_at : 0;
    unlock();

    shared_key(r->pool, name, key);
    /* another child's set: newer than ours, and, on a refresh, recent */
    if (shared_read(r, key, &until, &fetched_at, &body, &len)
        && fetched_at > mine) {
        if (until > now && (!refresh || now - fetched_at < REFRESH_GAP)) {
            have = 1;
        }
        else if (until <= now) {
            old_body = body;
            old_len = len;
            old_until = until;
            old_fetched = fetched_at;
        }
    }
    if (!have && ft) {
        role = oa2f_flight_begin(ft, key, (long long)apr_time_now(),
                                 (prov->total_timeout_ms + 1000) * 1000LL);
        if (role == OA2F_FLIGHT_FOLLOWER) {
            int landed = 0;
            if (oa2f_flight_wait(ft, key,
                                 (long long)apr_time_now()
                                     + (prov->total_timeout_ms + 1000)
                                           * 1000LL,
                                 &landed)
                && shared_read(r, key, &until, &fetched_at, &body, &len)
                && until > now && fetched_at > mine) {
                have = 1;
            }
            role = OA2F_FLIGHT_ALONE;
        }
    }
    if (!have) {
        if (fetch(r, prov, url, hp, &body, &len, &ttl, why)) {
            fetched_at = now;
            until = now + ttl;
            have = 2;
        }
    }
    ref = have ? parse_set(r, body, len, why) : NULL;
    if (!ref && old_body && !st->cur) {
        /* this child has no set, and another's has run out: it serves
         * while no new one can be had, as the other child's copy does */
        const char *ignored;
        set_ref_t *old = parse_set(r, old_body, old_len, &ignored);
        if (old) {
            lock();
            if (!st->cur) {
                install(st, old, old_until, old_fetched);
            }
            else {
                apr_pool_destroy(old->pool); /* another thread's came */
            }
            unlock();
        }
    }
    if (ref && have == 2) {
        shared_write(r, key, until, fetched_at, body, len);
    }
    if (role == OA2F_FLIGHT_LEADER) {
        oa2f_flight_end(ft, key, ref ? 0 : 1);
    }

    lock();
    was_failing = st->failing;
    if (ref) {
        install(st, ref, until, fetched_at);
        *set = acquire(r, ref);
        *refreshed = refresh && mine != fetched_at;
        unlock();
        if (was_failing) {
            ap_log_rerror(APLOG_MARK, APLOG_NOTICE, 0, r,
                          OA2F_LOGNO(11103) "JWKS %s is usable again", url);
        }
        else {
            ap_log_rerror(APLOG_MARK, APLOG_DEBUG, 0, r,
                          OA2F_LOGNO(11104) "JWKS %s %s, kept %ld s", url,
                          have == 2 ? "fetched"
                                    : "taken from the shared cache",
                          (long)(until - now));
        }
        return 1;
    }
    st->failing = 1;
    st->retry_at = now + RETRY_AFTER;
    apr_cpystrn(st->why, *why, sizeof(st->why));
    if (st->cur) {
        /* a refresh, or a set past its keeping time: the one in hand
         * stays in use (README "Local JWT validation") */
        *set = acquire(r, st->cur);
        unlock();
        ap_log_rerror(
            APLOG_MARK, was_failing ? APLOG_INFO : APLOG_WARNING, 0, r,
            OA2F_LOGNO(11105) "JWKS %s: no new set (%s); the one "
                              "in hand stays in use, retried in %d s",
            url, *why, RETRY_AFTER);
        return 1;
    }
    unlock();
    ap_log_rerror(APLOG_MARK, was_failing ? APLOG_INFO : APLOG_ERR, 0, r,
                  OA2F_LOGNO(11106) "JWKS %s: %s; retried in %d s", url, *why,
                  RETRY_AFTER);
    return 0;
}

static void decide(request_rec *r, oa2f_validation_t *out, oa2f_outcome_e o,
                   const char *why)
{
    memset(out, 0, sizeof(*out));
    out->outcome = o;
    out->why = apr_pstrcat(r->pool, "local JWT: ", why, NULL);
    out->local = 1;
}

int oa2f_jwt_local(request_rec *r, const oa2f_dir_conf_t *conf,
                   const oa2f_provider_t *prov, const char *jwks_url,
                   oa2f_http_pool_t *hp, const char *token,
                   oa2f_validation_t *out)
{
    apr_size_t len = strlen(token);
    oa2f_jws_t *jws = NULL;
    const oa2f_jwks_t *set = NULL;
    oa2f_claims_t *claims = NULL;
    oa2f_jwt_rules_t rules;
    const char *why = NULL;
    int refreshed = 0;
    oa2f_jose_rc_e rc;

    if (!memchr(token, '.', len)) {
        return 0; /* an opaque token */
    }
    /* README "Local JWT validation": the token's own limit is older
     * (4096 bytes, oa2f_token.c), so this is a second fence */
    if (len > OA2F_JWS_MAX_LEN) {
        decide(r, out, OA2F_BAD_REQUEST, "the token is too long");
        return 1;
    }
    rc = oa2f_jws_parse(r->pool, token, len, &jws, &why);
    if (rc == OA2F_JOSE_NOT_JWS) {
        /* A first part that is base64url of '{"' is a JOSE header
         * (RFC 7515 §7.1): a JWS or JWE that is broken (extra parts,
         * padding), not an opaque token to introspect */
        if (len > 3 && !memcmp(token, "eyJ", 3)) {
            decide(r, out, OA2F_INACTIVE,
                   why ? why : "a JOSE header, but not a usable JWS");
            return 1;
        }
        return 0;
    }
    if (rc != OA2F_JOSE_OK) {
        decide(r, out, OA2F_INACTIVE, why ? why : "not a usable JWS");
        return 1;
    }
    /* RFC 9068 §4: the issuer is required, from the configuration or
     * the discovered metadata (checked with the audience afterwards) */
    if (!oa2f_conf_issuers(conf) && !prov->metadata_url) {
        decide(r, out, OA2F_INACTIVE,
               "no OAuth2FederatedIssuer (or metadata) to check iss "
               "against");
        return 1;
    }
    if (!jwks_url) {
        decide(r, out, OA2F_UNREACHABLE,
               "no OAuth2FederatedJWKSURL and no jwks_uri in the metadata");
        return 1;
    }
    if (!get_set(r, prov, jwks_url, hp, 0, &set, &refreshed, &why)) {
        decide(r, out, OA2F_UNREACHABLE, why);
        return 1;
    }
    rc = oa2f_jws_verify(jws, set, &why);
    if (rc == OA2F_JOSE_NO_KEY) {
        /* a rotated key: one refresh (at most one per 30 s) */
        if (get_set(r, prov, jwks_url, hp, 1, &set, &refreshed, &why)
            && refreshed) {
            rc = oa2f_jws_verify(jws, set, &why);
        }
        if (rc == OA2F_JOSE_NO_KEY) {
            ap_log_rerror(APLOG_MARK, APLOG_DEBUG, 0, r,
                          OA2F_LOGNO(11107) "local JWT: kid %s not in the "
                                            "JWKS %s",
                          jws->kid ? jws->kid : "(none)", jwks_url);
            return 0;
        }
    }
    if (rc != OA2F_JOSE_OK) {
        decide(r, out, OA2F_INACTIVE, why ? why : "bad signature");
        return 1;
    }
    rules.now = (long long)apr_time_sec(apr_time_now());
    rules.leeway = JWT_LEEWAY;
    rules.types = prov->jwt_types;
    rc = oa2f_jwt_claims(r->pool, jws, &rules, &claims, &why);
    if (rc != OA2F_JOSE_OK || !claims) {
        decide(r, out, OA2F_INACTIVE, why ? why : "claims refused");
        return 1;
    }
    if (!claims->raw) {
        /* OAUTH2_FEDERATED_RESPONSE: the payload is the "answer" */
        claims->raw = jws->payload;
        claims->raw_len = jws->payload_len;
    }
    oa2f_claims_drop_token(r->pool, claims, token);
    oa2f_claims_prepare(r->pool, claims);
    memset(out, 0, sizeof(*out));
    out->outcome = OA2F_OK;
    out->claims = claims;
    out->why = apr_psprintf(r->pool, "local JWT %s, kid %s", jws->alg,
                            jws->kid ? jws->kid : "(none)");
    out->local = 1;
    return 1;
}
