/* CURVE on the transport's sockets (internal to bus/: bus/transport.c is its one user). With
 * security on, a node's ROUTER is a CURVE server with the node's secret key, every connection it
 * or a probe makes is a CURVE client that knows the peer's public key, and a ZAP handler
 * (RFC 27) served on the transport's I/O thread admits only keys among the cluster's public
 * certificates (bus/keys.h), answering with the certificate's name as the User-Id that libzmq
 * then attaches to every message of that connection.
 *
 * Why not czmq's zauth: it runs a thread of its own and says nothing about the refusals, and
 * libzmq's ZAP request carries the server socket's own identity, not the client's, so neither it
 * nor zauth can bind a routing id to a key at the handshake: that check is per message
 * (wr__curve_identify), against the name in the User-Id.
 *
 * libzmq takes CURVE options per socket and copies them when a bind or connect is made: the
 * server options are set before the bind, the client options (setting the server key makes the
 * socket a client) before each connect; the listener keeps the server options it copied.
 *
 * One ZAP handler per process (libzmq's inproc://zeromq.zap.01 in czmq's one context): a second
 * CURVE server in the same process fails to start (WR_EEXIST). */
#ifndef WR_CURVE_H
#define WR_CURVE_H

#include <czmq.h>
#include <poll.h>
#include <stdbool.h>
#include <stdint.h>

#include "bus/base/strbuf.h"
#include "bus/keys.h"

typedef struct wr__curve wr__curve_t;

/* Opens keys_dir for certificate `cert`; with server, also binds the ZAP handler. NULL on
 * failure with the reason in *err and *rc (WR_ENOTFOUND: no keys; WR_EEXIST: another CURVE
 * server in this process; WR_ENOMEM). */
wr__curve_t *wr__curve_new(const char *node_id, const char *keys_dir, const char *cert, bool server,
                           wr_strbuf_t *err, int *rc);
void wr__curve_destroy(wr__curve_t **c);

/* Makes sock (not yet bound) a CURVE server with this node's keys. 0. */
int wr__curve_server(wr__curve_t *c, zsock_t *sock);
/* Watches how sock's handshakes end (a socket monitor, read by wr__curve_serve); before any bind
 * or connect. 0 or WR_EIO. */
int wr__curve_watch(wr__curve_t *c, zsock_t *sock);
/* Stops watching sock: call it before sock is closed, from the thread that owns sock. libzmq
 * sends a monitor's events with blocking sends from its own I/O thread, and keeps sending them
 * while a closed socket's connections wind down; once the reading end (wr__curve_destroy) is
 * gone, the next event blocks that I/O thread for good, and with it every connection of every
 * socket of the process (seen: a process making client nodes one after another stopped reaching
 * anyone). Safe when sock is not watched. */
void wr__curve_unwatch(zsock_t *sock);
/* Sets sock's client options for a connection to the node whose certificate is `peer` (to be
 * made right after). WR_ENOTFOUND when the cluster has no public certificate of that name (logged,
 * rate-limited). */
int wr__curve_client(wr__curve_t *c, zsock_t *sock, const char *peer);
/* The node certificates a probe may try at an endpoint (bus/transport.h), `first` first and this
 * node's own never: fills name (WR_KEYS_NAME_MAX) with the i-th (modulo how many there are) and
 * returns how many there are (0: none, name untouched). */
unsigned wr__curve_candidate(wr__curve_t *c, const char *first, unsigned i, char *name);

/* The file descriptors (ZMQ_FD, POLLIN) the I/O thread polls for this while it sleeps: those of
 * the ZAP handler's and the handshake monitor's sockets, up to WR__CURVE_POLLFDS into fds;
 * returns how many. They are edge-triggered (libzmq's ZMQ_FD): readable when something arrived
 * since wr__curve_serve last looked. */
#define WR__CURVE_POLLFDS 2
int wr__curve_pollfds(wr__curve_t *c, struct pollfd *fds);
/* What the transport knows about its own connections, for wr__curve_serve. */
typedef struct {
    void *ctx;
    /* Whether this node dialed the node named name itself. */
    bool (*dialed)(void *ctx, const char *name);
    /* A handshake of a connection to endpoint ended: why 0 (it succeeded), WR_EPERM (the peer
     * refused this node's key: ZAP), WR_EPROTO (it failed otherwise). Returns false when this node
     * dialed nothing there (a connection made to it). */
    bool (*handshake)(void *ctx, const char *endpoint, int why);
} wr__curve_links_t;

/* Answers pending ZAP requests; tells links how the handshakes of connections this node made
 * ended, and counts the failed ones of connections made to it; counts parked connections (below);
 * reads public/ again when it changed (at most once a second). It looks at the sockets when
 * `ready` (one of the file descriptors above was readable) or 1 ms after it last looked (a busy
 * I/O thread that does not sleep still answers a handshake within a millisecond; looking costs
 * ZeroMQ two system calls per socket, which every turn of a busy loop would pay). Non-blocking;
 * I/O thread only.
 *
 * Parked connections: with ROUTER_HANDOVER off, libzmq parks a connection whose routing id
 * another connection already holds, without a word, and nothing it sends ever arrives. So each
 * connection the ZAP handler admits is numbered (ZAP metadata every frame of it carries), and one
 * not heard from within 2 s is parked (or silent). When this node dialed the node of its key
 * itself (links->dialed), it is that node's own second connection (both ends of a link may dial);
 * otherwise it is counted and logged as an impostor: a key claiming another's routing id (or its
 * own while its node's old connection still holds it: a node restarted behind a half-open
 * connection shows here too). Our own connections all speak at once (a heartbeat, a PING, a
 * request). At most 64 connections wait to be heard; beyond that the oldest is forgotten
 * uncounted. */
void wr__curve_serve(wr__curve_t *c, int64_t now_ns, bool ready, const wr__curve_links_t *links);

/* Who sent body, which arrived from routing id peer: the certificate that may use that id
 * (bus/keys.h) and, when the connection was admitted by this node's ZAP handler, was also the key
 * it came with. Returns 0 with *key set, WR_ENOTFOUND when no certificate may use that id (never
 * had one, or revoked), WR_EPERM when the key belongs to another certificate (an impostor); each
 * refusal is counted and logged (rate-limited).
 * A frame under an id with no certificate that came with a key of this cluster is an impostor's
 * too; with a key revoked since its connection was admitted it is unknown. */
int wr__curve_identify(wr__curve_t *c, const char *peer, zmq_msg_t *body, const wr_key_t **key);

/* Counters: handshakes that failed on the server socket; connections or frames refused for a key
 * that is no key of this cluster; frames whose routing id is not their key's; connections made to
 * this node that ZeroMQ closed while their peer was still sending (see below).
 *
 * cut_while_sending: libzmq 4.3.4 closes a connection that sends a frame over ZMQ_MAXMSGSIZE
 * (bus.max-message-size + 1 MiB here) and says nothing but ZMQ_EVENT_DISCONNECTED, as for a peer
 * that left. So the fd of every connection made to this node is duplicated when ZeroMQ accepts it
 * (up to 256 at once; the socket outlives ZeroMQ's close), and at its disconnect, one whose peer
 * had not closed it (TCP established) and whose bytes wait unread (now, or within a second: the
 * rest of a big frame may still be on its way) was cut while the peer was sending: a frame over the
 * limit, or another ZMTP or CURVE error after the handshake (libzmq does not say which). Counted
 * and logged (rate-limited). */
void wr__curve_counts(wr__curve_t *c, uint64_t *refused, uint64_t *unknown_key, uint64_t *impostors,
                      uint64_t *cut_while_sending);

#endif
