/* The window engine: keyed event-time windows (tumbling, sliding, session) over column batches.
 *
 * One engine per window-operator subtask; a pure data structure (no actors, no I/O, no threads).
 * The operator decodes a record batch into aligned columns: key ids (u64; the operator maps its
 * key values to ids), event times (i64 ms) and one double column per aggregate input, and calls
 * wr_window_add; on each watermark it calls wr_window_advance. Results come back in batches
 * through a callback, column by column.
 *
 * Semantics (Flink's WindowOperator with an event-time trigger):
 * - Tumbling windows of `size`: [k size, (k+1) size). Sliding windows of `size` every `slide`
 *   (slide <= size): [k slide, k slide + size). Sessions: a record at t opens [t, t + gap);
 *   windows of a key that overlap or touch merge.
 * - A window [s, e) fires once the watermark W reaches its last instant: e - 1 <= W, if it holds
 *   data. Its state is cleaned up once W >= e - 1 + allowed_lateness.
 * - A record none of whose windows is still there (all cleaned up) is too late: it goes to the
 *   sink's `late` callback and the dropped_late counter, never silently lost. (Records whose event
 *   time is outside [WR_WINDOW_TS_MIN, WR_WINDOW_TS_MAX] are handled the same way.)
 * - A late record that still has windows (within allowed lateness) is added, and every window
 *   containing it whose end the watermark has passed fires again at once with its full updated
 *   result, marked late (Flink fires per late element). A record only updates windows not yet
 *   cleaned up.
 * - Results within one call come in no particular key order; for one key and window, re-fires come
 *   in record order.
 *
 * How (sliced windows). Tumbling and sliding windows are cut into panes of length
 * gcd(size, slide); a record updates exactly one pane of its key, and a window's result is the
 * merge of its size/pane panes when it fires. Per key the engine keeps one dense entry: the key and
 * a ring of R pane accumulators packed back to back (28 bytes for count/sum/min/max: no padding,
 * no per-pane header), where R = the most panes that can be live at once up to the watermark
 * (size/pane plus allowed lateness in panes: 10 for 10 min / 1 min; plus the panes records ahead of
 * the watermark open, when the spec says how far ahead they run and many keys do: ahead_ms,
 * key_interval_ms). All keys share one time axis,
 * so ring slot j of every key holds the one live pane p with p mod R = j: no per-key bookkeeping.
 * Live panes the ring does not reach (ahead of the watermark: the few seconds of out-of-orderness
 * in which a key needs an 11th pane, if the ring has no room for it; or late data older than where
 * a fresh engine started its ring) go to a small spill table per key, and move into the ring once
 * a sweep frees their slot.
 * A u32 hash index maps key ids to entries (keytable.h). A batch is added in three passes: classify
 * and hash; look up and prefetch every record's entry; update. Firing is one sequential sweep over
 * the live entries when the watermark crosses a window end or a cleanup time (no timers, no
 * per-window objects), 64 keys at a time, field by field; keys whose panes have all expired are
 * removed. Sessions keep per key a sorted list of session accumulators, each with one lazily
 * updated timer. Memory: 8 + R x accumulator bytes per live key plus ~5 bytes of index: 5M keys x
 * 10 panes of count/sum/min/max = 1.47 GB (29.4 bytes per pane; `weir bench window --state`).
 *
 * Costs: a record costs about three cache-line fetches (index, key, pane), prefetched a batch at a
 * time; a sweep reads every live entry once (memory bound: ~0.1 s for 5M keys here), so a stream
 * with fewer records per key and slide than windows to emit spends most of its time emitting.
 *
 * First touch of fresh memory is expensive here (a fault and a zeroing: ~1 ms per 2 MiB page, the
 * whole of 1.5 GB costs ~2 s): with `prefault` wr_window_new pays it for expected_keys keys up
 * front, so the data path never does; the memory then counts from the start.
 *
 * Limits: at most 2^26 - 2 live keys and 2^32 - 1 records per pane or session per key; size, slide,
 * gap and allowed lateness at most 2^50 ms; R at most WR_WINDOW_MAX_RING panes.
 *
 * Not thread-safe: one thread drives an engine. State is in a few flat arrays (entries, index,
 * spill, sketch blocks, session nodes) so a snapshot can serialize it later. */
#ifndef WR_WINDOW_H
#define WR_WINDOW_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "actors/dataflow/window/agg.h"

typedef struct wr_window wr_window_t;

