/* RFC 9728 protected-resource metadata (README "Resource identity").
 *
 * Every scope with OAuth2FederatedResource under AuthType
 * oauth2-federated publishes a document at the well-known prefix
 * followed by the Resource's path (RFC 9728 §3.1). The documents are
 * built once, after the configuration is read, from what each scope
 * says (the server's defaults merged with the section): resource,
 * authorization_servers (else the issuer the MetadataURL implies),
 * bearer_methods_supported, scopes_supported,
 * resource_name (RFC 9728 §2). A request only compares its path and
 * host and writes the prepared bytes, from a quick handler, so that no
 * access control of the URL space stands before it: a client learns
 * where to get a token before it has one. */
#include <apr_hash.h>
#include <apr_strings.h>
#include <apr_uri.h>
#include <http_core.h>
#include <http_protocol.h>
#include <http_request.h>
#include <json-c/json.h>

#include "mod_oa2f_config.h"
#include "mod_oa2f_private.h"
#include "mod_oa2f_prm.h"
#include "oa2f_metadata.h"
#include "oa2f_token.h"

typedef struct {
    const char *path; /* of the document's URL                 */
    const char *host; /* the Resource's host name              */
    const char *json;
    apr_size_t len;
} prm_doc_t;

/* server_rec * → apr_array_header_t of prm_doc_t, in configuration
 * order; read-only once post_config is done, rebuilt on every restart. */
static apr_hash_t *docs_by_server;

/* The Resource's metadata URL, split: its path and host name. */
static const char *metadata_url(apr_pool_t *p, const char *resource,
                                const char **path, const char **host)
{
    apr_uri_t u;
    const char *rpath;

    if (!resource || apr_uri_parse(p, resource, &u) != APR_SUCCESS || !u.scheme
        || !u.hostname) {
        return NULL;
    }
    /* RFC 9728 §3.1: a terminating slash after the host is removed */
    rpath = (u.path && strcmp(u.path, "/")) ? u.path : "";
    u.path = apr_pstrcat(p, OA2F_PRM_WELL_KNOWN, rpath, NULL);
    u.query = NULL;
    u.fragment = NULL;
    u.user = NULL;
    u.password = NULL;
    if (path) {
        *path = u.path;
    }
    if (host) {
        *host = u.hostname;
    }
    return apr_uri_unparse(p, &u, APR_URI_UNP_OMITUSERINFO);
}

const char *oa2f_prm_url(apr_pool_t *p, const char *resource)
{
    return metadata_url(p, resource, NULL, NULL);
}

static json_object *string_array(const apr_array_header_t *a)
{
    json_object *arr = json_object_new_array();
    int i;

    for (i = 0; i < a->nelts; i++) {
        json_object_array_add(
            arr, json_object_new_string(APR_ARRAY_IDX(a, i, const char *)));
    }
    return arr;
}

/* The document of one scope; 0 when it publishes none. */
static int build_doc(apr_pool_t *pconf, apr_pool_t *ptemp, server_rec *s,
                     ap_conf_vector_t *v, prm_doc_t *out)
{
    const oa2f_dir_conf_t *c = ap_get_module_config(v,
                                                    &oauth2_federated_module);
    request_rec *fake;
    const char *type, *name;
    const apr_array_header_t *a;
    json_object *o, *methods;
    const oa2f_provider_t *prov;
    const char *issuer;
    int token_in;

    if (!c || !oa2f_conf_resource(c)) {
        return 0;
    }
    /* AuthType and AuthName are mod_authn_core's, read through a request
     * that has only this scope's configuration */
    fake = apr_pcalloc(ptemp, sizeof(*fake));
    fake->pool = ptemp;
    fake->server = s;
    fake->per_dir_config = v;
    type = ap_auth_type(fake);
    if (!type || strcasecmp(type, OA2F_AUTH_TYPE) != 0) {
        return 0;
    }
    if (!metadata_url(pconf, oa2f_conf_resource(c), &out->path, &out->host)) {
        return 0;
    }
    o = json_object_new_object();
    json_object_object_add(o, "resource",
                           json_object_new_string(oa2f_conf_resource(c)));
    if ((a = oa2f_conf_authz_servers(c)) != NULL) {
        json_object_object_add(o, "authorization_servers", string_array(a));
    }
    else if ((prov = oa2f_conf_provider(c)) && prov->metadata_url
             && (issuer = oa2f_metadata_issuer_of_url(ptemp,
                                                      prov->metadata_url))) {
        /* the discovered issuer, known without a fetch: a document is
         * only used when its issuer is the one its URL implies (RFC 8414
         * §3.3) */
        json_object *servers = json_object_new_array();
        json_object_array_add(servers, json_object_new_string(issuer));
        json_object_object_add(o, "authorization_servers", servers);
    }
    /* RFC 9728 §2: the RFC 6750 §2 method names */
    methods = json_object_new_array();
    token_in = oa2f_conf_token_in(c);
    if (token_in & OA2F_TOKEN_IN_HEADER) {
        json_object_array_add(methods, json_object_new_string("header"));
    }
    if (token_in & OA2F_TOKEN_IN_QUERY) {
        json_object_array_add(methods, json_object_new_string("query"));
    }
    json_object_object_add(o, "bearer_methods_supported", methods);
    if ((a = oa2f_conf_required_scopes(c)) != NULL) {
        json_object_object_add(o, "scopes_supported", string_array(a));
    }
    if ((name = ap_auth_name(fake)) != NULL) {
        json_object_object_add(o, "resource_name",
                               json_object_new_string(name));
    }
    out->json = apr_pstrdup(
        pconf,
        json_object_to_json_string_ext(
            o, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE));
    out->len = strlen(out->json);
    json_object_put(o);
    return 1;
}

