#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "actors/jobmanager/jobmanager.h"
#include "actors/jobmanager/jobmanager_internal.h"
#include "actors/runtime/inspect.h"
#include "bus/base/clock.h"
#include "bus/base/error.h"
#include "bus/base/log.h"
#include "bus/base/mp.h"
#include "bus/msgtypes.h"

#define S_INSPECT_TIMEOUT_MS 1500 /* how long ACTORS_REQ waits for each TaskManager */
#define S_TICK (WR_MSG_LOCAL_FIRST + 20) /* checkpoints and restarts are due */
#define S_TICK_MS 100

wr__tm_t *wr__jm_tm_find(wr__jm_t *jm, const char *id)
{
    for (size_t i = 0; i < jm->ntms; i++)
        if (!strcmp(jm->tms[i].id, id)) return &jm->tms[i];
    return NULL;
}

static void s_gather_release(wr__gather_t *g)
{
    for (size_t i = 0; i < g->expected; i++) msgpack_sbuffer_destroy(&g->rows[i]);
    free(g->rows);
    free(g->corrs);
    free(g->nodes);
}

static void s_free_state(void *state)
{
    wr__jm_t *jm = state;
    for (size_t i = 0; i < jm->ngathers; i++) s_gather_release(&jm->gathers[i]);
    free(jm->gathers);
    wr__jm_jobs_release(jm);
    free(jm->tms);
    free(jm);
}

/* ---- registration and liveness ---- */

/* Whether messages to node id get through: not while the bus still holds an earlier process
 * under that id down (a restarted TaskManager is up again with its first heartbeat). */
static bool s_peer_reachable(wr_actor_t *self, const char *id)
{
    wr_peer_info_t peers[64];
    size_t n = wr_node_peers(wr_actor_node(self), peers, 64);
    for (size_t i = 0; i < n && i < 64; i++)
        if (!strcmp(peers[i].id, id)) return peers[i].state != WR_PEER_DOWN;
    return true;
}

static int s_on_register(wr_actor_t *self, wr__jm_t *jm, const wr_msg_t *m)
{
    wr_mp_reader_t r;
    wr_mp_reader_init(&r, m->data, m->len);
    uint32_t n = 0;
    uint64_t slots = 0, inc = 0;
    char id[WR_NODE_MAX], endpoint[128], from_node[WR_NODE_MAX];
    wr_mp_read_array(&r, &n);
    wr_mp_read_str_copy(&r, id, sizeof id);
    wr_mp_read_str_copy(&r, endpoint, sizeof endpoint);
    wr_mp_read_uint(&r, &slots);
    wr_mp_read_uint(&r, &inc);
    if (r.err || n != 4 || slots == 0 || slots > 65536 || !wr_addr_split(m->from, from_node) ||
        strcmp(from_node, id)) {
        wr_warn("jobmanager: bad registration from %s", m->from);
        wr_reply_error(self, m, WR_EINVAL, "bad tm-register payload");
        return 0;
    }
    wr__tm_t *tm = wr__jm_tm_find(jm, id);
    if (!tm) {
        if (jm->ntms == jm->tms_cap) {
            size_t ncap = jm->tms_cap ? jm->tms_cap * 2 : 8;
            wr__tm_t *t = realloc(jm->tms, ncap * sizeof *t);
            if (!t) return WR_ENOMEM;
            jm->tms = t;
            jm->tms_cap = ncap;
        }
        tm = &jm->tms[jm->ntms++];
        memset(tm, 0, sizeof *tm);
        snprintf(tm->id, sizeof tm->id, "%s", id);
    }
    bool fresh = tm->status != WR__TM_ALIVE || tm->incarnation != inc;
    if (tm->incarnation && tm->incarnation != inc) {
        /* a new process under a known id: whatever ran on the old one is gone */
        wr__jm_tm_lost(self, jm, id, "restarted");
        tm->used = 0;
    }
    snprintf(tm->endpoint, sizeof tm->endpoint, "%s", endpoint);
    tm->slots = (uint32_t)slots;
    tm->incarnation = inc;
    tm->status = WR__TM_ALIVE;
    if (fresh) tm->reachable = s_peer_reachable(self, id); /* else PEER_UP will say */
    tm->since_ns = wr_now_ns();
    tm->reason[0] = '\0';
    int rc = wr_watch_peer(self, id);
    if (rc) return rc;
    if (fresh) wr_info("jobmanager: taskmanager %s registered with %u slots (%s)", id, tm->slots, endpoint);

    msgpack_sbuffer sb;
    msgpack_sbuffer_init(&sb);
    msgpack_packer pk;
    msgpack_packer_init(&pk, &sb, msgpack_sbuffer_write);
    msgpack_pack_array(&pk, 2);
    msgpack_pack_uint64(&pk, wr_node_incarnation(wr_actor_node(self)));
    msgpack_pack_int64(&pk, wr_node_heartbeat_timeout_ms(wr_actor_node(self)));
    rc = wr_reply(self, m, WR_MSG_TM_REGISTERED, sb.data, sb.size);
    msgpack_sbuffer_destroy(&sb);
    if (rc) wr_warn("jobmanager: cannot answer %s: %s", m->from, wr_strerror(rc));
    return 0;
}

