/* Admission: whether the cluster can run a job as submitted, judged at submit before anything
 * is placed or deployed, so that what cannot run is refused with its reason instead of failing
 * at every deployment. The checks are the ones the subtasks run when they build their
 * operators, called on the same specs without allocating any state: the window operator's
 * engine spec (actors/dataflow/job/job_window.h) against the window engine and the state
 * backend the JobManager deploys with (state.backend: wr_window_check). The topology's own
 * limits are checked when it is read (topology.h), its parallelism against the free slots by the
 * registry (jm_jobs.h).
 *
 * What only a TaskManager can find (its files, its memory, a state that does not fit) still
 * fails at the start of a subtask: a deterministic such failure ends the job FAILED
 * (TASK_STATE's deterministic, bus/messages.h) instead of restarting it. */
#ifndef WR__JM_ADMIT_H
#define WR__JM_ADMIT_H

#include <stddef.h>

#include "actors/dataflow/job/topology.h"
#include "actors/jobmanager/jobmanager.h"

/* Whether the JobManager with options o can run topology t. 0; or WR_EINVAL with the reason in
 * text (cap bytes): the operator, the aggregate (when one is the cause), the backend, what it
 * refuses, and what would run it. */
int wr__jm_admit(const wr_topology_t *t, const wr_jobmanager_opts_t *o, char *text, size_t cap);

#endif
