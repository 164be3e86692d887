/* Start-up check (also run by `apachectl -t`): every scope with
 * `AuthType oauth2-federated` must be able to inherit an endpoint. And
 * the start-up warnings (README "Logging"): settings that start but are
 * probably not meant.
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
           || has_directive(first, "OAuth2FederatedMetadataURL", NULL);
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

/* ---- warnings: settings that start but are probably not meant -------- */

/* A directive's first argument, unquoted. */
static const char *first_arg(apr_pool_t *p, const ap_directive_t *d)
{
    const char *args = d->args ? d->args : "";

    return ap_getword_conf(p, &args);
}

/* What the warnings call the scope of a directive: its section and the
 * server it belongs to. */
static const char *scope_name(apr_pool_t *p, const ap_directive_t *d)
{
    const ap_directive_t *sec = d->parent;
    const ap_directive_t *vh = vhost_of(sec);
    const char *server = vh ? apr_psprintf(p, "%s %s>", vh->directive,
                                           section_path(p, vh))
                            : "the main server";

    if (!sec || sec == vh) {
        return server;
    }
    return apr_psprintf(p, "%s %s> of %s", sec->directive,
                        section_path(p, sec), server);
}

/* The dialect that a directive list names (the last
 * OAuth2FederatedProvider line of one level wins), or NULL. */
static const char *own_dialect(apr_pool_t *p, const ap_directive_t *first)
{
    const ap_directive_t *d;
    const char *name = NULL;

    for (d = first; d; d = d->next) {
        if (!strcasecmp(d->directive, "OAuth2FederatedProvider")) {
            name = first_arg(p, d);
        }
    }
    return name;
}

/* 1 when a section in first and below names the openam dialect; with
 * kinds, only sections whose directive starts with one of them (NULL
 * terminated). */
static int openam_below(apr_pool_t *p, const ap_directive_t *first,
                        const char *const *kinds)
{
    const ap_directive_t *d;
    const char *const *k;

    for (d = first; d; d = d->next) {
        const char *own;
        if (d->directive[0] != '<' || !d->first_child) {
            continue;
        }
        for (k = kinds; k && *k; k++) {
            if (!strncasecmp(d->directive, *k, strlen(*k))) {
                break;
            }
        }
        own = (!kinds || *k) ? own_dialect(p, d->first_child) : NULL;
        if ((own && !strcasecmp(own, "openam"))
            || openam_below(p, d->first_child, kinds)) {
            return 1;
        }
    }
    return 0;
}

/* 1 when a literal <Location> whose path is a prefix of path, in the
 * main server or in vhost, names the openam dialect. */
static int openam_location_prefix(apr_pool_t *p, const ap_directive_t *first,
                                  const ap_directive_t *vhost,
                                  const char *path)
{
    const ap_directive_t *d;

    for (d = first; d; d = d->next) {
        const char *own, *dpath;
        if (d->directive[0] != '<' || !d->first_child) {
            continue;
        }
        if (!strcasecmp(d->directive, "<VirtualHost")) {
            if (d == vhost
                && openam_location_prefix(p, d->first_child, vhost, path)) {
                return 1;
            }
            continue;
        }
        dpath = section_path(p, d);
        if (!strcasecmp(d->directive, "<Location") && dpath[0] != '~'
            && !strncmp(dpath, path, strlen(dpath))
            && (own = own_dialect(p, d->first_child)) != NULL
            && !strcasecmp(own, "openam")) {
            return 1;
        }
        if (openam_location_prefix(p, d->first_child, vhost, path)) {
            return 1;
        }
    }
    return 0;
}

/* The dialect in force where the OAuth2FederatedSendTokenIn line d is,
 * or NULL when it may be openam, the one dialect the line applies to
 * (README "Directives"). Per-directory settings are merged at request
 * time, so this reads the configuration tree and stays quiet when
 * another section could make the scope openam: its own Provider line
 * decides; else an openam section below it, or one merged with it (a
 * <Location> whose path is a prefix, or any section when the scope is
 * not a literal <Location>), keeps it quiet; else the nearest enclosing
 * level's Provider line, else the default. */
static const char *dialect_for_send_token(apr_pool_t *p,
                                          const ap_directive_t *d)
{
    static const char *const merged_kinds[] = {
        "<Location", "<Directory", "<Files", "<Proxy", "<If", "<Else", NULL
    };
    const ap_directive_t *sec = d->parent, *up;
    const char *own = own_dialect(p, sec ? sec->first_child : ap_conftree);

    if (own) {
        return strcasecmp(own, "openam") ? own : NULL;
    }
    if (openam_below(p, sec ? sec->first_child : ap_conftree, NULL)) {
        return NULL;
    }
    if (sec && strcasecmp(sec->directive, "<VirtualHost")) {
        const char *path = section_path(p, sec);
        if (!strcasecmp(sec->directive, "<Location") && path[0] != '~') {
            if (openam_location_prefix(p, ap_conftree, vhost_of(sec), path)) {
                return NULL;
            }
        }
        else if (openam_below(p, ap_conftree, merged_kinds)) {
            return NULL;
        }
    }
    for (up = sec ? sec->parent : NULL;; up = up->parent) {
        own = own_dialect(p, up ? up->first_child : ap_conftree);
        if (own) {
            return strcasecmp(own, "openam") ? own : NULL;
        }
        if (!up) {
            break;
        }
    }
    return "introspection (the default)";
}

static void warn_tree(apr_pool_t *p, server_rec *s,
                      const ap_directive_t *first)
{
    const ap_directive_t *d;

    for (d = first; d; d = d->next) {
        if (d->first_child) {
            warn_tree(p, s, d->first_child);
            continue;
        }
        if (!strcasecmp(d->directive, "OAuth2FederatedSSLVerify")
            && !strcasecmp(first_arg(p, d), "off")) {
            ap_log_error(
                APLOG_MARK, APLOG_WARNING, 0, s,
                OA2F_LOGNO(10402) "OAuth2FederatedSSLVerify Off in %s at "
                                  "%s:%d: the provider's TLS certificate and "
                                  "host name are not verified, so whoever "
                                  "can intercept the connection can answer "
                                  "for the provider (for a private CA, set "
                                  "OAuth2FederatedCAFile instead)",
                scope_name(p, d), d->filename, d->line_num);
        }
        else if (!strcasecmp(d->directive, "OAuth2FederatedSendTokenIn")) {
            const char *dialect = dialect_for_send_token(p, d);
            if (dialect) {
                ap_log_error(
                    APLOG_MARK, APLOG_WARNING, 0, s,
                    OA2F_LOGNO(10403) "OAuth2FederatedSendTokenIn %s in %s "
                                      "at %s:%d has no effect: it applies to "
                                      "the openam dialect only, and this "
                                      "scope uses %s",
                    first_arg(p, d), scope_name(p, d), d->filename,
                    d->line_num, dialect);
            }
        }
    }
}

void oa2f_check_warnings(apr_pool_t *ptemp, server_rec *s)
{
    warn_tree(ptemp, s, ap_conftree);
}
