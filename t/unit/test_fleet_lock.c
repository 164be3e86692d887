/* oa2f_fleet_lock.c: the fleet lock of README "Cache": its expiry and
 * the waiter's bounded back-off, its name (from the cache key, never the
 * token), the redis and memcached requests byte for byte, their replies
 * (table-driven, complete and partial), and the client against a
 * loopback server that records what it was sent and answers a script. */
#include <stdlib.h>
#include <string.h>
#include <apr_strings.h>
#include <apr_network_io.h>
#include <apr_thread_proc.h>

#include "unit.h"
#include "ut_common.h"
#include "oa2f_fleet_lock.h"

/* ---- timing ------------------------------------------------------------ */

START_TEST(test_lock_ttl)
{
    /* the provider's total timeout plus one second */
    ck_assert(oa2f_lock_ttl_ms(5000) == 6000);
    ck_assert(oa2f_lock_ttl_ms(4000) == 5000);
    ck_assert(oa2f_lock_ttl_ms(250) == 1250);
    ck_assert(oa2f_lock_ttl_ms(0) == 1000);
    ck_assert(oa2f_lock_ttl_ms(-3) == 1000);
    /* memcached's whole seconds, rounded up, and one more for its
     * clock's tick: never shorter than the ttl */
    ck_assert(oa2f_lock_ttl_s(6000) == 7);
    ck_assert(oa2f_lock_ttl_s(5000) == 6);
    ck_assert(oa2f_lock_ttl_s(1250) == 3);
    ck_assert(oa2f_lock_ttl_s(1001) == 3);
    ck_assert(oa2f_lock_ttl_s(1) == 2);
    ck_assert(oa2f_lock_ttl_s(0) == 1);
}
END_TEST

/* The waiter naps 10, 20, 40, … ms, at most 200 ms, never past the
 * deadline, and stops once it has passed: the sum of its naps is the
 * lock's expiry, whatever the back-off. */
START_TEST(test_lock_wait_backoff)
{
    static const long long want[] = { 10000,  20000,  40000,  80000,
                                      160000, 200000, 200000, 200000 };
    oa2f_lock_wait_t w;
    long long now = 1000000, nap, total = 0;
    int i, polls = 0;

    oa2f_lock_wait_begin(&w, now, 5000);
    ck_assert(w.deadline_us == now + 5000000);
    for (i = 0; i < UT_N(want); i++) {
        nap = oa2f_lock_wait_next(&w, now);
        ck_assert_msg(nap == want[i], "nap %d: %lld", i, nap);
        now += nap;
    }
    /* to the deadline exactly */
    oa2f_lock_wait_begin(&w, 0, 5000);
    now = 0;
    while ((nap = oa2f_lock_wait_next(&w, now)) > 0) {
        ck_assert(nap <= OA2F_LOCK_NAP_MAX_US);
        ck_assert(now + nap <= 5000000);
        now += nap;
        total += nap;
        polls++;
        ck_assert_int_lt(polls, 100); /* bounded */
    }
    ck_assert(total == 5000000);
    ck_assert_int_le(polls, 5 + 5000000 / OA2F_LOCK_NAP_MAX_US);
    /* a clock that jumped past the deadline: at once */
    oa2f_lock_wait_begin(&w, 0, 1000);
    ck_assert(oa2f_lock_wait_next(&w, 1000000) == 0);
    ck_assert(oa2f_lock_wait_next(&w, 5000000) == 0);
    /* the last nap is cut to what is left */
    oa2f_lock_wait_begin(&w, 0, 1000);
    ck_assert(oa2f_lock_wait_next(&w, 995000) == 5000);
}
END_TEST

/* ---- names ------------------------------------------------------------- */