static void add_doc(apr_pool_t *pconf, apr_pool_t *ptemp, server_rec *s,
                    apr_array_header_t *docs, ap_conf_vector_t *v)
{
    prm_doc_t d;

    if (build_doc(pconf, ptemp, s, v, &d)) {
        APR_ARRAY_PUSH(docs, prm_doc_t) = d;
    }
}

static void add_sections(apr_pool_t *pconf, apr_pool_t *ptemp, server_rec *s,
                         apr_array_header_t *docs,
                         const apr_array_header_t *secs)
{
    int i;

    for (i = 0; secs && i < secs->nelts; i++) {
        ap_conf_vector_t *sec = APR_ARRAY_IDX(secs, i, ap_conf_vector_t *);
        add_doc(pconf, ptemp, s, docs,
                ap_merge_per_dir_configs(ptemp, s->lookup_defaults, sec));
    }
}

void oa2f_prm_post_config(apr_pool_t *pconf, apr_pool_t *ptemp, server_rec *s)
{
    docs_by_server = apr_hash_make(pconf);
    for (; s; s = s->next) {
        core_server_config *core = ap_get_core_module_config(s->module_config);
        apr_array_header_t *docs = apr_array_make(pconf, 2, sizeof(prm_doc_t));
        server_rec **key = apr_pmemdup(pconf, &s, sizeof(s));

        add_doc(pconf, ptemp, s, docs, s->lookup_defaults);
        add_sections(pconf, ptemp, s, docs, core->sec_url);
        add_sections(pconf, ptemp, s, docs, core->sec_dir);
        if (docs->nelts) {
            apr_hash_set(docs_by_server, key, sizeof(*key), docs);
        }
    }
}

int oa2f_prm_quick_handler(request_rec *r, int lookup_uri)
{
    const apr_array_header_t *docs;
    const prm_doc_t *found = NULL;
    int i;

    if (lookup_uri || r->main || !docs_by_server || !r->uri
        || strncmp(r->uri, OA2F_PRM_WELL_KNOWN,
                   sizeof(OA2F_PRM_WELL_KNOWN) - 1)
        || r->method_number != M_GET) {
        return DECLINED;
    }
    docs = apr_hash_get(docs_by_server, &r->server, sizeof(r->server));
    for (i = 0; docs && i < docs->nelts; i++) {
        const prm_doc_t *d = &APR_ARRAY_IDX(docs, i, prm_doc_t);
        if (strcmp(d->path, r->uri) != 0) {
            continue;
        }
        /* several resources on one path: the one of this host name */
        if (r->hostname && !strcasecmp(d->host, r->hostname)) {
            found = d;
            break;
        }
        if (!found) {
            found = d;
        }
    }
    if (!found) {
        return DECLINED;
    }
    ap_set_content_type(r, "application/json");
    apr_table_setn(r->headers_out, "Access-Control-Allow-Origin", "*");
    ap_set_content_length(r, found->len);
    if (!r->header_only) {
        ap_rwrite(found->json, (int)found->len, r);
    }
    return OK;
}
