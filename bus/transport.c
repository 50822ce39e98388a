#include "bus/transport.h"

#include <arpa/inet.h>
#include <czmq.h>
#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "bus/base/clock.h"
#include "bus/curve.h"
#include "bus/envelope.h"
#include "bus/frame_tsan.h"
#include "bus/base/error.h"
#include "bus/base/log.h"
#include "bus/messages.h"
#include "bus/outq.h"
#include "bus/transport_probe.h"

#define S_QUEUE_DEFAULT   65536
#define S_BORROW_MIN      4096 /* inbound payloads this big are not copied out of their frame */
#define S_OVERSIZE_MARGIN (1u << 20) /* see zsock_set_maxmsgsize below */
#define S_RETRY_MS        2 /* poll period while messages wait for a connection or a full mailbox */
#define S_WRONG_SENDERS   16          /* senders a WRONG_NODE answer is remembered for */
#define S_WRONG_EVERY_NS  1000000000  /* at most one WRONG_NODE answer per sender per second */
#define S_PROBE_AFTER_NS  200000000   /* a dialed peer not up by then is asked who it is */
#define S_PROBE_POLL_MS   20          /* how often an open probe is read */
#define S_QUEUED_DEFAULT  4           /* max_queued_bytes: this many max_payload by default */
#define S_ACCT_IDLE_NS    10000000000 /* an empty account of a peer not heard for 10 s goes */
#define S_KEEP_WRONG_NS   10000000000 /* a connection to a wrong node waits this long to be taken */

/* A FIFO of owned messages. */
typedef struct {
    wr_msg_t **items;
    size_t head, len, cap;
} s_fifo_t;

typedef struct {
    char id[WR_NODE_MAX];
    char endpoint[128];
    enum wr_peer_state state;
    bool heartbeats;       /* we send heartbeats to it (it heartbeats, or we connected) */
    bool connected;        /* we made an outgoing connection to endpoint */
    bool heard;            /* DOWN, yet a message came from it since: its connection is back */
    int64_t since_ns;      /* when the current state began */
    int64_t last_heard_ns; /* 0: never */
    uint64_t incarnation;
    char actual[WR_NODE_MAX]; /* the id the node at endpoint gave (WRONG_NODE); "" normally */
    int64_t keep_until_ns;    /* with actual, without CURVE: our connection stays until then */
    wr__probes_t probes;      /* ask the node at endpoint who it is (s_probe_peers) */
    int handshake;            /* with CURVE: how our connection's last handshake ended (curve.h) */
    s_fifo_t waiting;         /* outbound messages waiting for the connection, in order */
    uint64_t waiting_bytes;   /* their payloads */
} s_peer_t;

typedef struct {
    wr_msg_t *msg;
    bool connect; /* a connect request rather than a message */
    bool passive; /* with connect: expect the peer to connect to us (see wr_transport_link) */
    bool track;   /* only start tracking the peer's liveness (wr_transport_track) */
    char peer[WR_NODE_MAX];
    char endpoint[128];
} s_cmd_t;

struct wr_transport {
    wr_transport_opts_t o;
    char node_id[WR_NODE_MAX];
    char endpoint[128];   /* bound, with its real port */
    char advertised[128]; /* what peers are told (opts.advertised_endpoint); "": endpoint */
    char source[16];      /* the IPv4 address connections come from (opts.source_address) */
    zsock_t *router;
    int router_fd;      /* its ZMQ_FD: readable when ZeroMQ has news for it (edge-triggered) */
    wr__curve_t *curve; /* NULL: security off */
    int wake_fd;
    pthread_t thread;
    _Atomic bool stop;
    _Atomic bool sleeping;
    int64_t linger_ms;

    pthread_mutex_t lock; /* guards the outbound command queue */
    s_cmd_t *queue;
    size_t qhead, qlen, qcap;

    /* I/O thread only */
    s_peer_t *peers;
    size_t npeers, peers_cap;
    wr_msg_t *held_in; /* inbound message the deliver callback pushed back on */
    msgpack_sbuffer sbuf;
    uint64_t hb_seq;
    uint64_t router_sends; /* zmq_send calls on the ROUTER (see the sleep in s_io_main) */
    int64_t next_hb_ns;
    struct {
        char peer[WR_NODE_MAX];
        int64_t last_ns;
    } answered[S_WRONG_SENDERS]; /* recent WRONG_NODE answers, to rate-limit them and log once */
    unsigned answered_next;
    wr_logrl_t log;   /* what peers send that is dropped (bus/base/log.h) */
    wr__outq_t *outq; /* each peer's bytes inside ZeroMQ, and its connection (bus/outq.h) */

    pthread_mutex_t stats_lock; /* guards stats and the peer snapshot below */
    wr_transport_stats_t stats;
    wr_peer_info_t *peer_snap;
    size_t npeer_snap;
};

/* ---- fifo ---- */

static int s_fifo_push(s_fifo_t *f, wr_msg_t *m)
{
    if (f->len == f->cap) {
        size_t ncap = f->cap ? f->cap * 2 : 16;
        wr_msg_t **n = malloc(ncap * sizeof *n);
        if (!n) return WR_ENOMEM;
        for (size_t i = 0; i < f->len; i++)
            n[i] = f->items[(f->head + i) % f->cap];
        free(f->items);
        f->items = n;
        f->head = 0;
        f->cap = ncap;
    }
    f->items[(f->head + f->len++) % f->cap] = m;
    return 0;
}

static wr_msg_t *s_fifo_peek(s_fifo_t *f)
{
    return f->len ? f->items[f->head] : NULL;
}

static void s_fifo_drop_head(s_fifo_t *f)
{
    f->head = (f->head + 1) % f->cap;
    f->len--;
}

static void s_fifo_release(s_fifo_t *f)
{
    while (f->len) {
        wr_msg_t *m = s_fifo_peek(f);
        s_fifo_drop_head(f);
        wr_msg_destroy(&m);
    }
    free(f->items);
    memset(f, 0, sizeof *f);
}

/* What waits for peer p, with its bytes counted (the bound of transport.h). */
static int s_wait_push(s_peer_t *p, wr_msg_t *m)
{
    int rc = s_fifo_push(&p->waiting, m);
    if (!rc) p->waiting_bytes += m->len;
    return rc;
}

static void s_wait_drop_head(s_peer_t *p)
{
    p->waiting_bytes -= s_fifo_peek(&p->waiting)->len;
    s_fifo_drop_head(&p->waiting);
}

/* ---- peers ---- */

static s_peer_t *s_peer_find(wr_transport_t *t, const char *id)
{
    for (size_t i = 0; i < t->npeers; i++)
        if (!strcmp(t->peers[i].id, id)) return &t->peers[i];
    return NULL;
}

