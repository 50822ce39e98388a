/* The JobManager's jobs: submission (topology -> plan -> slots -> deployment), the state of every
 * subtask as they report it, cancellation, failure when a subtask fails or its TaskManager is
 * lost, and the answers to `weir jobs` and `weir job`. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

#include "actors/jobmanager/jobmanager.h"
#include "actors/jobmanager/jobmanager_internal.h"
#include "bus/base/clock.h"
#include "bus/base/error.h"
#include "bus/base/log.h"
#include "bus/base/mp.h"
#include "bus/msgtypes.h"

#define S_CREDITS 32
#define S_BATCH_RECORDS 1024

static const char *const s_state_names[] = {"CREATED", "RUNNING",  "FINISHED",
                                            "CANCELED", "FAILED", "RESTARTING"};

const char *wr__jm_state_name(enum wr__job_state s)
{
    return s_state_names[s];
}

static void s_job_free(wr__job_t **jp)
{
    wr__job_t *j = *jp;
    if (!j) return;
    wr__ckpt_job_release(j);
    free(j->failure_times);
    wr_topology_destroy(&j->topo);
    msgpack_sbuffer_destroy(&j->packed);
    free(j->sub);
    free(j->place_endpoint);
    free(j->group_node);
    free(j->collected);
    free(j);
    *jp = NULL;
}

void wr__jm_jobs_release(wr__jm_t *jm)
{
    for (size_t i = 0; i < jm->njobs; i++) s_job_free(&jm->jobs[i]);
    free(jm->jobs);
}

wr__job_t *wr__jm_job_find(wr__jm_t *jm, const char *id)
{
    for (size_t i = 0; i < jm->njobs; i++)
        if (!strcmp(jm->jobs[i]->id, id)) return jm->jobs[i];
    return NULL;
}

wr__job_t *wr__jm_job_arg(wr__jm_t *jm, const wr_msg_t *m)
{
    wr_mp_reader_t r;
    wr_mp_reader_init(&r, m->data, m->len);
    uint32_t n = 0;
    char id[WR_JOB_ID_MAX];
    wr_mp_read_array(&r, &n);
    wr_mp_read_str_copy(&r, id, sizeof id);
    return r.err || n != 1 ? NULL : wr__jm_job_find(jm, id);
}

/* The payload [job id] (of TASK_CANCEL, JOB_SUBMITTED, JOB_CANCELED) into an initialised sb. */
static void s_pack_id(msgpack_sbuffer *sb, const char *id)
{
    msgpack_packer pk;
    msgpack_packer_init(&pk, sb, msgpack_sbuffer_write);
    msgpack_pack_array(&pk, 1);
    wr_pack_str(&pk, id);
}

/* ---- ending a job ---- */

void wr__jm_release(wr_actor_t *self, wr__jm_t *jm, wr__job_t *j)
{
    msgpack_sbuffer sb;
    msgpack_sbuffer_init(&sb);
    s_pack_id(&sb, j->id);
    for (uint32_t g = 0; g < j->plan.slots; g++) {
        wr__tm_t *tm = wr__jm_tm_find(jm, j->group_node[g]);
        if (!tm) continue;
        if (tm->used) tm->used--;
        j->group_node[g][0] = '\0'; /* released: a second release frees nothing */
        bool first = true; /* one cancel per TaskManager */
        for (uint32_t h = 0; h < g && first; h++) first = strcmp(j->group_node[h], tm->id) != 0;
        if (!first || tm->status != WR__TM_ALIVE) continue;
        char to[WR_ADDR_MAX];
        snprintf(to, sizeof to, "%s/%s", tm->id, WR_TASKMANAGER_PATH);
        int rc = wr_send(self, to, WR_MSG_TASK_CANCEL, sb.data, sb.size);
        if (rc) wr_warn("jobmanager: cannot stop job %s on %s: %s", j->id, tm->id, wr_strerror(rc));
    }
    msgpack_sbuffer_destroy(&sb);
}

void wr__jm_end(wr_actor_t *self, wr__jm_t *jm, wr__job_t *j, enum wr__job_state state, const char *why)
{
    if (j->state != WR__JOB_RUNNING && j->state != WR__JOB_CREATED && j->state != WR__JOB_RESTARTING)
        return;
    wr__ckpt_abort(j, "the job ended");
    j->state = state;
    j->ended_ms = wr_wall_ms();
    if (why) snprintf(j->error, sizeof j->error, "%s", why);
    if (state == WR__JOB_FAILED) wr_warn("jobmanager: job %s failed: %s", j->id, j->error);
    else wr_info("jobmanager: job %s %s", j->id, s_state_names[state]);
    wr__jm_release(self, jm, j);
}

