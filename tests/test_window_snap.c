/* wr_window_snapshot / wr_window_restore: an engine restored from a snapshot (whole, split over
 * several engines by key group, several snapshots merged into one, keys remapped) must go on
 * exactly as the engine that was never interrupted: the oracle is that engine's own results after
 * the snapshot point, compared record for record (bit for bit). Damaged snapshots are refused
 * and leave the engine untouched. The walk that writes a snapshot stages its key groups in
 * batches: engines here walk in one batch, one group a batch or a few (by seed), and the bytes
 * must not depend on it.
 *
 * WEIR_SNAP_BENCH=1 adds a timing run: 5M keys x 10 panes of count/sum/min/max, snapshot to a
 * file under /tmp and restore from it. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "actors/dataflow/record/keygroup.h"
#include "actors/dataflow/window/window_snap.h"
#include "bus/base/error.h"

#define MAXP   16
#define NAGGS  7
#define NKEYS  300
#define STEPS  60
#define BATCH  200
#define NPARTS 3

/* ---- results ---- */

typedef struct {
    uint64_t key;
    int64_t start, end;
    uint64_t count;
    uint64_t late;
    double v[NAGGS];
} res_t;

typedef struct {
    res_t *r;
    size_t n, cap;
    uint64_t dropped;
    bool on; /* record only after the snapshot point */
    uint64_t (*unmap)(uint64_t key);
} out_t;

static void s_emit(void *ctx, const wr_window_results_t *r)
{
    out_t *o = ctx;
    if (!o->on) return;
    for (size_t i = 0; i < r->n; i++) {
        if (o->n == o->cap) {
            o->cap = o->cap ? o->cap * 2 : 1024;
            o->r = realloc(o->r, o->cap * sizeof *o->r);
            assert_non_null(o->r);
        }
        res_t *x = &o->r[o->n++];
        memset(x, 0, sizeof *x);
        x->key = o->unmap ? o->unmap(r->key[i]) : r->key[i];
        x->start = r->start[i];
        x->end = r->end[i];
        x->count = r->count[i];
        x->late = r->late[i];
        for (int a = 0; a < NAGGS; a++)
            x->v[a] = r->val[a][i];
    }
}

static void s_late(void *ctx, const uint32_t *rows, size_t n)
{
    (void)rows;
    out_t *o = ctx;
    if (o->on) o->dropped += n;
}

static int s_cmp_res(const void *a, const void *b)
{
    return memcmp(a, b, sizeof(res_t));
}

/* Every result of `want` is in `got` and nothing else (bit for bit). */
static void s_same(out_t *want, out_t *got)
{
    assert_true(want->n > 0);
    assert_int_equal(want->n, got->n);
    assert_int_equal(want->dropped, got->dropped);
    qsort(want->r, want->n, sizeof(res_t), s_cmp_res);
    qsort(got->r, got->n, sizeof(res_t), s_cmp_res);
    for (size_t i = 0; i < want->n; i++)
        if (memcmp(&want->r[i], &got->r[i], sizeof(res_t))) {
            fprintf(stderr, "result %zu: key %lu [%ld, %ld) count %lu vs key %lu [%ld, %ld) %lu\n",
                    i, want->r[i].key, want->r[i].start, want->r[i].end, want->r[i].count,
                    got->r[i].key, got->r[i].start, got->r[i].end, got->r[i].count);
            fail();
        }
}

/* ---- input: out of order, late, ahead of the watermark (spilled) ---- */

typedef struct {
    uint64_t key[STEPS * BATCH];
    int64_t ts[STEPS * BATCH];
    double val[STEPS * BATCH];
    int64_t wm[STEPS];
} input_t;

static uint64_t s_rng(uint64_t *s)
{
    *s = *s * 6364136223846793005ull + 1442695040888963407ull;
    return *s >> 33;
}

static void s_input(input_t *in, uint64_t seed)
{
    int64_t clock = 1000;
    for (int s = 0; s < STEPS; s++) {
        clock += 5;
        for (int i = 0; i < BATCH; i++) {
            size_t j = (size_t)s * BATCH + i;
            in->key[j] = s_rng(&seed) % NKEYS;
            in->ts[j] = clock - (int64_t)(s_rng(&seed) % 60); /* up to 30 ahead, 30 behind */
            in->val[j] = (double)(s_rng(&seed) % 1000) / 8 - 20;
        }
        in->wm[s] = clock - 30;
    }
}

static uint32_t s_kg(void *ctx, uint64_t key)
{
    (void)ctx;
    return wr_key_group(wr_hash_u64(key), MAXP);
}

static uint64_t s_map(void *ctx, uint64_t key)
{
    (void)ctx;
    return key ^ 0xabcdef0123ull;
}

static uint64_t s_unmap(uint64_t key)
{
    return key ^ 0xabcdef0123ull;
}

static wr_window_spec_t s_spec(wr_window_kind_t kind)
{
    wr_window_spec_t s = {.kind = kind, .lateness_ms = 20, .ncols = 1, .naggs = NAGGS};
    if (kind == WR_WINDOW_SESSION) {
        s.gap_ms = 15;
    } else {
        s.size_ms = kind == WR_WINDOW_SLIDING ? 40 : 10;
        s.slide_ms = 10;
    }
    const wr_agg_t aggs[NAGGS] = {
        {.kind = WR_AGG_COUNT},
        {.kind = WR_AGG_SUM},
        {.kind = WR_AGG_MIN},
        {.kind = WR_AGG_MAX},
        {.kind = WR_AGG_QUANTILE, .q = 0.5},
        {.kind = WR_AGG_QUANTILE, .q = 0.9},
        {.kind = WR_AGG_LAST},
    };
    memcpy(s.aggs, aggs, sizeof aggs);
    return s;
}

/* Segments written ahead (window_snap.h), as a subtask writes them: after each step of input,
 * one step of the one being written, or the next one begun. done: the ones written (the engine
 * lists them in its next main with their ids); written, used: how many were written, and how
 * many a main referenced. */
#define MAXSEG 64

typedef struct {
    wr_snap_writer_t *cur;
    int64_t cur_pane;
    struct {
        int64_t pane;
        uint8_t *b;
        size_t len;
    } done[MAXSEG];
    size_t ndone, written, used;
} ahead_t;

/* An engine fed with the records of steps [s0, s1) whose key group is in [lo, hi), keys mapped;
 * with ah, writing segments ahead between the steps. */
typedef struct {
    wr_window_t *w;
    uint32_t lo, hi;
    bool mapped;
    out_t out;
    ahead_t *ah;
} eng_t;

static uint32_t s_kg(void *ctx, uint64_t key);

/* The segment being written ahead is done (or was finished by a sweep): its bytes kept. */
static void s_ahead_keep(ahead_t *ah)
{
    assert_true(ah->ndone < MAXSEG);
    size_t len;
    const uint8_t *p = wr_snap_writer_mem(ah->cur, &len);
    uint8_t *copy = malloc(len);
    assert_non_null(copy);
    memcpy(copy, p, len);
    ah->done[ah->ndone].pane = ah->cur_pane;
    ah->done[ah->ndone].b = copy;
    ah->done[ah->ndone++].len = len;
    ah->written++;
    wr_snap_writer_destroy(&ah->cur);
}

static size_t s_mid_ckpts; /* checkpoints taken while a segment was being written ahead */

