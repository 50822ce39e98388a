/* The rocksdb window backend (window_rocks.h), judged against the memory engine: the same random
 * out-of-order stream (late and too-late records, batches of random size, a watermark after each)
 * goes through both, with sinks that pause every other firing step, and the results must be equal
 * record for record, doubles bit for bit. Then checkpoints: restore into a fresh engine (all key
 * groups, or split in two by key group) and go on; still the same results. Each test works in its
 * own mkdtemp directory, removed by the teardown (which cmocka runs after a failed test too). */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <ftw.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "actors/dataflow/record/keygroup.h"
#include "actors/dataflow/window/agg.h"
#include "actors/dataflow/window/window.h"
#include "actors/dataflow/window/window_rocks.h"
#include "bus/base/error.h"
#include "bus/base/splitmix.h"
#include "tests/support/window.h"
#include "tests/support/window_oracle.h"

#define NCOL 2
#define MAXP 128

/* ---- fixture: a temporary directory ---- */

typedef struct {
    char dir[64];
    wr_window_t *mem, *rk[2];
} fx_t;

static int s_rm(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
    (void)st, (void)flag, (void)ftw;
    return remove(path);
}

static int setup(void **state)
{
    fx_t *f = calloc(1, sizeof *f);
    if (!f) return -1;
    snprintf(f->dir, sizeof f->dir, "/tmp/test_window_rocks.XXXXXX");
    if (!mkdtemp(f->dir)) {
        free(f);
        return -1;
    }
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    fx_t *f = *state;
    wr_window_destroy(&f->mem);
    wr_window_destroy(&f->rk[0]);
    wr_window_destroy(&f->rk[1]);
    nftw(f->dir, s_rm, 16, FTW_DEPTH | FTW_PHYS);
    free(f);
    return 0;
}

static const char *s_path(const fx_t *f, const char *name)
{
    static char buf[4][128];
    static int i;
    char *p = buf[i++ % 4];
    snprintf(p, sizeof buf[0], "%s/%s", f->dir, name);
    return p;
}

/* ---- results (collected by tests/support/window.h) ---- */

/* got (possibly from several engines, seq in emission order within each) equals want. */
static void s_same(ws_out_t *got, ws_out_t *want)
{
    qsort(got->r, got->n, sizeof *got->r, ws_res_cmp);
    qsort(want->r, want->n, sizeof *want->r, ws_res_cmp);
    assert_int_equal(got->n, want->n);
    assert_int_equal(got->nlate, want->nlate);
    for (size_t i = 0; i < got->n; i++) {
        const ws_res_t *a = &got->r[i], *b = &want->r[i];
        if (a->key != b->key || a->start != b->start || a->end != b->end || a->count != b->count ||
            a->late != b->late || memcmp(a->v, b->v, sizeof a->v))
            fail_msg("result %zu differs: key %llu [%lld, %lld) count %llu/%llu late %u/%u "
                     "v0 %.17g/%.17g",
                     i, (unsigned long long)a->key, (long long)a->start, (long long)a->end,
                     (unsigned long long)a->count, (unsigned long long)b->count, a->late, b->late,
                     a->v[0], b->v[0]);
    }
}

/* ---- the stream ---- */

typedef struct {
    uint64_t rng;
    int64_t t, max_ts, ooo, late_by;
    uint32_t nkeys;
} gen_t;

/* A batch of n records: times advancing ~7 ms a record with out-of-orderness ooo, 3% late by up
 * to late_by, values with fractions (sums are order-sensitive). Returns the watermark after it. */
