/* wr_window and time: records within the allowed lateness re-fire their windows with the full
 * result, later ones go to the side output and are counted; empty batches, watermarks that stand
 * still, go back or jump far ahead; state dropped once no window needs it, and memory accounted
 * by key. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdlib.h>

#include "actors/dataflow/window/window.h"
#include "bus/base/error.h"
#include "tests/support/window.h"
#include "tests/support/window_oracle.h"

/* Late records within allowed lateness re-fire with the full result; later ones are side output. */
static void test_late_refire_and_side_output(void **state)
{
    (void)state;
    wr_window_spec_t spec = {.kind = WR_WINDOW_TUMBLING, .size_ms = 1000, .lateness_ms = 500};
    wo_basic_aggs(&spec);
    wr_window_t *w = wr_window_new(&spec, NULL);
    assert_non_null(w);
    ws_out_t got = {.naggs = 4};
    wr_window_sink_t sink = {.emit = ws_emit, .late = ws_late, .ctx = &got};
    double v[] = {5, 7, 9}, z[] = {0, 0, 0};
    const double *cols[] = {v, z};
    uint64_t k[] = {9, 9, 9};
    int64_t t1[] = {100, 900};
    assert_int_equal(wr_window_add(w, k, t1, cols, 2, &sink), 0);
    assert_int_equal(wr_window_advance(w, 1200, &sink), 0);
    assert_int_equal(got.n, 1);
    assert_true(got.r[0].count == 2 && got.r[0].v[1] == 12 && !got.r[0].late);
    ws_out_clear(&got);

    /* two late records in one batch: two re-fires, each with everything so far */
    int64_t t2[] = {300, 10, 1100};
    double v2[] = {1, 2, 3};
    const double *cols2[] = {v2, z};
    assert_int_equal(wr_window_add(w, k, t2, cols2, 3, &sink), 0);
    assert_int_equal(got.n, 2);
    assert_true(got.r[0].late && got.r[0].count == 3 && got.r[0].v[1] == 13);
    assert_true(got.r[1].late && got.r[1].count == 4 && got.r[1].v[1] == 15 && got.r[1].v[2] == 1);
    ws_out_clear(&got);

    /* past end - 1 + lateness = 1499 the window is gone: too late, side output, counted */
    assert_int_equal(wr_window_advance(w, 1499, &sink), 0);
    assert_int_equal(got.n, 0);
    int64_t t3[] = {999, 1999, 0};
    assert_int_equal(wr_window_add(w, k, t3, cols, 3, &sink), 0);
    assert_int_equal(got.nlate, 2);
    assert_int_equal(got.late_rows[0], 0);
    assert_int_equal(got.late_rows[1], 2);
    assert_int_equal(got.n, 0);
    wr_window_stats_t st;
    wr_window_stats(w, &st);
    assert_int_equal(st.dropped_late, 2);
    assert_int_equal(st.late_refires, 2);
    assert_int_equal(st.records_added, 6);
    assert_int_equal(st.keys_live, 1); /* [1000, 2000) holds 1100 and 1999 */
    /* without a late callback too-late records are still counted */
    wr_window_sink_t quiet = {.emit = ws_emit, .ctx = &got};
    assert_int_equal(wr_window_add(w, k, t3, cols, 1, &quiet), 0);
    wr_window_stats(w, &st);
    assert_int_equal(st.dropped_late, 3);
    ws_out_free(&got);
    wr_window_destroy(&w);
}

