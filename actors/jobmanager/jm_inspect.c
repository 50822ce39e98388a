/* The JobManager's inspection answers (jm_inspect.h): each request gathers replies from the
 * nodes it asked. */
#include <msgpack.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "actors/jobmanager/jm_inspect.h"
#include "actors/jobmanager/jm_job_ref.h"
#include "actors/runtime/inspect.h"
#include "actors/runtime/node.h"
#include "bus/base/clock.h"
#include "bus/base/error.h"
#include "bus/base/log.h"
#include "bus/messages.h"

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
    bool ha;               /* ACTORS_REQ in an HA cluster: rows for the leader and standbys */
    wr_ha_addr_t *standbys;
    size_t nstandbys;
} s_gather_t;

struct wr__inspect {
    s_gather_t *v;
    size_t n, cap;
    wr_logrl_t log; /* answers that cannot be sent (a client that does not read: bus/base/log.h) */
};

static void s_gather_release(s_gather_t *g)
{
    for (size_t i = 0; i < g->expected; i++)
        msgpack_sbuffer_destroy(&g->rows[i]);
    free(g->rows);
    free(g->corrs);
    free(g->nodes);
    free(g->standbys);
}

wr__inspect_t *wr__inspect_new(void)
{
    wr__inspect_t *in = calloc(1, sizeof *in);
    if (in) wr_logrl_init(&in->log, 0);
    return in;
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

static void s_send_to_client(wr__inspect_t *in, wr_actor_t *self, const s_gather_t *g,
                             uint16_t type, const void *data, size_t len)
{
    int rc = wr_send_corr(self, g->client, type, g->client_corr, data, len);
    if (rc)
        wr_warn_limited(&in->log, "jobmanager: cannot answer %s: %s", g->client, wr_strerror(rc));
}

static bool s_gather_asked(const s_gather_t *g, const char *node)
{
    for (size_t i = 0; i < g->expected; i++)
        if (!strcmp(g->nodes[i], node)) return true;
    return false;
}

/* The row of a node known only by hearsay (a dead TaskManager, or one that did not answer). */
static wr_msg_node_row_t s_remote_row(const char *id, const char *status, const char *endpoint,
                                      int64_t last_heard_ms)
{
    return (wr_msg_node_row_t){.node = wr_strv(id),
                               .status = wr_strv(status),
                               .endpoint = wr_strv(endpoint),
                               .last_heard_ms = last_heard_ms};
}

/* The rows of an ACTORS_REPLY into rows (*n of them): ours (packed into own and read back),
 * then each TaskManager asked (with its slots, as the registry knows them), then the dead ones
 * not asked. Views into own and g's rows; the caller releases them (also on failure). 0 or
 * WR_ENOMEM. */
static int s_actors_rows(wr_actor_t *self, const wr__tms_t *tms, const s_gather_t *g,
                         msgpack_sbuffer *own, wr_msg_node_row_t *rows, uint32_t *n)
{
    msgpack_packer pk;
    msgpack_packer_init(&pk, own, msgpack_sbuffer_write);
    int rc = wr_inspect_pack_node(wr_actor_node(self), &pk);
    if (!rc) rc = wr_proto_decode(&wr_msg_node_row_decl, own->data, own->size, &rows[0]);
    if (rc) return rc;
    uint32_t k = 1;
    int64_t now = wr_now_ns();
    wr__tm_info_t tm;
    for (size_t i = 0; i < g->expected; i++, k++) {
        bool known = wr__tms_find(tms, g->nodes[i], &tm);
        if (g->rows[i].size && (rc = wr_proto_decode(&wr_msg_node_row_decl, g->rows[i].data,
                                                     g->rows[i].size, &rows[k])) == 0) {
            if (known) {
                rows[k].slots = tm.slots;
                rows[k].slots_free = tm.in_use < tm.slots ? tm.slots - tm.in_use : 0;
            }
        } else if (rc == WR_ENOMEM) {
            break;
        } else if (known && !tm.alive) { /* died while we asked: listed once, as dead */
            rows[k] = s_remote_row(tm.id, "dead", tm.endpoint, (now - tm.since_ns) / 1000000);
        } else {
            rows[k] = s_remote_row(g->nodes[i], "unresponsive", known ? tm.endpoint : "", -1);
        }
        rc = 0;
    }
    for (size_t i = 0, ntms = wr__tms_count(tms); !rc && i < ntms; i++) {
        wr__tms_info(tms, i, &tm);
        if (tm.alive || s_gather_asked(g, tm.id)) continue;
        rows[k++] = s_remote_row(tm.id, "dead", tm.endpoint, (now - tm.since_ns) / 1000000);
    }
    if (g->ha) rows[0].status = wr_strv("leader");
    for (size_t i = 0; !rc && i < g->nstandbys; i++)
        rows[k++] = s_remote_row(g->standbys[i].node, "standby", g->standbys[i].endpoint, -1);
    *n = k;
    return rc;
}

/* Answers an ACTORS_REQ once every TaskManager answered or timed out. */
static void s_actors_finish(wr__inspect_t *in, wr_actor_t *self, const wr__tms_t *tms,
                            s_gather_t *g)
{
    size_t dead = 0, ntms = wr__tms_count(tms);
    wr__tm_info_t tm;
    for (size_t i = 0; i < ntms; i++) {
        wr__tms_info(tms, i, &tm);
        dead += !tm.alive && !s_gather_asked(g, tm.id);
    }
    msgpack_sbuffer own;
    msgpack_sbuffer_init(&own);
    wr_msg_actors_reply_t reply = {
        {calloc(1 + g->expected + dead + g->nstandbys, sizeof *reply.nodes.v), 0}};
    int rc = reply.nodes.v ? s_actors_rows(self, tms, g, &own, reply.nodes.v, &reply.nodes.n)
                           : WR_ENOMEM;
    if (!rc)
        rc = wr__jm_send(self, g->client, WR_MSG_ACTORS_REPLY, g->client_corr, 0,
                         &wr_msg_actors_reply_decl, &reply);
    if (rc)
        wr_warn_limited(&in->log, "jobmanager: cannot answer %s: %s", g->client, wr_strerror(rc));
    wr_msg_actors_reply_release(&reply); /* (the rows we made hold no lists) */
    msgpack_sbuffer_destroy(&own);
    s_gather_remove(in, g);
}

int wr__inspect_on_actors(wr__inspect_t *in, wr_actor_t *self, const wr__tms_t *tms,
                          const wr_msg_t *m, const wr_ha_addr_t *standbys, size_t nstandbys)
{
    size_t alive = 0, ntms = wr__tms_count(tms);
    wr__tm_info_t tm;
    for (size_t i = 0; i < ntms; i++) {
        wr__tms_info(tms, i, &tm);
        alive += tm.alive;
    }
    s_gather_t *g = s_gather_new(in, m, alive);
    if (!g) return WR_ENOMEM;
    g->ha = standbys != NULL;
    if (nstandbys && (g->standbys = malloc(nstandbys * sizeof *g->standbys))) {
        memcpy(g->standbys, standbys, nstandbys * sizeof *g->standbys);
        g->nstandbys = nstandbys;
    }
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
    wr_msg_mailbox_req_t req;
    char target[WR_NODE_MAX];
    if (wr_msg_mailbox_req_unpack(m, &req) || !wr_addr_split(req.addr, target)) {
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
                        wr_warn_limited(&in->log, "jobmanager: cannot answer %s", g->client);
                    wr_msg_destroy(&e);
                } else {
                    s_send_to_client(in, self, g, m->type, m->data, m->len);
                }
                s_gather_remove(in, g);
                return true;
            }
            /* ACTORS_REPLY from a TaskManager: its one node row, kept until every node answered
             * (one that does not fit shows the node as unresponsive) */
            wr_msg_actors_reply_t reply;
            if (m->type == WR_MSG_ACTORS_REPLY && wr_msg_actors_reply_unpack(m, &reply) == 0) {
                if (reply.nodes.n == 1)
                    wr_proto_pack(&wr_msg_node_row_decl, &reply.nodes.v[0], &g->rows[i]);
                wr_msg_actors_reply_release(&reply);
            }
            if (g->got == g->expected) s_actors_finish(in, self, tms, g);
            return true;
        }
    }
    return false;
}
