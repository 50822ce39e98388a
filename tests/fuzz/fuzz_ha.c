/* libFuzzer target: the decoders of weir's HA values in etcd (state/etcd/ha.h) on raw, untrusted
 * bytes. Each must either refuse with WR_EPROTO leaving its outputs untouched, or give values
 * within the limits ha.h states that encode back to the very bytes decoded. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "bus/base/error.h"
#include "state/etcd/ha.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static bool s_node_id(const char *s)
{
    for (; *s; s++)
        if (!strchr("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_.-", *s))
            return false;
    return true;
}

static bool s_printable(const char *s)
{
    for (; *s; s++)
        if ((unsigned char)*s < 0x20 || *s == 0x7f) return false;
    return true;
}

/* out holds exactly the size bytes of data. */
static void s_same(const wr_strbuf_t *out, const uint8_t *data, size_t size)
{
    if (out->failed) return;
    if (out->len != size || memcmp(out->buf, data, size)) abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    wr_strbuf_t out;
    wr_strbuf_init(&out);

    wr_ha_addr_t a;
    memset(&a, 0x5a, sizeof a);
    int rc = wr_ha_addr_decode(data, size, &a);
    if (rc == 0) {
        size_t nlen = strnlen(a.node, sizeof a.node), elen = strnlen(a.endpoint, sizeof a.endpoint);
        if (nlen == 0 || nlen >= sizeof a.node || elen == 0 || elen >= sizeof a.endpoint) abort();
        if (!s_printable(a.endpoint) || !s_node_id(a.node)) abort();
        if (wr_ha_addr_encode(&a, &out)) abort(); /* what decodes encodes back, byte for byte */
        s_same(&out, data, size);
    } else {
        if (rc != WR_EPROTO) abort();
        for (size_t i = 0; i < sizeof a; i++) /* untouched */
            if (((const uint8_t *)&a)[i] != 0x5a) abort();
    }

    /* a pointer, into the size that the JobManager reads (and a tiny one) */
    static const size_t caps[] = {256, 4};
    for (size_t k = 0; k < sizeof caps / sizeof caps[0]; k++) {
        char path[256];
        memset(path, 0x5a, sizeof path);
        uint32_t attempt = 0x5a5a5a5a;
        rc = wr_ha_pointer_decode(data, size, &attempt, path, caps[k]);
        if (rc == 0) {
            size_t plen = strnlen(path, caps[k]);
            if (plen >= caps[k] || !s_printable(path)) abort();
            wr_strbuf_reset(&out);
            if (wr_ha_pointer_encode(attempt, path, &out)) abort();
            s_same(&out, data, size); /* so no leading zeros, no overflow */
        } else {
            if (rc != WR_EPROTO || attempt != 0x5a5a5a5a) abort();
            for (size_t i = 0; i < sizeof path; i++)
                if (path[i] != 0x5a) abort();
        }
    }
    wr_strbuf_release(&out);
    return 0;
}
