/* Quantile sketches for window aggregates: DDSketch-style relative-error histograms, sparse and
 * compact, one per pane (or session), kept in a pool owned by one window engine.
 *
 * Error bound. With relative accuracy alpha (0 < alpha < 1; the window engine's default is 0.01)
 * let gamma = (1 + alpha) / (1 - alpha). A value x != 0 is counted in bucket i = ceil(log_gamma
 * |x|) of its sign, and a bucket reads back as sign * 2 gamma^i / (gamma + 1), which is within
 * alpha * |x| of every x in it. The q-quantile of n values is defined as x_q, the value of rank
 * floor(q * (n - 1)) (0-based) in ascending order; the sketch returns a value v with
 *     |v - x_q| <= alpha * |x_q|
 * for |x_q| in [gamma^-(2^18 - 1), gamma^(2^18 - 1)] (every finite nonzero double when
 * alpha >= 0.0015; values outside that range are clamped to its ends). Zero is exact. NaN values
 * are not counted (a quantile of nothing is NaN). Merging is exact: the merge of two sketches
 * equals the sketch of the union, so a window's quantile is as good as a pane's.
 *
 * Within [min, max]. A bucket reads back as its midpoint, which can lie above every value in it
 * (or below): a p95 of values that all share the max's bucket could read above the max (within
 * the bound, but it reads as a bug). The window engine clamps each quantile to the window's exact
 * min and max of that column (agg.h), which keeps the bound since x_q is in [min, max]. The
 * sketch alone does not clamp: it does not know the values' extremes.
 *
 * Layout. A sketch is a sorted array of u32 entries, one per non-empty bucket: the upper 20 bits
 * hold the signed bucket key (biased), the lower 12 bits a count (a bucket whose count passes 4095
 * takes another entry with the same key). Sketches live in size-class blocks (2^(c+1) words: one
 * header word holding the entry count, then the entries) addressed by a u32 handle; 0 is the empty
 * sketch, so a zeroed pane holds no sketch. Typical IoT panes (a dozen readings of a temperature)
 * take 16 to 64 bytes. A new sketch starts in the class that half the sketches the pool freed
 * lately needed (their final size), so typical panes do not grow block by block. Blocks live in
 * huge-page mappings: sketches are reached at random, one per pane.
 *
 * Not thread-safe: one pool per window engine, used by one thread. */
#ifndef WR_SKETCH_H
#define WR_SKETCH_H

#include <stddef.h>
#include <stdint.h>

typedef struct wr__sketch_pool wr__sketch_pool_t;

/* A pool for sketches of relative accuracy alpha (0 < alpha < 1). NULL on bad alpha or OOM. */
wr__sketch_pool_t *wr__sketch_pool_new(double alpha);
/* Frees every sketch and the pool. NULL-safe; nulls *p. */
void wr__sketch_pool_destroy(wr__sketch_pool_t **p);

/* Counts x in the sketch *h (0: a new sketch is allocated and *h set). The handle may change
 * when the sketch grows. NaN is ignored. Returns 0 or WR_ENOMEM (the sketch is then unchanged). */
int wr__sketch_add(wr__sketch_pool_t *p, uint32_t *h, double x);
/* *dst becomes the merge of *dst and src (src unchanged; either may be 0). 0 or WR_ENOMEM. */
int wr__sketch_merge(wr__sketch_pool_t *p, uint32_t *dst, uint32_t src);
/* Frees the sketch *h (0 is fine) and sets *h to 0. */
void wr__sketch_free(wr__sketch_pool_t *p, uint32_t *h);
/* A hint that sketch h (0 is fine) is about to be read or grown: its block is prefetched into
 * the cache (a sketch lives apart from its pane: without it, every add and every firing waits
 * for memory). Changes nothing. */
void wr__sketch_prefetch(const wr__sketch_pool_t *p, uint32_t h);
/* Values counted in sketch h. */
uint64_t wr__sketch_count(const wr__sketch_pool_t *p, uint32_t h);

/* The quantiles qs[0..nq) (each in [0, 1]) of the union of the sketches hs[0..nh) (0 handles are
 * skipped) into out[0..nq): NaN when the union is empty. Uses the pool's scratch space: returns 0
 * or WR_ENOMEM (out untouched). */
int wr__sketch_quantiles(wr__sketch_pool_t *p, const uint32_t *hs, size_t nh, const double *qs,
                         size_t nq, double *out);

/* A sketch's entries where they lie: n u32 words at e, as wr__sketch_entries gives them (e need
 * not be aligned: a view may point into a stored tail). */
typedef struct {
    const void *e;
    uint32_t n;
} wr__sketch_view_t;

/* The view of pool sketch h (0: n = 0), borrowed until the pool next changes. */
wr__sketch_view_t wr__sketch_view(const wr__sketch_pool_t *p, uint32_t h);
/* Whether the n stored entries at e are a sketch, by wr__sketch_load's rules (keys valid and
 * ascending, counts >= 1, no more entries than a sketch holds): 0 or WR_EPROTO. A view of stored
 * entries must pass this before wr__sketch_quantiles_of reads it. */
