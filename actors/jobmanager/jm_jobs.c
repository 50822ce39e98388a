/* The JobManager's job registry and scheduling (jm_jobs.h): submission, placement, deployment,
 * subtask reports, failover, cancellation and the end of a job. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

#include "actors/dataflow/job/job_connectors.h"
#include "actors/jobmanager/jm_admit.h"
#include "actors/jobmanager/jm_jobs_int.h"
#include "actors/jobmanager/jm_paths.h"
#include "bus/base/clock.h"
#include "bus/base/error.h"
#include "bus/base/log.h"
#include "bus/base/mp.h"
#include "state/ckpt_store.h"

#define S_CREDITS       32 /* when the options give none */
#define S_BATCH_RECORDS 1024

static const char *const s_state_names[] = {"CREATED",  "RUNNING", "FINISHED",
                                            "CANCELED", "FAILED",  "RESTARTING"};

const char *wr__job_state_name(enum wr__job_state s)
{
    return s_state_names[s];
}

static void s_job_free(wr__job_t **jp)
{
    wr__job_t *j = *jp;
    if (!j) return;
    wr__coord_destroy(&j->coord);
    wr__restart_destroy(&j->restart);
    wr_topology_destroy(&j->topo);
    msgpack_sbuffer_destroy(&j->packed);
    free(j->sub);
    free(j->node);
    free(j->place_endpoint);
    free(j->group_node);
    free(j->collected);
    wr_strbuf_release(&j->resources);
    free(j);
    *jp = NULL;
}

wr__jobs_t *wr__jobs_new(const wr_jobmanager_opts_t *o, wr__tms_t *tms, wr__leader_t *leader)
{
    wr__jobs_t *js = calloc(1, sizeof *js);
    if (!js) return NULL;
    js->o = o;
    wr_logrl_init(&js->log, 0);
    js->tms = tms;
    js->leader = leader;
    return js;
}

void wr__jobs_forget(wr__jobs_t *js)
{
    for (size_t i = 0; i < js->n; i++)
        s_job_free(&js->v[i]);
    js->n = 0;
}

void wr__jobs_destroy(wr__jobs_t **jsp)
{
    wr__jobs_t *js = *jsp;
    if (!js) return;
    wr__jobs_forget(js);
    free(js->v);
    free(js);
    *jsp = NULL;
}

wr__job_t *wr__jobs_find(const wr__jobs_t *js, const char *id)
{
    for (size_t i = 0; i < js->n; i++)
        if (!strcmp(js->v[i]->id, id)) return js->v[i];
    return NULL;
}

wr__job_t *wr__jobs_arg(const wr__jobs_t *js, const wr_msg_t *m)
{
    wr_msg_job_ref_t ref;
    return wr_msg_job_ref_unpack(m, &ref) ? NULL : wr__jobs_find(js, ref.job);
}

static bool s_all_running(const wr__job_t *j)
{
    for (uint32_t k = 0; k < j->nsub; k++)
        if (strcmp(j->sub[k].state, "running")) return false;
    return true;
}

wr__job_ref_t wr__job_ref(const wr__jobs_t *js, const wr__job_t *j)
{
    bool running = j->state == WR__JOB_RUNNING;
    return (wr__job_ref_t){.id = j->id,
                           .state = s_state_names[j->state],
                           .attempt = j->attempt,
                           .epoch = wr__leader_epoch(js->leader),
                           .plan = &j->plan,
                           .max_parallelism = j->topo->max_parallelism,
                           .nsub = j->nsub,
                           .nodes = (const char(*)[WR_NODE_MAX])j->node,
                           .running = running,
                           .all_running = running && s_all_running(j),
                           .leader = js->leader};
}

/* ---- the record a successor reads (jm_leader.h) ---- */

/* The job's pointer: the attempt deployed and the checkpoint a restart restores (the
 * coordinator records each checkpoint it completes itself, before announcing it). */
static int s_record_pointer(wr__jobs_t *js, wr_actor_t *self, const wr__job_t *j)
{
    const char *latest = wr__coord_latest_path(j->coord);
    int rc = wr__leader_put_pointer(js->leader, self, j->id, j->attempt,
                                    latest[0] ? latest : j->restore);
    if (rc) wr_warn("jobmanager: cannot record job %s for a successor: %s", j->id, wr_strerror(rc));
    return rc;
}

/* ---- stopping a job's subtasks ---- */

/* Sets the state of every subtask of j that is not over yet (deploying, running) to state. */
static void s_mark_open(wr__job_t *j, const char *state)
{
    for (uint32_t k = 0; k < j->nsub; k++) {
        const char *now = j->sub[k].state;
        if (!strcmp(now, "deploying") || !strcmp(now, "running"))
            snprintf(j->sub[k].state, sizeof j->sub[k].state, "%s", state);
    }
}

