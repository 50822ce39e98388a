#include "tests/support/pipeline_oracle_internal.h"

#include <inttypes.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

const char *const po_agg_name[PO_NAGG] = {"n",    "sum_v",   "min_v",  "max_v", "avg_v",
                                          "sd_v", "first_t", "last_t", "q_v"};

void po_fail(wr_strbuf_t *why, const char *fmt, ...)
{
    char msg[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    if (why->len) wr_strbuf_addc(why, '\n');
    wr_strbuf_adds(why, msg);
}

int64_t po_floor_div(int64_t a, int64_t b)
{
    return wr_test_floor_div(a, b);
}

/* Sets every record's ub from the records its source made before it, kept or not (a source makes
 * its watermarks before the chain filters). INT64_MIN for a source's first record. */
void po_input_bounds(po_input_t *in, int64_t ooo)
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

void po_scratch_reserve(po_scratch_t *s, size_t n)
{
    if (n <= s->cap) return;
    s->cap = n * 2;
    s->key = realloc(s->key, s->cap * sizeof *s->key);
    s->val = realloc(s->val, s->cap * sizeof *s->val);
    if (!s->key || !s->val) abort();
}

void po_scratch_release(po_scratch_t *s)
{
    free(s->key);
    free(s->val);
    memset(s, 0, sizeof *s);
}

int po_cmp_i64(const void *a, const void *b)
{
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return (x > y) - (x < y);
}

static int s_cmp_f64(const void *a, const void *b)
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
void po_aggregate(const po_input_t *in, const uint32_t *idx, size_t n, int64_t pane_ms, double q,
                  po_scratch_t *sc, po_agg_t *a)
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
    qsort(sc->val, n, sizeof *sc->val, s_cmp_f64);
    a->v[PO_SUM] = sum;
    a->v[PO_MIN] = min;
    a->v[PO_MAX] = max;
    a->v[PO_AVG] = sum / (double)n;
    a->v[PO_SD] = (double)sqrtl(m2 / (long double)n);
    a->v[PO_Q] = sc->val[(uint64_t)floor(q * (double)(n - 1))];
}

static bool s_close(double x, double y, double rel)
{
    return fabs(x - y) <= rel * fmax(fabs(x), fabs(y)) + 1e-12;
}

static bool s_in(double x, const double *c, int n)
{
    for (int i = 0; i < n; i++)
        if (c[i] == x) return true;
    return false;
}

/* Checks a result's aggregates against a. exact: sums, avg, first and last bit for bit; else sums
 * and avg within 1e-9 relative and first/last any value tied at the extreme time. Stddev within
 * 1e-9 relative, the quantile within the sketch's bound (sketch.h). NULL if they match, else the
 * first difference (in buf). */
const char *po_compare(const po_result_t *r, const po_agg_t *a, bool exact, double alpha, char *buf,
                       size_t cap)
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
            ok = exact ? got == want : s_close(got, want, 1e-9);
            break;
        case PO_SD:
            ok = s_close(got, want, 1e-9);
            break;
        case PO_FIRST:
            ok = exact ? got == want : s_in(got, a->first_c, a->nfirst_c);
            break;
        case PO_LAST:
            ok = exact ? got == want : s_in(got, a->last_c, a->nlast_c);
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

size_t po_map_hash(int64_t a, int64_t b, size_t cap)
{
    uint64_t h = (uint64_t)a * 0x9e3779b97f4a7c15u ^ ((uint64_t)b + 0x632be59bd9b4e019u);
    h ^= h >> 31;
    h *= 0xbf58476d1ce4e5b9u;
    h ^= h >> 29;
    return (size_t)h & (cap - 1);
}

/* The index of (a, b), or UINT32_MAX; with add, a new index for a new pair. */
uint32_t po_map_get(po_map_t *m, int64_t a, int64_t b, bool add)
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

void po_map_release(po_map_t *m)
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
bool po_match_late(const po_input_t *in, const po_late_t *lines, size_t n, bool *late_sink,
                   wr_strbuf_t *why)
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
} s_lists_t;

static void s_lists_release(s_lists_t *l)
{
    free(l->off);
    free(l->items);
}

/* Checks the results of a tumbling or sliding job (res: the result lines in file order) against
 * the input, as the top of this file explains. */
bool po_check_sliced(const po_input_t *in, const po_window_t *w, const po_result_t *res,
                     size_t nres, const bool *late_sink, po_stats_t *st, wr_strbuf_t *why)
{
    const int64_t slide = w->kind == PO_TUMBLING ? w->size : w->slide,
                  pane = wr_test_gcd(w->size, slide);
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
    s_lists_t wr = {calloc(nw + 1, sizeof(uint32_t)), malloc((npairs + 1) * sizeof(uint32_t))};
    s_lists_t we = {calloc(nw + 1, sizeof(uint32_t)), malloc((nres + 1) * sizeof(uint32_t))};
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
    s_lists_release(&wr);
    s_lists_release(&we);
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
