/* Provider calls with libcurl.
 *
 * Each process keeps a stack of idle easy handles. A call takes one (so
 * no handle is ever used by two threads at once), and gives it back
 * afterwards; the handle keeps its connection cache and TLS session, so
 * the next call reuses the kept-alive connection to the provider. */
#include <string.h>
#include <strings.h>
#include <curl/curl.h>
#include <apr_strings.h>
#include <apr_thread_mutex.h>
#include <apr_time.h>
#include <apr_lib.h>

#include "oa2f_http.h"

/* More idle handles than this are closed rather than kept. */
#define OA2F_HTTP_MAX_IDLE 64

struct oa2f_http_pool_t {
#if APR_HAS_THREADS
    apr_thread_mutex_t *mutex;
#endif
    CURL *idle[OA2F_HTTP_MAX_IDLE];
    int nidle;
};

int oa2f_http_global_init(void)
{
    return curl_global_init(CURL_GLOBAL_DEFAULT) == CURLE_OK;
}

static apr_status_t http_pool_cleanup(void *data)
{
    oa2f_http_pool_t *hp = data;

    while (hp->nidle > 0) {
        curl_easy_cleanup(hp->idle[--hp->nidle]);
    }
    return APR_SUCCESS;
}

oa2f_http_pool_t *oa2f_http_pool_create(apr_pool_t *pool)
{
    oa2f_http_pool_t *hp = apr_pcalloc(pool, sizeof(*hp));

#if APR_HAS_THREADS
    if (apr_thread_mutex_create(&hp->mutex, APR_THREAD_MUTEX_DEFAULT, pool)
        != APR_SUCCESS) {
        return NULL;
    }
#endif
    apr_pool_cleanup_register(pool, hp, http_pool_cleanup,
                              apr_pool_cleanup_null);
    return hp;
}

static CURL *take_handle(oa2f_http_pool_t *hp)
{
    CURL *h = NULL;

#if APR_HAS_THREADS
    apr_thread_mutex_lock(hp->mutex);
#endif
    if (hp->nidle > 0) {
        h = hp->idle[--hp->nidle];
    }
#if APR_HAS_THREADS
    apr_thread_mutex_unlock(hp->mutex);
#endif
    return h ? h : curl_easy_init();
}

static void give_back(oa2f_http_pool_t *hp, CURL *h)
{
#if APR_HAS_THREADS
    apr_thread_mutex_lock(hp->mutex);
#endif
    if (hp->nidle < OA2F_HTTP_MAX_IDLE) {
        hp->idle[hp->nidle++] = h;
        h = NULL;
    }
#if APR_HAS_THREADS
    apr_thread_mutex_unlock(hp->mutex);
#endif
    if (h) {
        curl_easy_cleanup(h);
    }
}

const char *oa2f_form_encode(apr_pool_t *p, const char *s)
{
    static const char hex[] = "0123456789ABCDEF";
    apr_size_t len = strlen(s), i, o = 0;
    char *out = apr_palloc(p, 3 * len + 1);

    for (i = 0; i < len; i++) {
        unsigned char c = (unsigned char)s[i];
        if (apr_isalnum(c) || c == '-' || c == '.' || c == '_' || c == '*') {
            out[o++] = (char)c;
        }
        else if (c == ' ') {
            out[o++] = '+';
        }
        else {
            out[o++] = '%';
            out[o++] = hex[c >> 4];
            out[o++] = hex[c & 0xf];
        }
    }
    out[o] = '\0';
    return out;
}

/* The answer body, growing in the request pool up to a hard cap. */
typedef struct {
    apr_pool_t *p;
    char *buf;
    apr_size_t len, cap, max;
    int too_large;
} body_t;

/* The last Cache-Control header of the answer (README "Resource identity":
 * a metadata document is kept for at most its max-age), and its
 * Retry-After (README "Outages": a 429 or 503 opens the circuit for that
 * long). */
typedef struct {
    apr_pool_t *p;
    const char *cache_control;
    const char *retry_after;
} heads_t;

/* The value of header `name` (lower case, with the colon) in one header
 * line, trimmed, or NULL when the line is another header. */
static const char *header_value(apr_pool_t *p, const char *data, size_t n,
                                const char *name, size_t name_len)
{
    const char *v, *end;

    if (n <= name_len || strncasecmp(data, name, name_len) != 0) {
        return NULL;
    }
    v = data + name_len;
    end = data + n;
    while (v < end && (*v == ' ' || *v == '\t')) {
        v++;
    }
    while (end > v && (end[-1] == '\r' || end[-1] == '\n' || end[-1] == ' ')) {
        end--;
    }
    return apr_pstrmemdup(p, v, (apr_size_t)(end - v));
}