/* Frees the slots j holds (a second call frees nothing). */
static void s_give_slots(wr__jobs_t *js, wr__job_t *j)
{
    for (uint32_t g = 0; g < j->plan.slots; g++) {
        if (j->group_node[g][0]) wr__tms_give_slot(js->tms, j->group_node[g]);
        j->group_node[g][0] = '\0';
    }
}

/* Stops j's subtasks on the live TaskManagers that hold them (one cancel each) and frees its
 * slots. A second release frees nothing. */
static void s_release(wr__jobs_t *js, wr_actor_t *self, wr__job_t *j)
{
    wr_msg_job_ref_t cancel;
    memcpy(cancel.job, j->id, sizeof cancel.job);
    uint64_t epoch = wr__leader_epoch(js->leader);
    for (uint32_t g = 0; g < j->plan.slots; g++) {
        const char *tm = j->group_node[g];
        bool first = tm[0] != '\0';
        for (uint32_t h = 0; h < g && first; h++)
            first = strcmp(j->group_node[h], tm) != 0;
        if (!first || !wr__tms_alive(js->tms, tm)) continue;
        char to[WR_ADDR_MAX];
        snprintf(to, sizeof to, "%s/%s", tm, WR_TASKMANAGER_PATH);
        int rc = wr__jm_send(self, to, WR_MSG_TASK_CANCEL, 0, epoch, &wr_msg_job_ref_decl, &cancel);
        if (rc) wr_warn("jobmanager: cannot stop job %s on %s: %s", j->id, tm, wr_strerror(rc));
    }
    s_give_slots(js, j);
}

/* Ends j in state (FINISHED, CANCELED, FAILED), with a reason. */
static void s_end(wr__jobs_t *js, wr_actor_t *self, wr__job_t *j, enum wr__job_state state,
                  const char *why)
{
    if (j->state != WR__JOB_RUNNING && j->state != WR__JOB_CREATED &&
        j->state != WR__JOB_RESTARTING)
        return;
    wr__coord_abort(j->coord, "the job ended");
    j->state = state;
    j->ended_ms = wr_wall_ms();
    if (why) snprintf(j->error, sizeof j->error, "%s", why);
    if (state == WR__JOB_FAILED)
        wr_warn("jobmanager: job %s failed: %s", j->id, j->error);
    else
        wr_info("jobmanager: job %s %s", j->id, s_state_names[state]);
    s_mark_open(j, state == WR__JOB_FINISHED ? "finished" : "canceled");
    s_release(js, self, j);
    if (wr__leader_fence(js->leader, self)) return; /* a successor ends it or takes it over */
    wr__jm_drop_lost_attempts(j);
    int rc = wr__leader_remove_job(js->leader, self, j->id);
    if (rc) wr_warn("jobmanager: cannot remove job %s's record: %s", j->id, wr_strerror(rc));
}

/* j failed (a subtask failed, a TaskManager was lost, a checkpoint failed too often): restart it
 * from its latest checkpoint as its restart strategy allows, else end it FAILED. */
static void s_failed(wr__jobs_t *js, wr_actor_t *self, wr__job_t *j, const char *why)
{
    if (j->state != WR__JOB_RUNNING) return;
    int64_t delay = 0;
    if (!wr__restart_on_failure(j->restart, &js->o->restart, wr__coord_enabled(j->coord),
                                wr_wall_ms(), &delay)) {
        char text[WR__JOB_ERROR_MAX];
        snprintf(text, sizeof text, "%s%s", why,
                 wr__restart_count(j->restart) ? " (no restarts left)" : "");
        s_end(js, self, j, WR__JOB_FAILED, text);
        return;
    }
    const char *latest = wr__coord_latest_path(j->coord);
    wr_warn("jobmanager: job %s failed over (restart %u in %lld ms, from %s): %s", j->id,
            wr__restart_count(j->restart), (long long)delay,
            latest[0]       ? latest
            : j->restore[0] ? j->restore
                            : "the start",
            why);
    wr__coord_abort(j->coord, "the job failed over");
    s_mark_open(j, "canceled");
    s_release(js, self, j);
    j->state = WR__JOB_RESTARTING;
    snprintf(j->error, sizeof j->error, "restarting after: %s", why);
}

/* What a service's verdict asks of j. */
static void s_apply(wr__jobs_t *js, wr_actor_t *self, wr__job_t *j, const wr__verdict_t *v)
{
    switch (v->kind) {
    case WR__VERDICT_NONE:
        break;
    case WR__VERDICT_FAIL_OVER:
        s_failed(js, self, j, v->why);
        break;
    case WR__VERDICT_FINISH:
        s_end(js, self, j, WR__JOB_FINISHED, v->why);
        break;
    case WR__VERDICT_FAIL:
        s_end(js, self, j, WR__JOB_FAILED, v->why);
        break;
    }
}

