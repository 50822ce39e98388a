#include "actors/taskmanager/gate.h"

#include <stdlib.h>
#include <string.h>

#include "actors/dataflow/record/keygroup.h"
#include "bus/channel.h"
#include "bus/base/clock.h"
#include "bus/base/error.h"
#include "bus/base/log.h"
#include "bus/msgtypes.h"

_Static_assert(WR_GATE_DIR_MAX == WR_MSG_PATH_MAX, "a barrier's folder is a path of the wire");

#define S_BACKLOG_LIMIT 2 /* sealed batches a channel may queue before the producer must wait */
#define S_ASK_NS        1000000000 /* a channel waiting this long for credit asks for it again */

/* ---- output ---- */

typedef struct {
    wr_msg_t *msg;
    uint32_t count; /* DATA_BATCH: records, sealed when it leaves (sealing spends the credit) */
    size_t len;
    bool sealed;
} s_pending_t;

typedef struct {
    char target[WR_ADDR_MAX];
    wr_chan_tx_t tx;
    bool opened;      /* first credit arrived */
    int64_t heard_ns; /* when credit last arrived or was asked for (wr_now_ns) */
    wr_batch_t *building;
    s_pending_t *queue;
    size_t qhead, qlen, qcap;
    uint32_t queued_batches; /* DATA_BATCH messages in the queue */
    uint32_t unsealed;       /* of which not sealed yet */
    int64_t wm_sent;
    bool ended;
} s_out_t;

struct wr_gate_out {
    wr_gate_out_opts_t o;
    wr_schema_t schema;
    uint32_t nstr,
        str[WR_SCHEMA_MAX_FIELDS]; /* the string fields, whose bytes batch_bytes counts */
    s_out_t *ch;
    uint32_t rr; /* rebalance cursor */
    /* wr_gate_out_push's scratch: each record's channel, the records grouped by channel (in
     * their order), and where each channel's group starts (nchannels + 1) */
    uint32_t *route, *rows, *start;
    uint32_t scratch_cap;
    uint64_t records, blocked;
    int64_t blocked_ns;    /* the time spent blocked, closed intervals */
    int64_t blocked_since; /* the start of the interval still open (a producer waits), or 0 */
};

/* Whether a channel has a backlog; closes the blocked interval once none has. */
static bool s_backlogged(wr_gate_out_t *g)
{
    for (uint32_t i = 0; i < g->o.nchannels; i++)
        if (g->ch[i].queued_batches >= S_BACKLOG_LIMIT) return true;
    if (g->blocked_since) {
        g->blocked_ns += wr_now_ns() - g->blocked_since;
        g->blocked_since = 0;
    }
    return false;
}

static int s_queue_push(s_out_t *c, wr_msg_t *m, uint32_t count, size_t len)
{
    if (c->qlen == c->qcap) {
        size_t ncap = c->qcap ? c->qcap * 2 : 8;
        s_pending_t *n = malloc(ncap * sizeof *n);
        if (!n) return WR_ENOMEM;
        for (size_t i = 0; i < c->qlen; i++)
            n[i] = c->queue[(c->qhead + i) % c->qcap];
        free(c->queue);
        c->queue = n;
        c->qhead = 0;
        c->qcap = ncap;
    }
    c->queue[(c->qhead + c->qlen++) % c->qcap] =
        (s_pending_t){.msg = m, .count = count, .len = len};
    if (m->type == WR_MSG_DATA_BATCH) {
        c->queued_batches++;
        c->unsealed++;
    }
    return 0;
}

/* Sends queued messages in order while credit lasts (batches) and once the channel is open (all of
 * them). A full mailbox or bus (WR_EAGAIN) leaves the rest queued: the task retries on its timer.
 */
static int s_flush(s_out_t *c, wr_actor_t *self)
{
    if (!c->opened) return 0; /* nothing overtakes the channel's opening: its first credit */
    while (c->qlen) {
        s_pending_t *p = &c->queue[c->qhead];
        bool batch = p->msg->type == WR_MSG_DATA_BATCH;
        if (batch && !c->tx.credits) return 0;
        if (batch && !p->sealed) {
            int rc = wr_chan_tx_seal(&c->tx, p->msg, p->count, p->len);
            if (rc) return rc;
            p->sealed = true;
            c->unsealed--;
        }
        int rc = wr_send_msg(self, c->target, &p->msg);
        if (rc == WR_EAGAIN) return 0;
        if (rc) return rc;
        c->qhead = (c->qhead + 1) % c->qcap;
        c->qlen--;
        if (batch) c->queued_batches--;
    }
    return 0;
}