static void test_empty_batches_and_watermark_edges(void **state)
{
    (void)state;
    wr_window_spec_t spec = {.kind = WR_WINDOW_SLIDING, .size_ms = 4000, .slide_ms = 2000};
    wo_basic_aggs(&spec);
    wr_window_t *w = wr_window_new(&spec, NULL);
    assert_non_null(w);
    ws_out_t got = {.naggs = 4};
    wr_window_sink_t sink = {.emit = ws_emit, .late = ws_late, .ctx = &got};
    assert_int_equal(wr_window_watermark(w), WR_WINDOW_TS_MIN - 1);
    assert_int_equal(wr_window_add(w, NULL, NULL, NULL, 0, &sink), 0); /* empty batch */
    assert_int_equal(wr_window_add(w, NULL, NULL, NULL, 3, &sink), WR_EINVAL);
    assert_int_equal(wr_window_advance(w, 100, &sink), 0); /* nothing to fire */
    assert_int_equal(wr_window_advance(w, 100, &sink), 0); /* not advancing */
    assert_int_equal(wr_window_advance(w, 50, &sink), 0);  /* backwards */
    assert_int_equal(wr_window_watermark(w), 100);
    uint64_t k[] = {1, 2};
    int64_t ts[] = {5000, WR_WINDOW_TS_MAX + 1};
    double v[] = {1, 1}, z[] = {0, 0};
    const double *cols[] = {v, z};
    assert_int_equal(wr_window_add(w, k, ts, cols, 2, &sink), 0);
    assert_int_equal(got.nlate, 1); /* out of range: side output */
    assert_int_equal(got.late_rows[0], 1);
    /* jumping far ahead fires both windows of the record and drops everything */
    assert_int_equal(wr_window_advance(w, (int64_t)1 << 55, &sink), 0);
    assert_int_equal(got.n, 2);
    wr_window_stats_t st;
    wr_window_stats(w, &st);
    assert_int_equal(st.keys_live, 0);
    assert_int_equal(st.panes_live, 0);
    assert_int_equal(wr_window_advance(w, INT64_MAX, &sink), 0);
    assert_int_equal(got.n, 2);
    ws_out_free(&got);
    wr_window_destroy(&w);
}

/* State is dropped once no window needs it, and memory accounting follows the keys. */
static void test_state_dropped_and_memory(void **state)
{
    (void)state;
    enum { N = 300000 };
    wr_window_spec_t spec = {
        .kind = WR_WINDOW_SLIDING, .size_ms = 600000, .slide_ms = 60000, .expected_keys = 1000};
    wo_basic_aggs(&spec);
    wr_window_t *w = wr_window_new(&spec, NULL);
    assert_non_null(w);
    wr_window_stats_t st0, st;
    wr_window_stats(w, &st0);
    uint64_t *k = malloc(N * sizeof *k);
    int64_t *ts = malloc(N * sizeof *ts);
    double *v = malloc(N * sizeof *v);
    const double *cols[] = {v, v};
    for (int i = 0; i < N; i++) {
        k[i] = (uint64_t)i * 7919;
        ts[i] = 60000 * (i % 10);
        v[i] = i;
    }
    for (int i = 0; i < N; i += 10000) {
        const double *c[] = {v + i, v + i};
        assert_int_equal(wr_window_add(w, k + i, ts + i, c, 10000, NULL), 0);
    }
    (void)cols;
    wr_window_stats(w, &st);
    assert_int_equal(st.keys_live, N);
    assert_int_equal(st.panes_live, N);
    assert_int_equal(st.ring_panes, 10);
    /* every live key costs its entry (key + 10 x 28 bytes) and some index */
    assert_true(st.memory_bytes >= (uint64_t)N * (8 + 10 * 28) + st0.memory_bytes);
    assert_true(st.memory_bytes <= (uint64_t)N * (8 + 10 * 28 + 16) + st0.memory_bytes + (8 << 20));
    /* slide by slide (each sweep fires one window per key); keys with data only in pane 0 go
     * away once the window [0, 600000) is cleaned up */
    for (int64_t end = 60000; end <= 600000; end += 60000) {
        assert_int_equal(wr_window_advance(w, end - 1, NULL), 0);
        wr_window_stats(w, &st);
        assert_int_equal(st.keys_live, end < 600000 ? N : N - N / 10);
        assert_int_equal(st.panes_live, end < 600000 ? N : N - N / 10);
    }
    /* a key with its record in pane q is in windows [a, a + 10) with q - 9 <= a <= 0 that end by
     * 600000: 10 - q of them */
    assert_int_equal(st.windows_fired, N / 10 * 55);
    assert_int_equal(wr_window_advance(w, INT64_MAX, NULL), 0);
    wr_window_stats(w, &st);
    assert_int_equal(st.keys_live, 0);
    assert_int_equal(st.panes_live, 0);
    assert_true(st.memory_bytes < st0.memory_bytes + (64 << 20)); /* entry memory given back */
    free(k);
    free(ts);
    free(v);
    wr_window_destroy(&w);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_late_refire_and_side_output),
        cmocka_unit_test(test_empty_batches_and_watermark_edges),
        cmocka_unit_test(test_state_dropped_and_memory),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
