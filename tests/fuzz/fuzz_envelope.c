/* libFuzzer target: the envelope decoder, the first code that touches bytes from the network.
 * Whatever decodes must re-encode and decode to the same envelope, in no more bytes than it came
 * in (the encoder writes the shortest forms); its payload must render as JSON without harm. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "bus/envelope.h"
#include "bus/base/error.h"
#include "bus/json.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void s_same(const wr_envelope_t *a, const wr_envelope_t *b)
{
    if (a->type != b->type || a->corr != b->corr || a->epoch != b->epoch ||
        strcmp(a->from, b->from) != 0 || strcmp(a->to, b->to) != 0 ||
        a->payload_len != b->payload_len ||
        (a->payload_len > 0 && memcmp(a->payload, b->payload, a->payload_len) != 0))
        abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    wr_envelope_t env, again;
    if (wr_envelope_decode(data, size, WR_PAYLOAD_DEFAULT_MAX, &env) != 0) return 0;

    msgpack_sbuffer sb;
    msgpack_sbuffer_init(&sb);
    if (wr_envelope_encode(&env, &sb) != 0 || sb.size > size) abort();
    if (wr_envelope_decode((const uint8_t *)sb.data, sb.size, env.payload_len, &again) != 0)
        abort();
    s_same(&env, &again);
    if (env.payload_len > 0 && wr_envelope_decode((const uint8_t *)sb.data, sb.size,
                                                  env.payload_len - 1, &again) != WR_ETOOBIG)
        abort();
    msgpack_sbuffer_destroy(&sb);

    wr_strbuf_t js;
    wr_strbuf_init(&js);
    wr_mp_to_json(env.payload, env.payload_len, 4096, &js);
    if (js.len > 4096 + 3) abort();
    wr_strbuf_release(&js);
    return 0;
}
