/* The status page and its per-request counter (src/mod_oa2f_status.c). */
#ifndef MOD_OA2F_STATUS_H
#define MOD_OA2F_STATUS_H

#include <httpd.h>

int oa2f_status_handler(request_rec *r);
int oa2f_count_request(request_rec *r);

#endif
