/* libFuzzer target: msgpack -> JSON and wr_mp_skip on raw, untrusted bytes. Checks that the two
 * agree on what is well-formed, that the output cap holds, and that no raw control byte reaches
 * the JSON text. */
#include <stdint.h>
#include <stdlib.h>

#include "bus/base/error.h"
#include "bus/json.h"
#include "bus/base/mp.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void s_no_control_bytes(const wr_strbuf_t *sb)
{
    for (size_t i = 0; i < sb->len; i++)
        if ((uint8_t)sb->buf[i] < 0x20) abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    /* every object in turn, as a decoder walking a batch would */
    wr_mp_reader_t r;
    wr_mp_reader_init(&r, data, size);
    while (wr_mp_remaining(&r) > 0 && wr_mp_skip(&r) == 0)
        ;
    bool well_formed = r.err == 0;

    wr_strbuf_t sb;
    wr_strbuf_init(&sb);
    int rc = wr_mp_to_json(data, size, SIZE_MAX, &sb);
    if ((rc == 0) != well_formed || (rc != 0 && rc != WR_EPROTO)) abort();
    if (rc == 0) s_no_control_bytes(&sb);

    /* again under a cap taken from the input, after some text already in the buffer */
    size_t cap = size > 0 ? (size_t)data[0] * 4 : 0;
    wr_strbuf_reset(&sb);
    wr_strbuf_adds(&sb, "x=");
    rc = wr_mp_to_json(data, size, cap, &sb);
    if (sb.len > 2 + cap + 3 || (rc != 0 && rc != WR_EPROTO) || (rc != 0 && well_formed)) abort();
    s_no_control_bytes(&sb);
    wr_strbuf_release(&sb);
    return 0;
}
