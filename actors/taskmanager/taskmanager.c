#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "actors/taskmanager/taskmanager.h"
#include "actors/taskmanager/task.h"
#include "bus/base/error.h"
#include "bus/base/log.h"
#include "bus/base/mp.h"
#include "bus/msgtypes.h"

#define S_TICK (WR_MSG_LOCAL_FIRST + 1)
#define S_REPORT_EVERY 10 /* registered: re-send the registration as a slot report every N ticks */

typedef struct {
    char jm_id[WR_NODE_MAX];
    char jm_endpoint[128];
    char jm_addr[WR_ADDR_MAX];
    uint32_t slots;
    int64_t retry_ms;
    bool registered;
    uint64_t jm_incarnation;
    uint64_t ask; /* outstanding registration ask, 0 when none */
    unsigned ticks;
    struct {
        char job[WR_JOB_ID_MAX];
        wr_actor_t *actor; /* counted */
    } *tasks;
    size_t ntasks, tasks_cap;
} s_tm_t;

static void s_free_state(void *state)
{
    s_tm_t *tm = state;
    for (size_t i = 0; i < tm->ntasks; i++) wr_actor_unref(&tm->tasks[i].actor);
    free(tm->tasks);
    free(tm);
}

/* TASK_DEPLOY [job id, attempt, vertex, subtask, topology, [[node, endpoint]...], credits,
 * batch records, checkpointing, restore path, rocksdb, rocksdb dir, rocksdb cache]: start the
 * subtask. A failure is reported to the JobManager as the subtask's. */
static int s_on_deploy(wr_actor_t *self, s_tm_t *tm, const wr_msg_t *m)
{
    wr_mp_reader_t r;
    wr_mp_reader_init(&r, m->data, m->len);
    uint32_t n = 0, np = 0;
    uint64_t attempt = 0, vertex = 0, subtask = 0, credits = 0, batch = 0;
    wr_task_opts_t o = {0};
    wr_topology_t *topo = NULL;
    wr_mp_read_array(&r, &n);
    wr_mp_read_str_copy(&r, o.job_id, sizeof o.job_id);
    wr_mp_read_uint(&r, &attempt);
    wr_mp_read_uint(&r, &vertex);
    wr_mp_read_uint(&r, &subtask);
    int rc = r.err || n != 13 ? WR_EPROTO : wr_topology_unpack(&r, &topo);
    if (!rc && (rc = wr_mp_read_array(&r, &np)) == 0 && np > 0) {
        o.place_node = calloc(np, sizeof *o.place_node);
        o.place_endpoint = calloc(np, sizeof *o.place_endpoint);
        if (!o.place_node || !o.place_endpoint) rc = WR_ENOMEM;
        for (uint32_t i = 0; !rc && i < np; i++) {
            uint32_t two = 0;
            wr_mp_read_array(&r, &two);
            wr_mp_read_str_copy(&r, o.place_node[i], WR_NODE_MAX);
            wr_mp_read_str_copy(&r, o.place_endpoint[i], 128);
            if (r.err || two != 2 || !wr_node_id_valid(o.place_node[i])) rc = WR_EPROTO;
        }
    }
    if (!rc) {
        wr_mp_read_uint(&r, &credits);
        wr_mp_read_uint(&r, &batch);
        wr_mp_read_bool(&r, &o.checkpointing);
        wr_mp_read_str_copy(&r, o.restore, sizeof o.restore);
        wr_mp_read_bool(&r, &o.rocksdb);
        wr_mp_read_str_copy(&r, o.rocksdb_dir, sizeof o.rocksdb_dir);
        wr_mp_read_uint(&r, &o.rocksdb_cache);
        if (r.err || wr_mp_remaining(&r) || !credits || credits > 65536 || !batch || batch > 1 << 20 ||
            vertex > UINT32_MAX || subtask > UINT32_MAX || attempt > UINT32_MAX)
            rc = WR_EPROTO;
    }
    if (!rc && tm->ntasks == tm->tasks_cap) {
        size_t ncap = tm->tasks_cap ? tm->tasks_cap * 2 : 8;
        void *grown = realloc(tm->tasks, ncap * sizeof *tm->tasks);
        if (!grown) rc = WR_ENOMEM;
        else {
            tm->tasks = grown;
            tm->tasks_cap = ncap;
        }
    }
    if (rc) {
        wr_warn("taskmanager: bad deployment from %s: %s", m->from, wr_strerror(rc));
        wr_topology_destroy(&topo);
        free(o.place_node);
        free(o.place_endpoint);
        return wr_reply_error(self, m, rc, "bad task-deploy");
    }
    o.attempt = (uint32_t)attempt;
    o.vertex = (uint32_t)vertex;
    o.subtask = (uint32_t)subtask;
    o.credits = (uint32_t)credits;
    o.batch_records = (uint32_t)batch;
    o.nplaces = np;
    snprintf(o.jm_addr, sizeof o.jm_addr, "%s", tm->jm_addr);
    wr_actor_t *task = NULL;
    char job[WR_JOB_ID_MAX];
    memcpy(job, o.job_id, sizeof job);
    rc = wr_task_spawn(wr_actor_node(self), self, &topo, &o);
    if (rc == 0) {
        char path[WR_PATH_MAX];
        wr_task_path(path, job, (uint32_t)attempt, (uint32_t)vertex, (uint32_t)subtask);
        task = wr_node_lookup(wr_actor_node(self), path);
    }
    if (task) {
        memcpy(tm->tasks[tm->ntasks].job, job, sizeof job);
        tm->tasks[tm->ntasks++].actor = task;
    } else {
        wr_warn("taskmanager: cannot start subtask %llu.%llu of job %s: %s",
                (unsigned long long)vertex, (unsigned long long)subtask, job, wr_strerror(rc));
    }
    return 0;
}

