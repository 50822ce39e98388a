/* Splits: the pieces a source is cut into (Flink's FLIP-27 SourceSplit): a file, one of the
 * generator's offset streams, later a Kafka partition. A split is the unit a source subtask reads,
 * the unit of its position in a checkpoint, and the unit dealt out again when a job is restored
 * at another parallelism. See connector.h for who makes and reads them.
 *
 * A split is an id (stable for the split's life: "3/8" for the generator's offsets 3 mod 8, "0"
 * for a source's first file, "topic/3"), its position (where reading resumes, bytes in the
 * connector's own encoding, msgpack by convention), the latest event time read from it (where its
 * watermark resumes), and the subtask it is assigned to.
 *
 * A source subtask's checkpoint state ("source" blob, actors/taskmanager/task_ckpt.c) is the list
 * of its splits: msgpack [1, [[id, event time, position (bin)], ...]]. It comes back from files,
 * so wr_splits_decode trusts nothing (tests/fuzz/fuzz_source_state.c). */
#ifndef WR_SPLIT_H
#define WR_SPLIT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "bus/base/strbuf.h"

#define WR_SPLIT_ID_MAX        64 /* NUL included */
#define WR_SPLIT_POSITION_MAX  4096
#define WR_SPLIT_STATE_VERSION 1
#define WR_SPLITS_MAX          (1u << 20) /* splits of one source, restored or made */

typedef struct {
    char id[WR_SPLIT_ID_MAX];
    int64_t event_time; /* INT64_MIN: nothing read from it yet */
    uint32_t subtask;   /* the reader it is assigned to (see wr_splits_assign) */
    uint32_t pos_len;
    uint8_t *pos; /* owned; NULL when pos_len is 0 */
} wr_split_t;

/* A list of splits (zero-initialise; wr_splits_release frees it). */
typedef struct {
    wr_split_t *v;
    uint32_t n, cap;
} wr_splits_t;

/* Appends a split: id (1 to WR_SPLIT_ID_MAX - 1 bytes), its position (copied) and event time;
 * subtask 0. WR_EINVAL for a bad id or a position over WR_SPLIT_POSITION_MAX, WR_ETOOBIG past
 * WR_SPLITS_MAX splits, WR_ENOMEM. */
int wr_splits_add(wr_splits_t *s, const char *id, const void *pos, size_t pos_len,
                  int64_t event_time);
/* Replaces split i's position with a copy of pos. WR_EINVAL (too long), WR_ENOMEM. */
int wr_splits_set_position(wr_splits_t *s, uint32_t i, const void *pos, size_t pos_len);
/* Removes split i (the last one takes its place). */
void wr_splits_remove(wr_splits_t *s, uint32_t i);
/* Empties the list, keeping its storage. */
void wr_splits_clear(wr_splits_t *s);
void wr_splits_release(wr_splits_t *s);

/* Positions of simple connectors: n unsigned integers as msgpack [v0, v1, ...] (a file's byte
 * offset and line, a Kafka partition's offset). Appends to out: 0 or WR_ENOMEM. */
int wr_split_position_pack(const uint64_t *v, uint32_t n, wr_strbuf_t *out);
/* Reads split s's position as exactly n such integers into v: WR_EPROTO for anything else. */
int wr_split_position_read(const wr_split_t *s, uint64_t *v, uint32_t n);

/* Deals the splits out to p readers in list order: split k to subtask k mod p (every reader gets
 * as many as the others, or one less). The default assignment; a connector may assign otherwise
 * (by a hash of the id, say) in its enumerator. */
void wr_splits_assign(wr_splits_t *s, uint32_t p);

/* Appends one subtask's state, the splits in s, to out: 0 or WR_ENOMEM (out as it was). */
int wr_splits_encode(const wr_splits_t *s, wr_strbuf_t *out);
/* Appends the splits of one state to out (subtask 0 each). WR_EVERSION for another version;
 * WR_EPROTO for anything malformed (truncated, wrong types, trailing bytes, a bad id, a position
 * too long); WR_ETOOBIG past WR_SPLITS_MAX in out; WR_ENOMEM. On failure out holds what it held
 * before. Whether the splits make sense together (no two of one id, positions a reader
 * understands) is the enumerator's to check. */
int wr_splits_decode(const uint8_t *data, size_t len, wr_splits_t *out);

#endif