void wr__jm_tm_lost(wr_actor_t *self, wr__jm_t *jm, const char *tm, const char *reason)
{
    for (size_t i = 0; i < jm->njobs; i++) {
        wr__job_t *j = jm->jobs[i];
        if (j->state != WR__JOB_RUNNING) continue;
        for (uint32_t k = 0; k < j->nsub; k++) {
            if (strcmp(j->sub[k].node, tm)) continue;
            char why[256];
            snprintf(why, sizeof why, "taskmanager %s lost: %s", tm, reason);
            wr__jm_job_failed(self, jm, j, why);
            break;
        }
    }
}

/* ---- submission ---- */

/* Where the next slot group of a job goes: the live TaskManager with the most free slots. */
static wr__tm_t *s_pick(wr__jm_t *jm)
{
    wr__tm_t *best = NULL;
    for (size_t t = 0; t < jm->ntms; t++) {
        wr__tm_t *tm = &jm->tms[t];
        if (tm->status != WR__TM_ALIVE || !tm->reachable || tm->used >= tm->slots) continue;
        if (!best || tm->slots - tm->used > best->slots - best->used) best = tm;
    }
    return best;
}

int wr__jm_deploy(wr_actor_t *self, wr__job_t *j)
{
    for (uint32_t v = 0; v < j->plan.n; v++) {
        for (uint32_t i = 0; i < j->plan.v[v].parallelism; i++) {
            msgpack_sbuffer sb;
            msgpack_sbuffer_init(&sb);
            msgpack_packer pk;
            msgpack_packer_init(&pk, &sb, msgpack_sbuffer_write);
            msgpack_pack_array(&pk, 13);
            wr_pack_str(&pk, j->id);
            msgpack_pack_uint32(&pk, j->attempt);
            msgpack_pack_uint32(&pk, v);
            msgpack_pack_uint32(&pk, i);
            msgpack_sbuffer_write(&sb, j->packed.data, j->packed.size);
            msgpack_pack_array(&pk, j->nsub);
            for (uint32_t k = 0; k < j->nsub; k++) {
                msgpack_pack_array(&pk, 2);
                wr_pack_str(&pk, j->sub[k].node);
                wr_pack_str(&pk, j->place_endpoint[k]);
            }
            msgpack_pack_uint32(&pk, S_CREDITS);
            msgpack_pack_uint32(&pk, S_BATCH_RECORDS);
            if (j->coord.enabled) msgpack_pack_true(&pk);
            else msgpack_pack_false(&pk);
            wr_pack_str(&pk, j->restore);
            if (j->rocksdb) msgpack_pack_true(&pk);
            else msgpack_pack_false(&pk);
            wr_pack_str(&pk, j->rocksdb_dir ? j->rocksdb_dir : "");
            msgpack_pack_uint64(&pk, j->rocksdb_cache);
            char to[WR_ADDR_MAX];
            uint32_t flat = wr_plan_index(&j->plan, v, i);
            snprintf(to, sizeof to, "%s/%s", j->sub[flat].node, WR_TASKMANAGER_PATH);
            int rc = wr_send(self, to, WR_MSG_TASK_DEPLOY, sb.data, sb.size);
            msgpack_sbuffer_destroy(&sb);
            if (rc) return rc;
        }
    }
    return 0;
}

static bool s_add_job(wr__jm_t *jm, wr__job_t *j)
{
    if (jm->njobs == jm->jobs_cap) {
        size_t ncap = jm->jobs_cap ? jm->jobs_cap * 2 : 8;
        wr__job_t **n = realloc(jm->jobs, ncap * sizeof *n);
        if (!n) return false;
        jm->jobs = n;
        jm->jobs_cap = ncap;
    }
    jm->jobs[jm->njobs++] = j;
    return true;
}

