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
#include "bus/messages.h"

#define S_TICK    (WR_MSG_LOCAL_FIRST + 1)
#define S_RATE_MS 1000

/* A node row: the transport's counters of rejected frames, and its actors. */
static wr_msg_node_row_t s_row(const char *node_id, const char *status, const char *endpoint,
                               uint64_t incarnation, int64_t last_heard_ms,
                               const wr_transport_stats_t *s, wr_msg_actor_row_list_t actors)
{
    return (wr_msg_node_row_t){.node = wr_strv(node_id),
                               .status = wr_strv(status),
                               .endpoint = wr_strv(endpoint),
                               .incarnation = incarnation,
                               .last_heard_ms = last_heard_ms,
                               .frames_in = s->frames_in,
                               .malformed = s->malformed,
                               .bad_frames = s->bad_frames,
                               .bad_envelope = s->bad_envelope,
                               .bad_version = s->bad_version,
                               .bad_type = s->bad_type,
                               .oversized = s->oversized,
                               .spoofed = s->spoofed,
                               .refused = s->refused,
                               .unknown_key = s->unknown_key,
                               .impostors = s->impostors,
                               .overflowed = s->overflowed,
                               .cut_while_sending = s->cut_while_sending,
                               .actors = actors};
}

/* This node's row with status "up" into *row, its actors in *rows (views into *info); the caller
 * frees *info and *rows, also when this fails (WR_ENOMEM). */
static int s_node_row(wr_node_t *n, wr_msg_node_row_t *row, wr_actor_info_t **info,
                      wr_msg_actor_row_t **rows)
{
    size_t cap = wr_node_actor_count(n) + 16;
    *info = malloc(cap * sizeof **info);
    *rows = malloc(cap * sizeof **rows);
    if (!*info || !*rows) return WR_ENOMEM;
    size_t k = wr_node_actors(n, *info, cap);
    if (k > cap) k = cap;
    for (size_t i = 0; i < k; i++) {
        const wr_actor_info_t *r = &(*info)[i];
        (*rows)[i] = (wr_msg_actor_row_t){.addr = wr_strv(r->addr),
                                          .supervisor = wr_strv(r->supervisor),
                                          .depth = r->depth,
                                          .capacity = r->capacity,
                                          .high_water = r->high_water,
                                          .enqueued = r->enqueued,
                                          .dequeued = r->dequeued,
                                          .rejected = r->rejected,
                                          .restarts = r->restarts,
                                          .rate = r->rate,
                                          .oldest_age_ms = r->oldest_age_ns / 1000000};
    }
    wr_transport_stats_t ts;
    wr_node_transport_stats(n, &ts);
    *row = s_row(wr_node_id(n), "up", wr_node_endpoint(n), wr_node_incarnation(n), 0, &ts,
                 (wr_msg_actor_row_list_t){*rows, (uint32_t)k});
    return 0;
}

int wr_inspect_pack_node(wr_node_t *n, msgpack_packer *pk)
{
    wr_actor_info_t *info = NULL;
    wr_msg_actor_row_t *rows = NULL;
    wr_msg_node_row_t row;
    int rc = s_node_row(n, &row, &info, &rows);
    if (!rc) rc = wr_proto_encode(&wr_msg_node_row_decl, &row, pk);
    free(info);
    free(rows);
    return rc;
}

/* ACTORS_REPLY of this node alone. */
static int s_pack_actors(wr_node_t *n, msgpack_sbuffer *sb)
{
    wr_actor_info_t *info = NULL;
    wr_msg_actor_row_t *rows = NULL;
    wr_msg_node_row_t row;
    int rc = s_node_row(n, &row, &info, &rows);
    if (!rc) rc = wr_msg_actors_reply_pack(&(wr_msg_actors_reply_t){{&row, 1}}, sb);
    free(info);
    free(rows);
    return rc;
}

/* The names of message types, for a mailbox's counts: the table's, or "type-N". */
typedef struct {
    char buf[WR_MAILBOX_TYPE_SLOTS][16];
} s_type_names_t;

static const char *s_type_name(s_type_names_t *names, int slot, uint16_t type)
{
    const char *name = wr_msg_type_name(type);
    if (name) return name;
    snprintf(names->buf[slot], sizeof names->buf[slot], "type-%u", type);
    return names->buf[slot];
}

/* One recent message: a whole, valid sample is embedded as itself; anything else as its first
 * bytes (or not at all). */
