/* Incremental snapshots of the sliced memory engine: which panes are sealed (in the caller's
 * segments), the dirty set of late changes to them, writing a segment and a main part (see
 * window_snap.h). Restoring them is in window_snap_restore.c. */
#include <stdlib.h>

#include "actors/dataflow/window/window_snap_internal.h"
#include "bus/base/error.h"

struct wr__dirty {
    uint64_t key;
    int64_t pane; /* INT64_MIN: a free slot */
};

typedef struct wr__dirty s_dirty_t;

static uint32_t s_dslot(const s_dirty_t *t, uint32_t cap, uint64_t key, int64_t pane)
{
    uint32_t mask = cap - 1,
             i = (uint32_t)wr__kt_hash(key ^ (uint64_t)pane * 0x9e3779b97f4a7c15ull) & mask;
    while (t[i].pane != INT64_MIN && (t[i].key != key || t[i].pane != pane))
        i = (i + 1) & mask;
    return i;
}

/* A free table of cap slots (a power of two). */
static s_dirty_t *s_dirty_table(uint32_t cap)
{
    s_dirty_t *t = malloc((size_t)cap * sizeof *t);
    for (uint32_t i = 0; t && i < cap; i++)
        t[i].pane = INT64_MIN;
    return t;
}

/* Moves w's marks of panes >= from into a fresh table of cap slots. 0, or WR_ENOMEM: w as it
 * was. */
static int s_rehash(wr_window_t *w, uint32_t cap, int64_t from)
{
    s_dirty_t *t = s_dirty_table(cap);
    if (!t) return WR_ENOMEM;
    uint32_t n = 0;
    for (uint32_t i = 0; i < w->dirty_cap; i++)
        if (w->dirty[i].pane != INT64_MIN && w->dirty[i].pane >= from) {
            t[s_dslot(t, cap, w->dirty[i].key, w->dirty[i].pane)] = w->dirty[i];
            n++;
        }
    free(w->dirty);
    w->dirty = t;
    w->dirty_cap = cap;
    w->dirty_n = n;
    return 0;
}

int wr__incr_touch(wr_window_t *w, uint64_t key, int64_t p)
{
    if ((w->dirty_n + 1) * 2 > w->dirty_cap &&
        s_rehash(w, w->dirty_cap ? w->dirty_cap * 2 : 64, INT64_MIN))
        return WR_ENOMEM;
    uint32_t i = s_dslot(w->dirty, w->dirty_cap, key, p);
    if (w->dirty[i].pane == INT64_MIN) {
        w->dirty[i] = (s_dirty_t){key, p};
        w->dirty_n++;
    }
    return 0;
}

void wr__incr_forget_expired(wr_window_t *w)
{
    bool any = false;
    for (uint32_t i = 0; i < w->dirty_cap && !any; i++)
        any = w->dirty[i].pane != INT64_MIN && w->dirty[i].pane < w->lo;
    if (any) (void)s_rehash(w, w->dirty_cap, w->lo); /* (no memory: they go at the next main) */
}

void wr__incr_release(wr_window_t *w)
{
    wr__ahead_release(w);
    free(w->seg);
    free(w->dirty);
    w->seg = NULL;
    w->dirty = NULL;
    w->nseg = w->seg_cap = w->dirty_n = w->dirty_cap = 0;
}

bool wr_window_incremental(const wr_window_t *w)
{
    return w && w->spec.backend == WR_WINDOW_BACKEND_MEMORY && w->spec.kind != WR_WINDOW_SESSION;
}

/* The spill node pane and next link (window_slice.c's layout: pane i64 @8, next u32 @16). */
static int64_t s_node_pane(const wr_window_t *w, uint32_t nd, uint32_t *next)
{
    const uint8_t *node = w->sp_nodes + (size_t)nd * w->sp_stride;
    int64_t p;
    memcpy(&p, node + 8, 8);
    memcpy(next, node + 16, 4);
    return p;
}

/* The lowest spilled pane below the ring (INT64_MAX: none). Chains are sorted by pane. */
static int64_t s_spill_below(const wr_window_t *w)
{
    int64_t lowest = INT64_MAX;
    for (uint32_t i = 0; w->spill_panes && i < w->sp_hcap; i++) {
        uint32_t next, nd = w->sp_heads[i].head;
        if (!nd) continue;
        int64_t p = s_node_pane(w, nd, &next);
        if (p < w->base && p < lowest) lowest = p;
    }
    return lowest;
}

/* Whether a key has pane p (below the ring) in the spill table. */
static bool s_spilled(const wr_window_t *w, int64_t p)
{
    for (uint32_t i = 0; w->spill_panes && i < w->sp_hcap; i++) {
        uint32_t next;
        for (uint32_t nd = w->sp_heads[i].head; nd; nd = next) {
            int64_t q = s_node_pane(w, nd, &next);
            if (q == p) return true;
            if (q > p) break;
        }
    }
    return false;
}

