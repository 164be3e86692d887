/* Versions (src/oa2f_version.h). */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif
#include <apr_strings.h>
#include <apr_version.h>
#include <curl/curl.h>
#include <json-c/json.h>
#include <openssl/crypto.h>

#include "oa2f_version.h"

const char *oa2f_version(void)
{
    return PACKAGE_VERSION;
}

const char *oa2f_version_libraries(apr_pool_t *p)
{
    const curl_version_info_data *cv = curl_version_info(CURLVERSION_NOW);

    return apr_psprintf(p, "libcurl/%s json-c/%s %s APR/%s",
                        cv && cv->version ? cv->version : "?",
                        json_c_version(), OpenSSL_version(OPENSSL_VERSION),
                        apr_version_string());
}

void oa2f_versions(oa2f_versions_t *v)
{
    const curl_version_info_data *cv = curl_version_info(CURLVERSION_NOW);

    v->version = PACKAGE_VERSION;
    v->curl = cv && cv->version ? cv->version : "unknown";
    v->json_c = json_c_version();
#ifdef OPENSSL_VERSION_STRING
    /* OpenSSL 3: the bare number */
    v->openssl = OpenSSL_version(OPENSSL_VERSION_STRING);
#else
    v->openssl = OpenSSL_version(OPENSSL_VERSION);
#endif
    v->apr = apr_version_string();
}
