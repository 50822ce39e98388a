/* The window engine: API, validation, result buffering (see window.h). The state machinery is in
 * window_slice.c (tumbling, sliding) and window_session.c (sessions). */
#include <stdlib.h>

#include "actors/dataflow/window/window_internal.h"
#include "bus/base/error.h"

#define S_MAX_SPAN ((int64_t)1 << 50)

/* rc with why (the aggregate agg's, -1: none) into *out, if out. */
static int s_refuse(wr_window_refusal_t *out, const char *why, int agg)
{
    if (out) *out = (wr_window_refusal_t){why, agg};
    return WR_EINVAL;
}

static int s_check_sizes(const wr_window_spec_t *s, wr_window_refusal_t *out)
{
    if (s->lateness_ms < 0 || s->lateness_ms > S_MAX_SPAN)
        return s_refuse(out, "allowed lateness out of range", -1);
    if (s->ahead_ms < 0 || s->ahead_ms > S_MAX_SPAN || s->key_interval_ms < 0 ||
        s->key_interval_ms > S_MAX_SPAN)
        return s_refuse(out, "out-of-orderness or key interval out of range", -1);
    if (s->sketch_alpha != 0 && !(s->sketch_alpha > 0 && s->sketch_alpha < 1))
        return s_refuse(out, "quantile accuracy not in (0, 1)", -1);
    if (s->expected_keys > WR__KT_MAX_KEYS)
        return s_refuse(out, "more keys per subtask than a window holds (2^26 - 2)", -1);
    if (s->backend != WR_WINDOW_BACKEND_MEMORY &&
        (s->backend != WR_WINDOW_BACKEND_ROCKSDB || s->kind == WR_WINDOW_SESSION || !s->state_dir))
        return s_refuse(out,
                        s->kind == WR_WINDOW_SESSION
                            ? "the rocksdb backend keeps no session windows"
                            : "no such state backend, or no directory for its store",
                        -1);
    bool ok = false;
    switch (s->kind) {
    case WR_WINDOW_TUMBLING:
        ok = s->size_ms > 0 && s->size_ms <= S_MAX_SPAN;
        break;
    case WR_WINDOW_SLIDING:
        ok = s->size_ms > 0 && s->size_ms <= S_MAX_SPAN && s->slide_ms > 0 &&
             s->slide_ms <= s->size_ms;
        break;
    case WR_WINDOW_SESSION:
        ok = s->gap_ms > 0 && s->gap_ms <= S_MAX_SPAN;
        break;
    default:
        break;
    }
    return ok ? 0
              : s_refuse(out, "no such window kind, or its size, slide or gap out of range", -1);
}

int wr_window_check(const wr_window_spec_t *spec, wr_window_refusal_t *out)
{
    if (!spec) return s_refuse(out, "no spec", -1);
    int rc = s_check_sizes(spec, out);
    wr__agg_layout_t lay;
    if (!rc && wr__agg_layout(&lay, spec->aggs, spec->naggs, spec->ncols))
        rc = s_refuse(out, "an aggregate of no known kind, column or quantile", -1);
    if (!rc && spec->backend == WR_WINDOW_BACKEND_ROCKSDB) rc = wr__rocks_check(spec, out);
    return rc;
}

wr_window_t *wr_window_new(const wr_window_spec_t *spec, int *err)
{
    int rc = WR_EINVAL;
    wr_window_t *w = NULL;
    if (!spec || (rc = s_check_sizes(spec, NULL))) goto fail;
    rc = WR_ENOMEM;
    if (!(w = calloc(1, sizeof *w))) goto fail;
    w->spec = *spec;
    if (!w->spec.sketch_alpha) w->spec.sketch_alpha = WR_WINDOW_DEFAULT_ALPHA;
    if ((rc = wr__agg_layout(&w->lay, spec->aggs, spec->naggs, spec->ncols))) goto fail;
    rc = WR_ENOMEM;
    if (!(w->sk = wr__sketch_pool_new(w->spec.sketch_alpha))) goto fail;
    for (uint32_t a = 0; a < spec->naggs; a++)
        if (!(w->out_val[a] = malloc(WR__OUT_CAP * sizeof(double)))) goto fail;
    w->wm = WR_WINDOW_TS_MIN - 1;
    if (spec->backend == WR_WINDOW_BACKEND_ROCKSDB)
        rc = wr__rocks_init(w);
    else
        rc = spec->kind == WR_WINDOW_SESSION ? wr__session_init(w) : wr__slice_init(w);
    if (rc) goto fail;
    return w;
fail:
    wr_window_destroy(&w);
    if (err) *err = rc;
    return NULL;
}