static void s_ahead_tick(eng_t *e)
{
    ahead_t *ah = e->ah;
    if (wr_window_ahead_busy(e->w)) {
        int rc = wr_window_ahead_step(e->w);
        assert_true(rc == 0 || rc == 1);
        if (rc == 1) s_ahead_keep(ah);
        return;
    }
    if (ah->cur) s_ahead_keep(ah); /* a sweep finished it */
    int64_t p;
    if (wr_window_ahead_next(e->w, &p) != 1) return;
    assert_non_null(ah->cur = wr_snap_writer_new_mem());
    ah->cur_pane = p;
    assert_int_equal(wr_window_ahead_begin(e->w, p, MAXP, s_kg, NULL, ah->cur), 0);
    assert_int_equal(wr_window_ahead_begin(e->w, p, MAXP, s_kg, NULL, ah->cur), WR_EINVAL);
}

static void s_ahead_release(ahead_t *ah)
{
    for (size_t i = 0; ah && i < ah->ndone; i++)
        free(ah->done[i].b);
    if (ah) wr_snap_writer_destroy(&ah->cur);
    free(ah);
}

static void s_feed(eng_t *e, const input_t *in, int s0, int s1)
{
    wr_window_sink_t sink = {.emit = s_emit, .late = s_late, .ctx = &e->out};
    uint64_t keys[BATCH];
    int64_t ts[BATCH];
    double val[BATCH];
    const double *cols[1] = {val};
    for (int s = s0; s < s1; s++) {
        size_t n = 0;
        for (size_t j = (size_t)s * BATCH; j < (size_t)(s + 1) * BATCH; j++) {
            uint32_t g = s_kg(NULL, in->key[j]);
            if (g < e->lo || g >= e->hi) continue;
            keys[n] = e->mapped ? s_map(NULL, in->key[j]) : in->key[j];
            ts[n] = in->ts[j];
            val[n++] = in->val[j];
        }
        assert_int_equal(wr_window_add(e->w, keys, ts, cols, n, &sink), 0);
        assert_int_equal(wr_window_advance(e->w, in->wm[s], &sink), 0);
        if (e->ah) s_ahead_tick(e);
    }
    if (s1 == STEPS) assert_int_equal(wr_window_advance(e->w, INT64_MAX, &sink), 0);
}

static void s_eng_init(eng_t *e, const wr_window_spec_t *spec, uint32_t lo, uint32_t hi)
{
    memset(e, 0, sizeof *e);
    int err = 0;
    e->w = wr_window_new(spec, &err);
    assert_non_null(e->w);
    e->lo = lo;
    e->hi = hi;
}

static void s_eng_release(eng_t *e)
{
    wr_window_destroy(&e->w);
    s_ahead_release(e->ah);
    free(e->out.r);
}

/* The bytes a snapshot of seed's run stages per batch of key groups: the default (one batch
 * here), one group a batch, or a few groups a batch. */
static uint64_t s_batch_of(uint64_t seed)
{
    static const uint64_t batch[3] = {0, 1, 3000};
    return batch[seed % 3];
}

/* A snapshot of e in memory: *len bytes, caller frees. */
static uint8_t *s_snap(const eng_t *e, size_t *len)
{
    wr_snap_writer_t *wr = wr_snap_writer_new_mem();
    assert_non_null(wr);
    assert_int_equal(wr_window_snapshot(e->w, MAXP, s_kg, NULL, wr), 0);
    const uint8_t *p = wr_snap_writer_mem(wr, len);
    uint8_t *copy = malloc(*len);
    assert_non_null(copy);
    memcpy(copy, p, *len);
    wr_snap_writer_destroy(&wr);
    return copy;
}

/* ---- restore, split, merge: same results as the uninterrupted engine ---- */

enum { SPLIT_1, SPLIT_2, SPLIT_3, REMAP, MERGE, NMODES };

/* What a restore reads of one old engine: a snapshot (full, or an incremental main) and the
 * segments it references. */
typedef struct {
    const uint8_t *b;
    size_t len;
    const wr_snap_part_t *parts;
    size_t nparts;
} snapref_t;

/* Restores snaps[0..nsrc) into engines of mode's key-group split (keys remapped for REMAP), which
 * must hold what a holds; feeds a and them the rest of the input (routed by key group;
 * everything fires by the end) and compares their results with a's. */
static void s_restore_compare(eng_t *a, const input_t *in, const wr_window_spec_t *spec, int mode,
                              int at, const snapref_t *snaps, int nsrc)
{
    int nb = mode == SPLIT_2 ? 2 : mode == SPLIT_3 ? 3 : 1;
    eng_t b[NPARTS];
    wr_window_stats_t sa, sb = {0};
    wr_window_stats(a->w, &sa);
    for (int i = 0; i < nb; i++) {
        uint32_t lo = (uint32_t)(i * MAXP / nb), hi = (uint32_t)((i + 1) * MAXP / nb);
        s_eng_init(&b[i], spec, lo, hi);
        b[i].mapped = mode == REMAP;
        b[i].out.unmap = mode == REMAP ? s_unmap : NULL;
        for (int k = 0; k < nsrc; k++)
            assert_int_equal(wr_window_restore_parts(b[i].w, snaps[k].b, snaps[k].len,
                                                     snaps[k].parts, snaps[k].nparts, lo, hi,
                                                     mode == REMAP ? s_map : NULL, NULL),
                             0);
        wr_window_stats_t st;
        wr_window_stats(b[i].w, &st);
        assert_int_equal(st.watermark, sa.watermark);
        sb.keys_live += st.keys_live;
        sb.panes_live += st.panes_live;
        sb.sketches += st.sketches;
    }
    assert_int_equal(sb.keys_live, sa.keys_live);
    assert_int_equal(sb.panes_live, sa.panes_live);
    assert_int_equal(sb.sketches, sa.sketches);

    a->out.on = true;
    s_feed(a, in, at, STEPS);
    out_t all = {0};
    for (int i = 0; i < nb; i++) {
        b[i].out.on = true;
        s_feed(&b[i], in, at, STEPS);
        all.r = realloc(all.r, (all.n + b[i].out.n + 1) * sizeof *all.r);
        assert_non_null(all.r);
        memcpy(all.r + all.n, b[i].out.r, b[i].out.n * sizeof *all.r);
        all.n += b[i].out.n;
        all.dropped += b[i].out.dropped;
    }
    s_same(&a->out, &all);
    free(all.r);
    for (int i = 0; i < nb; i++)
        s_eng_release(&b[i]);
}

static void s_run(wr_window_kind_t kind, int mode, uint64_t seed)
{
    input_t *in = malloc(sizeof *in);
    assert_non_null(in);
    s_input(in, seed);
    int at = 5 + (int)(seed % (STEPS - 10));
    wr_window_spec_t spec = s_spec(kind);
    eng_t a, src[2];
    s_eng_init(&a, &spec, 0, MAXP);
    wr_window_snapshot_batch(a.w, s_batch_of(seed));
    s_feed(&a, in, 0, at);
    int nsrc = mode == MERGE ? 2 : 1;
    wr_window_stats_t sa;
    wr_window_stats(a.w, &sa);
    if (kind != WR_WINDOW_SESSION) assert_true(sa.spill_panes > 0);
    assert_true(sa.sketches > 0);

    /* the snapshots: of a, or (merge) of two engines that each own half the key groups */
    uint8_t *snap[2] = {NULL, NULL};
    size_t len[2] = {0, 0};
    if (mode == MERGE) {
        for (int i = 0; i < 2; i++) {
            s_eng_init(&src[i], &spec, i * MAXP / 2, (i + 1) * MAXP / 2);
            wr_window_snapshot_batch(src[i].w, s_batch_of(seed + (uint64_t)i));
            s_feed(&src[i], in, 0, at);
            snap[i] = s_snap(&src[i], &len[i]);
        }
    } else {
        snap[0] = s_snap(&a, &len[0]);
    }
    snapref_t refs[2] = {{snap[0], len[0], NULL, 0}, {snap[1], len[1], NULL, 0}};
    s_restore_compare(&a, in, &spec, mode, at, refs, nsrc);
    for (int i = 0; i < nsrc; i++)
        free(snap[i]);
    if (mode == MERGE)
        for (int i = 0; i < 2; i++)
            s_eng_release(&src[i]);
    s_eng_release(&a);
    free(in);
}

