/* The payload codec (bus/proto.h) and the declarations of every message (bus/messages.h): each
 * type's payload round-trips, the wire is pinned by golden bytes, and every kind of
 * malformed input is refused. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bus/base/error.h"
#include "bus/base/mp.h"
#include "bus/json.h"
#include "bus/messages.h"

/* ---- a sample of any declaration, made by walking its descriptor ---- */

/* Everything a sample points to, freed at once. */
typedef struct {
    void *p[4096];
    size_t n;
} s_arena_t;

static void *s_alloc(s_arena_t *a, size_t size)
{
    assert_true(a->n < sizeof a->p / sizeof a->p[0]);
    void *p = calloc(1, size ? size : 1);
    assert_non_null(p);
    return a->p[a->n++] = p;
}

static void s_arena_free(s_arena_t *a)
{
    while (a->n)
        free(a->p[--a->n]);
}

static const uint8_t s_raw[] = {0x93, 0x01, 0xa3, 't', 'w',
                                'o',  0x81, 0xa1, 'k', 0xc0}; /* [1,"two",{"k":nil}] */

static void s_fill(const wr_proto_struct_t *d, char *base, s_arena_t *a, int variant);

/* Field f of the struct at base, for variant 0 (small values, optional fields left out) or 1
 * (large values, every field there). */
static void s_fill_field(const wr_proto_field_t *f, char *base, s_arena_t *a, int variant)
{
    char *at = base + f->offset;
    bool opt_out = (f->flags & WR_PF_OPT) && !variant;
    switch (f->kind) {
    case WR_PK_BOOL:
        *(bool *)at = !opt_out;
        break;
    case WR_PK_U32:
        *(uint32_t *)at = opt_out ? 0 : variant ? 4000000000u : 7;
        break;
    case WR_PK_U64:
        *(uint64_t *)at = variant ? UINT64_MAX - 3 : 200;
        break;
    case WR_PK_I32:
        *(int32_t *)at = variant ? INT32_MIN : -5;
        break;
    case WR_PK_I64:
        *(int64_t *)at = variant ? INT64_MIN : 1700000000000;
        break;
    case WR_PK_F64:
        *(double *)at = variant ? -1e300 : 2.5;
        break;
    case WR_PK_STR:
        if (opt_out)
            at[0] = '\0';
        else if (variant)
            memset(at, 'x', f->size - 1), at[f->size - 1] = '\0'; /* as long as it may be */
        else
            snprintf(at, f->size, "abc");
        break;
    case WR_PK_STRV:
        *(wr_strv_t *)at = opt_out   ? (wr_strv_t){NULL, 0}
                           : variant ? wr_strv("a view")
                                     : wr_strv("");
        break;
    case WR_PK_BIN:
        *(wr_bytes_t *)at = opt_out
                                ? (wr_bytes_t){NULL, 0}
                                : (wr_bytes_t){(const uint8_t *)"\x00\x01\xff", variant ? 3u : 0u};
        break;
    case WR_PK_BINSTR:
        *(wr_binstr_t *)at = (wr_binstr_t){(const uint8_t *)"file", 4, !variant};
        break;
    case WR_PK_RAW:
        *(wr_bytes_t *)at = opt_out ? (wr_bytes_t){NULL, 0} : (wr_bytes_t){s_raw, sizeof s_raw};
        break;
    case WR_PK_OPAQUE: /* any bytes: msgpack or not */
        *(wr_bytes_t *)at = variant ? (wr_bytes_t){(const uint8_t *)"\xc1\xff\x00", 3}
                                    : (wr_bytes_t){s_raw, sizeof s_raw};
        break;
    case WR_PK_STRUCT:
        s_fill(f->sub, at, a, variant);
        break;
    case WR_PK_LIST:
    case WR_PK_DICT: {
        uint32_t n = variant ? 2 : 0;
        char *v = n ? s_alloc(a, n * f->sub->size) : NULL;
        for (uint32_t i = 0; i < n; i++) {
            char *el = v + i * f->sub->size;
            s_fill(f->sub, el, a, variant);
            if (f->kind == WR_PK_DICT) { /* keys differ */
                const wr_proto_field_t *key = &f->sub->fields[0];
                char *k = s_alloc(a, 8);
                snprintf(k, 8, "k%u", i);
                if (key->kind == WR_PK_STR)
                    snprintf(el + key->offset, key->size, "%s", k);
                else
                    *(wr_strv_t *)(el + key->offset) = wr_strv(k);
            }
        }
        memcpy(at, &v, sizeof v);
        memcpy(at + sizeof(void *), &n, sizeof n);
        break;
    }
    }
}

static void s_fill(const wr_proto_struct_t *d, char *base, s_arena_t *a, int variant)
{
    for (uint32_t i = 0; i < d->nfields; i++)
        s_fill_field(&d->fields[i], base, a, variant);
}

