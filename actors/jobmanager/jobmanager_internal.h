/* Internal to the JobManager: its registration and inspection side (jobmanager.c) and its jobs
 * side (jm_jobs.c) share this state. */
#ifndef WR__JOBMANAGER_INTERNAL_H
#define WR__JOBMANAGER_INTERNAL_H

#include <msgpack.h>
#include <stdbool.h>
#include <stdint.h>

#include "actors/jobmanager/jobmanager.h"
#include "actors/dataflow/job/plan.h"
#include "actors/runtime/node.h"
#include "state/ckpt_store.h"

enum wr__tm_status { WR__TM_ALIVE, WR__TM_DEAD };

typedef struct {
    char id[WR_NODE_MAX];
    char endpoint[128];
    uint32_t slots;
    uint32_t used; /* slots held by running jobs */
    uint64_t incarnation;
    enum wr__tm_status status;
    bool reachable;   /* the bus has heard this incarnation's heartbeat: deployments get through */
    int64_t since_ns; /* when it registered, or when it was declared dead */
    char reason[64];  /* why it is dead */
} wr__tm_t;

/* One client request being answered from several TaskManagers' replies. */
typedef struct {
    uint16_t type; /* ACTORS_REQ or MAILBOX_REQ */
    char client[WR_ADDR_MAX];
    uint64_t client_corr;
    size_t expected, got;
    uint64_t *corrs;           /* our asks, one per TaskManager */
    char (*nodes)[WR_NODE_MAX];
    msgpack_sbuffer *rows;     /* a packed row per TaskManager (empty: no answer yet) */
} wr__gather_t;

enum wr__job_state {
    WR__JOB_CREATED,
    WR__JOB_RUNNING,
    WR__JOB_FINISHED,
    WR__JOB_CANCELED,
    WR__JOB_FAILED,
    WR__JOB_RESTARTING /* failed over: waiting out the restart delay, or for slots */
};

/* One checkpoint as `weir checkpoints` shows it. */
typedef struct {
    uint64_t id;
    char status[12]; /* IN_PROGRESS, COMPLETED, FAILED */
    bool savepoint;
    int64_t trigger_ms, duration_ms;
    uint64_t full_size, incremental_size;
    int64_t alignment_ms; /* the longest barrier alignment of any subtask */
    char reason[96];      /* FAILED: why */
} wr__ckpt_stat_t;

#define WR__CKPT_HISTORY 32

/* The checkpoint coordinator's state of one job (jm_ckpt.c). */
typedef struct {
    bool enabled;               /* periodic checkpoints (execution.checkpointing.interval) */
    wr_ckpt_store_t *store;     /* NULL until the first checkpoint or savepoint */
    wr_ckpt_pending_t *pending; /* the checkpoint being taken */
    uint64_t pending_id, next_id;
    bool *acked;                /* per subtask (wr_plan_index) */
    uint32_t acks;
    int64_t trigger_ms, last_end_ms; /* of the pending one; when the last one ended */
    uint32_t failures_in_row;
    /* a savepoint asked for: who to answer, where to copy the checkpoint, then maybe stop; with
     * drain, the sources end event time first (Flink's --drain), in checkpoint drain_id */
    bool savepoint, stop_after, drain;
    uint64_t drain_id;
    char sp_client[WR_ADDR_MAX];
    uint64_t sp_corr;
    char sp_dir[WR_TASK_RESTORE_MAX];
    /* the final checkpoint: the subtasks' states at their end, gathered until all are in */
    wr_ckpt_meta_t *final;
    uint32_t final_acks;
    bool final_done;
    wr__ckpt_stat_t history[WR__CKPT_HISTORY]; /* a ring: the newest WR__CKPT_HISTORY */
    uint32_t nhistory;
    char latest_path[WR_TASK_RESTORE_MAX]; /* the newest completed checkpoint ("" none yet) */
    uint64_t latest_id;
} wr__coord_t;

/* What the JobManager knows of one subtask. */
typedef struct {
    char node[WR_NODE_MAX];
    char state[16]; /* deploying, running, finished, failed, canceled */
    uint64_t records_in, records_out, backpressure, windows_fired, late_dropped;
    int64_t watermark;
    int64_t delay_p50_ms, delay_p99_ms; /* watermark -> results out (per result); -1: none yet */
    int64_t delay_last_p99_ms;          /* the same per firing, until its last result */
} wr__subtask_t;

typedef struct {
    char id[WR_JOB_ID_MAX];
    enum wr__job_state state;
    wr_topology_t *topo;
    wr_plan_t plan;
    msgpack_sbuffer packed; /* the topology as it goes to the TaskManagers */
    uint32_t nsub;
    wr__subtask_t *sub; /* wr_plan_index order */
    char (*place_endpoint)[128];
    char (*group_node)[WR_NODE_MAX]; /* slot group -> its TaskManager (plan.slots of them) */
    uint32_t finished;
    int64_t submitted_ms, ended_ms;
    char error[256];
    char *collected; /* collect sinks' JSON lines */
    size_t collected_len;
    /* fault tolerance */
    uint32_t attempt;         /* 0, then +1 per restart */
    bool rocksdb;             /* its windows' state backend */
    const char *rocksdb_dir;  /* borrowed from the JobManager's options */
    uint64_t rocksdb_cache;
    char restore[WR_TASK_RESTORE_MAX]; /* what the next deployment restores ("": fresh) */
    wr__coord_t coord;
    uint32_t restarts;
    int64_t restart_at_ms;    /* RESTARTING: redeploy from then on (once slots allow) */
    int64_t failed_at_ms;     /* the last failure (for the recovery time) */
    int64_t *failure_times;   /* failure-rate strategy: recent failures, ms */
    uint32_t nfailure_times;
    int64_t backoff_ms;       /* exponential-delay: the next delay */
    int64_t recovered_ms;     /* how long the last recovery took: failure -> running again */
} wr__job_t;