static int64_t s_batch(gen_t *g, size_t n, uint64_t *keys, int64_t *ts, double *c0, double *c1)
{
    for (size_t i = 0; i < n; i++) {
        uint64_t r = wr_splitmix64(&g->rng);
        keys[i] = 1000 + r % g->nkeys * 7919;
        g->t += (int64_t)(r >> 20) % 15;
        int64_t t = g->t - (int64_t)((r >> 30) % (uint64_t)g->ooo);
        if ((r >> 50) % 100 < 3) t = g->t - g->ooo - (int64_t)((r >> 8) % (uint64_t)g->late_by);
        ts[i] = t;
        if (t > g->max_ts) g->max_ts = t;
        c0[i] = (double)((r >> 12) % 100000) / 7.0;
        c1[i] = -(double)((r >> 24) % 1000) / 3.0;
    }
    return g->max_ts - g->ooo;
}

static wr_window_spec_t s_spec(wr_window_kind_t kind, int64_t size, int64_t slide, int64_t late)
{
    wr_window_spec_t s = {.kind = kind,
                          .size_ms = size,
                          .slide_ms = slide,
                          .lateness_ms = late,
                          .ncols = NCOL,
                          .naggs = 8,
                          .max_parallelism = MAXP};
    wr_agg_t aggs[8] = {{WR_AGG_COUNT, 0, 0}, {WR_AGG_SUM, 0, 0},   {WR_AGG_MIN, 0, 0},
                        {WR_AGG_MAX, 1, 0},   {WR_AGG_AVG, 1, 0},   {WR_AGG_FIRST, 0, 0},
                        {WR_AGG_LAST, 1, 0},  {WR_AGG_STDDEV, 0, 0}};
    memcpy(s.aggs, aggs, sizeof aggs);
    return s;
}

/* The seed's aggregates and then some: every kind with quantiles p50, p95, p99 of column 0 (with
 * its min and max) and p95 of column 1 (whose min and max only the clamp reads). */
static wr_window_spec_t s_qspec(wr_window_kind_t kind, int64_t size, int64_t slide, int64_t late)
{
    wr_window_spec_t s = s_spec(kind, size, slide, late);
    const wr_agg_t aggs[] = {
        {WR_AGG_COUNT, 0, 0},       {WR_AGG_SUM, 0, 0},         {WR_AGG_AVG, 0, 0},
        {WR_AGG_MIN, 0, 0},         {WR_AGG_MAX, 0, 0},         {WR_AGG_QUANTILE, 0, 0.5},
        {WR_AGG_QUANTILE, 0, 0.95}, {WR_AGG_QUANTILE, 0, 0.99}, {WR_AGG_QUANTILE, 1, 0.95},
        {WR_AGG_STDDEV, 1, 0},      {WR_AGG_LAST, 1, 0}};
    s.naggs = sizeof aggs / sizeof aggs[0];
    memcpy(s.aggs, aggs, sizeof aggs);
    return s;
}

static wr_window_spec_t s_rocks(wr_window_spec_t s, const char *dir)
{
    s.backend = WR_WINDOW_BACKEND_ROCKSDB;
    s.state_dir = dir;
    return s;
}

static uint32_t s_kg(uint64_t key)
{
    return wr_key_group(wr_hash_u64(key), MAXP);
}

/* Feeds rows [0, n) with key group in [kg_lo, kg_hi) to w. */
static void s_add(wr_window_t *w, const uint64_t *keys, const int64_t *ts, const double *c0,
                  const double *c1, size_t n, uint32_t kg_lo, uint32_t kg_hi,
                  const wr_window_sink_t *sink)
{
    uint64_t k[512];
    int64_t t[512];
    double a[512], b[512];
    size_t m = 0;
    for (size_t i = 0; i < n; i++) {
        uint32_t kg = s_kg(keys[i]);
        if (kg < kg_lo || kg >= kg_hi) continue;
        k[m] = keys[i], t[m] = ts[i], a[m] = c0[i], b[m] = c1[i];
        m++;
    }
    const double *cols[NCOL] = {a, b};
    assert_int_equal(wr_window_add(w, k, t, cols, m, sink), 0);
}

/* Runs `batches` batches through the memory engine and through f->rk (one engine, or two split at
 * key group MAXP / 2 after a checkpoint at batch ckpt_at: restored with `split`; another
 * checkpoint three batches before, so that a restore reads open panes from several deltas). */
