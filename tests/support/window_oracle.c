/* The window oracle and the driver that runs it beside the engine (window_oracle.h). */
#include "tests/support/window_oracle.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bus/base/splitmix.h"
#include "tests/support/arith.h"
#include "tests/support/window.h"

/* ---- the oracle ---- */

typedef struct {
    uint64_t key;
    int64_t ts;
    double v[WO_NCOL];
} s_rec_t;

typedef struct {
    uint64_t key;
    int64_t start, end;
    uint32_t *recs; /* indices into the record store, arrival order */
    size_t n, cap;
    bool fired; /* sessions: fired at the current end */
    bool dead;
} s_win_t;

typedef struct {
    wr_window_spec_t spec;
    int64_t P; /* pane length: defines the summation order of sliced windows */
    int64_t wm;
    s_rec_t *recs;
    size_t nrecs, rcap;
    s_win_t *w;
    size_t nw, wcap;
    int64_t *index; /* open addressing over w (sliced kinds): position + 1 */
    size_t icap;
} s_oracle_t;

static uint64_t s_mix(uint64_t k, int64_t s)
{
    uint64_t x = k * 0x9e3779b97f4a7c15ULL ^ (uint64_t)s * 0xc2b2ae3d27d4eb4fULL;
    x ^= x >> 31;
    return x * 0x94d049bb133111ebULL;
}

static void s_reindex(s_oracle_t *o)
{
    size_t live = 0;
    for (size_t i = 0; i < o->nw; i++) {
        if (o->w[i].dead) {
            free(o->w[i].recs);
            continue;
        }
        o->w[live++] = o->w[i];
    }
    o->nw = live;
    if (o->icap < 2 * live + 16) {
        o->icap = 4 * live + 64;
        o->index = realloc(o->index, o->icap * sizeof *o->index);
    }
    memset(o->index, 0, o->icap * sizeof *o->index);
    for (size_t i = 0; i < o->nw; i++) {
        size_t h = s_mix(o->w[i].key, o->w[i].start) % o->icap;
        while (o->index[h])
            h = (h + 1) % o->icap;
        o->index[h] = (int64_t)i + 1;
    }
}

static s_win_t *s_new_window(s_oracle_t *o, uint64_t key, int64_t start, int64_t end)
{
    if (o->nw == o->wcap) {
        o->wcap = o->wcap ? o->wcap * 2 : 64;
        o->w = realloc(o->w, o->wcap * sizeof *o->w);
        assert_non_null(o->w);
    }
    s_win_t *w = &o->w[o->nw++];
    *w = (s_win_t){.key = key, .start = start, .end = end};
    return w;
}

static s_win_t *s_window(s_oracle_t *o, uint64_t key, int64_t start, int64_t end)
{
    if (2 * (o->nw + 1) + 16 > o->icap) s_reindex(o);
    size_t h = s_mix(key, start) % o->icap;
    while (o->index[h]) {
        s_win_t *w = &o->w[o->index[h] - 1];
        if (w->key == key && w->start == start) return w;
        h = (h + 1) % o->icap;
    }
    s_new_window(o, key, start, end);
    o->index[h] = (int64_t)o->nw;
    return &o->w[o->nw - 1];
}

static void s_addrec(s_win_t *w, uint32_t r)
{
    if (w->n == w->cap) {
        w->cap = w->cap ? w->cap * 2 : 8;
        w->recs = realloc(w->recs, w->cap * sizeof *w->recs);
        assert_non_null(w->recs);
    }
    w->recs[w->n++] = r;
}

static int s_cmp_double(const void *x, const void *y)
{
    double a = *(const double *)x, b = *(const double *)y;
    return a < b ? -1 : a > b;
}

