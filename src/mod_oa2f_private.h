/* What every httpd glue file (mod_oa2f_*.c) shares: the module's log
 * declaration, the log tags and a few constants. Each glue file with an
 * API of its own has its own header (mod_oa2f_config.h, …). */
#ifndef MOD_OA2F_PRIVATE_H
#define MOD_OA2F_PRIVATE_H

#include <httpd.h>
#include <http_config.h>
#include <http_log.h>

/* for the cache and validate declarations below */
#include "mod_oa2f_config.h"
#include "oa2f_claims.h"
#include "oa2f_http.h"
#include "oa2f_outcome.h"

APLOG_USE_MODULE(oauth2_federated);
extern module AP_MODULE_DECLARE_DATA oauth2_federated_module;

/* Our log tags: "OA2F" + a number, unique per call site; the next free
 * number is kept in src/LOGNO. */
#define OA2F_LOGNO(n) "OA2F" #n ": "

#define OA2F_AUTH_TYPE "oauth2-federated"
/* Longer field names are not sent as headers. */
#define OA2F_FIELD_NAME_MAX 256
/* r->notes key set when a request passed our check and every Require */
#define OA2F_NOTE_ALLOWED "oauth2-federated-allowed"

/* ---- mod_oa2f_cache.c: socache, shared memory, single-flight ------- */
#include "oa2f_cache_entry.h"
#include "oa2f_flight.h"
#include "oa2f_stats.h"

int oa2f_cache_pre_config(apr_pool_t *pconf);
int oa2f_cache_check_config(apr_pool_t *pconf, server_rec *s);
int oa2f_cache_post_config(apr_pool_t *pconf, apr_pool_t *ptemp,
                           server_rec *s);
void oa2f_cache_child_init(apr_pool_t *p, server_rec *s);
/* NULL when OAuth2FederatedCache none. */
int oa2f_cache_enabled(void);
const char *oa2f_cache_secret(void);
typedef struct {
    oa2f_claims_t *claims;
    long long validated_at;
    const unsigned char *entry;     /* the encoded value claims point into */
    apr_size_t entry_len;
    int local;                      /* from this child's own copy          */
} oa2f_cache_found_t;

/* 1 and *found on a decodable entry, from this child's copy or else the
 * shared cache; 0 on a miss, an error or corruption. */
int oa2f_cache_get(request_rec *r, const unsigned char *key,
                   long long now, oa2f_cache_found_t *found);
/* Let this child answer the next lookups of an entry found in the shared
 * cache, until `until` (which the caller bounds by what the location may
 * serve); nothing to do for one that came from the child's own copy. */
void oa2f_cache_keep_local(const unsigned char *key, long long until,
                           const oa2f_cache_found_t *found);
/* Store until `until` (seconds since epoch); errors are logged once per
 * incident and otherwise ignored. */
void oa2f_cache_put(request_rec *r, const unsigned char *key,
                    const oa2f_claims_t *c, long long validated_at,
                    long long until);
oa2f_stats_t *oa2f_stats(void);
oa2f_flight_table_t *oa2f_flights(void);
struct oa2f_key_memo_t;
/* This child's memo of derived keys (NULL without a cache). */
struct oa2f_key_memo_t *oa2f_cache_key_memo(void);

/* ---- mod_oa2f_validate.c: cache → single-flight → provider --------- */
void oa2f_validate(request_rec *r, const oa2f_dir_conf_t *conf,
                   oa2f_http_pool_t *hp, const char *token,
                   oa2f_outcome_e *outcome, const oa2f_claims_t **claims,
                   const char **why);

#endif
