/* wr_window: keyed event-time windows. First the plain use (records in, a watermark, the results
 * out), then every kind of window judged against a brute-force oracle over random out-of-order
 * streams (tests/support/window_oracle.h: Flink's WindowOperator, literally), results compared
 * record for record. Late records: test_window_late.c; aggregates and specs: test_window_aggs.c. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdlib.h>

#include "actors/dataflow/window/window.h"
#include "tests/support/window.h"
#include "tests/support/window_oracle.h"

static void test_sliding_happy_path(void **state)
{
    (void)state;
    wr_window_spec_t spec = {
        .kind = WR_WINDOW_SLIDING, .size_ms = 3000, .slide_ms = 1000, .expected_keys = 16};
    wo_basic_aggs(&spec);
    int err = 0;
    wr_window_t *w = wr_window_new(&spec, &err);
    assert_non_null(w);
    ws_out_t got = {.naggs = 4};
    wr_window_sink_t sink = {.emit = ws_emit, .late = ws_late, .ctx = &got};

    uint64_t keys[] = {1, 1, 2, 1};
    int64_t ts[] = {500, 1500, 1700, 2500};
    double v0[] = {1, 2, 10, 4}, v1[] = {0, 0, 0, 0};
    const double *cols[] = {v0, v1};
    assert_int_equal(wr_window_add(w, keys, ts, cols, 4, &sink), 0);
    assert_int_equal(got.n, 0);

    assert_int_equal(wr_window_advance(w, 999, &sink), 0); /* [-2000, 1000) */
    assert_int_equal(got.n, 1);
    assert_true(got.r[0].key == 1 && got.r[0].start == -2000 && got.r[0].end == 1000);
    assert_true(got.r[0].count == 1 && got.r[0].v[1] == 1 && !got.r[0].late);
    ws_out_clear(&got);

    assert_int_equal(wr_window_advance(w, 2999, &sink), 0); /* windows ending 2000 and 3000 */
    qsort(got.r, got.n, sizeof *got.r, ws_res_cmp);
    assert_int_equal(got.n, 4);
    assert_true(got.r[0].key == 1 && got.r[0].end == 2000 && got.r[0].v[1] == 3);
    assert_true(got.r[1].key == 1 && got.r[1].end == 3000 && got.r[1].count == 3);
    assert_true(got.r[1].v[1] == 7 && got.r[1].v[2] == 1 && got.r[1].v[3] == 4);
    assert_true(got.r[2].key == 2 && got.r[2].end == 2000 && got.r[2].v[0] == 1);
    assert_true(got.r[3].key == 2 && got.r[3].end == 3000 && got.r[3].v[1] == 10);
    ws_out_clear(&got);

    wr_window_stats_t st;
    wr_window_stats(w, &st);
    assert_int_equal(st.keys_live, 2);
    assert_int_equal(st.panes_live, 3); /* pane [0, 1000) went with window [0, 3000) */
    assert_int_equal(st.ring_panes, 3);
    assert_int_equal(st.pane_ms, 1000);

    assert_int_equal(wr_window_advance(w, 10000, &sink), 0); /* [1000,4000) and [2000,5000) */
    qsort(got.r, got.n, sizeof *got.r, ws_res_cmp);
    assert_int_equal(got.n, 3);
    assert_true(got.r[0].key == 1 && got.r[0].start == 1000 && got.r[0].v[1] == 6);
    assert_true(got.r[1].key == 1 && got.r[1].start == 2000 && got.r[1].v[1] == 4);
    assert_true(got.r[2].key == 2 && got.r[2].start == 1000 && got.r[2].v[1] == 10);
    wr_window_stats(w, &st);
    assert_int_equal(st.keys_live, 0);
    assert_int_equal(st.panes_live, 0);
    assert_int_equal(st.windows_fired, 8);
    assert_int_equal(st.records_added, 4);
    ws_out_free(&got);
    wr_window_destroy(&w);
    assert_null(w);
    wr_window_destroy(&w); /* NULL-safe */
}

