/* Internal to the checker of `weir chaos` (chaos_check.h), shared by its files and its tests: the
 * parser of one result line (chaos_check_line.c; the fuzz target tests/fuzz/fuzz_chaos_lines.c
 * builds it alone, so it depends on bus/base only) and the oracle's table of expected results
 * (chaos_check_expect.c). */
#ifndef WR__CHAOS_CHECK_INT_H
#define WR__CHAOS_CHECK_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "cli/chaos_check.h"

/* One result of the job: what a line of the sink says, or what the oracle expects. */
typedef struct {
    int64_t device;
    int64_t start, end; /* window_start, window_end (epoch ms) */
    int64_t n;
    double lo, hi, sum;
} wr__chaos_row_t;

/* Parses one line of the sink's output (len bytes, without its '\n'): exactly one JSON object
 * (bus/base/jsonr.h, strict) with each of the keys device, window_start, window_end, n (JSON
 * integers), lo, hi, sum (JSON numbers) exactly once and no other key. 0 with *row filled, or
 * WR_EPROTO with why a line is refused (a phrase, NUL-terminated, cut to cap bytes) in why. Any
 * bytes give one of the two; nothing is allocated. */
int wr__chaos_parse_line(const char *line, size_t len, wr__chaos_row_t *row, char *why, size_t cap);

/* The device D of a line that begins as the sink writes it ({"device":D, with D of at most 10
 * digits), read without parsing the rest: true with *device set, false for any other line. When
 * it is true and the line parses, the parsed device is D (the checker's passes rely on it). */
bool wr__chaos_line_device(const char *line, size_t len, int64_t *device);

/* Writes row as the sink writes it (no newline) into out, cut to cap bytes with a NUL. */
void wr__chaos_format_row(const wr__chaos_row_t *row, char *out, size_t cap);

/* ---- the oracle's expected results ---- */

typedef struct wr__chaos_expect wr__chaos_expect_t;

#define WR__CHAOS_ENTRY_BYTES 32 /* of one result in the table */

/* The expected result of every (device, window start) that has records, for the devices
 * [lo, hi) only: one pass over the generator's offsets [0, j->gen.total), adding each record of
 * those devices to every sliding window holding it (starts aligned to the epoch: k * slide with
 * ts - size < start <= ts). The table is sized once, to wr__chaos_expect_bytes(j, hi - lo), and
 * never grows. The job must be in range (wr__chaos_job_check). NULL on WR_ENOMEM, WR_EINVAL (a
 * generator configuration it refuses) with *err set (may be NULL). */
wr__chaos_expect_t *wr__chaos_expect_new(const wr_chaos_job_t *j, int64_t lo, int64_t hi, int *err);
void wr__chaos_expect_destroy(wr__chaos_expect_t **e);
/* The bytes of the table for any `devices` devices of job j: slots for an upper bound on their
 * results (every reading of a device in one span of event time), at most 70% full, a power of
 * two. */
uint64_t wr__chaos_expect_bytes(const wr_chaos_job_t *j, uint64_t devices);
/* The most devices whose table takes at most mem_max bytes (at most j->gen.devices; 0 when not
 * even one device's does). */
uint64_t wr__chaos_expect_devices_max(const wr_chaos_job_t *j, uint64_t mem_max);
/* Whether every window of job j, counted in slides from its first, is below 2^32 (the table keys
 * a window by that count). */
bool wr__chaos_windows_fit(const wr_chaos_job_t *j);
/* Results in the table. */
uint64_t wr__chaos_expect_count(const wr__chaos_expect_t *e);
/* The result of (device, start): true with *row (if row) filled, false when there is none (also
 * for a device outside the table's range). */
bool wr__chaos_expect_get(const wr__chaos_expect_t *e, int64_t device, int64_t start,
                          wr__chaos_row_t *row);
/* Marks a line found for its key (device, start), whose values match: the number of lines now
 * seen for it (1 the first time), or 0 when there is no such result. */
uint32_t wr__chaos_expect_see(wr__chaos_expect_t *e, int64_t device, int64_t start);
/* Walks every result: fn(ctx, row, seen) with the lines seen for it, in no particular order. */
void wr__chaos_expect_each(const wr__chaos_expect_t *e,
                           void (*fn)(void *ctx, const wr__chaos_row_t *row, uint32_t seen),
                           void *ctx);

/* Why job j is out of range, or NULL when it is in range (a static phrase). */
const char *wr__chaos_job_check(const wr_chaos_job_t *j);

#endif
