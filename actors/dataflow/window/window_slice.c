/* Tumbling and sliding windows, sliced into panes (see window.h for the design).
 *
 * Geometry: pane length P = gcd(size, slide); K = size / P panes per window; g = slide / P panes
 * per slide; window a (a multiple of g, in panes) is [a P, (a + K) P). lo(W) is the oldest pane
 * that a window not yet cleaned up at watermark W contains; records of panes < lo are too late.
 * Each key's entry holds a ring of R accumulators; all keys share one ring base (base = lo, except
 * that an empty engine starts its ring at its first batch's data rather than at a watermark that
 * may not have come yet), and a non-empty slot j holds the pane p in [base, base + R) with
 * p mod R = j. Other live panes (>= base + R: ahead of the watermark; in [lo, base): rare late
 * data below a fresh engine's base) go to the spill table (a chain of nodes per key, sorted by
 * pane); a sweep moves them into the ring once the base covers them. */
#include <stdlib.h>
#include <string.h>

#include "actors/dataflow/window/window_internal.h"
#include "bus/base/error.h"

#define S_IDX_PF 16 /* prefetch distance of index slots, in records */

static int64_t s_ceil_g(const wr_window_t *w, int64_t m)
{
    return -wr__floor_div(-m, w->g) * w->g;
}

static int64_t s_floor_g(const wr_window_t *w, int64_t m)
{
    return wr__floor_div(m, w->g) * w->g;
}

/* The oldest pane contained in a window that is not cleaned up at watermark wm (a window a is
 * cleaned up once wm >= (a + K) P - 1 + lateness). */
static int64_t s_lo(const wr_window_t *w, int64_t wm)
{
    return s_ceil_g(w, wr__floor_div(wm + 1 - w->spec.lateness_ms, w->P) + 1 - w->K);
}

/* Live panes at watermark x - 1 that are not ahead of it: pane(W) - lo(W) + 1. */
static int64_t s_span(const wr_window_t *w, int64_t x)
{
    return wr__floor_div(x - 1, w->P) - s_lo(w, x - 1) + 1;
}

/* ---- the spill table ---- */

static inline uint8_t *s_node(const wr_window_t *w, uint32_t n)
{
    return w->sp_nodes + (size_t)n * w->sp_stride;
}

static inline int64_t s_node_pane(const wr_window_t *w, uint32_t n)
{
    int64_t p;
    memcpy(&p, s_node(w, n) + 8, 8);
    return p;
}

static inline uint32_t s_node_next(const wr_window_t *w, uint32_t n)
{
    uint32_t x;
    memcpy(&x, s_node(w, n) + 16, 4);
    return x;
}

static inline void s_node_set_next(wr_window_t *w, uint32_t n, uint32_t next)
{
    memcpy(s_node(w, n) + 16, &next, 4);
}

static void s_node_free(wr_window_t *w, uint32_t n)
{
    s_node_set_next(w, n, w->sp_free);
    w->sp_free = n;
}

static uint32_t s_hslot(const wr_window_t *w, uint64_t key)
{
    uint32_t mask = w->sp_hcap - 1, i = (uint32_t)wr__kt_hash(key) & mask;
    while (w->sp_heads[i].head && w->sp_heads[i].key != key)
        i = (i + 1) & mask;
    return i;
}

static int s_heads_grow(wr_window_t *w)
{
    if ((w->sp_hn + 1) * 4 <= w->sp_hcap * 3) return 0;
    uint32_t ocap = w->sp_hcap, ncap = ocap * 2;
    wr__spill_head_t *old = w->sp_heads, *nh = calloc(ncap, sizeof *nh);
    if (!nh) return WR_ENOMEM;
    w->sp_heads = nh;
    w->sp_hcap = ncap;
    for (uint32_t i = 0; i < ocap; i++)
        if (old[i].head) nh[s_hslot(w, old[i].key)] = old[i];
    free(old);
    return 0;
}

static void s_head_delete(wr_window_t *w, uint32_t hole)
{
    uint32_t mask = w->sp_hcap - 1, j = hole;
    for (;;) {
        j = (j + 1) & mask;
        if (!w->sp_heads[j].head) break;
        uint32_t home = (uint32_t)wr__kt_hash(w->sp_heads[j].key) & mask;
        if (((j - home) & mask) >= ((j - hole) & mask)) {
            w->sp_heads[hole] = w->sp_heads[j];
            hole = j;
        }
    }
    w->sp_heads[hole].head = 0;
    w->sp_hn--;
}

/* The spill accumulator of (key, pane), created empty if absent. NULL on OOM. A key's records
 * mostly come in event-time order, each in the pane of the one before or a later one: the walk
 * along its chain (sorted by pane, as long as the panes it is ahead of the watermark) starts at
 * the node found or made last when that is not past pane. */
