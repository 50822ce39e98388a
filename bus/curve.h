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

/* Makes sock (not yet bound) a CURVE server with this node's keys and watches its handshake
 * failures (a socket monitor). 0 or WR_EIO. */
int wr__curve_server(wr__curve_t *c, zsock_t *sock);
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
/* Answers pending ZAP requests and counts handshake failures, when `ready` (one of the file
 * descriptors above was readable) or 1 ms after it last looked (a busy I/O thread that does not
 * sleep still answers a handshake within a millisecond; looking costs ZeroMQ two system calls
 * per socket, which every turn of a busy loop would pay); reads public/ again when it changed (at
 * most once a second). Non-blocking; I/O thread only. */
void wr__curve_serve(wr__curve_t *c, int64_t now_ns, bool ready);

/* Who sent body, which arrived from routing id peer: the certificate that may use that id
 * (bus/keys.h) and, when the connection was admitted by this node's ZAP handler, was also the key
 * it came with. Returns 0 with *key set, WR_ENOTFOUND when no certificate may use that id (never
 * had one, or revoked), WR_EPERM when the key belongs to another certificate (an impostor); each
 * refusal is counted and logged (rate-limited). */
int wr__curve_identify(wr__curve_t *c, const char *peer, zmq_msg_t *body, const wr_key_t **key);

/* Counters: handshakes that failed on the server socket; connections or frames refused for a key
 * that is no key of this cluster; frames whose routing id is not their key's. */
void wr__curve_counts(wr__curve_t *c, uint64_t *refused, uint64_t *unknown_key,
                      uint64_t *impostors);

#endif
