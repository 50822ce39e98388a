/* The JobManager's checkpoint coordinator (Flink's CheckpointCoordinator): one per job.
 *
 * Every `interval` (and at least `min_pause` after the previous one ended) it starts checkpoint N
 * in the job's storage (state/ckpt_store.h: a temp folder of DIR/JOB), and tells every source
 * subtask to take it (CKPT_TRIGGER with the folder). Sources snapshot their position and send a
 * barrier; every subtask snapshots once the barrier came on all its inputs, writing its files
 * into the folder, and acks with its state's blobs. With every subtask's ack in, the checkpoint
 * is completed (metadata written, the folder renamed: atomic), older ones beyond num-retained are
 * deleted, and every subtask hears CKPT_COMPLETE (exactly-once sinks commit). A checkpoint not
 * complete within `timeout` fails; more than `tolerable` failures in a row fail the job over. A
 * checkpoint is recorded with the leadership service (jm_leader.h: in etcd) before it completes:
 * one that cannot be recorded fails without counting (etcd unreachable for a while is no fault of
 * the job; a leader that lost etcd steps down), and the next one's commit covers its data.
 * Checkpoints start only while every subtask runs.
 *
 * The end of input is the final checkpoint: each subtask acks its state at its end (inline only:
 * the windows are empty then) and waits; once all did, the coordinator writes them as one more
 * completed checkpoint and tells every subtask to commit and finish. A failure before that
 * restores the previous checkpoint; after it, a restore finds every source at its end.
 *
 * A savepoint is a checkpoint taken now and copied, self-contained, into its own folder; `weir
 * stop` ends the job once it is written (with --drain the sources first end event time).
 *
 * The coordinator knows the job only as the registry shows it for each call (wr__job_ref_t) and
 * answers what the job must do with a verdict (a failover, or its end); the registry acts on it.
 * Messages go to the subtasks of the job's current attempt with the leader's epoch. */
#ifndef WR__JM_CKPT_H
#define WR__JM_CKPT_H

#include <stdbool.h>
#include <stdint.h>

#include "actors/jobmanager/jm_job_ref.h"
#include "actors/jobmanager/jobmanager.h"
#include "bus/base/strbuf.h"

typedef struct wr__coord wr__coord_t;

/* The coordinator of job job_id with nsub subtasks, after the settings in o (borrowed: they
 * outlive it). Periodic checkpoints are on when o->interval_ms > 0: its storage is opened now.
 * Checkpoint ids continue after restored_id (0: from 1). NULL with *rc (WR_ENOMEM, or a storage
 * error with the reason in err). */
wr__coord_t *wr__coord_new(const wr_jobmanager_opts_t *o, const char *job_id, uint32_t nsub,
                           uint64_t restored_id, wr_strbuf_t *err, int *rc);
/* NULL-safe; nulls *c. Drops the checkpoint in progress. */
void wr__coord_destroy(wr__coord_t **c);

/* Periodic checkpoints are on. */
bool wr__coord_enabled(const wr__coord_t *c);
/* The job's checkpoint folder DIR/JOB (state/ckpt_store.h) while periodic checkpoints are on,
 * else NULL. Borrowed. */
const char *wr__coord_dir(const wr__coord_t *c);
/* It needs the JobManager's tick while the job runs: periodic checkpoints, or a savepoint. */
bool wr__coord_wants_tick(const wr__coord_t *c);
/* The newest completed checkpoint: its folder ("" none yet) and id (0 none). */
const char *wr__coord_latest_path(const wr__coord_t *c);
uint64_t wr__coord_latest_id(const wr__coord_t *c);

/* Drops the checkpoint in progress and the final one's states (the job failed over or ended). */
void wr__coord_abort(wr__coord_t *c, const char *why);

/* On the JobManager's tick, for a RUNNING job: triggers a due checkpoint, fails an overdue one. */
void wr__coord_tick(wr__coord_t *c, wr_actor_t *self, const wr__job_ref_t *job, int64_t now,
                    wr__verdict_t *v);
/* A CKPT_ACK of the job from subtask `from` (its payload decoded, borrowed for the call): an old
 * attempt's or a late one is ignored; one with blobs the checkpoint cannot take (too many, of an
 * unknown kind, inline data that is not a bin, a file name that is not a str or too long) is
 * logged and dropped. 0 or WR_ENOMEM. */
int wr__coord_on_ack(wr__coord_t *c, wr_actor_t *self, const wr__job_ref_t *job,
                     const wr_msg_ckpt_ack_t *ack, const char *from, wr__verdict_t *v);
/* CKPT_LIST_REQ: `weir checkpoints JOB`, answered. */
int wr__coord_on_list(const wr__coord_t *c, wr_actor_t *self, const wr__job_ref_t *job,
                      const wr_msg_t *m);
/* SAVEPOINT_REQ m of the job, its payload decoded (dir "": state.savepoints.dir): answered once
 * written, or at once with an error. */
int wr__coord_on_savepoint(wr__coord_t *c, wr_actor_t *self, const wr__job_ref_t *job,
                           const wr_msg_t *m, const wr_msg_savepoint_req_t *req, wr__verdict_t *v);

#endif