int wr_window_segments(const wr_window_t *w, wr_window_seg_t *out, size_t cap)
{
    if (!wr_window_incremental(w) || (!out && cap)) return WR_EINVAL;
    size_t n = 0;
    for (uint32_t i = 0; i < w->nseg; i++) {
        if (w->seg[i].pane < w->lo) continue;
        if (n == cap) return WR_ETOOBIG;
        out[n] = w->seg[i];
        out[n++].due = false;
    }
    int64_t from = w->sealed == INT64_MIN || w->sealed < w->lo ? w->lo : w->sealed + 1;
    uint32_t a = 0; /* the segments written ahead: panes after sealed, ascending */
    for (int64_t p = from; p <= wr__snap_main_sealed(w); p++) {
        if (n == cap) return WR_ETOOBIG;
        while (a < w->nahead_done && w->ahead_done[a].pane < p)
            a++;
        if (a < w->nahead_done && w->ahead_done[a].pane == p)
            out[n++] = (wr_window_seg_t){.pane = p, .id = w->ahead_done[a].id};
        else
            out[n++] = (wr_window_seg_t){.pane = p, .due = !wr__snap_pane_empty(w, p)};
    }
    return (int)n;
}

bool wr__snap_pane_empty(const wr_window_t *w, int64_t p)
{
    /* below the ring only spilled panes hold data (late records of a fresh engine) */
    return w->kt->count == 0 || (p < w->base && (p < s_spill_below(w) || !s_spilled(w, p)));
}

/* ---- writing a segment ---- */

int wr__snap_put_pane(const wr_window_t *w, wr_snap_writer_t *out, uint32_t e, void *arg)
{
    const uint8_t *acc = wr__slice_peek(w, e, *(const int64_t *)arg);
    if (!acc) return 1;
    return wr__snapw_put(out, wr__kt_entry(w->kt, e), 8) ? out->err : wr__snap_put_acc(w, out, acc);
}

int wr__snap_seg_begin(const wr_window_t *w, int64_t *pane, uint32_t maxp, wr_snap_writer_t *out,
                       wr__snap_stream_t *x, uint64_t *head_sum)
{
    wr__snap_head_t h;
    wr__snap_head_of(w, &h);
    h.maxp = maxp;
    h.part = WR__SNAP_SEGMENT;
    h.sealed = *pane;
    *x = (wr__snap_stream_t){.out = out,
                             .start = wr__snapw_off(out),
                             .put = wr__snap_put_pane,
                             .arg = pane,
                             .pf_lo = *pane,
                             .pf_hi = *pane};
    int rc = wr__snap_head_write(out, &h);
    *head_sum = h.sum;
    return rc;
}

static bool s_args_ok(uint32_t maxp, uint32_t (*key_group)(void *, uint64_t),
                      const wr_snap_writer_t *out)
{
    return key_group && out && maxp >= 1 && maxp <= WR_WINDOW_SNAP_MAX_GROUPS;
}

int wr_window_snapshot_segment(const wr_window_t *w, int64_t pane, uint32_t maxp,
                               uint32_t (*key_group)(void *ctx, uint64_t key), void *ctx,
                               wr_snap_writer_t *out, uint64_t *id)
{
    if (!wr_window_incremental(w) || !s_args_ok(maxp, key_group, out) || !id || pane < w->lo ||
        pane > wr__snap_closed(w))
        return WR_EINVAL;
    uint16_t *kg = NULL;
    uint64_t *first = NULL, head_sum = 0;
    int rc = wr__snap_groups(w, maxp, key_group, ctx, &kg, &first);
    if (rc) return rc;
    wr__snap_stream_t x;
    if (!(rc = wr__snap_seg_begin(w, &pane, maxp, out, &x, &head_sum)))
        rc = wr__snap_bodies(w, &x, 1, maxp, kg, first);
    free(kg);
    free(first);
    if (!rc) *id = wr__snap_seg_id(head_sum, x.sum);
    return rc;
}

/* ---- writing a main part ---- */

/* What a main keeps: the panes after sealed, and the sealed ones marked dirty (a sorted list,
 * and a filter of their keys: bit hash(key) & mask of keys, so that a key without marks, nearly
 * every key, is told in one look instead of a binary search for each of its sealed panes: those
 * searches took half a main's time in the seed's job). */
typedef struct {
    int64_t sealed;
    const s_dirty_t *dirty; /* sorted by key, pane */
    size_t ndirty;
    uint64_t *keys, mask;
    wr__snap_keep_t how; /* after: sealed; maybe: s_maybe_dirty; pane: s_dirty */
} s_keep_t;

