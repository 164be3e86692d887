/* The normalised result of one validation, whatever the dialect. */
#ifndef OA2F_CLAIMS_H
#define OA2F_CLAIMS_H

#include <apr_pools.h>
#include <apr_tables.h>
#include "oa2f_outcome.h"

/* One top-level field of the provider's answer, in answer order.
 * `value` is what the backend sees: strings as they are, numbers and
 * booleans as their JSON text, arrays of strings joined with spaces,
 * anything else as compact JSON. `items` (const char *) holds the
 * elements of an array field for oauth2-claim matching, else NULL. */
typedef struct {
    const char *name;
    const char *value;
    apr_size_t value_len;
    apr_array_header_t *items;
    /* Filled by oa2f_claims_prepare(), once per validation, so that a
     * cached verdict is handed on without per-byte work: the value with
     * control characters dropped (the same pointer when it had none), the
     * environment suffix (FIELD upper-cased, [^A-Z0-9_] → '_'), and
     * whether the name is an HTTP token (headers are only sent then). */
    const char *shown;
    const char *env_suffix;
    int is_token;
} oa2f_field_t;

typedef struct {
    int active;                 /* the provider's verdict                 */
    long long expires_at;       /* absolute, seconds since epoch; 0 none  */
    apr_array_header_t *scopes; /* const char *; empty = no scope info    */
    const char *client_id;      /* NULL when absent                       */
    apr_array_header_t *fields; /* oa2f_field_t, ordered                  */
    const char *raw;            /* the provider's unparsed answer         */
    apr_size_t raw_len;
    const char *shown_raw; /* raw without control characters; set by
                                    oa2f_claims_prepare()                 */
} oa2f_claims_t;

/* An empty claims struct in p. */
oa2f_claims_t *oa2f_claims_make(apr_pool_t *p);

/* Append a field, name and value copied into p (value NULL: the caller
 * sets it); what prepare fills starts empty. */
oa2f_field_t *oa2f_claims_add(apr_pool_t *p, oa2f_claims_t *c,
                              const char *name, const char *value,
                              apr_size_t value_len);

/* Compute what the backend is shown (see oa2f_field_t) for every field
 * that lacks it, and shown_raw. Idempotent; allocations in p. */
void oa2f_claims_prepare(apr_pool_t *p, oa2f_claims_t *c);

/* The first field called `name`, or NULL. */
const oa2f_field_t *oa2f_claims_get(const oa2f_claims_t *c, const char *name);

/* 1 when field `name` equals `value`, or, for an array field, contains it. */
int oa2f_claims_field_matches(const oa2f_claims_t *c, const char *name,
                              const char *value);

/* Parse `json[0..len)` into a json-c object with a depth limit and a
 * strict end-of-input check. Returns NULL (and *why) when it is not
 * exactly one JSON object. The caller releases it with json_object_put;
 * oa2f_claims_from_json registers that on p. */
struct json_object;
struct json_object *oa2f_json_parse_object(const char *json, apr_size_t len,
                                           const char **why);

/* oa2f_json_parse_object that also refuses an object with a repeated
 * top-level member (json-c keeps the last of them, another reader the
 * first: RFC 8259 §4, RFC 7515 §4, RFC 7519 §4), with *repeated = 1 for
 * that case alone. One scan of the text serves both checks. */
struct json_object *oa2f_json_parse_unique(const char *json, apr_size_t len,
                                           const char **why, int *repeated);

/* Members of the top-level object of JSON text s[0..len), counted
 * outside strings; *single_quote says whether a ' appears outside one
 * (no JSON text has one there). */
apr_size_t oa2f_json_top_members(const char *s, apr_size_t len,
                                 int *single_quote);

/* Fill c->fields from the members of a JSON object (skipping members
 * whose value is null and the names listed in `skip`, a NULL-terminated
 * array, may be NULL). Scope is read into c->scopes from member "scope"
 * (string or array of strings), client_id from "client_id". */
void oa2f_claims_take_members(apr_pool_t *p, oa2f_claims_t *c,
                              struct json_object *obj,
                              const char *const *skip);

/* Scopes of a JWT access token without "scope" from its "scp" (an
 * array of strings, or a space-separated string, as several issuers
 * write it): into c->scopes like "scope". Does nothing when obj has a
 * non-null "scope" or no "scp". Call after oa2f_claims_take_members. */
void oa2f_claims_take_scp(apr_pool_t *p, oa2f_claims_t *c,
                          struct json_object *obj);

/* Render a JSON value as the backend sees it (see oa2f_field_t);
 * *items receives array elements when the value is an array. */
const char *oa2f_json_render(apr_pool_t *p, struct json_object *v,
                             apr_size_t *len, apr_array_header_t **items);

/* Read a JSON number as whole seconds into *out; 0 when v is not a
 * number (strings are not accepted). Fractions are truncated (RFC 7519
 * NumericDate), values above 10^11 are taken as milliseconds (seen from
 * Gluu), and the result is clamped to [-1, end of year 9999]. */
int oa2f_json_seconds(struct json_object *v, long long *out);

#endif