static void s_on_peer(wr_actor_t *self, wr__jm_t *jm, const wr_msg_t *m, bool up)
{
    wr_mp_reader_t r;
    wr_mp_reader_init(&r, m->data, m->len);
    uint32_t n = 0;
    uint64_t inc = 0;
    char id[WR_NODE_MAX], reason[64] = "";
    wr_mp_read_array(&r, &n);
    wr_mp_read_str_copy(&r, id, sizeof id);
    if (!up) wr_mp_read_str_copy(&r, reason, sizeof reason);
    wr_mp_read_uint(&r, &inc);
    wr__tm_t *tm = r.err ? NULL : wr__jm_tm_find(jm, id);
    if (!tm) return;
    /* the process that went down or came up; 0 when the transport had not heard it yet */
    bool same = !inc || inc == tm->incarnation;
    if (same) tm->reachable = up;
    if (!up && tm->status == WR__TM_ALIVE && same) {
        tm->status = WR__TM_DEAD;
        tm->since_ns = wr_now_ns();
        snprintf(tm->reason, sizeof tm->reason, "%s", reason);
        wr_warn("jobmanager: taskmanager %s is dead: %s", tm->id, reason);
        wr__jm_tm_lost(self, jm, tm->id, reason);
    } else if (up && tm->status == WR__TM_DEAD && inc == tm->incarnation) {
        /* the very process we registered (it was paused, or its link was cut): alive again */
        tm->status = WR__TM_ALIVE;
        tm->since_ns = wr_now_ns();
        wr_info("jobmanager: taskmanager %s is back", tm->id);
    }
    /* a down for an older incarnation is stale: that TaskManager restarted and registered anew;
     * a new process that comes up registers itself */
}

/* ---- gathering replies for the CLI ---- */

static wr__gather_t *s_gather_new(wr__jm_t *jm, const wr_msg_t *req, size_t expected)
{
    if (jm->ngathers == jm->gathers_cap) {
        size_t ncap = jm->gathers_cap ? jm->gathers_cap * 2 : 4;
        wr__gather_t *g = realloc(jm->gathers, ncap * sizeof *g);
        if (!g) return NULL;
        jm->gathers = g;
        jm->gathers_cap = ncap;
    }
    wr__gather_t *g = &jm->gathers[jm->ngathers];
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
    for (size_t i = 0; i < expected; i++) msgpack_sbuffer_init(&g->rows[i]);
    jm->ngathers++;
    return g;
}

static void s_gather_remove(wr__jm_t *jm, wr__gather_t *g)
{
    s_gather_release(g);
    *g = jm->gathers[--jm->ngathers];
}

static void s_send_to_client(wr_actor_t *self, const wr__gather_t *g, uint16_t type,
                             const void *data, size_t len)
{
    int rc = wr_send_corr(self, g->client, type, g->client_corr, data, len);
    if (rc) wr_warn("jobmanager: cannot answer %s: %s", g->client, wr_strerror(rc));
}

static bool s_gather_asked(const wr__gather_t *g, const char *node)
{
    for (size_t i = 0; i < g->expected; i++)
        if (!strcmp(g->nodes[i], node)) return true;
    return false;
}

