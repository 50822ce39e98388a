/* The exactly-once file sink's part files and their checkpoint state (Flink's FileSink with
 * two-phase commit). The sink itself is the file connector's (file.h, `exactly_once: true`);
 * this header is what its writer, its committer and the checkpoint state need.
 *
 * A part file lives in the sink's directory under three names, one after the other:
 *
 *   .part-<attempt>-<subtask>-<seq>.inprogress   being written (hidden)
 *   .part-<attempt>-<subtask>-<seq>.pending      closed and fsynced at a checkpoint barrier
 *   part-<subtask>-<attempt>-<seq>.jsonl         visible: its checkpoint completed
 *
 * Numbers are decimal without leading zeros: attempt and subtask are u32, seq a u64 counting the
 * sink's part files from 0. The attempt must grow with every restart of the job (failovers
 * included): names of two runs never collide, and abort_stale tells old runs by it. A file is
 * visible only once its checkpoint has completed; a crash leaves hidden files only.
 *
 * Restoring a job from checkpoint N, before the new attempt's subtasks write anything:
 *   1. wr_sink_2pc_recover over every old sink subtask's state of checkpoint N (one call, or one
 *      call per group of states: each state goes to exactly one call);
 *   2. once all of them succeeded, wr_sink_2pc_abort_stale(dir, attempt_now) once, which drops
 *      what the old attempts wrote after checkpoint N (their records are replayed).
 * Running abort_stale before a recover call would delete pending files that checkpoint N needs. */
#ifndef WR_SINK_2PC_H
#define WR_SINK_2PC_H

#include <stddef.h>
#include <stdint.h>

#include "bus/base/strbuf.h"

#define WR_SINK_2PC_STATE_VERSION 1
#define WR_SINK_2PC_NAME_MAX      64 /* longest name of the three, NUL included */

/* One pending part file, as the state lists it. */
typedef struct {
    uint32_t attempt;
    uint32_t subtask;
    uint64_t seq;
    uint64_t checkpoint_id; /* the checkpoint whose barrier closed it */
} wr_sink_2pc_part_t;

enum wr_sink_2pc_name { WR_SINK_2PC_INPROGRESS, WR_SINK_2PC_PENDING, WR_SINK_2PC_FINAL };

/* ---- names (no I/O) ---- */

/* Writes part p's file name of the given kind into out (WR_SINK_2PC_NAME_MAX bytes). */
void wr_sink_2pc_name(const wr_sink_2pc_part_t *p, enum wr_sink_2pc_name kind, char *out);
/* Parses a hidden name (in-progress or pending) of len bytes: 0 with *kind and p's attempt,
 * subtask and seq set, or WR_EPROTO for any other name (final names included). */
int wr_sink_2pc_parse_hidden(const char *name, size_t len, enum wr_sink_2pc_name *kind,
                             wr_sink_2pc_part_t *p);
/* Parses any of the three names, as exactly as wr_sink_2pc_parse_hidden; kind may be NULL. */
int wr_sink_2pc_parse_name(const char *name, size_t len, enum wr_sink_2pc_name *kind,
                           wr_sink_2pc_part_t *p);

/* ---- state (no I/O) ----
 * A state is msgpack: [version, [[pending name, final name, checkpoint id], ...]]. */

/* Appends the state listing parts[0..n) to out. 0, or WR_ENOMEM (out is then as it was). */
int wr_sink_2pc_state_encode(const wr_sink_2pc_part_t *parts, uint32_t n, wr_strbuf_t *out);
/* Decodes untrusted state bytes: 0 with *parts (the caller frees it; NULL when *n is 0) and *n.
 * WR_EVERSION for another version; WR_EPROTO for anything malformed: truncated, wrong types,
 * trailing bytes, a name that is not a pending name, a final name that is not the one of the
 * same part. WR_ENOMEM. On failure *parts is NULL and *n 0. */
int wr_sink_2pc_state_decode(const uint8_t *data, size_t len, wr_sink_2pc_part_t **parts,
                             uint32_t *n);

/* ---- recovery ---- */

/* Commits every pending file listed in states[0..n) (lens[i] bytes each; the sink states of one
 * restored checkpoint) in dir: renames it to its final name, then fsyncs dir. A file found under
 * its final name already is done (recovering twice is harmless). Every state is decoded before
 * any file is touched. skip_commit: the test fault of file.h (0: off): the files of that
 * checkpoint are emptied before they are renamed (a warning is logged). Returns 0;
 * WR_EPROTO/WR_EVERSION for a malformed state and WR_EINVAL for a part of an attempt >= attempt_now
 * (nothing touched then); WR_ENOTFOUND when a listed file is under neither name (the others are
 * still committed); WR_EIO; WR_ENOMEM. On failure a message is appended to err (may be NULL). */
int wr_sink_2pc_recover(const char *dir, const uint8_t *const *states, const size_t *lens,
                        uint32_t n, uint32_t attempt_now, uint64_t skip_commit, wr_strbuf_t *err);
/* Deletes every in-progress and pending file in dir of an attempt below attempt_now, then fsyncs
 * dir; other files stay. Run it once, after every wr_sink_2pc_recover call of the restore (see
 * above). A missing dir is success. WR_EIO (errno says more). */
int wr_sink_2pc_abort_stale(const char *dir, uint32_t attempt_now);

/* ---- internal to the file sink's writer (file_sink.c): one writer's part files ---- */

typedef struct wr__sink_2pc wr__sink_2pc_t;

/* Creates dir (and its parents) if missing. NULL with *err: WR_EINVAL (empty dir), WR_ENOMEM,
 * WR_EIO. */
wr__sink_2pc_t *wr__sink_2pc_new(const char *dir, uint32_t attempt, uint32_t subtask, int *err);
/* Closes the in-progress file as it is (no commit). NULL-safe; nulls *t. */
void wr__sink_2pc_destroy(wr__sink_2pc_t **t);
/* The in-progress file's descriptor (borrowed), opened on first use. WR_EEXIST if the name is
 * taken (another sink with this attempt and subtask), WR_EIO. */
int wr__sink_2pc_fd(wr__sink_2pc_t *t, int *fd);
/* The in-progress file's name (the one wr__sink_2pc_fd opens), into out. */
void wr__sink_2pc_inprogress_name(const wr__sink_2pc_t *t, char out[WR_SINK_2PC_NAME_MAX]);
/* fsyncs the in-progress file, if any. WR_EIO. */
int wr__sink_2pc_flush(wr__sink_2pc_t *t);
int wr__sink_2pc_precommit(wr__sink_2pc_t *t, uint64_t checkpoint_id, wr_strbuf_t *state);
int wr__sink_2pc_commit(wr__sink_2pc_t *t, uint64_t checkpoint_id);
/* The test fault test_skip_commit (file.h): the part files closed at checkpoint checkpoint_id's
 * barrier are emptied before their commit makes them visible (whichever commit covers them), so
 * their records are lost; a warning is logged for each. 0 (the default): off. */
void wr__sink_2pc_skip_commit(wr__sink_2pc_t *t, uint64_t checkpoint_id);

#endif
