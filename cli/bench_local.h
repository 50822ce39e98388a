/* The local cluster of the benchmarks that run a job end to end inside their own process (weir
 * bench pipeline, weir bench kafka): a JobManager (jm-1) and TaskManagers (tm-1, ...) on inproc
 * endpoints with one worker thread per node, as `weir local` runs them; a submission that waits
 * for the TaskManagers to register; and what the JobManager says of the job (JOB_REQ, as `weir
 * job` asks). Subtasks report every second: counters read while a job runs are up to a second
 * old; a finished job's are exact.
 *
 *     wr_bench_local_t *l = wr_bench_local_start("bench kafka", &(wr_bench_local_opts_t){
 *         .tms = 2, .slots = 2});
 *     wr_bench_local_submit(l, t, id, &t0);
 *     wr_bench_local_job(l, id, &j);      // j.state "RUNNING", j.v[0].records_in ...
 *     wr_bench_local_cancel(l, id);
 *     wr_bench_local_stop(&l);
 *
 * Errors are printed ("weir CMD: ..."). Not thread-safe: one benchmark thread drives it. */
#ifndef WR_BENCH_LOCAL_H
#define WR_BENCH_LOCAL_H

#include <stdint.h>

#include "actors/cluster/cluster.h"
#include "actors/dataflow/job/plan.h"
#include "actors/dataflow/job/topology.h"
#include "actors/runtime/node.h"
#include "bus/messages.h"

#define WR_BENCH_LOCAL_MAX_TMS 8

typedef struct wr_bench_local wr_bench_local_t;

typedef struct {
    uint32_t tms;         /* TaskManagers (1 to WR_BENCH_LOCAL_MAX_TMS) */
    uint32_t slots;       /* each TaskManager's slots */
    int64_t ckpt_ms;      /* the JobManager checkpoints this often (0: never) ... */
    const char *ckpt_dir; /* ... into this folder; its other settings are configuration's */
} wr_bench_local_opts_t;

/* One operator (plan vertex) of a job, as the JobManager reports it. */
typedef struct {
    int64_t records_in, records_out, windows_fired, late_dropped;
    int64_t p50, p99, last_p99; /* the emission delay, ms (-1: none measured) */
} wr_bench_vertex_t;

typedef struct {
    char state[16]; /* CREATED, RUNNING, FINISHED, FAILED, CANCELED */
    char error[256];
    uint32_t n;
    wr_bench_vertex_t v[WR_PLAN_MAX_VERTICES]; /* plan order: the sources first */
} wr_bench_job_t;

/* Starts the cluster with the defaults of configuration. NULL after printing why (cmd names the
 * command: "bench kafka"). */
wr_bench_local_t *wr_bench_local_start(const char *cmd, const wr_bench_local_opts_t *o);
/* Stops every node (jobs and all). NULL-safe, nulls *l. */
void wr_bench_local_stop(wr_bench_local_t **l);
/* The nodes: 1 + the TaskManagers; node 0 is the JobManager's, 1.. the TaskManagers'. */
uint32_t wr_bench_local_nodes(const wr_bench_local_t *l);
wr_node_t *wr_bench_local_node(wr_bench_local_t *l, uint32_t i);
/* The JobManager's node, for requests of the caller's own (wr_cli_request). */
wr_node_t *wr_bench_local_jm(wr_bench_local_t *l);
/* The JobManager's actor address into to. */
void wr_bench_local_jm_addr(wr_bench_local_t *l, char to[WR_ADDR_MAX]);

/* Submits t, retrying "not enough slots" while the TaskManagers register (for up to 10 s). 0 with
 * id the job's and *t0 the (last) submission's time (wr_now_ns); else the refusal's code, after
 * printing why. */
int wr_bench_local_submit(wr_bench_local_t *l, const wr_topology_t *t, char id[WR_JOB_ID_MAX],
                          int64_t *t0);
/* The job's state and per-operator figures into *j. 0; WR_ETIMEDOUT (no answer within 10 s),
 * another code for an ERROR answer. Prints nothing. */
int wr_bench_local_job(wr_bench_local_t *l, const char *id, wr_bench_job_t *j);
/* Cancels the job (waiting for the JobManager's answer, up to 10 s). */
void wr_bench_local_cancel(wr_bench_local_t *l, const char *id);

#endif