START_TEST(test_lock_name)
{
    unsigned char k1[OA2F_CACHE_KEY_LEN], k2[OA2F_CACHE_KEY_LEN];
    char n1[OA2F_LOCK_NAME_LEN + 1], n2[OA2F_LOCK_NAME_LEN + 1];
    char again[OA2F_LOCK_NAME_LEN + 1];
    const char *token = "Zk9x2-hP_q.7Lm~a+b/c=0123456789";
    apr_size_t i, plen = strlen(OA2F_LOCK_NAME_PREFIX);

    oa2f_cache_key(NULL, "lock-test", token, k1);
    oa2f_cache_key(NULL, "lock-test", "another-token", k2);
    oa2f_lock_name(k1, n1);
    oa2f_lock_name(k1, again);
    oa2f_lock_name(k2, n2);
    ck_assert_uint_eq(strlen(n1), OA2F_LOCK_NAME_LEN);
    ck_assert(strncmp(n1, OA2F_LOCK_NAME_PREFIX, plen) == 0);
    for (i = plen; i < OA2F_LOCK_NAME_LEN; i++) {
        ck_assert(strchr("0123456789abcdef", n1[i]) != NULL);
    }
    /* the same for every server of the fleet, another for another key */
    ck_assert_str_eq(n1, again);
    ck_assert_str_ne(n1, n2);
    /* neither the token nor the entry's own name (the key's hex) */
    ck_assert_ptr_null(strstr(n1, token));
    ck_assert_ptr_null(strstr(n1, ut_hex(k1, 8)));
    /* memcached keys: at most 250 bytes, no spaces or controls */
    ck_assert_uint_le(strlen(n1), 250);
    ck_assert_ptr_null(strpbrk(n1, " \r\n\t"));
}
END_TEST

/* ---- requests ---------------------------------------------------------- */

START_TEST(test_lock_requests)
{
    apr_size_t len;
    const char *req;

    req = oa2f_lock_req_take(ut_pool, OA2F_LOCK_REDIS,
                             "oauth2-federated-lock:ab", "h/12/34/ff", 5000,
                             &len);
    ck_assert_str_eq(req,
                     "*6\r\n$3\r\nSET\r\n$24\r\noauth2-federated-lock:ab\r\n"
                     "$10\r\nh/12/34/ff\r\n$2\r\nNX\r\n$2\r\nPX\r\n"
                     "$4\r\n5000\r\n");
    ck_assert_uint_eq(len, strlen(req));

    req = oa2f_lock_req_take(ut_pool, OA2F_LOCK_MEMCACHE, "lk", "h/12/34/ff",
                             5000, &len);
    ck_assert_str_eq(req, "add lk 0 6 10\r\nh/12/34/ff\r\n");
    req = oa2f_lock_req_take(ut_pool, OA2F_LOCK_MEMCACHE, "lk", "v", 1250,
                             &len);
    ck_assert_str_eq(req, "add lk 0 3 1\r\nv\r\n");

    req = oa2f_lock_req_release(ut_pool, OA2F_LOCK_REDIS, "lk", "v1", &len);
    ck_assert_str_eq(req, "*5\r\n$4\r\nEVAL\r\n$93\r\n"
                          "if redis.call('get',KEYS[1])==ARGV[1] then return "
                          "redis.call('del',KEYS[1]) else return 0 end\r\n"
                          "$1\r\n1\r\n$2\r\nlk\r\n$2\r\nv1\r\n");
    ck_assert_uint_eq(len, strlen(req));
    req = oa2f_lock_req_release(ut_pool, OA2F_LOCK_MEMCACHE, "lk", "v1", &len);
    ck_assert_str_eq(req, "gets lk\r\n");
    req = oa2f_lock_req_mc_expire(ut_pool, "lk", "v1", 1234567890123ULL, &len);
    ck_assert_str_eq(req, "cas lk 0 -1 2 1234567890123\r\nv1\r\n");

    /* a revoked token's lock, whoever holds it */
    req = oa2f_lock_req_drop(ut_pool, OA2F_LOCK_REDIS, "lk", &len);
    ck_assert_str_eq(req, "*2\r\n$3\r\nDEL\r\n$2\r\nlk\r\n");
    ck_assert_uint_eq(len, strlen(req));
    req = oa2f_lock_req_drop(ut_pool, OA2F_LOCK_MEMCACHE, "lk", &len);
    ck_assert_str_eq(req, "delete lk\r\n");
    ck_assert_uint_eq(len, strlen(req));
}
END_TEST

/* ---- replies ----------------------------------------------------------- */

typedef struct {
    oa2f_lock_proto_e proto;
    const char *reply;
    oa2f_reply_e want;
} reply_case_t;

