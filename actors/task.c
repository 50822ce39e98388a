/* The subtask actor: its source or input gate, its chain, its output, its reports. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "actors/dataflow/generator.h"
#include "actors/dataflow/textin.h"
#include "actors/task_internal.h"
#include "bus/clock.h"
#include "bus/error.h"
#include "bus/log.h"
#include "bus/mp.h"
#include "bus/msgtypes.h"

#define S_PUMP (WR_MSG_LOCAL_FIRST + 10)
#define S_TICK (WR_MSG_LOCAL_FIRST + 11)
#define S_TICK_MS 100
#define S_REPORT_TICKS 10     /* a running report every second */
#define S_PUMP_BATCHES 8      /* source batches per turn before yielding to other actors */
#define S_SOURCE_BATCH 4096   /* records per source batch */
#define S_READ_CHUNK (1 << 16)

typedef struct {
    wr_task_opts_t o;
    wr_topology_t *topo;
    wr_plan_t plan;
    const wr_plan_vertex_t *v;
    wr_gate_in_t *in;
    wr_gate_out_t *out;
    wr__chain_t chain;
    bool chain_ready;

    /* source */
    bool source;
    wr_generator_t *gen;
    uint64_t produced; /* records this subtask made */
    uint64_t share;    /* records this subtask makes in all (UINT64_MAX: unbounded) */
    int fd;
    wr_textin_t *text;
    char *buf;
    size_t buf_len;
    bool eof;
    wr_batch_t *batch;
    int ts_field;
    int64_t max_ts;
    int64_t start_ns, next_wm_ns;
    bool pump_queued;

    /* input that arrived while a window firing was paused, in order: bounded by the credits of
     * the input channels (a stashed batch has not returned its credit) */
    wr_msg_t **stash;
    size_t stash_head, stash_n, stash_cap;

    bool ended;    /* the chain has ended (output ended or sinks flushed) */
    bool reported; /* the final state went to the JobManager */
    unsigned ticks;
    uint64_t records_in;
    char error[256];
} s_task_t;

void wr_task_path(char out[WR_PATH_MAX], const char *job_id, uint32_t vertex, uint32_t subtask)
{
    snprintf(out, WR_PATH_MAX, "job-%s/v%u.%u", job_id, vertex, subtask);
}

static void s_free(void *state)
{
    s_task_t *t = state;
    wr__chain_release(&t->chain);
    for (size_t i = t->stash_head; i < t->stash_n; i++) wr_msg_destroy(&t->stash[i]);
    free(t->stash);
    wr_gate_in_destroy(&t->in);
    wr_gate_out_destroy(&t->out);
    wr_generator_destroy(&t->gen);
    wr_textin_destroy(&t->text);
    if (t->fd >= 0) close(t->fd);
    free(t->buf);
    wr_batch_destroy(&t->batch);
    wr_topology_destroy(&t->topo);
    free(t->o.place_node);
    free(t->o.place_endpoint);
    free(t);
}

/* ---- reporting ---- */

static void s_report(wr_actor_t *self, s_task_t *t, const char *state)
{
    msgpack_sbuffer sb;
    msgpack_sbuffer_init(&sb);
    msgpack_packer pk;
    msgpack_packer_init(&pk, &sb, msgpack_sbuffer_write);
    bool final = strcmp(state, "running") != 0;
    bool collected = final && t->chain.collected.len;
    msgpack_pack_array(&pk, 6);
    wr_pack_str(&pk, t->o.job_id);
    msgpack_pack_uint32(&pk, t->o.vertex);
    msgpack_pack_uint32(&pk, t->o.subtask);
    wr_pack_str(&pk, state);
    wr_pack_str(&pk, t->error);
    msgpack_pack_map(&pk, 9 + collected);
    wr_pack_str(&pk, "emit_delay_p50_ms");
    msgpack_pack_int64(&pk, wr__chain_delay_quantile(&t->chain, 0.5));
    wr_pack_str(&pk, "emit_delay_p99_ms");
    msgpack_pack_int64(&pk, wr__chain_delay_quantile(&t->chain, 0.99));
    wr_pack_str(&pk, "attempt");
    msgpack_pack_uint32(&pk, t->o.attempt);
    wr_pack_str(&pk, "records_in");
    msgpack_pack_uint64(&pk, t->records_in);
    wr_pack_str(&pk, "records_out");
    msgpack_pack_uint64(&pk, t->chain.records_out);
    wr_pack_str(&pk, "watermark");
    msgpack_pack_int64(&pk, t->in ? wr_gate_in_watermark(t->in) : t->max_ts);
    wr_pack_str(&pk, "backpressure");
    msgpack_pack_uint64(&pk, t->out ? wr_gate_out_blocked_count(t->out) : 0);
    wr_pack_str(&pk, "windows_fired");
    msgpack_pack_uint64(&pk, t->chain.windows_fired);
    wr_pack_str(&pk, "late_dropped");
    msgpack_pack_uint64(&pk, t->chain.late_dropped);
    if (collected) {
        wr_pack_str(&pk, "collected");
        msgpack_pack_str(&pk, t->chain.collected.len);
        msgpack_pack_str_body(&pk, t->chain.collected.buf, t->chain.collected.len);
    }
    int rc = wr_send(self, t->o.jm_addr, WR_MSG_TASK_STATE, sb.data, sb.size);
    msgpack_sbuffer_destroy(&sb);
    if (rc) wr_warn("%s: cannot report to %s: %s", wr_actor_addr(self), t->o.jm_addr, wr_strerror(rc));
}