static wr_msg_recent_msg_t s_recent(const wr_mailbox_recent_t *r, int64_t now)
{
    static const uint8_t nil = 0xc0;
    const char *name = wr_msg_type_name(r->type);
    wr_msg_recent_msg_t m = {.type = wr_strv(name ? name : "unknown"),
                             .from = wr_strv(r->from),
                             .size = r->size,
                             .age_ms = (now - r->deq_ns) / 1000000,
                             .waited_ms = (r->deq_ns - r->enq_ns) / 1000000};
    bool whole = r->sample_len == r->size;
    if (!r->sampled)
        m.payload_not_sampled = true;
    else if (whole && r->size == 0)
        m.payload = (wr_bytes_t){&nil, 1};
    else if (whole && wr_proto_one_object(r->sample, r->sample_len))
        m.payload = (wr_bytes_t){r->sample, r->sample_len};
    else
        m.payload_truncated = (wr_bytes_t){r->sample, r->sample_len};
    return m;
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

    wr_msg_type_count_t types[WR_MAILBOX_TYPE_SLOTS + 1];
    s_type_names_t names;
    uint32_t ntypes = 0;
    for (int i = 0; i < WR_MAILBOX_TYPE_SLOTS; i++)
        if (st.types[i].count)
            types[ntypes++] = (wr_msg_type_count_t){
                wr_strv(s_type_name(&names, i, st.types[i].type)), st.types[i].count};
    if (st.other_types) types[ntypes++] = (wr_msg_type_count_t){wr_strv("other"), st.other_types};
    wr_msg_hist_bucket_t hist[WR_MAILBOX_HIST_BUCKETS]; /* [upper bound in us, count] */
    uint32_t nb = 0;
    for (int i = 0; i < WR_MAILBOX_HIST_BUCKETS; i++)
        if (st.hist[i]) hist[nb++] = (wr_msg_hist_bucket_t){2ull << i, st.hist[i]};
    wr_msg_recent_msg_t rows[WR_MAILBOX_RECENT];
    for (size_t i = 0; i < nrecent; i++)
        rows[i] = s_recent(&recent[i], now);

    wr_msg_mailbox_reply_t reply = {.addr = wr_strv(a->addr),
                                    .capacity = st.capacity,
                                    .depth = st.depth,
                                    .high_water = st.high_water,
                                    .enqueued = st.enqueued,
                                    .dequeued = st.dequeued,
                                    .rejected = st.rejected,
                                    .restarts = atomic_load(&a->restarts),
                                    .rate = (double)atomic_load(&a->rate_milli) / 1000.0,
                                    .oldest_age_ms = st.oldest_age_ns / 1000000,
                                    .processing_ms = (double)st.processed_ns / 1e6,
                                    .types = {types, ntypes},
                                    .processing_us = {hist, nb},
                                    .recent = {rows, (uint32_t)nrecent}};
    int rc = wr_proto_encode(&wr_msg_mailbox_reply_decl, &reply, pk);
    free(recent);
    wr_actor_unref(&a);
    return rc;
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

static int s_reply_packed(wr_actor_t *self, const wr_msg_t *req, uint16_t type, msgpack_sbuffer *sb)
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
    case WR_MSG_ACTORS_REQ: {
        wr_msg_none_t none;
        if (wr_msg_none_unpack(m, &none))
            wr__reply_error(n, m, WR_EINVAL, "actors request: expected no payload");
        else if (s_pack_actors(n, &sb) == 0)
            s_reply_packed(self, m, WR_MSG_ACTORS_REPLY, &sb);
        else
            wr__reply_error(n, m, WR_ENOMEM, "out of memory");
        break;
    }
    case WR_MSG_MAILBOX_REQ: {
        wr_msg_mailbox_req_t req;
        char node[WR_NODE_MAX];
        const char *path =
            wr_msg_mailbox_req_unpack(m, &req) ? NULL : wr_addr_split(req.addr, node);
        if (!path) {
            wr__reply_error(n, m, WR_EINVAL, "mailbox request: expected [\"node/path\", peek]");
            break;
        }
        uint32_t peek = req.peek > WR_MAILBOX_RECENT ? WR_MAILBOX_RECENT : req.peek;
        if (strcmp(node, wr_node_id(n))) {
            wr__reply_error(n, m, WR_ENOACTOR, "that actor is on another node");
        } else if (wr_inspect_pack_mailbox(n, path, peek, &pk) == 0) {
            s_reply_packed(self, m, WR_MSG_MAILBOX_REPLY, &sb);
        } else {
            char text[WR_ADDR_MAX + 32];
            snprintf(text, sizeof text, "no actor at %s", req.addr);
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
