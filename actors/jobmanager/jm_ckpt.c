/* The JobManager's checkpoint coordinator (jm_ckpt.h). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "actors/dataflow/record/keygroup.h"
#include "actors/jobmanager/jm_ckpt.h"
#include "actors/jobmanager/jm_leader.h"
#include "bus/base/clock.h"
#include "bus/base/error.h"
#include "bus/base/log.h"
#include "state/ckpt_store.h"
#include "state/savepoint.h"

/* One checkpoint as `weir checkpoints` shows it. */
typedef struct {
    uint64_t id;
    char status[12]; /* IN_PROGRESS, COMPLETED, FAILED */
    bool savepoint;
    int64_t trigger_ms, duration_ms;
    uint64_t full_size, incremental_size;
    int64_t alignment_ms; /* the longest barrier alignment of any subtask */
    char reason[96];      /* FAILED: why */
} s_stat_t;

#define S_HISTORY 32

struct wr__coord {
    const wr_jobmanager_opts_t *o;
    wr_logrl_t log; /* bad acks (bus/base/log.h) */
    char job[WR_JOB_ID_MAX];
    uint32_t nsub;
    bool enabled;               /* periodic checkpoints (execution.checkpointing.interval) */
    wr_ckpt_store_t *store;     /* NULL until the first checkpoint or savepoint */
    wr_ckpt_pending_t *pending; /* the checkpoint being taken */
    uint64_t pending_id, next_id;
    bool *acked; /* per subtask (wr_plan_index) */
    uint32_t acks;
    int64_t trigger_ms, last_end_ms; /* of the pending one; when the last one ended */
    uint32_t failures_in_row;
    /* a savepoint asked for: who to answer, where to copy the checkpoint, then maybe stop; with
     * drain, the sources end event time first (Flink's --drain), in checkpoint drain_id */
    bool savepoint, stop_after, drain;
    uint64_t drain_id;
    char sp_client[WR_ADDR_MAX];
    uint64_t sp_corr;
    char sp_dir[WR_TASK_RESTORE_MAX];
    /* the final checkpoint: the subtasks' states at their end, gathered until all are in */
    wr_ckpt_meta_t *final;
    uint32_t final_acks;
    bool final_done;
    s_stat_t history[S_HISTORY]; /* a ring: the newest S_HISTORY */
    uint32_t nhistory;
    char latest_path[WR_TASK_RESTORE_MAX]; /* the newest completed checkpoint ("" none yet) */
    uint64_t latest_id;
};

static s_stat_t *s_stat(wr__coord_t *c, uint64_t id)
{
    for (uint32_t i = 0; i < c->nhistory && i < S_HISTORY; i++)
        if (c->history[i].id == id) return &c->history[i];
    return NULL;
}

static s_stat_t *s_stat_new(wr__coord_t *c, uint64_t id, int64_t now, bool savepoint)
{
    s_stat_t *st = &c->history[c->nhistory++ % S_HISTORY];
    *st = (s_stat_t){.id = id, .trigger_ms = now, .savepoint = savepoint};
    snprintf(st->status, sizeof st->status, "IN_PROGRESS");
    return st;
}

static int s_open_store(wr__coord_t *c, wr_strbuf_t *err)
{
    if (c->store) return 0;
    int rc = 0;
    const char *dir =
        c->o->checkpoints_dir && c->o->checkpoints_dir[0] ? c->o->checkpoints_dir : NULL;
    if (!dir) {
        wr_strbuf_adds(err, "no state.checkpoints.dir configured");
        return WR_ECONFIG;
    }
    c->store = wr_ckpt_store_open(dir, c->job, c->o->num_retained ? c->o->num_retained : 1, &rc);
    if (!c->store) {
        wr_strbuf_addf(err, "cannot open checkpoint storage %s/%s: %s", dir, c->job,
                       wr_strerror(rc));
        return rc;
    }
    return 0;
}

