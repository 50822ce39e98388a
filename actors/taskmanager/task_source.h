/* A subtask's source (internal to the subtask actor): its topology source's connector, driven
 * through actors/connectors/source.h. It starts once, either fresh (the connector enumerates its
 * splits and this subtask takes those assigned to it) or from a checkpoint (every old subtask's
 * split states, dealt out again to this parallelism: a savepoint restores at another one).
 *
 * Each split remembers the latest event time it produced, so a restored source's watermark
 * resumes where it was rather than from scratch. */
#ifndef WR__TASK_SOURCE_H
#define WR__TASK_SOURCE_H

#include <stdbool.h>
#include <stdint.h>

#include "actors/connectors/source.h"
#include "actors/dataflow/job/topology.h"
#include "bus/base/strbuf.h"

typedef struct {
    wr_source_t *src;
    wr_splits_t restored; /* every old subtask's splits, until the start */
    bool from_checkpoint;
} wr__source_t;

/* Opens source `index` of topo for subtask `subtask` of `parallelism` (not started yet). err
 * gets a reason on failure. */
int wr__source_init(wr__source_t *s, const wr_topology_t *topo, int index, uint32_t subtask,
                    uint32_t parallelism, wr_strbuf_t *err);
void wr__source_release(wr__source_t *s);

/* Takes the split states of every old subtask of this source (states[0..n), in old subtask
 * order) for the start. WR_EPROTO for bytes that do not decode; err says why. */
int wr__source_restore(wr__source_t *s, const uint8_t *const *states, const size_t *lens,
                       uint32_t n, wr_strbuf_t *err);
/* Starts reading: from the restored splits if any were given, else from the start. */
int wr__source_start(wr__source_t *s, wr_strbuf_t *err);

/* Reads the next records (at most `max`; wr__source_batch). A paced source (the generator's
 * rate) makes only what is due after elapsed_ns. *wait: nothing for now; *done: nothing left.
 * On failure err says why. */
int wr__source_next(wr__source_t *s, uint32_t max, uint64_t elapsed_ns, bool *done, bool *wait,
                    wr_strbuf_t *err);
const wr_batch_t *wr__source_batch(const wr__source_t *s);
/* After a wait: when the connector asked to be read again, in ms (0: at the next tick). */
uint32_t wr__source_retry_ms(const wr__source_t *s);
/* Input the source skipped as bad in this attempt (wr_source_skipped). */
uint64_t wr__source_skipped(const wr__source_t *s);
/* The event time its watermark comes from (source.h); false while there is none. */
bool wr__source_event_time(wr__source_t *s, int64_t *t);

/* The split states at checkpoint checkpoint_id as msgpack bytes appended to out. */
int wr__source_snapshot(wr__source_t *s, uint64_t checkpoint_id, wr_strbuf_t *out);
/* Checkpoint checkpoint_id completed (the connector may report its positions). */
void wr__source_checkpoint_done(wr__source_t *s, uint64_t checkpoint_id);

#endif
