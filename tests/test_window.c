/* wr_window: keyed event-time windows, judged against a brute-force oracle.
 *
 * The oracle follows Flink's WindowOperator literally: for every record, every window containing
 * it (or, for sessions, the merged session) keeps the raw record; a window fires when the
 * watermark passes its end, a late record re-fires its windows, cleaned-up windows are gone and a
 * record with no window left goes to the side output. Aggregates are recomputed from the raw
 * records in arrival order (sums pane by pane, as window.h/agg.h define the order), so results
 * must match the engine exactly, record for record. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "actors/dataflow/window/window.h"
#include "bus/base/error.h"
#include "tests/window_support.h"

#define NCOL 2

/* ---- the oracle (the engine's results are collected by tests/window_support.h) ---- */

typedef struct {
    uint64_t key;
    int64_t ts;
    double v[NCOL];
} rec_t;

typedef struct {
    uint64_t key;
    int64_t start, end;
    uint32_t *recs; /* indices into the record store, arrival order */
    size_t n, cap;
    bool fired; /* sessions: fired at the current end */
    bool dead;
} owin_t;

typedef struct {
    wr_window_spec_t spec;
    int64_t P; /* pane length: defines the summation order of sliced windows */
    int64_t wm;
    rec_t *recs;
    size_t nrecs, rcap;
    owin_t *w;
    size_t nw, wcap;
    int64_t *index; /* open addressing over w (sliced kinds): position + 1 */
    size_t icap;
} oracle_t;

static int64_t s_floor_div(int64_t a, int64_t b)
{
    int64_t q = a / b;
    return q - ((a % b != 0) && ((a < 0) != (b < 0)));
}

static int64_t s_gcd(int64_t a, int64_t b)
{
    while (b) {
        int64_t t = a % b;
        a = b;
        b = t;
    }
    return a;
}

static uint64_t s_mix(uint64_t k, int64_t s)
{
    uint64_t x = k * 0x9e3779b97f4a7c15ULL ^ (uint64_t)s * 0xc2b2ae3d27d4eb4fULL;
    x ^= x >> 31;
    return x * 0x94d049bb133111ebULL;
}

static void o_reindex(oracle_t *o)
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

static owin_t *o_new_window(oracle_t *o, uint64_t key, int64_t start, int64_t end)
{
    if (o->nw == o->wcap) {
        o->wcap = o->wcap ? o->wcap * 2 : 64;
        o->w = realloc(o->w, o->wcap * sizeof *o->w);
        assert_non_null(o->w);
    }
    owin_t *w = &o->w[o->nw++];
    *w = (owin_t){.key = key, .start = start, .end = end};
    return w;
}

static owin_t *o_window(oracle_t *o, uint64_t key, int64_t start, int64_t end)
{
    if (2 * (o->nw + 1) + 16 > o->icap) o_reindex(o);
    size_t h = s_mix(key, start) % o->icap;
    while (o->index[h]) {
        owin_t *w = &o->w[o->index[h] - 1];
        if (w->key == key && w->start == start) return w;
        h = (h + 1) % o->icap;
    }
    o_new_window(o, key, start, end);
    o->index[h] = (int64_t)o->nw;
    return &o->w[o->nw - 1];
}

static void o_addrec(owin_t *w, uint32_t r)
{
    if (w->n == w->cap) {
        w->cap = w->cap ? w->cap * 2 : 8;
        w->recs = realloc(w->recs, w->cap * sizeof *w->recs);
        assert_non_null(w->recs);
    }
    w->recs[w->n++] = r;
}

static int d_cmp(const void *x, const void *y)
{
    double a = *(const double *)x, b = *(const double *)y;
    return a < b ? -1 : a > b;
}

