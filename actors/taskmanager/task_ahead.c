/* A subtask's window segments written ahead (window_snap.h): the segment of a pane that closed
 * is written a step on each tick (a batch of key groups, about 32 MiB of records), between the
 * batches of records, so that the next checkpoint writes only the main. Memory backend, tumbling
 * and sliding windows, checkpoints on.
 *
 * Files: DIR/JOB/ahead/<job>-<attempt>-v<V>-s<S>-p<P>.ahead (the JobManager names the folder in
 * TASK_DEPLOY), in the checkpoints' folder so that a checkpoint renames one into shared/ under
 * the segment's name (task_ckpt.c) instead of writing it. Not in shared/ itself: the store
 * deletes from there whatever no checkpoint references, which an ahead file is not yet. A
 * checkpoint takes the files the engine lists and deletes the rest; the subtask's end deletes
 * what is left. Leftovers of a subtask that died: the job's next attempt deletes those of other
 * attempts when its subtasks start, and the store deletes the folder when it is opened (a
 * JobManager's start). */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "actors/dataflow/window/window_snap.h"
#include "actors/taskmanager/task_internal.h"
#include "bus/base/clock.h"
#include "bus/base/error.h"
#include "bus/base/fs.h"
#include "bus/base/log.h"
#include "state/ckpt_store.h"

static wr_window_t *s_engine(const wr__task_t *t)
{
    const wr__window_t *w = t->chain.win;
    return w && !w->state_dir[0] && wr_window_incremental(w->engine) ? w->engine : NULL;
}

/* Closes file f's writer and fd (its bytes stay; a failed close marks it bad: never taken);
 * with drop, deletes it and forgets it. */
static void s_close(wr__task_ahead_t *a, uint32_t i, bool drop)
{
    wr__ahead_file_t *f = &a->f[i];
    wr_snap_writer_destroy(&f->w);
    if (f->fd >= 0 && close(f->fd)) f->bad = true;
    f->fd = -1;
    if (!drop) return;
    unlink(f->path);
    a->f[i] = a->f[--a->n];
}

/* Deletes the ahead files of the job's other attempts (a subtask of theirs died, or was
 * cancelled, before a checkpoint took them). */
static void s_clean_other_attempts(const wr__task_t *t, const char *dir)
{
    DIR *d = opendir(dir);
    size_t jl = strlen(t->o.job_id);
    for (struct dirent *e; d && (e = readdir(d));) {
        const char *n = e->d_name;
        if (strncmp(n, t->o.job_id, jl) || n[jl] != '-') continue;
        char *end;
        unsigned long attempt = strtoul(n + jl + 1, &end, 10);
        if (end == n + jl + 1 || *end != '-' || attempt == t->o.attempt) continue;
        char path[sizeof t->ahead.dir + 256];
        if ((size_t)snprintf(path, sizeof path, "%s/%s", dir, n) < sizeof path) unlink(path);
    }
    if (d) closedir(d);
}

void wr__task_ahead_start(wr__task_t *t)
{
    wr__task_ahead_t *a = &t->ahead;
    if (!t->o.ahead_dir[0] || !s_engine(t) || !t->o.checkpointing) return;
    int rc = wr_fs_mkdirs(t->o.ahead_dir);
    if (rc) {
        wr_warn("subtask %u.%u: cannot make %s (%s): checkpoints write every segment", t->o.vertex,
                t->o.subtask, t->o.ahead_dir, wr_strerror(rc));
        return;
    }
    snprintf(a->dir, sizeof a->dir, "%s", t->o.ahead_dir);
    s_clean_other_attempts(t, a->dir);
}

/* The segment of pane that segs[0..n) lists as written ahead (not due, with an id), or NULL. */
static const wr_window_seg_t *s_listed(const wr_window_seg_t *segs, size_t n, int64_t pane)
{
    for (size_t k = 0; k < n; k++)
        if (segs[k].pane == pane && !segs[k].due && segs[k].id) return &segs[k];
    return NULL;
}

/* Forgets (and deletes) the files whose segments the engine no longer lists as written ahead:
 * their pane expired, or a step failed. */
static void s_reconcile(wr__task_t *t, wr_window_t *e)
{
    wr__task_ahead_t *a = &t->ahead;
    int n = wr_window_segments(e, a->segs, WR__TASK_MAX_SEGS); /* (more: none is written ahead) */
    for (uint32_t i = a->n; i-- > 0;)
        if (!a->f[i].w && !s_listed(a->segs, n > 0 ? (size_t)n : 0, a->f[i].pane)) /* (w: open) */
            s_close(a, i, true);
}

