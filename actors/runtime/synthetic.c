#include "actors/runtime/synthetic.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "bus/channel.h"
#include "bus/base/clock.h"
#include "bus/base/error.h"
#include "bus/base/log.h"
#include "bus/msgtypes.h"

#define S_RETRY (WR_MSG_LOCAL_FIRST + 2) /* the bus pushed back: try the pending batch again */

static void s_max(_Atomic uint64_t *v, uint64_t x)
{
    if (x > atomic_load(v)) atomic_store(v, x);
}

/* ---- source ---- */

typedef struct {
    wr_synth_source_opts_t o;
    char sink[WR_ADDR_MAX];
    wr_chan_tx_t tx;
    wr_msg_t *out; /* the next message to go: a sealed batch or the channel end */
    bool ended;
    uint64_t credited; /* batches credited back so far */
} s_source_t;

static void s_source_free(void *state)
{
    s_source_t *s = state;
    wr_msg_destroy(&s->out);
    free(s);
}

/* Writes records first.. of the stream straight into the outgoing batch. */
static void s_fill(const s_source_t *s, uint8_t *records, uint64_t first)
{
    for (uint32_t i = 0; i < s->o.batch_records; i++) {
        uint8_t *rec = records + (size_t)i * s->o.record_size;
        uint64_t k = first + i;
        memcpy(rec, &k, 8); /* little-endian hosts only, as everything here */
        memset(rec + 8, (int)(k & 0xff), s->o.record_size - 8);
    }
}

/* Prepares the next message in s->out: a batch (WR_EAGAIN without credit) or the end. */
static int s_source_next(s_source_t *s)
{
    if (s->tx.sent == s->o.batches) {
        s->out = wr_chan_tx_end(&s->tx);
        s->ended = true;
        return s->out ? 0 : WR_ENOMEM;
    }
    if (!s->tx.credits) return WR_EAGAIN;
    size_t len = (size_t)s->o.batch_records * s->o.record_size;
    wr_msg_t *m = wr_chan_batch_alloc(len);
    if (!m) return WR_ENOMEM;
    s_fill(s, wr_chan_batch_records(m), s->tx.sent * s->o.batch_records);
    int rc = wr_chan_tx_seal(&s->tx, m, s->o.batch_records, len);
    if (rc) wr_msg_destroy(&m);
    s->out = m;
    return rc;
}

/* Sends what credit allows. */
static int s_source_pump(wr_actor_t *self, s_source_t *s)
{
    for (;;) {
        if (s->out) {
            bool end = s->ended;
            int rc = wr_send_msg(self, s->sink, &s->out);
            if (rc == WR_EAGAIN) return wr_timer_after(self, 1, S_RETRY, NULL);
            if (rc) return rc;
            atomic_store(&s->o.result->batches_sent, s->tx.sent);
            s_max(&s->o.result->max_in_flight, s->tx.sent - s->credited);
            if (end) {
                atomic_store(&s->o.result->end_ns, wr_now_ns());
                return 0;
            }
        }
        if (s->ended) return 0;
        int rc = s_source_next(s);
        if (rc == WR_EAGAIN) {
            atomic_fetch_add(&s->o.result->credit_waits, 1);
            return 0; /* the next CREDIT resumes */
        }
        if (rc) return rc;
    }
}

static int s_source_start(wr_actor_t *self, void *state)
{
    s_source_t *s = state;
    atomic_store(&s->o.result->start_ns, wr_now_ns());
    wr_msg_t *m = wr_msg_channel_open_new(WR_MSG_CHANNEL_OPEN, NULL, NULL,
                                          &(wr_msg_channel_open_t){s->o.channel});
    int rc = m ? wr_send_msg(self, s->sink, &m) : WR_ENOMEM;
    wr_msg_destroy(&m);
    return rc;
}

static int s_source_message(wr_actor_t *self, void *state, wr_msg_t **msgp)
{
    s_source_t *s = state;
    wr_msg_t *m = *msgp;
    int rc = 0;
    if (m->type == WR_MSG_CREDIT) {
        uint32_t before = s->tx.credits;
        wr_msg_credit_t credit;
        rc = wr_msg_credit_unpack(m, &credit);
        if (!rc) rc = wr_chan_tx_on_credit(&s->tx, &credit);
        if (!rc && s->tx.sent) s->credited += s->tx.credits - before;
        if (!rc) rc = s_source_pump(self, s);
    } else if (m->type == S_RETRY) {
        rc = s_source_pump(self, s);
    }
    if (rc) atomic_store(&s->o.result->error, rc);
    return rc;
}

static const wr_behaviour_t s_source_behaviour = {
    .on_start = s_source_start, .on_message = s_source_message, .free_state = s_source_free};

