/* The window operator of a job as its subtasks build it (job_window.h). */
#include "actors/dataflow/job/job_window.h"

#include <string.h>

static wr_agg_kind_t s_agg_kind(enum wr_topo_agg_fn fn)
{
    switch (fn) {
    case WR_TOPO_AGG_COUNT:
        return WR_AGG_COUNT;
    case WR_TOPO_AGG_SUM:
        return WR_AGG_SUM;
    case WR_TOPO_AGG_MIN:
        return WR_AGG_MIN;
    case WR_TOPO_AGG_MAX:
        return WR_AGG_MAX;
    case WR_TOPO_AGG_AVG:
        return WR_AGG_AVG;
    case WR_TOPO_AGG_STDDEV:
        return WR_AGG_STDDEV;
    case WR_TOPO_AGG_STDDEV_SAMP:
        return WR_AGG_STDDEV_SAMP;
    case WR_TOPO_AGG_FIRST:
        return WR_AGG_FIRST;
    case WR_TOPO_AGG_LAST:
        return WR_AGG_LAST;
    case WR_TOPO_AGG_QUANTILE:
        return WR_AGG_QUANTILE;
    }
    return WR_AGG_COUNT;
}

void wr_job_window_spec(const wr_topology_t *t, bool rocksdb, wr_window_spec_t *spec,
                        int col_field[WR_AGG_MAX_AGGS])
{
    *spec = (wr_window_spec_t){
        .lateness_ms = t->window.allowed_lateness_ms,
        .naggs = t->n_aggs,
        .sketch_alpha = t->window.quantile_accuracy,
    };
    switch (t->window.kind) {
    case WR_TOPO_WINDOW_SLIDING:
        spec->kind = WR_WINDOW_SLIDING;
        spec->size_ms = t->window.size_ms;
        spec->slide_ms = t->window.slide_ms;
        break;
    case WR_TOPO_WINDOW_TUMBLING:
        spec->kind = WR_WINDOW_TUMBLING;
        spec->size_ms = t->window.size_ms;
        break;
    default:
        spec->kind = WR_WINDOW_SESSION;
        spec->gap_ms = t->window.gap_ms;
        break;
    }
    for (uint32_t a = 0; a < t->n_aggs && a < WR_AGG_MAX_AGGS; a++) {
        spec->aggs[a].kind = s_agg_kind(t->aggs[a].fn);
        spec->aggs[a].q = t->aggs[a].q;
        if (t->aggs[a].fn == WR_TOPO_AGG_COUNT) continue;
        uint32_t col = 0;
        while (col < spec->ncols && col_field[col] != t->aggs[a].input)
            col++;
        if (col == spec->ncols) col_field[spec->ncols++] = t->aggs[a].input;
        spec->aggs[a].col = col;
    }
    /* pre-size the key index from what the sources say of their keys (spread over the
     * subtasks): growing a table of millions of keys while records stream in costs rehashes */
    bool known = true;
    for (uint32_t s = 0; s < t->n_sources && known; s++) {
        const wr_topo_source_t *src = &t->sources[s];
        uint64_t keys = 0;
        int64_t interval = 0;
        known = src->cls->key_hint && src->cls->key_hint(src->config, t->key_by, &keys, &interval);
        if (!known) break;
        spec->expected_keys += keys / t->window.parallelism + 1;
        if (!spec->key_interval_ms || interval < spec->key_interval_ms)
            spec->key_interval_ms = interval; /* a key is seen every interval */
    }
    if (!known) spec->key_interval_ms = 0; /* not known */
    spec->ahead_ms = t->event_time.max_out_of_orderness_ms;
    if (rocksdb) {
        spec->backend = WR_WINDOW_BACKEND_ROCKSDB;
        spec->max_parallelism = t->max_parallelism;
    }
}
