/* Internal to the subtask actor (task.c) and its operator chain (task_chain.c). */
#ifndef WR__TASK_INTERNAL_H
#define WR__TASK_INTERNAL_H

#include <stdbool.h>
#include <stdint.h>

#include "actors/dataflow/record/batch.h"
#include "actors/dataflow/expr/expr.h"
#include "actors/connectors/sink.h"
#include "actors/dataflow/window/window.h"
#include "actors/dataflow/window/window_snap.h"
#include "actors/taskmanager/gate.h"
#include "actors/taskmanager/task.h"
#include "actors/taskmanager/task_source.h"
#include "bus/msg.h"
#include "bus/base/log.h"
#include "bus/base/strbuf.h"

/* One filter or map of the chain. */
typedef struct {
    bool map;
    wr_expr_t *filter;
    uint32_t n;        /* map outputs */
    wr_expr_t **exprs; /* one per output */
    wr_batch_t *out;   /* this operator's output batch (reused) */
    uint32_t *sel;     /* filter: selected rows */
    uint32_t sel_cap;
} wr__op_t;

/* Key values <-> the window engine's u64 key ids: an int key is its own id; a string key is
 * interned (id = its index in the table). */
typedef struct {
    bool strings;
    char **str;
    uint32_t *len;
    uint64_t n, cap;
    uint64_t *slots; /* open addressing: id + 1, 0 = empty */
    uint64_t nslots;
} wr__keys_t;

/* The id of key s[0..len), interned if new. 0 or WR_ENOMEM. */
int wr__keys_id(wr__keys_t *k, const char *s, uint32_t len, uint64_t *id);

typedef struct {
    wr_window_t *engine;
    int key_field, ts_field;
    uint32_t ncols;
    int col_field[WR_AGG_MAX_AGGS]; /* input field of each double column */
    uint64_t *keys;
    int64_t *ts;
    double *cols[WR_AGG_MAX_AGGS];
    uint32_t cap;
    wr__keys_t ids;
    wr_window_spec_t spec; /* as the engine was made (a rocksdb restore makes it again) */
    char state_dir[WR_TASK_RESTORE_MAX + 64]; /* rocksdb: the engine's store ("" memory) */
    wr_batch_t *result;                       /* results being gathered */
    const wr_batch_t *input;                  /* the batch being added (for late rows) */
    int err;                                  /* first error inside a callback */
} wr__window_t;

#define WR__DELAY_BUCKETS 64

typedef struct wr__chain {
    const wr_topology_t *topo;
    const wr_plan_vertex_t *v;
    wr__op_t ops[WR_TOPO_MAX_OPS];
    uint32_t nops;
    wr__window_t *win; /* NULL unless the vertex holds the window */
    wr_sink_t *sinks[WR_TOPO_MAX_SINKS];
    uint32_t nsinks;         /* 0 unless the vertex holds the sinks */
    const wr_task_opts_t *o; /* the subtask's (attempt, subtask, state backend) */
    wr_sink_t *late_sink;
    wr_gate_out_t *out; /* NULL when the vertex holds the sinks */
    /* Into the window, only the fields it reads leave (plan.h: out_schema): field f of the
     * records sent is field proj[f] of the operators' output. proj_view shows a batch that way,
     * its columns borrowed (never cleared or freed). nproj 0: every field leaves as it is. */
    uint32_t nproj;
    int proj[WR_SCHEMA_MAX_FIELDS];
    wr_batch_t proj_view;
    wr_actor_t *self; /* during a call: for the output gate */
    uint64_t records_out, late_dropped, windows_fired;
    /* A window firing paused because the output gate is full (see wr__chain_resume): the
     * watermark it goes to, when the source made it, results before it, and whether it is the
     * end of input's firing (the chain ends when it completes). */
    bool firing, fire_end, in_fire; /* in_fire: inside wr_window_advance/resume */
    int64_t fire_wm, fire_origin;
    uint64_t fire_base;
    int64_t fire_ns; /* when the firing began (a long one is logged: S_FIRE_LOG_MS) */
    /* emission delay: from the source making a watermark to the results it fired being out, per
     * result (delay_hist) and per firing until its last result (last_hist): 50 ms buckets up to
     * 2 s, then doubling (wr__delay_quantile) */
    uint64_t delay_hist[WR__DELAY_BUCKETS], last_hist[WR__DELAY_BUCKETS];
    wr_strbuf_t collected; /* collect sinks' JSON lines, reported at the end */
} wr__chain_t;

/* A FIFO of messages kept for later (ownership moves in and out). */
typedef struct {
    wr_msg_t **m;
    size_t head, n, cap;
} wr__msgq_t;

