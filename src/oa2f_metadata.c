/* Authorization server metadata: the issuer a URL implies and the checks
 * of a document (src/oa2f_metadata.h). */
#include <string.h>
#include <strings.h>
#include <apr_lib.h>
#include <apr_strings.h>
#include <json-c/json.h>

#include "oa2f_claims.h"
#include "oa2f_metadata.h"

#define WK_AS   "/.well-known/oauth-authorization-server"
#define WK_OIDC "/.well-known/openid-configuration"

static int starts_with(const char *s, const char *prefix)
{
    return strncmp(s, prefix, strlen(prefix)) == 0;
}

static int is_http_url(const char *s)
{
    return starts_with(s, "http://") || starts_with(s, "https://");
}

const char *oa2f_metadata_issuer_of_url(apr_pool_t *p, const char *url)
{
    const char *authority, *path, *origin;
    apr_size_t plen;

    if (!url || !is_http_url(url) || strpbrk(url, "?#")) {
        return NULL;
    }
    authority = strstr(url, "://") + 3;
    path = strchr(authority, '/');
    if (!path || path == authority) {
        return NULL;
    }
    origin = apr_pstrmemdup(p, url, (apr_size_t)(path - url));
    plen = strlen(path);
    /* RFC 8414 §3.1: the well-known part goes between host and path */
    if (starts_with(path, WK_AS)
        && (path[sizeof(WK_AS) - 1] == '\0'
            || path[sizeof(WK_AS) - 1] == '/')) {
        return apr_pstrcat(p, origin, path + sizeof(WK_AS) - 1, NULL);
    }
    /* OpenID Connect Discovery 1.0 §4: appended to the issuer */
    if (plen >= sizeof(WK_OIDC) - 1
        && strcmp(path + plen - (sizeof(WK_OIDC) - 1), WK_OIDC) == 0) {
        return apr_pstrmemdup(p, url, strlen(url) - (sizeof(WK_OIDC) - 1));
    }
    /* RFC 8414 §5: openid-configuration in the §3.1 position */
    if (starts_with(path, WK_OIDC "/")) {
        return apr_pstrcat(p, origin, path + sizeof(WK_OIDC) - 1, NULL);
    }
    return NULL;
}

/* A member that is a string without a NUL inside, or NULL. */
static const char *string_member(apr_pool_t *p, struct json_object *o,
                                 const char *name)
{
    struct json_object *v;
    const char *s;

    if (!json_object_object_get_ex(o, name, &v)
        || !json_object_is_type(v, json_type_string)) {
        return NULL;
    }
    s = json_object_get_string(v);
    if (strlen(s) != (size_t)json_object_get_string_len(v)) {
        return NULL;
    }
    return apr_pstrdup(p, s);
}

int oa2f_metadata_parse(apr_pool_t *p, const char *body, apr_size_t len,
                        const char *want_issuer, int need_introspection,
                        oa2f_metadata_t *out, const char **why)
{
    struct json_object *o;
    const char *issuer, *ep;

    memset(out, 0, sizeof(*out));
    if (!want_issuer) {
        *why = "the metadata URL implies no issuer (RFC 8414 §3.1: it must "
               "hold /.well-known/oauth-authorization-server or "
               "/.well-known/openid-configuration)";
        return 0;
    }
    o = oa2f_json_parse_object(body, len, why);
    if (!o) {
        *why = apr_pstrcat(p, "the metadata document is not a JSON object: ",
                           *why ? *why : "unparseable", NULL);
        return 0;
    }
    issuer = string_member(p, o, "issuer");
    ep = string_member(p, o, "introspection_endpoint");
    out->jwks_uri = string_member(p, o, "jwks_uri");
    json_object_put(o);
    if (!issuer) {
        *why = "the metadata document has no issuer string";
        return 0;
    }
    if (strcmp(issuer, want_issuer) != 0) {
        *why = apr_psprintf(p,
                            "the metadata document's issuer \"%s\" is not "
                            "the one its URL implies, \"%s\" (RFC 8414 §3.3)",
                            issuer, want_issuer);
        return 0;
    }
    if (ep && !is_http_url(ep)) {
        ep = NULL;
    }
    if (need_introspection && !ep) {
        *why = "the metadata document has no http(s) introspection_endpoint";
        return 0;
    }
    out->issuer = issuer;
    out->introspection_endpoint = ep;
    return 1;
}

const char *oa2f_metadata_compact(apr_pool_t *p, const oa2f_metadata_t *md,
                                  apr_size_t *len)
{
    struct json_object *o = json_object_new_object();
    const char *s;

    json_object_object_add(o, "issuer", json_object_new_string(md->issuer));
    if (md->introspection_endpoint) {
        json_object_object_add(
            o, "introspection_endpoint",
            json_object_new_string(md->introspection_endpoint));
    }
    if (md->jwks_uri) {
        json_object_object_add(o, "jwks_uri",
                               json_object_new_string(md->jwks_uri));
    }
    s = apr_pstrdup(
        p, json_object_to_json_string_ext(
               o, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE));
    json_object_put(o);
    *len = strlen(s);
    return s;
}

long oa2f_metadata_ttl(const char *cc)
{
    long ttl = OA2F_METADATA_MAX_TTL;
    const char *s = cc;

    while (s && *s) {
        const char *end = strchr(s, ',');
        apr_size_t n;

        while (*s == ' ' || *s == '\t') {
            s++;
        }
        n = end ? (apr_size_t)(end - s) : strlen(s);
        if ((n >= 8 && strncasecmp(s, "no-store", 8) == 0)
            || (n >= 8 && strncasecmp(s, "no-cache", 8) == 0)) {
            return 0;
        }
        if (n > 8 && strncasecmp(s, "max-age=", 8) == 0) {
            const char *d = s + 8;
            long v = 0;
            if (*d == '"') {
                d++;
            }
            if (apr_isdigit(*d)) {
                while (apr_isdigit(*d) && v < OA2F_METADATA_MAX_TTL) {
                    v = v * 10 + (*d - '0');
                    d++;
                }
                if (v < ttl) {
                    ttl = v;
                }
            }
        }
        s = end ? end + 1 : NULL;
    }
    return ttl;
}
