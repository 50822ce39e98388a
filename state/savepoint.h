/* Savepoints: self-contained, relocatable copies of a completed checkpoint.
 *
 * A savepoint folder holds _metadata (kind WR_CKPT_SAVEPOINT), every exclusive file of the
 * checkpoint at its top level and every shared file under shared/. The metadata names files only
 * relative to the folder, so the folder can be moved or copied anywhere (another machine, another
 * cluster) and read with wr_ckpt_load from there; it never references the job's checkpoint
 * directory. Restoring from it with another parallelism is the restore code's business: the task
 * states keep their key-group ranges. */
#ifndef WR_SAVEPOINT_H
#define WR_SAVEPOINT_H

#include "state/ckpt_meta.h"

/* Writes a savepoint of the checkpoint m, whose file blobs must be resolved (from
 * wr_ckpt_latest, wr_ckpt_store_at or wr_ckpt_load; WR_EINVAL otherwise) into the folder target,
 * which must not exist (WR_EEXIST); its parent is created if needed. Atomic like a checkpoint: the
 * files are copied into a temp folder next to target, fsynced, and the folder renamed to target.
 * complete_ms is the savepoint's completion time (its trigger time is the checkpoint's). On
 * failure nothing is left at target. Other failures: the I/O codes, WR_ENOMEM. */
int wr_savepoint_write(const wr_ckpt_meta_t *m, const char *target, int64_t complete_ms);

#endif
