/* The rocksdb window backend: firing. The panes the watermark closes are sorted and written as
 * runs; then the windows due fire by one merge in (kg, key) order over the stored runs (a pane
 * store cursor) and the runs just closed (still in memory), one key at a time. */
#include <stdlib.h>
#include <string.h>

#include "actors/dataflow/window/window_rocks_internal.h"
#include "bus/base/error.h"

int wr__rocks_fire_key(wr_window_t *w, const wr_window_sink_t *sink, uint64_t key, size_t n,
                       int64_t a_lo, int64_t a_hi, uint8_t late)
{
    const wr__rocks_t *r = w->rocks;
    const int64_t *pane = r->kp_pane, K = w->K, g = w->g;
    size_t i0 = 0, i1 = 0;
    for (int64_t a = a_lo; a <= a_hi;) {
        while (i0 < n && pane[i0] < a)
            i0++;
        if (i0 == n) break;
        if (pane[i0] >= a + K) { /* no data in this window: on to the first that has some */
            int64_t next = wr__ceil_g(w, pane[i0] - K + 1);
            a = next > a ? next : a + g;
            continue;
        }
        if (i1 < i0) i1 = i0;
        while (i1 < n && pane[i1] < a + K)
            i1++;
        /* merge_panes only reads the accumulators (and lists their sketches) */
        wr__merge_panes(&w->merge, &w->lay, w->sk, r->kp_acc + i0, r->kp_tail + i0, i1 - i0);
        int rc = wr__emit(w, sink, key, a * w->P, (a + K) * w->P, late);
        if (rc) return rc;
        a += g;
    }
    return 0;
}

/* Opens the chunk of windows from f->c_lo: as many as one cursor's panes cover; its cursor over
 * the stored panes (those closed before this firing) and the in-memory runs from their start. */
static int s_chunk_open(wr_window_t *w)
{
    wr__rocks_t *r = w->rocks;
    wr__rfire_t *f = &r->f;
    int64_t span = (WR_PANESTORE_MAX_PANES - w->K) / w->g * w->g;
    f->c_hi = f->a_hi - f->c_lo > span ? f->c_lo + span : f->a_hi;
    int64_t p0 = f->c_lo > r->st_lo ? f->c_lo : r->st_lo, p1 = f->c_hi + w->K;
    if (r->st_hi < INT64_MAX && p1 > r->st_hi + 1) p1 = r->st_hi + 1;
    if (p1 > r->closed) p1 = r->closed;
    f->row_live = false;
    f->chunk = true;
    for (size_t i = 0; i < r->nruns; i++)
        r->runs[i].pos = 0;
    /* runs[0] may be the kept run (see wr__rocks_t): read from memory when it is the last
     * stored pane of the cursor's range, else from the store like the others */
    if (f->kept) {
        wr__rrun_t *k = &r->runs[0];
        if (p0 < p1 && k->pane == p1 - 1)
            p1--;
        else
            k->pos = k->n; /* not in this chunk from memory */
    }
    int rc = 0;
    if (p0 < p1) f->cur = wr_panestore_cursor_new(r->ps, p0, p1, r->kg_lo, r->kg_hi, &rc);
    return rc;
}

static inline bool s_less(uint16_t kg, uint64_t key, uint16_t kg2, uint64_t key2)
{
    return kg < kg2 || (kg == kg2 && key < key2);
}

/* Merges and fires key after key of the chunks from where the firing is; WR_EAGAIN when the sink
 * is full (the firing goes on from there). */
