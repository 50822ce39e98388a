/* Checkpoint storage on a directory (for a cluster: a path on a shared filesystem).
 *
 * Layout of one job:
 *   DIR/JOB/chk-N/_metadata       the checkpoint's metadata (state/ckpt_meta.h); present iff
 *                                 checkpoint N completed
 *   DIR/JOB/chk-N/FILE            its exclusive state files
 *   DIR/JOB/chk-N.tmp-XXXXXX/     a checkpoint being written (or a crash's leftover)
 *   DIR/JOB/shared/FILE           files referenced by several checkpoints (incremental RocksDB
 *                                 SST files), kept while a retained checkpoint references them
 *   DIR/JOB/ahead/FILE            subtasks' files not in a checkpoint yet (window segments
 *                                 written ahead): theirs; an open of the store deletes them
 *
 * Atomicity: a pending checkpoint writes into its temp folder; wr_ckpt_complete fsyncs every
 * file, writes _metadata under a temp name, fsyncs and renames it, renames the folder to chk-N and
 * fsyncs DIR/JOB. A crash at any point leaves either no checkpoint N or a complete one. Deleting a
 * checkpoint unlinks its _metadata first, so a crash mid-delete leaves a folder without metadata,
 * which the next wr_ckpt_store_open removes.
 *
 * Retention: the store keeps the newest num_retained completed checkpoints. Completing one deletes
 * the older ones beyond that, then every file in shared/ that no retained checkpoint and no
 * pending checkpoint of this store references.
 *
 * One store object per job directory at a time (the JobManager's); it is not thread-safe. A
 * pending checkpoint belongs to its store: complete or abort it before destroying the store. */
#ifndef WR_CKPT_STORE_H
#define WR_CKPT_STORE_H

#include <stdint.h>

#include "state/ckpt_meta.h"

#define WR_CKPT_SHARED_DIR "shared"
/* DIR/JOB/ahead: subtasks' window segments written ahead of the checkpoint that will take them
 * into shared/ (actors/taskmanager/task_ahead.c); opening the store deletes it. */
#define WR_CKPT_AHEAD_DIR "ahead"

typedef struct wr_ckpt_store wr_ckpt_store_t;
typedef struct wr_ckpt_pending wr_ckpt_pending_t;

/* Opens (creating it) DIR/JOB and recovers it: completed chk-N folders are loaded as the retained
 * history (the oldest beyond num_retained are deleted), temp folders and chk-N folders without
 * _metadata are deleted, and so are shared files no retained checkpoint references. On failure
 * returns NULL with *err: WR_EINVAL (a bad job name, num_retained 0), the I/O codes of
 * bus/base/fs.h, or a decode error of a chk-N/_metadata (WR_EPROTO also when its id or job does
 * not match its folder): a corrupt completed checkpoint stops the open rather than being deleted.
 */
wr_ckpt_store_t *wr_ckpt_store_open(const char *dir, const char *job, uint32_t num_retained,
                                    int *err);
/* NULL-safe; nulls *p. Asserts that no pending checkpoint is left. Deletes nothing on disk. */
void wr_ckpt_store_destroy(wr_ckpt_store_t **p);

/* DIR/JOB, borrowed. */
const char *wr_ckpt_store_dir(const wr_ckpt_store_t *s);
/* The retained history, oldest first: i < wr_ckpt_store_count(s). Borrowed metadata with
 * resolved absolute paths, valid until the next complete or destroy. */
uint32_t wr_ckpt_store_count(const wr_ckpt_store_t *s);
const wr_ckpt_meta_t *wr_ckpt_store_at(const wr_ckpt_store_t *s, uint32_t i);
/* The newest completed checkpoint, or NULL if there is none. Borrowed as above. */
const wr_ckpt_meta_t *wr_ckpt_latest(const wr_ckpt_store_t *s);
/* DIR/JOB/chk-N as a new string (the caller frees it); NULL when out of memory. */
char *wr_ckpt_store_path(const wr_ckpt_store_t *s, uint64_t id);

/* Starts checkpoint `id` (greater than every completed one, else WR_EINVAL), triggered at
 * trigger_ms (wall clock), in a new temp folder. NULL on failure with *err. */
wr_ckpt_pending_t *wr_ckpt_begin(wr_ckpt_store_t *s, uint64_t id, int64_t trigger_ms, int *err);
/* The temp folder being written, borrowed (for code that must write files by path; names follow
 * wr_ckpt_name_valid). */
const char *wr_ckpt_pending_dir(const wr_ckpt_pending_t *p);
/* Creates the exclusive state file `file` (wr_ckpt_name_valid, not "_metadata") in the checkpoint
 * and returns a write-only fd that the caller writes and closes. WR_EINVAL, WR_EEXIST, WR_EIO. */
int wr_ckpt_create_file(wr_ckpt_pending_t *p, const char *file, int *fd);
/* Puts the local file at local_path into shared/ as `file` (hard link on the same filesystem,
 * else a copy), unless shared/file already exists: then nothing is copied, which is what makes
 * incremental checkpoints cheap. Either way the checkpoint may now reference it (and retention
 * will not delete it while the checkpoint is pending). Shared names must identify content: a
 * name always means the same bytes, and the local file must never be modified in place
 * afterwards (a hard link shares it; RocksDB's SST files are immutable). A file already in
 * shared/ that no retained or pending checkpoint references (its writer put it there: a subtask's
 * SST file or window segment) counts as new: it is in this checkpoint's incremental size and is
 * fsynced at completion. WR_EINVAL, WR_ENOTFOUND (no local file), WR_EIO. */
int wr_ckpt_add_shared(wr_ckpt_pending_t *p, const char *local_path, const char *file);
/* Records a task state (deep copy). Its blobs reference files by name: an exclusive one must
 * exist in the checkpoint's folder, a shared one must have been added with wr_ckpt_add_shared to
 * this checkpoint (WR_EINVAL otherwise); sizes are read from the files, the caller's `size` and
 * `path` are ignored. WR_EEXIST for a second state of one (vertex, subtask). */
int wr_ckpt_add_task_state(wr_ckpt_pending_t *p, const wr_ckpt_task_t *t);
/* Completes the checkpoint (see Atomicity) at complete_ms, makes it the latest, applies
 * retention. Takes *p whatever the outcome and nulls it; on failure the temp folder is deleted
 * and the history is unchanged: WR_EEXIST if checkpoint id was completed meanwhile or a newer
 * one was, the I/O codes. A failure of the retention step after the rename is not reported: the
 * checkpoint is complete and the next completion retries the cleanup. */
int wr_ckpt_complete(wr_ckpt_pending_t **p, int64_t complete_ms);
/* Deletes the pending checkpoint's folder and the shared files only it had added. NULL-safe;
 * nulls *p. */
void wr_ckpt_abort(wr_ckpt_pending_t **p);

/* Reads the completed checkpoint or savepoint in folder `dir` (chk-N, or a savepoint anywhere)
 * and resolves every file reference to an absolute path: exclusive files in dir, shared ones in
 * dir/../shared for a checkpoint and dir/shared for a savepoint (which is self-contained). The
 * caller owns the result. NULL on failure with *err: WR_ENOTFOUND (no _metadata), the decode
 * errors of wr_ckpt_meta_decode, the I/O codes. */
wr_ckpt_meta_t *wr_ckpt_load(const char *dir, int *err);

#endif