/* Encodes the channel's partial batch into a message and queues it. */
static int s_seal(s_out_t *c, wr_actor_t *self)
{
    wr_batch_t *b = c->building;
    if (!b->count) return 0;
    size_t len = wr_batch_encoded_size(b);
    wr_msg_t *m = wr_chan_batch_alloc(len);
    if (!m) return WR_ENOMEM;
    wr_batch_encode(b, wr_chan_batch_records(m));
    int rc = s_queue_push(c, m, b->count, len);
    if (rc) {
        wr_msg_destroy(&m);
        return rc;
    }
    wr_batch_clear(b);
    return s_flush(c, self);
}

/* The sequence number after the last batch c has sent or queued: what a barrier and the end name
 * (the queued batches are sealed, and numbered, only as credit comes). */
static uint64_t s_next_seq(const s_out_t *c)
{
    return c->tx.next_seq + c->unsealed;
}

/* Queues control message m (taken in every case) behind what the channel holds, and sends. */
static int s_control(s_out_t *c, wr_actor_t *self, wr_msg_t *m)
{
    int rc = m ? s_queue_push(c, m, 0, 0) : WR_ENOMEM;
    if (rc) {
        wr_msg_destroy(&m);
        return rc;
    }
    return s_flush(c, self);
}

static wr_msg_t *s_watermark_msg(uint64_t channel, int64_t wm, int64_t origin_ms)
{
    return wr_msg_watermark_new(WR_MSG_WATERMARK, NULL, NULL,
                                &(wr_msg_watermark_t){channel, wm, origin_ms});
}

wr_gate_out_t *wr_gate_out_new(const wr_gate_out_opts_t *o)
{
    if (!o->nchannels || !o->batch_records || !o->schema ||
        (o->partition == WR_PART_HASH &&
         (o->key_field < 0 || (uint32_t)o->key_field >= o->schema->n || !o->max_parallelism)))
        return NULL;
    wr_gate_out_t *g = calloc(1, sizeof *g);
    if (!g) return NULL;
    g->o = *o;
    g->schema = *o->schema;
    g->o.schema = &g->schema;
    g->o.targets = NULL;
    g->o.channel_ids = NULL;
    if (!g->o.batch_bytes) g->o.batch_bytes = WR_GATE_BATCH_BYTES;
    for (uint32_t f = 0; f < g->schema.n; f++)
        if (g->schema.f[f].type == WR_T_STRING) g->str[g->nstr++] = f;
    g->ch = calloc(o->nchannels, sizeof *g->ch);
    g->start = calloc((size_t)o->nchannels + 1, sizeof *g->start);
    if (!g->ch || !g->start) goto fail;
    for (uint32_t i = 0; i < o->nchannels; i++) {
        s_out_t *c = &g->ch[i];
        if (!wr_addr_valid(o->targets[i])) goto fail;
        snprintf(c->target, sizeof c->target, "%s", o->targets[i]);
        wr_chan_tx_init(&c->tx, o->channel_ids[i]);
        c->wm_sent = INT64_MIN;
        c->building = wr_batch_new(&g->schema, o->batch_records);
        if (!c->building) goto fail;
    }
    return g;
fail:
    wr_gate_out_destroy(&g);
    return NULL;
}

void wr_gate_out_destroy(wr_gate_out_t **gp)
{
    if (!gp || !*gp) return;
    wr_gate_out_t *g = *gp;
    for (uint32_t i = 0; g->ch && i < g->o.nchannels; i++) {
        s_out_t *c = &g->ch[i];
        for (size_t k = 0; k < c->qlen; k++)
            wr_msg_destroy(&c->queue[(c->qhead + k) % c->qcap].msg);
        free(c->queue);
        wr_batch_destroy(&c->building);
    }
    free(g->ch);
    free(g->route);
    free(g->rows);
    free(g->start);
    free(g);
    *gp = NULL;
}

/* Sends CHANNEL_OPEN on c: it opens the channel, or once open asks for the credit total again. A
 * receiver not deployed yet (at start), gone (the job is failing over) or with a full mailbox is
 * no failure: the caller asks again later. */
