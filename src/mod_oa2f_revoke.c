/* SetHandler oauth2-federated-revoke (README "Revocation") and
 * the rules on the request path: the check of every entry found, and,
 * with a redis or memcache cache, the fleet list.
 *
 * Return conventions of the handler: DECLINED for other handlers, OK
 * with r->status set for every answer it writes itself (204, 400, 405),
 * so that the one-line bodies and `Allow: POST` are exactly ours. */
#include <apr_strings.h>
#include <http_core.h>
#include <http_protocol.h>

#include "mod_oa2f_fleet_lock.h"
#include "mod_oa2f_private.h"
#include "mod_oa2f_conf_provider.h"
#include "mod_oa2f_config.h"
#include "mod_oa2f_revoke.h"
#include "mod_oa2f_shm.h"
#include "mod_oa2f_socache.h"
#include "oa2f_cache_entry.h"
#include "oa2f_revoke.h"
#include "oa2f_token.h"

#define REVOKE_HANDLER "oauth2-federated-revoke"
/* README "Revocation": the fleet's rules reach every server within 2 s;
 * one request per server and interval reads them. */
#define SYNC_INTERVAL_US 500000LL
/* The fleet list's name: a key of its own derivation (oa2f_keyer.h) */
#define LIST_IDENTITY "oauth2-federated:revocation-rules"
#define LIST_VERSION  "v1"

/* This generation's view. */
static long long reuse_cap = OA2F_REVOKE_REUSE_MAX;
static long long lifetime = OA2F_REVOKE_REUSE_MAX;
static unsigned char list_key[OA2F_CACHE_KEY_LEN];

/* ---- configuration time ---------------------------------------------- */

/* OAuth2FederatedStaleIfError of a scope (README "Outages"): a verdict
 * may be served that long after its reuse time, so a rule must live that
 * much longer. The directive is not allowed in .htaccess, so the
 * configuration files hold every value. */
static long long stale_if_error_of(const oa2f_dir_conf_t *c)
{
    return oa2f_conf_stale_if_error(c);
}

typedef struct {
    long long reuse; /* longest reuse time seen */
    long long stale; /* largest StaleIfError seen */
} longest_t;

static void walk_sections(const apr_array_header_t *secs, longest_t *l);

/* A base scope (a server's defaults) without CacheMaxTTL reuses until
 * the token's expiry: the 24 h rule caps it. Other scopes without one
 * inherit from a scope walked too. */
static void walk_scope(ap_conf_vector_t *v, int base, longest_t *l)
{
    const oa2f_dir_conf_t *c = ap_get_module_config(v,
                                                    &oauth2_federated_module);
    core_dir_config *core = ap_get_core_module_config(v);

    if (c) {
        if (c->cache_max_ttl == OA2F_UNSET) {
            if (base) {
                l->reuse = OA2F_REVOKE_REUSE_MAX;
            }
        }
        else if (c->cache_max_ttl > l->reuse) {
            l->reuse = c->cache_max_ttl;
        }
        if (stale_if_error_of(c) > l->stale) {
            l->stale = stale_if_error_of(c);
        }
    }
    else if (base) {
        l->reuse = OA2F_REVOKE_REUSE_MAX;
    }
    if (core) {
        walk_sections(core->sec_file, l);
        walk_sections(core->sec_if, l);
    }
}

static void walk_sections(const apr_array_header_t *secs, longest_t *l)
{
    for (int i = 0; secs && i < secs->nelts; i++) {
        walk_scope(APR_ARRAY_IDX(secs, i, ap_conf_vector_t *), 0, l);
    }
}

void oa2f_revoke_post_config(apr_pool_t *ptemp, server_rec *s)
{
    longest_t l = { 0, 0 };
    server_rec *v;

    (void)ptemp;
    for (v = s; v; v = v->next) {
        core_server_config *core = ap_get_core_module_config(v->module_config);
        walk_scope(v->lookup_defaults, 1, &l);
        walk_sections(core->sec_dir, &l);
        walk_sections(core->sec_url, &l);
    }
    /* a section only other modules keep (<Proxy>) is capped to this
     * too, which is what makes dropping a rule after it safe */
    reuse_cap = l.reuse > OA2F_REVOKE_REUSE_MAX ? OA2F_REVOKE_REUSE_MAX
                : l.reuse < 1                   ? 1
                                                : l.reuse;
    lifetime = reuse_cap + (l.stale > 86400 ? 86400 : l.stale);
    oa2f_cache_key(oa2f_srv_cache_secret(s), LIST_IDENTITY, LIST_VERSION,
                   list_key);
    ap_log_error(APLOG_MARK, APLOG_DEBUG, 0, s,
                 OA2F_LOGNO(10700) "revocation: verdicts are reused for at "
                                   "most %" APR_INT64_T_FMT
                                   " s, rules kept for %" APR_INT64_T_FMT " s",
                 (apr_int64_t)reuse_cap, (apr_int64_t)lifetime);
}

