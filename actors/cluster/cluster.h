/* The names and limits the JobManager, the TaskManagers and their subtasks agree on: where each
 * of them lives on the bus and how long its identifiers may be. A header of constants, shared by
 * actors/jobmanager/ and actors/taskmanager/ (neither includes the other). */
#ifndef WR_CLUSTER_H
#define WR_CLUSTER_H

#include <stdint.h>
#include <stdio.h>

#include "bus/envelope.h"
#include "bus/messages.h"

#define WR_JOBMANAGER_PATH  "jobmanager"  /* "<jm node>/jobmanager" */
#define WR_TASKMANAGER_PATH "taskmanager" /* "<tm node>/taskmanager" */

#define WR_JOB_ID_MAX       WR_MSG_JOB_ID_MAX /* a job id, NUL included (8 hex digits today) */
#define WR_TASK_RESTORE_MAX WR_MSG_PATH_MAX   /* a checkpoint, savepoint or state folder path */
#define WR_CKPT_FINAL       UINT64_MAX /* the checkpoint id of a subtask's state at its end */

/* The actor path of a subtask of an attempt: "job-<id>-<attempt>/v<vertex>.<subtask>" (a
 * restarted job's subtasks never meet the old attempt's messages). */
static inline void wr_task_path(char out[WR_PATH_MAX], const char *job_id, uint32_t attempt,
                                uint32_t vertex, uint32_t subtask)
{
    snprintf(out, WR_PATH_MAX, "job-%s-%u/v%u.%u", job_id, attempt, vertex, subtask);
}

/* The name of a subtask's RocksDB store in its TaskManager's folder of the localdir:
 * "<job id>-<attempt>-v<vertex>-s<subtask>"; its checkpoint and restore folders are that name
 * with a "-..." suffix. */
#define WR_TASK_STORE_MAX (WR_JOB_ID_MAX + 40)
static inline void wr_task_store_name(char out[WR_TASK_STORE_MAX], const char *job_id,
                                      uint32_t attempt, uint32_t vertex, uint32_t subtask)
{
    snprintf(out, WR_TASK_STORE_MAX, "%s-%u-v%u-s%u", job_id, attempt, vertex, subtask);
}

#endif