void wr__jobs_tm_lost(wr__jobs_t *js, wr_actor_t *self, const char *tm, const char *reason)
{
    for (size_t i = 0; i < js->n; i++) {
        wr__job_t *j = js->v[i];
        if (j->state != WR__JOB_RUNNING) continue;
        bool hosted = false;
        for (uint32_t k = 0; k < j->nsub; k++) {
            if (strcmp(j->node[k], tm)) continue;
            hosted = true;
            snprintf(j->sub[k].state, sizeof j->sub[k].state, "failed");
        }
        if (!hosted) continue;
        char why[256];
        snprintf(why, sizeof why, "taskmanager %s lost: %s", tm, reason);
        s_failed(js, self, j, why);
    }
}

/* ---- placement and deployment ---- */

/* Puts every slot group of j on a live TaskManager with a free slot. false (nothing taken) when
 * the cluster has too few free slots. */
static bool s_place(wr__jobs_t *js, wr__job_t *j)
{
    if (wr__tms_free_slots(js->tms, true, NULL) < j->plan.slots) return false;
    /* slot sharing (Flink's default): subtask g of every vertex shares slot group g */
    for (uint32_t g = 0; g < j->plan.slots; g++) {
        char endpoint[128];
        if (wr__tms_take_slot(js->tms, j->group_node[g], endpoint)) { /* cannot be: counted above */
            s_give_slots(js, j);
            return false;
        }
        for (uint32_t v = 0; v < j->plan.n; v++) {
            if (g >= j->plan.v[v].parallelism) continue;
            uint32_t flat = wr_plan_index(&j->plan, v, g);
            snprintf(j->node[flat], WR_NODE_MAX, "%s", j->group_node[g]);
            snprintf(j->place_endpoint[flat], 128, "%s", endpoint);
            wr__subtask_t *s = &j->sub[flat];
            snprintf(s->state, sizeof s->state, "deploying");
            s->stats.emit_delay_p50_ms = s->stats.emit_delay_p99_ms =
                s->stats.emit_delay_last_p99_ms = -1;
        }
    }
    return true;
}

/* Sends every subtask of j's current attempt to its TaskManager, with the leader's epoch. */
static int s_deploy(wr__jobs_t *js, wr_actor_t *self, wr__job_t *j)
{
    wr_msg_place_t *places = calloc(j->nsub, sizeof *places);
    if (!places) return WR_ENOMEM;
    for (uint32_t k = 0; k < j->nsub; k++) {
        memcpy(places[k].node, j->node[k], sizeof places[k].node);
        memcpy(places[k].endpoint, j->place_endpoint[k], sizeof places[k].endpoint);
    }
    wr_msg_task_deploy_t d = {.attempt = j->attempt,
                              .topology = {(const uint8_t *)j->packed.data, j->packed.size},
                              .places = {places, j->nsub},
                              .credits =
                                  js->o->channel_credits ? js->o->channel_credits : S_CREDITS,
                              .batch_records = S_BATCH_RECORDS,
                              .checkpointing = wr__coord_enabled(j->coord),
                              .rocksdb = j->rocksdb,
                              .rocksdb_cache = j->rocksdb_cache};
    memcpy(d.job, j->id, sizeof d.job);
    memcpy(d.restore, j->restore, sizeof d.restore);
    int rc = (size_t)snprintf(d.rocksdb_dir, sizeof d.rocksdb_dir, "%s",
                              j->rocksdb_dir ? j->rocksdb_dir : "") < sizeof d.rocksdb_dir
                 ? 0
                 : WR_ETOOBIG;
    const char *ck = wr__coord_dir(j->coord);
    if (!rc && ck && !j->rocksdb &&
        (size_t)snprintf(d.ahead_dir, sizeof d.ahead_dir, "%s/%s", ck, WR_CKPT_AHEAD_DIR) >=
            sizeof d.ahead_dir)
        d.ahead_dir[0] = '\0'; /* (too long: nothing is written ahead) */
    uint64_t epoch = wr__leader_epoch(js->leader);
    for (uint32_t v = 0; !rc && v < j->plan.n; v++) {
        for (uint32_t i = 0; !rc && i < j->plan.v[v].parallelism; i++) {
            char to[WR_ADDR_MAX];
            snprintf(to, sizeof to, "%s/%s", j->node[wr_plan_index(&j->plan, v, i)],
                     WR_TASKMANAGER_PATH);
            d.vertex = v;
            d.subtask = i;
            rc = wr__jm_send(self, to, WR_MSG_TASK_DEPLOY, 0, epoch, &wr_msg_task_deploy_decl, &d);
        }
    }
    free(places);
    return rc;
}

