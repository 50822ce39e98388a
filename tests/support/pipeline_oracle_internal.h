/* Internal to the pipeline oracle (pipeline_oracle.c and pipeline_oracle_session.c): aggregates
 * recomputed from records, their comparison with a result line, a dense map of pairs, and the
 * failure text. */
#ifndef WR_TEST_PIPELINE_ORACLE_INTERNAL_H
#define WR_TEST_PIPELINE_ORACLE_INTERNAL_H

#include "tests/support/arith.h"
#include "tests/support/pipeline_oracle.h"

/* Appends one line (printf) to why. */
void po_fail(wr_strbuf_t *why, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
int po_cmp_i64(const void *a, const void *b);

typedef struct {
    double v[PO_NAGG];
    double first_c[8], last_c[8]; /* values tied at the first / last time (unordered checks) */
    int nfirst_c, nlast_c;
} po_agg_t;

typedef struct {
    int64_t *key; /* pane << 32 | position, for sorting */
    double *val;
    size_t cap;
} po_scratch_t;

/* Makes room for n records in s. */
void po_scratch_reserve(po_scratch_t *s, size_t n);
void po_scratch_release(po_scratch_t *s);

/* The aggregates of records idx[0..n) (given in arrival order) as the window engine computes
 * them: with pane_ms > 0 a sum is 0.0 + the sums of its non-empty panes in time order, a pane's
 * sum 0.0 + its values in arrival order (agg.h); with pane_ms = 0 one sum in arrival order. avg is
 * sum / count; stddev the population one, two-pass in long double; first/last the value at the
 * smallest / largest time, ties to the earliest / latest arrival; the quantile the exact value of
 * rank floor(q (n - 1)). */
void po_aggregate(const po_input_t *in, const uint32_t *idx, size_t n, int64_t pane_ms, double q,
                  po_scratch_t *sc, po_agg_t *a);

/* Checks a result's aggregates against a. exact: sums, avg, first and last bit for bit; else sums
 * and avg within 1e-9 relative and first/last any value tied at the extreme time. Stddev within
 * 1e-9 relative, the quantile within the sketch's bound (sketch.h). NULL if they match, else the
 * first difference (in buf). */
const char *po_compare(const po_result_t *r, const po_agg_t *a, bool exact, double alpha, char *buf,
                       size_t cap);

/* A map (a, b) -> dense index. */
typedef struct {
    int64_t *a, *b;
    uint32_t *slot; /* index + 1; 0 = empty */
    size_t cap, n;
} po_map_t;

/* The index of (a, b), or UINT32_MAX; with add, a new index for a new pair. */
uint32_t po_map_get(po_map_t *m, int64_t a, int64_t b, bool add);
void po_map_release(po_map_t *m);

#endif
