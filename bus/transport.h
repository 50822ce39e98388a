/* The ZeroMQ transport of one node: a ROUTER socket bound on the node's endpoint, owned by one
 * I/O thread, that reaches peers by node id (ROUTER-to-ROUTER; the routing id is the node id).
 *
 * - ROUTER_MANDATORY: a message for a peer that is not connected is an error (reported to the
 *   sender through the undeliverable callback), never a silent drop.
 * - ROUTER_HANDOVER: a restarted peer reconnects under its old id and takes its place (without
 *   keys; with keys an id never changes hands, see Security below). A peer declared down and
 *   connected to again gets a grace period (the heartbeat timeout, from then) to say it is there;
 *   with keys, a dial to it at the same endpoint is kept (ZeroMQ dials again by itself): a fresh
 *   one would be a second connection under this node's id at the peer, which without handover
 *   parks the later of the two for good.
 * - ZMTP heartbeats (ZMQ_HEARTBEAT_IVL/TIMEOUT/TTL at heartbeat_interval_ms/heartbeat_timeout_ms,
 *   when heartbeat_interval_ms is set): ZeroMQ closes a connection whose peer stopped answering
 *   (a partition without RST, a paused process), which frees the routing id it held for the
 *   peer's next connection.
 * - Every frame is an envelope (bus/envelope.h); a malformed one is counted by reason, logged and
 *   dropped. A frame whose envelope claims another node than the connection's id is malformed.
 * - Node ids are decided here, and only here. ZeroMQ names a connection after the id the node at
 *   the endpoint gives in its handshake, so a peer dialed under a wrong id (a TaskManager or CLI
 *   left at the default jobmanager.node-id) never comes up and nothing sent to it leaves. So a
 *   dialed peer not up after 200 ms is probed: a DEALER of this node's "<id>.probe" on the same
 *   endpoint sends "<peer>/node" a PING, once a second until the peer is up or down. A node that
 *   gets a message from a connection's own node but addressed to another id counts it as
 *   misaddressed (not malformed), logs it once per sender and answers WR_MSG_WRONG_NODE ("I am
 *   X"), at most once a second per sender. The answer is believed only about the endpoint it
 *   came from, only when it is about the id this node dialed there, and only when no other peer
 *   has the id it names (else it counts as spoofed): the peer is then declared down (the reason
 *   names both ids), what waits for it handed back undeliverable with WR_EWRONGNODE, and
 *   wr_peer_info_t.actual holds the id. Its connection is closed, but over tcp:// and ipc://
 *   without CURVE (where ZeroMQ named it after the node there) only after 10 s, for a connect to
 *   that id at that endpoint to take it over: closed at once and dialed again, a message sent
 *   before ZeroMQ was done closing it was lost. (ZeroMQ closes connections by endpoint: while
 *   another peer's dial has the same endpoint, none is closed until the last of them is.) A peer
 *   dialed again at the endpoint it had is still closed and dialed at once (that race
 *   remains). The claim never renames a peer or routes anything: the peer's user decides
 *   (connect again under that id, or fail naming both).
 * - Heartbeats: every heartbeat_interval the transport sends WR_MSG_HEARTBEAT to each peer that
 *   heartbeats to it or that it connected to; a peer silent for heartbeat_timeout, or one that
 *   comes back with a new incarnation, is reported down. Peers that never heartbeat (CLI clients)
 *   are not tracked.
 * - Back-pressure: inbound messages go to the deliver callback; when it answers WR_EAGAIN the
 *   transport holds the message and stops reading the socket until it is taken (ZeroMQ and TCP
 *   then push back on the sender). Outbound, a full queue answers WR_EAGAIN.
 * - A peer's outgoing queue is bounded in bytes: what this node holds for one peer, in frames
 *   ZeroMQ has not written to the socket yet and in the per-peer queue waiting for ZeroMQ, may not
 *   exceed max_queued_bytes (4 * max_payload by default). ZeroMQ's high-water mark counts
 *   messages, so each frame handed to ZeroMQ is counted into its peer's account until ZeroMQ frees
 *   it (bus/outq.h). A peer over the bound does not read (a client that never takes its
 *   answers): what waits for it is handed back undeliverable (WR_ETOOBIG), its TCP connection is
 *   shut down, which makes ZeroMQ drop what it holds for it, and that is counted (overflowed) and
 *   logged. The peer may connect again. A connection this node dialed is cut the same way (ZeroMQ
 *   reconnects it).
 * - Logs about what peers send are rate-limited (bus/base/log.h).
 * - Security (bus/curve.h, bus/keys.h): with keys_dir set, the ROUTER is a CURVE server that
 *   admits only keys of the cluster's public certificates (counted and logged, rate-limited,
 *   otherwise), every connection out is a CURVE client that knows its peer's key, and a frame
 *   whose routing id its key may not use is dropped and counted (impostors), as is a connection
 *   libzmq parks because its routing id is another's. A frame over max_payload + 1 MiB makes
 *   ZeroMQ close its connection: with keys that is counted (cut_while_sending). Each delivered
 *   message carries its sender's certificate name and role (wr_msg_t.cert, .role); without
 *   keys_dir nothing is authenticated and every message says WR_ROLE_OPEN.
 * - Standing behind a proxy (`weir chaos`) or a NAT: with source_address every connection this node
 *   dials comes from that local address (so the proxy knows who dialed), and with
 *   advertised_endpoint its heartbeats tell peers that endpoint instead of the bound one. Peers
 *   are still known, compared and shown by the plain endpoint they were dialed at.
 * Senders never wake the I/O thread per message: it is woken only when it sleeps. */
