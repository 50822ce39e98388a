/* The JobManager actor: it owns the services and hands each message to the one it is for.
 *
 *   jm_leader.h   leadership: granted at start (standalone), its epoch fences the TaskManagers
 *   jm_tms.h      the TaskManager registry: registrations, slots, liveness
 *   jm_jobs.h     the job registry and scheduling, with a checkpoint coordinator (jm_ckpt.h) and
 *                 a failover record (jm_restart.h) per job
 *   jm_inspect.h  the answers to `weir actors` and `weir mailbox`, gathered from the nodes
 *
 * What crosses services happens here: a TaskManager that died or restarted fails its jobs over;
 * a registration is answered with the leader's epoch and the attempts the JobManager owns on that
 * TaskManager (TM_REGISTERED), and so is a TaskManager that comes back after it was declared
 * dead, so that it stops every other subtask it runs. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "actors/jobmanager/jm_inspect.h"
#include "actors/jobmanager/jm_jobs.h"
#include "actors/jobmanager/jm_leader.h"
#include "actors/jobmanager/jm_job_ref.h"
#include "actors/jobmanager/jm_tms.h"
#include "actors/jobmanager/jobmanager.h"
#include "actors/runtime/node.h"
#include "bus/base/clock.h"
#include "bus/base/error.h"
#include "bus/base/log.h"
#include "bus/keys.h"
#include "bus/msgtypes.h"

#define S_TICK              (WR_MSG_LOCAL_FIRST + 20) /* checkpoints and restarts are due */
#define S_TICK_MS           100
#define S_TAKEOVER_RETRY_NS (500 * 1000000LL) /* a failed read of the job records, tried again */

typedef struct {
    wr_jobmanager_opts_t o;
    wr__leader_t *leader;
    wr__tms_t *tms;
    wr__jobs_t *jobs;
    wr__inspect_t *inspect;
    uint64_t tick;     /* the timer of checkpoints and restarts, while a job needs it (0: none) */
    wr_logrl_t log;    /* refusals of what peers send (bus/base/log.h) */
    uint64_t refused;  /* requests refused for the role of the key they came with */
    bool takeover_due; /* leading, and the jobs' records not read yet (etcd failed) */
    int64_t takeover_next_ns; /* when to read them again */
    unsigned takeover_tries;  /* failed reads under this leadership */
} s_jm_t;

static void s_free_state(void *state)
{
    s_jm_t *jm = state;
    wr__jobs_destroy(&jm->jobs);
    wr__inspect_destroy(&jm->inspect);
    wr__tms_destroy(&jm->tms);
    wr__leader_destroy(&jm->leader);
    free(jm);
}

/* ---- leadership ---- */

/* Takes the jobs of the leader's records over, when due. A read that fails (etcd slow to answer
 * after a quorum loss) is tried again every S_TAKEOVER_RETRY_NS on the tick for as long as this
 * leadership holds, rather than stepping down: the leadership itself is sound (its lease renews,
 * its writes are fenced), a standby would read the same etcd, and a leader without its jobs would
 * never run them again. */
static void s_take_over(s_jm_t *jm)
{
    int64_t now = wr_now_ns();
    if (!jm->takeover_due || now < jm->takeover_next_ns) return;
    int rc = wr__jobs_take_over(jm->jobs);
    if (!rc) {
        if (jm->takeover_tries)
            wr_info("jobmanager: took the jobs over at try %u", jm->takeover_tries + 1);
        jm->takeover_due = false;
        return;
    }
    jm->takeover_next_ns = now + S_TAKEOVER_RETRY_NS;
    if (!jm->takeover_tries++)
        wr_warn("jobmanager: cannot take the jobs over: %s; trying again while leading",
                wr_strerror(rc));
}

