#include "actors/dataflow/job/plan.h"

#include <stdio.h>
#include <string.h>

#include "bus/base/error.h"

static wr_plan_vertex_t *s_add(wr_plan_t *p, uint32_t parallelism, const wr_schema_t *in)
{
    wr_plan_vertex_t *v = &p->v[p->n++];
    memset(v, 0, sizeof *v);
    v->parallelism = parallelism;
    v->source = -1;
    v->output = -1;
    v->in_schema = *in;
    v->out_schema = *in;
    if (parallelism > p->slots) p->slots = parallelism;
    return v;
}

static void s_connect(wr_plan_t *p, uint32_t from, uint32_t to, enum wr_plan_edge edge)
{
    p->v[from].output = (int)to;
    p->v[from].edge = edge;
    p->v[to].inputs[p->v[to].n_inputs++] = from;
}

static void s_name_add(wr_plan_vertex_t *v, const char *part)
{
    size_t len = strlen(v->name);
    snprintf(v->name + len, sizeof v->name - len, "%s%s", len ? " -> " : "", part);
}

int wr_plan_build(const wr_topology_t *t, wr_plan_t *p, wr_strbuf_t *err)
{
    memset(p, 0, sizeof *p);
    if (t->n_sources == 0 || t->n_sinks == 0) {
        wr_strbuf_adds(err, "a job needs at least one source and one sink");
        return WR_EINVAL;
    }
    /* sources, the first operator segment chained into a lone source */
    uint32_t first_src = p->n;
    for (uint32_t s = 0; s < t->n_sources; s++) {
        wr_plan_vertex_t *v = s_add(p, t->sources[s].parallelism, &t->schema);
        v->source = (int)s;
        s_name_add(v, t->sources[s].cls->type);
    }
    uint32_t op = 0;
    if (t->n_sources == 1) {
        wr_plan_vertex_t *v = &p->v[first_src];
        while (op < t->n_ops && t->ops[op].parallelism == v->parallelism) {
            s_name_add(v, t->ops[op].name);
            v->out_schema = t->ops[op].output;
            op++;
        }
        v->op_end = op;
    }
    /* the remaining operators: a vertex per run of equal parallelism */
    uint32_t tail_first = p->n, tail = first_src; /* `tail`: the vertex records leave last */
    bool tail_is_sources = true;
    while (op < t->n_ops) {
        uint32_t par = t->ops[op].parallelism;
        const wr_schema_t *in = op ? &t->ops[op - 1].output : &t->schema;
        uint32_t vi = p->n;
        wr_plan_vertex_t *v = s_add(p, par, in);
        v->op_first = op;
        while (op < t->n_ops && t->ops[op].parallelism == par) {
            s_name_add(v, t->ops[op].name);
            v->out_schema = t->ops[op].output;
            op++;
        }
        v->op_end = op;
        if (tail_is_sources) {
            for (uint32_t s = first_src; s < tail_first; s++)
                s_connect(p, s, vi, WR_EDGE_REBALANCE);
        } else {
            s_connect(p, tail, vi, WR_EDGE_REBALANCE);
        }
        tail = vi;
        tail_is_sources = false;
    }
    uint32_t sink_par = t->sinks[0].parallelism;
    for (uint32_t s = 1; s < t->n_sinks; s++)
        if (t->sinks[s].parallelism < sink_par) sink_par = t->sinks[s].parallelism;
    if (t->window.kind != WR_TOPO_WINDOW_NONE) {
        uint32_t wi = p->n;
        wr_plan_vertex_t *w = s_add(p, t->window.parallelism, &t->input);
        w->window = true;
        w->out_schema = t->result;
        s_name_add(w,
                   t->window.name[0] ? t->window.name : wr_topo_window_kind_name(t->window.kind));
        /* what crosses the key-by exchange: the fields the window reads (topology.h: input);
         * the vertices before it drop the rest as they send (task_chain.c) */
        if (tail_is_sources) {
            for (uint32_t s = first_src; s < tail_first; s++) {
                s_connect(p, s, wi, WR_EDGE_HASH);
                p->v[s].out_schema = t->input;
            }
        } else {
            s_connect(p, tail, wi, WR_EDGE_HASH);
            p->v[tail].out_schema = t->input;
        }
        tail = wi;
        tail_is_sources = false;
    }
    /* sinks: chained into the last vertex, or a vertex of their own */
    if (tail_is_sources && tail_first - first_src > 1) {
        uint32_t si = p->n;
        s_add(p, sink_par, &t->result);
        for (uint32_t s = first_src; s < tail_first; s++)
            s_connect(p, s, si, WR_EDGE_REBALANCE);
        tail = si;
    } else if (p->v[tail].parallelism != sink_par) {
        uint32_t si = p->n;
        s_add(p, 1, &p->v[tail].out_schema);
        s_connect(p, tail, si, WR_EDGE_REBALANCE);
        tail = si;
    }
    p->v[tail].sinks = true;
    s_name_add(&p->v[tail], t->n_sinks == 1 ? t->sinks[0].cls->type : "sinks");
    return 0;
}

uint32_t wr_plan_subtasks(const wr_plan_t *p)
{
    uint32_t n = 0;
    for (uint32_t v = 0; v < p->n; v++)
        n += p->v[v].parallelism;
    return n;
}

uint32_t wr_plan_index(const wr_plan_t *p, uint32_t vertex, uint32_t subtask)
{
    uint32_t n = 0;
    for (uint32_t v = 0; v < vertex; v++)
        n += p->v[v].parallelism;
    return n + subtask;
}
