/* The transport's byte accounts of what it holds for each peer (bus/transport.h: "a peer's
 * outgoing queue is bounded in bytes"). Internal to bus/.
 *
 * ZeroMQ's send high-water mark counts messages, not bytes, and a ROUTER cannot close one peer's
 * connection; so each peer has an account here:
 * - every frame the transport hands ZeroMQ for the peer is made by wr__outq_frame, which counts
 *   its bytes into the account until ZeroMQ frees the frame (written to the socket, or dropped
 *   with the connection). ZeroMQ's I/O threads free frames: the counter is atomic, and each frame
 *   holds a reference to its account, so an account outlives the transport while ZeroMQ still
 *   holds one of its frames;
 * - the connection a peer's messages last came in on (ZMQ_SRCFD, and the socket's remote address
 *   to tell a reused descriptor apart) is remembered, so that wr__outq_cut can shut that TCP
 *   connection down: ZeroMQ then drops the connection and every frame queued for it.
 * Everything but the frames' release runs on the transport's I/O thread. */
#ifndef WR__OUTQ_H
#define WR__OUTQ_H

#include <stddef.h>
#include <stdint.h>
#include <zmq.h>

#include "bus/msg.h"

typedef struct wr__outq wr__outq_t;
typedef struct wr__outq_acct wr__outq_acct_t;

wr__outq_t *wr__outq_new(void);
/* Drops the table's references: an account still counting frames inside ZeroMQ lives on until
 * ZeroMQ frees the last of them. NULL-safe; nulls *q. */
void wr__outq_destroy(wr__outq_t **q);

/* The account of peer id, made when it has none. NULL when out of memory. */
wr__outq_acct_t *wr__outq_get(wr__outq_t *q, const char *id);
/* Forgets accounts that hold no bytes and whose connection was not heard from for idle_ns (the
 * CLI clients that came and went). */
void wr__outq_sweep(wr__outq_t *q, int64_t now_ns, int64_t idle_ns);

/* Makes frame (uninitialised on entry) of head[0, hlen) then body[0, blen), counted into a until
 * ZeroMQ frees it (also when the caller closes it unsent). 0 or WR_ENOMEM. */
int wr__outq_frame(wr__outq_acct_t *a, zmq_msg_t *frame, const void *head, size_t hlen,
                   const void *body, size_t blen);
/* The bytes of a's frames that ZeroMQ holds now. */
uint64_t wr__outq_bytes(const wr__outq_acct_t *a);

/* A message from a's peer came in as body: remembers the connection it came on. */
void wr__outq_heard(wr__outq_acct_t *a, zmq_msg_t *body, int64_t now_ns);
/* Shuts down the TCP connection a's peer was last heard on, when it is still that connection:
 * 0, or WR_ENOTFOUND (none known, or gone). */
int wr__outq_cut(wr__outq_acct_t *a);

#endif
