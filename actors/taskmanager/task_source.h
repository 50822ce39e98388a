/* A subtask's source: the generator or a file, replayable from a checkpoint (internal to the
 * subtask actor).
 *
 * Generator: the records of a bounded or unbounded run are offsets 0, 1, 2, ...; a source subtask
 * owns a few streams of them, each the offsets next, next + stride, ... (at the start subtask i of
 * p owns the one stream (i, p)). Its position is its streams, so a checkpoint stores them and a
 * restore at another parallelism deals the streams of every old subtask out to the new ones,
 * splitting streams in two (even and odd steps) while there are fewer than subtasks. Streams are
 * read in step, a batch at a time from the one furthest behind, so event time stays in order
 * within a batch or so.
 *
 * File: one reader (parallelism 1); its position is the byte offset of the first line not read
 * yet and the line number there.
 *
 * Both remember the latest event time they produced, so a restored source does not start its
 * watermark from scratch. */
#ifndef WR__TASK_SOURCE_H
#define WR__TASK_SOURCE_H

#include <stdbool.h>
#include <stdint.h>

#include "actors/dataflow/record/batch.h"
#include "actors/dataflow/io/generator.h"
#include "actors/dataflow/io/textin.h"
#include "actors/dataflow/job/topology.h"
#include "bus/base/strbuf.h"

typedef struct {
    uint64_t next, stride;
} wr__stream_t;

typedef struct {
    const wr_topo_source_t *src;
    wr_batch_t *batch;  /* the records of the last wr__source_next */
    int ts_field;       /* -1: no event time */
    int64_t max_ts;     /* latest event time produced (INT64_MIN: none yet) */
    /* generator */
    wr_generator_t *gen;
    uint64_t total; /* UINT64_MAX: unbounded */
    wr__stream_t *streams;
    uint32_t nstreams;
    uint64_t pace_base; /* a restored run: records made before it (pacing goes on from there) */
    uint32_t parallelism;
    /* file */
    int fd;
    wr_textin_t *text;
    char *buf;
    size_t buf_len;
    bool eof;
} wr__source_t;

/* Sets up source `index` of topo for subtask `subtask` of `parallelism` (positions at the start).
 * err gets a reason on failure. */
int wr__source_init(wr__source_t *s, const wr_topology_t *topo, int index, uint32_t subtask,
                    uint32_t parallelism, wr_strbuf_t *err);
void wr__source_release(wr__source_t *s);

/* Fills s->batch with the next records (at most `max`). The generator makes only records due
 * after elapsed_ns (all of them when unpaced). *wait: nothing due yet; *done: nothing left. */
int wr__source_next(wr__source_t *s, uint32_t max, uint64_t elapsed_ns, bool *done, bool *wait);

/* The position and latest event time as msgpack bytes appended to out. */
int wr__source_snapshot(const wr__source_t *s, wr_strbuf_t *out);
/* Restores subtask `subtask` of `parallelism` from the positions of every old subtask of this
 * source (states[0..n), in old subtask order): see above. WR_EPROTO for bytes that do not decode
 * or do not fit this source; err says which. */
int wr__source_restore(wr__source_t *s, const uint8_t *const *states, const size_t *lens,
                       uint32_t n, uint32_t subtask, uint32_t parallelism, wr_strbuf_t *err);

#endif
