/* The four validation dialects (README "Providers"), one table row each.
 * Every row ends in the same oa2f_claims_t; nothing dialect-specific
 * leaves here. Wire formats: docs/providers.md §3 (RFC 7662), §4
 * (PingFederate validate_bearer), §5 (OpenAM tokeninfo), §6 (Mule
 * /validate). */
#include <string.h>
#include <json-c/json.h>
#include <apr_strings.h>

#include "oa2f_dialect.h"

#define PING_GRANT     "urn:pingidentity.com:oauth2:grant_type:validate_bearer"
#define PING_VALIDATED "urn:pingidentity.com:oauth2:validated_token"

/* ---- shared helpers ---------------------------------------------------- */

static apr_status_t json_cleanup(void *obj)
{
    json_object_put(obj);
    return APR_SUCCESS;
}

/* Parse the body as one JSON object owned by p, or NULL with *why. */
static struct json_object *body_object(apr_pool_t *p, const char *dialect,
                                       const oa2f_http_resp_t *resp,
                                       const char **why)
{
    int single_quote;
    const char *err = NULL;
    struct json_object *obj = oa2f_json_parse_object(resp->body,
                                                     resp->body_len, &err);
    if (!obj) {
        *why = apr_psprintf(p, "%s: HTTP %ld answer unusable: %s", dialect,
                            resp->status, err);
        return NULL;
    }
    apr_pool_cleanup_register(p, obj, json_cleanup, apr_pool_cleanup_null);
    /* an answer saying "active" twice is hostile or broken */
    if ((apr_size_t)json_object_object_length(obj)
        != oa2f_json_top_members(resp->body, resp->body_len, &single_quote)) {
        *why = apr_psprintf(p, "%s: the answer repeats a member", dialect);
        return NULL;
    }
    return obj;
}

/* The "error" member of an OAuth error body (RFC 6749 §5.2), or "". */
static const char *oauth_error(apr_pool_t *p, const oa2f_http_resp_t *resp)
{
    const char *ignored;
    struct json_object *obj, *e;
    const char *out = "";

    obj = oa2f_json_parse_object(resp->body, resp->body_len, &ignored);
    if (!obj) {
        return "";
    }
    if (json_object_object_get_ex(obj, "error", &e)
        && json_object_is_type(e, json_type_string)) {
        out = apr_pstrdup(p, json_object_get_string(e));
    }
    json_object_put(obj);
    return out;
}

/* invalid_client / unauthorized_client mean our credentials were refused
 * (403), whatever the dialect (docs/providers.md §2.2). */
static int refused_client(apr_pool_t *p, const oa2f_http_resp_t *resp)
{
    const char *err = oauth_error(p, resp);

    return strcmp(err, "invalid_client") == 0
           || strcmp(err, "unauthorized_client") == 0;
}

static void add_header(apr_pool_t *p, oa2f_http_req_t *req, const char *h)
{
    APR_ARRAY_PUSH(req->headers, const char *) = h;
}

static void start_request(apr_pool_t *p, oa2f_http_req_t *req,
                          const char *method, const char *url)
{
    req->method = method;
    req->url = url;
    req->body = NULL;
    req->headers = apr_array_make(p, 4, sizeof(const char *));
    /* docs/providers.md, edge case 16: never let a provider choose HTML */
    add_header(p, req, "Accept: application/json");
}

/* Client credentials as the provider config says: a ready Basic header,
 * or form parameters appended to body (client_secret_post), or, for
 * `none`, just the client id when one is configured. */
static const char *add_credentials(apr_pool_t *p, const oa2f_provider_t *prov,
                                   oa2f_http_req_t *req, const char *body)
{
    if (prov->basic_header) {
        add_header(p, req, prov->basic_header);
        return body;
    }
    if (prov->client_id && *prov->client_id) {
        body = apr_pstrcat(p, body,
                           "&client_id=", oa2f_form_encode(p, prov->client_id),
                           NULL);
        if (prov->auth == OA2F_AUTH_POST && prov->client_secret) {
            body = apr_pstrcat(p, body, "&client_secret=",
                               oa2f_form_encode(p, prov->client_secret), NULL);
        }
    }
    return body;
}