static s_peer_t *s_peer_add(wr_transport_t *t, const char *id)
{
    s_peer_t *p = s_peer_find(t, id);
    if (p) return p;
    if (t->npeers == t->peers_cap) {
        size_t ncap = t->peers_cap ? t->peers_cap * 2 : 8;
        s_peer_t *n = realloc(t->peers, ncap * sizeof *n);
        if (!n) return NULL;
        t->peers = n;
        t->peers_cap = ncap;
    }
    p = &t->peers[t->npeers++];
    memset(p, 0, sizeof *p);
    snprintf(p->id, sizeof p->id, "%s", id);
    p->state = WR_PEER_CONNECTING;
    p->since_ns = wr_now_ns();
    return p;
}

static void s_publish_peers(wr_transport_t *t);

static void s_peer_set_state(wr_transport_t *t, s_peer_t *p, enum wr_peer_state st,
                             const char *reason)
{
    if (p->state == st) return;
    enum wr_peer_state old = p->state;
    p->state = st;
    p->heard = false;
    p->since_ns = wr_now_ns();
    s_publish_peers(t); /* before the event: a watcher told PEER_DOWN must not read "up" */
    if (st == WR_PEER_DOWN && t->o.handler.peer_event) {
        wr_info("%s: peer %s down: %s", t->node_id, p->id, reason);
        t->o.handler.peer_event(t->o.handler.ctx, p->id, false, reason, p->incarnation);
    } else if (st == WR_PEER_UP && t->o.handler.peer_event) {
        wr_info("%s: peer %s up", t->node_id, p->id);
        t->o.handler.peer_event(t->o.handler.ctx, p->id, true, old == WR_PEER_DOWN ? "back" : "new",
                                p->incarnation);
    }
}

static void s_publish_peers(wr_transport_t *t)
{
    int64_t now = wr_now_ns();
    pthread_mutex_lock(&t->stats_lock);
    if (t->npeer_snap < t->npeers) {
        wr_peer_info_t *n = realloc(t->peer_snap, t->peers_cap * sizeof *n);
        if (!n) {
            pthread_mutex_unlock(&t->stats_lock);
            return;
        }
        t->peer_snap = n;
    }
    for (size_t i = 0; i < t->npeers; i++) {
        s_peer_t *p = &t->peers[i];
        wr_peer_info_t *s = &t->peer_snap[i];
        memcpy(s->id, p->id, sizeof s->id);
        memcpy(s->endpoint, p->endpoint, sizeof s->endpoint);
        memcpy(s->actual, p->actual, sizeof s->actual);
        s->state = p->state;
        s->incarnation = p->incarnation;
        s->handshake = p->handshake;
        s->last_heard_ms_ago = p->last_heard_ns ? (now - p->last_heard_ns) / 1000000 : -1;
    }
    t->npeer_snap = t->npeers;
    pthread_mutex_unlock(&t->stats_lock);
}

#define STAT_ADD(t, field, n)                                                                      \
    do {                                                                                           \
        pthread_mutex_lock(&(t)->stats_lock);                                                      \
        (t)->stats.field += (n);                                                                   \
        pthread_mutex_unlock(&(t)->stats_lock);                                                    \
    } while (0)

/* ---- sending (I/O thread) ---- */

/* One attempt: 0 sent, WR_EUNREACH no such peer connection now, WR_EAGAIN peer's queue full,
 * other errors final. */
static int s_send_now(wr_transport_t *t, const char *peer, const wr_msg_t *m)
{
    wr_envelope_t env;
    wr_msg_envelope(m, &env);
    t->sbuf.size = 0;
    int rc = wr_envelope_encode_header(&env, &t->sbuf);
    if (rc) return rc;
    /* one copy of the payload, straight into the frame ZeroMQ sends, counted into the peer's
     * account until ZeroMQ is done with it */
    wr__outq_acct_t *acct = wr__outq_get(t->outq, peer);
    zmq_msg_t frame;
    if (!acct || wr__outq_frame(acct, &frame, t->sbuf.data, t->sbuf.size, m->data, m->len))
        return WR_ENOMEM;
    size_t bytes = zmq_msg_size(&frame);
    WR_FRAME_SENT(zmq_msg_data(&frame));
    void *sock = zsock_resolve(t->router);
    t->router_sends++;
    if (zmq_send(sock, peer, strlen(peer), ZMQ_SNDMORE | ZMQ_DONTWAIT) < 0) {
        zmq_msg_close(&frame);
        return errno == EAGAIN ? WR_EAGAIN : WR_EUNREACH;
    }
    if (zmq_msg_send(&frame, sock, ZMQ_DONTWAIT) < 0) {
        /* the routing frame went out, so the pipe exists; a failure here is a full pipe */
        wr_warn("%s: send to %s failed after routing frame: %s", t->node_id, peer,
                zmq_strerror(errno));
        zmq_msg_close(&frame);
        return WR_EAGAIN;
    }
    pthread_mutex_lock(&t->stats_lock);
    t->stats.frames_out++;
    t->stats.bytes_out += bytes;
    pthread_mutex_unlock(&t->stats_lock);
    return 0;
}

static void s_give_back(wr_transport_t *t, wr_msg_t **m, int err)
{
    STAT_ADD(t, undeliverable_out, 1);
    if (t->o.handler.undeliverable) t->o.handler.undeliverable(t->o.handler.ctx, m, err);
    wr_msg_destroy(m);
}

/* Sends what waits for peer p, in order, until the connection refuses. */
static void s_flush_peer(wr_transport_t *t, s_peer_t *p, int64_t now)
{
    wr_msg_t *m;
    while ((m = s_fifo_peek(&p->waiting))) {
        /* a peer declared down is unreachable until heard from again; ZeroMQ would otherwise
         * queue for it (the connect-side pipe outlives the connection) and an ask would hang.
         * A restarted peer's first request may come before its first heartbeat: the answer goes
         * back over the connection that request came in on. */
        int rc = p->state == WR_PEER_DOWN && !p->heard ? WR_EUNREACH : s_send_now(t, p->id, m);
        if (rc == WR_EAGAIN) return;
        if (rc == WR_EUNREACH) {
            /* a connection we made, or one that was up, gets a grace period to come (back) */
            if (now - p->since_ns < t->o.heartbeat_timeout_ms * 1000000 && p->state != WR_PEER_DOWN)
                return;
        }
        s_wait_drop_head(p);
        if (rc)
            s_give_back(t, &m, rc);
        else
            wr_msg_destroy(&m);
    }
}

/* Peer `peer` (p: its entry, when it has one) holds more than max_queued_bytes here, inside
 * ZeroMQ and waiting: it does not read. What waits is handed back, and its connection is shut
 * down, which drops what ZeroMQ holds for it (counted and logged once per cut). */
