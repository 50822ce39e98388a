/* The window engine's private state, shared by window.c (API, output), window_slice.c (tumbling
 * and sliding: panes) and window_session.c (sessions). Not for other modules. */
#ifndef WR_WINDOW_INTERNAL_H
#define WR_WINDOW_INTERNAL_H

#include "actors/dataflow/window/agg.h"
#include "actors/dataflow/window/keytable.h"
#include "actors/dataflow/window/sketch.h"
#include "actors/dataflow/window/window.h"
#include "actors/dataflow/window/window_snap.h"

#define WR__OUT_CAP       512 /* results per emit callback */
#define WR__SWEEP_WINDOWS 4   /* sweeps firing at most this many windows go block by block */

enum { WR__REC_DROP, WR__REC_RING, WR__REC_SPILL }; /* batch record classes (sliced kinds) */

typedef struct {
    uint64_t key;
    uint32_t head; /* first spill node of the key; 0 = empty slot */
    uint32_t last; /* the node the key's last spill access found or made (0: none), a node of
                    * its chain: a record of a later pane starts its walk there, not at head */
} wr__spill_head_t;

typedef struct {
    int64_t t;
    uint32_t node, gen;
} wr__timer_t;

/* A sweep of the sliced kinds, kept across pauses (see wr_window_advance): the watermark it moves
 * to, the windows it fires [a_lo, a_hi] (nwin of them, in panes), the new lowest live pane and ring
 * base, the ring slot offsets of each window's panes and of the expiring and kept panes (in
 * sw_offs), and the first entry not swept yet. */
typedef struct {
    int64_t wm, lo_new, base_new, a_lo, a_hi;
    uint64_t nwin;
    bool active, fire, blocks; /* active: something to fire or to expire */
    size_t nofs[WR__SWEEP_WINDOWS], nexp, nkeep;
    uint32_t next;
} wr__sweep_t;

struct wr_window {
    wr_window_spec_t spec;
    wr__agg_layout_t lay;
    wr__sketch_pool_t *sk;
    wr__keytable_t *kt;
    int64_t wm;
    /* a firing paused because the sink was full: the watermark it moves to (sessions) or the
     * sweep (sliced kinds); wr_window_resume goes on from there */
    bool paused;
    int64_t pause_wm;
    wr__sweep_t sw;

    /* sliced kinds: pane length P, panes per window K, panes per slide g, ring slots R; panes
     * below lo are gone (too late); the ring holds panes [base, base + R), base >= lo, pane p in
     * slot p mod R (base_slot = base mod R). */
    int64_t P, K, g, R, lo, base, base_slot;
    uint8_t *ring_init;   /* R empty accumulators: a new key's payload */
    uint64_t *spill_bits; /* per entry: the key has spill nodes */
    size_t spill_words;
    /* spill nodes: key u64 @0, pane i64 @8, next u32 @16, accumulator @20; node 0 unused */
    uint8_t *sp_nodes;
    size_t sp_stride;
    uint32_t sp_cap, sp_n, sp_free;
    wr__spill_head_t *sp_heads; /* open addressing by key, power-of-two size */
    uint32_t sp_hcap, sp_hn;

    /* sessions: nodes (see window_session.c), a lazy timer heap */
    uint8_t *ss_nodes;
    size_t ss_stride;
    uint32_t ss_cap, ss_n, ss_free;
    wr__timer_t *heap;
    size_t heap_n, heap_cap;

    /* scratch */
    wr__merge_t merge;
    wr__block_t *blk;  /* block sweep: results of WR__BLOCK keys */
    uint32_t *sw_offs; /* block sweep: ring slot offsets, (WR__SWEEP_WINDOWS + 2) x R */
    uint64_t *dead;    /* sweep: entries to remove afterwards */
    size_t dead_words;
    int64_t *kp_pane; /* a key's non-empty panes during a sweep */
    uint8_t **kp_acc;
    uint32_t *kp_node; /* spill node of each (0: ring) */
    size_t kp_cap;
    uint64_t *b_hash; /* per batch record */
    int64_t *b_pane;
    uint32_t *b_cand, *b_slot, *b_late;
    uint8_t *b_cls;
    size_t b_cap, n_late;

