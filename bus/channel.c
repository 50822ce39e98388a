#include "bus/channel.h"

#include <assert.h>
#include <string.h>

#include "bus/base/error.h"

static int s_pack_credit(uint64_t channel, uint64_t granted, msgpack_sbuffer *out)
{
    return wr_msg_credit_pack(&(wr_msg_credit_t){channel, granted}, out);
}

void wr_chan_tx_init(wr_chan_tx_t *tx, uint64_t channel)
{
    memset(tx, 0, sizeof *tx);
    tx->channel = channel;
}

/* DATA_BATCH's header for the batch tx sends next: exactly WR_CHAN_BATCH_HEADER bytes. */
static void s_put_header(uint8_t *p, const wr_chan_tx_t *tx, uint32_t count, size_t len)
{
    wr_msg_data_batch_t h = {tx->channel, tx->next_seq, count, {NULL, len}};
    size_t n = 0;
    int rc = wr_proto_encode_head(&wr_msg_data_batch_decl, &h, p, WR_CHAN_BATCH_HEADER, &n);
    assert(rc == 0 && n == WR_CHAN_BATCH_HEADER); /* FIX_ fields: the same size for every batch */
    (void)rc;
}

static void s_spend(wr_chan_tx_t *tx)
{
    tx->credits--;
    tx->next_seq++;
    tx->sent++;
}

wr_msg_t *wr_chan_batch_alloc(size_t cap)
{
    if (cap > UINT32_MAX) return NULL;
    return wr_msg_alloc(WR_MSG_DATA_BATCH, WR_CHAN_BATCH_HEADER + cap);
}

int wr_chan_tx_seal(wr_chan_tx_t *tx, wr_msg_t *m, uint32_t count, size_t len)
{
    if (len + WR_CHAN_BATCH_HEADER > m->len) return WR_EINVAL;
    if (!tx->credits) return WR_EAGAIN;
    s_put_header(m->data, tx, count, len);
    m->type = WR_MSG_DATA_BATCH;
    m->len = WR_CHAN_BATCH_HEADER + len;
    s_spend(tx);
    return 0;
}

int wr_chan_tx_batch(wr_chan_tx_t *tx, const void *records, size_t len, uint32_t count,
                     msgpack_sbuffer *out)
{
    if (!tx->credits) return WR_EAGAIN;
    if (len > UINT32_MAX) return WR_ETOOBIG;
    wr_msg_data_batch_t b = {tx->channel, tx->next_seq, count, {records, len}};
    int rc = wr_msg_data_batch_pack(&b, out);
    if (!rc) s_spend(tx);
    return rc;
}

wr_msg_t *wr_chan_tx_end(const wr_chan_tx_t *tx)
{
    return wr_msg_channel_end_new(WR_MSG_CHANNEL_END, NULL, NULL,
                                  &(wr_msg_channel_end_t){tx->channel, tx->next_seq});
}

int wr_chan_tx_on_credit(wr_chan_tx_t *tx, const wr_msg_credit_t *credit)
{
    if (credit->channel != tx->channel) return WR_EPROTO;
    if (credit->granted <= tx->granted) return 0; /* repeated, or overtaken by a later one */
    if (credit->granted - tx->sent > UINT32_MAX) return WR_EPROTO;
    tx->granted = credit->granted;
    tx->credits = (uint32_t)(tx->granted - tx->sent);
    return 0;
}

int wr_chan_unpack(const wr_msg_t *m, wr_chan_payload_t *p, uint64_t *channel)
{
    int rc = WR_ETYPE;
    switch (m->type) {
    case WR_MSG_DATA_BATCH:
        rc = wr_msg_data_batch_unpack(m, &p->batch);
        break;
    case WR_MSG_CREDIT:
        rc = wr_msg_credit_unpack(m, &p->credit);
        break;
    case WR_MSG_CHANNEL_END:
        rc = wr_msg_channel_end_unpack(m, &p->end);
        break;
    case WR_MSG_CHANNEL_OPEN:
        rc = wr_msg_channel_open_unpack(m, &p->open);
        break;
    case WR_MSG_WATERMARK:
        rc = wr_msg_watermark_unpack(m, &p->watermark);
        break;
    case WR_MSG_BARRIER:
        rc = wr_msg_barrier_unpack(m, &p->barrier);
        break;
    }
    *channel = rc ? 0 : p->open.channel; /* the first member of every one of them */
    return rc;
}

void wr_chan_rx_init(wr_chan_rx_t *rx, uint64_t channel, uint32_t window)
{
    memset(rx, 0, sizeof *rx);
    rx->channel = channel;
    rx->window = window ? window : 1;
}

int wr_chan_rx_open(wr_chan_rx_t *rx, msgpack_sbuffer *out)
{
    if (!rx->granted) rx->granted = rx->window;
    return s_pack_credit(rx->channel, rx->granted, out);
}

int wr_chan_rx_on_batch(wr_chan_rx_t *rx, const wr_msg_data_batch_t *batch, wr_chan_batch_t *b)
{
    if (batch->channel != rx->channel || rx->ended) return WR_EPROTO;
    if (batch->seq != rx->next_seq) return WR_EPROTO;   /* lost, duplicated or reordered */
    if (rx->received >= rx->granted) return WR_ETOOBIG; /* the sender ignored its credit */
    b->seq = batch->seq;
    b->count = batch->count;
    b->records = batch->records.p;
    b->len = batch->records.len;
    rx->next_seq++;
    rx->received++;
    rx->records += batch->count;
    return 0;
}

int wr_chan_rx_on_end(wr_chan_rx_t *rx, const wr_msg_channel_end_t *end)
{
    if (end->channel != rx->channel) return WR_EPROTO;
    if (end->last_seq != rx->next_seq) return WR_EPROTO; /* batches are missing */
    rx->ended = true;
    return 0;
}

int wr_chan_rx_on_barrier(const wr_chan_rx_t *rx, const wr_msg_barrier_t *barrier)
{
    if (barrier->channel != rx->channel || rx->ended) return WR_EPROTO;
    if (barrier->next_seq != rx->next_seq) return WR_EPROTO; /* a batch before it is missing */
    return 0;
}

int wr_chan_rx_consumed(wr_chan_rx_t *rx, msgpack_sbuffer *out)
{
    rx->owed++;
    if (rx->owed * 2 < rx->window && rx->window > 1) return 0;
    int rc = s_pack_credit(rx->channel, rx->granted + rx->owed, out);
    if (rc) return rc;
    rx->granted += rx->owed;
    rx->owed = 0;
    return 1;
}
