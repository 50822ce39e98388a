/* Fast number and time formatting: the exact text printf would write, without printf.
 * The sinks format millions of values per window firing; printf's format parsing and locale
 * machinery were most of their CPU.
 *
 * Every function writes into out (at least the size its WR_NUMFMT_*_MAX says), writes no NUL, and
 * returns the number of bytes written. None fails and none allocates. Exactness first: where the
 * fast arithmetic cannot prove the result, they fall back to snprintf (rare, see numfmt.c). */
#ifndef WR_NUMFMT_H
#define WR_NUMFMT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define WR_NUMFMT_I64_MAX  20 /* "-9223372036854775808" */
#define WR_NUMFMT_G6_MAX   16 /* "-1.23457e+308" */
#define WR_NUMFMT_JSON_MAX 32 /* "-1.2345678901234567e-308" */
#define WR_NUMFMT_TIME_MAX 40 /* years beyond 9999 and before 0 grow the text */

/* "%lld". */
size_t wr_numfmt_i64(char *out, int64_t v);

/* "%.6g", identical to glibc's for every double (-0, inf, nan included). May write all
 * WR_NUMFMT_G6_MAX bytes of out (the bytes after the text are scratch). */
size_t wr_numfmt_g6(char *out, double v);

/* A JSON number that reads back to exactly v: the shortest of "%.15g", "%.16g", "%.17g" that
 * round-trips through strtod, with ".0" appended when that text has no '.' or exponent (so that it
 * stays a JSON double). Non-finite values (not JSON numbers) give "null". */
size_t wr_numfmt_json_double(char *out, double v);

/* Remembers the times formatted last: rows of one window firing share window_start/window_end,
 * and an end-of-input (or catch-up) firing emits each key's windows in turn, so a column cycles
 * through a handful of bounds (11 for 10-minute windows sliding by 1 minute). Up to
 * WR_NUMFMT_TIME_WAYS of them (years 0..9999) are kept as text, replaced in turn; a time is looked
 * for at the entry used last, then the one after it (a cycle comes round in order), then among all.
 * A zeroed struct is an empty cache; keep one per column. */
#define WR_NUMFMT_TIME_WAYS 16
#define WR_NUMFMT_TIME_LEN  24 /* "2024-01-01T00:00:00.000Z" */

typedef struct {
    uint8_t n;    /* entries in use */
    uint8_t last; /* the entry used last */
    uint8_t next; /* the entry replaced next, once all are in use */
    int64_t ms[WR_NUMFMT_TIME_WAYS];
    char text[WR_NUMFMT_TIME_WAYS][WR_NUMFMT_TIME_LEN];
    bool day_ok; /* date holds day's "YYYY-MM-DDT" */
    int64_t day; /* days since the epoch */
    char date[11];
} wr_numfmt_time_t;

/* Epoch milliseconds as UTC "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ" (what gmtime_r says; negative
 * times count back from 1970, their milliseconds non-negative). */
size_t wr_numfmt_time(wr_numfmt_time_t *cache, int64_t ms, char *out);

#endif