/* The result of window w from its raw records, in the engine's summation order. */
static void s_result(const s_oracle_t *o, const s_win_t *w, uint8_t late, ws_res_t *r)
{
    const wr_window_spec_t *s = &o->spec;
    *r = (ws_res_t){.key = w->key, .start = w->start, .end = w->end, .count = w->n, .late = late};
    bool session = s->kind == WR_WINDOW_SESSION;
    for (uint32_t a = 0; a < s->naggs; a++) {
        uint32_t c = s->aggs[a].col;
        double sum = 0, mn = INFINITY, mx = -INFINITY, first = NAN, last = NAN;
        int64_t tf = INT64_MAX, tl = INT64_MIN;
        /* sums: per pane in arrival order from 0.0, then panes ascending from 0.0 */
        if (session) {
            for (size_t i = 0; i < w->n; i++)
                sum += o->recs[w->recs[i]].v[c];
        } else {
            int64_t p0 = wr_test_floor_div(w->start, o->P),
                    p1 = wr_test_floor_div(w->end - 1, o->P);
            for (int64_t p = p0; p <= p1; p++) {
                double ps = 0;
                bool any = false;
                for (size_t i = 0; i < w->n; i++) {
                    const s_rec_t *x = &o->recs[w->recs[i]];
                    if (wr_test_floor_div(x->ts, o->P) == p) {
                        ps += x->v[c];
                        any = true;
                    }
                }
                if (any) sum += ps;
            }
        }
        double *vals = malloc((w->n + 1) * sizeof *vals);
        for (size_t i = 0; i < w->n; i++) {
            const s_rec_t *x = &o->recs[w->recs[i]];
            double v = x->v[c];
            vals[i] = v;
            if (v < mn) mn = v;
            if (v > mx) mx = v;
            if (x->ts < tf) tf = x->ts, first = v;
            if (x->ts >= tl) tl = x->ts, last = v;
        }
        double n = (double)w->n, mean = 0, m2 = 0;
        for (size_t i = 0; i < w->n; i++)
            mean += vals[i];
        mean /= n;
        for (size_t i = 0; i < w->n; i++)
            m2 += (vals[i] - mean) * (vals[i] - mean);
        switch (s->aggs[a].kind) {
        case WR_AGG_COUNT:
            r->v[a] = n;
            break;
        case WR_AGG_SUM:
            r->v[a] = sum;
            break;
        case WR_AGG_MIN:
            r->v[a] = mn;
            break;
        case WR_AGG_MAX:
            r->v[a] = mx;
            break;
        case WR_AGG_AVG:
            r->v[a] = sum / n;
            break;
        case WR_AGG_STDDEV:
            r->v[a] = sqrt(m2 / n);
            break;
        case WR_AGG_STDDEV_SAMP:
            r->v[a] = w->n > 1 ? sqrt(m2 / (n - 1)) : NAN;
            break;
        case WR_AGG_FIRST:
            r->v[a] = first;
            break;
        case WR_AGG_LAST:
            r->v[a] = last;
            break;
        case WR_AGG_QUANTILE:
            qsort(vals, w->n, sizeof *vals, s_cmp_double);
            r->v[a] = vals[(size_t)floor(s->aggs[a].q * (n - 1))];
            break;
        }
        free(vals);
    }
}

static void s_init(s_oracle_t *o, const wr_window_spec_t *spec)
{
    memset(o, 0, sizeof *o);
    o->spec = *spec;
    o->wm = WR_WINDOW_TS_MIN - 1;
    if (spec->kind != WR_WINDOW_SESSION)
        o->P = wr_test_gcd(spec->size_ms,
                           spec->kind == WR_WINDOW_SLIDING ? spec->slide_ms : spec->size_ms);
    s_reindex(o);
}

static void s_free(s_oracle_t *o)
{
    for (size_t i = 0; i < o->nw; i++)
        free(o->w[i].recs);
    free(o->w);
    free(o->index);
    free(o->recs);
}

static uint32_t s_store(s_oracle_t *o, uint64_t key, int64_t ts, const double *v)
{
    if (o->nrecs == o->rcap) {
        o->rcap = o->rcap ? o->rcap * 2 : 1024;
        o->recs = realloc(o->recs, o->rcap * sizeof *o->recs);
        assert_non_null(o->recs);
    }
    s_rec_t *r = &o->recs[o->nrecs];
    r->key = key;
    r->ts = ts;
    memcpy(r->v, v, sizeof r->v);
    return (uint32_t)o->nrecs++;
}