bool wr__jm_place(wr__jm_t *jm, wr__job_t *j)
{
    uint32_t free_slots = 0;
    for (size_t t = 0; t < jm->ntms; t++)
        if (jm->tms[t].status == WR__TM_ALIVE && jm->tms[t].reachable)
            free_slots += jm->tms[t].slots - jm->tms[t].used;
    if (free_slots < j->plan.slots) return false;
    /* slot sharing (Flink's default): subtask g of every vertex shares slot group g */
    for (uint32_t g = 0; g < j->plan.slots; g++) {
        wr__tm_t *tm = s_pick(jm);
        tm->used++;
        snprintf(j->group_node[g], WR_NODE_MAX, "%s", tm->id);
        for (uint32_t v = 0; v < j->plan.n; v++) {
            if (g >= j->plan.v[v].parallelism) continue;
            uint32_t flat = wr_plan_index(&j->plan, v, g);
            snprintf(j->sub[flat].node, WR_NODE_MAX, "%s", tm->id);
            snprintf(j->place_endpoint[flat], 128, "%s", tm->endpoint);
            snprintf(j->sub[flat].state, sizeof j->sub[flat].state, "deploying");
            j->sub[flat].delay_p50_ms = j->sub[flat].delay_p99_ms = j->sub[flat].delay_last_p99_ms = -1;
        }
    }
    return true;
}

/* --parallelism N of a restore: every operator at N but those that must stay at 1 (file sources,
 * single-file sinks). */
static void s_set_parallelism(wr_topology_t *t, uint32_t n)
{
    wr_topology_set_parallelism(t, n);
}

/* JOB_SUBMIT [topology] or [topology, restore path, parallelism (0: as the topology says)]. */
int wr__jm_on_submit(wr_actor_t *self, wr__jm_t *jm, const wr_msg_t *m)
{
    wr_mp_reader_t r;
    wr_mp_reader_init(&r, m->data, m->len);
    uint32_t n = 0;
    uint64_t parallelism = 0;
    char restore[WR_TASK_RESTORE_MAX] = "";
    wr_topology_t *topo = NULL;
    if (wr_mp_read_array(&r, &n) || (n != 1 && n != 3) || wr_topology_unpack(&r, &topo) ||
        (n == 3 && (wr_mp_read_str_copy(&r, restore, sizeof restore) ||
                    wr_mp_read_uint(&r, &parallelism) || parallelism > WR_TOPO_MAX_PARALLELISM))) {
        wr_topology_destroy(&topo);
        return wr_reply_error(self, m, WR_EPROTO, "the topology does not decode or is invalid");
    }
    if (parallelism) s_set_parallelism(topo, (uint32_t)parallelism);
    wr__job_t *j = calloc(1, sizeof *j);
    if (!j) {
        wr_topology_destroy(&topo);
        return WR_ENOMEM;
    }
    j->topo = topo;
    snprintf(j->restore, sizeof j->restore, "%s", restore);
    j->rocksdb = jm->o.rocksdb;
    j->rocksdb_dir = jm->o.rocksdb_dir;
    j->rocksdb_cache = jm->o.rocksdb_cache;
    msgpack_sbuffer_init(&j->packed);
    wr_strbuf_t err;
    wr_strbuf_init(&err);
    char text[640];
    int rc = wr_plan_build(topo, &j->plan, &err);
    if (rc) {
        snprintf(text, sizeof text, "cannot plan the job: %s", err.buf);
        wr_strbuf_release(&err);
        s_job_free(&j);
        return wr_reply_error(self, m, WR_EINVAL, text);
    }
    uint64_t rnd = 0;
    if (getrandom(&rnd, sizeof rnd, 0) != sizeof rnd) rnd = (uint64_t)wr_now_ns();
    snprintf(j->id, sizeof j->id, "%08llx", (unsigned long long)((rnd ^ ++jm->next_job) & 0xffffffffull));
    j->nsub = wr_plan_subtasks(&j->plan);
    j->sub = calloc(j->nsub, sizeof *j->sub);
    j->place_endpoint = calloc(j->nsub, sizeof *j->place_endpoint);
    j->group_node = calloc(j->plan.slots, sizeof *j->group_node);
    msgpack_packer pk;
    msgpack_packer_init(&pk, &j->packed, msgpack_sbuffer_write);
    if (!j->sub || !j->place_endpoint || !j->group_node || wr_topology_pack(topo, &pk)) {
        wr_strbuf_release(&err);
        s_job_free(&j);
        return WR_ENOMEM;
    }
    /* checkpoint storage, and what a savepoint's exactly-once sinks left pending */
    if ((rc = wr__jm_check_restore(j, &err)) || (rc = wr__ckpt_job_init(jm, j, &err)) ||
        (rc = wr__jm_recover_sinks(j, &err))) {
        snprintf(text, sizeof text, "cannot start the job: %s", err.len ? err.buf : wr_strerror(rc));
        wr_strbuf_release(&err);
        s_job_free(&j);
        return wr_reply_error(self, m, rc == WR_ENOMEM ? WR_ENOMEM : WR_EINVAL, text);
    }
    wr_strbuf_release(&err);
    if (!wr__jm_place(jm, j)) {
        uint32_t free_slots = 0, alive = 0;
        for (size_t t = 0; t < jm->ntms; t++) {
            wr__tm_t *tm = &jm->tms[t];
            if (tm->status != WR__TM_ALIVE) continue;
            alive++;
            free_slots += tm->slots - tm->used;
        }
        snprintf(text, sizeof text,
                 "not enough slots: the job needs %u (its largest parallelism), the cluster has %u "
                 "free on %u live TaskManagers; start more TaskManagers or lower the parallelism",
                 j->plan.slots, free_slots, alive);
        s_job_free(&j);
        return wr_reply_error(self, m, WR_EAGAIN, text);
    }
    if (!s_add_job(jm, j)) {
        for (uint32_t g = 0; g < j->plan.slots; g++) {
            wr__tm_t *tm = wr__jm_tm_find(jm, j->group_node[g]);
            if (tm && tm->used) tm->used--;
        }
        s_job_free(&j);
        return WR_ENOMEM;
    }
    j->state = WR__JOB_RUNNING;
    j->submitted_ms = wr_wall_ms();
    wr_info("jobmanager: job %s (%s) submitted: %u vertices, %u subtasks, %u slots%s%s", j->id,
            topo->name, j->plan.n, j->nsub, j->plan.slots, j->restore[0] ? ", restoring " : "",
            j->restore);
    rc = wr__jm_deploy(self, j);
    if (rc) {
        snprintf(text, sizeof text, "deployment failed: %s", wr_strerror(rc));
        wr__jm_job_failed(self, jm, j, text);
    }
    if (j->coord.enabled && (rc = wr__jm_tick_start(self, jm))) return rc;
    msgpack_sbuffer sb;
    msgpack_sbuffer_init(&sb);
    s_pack_id(&sb, j->id);
    rc = wr_reply(self, m, WR_MSG_JOB_SUBMITTED, sb.data, sb.size);
    msgpack_sbuffer_destroy(&sb);
    if (rc) wr_warn("jobmanager: cannot answer %s: %s", m->from, wr_strerror(rc));
    return 0;
}