static uint8_t *s_spill_acc(wr_window_t *w, uint64_t key, int64_t pane)
{
    if (s_heads_grow(w)) return NULL;
    uint32_t i = s_hslot(w, key), prev = 0, cur = w->sp_heads[i].head, last = w->sp_heads[i].last;
    if (cur && last && s_node_pane(w, last) <= pane) {
        if (s_node_pane(w, last) == pane) return s_node(w, last) + 20;
        prev = last;
        cur = s_node_next(w, last);
    }
    while (cur && s_node_pane(w, cur) < pane) {
        prev = cur;
        cur = s_node_next(w, cur);
    }
    if (cur && s_node_pane(w, cur) == pane) {
        w->sp_heads[i].last = cur;
        return s_node(w, cur) + 20;
    }
    uint32_t n = w->sp_free;
    if (n) {
        w->sp_free = s_node_next(w, n);
    } else {
        if (w->sp_n == w->sp_cap) {
            uint32_t cap = w->sp_cap * 2;
            uint8_t *p = realloc(w->sp_nodes, (size_t)cap * w->sp_stride);
            if (!p) return NULL;
            w->sp_nodes = p;
            w->sp_cap = cap;
        }
        n = w->sp_n++;
    }
    uint8_t *nd = s_node(w, n);
    memcpy(nd, &key, 8);
    memcpy(nd + 8, &pane, 8);
    memcpy(nd + 16, &cur, 4);
    memcpy(nd + 20, w->lay.empty, w->lay.size);
    if (prev) {
        s_node_set_next(w, prev, n);
    } else {
        if (!w->sp_heads[i].head) w->sp_hn++;
        w->sp_heads[i].key = key;
        w->sp_heads[i].head = n;
    }
    w->sp_heads[i].last = n;
    w->panes_live++;
    w->spill_panes++;
    return nd + 20;
}

static inline bool s_bit(const wr_window_t *w, uint32_t e)
{
    return w->spill_bits[e >> 6] >> (e & 63) & 1;
}

static inline void s_bit_set(wr_window_t *w, uint32_t e, bool on)
{
    uint64_t m = (uint64_t)1 << (e & 63);
    w->spill_bits[e >> 6] = on ? w->spill_bits[e >> 6] | m : w->spill_bits[e >> 6] & ~m;
}

static int s_bits_reserve(wr_window_t *w, size_t entries)
{
    size_t words = (entries + 63) / 64;
    if (words <= w->spill_words) return 0;
    size_t nw = w->spill_words * 2 > words ? w->spill_words * 2 : words;
    uint64_t *b = realloc(w->spill_bits, nw * sizeof *b);
    if (!b) return WR_ENOMEM;
    memset(b + w->spill_words, 0, (nw - w->spill_words) * sizeof *b);
    w->spill_bits = b;
    w->spill_words = nw;
    return 0;
}

/* ---- life cycle ---- */

int wr__slice_init(wr_window_t *w)
{
    const wr_window_spec_t *s = &w->spec;
    int64_t size = s->size_ms, slide = s->kind == WR_WINDOW_SLIDING ? s->slide_ms : s->size_ms;
    w->P = wr__gcd(size, slide);
    w->K = size / w->P;
    w->g = slide / w->P;
    if (w->K > WR_WINDOW_MAX_RING) return WR_EINVAL;
    /* R: the most panes live at once up to the watermark. span(x) has period slide in x and only
     * changes where pane(x - 1) or lo(x - 1) does, at x = 1 or x = lateness (mod P). */
    int64_t r = w->K, lmod = wr__floor_mod(s->lateness_ms, w->P);
    for (int64_t j = 0; j <= w->g; j++) {
        int64_t a = s_span(w, j * w->P + 1), b = s_span(w, j * w->P + lmod);
        if (a > r) r = a;
        if (b > r) r = b;
        if (r > WR_WINDOW_MAX_RING) return WR_EINVAL;
    }
    /* a record up to ahead_ms past the watermark lies at most ceil(ahead_ms / P) panes further;
     * room for at most K of them (memory at most doubles: data further ahead spills) */
    bool dense = !s->key_interval_ms || s->key_interval_ms / 4 <= s->ahead_ms;
    int64_t ahead = dense ? s->ahead_ms / w->P + (s->ahead_ms % w->P != 0) : 0;
    if (ahead > w->K) ahead = w->K;
    if (ahead > WR_WINDOW_MAX_RING - r) ahead = WR_WINDOW_MAX_RING - r;
    r += ahead;
    if (s->ring_panes) {
        if (s->ring_panes < r || s->ring_panes > WR_WINDOW_MAX_RING) return WR_EINVAL;
        r = s->ring_panes;
    }
    w->R = r;
    w->sealed = w->ahead_hi = INT64_MIN;
    w->lo = w->base = s_lo(w, w->wm);
    w->base_slot = wr__floor_mod(w->base, w->R);
    size_t a = w->lay.size;
    if (!(w->ring_init = malloc((size_t)w->R * a))) return WR_ENOMEM;
    for (int64_t j = 0; j < w->R; j++)
        memcpy(w->ring_init + j * a, w->lay.empty, a);
    w->sp_stride = (20 + a + 3) / 4 * 4;
    w->sp_cap = 64;
    w->sp_n = 1;
    w->sp_hcap = 64;
    w->kp_cap = (size_t)w->R + 64;
    if (!(w->sp_nodes = malloc(w->sp_cap * w->sp_stride)) ||
        !(w->sp_heads = calloc(w->sp_hcap, sizeof *w->sp_heads)) ||
        !(w->kp_pane = malloc(w->kp_cap * sizeof *w->kp_pane)) ||
        !(w->kp_acc = malloc(w->kp_cap * sizeof *w->kp_acc)) ||
        !(w->kp_node = malloc(w->kp_cap * sizeof *w->kp_node)) ||
        wr__merge_init(&w->merge, &w->lay, (uint32_t)w->K) ||
        !(w->blk = calloc(1, sizeof *w->blk)) ||
        !(w->blk->sk = malloc((size_t)w->K * WR__BLOCK * sizeof *w->blk->sk)) ||
        !(w->sw_offs = malloc((size_t)(WR__SWEEP_WINDOWS + 2) * w->R * sizeof(uint32_t))) ||
        !(w->kt = wr__kt_new(s->expected_keys, (size_t)w->R * a, s->prefault)) ||
        s_bits_reserve(w, w->kt->cap))
        return WR_ENOMEM;
    w->blk->sk_cap = (uint32_t)w->K;
    return 0;
}

