/* The pane store: a RocksDB-backed store of sorted pane runs, the `rocksdb` state backend of the
 * sliced window operator (actors/dataflow/window/window.h). A library: no actors, no threads of its
 * own.
 *
 * Why runs and not per-record state. A RocksDB get+put of one small value costs ~20 us here (50
 * K/s), a sorted bulk load ~1 us per key. So the operator keeps aggregating its open panes in
 * memory and hands each pane to the store ONCE, when it closes, as a run sorted by (key group,
 * key). A window fires by merging its panes' runs in key order (a k-way merge over one iterator per
 * pane); expired panes are dropped by range; late records that hit a closed pane are the rare
 * read-modify-write. Runs are immutable SST files (each put_run ingests its own file), so an
 * incremental checkpoint only has to upload the files of the panes closed since the previous one.
 *
 * Layout. One DB per subtask in a local directory. A RocksDB key is 18 bytes: pane (i64, sign bit
 * flipped, big-endian) + key group (u16 BE) + the block's first key (u64 BE); its value is a block
 * of 1..2 x block_entries entries of one key group, sorted by key, stored as columns: n keys
 * (u64, little-endian) then n accumulators of acc_size bytes. A restore of key groups [lo, hi) is
 * one key range per pane.
 *
 * Tails. A store opened with cfg.tails gives each entry a variable-length tail after its
 * accumulator (the window engine keeps quantile sketches there; the store does not read it). Its
 * blocks are then: n (u32), n keys, n accumulators, n tail end offsets (u32, cumulative from the
 * first tail byte), the tails. Reading a block checks that every part fits and the offsets
 * ascend to exactly the value's end (WR_EPROTO otherwise); a block is cut early when its tails
 * pass 1 MiB. One DB is always opened with the same cfg.tails (not checked against the data).
 * Writes skip the WAL (checkpoints give durability); auto compaction is off (runs are written once
 * in key order and dropped by range: compaction would only rewrite them); memory is bounded by the
 * block cache and two write buffers (index blocks are in the cache too).
 *
 * Not thread-safe: one thread drives a store. Every function returns 0 or a negative WR_E* code
 * (RocksDB errors become WR_EIO, with RocksDB's message in wr_panestore_last_error). */
#ifndef WR_PANESTORE_H
#define WR_PANESTORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct wr_panestore wr_panestore_t;
typedef struct wr_panestore_cursor wr_panestore_cursor_t;

#define WR_PANESTORE_MAX_ACC   4096   /* bytes per accumulator */
#define WR_PANESTORE_MAX_BLOCK 65536  /* entries per block */
#define WR_PANESTORE_MAX_PANES 64     /* panes one cursor merges */
#define WR_PANESTORE_KG_END    65536u /* key groups are u16: [lo, hi) with hi <= this */

typedef struct {
    uint32_t acc_size;           /* bytes per accumulator, 1..WR_PANESTORE_MAX_ACC; the same for
                                    every open of one DB (not checked against the data) */
    uint32_t block_entries;      /* entries per block when a run is written (0: 1024) */
    uint64_t cache_bytes;        /* LRU block cache, data and index blocks (0: 64 MiB) */
    uint64_t write_buffer_bytes; /* per memtable, at most two (0: 16 MiB) */
    bool lz4;                    /* compress SST blocks with LZ4 (default: none) */
    bool write_batch;            /* put_run through write batches instead of SST ingestion (only
                                    to compare; ingestion is faster and keeps runs one file each) */
    bool mmap_reads;             /* read SST files through mmap: a re-read merge costs half, but
                                    the first read of a file pays a page fault per page and the
                                    mapped files count in the RSS (default: pread) */
    bool tails;                  /* entries carry a tail (see "Tails" above) */
} wr_panestore_config_t;

/* Opens the DB in dir, creating dir and the DB when missing. Opening a directory restored from a
 * checkpoint (the checkpoint's files copied into it) restores that state; its SST files count as
 * already uploaded, so the next checkpoint is incremental against them. On failure returns NULL
 * and sets *err (WR_EINVAL for a bad config, WR_EIO from RocksDB). */
wr_panestore_t *wr_panestore_open(const char *dir, const wr_panestore_config_t *cfg, int *err);
/* Closes the DB (the directory stays) and nulls *p. NULL-safe. */
void wr_panestore_close(wr_panestore_t **p);

/* RocksDB's message for the last WR_EIO (borrowed, "" when none). */
const char *wr_panestore_last_error(const wr_panestore_t *s);

/* ---- writing ---- */

/* Writes closed pane `pane` as one sorted run of n entries: kg[i], key[i] and the accumulator at
 * acc + i * acc_size, strictly increasing in (kg, key). WR_EINVAL (nothing written) when they are
 * not, or n is 0, or the store has tails; WR_EEXIST when the pane already holds data (a pane is
 * written once: late records go through update_one). */
int wr_panestore_put_run(wr_panestore_t *s, int64_t pane, const uint16_t *kg, const uint64_t *key,
                         const void *acc, size_t n);

/* The stored form of entry i of a run being written: acc is the store's copy of its accumulator
 * (the caller's acc + i * acc_size), which it may rewrite; returns the entry's tail, *len bytes
 * (borrowed until the next call; NULL when *len is 0). */
