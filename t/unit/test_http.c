/* oa2f_http.c: the libcurl client against a small HTTP/1.1 server that
 * runs in a thread of this process on 127.0.0.1 (an ephemeral port).
 *
 * The server plays a script of raw answers, one per request, and records
 * what it received (request line, header block, body) and how many
 * connections it accepted. Every accept and read waits in short slices,
 * so it notices server_stop() at once and ends on its own after
 * SERVER_LIFE whatever the client does. */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <apr_atomic.h>
#include <apr_network_io.h>
#include <apr_strings.h>
#include <apr_thread_proc.h>
#include <apr_time.h>

#include "unit.h"
#include "ut_common.h"
#include "oa2f_dialect.h"
#include "oa2f_http.h"

/* Client credentials and a grant type with characters a form escapes. */
#define SECRET      "s3c:r+t /%"
#define SECRET_FORM "s3c%3Ar%2Bt+%2F%25"
#define PING_GRANT  "urn:pingidentity.com:oauth2:grant_type:validate_bearer"

#define SLICE       apr_time_from_msec(20)
#define SERVER_LIFE apr_time_from_sec(5)
#define MAX_SEEN    4
#define HEAD_MAX    8192
#define BODY_MAX    4096

#define JSON_200                                                              \
    "HTTP/1.1 200 OK\r\n"                                                     \
    "Content-Type: application/json\r\n"                                      \
    "Content-Length: 15\r\n\r\n"                                              \
    "{\"active\":true}"

/* One scripted answer: raw bytes, or NULL to read the request and never
 * answer; close ends the connection once the answer is written. */
typedef struct {
    const char *answer;
    int close;
} reply_t;

/* One request as it reached the server. */
typedef struct {
    char method[16];
    char target[1024];
    char head[HEAD_MAX]; /* the header lines, CRLF-separated */
    char body[BODY_MAX + 1];
    apr_size_t body_len;
} seen_t;

typedef struct {
    apr_pool_t *pool; /* used by the server thread only */
    apr_socket_t *listener;
    apr_port_t port;
    apr_thread_t *thread;
    apr_time_t deadline;
    volatile apr_uint32_t stop;
    const reply_t *replies;
    int nreplies;
    /* read by the test only after server_stop() joined the thread */
    int accepts;
    int nseen;
    seen_t seen[MAX_SEEN];
} server_t;

static int going_on(server_t *s)
{
    return !apr_atomic_read32(&s->stop) && apr_time_now() < s->deadline;
}

/* Some bytes from c; 0 on EOF, error, stop or the end of the server's
 * life. */
static int recv_some(server_t *s, apr_socket_t *c, char *buf, apr_size_t *len)
{
    while (going_on(s)) {
        apr_size_t n = *len;
        apr_status_t rv = apr_socket_recv(c, buf, &n);

        if (n > 0) {
            *len = n;
            return 1;
        }
        if (!APR_STATUS_IS_TIMEUP(rv) && !APR_STATUS_IS_EAGAIN(rv)) {
            return 0;
        }
    }
    return 0;
}

static int send_all(apr_socket_t *c, const char *data, apr_size_t len)
{
    while (len > 0) {
        apr_size_t n = len;

        if (apr_socket_send(c, data, &n) != APR_SUCCESS && n == 0) {
            return 0;
        }
        data += n;
        len -= n;
    }
    return 1;
}

static apr_size_t content_length(const char *head)
{
    const char *h = head;

    while (h && *h) {
        if (strncasecmp(h, "Content-Length:", 15) == 0) {
            return (apr_size_t)strtoul(h + 15, NULL, 10);
        }
        h = strstr(h, "\r\n");
        h = h ? h + 2 : NULL;
    }
    return 0;
}

