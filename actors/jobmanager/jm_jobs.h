/* The JobManager's job registry and scheduling: submission (topology -> plan -> slots ->
 * deployment), the state of every subtask as it reports it, cancellation, failover (with the
 * restart strategies of jm_restart.h and the checkpoint coordinator of jm_ckpt.h, one of each per
 * job), the end of a job, and the answers to `weir jobs`, `weir job`, `weir checkpoints` and
 * `weir savepoint`/`weir stop`.
 *
 * Scheduling: every operator with equal parallelism is chained into one subtask; subtask g of
 * every vertex shares slot group g (Flink's slot sharing), placed on the live TaskManager with
 * the most free slots (jm_tms.h). A deployment (TASK_DEPLOY) names the job and its attempt and
 * goes in an envelope that carries the leader's epoch (jm_leader.h); a TaskManager runs only the
 * attempts the leader owns on it (wr__jobs_owned). When a job stops (failover, cancel, end)
 * its subtasks are canceled on every live TaskManager that holds them and their slots freed;
 * those on a TaskManager that is dead then stop when it registers again.
 *
 * A job's subtasks show their true state: deploying, running, finished, failed (it failed, or
 * its TaskManager was lost) or canceled (stopped by the JobManager); a job that ends FINISHED
 * (its end, or stopped with a savepoint) shows every subtask finished. A subtask's report
 * (TASK_STATE) is read by its declaration alone (a malformed one is logged and dropped), and only
 * the current attempt's count. The lines collect sinks report with their final report (`weir
 * job`'s collected) count once: a new attempt that restores what the failed one restored (no
 * checkpoint completed in between) makes them again, so the failed attempt's lines go.
 *
 * Submission refuses what the cluster cannot run (jm_admit.h) before anything is placed. A subtask
 * that reports a deterministic failure (TASK_STATE's deterministic: its start failed with an error
 * every restart would meet) ends its job FAILED with that reason instead of failing it over; any
 * other failure fails the job over as its restart strategy allows.
 *
 * Job records for a successor (jm_leader.h): the submission is put when a job is accepted, its
 * pointer (attempt, checkpoint to restore) at every deployment and completed checkpoint, and the
 * record removed when the job ends. */
#ifndef WR__JM_JOBS_H
#define WR__JM_JOBS_H

#include <stdbool.h>

#include "actors/jobmanager/jm_leader.h"
#include "actors/jobmanager/jm_tms.h"
#include "actors/jobmanager/jobmanager.h"
#include "bus/messages.h"

typedef struct wr__jobs wr__jobs_t;

/* A registry placing on tms, recording jobs with leader (both borrowed, as o: they outlive it).
 * NULL when out of memory. */
wr__jobs_t *wr__jobs_new(const wr_jobmanager_opts_t *o, wr__tms_t *tms, wr__leader_t *leader);
/* NULL-safe; nulls *js. Forgets every job (nothing is sent). */
void wr__jobs_destroy(wr__jobs_t **js);

/* ---- leadership ---- */

/* Leadership was granted: takes over the jobs of the leader's records, each RESTARTING: the
 * tick restarts it from its checkpoint once slots allow. A record that does not build is logged
 * and skipped. 0 or WR_ENOMEM. */
int wr__jobs_take_over(wr__jobs_t *js);
/* Leadership was revoked: forgets every job without a word to the TaskManagers (the slots they
 * held are not given back: the JobManager forgets its TaskManagers too, jm_tms.h). */
void wr__jobs_forget(wr__jobs_t *js);

/* ---- requests (each answers its client; 0, or WR_ENOMEM to fail the actor) ---- */

int wr__jobs_on_submit(wr__jobs_t *js, wr_actor_t *self, const wr_msg_t *m);   /* JOB_SUBMIT */
int wr__jobs_on_list(wr__jobs_t *js, wr_actor_t *self, const wr_msg_t *m);     /* JOBS_REQ */
int wr__jobs_on_describe(wr__jobs_t *js, wr_actor_t *self, const wr_msg_t *m); /* JOB_REQ */
int wr__jobs_on_cancel(wr__jobs_t *js, wr_actor_t *self, const wr_msg_t *m);   /* JOB_CANCEL */
/* CKPT_LIST_REQ, SAVEPOINT_REQ: to the job's coordinator. */
int wr__jobs_on_checkpoints(wr__jobs_t *js, wr_actor_t *self, const wr_msg_t *m);
int wr__jobs_on_savepoint(wr__jobs_t *js, wr_actor_t *self, const wr_msg_t *m);

/* ---- from the subtasks (a report of an old attempt or an unknown job is ignored) ---- */

int wr__jobs_on_task_state(wr__jobs_t *js, wr_actor_t *self, const wr_msg_t *m); /* TASK_STATE */
int wr__jobs_on_ckpt_ack(wr__jobs_t *js, wr_actor_t *self, const wr_msg_t *m);   /* CKPT_ACK */

/* ---- time and TaskManagers ---- */

/* Whether a job needs the JobManager's tick: one restarting, or running with checkpoints or a
 * savepoint asked for. */
bool wr__jobs_want_tick(const wr__jobs_t *js);
/* The tick: redeploys jobs whose restart is due, triggers due checkpoints, fails overdue ones. */
void wr__jobs_tick(wr__jobs_t *js, wr_actor_t *self);
/* TaskManager tm is gone (dead, or restarted): every job with a subtask on it fails over, those
 * subtasks failed. */
void wr__jobs_tm_lost(wr__jobs_t *js, wr_actor_t *self, const char *tm, const char *reason);
/* The attempts the JobManager owns on TaskManager tm (TM_REGISTERED's owned): one per running
 * job with a subtask placed there, into *out, whose array (NULL for none) the caller frees.
 * 0 or WR_ENOMEM (*out empty then). */
int wr__jobs_owned(const wr__jobs_t *js, const char *tm, wr_msg_job_attempt_list_t *out);

#endif
