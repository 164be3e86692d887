/* Revocation (README "Revocation"): the body of a POST to
 * SetHandler oauth2-federated-revoke, and the "not before" rules that
 * make cached verdicts misses, without httpd.
 *
 * A rule says "no verdict of this token / subject / client validated at
 * or before revoked_at is served from the cache". Rules live in one
 * fixed-size table in the module's shared memory, keyed by a 64-bit hash
 * of (kind, value); a token's value is its cache key (oa2f_keyer.h), so
 * the table never holds anything the token could be read from. Readers
 * are lock-free; writers (revocations, the fleet merge) take a short
 * spin lock in the table. With no rule newer than a verdict, the check
 * is one atomic load. */
#ifndef OA2F_REVOKE_H
#define OA2F_REVOKE_H

#include <apr_pools.h>

#include "oa2f_keyer.h"

typedef enum {
    OA2F_REVOKE_TOKEN = 1, /* value: the cache key under one provider   */
    OA2F_REVOKE_SUB = 2,   /* value: the answer's `sub`                 */
    OA2F_REVOKE_CLIENT = 3 /* value: the normalised client id          */
} oa2f_revoke_kind_e;

/* Bodies larger than this are refused unread (README "Revocation"). */
#define OA2F_REVOKE_BODY_MAX 8192
/* A sub or client_id longer than this is refused. */
#define OA2F_REVOKE_VALUE_MAX 1024
/* The cache never serves a verdict validated longer ago than this
 * (README "Revocation": the 24 h rule), so that a rule can be dropped. */
#define OA2F_REVOKE_REUSE_MAX 86400

/* 1 when a Content-Type header value is application/x-www-form-urlencoded
 * (case-insensitive), with at most a charset parameter. */
int oa2f_revoke_content_type_ok(const char *ct);

/* Parse a form body of exactly one parameter token=T, sub=S or
 * client_id=C (percent- and plus-decoded, non-empty; a token is RFC 6750
 * b64token syntax of at most 4096 bytes, sub and client_id have no
 * control character and at most OA2F_REVOKE_VALUE_MAX bytes). NULL and
 * *kind, *value (in p) when good; else a one-line reason (static). */
const char *oa2f_revoke_parse(apr_pool_t *p, const char *body, apr_size_t len,
                              oa2f_revoke_kind_e *kind, const char **value);

/* The parameter name of a kind ("token", "sub", "client_id"). */
const char *oa2f_revoke_kind_name(oa2f_revoke_kind_e kind);

/* The table key of (kind, value[0..len)): a 64-bit hash, never 0, the
 * same on every server (the fleet exchanges it). */
apr_uint64_t oa2f_rule_hash(oa2f_revoke_kind_e kind, const void *value,
                            apr_size_t len);

/* ---- the rule table ----------------------------------------------------- */

typedef struct oa2f_rules_t oa2f_rules_t;

/* Slots of the table; also bounds the fleet list (OA2F_CACHE_MAX_ENTRY). */
#define OA2F_RULES_SLOTS 2048

/* Bytes of shared memory a table needs. */
apr_size_t oa2f_rules_size(void);

/* Lay a table out in mem (oa2f_rules_size() bytes, zeroed here). */
oa2f_rules_t *oa2f_rules_init(void *mem);

/* What an add did. */
typedef enum {
    OA2F_RULE_ADDED, /* a new rule, or a later time for a known one  */
    OA2F_RULE_KNOWN, /* the table already said as much              */
    OA2F_RULE_GLOBAL /* no room: recorded as "everything validated at
                         or before revoked_at" (fail safe)           */
} oa2f_rule_add_e;

/* Record "verdicts under hash validated at or before revoked_at are not
 * served". A slot whose rule is older than `lifetime` seconds at `now`
 * is free again: no verdict it could affect can still be served. */
oa2f_rule_add_e oa2f_rules_add(oa2f_rules_t *t, apr_uint64_t hash,
                               long long revoked_at, long long now,
                               long long lifetime);

/* Record "nothing validated at or before revoked_at is served". */
void oa2f_rules_add_global(oa2f_rules_t *t, long long revoked_at);

/* 0 when no rule is newer than a verdict validated at validated_at (one
 * atomic load): it is not revoked, whatever its key and claims. */
int oa2f_rules_pending(const oa2f_rules_t *t, long long validated_at);

/* 1 when a verdict validated at validated_at with this cache key (may be
 * NULL), sub and client_id (NULL when absent) is revoked. Lock-free; one
 * atomic load when no rule is newer than the verdict. */
int oa2f_rules_revoked(const oa2f_rules_t *t, long long validated_at,
                       const unsigned char *key, const char *sub,
                       const char *client_id);

/* Live rules at now (the global one counts as one), for the status
 * page. */
unsigned oa2f_rules_live(const oa2f_rules_t *t, long long now,
                         long long lifetime);

/* ---- the fleet list (README "Revocation": the fleet) ------------------- */

/* 1 when this process should read the fleet list now: at most one
 * process per table wins each interval_us (compare-and-swap). */
int oa2f_rules_sync_due(oa2f_rules_t *t, long long now_us,
                        long long interval_us);

/* The live rules as a list value (in p, *len bytes); rules that do not
 * fit in max bytes fold into the global rule (fail safe). */
unsigned char *oa2f_rules_export(apr_pool_t *p, const oa2f_rules_t *t,
                                 long long now, long long lifetime,
                                 apr_size_t max, apr_size_t *len);

/* Merge a list value into the table. Returns -1 when buf is not a list,
 * else 1 when the table holds a live rule the list lacks (or a later
 * time than it says): the list should be written again (a concurrent
 * writer lost it), 0 when not. *newest is the latest revocation time in
 * the list (0 when none). */
int oa2f_rules_merge(oa2f_rules_t *t, const unsigned char *buf, apr_size_t len,
                     long long now, long long lifetime, long long *newest);

#endif