static void s_add_sliced(s_oracle_t *o, uint64_t key, int64_t ts, const double *v, uint32_t row,
                         ws_out_t *out)
{
    const wr_window_spec_t *s = &o->spec;
    int64_t size = s->size_ms, slide = s->kind == WR_WINDOW_SLIDING ? s->slide_ms : size;
    uint32_t r = s_store(o, key, ts, v);
    bool added = false;
    s_win_t *touched[4096];
    size_t nt = 0;
    /* every window [st, st + size) with st a multiple of slide containing ts, oldest first */
    for (int64_t st = wr_test_floor_div(ts - size, slide) * slide + slide; st <= ts; st += slide) {
        if (st + size - 1 + s->lateness_ms <= o->wm) continue; /* cleaned up */
        s_win_t *w = s_window(o, key, st, st + size);
        s_addrec(w, r);
        added = true;
        if (st + size - 1 <= o->wm) touched[nt++] = w;
    }
    if (!added) {
        ws_late(out, &row, 1);
        return;
    }
    for (size_t i = 0; i < nt; i++) {
        ws_res_t x;
        s_result(o, touched[i], 1, &x);
        ws_out_push(out, &x);
    }
}

static int s_cmp_u32(const void *x, const void *y);

static void s_add_session(s_oracle_t *o, uint64_t key, int64_t ts, const double *v, uint32_t row,
                          ws_out_t *out)
{
    const wr_window_spec_t *s = &o->spec;
    int64_t st = ts, en = ts + s->gap_ms;
    /* Merge with every live session of the key that intersects (repeat until stable). */
    s_win_t *m = NULL;
    bool grew = true;
    while (grew) {
        grew = false;
        for (size_t i = 0; i < o->nw; i++) {
            s_win_t *w = &o->w[i];
            if (w->dead || w == m || w->key != key || !(w->start <= en && w->end >= st)) continue;
            if (w->start < st) st = w->start;
            if (w->end > en) en = w->end;
            if (!m) {
                m = w;
            } else { /* absorb w into m; record indices are arrival order */
                for (size_t k = 0; k < w->n; k++)
                    s_addrec(m, w->recs[k]);
                qsort(m->recs, m->n, sizeof *m->recs, s_cmp_u32);
                w->dead = true;
                w->n = 0;
            }
            grew = true;
        }
    }
    if (!m && en - 1 + s->lateness_ms <= o->wm) {
        ws_late(out, &row, 1);
        return;
    }
    uint32_t r = s_store(o, key, ts, v);
    if (!m) m = s_new_window(o, key, st, en);
    m->start = st;
    m->end = en;
    s_addrec(m, r);
    if (en - 1 <= o->wm) {
        ws_res_t x;
        s_result(o, m, 1, &x);
        ws_out_push(out, &x);
        m->fired = true;
    } else {
        m->fired = false;
    }
}

static void s_add(s_oracle_t *o, const uint64_t *keys, const int64_t *ts, const double *const *cols,
                  size_t n, ws_out_t *out)
{
    for (size_t i = 0; i < n; i++) {
        double v[WO_NCOL] = {cols[0][i], cols[1][i]};
        if (ts[i] < WR_WINDOW_TS_MIN || ts[i] > WR_WINDOW_TS_MAX) {
            uint32_t row = (uint32_t)i;
            ws_late(out, &row, 1);
            continue;
        }
        if (o->spec.kind == WR_WINDOW_SESSION)
            s_add_session(o, keys[i], ts[i], v, (uint32_t)i, out);
        else
            s_add_sliced(o, keys[i], ts[i], v, (uint32_t)i, out);
    }
}

static void s_oracle_advance(s_oracle_t *o, int64_t wm, ws_out_t *out)
{
    if (wm <= o->wm) return;
    int64_t old = o->wm;
    bool session = o->spec.kind == WR_WINDOW_SESSION;
    for (size_t i = 0; i < o->nw; i++) {
        s_win_t *w = &o->w[i];
        if (w->dead || !w->n) continue;
        bool due =
            session ? (!w->fired && w->end - 1 <= wm) : (w->end - 1 > old && w->end - 1 <= wm);
        if (due) {
            ws_res_t x;
            s_result(o, w, 0, &x);
            ws_out_push(out, &x);
            w->fired = true;
        }
    }
    for (size_t i = 0; i < o->nw; i++)
        if (o->w[i].end - 1 + o->spec.lateness_ms <= wm) o->w[i].dead = true;
    o->wm = wm;
    s_reindex(o);
}

static int s_cmp_u32(const void *x, const void *y)
{
    uint32_t a = *(const uint32_t *)x, b = *(const uint32_t *)y;
    return a < b ? -1 : a > b;
}

/* ---- comparing ---- */

