/* The subtask actor: its source or input gate, its chain, its output, its reports. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "actors/taskmanager/task_internal.h"
#include "bus/base/clock.h"
#include "bus/base/error.h"
#include "bus/base/log.h"
#include "bus/messages.h"

#define S_PUMP         (WR_MSG_LOCAL_FIRST + 10)
#define S_TICK         (WR_MSG_LOCAL_FIRST + 11)
#define S_RETRY        (WR_MSG_LOCAL_FIRST + 12) /* a source's wr_source_read_retry is due */
#define S_TICK_MS      100
#define S_REPORT_TICKS 10   /* a running report every second */
#define S_PUMP_BATCHES 8    /* source batches per turn before yielding to other actors */
#define S_SOURCE_BATCH 4096 /* records per source batch */

static void s_free(void *state)
{
    wr__task_t *t = state;
    wr__task_ahead_release(t);
    wr__chain_release(&t->chain);
    wr__msgq_release(&t->stash);
    wr__msgq_release(&t->held);
    wr_gate_in_destroy(&t->in);
    wr_gate_out_destroy(&t->out);
    wr__source_release(&t->src);
    wr__partners_release(&t->partners);
    wr_topology_destroy(&t->topo);
    free(t->o.place_node);
    free(t->o.place_endpoint);
    free(t);
}

/* ---- reporting ---- */

/* A source subtask's event time (the least of its live splits'), INT64_MIN for none yet. */
static int64_t s_event_time(wr__task_t *t)
{
    int64_t event_time = INT64_MIN;
    if (t->source) wr__source_event_time(&t->src, &event_time);
    return event_time;
}

/* The back-pressured time per second since the previous report (Flink's
 * backPressuredTimeMsPerSecond, 0..1000); the first report's counts from the subtask's start. */
static uint64_t s_blocked_per_s(wr__task_t *t, uint64_t blocked_ms)
{
    int64_t now = wr_now_ns(), dt_ms = (now - t->reported_ns) / 1000000;
    uint64_t d = blocked_ms - t->reported_blocked_ms;
    t->reported_ns = now;
    t->reported_blocked_ms = blocked_ms;
    if (dt_ms <= 0) return 0;
    uint64_t per_s = d * 1000 / (uint64_t)dt_ms;
    return per_s > 1000 ? 1000 : per_s;
}

static void s_report(wr_actor_t *self, wr__task_t *t, const char *state)
{
    bool final = strcmp(state, "running") != 0;
    uint64_t blocked_ms = t->out ? wr_gate_out_blocked_ms(t->out) : 0;
    wr_msg_task_state_t r = {
        .vertex = t->o.vertex,
        .subtask = t->o.subtask,
        .stats = {.emit_delay_p50_ms = wr__delay_quantile(t->chain.delay_hist, 0.5),
                  .emit_delay_p99_ms = wr__delay_quantile(t->chain.delay_hist, 0.99),
                  .emit_delay_last_p99_ms = wr__delay_quantile(t->chain.last_hist, 0.99),
                  .attempt = t->o.attempt,
                  .records_in = t->records_in,
                  .records_out = t->chain.records_out,
                  .watermark = t->in ? wr_gate_in_watermark(t->in) : s_event_time(t),
                  .backpressure = t->out ? wr_gate_out_blocked_count(t->out) : 0,
                  .windows_fired = t->chain.windows_fired,
                  .late_dropped = t->chain.late_dropped,
                  .skipped = t->source ? wr__source_skipped(&t->src) : 0,
                  .backpressure_ms = blocked_ms,
                  .backpressure_ms_per_s = s_blocked_per_s(t, blocked_ms),
                  .stale_dropped = t->stale}};
    memcpy(r.job, t->o.job_id, sizeof r.job);
    snprintf(r.state, sizeof r.state, "%s", state);
    snprintf(r.error, sizeof r.error, "%s", t->error);
    r.deterministic = t->deterministic && !strcmp(state, "failed");
    if (final && t->chain.collected.len)
        r.stats.collected = (wr_strv_t){t->chain.collected.buf, t->chain.collected.len};
    msgpack_sbuffer sb;
    msgpack_sbuffer_init(&sb);
    int rc = wr_msg_task_state_pack(&r, &sb);
    if (!rc) rc = wr_send(self, t->o.jm_addr, WR_MSG_TASK_STATE, sb.data, sb.size);
    msgpack_sbuffer_destroy(&sb);
    if (rc)
        wr_warn("%s: cannot report to %s: %s", wr_actor_addr(self), t->o.jm_addr, wr_strerror(rc));
}