static int s_ask(s_out_t *c, wr_actor_t *self)
{
    wr_msg_t *m = wr_msg_channel_open_new(WR_MSG_CHANNEL_OPEN, NULL, NULL,
                                          &(wr_msg_channel_open_t){c->tx.channel});
    int rc = m ? wr_send_msg(self, c->target, &m) : WR_ENOMEM;
    wr_msg_destroy(&m);
    c->heard_ns = wr_now_ns();
    return rc == WR_ENOACTOR || rc == WR_EAGAIN ? 0 : rc;
}

int wr_gate_out_open(wr_gate_out_t *g, wr_actor_t *self)
{
    for (uint32_t i = 0; i < g->o.nchannels; i++) {
        s_out_t *c = &g->ch[i];
        if (c->opened) continue;
        int rc = s_ask(c, self);
        if (rc) return rc;
    }
    return 0;
}

bool wr_gate_out_is_open(const wr_gate_out_t *g)
{
    for (uint32_t i = 0; i < g->o.nchannels; i++)
        if (!g->ch[i].opened) return false;
    return true;
}

/* Appends records rows[0..m) of b, in that order, to channel c's building batch, sealing it
 * whenever it fills: of records, or of string bytes (as if they came one at a time). */
static int s_append(wr_gate_out_t *g, s_out_t *c, wr_actor_t *self, const wr_batch_t *b,
                    const uint32_t *rows, uint32_t m)
{
    while (m) {
        wr_batch_t *to = c->building;
        /* (a batch whose sealing failed may be full already: one record, then seal again) */
        uint32_t take = to->count < g->o.batch_records ? g->o.batch_records - to->count : 1;
        bool full = take <= m;
        if (!full) take = m;
        if (g->nstr) {
            size_t bytes = 0;
            for (uint32_t k = 0; k < g->nstr; k++)
                bytes += to->heap_len[g->str[k]];
            for (uint32_t i = 0; i < take; i++) {
                for (uint32_t k = 0; k < g->nstr; k++) {
                    const uint32_t *off = b->col[g->str[k]];
                    bytes += off[rows[i] + 1] - off[rows[i]];
                }
                if (bytes >= g->o.batch_bytes) {
                    take = i + 1;
                    full = true;
                    break;
                }
            }
        }
        int rc = wr_batch_append_rows(to, b, rows, take);
        if (!rc && full) rc = s_seal(c, self);
        if (rc) return rc;
        rows += take;
        m -= take;
    }
    return 0;
}

static uint32_t s_route(wr_gate_out_t *g, const wr_batch_t *b, uint32_t i)
{
    uint32_t n = g->o.nchannels;
    if (n == 1) return 0;
    if (g->o.partition == WR_PART_REBALANCE) return g->rr++ % n;
    if (g->o.partition == WR_PART_FORWARD) return 0;
    int f = g->o.key_field;
    uint64_t h;
    if (g->schema.f[f].type == WR_T_STRING) {
        uint32_t len;
        const char *s = wr_batch_str(b, f, i, &len);
        h = wr_hash_bytes(s, len);
    } else {
        h = wr_hash_u64((uint64_t)((const int64_t *)b->col[f])[i]);
    }
    return wr_key_group_owner(wr_key_group(h, g->o.max_parallelism), g->o.max_parallelism, n);
}

static int s_scratch(wr_gate_out_t *g, uint32_t n)
{
    if (n <= g->scratch_cap) return 0;
    uint32_t *route = realloc(g->route, (size_t)n * sizeof *route);
    if (route) g->route = route;
    uint32_t *rows = realloc(g->rows, (size_t)n * sizeof *rows);
    if (rows) g->rows = rows;
    if (!route || !rows) return WR_ENOMEM;
    g->scratch_cap = n;
    return 0;
}

