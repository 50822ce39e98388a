/* Segments written ahead: a closed pane's segment written in steps between batches of records,
 * before the checkpoint that references it (see window_snap.h).
 *
 * What keeps it exact while records go on between steps:
 * - late records into the pane are marked dirty from the first step on (ahead_hi), so every main
 *   carries their keys' whole accumulator of the pane, which replaces the segment's on restore,
 *   whether the step that wrote the key came before the late record or after it;
 * - keys added after the walk began are not visited: they have no data in a closed pane except
 *   through late records, which are marked;
 * - nothing moves an entry the walk has still to visit: only a sweep removes keys, and a sweep
 *   that may remove any first finishes the segment (wr__ahead_settle);
 * - the pane's ring slot is not reused before the pane expires, K - 1 panes after it closed, by a
 *   sweep, which finishes the segment first.
 * A main commits the segments written ahead that it references; one it does not reference (the
 * pane expired first, or the caller lost its file and had it written again) is dropped. A main
 * taken while a segment is being written does not wait for it: it seals only the panes before
 * that one and holds that one (and any later closed one) whole, as it holds the open panes; the
 * segment goes on, and a later main references it. Its late records are marked from its first
 * step on, so that later main carries them. */
#include <stdlib.h>

#include "actors/dataflow/window/window_snap_internal.h"
#include "bus/base/error.h"

struct wr__ahead {
    int64_t pane;
    wr__snap_stream_t x;
    wr__snap_walk_t *walk;
    uint16_t *kg;
    uint64_t *first;
    uint64_t head_sum;
};

typedef struct wr__ahead s_ahead_t;

static void s_free(s_ahead_t **ap)
{
    s_ahead_t *a = *ap;
    if (!a) return;
    wr__snap_walk_free(&a->walk);
    free(a->kg);
    free(a->first);
    free(a);
    *ap = NULL;
}

/* Keeps the segments written ahead of panes >= from (in order). */
static void s_keep_done_from(wr_window_t *w, int64_t from)
{
    uint32_t k = 0;
    for (uint32_t i = 0; i < w->nahead_done; i++)
        if (w->ahead_done[i].pane >= from) w->ahead_done[k++] = w->ahead_done[i];
    w->nahead_done = k;
}

/* Whether pane p's segment was written ahead (and not yet taken by a main). */
static bool s_done(const wr_window_t *w, int64_t p)
{
    for (uint32_t i = 0; i < w->nahead_done; i++)
        if (w->ahead_done[i].pane == p) return true;
    return false;
}

int wr_window_ahead_next(const wr_window_t *w, int64_t *pane)
{
    if (!wr_window_incremental(w) || !pane) return WR_EINVAL;
    if (w->ahead || w->paused) return 0;
    /* the lowest closed pane after the sealed ones that holds data and is not written: one
     * passed over while it held none can have got some since (late records below the ring, in a
     * fresh engine's first minutes) */
    int64_t p = w->sealed == INT64_MIN || w->sealed < w->lo ? w->lo : w->sealed + 1;
    for (; p <= wr__snap_closed(w); p++)
        if (!s_done(w, p) && !wr__snap_pane_empty(w, p)) {
            *pane = p;
            return 1;
        }
    return 0;
}

int wr_window_ahead_begin(wr_window_t *w, int64_t pane, uint32_t maxp,
                          uint32_t (*key_group)(void *ctx, uint64_t key), void *ctx,
                          wr_snap_writer_t *out)
{
    int64_t want = 0;
    if (w) s_keep_done_from(w, w->lo); /* (those that expired before a main took them go) */
    if (wr_window_ahead_next(w, &want) != 1 || want != pane || !key_group || !out || maxp < 1 ||
        maxp > WR_WINDOW_SNAP_MAX_GROUPS || w->nahead_done >= WR__SNAP_MAX_SEGS)
        return WR_EINVAL;
    wr__incr_forget_expired(w); /* (with no main for a while, marks would pile up) */
    if (!w->ahead_done && !(w->ahead_done = malloc(WR__SNAP_MAX_SEGS * sizeof *w->ahead_done)))
        return WR_ENOMEM;
    s_ahead_t *a = calloc(1, sizeof *a);
    if (!a) return WR_ENOMEM;
    a->pane = pane;
    int rc = wr__snap_groups(w, maxp, key_group, ctx, &a->kg, &a->first);
    if (!rc) rc = wr__snap_seg_begin(w, &a->pane, maxp, out, &a->x, &a->head_sum);
    if (!rc) rc = wr__snap_walk_new(w, &a->x, 1, maxp, a->kg, a->first, &a->walk);
    if (rc) {
        s_free(&a);
        return rc;
    }
    w->ahead = a;
    if (pane > w->ahead_hi) w->ahead_hi = pane; /* late records into it are marked from now on */
    return 0;
}

int wr_window_ahead_step(wr_window_t *w)
{
    if (!w || !w->ahead) return WR_EINVAL;
    if (w->paused) return 0; /* (never: a sweep settles it before it starts) */
    s_ahead_t *a = w->ahead;
    int rc = wr__snap_walk_step(a->walk);
    if (rc == 0) return 0;
    if (rc == 1) { /* (kept in pane order) */
        uint32_t i = w->nahead_done++;
        for (; i > 0 && w->ahead_done[i - 1].pane > a->pane; i--)
            w->ahead_done[i] = w->ahead_done[i - 1];
        w->ahead_done[i] =
            (wr_window_seg_t){.pane = a->pane, .id = wr__snap_seg_id(a->head_sum, a->x.sum)};
    }
    s_free(&w->ahead);
    return rc;
}

int wr_window_ahead_finish(wr_window_t *w)
{
    if (!w) return WR_EINVAL;
    int rc = 0;
    while (w->ahead && !w->paused && !(rc = wr_window_ahead_step(w)))
        ;
    if (w->ahead && w->paused) rc = WR_EINVAL;
    return rc < 0 ? rc : 0;
}

bool wr_window_ahead_busy(const wr_window_t *w)
{
    return w && w->ahead;
}

void wr_window_ahead_abandon(wr_window_t *w)
{
    if (w) s_free(&w->ahead);
}

void wr__ahead_settle(wr_window_t *w, int64_t wm)
{
    if (wm > WR_WINDOW_TS_MAX) /* the end of event time: every window fires, nothing is left */
        wr_window_ahead_abandon(w);
    else
        (void)wr_window_ahead_finish(w); /* an error abandoned it: the checkpoint writes it */
}

int64_t wr__snap_main_sealed(const wr_window_t *w)
{
    int64_t closed = wr__snap_closed(w);
    return w->ahead && w->ahead->pane <= closed ? w->ahead->pane - 1 : closed;
}

void wr__ahead_committed(wr_window_t *w)
{
    s_keep_done_from(w, w->sealed + 1); /* (the one being written is after sealed: main_sealed) */
}

void wr__ahead_release(wr_window_t *w)
{
    s_free(&w->ahead);
    free(w->ahead_done);
    w->ahead_done = NULL;
    w->nahead_done = 0;
}