void wr__slice_release(wr_window_t *w)
{
    free(w->ring_init);
    free(w->spill_bits);
    free(w->sp_nodes);
    free(w->sp_heads);
    free(w->kp_pane);
    free(w->kp_acc);
    free(w->kp_node);
    wr__incr_release(w);
}

size_t wr__slice_bytes(const wr_window_t *w)
{
    return (size_t)w->R * w->lay.size + w->spill_words * 8 + (size_t)w->sp_cap * w->sp_stride +
           (size_t)w->sp_hcap * sizeof *w->sp_heads;
}

/* Gives a large, empty spill table's memory back (after a burst of out-of-order data). */
static void s_spill_shrink(wr_window_t *w)
{
    if (w->spill_panes || w->sp_cap <= 4096) return;
    uint8_t *nodes = malloc(64 * w->sp_stride);
    wr__spill_head_t *heads = calloc(64, sizeof *heads);
    if (!nodes || !heads) {
        free(nodes);
        free(heads);
        return;
    }
    free(w->sp_nodes);
    free(w->sp_heads);
    w->sp_nodes = nodes;
    w->sp_heads = heads;
    w->sp_cap = w->sp_hcap = 64;
    w->sp_n = 1;
    w->sp_free = 0;
    w->sp_hn = 0;
}

/* ---- snapshot support (window_snap.c) ---- */

int64_t wr__slice_lo(const wr_window_t *w, int64_t wm)
{
    return s_lo(w, wm);
}

int wr__slice_reserve(wr_window_t *w, size_t more)
{
    int rc = wr__kt_reserve(w->kt, more);
    return rc ? rc : s_bits_reserve(w, w->kt->cap);
}

uint8_t *wr__slice_acc(wr_window_t *w, uint32_t e, int64_t p)
{
    if (p >= w->base && p < w->base + w->R) {
        uint8_t *acc = wr__kt_entry(w->kt, e) + 8 + wr__floor_mod(p, w->R) * (int64_t)w->lay.size;
        w->panes_live += wr__acc_count(acc) == 0;
        return acc;
    }
    uint8_t *acc = s_spill_acc(w, wr__kt_key(w->kt, e), p);
    if (acc) s_bit_set(w, e, true);
    return acc;
}

uint32_t wr__slice_spill_first(const wr_window_t *w, uint32_t e)
{
    return s_bit(w, e) ? w->sp_heads[s_hslot(w, wr__kt_key(w->kt, e))].head : 0;
}

const uint8_t *wr__slice_peek(const wr_window_t *w, uint32_t e, int64_t p)
{
    if (p >= w->base && p < w->base + w->R) {
        const uint8_t *acc =
            wr__kt_entry(w->kt, e) + 8 + wr__floor_mod(p, w->R) * (int64_t)w->lay.size;
        return wr__acc_count(acc) ? acc : NULL;
    }
    for (uint32_t nd = wr__slice_spill_first(w, e); nd && s_node_pane(w, nd) <= p;
         nd = s_node_next(w, nd))
        if (s_node_pane(w, nd) == p) return s_node(w, nd) + 20;
    return NULL;
}

/* ---- firing ---- */

static int s_kp_reserve(wr_window_t *w, size_t n)
{
    if (n <= w->kp_cap) return 0;
    size_t cap = w->kp_cap * 2 > n ? w->kp_cap * 2 : n;
    int64_t *p = realloc(w->kp_pane, cap * sizeof *p);
    if (p) w->kp_pane = p;
    uint8_t **a = realloc(w->kp_acc, cap * sizeof *a);
    if (a) w->kp_acc = a;
    uint32_t *nd = realloc(w->kp_node, cap * sizeof *nd);
    if (nd) w->kp_node = nd;
    if (!p || !a || !nd) return WR_ENOMEM;
    w->kp_cap = cap;
    return 0;
}