static const reply_case_t replies[] = {
    { OA2F_LOCK_REDIS, "+OK\r\n", OA2F_REPLY_YES },
    { OA2F_LOCK_REDIS, "$-1\r\n", OA2F_REPLY_NO },
    { OA2F_LOCK_REDIS, "_\r\n", OA2F_REPLY_NO }, /* RESP3 null */
    { OA2F_LOCK_REDIS, ":1\r\n", OA2F_REPLY_YES },
    { OA2F_LOCK_REDIS, ":0\r\n", OA2F_REPLY_NO },
    { OA2F_LOCK_REDIS, "-ERR unknown command\r\n", OA2F_REPLY_ERROR },
    { OA2F_LOCK_REDIS, "-NOAUTH Authentication required.\r\n",
      OA2F_REPLY_ERROR },
    { OA2F_LOCK_REDIS, ":2\r\n", OA2F_REPLY_ERROR },
    { OA2F_LOCK_REDIS, "+OKAY\r\n", OA2F_REPLY_ERROR },
    { OA2F_LOCK_REDIS, "+OK", OA2F_REPLY_MORE },
    { OA2F_LOCK_REDIS, "+OK\r", OA2F_REPLY_MORE },
    { OA2F_LOCK_REDIS, "", OA2F_REPLY_MORE },
    { OA2F_LOCK_MEMCACHE, "STORED\r\n", OA2F_REPLY_YES },
    { OA2F_LOCK_MEMCACHE, "NOT_STORED\r\n", OA2F_REPLY_NO },
    { OA2F_LOCK_MEMCACHE, "EXISTS\r\n", OA2F_REPLY_NO },
    { OA2F_LOCK_MEMCACHE, "NOT_FOUND\r\n", OA2F_REPLY_NO },
    { OA2F_LOCK_MEMCACHE, "DELETED\r\n", OA2F_REPLY_ERROR }, /* a drop's */
    { OA2F_LOCK_MEMCACHE, "SERVER_ERROR out of memory\r\n", OA2F_REPLY_ERROR },
    { OA2F_LOCK_MEMCACHE, "ERROR\r\n", OA2F_REPLY_ERROR },
    { OA2F_LOCK_MEMCACHE, "CLIENT_ERROR bad data chunk\r\n",
      OA2F_REPLY_ERROR },
    { OA2F_LOCK_MEMCACHE, "STORED", OA2F_REPLY_MORE },
    { OA2F_LOCK_MEMCACHE, "+OK\r\n", OA2F_REPLY_ERROR },
};

static const reply_case_t drop_replies[] = {
    { OA2F_LOCK_REDIS, ":1\r\n", OA2F_REPLY_YES },
    { OA2F_LOCK_REDIS, ":0\r\n", OA2F_REPLY_NO },
    { OA2F_LOCK_REDIS, "+OK\r\n", OA2F_REPLY_ERROR },
    { OA2F_LOCK_REDIS, ":2\r\n", OA2F_REPLY_ERROR },
    { OA2F_LOCK_REDIS, "-ERR\r\n", OA2F_REPLY_ERROR },
    { OA2F_LOCK_REDIS, ":1", OA2F_REPLY_MORE },
    { OA2F_LOCK_MEMCACHE, "DELETED\r\n", OA2F_REPLY_YES },
    { OA2F_LOCK_MEMCACHE, "NOT_FOUND\r\n", OA2F_REPLY_NO },
    { OA2F_LOCK_MEMCACHE, "STORED\r\n", OA2F_REPLY_ERROR },
    { OA2F_LOCK_MEMCACHE, "DELETEDX\r\n", OA2F_REPLY_ERROR },
    { OA2F_LOCK_MEMCACHE, "DELETED", OA2F_REPLY_MORE },
};

/* A drop's reply is read on its own terms: never a take's. */
START_TEST(test_lock_drop_replies)
{
    int i;

    for (i = 0; i < UT_N(drop_replies); i++) {
        oa2f_reply_e got = oa2f_lock_parse_drop(drop_replies[i].proto,
                                                drop_replies[i].reply,
                                                strlen(drop_replies[i].reply));
        ck_assert_msg(got == drop_replies[i].want, "case %d (%s): %d, want %d",
                      i, drop_replies[i].reply, got, drop_replies[i].want);
    }
}
END_TEST

START_TEST(test_lock_replies)
{
    int i;

    for (i = 0; i < UT_N(replies); i++) {
        oa2f_reply_e got = oa2f_lock_parse_reply(
            replies[i].proto, replies[i].reply, strlen(replies[i].reply));
        ck_assert_msg(got == replies[i].want, "case %d (%s): %d, want %d", i,
                      replies[i].reply, got, replies[i].want);
    }
}
END_TEST