int wr_gate_out_push(wr_gate_out_t *g, wr_actor_t *self, const wr_batch_t *b, const uint32_t *sel,
                     uint32_t nsel)
{
    uint32_t n = sel ? nsel : b->count, nch = g->o.nchannels;
    if (!n) return 0;
    int rc = s_scratch(g, n);
    if (rc) return rc;
    /* each record's channel, then the records grouped by channel (a counting sort: each
     * channel's in their order), then each group in one go */
    memset(g->start, 0, ((size_t)nch + 1) * sizeof *g->start);
    for (uint32_t k = 0; k < n; k++) {
        uint32_t ch = s_route(g, b, sel ? sel[k] : k);
        g->route[k] = ch;
        g->start[ch + 1]++;
    }
    for (uint32_t ch = 0; ch < nch; ch++)
        g->start[ch + 1] += g->start[ch];
    for (uint32_t k = 0; k < n; k++)
        g->rows[g->start[g->route[k]]++] = sel ? sel[k] : k;
    for (uint32_t ch = 0, from = 0; ch < nch && !rc; ch++) { /* start[ch]: now where ch ends */
        rc = s_append(g, &g->ch[ch], self, b, g->rows + from, g->start[ch] - from);
        from = g->start[ch];
    }
    if (!rc) g->records += n;
    return rc;
}

int wr_gate_out_watermark(wr_gate_out_t *g, wr_actor_t *self, int64_t wm, int64_t origin_ms)
{
    for (uint32_t i = 0; i < g->o.nchannels; i++) {
        s_out_t *c = &g->ch[i];
        if (wm <= c->wm_sent || c->ended) continue;
        int rc = s_seal(c, self);
        if (rc) return rc;
        if ((rc = s_control(c, self, s_watermark_msg(c->tx.channel, wm, origin_ms)))) return rc;
        c->wm_sent = wm;
    }
    return 0;
}

int wr_gate_out_barrier(wr_gate_out_t *g, wr_actor_t *self, uint64_t checkpoint, const char *dir)
{
    wr_msg_barrier_t b = {.checkpoint = checkpoint};
    if ((size_t)snprintf(b.dir, sizeof b.dir, "%s", dir ? dir : "") >= sizeof b.dir)
        return WR_ETOOBIG;
    for (uint32_t i = 0; i < g->o.nchannels; i++) {
        s_out_t *c = &g->ch[i];
        if (c->ended) continue;
        int rc = s_seal(c, self);
        if (rc) return rc;
        b.channel = c->tx.channel;
        b.next_seq = s_next_seq(c);
        if ((rc = s_control(c, self, wr_msg_barrier_new(WR_MSG_BARRIER, NULL, NULL, &b))))
            return rc;
    }
    return 0;
}

int wr_gate_out_end(wr_gate_out_t *g, wr_actor_t *self)
{
    for (uint32_t i = 0; i < g->o.nchannels; i++) {
        s_out_t *c = &g->ch[i];
        if (c->ended) continue;
        int rc = s_seal(c, self);
        if (rc) return rc;
        wr_chan_tx_t after = c->tx;
        after.next_seq = s_next_seq(c);
        wr_msg_t *m = wr_chan_tx_end(&after);
        c->ended = true;
        if ((rc = s_control(c, self, m))) return rc;
    }
    return 0;
}

int wr_gate_out_credit(wr_gate_out_t *g, wr_actor_t *self, const wr_msg_t *m)
{
    wr_msg_credit_t credit;
    if (wr_msg_credit_unpack(m, &credit)) return WR_EPROTO;
    for (uint32_t i = 0; i < g->o.nchannels; i++) {
        s_out_t *c = &g->ch[i];
        if (c->tx.channel != credit.channel) continue;
        int rc = wr_chan_tx_on_credit(&c->tx, &credit);
        if (rc) return rc;
        c->opened = true;
        c->heard_ns = wr_now_ns();
        rc = s_flush(c, self);
        if (g->blocked_since) s_backlogged(g); /* (the interval a producer waits in, if open) */
        return rc;
    }
    return WR_EPROTO;
}

int wr_gate_out_retry(wr_gate_out_t *g, wr_actor_t *self)
{
    int64_t now = wr_now_ns();
    for (uint32_t i = 0; i < g->o.nchannels; i++) {
        s_out_t *c = &g->ch[i];
        int rc = s_flush(c, self);
        if (rc) return rc;
        /* batches waiting for credit that has not come for a while: its CREDIT may have been
         * lost with a peer's connection, and the receiver, having consumed everything, sends no
         * other; asking costs it one stale CREDIT when it is merely slow */
        if (c->opened && c->queued_batches && !c->tx.credits && now - c->heard_ns >= S_ASK_NS &&
            (rc = s_ask(c, self)))
            return rc;
    }
    if (g->blocked_since) s_backlogged(g);
    return 0;
}

