/* Snapshots of a window engine's state, for checkpoints and rescaling (Flink's keyed state by key
 * groups, see keygroup.h).
 *
 * A snapshot is one byte stream, written once front to back (the state is big: 5M keys x 10
 * panes is 1.5 GB, so it is never built in memory a second time) and read back through a mapping:
 *
 *   header    magic, version, the spec's shape (kind, size, slide, gap, lateness, pane length,
 *             aggregates, sketch accuracy), the watermark and the time axis (lo, ring base),
 *             max_parallelism, a checksum
 *   sections  one per key group 0..max_parallelism-1, in order, each the keys of that group:
 *             sliced kinds: key, non-empty panes (ring panes by offset from the base, spilled panes
 *             by number), each an accumulator in its packed form (agg.h: a sketch field as its
 *             entry count, the entries right after the accumulator); sessions: key, sessions
 *             (start, end, accumulator)
 *   index     per key group: offset, length, keys, checksum
 *   trailer   index offset, max_parallelism, version, checksum of index and trailer, end magic
 *
 * Numbers are little-endian, unaligned. Checksums are XXH64 (seed 0).
 *
 * Incremental snapshots (version 2; tumbling and sliding windows of the memory backend). A
 * closed pane (its end <= watermark + 1) changes only through late records, so a checkpoint need
 * not write it again. An incremental snapshot is several streams of the layout above, told apart
 * by the header's `part`:
 *
 *   full      (part 0) everything, as above: sessions, savepoint-style single files, tests
 *   segment   (part 2) one closed pane p (the header's `sealed`): per key group, each key with
 *             data in p and its accumulator. Written once, when p has closed, and referenced by
 *             every later checkpoint until p expires (the caller keeps it as a shared file named
 *             by pane and id). Its id is a checksum of its header's and its trailer's
 *             checksums, which cover every byte: an id names the segment's bytes
 *   main      (part 1) the header with the time axis, `sealed` (every closed pane <= sealed is in
 *             a segment) and the list of the live segments it references (pane, id; id 0: the
 *             pane held no data, no file); then per key group each key's open panes (> sealed)
 *             and the sealed panes late records changed since their segment was written (their
 *             whole current accumulator: it replaces the segment's on restore)
 *
 * In the steady state of a window of K panes a checkpoint writes the panes that closed since the
 * last one (one per slide) and the open ones: about 2/K of a full snapshot. Late records mark
 * (key, pane) dirty (a small hash set, only for sealed panes); a dirty pane is carried in every
 * main until it expires or its segment is rewritten (the caller rewrites a segment whose file
 * is gone: its new bytes include the late changes, so the marks of that pane go).
 *
 * A checkpoint writes its new segments and the main in one pass over the keys
 * (wr_window_snapshot_incremental): the walk over every key is what most of its time goes to,
 * more than the bytes. It goes through the key table in memory order, a batch of key groups at a
 * time, staging each group's records in memory (about 32 MiB a batch) so that the sections still
 * go out in key-group order; in key-group order it jumped around the table (on 2.5M keys with
 * p95 a main part took 0.90-1.27 s that way, 0.55-0.66 s now; window_snap_walk.c).
 * It is synchronous: the caller's subtask stands still while it runs.
 *
 * Segments written ahead. A closed pane's segment does not have to wait for the checkpoint: the
 * caller can write it in steps between batches of records as soon as the pane closes
 * (wr_window_ahead_*), each step a batch of key groups (about 32 MiB of records, the same walk).
 * The next checkpoint then references it (wr_window_segments lists it with its id, not due) and
 * writes only the main and what was not written ahead: in the seed's job a pane closes about
 * every 10 s of wall clock, and its segment is as big as a main, so this halves the time a
 * checkpoint stands the subtask still. Late records into a pane being written ahead are marked
 * dirty from its first step on (a main carries them); a sweep that may remove keys first finishes
 * the segment (window_snap_ahead.c says why that keeps it exact). One is written at a time. A
 * main taken while one is being written does not wait for it: it seals only the panes before
 * that one and holds that one whole, like an open pane, and the segment goes on. (The subtask
 * finishes the segment first instead: holding the pane writes it twice, and the seed's job ran
 * slower that way; actors/taskmanager/task_ahead.c.)
 *
 * The engine's bookkeeping (which panes are sealed, the segment ids, the dirty set) moves only
 * when the caller commits a main (wr_window_snapshot_main): a checkpoint that fails part way
 * leaves the engine as before, and the next one writes the same segments again. An engine
 * restored from its own subtask's main (wr_window_restore_going_on: a restart at the same
 * parallelism) takes that main's segments over; one restored any other way (rescaled, merged,
 * keys remapped, a full snapshot) starts with no segments: its first incremental checkpoint
 * writes every closed pane once more.
 *
 * Version 1 snapshots (full, written before incremental checkpoints) still restore: their header
 * lacks the three fields of part and segments and is read as a full snapshot.
 *
 * Restoring at another parallelism: each new subtask restores the key groups it owns from every
 * old subtask's snapshot (several snapshots merge into one engine; one snapshot splits over
 * several engines). Watermarks: the engine keeps the minimum of the snapshots' watermarks. With
 * aligned barriers all window subtasks snapshot at the same watermark; if they differ, windows of
 * the keys from the snapshot that was ahead whose end lies between the two watermarks fire again
 * (sliced kinds; sessions from the snapshot that was ahead keep their fired state if it was
 * restored first, and fire again if it was restored after the one that is behind). */