static inline int s_kp_push(wr_window_t *w, size_t n, int64_t pane, uint8_t *acc, uint32_t node)
{
    if (n >= w->kp_cap && s_kp_reserve(w, n + 1)) return WR_ENOMEM;
    w->kp_pane[n] = pane;
    w->kp_acc[n] = acc;
    w->kp_node[n] = node;
    return 0;
}

/* Fires the windows a in [a_lo, a_hi] (multiples of g; nwin of them) that contain one of the
 * key's non-empty panes kp[0..n) (ascending), each merged from its panes in time order. */
static int s_fire(wr_window_t *w, const wr_window_sink_t *sink, uint64_t key, size_t n,
                  int64_t a_lo, int64_t a_hi, uint64_t nwin, uint8_t late)
{
    const int64_t K = w->K, g = w->g;
    const int64_t *pane = w->kp_pane;
    if (nwin <= 2 * (uint64_t)n + 2) { /* a few windows (the usual one per slide): walk them */
        size_t i0 = 0, i1 = 0;
        for (int64_t a = a_lo; a <= a_hi; a += g) {
            while (i0 < n && pane[i0] < a)
                i0++;
            if (i0 == n) break;
            if (i1 < i0) i1 = i0;
            while (i1 < n && pane[i1] < a + K)
                i1++;
            if (i1 == i0) continue;
            wr__merge_panes(&w->merge, &w->lay, w->sk, (const uint8_t *const *)w->kp_acc + i0, NULL,
                            i1 - i0);
            int rc = wr__emit(w, sink, key, a * w->P, (a + K) * w->P, late);
            if (rc) return rc;
        }
        return 0;
    }
    /* many windows (the watermark jumped): only those around the panes */
    int64_t cursor = a_lo;
    size_t first = 0;
    for (size_t i = 0; i < n; i++) {
        int64_t a = s_ceil_g(w, pane[i] - K + 1), last = s_floor_g(w, pane[i]);
        if (a < cursor) a = cursor;
        if (last > a_hi) last = a_hi;
        for (; a <= last; a += g) {
            while (pane[first] < a)
                first++;
            size_t j = first;
            while (j < n && pane[j] < a + K)
                j++;
            wr__merge_panes(&w->merge, &w->lay, w->sk, (const uint8_t *const *)w->kp_acc + first,
                            NULL, j - first);
            int rc = wr__emit(w, sink, key, a * w->P, (a + K) * w->P, late);
            if (rc) return rc;
        }
        if (last + g > cursor) cursor = last + g;
    }
    return 0;
}

/* Collects entry e's non-empty panes in [q_lo, q_hi], ascending, into kp[0..*n): spilled ones
 * below the ring, the ring, spilled ones above it. *hslot: the key's spill head slot (if any);
 * *rest: the first node of its chain past q_hi (0: none), where the walk stopped. */
static int s_gather(wr_window_t *w, uint32_t e, int64_t q_lo, int64_t q_hi, size_t *n,
                    uint32_t *hslot, uint32_t *rest)
{
    uint8_t *ent = wr__kt_entry(w->kt, e);
    const size_t asz = w->lay.size;
    size_t m = 0;
    uint32_t nd = 0;
    bool spilled = s_bit(w, e);
    if (spilled) {
        *hslot = s_hslot(w, wr__kt_key(w->kt, e));
        for (nd = w->sp_heads[*hslot].head; nd && s_node_pane(w, nd) < w->base;
             nd = s_node_next(w, nd))
            if (s_node_pane(w, nd) >= q_lo &&
                s_kp_push(w, m++, s_node_pane(w, nd), s_node(w, nd) + 20, nd))
                return WR_ENOMEM;
    }
    int64_t q0 = q_lo > w->base ? q_lo : w->base,
            q1 = q_hi < w->base + w->R - 1 ? q_hi : w->base + w->R - 1;
    if (q0 <= q1) {
        if (s_kp_reserve(w, m + (size_t)(q1 - q0 + 1))) return WR_ENOMEM;
        int64_t slot = q0 - w->base + w->base_slot;
        if (slot >= w->R) slot -= w->R;
        uint8_t *acc = ent + 8 + slot * asz, *wrap = ent + 8 + w->R * asz;
        for (int64_t q = q0; q <= q1; q++) { /* branch-free: slots are empty or not at random */
            w->kp_pane[m] = q;
            w->kp_acc[m] = acc;
            w->kp_node[m] = 0;
            m += wr__acc_count(acc) != 0;
            acc += asz;
            if (acc == wrap) acc = ent + 8;
        }
    }
    if (spilled)
        for (; nd && s_node_pane(w, nd) <= q_hi; nd = s_node_next(w, nd))
            if (s_kp_push(w, m++, s_node_pane(w, nd), s_node(w, nd) + 20, nd)) return WR_ENOMEM;
    *n = m;
    *rest = nd;
    return 0;
}

