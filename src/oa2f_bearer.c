#include <string.h>
#include <strings.h>
#include <apr_strings.h>
#include <json-c/json.h>
#include <openssl/bio.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include "oa2f_bearer.h"

/* The confirmation (RFC 7800 §3.1) of a cnf member: "jkt" is a DPoP key
 * (RFC 9449 §6.1), "x5t#S256" a client certificate (RFC 8705 §3.1); any
 * other method binds the token to a key this server cannot check. */
static oa2f_outcome_e check_cnf(apr_pool_t *p, const oa2f_field_t *f,
                                const char **x5t, const char **why)
{
    const char *perr = NULL;
    struct json_object *obj = oa2f_json_parse_object(f->value, f->value_len,
                                                     &perr);
    struct json_object *v;
    oa2f_outcome_e o = OA2F_INACTIVE;

    if (!obj) {
        *why = "the token's cnf member is not an object";
        return OA2F_INACTIVE;
    }
    if (json_object_object_get_ex(obj, "jkt", NULL)) {
        *why = "the token is bound to a DPoP key (cnf.jkt), not a bearer "
               "token";
    }
    else if (json_object_object_get_ex(obj, "x5t#S256", &v)
             && json_object_is_type(v, json_type_string)
             && json_object_get_string_len(v) > 0
             && json_object_object_length(obj) == 1) {
        *x5t = apr_pstrdup(p, json_object_get_string(v));
        o = OA2F_OK;
    }
    else {
        *why = "the token is bound to a key (cnf) this server cannot check";
    }
    json_object_put(obj);
    return o;
}

oa2f_outcome_e oa2f_bearer_check(apr_pool_t *p, const oa2f_claims_t *c,
                                 const char *own_token_type,
                                 const char **x5t_s256, const char **why)
{
    int i;

    *x5t_s256 = NULL;
    for (i = 0; i < c->fields->nelts; i++) {
        const oa2f_field_t *f = &APR_ARRAY_IDX(c->fields, i, oa2f_field_t);

        switch (f->name[0]) {
        case 't':
            /* RFC 7662 §2.2 token_type; RFC 6750 §1.1 "Bearer"; ForgeRock
             * AM says "access_token" for its bearer access tokens (and
             * "refresh_token" for the others), docs/providers.md §3.4 */
            if (!strcmp(f->name, "token_type")
                && strcasecmp(f->value, "Bearer") != 0
                && strcmp(f->value, "access_token") != 0
                && !(own_token_type && !strcmp(f->value, own_token_type))) {
                *why = apr_pstrcat(p,
                                   "the provider says the token's type "
                                   "is not Bearer",
                                   NULL);
                return OA2F_INACTIVE;
            }
            /* AWS Cognito's and others' token_use */
            if (!strcmp(f->name, "token_use")
                && strcmp(f->value, "access_token") != 0
                && strcmp(f->value, "access") != 0) {
                *why = "the provider says the token is not an access token "
                       "(token_use)";
                return OA2F_INACTIVE;
            }
            break;
        case 'c':
            if (!strcmp(f->name, "cnf")
                && check_cnf(p, f, x5t_s256, why) != OA2F_OK) {
                return OA2F_INACTIVE;
            }
            break;
        default:
            break;
        }
    }
    return OA2F_OK;
}

const char *oa2f_x5t_s256_of_pem(apr_pool_t *p, const char *pem)
{
    BIO *bio = BIO_new_mem_buf(pem, -1);
    X509 *x = bio ? PEM_read_bio_X509(bio, NULL, NULL, NULL) : NULL;
    unsigned char *der = NULL, md[EVP_MAX_MD_SIZE];
    unsigned int mdlen = 0;
    int derlen;
    char *b64 = NULL;

    if (x && (derlen = i2d_X509(x, &der)) > 0
        && EVP_Digest(der, (size_t)derlen, md, &mdlen, EVP_sha256(), NULL)) {
        /* base64url without padding (RFC 7515 §2) */
        char *s = apr_palloc(p, 4 * ((mdlen + 2) / 3) + 1);
        int n = EVP_EncodeBlock((unsigned char *)s, md, (int)mdlen), j;
        while (n > 0 && s[n - 1] == '=') {
            n--;
        }
        s[n] = '\0';
        for (j = 0; j < n; j++) {
            s[j] = s[j] == '+' ? '-' : s[j] == '/' ? '_' : s[j];
        }
        b64 = s;
    }
    OPENSSL_free(der);
    X509_free(x);
    BIO_free(bio);
    return b64;
}