static void s_all_modes(wr_window_kind_t kind)
{
    for (int mode = 0; mode < NMODES; mode++)
        for (uint64_t seed = 1; seed <= 3; seed++)
            s_run(kind, mode, seed * 7919 + (uint64_t)mode);
}

static void test_sliding(void **state)
{
    (void)state;
    s_all_modes(WR_WINDOW_SLIDING);
}

static void test_tumbling(void **state)
{
    (void)state;
    s_all_modes(WR_WINDOW_TUMBLING);
}

static void test_session(void **state)
{
    (void)state;
    s_all_modes(WR_WINDOW_SESSION);
}

/* ---- through a file: the fd writer and a mapping ---- */

typedef struct {
    char dir[64];
    char path[96];
} tmp_t;

static int s_setup_tmp(void **state)
{
    tmp_t *t = calloc(1, sizeof *t);
    if (!t) return -1;
    strcpy(t->dir, "/tmp/weir-snap-XXXXXX");
    if (!mkdtemp(t->dir)) {
        free(t);
        return -1;
    }
    snprintf(t->path, sizeof t->path, "%s/chk-1", t->dir);
    *state = t;
    return 0;
}

static int s_teardown_tmp(void **state)
{
    tmp_t *t = *state;
    unlink(t->path);
    int rc = rmdir(t->dir);
    free(t);
    return rc;
}

static void test_file(void **state)
{
    tmp_t *t = *state;
    input_t *in = malloc(sizeof *in);
    assert_non_null(in);
    s_input(in, 42);
    wr_window_spec_t spec = s_spec(WR_WINDOW_SLIDING);
    eng_t a, b;
    s_eng_init(&a, &spec, 0, MAXP);
    s_eng_init(&b, &spec, 0, MAXP);
    s_feed(&a, in, 0, STEPS / 2);
    int fd = open(t->path, O_CREAT | O_RDWR | O_TRUNC, 0600);
    assert_true(fd >= 0);
    wr_snap_writer_t *wr = wr_snap_writer_new_fd(fd);
    assert_non_null(wr);
    assert_int_equal(wr_window_snapshot(a.w, MAXP, s_kg, NULL, wr), 0);
    uint64_t written = wr_snap_writer_bytes(wr);
    wr_snap_writer_destroy(&wr);
    const uint8_t *map;
    size_t len;
    assert_int_equal(wr_snap_map(fd, &map, &len), 0);
    close(fd);
    assert_int_equal(len, written);
    assert_int_equal(wr_window_restore(b.w, map, len, 0, MAXP, NULL, NULL), 0);
    wr_snap_unmap(map, len);
    a.out.on = b.out.on = true;
    s_feed(&a, in, STEPS / 2, STEPS);
    s_feed(&b, in, STEPS / 2, STEPS);
    s_same(&a.out, &b.out);
    s_eng_release(&a);
    s_eng_release(&b);
    free(in);
}

/* ---- refusals: damage, wrong engine, wrong range, a key twice ---- */

static void s_untouched(const wr_window_t *w)
{
    wr_window_stats_t st;
    wr_window_stats(w, &st);
    assert_int_equal(st.keys_live, 0);
    assert_int_equal(st.panes_live, 0);
    assert_int_equal(st.sketches, 0);
    assert_int_equal(st.watermark, WR_WINDOW_TS_MIN - 1);
}

static void s_damage(wr_window_kind_t kind)
{
    input_t *in = malloc(sizeof *in);
    assert_non_null(in);
    s_input(in, 7);
    wr_window_spec_t spec = s_spec(kind);
    eng_t a;
    s_eng_init(&a, &spec, 0, MAXP);
    s_feed(&a, in, 0, STEPS / 2);
    size_t len;
    uint8_t *snap = s_snap(&a, &len), *bad = malloc(len);
    assert_non_null(bad);
    wr_window_t *b = wr_window_new(&spec, NULL);
    assert_non_null(b);

    const size_t cuts[] = {0, 1, 15, 100, 200, len / 2, len - 33, len - 32, len - 8, len - 1};
    for (size_t i = 0; i < sizeof cuts / sizeof *cuts; i++) {
        assert_int_equal(wr_window_restore(b, snap, cuts[i], 0, MAXP, NULL, NULL), WR_EPROTO);
        s_untouched(b);
    }
    uint64_t seed = 99;
    for (int i = 0; i < 300; i++) {
        memcpy(bad, snap, len);
        size_t at = s_rng(&seed) % len;
        bad[at] ^= (uint8_t)(1u << (s_rng(&seed) % 8));
        int rc = wr_window_restore(b, bad, len, 0, MAXP, NULL, NULL);
        assert_true(rc == WR_EPROTO || (rc == WR_EVERSION && at >= 8 && at < 12));
        s_untouched(b);
    }
    /* Resealed damage reaches the decoder: refused or taken, never a crash or a leak. */
    for (int i = 0; i < 300; i++) {
        memcpy(bad, snap, len);
        for (int k = 0; k < 3; k++)
            bad[s_rng(&seed) % len] ^= (uint8_t)(1u << (s_rng(&seed) % 8));
        wr__window_snap_reseal(bad, len);
        wr_window_t *c = wr_window_new(&spec, NULL);
        assert_non_null(c);
        wr_window_restore(c, bad, len, 0, MAXP, NULL, NULL);
        wr_window_destroy(&c);
    }
    memcpy(bad, snap, len);
    wr__window_snap_reseal(bad, len); /* resealing an intact snapshot changes nothing */
    assert_memory_equal(bad, snap, len);

    /* another engine shape; a range past max_parallelism; the same keys twice */
    wr_window_spec_t other = spec;
    other.lateness_ms += 1;
    wr_window_t *c = wr_window_new(&other, NULL);
    assert_int_equal(wr_window_restore(c, snap, len, 0, MAXP, NULL, NULL), WR_EINVAL);
    wr_window_destroy(&c);
    assert_int_equal(wr_window_restore(b, snap, len, 0, MAXP + 1, NULL, NULL), WR_EINVAL);
    assert_int_equal(wr_window_restore(b, snap, len, 3, 2, NULL, NULL), WR_EINVAL);
    s_untouched(b);
    assert_int_equal(wr_window_restore(b, snap, len, 0, MAXP, NULL, NULL), 0);
    assert_int_equal(wr_window_restore(b, snap, len, 0, MAXP, NULL, NULL), WR_EEXIST);

    wr_window_destroy(&b);
    free(bad);
    free(snap);
    s_eng_release(&a);
    free(in);
}

static void test_damage_sliding(void **state)
{
    (void)state;
    s_damage(WR_WINDOW_SLIDING);
}

static void test_damage_session(void **state)
{
    (void)state;
    s_damage(WR_WINDOW_SESSION);
}

/* ---- incremental snapshots: chains of checkpoints sharing segments ---- */

#define NCKPT 4