static void s_compare_run(fx_t *f, wr_window_spec_t spec, gen_t g, int batches, int ckpt_at,
                          bool split)
{
    ws_out_t want = {.naggs = spec.naggs}, got = {.naggs = spec.naggs, .pausing = true};
    wr_window_sink_t ms = {.emit = ws_emit, .late = ws_late, .full = ws_full, .ctx = &want};
    wr_window_sink_t rs = {.emit = ws_emit, .late = ws_late, .full = ws_full, .ctx = &got};
    int err = 0;
    assert_non_null(f->mem = wr_window_new(&spec, &err));
    wr_window_spec_t rspec = s_rocks(spec, s_path(f, "db0"));
    assert_non_null(f->rk[0] = wr_window_new(&rspec, &err));
    uint32_t ranges[2][2] = {{0, MAXP}, {0, 0}};
    uint64_t keys[512];
    int64_t ts[512];
    double c0[512], c1[512];
    for (int b = 0; b < batches; b++) {
        if (ckpt_at >= 3 && b == ckpt_at - 3) { /* an earlier one: open panes get two deltas */
            wr_panestore_files_t files;
            assert_int_equal(wr_window_rocks_checkpoint(f->rk[0], s_path(f, "ck0"), &files), 0);
            wr_panestore_files_release(&files);
        }
        if (b == ckpt_at) {
            wr_panestore_files_t files;
            assert_int_equal(wr_window_rocks_checkpoint(f->rk[0], s_path(f, "ck"), &files), 0);
            assert_true(files.n >= 2 && files.new_bytes <= files.total_bytes);
            wr_panestore_files_release(&files);
            wr_window_destroy(&f->rk[0]);
            if (split) {
                ranges[0][1] = ranges[1][0] = MAXP / 2;
                ranges[1][1] = MAXP;
            }
            for (int e = 0; e < (split ? 2 : 1); e++) {
                wr_window_spec_t s2 = s_rocks(spec, s_path(f, e ? "db2" : "db1"));
                f->rk[e] =
                    wr_window_rocks_restore(&s2, s_path(f, "ck"), ranges[e][0], ranges[e][1], &err);
                assert_non_null(f->rk[e]);
            }
        }
        size_t n = 1 + wr_splitmix64(&g.rng) % 400;
        int64_t wm = s_batch(&g, n, keys, ts, c0, c1);
        const double *cols[NCOL] = {c0, c1};
        assert_int_equal(wr_window_add(f->mem, keys, ts, cols, n, &ms), 0);
        for (int e = 0; e < 2 && f->rk[e]; e++)
            s_add(f->rk[e], keys, ts, c0, c1, n, ranges[e][0], ranges[e][1], &rs);
        assert_int_equal(ws_advance(f->mem, wm, &ms), 0);
        for (int e = 0; e < 2 && f->rk[e]; e++)
            assert_int_equal(ws_advance(f->rk[e], wm, &rs), 0);
    }
    assert_int_equal(ws_advance(f->mem, INT64_MAX, &ms), 0);
    for (int e = 0; e < 2 && f->rk[e]; e++)
        assert_int_equal(ws_advance(f->rk[e], INT64_MAX, &rs), 0);
    assert_true(want.n > 1000);
    assert_true(got.pauses > 0);
    s_same(&got, &want);
    wr_window_stats_t st;
    wr_window_stats(f->rk[0], &st);
    assert_true(st.spill_panes > 0);          /* late records went into closed panes */
    for (int e = 0; e < 2 && f->rk[e]; e++) { /* every sketch was freed */
        wr_window_stats(f->rk[e], &st);
        assert_int_equal(st.sketches, 0);
    }
    ws_out_free(&got);
    ws_out_free(&want);
}

/* ---- tests ---- */