/* One request (request line, headers, Content-Length body) into q. */
static int read_request(server_t *s, apr_socket_t *c, seen_t *q)
{
    char buf[HEAD_MAX + BODY_MAX];
    apr_size_t have = 0, want, n;
    char *end = NULL, *line_end;

    memset(q, 0, sizeof(*q));
    while (!end) {
        n = sizeof(buf) - 1 - have;
        if (n == 0 || !recv_some(s, c, buf + have, &n)) {
            return 0;
        }
        have += n;
        buf[have] = '\0';
        end = strstr(buf, "\r\n\r\n");
    }
    line_end = strstr(buf, "\r\n");
    *line_end = '\0';
    if (sscanf(buf, "%15s %1023s", q->method, q->target) != 2) {
        return 0;
    }
    if (end > line_end) {
        /* each header line with its CRLF */
        apr_size_t n_head = (apr_size_t)(end - line_end);

        apr_cpystrn(q->head, line_end + 2,
                    n_head < sizeof(q->head) ? n_head + 1 : sizeof(q->head));
    }
    want = content_length(q->head);
    if (want > BODY_MAX) {
        return 0;
    }
    q->body_len = have - (apr_size_t)(end + 4 - buf);
    if (q->body_len > want) {
        return 0; /* more than one request: not expected */
    }
    memcpy(q->body, end + 4, q->body_len);
    while (q->body_len < want) {
        n = want - q->body_len;
        if (!recv_some(s, c, q->body + q->body_len, &n)) {
            return 0;
        }
        q->body_len += n;
    }
    q->body[q->body_len] = '\0';
    return 1;
}

/* Requests on one connection, answered from the script. */
static void serve_connection(server_t *s, apr_socket_t *c)
{
    while (going_on(s) && s->nseen < MAX_SEEN) {
        const reply_t *r;
        char sink[512];
        apr_size_t n;

        if (!read_request(s, c, &s->seen[s->nseen])) {
            return;
        }
        r = s->nseen < s->nreplies ? &s->replies[s->nseen] : NULL;
        s->nseen++;
        if (!r) {
            return;
        }
        if (!r->answer) {
            /* a provider that hangs: wait until the client gives up */
            do {
                n = sizeof(sink);
            } while (recv_some(s, c, sink, &n));
            return;
        }
        if (!send_all(c, r->answer, strlen(r->answer)) || r->close) {
            return;
        }
    }
}

static void *APR_THREAD_FUNC serve(apr_thread_t *thd, void *data)
{
    server_t *s = data;

    while (going_on(s)) {
        apr_socket_t *c;
        apr_status_t rv = apr_socket_accept(&c, s->listener, s->pool);

        if (APR_STATUS_IS_TIMEUP(rv) || APR_STATUS_IS_EAGAIN(rv)) {
            continue;
        }
        if (rv != APR_SUCCESS) {
            break;
        }
        s->accepts++;
        apr_socket_timeout_set(c, SLICE);
        serve_connection(s, c);
        apr_socket_close(c);
    }
    apr_thread_exit(thd, APR_SUCCESS);
    return NULL;
}

/* A socket bound to 127.0.0.1 on a port the system picks. */
static apr_socket_t *bound_socket(apr_port_t *port)
{
    apr_sockaddr_t *sa;
    apr_socket_t *sock;

    ck_assert_int_eq(
        apr_sockaddr_info_get(&sa, "127.0.0.1", APR_INET, 0, 0, ut_pool),
        APR_SUCCESS);
    ck_assert_int_eq(apr_socket_create(&sock, APR_INET, SOCK_STREAM,
                                       APR_PROTO_TCP, ut_pool),
                     APR_SUCCESS);
    ck_assert_int_eq(apr_socket_bind(sock, sa), APR_SUCCESS);
    ck_assert_int_eq(apr_socket_addr_get(&sa, APR_LOCAL, sock), APR_SUCCESS);
    ck_assert_uint_gt(sa->port, 0);
    *port = sa->port;
    return sock;
}

