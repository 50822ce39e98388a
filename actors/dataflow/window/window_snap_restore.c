/* Window snapshots: restoring key groups of a snapshot into an engine (see window_snap.h). The
 * bytes are untrusted: everything is read through a bounds-checked cursor, and the checksums of
 * everything read are verified before the engine is touched. */
#include <stdlib.h>

#include "actors/dataflow/window/window_snap_internal.h"
#include "bus/base/error.h"

/* The last valid watermark: window.c clamps later ones to TS_MAX + 4 x 2^50. */
#define S_WM_MAX (WR_WINDOW_TS_MAX + ((int64_t)4 << 50))

typedef struct {
    const uint8_t *p, *end;
} s_cur_t;

static inline bool s_take(s_cur_t *c, void *out, size_t n)
{
    if ((size_t)(c->end - c->p) < n) return false;
    memcpy(out, c->p, n);
    c->p += n;
    return true;
}

typedef struct {
    wr_window_t *w;
    const wr__snap_head_t *h;
    uint64_t (*map_key)(void *ctx, uint64_t key);
    void *ctx;
    int64_t pane_max; /* sliced kinds: the last pane of a valid event time */
    bool adopt;       /* the main's segments become w's: its sealed panes are marked dirty */
} s_restore_t;

/* ---- framing: trailer, index, checksums ---- */

/* Checks the trailer and index of b[0..len) against header h and the checksums of the index and
 * of sections [lo, hi); sets *index and *keys (keys in those sections). */
static int s_frame(const uint8_t *b, size_t len, const wr__snap_head_t *h, uint32_t lo, uint32_t hi,
                   const uint8_t **index, uint64_t *keys)
{
    if (len < (size_t)h->header_bytes + WR__SNAP_TRAILER) return WR_EPROTO;
    const uint8_t *t = b + len - WR__SNAP_TRAILER;
    uint64_t io, sum;
    uint32_t maxp, version;
    memcpy(&io, t, 8);
    memcpy(&maxp, t + 8, 4);
    memcpy(&version, t + 12, 4);
    memcpy(&sum, t + 16, 8);
    size_t tpos = len - WR__SNAP_TRAILER;
    if (memcmp(t + 24, WR__SNAP_END_MAGIC, 8) || version != h->version || maxp != h->maxp ||
        maxp < 1 || maxp > WR_WINDOW_SNAP_MAX_GROUPS || io < h->header_bytes || io > tpos ||
        tpos - io != (uint64_t)maxp * WR__SNAP_INDEX_ENT || sum != wr__sum(b + io, tpos + 16 - io))
        return WR_EPROTO;
    /* Sections are back to back from the header to the index: none overlaps another. */
    uint64_t at = h->header_bytes, total = 0;
    for (uint32_t g = 0; g < maxp; g++) {
        uint64_t ent[4];
        memcpy(ent, b + io + (size_t)g * WR__SNAP_INDEX_ENT, sizeof ent);
        if (ent[0] != at || ent[1] > io - at || ent[2] > ent[1] / 12) return WR_EPROTO;
        at += ent[1];
        if (g >= lo && g < hi) {
            if (wr__sum(b + ent[0], ent[1]) != ent[3]) return WR_EPROTO;
            total += ent[2];
        }
    }
    if (at != io) return WR_EPROTO;
    *index = b + io;
    *keys = total;
    return 0;
}

/* ---- the time axis ---- */

/* Checks the snapshot's watermark and ring position. */
static int s_time_check(const s_restore_t *r)
{
    const wr__snap_head_t *h = r->h;
    if (h->wm < WR_WINDOW_TS_MIN - 1 || h->wm > S_WM_MAX) return WR_EPROTO;
    if (h->kind == WR_WINDOW_SESSION) return 0;
    if (h->ring < 1 || h->ring > WR_WINDOW_MAX_RING || h->lo != wr__slice_lo(r->w, h->wm) ||
        h->base < h->lo || h->base > r->pane_max)
        return WR_EPROTO;
    return 0;
}

/* Moves w's watermark to the minimum of its and the snapshot's (the snapshot's when w is
 * fresh), and its ring base where the snapshot's was when w holds no keys. */
