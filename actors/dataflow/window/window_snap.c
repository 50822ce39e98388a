/* Window snapshots: the header, writing a snapshot, resealing (see window_snap.h). Restoring is in
 * window_snap_restore.c. */
#include <stdlib.h>

#include "actors/dataflow/window/window_snap_internal.h"
#include "bus/base/error.h"

#define S_HEAD_FIXED1 120 /* header bytes before the aggregates: version 1 */
#define S_HEAD_FIXED  136 /* version 2: part, nsegs, sealed */
#define S_HEAD_AGG    16
#define S_FIELD(p, v) (memcpy((p), &(v), sizeof(v)), (p) += sizeof(v))

/* ---- the header ---- */

void wr__snap_head_of(const wr_window_t *w, wr__snap_head_t *h)
{
    const wr_window_spec_t *s = &w->spec;
    bool session = s->kind == WR_WINDOW_SESSION;
    *h = (wr__snap_head_t){
        .version = WR_WINDOW_SNAP_VERSION,
        .header_bytes = S_HEAD_FIXED + S_HEAD_AGG * s->naggs + 8,
        .sealed = session ? 0 : w->sealed,
        .kind = (uint32_t)s->kind,
        .ncols = s->ncols,
        .naggs = s->naggs,
        .acc_size = wr__agg_packed_size(&w->lay), /* what a record's accumulator takes */
        .ring = session ? 0 : (uint32_t)w->R,
        .size = session ? 0 : s->size_ms,
        .slide = s->kind == WR_WINDOW_SLIDING ? s->slide_ms
                 : session                    ? 0
                                              : s->size_ms,
        .gap = session ? s->gap_ms : 0,
        .lateness = s->lateness_ms,
        .pane = session ? 0 : w->P,
        .wm = w->wm,
        .lo = session ? 0 : w->lo,
        .base = session ? 0 : w->base,
        .alpha = s->sketch_alpha,
    };
    for (uint32_t a = 0; a < s->naggs; a++) {
        wr_agg_kind_t k = s->aggs[a].kind;
        h->aggs[a] = (wr_agg_t){.kind = k,
                                .col = k == WR_AGG_COUNT ? 0 : s->aggs[a].col,
                                .q = k == WR_AGG_QUANTILE ? s->aggs[a].q : 0};
    }
}

size_t wr__snap_head_bytes(const wr__snap_head_t *h)
{
    return S_HEAD_FIXED + S_HEAD_AGG * h->naggs + (size_t)WR__SNAP_SEG_ENT * h->nsegs + 8;
}

int wr__snap_head_write(wr_snap_writer_t *out, wr__snap_head_t *h)
{
    uint8_t b[S_HEAD_FIXED + S_HEAD_AGG * WR_AGG_MAX_AGGS + 8], *p = b;
    h->header_bytes = (uint32_t)wr__snap_head_bytes(h);
    memcpy(p, WR__SNAP_MAGIC, 8);
    p += 8;
    S_FIELD(p, h->version);
    S_FIELD(p, h->header_bytes);
    S_FIELD(p, h->kind);
    S_FIELD(p, h->ncols);
    S_FIELD(p, h->naggs);
    S_FIELD(p, h->acc_size);
    S_FIELD(p, h->ring);
    S_FIELD(p, h->maxp);
    S_FIELD(p, h->size);
    S_FIELD(p, h->slide);
    S_FIELD(p, h->gap);
    S_FIELD(p, h->lateness);
    S_FIELD(p, h->pane);
    S_FIELD(p, h->wm);
    S_FIELD(p, h->lo);
    S_FIELD(p, h->base);
    S_FIELD(p, h->alpha);
    S_FIELD(p, h->keys);
    S_FIELD(p, h->part);
    S_FIELD(p, h->nsegs);
    S_FIELD(p, h->sealed);
    for (uint32_t a = 0; a < h->naggs; a++) {
        uint32_t kind = (uint32_t)h->aggs[a].kind;
        S_FIELD(p, kind);
        S_FIELD(p, h->aggs[a].col);
        S_FIELD(p, h->aggs[a].q);
    }
    wr__sum_t sum;
    wr__sum_init(&sum);
    wr__sum_update(&sum, b, (size_t)(p - b));
    int rc = wr__snapw_put(out, b, (size_t)(p - b));
    for (uint32_t i = 0; i < h->nsegs && !rc; i++) {
        uint8_t e[WR__SNAP_SEG_ENT];
        memcpy(e, &h->wsegs[i].pane, 8);
        memcpy(e + 8, &h->wsegs[i].id, 8);
        wr__sum_update(&sum, e, sizeof e);
        rc = wr__snapw_put(out, e, sizeof e);
    }
    h->sum = wr__sum_final(&sum);
    return rc ? rc : wr__snapw_put(out, &h->sum, 8);
}