/* The shared files of the chains of one test: segments by (pane, id). */
typedef struct {
    struct {
        int64_t pane;
        uint64_t id;
        uint8_t *b;
        size_t len;
    } v[1024];
    size_t n;
} segstore_t;

/* One incremental checkpoint of one engine: its main and the segments it references. */
typedef struct {
    uint8_t *main;
    size_t len;
    wr_snap_part_t parts[MAXSEG];
    size_t nparts;
    size_t written; /* bytes this checkpoint wrote: the main and its new segments */
    size_t reused;  /* segments of earlier checkpoints it references */
} ickpt_t;

static uint8_t *s_mem_copy(wr_snap_writer_t *wr, size_t *len)
{
    const uint8_t *p = wr_snap_writer_mem(wr, len);
    uint8_t *copy = malloc(*len);
    assert_non_null(copy);
    memcpy(copy, p, *len);
    return copy;
}

/* An incremental checkpoint of e into c, its new segments into st. lose: the first sealed
 * segment is lost (as a file the store's cleanup deleted) and is written again. one_pass: by
 * wr_window_snapshot_incremental (the subtask's way), else segment by segment and the main. */
static void s_icheckpoint(eng_t *e, segstore_t *st, ickpt_t *c, bool lose, bool one_pass)
{
    static wr_window_seg_t segs[WR_WINDOW_MAX_RING + 1];
    static wr_snap_writer_t *segw[WR_WINDOW_MAX_RING + 1];
    if (e->ah && !one_pass) { /* the one being written ahead finished first, or (one pass: the
                               * subtask's way) not: the main holds its pane, it goes on */
        assert_int_equal(wr_window_ahead_finish(e->w), 0);
        if (e->ah->cur) s_ahead_keep(e->ah);
    }
    if (e->ah && e->ah->cur && !wr_window_ahead_busy(e->w)) s_ahead_keep(e->ah); /* a sweep's */
    if (e->ah && wr_window_ahead_busy(e->w)) s_mid_ckpts++;
    int n = wr_window_segments(e->w, segs, WR_WINDOW_MAX_RING + 1);
    assert_true(n >= 0 && n <= MAXSEG);
    bool ahead[MAXSEG] = {0};
    for (int i = 0; e->ah && i < n; i++) { /* written ahead: into the store under their ids */
        if (segs[i].due || !segs[i].id) continue;
        size_t k = 0, j = 0;
        while (k < st->n && (st->v[k].pane != segs[i].pane || st->v[k].id != segs[i].id))
            k++;
        if (k < st->n) continue; /* an earlier checkpoint's */
        while (j < e->ah->ndone && e->ah->done[j].pane != segs[i].pane)
            j++;
        assert_true(j < e->ah->ndone);
        assert_true(st->n < sizeof st->v / sizeof *st->v);
        st->v[st->n].pane = segs[i].pane;
        st->v[st->n].id = segs[i].id;
        st->v[st->n].b = e->ah->done[j].b;
        st->v[st->n++].len = e->ah->done[j].len;
        e->ah->done[j] = e->ah->done[--e->ah->ndone];
        e->ah->used++;
        ahead[i] = true;
    }
    for (int i = 0; lose && i < n; i++)
        if (!segs[i].due && segs[i].id) {
            segs[i].due = true;
            break;
        }
    memset(c, 0, sizeof *c);
    for (int i = 0; i < n; i++) {
        segw[i] = segs[i].due ? wr_snap_writer_new_mem() : NULL;
        assert_true(!segs[i].due || segw[i]);
        if (segs[i].due && !one_pass)
            assert_int_equal(wr_window_snapshot_segment(e->w, segs[i].pane, MAXP, s_kg, NULL,
                                                        segw[i], &segs[i].id),
                             0);
    }
    wr_snap_writer_t *wr = wr_snap_writer_new_mem();
    assert_non_null(wr);
    if (one_pass)
        assert_int_equal(
            wr_window_snapshot_incremental(e->w, segs, (size_t)n, MAXP, s_kg, NULL, segw, wr), 0);
    else
        assert_int_equal(wr_window_snapshot_main(e->w, segs, (size_t)n, MAXP, s_kg, NULL, wr), 0);
    c->main = s_mem_copy(wr, &c->len);
    c->written += c->len;
    wr_snap_writer_destroy(&wr);
    for (int i = 0; i < n; i++) {
        if (segs[i].due) {
            assert_true(segs[i].id != 0);
            assert_true(st->n < sizeof st->v / sizeof *st->v);
            st->v[st->n].pane = segs[i].pane;
            st->v[st->n].id = segs[i].id;
            st->v[st->n].b = s_mem_copy(segw[i], &st->v[st->n].len);
            c->written += st->v[st->n++].len;
            wr_snap_writer_destroy(&segw[i]);
        } else if (segs[i].id && !ahead[i]) {
            c->reused++;
        }
        if (!segs[i].id) continue;
        size_t k = 0;
        while (k < st->n && (st->v[k].pane != segs[i].pane || st->v[k].id != segs[i].id))
            k++;
        assert_true(k < st->n);
        c->parts[c->nparts++] = (wr_snap_part_t){st->v[k].b, st->v[k].len};
    }
}

static void s_store_release(segstore_t *st)
{
    for (size_t i = 0; i < st->n; i++)
        free(st->v[i].b);
    st->n = 0;
}

/* An engine's chain of checkpoints at steps cps[0..NCKPT), fed from step *fed on. SPLIT_1 switches
 * the chain to an engine restored from its second checkpoint (so a restored engine's own chain
 * is what the end restores): with going_on, one that takes the main's segments over
 * (wr_window_restore_going_on), whose late changes to sealed panes later mains must carry again;
 * REMAP loses a segment at the third. Returns the last checkpoint. */
static void s_chain(eng_t *e, const input_t *in, const wr_window_spec_t *spec, const int *cps,
                    int mode, bool going_on, segstore_t *st, ickpt_t *last)
{
    const bool ahead = e->ah != NULL;
    eng_t x;
    bool switched = false;
    int fed = 0;
    for (int k = 0; k < NCKPT; k++) {
        s_feed(switched ? &x : e, in, fed, cps[k]);
        if (switched) s_feed(e, in, fed, cps[k]); /* e keeps pace: the test's oracle */
        fed = cps[k];
        ickpt_t c;
        eng_t *src = switched ? &x : e;
        bool lose = mode == REMAP && k == 2;
        s_icheckpoint(src, st, &c, lose, k % 2 == 1); /* both ways of writing, one chain */
        /* closed panes are not written again; an engine restored other than going on writes
         * them all once more (with segments written ahead, a main may hold them while one is
         * being written) */
        if (switched && k == 2 && !going_on)
            assert_int_equal(c.reused, 0);
        else if (k >= 1 && !lose && !ahead)
            assert_true(c.reused > 0);
        if (mode == SPLIT_1 && k == 1) {
            s_eng_init(&x, spec, e->lo, e->hi);
            if (ahead) assert_non_null(x.ah = calloc(1, sizeof *x.ah));
            bool adopted = !going_on;
            if (going_on) {
                /* not into an engine that restored something already, nor for a part of the
                 * key groups (the segments would hold keys the engine does not have) */
                eng_t y;
                s_eng_init(&y, spec, e->lo, e->hi / 2);
                assert_int_equal(wr_window_restore_going_on(y.w, c.main, c.len, c.parts, c.nparts,
                                                            e->lo, e->hi / 2, &adopted),
                                 0);
                assert_false(adopted);
                assert_int_equal(wr_window_restore_going_on(y.w, c.main, c.len, c.parts, c.nparts,
                                                            e->hi / 2, e->hi, &adopted),
                                 0);
                assert_false(adopted);
                s_eng_release(&y);
                assert_int_equal(wr_window_restore_going_on(x.w, c.main, c.len, c.parts, c.nparts,
                                                            e->lo, e->hi, &adopted),
                                 0);
                assert_true(adopted);
            } else {
                assert_int_equal(wr_window_restore_parts(x.w, c.main, c.len, c.parts, c.nparts,
                                                         e->lo, e->hi, NULL, NULL),
                                 0);
            }
            switched = true;
        }
        if (k == NCKPT - 1) {
            *last = c;
            if (switched) { /* the chain's last engine: e must hold what it holds */
                wr_window_stats_t sx, se;
                wr_window_stats(x.w, &sx);
                wr_window_stats(e->w, &se);
                assert_int_equal(sx.keys_live, se.keys_live);
                assert_int_equal(sx.panes_live, se.panes_live);
            }
        } else {
            free(c.main);
        }
    }
    if (switched) s_eng_release(&x);
}