static server_t *server_start(const reply_t *replies, int nreplies)
{
    server_t *s = apr_pcalloc(ut_pool, sizeof(*s));

    ck_assert_int_eq(apr_pool_create(&s->pool, ut_pool), APR_SUCCESS);
    s->replies = replies;
    s->nreplies = nreplies;
    s->deadline = apr_time_now() + SERVER_LIFE;
    s->listener = bound_socket(&s->port);
    ck_assert_int_eq(apr_socket_listen(s->listener, 8), APR_SUCCESS);
    ck_assert_int_eq(apr_socket_timeout_set(s->listener, SLICE), APR_SUCCESS);
    ck_assert_int_eq(apr_thread_create(&s->thread, NULL, serve, s, ut_pool),
                     APR_SUCCESS);
    return s;
}

static void server_stop(server_t *s)
{
    apr_status_t rv;

    apr_atomic_set32(&s->stop, 1);
    ck_assert_int_eq(apr_thread_join(&rv, s->thread), APR_SUCCESS);
    apr_socket_close(s->listener);
}

static const char *url(const server_t *s, const char *path_query)
{
    return apr_psprintf(ut_pool, "http://127.0.0.1:%u%s", (unsigned)s->port,
                        path_query);
}

/* The value of header `name` in q (first occurrence), or NULL. */
static const char *header(const seen_t *q, const char *name)
{
    apr_size_t len = strlen(name);
    const char *h = q->head;

    while (h && *h) {
        const char *eol = strstr(h, "\r\n");

        if (strncasecmp(h, name, len) == 0 && h[len] == ':') {
            h += len + 1;
            while (*h == ' ') {
                h++;
            }
            return eol ? apr_pstrndup(ut_pool, h, (apr_size_t)(eol - h))
                       : apr_pstrdup(ut_pool, h);
        }
        h = eol ? eol + 2 : NULL;
    }
    return NULL;
}

static oa2f_provider_t *provider(void)
{
    oa2f_provider_t *p = apr_pcalloc(ut_pool, sizeof(*p));

    p->connect_timeout_ms = 1000;
    p->total_timeout_ms = 2000;
    p->ssl_verify = 1;
    p->max_answer = OA2F_MAX_ANSWER;
    return p;
}

static oa2f_http_req_t *get(const char *u, const char *header_line)
{
    oa2f_http_req_t *req = apr_pcalloc(ut_pool, sizeof(*req));

    req->method = "GET";
    req->url = u;
    req->headers = apr_array_make(ut_pool, 2, sizeof(const char *));
    APR_ARRAY_PUSH(req->headers, const char *) = "Accept: application/json";
    if (header_line) {
        APR_ARRAY_PUSH(req->headers, const char *) = header_line;
    }
    return req;
}

static oa2f_http_pool_t *pool(void)
{
    oa2f_http_pool_t *hp = oa2f_http_pool_create(ut_pool);

    ck_assert_ptr_nonnull(hp);
    return hp;
}

static oa2f_http_result_e perform(oa2f_http_pool_t *hp,
                                  const oa2f_provider_t *p,
                                  const oa2f_http_req_t *req,
                                  oa2f_http_resp_t *resp)
{
    return oa2f_http_perform(hp, ut_pool, p, req, resp);
}

/* One GET of path (with header_line, when not NULL) to a server that
 * gives `answer` and closes; the server is stopped when this returns. */
static server_t *one_answer(const char *answer, const oa2f_provider_t *p,
                            const char *path, const char *header_line,
                            oa2f_http_result_e *hr, oa2f_http_resp_t *resp)
{
    reply_t *r = apr_pcalloc(ut_pool, sizeof(*r));
    server_t *s;

    r->answer = answer;
    r->close = 1;
    s = server_start(r, 1);
    *hr = perform(pool(), p, get(url(s, path), header_line), resp);
    server_stop(s);
    return s;
}

/* A port nobody listens on (bound, then closed, never listened). */
static apr_port_t dead_port(void)
{
    apr_port_t port;
    apr_socket_t *sock = bound_socket(&port);

    apr_socket_close(sock);
    return port;
}