typedef struct {
    const char *reply;
    oa2f_reply_e want;
    unsigned long long cas;
} gets_case_t;

static const gets_case_t gets_replies[] = {
    { "VALUE lk 0 2 77\r\nv1\r\nEND\r\n", OA2F_REPLY_YES, 77 },
    { "VALUE lk 0 2 18446744073709551615\r\nv1\r\nEND\r\n", OA2F_REPLY_YES,
      18446744073709551615ULL },
    { "END\r\n", OA2F_REPLY_NO, 0 },                          /* absent */
    { "VALUE lk 0 2 77\r\nv2\r\nEND\r\n", OA2F_REPLY_NO, 0 }, /* not ours */
    { "VALUE lk 0 3 77\r\nv11\r\nEND\r\n", OA2F_REPLY_NO, 0 },
    { "VALUE lk 0 2 77\r\nv1\r\n", OA2F_REPLY_MORE, 0 },
    { "VALUE lk 0 2 77\r\nv", OA2F_REPLY_MORE, 0 },
    { "VALUE lk 0 2", OA2F_REPLY_MORE, 0 },
    { "VALUE other 0 2 77\r\nv1\r\nEND\r\n", OA2F_REPLY_ERROR, 0 },
    { "VALUE lk 0 2 77\r\nv1XXEND\r\n", OA2F_REPLY_ERROR, 0 },
    { "VALUE lk 0 2 77 extra\r\nv1\r\nEND\r\n", OA2F_REPLY_ERROR, 0 },
    { "VALUE lk 0 x 77\r\nv1\r\nEND\r\n", OA2F_REPLY_ERROR, 0 },
    { "SERVER_ERROR busy\r\n", OA2F_REPLY_ERROR, 0 },
};

START_TEST(test_lock_gets_replies)
{
    int i;

    for (i = 0; i < UT_N(gets_replies); i++) {
        unsigned long long cas = 0;
        oa2f_reply_e got = oa2f_lock_parse_mc_gets(
            gets_replies[i].reply, strlen(gets_replies[i].reply), "lk", "v1",
            &cas);
        ck_assert_msg(got == gets_replies[i].want, "case %d: %d, want %d", i,
                      got, gets_replies[i].want);
        if (got == OA2F_REPLY_YES) {
            ck_assert(cas == gets_replies[i].cas);
        }
    }
}
END_TEST

/* ---- client, against a loopback server --------------------------------- */

/* One connection: each request read in full is answered with the next
 * reply of the script (split in two writes, to exercise partial reads);
 * what was received is kept. A NULL reply closes the connection. */
typedef struct {
    apr_socket_t *listener;
    apr_port_t port;
    const char *const *script;
    int nreplies;
    char received[4096];
    apr_size_t received_len;
} server_t;

/* Bytes of a complete request at the start of buf, 0 if incomplete:
 * RESP arrays of bulk strings, or memcached lines (with a data block for
 * add / cas). */
static apr_size_t request_len(const char *buf, apr_size_t len)
{
    const char *end = memchr(buf, '\n', len);
    apr_size_t line;

    if (!end) {
        return 0;
    }
    line = (apr_size_t)(end - buf) + 1;
    if (buf[0] == '*') {
        int n = atoi(buf + 1), i;
        apr_size_t at = line;

        for (i = 0; i < n; i++) {
            const char *e = memchr(buf + at, '\n', len - at);
            apr_size_t blen;

            if (!e || buf[at] != '$') {
                return 0;
            }
            blen = (apr_size_t)atoi(buf + at + 1);
            at = (apr_size_t)(e - buf) + 1 + blen + 2;
            if (at > len) {
                return 0;
            }
        }
        return at;
    }
    if (!strncmp(buf, "add ", 4) || !strncmp(buf, "cas ", 4)) {
        /* the last number before "\r\n" (cas: the one before the unique) */
        char l[256];
        apr_size_t bytes;
        char *sp;

        memcpy(l, buf, line < sizeof(l) ? line : sizeof(l) - 1);
        l[line < sizeof(l) ? line - 2 : sizeof(l) - 1] = '\0';
        sp = strrchr(l, ' ');
        if (!strncmp(buf, "cas ", 4)) {
            *sp = '\0';
            sp = strrchr(l, ' ');
        }
        bytes = (apr_size_t)atoi(sp + 1);
        return line + bytes + 2 <= len ? line + bytes + 2 : 0;
    }
    return line;
}

