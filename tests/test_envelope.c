/* The bus envelope (wr_envelope_*, addresses), plus the two small classes built on it:
 * the message-type table (wr_msg_type_*) and mailbox messages (wr_msg_*). */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <string.h>

#include "bus/envelope.h"
#include "bus/base/error.h"
#include "bus/base/mp.h"
#include "bus/msg.h"
#include "bus/msgtypes.h"

static const uint8_t s_payload[] = {0x93, 0x01, 0x02, 0xa1, 'x'}; /* [1, 2, "x"] */

static wr_envelope_t s_ping(void)
{
    wr_envelope_t env = {.type = WR_MSG_PING, .corr = 0x1122334455667788ull, .epoch = 3};
    strcpy(env.from, "node-1/jm");
    strcpy(env.to, "tm_2.local/task:map/3");
    env.payload = s_payload;
    env.payload_len = sizeof s_payload;
    return env;
}

/* sb <- the encoded s_ping() envelope. */
static void s_encode_ping(msgpack_sbuffer *sb)
{
    wr_envelope_t env = s_ping();
    msgpack_sbuffer_init(sb);
    assert_int_equal(wr_envelope_encode(&env, sb), 0);
}

static void test_round_trip(void **state)
{
    (void)state;
    wr_envelope_t env = s_ping(), got;
    msgpack_sbuffer sb;
    msgpack_sbuffer_init(&sb);
    assert_int_equal(wr_envelope_encode(&env, &sb), 0);

    assert_int_equal(wr_envelope_decode((uint8_t *)sb.data, sb.size, 1024, &got), 0);
    assert_int_equal(got.type, WR_MSG_PING);
    assert_true(got.corr == env.corr);
    assert_true(got.epoch == 3);
    assert_string_equal(got.from, "node-1/jm");
    assert_string_equal(got.to, "tm_2.local/task:map/3");
    assert_int_equal(got.payload_len, sizeof s_payload);
    assert_memory_equal(got.payload, s_payload, sizeof s_payload);
    assert_true(got.payload > (const uint8_t *)sb.data && /* borrowed from the frame */
                got.payload < (const uint8_t *)sb.data + sb.size);
    msgpack_sbuffer_destroy(&sb);
}

static void test_round_trip_empty_payload_and_extremes(void **state)
{
    (void)state;
    wr_envelope_t env = s_ping(), got;
    env.type = WR_MSG_CHANNEL_END;
    env.corr = UINT64_MAX;
    env.epoch = 0;
    env.payload = NULL;
    env.payload_len = 0;
    memset(env.from, 'n', WR_NODE_MAX - 1); /* longest node and path */
    env.from[WR_NODE_MAX - 1] = '/';
    memset(env.from + WR_NODE_MAX, 'p', WR_PATH_MAX - 1);
    env.from[WR_NODE_MAX + WR_PATH_MAX - 1] = '\0';
    msgpack_sbuffer sb;
    msgpack_sbuffer_init(&sb);
    assert_int_equal(wr_envelope_encode(&env, &sb), 0);
    assert_int_equal(wr_envelope_decode((uint8_t *)sb.data, sb.size, 0, &got), 0);
    assert_int_equal(got.type, WR_MSG_CHANNEL_END);
    assert_true(got.corr == UINT64_MAX);
    assert_string_equal(got.from, env.from);
    assert_int_equal(got.payload_len, 0);
    msgpack_sbuffer_destroy(&sb);
}

static void test_every_truncation_rejected(void **state)
{
    (void)state;
    wr_envelope_t got;
    msgpack_sbuffer sb;
    s_encode_ping(&sb);
    for (size_t len = 0; len < sb.size; len++)
        assert_int_equal(wr_envelope_decode((uint8_t *)sb.data, len, 1024, &got), WR_EPROTO);
    msgpack_sbuffer_destroy(&sb);
}

static void test_trailing_bytes_rejected(void **state)
{
    (void)state;
    wr_envelope_t got;
    msgpack_sbuffer sb;
    s_encode_ping(&sb);
    msgpack_sbuffer_write(&sb, "\xc0", 1);
    assert_int_equal(wr_envelope_decode((uint8_t *)sb.data, sb.size, 1024, &got), WR_EPROTO);
    msgpack_sbuffer_destroy(&sb);
}