static void s_run_incr(wr_window_kind_t kind, int mode, uint64_t seed, bool ahead)
{
    input_t *in = malloc(sizeof *in);
    segstore_t *st = calloc(1, sizeof *st);
    assert_non_null(in);
    assert_non_null(st);
    s_input(in, seed);
    /* 2 steps apart (10 ms): a closed pane lives 20 ms (tumbling) or 50 ms (sliding) more, so
     * later checkpoints reference earlier ones' segments and some expire in between */
    int c0 = 20 + (int)(seed % 9);
    int cps[NCKPT] = {c0, c0 + 2, c0 + 4, c0 + 6};
    const int at = cps[NCKPT - 1];
    wr_window_spec_t spec = s_spec(kind);
    eng_t a, src[2];
    s_eng_init(&a, &spec, 0, MAXP);
    wr_window_snapshot_batch(a.w, s_batch_of(seed));
    int nsrc = mode == MERGE ? 2 : 1;
    ickpt_t last[2];
    if (ahead && mode != MERGE) assert_non_null(a.ah = calloc(1, sizeof *a.ah));
    if (mode == MERGE) {
        s_feed(&a, in, 0, at);
        for (int i = 0; i < 2; i++) {
            s_eng_init(&src[i], &spec, i * MAXP / 2, (i + 1) * MAXP / 2);
            wr_window_snapshot_batch(src[i].w, s_batch_of(seed + (uint64_t)i));
            if (ahead) assert_non_null(src[i].ah = calloc(1, sizeof *src[i].ah));
            s_chain(&src[i], in, &spec, cps, mode, false, st, &last[i]);
            if (ahead) assert_true(src[i].ah->used > 0);
        }
    } else {
        s_chain(&a, in, &spec, cps, mode, seed % 2 == 1, st, &last[0]);
        if (ahead) assert_true(a.ah->used > 0 || mode == SPLIT_1); /* (then x wrote them) */
        /* the steady state writes less than a full snapshot */
        size_t full_len;
        uint8_t *full = s_snap(&a, &full_len);
        assert_true(last[0].written < full_len);
        free(full);
    }
    snapref_t refs[2];
    for (int k = 0; k < nsrc; k++)
        refs[k] = (snapref_t){last[k].main, last[k].len, last[k].parts, last[k].nparts};
    s_restore_compare(&a, in, &spec, mode, at, refs, nsrc);
    for (int i = 0; i < nsrc; i++)
        free(last[i].main);
    if (mode == MERGE)
        for (int i = 0; i < 2; i++)
            s_eng_release(&src[i]);
    s_eng_release(&a);
    s_store_release(st);
    free(st);
    free(in);
}

static void s_all_modes_incr(wr_window_kind_t kind)
{
    for (int mode = 0; mode < NMODES; mode++)
        for (uint64_t seed = 1; seed <= 3; seed++)
            for (int ahead = 0; ahead < 2; ahead++)
                s_run_incr(kind, mode, seed * 104729 + (uint64_t)mode, ahead);
}

static void test_incremental_sliding(void **state)
{
    (void)state;
    s_mid_ckpts = 0;
    s_all_modes_incr(WR_WINDOW_SLIDING);
    assert_true(s_mid_ckpts > 0);
}

static void test_incremental_tumbling(void **state)
{
    (void)state;
    s_all_modes_incr(WR_WINDOW_TUMBLING);
}

/* A snapshot of a (*len bytes, caller frees), the same as one taken with each of batch[0..n) as
 * the bytes the walk stages at a time. */
static uint8_t *s_snap_each_batch(eng_t *a, const uint64_t *batch, size_t n, size_t *len0)
{
    uint8_t *b0 = s_snap(a, len0);
    for (size_t i = 0; i < n; i++) {
        size_t len;
        wr_window_snapshot_batch(a->w, batch[i]);
        uint8_t *b = s_snap(a, &len);
        assert_int_equal(len, *len0);
        assert_memory_equal(b, b0, len);
        free(b);
    }
    return b0;
}

/* The bytes of a snapshot do not depend on how many key groups its walk stages at a time: full
 * snapshots of each kind, and chains of incremental checkpoints of two engines fed alike. */
static void test_batches_same_bytes(void **state)
{
    (void)state;
    static const uint64_t batch[] = {1, 700, 3000, 0};
    input_t *in = malloc(sizeof *in);
    assert_non_null(in);
    s_input(in, 42);
    for (int kind = 0; kind < 3; kind++) {
        wr_window_spec_t spec = s_spec(kind == 0   ? WR_WINDOW_SLIDING
                                       : kind == 1 ? WR_WINDOW_TUMBLING
                                                   : WR_WINDOW_SESSION);
        eng_t a;
        s_eng_init(&a, &spec, 0, MAXP);
        s_feed(&a, in, 0, 33);
        size_t len0;
        free(s_snap_each_batch(&a, batch, sizeof batch / sizeof *batch, &len0));
        s_eng_release(&a);
    }
    { /* more keys than the walk picks at a time (1024), in a few batches or one */
        wr_window_spec_t spec = s_spec(WR_WINDOW_SLIDING);
        eng_t a;
        s_eng_init(&a, &spec, 0, MAXP);
        enum { N = 5000 };
        uint64_t *keys = malloc(N * sizeof *keys);
        int64_t *ts = malloc(N * sizeof *ts);
        double *val = malloc(N * sizeof *val);
        assert_true(keys && ts && val);
        const double *cols[1] = {val};
        wr_window_sink_t sink = {.emit = s_emit, .late = s_late, .ctx = &a.out};
        for (int i = 0; i < N; i++) {
            keys[i] = (uint64_t)i * 2654435761u;
            ts[i] = i % 37;
            val[i] = i;
        }
        assert_int_equal(wr_window_add(a.w, keys, ts, cols, N, &sink), 0);
        static const uint64_t big[] = {1, 20000, 90000};
        size_t len0;
        uint8_t *b0 = s_snap_each_batch(&a, big, sizeof big / sizeof *big, &len0);
        eng_t r;
        s_eng_init(&r, &spec, 0, MAXP);
        assert_int_equal(wr_window_restore(r.w, b0, len0, 0, MAXP, NULL, NULL), 0);
        wr_window_stats_t sa, sr;
        wr_window_stats(a.w, &sa);
        wr_window_stats(r.w, &sr);
        assert_int_equal(sr.keys_live, N);
        assert_int_equal(sr.panes_live, sa.panes_live);
        free(b0);
        free(keys);
        free(ts);
        free(val);
        s_eng_release(&r);
        s_eng_release(&a);
    }
    wr_window_spec_t spec = s_spec(WR_WINDOW_SLIDING);
    segstore_t *st = calloc(2, sizeof *st);
    assert_non_null(st);
    eng_t e[2];
    for (int i = 0; i < 2; i++) {
        s_eng_init(&e[i], &spec, 0, MAXP);
        wr_window_snapshot_batch(e[i].w, i ? 1 : 0);
    }
    for (int k = 0, fed = 0; k < 6; k++, fed += 5) {
        ickpt_t c[2];
        for (int i = 0; i < 2; i++) {
            s_feed(&e[i], in, fed, fed + 5);
            s_icheckpoint(&e[i], &st[i], &c[i], k == 3, k % 2 == 1);
        }
        assert_true(c[0].len > 0);
        assert_int_equal(c[1].len, c[0].len); /* (the main lists its segments' ids) */
        assert_memory_equal(c[1].main, c[0].main, c[0].len);
        assert_int_equal(c[1].written, c[0].written);
        free(c[0].main);
        free(c[1].main);
    }
    for (int i = 0; i < 2; i++) {
        s_eng_release(&e[i]);
        s_store_release(&st[i]);
    }
    free(st);
    free(in);
}

