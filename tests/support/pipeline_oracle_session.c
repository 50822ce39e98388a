/* The pipeline oracle's sessions: a replay of the session engine per key that tries every outcome
 * the watermark bounds leave open (pipeline_oracle.h explains why). */
#include "tests/support/pipeline_oracle_internal.h"

#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct {
    int64_t start, end, ft, lt;
    uint64_t n;
    double sum, fv, lv; /* as the engine accumulates them: merges in start order, then the record */
    uint32_t *m;        /* member records */
    uint32_t nm, cap;
} s_sess_t;

typedef struct {
    s_sess_t *s; /* live sessions, by start; never overlapping nor touching */
    uint32_t ns, cap;
    int64_t wm_lo;      /* the watermark is at least this */
    uint8_t *explained; /* per result of the key: a state some session had */
} s_sstate_t;

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
} s_sctx_t;

#define S_SESSION_STEPS 2000000 /* search budget per key */

static void s_sess_copy(s_sess_t *d, const s_sess_t *s)
{
    *d = *s;
    d->cap = s->nm ? s->nm : 1;
    d->m = malloc(d->cap * sizeof *d->m);
    if (!d->m) abort();
    memcpy(d->m, s->m, s->nm * sizeof *s->m);
}

static void s_sstate_clone(const s_sctx_t *cx, s_sstate_t *d, const s_sstate_t *s)
{
    *d = *s;
    d->cap = s->ns ? s->ns : 1;
    d->s = malloc(d->cap * sizeof *d->s);
    d->explained = malloc(cx->nem + 1);
    if (!d->s || !d->explained) abort();
    for (uint32_t i = 0; i < s->ns; i++)
        s_sess_copy(&d->s[i], &s->s[i]);
    memcpy(d->explained, s->explained, cx->nem);
}

static void s_sstate_release(s_sstate_t *s)
{
    for (uint32_t i = 0; i < s->ns; i++)
        free(s->s[i].m);
    free(s->s);
    free(s->explained);
    memset(s, 0, sizeof *s);
}

static void s_sess_agg(const s_sctx_t *cx, const s_sess_t *s, po_agg_t *a)
{
    po_aggregate(cx->in, s->m, s->nm, 0, cx->w->q, cx->sc, a);
    a->v[PO_SUM] = s->sum;
    a->v[PO_AVG] = s->sum / (double)s->n;
    a->v[PO_FIRST] = s->fv;
    a->v[PO_LAST] = s->lv;
}