/* Fails the subtask: says why to the JobManager, then returns rc for the runtime. */
static int s_fail(wr_actor_t *self, wr__task_t *t, int rc, const char *what)
{
    const char *on = wr__chain_failed_on(&t->chain); /* a sink's file */
    if (!t->error[0])
        snprintf(t->error, sizeof t->error, "%s: %s%s%s", what, on ? on : "", on ? ": " : "",
                 wr_strerror(rc));
    wr_error("%s: %s", wr_actor_addr(self), t->error);
    if (!t->reported) s_report(self, t, "failed");
    t->reported = true;
    return rc;
}

/* Reports "finished" once the chain ended and everything it sent has left. */
static void s_maybe_finished(wr_actor_t *self, wr__task_t *t)
{
    if (!t->ended || t->reported || wr__chain_busy(&t->chain)) return;
    if (t->out && !wr_gate_out_drained(t->out)) return;
    if (t->o.checkpointing) { /* the end is a final checkpoint: finished once it completes */
        if (!t->final_acked) {
            t->final_acked = true;
            int rc = wr__task_checkpoint(t, self, WR_CKPT_FINAL, NULL);
            if (rc) s_fail(self, t, rc, "final checkpoint");
        }
        return;
    }
    int rc = wr__task_checkpoint_complete(t, self, WR_CKPT_FINAL); /* sinks commit their end */
    if (rc) {
        s_fail(self, t, rc, "commit");
        return;
    }
    t->reported = true;
    s_report(self, t, "finished");
}

/* ---- sources ---- */

static int s_watermark(wr_actor_t *self, wr__task_t *t, bool force)
{
    int64_t event_time;
    if (!t->source || t->drained || !wr__source_event_time(&t->src, &event_time)) return 0;
    int64_t now = wr_now_ns();
    if (!force && now < t->next_wm_ns) return 0;
    t->next_wm_ns = now + t->topo->event_time.watermark_interval_ms * 1000000;
    int64_t wm = event_time - t->topo->event_time.max_out_of_orderness_ms - 1;
    return wr__chain_watermark(&t->chain, self, wm, wr_wall_ms());
}

static int s_queue_pump(wr_actor_t *self, wr__task_t *t)
{
    if (t->pump_queued) return 0;
    int rc = wr_send(self, wr_actor_addr(self), S_PUMP, NULL, 0);
    if (!rc) t->pump_queued = true;
    return rc == WR_EAGAIN ? 0 : rc; /* a full mailbox: the tick pumps again */
}

static int s_pump(wr_actor_t *self, wr__task_t *t)
{
    t->pump_queued = false;
    if (t->ended || t->drained || wr__chain_busy(&t->chain) ||
        (t->out && !wr_gate_out_is_open(t->out)))
        return 0;
    for (int k = 0; k < S_PUMP_BATCHES; k++) {
        if (t->out && wr_gate_out_blocked(t->out)) return 0; /* the next credit resumes */
        bool done, wait;
        wr_strbuf_t err;
        wr_strbuf_init(&err);
        int rc = wr__source_next(&t->src, S_SOURCE_BATCH, (uint64_t)(wr_now_ns() - t->start_ns),
                                 &done, &wait, &err);
        if (rc && err.len) snprintf(t->error, sizeof t->error, "%s", err.buf);
        wr_strbuf_release(&err);
        if (rc) return s_fail(self, t, rc, "source");
        if (wait) { /* the tick pumps again, or sooner when the source asks */
            uint32_t ms = wr__source_retry_ms(&t->src);
            if (ms && !t->retry_armed && !wr_timer_after(self, ms, S_RETRY, NULL))
                t->retry_armed = true;
            return 0;
        }
        if (done) {
            if ((rc = wr__chain_end(&t->chain, self))) return s_fail(self, t, rc, "end of input");
            t->ended = true;
            s_maybe_finished(self, t);
            return 0;
        }
        const wr_batch_t *batch = wr__source_batch(&t->src);
        t->records_in += batch->count;
        if ((rc = wr__chain_batch(&t->chain, self, batch)) || (rc = s_watermark(self, t, false)))
            return s_fail(self, t, rc, "processing");
    }
    return s_queue_pump(self, t);
}