/* TASK_CANCEL [job id]: stop every subtask of the job here. */
static void s_on_cancel(s_tm_t *tm, const wr_msg_t *m)
{
    wr_mp_reader_t r;
    wr_mp_reader_init(&r, m->data, m->len);
    uint32_t n = 0;
    char job[WR_JOB_ID_MAX];
    wr_mp_read_array(&r, &n);
    wr_mp_read_str_copy(&r, job, sizeof job);
    if (r.err || n != 1) return;
    size_t k = 0;
    for (size_t i = 0; i < tm->ntasks; i++) {
        if (strcmp(tm->tasks[i].job, job)) {
            tm->tasks[k++] = tm->tasks[i];
            continue;
        }
        wr_actor_stop(tm->tasks[i].actor);
        wr_actor_unref(&tm->tasks[i].actor);
    }
    tm->ntasks = k;
}

static int s_register(wr_actor_t *self, s_tm_t *tm)
{
    if (tm->ask) return 0; /* one at a time */
    wr_node_t *node = wr_actor_node(self);
    msgpack_sbuffer sb;
    msgpack_sbuffer_init(&sb);
    msgpack_packer pk;
    msgpack_packer_init(&pk, &sb, msgpack_sbuffer_write);
    msgpack_pack_array(&pk, 4);
    wr_pack_str(&pk, wr_node_id(node));
    wr_pack_str(&pk, wr_node_endpoint(node));
    msgpack_pack_uint32(&pk, tm->slots);
    msgpack_pack_uint64(&pk, wr_node_incarnation(node));
    int rc = wr_ask(self, tm->jm_addr, WR_MSG_TM_REGISTER, sb.data, sb.size, tm->retry_ms * 2,
                    &tm->ask);
    msgpack_sbuffer_destroy(&sb);
    if (rc) {
        tm->ask = 0;
        wr_debug("taskmanager: registration not sent: %s", wr_strerror(rc));
    }
    return 0; /* retried at the next tick */
}