/* Deploys j's placed attempt (recorded for a successor first); a failed deployment fails it
 * over. */
static void s_start_attempt(wr__jobs_t *js, wr_actor_t *self, wr__job_t *j)
{
    if (s_record_pointer(js, self, j) == WR_ESTALE) return; /* deposed: deploys nothing */
    int rc = s_deploy(js, self, j);
    if (rc) {
        char text[96];
        snprintf(text, sizeof text, "deployment failed: %s", wr_strerror(rc));
        s_failed(js, self, j, text);
    }
}

/* ---- submission ---- */

/* --parallelism N of a restore: every operator at N but those that must stay at 1 (file sources,
 * single-file sinks). */
static void s_set_parallelism(wr_topology_t *t, uint32_t n)
{
    wr_topology_set_parallelism(t, n);
}

/* Whether the JobManager's caps and confined paths admit a submitted job j: 0, or WR_EINVAL
 * with why in text (WR_ENOMEM). */
static int s_admit(const wr__jobs_t *js, const wr__job_t *j, char *text, size_t cap)
{
    uint32_t most = js->o->max_subtasks_per_job;
    if (most && j->nsub > most) {
        snprintf(text, cap,
                 "the job has %u subtasks, more than jobmanager.max-subtasks-per-job (%u): lower "
                 "its parallelism, or raise that key in the JobManager's configuration",
                 j->nsub, most);
        return WR_EINVAL;
    }
    return wr__jm_paths_check_job(js->o, j->topo, j->restore, text, cap);
}

/* A job from a JOB_SUBMIT payload (a topology, and maybe a restore path and a parallelism: 0, as
 * the topology says): planned, its topology packed, its restore checked and its coordinator made.
 * id NULL: a new job (admitted by s_admit) with a new id; restore non-empty: restore that instead
 * of the payload's. NULL with *code (WR_EPROTO, WR_EINVAL, WR_ECONFIG..., WR_ENOMEM) and a reason
 * in text. */
static wr__job_t *s_build(wr__jobs_t *js, const uint8_t *data, size_t len, const char *id,
                          const char *restore, int *code, char *text, size_t cap)
{
    wr_msg_job_submit_t sub;
    wr_mp_reader_t r;
    wr__job_t *j = calloc(1, sizeof *j);
    wr_strbuf_t err;
    wr_strbuf_init(&err);
    *code = WR_ENOMEM;
    snprintf(text, cap, "out of memory");
    if (!j) goto fail;
    msgpack_sbuffer_init(&j->packed);
    wr_strbuf_init(&j->resources);
    int rc = wr_msg_job_submit_decode(data, len, &sub);
    if (!rc) {
        wr_mp_reader_init(&r, sub.topology.p, sub.topology.len);
        rc = wr_topology_unpack(&r, &j->topo);
    }
    if (rc == WR_ENOMEM) goto fail;
    if (rc || sub.parallelism > WR_TOPO_MAX_PARALLELISM) {
        *code = WR_EPROTO;
        snprintf(text, cap, "the topology does not decode or is invalid");
        goto fail;
    }
    memcpy(j->restore, sub.restore, sizeof j->restore);
    if (sub.parallelism) s_set_parallelism(j->topo, sub.parallelism);
    if (restore && restore[0]) snprintf(j->restore, sizeof j->restore, "%s", restore);
    j->rocksdb = js->o->rocksdb;
    j->rocksdb_dir = js->o->rocksdb_dir;
    j->rocksdb_cache = js->o->rocksdb_cache;
    if ((*code = wr_plan_build(j->topo, &j->plan, &err))) {
        *code = WR_EINVAL;
        snprintf(text, cap, "cannot plan the job: %s", err.buf);
        goto fail;
    }
    if (id) {
        snprintf(j->id, sizeof j->id, "%s", id);
    } else {
        uint64_t rnd = 0;
        if (getrandom(&rnd, sizeof rnd, 0) != sizeof rnd) rnd = (uint64_t)wr_now_ns();
        snprintf(j->id, sizeof j->id, "%08llx",
                 (unsigned long long)((rnd ^ ++js->next_job) & 0xffffffffull));
    }
    j->nsub = wr_plan_subtasks(&j->plan);
    /* a new job: within the caps and the confined paths, before anything is allocated for its
     * subtasks or read from its restore path (one taken over was admitted by its first leader) */
    if (!id && (*code = s_admit(js, j, text, cap))) goto fail;
    j->sub = calloc(j->nsub, sizeof *j->sub);
    j->node = calloc(j->nsub, sizeof *j->node);
    j->place_endpoint = calloc(j->nsub, sizeof *j->place_endpoint);
    j->group_node = calloc(j->plan.slots, sizeof *j->group_node);
    j->restart = wr__restart_new();
    msgpack_packer pk;
    msgpack_packer_init(&pk, &j->packed, msgpack_sbuffer_write);
    wr_job_resources(j->topo, &j->resources);
    *code = WR_ENOMEM;
    snprintf(text, cap, "out of memory");
    if (!j->sub || !j->node || !j->place_endpoint || !j->group_node || !j->restart ||
        j->resources.failed || wr_topology_pack(j->topo, &pk))
        goto fail;
    /* checkpoint storage, and whether the savepoint or checkpoint can be restored */
    uint64_t restored_id = 0;
    if ((*code = wr__jm_check_restore(j, &restored_id, &err)) ||
        !(j->coord = wr__coord_new(js->o, j->id, j->nsub, restored_id, &err, code))) {
        snprintf(text, cap, "cannot start the job: %s", err.len ? err.buf : wr_strerror(*code));
        if (*code != WR_ENOMEM) *code = WR_EINVAL;
        goto fail;
    }
    wr_strbuf_release(&err);
    return j;
fail:
    wr_strbuf_release(&err);
    s_job_free(&j);
    return NULL;
}

