/* The brute-force oracle of test_pipeline: what a windowed job must output for an input the test
 * knows record by record, recomputed from the semantics in actors/dataflow/window/window.h and agg.h,
 * and the checks of a job's output against it. Pure (no processes, no files), header-only (every
 * test binary is one .c file); po_ is for "pipeline oracle".
 *
 * What is deterministic and what is not. A job's window sees its records in an order fixed per
 * input channel (a source subtask's records arrive in offset order), but how channels interleave
 * and where watermarks fall between records depend on timing, as in Flink. So:
 *  - An on-time record is never late: max_out_of_orderness covers the generator's jitter, so the
 *    watermark is below its time when it arrives, and every window containing it has it.
 *  - A late record is in a window exactly when it arrived before the window was cleaned up (the
 *    watermark reached end - 1 + allowed lateness). The watermark it met is unknown, but bounded
 *    above by ub: the latest time of the records its source made before it, minus
 *    max_out_of_orderness, minus 1 (a source's watermark never passes what it has sent, and a
 *    window subtask's is the minimum over its input channels). It never decreases from one record
 *    of a channel (one source subtask to one window subtask) to the next.
 *  - With each key's records in one channel ("ordered": a device key whose device count is a
 *    multiple of the source parallelism, or one source subtask), the records of a window that
 *    arrived before its cleanup are the on-time ones plus a prefix of its late ones in arrival
 *    order. So every result of a window (first firing and late re-firings alike) must equal the
 *    exact aggregates of its on-time records plus its first j late ones, for j growing from
 *    result to result; sums bit for bit, as agg.h fixes their order. The last j says which late
 *    records the window took. Then: a record is in the late sink exactly when no window took it;
 *    never an on-time one; each window that did not take a record was cleaned up below the
 *    record's ub; and one non-decreasing watermark per channel explains every take and every
 *    refusal at once.
 *  - Sessions depend on the watermark in more ways (a late record merges only with sessions not yet
 *    cleaned up). For each key the oracle replays the session engine record by record, and where
 *    the unknown watermark could change the outcome it tries every outcome the bounds allow (a
 *    search with backtracking): the job passes when one non-decreasing watermark explains the late
 *    sink and every result, each result being a state some session had, and each session's final
 *    state its last result.
 *  - Keys spread over several channels ("unordered", e.g. a region key at parallelism 4) are only
 *    checked with late records that can never be too late: every window gets every record; sums
 *    and means within 1e-9 relative (arrival order unknown), first/last any value tied at the
 *    extreme time. */
#ifndef WR_TEST_PIPELINE_ORACLE_H
#define WR_TEST_PIPELINE_ORACLE_H

#include <inttypes.h>
#include <math.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bus/base/strbuf.h"

/* The aggregates every test job computes, in result order (see s_write_topology). */
enum { PO_N, PO_SUM, PO_MIN, PO_MAX, PO_AVG, PO_SD, PO_FIRST, PO_LAST, PO_Q, PO_NAGG };
static const char *const po_agg_name[PO_NAGG] = {"n",    "sum_v",   "min_v",  "max_v", "avg_v",
                                                 "sd_v", "first_t", "last_t", "q_v"};

enum { PO_SLIDING, PO_TUMBLING, PO_SESSION };

typedef struct {
    int kind;
    int64_t size, slide, gap, lateness; /* ms; tumbling: slide = size */
    double q;                           /* the quantile aggregate's q */
    double alpha;                       /* its relative accuracy */
} po_window_t;

/* One input record as the window sees it. */
typedef struct {
    int64_t key; /* a device id, or a region's index */
    int64_t ts;
    double val;    /* the aggregated field */
    double tie;    /* the field of first() and last() */
    uint32_t src;  /* its source subtask */
    uint32_t chan; /* the input channel of the window subtask that got it (source subtask x
                      window subtask: the order of a channel is fixed, not between channels) */
    bool late;     /* made late by the generator */
    bool kept;     /* passed the chain's filters: it reaches the window */
    int64_t ub;    /* the highest watermark the window can have had when it arrived */
} po_rec_t;

typedef struct {
    po_rec_t *r; /* channel by channel in arrival order (interleaved: offset order) */
    size_t n;
    uint32_t nsrc, nchan;
    bool ordered; /* each key's records come through one channel */
} po_input_t;

/* One line of a job's results. */
typedef struct {
    int64_t key, start, end;
    double v[PO_NAGG]; /* v[PO_N]: the count; NaN for null */
} po_result_t;

/* One line of a window's late sink. */
typedef struct {
    int64_t key, ts;
    double val, tie;
} po_late_t;

typedef struct {
    uint64_t windows;       /* (key, window) pairs with results */
    uint64_t results;       /* result lines */
    uint64_t refires;       /* results after a window's first */
    uint64_t too_late;      /* records in the late sink */
    uint64_t late_taken;    /* late records every one of whose windows took them */
    uint64_t late_partial;  /* late records some windows took and others had cleaned up */
    uint64_t branch_points; /* sessions: records whose outcome the watermark bounds left open */
} po_stats_t;