#ifndef WR_WINDOW_SNAP_H
#define WR_WINDOW_SNAP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "actors/dataflow/window/window.h"

#define WR_WINDOW_SNAP_VERSION    2     /* written; 1 is still read (full snapshots) */
#define WR_WINDOW_SNAP_MAX_GROUPS 65536 /* max_parallelism limit (Flink's is 32768) */

/* ---- writing ---- */

/* Where a snapshot goes: buffered writes to a file descriptor, or a growing memory buffer. */
typedef struct wr_snap_writer wr_snap_writer_t;

/* A segment of an incremental snapshot: closed pane `pane`, its id (0: not written yet, or the
 * pane holds no data), and whether the caller has to write it. */
typedef struct {
    int64_t pane;
    uint64_t id;
    bool due;
} wr_window_seg_t;

/* A writer appending to fd (borrowed: not closed; written from its current position) through a
 * 1 MiB buffer. NULL on OOM. */
wr_snap_writer_t *wr_snap_writer_new_fd(int fd);
/* A writer into memory (see wr_snap_writer_mem). NULL on OOM. */
wr_snap_writer_t *wr_snap_writer_new_mem(void);
/* Writes out buffered bytes (fd writers; fsync is the caller's). 0, or the first error the writer
 * met: WR_EIO (errno says more) or WR_ENOMEM. */
int wr_snap_writer_flush(wr_snap_writer_t *w);
/* Bytes written so far (buffered ones too). */
uint64_t wr_snap_writer_bytes(const wr_snap_writer_t *w);
/* A memory writer's bytes (*len of them), borrowed until the next write or destroy; NULL for an fd
 * writer. */
const uint8_t *wr_snap_writer_mem(const wr_snap_writer_t *w, size_t *len);
/* Frees the writer (without flushing). NULL-safe; nulls *w. */
void wr_snap_writer_destroy(wr_snap_writer_t **w);

/* Writes a snapshot of w to out, its keys grouped by key_group(ctx, key), which must return a
 * group below max_parallelism (1..WR_WINDOW_SNAP_MAX_GROUPS), and flushes out. w is not changed.
 * Returns 0, WR_EINVAL (bad arguments, or a key group out of range), WR_ENOMEM, or the writer's
 * error (WR_EIO); the bytes written after an error are garbage. Extra memory: 2 bytes a key, the
 * records of a batch of key groups (about 32 MiB) and the writer's buffer. */
int wr_window_snapshot(const wr_window_t *w, uint32_t max_parallelism,
                       uint32_t (*key_group)(void *ctx, uint64_t key), void *ctx,
                       wr_snap_writer_t *out);

/* Sets the records w's snapshots stage per batch of key groups, about: memory against speed (0:
 * the default, 32 MiB; 1: one group a batch, the walk in key-group order; window_snap_walk.c).
 * The bytes written do not depend on it. For tests and benchmarks. */
void wr_window_snapshot_batch(wr_window_t *w, uint64_t bytes);

/* ---- incremental snapshots (see above) ---- */

/* Whether w takes incremental snapshots: tumbling and sliding windows of the memory backend. */
bool wr_window_incremental(const wr_window_t *w);