/* A segment written ahead in steps, with nothing between them, has the bytes and the id of the
 * same segment written at once; the next main lists it; a sweep finishes one being written; one
 * that failed is written by the checkpoint. */
static void test_ahead(void **state)
{
    (void)state;
    input_t *in = malloc(sizeof *in);
    assert_non_null(in);
    s_input(in, 7);
    wr_window_spec_t spec = s_spec(WR_WINDOW_SLIDING);
    eng_t a;
    s_eng_init(&a, &spec, 0, MAXP);
    wr_window_snapshot_batch(a.w, 1); /* one key group a step */
    s_feed(&a, in, 0, 30);
    int64_t p, q;
    assert_int_equal(wr_window_ahead_next(a.w, &p), 1);
    assert_int_equal(wr_window_ahead_begin(a.w, p + 1, MAXP, s_kg, NULL, NULL), WR_EINVAL);
    wr_snap_writer_t *ah = wr_snap_writer_new_mem(), *at_once = wr_snap_writer_new_mem();
    assert_true(ah && at_once);
    uint64_t id = 0;
    assert_int_equal(wr_window_snapshot_segment(a.w, p, MAXP, s_kg, NULL, at_once, &id), 0);
    assert_int_equal(wr_window_ahead_step(a.w), WR_EINVAL); /* none begun */
    assert_int_equal(wr_window_ahead_begin(a.w, p, MAXP, s_kg, NULL, ah), 0);
    assert_true(wr_window_ahead_busy(a.w));
    assert_int_equal(wr_window_ahead_next(a.w, &q), 0); /* one at a time */
    int steps = 0, rc;
    while ((rc = wr_window_ahead_step(a.w)) == 0)
        steps++;
    assert_int_equal(rc, 1);
    assert_true(steps >= MAXP / 2); /* in steps, not at once */
    assert_false(wr_window_ahead_busy(a.w));
    size_t la, lb;
    const uint8_t *ba = wr_snap_writer_mem(ah, &la), *bb = wr_snap_writer_mem(at_once, &lb);
    assert_int_equal(la, lb);
    assert_memory_equal(ba, bb, la);
    wr_window_seg_t segs[WR_WINDOW_MAX_RING + 1];
    int n = wr_window_segments(a.w, segs, WR_WINDOW_MAX_RING + 1), k = 0;
    while (k < n && segs[k].pane != p)
        k++;
    assert_true(k < n);
    assert_false(segs[k].due);
    assert_int_equal(segs[k].id, id);

    /* a main commits every closed pane; the next one to close, begun and then overtaken by a
     * sweep (the next slide's firing) */
    static segstore_t st;
    st.v[0].pane = p;
    st.v[0].id = id;
    assert_non_null(st.v[0].b = malloc(la));
    memcpy(st.v[0].b, ba, st.v[0].len = la);
    st.n = 1;
    ickpt_t c;
    s_icheckpoint(&a, &st, &c, false, true);
    assert_int_equal(c.reused, 1);
    free(c.main);
    s_store_release(&st);
    int fed = 30;
    while (wr_window_ahead_next(a.w, &q) != 1 && fed < 36) { /* the next pane closes */
        s_feed(&a, in, fed, fed + 1);
        fed++;
    }
    assert_true(q > p);
    wr_snap_writer_destroy(&ah);
    ah = wr_snap_writer_new_mem();
    assert_int_equal(wr_window_ahead_begin(a.w, q, MAXP, s_kg, NULL, ah), 0);
    assert_int_equal(wr_window_ahead_step(a.w), 0);
    s_feed(&a, in, fed, fed + 3); /* late records into q, and a slide fired */
    fed += 3;
    assert_false(wr_window_ahead_busy(a.w));
    n = wr_window_segments(a.w, segs, WR_WINDOW_MAX_RING + 1);
    for (k = 0; k < n && segs[k].pane != q; k++)
        ;
    assert_true(k < n && !segs[k].due && segs[k].id);

    /* abandoned: the checkpoint writes it, unless it is written ahead again */
    while (wr_window_ahead_next(a.w, &q) != 1 && fed < 45) {
        s_feed(&a, in, fed, fed + 1);
        fed++;
    }
    wr_snap_writer_destroy(&ah);
    ah = wr_snap_writer_new_mem();
    assert_int_equal(wr_window_ahead_begin(a.w, q, MAXP, s_kg, NULL, ah), 0);
    wr_window_ahead_abandon(a.w);
    assert_false(wr_window_ahead_busy(a.w));
    n = wr_window_segments(a.w, segs, WR_WINDOW_MAX_RING + 1);
    for (k = 0; k < n && segs[k].pane != q; k++)
        ;
    assert_true(k < n && segs[k].due);
    assert_int_equal(wr_window_ahead_next(a.w, &p), 1); /* offered again */
    assert_int_equal(p, q);
    wr_snap_writer_destroy(&ah);
    wr_snap_writer_destroy(&at_once);
    s_eng_release(&a);
    free(in);
}

/* A main and its segments refused whole: a segment missing, twice, damaged (checksum), damaged
 * and resealed (its id no longer the one the main lists), a segment as the main; the engine stays
 * untouched. Damage resealed into the main reaches its decoder: refused or taken, never a crash. */
