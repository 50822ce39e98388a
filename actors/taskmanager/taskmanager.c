/* The TaskManager actor (taskmanager.h): registration and slot reports, the subtasks it runs,
 * fencing by the leader's epoch, and its RocksDB stores' folder. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <unistd.h>

#include "actors/taskmanager/taskmanager.h"
#include "actors/taskmanager/task.h"
#include "actors/taskmanager/tm_discovery.h"
#include "bus/base/clock.h"
#include "bus/base/error.h"
#include "bus/base/fs.h"
#include "bus/base/log.h"
#include "bus/base/mp.h"
#include "bus/keys.h"
#include "bus/messages.h"

#define S_TICK   (WR_MSG_LOCAL_FIRST + 1)
#define S_LEADER (WR_MSG_LOCAL_FIRST + 2) /* tm_discovery.h: who leads now */
#define S_REPORT_EVERY                                                                             \
    10 /* registered: re-send the registration as a slot report every N ticks                      \
        */

/* A subtask started here. */
typedef struct {
    char job[WR_JOB_ID_MAX];
    uint32_t attempt, vertex, subtask;
    uint64_t epoch;    /* of the JobManager that deployed it */
    bool stopping;     /* told to stop: gone at its CHILD_STOPPED */
    wr_actor_t *actor; /* counted */
} s_task_t;

typedef struct {
    char cluster[WR_MSG_CLUSTER_MAX];
    wr_ha_opts_t ha;            /* (ha.endpoints NULL: the JobManager is configured) */
    wr__discovery_t *discovery; /* with ha: asks etcd who leads */
    uint64_t stale;             /* messages refused for an epoch older than the leader's */
    wr_logrl_t log;             /* refusals of what peers send (bus/base/log.h) */
    char refused[256];          /* the last refusal of a registration, said once */
    char jm_id[WR_NODE_MAX];
    char jm_endpoint[128];
    char jm_addr[WR_ADDR_MAX];
    int64_t jm_candidacy; /* with ha: the revision of the leader's candidacy it follows */
    uint32_t slots;
    int64_t retry_ms;
    bool registered;
    uint64_t jm_incarnation;
    uint64_t epoch; /* the leader's, from its TM_REGISTERED (0: none yet) */
    uint64_t ask;   /* outstanding registration ask, 0 when none */
    unsigned ticks;
    uint32_t reported;                   /* slots in use at the last report */
    char store_dir[WR_TASK_RESTORE_MAX]; /* <rocksdb localdir>/<node id>, once cleaned ("" none) */
    int lock_fd;                         /* holds store_dir's .lock (-1: none) */
    s_task_t *tasks;
    size_t ntasks, tasks_cap;
    uint64_t not_jm;          /* deploys and cancels from keys that are no JobManager's */
    int64_t not_jm_logged_ns; /* their last log line */
} s_tm_t;

static void s_free_state(void *state)
{
    s_tm_t *tm = state;
    wr__discovery_stop(&tm->discovery);
    for (size_t i = 0; i < tm->ntasks; i++)
        wr_actor_unref(&tm->tasks[i].actor);
    free(tm->tasks);
    if (tm->lock_fd >= 0) close(tm->lock_fd);
    free(tm);
}

/* Slots its subtasks hold: one per (job, attempt, subtask index), every vertex's subtask i
 * sharing slot i; a stopping subtask holds its slot until it is gone. */
static uint32_t s_slots_in_use(const s_tm_t *tm)
{
    uint32_t n = 0;
    for (size_t i = 0; i < tm->ntasks; i++) {
        const s_task_t *t = &tm->tasks[i];
        bool first = true;
        for (size_t k = 0; k < i && first; k++)
            first = tm->tasks[k].attempt != t->attempt || tm->tasks[k].subtask != t->subtask ||
                    strcmp(tm->tasks[k].job, t->job);
        n += first;
    }
    return n;
}

/* Stops task t (once). */
static void s_stop(s_task_t *t)
{
    if (t->stopping) return;
    t->stopping = true;
    int rc = wr_actor_stop(t->actor);
    if (rc) wr_warn("taskmanager: cannot stop %s: %s", wr_actor_addr(t->actor), wr_strerror(rc));
}

/* The leader's epoch is `epoch` from now on: every subtask of another epoch stops (that leader
 * owns none of them). Returns how many were told to stop. */
