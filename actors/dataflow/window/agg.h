/* Window aggregates: what a window computes per key, and the packed accumulators behind it.
 *
 * Every aggregate reads one double input column (count reads none) and yields one double:
 *   count          records in the window (exact up to 2^53; also given as an integer, see window.h)
 *   sum            sum of the values
 *   min, max       smallest / largest value (NaN values never win a comparison)
 *   avg            sum / count
 *   stddev         population standard deviation, sqrt(M2 / n) (Welford per record, Chan's formula
 *                  to merge); stddev_samp is the sample one, sqrt(M2 / (n - 1)), NaN for n < 2
 *   first, last    the value with the smallest / largest event time; ties go to the earliest /
 *                  latest arrival
 *   quantile(q)    the q-quantile through a mergeable sketch, within relative error alpha of the
 *                  exact value of rank floor(q (n - 1)) (see sketch.h; alpha is a window option),
 *                  then clamped to the window's [min, max] of that column: a sketch reads a
 *                  bucket back as its midpoint, which may lie past the largest (or below the
 *                  smallest) value; clamping keeps the bound (the exact quantile is in [min, max])
 *                  and never shows a p95 above the max
 *
 * Exactness: sums are accumulated in a fixed order, which the tests' oracle reproduces: within a
 * pane (or session) 0.0 + v1 + v2 + ... in arrival order; a window adds its non-empty panes' sums
 * to 0.0 in ascending time order. Sessions merge their partial sums in ascending start order.
 * Stddev is not order-exact (it is within ~1e-12 relative of a two-pass computation).
 *
 * Accumulators (internal). A pane's accumulator is a packed byte record: a u32 record count, then
 * one field per distinct (statistic, column) the aggregates need, without padding: sum 8 bytes,
 * min 8, max 8, Welford mean+M2 16, first/last (time, value) 16 each, sketch 28 (a small sketch
 * inline, a larger one's pool handle: sketch.h). avg shares
 * the sum field, the stddevs share one mean+M2, quantiles of one column share one sketch. So
 * count/sum/min/max of one column is 28 bytes. A column with quantiles also has a min and a max
 * field, added when no aggregate asked for them (hidden: they only clamp the quantiles). An empty
 * accumulator holds identity values (count
 * 0, sum 0, min +inf, max -inf, ...), so the per-record update has no "first value" branch. */
#ifndef WR_AGG_H
#define WR_AGG_H

#include <math.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "actors/dataflow/window/sketch.h"

typedef enum {
    WR_AGG_COUNT = 1,
    WR_AGG_SUM,
    WR_AGG_MIN,
    WR_AGG_MAX,
    WR_AGG_AVG,
    WR_AGG_STDDEV, /* population */
    WR_AGG_STDDEV_SAMP,
    WR_AGG_FIRST,
    WR_AGG_LAST,
    WR_AGG_QUANTILE
} wr_agg_kind_t;

typedef struct {
    wr_agg_kind_t kind;
    uint32_t col; /* input column (ignored by count) */
    double q;     /* quantile only: in [0, 1] */
} wr_agg_t;

#define WR_AGG_MAX_AGGS 16

/* Parses an aggregate name: count, sum, min, max, avg (mean), stddev (stddev_pop), stddev_samp,
 * first, last, median, pNN / pNN.N (p95, p99.9), quantile(Q). col is left untouched. Returns 0 or
 * WR_EINVAL. */
int wr_agg_parse(const char *name, wr_agg_t *out);
/* Canonical name of an aggregate kind ("quantile" for quantiles); "?" for an unknown kind. */
const char *wr_agg_name(wr_agg_kind_t kind);

/* ---- internal: accumulator layout and the per-record update (used by window*.c) ---- */

enum { WR__F_SUM, WR__F_MIN, WR__F_MAX, WR__F_MOM, WR__F_FIRST, WR__F_LAST, WR__F_SKETCH };

/* Fields and accumulator bytes at most: each aggregate adds one field of up to 16 bytes, or a
 * quantile its sketch field and at most a hidden min and max (16 bytes) on its column. */
#define WR__MAX_FIELDS (3 * WR_AGG_MAX_AGGS)
#define WR__MAX_ACC    (4 + (16 + WR__SKF_BYTES) * WR_AGG_MAX_AGGS)