static bool s_add(wr__jobs_t *js, wr__job_t *j)
{
    if (js->n == js->cap) {
        size_t ncap = js->cap ? js->cap * 2 : 8;
        wr__job_t **grown = realloc(js->v, ncap * sizeof *grown);
        if (!grown) return false;
        js->v = grown;
        js->cap = ncap;
    }
    js->v[js->n++] = j;
    return true;
}

/* The job's id (JOB_SUBMITTED, JOB_CANCELED), answering m. */
static void s_reply_id(wr_actor_t *self, const wr_msg_t *m, uint16_t type, const char *id)
{
    wr_msg_job_ref_t ref;
    snprintf(ref.job, sizeof ref.job, "%s", id);
    wr__jm_reply(self, m, type, &wr_msg_job_ref_decl, &ref);
}

/* Whether a job that has not ended writes what j would (its sinks' file or folder): then text
 * names that job and the resource. Checked before j's sinks recover, which would delete that
 * job's files in progress. */
static bool s_shares_resource(const wr__jobs_t *js, const wr__job_t *j, char *text, size_t cap)
{
    for (size_t i = 0; i < js->n; i++) {
        const wr__job_t *o = js->v[i];
        size_t len = 0;
        const char *r = NULL;
        if (o->state == WR__JOB_RUNNING || o->state == WR__JOB_CREATED ||
            o->state == WR__JOB_RESTARTING)
            r = wr_job_resources_shared(j->resources.buf, o->resources.buf, &len);
        if (!r) continue;
        snprintf(text, cap,
                 "job %s (%s) is %s and writes to %.*s: two jobs must not write into one sink "
                 "path; cancel it (weir cancel %s) or give this job's sink another path",
                 o->id, o->topo->name, o->state == WR__JOB_RESTARTING ? "restarting" : "running",
                 (int)len, r, o->id);
        return true;
    }
    return false;
}

int wr__jobs_on_submit(wr__jobs_t *js, wr_actor_t *self, const wr_msg_t *m)
{
    int code = 0;
    char text[640];
    wr__job_t *j = s_build(js, m->data, m->len, NULL, NULL, &code, text, sizeof text);
    if (!j) return code == WR_ENOMEM ? code : wr_reply_error(self, m, code, text);
    if ((code = wr__jm_admit(j->topo, js->o, text, sizeof text))) { /* what cannot run */
        s_job_free(&j);
        return wr_reply_error(self, m, code, text);
    }
    if (s_shares_resource(js, j, text, sizeof text)) {
        s_job_free(&j);
        return wr_reply_error(self, m, WR_EEXIST, text);
    }
    wr_strbuf_t err;
    wr_strbuf_init(&err);
    int rc = wr__jm_recover_sinks(j, &err); /* what a savepoint's exactly-once sinks left pending */
    if (rc) {
        snprintf(text, sizeof text, "cannot start the job: %s",
                 err.len ? err.buf : wr_strerror(rc));
        wr_strbuf_release(&err);
        s_job_free(&j);
        return wr_reply_error(self, m, rc == WR_ENOMEM ? WR_ENOMEM : WR_EINVAL, text);
    }
    wr_strbuf_release(&err);
    if (!s_place(js, j)) {
        uint32_t alive = 0, free_slots = wr__tms_free_slots(js->tms, false, &alive);
        snprintf(text, sizeof text,
                 "not enough slots: the job needs %u (its largest parallelism), the cluster has %u "
                 "free on %u live TaskManagers; start more TaskManagers or lower the parallelism",
                 j->plan.slots, free_slots, alive);
        s_job_free(&j);
        return wr_reply_error(self, m, WR_EAGAIN, text);
    }
    if ((rc = wr__leader_put_job(js->leader, self, j->id, m->data, m->len))) {
        /* a job a successor would not know is not accepted (Flink's JobGraphStore) */
        snprintf(text, sizeof text, "cannot record the job for a standby JobManager: %s",
                 rc == WR_ESTALE ? "this JobManager no longer leads the cluster" : wr_strerror(rc));
        s_give_slots(js, j);
        s_job_free(&j);
        return rc == WR_ENOMEM ? rc : wr_reply_error(self, m, rc, text);
    }
    if (!s_add(js, j)) {
        s_give_slots(js, j);
        wr__leader_remove_job(js->leader, self, j->id);
        s_job_free(&j);
        return WR_ENOMEM;
    }
    j->state = WR__JOB_RUNNING;
    j->submitted_ms = wr_wall_ms();
    wr_info("jobmanager: job %s (%s) submitted: %u vertices, %u subtasks, %u slots%s%s", j->id,
            j->topo->name, j->plan.n, j->nsub, j->plan.slots, j->restore[0] ? ", restoring " : "",
            j->restore);
    s_start_attempt(js, self, j);
    s_reply_id(self, m, WR_MSG_JOB_SUBMITTED, j->id);
    return 0;
}

