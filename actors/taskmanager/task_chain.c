/* A subtask's operator chain: filters and maps over whole batches, the keyed window, and where
 * the records go next (the output gate or the sinks). No allocation per record: every buffer is
 * owned by the chain and reused from batch to batch. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "actors/dataflow/job/job_window.h"
#include "actors/dataflow/record/keygroup.h"
#include "actors/taskmanager/task_internal.h"
#include "bus/base/clock.h"
#include "bus/base/error.h"
#include "bus/base/log.h"
#include "bus/base/fs.h"

/* ---- string keys ---- */

static int s_keys_grow(wr__keys_t *k)
{
    uint64_t ncap = k->cap ? k->cap * 2 : 1024;
    char **s = realloc(k->str, ncap * sizeof *s);
    if (!s) return WR_ENOMEM;
    k->str = s;
    uint32_t *l = realloc(k->len, ncap * sizeof *l);
    if (!l) return WR_ENOMEM;
    k->len = l;
    k->cap = ncap;
    uint64_t nslots = ncap * 2;
    uint64_t *slots = calloc(nslots, sizeof *slots);
    if (!slots) return WR_ENOMEM;
    for (uint64_t id = 0; id < k->n; id++) {
        uint64_t h = wr_hash_bytes(k->str[id], k->len[id]) & (nslots - 1);
        while (slots[h])
            h = (h + 1) & (nslots - 1);
        slots[h] = id + 1;
    }
    free(k->slots);
    k->slots = slots;
    k->nslots = nslots;
    return 0;
}

/* The id of string s (interned on first sight). */
int wr__keys_id(wr__keys_t *k, const char *s, uint32_t len, uint64_t *id)
{
    if (k->n == k->cap) {
        int rc = s_keys_grow(k);
        if (rc) return rc;
    }
    uint64_t h = wr_hash_bytes(s, len) & (k->nslots - 1);
    for (; k->slots[h]; h = (h + 1) & (k->nslots - 1)) {
        uint64_t cand = k->slots[h] - 1;
        if (k->len[cand] == len && !memcmp(k->str[cand], s, len)) {
            *id = cand;
            return 0;
        }
    }
    char *copy = malloc(len + 1);
    if (!copy) return WR_ENOMEM;
    memcpy(copy, s, len);
    copy[len] = '\0';
    k->str[k->n] = copy;
    k->len[k->n] = len;
    k->slots[h] = k->n + 1;
    *id = k->n++;
    return 0;
}

static void s_keys_release(wr__keys_t *k)
{
    for (uint64_t i = 0; i < k->n; i++)
        free(k->str[i]);
    free(k->str);
    free(k->len);
    free(k->slots);
    memset(k, 0, sizeof *k);
}

/* ---- where records go ---- */

/* b as the records that leave (c->proj): the same columns, fewer of them. */
static const wr_batch_t *s_project(wr__chain_t *c, const wr_batch_t *b)
{
    wr_batch_t *v = &c->proj_view;
    v->count = b->count;
    v->cap = b->cap;
    for (uint32_t f = 0; f < c->nproj; f++) {
        int k = c->proj[f];
        v->col[f] = b->col[k];
        v->heap[f] = b->heap[k];
        v->heap_len[f] = b->heap_len[k];
        v->heap_cap[f] = b->heap_cap[k];
    }
    return v;
}

static int s_emit(wr__chain_t *c, const wr_batch_t *b)
{
    if (!b->count) return 0;
    c->records_out += b->count;
    if (c->out) return wr_gate_out_push(c->out, c->self, c->nproj ? s_project(c, b) : b, NULL, 0);
    for (uint32_t i = 0; i < c->nsinks; i++) {
        int rc = wr_sink_write(c->sinks[i], b, NULL, 0);
        if (rc) return rc;
    }
    return 0;
}

/* ---- filter and map ---- */

static int s_filter(wr__op_t *op, const wr_batch_t *in, const wr_batch_t **out)
{
    if (op->sel_cap < in->count) {
        uint32_t *s = realloc(op->sel, in->count * sizeof *s);
        if (!s) return WR_ENOMEM;
        op->sel = s;
        op->sel_cap = in->count;
    }
    uint32_t n = 0;
    int rc = wr_expr_select(op->filter, in, op->sel, &n);
    if (rc) return rc;
    if (n == in->count) { /* every record passes: the batch goes on as it is */
        *out = in;
        return 0;
    }
    wr_batch_clear(op->out);
    if ((rc = wr_batch_append_rows(op->out, in, op->sel, n))) return rc;
    *out = op->out;
    return 0;
}