static size_t on_header(char *data, size_t size, size_t nmemb, void *baton)
{
    static const char cc[] = "cache-control:";
    static const char ra[] = "retry-after:";
    heads_t *hd = baton;
    size_t n = size * nmemb;
    const char *v;

    if ((v = header_value(hd->p, data, n, cc, sizeof(cc) - 1))) {
        hd->cache_control = v;
    }
    else if ((v = header_value(hd->p, data, n, ra, sizeof(ra) - 1))) {
        hd->retry_after = v;
    }
    return n;
}

static size_t on_body(char *data, size_t size, size_t nmemb, void *baton)
{
    body_t *b = baton;
    apr_size_t n = size * nmemb;

    if (n > b->max - b->len) {
        b->too_large = 1;
        return 0; /* aborts the transfer */
    }
    if (b->len + n + 1 > b->cap) {
        apr_size_t cap = b->cap ? b->cap : 4096;
        char *nbuf;
        while (cap < b->len + n + 1) {
            cap *= 2;
        }
        nbuf = apr_palloc(b->p, cap);
        if (b->len) {
            memcpy(nbuf, b->buf, b->len);
        }
        b->buf = nbuf;
        b->cap = cap;
    }
    memcpy(b->buf + b->len, data, n);
    b->len += n;
    b->buf[b->len] = '\0';
    return n;
}

/* `reached`: a server answered on the connection (its address is known),
 * so what libcurl refused is the answer, not our request. */
static oa2f_http_result_e classify(CURLcode rc, const body_t *b, int reached)
{
    switch (rc) {
    case CURLE_OK:
        return OA2F_HTTP_DONE;
    case CURLE_FILESIZE_EXCEEDED:
        /* an announced Content-Length over the cap (CURLOPT_MAXFILESIZE),
         * refused before any byte of the body arrives */
        return OA2F_HTTP_TOO_LARGE;
    case CURLE_WRITE_ERROR:
        return b->too_large ? OA2F_HTTP_TOO_LARGE : OA2F_HTTP_BROKEN;
    case CURLE_PARTIAL_FILE:
    case CURLE_BAD_CONTENT_ENCODING:
    case CURLE_WEIRD_SERVER_REPLY:
    case CURLE_TOO_MANY_REDIRECTS:
        return OA2F_HTTP_BROKEN;
    case CURLE_UNSUPPORTED_PROTOCOL:
        /* an answer without a status line is taken for HTTP/0.9 and
         * refused as such: an unusable answer, not our failure */
        return reached ? OA2F_HTTP_BROKEN : OA2F_HTTP_INTERNAL;
    case CURLE_OUT_OF_MEMORY:
    case CURLE_FAILED_INIT:
    case CURLE_UNKNOWN_OPTION:
    case CURLE_NOT_BUILT_IN:
    case CURLE_URL_MALFORMAT:
        return OA2F_HTTP_INTERNAL;
    default:
        /* refused, DNS, TLS, timeouts, resets: nobody usable answered */
        return OA2F_HTTP_UNREACHABLE;
    }
}

#define SETOPT(h, opt, val)                                                   \
    do {                                                                      \
        if (curl_easy_setopt((h), (opt), (val)) != CURLE_OK)                  \
            goto setup_failed;                                                \
    } while (0)

