/* The comparison of `weir chaos --topology`: the committed lines of a run under faults against
 * those of an uninterrupted reference run of the same job, as multisets. Pure: lines in, a
 * verdict out; nothing here reads a file (cli/chaos_topology.h does).
 *
 * Two lines are the same result when
 *   - both are JSON objects (bus/base/jsonr.h, strict) with the same keys in the same order and,
 *     field by field (nested objects and arrays alike): strings, booleans, null and integers
 *     (numbers written without a fraction or exponent) exactly; other numbers within a relative
 *     1e-9 (|a - b| <= 1e-9 x max(|a|, |b|)): a window's sum or average depends on the order of
 *     its additions, which differs between any two runs. Whitespace between tokens and how a
 *     string is escaped do not matter. A value near 0 that is a difference of large ones (a sum
 *     that cancels out) can differ between runs by more than that: such a job's check fails;
 *   - or, for any other line (not JSON, not an object, malformed, an object with a key of 64
 *     bytes or more or an empty one), byte for byte.
 * Lines of different outputs (sinks; `out` below) never match.
 *
 * In Jepsen's vocabulary, per distinct line of the reference (a line written n times there is
 * one result that must be there n times):
 *     ok          found as many times as in the reference
 *     lost        found fewer times, or never
 *     duplicated  found more times
 * and per line of the run: unexpected when it matches no line of the reference (or came torn or
 * too long: wr_chaos_ref_unexpected). valid = lost, duplicated and unexpected all 0. A line within
 * 1e-9 of two distinct reference lines counts for the first of them not yet found as often as
 * the reference has it (lines within 1e-9 of each other in the reference are one result).
 *
 * Memory: the reference is held in a hash table: each distinct line as written plus about 50
 * bytes (its entry and bucket), and up to as much again while its buffer grows; 10 million
 * distinct lines of 150 bytes take about 2 GB. The run's lines are not held. The reference is
 * limited to 2^32 - 2 distinct lines (WR_ETOOBIG beyond). Cost: each line is parsed once, and
 * again for each reference line it is compared with (those equal but for their non-integer
 * numbers): 1 million distinct lines of 130 bytes (6 fields, 2 with a fraction) took 2.2 s to
 * print and add and 2.1 s to print and match here (AMD EPYC), 166 MB at the peak. Any bytes give a
 * verdict; nothing here crashes on input (tests/fuzz/fuzz_chaos_reference.c). */
#ifndef WR_CHAOS_REFERENCE_H
#define WR_CHAOS_REFERENCE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "cli/chaos_check.h"

#define WR_CHAOS_REF_REL_TOL 1e-9 /* non-integer numbers: relative tolerance */

typedef struct wr_chaos_ref wr_chaos_ref_t;

/* An empty table; NULL when out of memory. */
wr_chaos_ref_t *wr_chaos_ref_new(void);
/* Frees the table; NULL-safe, nulls *p. */
void wr_chaos_ref_destroy(wr_chaos_ref_t **p);

/* One line of the reference (len bytes, without its '\n') of output out. 0, WR_ENOMEM or
 * WR_ETOOBIG (the table is full); the table is as before then. */
int wr_chaos_ref_add(wr_chaos_ref_t *t, uint32_t out, const char *line, size_t len);

/* One line of the run (len bytes, without its '\n') of output out, found at where (a file and
 * line, for the example; may be ""): matched against the reference as the top of this file says.
 * 0, or WR_ENOMEM (nothing counted then). */
int wr_chaos_ref_see(wr_chaos_ref_t *t, uint32_t out, const char *line, size_t len,
                     const char *where);

/* One line of the run that is unexpected without a comparison (torn, too long), why saying so. */
void wr_chaos_ref_unexpected(wr_chaos_ref_t *t, const char *line, size_t len, const char *why,
                             const char *where);

/* The verdict so far into *v (files left 0): expected = the reference's distinct lines, lines =
 * the run's lines seen, the counts and valid; the first lost and duplicated in the reference's
 * order with how many times each was found and wanted, the first unexpected in the run's order
 * with why. */
void wr_chaos_ref_verdict(const wr_chaos_ref_t *t, wr_chaos_verdict_t *v);

#endif
