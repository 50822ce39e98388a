/* The execution plan of a topology: its operators grouped into vertices (chains that run in one
 * subtask actor), each with a parallelism, and the edges between them. A pure function of the
 * topology, so the JobManager and every TaskManager derive the same plan from the same topology
 * and only placements travel.
 *
 * Chaining (Flink's operator chaining): consecutive operators with the same parallelism joined by
 * a forward edge run in one subtask. A vertex boundary comes with
 *   - a key_by (hash edge into the window vertex, by key group),
 *   - a change of parallelism (rebalance edge),
 *   - several sources (each source is its own vertex; they feed the first operator vertex).
 * Sinks are chained into the last vertex when their parallelism matches it, otherwise they get a
 * vertex of their own with parallelism 1 (a single file, a single stdout stream). */
#ifndef WR_PLAN_H
#define WR_PLAN_H

#include <stdbool.h>
#include <stdint.h>

#include "actors/dataflow/job/topology.h"

#define WR_PLAN_MAX_VERTICES (WR_TOPO_MAX_SOURCES + WR_TOPO_MAX_OPS + 2)

enum wr_plan_edge { WR_EDGE_NONE, WR_EDGE_FORWARD, WR_EDGE_REBALANCE, WR_EDGE_HASH };

typedef struct {
    uint32_t parallelism;
    int source;                /* index into topology->sources, or -1 */
    uint32_t op_first, op_end; /* topology->ops[op_first, op_end) chained here */
    bool window;               /* the keyed window runs here */
    bool sinks;                /* every sink runs here */
    uint32_t n_inputs;         /* upstream vertices feeding this one */
    uint32_t inputs[WR_TOPO_MAX_SOURCES];
    int output;             /* downstream vertex, or -1 (a vertex with sinks, or the last) */
    enum wr_plan_edge edge; /* to output */
    wr_schema_t in_schema;  /* records arriving (for a source vertex: what the source makes) */
    /* records leaving (to output or to the sinks); into the window: only the fields it reads,
     * which may be fewer than the last operator makes (topology.h: input) */
    wr_schema_t out_schema;
    char name[96]; /* for `weir job`: "generator -> filter -> map" */
} wr_plan_vertex_t;

typedef struct {
    uint32_t n;
    wr_plan_vertex_t v[WR_PLAN_MAX_VERTICES];
    uint32_t slots; /* slots the job needs: with slot sharing, its largest parallelism */
} wr_plan_t;

/* Builds the plan. WR_EINVAL for a topology the planner cannot run (it says why in err). */
int wr_plan_build(const wr_topology_t *t, wr_plan_t *plan, wr_strbuf_t *err);

/* Total subtasks and the flat index of (vertex, subtask): vertices in order, subtasks within. */
uint32_t wr_plan_subtasks(const wr_plan_t *plan);
uint32_t wr_plan_index(const wr_plan_t *plan, uint32_t vertex, uint32_t subtask);

/* The id of the channel from subtask i of vertex u to subtask j of its output vertex. */
static inline uint64_t wr_plan_channel(uint32_t u, uint32_t i, uint32_t j)
{
    return ((uint64_t)u << 40) | ((uint64_t)i << 20) | j;
}

#endif