    /* results waiting for the emit callback */
    size_t out_n;
    uint64_t out_key[WR__OUT_CAP], out_count[WR__OUT_CAP];
    int64_t out_start[WR__OUT_CAP], out_end[WR__OUT_CAP];
    uint8_t out_late[WR__OUT_CAP];
    double *out_val[WR_AGG_MAX_AGGS];

    uint64_t panes_live, spill_panes, records, fired, refires, dropped;

    /* incremental snapshots (sliced kinds, window_snap_incr.c): closed panes <= sealed are in the
     * caller's segments (seg[0..nseg): pane ascending, id 0 = the pane was empty); late records
     * into them since are in the dirty set (key, pane; open addressing, pane INT64_MIN = free) */
    int64_t sealed;
    wr_window_seg_t *seg;
    uint32_t nseg, seg_cap;
    struct wr__dirty *dirty;
    uint32_t dirty_n, dirty_cap;
    /* segments written ahead (window_snap_ahead.c): the one being written (NULL: none); late
     * records into panes <= ahead_hi (the highest one begun) are marked dirty like sealed ones; the
     * ones written and not yet in a main (pane ascending) */
    struct wr__ahead *ahead;
    int64_t ahead_hi;
    wr_window_seg_t *ahead_done;
    uint32_t nahead_done;
    /* the records a snapshot's walk stages per batch of key groups, about (window_snap_walk.c;
     * 0: its default); set by wr_window_snapshot_batch: tests, weir bench snapshot */
    uint64_t snap_batch;

    struct wr__rocks *rocks; /* the rocksdb backend's state (window_rocks*.c); NULL: memory */
};

/* The pane length of a sliced window: gcd(size, slide). */
static inline int64_t wr__gcd(int64_t a, int64_t b)
{
    while (b) {
        int64_t t = a % b;
        a = b;
        b = t;
    }
    return a;
}

static inline int64_t wr__floor_div(int64_t a, int64_t b)
{
    int64_t q = a / b;
    return q - ((a % b != 0) & ((a < 0) != (b < 0)));
}

static inline int64_t wr__floor_mod(int64_t a, int64_t b)
{
    return a - wr__floor_div(a, b) * b;
}

/* Sliced kinds: the window starts (multiples of g, in panes) at or above / at or below m. */
static inline int64_t wr__ceil_g(const wr_window_t *w, int64_t m)
{
    return -wr__floor_div(-m, w->g) * w->g;
}

static inline int64_t wr__floor_g(const wr_window_t *w, int64_t m)
{
    return wr__floor_div(m, w->g) * w->g;
}

/* Emits the window in w->merge (a result row); flushes to the sink when the buffer is full. 0 or
 * WR_ENOMEM. */
int wr__emit(wr_window_t *w, const wr_window_sink_t *sink, uint64_t key, int64_t start, int64_t end,
             uint8_t late);
/* Hands buffered results to the sink. */
void wr__flush(wr_window_t *w, const wr_window_sink_t *sink);
/* During a firing: true when results were made since *seen (a count of w->fired) and the sink
 * says it is full: the buffered ones are handed over and the firing should pause. Updates *seen. */
bool wr__sink_full(wr_window_t *w, const wr_window_sink_t *sink, uint64_t *seen);
/* Grows the per-batch scratch to n records. 0 or WR_ENOMEM. */
int wr__batch_scratch(wr_window_t *w, size_t n);

/* window_slice.c */
int wr__slice_init(wr_window_t *w);
void wr__slice_release(wr_window_t *w);
int wr__slice_add(wr_window_t *w, const uint64_t *keys, const int64_t *ts,
                  const double *const *cols, size_t n, const wr_window_sink_t *sink);
int wr__slice_advance(wr_window_t *w, int64_t wm, const wr_window_sink_t *sink);
int wr__slice_resume(wr_window_t *w, const wr_window_sink_t *sink);
size_t wr__slice_bytes(const wr_window_t *w);

