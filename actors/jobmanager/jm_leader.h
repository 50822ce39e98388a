/* The JobManager's leadership service: whether this JobManager leads the cluster, under which
 * epoch, where TaskManagers and clients find the leader, and what a successor needs to take the
 * jobs over (Flink's LeaderElectionService, JobGraphStore and completed-checkpoint pointers, as
 * one interface with two implementations):
 *
 *   standalone  (jm_leader_standalone.c) leadership is granted at once when the JobManager
 *               starts and never revoked; the epoch is the wall clock in milliseconds at the
 *               grant, so a restarted JobManager has a higher one; the address and the job
 *               records live in memory (and die with the process: its jobs are lost with it).
 *   etcd        (jm_leader_etcd.c) campaigns through etcd: the epoch is the create revision of
 *               its candidacy key, the address and the records live under the cluster's prefix
 *               (state/etcd/ha.h), and a standby that wins reads them back.
 *
 * Events. Leadership is granted (with its epoch) and revoked (with a reason) by calling the
 * events' callbacks on the JobManager actor's thread: standalone calls granted from
 * wr__leader_start; an implementation that waits on something outside the actor (an etcd watch)
 * has its machinery send the actor local messages of a type in [WR__LEADER_MSG_FIRST,
 * WR__LEADER_MSG_LAST], which the actor hands to wr__leader_on_message, which calls the events.
 * After revoked, the JobManager forgets its jobs and its TaskManagers without touching the
 * TaskManagers (the next leader's reconciliation stops their subtasks; if this JobManager leads
 * again, they register with it again under its new epoch) and answers requests with "not the
 * leader". A take-over whose read of the records fails is tried again while the leadership holds.
 *
 * Stepping down. A leadership can lapse before the implementation says so: holds() (etcd: the
 * lease was renewed recently enough) is asked by wr__leader_is_leader, which the JobManager asks
 * before every act of a leader. A fenced write that finds a newer leader (WR_ESTALE) deposes this
 * one at once: is_leader is false from then on, and revoked is called from the actor's next
 * message (never inside the caller's call, which may hold a job).
 *
 * Fencing. The epoch grows with every new leader. The JobManager puts it into the envelope of
 * every message it sends TaskManagers and subtasks, and into TM_REGISTERED; a TaskManager obeys
 * deployments and cancels only of the epoch it registered under, and stops every subtask of any
 * other epoch when it registers (actors/taskmanager/taskmanager.h).
 *
 * Job records. What a new leader needs to take a job over: its graph (the JOB_SUBMIT payload as
 * submitted: topology, restore path, parallelism), put once when it is accepted; its pointer (the
 * attempt last deployed and the checkpoint it restores from, then each completed checkpoint),
 * put whenever either changes; removed when the job ends. A new leader reads them back when
 * granted (wr__leader_jobs) and restarts each job from its pointer's checkpoint, with attempts
 * past the recorded one: the old leader's subtasks may still run under the recorded attempt's
 * actor paths until their TaskManagers register with the new leader. */
#ifndef WR__JM_LEADER_H
#define WR__JM_LEADER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "actors/runtime/actor.h"
#include "bus/base/strbuf.h"
#include "bus/msgtypes.h"
#include "state/etcd/ha.h"

/* Local message types an implementation may use to reach its JobManager actor (never on the
 * bus; the JobManager's own local types start at WR_MSG_LOCAL_FIRST + 20). */
#define WR__LEADER_MSG_FIRST (WR_MSG_LOCAL_FIRST + 40)
#define WR__LEADER_MSG_LAST  (WR_MSG_LOCAL_FIRST + 59)

typedef struct wr__leader wr__leader_t;

/* What the JobManager is told; called on its actor's thread. */
typedef struct {
    void (*granted)(void *ctx, wr_actor_t *self, uint64_t epoch);
    void (*revoked)(void *ctx, wr_actor_t *self, const char *why);
    void *ctx;
} wr__leader_events_t;

/* One job record as read back (every pointer borrowed for the callback). */
typedef struct {
    const char *job_id;
    const uint8_t *graph; /* the JOB_SUBMIT payload it was accepted with */
    size_t graph_len;
    uint32_t attempt;       /* the attempt last deployed */
    const char *checkpoint; /* what a restart restores: its latest checkpoint ("" none) */
} wr__leader_job_t;

