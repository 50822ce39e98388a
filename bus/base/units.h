/* Values as people write them in configuration and topology files: integers, durations ("500ms",
 * "3s", "2min", "1h"; a bare number is milliseconds), sizes ("512", "64kb", "64mb", "1gb"; binary
 * multiples, a bare number is bytes) and booleans (true/false, yes/no, on/off). Units are matched
 * case-insensitively and may follow the number after spaces. Shared by the configuration (cli/)
 * and the topology files (actors/dataflow/). */
#ifndef WR_UNITS_H
#define WR_UNITS_H

#include <stdint.h>

enum wr_unit_kind { WR_UNIT_INT, WR_UNIT_DURATION, WR_UNIT_SIZE, WR_UNIT_BOOL };

/* Parses the whole NUL-terminated text. Returns 0 with *out set (durations in ms, sizes in
 * bytes, booleans 0/1), WR_EINVAL when it is not such a value (only integers may be negative),
 * or WR_ETOOBIG when it does not fit an int64_t; *out is untouched on failure. */
int wr_parse_value(enum wr_unit_kind kind, const char *text, int64_t *out);

/* ms as the shortest exact duration text that parses back to it ("500ms", "3s", "2min", "1h"),
 * NUL-terminated into out; returns out. */
#define WR_DURATION_TEXT_MAX 24
char *wr_duration_text(int64_t ms, char out[WR_DURATION_TEXT_MAX]);

#endif