static void s_granted(void *ctx, wr_actor_t *self, uint64_t epoch)
{
    s_jm_t *jm = ctx;
    (void)self;
    wr_info("jobmanager: leading the cluster (%s), epoch %llu", wr__leader_kind(jm->leader),
            (unsigned long long)epoch);
    jm->takeover_due = true;
    jm->takeover_next_ns = 0;
    jm->takeover_tries = 0;
    s_take_over(jm);
}

/* Like Flink's JobManager that loses its leader session: it forgets its jobs and its TaskManagers.
 * Its books (slots held by jobs it no longer has, TaskManagers registered under the old epoch) are
 * not the next epoch's: if it leads again, the TaskManagers register again under the new epoch
 * (they follow each new candidacy, taskmanager.h) and the jobs come back from the records. */
static void s_revoked(void *ctx, wr_actor_t *self, const char *why)
{
    s_jm_t *jm = ctx;
    (void)self;
    wr_warn("jobmanager: no longer leading the cluster: %s; forgetting every job and TaskManager",
            why);
    jm->takeover_due = false;
    wr__jobs_forget(jm->jobs);
    wr__tms_forget(jm->tms);
}

static int s_on_start(wr_actor_t *self, void *state)
{
    s_jm_t *jm = state;
    wr_node_t *node = wr_actor_node(self);
    wr__leader_events_t ev = {.granted = s_granted, .revoked = s_revoked, .ctx = jm};
    return wr__leader_start(jm->leader, self, wr_node_id(node), wr_node_endpoint(node), &ev);
}

/* ---- TaskManagers ---- */

/* Whether messages to node id get through: not while the bus still holds an earlier process
 * under that id down (a restarted TaskManager is up again with its first heartbeat). */
static bool s_peer_reachable(wr_actor_t *self, const char *id)
{
    wr_peer_info_t p;
    return !wr_node_peer(wr_actor_node(self), id, &p) || p.state != WR_PEER_DOWN;
}

/* TM_REGISTERED to `to` (an answer when corr is not 0), in an envelope with the epoch: the
 * attempts the JobManager owns on TaskManager tm, and the RocksDB localdir with that backend. */
static void s_send_registered(wr_actor_t *self, s_jm_t *jm, const char *to, uint64_t corr,
                              const char *tm)
{
    wr_node_t *node = wr_actor_node(self);
    wr_msg_tm_registered_t r = {.jm_incarnation = wr_node_incarnation(node),
                                .heartbeat_timeout_ms = wr_node_heartbeat_timeout_ms(node),
                                .epoch = wr__leader_epoch(jm->leader)};
    int rc = wr__jobs_owned(jm->jobs, tm, &r.owned);
    if (!rc && jm->o.rocksdb && jm->o.rocksdb_dir &&
        (size_t)snprintf(r.rocksdb_dir, sizeof r.rocksdb_dir, "%s", jm->o.rocksdb_dir) >=
            sizeof r.rocksdb_dir)
        rc = WR_ETOOBIG;
    if (!rc)
        rc = wr__jm_send(self, to, WR_MSG_TM_REGISTERED, corr, r.epoch, &wr_msg_tm_registered_decl,
                         &r);
    free(r.owned.v);
    if (rc) wr_warn_limited(&jm->log, "jobmanager: cannot answer %s: %s", to, wr_strerror(rc));
}