/* The segments a main of w references, in pane order: the engine's sealed panes that are still
 * live, then every pane that closed since (up to the one being written ahead, if any: the main
 * holds that one and the later ones whole): written ahead (its id, due false), or due = true
 * unless it provably holds no data (then id 0, due false). A caller may set due on a sealed pane
 * whose file it lost: it is then written again. Returns how many were set in out (at most cap;
 * WR_WINDOW_MAX_RING + 1 always suffices), or WR_EINVAL (not incremental). w is not changed. */
int wr_window_segments(const wr_window_t *w, wr_window_seg_t *out, size_t cap);

/* Writes the segment of closed pane `pane` of w to out (grouped as wr_window_snapshot) and sets
 * *id (never 0). w is not changed. 0, WR_EINVAL (not incremental, pane not closed or expired, bad
 * arguments), WR_ENOMEM or the writer's error. */
int wr_window_snapshot_segment(const wr_window_t *w, int64_t pane, uint32_t max_parallelism,
                               uint32_t (*key_group)(void *ctx, uint64_t key), void *ctx,
                               wr_snap_writer_t *out, uint64_t *id);

/* Writes the main part referencing segs[0..n) (from wr_window_segments, every due one written,
 * its id set) and flushes out; on success commits: the engine's sealed panes become those of
 * segs, and the dirty marks of expired panes and of rewritten segments go. 0, WR_EINVAL (segs
 * not what wr_window_segments gave, a due one without id), WR_ENOMEM or the writer's error: then
 * w is as before. */
int wr_window_snapshot_main(wr_window_t *w, const wr_window_seg_t *segs, size_t n,
                            uint32_t max_parallelism,
                            uint32_t (*key_group)(void *ctx, uint64_t key), void *ctx,
                            wr_snap_writer_t *out);

/* wr_window_snapshot_main and the due segments of segs (each to its seg_out[i], NULL for the
 * others; their ids set) in one pass over the keys: the checkpoint's way (a key's entry is read
 * once for all its panes). The main's header goes last into room kept for it: an fd writer's fd
 * must be seekable (a file). Flushes every writer it wrote. 0, WR_EINVAL (as
 * wr_window_snapshot_main, a due segment without a writer), WR_ENOMEM or a writer's error: then
 * w is as before. */
int wr_window_snapshot_incremental(wr_window_t *w, wr_window_seg_t *segs, size_t n,
                                   uint32_t max_parallelism,
                                   uint32_t (*key_group)(void *ctx, uint64_t key), void *ctx,
                                   wr_snap_writer_t *const *seg_out, wr_snap_writer_t *out);

/* ---- segments written ahead (see above) ---- */

/* The closed pane whose segment can be written ahead next: the lowest after the sealed ones that
 * holds data and is not written ahead yet. 1 and *pane, 0 (none, or one is being written or a
 * firing is paused), WR_EINVAL (not incremental). */
int wr_window_ahead_next(const wr_window_t *w, int64_t *pane);
/* Begins writing the segment of pane (what wr_window_ahead_next gave) to out, borrowed until the
 * segment is done or abandoned (wr_window_ahead_busy turns false); its header is written now, the
 * rest in steps. Late records into the pane are marked dirty from now on, even if it is
 * abandoned. 0, WR_EINVAL (not that pane, bad arguments), WR_ENOMEM or the writer's error. Extra
 * memory while it runs: 2 bytes a key and a batch's records (about 32 MiB). */
int wr_window_ahead_begin(wr_window_t *w, int64_t pane, uint32_t maxp,
                          uint32_t (*key_group)(void *ctx, uint64_t key), void *ctx,
                          wr_snap_writer_t *out);
/* One step: a batch of key groups into the writer. 1: the segment is written and flushed, and
 * kept for the next main (its id in wr_window_segments); 0: more steps to go; WR_EINVAL: none is
 * being written; else an error: it is abandoned (the writer's bytes are garbage; the next
 * checkpoint writes the pane). */
int wr_window_ahead_step(wr_window_t *w);
/* The steps left of the segment being written, at once: 0 (done, or none), or step's error. */
int wr_window_ahead_finish(wr_window_t *w);
/* Whether a segment is being written ahead (its writer still borrowed). A sweep that may remove
 * keys (the firing at the end of a slide) finishes it first, so this can turn false inside
 * wr_window_advance; the segment is then written, or abandoned after an error. */
bool wr_window_ahead_busy(const wr_window_t *w);
/* Stops writing the segment (the writer's bytes are garbage). NULL-safe. */
void wr_window_ahead_abandon(wr_window_t *w);