/* Whether two structs of declaration d hold the same payload. */
static bool s_same(const wr_proto_struct_t *d, const char *x, const char *y)
{
    for (uint32_t i = 0; i < d->nfields; i++) {
        const wr_proto_field_t *f = &d->fields[i];
        const char *a = x + f->offset, *b = y + f->offset;
        bool same = true;
        switch (f->kind) {
        case WR_PK_BOOL:
            same = *(const bool *)a == *(const bool *)b;
            break;
        case WR_PK_U32:
            same = *(const uint32_t *)a == *(const uint32_t *)b;
            break;
        case WR_PK_U64:
            same = *(const uint64_t *)a == *(const uint64_t *)b;
            break;
        case WR_PK_I32:
            same = *(const int32_t *)a == *(const int32_t *)b;
            break;
        case WR_PK_I64:
            same = *(const int64_t *)a == *(const int64_t *)b;
            break;
        case WR_PK_F64:
            same = *(const double *)a == *(const double *)b;
            break;
        case WR_PK_STR:
            same = !strcmp(a, b);
            break;
        case WR_PK_STRV: {
            const wr_strv_t *s = (const void *)a, *t = (const void *)b;
            same = !s->s == !t->s && s->len == t->len && (!s->len || !memcmp(s->s, t->s, s->len));
            break;
        }
        case WR_PK_BINSTR: {
            const wr_binstr_t *s = (const void *)a, *t = (const void *)b;
            same = s->str == t->str && s->len == t->len && (!s->len || !memcmp(s->p, t->p, s->len));
            break;
        }
        case WR_PK_BIN:
        case WR_PK_RAW:
        case WR_PK_OPAQUE: {
            const wr_bytes_t *s = (const void *)a, *t = (const void *)b;
            same = !s->p == !t->p && s->len == t->len && (!s->len || !memcmp(s->p, t->p, s->len));
            break;
        }
        case WR_PK_STRUCT:
            same = s_same(f->sub, a, b);
            break;
        case WR_PK_LIST:
        case WR_PK_DICT: {
            const char *va, *vb;
            uint32_t na, nb;
            memcpy(&va, a, sizeof va);
            memcpy(&vb, b, sizeof vb);
            memcpy(&na, a + sizeof(void *), sizeof na);
            memcpy(&nb, b + sizeof(void *), sizeof nb);
            same = na == nb;
            for (uint32_t k = 0; same && k < na; k++)
                same = s_same(f->sub, va + k * f->sub->size, vb + k * f->sub->size);
            break;
        }
        }
        if (!same) {
            print_message("  %s.%s differs\n", d->name, f->name);
            return false;
        }
    }
    return true;
}

/* Every wire type with its number, from the table. */
static const struct {
    int type;
    const char *name;
    const wr_proto_struct_t *decl;
} s_types[] = {
#define S_ROW(num, name, wire, decl, doc) {num, wire, &wr_msg_##decl##_decl},
    WR_MSG_TYPES(S_ROW)
#undef S_ROW
};
#define S_NTYPES (sizeof s_types / sizeof s_types[0])

/* ---- declarations ---- */

static void s_check_decl(const wr_proto_struct_t *d, int depth)
{
    assert_true(depth < 8);
    assert_true(d->nfields <= 64); /* the map decoder's bitmask of fields seen */
    assert_true(d->enc != WR_PROTO_BARE || d->nfields <= 1);
    for (uint32_t i = 0; i < d->nfields; i++) {
        const wr_proto_field_t *f = &d->fields[i];
        assert_true(f->offset < d->size);
        for (uint32_t k = 0; k < i; k++)
            assert_string_not_equal(f->name, d->fields[k].name);
        if (f->kind == WR_PK_OPAQUE) assert_true(d->enc == WR_PROTO_BARE);
        if (f->kind == WR_PK_STR) assert_true(f->size > 0);
        if (f->kind == WR_PK_LIST || f->kind == WR_PK_DICT) assert_true(f->size > 0);
        if (f->kind == WR_PK_DICT) {
            assert_int_equal(f->sub->nfields, 2);
            assert_true(f->sub->fields[0].kind == WR_PK_STR ||
                        f->sub->fields[0].kind == WR_PK_STRV);
        }
        if (f->kind == WR_PK_STRUCT || f->kind == WR_PK_LIST || f->kind == WR_PK_DICT)
            s_check_decl(f->sub, depth + 1);
        /* a WITH_ field goes with an optional field before it */
        if (f->flags & WR_PF_WITH) assert_true(i > 0 && (d->fields[i - 1].flags & WR_PF_OPT));
        /* an ARRAY's optional fields are its tail */
        if (d->enc == WR_PROTO_ARRAY && i && (d->fields[i - 1].flags & WR_PF_OPT))
            assert_true(f->flags & WR_PF_OPT);
    }
}

static void test_every_type_has_one_declaration(void **state)
{
    (void)state;
    for (size_t i = 0; i < S_NTYPES; i++) {
        assert_ptr_equal(wr_msg_decl(s_types[i].type), s_types[i].decl);
        s_check_decl(s_types[i].decl, 0);
    }
    assert_null(wr_msg_decl(0));
    assert_null(wr_msg_decl(WR_MSG_LOCAL_FIRST));
    assert_null(wr_msg_decl(9));
}

/* ---- round trips ---- */

/* Packs p of declaration d, decodes it, checks it is the same and packs to the same bytes; every
 * shorter prefix and one trailing byte are refused. The encoding goes into *out. */
static void s_round_trip(const wr_proto_struct_t *d, const void *p, msgpack_sbuffer *out)
{
    assert_int_equal(wr_proto_pack(d, p, out), 0);
    void *q = calloc(1, d->size);
    assert_non_null(q);
    assert_int_equal(wr_proto_decode(d, out->data, out->size, q), 0);
    assert_true(s_same(d, p, q));
    msgpack_sbuffer again;
    msgpack_sbuffer_init(&again);
    assert_int_equal(wr_proto_pack(d, q, &again), 0);
    assert_int_equal(again.size, out->size);
    assert_memory_equal(again.data, out->data, out->size);
    wr_proto_release(d, q);
    bool opaque = d->nfields == 1 && d->fields[0].kind == WR_PK_OPAQUE;
    for (size_t n = 0; !opaque && n < out->size; n++) {
        assert_int_not_equal(wr_proto_decode(d, out->data, n, q), 0);
        for (size_t k = 0; k < d->size; k++)
            assert_int_equal(((char *)q)[k], 0); /* left zeroed */
    }
    if (!opaque) {
        msgpack_sbuffer_write(&again, "\xc0\xc0", 2); /* (one nil alone is an empty payload) */
        assert_int_equal(wr_proto_decode(d, again.data, again.size, q), WR_EPROTO);
    }
    msgpack_sbuffer_destroy(&again);
    free(q);
}

