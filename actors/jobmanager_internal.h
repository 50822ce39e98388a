/* Internal to the JobManager: its registration and inspection side (jobmanager.c) and its jobs
 * side (jm_jobs.c) share this state. */
#ifndef WR__JOBMANAGER_INTERNAL_H
#define WR__JOBMANAGER_INTERNAL_H

#include <msgpack.h>
#include <stdbool.h>
#include <stdint.h>

#include "actors/dataflow/plan.h"
#include "actors/node.h"
#include "actors/task.h"

enum wr__tm_status { WR__TM_ALIVE, WR__TM_DEAD };

typedef struct {
    char id[WR_NODE_MAX];
    char endpoint[128];
    uint32_t slots;
    uint32_t used; /* slots held by running jobs */
    uint64_t incarnation;
    enum wr__tm_status status;
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

enum wr__job_state { WR__JOB_CREATED, WR__JOB_RUNNING, WR__JOB_FINISHED, WR__JOB_CANCELED, WR__JOB_FAILED };

/* What the JobManager knows of one subtask. */
typedef struct {
    char node[WR_NODE_MAX];
    char state[16]; /* deploying, running, finished, failed, canceled */
    uint64_t records_in, records_out, backpressure, windows_fired, late_dropped;
    int64_t watermark;
    int64_t delay_p50_ms, delay_p99_ms; /* watermark -> results out; -1: none yet */
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
} wr__job_t;

typedef struct {
    wr__tm_t *tms;
    size_t ntms, tms_cap;
    wr__gather_t *gathers;
    size_t ngathers, gathers_cap;
    wr__job_t **jobs;
    size_t njobs, jobs_cap;
    uint64_t next_job;
} wr__jm_t;

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

#endif
