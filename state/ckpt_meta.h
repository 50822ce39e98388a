/* Checkpoint metadata: the model of one completed checkpoint or savepoint, and its file format.
 *
 * A checkpoint is a job id, a checkpoint id, a kind, trigger and completion wall times and a list
 * of task states. A task state is what one subtask of one vertex snapshotted: the vertex id, the
 * subtask index, the parallelism it ran at, its key-group range [kg_lo, kg_hi) and a list of named
 * blobs. A blob is either inline bytes (small state: source offsets, a sink's pending files) or a
 * reference to a file: exclusive (in the checkpoint's own folder) or shared (in the job's shared/
 * folder, referenced by several checkpoints: incremental RocksDB SST files).
 *
 * The model is plain values: every struct here is public and every pointer in it is owned by the
 * enclosing wr_ckpt_meta_t (freed by wr_ckpt_meta_destroy).
 *
 * File format (`_metadata`): a 16-byte header, then a msgpack payload.
 *   bytes 0..3   magic "WRCK"
 *   bytes 4..7   format version, u32 big-endian (WR_CKPT_META_VERSION)
 *   bytes 8..11  payload length, u32 big-endian (exactly the rest of the file)
 *   bytes 12..15 CRC-32 (IEEE, as zlib's crc32) of the payload, u32 big-endian
 *   payload      [job, id, kind, trigger_ms, complete_ms, incremental_size, [task...]]
 *     task       [vertex, subtask, parallelism, kg_lo, kg_hi, [blob...]]
 *     blob       [name, 0, bin]            inline
 *                [name, 1 | 2, file, size] exclusive | shared
 * The decoder treats the bytes as untrusted: it checks the header, the length and the CRC, reads
 * the payload with the strict reader (bus/base/mp.h) and validates every value (see below). */
#ifndef WR_CKPT_META_H
#define WR_CKPT_META_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "bus/base/strbuf.h"

#define WR_CKPT_META_VERSION  1u
#define WR_CKPT_META_HDR      16u
#define WR_CKPT_META_MAX      (64u << 20) /* largest metadata file accepted, bytes */
#define WR_CKPT_NAME_MAX      255u        /* longest job id, blob name or file name */
#define WR_CKPT_METADATA_FILE "_metadata"

typedef enum { WR_CKPT_CHECKPOINT = 0, WR_CKPT_SAVEPOINT = 1 } wr_ckpt_kind_t;

typedef enum {
    WR_CKPT_BLOB_INLINE = 0,
    WR_CKPT_BLOB_EXCLUSIVE = 1,
    WR_CKPT_BLOB_SHARED = 2
} wr_ckpt_blob_kind_t;

typedef struct {
    char *name; /* what the operator calls it ("offsets", "rocksdb/000012.sst") */
    wr_ckpt_blob_kind_t kind;
    uint8_t *data; /* INLINE: the bytes (NULL when len is 0) */
    size_t len;    /* INLINE */
    char *file;    /* EXCLUSIVE, SHARED: file name as stored, no '/' */
    uint64_t size; /* EXCLUSIVE, SHARED: file size in bytes */
    char *path;    /* EXCLUSIVE, SHARED: absolute path once resolved, else NULL */
} wr_ckpt_blob_t;

typedef struct {
    uint32_t vertex;
    uint32_t subtask;
    uint32_t parallelism;
    uint32_t kg_lo, kg_hi; /* key-group range [kg_lo, kg_hi) */
    wr_ckpt_blob_t *blobs;
    uint32_t nblobs;
} wr_ckpt_task_t;

typedef struct {
    char *job;
    uint64_t id;
    wr_ckpt_kind_t kind;
    int64_t trigger_ms;        /* wall clock */
    int64_t complete_ms;       /* wall clock */
    uint64_t incremental_size; /* bytes this checkpoint newly wrote (see wr_ckpt_meta_full_size) */
    wr_ckpt_task_t *tasks;
    uint32_t ntasks;
} wr_ckpt_meta_t;

/* Lifecycle. wr_ckpt_meta_new copies job; NULL when out of memory. wr_ckpt_meta_destroy is
 * NULL-safe and nulls *p. */
wr_ckpt_meta_t *wr_ckpt_meta_new(const char *job, uint64_t id, wr_ckpt_kind_t kind);
void wr_ckpt_meta_destroy(wr_ckpt_meta_t **p);

/* Appends a deep copy of t (its blobs, names and bytes; `path` is not copied). WR_EINVAL if t is
 * invalid (see the rules below), WR_EEXIST if the meta already holds that (vertex, subtask),
 * WR_ENOMEM. On failure m is unchanged. */
int wr_ckpt_meta_add_task(wr_ckpt_meta_t *m, const wr_ckpt_task_t *t);
/* The task state of (vertex, subtask), or NULL. Borrowed. */
const wr_ckpt_task_t *wr_ckpt_meta_task(const wr_ckpt_meta_t *m, uint32_t vertex, uint32_t subtask);
/* A deep copy (resolved paths included); NULL when out of memory. */
wr_ckpt_meta_t *wr_ckpt_meta_dup(const wr_ckpt_meta_t *m);

/* Every byte the checkpoint references: inline bytes plus the size of every referenced file (a
 * file referenced by several blobs counts each time). incremental_size counts inline bytes,
 * exclusive files and the shared files this checkpoint added to shared/. */
uint64_t wr_ckpt_meta_full_size(const wr_ckpt_meta_t *m);

/* Validation rules, enforced by add_task, encode and decode: job ids and file names are 1..255
 * bytes, not "." or "..", with no '/' and no NUL, and do not start with '.' (the store's temp
 * names do); exclusive file names are not "_metadata"; blob names are 1..255 bytes with no NUL;
 * parallelism >= 1, subtask < parallelism, kg_lo <= kg_hi; (vertex, subtask) unique. */
bool wr_ckpt_name_valid(const char *s, size_t len);

/* Appends the file image (header and payload) to out. WR_EINVAL if m breaks a rule, WR_ETOOBIG
 * over WR_CKPT_META_MAX, WR_ENOMEM. On failure out keeps its old length. */
int wr_ckpt_meta_encode(const wr_ckpt_meta_t *m, wr_strbuf_t *out);
/* Parses a file image into a new meta (paths unresolved); the caller owns *out. Failures:
 * WR_EPROTO (bad magic, length, CRC, msgpack, a broken rule, trailing bytes), WR_EVERSION (a
 * version this build does not read), WR_ETOOBIG (over WR_CKPT_META_MAX), WR_ENOMEM. On failure
 * *out is NULL. */
int wr_ckpt_meta_decode(const void *buf, size_t len, wr_ckpt_meta_t **out);

/* CRC-32 (IEEE 802.3, reflected, as zlib's crc32(0, buf, len)). */
uint32_t wr_ckpt_crc32(const void *buf, size_t len);

#endif
