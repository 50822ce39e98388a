/* The JobManager's checkpoint coordinator (Flink's CheckpointCoordinator).
 *
 * Every `interval` (and at least `min_pause` after the previous one ended) it starts checkpoint N
 * in the job's storage (state/ckpt_store.h: a temp folder of DIR/JOB), and tells every source
 * subtask to take it (CKPT_TRIGGER with the folder). Sources snapshot their position and send a
 * barrier; every subtask snapshots once the barrier came on all its inputs, writing its files
 * into the folder, and acks with its state's blobs. With every subtask's ack in, the checkpoint
 * is completed (metadata written, the folder renamed: atomic), older ones beyond num-retained are
 * deleted, and every subtask hears CKPT_COMPLETE (exactly-once sinks commit). A checkpoint not
 * complete within `timeout` fails; more than `tolerable` failures in a row fail the job over.
 * Checkpoints stop once a subtask reached its end.
 *
 * The end of input is the final checkpoint: each subtask acks its state at its end (inline only:
 * the windows are empty then) and waits; once all did, the coordinator writes them as one more
 * completed checkpoint and tells every subtask to commit and finish. A failure before that
 * restores the previous checkpoint; after it, a restore finds every source at its end.
 *
 * A savepoint is a checkpoint taken now and copied, self-contained, into its own folder. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "actors/dataflow/record/keygroup.h"
#include "actors/jobmanager/jobmanager_internal.h"
#include "bus/base/clock.h"
#include "bus/base/error.h"
#include "bus/base/log.h"
#include "bus/base/mp.h"
#include "bus/msgtypes.h"
#include "state/savepoint.h"

static wr__ckpt_stat_t *s_stat(wr__coord_t *c, uint64_t id)
{
    for (uint32_t i = 0; i < c->nhistory && i < WR__CKPT_HISTORY; i++)
        if (c->history[i].id == id) return &c->history[i];
    return NULL;
}

static wr__ckpt_stat_t *s_stat_new(wr__coord_t *c, uint64_t id, int64_t now, bool savepoint)
{
    wr__ckpt_stat_t *st = &c->history[c->nhistory++ % WR__CKPT_HISTORY];
    *st = (wr__ckpt_stat_t){.id = id, .trigger_ms = now, .savepoint = savepoint};
    snprintf(st->status, sizeof st->status, "IN_PROGRESS");
    return st;
}

static int s_open_store(wr__jm_t *jm, wr__job_t *j, wr_strbuf_t *err)
{
    if (j->coord.store) return 0;
    int rc = 0;
    const char *dir = jm->o.checkpoints_dir && jm->o.checkpoints_dir[0] ? jm->o.checkpoints_dir : NULL;
    if (!dir) {
        wr_strbuf_adds(err, "no state.checkpoints.dir configured");
        return WR_ECONFIG;
    }
    j->coord.store = wr_ckpt_store_open(dir, j->id, jm->o.num_retained ? jm->o.num_retained : 1, &rc);
    if (!j->coord.store) {
        wr_strbuf_addf(err, "cannot open checkpoint storage %s/%s: %s", dir, j->id, wr_strerror(rc));
        return rc;
    }
    return 0;
}

int wr__ckpt_job_init(wr__jm_t *jm, wr__job_t *j, wr_strbuf_t *err)
{
    wr__coord_t *c = &j->coord;
    if (!c->next_id) c->next_id = 1;
    c->last_end_ms = c->trigger_ms = wr_wall_ms();
    if (!(c->acked = calloc(j->nsub, sizeof *c->acked))) return WR_ENOMEM;
    c->enabled = jm->o.interval_ms > 0;
    return c->enabled ? s_open_store(jm, j, err) : 0;
}

static void s_final_reset(wr__coord_t *c)
{
    wr_ckpt_meta_destroy(&c->final);
    c->final_acks = 0;
    c->final_done = false;
}

/* Drops the checkpoint in progress (the final one's states stay). */
static void s_abort_pending(wr__job_t *j, const char *why)
{
    wr__coord_t *c = &j->coord;
    if (!c->pending) return;
    wr_ckpt_abort(&c->pending);
    wr__ckpt_stat_t *st = s_stat(c, c->pending_id);
    if (st) {
        snprintf(st->status, sizeof st->status, "FAILED");
        snprintf(st->reason, sizeof st->reason, "%s", why);
        st->duration_ms = wr_wall_ms() - st->trigger_ms;
    }
    c->last_end_ms = wr_wall_ms();
    wr_info("jobmanager: job %s checkpoint %llu aborted: %s", j->id, (unsigned long long)c->pending_id, why);
}