wr__coord_t *wr__coord_new(const wr_jobmanager_opts_t *o, const char *job_id, uint32_t nsub,
                           uint64_t restored_id, wr_strbuf_t *err, int *rc)
{
    wr__coord_t *c = calloc(1, sizeof *c);
    if (!c || !(c->acked = calloc(nsub ? nsub : 1, sizeof *c->acked))) {
        free(c);
        *rc = WR_ENOMEM;
        return NULL;
    }
    c->o = o;
    wr_logrl_init(&c->log, 0);
    snprintf(c->job, sizeof c->job, "%s", job_id);
    c->nsub = nsub;
    c->next_id = restored_id + 1; /* one numbering along a savepoint's lineage */
    c->last_end_ms = c->trigger_ms = wr_wall_ms();
    c->enabled = o->interval_ms > 0;
    if (c->enabled && (*rc = s_open_store(c, err))) wr__coord_destroy(&c);
    return c;
}

bool wr__coord_enabled(const wr__coord_t *c)
{
    return c->enabled;
}

const char *wr__coord_dir(const wr__coord_t *c)
{
    return c->enabled && c->store ? wr_ckpt_store_dir(c->store) : NULL;
}

bool wr__coord_wants_tick(const wr__coord_t *c)
{
    return c->enabled || c->savepoint;
}

const char *wr__coord_latest_path(const wr__coord_t *c)
{
    return c->latest_path;
}

uint64_t wr__coord_latest_id(const wr__coord_t *c)
{
    return c->latest_id;
}

static void s_final_reset(wr__coord_t *c)
{
    wr_ckpt_meta_destroy(&c->final);
    c->final_acks = 0;
    c->final_done = false;
}

/* Drops the checkpoint in progress (the final one's states stay). */
static void s_abort_pending(wr__coord_t *c, const char *why)
{
    if (!c->pending) return;
    wr_ckpt_abort(&c->pending);
    s_stat_t *st = s_stat(c, c->pending_id);
    if (st) {
        snprintf(st->status, sizeof st->status, "FAILED");
        snprintf(st->reason, sizeof st->reason, "%s", why);
        st->duration_ms = wr_wall_ms() - st->trigger_ms;
    }
    c->last_end_ms = wr_wall_ms();
    wr_info("jobmanager: job %s checkpoint %llu aborted: %s", c->job,
            (unsigned long long)c->pending_id, why);
}

void wr__coord_abort(wr__coord_t *c, const char *why)
{
    s_final_reset(c);
    s_abort_pending(c, why);
}

void wr__coord_destroy(wr__coord_t **cp)
{
    wr__coord_t *c = *cp;
    if (!c) return;
    wr__coord_abort(c, "released");
    wr_ckpt_store_destroy(&c->store);
    free(c->acked);
    free(c);
    *cp = NULL;
}

/* Sends checkpoint id's CKPT_COMPLETE to every subtask, or (dir not NULL) its CKPT_TRIGGER, to
 * take it into dir, to the sources. */
static void s_tell(wr_actor_t *self, const wr__job_ref_t *j, uint16_t type, uint64_t id,
                   const char *dir, bool drain)
{
    wr_msg_ckpt_trigger_t trigger = {.attempt = j->attempt, .checkpoint = id, .drain = drain};
    wr_msg_ckpt_complete_t complete = {.attempt = j->attempt, .checkpoint = id};
    snprintf(trigger.job, sizeof trigger.job, "%s", j->id);
    snprintf(complete.job, sizeof complete.job, "%s", j->id);
    if (dir) snprintf(trigger.dir, sizeof trigger.dir, "%s", dir);
    for (uint32_t v = 0; v < j->plan->n; v++) {
        if (dir && j->plan->v[v].source < 0) continue; /* triggers go to the sources */
        for (uint32_t i = 0; i < j->plan->v[v].parallelism; i++) {
            char path[WR_PATH_MAX], to[WR_ADDR_MAX];
            wr_task_path(path, j->id, j->attempt, v, i);
            snprintf(to, sizeof to, "%s/%s", j->nodes[wr_plan_index(j->plan, v, i)], path);
            int rc =
                dir ? wr__jm_send(self, to, type, 0, j->epoch, &wr_msg_ckpt_trigger_decl, &trigger)
                    : wr__jm_send(self, to, type, 0, j->epoch, &wr_msg_ckpt_complete_decl,
                                  &complete);
            if (rc)
                wr_warn("jobmanager: cannot send %s to %s: %s", wr_msg_type_label(type), to,
                        wr_strerror(rc));
        }
    }
}