/* ---- reading ---- */

/* Maps the whole file fd read-only into *data, *len (the fd may be closed afterwards). 0,
 * WR_EPROTO for an empty file, WR_EIO. */
int wr_snap_map(int fd, const uint8_t **data, size_t *len);
/* The same for the file at path: 0, WR_ENOTFOUND (no such file), WR_EPROTO (empty) or WR_EIO. */
int wr_snap_map_path(const char *path, const uint8_t **data, size_t *len);
/* Unmaps what wr_snap_map mapped. NULL-safe. */
void wr_snap_unmap(const uint8_t *data, size_t len);

/* Adds the keys of key groups [kg_lo, kg_hi) of the snapshot snap[0..len) to w, an engine made
 * with the same spec (the ring size may differ) that holds none of those keys yet: fresh, or
 * restored from other snapshots or other key groups. With map_key, a key k is stored as
 * map_key(ctx, k) (the operator's new id for it). The watermark becomes the minimum of w's and the
 * snapshot's (w's own when fresh: never advanced and empty); see above.
 *
 * The bytes are untrusted: every length, offset and value is checked. Header, index and the
 * sections of [kg_lo, kg_hi) are checksummed before w is touched, so damage leaves w as it was.
 * Returns 0, or
 *   WR_EPROTO    not a snapshot, truncated, checksum mismatch, inconsistent contents
 *   WR_EVERSION  another format version
 *   WR_EINVAL    bad arguments, kg_hi above the snapshot's max_parallelism, or w's spec is not
 *                the snapshot's (kind, sizes, lateness, aggregates, sketch accuracy)
 *   WR_EEXIST    a key (after map_key) is already in w
 *   WR_ETOOBIG   too many keys; WR_ENOMEM
 * Bytes whose checksums hold but whose contents do not (made, not damaged) can fail part way:
 * after WR_EEXIST, WR_ETOOBIG, WR_ENOMEM or a WR_EPROTO from a section's contents, w holds part
 * of the snapshot (and maybe the snapshot's watermark): destroy it. */
int wr_window_restore(wr_window_t *w, const uint8_t *snap, size_t len, uint32_t kg_lo,
                      uint32_t kg_hi, uint64_t (*map_key)(void *ctx, uint64_t key), void *ctx);

/* A stream of a snapshot: a segment handed to wr_window_restore_parts. */
typedef struct {
    const uint8_t *data;
    size_t len;
} wr_snap_part_t;

/* wr_window_restore for a main part and its segments (any order; each of the main's segments with
 * id != 0 exactly once, nothing else); with n = 0 the same as wr_window_restore (any part 0
 * snapshot). The main's keys come first and override the segments' accumulators of the same
 * pane. Every segment's header, trailer and sections of [kg_lo, kg_hi) are checked before w is
 * touched; a segment not listed, listed twice or missing is WR_EPROTO. Otherwise as
 * wr_window_restore. */
int wr_window_restore_parts(wr_window_t *w, const uint8_t *snap, size_t len,
                            const wr_snap_part_t *segs, size_t n, uint32_t kg_lo, uint32_t kg_hi,
                            uint64_t (*map_key)(void *ctx, uint64_t key), void *ctx);

/* wr_window_restore_parts for the subtask that wrote the snapshot, going on (a restart after a
 * failure at the same parallelism): when w was fresh (made, nothing fed or restored), the
 * snapshot is a main and it and every one of its segments hold keys of groups [kg_lo, kg_hi)
 * only, w takes the main's segments as its own (*adopted true): its next main references them
 * (wr_window_segments lists them with their ids, not due) instead of writing every closed pane
 * once more, and the sealed panes whose accumulators the main carried (late changes since their
 * segment was written) are marked dirty, so that every later main carries them too. Keys are
 * not mapped (the segments keep the keys as written). Otherwise (*adopted false) the same as
 * wr_window_restore_parts without map_key. */
int wr_window_restore_going_on(wr_window_t *w, const uint8_t *snap, size_t len,
                               const wr_snap_part_t *segs, size_t n, uint32_t kg_lo, uint32_t kg_hi,
                               bool *adopted);

/* Internal, for tests and fuzzing: recomputes every checksum of snap[0..len) that its structure
 * lets it find, so that damage inside passes the checksums and reaches the decoder. */
void wr__window_snap_reseal(uint8_t *snap, size_t len);

#endif