/* ---- answers ---------------------------------------------------------- */

START_TEST(test_http_json_200)
{
    long long before = (long long)apr_time_sec(apr_time_now()), after;
    oa2f_http_resp_t resp;
    oa2f_http_result_e hr;
    server_t *s = one_answer(JSON_200, provider(),
                             "/tokeninfo?access_token=abc%2B&x=1",
                             "Authorization: Bearer abc+", &hr, &resp);

    after = (long long)apr_time_sec(apr_time_now());

    ck_assert_int_eq(hr, OA2F_HTTP_DONE);
    ck_assert_ptr_null(resp.error);
    ck_assert_int_eq(resp.status, 200);
    ck_assert_str_eq(resp.body, "{\"active\":true}");
    ck_assert_uint_eq(resp.body_len, 15);
    ck_assert(resp.sent_at >= before && resp.sent_at <= after);
    ck_assert(resp.elapsed > 0 && resp.elapsed < 1.0);
    ck_assert_int_eq(resp.new_connection, 1);

    /* RFC 7230 §5.3.1: origin-form, the query as given */
    ck_assert_int_eq(s->nseen, 1);
    ck_assert_str_eq(s->seen[0].method, "GET");
    ck_assert_str_eq(s->seen[0].target, "/tokeninfo?access_token=abc%2B&x=1");
    ck_assert_str_eq(header(&s->seen[0], "Authorization"), "Bearer abc+");
    ck_assert_str_eq(header(&s->seen[0], "Accept"), "application/json");
    ck_assert_str_eq(header(&s->seen[0], "User-Agent"),
                     "mod_oauth2_federated/0.1");
    ck_assert_ptr_null(header(&s->seen[0], "Content-Type"));
    ck_assert_uint_eq(s->seen[0].body_len, 0);
}
END_TEST

/* The introspection dialect's request as it reaches the provider: RFC
 * 7662 §2.1 form body, RFC 6749 §2.3.1 Basic credentials. */
START_TEST(test_http_form_post)
{
    static const reply_t script[] = { { JSON_200, 0 } };
    server_t *s = server_start(script, UT_N(script));
    oa2f_provider_t *p = provider();
    oa2f_http_req_t req;
    oa2f_http_resp_t resp;
    const seen_t *q;

    p->dialect = oa2f_dialect_find("introspection");
    ck_assert_ptr_nonnull(p->dialect);
    p->endpoint = url(s, "/oauth2/introspect");
    p->client_id = "client";
    p->client_secret = "s3cr3t";
    p->auth = OA2F_AUTH_BASIC;
    oa2f_provider_finish(ut_pool, p);
    p->dialect->build(ut_pool, p, "a+b/c=", &req);

    ck_assert_int_eq(perform(pool(), p, &req, &resp), OA2F_HTTP_DONE);
    server_stop(s);
    ck_assert_int_eq(resp.status, 200);

    ck_assert_int_eq(s->nseen, 1);
    q = &s->seen[0];
    ck_assert_str_eq(q->method, "POST");
    ck_assert_str_eq(q->target, "/oauth2/introspect");
    /* base64 of "client:s3cr3t" */
    ck_assert_str_eq(header(q, "Authorization"), "Basic Y2xpZW50OnMzY3IzdA==");
    ck_assert_str_eq(header(q, "Content-Type"),
                     "application/x-www-form-urlencoded");
    ck_assert_str_eq(header(q, "Accept"), "application/json");
    ck_assert_str_eq(q->body,
                     "token=a%2Bb%2Fc%3D&token_type_hint=access_token");
    ck_assert_str_eq(header(q, "Content-Length"),
                     apr_ltoa(ut_pool, (long)strlen(q->body)));
}
END_TEST

/* max_answer bounds the body (README, "Requests and answers": over
 * 1 MiB is not usable); exactly max is fine. */
