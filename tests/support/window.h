/* What the window engine tests collect (test_window*.c, test_window_rocks.c): a sink that keeps
 * what an engine emits (results in order, too-late rows), pauses every other time it is asked
 * when told to, and a watermark advance that resumes paused firings while checking that a paused
 * engine refuses records and watermarks. ws_ is for "window support".
 *
 *     ws_out_t got = {.naggs = spec.naggs};
 *     wr_window_sink_t sink = {.emit = ws_emit, .late = ws_late, .ctx = &got};
 *     assert_int_equal(ws_advance(w, 999, &sink), 0);   // got.r[0 .. got.n) are the results
 *     ws_out_free(&got);
 *
 * Every function fails the test (cmocka) on a broken promise of the engine or when memory runs
 * out. */
#ifndef WR_TEST_WINDOW_H
#define WR_TEST_WINDOW_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "actors/dataflow/window/window.h"

/* One result. */
typedef struct {
    uint64_t key;
    int64_t start, end;
    uint64_t count;
    uint8_t late;
    size_t seq; /* order within one collection */
    double v[WR_AGG_MAX_AGGS];
} ws_res_t;

/* What a sink collected; zero-initialise it with naggs (and pausing) set. */
typedef struct {
    ws_res_t *r;
    size_t n, cap;
    uint32_t *late_rows;
    size_t nlate, late_cap;
    uint32_t naggs;
    bool pausing; /* full() says yes every other time it is asked */
    uint64_t asked, pauses;
} ws_out_t;

/* Appends a copy of r (its seq set to its position). */
void ws_out_push(ws_out_t *o, const ws_res_t *r);
/* Forgets what was collected (keeps the memory). */
void ws_out_clear(ws_out_t *o);
/* Frees what was collected. */
void ws_out_free(ws_out_t *o);

/* wr_window_sink_t callbacks, ctx a ws_out_t. ws_emit checks a batch holds 1 to 512 results. */
void ws_emit(void *ctx, const wr_window_results_t *r);
void ws_late(void *ctx, const uint32_t *rows, size_t n);
bool ws_full(void *ctx);

/* wr_window_advance; a paused firing is resumed until done (counted in the sink's ws_out_t pauses),
 * and while it is paused the engine must refuse records and watermarks. Returns the advance's
 * final code. */
int ws_advance(wr_window_t *w, int64_t wm, const wr_window_sink_t *sink);

/* qsort order of results: key, start, end, then arrival. */
int ws_res_cmp(const void *x, const void *y);

#endif