/* ---- wiring ---- */

/* Links this node to the node of subtask `flat` (another node) and watches it as a partner. */
static int s_link(wr__task_t *t, wr_actor_t *self, uint32_t flat)
{
    wr_node_link(wr_actor_node(self), t->o.place_node[flat], t->o.place_endpoint[flat]);
    return wr__partners_add(&t->partners, t->o.place_node[flat]);
}

/* The output gate to the next vertex: one channel per downstream subtask. */
static int s_out_init(wr__task_t *t, wr_actor_t *self)
{
    const wr_plan_vertex_t *v = t->v;
    if (v->output < 0) return 0;
    const wr_plan_vertex_t *d = &t->plan.v[v->output];
    const char **targets = calloc(d->parallelism, sizeof *targets);
    uint64_t *ids = calloc(d->parallelism, sizeof *ids);
    char(*addrs)[WR_ADDR_MAX] = calloc(d->parallelism, sizeof *addrs);
    int rc = WR_ENOMEM;
    if (!targets || !ids || !addrs) goto out;
    rc = 0;
    for (uint32_t j = 0; j < d->parallelism; j++) {
        uint32_t flat = wr_plan_index(&t->plan, (uint32_t)v->output, j);
        char path[WR_PATH_MAX];
        wr_task_path(path, t->o.job_id, t->o.attempt, (uint32_t)v->output, j);
        snprintf(addrs[j], WR_ADDR_MAX, "%s/%s", t->o.place_node[flat], path);
        targets[j] = addrs[j];
        ids[j] = wr_plan_channel(t->o.vertex, t->o.subtask, j);
        if (strcmp(t->o.place_node[flat], wr_node_id(wr_actor_node(self))))
            rc = s_link(t, self, flat);
        if (rc) goto out;
    }
    wr_gate_out_opts_t go = {
        .schema = &v->out_schema,
        .partition = v->edge == WR_EDGE_HASH      ? WR_PART_HASH
                     : v->edge == WR_EDGE_FORWARD ? WR_PART_FORWARD
                                                  : WR_PART_REBALANCE,
        .key_field = v->edge == WR_EDGE_HASH ? t->topo->key_index : -1,
        .max_parallelism = t->topo->max_parallelism,
        .batch_records = t->o.batch_records,
        .nchannels = d->parallelism,
        .targets = targets,
        .channel_ids = ids,
    };
    t->out = wr_gate_out_new(&go);
    rc = t->out ? wr_gate_out_open(t->out, self) : WR_ENOMEM;
out:
    free(targets);
    free(ids);
    free(addrs);
    return rc;
}

/* The input gate: one channel per upstream subtask, over every input vertex. */
static int s_in_init(wr__task_t *t, wr_actor_t *self)
{
    const wr_plan_vertex_t *v = t->v;
    uint32_t n = 0;
    for (uint32_t k = 0; k < v->n_inputs; k++) {
        uint32_t u = v->inputs[k];
        n += t->plan.v[u].parallelism;
        for (uint32_t i = 0; i < t->plan.v[u].parallelism; i++) {
            uint32_t flat = wr_plan_index(&t->plan, u, i);
            int rc = 0;
            if (strcmp(t->o.place_node[flat], wr_node_id(wr_actor_node(self))))
                rc = s_link(t, self, flat);
            if (rc) return rc;
        }
    }
    wr_gate_in_opts_t gi = {.schema = &v->in_schema,
                            .nchannels = n,
                            .window = t->o.credits,
                            .idle_timeout_ms = t->topo->event_time.idle_timeout_ms};
    t->in = wr_gate_in_new(&gi);
    return t->in ? 0 : WR_ENOMEM;
}