START_TEST(test_http_max_answer)
{
    static const reply_t script[] = {
        { "HTTP/1.1 200 OK\r\nContent-Length: 16\r\n\r\n"
          "{\"a\":1234567890}",
          1 },
        { "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
          "a\r\n{\"a\":12345\r\n7\r\n678901}\r\n0\r\n\r\n",
          1 },
    };
    server_t *s = server_start(script, UT_N(script));
    oa2f_provider_t *p = provider();
    oa2f_http_pool_t *hp = pool();
    oa2f_http_resp_t resp;

    p->max_answer = 16;
    ck_assert_int_eq(perform(hp, p, get(url(s, "/exact"), NULL), &resp),
                     OA2F_HTTP_DONE);
    ck_assert_uint_eq(resp.body_len, 16);
    ck_assert_str_eq(resp.body, "{\"a\":1234567890}");

    /* 17 bytes, in two chunks: the second goes over */
    ck_assert_int_eq(perform(hp, p, get(url(s, "/over"), NULL), &resp),
                     OA2F_HTTP_TOO_LARGE);
    ck_assert_ptr_nonnull(resp.error);
    ck_assert_uint_le(resp.body_len, 16);
    server_stop(s);
    ck_assert_int_eq(s->nseen, 2);
}
END_TEST

/* An announced Content-Length over max_answer: libcurl refuses it at the
 * headers (CURLOPT_MAXFILESIZE), before any body byte is delivered; it is
 * still an answer that is too large. */
START_TEST(test_http_max_answer_announced)
{
    oa2f_provider_t *p = provider();
    oa2f_http_resp_t resp;
    oa2f_http_result_e hr;

    p->max_answer = 16;
    one_answer("HTTP/1.1 200 OK\r\nContent-Length: 17\r\n\r\n"
               "{\"a\":12345678901}",
               p, "/over", NULL, &hr, &resp);
    ck_assert_int_eq(hr, OA2F_HTTP_TOO_LARGE);
    ck_assert_ptr_nonnull(resp.error);
    ck_assert_uint_eq(resp.body_len, 0);
}
END_TEST

/* RFC 7230 §3.3.3: fewer bytes than Content-Length is an incomplete
 * message. */
START_TEST(test_http_cut_mid_body)
{
    oa2f_http_resp_t resp;
    oa2f_http_result_e hr;

    one_answer("HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
               "Content-Length: 100\r\n\r\n{\"active\":",
               provider(), "/", NULL, &hr, &resp);
    ck_assert_int_eq(hr, OA2F_HTTP_BROKEN);
    ck_assert_ptr_nonnull(resp.error);
    ck_assert_int_eq(resp.status, 200);
    ck_assert_str_eq(resp.body, "{\"active\":");
}
END_TEST

/* An answer without an HTTP status line: libcurl takes it for HTTP/0.9
 * and refuses it; the provider answered, but not usefully (README
 * "Requests and answers": 500, or 502 with rfc6750). */
START_TEST(test_http_not_http)
{
    oa2f_http_resp_t resp;
    oa2f_http_result_e hr;
    server_t *s = one_answer("SSH-2.0-OpenSSH_9.2\r\n\r\n", provider(), "/",
                             NULL, &hr, &resp);

    ck_assert_int_eq(hr, OA2F_HTTP_BROKEN);
    ck_assert_msg(resp.error && strstr(resp.error, "HTTP/0.9"), "%s",
                  resp.error ? resp.error : "-");
    ck_assert_int_eq(s->nseen, 1);
}
END_TEST

/* ---- nobody usable answers -------------------------------------------- */

START_TEST(test_http_refused)
{
    oa2f_http_resp_t resp;
    const char *u = apr_psprintf(ut_pool, "http://127.0.0.1:%u/",
                                 (unsigned)dead_port());

    ck_assert_int_eq(perform(pool(), provider(), get(u, NULL), &resp),
                     OA2F_HTTP_UNREACHABLE);
    ck_assert_ptr_nonnull(resp.error);
    ck_assert_int_eq(resp.status, 0);
    ck_assert_uint_eq(resp.body_len, 0);
    ck_assert_str_eq(resp.body, "");
}
END_TEST

