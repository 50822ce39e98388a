/* One sink subtask's writer (Sink V2's SinkWriter), whatever its connector: what a subtask's
 * chain (actors/taskmanager/task_chain.c), the benchmarks and a connector's tests hold. The
 * connector's writer does the work (connector.h); this adds what every sink shares: the class
 * that made it, its guarantee, and the records written. */
#ifndef WR_SINK_H
#define WR_SINK_H

#include <stdbool.h>
#include <stdint.h>

#include "actors/connectors/connector.h"

typedef struct wr_sink wr_sink_t;

/* Opens cls's writer over config (borrowed: it must outlive the sink). NULL with *rc (WR_ENOMEM,
 * or the writer's error with err saying why: "cannot open results.jsonl: Permission denied"). */
wr_sink_t *wr_sink_open(const wr_sink_class_t *cls, const void *config, const wr_sink_open_t *o,
                        int *rc, wr_strbuf_t *err);
/* Closes the writer without committing; NULL-safe, nulls *s. */
void wr_sink_destroy(wr_sink_t **s);

/* Writes every record of b (or those in sel[0..nsel) when sel is not NULL). */
int wr_sink_write(wr_sink_t *s, const wr_batch_t *b, const uint32_t *sel, uint32_t nsel);
/* The end of the input. */
int wr_sink_flush(wr_sink_t *s);
/* At-least-once sinks, at checkpoint checkpoint_id's barrier: what was written is out (the
 * class's barrier; 0 without one). */
int wr_sink_barrier(wr_sink_t *s, uint64_t checkpoint_id);
bool wr_sink_exactly_once(const wr_sink_t *s);
/* Exactly-once sinks (WR_EINVAL for others): see precommit and commit in connector.h. */
int wr_sink_precommit(wr_sink_t *s, uint64_t checkpoint_id, wr_strbuf_t *committable);
int wr_sink_commit(wr_sink_t *s, uint64_t checkpoint_id);
/* What the writer hands to the job's report (collect sinks), or NULL. Borrowed. */
const wr_strbuf_t *wr_sink_collected(const wr_sink_t *s);
uint64_t wr_sink_records(const wr_sink_t *s);
/* What its last failure failed on (connector.h's failed_on: a file), or NULL. Borrowed. */
const char *wr_sink_failed_on(const wr_sink_t *s);

#endif