static int s_cmp_dirty(const void *a, const void *b)
{
    const s_dirty_t *x = a, *y = b;
    if (x->key != y->key) return x->key < y->key ? -1 : 1;
    return (x->pane > y->pane) - (x->pane < y->pane);
}

/* A main keeps the open panes and the sealed ones changed since their segment: whether key may
 * have such a sealed pane (the filter), and whether sealed pane p of it is one. */
static bool s_maybe_dirty(const void *arg, uint64_t key)
{
    const s_keep_t *k = arg;
    if (!k->ndirty) return false;
    uint64_t bit = wr__kt_hash(key) & k->mask;
    return k->keys[bit >> 6] >> (bit & 63) & 1;
}

static bool s_dirty(const void *arg, uint64_t key, int64_t p)
{
    const s_keep_t *k = arg;
    s_dirty_t x = {key, p};
    return bsearch(&x, k->dirty, k->ndirty, sizeof x, s_cmp_dirty) != NULL;
}

static int s_put_main(const wr_window_t *w, wr_snap_writer_t *out, uint32_t e, void *arg)
{
    const s_keep_t *k = arg;
    return wr__snap_put_slices(w, out, e, &k->how);
}

/* Whether segs[0..n) is what wr_window_segments gives for w, every due one written (or, with
 * seg_out, to be written to its seg_out[i]). */
static int s_segs_ok(const wr_window_t *w, const wr_window_seg_t *segs, size_t n,
                     wr_snap_writer_t *const *seg_out)
{
    wr_window_seg_t *cur = malloc((WR__SNAP_MAX_SEGS) * sizeof *cur);
    if (!cur) return WR_ENOMEM;
    int m = wr_window_segments(w, cur, WR__SNAP_MAX_SEGS), rc = 0;
    if (m < 0 || (size_t)m != n) rc = WR_EINVAL;
    for (size_t i = 0; i < n && !rc; i++)
        if (segs[i].pane != cur[i].pane || (segs[i].due && (seg_out ? !seg_out[i] : !segs[i].id)) ||
            (!segs[i].due && segs[i].id != cur[i].id))
            rc = WR_EINVAL;
    free(cur);
    return rc;
}

/* The dirty marks a main carries: sealed panes still live and not rewritten now, sorted. */
static s_dirty_t *s_dirty_kept(const wr_window_t *w, const wr_window_seg_t *segs, size_t n,
                               size_t *count)
{
    s_dirty_t *v = malloc((w->dirty_n ? w->dirty_n : 1) * sizeof *v);
    if (!v) return NULL;
    size_t k = 0;
    for (uint32_t i = 0; i < w->dirty_cap; i++) {
        const s_dirty_t *d = &w->dirty[i];
        if (d->pane == INT64_MIN || d->pane < w->lo) continue;
        bool rewritten = false;
        for (size_t j = 0; j < n && !rewritten; j++)
            rewritten = segs[j].due && segs[j].pane == d->pane;
        if (!rewritten) v[k++] = *d;
    }
    qsort(v, k, sizeof *v, s_cmp_dirty);
    *count = k;
    return v;
}

/* wr_window_snapshot_main, and with seg_out (wr_window_snapshot_incremental) the due segments
 * too, all in one pass over the keys: the main's header, which lists their ids, is written last
 * over room kept for it. */
