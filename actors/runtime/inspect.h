/* Inspection: what `weir actors` and `weir mailbox` show, packed as msgpack maps with string keys
 * (so the CLI's --json is a direct msgpack -> JSON rendering).
 *
 * Node row (one element of WR_MSG_ACTORS_REPLY's array):
 *   {node, status: "up"|"dead"|..., endpoint, incarnation, last_heard_ms, frames_in, malformed,
 *    bad_frames, bad_envelope, bad_version, bad_type, oversized, spoofed,
 *    actors: [{addr, supervisor, depth, capacity, high_water, enqueued, dequeued, rejected,
 *              restarts, rate, oldest_age_ms}...]}
 * Mailbox reply (WR_MSG_MAILBOX_REPLY):
 *   {addr, capacity, depth, high_water, enqueued, dequeued, rejected, restarts, rate,
 *    oldest_age_ms, processing_ms, types: {name: count}, processing_us: [[upper_us, count]...],
 *    recent: [{type, from, size, age_ms, waited_ms,
 *              payload | payload_truncated (bin: its first bytes) | payload_not_sampled}...]}
 * Payloads are sampled: every message of a quiet mailbox, one in eight of a busy one. */
#ifndef WR_INSPECT_H
#define WR_INSPECT_H

#include <msgpack.h>
#include <stdint.h>

#include "actors/runtime/node.h"

/* Packs this node's row, with status "up" and last_heard_ms 0. */
int wr_inspect_pack_node(wr_node_t *node, msgpack_packer *pk);
/* Packs a row for a node known only by hearsay (a dead TaskManager): no actors. */
int wr_inspect_pack_remote(msgpack_packer *pk, const char *node_id, const char *status,
                           const char *endpoint, int64_t last_heard_ms);
/* Packs the mailbox reply for the local actor at path with up to peek recent messages.
 * WR_ENOACTOR when there is none (nothing is packed then). */
int wr_inspect_pack_mailbox(wr_node_t *node, const char *path, uint32_t peek, msgpack_packer *pk);

#endif