void wr_window_destroy(wr_window_t **wp)
{
    if (!wp || !*wp) return;
    wr_window_t *w = *wp;
    if (w->spec.backend == WR_WINDOW_BACKEND_ROCKSDB)
        wr__rocks_release(w);
    else if (w->spec.kind == WR_WINDOW_SESSION)
        wr__session_release(w);
    else
        wr__slice_release(w);
    wr__kt_destroy(&w->kt);
    wr__sketch_pool_destroy(&w->sk);
    wr__merge_release(&w->merge);
    if (w->blk) free(w->blk->sk);
    free(w->blk);
    free(w->sw_offs);
    free(w->dead);
    free(w->b_hash);
    free(w->b_pane);
    free(w->b_cand);
    free(w->b_slot);
    free(w->b_late);
    free(w->b_cls);
    for (uint32_t a = 0; a < WR_AGG_MAX_AGGS; a++)
        free(w->out_val[a]);
    free(w);
    *wp = NULL;
}

int wr__batch_scratch(wr_window_t *w, size_t n)
{
    if (n <= w->b_cap) return 0;
    size_t cap = w->b_cap ? w->b_cap : 1024;
    while (cap < n)
        cap *= 2;
#define S_GROW(field)                                                                              \
    do {                                                                                           \
        void *p = realloc(w->field, cap * sizeof *w->field);                                       \
        if (!p) return WR_ENOMEM;                                                                  \
        w->field = p;                                                                              \
    } while (0)
    S_GROW(b_hash);
    S_GROW(b_pane);
    S_GROW(b_cand);
    S_GROW(b_slot);
    S_GROW(b_late);
    S_GROW(b_cls);
#undef S_GROW
    w->b_cap = cap;
    return 0;
}

void wr__flush(wr_window_t *w, const wr_window_sink_t *sink)
{
    if (!w->out_n) return;
    if (sink && sink->emit) {
        wr_window_results_t r = {.n = w->out_n,
                                 .key = w->out_key,
                                 .start = w->out_start,
                                 .end = w->out_end,
                                 .count = w->out_count,
                                 .late = w->out_late,
                                 .val = (const double *const *)w->out_val};
        sink->emit(sink->ctx, &r);
    }
    w->out_n = 0;
}

bool wr__sink_full(wr_window_t *w, const wr_window_sink_t *sink, uint64_t *seen)
{
    if (w->fired == *seen || !sink || !sink->full) return false;
    *seen = w->fired;
    if (!sink->full(sink->ctx)) return false;
    wr__flush(w, sink); /* what is buffered goes now: the pause may be long */
    return true;
}

int wr__emit(wr_window_t *w, const wr_window_sink_t *sink, uint64_t key, int64_t start, int64_t end,
             uint8_t late)
{
    double v[WR_AGG_MAX_AGGS];
    int rc = wr__merge_finish(&w->merge, &w->lay, w->sk, v);
    if (rc) return rc;
    size_t i = w->out_n++;
    w->out_key[i] = key;
    w->out_start[i] = start;
    w->out_end[i] = end;
    w->out_count[i] = w->merge.count;
    w->out_late[i] = late;
    for (uint32_t a = 0; a < w->lay.naggs; a++)
        w->out_val[a][i] = v[a];
    w->fired++;
    w->refires += late;
    if (w->out_n == WR__OUT_CAP) wr__flush(w, sink);
    return 0;
}