#ifndef WR_TRANSPORT_H
#define WR_TRANSPORT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "bus/msg.h"

typedef struct wr_transport wr_transport_t;

typedef struct {
    /* Delivers an inbound message to the local actor named in (*msg)->to. Returns 0 having taken
     * it, WR_EAGAIN to be asked again later, or another error (the message is then dropped and
     * counted as undeliverable). Runs on the I/O thread. */
    int (*deliver)(void *ctx, wr_msg_t **msg);
    /* An outbound message could not be sent (peer unreachable past the connect grace, or
     * oversized): the transport hands it back, with err. Runs on the I/O thread; takes *msg. */
    void (*undeliverable)(void *ctx, wr_msg_t **msg, int err);
    /* A peer was declared down (up=false, with the reason) or heard from again (up=true).
     * incarnation: the peer process that went down, or the one that came up (0: not known yet);
     * a watcher that already knows a newer incarnation can ignore a stale down. */
    void (*peer_event)(void *ctx, const char *peer, bool up, const char *reason,
                       uint64_t incarnation);
    void *ctx;
} wr_transport_handler_t;

typedef struct {
    const char *node_id;
    const char *bind; /* NULL: no bound endpoint */
    uint64_t incarnation;
    size_t max_payload;
    int64_t heartbeat_interval_ms; /* 0: never heartbeat */
    int64_t heartbeat_timeout_ms;
    uint32_t outbound_capacity; /* messages queued for the I/O thread; 0 = 65536 */
    uint64_t max_queued_bytes;  /* per peer, inside ZeroMQ and waiting (see the top of this
                                   file); 0 = 4 * max_payload; at least max_payload + 1 MiB */
    const char *keys_dir;       /* NULL or "": no CURVE, no authentication (security.curve off) */
    const char *cert;           /* this node's certificate in keys_dir; NULL: node_id */
    /* The local IPv4 address (a literal) every connection this node dials comes from
     * (bus.source-address): tcp:// connects, and their probes, dial "tcp://SRC:0;HOST:PORT";
     * the endpoints peers are known and shown by stay the plain ones. NULL or "": any address. */
    const char *source_address;
    /* The endpoint peers are told to reach this node at (bus.advertised-endpoint: a proxy's or a
     * NAT's in front of it), in place of the bound one: wr_transport_advertised, heartbeats.
     * NULL or "": the bound endpoint with its real port. */
    const char *advertised_endpoint;
    wr_transport_handler_t handler;
} wr_transport_opts_t;

