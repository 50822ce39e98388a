/* The JobManager's restart strategies (Flink's RestartBackoffTimeStrategy) and each job's
 * failover record: how often it failed and restarted, when its next attempt is due, and how long
 * its last recovery took (failure -> every subtask of the new attempt running).
 *
 * The job registry (jm_jobs.h) does the failover itself: at a failure it asks
 * wr__restart_on_failure whether and when the job may restart, stops the failed attempt, and
 * once wr__restart_due places and deploys the next attempt from the latest checkpoint. */
#ifndef WR__JM_RESTART_H
#define WR__JM_RESTART_H

#include <stdbool.h>
#include <stdint.h>

#include "actors/jobmanager/jobmanager.h"

typedef struct wr__restart wr__restart_t;

/* A job's record, empty. NULL when out of memory. */
wr__restart_t *wr__restart_new(void);
void wr__restart_destroy(wr__restart_t **r);

/* The job failed at now (wall ms). With strategy o (WR_RESTART_AUTO: fixed-delay when
 * checkpointing, else none), true when it may restart: the restart is counted and due after
 * *delay ms. False when the strategy says no more (nothing is recorded then). */
bool wr__restart_on_failure(wr__restart_t *r, const wr_restart_opts_t *o, bool checkpointing,
                            int64_t now, int64_t *delay);
/* Makes the next attempt due at `at` without counting a failure (a job a new leader took over). */
void wr__restart_schedule(wr__restart_t *r, int64_t at);
/* Whether the next attempt is due at now. */
bool wr__restart_due(const wr__restart_t *r, int64_t now);
/* Whether a failure's recovery is under way: failed, and the new attempt not yet all running. */
bool wr__restart_recovering(const wr__restart_t *r);
/* Every subtask of the new attempt runs at now: the recovery took now - the failure. */
void wr__restart_recovered(wr__restart_t *r, int64_t now);
uint32_t wr__restart_count(const wr__restart_t *r);
/* How long the last recovery took, ms (0: none yet, or under way). */
int64_t wr__restart_recovery_ms(const wr__restart_t *r);

#endif