/* Whether a start that failed with rc fails again at every restart: what the job asks does not
 * fit (an operator its backend refuses, a configuration, a state that is not the job's: WR_EINVAL,
 * WR_ECONFIG), as opposed to what a restart may find otherwise (memory, files, the network). */
static bool s_deterministic(int rc)
{
    return rc == WR_EINVAL || rc == WR_ECONFIG;
}

static int s_on_start(wr_actor_t *self, void *state)
{
    wr__task_t *t = state;
    wr_strbuf_t err;
    wr_strbuf_init(&err);
    int rc = 0;
    if (t->v->source >= 0) {
        t->source = true;
        rc = wr__source_init(&t->src, t->topo, t->v->source, t->o.subtask, t->v->parallelism, &err);
    } else {
        rc = s_in_init(t, self);
    }
    if (!rc) rc = s_out_init(t, self);
    if (!rc) {
        rc = wr__chain_init(&t->chain, t->topo, t->v, t->out, &t->o, &err);
        t->chain_ready = true;
    }
    if (!rc && t->o.restore[0]) rc = wr__task_restore(t, &err);
    if (!rc) wr__task_ahead_start(t);
    if (!rc && t->source)
        rc = wr__source_start(&t->src, &err); /* fresh, or from what was restored */
    if (!rc) rc = wr_timer_every(self, S_TICK_MS, S_TICK, NULL);
    t->start_ns = t->next_wm_ns = wr_now_ns();
    if (rc) {
        snprintf(t->error, sizeof t->error, "%s", err.len ? err.buf : wr_strerror(rc));
        t->deterministic = s_deterministic(rc);
        wr_strbuf_release(&err);
        return s_fail(self, t, rc, "start");
    }
    wr_strbuf_release(&err);
    s_report(self, t, "running");
    return t->source ? s_queue_pump(self, t) : 0;
}

/* ---- messages ---- */

static int s_go_on(wr_actor_t *self, wr__task_t *t);
static int s_drain_checkpoint(wr_actor_t *self, wr__task_t *t);

/* Every input delivered barrier `id`: snapshot, pass it on, then the input held behind it. */
static int s_aligned(wr_actor_t *self, wr__task_t *t)
{
    int rc = wr__task_checkpoint(t, self, wr_gate_in_barrier(t->in), wr_gate_in_barrier_dir(t->in));
    if (rc) return s_fail(self, t, rc, "checkpoint");
    if ((rc = wr__msgq_prepend(&t->stash, &t->held))) return s_fail(self, t, rc, "checkpoint");
    return 0; /* the caller goes on with the stash */
}

/* An input message: through the input gate, then the chain. Takes *msgp when it must wait. */
static int s_on_input(wr_actor_t *self, wr__task_t *t, wr_msg_t **msgp)
{
    if (!t->in) return s_fail(self, t, WR_EPROTO, "unexpected input for a source");
    wr_in_event_t ev;
    int64_t wm = 0;
    int rc = wr_gate_in_handle(t->in, self, *msgp, &ev, &wm);
    if (rc) return s_fail(self, t, rc, "input channel");
    switch (ev) {
    case WR_IN_HOLD:
        if ((rc = wr__msgq_push(&t->held, msgp))) return s_fail(self, t, rc, "barrier alignment");
        return 0;
    case WR_IN_BARRIER:
        return s_aligned(self, t);
    case WR_IN_BATCH: {
        wr_batch_t *b = wr_gate_in_batch(t->in);
        t->records_in += b->count;
        if ((rc = wr__chain_batch(&t->chain, self, b))) return s_fail(self, t, rc, "processing");
        bool hold = t->out && wr_gate_out_blocked(t->out); /* push back on our inputs in turn */
        if ((rc = wr_gate_in_done(t->in, self, hold))) return s_fail(self, t, rc, "credit");
        return 0;
    }
    case WR_IN_WATERMARK:
        if ((rc = wr__chain_watermark(&t->chain, self, wm, wr_gate_in_watermark_origin(t->in))))
            return s_fail(self, t, rc, "watermark");
        return 0;
    case WR_IN_END:
        if ((rc = wr__chain_end(&t->chain, self))) return s_fail(self, t, rc, "end of input");
        t->ended = true;
        s_maybe_finished(self, t);
        return 0;
    case WR_IN_NOTHING:
        return 0;
    }
    return 0;
}