static inline void po_fail(wr_strbuf_t *why, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
static inline void po_fail(wr_strbuf_t *why, const char *fmt, ...)
{
    char msg[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    if (why->len) wr_strbuf_addc(why, '\n');
    wr_strbuf_adds(why, msg);
}

static inline int64_t po_floor_div(int64_t a, int64_t b)
{
    int64_t q = a / b;
    return (a % b != 0 && (a < 0) != (b < 0)) ? q - 1 : q;
}

static inline int64_t po_gcd(int64_t a, int64_t b)
{
    while (b) {
        int64_t t = a % b;
        a = b;
        b = t;
    }
    return a;
}

/* Sets every record's ub from the records its source made before it, kept or not (a source makes
 * its watermarks before the chain filters). INT64_MIN for a source's first record. */
static inline void po_input_bounds(po_input_t *in, int64_t ooo)
{
    int64_t *max = malloc(in->nsrc * sizeof *max);
    for (uint32_t c = 0; c < in->nsrc; c++)
        max[c] = INT64_MIN;
    for (size_t i = 0; i < in->n; i++) {
        po_rec_t *r = &in->r[i];
        r->ub = max[r->src] == INT64_MIN ? INT64_MIN : max[r->src] - ooo - 1;
        if (r->ts > max[r->src]) max[r->src] = r->ts;
    }
    free(max);
}

/* ---- aggregates ---- */

typedef struct {
    double v[PO_NAGG];
    double first_c[8], last_c[8]; /* values tied at the first / last time (unordered checks) */
    int nfirst_c, nlast_c;
} po_agg_t;

typedef struct {
    int64_t *key; /* pane << 32 | position, for sorting */
    double *val;
    size_t cap;
} po_scratch_t;

static inline void po_scratch_reserve(po_scratch_t *s, size_t n)
{
    if (n <= s->cap) return;
    s->cap = n * 2;
    s->key = realloc(s->key, s->cap * sizeof *s->key);
    s->val = realloc(s->val, s->cap * sizeof *s->val);
    if (!s->key || !s->val) abort();
}

static inline void po_scratch_release(po_scratch_t *s)
{
    free(s->key);
    free(s->val);
    memset(s, 0, sizeof *s);
}

static inline int po_cmp_i64(const void *a, const void *b)
{
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return (x > y) - (x < y);
}

static inline int po_cmp_f64(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/* The aggregates of records idx[0..n) (given in arrival order) as the window engine computes
 * them: with pane_ms > 0 a sum is 0.0 + the sums of its non-empty panes in time order, a pane's
 * sum 0.0 + its values in arrival order (agg.h); with pane_ms = 0 one sum in arrival order. avg is
 * sum / count; stddev the population one, two-pass in long double; first/last the value at the
 * smallest / largest time, ties to the earliest / latest arrival; the quantile the exact value of
 * rank floor(q (n - 1)). */
static inline void po_aggregate(const po_input_t *in, const uint32_t *idx, size_t n,
                                int64_t pane_ms, double q, po_scratch_t *sc, po_agg_t *a)
{
    memset(a, 0, sizeof *a);
    po_scratch_reserve(sc, n);
    a->v[PO_N] = (double)n;
    double min = INFINITY, max = -INFINITY;
    long double mean = 0;
    int64_t ft = INT64_MAX, lt = INT64_MIN, pane0 = INT64_MAX;
    for (size_t i = 0; pane_ms > 0 && i < n; i++) {
        int64_t pane = po_floor_div(in->r[idx[i]].ts, pane_ms);
        if (pane < pane0) pane0 = pane;
    }
    for (size_t i = 0; i < n; i++) {
        const po_rec_t *r = &in->r[idx[i]];
        int64_t pane = pane_ms > 0 ? po_floor_div(r->ts, pane_ms) - pane0 : 0; /* a window's few */
        sc->key[i] = (int64_t)((uint64_t)pane << 32 | i);
        sc->val[i] = r->val;
        if (r->val < min) min = r->val;
        if (r->val > max) max = r->val;
        mean += r->val;
        if (r->ts < ft) ft = r->ts, a->v[PO_FIRST] = r->tie;
        if (r->ts >= lt) lt = r->ts, a->v[PO_LAST] = r->tie;
    }
    for (size_t i = 0; i < n; i++) {
        const po_rec_t *r = &in->r[idx[i]];
        if (r->ts == ft && a->nfirst_c < 8) a->first_c[a->nfirst_c++] = r->tie;
        if (r->ts == lt && a->nlast_c < 8) a->last_c[a->nlast_c++] = r->tie;
    }
    qsort(sc->key, n, sizeof *sc->key, po_cmp_i64);
    double sum = 0, pane_sum = 0;
    for (size_t i = 0; i < n; i++) {
        size_t pos = (size_t)(sc->key[i] & 0xffffffff);
        pane_sum += in->r[idx[pos]].val;
        if (i + 1 == n || (sc->key[i + 1] >> 32) != (sc->key[i] >> 32)) {
            sum += pane_sum;
            pane_sum = 0;
        }
    }
    mean /= (long double)n;
    long double m2 = 0;
    for (size_t i = 0; i < n; i++)
        m2 += (sc->val[i] - mean) * (sc->val[i] - mean);
    qsort(sc->val, n, sizeof *sc->val, po_cmp_f64);
    a->v[PO_SUM] = sum;
    a->v[PO_MIN] = min;
    a->v[PO_MAX] = max;
    a->v[PO_AVG] = sum / (double)n;
    a->v[PO_SD] = (double)sqrtl(m2 / (long double)n);
    a->v[PO_Q] = sc->val[(uint64_t)floor(q * (double)(n - 1))];
}

static inline bool po_close(double x, double y, double rel)
{
    return fabs(x - y) <= rel * fmax(fabs(x), fabs(y)) + 1e-12;
}

static inline bool po_in(double x, const double *c, int n)
{
    for (int i = 0; i < n; i++)
        if (c[i] == x) return true;
    return false;
}

/* Checks a result's aggregates against a. exact: sums, avg, first and last bit for bit; else sums
 * and avg within 1e-9 relative and first/last any value tied at the extreme time. Stddev within
 * 1e-9 relative, the quantile within the sketch's bound (sketch.h). NULL if they match, else the
 * first difference (in buf). */
static inline const char *po_compare(const po_result_t *r, const po_agg_t *a, bool exact,
                                     double alpha, char *buf, size_t cap)
{
    for (int i = 0; i < PO_NAGG; i++) {
        double got = r->v[i], want = a->v[i];
        bool ok;
        switch (i) {
        case PO_N:
        case PO_MIN:
        case PO_MAX:
            ok = got == want;
            break;
        case PO_SUM:
        case PO_AVG:
            ok = exact ? got == want : po_close(got, want, 1e-9);
            break;
        case PO_SD:
            ok = po_close(got, want, 1e-9);
            break;
        case PO_FIRST:
            ok = exact ? got == want : po_in(got, a->first_c, a->nfirst_c);
            break;
        case PO_LAST:
            ok = exact ? got == want : po_in(got, a->last_c, a->nlast_c);
            break;
        default:
            ok = fabs(got - want) <= alpha * fabs(want) * (1 + 1e-9);
            break;
        }
        if (!ok) {
            snprintf(buf, cap, "%s is %.17g, the oracle says %.17g%s", po_agg_name[i], got, want,
                     i == PO_Q ? " (beyond the sketch's bound)" : "");
            return buf;
        }
    }
    return NULL;
}

/* ---- a map (a, b) -> dense index ---- */

typedef struct {
    int64_t *a, *b;
    uint32_t *slot; /* index + 1; 0 = empty */
    size_t cap, n;
} po_map_t;

static inline size_t po_map_hash(int64_t a, int64_t b, size_t cap)
{
    uint64_t h = (uint64_t)a * 0x9e3779b97f4a7c15u ^ ((uint64_t)b + 0x632be59bd9b4e019u);
    h ^= h >> 31;
    h *= 0xbf58476d1ce4e5b9u;
    h ^= h >> 29;
    return (size_t)h & (cap - 1);
}

/* The index of (a, b), or UINT32_MAX; with add, a new index for a new pair. */
static inline uint32_t po_map_get(po_map_t *m, int64_t a, int64_t b, bool add)
{
    if (add && (m->n + 1) * 2 > m->cap) {
        size_t ncap = m->cap ? m->cap * 2 : 1024;
        uint32_t *slot = calloc(ncap, sizeof *slot);
        m->a = realloc(m->a, ncap / 2 * sizeof *m->a);
        m->b = realloc(m->b, ncap / 2 * sizeof *m->b);
        if (!slot || !m->a || !m->b) abort();
        for (size_t i = 0; i < m->n; i++) {
            size_t h = po_map_hash(m->a[i], m->b[i], ncap);
            while (slot[h])
                h = (h + 1) & (ncap - 1);
            slot[h] = (uint32_t)i + 1;
        }
        free(m->slot);
        m->slot = slot;
        m->cap = ncap;
    }
    if (!m->cap) return UINT32_MAX;
    size_t h = po_map_hash(a, b, m->cap);
    for (; m->slot[h]; h = (h + 1) & (m->cap - 1)) {
        uint32_t i = m->slot[h] - 1;
        if (m->a[i] == a && m->b[i] == b) return i;
    }
    if (!add) return UINT32_MAX;
    m->a[m->n] = a;
    m->b[m->n] = b;
    m->slot[h] = (uint32_t)m->n + 1;
    return (uint32_t)m->n++;
}

static inline void po_map_release(po_map_t *m)
{
    free(m->a);
    free(m->b);
    free(m->slot);
    memset(m, 0, sizeof *m);
}

/* ---- the late sink ---- */

/* Marks in late_sink[] the records the late sink gave back: each line must be a record that
 * reached the window (same key, time and values), each only once, and a late one: an on-time
 * record is never too late. */
static inline bool po_match_late(const po_input_t *in, const po_late_t *lines, size_t n,
                                 bool *late_sink, wr_strbuf_t *why)
{
    po_map_t m = {0}; /* (ts, value bits) -> first record; equal ones follow through `next` */
    uint32_t *first = malloc((in->n + 1) * sizeof *first),
             *next = malloc((in->n + 1) * sizeof *next);
    for (size_t i = 0; i < in->n; i++) {
        late_sink[i] = false;
        next[i] = UINT32_MAX;
        if (!in->r[i].kept) continue;
        int64_t bits;
        memcpy(&bits, &in->r[i].val, 8);
        size_t before = m.n;
        uint32_t k = po_map_get(&m, in->r[i].ts, bits, true);
        if (m.n > before)
            first[k] = (uint32_t)i;
        else {
            uint32_t j = first[k];
            while (next[j] != UINT32_MAX)
                j = next[j];
            next[j] = (uint32_t)i;
        }
    }
    bool ok = true;
    for (size_t l = 0; l < n && ok; l++) {
        int64_t bits;
        memcpy(&bits, &lines[l].val, 8);
        uint32_t k = po_map_get(&m, lines[l].ts, bits, false),
                 j = k == UINT32_MAX ? UINT32_MAX : first[k];
        while (j != UINT32_MAX &&
               (late_sink[j] || in->r[j].key != lines[l].key || in->r[j].tie != lines[l].tie))
            j = next[j];
        if (j == UINT32_MAX) {
            po_fail(why,
                    "late sink line %zu (key %" PRId64 ", ts %" PRId64
                    ") is no record of the input, "
                    "or came out twice",
                    l + 1, lines[l].key, lines[l].ts);
            ok = false;
        } else if (!in->r[j].late) {
            po_fail(why,
                    "late sink line %zu: on-time record (key %" PRId64 ", ts %" PRId64
                    ", ub %" PRId64 ") reported too late",
                    l + 1, lines[l].key, lines[l].ts, in->r[j].ub);
            ok = false;
        } else {
            late_sink[j] = true;
        }
    }
    po_map_release(&m);
    free(first);
    free(next);
    return ok;
}

/* ---- tumbling and sliding windows ---- */

/* Compressed lists: item list i is items[off[i] .. off[i + 1]). */
typedef struct {
    uint32_t *off, *items;
} po_lists_t;

static inline void po_lists_release(po_lists_t *l)
{
    free(l->off);
    free(l->items);
}

/* Checks the results of a tumbling or sliding job (res: the result lines in file order) against
 * the input, as the top of this file explains. */
static inline bool po_check_sliced(const po_input_t *in, const po_window_t *w,
                                   const po_result_t *res, size_t nres, const bool *late_sink,
                                   po_stats_t *st, wr_strbuf_t *why)
{
    const int64_t slide = w->kind == PO_TUMBLING ? w->size : w->slide,
                  pane = po_gcd(w->size, slide);
    po_map_t m = {0};
    /* the windows with records, and their records in arrival order */
    size_t npairs = 0;
    for (size_t i = 0; i < in->n; i++) {
        const po_rec_t *r = &in->r[i];
        if (!r->kept) continue;
        for (int64_t s = po_floor_div(r->ts - w->size, slide) * slide + slide; s <= r->ts;
             s += slide) {
            po_map_get(&m, r->key, s, true);
            npairs++;
        }
    }
    size_t nw = m.n;
    po_lists_t wr = {calloc(nw + 1, sizeof(uint32_t)), malloc((npairs + 1) * sizeof(uint32_t))};
    po_lists_t we = {calloc(nw + 1, sizeof(uint32_t)), malloc((nres + 1) * sizeof(uint32_t))};
    uint32_t *res_win = malloc((nres + 1) * sizeof *res_win);
    int64_t *lo = malloc((in->n + 1) * sizeof *lo), *hi = malloc((in->n + 1) * sizeof *hi);
    uint32_t *nwin = calloc(in->n + 1, sizeof *nwin), *ntook = calloc(in->n + 1, sizeof *ntook);
    uint32_t *fill = calloc(nw + 1, sizeof *fill), *idx = malloc((npairs + 1) * sizeof *idx);
    po_scratch_t sc = {0};
    bool ok = true;
    for (int pass = 0; pass < 2; pass++) {
        for (size_t i = 0; i < in->n; i++) {
            const po_rec_t *r = &in->r[i];
            if (!r->kept) continue;
            for (int64_t s = po_floor_div(r->ts - w->size, slide) * slide + slide; s <= r->ts;
                 s += slide) {
                uint32_t k = po_map_get(&m, r->key, s, false);
                if (pass == 0)
                    wr.off[k + 1]++;
                else
                    wr.items[wr.off[k] + fill[k]++] = (uint32_t)i;
            }
        }
        if (pass == 0)
            for (size_t k = 0; k < nw; k++)
                wr.off[k + 1] += wr.off[k];
    }
    /* the results of each window, in file order */
    for (size_t j = 0; j < nres && ok; j++) {
        uint32_t k = po_map_get(&m, res[j].key, res[j].start, false);
        res_win[j] = k;
        if (k == UINT32_MAX || res[j].end != res[j].start + w->size) {
            po_fail(why, "result line %zu: key %" PRId64 " window [%" PRId64 ", %" PRId64 ") %s",
                    j + 1, res[j].key, res[j].start, res[j].end,
                    k == UINT32_MAX ? "holds no input record" : "has the wrong size");
            ok = false;
            break;
        }
        we.off[k + 1]++;
    }
    for (size_t k = 0; ok && k < nw; k++)
        we.off[k + 1] += we.off[k];
    memset(fill, 0, (nw + 1) * sizeof *fill);
    for (size_t j = 0; ok && j < nres; j++)
        we.items[we.off[res_win[j]] + fill[res_win[j]]++] = (uint32_t)j;
    for (size_t i = 0; i < in->n; i++)
        lo[i] = INT64_MIN, hi[i] = INT64_MAX;

    char buf[512];
    for (size_t k = 0; ok && k < nw; k++) {
        const uint32_t *recs = wr.items + wr.off[k], nrec = wr.off[k + 1] - wr.off[k];
        const uint32_t *ems = we.items + we.off[k], nem = we.off[k + 1] - we.off[k];
        const int64_t start = m.b[k], cleanup = start + w->size - 1 + w->lateness;
        uint32_t n0 = 0, nlate = 0;
        for (uint32_t i = 0; i < nrec; i++)
            in->r[recs[i]].late ? nlate++ : n0++;
        st->windows += nem > 0;
        st->results += nem;
        st->refires += nem ? nem - 1 : 0;
        if (!nem && n0) {
            po_fail(why,
                    "key %" PRId64 " window [%" PRId64 ", %" PRId64
                    "): no result, but %u on-time records",
                    m.a[k], start, start + w->size, n0);
            ok = false;
            break;
        }
        int64_t prev = -1, took = 0;
        for (uint32_t e = 0; e < nem && ok; e++) {
            const po_result_t *r = &res[ems[e]];
            int64_t j = (int64_t)r->v[PO_N] - n0;
            bool bad = in->ordered
                           ? j < 0 || j > nlate || j <= prev
                           : j < 0 || j > nlate || j <= prev || (e + 1 == nem && j != nlate);
            if (bad) {
                po_fail(why,
                        "key %" PRId64 " window [%" PRId64 ", %" PRId64
                        "), result %u of %u (line %u): "
                        "n=%.0f, but it has %u on-time and %u late records (the result before had "
                        "%" PRId64 " late)",
                        m.a[k], start, start + w->size, e + 1, nem, ems[e] + 1, r->v[PO_N], n0,
                        nlate, prev);
                ok = false;
                break;
            }
            prev = took = j;
            if (!in->ordered && e + 1 < nem) continue; /* which late records: unknown */
            uint32_t n = 0, seen = 0;
            for (uint32_t i = 0; i < nrec; i++)
                if (!in->r[recs[i]].late || seen++ < j) idx[n++] = recs[i];
            po_agg_t a;
            po_aggregate(in, idx, n, pane, w->q, &sc, &a);
            const char *diff = po_compare(r, &a, in->ordered, w->alpha, buf, sizeof buf);
            if (diff) {
                po_fail(why,
                        "key %" PRId64 " window [%" PRId64 ", %" PRId64
                        "), result %u of %u (line %u, "
                        "%u on-time + %" PRId64 " late records): %s",
                        m.a[k], start, start + w->size, e + 1, nem, ems[e] + 1, n0, j, diff);
                ok = false;
            }
        }
        /* which late records this window took, and what that says about the watermark */
        uint32_t seen = 0;
        for (uint32_t i = 0; ok && i < nrec; i++) {
            uint32_t x = recs[i];
            if (!in->r[x].late) continue;
            nwin[x]++;
            if (seen++ < took) {
                ntook[x]++;
                if (cleanup < hi[x]) hi[x] = cleanup;
            } else if (cleanup > lo[x]) {
                lo[x] = cleanup;
            }
        }
    }
    /* the late sink holds exactly the records no window took, each too late for its windows */
    for (uint32_t c = 0; ok && c < in->nchan; c++) {
        int64_t wm_lo = INT64_MIN; /* the watermark had reached this in the channel */
        for (size_t i = 0; ok && i < in->n; i++) {
            const po_rec_t *r = &in->r[i];
            if (r->chan != c || !r->kept || !r->late) continue;
            if (late_sink[i] != (ntook[i] == 0)) {
                po_fail(why,
                        "late record key %" PRId64 " ts %" PRId64 ": %u of its %u windows took it, "
                        "yet it is %sin the late sink",
                        r->key, r->ts, ntook[i], nwin[i], late_sink[i] ? "" : "not ");
                ok = false;
            } else if (lo[i] != INT64_MIN && lo[i] > r->ub) {
                po_fail(why,
                        "late record key %" PRId64 " ts %" PRId64
                        ": left out of a window cleaned up at "
                        "%" PRId64 ", but the watermark was at most %" PRId64 " when it arrived",
                        r->key, r->ts, lo[i], r->ub);
                ok = false;
            } else {
                if (lo[i] > wm_lo) wm_lo = lo[i];
                if (wm_lo >= hi[i]) {
                    po_fail(why,
                            "late record key %" PRId64 " ts %" PRId64
                            " went into a window cleaned up at "
                            "%" PRId64
                            ", but an earlier record of its channel %u found the watermark at "
                            "%" PRId64 " or later",
                            r->key, r->ts, hi[i], c, wm_lo);
                    ok = false;
                }
            }
            st->too_late += late_sink[i];
            st->late_taken += ntook[i] == nwin[i];
            st->late_partial += ntook[i] && ntook[i] < nwin[i];
        }
    }
    po_map_release(&m);
    po_lists_release(&wr);
    po_lists_release(&we);
    po_scratch_release(&sc);
    free(res_win);
    free(lo);
    free(hi);
    free(nwin);
    free(ntook);
    free(fill);
    free(idx);
    return ok;
}

/* ---- sessions ---- */

typedef struct {
    int64_t start, end, ft, lt;
    uint64_t n;
    double sum, fv, lv; /* as the engine accumulates them: merges in start order, then the record */
    uint32_t *m;        /* member records */
    uint32_t nm, cap;
} po_sess_t;

typedef struct {
    po_sess_t *s; /* live sessions, by start; never overlapping nor touching */
    uint32_t ns, cap;
    int64_t wm_lo;      /* the watermark is at least this */
    uint8_t *explained; /* per result of the key: a state some session had */
} po_sstate_t;

typedef struct {
    const po_input_t *in;
    const po_window_t *w;
    const bool *late_sink;
    const uint32_t *rec; /* the key's records, arrival order */
    uint32_t nrec;
    const po_result_t *const *em; /* the key's results, file order */
    uint32_t nem;
    po_scratch_t *sc;
    uint64_t steps, branch_points;
    uint32_t deepest;
    char reason[768];
} po_sctx_t;

#define PO_SESSION_STEPS 2000000 /* search budget per key */

static inline void po_sess_copy(po_sess_t *d, const po_sess_t *s)
{
    *d = *s;
    d->cap = s->nm ? s->nm : 1;
    d->m = malloc(d->cap * sizeof *d->m);
    if (!d->m) abort();
    memcpy(d->m, s->m, s->nm * sizeof *s->m);
}

static inline void po_sstate_clone(const po_sctx_t *cx, po_sstate_t *d, const po_sstate_t *s)
{
    *d = *s;
    d->cap = s->ns ? s->ns : 1;
    d->s = malloc(d->cap * sizeof *d->s);
    d->explained = malloc(cx->nem + 1);
    if (!d->s || !d->explained) abort();
    for (uint32_t i = 0; i < s->ns; i++)
        po_sess_copy(&d->s[i], &s->s[i]);
    memcpy(d->explained, s->explained, cx->nem);
}

static inline void po_sstate_release(po_sstate_t *s)
{
    for (uint32_t i = 0; i < s->ns; i++)
        free(s->s[i].m);
    free(s->s);
    free(s->explained);
    memset(s, 0, sizeof *s);
}

static inline void po_sess_agg(const po_sctx_t *cx, const po_sess_t *s, po_agg_t *a)
{
    po_aggregate(cx->in, s->m, s->nm, 0, cx->w->q, cx->sc, a);
    a->v[PO_SUM] = s->sum;
    a->v[PO_AVG] = s->sum / (double)s->n;
    a->v[PO_FIRST] = s->fv;
    a->v[PO_LAST] = s->lv;
}

static inline void po_sess_reason(po_sctx_t *cx, uint32_t k, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static inline void po_sess_reason(po_sctx_t *cx, uint32_t k, const char *fmt, ...)
{
    if (k < cx->deepest) return;
    cx->deepest = k;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(cx->reason, sizeof cx->reason, fmt, ap);
    va_end(ap);
}

/* A session is gone for good (cleaned up, or the input ended): its last result must be its final
 * state. */
static inline bool po_sess_final(po_sctx_t *cx, const po_sess_t *s, uint32_t k)
{
    const po_result_t *last = NULL;
    for (uint32_t e = 0; e < cx->nem; e++)
        if (cx->em[e]->start == s->start && cx->em[e]->end == s->end) last = cx->em[e];
    if (!last) {
        po_sess_reason(cx, k,
                       "session [%" PRId64 ", %" PRId64 ") of %" PRIu64 " records: no result",
                       s->start, s->end, s->n);
        return false;
    }
    po_agg_t a;
    char buf[512];
    po_sess_agg(cx, s, &a);
    const char *diff = po_compare(last, &a, true, cx->w->alpha, buf, sizeof buf);
    if (diff)
        po_sess_reason(
            cx, k, "session [%" PRId64 ", %" PRId64 ") of %" PRIu64 " records, its last result: %s",
            s->start, s->end, s->n, diff);
    return !diff;
}

/* Marks the results that show session s as it is now. */
static inline void po_sess_explain(po_sctx_t *cx, po_sstate_t *st, const po_sess_t *s)
{
    po_agg_t a;
    bool have = false;
    char buf[512];
    for (uint32_t e = 0; e < cx->nem; e++) {
        const po_result_t *r = cx->em[e];
        if (st->explained[e] || r->start != s->start || r->end != s->end ||
            r->v[PO_N] != (double)s->n)
            continue;
        if (!have) po_sess_agg(cx, s, &a), have = true;
        if (!po_compare(r, &a, true, cx->w->alpha, buf, sizeof buf)) st->explained[e] = 1;
    }
}

/* The live sessions record x touches: [*a, *b) in st->s. */
static inline void po_sess_touching(const po_sstate_t *st, int64_t t, int64_t we, uint32_t *a,
                                    uint32_t *b)
{
    uint32_t i = 0;
    while (i < st->ns && st->s[i].end < t)
        i++;
    *a = i;
    while (i < st->ns && st->s[i].start <= we)
        i++;
    *b = i;
}

/* Record k meets a watermark of at least wm_lo (not above its ub): clean up what that cleans up,
 * then add the record as the engine does (or drop it, too late). */
static inline bool po_sess_apply(po_sctx_t *cx, po_sstate_t *st, uint32_t k, int64_t wm_lo,
                                 bool too_late)
{
    const po_window_t *w = cx->w;
    st->wm_lo = wm_lo;
    uint32_t keep = 0;
    for (uint32_t i = 0; i < st->ns; i++) {
        po_sess_t *s = &st->s[i];
        if (s->end - 1 + w->lateness <= wm_lo) {
            if (!po_sess_final(cx, s, k)) {
                for (uint32_t j = i; j < st->ns; j++) /* the rest is freed with st */
                    st->s[keep++] = st->s[j];
                st->ns = keep;
                return false;
            }
            free(s->m);
            continue;
        }
        st->s[keep++] = *s;
    }
    st->ns = keep;
    if (too_late) return true;
    uint32_t x = cx->rec[k];
    const po_rec_t *r = &cx->in->r[x];
    int64_t t = r->ts, we = t + w->gap;
    uint32_t a, b;
    po_sess_touching(st, t, we, &a, &b);
    if (a == b) { /* a session of its own */
        if (st->ns == st->cap) {
            st->cap = st->cap ? st->cap * 2 : 8;
            if (!(st->s = realloc(st->s, st->cap * sizeof *st->s))) abort();
        }
        memmove(&st->s[a + 1], &st->s[a], (st->ns - a) * sizeof *st->s);
        st->ns++;
        st->s[a] = (po_sess_t){.start = t, .end = we, .ft = INT64_MAX, .lt = INT64_MIN, .cap = 8};
        if (!(st->s[a].m = malloc(8 * sizeof(uint32_t)))) abort();
        b = a + 1;
    }
    po_sess_t *f = &st->s[a];
    int64_t end = f->end > we ? f->end : we;
    for (uint32_t i = a + 1; i < b; i++) { /* merges the later ones into the first, in order */
        po_sess_t *s = &st->s[i];
        f->n += s->n;
        f->sum = f->sum + s->sum;
        if (s->ft < f->ft) f->ft = s->ft, f->fv = s->fv;
        if (s->lt >= f->lt) f->lt = s->lt, f->lv = s->lv;
        if (f->nm + s->nm > f->cap) {
            f->cap = (f->nm + s->nm) * 2;
            if (!(f->m = realloc(f->m, f->cap * sizeof *f->m))) abort();
        }
        memcpy(f->m + f->nm, s->m, s->nm * sizeof *s->m);
        f->nm += s->nm;
        if (s->end > end) end = s->end;
        free(s->m);
    }
    memmove(&st->s[a + 1], &st->s[b], (st->ns - b) * sizeof *st->s);
    st->ns -= b - a - 1;
    if (t < f->start) f->start = t;
    f->end = end;
    f->n++;
    f->sum += r->val;
    if (t < f->ft) f->ft = t, f->fv = r->tie;
    if (t >= f->lt) f->lt = t, f->lv = r->tie;
    if (f->nm == f->cap) {
        f->cap *= 2;
        if (!(f->m = realloc(f->m, f->cap * sizeof *f->m))) abort();
    }
    f->m[f->nm++] = x;
    po_sess_explain(cx, st, f);
    return true;
}

/* Every session ends with the input: the last results must be their final states, and every
 * result a state some session had. */
static inline bool po_sess_finish(po_sctx_t *cx, po_sstate_t *st)
{
    if (!po_sess_apply(cx, st, cx->nrec, INT64_MAX - cx->w->lateness, true)) return false;
    for (uint32_t e = 0; e < cx->nem; e++) {
        if (st->explained[e]) continue;
        po_sess_reason(cx, cx->nrec,
                       "result [%" PRId64 ", %" PRId64 ") n=%.0f is no state of any session "
                       "the records can make",
                       cx->em[e]->start, cx->em[e]->end, cx->em[e]->v[PO_N]);
        return false;
    }
    return true;
}

/* Replays records k.. from state st (consumed), trying each outcome the watermark bounds allow. */
static inline bool po_sess_search(po_sctx_t *cx, po_sstate_t *st, uint32_t k)
{
    const po_window_t *w = cx->w;
    for (; k < cx->nrec; k++) {
        if (++cx->steps > PO_SESSION_STEPS) {
            po_sess_reason(cx, UINT32_MAX,
                           "the search over watermarks took too long (a test to redesign)");
            return false;
        }
        const po_rec_t *r = &cx->in->r[cx->rec[k]];
        const int64_t t = r->ts, we = t + w->gap, too_late_at = we - 1 + w->lateness;
        const bool in_sink = cx->late_sink[cx->rec[k]];
        /* the watermark it met: in [wm_lo, ub]; what matters is where it lies among the cleanup
         * times of the sessions it touches and its own too-late time */
        int64_t lows[66];
        int nl = 0;
        uint32_t a, b;
        po_sess_touching(st, t, we, &a, &b);
        if (st->wm_lo > r->ub) {
            po_sess_reason(cx, k,
                           "record ts %" PRId64 ": the watermark had reached %" PRId64
                           " before it, "
                           "above its bound %" PRId64,
                           t, st->wm_lo, r->ub);
            return false;
        }
        lows[nl++] = st->wm_lo;
        for (uint32_t i = a; i < b && i < a + 64; i++) {
            int64_t c = st->s[i].end - 1 + w->lateness;
            if (c > st->wm_lo && c <= r->ub) lows[nl++] = c;
        }
        if (too_late_at > st->wm_lo && too_late_at <= r->ub) lows[nl++] = too_late_at;
        qsort(lows, (size_t)nl, sizeof *lows, po_cmp_i64);
        int64_t opt[66];
        int nopt = 0;
        uint32_t last_alive = UINT32_MAX;
        for (int i = 0; i < nl; i++) {
            if (i && lows[i] == lows[i - 1]) continue;
            uint32_t alive = 0;
            for (uint32_t j = a; j < b; j++)
                alive += st->s[j].end - 1 + w->lateness > lows[i];
            bool too_late = alive == 0 && too_late_at <= lows[i];
            if (too_late != in_sink) continue;
            if (alive == last_alive) continue; /* the same outcome as a lower watermark */
            last_alive = alive;
            opt[nopt++] = lows[i];
        }
        if (!nopt) {
            po_sess_reason(cx, k,
                           "record ts %" PRId64 " (late: %d, ub %" PRId64 "): %s the late sink, "
                           "which no watermark in [%" PRId64 ", %" PRId64 "] explains",
                           t, r->late, r->ub, in_sink ? "in" : "not in", st->wm_lo, r->ub);
            return false;
        }
        cx->branch_points += nopt > 1;
        for (int o = 0; o + 1 < nopt; o++) {
            po_sstate_t c;
            po_sstate_clone(cx, &c, st);
            if (!po_sess_apply(cx, &c, k, opt[o], in_sink)) {
                po_sstate_release(&c);
                continue;
            }
            if (po_sess_search(cx, &c, k + 1)) { /* the search consumed c */
                po_sstate_release(st);
                return true;
            }
        }
        if (!po_sess_apply(cx, st, k, opt[nopt - 1], in_sink)) {
            po_sstate_release(st);
            return false;
        }
    }
    bool ok = po_sess_finish(cx, st);
    po_sstate_release(st);
    return ok;
}

typedef struct {
    int64_t key;
    uint32_t i;
} po_keyed_t;

static inline int po_cmp_keyed(const void *a, const void *b)
{
    const po_keyed_t *x = a, *y = b;
    if (x->key != y->key) return (x->key > y->key) - (x->key < y->key);
    return (x->i > y->i) - (x->i < y->i);
}

/* Checks the results of a session job (ordered input only) as the top of this file explains. */
static inline bool po_check_sessions(const po_input_t *in, const po_window_t *w,
                                     const po_result_t *res, size_t nres, const bool *late_sink,
                                     po_stats_t *st, wr_strbuf_t *why)
{
    if (!in->ordered) {
        po_fail(why, "the session oracle needs each key's records in one channel");
        return false;
    }
    size_t nk = 0;
    po_keyed_t *rk = malloc((in->n + 1) * sizeof *rk), *ek = malloc((nres + 1) * sizeof *ek);
    for (size_t i = 0; i < in->n; i++)
        if (in->r[i].kept) rk[nk++] = (po_keyed_t){in->r[i].key, (uint32_t)i};
    for (size_t j = 0; j < nres; j++)
        ek[j] = (po_keyed_t){res[j].key, (uint32_t)j};
    qsort(rk, nk, sizeof *rk, po_cmp_keyed);
    qsort(ek, nres, sizeof *ek, po_cmp_keyed);
    uint32_t *rec = malloc((nk + 1) * sizeof *rec);
    const po_result_t **em = malloc((nres + 1) * sizeof *em);
    po_scratch_t sc = {0};
    bool ok = true;
    size_t i = 0, j = 0;
    st->results = nres;
    for (size_t x = 0; x < in->n; x++)
        st->too_late += in->r[x].kept && late_sink[x];
    while (ok && (i < nk || j < nres)) {
        int64_t key = i < nk && (j == nres || rk[i].key <= ek[j].key) ? rk[i].key : ek[j].key;
        uint32_t nrec = 0, nem = 0;
        for (; i < nk && rk[i].key == key; i++)
            rec[nrec++] = rk[i].i;
        for (; j < nres && ek[j].key == key; j++)
            em[nem++] = &res[ek[j].i];
        po_sctx_t cx = {.in = in,
                        .w = w,
                        .late_sink = late_sink,
                        .rec = rec,
                        .nrec = nrec,
                        .em = em,
                        .nem = nem,
                        .sc = &sc};
        po_sstate_t s0 = {.wm_lo = INT64_MIN, .explained = calloc(nem + 1, 1)};
        if (!po_sess_search(&cx, &s0, 0)) {
            po_fail(why,
                    "key %" PRId64 " (%u records, %u results): no watermark explains its results; "
                    "the furthest the replay got (record %u): %s",
                    key, nrec, nem, cx.deepest == UINT32_MAX ? nrec : cx.deepest, cx.reason);
            ok = false;
        }
        st->branch_points += cx.branch_points;
        /* sessions: distinct windows with results */
        for (uint32_t e = 0; e < nem; e++) {
            bool again = false;
            for (uint32_t f = e + 1; f < nem && !again; f++)
                again = em[f]->start == em[e]->start && em[f]->end == em[e]->end;
            st->windows += !again;
        }
    }
    st->refires = st->results - st->windows;
    for (size_t x = 0; x < in->n; x++)
        st->late_taken += in->r[x].kept && in->r[x].late && !late_sink[x];
    po_scratch_release(&sc);
    free(rk);
    free(ek);
    free(rec);
    free(em);
    return ok;
}

#endif
