/* Topologies: deep equality (topology.h). Sources, sinks and the scalar keys compare through
 * their tables, so a connector's parameters compare without this file knowing them. */
#include <string.h>

#include "actors/dataflow/job/topology_internal.h"

static bool s_str_eq(const char *a, const char *b)
{
    return (!a && !b) || (a && b && !strcmp(a, b));
}

static bool s_group_eq(const wr_param_group_t a[2], const wr_param_group_t b[2])
{
    return a[1].p == b[1].p && wr_params_equal(a[0].p, a[0].n, a[0].base, b[0].base) &&
           wr_params_equal(a[1].p, a[1].n, a[1].base, b[1].base);
}

static bool s_sink_eq(const wr_topo_sink_t *a, const wr_topo_sink_t *b)
{
    wr_param_group_t x[2], y[2];
    if (a->cls != b->cls) return false;
    wr__topo_sink_groups((wr_topo_sink_t *)a, x);
    wr__topo_sink_groups((wr_topo_sink_t *)b, y);
    return s_group_eq(x, y);
}

static bool s_source_eq(const wr_topo_source_t *a, const wr_topo_source_t *b)
{
    wr_param_group_t x[2], y[2];
    if (a->cls != b->cls) return false;
    wr__topo_source_groups((wr_topo_source_t *)a, x);
    wr__topo_source_groups((wr_topo_source_t *)b, y);
    return s_group_eq(x, y);
}

static bool s_op_eq(const wr_topo_op_t *a, const wr_topo_op_t *b)
{
    if (!wr_params_equal(wr__topo_op, WR__OP_N, a, b) || !s_str_eq(a->filter, b->filter) ||
        a->n_outputs != b->n_outputs || !wr_schema_equal(&a->output, &b->output))
        return false;
    for (uint32_t k = 0; k < a->n_outputs; k++)
        if (strcmp(a->outputs[k].name, b->outputs[k].name) ||
            strcmp(a->outputs[k].expr, b->outputs[k].expr))
            return false;
    return true;
}

bool wr_topology_equal(const wr_topology_t *a, const wr_topology_t *b)
{
    const wr_topo_window_t *wa = &a->window, *wb = &b->window;
    if (!wr_params_equal(wr__topo_top, WR__TOP_N, a, b) ||
        !wr_schema_equal(&a->schema, &b->schema) || a->n_sources != b->n_sources ||
        a->n_ops != b->n_ops || a->key_index != b->key_index ||
        !wr_params_equal(wr__topo_event_time, WR__ET_N, &a->event_time, &b->event_time) ||
        !wr_params_equal(wr__topo_window, WR__WIN_N, wa, wb) ||
        wa->has_late_sink != wb->has_late_sink ||
        (wa->has_late_sink && !s_sink_eq(&wa->late_sink, &wb->late_sink)) ||
        a->n_aggs != b->n_aggs || !wr_schema_equal(&a->input, &b->input) ||
        !wr_schema_equal(&a->result, &b->result) || a->n_sinks != b->n_sinks)
        return false;
    for (uint32_t i = 0; i < a->n_sources; i++)
        if (!s_source_eq(&a->sources[i], &b->sources[i])) return false;
    for (uint32_t i = 0; i < a->n_ops; i++)
        if (!s_op_eq(&a->ops[i], &b->ops[i])) return false;
    for (uint32_t i = 0; i < a->n_aggs; i++)
        if (!wr_params_equal(wr__topo_agg, WR__AGG_N, &a->aggs[i], &b->aggs[i]) ||
            a->aggs[i].input != b->aggs[i].input)
            return false;
    for (uint32_t i = 0; i < a->n_sinks; i++)
        if (!s_sink_eq(&a->sinks[i], &b->sinks[i])) return false;
    return true;
}
