/* The JobManager's inspection answers (jm_inspect.h): each request gathers replies from the
 * nodes it asked. */
#include <msgpack.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "actors/jobmanager/jm_inspect.h"
#include "actors/runtime/inspect.h"
#include "actors/runtime/node.h"
#include "bus/base/clock.h"
#include "bus/base/error.h"
#include "bus/base/log.h"
#include "bus/base/mp.h"
#include "bus/msgtypes.h"

#define S_INSPECT_TIMEOUT_MS 1500 /* how long ACTORS_REQ waits for each TaskManager */

/* One client request being answered from several nodes' replies. */
typedef struct {
    uint16_t type; /* ACTORS_REQ or MAILBOX_REQ */
    char client[WR_ADDR_MAX];
    uint64_t client_corr;
    size_t expected, got;
    uint64_t *corrs; /* our asks, one per node */
    char (*nodes)[WR_NODE_MAX];
    msgpack_sbuffer *rows; /* a packed row per node (empty: no answer yet) */
} s_gather_t;

struct wr__inspect {
    s_gather_t *v;
    size_t n, cap;
};

static void s_gather_release(s_gather_t *g)
{
    for (size_t i = 0; i < g->expected; i++)
        msgpack_sbuffer_destroy(&g->rows[i]);
    free(g->rows);
    free(g->corrs);
    free(g->nodes);
}

wr__inspect_t *wr__inspect_new(void)
{
    return calloc(1, sizeof(wr__inspect_t));
}

void wr__inspect_destroy(wr__inspect_t **inp)
{
    wr__inspect_t *in = *inp;
    if (!in) return;
    for (size_t i = 0; i < in->n; i++)
        s_gather_release(&in->v[i]);
    free(in->v);
    free(in);
    *inp = NULL;
}

static s_gather_t *s_gather_new(wr__inspect_t *in, const wr_msg_t *req, size_t expected)
{
    if (in->n == in->cap) {
        size_t ncap = in->cap ? in->cap * 2 : 4;
        s_gather_t *g = realloc(in->v, ncap * sizeof *g);
        if (!g) return NULL;
        in->v = g;
        in->cap = ncap;
    }
    s_gather_t *g = &in->v[in->n];
    memset(g, 0, sizeof *g);
    g->type = req->type;
    memcpy(g->client, req->from, sizeof g->client);
    g->client_corr = req->corr;
    g->expected = expected;
    g->corrs = calloc(expected + 1, sizeof *g->corrs);
    g->nodes = calloc(expected + 1, sizeof *g->nodes);
    g->rows = calloc(expected + 1, sizeof *g->rows);
    if (!g->corrs || !g->nodes || !g->rows) {
        free(g->corrs);
        free(g->nodes);
        free(g->rows);
        return NULL;
    }
    for (size_t i = 0; i < expected; i++)
        msgpack_sbuffer_init(&g->rows[i]);
    in->n++;
    return g;
}

static void s_gather_remove(wr__inspect_t *in, s_gather_t *g)
{
    s_gather_release(g);
    *g = in->v[--in->n];
}

static void s_send_to_client(wr_actor_t *self, const s_gather_t *g, uint16_t type, const void *data,
                             size_t len)
{
    int rc = wr_send_corr(self, g->client, type, g->client_corr, data, len);
    if (rc) wr_warn("jobmanager: cannot answer %s: %s", g->client, wr_strerror(rc));
}

static bool s_gather_asked(const s_gather_t *g, const char *node)
{
    for (size_t i = 0; i < g->expected; i++)
        if (!strcmp(g->nodes[i], node)) return true;
    return false;
}