int wr_synth_source_spawn(wr_node_t *node, const wr_synth_source_opts_t *o)
{
    if (!o->result || !o->sink || o->record_size < 8 || !o->batch_records) return WR_EINVAL;
    s_source_t *s = calloc(1, sizeof *s);
    if (!s) return WR_ENOMEM;
    s->o = *o;
    snprintf(s->sink, sizeof s->sink, "%s", o->sink);
    wr_chan_tx_init(&s->tx, o->channel);
    wr_spawn_opts_t so = {.path = o->path, .behaviour = &s_source_behaviour, .state = s};
    return wr_actor_spawn(node, &so, NULL);
}

/* ---- sink ---- */

typedef struct {
    wr_synth_sink_opts_t o;
    wr_chan_rx_t rx;
    char source[WR_ADDR_MAX];
    uint64_t next_record;
    msgpack_sbuffer out;
} s_sink_t;

static void s_sink_free(void *state)
{
    s_sink_t *s = state;
    msgpack_sbuffer_destroy(&s->out);
    free(s);
}

static void s_fail(s_sink_t *s, int err)
{
    int zero = 0;
    atomic_compare_exchange_strong(&s->o.result->error, &zero, err);
}

static void s_check(s_sink_t *s, const wr_chan_batch_t *b)
{
    uint64_t bad = 0;
    if (b->len != (size_t)b->count * s->o.record_size) {
        atomic_fetch_add(&s->o.result->bad_records, b->count);
        return;
    }
    for (uint32_t i = 0; i < b->count; i++) {
        const uint8_t *rec = b->records + (size_t)i * s->o.record_size;
        uint64_t k;
        memcpy(&k, rec, 8);
        bad += k != s->next_record || rec[s->o.record_size - 1] != (uint8_t)(k & 0xff) ||
               (s->o.record_size > 8 && rec[8] != (uint8_t)(k & 0xff));
        s->next_record = k + 1;
    }
    if (bad) atomic_fetch_add(&s->o.result->bad_records, bad);
}

static int s_sink_message(wr_actor_t *self, void *state, wr_msg_t **msgp)
{
    s_sink_t *s = state;
    wr_msg_t *m = *msgp;
    int rc = 0;
    s->out.size = 0;
    uint32_t depth = wr_mailbox_depth(wr_actor_mailbox(self)) + 1;
    if (depth > atomic_load(&s->o.result->max_depth)) atomic_store(&s->o.result->max_depth, depth);
    wr_chan_payload_t p;
    uint64_t channel;
    rc = wr_chan_unpack(m, &p, &channel);
    if (rc == WR_ETYPE) return 0; /* not a channel's */
    switch (rc ? 0 : m->type) {
    case WR_MSG_CHANNEL_OPEN:
        memcpy(s->source, m->from, sizeof s->source);
        rc = wr_chan_rx_open(&s->rx, &s->out);
        if (!rc) rc = wr_send(self, s->source, WR_MSG_CREDIT, s->out.data, s->out.size);
        break;
    case WR_MSG_DATA_BATCH: {
        wr_chan_batch_t b;
        rc = wr_chan_rx_on_batch(&s->rx, &p.batch, &b);
        if (rc) break;
        s_check(s, &b);
        atomic_store(&s->o.result->batches, s->rx.received);
        atomic_store(&s->o.result->records, s->rx.records);
        if (s->o.delay_us > 0) {
            struct timespec ts = {s->o.delay_us / 1000000, (s->o.delay_us % 1000000) * 1000};
            nanosleep(&ts, NULL);
        }
        if (wr_chan_rx_consumed(&s->rx, &s->out) == 1)
            rc = wr_send(self, s->source, WR_MSG_CREDIT, s->out.data, s->out.size);
        break;
    }
    case WR_MSG_CHANNEL_END:
        rc = wr_chan_rx_on_end(&s->rx, &p.end);
        if (!rc) {
            atomic_store(&s->o.result->end_ns, wr_now_ns());
            atomic_store(&s->o.result->done, 1);
        }
        break;
    default:
        break;
    }
    if (rc) {
        wr_warn("%s: channel %llu: %s", wr_actor_addr(self), (unsigned long long)s->o.channel,
                wr_strerror(rc));
        s_fail(s, rc);
    }
    return 0; /* a broken channel is reported in the result; the sink itself stays up */
}

static const wr_behaviour_t s_sink_behaviour = {.on_message = s_sink_message,
                                                .free_state = s_sink_free};

int wr_synth_sink_spawn(wr_node_t *node, const wr_synth_sink_opts_t *o)
{
    if (!o->result || o->record_size < 8) return WR_EINVAL;
    s_sink_t *s = calloc(1, sizeof *s);
    if (!s) return WR_ENOMEM;
    s->o = *o;
    wr_chan_rx_init(&s->rx, o->channel, o->window);
    msgpack_sbuffer_init(&s->out);
    wr_spawn_opts_t so = {.path = o->path, .behaviour = &s_sink_behaviour, .state = s};
    return wr_actor_spawn(node, &so, NULL);
}
