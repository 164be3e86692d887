#include <string.h>
#include <apr_strings.h>
#include <openssl/evp.h>
#include <openssl/sha.h>

#include "oa2f_provider.h"
#include "oa2f_dialect.h"
#include "oa2f_hex.h"
#include "oa2f_http.h"

int oa2f_provider_has_credentials(const oa2f_provider_t *p)
{
    return p->client_id && *p->client_id && p->auth != OA2F_AUTH_NONE;
}

static const char *sha256_hex_of(apr_pool_t *pool, const void *data,
                                 apr_size_t len)
{
    unsigned char md[SHA256_DIGEST_LENGTH];
    char *out = apr_palloc(pool, 2 * SHA256_DIGEST_LENGTH + 1);

    SHA256(data, len, md);
    oa2f_hex_lower(out, md, SHA256_DIGEST_LENGTH);
    out[2 * SHA256_DIGEST_LENGTH] = '\0';
    return out;
}

static const char *sha256_hex(apr_pool_t *pool, const char *s)
{
    return sha256_hex_of(pool, s, strlen(s));
}

const char *oa2f_provider_digest(apr_pool_t *pool, const void *data,
                                 apr_size_t len)
{
    return sha256_hex_of(pool, data, len);
}

/* Every member that decides what is asked and whose answer is trusted
 * (README "Trust boundaries"): a verdict obtained without TLS
 * verification, under other trust anchors or through another proxy must
 * never name the same cache entry. Secrets only as digests. */
void oa2f_provider_finish(apr_pool_t *pool, oa2f_provider_t *p)
{
    p->identity = apr_psprintf(
        pool,
        "%s\n%s\n%s\n%s\n%d\n%d\n"
        "tls=%d ca=%s\nproxy=%s %s%s%s",
        p->dialect ? p->dialect->name : "", p->endpoint ? p->endpoint : "",
        p->client_id ? p->client_id : "",
        sha256_hex(pool, p->client_secret ? p->client_secret : ""),
        (int)p->auth, (int)p->token_send, p->ssl_verify ? 1 : 0,
        p->ca_file ? (p->ca_digest ? p->ca_digest : "unread") : "system",
        p->proxy ? p->proxy : "direct",
        p->proxy && p->proxy_userpwd ? sha256_hex(pool, p->proxy_userpwd)
                                     : "-",
        /* appended only when set: identities (and so cache keys) of
         * providers without discovery stay as they were */
        p->metadata_url ? "\nmetadata=" : "",
        p->metadata_url ? p->metadata_url : "");
    if (p->local_jwt) {
        /* README "Local JWT validation": a verdict made from the JWKS is
         * another trust context than the provider's answer */
        const char *types = "-";
        int i;
        for (i = 0; p->jwt_types && i < p->jwt_types->nelts; i++) {
            types = apr_pstrcat(pool, i ? types : "", i ? " " : "",
                                APR_ARRAY_IDX(p->jwt_types, i, const char *),
                                NULL);
        }
        p->identity = apr_psprintf(
            pool, "%s\nlocal-jwt=%s types=%s", p->identity,
            p->jwks_url ? p->jwks_url : "metadata", types);
    }
    p->basic_header = NULL;
    if (oa2f_provider_has_credentials(p) && p->auth == OA2F_AUTH_BASIC) {
        /* RFC 6749 §2.3.1: form-encode id and secret, then base64. */
        const char *pair = apr_pstrcat(
            pool, oa2f_form_encode(pool, p->client_id), ":",
            oa2f_form_encode(pool, p->client_secret ? p->client_secret : ""),
            NULL);
        int len = (int)strlen(pair);
        unsigned char *b64 = apr_palloc(pool, 4 * ((len + 2) / 3) + 1);
        EVP_EncodeBlock(b64, (const unsigned char *)pair, len);
        p->basic_header = apr_pstrcat(pool, "Authorization: Basic ",
                                      (const char *)b64, NULL);
    }
}
