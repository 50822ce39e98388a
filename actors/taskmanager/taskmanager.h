/* The TaskManager actor ("<tm>/taskmanager"): connects to the JobManager, registers its slots,
 * retries until it is registered, and registers again whenever the JobManager is lost or restarts
 * (a new incarnation). It starts the subtasks the JobManager deploys (task.h) and stops them when
 * told. */
#ifndef WR_TASKMANAGER_H
#define WR_TASKMANAGER_H

#include <stdint.h>

#include "actors/cluster/cluster.h"
#include "actors/runtime/node.h"

typedef struct {
    const char *jm_node_id;  /* e.g. "jm-1" */
    const char *jm_endpoint; /* e.g. "tcp://127.0.0.1:6123" or "inproc://jm-1" */
    uint32_t slots;
    int64_t register_retry_ms; /* 0 = 500 */
} wr_taskmanager_opts_t;

/* Starts the TaskManager actor on node; it connects to the JobManager itself. */
int wr_taskmanager_spawn(wr_node_t *node, const wr_taskmanager_opts_t *opts);

#endif
