/* The record lines as the sinks formatted them before rowfmt: printf per field. Kept as the
 * reference: the oracle of tests/test_sink.c and the baseline of `weir bench sink`. Slow (about
 * 1 us per 8-field row); no sink uses it. Same line format as rowfmt.h. */
#ifndef WR_ROWFMT_REF_H
#define WR_ROWFMT_REF_H

#include <stdbool.h>

#include "actors/dataflow/record/batch.h"
#include "bus/base/strbuf.h"

/* Appends record i of b as a text or JSON line, '\n' included. */
void wr__rowfmt_ref_row(const wr_batch_t *b, uint32_t i, bool json, wr_strbuf_t *out);
/* Record i of b as a JSON object, no newline. */
void wr__rowfmt_ref_json(const wr_batch_t *b, uint32_t i, wr_strbuf_t *out);

#endif