static void test_oversize_payload(void **state)
{
    (void)state;
    wr_envelope_t got;
    msgpack_sbuffer sb;
    s_encode_ping(&sb);
    uint8_t *frame = (uint8_t *)sb.data;
    assert_int_equal(wr_envelope_decode(frame, sb.size, sizeof s_payload, &got), 0);
    assert_int_equal(wr_envelope_decode(frame, sb.size, sizeof s_payload - 1, &got), WR_ETOOBIG);
    msgpack_sbuffer_destroy(&sb);
}

/* Builds an envelope field by field: `fields` array elements, where field `alt_at` (0..6) is
 * packed by alt instead of its valid value. Fields past the seventh are nil. */
typedef void (*s_pack_fn)(msgpack_packer *pk);

static void s_frame(msgpack_sbuffer *sb, uint32_t fields, int alt_at, s_pack_fn alt)
{
    msgpack_packer pk;
    msgpack_sbuffer_init(sb);
    msgpack_packer_init(&pk, sb, msgpack_sbuffer_write);
    msgpack_pack_array(&pk, fields);
    for (int i = 0; i < (int)fields; i++) {
        if (i == alt_at) {
            alt(&pk);
            continue;
        }
        switch (i) {
        case 0:
            msgpack_pack_uint8(&pk, WR_PROTOCOL_VERSION);
            break;
        case 1:
            msgpack_pack_uint16(&pk, WR_MSG_PING);
            break;
        case 2:
            wr_pack_str(&pk, "a/b");
            break;
        case 3:
            wr_pack_str(&pk, "c/d");
            break;
        case 4:
            msgpack_pack_uint64(&pk, 1);
            break;
        case 5:
            msgpack_pack_uint64(&pk, 2);
            break;
        case 6:
            wr_pack_bin(&pk, "\xc0", 1);
            break;
        default:
            msgpack_pack_nil(&pk);
            break;
        }
    }
}

static int s_decode_frame(uint32_t fields, int alt_at, s_pack_fn alt)
{
    msgpack_sbuffer sb;
    wr_envelope_t env;
    s_frame(&sb, fields, alt_at, alt);
    int rc = wr_envelope_decode((uint8_t *)sb.data, sb.size, 1024, &env);
    msgpack_sbuffer_destroy(&sb);
    return rc;
}

static void s_pack_nil(msgpack_packer *pk)
{
    msgpack_pack_nil(pk);
}
static void s_pack_neg(msgpack_packer *pk)
{
    msgpack_pack_int64(pk, -1);
}
static void s_pack_str(msgpack_packer *pk)
{
    wr_pack_str(pk, "a/b");
}
static void s_pack_bin(msgpack_packer *pk)
{
    wr_pack_bin(pk, "a/b", 3);
}
static void s_pack_float(msgpack_packer *pk)
{
    msgpack_pack_double(pk, 1.0);
}
static void s_pack_v2(msgpack_packer *pk)
{
    msgpack_pack_uint8(pk, 2);
}
static void s_pack_v1_as_uint64(msgpack_packer *pk)
{
    const char v[] = "\xcf\x00\x00\x00\x00\x00\x00\x00\x01"; /* valid, if not the shortest */
    msgpack_pack_str_body(pk, v, sizeof v - 1);
}
static void s_pack_type_unknown(msgpack_packer *pk)
{
    msgpack_pack_uint16(pk, 8);
}
static void s_pack_type_local(msgpack_packer *pk)
{
    msgpack_pack_uint16(pk, WR_MSG_LOCAL_FIRST);
}
static void s_pack_type_huge(msgpack_packer *pk)
{
    msgpack_pack_uint32(pk, 0x10000u + WR_MSG_PING);
}

