/* Numbers and times as text: exactly s[0, len) (no NUL needed, no whitespace, no locale), what
 * JSON lines, CSV, topology files and configuration values are made of. Hand-written for speed
 * (~7 M numbers/s, against strtod's locale and NUL-termination): the file source parses every
 * field of every line with them. The counterpart of numfmt.h.
 *
 * Each returns 0 or WR_EINVAL (bad syntax) / WR_ETOOBIG (out of range; WR_ENOMEM when the rare
 * slow path of wr_parse_double cannot copy its input), leaving *out untouched on failure. */
#ifndef WR_NUMPARSE_H
#define WR_NUMPARSE_H

#include <stddef.h>
#include <stdint.h>

/* A decimal integer with an optional '-': -12, 0, 9223372036854775807. */
int wr_parse_int(const char *s, size_t len, int64_t *out);
/* A decimal number as JSON writes it (also with leading zeros), correctly rounded: an exact
 * fast path (Clinger's: up to 2^53 times 10^±22), a second one for up to 19 digits times 10^±27
 * (x86-64's extended precision: the 17 digits a double printed in full needs), strtod only for
 * the rare number beyond, or one the second path cannot round for sure. */
int wr_parse_double(const char *s, size_t len, double *out);
/* A time as epoch milliseconds: an integer, or ISO-8601 in UTC: 2024-05-29, 2024-05-29T16:26:40,
 * with a fraction of a second (.5 to .123456789, truncated to ms), then Z, +hh:mm, +hhmm, or
 * nothing (UTC); a space may stand for the T. Years 0000-9999. */
int wr_parse_time(const char *s, size_t len, int64_t *out);

#endif