static unsigned s_adopt_epoch(s_tm_t *tm, uint64_t epoch)
{
    unsigned stopped = 0;
    tm->epoch = epoch;
    for (size_t i = 0; i < tm->ntasks; i++) {
        if (tm->tasks[i].epoch == epoch || tm->tasks[i].stopping) continue;
        s_stop(&tm->tasks[i]);
        stopped++;
    }
    return stopped;
}

/* Counts and logs a message of a stale epoch (a deposed leader's): it is dropped. */
static void s_refuse(s_tm_t *tm, const wr_msg_t *m, uint64_t epoch)
{
    tm->stale++;
    wr_warn_limited(
        &tm->log,
        "taskmanager: refusing %s of epoch %llu from %s (the leader's is %llu; %llu refused "
        "so far)",
        wr_msg_type_label(m->type), (unsigned long long)epoch, m->from,
        (unsigned long long)tm->epoch, (unsigned long long)tm->stale);
}

/* Fencing: a deployment or cancel of an epoch older than the leader's this TaskManager knows is
 * refused. One of a newer epoch comes from a new leader (its TM_REGISTERED may still be on its
 * way, or lost with a connection that was replaced): it is obeyed, and the subtasks of older
 * epochs stop. */
static bool s_fence(s_tm_t *tm, const wr_msg_t *m)
{
    if (m->epoch && m->epoch >= tm->epoch) {
        unsigned stopped = m->epoch > tm->epoch ? s_adopt_epoch(tm, m->epoch) : 0;
        if (stopped)
            wr_info("taskmanager: a new leader (epoch %llu): stopping %u subtasks of earlier ones",
                    (unsigned long long)m->epoch, stopped);
        return true;
    }
    s_refuse(tm, m, m->epoch);
    return false;
}

/* A subtask that could not even be spawned (its deployment refused, rc): reported "failed" to the
 * JobManager in its stead (deterministic but for WR_ENOMEM: its restart would deploy the same),
 * so that the job does not wait for it. A report that cannot be sent is logged. */
static void s_report_unstarted(wr_actor_t *self, const s_tm_t *tm, const s_task_t *t, int rc)
{
    wr_msg_task_state_t r = {.vertex = t->vertex,
                             .subtask = t->subtask,
                             .stats = {.attempt = t->attempt,
                                       .emit_delay_p50_ms = -1,
                                       .emit_delay_p99_ms = -1,
                                       .emit_delay_last_p99_ms = -1},
                             .deterministic = rc != WR_ENOMEM};
    memcpy(r.job, t->job, sizeof r.job);
    snprintf(r.state, sizeof r.state, "failed");
    snprintf(r.error, sizeof r.error, "cannot start the subtask on %s: %s",
             wr_node_id(wr_actor_node(self)), wr_strerror(rc));
    msgpack_sbuffer sb;
    msgpack_sbuffer_init(&sb);
    int sent = wr_msg_task_state_pack(&r, &sb);
    if (!sent) sent = wr_send(self, tm->jm_addr, WR_MSG_TASK_STATE, sb.data, sb.size);
    msgpack_sbuffer_destroy(&sb);
    if (sent) wr_warn("taskmanager: cannot report it to %s: %s", tm->jm_addr, wr_strerror(sent));
}

