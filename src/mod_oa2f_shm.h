/* The module's shared-memory segment: the status counters, the
 * single-flight table, the revocation rules and the circuit breakers
 * (README "Status page", "Cache", "Revocation", "Outages"). */
#ifndef MOD_OA2F_SHM_H
#define MOD_OA2F_SHM_H

#include <httpd.h>

#include "oa2f_breaker.h"
#include "oa2f_flight.h"
#include "oa2f_revoke.h"
#include "oa2f_stats.h"

/* post_config: create the segment once per parent, or find it again
 * after a graceful restart (counters survive it). */
apr_status_t oa2f_shm_attach(server_rec *s);

/* NULL before the segment is attached. */
oa2f_stats_t *oa2f_stats(void);
oa2f_flight_table_t *oa2f_flights(void);
oa2f_rules_t *oa2f_revocations(void);
oa2f_breaker_table_t *oa2f_breakers(void);

#endif