typedef enum { WR_WINDOW_TUMBLING = 1, WR_WINDOW_SLIDING, WR_WINDOW_SESSION } wr_window_kind_t;
typedef enum { WR_WINDOW_BACKEND_MEMORY = 0, WR_WINDOW_BACKEND_ROCKSDB } wr_window_backend_t;

#define WR_WINDOW_TS_MIN        (-((int64_t)1 << 60)) /* valid event times, ms */
#define WR_WINDOW_TS_MAX        ((int64_t)1 << 60)
#define WR_WINDOW_MAX_RING      4096
#define WR_WINDOW_DEFAULT_ALPHA 0.01

typedef struct {
    wr_window_kind_t kind;
    int64_t size_ms;     /* tumbling and sliding */
    int64_t slide_ms;    /* sliding: 0 < slide <= size */
    int64_t gap_ms;      /* session */
    int64_t lateness_ms; /* allowed lateness, >= 0 */
    uint32_t ncols;      /* double input columns per record */
    uint32_t naggs;      /* 1..WR_AGG_MAX_AGGS */
    wr_agg_t aggs[WR_AGG_MAX_AGGS];
    uint64_t expected_keys;  /* pre-sizes the index and reserves entry memory (0: small) */
    bool prefault;           /* touch the memory of expected_keys keys now (see below) */
    int64_t ahead_ms;        /* sliced kinds: how far records may run ahead of the watermark
                                (its bounded out-of-orderness; >= 0). The ring gets room for the
                                panes they open before the watermark frees older ones, so they
                                need not spill: one slot per key more for ahead_ms <= a pane,
                                at most size/pane more. Memory backend only. Worth it when many
                                keys have such records at each slide: see key_interval_ms */
    int64_t key_interval_ms; /* the usual event time between two records of one key (0: not
                               known). The ring makes room for ahead_ms only when that is at
                               most 4 x ahead_ms (or not known): a quarter of the keys or more
                               would spill at every slide (a hash look-up per record and a slow
                               sweep of the key). With fewer, the spill is the cheaper way: a
                               slot more is memory and sweep bandwidth for every key */
    uint32_t ring_panes;     /* sliced kinds: ring slots per key; 0 = the minimum (see above, with
                                ahead_ms). More costs memory per key and spares the spill table
                                when data runs further ahead of the watermark */
    double sketch_alpha;     /* quantiles' relative accuracy; 0 = WR_WINDOW_DEFAULT_ALPHA */

    /* State backend (see window_rocks.h). memory (0): everything above. rocksdb: tumbling and
     * sliding only (every aggregate, quantiles included), at most 64 panes per window (size /
     * gcd(size, slide); else WR_EINVAL); only the open panes stay in memory, closed ones go to a
     * RocksDB pane store in state_dir (created; must not hold another engine's store).
     * ring_panes and prefault are ignored; expected_keys pre-sizes the open panes. */
    wr_window_backend_t backend;
    const char *state_dir;    /* rocksdb: the store's directory (copied by wr_window_new) */
    uint32_t max_parallelism; /* rocksdb: key groups of the stored keys (0: 128) */
    /* rocksdb: the key group of a key id (< max_parallelism); NULL: wr_key_group of
     * wr_hash_u64(key) (keygroup.h) */
    uint32_t (*key_group)(void *ctx, uint64_t key);
    void *key_group_ctx;
    uint64_t cache_bytes; /* rocksdb: the store's block cache (0: 64 MiB) */
} wr_window_spec_t;

/* A batch of results, as columns of n rows. Row i: window [start[i], end[i]) of key[i], with
 * count[i] records, val[a][i] the value of aggregate a (spec order; count as a double too), and
 * late[i] = 1 when fired by a late record rather than by the watermark. Borrowed: valid during
 * the callback only. */
typedef struct {
    size_t n;
    const uint64_t *key;
    const int64_t *start;
    const int64_t *end;
    const uint64_t *count;
    const uint8_t *late;
    const double *const *val;
} wr_window_results_t;

/* Where results and too-late records go. Either callback may be NULL (results or rows are then
 * dropped after counting: for benchmarks). `late` gets the batch row indices (ascending) of the
 * records that were too late, once per wr_window_add. `full` (optional) is asked during a firing,
 * after results went to `emit`: true pauses the firing (see wr_window_advance), so one firing of
 * millions of results never has to queue them all downstream. The callbacks copy what they need
 * and must not call back into the engine. */