typedef struct {
    wr_jobmanager_opts_t o;
    wr__tm_t *tms;
    size_t ntms, tms_cap;
    wr__gather_t *gathers;
    size_t ngathers, gathers_cap;
    wr__job_t **jobs;
    size_t njobs, jobs_cap;
    uint64_t next_job;
    uint64_t tick; /* the timer of checkpoints and restarts, while a job needs it (0: none) */
} wr__jm_t;

/* Starts the JobManager's tick (checkpoints due, restarts due) unless it runs. */
int wr__jm_tick_start(wr_actor_t *self, wr__jm_t *jm);

wr__tm_t *wr__jm_tm_find(wr__jm_t *jm, const char *id);

/* jm_jobs.c */
int wr__jm_on_submit(wr_actor_t *self, wr__jm_t *jm, const wr_msg_t *m);
int wr__jm_on_jobs(wr_actor_t *self, wr__jm_t *jm, const wr_msg_t *m);
int wr__jm_on_job(wr_actor_t *self, wr__jm_t *jm, const wr_msg_t *m);
int wr__jm_on_cancel(wr_actor_t *self, wr__jm_t *jm, const wr_msg_t *m);
int wr__jm_on_task_state(wr_actor_t *self, wr__jm_t *jm, const wr_msg_t *m);
/* A TaskManager is gone: fail the jobs that had subtasks on it. */
void wr__jm_tm_lost(wr_actor_t *self, wr__jm_t *jm, const char *tm, const char *reason);
void wr__jm_jobs_release(wr__jm_t *jm);
wr__job_t *wr__jm_job_find(wr__jm_t *jm, const char *id);
/* The job named by a payload [job id] (JOB_REQ, JOB_CANCEL, CKPT_LIST_REQ), or NULL. */
wr__job_t *wr__jm_job_arg(wr__jm_t *jm, const wr_msg_t *m);
/* Puts every slot group of j on a live TaskManager with a free slot. false (nothing taken) when
 * the cluster has too few free slots. */
bool wr__jm_place(wr__jm_t *jm, wr__job_t *j);
/* Sends every subtask of j's current attempt to its TaskManager. */
int wr__jm_deploy(wr_actor_t *self, wr__job_t *j);
/* Stops j's subtasks on their TaskManagers and frees its slots. */
void wr__jm_release(wr_actor_t *self, wr__jm_t *jm, wr__job_t *j);
/* Ends j in state (FINISHED, CANCELED, FAILED), with a reason. */
void wr__jm_end(wr_actor_t *self, wr__jm_t *jm, wr__job_t *j, enum wr__job_state state, const char *why);
const char *wr__jm_state_name(enum wr__job_state s);

/* jm_restart.c: failover. */
/* j failed (a subtask failed, a TaskManager was lost, a checkpoint failed too often): restart it
 * from its latest checkpoint as its restart strategy allows, else end it FAILED. */
void wr__jm_job_failed(wr_actor_t *self, wr__jm_t *jm, wr__job_t *j, const char *why);
/* On the JobManager's tick: redeploys jobs whose restart delay is over. */
void wr__jm_restart_tick(wr_actor_t *self, wr__jm_t *jm);
/* Commits what the exactly-once sinks of j had pending in the checkpoint j->restore (or nothing
 * when fresh) and deletes the leftovers of earlier attempts: before j's new attempt starts. */
int wr__jm_recover_sinks(wr__job_t *j, wr_strbuf_t *err);
/* Whether j can restore j->restore: the window state's backend is j's, and rocksdb state is not
 * scaled in (one store per new subtask). WR_EINVAL with a reason in err. Its checkpoints are then
 * numbered on from the restored one's id. */
int wr__jm_check_restore(wr__job_t *j, wr_strbuf_t *err);

/* jm_ckpt.c: the checkpoint coordinator. */
/* Opens j's checkpoint storage (when checkpoints are on). */
int wr__ckpt_job_init(wr__jm_t *jm, wr__job_t *j, wr_strbuf_t *err);
void wr__ckpt_job_release(wr__job_t *j);
/* Drops the checkpoint in progress (a failover or the end of the job). */
void wr__ckpt_abort(wr__job_t *j, const char *why);
/* On the JobManager's tick: triggers due checkpoints, fails overdue ones. */
void wr__ckpt_tick(wr_actor_t *self, wr__jm_t *jm);
int wr__ckpt_on_ack(wr_actor_t *self, wr__jm_t *jm, const wr_msg_t *m);
/* `weir checkpoints JOB`, `weir savepoint JOB [DIR]`, `weir stop JOB --savepoint`. */
int wr__ckpt_on_list(wr_actor_t *self, wr__jm_t *jm, const wr_msg_t *m);
int wr__ckpt_on_savepoint(wr_actor_t *self, wr__jm_t *jm, const wr_msg_t *m);

#endif
