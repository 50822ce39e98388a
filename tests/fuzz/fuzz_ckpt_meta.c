/* libFuzzer target: the checkpoint metadata decoder on untrusted bytes. Each input is tried twice:
 * as a whole file (header, length and CRC checks), and as a payload framed with a correct header
 * so that the fuzzer reaches the msgpack and validation code behind the CRC. Checks that failures
 * use the documented codes and leave no result, and that whatever decodes re-encodes to a
 * canonical image that decodes again to the same bytes. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "bus/base/error.h"
#include "state/ckpt_meta.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void s_put_be32(uint8_t *p, uint32_t v)
{
    for (int i = 0; i < 4; i++)
        p[i] = (uint8_t)(v >> (24 - 8 * i));
}

static void s_check(const uint8_t *data, size_t size)
{
    wr_ckpt_meta_t *m = NULL;
    int rc = wr_ckpt_meta_decode(data, size, &m);
    if (rc != 0) {
        if (m || (rc != WR_EPROTO && rc != WR_EVERSION && rc != WR_ETOOBIG && rc != WR_ENOMEM))
            abort();
        return;
    }
    if (!m) abort();
    (void)wr_ckpt_meta_full_size(m);
    wr_strbuf_t a, b;
    wr_strbuf_init(&a);
    wr_strbuf_init(&b);
    wr_ckpt_meta_t *again = NULL;
    if (wr_ckpt_meta_encode(m, &a) != 0) abort(); /* what decodes is valid */
    if (wr_ckpt_meta_decode(a.buf, a.len, &again) != 0) abort();
    if (wr_ckpt_meta_encode(again, &b) != 0 || a.len != b.len || memcmp(a.buf, b.buf, a.len))
        abort();
    if (again->id != m->id || again->ntasks != m->ntasks || strcmp(again->job, m->job)) abort();
    wr_ckpt_meta_destroy(&again);
    wr_ckpt_meta_destroy(&m);
    wr_strbuf_release(&a);
    wr_strbuf_release(&b);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    s_check(data, size);
    if (size > WR_CKPT_META_MAX - WR_CKPT_META_HDR) return 0;
    uint8_t *framed = malloc(WR_CKPT_META_HDR + size);
    if (!framed) return 0;
    memcpy(framed, "WRCK", 4);
    s_put_be32(framed + 4, WR_CKPT_META_VERSION);
    s_put_be32(framed + 8, (uint32_t)size);
    s_put_be32(framed + 12, wr_ckpt_crc32(data, size));
    if (size > 0) memcpy(framed + WR_CKPT_META_HDR, data, size);
    s_check(framed, WR_CKPT_META_HDR + size);
    free(framed);
    return 0;
}