/* Answers an ACTORS_REQ once every TaskManager answered or timed out. */
static void s_actors_finish(wr_actor_t *self, wr__jm_t *jm, wr__gather_t *g)
{
    msgpack_sbuffer sb;
    msgpack_sbuffer_init(&sb);
    msgpack_packer pk;
    msgpack_packer_init(&pk, &sb, msgpack_sbuffer_write);
    size_t dead = 0;
    for (size_t i = 0; i < jm->ntms; i++)
        dead += jm->tms[i].status == WR__TM_DEAD && !s_gather_asked(g, jm->tms[i].id);
    msgpack_pack_array(&pk, (uint32_t)(1 + g->expected + dead));
    wr_inspect_pack_node(wr_actor_node(self), &pk);
    int64_t now = wr_now_ns();
    for (size_t i = 0; i < g->expected; i++) {
        wr__tm_t *tm = wr__jm_tm_find(jm, g->nodes[i]);
        if (g->rows[i].size)
            msgpack_sbuffer_write(&sb, g->rows[i].data, g->rows[i].size);
        else if (tm && tm->status == WR__TM_DEAD) /* died while we asked: listed once, as dead */
            wr_inspect_pack_remote(&pk, tm->id, "dead", tm->endpoint, (now - tm->since_ns) / 1000000);
        else
            wr_inspect_pack_remote(&pk, g->nodes[i], "unresponsive", tm ? tm->endpoint : "", -1);
    }
    for (size_t i = 0; i < jm->ntms; i++) {
        wr__tm_t *tm = &jm->tms[i];
        if (tm->status != WR__TM_DEAD || s_gather_asked(g, tm->id)) continue;
        wr_inspect_pack_remote(&pk, tm->id, "dead", tm->endpoint, (now - tm->since_ns) / 1000000);
    }
    s_send_to_client(self, g, WR_MSG_ACTORS_REPLY, sb.data, sb.size);
    msgpack_sbuffer_destroy(&sb);
    s_gather_remove(jm, g);
}

static int s_on_actors_req(wr_actor_t *self, wr__jm_t *jm, const wr_msg_t *m)
{
    size_t alive = 0;
    for (size_t i = 0; i < jm->ntms; i++) alive += jm->tms[i].status == WR__TM_ALIVE;
    wr__gather_t *g = s_gather_new(jm, m, alive);
    if (!g) return WR_ENOMEM;
    for (size_t i = 0, k = 0; i < jm->ntms; i++) {
        if (jm->tms[i].status != WR__TM_ALIVE) continue;
        char to[WR_ADDR_MAX];
        snprintf(to, sizeof to, "%s/node", jm->tms[i].id);
        memcpy(g->nodes[k], jm->tms[i].id, WR_NODE_MAX);
        if (wr_ask(self, to, WR_MSG_ACTORS_REQ, NULL, 0, S_INSPECT_TIMEOUT_MS, &g->corrs[k]))
            g->got++; /* could not even ask: it shows as unresponsive */
        k++;
    }
    if (g->got == g->expected) s_actors_finish(self, jm, g);
    return 0;
}

static int s_on_mailbox_req(wr_actor_t *self, wr__jm_t *jm, const wr_msg_t *m)
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
    if (strcmp(target, wr_node_id(node))) {
        wr__tm_t *tm = wr__jm_tm_find(jm, target);
        if (!tm || tm->status != WR__TM_ALIVE) {
            char text[128];
            snprintf(text, sizeof text, "node '%s' is %s", target,
                     tm ? "dead" : "not in this cluster (see `weir actors`)");
            wr_reply_error(self, m, WR_ENOACTOR, text);
            return 0;
        }
    }
    /* ask the hosting node's system actor (ours too: one path for both) and relay its answer */
    wr__gather_t *g = s_gather_new(jm, m, 1);
    if (!g) return WR_ENOMEM;
    memcpy(g->nodes[0], target, WR_NODE_MAX);
    int rc = wr_ask(self, to, WR_MSG_MAILBOX_REQ, m->data, m->len, S_INSPECT_TIMEOUT_MS, &g->corrs[0]);
    if (rc) {
        wr_reply_error(self, m, rc, "cannot reach the node hosting that actor");
        s_gather_remove(jm, g);
    }
    return 0;
}