typedef struct {
    uint8_t kind;
    uint32_t col;
    uint32_t off; /* byte offset in the accumulator */
} wr__field_t;

typedef struct {
    uint32_t nfields;
    wr__field_t f[WR__MAX_FIELDS];
    uint32_t size; /* accumulator bytes */
    uint32_t naggs;
    wr_agg_t aggs[WR_AGG_MAX_AGGS];
    uint32_t agg_field[WR_AGG_MAX_AGGS]; /* field index per aggregate (count: unused) */
    uint32_t nsketch;                    /* sketch fields */
    uint32_t clamp[WR__MAX_FIELDS][2];   /* per sketch field: its column's min and max fields */
    uint8_t empty[WR__MAX_ACC];          /* the identity accumulator */
} wr__agg_layout_t;

/* Lays out the accumulator for aggs[0..n) over ncols input columns. WR_EINVAL for a bad kind,
 * column or quantile, or n outside 1..WR_AGG_MAX_AGGS. */
int wr__agg_layout(wr__agg_layout_t *l, const wr_agg_t *aggs, uint32_t n, uint32_t ncols);

static inline uint32_t wr__acc_count(const uint8_t *acc)
{
    uint32_t c;
    memcpy(&c, acc, 4);
    return c;
}

static inline double wr__ld(const uint8_t *p)
{
    double v;
    memcpy(&v, p, 8);
    return v;
}

static inline void wr__st(uint8_t *p, double v)
{
    memcpy(p, &v, 8);
}

/* Adds record `row` (event time ts) to acc. Returns 0, or WR_ENOMEM from a sketch (acc is then
 * partly updated: the caller treats the engine as failed). */
static inline int wr__acc_add(const wr__agg_layout_t *l, uint8_t *acc, int64_t ts,
                              const double *const *cols, size_t row, wr__sketch_pool_t *sk)
{
    uint32_t c = wr__acc_count(acc) + 1;
    memcpy(acc, &c, 4);
    int rc = 0;
    for (uint32_t i = 0; i < l->nfields; i++) {
        uint8_t *p = acc + l->f[i].off;
        double v = cols[l->f[i].col][row];
        switch (l->f[i].kind) {
        case WR__F_SUM:
            wr__st(p, wr__ld(p) + v);
            break;
        case WR__F_MIN: { /* branch-free (minsd/maxsd): a pane's first values win at random */
            double m = wr__ld(p);
            wr__st(p, v < m ? v : m);
            break;
        }
        case WR__F_MAX: {
            double m = wr__ld(p);
            wr__st(p, v > m ? v : m);
            break;
        }
        case WR__F_MOM: {
            double mean = wr__ld(p), d = v - mean;
            mean += d / c;
            wr__st(p, mean);
            wr__st(p + 8, wr__ld(p + 8) + d * (v - mean));
            break;
        }
        case WR__F_FIRST: {
            int64_t t;
            memcpy(&t, p, 8);
            if (ts < t) {
                memcpy(p, &ts, 8);
                wr__st(p + 8, v);
            }
            break;
        }
        case WR__F_LAST: {
            int64_t t;
            memcpy(&t, p, 8);
            if (ts >= t) {
                memcpy(p, &ts, 8);
                wr__st(p + 8, v);
            }
            break;
        }
        default: /* WR__F_SKETCH */
            rc |= wr__skf_add(sk, p, v);
        }
    }
    return rc;
}

/* A hint that records will be added to acc soon: the pool blocks of its sketches too large to
 * live in it are prefetched (such a sketch lives apart from its pane, so without it every add
 * waits for memory twice). */
static inline void wr__acc_prefetch(const wr__agg_layout_t *l, const uint8_t *acc,
                                    const wr__sketch_pool_t *sk)
{
    for (uint32_t i = 0; i < l->nfields; i++)
        if (l->f[i].kind == WR__F_SKETCH) wr__skf_prefetch(sk, acc + l->f[i].off);
}

