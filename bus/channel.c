#include "bus/channel.h"

#include <string.h>

#include "bus/base/error.h"
#include "bus/base/mp.h"
#include "bus/msgtypes.h"

static void s_packer(msgpack_packer *pk, msgpack_sbuffer *out)
{
    msgpack_packer_init(pk, out, msgpack_sbuffer_write);
}

static int s_pack_credit(uint64_t channel, uint32_t n, msgpack_sbuffer *out)
{
    msgpack_packer pk;
    s_packer(&pk, out);
    int rc = msgpack_pack_array(&pk, 2);
    rc |= msgpack_pack_uint64(&pk, channel);
    rc |= msgpack_pack_uint32(&pk, n);
    return rc ? WR_ENOMEM : 0;
}

void wr_chan_tx_init(wr_chan_tx_t *tx, uint64_t channel)
{
    memset(tx, 0, sizeof *tx);
    tx->channel = channel;
}

static uint8_t *s_put_be(uint8_t *p, uint8_t tag, uint64_t v, int bytes)
{
    *p++ = tag;
    for (int i = bytes - 1; i >= 0; i--) *p++ = (uint8_t)(v >> (8 * i));
    return p;
}

/* [channel, seq, count, bin(len)] with fixed-width encodings: exactly WR_CHAN_BATCH_HEADER bytes */
static void s_put_header(uint8_t *p, const wr_chan_tx_t *tx, uint32_t count, size_t len)
{
    *p++ = 0x94;                              /* fixarray of 4 */
    p = s_put_be(p, 0xcf, tx->channel, 8);    /* uint64 */
    p = s_put_be(p, 0xcf, tx->next_seq, 8);   /* uint64 */
    p = s_put_be(p, 0xce, count, 4);          /* uint32 */
    s_put_be(p, 0xc6, len, 4);                /* bin32 header */
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
    uint8_t header[WR_CHAN_BATCH_HEADER];
    s_put_header(header, tx, count, len);
    size_t mark = out->size;
    if (msgpack_sbuffer_write(out, (const char *)header, sizeof header) ||
        (len && msgpack_sbuffer_write(out, records, len))) {
        out->size = mark;
        return WR_ENOMEM;
    }
    s_spend(tx);
    return 0;
}

int wr_chan_tx_end(wr_chan_tx_t *tx, msgpack_sbuffer *out)
{
    msgpack_packer pk;
    s_packer(&pk, out);
    int rc = msgpack_pack_array(&pk, 2);
    rc |= msgpack_pack_uint64(&pk, tx->channel);
    rc |= msgpack_pack_uint64(&pk, tx->next_seq);
    return rc ? WR_ENOMEM : 0;
}

/* Reads [channel, u64/u32 value] and checks the channel. */
static int s_read_pair(uint64_t channel, const uint8_t *payload, size_t len, uint64_t *v)
{
    wr_mp_reader_t r;
    wr_mp_reader_init(&r, payload, len);
    uint32_t n = 0;
    uint64_t ch = 0;
    wr_mp_read_array(&r, &n);
    wr_mp_read_uint(&r, &ch);
    wr_mp_read_uint(&r, v);
    if (r.err || n != 2 || ch != channel || wr_mp_remaining(&r)) return WR_EPROTO;
    return 0;
}

int wr_chan_tx_on_credit(wr_chan_tx_t *tx, const uint8_t *payload, size_t len)
{
    uint64_t n = 0;
    int rc = s_read_pair(tx->channel, payload, len, &n);
    if (rc) return rc;
    if (n > UINT32_MAX - tx->credits) return WR_EPROTO;
    tx->credits += (uint32_t)n;
    return 0;
}

int wr_chan_peek_id(const uint8_t *payload, size_t len, uint64_t *channel)
{
    wr_mp_reader_t r;
    wr_mp_reader_init(&r, payload, len);
    uint32_t n = 0;
    wr_mp_read_array(&r, &n);
    wr_mp_read_uint(&r, channel);
    return r.err || n < 1 ? WR_EPROTO : 0;
}

void wr_chan_rx_init(wr_chan_rx_t *rx, uint64_t channel, uint32_t window)
{
    memset(rx, 0, sizeof *rx);
    rx->channel = channel;
    rx->window = window ? window : 1;
}

int wr_chan_rx_open(wr_chan_rx_t *rx, msgpack_sbuffer *out)
{
    int rc = s_pack_credit(rx->channel, rx->window, out);
    if (!rc) rx->granted += rx->window;
    return rc;
}

int wr_chan_rx_on_batch(wr_chan_rx_t *rx, const uint8_t *payload, size_t len, wr_chan_batch_t *b)
{
    wr_mp_reader_t r;
    wr_mp_reader_init(&r, payload, len);
    uint32_t n = 0, count, blen = 0;
    uint64_t ch = 0, seq = 0;
    wr_mp_read_array(&r, &n);
    wr_mp_read_uint(&r, &ch);
    wr_mp_read_uint(&r, &seq);
    uint64_t c64 = 0;
    wr_mp_read_uint(&r, &c64);
    wr_mp_read_bin(&r, &b->records, &blen);
    if (r.err || n != 4 || ch != rx->channel || c64 > UINT32_MAX || wr_mp_remaining(&r) ||
        rx->ended)
        return WR_EPROTO;
    if (seq != rx->next_seq) return WR_EPROTO; /* lost, duplicated or reordered */
    if (rx->received >= rx->granted) return WR_ETOOBIG; /* the sender ignored its credit */
    count = (uint32_t)c64;
    b->seq = seq;
    b->count = count;
    b->len = blen;
    rx->next_seq++;
    rx->received++;
    rx->records += count;
    return 0;
}

int wr_chan_rx_on_end(wr_chan_rx_t *rx, const uint8_t *payload, size_t len)
{
    uint64_t last = 0;
    int rc = s_read_pair(rx->channel, payload, len, &last);
    if (rc) return rc;
    if (last != rx->next_seq) return WR_EPROTO; /* batches are missing */
    rx->ended = true;
    return 0;
}

int wr_chan_rx_consumed(wr_chan_rx_t *rx, msgpack_sbuffer *out)
{
    rx->owed++;
    if (rx->owed * 2 < rx->window && rx->window > 1) return 0;
    int rc = s_pack_credit(rx->channel, rx->owed, out);
    if (rc) return rc;
    rx->granted += rx->owed;
    rx->owed = 0;
    return 1;
}
