/* A typed request from outside the actor system (the CLI, a node's HTTP servers): the payload
 * encoded from its declaration's struct (bus/messages.h), the answer decoded into the reply's.
 * Built on wr_node_request_patient (node.h). */
#ifndef WR_REQUEST_H
#define WR_REQUEST_H

#include <stdbool.h>
#include <stdint.h>

#include "actors/runtime/node.h"

/* Sends `to` a request of type whose payload encodes *req (NULL: a type without payload) and
 * waits as wr_node_request_patient does (keep_waiting NULL: step_ms at most). 0 with *answer of
 * reply_type, decoded into *reply (reply NULL: only its type checked; release *reply with
 * wr_proto_release(wr_msg_decl(reply_type), reply), then destroy *answer). Else:
 *   WR_ETYPE (a type without declaration), WR_EINVAL (req NULL for a type with payload), or the
 *   request's failure (WR_ETIMEDOUT, ...), with *answer NULL;
 *   WR_EPROTO with *answer the message when it is of another type (NOT_LEADER, ERROR: the
 *   caller reads it and destroys it), or with *answer NULL when it did not decode. */
int wr_node_request_typed(wr_node_t *node, const char *to, int64_t step_ms,
                          bool (*keep_waiting)(void *ctx), void *ctx, uint16_t type,
                          const void *req, uint16_t reply_type, void *reply, wr_msg_t **answer);

#endif