static void test_tumbling_matches_memory(void **state)
{
    gen_t g = {.rng = 1, .t = 100000, .ooo = 300, .late_by = 3000, .nkeys = 60};
    s_compare_run(*state, s_spec(WR_WINDOW_TUMBLING, 1000, 0, 1500), g, 300, -1, false);
}

static void test_sliding_matches_memory(void **state)
{
    gen_t g = {.rng = 2, .t = -50000, .ooo = 400, .late_by = 4000, .nkeys = 80};
    s_compare_run(*state, s_spec(WR_WINDOW_SLIDING, 2000, 500, 1200), g, 300, -1, false);
}

static void test_sliding_uneven_panes(void **state)
{
    /* panes of gcd(1500, 600) = 300 ms: 5 per window, 2 per slide; no lateness */
    gen_t g = {.rng = 3, .t = 7, .ooo = 250, .late_by = 2000, .nkeys = 40};
    s_compare_run(*state, s_spec(WR_WINDOW_SLIDING, 1500, 600, 0), g, 250, -1, false);
}

static void test_checkpoint_restore_continues(void **state)
{
    gen_t g = {.rng = 4, .t = 100000, .ooo = 400, .late_by = 4000, .nkeys = 70};
    s_compare_run(*state, s_spec(WR_WINDOW_SLIDING, 2000, 500, 1200), g, 300, 150, false);
}

static void test_restore_split_by_key_group(void **state)
{
    gen_t g = {.rng = 5, .t = 100000, .ooo = 400, .late_by = 4000, .nkeys = 70};
    s_compare_run(*state, s_spec(WR_WINDOW_SLIDING, 2000, 1000, 1000), g, 300, 120, true);
}

/* ---- quantiles: sketches stored in the pane runs ---- */

static void test_quantiles_tumbling_match_memory(void **state)
{
    gen_t g = {.rng = 11, .t = 100000, .ooo = 300, .late_by = 3000, .nkeys = 60};
    s_compare_run(*state, s_qspec(WR_WINDOW_TUMBLING, 1000, 0, 1500), g, 200, -1, false);
}

static void test_quantiles_sliding_match_memory(void **state)
{
    gen_t g = {.rng = 12, .t = -50000, .ooo = 400, .late_by = 4000, .nkeys = 80};
    s_compare_run(*state, s_qspec(WR_WINDOW_SLIDING, 2000, 500, 1200), g, 200, -1, false);
}

static void test_quantiles_checkpoint_restore_continues(void **state)
{
    gen_t g = {.rng = 13, .t = 100000, .ooo = 400, .late_by = 4000, .nkeys = 70};
    s_compare_run(*state, s_qspec(WR_WINDOW_SLIDING, 2000, 500, 1200), g, 200, 100, false);
}

/* Panes of 20 s stay open through about 14 batches: both checkpoints write deltas of the same
 * open panes, and the restore must take the later over the earlier. */
static void test_quantiles_restore_reads_several_deltas(void **state)
{
    gen_t g = {.rng = 17, .t = 100000, .ooo = 400, .late_by = 6000, .nkeys = 150};
    s_compare_run(*state, s_qspec(WR_WINDOW_TUMBLING, 20000, 0, 5000), g, 200, 100, false);
}

static void test_quantiles_restore_split_by_key_group(void **state)
{
    gen_t g = {.rng = 14, .t = 100000, .ooo = 400, .late_by = 4000, .nkeys = 70};
    s_compare_run(*state, s_qspec(WR_WINDOW_TUMBLING, 1000, 0, 1000), g, 200, 90, true);
}