void wr__ckpt_abort(wr__job_t *j, const char *why)
{
    s_final_reset(&j->coord);
    s_abort_pending(j, why);
}

void wr__ckpt_job_release(wr__job_t *j)
{
    wr__ckpt_abort(j, "released");
    wr_ckpt_store_destroy(&j->coord.store);
    free(j->coord.acked);
    j->coord.acked = NULL;
}

/* Sends [job id, attempt, id] of type to every subtask, or a trigger [job id, attempt, id, dir,
 * drain] to the sources. */
static void s_tell(wr_actor_t *self, wr__job_t *j, uint16_t type, uint64_t id, const char *dir, bool drain)
{
    msgpack_sbuffer sb;
    msgpack_sbuffer_init(&sb);
    msgpack_packer pk;
    msgpack_packer_init(&pk, &sb, msgpack_sbuffer_write);
    msgpack_pack_array(&pk, dir ? 5 : 3);
    wr_pack_str(&pk, j->id);
    msgpack_pack_uint32(&pk, j->attempt);
    msgpack_pack_uint64(&pk, id);
    if (dir) {
        wr_pack_str(&pk, dir);
        if (drain) msgpack_pack_true(&pk);
        else msgpack_pack_false(&pk);
    }
    for (uint32_t v = 0; v < j->plan.n; v++) {
        if (dir && j->plan.v[v].source < 0) continue; /* triggers go to the sources */
        for (uint32_t i = 0; i < j->plan.v[v].parallelism; i++) {
            char path[WR_PATH_MAX], to[WR_ADDR_MAX];
            wr_task_path(path, j->id, j->attempt, v, i);
            snprintf(to, sizeof to, "%s/%s", j->sub[wr_plan_index(&j->plan, v, i)].node, path);
            int rc = wr_send(self, to, type, sb.data, sb.size);
            if (rc) wr_warn("jobmanager: cannot send %s to %s: %s", wr_msg_type_label(type), to, wr_strerror(rc));
        }
    }
    msgpack_sbuffer_destroy(&sb);
}

/* A checkpoint failed: counted, and the job fails over past the tolerated number. */
static void s_failed(wr_actor_t *self, wr__jm_t *jm, wr__job_t *j, const char *why)
{
    wr__coord_t *c = &j->coord;
    bool savepoint = c->savepoint;
    if (savepoint) {
        char text[160];
        snprintf(text, sizeof text, "savepoint failed: %s", why);
        wr_msg_t *e = wr_msg_error(NULL, NULL, c->sp_corr, WR_EIO, text);
        if (e && wr_send_msg(self, c->sp_client, &e)) wr_warn("jobmanager: cannot answer %s", c->sp_client);
        wr_msg_destroy(&e);
        c->savepoint = c->stop_after = false;
    }
    bool drained = c->drain_id != 0; /* the sources got the drain: this is its checkpoint */
    c->drain = false;
    c->drain_id = 0;
    s_abort_pending(j, why);
    if (drained) { /* the sources ended event time and stopped: only a restart goes on */
        char text[200];
        snprintf(text, sizeof text, "stop --drain failed: %s", why);
        wr__jm_job_failed(self, jm, j, text);
        return;
    }
    if (!savepoint && ++c->failures_in_row > jm->o.tolerable_failures) {
        char text[200];
        snprintf(text, sizeof text, "checkpoint failed %u times in a row: %s", c->failures_in_row, why);
        c->failures_in_row = 0;
        wr__jm_job_failed(self, jm, j, text);
    }
}

static void s_trigger(wr_actor_t *self, wr__jm_t *jm, wr__job_t *j, int64_t now)
{
    wr__coord_t *c = &j->coord;
    int rc = 0;
    wr_strbuf_t err;
    wr_strbuf_init(&err);
    if ((rc = s_open_store(jm, j, &err))) {
        s_failed(self, jm, j, err.buf);
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
        s_failed(self, jm, j, wr_strerror(rc));
        return;
    }
    memset(c->acked, 0, j->nsub * sizeof *c->acked);
    c->acks = 0;
    c->trigger_ms = now;
    bool drain = c->savepoint && c->drain;
    if (drain) c->drain_id = id;
    s_tell(self, j, WR_MSG_CKPT_TRIGGER, id, wr_ckpt_pending_dir(c->pending), drain);
}

