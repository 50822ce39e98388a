#include "actors/jobmanager/jm_paths.h"

#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "actors/dataflow/job/job_connectors.h"
#include "bus/base/error.h"
#include "bus/base/path.h"
#include "bus/base/strbuf.h"

/* The folders savepoints may lie under: security.paths.savepoints, state.savepoints.dir and
 * state.checkpoints.dir, comma-separated, into out. */
static void s_savepoint_roots(const wr_jobmanager_opts_t *o, wr_strbuf_t *out)
{
    const char *parts[] = {o->savepoints_roots, o->savepoints_dir, o->checkpoints_dir};
    for (size_t i = 0; i < sizeof parts / sizeof *parts; i++)
        if (parts[i] && parts[i][0]) wr_strbuf_addf(out, "%s%s", out->len ? "," : "", parts[i]);
}

/* The first line of paths (canonical, '\n'-terminated) not under roots: refused into text. */
static int s_check_lines(const char *paths, const char *roots, const char *what, const char *key,
                         char *text, size_t cap)
{
    for (const char *p = paths, *end; (end = strchr(p, '\n')); p = end + 1) {
        char one[WR_TASK_RESTORE_MAX];
        size_t n = (size_t)(end - p);
        snprintf(one, sizeof one, "%.*s", (int)n, p);
        if (n < sizeof one && wr_path_under(one, roots)) continue;
        if (p[0] != '/') {
            snprintf(text, cap,
                     "%s %.*s is relative: give an absolute path under %s (%s), since every "
                     "TaskManager would take it from its own working directory",
                     what, (int)n, p, key, roots[0] ? roots : "none");
            return WR_EINVAL;
        }
        snprintf(text, cap,
                 "%s %.*s is outside the folders allowed (%s: %s): use a path under one of them, "
                 "or add its folder to %s in the JobManager's configuration",
                 what, (int)n, p, key, roots[0] ? roots : "none", key);
        return WR_EINVAL;
    }
    return 0;
}

/* A savepoint folder (to write or to restore) under the savepoint roots. */
static int s_check_savepoint_path(const wr_jobmanager_opts_t *o, const char *what, const char *dir,
                                  char *text, size_t cap)
{
    if (!o->savepoints_roots || !dir[0]) return 0;
    if (dir[0] != '/') {
        snprintf(text, cap, "%s %s is not an absolute path (the CLI resolves relative ones)", what,
                 dir);
        return WR_EINVAL;
    }
    wr_strbuf_t roots, canon;
    wr_strbuf_init(&roots);
    wr_strbuf_init(&canon);
    s_savepoint_roots(o, &roots);
    int rc = wr_path_canonical(dir, &canon);
    wr_strbuf_addc(&canon, '\n');
    if (roots.failed || canon.failed) rc = WR_ENOMEM;
    if (!rc)
        rc = s_check_lines(canon.buf, roots.buf ? roots.buf : "", what, "security.paths.savepoints",
                           text, cap);
    wr_strbuf_release(&roots);
    wr_strbuf_release(&canon);
    return rc;
}

int wr__jm_paths_check_job(const wr_jobmanager_opts_t *o, const wr_topology_t *t,
                           const char *restore, char *text, size_t cap)
{
    wr_strbuf_t sources, sinks;
    wr_strbuf_init(&sources);
    wr_strbuf_init(&sinks);
    wr_job_paths(t, &sources, &sinks);
    int rc = sources.failed || sinks.failed ? WR_ENOMEM : 0;
    if (!rc && o->sources_roots && sources.len)
        rc = s_check_lines(sources.buf, o->sources_roots, "the file source path",
                           "security.paths.sources", text, cap);
    if (!rc && o->sinks_roots && sinks.len)
        rc = s_check_lines(sinks.buf, o->sinks_roots, "the file sink path", "security.paths.sinks",
                           text, cap);
    if (!rc && restore)
        rc = s_check_savepoint_path(o, "the savepoint to restore", restore, text, cap);
    wr_strbuf_release(&sources);
    wr_strbuf_release(&sinks);
    return rc;
}

int wr__jm_paths_check_savepoint(const wr_jobmanager_opts_t *o, const char *dir, char *text,
                                 size_t cap)
{
    return s_check_savepoint_path(o, "the savepoint folder", dir, text, cap);
}