/* Against the brute-force oracle (exact quantiles, within the sketch's bound), every aggregate. */
static void test_quantiles_oracle(void **state)
{
    fx_t *f = *state;
    wo_run_t r = {.spec = {.kind = WR_WINDOW_SLIDING, .size_ms = 4000, .slide_ms = 1000},
                  .seed = 21,
                  .nkeys = 7,
                  .batches = 120,
                  .max_batch = 90,
                  .step = 40,
                  .jitter = 1500,
                  .late_frac = 0.05,
                  .late_span = 3000,
                  .pause = true};
    wo_all_aggs(&r.spec);
    r.spec.lateness_ms = 2000;
    r.spec = s_rocks(r.spec, s_path(f, "oracle1"));
    wo_stats_t st = wo_run(&r);
    assert_true(st.fired > 100 && st.refires > 0);
    r.spec.kind = WR_WINDOW_TUMBLING;
    r.spec.size_ms = 3000;
    r.spec.state_dir = s_path(f, "oracle2");
    r.seed = 22;
    st = wo_run(&r);
    assert_true(st.fired > 50 && st.refires > 0);
}

static void test_quantiles_within_min_max(void **state)
{
    fx_t *f = *state;
    wr_window_spec_t s = s_rocks(s_spec(WR_WINDOW_TUMBLING, 1000, 0, 0), s_path(f, "c1"));
    wo_check_clamp(&s);
    s = s_rocks(s_spec(WR_WINDOW_SLIDING, 2000, 500, 0), s_path(f, "c2"));
    wo_check_clamp(&s);
}

/* f->rk[0]: a window of spec with three records, two panes fired and one open, checkpointed into
 * ck. */
static void s_small_checkpoint(fx_t *f, const wr_window_spec_t *spec)
{
    int err = 0;
    assert_non_null(f->rk[0] = wr_window_new(spec, &err));
    uint64_t keys[3] = {1, 2, 3};
    int64_t ts[3] = {10, 1500, 2500};
    double v[3] = {1, 2, 3};
    const double *cols[NCOL] = {v, v};
    assert_int_equal(wr_window_add(f->rk[0], keys, ts, cols, 3, NULL), 0);
    assert_int_equal(wr_window_advance(f->rk[0], 1999, NULL), 0);
    wr_panestore_files_t files;
    assert_int_equal(wr_window_rocks_checkpoint(f->rk[0], s_path(f, "ck"), &files), 0);
    wr_panestore_files_release(&files);
}

/* A checkpoint holds sketches of one accuracy and aggregate list: another is refused. */
static void test_restore_into_other_aggregates_refused(void **state)
{
    fx_t *f = *state;
    wr_window_spec_t spec = s_rocks(s_qspec(WR_WINDOW_TUMBLING, 1000, 0, 0), s_path(f, "db"));
    int err = 0;
    s_small_checkpoint(f, &spec);
    wr_window_spec_t other = spec;
    other.state_dir = s_path(f, "db2");
    other.sketch_alpha = 0.02;
    assert_null(wr_window_rocks_restore(&other, s_path(f, "ck"), 0, MAXP, &err));
    assert_int_equal(err, WR_EINVAL);
    other = spec;
    other.state_dir = s_path(f, "db3");
    other.aggs[6].q = 0.9;
    assert_null(wr_window_rocks_restore(&other, s_path(f, "ck"), 0, MAXP, &err));
    assert_int_equal(err, WR_EINVAL);
    other = spec;
    other.state_dir = s_path(f, "db4");
    assert_non_null(f->rk[1] = wr_window_rocks_restore(&other, s_path(f, "ck"), 0, MAXP, &err));
}

/* A checkpoint written before quantiles ran on rocksdb (open.wro version 2: no aggregates'
 * fingerprint) restores into the same window; one with quantiles is refused (WR_EINVAL). */
