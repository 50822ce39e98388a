/* libFuzzer target: the file source's text parser (JSON lines and CSV) on arbitrary bytes. The
 * first byte picks format, header, bad-line policy, schema and chunk size; the rest is the file.
 * Checks: no crash or leak; only documented errors; the parser always makes progress at the end
 * of input; offsets increase and lie inside the input; one-shot and chunked parsing agree; any
 * number the parser accepts is exactly what strtod makes of it. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "actors/dataflow/record/batch.h"
#include "actors/connectors/textin.h"
#include "bus/base/error.h"
#include "bus/base/numparse.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

enum { S_CAP = 7, S_MAX_RECORDS = 4096 };

static void s_schema(int which, wr_schema_t *s)
{
    wr_schema_init(s);
    switch (which) {
    case 0:
        wr_schema_add(s, "id", WR_T_INT);
        wr_schema_add(s, "temp", WR_T_DOUBLE);
        wr_schema_add(s, "ok", WR_T_BOOL);
        wr_schema_add(s, "ts", WR_T_TIME);
        wr_schema_add(s, "name", WR_T_STRING);
        break;
    case 1:
        wr_schema_add(s, "s", WR_T_STRING);
        break;
    case 2:
        wr_schema_add(s, "ts", WR_T_TIME);
        wr_schema_add(s, "a", WR_T_STRING);
        wr_schema_add(s, "b", WR_T_STRING);
        break;
    default:
        wr_schema_add(s, "x", WR_T_DOUBLE);
        wr_schema_add(s, "n", WR_T_INT);
        break;
    }
}

typedef struct {
    uint64_t offsets[S_MAX_RECORDS];
    uint32_t n;
    uint64_t bad;
    int rc;
} s_run_t;

/* Parses text in chunks of `chunk` bytes (0: all at once) into batches of S_CAP records. */
static void s_run(const wr_schema_t *schema, const wr_textin_options_t *opt, const char *text,
                  size_t len, size_t chunk, s_run_t *out)
{
    wr_textin_t *t = wr_textin_new(schema, opt);
    wr_batch_t *b = wr_batch_new(schema, S_CAP);
    uint64_t *offs = b ? malloc(b->cap * sizeof *offs) : NULL;
    if (!t || !b || !offs) abort();
    size_t pos = 0, fed = chunk ? 0 : len;
    out->n = 0;
    out->rc = 0;
    for (;;) {
        if (chunk && fed < len) fed = fed + chunk < len ? fed + chunk : len;
        bool eof = fed == len;
        wr_batch_clear(b);
        size_t used = 0;
        int rc = wr_textin_parse(t, text + pos, fed - pos, eof, b, offs, &used);
        if (used > fed - pos) abort();
        if (rc && rc != WR_EPROTO && rc != WR_ETOOBIG) abort();
        if (b->count != 0 && rc == 0 && used == 0) abort();
        for (uint32_t i = 0; i < b->count; i++) {
            if (offs[i] >= pos + used || offs[i] < (out->n ? out->offsets[out->n - 1] + 1 : 0))
                abort();
            for (uint32_t f = 0; f < schema->n; f++) {
                if (schema->f[f].type != WR_T_STRING) continue;
                uint32_t slen;
                const char *s = wr_batch_str(b, (int)f, i, &slen);
                if (slen > len || (slen && !s)) abort();
            }
            if (out->n < S_MAX_RECORDS) out->offsets[out->n++] = offs[i];
        }
        pos += used;
        if (wr_textin_stats(t)->offset != pos) abort();
        if (rc) {
            out->rc = rc;
            break;
        }
        if (eof && pos == len) break;
        if (eof && used == 0 && b->count == 0) abort(); /* stalled at the end of input */
    }
    out->bad = wr_textin_stats(t)->bad;
    free(offs);
    wr_batch_destroy(&b);
    wr_textin_destroy(&t);
}

static void s_numbers(const uint8_t *data, size_t size)
{
    char buf[80];
    size_t n = size < sizeof buf - 1 ? size : sizeof buf - 1;
    memcpy(buf, data, n);
    buf[n] = '\0';
    double d;
    if (wr_parse_double(buf, n, &d) == 0) {
        double want = strtod(buf, NULL);
        if (memcmp(&d, &want, sizeof d)) abort();
    }
    int64_t v;
    wr_parse_int(buf, n, &v);
    wr_parse_time(buf, n, &v);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1) return 0;
    uint8_t ctl = data[0];
    const char *text = (const char *)data + 1;
    size_t len = size - 1;
    s_numbers(data + 1, len);

    wr_schema_t schema;
    s_schema((ctl >> 3) & 3, &schema);
    wr_textin_options_t opt = {
        .format = ctl & 1 ? WR_TEXTIN_CSV : WR_TEXTIN_JSONL,
        .header = (ctl & 2) != 0,
        .on_error = ctl & 4 ? WR_TEXTIN_SKIP : WR_TEXTIN_FAIL,
        .max_line = ctl & 0x80 ? 24 : 0,
        .name = "fuzz",
    };
    static s_run_t whole, pieces;
    s_run(&schema, &opt, text, len, 0, &whole);
    s_run(&schema, &opt, text, len, 1 + ((ctl >> 5) & 3) * 5, &pieces);
    /* a short max_line changes where an overlong line is detected, not what is parsed */
    if (whole.rc != pieces.rc || whole.n != pieces.n || whole.bad != pieces.bad) abort();
    if (memcmp(whole.offsets, pieces.offsets, whole.n * sizeof *whole.offsets)) abort();
    return 0;
}