static void s_sess_reason(s_sctx_t *cx, uint32_t k, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static void s_sess_reason(s_sctx_t *cx, uint32_t k, const char *fmt, ...)
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
static bool s_sess_final(s_sctx_t *cx, const s_sess_t *s, uint32_t k)
{
    const po_result_t *last = NULL;
    for (uint32_t e = 0; e < cx->nem; e++)
        if (cx->em[e]->start == s->start && cx->em[e]->end == s->end) last = cx->em[e];
    if (!last) {
        s_sess_reason(cx, k, "session [%" PRId64 ", %" PRId64 ") of %" PRIu64 " records: no result",
                      s->start, s->end, s->n);
        return false;
    }
    po_agg_t a;
    char buf[512];
    s_sess_agg(cx, s, &a);
    const char *diff = po_compare(last, &a, true, cx->w->alpha, buf, sizeof buf);
    if (diff)
        s_sess_reason(
            cx, k, "session [%" PRId64 ", %" PRId64 ") of %" PRIu64 " records, its last result: %s",
            s->start, s->end, s->n, diff);
    return !diff;
}

/* Marks the results that show session s as it is now. */
static void s_sess_explain(s_sctx_t *cx, s_sstate_t *st, const s_sess_t *s)
{
    po_agg_t a;
    bool have = false;
    char buf[512];
    for (uint32_t e = 0; e < cx->nem; e++) {
        const po_result_t *r = cx->em[e];
        if (st->explained[e] || r->start != s->start || r->end != s->end ||
            r->v[PO_N] != (double)s->n)
            continue;
        if (!have) s_sess_agg(cx, s, &a), have = true;
        if (!po_compare(r, &a, true, cx->w->alpha, buf, sizeof buf)) st->explained[e] = 1;
    }
}

/* The live sessions record x touches: [*a, *b) in st->s. */
static void s_sess_touching(const s_sstate_t *st, int64_t t, int64_t we, uint32_t *a, uint32_t *b)
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
static bool s_sess_apply(s_sctx_t *cx, s_sstate_t *st, uint32_t k, int64_t wm_lo, bool too_late)
{
    const po_window_t *w = cx->w;
    st->wm_lo = wm_lo;
    uint32_t keep = 0;
    for (uint32_t i = 0; i < st->ns; i++) {
        s_sess_t *s = &st->s[i];
        if (s->end - 1 + w->lateness <= wm_lo) {
            if (!s_sess_final(cx, s, k)) {
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
    s_sess_touching(st, t, we, &a, &b);
    if (a == b) { /* a session of its own */
        if (st->ns == st->cap) {
            st->cap = st->cap ? st->cap * 2 : 8;
            if (!(st->s = realloc(st->s, st->cap * sizeof *st->s))) abort();
        }
        memmove(&st->s[a + 1], &st->s[a], (st->ns - a) * sizeof *st->s);
        st->ns++;
        st->s[a] = (s_sess_t){.start = t, .end = we, .ft = INT64_MAX, .lt = INT64_MIN, .cap = 8};
        if (!(st->s[a].m = malloc(8 * sizeof(uint32_t)))) abort();
        b = a + 1;
    }
    s_sess_t *f = &st->s[a];
    int64_t end = f->end > we ? f->end : we;
    for (uint32_t i = a + 1; i < b; i++) { /* merges the later ones into the first, in order */
        s_sess_t *s = &st->s[i];
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
    s_sess_explain(cx, st, f);
    return true;
}

/* Every session ends with the input: the last results must be their final states, and every
 * result a state some session had. */
static bool s_sess_finish(s_sctx_t *cx, s_sstate_t *st)
{
    if (!s_sess_apply(cx, st, cx->nrec, INT64_MAX - cx->w->lateness, true)) return false;
    for (uint32_t e = 0; e < cx->nem; e++) {
        if (st->explained[e]) continue;
        s_sess_reason(cx, cx->nrec,
                      "result [%" PRId64 ", %" PRId64 ") n=%.0f is no state of any session "
                      "the records can make",
                      cx->em[e]->start, cx->em[e]->end, cx->em[e]->v[PO_N]);
        return false;
    }
    return true;
}

/* Replays records k.. from state st (consumed), trying each outcome the watermark bounds allow. */
static bool s_sess_search(s_sctx_t *cx, s_sstate_t *st, uint32_t k)
{
    const po_window_t *w = cx->w;
    for (; k < cx->nrec; k++) {
        if (++cx->steps > S_SESSION_STEPS) {
            s_sess_reason(cx, UINT32_MAX,
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
        s_sess_touching(st, t, we, &a, &b);
        if (st->wm_lo > r->ub) {
            s_sess_reason(cx, k,
                          "record ts %" PRId64 ": the watermark had reached %" PRId64 " before it, "
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
            s_sess_reason(cx, k,
                          "record ts %" PRId64 " (late: %d, ub %" PRId64 "): %s the late sink, "
                          "which no watermark in [%" PRId64 ", %" PRId64 "] explains",
                          t, r->late, r->ub, in_sink ? "in" : "not in", st->wm_lo, r->ub);
            return false;
        }
        cx->branch_points += nopt > 1;
        for (int o = 0; o + 1 < nopt; o++) {
            s_sstate_t c;
            s_sstate_clone(cx, &c, st);
            if (!s_sess_apply(cx, &c, k, opt[o], in_sink)) {
                s_sstate_release(&c);
                continue;
            }
            if (s_sess_search(cx, &c, k + 1)) { /* the search consumed c */
                s_sstate_release(st);
                return true;
            }
        }
        if (!s_sess_apply(cx, st, k, opt[nopt - 1], in_sink)) {
            s_sstate_release(st);
            return false;
        }
    }
    bool ok = s_sess_finish(cx, st);
    s_sstate_release(st);
    return ok;
}

typedef struct {
    int64_t key;
    uint32_t i;
} s_keyed_t;

static int s_cmp_keyed(const void *a, const void *b)
{
    const s_keyed_t *x = a, *y = b;
    if (x->key != y->key) return (x->key > y->key) - (x->key < y->key);
    return (x->i > y->i) - (x->i < y->i);
}

bool po_check_sessions(const po_input_t *in, const po_window_t *w, const po_result_t *res,
                       size_t nres, const bool *late_sink, po_stats_t *st, wr_strbuf_t *why)
{
    if (!in->ordered) {
        po_fail(why, "the session oracle needs each key's records in one channel");
        return false;
    }
    size_t nk = 0;
    s_keyed_t *rk = malloc((in->n + 1) * sizeof *rk), *ek = malloc((nres + 1) * sizeof *ek);
    for (size_t i = 0; i < in->n; i++)
        if (in->r[i].kept) rk[nk++] = (s_keyed_t){in->r[i].key, (uint32_t)i};
    for (size_t j = 0; j < nres; j++)
        ek[j] = (s_keyed_t){res[j].key, (uint32_t)j};
    qsort(rk, nk, sizeof *rk, s_cmp_keyed);
    qsort(ek, nres, sizeof *ek, s_cmp_keyed);
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
        s_sctx_t cx = {.in = in,
                       .w = w,
                       .late_sink = late_sink,
                       .rec = rec,
                       .nrec = nrec,
                       .em = em,
                       .nem = nem,
                       .sc = &sc};
        s_sstate_t s0 = {.wm_lo = INT64_MIN, .explained = calloc(nem + 1, 1)};
        if (!s_sess_search(&cx, &s0, 0)) {
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