static int s_map(wr__op_t *op, const wr_batch_t *in, const wr_batch_t **out)
{
    wr_batch_t *o = op->out;
    wr_batch_clear(o);
    int rc = wr_batch_reserve(o, in->count);
    if (rc) return rc;
    bool strings = false;
    for (uint32_t f = 0; f < op->n; f++) {
        if (o->schema.f[f].type == WR_T_STRING) {
            strings = true;
            continue;
        }
        int src = wr_expr_field(op->exprs[f]);
        if (src >= 0)
            memcpy(o->col[f], in->col[src], (size_t)in->count * 8);
        else if ((rc = wr_expr_eval(op->exprs[f], in, o->col[f])))
            return rc;
    }
    if (strings) { /* string outputs are passed-through fields, copied record by record */
        for (uint32_t i = 0; i < in->count; i++) {
            for (uint32_t f = 0; f < op->n; f++) {
                if (o->schema.f[f].type != WR_T_STRING) continue;
                uint32_t len;
                const char *s = wr_batch_str(in, wr_expr_field(op->exprs[f]), i, &len);
                if ((rc = wr_batch_push_str(o, (int)f, s, len))) return rc;
            }
            o->count++;
        }
    } else {
        o->count = in->count;
    }
    *out = o;
    return 0;
}

/* ---- the window ---- */

uint32_t wr__chain_key_group(void *chain, uint64_t key)
{
    const wr__chain_t *c = chain;
    const wr__keys_t *ids = &c->win->ids;
    uint64_t h = ids->strings ? wr_hash_bytes(ids->str[key], ids->len[key]) : wr_hash_u64(key);
    return wr_key_group(h, c->topo->max_parallelism);
}

static int64_t s_delay_bound(int b)
{
    return b < 40 ? (int64_t)(b + 1) * 50 : (int64_t)2000 << (b - 39);
}

static void s_delay_add(uint64_t *hist, int64_t ms, uint64_t n)
{
    int b = ms < 2000 ? (int)(ms < 0 ? 0 : ms / 50) : 40;
    while (b < WR__DELAY_BUCKETS - 1 && ms >= s_delay_bound(b))
        b++;
    hist[b] += n;
}

/* Results of the engine -> rows of the result batch -> onwards. */
static void s_on_results(void *ctx, const wr_window_results_t *r)
{
    wr__chain_t *c = ctx;
    wr__window_t *w = c->win;
    if (w->err) return;
    wr_batch_t *out = w->result;
    const wr_topology_t *t = c->topo;
    wr_batch_clear(out);
    int rc = wr_batch_reserve(out, (uint32_t)r->n);
    bool string_key = out->schema.f[0].type == WR_T_STRING;
    for (size_t i = 0; !rc && i < r->n; i++) {
        uint32_t row = out->count;
        if (string_key)
            rc = wr_batch_push_str(out, 0, w->ids.str[r->key[i]], w->ids.len[r->key[i]]);
        else
            ((int64_t *)out->col[0])[row] = (int64_t)r->key[i];
        ((int64_t *)out->col[1])[row] = r->start[i];
        ((int64_t *)out->col[2])[row] = r->end[i];
        for (uint32_t a = 0; a < t->n_aggs; a++) {
            if (t->aggs[a].fn == WR_TOPO_AGG_COUNT)
                ((int64_t *)out->col[3 + a])[row] = (int64_t)r->count[i];
            else
                ((double *)out->col[3 + a])[row] = r->val[a][i];
        }
        out->count++;
    }
    c->windows_fired += r->n;
    if (!rc) rc = s_emit(c, out);
    if (!rc && c->in_fire && c->fire_origin > 0 &&
        c->fire_wm != INT64_MAX) /* these results are out */
        s_delay_add(c->delay_hist, wr_wall_ms() - c->fire_origin, r->n);
    if (rc) w->err = rc;
}

static void s_on_late(void *ctx, const uint32_t *rows, size_t n)
{
    wr__chain_t *c = ctx;
    c->late_dropped += n;
    if (c->late_sink && !c->win->err) {
        int rc = wr_sink_write(c->late_sink, c->win->input, rows, (uint32_t)n);
        if (rc) c->win->err = rc;
    }
}

static int s_window_reserve(wr__window_t *w, uint32_t n)
{
    if (n <= w->cap) return 0;
    uint64_t *k = realloc(w->keys, n * sizeof *k);
    if (!k) return WR_ENOMEM;
    w->keys = k;
    int64_t *ts = realloc(w->ts, n * sizeof *ts);
    if (!ts) return WR_ENOMEM;
    w->ts = ts;
    for (uint32_t i = 0; i < w->ncols; i++) {
        double *d = realloc(w->cols[i], n * sizeof *d);
        if (!d) return WR_ENOMEM;
        w->cols[i] = d;
    }
    w->cap = n;
    return 0;
}

