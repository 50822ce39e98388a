/* A synthetic producer/consumer pair over one credit-based data channel (bus/channel.h): the
 * source sends `batches` batches of `batch_records` fixed-size records, the sink checks that every
 * record arrives exactly once and in order. Used by the flow-control tests and `weir bench bus`.
 *
 * Record k (counting from 0 over the whole stream) is record_size bytes: k as a little-endian
 * u64, then bytes equal to (k & 0xff). The caller owns the result structs and reads them from any
 * thread (atomics) while the actors run; they must outlive the actors. */
#ifndef WR_SYNTHETIC_H
#define WR_SYNTHETIC_H

#include <stdatomic.h>
#include <stdint.h>

#include "actors/runtime/node.h"

typedef struct {
    _Atomic uint64_t batches_sent;
    _Atomic uint64_t credit_waits;  /* times the source had to stop for lack of credit */
    _Atomic uint64_t max_in_flight; /* most batches sent but not yet credited back */
    _Atomic int64_t start_ns, end_ns;
    _Atomic int error;
} wr_synth_source_result_t;

typedef struct {
    _Atomic uint64_t batches;
    _Atomic uint64_t records;
    _Atomic uint64_t bad_records; /* out of order, duplicated or corrupt */
    _Atomic uint32_t max_depth;   /* deepest the sink's mailbox got */
    _Atomic int64_t end_ns;
    _Atomic int done;  /* 1 once CHANNEL_END arrived with nothing missing */
    _Atomic int error; /* first channel error (WR_E*), 0 if none */
} wr_synth_sink_result_t;

typedef struct {
    const char *path; /* actor path on node */
    const char *sink; /* the sink's address node/path */
    uint64_t channel;
    uint64_t batches;
    uint32_t batch_records;
    uint32_t record_size; /* >= 8 */
    wr_synth_source_result_t *result;
} wr_synth_source_opts_t;

typedef struct {
    const char *path;
    uint64_t channel;
    uint32_t window; /* credits: batches in flight at most */
    uint32_t record_size;
    int64_t delay_us; /* per batch: a slow consumer */
    wr_synth_sink_result_t *result;
} wr_synth_sink_opts_t;

int wr_synth_source_spawn(wr_node_t *node, const wr_synth_source_opts_t *opts);
int wr_synth_sink_spawn(wr_node_t *node, const wr_synth_sink_opts_t *opts);

#endif
