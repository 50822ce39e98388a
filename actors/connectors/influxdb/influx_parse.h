/* A strict reader of one line of InfluxDB line protocol, as InfluxDB 1.x reads it: the check that
 * what the formatter (influx_line.h) writes reads back to the values it was given (the tests and
 * the fuzz target use it), not a source of points for jobs.
 *
 * Escapes: in a measurement, tag keys, tag values and field keys a backslash pairs with the next
 * byte; the pair stands for that byte when it is ',' ' ' or '=' ('=' not in a measurement), else
 * for both bytes as they are (InfluxDB 1.x's scanner and unescaping). A string field value is in
 * double quotes, where \" and \\ stand for " and \. Field values: an integer with 'i', a float
 * (strtod's syntax, finite), true/false (t, T, True, TRUE, f, ... too), or a string. A timestamp
 * is an integer. One line, no '\n' outside a string field. Nothing is empty but the tag set. */
#ifndef WR_INFLUX_PARSE_H
#define WR_INFLUX_PARSE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "bus/base/strbuf.h"

#define WR_INFLUX_PARSE_MAX 64 /* tags, and fields, of a point */

enum wr_influx_kind { WR_INFLUX_INT, WR_INFLUX_FLOAT, WR_INFLUX_BOOL, WR_INFLUX_STRING };

typedef struct {
    size_t key, key_len; /* unescaped, in the point's text */
    size_t val, val_len; /* tags and strings: unescaped, in the point's text */
    enum wr_influx_kind kind;
    int64_t i; /* INT, BOOL (0 or 1) */
    double f;  /* FLOAT */
} wr_influx_pair_t;

typedef struct {
    wr_strbuf_t text; /* every unescaped name and string, back to back */
    size_t m_len;     /* the measurement: text[0, m_len) */
    uint32_t ntags, nfields;
    wr_influx_pair_t tag[WR_INFLUX_PARSE_MAX], field[WR_INFLUX_PARSE_MAX];
    int64_t ts;
} wr_influx_point_t;

void wr_influx_point_init(wr_influx_point_t *p);
void wr_influx_point_release(wr_influx_point_t *p);

/* Reads line[0, len) (no newline at its end) into p (its previous contents replaced). 0, or
 * WR_EPROTO when it is not one strict line (p's contents unspecified then), WR_ENOMEM. */
int wr_influx_parse_line(const char *line, size_t len, wr_influx_point_t *p);

#endif