/* A record of pane p (<= pane(W)) arrived after the watermark passed the end of some of its
 * windows: fires those not cleaned up yet, with their full contents. */
static int s_refire(wr_window_t *w, const wr_window_sink_t *sink, uint32_t e, int64_t p)
{
    int64_t a1 = s_ceil_g(w, p - w->K + 1), a2 = s_floor_g(w, p);
    int64_t fired_max = s_floor_g(w, wr__floor_div(w->wm + 1, w->P) - w->K);
    if (a1 < w->lo) a1 = w->lo;
    if (a2 > fired_max) a2 = fired_max;
    if (a1 > a2) return 0;
    size_t n = 0;
    uint32_t hslot, rest;
    int rc = s_gather(w, e, a1, a2 + w->K - 1, &n, &hslot, &rest);
    return rc ? rc
              : s_fire(w, sink, wr__kt_key(w->kt, e), n, a1, a2, (uint64_t)((a2 - a1) / w->g) + 1,
                       1);
}

/* ---- the batch path ---- */

/* Pass 2 over a batch of n records: the candidate entry of each from the index (slots
 * prefetched S_IDX_PF records ahead), and a prefetch of its key and pane lines. Software
 * prefetch is what makes this fast: ~3 lines a record, and the lines of a batch fit in L2. */
static void s_locate(wr_window_t *w, size_t n)
{
    const wr__keytable_t *kt = w->kt;
    const uint8_t *cls = w->b_cls;
    const uint64_t *hs = w->b_hash;
    const size_t asz = w->lay.size;
    for (size_t i = 0; i < S_IDX_PF && i < n; i++)
        if (cls[i] != WR__REC_DROP) wr__kt_prefetch_slot(kt, hs[i]);
    for (size_t i = 0; i < n; i++) {
        if (i + S_IDX_PF < n && cls[i + S_IDX_PF] != WR__REC_DROP)
            wr__kt_prefetch_slot(kt, hs[i + S_IDX_PF]);
        w->b_cand[i] = WR__KT_NONE;
        if (cls[i] == WR__REC_DROP || (w->b_cand[i] = wr__kt_candidate(kt, hs[i])) == WR__KT_NONE)
            continue;
        const uint8_t *ent = wr__kt_entry(kt, w->b_cand[i]);
        __builtin_prefetch(ent);
        if (cls[i] == WR__REC_RING) { /* a pane may straddle two lines */
            const uint8_t *acc = ent + 8 + w->b_slot[i] * asz;
            __builtin_prefetch(acc, 1);
            __builtin_prefetch(acc + asz - 1, 1);
        }
    }
}

int wr__slice_add(wr_window_t *w, const uint64_t *keys, const int64_t *ts,
                  const double *const *cols, size_t n, const wr_window_sink_t *sink)
{
    wr__keytable_t *kt = w->kt;
    int rc = wr__kt_reserve(kt, n);
    if (!rc) rc = s_bits_reserve(w, kt->cap);
    if (rc) return rc;
    if (kt->count == 0) { /* empty: start the ring at the data, not at an old watermark */
        int64_t pmin = INT64_MAX;
        for (size_t i = 0; i < n; i++)
            if (ts[i] >= WR_WINDOW_TS_MIN && ts[i] <= WR_WINDOW_TS_MAX) {
                int64_t p = wr__floor_div(ts[i], w->P);
                if (p >= w->lo && p < pmin) pmin = p;
            }
        if (pmin != INT64_MAX) {
            w->base = pmin;
            w->base_slot = wr__floor_mod(pmin, w->R);
        }
    }
    const int64_t P = w->P, lo = w->lo, R = w->R, base = w->base, bslot = w->base_slot, wm = w->wm;
    const size_t asz = w->lay.size;
    uint64_t *hs = w->b_hash;
    uint32_t *cand = w->b_cand, *slot = w->b_slot;
    uint8_t *cls = w->b_cls;

    /* Pass 1: classify each record, hash its key. */
    for (size_t i = 0; i < n; i++) {
        int64_t t = ts[i];
        hs[i] = wr__kt_hash(keys[i]);
        if (t < WR_WINDOW_TS_MIN || t > WR_WINDOW_TS_MAX) {
            cls[i] = WR__REC_DROP;
            w->b_late[w->n_late++] = (uint32_t)i;
            continue;
        }
        int64_t p = wr__floor_div(t, P), d = p - base;
        w->b_pane[i] = p;
        if (p < lo) {
            cls[i] = WR__REC_DROP;
            w->b_late[w->n_late++] = (uint32_t)i;
        } else if (d < 0 || d >= R) {
            cls[i] = WR__REC_SPILL;
        } else {
            int64_t s = d + bslot;
            slot[i] = (uint32_t)(s >= R ? s - R : s);
            cls[i] = WR__REC_RING;
        }
    }

    /* Pass 2: locate and prefetch every record's entry (a batch's lines fit in L2); pass 3:
     * verify the key (insert if new) and update the one pane of each record. */
    s_locate(w, n);
    uint64_t panes_new = 0, added = 0;
    for (size_t i = 0; i < n; i++) {
        if (w->lay.nsketch && i % WR__SK_BURST == 0) /* the entries are in the cache by now */
            for (size_t j = i; j < n && j < i + WR__SK_BURST; j++)
                if (cls[j] == WR__REC_RING && cand[j] != WR__KT_NONE)
                    wr__acc_prefetch(&w->lay, wr__kt_entry(kt, cand[j]) + 8 + slot[j] * asz, w->sk);
        if (cls[i] == WR__REC_DROP) continue;
        uint64_t key = keys[i];
        uint32_t e = cand[i];
        if (e == WR__KT_NONE || wr__kt_key(kt, e) != key) {
            e = wr__kt_find(kt, key, hs[i]);
            if (e == WR__KT_NONE) e = wr__kt_insert(kt, key, hs[i], w->ring_init);
        }
        uint8_t *acc;
        if (cls[i] == WR__REC_RING) {
            acc = wr__kt_entry(kt, e) + 8 + slot[i] * asz;
            panes_new += wr__acc_count(acc) == 0;
        } else {
            if (!(acc = s_spill_acc(w, key, w->b_pane[i]))) {
                rc = WR_ENOMEM;
                break;
            }
            s_bit_set(w, e, true);
        }
        if ((rc = wr__acc_add(&w->lay, acc, ts[i], cols, i, w->sk))) break;
        added++;
        if ((w->b_pane[i] <= w->sealed || w->b_pane[i] <= w->ahead_hi) &&
            (rc = wr__incr_touch(w, key, w->b_pane[i])))
            break;
        if (ts[i] <= wm && (rc = s_refire(w, sink, e, w->b_pane[i]))) break;
    }
    w->panes_live += panes_new;
    w->records += added;
    return rc;
}

