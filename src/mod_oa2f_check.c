/* Start-up check (also run by `apachectl -t`): every scope with
 * `AuthType oauth2-federated` must be able to inherit an endpoint.
 *
 * Per-directory configuration is only merged per request, so this walks
 * the configuration tree instead: a protected section is fine when it, an
 * enclosing block, or a <Location> whose path is a prefix of its own sets
 * OAuth2FederatedEndpoint. <Directory>/<Files> sections merge by file
 * system path; when any of them sets an endpoint we stay quiet rather
 * than guess, and the request-time check (OA2F10003) remains. */
#include <apr_strings.h>

#include "mod_oa2f_private.h"
#include "mod_oa2f_check.h"
#include <http_core.h>

typedef struct {
    const ap_directive_t *node; /* the section (or NULL: top level) */
    const char *path;           /* its argument, unquoted, no '>'   */
    int is_location;            /* <Location> with a literal path   */
    int fs_section;             /* <Directory>/<Files> and variants */
} section_t;

static const char *section_path(apr_pool_t *p, const ap_directive_t *d)
{
    char *s = apr_pstrdup(p, d->args ? d->args : ""), *e;

    if ((e = strrchr(s, '>')) != NULL) {
        *e = '\0';
    }
    apr_collapse_spaces(s, s);
    if (*s == '"' || *s == '\'') {
        s++;
        if (*s && (s[strlen(s) - 1] == '"' || s[strlen(s) - 1] == '\'')) {
            s[strlen(s) - 1] = '\0';
        }
    }
    return s;
}

static int has_directive(const ap_directive_t *first, const char *name,
                         const char *arg)
{
    const ap_directive_t *d;

    for (d = first; d; d = d->next) {
        if (!strcasecmp(d->directive, name)
            && (!arg || (d->args && !strcasecmp(d->args, arg)))) {
            return 1;
        }
    }
    return 0;
}

/* An endpoint set by hand, or one the metadata document will give
 * (README "Resource identity"). */
static int sets_endpoint(const ap_directive_t *first)
{
    return has_directive(first, "OAuth2FederatedEndpoint", NULL)
           || has_directive(first, "OAuth2FederatedMetadataURL", NULL)
           /* README "Local JWT validation": the keys alone may do */
           || has_directive(first, "OAuth2FederatedJWKSURL", NULL);
}

/* Collect every section that sets an endpoint, and every protected one. */
static void walk(apr_pool_t *p, const ap_directive_t *first,
                 apr_array_header_t *with_endpoint,
                 apr_array_header_t *protected_)
{
    const ap_directive_t *d;

    for (d = first; d; d = d->next) {
        section_t sec;
        if (d->directive[0] != '<' || !d->first_child) {
            continue;
        }
        sec.node = d;
        sec.path = section_path(p, d);
        sec.is_location = !strcasecmp(d->directive, "<Location")
                          && sec.path[0] != '~';
        sec.fs_section = !strncasecmp(d->directive, "<Directory", 10)
                         || !strncasecmp(d->directive, "<Files", 6);
        if (sets_endpoint(d->first_child)) {
            APR_ARRAY_PUSH(with_endpoint, section_t) = sec;
        }
        if (has_directive(d->first_child, "AuthType", OA2F_AUTH_TYPE)) {
            APR_ARRAY_PUSH(protected_, section_t) = sec;
        }
        walk(p, d->first_child, with_endpoint, protected_);
    }
}

static const ap_directive_t *vhost_of(const ap_directive_t *d)
{
    for (; d; d = d->parent) {
        if (!strcasecmp(d->directive, "<VirtualHost")) {
            return d;
        }
    }
    return NULL;
}

static int encloses(const ap_directive_t *outer, const ap_directive_t *inner)
{
    for (; inner; inner = inner->parent) {
        if (inner == outer) {
            return 1;
        }
    }
    return 0;
}

static int covered(const section_t *prot, const apr_array_header_t *with,
                   int top_level_endpoint)
{
    int i;

    if (top_level_endpoint || sets_endpoint(prot->node->first_child)) {
        return 1;
    }
    for (i = 0; i < with->nelts; i++) {
        const section_t *e = &APR_ARRAY_IDX(with, i, section_t);
        if (e->fs_section || encloses(e->node, prot->node)) {
            return 1;
        }
        if (e->is_location && prot->is_location
            && (vhost_of(e->node) == NULL
                || vhost_of(e->node) == vhost_of(prot->node))
            && !strncmp(e->path, prot->path, strlen(e->path))) {
            return 1;
        }
    }
    return 0;
}

int oa2f_check_protected_scopes(apr_pool_t *ptemp, server_rec *s)
{
    apr_array_header_t *with = apr_array_make(ptemp, 8, sizeof(section_t));
    apr_array_header_t *prot = apr_array_make(ptemp, 8, sizeof(section_t));
    int top = sets_endpoint(ap_conftree);
    int i, bad = 0;

    walk(ptemp, ap_conftree, with, prot);
    for (i = 0; i < prot->nelts; i++) {
        const section_t *sec = &APR_ARRAY_IDX(prot, i, section_t);
        if (!covered(sec, with, top)) {
            ap_log_error(
                APLOG_MARK, APLOG_CRIT, 0, s,
                OA2F_LOGNO(
                    10401) "OAuth2FederatedEndpoint: missing for %s %s> "
                           "(AuthType %s) at %s:%d",
                sec->node->directive, sec->path, OA2F_AUTH_TYPE,
                sec->node->filename, sec->node->line_num);
            bad = 1;
        }
    }
    return bad ? HTTP_INTERNAL_SERVER_ERROR : OK;
}