/* The total timeout ends a call to a provider that never answers. */
START_TEST(test_http_silent_timeout)
{
    oa2f_provider_t *p = provider();
    oa2f_http_resp_t resp;
    oa2f_http_result_e hr;
    server_t *s;
    apr_time_t t0;
    double took;

    p->total_timeout_ms = 300;
    t0 = apr_time_now();
    s = one_answer(NULL, p, "/", NULL, &hr, &resp);
    took = (double)(apr_time_now() - t0) / APR_USEC_PER_SEC;
    ck_assert_int_eq(hr, OA2F_HTTP_UNREACHABLE);
    ck_assert_msg(took >= 0.25 && took < 1.0, "took %.3f s", took);
    ck_assert_ptr_nonnull(resp.error);
    ck_assert_int_eq(resp.status, 0);
    ck_assert_int_eq(s->accepts, 1);
    ck_assert_int_eq(s->nseen, 1);
}
END_TEST

/* Only http and https: a file: or ftp: endpoint is never fetched. */
START_TEST(test_http_other_schemes)
{
    oa2f_http_resp_t resp;

    ck_assert_int_eq(
        perform(pool(), provider(), get("file:///etc/passwd", NULL), &resp),
        OA2F_HTTP_INTERNAL);
    ck_assert_ptr_nonnull(resp.error);
    ck_assert_uint_eq(resp.body_len, 0);
    ck_assert_int_eq(
        perform(pool(), provider(), get("ftp://127.0.0.1/", NULL), &resp),
        OA2F_HTTP_INTERNAL);
}
END_TEST

/* ---- what the client does not do -------------------------------------- */

/* Redirects from the provider are never followed (README, "Requests and
 * answers"): the 302 comes back as the answer, Location is never asked
 * for. */
START_TEST(test_http_no_redirect)
{
    static const reply_t script[] = {
        { "HTTP/1.1 302 Found\r\nLocation: /elsewhere\r\n"
          "Content-Length: 0\r\n\r\n",
          0 },
        { JSON_200, 0 },
    };
    server_t *s = server_start(script, UT_N(script));
    oa2f_http_resp_t resp;

    ck_assert_int_eq(
        perform(pool(), provider(), get(url(s, "/check"), NULL), &resp),
        OA2F_HTTP_DONE);
    server_stop(s);
    ck_assert_int_eq(resp.status, 302);
    ck_assert_uint_eq(resp.body_len, 0);
    ck_assert_int_eq(s->nseen, 1);
    ck_assert_str_eq(s->seen[0].target, "/check");
}
END_TEST

/* Only OAuth2FederatedProxy is used, never *_proxy from the environment
 * (README, "Directives"): a dead proxy there would make the call fail. */
START_TEST(test_http_env_proxy_ignored)
{
    static const char *const vars[] = { "http_proxy", "HTTP_PROXY",
                                        "all_proxy", "ALL_PROXY" };
    static const reply_t script[] = { { JSON_200, 0 } };
    server_t *s = server_start(script, UT_N(script));
    const char *proxy = apr_psprintf(ut_pool, "http://127.0.0.1:%u",
                                     (unsigned)dead_port());
    const char *no_proxy = getenv("no_proxy"),
               *no_proxy_uc = getenv("NO_PROXY");
    oa2f_http_resp_t resp;
    oa2f_http_result_e hr;
    int i;

    if (no_proxy) {
        no_proxy = apr_pstrdup(ut_pool, no_proxy);
    }
    if (no_proxy_uc) {
        no_proxy_uc = apr_pstrdup(ut_pool, no_proxy_uc);
    }
    unsetenv("no_proxy");
    unsetenv("NO_PROXY");
    for (i = 0; i < UT_N(vars); i++) {
        setenv(vars[i], proxy, 1);
    }
    hr = perform(pool(), provider(), get(url(s, "/direct"), NULL), &resp);
    for (i = 0; i < UT_N(vars); i++) {
        unsetenv(vars[i]);
    }
    if (no_proxy) {
        setenv("no_proxy", no_proxy, 1);
    }
    if (no_proxy_uc) {
        setenv("NO_PROXY", no_proxy_uc, 1);
    }
    server_stop(s);

    ck_assert_msg(hr == OA2F_HTTP_DONE, "%d: %s", hr,
                  resp.error ? resp.error : "-");
    ck_assert_int_eq(resp.status, 200);
    ck_assert_int_eq(s->nseen, 1);
    /* origin-form: nobody spoke to us as a proxy */
    ck_assert_str_eq(s->seen[0].target, "/direct");
}
END_TEST