static void test_version_2_checkpoints_still_restore(void **state)
{
    fx_t *f = *state;
    wr_window_spec_t spec = s_rocks(s_spec(WR_WINDOW_TUMBLING, 1000, 0, 0), s_path(f, "db"));
    int err = 0;
    s_small_checkpoint(f, &spec);
    /* as version 2 wrote it: version 2, 13 header fields, the FNV-1a 64 of the rest at the end */
    const char *path = s_path(f, "ck/" WR_WINDOW_ROCKS_OPEN_FILE);
    uint8_t b[4096];
    FILE *fp = fopen(path, "rb");
    assert_non_null(fp);
    size_t n = fread(b, 1, sizeof b, fp);
    fclose(fp);
    assert_true(n > 14 * 8 + 8 && n < sizeof b);
    memmove(b + 13 * 8, b + 14 * 8, n - 14 * 8);
    n -= 8;
    b[8] = 2;
    uint64_t h = 1469598103934665603ULL;
    for (size_t i = 0; i < n - 8; i++)
        h = (h ^ b[i]) * 1099511628211ULL;
    memcpy(b + n - 8, &h, 8);
    assert_non_null(fp = fopen(path, "wb"));
    assert_int_equal(fwrite(b, 1, n, fp), n);
    assert_int_equal(fclose(fp), 0);
    wr_window_spec_t s2 = spec;
    s2.state_dir = s_path(f, "db2");
    assert_non_null(f->rk[1] = wr_window_rocks_restore(&s2, s_path(f, "ck"), 0, MAXP, &err));
    ws_out_t x = {.naggs = spec.naggs}, y = {.naggs = spec.naggs};
    wr_window_sink_t sx = {.emit = ws_emit, .ctx = &x}, sy = {.emit = ws_emit, .ctx = &y};
    assert_int_equal(wr_window_advance(f->rk[0], INT64_MAX, &sx), 0);
    assert_int_equal(wr_window_advance(f->rk[1], INT64_MAX, &sy), 0);
    assert_int_equal(x.n, 1); /* [2000, 3000): the other two fired before the checkpoint */
    s_same(&y, &x);
    ws_out_free(&x);
    ws_out_free(&y);
    wr_window_spec_t q = s_qspec(WR_WINDOW_TUMBLING, 1000, 0, 0);
    q.naggs = 7; /* count .. p95 of column 0 */
    q = s_rocks(q, s_path(f, "db3"));
    assert_null(wr_window_rocks_restore(&q, s_path(f, "ck"), 0, MAXP, &err));
    assert_int_equal(err, WR_EINVAL);
}

/* put_run_tails's encode for a damaged entry: each sketch field says 1 entry, held in the field
 * (sketch.h), where a zero word stands (bucket key 0, count 0: not a valid entry); no tail. */
static const void *s_damaged(void *ctx, size_t i, uint8_t *acc, size_t *len)
{
    const wr__agg_layout_t *l = ctx;
    static const uint8_t zeros[4];
    uint32_t one = 1;
    (void)i;
    for (uint32_t f = 0; f < l->nfields; f++)
        if (l->f[f].kind == WR__F_SKETCH) {
            memset(acc + l->f[f].off, 0, WR__SKF_BYTES);
            memcpy(acc + l->f[f].off, &one, 4);
        }
    *len = 0;
    return zeros;
}

/* A stored pane whose sketches are damaged (on disk after a crash, in a checkpoint) fails the
 * firing that reads it with WR_EPROTO: no crash, nothing read from a bad handle. */
