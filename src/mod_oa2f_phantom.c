/* The phantom token (README "Phantom token"): after a successful check,
 * the backend receives the verdict as a JWT (RFC 9068 shape, typ at+jwt)
 * signed with OAuth2FederatedSigningKey, in the header that
 * OAuth2FederatedForwardJWT names, and verifies one signature with any
 * JWT library instead of trusting headers; SetHandler
 * oauth2-federated-jwks publishes the public key (RFC 7517).
 *
 * The cached path keeps its speed: each child remembers the JWTs it
 * signed, per token and audience, and reuses one while more than half
 * of its life is left. */
#include <apr_lib.h>
#include <apr_strings.h>
#include <apr_thread_mutex.h>
#include <ap_mpm.h>
#include <http_core.h>
#include <http_main.h>
#include <http_protocol.h>
#include <json-c/json.h>
#include <openssl/evp.h>
#include <openssl/sha.h>

#include "mod_oa2f_child_table.h"
#include "mod_oa2f_phantom.h"
#include "mod_oa2f_private.h"
#include "oa2f_jose.h"

#define JWKS_HANDLER "oauth2-federated-jwks"
/* README "Phantom token": at most 5 minutes ahead */
#define JWT_MAX_LIFE 300
/* The memo of signed JWTs: sets of MEMO_WAYS, 4,096 entries under a
 * threaded MPM (a child serves the tokens of many connections), 1,024
 * with prefork, so that a child's working set of tokens does not evict
 * itself (README "Phantom token"). */
#define MEMO_WAYS           4
#define MEMO_SLOTS_THREADED 4096
#define MEMO_SLOTS_PREFORK  1024
/* a slot's buffer starts at this size and grows once to MEMO_MAX_JWT */
#define MEMO_FIRST_CAP 1024
/* a JWT larger than this is signed per request, not remembered */
#define MEMO_MAX_JWT (8 * 1024)

typedef struct {
    unsigned char key[SHA256_DIGEST_LENGTH];
    long long iat, exp;
    apr_size_t len;
    apr_size_t cap; /* bytes of jwt, 0 while never used */
    char *jwt;      /* in the child's pool, reused */
} slot_t;

typedef struct {
    oa2f_child_table_t ct; /* pool and lock */
    unsigned sets;
    slot_t *slots; /* sets * MEMO_WAYS */
} memo_t;

static memo_t *memo;

void oa2f_phantom_child_init(apr_pool_t *pchild, server_rec *s)
{
    memo_t *m = apr_pcalloc(pchild, sizeof(*m));
    int threaded = 0;

    memo = NULL;
    if (oa2f_child_table_init(&m->ct, pchild) != APR_SUCCESS) {
        ap_log_error(APLOG_MARK, APLOG_WARNING, 0, s,
                     OA2F_LOGNO(11200) "cannot create the lock of the "
                                       "forwarded JWT memo: each request "
                                       "signs its own");
        return;
    }
    if (ap_mpm_query(AP_MPMQ_IS_THREADED, &threaded) != APR_SUCCESS) {
        threaded = AP_MPMQ_NOT_SUPPORTED;
    }
    m->sets = (threaded != AP_MPMQ_NOT_SUPPORTED ? MEMO_SLOTS_THREADED
                                                 : MEMO_SLOTS_PREFORK)
              / MEMO_WAYS;
    /* slot headers only: a buffer is allocated when its slot is used */
    m->slots = apr_pcalloc(pchild, sizeof(slot_t) * m->sets * MEMO_WAYS);
    memo = m;
}

static void memo_lock(void)
{
    oa2f_child_table_lock(&memo->ct);
}

static void memo_unlock(void)
{
    oa2f_child_table_unlock(&memo->ct);
}

static const oa2f_signer_t *signer(void)
{
    return oa2f_srv_signer(ap_server_conf);
}

/* The first way of key's set; keys are SHA-256 outputs. */
static slot_t *memo_set(const unsigned char *key)
{
    unsigned int h;

    memcpy(&h, key, sizeof(h));
    return &memo->slots[(apr_size_t)(h % memo->sets) * MEMO_WAYS];
}

/* more than half of its life is left (README "Phantom token") */
static int reusable(const slot_t *w, long long now)
{
    return w->cap && (w->exp - now) * 2 > w->exp - w->iat;
}

/* 1 and the remembered JWT of key, in p, while more than half of its
 * life is left. */
