/* The probes of one peer a transport dialed that has not come up (internal to bus/: bus/transport.c
 * is its one user; see "node ids" at the top of bus/transport.h). ZeroMQ names a connection after
 * the id the node at the endpoint gives in its handshake, so a peer dialed under a wrong id never
 * comes up and nothing sent to it leaves. A probe is a DEALER of its own id ("<node>.probe") on
 * the peer's endpoint that sends a PING to "<peer>/node" at most once a second: the node there
 * answers with a PONG if it is that peer, or with WRONG_NODE naming its id.
 *
 * With CURVE a probe must know the key of the node there, and only that node's answer is
 * believed: one probe per node key of the cluster (bus/curve.h: the dialed id's first, this
 * node's own never), up to WR__PROBES at once; the other keys only after 300 ms (every wrong one
 * is a refused handshake the node there counts and logs), and when the cluster has more node keys
 * than that, the next group of them a second later.
 *
 * A plain value kept in the peer's entry, zeroed to start; I/O thread only. */
#ifndef WR_TRANSPORT_PROBE_H
#define WR_TRANSPORT_PROBE_H

#include <czmq.h>
#include <msgpack.h>
#include <stdbool.h>
#include <stdint.h>

#include "bus/curve.h"
#include "bus/envelope.h"

#define WR__PROBES   8   /* probes open at once per peer (with CURVE: keys tried) */
#define WR__DIAL_MAX 192 /* wr__dial_endpoint's text */

typedef struct {
    zsock_t *sock[WR__PROBES];
    int64_t ping_ns[WR__PROBES];             /* when each last sent a PING */
    char cert[WR__PROBES][WR_KEYS_NAME_MAX]; /* with CURVE: the node whose key each uses */
    int64_t made_ns;                         /* when the probes were opened (0: none open) */
    unsigned group;                          /* with CURVE: which group of node keys they try */
} wr__probes_t;

/* What the probes of every peer of one transport share. */
typedef struct {
    const char *node_id;   /* this node's */
    const char *source;    /* the address probes dial from (wr__dial_endpoint); NULL: any */
    wr__curve_t *curve;    /* NULL: no CURVE */
    size_t max_payload;    /* an answer's, at most */
    msgpack_sbuffer *sbuf; /* scratch for a PING */
    /* An answer believed (a decoded envelope, from the node whose key the probe used); returns
     * true when the peer is settled and probing it stops for now. */
    bool (*answer)(void *ctx, const wr_envelope_t *env);
} wr__probe_env_t;

/* The text to give zsock_connect for a connection to endpoint from the local address source
 * (bus.source-address, an IPv4 literal; NULL or "": any): "tcp://SRC:0;HOST:PORT" for a tcp://
 * endpoint (libzmq 4.3 wants the source's port: 0 picks one; without it the connect is accepted
 * but never dials), endpoint unchanged otherwise (ipc://, inproc://) or without a source. The
 * endpoint a peer is known by stays the plain one: this text is only for connect and disconnect.
 * Returns out (cap WR__DIAL_MAX holds any endpoint of up to 127 characters with any IPv4 source).
 */
const char *wr__dial_endpoint(char *out, size_t cap, const char *endpoint, const char *source);

/* One round of peer's probes at endpoint at time now: opens them (the first at once, the others
 * after 300 ms with CURVE), moves to the next group of keys a second after opening, reads their
 * answers (each believed one to e->answer, ctx) and PINGs. Returns whether a probe is open (the
 * caller then polls soon). A probe that cannot be opened is left out. */
bool wr__probes_run(wr__probes_t *ps, const wr__probe_env_t *e, void *ctx, const char *peer,
                    const char *endpoint, int64_t now);
/* Closes every probe (ps stays usable: the next run opens them afresh). */
void wr__probes_close(wr__probes_t *ps);

#endif