/* Answers the savepoint's client with an error. */
static void s_savepoint_error(wr_actor_t *self, wr__coord_t *c, int code, const char *text)
{
    wr_msg_t *e = wr_msg_error(NULL, NULL, c->sp_corr, code, text);
    if (e && wr_send_msg(self, c->sp_client, &e))
        wr_warn("jobmanager: cannot answer %s", c->sp_client);
    wr_msg_destroy(&e);
}

/* A checkpoint failed: counted, and the job fails over past the tolerated number. */
/* The pending checkpoint (or savepoint) failed. counted: it counts towards
 * tolerable-failed-checkpoints (not when only its record for a successor could not be written:
 * etcd unreachable for a while is no fault of the job, and a leader that lost etcd steps down). */
static void s_failed(wr_actor_t *self, wr__coord_t *c, const char *why, bool counted,
                     wr__verdict_t *v)
{
    bool savepoint = c->savepoint;
    if (savepoint) {
        char text[160];
        snprintf(text, sizeof text, "savepoint failed: %s", why);
        s_savepoint_error(self, c, WR_EIO, text);
        c->savepoint = c->stop_after = false;
    }
    bool drained = c->drain_id != 0; /* the sources got the drain: this is its checkpoint */
    c->drain = false;
    c->drain_id = 0;
    s_abort_pending(c, why);
    char text[200];
    if (drained) { /* the sources ended event time and stopped: only a restart goes on */
        snprintf(text, sizeof text, "stop --drain failed: %s", why);
        wr__verdict_set(v, WR__VERDICT_FAIL_OVER, text);
        return;
    }
    if (!savepoint && counted && ++c->failures_in_row > c->o->tolerable_failures) {
        snprintf(text, sizeof text, "checkpoint failed %u times in a row: %s", c->failures_in_row,
                 why);
        c->failures_in_row = 0;
        wr__verdict_set(v, WR__VERDICT_FAIL_OVER, text);
    }
}

static void s_trigger(wr__coord_t *c, wr_actor_t *self, const wr__job_ref_t *j, int64_t now,
                      wr__verdict_t *v)
{
    int rc = 0;
    wr_strbuf_t err;
    wr_strbuf_init(&err);
    if ((rc = s_open_store(c, &err))) {
        s_failed(self, c, err.buf, true, v);
        wr_strbuf_release(&err);
        return;
    }
    wr_strbuf_release(&err);
    const wr_ckpt_meta_t *latest = wr_ckpt_latest(c->store);
    if (latest && latest->id >= c->next_id) c->next_id = latest->id + 1;
    uint64_t id = c->next_id++;
    s_stat_new(c, id, now, c->savepoint);
    c->pending_id = id;
    if (!(c->pending = wr_ckpt_begin(c->store, id, now, &rc))) {
        s_failed(self, c, wr_strerror(rc), true, v);
        return;
    }
    memset(c->acked, 0, c->nsub * sizeof *c->acked);
    c->acks = 0;
    c->trigger_ms = now;
    bool drain = c->savepoint && c->drain;
    if (drain) c->drain_id = id;
    s_tell(self, j, WR_MSG_CKPT_TRIGGER, id, wr_ckpt_pending_dir(c->pending), drain);
}

void wr__coord_tick(wr__coord_t *c, wr_actor_t *self, const wr__job_ref_t *j, int64_t now,
                    wr__verdict_t *v)
{
    if (!j->running) return;
    int64_t timeout = c->o->timeout_ms > 0 ? c->o->timeout_ms : WR_JM_CKPT_TIMEOUT_MS;
    if (c->pending && now - c->trigger_ms > timeout) {
        s_failed(self, c, "timed out", true, v);
        return;
    }
    if (c->pending || c->final_acks || (!c->enabled && !c->savepoint)) return;
    if (!j->all_running) return; /* every subtask up (Flink triggers only then) */
    bool due = c->savepoint || (now - c->trigger_ms >= c->o->interval_ms &&
                                now - c->last_end_ms >= c->o->min_pause_ms);
    if (due) s_trigger(c, self, j, now, v);
}