static void s_time_apply(const s_restore_t *r)
{
    wr_window_t *w = r->w;
    const wr__snap_head_t *h = r->h;
    bool fresh = w->wm == WR_WINDOW_TS_MIN - 1 && w->kt->count == 0;
    if (fresh || h->wm < w->wm) w->wm = h->wm;
    if (w->spec.kind == WR_WINDOW_SESSION) return;
    w->lo = wr__slice_lo(w, w->wm);
    if (w->kt->count == 0) w->base = h->base > w->lo ? h->base : w->lo;
    w->base_slot = wr__floor_mod(w->base, w->R);
}

/* ---- key records ---- */

/* Reads an accumulator in its packed form (agg.h: with its sketches' entries) into acc, its
 * sketches new in w's pool. */
static int s_get_acc(s_restore_t *r, s_cur_t *c, uint8_t *acc)
{
    size_t used, left = (size_t)(c->end - c->p);
    uint32_t n = 0;
    if (left < 4 || (memcpy(&n, c->p, 4), !n)) return WR_EPROTO; /* an empty pane is not stored */
    int rc = wr__acc_unpack(&r->w->lay, acc, c->p, left, &used, r->w->sk);
    if (!rc) c->p += used;
    return rc;
}

/* The key records of a section ahead of the one being restored: their keys' hash slots asked
 * for S_LOOKAHEAD records early. Keys come in about the order the main inserted them (a segment's
 * are in the main's order), so their entries are near one another, but each key's slot is a
 * random line of an index of millions: those misses were most of a restore's time (2.5M keys
 * with p95, 10 segments: 7.8 s, 282 ns a pane, against 0.63 s to read the files). Only a hint: a
 * record is restored the same whether or not it was looked at ahead. */
#define S_LOOKAHEAD 16

typedef struct {
    const uint8_t *at[S_LOOKAHEAD]; /* where each queued record starts */
    uint64_t key[S_LOOKAHEAD], hash[S_LOOKAHEAD];
    uint32_t head, n;
    const uint8_t *scan, *end; /* the next record to queue; the section's end */
    uint64_t left;             /* records not queued yet */
    bool slices;               /* a main's key records (s_get_slices), else a segment's */
} s_lookahead_t;

/* The bytes of the packed accumulator at p[0..len), 0 when short. */
static size_t s_acc_len(const s_restore_t *r, const uint8_t *p, size_t len)
{
    return wr__acc_packed_len(&r->w->lay, p, len);
}

/* The bytes of the key record at p[0..len) (q's kind), without reading it: 0 when short. */
static size_t s_record_len(const s_restore_t *r, const s_lookahead_t *q, const uint8_t *p,
                           size_t len)
{
    if (!q->slices) {
        size_t u = len >= 8 ? s_acc_len(r, p + 8, len - 8) : 0;
        return u ? 8 + u : 0;
    }
    uint16_t nring;
    uint32_t nspill;
    if (len < 14) return 0;
    memcpy(&nring, p + 8, 2);
    memcpy(&nspill, p + 10, 4);
    size_t at = 14;
    for (uint64_t i = 0; i < nring + (uint64_t)nspill; i++) { /* each takes 3 bytes or more */
        size_t pane = i < nring ? 2 : 8, u;
        if (len - at < pane || !(u = s_acc_len(r, p + at + pane, len - at - pane))) return 0;
        at += pane + u;
    }
    return at;
}

/* Queues records until S_LOOKAHEAD are queued, the section's records are, or one is short (it fails
 * when it is restored). */
static void s_lookahead_fill(const s_restore_t *r, s_lookahead_t *q)
{
    while (q->n < S_LOOKAHEAD && q->left) {
        size_t used = s_record_len(r, q, q->scan, (size_t)(q->end - q->scan));
        if (!used) {
            q->left = 0;
            return;
        }
        uint64_t k;
        memcpy(&k, q->scan, 8);
        if (r->map_key) k = r->map_key(r->ctx, k);
        uint32_t i = (q->head + q->n) % S_LOOKAHEAD;
        q->at[i] = q->scan;
        q->key[i] = k;
        q->hash[i] = wr__kt_hash(k);
        wr__kt_prefetch_slot(r->w->kt, q->hash[i]);
        q->scan += used;
        q->left--;
        q->n++;
    }
}