static int memo_get(apr_pool_t *p, const unsigned char *key, long long now,
                    const char **jwt)
{
    slot_t *set;
    int hit = 0, w;

    if (!memo) {
        return 0;
    }
    set = memo_set(key);
    memo_lock();
    for (w = 0; w < MEMO_WAYS; w++) {
        if (set[w].cap && !memcmp(set[w].key, key, sizeof(set[w].key))) {
            if (reusable(&set[w], now)) {
                *jwt = apr_pstrmemdup(p, set[w].jwt, set[w].len);
                hit = 1;
            }
            break;
        }
    }
    memo_unlock();
    return hit;
}

static void memo_put(const unsigned char *key, long long iat, long long exp,
                     const char *jwt)
{
    apr_size_t len = strlen(jwt);
    slot_t *set, *v = NULL;
    int w;

    if (!memo || len > MEMO_MAX_JWT) {
        return;
    }
    set = memo_set(key);
    memo_lock();
    /* the key's own way, else an unused one, else one past half its
     * life, else the one signed first */
    for (w = 0; w < MEMO_WAYS && !v; w++) {
        if (set[w].cap && !memcmp(set[w].key, key, sizeof(set[w].key))) {
            v = &set[w];
        }
    }
    for (w = 0; w < MEMO_WAYS && !v; w++) {
        if (!set[w].cap || !reusable(&set[w], iat)) {
            v = &set[w];
        }
    }
    if (!v) {
        v = &set[0];
        for (w = 1; w < MEMO_WAYS; w++) {
            if (set[w].iat < v->iat) {
                v = &set[w];
            }
        }
    }
    if (len + 1 > v->cap) {
        /* at most twice per slot: MEMO_FIRST_CAP, then MEMO_MAX_JWT */
        v->cap = len + 1 > MEMO_FIRST_CAP ? MEMO_MAX_JWT + 1 : MEMO_FIRST_CAP;
        v->jwt = apr_palloc(memo->ct.pool, v->cap);
    }
    memcpy(v->key, key, sizeof(v->key));
    memcpy(v->jwt, jwt, len + 1);
    v->len = len;
    v->iat = iat;
    v->exp = exp;
    memo_unlock();
}

static const char *b64url(apr_pool_t *p, const unsigned char *d, int n)
{
    static const char tab[] =
        "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
        "0123456789-_";
    char *out = apr_palloc(p, (apr_size_t)(n + 2) / 3 * 4 + 1);
    int i, o = 0, bits = 0;
    unsigned acc = 0;

    for (i = 0; i < n; i++) {
        acc = acc << 8 | d[i];
        bits += 8;
        while (bits >= 6) {
            bits -= 6;
            out[o++] = tab[(acc >> bits) & 63];
        }
    }
    if (bits) {
        out[o++] = tab[(acc << (6 - bits)) & 63];
    }
    out[o] = '\0';
    return out;
}

static apr_status_t json_put(void *o)
{
    json_object_put(o);
    return APR_SUCCESS;
}

/* Claims the JWT sets itself (RFC 7519 §4.1), not copied from the
 * verdict. */
static int reserved(const char *name)
{
    static const char *const names[] = { "iss", "aud", "exp",    "iat",
                                         "nbf", "jti", "active", NULL };
    int i;

    for (i = 0; names[i]; i++) {
        if (!strcmp(name, names[i])) {
            return 1;
        }
    }
    return 0;
}

/* The payload: the normalised fields (with their JSON types where the
 * answer gave them at top level), sub (r->user when absent), iss, aud,
 * iat, exp, jti. */
