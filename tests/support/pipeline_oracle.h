/* The brute-force oracle of test_pipeline: what a windowed job must output for an input the test
 * knows record by record, recomputed from the semantics in actors/dataflow/window/window.h and
 * agg.h, and the checks of a job's output against it. Pure (no processes, no files); po_ is for
 * "pipeline oracle" (pipeline_oracle.c: aggregates, the late sink, sliced windows;
 * pipeline_oracle_session.c: sessions).
 *
 * What is deterministic and what is not. A job's window sees its records in an order fixed per
 * input channel (a source subtask's records arrive in offset order), but how channels interleave
 * and where watermarks fall between records depend on timing, as in Flink. So:
 *  - An on-time record is never late: max_out_of_orderness covers the generator's jitter, so the
 *    watermark is below its time when it arrives, and every window containing it has it.
 *  - A late record is in a window exactly when it arrived before the window was cleaned up (the
 *    watermark reached end - 1 + allowed lateness). The watermark it met is unknown, but bounded
 *    above by ub: the latest time of the records its source made before it, minus
 *    max_out_of_orderness, minus 1 (a source's watermark never passes what it has sent, and a
 *    window subtask's is the minimum over its input channels). It never decreases from one record
 *    of a channel (one source subtask to one window subtask) to the next.
 *  - With each key's records in one channel ("ordered": a device key whose device count is a
 *    multiple of the source parallelism, or one source subtask), the records of a window that
 *    arrived before its cleanup are the on-time ones plus a prefix of its late ones in arrival
 *    order. So every result of a window (first firing and late re-firings alike) must equal the
 *    exact aggregates of its on-time records plus its first j late ones, for j growing from
 *    result to result; sums bit for bit, as agg.h fixes their order. The last j says which late
 *    records the window took. Then: a record is in the late sink exactly when no window took it;
 *    never an on-time one; each window that did not take a record was cleaned up below the
 *    record's ub; and one non-decreasing watermark per channel explains every take and every
 *    refusal at once.
 *  - Sessions depend on the watermark in more ways (a late record merges only with sessions not yet
 *    cleaned up). For each key the oracle replays the session engine record by record, and where
 *    the unknown watermark could change the outcome it tries every outcome the bounds allow (a
 *    search with backtracking): the job passes when one non-decreasing watermark explains the late
 *    sink and every result, each result being a state some session had, and each session's final
 *    state its last result.
 *  - Keys spread over several channels ("unordered", e.g. a region key at parallelism 4) are only
 *    checked with late records that can never be too late: every window gets every record; sums
 *    and means within 1e-9 relative (arrival order unknown), first/last any value tied at the
 *    extreme time. */
#ifndef WR_TEST_PIPELINE_ORACLE_H
#define WR_TEST_PIPELINE_ORACLE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "bus/base/strbuf.h"

/* The aggregates every test job computes, in result order (see test_pipeline.c, s_write_topology).
 */
enum { PO_N, PO_SUM, PO_MIN, PO_MAX, PO_AVG, PO_SD, PO_FIRST, PO_LAST, PO_Q, PO_NAGG };
/* Their field names in a result line. */
extern const char *const po_agg_name[PO_NAGG];

enum { PO_SLIDING, PO_TUMBLING, PO_SESSION };

typedef struct {
    int kind;
    int64_t size, slide, gap, lateness; /* ms; tumbling: slide = size */
    double q;                           /* the quantile aggregate's q */
    double alpha;                       /* its relative accuracy */
} po_window_t;

/* One input record as the window sees it. */
typedef struct {
    int64_t key; /* a device id, or a region's index */
    int64_t ts;
    double val;    /* the aggregated field */
    double tie;    /* the field of first() and last() */
    uint32_t src;  /* its source subtask */
    uint32_t chan; /* the input channel of the window subtask that got it (source subtask x
                      window subtask: the order of a channel is fixed, not between channels) */
    bool late;     /* made late by the generator */
    bool kept;     /* passed the chain's filters: it reaches the window */
    int64_t ub;    /* the highest watermark the window can have had when it arrived */
} po_rec_t;

typedef struct {
    po_rec_t *r; /* channel by channel in arrival order (interleaved: offset order) */
    size_t n;
    uint32_t nsrc, nchan;
    bool ordered; /* each key's records come through one channel */
} po_input_t;

/* One line of a job's results. */
typedef struct {
    int64_t key, start, end;
    double v[PO_NAGG]; /* v[PO_N]: the count; NaN for null */
} po_result_t;

/* One line of a window's late sink. */
typedef struct {
    int64_t key, ts;
    double val, tie;
} po_late_t;

typedef struct {
    uint64_t windows;       /* (key, window) pairs with results */
    uint64_t results;       /* result lines */
    uint64_t refires;       /* results after a window's first */
    uint64_t too_late;      /* records in the late sink */
    uint64_t late_taken;    /* late records every one of whose windows took them */
    uint64_t late_partial;  /* late records some windows took and others had cleaned up */
    uint64_t branch_points; /* sessions: records whose outcome the watermark bounds left open */
} po_stats_t;

/* floor(a / b) for b > 0, also for negative a. */
int64_t po_floor_div(int64_t a, int64_t b);

/* A hash of the pair (a, b) into [0, cap), cap a power of two. */
size_t po_map_hash(int64_t a, int64_t b, size_t cap);

/* Sets every record's ub from the records its source made before it, kept or not (a source makes
 * its watermarks before the chain filters). INT64_MIN for a source's first record. */
void po_input_bounds(po_input_t *in, int64_t ooo);

/* Marks in late_sink[] the records the late sink gave back: each line must be a record that
 * reached the window (same key, time and values), each only once, and a late one: an on-time
 * record is never too late. False, with the first line that is not appended to why, otherwise. */
bool po_match_late(const po_input_t *in, const po_late_t *lines, size_t n, bool *late_sink,
                   wr_strbuf_t *why);

/* Checks the results of a tumbling or sliding job (res: the result lines in file order) against
 * the input, as the top of this file explains. On a mismatch false, with what differs appended to
 * why; st counts what it saw. */
bool po_check_sliced(const po_input_t *in, const po_window_t *w, const po_result_t *res,
                     size_t nres, const bool *late_sink, po_stats_t *st, wr_strbuf_t *why);

/* Checks the results of a session job (ordered input only) as the top of this file explains;
 * false with the reason in why (the furthest the replay of a key got) when no watermark explains
 * them. */
bool po_check_sessions(const po_input_t *in, const po_window_t *w, const po_result_t *res,
                       size_t nres, const bool *late_sink, po_stats_t *st, wr_strbuf_t *why);

#endif