/* The key of the record at `at` (read there: raw) mapped, and its hash: from q when it queued
 * that record (q NULL: none). */
static void s_key_of(const s_restore_t *r, s_lookahead_t *q, const uint8_t *at, uint64_t raw,
                     uint64_t *key, uint64_t *hash)
{
    if (q) s_lookahead_fill(r, q);
    if (q && q->n && q->at[q->head] == at) {
        *key = q->key[q->head];
        *hash = q->hash[q->head];
        q->head = (q->head + 1) % S_LOOKAHEAD;
        q->n--;
        return;
    }
    *key = r->map_key ? r->map_key(r->ctx, raw) : raw;
    *hash = wr__kt_hash(*key);
}

/* The entry for the snapshot's key raw of the record at `at` (q: the records queued ahead, or
 * NULL): new, with payload init. */
static int s_new_key(s_restore_t *r, s_lookahead_t *q, const uint8_t *at, uint64_t raw,
                     const void *init, uint32_t *e)
{
    wr__keytable_t *kt = r->w->kt;
    uint64_t k, hash;
    s_key_of(r, q, at, raw, &k, &hash);
    if (wr__kt_find(kt, k, hash) != WR__KT_NONE) return WR_EEXIST;
    *e = wr__kt_insert(kt, k, hash, init);
    return 0;
}

/* One pane p (checked by the caller) of entry e. */
static int s_get_pane(s_restore_t *r, s_cur_t *c, uint32_t e, int64_t p)
{
    uint8_t acc[sizeof r->w->lay.empty];
    int rc = s_get_acc(r, c, acc);
    if (rc) return rc;
    uint8_t *dst = wr__slice_acc(r->w, e, p);
    if (!dst) {
        wr__acc_clear(&r->w->lay, acc, r->w->sk);
        return WR_ENOMEM;
    }
    memcpy(dst, acc, r->w->lay.size);
    return 0;
}

/* A main's pane p of entry e: with r->adopt, a sealed one is a late change that its segment
 * lacks, marked dirty again. */
static int s_get_main_pane(s_restore_t *r, s_cur_t *c, uint32_t e, int64_t p)
{
    int rc = s_get_pane(r, c, e, p);
    if (rc || !r->adopt || p > r->h->sealed) return rc;
    return wr__incr_touch(r->w, wr__kt_key(r->w->kt, e), p);
}

static int s_get_slices(s_restore_t *r, s_cur_t *c, s_lookahead_t *q)
{
    const wr__snap_head_t *h = r->h;
    const uint8_t *at = c->p;
    uint64_t key;
    uint16_t nring;
    uint32_t nspill, e;
    if (!s_take(c, &key, 8) || !s_take(c, &nring, 2) || !s_take(c, &nspill, 4) ||
        nring + (uint64_t)nspill == 0 || nring > h->ring)
        return WR_EPROTO;
    int rc = s_new_key(r, q, at, key, r->w->ring_init, &e);
    int64_t prev = -1;
    for (uint32_t i = 0; i < nring && !rc; i++) {
        uint16_t off;
        if (!s_take(c, &off, 2) || off <= prev || off >= h->ring || h->base + off > r->pane_max)
            return WR_EPROTO;
        prev = off;
        rc = s_get_main_pane(r, c, e, h->base + off);
    }
    prev = INT64_MIN;
    for (uint32_t i = 0; i < nspill && !rc; i++) {
        int64_t p;
        if (!s_take(c, &p, 8) || p <= prev || p < h->lo || p > r->pane_max ||
            (p >= h->base && p - h->base < h->ring))
            return WR_EPROTO;
        prev = p;
        rc = s_get_main_pane(r, c, e, p);
    }
    return rc;
}