/* Takes *msgp (nulls it). 0 or WR_ENOMEM (*msgp untouched). */
int wr__msgq_push(wr__msgq_t *q, wr_msg_t **msgp);
/* The oldest message (the caller owns it), or NULL. */
wr_msg_t *wr__msgq_pop(wr__msgq_t *q);
bool wr__msgq_empty(const wr__msgq_t *q);
/* Moves every message of front before q's, in order. 0 or WR_ENOMEM (nothing moved). */
int wr__msgq_prepend(wr__msgq_t *q, wr__msgq_t *front);
void wr__msgq_release(wr__msgq_t *q);

/* Builds the chain of vertex v of topo. err gets a reason on failure. */
int wr__chain_init(wr__chain_t *c, const wr_topology_t *topo, const wr_plan_vertex_t *v,
                   wr_gate_out_t *out, const wr_task_opts_t *o, wr_strbuf_t *err);
/* The key group of a window key id (its int value, or its interned string). */
uint32_t wr__chain_key_group(void *chain, uint64_t key);
void wr__chain_release(wr__chain_t *c);
/* Runs a batch through the chain: operators, then the window, the output gate or the sinks. */
int wr__chain_batch(wr__chain_t *c, wr_actor_t *self, const wr_batch_t *b);
/* The vertex's watermark advanced: fire windows, pass it on. A firing that fills the output gate
 * pauses (wr__chain_busy) and the watermark goes on once wr__chain_resume completes it. */
int wr__chain_watermark(wr__chain_t *c, wr_actor_t *self, int64_t wm, int64_t origin_ms);
/* True while a window firing is paused: feed the chain nothing until wr__chain_resume ends it. */
bool wr__chain_busy(const wr__chain_t *c);
/* Goes on with a paused firing (call when the output gate has room again); 0 when it completed or
 * paused again (see wr__chain_busy). */
int wr__chain_resume(wr__chain_t *c, wr_actor_t *self);
/* The q-quantile (0..1, nearest rank) of a delay histogram, in ms (the upper bound of its
 * bucket); -1 if it is empty. */
int64_t wr__delay_quantile(const uint64_t hist[WR__DELAY_BUCKETS], double q);
/* What the chain's sink that failed last failed on (wr_sink_failed_on), or NULL. Borrowed. */
const char *wr__chain_failed_on(const wr__chain_t *c);
/* Every input ended: fire what is left, flush the sinks, end the output. */
int wr__chain_end(wr__chain_t *c, wr_actor_t *self);

/* The nodes a subtask exchanges data with (task_partners.c): the other ends of its channels that
 * run elsewhere. When a TaskManager dies, the JobManager hears it (heartbeat.timeout) and
 * restarts the job. When only the link between two TaskManagers fails while both still reach the
 * JobManager (a partition between them), nobody would: the channel's sender waits for credit, the
 * receiver for data, and the job stood still until its checkpoint timed out (10 minutes by
 * default), for good without checkpoints. So a subtask reads, every half second, how its own
 * node's transport sees its partners' nodes, and fails when one has been down (silent for
 * heartbeat.timeout, never answered, or a new process) for a further heartbeat.timeout: long
 * enough that a TaskManager that died is the JobManager's to handle (it cancels this attempt
 * first), short enough that a partition is a restart in seconds, as in Flink, where a task fails
 * when its connection to a partner TaskManager is lost. */
typedef struct {
    char node[WR_NODE_MAX];
    int64_t since_ns; /* since when this subtask has seen it down; 0: not down */
} wr__partner_t;

typedef struct {
    wr__partner_t *v;
    uint32_t n, cap;
    int64_t checked_ns; /* the last check */
} wr__partners_t;

/* Adds node (once). 0 or WR_ENOMEM. */
int wr__partners_add(wr__partners_t *p, const char *node);
/* On the subtask's tick: 0, or WR_EUNREACH with why (len bytes) saying which partner was lost
 * and how long it has been unreachable. Reads the transport at most every half second. */
int wr__partners_check(wr__partners_t *p, wr_node_t *node, int64_t now_ns, char *why, size_t len);
void wr__partners_release(wr__partners_t *p);

/* The subtask actor's state (task.c; checkpoints in task_ckpt.c). */
/* Segments written ahead (task_ahead.c): the folder ("": none are written), the files
 * (one being written: its writer w and fd open; the others written, closed), off after a
 * failure to begin or write one (until the next checkpoint). */
#define WR__TASK_AHEAD_FILES 16
#define WR__TASK_MAX_SEGS                                                                          \
    48 /* segments in one ack (the JobManager takes 64 blobs and the sinks') */

typedef struct {
    int64_t pane;
    int fd;
    wr_snap_writer_t *w;
    bool bad; /* its close failed */
    char path[WR_TASK_RESTORE_MAX + 192];
} wr__ahead_file_t;

