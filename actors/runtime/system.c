/* The system actor "<node>/node": answers inspection requests about its own node and keeps the
 * per-actor rate estimates fresh. */
#include "actors/runtime/inspect.h"
#include "actors/runtime/node_internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bus/base/clock.h"
#include "bus/base/error.h"
#include "bus/base/log.h"
#include "bus/base/mp.h"
#include "bus/msgtypes.h"

#define S_TICK (WR_MSG_LOCAL_FIRST + 1)
#define S_RATE_MS 1000

static void s_kv_str(msgpack_packer *pk, const char *k, const char *v)
{
    wr_pack_str(pk, k);
    wr_pack_str(pk, v);
}

static void s_kv_u64(msgpack_packer *pk, const char *k, uint64_t v)
{
    wr_pack_str(pk, k);
    msgpack_pack_uint64(pk, v);
}

static void s_kv_i64(msgpack_packer *pk, const char *k, int64_t v)
{
    wr_pack_str(pk, k);
    msgpack_pack_int64(pk, v);
}

static void s_kv_f64(msgpack_packer *pk, const char *k, double v)
{
    wr_pack_str(pk, k);
    msgpack_pack_double(pk, v);
}

static void s_pack_transport(msgpack_packer *pk, const wr_transport_stats_t *s)
{
    s_kv_u64(pk, "frames_in", s->frames_in);
    s_kv_u64(pk, "malformed", s->malformed);
    s_kv_u64(pk, "bad_frames", s->bad_frames);
    s_kv_u64(pk, "bad_envelope", s->bad_envelope);
    s_kv_u64(pk, "bad_version", s->bad_version);
    s_kv_u64(pk, "bad_type", s->bad_type);
    s_kv_u64(pk, "oversized", s->oversized);
    s_kv_u64(pk, "spoofed", s->spoofed);
}
#define S_TRANSPORT_KEYS 8

int wr_inspect_pack_node(wr_node_t *n, msgpack_packer *pk)
{
    size_t cap = wr_node_actor_count(n) + 16;
    wr_actor_info_t *rows = malloc(cap * sizeof *rows);
    if (!rows) return WR_ENOMEM;
    size_t k = wr_node_actors(n, rows, cap);
    if (k > cap) k = cap;
    wr_transport_stats_t ts;
    wr_node_transport_stats(n, &ts);
    msgpack_pack_map(pk, 6 + S_TRANSPORT_KEYS);
    s_kv_str(pk, "node", wr_node_id(n));
    s_kv_str(pk, "status", "up");
    s_kv_str(pk, "endpoint", wr_node_endpoint(n));
    s_kv_u64(pk, "incarnation", wr_node_incarnation(n));
    s_kv_i64(pk, "last_heard_ms", 0);
    s_pack_transport(pk, &ts);
    wr_pack_str(pk, "actors");
    msgpack_pack_array(pk, (uint32_t)k);
    for (size_t i = 0; i < k; i++) {
        wr_actor_info_t *r = &rows[i];
        msgpack_pack_map(pk, 11);
        s_kv_str(pk, "addr", r->addr);
        s_kv_str(pk, "supervisor", r->supervisor);
        s_kv_u64(pk, "depth", r->depth);
        s_kv_u64(pk, "capacity", r->capacity);
        s_kv_u64(pk, "high_water", r->high_water);
        s_kv_u64(pk, "enqueued", r->enqueued);
        s_kv_u64(pk, "dequeued", r->dequeued);
        s_kv_u64(pk, "rejected", r->rejected);
        s_kv_u64(pk, "restarts", r->restarts);
        s_kv_f64(pk, "rate", r->rate);
        s_kv_i64(pk, "oldest_age_ms", r->oldest_age_ns / 1000000);
    }
    free(rows);
    return 0;
}

int wr_inspect_pack_remote(msgpack_packer *pk, const char *node_id, const char *status,
                           const char *endpoint, int64_t last_heard_ms)
{
    wr_transport_stats_t none = {0};
    msgpack_pack_map(pk, 6 + S_TRANSPORT_KEYS);
    s_kv_str(pk, "node", node_id);
    s_kv_str(pk, "status", status);
    s_kv_str(pk, "endpoint", endpoint);
    s_kv_u64(pk, "incarnation", 0);
    s_kv_i64(pk, "last_heard_ms", last_heard_ms);
    s_pack_transport(pk, &none);
    wr_pack_str(pk, "actors");
    msgpack_pack_array(pk, 0);
    return 0;
}

