/* The JobManager actor ("<jm>/jobmanager"): registers TaskManagers and their slots, watches them
 * through peer heartbeats and marks a silent one dead within the heartbeat timeout, runs jobs
 * (plan, placement, deployment, checkpoints, failover, savepoints), and serves the CLI: ACTORS_REQ
 * gathers every node's actors (asking each live TaskManager's system actor), and MAILBOX_REQ is
 * answered locally or relayed to the node that hosts the actor.
 *
 * It leads the cluster through its leadership service (actors/jobmanager/jm_leader.h): standalone,
 * it leads from its start, with the wall clock at its start as its epoch; with etcd, every
 * JobManager of the cluster campaigns, one leads and the others stand by, answering every request
 * with NOT_LEADER and the leader's address, until they win and take the jobs over from etcd. Every
 * message it sends TaskManagers and subtasks carries that epoch, and its answer to a registration
 * names the attempts it owns on that TaskManager: a TaskManager stops every other subtask, so no
 * subtask of an earlier JobManager, of an attempt that failed over while its TaskManager was cut
 * off, or of a job canceled meanwhile, outlives it (actors/taskmanager/taskmanager.h). A standalone
 * JobManager's jobs end with its process: a restarted one starts without them. A registration of
 * a TaskManager of another cluster id is refused. */
#ifndef WR_JOBMANAGER_H
#define WR_JOBMANAGER_H

#include <stdbool.h>
#include <stdint.h>

#include "actors/cluster/cluster.h"
#include "actors/runtime/node.h"
#include "state/etcd/ha.h"

typedef enum {
    WR_RESTART_AUTO, /* fixed-delay when checkpoints are on, else none (Flink's default) */
    WR_RESTART_NONE,
    WR_RESTART_FIXED_DELAY, /* up to `attempts` restarts, `delay` apart */
    WR_RESTART_EXPONENTIAL, /* delays from initial_backoff, times multiplier, up to max_backoff;
                               back to initial after reset_threshold without a failure */
    WR_RESTART_FAILURE_RATE /* fail for good after max_failures within failure_interval */
} wr_restart_kind_t;

typedef struct {
    wr_restart_kind_t kind;
    uint32_t attempts;
    int64_t delay_ms;
    int64_t initial_backoff_ms, max_backoff_ms, reset_threshold_ms;
    uint32_t multiplier;
    uint32_t max_failures;
    int64_t failure_interval_ms;
} wr_restart_opts_t;

#define WR_JM_CKPT_TIMEOUT_MS (10 * 60 * 1000LL) /* timeout_ms 0 */

/* The JobManager's fault-tolerance settings (config keys state.*, execution.checkpointing.*,
 * restart-strategy.*; deploy/weir.yaml documents them). */
typedef struct {
    const char *checkpoints_dir; /* DIR: DIR/JOB/chk-N (a shared filesystem in a cluster) */
    const char *savepoints_dir;  /* default target of savepoints */
    int64_t interval_ms;         /* 0: no checkpoints */
    int64_t timeout_ms;          /* a checkpoint or savepoint not complete by then fails (0:
                                    WR_JM_CKPT_TIMEOUT_MS, execution.checkpointing.timeout's
                                    default: zeroed options must not fail every one at once) */
    int64_t min_pause_ms;
    uint32_t tolerable_failures; /* checkpoint failures in a row a job survives */
    uint32_t num_retained;
    wr_restart_opts_t restart;
    bool rocksdb;            /* state.backend: rocksdb (else memory) */
    const char *rocksdb_dir; /* state.backend.rocksdb.localdir */
    uint64_t rocksdb_cache;  /* state.backend.rocksdb.block-cache-size */
    const char *cluster_id;  /* high-availability.cluster-id: TaskManagers of another are refused */
    const wr_ha_opts_t *ha;  /* high-availability: etcd (NULL: standalone); read at the spawn */
    /* Confined paths (security.paths.*, comma-separated folders; actors/jobmanager/jm_paths.h):
     * a savepoint folder (trigger, stop, restore) must lie under savepoints_roots,
     * savepoints_dir or checkpoints_dir, a file source's path under sources_roots, a file sink's
     * under sinks_roots. NULL: that kind is not confined (`weir local`, in-process tests). */
    const char *savepoints_roots, *sources_roots, *sinks_roots;
    /* Caps against a peer that asks for too much (0: none): a TaskManager registering more slots
     * than max_slots_per_tm is refused (slotmanager.max-slots-per-taskmanager), a job of more
     * subtasks than max_subtasks_per_job is refused at submit, before any deploy
     * (jobmanager.max-subtasks-per-job). */
    uint32_t max_slots_per_tm;
    uint32_t max_subtasks_per_job;
    /* Batches a data-channel receiver lets its sender have in flight, sent to every subtask with
     * the deployment (bus.channel-credits; 1..65536, 0: 32). */
    uint32_t channel_credits;
} wr_jobmanager_opts_t;

/* Starts the JobManager actor on node (o is copied; its strings must outlive the actor). */
int wr_jobmanager_spawn(wr_node_t *node, const wr_jobmanager_opts_t *o);

#endif