static const char *payload_of(request_rec *r, const oa2f_dir_conf_t *conf,
                              const oa2f_request_state_t *st, const char *iss,
                              long long now, long long exp)
{
    json_object *o = json_object_new_object(), *raw = NULL;
    const char *why, *aud = oa2f_conf_resource(conf);
    unsigned char rnd[16];
    int i;

    apr_pool_cleanup_register(r->pool, o, json_put, apr_pool_cleanup_null);
    if (st->claims->raw && st->claims->raw_len) {
        raw = oa2f_json_parse_object(st->claims->raw, st->claims->raw_len,
                                     &why);
        if (raw) {
            apr_pool_cleanup_register(r->pool, raw, json_put,
                                      apr_pool_cleanup_null);
        }
    }
    for (i = 0; i < st->claims->fields->nelts; i++) {
        const oa2f_field_t *f = &APR_ARRAY_IDX(st->claims->fields, i,
                                               oa2f_field_t);
        json_object *v = NULL;
        if (reserved(f->name)) {
            continue;
        }
        if (raw && json_object_object_get_ex(raw, f->name, &v) && v) {
            v = json_object_get(v);
        }
        else if (f->items) {
            int j;
            v = json_object_new_array();
            for (j = 0; j < f->items->nelts; j++) {
                json_object_array_add(v, json_object_new_string(APR_ARRAY_IDX(
                                             f->items, j, const char *)));
            }
        }
        else {
            v = json_object_new_string(f->shown ? f->shown : "");
        }
        json_object_object_add(o, f->name, v);
    }
    if (!json_object_object_get_ex(o, "sub", NULL) && r->user) {
        json_object_object_add(o, "sub", json_object_new_string(r->user));
    }
    json_object_object_add(o, "iss", json_object_new_string(iss));
    if (aud) {
        json_object_object_add(o, "aud", json_object_new_string(aud));
    }
    json_object_object_add(o, "iat", json_object_new_int64(now));
    json_object_object_add(o, "exp", json_object_new_int64(exp));
    if (apr_generate_random_bytes(rnd, sizeof(rnd)) != APR_SUCCESS) {
        return NULL;
    }
    json_object_object_add(
        o, "jti", json_object_new_string(b64url(r->pool, rnd, sizeof(rnd))));
    return apr_pstrdup(
        r->pool, json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN));
}

/* The memo's name of this JWT: the token, and what else the JWT says
 * that is not from the verdict (issuer, audience, key, and the user a
 * location's RemoteUserField made of it, the sub of a token without one). */
static int memo_key(const oa2f_request_state_t *st, const char *iss,
                    const char *aud, const char *user, const oa2f_signer_t *sg,
                    unsigned char out[SHA256_DIGEST_LENGTH])
{
    const char *kid = oa2f_signer_kid(sg);
    EVP_MD_CTX *c = EVP_MD_CTX_new();
    unsigned int n = 0;
    int ok;

    ok = c && EVP_DigestInit_ex(c, EVP_sha256(), NULL)
         && EVP_DigestUpdate(c, st->token_key, sizeof(st->token_key))
         && EVP_DigestUpdate(c, iss, strlen(iss) + 1)
         && EVP_DigestUpdate(c, aud ? aud : "", aud ? strlen(aud) + 1 : 1)
         && EVP_DigestUpdate(c, kid, strlen(kid) + 1)
         && EVP_DigestUpdate(c, user ? user : "", user ? strlen(user) + 1 : 1)
         && EVP_DigestFinal_ex(c, out, &n) && n == SHA256_DIGEST_LENGTH;
    EVP_MD_CTX_free(c);
    /* no digest, no name: two callers must never share a JWT */
    return ok;
}

/* Every client-sent header that a backend could take for `name`: case
 * and '-' / '_' folded (CGI and WSGI environments read both as one), as
 * the prefix headers are dropped (README "Phantom token"). */
static void unset_folded(apr_pool_t *p, apr_table_t *t, const char *name)
{
    const apr_array_header_t *arr = apr_table_elts(t);
    const apr_table_entry_t *e = (const apr_table_entry_t *)arr->elts;
    apr_size_t len = strlen(name);
    int i, j, found = 0;
    const char **doomed = NULL;

    for (i = 0; i < arr->nelts; i++) {
        const char *k = e[i].key;
        apr_size_t n;

        if (!k || strlen(k) != len) {
            continue;
        }
        for (n = 0; n < len; n++) {
            char a = apr_tolower(k[n]), b = apr_tolower(name[n]);

            if (a == '_') {
                a = '-';
            }
            if (b == '_') {
                b = '-';
            }
            if (a != b) {
                break;
            }
        }
        if (n == len) {
            if (!doomed) {
                doomed = apr_pcalloc(p, sizeof(*doomed) * (arr->nelts + 1));
            }
            doomed[found++] = k;
        }
    }
    for (j = 0; j < found; j++) {
        apr_table_unset(t, doomed[j]);
    }
}