void wr__ckpt_tick(wr_actor_t *self, wr__jm_t *jm)
{
    int64_t now = wr_wall_ms();
    for (size_t i = 0; i < jm->njobs; i++) {
        wr__job_t *j = jm->jobs[i];
        wr__coord_t *c = &j->coord;
        if (j->state != WR__JOB_RUNNING) continue;
        if (c->pending && now - c->trigger_ms > jm->o.timeout_ms) {
            s_failed(self, jm, j, "timed out");
            continue;
        }
        if (c->pending || c->final_acks || (!c->enabled && !c->savepoint)) continue;
        bool running = true; /* every subtask up (Flink triggers only then) */
        for (uint32_t k = 0; k < j->nsub && running; k++) running = !strcmp(j->sub[k].state, "running");
        if (!running) continue;
        bool due = c->savepoint || (now - c->trigger_ms >= jm->o.interval_ms &&
                                    now - c->last_end_ms >= jm->o.min_pause_ms);
        if (due) s_trigger(self, jm, j, now);
    }
}

/* The savepoint asked for is checkpoint `latest`: copy it, answer, maybe stop the job. */
static void s_savepoint_done(wr_actor_t *self, wr__jm_t *jm, wr__job_t *j, const wr_ckpt_meta_t *latest)
{
    wr__coord_t *c = &j->coord;
    char target[WR_TASK_RESTORE_MAX + 64];
    snprintf(target, sizeof target, "%s/savepoint-%s-%llu", c->sp_dir, j->id, (unsigned long long)latest->id);
    int rc = wr_savepoint_write(latest, target, wr_wall_ms());
    c->savepoint = false;
    if (rc) {
        char text[WR_TASK_RESTORE_MAX + 96];
        snprintf(text, sizeof text, "cannot write the savepoint to %s: %s", target, wr_strerror(rc));
        wr_msg_t *e = wr_msg_error(NULL, NULL, c->sp_corr, rc, text);
        if (e && wr_send_msg(self, c->sp_client, &e)) wr_warn("jobmanager: cannot answer %s", c->sp_client);
        wr_msg_destroy(&e);
        c->stop_after = false;
        if (c->drain) { /* drained and committed, but no savepoint: the job cannot go on */
            c->drain = false;
            c->drain_id = 0;
            wr__jm_end(self, jm, j, WR__JOB_FAILED, text);
        }
        return;
    }
    wr_info("jobmanager: job %s savepoint at %s", j->id, target);
    msgpack_sbuffer sb;
    msgpack_sbuffer_init(&sb);
    msgpack_packer pk;
    msgpack_packer_init(&pk, &sb, msgpack_sbuffer_write);
    msgpack_pack_array(&pk, 1);
    wr_pack_str(&pk, target);
    wr_msg_t *m = wr_msg_new(WR_MSG_SAVEPOINT_DONE, NULL, NULL, sb.data, sb.size);
    msgpack_sbuffer_destroy(&sb);
    if (m) m->corr = c->sp_corr;
    if (!m || wr_send_msg(self, c->sp_client, &m)) wr_warn("jobmanager: cannot answer %s", c->sp_client);
    wr_msg_destroy(&m);
    bool drained = c->drain;
    c->drain = false;
    c->drain_id = 0;
    if (c->stop_after) {
        c->stop_after = false;
        wr__jm_end(self, jm, j, WR__JOB_FINISHED,
                   drained ? "stopped with a savepoint, drained" : "stopped with a savepoint");
    }
}

/* Completes the pending checkpoint (every ack is in). */
static void s_complete(wr_actor_t *self, wr__jm_t *jm, wr__job_t *j, int64_t align_ms)
{
    wr__coord_t *c = &j->coord;
    int64_t now = wr_wall_ms();
    uint64_t id = c->pending_id;
    int rc = wr_ckpt_complete(&c->pending, now);
    wr__ckpt_stat_t *st = s_stat(c, id);
    if (rc) {
        if (st) snprintf(st->status, sizeof st->status, "FAILED");
        s_failed(self, jm, j, wr_strerror(rc));
        return;
    }
    const wr_ckpt_meta_t *latest = wr_ckpt_latest(c->store);
    char *path = wr_ckpt_store_path(c->store, id);
    snprintf(c->latest_path, sizeof c->latest_path, "%s", path ? path : "");
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
    wr_debug("jobmanager: job %s checkpoint %llu complete in %lld ms", j->id, (unsigned long long)id,
             (long long)(now - c->trigger_ms));
    s_tell(self, j, WR_MSG_CKPT_COMPLETE, id, NULL, false);
    /* (a drain needs its own checkpoint: the tick triggers it when this one was not) */
    if (c->savepoint && latest && (!c->drain || c->drain_id == id)) s_savepoint_done(self, jm, j, latest);
}

