/* Fleet values with their expiry (see the header). */
#include <string.h>

#include "oa2f_near.h"

static const unsigned char MAGIC[4] = { 'O', 'A', '2', 'N' };
#define VERSION 1

void oa2f_near_wrap(apr_pool_t *p, long long until, const unsigned char *entry,
                    apr_size_t len, unsigned char **out, apr_size_t *out_len)
{
    unsigned char *o = apr_palloc(p, len + OA2F_NEAR_HEAD_LEN);
    unsigned long long u = (unsigned long long)until;

    memcpy(o, MAGIC, 4);
    o[4] = VERSION;
    for (int i = 0; i < 8; i++) {
        o[5 + i] = (unsigned char)(u >> (56 - 8 * i));
    }
    memcpy(o + OA2F_NEAR_HEAD_LEN, entry, len);
    *out = o;
    *out_len = len + OA2F_NEAR_HEAD_LEN;
}

int oa2f_near_unwrap(const unsigned char *buf, apr_size_t n, long long *until,
                     const unsigned char **entry, apr_size_t *len)
{
    unsigned long long u = 0;

    *until = 0;
    *entry = buf;
    *len = n;
    if (n <= OA2F_NEAR_HEAD_LEN || memcmp(buf, MAGIC, 4) != 0
        || buf[4] != VERSION) {
        return 0;
    }
    for (int i = 0; i < 8; i++) {
        u = (u << 8) | buf[5 + i];
    }
    if ((long long)u <= 0) {
        return 0;
    }
    *until = (long long)u;
    *entry = buf + OA2F_NEAR_HEAD_LEN;
    *len = n - OA2F_NEAR_HEAD_LEN;
    return 1;
}

long long oa2f_near_keep_until(long long want, long long fleet_until)
{
    return fleet_until > 0 && fleet_until < want ? fleet_until : want;
}