/* Fails the subtask: says why to the JobManager, then returns rc for the runtime. */
static int s_fail(wr_actor_t *self, s_task_t *t, int rc, const char *what)
{
    if (!t->error[0]) snprintf(t->error, sizeof t->error, "%s: %s", what, wr_strerror(rc));
    wr_error("%s: %s", wr_actor_addr(self), t->error);
    if (!t->reported) s_report(self, t, "failed");
    t->reported = true;
    return rc;
}

/* Reports "finished" once the chain ended and everything it sent has left. */
static void s_maybe_finished(wr_actor_t *self, s_task_t *t)
{
    if (!t->ended || t->reported || wr__chain_busy(&t->chain)) return;
    if (t->out && !wr_gate_out_drained(t->out)) return;
    t->reported = true;
    s_report(self, t, "finished");
}

/* ---- sources ---- */

static int s_watermark(wr_actor_t *self, s_task_t *t, bool force)
{
    if (t->ts_field < 0 || t->max_ts == INT64_MIN) return 0;
    int64_t now = wr_now_ns();
    if (!force && now < t->next_wm_ns) return 0;
    t->next_wm_ns = now + t->topo->event_time.watermark_interval_ms * 1000000;
    int64_t wm = t->max_ts - t->topo->event_time.max_out_of_orderness_ms - 1;
    return wr__chain_watermark(&t->chain, self, wm, wr_wall_ms());
}

/* Fills t->batch with the next records of the source. *done when the source is exhausted. */
static int s_source_next(s_task_t *t, bool *done, bool *wait)
{
    wr_batch_clear(t->batch);
    *done = *wait = false;
    if (t->gen) {
        uint64_t left = t->share - t->produced;
        if (!left) {
            *done = true;
            return 0;
        }
        uint64_t due = wr_generator_share(wr_generator_due(t->gen, (uint64_t)(wr_now_ns() - t->start_ns)),
                                          t->o.subtask, t->v->parallelism);
        if (due <= t->produced) {
            *wait = true; /* paced: nothing due yet */
            return 0;
        }
        uint64_t n = due - t->produced;
        if (n > left) n = left;
        if (n > S_SOURCE_BATCH) n = S_SOURCE_BATCH;
        int rc = wr_generator_fill_strided(t->gen, t->o.subtask + t->produced * t->v->parallelism,
                                           t->v->parallelism, (uint32_t)n, t->batch);
        if (rc) return rc;
        t->produced += n;
        return 0;
    }
    /* file: parse what is buffered, read more when no whole line is left */
    for (;;) {
        size_t used = 0;
        int rc = wr_textin_parse(t->text, t->buf, t->buf_len, t->eof, t->batch, NULL, &used);
        memmove(t->buf, t->buf + used, t->buf_len - used);
        t->buf_len -= used;
        if (rc) return rc;
        if (t->batch->count) return 0;
        if (t->eof) {
            *done = true;
            return 0;
        }
        /* a full buffer the parser took nothing from: one line longer than the buffer */
        if (t->buf_len == S_READ_CHUNK * 2) return WR_ETOOBIG;
        ssize_t got = read(t->fd, t->buf + t->buf_len, S_READ_CHUNK * 2 - t->buf_len);
        if (got < 0 && errno == EINTR) continue;
        if (got < 0) return WR_EIO;
        if (got == 0) t->eof = true;
        t->buf_len += (size_t)got;
    }
}