int wr__sketch_check(const void *e, uint32_t n);
/* As wr__sketch_quantiles, of the union of the views vs[0..nv) (pool sketches' or checked stored
 * entries): a stored sketch is read where it lies, without loading it into the pool. */
int wr__sketch_quantiles_of(wr__sketch_pool_t *p, const wr__sketch_view_t *vs, size_t nv,
                            const double *qs, size_t nq, double *out);

/* Snapshot support (memory snapshots, the rocksdb backend's stored runs; agg.h's stored form).
 * The entries of sketch h (0: none) as stored: *n u32 words, borrowed until the pool next
 * changes. */
const uint32_t *wr__sketch_entries(const wr__sketch_pool_t *p, uint32_t h, uint32_t *n);
/* A new sketch holding the n stored entries at e (as wr__sketch_entries gave them; e need not be
 * aligned) into *h (0 for n = 0). Validates them: WR_EPROTO for a bad key or count, keys out of
 * order or too many entries (*h is then 0), WR_ENOMEM. */
int wr__sketch_load(wr__sketch_pool_t *p, uint32_t *h, const void *e, uint32_t n);

/* ---- a sketch in an accumulator's field ----
 *
 * A pane's sketch lives in its accumulator (agg.h) as a field of WR__SKF_BYTES bytes, u32 words
 * at any alignment. Word 0 is the sketch's entry count n. Up to WR__SKF_INLINE entries live in the
 * field itself (words 1..n; the words after them are zero): an IoT pane (six readings of a
 * temperature) is read and written where the pane lies, without a second cache miss to a block
 * of the pool and without an allocation. A larger sketch lives in the pool: word 1 holds its
 * handle, words 2.. are zero. The empty sketch is all zero. A field is moved by copying its bytes
 * (the sketch goes with it); it is freed once, by wr__skf_free.
 *
 * The stored form of a field (the rocksdb backend's runs; memory snapshots pack instead, agg.h):
 * an inline sketch is stored as it is; a pool sketch as word 0 = n and zeros, its n entries going
 * to the accumulator's tail. So the two forms differ only for sketches of more than
 * WR__SKF_INLINE entries. */
#define WR__SKF_INLINE 6
#define WR__SKF_BYTES  (4 + 4 * WR__SKF_INLINE)

/* Counts x in the field's sketch (it moves to the pool when it outgrows the field). NaN is
 * ignored. 0 or WR_ENOMEM (the sketch is then unchanged). */
int wr__skf_add(wr__sketch_pool_t *p, uint8_t *f, double x);
/* Frees the field's sketch and zeroes the field. */
void wr__skf_free(wr__sketch_pool_t *p, uint8_t *f);
/* The field's entries (n = 0: empty), borrowed until the field or the pool next changes. */
wr__sketch_view_t wr__skf_view(const wr__sketch_pool_t *p, const uint8_t *f);
/* wr__sketch_prefetch for a field whose sketch lives in the pool (an inline one is its pane's). */
void wr__skf_prefetch(const wr__sketch_pool_t *p, const uint8_t *f);
/* dst's sketch becomes the union of dst's and src's (src unchanged). 0 or WR_ENOMEM (dst is then
 * unchanged). */
int wr__skf_merge(wr__sketch_pool_t *p, uint8_t *dst, const uint8_t *src);
/* Turns f (a copy of a field: the sketch stays its owner's) into its stored form; the entries
 * that go to the tail (none for an inline sketch), borrowed until the pool next changes. */
wr__sketch_view_t wr__skf_store(const wr__sketch_pool_t *p, uint8_t *f);
/* Whether f, a stored field, is whole, its tail entries (if any) at the start of tail[0..len):
 * 0 and *used = the tail bytes it takes, or WR_EPROTO (a bad count, entry or padding word). */
int wr__skf_check_stored(const uint8_t *f, const void *tail, size_t len, size_t *used);
/* The tail bytes the stored field f's sketch takes (0 for an inline one). */
size_t wr__skf_store_bytes(const uint8_t *f);
/* The stored field f's entries: in f, or at tail (as wr__skf_check_stored took them). */
wr__sketch_view_t wr__skf_stored_view(const uint8_t *f, const void *tail);
/* Turns the stored field f (its tail entries at the start of tail[0..len)) back into a live
 * one, validated as wr__skf_check_stored does: 0 and *used, or WR_EPROTO / WR_ENOMEM with f
 * zeroed and nothing allocated. */
int wr__skf_load(wr__sketch_pool_t *p, uint8_t *f, const void *tail, size_t len, size_t *used);

/* Bytes the pool holds: blocks ever handed out (free or used: the memory touched), scratch. */
size_t wr__sketch_pool_bytes(const wr__sketch_pool_t *p);
/* Live sketches (allocated, not freed): those in the pool and the non-empty inline ones. */
uint64_t wr__sketch_pool_live(const wr__sketch_pool_t *p);

#endif