/* The savepoint asked for is checkpoint `latest`: copy it, answer, maybe stop the job. */
static void s_savepoint_done(wr_actor_t *self, wr__coord_t *c, const wr_ckpt_meta_t *latest,
                             wr__verdict_t *v)
{
    char target[WR_TASK_RESTORE_MAX + 64];
    snprintf(target, sizeof target, "%s/savepoint-%s-%llu", c->sp_dir, c->job,
             (unsigned long long)latest->id);
    int rc = wr_savepoint_write(latest, target, wr_wall_ms());
    c->savepoint = false;
    if (rc) {
        char text[WR_TASK_RESTORE_MAX + 96];
        snprintf(text, sizeof text, "cannot write the savepoint to %s: %s", target,
                 wr_strerror(rc));
        s_savepoint_error(self, c, rc, text);
        c->stop_after = false;
        if (c->drain) { /* drained and committed, but no savepoint: the job cannot go on */
            c->drain = false;
            c->drain_id = 0;
            wr__verdict_set(v, WR__VERDICT_FAIL, text);
        }
        return;
    }
    wr_info("jobmanager: job %s savepoint at %s", c->job, target);
    wr_msg_savepoint_done_t done = {wr_strv(target)};
    rc = wr__jm_send(self, c->sp_client, WR_MSG_SAVEPOINT_DONE, c->sp_corr, 0,
                     &wr_msg_savepoint_done_decl, &done);
    if (rc) wr_warn("jobmanager: cannot answer %s", c->sp_client);
    bool drained = c->drain;
    c->drain = false;
    c->drain_id = 0;
    if (c->stop_after) {
        c->stop_after = false;
        wr__verdict_set(v, WR__VERDICT_FINISH,
                        drained ? "stopped with a savepoint, drained" : "stopped with a savepoint");
    }
}

/* Records checkpoint id (at path) as the job's latest with the leadership service, before it is
 * completed on disk (whose retention may delete the one recorded before): a leader that cannot
 * record it (deposed, etcd unreachable) completes nothing and tells no sink to commit. */
static int s_record(wr_actor_t *self, const wr__job_ref_t *j, const char *path, char *why,
                    size_t cap)
{
    int rc = wr__leader_put_pointer(j->leader, self, j->id, j->attempt, path);
    if (rc)
        snprintf(why, cap, "not recorded for a successor (%s)",
                 rc == WR_ESTALE ? "this JobManager no longer leads" : wr_strerror(rc));
    return rc;
}

/* Completes the pending checkpoint (every ack is in). */
static void s_complete(wr__coord_t *c, wr_actor_t *self, const wr__job_ref_t *j, int64_t align_ms,
                       wr__verdict_t *v)
{
    int64_t now = wr_wall_ms();
    uint64_t id = c->pending_id;
    s_stat_t *st = s_stat(c, id);
    char *path = wr_ckpt_store_path(c->store, id);
    char why[160] = "";
    int rc = path ? s_record(self, j, path, why, sizeof why) : WR_ENOMEM;
    if (!rc && !wr__leader_is_leader(j->leader)) { /* lapsed since (paused right here?) */
        snprintf(why, sizeof why, "recorded, but this JobManager's leadership lapsed");
        rc = WR_ESTALE;
    }
    if (rc) {
        wr_ckpt_abort(&c->pending);
    } else if ((rc = wr_ckpt_complete(&c->pending, now))) {
        /* the record names a folder that is not there: back to the one that is */
        wr__leader_put_pointer(j->leader, self, j->id, j->attempt, c->latest_path);
    }
    if (rc) {
        free(path);
        if (st) snprintf(st->status, sizeof st->status, "FAILED");
        if (st && why[0]) /* cut to fit (gcc -O1 proves the cut possible: -Wformat-truncation) */
            snprintf(st->reason, sizeof st->reason, "%.*s", (int)sizeof st->reason - 1, why);
        s_failed(self, c, why[0] ? why : wr_strerror(rc), !why[0], v);
        return;
    }
    const wr_ckpt_meta_t *latest = wr_ckpt_latest(c->store);
    snprintf(c->latest_path, sizeof c->latest_path, "%s", path);
    free(path);
    c->latest_id = id;
    c->failures_in_row = 0;
    c->last_end_ms = now;
    if (st) {
        snprintf(st->status, sizeof st->status, "COMPLETED");
        st->duration_ms = now - st->trigger_ms;
        st->full_size = latest ? wr_ckpt_meta_full_size(latest) : 0;
        st->incremental_size = latest ? latest->incremental_size : 0;
        if (align_ms > st->alignment_ms) st->alignment_ms = align_ms;
    }
    wr_debug("jobmanager: job %s checkpoint %llu complete in %lld ms", c->job,
             (unsigned long long)id, (long long)(now - c->trigger_ms));
    s_tell(self, j, WR_MSG_CKPT_COMPLETE, id, NULL, false);
    /* (a drain needs its own checkpoint: the tick triggers it when this one was not) */
    if (c->savepoint && latest && (!c->drain || c->drain_id == id))
        s_savepoint_done(self, c, latest, v);
}