static void s_overflow(wr_transport_t *t, const char *peer, s_peer_t *p, uint64_t bytes)
{
    wr_msg_t *m;
    while (p && (m = s_fifo_peek(&p->waiting))) {
        s_wait_drop_head(p);
        s_give_back(t, &m, WR_ETOOBIG);
    }
    wr__outq_acct_t *acct = wr__outq_get(t->outq, peer);
    if (!acct || wr__outq_cut(acct)) return; /* cut already, or no connection of its own */
    STAT_ADD(t, overflowed, 1);
    wr_warn_limited(&t->log,
                    "%s: peer '%.31s' does not read what is sent to it: %llu bytes queued, over "
                    "the bound of %llu; closed its connection",
                    t->node_id, peer, (unsigned long long)bytes,
                    (unsigned long long)t->o.max_queued_bytes);
}

/* Whether peer holds more than its bound here (then s_overflow). */
static void s_check_bound(wr_transport_t *t, const char *peer, s_peer_t *p)
{
    wr__outq_acct_t *acct = wr__outq_get(t->outq, peer);
    uint64_t bytes = (acct ? wr__outq_bytes(acct) : 0) + (p ? p->waiting_bytes : 0);
    if (bytes > t->o.max_queued_bytes) s_overflow(t, peer, p, bytes);
}

static void s_route_out(wr_transport_t *t, wr_msg_t *m, int64_t now)
{
    char peer[WR_NODE_MAX];
    if (!wr_addr_split(m->to, peer)) {
        s_give_back(t, &m, WR_EINVAL);
        return;
    }
    s_peer_t *p = s_peer_find(t, peer);
    if (p) {
        if (s_wait_push(p, m))
            s_give_back(t, &m, WR_ENOMEM);
        else
            s_flush_peer(t, p, now);
        s_check_bound(t, peer, p);
        return;
    }
    int rc = s_send_now(t, peer, m);
    if (rc == WR_EAGAIN) {
        /* an untracked peer (a CLI client) with a full pipe: track it so order is kept */
        p = s_peer_add(t, peer);
        if (p && !s_wait_push(p, m)) {
            s_check_bound(t, peer, p);
            return;
        }
        rc = WR_ENOMEM;
    }
    if (rc)
        s_give_back(t, &m, rc);
    else
        wr_msg_destroy(&m);
    s_check_bound(t, peer, NULL);
}

/* ---- our dials ---- */

/* Closes the connection this node dialed for p, unless another peer's dial shares its endpoint
 * (ZeroMQ closes by endpoint: that one's would go too). */
static void s_close_dial(wr_transport_t *t, s_peer_t *p)
{
    if (!p->connected) return;
    p->connected = false;
    p->keep_until_ns = 0;
    for (size_t i = 0; i < t->npeers; i++)
        if (t->peers[i].connected && !strcmp(t->peers[i].endpoint, p->endpoint)) return;
    char dial[WR__DIAL_MAX];
    zsock_disconnect(t->router, "%s", wr__dial_endpoint(dial, sizeof dial, p->endpoint, t->source));
}

/* Hands `to` the connection kept for another peer whose node said it is to->id, dialed at
 * to->endpoint (see s_on_wrong_node). Returns whether there was one. */
static bool s_take_wrong_dial(wr_transport_t *t, s_peer_t *to)
{
    for (size_t i = 0; i < t->npeers; i++) {
        s_peer_t *q = &t->peers[i];
        if (q == to || !q->connected || !q->keep_until_ns || strcmp(q->actual, to->id) ||
            strcmp(q->endpoint, to->endpoint))
            continue;
        q->connected = false;
        q->keep_until_ns = 0;
        to->connected = true;
        return true;
    }
    return false;
}

/* Closes the kept connections to wrong nodes that nobody took in time. */
static void s_close_wrong_dials(wr_transport_t *t, int64_t now)
{
    for (size_t i = 0; i < t->npeers; i++)
        if (t->peers[i].keep_until_ns && now >= t->peers[i].keep_until_ns)
            s_close_dial(t, &t->peers[i]);
}

/* Drains the command queue. Returns how many commands it took. */
static size_t s_drain_commands(wr_transport_t *t, int64_t now)
{
    size_t n = 0;
    for (;;) {
        pthread_mutex_lock(&t->lock);
        if (!t->qlen) {
            pthread_mutex_unlock(&t->lock);
            return n;
        }
        s_cmd_t c = t->queue[t->qhead];
        t->qhead = (t->qhead + 1) % t->qcap;
        t->qlen--;
        pthread_mutex_unlock(&t->lock);
        n++;
        if (!c.connect) {
            s_route_out(t, c.msg, now);
            continue;
        }
        s_peer_t *p = s_peer_add(t, c.peer);
        if (!p) continue;
        if (c.track) {
            if (!p->heartbeats && t->o.heartbeat_interval_ms > 0) {
                p->heartbeats = true;
                if (p->state != WR_PEER_UP) p->since_ns = now;
            }
            continue;
        }
        /* idempotent; but a peer declared down gets a grace period for its new process (a
         * restarted TaskManager on the same port) to say it is there */
        bool here = p->connected && !strcmp(p->endpoint, c.endpoint);
        if ((here && p->state != WR_PEER_DOWN) || (p->state == WR_PEER_UP && c.passive)) continue;
        /* With keys, a dial to it there is kept: ZeroMQ dials it again by itself, and may have
         * reached the new process already. A fresh dial would be a second connection under this
         * node's routing id there, and a ROUTER without handover (no handover with keys) parks
         * the later of two for good: once the old one closed, what this node sends would go to
         * the parked one and be lost (seen: a job that never ran on after a TaskManager's
         * restart, 2026-12-07). Without keys the fresh dial takes the id over; a dial whose
         * handshake failed is dialed afresh (the keys may be new). */
        bool keep = here && t->curve && !c.passive && !p->handshake && !p->actual[0];
        if (!keep) {
            s_close_dial(t, p);
            p->handshake = 0;
            snprintf(p->endpoint, sizeof p->endpoint, "%s", c.endpoint);
            p->actual[0] = '\0';
        }
        p->heartbeats = t->o.heartbeat_interval_ms > 0;
        p->since_ns = now;
        if (p->state == WR_PEER_DOWN) p->state = WR_PEER_CONNECTING;
        if (!keep && !c.passive && !s_take_wrong_dial(t, p)) {
            /* with CURVE, no connection to a peer without a public certificate */
            int keyless = t->curve ? wr__curve_client(t->curve, t->router, c.peer) : 0;
            char dial[WR__DIAL_MAX];
            zsock_set_connect_rid(t->router, c.peer);
            if (!keyless &&
                zsock_connect(t->router, "%s",
                              wr__dial_endpoint(dial, sizeof dial, c.endpoint, t->source)) == 0)
                p->connected = true;
            else if (!keyless)
                wr_warn("%s: cannot connect to %s at %s: %s", t->node_id, c.peer, c.endpoint,
                        zmq_strerror(zmq_errno()));
        }
        s_publish_peers(t);
    }
}