static void test_damage_incremental(void **state)
{
    (void)state;
    input_t *in = malloc(sizeof *in);
    segstore_t *st = calloc(1, sizeof *st);
    assert_non_null(in);
    assert_non_null(st);
    s_input(in, 11);
    wr_window_spec_t spec = s_spec(WR_WINDOW_SLIDING);
    eng_t a;
    s_eng_init(&a, &spec, 0, MAXP);
    ickpt_t c1, c2;
    s_feed(&a, in, 0, 24);
    s_icheckpoint(&a, st, &c1, false, false);
    s_feed(&a, in, 24, 26);
    s_icheckpoint(&a, st, &c2, false, true);
    assert_true(c2.nparts >= 2);
    wr_window_t *b = wr_window_new(&spec, NULL);
    assert_non_null(b);
    wr_snap_part_t parts[MAXSEG + 1];
    memcpy(parts, c2.parts, c2.nparts * sizeof *parts);

    assert_int_equal(wr_window_restore(b, c2.main, c2.len, 0, MAXP, NULL, NULL), WR_EPROTO);
    assert_int_equal(
        wr_window_restore_parts(b, c2.main, c2.len, parts + 1, c2.nparts - 1, 0, MAXP, NULL, NULL),
        WR_EPROTO);
    parts[c2.nparts] = parts[0];
    assert_int_equal(
        wr_window_restore_parts(b, c2.main, c2.len, parts, c2.nparts + 1, 0, MAXP, NULL, NULL),
        WR_EPROTO);
    assert_int_equal(wr_window_restore_parts(b, parts[0].data, parts[0].len, parts + 1,
                                             c2.nparts - 1, 0, MAXP, NULL, NULL),
                     WR_EPROTO);
    s_untouched(b);
    uint8_t *bad = malloc(parts[0].len);
    assert_non_null(bad);
    uint64_t seed = 5;
    for (int i = 0; i < 100; i++) {
        memcpy(bad, c2.parts[0].data, c2.parts[0].len);
        bad[s_rng(&seed) % c2.parts[0].len] ^= (uint8_t)(1u << (s_rng(&seed) % 8));
        parts[0] = (wr_snap_part_t){bad, c2.parts[0].len};
        int rc = wr_window_restore_parts(b, c2.main, c2.len, parts, c2.nparts, 0, MAXP, NULL, NULL);
        assert_true(rc == WR_EPROTO || rc == WR_EVERSION);
        wr__window_snap_reseal(bad, c2.parts[0].len);
        if (!memcmp(bad, c2.parts[0].data, c2.parts[0].len))
            continue; /* a checksum's bit: mended */
        rc = wr_window_restore_parts(b, c2.main, c2.len, parts, c2.nparts, 0, MAXP, NULL, NULL);
        assert_true(rc == WR_EPROTO || rc == WR_EVERSION);
        s_untouched(b);
    }
    free(bad);
    bad = malloc(c2.len);
    assert_non_null(bad);
    for (int i = 0; i < 200; i++) {
        memcpy(bad, c2.main, c2.len);
        bad[s_rng(&seed) % c2.len] ^= (uint8_t)(1u << (s_rng(&seed) % 8));
        int rc = wr_window_restore_parts(b, bad, c2.len, c2.parts, c2.nparts, 0, MAXP, NULL, NULL);
        assert_true(rc == WR_EPROTO || rc == WR_EVERSION);
        s_untouched(b);
        wr__window_snap_reseal(bad, c2.len);
        wr_window_t *x = wr_window_new(&spec, NULL);
        assert_non_null(x);
        wr_window_restore_parts(x, bad, c2.len, c2.parts, c2.nparts, 0, MAXP, NULL, NULL);
        wr_window_destroy(&x);
    }
    assert_int_equal(
        wr_window_restore_parts(b, c2.main, c2.len, c2.parts, c2.nparts, 0, MAXP, NULL, NULL), 0);
    free(bad);
    wr_window_destroy(&b);
    free(c1.main);
    free(c2.main);
    s_eng_release(&a);
    s_store_release(st);
    free(st);
    free(in);
}

/* The engines of tests/fuzz/fuzz_window_snap.c (sliding, or tumbling), whose corpus the tests
 * below read and write. */
static wr_window_spec_t s_fuzz_spec(bool tumbling)
{
    return (wr_window_spec_t){.kind = tumbling ? WR_WINDOW_TUMBLING : WR_WINDOW_SLIDING,
                              .size_ms = tumbling ? 10 : 40,
                              .slide_ms = 10,
                              .lateness_ms = 20,
                              .ncols = 1,
                              .naggs = 4,
                              .aggs = {{.kind = WR_AGG_COUNT},
                                       {.kind = WR_AGG_SUM},
                                       {.kind = WR_AGG_QUANTILE, .q = 0.5},
                                       {.kind = WR_AGG_LAST}}};
}

/* A version 1 snapshot (written before incremental checkpoints: the fuzz corpus's sliding seed)
 * still restores; a version this build does not know is WR_EVERSION. */
static void test_version1(void **state)
{
    (void)state;
    const char *src = getenv("WEIR_SRC");
    char path[512];
    snprintf(path, sizeof path, "%s/tests/fuzz/corpus/window_snap/seed-0", src ? src : ".");
    int fd = open(path, O_RDONLY);
    assert_true(fd >= 0);
    uint8_t buf[8192];
    ssize_t n = read(fd, buf, sizeof buf);
    close(fd);
    assert_true(n > 100 && buf[0] == 0);
    uint32_t version;
    memcpy(&version, buf + 1 + 8, 4);
    assert_int_equal(version, 1);
    wr_window_spec_t spec = s_fuzz_spec(false);
    wr_window_t *w = wr_window_new(&spec, NULL);
    assert_non_null(w);
    assert_int_equal(wr_window_restore(w, buf + 1, (size_t)n - 1, 0, 16, NULL, NULL), 0);
    wr_window_stats_t st;
    wr_window_stats(w, &st);
    assert_true(st.keys_live > 0 && st.panes_live > 0);
    wr_window_destroy(&w);
    version = 3;
    memcpy(buf + 1 + 8, &version, 4);
    w = wr_window_new(&spec, NULL);
    assert_int_equal(wr_window_restore(w, buf + 1, (size_t)n - 1, 0, 16, NULL, NULL), WR_EVERSION);
    wr_window_destroy(&w);
}

/* ---- fuzz seeds (WEIR_SNAP_SEEDS=DIR: tests/fuzz/fuzz_window_snap.c's incr-* seeds) ---- */

static void s_seed_write(const char *dir, const char *name, uint8_t sel, const uint8_t *main,
                         size_t len, const wr_snap_part_t *parts, size_t nparts)
{
    char path[512];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    FILE *f = fopen(path, "wb");
    assert_non_null(f);
    fputc(sel, f);
    for (size_t i = 0; i <= nparts; i++) {
        const uint8_t *b = i ? parts[i - 1].data : main;
        uint32_t n = (uint32_t)(i ? parts[i - 1].len : len);
        if (sel & 0x40) fwrite(&n, 4, 1, f);
        fwrite(b, 1, n, f);
        if (!(sel & 0x40)) break;
    }
    assert_int_equal(fclose(f), 0);
}

static void test_fuzz_seeds(void **state)
{
    (void)state;
    const char *dir = getenv("WEIR_SNAP_SEEDS");
    if (!dir) skip();
    for (uint8_t which = 0; which < 2; which++) { /* the fuzzer's sliding and tumbling engines */
        wr_window_spec_t spec = s_fuzz_spec(which);
        eng_t e;
        s_eng_init(&e, &spec, 0, MAXP);
        segstore_t *st = calloc(1, sizeof *st);
        assert_non_null(st);
        ickpt_t c;
        wr_window_sink_t sink = {0};
        for (int step = 0; step < 16; step++) { /* 6 keys, late and early records */
            uint64_t keys[6];
            int64_t ts[6];
            double val[6];
            const double *cols[1] = {val};
            for (int k = 0; k < 6; k++) {
                keys[k] = (uint64_t)k;
                ts[k] = 1000 + step * 5 + (k % 3) * 12 - 18;
                val[k] = step * 0.5 + k;
            }
            assert_int_equal(wr_window_add(e.w, keys, ts, cols, 6, &sink), 0);
            assert_int_equal(wr_window_advance(e.w, 1000 + step * 5 - 10, &sink), 0);
            if (step == 11) {
                s_icheckpoint(&e, st, &c, false, false);
                free(c.main);
            }
        }
        s_icheckpoint(&e, st, &c, false, true);
        assert_true(c.nparts >= 1 && c.nparts <= 8);
        s_seed_write(dir, which ? "incr-tumbling" : "incr-sliding", (uint8_t)(0x40 | which), c.main,
                     c.len, c.parts, c.nparts);
        free(c.main);
        size_t len;
        uint8_t *full = s_snap(&e, &len);
        s_seed_write(dir, which ? "full-tumbling" : "full-sliding", which, full, len, NULL, 0);
        free(full);
        s_store_release(st);
        free(st);
        s_eng_release(&e);
    }
}