/* Begins the segment of the next closed pane, if any. */
static void s_begin(wr__task_t *t, wr_window_t *e)
{
    wr__task_ahead_t *a = &t->ahead;
    int64_t pane;
    if (a->n == WR__TASK_AHEAD_FILES) s_reconcile(t, e);
    if (a->n == WR__TASK_AHEAD_FILES || wr_window_ahead_next(e, &pane) != 1) return;
    if (wr_window_segments(e, a->segs, WR__TASK_MAX_SEGS) == WR_ETOOBIG) {
        wr_info("subtask %u.%u: more live segments than a checkpoint takes: checkpoints are full, "
                "none is written ahead",
                t->o.vertex, t->o.subtask);
        a->dir[0] = '\0'; /* (the window's shape does not change) */
        return;
    }
    wr__ahead_file_t *f = &a->f[a->n];
    *f = (wr__ahead_file_t){.pane = pane, .fd = -1};
    char path[sizeof f->path];
    int len = snprintf(path, sizeof path, "%s/%s-%u-v%u-s%u-p%lld.ahead", a->dir, t->o.job_id,
                       t->o.attempt, t->o.vertex, t->o.subtask, (long long)pane);
    int rc = len < 0 || (size_t)len >= sizeof path ? WR_ETOOBIG : 0;
    if (!rc) {
        memcpy(f->path, path, (size_t)len + 1);
        f->fd = open(f->path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
        rc = f->fd < 0 ? wr_fs_errno(errno) : (f->w = wr_snap_writer_new_fd(f->fd)) ? 0 : WR_ENOMEM;
    }
    if (!rc)
        rc = wr_window_ahead_begin(e, pane, t->topo->max_parallelism, wr__chain_key_group,
                                   &t->chain, f->w);
    a->n++;
    if (!rc) return;
    wr_warn_limited(&t->log,
                    "subtask %u.%u: cannot write the segment of pane %lld ahead (%s): "
                    "checkpoints write it",
                    t->o.vertex, t->o.subtask, (long long)pane, wr_strerror(rc));
    s_close(a, a->n - 1, true);
    a->off = true; /* until the next checkpoint */
}

void wr__task_ahead_tick(wr__task_t *t)
{
    wr__task_ahead_t *a = &t->ahead;
    wr_window_t *e = s_engine(t);
    if (!e || !a->dir[0] || a->off || !t->o.checkpointing || t->ended) return;
    /* None while a barrier is being aligned. Not paced otherwise: ticks queue up behind a long
     * step, so the steps of a segment run nearly back to back (about 6 of 100-250 ms in the
     * seed's job). Paced so that records had twice a step's time between steps, the job ran
     * slower with checkpoints every 10 s (2.9-3.3 M events/s against 3.3-3.7 M) and its
     * checkpoints were no shorter (docs/performance.md). */
    if (t->in && wr_gate_in_barrier(t->in) > t->last_checkpoint) return;
    int rc = 0;
    if (wr_window_ahead_busy(e)) {
        int64_t t0 = wr_now_ns();
        rc = wr_window_ahead_step(e);
        int64_t ns = wr_now_ns() - t0;
        a->steps++;
        a->step_ns += ns;
        if (ns > a->longest_ns) a->longest_ns = ns;
        if (rc == 0) return;
        if (rc < 0) {
            wr_warn_limited(&t->log,
                            "subtask %u.%u: writing a segment ahead failed (%s): the "
                            "next checkpoint writes it",
                            t->o.vertex, t->o.subtask, wr_strerror(rc));
            a->off = true; /* until the next checkpoint */
        }
    }
    for (uint32_t i = 0; i < a->n; i++) { /* done (or finished or abandoned by the engine) */
        if (!a->f[i].w) continue;
        s_close(a, i, false);
        if (rc == 1) /* (one a firing finished, or an error abandoned, is not logged) */
            wr_info("subtask %u.%u: segment of pane %lld written ahead in %u steps of at most "
                    "%lld ms (%lld ms in all)",
                    t->o.vertex, t->o.subtask, (long long)a->f[i].pane, a->steps,
                    (long long)a->longest_ns / 1000000, (long long)a->step_ns / 1000000);
        a->steps = 0;
        a->step_ns = a->longest_ns = 0;
    }
    if (!wr_window_ahead_busy(e)) s_begin(t, e);
}

void wr__task_ahead_take(wr__task_t *t, const char *shared, const wr_window_seg_t *segs, size_t n,
                         uint32_t *taken)
{
    wr__task_ahead_t *a = &t->ahead;
    wr_window_t *e = s_engine(t);
    *taken = 0;
    a->off = false;
    bool busy = e && wr_window_ahead_busy(e); /* its file goes on (the one with a writer) */
    for (uint32_t i = 0; i < a->n && !busy; i++)
        if (a->f[i].w) s_close(a, i, false); /* (finished by a firing) */
    for (uint32_t i = a->n; i-- > 0;) {
        if (a->f[i].w) continue;
        const wr_window_seg_t *s = s_listed(segs, n, a->f[i].pane);
        char name[160], path[WR_TASK_RESTORE_MAX + 176];
        if (s && !a->f[i].bad) {
            wr__task_seg_name(t, s, name);
            snprintf(path, sizeof path, "%s/%s", shared, name);
            if (!rename(a->f[i].path, path)) {
                (*taken)++;
                a->f[i] = a->f[--a->n];
                continue;
            }
        }
        s_close(a, i, true); /* not listed (expired, failed), or not renamed: written again */
    }
}

void wr__task_ahead_finish(wr__task_t *t)
{
    wr__task_ahead_t *a = &t->ahead;
    wr_window_t *e = s_engine(t);
    int rc = e && wr_window_ahead_busy(e) ? wr_window_ahead_finish(e) : 0;
    if (!rc) return;
    wr_warn("subtask %u.%u: writing a segment ahead failed (%s): the checkpoint writes it",
            t->o.vertex, t->o.subtask, wr_strerror(rc));
    a->off = true;
}

void wr__task_ahead_release(wr__task_t *t)
{
    wr__task_ahead_t *a = &t->ahead;
    wr_window_t *e = t->chain.win ? t->chain.win->engine : NULL;
    if (e) wr_window_ahead_abandon(e);
    while (a->n)
        s_close(a, a->n - 1, true);
}