/* ---- heartbeats ---- */

static void s_send_heartbeats(wr_transport_t *t)
{
    for (size_t i = 0; i < t->npeers; i++) {
        s_peer_t *p = &t->peers[i];
        if (!p->heartbeats || p->waiting.len) continue;
        wr_msg_heartbeat_t hb = {.incarnation = t->o.incarnation, .seq = t->hb_seq};
        snprintf(hb.node, sizeof hb.node, "%s", t->node_id);
        snprintf(hb.endpoint, sizeof hb.endpoint, "%s", wr_transport_advertised(t));
        char from[WR_ADDR_MAX], to[WR_ADDR_MAX];
        snprintf(from, sizeof from, "%s/node", t->node_id);
        snprintf(to, sizeof to, "%s/node", p->id);
        wr_msg_t *m = wr_msg_heartbeat_new(WR_MSG_HEARTBEAT, from, to, &hb);
        if (!m) continue;
        int rc = s_send_now(t, p->id, m);
        if (rc == 0) STAT_ADD(t, heartbeats_out, 1);
        /* no pipe to a peer that was up: its connection broke (a killed process closes its
         * sockets), so there is no need to wait for the heartbeat timeout */
        if (rc == WR_EUNREACH && p->state == WR_PEER_UP)
            s_peer_set_state(t, p, WR_PEER_DOWN, "connection lost");
        wr_msg_destroy(&m);
    }
    t->hb_seq++;
}

/* Declares silent peers down; returns when the next one would time out (INT64_MAX: none). */
static int64_t s_check_liveness(wr_transport_t *t, int64_t now)
{
    int64_t timeout = t->o.heartbeat_timeout_ms * 1000000, next = INT64_MAX;
    for (size_t i = 0; i < t->npeers; i++) {
        s_peer_t *p = &t->peers[i];
        if (!p->heartbeats || p->state == WR_PEER_DOWN) continue;
        /* the later of the last word and the state's start: a peer connected again after it
         * was down has its grace period (s_drain_commands) */
        int64_t since = p->last_heard_ns > p->since_ns ? p->last_heard_ns : p->since_ns;
        if (now - since > timeout)
            s_peer_set_state(t, p, WR_PEER_DOWN,
                             p->last_heard_ns ? "heartbeat timeout" : "never answered");
        else if (since + timeout < next)
            next = since + timeout;
    }
    return next;
}

static void s_on_heartbeat(wr_transport_t *t, const char *peer_id, const wr_envelope_t *env,
                           int64_t now)
{
    wr_msg_heartbeat_t hb;
    if (wr_msg_heartbeat_decode(env->payload, env->payload_len, &hb) || strcmp(hb.node, peer_id)) {
        STAT_ADD(t, bad_envelope, 1);
        STAT_ADD(t, malformed, 1);
        return;
    }
    STAT_ADD(t, heartbeats_in, 1);
    s_peer_t *p = s_peer_add(t, peer_id);
    if (!p) return;
    p->heartbeats = t->o.heartbeat_interval_ms > 0;
    if (!p->endpoint[0]) snprintf(p->endpoint, sizeof p->endpoint, "%s", hb.endpoint);
    if (p->incarnation && p->incarnation != hb.incarnation)
        s_peer_set_state(t, p, WR_PEER_DOWN, "restarted (new incarnation)"); /* the old one */
    p->incarnation = hb.incarnation;
    p->last_heard_ns = now;
    s_peer_set_state(t, p, WR_PEER_UP, "heartbeat");
}

/* ---- receiving (I/O thread) ---- */

/* Why an inbound frame was dropped: a decoder code (WR_EPROTO, WR_EVERSION, WR_ETYPE, WR_ETOOBIG)
 * or one of these. */
enum { S_REJECT_FRAMES = 1, S_REJECT_SPOOFED = 2 };

static void s_count_reject(wr_transport_t *t, int why, const char *peer)
{
    const char *text = why > 0 ? (why == S_REJECT_FRAMES ? "wrong frame count or routing id"
                                                         : "sender is not the connection's node")
                               : wr_strerror(why);
    pthread_mutex_lock(&t->stats_lock);
    t->stats.malformed++;
    switch (why) {
    case S_REJECT_FRAMES:
        t->stats.bad_frames++;
        break;
    case S_REJECT_SPOOFED:
        t->stats.spoofed++;
        break;
    case WR_EVERSION:
        t->stats.bad_version++;
        break;
    case WR_ETYPE:
        t->stats.bad_type++;
        break;
    case WR_ETOOBIG:
        t->stats.oversized++;
        break;
    default:
        t->stats.bad_envelope++;
        break;
    }
    uint64_t total = t->stats.malformed;
    pthread_mutex_unlock(&t->stats_lock);
    wr_warn_limited(&t->log, "%s: dropped malformed frame from '%.31s': %s (%llu so far)",
                    t->node_id, peer, text, (unsigned long long)total);
}

/* ---- node ids (see the top of transport.h) ---- */

/* A message from peer (its own node, as the connection says) addressed to another node id: count
 * it, log it once per sender, and answer WRONG_NODE at most once a second per sender. */
static void s_answer_wrong_node(wr_transport_t *t, const char *peer, const wr_envelope_t *env,
                                int64_t now)
{
    STAT_ADD(t, misaddressed, 1);
    unsigned slot = S_WRONG_SENDERS;
    for (unsigned i = 0; i < S_WRONG_SENDERS; i++)
        if (!strcmp(t->answered[i].peer, peer)) slot = i;
    if (slot < S_WRONG_SENDERS && now - t->answered[slot].last_ns < S_WRONG_EVERY_NS) return;
    if (slot == S_WRONG_SENDERS) {
        slot = t->answered_next++ % S_WRONG_SENDERS;
        snprintf(t->answered[slot].peer, sizeof t->answered[slot].peer, "%s", peer);
        wr_warn_limited(&t->log,
                        "%s: node '%s' sends to '%s', but this node is '%s': told it so (it has "
                        "this node's id wrong in its configuration)",
                        t->node_id, peer, env->to, t->node_id);
    }
    t->answered[slot].last_ns = now;
    wr_msg_wrong_node_t w;
    snprintf(w.node, sizeof w.node, "%s", t->node_id);
    snprintf(w.to, sizeof w.to, "%s", env->to);
    char from[WR_ADDR_MAX];
    snprintf(from, sizeof from, "%s/node", t->node_id);
    wr_msg_t *m = wr_msg_wrong_node_new(WR_MSG_WRONG_NODE, from, env->from, &w);
    if (!m) return;
    m->corr = env->corr;
    s_send_now(t, peer, m); /* over the connection the message came in on; best effort */
    wr_msg_destroy(&m);
}

