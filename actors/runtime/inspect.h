/* Inspection: what `weir actors` and `weir mailbox` show. Their shapes are declared once in
 * bus/messages.h, as MAPs whose keys the CLI's --json prints (a direct msgpack -> JSON rendering):
 *   node_row      one element of ACTORS_REPLY: {node, status: "up"|"dead"|"unresponsive",
 *                 endpoint, incarnation, last_heard_ms, the transport's counters of rejected
 *                 frames, actors: [actor_row...]}
 *   mailbox_reply MAILBOX_REPLY: counters, types: {name: count}, processing_us: [[upper_us,
 *                 count]...], recent: [recent_msg...], each with its payload as itself, its
 *                 first bytes (payload_truncated) or payload_not_sampled
 * Payloads are sampled: every message of a quiet mailbox, one in eight of a busy one. These pack
 * through the codec (bus/proto.h) into a packer; the JobManager reads its own row back to answer
 * with the rows of every node. */
#ifndef WR_INSPECT_H
#define WR_INSPECT_H

#include <msgpack.h>
#include <stdint.h>

#include "actors/runtime/node.h"

/* Packs this node's row, with status "up" and last_heard_ms 0. 0 or WR_ENOMEM. */
int wr_inspect_pack_node(wr_node_t *node, msgpack_packer *pk);
/* Packs the mailbox reply for the local actor at path with up to peek recent messages.
 * WR_ENOACTOR when there is none (nothing is packed then). */
int wr_inspect_pack_mailbox(wr_node_t *node, const char *path, uint32_t peek, msgpack_packer *pk);

#endif