static int s_on_start(wr_actor_t *self, void *state)
{
    s_tm_t *tm = state;
    wr_node_t *node = wr_actor_node(self);
    tm->registered = false;
    tm->ask = 0;
    int rc = wr_node_connect(node, tm->jm_id, tm->jm_endpoint);
    if (!rc) rc = wr_watch_peer(self, tm->jm_id);
    if (!rc) rc = wr_timer_every(self, tm->retry_ms, S_TICK, NULL);
    if (!rc) rc = s_register(self, tm);
    return rc;
}

static void s_on_registered(s_tm_t *tm, const wr_msg_t *m)
{
    wr_mp_reader_t r;
    wr_mp_reader_init(&r, m->data, m->len);
    uint32_t n = 0;
    uint64_t inc = 0;
    int64_t timeout = 0;
    wr_mp_read_array(&r, &n);
    wr_mp_read_uint(&r, &inc);
    wr_mp_read_int(&r, &timeout);
    if (r.err || n != 2) {
        wr_warn("taskmanager: malformed registration answer from %s", m->from);
        return;
    }
    if (!tm->registered || tm->jm_incarnation != inc)
        wr_info("taskmanager: registered with %s (%u slots)", tm->jm_addr, tm->slots);
    tm->registered = true;
    tm->jm_incarnation = inc;
}

static int s_on_message(wr_actor_t *self, void *state, wr_msg_t **msgp)
{
    s_tm_t *tm = state;
    wr_msg_t *m = *msgp;
    if (m->corr && m->corr == tm->ask &&
        (m->type == WR_MSG_TM_REGISTERED || m->type == WR_MSG_TIMEOUT || m->type == WR_MSG_ERROR))
        tm->ask = 0;
    switch (m->type) {
    case WR_MSG_TM_REGISTERED: s_on_registered(tm, m); break;
    case WR_MSG_TIMEOUT:
    case WR_MSG_ERROR:
        if (!tm->registered) wr_debug("taskmanager: %s not answering yet", tm->jm_addr);
        break;
    case S_TICK:
        if (!tm->registered || ++tm->ticks % S_REPORT_EVERY == 0) s_register(self, tm);
        break;
    case WR_MSG_PEER_DOWN:
        if (tm->registered) wr_warn("taskmanager: lost the jobmanager %s; registering again", tm->jm_id);
        tm->registered = false;
        break;
    case WR_MSG_PEER_UP:
        if (!tm->registered) s_register(self, tm);
        break;
    case WR_MSG_PING: wr_reply(self, m, WR_MSG_PONG, m->data, m->len); break;
    case WR_MSG_TASK_DEPLOY: return s_on_deploy(self, tm, m);
    case WR_MSG_TASK_CANCEL: s_on_cancel(tm, m); break;
    case WR_MSG_CHILD_FAILED: /* the subtask reported its failure to the JobManager itself */
    case WR_MSG_CHILD_STOPPED: break;
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
    if (!o->jm_node_id || !wr_node_id_valid(o->jm_node_id) || !o->jm_endpoint ||
        strlen(o->jm_endpoint) >= 128 || o->slots == 0)
        return WR_EINVAL;
    s_tm_t *tm = calloc(1, sizeof *tm);
    if (!tm) return WR_ENOMEM;
    snprintf(tm->jm_id, sizeof tm->jm_id, "%s", o->jm_node_id);
    snprintf(tm->jm_endpoint, sizeof tm->jm_endpoint, "%s", o->jm_endpoint);
    snprintf(tm->jm_addr, sizeof tm->jm_addr, "%s/%s", o->jm_node_id, WR_JOBMANAGER_PATH);
    tm->slots = o->slots;
    tm->retry_ms = o->register_retry_ms ? o->register_retry_ms : 500;
    wr_spawn_opts_t so = {.path = WR_TASKMANAGER_PATH,
                          .behaviour = &s_behaviour,
                          .state = tm,
                          .restart = WR_RESTART_TRANSIENT};
    return wr_actor_spawn(node, &so, NULL);
}