static int s_run(wr_window_t *w, const wr_window_sink_t *sink)
{
    wr__rocks_t *r = w->rocks;
    wr__rfire_t *f = &r->f;
    uint64_t seen = w->fired;
    int rc = 0;
    while (!rc) {
        if (!f->chunk) {
            if (f->c_lo > f->a_hi) return 0;
            if ((rc = s_chunk_open(w))) break;
        }
        int64_t q0 = f->c_lo, q1 = f->c_hi + w->K; /* the chunk's panes */
        if (f->cur && !f->row_live) {
            int got = wr_panestore_cursor_next(f->cur, &f->row);
            if (got < 0) return got;
            f->row_live = got == 1;
        }
        bool any = f->row_live;
        uint16_t kg = f->row.kg;
        uint64_t key = f->row.key;
        for (size_t i = 0; i < r->nruns; i++) {
            const wr__rrun_t *u = &r->runs[i];
            if (u->pos == u->n || u->pane < q0 || u->pane >= q1) continue;
            if (!any || s_less(u->kg[u->pos], u->key[u->pos], kg, key)) {
                kg = u->kg[u->pos];
                key = u->key[u->pos];
                any = true;
            }
        }
        if (!any) { /* the chunk is done */
            wr_panestore_cursor_destroy(&f->cur);
            f->chunk = false;
            f->c_lo = f->c_hi + w->g;
            continue;
        }
        size_t n = 0;
        if (f->row_live && f->row.kg == kg && f->row.key == key) {
            for (size_t j = 0; j < f->row.n && !rc; j++) {
                /* stored sketches are read where they lie (the block), once checked */
                r->kp_pane[n] = f->row.pane[j];
                r->kp_acc[n] = f->row.acc[j];
                r->kp_tail[n++] = w->lay.nsketch ? f->row.tail[j] : NULL;
                if (w->lay.nsketch)
                    rc = wr__acc_check_stored(&w->lay, f->row.acc[j], f->row.tail[j],
                                              f->row.tail_len[j]);
            }
            f->row_live = false; /* consumed: its pointers stay valid until the next call */
        }
        /* runs hold panes closed after every stored one: they come after the row's */
        for (size_t i = 0; i < r->nruns && !rc; i++) {
            wr__rrun_t *u = &r->runs[i];
            if (u->pos == u->n || u->pane < q0 || u->pane >= q1 || u->kg[u->pos] != kg ||
                u->key[u->pos] != key)
                continue;
            if ((rc = wr__rocks_kp_reserve(r, n + 1))) break;
            r->kp_pane[n] = u->pane;
            r->kp_tail[n] = NULL;
            r->kp_acc[n++] = u->acc + u->pos * w->lay.size;
            if (w->lay.nsketch && u->pos % WR__SK_BURST == 0) /* this key's and the next ones' */
                wr__accs_prefetch(&w->lay, u->acc + u->pos * w->lay.size, w->lay.size,
                                  u->n - u->pos, w->sk);
            u->pos++;
        }
        if (!rc) rc = wr__rocks_fire_key(w, sink, key, n, f->c_lo, f->c_hi, 0);
        if (!rc && wr__sink_full(w, sink, &seen)) return WR_EAGAIN;
    }
    return rc;
}

/* Ends the firing: the runs go, expired panes are dropped, the engine is at the new watermark. */
static int s_finish(wr_window_t *w)
{
    wr__rocks_t *r = w->rocks;
    wr__rfire_t *f = &r->f;
    wr_panestore_cursor_destroy(&f->cur);
    size_t keep = r->nruns; /* the newest run that stays stored */
    for (size_t i = r->nruns; i-- > 0;)
        if (r->runs[i].n && r->runs[i].pane >= f->lo_new && r->runs[i].pane <= r->st_hi) {
            keep = i;
            break;
        }
    for (size_t i = 0; i < r->nruns; i++) {
        if (i == keep)
            r->keep = r->runs[i];
        else
            wr__rocks_run_done(w, &r->runs[i]);
    }
    free(r->runs);
    r->runs = NULL;
    r->nruns = 0;
    int rc = 0;
    if (r->st_lo <= r->st_hi && r->st_lo < f->lo_new) {
        rc = wr_panestore_drop_panes_below(r->ps, f->lo_new);
        r->st_lo = f->lo_new;
        if (r->st_lo > r->st_hi) {
            r->st_lo = INT64_MAX;
            r->st_hi = INT64_MIN;
        }
    }
    w->wm = f->wm;
    w->lo = f->lo_new;
    r->closed = f->closed_new;
    f->active = f->chunk = false;
    return rc;
}