static int s_queue_pump(wr_actor_t *self, s_task_t *t)
{
    if (t->pump_queued) return 0;
    int rc = wr_send(self, wr_actor_addr(self), S_PUMP, NULL, 0);
    if (!rc) t->pump_queued = true;
    return rc == WR_EAGAIN ? 0 : rc; /* a full mailbox: the tick pumps again */
}

static int s_pump(wr_actor_t *self, s_task_t *t)
{
    t->pump_queued = false;
    if (t->ended || wr__chain_busy(&t->chain) || (t->out && !wr_gate_out_is_open(t->out))) return 0;
    for (int k = 0; k < S_PUMP_BATCHES; k++) {
        if (t->out && wr_gate_out_blocked(t->out)) return 0; /* the next credit resumes */
        bool done, wait;
        int rc = s_source_next(t, &done, &wait);
        if (rc) {
            if (t->text && wr_textin_error(t->text)[0])
                snprintf(t->error, sizeof t->error, "%s", wr_textin_error(t->text));
            return s_fail(self, t, rc, "source");
        }
        if (wait) return 0; /* the tick pumps again */
        if (done) {
            if ((rc = wr__chain_end(&t->chain, self))) return s_fail(self, t, rc, "end of input");
            t->ended = true;
            s_maybe_finished(self, t);
            return 0;
        }
        uint32_t n = t->batch->count;
        t->records_in += n;
        if (t->ts_field >= 0) {
            const int64_t *ts = t->batch->col[t->ts_field];
            for (uint32_t i = 0; i < n; i++)
                if (ts[i] > t->max_ts) t->max_ts = ts[i];
        }
        if ((rc = wr__chain_batch(&t->chain, self, t->batch)) || (rc = s_watermark(self, t, false)))
            return s_fail(self, t, rc, "processing");
    }
    return s_queue_pump(self, t);
}

static int s_source_init(s_task_t *t, wr_strbuf_t *err)
{
    const wr_topo_source_t *src = &t->topo->sources[t->v->source];
    t->source = true;
    t->ts_field = t->topo->event_time.field[0] ? wr_schema_find(&t->topo->schema, t->topo->event_time.field) : -1;
    t->batch = wr_batch_new(&t->topo->schema, S_SOURCE_BATCH);
    if (!t->batch) return WR_ENOMEM;
    if (src->kind == WR_TOPO_SOURCE_GENERATOR) {
        t->gen = wr_generator_new(&src->generator);
        if (!t->gen) {
            wr_strbuf_adds(err, "generator: invalid configuration");
            return WR_EINVAL;
        }
        uint64_t total = wr_generator_total(t->gen);
        t->share = total == UINT64_MAX ? UINT64_MAX : wr_generator_share(total, t->o.subtask, t->v->parallelism);
        return 0;
    }
    wr_textin_options_t to = {.format = src->format, .header = src->header, .on_error = src->on_error,
                              .name = src->path};
    t->text = wr_textin_new(&t->topo->schema, &to);
    t->buf = malloc(S_READ_CHUNK * 2);
    if (!t->text || !t->buf) return WR_ENOMEM;
    t->fd = open(src->path, O_RDONLY | O_CLOEXEC);
    if (t->fd < 0) {
        wr_strbuf_addf(err, "file source: cannot open %s: %s", src->path, strerror(errno));
        return WR_EIO;
    }
    return 0;
}

/* ---- wiring ---- */