/* The output has room: goes on with a paused firing, then with the input that waited for it. */
static int s_go_on(wr_actor_t *self, wr__task_t *t)
{
    int rc = 0;
    if (wr__chain_busy(&t->chain) && !(t->out && wr_gate_out_blocked(t->out)) &&
        (rc = wr__chain_resume(&t->chain, self)))
        return s_fail(self, t, rc, "window firing");
    if ((rc = s_drain_checkpoint(self, t)))
        return rc; /* a drained source's, once its firing ended */
    while (!wr__msgq_empty(&t->stash) && !wr__chain_busy(&t->chain) && !t->reported) {
        wr_msg_t *m = wr__msgq_pop(&t->stash);
        rc = s_on_input(self, t, &m);
        wr_msg_destroy(&m);
        if (rc) return rc;
    }
    s_maybe_finished(self, t);
    return 0;
}

/* Whether the subtask still exchanges data: not once it reported its end, nor once its input
 * and output ended and what it sent has left (it may wait for the final checkpoint, while the
 * TaskManagers of finished partners go away). */
static bool s_exchanging(const wr__task_t *t)
{
    return !t->reported && !(t->ended && (!t->out || wr_gate_out_drained(t->out)));
}

static int s_on_tick(wr_actor_t *self, wr__task_t *t)
{
    int rc = !s_exchanging(t) ? 0
                              : wr__partners_check(&t->partners, wr_actor_node(self), wr_now_ns(),
                                                   t->error, sizeof t->error);
    if (rc) return s_fail(self, t, rc, "partner");
    if (t->out) {
        if (!wr_gate_out_is_open(t->out)) rc = wr_gate_out_open(t->out, self);
        if (!rc) rc = wr_gate_out_retry(t->out, self);
        if (rc) return s_fail(self, t, rc, "output channel");
    }
    if ((rc = s_go_on(self, t))) return rc;
    if (t->in && !t->ended && !wr__chain_busy(&t->chain) && wr__msgq_empty(&t->stash)) {
        int64_t wm;
        if (wr_gate_in_tick(t->in, &wm) == WR_IN_WATERMARK &&
            (rc = wr__chain_watermark(&t->chain, self, wm, wr_wall_ms())))
            return s_fail(self, t, rc, "watermark");
    }
    if (t->source && !t->ended) {
        if ((rc = s_watermark(self, t, false))) return s_fail(self, t, rc, "watermark");
        if ((rc = s_queue_pump(self, t))) return s_fail(self, t, rc, "source");
    }
    if (!wr__chain_busy(&t->chain)) wr__task_ahead_tick(t); /* a step between batches */
    s_maybe_finished(self, t);
    if (!t->reported && ++t->ticks % S_REPORT_TICKS == 0) s_report(self, t, "running");
    return 0;
}

/* 0 when a checkpoint message (job, attempt, checkpoint id) is for this attempt of this job. */
static int s_ckpt_for_us(const wr__task_t *t, const char *job, uint32_t attempt, uint64_t id)
{
    if (!id) return WR_EPROTO;
    return strcmp(job, t->o.job_id) || attempt != t->o.attempt ? WR_ENOTFOUND : 0;
}

/* A drained source's checkpoint, once the end of event time it sent has fired through its chain. */
static int s_drain_checkpoint(wr_actor_t *self, wr__task_t *t)
{
    if (!t->drain_id || wr__chain_busy(&t->chain)) return 0;
    uint64_t id = t->drain_id;
    t->drain_id = 0;
    int rc = wr__task_checkpoint(t, self, id, t->drain_dir);
    return rc ? s_fail(self, t, rc, "checkpoint") : 0;
}

