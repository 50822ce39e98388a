/* Credit-based flow control for data channels: the receiver grants credits, one per batch it
 * is ready to take; a sender spends one per batch and holds back at zero. Nothing is dropped and
 * nothing queues without bound: at most `credits` batches of a channel are ever in flight or
 * queued at the receiver. Credits also acknowledge delivery: a credit comes back only for a batch
 * that arrived and was consumed, and sequence numbers expose any batch the network lost.
 *
 * A CREDIT carries the total granted since the channel opened, not an increment: the sender's
 * credit is that total less the batches it sent. So a CREDIT repeated or overtaken by a later one
 * changes nothing, and one the network lost (a peer's connection dropped and came back) is made
 * good by the next. When no next one comes (the receiver consumed everything and waits), the
 * sender asks again with CHANNEL_OPEN and the receiver answers with its total: the first
 * CHANNEL_OPEN opens the channel, every later one only asks.
 *
 * These are plain state machines over the channel messages (DATA_BATCH, CREDIT, CHANNEL_END,
 * CHANNEL_OPEN, WATERMARK, BARRIER: bus/messages.h); the actors that own a channel send them. One
 * sender, one receiver. */
#ifndef WR_CHANNEL_H
#define WR_CHANNEL_H

#include <msgpack.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "bus/messages.h"

typedef struct {
    uint64_t channel;
    uint32_t credits;  /* batches it may send now: granted - sent */
    uint64_t granted;  /* the highest total the receiver has granted */
    uint64_t next_seq; /* sequence number of the next batch */
    uint64_t sent;     /* batches sent */
} wr_chan_tx_t;

typedef struct {
    uint64_t channel;
    uint32_t window;   /* credits granted in total (the most batches in flight) */
    uint32_t owed;     /* consumed batches whose credit has not been returned yet */
    uint64_t granted;  /* credits granted since the channel opened */
    uint64_t next_seq; /* sequence number expected next */
    uint64_t received; /* batches received */
    uint64_t records;  /* records received */
    bool ended;        /* CHANNEL_END seen */
} wr_chan_rx_t;

/* A received batch: a borrowed view into the DATA_BATCH payload. */
typedef struct {
    uint64_t seq;
    uint32_t count;         /* records in the batch */
    const uint8_t *records; /* count records, encoded by the sender's convention */
    size_t len;
} wr_chan_batch_t;

void wr_chan_tx_init(wr_chan_tx_t *tx, uint64_t channel);

/* Zero-copy batches: a producer writes its records straight into the message that crosses the
 * bus. The payload starts with the header of DATA_BATCH (wr_msg_data_batch_t: its FIX_ fields
 * make it WR_CHAN_BATCH_HEADER bytes whatever the values), then the records, its bin's bytes. */
#define WR_CHAN_BATCH_HEADER 29
/* A DATA_BATCH message with room for cap bytes of records; NULL when out of memory. */
wr_msg_t *wr_chan_batch_alloc(size_t cap);
static inline uint8_t *wr_chan_batch_records(wr_msg_t *m)
{
    return m->data + WR_CHAN_BATCH_HEADER;
}
/* Seals a batch of `count` records in its first len bytes (len <= its capacity) and spends one
 * credit. WR_EAGAIN without credit (the message is untouched): wait for a CREDIT message. */
int wr_chan_tx_seal(wr_chan_tx_t *tx, wr_msg_t *m, uint32_t count, size_t len);
/* The same batch packed into out, copying the records (for small or occasional senders). */
int wr_chan_tx_batch(wr_chan_tx_t *tx, const void *records, size_t len, uint32_t count,
                     msgpack_sbuffer *out);
/* A CHANNEL_END message after the batches tx sent (needs no credit); NULL when out of memory. */
wr_msg_t *wr_chan_tx_end(const wr_chan_tx_t *tx);
/* Applies a CREDIT: a total above the one known raises the credit, any other is stale and changes
 * nothing. WR_EPROTO if it is for another channel or grants more than UINT32_MAX unsent batches. */
int wr_chan_tx_on_credit(wr_chan_tx_t *tx, const wr_msg_credit_t *credit);

/* Any channel message, decoded (every one of them starts with its channel id). */
typedef union {
    wr_msg_data_batch_t batch;
    wr_msg_credit_t credit;
    wr_msg_channel_end_t end;
    wr_msg_channel_open_t open;
    wr_msg_watermark_t watermark;
    wr_msg_barrier_t barrier;
} wr_chan_payload_t;

/* Decodes m, one of the channel messages, into the member of *p its type names (views into m),
 * and gives its channel id: what lets an actor with several channels pick the right state.
 * WR_ETYPE for another type; else as wr_proto_decode (WR_EPROTO for a malformed one). */
int wr_chan_unpack(const wr_msg_t *m, wr_chan_payload_t *p, uint64_t *channel);

/* window: how many batches the receiver accepts in flight (bus.channel-credits). */
void wr_chan_rx_init(wr_chan_rx_t *rx, uint64_t channel, uint32_t window);
/* Packs the CREDIT payload that answers a CHANNEL_OPEN: the first grants the whole window; a later
 * one (the sender lost the answer, or asks while it waits for credit) repeats the total granted. */
int wr_chan_rx_open(wr_chan_rx_t *rx, msgpack_sbuffer *out);
/* Takes a decoded DATA_BATCH. WR_EPROTO if it is for another channel, after the end, or out of
 * sequence (a lost or duplicated batch); WR_ETOOBIG if the sender exceeded its credit. */
int wr_chan_rx_on_batch(wr_chan_rx_t *rx, const wr_msg_data_batch_t *batch, wr_chan_batch_t *b);
/* Takes CHANNEL_END: WR_EPROTO unless it is for this channel and every batch up to the announced
 * last one arrived. */
int wr_chan_rx_on_end(wr_chan_rx_t *rx, const wr_msg_channel_end_t *end);
/* Takes a BARRIER: WR_EPROTO unless it is for this channel and every batch the sender sent before
 * it arrived (its next_seq is the one expected next). A batch lost before a barrier must fail the
 * receiver before it snapshots: the checkpoint would hold the sender's position past records
 * that never arrived, and a restore from it would lose them for good (a lost batch followed by
 * another batch is caught by that batch's sequence number, but only after the checkpoint). */
int wr_chan_rx_on_barrier(const wr_chan_rx_t *rx, const wr_msg_barrier_t *barrier);
/* Records that one received batch was consumed. When enough credit is owed (half the window, so
 * credits travel in batches too) packs a CREDIT payload into out and returns 1; otherwise 0. */
int wr_chan_rx_consumed(wr_chan_rx_t *rx, msgpack_sbuffer *out);

#endif