/* ---- connection reuse ------------------------------------------------- */

/* GET /1 then GET /2 on one pool, both answered; the server is stopped
 * when this returns. */
static server_t *two_calls(const reply_t script[2], oa2f_http_resp_t *first,
                           oa2f_http_resp_t *second)
{
    server_t *s = server_start(script, 2);
    oa2f_http_pool_t *hp = pool();

    ck_assert_int_eq(perform(hp, provider(), get(url(s, "/1"), NULL), first),
                     OA2F_HTTP_DONE);
    ck_assert_int_eq(perform(hp, provider(), get(url(s, "/2"), NULL), second),
                     OA2F_HTTP_DONE);
    server_stop(s);
    ck_assert_int_eq(s->nseen, 2);
    ck_assert_str_eq(s->seen[1].target, "/2");
    return s;
}

/* Two calls on one pool share the kept-alive connection. */
START_TEST(test_http_keep_alive)
{
    static const reply_t script[] = { { JSON_200, 0 }, { JSON_200, 0 } };
    oa2f_http_resp_t first, second;
    server_t *s = two_calls(script, &first, &second);

    ck_assert_int_eq(first.new_connection, 1);
    ck_assert_int_eq(second.new_connection, 0);
    ck_assert_str_eq(second.body, "{\"active\":true}");
    ck_assert_int_eq(s->accepts, 1);
}
END_TEST

/* A provider that closes after its answer costs a new connection. */
START_TEST(test_http_connection_close)
{
    static const reply_t script[] = {
        { "HTTP/1.1 200 OK\r\nConnection: close\r\n"
          "Content-Length: 2\r\n\r\n{}",
          1 },
        { JSON_200, 0 },
    };
    oa2f_http_resp_t first, second;
    server_t *s = two_calls(script, &first, &second);

    ck_assert_int_eq(first.new_connection, 1);
    ck_assert_int_eq(second.new_connection, 1);
    ck_assert_int_eq(s->accepts, 2);
}
END_TEST

/* ---- oa2f_form_encode ------------------------------------------------- */

/* RFC 6749 Appendix B: application/x-www-form-urlencoded as HTML forms
 * do it (space as '+', UTF-8 octets percent-encoded in upper case). */
START_TEST(test_http_form_encode)
{
    static const struct {
        const char *in, *out;
    } cases[] = {
        /* the example of Appendix B: " %&+£€" */
        { " %&+\xc2\xa3\xe2\x82\xac", "+%25%26%2B%C2%A3%E2%82%AC" },
        { "", "" },
        { "AZaz09-._*", "AZaz09-._*" },
        { "a b", "a+b" },
        { "a+b/c=", "a%2Bb%2Fc%3D" },
        { ":/?#[]@", "%3A%2F%3F%23%5B%5D%40" },
        { "!$&'(),;=", "%21%24%26%27%28%29%2C%3B%3D" },
        /* RFC 3986 unreserved, but not in the form set */
        { "~", "%7E" },
        { "\"<>\\^`{|}", "%22%3C%3E%5C%5E%60%7B%7C%7D" },
        { "\t\r\n\x7f\xff", "%09%0D%0A%7F%FF" },
    };
    int i;

    for (i = 0; i < UT_N(cases); i++) {
        ck_assert_str_eq(oa2f_form_encode(ut_pool, cases[i].in), cases[i].out);
    }
}
END_TEST