/* TASK_DEPLOY: start the subtask. A failure is reported to the JobManager as the subtask's. */
static int s_on_deploy(wr_actor_t *self, s_tm_t *tm, const wr_msg_t *m)
{
    if (!s_fence(tm, m)) return 0;
    wr_msg_task_deploy_t d;
    wr_task_opts_t o = {0};
    wr_topology_t *topo = NULL;
    int rc = wr_msg_task_deploy_unpack(m, &d);
    bool decoded = rc == 0; /* (then its subtask is known, and told of a refusal) */
    if (!rc && (!d.credits || d.credits > 65536 || !d.batch_records || d.batch_records > 1 << 20))
        rc = WR_EPROTO;
    if (!rc) {
        wr_mp_reader_t r;
        wr_mp_reader_init(&r, d.topology.p, d.topology.len);
        rc = wr_topology_unpack(&r, &topo);
    }
    if (!rc && d.places.n) {
        o.place_node = calloc(d.places.n, sizeof *o.place_node);
        o.place_endpoint = calloc(d.places.n, sizeof *o.place_endpoint);
        if (!o.place_node || !o.place_endpoint) rc = WR_ENOMEM;
        for (uint32_t i = 0; !rc && i < d.places.n; i++) {
            if (!wr_node_id_valid(d.places.v[i].node)) rc = WR_EPROTO;
            memcpy(o.place_node[i], d.places.v[i].node, sizeof o.place_node[i]);
            memcpy(o.place_endpoint[i], d.places.v[i].endpoint, sizeof o.place_endpoint[i]);
        }
    }
    /* the stores go into this TaskManager's own folder of the localdir (cleaned at its start) */
    if (!rc && d.rocksdb_dir[0] &&
        (size_t)snprintf(o.rocksdb_dir, sizeof o.rocksdb_dir, "%s/%s", d.rocksdb_dir,
                         wr_node_id(wr_actor_node(self))) >= sizeof o.rocksdb_dir)
        rc = WR_EPROTO;
    if (!rc && tm->ntasks == tm->tasks_cap) {
        size_t ncap = tm->tasks_cap ? tm->tasks_cap * 2 : 8;
        void *grown = realloc(tm->tasks, ncap * sizeof *tm->tasks);
        if (!grown)
            rc = WR_ENOMEM;
        else {
            tm->tasks = grown;
            tm->tasks_cap = ncap;
        }
    }
    if (rc) {
        wr_warn_limited(&tm->log, "taskmanager: bad deployment from %s: %s", m->from,
                        wr_strerror(rc));
        if (decoded) {
            s_task_t t = {.attempt = d.attempt, .vertex = d.vertex, .subtask = d.subtask};
            memcpy(t.job, d.job, sizeof t.job);
            s_report_unstarted(self, tm, &t, rc);
        }
        wr_msg_task_deploy_release(&d);
        wr_topology_destroy(&topo);
        free(o.place_node);
        free(o.place_endpoint);
        return wr_reply_error(self, m, rc, "bad task-deploy");
    }
    memcpy(o.job_id, d.job, sizeof o.job_id);
    o.attempt = d.attempt;
    o.vertex = d.vertex;
    o.subtask = d.subtask;
    o.credits = d.credits;
    o.batch_records = d.batch_records;
    o.nplaces = d.places.n;
    o.checkpointing = d.checkpointing;
    memcpy(o.restore, d.restore, sizeof o.restore);
    o.rocksdb = d.rocksdb;
    o.rocksdb_cache = d.rocksdb_cache;
    memcpy(o.ahead_dir, d.ahead_dir, sizeof o.ahead_dir);
    wr_msg_task_deploy_release(&d);
    snprintf(o.jm_addr, sizeof o.jm_addr, "%s", tm->jm_addr);
    o.epoch = m->epoch;
    s_task_t t = {
        .attempt = o.attempt, .vertex = o.vertex, .subtask = o.subtask, .epoch = m->epoch};
    memcpy(t.job, o.job_id, sizeof t.job);
    /* (the actor's reference, not a look-up of its path: a subtask whose start fails at once is
     * gone before a look-up, and reports that failure itself) */
    rc = wr_task_spawn(wr_actor_node(self), self, &topo, &o, &t.actor);
    if (!rc) {
        tm->tasks[tm->ntasks++] = t;
        return 0;
    }
    wr_warn_limited(&tm->log, "taskmanager: cannot start subtask %u.%u of job %s: %s", t.vertex,
                    t.subtask, t.job, wr_strerror(rc));
    /* (WR_EEXIST: that very subtask runs here already; WR_ECLOSED: this node is stopping) */
    if (rc != WR_EEXIST && rc != WR_ECLOSED) s_report_unstarted(self, tm, &t, rc);
    return 0;
}

/* TASK_CANCEL: stop every subtask of the job here. */
static void s_on_cancel(s_tm_t *tm, const wr_msg_t *m)
{
    wr_msg_job_ref_t cancel;
    if (!s_fence(tm, m) || wr_msg_job_ref_unpack(m, &cancel)) return;
    for (size_t i = 0; i < tm->ntasks; i++)
        if (!strcmp(tm->tasks[i].job, cancel.job)) s_stop(&tm->tasks[i]);
}

/* CHILD_STOPPED [addr]: a subtask is gone (canceled, failed, or its node is stopping). */
static void s_on_child_stopped(s_tm_t *tm, const wr_msg_t *m)
{
    for (size_t i = 0; i < tm->ntasks; i++) {
        if (strcmp(wr_actor_addr(tm->tasks[i].actor), m->from)) continue;
        wr_actor_unref(&tm->tasks[i].actor);
        tm->tasks[i] = tm->tasks[--tm->ntasks];
        return;
    }
}

