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

/* "%.6g", identical to glibc's for every double (-0, inf, nan included). */
size_t wr_numfmt_g6(char *out, double v);

/* A JSON number that reads back to exactly v: the shortest of "%.15g", "%.16g", "%.17g" that
 * round-trips through strtod, with ".0" appended when that text has no '.' or exponent (so that it
 * stays a JSON double). Non-finite values (not JSON numbers) give "null". */
size_t wr_numfmt_json_double(char *out, double v);

/* Remembers the last time formatted: rows of one window firing share window_start/window_end,
 * and many times share a day. A zeroed struct is an empty cache; keep one per column. */
typedef struct {
    bool valid;
    uint8_t len;
    int64_t ms;  /* the last value formatted, text[0..len) */
    int64_t day; /* its day since the epoch, when the fast form (years 0..9999) was used, else
                    INT64_MIN */
    char text[WR_NUMFMT_TIME_MAX];
} wr_numfmt_time_t;

/* Epoch milliseconds as UTC "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ" (what gmtime_r says; negative
 * times count back from 1970, their milliseconds non-negative). */
size_t wr_numfmt_time(wr_numfmt_time_t *cache, int64_t ms, char *out);

#endif
