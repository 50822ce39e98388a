/* The JobManager's failover (Flink's restart strategies): when a subtask fails or a TaskManager
 * is lost, every subtask of the job is stopped and its slots freed; after the strategy's delay the
 * job is placed again on the live TaskManagers (waiting for slots while a lost TaskManager comes
 * back), the exactly-once sinks' pending files of the latest completed checkpoint are committed
 * and those of failed attempts deleted, and a new attempt is deployed that restores every subtask
 * from that checkpoint and rewinds the sources to it. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "actors/dataflow/job/job_connectors.h"
#include "actors/jobmanager/jobmanager_internal.h"
#include "bus/base/clock.h"
#include "bus/base/error.h"
#include "bus/base/log.h"

/* May j restart now, and after how long? */
static bool s_allowed(const wr__jm_t *jm, wr__job_t *j, int64_t now, int64_t *delay)
{
    const wr_restart_opts_t *o = &jm->o.restart;
    wr_restart_kind_t kind = o->kind;
    if (kind == WR_RESTART_AUTO) kind = j->coord.enabled ? WR_RESTART_FIXED_DELAY : WR_RESTART_NONE;
    switch (kind) {
    case WR_RESTART_FIXED_DELAY:
        *delay = o->delay_ms;
        return j->restarts < o->attempts;
    case WR_RESTART_EXPONENTIAL:
        if (!j->backoff_ms || (j->failed_at_ms && now - j->failed_at_ms > o->reset_threshold_ms))
            j->backoff_ms = o->initial_backoff_ms;
        *delay = j->backoff_ms;
        j->backoff_ms = j->backoff_ms > o->max_backoff_ms / (o->multiplier ? o->multiplier : 1)
                            ? o->max_backoff_ms
                            : j->backoff_ms * o->multiplier;
        return true;
    case WR_RESTART_FAILURE_RATE: {
        uint32_t kept = 0;
        for (uint32_t i = 0; i < j->nfailure_times; i++)
            if (now - j->failure_times[i] < o->failure_interval_ms) j->failure_times[kept++] = j->failure_times[i];
        int64_t *grown = realloc(j->failure_times, (kept + 1) * sizeof *grown);
        if (!grown) return false;
        j->failure_times = grown;
        j->failure_times[kept++] = now;
        j->nfailure_times = kept;
        *delay = o->delay_ms;
        return kept <= o->max_failures;
    }
    case WR_RESTART_AUTO:
    case WR_RESTART_NONE: break;
    }
    return false;
}

void wr__jm_job_failed(wr_actor_t *self, wr__jm_t *jm, wr__job_t *j, const char *why)
{
    if (j->state != WR__JOB_RUNNING) return;
    int64_t now = wr_wall_ms(), delay = 0;
    if (!s_allowed(jm, j, now, &delay)) {
        char text[400];
        snprintf(text, sizeof text, "%s%s", why, j->restarts ? " (no restarts left)" : "");
        wr__jm_end(self, jm, j, WR__JOB_FAILED, text);
        return;
    }
    wr_warn("jobmanager: job %s failed over (restart %u in %lld ms, from %s): %s", j->id, j->restarts + 1,
            (long long)delay, j->coord.latest_path[0] ? j->coord.latest_path : j->restore[0] ? j->restore : "the start",
            why);
    wr__ckpt_abort(j, "the job failed over");
    wr__jm_release(self, jm, j);
    j->state = WR__JOB_RESTARTING;
    j->restart_at_ms = now + delay;
    j->failed_at_ms = now;
    j->recovered_ms = 0;
    j->restarts++;
    snprintf(j->error, sizeof j->error, "restarting after: %s", why);
    int rc = wr__jm_tick_start(self, jm);
    if (rc) wr_warn("jobmanager: cannot start its timer: %s", wr_strerror(rc));
}