uint64_t wr__snap_seg_id(uint64_t head_sum, uint64_t trailer_sum)
{
    uint64_t both[2] = {head_sum, trailer_sum}, id = wr__sum(both, sizeof both);
    return id ? id : 1;
}

#define S_TAKE(p, v) (memcpy(&(v), (p), sizeof(v)), (p) += sizeof(v))

int wr__snap_head_read(const uint8_t *b, size_t len, wr__snap_head_t *h)
{
    if (len < S_HEAD_FIXED1 + 8 || memcmp(b, WR__SNAP_MAGIC, 8)) return WR_EPROTO;
    const uint8_t *p = b + 8;
    memset(h, 0, sizeof *h);
    S_TAKE(p, h->version);
    if (h->version != 1 && h->version != WR_WINDOW_SNAP_VERSION) return WR_EVERSION;
    const size_t fixed = h->version == 1 ? S_HEAD_FIXED1 : S_HEAD_FIXED;
    S_TAKE(p, h->header_bytes);
    S_TAKE(p, h->kind);
    S_TAKE(p, h->ncols);
    S_TAKE(p, h->naggs);
    if (len < fixed + 8 || h->naggs < 1 || h->naggs > WR_AGG_MAX_AGGS) return WR_EPROTO;
    if (h->version > 1) {
        memcpy(&h->part, b + S_HEAD_FIXED1, 4);
        memcpy(&h->nsegs, b + S_HEAD_FIXED1 + 4, 4);
        memcpy(&h->sealed, b + S_HEAD_FIXED1 + 8, 8);
    }
    if (h->part > WR__SNAP_SEGMENT || h->nsegs > WR__SNAP_MAX_SEGS ||
        (h->part != WR__SNAP_MAIN && h->nsegs) ||
        h->header_bytes !=
            fixed + S_HEAD_AGG * h->naggs + (size_t)WR__SNAP_SEG_ENT * h->nsegs + 8 ||
        h->header_bytes > len)
        return WR_EPROTO;
    memcpy(&h->sum, b + h->header_bytes - 8, 8);
    if (h->sum != wr__sum(b, h->header_bytes - 8)) return WR_EPROTO;
    S_TAKE(p, h->acc_size);
    S_TAKE(p, h->ring);
    S_TAKE(p, h->maxp);
    S_TAKE(p, h->size);
    S_TAKE(p, h->slide);
    S_TAKE(p, h->gap);
    S_TAKE(p, h->lateness);
    S_TAKE(p, h->pane);
    S_TAKE(p, h->wm);
    S_TAKE(p, h->lo);
    S_TAKE(p, h->base);
    S_TAKE(p, h->alpha);
    S_TAKE(p, h->keys);
    p = b + fixed;
    for (uint32_t a = 0; a < h->naggs; a++) {
        uint32_t kind;
        S_TAKE(p, kind);
        h->aggs[a].kind = (wr_agg_kind_t)kind;
        S_TAKE(p, h->aggs[a].col);
        S_TAKE(p, h->aggs[a].q);
    }
    h->segs = p;
    return 0;
}

