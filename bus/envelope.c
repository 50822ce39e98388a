#include "bus/envelope.h"

#include <string.h>

#include "bus/base/error.h"
#include "bus/base/mp.h"
#include "bus/msgtypes.h"

#define S_ENVELOPE_FIELDS 7

/* Address alphabets, one lookup per byte: every byte of the two addresses of every frame is
 * checked. Node: [A-Za-z0-9_.-]; path: the same plus ':' and '/'. */
enum { S_NODE = 1, S_PATH = 2, S_NP = S_NODE | S_PATH };
/* clang-format off */
static const uint8_t s_addr_class[256] = {
    ['A'] = S_NP, ['B'] = S_NP, ['C'] = S_NP, ['D'] = S_NP, ['E'] = S_NP, ['F'] = S_NP,
    ['G'] = S_NP, ['H'] = S_NP, ['I'] = S_NP, ['J'] = S_NP, ['K'] = S_NP, ['L'] = S_NP,
    ['M'] = S_NP, ['N'] = S_NP, ['O'] = S_NP, ['P'] = S_NP, ['Q'] = S_NP, ['R'] = S_NP,
    ['S'] = S_NP, ['T'] = S_NP, ['U'] = S_NP, ['V'] = S_NP, ['W'] = S_NP, ['X'] = S_NP,
    ['Y'] = S_NP, ['Z'] = S_NP, ['a'] = S_NP, ['b'] = S_NP, ['c'] = S_NP, ['d'] = S_NP,
    ['e'] = S_NP, ['f'] = S_NP, ['g'] = S_NP, ['h'] = S_NP, ['i'] = S_NP, ['j'] = S_NP,
    ['k'] = S_NP, ['l'] = S_NP, ['m'] = S_NP, ['n'] = S_NP, ['o'] = S_NP, ['p'] = S_NP,
    ['q'] = S_NP, ['r'] = S_NP, ['s'] = S_NP, ['t'] = S_NP, ['u'] = S_NP, ['v'] = S_NP,
    ['w'] = S_NP, ['x'] = S_NP, ['y'] = S_NP, ['z'] = S_NP, ['0'] = S_NP, ['1'] = S_NP,
    ['2'] = S_NP, ['3'] = S_NP, ['4'] = S_NP, ['5'] = S_NP, ['6'] = S_NP, ['7'] = S_NP,
    ['8'] = S_NP, ['9'] = S_NP, ['_'] = S_NP, ['.'] = S_NP, ['-'] = S_NP,
    [':'] = S_PATH, ['/'] = S_PATH,
};
/* clang-format on */

static inline bool s_node_char(unsigned char c)
{
    return s_addr_class[c] & S_NODE;
}

/* Length of the node part if s[0..len) is a valid address, else 0. s needs no NUL. */
static size_t s_addr_check(const char *s, size_t len)
{
    const unsigned char *u = (const unsigned char *)s;
    size_t node = 0;
    while (node < len && s_node_char(u[node]))
        node++;
    if (node == 0 || node >= WR_NODE_MAX || node == len || u[node] != '/') return 0;
    if (len - node - 1 == 0 || len - node - 1 >= WR_PATH_MAX) return 0;
    unsigned all = S_PATH; /* ANDed over the path rather than a branch per byte */
    for (size_t i = node + 1; i < len; i++)
        all &= s_addr_class[u[i]];
    return all ? node : 0;
}

static size_t s_addr_node_len(const char *addr)
{
    if (!addr) return 0;
    size_t len = strnlen(addr, WR_ADDR_MAX);
    return len < WR_ADDR_MAX ? s_addr_check(addr, len) : 0;
}

bool wr_addr_valid(const char *addr)
{
    return s_addr_node_len(addr) != 0;
}

const char *wr_addr_split(const char *addr, char node[WR_NODE_MAX])
{
    size_t n = s_addr_node_len(addr);
    if (n == 0) return NULL;
    memcpy(node, addr, n);
    node[n] = '\0';
    return addr + n + 1;
}