/* An answer that came over a connection this node dialed as peer p (a probe's, below, or p's own
 * where the connection took p's id): a WRONG_NODE is believed only when it is about p (the id
 * addressed) from a node naming itself consistently, and no other peer has that id; p is then
 * down, its connection closed or kept for a while (below), what waits for it handed back, and
 * p->actual says who is there. */
static void s_on_wrong_node(wr_transport_t *t, s_peer_t *p, const wr_envelope_t *env)
{
    wr_msg_wrong_node_t w;
    char from_node[WR_NODE_MAX], to_node[WR_NODE_MAX];
    if (env->type != WR_MSG_WRONG_NODE) return; /* a PONG: the node there is p after all */
    s_peer_t *other;
    if (wr_msg_wrong_node_decode(env->payload, env->payload_len, &w) ||
        !wr_addr_split(env->from, from_node) || strcmp(w.node, from_node) ||
        !wr_node_id_valid(from_node) || !strcmp(from_node, p->id) ||
        !wr_addr_split(w.to, to_node) || strcmp(to_node, p->id) ||
        ((other = s_peer_find(t, from_node)) && strcmp(other->endpoint, p->endpoint))) {
        STAT_ADD(t, spoofed, 1);
        STAT_ADD(t, malformed, 1);
        return;
    }
    char reason[WR_NODE_MAX * 2 + sizeof p->endpoint + 32];
    snprintf(reason, sizeof reason, "the node at %s is '%s', not '%s'", p->endpoint, from_node,
             p->id);
    wr_info("%s: %s", t->node_id, reason); /* the user of the peer says what to do about it */
    snprintf(p->actual, sizeof p->actual, "%s", from_node);
    /* Over tcp:// and ipc:// ZeroMQ named our connection after the node there (ZMQ_IMMEDIATE
     * makes the pipe only once the handshake said who is there): closing it now and dialing
     * again under that id would race the close, and a message sent to that id before ZeroMQ was
     * done with the old pipe was lost (a CI run saw it). So it stays for a connect to that id
     * at this endpoint to take over (s_take_wrong_dial), and is closed after S_KEEP_WRONG_NS
     * otherwise. An inproc:// pipe is named after the id dialed (ZMQ_CONNECT_ROUTING_ID), so
     * nothing races; with CURVE the connection never came up (it expected p's key). */
    if (t->curve || !strncmp(p->endpoint, "inproc://", 9))
        s_close_dial(t, p);
    else
        p->keep_until_ns = wr_now_ns() + S_KEEP_WRONG_NS;
    p->heartbeats = false;
    s_peer_set_state(t, p, WR_PEER_DOWN, reason);
    s_publish_peers(t); /* actual, also were the peer down already */
    /* after publishing: whoever gets its message back can read who is there */
    wr_msg_t *m;
    while ((m = s_fifo_peek(&p->waiting))) {
        s_wait_drop_head(p);
        s_give_back(t, &m, WR_EWRONGNODE);
    }
}

/* Whose probe answered. */
typedef struct {
    wr_transport_t *t;
    s_peer_t *p;
} s_probed_t;

/* A probe's answer about a peer (bus/transport_probe.h): whether it settled who is there. */
static bool s_probe_answer(void *ctx, const wr_envelope_t *env)
{
    s_probed_t *w = ctx;
    s_on_wrong_node(w->t, w->p, env);
    return w->p->actual[0] != '\0';
}

/* Probes peers this node dialed that have not come up (bus/transport_probe.h), from 200 ms after
 * they were dialed; the probes are closed once the peer is up, down or known to be another node.
 * Returns whether a probe is open (the I/O thread then polls). */
static bool s_probe_peers(wr_transport_t *t, int64_t now)
{
    wr__probe_env_t e = {.node_id = t->node_id,
                         .source = t->source,
                         .curve = t->curve,
                         .max_payload = t->o.max_payload,
                         .sbuf = &t->sbuf,
                         .answer = s_probe_answer};
    bool open = false;
    for (size_t i = 0; i < t->npeers; i++) {
        s_peer_t *p = &t->peers[i];
        bool wanted = p->connected && p->state == WR_PEER_CONNECTING && !p->actual[0] &&
                      (p->heartbeats || p->waiting.len);
        if (!wanted) {
            wr__probes_close(&p->probes);
            continue;
        }
        if (now - p->since_ns < S_PROBE_AFTER_NS) continue;
        s_probed_t who = {t, p};
        open |= wr__probes_run(&p->probes, &e, &who, p->id, p->endpoint, now);
    }
    return open;
}

static void s_frame_release(void *frame)
{
    zmq_msg_close(frame);
    free(frame);
}

/* What s_receive_one did. */
enum { S_RECV_NONE, S_RECV_FAILED, S_RECV_TAKEN, S_RECV_HELD };

/* Handles one inbound message (routing frame + body), if one is there: S_RECV_NONE when none
 * was (EAGAIN), S_RECV_FAILED when the receive failed otherwise, S_RECV_HELD when the deliver
 * callback pushed back and the message is now held, else S_RECV_TAKEN (delivered, or dropped
 * and counted). */