/* ---- the sweep ---- */

/* Fires the key's windows due in this sweep, frees its expired panes, moves spilled panes into
 * freed ring slots. *empty: the key holds nothing any more. A spilled chain is walked only as far
 * as the sweep needs it: the panes of the windows it fires and those moving into the ring; the
 * rest (panes far ahead of the watermark, chains of dozens when records run a minute ahead of a
 * 10 s window) stays linked as it was. */
static int s_sweep_key(wr_window_t *w, const wr_window_sink_t *sink, uint32_t e,
                       const wr__sweep_t *s, bool *empty)
{
    uint8_t *ent = wr__kt_entry(w->kt, e), *ring = ent + 8;
    uint64_t key;
    memcpy(&key, ent, 8);
    const size_t asz = w->lay.size;
    size_t n = 0;
    bool spilled = s_bit(w, e);
    int64_t need = s->base_new + w->R - 1; /* the last pane the sweep reads or moves */
    if (s->fire && s->a_hi + w->K - 1 > need) need = s->a_hi + w->K - 1;
    uint32_t hi = 0, rest = 0, last = 0;
    int rc = s_gather(w, e, INT64_MIN, need, &n, &hi, &rest);
    if (rc) return rc;
    if (spilled) { /* the walk hint survives if it lies in the part left alone */
        last = w->sp_heads[hi].last;
        if (last && s_node_pane(w, last) <= need) last = 0;
    }
    if (s->fire) {
        if ((rc = s_fire(w, sink, key, n, s->a_lo, s->a_hi, s->nwin, 0))) return rc;
    }
    size_t kept = 0;
    uint32_t head = 0, tail = 0;
    for (size_t i = 0; i < n; i++) {
        int64_t p = w->kp_pane[i];
        uint32_t nd = w->kp_node[i];
        if (p < s->lo_new) { /* expired */
            wr__acc_clear(&w->lay, w->kp_acc[i], w->sk);
            w->panes_live--;
            if (nd) {
                s_node_free(w, nd);
                w->spill_panes--;
            }
            continue;
        }
        kept++;
        if (!nd) continue;
        if (p >= s->base_new && p < s->base_new + w->R) { /* its slot's older pane is gone */
            memcpy(ring + wr__floor_mod(p, w->R) * asz, w->kp_acc[i], asz);
            s_node_free(w, nd);
            w->spill_panes--;
            continue;
        }
        if (tail)
            s_node_set_next(w, tail, nd);
        else
            head = nd;
        tail = nd;
    }
    if (spilled) {
        if (tail) s_node_set_next(w, tail, rest);
        if (tail || rest) {
            w->sp_heads[hi].head = tail ? head : rest;
            /* (the one it had may be freed or moved, unless it is in the rest) */
            w->sp_heads[hi].last = last ? last : tail ? tail : rest;
        } else {
            s_head_delete(w, hi);
            s_bit_set(w, e, false);
        }
    }
    *empty = kept == 0 && !rest;
    return 0;
}