static int s_go(wr_window_t *w, const wr_window_sink_t *sink)
{
    int rc = s_run(w, sink);
    w->paused = rc == WR_EAGAIN;
    if (rc == WR_EAGAIN) return rc;
    int frc = s_finish(w);
    return rc ? rc : frc;
}

/* Closes the open panes below closed_new: sorted runs, written to the store unless they expire
 * at once (below lo_new). */
static int s_close_panes(wr_window_t *w, int64_t closed_new, int64_t lo_new)
{
    wr__rocks_t *r = w->rocks;
    size_t k = 0;
    while (k < r->nopen && r->open[k].pane < closed_new)
        k++;
    bool kept = r->keep.n > 0 && r->keep.pane >= lo_new;
    if (!kept) wr__rocks_run_done(w, &r->keep);
    if (!k && !kept) return 0;
    if (!(r->runs = calloc(k + 1, sizeof *r->runs))) return WR_ENOMEM;
    if (kept) { /* below every pane closing now: runs stay ascending */
        r->runs[r->nruns++] = r->keep;
        memset(&r->keep, 0, sizeof r->keep);
        r->f.kept = true;
    }
    int rc = 0;
    for (size_t i = 0; i < k && !rc; i++) {
        wr__rrun_t *u = &r->runs[r->nruns];
        if ((rc = wr__rocks_sort_pane(w, &r->open[i], u, false))) break;
        for (size_t d = 0; d < r->ndeltas && !rc;) { /* its checkpoint deltas are obsolete */
            if (r->deltas[d][1] != r->open[i].pane) {
                d++;
                continue;
            }
            rc = wr_panestore_drop_pane(r->ps, r->deltas[d][0]);
            memmove(r->deltas[d], r->deltas[d + 1], (r->ndeltas - d - 1) * sizeof *r->deltas);
            r->ndeltas--;
        }
        if (rc) break;
        if (!u->n) continue;
        r->nruns++;
        if (u->pane < lo_new) continue;
        rc = wr__rocks_put_run(w, u->pane, u);
        if (u->pane < r->st_lo) r->st_lo = u->pane;
        if (u->pane > r->st_hi) r->st_hi = u->pane;
    }
    for (size_t i = 0; i < k; i++)
        wr__rocks_kt_recycle(r, &r->open[i].kt);
    memmove(r->open, r->open + k, (r->nopen - k) * sizeof *r->open);
    r->nopen -= k;
    return rc;
}

int wr__rocks_advance(wr_window_t *w, int64_t wm, const wr_window_sink_t *sink)
{
    wr__rocks_t *r = w->rocks;
    wr__rfire_t *f = &r->f;
    *f = (wr__rfire_t){.active = true,
                       .wm = wm,
                       .lo_new = wr__slice_lo(w, wm),
                       .closed_new = wr__floor_div(wm + 1, w->P)};
    int rc = s_close_panes(w, f->closed_new, f->lo_new);
    if (rc) return rc;
    /* windows due: their end passed by wm but not by the old watermark, and around data */
    f->a_lo = wr__ceil_g(w, r->closed + 1 - w->K);
    f->a_hi = wr__floor_g(w, f->closed_new - w->K);
    int64_t dlo = r->st_lo, dhi = r->st_hi;
    if (r->nruns && r->runs[0].pane < dlo) dlo = r->runs[0].pane;
    if (r->nruns && r->runs[r->nruns - 1].pane > dhi) dhi = r->runs[r->nruns - 1].pane;
    if (dlo > dhi) {
        f->a_hi = f->a_lo - 1; /* no data: nothing fires */
    } else {
        int64_t lo = wr__ceil_g(w, dlo - w->K + 1), hi = wr__floor_g(w, dhi);
        if (lo > f->a_lo) f->a_lo = lo;
        if (hi < f->a_hi) f->a_hi = hi;
    }
    f->c_lo = f->a_lo;
    return s_go(w, sink);
}

int wr__rocks_resume(wr_window_t *w, const wr_window_sink_t *sink)
{
    return s_go(w, sink);
}