/* A TaskManager's row (a map) with its slots added: "slots" and "slots_free". */
static void s_pack_tm_row(msgpack_packer *pk, msgpack_sbuffer *sb, const msgpack_sbuffer *row,
                          const wr__tm_info_t *tm)
{
    wr_mp_reader_t r;
    wr_mp_reader_init(&r, (const uint8_t *)row->data, row->size);
    uint32_t n = 0;
    if (!tm || wr_mp_read_map(&r, &n) || n > UINT32_MAX - 2) {
        msgpack_sbuffer_write(sb, row->data, row->size);
        return;
    }
    msgpack_pack_map(pk, n + 2);
    msgpack_sbuffer_write(sb, (const char *)r.p, wr_mp_remaining(&r));
    wr_pack_str(pk, "slots");
    msgpack_pack_uint32(pk, tm->slots);
    wr_pack_str(pk, "slots_free");
    msgpack_pack_uint32(pk, tm->in_use < tm->slots ? tm->slots - tm->in_use : 0);
}

/* Answers an ACTORS_REQ once every TaskManager answered or timed out. */
static void s_actors_finish(wr__inspect_t *in, wr_actor_t *self, const wr__tms_t *tms,
                            s_gather_t *g)
{
    msgpack_sbuffer sb;
    msgpack_sbuffer_init(&sb);
    msgpack_packer pk;
    msgpack_packer_init(&pk, &sb, msgpack_sbuffer_write);
    size_t dead = 0, ntms = wr__tms_count(tms);
    wr__tm_info_t tm;
    for (size_t i = 0; i < ntms; i++) {
        wr__tms_info(tms, i, &tm);
        dead += !tm.alive && !s_gather_asked(g, tm.id);
    }
    msgpack_pack_array(&pk, (uint32_t)(1 + g->expected + dead));
    wr_inspect_pack_node(wr_actor_node(self), &pk);
    int64_t now = wr_now_ns();
    for (size_t i = 0; i < g->expected; i++) {
        bool known = wr__tms_find(tms, g->nodes[i], &tm);
        if (g->rows[i].size)
            s_pack_tm_row(&pk, &sb, &g->rows[i], known ? &tm : NULL);
        else if (known && !tm.alive) /* died while we asked: listed once, as dead */
            wr_inspect_pack_remote(&pk, tm.id, "dead", tm.endpoint, (now - tm.since_ns) / 1000000);
        else
            wr_inspect_pack_remote(&pk, g->nodes[i], "unresponsive", known ? tm.endpoint : "", -1);
    }
    for (size_t i = 0; i < ntms; i++) {
        wr__tms_info(tms, i, &tm);
        if (tm.alive || s_gather_asked(g, tm.id)) continue;
        wr_inspect_pack_remote(&pk, tm.id, "dead", tm.endpoint, (now - tm.since_ns) / 1000000);
    }
    s_send_to_client(self, g, WR_MSG_ACTORS_REPLY, sb.data, sb.size);
    msgpack_sbuffer_destroy(&sb);
    s_gather_remove(in, g);
}

int wr__inspect_on_actors(wr__inspect_t *in, wr_actor_t *self, const wr__tms_t *tms,
                          const wr_msg_t *m)
{
    size_t alive = 0, ntms = wr__tms_count(tms);
    wr__tm_info_t tm;
    for (size_t i = 0; i < ntms; i++) {
        wr__tms_info(tms, i, &tm);
        alive += tm.alive;
    }
    s_gather_t *g = s_gather_new(in, m, alive);
    if (!g) return WR_ENOMEM;
    for (size_t i = 0, k = 0; i < ntms; i++) {
        wr__tms_info(tms, i, &tm);
        if (!tm.alive) continue;
        char to[WR_ADDR_MAX];
        snprintf(to, sizeof to, "%s/node", tm.id);
        snprintf(g->nodes[k], WR_NODE_MAX, "%s", tm.id);
        if (wr_ask(self, to, WR_MSG_ACTORS_REQ, NULL, 0, S_INSPECT_TIMEOUT_MS, &g->corrs[k]))
            g->got++; /* could not even ask: it shows as unresponsive */
        k++;
    }
    if (g->got == g->expected) s_actors_finish(in, self, tms, g);
    return 0;
}