/* Appends the block's non-empty results for window a to the output. */
static void s_emit_block(wr_window_t *w, const wr_window_sink_t *sink, uint8_t *const *ents,
                         size_t nk, int64_t a)
{
    const wr__block_t *b = w->blk;
    const int64_t start = a * w->P, end = (a + w->K) * w->P;
    for (size_t k = 0; k < nk; k++) {
        if (!b->count[k]) continue;
        size_t i = w->out_n++;
        memcpy(&w->out_key[i], ents[k], 8);
        w->out_start[i] = start;
        w->out_end[i] = end;
        w->out_count[i] = b->count[k];
        w->out_late[i] = 0;
        for (uint32_t g = 0; g < w->lay.naggs; g++)
            w->out_val[g][i] = b->val[g][k];
        w->fired++;
        if (w->out_n == WR__OUT_CAP) wr__flush(w, sink);
    }
}

/* Ring slot offsets (in an entry) of panes [p0, p1) clipped to the ring, in pane order. */
static size_t s_offsets(const wr_window_t *w, int64_t p0, int64_t p1, uint32_t *out)
{
    if (p0 < w->base) p0 = w->base;
    if (p1 > w->base + w->R) p1 = w->base + w->R;
    size_t n = 0;
    for (int64_t p = p0; p < p1; p++)
        out[n++] = (uint32_t)(8 + wr__floor_mod(p, w->R) * (int64_t)w->lay.size);
    return n;
}

/* Sets up the sweep to watermark wm in w->sw: the windows due, the ring slots of their panes, the
 * panes expiring; clears the marks of keys to remove. */
static int s_sweep_begin(wr_window_t *w, int64_t wm)
{
    wr__sweep_t *s = &w->sw;
    *s = (wr__sweep_t){
        .wm = wm,
        .lo_new = s_lo(w, wm),
        .a_lo = s_ceil_g(w, wr__floor_div(w->wm + 1, w->P) + 1 - w->K),
        .a_hi = s_floor_g(w, wr__floor_div(wm + 1, w->P) - w->K),
    };
    s->fire = s->a_lo <= s->a_hi;
    s->nwin = s->fire ? (uint64_t)((s->a_hi - s->a_lo) / w->g) + 1 : 0;
    s->base_new = s->lo_new > w->base ? s->lo_new : w->base;
    s->blocks = s->nwin <= WR__SWEEP_WINDOWS;
    s->active = s->fire || s->lo_new != w->lo;
    if (!s->active) {
        s->next = w->kt->count;
        return 0;
    }
    size_t words = ((size_t)w->kt->count + 63) / 64;
    if (words > w->dead_words) {
        uint64_t *d = realloc(w->dead, words * 2 * sizeof *d);
        if (!d) return WR_ENOMEM;
        w->dead = d;
        w->dead_words = words * 2;
    }
    if (words) memset(w->dead, 0, words * sizeof *w->dead);
    if (s->blocks) {
        const size_t R = (size_t)w->R;
        uint32_t *offs = w->sw_offs, *exp_offs = offs + WR__SWEEP_WINDOWS * R,
                 *keep_offs = exp_offs + R;
        for (uint64_t i = 0; i < s->nwin; i++) {
            int64_t a = s->a_lo + (int64_t)i * w->g;
            s->nofs[i] = s_offsets(w, a, a + w->K, offs + i * R);
        }
        s->nexp = s_offsets(w, w->base, s->lo_new, exp_offs);
        s->nkeep = s_offsets(w, s->lo_new, w->base + w->R, keep_offs);
    }
    return 0;
}

/* Block-merges keys idx[0..nk) (entries ents, none with spilled panes): fires the due windows,
 * frees the expired panes, marks the keys left empty. */
static int s_sweep_block(wr_window_t *w, const wr_window_sink_t *sink, uint8_t *const *ents,
                         const uint32_t *idx, size_t nk)
{
    const wr__sweep_t *s = &w->sw;
    const size_t R = (size_t)w->R, asz = w->lay.size;
    const uint32_t *offs = w->sw_offs, *exp_offs = offs + WR__SWEEP_WINDOWS * R,
                   *keep_offs = exp_offs + R;
    int rc = 0;
    for (uint64_t i = 0; i < s->nwin && !rc; i++) {
        if (!s->nofs[i]) continue;
        wr__merge_block(&w->lay, ents, nk, offs + i * R, s->nofs[i], w->blk);
        rc = wr__finish_block(&w->lay, ents, nk, offs + i * R, s->nofs[i], w->sk, w->blk);
        if (!rc) s_emit_block(w, sink, ents, nk, s->a_lo + (int64_t)i * w->g);
    }
    if (rc) return rc;
    /* When the one window fired covers the whole ring (the usual sweep), its count minus the
     * expired panes' tells whether the key keeps anything: no second look at the ring. */
    const bool whole = s->nwin == 1 && s->nofs[0] == R;
    for (size_t k = 0; k < nk; k++) {
        uint64_t gone = 0;
        for (size_t j = 0; j < s->nexp; j++) {
            uint8_t *acc = ents[k] + exp_offs[j];
            uint32_t c = wr__acc_count(acc);
            if (!c) continue;
            gone += c;
            w->panes_live--;
            if (w->lay.nsketch)
                wr__acc_clear(&w->lay, acc, w->sk);
            else
                memcpy(acc, w->lay.empty, asz);
        }
        uint64_t live = 0;
        if (whole)
            live = w->blk->count[k] - gone;
        else
            for (size_t j = 0; j < s->nkeep; j++)
                live |= wr__acc_count(ents[k] + keep_offs[j]);
        if (!live) w->dead[idx[k] >> 6] |= (uint64_t)1 << (idx[k] & 63);
    }
    return 0;
}