static int s_on_register(wr_actor_t *self, s_jm_t *jm, const wr_msg_t *m)
{
    wr__tm_reg_t reg;
    if (wr__tms_parse_register(m, &reg)) {
        wr_warn_limited(&jm->log, "jobmanager: bad registration from %s", m->from);
        wr_reply_error(self, m, WR_EINVAL, "bad tm-register payload");
        return 0;
    }
    const char *mine = jm->o.cluster_id ? jm->o.cluster_id : "";
    char text[256] = "";
    if (strcmp(reg.cluster, mine))
        snprintf(text, sizeof text,
                 "TaskManager %s belongs to cluster '%s', this JobManager to '%s' "
                 "(high-availability.cluster-id)",
                 reg.id, reg.cluster, mine);
    else if (jm->o.max_slots_per_tm && reg.slots > jm->o.max_slots_per_tm)
        snprintf(text, sizeof text,
                 "TaskManager %s offers %u slots, more than slotmanager.max-slots-per-taskmanager "
                 "(%u): lower its taskmanager.numberOfTaskSlots, or raise that key in the "
                 "JobManager's configuration",
                 reg.id, reg.slots, jm->o.max_slots_per_tm);
    if (text[0]) {
        wr_warn_limited(&jm->log, "jobmanager: refusing a registration: %s", text);
        wr_reply_error(self, m, WR_EINVAL, text);
        return 0;
    }
    enum wr__tm_change change;
    int rc = wr__tms_register(jm->tms, &reg, s_peer_reachable(self, reg.id), &change);
    if (rc) return rc;
    if (change == WR__TM_RESTARTED) wr__jobs_tm_lost(jm->jobs, self, reg.id, "restarted");
    if ((rc = wr_watch_peer(self, reg.id))) return rc;
    s_send_registered(self, jm, m->from, m->corr, reg.id);
    return 0;
}

static void s_on_peer(wr_actor_t *self, s_jm_t *jm, const wr_msg_t *m, bool up)
{
    enum wr__tm_change change;
    char id[WR_NODE_MAX], reason[WR_MSG_REASON_MAX];
    wr__tms_on_peer(jm->tms, m, up, &change, id, reason);
    if (!wr__leader_is_leader(jm->leader)) return; /* (its successor decides) */
    if (change == WR__TM_DIED) {
        wr__jobs_tm_lost(jm->jobs, self, id, reason);
    } else if (change == WR__TM_BACK) {
        /* it runs what it ran when it was declared dead: tell it what it may keep */
        char to[WR_ADDR_MAX];
        snprintf(to, sizeof to, "%s/%s", id, WR_TASKMANAGER_PATH);
        s_send_registered(self, jm, to, 0, id);
    }
}

/* ---- the tick ---- */

/* Starts the tick (checkpoints due, restarts due) while a job needs it and stops it after: an
 * idle JobManager's mailbox shows what it was asked, not its timer. */
static int s_tick_update(wr_actor_t *self, s_jm_t *jm)
{
    bool want = wr__jobs_want_tick(jm->jobs) || jm->takeover_due;
    if (want && !jm->tick) return wr_timer_every(self, S_TICK_MS, S_TICK, &jm->tick);
    if (!want && jm->tick) {
        wr_timer_cancel(self, jm->tick);
        jm->tick = 0;
    }
    return 0;
}

/* ---- the actor ---- */

/* `weir actors`: the nodes, and in an HA cluster the standby JobManagers beside this leader. */
static int s_on_actors(wr_actor_t *self, s_jm_t *jm, const wr_msg_t *m)
{
    wr_ha_candidate_t c[WR_HA_CANDIDATES];
    wr_ha_addr_t standbys[WR_HA_CANDIDATES];
    size_t k =
        wr__leader_standbys(jm->leader, wr_node_id(wr_actor_node(self)), c, WR_HA_CANDIDATES);
    for (size_t i = 0; i < k; i++)
        standbys[i] = c[i].addr;
    bool ha = strcmp(wr__leader_kind(jm->leader), "standalone") != 0;
    return wr__inspect_on_actors(jm->inspect, self, jm->tms, m, ha ? standbys : NULL, k);
}

/* A standby's (or a deposed leader's) answer to a request: NOT_LEADER with the leader's address
 * as etcd names it ("" while none), so that a client or TaskManager can go there. */