long long oa2f_revoke_reuse_cap(void)
{
    return reuse_cap;
}

/* ---- the request path -------------------------------------------------- */

static long long now_sec(void)
{
    return (long long)apr_time_sec(apr_time_now());
}

int oa2f_revoke_covers(const unsigned char *key, const oa2f_claims_t *c,
                       long long validated_at)
{
    const oa2f_field_t *sub;

    if (!oa2f_rules_pending(oa2f_revocations(), validated_at)) {
        return 0; /* the one atomic load */
    }
    sub = c ? oa2f_claims_get(c, "sub") : NULL;
    return oa2f_rules_revoked(oa2f_revocations(), validated_at, key,
                              sub ? sub->value : NULL,
                              c ? c->client_id : NULL);
}

unsigned oa2f_revoke_live_rules(void)
{
    return oa2f_rules_live(oa2f_revocations(), now_sec(), lifetime);
}

/* Read the fleet list, merge it, and write the union back when the list
 * lacks one of this server's live rules (a concurrent writer elsewhere
 * lost it) or when `mine` (a revocation here). Read-merge-write is not
 * atomic; the repair on every later read makes it converge. */
static void exchange(request_rec *r, oa2f_rules_t *t, int mine)
{
    long long now = now_sec(), newest = 0;
    unsigned char *v, *out;
    apr_size_t n, len;
    int write;

    if (oa2f_cache_get_shared(r, list_key, &v, &n)) {
        write = oa2f_rules_merge(t, v, n, now, lifetime, &newest);
        if (write < 0) {
            ap_log_rerror(
                APLOG_MARK, APLOG_WARNING, 0, r,
                OA2F_LOGNO(10701) "the fleet's revocation list in the shared "
                                  "cache is not a list (%" APR_SIZE_T_FMT
                                  " bytes); writing this server's",
                n);
            write = 1;
        }
    }
    else {
        write = oa2f_rules_live(t, now, lifetime) > 0;
    }
    if (!write && !mine) {
        return;
    }
    out = oa2f_rules_export(r->pool, t, now, lifetime, OA2F_CACHE_MAX_ENTRY,
                            &len);
    if (!oa2f_cache_put_shared(r, list_key, now + lifetime, out, len)) {
        ap_log_rerror(APLOG_MARK, APLOG_WARNING, 0, r,
                      OA2F_LOGNO(10702) "could not write the fleet's "
                                        "revocation list; retried on the "
                                        "next read");
    }
}

void oa2f_revoke_sync(request_rec *r)
{
    oa2f_rules_t *t = oa2f_revocations();

    if (!t || !oa2f_cache_is_fleet()
        || !oa2f_rules_sync_due(t, (long long)apr_time_now(),
                                SYNC_INTERVAL_US)) {
        return;
    }
    exchange(r, t, 0);
}

/* ---- the handler ------------------------------------------------------- */

static int answer(request_rec *r, int status, const char *text)
{
    r->status = status;
    apr_table_setn(r->headers_out, "Cache-Control", "no-store");
    if (text) {
        ap_set_content_type(r, "text/plain; charset=utf-8");
        if (!r->header_only) {
            ap_rvputs(r, text, "\n", NULL);
        }
    }
    return OK;
}

static int refuse(request_rec *r, const char *why)
{
    ap_log_rerror(APLOG_MARK, APLOG_DEBUG, 0, r,
                  OA2F_LOGNO(10703) "revocation request refused: %s", why);
    return answer(r, HTTP_BAD_REQUEST, why);
}

/* The body, at most OA2F_REVOKE_BODY_MAX bytes: a larger one is refused
 * unread (by its Content-Length) or as soon as a chunked one passes the
 * cap, and the connection is closed so that httpd does not read the
 * rest. NULL and *body on success; else the reason. */