static void *APR_THREAD_FUNC serve(apr_thread_t *th, void *data)
{
    server_t *sv = data;
    apr_socket_t *c;
    apr_pool_t *p;
    apr_size_t have = 0;
    int i = 0;

    apr_pool_create(&p, NULL);
    if (apr_socket_accept(&c, sv->listener, p) == APR_SUCCESS) {
        apr_socket_timeout_set(c, apr_time_from_sec(5));
        while (i < sv->nreplies) {
            apr_size_t n = sizeof(sv->received) - sv->received_len;
            apr_size_t req;

            req = request_len(sv->received + have, sv->received_len - have);
            if (!req) {
                if (n == 0
                    || apr_socket_recv(c, sv->received + sv->received_len, &n)
                           != APR_SUCCESS) {
                    break;
                }
                sv->received_len += n;
                continue;
            }
            have += req;
            if (!sv->script[i]) {
                break;
            }
            {
                const char *r = sv->script[i++];
                apr_size_t half = strlen(r) / 2, rest = strlen(r) - half;

                apr_socket_send(c, r, &half);
                apr_sleep(2000);
                apr_socket_send(c, r + strlen(r) / 2, &rest);
            }
        }
        apr_socket_close(c);
    }
    apr_pool_destroy(p);
    apr_thread_exit(th, APR_SUCCESS);
    return NULL;
}

static server_t *server(const char *const *script, int n, apr_thread_t **th)
{
    server_t *sv = apr_pcalloc(ut_pool, sizeof(*sv));
    apr_sockaddr_t *sa;

    ck_assert_int_eq(
        apr_sockaddr_info_get(&sa, "127.0.0.1", APR_INET, 0, 0, ut_pool),
        APR_SUCCESS);
    ck_assert_int_eq(apr_socket_create(&sv->listener, APR_INET, SOCK_STREAM,
                                       APR_PROTO_TCP, ut_pool),
                     APR_SUCCESS);
    ck_assert_int_eq(apr_socket_bind(sv->listener, sa), APR_SUCCESS);
    ck_assert_int_eq(apr_socket_listen(sv->listener, 4), APR_SUCCESS);
    ck_assert_int_eq(apr_socket_addr_get(&sa, APR_LOCAL, sv->listener),
                     APR_SUCCESS);
    sv->port = sa->port;
    sv->script = script;
    sv->nreplies = n;
    ck_assert_int_eq(apr_thread_create(th, NULL, serve, sv, ut_pool),
                     APR_SUCCESS);
    return sv;
}

static void done(apr_thread_t *th)
{
    apr_status_t rv;

    apr_thread_join(&rv, th);
}

static oa2f_lock_conn_t *connect_to(server_t *sv, oa2f_lock_proto_e proto)
{
    oa2f_lock_conn_t *c = NULL;

    ck_assert_int_eq(oa2f_lock_connect(ut_pool, proto, "127.0.0.1", sv->port,
                                       apr_time_from_msec(500), &c),
                     APR_SUCCESS);
    return c;
}

START_TEST(test_lock_client_redis)
{
    static const char *const script[] = { "$-1\r\n", "+OK\r\n", ":1\r\n",
                                          "+OK\r\n", ":0\r\n",  ":1\r\n",
                                          ":0\r\n" };
    apr_thread_t *th;
    server_t *sv = server(script, UT_N(script), &th);
    oa2f_lock_conn_t *c = connect_to(sv, OA2F_LOCK_REDIS);

    ck_assert_int_eq(oa2f_lock_take(c, "lk", "me", 6000), OA2F_LOCK_BUSY);
    /* idle and open between requests: it may be kept for the next */
    ck_assert_int_eq(oa2f_lock_conn_alive(c), 1);
    ck_assert_int_eq(oa2f_lock_take(c, "lk", "me", 6000), OA2F_LOCK_TAKEN);
    ck_assert_int_eq(oa2f_lock_release(c, "lk", "me"), 1);
    ck_assert_int_eq(oa2f_lock_take(c, "lk", "me", 6000), OA2F_LOCK_TAKEN);
    ck_assert_int_eq(oa2f_lock_release(c, "lk", "me"), 0);
    ck_assert_int_eq(oa2f_lock_drop(c, "lk"), 1);
    ck_assert_int_eq(oa2f_lock_conn_alive(c), 1);
    ck_assert_int_eq(oa2f_lock_drop(c, "lk"), 0);
    done(th);
    /* the server has closed its end: not kept, and closed here too */
    ck_assert_int_eq(oa2f_lock_conn_alive(c), 0);
    ck_assert_int_eq(oa2f_lock_take(c, "lk", "me", 6000), OA2F_LOCK_NONE);
    oa2f_lock_close(c);
    ck_assert(strstr(sv->received, "$2\r\nNX\r\n$2\r\nPX\r\n$4\r\n6000\r\n"));
    ck_assert(strstr(sv->received, "$4\r\nEVAL\r\n"));
    ck_assert(strstr(sv->received, "$3\r\nDEL\r\n$2\r\nlk\r\n"));
}
END_TEST