/* The final checkpoint: every subtask's state at its end is in. */
static void s_complete_final(wr__coord_t *c, wr_actor_t *self, const wr__job_ref_t *j,
                             wr__verdict_t *v)
{
    s_abort_pending(c, "the job reached its end");
    int64_t now = wr_wall_ms();
    const wr_ckpt_meta_t *latest = wr_ckpt_latest(c->store);
    if (latest && latest->id >= c->next_id) c->next_id = latest->id + 1;
    uint64_t id = c->next_id++;
    int rc = 0;
    char why[160] = "";
    wr_ckpt_pending_t *p = wr_ckpt_begin(c->store, id, now, &rc);
    for (uint32_t k = 0; p && !rc && k < c->final->ntasks; k++)
        rc = wr_ckpt_add_task_state(p, &c->final->tasks[k]);
    char *path = p && !rc ? wr_ckpt_store_path(c->store, id) : NULL;
    if (p && !rc) rc = path ? s_record(self, j, path, why, sizeof why) : WR_ENOMEM;
    if (p && rc) wr_ckpt_abort(&p);
    if (p && (rc = wr_ckpt_complete(&p, now)))
        wr__leader_put_pointer(j->leader, self, j->id, j->attempt, c->latest_path);
    if (rc) {
        char text[200];
        snprintf(text, sizeof text, "final checkpoint: %s", why[0] ? why : wr_strerror(rc));
        free(path);
        s_final_reset(c);
        wr__verdict_set(v, WR__VERDICT_FAIL_OVER, text);
        return;
    }
    snprintf(c->latest_path, sizeof c->latest_path, "%s", path);
    free(path);
    c->latest_id = id;
    s_stat_t *st = s_stat_new(c, id, now, false);
    snprintf(st->status, sizeof st->status, "COMPLETED");
    snprintf(st->reason, sizeof st->reason, "final");
    c->final_done = true;
    s_tell(self, j, WR_MSG_CKPT_COMPLETE, WR_CKPT_FINAL, NULL, false);
}

#define S_MAX_BLOBS (64 + WR_TOPO_MAX_SINKS) /* source, window or store files, keys, sinks */
#define S_FILE_MAX  160

/* The blobs of an ack into t: inline ones point into the ack, files are named in files. WR_EPROTO
 * for too many, a kind that is none of the three, inline data that is not a bin, a file name
 * that is not a str or is too long. */