static int s_incremental(wr_window_t *w, wr_window_seg_t *segs, size_t n, uint32_t maxp,
                         uint32_t (*key_group)(void *ctx, uint64_t key), void *ctx,
                         wr_snap_writer_t *const *seg_out, wr_snap_writer_t *out)
{
    if (!wr_window_incremental(w) || !s_args_ok(maxp, key_group, out) || (!segs && n) ||
        n > WR__SNAP_MAX_SEGS)
        return WR_EINVAL;
    int rc = s_segs_ok(w, segs, n, seg_out);
    if (rc) return rc;
    size_t nd = 0, nx = 0;
    s_dirty_t *kept = s_dirty_kept(w, segs, n, &nd);
    uint32_t cap = 64;
    while (cap < nd * 2 + 2)
        cap *= 2;
    s_dirty_t *table = s_dirty_table(cap);
    wr_window_seg_t *table_segs = malloc((n ? n : 1) * sizeof *table_segs);
    wr__snap_stream_t *xs = malloc((n + 1) * sizeof *xs);
    uint64_t *head_sums = malloc((n + 1) * sizeof *head_sums);
    uint16_t *kg = NULL;
    uint64_t *first = NULL;
    rc = kept && table && table_segs && xs && head_sums ? 0 : WR_ENOMEM;
    if (!rc) rc = wr__snap_groups(w, maxp, key_group, ctx, &kg, &first);
    s_keep_t keep = {.sealed = wr__snap_main_sealed(w), .dirty = kept, .ndirty = nd, .mask = 63};
    keep.how = (wr__snap_keep_t){
        .after = keep.sealed, .maybe = s_maybe_dirty, .pane = s_dirty, .arg = &keep};
    while (keep.mask / 16 < nd) /* about one key in 16 without marks looks further */
        keep.mask = keep.mask * 2 + 1;
    if (!rc && !(keep.keys = calloc(keep.mask / 64 + 1, 8))) rc = WR_ENOMEM;
    for (size_t i = 0; !rc && i < nd; i++) {
        uint64_t bit = wr__kt_hash(kept[i].key) & keep.mask;
        keep.keys[bit >> 6] |= (uint64_t)1 << (bit & 63);
    }
    for (size_t i = 0; i < n && !rc && seg_out; i++) { /* the due segments' headers */
        if (!segs[i].due) continue;
        rc = wr__snap_seg_begin(w, &segs[i].pane, maxp, seg_out[i], &xs[nx], &head_sums[nx]);
        nx++;
    }
    wr__snap_head_t h;
    wr__snap_head_of(w, &h);
    h.maxp = maxp;
    h.keys = w->kt->count;
    h.part = WR__SNAP_MAIN;
    h.nsegs = (uint32_t)n;
    h.wsegs = segs;
    h.sealed = keep.sealed;
    const uint64_t start = wr__snapw_off(out);
    const size_t hb = wr__snap_head_bytes(&h);
    static const uint8_t zero[256];
    for (size_t left = hb; !rc && left;) { /* room for the header */
        size_t k = left < sizeof zero ? left : sizeof zero;
        rc = wr__snapw_put(out, zero, k);
        left -= k;
    }
    xs[nx] = (wr__snap_stream_t){.out = out,
                                 .start = start,
                                 .put = s_put_main,
                                 .arg = &keep,
                                 .pf_lo = keep.sealed + 1, /* (the dirty sealed ones: few) */
                                 .pf_hi = INT64_MAX};
    if (!rc) rc = wr__snap_bodies(w, xs, nx + 1, maxp, kg, first);
    for (size_t i = 0, k = 0; i < n && !rc && seg_out; i++)
        if (segs[i].due) {
            segs[i].id = wr__snap_seg_id(head_sums[k], xs[k].sum);
            k++;
        }
    if (!rc) { /* the header, now that the ids are known */
        wr_snap_writer_t *hw = wr_snap_writer_new_mem();
        size_t len = 0;
        rc = hw ? wr__snap_head_write(hw, &h) : WR_ENOMEM;
        const uint8_t *b = rc ? NULL : wr_snap_writer_mem(hw, &len);
        if (!rc) rc = len == hb ? wr__snapw_patch(out, start, b, len) : WR_EINVAL;
        wr_snap_writer_destroy(&hw);
        if (!rc) rc = wr_snap_writer_flush(out);
    }
    if (!rc) { /* commit */
        for (size_t i = 0; i < nd; i++)
            table[s_dslot(table, cap, kept[i].key, kept[i].pane)] = kept[i];
        free(w->dirty);
        w->dirty = table;
        w->dirty_cap = cap;
        w->dirty_n = (uint32_t)nd;
        table = NULL;
        for (size_t i = 0; i < n; i++)
            table_segs[i] = (wr_window_seg_t){.pane = segs[i].pane, .id = segs[i].id};
        free(w->seg);
        w->seg = table_segs;
        w->nseg = w->seg_cap = (uint32_t)n;
        table_segs = NULL;
        w->sealed = keep.sealed;
        wr__ahead_committed(w);
    }
    free(kg);
    free(first);
    free(kept);
    free(keep.keys);
    free(table);
    free(table_segs);
    free(xs);
    free(head_sums);
    return rc;
}

int wr_window_snapshot_main(wr_window_t *w, const wr_window_seg_t *segs, size_t n, uint32_t maxp,
                            uint32_t (*key_group)(void *ctx, uint64_t key), void *ctx,
                            wr_snap_writer_t *out)
{
    return s_incremental(w, (wr_window_seg_t *)segs, n, maxp, key_group, ctx, NULL, out);
}

int wr_window_snapshot_incremental(wr_window_t *w, wr_window_seg_t *segs, size_t n, uint32_t maxp,
                                   uint32_t (*key_group)(void *ctx, uint64_t key), void *ctx,
                                   wr_snap_writer_t *const *seg_out, wr_snap_writer_t *out)
{
    if (!seg_out) return WR_EINVAL;
    return s_incremental(w, segs, n, maxp, key_group, ctx, seg_out, out);
}