static int s_window_add(wr__chain_t *c, const wr_batch_t *b)
{
    wr__window_t *w = c->win;
    uint32_t n = b->count;
    int rc = s_window_reserve(w, n);
    if (rc) return rc;
    if (w->ids.strings) {
        for (uint32_t i = 0; i < n; i++) {
            uint32_t len;
            const char *s = wr_batch_str(b, w->key_field, i, &len);
            if ((rc = wr__keys_id(&w->ids, s, len, &w->keys[i]))) return rc;
        }
    } else {
        memcpy(w->keys, b->col[w->key_field], (size_t)n * 8); /* an int key is its own id */
    }
    memcpy(w->ts, b->col[w->ts_field], (size_t)n * 8);
    for (uint32_t k = 0; k < w->ncols; k++) {
        int f = w->col_field[k];
        if (b->schema.f[f].type == WR_T_DOUBLE) {
            memcpy(w->cols[k], b->col[f], (size_t)n * 8);
        } else {
            const int64_t *src = b->col[f];
            for (uint32_t i = 0; i < n; i++)
                w->cols[k][i] = (double)src[i];
        }
    }
    w->input = b;
    wr_window_sink_t sink = {.emit = s_on_results, .late = s_on_late, .ctx = c};
    rc = wr_window_add(w->engine, w->keys, w->ts, (const double *const *)w->cols, n, &sink);
    w->input = NULL;
    return rc ? rc : w->err;
}

static int s_window_init(wr__chain_t *c, wr_strbuf_t *err)
{
    const wr_topology_t *t = c->topo;
    wr__window_t *w = calloc(1, sizeof *w);
    if (!w) return WR_ENOMEM;
    c->win = w;
    w->key_field = t->key_index;
    w->ts_field = wr_schema_find(&t->input, t->event_time.field);
    w->ids.strings = t->input.f[w->key_field].type == WR_T_STRING;
    wr_window_spec_t spec; /* as the JobManager checked it at submit (jm_admit.c) */
    wr_job_window_spec(t, c->o->rocksdb, &spec, w->col_field);
    w->ncols = spec.ncols;
    if (c->o->rocksdb) { /* a store of its own, gone with the subtask: checkpoints keep state */
        char store[WR_TASK_STORE_MAX];
        wr_task_store_name(store, c->o->job_id, c->o->attempt, c->o->vertex, c->o->subtask);
        snprintf(w->state_dir, sizeof w->state_dir, "%s/%s", c->o->rocksdb_dir, store);
        wr_fs_rmtree(w->state_dir); /* a leftover of a crashed process */
        int mk = wr_fs_mkdirs(c->o->rocksdb_dir);
        if (mk) {
            wr_strbuf_addf(err, "state.backend.rocksdb.localdir %s: %s", c->o->rocksdb_dir,
                           wr_strerror(mk));
            return mk;
        }
        spec.state_dir = w->state_dir;
        spec.key_group = wr__chain_key_group;
        spec.key_group_ctx = c;
        spec.cache_bytes = c->o->rocksdb_cache;
    }
    w->spec = spec;
    int rc = 0;
    w->engine = wr_window_new(&spec, &rc);
    w->result = wr_batch_new(&t->result, 1024);
    if (!w->engine || !w->result) {
        wr_strbuf_addf(err, "cannot create the window: %s", wr_strerror(rc ? rc : WR_ENOMEM));
        return rc ? rc : WR_ENOMEM;
    }
    return 0;
}

static void s_window_release(wr__window_t *w)
{
    if (!w) return;
    wr_window_destroy(&w->engine);
    if (w->state_dir[0]) wr_fs_rmtree(w->state_dir);
    wr_batch_destroy(&w->result);
    free(w->keys);
    free(w->ts);
    for (uint32_t i = 0; i < w->ncols; i++)
        free(w->cols[i]);
    s_keys_release(&w->ids);
    free(w);
}

/* ---- the chain ---- */

/* Opens sink s's writer for records of schema, as subtask o->subtask of parallelism. */
static wr_sink_t *s_sink_new(const wr__chain_t *c, const wr_topo_sink_t *s,
                             const wr_schema_t *schema, uint32_t parallelism, wr_strbuf_t *err)
{
    wr_sink_open_t o = {.schema = schema,
                        .attempt = c->o->attempt,
                        .subtask = c->o->subtask,
                        .parallelism = parallelism};
    size_t start = err->len;
    wr_strbuf_addf(err, "sink %s: ", s->name);
    size_t said = err->len;
    int rc = 0;
    wr_sink_t *k = wr_sink_open(s->cls, s->config, &o, &rc, err);
    if (k)
        wr_strbuf_truncate(err, start);
    else if (err->len == said)
        wr_strbuf_adds(err, wr_strerror(rc));
    return k;
}