bool wr_gate_out_blocked(wr_gate_out_t *g)
{
    if (!s_backlogged(g)) return false;
    g->blocked++;
    if (!g->blocked_since) g->blocked_since = wr_now_ns();
    return true;
}

bool wr_gate_out_drained(const wr_gate_out_t *g)
{
    for (uint32_t i = 0; i < g->o.nchannels; i++)
        if (g->ch[i].qlen || !g->ch[i].ended) return false;
    return true;
}

uint64_t wr_gate_out_records(const wr_gate_out_t *g)
{
    return g->records;
}

uint64_t wr_gate_out_blocked_count(const wr_gate_out_t *g)
{
    return g->blocked;
}

uint64_t wr_gate_out_blocked_ms(const wr_gate_out_t *g)
{
    int64_t ns = g->blocked_ns + (g->blocked_since ? wr_now_ns() - g->blocked_since : 0);
    return (uint64_t)(ns / 1000000);
}

/* ---- input ---- */

typedef struct {
    uint64_t id;
    char from[WR_ADDR_MAX];
    wr_chan_rx_t rx;
    int64_t wm;
    int64_t active_ns;
    int64_t origin_ms; /* of its last watermark */
    uint32_t held;     /* consumed batches whose credit is held back */
    bool ended, idle;
    bool gone;    /* its producer has stopped: no credit goes to it any more */
    bool blocked; /* delivered the barrier being aligned: the rest waits */
} s_in_t;

struct wr_gate_in {
    wr_gate_in_opts_t o;
    wr_schema_t schema;
    s_in_t *ch;
    uint32_t nopen, nended;
    int64_t wm; /* combined, last reported */
    int64_t origin_ms;
    s_in_t *last; /* channel of the last batch */
    wr_batch_t *batch;
    msgpack_sbuffer out;
    uint64_t records;
    uint64_t credits_undelivered; /* credit for a producer that had stopped */
    uint64_t barrier;             /* being aligned (0: none) */
    char barrier_dir[WR_GATE_DIR_MAX];
    uint32_t nblocked;      /* channels that delivered it */
    int64_t align_start_ns; /* when its first copy arrived */
    int64_t align_ns;       /* how long the last alignment took */
};

wr_gate_in_t *wr_gate_in_new(const wr_gate_in_opts_t *o)
{
    if (!o->nchannels || !o->schema) return NULL;
    wr_gate_in_t *g = calloc(1, sizeof *g);
    if (!g) return NULL;
    g->o = *o;
    g->schema = *o->schema;
    g->o.schema = &g->schema;
    g->wm = INT64_MIN;
    msgpack_sbuffer_init(&g->out);
    g->ch = calloc(o->nchannels, sizeof *g->ch);
    g->batch = wr_batch_new(&g->schema, 1024);
    if (!g->ch || !g->batch) wr_gate_in_destroy(&g);
    return g;
}

void wr_gate_in_destroy(wr_gate_in_t **gp)
{
    if (!gp || !*gp) return;
    wr_gate_in_t *g = *gp;
    free(g->ch);
    wr_batch_destroy(&g->batch);
    msgpack_sbuffer_destroy(&g->out);
    free(g);
    *gp = NULL;
}

static s_in_t *s_in_find(wr_gate_in_t *g, uint64_t id)
{
    for (uint32_t i = 0; i < g->nopen; i++)
        if (g->ch[i].id == id) return &g->ch[i];
    return NULL;
}

/* The combined watermark: INT64_MIN until every input opened; the minimum over inputs that have
 * neither ended nor gone idle; INT64_MAX once all ended. */
static int64_t s_combined(const wr_gate_in_t *g)
{
    if (g->nopen < g->o.nchannels) return INT64_MIN;
    if (g->nended == g->o.nchannels) return INT64_MAX;
    int64_t wm = INT64_MAX;
    bool any = false;
    for (uint32_t i = 0; i < g->nopen; i++) {
        const s_in_t *c = &g->ch[i];
        if (c->ended || c->idle) continue;
        any = true;
        if (c->wm < wm) wm = c->wm;
    }
    return any ? wm : g->wm; /* all remaining inputs idle: hold */
}

/* The combined watermark, re-evaluated after cause's watermark arrived (NULL: after an end or an
 * idle input). */