/* One record of the old leader's: the job restarts from its checkpoint in an attempt past the
 * recorded one, once slots allow. */
static int s_take_over(void *ctx, const wr__leader_job_t *rec)
{
    wr__jobs_t *js = ctx;
    int code = 0;
    char text[640];
    if (wr__jobs_find(js, rec->job_id)) return 0;
    char restore[WR_TASK_RESTORE_MAX];
    if (wr__jm_pointer_checkpoint(rec->checkpoint, restore, sizeof restore)) {
        wr_warn("jobmanager: cannot take job %s over: its checkpoint path is too long",
                rec->job_id);
        return 0;
    }
    wr__job_t *j =
        s_build(js, rec->graph, rec->graph_len, rec->job_id, restore, &code, text, sizeof text);
    if (!j) {
        wr_warn("jobmanager: cannot take job %s over: %s", rec->job_id, text);
        return code == WR_ENOMEM ? code : 0;
    }
    if (!s_add(js, j)) {
        s_job_free(&j);
        return WR_ENOMEM;
    }
    j->attempt = rec->attempt; /* the restart deploys the next one */
    j->state = WR__JOB_RESTARTING;
    j->submitted_ms = wr_wall_ms();
    snprintf(j->error, sizeof j->error, "taken over by a new leader");
    wr__restart_schedule(j->restart, j->submitted_ms);
    wr_info("jobmanager: job %s taken over from attempt %u%s%s", j->id, rec->attempt,
            j->restore[0] ? ", restoring " : "", j->restore);
    return 0;
}

int wr__jobs_take_over(wr__jobs_t *js)
{
    return wr__leader_jobs(js->leader, s_take_over, js);
}

/* ---- subtask reports ---- */

/* Keeps the lines a collect sink of j's current attempt reported. */
static void s_collect(wr__job_t *j, wr_strv_t lines)
{
    char *grown = lines.len ? realloc(j->collected, j->collected_len + lines.len) : NULL;
    if (!grown) {
        if (lines.len) wr_warn("jobmanager: job %s: no memory for collected lines", j->id);
        return;
    }
    memcpy(grown + j->collected_len, lines.s, lines.len);
    j->collected = grown;
    j->collected_len += lines.len;
}