/* ---- timing (WEIR_SNAP_BENCH=1) ---- */

static double s_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + ts.tv_nsec * 1e-9;
}

/* A record for each of keys 0..nkeys-1 at t0 + 0..999 ms, a batch of 64 Ki at a time. */
static void s_bench_fill(wr_window_t *w, uint32_t nkeys, int64_t t0)
{
    const uint32_t nb = 1 << 16;
    uint64_t *keys = malloc(nb * sizeof *keys);
    int64_t *ts = malloc(nb * sizeof *ts);
    double *val = malloc(nb * sizeof *val);
    const double *cols[1] = {val};
    assert_true(keys && ts && val);
    for (uint32_t k0 = 0; k0 < nkeys; k0 += nb) {
        size_t n = nkeys - k0 < nb ? nkeys - k0 : nb;
        for (size_t i = 0; i < n; i++) {
            keys[i] = k0 + i;
            ts[i] = t0 + (int64_t)(i % 1000);
            val[i] = (double)(i % 977);
        }
        assert_int_equal(wr_window_add(w, keys, ts, cols, n, NULL), 0);
    }
    free(keys);
    free(ts);
    free(val);
}

static void test_bench(void **state)
{
    if (!getenv("WEIR_SNAP_BENCH")) skip();
    tmp_t *t = *state;
    const uint32_t nkeys = 5000000, npanes = 10;
    const int64_t minute = 60000;
    wr_window_spec_t spec = {.kind = WR_WINDOW_SLIDING,
                             .size_ms = 10 * minute,
                             .slide_ms = minute,
                             .ncols = 1,
                             .naggs = 4,
                             .expected_keys = nkeys,
                             .prefault = true,
                             .aggs = {{.kind = WR_AGG_COUNT},
                                      {.kind = WR_AGG_SUM},
                                      {.kind = WR_AGG_MIN},
                                      {.kind = WR_AGG_MAX}}};
    wr_window_t *a = wr_window_new(&spec, NULL), *b = wr_window_new(&spec, NULL);
    assert_non_null(a);
    assert_non_null(b);
    for (uint32_t p = 0; p < npanes; p++)
        s_bench_fill(a, nkeys, p * minute);
    wr_window_stats_t sa;
    wr_window_stats(a, &sa);
    int fd = open(t->path, O_CREAT | O_RDWR | O_TRUNC, 0600);
    assert_true(fd >= 0);
    wr_snap_writer_t *wr = wr_snap_writer_new_fd(fd);
    double t0 = s_now();
    assert_int_equal(wr_window_snapshot(a, 128, s_kg, NULL, wr), 0);
    double t1 = s_now();
    assert_int_equal(fsync(fd), 0);
    double t2 = s_now();
    uint64_t bytes = wr_snap_writer_bytes(wr);
    wr_snap_writer_destroy(&wr);
    const uint8_t *map;
    size_t len;
    assert_int_equal(wr_snap_map(fd, &map, &len), 0);
    close(fd);
    double t3 = s_now();
    assert_int_equal(wr_window_restore(b, map, len, 0, 128, NULL, NULL), 0);
    double t4 = s_now();
    wr_snap_unmap(map, len);
    wr_window_stats_t st;
    wr_window_stats(b, &st);
    assert_int_equal(st.keys_live, sa.keys_live);
    assert_int_equal(st.panes_live, sa.panes_live);
    double mb = (double)bytes / 1e6;
    printf("snapshot: %lu keys, %lu panes, state %.0f MB, snapshot %.0f MB\n", sa.keys_live,
           sa.panes_live, sa.memory_bytes / 1e6, mb);
    printf("  write %.2f s (%.0f MB/s), + fsync %.2f s (%.0f MB/s)\n", t1 - t0, mb / (t1 - t0),
           t2 - t0, mb / (t2 - t0));
    printf("  restore (page cache warm) %.2f s (%.0f MB/s)\n", t4 - t3, mb / (t4 - t3));

    /* incremental: 9 panes close (the first checkpoint writes them all), then one more pane of
     * data and the watermark a pane further (the steady state: one segment, the open pane) */
    for (int round = 0; round < 2; round++) {
        if (round) s_bench_fill(a, nkeys, npanes * minute);
        assert_int_equal(wr_window_advance(a, (npanes - 1 + round) * minute - 1, NULL), 0);
        wr_window_seg_t segs[WR_WINDOW_MAX_RING + 1];
        int n = wr_window_segments(a, segs, WR_WINDOW_MAX_RING + 1), due = 0;
        assert_true(n > 0);
        uint64_t seg_bytes = 0;
        double s0 = s_now();
        for (int i = 0; i < n; i++) {
            if (!segs[i].due) continue;
            due++;
            fd = open(t->path, O_CREAT | O_RDWR | O_TRUNC, 0600);
            wr = wr_snap_writer_new_fd(fd);
            assert_int_equal(
                wr_window_snapshot_segment(a, segs[i].pane, 128, s_kg, NULL, wr, &segs[i].id), 0);
            assert_int_equal(fsync(fd), 0);
            seg_bytes += wr_snap_writer_bytes(wr);
            wr_snap_writer_destroy(&wr);
            close(fd);
        }
        double s1 = s_now();
        fd = open(t->path, O_CREAT | O_RDWR | O_TRUNC, 0600);
        wr = wr_snap_writer_new_fd(fd);
        assert_int_equal(wr_window_snapshot_main(a, segs, (size_t)n, 128, s_kg, NULL, wr), 0);
        assert_int_equal(fsync(fd), 0);
        double s2 = s_now();
        uint64_t main_bytes = wr_snap_writer_bytes(wr);
        wr_snap_writer_destroy(&wr);
        close(fd);
        printf("incremental %s: %d segments %.0f MB in %.2f s, main %.0f MB in %.2f s (with "
               "fsync); %.2f of the full snapshot\n",
               round ? "(steady state)" : "(first)", due, seg_bytes / 1e6, s1 - s0,
               main_bytes / 1e6, s2 - s1, (double)(seg_bytes + main_bytes) / (double)bytes);
    }
    wr_window_destroy(&a);
    wr_window_destroy(&b);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_sliding),
        cmocka_unit_test(test_tumbling),
        cmocka_unit_test(test_session),
        cmocka_unit_test_setup_teardown(test_file, s_setup_tmp, s_teardown_tmp),
        cmocka_unit_test(test_damage_sliding),
        cmocka_unit_test(test_damage_session),
        cmocka_unit_test(test_incremental_sliding),
        cmocka_unit_test(test_incremental_tumbling),
        cmocka_unit_test(test_batches_same_bytes),
        cmocka_unit_test(test_ahead),
        cmocka_unit_test(test_damage_incremental),
        cmocka_unit_test(test_version1),
        cmocka_unit_test(test_fuzz_seeds),
        cmocka_unit_test_setup_teardown(test_bench, s_setup_tmp, s_teardown_tmp),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
