/* The live status line of a followed job (`weir local`, `weir submit --wait` on a terminal): what
 * it says, from the job's counters sampled at every poll. Pure: no I/O, no clock (the caller
 * passes the times), so that the tests can say exactly what a user sees (status_tty.h draws it).
 *
 *   RUNNING 12 s  in 1,234,567 (45,678/s)  out 1,200 (96/s)  windows 1,200  late 0
 *   watermark 2026-12-04T12:00:03Z (lag 2.1 s)  backpressure 0
 *
 * (one line). Rates are over the last two seconds of samples (the subtasks report their counters
 * every second, so a rate between two polls half a second apart would read 0/s every other poll);
 * counts have thousands separators; the watermark is UTC, to the second, with its lag behind wall
 * clock when it is within WR_STATUS_LIVE_MS of it (live data; a job replaying last year's events
 * would show a lag of a year, which says nothing: the watermark alone then). The line is cut to the
 * terminal's width so that it never wraps (a wrapped line cannot be redrawn in place). */
#ifndef WR_STATUS_LINE_H
#define WR_STATUS_LINE_H

#include <stddef.h>
#include <stdint.h>

#define WR_STATUS_SAMPLES   8                    /* kept for the rates: 4 s at two polls a second */
#define WR_STATUS_RATE_MS   2000                 /* the rates' window */
#define WR_STATUS_COUNT_MAX 27                   /* "18,446,744,073,709,551,615" and its NUL */
#define WR_STATUS_LIVE_MS   (24 * 3600 * 1000LL) /* a watermark this near wall clock is live */

/* One poll's counters: records in at the sources, out of the last operator, windows fired, late
 * records, backpressure events, the job's (lowest) watermark in epoch ms (INT64_MIN or INT64_MAX:
 * none yet), its state, and when it was taken (wall-clock ms). */
typedef struct {
    int64_t at_ms;
    uint64_t in, out, fired, late, backpressure;
    int64_t watermark;
    char state[16];
} wr_status_sample_t;

/* The samples of one followed job, newest last. Zeroed: empty. */
typedef struct {
    wr_status_sample_t v[WR_STATUS_SAMPLES];
    uint32_t n;
    int64_t started_ms; /* the first sample's time: the line's elapsed seconds */
} wr_status_t;

/* Adds a sample (the oldest goes when full). */
void wr_status_add(wr_status_t *s, const wr_status_sample_t *sample);

/* Records per second of the newest sample's in (or out) over the last WR_STATUS_RATE_MS: against
 * the newest sample at least that old, else the oldest. -1 when there is no earlier sample or
 * the counter went back (a restart starts it over). */
double wr_status_rate_in(const wr_status_t *s);
double wr_status_rate_out(const wr_status_t *s);

/* v with a comma every three digits ("1,234,567") into out (WR_STATUS_COUNT_MAX bytes, NUL
 * included); returns its length. */
size_t wr_status_count(uint64_t v, char out[WR_STATUS_COUNT_MAX]);

/* A duration in ms as a user reads it: "850 ms", "2.1 s", "42 s", "3 min 04 s", "2 h 05 min",
 * "3 d 04 h" (negative: the same, with a '-'), into out (cap bytes); returns out. */
const char *wr_status_duration(int64_t ms, char *out, size_t cap);

/* The status line of the newest sample (nothing when there is none), at most cols - 1 columns
 * (cols 0: no limit; the line is ASCII, a byte a column), into out (cap bytes, NUL included);
 * returns its length. now_ms is the wall clock the watermark's lag is measured against. */
size_t wr_status_format(const wr_status_t *s, int64_t now_ms, unsigned cols, char *out, size_t cap);

#endif