typedef const void *(*wr_panestore_encode_fn)(void *ctx, size_t i, uint8_t *acc, size_t *len);

/* put_run for a store with tails: each entry's accumulator and tail come through encode (called
 * once per entry, in order). WR_EINVAL as put_run, and for a store without tails. */
int wr_panestore_put_run_tails(wr_panestore_t *s, int64_t pane, const uint16_t *kg,
                               const uint64_t *key, const void *acc, size_t n,
                               wr_panestore_encode_fn encode, void *ctx);

/* Combines a late update into a stored entry: dst is its accumulator (acc_size bytes, the store's
 * copy of the block), updated in place; with tails, *tail and *tail_len hold its tail on entry
 * and the new one on return (borrowed from ctx until update_one returns). Returns 0, or a
 * negative WR_E* code that update_one returns without writing anything. */
typedef int (*wr_panestore_merge_fn)(void *ctx, void *dst, const void **tail, size_t *tail_len);

/* One late update of (pane, kg, key): if the key is stored, merge combines it (with merge NULL,
 * acc and tail replace it); otherwise acc and tail (tail_len bytes; ignored without tails) are
 * inserted, into the block that covers the key or a new block. One block read-modify-write: rare
 * records only. */
int wr_panestore_update_one(wr_panestore_t *s, int64_t pane, uint16_t kg, uint64_t key,
                            const void *acc, const void *tail, size_t tail_len,
                            wr_panestore_merge_fn merge, void *ctx);

/* Copies the accumulator of (pane, kg, key) to acc_out and, when tail is not NULL, its tail to a
 * new buffer *tail (the caller frees it; NULL when empty) of *tail_len bytes. WR_ENOTFOUND when
 * not stored, WR_EPROTO for a damaged block, WR_ENOMEM. */
int wr_panestore_get_one(wr_panestore_t *s, int64_t pane, uint16_t kg, uint64_t key, void *acc_out,
                         void **tail, size_t *tail_len);

/* Drops every pane < pane: whole files go at once (DeleteFilesInRange), the rest under a range
 * tombstone. */
int wr_panestore_drop_panes_below(wr_panestore_t *s, int64_t pane);

/* Drops pane `pane` alone (whole files at once, the rest under a range tombstone). */
int wr_panestore_drop_pane(wr_panestore_t *s, int64_t pane);

/* ---- the merge cursor ---- */

/* What a cursor yields per key: the accumulators the key has in the cursor's panes (n of them,
 * 1..panes, in increasing pane order), their tails (a store with tails; else NULL and 0) and
 * those panes. Pointers are borrowed and valid until the next call on the cursor. */
typedef struct {
    uint16_t kg;
    uint64_t key;
    size_t n;
    const uint8_t *acc[WR_PANESTORE_MAX_PANES];
    const uint8_t *tail[WR_PANESTORE_MAX_PANES];
    uint32_t tail_len[WR_PANESTORE_MAX_PANES];
    int64_t pane[WR_PANESTORE_MAX_PANES];
} wr_panestore_row_t;

/* A cursor over panes [p0, p1) (1..WR_PANESTORE_MAX_PANES panes) and key groups [kg_lo, kg_hi)
 * (kg_hi <= WR_PANESTORE_KG_END; 0, WR_PANESTORE_KG_END for all): yields every key present in any
 * of those panes once, in (kg, key) order. It reads a consistent snapshot taken now; the store
 * must outlive it. NULL with *err on failure. */
wr_panestore_cursor_t *wr_panestore_cursor_new(wr_panestore_t *s, int64_t p0, int64_t p1,
                                               uint32_t kg_lo, uint32_t kg_hi, int *err);
/* The next key into *row: 1, or 0 at the end, or a negative WR_E* code (WR_EIO, WR_EPROTO for a
 * corrupt block). */
int wr_panestore_cursor_next(wr_panestore_cursor_t *c, wr_panestore_row_t *row);
void wr_panestore_cursor_destroy(wr_panestore_cursor_t **p);

/* ---- checkpoints ---- */

typedef struct {
    char name[64]; /* file name in the checkpoint directory */
    uint64_t bytes;
    bool is_new; /* not in any earlier checkpoint of this store: must be uploaded */
} wr_panestore_file_t;

typedef struct {
    wr_panestore_file_t *v; /* owned: wr_panestore_files_release */
    size_t n;
    uint64_t total_bytes, new_bytes;
} wr_panestore_files_t;

/* Writes a checkpoint of everything written so far into dir (which must not exist; the same
 * filesystem as the DB, so SST files are hard links), and lists its files into *out (released by
 * the caller; zeroed on failure). SST files are immutable and uniquely numbered: one reported by
 * an earlier checkpoint of this store (or present when it was opened) is not new; other files
 * (MANIFEST, CURRENT, OPTIONS) are always new and small. A file counts as reported once listed, so
 * a caller whose upload failed must upload the full list next time. */
int wr_panestore_checkpoint(wr_panestore_t *s, const char *dir, wr_panestore_files_t *out);
void wr_panestore_files_release(wr_panestore_files_t *f);

#endif