/* ---- subtask reports ---- */

int wr__jm_on_task_state(wr_actor_t *self, wr__jm_t *jm, const wr_msg_t *m)
{
    wr_mp_reader_t r;
    wr_mp_reader_init(&r, m->data, m->len);
    uint32_t n = 0, nkeys = 0;
    uint64_t vertex = 0, subtask = 0;
    char id[WR_JOB_ID_MAX], state[16], error[256];
    wr_mp_read_array(&r, &n);
    wr_mp_read_str_copy(&r, id, sizeof id);
    wr_mp_read_uint(&r, &vertex);
    wr_mp_read_uint(&r, &subtask);
    wr_mp_read_str_copy(&r, state, sizeof state);
    wr_mp_read_str_copy(&r, error, sizeof error);
    wr_mp_read_map(&r, &nkeys);
    wr__job_t *j = r.err || n != 6 ? NULL : wr__jm_job_find(jm, id);
    if (!j || vertex >= j->plan.n || subtask >= j->plan.v[vertex].parallelism) {
        wr_debug("jobmanager: ignoring a task report from %s", m->from);
        return 0;
    }
    wr__subtask_t now = j->sub[wr_plan_index(&j->plan, (uint32_t)vertex, (uint32_t)subtask)], *s = &now;
    int64_t attempt = -1;
    for (uint32_t k = 0; k < nkeys && !r.err; k++) {
        const char *key;
        uint32_t klen;
        wr_mp_read_str(&r, &key, &klen);
        if (r.err) break;
        if (klen == 9 && !memcmp(key, "collected", 9)) {
            const char *text;
            uint32_t tlen;
            if (wr_mp_read_str(&r, &text, &tlen)) break;
            char *grown = realloc(j->collected, j->collected_len + tlen);
            if (grown) {
                memcpy(grown + j->collected_len, text, tlen);
                j->collected = grown;
                j->collected_len += tlen;
            }
            continue;
        }
        int64_t v = 0;
        if (wr_mp_peek(&r) != WR_MP_UINT && wr_mp_peek(&r) != WR_MP_INT) {
            wr_mp_skip(&r);
            continue;
        }
        wr_mp_read_int(&r, &v);
#define S_KEY(name) (klen == sizeof(name) - 1 && !memcmp(key, name, klen))
        if (S_KEY("records_in")) s->records_in = (uint64_t)v;
        else if (S_KEY("records_out")) s->records_out = (uint64_t)v;
        else if (S_KEY("watermark")) s->watermark = v;
        else if (S_KEY("backpressure")) s->backpressure = (uint64_t)v;
        else if (S_KEY("windows_fired")) s->windows_fired = (uint64_t)v;
        else if (S_KEY("late_dropped")) s->late_dropped = (uint64_t)v;
        else if (S_KEY("emit_delay_p50_ms")) s->delay_p50_ms = v;
        else if (S_KEY("emit_delay_p99_ms")) s->delay_p99_ms = v;
        else if (S_KEY("emit_delay_last_p99_ms")) s->delay_last_p99_ms = v;
        else if (S_KEY("attempt")) attempt = v;
#undef S_KEY
    }
    if (attempt != (int64_t)j->attempt || j->state != WR__JOB_RUNNING) return 0; /* an old attempt's */
    s = &j->sub[wr_plan_index(&j->plan, (uint32_t)vertex, (uint32_t)subtask)];
    bool was_finished = !strcmp(s->state, "finished");
    *s = now;
    snprintf(s->state, sizeof s->state, "%s", state);
    if (!strcmp(state, "running") && j->failed_at_ms && !j->recovered_ms) {
        bool all = true; /* recovered: every subtask of the new attempt runs again */
        for (uint32_t k = 0; k < j->nsub && all; k++) all = strcmp(j->sub[k].state, "deploying") != 0;
        if (all) j->recovered_ms = wr_wall_ms() - j->failed_at_ms;
    }
    if (!strcmp(state, "failed")) {
        char why[400];
        snprintf(why, sizeof why, "subtask %s failed: %s", m->from, error);
        wr__jm_job_failed(self, jm, j, why);
    } else if (!strcmp(state, "finished") && !was_finished && ++j->finished == j->nsub) {
        wr__jm_end(self, jm, j, WR__JOB_FINISHED, NULL);
    }
    return 0;
}

