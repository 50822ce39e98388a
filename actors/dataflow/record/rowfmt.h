/* Record lines for the sinks, formatted without printf (bus/base/numfmt.h) straight into a strbuf:
 *
 *   text  "name=value name=value\n": ints as "%lld", times as UTC "2023-11-14T22:13:20.123Z",
 *         doubles as "%.6g", bools as true/false, strings raw
 *   json  {"name":value,...}\n: strings escaped, times as epoch ms, doubles in the shortest
 *         "%.15g".."%.17g" form that reads back exactly ("x.0" when integral), NaN/Inf as null
 *
 * A wr_rowfmt_t is made once per sink: it keeps each field's "name=" / "\"name\":" text ready,
 * the most bytes a row can take besides its strings (one reservation per row), and a time cache
 * per field (rows of one window firing share their window bounds). Owned by one thread. */
#ifndef WR_ROWFMT_H
#define WR_ROWFMT_H

#include <stdbool.h>

#include "actors/dataflow/record/batch.h"
#include "bus/base/numfmt.h"
#include "bus/base/strbuf.h"

typedef struct {
    wr_schema_t schema;
    bool json;
    wr_strbuf_t names;                           /* every field's prefix, back to back */
    uint32_t off[WR_SCHEMA_MAX_FIELDS + 1];      /* field f's prefix: names[off[f]..off[f+1]) */
    size_t rest_max[WR_SCHEMA_MAX_FIELDS + 1];   /* most bytes fields f.. and the line end take,
                                                    strings' contents aside */
    wr_numfmt_time_t time[WR_SCHEMA_MAX_FIELDS]; /* text: per time field */
} wr_rowfmt_t;

/* Prepares fmt for schema. WR_ENOMEM (fmt is then released and may be initialised again). */
int wr_rowfmt_init(wr_rowfmt_t *fmt, const wr_schema_t *schema, bool json);
void wr_rowfmt_release(wr_rowfmt_t *fmt);

/* Appends record i of b (whose schema is fmt's) as one line, '\n' included. On allocation failure
 * out->failed is set and the line may be cut short. */
void wr_rowfmt_row(wr_rowfmt_t *fmt, const wr_batch_t *b, uint32_t i, wr_strbuf_t *out);

/* Record i of b as a JSON object (no newline), appended to out; for callers without a
 * wr_rowfmt_t (same text as the json lines). */
void wr_rowfmt_json_object(const wr_batch_t *b, uint32_t i, wr_strbuf_t *out);

#endif