static int s_get_sessions(s_restore_t *r, s_cur_t *c)
{
    const wr__snap_head_t *h = r->h;
    uint64_t key;
    uint32_t n, e, tail = 0, zero = 0;
    if (!s_take(c, &key, 8) || !s_take(c, &n, 4) || n == 0) return WR_EPROTO;
    int rc = s_new_key(r, NULL, NULL, key, &zero, &e);
    int64_t prev_end = INT64_MIN;
    for (uint32_t i = 0; i < n && !rc; i++) {
        int64_t start, end;
        uint8_t acc[sizeof r->w->lay.empty];
        /* Sessions of a key neither overlap nor touch, and none is cleaned up yet. */
        if (!s_take(c, &start, 8) || !s_take(c, &end, 8) || start < WR_WINDOW_TS_MIN ||
            start >= end || end > WR_WINDOW_TS_MAX + h->gap || start <= prev_end ||
            end - 1 + h->lateness <= h->wm)
            return WR_EPROTO;
        prev_end = end;
        if (!(rc = s_get_acc(r, c, acc))) rc = wr__session_append(r->w, e, &tail, start, end, acc);
    }
    return rc;
}

/* One key record of a segment of pane p: key u64 and accumulator. A key the main (or this
 * segment, if made so) gave pane p already keeps its accumulator: the segment's is read and
 * dropped. Room for the key was reserved. q: the records queued ahead (the next one, if queued,
 * is at c->p). */
static int s_get_seg_key(s_restore_t *r, s_cur_t *c, int64_t p, s_lookahead_t *q)
{
    wr_window_t *w = r->w;
    uint64_t raw, k, hash;
    const uint8_t *at = c->p;
    if (!s_take(c, &raw, 8)) return WR_EPROTO;
    s_key_of(r, q, at, raw, &k, &hash);
    uint32_t e = wr__kt_find(w->kt, k, hash);
    if (e == WR__KT_NONE) {
        e = wr__kt_insert(w->kt, k, hash, w->ring_init);
    } else if (wr__slice_peek(w, e, p)) {
        uint8_t acc[sizeof w->lay.empty];
        int rc = s_get_acc(r, c, acc);
        if (!rc) wr__acc_clear(&w->lay, acc, w->sk);
        return rc;
    }
    return s_get_pane(r, c, e, p);
}

/* A segment given with a main: its header (a segment of w's shape and of the main's
 * max_parallelism), its pane and id among the main's list (marked in used), its framing and the
 * checksums of sections [lo, hi). */
static int s_seg_check(const s_restore_t *r, const wr_snap_part_t *sp, uint32_t lo, uint32_t hi,
                       bool *used, wr__snap_head_t *sh, const uint8_t **index)
{
    const wr__snap_head_t *h = r->h;
    uint64_t keys;
    int rc = wr__snap_head_read(sp->data, sp->len, sh);
    if (rc) return rc == WR_EVERSION ? rc : WR_EPROTO;
    if (sh->part != WR__SNAP_SEGMENT || wr__snap_head_fits(r->w, sh) || sh->maxp != h->maxp ||
        (rc = s_frame(sp->data, sp->len, sh, lo, hi, index, &keys)))
        return WR_EPROTO;
    uint64_t id;
    memcpy(&id, sp->data + sp->len - WR__SNAP_TRAILER + 16, 8);
    id = wr__snap_seg_id(sh->sum, id);
    for (uint32_t i = 0; i < h->nsegs; i++) {
        int64_t pane;
        uint64_t want;
        memcpy(&pane, h->segs + (size_t)i * WR__SNAP_SEG_ENT, 8);
        memcpy(&want, h->segs + (size_t)i * WR__SNAP_SEG_ENT + 8, 8);
        if (pane != sh->sealed) continue;
        if (want != id || used[i]) return WR_EPROTO;
        used[i] = true;
        return 0;
    }
    return WR_EPROTO;
}

/* A main's segment list: ascending panes within [lo, sealed], sealed a closed pane. */
static int s_list_check(const s_restore_t *r)
{
    const wr__snap_head_t *h = r->h;
    if (h->part != WR__SNAP_MAIN) return 0;
    if (h->sealed > wr__floor_div(h->wm + 1, h->pane) - 1) return WR_EPROTO;
    int64_t prev = INT64_MIN;
    for (uint32_t i = 0; i < h->nsegs; i++) {
        int64_t pane;
        memcpy(&pane, h->segs + (size_t)i * WR__SNAP_SEG_ENT, 8);
        if (pane <= prev || pane < h->lo || pane > h->sealed) return WR_EPROTO;
        prev = pane;
    }
    return 0;
}