static void s_not_leader(wr_actor_t *self, s_jm_t *jm, const wr_msg_t *m)
{
    const char *node = "", *endpoint = "";
    wr__leader_address(jm->leader, &node, &endpoint);
    wr_ha_candidate_t c[1];
    wr_msg_jm_addr_t a = {.epoch =
                              wr__leader_candidates(jm->leader, c, 1) ? (uint64_t)c[0].epoch : 0};
    snprintf(a.node, sizeof a.node, "%s",
             strcmp(node, wr_node_id(wr_actor_node(self))) ? node : "");
    snprintf(a.endpoint, sizeof a.endpoint, "%s", a.node[0] ? endpoint : "");
    wr__jm_reply(self, m, WR_MSG_NOT_LEADER, &wr_msg_jm_addr_decl, &a);
}

/* The role a key needs for a request of type (bus/keys.h): a viewer looks, an admin also acts, a
 * TaskManager registers and reports; anything else only a JobManager of the cluster may send. */
static wr_role_t s_role_needed(uint16_t type)
{
    switch (type) {
    case WR_MSG_PING:
    case WR_MSG_ACTORS_REQ:
    case WR_MSG_MAILBOX_REQ:
    case WR_MSG_JOBS_REQ:
    case WR_MSG_JOB_REQ:
    case WR_MSG_CKPT_LIST_REQ:
        return WR_ROLE_VIEWER;
    case WR_MSG_JOB_SUBMIT:
    case WR_MSG_JOB_CANCEL:
    case WR_MSG_SAVEPOINT_REQ:
        return WR_ROLE_ADMIN;
    case WR_MSG_TM_REGISTER:
    case WR_MSG_TASK_STATE:
    case WR_MSG_CKPT_ACK:
    case WR_MSG_ACTORS_REPLY:
    case WR_MSG_MAILBOX_REPLY:
    case WR_MSG_ERROR:
    case WR_MSG_TIMEOUT:
        return WR_ROLE_TASKMANAGER;
    default:
        return WR_ROLE_JOBMANAGER;
    }
}

/* Whether m's key may send it (without keys, everyone may): an admin may all a viewer may, and a
 * TaskManager may ask what a viewer may (for `weir` run with a node's key). A refusal is answered
 * with an error naming the role needed, counted and logged (rate-limited). */
static bool s_permitted(wr_actor_t *self, s_jm_t *jm, const wr_msg_t *m)
{
    wr_role_t need = s_role_needed(m->type);
    if (wr_msg_role_is(m, need) || m->role == WR_ROLE_JOBMANAGER ||
        (need == WR_ROLE_VIEWER && (m->role == WR_ROLE_ADMIN || m->role == WR_ROLE_TASKMANAGER)))
        return true;
    jm->refused++;
    wr_warn_limited(&jm->log,
                    "jobmanager: refused %s from %s: key '%s' has role %s, %s needs %s (%llu "
                    "refused so far)",
                    wr_msg_type_label(m->type), m->from, m->cert, wr_role_name(m->role),
                    wr_msg_type_label(m->type), wr_role_name(need),
                    (unsigned long long)jm->refused);
    if (m->corr) {
        char text[160];
        snprintf(text, sizeof text, "not allowed: %s needs a key with role %s; '%s' has role %s",
                 wr_msg_type_label(m->type), wr_role_name(need), m->cert, wr_role_name(m->role));
        wr_reply_error(self, m, WR_EPERM, text);
    }
    return false;
}

/* A message for a service; what only the leader handles (a client's requests, the subtasks'
 * reports, the registrations) waits for the leadership: a request is answered with an error. */
