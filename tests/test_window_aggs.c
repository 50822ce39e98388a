/* wr_window's aggregates and specs: aggregate names parsed (avg, p95, median, quantile(q), ...),
 * first/last at tied times and the two standard deviations computed by hand, and every invalid
 * spec refused with WR_EINVAL. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "actors/dataflow/window/agg.h"
#include "actors/dataflow/window/window.h"
#include "bus/base/error.h"
#include "tests/support/window.h"
#include "tests/support/window_oracle.h"

static void test_agg_parse(void **state)
{
    (void)state;
    wr_agg_t a = {.col = 3};
    assert_int_equal(wr_agg_parse("avg", &a), 0);
    assert_true(a.kind == WR_AGG_AVG && a.col == 3);
    assert_int_equal(wr_agg_parse("p95", &a), 0);
    assert_true(a.kind == WR_AGG_QUANTILE && fabs(a.q - 0.95) < 1e-12);
    assert_int_equal(wr_agg_parse("p99.9", &a), 0);
    assert_true(fabs(a.q - 0.999) < 1e-12);
    assert_int_equal(wr_agg_parse("median", &a), 0);
    assert_true(a.q == 0.5);
    assert_int_equal(wr_agg_parse("quantile(0.25)", &a), 0);
    assert_true(a.q == 0.25);
    assert_int_equal(wr_agg_parse("stddev_samp", &a), 0);
    assert_int_equal(a.kind, WR_AGG_STDDEV_SAMP);
    assert_int_equal(wr_agg_parse("p101", &a), WR_EINVAL);
    assert_int_equal(wr_agg_parse("quantile(x)", &a), WR_EINVAL);
    assert_int_equal(wr_agg_parse("quantile", &a), WR_EINVAL);
    assert_int_equal(wr_agg_parse("avgx", &a), WR_EINVAL);
    assert_string_equal(wr_agg_name(WR_AGG_STDDEV), "stddev");
}

static void test_first_last_ties_and_stddev(void **state)
{
    (void)state;
    wr_window_spec_t spec = {.kind = WR_WINDOW_SLIDING, .size_ms = 2000, .slide_ms = 1000};
    const wr_agg_t aggs[] = {{WR_AGG_FIRST, 0, 0},  {WR_AGG_LAST, 0, 0},
                             {WR_AGG_STDDEV, 0, 0}, {WR_AGG_STDDEV_SAMP, 0, 0},
                             {WR_AGG_AVG, 0, 0},    {WR_AGG_QUANTILE, 0, 0.5},
                             {WR_AGG_COUNT, 0, 0}};
    spec.ncols = 1;
    spec.naggs = 7;
    memcpy(spec.aggs, aggs, sizeof aggs);
    wr_window_t *w = wr_window_new(&spec, NULL);
    assert_non_null(w);
    ws_out_t got = {.naggs = 7};
    wr_window_sink_t sink = {.emit = ws_emit, .ctx = &got};
    /* ts 1200 twice (first wins: 10), 1700 twice (last wins: 40), one earlier record at 100 */
    uint64_t k[] = {3, 3, 3, 3, 3};
    int64_t ts[] = {1200, 1700, 1200, 1700, 100};
    double v[] = {10, 30, 20, 40, 2};
    const double *cols[] = {v};
    assert_int_equal(wr_window_add(w, k, ts, cols, 5, &sink), 0);
    assert_int_equal(wr_window_advance(w, 1999, &sink), 0); /* [0,2000) */
    assert_int_equal(got.n, 2);
    qsort(got.r, got.n, sizeof *got.r, ws_res_cmp);
    const ws_res_t *a = &got.r[0], *b = &got.r[1]; /* [-1000,1000) then [0,2000) */
    assert_true(a->count == 1 && a->v[0] == 2 && a->v[1] == 2 && a->v[2] == 0 && isnan(a->v[3]));
    assert_true(b->start == 0 && b->count == 5);
    assert_true(b->v[0] == 2 && b->v[1] == 40);
    double mean = (10 + 30 + 20 + 40 + 2) / 5.0, m2 = 0;
    for (int i = 0; i < 5; i++)
        m2 += (v[i] - mean) * (v[i] - mean);
    assert_true(fabs(b->v[2] - sqrt(m2 / 5)) < 1e-12 * sqrt(m2));
    assert_true(fabs(b->v[3] - sqrt(m2 / 4)) < 1e-12 * sqrt(m2));
    assert_true(b->v[4] == 102 / 5.0);
    assert_true(fabs(b->v[5] - 20) <= 0.01 * 20); /* median of 2 10 20 30 40 */
    ws_out_clear(&got);
    /* [1000, 3000) holds the four records at 1200/1700: first 10 (earliest arrival at 1200) */
    assert_int_equal(wr_window_advance(w, 2999, &sink), 0);
    assert_int_equal(got.n, 1);
    assert_true(got.r[0].v[0] == 10 && got.r[0].v[1] == 40 && got.r[0].count == 4);
    ws_out_free(&got);
    wr_window_destroy(&w);
}

