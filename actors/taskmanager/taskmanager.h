/* The TaskManager actor ("<tm>/taskmanager"): connects to the JobManager (the configured one, or
 * in an HA cluster the leader etcd names, followed as it changes), registers its slots,
 * retries until it is registered, and registers again whenever the JobManager is lost or restarts
 * (a new incarnation), and in an HA cluster whenever etcd names a new candidacy as the leader's,
 * the same JobManager's included (it lost the leadership and won it again, forgetting its
 * TaskManagers: jm_leader.h). It starts the subtasks the JobManager deploys (task.h) and stops them
 * when told. Registered, it sends its registration again every few seconds, and at its next tick
 * once the slots its subtasks hold changed: its slot report.
 *
 * No zombie subtasks. The leader's answer to every registration or slot report (TM_REGISTERED)
 * carries its epoch and the attempts [job, attempt] it owns on this TaskManager; the leader also
 * sends it unasked when this TaskManager comes back after it was declared dead. Every subtask that
 * was not deployed under that epoch or whose attempt is not owned is stopped then: after a
 * JobManager restart (a new epoch), after this TaskManager was cut off while its job failed over
 * elsewhere, after a cancel that did not arrive. Deployments, cancels and registration answers of
 * an older epoch than the leader's are refused and counted (a deposed leader's); one of a newer
 * epoch is obeyed and stops the subtasks of older ones.
 *
 * RocksDB stores go into this TaskManager's own folder of the localdir the leader names
 * (<localdir>/<node id>/<store>, cluster.h); a subtask removes its store when it stops, and what an
 * earlier process under this node id left there (its subtasks killed with it) is removed at the
 * first registration, unless another live process holds that folder's lock. */
#ifndef WR_TASKMANAGER_H
#define WR_TASKMANAGER_H

#include <stdint.h>

#include "actors/cluster/cluster.h"
#include "actors/runtime/node.h"
#include "state/etcd/ha.h"

typedef struct {
    const char *cluster_id;  /* its cluster (high-availability.cluster-id): a JobManager of
                                another cluster refuses it; NULL: "" */
    const wr_ha_opts_t *ha;  /* not NULL: the leader is found through etcd (tm_discovery.h) and
                                jm_node_id/jm_endpoint are not used; copied, its strings borrowed */
    const char *jm_node_id;  /* e.g. "jm-1" */
    const char *jm_endpoint; /* e.g. "tcp://127.0.0.1:6123" or "inproc://jm-1" */
    uint32_t slots;
    int64_t register_retry_ms; /* 0 = 500 */
} wr_taskmanager_opts_t;

/* Starts the TaskManager actor on node; it connects to the JobManager itself. */
int wr_taskmanager_spawn(wr_node_t *node, const wr_taskmanager_opts_t *opts);

#endif