/* url + "?access_token=…" (or "&…" when the URL has a query already). */
static const char *url_with_token(apr_pool_t *p, const char *url,
                                  const char *token)
{
    return apr_pstrcat(p, url, strchr(url, '?') ? "&" : "?",
                       "access_token=", oa2f_form_encode(p, token), NULL);
}

/* Relative expiry (expires_in) made absolute from the time the request
 * was sent (docs/providers.md §2.3). Returns 0 on a malformed member. */
static int take_expires_in(apr_pool_t *p, const char *dialect,
                           struct json_object *obj,
                           const oa2f_http_resp_t *resp, oa2f_claims_t *c,
                           const char **why)
{
    struct json_object *v;
    long long secs;

    if (!json_object_object_get_ex(obj, "expires_in", &v) || !v) {
        c->expires_at = 0; /* no expiry: valid, but never cached */
        return 1;
    }
    if (!oa2f_json_seconds(v, &secs)) {
        *why = apr_psprintf(p, "%s: member expires_in is not a number",
                            dialect);
        return 0;
    }
    /* expires_in <= 0 means already expired; -1 keeps it in the past */
    c->expires_at = secs > 0 ? resp->sent_at + secs : -1;
    return 1;
}

static oa2f_outcome_e server_error(apr_pool_t *p, const char *dialect,
                                   const oa2f_http_resp_t *resp,
                                   const char **why)
{
    *why = apr_psprintf(p,
                        "%s: unexpected HTTP status %ld from the "
                        "provider",
                        dialect, resp->status);
    return OA2F_BAD_ANSWER;
}

static oa2f_claims_t *claims_for(apr_pool_t *p, const oa2f_http_resp_t *resp)
{
    oa2f_claims_t *c = oa2f_claims_make(p);

    c->raw = resp->body;
    c->raw_len = resp->body_len;
    return c;
}

/* ---- introspection: RFC 7662 (docs/providers.md §3) ------------------ */

static void introspection_build(apr_pool_t *p, const oa2f_provider_t *prov,
                                const char *token, oa2f_http_req_t *req)
{
    const char *body;

    start_request(p, req, "POST", prov->endpoint);
    /* §2.1: token and hint in a form body; + / = must be encoded */
    body = apr_pstrcat(p, "token=", oa2f_form_encode(p, token),
                       "&token_type_hint=access_token", NULL);
    req->body = add_credentials(p, prov, req, body);
}

static oa2f_outcome_e introspection_interpret(apr_pool_t *p,
                                              const oa2f_provider_t *prov,
                                              const oa2f_http_resp_t *resp,
                                              oa2f_claims_t **claims,
                                              const char **why)
{
    static const char *const skip_none[] = { NULL };
    struct json_object *obj, *active, *v;
    oa2f_claims_t *c;
    long long secs;

    if (resp->status == 401 || resp->status == 403
        || (resp->status >= 400 && resp->status < 500
            && refused_client(p, resp))) {
        /* §2.3: our credentials were refused; RFC 6749 §5.2 answers
         * invalid_client with 400 when they came in the form */
        *why = apr_psprintf(p,
                            "introspection: the provider refused our "
                            "client credentials (HTTP %ld)",
                            resp->status);
        return OA2F_REJECTED;
    }
    if (resp->status == 400
        && strcmp(oauth_error(p, resp), "unsupported_token_type") == 0) {
        /* a kind of token it cannot inspect (docs/providers.md, edge
         * case 26) */
        *why = "introspection: the provider cannot introspect this token";
        *claims = claims_for(p, resp);
        return OA2F_INACTIVE;
    }
    if (resp->status != 200) {
        return server_error(p, "introspection", resp, why);
    }
    if (!(obj = body_object(p, "introspection", resp, why))) {
        return OA2F_BAD_ANSWER;
    }
    if (!json_object_object_get_ex(obj, "active", &active)) {
        *why = "introspection: member active is missing";
        return OA2F_BAD_ANSWER;
    }
    c = claims_for(p, resp);
    *claims = c;
    /* Only the JSON boolean true is active: not "true", 1 or null
     * (docs/providers.md, edge case 1). */
    if (!active || !json_object_is_type(active, json_type_boolean)
        || !json_object_get_boolean(active)) {
        *why = "introspection: the provider says the token is not active";
        return OA2F_INACTIVE;
    }
    c->active = 1;
    if (json_object_object_get_ex(obj, "exp", &v) && v) {
        if (!oa2f_json_seconds(v, &secs)) {
            *why = "introspection: member exp is not a number";
            return OA2F_BAD_ANSWER;
        }
        c->expires_at = secs > 0 ? secs : -1;
    }
    oa2f_claims_take_members(p, c, obj, skip_none);
    return OA2F_OK;
}