static void test_wrong_field_types(void **state)
{
    (void)state;
    s_pack_fn not_uint[] = {s_pack_nil, s_pack_neg, s_pack_str, s_pack_float};
    s_pack_fn not_str[] = {s_pack_nil, s_pack_bin, s_pack_neg};
    s_pack_fn not_bin[] = {s_pack_nil, s_pack_str};
    assert_int_equal(s_decode_frame(7, -1, NULL), 0); /* the unaltered frame is fine */
    for (size_t i = 0; i < sizeof not_uint / sizeof not_uint[0]; i++) {
        assert_int_equal(s_decode_frame(7, 0, not_uint[i]), WR_EPROTO);
        assert_int_equal(s_decode_frame(7, 1, not_uint[i]), WR_EPROTO);
        assert_int_equal(s_decode_frame(7, 4, not_uint[i]), WR_EPROTO);
        assert_int_equal(s_decode_frame(7, 5, not_uint[i]), WR_EPROTO);
    }
    for (size_t i = 0; i < sizeof not_str / sizeof not_str[0]; i++) {
        assert_int_equal(s_decode_frame(7, 2, not_str[i]), WR_EPROTO);
        assert_int_equal(s_decode_frame(7, 3, not_str[i]), WR_EPROTO);
    }
    for (size_t i = 0; i < sizeof not_bin / sizeof not_bin[0]; i++)
        assert_int_equal(s_decode_frame(7, 6, not_bin[i]), WR_EPROTO);

    /* not an array at all */
    wr_envelope_t env;
    assert_int_equal(wr_envelope_decode((const uint8_t *)"\x81\x01\x01", 3, 1024, &env), WR_EPROTO);
}

static void test_field_count(void **state)
{
    (void)state;
    assert_int_equal(s_decode_frame(6, -1, NULL), WR_EPROTO);
    assert_int_equal(s_decode_frame(8, -1, NULL), WR_EPROTO);
    assert_int_equal(s_decode_frame(1, -1, NULL), WR_EPROTO);
}

static void test_version(void **state)
{
    (void)state;
    assert_int_equal(s_decode_frame(7, 0, s_pack_v2), WR_EVERSION);
    /* another version may have other fields: the version is what gets reported */
    assert_int_equal(s_decode_frame(9, 0, s_pack_v2), WR_EVERSION);
    assert_int_equal(s_decode_frame(2, 0, s_pack_v2), WR_EVERSION);
    assert_int_equal(s_decode_frame(7, 0, s_pack_v1_as_uint64), 0);
}

static void test_unknown_types(void **state)
{
    (void)state;
    assert_int_equal(s_decode_frame(7, 1, s_pack_type_unknown), WR_ETYPE);
    assert_int_equal(s_decode_frame(7, 1, s_pack_type_local), WR_ETYPE);
    assert_int_equal(s_decode_frame(7, 1, s_pack_type_huge), WR_ETYPE);

    wr_envelope_t env = s_ping();
    msgpack_sbuffer sb;
    msgpack_sbuffer_init(&sb);
    env.type = WR_MSG_LOCAL_FIRST; /* local types never leave the process */
    assert_int_equal(wr_envelope_encode(&env, &sb), WR_EINVAL);
    assert_int_equal(sb.size, 0);
    msgpack_sbuffer_destroy(&sb);
}

static const char *const s_bad_addrs[] = {
    "",           "node", /* no path */
    "/path",              /* no node */
    "node/",              /* empty path */
    "no de/x",            /* space */
    "node/pa th",         /* space */
    "nöde/x",             /* not ASCII */
    "node:1/x",           /* ':' only in paths */
    "node/x\n",           /* control */
    "node/x?",            /* not in the path alphabet */
};

/* bad is rejected by the decoder as from and as to, by wr_addr_valid and by the encoder. */
static void s_check_bad_addr(const char *bad)
{
    assert_false(wr_addr_valid(bad));
    for (int field = 2; field <= 3; field++) {
        msgpack_sbuffer sb; /* packed by hand, since the encoder refuses */
        msgpack_packer pk;
        wr_envelope_t env;
        msgpack_sbuffer_init(&sb);
        msgpack_packer_init(&pk, &sb, msgpack_sbuffer_write);
        msgpack_pack_array(&pk, 7);
        msgpack_pack_uint8(&pk, 1);
        msgpack_pack_uint8(&pk, WR_MSG_PING);
        wr_pack_str(&pk, field == 2 ? bad : "a/b");
        wr_pack_str(&pk, field == 3 ? bad : "a/b");
        msgpack_pack_uint8(&pk, 0);
        msgpack_pack_uint8(&pk, 0);
        wr_pack_bin(&pk, NULL, 0);
        assert_int_equal(wr_envelope_decode((uint8_t *)sb.data, sb.size, 0, &env), WR_EPROTO);
        msgpack_sbuffer_destroy(&sb);
    }
    if (strlen(bad) < WR_ADDR_MAX) {
        wr_envelope_t env = s_ping();
        msgpack_sbuffer sb;
        msgpack_sbuffer_init(&sb);
        strcpy(env.to, bad);
        assert_int_equal(wr_envelope_encode(&env, &sb), WR_EINVAL);
        assert_int_equal(sb.size, 0);
        msgpack_sbuffer_destroy(&sb);
    }
}