bool wr_node_id_valid(const char *node)
{
    size_t n = 0;
    if (!node) return false;
    while (n < WR_NODE_MAX && s_node_char((unsigned char)node[n]))
        n++;
    return n > 0 && n < WR_NODE_MAX && node[n] == '\0';
}

int wr_envelope_encode_header(const wr_envelope_t *env, msgpack_sbuffer *out)
{
    if (!wr_msg_type_is_wire(env->type) || !wr_addr_valid(env->from) || !wr_addr_valid(env->to) ||
        (env->payload_len > 0 && !env->payload))
        return WR_EINVAL;
    if (env->payload_len > UINT32_MAX) return WR_ETOOBIG;

    size_t mark = out->size;
    msgpack_packer pk;
    msgpack_packer_init(&pk, out, msgpack_sbuffer_write);
    if (msgpack_pack_array(&pk, S_ENVELOPE_FIELDS) ||
        msgpack_pack_uint8(&pk, WR_PROTOCOL_VERSION) || msgpack_pack_uint16(&pk, env->type) ||
        wr_pack_str(&pk, env->from) || wr_pack_str(&pk, env->to) ||
        msgpack_pack_uint64(&pk, env->corr) || msgpack_pack_uint64(&pk, env->epoch) ||
        msgpack_pack_bin(&pk, env->payload_len)) {
        out->size = mark; /* the sbuffer only fails to grow: leave it as it was */
        return WR_ENOMEM;
    }
    return 0;
}

int wr_envelope_encode(const wr_envelope_t *env, msgpack_sbuffer *out)
{
    size_t mark = out->size;
    int rc = wr_envelope_encode_header(env, out);
    if (rc || !env->payload_len) return rc;
    if (msgpack_sbuffer_write(out, (const char *)env->payload, env->payload_len)) {
        out->size = mark;
        return WR_ENOMEM;
    }
    return 0;
}

/* Copies a validated address (len < WR_ADDR_MAX) and terminates it. */
static void s_addr_copy(char dst[WR_ADDR_MAX], const char *s, uint32_t len)
{
    memcpy(dst, s, len);
    dst[len] = '\0';
}

int wr_envelope_decode(const uint8_t *buf, size_t len, size_t max_payload, wr_envelope_t *env)
{
    wr_mp_reader_t r;
    uint32_t fields = 0, from_len = 0, to_len = 0, payload_len = 0;
    uint64_t version = 0, type = 0;
    const char *from = NULL, *to = NULL;
    const uint8_t *payload = NULL;

    wr_mp_reader_init(&r, buf, len);
    wr_mp_read_array(&r, &fields);
    wr_mp_read_uint(&r, &version);
    if (r.err) return WR_EPROTO;
    /* The version before the field count: another version may well have other fields. */
    if (version != WR_PROTOCOL_VERSION) return WR_EVERSION;
    if (fields != S_ENVELOPE_FIELDS) return WR_EPROTO;
    wr_mp_read_uint(&r, &type);
    wr_mp_read_str(&r, &from, &from_len);
    wr_mp_read_str(&r, &to, &to_len);
    wr_mp_read_uint(&r, &env->corr);
    wr_mp_read_uint(&r, &env->epoch);
    wr_mp_read_bin(&r, &payload, &payload_len);
    if (r.err || wr_mp_remaining(&r) != 0) return WR_EPROTO;
    if (type > UINT16_MAX || !wr_msg_type_is_wire((int)type)) return WR_ETYPE;
    if (!s_addr_check(from, from_len) || !s_addr_check(to, to_len)) return WR_EPROTO;
    if (payload_len > max_payload) return WR_ETOOBIG;
    env->type = (uint16_t)type;
    s_addr_copy(env->from, from, from_len);
    s_addr_copy(env->to, to, to_len);
    env->payload = payload;
    env->payload_len = payload_len;
    return 0;
}