/* The output gate to the next vertex: one channel per downstream subtask. */
static int s_out_init(s_task_t *t, wr_actor_t *self)
{
    const wr_plan_vertex_t *v = t->v;
    if (v->output < 0) return 0;
    const wr_plan_vertex_t *d = &t->plan.v[v->output];
    const char **targets = calloc(d->parallelism, sizeof *targets);
    uint64_t *ids = calloc(d->parallelism, sizeof *ids);
    char (*addrs)[WR_ADDR_MAX] = calloc(d->parallelism, sizeof *addrs);
    int rc = WR_ENOMEM;
    if (!targets || !ids || !addrs) goto out;
    for (uint32_t j = 0; j < d->parallelism; j++) {
        uint32_t flat = wr_plan_index(&t->plan, (uint32_t)v->output, j);
        char path[WR_PATH_MAX];
        wr_task_path(path, t->o.job_id, (uint32_t)v->output, j);
        snprintf(addrs[j], WR_ADDR_MAX, "%s/%s", t->o.place_node[flat], path);
        targets[j] = addrs[j];
        ids[j] = wr_plan_channel(t->o.vertex, t->o.subtask, j);
        if (strcmp(t->o.place_node[flat], wr_node_id(wr_actor_node(self))))
            wr_node_link(wr_actor_node(self), t->o.place_node[flat], t->o.place_endpoint[flat]);
    }
    wr_gate_out_opts_t go = {
        .schema = &v->out_schema,
        .partition = v->edge == WR_EDGE_HASH ? WR_PART_HASH : v->edge == WR_EDGE_FORWARD ? WR_PART_FORWARD
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
static int s_in_init(s_task_t *t, wr_actor_t *self)
{
    const wr_plan_vertex_t *v = t->v;
    uint32_t n = 0;
    for (uint32_t k = 0; k < v->n_inputs; k++) {
        uint32_t u = v->inputs[k];
        n += t->plan.v[u].parallelism;
        for (uint32_t i = 0; i < t->plan.v[u].parallelism; i++) {
            uint32_t flat = wr_plan_index(&t->plan, u, i);
            if (strcmp(t->o.place_node[flat], wr_node_id(wr_actor_node(self))))
                wr_node_link(wr_actor_node(self), t->o.place_node[flat], t->o.place_endpoint[flat]);
        }
    }
    wr_gate_in_opts_t gi = {.schema = &v->in_schema,
                            .nchannels = n,
                            .window = t->o.credits,
                            .idle_timeout_ms = t->topo->event_time.idle_timeout_ms};
    t->in = wr_gate_in_new(&gi);
    return t->in ? 0 : WR_ENOMEM;
}

static int s_on_start(wr_actor_t *self, void *state)
{
    s_task_t *t = state;
    wr_strbuf_t err;
    wr_strbuf_init(&err);
    int rc = 0;
    if (t->v->source >= 0) rc = s_source_init(t, &err);
    else rc = s_in_init(t, self);
    if (!rc) rc = s_out_init(t, self);
    if (!rc) {
        rc = wr__chain_init(&t->chain, t->topo, t->v, t->out, &err);
        t->chain_ready = true;
    }
    if (!rc) rc = wr_timer_every(self, S_TICK_MS, S_TICK, NULL);
    t->start_ns = t->next_wm_ns = wr_now_ns();
    if (rc) {
        snprintf(t->error, sizeof t->error, "%s", err.len ? err.buf : wr_strerror(rc));
        wr_strbuf_release(&err);
        return s_fail(self, t, rc, "start");
    }
    wr_strbuf_release(&err);
    s_report(self, t, "running");
    return t->source ? s_queue_pump(self, t) : 0;
}

/* ---- messages ---- */

static int s_on_input(wr_actor_t *self, s_task_t *t, const wr_msg_t *m)
{
    if (!t->in) return s_fail(self, t, WR_EPROTO, "unexpected input for a source");
    wr_in_event_t ev;
    int64_t wm = 0;
    int rc = wr_gate_in_handle(t->in, self, m, &ev, &wm);
    if (rc) return s_fail(self, t, rc, "input channel");
    switch (ev) {
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
    case WR_IN_NOTHING: return 0;
    }
    return 0;
}

/* Keeps an input message for later: a window firing is paused, or earlier input waits. */
static int s_stash(s_task_t *t, wr_msg_t **msgp)
{
    if (t->stash_n == t->stash_cap) {
        size_t live = t->stash_n - t->stash_head;
        if (t->stash_head) { /* slide the waiting ones to the front before growing */
            memmove(t->stash, t->stash + t->stash_head, live * sizeof *t->stash);
            t->stash_head = 0;
            t->stash_n = live;
        }
        if (t->stash_n == t->stash_cap) {
            size_t cap = t->stash_cap ? t->stash_cap * 2 : 64;
            wr_msg_t **p = realloc(t->stash, cap * sizeof *p);
            if (!p) return WR_ENOMEM;
            t->stash = p;
            t->stash_cap = cap;
        }
    }
    t->stash[t->stash_n++] = *msgp;
    *msgp = NULL;
    return 0;
}

/* The output has room: goes on with a paused firing, then with the input that waited for it. */
static int s_go_on(wr_actor_t *self, s_task_t *t)
{
    int rc = 0;
    if (wr__chain_busy(&t->chain) && !(t->out && wr_gate_out_blocked(t->out)) &&
        (rc = wr__chain_resume(&t->chain, self)))
        return s_fail(self, t, rc, "window firing");
    while (t->stash_head < t->stash_n && !wr__chain_busy(&t->chain) && !t->reported) {
        wr_msg_t *m = t->stash[t->stash_head];
        t->stash[t->stash_head++] = NULL;
        rc = s_on_input(self, t, m);
        wr_msg_destroy(&m);
        if (rc) return rc;
    }
    if (t->stash_head == t->stash_n) t->stash_head = t->stash_n = 0;
    s_maybe_finished(self, t);
    return 0;
}

static int s_on_tick(wr_actor_t *self, s_task_t *t)
{
    int rc = 0;
    if (t->out) {
        if (!wr_gate_out_is_open(t->out)) rc = wr_gate_out_open(t->out, self);
        if (!rc) rc = wr_gate_out_retry(t->out, self);
        if (rc) return s_fail(self, t, rc, "output channel");
    }
    if ((rc = s_go_on(self, t))) return rc;
    if (t->in && !t->ended && !wr__chain_busy(&t->chain) && t->stash_head == t->stash_n) {
        int64_t wm;
        if (wr_gate_in_tick(t->in, &wm) == WR_IN_WATERMARK &&
            (rc = wr__chain_watermark(&t->chain, self, wm, wr_wall_ms())))
            return s_fail(self, t, rc, "watermark");
    }
    if (t->source && !t->ended) {
        if ((rc = s_watermark(self, t, false))) return s_fail(self, t, rc, "watermark");
        if ((rc = s_queue_pump(self, t))) return s_fail(self, t, rc, "source");
    }
    s_maybe_finished(self, t);
    if (!t->reported && ++t->ticks % S_REPORT_TICKS == 0) s_report(self, t, "running");
    return 0;
}

static int s_on_message(wr_actor_t *self, void *state, wr_msg_t **msgp)
{
    s_task_t *t = state;
    const wr_msg_t *m = *msgp;
    if (t->reported && m->type != S_TICK) return 0; /* finished or failed: drain quietly */
    switch (m->type) {
    case S_PUMP: return s_pump(self, t);
    case S_TICK: return s_on_tick(self, t);
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
    case WR_MSG_CHANNEL_END:
        if (wr__chain_busy(&t->chain) || t->stash_head < t->stash_n) return s_stash(t, msgp);
        return s_on_input(self, t, m);
    case WR_MSG_ERROR:
    case WR_MSG_TIMEOUT: return 0; /* a channel open that met no subtask yet: the tick retries */
    default:
        wr_debug("%s: ignoring %s from %s", wr_actor_addr(self), wr_msg_type_label(m->type), m->from);
        return 0;
    }
}

static const wr_behaviour_t s_behaviour = {
    .on_start = s_on_start, .on_message = s_on_message, .free_state = s_free};

int wr_task_spawn(wr_node_t *node, wr_actor_t *supervisor, wr_topology_t **topology, wr_task_opts_t *o)
{
    s_task_t *t = calloc(1, sizeof *t);
    int rc = WR_ENOMEM;
    if (!t) {
        wr_topology_destroy(topology);
        free(o->place_node);
        free(o->place_endpoint);
        return rc;
    }
    t->o = *o;
    t->fd = -1;
    t->max_ts = INT64_MIN;
    t->ts_field = -1;
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
    wr_task_path(path, t->o.job_id, t->o.vertex, t->o.subtask);
    wr_spawn_opts_t so = {.path = path,
                          .behaviour = &s_behaviour,
                          .state = t,
                          .supervisor = supervisor,
                          .mailbox_capacity = 4096,
                          .restart = WR_RESTART_NEVER};
    return wr_actor_spawn(node, &so, NULL);
}
