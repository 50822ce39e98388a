/* Credit-based flow control for data channels: the receiver grants credits, one per batch it
 * is ready to take; a sender spends one per batch and holds back at zero. Nothing is dropped and
 * nothing queues without bound: at most `credits` batches of a channel are ever in flight or
 * queued at the receiver. Credits also acknowledge delivery: a credit comes back only for a batch
 * that arrived and was consumed, and sequence numbers expose any batch the network lost.
 *
 * These are plain state machines over msgpack payloads (DATA_BATCH, CREDIT, CHANNEL_END in
 * bus/msgtypes.h); the actors that own a channel send the payloads. One sender, one receiver. */
#ifndef WR_CHANNEL_H
#define WR_CHANNEL_H

#include <msgpack.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "bus/msg.h"

typedef struct {
    uint64_t channel;
    uint32_t credits;  /* batches it may send now */
    uint64_t next_seq; /* sequence number of the next batch */
    uint64_t sent;     /* batches sent */
} wr_chan_tx_t;

typedef struct {
    uint64_t channel;
    uint32_t window;    /* credits granted in total (the most batches in flight) */
    uint32_t owed;      /* consumed batches whose credit has not been returned yet */
    uint64_t granted;   /* credits granted since the channel opened */
    uint64_t next_seq;  /* sequence number expected next */
    uint64_t received;  /* batches received */
    uint64_t records;   /* records received */
    bool ended;         /* CHANNEL_END seen */
} wr_chan_rx_t;

/* A received batch: a borrowed view into the DATA_BATCH payload. */
typedef struct {
    uint64_t seq;
    uint32_t count;        /* records in the batch */
    const uint8_t *records; /* count records, encoded by the sender's convention */
    size_t len;
} wr_chan_batch_t;

void wr_chan_tx_init(wr_chan_tx_t *tx, uint64_t channel);

/* Zero-copy batches: a producer writes its records straight into the message that crosses the
 * bus. The payload starts with a fixed-width header of WR_CHAN_BATCH_HEADER bytes (valid
 * msgpack: non-shortest integer encodings), then the records. */
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
/* Packs the CHANNEL_END payload (needs no credit). */
int wr_chan_tx_end(wr_chan_tx_t *tx, msgpack_sbuffer *out);
/* Applies a CREDIT payload. WR_EPROTO if malformed or for another channel. */
int wr_chan_tx_on_credit(wr_chan_tx_t *tx, const uint8_t *payload, size_t len);

/* The channel id of a DATA_BATCH, CREDIT, WATERMARK, CHANNEL_OPEN or CHANNEL_END payload (each
 * starts [channel, ...]): lets a receiver with several channels pick the right state.
 * WR_EPROTO if the payload does not start that way. */
int wr_chan_peek_id(const uint8_t *payload, size_t len, uint64_t *channel);

/* window: how many batches the receiver accepts in flight (bus.channel-credits). */
void wr_chan_rx_init(wr_chan_rx_t *rx, uint64_t channel, uint32_t window);
/* Packs the opening CREDIT payload that grants the whole window. */
int wr_chan_rx_open(wr_chan_rx_t *rx, msgpack_sbuffer *out);
/* Decodes a DATA_BATCH payload. WR_EPROTO if malformed, for another channel, or out of sequence
 * (a lost or duplicated batch); WR_ETOOBIG if the sender exceeded its credit. */
int wr_chan_rx_on_batch(wr_chan_rx_t *rx, const uint8_t *payload, size_t len, wr_chan_batch_t *b);
/* Decodes CHANNEL_END: WR_EPROTO unless every batch up to the announced last one arrived. */
int wr_chan_rx_on_end(wr_chan_rx_t *rx, const uint8_t *payload, size_t len);
/* Records that one received batch was consumed. When enough credit is owed (half the window, so
 * credits travel in batches too) packs a CREDIT payload into out and returns 1; otherwise 0. */
int wr_chan_rx_consumed(wr_chan_rx_t *rx, msgpack_sbuffer *out);

#endif
