/* Sinks: where a job's records leave weir. A sink writes whole batches; it formats into a reused
 * buffer and issues one write per batch, never one per record.
 *
 *   stdout  human-readable lines "field=value ..." (times as UTC), at-least-once
 *   file    JSON lines, one object per record, to a path (created or appended). The exactly-once,
 *           two-phase file sink of the fault-tolerance milestone builds on this one.
 *   collect JSON lines into memory, for tests and for `weir local` to show results
 */
#ifndef WR_SINK_H
#define WR_SINK_H

#include <stdio.h>

#include "actors/dataflow/batch.h"
#include "bus/strbuf.h"

typedef struct wr_sink wr_sink_t;

/* Writes to out (borrowed; stdout in practice). NULL when out of memory. */
wr_sink_t *wr_sink_stdout_new(const wr_schema_t *schema, FILE *out);
/* Opens path for appending (created 0644). NULL with *err (WR_EIO: errno says why). */
wr_sink_t *wr_sink_file_new(const wr_schema_t *schema, const char *path, int *err);
/* Makes a file sink sleep ms after every batch it writes: a consumer slow on purpose, to test
 * backpressure (the topology's `delay`). It blocks the calling thread. Other sinks ignore it. */
void wr_sink_set_delay(wr_sink_t *s, int64_t ms);
/* Keeps JSON lines in memory: wr_sink_collected hands them out. */
wr_sink_t *wr_sink_collect_new(const wr_schema_t *schema);
void wr_sink_destroy(wr_sink_t **s);

/* Writes every record of b (or those in sel[0..nsel) when sel is not NULL). WR_EIO on a failed
 * write. */
int wr_sink_write(wr_sink_t *s, const wr_batch_t *b, const uint32_t *sel, uint32_t nsel);
int wr_sink_flush(wr_sink_t *s);
uint64_t wr_sink_records(const wr_sink_t *s);
/* Collect sinks: the JSON lines written so far (borrowed; NULL for other sinks). */
const wr_strbuf_t *wr_sink_collected(const wr_sink_t *s);

/* One record as a JSON object (no newline), appended to out: strings escaped, times as epoch ms,
 * doubles in the shortest form that reads back exactly, NaN/Inf as null. */
void wr_record_json(const wr_batch_t *b, uint32_t i, wr_strbuf_t *out);

#endif
