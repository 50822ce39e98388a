/* What the JobManager's services share about a job without reaching into the job registry's
 * struct (jm_jobs.h): a plain view of the job's current attempt that the registry fills for a
 * call (wr__job_ref_t), what a service asks of the registry in return (wr__verdict_t), and the
 * two bus helpers every service uses: sending a payload through its declaration's codec with the
 * leader's epoch in the envelope, and answering a request so. */
#ifndef WR__JM_JOB_REF_H
#define WR__JM_JOB_REF_H

#include <stdbool.h>
#include <stdint.h>

#include "actors/cluster/cluster.h"
#include "actors/dataflow/job/plan.h"
#include "actors/runtime/actor.h"
#include "bus/messages.h"

/* A job as another service sees it during one call: every pointer is borrowed for that call. */
typedef struct {
    const char *id;
    const char *state; /* its state's name: RUNNING, RESTARTING, FINISHED, ... */
    uint32_t attempt;  /* the attempt deployed (or last deployed) */
    uint64_t epoch;    /* the leader's: it goes into every envelope sent for the job */
    const wr_plan_t *plan;
    uint32_t max_parallelism;         /* of its key groups */
    uint32_t nsub;                    /* subtasks, in wr_plan_index order */
    const char (*nodes)[WR_NODE_MAX]; /* each subtask's TaskManager */
    bool running;                     /* RUNNING: its attempt is deployed */
    bool all_running;                 /* and every subtask reported "running" */
    /* the leadership service (jm_leader.h): a checkpoint is recorded there for a successor
     * before any subtask hears that it completed */
    struct wr__leader *leader;
} wr__job_ref_t;

/* What a service asks the job registry to do with a job after an event. */
enum wr__verdict_kind {
    WR__VERDICT_NONE,      /* nothing */
    WR__VERDICT_FAIL_OVER, /* the job failed: restart it as its strategy allows, or fail it */
    WR__VERDICT_FINISH,    /* end it FINISHED (stopped with a savepoint) */
    WR__VERDICT_FAIL       /* end it FAILED, no restart */
};

typedef struct {
    enum wr__verdict_kind kind;
    char why[400];
} wr__verdict_t;

/* Sets *v to kind with the reason why (NULL: none). */
void wr__verdict_set(wr__verdict_t *v, enum wr__verdict_kind kind, const char *why);

/* Sends type from self to `to`, its payload *p encoded with d (the type's declaration,
 * bus/messages.h), with correlation id corr and the leader's epoch in the envelope (0: none).
 * Errors as wr_send_msg; WR_ENOMEM also when *p breaks d or d is not the type's (our bug). */
int wr__jm_send(wr_actor_t *self, const char *to, uint16_t type, uint64_t corr, uint64_t epoch,
                const wr_proto_struct_t *d, const void *p);
/* Answers request m with type, its payload *p encoded with d (errors as wr__jm_send); a failure
 * is logged (the asker's problem, not the JobManager's). */
void wr__jm_reply(wr_actor_t *self, const wr_msg_t *m, uint16_t type, const wr_proto_struct_t *d,
                  const void *p);

#endif
