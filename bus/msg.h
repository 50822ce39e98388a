/* A message as it sits in a mailbox: the envelope's header fields plus an owned payload, in one
 * allocation. Messages between actors of one node never get encoded; the bus encodes a message
 * into an envelope only when it leaves the node. */
#ifndef WR_MSG_H
#define WR_MSG_H

#include <stddef.h>
#include <stdint.h>

#include "bus/envelope.h"

/* Who sent a message, as the bus knows it from the CURVE key it arrived with (bus/keys.h).
 * WR_ROLE_LOCAL: built in this process (the node's own identity); WR_ROLE_OPEN: from a peer of a
 * bus without authentication (security.curve off), trusted as before keys existed. */
typedef enum {
    WR_ROLE_LOCAL = 0,
    WR_ROLE_OPEN,
    WR_ROLE_JOBMANAGER,
    WR_ROLE_TASKMANAGER,
    WR_ROLE_ADMIN,
    WR_ROLE_VIEWER,
} wr_role_t;

typedef struct wr_msg {
    uint16_t type;
    uint8_t role;           /* wr_role_t of the sender's key; set by the transport */
    char cert[WR_NODE_MAX]; /* the name of the sender's certificate ("": local or open) */
    uint64_t corr;
    uint64_t epoch;
    int64_t enq_ns; /* set by the mailbox on push (coarse monotonic clock) */
    char from[WR_ADDR_MAX];
    char to[WR_ADDR_MAX];
    size_t len;
    uint8_t *data; /* msgpack payload, len bytes: in `storage` below, or borrowed from `owner` */
    void (*release)(void *owner); /* frees borrowed storage with the message; NULL: none */
    void *owner;
    uint8_t storage[];
} wr_msg_t;

/* Whether m may act as role: its key has that role, or it was built in this process, or the bus
 * does not authenticate (security.curve off: every peer may do everything). */
static inline bool wr_msg_role_is(const wr_msg_t *m, wr_role_t role)
{
    return m->role == role || m->role == WR_ROLE_LOCAL || m->role == WR_ROLE_OPEN;
}

/* New message with an uninitialised payload of len bytes to fill in; addresses empty, corr and
 * epoch 0. Returns NULL when out of memory. The caller owns it until it hands it on. */
wr_msg_t *wr_msg_alloc(uint16_t type, size_t len);
/* New message with a copy of payload (may be NULL when len is 0). from/to may be NULL (empty);
 * longer addresses are an error (NULL). */
wr_msg_t *wr_msg_new(uint16_t type, const char *from, const char *to, const void *payload,
                     size_t len);
/* New message from a decoded envelope (payload copied). */
wr_msg_t *wr_msg_from_envelope(const wr_envelope_t *env);
/* New message from a decoded envelope whose payload stays where it is: the message borrows it and
 * calls release(owner) when destroyed (also when this fails and returns NULL). Saves copying
 * large payloads that arrive in a buffer the receiver already owns (a ZeroMQ frame). */
wr_msg_t *wr_msg_wrap_envelope(const wr_envelope_t *env, void (*release)(void *owner), void *owner);
/* Envelope view of m: its payload points into m. */
void wr_msg_envelope(const wr_msg_t *m, wr_envelope_t *env);
/* A WR_MSG_ERROR message (bus/messages.h: wr_msg_error_t, read with wr_msg_error_unpack)
 * answering the request with correlation id corr. NULL when out of memory or an address does not
 * fit. */
wr_msg_t *wr_msg_error(const char *from, const char *to, uint64_t corr, int code, const char *text);
/* Frees *m (NULL-safe) and sets *m to NULL. */
void wr_msg_destroy(wr_msg_t **m);

#endif