/* ---- pingfederate: validate_bearer grant (docs/providers.md §4) ------ */

static void pingfederate_build(apr_pool_t *p, const oa2f_provider_t *prov,
                               const char *token, oa2f_http_req_t *req)
{
    const char *body;

    start_request(p, req, "POST", prov->endpoint);
    body = apr_pstrcat(p, "grant_type=", oa2f_form_encode(p, PING_GRANT),
                       "&token=", oa2f_form_encode(p, token), NULL);
    req->body = add_credentials(p, prov, req, body);
}

static oa2f_outcome_e pingfederate_interpret(apr_pool_t *p,
                                             const oa2f_provider_t *prov,
                                             const oa2f_http_resp_t *resp,
                                             oa2f_claims_t **claims,
                                             const char **why)
{
    static const char *const skip_outer[] = { "access_token", NULL };
    static const char *const skip_inner[] = { "scope", "client_id", NULL };
    struct json_object *obj, *v, *attrs;
    oa2f_claims_t *c;

    if (resp->status >= 400 && resp->status < 500) {
        const char *err = oauth_error(p, resp);
        /* invalid_grant or invalid_token say the token is bad
         * (docs/providers.md §4.3) */
        if (strcmp(err, "invalid_grant") == 0
            || strcmp(err, "invalid_token") == 0) {
            *why = apr_psprintf(p,
                                "pingfederate: %s: the token is not "
                                "valid",
                                err);
            *claims = claims_for(p, resp);
            return OA2F_INACTIVE;
        }
        if (strcmp(err, "invalid_client") == 0
            || strcmp(err, "unauthorized_client") == 0
            || (resp->status == 401 && !*err)) {
            *why = apr_psprintf(p,
                                "pingfederate: the provider refused our "
                                "client credentials (HTTP %ld %s)",
                                resp->status, err);
            return OA2F_REJECTED;
        }
        *why = apr_psprintf(p,
                            "pingfederate: unexpected error \"%s\" "
                            "(HTTP %ld)",
                            err, resp->status);
        return OA2F_BAD_ANSWER;
    }
    if (resp->status != 200) {
        return server_error(p, "pingfederate", resp, why);
    }
    if (!(obj = body_object(p, "pingfederate", resp, why))) {
        return OA2F_BAD_ANSWER;
    }
    if (!json_object_object_get_ex(obj, "token_type", &v)
        || !json_object_is_type(v, json_type_string)
        || strcmp(json_object_get_string(v), PING_VALIDATED) != 0) {
        *why = "pingfederate: member token_type is missing or "
               "not " PING_VALIDATED;
        return OA2F_BAD_ANSWER;
    }
    attrs = NULL;
    if (json_object_object_get_ex(obj, "access_token", &attrs) && attrs
        && !json_object_is_type(attrs, json_type_object)) {
        *why = "pingfederate: member access_token is not an object";
        return OA2F_BAD_ANSWER;
    }
    c = claims_for(p, resp);
    *claims = c;
    if (!take_expires_in(p, "pingfederate", obj, resp, c, why)) {
        return OA2F_BAD_ANSWER;
    }
    c->active = 1;
    /* The provider's own members first, so an attribute named like one of
     * them cannot override it; then the attribute contract, flattened. */
    oa2f_claims_take_members(p, c, obj, skip_outer);
    if (attrs) {
        oa2f_claims_take_members(p, c, attrs, skip_inner);
    }
    return OA2F_OK;
}

/* ---- openam: /oauth2/tokeninfo (docs/providers.md §5) ---------------- */

static void openam_build(apr_pool_t *p, const oa2f_provider_t *prov,
                         const char *token, oa2f_http_req_t *req)
{
    /* one way only: both at once is a 400 from AM */
    if (prov->token_send == OA2F_TOKEN_SEND_HEADER) {
        start_request(p, req, "GET", prov->endpoint);
        add_header(p, req,
                   apr_pstrcat(p, "Authorization: Bearer ", token, NULL));
    }
    else {
        start_request(p, req, "GET", url_with_token(p, prov->endpoint, token));
    }
}