static bool s_close(double a, double b, double rel)
{
    if (isnan(a) || isnan(b)) return isnan(a) && isnan(b);
    if (a == b) return true;
    return fabs(a - b) <= rel * fmax(fabs(a), fabs(b)) + 1e-12;
}

static void s_compare(const wr_window_spec_t *spec, ws_out_t *got, ws_out_t *want, const char *what)
{
    if (got->n) qsort(got->r, got->n, sizeof *got->r, ws_res_cmp);
    if (want->n) qsort(want->r, want->n, sizeof *want->r, ws_res_cmp);
    if (got->n != want->n) {
        fprintf(stderr, "%s: %zu results, oracle %zu\n", what, got->n, want->n);
        for (size_t i = 0; i < got->n || i < want->n; i++) {
            if (i < got->n)
                fprintf(stderr, "  got  key %llu [%lld,%lld) n=%llu late=%d\n",
                        (unsigned long long)got->r[i].key, (long long)got->r[i].start,
                        (long long)got->r[i].end, (unsigned long long)got->r[i].count,
                        got->r[i].late);
            if (i < want->n)
                fprintf(stderr, "  want key %llu [%lld,%lld) n=%llu late=%d\n",
                        (unsigned long long)want->r[i].key, (long long)want->r[i].start,
                        (long long)want->r[i].end, (unsigned long long)want->r[i].count,
                        want->r[i].late);
            if (i > 20) break;
        }
    }
    assert_int_equal(got->n, want->n);
    for (size_t i = 0; i < got->n; i++) {
        const ws_res_t *g = &got->r[i], *x = &want->r[i];
        if (g->key != x->key || g->start != x->start || g->end != x->end || g->count != x->count ||
            g->late != x->late)
            fprintf(stderr,
                    "%s: #%zu got key %llu [%lld,%lld) n=%llu late=%d, want key %llu "
                    "[%lld,%lld) n=%llu late=%d\n",
                    what, i, (unsigned long long)g->key, (long long)g->start, (long long)g->end,
                    (unsigned long long)g->count, g->late, (unsigned long long)x->key,
                    (long long)x->start, (long long)x->end, (unsigned long long)x->count, x->late);
        assert_true(g->key == x->key && g->start == x->start && g->end == x->end);
        assert_int_equal(g->count, x->count);
        assert_int_equal(g->late, x->late);
        for (uint32_t a = 0; a < spec->naggs; a++) {
            wr_agg_kind_t k = spec->aggs[a].kind;
            bool ok;
            if (k == WR_AGG_STDDEV || k == WR_AGG_STDDEV_SAMP)
                ok = s_close(g->v[a], x->v[a], 1e-9);
            else if (k == WR_AGG_QUANTILE)
                ok = fabs(g->v[a] - x->v[a]) <= spec->sketch_alpha * fabs(x->v[a]) * (1 + 1e-9);
            else
                ok = g->v[a] == x->v[a] || (isnan(g->v[a]) && isnan(x->v[a]));
            if (!ok)
                fprintf(stderr, "%s: key %llu [%lld,%lld) agg %u (%s): got %.17g want %.17g\n",
                        what, (unsigned long long)g->key, (long long)g->start, (long long)g->end, a,
                        wr_agg_name(k), g->v[a], x->v[a]);
            assert_true(ok);
        }
    }
    assert_int_equal(got->nlate, want->nlate);
    for (size_t i = 0; i < got->nlate; i++)
        assert_int_equal(got->late_rows[i], want->late_rows[i]);
    ws_out_clear(got);
    ws_out_clear(want);
}

/* ---- random streams ---- */

static double s_rnd01(uint64_t *r)
{
    return (double)(wr_splitmix64(r) >> 11) / 9007199254740992.0;
}

