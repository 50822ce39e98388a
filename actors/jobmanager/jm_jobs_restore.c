/* Restoring a job from a checkpoint or a savepoint (jm_jobs_int.h): whether it can, and what its
 * exactly-once sinks had pending there, committed before the new attempt starts, while what
 * earlier attempts left uncommitted is deleted. */
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "actors/dataflow/job/job_connectors.h"
#include "actors/jobmanager/jm_jobs_int.h"
#include "bus/base/error.h"
#include "bus/base/log.h"
#include "state/ckpt_store.h"

int wr__jm_check_restore(wr__job_t *j, uint64_t *restored_id, wr_strbuf_t *err)
{
    *restored_id = 0;
    if (!j->restore[0]) return 0;
    int rc = 0;
    wr_ckpt_meta_t *meta = wr_ckpt_load(j->restore, &rc);
    if (!meta) {
        wr_strbuf_addf(err, "cannot read the savepoint or checkpoint %s: %s", j->restore,
                       wr_strerror(rc));
        return rc == WR_ENOMEM ? rc : WR_EINVAL;
    }
    *restored_id = meta->id; /* one numbering along a savepoint's lineage */
    for (uint32_t k = 0; k < meta->ntasks && !rc; k++) {
        const wr_ckpt_task_t *ts = &meta->tasks[k];
        for (uint32_t b = 0; b < ts->nblobs && !rc; b++) {
            if (strcmp(ts->blobs[b].name, "drained")) continue;
            wr_strbuf_addf(
                err,
                "%s was taken by `weir stop --drain`: every window fired at the end of "
                "event time, so any record after it would be too late; restore a savepoint "
                "taken without --drain",
                j->restore);
            rc = WR_EINVAL;
        }
        if (rc || ts->vertex >= j->plan.n || !j->plan.v[ts->vertex].window) continue;
        bool mem = false, rocks = false;
        for (uint32_t b = 0; b < ts->nblobs; b++) {
            mem |= !strcmp(ts->blobs[b].name, "window");
            rocks |= !strncmp(ts->blobs[b].name, "rocks/", 6);
        }
        if ((mem && j->rocksdb) || (rocks && !j->rocksdb)) {
            wr_strbuf_addf(
                err,
                "%s holds %s window state; restore it with state.backend: %s (the two do "
                "not convert)",
                j->restore, mem ? "memory-backend" : "rocksdb", mem ? "memory" : "rocksdb");
            rc = WR_EINVAL;
        } else if (rocks && j->plan.v[ts->vertex].parallelism < ts->parallelism) {
            wr_strbuf_addf(
                err,
                "%s holds rocksdb window state of %u subtasks: it restores at %u or more "
                "(one store per subtask; scaling in needs state.backend: memory)",
                j->restore, ts->parallelism, ts->parallelism);
            rc = WR_EINVAL;
        }
    }
    wr_ckpt_meta_destroy(&meta);
    return rc;
}

/* A new job's first attempt: past every attempt its exactly-once sinks find traces of. */
static uint32_t s_first_attempt(const wr_topology_t *t)
{
    return wr_job_first_attempt(t);
}

int wr__jm_recover_sinks(wr__job_t *j, wr_strbuf_t *err)
{
    if (j->state == WR__JOB_CREATED) j->attempt = s_first_attempt(j->topo); /* a new job */
    return wr_job_recover_sinks(j->topo, &j->plan, j->restore, j->attempt, err);
}

void wr__jm_drop_lost_attempts(const wr__job_t *j)
{
    /* the committers with nothing to commit: they only abort what earlier attempts left */
    wr_strbuf_t err;
    wr_strbuf_init(&err);
    int rc = wr_job_recover_sinks(j->topo, &j->plan, "", j->attempt, &err);
    if (rc)
        wr_warn("jobmanager: job %s: cannot delete what its lost attempts left: %s", j->id,
                err.len ? err.buf : wr_strerror(rc));
    wr_strbuf_release(&err);
}

int wr__jm_pointer_checkpoint(const char *pointer, char *out, size_t cap)
{
    if ((size_t)snprintf(out, cap, "%s", pointer) >= cap) return WR_ETOOBIG;
    char meta[WR_TASK_RESTORE_MAX + 16 + 256]; /* (a folder name, or a checkpoint name in it) */
    snprintf(meta, sizeof meta, "%s/_metadata", pointer);
    const char *slash = strrchr(pointer, '/');
    if (!pointer[0] || access(meta, F_OK) == 0 || !slash || strncmp(slash + 1, "chk-", 4))
        return 0; /* nothing to restore, there, or not a checkpoint of a store: as recorded */
    /* recorded, then not completed (its leader lost before the rename): the newest completed
     * one before it is still there, as retention runs only once a newer one completed */
    unsigned long long want = strtoull(slash + 4, NULL, 10), best = 0;
    char dir[WR_TASK_RESTORE_MAX];
    snprintf(dir, sizeof dir, "%.*s", (int)(slash - pointer), pointer);
    DIR *d = opendir(dir);
    if (!d) return 0;
    for (struct dirent *e; (e = readdir(d));) {
        char *end = NULL;
        if (strncmp(e->d_name, "chk-", 4)) continue;
        unsigned long long id = strtoull(e->d_name + 4, &end, 10);
        if (*end || id >= want || id <= best) continue;
        snprintf(meta, sizeof meta, "%s/%s/_metadata", dir, e->d_name);
        if (access(meta, F_OK) == 0) best = id;
    }
    closedir(d);
    if (best && (size_t)snprintf(out, cap, "%s/chk-%llu", dir, best) >= cap) return WR_ETOOBIG;
    if (!best) out[0] = '\0'; /* none completed: from the start */
    wr_warn("jobmanager: %s was recorded but never completed; restoring %s", pointer,
            best ? out : "from the start");
    return 0;
}
