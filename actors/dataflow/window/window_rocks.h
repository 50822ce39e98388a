/* The `rocksdb` state backend of the window engine (window.h): tumbling and sliding windows whose
 * closed panes live in a RocksDB pane store (state/panestore.h), with incremental checkpoints.
 *
 * Use: wr_window_new with spec.backend = WR_WINDOW_BACKEND_ROCKSDB and spec.state_dir; then the
 * whole wr_window_* API works as with the memory backend, with the same results record for record
 * (same sums in the same order: exact; quantiles read the same sketches, so they are equal too),
 * pausing sinks included. Sessions are not supported (WR_EINVAL).
 *
 * How. Panes that can still receive on-time records (>= the pane of the watermark, and any ahead
 * of it) are open: one in-memory table per pane, key -> accumulator (keytable.h). When the
 * watermark passes a pane's end the pane closes: it is sorted by (key group, key) and written once
 * as a run (wr_panestore_put_run: one SST file). Windows whose end the watermark passed fire by one
 * merge over their panes: a pane store cursor over the stored runs, plus the runs this watermark
 * just closed, which stay in memory until the firing completes (re-reading a freshly ingested SST
 * file is a cold read). One result per key and window, through the same sink; a full sink pauses
 * the merge between keys (the cursor stays open until wr_window_resume). A window's panes are
 * merged in chunks of up to 64 panes (a cursor's limit), so a watermark that jumps over many
 * windows is fine. Late records (within allowed lateness) for a closed pane are a read-modify-write
 * of the stored block (wr_panestore_update_one, blocks of 128 entries: ~tens of us each, rare
 * records only), then their fired windows fire again from the store, marked late. Panes below the
 * lowest live pane are dropped by range after each firing.
 *
 * Quantiles. An accumulator holds a handle per quantile column into the engine's sketch pool
 * (sketch.h), which the pane store cannot keep: stored entries carry their sketches in the
 * store's tails (panestore.h) in agg.h's stored form (each handle replaced by its entry count,
 * the entries after the accumulator). An open pane's and a just-closed run's sketches stay in the
 * pool, as in the memory engine (the closed run frees them when it goes); stored ones are read
 * where they lie in the block while their key's windows fire (sketch.h's views; checked first: a
 * damaged tail is WR_EPROTO, never a crash), without a copy into the pool; a late record loads,
 * updates and stores its entry's sketches again in the read-modify-write, and its re-fires load
 * the stored ones.
 *
 * Memory: the open panes (about keys x (8 + accumulator) x 1.3 bytes each, usually one or two of
 * them), the sorted runs just closed (keys x (10 + accumulator)), of which the newest stays in
 * memory until the next firing (that firing would otherwise read it cold: the SST writer drops
 * the pages of the file it writes), the sort's scratch (32 bytes a key), and the store's block
 * cache (spec.cache_bytes) and write buffers. Nothing grows with the number of panes per window.
 *
 * Stats (wr_window_stats): keys_live is the largest open pane's keys, panes_live the open panes'
 * entries, spill_panes the late records written into closed panes, sketches the live sketches;
 * memory_bytes counts the open panes, the firing's runs and the sketch pool (not RocksDB's
 * cache).
 *
 * Key groups: stored keys are prefixed with their key group (spec.key_group, or the default
 * hash), so a restore can take a key-group range of a checkpoint. */
#ifndef WR_WINDOW_ROCKS_H
#define WR_WINDOW_ROCKS_H

#include "actors/dataflow/window/window.h"
#include "state/panestore.h"

#define WR_WINDOW_ROCKS_OPEN_FILE "open.wro" /* the open panes in a checkpoint directory */

/* Writes a checkpoint of w (rocksdb backend, not paused) into dir, which must not exist (the same
 * filesystem as spec.state_dir: SST files are hard links): dir/db/ the store's checkpoint (SST
 * files, immutable: once uploaded they never need to be again), dir/open.wro a few bytes naming
 * the open panes' delta runs. The open panes' entries changed since the previous checkpoint are
 * first written to the store as one delta run per open pane (an SST file), so a checkpoint after
 * 1% of the keys changed uploads about 1% of one pane; a pane's deltas are dropped when it closes.
 * Lists every file (names relative to dir) into *out,
 * released by the caller with wr_panestore_files_release; zeroed on failure. is_new marks what this
 * checkpoint must upload: SST files not listed by an earlier checkpoint of this store, and the
 * small files. Returns 0, WR_EINVAL (not rocksdb, paused, NULL), WR_EEXIST (dir exists), WR_EIO,
 * WR_ENOMEM. w is not changed. */
int wr_window_rocks_checkpoint(wr_window_t *w, const char *dir, wr_panestore_files_t *out);

/* A new engine for spec (rocksdb backend; the spec of the checkpointed engine, or one with another
 * state_dir and cache) restored from checkpoint directory ckpt_dir: the store's files are hard
 * linked (or copied) into spec->state_dir, which must not exist; the open panes' keys of key
 * groups [kg_lo, kg_hi) are loaded; windows fire only for keys of those groups. The watermark is
 * the checkpoint's. One checkpoint per engine: merging several (scaling in) is not supported.
 * NULL on failure with *err: WR_EINVAL (bad arguments, or a spec that does not match the
 * checkpoint's: times, lateness, aggregates or sketch accuracy), WR_EPROTO (a damaged or foreign
 * open.wro), WR_EEXIST, WR_EIO, WR_ENOMEM. */
wr_window_t *wr_window_rocks_restore(const wr_window_spec_t *spec, const char *ckpt_dir,
                                     uint32_t kg_lo, uint32_t kg_hi, int *err);

#endif