wo_stats_t wo_run(const wo_run_t *rp)
{
    wo_run_t r = *rp;
    int err = 0;
    wr_window_t *w = wr_window_new(&r.spec, &err);
    assert_non_null(w);
    r.spec.sketch_alpha = r.spec.sketch_alpha ? r.spec.sketch_alpha : WR_WINDOW_DEFAULT_ALPHA;
    s_oracle_t o;
    s_init(&o, &r.spec);
    ws_out_t got = {.naggs = r.spec.naggs, .pausing = r.pause}, want = {.naggs = r.spec.naggs};
    wr_window_sink_t sink = {.emit = ws_emit, .late = ws_late, .full = ws_full, .ctx = &got};
    uint64_t g = r.seed;
    uint64_t *keys = malloc(r.max_batch * sizeof *keys + 8);
    int64_t *ts = malloc(r.max_batch * sizeof *ts + 8);
    double *c0 = malloc(r.max_batch * sizeof(double) + 8),
           *c1 = malloc(r.max_batch * sizeof(double) + 8);
    const double *cols[WO_NCOL] = {c0, c1};
    int64_t now = r.t0, max_ts = r.t0;
    wo_stats_t st = {0};
    char what[128];
    for (uint32_t b = 0; b < r.batches; b++) {
        size_t n = wr_splitmix64(&g) % (r.max_batch + 1);
        if (wr_splitmix64(&g) % 16 == 0) n = 0;
        for (size_t i = 0; i < n; i++) {
            keys[i] = 1000003ULL * (wr_splitmix64(&g) % r.nkeys) + 7;
            now += (int64_t)(wr_splitmix64(&g) % (uint64_t)(r.step + 1));
            int64_t t = now - (int64_t)(wr_splitmix64(&g) % (uint64_t)(r.jitter + 1));
            if (s_rnd01(&g) < r.late_frac)
                t = wr_window_watermark(w) -
                    (int64_t)(wr_splitmix64(&g) % (uint64_t)(r.late_span + 1));
            if (t < WR_WINDOW_TS_MIN) t = WR_WINDOW_TS_MIN - 1 - (int64_t)(wr_splitmix64(&g) % 2);
            ts[i] = t;
            if (t > max_ts) max_ts = t;
            if (r.dyadic) {
                c0[i] = (double)((int64_t)(wr_splitmix64(&g) % 8001) - 4000) / 8;
                c1[i] = (double)((int64_t)(wr_splitmix64(&g) % 801)) / 4;
            } else {
                c0[i] = (s_rnd01(&g) - 0.5) * 2000;
                c1[i] = s_rnd01(&g) * 100 + 0.001;
            }
        }
        snprintf(what, sizeof what, "seed %llu batch %u add", (unsigned long long)r.seed, b);
        assert_int_equal(wr_window_add(w, keys, ts, cols, n, &sink), 0);
        s_add(&o, keys, ts, cols, n, &want);
        s_compare(&r.spec, &got, &want, what);

        int64_t wm;
        unsigned pick = r.steady_wm ? 49 : (unsigned)(wr_splitmix64(&g) % 50);
        if (pick < 8)
            wm = wr_window_watermark(w); /* not advancing */
        else if (pick == 8)
            wm = max_ts + 3 * (r.spec.size_ms + r.spec.gap_ms); /* far ahead */
        else if (pick == 9)
            wm = wr_window_watermark(w) - 5; /* backwards: ignored */
        else
            wm = max_ts - r.jitter - 1;
        snprintf(what, sizeof what, "seed %llu batch %u advance %lld", (unsigned long long)r.seed,
                 b, (long long)wm);
        assert_int_equal(ws_advance(w, wm, &sink), 0);
        s_oracle_advance(&o, wm, &want);
        s_compare(&r.spec, &got, &want, what);
        if (wm > max_ts) max_ts = now = wm;

        wr_window_stats_t ws;
        wr_window_stats(w, &ws);
        if (ws.spill_panes > st.spill_max) st.spill_max = ws.spill_panes;
        if (ws.keys_live > st.keys_max) st.keys_max = ws.keys_live;
        assert_true(ws.memory_bytes > 0);
    }
    /* The end of the stream: everything fires and every bit of state goes away. */
    assert_int_equal(ws_advance(w, INT64_MAX, &sink), 0);
    s_oracle_advance(&o, WR_WINDOW_TS_MAX + 4 * ((int64_t)1 << 50), &want);
    s_compare(&r.spec, &got, &want, "final watermark");
    wr_window_stats_t ws;
    wr_window_stats(w, &ws);
    assert_int_equal(ws.keys_live, 0);
    assert_int_equal(ws.panes_live, 0);
    if (r.spec.backend != WR_WINDOW_BACKEND_ROCKSDB) /* rocksdb: records into closed panes */
        assert_int_equal(ws.spill_panes, 0);
    assert_int_equal(ws.sketches, 0);
    st.fired = ws.windows_fired;
    st.refires = ws.late_refires;
    st.dropped = ws.dropped_late;
    st.pauses = got.pauses;
    if (!r.pause) assert_int_equal(got.pauses, 0);
    free(keys);
    free(ts);
    free(c0);
    free(c1);
    ws_out_free(&got);
    ws_out_free(&want);
    s_free(&o);
    wr_window_destroy(&w);
    assert_null(w);
    return st;
}