static void test_every_type_round_trips(void **state)
{
    (void)state;
    for (size_t i = 0; i < S_NTYPES; i++) {
        const wr_proto_struct_t *d = s_types[i].decl;
        for (int variant = 0; variant < 2; variant++) {
            s_arena_t a = {.n = 0};
            void *p = s_alloc(&a, d->size);
            s_fill(d, p, &a, variant);
            msgpack_sbuffer sb;
            msgpack_sbuffer_init(&sb);
            s_round_trip(d, p, &sb);
            /* as a message of its type */
            wr_msg_t *m = wr__msg_new((uint16_t)s_types[i].type, "n/a", "n/b", d, p);
            assert_non_null(m);
            assert_int_equal(m->len, sb.size);
            assert_memory_equal(m->data, sb.data, sb.size);
            void *q = s_alloc(&a, d->size);
            assert_int_equal(wr__msg_unpack(m, d, q), 0);
            assert_true(s_same(d, p, q));
            wr_proto_release(d, q);
            /* its named JSON for humans */
            wr_strbuf_t js;
            wr_strbuf_init(&js);
            assert_int_equal(wr_msg_payload_json(s_types[i].type, m->data, m->len, SIZE_MAX, &js),
                             0);
            assert_true(js.len > 0);
            wr_strbuf_release(&js);
            wr_msg_destroy(&m);
            msgpack_sbuffer_destroy(&sb);
            s_arena_free(&a);
        }
    }
}

static void test_unpack_checks_the_type(void **state)
{
    (void)state;
    wr_msg_t *m = wr_msg_credit_new(WR_MSG_CREDIT, NULL, NULL, &(wr_msg_credit_t){7, 4});
    assert_non_null(m);
    wr_msg_channel_open_t open = {99};
    assert_int_equal(wr_msg_channel_open_unpack(m, &open), WR_ETYPE);
    assert_int_equal(open.channel, 0);
    wr_msg_credit_t c;
    assert_int_equal(wr_msg_credit_unpack(m, &c), 0);
    assert_true(c.channel == 7 && c.granted == 4);
    m->type = WR_MSG_LOCAL_FIRST;
    assert_int_equal(wr_msg_credit_unpack(m, &c), WR_ETYPE);
    wr_msg_destroy(&m);
}

/* ---- the wire: golden bytes of what the ends write (a change here changes the protocol) ---- */

static void s_expect(const msgpack_sbuffer *sb, const char *hex)
{
    char got[1024] = "";
    for (size_t i = 0; i < sb->size && 2 * i + 2 < sizeof got; i++)
        snprintf(got + 2 * i, 3, "%02x", (uint8_t)sb->data[i]);
    assert_string_equal(got, hex);
}