/* A reply (or TIMEOUT) for one of our asks. */
static void s_on_answer(wr_actor_t *self, wr__jm_t *jm, wr_msg_t *m)
{
    for (size_t gi = 0; gi < jm->ngathers; gi++) {
        wr__gather_t *g = &jm->gathers[gi];
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
                s_gather_remove(jm, g);
                return;
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
            if (g->got == g->expected) s_actors_finish(self, jm, g);
            return;
        }
    }
}

/* ---- the actor ---- */

int wr__jm_tick_start(wr_actor_t *self, wr__jm_t *jm)
{
    return jm->tick ? 0 : wr_timer_every(self, S_TICK_MS, S_TICK, &jm->tick);
}

/* Checkpoints and restarts that are due; the tick stops once no job needs it (an idle
 * JobManager's mailbox shows what it was asked, not its timer). */
static void s_on_tick(wr_actor_t *self, wr__jm_t *jm)
{
    wr__jm_restart_tick(self, jm);
    wr__ckpt_tick(self, jm);
    for (size_t i = 0; i < jm->njobs; i++) {
        const wr__job_t *j = jm->jobs[i];
        if (j->state == WR__JOB_RESTARTING || (j->state == WR__JOB_RUNNING && (j->coord.enabled || j->coord.savepoint)))
            return;
    }
    wr_timer_cancel(self, jm->tick);
    jm->tick = 0;
}

static int s_on_message(wr_actor_t *self, void *state, wr_msg_t **msgp)
{
    wr__jm_t *jm = state;
    wr_msg_t *m = *msgp;
    switch (m->type) {
    case WR_MSG_TM_REGISTER: return s_on_register(self, jm, m);
    case WR_MSG_PEER_DOWN: s_on_peer(self, jm, m, false); return 0;
    case WR_MSG_JOB_SUBMIT: return wr__jm_on_submit(self, jm, m);
    case WR_MSG_JOBS_REQ: return wr__jm_on_jobs(self, jm, m);
    case WR_MSG_JOB_REQ: return wr__jm_on_job(self, jm, m);
    case WR_MSG_JOB_CANCEL: return wr__jm_on_cancel(self, jm, m);
    case WR_MSG_TASK_STATE: return wr__jm_on_task_state(self, jm, m);
    case WR_MSG_TASK_DEPLOYED: return 0;
    case WR_MSG_CKPT_ACK: return wr__ckpt_on_ack(self, jm, m);
    case WR_MSG_CKPT_LIST_REQ: return wr__ckpt_on_list(self, jm, m);
    case WR_MSG_SAVEPOINT_REQ: return wr__ckpt_on_savepoint(self, jm, m);
    case S_TICK: s_on_tick(self, jm); return 0;
    case WR_MSG_PEER_UP: s_on_peer(self, jm, m, true); return 0;
    case WR_MSG_ACTORS_REQ: return s_on_actors_req(self, jm, m);
    case WR_MSG_MAILBOX_REQ: return s_on_mailbox_req(self, jm, m);
    case WR_MSG_ACTORS_REPLY:
    case WR_MSG_MAILBOX_REPLY:
    case WR_MSG_ERROR:
    case WR_MSG_TIMEOUT: s_on_answer(self, jm, m); return 0;
    case WR_MSG_PING: wr_reply(self, m, WR_MSG_PONG, m->data, m->len); return 0;
    default:
        wr_debug("jobmanager: ignoring %s from %s", wr_msg_type_label(m->type), m->from);
        return 0;
    }
}

static const wr_behaviour_t s_behaviour = {.on_message = s_on_message, .free_state = s_free_state};

int wr_jobmanager_spawn(wr_node_t *node, const wr_jobmanager_opts_t *opts)
{
    wr__jm_t *jm = calloc(1, sizeof *jm);
    if (!jm) return WR_ENOMEM;
    if (opts) jm->o = *opts;
    wr_spawn_opts_t o = {.path = WR_JOBMANAGER_PATH, .behaviour = &s_behaviour, .state = jm};
    return wr_actor_spawn(node, &o, NULL);
}