int wr__snap_head_fits(const wr_window_t *w, const wr__snap_head_t *h)
{
    wr__snap_head_t m;
    wr__snap_head_of(w, &m);
    bool same = m.kind == h->kind && m.ncols == h->ncols && m.naggs == h->naggs &&
                m.acc_size == h->acc_size && m.size == h->size && m.slide == h->slide &&
                m.gap == h->gap && m.lateness == h->lateness && m.pane == h->pane &&
                m.alpha == h->alpha;
    for (uint32_t a = 0; same && a < m.naggs; a++)
        same = m.aggs[a].kind == h->aggs[a].kind && m.aggs[a].col == h->aggs[a].col &&
               (m.aggs[a].q == h->aggs[a].q);
    return same ? 0 : WR_EINVAL;
}

/* ---- writing ---- */

/* Appends accumulator acc in its packed form (agg.h): each sketch field as its entry count, then
 * the entries. */
int wr__snap_put_acc(const wr_window_t *w, wr_snap_writer_t *out, const uint8_t *acc)
{
    const wr__agg_layout_t *l = &w->lay;
    const size_t ps = wr__agg_packed_size(l);
    uint8_t *p = wr__snapw_room(out, ps);
    if (!p) return out->err;
    wr__sketch_view_t v[WR__MAX_FIELDS];
    wr__acc_pack(l, acc, p, w->sk, v);
    wr__snapw_commit(out, ps);
    for (uint32_t k = 0; k < l->nsketch; k++)
        if (v[k].n && wr__snapw_put(out, v[k].e, (size_t)v[k].n * 4)) return out->err;
    return 0;
}

/* Key record of a sliced kind: key u64, ring panes u16, spill panes u32, then each ring pane as
 * its offset from the base (u16) and accumulator, each spill pane as its number (i64) and
 * accumulator, ascending. */
/* Whether keep keeps pane p of key (look: what keep->maybe said of it). */
static inline bool s_kept(const wr__snap_keep_t *keep, bool look, uint64_t key, int64_t p)
{
    return !keep || p > keep->after || (look && keep->pane(keep->arg, key, p));
}

int wr__snap_put_slices(const wr_window_t *w, wr_snap_writer_t *out, uint32_t e,
                        const wr__snap_keep_t *keep)
{
    const uint8_t *ent = wr__kt_entry(w->kt, e);
    const size_t asz = w->lay.size;
    uint64_t key;
    memcpy(&key, ent, 8);
    const bool look = keep && keep->maybe(keep->arg, key);
    uint16_t nring = 0;
    uint32_t nspill = 0;
    /* ring pane base + o is in slot base_slot + o, wrapped (no division per pane); keep is asked
     * first, so that a main does not read its sealed panes */
    const uint8_t *ring = ent + 8;
    for (int64_t o = 0, slot = w->base_slot; o < w->R; o++, slot = slot + 1 == w->R ? 0 : slot + 1)
        nring += s_kept(keep, look, key, w->base + o) && wr__acc_count(ring + slot * asz) != 0;
    uint32_t first = wr__slice_spill_first(w, e);
    for (uint32_t nd = first; nd;) {
        const uint8_t *node = w->sp_nodes + (size_t)nd * w->sp_stride;
        int64_t p;
        memcpy(&p, node + 8, 8);
        nspill += s_kept(keep, look, key, p);
        memcpy(&nd, node + 16, 4);
    }
    if (!nring && !nspill) return 1;
    uint8_t *p = wr__snapw_room(out, 14);
    if (!p) return out->err;
    memcpy(p, ent, 8);
    memcpy(p + 8, &nring, 2);
    memcpy(p + 10, &nspill, 4);
    wr__snapw_commit(out, 14);
    for (int64_t o = 0, slot = w->base_slot; o < w->R && nring;
         o++, slot = slot + 1 == w->R ? 0 : slot + 1) {
        if (!s_kept(keep, look, key, w->base + o)) continue;
        const uint8_t *acc = ring + slot * asz;
        if (!wr__acc_count(acc)) continue;
        uint16_t off = (uint16_t)o;
        if (wr__snapw_put(out, &off, 2) || wr__snap_put_acc(w, out, acc)) return out->err;
    }
    for (uint32_t nd = first; nd;) {
        const uint8_t *node = w->sp_nodes + (size_t)nd * w->sp_stride;
        int64_t pane;
        memcpy(&pane, node + 8, 8);
        if (s_kept(keep, look, key, pane) &&
            (wr__snapw_put(out, node + 8, 8) || wr__snap_put_acc(w, out, node + 20)))
            return out->err;
        memcpy(&nd, node + 16, 4);
    }
    return 0;
}