#define S_EXPECT(decl, hex, ...)                                                                   \
    do {                                                                                           \
        msgpack_sbuffer sb_;                                                                       \
        msgpack_sbuffer_init(&sb_);                                                                \
        assert_int_equal(wr_msg_##decl##_pack(&(wr_msg_##decl##_t){__VA_ARGS__}, &sb_), 0);        \
        s_expect(&sb_, hex);                                                                       \
        msgpack_sbuffer_destroy(&sb_);                                                             \
    } while (0)

static void test_the_wire_is_the_old_wire(void **state)
{
    (void)state;
    /* shortest integer encodings, as msgpack_pack_uint64/int64 write them */
    S_EXPECT(credit, "920704", 7, 4);
    S_EXPECT(channel_open, "91cd012c", 300);
    S_EXPECT(watermark, "9301ffcf0000018bcfe56800", 1, -1, 1700000000000);
    S_EXPECT(error, "92faa3626164", WR_EPROTO, wr_strv("bad"));
    S_EXPECT(job_ref, "91a86162636430313233", "abcd0123");
    /* a TaskManager's registration and slot report: [cluster, node, endpoint, slots, incarnation,
     * in use] */
    S_EXPECT(tm_register, "96a26331a4746d2d61ad696e70726f633a2f2f746d2d61020701", "c1", "tm-a",
             "inproc://tm-a", 2, 7, 1);
    /* the leader's answer: [jm incarnation, heartbeat timeout, epoch, [[job, attempt]...] owned,
     * rocksdb localdir] */
    wr_msg_job_attempt_t owned = {"0000beef", 5};
    S_EXPECT(tm_registered,
             "95cd01f4cd0bb8cf0000018bcfe568009192a8303030306265656605aa2f7661722f726f636b73", 500,
             3000, 1700000000000, {&owned, 1}, "/var/rocks");
    S_EXPECT(tm_registered, "95cd01f4cd0bb80190a0", 500, 3000, 1, {NULL, 0}, "");
    /* DATA_BATCH: fixed widths, the record bytes last */
    S_EXPECT(data_batch, "94cf0000000000000001cf0000000000000002ce00000003c6000000026162", 1, 2, 3,
             {(const uint8_t *)"ab", 2});
    /* JOB_SUBMIT's optional tail: [topology] or [topology, restore, parallelism] */
    S_EXPECT(job_submit, "91c0", .topology = {(const uint8_t *)"\xc0", 1});
    S_EXPECT(job_submit, "93c0a004", .topology = {(const uint8_t *)"\xc0", 1}, .parallelism = 4);
    S_EXPECT(job_submit, "93c0a12f00", .topology = {(const uint8_t *)"\xc0", 1}, .restore = "/");
    /* a MAP: the keys the JobManager reads and `--json` prints, in declaration order */
    /* its counters are OPT_ (U64, I64): left out while 0 */
    S_EXPECT(subtask_place, "82a46e6f6465a2746da57374617465a772756e6e696e67", wr_strv("tm"),
             wr_strv("running"), 0, 0, 0, 0, 0, 0, 0);
    S_EXPECT(subtask_place,
             "86a46e6f6465a2746da57374617465a772756e6e696e67aa7265636f7264735f696e01ab7265636f72647"
             "35f6f757402ac6261636b707265737375726503a977617465726d61726bff",
             wr_strv("tm"), wr_strv("running"), 1, 2, 3, -1, 0, 0, 0);
}

/* *p of declaration d as JSON: packed into sb, rendered into js (both emptied first). */
static const char *s_as_json(const wr_proto_struct_t *d, const void *p, msgpack_sbuffer *sb,
                             wr_strbuf_t *js)
{
    sb->size = 0;
    wr_strbuf_reset(js);
    assert_int_equal(wr_proto_pack(d, p, sb), 0);
    assert_int_equal(wr_mp_to_json((const uint8_t *)sb->data, sb->size, SIZE_MAX, js), 0);
    return js->buf;
}

static void test_map_fields_and_options(void **state)
{
    (void)state;
    /* TASK_STATE's counters: collected only in a final report that has some */
    wr_msg_task_stats_t st = {.attempt = 2, .watermark = -1};
    msgpack_sbuffer sb;
    msgpack_sbuffer_init(&sb);
    wr_strbuf_t js;
    wr_strbuf_init(&js);
    assert_string_equal(
        s_as_json(&wr_msg_task_stats_decl, &st, &sb, &js),
        "{\"emit_delay_p50_ms\":0,\"emit_delay_p99_ms\":0,\"emit_delay_last_p99_ms\":0,"
        "\"attempt\":2,\"records_in\":0,\"records_out\":0,\"watermark\":-1,"
        "\"backpressure\":0,\"windows_fired\":0,\"late_dropped\":0,\"skipped\":0}");
    st.collected = wr_strv("{\"n\":1}\n");
    assert_non_null(strstr(s_as_json(&wr_msg_task_stats_decl, &st, &sb, &js),
                           ",\"skipped\":0,\"collected\":\"{\\\"n\\\":1}\\n\"}"));

    /* keys in any order read the same */
    msgpack_packer pk;
    msgpack_packer_init(&pk, &sb, msgpack_sbuffer_write);
    sb.size = 0;
    msgpack_pack_map(&pk, 2);
    wr_pack_str(&pk, "state");
    wr_pack_str(&pk, "up");
    wr_pack_str(&pk, "node");
    wr_pack_str(&pk, "tm-1");
    wr_msg_subtask_place_t sp;
    assert_int_equal(wr_msg_subtask_place_decode(sb.data, sb.size, &sp), 0);
    assert_true(wr_strv_eq(sp.node, "tm-1") && wr_strv_eq(sp.state, "up"));

    /* the recent messages of a mailbox: one of three optional payload fields */
    wr_msg_recent_msg_t r = {
        .type = wr_strv("ping"), .from = wr_strv("a/b"), .payload_not_sampled = true};
    sb.size = 0;
    assert_int_equal(wr_msg_recent_msg_pack(&r, &sb), 0);
    wr_msg_recent_msg_t back;
    assert_int_equal(wr_msg_recent_msg_decode(sb.data, sb.size, &back), 0);
    assert_true(back.payload_not_sampled && !back.payload.p && !back.payload_truncated.p);

    /* a TaskManager's row in `weir actors`: slots_free goes with slots, 0 included */
    wr_msg_node_row_t row = {
        .node = wr_strv("tm-a"), .status = wr_strv("up"), .endpoint = wr_strv(""), .slots = 2};
    assert_non_null(strstr(s_as_json(&wr_msg_node_row_decl, &row, &sb, &js),
                           ",\"actors\":[],\"slots\":2,\"slots_free\":0}"));
    wr_msg_node_row_t row_back;
    assert_int_equal(wr_msg_node_row_decode(sb.data, sb.size, &row_back), 0);
    assert_true(row_back.slots == 2 && row_back.slots_free == 0);
    wr_msg_node_row_release(&row_back);
    /* any other node's row: neither */
    row.slots = 0;
    assert_non_null(strstr(s_as_json(&wr_msg_node_row_decl, &row, &sb, &js), ",\"actors\":[]}"));
    /* slots_free without slots would not read back */
    row.slots_free = 1;
    assert_int_equal(wr_msg_node_row_pack(&row, &sb), WR_EINVAL);
    wr_strbuf_release(&js);
    msgpack_sbuffer_destroy(&sb);
}

/* ---- malformed input ---- */

/* A node row's map header for its 19 fields and `extra` more, and the 19 (no actors). */
static void s_pack_node_row(msgpack_packer *pk, uint32_t extra)
{
    static const char *const counters[] = {
        "incarnation",  "last_heard_ms", "frames_in", "malformed",  "bad_frames",
        "bad_envelope", "bad_version",   "bad_type",  "oversized",  "spoofed",
        "refused",      "unknown_key",   "impostors", "overflowed", "cut_while_sending"};
    msgpack_pack_map(pk, 19 + extra);
    wr_pack_str(pk, "node");
    wr_pack_str(pk, "tm-a");
    wr_pack_str(pk, "status");
    wr_pack_str(pk, "up");
    wr_pack_str(pk, "endpoint");
    wr_pack_str(pk, "");
    for (size_t i = 0; i < sizeof counters / sizeof counters[0]; i++) {
        wr_pack_str(pk, counters[i]);
        msgpack_pack_uint8(pk, 0);
    }
    wr_pack_str(pk, "actors");
    msgpack_pack_array(pk, 0);
}

/* The payload made by the packing statements that follow, decoded as decl; expects rc. */
#define S_REJECT(decl, rc, ...)                                                                    \
    do {                                                                                           \
        msgpack_sbuffer sb_;                                                                       \
        msgpack_sbuffer_init(&sb_);                                                                \
        msgpack_packer pk;                                                                         \
        msgpack_packer_init(&pk, &sb_, msgpack_sbuffer_write);                                     \
        __VA_ARGS__;                                                                               \
        wr_msg_##decl##_t p_;                                                                      \
        assert_int_equal(wr_msg_##decl##_decode(sb_.data, sb_.size, &p_), rc);                     \
        if (rc == 0) wr_msg_##decl##_release(&p_);                                                 \
        msgpack_sbuffer_destroy(&sb_);                                                             \
    } while (0)

static void test_malformed_input_is_refused(void **state)
{
    (void)state;
    /* the well-formed one, then one fault at a time */
    S_REJECT(credit, 0, msgpack_pack_array(&pk, 2); msgpack_pack_uint8(&pk, 7);
             msgpack_pack_uint32(&pk, 4));
    S_REJECT(credit, WR_EPROTO, msgpack_pack_array(&pk, 2); wr_pack_str(&pk, "7");
             msgpack_pack_uint32(&pk, 4));
    S_REJECT(credit, WR_EPROTO, msgpack_pack_array(&pk, 1); msgpack_pack_uint8(&pk, 7));
    S_REJECT(credit, WR_EPROTO, msgpack_pack_array(&pk, 3); msgpack_pack_uint8(&pk, 7);
             msgpack_pack_uint8(&pk, 4); msgpack_pack_uint8(&pk, 1));
    S_REJECT(credit, WR_EPROTO, msgpack_pack_map(&pk, 0));
    S_REJECT(credit, WR_EPROTO, msgpack_pack_array(&pk, 2); msgpack_pack_uint8(&pk, 7);
             msgpack_pack_uint32(&pk, 4); msgpack_pack_nil(&pk)); /* trailing bytes */
    S_REJECT(credit, WR_EPROTO, );                                /* nothing at all */
    /* numbers out of their kind's range */
    S_REJECT(credit, WR_EPROTO, msgpack_pack_array(&pk, 2); msgpack_pack_int8(&pk, -1);
             msgpack_pack_uint32(&pk, 4));
    S_REJECT(credit, WR_EPROTO, msgpack_pack_array(&pk, 2); msgpack_pack_uint8(&pk, 7);
             msgpack_pack_int8(&pk, -4));
    S_REJECT(channel_open, WR_EPROTO, msgpack_pack_array(&pk, 1); msgpack_pack_int64(&pk, -1));
    S_REJECT(ckpt_ack, WR_EPROTO, msgpack_pack_array(&pk, 7); wr_pack_str(&pk, "j"); /* a U32 */
             msgpack_pack_uint64(&pk, 1ull << 32); msgpack_pack_uint8(&pk, 0);
             msgpack_pack_uint8(&pk, 0); msgpack_pack_uint8(&pk, 1); msgpack_pack_array(&pk, 0);
             msgpack_pack_int8(&pk, 0));
    S_REJECT(error, WR_EPROTO, msgpack_pack_array(&pk, 2);
             msgpack_pack_int64(&pk, -(INT64_C(1) << 40)); wr_pack_str(&pk, "x"));
    S_REJECT(credit, WR_EPROTO, msgpack_pack_array(&pk, 2); msgpack_pack_uint8(&pk, 7);
             msgpack_pack_double(&pk, 4.0));
    S_REJECT(error, 0, msgpack_pack_array(&pk, 2); msgpack_pack_int32(&pk, INT32_MIN);
             wr_pack_str(&pk, "x"));
    /* strings: too long for a STR, a NUL inside, not a string */
    char id[WR_MSG_JOB_ID_MAX + 1];
    memset(id, 'a', sizeof id - 1);
    id[sizeof id - 1] = '\0';
    S_REJECT(job_ref, WR_ETOOBIG, msgpack_pack_array(&pk, 1); wr_pack_str(&pk, id));
    id[WR_MSG_JOB_ID_MAX - 1] = '\0';
    S_REJECT(job_ref, 0, msgpack_pack_array(&pk, 1); wr_pack_str(&pk, id));
    S_REJECT(job_ref, WR_EPROTO, msgpack_pack_array(&pk, 1);
             msgpack_pack_str_with_body(&pk, "a\0b", 3));
    S_REJECT(error, WR_EPROTO, msgpack_pack_array(&pk, 2); msgpack_pack_int8(&pk, -1);
             msgpack_pack_str_with_body(&pk, "a\0b", 3));
    S_REJECT(job_ref, WR_EPROTO, msgpack_pack_array(&pk, 1);
             msgpack_pack_bin_with_body(&pk, "ab", 2));
    /* lists: over their most, elements of the wrong shape */
    S_REJECT(
        ckpt_ack, WR_ETOOBIG, msgpack_pack_array(&pk, 7); wr_pack_str(&pk, "j");
        msgpack_pack_uint8(&pk, 1); msgpack_pack_uint8(&pk, 0); msgpack_pack_uint8(&pk, 0);
        msgpack_pack_uint8(&pk, 1); msgpack_pack_array(&pk, WR_MSG_BLOBS_MAX + 1);
        for (int i = 0; i < WR_MSG_BLOBS_MAX + 1; i++) {
            msgpack_pack_array(&pk, 3);
            wr_pack_str(&pk, "n");
            msgpack_pack_uint8(&pk, 0);
            wr_pack_bin(&pk, "", 0);
        } msgpack_pack_int8(&pk, 0));
    S_REJECT(ckpt_ack, 0, msgpack_pack_array(&pk, 7); wr_pack_str(&pk, "j");
             msgpack_pack_uint8(&pk, 1); msgpack_pack_uint8(&pk, 0); msgpack_pack_uint8(&pk, 0);
             msgpack_pack_uint8(&pk, 1); msgpack_pack_array(&pk, 2); msgpack_pack_array(&pk, 3);
             wr_pack_str(&pk, "source"); msgpack_pack_uint8(&pk, 0); wr_pack_bin(&pk, "pos", 3);
             msgpack_pack_array(&pk, 3); wr_pack_str(&pk, "window"); msgpack_pack_uint8(&pk, 1);
             wr_pack_str(&pk, "v0-s0-window"); msgpack_pack_int8(&pk, 0));
    S_REJECT(ckpt_ack, WR_EPROTO, msgpack_pack_array(&pk, 7); wr_pack_str(&pk, "j");
             msgpack_pack_uint8(&pk, 1); msgpack_pack_uint8(&pk, 0); msgpack_pack_uint8(&pk, 0);
             msgpack_pack_uint8(&pk, 1); msgpack_pack_array(&pk, 2); msgpack_pack_array(&pk, 3);
             wr_pack_str(&pk, "source"); msgpack_pack_uint8(&pk, 0); wr_pack_bin(&pk, "pos", 3);
             msgpack_pack_array(&pk, 2); wr_pack_str(&pk, "window"); msgpack_pack_uint8(&pk, 1);
             msgpack_pack_int8(&pk, 0));
    /* maps: a key that is not a field, a field twice, a field missing, a key that is not a str */
    S_REJECT(subtask_place, WR_EPROTO, msgpack_pack_map(&pk, 3); wr_pack_str(&pk, "node");
             wr_pack_str(&pk, "a"); wr_pack_str(&pk, "state"); wr_pack_str(&pk, "b");
             wr_pack_str(&pk, "extra"); msgpack_pack_nil(&pk));
    S_REJECT(subtask_place, WR_EPROTO, msgpack_pack_map(&pk, 2); wr_pack_str(&pk, "node");
             wr_pack_str(&pk, "a"); wr_pack_str(&pk, "node"); wr_pack_str(&pk, "b"));
    S_REJECT(subtask_place, WR_EPROTO, msgpack_pack_map(&pk, 1); wr_pack_str(&pk, "node");
             wr_pack_str(&pk, "a"));
    S_REJECT(subtask_place, WR_EPROTO, msgpack_pack_map(&pk, 2); msgpack_pack_uint8(&pk, 1);
             wr_pack_str(&pk, "a"); wr_pack_str(&pk, "state"); wr_pack_str(&pk, "b"));
    /* a DICT with a key twice */
    S_REJECT(mailbox_reply, WR_EPROTO, msgpack_pack_map(&pk, 1); wr_pack_str(&pk, "types");
             msgpack_pack_map(&pk, 2); wr_pack_str(&pk, "ping"); msgpack_pack_uint8(&pk, 1);
             wr_pack_str(&pk, "ping"); msgpack_pack_uint8(&pk, 2));
    /* a WITH_ field goes with the one before it: both or neither, and no value without it */
    S_REJECT(node_row, 0, s_pack_node_row(&pk, 0));
    S_REJECT(node_row, 0, s_pack_node_row(&pk, 2); wr_pack_str(&pk, "slots_free");
             msgpack_pack_uint8(&pk, 0); wr_pack_str(&pk, "slots"); msgpack_pack_uint8(&pk, 2));
    S_REJECT(node_row, WR_EPROTO, s_pack_node_row(&pk, 1); wr_pack_str(&pk, "slots");
             msgpack_pack_uint8(&pk, 2));
    S_REJECT(node_row, WR_EPROTO, s_pack_node_row(&pk, 1); wr_pack_str(&pk, "slots_free");
             msgpack_pack_uint8(&pk, 0));
    S_REJECT(node_row, WR_EPROTO, s_pack_node_row(&pk, 2); wr_pack_str(&pk, "slots");
             msgpack_pack_uint8(&pk, 0); wr_pack_str(&pk, "slots_free");
             msgpack_pack_uint8(&pk, 1));
    /* an optional tail is all or nothing */
    S_REJECT(job_submit, 0, msgpack_pack_array(&pk, 1); msgpack_pack_nil(&pk));
    S_REJECT(job_submit, WR_EPROTO, msgpack_pack_array(&pk, 2); msgpack_pack_nil(&pk);
             wr_pack_str(&pk, "/sp"));
    S_REJECT(job_submit, WR_EPROTO, msgpack_pack_array(&pk, 0));
    /* a RAW that is not one well-formed object, a bad tag */
    S_REJECT(job_submit, WR_EPROTO, msgpack_pack_array(&pk, 1); msgpack_pack_array(&pk, 2);
             msgpack_pack_nil(&pk));
    S_REJECT(job_submit, WR_EPROTO, msgpack_pack_array(&pk, 1);
             msgpack_sbuffer_write(&sb_, "\xc1", 1));
    /* empty payloads: nothing, or one nil */
    S_REJECT(none, 0, );
    S_REJECT(none, 0, msgpack_pack_nil(&pk));
    S_REJECT(none, WR_EPROTO, msgpack_pack_nil(&pk); msgpack_pack_nil(&pk));
    S_REJECT(none, WR_EPROTO, msgpack_pack_array(&pk, 0));
    /* a nested struct of the wrong encoding */
    S_REJECT(task_state, WR_EPROTO, msgpack_pack_array(&pk, 6); wr_pack_str(&pk, "j");
             msgpack_pack_uint8(&pk, 0); msgpack_pack_uint8(&pk, 0); wr_pack_str(&pk, "running");
             wr_pack_str(&pk, ""); msgpack_pack_array(&pk, 0));
}

/* Lists are allocated by the decoder: a failure half way frees what it made (ASan checks). */
static void test_failed_decode_frees_its_lists(void **state)
{
    (void)state;
    wr_msg_node_row_t row = {
        .node = wr_strv("n"), .status = wr_strv("up"), .endpoint = wr_strv("")};
    wr_msg_actor_row_t actors[3] = {
        {.addr = wr_strv("n/a")}, {.addr = wr_strv("n/b")}, {.addr = wr_strv("n/c")}};
    row.actors = (wr_msg_actor_row_list_t){actors, 3};
    wr_msg_actors_reply_t reply = {{&row, 1}};
    msgpack_sbuffer sb;
    msgpack_sbuffer_init(&sb);
    assert_int_equal(wr_msg_actors_reply_pack(&reply, &sb), 0);
    wr_msg_actors_reply_t back;
    for (size_t n = 0; n < sb.size; n++) {
        assert_int_not_equal(wr_msg_actors_reply_decode(sb.data, n, &back), 0);
        assert_null(back.nodes.v);
    }
    assert_int_equal(wr_msg_actors_reply_decode(sb.data, sb.size, &back), 0);
    assert_int_equal(back.nodes.n, 1);
    assert_int_equal(back.nodes.v[0].actors.n, 3);
    assert_true(wr_strv_eq(back.nodes.v[0].actors.v[2].addr, "n/c"));
    wr_msg_actors_reply_release(&back);
    assert_null(back.nodes.v);
    wr_msg_actors_reply_release(&back); /* twice is fine */
    msgpack_sbuffer_destroy(&sb);
}

/* ---- encoding what the declaration does not allow ---- */

static void test_encoder_refuses_what_decoder_would(void **state)
{
    (void)state;
    msgpack_sbuffer sb;
    msgpack_sbuffer_init(&sb);
    msgpack_sbuffer_write(&sb, "keep", 4);
    wr_msg_job_ref_t ref;
    memset(ref.job, 'a', sizeof ref.job); /* no NUL within its capacity */
    assert_int_equal(wr_msg_job_ref_pack(&ref, &sb), WR_EINVAL);
    assert_int_equal(wr_msg_error_pack(&(wr_msg_error_t){-1, {"a\0b", 3}}, &sb), WR_EINVAL);
    assert_int_equal(wr_msg_job_submit_pack(
                         &(wr_msg_job_submit_t){.topology = {(const uint8_t *)"\x92\x01", 2}}, &sb),
                     WR_EINVAL); /* not one whole object */
    wr_msg_ckpt_blob_t blobs[WR_MSG_BLOBS_MAX + 1] = {{.name = "n"}};
    assert_int_equal(
        wr_msg_ckpt_ack_pack(&(wr_msg_ckpt_ack_t){.blobs = {blobs, WR_MSG_BLOBS_MAX + 1}}, &sb),
        WR_ETOOBIG);
    assert_int_equal(wr_msg_ckpt_ack_pack(&(wr_msg_ckpt_ack_t){.blobs = {NULL, 1}}, &sb),
                     WR_EINVAL);
    wr_msg_type_count_t twice[2] = {{wr_strv("ping"), 1}, {wr_strv("ping"), 2}};
    assert_int_equal(wr_msg_mailbox_reply_pack(&(wr_msg_mailbox_reply_t){.types = {twice, 2}}, &sb),
                     WR_EINVAL);
    /* the buffer is as it was */
    assert_int_equal(sb.size, 4);
    assert_memory_equal(sb.data, "keep", 4);
    /* a message of another type than its declaration is not made */
    assert_null(wr_msg_credit_new(WR_MSG_DATA_BATCH, NULL, NULL, &(wr_msg_credit_t){1, 1}));
    msgpack_sbuffer_destroy(&sb);
}

static void test_head_of_a_batch(void **state)
{
    (void)state;
    uint8_t buf[64];
    size_t len = 0;
    wr_msg_data_batch_t b = {UINT64_MAX, 0, 0, {NULL, 123456}};
    assert_int_equal(wr_proto_encode_head(&wr_msg_data_batch_decl, &b, buf, sizeof buf, &len), 0);
    assert_int_equal(len, 29);
    assert_memory_equal(buf + 24, "\xc6\x00\x01\xe2\x40", 5); /* bin32 of 123456 bytes */
    assert_int_equal(wr_proto_encode_head(&wr_msg_data_batch_decl, &b, buf, 28, &len), WR_ETOOBIG);
    assert_int_equal(
        wr_proto_encode_head(&wr_msg_credit_decl, &(wr_msg_credit_t){1, 1}, buf, sizeof buf, &len),
        WR_EINVAL);
}

static void test_payloads_as_json_with_field_names(void **state)
{
    (void)state;
    msgpack_sbuffer sb;
    msgpack_sbuffer_init(&sb);
    assert_int_equal(wr_msg_credit_pack(&(wr_msg_credit_t){7, 4}, &sb), 0);
    wr_strbuf_t js;
    wr_strbuf_init(&js);
    assert_int_equal(
        wr_msg_payload_json(WR_MSG_CREDIT, (const uint8_t *)sb.data, sb.size, SIZE_MAX, &js), 0);
    assert_string_equal(js.buf, "{\"channel\":7,\"granted\":4}");
    /* not what its type declares: as plain msgpack */
    wr_strbuf_reset(&js);
    assert_int_equal(
        wr_msg_payload_json(WR_MSG_CHANNEL_OPEN, (const uint8_t *)sb.data, sb.size, SIZE_MAX, &js),
        0);
    assert_string_equal(js.buf, "[7,4]");
    /* a local type has no declaration */
    wr_strbuf_reset(&js);
    assert_int_equal(
        wr_msg_payload_json(WR_MSG_LOCAL_FIRST, (const uint8_t *)sb.data, sb.size, SIZE_MAX, &js),
        0);
    assert_string_equal(js.buf, "[7,4]");
    /* nested lists of structs */
    wr_strbuf_reset(&js);
    sb.size = 0;
    wr_msg_place_t places[2] = {{"tm-a", "tcp://h:1"}, {"tm-b", ""}};
    wr_msg_task_deploy_t d = {
        .job = "j1", .topology = {(const uint8_t *)"\x80", 1}, .places = {places, 2}};
    assert_int_equal(wr_msg_task_deploy_pack(&d, &sb), 0);
    assert_int_equal(
        wr_msg_payload_json(WR_MSG_TASK_DEPLOY, (const uint8_t *)sb.data, sb.size, SIZE_MAX, &js),
        0);
    assert_non_null(
        strstr(js.buf, "\"topology\":{},\"places\":[{\"node\":\"tm-a\",\"endpoint\":\"tcp://h:1\"},"
                       "{\"node\":\"tm-b\",\"endpoint\":\"\"}],\"credits\":0"));
    wr_strbuf_release(&js);
    msgpack_sbuffer_destroy(&sb);
}

/* TASK_STATE's deterministic is an optional tail: a report without it is the report it was before
 * the field, byte for byte (an array of 6), so either end may be the older one; a deterministic
 * failure's has a 7th element, true, that decodes back. */
static void test_task_state_deterministic_is_an_optional_tail(void **state)
{
    (void)state;
    wr_msg_task_state_t r = {.job = "j1", .vertex = 1, .state = "failed", .error = "no"}, back;
    msgpack_sbuffer sb;
    msgpack_sbuffer_init(&sb);
    assert_int_equal(wr_msg_task_state_pack(&r, &sb), 0);
    assert_int_equal((uint8_t)sb.data[0], 0x96);
    assert_int_equal(wr_msg_task_state_decode(sb.data, sb.size, &back), 0);
    assert_false(back.deterministic);
    sb.size = 0;
    r.deterministic = true;
    assert_int_equal(wr_msg_task_state_pack(&r, &sb), 0);
    assert_int_equal((uint8_t)sb.data[0], 0x97);
    assert_int_equal((uint8_t)sb.data[sb.size - 1], 0xc3);
    assert_int_equal(wr_msg_task_state_decode(sb.data, sb.size, &back), 0);
    assert_true(back.deterministic);
    assert_string_equal(back.error, "no");
    wr_msg_task_state_release(&back);
    msgpack_sbuffer_destroy(&sb);
}

/* The seeds of fuzz_messages are payloads captured from the suite's own traffic (those of
 * TM_REGISTER, TM_REGISTERED and ACTORS_REPLY again since their forms changed; BARRIER's given a
 * next_seq by hand, JOB_REPLY's operators an output and a ship): each decodes with its type's
 * declaration and encodes back to the same bytes.
 */
static void test_captured_payloads_decode(void **state)
{
    (void)state;
    const char *src = getenv("WEIR_SRC");
    char dir[1024];
    snprintf(dir, sizeof dir, "%s/tests/fuzz/corpus/messages", src && *src ? src : ".");
    DIR *d = opendir(dir);
    if (!d) fail_msg("cannot open %s (set WEIR_SRC to the repository root)", dir);
    bool seen[256] = {false};
    int files = 0;
    for (struct dirent *e; (e = readdir(d));) {
        if (e->d_name[0] == '.') continue;
        char path[1400];
        snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
        FILE *f = fopen(path, "rb");
        assert_non_null(f);
        static uint8_t buf[1 << 16];
        size_t n = fread(buf, 1, sizeof buf, f);
        fclose(f);
        assert_true(n >= 1);
        const wr_proto_struct_t *decl = wr_msg_decl(buf[0]);
        if (!decl) fail_msg("%s: type %u is not in the table", e->d_name, buf[0]);
        void *p = calloc(1, decl->size), *q = calloc(1, decl->size);
        assert_true(p && q);
        if (wr_proto_decode(decl, buf + 1, n - 1, p)) fail_msg("%s does not decode", e->d_name);
        msgpack_sbuffer sb;
        msgpack_sbuffer_init(&sb);
        assert_int_equal(wr_proto_pack(decl, p, &sb), 0);
        /* the very bytes (but a nil for an empty payload, which a test sent): the codec writes
         * what the hand-packing ends write */
        bool nil = decl->nfields == 0 && n == 2 && buf[1] == 0xc0;
        if (!nil && (sb.size != n - 1 || (sb.size && memcmp(sb.data, buf + 1, sb.size))))
            fail_msg("%s encodes to other bytes", e->d_name);
        assert_int_equal(wr_proto_decode(decl, sb.data, sb.size, q), 0);
        assert_true(s_same(decl, p, q));
        wr_proto_release(decl, p);
        wr_proto_release(decl, q);
        msgpack_sbuffer_destroy(&sb);
        free(p);
        free(q);
        seen[buf[0]] = true;
        files++;
    }
    closedir(d);
    for (size_t i = 0; i < S_NTYPES; i++)
        if (!seen[s_types[i].type]) fail_msg("no seed of %s", s_types[i].name);
    print_message("  %d captured payloads decode\n", files);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_every_type_has_one_declaration),
        cmocka_unit_test(test_every_type_round_trips),
        cmocka_unit_test(test_task_state_deterministic_is_an_optional_tail),
        cmocka_unit_test(test_unpack_checks_the_type),
        cmocka_unit_test(test_the_wire_is_the_old_wire),
        cmocka_unit_test(test_map_fields_and_options),
        cmocka_unit_test(test_malformed_input_is_refused),
        cmocka_unit_test(test_failed_decode_frees_its_lists),
        cmocka_unit_test(test_encoder_refuses_what_decoder_would),
        cmocka_unit_test(test_head_of_a_batch),
        cmocka_unit_test(test_payloads_as_json_with_field_names),
        cmocka_unit_test(test_captured_payloads_decode),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