static const char *read_body(request_rec *r, char **body, apr_size_t *len)
{
    const char *cl = apr_table_get(r->headers_in, "Content-Length");
    apr_size_t n = 0;
    long got;
    char *buf;

    if (cl) {
        apr_off_t v;
        char *end;
        if (apr_strtoff(&v, cl, &end, 10) != APR_SUCCESS || *end || v < 0
            || v > OA2F_REVOKE_BODY_MAX) {
            r->connection->keepalive = AP_CONN_CLOSE;
            return "the body is larger than 8192 bytes";
        }
    }
    if (ap_setup_client_block(r, REQUEST_CHUNKED_DECHUNK) != OK) {
        r->connection->keepalive = AP_CONN_CLOSE;
        return "the body cannot be read";
    }
    buf = apr_palloc(r->pool, OA2F_REVOKE_BODY_MAX + 1);
    if (ap_should_client_block(r)) {
        while ((got = ap_get_client_block(r, buf + n,
                                          OA2F_REVOKE_BODY_MAX + 1 - n))
               > 0) {
            n += (apr_size_t)got;
            if (n > OA2F_REVOKE_BODY_MAX) {
                r->connection->keepalive = AP_CONN_CLOSE;
                return "the body is larger than 8192 bytes";
            }
        }
        if (got < 0) {
            r->connection->keepalive = AP_CONN_CLOSE;
            return "the body cannot be read";
        }
    }
    buf[n] = '\0';
    *body = buf;
    *len = n;
    return NULL;
}

/* One rule; a full table records the global rule instead (fail safe). */
static void add_rule(request_rec *r, oa2f_rules_t *t, apr_uint64_t h,
                     long long now)
{
    if (oa2f_rules_add(t, h, now, now, lifetime) == OA2F_RULE_GLOBAL) {
        ap_log_rerror(
            APLOG_MARK, APLOG_WARNING, 0, r,
            OA2F_LOGNO(10704) "the revocation table is full: every verdict "
                              "validated until now is asked again");
    }
}

/* token=T: its entry under every provider this process knows is removed
 * (shared cache and own copy), and a rule per cache key covers the other
 * children's copies and the fleet's. Returns the number of keys. */
static int revoke_token(request_rec *r, oa2f_rules_t *t, const char *token,
                        long long now)
{
    apr_array_header_t *provs = oa2f_conf_providers_all(r->pool);
    int i, keys = 0;

    for (i = 0; i < provs->nelts; i++) {
        const oa2f_provider_t *p = APR_ARRAY_IDX(provs, i,
                                                 const oa2f_provider_t *);
        unsigned char key[OA2F_CACHE_KEY_LEN];

        if (!oa2f_cache_key_of(p, token, key)) {
            continue;
        }
        oa2f_cache_remove(r, key);
        /* README "Cache": its lock may have been left to expire */
        oa2f_fleet_lock_drop(r, key);
        add_rule(r, t,
                 oa2f_rule_hash(OA2F_REVOKE_TOKEN, key, OA2F_CACHE_KEY_LEN),
                 now);
        keys++;
    }
    return keys;
}

int oa2f_revoke_handler(request_rec *r)
{
    oa2f_rules_t *t = oa2f_revocations();
    oa2f_revoke_kind_e kind;
    const char *why, *value;
    char *body;
    apr_size_t len;
    long long now;

    if (!r->handler || strcmp(r->handler, REVOKE_HANDLER) != 0) {
        return DECLINED;
    }
    if (r->method_number != M_POST) {
        apr_table_setn(r->headers_out, "Allow", "POST");
        return answer(r, HTTP_METHOD_NOT_ALLOWED, "only POST is allowed here");
    }
    if (!t) {
        return HTTP_SERVICE_UNAVAILABLE;
    }
    if (!oa2f_revoke_content_type_ok(
            apr_table_get(r->headers_in, "Content-Type"))) {
        return refuse(r, "the body must be "
                         "application/x-www-form-urlencoded");
    }
    if ((why = read_body(r, &body, &len))
        || (why = oa2f_revoke_parse(r->pool, body, len, &kind, &value))) {
        return refuse(r, why);
    }
    now = now_sec();
    if (kind == OA2F_REVOKE_TOKEN) {
        int keys = revoke_token(r, t, value, now);
        ap_log_rerror(APLOG_MARK, APLOG_NOTICE, 0, r,
                      OA2F_LOGNO(10705) "revoked token %s: %d cache "
                                        "key%s removed and ruled out",
                      oa2f_token_fingerprint(r->pool, value), keys,
                      keys == 1 ? "" : "s");
    }
    else {
        add_rule(r, t, oa2f_rule_hash(kind, value, strlen(value)), now);
        ap_log_rerror(APLOG_MARK, APLOG_NOTICE, 0, r,
                      OA2F_LOGNO(10706) "revoked %s \"%s\": no verdict "
                                        "validated until now is served "
                                        "from the cache",
                      oa2f_revoke_kind_name(kind),
                      ap_escape_logitem(r->pool, value));
    }
    if (oa2f_cache_is_fleet()) {
        exchange(r, t, 1);
    }
    oa2f_stats_count(oa2f_stats(), OA2F_C_REVOCATIONS);
    return answer(r, HTTP_NO_CONTENT, NULL);
}