static int s_put_slices(const wr_window_t *w, wr_snap_writer_t *out, uint32_t e, void *arg)
{
    (void)arg;
    return wr__snap_put_slices(w, out, e, NULL);
}

/* Key record of a session: key u64, sessions u32, then each as start i64, end i64, accumulator,
 * in order. */
static int s_put_sessions(const wr_window_t *w, wr_snap_writer_t *out, uint32_t e, void *arg)
{
    (void)arg;
    uint64_t key = wr__kt_key(w->kt, e);
    uint32_t n = 0, first = wr__session_first(w, e);
    int64_t start, end;
    const uint8_t *acc;
    for (uint32_t s = first; s; n++)
        s = wr__session_get(w, s, &start, &end, &acc);
    if (wr__snapw_put(out, &key, 8) || wr__snapw_put(out, &n, 4)) return out->err;
    for (uint32_t s = first; s;) {
        s = wr__session_get(w, s, &start, &end, &acc);
        if (wr__snapw_put(out, &start, 8) || wr__snapw_put(out, &end, 8) ||
            wr__snap_put_acc(w, out, acc))
            return out->err;
    }
    return 0;
}

int wr_window_snapshot(const wr_window_t *w, uint32_t maxp,
                       uint32_t (*key_group)(void *ctx, uint64_t key), void *ctx,
                       wr_snap_writer_t *out)
{
    if (!w || !key_group || !out || maxp < 1 || maxp > WR_WINDOW_SNAP_MAX_GROUPS) return WR_EINVAL;
    const bool session = w->spec.kind == WR_WINDOW_SESSION;
    uint16_t *kg = NULL;
    uint64_t *first = NULL;
    int rc = wr__snap_groups(w, maxp, key_group, ctx, &kg, &first);
    if (rc) return rc;
    wr__snap_head_t h;
    wr__snap_head_of(w, &h);
    h.maxp = maxp;
    h.keys = w->kt->count;
    uint64_t start = wr__snapw_off(out);
    if (!(rc = wr__snap_head_write(out, &h)))
        rc = wr__snap_body(w, out, start, maxp, kg, first, session ? s_put_sessions : s_put_slices,
                           NULL, INT64_MIN, INT64_MAX, NULL);
    free(kg);
    free(first);
    return rc;
}

/* ---- resealing (tests, fuzzing) ---- */

void wr__window_snap_reseal(uint8_t *b, size_t len)
{
    if (len < 16) return;
    uint32_t hb;
    memcpy(&hb, b + 12, 4);
    if (hb >= 8 && hb <= len) {
        uint64_t sum = wr__sum(b, hb - 8);
        memcpy(b + hb - 8, &sum, 8);
    }
    if (len < WR__SNAP_TRAILER) return;
    uint8_t *t = b + len - WR__SNAP_TRAILER;
    uint64_t io;
    uint32_t maxp;
    memcpy(&io, t, 8);
    memcpy(&maxp, t + 8, 4);
    size_t tpos = len - WR__SNAP_TRAILER;
    if (io > tpos || (tpos - io) / WR__SNAP_INDEX_ENT != maxp || (tpos - io) % WR__SNAP_INDEX_ENT)
        return;
    for (uint32_t g = 0; g < maxp; g++) {
        uint8_t *ent = b + io + (size_t)g * WR__SNAP_INDEX_ENT;
        uint64_t off, n;
        memcpy(&off, ent, 8);
        memcpy(&n, ent + 8, 8);
        if (off > io || n > io - off) continue;
        uint64_t sum = wr__sum(b + off, n);
        memcpy(ent + 24, &sum, 8);
    }
    uint64_t sum = wr__sum(b + io, tpos + 16 - io);
    memcpy(t + 16, &sum, 8);
}
