/* Actors: an address, a bounded mailbox, a behaviour and private state, run by a node's workers.
 *
 * An actor handles one message at a time (run to completion) and shares nothing: it talks to
 * other actors only by sending messages. A worker runs an actor for at most the node's turn
 * budget of messages, then moves on, so one busy actor cannot starve the others.
 *
 * Supervision: a handler that returns a negative code fails the actor. Its supervisor (the actor
 * that spawned it) receives WR_MSG_CHILD_FAILED; the runtime restarts the child (on_stop, then
 * on_start on the same state) while its restart budget lasts, and stops it otherwise. */
#ifndef WR_ACTOR_H
#define WR_ACTOR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "actors/runtime/mailbox.h"
#include "bus/msg.h"

typedef struct wr_node wr_node_t;
typedef struct wr_actor wr_actor_t;

typedef struct {
    /* Called once before the first message, and again after a restart. <0 fails the actor. */
    int (*on_start)(wr_actor_t *self, void *state);
    /* Handles *msg. The runtime destroys *msg afterwards unless the handler took it (set it NULL).
     * Returns 0, or a negative WR_E* code to fail the actor. */
    int (*on_message)(wr_actor_t *self, void *state, wr_msg_t **msg);
    /* Called when the actor stops or before a restart. */
    void (*on_stop)(wr_actor_t *self, void *state);
    /* Frees the state once the actor is gone for good (it stopped, after on_stop; or it never
     * started); NULL when the state needs no freeing. */
    void (*free_state)(void *state);
} wr_behaviour_t;

enum wr_restart_policy {
    WR_RESTART_NEVER,    /* a failure stops the actor (its supervisor is told) */
    WR_RESTART_TRANSIENT /* restart up to max_restarts times within restart_window_ms */
};

typedef struct {
    const char *path;                /* unique within the node: [A-Za-z0-9_.:/-], 1..63 chars */
    const wr_behaviour_t *behaviour; /* borrowed; must outlive the actor (usually static) */
    void *state;                     /* handed to the actor: freed by behaviour->free_state */
    wr_actor_t *supervisor;          /* NULL: the node itself (failures are logged) */
    uint32_t mailbox_capacity;       /* 0: the node's default */
    enum wr_restart_policy restart;
    uint32_t max_restarts;     /* default 3 */
    int64_t restart_window_ms; /* default 60000 */
} wr_spawn_opts_t;

/* Starts an actor on node. On success returns 0 and, when ref is non-NULL, a counted reference
 * the caller must release with wr_actor_unref. The state is the actor's from the call on, even on
 * failure (then it is freed through free_state). Fails with WR_EEXIST, WR_EINVAL (bad path),
 * WR_ECLOSED (node stopping) or WR_ENOMEM. */
int wr_actor_spawn(wr_node_t *node, const wr_spawn_opts_t *opts, wr_actor_t **ref);

/* Asks the actor to stop: it handles what is already queued, then its children stop, then it. */
int wr_actor_stop(wr_actor_t *actor);

/* Reference counting for handles kept outside the actor itself. */
wr_actor_t *wr_actor_ref(wr_actor_t *actor);
void wr_actor_unref(wr_actor_t **actor);

/* Borrowed; valid while the caller holds a reference (or is the actor). */
const char *wr_actor_addr(const wr_actor_t *actor);
const char *wr_actor_path(const wr_actor_t *actor);
wr_node_t *wr_actor_node(const wr_actor_t *actor);
const wr_mailbox_t *wr_actor_mailbox(const wr_actor_t *actor);

/* Sends a message from self to the address `to` ("node/path"; a bare path means this node).
 * The payload is copied. Returns 0, WR_EAGAIN (the receiver's mailbox or the bus is full: try
 * later), WR_ENOACTOR (no local actor there) or WR_EINVAL. Remote delivery is asynchronous: an
 * unreachable peer surfaces as an ERROR reply for asks and as a dropped-and-counted message
 * otherwise. */
int wr_send(wr_actor_t *self, const char *to, uint16_t type, const void *payload, size_t len);
/* Sends *msg (type, corr and payload as the caller set them) from self to `to` without copying
 * the payload. Takes *msg on success (sets it NULL); on failure the caller keeps it. */
int wr_send_msg(wr_actor_t *self, const char *to, wr_msg_t **msg);
/* Like wr_send with explicit correlation id. */
int wr_send_corr(wr_actor_t *self, const char *to, uint16_t type, uint64_t corr,
                 const void *payload, size_t len);
/* Replies to a request: to its sender, with its correlation id. */
int wr_reply(wr_actor_t *self, const wr_msg_t *request, uint16_t type, const void *payload,
             size_t len);
/* Replies to a request with WR_MSG_ERROR [code, text] (nothing when it carries no corr). */
int wr_reply_error(wr_actor_t *self, const wr_msg_t *request, int code, const char *text);
/* Sends a request and expects one reply (a message with the same correlation id) within
 * timeout_ms. If none comes, self receives WR_MSG_TIMEOUT with that correlation id instead; a
 * reply that comes after the timeout is dropped, so the handler sees exactly one of the two.
 * *corr receives the correlation id. */
int wr_ask(wr_actor_t *self, const char *to, uint16_t type, const void *payload, size_t len,
           int64_t timeout_ms, uint64_t *corr);

/* Timers: deliver a message of `type` (empty payload, the timer's id in corr) to self after ms,
 * or every ms. The id cancels it, from self's handlers: no tick of it is handled after the
 * cancel, not even one already queued. A tick that finds the mailbox full is counted as rejected
 * and skipped (periodic) or retried shortly (one-shot). Timers die with their actor. */
int wr_timer_after(wr_actor_t *self, int64_t ms, uint16_t type, uint64_t *id);
int wr_timer_every(wr_actor_t *self, int64_t ms, uint16_t type, uint64_t *id);
void wr_timer_cancel(wr_actor_t *self, uint64_t id);

/* Tells self WR_MSG_PEER_DOWN when the peer node is declared dead (heartbeat timeout or a new
 * incarnation), and WR_MSG_PEER_UP when it is heard from again. */
int wr_watch_peer(wr_actor_t *self, const char *node_id);
void wr_unwatch_peer(wr_actor_t *self, const char *node_id);

#endif