/* The result of window w from its raw records, in the engine's summation order. */
static void o_result(const oracle_t *o, const owin_t *w, uint8_t late, res_t *r)
{
    const wr_window_spec_t *s = &o->spec;
    *r = (res_t){.key = w->key, .start = w->start, .end = w->end, .count = w->n, .late = late};
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
            int64_t p0 = s_floor_div(w->start, o->P), p1 = s_floor_div(w->end - 1, o->P);
            for (int64_t p = p0; p <= p1; p++) {
                double ps = 0;
                bool any = false;
                for (size_t i = 0; i < w->n; i++) {
                    const rec_t *x = &o->recs[w->recs[i]];
                    if (s_floor_div(x->ts, o->P) == p) {
                        ps += x->v[c];
                        any = true;
                    }
                }
                if (any) sum += ps;
            }
        }
        double *vals = malloc((w->n + 1) * sizeof *vals);
        for (size_t i = 0; i < w->n; i++) {
            const rec_t *x = &o->recs[w->recs[i]];
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
            qsort(vals, w->n, sizeof *vals, d_cmp);
            r->v[a] = vals[(size_t)floor(s->aggs[a].q * (n - 1))];
            break;
        }
        free(vals);
    }
}

static void o_init(oracle_t *o, const wr_window_spec_t *spec)
{
    memset(o, 0, sizeof *o);
    o->spec = *spec;
    o->wm = WR_WINDOW_TS_MIN - 1;
    if (spec->kind != WR_WINDOW_SESSION)
        o->P =
            s_gcd(spec->size_ms, spec->kind == WR_WINDOW_SLIDING ? spec->slide_ms : spec->size_ms);
    o_reindex(o);
}

static void o_free(oracle_t *o)
{
    for (size_t i = 0; i < o->nw; i++)
        free(o->w[i].recs);
    free(o->w);
    free(o->index);
    free(o->recs);
}

static uint32_t o_store(oracle_t *o, uint64_t key, int64_t ts, const double *v)
{
    if (o->nrecs == o->rcap) {
        o->rcap = o->rcap ? o->rcap * 2 : 1024;
        o->recs = realloc(o->recs, o->rcap * sizeof *o->recs);
        assert_non_null(o->recs);
    }
    rec_t *r = &o->recs[o->nrecs];
    r->key = key;
    r->ts = ts;
    memcpy(r->v, v, sizeof r->v);
    return (uint32_t)o->nrecs++;
}

static void o_add_sliced(oracle_t *o, uint64_t key, int64_t ts, const double *v, uint32_t row,
                         out_t *out)
{
    const wr_window_spec_t *s = &o->spec;
    int64_t size = s->size_ms, slide = s->kind == WR_WINDOW_SLIDING ? s->slide_ms : size;
    uint32_t r = o_store(o, key, ts, v);
    bool added = false;
    owin_t *touched[4096];
    size_t nt = 0;
    /* every window [st, st + size) with st a multiple of slide containing ts, oldest first */
    for (int64_t st = s_floor_div(ts - size, slide) * slide + slide; st <= ts; st += slide) {
        if (st + size - 1 + s->lateness_ms <= o->wm) continue; /* cleaned up */
        owin_t *w = o_window(o, key, st, st + size);
        o_addrec(w, r);
        added = true;
        if (st + size - 1 <= o->wm) touched[nt++] = w;
    }
    if (!added) {
        s_late(out, &row, 1);
        return;
    }
    for (size_t i = 0; i < nt; i++) {
        res_t x;
        o_result(o, touched[i], 1, &x);
        out_push(out, &x);
    }
}

static int u32_cmp(const void *x, const void *y);

static void o_add_session(oracle_t *o, uint64_t key, int64_t ts, const double *v, uint32_t row,
                          out_t *out)
{
    const wr_window_spec_t *s = &o->spec;
    int64_t st = ts, en = ts + s->gap_ms;
    /* Merge with every live session of the key that intersects (repeat until stable). */
    owin_t *m = NULL;
    bool grew = true;
    while (grew) {
        grew = false;
        for (size_t i = 0; i < o->nw; i++) {
            owin_t *w = &o->w[i];
            if (w->dead || w == m || w->key != key || !(w->start <= en && w->end >= st)) continue;
            if (w->start < st) st = w->start;
            if (w->end > en) en = w->end;
            if (!m) {
                m = w;
            } else { /* absorb w into m; record indices are arrival order */
                for (size_t k = 0; k < w->n; k++)
                    o_addrec(m, w->recs[k]);
                qsort(m->recs, m->n, sizeof *m->recs, u32_cmp);
                w->dead = true;
                w->n = 0;
            }
            grew = true;
        }
    }
    if (!m && en - 1 + s->lateness_ms <= o->wm) {
        s_late(out, &row, 1);
        return;
    }
    uint32_t r = o_store(o, key, ts, v);
    if (!m) m = o_new_window(o, key, st, en);
    m->start = st;
    m->end = en;
    o_addrec(m, r);
    if (en - 1 <= o->wm) {
        res_t x;
        o_result(o, m, 1, &x);
        out_push(out, &x);
        m->fired = true;
    } else {
        m->fired = false;
    }
}