/* The final checkpoint: every subtask's state at its end is in. */
static void s_complete_final(wr_actor_t *self, wr__jm_t *jm, wr__job_t *j)
{
    wr__coord_t *c = &j->coord;
    s_abort_pending(j, "the job reached its end");
    int64_t now = wr_wall_ms();
    const wr_ckpt_meta_t *latest = wr_ckpt_latest(c->store);
    if (latest && latest->id >= c->next_id) c->next_id = latest->id + 1;
    uint64_t id = c->next_id++;
    int rc = 0;
    wr_ckpt_pending_t *p = wr_ckpt_begin(c->store, id, now, &rc);
    for (uint32_t k = 0; p && !rc && k < c->final->ntasks; k++) rc = wr_ckpt_add_task_state(p, &c->final->tasks[k]);
    if (p && rc) wr_ckpt_abort(&p);
    if (p) rc = wr_ckpt_complete(&p, now);
    if (rc) {
        char text[96];
        snprintf(text, sizeof text, "final checkpoint: %s", wr_strerror(rc));
        s_final_reset(c);
        wr__jm_job_failed(self, jm, j, text);
        return;
    }
    char *path = wr_ckpt_store_path(c->store, id);
    snprintf(c->latest_path, sizeof c->latest_path, "%s", path ? path : "");
    free(path);
    c->latest_id = id;
    wr__ckpt_stat_t *st = s_stat_new(c, id, now, false);
    snprintf(st->status, sizeof st->status, "COMPLETED");
    snprintf(st->reason, sizeof st->reason, "final");
    c->final_done = true;
    s_tell(self, j, WR_MSG_CKPT_COMPLETE, WR_CKPT_FINAL, NULL, false);
}

#define S_MAX_BLOBS (64 + WR_TOPO_MAX_SINKS) /* source, window or store files, keys, sinks */
#define S_FILE_MAX  160

