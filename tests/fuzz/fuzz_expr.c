/* libFuzzer target: the expression compiler, which reads user text (topology files), and the
 * evaluator over whatever compiles. Input: the expression text, against a fixed schema; a
 * compiled expression is evaluated twice over a fixed batch of 600 records (two chunks, edge
 * values, empty strings) and must give the same values both times, agree with its own select,
 * and count divisions by zero the same way each time. */
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "actors/dataflow/expr/expr.h"
#include "bus/base/error.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define S_N 600

static wr_schema_t s_schema;
static wr_batch_t *s_batch;

static void s_setup(void)
{
    static const char *const names[] = {"device", "ts", "temp", "ok", "seq", "note", "hum", "n"};
    static const enum wr_type types[] = {WR_T_STRING, WR_T_TIME,   WR_T_DOUBLE, WR_T_BOOL,
                                         WR_T_INT,    WR_T_STRING, WR_T_DOUBLE, WR_T_INT};
    static const char *const words[] = {"", "a", "dev-1", "dev-10", "\xff", "x\"y"};
    static const int64_t ints[] = {0, 1, -1, 7, INT64_MAX, INT64_MIN, 1 << 20};
    static const double dbls[] = {0.0, -0.0, 1.5, -3, 1e300, -1e300, 30.5};
    wr_schema_init(&s_schema);
    for (int f = 0; f < 8; f++)
        if (wr_schema_add(&s_schema, names[f], types[f]) != 0) abort();
    s_batch = wr_batch_new(&s_schema, S_N);
    if (!s_batch) abort();
    for (uint32_t i = 0; i < S_N; i++) {
        const char *d = words[i % 6], *note = words[(i / 6) % 6];
        if (wr_batch_push_str(s_batch, 0, d, (uint32_t)strlen(d)) != 0 ||
            wr_batch_push_str(s_batch, 5, note, (uint32_t)strlen(note)) != 0)
            abort();
        wr_batch_i64(s_batch, 1)[i] = 1700000000000 + (int64_t)i * 1000;
        wr_batch_f64(s_batch, 2)[i] = i % 11 == 10 ? NAN : i % 13 == 12 ? INFINITY : dbls[i % 7];
        wr_batch_i64(s_batch, 3)[i] = i & 1;
        wr_batch_i64(s_batch, 4)[i] = ints[i % 7];
        wr_batch_f64(s_batch, 6)[i] = (double)i / 8 - 30;
        wr_batch_i64(s_batch, 7)[i] = ints[(i / 7) % 7];
        s_batch->count++;
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (!s_batch) s_setup();
    char *src = malloc(size + 1);
    if (!src) return 0;
    memcpy(src, data, size);
    src[size] = 0;
    wr_strbuf_t err;
    wr_strbuf_init(&err);
    wr_expr_t *e = wr_expr_compile(src, &s_schema, &err);
    free(src);
    if (!e) {
        /* One line, naming the column. */
        if (err.len == 0 || strncmp(err.buf, "column ", 7) != 0 || strchr(err.buf, '\n')) abort();
        wr_strbuf_release(&err);
        return 0;
    }
    if (err.len != 0) abort();
    wr_strbuf_release(&err);

    enum wr_type t = wr_expr_type(e);
    int f = wr_expr_field(e);
    if (f >= 8 || (t == WR_T_STRING && f < 0)) abort();
    if (t == WR_T_STRING) {
        if (wr_expr_eval(e, s_batch, NULL) != WR_EINVAL) abort();
        goto out;
    }
    int64_t a[S_N], b[S_N];
    uint32_t sel[S_N], n = 0;
    if (wr_expr_eval(e, s_batch, a) != 0) abort();
    uint64_t dz = wr_expr_div_zero(e);
    if (wr_expr_eval(e, s_batch, b) != 0 || memcmp(a, b, sizeof a) != 0) abort();
    if (wr_expr_div_zero(e) != 2 * dz) abort();
    if (t == WR_T_BOOL) {
        for (uint32_t i = 0; i < S_N; i++)
            if ((uint64_t)a[i] > 1) abort();
        if (wr_expr_select(e, s_batch, sel, &n) != 0) abort();
        uint32_t k = 0;
        for (uint32_t i = 0; i < S_N; i++)
            if (a[i] && (k >= n || sel[k++] != i)) abort();
        if (k != n) abort();
    } else if (wr_expr_select(e, s_batch, sel, &n) != WR_EINVAL) {
        abort();
    }
out:
    wr_expr_destroy(&e);
    return 0;
}