/* Sweeps live keys from w->sw.next on, WR__BLOCK at a time: keys without spilled panes through the
 * block merge when few windows are due (the usual case: one per slide), the others one by one.
 * Stops early with WR_EAGAIN when the sink fills up (w->sw.next says where to go on). */
static int s_sweep_run(wr_window_t *w, const wr_window_sink_t *sink)
{
    wr__keytable_t *kt = w->kt;
    wr__sweep_t *s = &w->sw;
    uint8_t *ents[WR__BLOCK];
    uint32_t idx[WR__BLOCK];
    uint64_t seen = w->fired;
    while (s->next < kt->count) {
        uint32_t e0 = s->next, e1 = kt->count - e0 < WR__BLOCK ? kt->count : e0 + WR__BLOCK;
        size_t nk = 0;
        if (e1 < kt->count) { /* the next block streams in while this one is merged */
            const uint8_t *p = wr__kt_entry(kt, e1),
                          *q = wr__kt_entry(kt, kt->count - e1 < WR__BLOCK ? kt->count
                                                                           : e1 + WR__BLOCK);
            for (; p < q; p += 64)
                __builtin_prefetch(p, 1);
        }
        int rc = 0;
        for (uint32_t e = e0; e < e1 && !rc; e++) {
            if (s->blocks && !s_bit(w, e)) {
                idx[nk] = e;
                ents[nk++] = wr__kt_entry(kt, e);
                continue;
            }
            bool empty = false;
            rc = s_sweep_key(w, sink, e, s, &empty);
            if (empty) w->dead[e >> 6] |= (uint64_t)1 << (e & 63);
        }
        if (!rc && nk) rc = s_sweep_block(w, sink, ents, idx, nk);
        if (rc) return rc;
        s->next = e1;
        if (s->next < kt->count && wr__sink_full(w, sink, &seen)) return WR_EAGAIN;
    }
    return 0;
}

/* Removes the keys the sweep left empty and moves the engine to the sweep's watermark. */
static void s_sweep_finish(wr_window_t *w)
{
    wr__keytable_t *kt = w->kt;
    /* Removal moves the last entry into the hole: go from the back, so it is always a live one. */
    for (size_t wd = ((size_t)kt->count + 63) / 64; wd-- > 0;) {
        uint64_t m = w->dead[wd];
        while (m) {
            int b = 63 - __builtin_clzll(m);
            m &= ~((uint64_t)1 << b);
            uint32_t e = (uint32_t)(wd * 64 + (size_t)b), moved = wr__kt_remove(kt, e);
            if (moved != WR__KT_NONE) {
                s_bit_set(w, e, s_bit(w, moved));
                s_bit_set(w, moved, false);
            }
        }
    }
    wr__kt_trim(kt);
    s_spill_shrink(w);
}

/* Runs (or goes on with) the sweep in w->sw; on completion moves the engine to its watermark. */
static int s_sweep_go(wr_window_t *w, const wr_window_sink_t *sink)
{
    int rc = s_sweep_run(w, sink);
    w->paused = rc == WR_EAGAIN;
    if (rc == WR_EAGAIN) return rc;
    /* On an error the sweep stopped part way: keys not visited keep panes below the new base,
     * which breaks the ring invariant; the caller must treat the engine as failed. */
    const wr__sweep_t *s = &w->sw;
    if (!rc && s->active) s_sweep_finish(w);
    w->wm = s->wm;
    w->lo = s->lo_new;
    w->base = w->kt->count ? s->base_new : s->lo_new;
    w->base_slot = wr__floor_mod(w->base, w->R);
    return rc;
}

int wr__slice_advance(wr_window_t *w, int64_t wm, const wr_window_sink_t *sink)
{
    int rc = s_sweep_begin(w, wm);
    if (!rc && w->sw.active) wr__ahead_settle(w, wm); /* (the sweep may remove keys) */
    return rc ? rc : s_sweep_go(w, sink);
}

int wr__slice_resume(wr_window_t *w, const wr_window_sink_t *sink)
{
    return s_sweep_go(w, sink);
}