/* The keys of key groups [lo, hi) of segment b (checked) into w. */
static int s_get_segment(s_restore_t *r, const uint8_t *b, const uint8_t *index, int64_t p,
                         uint32_t lo, uint32_t hi)
{
    int rc = 0;
    for (uint32_t g = lo; g < hi && !rc; g++) {
        uint64_t ent[4];
        memcpy(ent, index + (size_t)g * WR__SNAP_INDEX_ENT, sizeof ent);
        s_cur_t c = {b + ent[0], b + ent[0] + ent[1]};
        s_lookahead_t q = {.scan = c.p, .end = c.end, .left = ent[2]};
        if ((rc = wr__slice_reserve(r->w, ent[2]))) break;
        for (uint64_t k = 0; k < ent[2] && !rc; k++)
            rc = s_get_seg_key(r, &c, p, &q);
        if (!rc && c.p != c.end) rc = WR_EPROTO;
    }
    return rc;
}

/* ---- adopting a main's segments ---- */

/* Whether a snapshot stream's index (checked) lists keys only in groups [lo, hi). */
static bool s_only_in(const uint8_t *index, uint32_t maxp, uint32_t lo, uint32_t hi)
{
    for (uint32_t g = 0; g < maxp; g++) {
        uint64_t keys;
        memcpy(&keys, index + (size_t)g * WR__SNAP_INDEX_ENT + 16, 8);
        if (keys && (g < lo || g >= hi)) return false;
    }
    return true;
}

/* Whether w is as wr_window_new made it: no keys, time, segments, marks or segment ahead. */
static bool s_fresh(const wr_window_t *w)
{
    return w->kt->count == 0 && w->wm == WR_WINDOW_TS_MIN - 1 && w->nseg == 0 && w->dirty_n == 0 &&
           w->sealed == INT64_MIN && !w->ahead && w->nahead_done == 0;
}

/* Makes the main's segment list (checked) w's segments, its sealed pane w's. */
static int s_adopt(wr_window_t *w, const wr__snap_head_t *h)
{
    wr_window_seg_t *v = malloc((h->nsegs ? h->nsegs : 1) * sizeof *v);
    if (!v) return WR_ENOMEM;
    for (uint32_t i = 0; i < h->nsegs; i++) {
        v[i] = (wr_window_seg_t){0};
        memcpy(&v[i].pane, h->segs + (size_t)i * WR__SNAP_SEG_ENT, 8);
        memcpy(&v[i].id, h->segs + (size_t)i * WR__SNAP_SEG_ENT + 8, 8);
    }
    free(w->seg);
    w->seg = v;
    w->nseg = w->seg_cap = h->nsegs;
    w->sealed = h->sealed;
    return 0;
}

/* ---- restore ---- */

int wr_window_restore(wr_window_t *w, const uint8_t *snap, size_t len, uint32_t kg_lo,
                      uint32_t kg_hi, uint64_t (*map_key)(void *ctx, uint64_t key), void *ctx)
{
    return wr_window_restore_parts(w, snap, len, NULL, 0, kg_lo, kg_hi, map_key, ctx);
}