static void test_sliding_oracle(void **state)
{
    (void)state;
    /* size not a multiple of slide (10/3: panes of 1 s), lateness, late and too-late records */
    for (uint64_t seed = 1; seed <= 10; seed++) {
        wo_run_t r = {.spec = {.kind = WR_WINDOW_SLIDING,
                               .size_ms = 10000,
                               .slide_ms = 3000,
                               .lateness_ms = seed % 3 == 0 ? 0 : 4500},
                      .seed = seed,
                      .nkeys = seed % 2 ? 3 : 400,
                      .batches = 250,
                      .max_batch = 150,
                      .t0 = seed == 4 ? -123456 : 1700000000000LL + (int64_t)seed * 777,
                      .step = 60,
                      .jitter = 2500,
                      .late_frac = 0.03,
                      .late_span = 20000,
                      .pause = seed % 2 == 0};
        wo_all_aggs(&r.spec);
        wo_stats_t st = wo_run(&r);
        assert_true(st.fired > 0);
        if (r.pause) assert_true(st.pauses > 0);
        if (r.spec.lateness_ms) assert_true(st.refires > 0);
        assert_true(st.dropped > 0);
    }
}

static void test_sliding_headline_shape(void **state)
{
    (void)state;
    /* 10 min / 1 min with out-of-orderness: a key briefly needs an 11th pane (the spill) */
    for (uint64_t seed = 11; seed <= 13; seed++) {
        wo_run_t r = {.spec = {.kind = WR_WINDOW_SLIDING,
                               .size_ms = 600000,
                               .slide_ms = 60000,
                               .lateness_ms = seed == 12 ? 30000 : 0,
                               .expected_keys = 1000},
                      .seed = seed,
                      .nkeys = seed == 13 ? 2000 : 50,
                      .batches = 250,
                      .max_batch = 200,
                      .t0 = 1700000000000LL,
                      .step = 300,
                      .jitter = 20000,
                      .late_frac = 0.01,
                      .late_span = 100000,
                      .pause = seed == 13};
        wo_basic_aggs(&r.spec);
        wo_stats_t st = wo_run(&r);
        assert_true(st.fired > 0);
        if (r.pause) assert_true(st.pauses > 0);
        assert_true(st.spill_max > 0);
    }
}

/* The same shape told how far records run ahead of the watermark (jitter + 1 and a batch's span
 * here): the ring has room for those panes, so such traffic never spills (seed 21, the watermark
 * following every batch), and results stay exact with late data and a wandering watermark. */
static void test_sliding_ahead_of_watermark(void **state)
{
    (void)state;
    for (uint64_t seed = 21; seed <= 23; seed++) {
        wo_run_t r = {.spec = {.kind = WR_WINDOW_SLIDING,
                               .size_ms = 600000,
                               .slide_ms = 60000,
                               .lateness_ms = seed == 22 ? 30000 : 0,
                               .ahead_ms = 20001 + 200 * 300,
                               .expected_keys = 1000},
                      .seed = seed,
                      .nkeys = seed == 23 ? 2000 : 50,
                      .batches = 250,
                      .max_batch = 200,
                      .t0 = 1700000000000LL,
                      .step = 300,
                      .jitter = 20000,
                      .late_frac = seed == 21 ? 0 : 0.01,
                      .late_span = 100000,
                      .pause = seed == 23,
                      .steady_wm = seed == 21};
        wo_basic_aggs(&r.spec);
        wo_stats_t st = wo_run(&r);
        assert_true(st.fired > 0);
        if (seed == 21) assert_int_equal(st.spill_max, 0);
    }
    int err = 0;
    wr_window_spec_t spec = {.kind = WR_WINDOW_SLIDING,
                             .size_ms = 600000,
                             .slide_ms = 60000,
                             .lateness_ms = 30000,
                             .ahead_ms = 5000};
    wo_basic_aggs(&spec);
    /* 10 panes, one for lateness, the ahead ones (at most 10), and those only when a quarter of
     * the keys or more would have such records at each slide */
    const struct {
        int64_t ahead, interval;
        uint32_t ring;
    } want[] = {{0, 0, 11},          {1, 0, 12},         {60000, 0, 12},    {60001, 0, 13},
                {3600000, 0, 21},    {5000, 20000, 12},  {5000, 20004, 11}, {5000, 600000, 11},
                {60001, 240004, 13}, {60001, 240008, 11}};
    for (size_t i = 0; i < sizeof want / sizeof want[0]; i++) {
        spec.ahead_ms = want[i].ahead;
        spec.key_interval_ms = want[i].interval;
        wr_window_t *w = wr_window_new(&spec, &err);
        assert_non_null(w);
        wr_window_stats_t ws;
        wr_window_stats(w, &ws);
        assert_int_equal(ws.ring_panes, want[i].ring);
        wr_window_destroy(&w);
    }
}