/* README "The fleet lock": the claim's name is the entry's, as
 * mod_socache_redis names it; its request and every reply. */
START_TEST(test_claim_wire)
{
    unsigned char key[OA2F_CACHE_KEY_LEN];
    char name[OA2F_ENTRY_NAME_LEN + 1];
    apr_size_t len, off = 0, vlen = 0;
    const char *req;
    int i;

    for (i = 0; i < OA2F_CACHE_KEY_LEN; i++) {
        key[i] = (unsigned char)(i * 17 + 0xa0);
    }
    oa2f_lock_entry_name(key, name);
    ck_assert_str_eq(name, "oauth2-federated:a0b1c2d3e4f5061728394a5b6c7d8e9f"
                           "b0c1d2e3f405162738495a6b7c8d9eaf");
    ck_assert_uint_eq(strlen(name), OA2F_ENTRY_NAME_LEN);

    req = oa2f_lock_req_claim(ut_pool, "e", "c", 6000, &len);
    ck_assert_str_eq(req, "*7\r\n$3\r\nSET\r\n$1\r\ne\r\n$1\r\nc\r\n$2\r\nNX\r\n"
                          "$2\r\nPX\r\n$4\r\n6000\r\n$3\r\nGET\r\n");
    ck_assert_uint_eq(len, strlen(req));

    ck_assert_int_eq(oa2f_lock_parse_claim("$-1\r\n", 5, 100, &off, &vlen),
                     OA2F_REPLY_NO);
    ck_assert_int_eq(oa2f_lock_parse_claim("_\r\n", 3, 100, &off, &vlen),
                     OA2F_REPLY_NO);
    ck_assert_int_eq(oa2f_lock_parse_claim("$5\r\nhel", 7, 100, &off, &vlen),
                     OA2F_REPLY_MORE);
    ck_assert_int_eq(
        oa2f_lock_parse_claim("$5\r\nhello\r\n", 11, 100, &off, &vlen),
        OA2F_REPLY_YES);
    ck_assert_uint_eq(off, 4);
    ck_assert_uint_eq(vlen, 5);
    /* binary values: CR LF inside are data */
    ck_assert_int_eq(
        oa2f_lock_parse_claim("$4\r\n\r\n\r\n\r\n", 10, 100, &off, &vlen),
        OA2F_REPLY_YES);
    ck_assert_uint_eq(vlen, 4);
    ck_assert_int_eq(oa2f_lock_parse_claim("$0\r\n\r\n", 6, 100, &off, &vlen),
                     OA2F_REPLY_YES);
    ck_assert_uint_eq(vlen, 0);
    ck_assert_int_eq(
        oa2f_lock_parse_claim("-ERR syntax error\r\n", 19, 100, &off, &vlen),
        OA2F_REPLY_REFUSED);
    /* anything else is an error: other errors, bad lengths, too large,
     * the wrong end, a second reply behind it */
    ck_assert_int_eq(
        oa2f_lock_parse_claim("-WRONGTYPE x\r\n", 14, 100, &off, &vlen),
        OA2F_REPLY_ERROR);
    ck_assert_int_eq(oa2f_lock_parse_claim("-ERR max number of clients "
                                           "reached\r\n",
                                           36, 100, &off, &vlen),
                     OA2F_REPLY_ERROR);
    ck_assert_int_eq(oa2f_lock_parse_claim("+OK\r\n", 5, 100, &off, &vlen),
                     OA2F_REPLY_ERROR);
    ck_assert_int_eq(oa2f_lock_parse_claim("$-2\r\n", 5, 100, &off, &vlen),
                     OA2F_REPLY_ERROR);
    ck_assert_int_eq(oa2f_lock_parse_claim("$\r\n", 3, 100, &off, &vlen),
                     OA2F_REPLY_ERROR);
    ck_assert_int_eq(oa2f_lock_parse_claim("$02\r\nlo\r\n", 9, 100, &off,
                                           &vlen),
                     OA2F_REPLY_ERROR);
    ck_assert_int_eq(
        oa2f_lock_parse_claim("$12345678901\r\n", 14, 100, &off, &vlen),
        OA2F_REPLY_ERROR);
    ck_assert_int_eq(oa2f_lock_parse_claim("$97\r\n", 5, 100, &off, &vlen),
                     OA2F_REPLY_ERROR);
    ck_assert_int_eq(
        oa2f_lock_parse_claim("$5\r\nhelloXY", 11, 100, &off, &vlen),
        OA2F_REPLY_ERROR);
    ck_assert_int_eq(
        oa2f_lock_parse_claim("$1\r\nh\r\n+OK\r\n", 12, 100, &off, &vlen),
        OA2F_REPLY_ERROR);

    ck_assert(oa2f_lock_is_claim((const unsigned char *)OA2F_CLAIM_PREFIX "x",
                                 sizeof(OA2F_CLAIM_PREFIX)));
    ck_assert(!oa2f_lock_is_claim((const unsigned char *)"OA2N", 4));
}
END_TEST