/* c->proj for the records leaving v: its out_schema's fields in what its operators make. */
static int s_project_init(wr__chain_t *c, const wr_topology_t *t, const wr_plan_vertex_t *v,
                          wr_strbuf_t *err)
{
    const wr_schema_t *made =
        v->op_end > v->op_first ? &t->ops[v->op_end - 1].output : &v->in_schema;
    if (wr_schema_equal(made, &v->out_schema)) return 0;
    for (uint32_t f = 0; f < v->out_schema.n; f++) {
        c->proj[f] = wr_schema_find(made, v->out_schema.f[f].name);
        if (c->proj[f] < 0 || made->f[c->proj[f]].type != v->out_schema.f[f].type) {
            wr_strbuf_addf(err, "the plan sends field '%s', which the operators do not make",
                           v->out_schema.f[f].name);
            return WR_EINVAL;
        }
    }
    c->nproj = v->out_schema.n;
    c->proj_view.schema = v->out_schema;
    return 0;
}

int wr__chain_init(wr__chain_t *c, const wr_topology_t *t, const wr_plan_vertex_t *v,
                   wr_gate_out_t *out, const wr_task_opts_t *o, wr_strbuf_t *err)
{
    memset(c, 0, sizeof *c);
    c->topo = t;
    c->v = v;
    c->out = out;
    c->o = o;
    wr_strbuf_init(&c->collected);
    for (uint32_t i = v->op_first; i < v->op_end; i++) {
        const wr_topo_op_t *top = &t->ops[i];
        const wr_schema_t *in = i ? &t->ops[i - 1].output : &t->schema;
        wr__op_t *op = &c->ops[c->nops++];
        op->out = wr_batch_new(&top->output, 1024);
        if (!op->out) return WR_ENOMEM;
        if (top->kind == WR_TOPO_OP_FILTER) {
            if (!(op->filter = wr_expr_compile(top->filter, in, err))) return WR_EINVAL;
            continue;
        }
        op->map = true;
        op->n = top->n_outputs;
        op->exprs = calloc(op->n, sizeof *op->exprs);
        if (!op->exprs) return WR_ENOMEM;
        for (uint32_t k = 0; k < op->n; k++)
            if (!(op->exprs[k] = wr_expr_compile(top->outputs[k].expr, in, err))) return WR_EINVAL;
    }
    int rc;
    if (out && v->edge == WR_EDGE_HASH && (rc = s_project_init(c, t, v, err))) return rc;
    if (v->window && (rc = s_window_init(c, err))) return rc;
    if (v->sinks) {
        for (uint32_t i = 0; i < t->n_sinks; i++, c->nsinks++)
            if (!(c->sinks[i] = s_sink_new(c, &t->sinks[i], &v->out_schema, v->parallelism, err)))
                return WR_EIO;
    }
    if (v->window && t->window.has_late_sink &&
        !(c->late_sink = s_sink_new(c, &t->window.late_sink, &t->input, v->parallelism, err)))
        return WR_EIO;
    return 0;
}

void wr__chain_release(wr__chain_t *c)
{
    for (uint32_t i = 0; i < c->nops; i++) {
        wr__op_t *op = &c->ops[i];
        wr_expr_destroy(&op->filter);
        for (uint32_t k = 0; op->exprs && k < op->n; k++)
            wr_expr_destroy(&op->exprs[k]);
        free(op->exprs);
        free(op->sel);
        wr_batch_destroy(&op->out);
    }
    s_window_release(c->win);
    for (uint32_t i = 0; i < c->nsinks; i++)
        wr_sink_destroy(&c->sinks[i]);
    wr_sink_destroy(&c->late_sink);
    wr_strbuf_release(&c->collected);
    memset(c, 0, sizeof *c);
}

int wr__chain_batch(wr__chain_t *c, wr_actor_t *self, const wr_batch_t *b)
{
    c->self = self;
    const wr_batch_t *cur = b;
    for (uint32_t i = 0; i < c->nops && cur->count; i++) {
        int rc = c->ops[i].map ? s_map(&c->ops[i], cur, &cur) : s_filter(&c->ops[i], cur, &cur);
        if (rc) return rc;
    }
    if (!cur->count) return 0;
    return c->win ? s_window_add(c, cur) : s_emit(c, cur);
}