static int s_read_blobs(const wr_msg_ckpt_ack_t *ack, wr_ckpt_task_t *t, wr_ckpt_blob_t *blobs,
                        char files[][S_FILE_MAX], uint32_t max)
{
    if (ack->blobs.n > max) return WR_EPROTO;
    for (uint32_t b = 0; b < ack->blobs.n; b++) {
        const wr_msg_ckpt_blob_t *in = &ack->blobs.v[b];
        blobs[b] = (wr_ckpt_blob_t){.name = (char *)in->name}; /* (borrowed: copied when kept) */
        if (in->kind == WR_CKPT_BLOB_INLINE) {
            if (in->data.str) return WR_EPROTO;
            blobs[b].kind = WR_CKPT_BLOB_INLINE;
            blobs[b].data = (uint8_t *)in->data.p;
            blobs[b].len = in->data.len;
        } else {
            if (!in->data.str || in->data.len >= S_FILE_MAX ||
                (in->kind != WR_CKPT_BLOB_EXCLUSIVE && in->kind != WR_CKPT_BLOB_SHARED))
                return WR_EPROTO;
            memcpy(files[b], in->data.p, in->data.len);
            files[b][in->data.len] = '\0';
            blobs[b].kind =
                in->kind == WR_CKPT_BLOB_SHARED ? WR_CKPT_BLOB_SHARED : WR_CKPT_BLOB_EXCLUSIVE;
            blobs[b].file = files[b];
        }
    }
    t->blobs = blobs;
    t->nblobs = ack->blobs.n;
    return 0;
}

/* The shared files a subtask put into DIR/JOB/shared (the rocksdb backend's SST files) become
 * this checkpoint's references (retention keeps them while it is retained). */
static int s_add_shared(wr__coord_t *c, const wr_ckpt_task_t *t)
{
    for (uint32_t b = 0; b < t->nblobs; b++) {
        if (t->blobs[b].kind != WR_CKPT_BLOB_SHARED) continue;
        char path[WR_TASK_RESTORE_MAX + S_FILE_MAX + 16];
        snprintf(path, sizeof path, "%s/%s/%s", wr_ckpt_store_dir(c->store), WR_CKPT_SHARED_DIR,
                 t->blobs[b].file);
        int rc = wr_ckpt_add_shared(c->pending, path, t->blobs[b].file);
        if (rc) return rc;
    }
    return 0;
}

int wr__coord_on_ack(wr__coord_t *c, wr_actor_t *self, const wr__job_ref_t *j,
                     const wr_msg_ckpt_ack_t *ack, const char *from, wr__verdict_t *v)
{
    uint32_t vertex = ack->vertex, subtask = ack->subtask;
    uint64_t id = ack->checkpoint;
    if (strcmp(ack->job, j->id) || ack->attempt != j->attempt || !j->running ||
        vertex >= j->plan->n || subtask >= j->plan->v[vertex].parallelism)
        return 0; /* an old attempt's, or a job gone */
    const wr_plan_vertex_t *pv = &j->plan->v[vertex];
    wr_ckpt_task_t t = {.vertex = vertex, .subtask = subtask, .parallelism = pv->parallelism};
    if (pv->window) /* keyed state: the key groups this subtask owns */
        wr_key_group_range(j->max_parallelism, subtask, pv->parallelism, &t.kg_lo, &t.kg_hi);
    wr_ckpt_blob_t blobs[S_MAX_BLOBS];
    char files[S_MAX_BLOBS][S_FILE_MAX];
    int rc = s_read_blobs(ack, &t, blobs, files, S_MAX_BLOBS);
    if (rc) {
        wr_warn_limited(&c->log, "jobmanager: a bad checkpoint ack from %s", from);
        return 0;
    }
    int64_t align_ms = ack->alignment_ms;
    if (id == WR_CKPT_FINAL) {
        if (!c->final && !(c->final = wr_ckpt_meta_new(c->job, 0, WR_CKPT_CHECKPOINT)))
            return WR_ENOMEM;
        for (uint32_t b = 0; b < t.nblobs; b++)
            if (t.blobs[b].kind != WR_CKPT_BLOB_INLINE) rc = WR_EPROTO;
        if (!rc) rc = wr_ckpt_meta_add_task(c->final, &t);
        wr_debug("jobmanager: job %s subtask %llu.%llu at its end (%u of %u): %s", c->job,
                 (unsigned long long)vertex, (unsigned long long)subtask, c->final_acks + !rc,
                 c->nsub, wr_strerror(rc));
        if (rc == WR_EEXIST) return 0;
        if (rc) {
            wr__verdict_set(v, WR__VERDICT_FAIL_OVER, "a bad final state from a subtask");
            return 0;
        }
        if (++c->final_acks == c->nsub) s_complete_final(c, self, j, v);
        return 0;
    }
    uint32_t flat = wr_plan_index(j->plan, (uint32_t)vertex, (uint32_t)subtask);
    if (!c->pending || id != c->pending_id || c->acked[flat]) return 0; /* late, or seen */
    if ((rc = s_add_shared(c, &t)) || (rc = wr_ckpt_add_task_state(c->pending, &t))) {
        char text[160];
        snprintf(text, sizeof text, "the state of subtask %llu.%llu: %s",
                 (unsigned long long)vertex, (unsigned long long)subtask, wr_strerror(rc));
        s_failed(self, c, text, true, v);
        return 0;
    }
    c->acked[flat] = true;
    s_stat_t *st = s_stat(c, id);
    if (st && align_ms > st->alignment_ms) st->alignment_ms = align_ms;
    if (++c->acks == c->nsub) s_complete(c, self, j, align_ms, v);
    return 0;
}