static void test_damaged_stored_sketches_fail_the_firing(void **state)
{
    fx_t *f = *state;
    wr_window_spec_t spec = s_rocks(s_qspec(WR_WINDOW_SLIDING, 2000, 1000, 0), s_path(f, "db"));
    int err = 0;
    assert_non_null(f->rk[0] = wr_window_new(&spec, &err));
    uint64_t keys[2] = {7, 7};
    int64_t ts[2] = {3500, 4500}; /* panes 3 and 4 */
    double v[2] = {1.5, 2.5};
    const double *cols[NCOL] = {v, v};
    assert_int_equal(wr_window_add(f->rk[0], keys, ts, cols, 2, NULL), 0);
    assert_int_equal(wr_window_advance(f->rk[0], 3999, NULL), 0); /* pane 3 stored */
    wr_panestore_files_t files;
    assert_int_equal(wr_window_rocks_checkpoint(f->rk[0], s_path(f, "ck"), &files), 0);
    wr_panestore_files_release(&files);
    wr_window_destroy(&f->rk[0]);
    /* pane 3 of the checkpoint's store is replaced by a damaged one */
    wr__agg_layout_t l;
    assert_int_equal(wr__agg_layout(&l, spec.aggs, spec.naggs, spec.ncols), 0);
    wr_panestore_config_t cfg = {.acc_size = l.size, .tails = true};
    wr_panestore_t *ps = wr_panestore_open(s_path(f, "ck/db"), &cfg, &err);
    assert_non_null(ps);
    uint16_t kg = (uint16_t)s_kg(7);
    uint8_t acc[WR__MAX_ACC];
    memcpy(acc, l.empty, l.size);
    memcpy(acc, &(uint32_t){1}, 4);
    int rc = wr_panestore_drop_pane(ps, 3);
    if (!rc) rc = wr_panestore_put_run_tails(ps, 3, &kg, keys, acc, 1, s_damaged, &l);
    wr_panestore_close(&ps);
    assert_int_equal(rc, 0);
    wr_window_spec_t s2 = spec;
    s2.state_dir = s_path(f, "db2");
    assert_non_null(f->rk[1] = wr_window_rocks_restore(&s2, s_path(f, "ck"), 0, MAXP, &err));
    /* window [3000, 5000): pane 3 from the store, pane 4 closing now */
    assert_int_equal(wr_window_advance(f->rk[1], 4999, NULL), WR_EPROTO);
}

static void test_checkpoint_is_incremental(void **state)
{
    fx_t *f = *state;
    wr_window_spec_t spec = s_rocks(s_spec(WR_WINDOW_TUMBLING, 1000, 0, 0), s_path(f, "db"));
    int err = 0;
    assert_non_null(f->rk[0] = wr_window_new(&spec, &err));
    uint64_t keys[500];
    int64_t ts[500];
    double v[500];
    const double *cols[NCOL] = {v, v};
    for (int64_t p = 0; p < 5; p++) { /* 5 panes of 500 keys, closed */
        for (int i = 0; i < 500; i++)
            keys[i] = (uint64_t)i, ts[i] = p * 1000 + i, v[i] = i;
        assert_int_equal(wr_window_add(f->rk[0], keys, ts, cols, 500, NULL), 0);
        assert_int_equal(wr_window_advance(f->rk[0], p * 1000 + 999, NULL), 0);
    }
    wr_panestore_files_t a, b;
    assert_int_equal(wr_window_rocks_checkpoint(f->rk[0], s_path(f, "ck1"), &a), 0);
    assert_int_equal(a.new_bytes, a.total_bytes);
    for (int i = 0; i < 5; i++) /* 1% of the keys change: the open pane only */
        keys[i] = (uint64_t)i, ts[i] = 5000 + i, v[i] = i;
    assert_int_equal(wr_window_add(f->rk[0], keys, ts, cols, 5, NULL), 0);
    assert_int_equal(wr_window_rocks_checkpoint(f->rk[0], s_path(f, "ck1"), &b), WR_EEXIST);
    assert_int_equal(wr_window_rocks_checkpoint(f->rk[0], s_path(f, "ck2"), &b), 0);
    assert_true(b.total_bytes >= a.total_bytes);
    /* the one new SST file is the open pane's delta: the 5 changed keys */
    uint64_t min_run = UINT64_MAX, new_sst = 0, nnew = 0;
    for (size_t i = 0; i < a.n; i++)
        if (strstr(a.v[i].name, ".sst") && a.v[i].bytes < min_run) min_run = a.v[i].bytes;
    for (size_t i = 0; i < b.n; i++)
        if (strstr(b.v[i].name, ".sst") && b.v[i].is_new) new_sst += b.v[i].bytes, nnew++;
    assert_int_equal(nnew, 1);
    assert_true(new_sst < min_run);
    wr_panestore_files_release(&a);
    wr_panestore_files_release(&b);
    /* the chain of deltas restores the open pane: the same results as the original */
    for (int i = 0; i < 5; i++)
        keys[i] = (uint64_t)(100 + i), ts[i] = 5100 + i, v[i] = 0.5 * i;
    assert_int_equal(wr_window_add(f->rk[0], keys, ts, cols, 5, NULL), 0);
    assert_int_equal(wr_window_rocks_checkpoint(f->rk[0], s_path(f, "ck3"), &b), 0);
    wr_panestore_files_release(&b);
    wr_window_spec_t s2 = spec;
    s2.state_dir = s_path(f, "db2");
    assert_non_null(f->rk[1] = wr_window_rocks_restore(&s2, s_path(f, "ck3"), 0, MAXP, &err));
    ws_out_t x = {.naggs = spec.naggs}, y = {.naggs = spec.naggs};
    wr_window_sink_t sx = {.emit = ws_emit, .ctx = &x}, sy = {.emit = ws_emit, .ctx = &y};
    assert_int_equal(wr_window_advance(f->rk[0], INT64_MAX, &sx), 0);
    assert_int_equal(wr_window_advance(f->rk[1], INT64_MAX, &sy), 0);
    assert_int_equal(x.n, 10);
    s_same(&y, &x);
    ws_out_free(&x);
    ws_out_free(&y);
}