static bool s_out_full(void *ctx)
{
    wr__chain_t *c = ctx;
    return c->out && wr_gate_out_blocked(c->out);
}

/* Ends the chain: sinks flushed, collected lines kept, the output ended. */
static int s_end(wr__chain_t *c, wr_actor_t *self)
{
    int rc = 0;
    for (uint32_t i = 0; i < c->nsinks; i++) {
        const wr_strbuf_t *got = wr_sink_collected(c->sinks[i]);
        if (got) wr_strbuf_add(&c->collected, got->buf, got->len);
        if ((rc = wr_sink_flush(c->sinks[i]))) return rc;
    }
    if (c->late_sink && (rc = wr_sink_flush(c->late_sink))) return rc;
    if (c->out) return wr_gate_out_end(c->out, self);
    return 0;
}

/* A firing that took this long (from the watermark to its last result, pauses included) is
 * logged: the subtask's input, checkpoint barriers too, waits behind it. */
#define S_FIRE_LOG_MS 500

/* After wr_window_advance or wr_window_resume returned rc: a paused firing waits; a completed one
 * counts its delay and lets the watermark (or the end) go on. */
static int s_fired(wr__chain_t *c, wr_actor_t *self, int rc)
{
    int err = c->win ? c->win->err : 0;
    c->in_fire = false;
    c->firing = rc == WR_EAGAIN;
    if (c->firing) return err;
    if (rc || (rc = err)) return rc;
    int64_t took_ms = c->win && c->windows_fired > c->fire_base
                          ? (wr_now_ns() - c->fire_ns) / 1000000
                          : 0; /* (no clock read for a watermark that fired nothing) */
    if (took_ms >= S_FIRE_LOG_MS)
        wr_info("subtask %u.%u: %llu windows fired in %lld ms (the input waited meanwhile)",
                c->o->vertex, c->o->subtask, (unsigned long long)(c->windows_fired - c->fire_base),
                (long long)took_ms);
    if (c->windows_fired > c->fire_base && c->fire_origin > 0 && c->fire_wm != INT64_MAX)
        s_delay_add(c->last_hist, wr_wall_ms() - c->fire_origin, 1);
    if (c->out && (rc = wr_gate_out_watermark(c->out, self, c->fire_wm, c->fire_origin))) return rc;
    return c->fire_end ? s_end(c, self) : 0;
}

int wr__chain_watermark(wr__chain_t *c, wr_actor_t *self, int64_t wm, int64_t origin_ms)
{
    c->self = self;
    c->fire_wm = wm;
    c->fire_origin = origin_ms;
    if (!c->win) return s_fired(c, self, 0);
    c->fire_base = c->windows_fired;
    c->fire_ns = wr_now_ns();
    c->in_fire = true;
    wr_window_sink_t sink = {.emit = s_on_results, .late = s_on_late, .full = s_out_full, .ctx = c};
    return s_fired(
        c, self,
        wr_window_advance(c->win->engine, wm > WR_WINDOW_TS_MAX ? WR_WINDOW_TS_MAX : wm, &sink));
}

bool wr__chain_busy(const wr__chain_t *c)
{
    return c->firing;
}

int wr__chain_resume(wr__chain_t *c, wr_actor_t *self)
{
    if (!c->firing) return 0;
    c->self = self;
    c->in_fire = true;
    wr_window_sink_t sink = {.emit = s_on_results, .late = s_on_late, .full = s_out_full, .ctx = c};
    return s_fired(c, self, wr_window_resume(c->win->engine, &sink));
}

int64_t wr__delay_quantile(const uint64_t hist[WR__DELAY_BUCKETS], double q)
{
    uint64_t total = 0;
    for (int b = 0; b < WR__DELAY_BUCKETS; b++)
        total += hist[b];
    if (!total) return -1;
    uint64_t rank = (uint64_t)ceil(q * (double)total), seen = 0; /* nearest rank, 1-based */
    if (rank < 1) rank = 1;
    for (int b = 0; b < WR__DELAY_BUCKETS; b++) {
        seen += hist[b];
        if (seen >= rank) return s_delay_bound(b);
    }
    return s_delay_bound(WR__DELAY_BUCKETS - 1);
}

int wr__chain_end(wr__chain_t *c, wr_actor_t *self)
{
    c->fire_end = true;
    return wr__chain_watermark(c, self, INT64_MAX, 0);
}

const char *wr__chain_failed_on(const wr__chain_t *c)
{
    const char *on = c->late_sink ? wr_sink_failed_on(c->late_sink) : NULL;
    for (uint32_t i = 0; i < c->nsinks && !on; i++)
        on = wr_sink_failed_on(c->sinks[i]);
    return on;
}