void wr__jm_restart_tick(wr_actor_t *self, wr__jm_t *jm)
{
    int64_t now = wr_wall_ms();
    for (size_t i = 0; i < jm->njobs; i++) {
        wr__job_t *j = jm->jobs[i];
        if (j->state != WR__JOB_RESTARTING || now < j->restart_at_ms) continue;
        if (!wr__jm_place(jm, j)) continue; /* too few slots: a lost TaskManager may come back */
        j->attempt++;
        if (j->coord.latest_path[0]) snprintf(j->restore, sizeof j->restore, "%s", j->coord.latest_path);
        wr_strbuf_t err;
        wr_strbuf_init(&err);
        int rc = wr__jm_recover_sinks(j, &err);
        if (rc) {
            char text[400];
            snprintf(text, sizeof text, "cannot recover the sinks: %s", err.len ? err.buf : wr_strerror(rc));
            wr_strbuf_release(&err);
            j->state = WR__JOB_RUNNING; /* so that it can end */
            wr__jm_end(self, jm, j, WR__JOB_FAILED, text);
            continue;
        }
        wr_strbuf_release(&err);
        j->finished = 0;
        j->error[0] = '\0';
        j->state = WR__JOB_RUNNING;
        wr_info("jobmanager: job %s attempt %u deploying%s%s", j->id, j->attempt,
                j->restore[0] ? " from " : "", j->restore);
        if ((rc = wr__jm_deploy(self, j))) {
            char text[96];
            snprintf(text, sizeof text, "deployment failed: %s", wr_strerror(rc));
            wr__jm_job_failed(self, jm, j, text);
        }
    }
}

int wr__jm_check_restore(wr__job_t *j, wr_strbuf_t *err)
{
    if (!j->restore[0]) return 0;
    int rc = 0;
    wr_ckpt_meta_t *meta = wr_ckpt_load(j->restore, &rc);
    if (!meta) {
        wr_strbuf_addf(err, "cannot read the savepoint or checkpoint %s: %s", j->restore, wr_strerror(rc));
        return rc == WR_ENOMEM ? rc : WR_EINVAL;
    }
    j->coord.next_id = meta->id + 1; /* one numbering along a savepoint's lineage */
    for (uint32_t k = 0; k < meta->ntasks && !rc; k++) {
        const wr_ckpt_task_t *ts = &meta->tasks[k];
        for (uint32_t b = 0; b < ts->nblobs && !rc; b++) {
            if (strcmp(ts->blobs[b].name, "drained")) continue;
            wr_strbuf_addf(err, "%s was taken by `weir stop --drain`: every window fired at the end of "
                           "event time, so any record after it would be too late; restore a savepoint "
                           "taken without --drain", j->restore);
            rc = WR_EINVAL;
        }
        if (rc || ts->vertex >= j->plan.n || !j->plan.v[ts->vertex].window) continue;
        bool mem = false, rocks = false;
        for (uint32_t b = 0; b < ts->nblobs; b++) {
            mem |= !strcmp(ts->blobs[b].name, "window");
            rocks |= !strncmp(ts->blobs[b].name, "rocks/", 6);
        }
        if ((mem && j->rocksdb) || (rocks && !j->rocksdb)) {
            wr_strbuf_addf(err, "%s holds %s window state; restore it with state.backend: %s (the two do "
                           "not convert)", j->restore, mem ? "memory-backend" : "rocksdb", mem ? "memory" : "rocksdb");
            rc = WR_EINVAL;
        } else if (rocks && j->plan.v[ts->vertex].parallelism < ts->parallelism) {
            wr_strbuf_addf(err, "%s holds rocksdb window state of %u subtasks: it restores at %u or more "
                           "(one store per subtask; scaling in needs state.backend: memory)", j->restore,
                           ts->parallelism, ts->parallelism);
            rc = WR_EINVAL;
        }
    }
    wr_ckpt_meta_destroy(&meta);
    return rc;
}

/* Exactly-once sinks name what they write by attempt: a new job starts past every attempt number
 * its sinks find traces of where they write, so that it never writes over an earlier job's. */
static uint32_t s_first_attempt(const wr_topology_t *t)
{
    return wr_job_first_attempt(t);
}

int wr__jm_recover_sinks(wr__job_t *j, wr_strbuf_t *err)
{
    if (j->state == WR__JOB_CREATED) j->attempt = s_first_attempt(j->topo); /* a new job */
    return wr_job_recover_sinks(j->topo, &j->plan, j->restore, j->attempt, err);
}
