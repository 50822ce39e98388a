/* The bus envelope: one msgpack array per message,
 *   [version u8, type u16, from str, to str, corr u64, epoch u64, payload bin]
 * `from` and `to` are actor addresses "node/path" (node: 1..31 chars of [A-Za-z0-9_.-];
 * path: 1..63 chars of [A-Za-z0-9_.:/-]). The payload is the msgpack body that the type's
 * declaration describes (bus/msgtypes.h names it, bus/messages.h holds it). The decoder is strict:
 * it is the first code that touches bytes from the network, and is fuzzed
 * (tests/fuzz/fuzz_envelope.c). */
#ifndef WR_ENVELOPE_H
#define WR_ENVELOPE_H

#include <msgpack.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define WR_PROTOCOL_VERSION    1
#define WR_NODE_MAX            32          /* node id, NUL included */
#define WR_PATH_MAX            64          /* actor path within a node, NUL included */
#define WR_ADDR_MAX            96          /* "node/path", NUL included */
#define WR_PAYLOAD_DEFAULT_MAX (64u << 20) /* bus.max-message-size default */

typedef struct {
    uint16_t type;
    uint64_t corr;
    uint64_t epoch;
    char from[WR_ADDR_MAX];
    char to[WR_ADDR_MAX];
    const uint8_t *payload; /* borrowed: points into the decoded frame, or the caller's bytes */
    size_t payload_len;
} wr_envelope_t;

/* Appends the encoded envelope to out. WR_EINVAL if an address is not valid, the type is not a
 * wire type or payload is NULL with payload_len > 0; WR_ETOOBIG if payload_len > 2^32-1;
 * WR_ENOMEM if out cannot grow. On failure out is left as it was. */
int wr_envelope_encode(const wr_envelope_t *env, msgpack_sbuffer *out);

/* Appends everything of the envelope but the payload bytes themselves: the frame is this header
 * followed by env->payload_len payload bytes (for a sender that copies the payload once, straight
 * into its frame). Fails as wr_envelope_encode. */
int wr_envelope_encode_header(const wr_envelope_t *env, msgpack_sbuffer *out);

/* Decodes one frame. On success fills *env (payload points into buf) and returns 0. Fails with
 * WR_EPROTO (truncated, wrong-typed, bad address, trailing bytes), WR_ETOOBIG (payload over
 * max_payload), WR_EVERSION or WR_ETYPE (not a wire type). *env is unspecified on failure. */
int wr_envelope_decode(const uint8_t *buf, size_t len, size_t max_payload, wr_envelope_t *env);

/* Address helpers. wr_addr_valid checks the syntax above. wr_addr_split copies the node part
 * into node (WR_NODE_MAX) and returns a pointer to the path inside addr, or NULL if invalid. */
bool wr_addr_valid(const char *addr);
const char *wr_addr_split(const char *addr, char node[WR_NODE_MAX]);
bool wr_node_id_valid(const char *node);

#endif