/* wr_window_restore_parts; with adopted, wr_window_restore_going_on. */
static int s_restore(wr_window_t *w, const uint8_t *snap, size_t len, const wr_snap_part_t *segs,
                     size_t nsegs, uint32_t kg_lo, uint32_t kg_hi,
                     uint64_t (*map_key)(void *ctx, uint64_t key), void *ctx, bool *adopted)
{
    if (adopted) *adopted = false;
    if (!w || (!snap && len) || kg_lo > kg_hi || (!segs && nsegs) || nsegs > WR__SNAP_MAX_SEGS)
        return WR_EINVAL;
    wr__snap_head_t h;
    int rc = wr__snap_head_read(snap, len, &h);
    if (rc) return rc;
    if ((rc = wr__snap_head_fits(w, &h))) return rc;
    if (h.part == WR__SNAP_SEGMENT || (h.part == WR__SNAP_MAIN && h.kind == WR_WINDOW_SESSION))
        return WR_EPROTO;
    if (kg_hi > h.maxp) return WR_EINVAL;
    const uint8_t *index;
    uint64_t keys;
    s_restore_t r = {.w = w, .h = &h, .map_key = map_key, .ctx = ctx};
    if (h.kind != WR_WINDOW_SESSION) r.pane_max = wr__floor_div(WR_WINDOW_TS_MAX, w->P);
    if ((rc = s_frame(snap, len, &h, kg_lo, kg_hi, &index, &keys)) || (rc = s_time_check(&r)) ||
        (rc = s_list_check(&r)))
        return rc;
    /* every segment checked, and every one the main lists given, before w is touched */
    bool used[WR__SNAP_MAX_SEGS] = {0};
    wr__snap_head_t *sh = nsegs ? malloc(nsegs * sizeof *sh) : NULL;
    const uint8_t **sidx = nsegs ? malloc(nsegs * sizeof *sidx) : NULL;
    if (nsegs && (!sh || !sidx)) rc = WR_ENOMEM;
    for (size_t i = 0; i < nsegs && !rc; i++)
        rc = s_seg_check(&r, &segs[i], kg_lo, kg_hi, used, &sh[i], &sidx[i]);
    for (uint32_t i = 0; i < h.nsegs && !rc; i++) {
        uint64_t id;
        memcpy(&id, h.segs + (size_t)i * WR__SNAP_SEG_ENT + 8, 8);
        if (id && !used[i]) rc = WR_EPROTO;
    }
    r.adopt = !rc && adopted && !map_key && h.part == WR__SNAP_MAIN && s_fresh(w) &&
              s_only_in(index, h.maxp, kg_lo, kg_hi);
    for (size_t i = 0; i < nsegs && r.adopt; i++)
        r.adopt = s_only_in(sidx[i], h.maxp, kg_lo, kg_hi);
    if (!rc && keys > WR__KT_MAX_KEYS) rc = WR_ETOOBIG;
    if (!rc)
        rc = h.kind == WR_WINDOW_SESSION ? wr__kt_reserve(w->kt, keys) : wr__slice_reserve(w, keys);
    if (!rc) s_time_apply(&r);
    for (uint32_t g = kg_lo; g < kg_hi && !rc; g++) {
        uint64_t ent[4];
        memcpy(ent, index + (size_t)g * WR__SNAP_INDEX_ENT, sizeof ent);
        s_cur_t c = {snap + ent[0], snap + ent[0] + ent[1]};
        s_lookahead_t q = {.scan = c.p, .end = c.end, .left = ent[2], .slices = true};
        for (uint64_t k = 0; k < ent[2] && !rc; k++)
            rc = h.kind == WR_WINDOW_SESSION ? s_get_sessions(&r, &c) : s_get_slices(&r, &c, &q);
        if (!rc && c.p != c.end) rc = WR_EPROTO;
    }
    for (size_t i = 0; i < nsegs && !rc; i++)
        rc = s_get_segment(&r, segs[i].data, sidx[i], sh[i].sealed, kg_lo, kg_hi);
    if (!rc && r.adopt && !(rc = s_adopt(w, &h))) *adopted = true;
    free(sh);
    free(sidx);
    return rc;
}

int wr_window_restore_parts(wr_window_t *w, const uint8_t *snap, size_t len,
                            const wr_snap_part_t *segs, size_t nsegs, uint32_t kg_lo,
                            uint32_t kg_hi, uint64_t (*map_key)(void *ctx, uint64_t key), void *ctx)
{
    return s_restore(w, snap, len, segs, nsegs, kg_lo, kg_hi, map_key, ctx, NULL);
}

int wr_window_restore_going_on(wr_window_t *w, const uint8_t *snap, size_t len,
                               const wr_snap_part_t *segs, size_t nsegs, uint32_t kg_lo,
                               uint32_t kg_hi, bool *adopted)
{
    bool dummy;
    return s_restore(w, snap, len, segs, nsegs, kg_lo, kg_hi, NULL, NULL,
                     adopted ? adopted : &dummy);
}