typedef struct {
    char dir[WR_TASK_RESTORE_MAX];
    wr__ahead_file_t f[WR__TASK_AHEAD_FILES];
    uint32_t n;
    bool off;
    uint32_t steps; /* of the one being written, on ticks: how many, their time, the longest */
    int64_t step_ns, longest_ns;
    wr_window_seg_t segs[WR__TASK_MAX_SEGS]; /* scratch */
} wr__task_ahead_t;

/* A window segment of the checkpoint restored that the engine took over (its restart at the same
 * parallelism: wr_window_restore_going_on): the name the attempt that wrote it gave its file in
 * shared/, which later checkpoints reference. */
typedef struct {
    int64_t pane;
    uint64_t id;
    char file[160];
} wr__task_adopted_t;

typedef struct {
    wr_task_opts_t o;
    wr_topology_t *topo;
    wr_plan_t plan;
    const wr_plan_vertex_t *v;
    wr_gate_in_t *in;
    wr_gate_out_t *out;
    wr__chain_t chain;
    bool chain_ready;

    bool source;
    wr__source_t src;
    int64_t start_ns, next_wm_ns;
    bool pump_queued;
    bool retry_armed; /* an S_RETRY timer is on its way (a source asked to be read again soon) */

    /* input that arrived while a window firing was paused, in order: bounded by the credits of
     * the input channels (a stashed batch has not returned its credit) */
    wr__msgq_t stash;
    /* input behind a checkpoint barrier, held until every input delivered it */
    wr__msgq_t held;

    bool ended; /* the chain has ended (output ended or sinks flushed) */
    /* a source told to drain (weir stop --drain) made its last watermark, the end of event
     * time, and produces nothing more; its checkpoint waits while that watermark's firing is
     * paused (drain_id, drain_dir) */
    bool drained;
    uint64_t drain_id;
    char drain_dir[WR_TASK_RESTORE_MAX];
    bool final_acked; /* the end's state went to the JobManager (the final checkpoint) */
    bool reported;    /* the final state went to the JobManager */
    unsigned ticks;
    uint64_t records_in;
    /* the previous report's back-pressured time and its clock, for the rate over the interval */
    uint64_t reported_blocked_ms;
    int64_t reported_ns;
    uint64_t last_checkpoint; /* the latest this subtask took part in */
    uint64_t stale;           /* checkpoint messages dropped: another leader's epoch */
    wr_logrl_t log;           /* refusals of what peers send (bus/base/log.h) */
    char error[WR_MSG_ERROR_MAX];
    bool deterministic; /* it failed at its start with an error a restart meets again */
    wr__task_ahead_t ahead;
    wr__task_adopted_t adopted[WR__TASK_MAX_SEGS];
    uint32_t nadopted;
    wr__partners_t partners; /* the nodes of its channels' other ends */
} wr__task_t;

/* task_ahead.c: the window's segments written ahead, a step a tick */
/* At the subtask's start: the folder for them (wr_task_opts_t.ahead_dir) made, and the files
 * the job's other attempts left there deleted. */
void wr__task_ahead_start(wr__task_t *t);
/* On the tick, while no firing is paused: a step of the segment being written, or the next one
 * begun. Failures are logged: the checkpoint writes what was not written ahead. */
void wr__task_ahead_tick(wr__task_t *t);
/* At a checkpoint, first: the steps left of the segment being written, at once (a main taken
 * while one is being written would hold its pane whole, and the pane would be written twice:
 * measured slower). */
void wr__task_ahead_finish(wr__task_t *t);
/* At a checkpoint, then: the files of the segments segs[0..n) lists as written (not due, with an
 * id) are renamed into shared under their names (*taken of them); every other file but the one
 * being written is deleted. */
void wr__task_ahead_take(wr__task_t *t, const char *shared, const wr_window_seg_t *segs, size_t n,
                         uint32_t *taken);
/* Abandons the one being written and deletes every file (the subtask's end). */
void wr__task_ahead_release(wr__task_t *t);

/* task_ckpt.c */
/* Checkpoint `id`: snapshots the subtask's state (files into dir, the folder of the checkpoint
 * being written), passes the barrier on and acks to the JobManager with the state's blobs. */
int wr__task_checkpoint(wr__task_t *t, wr_actor_t *self, uint64_t id, const char *dir);
/* The shared file of a window segment (its id names its bytes): <job>-<attempt>-v-s-p-<id>.wseg,
 * or the name of one taken over at the restore (t->adopted). */
void wr__task_seg_name(const wr__task_t *t, const wr_window_seg_t *seg, char out[160]);
/* Restores the subtask from the checkpoint or savepoint in t->o.restore. err says why not. */
int wr__task_restore(wr__task_t *t, wr_strbuf_t *err);
/* CKPT_COMPLETE: checkpoint id completed (sinks commit what it covers). */
int wr__task_checkpoint_complete(wr__task_t *t, wr_actor_t *self, uint64_t id);

#endif