typedef struct {
    void (*emit)(void *ctx, const wr_window_results_t *r);
    void (*late)(void *ctx, const uint32_t *rows, size_t n);
    bool (*full)(void *ctx);
    void *ctx;
} wr_window_sink_t;

typedef struct {
    uint64_t keys_live;
    uint64_t panes_live;    /* non-empty panes (ring and spill); sessions: live sessions */
    uint64_t spill_panes;   /* of which in the spill table */
    uint64_t memory_bytes;  /* accounted: index, entries in use, spill, sketches, sessions */
    uint64_t records_added; /* records that updated state */
    uint64_t windows_fired; /* results emitted, re-fires included */
    uint64_t late_refires;  /* results fired by late records */
    uint64_t dropped_late;  /* records too late (or out of range), sent to `late` */
    uint64_t sketches;      /* live quantile sketches (per non-empty pane and quantile column) */
    int64_t watermark;
    uint32_t ring_panes; /* R (sliced kinds) */
    int64_t pane_ms;     /* pane length (sliced kinds) */
} wr_window_stats_t;

/* Why a spec is refused (wr_window_check): what (a phrase, static), and the aggregate it is about
 * (its index in spec->aggs; -1 for none in particular). */
typedef struct {
    const char *why;
    int agg;
} wr_window_refusal_t;

/* Whether wr_window_new accepts spec, as far as the spec tells: the checks wr_window_new runs
 * itself (kind, sizes, aggregates and columns, what the backend supports), without allocating
 * or opening anything. Not checked: the memory backend's ring size (at most WR_WINDOW_MAX_RING
 * panes: the topology's own limit, topology.h, keeps within it) and the store's directory. 0, or
 * WR_EINVAL with *out (if out) saying why. */
int wr_window_check(const wr_window_spec_t *spec, wr_window_refusal_t *out);

/* An engine for spec. NULL on error with *err (if err) set: WR_EINVAL for a bad spec (kind,
 * sizes, aggregates, columns, ring too small or too large; see backend and wr_window_check),
 * WR_ENOMEM, WR_EIO (the rocksdb backend's store). Every function below works for both
 * backends. */
wr_window_t *wr_window_new(const wr_window_spec_t *spec, int *err);
/* Frees all state. NULL-safe; nulls *w. */
void wr_window_destroy(wr_window_t **w);

/* Adds n records: keys[i], ts[i] and cols[c][i] for each input column c (cols may be NULL when
 * ncols is 0). Late re-fires go to sink->emit during the call, too-late rows to sink->late.
 * Returns 0, WR_EINVAL (NULL arrays with n > 0, n > UINT32_MAX), WR_ETOOBIG (too many keys) or
 * WR_ENOMEM; after an error some records of the batch may have been applied (each record fully
 * or not at all): treat the engine as failed (restore from a checkpoint). */
int wr_window_add(wr_window_t *w, const uint64_t *keys, const int64_t *ts,
                  const double *const *cols, size_t n, const wr_window_sink_t *sink);

/* Moves the watermark to `watermark` (ignored unless it is later than the current one): fires
 * every window with data whose end - 1 <= watermark that has not fired yet, and drops the state no
 * window needs any more (keys with none left). Watermarks past every window's cleanup (INT64_MAX
 * at the end of a stream) are fine. Returns 0; WR_EAGAIN when sink->full paused the firing part
 * way (results stand; the engine is at the old watermark until the firing completes: call
 * wr_window_resume, and nothing else that changes the engine, until it returns 0); or WR_ENOMEM
 * (sketch or sweep scratch; rocksdb: also WR_EIO, WR_EPROTO from the store): the results emitted so
 * far stand, but treat the engine as failed. WR_EINVAL while a firing is paused. */
int wr_window_advance(wr_window_t *w, int64_t watermark, const wr_window_sink_t *sink);
/* Goes on with a paused firing: 0 once it completed (also when none was paused), WR_EAGAIN when it
 * paused again, or an error as wr_window_advance. */
int wr_window_resume(wr_window_t *w, const wr_window_sink_t *sink);
/* True while a firing is paused: wr_window_add and wr_window_advance refuse (WR_EINVAL). */
bool wr_window_paused(const wr_window_t *w);

/* The current watermark (WR_WINDOW_TS_MIN - 1 before the first advance). */
int64_t wr_window_watermark(const wr_window_t *w);
/* Counters and sizes, cheap (no walk over the state). */
void wr_window_stats(const wr_window_t *w, wr_window_stats_t *out);

#endif