static void test_rejects_what_it_does_not_support(void **state)
{
    fx_t *f = *state;
    int err = 0;
    wr_window_spec_t s = s_rocks(s_spec(WR_WINDOW_SESSION, 0, 0, 0), s_path(f, "x"));
    s.gap_ms = 1000;
    assert_null(wr_window_new(&s, &err));
    assert_int_equal(err, WR_EINVAL);
    s = s_rocks(s_spec(WR_WINDOW_SLIDING, 65000, 1000, 0), s_path(f, "x")); /* 65 panes */
    assert_null(wr_window_new(&s, &err));
    assert_int_equal(err, WR_EINVAL);
    s = s_rocks(s_spec(WR_WINDOW_TUMBLING, 1000, 0, 0), NULL);
    assert_null(wr_window_new(&s, &err));
    assert_int_equal(err, WR_EINVAL);
    s = s_rocks(s_spec(WR_WINDOW_TUMBLING, 1000, 0, 0), s_path(f, "y"));
    assert_null(wr_window_rocks_restore(&s, s_path(f, "no-such-checkpoint"), 0, MAXP, &err));
    assert_int_equal(err, WR_EPROTO);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_tumbling_matches_memory, setup, teardown),
        cmocka_unit_test_setup_teardown(test_sliding_matches_memory, setup, teardown),
        cmocka_unit_test_setup_teardown(test_sliding_uneven_panes, setup, teardown),
        cmocka_unit_test_setup_teardown(test_checkpoint_restore_continues, setup, teardown),
        cmocka_unit_test_setup_teardown(test_restore_split_by_key_group, setup, teardown),
        cmocka_unit_test_setup_teardown(test_quantiles_tumbling_match_memory, setup, teardown),
        cmocka_unit_test_setup_teardown(test_quantiles_sliding_match_memory, setup, teardown),
        cmocka_unit_test_setup_teardown(test_quantiles_checkpoint_restore_continues, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_quantiles_restore_reads_several_deltas, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_quantiles_restore_split_by_key_group, setup, teardown),
        cmocka_unit_test_setup_teardown(test_quantiles_oracle, setup, teardown),
        cmocka_unit_test_setup_teardown(test_quantiles_within_min_max, setup, teardown),
        cmocka_unit_test_setup_teardown(test_restore_into_other_aggregates_refused, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_version_2_checkpoints_still_restore, setup, teardown),
        cmocka_unit_test_setup_teardown(test_damaged_stored_sketches_fail_the_firing, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_checkpoint_is_incremental, setup, teardown),
        cmocka_unit_test_setup_teardown(test_rejects_what_it_does_not_support, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