void oa2f_phantom_fixup(request_rec *r, const oa2f_dir_conf_t *conf,
                        const oa2f_request_state_t *st)
{
    const char *header = oa2f_conf_forward_jwt(conf);
    const oa2f_signer_t *sg = signer();
    long long now = (long long)apr_time_sec(apr_time_now()), exp;
    unsigned char key[SHA256_DIGEST_LENGTH];
    int named;
    const char *iss, *jwt = NULL, *payload, *why = NULL;
    int is_authz;

    if (!header) {
        return;
    }
    is_authz = !strcasecmp(header, "Authorization");
    /* a client-sent one never reaches the backend */
    if (!is_authz || !st) {
        unset_folded(r->pool, r->headers_in, header);
    }
    if (!st || !st->claims) {
        return;
    }
    if (!sg) {
        /* start-up refuses this configuration; a request-time merge may
         * still get here */
        ap_log_rerror(APLOG_MARK, APLOG_ERR, 0, r,
                      OA2F_LOGNO(11201) "OAuth2FederatedForwardJWT %s without "
                                        "OAuth2FederatedSigningKey: nothing "
                                        "forwarded",
                      header);
        apr_table_unset(r->headers_in, header);
        return;
    }
    iss = apr_pstrcat(r->pool, "https://",
                      r->server->server_hostname ? r->server->server_hostname
                                                 : "localhost",
                      NULL);
    named = st->has_token_key
            && memo_key(st, iss, oa2f_conf_resource(conf), r->user, sg, key);
    if (!named || !memo_get(r->pool, key, now, &jwt)) {
        exp = now + JWT_MAX_LIFE;
        if (st->claims->expires_at > 0 && st->claims->expires_at < exp) {
            exp = st->claims->expires_at;
        }
        payload = payload_of(r, conf, st, iss, now, exp);
        jwt = payload ? oa2f_jws_sign(r->pool, sg, "at+jwt", payload,
                                      strlen(payload), &why)
                      : NULL;
        if (!jwt) {
            ap_log_rerror(APLOG_MARK, APLOG_ERR, 0, r,
                          OA2F_LOGNO(11202) "cannot sign the forwarded JWT: "
                                            "%s",
                          why ? why : "no random bytes");
            apr_table_unset(r->headers_in, header);
            return;
        }
        if (named) {
            memo_put(key, now, exp, jwt);
        }
        ap_log_rerror(APLOG_MARK, APLOG_TRACE1, 0, r,
                      OA2F_LOGNO(11203) "forwarded JWT signed (%s, kid %s), "
                                        "%lld s",
                      oa2f_signer_alg(sg), oa2f_signer_kid(sg), exp - now);
    }
    apr_table_set(r->headers_in, header,
                  is_authz ? apr_pstrcat(r->pool, "Bearer ", jwt, NULL) : jwt);
    apr_table_setn(r->subprocess_env, "OAUTH2_FEDERATED_JWT", jwt);
}

int oa2f_phantom_jwks_handler(request_rec *r)
{
    const oa2f_signer_t *sg;

    if (!r->handler || strcmp(r->handler, JWKS_HANDLER) != 0) {
        return DECLINED;
    }
    if (r->method_number != M_GET) {
        apr_table_setn(r->headers_out, "Allow", "GET, HEAD");
        return HTTP_METHOD_NOT_ALLOWED;
    }
    if (!(sg = signer())) {
        ap_log_rerror(APLOG_MARK, APLOG_INFO, 0, r,
                      OA2F_LOGNO(11204) "%s without OAuth2FederatedSigningKey",
                      JWKS_HANDLER);
        return HTTP_NOT_FOUND;
    }
    ap_set_content_type(r, "application/json");
    apr_table_setn(r->headers_out, "Cache-Control", "public, max-age=300");
    apr_table_setn(r->headers_out, "Access-Control-Allow-Origin", "*");
    if (!r->header_only) {
        ap_rputs(oa2f_signer_jwks(r->pool, sg), r);
    }
    return OK;
}

/* The configuration tree: any OAuth2FederatedForwardJWT that is not Off. */
static const ap_directive_t *forwarding(const ap_directive_t *d)
{
    for (; d; d = d->next) {
        const ap_directive_t *in;
        if (!strcasecmp(d->directive, "OAuth2FederatedForwardJWT") && d->args
            && strcasecmp(d->args, "off") != 0) {
            return d;
        }
        if (d->first_child && (in = forwarding(d->first_child)) != NULL) {
            return in;
        }
    }
    return NULL;
}

int oa2f_phantom_check_config(apr_pool_t *ptemp, server_rec *s)
{
    const ap_directive_t *d;

    (void)ptemp;
    if (oa2f_srv_signer(s) || !(d = forwarding(ap_conftree))) {
        return OK;
    }
    ap_log_error(APLOG_MARK, APLOG_CRIT, 0, s,
                 OA2F_LOGNO(11205) "OAuth2FederatedForwardJWT %s at %s:%d "
                                   "needs OAuth2FederatedSigningKey (server "
                                   "configuration)",
                 d->args, d->filename, d->line_num);
    return HTTP_INTERNAL_SERVER_ERROR;
}