int wr_inspect_pack_mailbox(wr_node_t *n, const char *path, uint32_t peek, msgpack_packer *pk)
{
    wr_actor_t *a = wr_node_lookup(n, path);
    if (!a) return WR_ENOACTOR;
    wr_mailbox_stats_t st;
    wr_mailbox_stats(a->mailbox, &st);
    if (peek > WR_MAILBOX_RECENT) peek = WR_MAILBOX_RECENT;
    wr_mailbox_recent_t *recent = peek ? malloc(peek * sizeof *recent) : NULL;
    size_t nrecent = recent ? wr_mailbox_recent(a->mailbox, recent, peek) : 0;
    int64_t now = wr_coarse_ns();

    msgpack_pack_map(pk, 14);
    s_kv_str(pk, "addr", a->addr);
    s_kv_u64(pk, "capacity", st.capacity);
    s_kv_u64(pk, "depth", st.depth);
    s_kv_u64(pk, "high_water", st.high_water);
    s_kv_u64(pk, "enqueued", st.enqueued);
    s_kv_u64(pk, "dequeued", st.dequeued);
    s_kv_u64(pk, "rejected", st.rejected);
    s_kv_u64(pk, "restarts", atomic_load(&a->restarts));
    s_kv_f64(pk, "rate", (double)atomic_load(&a->rate_milli) / 1000.0);
    s_kv_i64(pk, "oldest_age_ms", st.oldest_age_ns / 1000000);
    s_kv_f64(pk, "processing_ms", (double)st.processed_ns / 1e6);

    uint32_t ntypes = 0;
    for (int i = 0; i < WR_MAILBOX_TYPE_SLOTS; i++) ntypes += st.types[i].count > 0;
    wr_pack_str(pk, "types");
    msgpack_pack_map(pk, ntypes + (st.other_types > 0));
    for (int i = 0; i < WR_MAILBOX_TYPE_SLOTS; i++) {
        if (!st.types[i].count) continue;
        const char *name = wr_msg_type_name(st.types[i].type);
        char buf[32];
        if (!name) {
            snprintf(buf, sizeof buf, "type-%u", st.types[i].type);
            name = buf;
        }
        s_kv_u64(pk, name, st.types[i].count);
    }
    if (st.other_types) s_kv_u64(pk, "other", st.other_types);

    wr_pack_str(pk, "processing_us"); /* [upper bound in us, count] per non-empty bucket */
    uint32_t nb = 0;
    for (int i = 0; i < WR_MAILBOX_HIST_BUCKETS; i++) nb += st.hist[i] > 0;
    msgpack_pack_array(pk, nb);
    for (int i = 0; i < WR_MAILBOX_HIST_BUCKETS; i++) {
        if (!st.hist[i]) continue;
        msgpack_pack_array(pk, 2);
        msgpack_pack_uint64(pk, 2ull << i);
        msgpack_pack_uint64(pk, st.hist[i]);
    }

    wr_pack_str(pk, "recent");
    msgpack_pack_array(pk, (uint32_t)nrecent);
    for (size_t i = 0; i < nrecent; i++) {
        wr_mailbox_recent_t *r = &recent[i];
        const char *name = wr_msg_type_name(r->type);
        msgpack_pack_map(pk, 6);
        s_kv_str(pk, "type", name ? name : "unknown");
        s_kv_str(pk, "from", r->from);
        s_kv_u64(pk, "size", r->size);
        s_kv_i64(pk, "age_ms", (now - r->deq_ns) / 1000000);
        s_kv_i64(pk, "waited_ms", (r->deq_ns - r->enq_ns) / 1000000);
        /* a whole, valid sample is embedded as itself; anything else as truncated bytes */
        wr_mp_reader_t rd;
        wr_mp_reader_init(&rd, r->sample, r->sample_len);
        bool whole = r->sample_len == r->size;
        if (!r->sampled) {
            wr_pack_str(pk, "payload_not_sampled");
            msgpack_pack_true(pk);
        } else if (whole && r->size == 0) {
            wr_pack_str(pk, "payload");
            msgpack_pack_nil(pk);
        } else if (whole && wr_mp_skip(&rd) == 0 && wr_mp_remaining(&rd) == 0) {
            wr_pack_str(pk, "payload");
            msgpack_sbuffer_write(pk->data, (const char *)r->sample, r->sample_len);
        } else {
            wr_pack_str(pk, "payload_truncated");
            wr_pack_bin(pk, r->sample, r->sample_len);
        }
    }
    free(recent);
    wr_actor_unref(&a);
    return 0;
}