void wo_all_aggs(wr_window_spec_t *s)
{
    const wr_agg_t aggs[] = {
        {WR_AGG_COUNT, 0, 0},       {WR_AGG_SUM, 0, 0},         {WR_AGG_MIN, 0, 0},
        {WR_AGG_MAX, 0, 0},         {WR_AGG_AVG, 0, 0},         {WR_AGG_STDDEV, 1, 0},
        {WR_AGG_STDDEV_SAMP, 1, 0}, {WR_AGG_FIRST, 1, 0},       {WR_AGG_LAST, 0, 0},
        {WR_AGG_QUANTILE, 0, 0.5},  {WR_AGG_QUANTILE, 1, 0.95}, {WR_AGG_SUM, 1, 0},
        {WR_AGG_QUANTILE, 1, 0.0},  {WR_AGG_QUANTILE, 1, 1.0},
    };
    s->ncols = WO_NCOL;
    s->naggs = sizeof aggs / sizeof aggs[0];
    memcpy(s->aggs, aggs, sizeof aggs);
}

void wo_basic_aggs(wr_window_spec_t *s)
{
    const wr_agg_t aggs[] = {
        {WR_AGG_COUNT, 0, 0}, {WR_AGG_SUM, 0, 0}, {WR_AGG_MIN, 0, 0}, {WR_AGG_MAX, 0, 0}};
    s->ncols = WO_NCOL;
    s->naggs = 4;
    memcpy(s->aggs, aggs, sizeof aggs);
}

void wo_check_clamp(const wr_window_spec_t *spec)
{
    wr_window_spec_t s = *spec;
    const wr_agg_t aggs[] = {{WR_AGG_QUANTILE, 0, 0.95}, {WR_AGG_QUANTILE, 0, 0.0},
                             {WR_AGG_MIN, 0, 0},         {WR_AGG_MAX, 0, 0},
                             {WR_AGG_QUANTILE, 1, 0.95}, {WR_AGG_QUANTILE, 1, 0.0}};
    s.ncols = WO_NCOL;
    s.naggs = sizeof aggs / sizeof aggs[0];
    memcpy(s.aggs, aggs, sizeof aggs);
    double alpha = s.sketch_alpha ? s.sketch_alpha : WR_WINDOW_DEFAULT_ALPHA;
    double gamma = (1 + alpha) / (1 - alpha), edge = pow(gamma, 100);
    /* key 1: just above a bucket's lower end, read back ~alpha above; key 2: just below its
     * upper end, read back ~alpha below */
    const double x[2] = {edge * (1 + 1e-4), edge * (1 - 1e-4)};
    int err = 0;
    wr_window_t *w = wr_window_new(&s, &err);
    assert_non_null(w);
    uint64_t keys[40];
    int64_t ts[40];
    double c0[40], c1[40];
    for (int i = 0; i < 40; i++) {
        keys[i] = 1 + (uint64_t)(i % 2);
        ts[i] = 10 + i;
        c0[i] = c1[i] = x[i % 2];
    }
    const double *cols[WO_NCOL] = {c0, c1};
    ws_out_t got = {.naggs = s.naggs};
    wr_window_sink_t sink = {.emit = ws_emit, .ctx = &got};
    assert_int_equal(wr_window_add(w, keys, ts, cols, 40, &sink), 0);
    assert_int_equal(ws_advance(w, INT64_MAX, &sink), 0);
    assert_true(got.n >= 2);
    for (size_t i = 0; i < got.n; i++) {
        const ws_res_t *r = &got.r[i];
        double v = x[r->key - 1];
        assert_int_equal(r->count, 20);
        assert_true(r->v[2] == v && r->v[3] == v);
        for (int a = 0; a < 6; a++)
            if (a != 2 && a != 3 && r->v[a] != v)
                fail_msg("key %llu: quantile %d is %.17g, outside [min, max] = %.17g",
                         (unsigned long long)r->key, a, r->v[a], v);
    }
    ws_out_free(&got);
    wr_window_destroy(&w);
}
