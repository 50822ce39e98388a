/* A node: one actor system with its worker threads, timers and one bus endpoint.
 *
 * A node is an object, not a process-wide singleton: a test may run a whole cluster of nodes in
 * one process. Every node runs a system actor at "<id>/node" that answers WR_MSG_ACTORS_REQ and
 * WR_MSG_MAILBOX_REQ about its own actors. Messages between actors of one node go from mailbox to
 * mailbox; only messages for other nodes touch the transport. */
#ifndef WR_NODE_H
#define WR_NODE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "actors/runtime/actor.h"
#include "bus/transport.h"

typedef struct {
    const char *id;                /* node id: [A-Za-z0-9_.-], 1..31 chars */
    const char *bind;              /* "tcp://host:port" (port * = any), "inproc://name", or NULL:
                                      no endpoint (a client that only connects out) */
    unsigned threads;              /* workers; 0 = one per core */
    uint32_t mailbox_capacity;     /* default per actor; 0 = 1024 */
    uint32_t turn_budget;          /* messages per actor turn; 0 = 64 */
    int64_t heartbeat_interval_ms; /* 0 = no heartbeats (transient clients) */
    int64_t heartbeat_timeout_ms;
    size_t max_message_size;    /* 0 = WR_PAYLOAD_DEFAULT_MAX */
    const char *keys_dir;       /* CURVE keys (bus/keys.h); NULL: the bus is not authenticated */
    const char *cert;           /* this node's certificate there; NULL: its id */
    const char *source_address; /* bus.source-address: the IPv4 literal every connection
                                   this node dials comes from; NULL or "": any */
    const char *advertised_endpoint; /* bus.advertised-endpoint: what peers are told to reach
                                        this node at (wr_node_endpoint); NULL or "": the bound */
} wr_node_opts_t;

/* Starts a node: binds its endpoint, starts its workers, timer and bus threads and its system
 * actor. Returns NULL on failure with *err set (WR_EIO for a bind failure, WR_EINVAL, also for a
 * source_address that is not an IPv4 literal; with keys_dir the errors of wr_transport_new, ...).
 */
wr_node_t *wr_node_new(const wr_node_opts_t *opts, int *err);
/* Stops every actor (children before supervisors), then the threads, and frees everything.
 * NULL-safe; nulls *node. Must not be called from one of the node's own workers. */
void wr_node_destroy(wr_node_t **node);

const char *wr_node_id(const wr_node_t *node);
/* The endpoint peers are told to connect to: advertised_endpoint when set (what its heartbeats
 * carry, what a TaskManager registers with, what a JobManager publishes as the leader's address),
 * else the bound one with its resolved port; "" for a node without one. Borrowed. */
const char *wr_node_endpoint(const wr_node_t *node);
/* The endpoint the node bound, with its resolved port ("" when none), whatever it advertises: the
 * address a proxy in front of it forwards to. Borrowed. */
const char *wr_node_bound_endpoint(const wr_node_t *node);
uint64_t wr_node_incarnation(const wr_node_t *node);
int64_t wr_node_heartbeat_timeout_ms(const wr_node_t *node);

/* Makes the peer reachable by id (an outgoing connection). Asynchronous: messages sent before the
 * connection is up wait for it (for up to the heartbeat timeout). */
int wr_node_connect(wr_node_t *node, const char *peer_id, const char *endpoint);

/* Links this node with a peer that also links back (see wr_transport_link). */
int wr_node_link(wr_node_t *node, const char *peer_id, const char *endpoint);

/* Sends a fully addressed message from outside any actor (or on an actor's behalf). On success
 * takes *msg; on failure the caller keeps it. Errors as wr_send. */
int wr_node_send(wr_node_t *node, wr_msg_t **msg);

/* Blocking request/reply for code outside the actor system (the CLI): sends `type` with payload
 * to `to` from a temporary address on this node and waits up to timeout_ms for the reply, which
 * the caller then owns (*reply). Returns WR_ETIMEDOUT, or a transport/mailbox error. A reply of
 * type WR_MSG_ERROR is returned as a reply, not as an error. */
int wr_node_request(wr_node_t *node, const char *to, uint16_t type, const void *payload, size_t len,
                    int64_t timeout_ms, wr_msg_t **reply);

/* wr_node_request for an answer that may take long (a savepoint): waits up to step_ms at a time,
 * and after each step without the reply asks keep_waiting(ctx), on the calling thread and without
 * the node's locks held (it may make requests of its own: a cheap one that shows the peer is
 * alive); false ends the wait with WR_ETIMEDOUT. A reply that comes while it runs is kept. */
int wr_node_request_patient(wr_node_t *node, const char *to, uint16_t type, const void *payload,
                            size_t len, int64_t step_ms, bool (*keep_waiting)(void *ctx), void *ctx,
                            wr_msg_t **reply);

/* Counted reference to the local actor at path, or NULL. Release with wr_actor_unref. */
wr_actor_t *wr_node_lookup(wr_node_t *node, const char *path);
/* Number of live actors (the system actor included). */
size_t wr_node_actor_count(wr_node_t *node);

/* One row of `weir actors`. */
typedef struct {
    char addr[WR_ADDR_MAX];
    char supervisor[WR_ADDR_MAX];
    uint32_t depth, capacity, high_water;
    uint64_t enqueued, dequeued, rejected, restarts;
    int64_t oldest_age_ns;
    double rate; /* messages dequeued per second over the last few seconds */
} wr_actor_info_t;

/* Fills up to n rows (in spawn order) and returns the number of actors (may exceed n). */
size_t wr_node_actors(wr_node_t *node, wr_actor_info_t *out, size_t n);

/* The node's transport counters (malformed frames by reason, bytes, peers). */
void wr_node_transport_stats(wr_node_t *node, wr_transport_stats_t *out);
size_t wr_node_peers(wr_node_t *node, wr_peer_info_t *out, size_t n);
/* One peer of the node's transport by id (wr_transport_peer): true, or false when unknown. */
bool wr_node_peer(wr_node_t *node, const char *id, wr_peer_info_t *out);

#endif
