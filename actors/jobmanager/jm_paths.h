/* Confined paths: where the JobManager lets a job read and write and a savepoint go
 * (security.paths.*, wr_jobmanager_opts_t). A path is compared in its canonical form
 * (bus/base/path.h: "..", "." and symlinks resolved), so no spelling escapes a root. The
 * connectors say which paths they touch (connector.h's paths hooks): this file knows none of
 * their parameters. A refusal's text names the path, the folders allowed and the key to change.
 *
 * Savepoint folders may lie under security.paths.savepoints, state.savepoints.dir and
 * state.checkpoints.dir (a retained checkpoint chk-N restores like a savepoint). A savepoint
 * folder must be absolute: the CLI resolves a relative one against its own working directory
 * (never the JobManager's). */
#ifndef WR__JM_PATHS_H
#define WR__JM_PATHS_H

#include <stddef.h>

#include "actors/dataflow/job/topology.h"
#include "actors/jobmanager/jobmanager.h"

/* Whether job t (restoring from `restore`, "" when not) reads and writes only under the roots of
 * o: 0, or WR_EINVAL with the first path refused and why in text; WR_ENOMEM. */
int wr__jm_paths_check_job(const wr_jobmanager_opts_t *o, const wr_topology_t *t,
                           const char *restore, char *text, size_t cap);

/* Whether a savepoint may go into dir ("": the default, state.savepoints.dir, always may): 0, or
 * WR_EINVAL with why in text (a relative dir, one outside the roots); WR_ENOMEM. */
int wr__jm_paths_check_savepoint(const wr_jobmanager_opts_t *o, const char *dir, char *text,
                                 size_t cap);

#endif