static int s_receive_one(wr_transport_t *t, int64_t now)
{
    void *sock = zsock_resolve(t->router);
    zmq_msg_t id, body;
    zmq_msg_init(&id);
    zmq_msg_init(&body);
    int result = S_RECV_TAKEN;
    if (zmq_msg_recv(&id, sock, ZMQ_DONTWAIT) < 0) {
        result = zmq_errno() == EAGAIN ? S_RECV_NONE : S_RECV_FAILED;
        goto out;
    }
    char peer[WR_NODE_MAX] = "";
    size_t idlen = zmq_msg_size(&id);
    bool id_ok = idlen > 0 && idlen < WR_NODE_MAX;
    if (id_ok) {
        memcpy(peer, zmq_msg_data(&id), idlen);
        peer[idlen] = '\0';
        id_ok = wr_node_id_valid(peer);
    }
    int frames = 1;
    bool more = zmq_msg_more(&id);
    while (more) { /* read every frame of the message, whatever it holds */
        zmq_msg_t *dst = frames == 1 ? &body : NULL;
        zmq_msg_t junk;
        if (!dst) {
            zmq_msg_init(&junk);
            dst = &junk;
        }
        if (zmq_msg_recv(dst, sock, 0) < 0) break;
        frames++;
        more = zmq_msg_more(dst);
        if (dst == &junk) zmq_msg_close(&junk);
    }
    WR_FRAME_RECEIVED(zmq_msg_data(&body));
    pthread_mutex_lock(&t->stats_lock);
    t->stats.frames_in++;
    t->stats.bytes_in += zmq_msg_size(&body);
    pthread_mutex_unlock(&t->stats_lock);
    if (frames != 2 || !id_ok) {
        s_count_reject(t, S_REJECT_FRAMES, id_ok ? peer : "?");
        goto out;
    }
    wr__outq_acct_t *acct = wr__outq_get(t->outq, peer);
    if (acct) wr__outq_heard(acct, &body, now);
    wr_envelope_t env;
    int rc = wr_envelope_decode(zmq_msg_data(&body), zmq_msg_size(&body), t->o.max_payload, &env);
    if (rc) {
        s_count_reject(t, rc, peer);
        goto out;
    }
    /* who sent it: the key it came with (before anything else is believed) */
    const wr_key_t *key = NULL;
    if (t->curve && wr__curve_identify(t->curve, peer, &body, &key)) goto out;
    char from_node[WR_NODE_MAX], to_node[WR_NODE_MAX];
    s_peer_t *p = s_peer_find(t, peer);
    if (env.type == WR_MSG_WRONG_NODE && p && p->connected && !p->actual[0]) {
        s_on_wrong_node(t, p, &env); /* from another id than the connection's, by nature */
        goto out;
    }
    if (!wr_addr_split(env.from, from_node) || strcmp(from_node, peer) ||
        !wr_addr_split(env.to, to_node)) {
        s_count_reject(t, S_REJECT_SPOOFED, peer);
        goto out;
    }
    if (strcmp(to_node, t->node_id)) {
        s_answer_wrong_node(t, peer, &env, now);
        goto out;
    }
    if (env.type == WR_MSG_HEARTBEAT) {
        s_on_heartbeat(t, peer, &env, now);
        s_publish_peers(t);
        goto out;
    }
    /* Any message shows an up peer alive; only a heartbeat brings a peer up, since only a
     * heartbeat says which incarnation it is (a restart is told apart from a comeback by it). */
    if (p && p->state == WR_PEER_UP) p->last_heard_ns = now;
    if (p && p->state == WR_PEER_DOWN) p->heard = true;
    wr_msg_t *m;
    if (env.payload_len >= S_BORROW_MIN) {
        /* big payloads stay in the frame ZeroMQ received them in: the message owns the frame */
        zmq_msg_t *frame = malloc(sizeof *frame);
        if (!frame) goto out;
        zmq_msg_init(frame);
        zmq_msg_move(frame, &body);
        m = wr_msg_wrap_envelope(&env, s_frame_release, frame);
    } else {
        m = wr_msg_from_envelope(&env);
    }
    if (!m) goto out;
    m->role = key ? key->role : WR_ROLE_OPEN;
    if (key) snprintf(m->cert, sizeof m->cert, "%s", key->name);
    rc = t->o.handler.deliver(t->o.handler.ctx, &m);
    if (rc == WR_EAGAIN) {
        t->held_in = m;
        result = S_RECV_HELD;
    } else if (rc) {
        STAT_ADD(t, undeliverable_in, 1);
        wr_msg_destroy(&m);
    }
out:
    zmq_msg_close(&id);
    zmq_msg_close(&body);
    return result;
}

/* ---- the I/O thread ---- */

/* Whether this node dialed node `name` itself (bus/curve.h). */
static bool s_dialed(void *t, const char *name)
{
    s_peer_t *p = s_peer_find(t, name);
    return p && p->connected;
}

/* How the handshake of this node's connection to endpoint ended (bus/curve.h): kept in its
 * peer's entry for wr_peer_info_t. */
static bool s_handshake(void *tp, const char *endpoint, int why)
{
    wr_transport_t *t = tp;
    bool ours = false;
    char dial[WR__DIAL_MAX];
    for (size_t i = 0; i < t->npeers; i++) {
        s_peer_t *p = &t->peers[i];
        /* libzmq names the connection after the text it was dialed with (the source in it) */
        if (!p->connected ||
            strcmp(wr__dial_endpoint(dial, sizeof dial, p->endpoint, t->source), endpoint))
            continue;
        ours = true;
        p->handshake = why;
    }
    if (ours) s_publish_peers(t);
    return ours;
}

static void *s_io_main(void *arg)
{
    wr_transport_t *t = arg;
    int64_t hb_ns = t->o.heartbeat_interval_ms * 1000000;
    t->next_hb_ns = wr_now_ns();
    bool curve_ready = true; /* the CURVE sockets signalled in the last sleep */
    while (!atomic_load(&t->stop)) {
        int64_t now = wr_now_ns();
        if (t->curve) {
            wr__curve_serve(
                t->curve, now, curve_ready,
                &(wr__curve_links_t){.ctx = t, .dialed = s_dialed, .handshake = s_handshake});
        }
        s_drain_commands(t, now);
        s_close_wrong_dials(t, now);
        bool waiting = false;
        for (size_t i = 0; i < t->npeers; i++) {
            if (t->peers[i].waiting.len) s_flush_peer(t, &t->peers[i], now);
            waiting |= t->peers[i].waiting.len > 0;
        }
        bool probing = s_probe_peers(t, now);
        if (t->held_in) {
            int rc = t->o.handler.deliver(t->o.handler.ctx, &t->held_in);
            if (rc && rc != WR_EAGAIN) {
                STAT_ADD(t, undeliverable_in, 1);
                wr_msg_destroy(&t->held_in);
            }
        }
        /* read a burst: a wake-up is expensive, so take everything that is there (a receive
         * that finds nothing costs ZeroMQ a system call, asking ZMQ_EVENTS first costs one per
         * message) */
        int got = S_RECV_TAKEN;
        for (int i = 0; i < 256 && got == S_RECV_TAKEN && !t->held_in; i++)
            got = s_receive_one(t, now);
        uint64_t sends_at_none = t->router_sends;
        int64_t next_timeout = INT64_MAX;
        if (hb_ns > 0) {
            if (now >= t->next_hb_ns) {
                wr__outq_sweep(t->outq, now, S_ACCT_IDLE_NS);
                s_send_heartbeats(t);
                s_publish_peers(t);
                t->next_hb_ns = now + hb_ns;
            }
            next_timeout = s_check_liveness(t, now);
        }
        /* sleep until a socket event, a sender's wake-up, or the next timer */
        atomic_store(&t->sleeping, true);
        pthread_mutex_lock(&t->lock);
        bool have_cmds = t->qlen > 0;
        pthread_mutex_unlock(&t->lock);
        int64_t wait_ms = 1000;
        if (hb_ns > 0) {
            int64_t until = t->next_hb_ns < next_timeout ? t->next_hb_ns : next_timeout;
            wait_ms = (until - wr_now_ns()) / 1000000 + 1;
        }
        if (probing && wait_ms > S_PROBE_POLL_MS) wait_ms = S_PROBE_POLL_MS;
        if (waiting || t->held_in) wait_ms = S_RETRY_MS;
        /* the last look at the ROUTER before the sleep: its ZMQ_FD signals only what happens
         * after a look at its events (it is edge-triggered), so nothing may touch the socket
         * between this and the poll. A receive that found nothing was such a look (it takes
         * ZeroMQ's pending commands, as ZMQ_EVENTS does), unless a send came after it. */
        bool looked = got == S_RECV_NONE && t->router_sends == sends_at_none;
        if (have_cmds || (!t->held_in && !looked && zsock_events(t->router) & ZMQ_POLLIN))
            wait_ms = 0;
        curve_ready = false;
        if (wait_ms > 0) {
            /* one poll(2) on the file descriptors: zmq_poll would ask every socket's events
             * before and after, two system calls each */
            struct pollfd fds[2 + WR__CURVE_POLLFDS];
            int nfds = 0;
            if (!t->held_in) fds[nfds++] = (struct pollfd){.fd = t->router_fd, .events = POLLIN};
            int wake = nfds++;
            fds[wake] = (struct pollfd){.fd = t->wake_fd, .events = POLLIN};
            /* ZAP requests are answered also while a held message blocks the reading */
            int curve = nfds;
            if (t->curve) nfds += wr__curve_pollfds(t->curve, fds + nfds);
            int n = poll(fds, (nfds_t)nfds, wait_ms > INT32_MAX ? INT32_MAX : (int)wait_ms);
            for (int i = curve; n > 0 && i < nfds; i++)
                curve_ready |= fds[i].revents != 0;
            /* a sender's wake-up; one that came while this thread did not sleep makes the next
             * poll return at once and is read then */
            uint64_t v;
            if (n > 0 && fds[wake].revents && read(t->wake_fd, &v, sizeof v) < 0 && errno != EAGAIN)
                wr_warn("%s: wake read: %s", t->node_id, strerror(errno));
        }
        atomic_store(&t->sleeping, false);
    }
    /* linger: give queued messages a moment to leave */
    int64_t deadline = wr_now_ns() + t->linger_ms * 1000000;
    for (;;) {
        int64_t now = wr_now_ns();
        s_drain_commands(t, now);
        bool waiting = false;
        for (size_t i = 0; i < t->npeers; i++) {
            if (t->peers[i].waiting.len) s_flush_peer(t, &t->peers[i], now);
            waiting |= t->peers[i].waiting.len > 0;
        }
        if (!waiting || now >= deadline) break;
        zclock_sleep(S_RETRY_MS);
    }
    return NULL;
}