int wr__coord_on_list(const wr__coord_t *c, wr_actor_t *self, const wr__job_ref_t *j,
                      const wr_msg_t *m)
{
    wr_msg_ckpt_stat_t stats[S_HISTORY];
    uint32_t count = c->nhistory < S_HISTORY ? c->nhistory : S_HISTORY;
    for (uint32_t k = 0; k < count; k++) { /* oldest first */
        const s_stat_t *st = &c->history[(c->nhistory - count + k) % S_HISTORY];
        const char *kind = st->savepoint                                   ? "savepoint"
                           : st->reason[0] && !strcmp(st->reason, "final") ? "final"
                                                                           : "checkpoint";
        stats[k] = (wr_msg_ckpt_stat_t){.id = st->id,
                                        .status = wr_strv(st->status),
                                        .kind = wr_strv(kind),
                                        .trigger_ms = st->trigger_ms,
                                        .duration_ms = st->duration_ms,
                                        .full_size = st->full_size,
                                        .incremental_size = st->incremental_size,
                                        .alignment_ms = st->alignment_ms,
                                        .reason = wr_strv(st->reason)};
    }
    wr_msg_ckpt_list_reply_t reply = {.job = wr_strv(j->id),
                                      .state = wr_strv(j->state),
                                      .latest = wr_strv(c->latest_path),
                                      .interval_ms = c->enabled ? c->o->interval_ms : 0,
                                      .checkpoints = {stats, count}};
    wr__jm_reply(self, m, WR_MSG_CKPT_LIST_REPLY, &wr_msg_ckpt_list_reply_decl, &reply);
    return 0;
}

int wr__coord_on_savepoint(wr__coord_t *c, wr_actor_t *self, const wr__job_ref_t *j,
                           const wr_msg_t *m, const wr_msg_savepoint_req_t *req, wr__verdict_t *v)
{
    bool stop = req->stop, drain = req->drain;
    char dir[WR_TASK_RESTORE_MAX];
    memcpy(dir, req->dir, sizeof dir);
    if (drain && !stop) return wr_reply_error(self, m, WR_EINVAL, "drain is for stopping a job");
    if (!j->running || c->final_acks)
        return wr_reply_error(self, m, WR_EINVAL, "the job is not running (or is at its end)");
    if (c->savepoint)
        return wr_reply_error(self, m, WR_EAGAIN, "a savepoint of this job is under way");
    if (!dir[0]) snprintf(dir, sizeof dir, "%s", c->o->savepoints_dir ? c->o->savepoints_dir : "");
    if (!dir[0])
        return wr_reply_error(self, m, WR_ECONFIG,
                              "no folder: give one, or set state.savepoints.dir");
    c->savepoint = true;
    c->stop_after = stop;
    c->drain = drain;
    c->drain_id = 0;
    snprintf(c->sp_client, sizeof c->sp_client, "%s", m->from);
    c->sp_corr = m->corr;
    snprintf(c->sp_dir, sizeof c->sp_dir, "%s", dir);
    if (!c->pending)
        s_trigger(c, self, j, wr_wall_ms(), v); /* else: the one under way serves, or
                                                  (drain) the next */
    return 0; /* (the JobManager's tick runs while a savepoint is asked: its timeout) */
}