/* ---- cancel, list, describe ---- */

int wr__jm_on_cancel(wr_actor_t *self, wr__jm_t *jm, const wr_msg_t *m)
{
    wr__job_t *j = wr__jm_job_arg(jm, m);
    if (!j) return wr_reply_error(self, m, WR_ENOTFOUND, "no such job (see `weir jobs`)");
    if (j->state != WR__JOB_RUNNING && j->state != WR__JOB_RESTARTING) {
        char text[96];
        snprintf(text, sizeof text, "job %s is already %s", j->id, s_state_names[j->state]);
        return wr_reply_error(self, m, WR_EINVAL, text);
    }
    wr__jm_end(self, jm, j, WR__JOB_CANCELED, "canceled by a client");
    msgpack_sbuffer sb;
    msgpack_sbuffer_init(&sb);
    s_pack_id(&sb, j->id);
    wr_reply(self, m, WR_MSG_JOB_CANCELED, sb.data, sb.size);
    msgpack_sbuffer_destroy(&sb);
    return 0;
}

static void s_kv_str(msgpack_packer *pk, const char *k, const char *v)
{
    wr_pack_str(pk, k);
    wr_pack_str(pk, v);
}

static void s_kv_i64(msgpack_packer *pk, const char *k, int64_t v)
{
    wr_pack_str(pk, k);
    msgpack_pack_int64(pk, v);
}

static int64_t s_duration(const wr__job_t *j)
{
    return (j->ended_ms ? j->ended_ms : wr_wall_ms()) - j->submitted_ms;
}

static void s_pack_summary(msgpack_packer *pk, const wr__job_t *j, uint32_t extra)
{
    msgpack_pack_map(pk, 7 + extra);
    s_kv_str(pk, "id", j->id);
    s_kv_str(pk, "name", j->topo->name);
    s_kv_str(pk, "state", s_state_names[j->state]);
    s_kv_i64(pk, "submitted_ms", j->submitted_ms);
    s_kv_i64(pk, "duration_ms", s_duration(j));
    s_kv_i64(pk, "slots", j->plan.slots);
    s_kv_str(pk, "error", j->error);
}