int wr__inspect_on_mailbox(wr__inspect_t *in, wr_actor_t *self, const wr__tms_t *tms,
                           const wr_msg_t *m)
{
    wr_node_t *node = wr_actor_node(self);
    wr_mp_reader_t r;
    wr_mp_reader_init(&r, m->data, m->len);
    uint32_t n = 0;
    uint64_t peek = 0;
    char addr[WR_ADDR_MAX], target[WR_NODE_MAX];
    wr_mp_read_array(&r, &n);
    wr_mp_read_str_copy(&r, addr, sizeof addr);
    wr_mp_read_uint(&r, &peek);
    if (r.err || n != 2 || !wr_addr_split(addr, target)) {
        wr_reply_error(self, m, WR_EINVAL, "expected an actor address node/path");
        return 0;
    }
    char to[WR_ADDR_MAX];
    snprintf(to, sizeof to, "%s/node", target);
    wr__tm_info_t tm;
    if (strcmp(target, wr_node_id(node))) {
        bool known = wr__tms_find(tms, target, &tm);
        if (!known || !tm.alive) {
            char text[128];
            snprintf(text, sizeof text, "node '%s' is %s", target,
                     known ? "dead" : "not in this cluster (see `weir actors`)");
            wr_reply_error(self, m, WR_ENOACTOR, text);
            return 0;
        }
    }
    /* ask the hosting node's system actor (ours too: one path for both) and relay its answer */
    s_gather_t *g = s_gather_new(in, m, 1);
    if (!g) return WR_ENOMEM;
    memcpy(g->nodes[0], target, WR_NODE_MAX);
    int rc =
        wr_ask(self, to, WR_MSG_MAILBOX_REQ, m->data, m->len, S_INSPECT_TIMEOUT_MS, &g->corrs[0]);
    if (rc) {
        wr_reply_error(self, m, rc, "cannot reach the node hosting that actor");
        s_gather_remove(in, g);
    }
    return 0;
}

bool wr__inspect_on_answer(wr__inspect_t *in, wr_actor_t *self, const wr__tms_t *tms,
                           const wr_msg_t *m)
{
    for (size_t gi = 0; gi < in->n; gi++) {
        s_gather_t *g = &in->v[gi];
        for (size_t i = 0; i < g->expected; i++) {
            if (g->corrs[i] != m->corr) continue;
            g->got++;
            if (g->type == WR_MSG_MAILBOX_REQ) {
                if (m->type == WR_MSG_TIMEOUT) {
                    char text[WR_NODE_MAX + 64];
                    snprintf(text, sizeof text, "no answer from node %s within %d ms", g->nodes[i],
                             S_INSPECT_TIMEOUT_MS);
                    wr_msg_t *e = wr_msg_error(NULL, NULL, g->client_corr, WR_ETIMEDOUT, text);
                    if (e && wr_send_msg(self, g->client, &e))
                        wr_warn("jobmanager: cannot answer %s", g->client);
                    wr_msg_destroy(&e);
                } else {
                    s_send_to_client(self, g, m->type, m->data, m->len);
                }
                s_gather_remove(in, g);
                return true;
            }
            /* ACTORS_REPLY from a TaskManager: an array holding its one node row */
            if (m->type == WR_MSG_ACTORS_REPLY) {
                wr_mp_reader_t r;
                wr_mp_reader_init(&r, m->data, m->len);
                uint32_t n = 0;
                if (wr_mp_read_array(&r, &n) == 0 && n == 1) {
                    const uint8_t *row = r.p;
                    if (wr_mp_skip(&r) == 0 && wr_mp_remaining(&r) == 0)
                        msgpack_sbuffer_write(&g->rows[i], (const char *)row, (size_t)(r.p - row));
                }
            }
            if (g->got == g->expected) s_actors_finish(in, self, tms, g);
            return true;
        }
    }
    return false;
}