static wr_in_event_t s_advance(wr_gate_in_t *g, int64_t *wm, const s_in_t *cause)
{
    int64_t w = s_combined(g);
    if (g->nended == g->o.nchannels) {
        g->wm = INT64_MAX;
        *wm = INT64_MAX;
        return WR_IN_END;
    }
    if (w <= g->wm) return WR_IN_NOTHING;
    g->wm = w;
    *wm = w;
    /* when the watermark that let it pass was made: the one that just arrived (the channel with
     * the minimum may have made its watermark long before, then waited for the others) */
    if (cause) {
        g->origin_ms = cause->origin_ms;
        return WR_IN_WATERMARK;
    }
    for (uint32_t i = 0; i < g->nopen; i++)
        if (g->ch[i].wm == w) g->origin_ms = g->ch[i].origin_ms;
    return WR_IN_WATERMARK;
}

/* Every input delivered the barrier being aligned, or ended. */
static bool s_aligned(const wr_gate_in_t *g)
{
    return g->nopen == g->o.nchannels && g->nblocked + g->nended == g->o.nchannels;
}

static void s_unblock(wr_gate_in_t *g)
{
    for (uint32_t i = 0; i < g->nopen; i++)
        g->ch[i].blocked = false;
    g->nblocked = 0;
    g->align_ns = wr_now_ns() - g->align_start_ns;
}

/* A barrier on channel c: c waits from now on; once every input delivered it, WR_IN_BARRIER. */
static int s_on_barrier(wr_gate_in_t *g, s_in_t *c, const wr_msg_barrier_t *b, wr_in_event_t *ev)
{
    uint64_t id = b->checkpoint;
    if (!id) return WR_EPROTO;
    int rc = wr_chan_rx_on_barrier(&c->rx, b); /* no snapshot over a lost batch */
    if (rc) return rc;
    if (!g->nblocked) {
        g->barrier = id;
        memcpy(g->barrier_dir, b->dir, sizeof g->barrier_dir);
        g->align_start_ns = wr_now_ns();
    } else if (id != g->barrier) {
        return WR_EPROTO; /* barriers overtake nothing: a channel's next one waits behind this */
    }
    c->blocked = true;
    g->nblocked++;
    if (s_aligned(g)) {
        s_unblock(g);
        *ev = WR_IN_BARRIER;
    }
    return 0;
}

int wr_gate_in_handle(wr_gate_in_t *g, wr_actor_t *self, const wr_msg_t *m, wr_in_event_t *ev,
                      int64_t *wm)
{
    *ev = WR_IN_NOTHING;
    wr_chan_payload_t p;
    uint64_t id;
    if (wr_chan_unpack(m, &p, &id)) return WR_EPROTO;
    s_in_t *c = s_in_find(g, id);
    if (m->type == WR_MSG_CHANNEL_OPEN) {
        if (!c) {
            if (g->nopen == g->o.nchannels) return WR_EPROTO; /* more upstreams than planned */
            c = &g->ch[g->nopen++];
            c->id = id;
            c->wm = INT64_MIN;
            wr_chan_rx_init(&c->rx, id, g->o.window);
            memcpy(c->from, m->from, sizeof c->from);
            c->active_ns = wr_now_ns();
        } else if (c->gone) {
            return 0;
        }
        /* answered with the credit total: the window the first time; again when the sender lost
         * the answer (a peer's connection dropped) or waits for credit, which changes nothing if
         * it had it. Not sent (a full mailbox, a sender gone): it asks again. */
        g->out.size = 0;
        int rc = wr_chan_rx_open(&c->rx, &g->out);
        if (!rc) rc = wr_send(self, c->from, WR_MSG_CREDIT, g->out.data, g->out.size);
        return rc == WR_ENOACTOR || rc == WR_EAGAIN ? 0 : rc;
    }
    if (!c) return WR_EPROTO;
    if (c->blocked) { /* behind a barrier: waits until every input delivered it */
        *ev = WR_IN_HOLD;
        return 0;
    }
    c->active_ns = wr_now_ns();
    c->idle = false;
    switch (m->type) {
    case WR_MSG_BARRIER:
        return s_on_barrier(g, c, &p.barrier, ev);
    case WR_MSG_DATA_BATCH: {
        wr_chan_batch_t b;
        int rc = wr_chan_rx_on_batch(&c->rx, &p.batch, &b);
        if (!rc) rc = wr_batch_decode(g->batch, b.records, b.len, b.count);
        if (rc) return rc;
        g->last = c;
        g->records += b.count;
        *ev = WR_IN_BATCH;
        return 0;
    }
    case WR_MSG_WATERMARK: {
        if (p.watermark.watermark > c->wm) {
            c->wm = p.watermark.watermark;
            c->origin_ms = p.watermark.origin_ms;
        }
        *ev = s_advance(g, wm, c);
        return 0;
    }
    case WR_MSG_CHANNEL_END: {
        int rc = wr_chan_rx_on_end(&c->rx, &p.end);
        if (rc) return rc;
        if (!c->ended) g->nended++;
        c->ended = true;
        if (g->nblocked && s_aligned(g)) { /* the end stands for every barrier still to come */
            s_unblock(g);
            *ev = WR_IN_BARRIER;
            return 0;
        }
        *ev = s_advance(g, wm, NULL);
        return 0;
    }
    default:
        return WR_EPROTO;
    }
}