int wr__jobs_on_task_state(wr__jobs_t *js, wr_actor_t *self, const wr_msg_t *m)
{
    wr_msg_task_state_t r;
    if (wr_msg_task_state_unpack(m, &r)) {
        wr_warn_limited(&js->log, "jobmanager: dropping a malformed task report from %s", m->from);
        return 0;
    }
    wr__job_t *j = wr__jobs_find(js, r.job);
    if (!j || r.vertex >= j->plan.n || r.subtask >= j->plan.v[r.vertex].parallelism) {
        wr_debug("jobmanager: ignoring a task report from %s", m->from);
        return 0;
    }
    /* an old attempt's, lines and all: the attempt that replaced it makes them again */
    if (r.stats.attempt != j->attempt || j->state != WR__JOB_RUNNING) return 0;
    wr__subtask_t *s = &j->sub[wr_plan_index(&j->plan, r.vertex, r.subtask)];
    bool was_over = !strcmp(s->state, "finished") || !strcmp(s->state, "failed");
    bool was_finished = !strcmp(s->state, "finished");
    if (!was_over) s_collect(j, r.stats.collected); /* a final report's (once) */
    s->stats = r.stats;
    s->stats.collected = (wr_strv_t){NULL, 0}; /* (a view into m) */
    memcpy(s->state, r.state, sizeof s->state);
    if (!strcmp(r.state, "running") && wr__restart_recovering(j->restart)) {
        bool all = true; /* recovered: every subtask of the new attempt runs again */
        for (uint32_t k = 0; k < j->nsub && all; k++)
            all = strcmp(j->sub[k].state, "deploying") != 0;
        if (all) wr__restart_recovered(j->restart, wr_wall_ms());
    }
    if (!strcmp(r.state, "failed") && r.deterministic) {
        char why[WR__JOB_WHY_MAX]; /* a restart would fail the same way: the job ends, whatever its
                                      strategy */
        snprintf(why, sizeof why, "subtask %s cannot start, and no restart would: %s", m->from,
                 r.error);
        s_end(js, self, j, WR__JOB_FAILED, why);
    } else if (!strcmp(r.state, "failed")) {
        char why[WR__JOB_WHY_MAX];
        snprintf(why, sizeof why, "subtask %s failed: %s", m->from, r.error);
        s_failed(js, self, j, why);
    } else if (!strcmp(r.state, "finished") && !was_finished && ++j->finished == j->nsub) {
        s_end(js, self, j, WR__JOB_FINISHED, NULL);
    }
    return 0;
}

int wr__jobs_on_cancel(wr__jobs_t *js, wr_actor_t *self, const wr_msg_t *m)
{
    wr__job_t *j = wr__jobs_arg(js, m);
    if (!j) return wr_reply_error(self, m, WR_ENOTFOUND, "no such job (see `weir jobs`)");
    if (j->state != WR__JOB_RUNNING && j->state != WR__JOB_RESTARTING) {
        char text[96];
        snprintf(text, sizeof text, "job %s is already %s", j->id, s_state_names[j->state]);
        return wr_reply_error(self, m, WR_EINVAL, text);
    }
    s_end(js, self, j, WR__JOB_CANCELED, "canceled by a client");
    s_reply_id(self, m, WR_MSG_JOB_CANCELED, j->id);
    return 0;
}

/* ---- the checkpoint coordinator's part ---- */

/* A call of j's coordinator: the job as it sees it, and what it asks of the registry. */
typedef struct {
    wr__job_ref_t ref;
    wr__verdict_t v;
} s_coord_call_t;

static void s_coord_begin(const wr__jobs_t *js, const wr__job_t *j, s_coord_call_t *cc)
{
    cc->ref = wr__job_ref(js, j);
    cc->v = (wr__verdict_t){WR__VERDICT_NONE, ""};
}

/* Acts on what the coordinator said. */
static void s_coord_end(wr__jobs_t *js, wr_actor_t *self, wr__job_t *j, const s_coord_call_t *cc)
{
    s_apply(js, self, j, &cc->v);
}

int wr__jobs_on_ckpt_ack(wr__jobs_t *js, wr_actor_t *self, const wr_msg_t *m)
{
    wr_msg_ckpt_ack_t ack;
    int rc = wr_msg_ckpt_ack_unpack(m, &ack);
    if (rc) {
        wr_warn_limited(&js->log, "jobmanager: a bad checkpoint ack from %s: %s", m->from,
                        wr_strerror(rc));
        return 0;
    }
    wr__job_t *j = wr__jobs_find(js, ack.job);
    if (j) { /* (else a job gone) */
        s_coord_call_t cc;
        s_coord_begin(js, j, &cc);
        rc = wr__coord_on_ack(j->coord, self, &cc.ref, &ack, m->from, &cc.v);
        s_coord_end(js, self, j, &cc);
    }
    wr_msg_ckpt_ack_release(&ack);
    return rc;
}

int wr__jobs_on_checkpoints(wr__jobs_t *js, wr_actor_t *self, const wr_msg_t *m)
{
    wr__job_t *j = wr__jobs_arg(js, m);
    if (!j) return wr_reply_error(self, m, WR_ENOTFOUND, "no such job (see `weir jobs`)");
    wr__job_ref_t ref = wr__job_ref(js, j);
    return wr__coord_on_list(j->coord, self, &ref, m);
}