static void o_add(oracle_t *o, const uint64_t *keys, const int64_t *ts, const double *const *cols,
                  size_t n, out_t *out)
{
    for (size_t i = 0; i < n; i++) {
        double v[NCOL] = {cols[0][i], cols[1][i]};
        if (ts[i] < WR_WINDOW_TS_MIN || ts[i] > WR_WINDOW_TS_MAX) {
            uint32_t row = (uint32_t)i;
            s_late(out, &row, 1);
            continue;
        }
        if (o->spec.kind == WR_WINDOW_SESSION)
            o_add_session(o, keys[i], ts[i], v, (uint32_t)i, out);
        else
            o_add_sliced(o, keys[i], ts[i], v, (uint32_t)i, out);
    }
}

static void o_advance(oracle_t *o, int64_t wm, out_t *out)
{
    if (wm <= o->wm) return;
    int64_t old = o->wm;
    bool session = o->spec.kind == WR_WINDOW_SESSION;
    for (size_t i = 0; i < o->nw; i++) {
        owin_t *w = &o->w[i];
        if (w->dead || !w->n) continue;
        bool due =
            session ? (!w->fired && w->end - 1 <= wm) : (w->end - 1 > old && w->end - 1 <= wm);
        if (due) {
            res_t x;
            o_result(o, w, 0, &x);
            out_push(out, &x);
            w->fired = true;
        }
    }
    for (size_t i = 0; i < o->nw; i++)
        if (o->w[i].end - 1 + o->spec.lateness_ms <= wm) o->w[i].dead = true;
    o->wm = wm;
    o_reindex(o);
}

static int u32_cmp(const void *x, const void *y)
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

static void s_compare(const wr_window_spec_t *spec, out_t *got, out_t *want, const char *what)
{
    if (got->n) qsort(got->r, got->n, sizeof *got->r, res_cmp);
    if (want->n) qsort(want->r, want->n, sizeof *want->r, res_cmp);
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
        const res_t *g = &got->r[i], *x = &want->r[i];
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
    out_clear(got);
    out_clear(want);
}

/* ---- random streams ---- */

typedef struct {
    uint64_t s;
} rng_t;