wr_batch_t *wr_gate_in_batch(wr_gate_in_t *g)
{
    return g->batch;
}

/* Returns credit for a consumed batch when enough is owed. A producer that has stopped (it ended,
 * failed or was canceled: its job is ending or failing over, which the JobManager handles) gets
 * none: the credit is counted and dropped, quietly, not a failure of this subtask. */
static int s_consumed(wr_gate_in_t *g, s_in_t *c, wr_actor_t *self)
{
    g->out.size = 0;
    int rc = wr_chan_rx_consumed(&c->rx, &g->out);
    if (rc == 1 && c->gone) return 0;
    if (rc == 1) rc = wr_send(self, c->from, WR_MSG_CREDIT, g->out.data, g->out.size);
    if (rc == WR_ENOACTOR) {
        c->gone = true;
        g->credits_undelivered++;
        wr_debug("%s: credit for channel %llu not sent: %s has stopped", wr_actor_addr(self),
                 (unsigned long long)c->id, c->from);
        return 0;
    }
    /* a full mailbox: the credit is in the total all the same, which the next CREDIT or the
     * sender's asking again (it waits a second at most) brings it */
    if (rc == WR_EAGAIN) return 0;
    return rc < 0 ? rc : 0;
}

int wr_gate_in_done(wr_gate_in_t *g, wr_actor_t *self, bool hold)
{
    s_in_t *c = g->last;
    if (!c) return 0;
    g->last = NULL;
    if (hold) {
        c->held++;
        return 0;
    }
    return s_consumed(g, c, self);
}

int wr_gate_in_release(wr_gate_in_t *g, wr_actor_t *self)
{
    for (uint32_t i = 0; i < g->nopen; i++) {
        s_in_t *c = &g->ch[i];
        for (; c->held; c->held--) {
            int rc = s_consumed(g, c, self);
            if (rc) return rc;
        }
    }
    return 0;
}

wr_in_event_t wr_gate_in_tick(wr_gate_in_t *g, int64_t *wm)
{
    if (!g->o.idle_timeout_ms) return WR_IN_NOTHING;
    int64_t now = wr_now_ns();
    for (uint32_t i = 0; i < g->nopen; i++) {
        s_in_t *c = &g->ch[i];
        if (!c->ended && now - c->active_ns > g->o.idle_timeout_ms * 1000000) c->idle = true;
    }
    return s_advance(g, wm, NULL);
}

int64_t wr_gate_in_watermark(const wr_gate_in_t *g)
{
    return g->wm;
}

int64_t wr_gate_in_watermark_origin(const wr_gate_in_t *g)
{
    return g->origin_ms;
}

uint64_t wr_gate_in_credits_undelivered(const wr_gate_in_t *g)
{
    return g->credits_undelivered;
}

uint64_t wr_gate_in_records(const wr_gate_in_t *g)
{
    return g->records;
}

uint64_t wr_gate_in_barrier(const wr_gate_in_t *g)
{
    return g->barrier;
}

const char *wr_gate_in_barrier_dir(const wr_gate_in_t *g)
{
    return g->barrier_dir;
}

int64_t wr_gate_in_alignment_ns(const wr_gate_in_t *g)
{
    return g->align_ns;
}