/* An implementation. Each function returns 0 or a negative WR_E* code. */
typedef struct {
    const char *name; /* "standalone", "etcd" */
    /* Starts campaigning for the leadership; once granted, publishes node_id and endpoint as the
     * leader's address, then calls ev->granted (possibly before returning). ev is the service's
     * own (it outlives the implementation). */
    int (*start)(void *impl, wr_actor_t *self, const char *node_id, const char *endpoint,
                 const wr__leader_events_t *ev);
    /* A local message of the implementation's (see above); may call ev's callbacks. */
    int (*on_message)(void *impl, wr_actor_t *self, const wr_msg_t *m,
                      const wr__leader_events_t *ev);
    /* Optional (NULL: always): whether a granted leadership still holds right now. */
    bool (*holds)(void *impl);
    /* Optional (NULL: 0): 0 when the leadership is still this one's in the records' store,
     * WR_ESTALE when a newer leader's, or the store's error. */
    int (*fence)(void *impl);
    int (*put_job)(void *impl, const char *job_id, const void *graph, size_t len);
    int (*put_pointer)(void *impl, const char *job_id, uint32_t attempt, const char *checkpoint);
    int (*remove_job)(void *impl, const char *job_id);
    /* Calls each(ctx, record) for every job record; stops at the first nonzero return and
     * returns it. */
    int (*jobs)(void *impl, int (*each)(void *ctx, const wr__leader_job_t *job), void *ctx);
    /* The published leader's address, "" when unknown. Borrowed until the next call. */
    void (*address)(void *impl, const char **node_id, const char **endpoint);
    /* Optional (NULL: none): the candidates as last read, the leader first; up to cap. */
    size_t (*candidates)(void *impl, wr_ha_candidate_t *out, size_t cap);
    void (*destroy)(void *impl);
} wr__leader_ops_t;

/* ---- lifecycle ---- */

/* A service over an implementation: takes impl (destroyed with the service through ops->destroy,
 * also when this fails). NULL when out of memory. */
wr__leader_t *wr__leader_new(const wr__leader_ops_t *ops, void *impl);
/* The standalone implementation. NULL when out of memory. */
wr__leader_t *wr__leader_standalone_new(void);
/* The etcd implementation (jm_leader_etcd.c) after o (copied). NULL when o does not check
 * (wr_ha_opts_check: the reason in err) or out of memory. Nothing is contacted before start. */
wr__leader_t *wr__leader_etcd_new(const wr_ha_opts_t *o, wr_strbuf_t *err);
/* NULL-safe; nulls *l. */
void wr__leader_destroy(wr__leader_t **l);

/* ---- leadership ---- */

/* Starts campaigning (see ops->start); ev is copied. The events arrive as described above. */
int wr__leader_start(wr__leader_t *l, wr_actor_t *self, const char *node_id, const char *endpoint,
                     const wr__leader_events_t *ev);
/* Hands the implementation one of its local messages. */
int wr__leader_on_message(wr__leader_t *l, wr_actor_t *self, const wr_msg_t *m);
/* Granted, not revoked, not deposed, and holding (ops->holds) right now. */
bool wr__leader_is_leader(const wr__leader_t *l);
/* Before an act whose effect outlives this leader's leadership (committing or deleting sink
 * files): 0 when it still leads in the store, else an error (WR_ESTALE: deposed, see above). */
int wr__leader_fence(wr__leader_t *l, wr_actor_t *self);
/* The candidates for the leadership (the leader first), up to cap; 0 when standalone. */
size_t wr__leader_candidates(const wr__leader_t *l, wr_ha_candidate_t *out, size_t cap);
/* The candidates other than node_id (this JobManager): its standbys when it leads, in the
 * leadership's order; up to cap; 0 when standalone. */
size_t wr__leader_standbys(const wr__leader_t *l, const char *node_id, wr_ha_candidate_t *out,
                           size_t cap);
/* The epoch of the current leadership; 0 while this JobManager does not lead. */
uint64_t wr__leader_epoch(const wr__leader_t *l);
/* The published leader's node id and endpoint ("" when unknown); borrowed until the next call. */
void wr__leader_address(const wr__leader_t *l, const char **node_id, const char **endpoint);
const char *wr__leader_kind(const wr__leader_t *l);

/* ---- job records (only while leading: WR_ESTALE otherwise, and see Stepping down) ---- */

/* The job's graph as accepted (copied). */
int wr__leader_put_job(wr__leader_t *l, wr_actor_t *self, const char *job_id, const void *graph,
                       size_t len);
/* The job's attempt and the checkpoint a restart restores ("": from its start). WR_ENOTFOUND for
 * a job without a graph. */
int wr__leader_put_pointer(wr__leader_t *l, wr_actor_t *self, const char *job_id, uint32_t attempt,
                           const char *checkpoint);
/* Removes the job's record (none: success). */
int wr__leader_remove_job(wr__leader_t *l, wr_actor_t *self, const char *job_id);
/* Reads every job record back (see ops->jobs). */
int wr__leader_jobs(wr__leader_t *l, int (*each)(void *ctx, const wr__leader_job_t *job),
                    void *ctx);
/* The writes above take self too: a WR_ESTALE from the store deposes this leader (see Stepping
 * down). */

#endif