/* CKPT_TRIGGER [job id, attempt, checkpoint id, dir, drain]: a source snapshots and sends the
 * barrier; with drain it first ends event time (the watermark fires every window downstream) and
 * then produces nothing more: the JobManager stops the job once the savepoint is written. */
static int s_on_trigger(wr_actor_t *self, wr__task_t *t, const wr_msg_t *m)
{
    wr_msg_ckpt_trigger_t tr;
    int rc = wr_msg_ckpt_trigger_unpack(m, &tr);
    if (!rc) rc = s_ckpt_for_us(t, tr.job, tr.attempt, tr.checkpoint);
    if (rc || !t->source || t->drained) {
        wr_debug("%s: ignoring a checkpoint trigger from %s", wr_actor_addr(self), m->from);
        return 0;
    }
    if (tr.drain && !t->ended) {
        t->drained = true;
        if ((rc = wr__chain_watermark(&t->chain, self, INT64_MAX, wr_wall_ms())))
            return s_fail(self, t, rc, "watermark");
        t->drain_id = tr.checkpoint;
        snprintf(t->drain_dir, sizeof t->drain_dir, "%s", tr.dir);
        return s_drain_checkpoint(self, t); /* or once its firing completes (s_go_on) */
    }
    if ((rc = wr__task_checkpoint(t, self, tr.checkpoint, tr.dir)))
        return s_fail(self, t, rc, "checkpoint");
    return 0;
}

/* CKPT_COMPLETE [job id, attempt, checkpoint id]: commit; the final one finishes the subtask. */
static int s_on_complete(wr_actor_t *self, wr__task_t *t, const wr_msg_t *m)
{
    wr_msg_ckpt_complete_t c;
    if (wr_msg_ckpt_complete_unpack(m, &c) || s_ckpt_for_us(t, c.job, c.attempt, c.checkpoint))
        return 0;
    uint64_t id = c.checkpoint;
    int rc = wr__task_checkpoint_complete(t, self, id);
    if (rc) return s_fail(self, t, rc, "commit");
    if (id == WR_CKPT_FINAL && t->final_acked && !t->reported) {
        t->reported = true;
        s_report(self, t, "finished");
    }
    return 0;
}

/* Whether a checkpoint message comes from the leader that deployed this subtask (its epoch): one
 * of another epoch is a deposed leader's (or a newer one's, which never addresses this attempt)
 * and is dropped, counted and logged. */
static bool s_from_leader(const wr_actor_t *self, wr__task_t *t, const wr_msg_t *m)
{
    if (!wr_msg_role_is(m, WR_ROLE_JOBMANAGER)) { /* and only a JobManager's key */
        if (++t->stale <= 5 || t->stale % 1000 == 0)
            wr_warn("%s: dropping %s from %s: its key ('%s') is no JobManager's",
                    wr_actor_addr(self), wr_msg_type_label(m->type), m->from, m->cert);
        return false;
    }
    if (!t->o.epoch || m->epoch == t->o.epoch) return true;
    t->stale++;
    wr_warn_limited(
        &t->log, "%s: dropping %s of epoch %llu from %s (deployed under %llu; %llu dropped so far)",
        wr_actor_addr(self), wr_msg_type_label(m->type), (unsigned long long)m->epoch, m->from,
        (unsigned long long)t->o.epoch, (unsigned long long)t->stale);
    return false;
}