/* TM_REGISTER: a registration, or a slot report once registered (its answer is TM_REGISTERED
 * all the same). */
static int s_register(wr_actor_t *self, s_tm_t *tm)
{
    if (tm->ask) return 0; /* one at a time */
    wr_node_t *node = wr_actor_node(self);
    if (!tm->jm_id[0]) return 0; /* no leader known yet (discovery) */
    wr_msg_tm_register_t reg = {.slots = tm->slots,
                                .incarnation = wr_node_incarnation(node),
                                .slots_in_use = s_slots_in_use(tm)};
    snprintf(reg.cluster, sizeof reg.cluster, "%s", tm->cluster);
    snprintf(reg.node, sizeof reg.node, "%s", wr_node_id(node));
    snprintf(reg.endpoint, sizeof reg.endpoint, "%s", wr_node_endpoint(node));
    msgpack_sbuffer sb;
    msgpack_sbuffer_init(&sb);
    int rc = wr_msg_tm_register_pack(&reg, &sb);
    if (!rc)
        rc = wr_ask(self, tm->jm_addr, WR_MSG_TM_REGISTER, sb.data, sb.size, tm->retry_ms * 2,
                    &tm->ask);
    msgpack_sbuffer_destroy(&sb);
    if (rc) {
        tm->ask = 0;
        wr_debug("taskmanager: registration not sent: %s", wr_strerror(rc));
    } else {
        tm->reported = reg.slots_in_use;
    }
    return 0; /* retried at the next tick */
}

/* Whether entry (a name in the stores' folder) is the store of a subtask here, or one of its
 * checkpoint or restore folders ("<store>-..."). */
static bool s_live_store(const s_tm_t *tm, const char *entry)
{
    for (size_t i = 0; i < tm->ntasks; i++) {
        const s_task_t *t = &tm->tasks[i];
        char name[WR_TASK_STORE_MAX];
        wr_task_store_name(name, t->job, t->attempt, t->vertex, t->subtask);
        size_t len = strlen(name);
        if (!strncmp(entry, name, len) && (entry[len] == '\0' || entry[len] == '-')) return true;
    }
    return false;
}

/* The RocksDB localdir the leader's subtasks use: this TaskManager's stores go into its own
 * folder of it (s_on_deploy), and whatever an earlier process under this id left there (a store
 * of a subtask that was killed with it) is removed, once per localdir. A lock file keeps a
 * second live process of the same id (another cluster on this host sharing the localdir) from
 * removing the stores of the first: it leaves them. */
