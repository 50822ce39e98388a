/* One source subtask's side of a source (Flink's SourceOperator around its SourceReader): the
 * splits it reads (enumerated and assigned as connector.h says, fresh or from a checkpoint), the
 * connector's reader, the batch being filled, each split's latest event time and the checkpoint
 * state. What a subtask actor (actors/taskmanager/task_source.h) and a connector's tests drive.
 *
 * Event time. After each read the rows of each split raise that split's event time (the
 * largest timestamp it produced). The source's event time, from which its watermark is made, is
 * the least over its splits that are neither done nor idle; it never goes back, and it is
 * unknown until each of those splits has produced something (or came from a checkpoint with its
 * event time). With every split idle it is unknown too: the subtask goes quiet and the inputs
 * downstream stop waiting for it after their idle timeout. */
#ifndef WR_SOURCE_H
#define WR_SOURCE_H

#include <stdbool.h>
#include <stdint.h>

#include "actors/connectors/connector.h"

typedef struct {
    const wr_schema_t *schema; /* of the records (copied) */
    int ts_field;              /* the event-time field of schema, -1: none */
    uint32_t subtask, parallelism;
    uint32_t batch_records; /* the batch's capacity */
    const char *job, *name; /* the job's and the source's names (wr_source_open_t), or NULL */
} wr_source_opts_t;

typedef struct wr_source wr_source_t;

/* Opens cls's reader over config (borrowed: it must outlive the source) for subtask o->subtask
 * of o->parallelism. NULL with *rc (WR_ENOMEM, or the reader's error with err saying why). */
wr_source_t *wr_source_new(const wr_source_class_t *cls, const void *config,
                           const wr_source_opts_t *o, int *rc, wr_strbuf_t *err);
void wr_source_destroy(wr_source_t **s);

/* Enumerates the splits (from the config, or from `restored`, the splits of every old subtask
 * of a checkpoint, which it empties) and hands the reader those assigned to this subtask. Once,
 * before the first wr_source_next. WR_EPROTO (with err) for restored splits the connector does
 * not understand, WR_ENOMEM, the reader's errors. */
int wr_source_start(wr_source_t *s, wr_splits_t *restored, wr_strbuf_t *err);

/* Reads the next records (at most max) into the source's batch (wr_source_batch) and sets *st.
 * elapsed_ns is the wall-clock time since the subtask started, for pacing. A failure (err says
 * why) fails the subtask. */
int wr_source_next(wr_source_t *s, uint32_t max, uint64_t elapsed_ns, wr_source_status_t *st,
                   wr_strbuf_t *err);
/* After a WAIT: when the reader asked to be read again (wr_source_read_retry), in ms; 0: at the
 * subtask's own pace. */
uint32_t wr_source_retry_ms(const wr_source_t *s);
/* The records of the last wr_source_next (borrowed, until the next call). */
const wr_batch_t *wr_source_batch(const wr_source_t *s);
/* Input the reader skipped as bad (a file source's lines under on_error: skip) since it was
 * opened: this attempt's, as records in are. 0 for a connector that skips nothing. */
uint64_t wr_source_skipped(const wr_source_t *s);
/* The source's event time (see above) into *t: false while it is unknown. */
bool wr_source_event_time(wr_source_t *s, int64_t *t);

/* Appends the state of every split the reader holds (split.h) for checkpoint checkpoint_id (0:
 * none) to out: 0, WR_ENOMEM, or the reader's error. */
int wr_source_snapshot(wr_source_t *s, uint64_t checkpoint_id, wr_strbuf_t *out);
/* Checkpoint checkpoint_id completed (the reader's checkpoint_done, when it has one). */
void wr_source_checkpoint_done(wr_source_t *s, uint64_t checkpoint_id);

#endif
