/* libFuzzer target: the record batch decoder, which reads DATA_BATCH bytes off the network.
 * Input: one byte choosing a schema, two bytes of record count (little-endian), then the wire
 * form. Whatever decodes is consistent, re-encodes to exactly the input (the form is canonical)
 * and survives a copy row by row. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "actors/dataflow/record/batch.h"
#include "bus/base/error.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char *const s_schemas[] = {
    "ns",     /* int, string */
    "sdtbns", /* every type */
    "s",      /* one string */
    "dd",     /* two doubles */
    "",       /* no fields */
    "sss",    /* strings only */
};

static void s_build(wr_schema_t *s, const char *types)
{
    wr_schema_init(s);
    for (int i = 0; types[i]; i++) {
        char name[8] = {'f', (char)('0' + i), 0};
        enum wr_type t = types[i] == 'n'   ? WR_T_INT
                         : types[i] == 'd' ? WR_T_DOUBLE
                         : types[i] == 't' ? WR_T_TIME
                         : types[i] == 'b' ? WR_T_BOOL
                                           : WR_T_STRING;
        if (wr_schema_add(s, name, t) != 0) abort();
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 3) return 0;
    wr_schema_t schema;
    s_build(&schema, s_schemas[data[0] % (sizeof s_schemas / sizeof s_schemas[0])]);
    uint32_t count = (uint32_t)data[1] | (uint32_t)data[2] << 8;
    const uint8_t *wire = data + 3;
    size_t len = size - 3;

    wr_batch_t *b = wr_batch_new(&schema, (uint32_t)(data[0] >> 4));
    wr_batch_t *copy = wr_batch_new(&schema, 0);
    if (!b || !copy) abort();
    int rc = wr_batch_decode(b, wire, len, count);
    if (rc != 0) {
        if (rc != WR_EPROTO || b->count != 0) abort();
        goto out;
    }
    if (b->count != count || wr_batch_encoded_size(b) != len) abort();
    for (uint32_t f = 0; f < schema.n; f++) {
        if (schema.f[f].type != WR_T_STRING) continue;
        const uint32_t *off = b->col[f];
        if (off[0] != 0 || off[count] != b->heap_len[f]) abort();
        for (uint32_t i = 0; i < count; i++)
            if (off[i] > off[i + 1]) abort();
    }
    uint8_t *out = malloc(len + 1);
    if (!out || wr_batch_encode(b, out) != len || (len && memcmp(out, wire, len) != 0)) abort();

    for (uint32_t i = 0; i < b->count; i++)
        if (wr_batch_append_row(copy, b, i) != 0) abort();
    if (wr_batch_encoded_size(copy) != len || wr_batch_encode(copy, out) != len ||
        (len && memcmp(out, wire, len) != 0))
        abort();
    free(out);
out:
    wr_batch_destroy(&b);
    wr_batch_destroy(&copy);
    return 0;
}