/* The client: taken, busy (a claim is there), found (a copy of the
 * value), refused (the connection stays usable), too large (failed). */
START_TEST(test_claim_client)
{
    static const char *const script[] = {
        "$-1\r\n", "$26\r\n" OA2F_CLAIM_PREFIX "him\r\n", "$5\r\nv\r\nlu\r\n",
        "-ERR syntax error\r\n", "$40\r\n0123456789012345678901234567890123456789\r\n"
    };
    apr_thread_t *th;
    server_t *sv = server(script, UT_N(script), &th);
    oa2f_lock_conn_t *c = connect_to(sv, OA2F_LOCK_REDIS);
    unsigned char *v = NULL;
    apr_size_t n = 0;

    ck_assert_int_eq(oa2f_lock_claim(c, ut_pool, "e", "me", 6000, 64, &v, &n),
                     OA2F_CLAIM_TAKEN);
    ck_assert_int_eq(oa2f_lock_claim(c, ut_pool, "e", "me", 6000, 64, &v, &n),
                     OA2F_CLAIM_BUSY);
    ck_assert_int_eq(oa2f_lock_claim(c, ut_pool, "e", "me", 6000, 64, &v, &n),
                     OA2F_CLAIM_FOUND);
    ck_assert_uint_eq(n, 5);
    ck_assert(!memcmp(v, "v\r\nlu", 5));
    ck_assert_int_eq(oa2f_lock_claim(c, ut_pool, "e", "me", 6000, 64, &v, &n),
                     OA2F_CLAIM_REFUSED);
    ck_assert_int_eq(oa2f_lock_conn_alive(c), 1);
    ck_assert_int_eq(oa2f_lock_claim(c, ut_pool, "e", "me", 6000, 8, &v, &n),
                     OA2F_CLAIM_FAILED);
    ck_assert_int_eq(oa2f_lock_conn_alive(c), 0);
    done(th);
    ck_assert(strstr(sv->received, "$2\r\nNX\r\n$2\r\nPX\r\n$4\r\n6000\r\n"
                                   "$3\r\nGET\r\n"));
}
END_TEST