/* Sketch prefetches go out in bursts: those of WR__SK_BURST accumulators back to back, then the
 * work on them. Measured on the seed's job (rocksdb, p95, 2026-12-06): a prefetch issued one
 * record ahead at a time, between two records' work, held the core itself (perf put 18% of all
 * samples on the prefetch instruction, the sketches' random reads apart from their panes); in
 * bursts, their waits overlap (11%). */
#define WR__SK_BURST 64

/* One burst: wr__acc_prefetch of the accumulators at acc, acc + stride, ..., WR__SK_BURST of them
 * or the `left` there are, if fewer. */
static inline void wr__accs_prefetch(const wr__agg_layout_t *l, const uint8_t *acc, size_t stride,
                                     size_t left, const wr__sketch_pool_t *sk)
{
    for (size_t j = 0; j < left && j < WR__SK_BURST; j++)
        wr__acc_prefetch(l, acc + j * stride, sk);
}

/* A window's running merge of pane accumulators: count as u64, the fields as in a pane, and for
 * each sketch field the list of pane sketches to read at the end (sketches are not merged). */
typedef struct {
    uint64_t count;
    uint8_t acc[WR__MAX_ACC];
    wr__sketch_view_t *sk[WR__MAX_FIELDS]; /* per sketch field: non-empty ones, room for cap */
    uint32_t nsk[WR__MAX_FIELDS];
    uint32_t cap;
} wr__merge_t;

/* Allocates m's handle lists for windows of up to max_panes panes. 0 or WR_ENOMEM. */
int wr__merge_init(wr__merge_t *m, const wr__agg_layout_t *l, uint32_t max_panes);
void wr__merge_release(wr__merge_t *m);
/* m becomes the merge of the non-empty pane accumulators accs[0..n) (ascending time order, n at
 * most the panes m was initialised for), field by field: the window result before
 * wr__merge_finish. Their sketches are read where they lie, until then: pool sketches (sk), or,
 * for accs[j] in the stored form (wr__acc_store) with tails[j] not NULL, the entries in tails[j]
 * (checked with wr__acc_check_stored). tails may be NULL: every acc holds pool handles. */
void wr__merge_panes(wr__merge_t *m, const wr__agg_layout_t *l, const wr__sketch_pool_t *sk,
                     const uint8_t *const *accs, const void *const *tails, size_t n);
/* The aggregate values of the merged window into out[0..naggs). 0 or WR_ENOMEM (sketches). */
int wr__merge_finish(wr__merge_t *m, const wr__agg_layout_t *l, wr__sketch_pool_t *sk, double *out);

/* Block merge, for sweeps: the same window of up to WR__BLOCK keys at once. Key k's panes are the
 * accumulators at ents[k] + offs[j], j < ns, in ascending time order; empty ones (identity values)
 * may be included: they change nothing, so the loops have no branches. Each field is one tight
 * loop over the keys. */
#define WR__BLOCK 64

typedef struct {
    uint64_t count[WR__BLOCK];
    double val[WR_AGG_MAX_AGGS][WR__BLOCK]; /* per aggregate: the results */
    double fa[WR__MAX_FIELDS][WR__BLOCK];   /* per field: sum, min, max, mean, first/last value */
    double fb[WR__MAX_FIELDS][WR__BLOCK];   /* per field: M2 */
    wr__sketch_view_t *sk;                  /* sketches: WR__BLOCK x max panes */
    uint32_t nsk[WR__BLOCK];                /* per key: non-empty ones in sk */
    uint32_t sk_cap;                        /* max panes */
} wr__block_t;

/* Counts and merged fields of the window for keys 0..nk into b. */
void wr__merge_block(const wr__agg_layout_t *l, uint8_t *const *ents, size_t nk,
                     const uint32_t *offs, size_t ns, wr__block_t *b);
/* The aggregate values of the keys whose count is not 0 into b->val. 0 or WR_ENOMEM. */
int wr__finish_block(const wr__agg_layout_t *l, uint8_t *const *ents, size_t nk,
                     const uint32_t *offs, size_t ns, wr__sketch_pool_t *sk, wr__block_t *b);

/* dst += src for two accumulators of one layout (sessions: src is later in time). src's sketches
 * are merged into dst's and freed. 0 or WR_ENOMEM. */
