/* Output and input gates of a subtask: the data plane between subtask actors.
 *
 * Output gate: one credit-based channel (bus/channel.h) per downstream subtask. Records are
 * partitioned into per-channel batches (forward, rebalance or hash by key group), a full batch is
 * sealed straight into its message and sent while the channel has credit, otherwise queued behind
 * the channel's earlier messages. Watermarks and the end of the stream travel in band on every
 * channel, after the records that precede them. A subtask stops producing while any channel has
 * more than a batch or two queued: that is how a slow consumer slows its sources down, with memory
 * bounded by credits plus that small queue.
 *
 * Input gate: one receiving channel per upstream subtask. It grants credits when an upstream opens
 * its channel, decodes batches, returns credit as they are consumed, tracks each channel's
 * watermark and end, and combines them: a subtask's watermark is the minimum over its inputs that
 * have not ended and are not idle (no data or watermark for idle_timeout_ms). Checkpoint barriers
 * are aligned (Flink's exactly-once mode): a channel that delivered barrier n holds everything
 * after it until every input delivered n or ended. */
#ifndef WR_GATE_H
#define WR_GATE_H

#include <stdbool.h>
#include <stdint.h>

#include "actors/runtime/actor.h"
#include "actors/dataflow/record/batch.h"

enum wr_partition { WR_PART_FORWARD, WR_PART_REBALANCE, WR_PART_HASH };

#define WR_GATE_DIR_MAX     512
#define WR_GATE_BATCH_BYTES (4u << 20)

typedef struct wr_gate_out wr_gate_out_t;
typedef struct wr_gate_in wr_gate_in_t;

typedef struct {
    const wr_schema_t *schema; /* of the records going out */
    enum wr_partition partition;
    int key_field;            /* WR_PART_HASH: the field to hash */
    uint32_t max_parallelism; /* key groups */
    uint32_t batch_records;   /* records per sealed batch, at most */
    uint32_t batch_bytes;     /* string bytes per sealed batch: it is sealed once its strings
                                 reach this (a batch of long lines stays far below
                                 bus.max-message-size); 0: WR_GATE_BATCH_BYTES */
    uint32_t nchannels;
    const char *const *targets; /* nchannels downstream actor addresses */
    const uint64_t *channel_ids;
} wr_gate_out_opts_t;

/* NULL when out of memory or the options are inconsistent. */
wr_gate_out_t *wr_gate_out_new(const wr_gate_out_opts_t *o);
void wr_gate_out_destroy(wr_gate_out_t **g);
/* Sends CHANNEL_OPEN on every channel that has no credit yet (call at start, and again on a timer
 * until wr_gate_out_open: a downstream subtask may not be deployed yet). */
int wr_gate_out_open(wr_gate_out_t *g, wr_actor_t *self);
bool wr_gate_out_is_open(const wr_gate_out_t *g);
/* Partitions the records of b (or those listed in sel[0..nsel), when sel is not NULL). */
int wr_gate_out_push(wr_gate_out_t *g, wr_actor_t *self, const wr_batch_t *b, const uint32_t *sel,
                     uint32_t nsel);
/* Seals every partial batch and sends the watermark on every channel (if it advanced). origin_ms:
 * wall-clock time when the source made this watermark (travels with it, for delay figures). */
int wr_gate_out_watermark(wr_gate_out_t *g, wr_actor_t *self, int64_t wm, int64_t origin_ms);
/* Seals every partial batch and sends a checkpoint barrier on every channel: what went before it
 * is in the state of `checkpoint` (> 0), what comes after is not. dir: the folder where that
 * checkpoint's state files go (shorter than WR_GATE_DIR_MAX). */
int wr_gate_out_barrier(wr_gate_out_t *g, wr_actor_t *self, uint64_t checkpoint, const char *dir);
/* Seals what is left and ends every channel. */
int wr_gate_out_end(wr_gate_out_t *g, wr_actor_t *self);
/* Applies a CREDIT message and sends what it allows. WR_EPROTO for an unknown channel. */
int wr_gate_out_credit(wr_gate_out_t *g, wr_actor_t *self, const wr_msg_t *m);
/* Sends what a full mailbox or bus held back earlier, and asks again (CHANNEL_OPEN) for credit a
 * channel with batches queued has not heard of for a second: a CREDIT lost with a peer's
 * connection would otherwise stall it for good (call on a timer while not drained). */