/* OpenAM's tokeninfo and Mule's /validate: validity is the HTTP status,
 * expiry is a relative expires_in, the members are the fields. A 4xx
 * that is not about our credentials means the token is bad: any 4xx for
 * Mule, 400/401/404 for OpenAM (others are unusable answers). */
static oa2f_outcome_e status_interpret(apr_pool_t *p, const char *dialect,
                                       int any_4xx_is_bad_token,
                                       const char *const *skip,
                                       const oa2f_http_resp_t *resp,
                                       oa2f_claims_t **claims,
                                       const char **why)
{
    struct json_object *obj;
    oa2f_claims_t *c;

    if (resp->status >= 400 && resp->status < 500 && refused_client(p, resp)) {
        *why = apr_psprintf(p,
                            "%s: the provider refused our client "
                            "credentials (HTTP %ld)",
                            dialect, resp->status);
        return OA2F_REJECTED;
    }
    if (resp->status == 429) {
        /* rate limited: says nothing about the token, and must never be
         * remembered as "not active" */
        *why = apr_psprintf(p,
                            "%s: HTTP 429: the provider is rate "
                            "limiting this resource server",
                            dialect);
        return OA2F_UNREACHABLE;
    }
    if ((any_4xx_is_bad_token && resp->status >= 400 && resp->status < 500)
        || resp->status == 400 || resp->status == 401 || resp->status == 404) {
        *why = apr_psprintf(p, "%s: HTTP %ld: the token is not valid", dialect,
                            resp->status);
        *claims = claims_for(p, resp);
        return OA2F_INACTIVE;
    }
    if (resp->status != 200) {
        return server_error(p, dialect, resp, why);
    }
    if (!(obj = body_object(p, dialect, resp, why))) {
        return OA2F_BAD_ANSWER;
    }
    c = claims_for(p, resp);
    *claims = c;
    if (!take_expires_in(p, dialect, obj, resp, c, why)) {
        return OA2F_BAD_ANSWER;
    }
    c->active = 1;
    oa2f_claims_take_members(p, c, obj, skip);
    return OA2F_OK;
}

static oa2f_outcome_e openam_interpret(apr_pool_t *p,
                                       const oa2f_provider_t *prov,
                                       const oa2f_http_resp_t *resp,
                                       oa2f_claims_t **claims,
                                       const char **why)
{
    /* access_token is the token itself: never hand it on as a field */
    static const char *const skip[] = { "access_token", NULL };

    return status_interpret(p, "openam", 0, skip, resp, claims, why);
}

/* ---- mule: {provider}/validate (docs/providers.md §6) ---------------- */

static void mule_build(apr_pool_t *p, const oa2f_provider_t *prov,
                       const char *token, oa2f_http_req_t *req)
{
    start_request(p, req, "GET", url_with_token(p, prov->endpoint, token));
    /* no client authentication unless configured; a GET carries it as
     * Basic only, never as query parameters that land in access logs */
    if (oa2f_provider_has_credentials(prov)) {
        if (prov->basic_header) {
            add_header(p, req, prov->basic_header);
        }
    }
}

static oa2f_outcome_e mule_interpret(apr_pool_t *p,
                                     const oa2f_provider_t *prov,
                                     const oa2f_http_resp_t *resp,
                                     oa2f_claims_t **claims, const char **why)
{
    return status_interpret(p, "mule", 1, NULL, resp, claims, why);
}

/* ---- the table --------------------------------------------------------- */

static const oa2f_dialect_t dialects[] = {
    { "introspection", introspection_build, introspection_interpret, NULL },
    { "pingfederate", pingfederate_build, pingfederate_interpret,
      PING_VALIDATED },
    { "openam", openam_build, openam_interpret, NULL },
    { "mule", mule_build, mule_interpret, NULL },
};

const oa2f_dialect_t *oa2f_dialect_find(const char *name)
{
    apr_size_t i;

    for (i = 0; i < sizeof(dialects) / sizeof(dialects[0]); i++) {
        if (strcasecmp(dialects[i].name, name) == 0) {
            return &dialects[i];
        }
    }
    return NULL;
}

const char *oa2f_dialect_names(void)
{
    return "introspection|pingfederate|openam|mule";
}