int wr__jobs_on_savepoint(wr__jobs_t *js, wr_actor_t *self, const wr_msg_t *m)
{
    wr_msg_savepoint_req_t req;
    if (wr_msg_savepoint_req_unpack(m, &req))
        return wr_reply_error(self, m, WR_EPROTO, "bad savepoint request");
    wr__job_t *j = wr__jobs_find(js, req.job);
    if (!j) return wr_reply_error(self, m, WR_ENOTFOUND, "no such job (see `weir jobs`)");
    char text[640];
    int rc = wr__jm_paths_check_savepoint(js->o, req.dir, text, sizeof text);
    if (rc) return rc == WR_ENOMEM ? rc : wr_reply_error(self, m, rc, text);
    s_coord_call_t cc;
    s_coord_begin(js, j, &cc);
    rc = wr__coord_on_savepoint(j->coord, self, &cc.ref, m, &req, &cc.v);
    s_coord_end(js, self, j, &cc);
    return rc;
}

/* ---- the tick ---- */

bool wr__jobs_want_tick(const wr__jobs_t *js)
{
    for (size_t i = 0; i < js->n; i++) {
        const wr__job_t *j = js->v[i];
        if (j->state == WR__JOB_RESTARTING ||
            (j->state == WR__JOB_RUNNING && wr__coord_wants_tick(j->coord)))
            return true;
    }
    return false;
}

/* A restarting job whose delay is over: placed again (once slots allow), its sinks recovered,
 * its next attempt deployed from the latest checkpoint. */
static void s_restart(wr__jobs_t *js, wr_actor_t *self, wr__job_t *j)
{
    if (!s_place(js, j)) return; /* too few slots: a lost TaskManager may come back */
    /* the sinks' recovery commits and deletes files: only while this one leads in etcd */
    if (wr__leader_fence(js->leader, self)) {
        s_give_slots(js, j);
        return;
    }
    j->attempt++;
    const char *latest = wr__coord_latest_path(j->coord);
    /* restoring what the failed attempt restored (no checkpoint completed since), the new one
     * makes again what that one's collect sinks reported: those lines go */
    if (!latest[0] || !strcmp(latest, j->restore)) j->collected_len = j->collected_from;
    j->collected_from = j->collected_len;
    if (latest[0]) snprintf(j->restore, sizeof j->restore, "%s", latest);
    wr_strbuf_t err;
    wr_strbuf_init(&err);
    int rc = wr__jm_recover_sinks(j, &err);
    if (rc) {
        char text[WR__JOB_ERROR_MAX];
        snprintf(text, sizeof text, "cannot recover the sinks: %s",
                 err.len ? err.buf : wr_strerror(rc));
        wr_strbuf_release(&err);
        j->state = WR__JOB_RUNNING; /* so that it can end */
        s_end(js, self, j, WR__JOB_FAILED, text);
        return;
    }
    wr_strbuf_release(&err);
    j->finished = 0;
    j->error[0] = '\0';
    j->state = WR__JOB_RUNNING;
    wr_info("jobmanager: job %s attempt %u deploying%s%s", j->id, j->attempt,
            j->restore[0] ? " from " : "", j->restore);
    s_start_attempt(js, self, j);
}

void wr__jobs_tick(wr__jobs_t *js, wr_actor_t *self)
{
    int64_t now = wr_wall_ms();
    for (size_t i = 0; i < js->n; i++) {
        wr__job_t *j = js->v[i];
        if (j->state == WR__JOB_RESTARTING && wr__restart_due(j->restart, now))
            s_restart(js, self, j);
    }
    for (size_t i = 0; i < js->n; i++) {
        wr__job_t *j = js->v[i];
        if (j->state != WR__JOB_RUNNING) continue;
        s_coord_call_t cc;
        s_coord_begin(js, j, &cc);
        wr__coord_tick(j->coord, self, &cc.ref, now, &cc.v);
        s_coord_end(js, self, j, &cc);
    }
}

/* ---- what a TaskManager may run ---- */

/* Whether j's current attempt has a subtask on TaskManager tm. */
static bool s_owns_on(const wr__job_t *j, const char *tm)
{
    if (j->state != WR__JOB_RUNNING) return false;
    for (uint32_t k = 0; k < j->nsub; k++)
        if (!strcmp(j->node[k], tm)) return true;
    return false;
}

int wr__jobs_owned(const wr__jobs_t *js, const char *tm, wr_msg_job_attempt_list_t *out)
{
    uint32_t n = 0;
    for (size_t i = 0; i < js->n; i++)
        n += s_owns_on(js->v[i], tm);
    *out = (wr_msg_job_attempt_list_t){n ? calloc(n, sizeof *out->v) : NULL, 0};
    if (n && !out->v) return WR_ENOMEM;
    for (size_t i = 0; i < js->n; i++) {
        if (!s_owns_on(js->v[i], tm)) continue;
        wr_msg_job_attempt_t *a = &out->v[out->n++];
        memcpy(a->job, js->v[i]->id, sizeof a->job);
        a->attempt = js->v[i]->attempt;
    }
    return 0;
}