int wr_gate_out_retry(wr_gate_out_t *g, wr_actor_t *self);
/* True while any channel has a backlog: the producer should wait for credit. A true answer
 * counts once in wr_gate_out_blocked_count and opens a blocked interval (if none is open), which
 * the first check or credit that finds no backlog closes. */
bool wr_gate_out_blocked(wr_gate_out_t *g);
/* True once every message (end included) has been sent. */
bool wr_gate_out_drained(const wr_gate_out_t *g);
uint64_t wr_gate_out_records(const wr_gate_out_t *g);
/* Times a producer found the gate blocked: backpressure, for `weir job`. */
uint64_t wr_gate_out_blocked_count(const wr_gate_out_t *g);
/* The time a producer spent waiting on the gate, in ms (the open interval counted up to now):
 * Flink's back-pressured time. */
uint64_t wr_gate_out_blocked_ms(const wr_gate_out_t *g);

typedef struct {
    const wr_schema_t *schema; /* of the records coming in */
    uint32_t nchannels;        /* upstream subtasks expected */
    uint32_t window;           /* credits per channel */
    int64_t idle_timeout_ms;   /* 0: inputs never count as idle */
} wr_gate_in_opts_t;

/* What an input message meant. */
typedef enum {
    WR_IN_NOTHING,   /* handled (channel opened, credit bookkeeping) */
    WR_IN_BATCH,     /* a batch decoded into the gate's batch: process it, then wr_gate_in_done */
    WR_IN_WATERMARK, /* the combined watermark advanced: *wm */
    WR_IN_END,       /* every input has ended */
    WR_IN_HOLD,      /* not handled: its channel delivered the barrier being aligned; hand the
                        message again after WR_IN_BARRIER (per channel, in order) */
    WR_IN_BARRIER    /* every input delivered barrier wr_gate_in_barrier (or ended): snapshot,
                        pass it on, then hand the held messages again */
} wr_in_event_t;

wr_gate_in_t *wr_gate_in_new(const wr_gate_in_opts_t *o);
void wr_gate_in_destroy(wr_gate_in_t **g);
/* Handles CHANNEL_OPEN (the first opens the channel and grants the window; every later one is
 * answered with the credit total again), DATA_BATCH, WATERMARK, CHANNEL_END. Returns 0 with *ev
 * set, or WR_EPROTO for a broken channel (lost or duplicated batch, undecodable records, unknown
 * channel). */
int wr_gate_in_handle(wr_gate_in_t *g, wr_actor_t *self, const wr_msg_t *m, wr_in_event_t *ev,
                      int64_t *wm);
/* The batch decoded by the last WR_IN_BATCH (valid until the next handle call). */
wr_batch_t *wr_gate_in_batch(wr_gate_in_t *g);
/* The last batch is consumed: returns credit when enough is owed. With hold, the credit is kept
 * back instead (the subtask's own output is blocked: its inputs must wait too) until
 * wr_gate_in_release. Credit for a producer that has stopped (no such actor: it ended, failed or
 * was canceled, the job is ending or failing over) is dropped and counted
 * (wr_gate_in_credits_undelivered), not an error; other send failures are returned. */
int wr_gate_in_done(wr_gate_in_t *g, wr_actor_t *self, bool hold);
/* Returns every credit held back. */
int wr_gate_in_release(wr_gate_in_t *g, wr_actor_t *self);
/* Re-evaluates idleness (call on a timer). WR_IN_WATERMARK when an idle input let it advance. */
wr_in_event_t wr_gate_in_tick(wr_gate_in_t *g, int64_t *wm);
int64_t wr_gate_in_watermark(const wr_gate_in_t *g);
/* When the source made the watermark whose arrival let the combined watermark pass to where it
 * was last reported (wall ms; 0 if unknown): an input that was ahead waits for the others, and
 * that wait belongs to the watermarks' cadence, not to what happens after they passed. */
int64_t wr_gate_in_watermark_origin(const wr_gate_in_t *g);
uint64_t wr_gate_in_records(const wr_gate_in_t *g);
/* Credits not sent because their producer had stopped (wr_gate_in_done). */
uint64_t wr_gate_in_credits_undelivered(const wr_gate_in_t *g);
/* The checkpoint of the last barrier seen (0: none yet), and its state folder. */
uint64_t wr_gate_in_barrier(const wr_gate_in_t *g);
const char *wr_gate_in_barrier_dir(const wr_gate_in_t *g);
/* How long the last alignment took: from its first barrier to its last, ns. */
int64_t wr_gate_in_alignment_ns(const wr_gate_in_t *g);

#endif