/* ---- oa2f_form_encode: every byte ------------------------------------------------- */

typedef struct {
    const char *in;
    const char *want;
} encode_case_t;

static const encode_case_t encode_cases[] = {
    { "", "" },
    { "abcXYZ019", "abcXYZ019" },
    { "-._*", "-._*" },
    { "+", "%2B" },
    { "/", "%2F" },
    { "=", "%3D" },
    { "a+b/c=", "a%2Bb%2Fc%3D" },
    { " ", "+" },
    { "a b", "a+b" },
    { "&", "%26" },
    { "%", "%25" },
    { ":", "%3A" },
    { "~", "%7E" },
    { "?#", "%3F%23" },
    { "\r\n", "%0D%0A" },
    { "\xc3\xa9", "%C3%A9" },
    { "\x7f\xff", "%7F%FF" },
    { SECRET, SECRET_FORM },
    { PING_GRANT, "urn%3Apingidentity.com%3Aoauth2%3Agrant_type%3A"
                  "validate_bearer" },
};

START_TEST(test_form_encode)
{
    const encode_case_t *tc = &encode_cases[_i];

    ck_assert_str_eq(oa2f_form_encode(ut_pool, tc->in), tc->want);
}
END_TEST

/* Every byte survives a round trip, and only unreserved bytes stay bare. */
START_TEST(test_form_encode_all_bytes)
{
    char in[256];
    const char *enc, *dec;
    int i;

    for (i = 1; i < 256; i++) {
        in[i - 1] = (char)i;
    }
    in[255] = '\0';
    enc = oa2f_form_encode(ut_pool, in);
    for (i = 0; enc[i]; i++) {
        unsigned char c = (unsigned char)enc[i];
        ck_assert_msg((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z')
                          || (c >= '0' && c <= '9') || strchr("-._*%+", c),
                      "byte 0x%02x left bare", c);
    }
    dec = ut_form_decode(enc, strlen(enc));
    ck_assert_ptr_nonnull(dec);
    ck_assert_str_eq(dec, in);
}
END_TEST

Suite *http_suite(void)
{
    Suite *s = suite_create("http");
    TCase *tc;

    /* httpd ignores SIGPIPE; a server write after the client went must
     * not end the test run */
    signal(SIGPIPE, SIG_IGN);
    if (!oa2f_http_global_init()) {
        fprintf(stderr, "curl_global_init failed\n");
        abort();
    }

    tc = ut_tcase("answers");
    tcase_add_test(tc, test_http_json_200);
    tcase_add_test(tc, test_http_form_post);
    tcase_add_test(tc, test_http_max_answer);
    tcase_add_test(tc, test_http_max_answer_announced);
    tcase_add_test(tc, test_http_cut_mid_body);
    tcase_add_test(tc, test_http_not_http);
    suite_add_tcase(s, tc);

    tc = ut_tcase("unreachable");
    tcase_add_test(tc, test_http_refused);
    tcase_add_test(tc, test_http_silent_timeout);
    tcase_add_test(tc, test_http_other_schemes);
    suite_add_tcase(s, tc);

    tc = ut_tcase("refusals");
    tcase_add_test(tc, test_http_no_redirect);
    tcase_add_test(tc, test_http_env_proxy_ignored);
    suite_add_tcase(s, tc);

    tc = ut_tcase("reuse");
    tcase_add_test(tc, test_http_keep_alive);
    tcase_add_test(tc, test_http_connection_close);
    suite_add_tcase(s, tc);

    tc = ut_tcase("form_encode");
    tcase_add_test(tc, test_http_form_encode);
    tcase_add_loop_test(tc, test_form_encode, 0, UT_N(encode_cases));
    tcase_add_test(tc, test_form_encode_all_bytes);
    suite_add_tcase(s, tc);
    return s;
}