static void test_bad_addresses(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof s_bad_addrs / sizeof s_bad_addrs[0]; i++)
        s_check_bad_addr(s_bad_addrs[i]);

    char addr[WR_ADDR_MAX + 8];
    memset(addr, 'n', WR_NODE_MAX); /* node one char too long */
    strcpy(addr + WR_NODE_MAX, "/p");
    s_check_bad_addr(addr);
    strcpy(addr, "n/"); /* path one char too long */
    memset(addr + 2, 'p', WR_PATH_MAX);
    addr[2 + WR_PATH_MAX] = '\0';
    s_check_bad_addr(addr);
}

static void test_address_with_nul_rejected(void **state)
{
    (void)state;
    /* ["a/b\0c"] as a from address: valid characters up to a NUL */
    static const uint8_t frame[] = {0x97, 0x01, 0x06, 0xa5, 'a',  '/',  'b',  0,   'c',
                                    0xa3, 'c',  '/',  'd',  0x00, 0x00, 0xc4, 0x00};
    wr_envelope_t env;
    assert_int_equal(wr_envelope_decode(frame, sizeof frame, 0, &env), WR_EPROTO);
}

static void test_address_helpers(void **state)
{
    (void)state;
    char node[WR_NODE_MAX];
    assert_true(wr_addr_valid("tm-1/task:src/0"));
    assert_true(wr_addr_valid("a/b"));
    assert_true(wr_addr_valid("A.b_c-9/x/y/z"));
    assert_false(wr_addr_valid(NULL));

    const char *addr = "tm-1/task:src/0";
    const char *path = wr_addr_split(addr, node);
    assert_ptr_equal(path, addr + 5);
    assert_string_equal(node, "tm-1");
    assert_string_equal(path, "task:src/0");
    assert_null(wr_addr_split("tm-1", node));
    assert_null(wr_addr_split(NULL, node));

    assert_true(wr_node_id_valid("tm-1"));
    assert_true(wr_node_id_valid("0123456789012345678901234567890")); /* 31 chars */
    assert_false(wr_node_id_valid("01234567890123456789012345678901"));
    assert_false(wr_node_id_valid(""));
    assert_false(wr_node_id_valid("tm/1"));
    assert_false(wr_node_id_valid("tm:1"));
    assert_false(wr_node_id_valid(NULL));
}

static void test_encode_bad_arguments(void **state)
{
    (void)state;
    wr_envelope_t env = s_ping();
    msgpack_sbuffer sb;
    msgpack_sbuffer_init(&sb);
    msgpack_sbuffer_write(&sb, "keep", 4);
    env.payload = NULL; /* with payload_len > 0 */
    assert_int_equal(wr_envelope_encode(&env, &sb), WR_EINVAL);
    env = s_ping();
    strcpy(env.from, "no-path");
    assert_int_equal(wr_envelope_encode(&env, &sb), WR_EINVAL);
    assert_int_equal(sb.size, 4); /* untouched */
    msgpack_sbuffer_destroy(&sb);
}

static void test_msg_types(void **state)
{
    (void)state;
    assert_string_equal(wr_msg_type_name(WR_MSG_PING), "ping");
    assert_string_equal(wr_msg_type_name(WR_MSG_DATA_BATCH), "data-batch");
    assert_string_equal(wr_msg_type_name(WR_MSG_LOCAL_FIRST + 5), "local");
    assert_null(wr_msg_type_name(8));
    assert_null(wr_msg_type_name(0));
    assert_null(wr_msg_type_name(-1));

    assert_int_equal(wr_msg_type_from_name("heartbeat"), WR_MSG_HEARTBEAT);
    assert_int_equal(wr_msg_type_from_name("nope"), WR_ETYPE);
    assert_int_equal(wr_msg_type_from_name(NULL), WR_ETYPE);

    assert_true(wr_msg_type_is_wire(WR_MSG_STOP));
    assert_false(wr_msg_type_is_wire(WR_MSG_LOCAL_FIRST));
    assert_true(wr_msg_type_is_local(WR_MSG_LOCAL_FIRST));
    assert_true(wr_msg_type_is_local(WR_MSG_LOCAL_LAST));
    assert_false(wr_msg_type_is_local(WR_MSG_LOCAL_LAST + 1));
    assert_false(wr_msg_type_is_local(WR_MSG_PING));

    /* every row of the table: names are unique and lead back to their number */
#define S_CHECK_ROW(num, name, wire, decl, doc)                                                    \
    assert_true(wr_msg_type_is_wire(num));                                                         \
    assert_false(wr_msg_type_is_local(num));                                                       \
    assert_string_equal(wr_msg_type_name(num), wire);                                              \
    assert_int_equal(wr_msg_type_from_name(wire), num);
    WR_MSG_TYPES(S_CHECK_ROW)
#undef S_CHECK_ROW
}

