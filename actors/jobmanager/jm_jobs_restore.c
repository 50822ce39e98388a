/* Restoring a job from a checkpoint or a savepoint (jm_jobs_int.h): whether it can, and what its
 * exactly-once sinks had pending there, committed before the new attempt starts, while what
 * earlier attempts left uncommitted is deleted. */
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "actors/dataflow/io/sink.h"
#include "actors/dataflow/io/sink_2pc.h"
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
        wr_strbuf_addf(err, "cannot read the savepoint or checkpoint %s: %s", j->restore, wr_strerror(rc));
        return rc == WR_ENOMEM ? rc : WR_EINVAL;
    }
    *restored_id = meta->id; /* one numbering along a savepoint's lineage */
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

/* The exactly-once sinks' states ("sink-I") in meta, of the vertex that holds the sinks. */
static int s_recover_sink(const wr__job_t *j, const wr_ckpt_meta_t *meta, uint32_t i, wr_strbuf_t *err)
{
    char name[16];
    snprintf(name, sizeof name, "sink-%u", i);
    const uint8_t **states = calloc(meta->ntasks + 1, sizeof *states);
    size_t *lens = calloc(meta->ntasks + 1, sizeof *lens);
    uint32_t n = 0;
    int rc = states && lens ? 0 : WR_ENOMEM;
    for (uint32_t k = 0; !rc && k < meta->ntasks; k++) {
        const wr_ckpt_task_t *ts = &meta->tasks[k];
        if (ts->vertex >= j->plan.n || !j->plan.v[ts->vertex].sinks) continue;
        for (uint32_t b = 0; b < ts->nblobs; b++) {
            if (strcmp(ts->blobs[b].name, name) || ts->blobs[b].kind != WR_CKPT_BLOB_INLINE) continue;
            states[n] = ts->blobs[b].data;
            lens[n++] = ts->blobs[b].len;
        }
    }
    if (!rc) rc = wr_sink_2pc_recover(j->topo->sinks[i].path, states, lens, n, j->attempt, err);
    free(states);
    free(lens);
    return rc;
}

/* Part files are named by attempt: a new job in a folder that holds another job's files starts
 * past every attempt number there, so that it never writes over them. */
static uint32_t s_first_attempt(const wr_topology_t *t)
{
    uint32_t first = 0;
    for (uint32_t i = 0; i < t->n_sinks; i++) {
        if (t->sinks[i].kind != WR_TOPO_SINK_FILE || !t->sinks[i].exactly_once) continue;
        DIR *d = opendir(t->sinks[i].path);
        struct dirent *e;
        while (d && (e = readdir(d))) {
            wr_sink_2pc_part_t p;
            enum wr_sink_2pc_name kind;
            unsigned sub = 0, attempt = 0;
            unsigned long long seq = 0;
            int end = 0;
            if (!wr_sink_2pc_parse_hidden(e->d_name, strlen(e->d_name), &kind, &p)) attempt = p.attempt;
            else if (sscanf(e->d_name, "part-%u-%u-%llu.jsonl%n", &sub, &attempt, &seq, &end) != 3 ||
                     e->d_name[end])
                continue;
            if (attempt >= first && attempt < UINT32_MAX / 2) first = attempt + 1;
        }
        if (d) closedir(d);
    }
    return first;
}

int wr__jm_recover_sinks(wr__job_t *j, wr_strbuf_t *err)
{
    if (j->state == WR__JOB_CREATED) j->attempt = s_first_attempt(j->topo); /* a new job */
    const wr_topology_t *t = j->topo;
    wr_ckpt_meta_t *meta = NULL;
    int rc = 0;
    for (uint32_t i = 0; i < t->n_sinks && !rc; i++) {
        if (t->sinks[i].kind != WR_TOPO_SINK_FILE || !t->sinks[i].exactly_once) continue;
        if (j->restore[0] && !meta && !(meta = wr_ckpt_load(j->restore, &rc))) {
            wr_strbuf_addf(err, "cannot read checkpoint %s: %s", j->restore, wr_strerror(rc));
            break;
        }
        if (meta) rc = s_recover_sink(j, meta, i, err);
        if (!rc) rc = wr_sink_2pc_abort_stale(t->sinks[i].path, j->attempt);
        if (rc && !err->len) wr_strbuf_addf(err, "sink %s (%s): %s", t->sinks[i].name, t->sinks[i].path, wr_strerror(rc));
    }
    wr_ckpt_meta_destroy(&meta);
    return rc;
}

void wr__jm_drop_lost_attempts(const wr__job_t *j)
{
    const wr_topology_t *t = j->topo;
    for (uint32_t i = 0; i < t->n_sinks; i++) {
        if (t->sinks[i].kind != WR_TOPO_SINK_FILE || !t->sinks[i].exactly_once) continue;
        int rc = wr_sink_2pc_abort_stale(t->sinks[i].path, j->attempt);
        if (rc)
            wr_warn("jobmanager: job %s: cannot delete what its lost attempts left in %s: %s", j->id,
                    t->sinks[i].path, wr_strerror(rc));
    }
}