static void test_quantiles_stay_within_min_max(void **state)
{
    (void)state;
    wr_window_spec_t s = {.kind = WR_WINDOW_TUMBLING, .size_ms = 1000};
    wo_check_clamp(&s); /* one window per key: the per-window finish */
    s = (wr_window_spec_t){.kind = WR_WINDOW_SLIDING, .size_ms = 2000, .slide_ms = 500};
    wo_check_clamp(&s); /* a sweep over the ring: the block finish */
    s = (wr_window_spec_t){.kind = WR_WINDOW_SESSION, .gap_ms = 100};
    wo_check_clamp(&s);
}

static void test_bad_specs(void **state)
{
    (void)state;
    int err = 0;
    wr_window_spec_t ok = {.kind = WR_WINDOW_SLIDING, .size_ms = 1000, .slide_ms = 100};
    wo_basic_aggs(&ok);
    wr_window_t *w = wr_window_new(&ok, &err);
    assert_non_null(w);
    wr_window_destroy(&w);
    wr_window_spec_t bad[12];
    for (int i = 0; i < 12; i++)
        bad[i] = ok;
    bad[0].kind = 0;
    bad[1].slide_ms = 2000; /* slide > size */
    bad[2].size_ms = 0;
    bad[3].lateness_ms = -1;
    bad[4].naggs = 0;
    bad[5].aggs[1].col = WO_NCOL;    /* no such column */
    bad[6].ring_panes = 5;           /* fewer than a window's 10 panes */
    bad[7].slide_ms = 7;             /* gcd 1 ms: 1000 panes per window is fine... */
    bad[7].size_ms = 100003;         /* ...but 100003 is over WR_WINDOW_MAX_RING */
    bad[8].kind = WR_WINDOW_SESSION; /* gap 0 */
    bad[9].sketch_alpha = 1.5;
    bad[10].ahead_ms = -1;
    bad[11].key_interval_ms = -1;
    for (int i = 0; i < 12; i++) {
        err = 0;
        assert_null(wr_window_new(&bad[i], &err));
        assert_int_equal(err, WR_EINVAL);
    }
    assert_null(wr_window_new(NULL, &err));
    wr_window_spec_t roomy = ok;
    roomy.ring_panes = 12;
    assert_non_null(w = wr_window_new(&roomy, &err));
    wr_window_stats_t st;
    wr_window_stats(w, &st);
    assert_int_equal(st.ring_panes, 12);
    wr_window_destroy(&w);
}

/* The packed form (agg.h: memory snapshots; a sketch field of 4 bytes, its entry count, every
 * entry after the fields), built here field by field: wr__acc_pack writes exactly it, and it
 * unpacks into the same live accumulator as the stored form (rocksdb runs) loads into, small and
 * large sketches alike; short bytes are WR_EPROTO with nothing left allocated. */