static int s_on_message(wr_actor_t *self, void *state, wr_msg_t **msgp)
{
    wr__task_t *t = state;
    const wr_msg_t *m = *msgp;
    if (t->reported && m->type != S_TICK) return 0; /* finished or failed: drain quietly */
    /* data comes from subtasks, orders from a JobManager (checkpoints: s_from_leader) */
    if (m->type < WR_MSG_LOCAL_FIRST && !wr_msg_role_is(m, WR_ROLE_TASKMANAGER) &&
        m->role != WR_ROLE_JOBMANAGER) {
        if (++t->stale <= 5 || t->stale % 1000 == 0) /* a flood does not flood the log */
            wr_warn("%s: dropping %s from %s: its key ('%s') is no TaskManager's",
                    wr_actor_addr(self), wr_msg_type_label(m->type), m->from, m->cert);
        return 0;
    }
    if (t->final_acked && m->type != S_TICK && m->type != WR_MSG_CKPT_COMPLETE &&
        m->type != WR_MSG_CREDIT)
        return 0; /* ended: only the final checkpoint's completion matters now */
    switch (m->type) {
    case S_PUMP:
        return s_pump(self, t);
    case S_RETRY:
        t->retry_armed = false;
        return s_pump(self, t);
    case S_TICK:
        return s_on_tick(self, t);
    case WR_MSG_CREDIT: {
        if (!t->out) return s_fail(self, t, WR_EPROTO, "credit for a subtask without output");
        int rc = wr_gate_out_credit(t->out, self, m);
        if (rc) return s_fail(self, t, rc, "output channel");
        if ((rc = s_go_on(self, t))) return rc;
        if (t->in && !wr_gate_out_blocked(t->out) && (rc = wr_gate_in_release(t->in, self)))
            return s_fail(self, t, rc, "credit");
        if (t->source && !t->ended) return s_queue_pump(self, t);
        s_maybe_finished(self, t);
        return 0;
    }
    case WR_MSG_CHANNEL_OPEN:
    case WR_MSG_DATA_BATCH:
    case WR_MSG_WATERMARK:
    case WR_MSG_BARRIER:
    case WR_MSG_CHANNEL_END: {
        if (wr__chain_busy(&t->chain) || !wr__msgq_empty(&t->stash)) {
            int rc = wr__msgq_push(&t->stash, msgp);
            return rc ? s_fail(self, t, rc, "input") : 0;
        }
        int rc = s_on_input(self, t, msgp);
        return rc ? rc : s_go_on(self, t); /* what an alignment released */
    }
    case WR_MSG_CKPT_TRIGGER:
        return s_from_leader(self, t, m) ? s_on_trigger(self, t, m) : 0;
    case WR_MSG_CKPT_COMPLETE:
        return s_from_leader(self, t, m) ? s_on_complete(self, t, m) : 0;
    case WR_MSG_ERROR:
    case WR_MSG_TIMEOUT:
        return 0; /* a channel open that met no subtask yet: the tick retries */
    default:
        wr_debug("%s: ignoring %s from %s", wr_actor_addr(self), wr_msg_type_label(m->type),
                 m->from);
        return 0;
    }
}

static const wr_behaviour_t s_behaviour = {
    .on_start = s_on_start, .on_message = s_on_message, .free_state = s_free};

int wr_task_spawn(wr_node_t *node, wr_actor_t *supervisor, wr_topology_t **topology,
                  wr_task_opts_t *o, wr_actor_t **ref)
{
    wr__task_t *t = calloc(1, sizeof *t);
    int rc = WR_ENOMEM;
    *ref = NULL;
    if (!t) {
        wr_topology_destroy(topology);
        free(o->place_node);
        free(o->place_endpoint);
        return rc;
    }
    t->reported_ns = wr_now_ns();
    t->o = *o;
    wr_logrl_init(&t->log, 0);
    t->topo = *topology;
    *topology = NULL;
    o->place_node = NULL;
    o->place_endpoint = NULL;
    wr_strbuf_t err;
    wr_strbuf_init(&err);
    rc = wr_plan_build(t->topo, &t->plan, &err);
    wr_strbuf_release(&err);
    if (rc || t->o.vertex >= t->plan.n || t->o.subtask >= t->plan.v[t->o.vertex].parallelism ||
        t->o.nplaces != wr_plan_subtasks(&t->plan)) {
        s_free(t);
        return rc ? rc : WR_EINVAL;
    }
    t->v = &t->plan.v[t->o.vertex];
    char path[WR_PATH_MAX];
    wr_task_path(path, t->o.job_id, t->o.attempt, t->o.vertex, t->o.subtask);
    wr_spawn_opts_t so = {.path = path,
                          .behaviour = &s_behaviour,
                          .state = t,
                          .supervisor = supervisor,
                          .mailbox_capacity = 4096,
                          .restart = WR_RESTART_NEVER};
    return wr_actor_spawn(node, &so, ref);
}
