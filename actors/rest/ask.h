/* A typed request to an actor from outside the actor system, for the HTTP servers' threads
 * (rest.h, metrics.h): the payload encoded from its declaration's struct, the answer decoded into
 * the reply's. */
#ifndef WR_REST_ASK_H
#define WR_REST_ASK_H

#include <stdint.h>

#include "actors/runtime/node.h"

/* Sends `to` a request of type whose payload encodes *req (NULL: a type without payload) and
 * waits up to timeout_ms. 0 with *answer of reply_type, decoded into *reply (reply NULL: only its
 * type checked; release *reply with wr_proto_release(wr_msg_decl(reply_type), reply), then
 * destroy *answer). Else the request's failure (WR_ETIMEDOUT, ...) with *answer NULL, or
 * WR_EPROTO with *answer the message when it is of another type (NOT_LEADER, ERROR: the caller
 * reads it and destroys it) or NULL when it did not decode. */
int wr_rest_ask(wr_node_t *node, const char *to, int64_t timeout_ms, uint16_t type, const void *req,
                uint16_t reply_type, void *reply, wr_msg_t **answer);

#endif
