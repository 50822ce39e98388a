/* InfluxDB line protocol, formatted from record batches straight into one reusable buffer (no
 * allocation per record):
 *
 *   MEASUREMENT[,TAG=VALUE...] FIELD=VALUE[,FIELD=VALUE...] TIMESTAMP\n
 *
 * Escaping (InfluxDB 1.x and 2.x line protocol):
 *   measurement          ',' and ' ' get a backslash
 *   tag keys and values  ',' '=' and ' ' get a backslash (field keys too)
 *   string field values  in double quotes, '"' and '\' get a backslash
 * Values: int and time fields as integers with the 'i' suffix (a time as epoch ms), doubles as
 * the shortest text that reads back exactly (numfmt.h; "x.0" when integral), bools as true or
 * false. A tag's value is the same text without the suffix (strings raw).
 *
 * What line protocol cannot carry, and what happens to it:
 *   - a NaN or infinite double field: the field is left out of its point and counted
 *     (dropped_fields); a point left without a field is skipped and counted (skipped);
 *   - a tag value holding a newline or a carriage return, or a backslash right before one of
 *     ',' '=' ' ' or at its end (InfluxDB 1.x reads "\\," as an escaped comma and keeps the
 *     backslashes of other pairs as they are, so such a value cannot be written back exactly):
 *     the point is skipped and counted;
 *   - a NaN or infinite double as a tag value: the point is skipped and counted;
 *   - an empty tag value: the tag is left out (InfluxDB refuses "t=", and a missing tag reads
 *     as the empty one).
 * Timestamps are the time column's milliseconds (the writer asks for precision=ms). */
#ifndef WR_INFLUX_LINE_H
#define WR_INFLUX_LINE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "actors/dataflow/record/batch.h"
#include "bus/base/strbuf.h"

/* What one point is made of: the measurement, the columns written as tags and as fields, and
 * the time column (an int or time field). Columns by index in the batches' schema. */
typedef struct {
    wr_schema_t schema;
    wr_strbuf_t text;                             /* the escaped measurement, then every ",tag=" and
                                                     "field=" prefix, back to back */
    uint32_t mlen;                                /* the measurement: text[0, mlen) */
    uint32_t ntags, nfields;                      /* columns of each kind */
    int tag[WR_SCHEMA_MAX_FIELDS];                /* tag i: column tag[i] */
    int field[WR_SCHEMA_MAX_FIELDS];              /* field i: column field[i] */
    uint32_t tag_off[WR_SCHEMA_MAX_FIELDS + 1];   /* tag i's ",key=": text[tag_off[i], +1) */
    uint32_t field_off[WR_SCHEMA_MAX_FIELDS + 1]; /* field i's "key=": text[field_off[i], +1) */
    int time;                                     /* the timestamp's column */
} wr_influx_line_t;

/* What formatting left out (counts since init). */
typedef struct {
    uint64_t skipped;        /* points not written */
    uint64_t dropped_fields; /* NaN/Inf fields left out of points written */
} wr_influx_line_stats_t;

/* Prepares f for batches of schema: measurement (len bytes), tags[0, ntags) and fields[0,
 * nfields) as column indexes, time a column index. WR_EINVAL when a column is out of range,
 * time is not an int or time column, there is no field, or the measurement is empty or cannot be
 * written (wr_influx_measurement_ok); WR_ENOMEM (f is released then). */
int wr_influx_line_init(wr_influx_line_t *f, const wr_schema_t *schema, const char *measurement,
                        size_t len, const int *tags, uint32_t ntags, const int *fields,
                        uint32_t nfields, int time);
void wr_influx_line_release(wr_influx_line_t *f);

/* Appends record i of b (f's schema) as one point, '\n' included, to out; true when it did,
 * false when it skipped the record (counted in st). Out of memory: out->failed. */
bool wr_influx_line_row(const wr_influx_line_t *f, const wr_batch_t *b, uint32_t i,
                        wr_strbuf_t *out, wr_influx_line_stats_t *st);

/* ---- escaping, for the formatter and its tests ---- */

/* Appends s[0, len) escaped as a measurement (key false) or as a tag key, tag value or field key
 * (key true). */
void wr_influx_escape(wr_strbuf_t *out, const char *s, size_t len, bool key);
/* Appends s[0, len) as a string field value, quotes included. */
void wr_influx_escape_str(wr_strbuf_t *out, const char *s, size_t len);
/* Whether s[0, len) can be a tag value (or key, or a measurement) written back exactly: no
 * newline or carriage return, no backslash before ',' '=' ' ' or at the end. */
bool wr_influx_tag_ok(const char *s, size_t len);

#endif
