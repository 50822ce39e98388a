/* The cluster's control actors: the JobManager and the TaskManager.
 *
 * JobManager ("<jm>/jobmanager"): registers TaskManagers and their slots, watches them through
 * peer heartbeats and marks a silent one dead within the heartbeat timeout, and serves the CLI:
 * ACTORS_REQ gathers every node's actors (asking each live TaskManager's system actor), and
 * MAILBOX_REQ is answered locally or relayed to the node that hosts the actor.
 *
 * TaskManager ("<tm>/taskmanager"): connects to the JobManager, registers its slots, retries until
 * it is registered, and registers again whenever the JobManager is lost or restarts (a new
 * incarnation). */
#ifndef WR_CLUSTER_H
#define WR_CLUSTER_H

#include <stdint.h>

#include "actors/node.h"

#define WR_JOBMANAGER_PATH "jobmanager"
#define WR_TASKMANAGER_PATH "taskmanager"

/* Starts the JobManager actor on node. */
int wr_jobmanager_spawn(wr_node_t *node);

typedef struct {
    const char *jm_node_id;  /* e.g. "jm-1" */
    const char *jm_endpoint; /* e.g. "tcp://127.0.0.1:6123" or "inproc://jm-1" */
    uint32_t slots;
    int64_t register_retry_ms; /* 0 = 500 */
} wr_taskmanager_opts_t;

/* Starts the TaskManager actor on node; it connects to the JobManager itself. */
int wr_taskmanager_spawn(wr_node_t *node, const wr_taskmanager_opts_t *opts);

#endif
