/* Sinks: where a job's records leave weir. A sink writes whole batches; it formats into a reused
 * buffer and issues one write per batch, never one per record.
 *
 *   stdout  human-readable lines "field=value ..." (times as UTC), at-least-once
 *   file    JSON lines, one object per record, to a path (created or appended)
 *   file 2PC the same lines, exactly once: part files in a directory made visible by checkpoints
 *           (two-phase commit; part names and recovery in sink_2pc.h)
 *   collect JSON lines into memory, for tests and for `weir local` to show results
 */
#ifndef WR_SINK_H
#define WR_SINK_H

#include <stdio.h>

#include "actors/dataflow/record/batch.h"
#include "bus/base/strbuf.h"

typedef struct wr_sink wr_sink_t;

/* Writes to out (borrowed; stdout in practice). NULL when out of memory. */
wr_sink_t *wr_sink_stdout_new(const wr_schema_t *schema, FILE *out);
/* Opens path for appending (created 0644). NULL with *err (WR_EIO: errno says why). */
wr_sink_t *wr_sink_file_new(const wr_schema_t *schema, const char *path, int *err);
/* An exactly-once file sink writing part files into dir (created if missing) for run attempt
 * `attempt` of subtask `subtask`; see sink_2pc.h. Writes go to a hidden in-progress file, opened
 * at the first write after creation or a precommit; wr_sink_flush fsyncs it (no commit);
 * wr_sink_destroy closes it without committing, like a crash. Two sinks of the same dir, attempt
 * and subtask are a bug (their first write fails with WR_EEXIST). NULL with *err: WR_EINVAL
 * (empty dir), WR_ENOMEM, WR_EIO. */
wr_sink_t *wr_sink_file_2pc_new(const wr_schema_t *schema, const char *dir, uint32_t attempt,
                                uint32_t subtask, int *err);
/* 2PC sinks, at checkpoint barrier checkpoint_id (non-decreasing; UINT64_MAX for the end of the
 * input): closes the in-progress file, if any, fsynced and renamed to its pending name, then
 * appends to state the sink's state for this checkpoint, which lists every pending file not
 * committed yet (wr_sink_2pc_recover reads it). Returns 0; WR_EINVAL for another kind of sink or
 * a checkpoint id below the last one; WR_EIO (the file stays in progress, or pending without its
 * directory synced: the checkpoint must fail); WR_ENOMEM. Nothing is appended on failure. After a
 * failed wr_sink_write every precommit fails with its error: the in-progress file may end in a
 * torn batch, so only a restart (recovery and abort_stale) may follow. */
int wr_sink_precommit(wr_sink_t *s, uint64_t checkpoint_id, wr_strbuf_t *state);
/* 2PC sinks, once checkpoint checkpoint_id completed: every pending file of a checkpoint up to it
 * gets its final, visible name, and the directory is fsynced; they are forgotten then. Calling it
 * again is harmless. Returns 0; WR_EINVAL for another kind of sink; WR_ENOTFOUND (a pending file
 * was removed behind our back), WR_EIO: the files that failed are tried again at the next commit.
 */
int wr_sink_commit(wr_sink_t *s, uint64_t checkpoint_id);
/* Makes a file sink (2PC or not) sleep ms after every batch it writes: a consumer slow on purpose,
 * to test backpressure (the topology's `delay`). It blocks the calling thread. Other sinks ignore
 * it. */
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