static void test_packed_accumulators(void **state)
{
    (void)state;
    const wr_agg_t aggs[] = {{.kind = WR_AGG_COUNT},
                             {.kind = WR_AGG_SUM, .col = 0},
                             {.kind = WR_AGG_QUANTILE, .col = 0, .q = 0.5},
                             {.kind = WR_AGG_LAST, .col = 1},
                             {.kind = WR_AGG_QUANTILE, .col = 1, .q = 0.9}};
    wr__agg_layout_t l;
    assert_int_equal(wr__agg_layout(&l, aggs, 5, 2), 0);
    assert_int_equal(l.nsketch, 2);
    assert_int_equal(wr__agg_packed_size(&l), l.size - 2 * (WR__SKF_BYTES - 4));
    wr__sketch_pool_t *sk = wr__sketch_pool_new(0.01);
    assert_non_null(sk);
    static const int sizes[][2] = {{3, 10}, {10, 3}, {0, 6}, {7, 0}};
    for (size_t t = 0; t < sizeof sizes / sizeof sizes[0]; t++) {
        uint8_t acc[WR__MAX_ACC], st[WR__MAX_ACC], packed[WR__MAX_ACC + 256],
            mine[WR__MAX_ACC + 256], back[WR__MAX_ACC];
        memcpy(acc, l.empty, l.size);
        double c0[20], c1[20];
        const double *cols[2] = {c0, c1};
        int n = sizes[t][0] > sizes[t][1] ? sizes[t][0] : sizes[t][1];
        for (int i = 0; i < n; i++) { /* column 0: sizes[t][0] buckets, column 1: sizes[t][1] */
            c0[i] = sizes[t][0] ? 1.0 + (i % sizes[t][0]) : NAN;
            c1[i] = sizes[t][1] ? -5.0 * (1 + i % sizes[t][1]) : NAN;
            assert_int_equal(wr__acc_add(&l, acc, 1000 + i, cols, (size_t)i, sk), 0);
        }
        /* the packed bytes, field by field in layout order, then both sketches' entries */
        size_t lo = 0, tail = wr__agg_packed_size(&l);
        memcpy(packed, acc, 4);
        lo = 4;
        for (uint32_t i = 0; i < l.nfields; i++) {
            const uint8_t *f = acc + l.f[i].off;
            if (l.f[i].kind != WR__F_SKETCH) {
                size_t sz = i + 1 < l.nfields ? l.f[i + 1].off - l.f[i].off : l.size - l.f[i].off;
                memcpy(packed + lo, f, sz);
                lo += sz;
                continue;
            }
            wr__sketch_view_t v = wr__skf_view(sk, f);
            memcpy(packed + lo, &v.n, 4);
            lo += 4;
            if (v.n) memcpy(packed + tail, v.e, (size_t)v.n * 4);
            tail += (size_t)v.n * 4;
        }
        assert_int_equal(lo, wr__agg_packed_size(&l));
        wr__sketch_view_t pv[WR__MAX_FIELDS];
        size_t pb = wr__acc_pack(&l, acc, mine, sk, pv), mo = lo;
        assert_int_equal(pb, tail - lo);
        for (uint32_t k = 0; k < l.nsketch; k++) {
            if (pv[k].n) memcpy(mine + mo, pv[k].e, (size_t)pv[k].n * 4);
            mo += (size_t)pv[k].n * 4;
        }
        assert_memory_equal(mine, packed, tail);
        uint64_t live = wr__sketch_pool_live(sk);
        size_t used = 0;
        assert_int_equal(wr__acc_unpack(&l, back, packed, tail + 8, &used, sk), 0);
        assert_int_equal(used, tail);
        /* its length without reading it: the same, and none from a short prefix */
        assert_int_equal(wr__acc_packed_len(&l, packed, tail + 8), tail);
        for (size_t cut = 0; cut < tail; cut++)
            assert_int_equal(wr__acc_packed_len(&l, packed, cut), 0);
        /* the same as the current stored form loaded */
        memcpy(st, acc, l.size);
        const uint32_t *e[WR__MAX_FIELDS];
        uint32_t ne[WR__MAX_FIELDS];
        uint8_t tb[256];
        size_t tbytes = wr__acc_store(&l, st, sk, e, ne), off = 0;
        for (uint32_t k = 0; k < l.nsketch; k++) {
            if (ne[k]) memcpy(tb + off, e[k], (size_t)ne[k] * 4);
            off += (size_t)ne[k] * 4;
        }
        assert_int_equal(off, tbytes);
        assert_int_equal(wr__acc_check_stored(&l, st, tb, tbytes), 0);
        assert_memory_equal(back, acc, 4); /* the count */
        for (uint32_t i = 0; i < l.nfields; i++) {
            if (l.f[i].kind != WR__F_SKETCH) { /* the other fields: the same bytes */
                size_t sz = i + 1 < l.nfields ? l.f[i + 1].off - l.f[i].off : l.size - l.f[i].off;
                assert_memory_equal(back + l.f[i].off, acc + l.f[i].off, sz);
                continue;
            }
            wr__sketch_view_t a = wr__skf_view(sk, acc + l.f[i].off),
                              b = wr__skf_view(sk, back + l.f[i].off);
            assert_int_equal(a.n, b.n);
            if (a.n) assert_memory_equal(a.e, b.e, (size_t)a.n * 4);
        }
        assert_int_equal(wr__sketch_pool_live(sk), live + (sizes[t][0] > 0) + (sizes[t][1] > 0));
        wr__acc_free_sketches(&l, back, sk);
        if (tail > lo) { /* a short tail */
            assert_int_equal(wr__acc_unpack(&l, back, packed, tail - 4, &used, sk), WR_EPROTO);
            assert_int_equal(wr__sketch_pool_live(sk), live);
        }
        assert_int_equal(wr__acc_unpack(&l, back, packed, lo - 1, &used, sk), WR_EPROTO);
        wr__acc_free_sketches(&l, acc, sk);
        assert_int_equal(wr__sketch_pool_live(sk), 0);
    }
    wr__sketch_pool_destroy(&sk);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_agg_parse),
        cmocka_unit_test(test_first_last_ties_and_stddev),
        cmocka_unit_test(test_quantiles_stay_within_min_max),
        cmocka_unit_test(test_bad_specs),
        cmocka_unit_test(test_packed_accumulators),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