static void test_msg_lifecycle(void **state)
{
    (void)state;
    wr_msg_t *m = wr_msg_new(WR_MSG_PING, "a/b", "c/d", s_payload, sizeof s_payload);
    assert_non_null(m);
    assert_int_equal(m->type, WR_MSG_PING);
    assert_string_equal(m->from, "a/b");
    assert_string_equal(m->to, "c/d");
    assert_int_equal(m->len, sizeof s_payload);
    assert_memory_equal(m->data, s_payload, sizeof s_payload);
    assert_true(m->corr == 0 && m->epoch == 0);
    m->corr = 77;

    wr_envelope_t env;
    wr_msg_envelope(m, &env);
    assert_ptr_equal(env.payload, m->data);
    assert_true(env.corr == 77);
    assert_string_equal(env.to, "c/d");

    wr_msg_t *copy = wr_msg_from_envelope(&env);
    assert_non_null(copy);
    assert_true(copy->corr == 77);
    assert_string_equal(copy->from, "a/b");
    assert_memory_equal(copy->data, s_payload, sizeof s_payload);
    assert_ptr_not_equal(copy->data, m->data);

    wr_msg_destroy(&m);
    assert_null(m);
    wr_msg_destroy(&m); /* NULL-safe */
    wr_msg_destroy(&copy);
}

static void test_msg_edges(void **state)
{
    (void)state;
    wr_msg_t *m = wr_msg_alloc(WR_MSG_LOCAL_FIRST, 3);
    assert_non_null(m);
    assert_string_equal(m->from, "");
    memcpy(m->data, "abc", 3);
    wr_msg_destroy(&m);

    m = wr_msg_new(WR_MSG_STOP, NULL, NULL, NULL, 0);
    assert_non_null(m);
    assert_string_equal(m->to, "");
    assert_int_equal(m->len, 0);
    wr_msg_destroy(&m);

    char long_addr[WR_ADDR_MAX + 1];
    memset(long_addr, 'a', WR_ADDR_MAX);
    long_addr[WR_ADDR_MAX] = '\0';
    assert_null(wr_msg_new(WR_MSG_PING, long_addr, "c/d", NULL, 0));
    long_addr[WR_ADDR_MAX - 1] = '\0'; /* the longest that fits */
    m = wr_msg_new(WR_MSG_PING, "a/b", long_addr, NULL, 0);
    assert_non_null(m);
    wr_msg_destroy(&m);
    assert_null(wr_msg_new(WR_MSG_PING, "a/b", "c/d", NULL, 1));
    assert_null(wr_msg_alloc(WR_MSG_PING, SIZE_MAX));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_round_trip),
        cmocka_unit_test(test_round_trip_empty_payload_and_extremes),
        cmocka_unit_test(test_every_truncation_rejected),
        cmocka_unit_test(test_trailing_bytes_rejected),
        cmocka_unit_test(test_oversize_payload),
        cmocka_unit_test(test_wrong_field_types),
        cmocka_unit_test(test_field_count),
        cmocka_unit_test(test_version),
        cmocka_unit_test(test_unknown_types),
        cmocka_unit_test(test_bad_addresses),
        cmocka_unit_test(test_address_with_nul_rejected),
        cmocka_unit_test(test_address_helpers),
        cmocka_unit_test(test_encode_bad_arguments),
        cmocka_unit_test(test_msg_types),
        cmocka_unit_test(test_msg_lifecycle),
        cmocka_unit_test(test_msg_edges),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