oa2f_http_result_e oa2f_http_perform(oa2f_http_pool_t *hp, apr_pool_t *p,
                                     const oa2f_provider_t *prov,
                                     const oa2f_http_req_t *req,
                                     oa2f_http_resp_t *resp)
{
    CURL *h;
    CURLcode rc;
    struct curl_slist *headers = NULL, *tmp;
    body_t body;
    heads_t heads;
    char errbuf[CURL_ERROR_SIZE];
    long nconn = 0;
    double total = 0;
    oa2f_http_result_e result;
    int i;

    memset(resp, 0, sizeof(*resp));
    memset(&body, 0, sizeof(body));
    body.p = p;
    heads.p = p;
    heads.cache_control = NULL;
    heads.retry_after = NULL;
    body.max = prov->max_answer ? prov->max_answer : OA2F_MAX_ANSWER;
    errbuf[0] = '\0';

    h = take_handle(hp);
    if (!h) {
        resp->error = "cannot create a libcurl handle";
        return OA2F_HTTP_INTERNAL;
    }
    /* reset keeps live connections and TLS sessions, drops old options */
    curl_easy_reset(h);

    for (i = 0; req->headers && i < req->headers->nelts; i++) {
        tmp = curl_slist_append(headers,
                                APR_ARRAY_IDX(req->headers, i, const char *));
        if (!tmp) {
            goto setup_failed;
        }
        headers = tmp;
    }

    SETOPT(h, CURLOPT_URL, req->url);
    SETOPT(h, CURLOPT_NOSIGNAL, 1L);
#if LIBCURL_VERSION_NUM >= 0x075500
    SETOPT(h, CURLOPT_PROTOCOLS_STR, "http,https");
#else
    SETOPT(h, CURLOPT_PROTOCOLS, (long)(CURLPROTO_HTTP | CURLPROTO_HTTPS));
#endif
    /* a validation endpoint must not redirect (docs/providers.md, edge
     * case 17) */
    SETOPT(h, CURLOPT_FOLLOWLOCATION, 0L);
    SETOPT(h, CURLOPT_CONNECTTIMEOUT_MS, prov->connect_timeout_ms);
    SETOPT(h, CURLOPT_TIMEOUT_MS, prov->total_timeout_ms);
    SETOPT(h, CURLOPT_SSL_VERIFYPEER, prov->ssl_verify ? 1L : 0L);
    SETOPT(h, CURLOPT_SSL_VERIFYHOST, prov->ssl_verify ? 2L : 0L);
    if (prov->ca_file) {
        SETOPT(h, CURLOPT_CAINFO, prov->ca_file);
    }
    /* "" turns off the *_proxy environment variables: only the
     * configured proxy is ever used. */
    SETOPT(h, CURLOPT_PROXY, prov->proxy ? prov->proxy : "");
    if (prov->proxy && prov->proxy_userpwd) {
        SETOPT(h, CURLOPT_PROXYUSERPWD, prov->proxy_userpwd);
    }
    SETOPT(h, CURLOPT_MAXFILESIZE_LARGE, (curl_off_t)body.max);
    SETOPT(h, CURLOPT_WRITEFUNCTION, on_body);
    SETOPT(h, CURLOPT_WRITEDATA, &body);
    SETOPT(h, CURLOPT_HEADERFUNCTION, on_header);
    SETOPT(h, CURLOPT_HEADERDATA, &heads);
    SETOPT(h, CURLOPT_ERRORBUFFER, errbuf);
    SETOPT(h, CURLOPT_USERAGENT,
           "mod_oauth2_federated/"
           "0.1");
    SETOPT(h, CURLOPT_TCP_KEEPALIVE, 1L);
    SETOPT(h, CURLOPT_HTTPHEADER, headers);
    if (req->body) {
        SETOPT(h, CURLOPT_POSTFIELDSIZE, (long)strlen(req->body));
        SETOPT(h, CURLOPT_POSTFIELDS, req->body);
    }
    else {
        SETOPT(h, CURLOPT_HTTPGET, 1L);
    }

    resp->sent_at = (long long)apr_time_sec(apr_time_now());
    rc = curl_easy_perform(h);

    {
        char *ip = NULL;
        curl_easy_getinfo(h, CURLINFO_PRIMARY_IP, &ip);
        result = classify(rc, &body, ip && *ip);
    }
    curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &resp->status);
    curl_easy_getinfo(h, CURLINFO_NUM_CONNECTS, &nconn);
    curl_easy_getinfo(h, CURLINFO_TOTAL_TIME, &total);
    resp->new_connection = nconn > 0;
    resp->elapsed = total;
    resp->body = body.buf ? body.buf : "";
    resp->body_len = body.len;
    resp->cache_control = heads.cache_control;
    resp->retry_after = heads.retry_after;
    if (result != OA2F_HTTP_DONE) {
        resp->error = apr_pstrdup(p,
                                  errbuf[0] ? errbuf : curl_easy_strerror(rc));
    }

    /* the slist must outlive the transfer, but not the handle's reuse */
    curl_easy_setopt(h, CURLOPT_HTTPHEADER, NULL);
    curl_easy_setopt(h, CURLOPT_ERRORBUFFER, NULL);
    curl_easy_setopt(h, CURLOPT_HEADERFUNCTION, NULL);
    curl_easy_setopt(h, CURLOPT_HEADERDATA, NULL);
    curl_slist_free_all(headers);
    give_back(hp, h);
    return result;

setup_failed:
    resp->error = "cannot set up the libcurl call";
    curl_easy_setopt(h, CURLOPT_HTTPHEADER, NULL);
    curl_easy_setopt(h, CURLOPT_ERRORBUFFER, NULL);
    curl_slist_free_all(headers);
    give_back(hp, h);
    return OA2F_HTTP_INTERNAL;
}