static uint64_t rnd(rng_t *r)
{
    uint64_t z = (r->s += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

static double rnd01(rng_t *r)
{
    return (double)(rnd(r) >> 11) / 9007199254740992.0;
}

typedef struct {
    wr_window_spec_t spec;
    uint64_t seed;
    uint32_t nkeys;
    uint32_t batches;
    uint32_t max_batch;
    int64_t t0;
    int64_t step;      /* max event-time advance per record */
    int64_t jitter;    /* bounded out-of-orderness */
    double late_frac;  /* records placed behind the watermark */
    int64_t late_span; /* how far behind */
    bool dyadic;       /* values k/8: sums exact in any order (sessions) */
    bool pause;        /* the sink keeps pausing firings */
    bool steady_wm;    /* every batch moves the watermark to max_ts - jitter - 1 */
} run_t;

typedef struct {
    uint64_t fired, refires, dropped, spill_max, keys_max, pauses;
} run_stats_t;

/* Drives engine and oracle with the same stream and watermarks; compares after every call. */
static run_stats_t s_run(const run_t *rp)
{
    run_t r = *rp;
    int err = 0;
    wr_window_t *w = wr_window_new(&r.spec, &err);
    assert_non_null(w);
    r.spec.sketch_alpha = r.spec.sketch_alpha ? r.spec.sketch_alpha : WR_WINDOW_DEFAULT_ALPHA;
    oracle_t o;
    o_init(&o, &r.spec);
    out_t got = {.naggs = r.spec.naggs, .pausing = r.pause}, want = {.naggs = r.spec.naggs};
    wr_window_sink_t sink = {.emit = s_emit, .late = s_late, .full = s_full, .ctx = &got};
    rng_t g = {r.seed};
    uint64_t *keys = malloc(r.max_batch * sizeof *keys + 8);
    int64_t *ts = malloc(r.max_batch * sizeof *ts + 8);
    double *c0 = malloc(r.max_batch * sizeof(double) + 8),
           *c1 = malloc(r.max_batch * sizeof(double) + 8);
    const double *cols[NCOL] = {c0, c1};
    int64_t now = r.t0, max_ts = r.t0;
    run_stats_t st = {0};
    char what[128];
    for (uint32_t b = 0; b < r.batches; b++) {
        size_t n = rnd(&g) % (r.max_batch + 1);
        if (rnd(&g) % 16 == 0) n = 0;
        for (size_t i = 0; i < n; i++) {
            keys[i] = 1000003ULL * (rnd(&g) % r.nkeys) + 7;
            now += (int64_t)(rnd(&g) % (uint64_t)(r.step + 1));
            int64_t t = now - (int64_t)(rnd(&g) % (uint64_t)(r.jitter + 1));
            if (rnd01(&g) < r.late_frac)
                t = wr_window_watermark(w) - (int64_t)(rnd(&g) % (uint64_t)(r.late_span + 1));
            if (t < WR_WINDOW_TS_MIN) t = WR_WINDOW_TS_MIN - 1 - (int64_t)(rnd(&g) % 2);
            ts[i] = t;
            if (t > max_ts) max_ts = t;
            if (r.dyadic) {
                c0[i] = (double)((int64_t)(rnd(&g) % 8001) - 4000) / 8;
                c1[i] = (double)((int64_t)(rnd(&g) % 801)) / 4;
            } else {
                c0[i] = (rnd01(&g) - 0.5) * 2000;
                c1[i] = rnd01(&g) * 100 + 0.001;
            }
        }
        snprintf(what, sizeof what, "seed %llu batch %u add", (unsigned long long)r.seed, b);
        assert_int_equal(wr_window_add(w, keys, ts, cols, n, &sink), 0);
        o_add(&o, keys, ts, cols, n, &want);
        s_compare(&r.spec, &got, &want, what);

        int64_t wm;
        unsigned pick = r.steady_wm ? 49 : (unsigned)(rnd(&g) % 50);
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
        assert_int_equal(s_advance(w, wm, &sink), 0);
        o_advance(&o, wm, &want);
        s_compare(&r.spec, &got, &want, what);
        if (wm > max_ts) max_ts = now = wm;

        wr_window_stats_t ws;
        wr_window_stats(w, &ws);
        if (ws.spill_panes > st.spill_max) st.spill_max = ws.spill_panes;
        if (ws.keys_live > st.keys_max) st.keys_max = ws.keys_live;
        assert_true(ws.memory_bytes > 0);
    }
    /* The end of the stream: everything fires and every bit of state goes away. */
    assert_int_equal(s_advance(w, INT64_MAX, &sink), 0);
    o_advance(&o, WR_WINDOW_TS_MAX + 4 * ((int64_t)1 << 50), &want);
    s_compare(&r.spec, &got, &want, "final watermark");
    wr_window_stats_t ws;
    wr_window_stats(w, &ws);
    assert_int_equal(ws.keys_live, 0);
    assert_int_equal(ws.panes_live, 0);
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
    out_free(&got);
    out_free(&want);
    o_free(&o);
    wr_window_destroy(&w);
    assert_null(w);
    return st;
}

static void s_all_aggs(wr_window_spec_t *s)
{
    const wr_agg_t aggs[] = {
        {WR_AGG_COUNT, 0, 0},       {WR_AGG_SUM, 0, 0},         {WR_AGG_MIN, 0, 0},
        {WR_AGG_MAX, 0, 0},         {WR_AGG_AVG, 0, 0},         {WR_AGG_STDDEV, 1, 0},
        {WR_AGG_STDDEV_SAMP, 1, 0}, {WR_AGG_FIRST, 1, 0},       {WR_AGG_LAST, 0, 0},
        {WR_AGG_QUANTILE, 0, 0.5},  {WR_AGG_QUANTILE, 1, 0.95}, {WR_AGG_SUM, 1, 0},
        {WR_AGG_QUANTILE, 1, 0.0},  {WR_AGG_QUANTILE, 1, 1.0},
    };
    s->ncols = NCOL;
    s->naggs = sizeof aggs / sizeof aggs[0];
    memcpy(s->aggs, aggs, sizeof aggs);
}

static void s_basic_aggs(wr_window_spec_t *s)
{
    const wr_agg_t aggs[] = {
        {WR_AGG_COUNT, 0, 0}, {WR_AGG_SUM, 0, 0}, {WR_AGG_MIN, 0, 0}, {WR_AGG_MAX, 0, 0}};
    s->ncols = NCOL;
    s->naggs = 4;
    memcpy(s->aggs, aggs, sizeof aggs);
}

/* ---- the tests ---- */

static void test_sliding_happy_path(void **state)
{
    (void)state;
    wr_window_spec_t spec = {
        .kind = WR_WINDOW_SLIDING, .size_ms = 3000, .slide_ms = 1000, .expected_keys = 16};
    s_basic_aggs(&spec);
    int err = 0;
    wr_window_t *w = wr_window_new(&spec, &err);
    assert_non_null(w);
    out_t got = {.naggs = 4};
    wr_window_sink_t sink = {.emit = s_emit, .late = s_late, .ctx = &got};

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
    out_clear(&got);

    assert_int_equal(wr_window_advance(w, 2999, &sink), 0); /* windows ending 2000 and 3000 */
    qsort(got.r, got.n, sizeof *got.r, res_cmp);
    assert_int_equal(got.n, 4);
    assert_true(got.r[0].key == 1 && got.r[0].end == 2000 && got.r[0].v[1] == 3);
    assert_true(got.r[1].key == 1 && got.r[1].end == 3000 && got.r[1].count == 3);
    assert_true(got.r[1].v[1] == 7 && got.r[1].v[2] == 1 && got.r[1].v[3] == 4);
    assert_true(got.r[2].key == 2 && got.r[2].end == 2000 && got.r[2].v[0] == 1);
    assert_true(got.r[3].key == 2 && got.r[3].end == 3000 && got.r[3].v[1] == 10);
    out_clear(&got);

    wr_window_stats_t st;
    wr_window_stats(w, &st);
    assert_int_equal(st.keys_live, 2);
    assert_int_equal(st.panes_live, 3); /* pane [0, 1000) went with window [0, 3000) */
    assert_int_equal(st.ring_panes, 3);
    assert_int_equal(st.pane_ms, 1000);

    assert_int_equal(wr_window_advance(w, 10000, &sink), 0); /* [1000,4000) and [2000,5000) */
    qsort(got.r, got.n, sizeof *got.r, res_cmp);
    assert_int_equal(got.n, 3);
    assert_true(got.r[0].key == 1 && got.r[0].start == 1000 && got.r[0].v[1] == 6);
    assert_true(got.r[1].key == 1 && got.r[1].start == 2000 && got.r[1].v[1] == 4);
    assert_true(got.r[2].key == 2 && got.r[2].start == 1000 && got.r[2].v[1] == 10);
    wr_window_stats(w, &st);
    assert_int_equal(st.keys_live, 0);
    assert_int_equal(st.panes_live, 0);
    assert_int_equal(st.windows_fired, 8);
    assert_int_equal(st.records_added, 4);
    out_free(&got);
    wr_window_destroy(&w);
    assert_null(w);
    wr_window_destroy(&w); /* NULL-safe */
}

static void test_sliding_oracle(void **state)
{
    (void)state;
    /* size not a multiple of slide (10/3: panes of 1 s), lateness, late and too-late records */
    for (uint64_t seed = 1; seed <= 10; seed++) {
        run_t r = {.spec = {.kind = WR_WINDOW_SLIDING,
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
        s_all_aggs(&r.spec);
        run_stats_t st = s_run(&r);
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
        run_t r = {.spec = {.kind = WR_WINDOW_SLIDING,
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
        s_basic_aggs(&r.spec);
        run_stats_t st = s_run(&r);
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
        run_t r = {.spec = {.kind = WR_WINDOW_SLIDING,
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
        s_basic_aggs(&r.spec);
        run_stats_t st = s_run(&r);
        assert_true(st.fired > 0);
        if (seed == 21) assert_int_equal(st.spill_max, 0);
    }
    int err = 0;
    wr_window_spec_t spec = {.kind = WR_WINDOW_SLIDING, .size_ms = 600000, .slide_ms = 60000,
                             .lateness_ms = 30000, .ahead_ms = 5000};
    s_basic_aggs(&spec);
    /* 10 panes, one for lateness, the ahead ones (at most 10), and those only when a quarter of
     * the keys or more would have such records at each slide */
    const struct {
        int64_t ahead, interval;
        uint32_t ring;
    } want[] = {{0, 0, 11},         {1, 0, 12},          {60000, 0, 12},    {60001, 0, 13},
                {3600000, 0, 21},   {5000, 20000, 12},   {5000, 20004, 11}, {5000, 600000, 11},
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
        run_t r = {.spec = {.kind = WR_WINDOW_SLIDING,
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
        s_all_aggs(&r.spec);
        run_stats_t st = s_run(&r);
        assert_true(st.fired > 0 && st.dropped > 0);
        if (seed != 17) assert_true(st.spill_max > 0);
        if (seed == 16) assert_true(st.refires > 0);
    }
}

static void test_tumbling_oracle(void **state)
{
    (void)state;
    for (uint64_t seed = 21; seed <= 28; seed++) {
        run_t r = {.spec = {.kind = WR_WINDOW_TUMBLING,
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
        s_all_aggs(&r.spec);
        run_stats_t st = s_run(&r);
        if (r.pause) assert_true(st.pauses > 0);
        assert_true(st.fired > 0 && st.dropped > 0);
        if (r.spec.lateness_ms) assert_true(st.refires > 0);
    }
}

static void test_session_oracle(void **state)
{
    (void)state;
    for (uint64_t seed = 31; seed <= 40; seed++) {
        run_t r = {.spec = {.kind = WR_WINDOW_SESSION,
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
        s_all_aggs(&r.spec);
        run_stats_t st = s_run(&r);
        if (r.pause) assert_true(st.pauses > 0);
        assert_true(st.fired > 0 && st.dropped > 0);
        if (r.spec.lateness_ms) assert_true(st.refires > 0);
    }
}

/* Late records within allowed lateness re-fire with the full result; later ones are side output. */
static void test_late_refire_and_side_output(void **state)
{
    (void)state;
    wr_window_spec_t spec = {.kind = WR_WINDOW_TUMBLING, .size_ms = 1000, .lateness_ms = 500};
    s_basic_aggs(&spec);
    wr_window_t *w = wr_window_new(&spec, NULL);
    assert_non_null(w);
    out_t got = {.naggs = 4};
    wr_window_sink_t sink = {.emit = s_emit, .late = s_late, .ctx = &got};
    double v[] = {5, 7, 9}, z[] = {0, 0, 0};
    const double *cols[] = {v, z};
    uint64_t k[] = {9, 9, 9};
    int64_t t1[] = {100, 900};
    assert_int_equal(wr_window_add(w, k, t1, cols, 2, &sink), 0);
    assert_int_equal(wr_window_advance(w, 1200, &sink), 0);
    assert_int_equal(got.n, 1);
    assert_true(got.r[0].count == 2 && got.r[0].v[1] == 12 && !got.r[0].late);
    out_clear(&got);

    /* two late records in one batch: two re-fires, each with everything so far */
    int64_t t2[] = {300, 10, 1100};
    double v2[] = {1, 2, 3};
    const double *cols2[] = {v2, z};
    assert_int_equal(wr_window_add(w, k, t2, cols2, 3, &sink), 0);
    assert_int_equal(got.n, 2);
    assert_true(got.r[0].late && got.r[0].count == 3 && got.r[0].v[1] == 13);
    assert_true(got.r[1].late && got.r[1].count == 4 && got.r[1].v[1] == 15 && got.r[1].v[2] == 1);
    out_clear(&got);

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
    wr_window_sink_t quiet = {.emit = s_emit, .ctx = &got};
    assert_int_equal(wr_window_add(w, k, t3, cols, 1, &quiet), 0);
    wr_window_stats(w, &st);
    assert_int_equal(st.dropped_late, 3);
    out_free(&got);
    wr_window_destroy(&w);
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
    out_t got = {.naggs = 7};
    wr_window_sink_t sink = {.emit = s_emit, .ctx = &got};
    /* ts 1200 twice (first wins: 10), 1700 twice (last wins: 40), one earlier record at 100 */
    uint64_t k[] = {3, 3, 3, 3, 3};
    int64_t ts[] = {1200, 1700, 1200, 1700, 100};
    double v[] = {10, 30, 20, 40, 2};
    const double *cols[] = {v};
    assert_int_equal(wr_window_add(w, k, ts, cols, 5, &sink), 0);
    assert_int_equal(wr_window_advance(w, 1999, &sink), 0); /* [0,2000) */
    assert_int_equal(got.n, 2);
    qsort(got.r, got.n, sizeof *got.r, res_cmp);
    const res_t *a = &got.r[0], *b = &got.r[1]; /* [-1000,1000) then [0,2000) */
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
    out_clear(&got);
    /* [1000, 3000) holds the four records at 1200/1700: first 10 (earliest arrival at 1200) */
    assert_int_equal(wr_window_advance(w, 2999, &sink), 0);
    assert_int_equal(got.n, 1);
    assert_true(got.r[0].v[0] == 10 && got.r[0].v[1] == 40 && got.r[0].count == 4);
    out_free(&got);
    wr_window_destroy(&w);
}

static void test_empty_batches_and_watermark_edges(void **state)
{
    (void)state;
    wr_window_spec_t spec = {.kind = WR_WINDOW_SLIDING, .size_ms = 4000, .slide_ms = 2000};
    s_basic_aggs(&spec);
    wr_window_t *w = wr_window_new(&spec, NULL);
    assert_non_null(w);
    out_t got = {.naggs = 4};
    wr_window_sink_t sink = {.emit = s_emit, .late = s_late, .ctx = &got};
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
    out_free(&got);
    wr_window_destroy(&w);
}

/* State is dropped once no window needs it, and memory accounting follows the keys. */
static void test_state_dropped_and_memory(void **state)
{
    (void)state;
    enum { N = 300000 };
    wr_window_spec_t spec = {
        .kind = WR_WINDOW_SLIDING, .size_ms = 600000, .slide_ms = 60000, .expected_keys = 1000};
    s_basic_aggs(&spec);
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

static void test_bad_specs(void **state)
{
    (void)state;
    int err = 0;
    wr_window_spec_t ok = {.kind = WR_WINDOW_SLIDING, .size_ms = 1000, .slide_ms = 100};
    s_basic_aggs(&ok);
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
    bad[5].aggs[1].col = NCOL;       /* no such column */
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

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_sliding_happy_path),
        cmocka_unit_test(test_sliding_oracle),
        cmocka_unit_test(test_sliding_headline_shape),
        cmocka_unit_test(test_sliding_ahead_of_watermark),
        cmocka_unit_test(test_sliding_spill_all_aggs),
        cmocka_unit_test(test_tumbling_oracle),
        cmocka_unit_test(test_session_oracle),
        cmocka_unit_test(test_late_refire_and_side_output),
        cmocka_unit_test(test_first_last_ties_and_stddev),
        cmocka_unit_test(test_empty_batches_and_watermark_edges),
        cmocka_unit_test(test_state_dropped_and_memory),
        cmocka_unit_test(test_bad_specs),
        cmocka_unit_test(test_agg_parse),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
