/* What every httpd glue file (mod_oa2f_*.c) shares: the module's log
 * declaration, the log tags and a few constants. Each glue file with an
 * API of its own has its own header (mod_oa2f_config.h, …). */
#ifndef MOD_OA2F_PRIVATE_H
#define MOD_OA2F_PRIVATE_H

#include <httpd.h>
#include <http_config.h>
#include <http_log.h>

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
/* r->notes key set while a failed Require oauth2-* line's 403 is ready */
#define OA2F_NOTE_FORBIDDEN_PREPARED "oauth2-federated-403-prepared"
/* the status whose one-line text this module set (mod_oa2f_respond.c) */
#define OA2F_NOTE_PLAIN_BODY "oauth2-federated-plain-body"

#endif