int wr__jm_on_jobs(wr_actor_t *self, wr__jm_t *jm, const wr_msg_t *m)
{
    msgpack_sbuffer sb;
    msgpack_sbuffer_init(&sb);
    msgpack_packer pk;
    msgpack_packer_init(&pk, &sb, msgpack_sbuffer_write);
    msgpack_pack_array(&pk, (uint32_t)jm->njobs);
    for (size_t i = 0; i < jm->njobs; i++) s_pack_summary(&pk, jm->jobs[i], 0);
    wr_reply(self, m, WR_MSG_JOBS_REPLY, sb.data, sb.size);
    msgpack_sbuffer_destroy(&sb);
    return 0;
}

int wr__jm_on_job(wr_actor_t *self, wr__jm_t *jm, const wr_msg_t *m)
{
    wr__job_t *j = wr__jm_job_arg(jm, m);
    if (!j) return wr_reply_error(self, m, WR_ENOTFOUND, "no such job (see `weir jobs`)");
    msgpack_sbuffer sb;
    msgpack_sbuffer_init(&sb);
    msgpack_packer pk;
    msgpack_packer_init(&pk, &sb, msgpack_sbuffer_write);
    s_pack_summary(&pk, j, 6);
    s_kv_i64(&pk, "attempt", j->attempt);
    s_kv_i64(&pk, "restarts", j->restarts);
    s_kv_i64(&pk, "latest_checkpoint", (int64_t)j->coord.latest_id);
    s_kv_i64(&pk, "recovery_ms", j->recovered_ms);
    wr_pack_str(&pk, "operators");
    msgpack_pack_array(&pk, j->plan.n);
    for (uint32_t v = 0; v < j->plan.n; v++) {
        const wr_plan_vertex_t *pv = &j->plan.v[v];
        uint64_t in = 0, out = 0, bp = 0, fired = 0, late = 0;
        int64_t wm = INT64_MAX, p50 = -1, p99 = -1, last = -1; /* delays: the worst subtask's */
        for (uint32_t i = 0; i < pv->parallelism; i++) {
            const wr__subtask_t *s = &j->sub[wr_plan_index(&j->plan, v, i)];
            in += s->records_in;
            out += s->records_out;
            bp += s->backpressure;
            fired += s->windows_fired;
            late += s->late_dropped;
            if (s->watermark < wm) wm = s->watermark;
            if (s->delay_p50_ms > p50) p50 = s->delay_p50_ms;
            if (s->delay_p99_ms > p99) p99 = s->delay_p99_ms;
            if (s->delay_last_p99_ms > last) last = s->delay_last_p99_ms;
        }
        msgpack_pack_map(&pk, 12);
        s_kv_i64(&pk, "emit_delay_p50_ms", p50);
        s_kv_i64(&pk, "emit_delay_p99_ms", p99);
        s_kv_i64(&pk, "emit_delay_last_p99_ms", last);
        s_kv_str(&pk, "name", pv->name);
        s_kv_i64(&pk, "parallelism", pv->parallelism);
        s_kv_i64(&pk, "records_in", (int64_t)in);
        s_kv_i64(&pk, "records_out", (int64_t)out);
        s_kv_i64(&pk, "backpressure", (int64_t)bp);
        s_kv_i64(&pk, "watermark", wm);
        s_kv_i64(&pk, "windows_fired", (int64_t)fired);
        s_kv_i64(&pk, "late_dropped", (int64_t)late);
        wr_pack_str(&pk, "subtasks");
        msgpack_pack_array(&pk, pv->parallelism);
        for (uint32_t i = 0; i < pv->parallelism; i++) {
            const wr__subtask_t *s = &j->sub[wr_plan_index(&j->plan, v, i)];
            msgpack_pack_map(&pk, 2);
            s_kv_str(&pk, "node", s->node);
            s_kv_str(&pk, "state", s->state);
        }
    }
    wr_pack_str(&pk, "collected");
    msgpack_pack_str(&pk, (uint32_t)j->collected_len);
    msgpack_pack_str_body(&pk, j->collected, j->collected_len);
    wr_reply(self, m, WR_MSG_JOB_REPLY, sb.data, sb.size);
    msgpack_sbuffer_destroy(&sb);
    return 0;
}