START_TEST(test_lock_client_memcache)
{
    static const char *const script[] = {
        "NOT_STORED\r\n", "STORED\r\n", "VALUE lk 0 2 42\r\nme\r\nEND\r\n",
        "STORED\r\n",     "STORED\r\n", "VALUE lk 0 5 43\r\nother\r\nEND\r\n",
        "STORED\r\n",     "END\r\n",    "DELETED\r\n",
        "NOT_FOUND\r\n"
    };
    apr_thread_t *th;
    server_t *sv = server(script, UT_N(script), &th);
    oa2f_lock_conn_t *c = connect_to(sv, OA2F_LOCK_MEMCACHE);

    ck_assert_int_eq(oa2f_lock_take(c, "lk", "me", 6000), OA2F_LOCK_BUSY);
    ck_assert_int_eq(oa2f_lock_take(c, "lk", "me", 6000), OA2F_LOCK_TAKEN);
    /* ours: gets, then cas with our unique and an expiry in the past */
    ck_assert_int_eq(oa2f_lock_release(c, "lk", "me"), 1);
    ck_assert_int_eq(oa2f_lock_take(c, "lk", "me", 6000), OA2F_LOCK_TAKEN);
    /* another holder's by now: no cas */
    ck_assert_int_eq(oa2f_lock_release(c, "lk", "me"), 0);
    ck_assert_int_eq(oa2f_lock_take(c, "lk", "me", 6000), OA2F_LOCK_TAKEN);
    /* gone already */
    ck_assert_int_eq(oa2f_lock_release(c, "lk", "me"), 0);
    ck_assert_int_eq(oa2f_lock_drop(c, "lk"), 1);
    ck_assert_int_eq(oa2f_lock_drop(c, "lk"), 0);
    oa2f_lock_close(c);
    done(th);
    ck_assert(strstr(sv->received, "add lk 0 7 2\r\nme\r\n"));
    ck_assert(strstr(sv->received, "gets lk\r\ncas lk 0 -1 2 42\r\nme\r\n"));
    ck_assert_ptr_null(strstr(sv->received, "cas lk 0 -1 2 43"));
    ck_assert(strstr(sv->received, "delete lk\r\ndelete lk\r\n"));
}
END_TEST

/* A server that errs, closes, or is not there: NONE (or -1), never a
 * lock, and the connection is not used again. */
START_TEST(test_lock_client_failures)
{
    static const char *const errs[] = { "-ERR wrong\r\n" };
    static const char *const closes[] = { NULL };
    apr_thread_t *th;
    server_t *sv;
    oa2f_lock_conn_t *c = NULL;
    apr_socket_t *probe;
    apr_sockaddr_t *sa;
    apr_port_t dead;

    sv = server(errs, UT_N(errs), &th);
    c = connect_to(sv, OA2F_LOCK_REDIS);
    ck_assert_int_eq(oa2f_lock_take(c, "lk", "me", 6000), OA2F_LOCK_NONE);
    ck_assert_int_eq(oa2f_lock_take(c, "lk", "me", 6000), OA2F_LOCK_NONE);
    ck_assert_int_eq(oa2f_lock_release(c, "lk", "me"), -1);
    done(th);

    sv = server(closes, UT_N(closes), &th);
    c = connect_to(sv, OA2F_LOCK_MEMCACHE);
    ck_assert_int_eq(oa2f_lock_take(c, "lk", "me", 6000), OA2F_LOCK_NONE);
    done(th);

    /* a port nobody listens on (bound, then closed) */
    ck_assert_int_eq(
        apr_sockaddr_info_get(&sa, "127.0.0.1", APR_INET, 0, 0, ut_pool),
        APR_SUCCESS);
    ck_assert_int_eq(apr_socket_create(&probe, APR_INET, SOCK_STREAM,
                                       APR_PROTO_TCP, ut_pool),
                     APR_SUCCESS);
    ck_assert_int_eq(apr_socket_bind(probe, sa), APR_SUCCESS);
    apr_socket_addr_get(&sa, APR_LOCAL, probe);
    dead = sa->port;
    apr_socket_close(probe);
    c = NULL;
    ck_assert_int_ne(oa2f_lock_connect(ut_pool, OA2F_LOCK_REDIS, "127.0.0.1",
                                       dead, apr_time_from_msec(200), &c),
                     APR_SUCCESS);
    ck_assert_ptr_null(c);
    ck_assert_int_eq(oa2f_lock_take(NULL, "lk", "me", 6000), OA2F_LOCK_NONE);
}
END_TEST

Suite *fleet_lock_suite(void)
{
    Suite *s = suite_create("fleet_lock");
    TCase *tc = ut_tcase("fleet_lock");

    tcase_add_test(tc, test_lock_ttl);
    tcase_add_test(tc, test_lock_wait_backoff);
    tcase_add_test(tc, test_lock_name);
    tcase_add_test(tc, test_lock_requests);
    tcase_add_test(tc, test_lock_replies);
    tcase_add_test(tc, test_lock_drop_replies);
    tcase_add_test(tc, test_lock_gets_replies);
    tcase_add_test(tc, test_lock_client_redis);
    tcase_add_test(tc, test_lock_client_memcache);
    tcase_add_test(tc, test_claim_wire);
    tcase_add_test(tc, test_claim_client);
    tcase_add_test(tc, test_lock_client_failures);
    suite_add_tcase(s, tc);
    return s;
}
