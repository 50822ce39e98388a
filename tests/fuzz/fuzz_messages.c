/* libFuzzer target: the payload of every message type through its one declaration (bus/messages.h).
 * The first byte picks the type (a wire type number stands for itself; any other byte picks a
 * row of the table), the rest is the payload. Whatever decodes must encode, decode again to the
 * same encoding, and render as JSON with field names within its cap; what does not decode must
 * leave the struct zeroed and nothing allocated (the sanitizers check). */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "bus/base/error.h"
#include "bus/json.h"
#include "bus/messages.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const int s_types[] = {
#define S_ROW(num, name, wire, decl, doc) num,
    WR_MSG_TYPES(S_ROW)
#undef S_ROW
};

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1) return 0;
    int type =
        wr_msg_decl(data[0]) ? data[0] : s_types[data[0] % (sizeof s_types / sizeof s_types[0])];
    const wr_proto_struct_t *d = wr_msg_decl(type);
    const uint8_t *payload = data + 1;
    size_t len = size - 1;

    void *p = malloc(d->size), *q = malloc(d->size);
    if (!p || !q) abort();
    if (wr_proto_decode(d, payload, len, p) != 0) {
        for (size_t i = 0; i < d->size; i++)
            if (((char *)p)[i]) abort(); /* a failed decode leaves the struct zeroed */
        goto out;
    }
    msgpack_sbuffer a, b;
    msgpack_sbuffer_init(&a);
    msgpack_sbuffer_init(&b);
    /* canonical: the encoding of what decoded decodes to the same and encodes to the same bytes */
    if (wr_proto_pack(d, p, &a) != 0) abort();
    if (wr_proto_decode(d, a.data, a.size, q) != 0) abort();
    if (wr_proto_pack(d, q, &b) != 0) abort();
    if (a.size != b.size || (a.size && memcmp(a.data, b.data, a.size))) abort();
    wr_proto_release(d, q);

    wr_strbuf_t js;
    wr_strbuf_init(&js);
    wr_msg_payload_json(type, payload, len, 4096,
                        &js); /* (too deep for JSON once nested: refused) */
    if (js.len > 4096 + 3) abort();
    wr_strbuf_release(&js);
    msgpack_sbuffer_destroy(&a);
    msgpack_sbuffer_destroy(&b);
    wr_proto_release(d, p);
out:
    free(p);
    free(q);
    return 0;
}