/* ---- public ---- */

wr_transport_t *wr_transport_new(const wr_transport_opts_t *opts, int *err)
{
    int rc = WR_ENOMEM;
    wr_transport_t *t = calloc(1, sizeof *t);
    if (t) wr_logrl_init(&t->log, 0);
    if (!t) goto fail;
    t->o = *opts;
    t->wake_fd = -1;
    if (!t->o.max_payload) t->o.max_payload = WR_PAYLOAD_DEFAULT_MAX;
    if (!t->o.outbound_capacity) t->o.outbound_capacity = S_QUEUE_DEFAULT;
    if (!t->o.heartbeat_timeout_ms) t->o.heartbeat_timeout_ms = 3000;
    if (!t->o.max_queued_bytes) t->o.max_queued_bytes = S_QUEUED_DEFAULT * t->o.max_payload;
    /* a bound below one message would cut every peer a big answer goes to */
    if (t->o.max_queued_bytes < t->o.max_payload + S_OVERSIZE_MARGIN)
        t->o.max_queued_bytes = t->o.max_payload + S_OVERSIZE_MARGIN;
    rc = WR_EINVAL;
    if (!opts->node_id || !wr_node_id_valid(opts->node_id) || !opts->handler.deliver) goto fail;
    snprintf(t->node_id, sizeof t->node_id, "%s", opts->node_id);
    t->o.node_id = t->node_id;
    struct in_addr ip;
    const char *src = opts->source_address, *adv = opts->advertised_endpoint;
    if ((src && src[0] && inet_pton(AF_INET, src, &ip) != 1) || (adv && strlen(adv) >= 128))
        goto fail;
    snprintf(t->source, sizeof t->source, "%s", src ? src : "");
    snprintf(t->advertised, sizeof t->advertised, "%s", adv ? adv : "");
    t->o.source_address = t->o.advertised_endpoint = NULL;
    pthread_mutex_init(&t->lock, NULL);
    pthread_mutex_init(&t->stats_lock, NULL);
    msgpack_sbuffer_init(&t->sbuf);
    rc = WR_ENOMEM;
    t->outq = wr__outq_new();
    if (!t->outq) goto fail;
    t->qcap = t->o.outbound_capacity;
    t->queue = malloc(t->qcap * sizeof *t->queue);
    if (!t->queue) goto fail;
    rc = WR_EIO;
    t->wake_fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    if (t->wake_fd < 0) goto fail;
    t->router = zsock_new(ZMQ_ROUTER);
    if (!t->router) goto fail;
    zsock_set_identity(t->router, t->node_id);
    zsock_set_router_mandatory(t->router, 1);
    zsock_set_router_handover(t->router, 1);
    /* a connection is usable only once established: until then sends fail (and wait in our
     * per-peer queue) instead of piling up silently inside ZeroMQ */
    zsock_set_immediate(t->router, 1);
    zsock_set_linger(t->router, 0);
    zsock_set_sndhwm(t->router, 10000);
    zsock_set_rcvhwm(t->router, 10000);
    /* frames somewhat over the limit are read, counted and dropped by the decoder; ZeroMQ itself
     * drops the connection of a peer sending one past this margin, so that a single frame can
     * never make us buffer an unbounded amount of memory */
    size_t hard = t->o.max_payload + S_OVERSIZE_MARGIN;
    zsock_set_maxmsgsize(t->router, (int)(hard > INT32_MAX ? INT32_MAX : hard));
    /* ZMTP heartbeats: ZeroMQ closes a connection whose peer stopped answering its PINGs (a
     * partition without RST, a paused process) after the heartbeat timeout, which frees the
     * routing id it held for the peer's next connection (no handover with keys, below) */
    if (t->o.heartbeat_interval_ms > 0) {
        zsock_set_heartbeat_ivl(t->router, (int)t->o.heartbeat_interval_ms);
        zsock_set_heartbeat_timeout(t->router, (int)t->o.heartbeat_timeout_ms);
        zsock_set_heartbeat_ttl(t->router, (int)t->o.heartbeat_timeout_ms);
    }
    if (opts->keys_dir && opts->keys_dir[0]) {
        bool server = opts->bind && opts->bind[0];
        wr_strbuf_t why;
        wr_strbuf_init(&why);
        t->curve = wr__curve_new(t->node_id, opts->keys_dir, opts->cert ? opts->cert : t->node_id,
                                 server, &why, &rc);
        if (!t->curve) wr_error("%s: %s", t->node_id, why.failed ? "out of memory" : why.buf);
        wr_strbuf_release(&why);
        if (!t->curve) goto fail;
        rc = WR_EIO; /* the server options before the bind: the listener keeps them */
        if ((server && wr__curve_server(t->curve, t->router)) ||
            wr__curve_watch(t->curve, t->router))
            goto fail;
    }
    /* with keys, a connection never takes over the routing id of another (ROUTER_HANDOVER):
     * libzmq hands the id over before a message says which key came, so a valid key of another
     * node could take a peer's place; a restarted peer's old connection closes with its process */
    if (t->curve) zsock_set_router_handover(t->router, 0);
    t->o.keys_dir = t->o.cert = NULL;
    if (opts->bind && opts->bind[0]) {
        if (zsock_bind(t->router, "%s", opts->bind) < 0) {
            wr_error("%s: cannot bind %s: %s", t->node_id, opts->bind, zmq_strerror(zmq_errno()));
            goto fail;
        }
        const char *ep = zsock_endpoint(t->router);
        snprintf(t->endpoint, sizeof t->endpoint, "%s", ep ? ep : opts->bind);
    }
    t->o.bind = NULL;
    t->router_fd = zsock_fd(t->router);
    if (pthread_create(&t->thread, NULL, s_io_main, t)) goto fail;
    return t;
fail:
    if (t) {
        if (t->curve) wr__curve_unwatch(t->router);
        zsock_destroy(&t->router);
        wr__curve_destroy(&t->curve);
        if (t->wake_fd >= 0) close(t->wake_fd);
        free(t->queue);
        msgpack_sbuffer_destroy(&t->sbuf);
        wr__outq_destroy(&t->outq);
        free(t);
    }
    if (err) *err = rc;
    return NULL;
}