static void s_clean_stores(const wr_actor_t *self, s_tm_t *tm, const char *localdir)
{
    char dir[WR_TASK_RESTORE_MAX], lock[WR_TASK_RESTORE_MAX + 8];
    if (!localdir[0] ||
        (size_t)snprintf(dir, sizeof dir, "%s/%s", localdir, wr_node_id(wr_actor_node(self))) >=
            sizeof dir ||
        !strcmp(dir, tm->store_dir))
        return;
    snprintf(tm->store_dir, sizeof tm->store_dir, "%s", dir);
    if (tm->lock_fd >= 0) close(tm->lock_fd);
    snprintf(lock, sizeof lock, "%s/.lock", dir);
    int rc = wr_fs_mkdirs(dir);
    tm->lock_fd = rc ? -1 : open(lock, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
    if (tm->lock_fd < 0 || flock(tm->lock_fd, LOCK_EX | LOCK_NB)) {
        wr_warn("taskmanager: %s is in use by another process (or cannot be locked: %s): its "
                "stores stay",
                dir, rc ? wr_strerror(rc) : strerror(errno));
        if (tm->lock_fd >= 0) close(tm->lock_fd);
        tm->lock_fd = -1;
        wr_logrl_init(&tm->log, 0);
        return;
    }
    DIR *d = opendir(dir);
    unsigned removed = 0;
    for (struct dirent *e; d && (e = readdir(d));) {
        if (e->d_name[0] == '.' || s_live_store(tm, e->d_name)) continue;
        char path[sizeof dir + 256];
        snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
        if ((rc = wr_fs_rmtree(path)))
            wr_warn("taskmanager: cannot remove %s: %s", path, wr_strerror(rc));
        else
            removed++;
    }
    if (d) closedir(d);
    if (removed)
        wr_info("taskmanager: removed %u stores an earlier process left in %s", removed, dir);
}

/* Whether the leader owns task t's attempt. */
static bool s_owned(const wr_msg_job_attempt_list_t *owned, const s_task_t *t)
{
    for (uint32_t k = 0; k < owned->n; k++)
        if (owned->v[k].attempt == t->attempt && !strcmp(owned->v[k].job, t->job)) return true;
    return false;
}

/* TM_REGISTERED: registered with the leader of its epoch, which owns the attempts it names here.
 * Every other subtask stops: one of another epoch (an earlier leader's), or an attempt the leader
 * no longer owns (it failed over while this TaskManager was cut off, or its cancel never came). */
static void s_on_registered(const wr_actor_t *self, s_tm_t *tm, const wr_msg_t *m)
{
    wr_msg_tm_registered_t r;
    if (wr_msg_tm_registered_unpack(m, &r) || !r.epoch || m->epoch != r.epoch) {
        wr_msg_tm_registered_release(&r);
        wr_warn_limited(&tm->log, "taskmanager: malformed registration answer from %s", m->from);
        return;
    }
    if (r.epoch < tm->epoch) { /* a deposed leader's (it would stop the new leader's subtasks) */
        wr_msg_tm_registered_release(&r);
        s_refuse(tm, m, m->epoch);
        return;
    }
    if (!tm->registered || tm->jm_incarnation != r.jm_incarnation || tm->epoch != r.epoch)
        wr_info("taskmanager: registered with %s (%u slots), epoch %llu", tm->jm_addr, tm->slots,
                (unsigned long long)r.epoch);
    tm->registered = true;
    tm->jm_incarnation = r.jm_incarnation;
    tm->epoch = r.epoch;
    unsigned stopped = 0;
    for (size_t i = 0; i < tm->ntasks; i++) {
        s_task_t *t = &tm->tasks[i];
        if ((t->epoch == r.epoch && s_owned(&r.owned, t)) || t->stopping) continue;
        s_stop(t);
        stopped++;
    }
    if (stopped)
        wr_info("taskmanager: stopping %u subtasks the jobmanager (epoch %llu) does not own",
                stopped, (unsigned long long)r.epoch);
    s_clean_stores(self, tm, r.rocksdb_dir);
    wr_msg_tm_registered_release(&r);
}

/* The JobManager at id/endpoint is the one to register with from now on. */
static int s_follow(wr_actor_t *self, s_tm_t *tm, const char *id, const char *endpoint)
{
    wr_node_t *node = wr_actor_node(self);
    char new_id[sizeof tm->jm_id], new_ep[sizeof tm->jm_endpoint]; /* (may be tm's own) */
    snprintf(new_id, sizeof new_id, "%s", id);
    snprintf(new_ep, sizeof new_ep, "%s", endpoint);
    if (tm->jm_id[0] && strcmp(tm->jm_id, new_id)) wr_unwatch_peer(self, tm->jm_id);
    memcpy(tm->jm_id, new_id, sizeof new_id);
    memcpy(tm->jm_endpoint, new_ep, sizeof new_ep);
    snprintf(tm->jm_addr, sizeof tm->jm_addr, "%s/%s", new_id, WR_JOBMANAGER_PATH);
    tm->registered = false;
    tm->ask = 0; /* an answer to the old one's ask is not this one's */
    int rc = wr_node_connect(node, tm->jm_id, tm->jm_endpoint);
    if (!rc) rc = wr_watch_peer(self, tm->jm_id);
    if (!rc) rc = s_register(self, tm);
    return rc;
}

/* An ERROR answer (a refused registration: another cluster id, ...): said once per reason. */
static void s_on_refused(s_tm_t *tm, const wr_msg_t *m)
{
    wr_msg_error_t e;
    char text[sizeof tm->refused];
    if (wr_msg_error_unpack(m, &e)) return;
    if (strcmp(m->from, tm->jm_addr)) { /* (this node's: the JobManager is unreachable) */
        if (!tm->registered) wr_debug("taskmanager: %s not answering yet", tm->jm_addr);
        return;
    }
    snprintf(text, sizeof text, "%.*s", (int)e.text.len, e.text.s);
    if (!strcmp(text, tm->refused)) return;
    memcpy(tm->refused, text, sizeof text);
    wr_warn("taskmanager: %s refuses the registration: %s", m->from, text);
}

/* The JobManager was declared down. If that is because the node at its endpoint answered under
 * another id (bus/transport.h: WRONG_NODE; the transport vouches that this is the node at the
 * endpoint this TaskManager dialed), register with that id instead: like Flink's TaskManagers,
 * which learn the leader rather than trust their configuration. The epoch fencing is unchanged:
 * the new JobManager's TM_REGISTERED decides which subtasks live. */
static void s_learn_jm_id(wr_actor_t *self, s_tm_t *tm)
{
    wr_peer_info_t p;
    if (!wr_node_peer(wr_actor_node(self), tm->jm_id, &p) || !p.actual[0] ||
        strcmp(p.endpoint, tm->jm_endpoint))
        return;
    wr_warn("taskmanager: the JobManager at %s is node '%s', not '%s' (jobmanager.node-id); "
            "registering with '%s' (say so with --set jobmanager.node-id=%s)",
            tm->jm_endpoint, p.actual, tm->jm_id, p.actual, p.actual);
    int rc = s_follow(self, tm, p.actual, tm->jm_endpoint);
    if (rc) wr_warn("taskmanager: cannot register with %s: %s", tm->jm_addr, wr_strerror(rc));
}

/* S_LEADER: etcd names the leader (tm_discovery.h). */
static void s_on_leader(wr_actor_t *self, s_tm_t *tm, const wr_msg_t *m)
{
    wr_ha_candidate_t c;
    if (m->len != sizeof c) return;
    memcpy(&c, m->data, sizeof c);
    /* the same JobManager under a new candidacy lost the leadership and won it again: it forgot
     * its TaskManagers (jobmanager.c), so this one registers again, as with a new leader (Flink:
     * a new leader session id) */
    if (!strcmp(c.addr.node, tm->jm_id) && !strcmp(c.addr.endpoint, tm->jm_endpoint) &&
        c.epoch == tm->jm_candidacy)
        return;
    if (!wr_node_id_valid(c.addr.node) || strlen(c.addr.endpoint) >= sizeof tm->jm_endpoint) {
        wr_warn("taskmanager: etcd names a leader '%s' at '%s' that cannot be one", c.addr.node,
                c.addr.endpoint);
        return;
    }
    wr_info("taskmanager: etcd names %s at %s the leader (candidacy revision %lld)", c.addr.node,
            c.addr.endpoint, (long long)c.epoch);
    tm->jm_candidacy = c.epoch;
    int rc = s_follow(self, tm, c.addr.node, c.addr.endpoint);
    if (rc) wr_warn("taskmanager: cannot register with %s: %s", tm->jm_addr, wr_strerror(rc));
}

static int s_on_start(wr_actor_t *self, void *state)
{
    s_tm_t *tm = state;
    tm->registered = false;
    tm->ask = 0;
    int rc = wr_timer_every(self, tm->retry_ms, S_TICK, NULL);
    if (rc) return rc;
    if (!tm->ha.endpoints) return s_follow(self, tm, tm->jm_id, tm->jm_endpoint);
    wr_strbuf_t err;
    wr_strbuf_init(&err);
    tm->discovery =
        wr__discovery_start(&tm->ha, wr_actor_node(self), wr_actor_addr(self), S_LEADER, &err);
    if (!tm->discovery)
        wr_error("taskmanager: cannot ask etcd who leads: %s", err.len ? err.buf : "no memory");
    wr_strbuf_release(&err);
    return tm->discovery ? 0 : WR_EINVAL;
}

/* Whether m comes from a JobManager's key (bus/keys.h; the epoch is checked after): anything
 * else may not deploy or cancel, and is answered, counted and logged (at most a line a second). */
static bool s_from_jobmanager(wr_actor_t *self, s_tm_t *tm, const wr_msg_t *m)
{
    if (wr_msg_role_is(m, WR_ROLE_JOBMANAGER)) return true;
    tm->not_jm++;
    int64_t now = wr_now_ns();
    if (now - tm->not_jm_logged_ns >= 1000000000) {
        tm->not_jm_logged_ns = now;
        wr_warn("taskmanager: refused %s from %s: key '%s' has role %s, only a jobmanager may "
                "(%llu refused so far)",
                wr_msg_type_label(m->type), m->from, m->cert, wr_role_name(m->role),
                (unsigned long long)tm->not_jm);
    }
    if (m->corr) wr_reply_error(self, m, WR_EPERM, "role jobmanager needed");
    return false;
}

static int s_on_message(wr_actor_t *self, void *state, wr_msg_t **msgp)
{
    s_tm_t *tm = state;
    wr_msg_t *m = *msgp;
    if (m->corr && m->corr == tm->ask &&
        (m->type == WR_MSG_TM_REGISTERED || m->type == WR_MSG_TIMEOUT || m->type == WR_MSG_ERROR ||
         m->type == WR_MSG_NOT_LEADER))
        tm->ask = 0;
    switch (m->type) {
    case WR_MSG_TM_REGISTERED:
        s_on_registered(self, tm, m);
        break;
    case WR_MSG_TIMEOUT:
        if (!tm->registered) wr_debug("taskmanager: %s not answering yet", tm->jm_addr);
        break;
    case WR_MSG_ERROR:
        s_on_refused(tm, m);
        break;
    case S_TICK: /* registering until registered; then a slot report now and then, or when the
                    slots in use changed */
        if (!tm->registered || ++tm->ticks % S_REPORT_EVERY == 0 ||
            s_slots_in_use(tm) != tm->reported)
            s_register(self, tm);
        break;
    case WR_MSG_PEER_DOWN:
        if (tm->registered)
            wr_warn("taskmanager: lost the jobmanager %s; registering again", tm->jm_id);
        tm->registered = false;
        if (!tm->ha.endpoints) s_learn_jm_id(self, tm); /* (with etcd: etcd says who leads) */
        break;
    case WR_MSG_PEER_UP:
        if (!tm->registered) s_register(self, tm);
        break;
    case S_LEADER:
        s_on_leader(self, tm, m);
        break;
    case WR_MSG_NOT_LEADER: /* a standby: registering again at the next tick */
        wr_debug("taskmanager: %s does not lead (yet)", m->from);
        break;
    case WR_MSG_PING:
        wr_reply(self, m, WR_MSG_PONG, m->data, m->len);
        break;
    case WR_MSG_TASK_DEPLOY:
        return s_from_jobmanager(self, tm, m) ? s_on_deploy(self, tm, m) : 0;
    case WR_MSG_TASK_CANCEL:
        if (s_from_jobmanager(self, tm, m)) s_on_cancel(tm, m);
        break;
    case WR_MSG_CHILD_STOPPED:
        s_on_child_stopped(tm, m);
        break;
    case WR_MSG_CHILD_FAILED:
        break; /* the subtask reported its failure to the JobManager itself */
    default:
        wr_debug("taskmanager: ignoring %s from %s", wr_msg_type_label(m->type), m->from);
        break;
    }
    return 0;
}

static const wr_behaviour_t s_behaviour = {
    .on_start = s_on_start, .on_message = s_on_message, .free_state = s_free_state};

int wr_taskmanager_spawn(wr_node_t *node, const wr_taskmanager_opts_t *o)
{
    bool ha = o->ha && o->ha->endpoints;
    if ((!ha && (!o->jm_node_id || !wr_node_id_valid(o->jm_node_id) || !o->jm_endpoint ||
                 strlen(o->jm_endpoint) >= 128)) ||
        o->slots == 0 || (o->cluster_id && strlen(o->cluster_id) >= WR_MSG_CLUSTER_MAX))
        return WR_EINVAL;
    s_tm_t *tm = calloc(1, sizeof *tm);
    if (!tm) return WR_ENOMEM;
    tm->lock_fd = -1;
    snprintf(tm->cluster, sizeof tm->cluster, "%s", o->cluster_id ? o->cluster_id : "");
    if (ha) tm->ha = *o->ha;
    if (!ha) {
        snprintf(tm->jm_id, sizeof tm->jm_id, "%s", o->jm_node_id);
        snprintf(tm->jm_endpoint, sizeof tm->jm_endpoint, "%s", o->jm_endpoint);
    }
    tm->slots = o->slots;
    tm->retry_ms = o->register_retry_ms ? o->register_retry_ms : 500;
    wr_spawn_opts_t so = {.path = WR_TASKMANAGER_PATH,
                          .behaviour = &s_behaviour,
                          .state = tm,
                          .restart = WR_RESTART_TRANSIENT};
    return wr_actor_spawn(node, &so, NULL);
}
