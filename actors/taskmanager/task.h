/* Subtask actors: one per operator-chain instance of a running job (Flink's task, here literally
 * an actor). A subtask runs its vertex of the execution plan (actors/dataflow/job/plan.h): a source
 * or an input gate, a chain of filters and maps, a keyed window, and either an output gate to the
 * next vertex or the job's sinks. Its mailbox carries its data batches, watermarks, the ends of
 * its inputs and its control messages, in order.
 *
 * It reports to the JobManager with WR_MSG_TASK_STATE: "running" with its counters every second,
 * then "finished", or "failed" with the reason (and then fails, so its TaskManager hears it).
 *
 * Checkpoints (Flink's aligned checkpoints): CKPT_TRIGGER makes a source snapshot its position
 * and send a barrier downstream; a subtask with inputs snapshots once every input delivered the
 * barrier, passes it on, and acks with CKPT_ACK; CKPT_COMPLETE lets its sinks commit. */
#ifndef WR_TASK_H
#define WR_TASK_H

#include <stdint.h>

#include "actors/cluster/cluster.h"
#include "actors/dataflow/job/plan.h"
#include "actors/runtime/node.h"

typedef struct {
    char job_id[WR_JOB_ID_MAX];
    uint32_t attempt;
    uint32_t vertex, subtask;
    char jm_addr[WR_ADDR_MAX]; /* where to report: "<jm>/jobmanager" */
    uint64_t epoch;            /* of the leader that deployed it: checkpoint messages of another
                                  epoch (a deposed leader's) are dropped, counted and logged */
    uint32_t credits;          /* per input channel */
    uint32_t batch_records;    /* records per outgoing batch */
    /* where every subtask runs: node id and endpoint per wr_plan_index (vertex, subtask) */
    uint32_t nplaces;
    char (*place_node)[WR_NODE_MAX];
    char (*place_endpoint)[128];
    /* fault tolerance: checkpoints are on (the end of input is then a final checkpoint the
     * JobManager completes before the subtask finishes), and where to restore from ("": fresh) */
    bool checkpointing;
    char restore[WR_TASK_RESTORE_MAX];
    /* the window's state backend: memory, or rocksdb with its stores under rocksdb_dir */
    bool rocksdb;
    char rocksdb_dir[WR_TASK_RESTORE_MAX];
    uint64_t rocksdb_cache; /* block cache per store, bytes (0: the default) */
    /* where the memory backend's window writes segments ahead of checkpoints ("": it does not;
     * actors/taskmanager/task_ahead.c) */
    char ahead_dir[WR_TASK_RESTORE_MAX];
} wr_task_opts_t;

/* Starts the subtask actor for opts on node, supervised by supervisor. Takes *topology (and the
 * place arrays in opts: freed with the actor) in every case. 0 with a counted reference to the
 * actor in *ref (the caller unrefs it; it holds even when the actor's start fails at once and it
 * stops: the subtask reports that itself); else WR_ENOMEM, WR_EINVAL when opts does not name a
 * subtask of the topology's plan, WR_EEXIST when that subtask's actor exists already, WR_ECLOSED
 * when the node is stopping (*ref NULL; nothing was reported). */
int wr_task_spawn(wr_node_t *node, wr_actor_t *supervisor, wr_topology_t **topology,
                  wr_task_opts_t *opts, wr_actor_t **ref);

#endif