static int s_enqueue(wr_transport_t *t, s_cmd_t *c)
{
    pthread_mutex_lock(&t->lock);
    if (t->qlen == t->qcap) {
        pthread_mutex_unlock(&t->lock);
        return WR_EAGAIN;
    }
    t->queue[(t->qhead + t->qlen++) % t->qcap] = *c;
    pthread_mutex_unlock(&t->lock);
    if (atomic_exchange(&t->sleeping, false)) {
        uint64_t one = 1;
        if (write(t->wake_fd, &one, sizeof one) < 0) wr_warn("transport wake: %s", strerror(errno));
    }
    return 0;
}

int wr_transport_send(wr_transport_t *t, wr_msg_t **msg)
{
    if (atomic_load(&t->stop)) return WR_ECLOSED;
    s_cmd_t c = {.msg = *msg};
    int rc = s_enqueue(t, &c);
    if (rc == 0) *msg = NULL;
    return rc;
}

int wr_transport_connect(wr_transport_t *t, const char *peer_id, const char *endpoint)
{
    if (!wr_node_id_valid(peer_id) || !endpoint || strlen(endpoint) >= 128) return WR_EINVAL;
    s_cmd_t c = {.connect = true};
    snprintf(c.peer, sizeof c.peer, "%s", peer_id);
    snprintf(c.endpoint, sizeof c.endpoint, "%s", endpoint);
    return s_enqueue(t, &c);
}

int wr_transport_track(wr_transport_t *t, const char *peer_id)
{
    if (!wr_node_id_valid(peer_id)) return WR_EINVAL;
    s_cmd_t c = {.connect = true, .track = true};
    snprintf(c.peer, sizeof c.peer, "%s", peer_id);
    return s_enqueue(t, &c);
}

int wr_transport_link(wr_transport_t *t, const char *peer_id, const char *endpoint)
{
    if (!wr_node_id_valid(peer_id) || !endpoint || strlen(endpoint) >= 128) return WR_EINVAL;
    s_cmd_t c = {.connect = true, .passive = strcmp(t->node_id, peer_id) > 0};
    snprintf(c.peer, sizeof c.peer, "%s", peer_id);
    snprintf(c.endpoint, sizeof c.endpoint, "%s", endpoint);
    return s_enqueue(t, &c);
}

const char *wr_transport_endpoint(const wr_transport_t *t)
{
    return t->endpoint;
}

const char *wr_transport_advertised(const wr_transport_t *t)
{
    return t->advertised[0] && t->endpoint[0] ? t->advertised : t->endpoint;
}

void wr_transport_stats(wr_transport_t *t, wr_transport_stats_t *out)
{
    pthread_mutex_lock(&t->stats_lock);
    *out = t->stats;
    pthread_mutex_unlock(&t->stats_lock);
    if (t->curve)
        wr__curve_counts(t->curve, &out->refused, &out->unknown_key, &out->impostors,
                         &out->cut_while_sending);
}

size_t wr_transport_peers(wr_transport_t *t, wr_peer_info_t *out, size_t n)
{
    pthread_mutex_lock(&t->stats_lock);
    size_t total = t->npeer_snap;
    for (size_t i = 0; i < total && i < n; i++)
        out[i] = t->peer_snap[i];
    pthread_mutex_unlock(&t->stats_lock);
    return total;
}

bool wr_transport_peer(wr_transport_t *t, const char *id, wr_peer_info_t *out)
{
    bool found = false;
    pthread_mutex_lock(&t->stats_lock);
    for (size_t i = 0; i < t->npeer_snap && !found; i++) {
        if (strcmp(t->peer_snap[i].id, id)) continue;
        *out = t->peer_snap[i];
        found = true;
    }
    pthread_mutex_unlock(&t->stats_lock);
    return found;
}

void wr_transport_destroy(wr_transport_t **tp, int64_t linger_ms)
{
    if (!tp || !*tp) return;
    wr_transport_t *t = *tp;
    t->linger_ms = linger_ms;
    atomic_store(&t->stop, true);
    uint64_t one = 1;
    if (write(t->wake_fd, &one, sizeof one) < 0) wr_warn("transport wake: %s", strerror(errno));
    pthread_join(t->thread, NULL);
    for (size_t i = 0; i < t->qlen; i++) {
        s_cmd_t *c = &t->queue[(t->qhead + i) % t->qcap];
        wr_msg_destroy(&c->msg);
    }
    for (size_t i = 0; i < t->npeers; i++) {
        s_fifo_release(&t->peers[i].waiting);
        wr__probes_close(&t->peers[i].probes);
    }
    wr_msg_destroy(&t->held_in);
    free(t->peers);
    free(t->peer_snap);
    free(t->queue);
    if (t->curve) wr__curve_unwatch(t->router);
    zsock_destroy(&t->router);
    wr__outq_destroy(&t->outq); /* after the socket: frames it still held are freed by now */
    wr__curve_destroy(&t->curve);
    close(t->wake_fd);
    msgpack_sbuffer_destroy(&t->sbuf);
    pthread_mutex_destroy(&t->lock);
    pthread_mutex_destroy(&t->stats_lock);
    free(t);
    *tp = NULL;
}
