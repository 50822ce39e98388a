/* What `weir chaos` learns of its job while faults hit the cluster: it asks the JobManagers
 * directly through its own client node (admin key; its address is no member's, so the proxy never
 * cuts it), about every 100 ms (wr_chaos_watch_poll).
 *
 *   the job     JOB_REQ to the JobManager that answered last, then the other one (members paused
 *               or down are not asked: a stopped process would hold the ask until its timeout);
 *               a standby's NOT_LEADER is not followed. The one that answers JOB_REPLY leads.
 *   a fault     from wr_chaos_watch_fault_begin (or, when the job did not run then, from its
 *               first answer with the job running: a job down already is not this fault's doing;
 *               it stays "not disrupted" when the job never runs again meanwhile):
 *               detected at the first answer with the job not
 *               RUNNING, in a later attempt, or from the other JobManager, or, when no JobManager
 *               answered for the job, the last leader saying it does not lead it (it stepped down:
 * an etcd quorum lost), and the next answer is such a one, at the start of that silence (a silence
 * that ends in the same attempt under the same leader, a paused leader whose job ran on, is no
 * disruption); recovered at the first answer after that with the job RUNNING (or FINISHED: the
 * job's end is no disruption), every subtask running, in a later attempt or under another leader
 *               than at the fault's start.
 *   throughput  the source operator's records_out, a counter of the current attempt (it starts
 *               from 0 in a new attempt): its growth within an attempt is what the sources made,
 *               replayed records included; a sample about once a second.
 *   the end     checkpoints completed and failed (CKPT_LIST_REQ once a second, as `weir
 *               checkpoints` asks; counted by id over the whole run, so that a new leader's
 *               shorter list loses none), the job's restarts (the highest JOB_REPLY said). */
#ifndef WR_CHAOS_WATCH_H
#define WR_CHAOS_WATCH_H

#include <stdbool.h>
#include <stdint.h>

#include "cli/bench_procs.h"
#include "cli/chaos_cluster.h"
#include "cli/chaos_report.h"

typedef struct wr_chaos_watch wr_chaos_watch_t;

/* The last answer about the job. */
typedef struct {
    bool answered;  /* the last poll got an answer */
    bool refused;   /* ... or, when not, the JobManager that answered before was asked and said
                       it does not lead the job (it stepped down) */
    char state[16]; /* "?" before any answer */
    uint32_t attempt, subtasks, running;
    int leader;            /* the member index of the JobManager that answered last, -1 */
    uint64_t records;      /* what the sources made so far (all attempts, replays included) */
    double rate;           /* records/s of the last sample */
    uint64_t restarts;     /* the highest JOB_REPLY said */
    int64_t checkpoint;    /* the latest completed checkpoint the last answer named, 0 none */
    int64_t first_running; /* ms after t0 of the first RUNNING, -1 */
} wr_chaos_view_t;

/* A client node ("chaos.watch", certificate "chaos" in ps's keys) connected to every JobManager
 * of c; t0_ms: the run's start (wr_bench_ms's clock). 0 with *out, or the failure said on
 * stderr. */
int wr_chaos_watch_new(wr_bench_procs_t *ps, wr_chaos_cluster_t *c, int64_t t0_ms,
                       wr_chaos_watch_t **out);
/* Stops the client node, frees; nulls *p. NULL-safe. */
void wr_chaos_watch_destroy(wr_chaos_watch_t **p);
/* The job to watch (after it was submitted); a job watched before is forgotten (its view,
 * samples, checkpoints; a fault followed is no longer). */
void wr_chaos_watch_job(wr_chaos_watch_t *w, const char *job);
/* The client node, connected to the JobManagers (borrowed): to submit through. */
wr_node_t *wr_chaos_watch_client(wr_chaos_watch_t *w);

/* Asks once and updates the view, the samples, the fault followed and, once a second, the
 * checkpoints. Each request waits at most timeout_ms (bounded to 50 ms .. 1 s): a JobManager
 * slow to answer (one whose etcd member is stopped may be) does not hold the caller's next
 * action. Returns the view (borrowed until the next call). */
const wr_chaos_view_t *wr_chaos_watch_poll(wr_chaos_watch_t *w, int64_t timeout_ms);

/* Follows f from now (its start_ms already set; its detect_ms and recover_ms are written as they
 * are seen) until wr_chaos_watch_fault_end or the next begin. f must outlive the following. */
void wr_chaos_watch_fault_begin(wr_chaos_watch_t *w, wr_chaos_fault_t *f);
/* Whether the fault followed was detected and has not recovered yet, or no JobManager answers
 * for the job now (the caller waits before the next fault: what comes of the silence is this
 * fault's). */
bool wr_chaos_watch_fault_open(const wr_chaos_watch_t *w);
/* Stops following it. */
void wr_chaos_watch_fault_end(wr_chaos_watch_t *w);

/* ---- following a fault: the rules above as a pure function of the answers (tested alone) ---- */

typedef struct {
    wr_chaos_fault_t *f; /* NULL: none */
    uint32_t attempt;    /* at its start */
    int leader;          /* at its start */
    bool left;           /* the job was seen not RUNNING (or in a later attempt, or led anew) */
    bool ran;            /* the job ran at the start or since: a stop after that is this fault's */
    int64_t silent;      /* since when (ms after t0) no JobManager answered for the job, -1 while
                            they answer */
} wr_chaos_follow_t;

/* Starts following f (start_ms set) from the view at its start. */
void wr_chaos_follow_begin(wr_chaos_follow_t *fl, wr_chaos_fault_t *f, const wr_chaos_view_t *v);
/* One poll's view at now (ms after t0): sets f's detect_ms, recover_ms and disrupted. */
void wr_chaos_follow_see(wr_chaos_follow_t *fl, const wr_chaos_view_t *v, int64_t now);
/* Detected and not recovered yet, or no JobManager answers for the job now. */
bool wr_chaos_follow_open(const wr_chaos_follow_t *fl);

/* The samples, availability and throughput from the first RUNNING until now (the job's end),
 * checkpoints and restarts into r (r->samples points into w: valid while w lives). */
void wr_chaos_watch_result(wr_chaos_watch_t *w, wr_chaos_result_t *r);

#endif