/* window_session.c */
int wr__session_init(wr_window_t *w);
void wr__session_release(wr_window_t *w);
int wr__session_add(wr_window_t *w, const uint64_t *keys, const int64_t *ts,
                    const double *const *cols, size_t n, const wr_window_sink_t *sink);
int wr__session_advance(wr_window_t *w, int64_t wm, const wr_window_sink_t *sink);
size_t wr__session_bytes(const wr_window_t *w);

/* The rocksdb backend (window_rocks.c, window_rocks_fire.c): wr_window_new, _destroy, _add,
 * _advance and _resume hand over to these when w->rocks is set (init sets it up from w->spec and
 * w->lay; stats fills what differs). */
int wr__rocks_init(wr_window_t *w);
/* What the rocksdb backend refuses of spec s (wr_window_check; init runs it too): 0, or
 * WR_EINVAL with *out (if out) saying why. */
int wr__rocks_check(const wr_window_spec_t *s, wr_window_refusal_t *out);
void wr__rocks_release(wr_window_t *w);
int wr__rocks_add(wr_window_t *w, const uint64_t *keys, const int64_t *ts,
                  const double *const *cols, size_t n, const wr_window_sink_t *sink);
int wr__rocks_advance(wr_window_t *w, int64_t wm, const wr_window_sink_t *sink);
int wr__rocks_resume(wr_window_t *w, const wr_window_sink_t *sink);
void wr__rocks_stats(const wr_window_t *w, wr_window_stats_t *out);

/* Snapshot support (window_snap.c). Slices: lo(wm); room for `more` keys (0, WR_ENOMEM,
 * WR_ETOOBIG); the accumulator of pane p >= lo of entry e, its ring slot or a spill node made
 * empty (NULL on OOM; counted live: the caller fills it); the first spill node of entry e (0:
 * none). Sessions: entry e's first session (0: none); session n's window and accumulator, and
 * the next one; a new last session of entry e after *tail (0: none yet), its accumulator moved
 * from acc (whose sketches it takes, or frees on failure), fired when end - 1 <= the watermark (0
 * or WR_ENOMEM). */
int64_t wr__slice_lo(const wr_window_t *w, int64_t wm);
int wr__slice_reserve(wr_window_t *w, size_t more);
uint8_t *wr__slice_acc(wr_window_t *w, uint32_t e, int64_t p);
uint32_t wr__slice_spill_first(const wr_window_t *w, uint32_t e);
uint32_t wr__session_first(const wr_window_t *w, uint32_t e);
uint32_t wr__session_get(const wr_window_t *w, uint32_t n, int64_t *start, int64_t *end,
                         const uint8_t **acc);
int wr__session_append(wr_window_t *w, uint32_t e, uint32_t *tail, int64_t start, int64_t end,
                       uint8_t *acc);

/* Incremental snapshots (window_snap_incr.c): pane p of key `key` changed; marks it dirty when
 * it is sealed (in a segment). 0 or WR_ENOMEM. */
int wr__incr_touch(wr_window_t *w, uint64_t key, int64_t p);
/* Frees the incremental bookkeeping (wr_window_destroy). */
void wr__incr_release(wr_window_t *w);
/* Forgets the dirty marks of expired panes (a main forgets them too). */
void wr__incr_forget_expired(wr_window_t *w);
/* Segments written ahead (window_snap_ahead.c): before a sweep to watermark wm that may remove
 * keys, the one being written is finished (on an error it is abandoned: the next checkpoint
 * writes the pane; at the end of event time it is abandoned: every window fires);
 * after a main's commit (sealed moved), what it made redundant goes; on destroy, all of it. */
void wr__ahead_settle(wr_window_t *w, int64_t wm);
void wr__ahead_committed(wr_window_t *w);
void wr__ahead_release(wr_window_t *w);
/* The accumulator of pane p of entry e if it holds data, else NULL (sliced kinds). */
const uint8_t *wr__slice_peek(const wr_window_t *w, uint32_t e, int64_t p);

#endif
