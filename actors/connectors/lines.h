/* Record lines for sinks that write text (stdout, files, collect): the row format
 * (actors/dataflow/record/rowfmt.h) made once per writer and one batch's lines in a reused buffer,
 * so a batch is formatted with no allocation per record and written at once. */
#ifndef WR_LINES_H
#define WR_LINES_H

#include <stdbool.h>
#include <stdint.h>

#include "actors/dataflow/record/rowfmt.h"

typedef struct {
    wr_rowfmt_t fmt;
    wr_strbuf_t buf; /* the lines formatted last */
} wr_lines_t;

/* Lines of records of schema: JSON objects (json) or "field=value" text. 0 or WR_ENOMEM (l is
 * then released). */
int wr_lines_init(wr_lines_t *l, const wr_schema_t *schema, bool json);
void wr_lines_release(wr_lines_t *l);
/* The same on the heap: NULL when out of memory; destroy is NULL-safe and nulls *l. */
wr_lines_t *wr_lines_new(const wr_schema_t *schema, bool json);
void wr_lines_destroy(wr_lines_t **l);
/* Formats the records of b picked by sel[0, nsel) (every record when sel is NULL) into l->buf:
 * after what it holds with append, instead of it otherwise. 0 or WR_ENOMEM. */
int wr_lines_format(wr_lines_t *l, const wr_batch_t *b, const uint32_t *sel, uint32_t nsel,
                    bool append);

#endif