/* ---- the actor ---- */

static void s_update_rates(wr_node_t *n)
{
    int64_t now = wr_now_ns();
    pthread_rwlock_rdlock(&n->reg_lock);
    for (size_t i = 0; i < n->reg_cap; i++) {
        wr_actor_t *a = n->reg[i];
        if (!a) continue;
        wr_mailbox_stats_t st;
        wr_mailbox_stats(a->mailbox, &st);
        if (a->rate_ns) {
            double secs = (double)(now - a->rate_ns) / 1e9;
            double rate = secs > 0 ? (double)(st.dequeued - a->rate_deq) / secs : 0;
            atomic_store(&a->rate_milli, (uint64_t)(rate * 1000.0));
        }
        a->rate_deq = st.dequeued; /* only this actor writes these two */
        a->rate_ns = now;
    }
    pthread_rwlock_unlock(&n->reg_lock);
}

static int s_reply_packed(wr_actor_t *self, const wr_msg_t *req, uint16_t type,
                          msgpack_sbuffer *sb)
{
    int rc = wr_reply(self, req, type, sb->data, sb->size);
    if (rc) wr_warn("%s: reply to %s failed: %s", wr_actor_addr(self), req->from, wr_strerror(rc));
    return 0; /* a failed reply is the asker's problem, not a reason to fail this actor */
}

static int s_on_start(wr_actor_t *self, void *state)
{
    (void)state;
    return wr_timer_every(self, S_RATE_MS, S_TICK, NULL);
}

static int s_on_message(wr_actor_t *self, void *state, wr_msg_t **msgp)
{
    (void)state;
    wr_node_t *n = wr_actor_node(self);
    wr_msg_t *m = *msgp;
    msgpack_sbuffer sb;
    msgpack_sbuffer_init(&sb);
    msgpack_packer pk;
    msgpack_packer_init(&pk, &sb, msgpack_sbuffer_write);
    switch (m->type) {
    case S_TICK:
        s_update_rates(n);
        break;
    case WR_MSG_ACTORS_REQ:
        msgpack_pack_array(&pk, 1);
        if (wr_inspect_pack_node(n, &pk) == 0) s_reply_packed(self, m, WR_MSG_ACTORS_REPLY, &sb);
        else wr__reply_error(n, m, WR_ENOMEM, "out of memory");
        break;
    case WR_MSG_MAILBOX_REQ: {
        wr_mp_reader_t r;
        wr_mp_reader_init(&r, m->data, m->len);
        uint32_t cnt = 0, peek = 0;
        uint64_t p64 = 0;
        char addr[WR_ADDR_MAX], node[WR_NODE_MAX];
        wr_mp_read_array(&r, &cnt);
        wr_mp_read_str_copy(&r, addr, sizeof addr);
        wr_mp_read_uint(&r, &p64);
        const char *path = r.err ? NULL : wr_addr_split(addr, node);
        if (cnt != 2 || !path) {
            wr__reply_error(n, m, WR_EINVAL, "mailbox request: expected [\"node/path\", peek]");
            break;
        }
        peek = p64 > WR_MAILBOX_RECENT ? WR_MAILBOX_RECENT : (uint32_t)p64;
        if (strcmp(node, wr_node_id(n))) {
            wr__reply_error(n, m, WR_ENOACTOR, "that actor is on another node");
        } else if (wr_inspect_pack_mailbox(n, path, peek, &pk) == 0) {
            s_reply_packed(self, m, WR_MSG_MAILBOX_REPLY, &sb);
        } else {
            char text[WR_ADDR_MAX + 32];
            snprintf(text, sizeof text, "no actor at %s", addr);
            wr__reply_error(n, m, WR_ENOACTOR, text);
        }
        break;
    }
    case WR_MSG_PING:
        wr_reply(self, m, WR_MSG_PONG, m->data, m->len);
        break;
    default:
        wr_debug("%s: ignoring %s from %s", wr_actor_addr(self), wr_msg_type_label(m->type),
                 m->from);
        break;
    }
    msgpack_sbuffer_destroy(&sb);
    return 0;
}

static const wr_behaviour_t s_behaviour = {.on_start = s_on_start, .on_message = s_on_message};

int wr__system_spawn(wr_node_t *n)
{
    wr_spawn_opts_t o = {.path = "node", .behaviour = &s_behaviour};
    return wr_actor_spawn(n, &o, &n->system);
}