int wr_window_add(wr_window_t *w, const uint64_t *keys, const int64_t *ts,
                  const double *const *cols, size_t n, const wr_window_sink_t *sink)
{
    if (!w || w->paused) return WR_EINVAL;
    if (n == 0) return 0;
    if (!keys || !ts || (w->spec.ncols && !cols) || n > UINT32_MAX) return WR_EINVAL;
    for (uint32_t c = 0; c < w->spec.ncols; c++)
        if (!cols[c]) return WR_EINVAL;
    int rc = wr__batch_scratch(w, n);
    if (rc) return rc;
    w->n_late = 0;
    if (w->rocks)
        rc = wr__rocks_add(w, keys, ts, cols, n, sink);
    else
        rc = w->spec.kind == WR_WINDOW_SESSION ? wr__session_add(w, keys, ts, cols, n, sink)
                                               : wr__slice_add(w, keys, ts, cols, n, sink);
    wr__flush(w, sink);
    if (w->n_late) {
        w->dropped += w->n_late;
        if (sink && sink->late) sink->late(sink->ctx, w->b_late, w->n_late);
        w->n_late = 0;
    }
    return rc;
}

int wr_window_advance(wr_window_t *w, int64_t watermark, const wr_window_sink_t *sink)
{
    if (!w || w->paused) return WR_EINVAL;
    /* Past TS_MAX + any window span every window of a valid record has fired and gone. */
    const int64_t wm_max = WR_WINDOW_TS_MAX + 4 * S_MAX_SPAN;
    if (watermark > wm_max) watermark = wm_max;
    if (watermark <= w->wm) return 0;
    int rc = w->rocks                            ? wr__rocks_advance(w, watermark, sink)
             : w->spec.kind == WR_WINDOW_SESSION ? wr__session_advance(w, watermark, sink)
                                                 : wr__slice_advance(w, watermark, sink);
    wr__flush(w, sink);
    return rc;
}

int wr_window_resume(wr_window_t *w, const wr_window_sink_t *sink)
{
    if (!w) return WR_EINVAL;
    if (!w->paused) return 0;
    int rc = w->rocks                            ? wr__rocks_resume(w, sink)
             : w->spec.kind == WR_WINDOW_SESSION ? wr__session_advance(w, w->pause_wm, sink)
                                                 : wr__slice_resume(w, sink);
    wr__flush(w, sink);
    return rc;
}

bool wr_window_paused(const wr_window_t *w)
{
    return w->paused;
}

int64_t wr_window_watermark(const wr_window_t *w)
{
    return w->wm;
}

void wr_window_stats(const wr_window_t *w, wr_window_stats_t *out)
{
    if (w->rocks) {
        wr__rocks_stats(w, out);
        return;
    }
    bool session = w->spec.kind == WR_WINDOW_SESSION;
    *out = (wr_window_stats_t){
        .keys_live = w->kt->count,
        .panes_live = w->panes_live,
        .spill_panes = w->spill_panes,
        .records_added = w->records,
        .windows_fired = w->fired,
        .late_refires = w->refires,
        .dropped_late = w->dropped,
        .sketches = wr__sketch_pool_live(w->sk),
        .watermark = w->wm,
        .ring_panes = session ? 0 : (uint32_t)w->R,
        .pane_ms = session ? 0 : w->P,
    };
    size_t b =
        sizeof *w + wr__kt_bytes(w->kt) + wr__sketch_pool_bytes(w->sk) +
        w->b_cap * (sizeof *w->b_hash + sizeof *w->b_pane + 3 * sizeof(uint32_t) + 1) +
        (size_t)w->lay.naggs * WR__OUT_CAP * sizeof(double) +
        w->kp_cap * (sizeof *w->kp_pane + sizeof *w->kp_acc + sizeof *w->kp_node) +
        (size_t)w->merge.cap * w->lay.nsketch * sizeof(wr__sketch_view_t) + w->dead_words * 8 +
        (w->blk ? sizeof *w->blk + (size_t)w->blk->sk_cap * WR__BLOCK * sizeof *w->blk->sk : 0);
    b += session ? wr__session_bytes(w) : wr__slice_bytes(w);
    out->memory_bytes = b;
}
