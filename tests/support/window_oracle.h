/* A brute-force oracle of wr_window and a driver that runs the engine and it side by side.
 *
 * The oracle follows Flink's WindowOperator literally: for every record, every window containing
 * it (or, for sessions, the merged session) keeps the raw record; a window fires when the
 * watermark passes its end, a late record re-fires its windows, cleaned-up windows are gone and a
 * record with no window left goes to the side output. Aggregates are recomputed from the raw
 * records in arrival order (sums pane by pane, as window.h/agg.h define the order), so results
 * must match the engine exactly, record for record.
 *
 *     wo_run_t r = {.spec = {.kind = WR_WINDOW_TUMBLING, .size_ms = 5000}, .seed = 1, .nkeys = 4,
 *                   .batches = 250, .max_batch = 120, .step = 40, .jitter = 3000};
 *     wo_all_aggs(&r.spec);
 *     wo_stats_t st = wo_run(&r);   // fails the test at the first difference
 *
 * The records have WO_NCOL value columns. */
#ifndef WR_TEST_WINDOW_ORACLE_H
#define WR_TEST_WINDOW_ORACLE_H

#include <stdbool.h>
#include <stdint.h>

#include "actors/dataflow/window/window.h"

#define WO_NCOL 2

/* A random run: its stream, its watermarks, its sink. */
typedef struct {
    wr_window_spec_t spec;
    uint64_t seed;
    uint32_t nkeys;
    uint32_t batches;
    uint32_t max_batch;
    int64_t t0;
    int64_t step;      /* max event-time advance per record */
    int64_t jitter;    /* bounded out-of-orderness */
    double late_frac;  /* records placed behind the watermark */
    int64_t late_span; /* how far behind */
    bool dyadic;       /* values k/8: sums exact in any order (sessions) */
    bool pause;        /* the sink keeps pausing firings */
    bool steady_wm;    /* every batch moves the watermark to max_ts - jitter - 1 */
} wo_run_t;

/* What a run saw, from the engine's statistics and its sink. */
typedef struct {
    uint64_t fired, refires, dropped, spill_max, keys_max, pauses;
} wo_stats_t;

/* Drives engine and oracle with the same stream and watermarks (batches of 0 to max_batch
 * records, a watermark after each: mostly max_ts - jitter - 1, sometimes standing still, going
 * back or jumping far ahead), comparing their results after every call; then the final watermark,
 * after which no state may be left. Fails the test (cmocka) at the first difference. */
wo_stats_t wo_run(const wo_run_t *r);

/* spec's columns (WO_NCOL) and aggregates: every kind, quantiles at 0, 0.5, 0.95 and 1 included. */
void wo_all_aggs(wr_window_spec_t *s);
/* count, sum, min and max of column 0. */
void wo_basic_aggs(wr_window_spec_t *s);

/* Quantiles never leave the window's [min, max] (agg.h): with spec's kind, times and backend
 * (its aggregates are replaced), a key whose values all sit just above a sketch bucket's lower
 * end (the bucket reads back above them) and one whose values sit just below its upper end get
 * p95 and p0 equal to their value, on a column with min and max asked for and on one without.
 * Every window must hold all of the records, at times 10 to 49 (tumbling of 1000 ms, sliding ones
 * of at least that, sessions). */
void wo_check_clamp(const wr_window_spec_t *spec);

#endif