/* Reads the blobs of an ack into t (pointing into the message). */
static int s_read_blobs(wr_mp_reader_t *r, wr_ckpt_task_t *t, wr_ckpt_blob_t *blobs, char names[][64],
                        char files[][S_FILE_MAX], uint32_t max)
{
    uint32_t n = 0;
    if (wr_mp_read_array(r, &n) || n > max) return WR_EPROTO;
    for (uint32_t b = 0; b < n; b++) {
        uint32_t three = 0;
        uint64_t kind = 0;
        wr_mp_read_array(r, &three);
        wr_mp_read_str_copy(r, names[b], 64);
        wr_mp_read_uint(r, &kind);
        blobs[b] = (wr_ckpt_blob_t){.name = names[b]};
        if (kind == WR_CKPT_BLOB_INLINE) {
            const uint8_t *data = NULL;
            uint32_t len = 0;
            wr_mp_read_bin(r, &data, &len);
            blobs[b].kind = WR_CKPT_BLOB_INLINE;
            blobs[b].data = (uint8_t *)data;
            blobs[b].len = len;
        } else {
            wr_mp_read_str_copy(r, files[b], S_FILE_MAX);
            blobs[b].kind = kind == WR_CKPT_BLOB_SHARED ? WR_CKPT_BLOB_SHARED : WR_CKPT_BLOB_EXCLUSIVE;
            blobs[b].file = files[b];
        }
        if (r->err || three != 3 || kind > WR_CKPT_BLOB_SHARED) return WR_EPROTO;
    }
    t->blobs = blobs;
    t->nblobs = n;
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

int wr__ckpt_on_ack(wr_actor_t *self, wr__jm_t *jm, const wr_msg_t *m)
{
    wr_mp_reader_t r;
    wr_mp_reader_init(&r, m->data, m->len);
    uint32_t n = 0;
    uint64_t attempt = 0, vertex = 0, subtask = 0, id = 0;
    int64_t align_ms = 0;
    char job[WR_JOB_ID_MAX];
    wr_mp_read_array(&r, &n);
    wr_mp_read_str_copy(&r, job, sizeof job);
    wr_mp_read_uint(&r, &attempt);
    wr_mp_read_uint(&r, &vertex);
    wr_mp_read_uint(&r, &subtask);
    wr_mp_read_uint(&r, &id);
    wr__job_t *j = r.err || n != 7 ? NULL : wr__jm_job_find(jm, job);
    if (!j || attempt != j->attempt || j->state != WR__JOB_RUNNING || vertex >= j->plan.n ||
        subtask >= j->plan.v[vertex].parallelism)
        return 0; /* an old attempt's, or a job gone */
    wr__coord_t *c = &j->coord;
    const wr_plan_vertex_t *pv = &j->plan.v[vertex];
    wr_ckpt_task_t t = {.vertex = (uint32_t)vertex, .subtask = (uint32_t)subtask, .parallelism = pv->parallelism};
    if (pv->window) /* keyed state: the key groups this subtask owns */
        wr_key_group_range(j->topo->max_parallelism, (uint32_t)subtask, pv->parallelism, &t.kg_lo, &t.kg_hi);
    wr_ckpt_blob_t blobs[S_MAX_BLOBS];
    char names[S_MAX_BLOBS][64], files[S_MAX_BLOBS][S_FILE_MAX];
    int rc = s_read_blobs(&r, &t, blobs, names, files, S_MAX_BLOBS);
    if (!rc && (wr_mp_read_int(&r, &align_ms) || wr_mp_remaining(&r))) rc = WR_EPROTO;
    if (rc) {
        wr_warn("jobmanager: a bad checkpoint ack from %s", m->from);
        return 0;
    }
    if (id == WR_CKPT_FINAL) {
        if (!c->final && !(c->final = wr_ckpt_meta_new(j->id, 0, WR_CKPT_CHECKPOINT))) return WR_ENOMEM;
        for (uint32_t b = 0; b < t.nblobs; b++)
            if (t.blobs[b].kind != WR_CKPT_BLOB_INLINE) rc = WR_EPROTO;
        if (!rc) rc = wr_ckpt_meta_add_task(c->final, &t);
        wr_debug("jobmanager: job %s subtask %llu.%llu at its end (%u of %u): %s", j->id,
                 (unsigned long long)vertex, (unsigned long long)subtask, c->final_acks + !rc, j->nsub,
                 wr_strerror(rc));
        if (rc == WR_EEXIST) return 0;
        if (rc) {
            wr__jm_job_failed(self, jm, j, "a bad final state from a subtask");
            return 0;
        }
        if (++c->final_acks == j->nsub) s_complete_final(self, jm, j);
        return 0;
    }
    uint32_t flat = wr_plan_index(&j->plan, (uint32_t)vertex, (uint32_t)subtask);
    if (!c->pending || id != c->pending_id || c->acked[flat]) return 0; /* late, or seen */
    if ((rc = s_add_shared(c, &t)) || (rc = wr_ckpt_add_task_state(c->pending, &t))) {
        char text[160];
        snprintf(text, sizeof text, "the state of subtask %llu.%llu: %s", (unsigned long long)vertex,
                 (unsigned long long)subtask, wr_strerror(rc));
        s_failed(self, jm, j, text);
        return 0;
    }
    c->acked[flat] = true;
    wr__ckpt_stat_t *st = s_stat(c, id);
    if (st && align_ms > st->alignment_ms) st->alignment_ms = align_ms;
    if (++c->acks == j->nsub) s_complete(self, jm, j, align_ms);
    return 0;
}

int wr__ckpt_on_list(wr_actor_t *self, wr__jm_t *jm, const wr_msg_t *m)
{
    wr__job_t *j = wr__jm_job_arg(jm, m);
    if (!j) return wr_reply_error(self, m, WR_ENOTFOUND, "no such job (see `weir jobs`)");
    const wr__coord_t *c = &j->coord;
    msgpack_sbuffer sb;
    msgpack_sbuffer_init(&sb);
    msgpack_packer pk;
    msgpack_packer_init(&pk, &sb, msgpack_sbuffer_write);
    msgpack_pack_map(&pk, 5);
    wr_pack_str(&pk, "job");
    wr_pack_str(&pk, j->id);
    wr_pack_str(&pk, "state");
    wr_pack_str(&pk, wr__jm_state_name(j->state));
    wr_pack_str(&pk, "latest");
    wr_pack_str(&pk, c->latest_path);
    wr_pack_str(&pk, "interval_ms");
    msgpack_pack_int64(&pk, c->enabled ? jm->o.interval_ms : 0);
    wr_pack_str(&pk, "checkpoints");
    uint32_t count = c->nhistory < WR__CKPT_HISTORY ? c->nhistory : WR__CKPT_HISTORY;
    msgpack_pack_array(&pk, count);
    for (uint32_t k = 0; k < count; k++) { /* oldest first */
        const wr__ckpt_stat_t *st = &c->history[(c->nhistory - count + k) % WR__CKPT_HISTORY];
        msgpack_pack_map(&pk, 9);
        wr_pack_str(&pk, "id");
        msgpack_pack_uint64(&pk, st->id);
        wr_pack_str(&pk, "status");
        wr_pack_str(&pk, st->status);
        wr_pack_str(&pk, "kind");
        wr_pack_str(&pk, st->savepoint ? "savepoint" : st->reason[0] && !strcmp(st->reason, "final") ? "final" : "checkpoint");
        wr_pack_str(&pk, "trigger_ms");
        msgpack_pack_int64(&pk, st->trigger_ms);
        wr_pack_str(&pk, "duration_ms");
        msgpack_pack_int64(&pk, st->duration_ms);
        wr_pack_str(&pk, "full_size");
        msgpack_pack_uint64(&pk, st->full_size);
        wr_pack_str(&pk, "incremental_size");
        msgpack_pack_uint64(&pk, st->incremental_size);
        wr_pack_str(&pk, "alignment_ms");
        msgpack_pack_int64(&pk, st->alignment_ms);
        wr_pack_str(&pk, "reason");
        wr_pack_str(&pk, st->reason);
    }
    wr_reply(self, m, WR_MSG_CKPT_LIST_REPLY, sb.data, sb.size);
    msgpack_sbuffer_destroy(&sb);
    return 0;
}

/* SAVEPOINT_REQ [job id, dir ("": state.savepoints.dir), stop, drain]: answered when it is
 * written. */
int wr__ckpt_on_savepoint(wr_actor_t *self, wr__jm_t *jm, const wr_msg_t *m)
{
    wr_mp_reader_t r;
    wr_mp_reader_init(&r, m->data, m->len);
    uint32_t n = 0;
    bool stop = false, drain = false;
    char id[WR_JOB_ID_MAX], dir[WR_TASK_RESTORE_MAX];
    wr_mp_read_array(&r, &n);
    wr_mp_read_str_copy(&r, id, sizeof id);
    wr_mp_read_str_copy(&r, dir, sizeof dir);
    wr_mp_read_bool(&r, &stop);
    wr_mp_read_bool(&r, &drain);
    if (r.err || n != 4) return wr_reply_error(self, m, WR_EPROTO, "bad savepoint request");
    if (drain && !stop) return wr_reply_error(self, m, WR_EINVAL, "drain is for stopping a job");
    wr__job_t *j = wr__jm_job_find(jm, id);
    if (!j) return wr_reply_error(self, m, WR_ENOTFOUND, "no such job (see `weir jobs`)");
    wr__coord_t *c = &j->coord;
    if (j->state != WR__JOB_RUNNING || c->final_acks)
        return wr_reply_error(self, m, WR_EINVAL, "the job is not running (or is at its end)");
    if (c->savepoint) return wr_reply_error(self, m, WR_EAGAIN, "a savepoint of this job is under way");
    if (!dir[0]) snprintf(dir, sizeof dir, "%s", jm->o.savepoints_dir ? jm->o.savepoints_dir : "");
    if (!dir[0]) return wr_reply_error(self, m, WR_ECONFIG, "no folder: give one, or set state.savepoints.dir");
    c->savepoint = true;
    c->stop_after = stop;
    c->drain = drain;
    c->drain_id = 0;
    snprintf(c->sp_client, sizeof c->sp_client, "%s", m->from);
    c->sp_corr = m->corr;
    snprintf(c->sp_dir, sizeof c->sp_dir, "%s", dir);
    if (!c->pending) s_trigger(self, jm, j, wr_wall_ms()); /* else: the one under way serves, or
                                                               (drain) the next */
    return wr__jm_tick_start(self, jm); /* its timeout */
}