/* A ring larger than needed, quantiles and stddev through the spill and back into the ring. */
static void test_sliding_spill_all_aggs(void **state)
{
    (void)state;
    for (uint64_t seed = 15; seed <= 17; seed++) {
        wo_run_t r = {.spec = {.kind = WR_WINDOW_SLIDING,
                               .size_ms = 60000,
                               .slide_ms = 20000,
                               .lateness_ms = seed == 16 ? 25000 : 0,
                               .ring_panes = seed == 17 ? 7 : 0},
                      .seed = seed,
                      .nkeys = seed == 15 ? 5 : 300,
                      .batches = 250,
                      .max_batch = 120,
                      .t0 = 1700000000000LL,
                      .step = 200,
                      .jitter = 30000,
                      .late_frac = 0.02,
                      .late_span = 90000};
        wo_all_aggs(&r.spec);
        wo_stats_t st = wo_run(&r);
        assert_true(st.fired > 0 && st.dropped > 0);
        if (seed != 17) assert_true(st.spill_max > 0);
        if (seed == 16) assert_true(st.refires > 0);
    }
}

/* Keys far ahead of the watermark, in panes of a second: each key's spill chain (sorted by pane)
 * holds many panes, and records come to it out of order (jitter 20 s), before, at and after the
 * pane the key's last record went to (where s_spill_acc's walk starts when it can). */
static void test_sliding_long_spill_chains(void **state)
{
    (void)state;
    for (uint64_t seed = 18; seed <= 19; seed++) {
        wo_run_t r = {.spec = {.kind = WR_WINDOW_SLIDING,
                               .size_ms = 5000,
                               .slide_ms = 1000,
                               .lateness_ms = seed == 19 ? 3000 : 0},
                      .seed = seed,
                      .nkeys = 3,
                      .batches = 250,
                      .max_batch = 120,
                      .t0 = 1700000000000LL,
                      .step = 200,
                      .jitter = 20000,
                      .late_frac = 0.02,
                      .late_span = 9000,
                      .pause = seed == 19};
        wo_all_aggs(&r.spec);
        wo_stats_t st = wo_run(&r);
        print_message("  seed %llu: at most %llu panes spilled (3 keys)\n",
                      (unsigned long long)seed, (unsigned long long)st.spill_max);
        assert_true(st.fired > 0 && st.spill_max >= 3 * 10);
    }
}

static void test_tumbling_oracle(void **state)
{
    (void)state;
    for (uint64_t seed = 21; seed <= 28; seed++) {
        wo_run_t r = {.spec = {.kind = WR_WINDOW_TUMBLING,
                               .size_ms = 5000,
                               .lateness_ms = seed % 2 ? 3000 : 0},
                      .seed = seed,
                      .nkeys = seed == 23 ? 1000 : 4,
                      .batches = 250,
                      .max_batch = 120,
                      .t0 = seed == 24 ? -50000 : 1000,
                      .step = 40,
                      .jitter = 3000,
                      .late_frac = 0.04,
                      .late_span = 9000,
                      .pause = seed == 23};
        wo_all_aggs(&r.spec);
        wo_stats_t st = wo_run(&r);
        if (r.pause) assert_true(st.pauses > 0);
        assert_true(st.fired > 0 && st.dropped > 0);
        if (r.spec.lateness_ms) assert_true(st.refires > 0);
    }
}

static void test_session_oracle(void **state)
{
    (void)state;
    for (uint64_t seed = 31; seed <= 40; seed++) {
        wo_run_t r = {.spec = {.kind = WR_WINDOW_SESSION,
                               .gap_ms = 1000,
                               .lateness_ms = seed % 3 == 0 ? 0 : 2500},
                      .seed = seed,
                      .nkeys = seed % 2 ? 3 : 200,
                      .batches = 200,
                      .max_batch = 100,
                      .t0 = seed == 34 ? -99999 : 5000,
                      .step = seed % 2 ? 150 : 20,
                      .jitter = 1500,
                      .late_frac = 0.05,
                      .late_span = 6000,
                      .dyadic = true,
                      .pause = seed % 2 == 0};
        wo_all_aggs(&r.spec);
        wo_stats_t st = wo_run(&r);
        if (r.pause) assert_true(st.pauses > 0);
        assert_true(st.fired > 0 && st.dropped > 0);
        if (r.spec.lateness_ms) assert_true(st.refires > 0);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_sliding_happy_path),
        cmocka_unit_test(test_sliding_oracle),
        cmocka_unit_test(test_sliding_headline_shape),
        cmocka_unit_test(test_sliding_ahead_of_watermark),
        cmocka_unit_test(test_sliding_spill_all_aggs),
        cmocka_unit_test(test_sliding_long_spill_chains),
        cmocka_unit_test(test_tumbling_oracle),
        cmocka_unit_test(test_session_oracle),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
