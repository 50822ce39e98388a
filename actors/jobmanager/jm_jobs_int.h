/* Internal to the job registry (jm_jobs.c, jm_jobs_view.c, jm_jobs_restore.c): a job and the
 * registry's struct. No other service sees these: they get a wr__job_ref_t. */
#ifndef WR__JM_JOBS_INT_H
#define WR__JM_JOBS_INT_H

#include <msgpack.h>
#include <stdbool.h>
#include <stdint.h>

#include "actors/jobmanager/jm_ckpt.h"
#include "actors/jobmanager/jm_jobs.h"
#include "actors/jobmanager/jm_restart.h"
#include "bus/base/log.h"
#include "bus/base/strbuf.h"
#include "bus/messages.h"

/* A job's error: a subtask's (WR_MSG_ERROR_MAX), the subtask's address and what the JobManager
 * says around them. */
#define WR__JOB_WHY_MAX   (WR_MSG_ERROR_MAX + 256)
#define WR__JOB_ERROR_MAX (WR__JOB_WHY_MAX + 32)

enum wr__job_state {
    WR__JOB_CREATED,
    WR__JOB_RUNNING,
    WR__JOB_FINISHED,
    WR__JOB_CANCELED,
    WR__JOB_FAILED,
    WR__JOB_RESTARTING /* failed over: waiting out the restart delay, or for slots */
};

/* What the JobManager knows of one subtask of the current attempt. */
typedef struct {
    char state[WR_MSG_STATE_MAX]; /* deploying, running, finished, failed, canceled */
    /* its counters as it last reported them (TASK_STATE, bus/messages.h; collected left out: the
     * job keeps those lines); emit delays -1 until it reports some */
    wr_msg_task_stats_t stats;
} wr__subtask_t;

typedef struct {
    char id[WR_JOB_ID_MAX];
    enum wr__job_state state;
    wr_topology_t *topo;
    wr_plan_t plan;
    msgpack_sbuffer packed; /* the topology as it goes to the TaskManagers */
    uint32_t nsub;
    wr__subtask_t *sub;              /* wr_plan_index order */
    char (*node)[WR_NODE_MAX];       /* each subtask's TaskManager */
    char (*place_endpoint)[128];     /* and its endpoint */
    char (*group_node)[WR_NODE_MAX]; /* slot group -> its TaskManager (plan.slots of them) */
    uint32_t finished;
    int64_t submitted_ms, ended_ms;
    char error[WR__JOB_ERROR_MAX];
    char *collected; /* collect sinks' JSON lines */
    size_t collected_len;
    size_t collected_from; /* where the current attempt's lines start in collected */
    /* what its sinks write that no other running job may (job_connectors.h's resources) */
    wr_strbuf_t resources;
    /* fault tolerance */
    uint32_t attempt;        /* the first (past any other job's in its sinks' folders), +1 per
                                restart */
    bool rocksdb;            /* its windows' state backend */
    const char *rocksdb_dir; /* borrowed from the JobManager's options */
    uint64_t rocksdb_cache;
    char restore[WR_TASK_RESTORE_MAX]; /* what the next deployment restores ("": fresh) */
    wr__coord_t *coord;
    wr__restart_t *restart;
} wr__job_t;

struct wr__jobs {
    const wr_jobmanager_opts_t *o;
    wr_logrl_t log; /* bad reports and acks (bus/base/log.h) */
    wr__tms_t *tms;
    wr__leader_t *leader;
    wr__job_t **v;
    size_t n, cap;
    uint64_t next_job;
};

const char *wr__job_state_name(enum wr__job_state s);
wr__job_t *wr__jobs_find(const wr__jobs_t *js, const char *id);
/* The job named by a request [job id] (JOB_REQ, JOB_CANCEL, CKPT_LIST_REQ), or NULL. */
wr__job_t *wr__jobs_arg(const wr__jobs_t *js, const wr_msg_t *m);
/* The view of j another service gets for a call (pointers into j). */
wr__job_ref_t wr__job_ref(const wr__jobs_t *js, const wr__job_t *j);

/* jm_jobs_restore.c: restoring a job from a checkpoint or savepoint, and its sinks' files. */

/* Whether j can restore j->restore: the window state's backend is j's, and rocksdb state is not
 * scaled in (one store per new subtask). WR_EINVAL with a reason in err. *restored_id: the
 * restored checkpoint's id (its checkpoints are numbered on from it); 0 when fresh. */
int wr__jm_check_restore(wr__job_t *j, uint64_t *restored_id, wr_strbuf_t *err);
/* Commits what the exactly-once sinks of j had pending in the checkpoint j->restore (or nothing
 * when fresh) and deletes the leftovers of earlier attempts: before j's new attempt starts. */
int wr__jm_recover_sinks(wr__job_t *j, wr_strbuf_t *err);
/* j ended: deletes what earlier attempts of j left uncommitted in its exactly-once sinks'
 * folders (a subtask of a lost attempt may have written after j's last restore). The current
 * attempt's pending files stay: a savepoint may list them. Errors are logged. */
void wr__jm_drop_lost_attempts(const wr__job_t *j);
/* What a successor restores for a job whose record points at checkpoint `pointer`: that one when
 * it is complete (or "" / not a store's chk-N folder: as is), else the newest completed one
 * before it in the same folder (a leader records a checkpoint before completing it, and may be
 * lost in between; retention keeps the one before until a newer one completed), else "". Into
 * out[cap]; WR_ETOOBIG when it does not fit. */
int wr__jm_pointer_checkpoint(const char *pointer, char *out, size_t cap);

#endif