typedef struct {
    uint64_t frames_in, frames_out, bytes_in, bytes_out;
    uint64_t malformed;    /* all rejected inbound frames; the fields below split them */
    uint64_t bad_frames;   /* wrong frame count */
    uint64_t bad_envelope; /* WR_EPROTO */
    uint64_t bad_version;  /* WR_EVERSION */
    uint64_t bad_type;     /* WR_ETYPE */
    uint64_t oversized;    /* WR_ETOOBIG */
    uint64_t spoofed;      /* envelope's node is not the connection's */
    uint64_t misaddressed; /* from the connection's node, for another node id (not in malformed) */
    uint64_t undeliverable_in;  /* no local actor for an inbound message */
    uint64_t undeliverable_out; /* unreachable peer */
    uint64_t heartbeats_in, heartbeats_out;
    uint64_t overflowed;  /* peers cut off for not reading: over max_queued_bytes */
    uint64_t refused;     /* CURVE handshakes that failed on the bound socket (no or wrong key) */
    uint64_t unknown_key; /* connections or frames with a key or id of no certificate of ours */
    uint64_t impostors;   /* frames whose routing id is not their key's certificate's */
    uint64_t cut_while_sending; /* connections to us ZeroMQ closed mid-send (bus/curve.h) */
} wr_transport_stats_t;

enum wr_peer_state { WR_PEER_CONNECTING, WR_PEER_UP, WR_PEER_DOWN };

typedef struct {
    char id[WR_NODE_MAX];
    char endpoint[128]; /* "" when it connected to us and never said */
    enum wr_peer_state state;
    int64_t last_heard_ms_ago; /* -1: never */
    uint64_t incarnation;
    char actual[WR_NODE_MAX]; /* "": normal; else the id the node at endpoint answered with when
                                 it turned out not to be `id` (see the top of this file) */
    int handshake; /* with keys, how the last CURVE handshake of this node's connection to it
                      ended: 0 (it succeeded, or none ended yet), WR_EPERM (it refused this
                      node's key), WR_EPROTO (it failed otherwise: no CURVE there, another key) */
} wr_peer_info_t;

/* Binds and starts the I/O thread. NULL on failure with *err (WR_EINVAL for a source_address that
 * is not an IPv4 literal or an advertised_endpoint of 128 characters or more; WR_EIO when the bind
 * fails; with keys_dir: WR_ENOTFOUND when the keys are not there, WR_EEXIST when another node of
 * this process is a CURVE server; each logged with what to do). */
wr_transport_t *wr_transport_new(const wr_transport_opts_t *opts, int *err);
/* Stops the I/O thread (queued outbound messages get up to linger_ms to leave) and frees. */
void wr_transport_destroy(wr_transport_t **t, int64_t linger_ms);

/* The bound endpoint with its real port ("" when none). Borrowed. */
const char *wr_transport_endpoint(const wr_transport_t *t);
/* The endpoint this node tells peers (its heartbeats carry it): advertised_endpoint when set and
 * the node is bound, else wr_transport_endpoint ("" when not bound: nothing to advertise).
 * Borrowed. */
const char *wr_transport_advertised(const wr_transport_t *t);
/* Connects to a peer's endpoint under the peer's id. Asynchronous; connecting again to the same
 * endpoint does nothing, to another one moves the connection. */
int wr_transport_connect(wr_transport_t *t, const char *peer_id, const char *endpoint);
/* Links two peers that both know each other's endpoint (TaskManagers exchanging data): exactly one
 * of them connects (the one whose id sorts first), the other waits for that connection, so two
 * connections never fight over one routing id. Messages wait for the link like for a connect.
 * Idempotent, like wr_transport_connect. */
int wr_transport_link(wr_transport_t *t, const char *peer_id, const char *endpoint);
/* Starts tracking a peer's liveness before it has said anything (a watcher is interested in it):
 * if no heartbeat comes within the heartbeat timeout it is reported down ("never answered"). */
int wr_transport_track(wr_transport_t *t, const char *peer_id);
/* Queues *msg for its peer ((*msg)->to names the node). Takes it on success (0); WR_EAGAIN when
 * the outbound queue is full (the caller keeps it). Any thread. */
int wr_transport_send(wr_transport_t *t, wr_msg_t **msg);

void wr_transport_stats(wr_transport_t *t, wr_transport_stats_t *out);
size_t wr_transport_peers(wr_transport_t *t, wr_peer_info_t *out, size_t n);
/* The peer called id as wr_transport_peers would list it, into *out: true, or false when the
 * transport knows no such peer (*out untouched). Any thread. */
bool wr_transport_peer(wr_transport_t *t, const char *id, wr_peer_info_t *out);

#endif