int wr__acc_merge_into(const wr__agg_layout_t *l, uint8_t *dst, uint8_t *src,
                       wr__sketch_pool_t *sk);
/* Frees acc's sketches and resets it to the identity accumulator. */
void wr__acc_clear(const wr__agg_layout_t *l, uint8_t *acc, wr__sketch_pool_t *sk);

/* ---- the stored form of an accumulator (the rocksdb backend's runs) ----
 *
 * The accumulator with each sketch field in its stored form (sketch.h: an inline sketch as it
 * is, a pool one as its entry count and zeros), followed by the tail: the entries of the pool
 * sketches (u32 words, little-endian, sketch fields in layout order). Without quantiles, or with
 * only sketches of up to WR__SKF_INLINE entries, the stored form is the accumulator itself and
 * the tail is empty. */

/* Turns acc (a copy: the sketches stay acc's owner's) into its stored form; e[k], n[k]
 * (k < l->nsketch) get the k-th sketch's tail entries (n[k] = 0 for an inline one; borrowed
 * until the pool next changes). Returns the tail's bytes. */
size_t wr__acc_store(const wr__agg_layout_t *l, uint8_t *acc, const wr__sketch_pool_t *sk,
                     const uint32_t **e, uint32_t *n);
/* The reverse: acc holds a stored form whose tail starts at p (len bytes available, no
 * alignment needed); each sketch is validated and loaded (a large one into sk, its handle put in
 * acc), and *used set to the tail bytes taken. WR_EPROTO when the counts overrun len or an entry
 * or padding word is invalid, WR_ENOMEM; either way acc's sketch fields are then 0 and nothing
 * stays allocated. */
int wr__acc_load(const wr__agg_layout_t *l, uint8_t *acc, const void *p, size_t len, size_t *used,
                 wr__sketch_pool_t *sk);
/* Whether acc (a stored form) and the len bytes of entries at p are whole, by wr__acc_load's
 * rules, without loading them: the counts take exactly len bytes and each sketch's entries pass
 * wr__sketch_check. 0 or WR_EPROTO. */
int wr__acc_check_stored(const wr__agg_layout_t *l, const uint8_t *acc, const void *p, size_t len);
/* ---- the packed form of an accumulator (memory snapshots) ----
 *
 * The fields in layout order, each sketch field as 4 bytes (its entry count), then the entries of
 * every sketch (u32 words, little-endian, sketch fields in layout order): only the entries used,
 * whether the sketch is inline or in the pool, so an accumulator takes no more bytes than its
 * contents (the stored form above pads every inline field to its 28 bytes). This is also the form
 * snapshots had before sketches lived in their accumulators: those still restore as they are.
 * Without quantiles the packed form is the accumulator itself. */

/* The packed form's bytes before the entries (l->size without quantiles). */
uint32_t wr__agg_packed_size(const wr__agg_layout_t *l);
/* Writes acc's packed form to out (wr__agg_packed_size bytes); v[k] (k < l->nsketch) gets the
 * k-th sketch's entries, which follow it (borrowed until acc or the pool next changes). Returns
 * their bytes. */
size_t wr__acc_pack(const wr__agg_layout_t *l, const uint8_t *acc, uint8_t *out,
                    const wr__sketch_pool_t *sk, wr__sketch_view_t *v);
/* The bytes of the packed form at p (len bytes available), without reading it: 0 when len is
 * short of them. */
size_t wr__acc_packed_len(const wr__agg_layout_t *l, const void *p, size_t len);
/* The reverse: the packed form at p (len bytes available; no alignment needed) into the live
 * accumulator acc (l->size bytes), its sketches validated and loaded; *used the bytes taken.
 * WR_EPROTO (short, a bad entry), WR_ENOMEM: acc's sketch fields are then zero and nothing stays
 * allocated. */
int wr__acc_unpack(const wr__agg_layout_t *l, uint8_t *acc, const void *p, size_t len, size_t *used,
                   wr__sketch_pool_t *sk);
/* Frees acc's sketches and zeroes its sketch fields (the other fields stay). */
void wr__acc_free_sketches(const wr__agg_layout_t *l, uint8_t *acc, wr__sketch_pool_t *sk);

#endif
