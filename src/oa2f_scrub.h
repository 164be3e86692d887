/* The token never leaves the request (README "Trust boundaries"): a
 * provider that echoes it (OpenAM's tokeninfo does) has it removed from
 * the fields and from the raw answer before anything is cached or handed
 * to a backend. */
#ifndef OA2F_SCRUB_H
#define OA2F_SCRUB_H

#include <apr_pools.h>
#include "oa2f_claims.h"

/* Drop every field whose value (or an item of it) is the token, and
 * every member or array element holding exactly the token from c->raw
 * (then re-serialised); any remaining occurrence in c->raw is masked.
 * Call before oa2f_claims_prepare(). Returns the number of removals. */
int oa2f_claims_drop_token(apr_pool_t *p, oa2f_claims_t *c, const char *token);

#endif