static int s_dispatch(wr_actor_t *self, s_jm_t *jm, const wr_msg_t *m)
{
    if (m->type >= WR__LEADER_MSG_FIRST && m->type <= WR__LEADER_MSG_LAST)
        return wr__leader_on_message(jm->leader, self, m);
    if (!s_permitted(self, jm, m)) return 0;
    switch (m->type) {
    case WR_MSG_PEER_DOWN:
        s_on_peer(self, jm, m, false);
        return 0;
    case WR_MSG_PEER_UP:
        s_on_peer(self, jm, m, true);
        return 0;
    case WR_MSG_ACTORS_REPLY:
    case WR_MSG_MAILBOX_REPLY:
    case WR_MSG_ERROR:
    case WR_MSG_TIMEOUT:
        wr__inspect_on_answer(jm->inspect, self, jm->tms, m);
        return 0;
    case WR_MSG_PING:
        wr_reply(self, m, WR_MSG_PONG, m->data, m->len);
        return 0;
    default:
        break;
    }
    if (!wr__leader_is_leader(jm->leader)) {
        if (m->corr) s_not_leader(self, jm, m);
        return 0;
    }
    switch (m->type) {
    case WR_MSG_ACTORS_REQ:
        return s_on_actors(self, jm, m);
    case WR_MSG_MAILBOX_REQ:
        return wr__inspect_on_mailbox(jm->inspect, self, jm->tms, m);
    case WR_MSG_TM_REGISTER:
        return s_on_register(self, jm, m);
    case WR_MSG_JOB_SUBMIT:
        return wr__jobs_on_submit(jm->jobs, self, m);
    case WR_MSG_JOBS_REQ:
        return wr__jobs_on_list(jm->jobs, self, m);
    case WR_MSG_JOB_REQ:
        return wr__jobs_on_describe(jm->jobs, self, m);
    case WR_MSG_JOB_CANCEL:
        return wr__jobs_on_cancel(jm->jobs, self, m);
    case WR_MSG_TASK_STATE:
        return wr__jobs_on_task_state(jm->jobs, self, m);
    case WR_MSG_CKPT_ACK:
        return wr__jobs_on_ckpt_ack(jm->jobs, self, m);
    case WR_MSG_CKPT_LIST_REQ:
        return wr__jobs_on_checkpoints(jm->jobs, self, m);
    case WR_MSG_SAVEPOINT_REQ:
        return wr__jobs_on_savepoint(jm->jobs, self, m);
    case S_TICK:
        s_take_over(jm);
        wr__jobs_tick(jm->jobs, self);
        return 0;
    default:
        wr_debug("jobmanager: ignoring %s from %s", wr_msg_type_label(m->type), m->from);
        return 0;
    }
}

static int s_on_message(wr_actor_t *self, void *state, wr_msg_t **msgp)
{
    s_jm_t *jm = state;
    int rc = s_dispatch(self, jm, *msgp);
    return rc ? rc : s_tick_update(self, jm);
}

static const wr_behaviour_t s_behaviour = {
    .on_start = s_on_start, .on_message = s_on_message, .free_state = s_free_state};

int wr_jobmanager_spawn(wr_node_t *node, const wr_jobmanager_opts_t *opts)
{
    s_jm_t *jm = calloc(1, sizeof *jm);
    if (!jm) return WR_ENOMEM;
    if (opts) jm->o = *opts;
    wr_logrl_init(&jm->log, 0);
    if (jm->o.ha) {
        wr_strbuf_t err;
        wr_strbuf_init(&err);
        jm->leader = wr__leader_etcd_new(jm->o.ha, &err);
        if (!jm->leader && err.len) {
            wr_error("jobmanager: %s", err.buf);
            wr_strbuf_release(&err);
            s_free_state(jm);
            return WR_ECONFIG;
        }
        wr_strbuf_release(&err);
        jm->o.ha = NULL; /* (borrowed for the call) */
    } else {
        jm->leader = wr__leader_standalone_new();
    }
    jm->tms = wr__tms_new();
    jm->inspect = wr__inspect_new();
    jm->jobs = jm->leader && jm->tms ? wr__jobs_new(&jm->o, jm->tms, jm->leader) : NULL;
    if (!jm->jobs || !jm->inspect) {
        s_free_state(jm);
        return WR_ENOMEM;
    }
    wr_spawn_opts_t o = {.path = WR_JOBMANAGER_PATH, .behaviour = &s_behaviour, .state = jm};
    return wr_actor_spawn(node, &o, NULL);
}
